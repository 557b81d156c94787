//! The readiness report, as returned in the `/health/ready` JSON body.

use serde::Serialize;

/// The outcome of one probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeStatus {
    /// The dependency answered in time.
    Up,
    /// The dependency answered with an error.
    Down,
    /// The dependency did not answer within the probe's timeout.
    Timeout,
}

/// One probe's line in the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProbeReport {
    /// The probe's name, e.g. `database`.
    pub name: String,
    /// Whether a failure of this probe makes the service not ready.
    pub critical: bool,
    /// The outcome.
    pub status: ProbeStatus,
    /// How long the probe took, in milliseconds.
    pub latency_ms: f64,
    /// What went wrong, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The whole readiness report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReadinessReport {
    /// `ok` when every critical probe is up, `degraded` when only non-critical probes
    /// fail, `unavailable` when a critical probe fails.
    pub status: &'static str,
    /// One entry per probe, in registration order.
    pub probes: Vec<ProbeReport>,
}

impl ReadinessReport {
    /// True when no critical probe failed.
    pub fn is_ready(&self) -> bool {
        self.status != "unavailable"
    }
}

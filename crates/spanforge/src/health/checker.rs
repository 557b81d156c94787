//! [`Health`]: the set of probes and the readiness check.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use futures_util::future::{BoxFuture, join_all};
use opentelemetry::KeyValue;
use opentelemetry::metrics::{Gauge, Histogram};

use super::report::{ProbeReport, ProbeStatus, ReadinessReport};

type CheckFn = dyn Fn() -> BoxFuture<'static, Result<(), String>> + Send + Sync;

#[derive(Clone)]
struct Probe {
    name: String,
    critical: bool,
    timeout: Duration,
    check: Arc<CheckFn>,
}

/// The service's health probes. Cheap to clone; share one between the routes and a
/// background checker.
#[derive(Clone, Default)]
pub struct Health {
    probes: Arc<Vec<Probe>>,
}

impl fmt::Debug for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.probes.iter().map(|p| p.name.as_str()).collect();
        f.debug_struct("Health").field("probes", &names).finish()
    }
}

struct Instruments {
    up: Gauge<u64>,
    duration: Histogram<f64>,
}

fn instruments() -> &'static Instruments {
    static INSTRUMENTS: OnceLock<Instruments> = OnceLock::new();
    INSTRUMENTS.get_or_init(|| {
        let meter = opentelemetry::global::meter("spanforge.health");
        Instruments {
            up: meter
                .u64_gauge("spanforge.health.probe.up")
                .with_description("1 when the dependency's last probe succeeded, else 0.")
                .build(),
            duration: meter
                .f64_histogram("spanforge.health.probe.duration")
                .with_unit("s")
                .with_description("Duration of health probes.")
                .with_boundaries(vec![
                    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                ])
                .build(),
        }
    })
}

impl Health {
    /// No probes yet: readiness is then the same as liveness.
    pub fn new() -> Self {
        Health::default()
    }

    /// Add a probe. `check` is called on every readiness request; it must return `Ok(())`
    /// when the dependency is usable, or `Err(reason)`. A probe that exceeds `timeout` is
    /// reported as [`ProbeStatus::Timeout`].
    pub fn probe<F, Fut, E>(
        mut self,
        name: impl Into<String>,
        critical: bool,
        timeout: Duration,
        check: F,
    ) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: fmt::Display,
    {
        let check: Arc<CheckFn> = Arc::new(move || {
            let fut = check();
            Box::pin(async move { fut.await.map_err(|e| e.to_string()) })
        });
        Arc::make_mut(&mut self.probes).push(Probe {
            name: name.into(),
            critical,
            timeout,
            check,
        });
        self
    }

    /// Run every probe concurrently and report.
    pub async fn check(&self) -> ReadinessReport {
        let runs = self.probes.iter().map(|probe| async move {
            let started = Instant::now();
            let outcome = tokio::time::timeout(probe.timeout, (probe.check)()).await;
            let elapsed = started.elapsed();
            let (status, error) = match outcome {
                Ok(Ok(())) => (ProbeStatus::Up, None),
                Ok(Err(reason)) => (ProbeStatus::Down, Some(reason)),
                Err(_) => (
                    ProbeStatus::Timeout,
                    Some(format!("no answer within {:?}", probe.timeout)),
                ),
            };
            let attrs = [
                KeyValue::new("probe", probe.name.clone()),
                KeyValue::new("critical", if probe.critical { "true" } else { "false" }),
            ];
            let instruments = instruments();
            instruments
                .up
                .record(u64::from(status == ProbeStatus::Up), &attrs);
            instruments.duration.record(elapsed.as_secs_f64(), &attrs);
            ProbeReport {
                name: probe.name.clone(),
                critical: probe.critical,
                status,
                latency_ms: elapsed.as_secs_f64() * 1000.0,
                error,
            }
        });
        let probes = join_all(runs).await;
        let critical_down = probes
            .iter()
            .any(|p| p.critical && p.status != ProbeStatus::Up);
        let any_down = probes.iter().any(|p| p.status != ProbeStatus::Up);
        ReadinessReport {
            status: if critical_down {
                "unavailable"
            } else if any_down {
                "degraded"
            } else {
                "ok"
            },
            probes,
        }
    }

    /// Run the probes every `interval` in the background, so the probe metrics stay fresh
    /// even when nothing polls `/health/ready`. Stops when the returned handle is aborted
    /// or the runtime shuts down.
    pub fn spawn_background(&self, interval: Duration) -> tokio::task::JoinHandle<()> {
        let health = self.clone();
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                health.check().await;
            }
        })
    }
}

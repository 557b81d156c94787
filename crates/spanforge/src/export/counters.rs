//! Per-exporter counters, readable through [`Telemetry::stats`](crate::Telemetry::stats) and
//! exported as the `spanforge.exporter.*` self-metrics.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::metrics::Histogram;

use super::warn::WarnLimiter;

/// Live counters of one exporter. Updated with relaxed atomics: cheap on the hot path.
#[derive(Debug)]
pub(crate) struct ExportCounters {
    pub(crate) name: String,
    pub(crate) signal: &'static str,
    accepted: AtomicU64,
    exported: AtomicU64,
    dropped: AtomicU64,
    failed: AtomicU64,
    exports: AtomicU64,
    export_nanos: AtomicU64,
    duration: OnceLock<(Histogram<f64>, [KeyValue; 2])>,
    pub(crate) drop_warning: WarnLimiter,
    pub(crate) failure_warning: WarnLimiter,
}

impl ExportCounters {
    pub(crate) fn new(name: impl Into<String>, signal: &'static str) -> Self {
        ExportCounters {
            name: name.into(),
            signal,
            accepted: AtomicU64::new(0),
            exported: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            exports: AtomicU64::new(0),
            export_nanos: AtomicU64::new(0),
            duration: OnceLock::new(),
            drop_warning: WarnLimiter::new(),
            failure_warning: WarnLimiter::new(),
        }
    }

    pub(crate) fn accepted(&self) {
        self.accepted.fetch_add(1, Ordering::Relaxed);
    }

    /// Count one dropped item; returns the new total.
    pub(crate) fn dropped(&self, n: u64) -> u64 {
        self.dropped.fetch_add(n, Ordering::Relaxed) + n
    }

    pub(crate) fn export_finished(&self, items: u64, ok: bool, took: Duration) {
        if ok {
            self.exported.fetch_add(items, Ordering::Relaxed);
        } else {
            self.failed.fetch_add(items, Ordering::Relaxed);
        }
        self.exports.fetch_add(1, Ordering::Relaxed);
        self.export_nanos
            .fetch_add(took.as_nanos() as u64, Ordering::Relaxed);
        if let Some((histogram, attrs)) = self.duration.get() {
            histogram.record(took.as_secs_f64(), attrs);
        }
    }

    /// Attach the export-duration histogram once the meter provider exists.
    pub(crate) fn set_duration_histogram(&self, histogram: Histogram<f64>) {
        let attrs = [
            KeyValue::new("exporter", self.name.clone()),
            KeyValue::new("signal", self.signal),
        ];
        let _ = self.duration.set((histogram, attrs));
    }

    pub(crate) fn snapshot(&self) -> ExporterStats {
        ExporterStats {
            name: self.name.clone(),
            signal: self.signal,
            accepted: self.accepted.load(Ordering::Relaxed),
            exported: self.exported.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            exports: self.exports.load(Ordering::Relaxed),
            export_time: Duration::from_nanos(self.export_nanos.load(Ordering::Relaxed)),
        }
    }
}

/// A snapshot of one exporter's counters.
///
/// For spans and logs, `accepted = exported + failed + dropped + (still queued)`; after a
/// completed shutdown nothing is queued, so the sum is exact.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExporterStats {
    /// The exporter's name: `otlp`, `console`, or the name given to
    /// [`Config::with_span_exporter`](crate::Config::with_span_exporter).
    pub name: String,
    /// `traces`, `metrics` or `logs`.
    pub signal: &'static str,
    /// Items handed to the exporter's queue (for metrics: always 0; metrics are not queued).
    pub accepted: u64,
    /// Items the destination acknowledged (for metrics: metric streams).
    pub exported: u64,
    /// Items dropped before an export was attempted: the queue was full, or telemetry was
    /// already shut down.
    pub dropped: u64,
    /// Items in exports that failed (after the exporter's own retries) or timed out.
    pub failed: u64,
    /// Export calls made.
    pub exports: u64,
    /// Total time spent in export calls.
    pub export_time: Duration,
}

/// Counters of every exporter, from [`Telemetry::stats`](crate::Telemetry::stats).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TelemetryStats {
    /// One entry per exporter, in the order they were configured.
    pub exporters: Vec<ExporterStats>,
}

impl TelemetryStats {
    /// The counters of the exporter with this name and signal.
    pub fn exporter(&self, name: &str, signal: &str) -> Option<&ExporterStats> {
        self.exporters
            .iter()
            .find(|e| e.name == name && e.signal == signal)
    }

    /// Items lost across all exporters: dropped plus failed.
    pub fn lost(&self) -> u64 {
        self.exporters.iter().map(|e| e.dropped + e.failed).sum()
    }
}

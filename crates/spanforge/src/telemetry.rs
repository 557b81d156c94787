//! [`Telemetry`]: the guard returned by [`init`](crate::init).

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use opentelemetry::metrics::ObservableCounter;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Subscriber;
use tracing_subscriber::Layer;
use tracing_subscriber::registry::LookupSpan;

use crate::ShutdownError;
use crate::export::{ExportCounters, ExportRuntime, TelemetryStats};

/// How long dropping a [`Telemetry`] waits for the final flush.
pub const DROP_FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// The running telemetry pipelines. Keep it alive for as long as the program runs.
///
/// Call [`Telemetry::shutdown`] before exiting to flush everything with a deadline and see
/// any error. Dropping the guard flushes too (waiting at most [`DROP_FLUSH_TIMEOUT`]); that
/// is safe anywhere — inside a multi-thread or current-thread Tokio runtime, or on a plain
/// thread — because exports run on spanforge's own runtime, never on the caller's.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let telemetry = spanforge::init(spanforge::Config::from_env()?)?;
/// // ... serve traffic ...
/// telemetry.shutdown().await?;
/// # Ok(()) }
/// ```
pub struct Telemetry {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) tracer_provider: Option<SdkTracerProvider>,
    pub(crate) meter_provider: Option<SdkMeterProvider>,
    pub(crate) logger_provider: Option<SdkLoggerProvider>,
    pub(crate) counters: Vec<Arc<ExportCounters>>,
    pub(crate) runtime: Mutex<Option<ExportRuntime>>,
    pub(crate) self_metrics: Mutex<Vec<ObservableCounter<u64>>>,
    pub(crate) shut_down: AtomicBool,
}

impl fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Telemetry")
            .field("traces", &self.inner.tracer_provider.is_some())
            .field("metrics", &self.inner.meter_provider.is_some())
            .field("logs", &self.inner.logger_provider.is_some())
            .field("shut_down", &self.inner.shut_down.load(Ordering::Relaxed))
            .finish()
    }
}

impl Telemetry {
    /// The tracer provider, for code that uses the OpenTelemetry API directly. `None` when
    /// traces are off (`OTEL_TRACES_EXPORTER=none` or `OTEL_SDK_DISABLED=true`).
    pub fn tracer_provider(&self) -> Option<&SdkTracerProvider> {
        self.inner.tracer_provider.as_ref()
    }

    /// The meter provider; `None` when metrics are off.
    pub fn meter_provider(&self) -> Option<&SdkMeterProvider> {
        self.inner.meter_provider.as_ref()
    }

    /// The logger provider; `None` when logs are off.
    pub fn logger_provider(&self) -> Option<&SdkLoggerProvider> {
        self.inner.logger_provider.as_ref()
    }

    /// The `tracing` layers that feed these pipelines (the span bridge and the log bridge),
    /// for composing your own subscriber when
    /// [`Config::with_install_subscriber(false)`](crate::Config::with_install_subscriber).
    pub fn tracing_layer<S>(&self) -> Box<dyn Layer<S> + Send + Sync>
    where
        S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync,
    {
        use opentelemetry::trace::TracerProvider as _;
        let tracer = self
            .inner
            .tracer_provider
            .as_ref()
            .map(|p| p.tracer("spanforge"));
        crate::subscriber::otel_layers(tracer, self.inner.logger_provider.as_ref())
    }

    /// Counters of every exporter: accepted, exported, dropped, failed.
    pub fn stats(&self) -> TelemetryStats {
        TelemetryStats {
            exporters: self.inner.counters.iter().map(|c| c.snapshot()).collect(),
        }
    }

    /// Export everything recorded so far without shutting down. Blocks the calling thread
    /// for at most `timeout`; from async code prefer [`Telemetry::shutdown`] at exit.
    ///
    /// # Errors
    /// [`ShutdownError::Timeout`] or [`ShutdownError::Failed`] with each pipeline's error.
    pub fn force_flush(&self, timeout: Duration) -> Result<(), ShutdownError> {
        let inner = self.inner.clone();
        run_with_deadline(timeout, move || {
            let mut errors = Vec::new();
            if let Some(p) = &inner.tracer_provider
                && let Err(e) = p.force_flush()
            {
                errors.push(format!("traces: {e}"));
            }
            if let Some(p) = &inner.logger_provider
                && let Err(e) = p.force_flush()
            {
                errors.push(format!("logs: {e}"));
            }
            if let Some(p) = &inner.meter_provider
                && let Err(e) = p.force_flush()
            {
                errors.push(format!("metrics: {e}"));
            }
            errors
        })
    }

    /// Flush and stop every pipeline, waiting at most 10 seconds.
    ///
    /// Spans, logs and metrics recorded before this call are exported (unless the
    /// destination is unreachable, in which case they are counted as failed — see
    /// [`Telemetry::stats`], which stays readable afterwards). A second call returns
    /// [`ShutdownError::AlreadyShutdown`] and does nothing.
    ///
    /// # Errors
    /// See [`ShutdownError`].
    pub async fn shutdown(&self) -> Result<(), ShutdownError> {
        self.shutdown_with_timeout(Duration::from_secs(10)).await
    }

    /// [`Telemetry::shutdown`] with a deadline of your choice.
    ///
    /// # Errors
    /// See [`ShutdownError`].
    pub async fn shutdown_with_timeout(&self, timeout: Duration) -> Result<(), ShutdownError> {
        let inner = self.inner.clone();
        // The work blocks; run it on its own thread and wait without blocking the executor.
        let (tx, rx) = tokio::sync::oneshot::channel();
        let spawned = std::thread::Builder::new()
            .name("spanforge-shutdown".into())
            .spawn(move || {
                let _ = tx.send(inner.shutdown_blocking(timeout));
            });
        if spawned.is_err() {
            return self.inner.shutdown_blocking(timeout);
        }
        rx.await.unwrap_or_else(|_| {
            Err(ShutdownError::Failed(vec![
                "the shutdown thread stopped without answering".into(),
            ]))
        })
    }
}

impl Inner {
    pub(crate) fn shutdown_blocking(
        self: &Arc<Self>,
        timeout: Duration,
    ) -> Result<(), ShutdownError> {
        if self.shut_down.swap(true, Ordering::SeqCst) {
            return Err(ShutdownError::AlreadyShutdown);
        }
        let inner = self.clone();
        let started = Instant::now();
        let result = run_with_deadline(timeout, move || {
            let started = Instant::now();
            let left = || timeout.saturating_sub(started.elapsed());
            let mut errors = Vec::new();
            // Spans and logs first, metrics last, so the self-metrics see the final counts.
            if let Some(p) = &inner.tracer_provider
                && let Err(e) = p.shutdown_with_timeout(left())
            {
                errors.push(format!("traces: {e}"));
            }
            if let Some(p) = &inner.logger_provider
                && let Err(e) = p.shutdown_with_timeout(left())
            {
                errors.push(format!("logs: {e}"));
            }
            if let Some(p) = &inner.meter_provider
                && let Err(e) = p.shutdown_with_timeout(left())
            {
                errors.push(format!("metrics: {e}"));
            }
            errors
        });
        // A pipeline that gave up because the deadline passed is a timeout, not a failure.
        let result = match result {
            Err(ShutdownError::Failed(_)) if started.elapsed() >= timeout => {
                Err(ShutdownError::Timeout(timeout))
            }
            other => other,
        };
        if let Ok(mut handles) = self.self_metrics.lock() {
            handles.clear();
        }
        if let Ok(mut runtime) = self.runtime.lock() {
            // Dropping the runtime never blocks (shutdown_background).
            runtime.take();
        }
        result
    }
}

/// Run `work` on a helper thread and wait for it at most `timeout`. A late worker is left
/// to finish on its own; its result is discarded.
fn run_with_deadline(
    timeout: Duration,
    work: impl FnOnce() -> Vec<String> + Send + 'static,
) -> Result<(), ShutdownError> {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let spawned = std::thread::Builder::new()
        .name("spanforge-flush".into())
        .spawn(move || {
            let _ = tx.send(work());
        });
    if spawned.is_err() {
        return Err(ShutdownError::Failed(vec![
            "could not start the flush thread".into(),
        ]));
    }
    match rx.recv_timeout(timeout + Duration::from_millis(250)) {
        Ok(errors) if errors.is_empty() => Ok(()),
        Ok(errors) => Err(ShutdownError::Failed(errors)),
        Err(_) => Err(ShutdownError::Timeout(timeout)),
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if !self.inner.shut_down.load(Ordering::SeqCst) {
            let _ = self.inner.shutdown_blocking(DROP_FLUSH_TIMEOUT);
        }
    }
}

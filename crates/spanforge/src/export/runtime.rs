//! spanforge's own Tokio runtime, on which every exporter runs.
//!
//! The OpenTelemetry SDK drives exports from plain threads with `block_on`; an async HTTP
//! or gRPC client panics there ("there is no reactor running") or hangs once the
//! application's runtime is gone. Owning a small runtime removes both traps: exporters are
//! built and polled inside it, whatever the application does.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use tokio::runtime::{Handle, Runtime};

use super::ExportCounters;

/// A one-worker multi-thread runtime. Multi-thread, so that futures polled on other threads
/// (the SDK's metric reader) still have their I/O and timers driven.
#[derive(Debug)]
pub(crate) struct ExportRuntime {
    runtime: Option<Runtime>,
}

impl ExportRuntime {
    pub(crate) fn start() -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .max_blocking_threads(2)
            .thread_name("spanforge-export")
            .enable_all()
            .build()?;
        Ok(ExportRuntime {
            runtime: Some(runtime),
        })
    }

    pub(crate) fn handle(&self) -> Handle {
        match &self.runtime {
            Some(rt) => rt.handle().clone(),
            // Unreachable: the runtime is only taken in Drop.
            None => Handle::current(),
        }
    }
}

impl Drop for ExportRuntime {
    fn drop(&mut self) {
        // `shutdown_background` never blocks, so this is safe inside an async context too.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// Polls a future with the export runtime entered, so Tokio-based clients find their reactor.
pub(crate) struct InRuntime<F> {
    handle: Handle,
    future: Pin<Box<F>>,
}

impl<F: Future> InRuntime<F> {
    pub(crate) fn new(handle: Handle, future: F) -> Self {
        InRuntime {
            handle,
            future: Box::pin(future),
        }
    }
}

impl<F: Future> Future for InRuntime<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let _entered = self.handle.enter();
        self.future.as_mut().poll(cx)
    }
}

/// Runs a metric exporter inside the export runtime and counts its results.
#[derive(Debug)]
pub(crate) struct OnRuntimeMetricExporter<E> {
    inner: E,
    handle: Handle,
    counters: Arc<ExportCounters>,
    timeout: Duration,
}

impl<E> OnRuntimeMetricExporter<E> {
    pub(crate) fn new(
        inner: E,
        handle: Handle,
        counters: Arc<ExportCounters>,
        timeout: Duration,
    ) -> Self {
        OnRuntimeMetricExporter {
            inner,
            handle,
            counters,
            timeout,
        }
    }
}

impl<E: PushMetricExporter> PushMetricExporter for OnRuntimeMetricExporter<E> {
    fn export(&self, metrics: &ResourceMetrics) -> impl Future<Output = OTelSdkResult> + Send {
        let streams: u64 = metrics
            .scope_metrics()
            .map(|scope| scope.metrics().count() as u64)
            .sum();
        let handle = self.handle.clone();
        let counters = self.counters.clone();
        let timeout = self.timeout;
        let export = self.inner.export(metrics);
        async move {
            let started = Instant::now();
            let guarded = InRuntime::new(handle.clone(), async move {
                tokio::time::timeout(timeout, export).await
            });
            let result = match guarded.await {
                Ok(result) => result,
                Err(_) => Err(opentelemetry_sdk::error::OTelSdkError::Timeout(timeout)),
            };
            counters.export_finished(streams, result.is_ok(), started.elapsed());
            if let Err(error) = &result
                && counters.failure_warning.allow()
            {
                tracing::warn!(
                    name: "spanforge.export.failed",
                    target: "spanforge::export",
                    exporter = %counters.name,
                    signal = "metrics",
                    %error,
                    "metric export failed; further failures are counted and reported at most once a minute"
                );
            }
            result
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn temporality(&self) -> Temporality {
        self.inner.temporality()
    }
}

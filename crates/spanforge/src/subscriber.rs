//! The `tracing` side: console output, the span bridge and the log bridge.

use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::trace::Tracer;
use tracing::Subscriber;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::layer::Identity;
use tracing_subscriber::registry::LookupSpan;

use crate::config::LogFormat;

/// Targets whose events must not become OTLP log records: the export machinery itself
/// (exporting a log about a failing export would feed the failure) and the HTTP/gRPC stacks
/// the exporters use.
fn is_internal(target: &str) -> bool {
    const INTERNAL: [&str; 8] = [
        "spanforge::export",
        "opentelemetry",
        "h2",
        "hyper",
        "tonic",
        "tower",
        "reqwest",
        "rustls",
    ];
    INTERNAL.iter().any(|prefix| target.starts_with(prefix))
}

/// The console layer for `format` (a no-op layer for [`LogFormat::None`]).
pub(crate) fn console_layer<S>(format: LogFormat) -> Box<dyn Layer<S> + Send + Sync>
where
    S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync,
{
    let base = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    match format {
        LogFormat::Full => base.boxed(),
        LogFormat::Compact => base.compact().boxed(),
        LogFormat::Json => base
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .boxed(),
        LogFormat::None => Identity::new().boxed(),
    }
}

/// The span bridge (`tracing` spans become OpenTelemetry spans) and the log bridge
/// (`tracing` events become log records carrying the active trace and span ids).
pub(crate) fn otel_layers<S>(
    tracer: Option<Tracer>,
    logger_provider: Option<&SdkLoggerProvider>,
) -> Box<dyn Layer<S> + Send + Sync>
where
    S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync,
{
    let spans = tracer.map(|tracer| {
        tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_error_records_to_exceptions(true)
    });
    let logs = logger_provider.map(|provider| {
        OpenTelemetryTracingBridge::new(provider)
            .with_filter(filter_fn(|meta| !is_internal(meta.target())))
    });
    // Not `Option` layers: a `None` layer reports a level hint of OFF, which (combined with a
    // per-layer filter) turns every span off when no global filter sits below it.
    match (spans, logs) {
        (Some(spans), Some(logs)) => spans.and_then(logs).boxed(),
        (Some(spans), None) => spans.boxed(),
        (None, Some(logs)) => logs.boxed(),
        (None, None) => Identity::new().boxed(),
    }
}

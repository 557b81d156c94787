//! [`init`]: build every pipeline from a [`Config`] and install the globals.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use opentelemetry::global;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::logs::{LogExporter, SdkLoggerProvider};
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Registry};

use crate::config::{ExporterKind, Signal};
use crate::export::{
    self, ConsoleLogExporter, ConsoleSpanExporter, ExportCounters, ExportRuntime, LogQueue,
    NamedSpanExporter, OnRuntimeMetricExporter, SpanQueue,
};
use crate::telemetry::Inner;
use crate::{Config, InitError, Telemetry};

/// Build the trace, metric and log pipelines described by `config`, install them as the
/// OpenTelemetry globals, set the W3C propagators, and install a `tracing` subscriber that
/// prints to the console and feeds spans and events into the pipelines.
///
/// Works with or without a Tokio runtime: exports run on spanforge's own small runtime. No
/// network connection is made here; an unreachable collector shows up later as counted,
/// rate-limited export failures, never as a failed start or a slower application.
///
/// ```no_run
/// fn main() -> Result<(), Box<dyn std::error::Error>> {
///     let telemetry = spanforge::init(spanforge::Config::from_env()?.with_service_name("prompt-api"))?;
///     tracing::info!("started");
///     drop(telemetry); // flushes
///     Ok(())
/// }
/// ```
///
/// # Errors
/// A setting given in code that cannot be used ([`InitError::InvalidEndpoint`], …), an
/// exporter the SDK refuses to build, or [`InitError::SubscriberAlreadySet`].
pub fn init(config: Config) -> Result<Telemetry, InitError> {
    let filter = EnvFilter::try_new(&config.log_filter).map_err(|e| {
        InitError::invalid("Config::with_log_filter", &config.log_filter, e.to_string())
    })?;
    let install_subscriber = config.install_subscriber;
    let log_format = config.log_format;
    let propagators = config.propagators.clone();
    // A malformed pricing file is a configuration error: refuse to start rather than
    // record wrong (or no) costs.
    let pricing = match &config.pricing_file {
        Some(path) => Some(
            crate::cost::Pricing::builtin()
                .with_overrides_from_file(path)
                .map_err(InitError::Pricing)?,
        ),
        None => None,
    };
    let telemetry = build(config)?;
    if let Some(pricing) = pricing {
        crate::llm::set_pricing(pricing);
    }

    if install_subscriber {
        let console = crate::subscriber::console_layer::<
            tracing_subscriber::layer::Layered<EnvFilter, Registry>,
        >(log_format);
        let otel = telemetry.tracing_layer();
        tracing_subscriber::registry()
            .with(filter)
            .with(console)
            .with(otel)
            .try_init()
            .map_err(|_| InitError::SubscriberAlreadySet)?;
    }
    crate::propagation::install(&propagators);
    if let Some(p) = telemetry.tracer_provider() {
        global::set_tracer_provider(p.clone());
    }
    if let Some(p) = telemetry.meter_provider() {
        global::set_meter_provider(p.clone());
    }
    Ok(telemetry)
}

/// Build the pipelines without touching any global state.
fn build(mut config: Config) -> Result<Telemetry, InitError> {
    config.sampler.validate()?;
    if config.sdk_disabled {
        return Ok(Telemetry {
            inner: Arc::new(Inner {
                tracer_provider: None,
                meter_provider: None,
                logger_provider: None,
                counters: Vec::new(),
                runtime: Mutex::new(None),
                self_metrics: Mutex::new(Vec::new()),
                shut_down: AtomicBool::new(false),
            }),
        });
    }

    // Resolve everything that can fail before starting any thread.
    let traces = resolve(&config, Signal::Traces)?;
    let metrics = resolve(&config, Signal::Metrics)?;
    let logs = resolve(&config, Signal::Logs)?;

    let resource = crate::resource::build(&config);
    let runtime = ExportRuntime::start().map_err(InitError::Runtime)?;
    let handle = runtime.handle();
    let mut counters: Vec<Arc<ExportCounters>> = Vec::new();

    let mut span_exporters: Vec<NamedSpanExporter> = Vec::new();
    match (config.traces.exporter, &traces) {
        (ExporterKind::Otlp, Some(settings)) => span_exporters.push(NamedSpanExporter::new(
            "otlp".into(),
            export::build_span_exporter(settings, &handle)?,
        )),
        (ExporterKind::Console, _) => span_exporters.push(NamedSpanExporter::new(
            "console".into(),
            ConsoleSpanExporter,
        )),
        _ => {}
    }
    span_exporters.extend(std::mem::take(&mut config.extra_span_exporters));
    let tracer_provider = if span_exporters.is_empty() {
        None
    } else {
        let mut builder = SdkTracerProvider::builder()
            .with_sampler(config.sampler.to_sdk())
            .with_resource(resource.clone());
        for mut named in span_exporters {
            named.exporter.set_resource_boxed(&resource);
            let c = Arc::new(ExportCounters::new(named.name, "traces"));
            counters.push(c.clone());
            builder = builder.with_span_processor(SpanQueue::start(
                named.exporter,
                config.span_batch,
                c,
                &handle,
            ));
        }
        Some(builder.build())
    };

    let logger_provider = match (config.logs.exporter, &logs) {
        (ExporterKind::Otlp, Some(settings)) => Some(log_provider(
            export::build_log_exporter(settings, &handle)?,
            "otlp",
            &config,
            &resource,
            &handle,
            &mut counters,
        )),
        (ExporterKind::Console, _) => Some(log_provider(
            ConsoleLogExporter,
            "console",
            &config,
            &resource,
            &handle,
            &mut counters,
        )),
        _ => None,
    };

    let meter_provider = match (config.metrics.exporter, &metrics) {
        (ExporterKind::Otlp, Some(settings)) => {
            let c = Arc::new(ExportCounters::new("otlp", "metrics"));
            counters.push(c.clone());
            let exporter = OnRuntimeMetricExporter::new(
                export::build_metric_exporter(settings, &handle)?,
                handle.clone(),
                c,
                config.metric_timeout,
            );
            let reader = PeriodicReader::builder(exporter)
                .with_interval(config.metric_interval)
                .build();
            Some(
                SdkMeterProvider::builder()
                    .with_resource(resource.clone())
                    .with_reader(reader)
                    .build(),
            )
        }
        _ => None,
    };

    let self_metrics = meter_provider
        .as_ref()
        .map(|p| {
            use opentelemetry::metrics::MeterProvider as _;
            crate::self_metrics::register(&p.meter("spanforge"), &counters)
        })
        .unwrap_or_default();

    // Touch the tracer once so its scope is created up front rather than on a request.
    if let Some(p) = &tracer_provider {
        let _ = p.tracer("spanforge");
    }

    Ok(Telemetry {
        inner: Arc::new(Inner {
            tracer_provider,
            meter_provider,
            logger_provider,
            counters,
            runtime: Mutex::new(Some(runtime)),
            self_metrics: Mutex::new(self_metrics),
            shut_down: AtomicBool::new(false),
        }),
    })
}

fn resolve(
    config: &Config,
    signal: Signal,
) -> Result<Option<crate::config::ResolvedOtlp>, InitError> {
    let settings = match signal {
        Signal::Traces => &config.traces,
        Signal::Metrics => &config.metrics,
        Signal::Logs => &config.logs,
    };
    if settings.exporter != ExporterKind::Otlp {
        return Ok(None);
    }
    settings.resolve(&config.otlp, signal).map(Some)
}

fn log_provider<E: LogExporter + 'static>(
    mut exporter: E,
    name: &str,
    config: &Config,
    resource: &opentelemetry_sdk::Resource,
    handle: &tokio::runtime::Handle,
    counters: &mut Vec<Arc<ExportCounters>>,
) -> SdkLoggerProvider {
    exporter.set_resource(resource);
    let c = Arc::new(ExportCounters::new(name, "logs"));
    counters.push(c.clone());
    SdkLoggerProvider::builder()
        .with_resource(resource.clone())
        .with_log_processor(LogQueue::start(exporter, config.log_batch, c, handle))
        .build()
}

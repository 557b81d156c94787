//! Configuration: the standard `OTEL_*` environment variables, overridable in code.
//!
//! Precedence, highest first:
//! 1. a `with_*` builder method;
//! 2. the signal-specific variable (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`);
//! 3. the generic variable (`OTEL_EXPORTER_OTLP_ENDPOINT`);
//! 4. the default.
//!
//! Builder methods never fail: a bad value given in code is reported by [`init`](crate::init),
//! naming the method. Values read by [`Config::from_env`] are checked there and then.

mod env;
mod otlp;
mod resource_attrs;
mod sampler;

use std::fmt;
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry_sdk::trace::SpanExporter;

pub use otlp::{ExporterKind, Protocol};
pub use sampler::Sampler;

pub(crate) use env::EnvSource;
pub(crate) use otlp::{OtlpSettings, ResolvedOtlp, Signal, SignalSettings, Sourced};

use crate::InitError;
use crate::export::NamedSpanExporter;

/// How `tracing` events are printed on the console (`SPANFORGE_LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// `full`: one human-readable line per event with its span context (the default).
    #[default]
    Full,
    /// `compact`: shorter human-readable lines.
    Compact,
    /// `json`: one JSON object per line, with the current span's fields.
    Json,
    /// `none`: print nothing; events still go to the logs pipeline.
    None,
}

impl LogFormat {
    fn parse(raw: &str) -> Result<LogFormat, InitError> {
        match raw {
            "full" => Ok(LogFormat::Full),
            "compact" => Ok(LogFormat::Compact),
            "json" => Ok(LogFormat::Json),
            "none" => Ok(LogFormat::None),
            _ => Err(InitError::invalid(
                "SPANFORGE_LOG_FORMAT",
                raw,
                "expected full, compact, json or none",
            )),
        }
    }
}

/// Context propagation formats (`OTEL_PROPAGATORS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagator {
    /// `tracecontext`: W3C `traceparent` and `tracestate`.
    TraceContext,
    /// `baggage`: W3C `baggage`.
    Baggage,
}

/// Queue and batch sizes of one signal's export queue (`OTEL_BSP_*` for spans,
/// `OTEL_BLRP_*` for logs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchSettings {
    /// Items waiting beyond this are dropped (and counted). Default 2048.
    pub max_queue_size: usize,
    /// Largest batch sent in one request. Default 512.
    pub max_export_batch_size: usize,
    /// Longest wait before a partial batch is sent. Default 5 s for spans, 1 s for logs.
    pub scheduled_delay: Duration,
    /// Longest time one export may take before it is abandoned. Default 30 s.
    pub export_timeout: Duration,
}

impl BatchSettings {
    const SPANS: BatchSettings = BatchSettings {
        max_queue_size: 2048,
        max_export_batch_size: 512,
        scheduled_delay: Duration::from_millis(5000),
        export_timeout: Duration::from_millis(30_000),
    };
    const LOGS: BatchSettings = BatchSettings {
        max_queue_size: 2048,
        max_export_batch_size: 512,
        scheduled_delay: Duration::from_millis(1000),
        export_timeout: Duration::from_millis(30_000),
    };

    fn from_env(env: &EnvSource, prefix: &str, defaults: BatchSettings) -> Result<Self, InitError> {
        let mut s = defaults;
        if let Some(n) = env.count(&format!("{prefix}_MAX_QUEUE_SIZE"))? {
            s.max_queue_size = n;
        }
        if let Some(n) = env.count(&format!("{prefix}_MAX_EXPORT_BATCH_SIZE"))? {
            s.max_export_batch_size = n;
        }
        if let Some(d) = env.millis(&format!("{prefix}_SCHEDULE_DELAY"))? {
            s.scheduled_delay = d;
        }
        if let Some(d) = env.millis(&format!("{prefix}_EXPORT_TIMEOUT"))? {
            s.export_timeout = d;
        }
        Ok(s)
    }
}

/// Everything [`init`](crate::init) needs. Start from [`Config::from_env`] (or
/// [`Config::default`] to ignore the environment) and adjust with the `with_*` methods.
///
/// ```
/// use spanforge::{Config, Sampler};
///
/// let config = Config::default()
///     .with_service_name("prompt-api")
///     .with_service_version("1.4.2")
///     .with_otlp_endpoint("http://collector:4317")
///     .with_otlp_protocol(spanforge::Protocol::Grpc)
///     .with_sampler(Sampler::ParentBasedTraceIdRatio(0.25));
/// # drop(config);
/// ```
pub struct Config {
    pub(crate) service_name: Option<String>,
    pub(crate) service_version: Option<String>,
    pub(crate) deployment_environment: Option<String>,
    pub(crate) resource_attributes: Vec<KeyValue>,
    pub(crate) sdk_disabled: bool,
    pub(crate) otlp: OtlpSettings,
    pub(crate) traces: SignalSettings,
    pub(crate) metrics: SignalSettings,
    pub(crate) logs: SignalSettings,
    pub(crate) sampler: Sampler,
    pub(crate) propagators: Vec<Propagator>,
    pub(crate) span_batch: BatchSettings,
    pub(crate) log_batch: BatchSettings,
    pub(crate) metric_interval: Duration,
    pub(crate) metric_timeout: Duration,
    pub(crate) log_filter: String,
    pub(crate) log_format: LogFormat,
    pub(crate) install_subscriber: bool,
    pub(crate) extra_span_exporters: Vec<NamedSpanExporter>,
    pub(crate) pricing_file: Option<std::path::PathBuf>,
}

impl Default for Config {
    /// The specification's defaults, ignoring the environment: OTLP over HTTP/protobuf to
    /// `localhost:4318`, parent-based always-on sampling, W3C trace context and baggage.
    fn default() -> Self {
        Config {
            service_name: None,
            service_version: None,
            deployment_environment: None,
            resource_attributes: Vec::new(),
            sdk_disabled: false,
            otlp: OtlpSettings::default(),
            traces: SignalSettings::default(),
            metrics: SignalSettings::default(),
            logs: SignalSettings::default(),
            sampler: Sampler::default(),
            propagators: vec![Propagator::TraceContext, Propagator::Baggage],
            span_batch: BatchSettings::SPANS,
            log_batch: BatchSettings::LOGS,
            metric_interval: Duration::from_secs(60),
            metric_timeout: Duration::from_secs(30),
            log_filter: "info".to_owned(),
            log_format: LogFormat::default(),
            install_subscriber: true,
            extra_span_exporters: Vec::new(),
            pricing_file: None,
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let extra: Vec<&str> = self
            .extra_span_exporters
            .iter()
            .map(|e| e.name.as_str())
            .collect();
        f.debug_struct("Config")
            .field("service_name", &self.service_name)
            .field("service_version", &self.service_version)
            .field("deployment_environment", &self.deployment_environment)
            .field("resource_attributes", &self.resource_attributes)
            .field("sdk_disabled", &self.sdk_disabled)
            .field("traces_exporter", &self.traces.exporter)
            .field("metrics_exporter", &self.metrics.exporter)
            .field("logs_exporter", &self.logs.exporter)
            .field("sampler", &self.sampler)
            .field("propagators", &self.propagators)
            .field("span_batch", &self.span_batch)
            .field("log_batch", &self.log_batch)
            .field("metric_interval", &self.metric_interval)
            .field("log_filter", &self.log_filter)
            .field("log_format", &self.log_format)
            .field("extra_span_exporters", &extra)
            .field("pricing_file", &self.pricing_file)
            .finish_non_exhaustive() // endpoints and headers may carry credentials
    }
}

impl Config {
    /// Read the configuration from the process environment.
    ///
    /// See `docs/configuration.md` for every variable and its default.
    ///
    /// # Errors
    /// A variable with a value that cannot be used, naming the variable and the value
    /// (header values are never repeated).
    pub fn from_env() -> Result<Config, InitError> {
        Config::read(&EnvSource::Process)
    }

    /// Read the configuration from the given variables instead of the process environment;
    /// useful when settings come from a file or a secret store, and in tests.
    ///
    /// ```
    /// let config = spanforge::Config::from_vars([("OTEL_TRACES_SAMPLER", "always_off")]).unwrap();
    /// # drop(config);
    /// let err = spanforge::Config::from_vars([("OTEL_TRACES_SAMPLER", "sometimes")]).unwrap_err();
    /// assert!(err.to_string().contains("OTEL_TRACES_SAMPLER"));
    /// ```
    ///
    /// # Errors
    /// As [`Config::from_env`].
    pub fn from_vars<K, V>(vars: impl IntoIterator<Item = (K, V)>) -> Result<Config, InitError>
    where
        K: Into<String>,
        V: Into<String>,
    {
        let map = vars
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        Config::read(&EnvSource::Map(map))
    }

    fn read(env: &EnvSource) -> Result<Config, InitError> {
        let mut c = Config {
            sdk_disabled: env.bool("OTEL_SDK_DISABLED")?.unwrap_or(false),
            service_name: env.get("OTEL_SERVICE_NAME"),
            ..Config::default()
        };
        if let Some(raw) = env.get("OTEL_RESOURCE_ATTRIBUTES") {
            c.resource_attributes = resource_attrs::parse("OTEL_RESOURCE_ATTRIBUTES", &raw)?;
        }
        c.otlp = OtlpSettings::from_env(env)?;
        c.traces = SignalSettings::from_env(env, Signal::Traces)?;
        c.metrics = SignalSettings::from_env(env, Signal::Metrics)?;
        c.logs = SignalSettings::from_env(env, Signal::Logs)?;
        if let Some(s) = Sampler::from_env(env)? {
            c.sampler = s;
        }
        if let Some(raw) = env.get("OTEL_PROPAGATORS") {
            c.propagators = parse_propagators(&raw)?;
        }
        c.span_batch = BatchSettings::from_env(env, "OTEL_BSP", BatchSettings::SPANS)?;
        c.log_batch = BatchSettings::from_env(env, "OTEL_BLRP", BatchSettings::LOGS)?;
        if let Some(d) = env.millis("OTEL_METRIC_EXPORT_INTERVAL")? {
            if d.is_zero() {
                return Err(InitError::invalid(
                    "OTEL_METRIC_EXPORT_INTERVAL",
                    "0",
                    "the interval must be greater than zero",
                ));
            }
            c.metric_interval = d;
        }
        if let Some(d) = env.millis("OTEL_METRIC_EXPORT_TIMEOUT")? {
            c.metric_timeout = d;
        }
        if let Some(filter) = env.get("RUST_LOG") {
            tracing_subscriber::EnvFilter::try_new(&filter)
                .map_err(|e| InitError::invalid("RUST_LOG", &filter, e.to_string()))?;
            c.log_filter = filter;
        }
        if let Some(raw) = env.get("SPANFORGE_LOG_FORMAT") {
            c.log_format = LogFormat::parse(&raw)?;
        }
        c.pricing_file = env.get(crate::cost::Pricing::ENV_VAR).map(Into::into);
        Ok(c)
    }

    /// The logical name of the service (`service.name`; `OTEL_SERVICE_NAME`). When unset, the
    /// `service.name` of `OTEL_RESOURCE_ATTRIBUTES` is used, then `unknown_service:<executable>`.
    pub fn with_service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = Some(name.into());
        self
    }

    /// The version of the service (`service.version`), e.g. `env!("CARGO_PKG_VERSION")`.
    pub fn with_service_version(mut self, version: impl Into<String>) -> Self {
        self.service_version = Some(version.into());
        self
    }

    /// The deployment environment (`deployment.environment.name`), e.g. `production`.
    pub fn with_deployment_environment(mut self, environment: impl Into<String>) -> Self {
        self.deployment_environment = Some(environment.into());
        self
    }

    /// Add one resource attribute; it overrides the same key from `OTEL_RESOURCE_ATTRIBUTES`.
    pub fn with_resource_attribute(
        mut self,
        key: impl Into<opentelemetry::Key>,
        value: impl Into<opentelemetry::Value>,
    ) -> Self {
        let kv = KeyValue::new(key, value);
        self.resource_attributes
            .retain(|existing| existing.key != kv.key);
        self.resource_attributes.push(kv);
        self
    }

    /// Turn the whole SDK off (`OTEL_SDK_DISABLED`): [`init`](crate::init) then installs only
    /// the console log output, and every span and metric is a no-op.
    pub fn with_sdk_disabled(mut self, disabled: bool) -> Self {
        self.sdk_disabled = disabled;
        self
    }

    /// The base OTLP endpoint for every signal (`OTEL_EXPORTER_OTLP_ENDPOINT`); over HTTP the
    /// signal path (`/v1/traces`, …) is appended. Overrides every endpoint variable.
    pub fn with_otlp_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.otlp.endpoint = Some(Sourced::new(endpoint.into(), "Config::with_otlp_endpoint"));
        for signal in [&mut self.traces, &mut self.metrics, &mut self.logs] {
            signal.endpoint = None;
        }
        self
    }

    /// The OTLP protocol for every signal (`OTEL_EXPORTER_OTLP_PROTOCOL`); default
    /// `http/protobuf`. Overrides every protocol variable.
    pub fn with_otlp_protocol(mut self, protocol: Protocol) -> Self {
        self.otlp.protocol = Some(Sourced::new(protocol, "Config::with_otlp_protocol"));
        for signal in [&mut self.traces, &mut self.metrics, &mut self.logs] {
            signal.protocol = None;
        }
        self
    }

    /// Add a header sent with every OTLP request (`OTEL_EXPORTER_OTLP_HEADERS`), e.g. an
    /// authorization token. Values never appear in `Debug` output or errors.
    pub fn with_otlp_header(mut self, name: impl AsRef<str>, value: impl AsRef<str>) -> Self {
        // Stored in the same percent-encoded form as the variable, so one parser checks both.
        let encoded = percent_encoding::utf8_percent_encode(
            value.as_ref(),
            percent_encoding::NON_ALPHANUMERIC,
        );
        self.otlp.headers.push(Sourced::new(
            format!("{}={encoded}", name.as_ref()),
            "Config::with_otlp_header",
        ));
        self
    }

    /// The timeout of one OTLP request (`OTEL_EXPORTER_OTLP_TIMEOUT`); default 10 s.
    pub fn with_otlp_timeout(mut self, timeout: Duration) -> Self {
        self.otlp.timeout = Some(timeout);
        for signal in [&mut self.traces, &mut self.metrics, &mut self.logs] {
            signal.timeout = None;
        }
        self
    }

    /// Gzip OTLP requests (`OTEL_EXPORTER_OTLP_COMPRESSION=gzip`); default off.
    pub fn with_otlp_gzip(mut self, gzip: bool) -> Self {
        self.otlp.gzip = Some(gzip);
        for signal in [&mut self.traces, &mut self.metrics, &mut self.logs] {
            signal.gzip = None;
        }
        self
    }

    /// Where spans go (`OTEL_TRACES_EXPORTER`): OTLP (default), the console, or nowhere.
    pub fn with_traces_exporter(mut self, kind: ExporterKind) -> Self {
        self.traces.exporter = kind;
        self
    }

    /// Where metrics go (`OTEL_METRICS_EXPORTER`). `console` is treated as `none` for metrics.
    pub fn with_metrics_exporter(mut self, kind: ExporterKind) -> Self {
        self.metrics.exporter = kind;
        self
    }

    /// Where log records go (`OTEL_LOGS_EXPORTER`). The console log output configured with
    /// [`Config::with_log_format`] is separate and always on unless set to `none`.
    pub fn with_logs_exporter(mut self, kind: ExporterKind) -> Self {
        self.logs.exporter = kind;
        self
    }

    /// The sampler (`OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG`).
    pub fn with_sampler(mut self, sampler: Sampler) -> Self {
        self.sampler = sampler;
        self
    }

    /// The propagation formats (`OTEL_PROPAGATORS`); default trace context and baggage. An
    /// empty list turns propagation off.
    pub fn with_propagators(mut self, propagators: impl IntoIterator<Item = Propagator>) -> Self {
        self.propagators = propagators.into_iter().collect();
        self
    }

    /// The span export queue (`OTEL_BSP_*`).
    pub fn with_span_batch(mut self, batch: BatchSettings) -> Self {
        self.span_batch = batch;
        self
    }

    /// The log export queue (`OTEL_BLRP_*`).
    pub fn with_log_batch(mut self, batch: BatchSettings) -> Self {
        self.log_batch = batch;
        self
    }

    /// How often metrics are exported (`OTEL_METRIC_EXPORT_INTERVAL`); default 60 s.
    pub fn with_metric_export_interval(mut self, interval: Duration) -> Self {
        self.metric_interval = interval;
        self
    }

    /// Which `tracing` events and spans are recorded, in `RUST_LOG` syntax; default `info`.
    pub fn with_log_filter(mut self, filter: impl Into<String>) -> Self {
        self.log_filter = filter.into();
        self
    }

    /// How events are printed on the console (`SPANFORGE_LOG_FORMAT`).
    pub fn with_log_format(mut self, format: LogFormat) -> Self {
        self.log_format = format;
        self
    }

    /// Whether [`init`](crate::init) installs the global `tracing` subscriber (default true).
    /// With `false`, compose [`Telemetry::tracing_layer`](crate::Telemetry::tracing_layer)
    /// into a subscriber of your own.
    pub fn with_install_subscriber(mut self, install: bool) -> Self {
        self.install_subscriber = install;
        self
    }

    /// Prices to add to or override in the built-in pricing table (`SPANFORGE_PRICING_FILE`),
    /// a `.json` or `.toml` file (see `docs/cost.md`). [`init`](crate::init) reads it and
    /// refuses to start if it is malformed, naming the line and the reason.
    pub fn with_pricing_file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.pricing_file = Some(path.into());
        self
    }

    /// Send spans to one more exporter beside the configured one, e.g. the Langfuse exporter.
    /// Each exporter gets its own queue and export task, so a slow destination never stalls
    /// another; its counts appear in [`Telemetry::stats`](crate::Telemetry::stats) under
    /// `name`.
    pub fn with_span_exporter<E>(mut self, name: impl Into<String>, exporter: E) -> Self
    where
        E: SpanExporter + 'static,
    {
        self.extra_span_exporters
            .push(NamedSpanExporter::new(name.into(), exporter));
        self
    }
}

fn parse_propagators(raw: &str) -> Result<Vec<Propagator>, InitError> {
    let mut out = Vec::new();
    for name in raw.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        match name {
            "tracecontext" => out.push(Propagator::TraceContext),
            "baggage" => out.push(Propagator::Baggage),
            "none" => return Ok(Vec::new()),
            other => {
                return Err(InitError::invalid(
                    "OTEL_PROPAGATORS",
                    other,
                    "unsupported propagator; expected tracecontext, baggage or none",
                ));
            }
        }
    }
    Ok(out)
}

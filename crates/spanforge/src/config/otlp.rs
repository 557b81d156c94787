//! OTLP exporter settings: protocol, endpoint, headers, timeout and compression per signal.

use std::fmt;
use std::time::Duration;

use super::env::EnvSource;
use crate::InitError;

/// The OTLP wire protocol (`OTEL_EXPORTER_OTLP_PROTOCOL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Protocol {
    /// `grpc`: OTLP over gRPC (port 4317 by default).
    Grpc,
    /// `http/protobuf`: OTLP over HTTP with binary protobuf bodies (port 4318). The default,
    /// as the specification recommends.
    #[default]
    HttpProtobuf,
    /// `http/json`: OTLP over HTTP with JSON bodies (port 4318).
    HttpJson,
}

impl Protocol {
    fn parse(var: &str, raw: &str) -> Result<Protocol, InitError> {
        match raw {
            "grpc" => Ok(Protocol::Grpc),
            "http/protobuf" => Ok(Protocol::HttpProtobuf),
            "http/json" => Ok(Protocol::HttpJson),
            _ => Err(InitError::invalid(
                var,
                raw,
                "unknown protocol; expected grpc, http/protobuf or http/json",
            )),
        }
    }

    fn default_endpoint(self) -> &'static str {
        match self {
            Protocol::Grpc => "http://localhost:4317",
            Protocol::HttpProtobuf | Protocol::HttpJson => "http://localhost:4318",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::Grpc => "grpc",
            Protocol::HttpProtobuf => "http/protobuf",
            Protocol::HttpJson => "http/json",
        })
    }
}

/// Where a signal goes (`OTEL_TRACES_EXPORTER`, `OTEL_METRICS_EXPORTER`, `OTEL_LOGS_EXPORTER`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExporterKind {
    /// `otlp`: export over OTLP (the default).
    #[default]
    Otlp,
    /// `console`: print to standard output, one line per span or log record. Handy with no
    /// collector at hand.
    Console,
    /// `none`: do not export this signal.
    None,
}

impl ExporterKind {
    fn parse(var: &str, raw: &str) -> Result<ExporterKind, InitError> {
        match raw {
            "otlp" => Ok(ExporterKind::Otlp),
            "console" => Ok(ExporterKind::Console),
            "none" => Ok(ExporterKind::None),
            _ => Err(InitError::invalid(
                var,
                raw,
                "unknown exporter; expected otlp, console or none",
            )),
        }
    }
}

/// The signals spanforge exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    Traces,
    Metrics,
    Logs,
}

impl Signal {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Signal::Traces => "traces",
            Signal::Metrics => "metrics",
            Signal::Logs => "logs",
        }
    }

    fn upper(self) -> &'static str {
        match self {
            Signal::Traces => "TRACES",
            Signal::Metrics => "METRICS",
            Signal::Logs => "LOGS",
        }
    }
}

/// A value with the name of the setting it came from, so errors can name it.
#[derive(Debug, Clone)]
pub(crate) struct Sourced<T> {
    pub(crate) value: T,
    pub(crate) source: String,
}

impl<T> Sourced<T> {
    pub(crate) fn new(value: T, source: impl Into<String>) -> Self {
        Sourced {
            value,
            source: source.into(),
        }
    }
}

/// The settings of one signal as read from the environment and the builder, before
/// resolution into a concrete endpoint.
#[derive(Debug, Clone, Default)]
pub(crate) struct SignalSettings {
    pub(crate) exporter: ExporterKind,
    pub(crate) protocol: Option<Sourced<Protocol>>,
    /// A signal-specific endpoint, used verbatim.
    pub(crate) endpoint: Option<Sourced<String>>,
    pub(crate) headers: Vec<Sourced<String>>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) gzip: Option<bool>,
}

/// Settings shared by every signal unless a signal overrides them.
#[derive(Debug, Clone, Default)]
pub(crate) struct OtlpSettings {
    pub(crate) protocol: Option<Sourced<Protocol>>,
    /// The base endpoint; signal paths are appended for HTTP.
    pub(crate) endpoint: Option<Sourced<String>>,
    pub(crate) headers: Vec<Sourced<String>>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) gzip: Option<bool>,
}

fn compression(var: &str, raw: &str) -> Result<bool, InitError> {
    match raw {
        "gzip" => Ok(true),
        "none" => Ok(false),
        _ => Err(InitError::invalid(
            var,
            raw,
            "unknown compression; expected gzip or none",
        )),
    }
}

impl OtlpSettings {
    pub(crate) fn from_env(env: &EnvSource) -> Result<OtlpSettings, InitError> {
        let mut s = OtlpSettings::default();
        if let Some(raw) = env.get("OTEL_EXPORTER_OTLP_PROTOCOL") {
            let p = Protocol::parse("OTEL_EXPORTER_OTLP_PROTOCOL", &raw)?;
            s.protocol = Some(Sourced::new(p, "OTEL_EXPORTER_OTLP_PROTOCOL"));
        }
        if let Some(raw) = env.get("OTEL_EXPORTER_OTLP_ENDPOINT") {
            s.endpoint = Some(Sourced::new(raw, "OTEL_EXPORTER_OTLP_ENDPOINT"));
        }
        if let Some(raw) = env.get("OTEL_EXPORTER_OTLP_HEADERS") {
            s.headers
                .push(Sourced::new(raw, "OTEL_EXPORTER_OTLP_HEADERS"));
        }
        s.timeout = env.millis("OTEL_EXPORTER_OTLP_TIMEOUT")?;
        if let Some(raw) = env.get("OTEL_EXPORTER_OTLP_COMPRESSION") {
            s.gzip = Some(compression("OTEL_EXPORTER_OTLP_COMPRESSION", &raw)?);
        }
        Ok(s)
    }
}

impl SignalSettings {
    pub(crate) fn from_env(env: &EnvSource, signal: Signal) -> Result<SignalSettings, InitError> {
        let up = signal.upper();
        let var = |suffix: &str| format!("OTEL_EXPORTER_OTLP_{up}_{suffix}");
        let mut s = SignalSettings::default();
        let exporter_var = format!("OTEL_{up}_EXPORTER");
        if let Some(raw) = env.get(&exporter_var) {
            s.exporter = ExporterKind::parse(&exporter_var, &raw)?;
        }
        let v = var("PROTOCOL");
        if let Some(raw) = env.get(&v) {
            s.protocol = Some(Sourced::new(Protocol::parse(&v, &raw)?, v));
        }
        let v = var("ENDPOINT");
        if let Some(raw) = env.get(&v) {
            s.endpoint = Some(Sourced::new(raw, v));
        }
        let v = var("HEADERS");
        if let Some(raw) = env.get(&v) {
            s.headers.push(Sourced::new(raw, v));
        }
        s.timeout = env.millis(&var("TIMEOUT"))?;
        let v = var("COMPRESSION");
        if let Some(raw) = env.get(&v) {
            s.gzip = Some(compression(&v, &raw)?);
        }
        Ok(s)
    }

    /// Combine with the shared settings into what the exporter is built from.
    pub(crate) fn resolve(
        &self,
        shared: &OtlpSettings,
        signal: Signal,
    ) -> Result<ResolvedOtlp, InitError> {
        let protocol = self
            .protocol
            .as_ref()
            .or(shared.protocol.as_ref())
            .map(|p| p.value)
            .unwrap_or_default();
        let endpoint = match (&self.endpoint, &shared.endpoint) {
            (Some(own), _) => validate_endpoint(&own.source, &own.value)?,
            (None, Some(base)) => {
                let base_url = validate_endpoint(&base.source, &base.value)?;
                match protocol {
                    Protocol::Grpc => base_url,
                    Protocol::HttpProtobuf | Protocol::HttpJson => {
                        format!("{}/v1/{}", base_url.trim_end_matches('/'), signal.name())
                    }
                }
            }
            (None, None) => match protocol {
                Protocol::Grpc => protocol.default_endpoint().to_owned(),
                _ => format!("{}/v1/{}", protocol.default_endpoint(), signal.name()),
            },
        };
        let mut headers = Vec::new();
        for list in shared.headers.iter().chain(&self.headers) {
            for (k, v) in parse_headers(&list.source, &list.value)? {
                headers.retain(|(existing, _): &(String, String)| existing != &k);
                headers.push((k, v));
            }
        }
        Ok(ResolvedOtlp {
            protocol,
            endpoint,
            headers,
            timeout: self
                .timeout
                .or(shared.timeout)
                .unwrap_or(Duration::from_secs(10)),
            gzip: self.gzip.or(shared.gzip).unwrap_or(false),
        })
    }
}

/// Everything needed to build one OTLP exporter.
#[derive(Clone)]
pub(crate) struct ResolvedOtlp {
    pub(crate) protocol: Protocol,
    pub(crate) endpoint: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) timeout: Duration,
    pub(crate) gzip: bool,
}

impl fmt::Debug for ResolvedOtlp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Header values are credentials: show only their names.
        let names: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("ResolvedOtlp")
            .field("protocol", &self.protocol)
            .field("endpoint", &self.endpoint)
            .field("header_names", &names)
            .field("timeout", &self.timeout)
            .field("gzip", &self.gzip)
            .finish()
    }
}

/// Check that `raw` is an absolute `http`/`https` URL with a host; returns it trimmed.
pub(crate) fn validate_endpoint(var: &str, raw: &str) -> Result<String, InitError> {
    let err = |reason: &str| InitError::InvalidEndpoint {
        var: var.to_owned(),
        value: raw.to_owned(),
        reason: reason.to_owned(),
    };
    let uri: http::Uri = raw
        .parse()
        .map_err(|e: http::uri::InvalidUri| err(&format!("not a URL ({e})")))?;
    match uri.scheme_str() {
        Some("http") | Some("https") => {}
        Some(other) => return Err(err(&format!("scheme `{other}` is not http or https"))),
        None => {
            return Err(err(
                "missing scheme; write http://host:port or https://host:port",
            ));
        }
    }
    let Some(authority) = uri.authority() else {
        return Err(err("missing host"));
    };
    if authority.host().is_empty() {
        return Err(err("missing host"));
    }
    if authority.as_str().contains('@') {
        return Err(err(
            "credentials in the URL are not allowed; use the headers variable",
        ));
    }
    Ok(raw.to_owned())
}

/// Parse a W3C-baggage-style header list: `key1=value1,key2=value2`, values percent-encoded.
pub(crate) fn parse_headers(var: &str, raw: &str) -> Result<Vec<(String, String)>, InitError> {
    let mut out = Vec::new();
    for (index, entry) in raw.split(',').enumerate() {
        let entry = entry.trim();
        if entry.is_empty() {
            continue;
        }
        let err = |reason: &str| InitError::InvalidHeaders {
            var: var.to_owned(),
            entry: index + 1,
            reason: reason.to_owned(),
        };
        let Some((key, value)) = entry.split_once('=') else {
            return Err(err("expected key=value"));
        };
        let key = key.trim();
        if key.is_empty() {
            return Err(err("empty header name"));
        }
        let name = http::HeaderName::from_bytes(key.as_bytes())
            .map_err(|_| err("header name contains characters not allowed in HTTP"))?;
        let value = percent_encoding::percent_decode_str(value.trim())
            .decode_utf8()
            .map_err(|_| err("value is not valid UTF-8 after percent-decoding"))?;
        http::HeaderValue::from_str(&value)
            .map_err(|_| err("value contains characters not allowed in HTTP"))?;
        out.push((name.as_str().to_owned(), value.into_owned()));
    }
    Ok(out)
}

//! The HTTP checks (OTLP, collector, Prometheus, Grafana, Alertmanager, Langfuse) and the
//! dispatch to the database and Redis checks.

use std::time::Duration;

use reqwest::Url;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};

use super::{Check, CheckFuture, DoctorArgs, Finding, OtlpProtocol, human_duration};
use crate::prometheus::{
    PrometheusClient, PrometheusError, UrlError, http_client, http_url, redact, snippet,
    transport_cause,
};

/// The default Langfuse base URL, as in `spanforge-langfuse` (Langfuse Cloud, EU).
const LANGFUSE_DEFAULT_URL: &str = "https://cloud.langfuse.com";

/// What every check shares: one HTTP client, the per-check timeout.
#[derive(Debug, Clone)]
pub(crate) struct Context {
    http: reqwest::Client,
    timeout: Duration,
}

impl Context {
    pub(crate) fn new(timeout: Duration) -> anyhow::Result<Context> {
        let http = http_client(|builder| {
            builder
                .timeout(timeout)
                .redirect(reqwest::redirect::Policy::limited(3))
        })?;
        Ok(Context { http, timeout })
    }
}

/// Starts one check. Everything it needs is resolved here (flags, environment), so the
/// future owns its inputs.
pub(crate) fn start(
    check: Check,
    args: &DoctorArgs,
    env: &(dyn Fn(&str) -> Option<String> + Sync),
    context: &Context,
) -> CheckFuture {
    let context = context.clone();
    match check {
        Check::Otlp => Box::pin(otlp(context, otlp_plan(args, env))),
        Check::Collector => Box::pin(collector(context, args.collector_health.clone())),
        Check::Prometheus => Box::pin(prometheus(context.timeout, args.prometheus.clone())),
        Check::Grafana => Box::pin(grafana(context, args.grafana.clone())),
        Check::Alertmanager => Box::pin(alertmanager(context, args.alertmanager.clone())),
        Check::Langfuse => Box::pin(langfuse(context, langfuse_plan(args, env))),
        Check::Database => Box::pin(super::database::check(args.database_url.clone())),
        Check::Redis => Box::pin(super::redis::check(args.redis_url.clone(), context.timeout)),
    }
}

/// What a transport error means, without the URL (the caller shows it once).
pub(crate) fn transport_reason(error: &reqwest::Error, timeout: Duration) -> String {
    if error.is_timeout() {
        return format!("no answer within {}", human_duration(timeout));
    }
    let innermost = transport_cause(error);
    if error.is_connect() {
        format!("cannot connect: {innermost}")
    } else {
        innermost
    }
}

fn url_refused(error: UrlError, what: &str) -> Finding {
    match error {
        #[cfg(not(feature = "tls"))]
        UrlError::Https(url) => Finding::failed(Some(url), https_unsupported()),
        UrlError::Invalid { url, reason } => {
            Finding::failed(Some(url), format!("not a valid {what} URL: {reason}"))
        }
    }
}

/// Only without the `tls` feature: `http_url` refuses `https://` there.
fn https_unsupported() -> String {
    "https is not supported: this build of spanforge has no TLS backend (it was built without \
     the `tls` feature); use a plain http:// URL (for example through a port-forward or a \
     local reverse proxy)"
        .to_owned()
}

/// `{base}{path}`: the base URL's path, then `path` (which starts with `/`).
fn join(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    let joined = format!("{}{path}", base.path().trim_end_matches('/'));
    url.set_path(&joined);
    url
}

fn status_text(status: reqwest::StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("HTTP {} {reason}", status.as_u16()),
        None => format!("HTTP {}", status.as_u16()),
    }
}

// ---------------------------------------------------------------------------------------- OTLP

/// The resolved OTLP target.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum OtlpPlan {
    Http {
        url: Url,
        json: bool,
        headers: HeaderMap,
    },
    Grpc {
        host: String,
        port: u16,
        shown: String,
    },
    Invalid {
        target: Option<String>,
        reason: String,
    },
}

pub(crate) fn otlp_plan(
    args: &DoctorArgs,
    env: &(dyn Fn(&str) -> Option<String> + Sync),
) -> OtlpPlan {
    let var = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    let protocol = match args.otlp_protocol {
        Some(protocol) => protocol,
        None => {
            let (name, value) = match var("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") {
                Some(value) => ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", Some(value)),
                None => (
                    "OTEL_EXPORTER_OTLP_PROTOCOL",
                    var("OTEL_EXPORTER_OTLP_PROTOCOL"),
                ),
            };
            match value.as_deref().map(str::trim) {
                None | Some("http/protobuf") => OtlpProtocol::HttpProtobuf,
                Some("http/json") => OtlpProtocol::HttpJson,
                Some("grpc") => OtlpProtocol::Grpc,
                Some(other) => {
                    return OtlpPlan::Invalid {
                        target: None,
                        reason: format!("{name}={other:?} is not grpc, http/protobuf or http/json"),
                    };
                }
            }
        }
    };
    // (endpoint, whether /v1/traces is still to be appended, where it came from)
    let (endpoint, append, source) = if let Some(flag) = &args.otlp_endpoint {
        (flag.clone(), true, "--otlp-endpoint")
    } else if let Some(value) = var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") {
        (value, false, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    } else if let Some(value) = var("OTEL_EXPORTER_OTLP_ENDPOINT") {
        (value, true, "OTEL_EXPORTER_OTLP_ENDPOINT")
    } else if protocol == OtlpProtocol::Grpc {
        ("http://localhost:4317".to_owned(), true, "default")
    } else {
        ("http://localhost:4318".to_owned(), true, "default")
    };
    if protocol == OtlpProtocol::Grpc {
        return grpc_plan(&endpoint, source);
    }
    let base = match http_url(&endpoint) {
        Ok(url) => url,
        #[cfg(not(feature = "tls"))]
        Err(UrlError::Https(url)) => {
            return OtlpPlan::Invalid {
                target: Some(url),
                reason: https_unsupported(),
            };
        }
        Err(UrlError::Invalid { url, reason }) => {
            return OtlpPlan::Invalid {
                target: Some(url),
                reason: format!("{source} is not a valid URL: {reason}"),
            };
        }
    };
    let url = if append {
        join(&base, "/v1/traces")
    } else {
        base
    };
    let headers = match otlp_headers(&var) {
        Ok(headers) => headers,
        Err(reason) => {
            return OtlpPlan::Invalid {
                target: Some(redact(&url)),
                reason,
            };
        }
    };
    OtlpPlan::Http {
        url,
        json: protocol == OtlpProtocol::HttpJson,
        headers,
    }
}

fn grpc_plan(endpoint: &str, source: &str) -> OtlpPlan {
    let invalid = |reason: String| OtlpPlan::Invalid {
        target: None,
        reason: format!("{source} is not a valid gRPC endpoint: {reason}"),
    };
    let with_scheme = if endpoint.contains("://") {
        endpoint.to_owned()
    } else {
        format!("http://{endpoint}")
    };
    let url = match Url::parse(with_scheme.trim()) {
        Ok(url) => url,
        Err(e) => return invalid(e.to_string()),
    };
    let Some(host) = url.host_str() else {
        return invalid("no host".to_owned());
    };
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = url.port().unwrap_or(4317);
    let shown = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    OtlpPlan::Grpc { host, port, shown }
}

/// `OTEL_EXPORTER_OTLP_TRACES_HEADERS`, else `OTEL_EXPORTER_OTLP_HEADERS`: `key=value` pairs,
/// comma-separated, values percent-encoded. The values are never shown.
fn otlp_headers(var: &dyn Fn(&str) -> Option<String>) -> Result<HeaderMap, String> {
    let (name, value) = match var("OTEL_EXPORTER_OTLP_TRACES_HEADERS") {
        Some(value) => ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", value),
        None => match var("OTEL_EXPORTER_OTLP_HEADERS") {
            Some(value) => ("OTEL_EXPORTER_OTLP_HEADERS", value),
            None => return Ok(HeaderMap::new()),
        },
    };
    let mut headers = HeaderMap::new();
    for (index, pair) in value.split(',').enumerate() {
        if pair.trim().is_empty() {
            continue;
        }
        let Some((key, raw)) = pair.split_once('=') else {
            return Err(format!("{name}: entry {} is not key=value", index + 1));
        };
        let key = HeaderName::from_bytes(key.trim().as_bytes())
            .map_err(|_| format!("{name}: entry {} has an invalid header name", index + 1))?;
        let decoded = percent_decode(raw.trim())
            .ok_or_else(|| format!("{name}: the value of {key} is not valid percent-encoding"))?;
        let mut value = HeaderValue::from_str(&decoded)
            .map_err(|_| format!("{name}: the value of {key} is not a valid header value"))?;
        value.set_sensitive(true);
        headers.append(key, value);
    }
    Ok(headers)
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

async fn otlp(context: Context, plan: OtlpPlan) -> Finding {
    match plan {
        OtlpPlan::Invalid { target, reason } => Finding::failed(target, reason),
        OtlpPlan::Grpc { host, port, shown } => {
            let connect = tokio::net::TcpStream::connect((host.as_str(), port));
            match tokio::time::timeout(context.timeout, connect).await {
                Ok(Ok(_)) => Finding::ok(
                    shown,
                    "gRPC port accepts TCP connections (the gRPC service itself is not exercised)",
                ),
                Ok(Err(e)) => Finding::failed(Some(shown), format!("cannot connect: {e}")),
                Err(_) => Finding::failed(
                    Some(shown),
                    format!(
                        "no TCP connection within {}",
                        human_duration(context.timeout)
                    ),
                ),
            }
        }
        OtlpPlan::Http { url, json, headers } => {
            let shown = redact(&url);
            let (content_type, body): (&str, &[u8]) = if json {
                ("application/json", b"{}")
            } else {
                // An ExportTraceServiceRequest without resource spans encodes to zero bytes.
                ("application/x-protobuf", b"")
            };
            let response = context
                .http
                .post(url)
                .headers(headers)
                .header(CONTENT_TYPE, content_type)
                .body(body.to_vec())
                .send()
                .await;
            let kind = if json {
                "OTLP/HTTP JSON"
            } else {
                "OTLP/HTTP protobuf"
            };
            match response {
                Ok(response) if response.status().is_success() => Finding::ok(
                    shown,
                    format!(
                        "accepted an empty {kind} export ({})",
                        status_text(response.status())
                    ),
                ),
                Ok(response) => {
                    let status = response.status();
                    let hint = match status.as_u16() {
                        401 | 403 => " (check OTEL_EXPORTER_OTLP_HEADERS)",
                        404 => {
                            " (not an OTLP/HTTP traces endpoint: OTEL_EXPORTER_OTLP_ENDPOINT is the base URL, /v1/traces is appended)"
                        }
                        415 => {
                            " (the endpoint does not take this encoding: check OTEL_EXPORTER_OTLP_PROTOCOL)"
                        }
                        _ => "",
                    };
                    let body = response.bytes().await.unwrap_or_default();
                    Finding::failed(
                        Some(shown),
                        format!("{}{hint}: {}", status_text(status), snippet(&body)),
                    )
                }
                Err(e) => Finding::failed(Some(shown), transport_reason(&e, context.timeout)),
            }
        }
    }
}

// --------------------------------------------------------------------------- collector, stack

async fn collector(context: Context, url: String) -> Finding {
    let url = match http_url(&url) {
        Ok(url) => url,
        Err(e) => return url_refused(e, "collector health_check"),
    };
    let shown = redact(&url);
    let response = match context.http.get(url).send().await {
        Ok(response) => response,
        Err(e) => return Finding::failed(Some(shown), transport_reason(&e, context.timeout)),
    };
    let status = response.status();
    let body = response.bytes().await.unwrap_or_default();
    // health_check answers {"status":"Server available","upSince":...,"uptime":...}.
    let reported = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("status")?.as_str().map(str::to_owned));
    match (status.is_success(), reported) {
        (true, Some(text)) => Finding::ok(shown, text),
        (true, None) => Finding::ok(shown, status_text(status)),
        (false, Some(text)) => {
            Finding::failed(Some(shown), format!("{}: {text}", status_text(status)))
        }
        (false, None) => Finding::failed(
            Some(shown),
            format!("{}: {}", status_text(status), snippet(&body)),
        ),
    }
}

async fn prometheus(timeout: Duration, url: String) -> Finding {
    let client = match PrometheusClient::new(&url) {
        Ok(client) => client.with_timeout(timeout),
        Err(PrometheusError::HttpsUnsupported { url }) => {
            return Finding::failed(Some(url), https_unsupported());
        }
        Err(PrometheusError::InvalidUrl { url, reason }) => {
            return Finding::failed(Some(url), format!("not a valid Prometheus URL: {reason}"));
        }
        Err(other) => return Finding::failed(None, other.to_string()),
    };
    let shown = client.base_url().to_owned();
    if let Err(error) = client.ready().await {
        return Finding::failed(Some(shown), prometheus_reason(&error));
    }
    match client.version().await {
        Ok(version) if !version.is_empty() => {
            Finding::ok(shown, format!("ready, Prometheus {version}"))
        }
        _ => Finding::ok(shown, "ready"),
    }
}

/// A Prometheus error without the URL (the line shows it once).
pub(crate) fn prometheus_reason(error: &PrometheusError) -> String {
    match error {
        PrometheusError::Unreachable { reason, .. } => format!("cannot connect: {reason}"),
        PrometheusError::Timeout { timeout, .. } => {
            format!("no answer within {}", human_duration(*timeout))
        }
        PrometheusError::Status {
            status, message, ..
        } => format!("HTTP {status}: {message}"),
        PrometheusError::HttpsUnsupported { .. } => https_unsupported(),
        PrometheusError::InvalidUrl { reason, .. }
        | PrometheusError::BadResponse { reason, .. } => reason.clone(),
    }
}

async fn grafana(context: Context, base: String) -> Finding {
    let base = match http_url(&base) {
        Ok(url) => url,
        Err(e) => return url_refused(e, "Grafana"),
    };
    let url = join(&base, "/api/health");
    let shown = redact(&url);
    let response = match context.http.get(url).send().await {
        Ok(response) => response,
        Err(e) => return Finding::failed(Some(shown), transport_reason(&e, context.timeout)),
    };
    let status = response.status();
    let body = response.bytes().await.unwrap_or_default();
    // {"commit":"…","database":"ok","version":"11.2.0"}; 503 with "database":"failing".
    let json: Option<serde_json::Value> = serde_json::from_slice(&body).ok();
    let field = |name: &str| {
        json.as_ref()
            .and_then(|v| v.get(name)?.as_str().map(str::to_owned))
    };
    match (status.is_success(), field("database"), field("version")) {
        (true, Some(database), version) if database == "ok" => {
            let version = version
                .map(|v| format!(", Grafana {v}"))
                .unwrap_or_default();
            Finding::ok(shown, format!("database ok{version}"))
        }
        (_, Some(database), _) => Finding::failed(
            Some(shown),
            format!("{}: database {database}", status_text(status)),
        ),
        (true, None, _) => Finding::failed(
            Some(shown),
            format!(
                "{} but not Grafana's health JSON: {}",
                status_text(status),
                snippet(&body)
            ),
        ),
        (false, None, _) => Finding::failed(
            Some(shown),
            format!("{}: {}", status_text(status), snippet(&body)),
        ),
    }
}

async fn alertmanager(context: Context, base: String) -> Finding {
    let base = match http_url(&base) {
        Ok(url) => url,
        Err(e) => return url_refused(e, "Alertmanager"),
    };
    let shown = redact(&base);
    let url = join(&base, "/-/ready");
    match context.http.get(url).send().await {
        Ok(response) if response.status().is_success() => Finding::ok(shown, "ready"),
        Ok(response) => {
            let status = response.status();
            let body = response.bytes().await.unwrap_or_default();
            Finding::failed(
                Some(shown),
                format!("/-/ready: {}: {}", status_text(status), snippet(&body)),
            )
        }
        Err(e) => Finding::failed(Some(shown), transport_reason(&e, context.timeout)),
    }
}

// ------------------------------------------------------------------------------------ Langfuse

/// The resolved Langfuse check. The secret key lives here only; Debug redacts it.
pub(crate) enum LangfusePlan {
    Check {
        url: Url,
        batch: bool,
        public_key: String,
        secret_key: String,
    },
    Done(Finding),
}

impl std::fmt::Debug for LangfusePlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LangfusePlan::Check {
                url,
                batch,
                public_key,
                ..
            } => f
                .debug_struct("Check")
                .field("url", &redact(url))
                .field("batch", batch)
                .field("public_key", public_key)
                .field("secret_key", &"<redacted>")
                .finish(),
            LangfusePlan::Done(finding) => f.debug_tuple("Done").field(finding).finish(),
        }
    }
}

pub(crate) fn langfuse_plan(
    args: &DoctorArgs,
    env: &(dyn Fn(&str) -> Option<String> + Sync),
) -> LangfusePlan {
    let var = |name: &str| {
        env(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let (public_key, secret_key) = match (var("LANGFUSE_PUBLIC_KEY"), var("LANGFUSE_SECRET_KEY")) {
        (Some(public), Some(secret)) => (public, secret),
        (None, None) => {
            return LangfusePlan::Done(Finding::not_configured(
                None,
                "LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY are not set",
            ));
        }
        (Some(_), None) => {
            return LangfusePlan::Done(Finding::failed(
                None,
                "LANGFUSE_SECRET_KEY is not set (LANGFUSE_PUBLIC_KEY is)",
            ));
        }
        (None, Some(_)) => {
            return LangfusePlan::Done(Finding::failed(
                None,
                "LANGFUSE_PUBLIC_KEY is not set (LANGFUSE_SECRET_KEY is)",
            ));
        }
    };
    let base = args
        .langfuse_url
        .clone()
        .or_else(|| var("LANGFUSE_BASE_URL"))
        .or_else(|| var("LANGFUSE_HOST"))
        .unwrap_or_else(|| LANGFUSE_DEFAULT_URL.to_owned());
    let base = match http_url(&base) {
        Ok(url) => url,
        Err(e) => return LangfusePlan::Done(url_refused(e, "Langfuse")),
    };
    let batch = match var("LANGFUSE_INGESTION").as_deref() {
        None | Some("otlp") => false,
        Some("batch") => true,
        Some(other) => {
            return LangfusePlan::Done(Finding::failed(
                Some(redact(&base)),
                format!("LANGFUSE_INGESTION={other:?} is not otlp or batch"),
            ));
        }
    };
    let path = if batch {
        "/api/public/ingestion"
    } else {
        "/api/public/otel/v1/traces"
    };
    LangfusePlan::Check {
        url: join(&base, path),
        batch,
        public_key,
        secret_key,
    }
}

/// An authenticated, empty export to the endpoint the exporter uses: nothing is created in
/// Langfuse, and the answer says whether the keys are accepted.
async fn langfuse(context: Context, plan: LangfusePlan) -> Finding {
    let (url, batch, public_key, secret_key) = match plan {
        LangfusePlan::Done(finding) => return finding,
        LangfusePlan::Check {
            url,
            batch,
            public_key,
            secret_key,
        } => (url, batch, public_key, secret_key),
    };
    let shown = redact(&url);
    let request = context
        .http
        .post(url)
        .basic_auth(&public_key, Some(&secret_key));
    let request = if batch {
        request
            .header(CONTENT_TYPE, "application/json")
            .body(r#"{"batch":[]}"#)
    } else {
        request
            .header(CONTENT_TYPE, "application/x-protobuf")
            .header("x-langfuse-ingestion-version", "4")
            .body(Vec::new())
    };
    let finding = match request.send().await {
        Ok(response) if response.status().is_success() => Finding::ok(
            shown,
            format!("credentials accepted (public key {public_key})"),
        ),
        Ok(response) => {
            let status = response.status();
            match status.as_u16() {
                401 | 403 => Finding::failed(
                    Some(shown),
                    format!(
                        "credentials rejected ({}) for public key {public_key}: \
                         check LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY",
                        status_text(status)
                    ),
                ),
                404 if !batch => Finding::failed(
                    Some(shown),
                    format!(
                        "{}: this Langfuse has no OTLP endpoint; for an older self-hosted \
                         Langfuse set LANGFUSE_INGESTION=batch",
                        status_text(status)
                    ),
                ),
                _ => {
                    let body = response.bytes().await.unwrap_or_default();
                    Finding::failed(
                        Some(shown),
                        format!("{}: {}", status_text(status), snippet(&body)),
                    )
                }
            }
        }
        Err(e) => Finding::failed(Some(shown), transport_reason(&e, context.timeout)),
    };
    scrub(finding, &secret_key)
}

/// Belt and braces: whatever a server echoed, the secret never reaches the output.
fn scrub(mut finding: Finding, secret: &str) -> Finding {
    use super::Outcome;
    let clean = |text: &mut String| {
        if !secret.is_empty() && text.contains(secret) {
            *text = text.replace(secret, "<redacted>");
        }
    };
    match &mut finding.outcome {
        Outcome::Ok(text) | Outcome::Failed(text) | Outcome::NotConfigured(text) => clean(text),
    }
    if let Some(target) = &mut finding.target {
        clean(target);
    }
    finding
}

/// Shared by the tests below.
#[cfg(test)]
pub(crate) fn args_for_tests() -> DoctorArgs {
    DoctorArgs {
        json: false,
        timeout: Duration::from_secs(5),
        skip: Vec::new(),
        require: Vec::new(),
        otlp_endpoint: None,
        otlp_protocol: None,
        collector_health: "http://localhost:13133/".to_owned(),
        prometheus: "http://localhost:9090".to_owned(),
        grafana: "http://localhost:3000".to_owned(),
        alertmanager: "http://localhost:9093".to_owned(),
        langfuse_url: None,
        database_url: None,
        redis_url: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(
        pairs: &'static [(&'static str, &'static str)],
    ) -> impl Fn(&str) -> Option<String> + Sync {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn otlp_defaults_and_precedence() {
        let args = args_for_tests();
        match otlp_plan(&args, &env_of(&[])) {
            OtlpPlan::Http { url, json, .. } => {
                assert_eq!(url.as_str(), "http://localhost:4318/v1/traces");
                assert!(!json);
            }
            other => panic!("{other:?}"),
        }
        let env = env_of(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/base/"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
        ]);
        match otlp_plan(&args, &env) {
            OtlpPlan::Http { url, json, .. } => {
                assert_eq!(url.as_str(), "http://collector:4318/base/v1/traces");
                assert!(json);
            }
            other => panic!("{other:?}"),
        }
        let env = env_of(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"),
            (
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                "http://traces:9999/custom",
            ),
        ]);
        match otlp_plan(&args, &env) {
            OtlpPlan::Http { url, .. } => assert_eq!(url.as_str(), "http://traces:9999/custom"),
            other => panic!("{other:?}"),
        }
        let env = env_of(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")]);
        match otlp_plan(&args, &env) {
            OtlpPlan::Grpc { host, port, shown } => {
                assert_eq!(
                    (host.as_str(), port, shown.as_str()),
                    ("localhost", 4317, "localhost:4317")
                );
            }
            other => panic!("{other:?}"),
        }
        let env = env_of(&[
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:14317"),
        ]);
        assert!(matches!(
            otlp_plan(&args, &env),
            OtlpPlan::Grpc { port: 14317, .. }
        ));
        let env = env_of(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "thrift")]);
        match otlp_plan(&args, &env) {
            OtlpPlan::Invalid { reason, .. } => assert_eq!(
                reason,
                "OTEL_EXPORTER_OTLP_PROTOCOL=\"thrift\" is not grpc, http/protobuf or http/json"
            ),
            other => panic!("{other:?}"),
        }
        let env = env_of(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "https://api.vendor.example")]);
        match otlp_plan(&args, &env) {
            #[cfg(feature = "tls")]
            OtlpPlan::Http { url, .. } => {
                assert_eq!(url.as_str(), "https://api.vendor.example/v1/traces")
            }
            #[cfg(not(feature = "tls"))]
            OtlpPlan::Invalid { reason, .. } => {
                assert!(reason.starts_with("https is not supported"))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn otlp_headers_are_parsed_and_never_shown() {
        let args = args_for_tests();
        let env = env_of(&[("OTEL_EXPORTER_OTLP_HEADERS", "api-key=s3cr%3Dt, x-tenant=a")]);
        match otlp_plan(&args, &env) {
            OtlpPlan::Http { headers, .. } => {
                assert_eq!(headers["api-key"], "s3cr=t");
                assert!(headers["api-key"].is_sensitive());
                assert_eq!(headers["x-tenant"], "a");
            }
            other => panic!("{other:?}"),
        }
        let env = env_of(&[("OTEL_EXPORTER_OTLP_HEADERS", "api-key=%zzsecret")]);
        match otlp_plan(&args, &env) {
            OtlpPlan::Invalid { reason, .. } => {
                assert_eq!(
                    reason,
                    "OTEL_EXPORTER_OTLP_HEADERS: the value of api-key is not valid percent-encoding"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn langfuse_plan_and_debug_redaction() {
        let args = args_for_tests();
        assert!(matches!(
            langfuse_plan(&args, &env_of(&[])),
            LangfusePlan::Done(Finding {
                outcome: super::super::Outcome::NotConfigured(_),
                ..
            })
        ));
        let env = env_of(&[("LANGFUSE_PUBLIC_KEY", "pk-lf-1")]);
        assert!(matches!(
            langfuse_plan(&args, &env),
            LangfusePlan::Done(Finding {
                outcome: super::super::Outcome::Failed(_),
                ..
            })
        ));
        let env = env_of(&[
            ("LANGFUSE_PUBLIC_KEY", "pk-lf-1"),
            ("LANGFUSE_SECRET_KEY", "sk-lf-very-secret"),
            ("LANGFUSE_HOST", "http://langfuse:3000"),
        ]);
        let plan = langfuse_plan(&args, &env);
        let debug = format!("{plan:?}");
        assert!(!debug.contains("very-secret"), "{debug}");
        match plan {
            LangfusePlan::Check { url, batch, .. } => {
                assert_eq!(
                    url.as_str(),
                    "http://langfuse:3000/api/public/otel/v1/traces"
                );
                assert!(!batch);
            }
            LangfusePlan::Done(finding) => panic!("{finding:?}"),
        }
        // The default is Langfuse Cloud, https: checked with `tls`, refused with the reason
        // without it.
        let env = env_of(&[("LANGFUSE_PUBLIC_KEY", "pk"), ("LANGFUSE_SECRET_KEY", "sk")]);
        match langfuse_plan(&args, &env) {
            #[cfg(feature = "tls")]
            LangfusePlan::Check { url, .. } => assert_eq!(
                url.as_str(),
                "https://cloud.langfuse.com/api/public/otel/v1/traces"
            ),
            #[cfg(not(feature = "tls"))]
            LangfusePlan::Done(Finding {
                target,
                outcome: super::super::Outcome::Failed(reason),
            }) => {
                assert_eq!(target.as_deref(), Some("https://cloud.langfuse.com"));
                assert!(reason.starts_with("https is not supported"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn secrets_are_scrubbed() {
        let finding = Finding::failed(Some("http://x".into()), "HTTP 500: echo sk-lf-abc");
        let finding = scrub(finding, "sk-lf-abc");
        assert_eq!(
            finding.outcome,
            super::super::Outcome::Failed("HTTP 500: echo <redacted>".into())
        );
    }
}

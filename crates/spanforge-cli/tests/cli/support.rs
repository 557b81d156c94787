//! Shared pieces of the suite: an in-process backend on free ports, and OTLP span builders.

#![allow(dead_code)]

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
use prost::Message as _;
use spanforge_cli::serve::{ServeConfig, Server};
use spanforge_cli::store::Retention;

/// A backend with its own store file, removed on drop.
pub struct Backend {
    pub server: Server,
    dir: TempDir,
}

/// Starts `spanforge serve` in-process on free loopback ports, with no retention (tests that
/// need it call `Store::enforce`).
pub async fn backend() -> Backend {
    let dir = TempDir::new("backend");
    let mut config = ServeConfig::loopback(dir.path("spanforge.db"));
    config.retention = Retention {
        max_age: None,
        max_bytes: None,
    };
    let server = Server::start(config).await.expect("the backend starts");
    Backend { server, dir }
}

impl Backend {
    /// `http://127.0.0.1:PORT` of the web UI and JSON API.
    pub fn ui_url(&self) -> String {
        format!("http://{}", self.server.ui_addr())
    }

    /// `http://127.0.0.1:PORT` of OTLP/HTTP (POST /v1/traces, /v1/metrics, /v1/logs).
    pub fn otlp_http_url(&self) -> String {
        format!("http://{}", self.server.http_addr())
    }

    /// `http://127.0.0.1:PORT` of OTLP/gRPC.
    pub fn otlp_grpc_url(&self) -> String {
        format!("http://{}", self.server.grpc_addr())
    }

    /// The store file.
    pub fn db_path(&self) -> PathBuf {
        self.dir.path("spanforge.db")
    }

    /// Posts a trace export as OTLP/HTTP protobuf and asserts it was accepted.
    pub async fn send(&self, request: &ExportTraceServiceRequest) {
        let response = reqwest::Client::new()
            .post(format!("{}/v1/traces", self.otlp_http_url()))
            .header("content-type", "application/x-protobuf")
            .body(request.encode_to_vec())
            .send()
            .await
            .expect("OTLP/HTTP answers");
        assert_eq!(response.status(), 200, "{:?}", response.text().await);
    }

    /// GETs an API path and parses the JSON, asserting 200.
    pub async fn api(&self, path_and_query: &str) -> serde_json::Value {
        let response = reqwest::get(format!("{}{path_and_query}", self.ui_url()))
            .await
            .expect("the API answers");
        let status = response.status();
        let body = response.text().await.unwrap();
        assert_eq!(status, 200, "GET {path_and_query}: {body}");
        serde_json::from_str(&body).expect("JSON")
    }
}

/// A scratch directory, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let path = std::env::temp_dir().join(format!(
            "spanforge-cli-{tag}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Now, in nanoseconds since the Unix epoch.
pub fn now_ns() -> u64 {
    u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    )
    .unwrap()
}

/// A string attribute.
pub fn string(key: &str, value: &str) -> KeyValue {
    kv(key, any_value::Value::StringValue(value.to_owned()))
}

/// An integer attribute.
pub fn int(key: &str, value: i64) -> KeyValue {
    kv(key, any_value::Value::IntValue(value))
}

/// A double attribute.
pub fn double(key: &str, value: f64) -> KeyValue {
    kv(key, any_value::Value::DoubleValue(value))
}

fn kv(key: &str, value: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(value) }),
        ..KeyValue::default()
    }
}

/// A span: `trace` and `id` are small numbers turned into ids (`trace` → 16 bytes, `id` → 8).
pub fn span(
    trace: u64,
    id: u64,
    parent: Option<u64>,
    name: &str,
    start_ns: u64,
    duration_ms: u64,
) -> Span {
    Span {
        trace_id: trace_id(trace),
        span_id: span_id(id),
        parent_span_id: parent.map(span_id).unwrap_or_default(),
        name: name.to_owned(),
        kind: 1,
        start_time_unix_nano: start_ns,
        end_time_unix_nano: start_ns + duration_ms * 1_000_000,
        ..Span::default()
    }
}

/// Marks a span as failed.
pub fn failed(mut span: Span, message: &str) -> Span {
    span.status = Some(Status {
        code: 2,
        message: message.to_owned(),
    });
    span
}

/// The 16-byte id of trace number `n`.
pub fn trace_id(n: u64) -> Vec<u8> {
    let mut id = vec![0xab; 8];
    id.extend_from_slice(&n.to_be_bytes());
    id
}

/// The hex form of [`trace_id`].
pub fn trace_hex(n: u64) -> String {
    trace_id(n).iter().map(|b| format!("{b:02x}")).collect()
}

/// The 8-byte id of span number `n` (never all zero).
pub fn span_id(n: u64) -> Vec<u8> {
    (n | 1 << 60).to_be_bytes().to_vec()
}

/// The hex form of [`span_id`].
pub fn span_hex(n: u64) -> String {
    span_id(n).iter().map(|b| format!("{b:02x}")).collect()
}

/// One export request with the spans of one service.
pub fn export(service: &str, spans: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![string("service.name", service)],
                ..Resource::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..ScopeSpans::default()
            }],
            ..ResourceSpans::default()
        }],
    }
}

/// An LLM call span with prompt, usage and cost.
#[allow(clippy::too_many_arguments)]
pub fn llm_span(
    trace: u64,
    id: u64,
    parent: Option<u64>,
    start_ns: u64,
    duration_ms: u64,
    (provider, model): (&str, &str),
    (prompt, version): (&str, i64),
    (input, output, cached): (i64, i64, i64),
    cost: f64,
) -> Span {
    let mut span = span(
        trace,
        id,
        parent,
        &format!("chat {model}"),
        start_ns,
        duration_ms,
    );
    span.kind = 3;
    span.attributes = vec![
        string("gen_ai.operation.name", "chat"),
        string("gen_ai.provider.name", provider),
        string("gen_ai.request.model", model),
        string("gen_ai.response.model", model),
        string("gen_ai.prompt.name", prompt),
        int("gen_ai.prompt.version", version),
        int("gen_ai.usage.input_tokens", input),
        int("gen_ai.usage.output_tokens", output),
        int("gen_ai.usage.cache_read.input_tokens", cached),
        double("gen_ai.usage.cost", cost),
    ];
    span
}

/// An HTTP server span.
pub fn server_span(
    trace: u64,
    id: u64,
    start_ns: u64,
    duration_ms: u64,
    (method, route): (&str, &str),
    status: i64,
) -> Span {
    let mut span = span(
        trace,
        id,
        None,
        &format!("{method} {route}"),
        start_ns,
        duration_ms,
    );
    span.kind = 2;
    span.attributes = vec![
        string("http.request.method", method),
        string("http.route", route),
        int("http.response.status_code", status),
    ];
    if status >= 500 {
        span = failed(span, "");
    }
    span
}

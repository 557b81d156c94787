//! A fake Langfuse on loopback: the OTLP traces endpoint (`/api/public/otel/v1/traces`,
//! protobuf) and the batch ingestion endpoint (`/api/public/ingestion`, JSON, 207 answers),
//! recording every request and answering with scripted statuses.
//!
//! It runs on a thread and runtime of its own, so it outlives the runtimes of the tests
//! that use it.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;

use crate::otlp::Attributes;

/// The path Langfuse serves OTLP traces on.
pub const OTEL_TRACES_PATH: &str = "/api/public/otel/v1/traces";
/// The path of Langfuse's batch ingestion API.
pub const INGESTION_PATH: &str = "/api/public/ingestion";

/// A scripted answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeResponse {
    /// The HTTP status.
    pub status: u16,
    /// A `Retry-After` header value, if any.
    pub retry_after: Option<String>,
    /// Batch ingestion with a 2xx status: the per-event statuses of the 207 answer, in the
    /// order of the request's events; events beyond the list get 201.
    pub event_statuses: Vec<u16>,
}

impl FakeResponse {
    /// An answer with this status and no `Retry-After`.
    pub fn status(status: u16) -> FakeResponse {
        FakeResponse {
            status,
            retry_after: None,
            event_statuses: Vec::new(),
        }
    }

    /// A 207 batch-ingestion answer with these per-event statuses.
    pub fn ingestion(event_statuses: impl IntoIterator<Item = u16>) -> FakeResponse {
        FakeResponse {
            status: 207,
            retry_after: None,
            event_statuses: event_statuses.into_iter().collect(),
        }
    }

    /// Adds a `Retry-After` header.
    pub fn retry_after(mut self, value: impl Into<String>) -> FakeResponse {
        self.retry_after = Some(value.into());
        self
    }
}

/// One span as Langfuse received it.
#[derive(Debug, Clone, PartialEq)]
pub struct LangfuseSpan {
    /// Trace id, lowercase hex (empty bytes give an empty string).
    pub trace_id: String,
    /// Span id, lowercase hex.
    pub span_id: String,
    /// Parent span id, lowercase hex; `None` for a root.
    pub parent_span_id: Option<String>,
    /// Span name.
    pub name: String,
    /// Span attributes.
    pub attributes: Attributes,
    /// Attributes of the span's resource.
    pub resource: Attributes,
    /// Status code (0 unset, 1 ok, 2 error).
    pub status_code: i32,
}

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct LangfuseRequest {
    /// Request path.
    pub path: String,
    /// The `Authorization` header.
    pub authorization: Option<String>,
    /// The `x-langfuse-ingestion-version` header.
    pub ingestion_version: Option<String>,
    /// The `Content-Type` header.
    pub content_type: Option<String>,
    /// The body size in bytes.
    pub body_len: usize,
    /// The status answered.
    pub status: u16,
    /// OTLP: the decoded spans (empty when the body did not decode).
    pub spans: Vec<LangfuseSpan>,
    /// Batch ingestion: the JSON body.
    pub json: Option<serde_json::Value>,
    /// When it arrived.
    pub at: Instant,
}

#[derive(Debug, Default)]
struct State {
    script: VecDeque<FakeResponse>,
    requests: Vec<LangfuseRequest>,
}

/// The fake Langfuse server.
#[derive(Debug, Clone)]
pub struct FakeLangfuse {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

impl FakeLangfuse {
    /// Starts the server on `127.0.0.1`, an ephemeral port, on a thread of its own.
    pub fn start() -> std::io::Result<FakeLangfuse> {
        let state = Arc::new(Mutex::new(State::default()));
        let server_state = state.clone();
        let addr = crate::http1_thread::spawn("fake-langfuse", move |req| {
            handle(server_state.clone(), req)
        })?;
        Ok(FakeLangfuse { addr, state })
    }

    /// `http://127.0.0.1:<port>`: the base URL to configure the exporter with.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Queues answers for the next requests; once they are used up, requests get 200.
    pub fn push_responses(&self, responses: impl IntoIterator<Item = FakeResponse>) {
        lock(&self.state).script.extend(responses);
    }

    /// The JSON bodies of the batch-ingestion requests received so far.
    pub fn ingestion_bodies(&self) -> Vec<serde_json::Value> {
        lock(&self.state)
            .requests
            .iter()
            .filter_map(|r| r.json.clone())
            .collect()
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<LangfuseRequest> {
        lock(&self.state).requests.clone()
    }

    /// The spans of the requests answered with a 2xx.
    pub fn accepted_spans(&self) -> Vec<LangfuseSpan> {
        lock(&self.state)
            .requests
            .iter()
            .filter(|r| (200..300).contains(&r.status))
            .flat_map(|r| r.spans.iter().cloned())
            .collect()
    }

    /// Waits until an accepted span satisfies `predicate`, polling every 20 ms.
    pub async fn wait_for_span(
        &self,
        timeout: Duration,
        predicate: impl Fn(&LangfuseSpan) -> bool,
    ) -> Option<LangfuseSpan> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(span) = self.accepted_spans().into_iter().find(|s| predicate(s)) {
                return Some(span);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode(body: &[u8]) -> Vec<LangfuseSpan> {
    let Ok(request) = ExportTraceServiceRequest::decode(body) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for rs in &request.resource_spans {
        let resource = rs
            .resource
            .as_ref()
            .map(|r| Attributes::from_proto(&r.attributes))
            .unwrap_or_default();
        for ss in &rs.scope_spans {
            for span in &ss.spans {
                out.push(LangfuseSpan {
                    trace_id: hex(&span.trace_id),
                    span_id: hex(&span.span_id),
                    parent_span_id: (!span.parent_span_id.is_empty())
                        .then(|| hex(&span.parent_span_id)),
                    name: span.name.clone(),
                    attributes: Attributes::from_proto(&span.attributes),
                    resource: resource.clone(),
                    status_code: span.status.as_ref().map_or(0, |s| s.code),
                });
            }
        }
    }
    out
}

async fn handle(
    state: Arc<Mutex<State>>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let path = req.uri().path().to_owned();
    let authorization = header("authorization");
    let ingestion_version = header("x-langfuse-ingestion-version");
    let content_type = header("content-type");
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let mut state = lock(&state);
    let ingestion = path == INGESTION_PATH;
    let answer = if path != OTEL_TRACES_PATH && !ingestion {
        FakeResponse::status(404)
    } else {
        state
            .script
            .pop_front()
            .unwrap_or_else(|| FakeResponse::status(if ingestion { 207 } else { 200 }))
    };
    let json: Option<serde_json::Value> = if ingestion {
        serde_json::from_slice(&body).ok()
    } else {
        None
    };
    let reply = match (&json, (200..300).contains(&answer.status)) {
        (Some(json), true) => ingestion_answer(json, &answer.event_statuses),
        _ => b"{}".to_vec(),
    };
    state.requests.push(LangfuseRequest {
        path,
        authorization,
        ingestion_version,
        content_type,
        body_len: body.len(),
        status: answer.status,
        spans: if ingestion { Vec::new() } else { decode(&body) },
        json,
        at: Instant::now(),
    });
    drop(state);
    let mut response = Response::new(Full::new(Bytes::from(reply)));
    *response.status_mut() = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    if let Some(retry_after) = answer.retry_after
        && let Ok(value) = retry_after.parse()
    {
        response.headers_mut().insert("retry-after", value);
    }
    Ok(response)
}

/// A 207 body: `{"successes": [{id, status}], "errors": [{id, status, message}]}`.
fn ingestion_answer(body: &serde_json::Value, statuses: &[u16]) -> Vec<u8> {
    let mut successes = Vec::new();
    let mut errors = Vec::new();
    let events = body.get("batch").and_then(|b| b.as_array());
    for (i, event) in events.into_iter().flatten().enumerate() {
        let id = event.get("id").cloned().unwrap_or_default();
        let status = statuses.get(i).copied().unwrap_or(201);
        if (200..300).contains(&status) {
            successes.push(serde_json::json!({ "id": id, "status": status }));
        } else {
            errors.push(serde_json::json!({
                "id": id,
                "status": status,
                "message": format!("scripted failure {status}"),
            }));
        }
    }
    serde_json::json!({ "successes": successes, "errors": errors })
        .to_string()
        .into_bytes()
}

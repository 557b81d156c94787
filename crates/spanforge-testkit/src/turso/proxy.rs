//! [`TursoProxy`]: a recording, fault-injecting HTTP proxy in front of a Hrana server.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// A failure the proxy produces instead of (or on the way to) the server's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TursoFault {
    /// Answer with this status and body without forwarding (a `Retry-After` in seconds when
    /// set).
    Status {
        /// The HTTP status.
        status: u16,
        /// The body, sent as `application/json` when it parses as JSON, else `text/plain`.
        body: String,
        /// `Retry-After`, in seconds.
        retry_after: Option<u64>,
    },
    /// Close the connection without answering (nothing is forwarded).
    DropConnection,
    /// Forward after this delay.
    Delay(Duration),
    /// Answer 200 with this body without forwarding (a server that does not speak Hrana).
    Body(String),
}

impl TursoFault {
    /// `503 Service Unavailable`, as a Turso edge answers when the database is unavailable.
    pub fn unavailable() -> TursoFault {
        TursoFault::Status {
            status: 503,
            body: r#"{"error":"service unavailable"}"#.to_owned(),
            retry_after: None,
        }
    }

    /// `429 Too Many Requests` with `Retry-After`.
    pub fn throttled(retry_after_secs: u64) -> TursoFault {
        TursoFault::Status {
            status: 429,
            body: r#"{"error":"rate limit exceeded"}"#.to_owned(),
            retry_after: Some(retry_after_secs),
        }
    }
}

/// One request the proxy received and what it answered.
#[derive(Debug, Clone)]
pub struct HranaExchange {
    /// Request path (`/v2/pipeline`).
    pub path: String,
    /// The `Authorization` header as received.
    pub authorization: Option<String>,
    /// The request body as JSON (`None` when it was not JSON).
    pub request: Option<serde_json::Value>,
    /// The status answered (0 when the connection was dropped).
    pub status: u16,
    /// The answer as JSON (`None` when it was not JSON or there was none).
    pub response: Option<serde_json::Value>,
    /// The fault applied, if any.
    pub fault: Option<TursoFault>,
    /// Sum of `rows_read` over the statement results of the answer.
    pub rows_read: u64,
    /// Sum of `rows_written` over the statement results of the answer.
    pub rows_written: u64,
}

impl HranaExchange {
    /// The SQL texts of the request's statements, in order (executes, batch steps,
    /// sequences).
    pub fn statements(&self) -> Vec<String> {
        let mut out = Vec::new();
        let Some(requests) = self
            .request
            .as_ref()
            .and_then(|r| r.get("requests"))
            .and_then(|r| r.as_array())
        else {
            return out;
        };
        for request in requests {
            if let Some(sql) = request.pointer("/stmt/sql").and_then(|s| s.as_str()) {
                out.push(sql.to_owned());
            }
            if let Some(sql) = request.get("sql").and_then(|s| s.as_str()) {
                out.push(sql.to_owned());
            }
            if let Some(steps) = request.pointer("/batch/steps").and_then(|s| s.as_array()) {
                for step in steps {
                    if let Some(sql) = step.pointer("/stmt/sql").and_then(|s| s.as_str()) {
                        out.push(sql.to_owned());
                    }
                }
            }
        }
        out
    }
}

#[derive(Debug, Default)]
struct State {
    queued: VecDeque<TursoFault>,
    standing: Option<TursoFault>,
    exchanges: Vec<HranaExchange>,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

/// An HTTP/1.1 proxy on loopback in front of a Hrana-over-HTTP server (a [`Sqld`](super::Sqld)):
/// it forwards requests unchanged, records each exchange with the `rows_read` /
/// `rows_written` the server reported, and fails on command ([`TursoFault`]).
///
/// It runs on a thread and runtime of its own, so it outlives the tests' runtimes.
#[derive(Debug, Clone)]
pub struct TursoProxy {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl TursoProxy {
    /// Start a proxy to `upstream` (`127.0.0.1:8080`) on an ephemeral loopback port.
    ///
    /// # Errors
    ///
    /// The listener cannot be bound, or the thread cannot be started.
    pub fn start(upstream: SocketAddr) -> std::io::Result<TursoProxy> {
        let state = Arc::new(Mutex::new(State::default()));
        let server_state = state.clone();
        let addr = crate::http1_thread::spawn("turso-proxy", move |req| {
            handle(server_state.clone(), upstream, req)
        })?;
        Ok(TursoProxy { addr, state })
    }

    /// `http://127.0.0.1:<port>`: the database URL to give the client.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Apply these faults to the next requests, one each.
    pub fn queue_faults(&self, faults: impl IntoIterator<Item = TursoFault>) {
        lock(&self.state).queued.extend(faults);
    }

    /// Apply `fault` to every request (after the queued ones) until it is set to `None`.
    pub fn set_fault(&self, fault: Option<TursoFault>) {
        lock(&self.state).standing = fault;
    }

    /// Every exchange so far.
    pub fn exchanges(&self) -> Vec<HranaExchange> {
        lock(&self.state).exchanges.clone()
    }

    /// Sum of `rows_read` the server reported over all exchanges.
    pub fn rows_read(&self) -> u64 {
        lock(&self.state)
            .exchanges
            .iter()
            .map(|e| e.rows_read)
            .sum()
    }

    /// Sum of `rows_written` the server reported over all exchanges.
    pub fn rows_written(&self) -> u64 {
        lock(&self.state)
            .exchanges
            .iter()
            .map(|e| e.rows_written)
            .sum()
    }
}

type Answer = Response<Full<Bytes>>;

fn respond(status: u16, body: String, retry_after: Option<u64>) -> Answer {
    let json = serde_json::from_str::<serde_json::Value>(&body).is_ok();
    let mut builder = Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header(
            "content-type",
            if json {
                "application/json"
            } else {
                "text/plain"
            },
        );
    if let Some(secs) = retry_after {
        builder = builder.header("retry-after", secs.to_string());
    }
    builder
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

/// Sum `rows_read` / `rows_written` over every statement result of a pipeline answer.
fn rows(answer: &serde_json::Value) -> (u64, u64) {
    let (mut read, mut written) = (0, 0);
    let mut add = |result: &serde_json::Value| {
        read += result
            .get("rows_read")
            .and_then(|v| v.as_u64())
            .unwrap_or(0);
        written += result
            .get("rows_written")
            .and_then(|v| v.as_u64())
            .unwrap_or(0);
    };
    for result in answer
        .get("results")
        .and_then(|r| r.as_array())
        .into_iter()
        .flatten()
    {
        let Some(response) = result.get("response") else {
            continue;
        };
        match response.get("type").and_then(|t| t.as_str()) {
            Some("execute") => {
                if let Some(r) = response.get("result") {
                    add(r);
                }
            }
            Some("batch") => {
                for r in response
                    .pointer("/result/step_results")
                    .and_then(|r| r.as_array())
                    .into_iter()
                    .flatten()
                {
                    if !r.is_null() {
                        add(r);
                    }
                }
            }
            _ => {}
        }
    }
    (read, written)
}

async fn handle(
    state: Arc<Mutex<State>>,
    upstream: SocketAddr,
    req: Request<Incoming>,
) -> Result<Answer, std::io::Error> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let fault = {
        let mut state = lock(&state);
        state.queued.pop_front().or_else(|| state.standing.clone())
    };
    let mut exchange = HranaExchange {
        path: parts.uri.path().to_owned(),
        authorization: parts
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        request: serde_json::from_slice(&body).ok(),
        status: 0,
        response: None,
        fault: fault.clone(),
        rows_read: 0,
        rows_written: 0,
    };
    let record = |exchange: HranaExchange| lock(&state).exchanges.push(exchange);
    match fault {
        Some(TursoFault::Status {
            status,
            body,
            retry_after,
        }) => {
            exchange.status = status;
            exchange.response = serde_json::from_str(&body).ok();
            record(exchange);
            return Ok(respond(status, body, retry_after));
        }
        Some(TursoFault::Body(body)) => {
            exchange.status = 200;
            exchange.response = serde_json::from_str(&body).ok();
            record(exchange);
            return Ok(respond(200, body, None));
        }
        Some(TursoFault::DropConnection) => {
            record(exchange);
            // An error from the service makes hyper close the connection unanswered.
            return Err(std::io::Error::other("fault: connection dropped"));
        }
        Some(TursoFault::Delay(delay)) => tokio::time::sleep(delay).await,
        None => {}
    }
    match forward(upstream, &parts, body).await {
        Ok((status, answer)) => {
            exchange.status = status;
            exchange.response = serde_json::from_slice(&answer).ok();
            if let Some(json) = &exchange.response {
                (exchange.rows_read, exchange.rows_written) = rows(json);
            }
            let content_type = if exchange.response.is_some() {
                "application/json"
            } else {
                "text/plain"
            };
            record(exchange);
            Ok(Response::builder()
                .status(status)
                .header("content-type", content_type)
                .body(Full::new(answer))
                .unwrap_or_else(|_| Response::new(Full::new(Bytes::new()))))
        }
        Err(e) => {
            exchange.status = 502;
            record(exchange);
            Ok(respond(502, format!("proxy: upstream failed: {e}"), None))
        }
    }
}

/// Send the request to the upstream server on a new connection; its status and body.
async fn forward(
    upstream: SocketAddr,
    parts: &http::request::Parts,
    body: Bytes,
) -> Result<(u16, Bytes), Box<dyn std::error::Error + Send + Sync>> {
    let stream = TcpStream::connect(upstream).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let mut request = Request::builder()
        .method(parts.method.clone())
        .uri(
            parts
                .uri
                .path_and_query()
                .map_or("/", |p| p.as_str())
                .to_owned(),
        )
        .header("host", upstream.to_string());
    for (name, value) in &parts.headers {
        if name != "host" && name != "connection" {
            request = request.header(name, value);
        }
    }
    let response = sender.send_request(request.body(Full::new(body))?).await?;
    let status = response.status().as_u16();
    let answer = response.into_body().collect().await?.to_bytes();
    Ok((status, answer))
}

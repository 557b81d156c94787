//! The fake LLM server: routes, the script, the request log.

use std::collections::VecDeque;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::response::Response;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use super::answer::{Answer, Api};
use super::script::{Fault, Reply};
use super::{anthropic, openai};

/// The fake LLM could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The listener could not be bound.
    #[error("cannot bind the fake LLM to {addr}: {source}")]
    Bind {
        /// The address it tried.
        addr: SocketAddr,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// `start()` was awaited outside a Tokio runtime.
    #[error("the fake LLM must be started inside a Tokio runtime")]
    NoRuntime,
}

/// A request the fake LLM received.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LlmRequest {
    /// Which API it was sent to.
    pub api: Api,
    /// The request path (`/v1/chat/completions`).
    pub path: String,
    /// The query string, if any (`api-version=2024-10-21`).
    pub query: Option<String>,
    /// The headers, as sent.
    pub headers: HeaderMap,
    /// The JSON body.
    pub body: Value,
}

impl LlmRequest {
    /// A header's value, if it is present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Whether the request asked for a stream.
    pub fn is_stream(&self) -> bool {
        self.body.get("stream").and_then(Value::as_bool) == Some(true)
    }

    /// The requested model.
    pub fn model(&self) -> Option<&str> {
        self.body.get("model").and_then(Value::as_str)
    }
}

#[derive(Debug)]
struct Shared {
    queue: Mutex<VecDeque<Reply>>,
    default: Mutex<Reply>,
    requests: Mutex<Vec<LlmRequest>>,
    counter: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A fake LLM provider on loopback, speaking OpenAI's Chat Completions and Embeddings and
/// Anthropic's Messages API, plain JSON and SSE streams, with scripted answers and faults.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use spanforge_testkit::llm::{FakeLlm, Reply};
///
/// let llm = FakeLlm::start().await?;
/// llm.push(Reply::text("Hello, Ada!").with_usage(12, 4));
/// // Point the client at it: OPENAI_BASE_URL = llm.openai_base_url(),
/// // ANTHROPIC_BASE_URL = llm.anthropic_base_url().
/// let body = reqwest::Client::new()
///     .post(format!("{}/chat/completions", llm.openai_base_url()))
///     .body(r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#)
///     .send()
///     .await?
///     .bytes()
///     .await?;
/// let answer: serde_json::Value = serde_json::from_slice(&body)?;
/// assert_eq!(answer["choices"][0]["message"]["content"], "Hello, Ada!");
/// assert_eq!(answer["usage"]["prompt_tokens"], 12);
/// assert_eq!(llm.requests()[0].model(), Some("gpt-4o-mini"));
/// # Ok(()) }
/// ```
///
/// Requests take the next queued [`Reply`] ([`push`](FakeLlm::push)), or the default one
/// ([`set_default`](FakeLlm::set_default); initially [`Reply::echo`]). The listener runs on
/// the Tokio runtime that started it; dropping the `FakeLlm` stops it.
#[derive(Debug)]
pub struct FakeLlm {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Drop for FakeLlm {
    fn drop(&mut self) {
        self.stop.send_replace(true);
        self.task.abort();
    }
}

impl FakeLlm {
    /// Starts on `127.0.0.1` and a free port.
    ///
    /// # Errors
    ///
    /// [`StartError`] if no port can be bound or there is no Tokio runtime.
    pub async fn start() -> Result<FakeLlm, StartError> {
        FakeLlm::start_on(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0)).await
    }

    /// Starts on `addr` (port 0: a free port).
    ///
    /// # Errors
    ///
    /// [`StartError`] if `addr` cannot be bound or there is no Tokio runtime.
    pub async fn start_on(addr: SocketAddr) -> Result<FakeLlm, StartError> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(StartError::NoRuntime);
        }
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| StartError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| StartError::Bind { addr, source })?;
        let shared = Arc::new(Shared {
            queue: Mutex::new(VecDeque::new()),
            default: Mutex::new(Reply::echo()),
            requests: Mutex::new(Vec::new()),
            counter: AtomicU64::new(0),
        });
        let router = Router::new().fallback(handle).with_state(shared.clone());
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, router, stop_rx));
        Ok(FakeLlm {
            shared,
            addr,
            stop,
            task,
        })
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>/v1`: the `OPENAI_BASE_URL` of this server.
    pub fn openai_base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// `http://127.0.0.1:<port>`: the `ANTHROPIC_BASE_URL` of this server.
    pub fn anthropic_base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Queues a reply for the next request.
    pub fn push(&self, reply: Reply) {
        lock(&self.shared.queue).push_back(reply);
    }

    /// Queues replies for the next requests, in order.
    pub fn push_all(&self, replies: impl IntoIterator<Item = Reply>) {
        lock(&self.shared.queue).extend(replies);
    }

    /// The reply for requests when the queue is empty.
    pub fn set_default(&self, reply: Reply) {
        *lock(&self.shared.default) = reply;
    }

    /// Every request received, oldest first.
    pub fn requests(&self) -> Vec<LlmRequest> {
        lock(&self.shared.requests).clone()
    }

    /// The last request received.
    pub fn last_request(&self) -> Option<LlmRequest> {
        lock(&self.shared.requests).last().cloned()
    }

    /// Forgets the requests received and the queued replies.
    pub fn clear(&self) {
        lock(&self.shared.requests).clear();
        lock(&self.shared.queue).clear();
    }
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn api_of(path: &str) -> Option<Api> {
    if path.ends_with("/chat/completions") {
        Some(Api::OpenAiChat)
    } else if path.ends_with("/embeddings") {
        Some(Api::OpenAiEmbeddings)
    } else if path.ends_with("/messages") {
        Some(Api::AnthropicMessages)
    } else {
        None
    }
}

fn error_body(api: Api, status: u16) -> Value {
    match api {
        Api::AnthropicMessages => anthropic::error_json(status),
        _ => openai::error_json(status),
    }
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    let Some(api) = api_of(&path) else {
        let message = format!(
            "no fake LLM endpoint at {path}; use …/chat/completions, …/embeddings or /v1/messages"
        );
        return json_response(
            StatusCode::NOT_FOUND,
            &serde_json::json!({"error": {"message": message, "type": "invalid_request_error"}}),
        );
    };
    if parts.method != Method::POST {
        return json_response(StatusCode::METHOD_NOT_ALLOWED, &error_body(api, 405));
    }
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024 * 1024).await else {
        return json_response(StatusCode::BAD_REQUEST, &error_body(api, 400));
    };
    let Ok(body) = serde_json::from_slice::<Value>(&bytes) else {
        return json_response(StatusCode::BAD_REQUEST, &error_body(api, 400));
    };
    let request = LlmRequest {
        api,
        path,
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body,
    };
    lock(&shared.requests).push(request.clone());
    let reply = lock(&shared.queue)
        .pop_front()
        .unwrap_or_else(|| lock(&shared.default).clone());
    let n = shared.counter.fetch_add(1, Ordering::Relaxed) + 1;
    answer(&reply, &request, n).await
}

async fn answer(reply: &Reply, request: &LlmRequest, n: u64) -> Response {
    let api = request.api;
    match reply.fault {
        Some(Fault::RateLimited { retry_after }) => {
            let mut response = json_response(StatusCode::TOO_MANY_REQUESTS, &error_body(api, 429));
            if let Some(after) = retry_after {
                let secs = after.as_secs() + u64::from(after.subsec_nanos() > 0);
                response
                    .headers_mut()
                    .insert(RETRY_AFTER, HeaderValue::from(secs));
            }
            return response;
        }
        Some(Fault::Status { status }) => {
            let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return json_response(code, &error_body(api, code.as_u16()));
        }
        _ => {}
    }
    let answer = Answer::resolve(reply, api, &request.body, n);
    if request.is_stream() && api != Api::OpenAiEmbeddings {
        let mut events = match api {
            Api::AnthropicMessages => anthropic::message_events(&answer),
            _ => {
                let include_usage = request
                    .body
                    .pointer("/stream_options/include_usage")
                    .and_then(Value::as_bool)
                    == Some(true);
                openai::chat_events(&answer, include_usage)
            }
        };
        let mut cut = false;
        match reply.fault {
            Some(Fault::CutStream { after_events }) => {
                events.truncate(after_events);
                cut = true;
            }
            Some(Fault::EndStreamEarly { after_events }) => events.truncate(after_events),
            Some(Fault::MalformedEvent { after_events }) => {
                events.truncate(after_events);
                events.push("data: {\"choices\": [not json\n\n".to_owned());
            }
            _ => {}
        }
        let mut response = Response::new(sse_body(
            events,
            reply.first_chunk_delay,
            reply.chunk_delay,
            cut,
        ));
        let headers = response.headers_mut();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream; charset=utf-8"),
        );
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        return response;
    }
    tokio::time::sleep(reply.first_chunk_delay).await;
    let body = match api {
        Api::OpenAiChat => openai::chat_json(&answer),
        Api::OpenAiEmbeddings => {
            let inputs = match request.body.get("input") {
                Some(Value::Array(items)) => items.len(),
                _ => 1,
            };
            openai::embeddings_json(&answer, inputs)
        }
        Api::AnthropicMessages => anthropic::message_json(&answer),
    };
    let text = body.to_string();
    match reply.fault {
        Some(Fault::CutStream { .. }) => {
            Response::new(sse_body(Vec::new(), Duration::ZERO, Duration::ZERO, true))
        }
        Some(Fault::EndStreamEarly { .. }) => {
            let half = &text[..text.len() / 2];
            let mut response = json_response(StatusCode::OK, &Value::Null);
            *response.body_mut() = Body::from(half.to_owned());
            response
        }
        Some(Fault::MalformedEvent { .. }) => {
            let mut response = json_response(StatusCode::OK, &Value::Null);
            *response.body_mut() = Body::from("this is not JSON");
            response
        }
        _ => json_response(StatusCode::OK, &body),
    }
}

/// An SSE body sending `events` with the delays, then ending cleanly or cutting the
/// connection.
fn sse_body(events: Vec<String>, first_delay: Duration, delay: Duration, cut: bool) -> Body {
    let state = Some((events.into_iter(), true));
    let stream = futures_util::stream::unfold(state, move |state| async move {
        let (mut events, first) = state?;
        match events.next() {
            Some(event) => {
                let wait = if first { first_delay } else { delay };
                if !wait.is_zero() {
                    tokio::time::sleep(wait).await;
                }
                Some((Ok(Bytes::from(event)), Some((events, false))))
            }
            None if cut => {
                // Let the connection flush what was sent: an error before that would abort
                // the response before its headers.
                tokio::time::sleep(Duration::from_millis(50)).await;
                Some((
                    Err(io::Error::new(
                        io::ErrorKind::ConnectionAborted,
                        "stream cut by the fake LLM",
                    )),
                    None,
                ))
            }
            None => None,
        }
    });
    Body::from_stream(stream)
}

async fn accept_loop(listener: TcpListener, router: Router, mut stop: watch::Receiver<bool>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            () = until_true(&mut stop) => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    let service = TowerToHyperService::new(router.clone());
                    connections.spawn(async move {
                        let builder = auto::Builder::new(TokioExecutor::new());
                        let _ = builder.serve_connection(TokioIo::new(stream), service).await;
                    });
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    connections.shutdown().await;
}

/// Waits until the flag is set (or its sender is gone).
async fn until_true(flag: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns is not `Send`: drop it here, not inside `select!`.
    let _ = flag.wait_for(|set| *set).await;
}

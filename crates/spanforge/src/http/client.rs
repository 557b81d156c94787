//! The reqwest client middleware: one CLIENT span per request, context propagated.

use std::sync::OnceLock;
use std::time::Instant;

use opentelemetry::global::{self, BoxedTracer};
use opentelemetry::trace::{SpanKind, Status, TraceContextExt, Tracer};
use opentelemetry::{Context, InstrumentationScope, KeyValue};
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware, Middleware, Next};

use super::attributes::*;
use super::metrics;
use super::redact::redact_url;

/// Wrap a reqwest client so every request it sends is traced and carries `traceparent`.
///
/// ```no_run
/// # #[cfg(feature = "reqwest")]
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let client = spanforge::http::client(reqwest::Client::new());
/// let body = client.get("https://api.example.com/v1/models").send().await?.text().await?;
/// # Ok(()) }
/// ```
pub fn client(client: reqwest::Client) -> ClientWithMiddleware {
    ClientBuilder::new(client)
        .with(ClientMiddleware::default())
        .build()
}

/// The middleware behind [`client`], for composing with other reqwest-middleware layers.
///
/// Put it *after* a retry middleware so each attempt is its own span; attempts after the
/// first carry `http.request.resend_count`.
///
/// Each span is named by the method (`GET`), of kind CLIENT, with `http.request.method`,
/// `url.full` (credentials and secret query values redacted), `server.address`,
/// `server.port`, `http.response.status_code`, `network.protocol.version`, and
/// `error.type` — the status code for 4xx and 5xx responses, or `timeout`, `connect`,
/// `request`, `body`, `redirect` or `_OTHER` for transport failures.
#[derive(Debug, Default, Clone, Copy)]
pub struct ClientMiddleware {
    _private: (),
}

/// How many times a request has been sent through this middleware, shared across retries
/// through the request's extensions.
#[derive(Debug, Clone, Copy)]
struct Attempts(u32);

fn tracer() -> &'static BoxedTracer {
    static TRACER: OnceLock<BoxedTracer> = OnceLock::new();
    TRACER.get_or_init(|| {
        global::tracer_with_scope(
            InstrumentationScope::builder("spanforge.http.client")
                .with_version(env!("CARGO_PKG_VERSION"))
                .build(),
        )
    })
}

/// `error.type` for a transport failure.
fn transport_error_type(error: &reqwest::Error) -> &'static str {
    if error.is_timeout() {
        "timeout"
    } else if error.is_connect() {
        "connect"
    } else if error.is_body() || error.is_decode() {
        "body"
    } else if error.is_redirect() {
        "redirect"
    } else if error.is_request() {
        "request"
    } else {
        "_OTHER"
    }
}

#[async_trait::async_trait]
impl Middleware for ClientMiddleware {
    async fn handle(
        &self,
        mut req: reqwest::Request,
        extensions: &mut http::Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        let started = Instant::now();
        let attempt = extensions.get::<Attempts>().map_or(0, |a| a.0);
        extensions.insert(Attempts(attempt + 1));

        let method = known_method(req.method());
        let name = method.unwrap_or("HTTP");
        let url = req.url();
        let mut attrs = Vec::with_capacity(8);
        attrs.push(KeyValue::new(
            HTTP_REQUEST_METHOD,
            method.unwrap_or("_OTHER"),
        ));
        if method.is_none() {
            attrs.push(KeyValue::new(
                HTTP_REQUEST_METHOD_ORIGINAL,
                req.method().as_str().to_owned(),
            ));
        }
        attrs.push(KeyValue::new(
            URL_FULL,
            redact_url(url.as_str()).into_owned(),
        ));
        let address = url.host_str().map(str::to_owned);
        let port = url.port_or_known_default().map(i64::from);
        if let Some(address) = &address {
            attrs.push(KeyValue::new(SERVER_ADDRESS, address.clone()));
        }
        if let Some(port) = port {
            attrs.push(KeyValue::new(SERVER_PORT, port));
        }
        if attempt > 0 {
            attrs.push(KeyValue::new(HTTP_REQUEST_RESEND_COUNT, i64::from(attempt)));
        }
        let parent = Context::current();
        let span = tracer()
            .span_builder(name)
            .with_kind(SpanKind::Client)
            .with_attributes(attrs)
            .start_with_context(tracer(), &parent);
        let cx = parent.with_span(span);
        crate::propagation::inject(&cx, req.headers_mut());

        let mut metric_attrs = Vec::with_capacity(6);
        metric_attrs.push(KeyValue::new(
            HTTP_REQUEST_METHOD,
            method.unwrap_or("_OTHER"),
        ));
        if let Some(address) = address {
            metric_attrs.push(KeyValue::new(SERVER_ADDRESS, address));
        }
        if let Some(port) = port {
            metric_attrs.push(KeyValue::new(SERVER_PORT, port));
        }

        let result = next.run(req, extensions).await;
        let span = cx.span();
        match &result {
            Ok(response) => {
                let status = response.status().as_u16();
                span.set_attribute(KeyValue::new(HTTP_RESPONSE_STATUS_CODE, i64::from(status)));
                span.set_attribute(KeyValue::new(
                    NETWORK_PROTOCOL_VERSION,
                    protocol_version(response.version()),
                ));
                metric_attrs.push(KeyValue::new(HTTP_RESPONSE_STATUS_CODE, i64::from(status)));
                if status >= 400 {
                    let error = status_str(status);
                    span.set_attribute(KeyValue::new(ERROR_TYPE, error.clone()));
                    span.set_status(Status::error(String::new()));
                    metric_attrs.push(KeyValue::new(ERROR_TYPE, error));
                }
            }
            Err(error) => {
                let error_type = match error {
                    reqwest_middleware::Error::Reqwest(e) => transport_error_type(e),
                    reqwest_middleware::Error::Middleware(_) => "_OTHER",
                };
                span.set_attribute(KeyValue::new(ERROR_TYPE, error_type));
                // reqwest's message may contain the URL, which may contain secrets.
                let message = match error {
                    reqwest_middleware::Error::Reqwest(e) => {
                        let text = e.to_string();
                        match e.url() {
                            Some(url) => text.replace(url.as_str(), &redact_url(url.as_str())),
                            None => text,
                        }
                    }
                    reqwest_middleware::Error::Middleware(e) => e.to_string(),
                };
                span.set_status(Status::error(message));
                metric_attrs.push(KeyValue::new(ERROR_TYPE, error_type));
            }
        }
        span.end();
        metrics::client()
            .duration
            .record(started.elapsed().as_secs_f64(), &metric_attrs);
        result
    }
}

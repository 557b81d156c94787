//! [`ResponseFuture`]: records the status, then hands the span to the response body.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use futures_util::FutureExt as _;
use opentelemetry::trace::{Status, TraceContextExt, WithContext};
use opentelemetry::{KeyValue, Value};
use pin_project_lite::pin_project;

use super::body::ResponseBody;
use super::layer::Settings;
use super::request::RequestFacts;
use crate::http::attributes::*;
use crate::http::metrics;

/// Everything needed to finish the span and the measurement once the body is done.
pub(crate) struct Finish {
    pub(crate) cx: opentelemetry::Context,
    pub(crate) started: Instant,
    pub(crate) facts: RequestFacts,
    pub(crate) active_attrs: [KeyValue; 2],
    pub(crate) settings: Arc<Settings>,
}

/// The span's end, carried by the response body.
pub(crate) struct Pending {
    pub(crate) cx: opentelemetry::Context,
    pub(crate) started: Instant,
    pub(crate) metric_attrs: Vec<KeyValue>,
    pub(crate) active_attrs: [KeyValue; 2],
    pub(crate) body_bytes: u64,
    pub(crate) empty_body: bool,
}

impl Pending {
    /// End the span and record the duration. Called once: at end of stream or on drop.
    pub(crate) fn finish(self, completed: bool) {
        let span = self.cx.span();
        if completed {
            span.set_attribute(KeyValue::new(
                HTTP_RESPONSE_BODY_SIZE,
                self.body_bytes as i64,
            ));
        }
        span.end();
        let instruments = metrics::server();
        instruments
            .duration
            .record(self.started.elapsed().as_secs_f64(), &self.metric_attrs);
        instruments.active.add(-1, &self.active_attrs);
    }
}

pin_project! {
    /// The future returned by [`ServerService`](super::ServerService).
    pub struct ResponseFuture<F> {
        #[pin]
        inner: futures_util::future::CatchUnwind<AssertUnwindSafe<WithContext<F>>>,
        finish: Option<Finish>,
    }
}

pin_project! {
    #[project = UntracedProj]
    struct Untraced<F> { #[pin] inner: F }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn traced(inner: WithContext<F>, finish: Finish) -> Self
    where
        F: Future,
    {
        ResponseFuture {
            inner: AssertUnwindSafe(inner).catch_unwind(),
            finish: Some(finish),
        }
    }

    pub(crate) fn untraced(inner: F) -> Self
    where
        F: Future,
    {
        use opentelemetry::trace::FutureExt as _;
        // An empty context: attaching it is cheap and keeps one future type.
        ResponseFuture {
            inner: AssertUnwindSafe(inner.with_context(opentelemetry::Context::new()))
                .catch_unwind(),
            finish: None,
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<http::Response<B>, E>>,
    B: http_body::Body,
{
    type Output = Result<http::Response<ResponseBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let outcome = match this.inner.poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(outcome) => outcome,
        };
        let Some(finish) = this.finish.take() else {
            return Poll::Ready(match outcome {
                Ok(result) => result.map(|res| res.map(ResponseBody::untraced)),
                Err(panic) => std::panic::resume_unwind(panic),
            });
        };
        match outcome {
            Ok(Ok(mut response)) => {
                let status = response.status().as_u16();
                let span = finish.cx.span();
                span.set_attribute(KeyValue::new(HTTP_RESPONSE_STATUS_CODE, i64::from(status)));
                let mut metric_attrs = base_metric_attrs(&finish.facts);
                metric_attrs.push(KeyValue::new(HTTP_RESPONSE_STATUS_CODE, i64::from(status)));
                if status >= 500 {
                    let error = status_str(status);
                    span.set_attribute(KeyValue::new(ERROR_TYPE, error.clone()));
                    span.set_status(Status::error(String::new()));
                    metric_attrs.push(KeyValue::new(ERROR_TYPE, error));
                }
                for (header, key) in &finish.settings.response_headers {
                    let values: Vec<opentelemetry::StringValue> = response
                        .headers()
                        .get_all(header)
                        .iter()
                        .filter_map(|v| v.to_str().ok())
                        .map(|v| v.to_owned().into())
                        .collect();
                    if !values.is_empty() {
                        span.set_attribute(KeyValue::new(key.clone(), Value::Array(values.into())));
                    }
                }
                if let Some(header) = &finish.settings.trace_id_header {
                    let trace_id = span.span_context().trace_id().to_string();
                    if let Ok(value) = http::HeaderValue::from_str(&trace_id) {
                        response.headers_mut().insert(header.clone(), value);
                    }
                }
                let pending = Pending {
                    cx: finish.cx,
                    started: finish.started,
                    metric_attrs,
                    active_attrs: finish.active_attrs,
                    body_bytes: 0,
                    empty_body: false,
                };
                Poll::Ready(Ok(response.map(|body| ResponseBody::traced(body, pending))))
            }
            Ok(Err(error)) => {
                // The service failed without a response (the server will drop the connection).
                let span = finish.cx.span();
                span.set_attribute(KeyValue::new(ERROR_TYPE, "_OTHER"));
                span.set_status(Status::error("the service returned an error"));
                let mut metric_attrs = base_metric_attrs(&finish.facts);
                metric_attrs.push(KeyValue::new(ERROR_TYPE, "_OTHER"));
                Pending {
                    cx: finish.cx,
                    started: finish.started,
                    metric_attrs,
                    active_attrs: finish.active_attrs,
                    body_bytes: 0,
                    empty_body: false,
                }
                .finish(false);
                Poll::Ready(Err(error))
            }
            Err(panic) => {
                let message = panic_message(&panic);
                let span = finish.cx.span();
                span.add_event(
                    "exception",
                    vec![
                        KeyValue::new("exception.type", "panic"),
                        KeyValue::new("exception.message", message.clone()),
                    ],
                );
                span.set_attribute(KeyValue::new(ERROR_TYPE, "panic"));
                span.set_status(Status::error(format!("handler panicked: {message}")));
                let mut metric_attrs = base_metric_attrs(&finish.facts);
                metric_attrs.push(KeyValue::new(ERROR_TYPE, "panic"));
                Pending {
                    cx: finish.cx,
                    started: finish.started,
                    metric_attrs,
                    active_attrs: finish.active_attrs,
                    body_bytes: 0,
                    empty_body: false,
                }
                .finish(false);
                // Instrumentation records the panic; what happens next is the server's business.
                std::panic::resume_unwind(panic)
            }
        }
    }
}

fn base_metric_attrs(facts: &RequestFacts) -> Vec<KeyValue> {
    let mut attrs = Vec::with_capacity(6);
    attrs.push(KeyValue::new(HTTP_REQUEST_METHOD, facts.method.clone()));
    if let Some(route) = &facts.route {
        attrs.push(KeyValue::new(HTTP_ROUTE, Value::String(route.clone())));
    }
    attrs.push(KeyValue::new(URL_SCHEME, facts.scheme));
    attrs.push(KeyValue::new(NETWORK_PROTOCOL_VERSION, facts.protocol));
    attrs
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_owned()
    }
}

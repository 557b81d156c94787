//! [`ServerService`]: the middleware itself.

use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Instant;

use opentelemetry::global::{self, BoxedTracer};
use opentelemetry::trace::{FutureExt as _, SpanKind, TraceContextExt as _, Tracer};
use opentelemetry::{InstrumentationScope, KeyValue};

use super::future::{Finish, ResponseFuture};
use super::layer::Settings;
use super::request::describe;
use crate::http::metrics;

/// The service produced by [`ServerLayer`](super::ServerLayer).
#[derive(Debug, Clone)]
pub struct ServerService<S> {
    inner: S,
    settings: Arc<Settings>,
}

impl<S> ServerService<S> {
    pub(crate) fn new(inner: S, settings: Arc<Settings>) -> Self {
        ServerService { inner, settings }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwrap the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

/// The tracer, taken from the global provider on first use (so the layer can be built
/// before `init`).
pub(crate) fn tracer() -> &'static BoxedTracer {
    static TRACER: OnceLock<BoxedTracer> = OnceLock::new();
    TRACER.get_or_init(|| {
        global::tracer_with_scope(
            InstrumentationScope::builder("spanforge.http.server")
                .with_version(env!("CARGO_PKG_VERSION"))
                .build(),
        )
    })
}

impl<S, ReqBody, ResBody> tower::Service<http::Request<ReqBody>> for ServerService<S>
where
    S: tower::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    ResBody: http_body::Body,
{
    type Response = http::Response<super::body::ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<ReqBody>) -> Self::Future {
        let path = req.uri().path();
        if self.settings.excluded_paths.iter().any(|p| p == path) {
            return ResponseFuture::untraced(self.inner.call(req));
        }
        let started = Instant::now();
        let route = req
            .extensions()
            .get::<axum::extract::MatchedPath>()
            .map(|m| m.as_str());
        let (name, mut attributes, facts) = describe(&req, route);
        for (header, key) in &self.settings.request_headers {
            let values: Vec<opentelemetry::StringValue> = req
                .headers()
                .get_all(header)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .map(|v| v.to_owned().into())
                .collect();
            if !values.is_empty() {
                attributes.push(KeyValue::new(
                    key.clone(),
                    opentelemetry::Value::Array(values.into()),
                ));
            }
        }
        let parent = crate::propagation::extract(req.headers());
        let span = tracer()
            .span_builder(name)
            .with_kind(SpanKind::Server)
            .with_attributes(attributes)
            .start_with_context(tracer(), &parent);
        let cx = parent.with_span(span);

        let instruments = metrics::server();
        let active_attrs = [
            KeyValue::new(
                crate::http::attributes::HTTP_REQUEST_METHOD,
                facts.method.clone(),
            ),
            KeyValue::new(crate::http::attributes::URL_SCHEME, facts.scheme),
        ];
        instruments.active.add(1, &active_attrs);

        let future = self.inner.call(req).with_context(cx.clone());
        ResponseFuture::traced(
            future,
            Finish {
                cx,
                started,
                facts,
                active_attrs,
                settings: self.settings.clone(),
            },
        )
    }
}

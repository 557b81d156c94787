//! Carrying trace context and baggage across process boundaries in HTTP headers.
//!
//! [`init`](crate::init) installs the W3C `traceparent`/`tracestate` and `baggage`
//! propagators globally (`OTEL_PROPAGATORS`); these helpers use whatever is installed.
//!
//! ```
//! use opentelemetry::Context;
//! let mut headers = http::HeaderMap::new();
//! spanforge::propagation::inject(&Context::current(), &mut headers);
//! let remote = spanforge::propagation::extract(&headers);
//! # drop(remote);
//! ```

use opentelemetry::Context;
use opentelemetry::global;
use opentelemetry::propagation::{TextMapCompositePropagator, TextMapPropagator};
use opentelemetry_http::{HeaderExtractor, HeaderInjector};
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};

use crate::config::Propagator;

/// Write the context's trace and baggage headers into `headers`.
pub fn inject(cx: &Context, headers: &mut http::HeaderMap) {
    global::get_text_map_propagator(|p| p.inject_context(cx, &mut HeaderInjector(headers)));
}

/// Read a remote parent context (and baggage) from `headers`. Without valid headers the
/// result is an empty context: spans started under it become roots.
pub fn extract(headers: &http::HeaderMap) -> Context {
    global::get_text_map_propagator(|p| p.extract(&HeaderExtractor(headers)))
}

pub(crate) fn install(propagators: &[Propagator]) {
    let parts: Vec<Box<dyn TextMapPropagator + Send + Sync>> = propagators
        .iter()
        .map(|p| -> Box<dyn TextMapPropagator + Send + Sync> {
            match p {
                Propagator::TraceContext => Box::new(TraceContextPropagator::new()),
                Propagator::Baggage => Box::new(BaggagePropagator::new()),
            }
        })
        .collect();
    global::set_text_map_propagator(TextMapCompositePropagator::new(parts));
}

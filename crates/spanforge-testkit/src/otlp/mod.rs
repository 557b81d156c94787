//! An OTLP receiver on loopback, for tests: the real OTLP/gRPC and OTLP/HTTP protocols
//! (protobuf and JSON, gzip), typed access to everything received, event-driven waiting,
//! and scriptable faults.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use spanforge_testkit::otlp::{Fault, OtlpReceiver, Signal};
//!
//! let receiver = OtlpReceiver::start().await?;
//! // Point the code under test at it:
//! //   OTEL_EXPORTER_OTLP_ENDPOINT = receiver.grpc_endpoint()   (grpc)
//! //   OTEL_EXPORTER_OTLP_ENDPOINT = receiver.http_endpoint()   (http/protobuf, http/json)
//! let traces_url = receiver.http_url(Signal::Traces);
//!
//! // Make the next export fail the way a throttling collector does.
//! receiver.queue_faults([Fault::throttled(Some(Duration::from_secs(1)))]);
//! # let _ = traces_url;
//! # Ok(()) }
//! ```
//!
//! # What is accepted
//!
//! | transport | paths | content types | compression |
//! |---|---|---|---|
//! | gRPC (h2c) | `TraceService/Export`, `MetricsService/Export`, `LogsService/Export` | protobuf | gzip |
//! | HTTP/1.1, h2c | `POST /v1/traces`, `/v1/metrics`, `/v1/logs` | `application/x-protobuf`, `application/json` | `Content-Encoding: gzip`, `deflate` |
//!
//! HTTP answers are those of the OTLP/HTTP specification: `200` with the
//! `Export*ServiceResponse` in the request's content type; `400` with a `google.rpc.Status`
//! body whose message gives the reason for an undecodable body (nothing is stored); `415`
//! for an unknown content type or content encoding; `404` for other paths; `405` for
//! methods other than POST. Span, trace and parent ids must have the lengths OTLP requires
//! (16 / 8 bytes; parents and log correlation ids may be empty), as the Collector requires.
//!
//! OTLP/JSON is parsed with opentelemetry-proto's serde support, widened to accept what the
//! OpenTelemetry Collector and other SDKs send (empty `arrayValue` / `kvlistValue` objects,
//! enum names, 32-bit integers as strings), and made strict where that support silently drops
//! data (a malformed metric data point is a `400`, not a metric without data). The decoding,
//! validation and answers are those of [`spanforge_otlp`], which `spanforge serve` uses too.
//!
//! # Reading what arrived
//!
//! [`OtlpReceiver::spans`], [`logs`](OtlpReceiver::logs) and
//! [`metrics`](OtlpReceiver::metrics) return flattened records with the resource and scope
//! folded in and ids as hex; the raw requests are kept too
//! ([`trace_requests`](OtlpReceiver::trace_requests), ...). The `wait_for_*` methods wake up
//! on each arrival (no polling) and fail with a [`WaitTimeout`] that says what did arrive.
//! [`requests`](OtlpReceiver::requests) is the log of every request with its headers and
//! the answer given.
//!
//! # Faults
//!
//! [`Fault`]s are applied per request: a standing fault ([`OtlpReceiver::set_fault`],
//! [`set_fault_for`](OtlpReceiver::set_fault_for) one signal) or a queue for the next
//! requests ([`queue_faults`](OtlpReceiver::queue_faults),
//! [`queue_faults_for`](OtlpReceiver::queue_faults_for)). [`OtlpReceiver::stop`] and
//! [`restart`](OtlpReceiver::restart) simulate a receiver that is down (connection refused)
//! and comes back on the same ports.

mod attributes;
mod error;
mod export;
mod fault;
mod grpc;
mod http;
mod model;
mod receiver;
mod requests;
mod server;
mod store;

pub use attributes::{AttrValue, Attributes};
pub use error::{StartError, WaitTimeout};
pub use fault::{Fault, GrpcCode, Signal};
pub use model::{
    DataPoint, Encoding, ExponentialHistogramPoint, HistogramPoint, MetricKind, PointValue,
    ReceivedLog, ReceivedMetric, ReceivedSpan, SpanEvent, SpanKind, SpanLink, StatusCode,
    SummaryPoint, Temporality, Transport,
};
pub use receiver::{OtlpReceiver, OtlpReceiverBuilder};
pub use requests::{Outcome, RequestLog, RequestRecord};

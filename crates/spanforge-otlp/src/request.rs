//! What the three export request types have in common, and their validation.

use std::fmt;

use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::metrics::v1 as pm;
use serde_json::Value;

use crate::decode::{DecodeError, check_metrics_json};
use crate::signal::Signal;

mod sealed {
    /// Keeps [`ExportRequest`](super::ExportRequest) to the three OTLP request types, so it
    /// can gain methods without breaking anyone.
    pub trait Sealed {}

    impl Sealed for super::ExportTraceServiceRequest {}
    impl Sealed for super::ExportMetricsServiceRequest {}
    impl Sealed for super::ExportLogsServiceRequest {}
}

/// One of the three OTLP export request types: [`ExportTraceServiceRequest`],
/// [`ExportMetricsServiceRequest`] and [`ExportLogsServiceRequest`] (from
/// `opentelemetry_proto::tonic::collector`).
///
/// It is what [`decode_protobuf`](crate::decode_protobuf) and
/// [`decode_json`](crate::decode_json) are generic over, so one handler serves all three
/// signals. This trait is sealed; add behaviour of your own (storing, say) with an extension
/// trait bounded on it.
///
/// ```
/// use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
/// use spanforge_otlp::{ExportRequest, Signal};
///
/// fn describe<T: ExportRequest>(request: &T) -> String {
///     format!("{} items of {} ({})", request.item_count(), T::SIGNAL, T::MESSAGE_NAME)
/// }
/// assert_eq!(
///     describe(&ExportLogsServiceRequest::default()),
///     "0 items of logs (ExportLogsServiceRequest)"
/// );
/// assert_eq!(ExportLogsServiceRequest::SIGNAL, Signal::Logs);
/// ```
pub trait ExportRequest:
    prost::Message + serde::de::DeserializeOwned + Default + Sized + 'static + sealed::Sealed
{
    /// The matching `Export*ServiceResponse`.
    type Response: prost::Message + serde::Serialize + Default + 'static;

    /// The signal this request carries.
    const SIGNAL: Signal;

    /// The protobuf message name, e.g. `ExportTraceServiceRequest`, as used in error messages.
    const MESSAGE_NAME: &'static str;

    /// The items in the request: spans, metric data points or log records.
    fn item_count(&self) -> usize;

    /// Checks what neither prost nor serde checks: that trace and span ids have the lengths
    /// OTLP requires (16 and 8 bytes; parent span ids, and the ids that tie log records and
    /// exemplars to a span, may also be empty), as the OpenTelemetry Collector does.
    ///
    /// The decode functions call this; call it yourself for a request decoded by other means
    /// (a tonic gRPC service, for one).
    ///
    /// # Errors
    ///
    /// A [`ValidationError`] naming the first offending item, e.g.
    /// `resourceSpans[0].scopeSpans[0].spans[2] (name "GET /"): traceId is 3 bytes, expected 16`.
    fn validate(&self) -> Result<(), ValidationError>;

    /// The checks that only apply to OTLP/JSON, made on the parsed request against the JSON
    /// it was parsed from (after [`decode_json`](crate::decode_json)'s normalisation).
    ///
    /// opentelemetry-proto's serde support silently drops malformed metric data (a metric
    /// whose `sum` holds a bad data point parses as a metric without data; `"asInt":"12x"`
    /// parses as a point without a value); for metrics this finds such data and reports the
    /// real error. For traces and logs there is nothing to check. [`decode_json`](crate::decode_json)
    /// calls this.
    ///
    /// # Errors
    ///
    /// [`DecodeError::OtlpJson`] with the position and the reason.
    fn check_json(&self, json: &Value) -> Result<(), DecodeError> {
        let _ = json;
        Ok(())
    }

    /// The response to a request that was accepted in full.
    fn success() -> Self::Response {
        Self::Response::default()
    }

    /// The response to a request that was accepted, except for `rejected` items (use `0`
    /// for a warning without rejections), with a message saying why.
    fn partial_success(rejected: i64, message: impl Into<String>) -> Self::Response;
}

impl ExportRequest for ExportTraceServiceRequest {
    type Response = ExportTraceServiceResponse;
    const SIGNAL: Signal = Signal::Traces;
    const MESSAGE_NAME: &'static str = "ExportTraceServiceRequest";

    fn item_count(&self) -> usize {
        self.resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .map(|s| s.spans.len())
            .sum()
    }

    fn validate(&self) -> Result<(), ValidationError> {
        for (ri, rs) in self.resource_spans.iter().enumerate() {
            for (si, ss) in rs.scope_spans.iter().enumerate() {
                for (i, span) in ss.spans.iter().enumerate() {
                    let at = || {
                        format!(
                            "resourceSpans[{ri}].scopeSpans[{si}].spans[{i}] (name {:?})",
                            span.name
                        )
                    };
                    check_id(&span.trace_id, IdLen::Exactly(16), "traceId", &at)?;
                    check_id(&span.span_id, IdLen::Exactly(8), "spanId", &at)?;
                    check_id(&span.parent_span_id, IdLen::EmptyOr(8), "parentSpanId", &at)?;
                    for (li, link) in span.links.iter().enumerate() {
                        let at = || format!("{}.links[{li}]", at());
                        check_id(&link.trace_id, IdLen::Exactly(16), "traceId", &at)?;
                        check_id(&link.span_id, IdLen::Exactly(8), "spanId", &at)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn partial_success(rejected: i64, message: impl Into<String>) -> ExportTraceServiceResponse {
        ExportTraceServiceResponse {
            partial_success: Some(ExportTracePartialSuccess {
                rejected_spans: rejected,
                error_message: message.into(),
            }),
        }
    }
}

impl ExportRequest for ExportMetricsServiceRequest {
    type Response = ExportMetricsServiceResponse;
    const SIGNAL: Signal = Signal::Metrics;
    const MESSAGE_NAME: &'static str = "ExportMetricsServiceRequest";

    fn item_count(&self) -> usize {
        use pm::metric::Data as D;
        self.resource_metrics
            .iter()
            .flat_map(|r| &r.scope_metrics)
            .flat_map(|s| &s.metrics)
            .map(|m| match &m.data {
                Some(D::Gauge(g)) => g.data_points.len(),
                Some(D::Sum(s)) => s.data_points.len(),
                Some(D::Histogram(h)) => h.data_points.len(),
                Some(D::ExponentialHistogram(h)) => h.data_points.len(),
                Some(D::Summary(s)) => s.data_points.len(),
                None => 0,
            })
            .sum()
    }

    fn validate(&self) -> Result<(), ValidationError> {
        use pm::metric::Data as D;
        for (ri, rm) in self.resource_metrics.iter().enumerate() {
            for (si, sm) in rm.scope_metrics.iter().enumerate() {
                for (mi, metric) in sm.metrics.iter().enumerate() {
                    let exemplars: Vec<&pm::Exemplar> = match &metric.data {
                        Some(D::Gauge(g)) => {
                            g.data_points.iter().flat_map(|p| &p.exemplars).collect()
                        }
                        Some(D::Sum(s)) => {
                            s.data_points.iter().flat_map(|p| &p.exemplars).collect()
                        }
                        Some(D::Histogram(h)) => {
                            h.data_points.iter().flat_map(|p| &p.exemplars).collect()
                        }
                        Some(D::ExponentialHistogram(h)) => {
                            h.data_points.iter().flat_map(|p| &p.exemplars).collect()
                        }
                        Some(D::Summary(_)) | None => Vec::new(),
                    };
                    for ex in exemplars {
                        let at = || {
                            format!(
                                "resourceMetrics[{ri}].scopeMetrics[{si}].metrics[{mi}] (name {:?}), an exemplar",
                                metric.name
                            )
                        };
                        check_id(&ex.trace_id, IdLen::EmptyOr(16), "traceId", &at)?;
                        check_id(&ex.span_id, IdLen::EmptyOr(8), "spanId", &at)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn check_json(&self, json: &Value) -> Result<(), DecodeError> {
        check_metrics_json(self, json).map_err(|reason| DecodeError::OtlpJson {
            message_name: Self::MESSAGE_NAME,
            reason,
        })
    }

    fn partial_success(rejected: i64, message: impl Into<String>) -> ExportMetricsServiceResponse {
        ExportMetricsServiceResponse {
            partial_success: Some(ExportMetricsPartialSuccess {
                rejected_data_points: rejected,
                error_message: message.into(),
            }),
        }
    }
}

impl ExportRequest for ExportLogsServiceRequest {
    type Response = ExportLogsServiceResponse;
    const SIGNAL: Signal = Signal::Logs;
    const MESSAGE_NAME: &'static str = "ExportLogsServiceRequest";

    fn item_count(&self) -> usize {
        self.resource_logs
            .iter()
            .flat_map(|r| &r.scope_logs)
            .map(|s| s.log_records.len())
            .sum()
    }

    fn validate(&self) -> Result<(), ValidationError> {
        for (ri, rl) in self.resource_logs.iter().enumerate() {
            for (si, sl) in rl.scope_logs.iter().enumerate() {
                for (i, record) in sl.log_records.iter().enumerate() {
                    let at = || format!("resourceLogs[{ri}].scopeLogs[{si}].logRecords[{i}]");
                    check_id(&record.trace_id, IdLen::EmptyOr(16), "traceId", &at)?;
                    check_id(&record.span_id, IdLen::EmptyOr(8), "spanId", &at)?;
                }
            }
        }
        Ok(())
    }

    fn partial_success(rejected: i64, message: impl Into<String>) -> ExportLogsServiceResponse {
        ExportLogsServiceResponse {
            partial_success: Some(ExportLogsPartialSuccess {
                rejected_log_records: rejected,
                error_message: message.into(),
            }),
        }
    }
}

/// A decoded export request that breaks a rule of OTLP neither prost nor serde checks.
///
/// Answer it with `400 Bad Request` (HTTP) or `INVALID_ARGUMENT` (gRPC). The message names
/// the item and the rule, e.g.
/// `resourceSpans[0].scopeSpans[0].spans[2] (name "GET /"): traceId is 3 bytes, expected 16`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {field} is {len} bytes, expected {expected}")]
pub struct ValidationError {
    location: String,
    field: &'static str,
    len: usize,
    expected: IdLen,
}

impl ValidationError {
    /// Where in the request the offending item is, e.g.
    /// `resourceSpans[0].scopeSpans[0].spans[2] (name "GET /")`.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The offending field, in its OTLP/JSON spelling (`traceId`, `spanId`, `parentSpanId`).
    pub fn field(&self) -> &'static str {
        self.field
    }
}

/// The lengths an id may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IdLen {
    Exactly(usize),
    EmptyOr(usize),
}

impl IdLen {
    fn allows(self, len: usize) -> bool {
        match self {
            IdLen::Exactly(n) => len == n,
            IdLen::EmptyOr(n) => len == 0 || len == n,
        }
    }
}

impl fmt::Display for IdLen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdLen::Exactly(n) => write!(f, "{n}"),
            IdLen::EmptyOr(n) => write!(f, "{n} (or empty)"),
        }
    }
}

fn check_id(
    id: &[u8],
    expected: IdLen,
    field: &'static str,
    at: &dyn Fn() -> String,
) -> Result<(), ValidationError> {
    if expected.allows(id.len()) {
        return Ok(());
    }
    Err(ValidationError {
        location: at(),
        field,
        len: id.len(),
        expected,
    })
}

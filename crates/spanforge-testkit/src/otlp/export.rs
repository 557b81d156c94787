//! The receiver's side of an export request: what it does with one that was decoded (by
//! [`spanforge_otlp`] over HTTP, by tonic over gRPC).

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use spanforge_otlp::ExportRequest;

use super::model::{self, Encoding, Transport};
use super::store::Data;

/// An export request the receiver can keep, extending [`ExportRequest`].
pub(crate) trait Received: ExportRequest + Send {
    /// Adds the request and its flattened items to the store.
    fn store_into(self, data: &mut Data, transport: Transport, encoding: Encoding);

    /// The answer: a full success, or the partial success of a
    /// [`Fault::PartialSuccess`](super::Fault::PartialSuccess).
    fn response(partial: Option<(i64, String)>) -> Self::Response {
        match partial {
            Some((rejected, message)) => Self::partial_success(rejected, message),
            None => Self::success(),
        }
    }
}

impl Received for ExportTraceServiceRequest {
    fn store_into(self, data: &mut Data, transport: Transport, encoding: Encoding) {
        data.spans
            .extend(model::flatten_spans(&self, transport, encoding));
        data.trace_requests.push(self);
    }
}

impl Received for ExportMetricsServiceRequest {
    fn store_into(self, data: &mut Data, transport: Transport, encoding: Encoding) {
        data.metrics
            .extend(model::flatten_metrics(&self, transport, encoding));
        data.metric_requests.push(self);
    }
}

impl Received for ExportLogsServiceRequest {
    fn store_into(self, data: &mut Data, transport: Transport, encoding: Encoding) {
        data.logs
            .extend(model::flatten_logs(&self, transport, encoding));
        data.log_requests.push(self);
    }
}

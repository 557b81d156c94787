//! OTLP/gRPC: the generated `TraceService`, `MetricsService` and `LogsService` servers.

use axum::Router;
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::{
    LogsService, LogsServiceServer,
};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use tonic::codec::CompressionEncoding;
use tonic::service::Routes;

use super::{IngestError, IntoBatch, MAX_REQUEST_BYTES, ingest};
use crate::store::Store;

/// The OTLP/gRPC services as an axum router (served over h2c).
pub fn router(store: Store) -> Router {
    let service = Export(store);
    Routes::new(
        TraceServiceServer::new(service.clone())
            .accept_compressed(CompressionEncoding::Gzip)
            .max_decoding_message_size(MAX_REQUEST_BYTES),
    )
    .add_service(
        MetricsServiceServer::new(service.clone())
            .accept_compressed(CompressionEncoding::Gzip)
            .max_decoding_message_size(MAX_REQUEST_BYTES),
    )
    .add_service(
        LogsServiceServer::new(service)
            .accept_compressed(CompressionEncoding::Gzip)
            .max_decoding_message_size(MAX_REQUEST_BYTES),
    )
    .prepare()
    .into_axum_router()
}

#[derive(Debug, Clone)]
struct Export(Store);

async fn handle<T: IntoBatch>(
    store: &Store,
    request: tonic::Request<T>,
) -> Result<tonic::Response<T::Response>, tonic::Status> {
    let request = request.into_inner();
    // tonic decoded the protobuf; the id lengths are ours to check.
    if let Err(error) = request.validate() {
        return Err(tonic::Status::invalid_argument(error.to_string()));
    }
    match ingest(store, request).await {
        Ok(()) => Ok(tonic::Response::new(T::success())),
        Err(IngestError::Unavailable(error)) => Err(tonic::Status::unavailable(error.to_string())),
        Err(IngestError::Internal(error)) => Err(tonic::Status::internal(error.to_string())),
    }
}

#[tonic::async_trait]
impl TraceService for Export {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        handle(&self.0, request).await
    }
}

#[tonic::async_trait]
impl MetricsService for Export {
    async fn export(
        &self,
        request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        handle(&self.0, request).await
    }
}

#[tonic::async_trait]
impl LogsService for Export {
    async fn export(
        &self,
        request: tonic::Request<ExportLogsServiceRequest>,
    ) -> Result<tonic::Response<ExportLogsServiceResponse>, tonic::Status> {
        handle(&self.0, request).await
    }
}

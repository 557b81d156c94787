//! OTLP/gRPC: the generated `TraceService`, `MetricsService` and `LogsService` servers.

use std::sync::Arc;

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
use tonic_types::{ErrorDetails, StatusExt as _};

use super::export::Received;
use super::fault::{Fault, GrpcCode};
use super::model::{Encoding, Transport};
use super::receiver::Shared;
use super::requests::Outcome;
use super::server::ConnHandle;
use super::store::PendingRecord;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let limit = shared.config.max_body_bytes;
    let service = Export(shared);
    Routes::new(
        TraceServiceServer::new(service.clone())
            .accept_compressed(CompressionEncoding::Gzip)
            .send_compressed(CompressionEncoding::Gzip)
            .max_decoding_message_size(limit),
    )
    .add_service(
        MetricsServiceServer::new(service.clone())
            .accept_compressed(CompressionEncoding::Gzip)
            .send_compressed(CompressionEncoding::Gzip)
            .max_decoding_message_size(limit),
    )
    .add_service(
        LogsServiceServer::new(service)
            .accept_compressed(CompressionEncoding::Gzip)
            .send_compressed(CompressionEncoding::Gzip)
            .max_decoding_message_size(limit),
    )
    .prepare()
    .into_axum_router()
}

#[derive(Debug, Clone)]
struct Export(Arc<Shared>);

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

async fn handle<T: Received>(
    shared: &Shared,
    request: tonic::Request<T>,
) -> Result<tonic::Response<T::Response>, tonic::Status> {
    let (metadata, extensions, message) = request.into_parts();
    let conn = extensions.get::<ConnHandle>().cloned();
    let mut pending = PendingRecord::new(
        &shared.store,
        Transport::Grpc,
        Some(T::SIGNAL),
        T::SIGNAL.grpc_path(),
        metadata.into_headers(),
    );
    pending.record_mut().encoding = Some(Encoding::Protobuf);

    let fault = shared.next_fault(T::SIGNAL);
    if !fault.is_none() {
        pending.record_mut().fault = Some(fault.clone());
    }
    let mut partial = None;
    match fault {
        Fault::None => {}
        Fault::Delay(delay) => tokio::time::sleep(delay).await,
        Fault::Status {
            grpc_code,
            retry_after,
            ..
        } => {
            let message = format!("injected fault: {grpc_code}");
            let status = match retry_after {
                Some(delay) => tonic::Status::with_error_details(
                    grpc_code,
                    message.clone(),
                    ErrorDetails::with_retry_info(Some(delay)),
                ),
                None => tonic::Status::new(grpc_code, message.clone()),
            };
            reject(pending, grpc_code, message);
            return Err(status);
        }
        Fault::DropConnection => {
            pending.finish(Outcome::Dropped);
            if let Some(conn) = conn {
                conn.drop_connection().await;
            }
            // The socket is closed by now; this answer goes nowhere.
            return Err(tonic::Status::internal(
                "the connection could not be dropped",
            ));
        }
        Fault::PartialSuccess { rejected, message } => partial = Some((rejected, message)),
    }

    if let Err(e) = message.validate() {
        let reason = e.to_string();
        reject(pending, GrpcCode::InvalidArgument, reason.clone());
        return Err(tonic::Status::invalid_argument(reason));
    }
    pending.record_mut().items = message.item_count();
    pending.finish_storing(Outcome::Grpc(GrpcCode::Ok), |data| {
        message.store_into(data, Transport::Grpc, Encoding::Protobuf);
    });
    Ok(tonic::Response::new(T::response(partial)))
}

fn reject(mut pending: PendingRecord<'_>, code: GrpcCode, reason: String) {
    pending.record_mut().error = Some(reason);
    pending.finish(Outcome::Grpc(code));
}

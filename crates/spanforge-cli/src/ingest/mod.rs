//! OTLP in: gRPC and HTTP (protobuf and JSON, gzip) into the [`Store`].
//!
//! A request is decoded and validated in full before anything is written, then written in one
//! transaction: a malformed request gets a `400` (gRPC `INVALID_ARGUMENT`) naming what is wrong
//! and stores nothing; a store that cannot keep up answers `503` (gRPC `UNAVAILABLE`) so the
//! sender retries.

pub mod convert;
mod grpc;
mod http;

pub use grpc::router as grpc_router;
pub use http::router as http_router;

use spanforge_otlp::ExportRequest;

use crate::store::{Batch, Store, StoreError};

/// Largest request accepted, after decompression.
pub const MAX_REQUEST_BYTES: usize = 32 * 1024 * 1024;

/// How each export request type becomes store rows.
pub trait IntoBatch: ExportRequest + Send {
    /// The rows of the request.
    fn into_batch(self) -> Batch;
}

impl IntoBatch for opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest {
    fn into_batch(self) -> Batch {
        convert::traces(self)
    }
}

impl IntoBatch for opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest {
    fn into_batch(self) -> Batch {
        convert::logs(self)
    }
}

impl IntoBatch for opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest {
    fn into_batch(self) -> Batch {
        convert::metrics(self)
    }
}

/// Why an export was not stored, as both transports report it.
#[derive(Debug, thiserror::Error)]
pub(crate) enum IngestError {
    #[error("{0}")]
    Unavailable(StoreError),
    #[error("{0}")]
    Internal(StoreError),
}

/// Converts and stores one decoded and validated request.
pub(crate) async fn ingest<T: IntoBatch>(store: &Store, request: T) -> Result<(), IngestError> {
    match store.write(request.into_batch()).await {
        Ok(_) => Ok(()),
        Err(error @ (StoreError::Busy(_) | StoreError::Closed)) => {
            Err(IngestError::Unavailable(error))
        }
        Err(error) => {
            tracing::error!(%error, "storing an export failed");
            Err(IngestError::Internal(error))
        }
    }
}

//! OTLP/HTTP: `POST /v1/traces`, `/v1/metrics`, `/v1/logs`.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use spanforge_otlp::{Encoding, decode, decompress};

use super::{IngestError, IntoBatch, MAX_REQUEST_BYTES, ingest};
use crate::store::Store;

/// `google.rpc.Code` numbers used in error bodies.
const INVALID_ARGUMENT: i32 = 3;
const UNAVAILABLE: i32 = 14;
const INTERNAL: i32 = 13;

/// Seconds a sender should wait before retrying when the store is busy.
const RETRY_AFTER_SECONDS: &str = "1";

/// The OTLP/HTTP routes.
pub fn router(store: Store) -> Router {
    Router::new()
        .route("/v1/traces", post(export::<ExportTraceServiceRequest>))
        .route("/v1/metrics", post(export::<ExportMetricsServiceRequest>))
        .route("/v1/logs", post(export::<ExportLogsServiceRequest>))
        // Compressed bodies are limited after decompression, by `decompress`.
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
        .with_state(store)
}

async fn export<T: IntoBatch>(
    State(store): State<Store>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header_text = |name| headers.get(name).and_then(|value| value.to_str().ok());
    let encoding = match Encoding::from_content_type(header_text(header::CONTENT_TYPE)) {
        Ok(encoding) => encoding,
        Err(error) => {
            return plain(status(error.http_status()), error.to_string());
        }
    };
    let body = match decompress(
        body,
        header_text(header::CONTENT_ENCODING),
        MAX_REQUEST_BYTES,
    ) {
        Ok(body) => body,
        Err(error) => {
            return failure(
                encoding,
                status(error.http_status()),
                INVALID_ARGUMENT,
                &error.to_string(),
            );
        }
    };
    // Decoding validates too (id lengths), so what reaches `ingest` is complete.
    let request: T = match decode(&body, encoding) {
        Ok(request) => request,
        Err(error) => {
            return failure(
                encoding,
                status(error.http_status()),
                INVALID_ARGUMENT,
                &error.to_string(),
            );
        }
    };
    match ingest(&store, request).await {
        Ok(()) => (
            [(header::CONTENT_TYPE, encoding.content_type())],
            encoding.encode_response(&T::success()),
        )
            .into_response(),
        Err(IngestError::Unavailable(error)) => {
            let mut response = failure(
                encoding,
                StatusCode::SERVICE_UNAVAILABLE,
                UNAVAILABLE,
                &error.to_string(),
            );
            response.headers_mut().insert(
                header::RETRY_AFTER,
                header::HeaderValue::from_static(RETRY_AFTER_SECONDS),
            );
            response
        }
        Err(IngestError::Internal(error)) => failure(
            encoding,
            StatusCode::INTERNAL_SERVER_ERROR,
            INTERNAL,
            &error.to_string(),
        ),
    }
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST)
}

fn failure(encoding: Encoding, status: StatusCode, code: i32, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, encoding.content_type())],
        encoding.encode_status(code, message),
    )
        .into_response()
}

fn plain(status: StatusCode, message: String) -> Response {
    (status, message).into_response()
}

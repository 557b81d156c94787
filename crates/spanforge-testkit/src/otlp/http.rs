//! OTLP/HTTP: `POST /v1/{traces,metrics,logs}` in protobuf or JSON, optionally gzip-compressed.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use http::header::{ALLOW, CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderValue, Method, StatusCode};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use spanforge_otlp::{DecompressError, Encoding};

use super::export::Received;
use super::fault::{Fault, GrpcCode};
use super::model::Transport;
use super::receiver::Shared;
use super::requests::Outcome;
use super::server::ConnHandle;
use super::store::PendingRecord;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let prefix = shared.config.http_path_prefix.clone();
    Router::new()
        .route(
            &format!("{prefix}/v1/traces"),
            any(export::<ExportTraceServiceRequest>),
        )
        .route(
            &format!("{prefix}/v1/metrics"),
            any(export::<ExportMetricsServiceRequest>),
        )
        .route(
            &format!("{prefix}/v1/logs"),
            any(export::<ExportLogsServiceRequest>),
        )
        .fallback(not_found)
        .with_state(shared)
}

async fn not_found(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, _body) = request.into_parts();
    let reason = format!(
        "no OTLP endpoint at {}; use {prefix}/v1/traces, {prefix}/v1/metrics or {prefix}/v1/logs",
        parts.uri.path(),
        prefix = shared.config.http_path_prefix,
    );
    let mut pending = PendingRecord::new(
        &shared.store,
        Transport::Http,
        None,
        parts.uri.path(),
        parts.headers,
    );
    pending.record_mut().error = Some(reason.clone());
    pending.finish(Outcome::Http(StatusCode::NOT_FOUND));
    plain(StatusCode::NOT_FOUND, reason)
}

async fn export<T: Received>(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let conn = parts.extensions.get::<ConnHandle>().cloned();
    let mut pending = PendingRecord::new(
        &shared.store,
        Transport::Http,
        Some(T::SIGNAL),
        parts.uri.path(),
        parts.headers.clone(),
    );
    if parts.method != Method::POST {
        let reason = reject(
            pending,
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{} is not allowed; OTLP/HTTP uses POST", parts.method),
        );
        let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, reason);
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("POST"));
        return response;
    }

    // Read the whole body first, so that any answer (including an injected error) reaches a
    // client that is still sending, rather than a connection reset.
    let body = match axum::body::to_bytes(body, shared.config.max_body_bytes).await {
        Ok(body) => body,
        Err(e) => {
            let status = if is_length_limit(&e) {
                StatusCode::PAYLOAD_TOO_LARGE
            } else {
                StatusCode::BAD_REQUEST
            };
            let reason = reject(
                pending,
                status,
                format!("could not read the request body: {e}"),
            );
            return plain(status, reason);
        }
    };

    let content_type = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let encoding = match Encoding::from_content_type(content_type) {
        Ok(encoding) => encoding,
        Err(e) => {
            let reason = reject(pending, StatusCode::UNSUPPORTED_MEDIA_TYPE, e.to_string());
            return plain(StatusCode::UNSUPPORTED_MEDIA_TYPE, reason);
        }
    };
    pending.record_mut().encoding = Some(encoding);

    let content_encoding = pending.record_mut().content_encoding.clone();
    let body = match spanforge_otlp::decompress(
        body,
        content_encoding.as_deref(),
        shared.config.max_body_bytes,
    ) {
        Ok(body) => body,
        Err(e @ DecompressError::UnsupportedEncoding { .. }) => {
            let reason = reject(pending, StatusCode::UNSUPPORTED_MEDIA_TYPE, e.to_string());
            return plain(StatusCode::UNSUPPORTED_MEDIA_TYPE, reason);
        }
        Err(e) => {
            let reason = reject(pending, StatusCode::BAD_REQUEST, e.to_string());
            return status_body(
                StatusCode::BAD_REQUEST,
                GrpcCode::InvalidArgument,
                &reason,
                encoding,
            );
        }
    };

    let fault = shared.next_fault(T::SIGNAL);
    if !fault.is_none() {
        pending.record_mut().fault = Some(fault.clone());
    }
    let mut partial = None;
    match fault {
        Fault::None => {}
        Fault::Delay(delay) => tokio::time::sleep(delay).await,
        Fault::Status {
            http,
            grpc_code,
            retry_after,
        } => {
            let reason = format!("injected fault: {http}");
            let reason = reject(pending, http, reason);
            let mut response = status_body(http, grpc_code, &reason, encoding);
            if let Some(after) = retry_after {
                response
                    .headers_mut()
                    .insert(RETRY_AFTER, HeaderValue::from(retry_after_secs(after)));
            }
            return response;
        }
        Fault::DropConnection => {
            pending.finish(Outcome::Dropped);
            if let Some(conn) = conn {
                conn.drop_connection().await;
            }
            // Reached over HTTP/2 once the socket is closed (this answer goes nowhere); over
            // HTTP/1 this future is dropped with the connection.
            return plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the connection could not be dropped".to_owned(),
            );
        }
        Fault::PartialSuccess { rejected, message } => partial = Some((rejected, message)),
    }

    let message = match spanforge_otlp::decode::<T>(&body, encoding) {
        Ok(message) => message,
        Err(e) => {
            let reason = reject(pending, StatusCode::BAD_REQUEST, e.to_string());
            return status_body(
                StatusCode::BAD_REQUEST,
                GrpcCode::InvalidArgument,
                &reason,
                encoding,
            );
        }
    };

    let response_body = encoding.encode_response(&T::response(partial));
    pending.record_mut().items = message.item_count();
    pending.finish_storing(Outcome::Http(StatusCode::OK), |data| {
        message.store_into(data, Transport::Http, encoding);
    });
    (
        StatusCode::OK,
        [(CONTENT_TYPE, encoding.content_type())],
        response_body,
    )
        .into_response()
}

/// Records a rejected request and hands back the reason for the response body.
fn reject(mut pending: PendingRecord<'_>, status: StatusCode, reason: String) -> String {
    pending.record_mut().error = Some(reason.clone());
    pending.finish(Outcome::Http(status));
    reason
}

fn is_length_limit(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = e.source();
    }
    false
}

/// Whole seconds, rounded up, as `Retry-After` wants them.
fn retry_after_secs(after: Duration) -> u64 {
    after.as_secs() + u64::from(after.subsec_nanos() > 0)
}

/// An error answer whose body is a `google.rpc.Status`, in the request's encoding, as the
/// OTLP/HTTP specification asks.
fn status_body(status: StatusCode, code: GrpcCode, message: &str, encoding: Encoding) -> Response {
    let body = encoding.encode_status(code as i32, message);
    (status, [(CONTENT_TYPE, encoding.content_type())], body).into_response()
}

fn plain(status: StatusCode, message: String) -> Response {
    (
        status,
        [(CONTENT_TYPE, "text/plain; charset=utf-8")],
        Body::from(message),
    )
        .into_response()
}

//! `error.type` and `db.response.status_code` for Redis errors.

use redis::{ErrorKind, RedisError};

use crate::db::DbSpan;

/// `(error.type, db.response.status_code)`.
///
/// A server error gives its prefix as both (`ERR`, `WRONGTYPE`, `NOSCRIPT`, `EXECABORT`);
/// a client-side failure one of `connection_refused`, `timeout`, `connection_dropped`,
/// `io`, `authentication_failed`, `parse`, `invalid_client_config`, `client`, or `_OTHER`.
pub(crate) fn classify(error: &RedisError) -> (String, Option<String>) {
    if let Some(code) = error.code() {
        return (code.to_owned(), Some(code.to_owned()));
    }
    let kind = if error.is_connection_refusal() {
        "connection_refused"
    } else if error.is_timeout() {
        "timeout"
    } else if error.is_connection_dropped() {
        "connection_dropped"
    } else {
        match error.kind() {
            ErrorKind::Io => "io",
            ErrorKind::AuthenticationFailed => "authentication_failed",
            ErrorKind::Parse => "parse",
            ErrorKind::InvalidClientConfig => "invalid_client_config",
            ErrorKind::Client => "client",
            ErrorKind::UnexpectedReturnType => "unexpected_return_type",
            _ => "_OTHER",
        }
    };
    (kind.to_owned(), None)
}

/// End `span` as failed with `error`.
pub(crate) fn fail(mut span: DbSpan, error: &RedisError) {
    let (error_type, status) = classify(error);
    if let Some(status) = status {
        span.set_response_status_code(status);
    }
    span.end_with_error(error_type, error);
}

/// End `span` as failed with a server error reply.
pub(crate) fn fail_reply(mut span: DbSpan, error: &redis::ServerError) {
    let code = error.code().to_owned();
    span.set_response_status_code(code.clone());
    span.end_with_error(code, error);
}

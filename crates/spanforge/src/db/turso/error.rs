//! [`Error`] (a request failed), [`ConfigError`] (the database cannot be configured), and
//! the `error.type` each one records.

use std::time::Duration;

use crate::db::DbSpan;

/// A call to the remote database failed. No variant holds the auth token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with an HTTP error status. 401: the token is missing, invalid,
    /// expired or for another database; 404: no database at this URL; 429: rate limited
    /// (see `retry_after`); 5xx: the server failed (the request may or may not have run).
    #[error("{url} answered HTTP {status}{hint}: {message}", hint = status_hint(*status))]
    Http {
        /// The URL called (no token, no query).
        url: String,
        /// The HTTP status.
        status: u16,
        /// The server's message (Hrana `Error.message`, sqld's `error`, or the text).
        message: String,
        /// The `Retry-After` delay, when the server sent one in seconds.
        retry_after: Option<Duration>,
    },
    /// The statement failed: a Hrana error result, e.g. code `SQLITE_CONSTRAINT` with the
    /// message `SQLite error: UNIQUE constraint failed: prompts.name`.
    #[error("{}{message}", sql_prefix(code.as_deref(), *step))]
    Sql {
        /// The server's error code (`SQLITE_CONSTRAINT`, `SQL_PARSE_ERROR`, ...; not
        /// standardized across servers).
        code: Option<String>,
        /// The server's message.
        message: String,
        /// For batches: the index of the statement that failed.
        step: Option<usize>,
    },
    /// The server could not be reached (connection refused, DNS, ...).
    #[error("cannot connect to {url}: {reason}")]
    Connect {
        /// The URL called.
        url: String,
        /// What failed.
        reason: String,
    },
    /// No complete answer within the configured timeout. The statement may have run.
    #[error("{url} did not answer within {timeout:?}")]
    Timeout {
        /// The URL called.
        url: String,
        /// The timeout that elapsed.
        timeout: Duration,
    },
    /// The connection failed during the exchange (closed, reset). The statement may have
    /// run.
    #[error("request to {url} failed: {reason}")]
    Transport {
        /// The URL called.
        url: String,
        /// What failed.
        reason: String,
    },
    /// An `https://` URL, but no TLS backend is compiled in: spanforge builds reqwest
    /// without one unless its `tls` feature is on. Enable it (or one of reqwest's TLS
    /// features in the application), or use `http://` for a local server.
    #[error(
        "{url} needs TLS, but reqwest was built without a TLS backend: enable spanforge's \
         `tls` feature, or add `reqwest = {{ version = \"0.13\", features = [\"rustls\"] }}` \
         (or \"native-tls\") to the application's dependencies (see docs/database.md)"
    )]
    TlsUnavailable {
        /// The URL called.
        url: String,
    },
    /// The answer is not Hrana: not JSON, missing results, a value of an unknown type, ...
    #[error("malformed answer from {url}: {reason}")]
    MalformedResponse {
        /// The URL called.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The transaction cannot be used any more: the server closed its stream (it was idle
    /// too long, or an earlier request failed), or it was committed or rolled back.
    #[error("the transaction's stream is closed ({0}); start a new transaction")]
    StreamClosed(&'static str),
    /// An argument cannot be sent: Hrana's JSON has no infinite floats.
    #[error("argument {0} cannot be sent: Hrana's JSON encoding has no infinite floats")]
    InvalidArgument(String),
}

fn status_hint(status: u16) -> &'static str {
    match status {
        401 => {
            " (the auth token is missing, invalid, expired or for another database: check TURSO_AUTH_TOKEN)"
        }
        403 => " (the auth token does not allow this: a read-only token cannot write)",
        404 => " (no database at this URL: check the database and organization names)",
        429 => " (rate limited)",
        _ => "",
    }
}

fn sql_prefix(code: Option<&str>, step: Option<usize>) -> String {
    match (code, step) {
        (Some(code), Some(step)) => format!("statement {step} failed ({code}): "),
        (None, Some(step)) => format!("statement {step} failed: "),
        (Some(code), None) => format!("{code}: "),
        (None, None) => String::new(),
    }
}

impl Error {
    /// The HTTP status, for [`Error::Http`].
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Http { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The server's error code, for [`Error::Sql`] (`SQLITE_CONSTRAINT`, ...).
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Sql { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    /// `error.type` for this error: the Hrana code (`SQLITE_CONSTRAINT`), the HTTP status
    /// (`401`, `503`), or `connection_failed`, `timeout`, `connection_dropped`,
    /// `tls_unavailable`, `malformed_response`, `stream_closed`, `invalid_argument`;
    /// `_OTHER` for a Hrana error without a code.
    pub fn error_type(&self) -> String {
        match self {
            Error::Http { status, .. } => status.to_string(),
            Error::Sql { code, .. } => code.clone().unwrap_or_else(|| "_OTHER".to_owned()),
            Error::Connect { .. } => "connection_failed".to_owned(),
            Error::Timeout { .. } => "timeout".to_owned(),
            Error::Transport { .. } => "connection_dropped".to_owned(),
            Error::TlsUnavailable { .. } => "tls_unavailable".to_owned(),
            Error::MalformedResponse { .. } => "malformed_response".to_owned(),
            Error::StreamClosed(_) => "stream_closed".to_owned(),
            Error::InvalidArgument(_) => "invalid_argument".to_owned(),
        }
    }
}

/// End `span` as failed with `error`: `error.type` as [`Error::error_type`], and for SQL
/// failures `db.response.status_code` = the server's code.
pub(super) fn fail(mut span: DbSpan, error: &Error) {
    if let Some(code) = error.code() {
        span.set_response_status_code(code.to_owned());
    }
    span.end_with_error(error.error_type(), error);
}

/// The remote database cannot be configured. Nothing here holds the auth token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// [`Database::from_env`](super::Database::from_env) found no URL.
    #[error(
        "no database URL: set TURSO_DATABASE_URL (or DATABASE_URL) to libsql://<db>-<org>.turso.io"
    )]
    MissingUrl,
    /// The URL is not a remote libSQL URL.
    #[error("invalid database URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL, with any credentials and query removed.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The auth token cannot be sent in an HTTP header (it has a control character or
    /// non-ASCII byte: probably not a token, or pasted with a newline).
    #[error("the auth token ({source_name}) is not a valid HTTP header value")]
    InvalidToken {
        /// Where it came from: `TURSO_AUTH_TOKEN`, `the URL's authToken`, `the builder`.
        source_name: &'static str,
    },
    /// The HTTP client could not be built.
    #[error("building the HTTP client: {0}")]
    Client(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display() {
        let e = Error::Http {
            url: "https://db-org.turso.io/v2/pipeline".into(),
            status: 401,
            message: "Unauthorized: `The JWT is invalid`".into(),
            retry_after: None,
        };
        assert_eq!(
            e.to_string(),
            "https://db-org.turso.io/v2/pipeline answered HTTP 401 (the auth token is missing, \
             invalid, expired or for another database: check TURSO_AUTH_TOKEN): Unauthorized: \
             `The JWT is invalid`"
        );
        assert_eq!(e.error_type(), "401");
        let e = Error::Sql {
            code: Some("SQLITE_CONSTRAINT".into()),
            message: "SQLite error: UNIQUE constraint failed: t.name".into(),
            step: Some(1),
        };
        assert_eq!(
            e.to_string(),
            "statement 1 failed (SQLITE_CONSTRAINT): SQLite error: UNIQUE constraint failed: t.name"
        );
        assert_eq!(e.error_type(), "SQLITE_CONSTRAINT");
        assert_eq!(
            ConfigError::MissingUrl.to_string(),
            "no database URL: set TURSO_DATABASE_URL (or DATABASE_URL) to libsql://<db>-<org>.turso.io"
        );
    }
}

//! Errors of the instrumented clients.

use std::time::Duration;

/// A failed call of an instrumented client.
///
/// Each variant says what the caller can do: wait and retry ([`RateLimited`](Error::RateLimited)
/// with the server's `Retry-After`), retry later ([`Server`](Error::Server),
/// [`Timeout`](Error::Timeout), [`Transport`](Error::Transport),
/// [`IncompleteStream`](Error::IncompleteStream)), or fix the request ([`Api`](Error::Api)).
/// [`error_type`](Error::error_type) is what the span's `error.type` got. Messages never
/// contain the API key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// HTTP 429: too many requests or tokens, or no quota left.
    #[error("rate limited (HTTP 429{}){}: {message}", code_suffix(code), retry_suffix(*retry_after))]
    RateLimited {
        /// How long the server asked to wait (`Retry-After`, `retry-after-ms`).
        retry_after: Option<Duration>,
        /// The provider's error code (`rate_limit_exceeded`, `rate_limit_error`, …).
        code: Option<String>,
        /// The provider's message.
        message: String,
    },
    /// HTTP 5xx (and Anthropic's 529 "overloaded"), or an error event in a stream.
    #[error("server error (HTTP {status}{}): {message}", code_suffix(code))]
    Server {
        /// The status (500 for an error event inside a stream).
        status: u16,
        /// The provider's error code.
        code: Option<String>,
        /// The provider's message.
        message: String,
    },
    /// Another HTTP 4xx: the request is wrong (bad model, bad key, too long, …).
    #[error("request rejected (HTTP {status}{}): {message}", code_suffix(code))]
    Api {
        /// The status.
        status: u16,
        /// The provider's error code (`invalid_api_key`, `invalid_request_error`, …).
        code: Option<String>,
        /// The provider's message.
        message: String,
    },
    /// No answer (or, in a stream, no next chunk) within the client's timeout.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The request could not be sent or the answer not read (connection refused, reset, …).
    #[error("transport error ({kind}): {message}")]
    Transport {
        /// `connect`, `request` or `body`.
        kind: &'static str,
        /// What happened (URL secrets removed).
        message: String,
    },
    /// A stream ended before its final event (`[DONE]`, `message_stop`): the connection was
    /// cut or the server stopped early. Usage, and so cost, is unknown.
    #[error("stream ended early: {0}")]
    IncompleteStream(String),
    /// A stream event that is not valid SSE or not the JSON the provider documents.
    #[error("malformed stream: {0}")]
    MalformedStream(String),
    /// A response body that is not the JSON the provider documents.
    #[error("malformed response: {0}")]
    MalformedResponse(String),
}

fn code_suffix(code: &Option<String>) -> String {
    code.as_deref()
        .map(|c| format!(", {c}"))
        .unwrap_or_default()
}

fn retry_suffix(after: Option<Duration>) -> String {
    after
        .map(|d| format!(", retry after {:.3}s", d.as_secs_f64()))
        .unwrap_or_default()
}

impl Error {
    /// The span's `error.type`: the provider's error code when it sent one, else the HTTP
    /// status (`429`, `503`), else `timeout`, `connect`, `request`, `body`,
    /// `incomplete_stream`, `malformed_stream` or `malformed_response`.
    pub fn error_type(&self) -> String {
        match self {
            Error::RateLimited { code, .. } => code.clone().unwrap_or_else(|| "429".to_owned()),
            Error::Server { status, code, .. } | Error::Api { status, code, .. } => {
                code.clone().unwrap_or_else(|| status.to_string())
            }
            Error::Timeout(_) => "timeout".to_owned(),
            Error::Transport { kind, .. } => (*kind).to_owned(),
            Error::IncompleteStream(_) => "incomplete_stream".to_owned(),
            Error::MalformedStream(_) => "malformed_stream".to_owned(),
            Error::MalformedResponse(_) => "malformed_response".to_owned(),
        }
    }

    /// The HTTP status, for errors that had one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::RateLimited { .. } => Some(429),
            Error::Server { status, .. } | Error::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// How long the server asked to wait before retrying.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Whether the same request may succeed later.
    pub fn is_retryable(&self) -> bool {
        !matches!(
            self,
            Error::Api { .. } | Error::MalformedResponse(_) | Error::MalformedStream(_)
        )
    }
}

/// A client could not be built from its configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No API key, and the base URL is the provider's own (which needs one).
    #[error("no API key: set {var} (or a base URL of a server that needs none)")]
    MissingApiKey {
        /// The variable that would hold it.
        var: &'static str,
    },
    /// The base URL is not an absolute http(s) URL.
    #[error("invalid base URL {url:?}: {reason}")]
    InvalidBaseUrl {
        /// The URL as given.
        url: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A header name or value is not valid HTTP (the value is not repeated: it may be secret).
    #[error("invalid header {name:?}: {reason}")]
    InvalidHeader {
        /// The header's name.
        name: String,
        /// Why it was rejected.
        reason: String,
    },
    /// The HTTP client could not be built (TLS backend, proxy settings, …).
    #[error("could not build the HTTP client: {0}")]
    HttpClient(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display() {
        let e = Error::RateLimited {
            retry_after: Some(Duration::from_millis(1500)),
            code: Some("rate_limit_exceeded".into()),
            message: "slow down".into(),
        };
        assert_eq!(
            e.to_string(),
            "rate limited (HTTP 429, rate_limit_exceeded), retry after 1.500s: slow down"
        );
        assert_eq!(e.error_type(), "rate_limit_exceeded");
        let e = Error::Server {
            status: 503,
            code: None,
            message: "down".into(),
        };
        assert_eq!(e.to_string(), "server error (HTTP 503): down");
        assert_eq!(e.error_type(), "503");
        assert_eq!(
            ConfigError::MissingApiKey {
                var: "OPENAI_API_KEY"
            }
            .to_string(),
            "no API key: set OPENAI_API_KEY (or a base URL of a server that needs none)"
        );
    }
}

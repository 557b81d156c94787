//! Attribute names and value normalisation from the HTTP semantic conventions (v1.44).

#![allow(dead_code)] // each feature uses a subset

pub(crate) const HTTP_REQUEST_METHOD: &str = "http.request.method";
pub(crate) const HTTP_REQUEST_METHOD_ORIGINAL: &str = "http.request.method_original";
pub(crate) const HTTP_ROUTE: &str = "http.route";
pub(crate) const HTTP_RESPONSE_STATUS_CODE: &str = "http.response.status_code";
pub(crate) const HTTP_REQUEST_BODY_SIZE: &str = "http.request.body.size";
pub(crate) const HTTP_RESPONSE_BODY_SIZE: &str = "http.response.body.size";
pub(crate) const HTTP_REQUEST_RESEND_COUNT: &str = "http.request.resend_count";
pub(crate) const URL_FULL: &str = "url.full";
pub(crate) const URL_PATH: &str = "url.path";
pub(crate) const URL_QUERY: &str = "url.query";
pub(crate) const URL_SCHEME: &str = "url.scheme";
pub(crate) const SERVER_ADDRESS: &str = "server.address";
pub(crate) const SERVER_PORT: &str = "server.port";
pub(crate) const CLIENT_ADDRESS: &str = "client.address";
pub(crate) const USER_AGENT_ORIGINAL: &str = "user_agent.original";
pub(crate) const NETWORK_PROTOCOL_VERSION: &str = "network.protocol.version";
pub(crate) const ERROR_TYPE: &str = "error.type";

/// The method as the conventions want it: one of the known methods, or `_OTHER` (the
/// original is then kept in `http.request.method_original`).
pub(crate) fn known_method(method: &http::Method) -> Option<&'static str> {
    Some(match *method {
        http::Method::GET => "GET",
        http::Method::POST => "POST",
        http::Method::PUT => "PUT",
        http::Method::DELETE => "DELETE",
        http::Method::PATCH => "PATCH",
        http::Method::HEAD => "HEAD",
        http::Method::OPTIONS => "OPTIONS",
        http::Method::CONNECT => "CONNECT",
        http::Method::TRACE => "TRACE",
        _ => return None,
    })
}

/// `network.protocol.version` for an HTTP version.
pub(crate) fn protocol_version(version: http::Version) -> &'static str {
    match version {
        http::Version::HTTP_09 => "0.9",
        http::Version::HTTP_10 => "1.0",
        http::Version::HTTP_11 => "1.1",
        http::Version::HTTP_2 => "2",
        http::Version::HTTP_3 => "3",
        _ => "unknown",
    }
}

/// A status code as a static string for `error.type`, without allocating for common codes.
pub(crate) fn status_str(status: u16) -> std::borrow::Cow<'static, str> {
    let known = match status {
        400 => "400",
        401 => "401",
        403 => "403",
        404 => "404",
        405 => "405",
        408 => "408",
        409 => "409",
        413 => "413",
        422 => "422",
        429 => "429",
        500 => "500",
        501 => "501",
        502 => "502",
        503 => "503",
        504 => "504",
        _ => return std::borrow::Cow::Owned(status.to_string()),
    };
    std::borrow::Cow::Borrowed(known)
}

/// Headers that are never recorded, whatever the allow-list says.
pub(crate) fn is_sensitive_header(name: &str) -> bool {
    const SENSITIVE: [&str; 10] = [
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "api-key",
        "x-auth-token",
        "x-amz-security-token",
        "x-goog-api-key",
        "anthropic-api-key",
    ];
    let lower = name.to_ascii_lowercase();
    SENSITIVE.contains(&lower.as_str())
        || lower.contains("secret")
        || lower.contains("token")
        || lower.ends_with("-key")
}

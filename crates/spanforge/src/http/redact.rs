//! Removing secrets from URLs before they become attributes.

use std::borrow::Cow;

/// Query parameters whose values are secrets: API keys, tokens, signatures, passwords.
/// Matching ignores case. The list covers the semantic conventions' defaults (`sig`,
/// `Signature`, `AWSAccessKeyId`, `X-Goog-Signature`) and common credential names.
const SECRET_PARAMS: [&str; 22] = [
    "api_key",
    "apikey",
    "api-key",
    "key",
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "auth",
    "authorization",
    "password",
    "passwd",
    "secret",
    "client_secret",
    "code",
    "sig",
    "signature",
    "awsaccesskeyid",
    "x-amz-signature",
    "x-amz-credential",
    "x-amz-security-token",
    "x-goog-signature",
];

fn is_secret(name: &str) -> bool {
    SECRET_PARAMS.iter().any(|s| s.eq_ignore_ascii_case(name))
}

/// `query` with the values of secret parameters replaced by `REDACTED`; borrowed
/// unchanged when there is nothing to redact.
///
/// ```
/// use spanforge::http::redact_query;
/// assert_eq!(redact_query("q=rust&api_key=sk-123&page=2"), "q=rust&api_key=REDACTED&page=2");
/// assert_eq!(redact_query("q=rust"), "q=rust");
/// ```
pub fn redact_query(query: &str) -> Cow<'_, str> {
    let needs = query.split('&').any(|pair| {
        let name = pair.split_once('=').map_or(pair, |(n, _)| n);
        is_secret(name) && pair.contains('=')
    });
    if !needs {
        return Cow::Borrowed(query);
    }
    let mut out = String::with_capacity(query.len());
    for (i, pair) in query.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        match pair.split_once('=') {
            Some((name, _)) if is_secret(name) => {
                out.push_str(name);
                out.push_str("=REDACTED");
            }
            _ => out.push_str(pair),
        }
    }
    Cow::Owned(out)
}

/// `url` without credentials (`user:pass@` becomes `REDACTED:REDACTED@`, as the semantic
/// conventions ask) and with secret query values redacted.
///
/// ```
/// use spanforge::http::redact_url;
/// assert_eq!(
///     redact_url("https://bob:hunter2@api.example.com/v1?token=abc&x=1"),
///     "https://REDACTED:REDACTED@api.example.com/v1?token=REDACTED&x=1"
/// );
/// ```
pub fn redact_url(url: &str) -> Cow<'_, str> {
    let (before_query, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let (before_fragment, fragment) = match query {
        Some(q) => match q.split_once('#') {
            Some((q, f)) => (Some(q), Some(f)),
            None => (Some(q), None),
        },
        None => (None, None),
    };
    let authority_start = before_query.find("://").map(|i| i + 3);
    let userinfo_end = authority_start.and_then(|start| {
        let authority = &before_query[start..];
        let end = authority.find('/').unwrap_or(authority.len());
        authority[..end].rfind('@').map(|at| start + at)
    });
    let redacted_query = before_fragment.map(redact_query);
    let query_changed = matches!(redacted_query, Some(Cow::Owned(_)));
    if userinfo_end.is_none() && !query_changed {
        return Cow::Borrowed(url);
    }
    let mut out = String::with_capacity(url.len() + 16);
    match (authority_start, userinfo_end) {
        (Some(start), Some(at)) => {
            out.push_str(&before_query[..start]);
            out.push_str("REDACTED:REDACTED");
            out.push_str(&before_query[at..]);
        }
        _ => out.push_str(before_query),
    }
    if let Some(q) = redacted_query {
        out.push('?');
        out.push_str(&q);
    }
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    Cow::Owned(out)
}

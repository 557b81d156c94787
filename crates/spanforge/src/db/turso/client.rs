//! The HTTP side: the database URL, the `POST v2/pipeline` exchange, and what a failed
//! exchange becomes.

use std::time::Duration;

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue, RETRY_AFTER};

use super::error::{ConfigError, Error};
use super::proto::{self, PipelineRequest, PipelineResponse, StreamRequest};

/// The Hrana over HTTP endpoint, relative to the database URL. Version 2 (JSON) is what
/// every Turso database and libSQL server (sqld) speaks; version 3 servers serve it too.
const PIPELINE_PATH: &str = "v2/pipeline";

/// A parsed database URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Target {
    /// `https://host[:port][/path]`, no trailing slash, no query.
    pub(super) base: String,
    pub(super) https: bool,
    /// Host name or IP address (IPv6 without brackets).
    pub(super) host: String,
    /// The port, only when it is not the scheme's default.
    pub(super) port: Option<u16>,
    /// `?authToken=` from the URL.
    pub(super) token: Option<String>,
}

/// The URL without userinfo, query or fragment: safe to show.
pub(super) fn redact(url: &str) -> String {
    let mut out = url.split(['?', '#']).next().unwrap_or("").to_owned();
    if let Some(scheme_end) = out.find("://") {
        let rest = &out[scheme_end + 3..];
        let authority_end = rest.find('/').unwrap_or(rest.len());
        if let Some(at) = rest[..authority_end].rfind('@') {
            out = format!("{}{}", &out[..scheme_end + 3], &rest[at + 1..]);
        }
    }
    out
}

/// Parse a remote libSQL URL: `libsql://` (HTTPS; `?tls=0` for plain HTTP), `https://`,
/// `http://`, `wss://` / `ws://` (as HTTPS / HTTP). `?authToken=` is taken as the token.
pub(super) fn parse_url(url: &str) -> Result<Target, ConfigError> {
    let invalid = |reason: &str| ConfigError::InvalidUrl {
        url: redact(url),
        reason: reason.to_owned(),
    };
    let url = url.trim();
    let (scheme, rest) = url.split_once("://").ok_or_else(|| {
        invalid("not a remote libSQL URL: expected libsql://, https:// or http://")
    })?;
    let scheme = scheme.to_ascii_lowercase();
    let mut https = match scheme.as_str() {
        "libsql" | "https" | "wss" => true,
        "http" | "ws" => false,
        _ => {
            return Err(invalid(
                "unsupported scheme: expected libsql://, https:// or http://",
            ));
        }
    };
    let parsed =
        reqwest::Url::parse(&format!("http://{rest}")).map_err(|e| invalid(&e.to_string()))?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(invalid(
            "credentials in the URL are not supported: pass the auth token (TURSO_AUTH_TOKEN)",
        ));
    }
    let mut token = None;
    for (key, value) in parsed.query_pairs() {
        match key.as_ref() {
            "authToken" | "auth_token" => token = Some(value.into_owned()),
            "tls" if scheme == "libsql" => match value.as_ref() {
                "0" | "false" => https = false,
                "1" | "true" => https = true,
                _ => return Err(invalid("tls must be 0 or 1")),
            },
            _ => {}
        }
    }
    // Parsed again with the scheme used, so that its default port is elided.
    let scheme = if https { "https" } else { "http" };
    let parsed =
        reqwest::Url::parse(&format!("{scheme}://{rest}")).map_err(|e| invalid(&e.to_string()))?;
    let host = parsed
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| invalid("no host"))?;
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = parsed.port();
    let authority = match (port, host.contains(':')) {
        (Some(p), true) => format!("[{host}]:{p}"),
        (Some(p), false) => format!("{host}:{p}"),
        (None, true) => format!("[{host}]"),
        (None, false) => host.clone(),
    };
    let path = parsed.path().trim_end_matches('/');
    let base = format!("{scheme}://{authority}{path}");
    Ok(Target {
        base,
        https,
        host,
        port,
        token,
    })
}

/// Where and how pipeline requests are sent. The token lives only in `auth`, a header
/// value marked sensitive.
pub(super) struct Endpoint {
    client: reqwest::Client,
    pub(super) target: Target,
    pipeline_url: String,
    auth: Option<HeaderValue>,
    timeout: Duration,
}

impl Endpoint {
    pub(super) fn new(
        client: reqwest::Client,
        target: Target,
        token: Option<String>,
        token_source: &'static str,
        timeout: Duration,
    ) -> Result<Endpoint, ConfigError> {
        let auth = match token {
            Some(token) => {
                let mut value = HeaderValue::try_from(format!("Bearer {token}")).map_err(|_| {
                    ConfigError::InvalidToken {
                        source_name: token_source,
                    }
                })?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        let pipeline_url = format!("{}/{PIPELINE_PATH}", target.base);
        Ok(Endpoint {
            client,
            target,
            pipeline_url,
            auth,
            timeout,
        })
    }

    pub(super) fn url(&self) -> &str {
        &self.pipeline_url
    }

    pub(super) fn has_token(&self) -> bool {
        self.auth.is_some()
    }

    /// One `POST v2/pipeline`: the requests run in order on the stream named by `baton`
    /// (a new one when `None`), at `base_url` when the server asked for another one.
    pub(super) async fn pipeline(
        &self,
        base_url: Option<&str>,
        baton: Option<&str>,
        requests: &[StreamRequest],
    ) -> Result<PipelineResponse, Error> {
        let url = match base_url {
            Some(base) => format!("{}/{PIPELINE_PATH}", base.trim_end_matches('/')),
            None => self.pipeline_url.clone(),
        };
        let body = serde_json::to_vec(&PipelineRequest { baton, requests })
            .map_err(|e| Error::InvalidArgument(format!("cannot be encoded as JSON: {e}")))?;
        let mut request = self
            .client
            .post(&url)
            .timeout(self.timeout)
            .header(CONTENT_TYPE, "application/json")
            .body(body);
        if let Some(auth) = &self.auth {
            request = request.header(AUTHORIZATION, auth.clone());
        }
        let response = request
            .send()
            .await
            .map_err(|e| self.transport_error(&url, e))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let bytes = response
            .bytes()
            .await
            .map_err(|e| self.transport_error(&url, e))?;
        if !status.is_success() {
            return Err(Error::Http {
                url: redact(&url),
                status: status.as_u16(),
                message: proto::http_error_message(&bytes),
                retry_after,
            });
        }
        let parsed: PipelineResponse =
            serde_json::from_slice(&bytes).map_err(|e| Error::MalformedResponse {
                url: redact(&url),
                reason: e.to_string(),
            })?;
        if parsed.results.len() != requests.len() {
            return Err(Error::MalformedResponse {
                url: redact(&url),
                reason: format!(
                    "{} results for {} requests",
                    parsed.results.len(),
                    requests.len()
                ),
            });
        }
        Ok(parsed)
    }

    fn transport_error(&self, url: &str, error: reqwest::Error) -> Error {
        let url = redact(url);
        let (connect, timeout) = (error.is_connect(), error.is_timeout());
        let reason = chain(&error.without_url());
        if self.target.https && reason.contains("scheme is not http") {
            return Error::TlsUnavailable { url };
        }
        if connect {
            return Error::Connect { url, reason };
        }
        if timeout {
            return Error::Timeout {
                url,
                timeout: self.timeout,
            };
        }
        Error::Transport { url, reason }
    }
}

/// An error and its sources, `: `-separated, repeated messages once.
fn chain(error: &dyn std::error::Error) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let text = e.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = e.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(url: &str) -> Target {
        parse_url(url).unwrap()
    }

    #[test]
    fn urls() {
        let t = target("libsql://prompts-acme.turso.io");
        assert_eq!(t.base, "https://prompts-acme.turso.io");
        assert!(t.https);
        assert_eq!(t.host, "prompts-acme.turso.io");
        assert_eq!(t.port, None);
        assert_eq!(t.token, None);

        let t = target("libsql://prompts-acme.turso.io?authToken=abc.def");
        assert_eq!(t.base, "https://prompts-acme.turso.io");
        assert_eq!(t.token.as_deref(), Some("abc.def"));

        let t = target("libsql://127.0.0.1:8080?tls=0");
        assert_eq!(t.base, "http://127.0.0.1:8080");
        assert_eq!(t.port, Some(8080));

        let t = target("http://127.0.0.1:80/");
        assert_eq!(t.base, "http://127.0.0.1");
        assert_eq!(t.port, None);

        let t = target("https://db.example:443/base/");
        assert_eq!(t.base, "https://db.example/base");
        assert_eq!(t.port, None);

        let t = target("https://db.example:8443");
        assert_eq!(t.base, "https://db.example:8443");
        assert_eq!(t.port, Some(8443));

        let t = target("wss://db.example");
        assert_eq!(t.base, "https://db.example");

        let t = target("http://[::1]:8080");
        assert_eq!(t.base, "http://[::1]:8080");
        assert_eq!(t.host, "::1");
    }

    #[test]
    fn bad_urls_never_show_the_token() {
        for (url, reason) in [
            ("app.db", "not a remote libSQL URL"),
            ("file:app.db", "not a remote libSQL URL"),
            ("postgres://h/db", "unsupported scheme"),
            ("libsql://user:secret@h", "credentials in the URL"),
            ("libsql://", "empty host"),
        ] {
            let e = parse_url(url).unwrap_err();
            let text = e.to_string();
            assert!(text.contains(reason), "{url}: {text}");
            assert!(!text.contains("secret"), "{text}");
        }
        let e = parse_url("libsql://h?tls=maybe&authToken=secret").unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid database URL \"libsql://h\": tls must be 0 or 1"
        );
        assert_eq!(redact("libsql://u:p@h:1/x?authToken=t#f"), "libsql://h:1/x");
    }
}

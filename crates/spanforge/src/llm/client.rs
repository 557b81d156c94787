//! What the OpenAI and Anthropic clients share: configuration, the HTTP exchange with
//! its typed errors, and finishing a span from a response.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::context::FutureExt as _;
use reqwest::Url;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use reqwest_middleware::ClientWithMiddleware;
use serde::de::DeserializeOwned;
use tokio::time::Instant;

use super::chat::ChatResponse;
use super::content::ContentCapture;
use super::error::{ConfigError, Error};
use super::generation::Generation;
use super::operation::Operation;
use super::span::GenerationSpan;
use crate::cost::Pricing;

/// The default timeout of a call (for a stream: to the response headers, and between chunks).
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// An API key: never printed.
#[derive(Clone)]
pub(crate) struct ApiKey(Arc<str>);

impl ApiKey {
    pub(crate) fn new(key: &str) -> Option<ApiKey> {
        let key = key.trim();
        (!key.is_empty()).then(|| ApiKey(Arc::from(key)))
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(REDACTED)")
    }
}

/// Settings both client builders collect.
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) api_key: Option<ApiKey>,
    pub(crate) base_url: String,
    pub(crate) provider: Cow<'static, str>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) timeout: Duration,
    pub(crate) http: Option<reqwest::Client>,
    pub(crate) http_spans: bool,
    pub(crate) pricing: Option<Pricing>,
    pub(crate) content: Option<ContentCapture>,
}

impl Settings {
    pub(crate) fn new(base_url: &str, provider: &'static str) -> Settings {
        Settings {
            api_key: None,
            base_url: base_url.to_owned(),
            provider: Cow::Borrowed(provider),
            headers: Vec::new(),
            query: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
            http: None,
            http_spans: true,
            pricing: None,
            content: None,
        }
    }

    /// The transport, with `auth` (name, value) headers carrying the key.
    pub(crate) fn build(self, auth: Vec<(HeaderName, String)>) -> Result<Transport, ConfigError> {
        let base = parse_base_url(&self.base_url)?;
        let mut headers = HeaderMap::new();
        for (name, value) in auth {
            let mut value =
                HeaderValue::from_str(&value).map_err(|e| ConfigError::InvalidHeader {
                    name: name.to_string(),
                    reason: e.to_string(),
                })?;
            value.set_sensitive(true);
            headers.insert(name, value);
        }
        for (name, value) in &self.headers {
            let header = HeaderName::from_bytes(name.as_bytes()).map_err(|e| {
                ConfigError::InvalidHeader {
                    name: name.clone(),
                    reason: e.to_string(),
                }
            })?;
            let mut value =
                HeaderValue::from_str(value).map_err(|e| ConfigError::InvalidHeader {
                    name: name.clone(),
                    reason: e.to_string(),
                })?;
            // Custom headers often carry credentials (gateway keys): never print them.
            value.set_sensitive(true);
            headers.insert(header, value);
        }
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let client = match self.http {
            Some(client) => client,
            None => reqwest::Client::builder()
                .build()
                .map_err(|e| ConfigError::HttpClient(e.to_string()))?,
        };
        let http = if self.http_spans {
            crate::http::client(client)
        } else {
            reqwest_middleware::ClientBuilder::new(client).build()
        };
        let server = (
            base.host_str().unwrap_or_default().to_owned(),
            base.port_or_known_default(),
        );
        Ok(Transport {
            http,
            base,
            headers,
            query: self.query,
            timeout: self.timeout,
            secret: self.api_key,
            provider: self.provider,
            server,
            pricing: self.pricing,
            content: self.content,
        })
    }
}

fn parse_base_url(raw: &str) -> Result<Url, ConfigError> {
    let invalid = |reason: String| ConfigError::InvalidBaseUrl {
        url: crate::http::redact_url(raw).into_owned(),
        reason,
    };
    let mut url = Url::parse(raw.trim()).map_err(|e| invalid(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(format!(
            "the scheme is {:?}; use http or https",
            url.scheme()
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("no host".to_owned()));
    }
    if url.query().is_some() {
        return Err(invalid(
            "query parameters go in with_query_param (Azure's api-version, for example)".to_owned(),
        ));
    }
    // A base URL names a directory: `.../v1` and `.../v1/` both mean `.../v1/`.
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// The HTTP side of a client.
pub(crate) struct Transport {
    http: ClientWithMiddleware,
    base: Url,
    headers: HeaderMap,
    query: Vec<(String, String)>,
    pub(crate) timeout: Duration,
    secret: Option<ApiKey>,
    pub(crate) provider: Cow<'static, str>,
    pub(crate) server: (String, Option<u16>),
    pricing: Option<Pricing>,
    content: Option<ContentCapture>,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("provider", &self.provider)
            .field("base_url", &crate::http::redact_url(self.base.as_str()))
            .field("api_key", &self.secret.as_ref().map(|_| "REDACTED"))
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Transport {
    /// The base URL (secrets redacted).
    pub(crate) fn base_url(&self) -> String {
        crate::http::redact_url(self.base.as_str()).into_owned()
    }

    fn url(&self, path: &str) -> Result<Url, Error> {
        let mut url = self.base.join(path).map_err(|e| Error::Transport {
            kind: "request",
            message: format!("cannot build the URL for {path}: {e}"),
        })?;
        if !self.query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in &self.query {
                pairs.append_pair(k, v);
            }
        }
        Ok(url)
    }

    /// A span description with this client's provider, server, pricing and capture policy.
    pub(crate) fn generation(&self, operation: Operation, model: &str) -> Generation {
        let mut g = Generation::new(operation, self.provider.clone(), model)
            .server(self.server.0.clone(), self.server.1);
        if let Some(p) = &self.pricing {
            g = g.with_pricing(p.clone());
        }
        if let Some(c) = &self.content {
            g = g.with_content_capture(c.clone());
        }
        g
    }

    /// `POST {base}/{path}` with a JSON body; the HTTP span (if on) is a child of `span`.
    /// Non-2xx answers become typed errors.
    pub(crate) async fn post(
        &self,
        span: &GenerationSpan,
        path: &str,
        body: Vec<u8>,
        extra_headers: &[(&'static str, &'static str)],
        deadline: Instant,
    ) -> Result<reqwest::Response, Error> {
        let mut request = self
            .http
            .post(self.url(path)?)
            .headers(self.headers.clone())
            .body(body);
        for (name, value) in extra_headers {
            request = request.header(*name, *value);
        }
        let sent = tokio::time::timeout_at(deadline, request.send().with_context(span.context()))
            .await
            .map_err(|_| Error::Timeout(self.timeout))?;
        let response = sent.map_err(|e| self.middleware_error(e))?;
        if response.status().is_success() {
            Ok(response)
        } else {
            Err(self.status_error(response, deadline).await)
        }
    }

    /// The whole body of `response`, as `T`.
    /// A non-streaming call: POST `body` to `path` and parse the JSON answer.
    pub(crate) async fn post_json<T: DeserializeOwned>(
        &self,
        span: &GenerationSpan,
        path: &str,
        body: Vec<u8>,
        deadline: Instant,
    ) -> Result<T, Error> {
        let response = self.post(span, path, body, &[], deadline).await?;
        self.read_json(response, deadline).await
    }

    pub(crate) async fn read_json<T: DeserializeOwned>(
        &self,
        response: reqwest::Response,
        deadline: Instant,
    ) -> Result<T, Error> {
        let bytes = tokio::time::timeout_at(deadline, response.bytes())
            .await
            .map_err(|_| Error::Timeout(self.timeout))?
            .map_err(|e| self.reqwest_error(&e))?;
        serde_json::from_slice(&bytes).map_err(|e| {
            Error::MalformedResponse(format!("{e} in {}", self.scrub(snippet(&bytes))))
        })
    }

    async fn status_error(&self, response: reqwest::Response, deadline: Instant) -> Error {
        let status = response.status().as_u16();
        let retry_after = retry_after(response.headers());
        let body = tokio::time::timeout_at(deadline, response.bytes())
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
        let (code, message) = provider_error(&body);
        let message = self.scrub(message);
        match status {
            429 => Error::RateLimited {
                retry_after,
                code,
                message,
            },
            500.. => Error::Server {
                status,
                code,
                message,
            },
            _ => Error::Api {
                status,
                code,
                message,
            },
        }
    }

    fn middleware_error(&self, error: reqwest_middleware::Error) -> Error {
        match error {
            reqwest_middleware::Error::Reqwest(e) => self.reqwest_error(&e),
            reqwest_middleware::Error::Middleware(e) => Error::Transport {
                kind: "request",
                message: self.scrub(e.to_string()),
            },
        }
    }

    pub(crate) fn reqwest_error(&self, error: &reqwest::Error) -> Error {
        if error.is_timeout() {
            return Error::Timeout(self.timeout);
        }
        let kind = if error.is_connect() {
            "connect"
        } else if error.is_body() || error.is_decode() {
            "body"
        } else {
            "request"
        };
        let mut message = error.to_string();
        if let Some(url) = error.url() {
            message = message.replace(url.as_str(), &crate::http::redact_url(url.as_str()));
        }
        // The root cause says what happened ("connection refused"); reqwest's own message
        // only says that sending failed.
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        Error::Transport {
            kind,
            message: self.scrub(message),
        }
    }

    /// `text` without the API key.
    pub(crate) fn scrub(&self, text: String) -> String {
        match &self.secret {
            Some(key) if text.contains(key.expose()) => text.replace(key.expose(), "REDACTED"),
            _ => text,
        }
    }
}

/// Ends `span` with what `response` says and fills in the cost.
pub(crate) fn finish_chat(span: GenerationSpan, response: &mut ChatResponse) {
    record_response(&span, response);
    response.cost = span.end().map(|c| c.total);
}

pub(crate) fn record_response(span: &GenerationSpan, response: &ChatResponse) {
    if let Some(id) = &response.id {
        span.record_response_id(id.clone());
    }
    if let Some(model) = &response.model {
        span.record_response_model(model.clone());
    }
    if let Some(reason) = &response.finish_reason {
        span.record_finish_reason(reason.clone());
    }
    if let Some(usage) = response.usage {
        span.record_usage(usage);
    }
    if span.captures_content() {
        span.record_output_messages(&[response.output_message()]);
    }
}

/// Ends `span` as failed by `error`, and returns the error.
pub(crate) fn fail(span: GenerationSpan, error: Error) -> Error {
    span.record_error(error.error_type(), error.to_string());
    drop(span);
    error
}

/// The server's wait hint: OpenAI's `retry-after-ms`, else `retry-after` in seconds or as an
/// HTTP date (RFC 9110; a date in the past means "now").
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let get = |name: &str| headers.get(name)?.to_str().ok().map(str::trim);
    if let Some(ms) = get("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        return Duration::try_from_secs_f64(ms / 1000.0).ok();
    }
    let value = get("retry-after")?;
    if let Ok(seconds) = value.parse::<f64>() {
        return Duration::try_from_secs_f64(seconds).ok();
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// The code and message of an error body: OpenAI's `{"error": {"code", "type", "message"}}`
/// or Anthropic's `{"type": "error", "error": {"type", "message"}}`; else the raw text.
pub(crate) fn provider_error(body: &[u8]) -> (Option<String>, String) {
    let parsed: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let error = parsed.as_ref().and_then(|v| v.get("error"));
    match error {
        Some(serde_json::Value::Object(e)) => {
            let code = ["code", "type"]
                .iter()
                .find_map(|k| e.get(*k).and_then(|v| v.as_str()))
                .filter(|c| !c.is_empty())
                .map(|c| c.chars().take(64).collect());
            let message = e
                .get("message")
                .and_then(|m| m.as_str())
                .unwrap_or_default()
                .to_owned();
            (code, message)
        }
        Some(serde_json::Value::String(message)) => (None, message.clone()),
        _ => (None, snippet(body)),
    }
}

/// The start of a body, for error messages.
pub(crate) fn snippet(body: &[u8]) -> String {
    const MAX: usize = 200;
    let text = String::from_utf8_lossy(body);
    if text.chars().count() <= MAX {
        text.into_owned()
    } else {
        let mut s: String = text.chars().take(MAX).collect();
        s.push('…');
        s
    }
}

/// The builder setters both clients share (each builder has a `settings: Settings` field).
macro_rules! settings_setters {
    ($env_base:literal) => {
        /// The API key (default: the provider's environment variable in `from_env`).
        pub fn with_api_key(mut self, key: impl AsRef<str>) -> Self {
            self.settings.api_key = $crate::llm::client::ApiKey::new(key.as_ref());
            self
        }

        #[doc = concat!("The API's base URL (default: `", $env_base, "` in `from_env`, else the provider's).")]
        pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
            self.settings.base_url = url.into();
            self
        }

        /// The `gen_ai.provider.name` of this client's spans and metrics.
        pub fn with_provider_name(
            mut self,
            name: impl Into<std::borrow::Cow<'static, str>>,
        ) -> Self {
            self.settings.provider = name.into();
            self.provider_set = true;
            self
        }

        /// A header sent with every request (a gateway's own key, for example). Values are
        /// never printed nor recorded.
        pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
            self.settings.headers.push((name.into(), value.into()));
            self
        }

        /// How long a call may take (default 10 minutes). For a stream: the time to the
        /// response headers, and the longest gap between two chunks.
        pub fn with_timeout(mut self, timeout: std::time::Duration) -> Self {
            self.settings.timeout = timeout;
            self
        }

        /// The reqwest client to send with (its TLS, proxy and pool settings). Enable a TLS
        /// feature of reqwest (`rustls`, `native-tls`) in your application for `https` URLs.
        pub fn with_http_client(mut self, client: reqwest::Client) -> Self {
            self.settings.http = Some(client);
            self
        }

        /// Whether each HTTP request also gets its own HTTP CLIENT span, a child of the LLM
        /// span (default `true`).
        pub fn with_http_spans(mut self, enabled: bool) -> Self {
            self.settings.http_spans = enabled;
            self
        }

        /// The pricing table of this client's calls (default: [`llm::pricing()`](crate::llm::pricing())).
        pub fn with_pricing(mut self, pricing: $crate::cost::Pricing) -> Self {
            self.settings.pricing = Some(pricing);
            self
        }

        /// The content-capture policy of this client's calls (default:
        /// [`ContentCapture::global`](crate::llm::ContentCapture::global)).
        pub fn with_content_capture(mut self, capture: $crate::llm::ContentCapture) -> Self {
            self.settings.content = Some(capture);
            self
        }
    };
}
pub(crate) use settings_setters;

#[cfg(test)]
mod retry_after_tests {
    use super::*;
    use std::time::SystemTime;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn seconds_milliseconds_and_http_dates() {
        assert_eq!(
            retry_after(&headers(&[("retry-after", "7")])),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after", "3"), ("retry-after-ms", "250")])),
            Some(Duration::from_millis(250))
        );
        let in_a_minute = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(60));
        let wait = retry_after(&headers(&[("retry-after", &in_a_minute)])).unwrap();
        assert!(
            wait > Duration::from_secs(55) && wait <= Duration::from_secs(60),
            "{wait:?}"
        );
        assert_eq!(
            retry_after(&headers(&[(
                "retry-after",
                "Wed, 21 Oct 2015 07:28:00 GMT"
            )])),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")])), None);
        assert_eq!(retry_after(&headers(&[])), None);
    }
}

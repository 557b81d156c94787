//! [`ServerLayer`] and its builder.

use std::sync::Arc;

use http::HeaderName;

use super::service::ServerService;
use crate::http::attributes::is_sensitive_header;

/// Instruments every request of a tower service — typically an axum `Router` — with a
/// SERVER span and the `http.server.request.duration` histogram.
///
/// ```no_run
/// # #[cfg(feature = "axum")] {
/// use axum::{Router, routing::get};
///
/// let app: Router = Router::new()
///     .route("/prompts/{name}", get(|| async { "ok" }))
///     .layer(spanforge::http::ServerLayer::default());
/// # }
/// ```
///
/// Add it with `Router::layer` so it runs after routing: the span is then named after the
/// matched route template (`GET /prompts/{name}`), never the raw path. Requests that match
/// no route get a span named by the method alone and no `http.route`.
///
/// What the span carries: `http.request.method` (`_OTHER` for unknown methods, with
/// `http.request.method_original`), `http.route`, `url.path`, `url.scheme`, `url.query`
/// (secret values redacted), `server.address`, `server.port`, `client.address`,
/// `user_agent.original`, `network.protocol.version`, `http.request.body.size`,
/// `http.response.status_code`, `http.response.body.size`, and `error.type` with an error
/// status for 5xx responses and panics. The OpenTelemetry context is active for the whole
/// handler, so `#[instrument]` spans, logs and outgoing requests inside it are children of
/// the request's span. The span ends when the response body has been sent — for a streamed
/// (SSE) body, after its last chunk.
#[derive(Debug, Clone)]
pub struct ServerLayer {
    pub(crate) settings: Arc<Settings>,
}

#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) excluded_paths: Vec<String>,
    pub(crate) request_headers: Vec<(HeaderName, String)>,
    pub(crate) response_headers: Vec<(HeaderName, String)>,
    pub(crate) trace_id_header: Option<HeaderName>,
}

impl Default for ServerLayer {
    fn default() -> Self {
        ServerLayer::builder().build()
    }
}

impl ServerLayer {
    /// Start configuring a layer.
    pub fn builder() -> ServerLayerBuilder {
        ServerLayerBuilder {
            excluded_paths: ["/health", "/health/ready", "/healthz", "/readyz", "/livez"]
                .into_iter()
                .map(String::from)
                .collect(),
            request_headers: Vec::new(),
            response_headers: Vec::new(),
            trace_id_header: None,
        }
    }
}

impl<S> tower::Layer<S> for ServerLayer {
    type Service = ServerService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ServerService::new(inner, self.settings.clone())
    }
}

/// Options of a [`ServerLayer`].
#[derive(Debug, Clone)]
pub struct ServerLayerBuilder {
    excluded_paths: Vec<String>,
    request_headers: Vec<String>,
    response_headers: Vec<String>,
    trace_id_header: Option<String>,
}

impl ServerLayerBuilder {
    /// Paths that get no span and no metric. Replaces the default list (`/health`,
    /// `/health/ready`, `/healthz`, `/readyz`, `/livez`): liveness probes would otherwise
    /// dominate the traces.
    pub fn exclude_paths<I, P>(mut self, paths: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: Into<String>,
    {
        self.excluded_paths = paths.into_iter().map(Into::into).collect();
        self
    }

    /// Request headers to record as `http.request.header.<name>`. Authorization, cookie and
    /// API-key headers are never recorded, even when listed.
    pub fn capture_request_headers<I, H>(mut self, headers: I) -> Self
    where
        I: IntoIterator<Item = H>,
        H: Into<String>,
    {
        self.request_headers = headers.into_iter().map(Into::into).collect();
        self
    }

    /// Response headers to record as `http.response.header.<name>`; `set-cookie` and the
    /// like are never recorded.
    pub fn capture_response_headers<I, H>(mut self, headers: I) -> Self
    where
        I: IntoIterator<Item = H>,
        H: Into<String>,
    {
        self.response_headers = headers.into_iter().map(Into::into).collect();
        self
    }

    /// Return the request's trace id in this response header (e.g. `x-trace-id`), so a
    /// user reporting a problem can quote it. Off by default.
    pub fn trace_id_response_header(mut self, header: impl Into<String>) -> Self {
        self.trace_id_header = Some(header.into());
        self
    }

    /// Build the layer. Invalid header names are ignored (and reported with a warning).
    pub fn build(self) -> ServerLayer {
        let allowed = |names: Vec<String>, prefix: &str| -> Vec<(HeaderName, String)> {
            names
                .into_iter()
                .filter_map(|name| {
                    let lower = name.to_ascii_lowercase();
                    if is_sensitive_header(&lower) {
                        tracing::warn!(header = %lower, "refusing to capture a sensitive header");
                        return None;
                    }
                    match HeaderName::from_bytes(lower.as_bytes()) {
                        Ok(h) => Some((h, format!("{prefix}{lower}"))),
                        Err(_) => {
                            tracing::warn!(header = %name, "ignoring an invalid header name");
                            None
                        }
                    }
                })
                .collect()
        };
        let trace_id_header = self.trace_id_header.and_then(|h| {
            HeaderName::from_bytes(h.to_ascii_lowercase().as_bytes())
                .map_err(
                    |_| tracing::warn!(header = %h, "ignoring an invalid trace id header name"),
                )
                .ok()
        });
        ServerLayer {
            settings: Arc::new(Settings {
                excluded_paths: self.excluded_paths,
                request_headers: allowed(self.request_headers, "http.request.header."),
                response_headers: allowed(self.response_headers, "http.response.header."),
                trace_id_header,
            }),
        }
    }
}

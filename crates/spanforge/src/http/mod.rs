//! HTTP instrumentation: a tower layer for servers, a reqwest middleware for clients.
//!
//! Both follow the stable HTTP semantic conventions (v1.44): span names `{method} {route}`
//! (server) and `{method}` (client), attributes `http.request.method`, `http.route`,
//! `http.response.status_code`, `url.*`, `server.*`, `error.type`, and the
//! `http.server.request.duration` / `http.client.request.duration` histograms in seconds.
//!
//! Secrets never reach an attribute: `url.query` and `url.full` have the values of secret
//! query parameters (`api_key`, `token`, `sig`, …) replaced by `REDACTED` and credentials
//! removed from the authority, and `authorization`, `cookie`, `set-cookie` and API-key
//! headers are never captured, even when asked for.
//!
//! | feature | what it adds |
//! |---|---|
//! | `axum` | [`ServerLayer`], usable with any axum `Router` or tower service |
//! | `reqwest` | [`client`] and [`ClientMiddleware`] for reqwest-middleware |

mod attributes;
mod metrics;
mod redact;

#[cfg(feature = "axum")]
mod server;
#[cfg(feature = "axum")]
pub use server::{
    ServerLayer, ServerLayerBuilder, ServerService, body::ResponseBody, future::ResponseFuture,
};

#[cfg(feature = "reqwest")]
mod client;
#[cfg(feature = "reqwest")]
pub use client::{ClientMiddleware, client};

pub use redact::{redact_query, redact_url};

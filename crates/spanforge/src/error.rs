//! Errors returned by [`init`](crate::init) and [`Telemetry::shutdown`](crate::Telemetry::shutdown).

use std::time::Duration;

/// Why [`init`](crate::init) or [`Config::from_env`](crate::Config::from_env) refused a configuration.
///
/// Every variant names the offending setting (the environment variable, or the builder
/// method when the value came from code) and the value, so the message alone is enough to
/// fix the problem. Secrets (header values) are never included.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive] // new settings bring new ways to be wrong
pub enum InitError {
    /// A setting had a value that cannot be used.
    #[error("invalid value for {var}: {value:?}: {reason}")]
    InvalidValue {
        /// The environment variable or builder method that supplied the value.
        var: String,
        /// The offending value (never a secret).
        value: String,
        /// What is wrong with it and what is accepted.
        reason: String,
    },
    /// An OTLP endpoint could not be parsed as an `http://` or `https://` URL.
    #[error("invalid OTLP endpoint in {var}: {value:?}: {reason}")]
    InvalidEndpoint {
        /// The environment variable or builder method that supplied the endpoint.
        var: String,
        /// The endpoint as given.
        value: String,
        /// Why it was refused.
        reason: String,
    },
    /// An OTLP header list was malformed. The value is not repeated because headers carry
    /// credentials; the position of the bad entry is given instead.
    #[error("malformed header list in {var}: entry {entry}: {reason}")]
    InvalidHeaders {
        /// The environment variable or builder method that supplied the headers.
        var: String,
        /// The 1-based position of the bad `key=value` entry.
        entry: usize,
        /// Why it was refused.
        reason: String,
    },
    /// The OpenTelemetry SDK refused to build an exporter.
    #[error("could not build the {signal} exporter: {reason}")]
    Exporter {
        /// `traces`, `metrics` or `logs`.
        signal: &'static str,
        /// The SDK's explanation.
        reason: String,
    },
    /// A global `tracing` subscriber was already installed, so spanforge could not install its
    /// own. Call [`init`](crate::init) once, early in `main`, or turn subscriber installation
    /// off with [`Config::with_install_subscriber`](crate::Config::with_install_subscriber).
    #[error("a global tracing subscriber is already installed")]
    SubscriberAlreadySet,
    /// The pricing file named by `SPANFORGE_PRICING_FILE` (or
    /// [`Config::with_pricing_file`](crate::Config::with_pricing_file)) could not be used;
    /// the message names the file, the line and the reason.
    #[error("SPANFORGE_PRICING_FILE: {0}")]
    Pricing(#[source] crate::cost::PricingError),
    /// The background export runtime could not be started.
    #[error("could not start the export runtime: {0}")]
    Runtime(#[source] std::io::Error),
}

impl InitError {
    pub(crate) fn invalid(var: &str, value: &str, reason: impl Into<String>) -> Self {
        InitError::InvalidValue {
            var: var.to_owned(),
            value: value.to_owned(),
            reason: reason.into(),
        }
    }
}

/// Why [`Telemetry::shutdown`](crate::Telemetry::shutdown) could not flush everything.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ShutdownError {
    /// Shutdown had already run; nothing was done.
    #[error("telemetry was already shut down")]
    AlreadyShutdown,
    /// The deadline passed before every pipeline had flushed; data still queued was lost
    /// (and counted in [`Telemetry::stats`](crate::Telemetry::stats)).
    #[error("telemetry did not flush within {0:?}")]
    Timeout(Duration),
    /// One or more pipelines reported an error while flushing.
    #[error("telemetry shutdown reported errors: {}", .0.join("; "))]
    Failed(Vec<String>),
}

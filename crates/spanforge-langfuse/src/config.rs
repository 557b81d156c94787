//! Configuration: credentials, endpoint, filtering and limits.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry_sdk::trace::SpanData;

/// Langfuse Cloud (EU), used when neither `LANGFUSE_BASE_URL` nor `LANGFUSE_HOST` is set.
pub const DEFAULT_BASE_URL: &str = "https://cloud.langfuse.com";

/// A configuration error; each names the variable or setting at fault and never contains
/// the secret key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A required variable or setting is absent or empty.
    #[error("{name} is not set")]
    Missing {
        /// The environment variable (or builder setting) that is missing.
        name: &'static str,
    },
    /// A variable or setting has an unusable value.
    #[error("{name} is invalid: {reason}")]
    Invalid {
        /// The environment variable (or builder setting) at fault.
        name: &'static str,
        /// Why the value is rejected (never the secret itself).
        reason: String,
    },
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

/// How spans reach Langfuse.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum IngestionMode {
    /// OTLP/HTTP protobuf to `{base}/api/public/otel/v1/traces` (Langfuse Cloud, self-hosted
    /// v3). The default.
    #[default]
    Otel,
    /// The legacy batch ingestion API, `{base}/api/public/ingestion` (self-hosted v2 and v3).
    Batch,
}

/// Which spans the exporter sends to Langfuse.
#[derive(Clone, Default)]
pub enum SpanFilter {
    /// Spans of traces holding at least one GenAI span (one with `gen_ai.operation.name`):
    /// the GenAI spans and their ancestors. The default.
    #[default]
    GenAiTraces,
    /// Every span with valid ids.
    All,
    /// The spans for which the predicate returns `true` (spans with invalid ids are still
    /// never sent).
    Custom(Arc<dyn Fn(&SpanData) -> bool + Send + Sync>),
}

impl SpanFilter {
    /// A custom predicate.
    pub fn custom(predicate: impl Fn(&SpanData) -> bool + Send + Sync + 'static) -> Self {
        SpanFilter::Custom(Arc::new(predicate))
    }
}

impl fmt::Debug for SpanFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpanFilter::GenAiTraces => f.write_str("GenAiTraces"),
            SpanFilter::All => f.write_str("All"),
            SpanFilter::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}

/// Retry policy for 429 and 5xx answers and transport errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per request, the first included (at least 1).
    pub max_attempts: u32,
    /// First backoff; doubled on every retry, with up to 50 % random jitter added.
    pub initial_backoff: Duration,
    /// Cap on one backoff, a `Retry-After` included.
    pub max_backoff: Duration,
    /// Cap on the time spent on one export call: every request of the batch, retries and
    /// attempt timeouts included. Keep it well under spanforge's span export timeout (30 s
    /// by default).
    pub max_elapsed: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            max_elapsed: Duration::from_secs(15),
        }
    }
}

/// The exporter's configuration. The secret key is never shown by `Debug`.
#[derive(Clone)]
pub struct LangfuseConfig {
    pub(crate) public_key: String,
    pub(crate) secret_key: String,
    pub(crate) base_url: String,
    pub(crate) mode: IngestionMode,
    pub(crate) filter: SpanFilter,
    pub(crate) retry: RetryPolicy,
    pub(crate) request_timeout: Duration,
    pub(crate) max_request_bytes: usize,
    pub(crate) max_attribute_bytes: usize,
    pub(crate) genai_trace_memory: usize,
}

impl fmt::Debug for LangfuseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LangfuseConfig")
            .field("public_key", &self.public_key)
            .field("secret_key", &"<redacted>")
            .field("base_url", &self.base_url)
            .field("mode", &self.mode)
            .field("filter", &self.filter)
            .field("retry", &self.retry)
            .field("request_timeout", &self.request_timeout)
            .field("max_request_bytes", &self.max_request_bytes)
            .field("max_attribute_bytes", &self.max_attribute_bytes)
            .field("genai_trace_memory", &self.genai_trace_memory)
            .finish()
    }
}

impl LangfuseConfig {
    /// A builder with the two keys; everything else defaults.
    pub fn builder(
        public_key: impl Into<String>,
        secret_key: impl Into<String>,
    ) -> LangfuseConfigBuilder {
        LangfuseConfigBuilder {
            config: LangfuseConfig {
                public_key: public_key.into(),
                secret_key: secret_key.into(),
                base_url: DEFAULT_BASE_URL.to_owned(),
                mode: IngestionMode::default(),
                filter: SpanFilter::default(),
                retry: RetryPolicy::default(),
                request_timeout: Duration::from_secs(10),
                max_request_bytes: 3_500_000,
                max_attribute_bytes: 512 * 1024,
                genai_trace_memory: 4096,
            },
        }
    }

    /// Reads `LANGFUSE_PUBLIC_KEY`, `LANGFUSE_SECRET_KEY` (both required) and the base URL
    /// from `LANGFUSE_BASE_URL`, else `LANGFUSE_HOST`, else [`DEFAULT_BASE_URL`], and the
    /// mode from `LANGFUSE_INGESTION` (`otel`, the default, or `batch`).
    pub fn from_env() -> Result<LangfuseConfig, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) with a custom variable lookup (for tests).
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<LangfuseConfig, ConfigError> {
        let get = |name: &'static str| lookup(name).filter(|v| !v.trim().is_empty());
        let public_key = get("LANGFUSE_PUBLIC_KEY").ok_or(ConfigError::Missing {
            name: "LANGFUSE_PUBLIC_KEY",
        })?;
        let secret_key = get("LANGFUSE_SECRET_KEY").ok_or(ConfigError::Missing {
            name: "LANGFUSE_SECRET_KEY",
        })?;
        let mut builder = Self::builder(public_key.trim(), secret_key.trim());
        if let Some(url) = get("LANGFUSE_BASE_URL") {
            builder.config.base_url = check_url("LANGFUSE_BASE_URL", &url)?;
        } else if let Some(url) = get("LANGFUSE_HOST") {
            builder.config.base_url = check_url("LANGFUSE_HOST", &url)?;
        }
        match get("LANGFUSE_INGESTION").map(|v| v.trim().to_ascii_lowercase()) {
            None => {}
            Some(v) if v == "otel" => builder.config.mode = IngestionMode::Otel,
            Some(v) if v == "batch" => builder.config.mode = IngestionMode::Batch,
            Some(v) => {
                return Err(ConfigError::Invalid {
                    name: "LANGFUSE_INGESTION",
                    reason: format!("{v:?}; expected otel or batch"),
                });
            }
        }
        builder.build()
    }

    /// The ingestion mode.
    pub fn mode(&self) -> IngestionMode {
        self.mode
    }

    /// The batch ingestion endpoint: `{base}/api/public/ingestion`.
    pub fn ingestion_endpoint(&self) -> String {
        format!("{}/api/public/ingestion", self.base_url)
    }

    /// The public key (`pk-lf-…`).
    pub fn public_key(&self) -> &str {
        &self.public_key
    }

    /// The base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The OTLP traces endpoint: `{base}/api/public/otel/v1/traces`.
    pub fn traces_endpoint(&self) -> String {
        format!("{}/api/public/otel/v1/traces", self.base_url)
    }
}

fn check_url(name: &'static str, url: &str) -> Result<String, ConfigError> {
    let url = url.trim().trim_end_matches('/');
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(ConfigError::Invalid {
            name,
            reason: format!("{url:?} is not an http:// or https:// URL"),
        });
    }
    Ok(url.to_owned())
}

/// Builds a [`LangfuseConfig`].
#[derive(Debug, Clone)]
pub struct LangfuseConfigBuilder {
    config: LangfuseConfig,
}

impl LangfuseConfigBuilder {
    /// The Langfuse base URL (`https://cloud.langfuse.com`, `http://localhost:3000`, …).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.config.base_url = url.into();
        self
    }

    /// The ingestion mode (default [`IngestionMode::Otel`]).
    pub fn mode(mut self, mode: IngestionMode) -> Self {
        self.config.mode = mode;
        self
    }

    /// Which spans to send (default [`SpanFilter::GenAiTraces`]).
    pub fn filter(mut self, filter: SpanFilter) -> Self {
        self.config.filter = filter;
        self
    }

    /// The retry policy.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.config.retry = retry;
        self
    }

    /// Timeout of one HTTP attempt (default 10 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.config.request_timeout = timeout;
        self
    }

    /// Upper bound on one request body; larger batches are split (default 3.5 MB).
    pub fn max_request_bytes(mut self, bytes: usize) -> Self {
        self.config.max_request_bytes = bytes;
        self
    }

    /// Upper bound on one string attribute; longer ones are truncated with a marker
    /// (default 512 KiB).
    pub fn max_attribute_bytes(mut self, bytes: usize) -> Self {
        self.config.max_attribute_bytes = bytes;
        self
    }

    /// How many GenAI trace ids are remembered so that ancestors exported in a later batch
    /// are still sent (default 4096).
    pub fn genai_trace_memory(mut self, traces: usize) -> Self {
        self.config.genai_trace_memory = traces;
        self
    }

    /// Checks the settings.
    pub fn build(mut self) -> Result<LangfuseConfig, ConfigError> {
        let c = &mut self.config;
        if c.public_key.trim().is_empty() {
            return Err(ConfigError::Missing { name: "public_key" });
        }
        if c.secret_key.trim().is_empty() {
            return Err(ConfigError::Missing { name: "secret_key" });
        }
        c.base_url = check_url("base_url", &c.base_url)?;
        if c.retry.max_attempts == 0 {
            return Err(ConfigError::Invalid {
                name: "retry.max_attempts",
                reason: "must be at least 1".to_owned(),
            });
        }
        if c.max_request_bytes < 1024 {
            return Err(ConfigError::Invalid {
                name: "max_request_bytes",
                reason: "must be at least 1024".to_owned(),
            });
        }
        if c.max_attribute_bytes < 64 {
            return Err(ConfigError::Invalid {
                name: "max_attribute_bytes",
                reason: "must be at least 64".to_owned(),
            });
        }
        Ok(self.config)
    }
}

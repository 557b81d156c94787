//! A [spanforge](https://docs.rs/spanforge) span exporter for [Langfuse](https://langfuse.com).
//!
//! [`LangfuseExporter`] sends spans to Langfuse's OTLP endpoint
//! (`{base}/api/public/otel/v1/traces`, OTLP/HTTP protobuf, ingestion version 4), after
//! adding the `langfuse.*` attributes Langfuse does not derive from the GenAI semantic
//! conventions itself: observation type, prompt link, completion start time, usage and
//! cost breakdown, level, trace name, session, environment and release. For self-hosted
//! servers without the OTLP endpoint, [`IngestionMode::Batch`] (`LANGFUSE_INGESTION=batch`)
//! sends the same information as events to the batch ingestion API.
//!
//! By default only traces holding a GenAI span are sent: the GenAI spans and their
//! ancestors (see [`SpanFilter`]).
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let exporter = spanforge_langfuse::LangfuseExporter::from_env()?;
//! let telemetry = spanforge::init(
//!     spanforge::Config::from_env()?.with_span_exporter("langfuse", exporter),
//! )?;
//! # drop(telemetry);
//! # Ok(())
//! # }
//! ```
//!
//! See `docs/langfuse.md` for what appears in Langfuse and why.

mod batch;
mod config;
mod exporter;
mod mapping;
mod otlp;

pub use config::{
    ConfigError, DEFAULT_BASE_URL, IngestionMode, LangfuseConfig, LangfuseConfigBuilder,
    RetryPolicy, SpanFilter,
};
pub use exporter::{INGESTION_VERSION, LangfuseExporter, LangfuseStats};
pub use mapping::TRUNCATION_MARKER;

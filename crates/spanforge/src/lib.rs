//! spanforge: OpenTelemetry tracing, metrics, logs and LLM observability for Rust services.

pub mod cost;
pub mod db;

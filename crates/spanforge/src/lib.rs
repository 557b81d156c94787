#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod config;
mod error;
mod export;
mod init;
mod resource;
mod self_metrics;
mod subscriber;
mod telemetry;

pub mod cost;
pub mod db;
pub mod health;
pub mod http;
pub mod llm;
pub mod propagation;

pub use config::{BatchSettings, Config, ExporterKind, LogFormat, Propagator, Protocol, Sampler};
pub use error::{InitError, ShutdownError};
pub use export::{ExporterStats, TelemetryStats};
pub use init::init;
pub use telemetry::{DROP_FLUSH_TIMEOUT, Telemetry};

/// Re-exports of the OpenTelemetry crates spanforge is built on, so applications use the
/// exact same versions (two versions of `opentelemetry` in one binary silently break
/// context propagation).
pub mod otel {
    pub use opentelemetry;
    pub use opentelemetry_sdk;
}

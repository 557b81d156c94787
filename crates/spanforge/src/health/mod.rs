//! Multi-layer health checks: liveness (`/health`) and readiness (`/health/ready`).
//!
//! Readiness runs every registered probe — the database, Redis, an LLM provider, the OTLP
//! endpoint — concurrently, each with its own timeout, so one hanging dependency cannot hang
//! the endpoint. Any failing *critical* probe makes readiness fail (HTTP 503); non-critical
//! probes are reported but do not. Each run also records the `spanforge.health.probe.up`
//! gauge (1 or 0) and the `spanforge.health.probe.duration` histogram per probe, so alerts
//! can fire on a dependency before users notice.
//!
//! ```no_run
//! # #[cfg(feature = "axum")] {
//! use std::time::Duration;
//! use spanforge::health::{Health, probes};
//!
//! let health = Health::new()
//!     .probe("otlp", false, Duration::from_secs(1), probes::tcp("127.0.0.1:4317"))
//!     .probe("llm", true, Duration::from_secs(2), || async { Ok::<(), String>(()) });
//! let app: axum::Router = axum::Router::new().merge(health.router());
//! # }
//! ```

mod checker;
pub mod probes;
mod report;
#[cfg(feature = "axum")]
mod routes;

pub use checker::Health;
pub use report::{ProbeReport, ProbeStatus, ReadinessReport};

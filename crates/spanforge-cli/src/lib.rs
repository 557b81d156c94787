//! The `spanforge` command's building blocks, as a library so that the quickstart example,
//! the tests and the benchmarks use exactly what the binary runs.
//!
//! - [`store`]: the local libSQL store of spans, logs and metric points, with retention.
//! - [`ingest`]: OTLP over gRPC and HTTP (protobuf, JSON, gzip) into the store.
//! - [`api`] and [`ui`]: the JSON API and the web UI over the store.
//! - [`serve`], [`cost`], [`doctor`], [`report`]: the subcommands.

pub mod api;
pub mod cost;
pub mod doctor;
pub mod duration;
pub mod ingest;
pub mod prometheus;
pub mod report;
pub mod serve;
pub mod store;
pub mod ui;

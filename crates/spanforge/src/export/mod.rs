//! The export side: a background runtime, one bounded queue per exporter, and counters.
//!
//! ```text
//!  application threads                      spanforge-export runtime (1 worker thread)
//!  ───────────────────                      ──────────────────────────────────────────
//!  span ends ─▶ on_end ─try_send─▶ [queue, bounded] ─▶ batch ─▶ exporter.export().await
//!                 │ full?                                          │ ok / error / timeout
//!                 └─▶ dropped += 1, warn once                      └─▶ exported / failed += n
//! ```
//!
//! Nothing on the application's side blocks: a full queue drops the span and counts it.
//! Every exporter (OTLP over gRPC or HTTP, the console, extra exporters such as Langfuse)
//! runs as a task on spanforge's own Tokio runtime, so it works whatever runtime — or none
//! — the application uses, and a slow destination stalls only its own queue.

mod console;
mod counters;
mod dyn_exporter;
mod otlp;
mod queue;
mod runtime;
mod warn;

pub(crate) use console::{ConsoleLogExporter, ConsoleSpanExporter};
pub(crate) use counters::ExportCounters;
pub use counters::{ExporterStats, TelemetryStats};
pub(crate) use dyn_exporter::NamedSpanExporter;
pub(crate) use otlp::{build_log_exporter, build_metric_exporter, build_span_exporter};
pub(crate) use queue::{LogQueue, SpanQueue};
pub(crate) use runtime::{ExportRuntime, OnRuntimeMetricExporter};

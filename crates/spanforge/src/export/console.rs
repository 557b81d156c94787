//! Console exporters: one readable line per span or log record on standard output.

use std::fmt::Write as _;
use std::io::Write as _;
use std::time::UNIX_EPOCH;

use opentelemetry::trace::{SpanKind, Status};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogBatch, LogExporter};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

/// Prints each span as
/// `span <trace_id> <span_id> parent=<id|-> <kind> "<name>" <duration> [status] key=value …`.
#[derive(Debug, Default)]
pub(crate) struct ConsoleSpanExporter;

const NOISE: [&str; 3] = ["busy_ns", "idle_ns", "target"];

pub(crate) fn format_span(span: &SpanData) -> String {
    let mut line = String::with_capacity(160);
    let duration = span
        .end_time
        .duration_since(span.start_time)
        .unwrap_or_default();
    let parent = if span.parent_span_id == opentelemetry::trace::SpanId::INVALID {
        "-".to_owned()
    } else {
        span.parent_span_id.to_string()
    };
    let kind = match span.span_kind {
        SpanKind::Client => "client",
        SpanKind::Server => "server",
        SpanKind::Producer => "producer",
        SpanKind::Consumer => "consumer",
        SpanKind::Internal => "internal",
    };
    let _ = write!(
        line,
        "span {} {} parent={} {} {:?} {:.3}ms",
        span.span_context.trace_id(),
        span.span_context.span_id(),
        parent,
        kind,
        span.name,
        duration.as_secs_f64() * 1000.0,
    );
    match &span.status {
        Status::Error { description } => {
            let _ = write!(line, " ERROR({description:?})");
        }
        Status::Ok => line.push_str(" OK"),
        Status::Unset => {}
    }
    for kv in &span.attributes {
        // Source locations and thread bookkeeping add noise to a console line.
        let key = kv.key.as_str();
        if key.starts_with("code.") || key.starts_with("thread.") || NOISE.contains(&key) {
            continue;
        }
        let _ = write!(line, " {}={}", kv.key, kv.value);
    }
    line
}

impl SpanExporter for ConsoleSpanExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let mut out = String::new();
        for span in &batch {
            out.push_str(&format_span(span));
            out.push('\n');
        }
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(out.as_bytes())
            .and_then(|()| stdout.flush())
            .map_err(|e| opentelemetry_sdk::error::OTelSdkError::InternalFailure(e.to_string()))
    }
}

/// Prints each log record as `log <time> <severity> trace=<id> span=<id> <body>`.
#[derive(Debug, Default)]
pub(crate) struct ConsoleLogExporter;

impl LogExporter for ConsoleLogExporter {
    async fn export(&self, batch: LogBatch<'_>) -> OTelSdkResult {
        let mut out = String::new();
        for (record, _scope) in batch.iter() {
            let time = record
                .timestamp()
                .or(record.observed_timestamp())
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map(|d| d.as_secs_f64())
                .unwrap_or_default();
            let _ = write!(
                out,
                "log {time:.6} {}",
                record.severity_text().unwrap_or("-")
            );
            if let Some(trace) = record.trace_context() {
                let _ = write!(out, " trace={} span={}", trace.trace_id, trace.span_id);
            }
            if let Some(body) = record.body() {
                let _ = write!(out, " {body:?}");
            }
            out.push('\n');
        }
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(out.as_bytes())
            .and_then(|()| stdout.flush())
            .map_err(|e| opentelemetry_sdk::error::OTelSdkError::InternalFailure(e.to_string()))
    }
}

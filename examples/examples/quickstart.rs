//! The five-minute tour: an instrumented little workload whose spans, logs and metrics go to
//! a collector when one is configured, and to the console when none is.
//!
//! Run with `cargo run -p spanforge-examples --example quickstart`
//! (or `OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 cargo run -p spanforge-examples --example quickstart`).

use std::time::Duration;

use anyhow::Context as _;
use spanforge::{Config, ExporterKind};
use tracing::{info, instrument, warn};

#[instrument]
async fn render_prompt(name: &str, version: u32) -> String {
    tokio::time::sleep(Duration::from_millis(3)).await;
    info!(
        prompt.name = name,
        prompt.version = version,
        "template rendered"
    );
    format!("Summarise the following text ({name} v{version})")
}

#[instrument(skip(prompt), fields(prompt_len = prompt.len()))]
async fn call_model(prompt: &str, model: &str) -> Result<usize, std::io::Error> {
    tokio::time::sleep(Duration::from_millis(12)).await;
    if model == "unreachable-model" {
        let error = std::io::Error::new(std::io::ErrorKind::TimedOut, "provider timed out");
        warn!(error = %error, "model call failed");
        return Err(error);
    }
    Ok(prompt.len() / 4)
}

#[instrument]
async fn handle_request(prompt: &'static str, version: u32, model: &'static str) {
    let text = render_prompt(prompt, version).await;
    match call_model(&text, model).await {
        Ok(tokens) => info!(tokens, "request served"),
        Err(error) => warn!(%error, "request failed"),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut config = Config::from_env()
        .context("reading OTEL_* configuration")?
        .with_service_name("quickstart")
        .with_service_version(env!("CARGO_PKG_VERSION"));
    let collector_configured = std::env::var_os("OTEL_EXPORTER_OTLP_ENDPOINT").is_some()
        || std::env::var_os("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_some()
        || std::env::var_os("OTEL_TRACES_EXPORTER").is_some();
    if !collector_configured {
        // No collector: print spans and logs instead of sending them nowhere.
        config = config
            .with_traces_exporter(ExporterKind::Console)
            .with_logs_exporter(ExporterKind::None)
            .with_metrics_exporter(ExporterKind::None);
        println!("No OTEL_EXPORTER_OTLP_ENDPOINT set: printing spans to the console.\n");
    }
    let telemetry = spanforge::init(config).context("starting telemetry")?;

    for (prompt, version, model) in [
        ("summarise", 1, "gpt-4o-mini"),
        ("summarise", 2, "gpt-4o-mini"),
        ("translate", 1, "claude-3-5-haiku"),
        ("translate", 1, "unreachable-model"),
    ] {
        handle_request(prompt, version, model).await;
    }

    let stats = telemetry.stats();
    telemetry.shutdown().await.context("flushing telemetry")?;
    println!();
    for exporter in &stats.exporters {
        println!(
            "{} {}: {} accepted before shutdown, {} dropped, {} failed",
            exporter.signal, exporter.name, exporter.accepted, exporter.dropped, exporter.failed
        );
    }
    Ok(())
}

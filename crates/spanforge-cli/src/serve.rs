//! `spanforge serve`: OTLP in (gRPC and HTTP), a local libSQL store, the web UI and JSON API out.

use std::process::ExitCode;

/// Arguments of `spanforge serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {}

/// Runs `spanforge serve` until Ctrl-C.
pub async fn run(_args: ServeArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}

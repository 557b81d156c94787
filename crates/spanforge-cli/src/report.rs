//! `spanforge report`: reports from Prometheus.

use std::process::ExitCode;

/// `spanforge report <kind>`.
#[derive(Debug, clap::Subcommand)]
pub enum ReportCommand {
    /// The weekly SLI report.
    Weekly,
}

/// Runs a report.
pub async fn run(_command: ReportCommand) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}

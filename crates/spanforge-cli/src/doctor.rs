//! `spanforge doctor`: the daily health check.

use std::process::ExitCode;

/// Arguments of `spanforge doctor`.
#[derive(Debug, clap::Args)]
pub struct DoctorArgs {
    /// Print the results as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs the health check; the exit code is non-zero when a check fails.
pub async fn run(_args: DoctorArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}

//! `spanforge`: a local OTLP backend with a web UI, cost reports, the daily health check and
//! the weekly SLI report. See docs/cli.md.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use spanforge_cli::{cost, doctor, report, serve};

/// The spanforge command line.
#[derive(Debug, Parser)]
#[command(name = "spanforge", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Receive OTLP, store it in a local libSQL file and serve the web UI and JSON API.
    Serve(serve::ServeArgs),
    /// LLM cost per prompt, model, provider or route, from the local store or Prometheus.
    Cost(cost::CostArgs),
    /// The daily health check: every backend and credential, one line each.
    Doctor(doctor::DoctorArgs),
    /// Reports from Prometheus.
    #[command(subcommand)]
    Report(report::ReportCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("spanforge: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => serve::run(args).await,
            Command::Cost(args) => cost::run(args).await,
            Command::Doctor(args) => doctor::run(args).await,
            Command::Report(command) => report::run(command).await,
        }
    });
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("spanforge: {error:#}");
            ExitCode::FAILURE
        }
    }
}

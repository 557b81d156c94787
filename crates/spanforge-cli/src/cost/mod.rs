//! `spanforge cost`: LLM cost per prompt, model, provider or route, as a table, CSV or JSON,
//! from the local store or (with `--prometheus URL`) from Prometheus.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use serde::Serialize;

pub mod prometheus;

/// What the rows of a cost report are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// Prompt name and version (`gen_ai.prompt.name`, `gen_ai.prompt.version`).
    Prompt,
    /// The model that answered (`gen_ai.response.model`, else `gen_ai.request.model`).
    Model,
    /// The provider (`gen_ai.provider.name`).
    Provider,
    /// The HTTP route of the request the LLM call was made for.
    Route,
}

/// One row of a cost report. Only the key fields of the report's grouping are set.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CostRow {
    /// Prompt name (grouping `prompt`).
    pub prompt_name: Option<String>,
    /// Prompt version (grouping `prompt`).
    pub prompt_version: Option<String>,
    /// Model (grouping `model`).
    pub model: Option<String>,
    /// Provider (grouping `provider`).
    pub provider: Option<String>,
    /// HTTP route (grouping `route`).
    pub route: Option<String>,
    /// LLM calls.
    pub calls: u64,
    /// Input tokens, cached ones included.
    pub input_tokens: u64,
    /// Output tokens, reasoning included.
    pub output_tokens: u64,
    /// Input tokens read from the provider's cache.
    pub cached_tokens: u64,
    /// Total cost in US dollars.
    pub cost_usd: f64,
}

/// Arguments of `spanforge cost`.
#[derive(Debug, clap::Args)]
pub struct CostArgs {
    /// Group rows by prompt, model, provider or route.
    #[arg(long, value_enum, default_value = "prompt")]
    pub by: GroupBy,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Only calls in this window before now (`15m`, `24h`, `7d`); everything when absent.
    #[arg(long, value_parser = crate::duration::parse_duration)]
    pub since: Option<Duration>,
    /// The local store written by `spanforge serve`.
    #[arg(long, env = "SPANFORGE_DB", default_value = "spanforge.db")]
    pub db: PathBuf,
    /// Read the production view from this Prometheus instead of the local store.
    #[arg(long, value_name = "URL")]
    pub prometheus: Option<String>,
}

/// Output formats of `spanforge cost`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// An aligned text table with a total line.
    Table,
    /// CSV with a header row.
    Csv,
    /// A JSON object: `{"group", "since_seconds", "rows", "total"}`.
    Json,
}

/// Runs `spanforge cost`.
pub async fn run(_args: CostArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}

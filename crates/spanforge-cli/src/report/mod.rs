//! `spanforge report`: reports from Prometheus.
//!
//! `spanforge report weekly` prints the weekly SLI report as Markdown on stdout and, when a
//! Discord webhook is configured, posts it there:
//!
//! ```text
//! ## Weekly SLI report · 2026-W23
//! 2026-06-01 00:00 → 2026-06-08 00:00 UTC
//!
//! - ✅ **Availability** 99.943 % (target ≥ 99.9 %) · 57 of 100,000 server requests failed
//! - ✅ **HTTP latency p95** 175 ms (target ≤ 500 ms)
//! - ❌ **DB query p99** 1.50 s (target ≤ 1 s)
//! - ✅ **LLM spend** $123.45 (budget $200.00)
//!   - openai $80.00
//!   - anthropic $43.45
//! ```
//!
//! ✅ met, ❌ missed, ❔ no data in the window, ➖ no target (no `--llm-budget-usd`).
//! See [`weekly`] for the queries.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::Context as _;

use crate::prometheus::PrometheusClient;

pub mod discord;
pub mod time;
pub mod weekly;

/// `spanforge report <kind>`.
#[derive(Debug, clap::Subcommand)]
pub enum ReportCommand {
    /// The weekly SLI report: availability, HTTP p95, database p99 and LLM spend against
    /// their targets, as Markdown; optionally posted to Discord.
    Weekly(WeeklyArgs),
}

/// Arguments of `spanforge report weekly`. `Debug` hides the webhook URL (it holds a token).
#[derive(clap::Args)]
pub struct WeeklyArgs {
    /// Prometheus to query.
    #[arg(
        long,
        value_name = "URL",
        env = "SPANFORGE_PROMETHEUS_URL",
        hide_env_values = true,
        default_value = "http://localhost:9090"
    )]
    pub prometheus: String,
    /// End of the week (RFC 3339 or Unix seconds); default: now.
    #[arg(long, value_name = "TIME", value_parser = time::parse_time)]
    pub end: Option<SystemTime>,
    /// The week's LLM budget in US dollars; without it the spend is shown without a verdict.
    #[arg(long, value_name = "USD", env = "SPANFORGE_LLM_BUDGET_USD")]
    pub llm_budget_usd: Option<f64>,
    /// Availability objective in percent.
    #[arg(long, value_name = "PERCENT", default_value = "99.9")]
    pub availability_target: f64,
    /// Objective for the p95 HTTP server latency.
    #[arg(long, value_name = "DURATION", default_value = "500ms", value_parser = crate::duration::parse_duration)]
    pub latency_target: Duration,
    /// Objective for the p99 database operation latency.
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = crate::duration::parse_duration)]
    pub db_latency_target: Duration,
    /// Post the report to this Discord webhook (prefer the variable or the file: the URL
    /// holds the webhook's token).
    #[arg(
        long,
        value_name = "URL",
        env = "DISCORD_WEBHOOK_URL",
        hide_env_values = true,
        conflicts_with = "discord_webhook_file"
    )]
    pub discord_webhook: Option<String>,
    /// Read the Discord webhook URL from this file (as Alertmanager's `webhook_url_file`).
    #[arg(long, value_name = "PATH", env = "DISCORD_WEBHOOK_URL_FILE")]
    pub discord_webhook_file: Option<PathBuf>,
    /// Time allowed for each request to Prometheus and to Discord.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = crate::duration::parse_duration)]
    pub timeout: Duration,
}

impl std::fmt::Debug for WeeklyArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WeeklyArgs")
            .field("prometheus", &self.prometheus)
            .field("end", &self.end)
            .field("llm_budget_usd", &self.llm_budget_usd)
            .field("availability_target", &self.availability_target)
            .field("latency_target", &self.latency_target)
            .field("db_latency_target", &self.db_latency_target)
            .field(
                "discord_webhook",
                &self.discord_webhook.as_ref().map(|_| "<redacted>"),
            )
            .field("discord_webhook_file", &self.discord_webhook_file)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Runs a report.
pub async fn run(command: ReportCommand) -> anyhow::Result<ExitCode> {
    match command {
        ReportCommand::Weekly(args) => weekly(args).await,
    }
}

async fn weekly(args: WeeklyArgs) -> anyhow::Result<ExitCode> {
    if !(args.availability_target > 0.0 && args.availability_target <= 100.0) {
        anyhow::bail!(
            "--availability-target {} is not a percentage in (0, 100]",
            args.availability_target
        );
    }
    if let Some(budget) = args.llm_budget_usd
        && !(budget.is_finite() && budget >= 0.0)
    {
        anyhow::bail!("--llm-budget-usd {budget} is not an amount of dollars");
    }
    // Resolve the webhook before querying: a bad URL fails fast.
    let webhook = match (&args.discord_webhook, &args.discord_webhook_file) {
        (Some(url), _) => Some(discord::DiscordWebhook::new(url, args.timeout)?),
        (None, Some(path)) => {
            let url = std::fs::read_to_string(path).with_context(|| {
                format!(
                    "cannot read the Discord webhook URL file {}",
                    path.display()
                )
            })?;
            if url.trim().is_empty() {
                anyhow::bail!("the Discord webhook URL file {} is empty", path.display());
            }
            Some(discord::DiscordWebhook::new(&url, args.timeout)?)
        }
        (None, None) => None,
    };
    let client = PrometheusClient::new(&args.prometheus)?.with_timeout(args.timeout);
    let targets = weekly::Targets {
        availability_percent: args.availability_target,
        latency_p95: args.latency_target,
        db_p99: args.db_latency_target,
        llm_budget_usd: args.llm_budget_usd,
    };
    let end = args.end.unwrap_or_else(SystemTime::now);
    let report = weekly::WeeklyReport::collect(&client, end, targets).await?;
    let markdown = report.to_markdown();
    print!("{markdown}");
    if let Some(webhook) = webhook {
        let messages = webhook.post(&markdown).await?;
        eprintln!(
            "spanforge: posted the report to Discord ({messages} message{})",
            if messages == 1 { "" } else { "s" }
        );
    }
    Ok(ExitCode::SUCCESS)
}

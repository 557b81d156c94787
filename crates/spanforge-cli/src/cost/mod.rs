//! `spanforge cost`: LLM cost per prompt, model, provider or route, as a table, CSV or JSON,
//! from the local store or (with `--prometheus URL`) from Prometheus.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use serde::Serialize;

use crate::store::LlmGroup;

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
pub async fn run(args: CostArgs) -> anyhow::Result<ExitCode> {
    let rows = match &args.prometheus {
        Some(url) => {
            let client = crate::prometheus::PrometheusClient::new(url)?;
            prometheus::cost_rows(&client, args.by, args.since).await?
        }
        None => {
            anyhow::ensure!(
                args.db.exists(),
                "no store at {} (start `spanforge serve`, or pass --db or --prometheus)",
                args.db.display()
            );
            let store = crate::store::Store::open(&args.db).await?;
            local_rows(&store, args.by, args.since).await?
        }
    };
    let report = CostReport::new(args.by, args.since, rows);
    print!("{}", report.render(args.format));
    Ok(ExitCode::SUCCESS)
}

/// Cost rows from the local store.
pub async fn local_rows(
    store: &crate::store::Store,
    by: GroupBy,
    since: Option<Duration>,
) -> Result<Vec<CostRow>, crate::store::StoreError> {
    let group = match by {
        GroupBy::Prompt => LlmGroup::Prompt,
        GroupBy::Model => LlmGroup::Model,
        GroupBy::Provider => LlmGroup::Provider,
        GroupBy::Route => LlmGroup::Route,
    };
    let report = store.llm_report(group, since).await?;
    Ok(report
        .rows
        .into_iter()
        .map(|row| CostRow {
            prompt_name: row.prompt_name,
            prompt_version: row.prompt_version,
            model: row.model,
            provider: row.provider,
            route: row.route,
            calls: row.calls,
            input_tokens: row.input_tokens,
            output_tokens: row.output_tokens,
            cached_tokens: row.cached_tokens,
            cost_usd: row.cost_usd,
        })
        .collect())
}

/// A cost report: rows, most expensive first, and their total.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostReport {
    /// The grouping.
    pub group: GroupBy,
    /// The window, when one was given.
    pub since_seconds: Option<u64>,
    /// Most expensive first.
    pub rows: Vec<CostRow>,
    /// The sum of all rows (key fields unset).
    pub total: CostRow,
}

impl CostReport {
    /// Sorts the rows and sums them.
    pub fn new(group: GroupBy, since: Option<Duration>, mut rows: Vec<CostRow>) -> CostReport {
        rows.sort_by(|a, b| {
            b.cost_usd
                .total_cmp(&a.cost_usd)
                .then_with(|| b.calls.cmp(&a.calls))
        });
        let mut total = CostRow::default();
        for row in &rows {
            total.calls += row.calls;
            total.input_tokens += row.input_tokens;
            total.output_tokens += row.output_tokens;
            total.cached_tokens += row.cached_tokens;
            total.cost_usd += row.cost_usd;
        }
        CostReport {
            group,
            since_seconds: since.map(|s| s.as_secs()),
            rows,
            total,
        }
    }

    /// The report in `format`.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Table => self.table(),
            Format::Csv => self.csv(),
            Format::Json => {
                let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
                text.push('\n');
                text
            }
        }
    }

    fn key_headers(&self) -> &'static [&'static str] {
        match self.group {
            GroupBy::Prompt => &["prompt", "version"],
            GroupBy::Model => &["model"],
            GroupBy::Provider => &["provider"],
            GroupBy::Route => &["route"],
        }
    }

    fn keys(&self, row: &CostRow) -> Vec<String> {
        let show = |value: &Option<String>| value.clone().unwrap_or_else(|| "(none)".into());
        match self.group {
            GroupBy::Prompt => vec![show(&row.prompt_name), show(&row.prompt_version)],
            GroupBy::Model => vec![show(&row.model)],
            GroupBy::Provider => vec![show(&row.provider)],
            GroupBy::Route => vec![show(&row.route)],
        }
    }

    fn table(&self) -> String {
        let mut headers: Vec<&str> = self.key_headers().to_vec();
        headers.extend([
            "calls",
            "input tok",
            "output tok",
            "cached tok",
            "cost USD",
            "avg USD",
        ]);
        let numbers = |row: &CostRow| {
            vec![
                row.calls.to_string(),
                row.input_tokens.to_string(),
                row.output_tokens.to_string(),
                row.cached_tokens.to_string(),
                format!("{:.6}", row.cost_usd),
                format!("{:.6}", average(row)),
            ]
        };
        let mut lines: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|row| {
                let mut cells = self.keys(row);
                cells.extend(numbers(row));
                cells
            })
            .collect();
        let mut total = vec![String::new(); self.key_headers().len()];
        total[0] = "TOTAL".into();
        total.extend(numbers(&self.total));
        let key_columns = self.key_headers().len();
        let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
        for line in lines.iter().chain(std::iter::once(&total)) {
            for (width, cell) in widths.iter_mut().zip(line) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let render = |cells: &[String]| {
            let mut out = String::new();
            for (i, (cell, width)) in cells.iter().zip(&widths).enumerate() {
                if i > 0 {
                    out.push_str("  ");
                }
                let pad = width - cell.chars().count();
                if i < key_columns {
                    out.push_str(cell);
                    out.push_str(&" ".repeat(pad));
                } else {
                    out.push_str(&" ".repeat(pad));
                    out.push_str(cell);
                }
            }
            out.trim_end().to_owned() + "\n"
        };
        let mut out = render(&headers.iter().map(|h| (*h).to_owned()).collect::<Vec<_>>());
        let rule: usize = widths.iter().sum::<usize>() + 2 * (widths.len() - 1);
        out.push_str(&"-".repeat(rule));
        out.push('\n');
        for line in lines.drain(..) {
            out.push_str(&render(&line));
        }
        out.push_str(&"-".repeat(rule));
        out.push('\n');
        out.push_str(&render(&total));
        out
    }

    fn csv(&self) -> String {
        let mut out = self.key_headers().join(",");
        out.push_str(",calls,input_tokens,output_tokens,cached_tokens,cost_usd\n");
        for row in &self.rows {
            let keys: Vec<String> = self.keys(row).iter().map(|k| csv_field(k)).collect();
            out.push_str(&format!(
                "{},{},{},{},{},{}\n",
                keys.join(","),
                row.calls,
                row.input_tokens,
                row.output_tokens,
                row.cached_tokens,
                row.cost_usd
            ));
        }
        out
    }
}

fn average(row: &CostRow) -> f64 {
    if row.calls == 0 {
        0.0
    } else {
        row.cost_usd / row.calls as f64
    }
}

/// Quotes a CSV field when it needs it (RFC 4180), and defuses spreadsheet formulas.
fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, cost: f64) -> CostRow {
        CostRow {
            prompt_name: Some(name.into()),
            prompt_version: Some("1".into()),
            calls: 2,
            input_tokens: 10,
            cost_usd: cost,
            ..CostRow::default()
        }
    }

    #[test]
    fn rows_sorted_and_summed() {
        let report = CostReport::new(GroupBy::Prompt, None, vec![row("a", 0.5), row("b", 1.5)]);
        assert_eq!(report.rows[0].prompt_name.as_deref(), Some("b"));
        assert_eq!(report.total.cost_usd, 2.0);
        assert_eq!(report.total.calls, 4);
        let table = report.render(Format::Table);
        assert!(table.contains("TOTAL"), "{table}");
        assert!(table.contains("2.000000"), "{table}");
    }

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let report = CostReport::new(
            GroupBy::Prompt,
            None,
            vec![row("a,\"b\"", 1.0), row("=cmd()", 0.5)],
        );
        let csv = report.render(Format::Csv);
        assert!(csv.contains("\"a,\"\"b\"\"\",1,"), "{csv}");
        assert!(csv.contains("'=cmd()"), "{csv}");
    }
}

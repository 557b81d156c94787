//! The weekly SLI report: what it measures, the PromQL, and the Markdown.
//!
//! Each SLI reads the same series as the SLO rules in `collector-config/prometheus/rules/`:
//!
//! | SLI | PromQL over the week (`[7d]` at the end time) | target |
//! |---|---|---|
//! | availability | `1 - increase(traces_span_metrics_calls_total{span_kind="SPAN_KIND_SERVER", status_code="STATUS_CODE_ERROR"})` / `increase(…{span_kind="SPAN_KIND_SERVER"})` | ≥ 99.9 % |
//! | HTTP latency p95 | `histogram_quantile(0.95, sum by (le) (increase(http_server_request_duration_seconds_bucket)))` | ≤ 500 ms |
//! | DB query p99 | `histogram_quantile(0.99, sum by (le) (increase(db_client_operation_duration_seconds_bucket)))` | ≤ 1 s |
//! | LLM spend | `sum by (gen_ai_provider_name) (increase(spanforge_llm_cost_usd_total))` | `--llm-budget-usd` |
//!
//! A server span ends in error when the server answered 5xx (or failed without answering), so
//! availability is "1 − 5xx / all requests". An SLI without series, or without traffic, is
//! "no data": never 100 %, never $0.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime};

use crate::prometheus::{PrometheusClient, PrometheusError, Sample};

use super::time::{format_minute, iso_week};

/// The length of the report's window.
pub const WEEK: Duration = Duration::from_secs(7 * 86_400);

/// The metric of server spans (the collector's span metrics).
const CALLS: &str = "traces_span_metrics_calls_total";
/// The SDK's HTTP server duration histogram.
const HTTP_DURATION: &str = "http_server_request_duration_seconds_bucket";
/// The SDK's database operation duration histogram.
const DB_DURATION: &str = "db_client_operation_duration_seconds_bucket";
/// The collector's LLM cost counter.
const LLM_COST: &str = "spanforge_llm_cost_usd_total";

/// The objectives the SLIs are compared with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Targets {
    /// Availability objective in percent (99.9).
    pub availability_percent: f64,
    /// The p95 HTTP server latency must not exceed this.
    pub latency_p95: Duration,
    /// The p99 database operation latency must not exceed this.
    pub db_p99: Duration,
    /// The week's LLM spend must not exceed this many US dollars; no verdict when `None`.
    pub llm_budget_usd: Option<f64>,
}

impl Default for Targets {
    /// The SLOs of `collector-config/prometheus/rules/slo-sli.rules.yml`: 99.9 %, 500 ms, 1 s.
    fn default() -> Targets {
        Targets {
            availability_percent: 99.9,
            latency_p95: Duration::from_millis(500),
            db_p99: Duration::from_secs(1),
            llm_budget_usd: None,
        }
    }
}

/// Server spans in the window and how many of them failed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Availability {
    /// Server spans (requests) in the window.
    pub total: f64,
    /// Those that ended in error.
    pub failed: f64,
}

impl Availability {
    /// The share of requests that succeeded, in percent.
    pub fn percent(&self) -> f64 {
        100.0 * (1.0 - self.failed / self.total)
    }
}

/// The SLIs of one service.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceSlis {
    /// `service_name`.
    pub service: String,
    /// Availability; `None` without server spans.
    pub availability: Option<Availability>,
    /// p95 HTTP server latency in seconds; `None` without requests.
    pub latency_p95: Option<f64>,
    /// p99 database operation latency in seconds; `None` without operations.
    pub db_p99: Option<f64>,
}

/// The numbers of one weekly report.
#[derive(Debug, Clone, PartialEq)]
pub struct WeeklyReport {
    /// Start of the window.
    pub start: SystemTime,
    /// End of the window (the evaluation time).
    pub end: SystemTime,
    /// The objectives.
    pub targets: Targets,
    /// All services together.
    pub availability: Option<Availability>,
    /// All services together, seconds.
    pub latency_p95: Option<f64>,
    /// All services together, seconds.
    pub db_p99: Option<f64>,
    /// LLM spend per provider in US dollars, largest first; empty when there is no cost data.
    pub llm_by_provider: Vec<(String, f64)>,
    /// Per service, by name.
    pub services: Vec<ServiceSlis>,
    /// The Prometheus the numbers come from (credentials removed).
    pub source: String,
}

/// How an SLI compares with its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Within the target.
    Met,
    /// Outside the target.
    Missed,
    /// No data in the window.
    NoData,
    /// There is data but no target to compare with.
    NoTarget,
}

impl Verdict {
    fn mark(self) -> &'static str {
        match self {
            Verdict::Met => "✅",
            Verdict::Missed => "❌",
            Verdict::NoData => "❔",
            Verdict::NoTarget => "➖",
        }
    }
}

/// Tolerance for comparing values that went through floating point (0.999 vs 99.9 / 100).
const EPSILON: f64 = 1e-9;

fn at_most(value: Option<f64>, limit: f64) -> Verdict {
    match value {
        None => Verdict::NoData,
        Some(v) if v <= limit + EPSILON => Verdict::Met,
        Some(_) => Verdict::Missed,
    }
}

fn availability_verdict(availability: Option<Availability>, target: f64) -> Verdict {
    match availability {
        None => Verdict::NoData,
        Some(a) if a.percent() + EPSILON >= target => Verdict::Met,
        Some(_) => Verdict::Missed,
    }
}

impl WeeklyReport {
    /// Queries Prometheus for the week ending at `end`.
    ///
    /// # Errors
    ///
    /// The first query that fails.
    pub async fn collect(
        client: &PrometheusClient,
        end: SystemTime,
        targets: Targets,
    ) -> Result<WeeklyReport, PrometheusError> {
        let range = format!("{}s", WEEK.as_secs());
        let server = r#"span_kind="SPAN_KIND_SERVER""#;
        let failed = r#"span_kind="SPAN_KIND_SERVER", status_code="STATUS_CODE_ERROR""#;
        let calls_total = format!("sum by (service_name) (increase({CALLS}{{{server}}}[{range}]))");
        let calls_failed =
            format!("sum by (service_name) (increase({CALLS}{{{failed}}}[{range}]))");
        let quantile = |q: f64, metric: &str, by: &str| {
            format!("histogram_quantile({q}, sum by ({by}) (increase({metric}[{range}])))")
        };
        let latency = quantile(0.95, HTTP_DURATION, "le");
        let latency_by_service = quantile(0.95, HTTP_DURATION, "service_name, le");
        let db = quantile(0.99, DB_DURATION, "le");
        let db_by_service = quantile(0.99, DB_DURATION, "service_name, le");
        let spend = format!("sum by (gen_ai_provider_name) (increase({LLM_COST}[{range}]))");

        let at = Some(end);
        let (total, failed, latency, latency_by_service, db, db_by_service, spend) = tokio::try_join!(
            client.query(&calls_total, at),
            client.query(&calls_failed, at),
            client.query(&latency, at),
            client.query(&latency_by_service, at),
            client.query(&db, at),
            client.query(&db_by_service, at),
            client.query(&spend, at),
        )?;

        let total = by_service(&total);
        let failed = by_service(&failed);
        let latency_by_service = by_service(&latency_by_service);
        let db_by_service = by_service(&db_by_service);

        let availability_of = |total: Option<f64>, failed: Option<f64>| match total {
            Some(total) if total > 0.0 && total.is_finite() => Some(Availability {
                total,
                // No error series at all means no failed request.
                failed: failed.filter(|f| f.is_finite()).unwrap_or(0.0),
            }),
            _ => None,
        };
        let overall = availability_of(
            (!total.is_empty()).then(|| total.values().sum()),
            Some(failed.values().sum()),
        );
        let names: BTreeSet<&String> = total
            .keys()
            .chain(latency_by_service.keys())
            .chain(db_by_service.keys())
            .collect();
        let services = names
            .into_iter()
            .map(|name| ServiceSlis {
                service: name.clone(),
                availability: availability_of(total.get(name).copied(), failed.get(name).copied()),
                latency_p95: latency_by_service
                    .get(name)
                    .copied()
                    .filter(|v| !v.is_nan()),
                db_p99: db_by_service.get(name).copied().filter(|v| !v.is_nan()),
            })
            .collect();

        let mut llm_by_provider: Vec<(String, f64)> = spend
            .iter()
            .filter(|s| s.value.is_finite())
            .map(|s| {
                let provider = s.label("gen_ai_provider_name").unwrap_or("unknown");
                (provider.to_owned(), s.value)
            })
            .collect();
        llm_by_provider.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));

        Ok(WeeklyReport {
            start: end.checked_sub(WEEK).unwrap_or(SystemTime::UNIX_EPOCH),
            end,
            targets,
            availability: overall,
            latency_p95: single(&latency),
            db_p99: single(&db),
            llm_by_provider,
            services,
            source: client.base_url().to_owned(),
        })
    }

    /// Total LLM spend in US dollars; `None` when Prometheus has no cost series.
    pub fn llm_total(&self) -> Option<f64> {
        (!self.llm_by_provider.is_empty())
            .then(|| self.llm_by_provider.iter().map(|(_, v)| v).sum())
    }

    /// The verdicts, in report order: availability, latency, database, LLM spend.
    pub fn verdicts(&self) -> [Verdict; 4] {
        let spend = match (self.llm_total(), self.targets.llm_budget_usd) {
            (None, _) => Verdict::NoData,
            (Some(_), None) => Verdict::NoTarget,
            (Some(total), Some(budget)) => at_most(Some(total), budget),
        };
        [
            availability_verdict(self.availability, self.targets.availability_percent),
            at_most(self.latency_p95, self.targets.latency_p95.as_secs_f64()),
            at_most(self.db_p99, self.targets.db_p99.as_secs_f64()),
            spend,
        ]
    }

    /// The report as Markdown that Discord renders too (headings, bold, lists; no tables).
    pub fn to_markdown(&self) -> String {
        let targets = &self.targets;
        let [availability, latency, db, spend] = self.verdicts();
        let mut out = String::new();
        let middle = self.end.checked_sub(WEEK / 2).unwrap_or(self.end);
        out.push_str(&format!("## Weekly SLI report · {}\n", iso_week(middle)));
        out.push_str(&format!(
            "{} → {} UTC\n\n",
            format_minute(self.start),
            format_minute(self.end)
        ));

        let availability_target =
            format!("target ≥ {} %", trim_number(targets.availability_percent));
        out.push_str(&match self.availability {
            Some(a) => format!(
                "- {} **Availability** {} ({availability_target}) · {} of {} server requests failed\n",
                availability.mark(),
                percent(a.percent()),
                count(a.failed),
                count(a.total),
            ),
            None => format!("- {} **Availability** no data ({availability_target})\n", availability.mark()),
        });
        out.push_str(&format!(
            "- {} **HTTP latency p95** {} (target ≤ {})\n",
            latency.mark(),
            self.latency_p95
                .map_or_else(|| "no data".to_owned(), seconds),
            target_duration(targets.latency_p95),
        ));
        out.push_str(&format!(
            "- {} **DB query p99** {} (target ≤ {})\n",
            db.mark(),
            self.db_p99.map_or_else(|| "no data".to_owned(), seconds),
            target_duration(targets.db_p99),
        ));
        let budget = match targets.llm_budget_usd {
            Some(budget) => format!("budget {}", usd(budget)),
            None => "no budget set: --llm-budget-usd".to_owned(),
        };
        out.push_str(&format!(
            "- {} **LLM spend** {} ({budget})\n",
            spend.mark(),
            self.llm_total().map_or_else(|| "no data".to_owned(), usd),
        ));
        if self.llm_by_provider.len() > 1
            || self
                .llm_by_provider
                .first()
                .is_some_and(|(p, _)| p != "unknown")
        {
            for (provider, value) in &self.llm_by_provider {
                out.push_str(&format!("  - {provider} {}\n", usd(*value)));
            }
        }

        if self.services.len() > 1 {
            out.push_str("\n### Per service\n");
            for service in &self.services {
                let a = availability_verdict(service.availability, targets.availability_percent);
                let l = at_most(service.latency_p95, targets.latency_p95.as_secs_f64());
                let d = at_most(service.db_p99, targets.db_p99.as_secs_f64());
                out.push_str(&format!(
                    "- **{}**: {} availability {} · {} p95 {} · {} DB p99 {}\n",
                    service.service,
                    a.mark(),
                    service
                        .availability
                        .map_or_else(|| "no data".to_owned(), |a| percent(a.percent())),
                    l.mark(),
                    service
                        .latency_p95
                        .map_or_else(|| "no data".to_owned(), seconds),
                    d.mark(),
                    service.db_p99.map_or_else(|| "no data".to_owned(), seconds),
                ));
            }
        }
        out.push_str(&format!(
            "\n_From Prometheus at {}: server spans (span metrics), \
             http_server_request_duration_seconds, db_client_operation_duration_seconds, \
             spanforge_llm_cost_usd_total._\n",
            self.source
        ));
        out
    }
}

fn by_service(samples: &[Sample]) -> BTreeMap<String, f64> {
    samples
        .iter()
        .map(|s| {
            (
                s.label("service_name").unwrap_or("unknown").to_owned(),
                s.value,
            )
        })
        .fold(BTreeMap::new(), |mut map, (name, value)| {
            *map.entry(name).or_insert(0.0) += value;
            map
        })
}

/// The value of a query that returns at most one sample; NaN (no observations) is no data.
fn single(samples: &[Sample]) -> Option<f64> {
    samples.first().map(|s| s.value).filter(|v| !v.is_nan())
}

/// `99.943 %`.
pub(crate) fn percent(value: f64) -> String {
    format!("{value:.3} %")
}

/// `175 ms`, `1.50 s`.
pub(crate) fn seconds(value: f64) -> String {
    if value.is_infinite() {
        "∞".to_owned()
    } else if value < 1.0 {
        format!("{:.0} ms", value * 1000.0)
    } else {
        format!("{value:.2} s")
    }
}

/// `500 ms`, `1 s`, `1500 ms`.
fn target_duration(duration: Duration) -> String {
    if duration.subsec_millis() == 0 {
        format!("{} s", duration.as_secs())
    } else {
        format!("{} ms", duration.as_millis())
    }
}

/// `$12.34`; amounts under a dollar keep four decimals (`$0.0042`).
pub(crate) fn usd(value: f64) -> String {
    if value == 0.0 || value.abs() >= 1.0 {
        format!("${value:.2}")
    } else {
        format!("${value:.4}")
    }
}

/// `100,000`.
pub(crate) fn count(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `99.9`, `99.95`, `100`.
fn trim_number(value: f64) -> String {
    let text = format!("{value:.6}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn report() -> WeeklyReport {
        let end = UNIX_EPOCH + Duration::from_secs(1_780_876_800);
        WeeklyReport {
            start: end - WEEK,
            end,
            targets: Targets {
                llm_budget_usd: Some(100.0),
                ..Targets::default()
            },
            availability: Some(Availability {
                total: 1_000.0,
                failed: 1.0,
            }),
            latency_p95: Some(0.175),
            db_p99: Some(1.5),
            llm_by_provider: vec![("openai".into(), 80.0), ("anthropic".into(), 43.456)],
            services: Vec::new(),
            source: "http://prom:9090".into(),
        }
    }

    #[test]
    fn markdown() {
        assert_eq!(
            report().to_markdown(),
            "## Weekly SLI report · 2026-W23\n\
             2026-06-01 00:00 → 2026-06-08 00:00 UTC\n\
             \n\
             - ✅ **Availability** 99.900 % (target ≥ 99.9 %) · 1 of 1,000 server requests failed\n\
             - ✅ **HTTP latency p95** 175 ms (target ≤ 500 ms)\n\
             - ❌ **DB query p99** 1.50 s (target ≤ 1 s)\n\
             - ❌ **LLM spend** $123.46 (budget $100.00)\n  \
               - openai $80.00\n  \
               - anthropic $43.46\n\
             \n\
             _From Prometheus at http://prom:9090: server spans (span metrics), \
             http_server_request_duration_seconds, db_client_operation_duration_seconds, \
             spanforge_llm_cost_usd_total._\n"
        );
    }

    #[test]
    fn no_data_is_never_a_pass() {
        let mut report = report();
        report.availability = None;
        report.latency_p95 = None;
        report.db_p99 = None;
        report.llm_by_provider.clear();
        assert_eq!(report.verdicts(), [Verdict::NoData; 4]);
        let text = report.to_markdown();
        assert!(
            text.contains("- ❔ **Availability** no data (target ≥ 99.9 %)"),
            "{text}"
        );
        assert!(
            text.contains("- ❔ **LLM spend** no data (budget $100.00)"),
            "{text}"
        );
        assert!(
            !text.contains("100.000 %") && !text.contains("$0"),
            "{text}"
        );
    }

    #[test]
    fn formats() {
        assert_eq!(count(0.0), "0");
        assert_eq!(count(999.0), "999");
        assert_eq!(count(1_234_567.4), "1,234,567");
        assert_eq!(usd(0.0042), "$0.0042");
        assert_eq!(usd(12.345), "$12.35");
        assert_eq!(seconds(0.5), "500 ms");
        assert_eq!(seconds(2.5), "2.50 s");
        assert_eq!(trim_number(99.95), "99.95");
        assert_eq!(target_duration(Duration::from_millis(1500)), "1500 ms");
    }
}

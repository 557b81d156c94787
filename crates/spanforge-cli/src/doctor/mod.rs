//! `spanforge doctor`: the daily health check.
//!
//! Every backend the telemetry pipeline needs, and every credential, checked at once and
//! reported one line each:
//!
//! ```text
//! ✓ otlp          http://localhost:4318/v1/traces: accepted an empty OTLP/HTTP export (HTTP 200) (4 ms)
//! ✓ collector     http://localhost:13133/: Server available (2 ms)
//! ✓ prometheus    http://localhost:9090: ready, Prometheus 2.42.0 (5 ms)
//! ✗ grafana       http://localhost:3000/api/health: cannot connect: Connection refused (os error 111)
//! ✓ alertmanager  http://localhost:9093: ready (3 ms)
//! - langfuse      skipped: LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY are not set
//! ✓ database      app.db: SELECT answered by SQLite 3.45.1, 4 schema objects (1 ms)
//! ✓ redis         redis://localhost:6379/0: PONG (1 ms)
//! doctor: 6 passed, 1 failed, 1 skipped
//! ```
//!
//! # What is checked
//!
//! | check | how | configured by | when not configured |
//! |---|---|---|---|
//! | `otlp` | OTLP/HTTP: `POST {endpoint}/v1/traces` with an empty export request (nothing is stored); gRPC: a TCP connection | `--otlp-endpoint`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `OTEL_EXPORTER_OTLP_ENDPOINT`; protocol `--otlp-protocol`, `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`, `OTEL_EXPORTER_OTLP_PROTOCOL`; headers `OTEL_EXPORTER_OTLP_TRACES_HEADERS`, `OTEL_EXPORTER_OTLP_HEADERS` | `http://localhost:4318` (`:4317` for gRPC) |
//! | `collector` | `GET` the health_check extension | `--collector-health`, `SPANFORGE_DOCTOR_COLLECTOR_HEALTH_URL` | `http://localhost:13133/` |
//! | `prometheus` | `GET /-/ready` (and the version from `/api/v1/status/buildinfo`) | `--prometheus`, `SPANFORGE_PROMETHEUS_URL` | `http://localhost:9090` |
//! | `grafana` | `GET /api/health`, `database` must be `ok` | `--grafana`, `SPANFORGE_DOCTOR_GRAFANA_URL` | `http://localhost:3000` |
//! | `alertmanager` | `GET /-/ready` | `--alertmanager`, `SPANFORGE_DOCTOR_ALERTMANAGER_URL` | `http://localhost:9093` |
//! | `langfuse` | an authenticated empty export to the endpoint the exporter uses | `LANGFUSE_PUBLIC_KEY`, `LANGFUSE_SECRET_KEY`; URL `--langfuse-url`, `LANGFUSE_BASE_URL`, `LANGFUSE_HOST` | skipped |
//! | `database` | a local libSQL/SQLite file opened read-only and queried | `--database-url`, `DATABASE_URL` | skipped |
//! | `redis` | `PING` | `--redis-url`, `REDIS_URL` | skipped |
//!
//! A check with a default address always runs; one without (credentials, databases) is
//! skipped until configured. Every check that runs must pass. `--skip` leaves checks out,
//! `--require` turns "skipped" into a failure. Checks run concurrently, each bounded by
//! `--timeout`. The exit status is 0 when nothing failed, 1 otherwise.

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use serde::Serialize;

mod checks;
mod database;
mod redis;

/// Arguments of `spanforge doctor`. `Debug` hides the database and Redis URLs, which may
/// hold credentials.
#[derive(clap::Args)]
pub struct DoctorArgs {
    /// Print the results as a JSON array instead of one line per check.
    #[arg(long)]
    pub json: bool,
    /// Time allowed for each check.
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "5s",
        value_parser = crate::duration::parse_duration,
        env = "SPANFORGE_DOCTOR_TIMEOUT"
    )]
    pub timeout: Duration,
    /// Leave these checks out (comma-separated).
    #[arg(long, value_enum, value_delimiter = ',', env = "SPANFORGE_DOCTOR_SKIP")]
    pub skip: Vec<Check>,
    /// Fail, instead of skipping, when one of these checks is not configured (comma-separated).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        env = "SPANFORGE_DOCTOR_REQUIRE"
    )]
    pub require: Vec<Check>,
    /// OTLP endpoint; default: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (used as is), else
    /// OTEL_EXPORTER_OTLP_ENDPOINT (+ /v1/traces), else `http://localhost:4318` (4317 for gRPC).
    #[arg(long, value_name = "URL")]
    pub otlp_endpoint: Option<String>,
    /// OTLP protocol; default: OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, else
    /// OTEL_EXPORTER_OTLP_PROTOCOL, else http/protobuf.
    #[arg(long, value_enum)]
    pub otlp_protocol: Option<OtlpProtocol>,
    /// The collector's health_check extension.
    #[arg(
        long,
        value_name = "URL",
        env = "SPANFORGE_DOCTOR_COLLECTOR_HEALTH_URL",
        hide_env_values = true,
        default_value = "http://localhost:13133/"
    )]
    pub collector_health: String,
    /// Prometheus.
    #[arg(
        long,
        value_name = "URL",
        env = "SPANFORGE_PROMETHEUS_URL",
        hide_env_values = true,
        default_value = "http://localhost:9090"
    )]
    pub prometheus: String,
    /// Grafana.
    #[arg(
        long,
        value_name = "URL",
        env = "SPANFORGE_DOCTOR_GRAFANA_URL",
        hide_env_values = true,
        default_value = "http://localhost:3000"
    )]
    pub grafana: String,
    /// Alertmanager.
    #[arg(
        long,
        value_name = "URL",
        env = "SPANFORGE_DOCTOR_ALERTMANAGER_URL",
        hide_env_values = true,
        default_value = "http://localhost:9093"
    )]
    pub alertmanager: String,
    /// Langfuse base URL; default: LANGFUSE_BASE_URL, else LANGFUSE_HOST, else
    /// `https://cloud.langfuse.com`. The keys come from LANGFUSE_PUBLIC_KEY and
    /// LANGFUSE_SECRET_KEY only.
    #[arg(long, value_name = "URL")]
    pub langfuse_url: Option<String>,
    /// The application database: a local libSQL/SQLite file (`app.db`, `file:app.db`,
    /// `sqlite:///app.db`); remote libSQL URLs are reported as not checked.
    #[arg(long, value_name = "URL", env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Redis (`redis://[:password@]host:port[/db]`).
    #[arg(long, value_name = "URL", env = "REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,
}

impl std::fmt::Debug for DoctorArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |value: &Option<String>| value.as_ref().map(|_| "<redacted>");
        f.debug_struct("DoctorArgs")
            .field("json", &self.json)
            .field("timeout", &self.timeout)
            .field("skip", &self.skip)
            .field("require", &self.require)
            .field("otlp_endpoint", &self.otlp_endpoint)
            .field("otlp_protocol", &self.otlp_protocol)
            .field("collector_health", &self.collector_health)
            .field("prometheus", &self.prometheus)
            .field("grafana", &self.grafana)
            .field("alertmanager", &self.alertmanager)
            .field("langfuse_url", &self.langfuse_url)
            .field("database_url", &hidden(&self.database_url))
            .field("redis_url", &hidden(&self.redis_url))
            .finish()
    }
}

/// The checks `spanforge doctor` knows, in the order they are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Check {
    /// The OTLP endpoint the services export to.
    Otlp,
    /// The collector's health_check extension.
    Collector,
    /// Prometheus.
    Prometheus,
    /// Grafana.
    Grafana,
    /// Alertmanager.
    Alertmanager,
    /// Langfuse credentials.
    Langfuse,
    /// The application database.
    Database,
    /// Redis.
    Redis,
}

impl Check {
    /// Every check, in report order.
    pub const ALL: [Check; 8] = [
        Check::Otlp,
        Check::Collector,
        Check::Prometheus,
        Check::Grafana,
        Check::Alertmanager,
        Check::Langfuse,
        Check::Database,
        Check::Redis,
    ];

    /// The check's name as printed and as `--skip`/`--require` take it.
    pub fn name(self) -> &'static str {
        match self {
            Check::Otlp => "otlp",
            Check::Collector => "collector",
            Check::Prometheus => "prometheus",
            Check::Grafana => "grafana",
            Check::Alertmanager => "alertmanager",
            Check::Langfuse => "langfuse",
            Check::Database => "database",
            Check::Redis => "redis",
        }
    }
}

/// OTLP transport protocols (the values of `OTEL_EXPORTER_OTLP_PROTOCOL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OtlpProtocol {
    /// OTLP over gRPC: checked with a TCP connection to the endpoint.
    #[value(name = "grpc")]
    Grpc,
    /// OTLP/HTTP with protobuf bodies.
    #[value(name = "http/protobuf")]
    HttpProtobuf,
    /// OTLP/HTTP with JSON bodies.
    #[value(name = "http/json")]
    HttpJson,
}

/// How a check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// It passed.
    Ok,
    /// It failed; the exit status is non-zero.
    Failed,
    /// It did not run: not configured, or left out with `--skip`.
    Skipped,
}

/// The result of one check: one line of output, or one element of the `--json` array.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckResult {
    /// Which check.
    pub name: Check,
    /// How it ended.
    pub status: Status,
    /// What was checked (a URL or path, credentials removed), when there was a target.
    pub target: Option<String>,
    /// What was found, or why it failed or was skipped. Never contains a secret.
    pub detail: String,
    /// How long the check took, in milliseconds (absent when skipped).
    pub duration_ms: Option<u64>,
}

/// What one check found, before timing and names are attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Finding {
    pub(crate) target: Option<String>,
    pub(crate) outcome: Outcome,
}

/// The three ends of a check, each with its detail text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    Ok(String),
    Failed(String),
    /// Not configured: the reason (which variable to set).
    NotConfigured(String),
}

impl Finding {
    pub(crate) fn ok(target: impl Into<String>, detail: impl Into<String>) -> Finding {
        Finding {
            target: Some(target.into()),
            outcome: Outcome::Ok(detail.into()),
        }
    }

    pub(crate) fn failed(target: Option<String>, reason: impl Into<String>) -> Finding {
        Finding {
            target,
            outcome: Outcome::Failed(reason.into()),
        }
    }

    pub(crate) fn not_configured(target: Option<String>, reason: impl Into<String>) -> Finding {
        Finding {
            target,
            outcome: Outcome::NotConfigured(reason.into()),
        }
    }
}

type CheckFuture = Pin<Box<dyn Future<Output = Finding> + Send>>;

/// How much longer than `--timeout` a check may run before it is abandoned.
const OUTER_GRACE: Duration = Duration::from_secs(1);

/// Runs the health check; the exit code is non-zero when a check fails.
pub async fn run(args: DoctorArgs) -> anyhow::Result<ExitCode> {
    let results = run_checks(&args, &|name| std::env::var(name).ok()).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&results)?);
    } else {
        print!("{}", render(&results));
    }
    let failed = results.iter().any(|r| r.status == Status::Failed);
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Runs every check concurrently and returns the results in report order. Environment
/// variables are read through `env`.
///
/// # Errors
///
/// When a check is both skipped and required, or the HTTP client cannot be built.
pub async fn run_checks(
    args: &DoctorArgs,
    env: &(dyn Fn(&str) -> Option<String> + Sync),
) -> anyhow::Result<Vec<CheckResult>> {
    let skip: BTreeSet<Check> = args.skip.iter().copied().collect();
    let require: BTreeSet<Check> = args.require.iter().copied().collect();
    if let Some(both) = skip.intersection(&require).next() {
        anyhow::bail!(
            "{} is both skipped (--skip) and required (--require)",
            both.name()
        );
    }
    let context = checks::Context::new(args.timeout)?;
    let timeout = args.timeout;
    let planned: Vec<(Check, Option<CheckFuture>)> = Check::ALL
        .into_iter()
        .map(|check| {
            let future =
                (!skip.contains(&check)).then(|| checks::start(check, args, env, &context));
            (check, future)
        })
        .collect();
    let require = &require;
    let running = planned.into_iter().map(|(check, future)| async move {
        let Some(future) = future else {
            return CheckResult {
                name: check,
                status: Status::Skipped,
                target: None,
                detail: "left out with --skip".to_owned(),
                duration_ms: None,
            };
        };
        let started = Instant::now();
        // The checks bound their own requests by `timeout` and then say where they were
        // waiting; this outer bound, a little longer, catches anything that does not.
        let finding = match tokio::time::timeout(timeout + OUTER_GRACE, future).await {
            Ok(finding) => finding,
            Err(_) => Finding::failed(
                None,
                format!("no answer within {}", human_duration(timeout)),
            ),
        };
        let elapsed = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let (status, detail, duration_ms) = match finding.outcome {
            Outcome::Ok(detail) => (Status::Ok, detail, Some(elapsed)),
            Outcome::Failed(reason) => (Status::Failed, reason, Some(elapsed)),
            Outcome::NotConfigured(reason) if require.contains(&check) => (
                Status::Failed,
                format!("required (--require) but not configured: {reason}"),
                None,
            ),
            Outcome::NotConfigured(reason) => (Status::Skipped, reason, None),
        };
        CheckResult {
            name: check,
            status,
            target: finding.target,
            detail,
            duration_ms,
        }
    });
    Ok(futures_util::future::join_all(running).await)
}

/// The text report: one line per check, then a summary line.
pub fn render(results: &[CheckResult]) -> String {
    let width = Check::ALL.iter().map(|c| c.name().len()).max().unwrap_or(0);
    let mut out = String::new();
    for result in results {
        let mark = match result.status {
            Status::Ok => "✓",
            Status::Failed => "✗",
            Status::Skipped => "-",
        };
        let mut line = format!("{mark} {:<width$}  ", result.name.name());
        match (&result.target, result.status) {
            (Some(target), Status::Ok | Status::Failed) => {
                line.push_str(target);
                line.push_str(": ");
                line.push_str(&result.detail);
            }
            (_, Status::Skipped) => {
                line.push_str("skipped: ");
                line.push_str(&result.detail);
            }
            (None, _) => line.push_str(&result.detail),
        }
        if let (Status::Ok, Some(ms)) = (result.status, result.duration_ms) {
            line.push_str(&format!(" ({ms} ms)"));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    let count = |status| results.iter().filter(|r| r.status == status).count();
    out.push_str(&format!(
        "doctor: {} passed, {} failed, {} skipped\n",
        count(Status::Ok),
        count(Status::Failed),
        count(Status::Skipped)
    ));
    out
}

/// `5 s`, `500 ms`.
pub(crate) fn human_duration(duration: Duration) -> String {
    if duration.subsec_millis() == 0 {
        format!("{} s", duration.as_secs())
    } else {
        format!("{} ms", duration.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(name: Check, status: Status, target: Option<&str>, detail: &str) -> CheckResult {
        CheckResult {
            name,
            status,
            target: target.map(str::to_owned),
            detail: detail.to_owned(),
            duration_ms: (status != Status::Skipped).then_some(12),
        }
    }

    #[test]
    fn lines() {
        let text = render(&[
            result(
                Check::Prometheus,
                Status::Ok,
                Some("http://p:9090"),
                "ready",
            ),
            result(
                Check::Grafana,
                Status::Failed,
                Some("http://g:3000/api/health"),
                "cannot connect",
            ),
            result(
                Check::Langfuse,
                Status::Skipped,
                None,
                "LANGFUSE_PUBLIC_KEY is not set",
            ),
            result(Check::Redis, Status::Skipped, None, "left out with --skip"),
            result(Check::Otlp, Status::Failed, None, "no answer within 5 s"),
        ]);
        assert_eq!(
            text,
            "✓ prometheus    http://p:9090: ready (12 ms)\n\
             ✗ grafana       http://g:3000/api/health: cannot connect\n\
             - langfuse      skipped: LANGFUSE_PUBLIC_KEY is not set\n\
             - redis         skipped: left out with --skip\n\
             ✗ otlp          no answer within 5 s\n\
             doctor: 1 passed, 2 failed, 2 skipped\n"
        );
    }

    #[test]
    fn json_shape() {
        let json = serde_json::to_value([result(
            Check::Alertmanager,
            Status::Ok,
            Some("http://a:9093"),
            "ready",
        )])
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!([{
                "name": "alertmanager", "status": "ok", "target": "http://a:9093",
                "detail": "ready", "duration_ms": 12
            }])
        );
    }
}

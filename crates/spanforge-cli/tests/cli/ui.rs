//! The web UI in a real browser: headless Chromium, driven by tests/ui/check.mjs
//! (playwright-core), against an in-process backend fed over OTLP/HTTP.
//!
//! The test computes what each page must show from the spans it sends (per-prompt, per-model
//! and per-provider LLM totals, trace summaries, the waterfall's nesting, per-route request
//! counts) and compares the numbers the page carries in `data-value` exactly. Costs are
//! multiples of 2^-24 USD, so every sum is exact in f64 whatever order the store adds in.
//!
//! Needs /usr/bin/chromium, node and playwright-core: `scripts/install-browser.sh`.
//! Screenshots of every page land in `target/ui-artifacts/`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::AnyValue;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValueKind;
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{Span, span::Event};
use prost::Message as _;
use serde_json::Value;

use crate::support::{
    self, double, export, failed, int, now_ns, server_span, span, span_hex, string, trace_hex,
    trace_id,
};

const SERVICE: &str = "prompt-api";
const RUN_ROUTE: &str = "/prompts/{name}/run";
/// Costs are whole multiples of this (2^-24 USD), so that sums are exact.
const COST_UNIT: f64 = 1.0 / 16_777_216.0;
/// The nested trace whose waterfall is checked, and the span clicked in it.
const NESTED_TRACE: u64 = 1;
const CLICKED_SPAN: u64 = 5;
const CLICKED_SPAN_LOG: &str = "provider answered 429: rate limited";
/// A span name that would create elements if the page put it in as HTML.
const HOSTILE_NAME: &str =
    "SELECT <img src=x data-xss=1> FROM prompts <script>window.xss=1</script>";

/// One LLM call of the fixture.
struct Call {
    trace: u64,
    id: u64,
    parent: u64,
    /// Start, relative to the trace's start, and duration, in ms.
    at_ms: u64,
    duration_ms: u64,
    provider: &'static str,
    model: &'static str,
    prompt: Option<(&'static str, i64)>,
    /// Input (cached included), output and cache-read tokens.
    tokens: (u64, u64, u64),
    /// Cost in [`COST_UNIT`]s; `None` sends no cost attribute.
    cost_units: Option<u32>,
    ttfc_s: Option<f64>,
    error: bool,
}

impl Call {
    fn cost(&self) -> f64 {
        f64::from(self.cost_units.unwrap_or(0)) * COST_UNIT
    }

    fn span(&self, trace_start_ns: u64) -> Span {
        let mut llm = span(
            self.trace,
            self.id,
            Some(self.parent),
            &format!("chat {}", self.model),
            trace_start_ns + self.at_ms * 1_000_000,
            self.duration_ms,
        );
        llm.kind = 3;
        let mut attributes = vec![
            string("gen_ai.operation.name", "chat"),
            string("gen_ai.provider.name", self.provider),
            string("gen_ai.request.model", self.model),
            int("gen_ai.usage.input_tokens", as_i64(self.tokens.0)),
            int("gen_ai.usage.output_tokens", as_i64(self.tokens.1)),
            int(
                "gen_ai.usage.cache_read.input_tokens",
                as_i64(self.tokens.2),
            ),
        ];
        if let Some((name, version)) = self.prompt {
            attributes.push(string("gen_ai.prompt.name", name));
            attributes.push(int("gen_ai.prompt.version", version));
        }
        if self.cost_units.is_some() {
            attributes.push(double("gen_ai.usage.cost", self.cost()));
        }
        if let Some(ttfc) = self.ttfc_s {
            attributes.push(double("gen_ai.response.time_to_first_chunk", ttfc));
            llm.events.push(Event {
                time_unix_nano: trace_start_ns
                    + self.at_ms * 1_000_000
                    + (ttfc * 1e9).round() as u64,
                name: "gen_ai.first_chunk".into(),
                ..Event::default()
            });
        }
        llm.attributes = attributes;
        if self.error {
            llm = failed(llm, "429 rate limited");
            llm.attributes.push(string("error.type", "429"));
        }
        llm
    }
}

fn as_i64(n: u64) -> i64 {
    i64::try_from(n).expect("small")
}

/// A root HTTP server span: (trace, method, route, status, duration).
struct Root(u64, &'static str, &'static str, i64, u64);

fn roots() -> Vec<Root> {
    vec![
        Root(1, "POST", RUN_ROUTE, 200, 900),
        Root(2, "POST", RUN_ROUTE, 200, 640),
        Root(3, "POST", RUN_ROUTE, 200, 1500),
        Root(4, "POST", RUN_ROUTE, 200, 1200),
        Root(5, "POST", RUN_ROUTE, 200, 800),
        Root(6, "POST", "/chat", 500, 300),
        Root(7, "GET", "/health", 200, 2),
    ]
}

/// The root span of trace `n` has id `n * 100`.
fn root_id(trace: u64) -> u64 {
    trace * 100
}

#[allow(clippy::too_many_arguments)]
fn call(
    trace: u64,
    id: u64,
    parent: u64,
    (at_ms, duration_ms): (u64, u64),
    (provider, model): (&'static str, &'static str),
    prompt: Option<(&'static str, i64)>,
    tokens: (u64, u64, u64),
    cost_units: Option<u32>,
    ttfc_s: Option<f64>,
) -> Call {
    Call {
        trace,
        id,
        parent,
        at_ms,
        duration_ms,
        provider,
        model,
        prompt,
        tokens,
        cost_units,
        ttfc_s,
        error: false,
    }
}

fn calls() -> Vec<Call> {
    let greet = Some(("greet", 3));
    vec![
        // Trace 1, nested: root > run prompt (3) > retry policy (4) > two attempts.
        Call {
            error: true,
            ..call(
                1,
                5,
                4,
                (30, 300),
                ("openai", "gpt-4o-mini"),
                greet,
                (1200, 0, 0),
                None,
                None,
            )
        },
        call(
            1,
            6,
            4,
            (400, 460),
            ("openai", "gpt-4o-mini"),
            greet,
            (1200, 350, 800),
            Some(5000),
            Some(0.12),
        ),
        call(
            2,
            201,
            200,
            (10, 590),
            ("anthropic", "claude-3-5-haiku"),
            greet,
            (900, 200, 0),
            Some(14000),
            Some(0.2),
        ),
        call(
            3,
            301,
            300,
            (20, 1430),
            ("openai", "gpt-4o"),
            Some(("summarize", 1)),
            (3000, 500, 1024),
            Some(120_000),
            Some(0.35),
        ),
        call(
            4,
            401,
            400,
            (10, 1090),
            ("openai", "gpt-4o"),
            Some(("summarize", 2)),
            (2500, 400, 0),
            Some(95_000),
            None,
        ),
        call(
            5,
            501,
            500,
            (10, 690),
            ("openai", "gpt-4o"),
            Some(("summarize", 2)),
            (2400, 380, 2048),
            Some(61_000),
            Some(0.3),
        ),
        // 2064 units = $0.000123, the UI's smallest-amount case.
        call(
            5,
            502,
            500,
            (710, 50),
            ("openai", "gpt-4o-mini"),
            Some(("tiny", 1)),
            (40, 5, 0),
            Some(2064),
            None,
        ),
        call(
            6,
            601,
            600,
            (10, 240),
            ("openai", "gpt-4o-mini"),
            None,
            (100, 20, 0),
            Some(300),
            None,
        ),
    ]
}

/// Every span of the fixture, per trace, and when each trace starts.
fn fixture(base_ns: u64) -> BTreeMap<u64, (u64, Vec<Span>)> {
    let mut traces: BTreeMap<u64, (u64, Vec<Span>)> = BTreeMap::new();
    for root in roots() {
        let start = base_ns + root.0 * 20_000_000_000;
        let server = server_span(
            root.0,
            root_id(root.0),
            start,
            root.4,
            (root.1, root.2),
            root.3,
        );
        traces.insert(root.0, (start, vec![server]));
    }
    let start1 = traces[&NESTED_TRACE].0;
    let mut db = span(
        NESTED_TRACE,
        2,
        Some(root_id(NESTED_TRACE)),
        HOSTILE_NAME,
        start1 + 5_000_000,
        7,
    );
    db.kind = 3;
    db.attributes = vec![string("db.system.name", "sqlite")];
    let run = span(
        NESTED_TRACE,
        3,
        Some(root_id(NESTED_TRACE)),
        "run prompt greet",
        start1 + 20_000_000,
        860,
    );
    let retry = span(
        NESTED_TRACE,
        4,
        Some(3),
        "retry policy",
        start1 + 25_000_000,
        845,
    );
    traces
        .get_mut(&NESTED_TRACE)
        .unwrap()
        .1
        .extend([db, run, retry]);
    for call in calls() {
        let (start, spans) = traces.get_mut(&call.trace).unwrap();
        spans.push(call.span(*start));
    }
    traces
}

/// Nearest-rank percentile, as the store computes it.
fn percentile(values: &[f64], p: f64) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// What one row of the LLM table must carry.
#[derive(Debug, Default)]
struct Expected {
    calls: u64,
    errors: u64,
    input: u64,
    output: u64,
    cached: u64,
    cost: f64,
    latencies: Vec<f64>,
    ttfcs: Vec<f64>,
}

impl Expected {
    fn add(&mut self, call: &Call) {
        self.calls += 1;
        self.errors += u64::from(call.error);
        self.input += call.tokens.0;
        self.output += call.tokens.1;
        self.cached += call.tokens.2;
        self.cost += call.cost();
        self.latencies.push(call.duration_ms as f64);
        if let Some(ttfc) = call.ttfc_s {
            self.ttfcs.push(ttfc * 1000.0);
        }
    }

    /// The `data-value`s of the row's numeric cells (`None`: the cell has none).
    fn cells(&self) -> Vec<(&'static str, Option<f64>)> {
        let calls = self.calls as f64;
        vec![
            ("calls", Some(calls)),
            ("errors", Some(self.errors as f64)),
            ("error_rate", Some(self.errors as f64 / calls)),
            ("input_tokens", Some(self.input as f64)),
            ("output_tokens", Some(self.output as f64)),
            ("cached_tokens", Some(self.cached as f64)),
            ("cost_usd", Some(self.cost)),
            ("avg_cost_usd", Some(self.cost / calls)),
            ("latency_p50_ms", percentile(&self.latencies, 0.50)),
            ("latency_p95_ms", percentile(&self.latencies, 0.95)),
            ("ttfc_p50_ms", percentile(&self.ttfcs, 0.50)),
            ("ttfc_p95_ms", percentile(&self.ttfcs, 0.95)),
        ]
    }

    /// The totals row has no percentiles.
    fn total_cells(&self) -> Vec<(&'static str, Option<f64>)> {
        let mut cells = self.cells();
        for cell in &mut cells {
            if cell.0.contains("_p50_") || cell.0.contains("_p95_") {
                cell.1 = None;
            }
        }
        cells
    }
}

/// Expected rows of one grouping: key attributes (as the row's data-* attributes) → totals.
fn expected_groups(group: &str) -> BTreeMap<Vec<(&'static str, Option<String>)>, Expected> {
    let mut rows: BTreeMap<_, Expected> = BTreeMap::new();
    for call in calls() {
        let key = match group {
            "prompt" => vec![
                ("prompt-name", call.prompt.map(|p| p.0.to_owned())),
                ("prompt-version", call.prompt.map(|p| p.1.to_string())),
            ],
            "model" => vec![("model", Some(call.model.to_owned()))],
            "provider" => vec![("provider", Some(call.provider.to_owned()))],
            "route" => {
                let root = roots()
                    .into_iter()
                    .find(|r| r.0 == call.trace)
                    .expect("root");
                vec![("route", Some(root.2.to_owned()))]
            }
            _ => unreachable!("no grouping {group}"),
        };
        rows.entry(key).or_default().add(&call);
    }
    rows
}

fn expected_total() -> Expected {
    let mut total = Expected::default();
    for call in calls() {
        total.add(&call);
    }
    total
}

// ------------------------------------------------------------------ the browser side

/// Where the browser pieces are.
#[derive(Clone)]
struct Browser {
    chromium: PathBuf,
    node_modules: PathBuf,
}

fn browser() -> Browser {
    let chromium = std::env::var_os("SPANFORGE_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    let node_modules = std::env::var_os("SPANFORGE_NODE_MODULES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let cache = std::env::var_os("SPANFORGE_CACHE")
                .map(PathBuf::from)
                .unwrap_or_else(|| {
                    PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                        .join(".cache/spanforge")
                });
            cache.join("browser/node_modules")
        });
    let node = Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    let missing: Vec<String> = [
        (!chromium.is_file()).then(|| format!("Chromium ({})", chromium.display())),
        (!node).then(|| "node".to_owned()),
        (!node_modules.join("playwright-core/package.json").is_file())
            .then(|| format!("playwright-core (in {})", node_modules.display())),
    ]
    .into_iter()
    .flatten()
    .collect();
    assert!(
        missing.is_empty(),
        "missing {}: run scripts/install-browser.sh",
        missing.join(", ")
    );
    Browser {
        chromium,
        node_modules,
    }
}

/// `target/ui-artifacts`, next to the directory of this test binary's profile.
fn artifacts_dir() -> PathBuf {
    let target = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.parent()?.to_path_buf()))
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("ui-artifacts");
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path
                .extension()
                .is_some_and(|ext| ext == "png" || ext == "json")
            {
                let _ = std::fs::remove_file(path);
            }
        }
    }
    std::fs::create_dir_all(&dir).expect("create target/ui-artifacts");
    dir
}

/// Runs check.mjs (at most `limit`), returns its JSON report.
fn run_check(browser: &Browser, args: &[(&str, String)], limit: Duration) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui/check.mjs");
    let mut command = Command::new("node");
    command
        .arg(&script)
        .env("SPANFORGE_NODE_MODULES", &browser.node_modules)
        .env("SPANFORGE_CHROMIUM", &browser.chromium)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in args {
        command.arg(format!("--{name}")).arg(value);
    }
    let mut child = command.spawn().expect("start node");
    let started = Instant::now();
    while child.try_wait().expect("wait for node").is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            let output = child.wait_with_output().expect("node output");
            panic!(
                "check.mjs ran longer than {limit:?}; stderr:\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let output = child.wait_with_output().expect("node output");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "check.mjs failed ({}):\n{stderr}",
        output.status
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "check.mjs printed no JSON report ({error}):\n{}\n{stderr}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

// ------------------------------------------------------------------ reading the report

fn page<'a>(report: &'a Value, name: &str) -> &'a Value {
    let page = &report["pages"][name];
    assert!(page.is_object(), "check.mjs did not visit {name}");
    page
}

fn rows<'a>(report: &'a Value, name: &str) -> &'a Vec<Value> {
    page(report, name)["rows"]
        .as_array()
        .unwrap_or_else(|| panic!("{name}: no rows in {}", page(report, name)))
}

/// The exact number in a cell's `data-value` (`None` when it has none).
fn value(row: &Value, key: &str) -> Option<f64> {
    let cell = &row["cells"][key];
    assert!(cell.is_object(), "no {key} cell in {row}");
    cell["value"].as_str().map(|text| {
        text.parse::<f64>()
            .unwrap_or_else(|_| panic!("{key}: data-value {text:?} is not a number"))
    })
}

fn text<'a>(row: &'a Value, key: &str) -> &'a str {
    row["cells"][key]["text"].as_str().unwrap_or_default()
}

fn attr(row: &Value, name: &str) -> Option<String> {
    row["attrs"][name].as_str().map(str::to_owned)
}

fn assert_cells(what: &str, row: &Value, expected: &[(&str, Option<f64>)]) {
    for (key, want) in expected {
        assert_eq!(value(row, key), *want, "{what}: {key} in {row}");
    }
}

fn check_llm_grouping(report: &Value, visit: &str, group: &str) {
    let expected = expected_groups(group);
    let shown = rows(report, visit);
    assert_eq!(shown.len(), expected.len(), "{visit}: rows {shown:?}");
    for (key, want) in &expected {
        let row = shown
            .iter()
            .find(|row| key.iter().all(|(name, value)| attr(row, name) == *value))
            .unwrap_or_else(|| panic!("{visit}: no row for {key:?} in {shown:?}"));
        assert_eq!(attr(row, "group").as_deref(), Some(group), "{visit}");
        assert_cells(&format!("{visit} {key:?}"), row, &want.cells());
    }
    let total = &page(report, visit)["total"];
    assert!(total.is_object(), "{visit}: no totals row");
    assert_cells(
        &format!("{visit} totals"),
        total,
        &expected_total().total_cells(),
    );
}

// ------------------------------------------------------------------ the test

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_show_what_was_sent_without_console_errors() {
    let browser = browser();
    let backend = support::backend().await;

    // Ten minutes ago, traces 20 s apart: inside every time range the UI offers.
    let base_ns = now_ns() - 600_000_000_000;
    let traces = fixture(base_ns);
    for (_, spans) in traces.values() {
        // Children first: the store must not depend on arrival order.
        let mut spans = spans.clone();
        spans.reverse();
        backend.send(&export(SERVICE, spans)).await;
    }
    send_log(&backend, traces[&NESTED_TRACE].0 + 40_000_000).await;
    wait_for_traces(&backend, traces.len()).await;

    let out = artifacts_dir();
    let url = backend.ui_url();
    let args = [
        ("url", url.clone()),
        ("out", out.display().to_string()),
        ("trace", trace_hex(NESTED_TRACE)),
        ("span", span_hex(CLICKED_SPAN)),
    ];
    let report = tokio::task::spawn_blocking({
        let browser = browser.clone();
        move || run_check(&browser, &args, Duration::from_secs(240))
    })
    .await
    .expect("check.mjs runner");
    std::fs::write(
        out.join("report.json"),
        serde_json::to_vec_pretty(&report).expect("JSON"),
    )
    .expect("write report.json");
    println!("UI screenshots and report: {}", out.display());

    check_hygiene(&report);
    check_traces(&report, &traces);
    check_waterfall(&report);
    for (visit, group) in [
        ("llm:prompt", "prompt"),
        ("llm:prompt-24h", "prompt"),
        ("llm:model", "model"),
        ("llm:provider", "provider"),
        ("llm:route", "route"),
    ] {
        check_llm_grouping(&report, visit, group);
    }
    check_llm_formatting(&report);
    check_services(&report);

    let shots = report["screenshots"].as_array().expect("screenshots");
    assert!(shots.len() >= 8, "{shots:?}");
    for shot in shots {
        let path = Path::new(shot.as_str().expect("path"));
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        assert!(
            size > 1000,
            "screenshot {} is missing or empty",
            path.display()
        );
    }
}

async fn send_log(backend: &support::Backend, time_ns: u64) {
    let record = LogRecord {
        time_unix_nano: time_ns,
        observed_time_unix_nano: time_ns,
        severity_number: 17,
        severity_text: "ERROR".into(),
        body: Some(AnyValue {
            value: Some(AnyValueKind::StringValue(CLICKED_SPAN_LOG.into())),
        }),
        attributes: vec![int("retry.attempt", 1)],
        trace_id: trace_id(NESTED_TRACE),
        span_id: support::span_id(CLICKED_SPAN),
        ..LogRecord::default()
    };
    let request = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(Resource {
                attributes: vec![string("service.name", SERVICE)],
                ..Resource::default()
            }),
            scope_logs: vec![ScopeLogs {
                log_records: vec![record],
                ..ScopeLogs::default()
            }],
            ..ResourceLogs::default()
        }],
    };
    let response = reqwest::Client::new()
        .post(format!("{}/v1/logs", backend.otlp_http_url()))
        .header("content-type", "application/x-protobuf")
        .body(request.encode_to_vec())
        .send()
        .await
        .expect("OTLP/HTTP answers");
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
}

async fn wait_for_traces(backend: &support::Backend, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let listed = backend.api("/api/traces?limit=100").await;
        let seen = listed["traces"].as_array().map_or(0, Vec::len);
        if seen == count {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the store lists {seen} of {count} traces: {listed}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// No console error, page error or failed request anywhere, except the 404 that the visit of a
/// missing trace causes on purpose; every page drew; nothing in the data became markup.
fn check_hygiene(report: &Value) {
    let expected_404 = |entry: &Value| {
        entry["visit"] == "trace:missing"
            && (entry["status"] == 404 || entry["text"].as_str().is_some_and(|t| t.contains("404")))
    };
    for list in [
        "console_errors",
        "page_errors",
        "failed_requests",
        "bad_responses",
    ] {
        let unexpected: Vec<&Value> = report[list]
            .as_array()
            .unwrap_or_else(|| panic!("no {list} in the report"))
            .iter()
            .filter(|entry| !expected_404(entry))
            .collect();
        assert!(unexpected.is_empty(), "{list}: {unexpected:#?}");
    }
    let pages = report["pages"].as_object().expect("pages");
    for (name, page) in pages {
        assert_eq!(page["injected"], 0, "{name}: data became markup");
        if name == "trace:missing" {
            assert_eq!(page["state"], "error", "{name}: {page}");
            assert!(
                page["error"].as_str().is_some_and(|e| !e.is_empty()),
                "{name}: {page}"
            );
        } else {
            assert_eq!(page["state"], "ready", "{name}: {page}");
        }
    }
}

fn check_traces(report: &Value, traces: &BTreeMap<u64, (u64, Vec<Span>)>) {
    let all = rows(report, "traces");
    assert_eq!(all.len(), traces.len(), "{all:?}");
    assert_eq!(rows(report, "traces:all").len(), traces.len());
    // Newest first.
    let order: Vec<String> = all.iter().filter_map(|row| attr(row, "trace-id")).collect();
    let newest_first: Vec<String> = traces.keys().rev().map(|n| trace_hex(*n)).collect();
    assert_eq!(order, newest_first);

    let calls = calls();
    for (n, (_, spans)) in traces {
        let row = all
            .iter()
            .find(|row| attr(row, "trace-id") == Some(trace_hex(*n)))
            .unwrap_or_else(|| panic!("trace {n} not listed"));
        let errors = spans
            .iter()
            .filter(|s| s.status.as_ref().is_some_and(|s| s.code == 2))
            .count();
        let mine: Vec<&Call> = calls.iter().filter(|c| c.trace == *n).collect();
        let cost: f64 = mine.iter().map(|c| c.cost()).sum();
        let root = roots().into_iter().find(|r| r.0 == *n).expect("root");
        assert_cells(
            &format!("trace {n}"),
            row,
            &[
                ("span_count", Some(spans.len() as f64)),
                ("error_count", Some(errors as f64)),
                ("llm_calls", Some(mine.len() as f64)),
                ("cost_usd", Some(cost)),
                ("duration_ms", Some(root.4 as f64)),
            ],
        );
        assert_eq!(text(row, "service"), SERVICE);
        assert!(
            text(row, "name").starts_with(&format!("{} {}", root.1, root.2)),
            "{row}"
        );
    }

    let ids = |visit: &str| -> Vec<String> {
        let mut ids: Vec<String> = rows(report, visit)
            .iter()
            .filter_map(|row| attr(row, "trace-id"))
            .collect();
        ids.sort();
        ids
    };
    let with_errors: Vec<String> = [1, 6].map(trace_hex).into_iter().collect();
    assert_eq!(ids("traces:error"), with_errors, "status=error filter");
    let with_llm: Vec<String> = (1..=6).map(trace_hex).collect();
    assert_eq!(ids("traces:llm"), with_llm, "llm=true filter");
}

fn check_waterfall(report: &Value) {
    let trace = page(report, "trace");
    assert_eq!(trace["trace_id"], trace_hex(NESTED_TRACE));
    let root = root_id(NESTED_TRACE);
    // Depth-first, siblings by start time.
    let expected: [(u64, Option<u64>, u64); 6] = [
        (root, None, 0),
        (2, Some(root), 1),
        (3, Some(root), 1),
        (4, Some(3), 2),
        (5, Some(4), 3),
        (6, Some(4), 3),
    ];
    let spans = trace["spans"].as_array().expect("spans");
    let shown: Vec<(String, Option<String>, u64)> = spans
        .iter()
        .map(|s| {
            (
                s["span_id"].as_str().unwrap_or_default().to_owned(),
                s["parent_span_id"].as_str().map(str::to_owned),
                s["depth"].as_u64().expect("depth"),
            )
        })
        .collect();
    let want: Vec<(String, Option<String>, u64)> = expected
        .iter()
        .map(|(id, parent, depth)| (span_hex(*id), parent.map(span_hex), *depth))
        .collect();
    assert_eq!(shown, want, "waterfall order, parents and depths");

    let mut indent_at = BTreeMap::new();
    for s in spans {
        let depth = s["depth"].as_u64().unwrap();
        let indent = s["indent_px"].as_f64().expect("indent");
        if let Some(other) = indent_at.insert(depth, indent) {
            assert_eq!(other, indent, "same depth, same indent");
        }
        if depth > 0 {
            assert!(
                indent > indent_at[&(depth - 1)],
                "depth {depth} is indented: {s}"
            );
        }
        let is_error = s["status"] == "error";
        assert_eq!(s["error_marked"], is_error, "error mark of {s}");
    }
    assert_eq!(spans[1]["name"], HOSTILE_NAME, "names are shown as text");
    // Bars: the root spans the lane; the first attempt starts 30 ms into 900 ms.
    let bar = |i: usize, key: &str| spans[i]["bar"][key].as_f64().expect("bar");
    assert!((bar(0, "left")).abs() < 0.005 && (bar(0, "width") - 1.0).abs() < 0.005);
    assert!(
        (bar(4, "left") - 30.0 / 900.0).abs() < 0.005,
        "{}",
        spans[4]
    );
    assert!(
        (bar(4, "width") - 300.0 / 900.0).abs() < 0.005,
        "{}",
        spans[4]
    );

    let detail = &page(report, "trace:span")["detail"];
    assert_eq!(detail["span_id"], span_hex(CLICKED_SPAN), "{detail}");
    assert_eq!(
        detail["attributes"]["gen_ai.prompt.name"], "greet",
        "{detail}"
    );
    assert_eq!(
        detail["attributes"]["gen_ai.request.model"], "gpt-4o-mini",
        "{detail}"
    );
    assert_eq!(detail["resource"]["service.name"], SERVICE, "{detail}");
    assert_eq!(
        detail["logs"],
        serde_json::json!([CLICKED_SPAN_LOG]),
        "{detail}"
    );
}

fn check_llm_formatting(report: &Value) {
    let shown = rows(report, "llm:prompt");
    let tiny = shown
        .iter()
        .find(|row| attr(row, "prompt-name").as_deref() == Some("tiny"))
        .expect("tiny row");
    assert_eq!(text(tiny, "cost_usd"), "$0.000123", "{tiny}");
    assert_eq!(text(tiny, "prompt_version"), "v1", "{tiny}");
    let greet = shown
        .iter()
        .find(|row| attr(row, "prompt-name").as_deref() == Some("greet"))
        .expect("greet row");
    assert_eq!(text(greet, "input_tokens"), "3,300", "{greet}");
    // Biggest cost first, as the API sorts.
    let costs: Vec<f64> = shown
        .iter()
        .filter_map(|row| value(row, "cost_usd"))
        .collect();
    assert!(costs.windows(2).all(|w| w[0] >= w[1]), "{costs:?}");
}

fn check_services(report: &Value) {
    let shown = rows(report, "services");
    let mut expected: BTreeMap<(&str, &str), (u64, u64, Vec<f64>)> = BTreeMap::new();
    for root in roots() {
        let entry = expected.entry((root.1, root.2)).or_default();
        entry.0 += 1;
        entry.1 += u64::from(root.3 >= 500);
        entry.2.push(root.4 as f64);
    }
    assert_eq!(shown.len(), expected.len(), "{shown:?}");
    for ((method, route), (requests, errors, durations)) in &expected {
        let row = shown
            .iter()
            .find(|row| {
                attr(row, "method").as_deref() == Some(*method)
                    && attr(row, "route").as_deref() == Some(*route)
            })
            .unwrap_or_else(|| panic!("no services row for {method} {route}: {shown:?}"));
        assert_eq!(attr(row, "service").as_deref(), Some(SERVICE));
        assert_cells(
            &format!("{method} {route}"),
            row,
            &[
                ("requests", Some(*requests as f64)),
                ("errors", Some(*errors as f64)),
                ("error_rate", Some(*errors as f64 / *requests as f64)),
                ("p50_ms", percentile(durations, 0.50)),
                ("p95_ms", percentile(durations, 0.95)),
            ],
        );
        assert!(value(row, "rate_per_s").is_some_and(|r| r > 0.0), "{row}");
    }
}

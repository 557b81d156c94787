//! The built collector (`otelcol-spanforge`) with `collector-config/gateway.yaml` (and
//! `agent.yaml` in front of two gateways) against real backends on loopback: Jaeger v2 as
//! the trace backend (Tempo's stand-in), Prometheus scraping the gateway, the testkit's OTLP
//! receiver as Loki and as Langfuse, and the `llm_service` example as the instrumented
//! service, talking to the testkit's fake LLM.
//!
//! Every process is started here on free ports and killed when its guard drops. A missing
//! collector, Jaeger or Prometheus binary fails the test: nothing is skipped.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use spanforge_testkit::OtlpReceiver;
use spanforge_testkit::llm::{FakeLlm, Reply, Tokens};

/// How long any one expectation may take to come true.
const WAIT: Duration = Duration::from_secs(40);
/// `base64("pk-lf-e2e:sk-lf-e2e")`, what `LANGFUSE_AUTH` holds.
const LANGFUSE_AUTH: &str = "cGstbGYtZTJlOnNrLWxmLWUyZQ==";
const PROMETHEUS: &str = "/usr/bin/prometheus";

// ----- processes and files -------------------------------------------------------------------

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Runs one of the repository's scripts and returns its stdout; fails loudly if it fails.
fn script(name: &str, args: &[&str]) -> String {
    let path = repo_root().join("scripts").join(name);
    let output = Command::new("bash")
        .arg(&path)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", path.display()));
    assert!(
        output.status.success(),
        "{} {args:?} failed ({}):\n{}",
        path.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The path a build/install script prints; it must exist.
fn binary_from(name: &str) -> PathBuf {
    let path = PathBuf::from(script(name, &[]).trim());
    assert!(
        path.is_file(),
        "{name} printed {}, which does not exist",
        path.display()
    );
    path
}

/// `target/<profile>/examples/llm_service` (`cargo build -p spanforge-examples --examples`).
fn example_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let path = profile_dir.join("examples").join("llm_service");
    assert!(
        path.exists(),
        "{} is missing: run `cargo build -p spanforge-examples --examples --all-features` (scripts/test.sh does)",
        path.display()
    );
    path
}

fn free_addr() -> String {
    spanforge_testkit::ports::unused_addr()
}

/// A scratch directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let path = std::env::temp_dir().join(format!(
            "spanforge-collector-e2e-{tag}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A child process, killed (and reaped) when dropped; its output goes to a log file.
struct Proc {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Proc {
    fn spawn(name: &str, command: &mut Command, log: PathBuf) -> Proc {
        let file = std::fs::File::create(&log).unwrap();
        let child = command
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Proc {
            name: name.to_owned(),
            child,
            log,
        }
    }

    /// The last lines of the process' output, for failure messages.
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    fn assert_running(&mut self) {
        if let Some(status) = self.child.try_wait().unwrap() {
            panic!(
                "{} exited ({status}); its output:\n{}",
                self.name,
                self.log_tail()
            );
        }
    }

    /// Waits until `url` answers 200.
    async fn wait_ready(&mut self, url: &str) {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + WAIT;
        loop {
            self.assert_running();
            if let Ok(response) = client.get(url).send().await
                && response.status() == 200
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not answer {url}; its output:\n{}",
                self.name,
                self.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Polls `check` until it returns `Ok`, or fails with its last error after `WAIT`.
async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let deadline = Instant::now() + WAIT;
    loop {
        match check().await {
            Ok(value) => return value,
            Err(last) => {
                assert!(
                    Instant::now() < deadline,
                    "timed out after {WAIT:?} waiting for {what}: {last}"
                );
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

// ----- Jaeger --------------------------------------------------------------------------------

struct Jaeger {
    binary: PathBuf,
    config: PathBuf,
    otlp_grpc: String,
    otlp_http: String,
    query_http: String,
    query_grpc: String,
    health: String,
    metrics_port: u16,
    log: PathBuf,
}

impl Jaeger {
    fn new(dir: &TempDir) -> Jaeger {
        let config = dir.path("jaeger.yaml");
        std::fs::write(&config, script("install-jaeger.sh", &["--print-config"])).unwrap();
        let metrics = free_addr();
        Jaeger {
            binary: binary_from("install-jaeger.sh"),
            config,
            otlp_grpc: free_addr(),
            otlp_http: free_addr(),
            query_http: free_addr(),
            query_grpc: free_addr(),
            health: free_addr(),
            metrics_port: metrics.rsplit(':').next().unwrap().parse().unwrap(),
            log: dir.path("jaeger.log"),
        }
    }

    /// Starts Jaeger (again, on the same ports) and waits for its query API.
    async fn start(&self) -> Proc {
        let mut proc = Proc::spawn(
            "jaeger",
            Command::new(&self.binary)
                .arg(format!("--config={}", self.config.display()))
                .env("JAEGER_OTLP_GRPC_ENDPOINT", &self.otlp_grpc)
                .env("JAEGER_OTLP_HTTP_ENDPOINT", &self.otlp_http)
                .env("JAEGER_QUERY_HTTP_ENDPOINT", &self.query_http)
                .env("JAEGER_QUERY_GRPC_ENDPOINT", &self.query_grpc)
                .env("JAEGER_HEALTH_ENDPOINT", &self.health)
                .env("JAEGER_METRICS_PORT", self.metrics_port.to_string()),
            self.log.clone(),
        );
        proc.wait_ready(&format!("http://{}/api/v3/services", self.query_http))
            .await;
        proc
    }

    /// The trace's spans (OTLP/JSON span objects with their service name), or `None` if
    /// Jaeger does not have it.
    async fn trace(&self, trace_id: &str) -> Result<Option<Vec<Value>>, String> {
        let url = format!("http://{}/api/v3/traces/{trace_id}", self.query_http);
        let response = reqwest::get(&url).await.map_err(|e| e.to_string())?;
        if response.status() == 404 {
            return Ok(None);
        }
        if response.status() != 200 {
            return Err(format!("{url}: {}", response.status()));
        }
        let body: Value = response.json().await.map_err(|e| e.to_string())?;
        Ok(Some(otlp_json_spans(&body["result"])))
    }

    async fn wait_for_trace(&self, trace_id: &str, what: &str) -> Vec<Value> {
        eventually(&format!("{what} (trace {trace_id}) in Jaeger"), || async {
            self.trace(trace_id)
                .await?
                .ok_or_else(|| "not there".to_owned())
        })
        .await
    }

    /// Trace ids that Jaeger's search finds for a service in the last hour.
    async fn search(&self, service: &str) -> HashSet<String> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let url = format!(
            "http://{}/api/v3/traces?query.service_name={service}&query.start_time_min={}&query.start_time_max={}&query.num_traces=1000",
            self.query_http,
            rfc3339(now - 3600),
            rfc3339(now + 60)
        );
        let response = reqwest::get(&url).await.unwrap();
        assert_eq!(response.status(), 200, "{url}");
        let body: Value = response.json().await.unwrap();
        otlp_json_spans(&body["result"])
            .iter()
            .map(|s| s["traceId"].as_str().unwrap().to_ascii_lowercase())
            .collect()
    }
}

/// Flattens OTLP/JSON `resourceSpans` into span objects, each with `"service"` added.
fn otlp_json_spans(result: &Value) -> Vec<Value> {
    let mut spans = Vec::new();
    for resource in result["resourceSpans"].as_array().into_iter().flatten() {
        let service = resource["resource"]["attributes"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|a| a["key"] == "service.name")
            .map(|a| a["value"]["stringValue"].clone())
            .unwrap_or(Value::Null);
        for scope in resource["scopeSpans"].as_array().into_iter().flatten() {
            for span in scope["spans"].as_array().into_iter().flatten() {
                let mut span = span.clone();
                span["service"] = service.clone();
                spans.push(span);
            }
        }
    }
    spans
}

fn span_attr<'a>(span: &'a Value, key: &str) -> Option<&'a Value> {
    span["attributes"]
        .as_array()?
        .iter()
        .find(|a| a["key"] == key)
        .map(|a| &a["value"])
}

/// `YYYY-MM-DDTHH:MM:SSZ` for Unix seconds (days-to-civil, proleptic Gregorian).
fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

// ----- the collector -------------------------------------------------------------------------

struct Collector {
    proc: Proc,
    otlp_grpc: String,
    otlp_http: String,
    prometheus: String,
}

/// Backends of a gateway.
struct Backends<'a> {
    tempo: &'a str,
    loki: &'a OtlpReceiver,
    langfuse: &'a OtlpReceiver,
}

fn collector_command(binary: &Path, config: &str, name: &str, dir: &TempDir) -> Command {
    let mut command = Command::new(binary);
    command
        .arg(format!(
            "--config={}",
            repo_root().join("collector-config").join(config).display()
        ))
        .env("OTELCOL_HEALTH_ENDPOINT", free_addr())
        .env("OTELCOL_TELEMETRY_HOST", "127.0.0.1")
        .env(
            "OTELCOL_TELEMETRY_PORT",
            free_addr().rsplit(':').next().unwrap(),
        )
        .env("OTELCOL_INSTANCE_ID", name)
        .env("OTELCOL_LOG_LEVEL", "warn")
        .env("OTELCOL_MEMORY_LIMIT_MIB", "512")
        .env("OTELCOL_MEMORY_SPIKE_LIMIT_MIB", "128")
        .env("OTELCOL_STORAGE_DIR", dir.path(&format!("{name}-queue")));
    command
}

async fn start_gateway(
    binary: &Path,
    name: &str,
    dir: &TempDir,
    backends: &Backends<'_>,
    sampling_percentage: u32,
) -> Collector {
    let (otlp_grpc, otlp_http, prometheus, health) =
        (free_addr(), free_addr(), free_addr(), free_addr());
    let mut command = collector_command(binary, "gateway.yaml", name, dir);
    command
        .env("OTELCOL_HEALTH_ENDPOINT", &health)
        .env("OTELCOL_OTLP_GRPC_ENDPOINT", &otlp_grpc)
        .env("OTELCOL_OTLP_HTTP_ENDPOINT", &otlp_http)
        .env("OTELCOL_PROMETHEUS_ENDPOINT", &prometheus)
        .env("OTELCOL_METRICS_FLUSH_INTERVAL", "1s")
        .env("OTELCOL_TAIL_SAMPLING_DECISION_WAIT", "2s")
        .env(
            "OTELCOL_TAIL_SAMPLING_PERCENTAGE",
            sampling_percentage.to_string(),
        )
        .env("TEMPO_ENDPOINT", backends.tempo)
        .env("TEMPO_INSECURE", "true")
        .env(
            "LOKI_ENDPOINT",
            format!("http://{}", backends.loki.http_addr()),
        )
        .env("LANGFUSE_OTLP_ENDPOINT", backends.langfuse.http_endpoint())
        .env("LANGFUSE_AUTH", LANGFUSE_AUTH);
    let mut proc = Proc::spawn(name, &mut command, dir.path(&format!("{name}.log")));
    proc.wait_ready(&format!("http://{health}/")).await;
    Collector {
        proc,
        otlp_grpc,
        otlp_http,
        prometheus,
    }
}

// ----- Prometheus ----------------------------------------------------------------------------

struct Prometheus {
    _proc: Proc,
    base: String,
}

impl Prometheus {
    async fn start(dir: &TempDir, targets: &[&str]) -> Prometheus {
        assert!(
            Path::new(PROMETHEUS).is_file(),
            "{PROMETHEUS} is missing: run scripts/install-ops-tools.sh (or apt-get install prometheus)"
        );
        let targets = targets
            .iter()
            .map(|t| format!("'{t}'"))
            .collect::<Vec<_>>()
            .join(", ");
        // The shipped recording and alerting rules, as a deployment loads them.
        let mut rules: Vec<String> =
            std::fs::read_dir(repo_root().join("collector-config/prometheus/rules"))
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.to_string_lossy().ends_with(".rules.yml"))
                .map(|p| format!("'{}'", p.display()))
                .collect();
        rules.sort();
        let rules = rules.join(", ");
        let config = dir.path("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
                 rule_files: [{rules}]\n\
                 scrape_configs:\n  - job_name: otelcol-gateway\n    scrape_interval: 1s\n    \
                 static_configs:\n      - targets: [{targets}]\n"
            ),
        )
        .unwrap();
        let listen = free_addr();
        let mut proc = Proc::spawn(
            "prometheus",
            Command::new(PROMETHEUS)
                .arg(format!("--config.file={}", config.display()))
                .arg(format!(
                    "--storage.tsdb.path={}",
                    dir.path("prometheus-data").display()
                ))
                .arg(format!("--web.listen-address={listen}")),
            dir.path("prometheus.log"),
        );
        let base = format!("http://{listen}");
        proc.wait_ready(&format!("{base}/-/ready")).await;
        Prometheus { _proc: proc, base }
    }

    /// An instant query: each series' labels and value.
    async fn query(&self, promql: &str) -> Result<Vec<(HashMap<String, String>, f64)>, String> {
        let url = format!("{}/api/v1/query?query={}", self.base, url_encode(promql));
        let body: Value = reqwest::get(&url)
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        if body["status"] != "success" {
            return Err(format!("{promql}: {body}"));
        }
        Ok(body["data"]["result"]
            .as_array()
            .unwrap()
            .iter()
            .map(|series| {
                let labels = series["metric"]
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                    .collect();
                let value = series["value"][1].as_str().unwrap().parse().unwrap();
                (labels, value)
            })
            .collect())
    }

    /// An instant query reduced to `label value -> value`.
    async fn by(&self, label: &str, promql: &str) -> Result<BTreeMap<String, f64>, String> {
        Ok(self
            .query(promql)
            .await?
            .into_iter()
            .map(|(labels, value)| (labels.get(label).cloned().unwrap_or_default(), value))
            .collect())
    }
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

// ----- the service ---------------------------------------------------------------------------

struct Service {
    _proc: Proc,
    base: String,
    client: reqwest::Client,
}

impl Service {
    async fn start(name: &str, dir: &TempDir, otlp_http: &str, llm: &FakeLlm) -> Service {
        Service::start_with(name, dir, llm, |command| {
            command
                .env("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{otlp_http}"))
                .env("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf");
        })
        .await
    }

    /// Starts the service; `exporter` sets where and how its telemetry goes.
    async fn start_with(
        name: &str,
        dir: &TempDir,
        llm: &FakeLlm,
        exporter: impl FnOnce(&mut Command),
    ) -> Service {
        let listen = free_addr();
        let port = listen.rsplit(':').next().unwrap();
        let mut command = Command::new(example_binary());
        for var in [
            "OPENAI_API_KEY",
            "ANTHROPIC_API_KEY",
            "ANTHROPIC_BASE_URL",
            "LLM_PROVIDER",
            "LLM_MODEL",
            "REDIS_URL",
        ] {
            command.env_remove(var);
        }
        command
            .env("PORT", port)
            .env("DATABASE_URL", dir.path(&format!("{name}.db")))
            .env("OPENAI_BASE_URL", llm.openai_base_url())
            .env("OTEL_SERVICE_NAME", name)
            .env(
                "OTEL_RESOURCE_ATTRIBUTES",
                "deployment.environment.name=e2e",
            )
            .env("OTEL_BSP_SCHEDULE_DELAY", "200")
            .env("OTEL_BLRP_SCHEDULE_DELAY", "200")
            .env("OTEL_METRIC_EXPORT_INTERVAL", "1000")
            .env("SPANFORGE_LOG_FORMAT", "none");
        exporter(&mut command);
        let mut proc = Proc::spawn(name, &mut command, dir.path(&format!("{name}.log")));
        let base = format!("http://{listen}");
        proc.wait_ready(&format!("{base}/health")).await;
        Service {
            _proc: proc,
            base,
            client: reqwest::Client::new(),
        }
    }

    /// Sends a request; returns the status, the trace id (`x-trace-id`) and the JSON body.
    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, String, Value) {
        let url = format!("{}{path}", self.base);
        let mut request = match method {
            "GET" => self.client.get(&url),
            _ => self.client.post(&url),
        };
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let trace_id = response
            .headers()
            .get("x-trace-id")
            .unwrap_or_else(|| panic!("{method} {path}: no x-trace-id header"))
            .to_str()
            .unwrap()
            .to_owned();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, trace_id, body)
    }
}

/// A hand-written OTLP/JSON trace of one span lasting `millis`, posted to the collector's
/// OTLP/HTTP port; `extra` is merged into the span (status, events). Returns the trace id.
async fn send_synthetic_span(
    collector_http: &str,
    service: &str,
    name: &str,
    millis: u64,
    extra: Value,
) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let trace_id = format!("{:032x}", nanos ^ 0x5eed_0000_0000_0000_0000_0000_0000_0000);
    let span_id = format!("{:016x}", (nanos as u64) | 1);
    let end = nanos as u64;
    let start = end - millis * 1_000_000;
    let mut span = json!({
        "traceId": trace_id, "spanId": span_id, "name": name, "kind": 1,
        "startTimeUnixNano": start.to_string(), "endTimeUnixNano": end.to_string(),
    });
    for (key, value) in extra.as_object().unwrap() {
        span[key] = value.clone();
    }
    let export = json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
        "scopeSpans": [{"spans": [span]}]
    }]});
    let response = reqwest::Client::new()
        .post(format!("http://{collector_http}/v1/traces"))
        .json(&export)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    trace_id
}

// ----- the gateway against real backends -----------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_against_real_backends() {
    let dir = TempDir::new("gateway");
    let collector_binary = binary_from("build-collector.sh");
    let service_name = "prompt-api-e2e";

    let jaeger = Jaeger::new(&dir);
    let mut jaeger_proc = jaeger.start().await;
    let loki = OtlpReceiver::builder()
        .with_http_path_prefix("/otlp")
        .start()
        .await
        .unwrap();
    let langfuse = OtlpReceiver::builder()
        .with_http_path_prefix("/api/public/otel")
        .start()
        .await
        .unwrap();
    let backends = Backends {
        tempo: &jaeger.otlp_grpc,
        loki: &loki,
        langfuse: &langfuse,
    };
    // Sampling percentage 0: only errors, slow traces and GenAI traces reach Jaeger.
    let mut gateway = start_gateway(&collector_binary, "gateway", &dir, &backends, 0).await;
    let prometheus = Prometheus::start(&dir, &[&gateway.prometheus]).await;

    let llm = FakeLlm::start().await.unwrap();
    llm.push_all([
        Reply::text("Hello, Ada!").with_usage(1200, 30),
        Reply::text("Hi, Grace!").with_usage(900, 45),
        // Cached input and reasoning output, so every token counter has data.
        Reply::text("A short summary.").with_tokens(Tokens {
            input: 5000,
            cache_read: 2000,
            output: 120,
            reasoning: 40,
            ..Tokens::default()
        }),
        // A slow model call: its trace lasts more than 500 ms.
        Reply::text("Hello, slowly.")
            .with_usage(700, 20)
            .with_first_chunk_delay(Duration::from_millis(600)),
    ]);
    let service = Service::start(service_name, &dir, &gateway.otlp_http, &llm).await;

    // ---- traffic ----
    let mut fast_ok = Vec::new();
    for (name, version, template) in [
        ("greet", 1, "Say hello to {{who}}"),
        ("greet", 2, "Greet {{who}} warmly"),
        ("summarize", 1, "Summarize: {{text}}"),
    ] {
        let (status, trace, _) = service
            .call(
                "POST",
                "/prompts",
                Some(json!({"name": name, "version": version, "template": template})),
            )
            .await;
        assert_eq!(status, 201);
        fast_ok.push(trace);
    }
    let mut llm_traces = Vec::new();
    let mut cost: BTreeMap<(String, String), f64> = BTreeMap::new();
    let mut input_tokens: BTreeMap<String, f64> = BTreeMap::new();
    let mut output_tokens: BTreeMap<String, f64> = BTreeMap::new();
    for (name, version, variables) in [
        ("greet", 1, json!({"who": "Ada"})),
        ("greet", 2, json!({"who": "Grace"})),
        ("summarize", 1, json!({"text": "a long text"})),
        ("greet", 1, json!({"who": "Slow"})),
    ] {
        let (status, trace, run) = service
            .call(
                "POST",
                &format!("/prompts/{name}/run"),
                Some(json!({"variables": variables, "version": version})),
            )
            .await;
        assert_eq!(status, 200, "{run}");
        assert_eq!(run["version"], version);
        *cost
            .entry((name.to_owned(), version.to_string()))
            .or_default() += run["cost_usd"].as_f64().unwrap();
        *input_tokens.entry(name.to_owned()).or_default() +=
            run["usage"]["input"].as_f64().unwrap();
        *output_tokens.entry(name.to_owned()).or_default() +=
            run["usage"]["output"].as_f64().unwrap();
        llm_traces.push(trace);
    }
    let slow_llm_trace = llm_traces[3].clone();
    let (status, trace, _) = service.call("GET", "/prompts/greet/runs", None).await;
    assert_eq!(status, 200);
    fast_ok.push(trace);
    let mut not_found = Vec::new();
    for _ in 0..2 {
        let (status, trace, _) = service.call("POST", "/prompts/nope/run", None).await;
        assert_eq!(status, 404);
        not_found.push(trace);
    }
    let mut errors = Vec::new();
    for _ in 0..2 {
        let (status, trace, _) = service.call("GET", "/boom", None).await;
        assert_eq!(status, 500);
        errors.push(trace);
    }
    // The latency policy on its own: a slow span with no error and no GenAI attribute, and
    // a fast one next to it.
    let slow_plain =
        send_synthetic_span(&gateway.otlp_http, service_name, "slow job", 700, json!({})).await;
    let fast_plain =
        send_synthetic_span(&gateway.otlp_http, service_name, "fast job", 5, json!({})).await;
    // A span with a semconv exception event (an event named "exception").
    let exception_trace = send_synthetic_span(
        &gateway.otlp_http,
        service_name,
        "failing job",
        20,
        json!({
            "status": {"code": 2, "message": "job failed"},
            "events": [{
                "name": "exception",
                "timeUnixNano": SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos().to_string(),
                "attributes": [
                    {"key": "exception.type", "value": {"stringValue": "JobError"}},
                    {"key": "exception.message", "value": {"stringValue": "the job always fails"}},
                    {"key": "exception.stacktrace", "value": {"stringValue": "at job::run (job.rs:1)"}}
                ]
            }]
        }),
    )
    .await;

    // ---- (1) the trace in Jaeger: server span with its DB and LLM children ----
    let spans = jaeger.wait_for_trace(&llm_traces[0], "the first run").await;
    let find = |name: &str| {
        spans
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("no span {name:?} in the run's trace: {spans:#?}"))
    };
    let server = find("POST /prompts/{name}/run");
    let handler = find("run_prompt");
    let chat = find("chat gpt-4o-mini");
    let insert = find("INSERT runs");
    assert_eq!(server["service"], service_name);
    assert!(
        server["kind"] == 2 || server["kind"] == "SPAN_KIND_SERVER",
        "{server}"
    );
    assert_eq!(handler["parentSpanId"], server["spanId"]);
    assert_eq!(chat["parentSpanId"], handler["spanId"]);
    assert_eq!(insert["parentSpanId"], handler["spanId"]);
    assert_eq!(
        span_attr(chat, "gen_ai.prompt.name"),
        Some(&json!({"stringValue": "greet"}))
    );
    assert_eq!(
        span_attr(insert, "db.system.name"),
        Some(&json!({"stringValue": "sqlite"}))
    );

    // ---- (6) tail sampling: errors, slow and GenAI traces kept ... ----
    for trace in llm_traces.iter().chain(&errors) {
        jaeger.wait_for_trace(trace, "a kept trace").await;
    }
    let slow = jaeger
        .wait_for_trace(&slow_plain, "the slow plain trace")
        .await;
    assert_eq!(slow[0]["name"], "slow job");
    let slow_llm = jaeger.wait_for_trace(&slow_llm_trace, "the slow run").await;
    assert!(slow_llm.iter().any(|s| s["name"] == "chat gpt-4o-mini"));
    // ... plain fast successful traces (and client errors, which are not server errors)
    // are not: their decisions were taken no later than the kept ones'.
    tokio::time::sleep(Duration::from_secs(1)).await;
    for trace in fast_ok.iter().chain(&not_found).chain([&fast_plain]) {
        assert_eq!(
            jaeger.trace(trace).await.unwrap(),
            None,
            "trace {trace} should have been sampled out"
        );
    }
    let found = jaeger.search(service_name).await;
    for trace in llm_traces.iter().chain(&errors).chain([&slow_plain]) {
        assert!(found.contains(trace), "search misses {trace}: {found:?}");
    }
    for trace in fast_ok.iter().chain(&not_found).chain([&fast_plain]) {
        assert!(!found.contains(trace), "search finds sampled-out {trace}");
    }

    // ---- (2) RED metrics in Prometheus, counting every request, sampled or not ----
    let server_calls = format!(
        "traces_span_metrics_calls_total{{service_name=\"{service_name}\",span_kind=\"SPAN_KIND_SERVER\"}}"
    );
    let expected: BTreeMap<String, f64> = [
        ("/prompts", 3.0),
        ("/prompts/{name}/run", 6.0),
        ("/prompts/{name}/runs", 1.0),
        ("/boom", 2.0),
    ]
    .into_iter()
    .map(|(route, n)| (route.to_owned(), n))
    .collect();
    let query = format!("sum by (http_route) ({server_calls})");
    eventually("request counts per route in Prometheus", || async {
        let got = prometheus.by("http_route", &query).await?;
        if got == expected {
            Ok(())
        } else {
            Err(format!("{query} = {got:?}, want {expected:?}"))
        }
    })
    .await;
    // A rate needs the counter to move between two scrapes: a second round of traffic.
    let (status, _, _) = service
        .call(
            "POST",
            "/prompts",
            Some(json!({"name": "extra", "version": 1, "template": "x"})),
        )
        .await;
    assert_eq!(status, 201);
    for (method, path, want) in [
        ("GET", "/prompts/greet/runs", 200),
        ("POST", "/prompts/nope/run", 404),
        ("GET", "/boom", 500),
    ] {
        assert_eq!(service.call(method, path, None).await.0, want);
    }
    let expected: BTreeMap<String, f64> = [
        ("/prompts", 4.0),
        ("/prompts/{name}/run", 7.0),
        ("/prompts/{name}/runs", 2.0),
        ("/boom", 3.0),
    ]
    .into_iter()
    .map(|(route, n)| (route.to_owned(), n))
    .collect();
    eventually("the second round's counts in Prometheus", || async {
        let got = prometheus.by("http_route", &query).await?;
        if got == expected {
            Ok(())
        } else {
            Err(format!("{query} = {got:?}, want {expected:?}"))
        }
    })
    .await;
    let rate_query = format!("sum by (http_route) (rate({server_calls}[1m]))");
    let rates = eventually("a request rate for every route", || async {
        let rates = prometheus.by("http_route", &rate_query).await?;
        if expected
            .keys()
            .all(|r| rates.get(r).is_some_and(|v| *v > 0.0))
        {
            Ok(rates)
        } else {
            Err(format!("{rate_query} = {rates:?}"))
        }
    })
    .await;
    assert_eq!(rates.len(), expected.len(), "{rates:?}");
    let error_ratio = format!(
        "(sum by (http_route) (traces_span_metrics_calls_total{{service_name=\"{service_name}\",span_kind=\"SPAN_KIND_SERVER\",status_code=\"STATUS_CODE_ERROR\"}}) \
         or 0 * sum by (http_route) ({server_calls})) / sum by (http_route) ({server_calls})"
    );
    let ratios = prometheus.by("http_route", &error_ratio).await.unwrap();
    assert_eq!(ratios["/boom"], 1.0, "{ratios:?}");
    assert_eq!(
        ratios["/prompts/{name}/run"], 0.0,
        "404s are not server errors: {ratios:?}"
    );
    assert_eq!(ratios["/prompts"], 0.0, "{ratios:?}");
    let p95 = format!(
        "histogram_quantile(0.95, sum by (http_route, le) (traces_span_metrics_duration_seconds_bucket{{service_name=\"{service_name}\",span_kind=\"SPAN_KIND_SERVER\"}}))"
    );
    let p95 = prometheus.by("http_route", &p95).await.unwrap();
    // One run in seven took more than 600 ms: the 95th percentile is in the (0.5 s, 1 s] bucket.
    let run_p95 = p95["/prompts/{name}/run"];
    assert!(run_p95 > 0.5 && run_p95 <= 1.0, "{p95:?}");
    assert!(p95["/boom"] > 0.0 && p95["/boom"] <= 0.5, "{p95:?}");
    // The sampled-out synthetic spans are counted too.
    let by_name = prometheus
        .by(
            "span_name",
            &format!(
                "sum by (span_name) (traces_span_metrics_calls_total{{service_name=\"{service_name}\",span_name=~\"(slow|fast) job\"}})"
            ),
        )
        .await
        .unwrap();
    assert_eq!(by_name.get("fast job"), Some(&1.0), "{by_name:?}");
    assert_eq!(by_name.get("slow job"), Some(&1.0), "{by_name:?}");

    // ---- (3) cost and tokens per prompt equal what the runs returned ----
    let cost_query = format!(
        "sum by (gen_ai_prompt_name, gen_ai_prompt_version) (spanforge_llm_cost_usd_total{{service_name=\"{service_name}\"}})"
    );
    let got_cost = eventually("the cost counters in Prometheus", || async {
        let got: BTreeMap<(String, String), f64> = prometheus
            .query(&cost_query)
            .await?
            .into_iter()
            .map(|(l, v)| {
                (
                    (
                        l["gen_ai_prompt_name"].clone(),
                        l["gen_ai_prompt_version"].clone(),
                    ),
                    v,
                )
            })
            .collect();
        let close = got.len() == cost.len()
            && cost.iter().all(|(k, want)| {
                got.get(k)
                    .is_some_and(|v| (v - want).abs() <= 1e-9 * want.max(1e-12))
            });
        if close {
            Ok(got)
        } else {
            Err(format!("{cost_query} = {got:?}, want {cost:?}"))
        }
    })
    .await;
    assert!(got_cost.values().all(|v| *v > 0.0));
    let per_prompt_cost = prometheus
        .by(
            "gen_ai_prompt_name",
            &format!(
                "sum by (gen_ai_prompt_name) (spanforge_llm_cost_usd_total{{service_name=\"{service_name}\"}})"
            ),
        )
        .await
        .unwrap();
    for prompt in ["greet", "summarize"] {
        let want: f64 = cost
            .iter()
            .filter(|((p, _), _)| p == prompt)
            .map(|(_, v)| v)
            .sum();
        assert!(
            (per_prompt_cost[prompt] - want).abs() <= 1e-9 * want,
            "{prompt}: {per_prompt_cost:?} vs {want}"
        );
    }
    for (metric, want) in [
        ("spanforge_llm_input_tokens_total", &input_tokens),
        ("spanforge_llm_output_tokens_total", &output_tokens),
    ] {
        let query =
            format!("sum by (gen_ai_prompt_name) ({metric}{{service_name=\"{service_name}\"}})");
        let got = prometheus.by("gen_ai_prompt_name", &query).await.unwrap();
        assert_eq!(&got, want, "{query}");
    }
    for (metric, want) in [
        ("spanforge_llm_cache_read_tokens_total", 2000.0),
        ("spanforge_llm_reasoning_tokens_total", 40.0),
    ] {
        let query =
            format!("sum by (gen_ai_prompt_name) ({metric}{{service_name=\"{service_name}\"}})");
        let got = prometheus.by("gen_ai_prompt_name", &query).await.unwrap();
        assert_eq!(
            got,
            BTreeMap::from([("summarize".to_owned(), want)]),
            "{query}"
        );
    }
    let calls = prometheus
        .by(
            "gen_ai_prompt_name",
            &format!(
                "sum by (gen_ai_prompt_name) (spanforge_llm_calls_total{{service_name=\"{service_name}\"}})"
            ),
        )
        .await
        .unwrap();
    assert_eq!(calls.get("greet"), Some(&3.0), "{calls:?}");
    assert_eq!(calls.get("summarize"), Some(&1.0), "{calls:?}");

    // ---- (4) the exception is a log record at Loki, with its trace id ----
    // First a semconv-shaped event of a hand-written span (type, message and stack trace).
    let exception = loki
        .wait_for_log_matching("the exception log", WAIT, |l| {
            l.trace_id.as_deref() == Some(exception_trace.as_str())
        })
        .await
        .unwrap();
    assert_eq!(
        exception.body, "JobError: the job always fails\nat job::run (job.rs:1)",
        "{exception:?}"
    );
    assert_eq!(exception.severity_text, "ERROR", "{exception:?}");
    assert_eq!(
        exception.attributes.get_str("span.name"),
        Some("failing job")
    );
    assert_eq!(
        exception.attributes.get_str("exception.type"),
        Some("JobError")
    );
    assert!(!exception.attributes.contains_key("exception.stacktrace"));
    assert_eq!(
        exception.attributes.get_str("service.name"),
        Some(service_name),
        "{exception:?}"
    );
    // The service's own exception (tracing-opentelemetry names the event after the log
    // message; the gateway renames events with exception.* attributes) is a log record too.
    let boom = loki
        .wait_for_log_matching("the exception of /boom", WAIT, |l| {
            l.trace_id.as_deref() == Some(errors[0].as_str())
                && l.attributes.get_str("exception.message")
                    == Some("the boom endpoint always fails")
        })
        .await
        .unwrap();
    assert_eq!(boom.severity_text, "ERROR", "{boom:?}");
    assert_eq!(
        boom.resource.get_str("service.name"),
        Some(service_name),
        "{boom:?}"
    );
    // The service's own error logs reach Loki through the gateway too, with their trace id.
    loki.wait_for_log_matching("the error log of /boom", WAIT, |l| {
        l.trace_id.as_deref() == Some(errors[0].as_str()) && l.body == "request failed"
    })
    .await
    .unwrap();
    assert!(
        loki.requests()
            .iter()
            .all(|r| r.path == "/otlp/v1/logs" && r.outcome.is_success()),
        "Loki's OTLP path"
    );

    // ---- (5) only GenAI spans reach Langfuse, with its headers ----
    let chat_spans = eventually("the four chat spans at Langfuse", || async {
        let spans = langfuse.spans();
        let chats = spans
            .iter()
            .filter(|s| s.name == "chat gpt-4o-mini")
            .count();
        if chats >= 4 {
            Ok(spans)
        } else {
            Err(format!("{chats} chat spans so far"))
        }
    })
    .await;
    assert!(
        chat_spans
            .iter()
            .all(|s| s.str_attr("gen_ai.operation.name").is_some()),
        "only GenAI spans: {:?}",
        chat_spans.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
    assert_eq!(
        chat_spans
            .iter()
            .filter(|s| s.name == "chat gpt-4o-mini")
            .count(),
        4,
        "each LLM call once"
    );
    let langfuse_traces: HashSet<&str> = chat_spans.iter().map(|s| s.trace_id.as_str()).collect();
    let want_traces: HashSet<&str> = llm_traces.iter().map(String::as_str).collect();
    assert_eq!(langfuse_traces, want_traces);
    let requests = langfuse.requests();
    assert!(!requests.is_empty());
    for request in requests.iter() {
        assert_eq!(request.path, "/api/public/otel/v1/traces");
        assert!(request.outcome.is_success(), "{request:?}");
        assert_eq!(
            request.header("authorization"),
            Some(format!("Basic {LANGFUSE_AUTH}").as_str())
        );
        assert_eq!(request.header("x-langfuse-ingestion-version"), Some("4"));
        assert_eq!(request.content_encoding.as_deref(), Some("gzip"));
    }

    // ---- the Grafana dashboards' queries return data from this Prometheus ----
    // (retried: the SLO panels read recording rules built on other recording rules, which
    // take a few evaluation rounds to have data)
    eventually("every dashboard panel to have data", || async {
        let base = prometheus.base.clone();
        let output = tokio::task::spawn_blocking(move || {
            Command::new("bash")
                .arg(repo_root().join("scripts/test-ops.sh"))
                .args(["-k", "dashboards"])
                .env("SPANFORGE_PROMETHEUS_URL", base)
                .output()
        })
        .await
        .unwrap()
        .map_err(|e| e.to_string())?;
        if output.status.success() {
            Ok(())
        } else {
            let stdout = String::from_utf8_lossy(&output.stdout);
            let failed: Vec<&str> = stdout.lines().filter(|l| l.starts_with("FAILED")).collect();
            Err(format!(
                "scripts/test-ops.sh -k dashboards failed:\n{}\n{}",
                failed.join("\n"),
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    })
    .await;

    // ---- (8) outage: traces accepted while Jaeger is down arrive once it is back ----
    jaeger_proc.kill();
    let mut during_outage = Vec::new();
    for _ in 0..2 {
        let (status, trace, _) = service.call("GET", "/boom", None).await;
        assert_eq!(status, 500);
        during_outage.push(trace);
    }
    // Past the sampling decision: the gateway tries to export and fails.
    tokio::time::sleep(Duration::from_secs(4)).await;
    gateway.proc.assert_running();
    let _jaeger_again = jaeger.start().await;
    for trace in &during_outage {
        let spans = jaeger
            .wait_for_trace(trace, "a trace sent during the outage")
            .await;
        assert!(spans.iter().any(|s| s["name"] == "GET /boom"));
    }
    gateway.proc.assert_running();
}

// ----- two tiers: agent.yaml in front of two gateways ----------------------------------------

/// Server spans counted by one gateway's span metrics, read from its `/metrics`.
async fn server_calls_at(gateway: &Collector, service: &str) -> Result<f64, String> {
    let text = reqwest::get(format!("http://{}/metrics", gateway.prometheus))
        .await
        .map_err(|e| e.to_string())?
        .text()
        .await
        .map_err(|e| e.to_string())?;
    Ok(text
        .lines()
        .filter(|l| {
            l.starts_with("traces_span_metrics_calls_total{")
                && l.contains("span_kind=\"SPAN_KIND_SERVER\"")
                && l.contains(&format!("service_name=\"{service}\""))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_sends_every_span_of_a_trace_to_one_gateway() {
    let dir = TempDir::new("agent");
    let collector_binary = binary_from("build-collector.sh");
    let service_name = "prompt-api-tiers";

    // Each gateway has its own trace backend, so where each span went is visible.
    let tempo = [
        OtlpReceiver::start().await.unwrap(),
        OtlpReceiver::start().await.unwrap(),
    ];
    let loki = OtlpReceiver::builder()
        .with_http_path_prefix("/otlp")
        .start()
        .await
        .unwrap();
    let langfuse = OtlpReceiver::builder()
        .with_http_path_prefix("/api/public/otel")
        .start()
        .await
        .unwrap();
    let mut gateways = Vec::new();
    for (i, tempo) in tempo.iter().enumerate() {
        let tempo_addr = tempo.grpc_addr().to_string();
        let backends = Backends {
            tempo: &tempo_addr,
            loki: &loki,
            langfuse: &langfuse,
        };
        gateways.push(
            start_gateway(
                &collector_binary,
                &format!("gateway-{i}"),
                &dir,
                &backends,
                100,
            )
            .await,
        );
    }
    let (agent_grpc, agent_http, agent_health) = (free_addr(), free_addr(), free_addr());
    let mut command = collector_command(&collector_binary, "agent.yaml", "agent", &dir);
    command
        .env("OTELCOL_HEALTH_ENDPOINT", &agent_health)
        .env("OTELCOL_OTLP_GRPC_ENDPOINT", &agent_grpc)
        .env("OTELCOL_OTLP_HTTP_ENDPOINT", &agent_http)
        .env(
            "GATEWAY_ENDPOINTS",
            format!("[{}, {}]", gateways[0].otlp_grpc, gateways[1].otlp_grpc),
        );
    let mut agent = Proc::spawn("agent", &mut command, dir.path("agent.log"));
    agent.wait_ready(&format!("http://{agent_health}/")).await;

    let llm = FakeLlm::start().await.unwrap();
    llm.set_default(Reply::text("ok").with_usage(100, 10));
    let service = Service::start(service_name, &dir, &agent_http, &llm).await;

    let mut traces = Vec::new();
    let (status, trace, _) = service
        .call(
            "POST",
            "/prompts",
            Some(json!({"name": "greet", "version": 1, "template": "Hi {{who}}"})),
        )
        .await;
    assert_eq!(status, 201);
    traces.push(trace);
    for i in 0..12 {
        let (status, trace, _) = service
            .call(
                "POST",
                "/prompts/greet/run",
                Some(json!({"variables": {"who": format!("n{i}")}})),
            )
            .await;
        assert_eq!(status, 200);
        traces.push(trace);
    }
    for path in ["/boom", "/prompts/greet/runs", "/boom"] {
        let (_, trace, _) = service.call("GET", path, None).await;
        traces.push(trace);
    }

    // Every trace arrives whole (server span, handler, and for runs the chat and INSERT).
    eventually("every trace at one of the gateways' backends", || async {
        let spans: Vec<_> = tempo.iter().flat_map(|t| t.spans()).collect();
        let missing: Vec<&String> = traces
            .iter()
            .filter(|t| {
                !spans
                    .iter()
                    .any(|s| &s.trace_id == *t && s.parent_span_id.is_none())
            })
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(format!("{} traces missing", missing.len()))
        }
    })
    .await;
    let runs_complete = || {
        traces[1..13].iter().all(|t| {
            let names: Vec<String> = tempo
                .iter()
                .flat_map(|r| r.trace(t))
                .map(|s| s.name)
                .collect();
            [
                "POST /prompts/{name}/run",
                "run_prompt",
                "chat gpt-4o-mini",
                "INSERT runs",
            ]
            .iter()
            .all(|n| names.iter().any(|m| m == n))
        })
    };
    eventually("every run trace complete", || async {
        if runs_complete() {
            Ok(())
        } else {
            Err("some spans are missing".to_owned())
        }
    })
    .await;
    // Each trace's spans are all at one gateway's backend, and both gateways got traces.
    let mut per_gateway = [0; 2];
    for trace in &traces {
        let counts: Vec<usize> = tempo.iter().map(|r| r.trace(trace).len()).collect();
        assert!(
            counts[0] == 0 || counts[1] == 0,
            "trace {trace} was split between the gateways: {counts:?}"
        );
        per_gateway[usize::from(counts[0] == 0)] += 1;
    }
    assert!(
        per_gateway[0] > 0 && per_gateway[1] > 0,
        "both gateways get traces: {per_gateway:?}"
    );
    // The gateways' span metrics split the requests between them and add up to all of them.
    let counted = eventually("the gateways' span metrics to add up", || async {
        let a = server_calls_at(&gateways[0], service_name).await?;
        let b = server_calls_at(&gateways[1], service_name).await?;
        if a + b == traces.len() as f64 {
            Ok([a, b])
        } else {
            Err(format!("{a} + {b} != {}", traces.len()))
        }
    })
    .await;
    assert_eq!(
        counted,
        [per_gateway[0] as f64, per_gateway[1] as f64],
        "each gateway counts the traces it received"
    );
    for gateway in &mut gateways {
        gateway.proc.assert_running();
    }
    agent.assert_running();
}

/// A CA and a server certificate for 127.0.0.1, made with the `openssl` command; returns the
/// paths of the CA certificate, the server certificate and the server key.
fn tls_certificates(dir: &TempDir) -> (PathBuf, PathBuf, PathBuf) {
    let (ca_key, ca, key, csr, cert, ext) = (
        dir.path("ca.key"),
        dir.path("ca.pem"),
        dir.path("server.key"),
        dir.path("server.csr"),
        dir.path("server.pem"),
        dir.path("server.ext"),
    );
    std::fs::write(&ext, "subjectAltName=IP:127.0.0.1\n").unwrap();
    let openssl = |args: &[&str]| {
        let output = Command::new("openssl")
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run openssl ({e}): apt-get install -y openssl"));
        assert!(
            output.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    let path = |p: &PathBuf| p.to_str().unwrap().to_owned();
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=spanforge test CA",
        "-keyout",
        &path(&ca_key),
        "-out",
        &path(&ca),
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        &path(&key),
        "-out",
        &path(&csr),
    ]);
    openssl(&[
        "x509",
        "-req",
        "-in",
        &path(&csr),
        "-CA",
        &path(&ca),
        "-CAkey",
        &path(&ca_key),
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        &path(&ext),
        "-out",
        &path(&cert),
    ]);
    (ca, cert, key)
}

/// OTLP over gRPC with TLS: the service exports to a collector whose OTLP receiver only speaks
/// TLS, trusting the collector's CA through `SSL_CERT_FILE`, and the spans come out the other
/// side.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_reach_a_collector_over_grpc_with_tls() {
    let dir = TempDir::new("tls");
    let collector_binary = binary_from("build-collector.sh");
    let (ca, cert, key) = tls_certificates(&dir);
    let sink = OtlpReceiver::start().await.unwrap();
    let (grpc, health) = (free_addr(), free_addr());
    let config = dir.path("tls-collector.yaml");
    std::fs::write(
        &config,
        format!(
            "extensions:\n  health_check:\n    endpoint: {health}\n\
             receivers:\n  otlp:\n    protocols:\n      grpc:\n        endpoint: {grpc}\n\
             \x20       tls:\n          cert_file: {cert}\n          key_file: {key}\n\
             exporters:\n  otlp_http/sink:\n    endpoint: {sink}\n\
             service:\n  extensions: [health_check]\n  telemetry:\n    metrics:\n      level: none\n\
             \x20 pipelines:\n    traces:\n      receivers: [otlp]\n      exporters: [otlp_http/sink]\n",
            cert = cert.display(),
            key = key.display(),
            sink = sink.http_endpoint(),
        ),
    )
    .unwrap();
    let mut collector = Proc::spawn(
        "tls-collector",
        Command::new(&collector_binary).arg(format!("--config={}", config.display())),
        dir.path("tls-collector.log"),
    );
    collector.wait_ready(&format!("http://{health}/")).await;

    let llm = FakeLlm::start().await.unwrap();
    let service = Service::start_with("prompt-api-tls", &dir, &llm, |command| {
        command
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", format!("https://{grpc}"))
            .env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
            .env("SSL_CERT_FILE", &ca);
    })
    .await;
    let (status, trace_id, _) = service
        .call(
            "POST",
            "/prompts",
            Some(json!({"name": "greet", "version": 1, "template": "Hi {{who}}"})),
        )
        .await;
    assert_eq!(status, 201);
    let span = sink
        .wait_for_span_named("POST /prompts", WAIT)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "no span over TLS: {e}\ncollector:\n{}",
                collector.log_tail()
            )
        });
    assert_eq!(span.trace_id, trace_id);
    assert_eq!(span.service_name(), Some("prompt-api-tls"));
}

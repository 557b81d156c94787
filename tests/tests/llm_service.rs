//! The `llm_service` example as a user runs it: the real binary, configured by environment,
//! exporting to the OTLP test receiver, stopped with SIGTERM.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use spanforge_testkit::OtlpReceiver;
use spanforge_testkit::langfuse::FakeLangfuse;
use spanforge_testkit::llm::{FakeLlm, Reply};
use spanforge_testkit::otlp::{SpanKind, StatusCode};

const WAIT: Duration = Duration::from_secs(15);

/// `target/<profile>/examples/llm_service`, built by `cargo test --workspace`.
fn example_binary() -> PathBuf {
    example("llm_service")
}

/// `target/<profile>/examples/<name>`.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let path = profile_dir.join("examples").join(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo build -p spanforge-examples --examples` (scripts/test.sh does)",
        path.display()
    );
    path
}

fn free_port() -> u16 {
    spanforge_testkit::ports::unused_port()
}

struct Service {
    child: Child,
    base: String,
    database: PathBuf,
}

impl Service {
    /// Starts the binary; its model is `llm` (an OpenAI-compatible fake), or none.
    async fn start(receiver: &OtlpReceiver, llm: Option<&FakeLlm>) -> Service {
        Service::start_with(receiver, llm, &[]).await
    }

    /// [`Service::start`] with extra environment variables.
    async fn start_with(
        receiver: &OtlpReceiver,
        llm: Option<&FakeLlm>,
        extra_env: &[(&str, String)],
    ) -> Service {
        let port = free_port();
        let database = std::env::temp_dir().join(format!(
            "spanforge-e2e-llm_service-{}-{port}.db",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&database);
        let mut command = Command::new(example_binary());
        for var in [
            "OPENAI_API_KEY",
            "OPENAI_BASE_URL",
            "ANTHROPIC_API_KEY",
            "ANTHROPIC_BASE_URL",
            "LLM_PROVIDER",
            "LLM_MODEL",
            "LANGFUSE_PUBLIC_KEY",
            "LANGFUSE_SECRET_KEY",
            "LANGFUSE_BASE_URL",
            "LANGFUSE_HOST",
        ] {
            command.env_remove(var);
        }
        command.envs(extra_env.iter().map(|(k, v)| (*k, v.as_str())));
        if let Some(llm) = llm {
            // No key: an OpenAI-compatible server at a base URL needs none.
            command.env("OPENAI_BASE_URL", llm.openai_base_url());
        }
        let child = command
            .env("PORT", port.to_string())
            .env("DATABASE_URL", &database)
            .env_remove("REDIS_URL")
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.http_endpoint())
            .env("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
            .env("OTEL_SERVICE_NAME", "llm_service")
            .env(
                "OTEL_RESOURCE_ATTRIBUTES",
                "deployment.environment.name=test",
            )
            // Long delays: everything must arrive through the shutdown flush.
            .env("OTEL_BSP_SCHEDULE_DELAY", "60000")
            .env("OTEL_BLRP_SCHEDULE_DELAY", "60000")
            .env("OTEL_METRIC_EXPORT_INTERVAL", "60000")
            .env("SPANFORGE_LOG_FORMAT", "none")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + WAIT;
        while reqwest::get(format!("{base}/health")).await.is_err() {
            assert!(Instant::now() < deadline, "llm_service did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Service {
            child,
            base,
            database,
        }
    }

    fn terminate(mut self) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let _ = std::fs::remove_file(&self.database);
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "llm_service did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llm_service_serves_its_routes_and_flushes_on_sigterm() {
    let receiver = OtlpReceiver::start().await.unwrap();
    let llm = FakeLlm::start().await.unwrap();
    llm.push(Reply::text("Hello, Ada!").with_usage(1000, 200));
    let service = Service::start(&receiver, Some(&llm)).await;
    let client = reqwest::Client::new();
    let base = service.base.clone();

    let created = client
        .post(format!("{base}/prompts"))
        .json(
            &serde_json::json!({"name": "greet", "version": 1, "template": "Say hello to {{who}}"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let duplicate = client
        .post(format!("{base}/prompts"))
        .json(&serde_json::json!({"name": "greet", "version": 1, "template": "again"}))
        .send()
        .await
        .unwrap();
    assert_eq!(duplicate.status(), 409);

    let run = client
        .post(format!("{base}/prompts/greet/run"))
        .json(&serde_json::json!({"variables": {"who": "Ada"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(run.status(), 200);
    let trace_id = run.headers()["x-trace-id"].to_str().unwrap().to_owned();
    let run: serde_json::Value = run.json().await.unwrap();
    assert_eq!(run["input"], "Say hello to Ada");
    assert_eq!(run["version"], 1);
    // The model's answer, usage and cost come back with the run.
    assert_eq!(run["output"], "Hello, Ada!");
    assert_eq!(run["provider"], "openai");
    assert_eq!(run["model"], "gpt-4o-mini");
    assert_eq!(run["usage"]["input"], 1000);
    assert_eq!(run["usage"]["output"], 200);
    let expected = spanforge::cost::Pricing::builtin()
        .cost(
            "gpt-4o-mini",
            &spanforge::cost::Usage::from_openai(1000, 200, 0, 0),
        )
        .unwrap()
        .total;
    assert!(
        (run["cost_usd"].as_f64().unwrap() - expected).abs() < 1e-12,
        "{run}"
    );
    let sent = llm.last_request().unwrap();
    assert_eq!(sent.body["messages"][0]["content"], "Say hello to Ada");
    assert!(sent.header("authorization").is_none());

    let runs: serde_json::Value = client
        .get(format!("{base}/prompts/greet/runs"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(runs["runs"].as_array().unwrap().len(), 1);
    // The run is stored with its model, usage and cost.
    let stored = &runs["runs"][0];
    assert_eq!(stored["cost_usd"], run["cost_usd"]);
    assert_eq!(stored["input_tokens"], run["usage"]["input"]);
    assert_eq!(stored["output_tokens"], run["usage"]["output"]);
    assert_eq!(stored["model"], run["model"]);

    let missing = client
        .post(format!("{base}/prompts/nope/run"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let boom = client.get(format!("{base}/boom")).send().await.unwrap();
    assert_eq!(boom.status(), 500);
    let ready = client
        .get(format!("{base}/health/ready"))
        .send()
        .await
        .unwrap();
    assert!(ready.status() == 200 || ready.status() == 503);
    let report: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(report["probes"][0]["name"], "otlp");
    assert_eq!(report["probes"][1]["name"], "database");
    assert_eq!(report["probes"][1]["status"], "up", "{report}");

    // Nothing has been exported yet (60 s schedule delay) ...
    assert!(receiver.spans().is_empty());
    // ... and everything arrives through the flush on SIGTERM.
    let status = service.terminate();
    assert!(status.success(), "graceful exit: {status}");

    let spans = receiver.wait_for_spans(6, WAIT).await.unwrap();
    let server = spans
        .iter()
        .find(|s| s.name == "POST /prompts/{name}/run")
        .expect("server span of the run");
    assert_eq!(
        server.trace_id, trace_id,
        "the x-trace-id header names the request's trace"
    );
    assert_eq!(server.kind, SpanKind::Server);
    assert_eq!(server.service_name(), Some("llm_service"));
    assert_eq!(
        server.resource.get_str("deployment.environment.name"),
        Some("test")
    );
    let handler = spans
        .iter()
        .find(|s| s.name == "run_prompt")
        .expect("handler span");
    assert_eq!(
        handler.parent_span_id.as_deref(),
        Some(server.span_id.as_str())
    );
    assert_eq!(handler.int_attr("prompt.version"), Some(1), "{handler:?}");
    // The run is stored in libSQL: its INSERT is a client span under the handler.
    let insert = spans
        .iter()
        .find(|s| s.name == "INSERT runs" && s.trace_id == trace_id)
        .expect("the run's INSERT span");
    assert_eq!(
        insert.parent_span_id.as_deref(),
        Some(handler.span_id.as_str())
    );
    assert_eq!(insert.kind, SpanKind::Client);
    assert_eq!(insert.str_attr("db.system.name"), Some("sqlite"));
    assert_eq!(insert.int_attr("db.response.returned_rows"), Some(1));
    // The model call is a GenAI span under the handler, so under the HTTP server span.
    let chat = receiver
        .wait_for_span_matching("the run's chat span", WAIT, |s| {
            s.name == "chat gpt-4o-mini" && s.trace_id == trace_id
        })
        .await
        .unwrap();
    assert_eq!(
        chat.parent_span_id.as_deref(),
        Some(handler.span_id.as_str())
    );
    assert_eq!(chat.kind, SpanKind::Client);
    assert_eq!(chat.str_attr("gen_ai.prompt.name"), Some("greet"));
    assert_eq!(chat.int_attr("gen_ai.prompt.version"), Some(1));
    assert_eq!(chat.int_attr("gen_ai.usage.input_tokens"), Some(1000));
    assert_eq!(chat.f64_attr("gen_ai.usage.cost"), run["cost_usd"].as_f64());

    let boom = spans
        .iter()
        .find(|s| s.name == "GET /boom")
        .expect("boom server span");
    assert_eq!(boom.status_code, StatusCode::Error);
    assert_eq!(boom.str_attr("error.type"), Some("500"));
    let boom_handler = spans
        .iter()
        .find(|s| s.name == "boom")
        .expect("boom handler span");
    assert!(
        boom_handler
            .events
            .iter()
            .any(|e| e.attributes.get_str("exception.message")
                == Some("the boom endpoint always fails")),
        "the error is recorded as an exception: {boom_handler:?}"
    );
    assert!(
        spans
            .iter()
            .all(|s| s.str_attr("url.path") != Some("/health")),
        "health checks are not traced"
    );

    let logs = receiver.wait_for_logs(2, WAIT).await.unwrap();
    let recorded = logs
        .iter()
        .find(|l| l.body == "prompt run recorded")
        .expect("log of the run");
    assert_eq!(recorded.trace_id.as_deref(), Some(trace_id.as_str()));
    receiver
        .wait_for_metric("http.server.request.duration", WAIT)
        .await
        .expect("metrics flushed on shutdown");
}

/// Runs of two prompts: the cost counter, summed per prompt, equals the sum of the
/// `gen_ai.usage.cost` of that prompt's LLM spans.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llm_cost_per_prompt_equals_the_sum_of_span_costs() {
    let receiver = OtlpReceiver::start().await.unwrap();
    let llm = FakeLlm::start().await.unwrap();
    llm.push_all([
        Reply::text("Hello, Ada!").with_usage(1200, 30),
        Reply::text("Hello, Grace!").with_usage(800, 25),
        Reply::text("A short summary.").with_usage(5000, 120),
    ]);
    let service = Service::start(&receiver, Some(&llm)).await;
    let client = reqwest::Client::new();
    let base = service.base.clone();
    for (name, template) in [
        ("greet", "Say hello to {{who}}"),
        ("summarize", "Summarize: {{text}}"),
    ] {
        let created = client
            .post(format!("{base}/prompts"))
            .json(&serde_json::json!({"name": name, "version": 1, "template": template}))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
    }
    let mut returned = std::collections::HashMap::<String, f64>::new();
    for (name, variables) in [
        ("greet", serde_json::json!({"who": "Ada"})),
        ("greet", serde_json::json!({"who": "Grace"})),
        ("summarize", serde_json::json!({"text": "a long text"})),
    ] {
        let run: serde_json::Value = client
            .post(format!("{base}/prompts/{name}/run"))
            .json(&serde_json::json!({ "variables": variables }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        *returned.entry(name.to_owned()).or_default() += run["cost_usd"].as_f64().unwrap();
    }
    assert!(service.terminate().success());

    let metric = receiver
        .wait_for_metric("gen_ai.client.cost", WAIT)
        .await
        .unwrap();
    assert_eq!(metric.unit, "{USD}");
    let spans = receiver
        .wait_for_spans(3, WAIT)
        .await
        .unwrap()
        .into_iter()
        .filter(|s| s.name == "chat gpt-4o-mini")
        .collect::<Vec<_>>();
    assert_eq!(spans.len(), 3);
    for prompt in ["greet", "summarize"] {
        let from_spans: f64 = spans
            .iter()
            .filter(|s| s.str_attr("gen_ai.prompt.name") == Some(prompt))
            .map(|s| s.f64_attr("gen_ai.usage.cost").unwrap())
            .sum();
        let from_counter: f64 = metric
            .points
            .iter()
            .filter(|p| p.str_attr("gen_ai.prompt.name") == Some(prompt))
            .map(|p| p.as_f64().unwrap())
            .sum();
        assert!(from_spans > 0.0);
        assert!(
            (from_spans - from_counter).abs() < 1e-12,
            "{prompt}: spans {from_spans} vs counter {from_counter}"
        );
        assert!((returned[prompt] - from_spans).abs() < 1e-12);
    }
    let point = metric
        .point_with("gen_ai.prompt.name", "summarize")
        .unwrap();
    assert_eq!(point.int_attr("gen_ai.prompt.version"), Some(1));
    assert_eq!(point.str_attr("gen_ai.provider.name"), Some("openai"));
    assert_eq!(point.str_attr("gen_ai.request.model"), Some("gpt-4o-mini"));
}

/// Without any LLM variable the service starts, and runs say what is missing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_llm_runs_answer_503() {
    let receiver = OtlpReceiver::start().await.unwrap();
    let service = Service::start(&receiver, None).await;
    let client = reqwest::Client::new();
    let base = service.base.clone();
    let created = client
        .post(format!("{base}/prompts"))
        .json(&serde_json::json!({"name": "greet", "version": 1, "template": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let run = client
        .post(format!("{base}/prompts/greet/run"))
        .send()
        .await
        .unwrap();
    assert_eq!(run.status(), 503);
    let body: serde_json::Value = run.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .starts_with("no LLM configured"),
        "{body}"
    );
    assert!(service.terminate().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llm_traces_also_reach_langfuse_when_its_keys_are_set() {
    let receiver = OtlpReceiver::start().await.unwrap();
    let llm = FakeLlm::start().await.unwrap();
    llm.push(Reply::text("Hello, Ada!").with_usage(1200, 30));
    let langfuse = FakeLangfuse::start().unwrap();
    let service = Service::start_with(
        &receiver,
        Some(&llm),
        &[
            ("LANGFUSE_PUBLIC_KEY", "pk-lf-test".to_owned()),
            ("LANGFUSE_SECRET_KEY", "sk-lf-secret".to_owned()),
            ("LANGFUSE_BASE_URL", langfuse.base_url()),
        ],
    )
    .await;
    let client = reqwest::Client::new();
    let base = service.base.clone();
    let created = client
        .post(format!("{base}/prompts"))
        .json(
            &serde_json::json!({"name": "greet", "version": 2, "template": "Say hello to {{who}}"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let run = client
        .post(format!("{base}/prompts/greet/run"))
        .json(&serde_json::json!({"variables": {"who": "Ada"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(run.status(), 200);
    // A request with no LLM call: it must not reach Langfuse.
    client
        .get(format!("{base}/prompts/greet/runs"))
        .send()
        .await
        .unwrap();
    assert!(service.terminate().success());

    let generation = langfuse
        .wait_for_span(WAIT, |s| {
            s.attributes.get_str("gen_ai.operation.name") == Some("chat")
        })
        .await
        .expect("the LLM span reached Langfuse");
    assert_eq!(
        generation.attributes.get_str("langfuse.observation.type"),
        Some("generation")
    );
    assert_eq!(
        generation
            .attributes
            .get_str("langfuse.observation.prompt.name"),
        Some("greet")
    );
    let spans = langfuse.accepted_spans();
    assert!(
        spans.iter().all(|s| s.trace_id == generation.trace_id),
        "only the LLM trace is sent: {:?}",
        spans.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
    let requests = langfuse.requests();
    assert!(requests.iter().all(|r| {
        r.path == "/api/public/otel/v1/traces"
            && r.authorization
                .as_deref()
                .is_some_and(|a| a.starts_with("Basic "))
            && r.ingestion_version.as_deref() == Some("4")
    }));
    // The OTLP collector still got everything.
    assert!(
        receiver.span_named("GET /prompts/{name}/runs").is_some()
            || receiver
                .wait_for_span_named("GET /prompts/{name}/runs", WAIT)
                .await
                .is_ok()
    );
}

/// The README's main job as a new user runs it: `quickstart -- --exit` in an empty directory
/// prints a per-prompt cost table whose numbers come from the spans its backend stored.
#[test]
fn the_quickstart_prints_the_per_prompt_cost_table() {
    let dir = std::env::temp_dir().join(format!("spanforge-quickstart-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let output = Command::new(example("quickstart"))
        .arg("--exit")
        .current_dir(&dir)
        .env_remove("OPENAI_API_KEY")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .output()
        .expect("the quickstart runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let table: Vec<&str> = stdout
        .lines()
        .skip_while(|line| !line.starts_with("prompt "))
        .collect();
    assert!(!table.is_empty(), "no cost table in:\n{stdout}");
    let row = |prompt: &str, version: &str| -> Vec<String> {
        table
            .iter()
            .find(|line| {
                let cells: Vec<&str> = line.split_whitespace().collect();
                cells.len() > 2 && cells[0] == prompt && cells[1] == version
            })
            .unwrap_or_else(|| panic!("no row for {prompt} v{version} in:\n{stdout}"))
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    };
    // The scripted workload: greet v1 twice, greet v2 three times (512 cached tokens each),
    // summarize v1 three times (one failing).
    assert_eq!(row("greet", "1")[2], "2");
    assert_eq!(row("greet", "2")[2], "3");
    assert_eq!(row("greet", "2")[5], "1536");
    assert_eq!(row("summarize", "1")[2], "3");
    let total: Vec<&str> = table
        .iter()
        .find(|line| line.starts_with("TOTAL"))
        .expect("a total line")
        .split_whitespace()
        .collect();
    assert_eq!(total[1], "8", "{stdout}");
    let cost: f64 = total[5].parse().unwrap();
    assert!(cost > 0.0, "{stdout}");
    assert!(
        stdout.contains("http://127.0.0.1:"),
        "the UI address is printed: {stdout}"
    );
    assert!(dir.join("quickstart.db").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

//! The `llm_service` example as a user runs it: the real binary, configured by environment,
//! exporting to the OTLP test receiver, stopped with SIGTERM.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use spanforge_testkit::OtlpReceiver;
use spanforge_testkit::otlp::{SpanKind, StatusCode};

const WAIT: Duration = Duration::from_secs(15);

/// `target/<profile>/examples/llm_service`, built by `cargo test --workspace`.
fn example_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let path = profile_dir.join("examples").join("llm_service");
    assert!(
        path.exists(),
        "{} is missing: run `cargo build -p spanforge-examples --examples` (scripts/test.sh does)",
        path.display()
    );
    path
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Service {
    child: Child,
    base: String,
}

impl Service {
    async fn start(receiver: &OtlpReceiver) -> Service {
        let port = free_port();
        let child = Command::new(example_binary())
            .env("PORT", port.to_string())
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
        Service { child, base }
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
    let service = Service::start(&receiver).await;
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

    let runs: serde_json::Value = client
        .get(format!("{base}/prompts/greet/runs"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(runs["runs"].as_array().unwrap().len(), 1);

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

//! The Langfuse exporter against a fake Langfuse: one spanforge pipeline for the
//! end-to-end test, and exporters driven directly for the failure handling.

use std::borrow::Cow;
use std::time::{Duration, Instant, SystemTime};

use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanExporter, SpanLinks};
use spanforge::cost::Usage;
use spanforge::llm::{ContentCapture, Generation, Message};
use spanforge_langfuse::{
    IngestionMode, LangfuseConfig, LangfuseExporter, RetryPolicy, SpanFilter, TRUNCATION_MARKER,
};
use spanforge_testkit::{FakeLangfuse, FakeResponse, LangfuseSpan};

const PK: &str = "pk-lf-test-public";
const SK: &str = "sk-lf-test-secret";
/// base64("pk-lf-test-public:sk-lf-test-secret")
const BASIC: &str = "Basic cGstbGYtdGVzdC1wdWJsaWM6c2stbGYtdGVzdC1zZWNyZXQ=";

fn config(fake: &FakeLangfuse) -> spanforge_langfuse::LangfuseConfigBuilder {
    LangfuseConfig::builder(PK, SK).base_url(fake.base_url())
}

fn span(trace: u128, id: u64, parent: u64, name: &'static str, attrs: Vec<KeyValue>) -> SpanData {
    let start = SystemTime::now();
    SpanData {
        span_context: SpanContext::new(
            TraceId::from(trace),
            SpanId::from(id),
            TraceFlags::SAMPLED,
            false,
            TraceState::default(),
        ),
        parent_span_id: SpanId::from(parent),
        parent_span_is_remote: false,
        span_kind: SpanKind::Internal,
        name: Cow::Borrowed(name),
        start_time: start,
        end_time: start + Duration::from_millis(5),
        attributes: attrs,
        dropped_attributes_count: 0,
        events: SpanEvents::default(),
        links: SpanLinks::default(),
        status: Status::Unset,
        instrumentation_scope: InstrumentationScope::builder("test").build(),
    }
}

fn chat_span(trace: u128, id: u64, parent: u64) -> SpanData {
    span(
        trace,
        id,
        parent,
        "chat m",
        vec![
            KeyValue::new("gen_ai.operation.name", "chat"),
            KeyValue::new("gen_ai.request.model", "m"),
        ],
    )
}

fn no_retry_delay() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_secs(2),
        max_elapsed: Duration::from_secs(10),
    }
}

// ----- the whole pipeline ----------------------------------------------------------------

fn by_name<'a>(spans: &'a [LangfuseSpan], name: &str) -> Option<&'a LangfuseSpan> {
    spans.iter().find(|s| s.name == name)
}

#[test]
fn spanforge_pipeline_maps_filters_and_flushes_on_shutdown() {
    let fake = FakeLangfuse::start().unwrap();
    let exporter = LangfuseExporter::new(config(&fake).build().unwrap()).unwrap();
    let handle = exporter.clone();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let telemetry = spanforge::init(
        spanforge::Config::default()
            .with_service_name("langfuse-test")
            .with_service_version("1.2.3")
            .with_deployment_environment("staging")
            .with_traces_exporter(spanforge::ExporterKind::None)
            .with_metrics_exporter(spanforge::ExporterKind::None)
            .with_logs_exporter(spanforge::ExporterKind::None)
            .with_log_format(spanforge::LogFormat::None)
            .with_span_batch(spanforge::BatchSettings {
                max_queue_size: 8192,
                max_export_batch_size: 512,
                // Long: everything below is exported by the shutdown flush.
                scheduled_delay: Duration::from_secs(60),
                export_timeout: Duration::from_secs(30),
            })
            .with_span_exporter("langfuse", exporter),
    )
    .unwrap();

    // A GenAI trace: root -> step -> chat (streamed, prompt, usage, cost, content).
    let root = tracing::info_span!("handle_request");
    root.in_scope(|| {
        let step = tracing::info_span!("answer_step");
        step.in_scope(|| {
            let call = Generation::chat("openai", "gpt-4o")
                .prompt("greet", 3)
                .conversation("conv-42")
                .stream(true)
                .with_content_capture(ContentCapture::enabled().with_max_length(1 << 20))
                .start();
            call.record_input_messages(&[Message::user("hello there")]);
            std::thread::sleep(Duration::from_millis(20));
            call.record_first_chunk();
            call.record_usage(Usage {
                input: 1000,
                cache_read: 400,
                output: 200,
                reasoning: 50,
                ..Default::default()
            });
            call.end();
        });
    });
    drop(root);
    // A failed embedding call in its own trace, no content capture.
    {
        let call = Generation::embeddings("openai", "text-embedding-3-small")
            .with_content_capture(ContentCapture::disabled())
            .start();
        call.record_error("rate_limited", "quota exceeded");
        call.end();
    }
    // A trace with no GenAI span: never sent by default.
    drop(tracing::info_span!("plain_request").entered());

    runtime.block_on(telemetry.shutdown()).unwrap();

    let requests = fake.requests();
    assert!(!requests.is_empty(), "shutdown must flush the spans");
    for r in &requests {
        assert_eq!(r.path, "/api/public/otel/v1/traces");
        assert_eq!(r.authorization.as_deref(), Some(BASIC));
        assert_eq!(r.ingestion_version.as_deref(), Some("4"));
        assert_eq!(r.content_type.as_deref(), Some("application/x-protobuf"));
    }
    let spans = fake.accepted_spans();
    let names: Vec<&str> = spans.iter().map(|s| s.name.as_str()).collect();
    assert!(by_name(&spans, "plain_request").is_none(), "{names:?}");
    assert_eq!(spans.len(), 4, "{names:?}");
    for s in &spans {
        assert_eq!(s.trace_id.len(), 32);
        assert_ne!(s.trace_id, "0".repeat(32));
        assert_eq!(s.span_id.len(), 16);
        assert_eq!(s.resource.get_str("service.name"), Some("langfuse-test"));
    }

    let root = by_name(&spans, "handle_request").expect("root sent");
    let step = by_name(&spans, "answer_step").expect("ancestor sent");
    let chat = spans
        .iter()
        .find(|s| s.attributes.get_str("gen_ai.operation.name") == Some("chat"))
        .expect("chat sent");
    assert_eq!(step.parent_span_id.as_deref(), Some(root.span_id.as_str()));
    assert_eq!(chat.parent_span_id.as_deref(), Some(step.span_id.as_str()));

    assert_eq!(
        root.attributes.get_str("langfuse.trace.name"),
        Some("handle_request")
    );
    assert_eq!(
        root.attributes.get_str("langfuse.observation.type"),
        Some("span")
    );
    let a = &chat.attributes;
    assert_eq!(a.get_str("langfuse.observation.type"), Some("generation"));
    assert_eq!(a.get_str("langfuse.observation.prompt.name"), Some("greet"));
    assert_eq!(a.get_i64("langfuse.observation.prompt.version"), Some(3));
    assert_eq!(a.get_str("session.id"), Some("conv-42"));
    assert_eq!(a.get_str("langfuse.environment"), Some("staging"));
    assert_eq!(a.get_str("langfuse.release"), Some("1.2.3"));
    assert_eq!(
        a.get_str("langfuse.trace.name"),
        Some("handle_request"),
        "trace name from the root in the same batch"
    );
    let usage: serde_json::Value =
        serde_json::from_str(a.get_str("langfuse.observation.usage_details").unwrap()).unwrap();
    assert_eq!(
        usage,
        serde_json::json!({
            "input": 600, "input_cached_tokens": 400,
            "output": 150, "output_reasoning_tokens": 50, "total": 1200
        })
    );
    let cst = a
        .get_str("langfuse.observation.completion_start_time")
        .expect("completion start time");
    assert!(cst.ends_with('Z') && cst.contains('T'), "{cst}");
    let input = a.get_str("langfuse.observation.input").expect("input");
    assert!(input.contains("hello there"), "{input}");

    let embedding = spans
        .iter()
        .find(|s| s.attributes.get_str("gen_ai.operation.name") == Some("embeddings"))
        .expect("embedding sent");
    let e = &embedding.attributes;
    assert_eq!(e.get_str("langfuse.observation.type"), Some("embedding"));
    assert_eq!(e.get_str("langfuse.observation.level"), Some("ERROR"));
    assert!(e.get_str("langfuse.observation.status_message").is_some());
    assert!(
        !e.contains_key("langfuse.observation.input"),
        "no content capture"
    );
    assert!(!e.contains_key("langfuse.observation.output"));

    let stats = handle.stats();
    assert_eq!(stats.spans_sent, 4, "{stats:?}");
    assert_eq!(stats.spans_filtered, 1, "{stats:?}");
}

// ----- the exporter on its own -----------------------------------------------------------

#[tokio::test]
async fn ancestors_arriving_in_a_later_batch_are_sent_and_invalid_ids_never() {
    let fake = FakeLangfuse::start().unwrap();
    let exporter = LangfuseExporter::new(config(&fake).build().unwrap()).unwrap();
    // Batch 1: the chat span (parent 2, not in the batch), an unrelated plain span, and a
    // GenAI span with an invalid trace id.
    exporter
        .export(vec![
            chat_span(7, 3, 2),
            span(8, 9, 0, "unrelated", vec![]),
            chat_span(0, 5, 0),
        ])
        .await
        .unwrap();
    // Batch 2: the chat span's parent and grandparent, and a sibling that is not an
    // ancestor.
    exporter
        .export(vec![
            span(7, 2, 1, "step", vec![]),
            span(7, 1, 0, "root", vec![]),
            span(7, 4, 1, "sibling", vec![]),
        ])
        .await
        .unwrap();
    let names: Vec<String> = fake.accepted_spans().into_iter().map(|s| s.name).collect();
    assert_eq!(names, ["chat m", "step", "root"]);
    let stats = exporter.stats();
    assert_eq!(stats.spans_invalid, 1);
    assert_eq!(stats.spans_filtered, 2);
}

#[tokio::test]
async fn the_all_filter_sends_plain_spans() {
    let fake = FakeLangfuse::start().unwrap();
    let exporter =
        LangfuseExporter::new(config(&fake).filter(SpanFilter::All).build().unwrap()).unwrap();
    exporter
        .export(vec![span(1, 1, 0, "plain", vec![])])
        .await
        .unwrap();
    assert_eq!(fake.accepted_spans().len(), 1);

    let fake = FakeLangfuse::start().unwrap();
    let exporter = LangfuseExporter::new(
        config(&fake)
            .filter(SpanFilter::custom(|s| s.name == "keep"))
            .build()
            .unwrap(),
    )
    .unwrap();
    exporter
        .export(vec![span(1, 1, 0, "keep", vec![]), chat_span(1, 2, 1)])
        .await
        .unwrap();
    let names: Vec<String> = fake.accepted_spans().into_iter().map(|s| s.name).collect();
    assert_eq!(names, ["keep"]);
}

#[tokio::test]
async fn a_429_with_retry_after_is_retried_after_the_delay() {
    let fake = FakeLangfuse::start().unwrap();
    fake.push_responses([FakeResponse::status(429).retry_after("1")]);
    let exporter =
        LangfuseExporter::new(config(&fake).retry(no_retry_delay()).build().unwrap()).unwrap();
    exporter.export(vec![chat_span(1, 1, 0)]).await.unwrap();
    let requests = fake.requests();
    assert_eq!(
        requests.iter().map(|r| r.status).collect::<Vec<_>>(),
        [429, 200]
    );
    let waited = requests[1].at - requests[0].at;
    assert!(waited >= Duration::from_millis(950), "{waited:?}");
    assert_eq!(fake.accepted_spans().len(), 1);
    assert_eq!(exporter.stats().retries, 1);
}

#[tokio::test]
async fn a_500_is_retried_with_backoff() {
    let fake = FakeLangfuse::start().unwrap();
    fake.push_responses([FakeResponse::status(500), FakeResponse::status(503)]);
    let exporter =
        LangfuseExporter::new(config(&fake).retry(no_retry_delay()).build().unwrap()).unwrap();
    exporter.export(vec![chat_span(1, 1, 0)]).await.unwrap();
    assert_eq!(
        fake.requests().iter().map(|r| r.status).collect::<Vec<_>>(),
        [500, 503, 200]
    );
    assert_eq!(exporter.stats().spans_sent, 1);
}

#[tokio::test]
async fn retries_are_bounded() {
    let fake = FakeLangfuse::start().unwrap();
    fake.push_responses((0..10).map(|_| FakeResponse::status(502)));
    let exporter =
        LangfuseExporter::new(config(&fake).retry(no_retry_delay()).build().unwrap()).unwrap();
    let started = Instant::now();
    assert!(exporter.export(vec![chat_span(1, 1, 0)]).await.is_err());
    assert_eq!(fake.requests().len(), 4);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(exporter.stats().spans_dropped, 1);
}

#[tokio::test]
async fn a_401_is_reported_once_counted_and_not_retried() {
    let fake = FakeLangfuse::start().unwrap();
    fake.push_responses([FakeResponse::status(401), FakeResponse::status(401)]);
    let exporter =
        LangfuseExporter::new(config(&fake).retry(no_retry_delay()).build().unwrap()).unwrap();
    let err = exporter
        .export(vec![chat_span(1, 1, 0)])
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("Langfuse rejected the credentials for public key pk-lf-test-public"),
        "{err}"
    );
    assert!(!err.contains(SK), "{err}");
    assert_eq!(fake.requests().len(), 1, "not retried");
    assert!(exporter.export(vec![chat_span(2, 1, 0)]).await.is_err());
    assert_eq!(fake.requests().len(), 2);
    let stats = exporter.stats();
    assert_eq!(stats.auth_failures, 2);
    assert_eq!(stats.retries, 0);
}

#[tokio::test]
async fn a_huge_input_is_truncated_not_dropped_and_requests_are_split() {
    let fake = FakeLangfuse::start().unwrap();
    let exporter = LangfuseExporter::new(
        config(&fake)
            .max_attribute_bytes(64 * 1024)
            .max_request_bytes(200 * 1024)
            .build()
            .unwrap(),
    )
    .unwrap();
    let huge = "x".repeat(5 * 1024 * 1024);
    let mut spans = Vec::new();
    for i in 1..=8u64 {
        let mut s = chat_span(1, i, 0);
        s.attributes
            .push(KeyValue::new("gen_ai.input.messages", huge.clone()));
        spans.push(s);
    }
    exporter.export(spans).await.unwrap();
    let requests = fake.requests();
    assert!(requests.len() > 1, "split into several requests");
    for r in &requests {
        assert!(r.body_len <= 200 * 1024, "{}", r.body_len);
    }
    let accepted = fake.accepted_spans();
    assert_eq!(accepted.len(), 8);
    for s in &accepted {
        let input = s.attributes.get_str("langfuse.observation.input").unwrap();
        assert!(input.len() <= 64 * 1024);
        assert!(input.ends_with(TRUNCATION_MARKER));
    }
}

// ----- batch mode ------------------------------------------------------------------------

fn batch_exporter(fake: &FakeLangfuse) -> LangfuseExporter {
    let mut exporter = LangfuseExporter::new(
        config(fake)
            .mode(IngestionMode::Batch)
            .retry(no_retry_delay())
            .build()
            .unwrap(),
    )
    .unwrap();
    exporter.set_resource(
        &opentelemetry_sdk::Resource::builder_empty()
            .with_attributes([
                KeyValue::new("service.name", "batch-test"),
                KeyValue::new("service.version", "1.2.3"),
                KeyValue::new("deployment.environment.name", "staging"),
            ])
            .build(),
    );
    exporter
}

fn rich_genai_trace() -> Vec<SpanData> {
    let mut chat = span(
        9,
        3,
        2,
        "chat gpt-4o",
        vec![
            KeyValue::new("gen_ai.operation.name", "chat"),
            KeyValue::new("gen_ai.provider.name", "openai"),
            KeyValue::new("gen_ai.request.model", "gpt-4o"),
            KeyValue::new("gen_ai.response.model", "gpt-4o-2024-08-06"),
            KeyValue::new("gen_ai.request.temperature", 0.5),
            KeyValue::new("gen_ai.request.max_tokens", 100i64),
            KeyValue::new("gen_ai.request.stream", true),
            KeyValue::new("gen_ai.prompt.name", "greet"),
            KeyValue::new("gen_ai.prompt.version", 3i64),
            KeyValue::new("gen_ai.conversation.id", "conv-1"),
            KeyValue::new("gen_ai.response.time_to_first_chunk", 0.25),
            KeyValue::new("gen_ai.usage.input_tokens", 1000i64),
            KeyValue::new("gen_ai.usage.cache_read.input_tokens", 400i64),
            KeyValue::new("gen_ai.usage.output_tokens", 200i64),
            KeyValue::new("gen_ai.usage.cost", 0.003),
            KeyValue::new(
                "gen_ai.input.messages",
                r#"[{"role":"user","parts":[{"type":"text","content":"hi"}]}]"#,
            ),
            KeyValue::new("gen_ai.output.messages", "not json"),
        ],
    );
    chat.status = Status::error("quota exceeded");
    chat.events.events.push(opentelemetry::trace::Event::new(
        "retrying",
        SystemTime::now(),
        vec![KeyValue::new("attempt", 2i64)],
        0,
    ));
    vec![
        chat,
        span(
            9,
            4,
            2,
            "embeddings m",
            vec![KeyValue::new("gen_ai.operation.name", "embeddings")],
        ),
        span(
            9,
            5,
            2,
            "execute_tool lookup",
            vec![
                KeyValue::new("gen_ai.operation.name", "execute_tool"),
                KeyValue::new("gen_ai.tool.name", "lookup"),
            ],
        ),
        span(9, 2, 1, "step", vec![]),
        span(9, 1, 0, "root", vec![]),
    ]
}

/// Validates the bodies with Langfuse's Python models (scripts/install-langfuse-schema.sh).
fn check_against_langfuse_schema(bodies: &[serde_json::Value]) {
    let cache = std::env::var_os("SPANFORGE_CACHE")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".cache/spanforge"))
        })
        .unwrap();
    let python = cache.join("langfuse-venv/bin/python");
    // Langfuse's own schema is the judge: without it the test fails rather than passing
    // unchecked.
    assert!(
        python.exists(),
        "{} missing: run scripts/install-langfuse-schema.sh (scripts/test.sh does)",
        python.display()
    );
    let file = std::env::temp_dir().join(format!("langfuse-bodies-{}.json", std::process::id()));
    std::fs::write(&file, serde_json::to_vec(bodies).unwrap()).unwrap();
    let checker = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/check_ingestion.py");
    let out = std::process::Command::new(python)
        .arg(checker)
        .arg(&file)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&file);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{stdout}");
}

fn events_of<'a>(bodies: &'a [serde_json::Value], kind: &str) -> Vec<&'a serde_json::Value> {
    bodies
        .iter()
        .flat_map(|b| b["batch"].as_array().unwrap().iter())
        .filter(|e| e["type"] == kind)
        .collect()
}

#[tokio::test]
async fn batch_mode_sends_events_that_langfuse_schema_accepts() {
    let fake = FakeLangfuse::start().unwrap();
    let exporter = batch_exporter(&fake);
    exporter.export(rich_genai_trace()).await.unwrap();
    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, "/api/public/ingestion");
    assert_eq!(requests[0].authorization.as_deref(), Some(BASIC));
    assert_eq!(
        requests[0].content_type.as_deref(),
        Some("application/json")
    );
    let bodies = fake.ingestion_bodies();

    let traces = events_of(&bodies, "trace-create");
    let root = traces
        .iter()
        .find(|t| t["body"]["name"] == "root")
        .expect("trace-create for the root");
    assert_eq!(root["body"]["environment"], "staging");
    assert_eq!(root["body"]["release"], "1.2.3");
    assert!(traces.iter().any(|t| t["body"]["sessionId"] == "conv-1"));

    let generations = events_of(&bodies, "generation-create");
    assert_eq!(generations.len(), 2, "chat and embeddings");
    let chat = &generations
        .iter()
        .find(|g| g["body"]["name"] == "chat gpt-4o")
        .unwrap()["body"];
    assert_eq!(chat["model"], "gpt-4o-2024-08-06");
    assert_eq!(chat["promptName"], "greet");
    assert_eq!(chat["promptVersion"], 3);
    assert_eq!(chat["level"], "ERROR");
    assert_eq!(chat["statusMessage"], "quota exceeded");
    assert_eq!(chat["costDetails"], serde_json::json!({ "total": 0.003 }));
    assert_eq!(
        chat["usageDetails"],
        serde_json::json!({ "input": 600, "input_cached_tokens": 400, "output": 200, "total": 1200 })
    );
    assert_eq!(chat["modelParameters"]["max_tokens"], 100);
    assert!(chat["completionStartTime"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        chat["input"][0]["role"], "user",
        "JSON content is sent parsed"
    );
    assert_eq!(chat["output"], "not json");
    assert_eq!(chat["parentObservationId"], format!("{:016x}", 2));
    assert_eq!(chat["traceId"], format!("{:032x}", 9));

    let spans = events_of(&bodies, "span-create");
    let names: Vec<&str> = spans
        .iter()
        .map(|s| s["body"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    let events = events_of(&bodies, "event-create");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["body"]["name"], "retrying");

    check_against_langfuse_schema(&bodies);
}

#[tokio::test]
async fn batch_mode_retries_5xx_events_and_drops_4xx_events() {
    let fake = FakeLangfuse::start().unwrap();
    // The chat span alone: a trace-create (session), a generation-create, an event-create.
    fake.push_responses([FakeResponse::ingestion([500, 400])]);
    let exporter = batch_exporter(&fake);
    let chat = rich_genai_trace().remove(0);
    exporter.export(vec![chat]).await.unwrap();
    let bodies = fake.ingestion_bodies();
    assert_eq!(bodies.len(), 2);
    let first: Vec<&str> = bodies[0]["batch"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    let second: Vec<&str> = bodies[1]["batch"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(first.len(), 3);
    assert_eq!(second, [first[0]], "only the 500 event is retried");
    let stats = exporter.stats();
    assert_eq!(stats.events_rejected, 1);
    assert_eq!(stats.retries, 1);
}

#[tokio::test]
async fn batch_mode_splits_requests_under_the_size_limit() {
    let fake = FakeLangfuse::start().unwrap();
    let exporter = LangfuseExporter::new(
        config(&fake)
            .mode(IngestionMode::Batch)
            .max_request_bytes(100 * 1024)
            .max_attribute_bytes(30 * 1024)
            .build()
            .unwrap(),
    )
    .unwrap();
    let huge = "y".repeat(1 << 20);
    let spans: Vec<SpanData> = (1..=10u64)
        .map(|i| {
            let mut s = chat_span(1, i, 0);
            s.attributes
                .push(KeyValue::new("gen_ai.input.messages", huge.clone()));
            s
        })
        .collect();
    exporter.export(spans).await.unwrap();
    let requests = fake.requests();
    assert!(requests.len() > 1);
    assert!(requests.iter().all(|r| r.body_len <= 100 * 1024));
    let bodies = fake.ingestion_bodies();
    assert_eq!(events_of(&bodies, "generation-create").len(), 10);
}

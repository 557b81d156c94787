//! LLM instrumentation against real sockets: the instrumented OpenAI and Anthropic clients
//! talk to the testkit's fake LLM, and the OTLP test receiver collects the spans and metrics
//! they emit.
//!
//! One pipeline for the whole binary (the OpenTelemetry globals are per process). Each test
//! uses its own model names, so its spans and metric points are told apart by
//! `gen_ai.request.model`; the test pricing table prices all of them alike.

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Duration;

use futures_util::StreamExt as _;
use serde_json::{Value, json};
use spanforge::cost::{ModelPrice, Pricing, Usage};
use spanforge::llm::{
    ChatRequest, ContentCapture, EmbeddingsRequest, Error, Generation, Message, ToolDefinition,
    anthropic, openai,
};
use spanforge_testkit::ReceivedSpan;
use spanforge_testkit::llm::{FakeLlm, Fault, Reply, Tokens};
use spanforge_testkit::otlp::{
    AttrValue, DataPoint, ReceivedMetric, SpanKind, StatusCode as SpanStatus,
};
use tracing::Instrument as _;

const WAIT: Duration = Duration::from_secs(10);

const TOKEN_BUCKETS: [f64; 14] = [
    1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0,
    16777216.0, 67108864.0,
];
const DURATION_BUCKETS: [f64; 14] = [
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];

mod common;

fn shared() -> &'static common::Shared {
    common::shared("llm-test")
}

/// $2 input, $0.50 cache reads, $2.50 cache writes, $8 output per million tokens, for every
/// model name the tests use.
fn pricing() -> Pricing {
    static PRICING: OnceLock<Pricing> = OnceLock::new();
    PRICING
        .get_or_init(|| {
            let mut pricing = Pricing::empty();
            for model in [
                "t-openai-plain",
                "t-openai-stream",
                "t-anthropic-plain",
                "t-anthropic-stream",
                "t-embed",
                "t-tools",
                "t-anthropic-tools",
                "t-content",
                "t-content-anthropic",
                "t-errors",
                "t-cut",
                "t-hand",
                "t-dropped",
            ] {
                pricing
                    .insert(
                        model,
                        ModelPrice::new(2.0, 8.0)
                            .with_cache_read(0.5)
                            .with_cache_write(2.5),
                    )
                    .unwrap();
            }
            pricing
        })
        .clone()
}

fn expected_cost(u: Usage) -> f64 {
    let uncached = u.input - u.cache_read - u.cache_creation;
    (uncached as f64 * 2.0
        + u.cache_read as f64 * 0.5
        + u.cache_creation as f64 * 2.5
        + u.output as f64 * 8.0)
        / 1e6
}

fn openai_client(llm: &FakeLlm) -> openai::Client {
    openai::Client::builder()
        .with_base_url(llm.openai_base_url())
        .with_api_key("sk-test-secret-key")
        .with_pricing(pricing())
        .build()
        .unwrap()
}

fn anthropic_client(llm: &FakeLlm) -> anthropic::Client {
    anthropic::Client::builder()
        .with_base_url(llm.anthropic_base_url())
        .with_api_key("sk-ant-test-secret")
        .with_pricing(pricing())
        .build()
        .unwrap()
}

async fn span_where(what: &str, predicate: impl Fn(&ReceivedSpan) -> bool) -> ReceivedSpan {
    shared()
        .receiver
        .wait_for_span_matching(what, WAIT, predicate)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The LLM span of `model` (operation `chat` unless told).
async fn llm_span(operation: &str, model: &str) -> ReceivedSpan {
    let name = format!("{operation} {model}");
    span_where(&name.clone(), move |s| s.name == name).await
}

/// The point of metric `name` for `model` whose attribute `key` is `value`, once it exists.
async fn point(name: &str, model: &str, key: &str, value: &str) -> (ReceivedMetric, DataPoint) {
    let matches = |p: &DataPoint| {
        p.str_attr("gen_ai.request.model") == Some(model) && p.str_attr(key) == Some(value)
    };
    let metric = shared()
        .receiver
        .wait_for_metric_matching(&format!("{name} for {model} {key}={value}"), WAIT, |m| {
            m.name == name && m.points.iter().any(matches)
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let p = metric.points.iter().find(|p| matches(p)).unwrap().clone();
    (metric, p)
}

/// All attributes of `span`, sorted, for an exact comparison.
fn attrs(span: &ReceivedSpan) -> BTreeMap<String, AttrValue> {
    span.attributes
        .iter()
        .map(|(k, v)| (k.to_owned(), v.clone()))
        .collect()
}

fn expect(entries: Vec<(&str, AttrValue)>) -> BTreeMap<String, AttrValue> {
    entries
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
}

fn strings(values: &[&str]) -> AttrValue {
    AttrValue::Array(values.iter().map(|v| AttrValue::from(*v)).collect())
}

fn is_content(key: &str) -> bool {
    matches!(
        key,
        "gen_ai.input.messages"
            | "gen_ai.output.messages"
            | "gen_ai.system_instructions"
            | "gen_ai.tool.definitions"
            | "gen_ai.tool.call.arguments"
            | "gen_ai.tool.call.result"
    )
}

// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn openai_chat_span_attributes_and_metrics() {
    shared();
    let llm = FakeLlm::start().await.unwrap();
    let tokens = Tokens {
        input: 1000,
        cache_read: 400,
        output: 200,
        reasoning: 50,
        ..Tokens::default()
    };
    llm.push(
        Reply::text("Hello, Ada!")
            .with_tokens(tokens)
            .with_id("chatcmpl-plain-1")
            .with_model("t-openai-plain-2024-07-18"),
    );
    let client = openai_client(&llm);
    let reply = client
        .chat(
            ChatRequest::new("t-openai-plain")
                .system("Be brief.")
                .user("Say hello to Ada")
                .temperature(0.2)
                .max_tokens(100)
                .top_p(0.9)
                .stop("END")
                .seed(7)
                .prompt("greet", 3)
                .conversation("conv-1"),
        )
        .await
        .unwrap();
    let usage = Usage::from_openai(1000, 200, 400, 50);
    let cost = expected_cost(usage);
    assert_eq!(reply.text(), "Hello, Ada!");
    assert_eq!(reply.usage, Some(usage));
    assert!((reply.cost.unwrap() - cost).abs() < 1e-12, "{reply:?}");
    assert_eq!(reply.finish_reason.as_deref(), Some("stop"));

    let sent = llm.last_request().unwrap();
    assert_eq!(sent.path, "/v1/chat/completions");
    assert_eq!(
        sent.header("authorization"),
        Some("Bearer sk-test-secret-key")
    );
    assert_eq!(
        sent.body["messages"][0],
        json!({"role": "system", "content": "Be brief."})
    );
    assert_eq!(sent.body["max_tokens"], 100);
    assert!(sent.body.get("stream").is_none());

    let span = llm_span("chat", "t-openai-plain").await;
    assert_eq!(span.kind, SpanKind::Client);
    assert_eq!(span.status_code, SpanStatus::Unset);
    let port = i64::from(llm.addr().port());
    assert_eq!(
        attrs(&span),
        expect(vec![
            ("gen_ai.operation.name", "chat".into()),
            ("gen_ai.provider.name", "openai".into()),
            ("gen_ai.request.model", "t-openai-plain".into()),
            ("server.address", "127.0.0.1".into()),
            ("server.port", port.into()),
            ("gen_ai.prompt.name", "greet".into()),
            ("gen_ai.prompt.version", 3i64.into()),
            ("gen_ai.conversation.id", "conv-1".into()),
            ("gen_ai.request.temperature", 0.2.into()),
            ("gen_ai.request.max_tokens", 100i64.into()),
            ("gen_ai.request.top_p", 0.9.into()),
            ("gen_ai.request.seed", 7i64.into()),
            ("gen_ai.request.stop_sequences", strings(&["END"])),
            ("gen_ai.response.id", "chatcmpl-plain-1".into()),
            ("gen_ai.response.model", "t-openai-plain-2024-07-18".into()),
            ("gen_ai.response.finish_reasons", strings(&["stop"])),
            ("gen_ai.usage.input_tokens", 1000i64.into()),
            ("gen_ai.usage.output_tokens", 200i64.into()),
            ("gen_ai.usage.cache_read.input_tokens", 400i64.into()),
            ("gen_ai.usage.reasoning.output_tokens", 50i64.into()),
            ("gen_ai.usage.cost", reply.cost.unwrap().into()),
        ])
    );
    // Content is off by default: no message attribute at all.
    assert!(span.attributes.keys().all(|k| !is_content(k)));

    // The HTTP request is a child span, and carried the trace context.
    let http = span_where("HTTP child", |s| {
        s.parent_span_id.as_deref() == Some(span.span_id.as_str())
    })
    .await;
    assert_eq!(http.kind, SpanKind::Client);
    assert_eq!(http.name, "POST");
    assert!(sent.header("traceparent").unwrap().contains(&http.span_id));
    assert!(
        !format!("{:?}", http.attributes).contains("sk-test-secret-key"),
        "the key is never an attribute"
    );

    // Metrics.
    let (metric, input) = point(
        "gen_ai.client.token.usage",
        "t-openai-plain",
        "gen_ai.token.type",
        "input",
    )
    .await;
    assert_eq!(metric.unit, "{token}");
    let h = input.histogram().unwrap();
    assert_eq!((h.count, h.sum), (1, Some(1000.0)));
    assert_eq!(h.explicit_bounds, TOKEN_BUCKETS.to_vec());
    // Low-cardinality attributes only: the server and response model are on the span.
    let mut keys: Vec<&str> = input.attributes.keys().collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "gen_ai.operation.name",
            "gen_ai.provider.name",
            "gen_ai.request.model",
            "gen_ai.token.type"
        ]
    );
    assert_eq!(input.str_attr("gen_ai.operation.name"), Some("chat"));
    assert_eq!(input.str_attr("gen_ai.provider.name"), Some("openai"));
    let (_, output) = point(
        "gen_ai.client.token.usage",
        "t-openai-plain",
        "gen_ai.token.type",
        "output",
    )
    .await;
    assert_eq!(output.histogram().unwrap().sum, Some(200.0));

    let (metric, duration) = point(
        "gen_ai.client.operation.duration",
        "t-openai-plain",
        "gen_ai.provider.name",
        "openai",
    )
    .await;
    assert_eq!(metric.unit, "s");
    let h = duration.histogram().unwrap();
    assert_eq!(h.count, 1);
    assert_eq!(h.explicit_bounds, DURATION_BUCKETS.to_vec());
    assert!(duration.attr("error.type").is_none());

    let (metric, cost_point) = point(
        "gen_ai.client.cost",
        "t-openai-plain",
        "gen_ai.prompt.name",
        "greet",
    )
    .await;
    assert_eq!(metric.unit, "{USD}");
    assert!(metric.is_monotonic);
    assert_eq!(cost_point.as_f64(), Some(reply.cost.unwrap()));
    assert_eq!(cost_point.int_attr("gen_ai.prompt.version"), Some(3));
    assert_eq!(cost_point.str_attr("gen_ai.provider.name"), Some("openai"));
    assert_eq!(
        cost_point.attributes.len(),
        4,
        "{:?}",
        cost_point.attributes
    );
    // No time to first chunk for a plain call.
    assert!(
        shared()
            .receiver
            .metrics()
            .iter()
            .filter(|m| m.name == "gen_ai.client.operation.time_to_first_chunk")
            .all(|m| m
                .point_with("gen_ai.request.model", "t-openai-plain")
                .is_none())
    );
}

#[tokio::test]
async fn openai_stream_records_time_to_first_chunk_and_final_usage() {
    shared();
    let llm = FakeLlm::start().await.unwrap();
    llm.push(
        Reply::text("one two three four")
            .with_usage(30, 4)
            .with_id("chatcmpl-stream-1")
            .with_first_chunk_delay(Duration::from_millis(200))
            .with_chunk_delay(Duration::from_millis(5)),
    );
    let client = openai_client(&llm);
    let mut stream = client
        .chat_stream(
            ChatRequest::new("t-openai-stream")
                .user("count")
                .prompt("count", 1),
        )
        .await
        .unwrap();
    let mut text = String::new();
    let mut deltas = 0;
    while let Some(delta) = stream.next().await {
        text.push_str(&delta.unwrap().text);
        deltas += 1;
    }
    assert_eq!(text, "one two three four");
    assert_eq!(deltas, 4);
    let response = stream.response().unwrap().clone();
    let usage = Usage::from_openai(30, 4, 0, 0);
    assert_eq!(response.usage, Some(usage));
    assert_eq!(response.text(), "one two three four");
    assert_eq!(response.id.as_deref(), Some("chatcmpl-stream-1"));

    let sent = llm.last_request().unwrap();
    assert_eq!(sent.body["stream"], true);
    assert_eq!(sent.body["stream_options"], json!({"include_usage": true}));

    let span = llm_span("chat", "t-openai-stream").await;
    let ttfc = span
        .f64_attr("gen_ai.response.time_to_first_chunk")
        .unwrap();
    assert!(ttfc >= 0.2, "time to first chunk {ttfc}");
    assert!(ttfc <= span.duration().as_secs_f64());
    assert_eq!(span.bool_attr("gen_ai.request.stream"), Some(true));
    assert_eq!(span.int_attr("gen_ai.usage.input_tokens"), Some(30));
    assert_eq!(span.int_attr("gen_ai.usage.output_tokens"), Some(4));
    assert_eq!(
        span.attr("gen_ai.response.finish_reasons"),
        Some(&strings(&["stop"]))
    );
    assert_eq!(
        span.str_attr("gen_ai.response.id"),
        Some("chatcmpl-stream-1")
    );
    assert_eq!(span.f64_attr("gen_ai.usage.cost"), response.cost);
    assert!((response.cost.unwrap() - expected_cost(usage)).abs() < 1e-12);

    let (metric, p) = point(
        "gen_ai.client.operation.time_to_first_chunk",
        "t-openai-stream",
        "gen_ai.provider.name",
        "openai",
    )
    .await;
    assert_eq!(metric.unit, "s");
    let h = p.histogram().unwrap();
    assert_eq!(h.count, 1);
    assert!(h.sum.unwrap() >= 0.2);
    assert_eq!(h.explicit_bounds, DURATION_BUCKETS.to_vec());
    // 0.2 s or more: nothing in the buckets up to 0.16 s.
    assert_eq!(h.bucket_counts[..5].iter().sum::<u64>(), 0, "{h:?}");
}

#[tokio::test]
async fn anthropic_message_counts_cache_tokens_as_input() {
    shared();
    let llm = FakeLlm::start().await.unwrap();
    llm.push(
        Reply::text("Bonjour")
            .with_tokens(Tokens {
                input: 2600,
                cache_read: 2000,
                cache_creation: 500,
                output: 50,
                ..Tokens::default()
            })
            .with_id("msg_plain_1")
            .with_model("t-anthropic-plain-20250929"),
    );
    let client = anthropic_client(&llm);
    let reply = client
        .chat(
            ChatRequest::new("t-anthropic-plain")
                .system("Answer in French.")
                .user("Say hello")
                .top_k(40)
                .prompt("greet-fr", 2),
        )
        .await
        .unwrap();
    let usage = Usage::from_anthropic(100, 50, 2000, 500);
    assert_eq!(usage.input, 2600);
    assert_eq!(reply.usage, Some(usage));
    assert_eq!(reply.text(), "Bonjour");
    assert_eq!(reply.finish_reason.as_deref(), Some("end_turn"));

    let sent = llm.last_request().unwrap();
    assert_eq!(sent.path, "/v1/messages");
    assert_eq!(sent.header("x-api-key"), Some("sk-ant-test-secret"));
    assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(sent.body["system"], "Answer in French.");
    assert_eq!(sent.body["max_tokens"], 4096);
    assert_eq!(
        sent.body["messages"],
        json!([{"role": "user", "content": [{"type": "text", "text": "Say hello"}]}])
    );

    let span = llm_span("chat", "t-anthropic-plain").await;
    let port = i64::from(llm.addr().port());
    assert_eq!(
        attrs(&span),
        expect(vec![
            ("gen_ai.operation.name", "chat".into()),
            ("gen_ai.provider.name", "anthropic".into()),
            ("gen_ai.request.model", "t-anthropic-plain".into()),
            ("server.address", "127.0.0.1".into()),
            ("server.port", port.into()),
            ("gen_ai.prompt.name", "greet-fr".into()),
            ("gen_ai.prompt.version", 2i64.into()),
            ("gen_ai.request.max_tokens", 4096i64.into()),
            ("gen_ai.request.top_k", 40.0.into()),
            ("gen_ai.response.id", "msg_plain_1".into()),
            ("gen_ai.response.model", "t-anthropic-plain-20250929".into()),
            ("gen_ai.response.finish_reasons", strings(&["end_turn"])),
            ("gen_ai.usage.input_tokens", 2600i64.into()),
            ("gen_ai.usage.output_tokens", 50i64.into()),
            ("gen_ai.usage.cache_read.input_tokens", 2000i64.into()),
            ("gen_ai.usage.cache_creation.input_tokens", 500i64.into()),
            ("gen_ai.usage.cost", reply.cost.unwrap().into()),
        ])
    );
    assert!((reply.cost.unwrap() - expected_cost(usage)).abs() < 1e-12);

    let (_, input) = point(
        "gen_ai.client.token.usage",
        "t-anthropic-plain",
        "gen_ai.token.type",
        "input",
    )
    .await;
    assert_eq!(input.histogram().unwrap().sum, Some(2600.0));
    let (_, cost) = point(
        "gen_ai.client.cost",
        "t-anthropic-plain",
        "gen_ai.provider.name",
        "anthropic",
    )
    .await;
    assert_eq!(cost.as_f64(), reply.cost);
}

#[tokio::test]
async fn anthropic_stream_records_time_to_first_chunk_and_final_usage() {
    shared();
    let llm = FakeLlm::start().await.unwrap();
    llm.push(
        Reply::text("alpha beta gamma")
            .with_tokens(Tokens {
                input: 1200,
                cache_read: 1000,
                output: 3,
                ..Tokens::default()
            })
            .with_first_chunk_delay(Duration::from_millis(200)),
    );
    let client = anthropic_client(&llm);
    let response = client
        .chat_stream(ChatRequest::new("t-anthropic-stream").user("three words"))
        .await
        .unwrap()
        .into_response()
        .await
        .unwrap();
    assert_eq!(response.text(), "alpha beta gamma");
    let usage = Usage::from_anthropic(200, 3, 1000, 0);
    assert_eq!(response.usage, Some(usage));
    assert_eq!(response.finish_reason.as_deref(), Some("end_turn"));
    assert!(llm.last_request().unwrap().is_stream());

    let span = llm_span("chat", "t-anthropic-stream").await;
    assert!(
        span.f64_attr("gen_ai.response.time_to_first_chunk")
            .unwrap()
            >= 0.2
    );
    assert_eq!(span.bool_attr("gen_ai.request.stream"), Some(true));
    assert_eq!(span.int_attr("gen_ai.usage.input_tokens"), Some(1200));
    assert_eq!(
        span.int_attr("gen_ai.usage.cache_read.input_tokens"),
        Some(1000)
    );
    assert_eq!(span.int_attr("gen_ai.usage.output_tokens"), Some(3));
    assert_eq!(
        span.attr("gen_ai.response.finish_reasons"),
        Some(&strings(&["end_turn"]))
    );
    assert_eq!(
        span.str_attr("gen_ai.response.model"),
        Some("t-anthropic-stream")
    );
    assert_eq!(span.f64_attr("gen_ai.usage.cost"), response.cost);
    assert!((response.cost.unwrap() - expected_cost(usage)).abs() < 1e-12);
    let (_, p) = point(
        "gen_ai.client.operation.time_to_first_chunk",
        "t-anthropic-stream",
        "gen_ai.provider.name",
        "anthropic",
    )
    .await;
    assert!(p.histogram().unwrap().sum.unwrap() >= 0.2);
}

#[tokio::test]
async fn embeddings_span_has_input_tokens_dimensions_and_cost() {
    shared();
    let llm = FakeLlm::start().await.unwrap();
    llm.push(Reply::embedding(16).with_usage(42, 0));
    let client = openai_client(&llm);
    let response = client
        .embeddings(
            EmbeddingsRequest::new("t-embed", ["first text", "second text"]).prompt("index", 1),
        )
        .await
        .unwrap();
    assert_eq!(response.embeddings.len(), 2);
    assert!(response.embeddings.iter().all(|e| e.len() == 16));
    assert_eq!(response.usage.map(|u| u.input), Some(42));
    assert_eq!(llm.last_request().unwrap().path, "/v1/embeddings");

    let span = llm_span("embeddings", "t-embed").await;
    let port = i64::from(llm.addr().port());
    assert_eq!(
        attrs(&span),
        expect(vec![
            ("gen_ai.operation.name", "embeddings".into()),
            ("gen_ai.provider.name", "openai".into()),
            ("gen_ai.request.model", "t-embed".into()),
            ("server.address", "127.0.0.1".into()),
            ("server.port", port.into()),
            ("gen_ai.prompt.name", "index".into()),
            ("gen_ai.prompt.version", 1i64.into()),
            ("gen_ai.response.model", "t-embed".into()),
            ("gen_ai.usage.input_tokens", 42i64.into()),
            ("gen_ai.embeddings.dimension.count", 16i64.into()),
            ("gen_ai.usage.cost", (42.0 * 2.0 / 1e6).into()),
        ])
    );
    assert_eq!(response.cost, Some(42.0 * 2.0 / 1e6));
    let (_, input) = point(
        "gen_ai.client.token.usage",
        "t-embed",
        "gen_ai.token.type",
        "input",
    )
    .await;
    assert_eq!(input.histogram().unwrap().sum, Some(42.0));
    let metric = shared()
        .receiver
        .metric_named("gen_ai.client.token.usage")
        .unwrap();
    assert!(
        metric
            .points
            .iter()
            .filter(|p| p.str_attr("gen_ai.request.model") == Some("t-embed"))
            .all(|p| p.str_attr("gen_ai.token.type") == Some("input")),
        "embeddings have no output tokens"
    );
}

fn weather_tool() -> ToolDefinition {
    ToolDefinition::function(
        "get_weather",
        "Current weather in a city",
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
    )
}

/// Runs the tool the model asked for, in its own span.
fn run_tool(call: &spanforge::llm::ToolCall) -> Value {
    let span = Generation::execute_tool(&call.name)
        .tool_call_id(&call.id)
        .tool_type("function")
        .start();
    assert_eq!(call.arguments, json!({"city": "Paris"}));
    let result = json!("18°C and sunny");
    span.record_tool_call_result(&result);
    span.end();
    result
}

#[tokio::test]
async fn openai_tool_call_round_trip() {
    shared();
    let llm = FakeLlm::start().await.unwrap();
    llm.push_all([
        Reply::tool_call("get_weather", json!({"city": "Paris"})).with_tool_call_id("call_42"),
        Reply::text("It is 18°C and sunny in Paris."),
    ]);
    let client = openai_client(&llm);
    let agent = tracing::info_span!("agent_turn");
    let (first, second) = async {
        let history = vec![Message::user("Weather in Paris?")];
        let request = ChatRequest::new("t-tools")
            .messages(history.clone())
            .tool(weather_tool());
        let first = client.chat(request).await.unwrap();
        let calls = first.tool_calls();
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].id, "call_42");
        let result = run_tool(&calls[0]);
        let second = client
            .chat(
                ChatRequest::new("t-tools")
                    .messages(history)
                    .message(Message::tool_calls(calls.clone()))
                    .message(Message::tool_result(&calls[0].id, result))
                    .tool(weather_tool()),
            )
            .await
            .unwrap();
        (first, second)
    }
    .instrument(agent)
    .await;
    assert_eq!(first.finish_reason.as_deref(), Some("tool_calls"));
    assert_eq!(second.text(), "It is 18°C and sunny in Paris.");

    let requests = llm.requests();
    assert_eq!(
        requests[0].body["tools"][0],
        json!({"type": "function", "function": {
            "name": "get_weather", "description": "Current weather in a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        }})
    );
    let messages = requests[1].body["messages"].as_array().unwrap();
    assert_eq!(
        messages[1],
        json!({"role": "assistant", "content": null, "tool_calls": [{
            "id": "call_42", "type": "function",
            "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"},
        }]})
    );
    assert_eq!(
        messages[2],
        json!({"role": "tool", "tool_call_id": "call_42", "content": "18°C and sunny"})
    );

    let root = span_where("agent_turn", |s| s.name == "agent_turn").await;
    let chats: Vec<ReceivedSpan> = {
        span_where("two chats", |s| {
            s.name == "chat t-tools" && s.trace_id == root.trace_id
        })
        .await;
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            let chats: Vec<_> = shared()
                .receiver
                .trace(&root.trace_id)
                .into_iter()
                .filter(|s| s.name == "chat t-tools")
                .collect();
            if chats.len() == 2 || std::time::Instant::now() > deadline {
                break chats;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    assert_eq!(chats.len(), 2);
    let tool = span_where("execute_tool", |s| {
        s.name == "execute_tool get_weather" && s.trace_id == root.trace_id
    })
    .await;
    for chat in &chats {
        assert_eq!(chat.parent_span_id.as_deref(), Some(root.span_id.as_str()));
    }
    assert_eq!(tool.parent_span_id.as_deref(), Some(root.span_id.as_str()));
    assert_eq!(tool.kind, SpanKind::Internal);
    assert_eq!(
        attrs(&tool),
        expect(vec![
            ("gen_ai.operation.name", "execute_tool".into()),
            ("gen_ai.tool.name", "get_weather".into()),
            ("gen_ai.tool.call.id", "call_42".into()),
            ("gen_ai.tool.type", "function".into()),
        ]),
        "no result attribute while content capture is off"
    );
    let mut reasons: Vec<_> = chats
        .iter()
        .map(|c| c.attr("gen_ai.response.finish_reasons").cloned().unwrap())
        .collect();
    reasons.sort_by_key(|r| format!("{r:?}"));
    assert_eq!(reasons, vec![strings(&["stop"]), strings(&["tool_calls"])]);
    assert!(
        chats
            .iter()
            .all(|c| c.f64_attr("gen_ai.usage.cost").is_some())
    );
}

#[tokio::test]
async fn anthropic_streamed_tool_use_round_trip() {
    shared();
    let llm = FakeLlm::start().await.unwrap();
    llm.push_all([
        Reply::tool_call("get_weather", json!({"city": "Paris"}))
            .with_tool_call_id("toolu_01")
            .with_usage(300, 40),
        Reply::text("Sunny, 18°C.").with_usage(360, 8),
    ]);
    let client = anthropic_client(&llm);
    let mut stream = client
        .chat_stream(
            ChatRequest::new("t-anthropic-tools")
                .user("Weather in Paris?")
                .tool(weather_tool()),
        )
        .await
        .unwrap();
    let mut pieces = 0;
    while let Some(delta) = stream.next().await {
        pieces += delta.unwrap().tool_calls.len();
    }
    assert_eq!(pieces, 3, "start, then the arguments in two pieces");
    let first = stream.response().unwrap().clone();
    assert_eq!(first.finish_reason.as_deref(), Some("tool_use"));
    let calls = first.tool_calls();
    assert_eq!(calls[0].id, "toolu_01");
    let result = run_tool(&calls[0]);
    let second = client
        .chat(
            ChatRequest::new("t-anthropic-tools")
                .user("Weather in Paris?")
                .message(Message::tool_calls(calls.clone()))
                .message(Message::tool_result("toolu_01", result))
                .tool(weather_tool()),
        )
        .await
        .unwrap();
    assert_eq!(second.text(), "Sunny, 18°C.");
    let requests = llm.requests();
    assert_eq!(
        requests[0].body["tools"][0]["input_schema"]["required"],
        json!(["city"])
    );
    assert_eq!(
        requests[1].body["messages"],
        json!([
            {"role": "user", "content": [{"type": "text", "text": "Weather in Paris?"}]},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": "Paris"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_01", "content": "18°C and sunny"}]},
        ])
    );
    let span = span_where("streamed tool use", |s| {
        s.name == "chat t-anthropic-tools" && s.bool_attr("gen_ai.request.stream") == Some(true)
    })
    .await;
    assert_eq!(
        span.attr("gen_ai.response.finish_reasons"),
        Some(&strings(&["tool_use"]))
    );
    assert_eq!(span.int_attr("gen_ai.usage.input_tokens"), Some(300));
    assert_eq!(span.int_attr("gen_ai.usage.output_tokens"), Some(40));
}

#[tokio::test]
async fn content_capture_records_redacted_truncated_semconv_json() {
    shared();
    let llm = FakeLlm::start().await.unwrap();
    llm.push(Reply::text("Paid with [card]. Done.").with_usage(500, 10));
    let capture = ContentCapture::enabled()
        .with_max_length(600)
        .with_redactor(|text: &str| text.replace("4111 1111 1111 1111", "[card]"));
    let client = openai::Client::builder()
        .with_base_url(llm.openai_base_url())
        .with_pricing(pricing())
        .with_content_capture(capture.clone())
        .build()
        .unwrap();
    let long = "lorem ipsum ".repeat(200);
    client
        .chat(
            ChatRequest::new("t-content")
                .system("You are a payments assistant.")
                .user(format!("My card is 4111 1111 1111 1111. {long}"))
                .tool(weather_tool()),
        )
        .await
        .unwrap();
    // The request itself is unchanged: redaction applies to telemetry only.
    let sent = llm.last_request().unwrap();
    assert!(
        sent.body["messages"][1]["content"]
            .as_str()
            .unwrap()
            .contains("4111 1111 1111 1111")
    );
    assert!(sent.header("authorization").is_none(), "no key configured");

    let span = llm_span("chat", "t-content").await;
    let input = span.str_attr("gen_ai.input.messages").unwrap();
    assert!(input.len() <= 600, "{}", input.len());
    assert!(!input.contains("4111"), "{input}");
    let input: Value = serde_json::from_str(input).unwrap();
    assert_eq!(
        input[0],
        json!({"role": "system", "parts": [{"type": "text", "content": "You are a payments assistant."}]})
    );
    assert_eq!(input[1]["role"], "user");
    let user_text = input[1]["parts"][0]["content"].as_str().unwrap();
    assert!(
        user_text.starts_with("My card is [card]. lorem ipsum"),
        "{user_text}"
    );
    assert!(user_text.ends_with(spanforge::llm::TRUNCATION_MARKER));
    assert_eq!(
        serde_json::from_str::<Value>(span.str_attr("gen_ai.output.messages").unwrap()).unwrap(),
        json!([{"role": "assistant", "parts": [{"type": "text", "content": "Paid with [card]. Done."}], "finish_reason": "stop"}])
    );
    assert_eq!(
        serde_json::from_str::<Value>(span.str_attr("gen_ai.tool.definitions").unwrap()).unwrap(),
        json!([{"type": "function", "name": "get_weather", "description": "Current weather in a city",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}])
    );
    assert!(span.attr("gen_ai.system_instructions").is_none());

    // Anthropic: system instructions are their own attribute.
    llm.push(Reply::text("ok").with_usage(5, 1));
    let client = anthropic::Client::builder()
        .with_base_url(llm.anthropic_base_url())
        .with_pricing(pricing())
        .with_content_capture(capture)
        .build()
        .unwrap();
    client
        .chat(
            ChatRequest::new("t-content-anthropic")
                .system("Card 4111 1111 1111 1111 is on file.")
                .user("hi"),
        )
        .await
        .unwrap();
    let span = llm_span("chat", "t-content-anthropic").await;
    assert_eq!(
        serde_json::from_str::<Value>(span.str_attr("gen_ai.system_instructions").unwrap())
            .unwrap(),
        json!([{"type": "text", "content": "Card [card] is on file."}])
    );
    assert_eq!(
        serde_json::from_str::<Value>(span.str_attr("gen_ai.input.messages").unwrap()).unwrap(),
        json!([{"role": "user", "parts": [{"type": "text", "content": "hi"}]}])
    );
}

#[tokio::test]
async fn provider_errors_are_typed_and_recorded() {
    shared();
    let llm = FakeLlm::start().await.unwrap();
    let client = openai_client(&llm);
    let request = || ChatRequest::new("t-errors").user("hi").prompt("errors", 1);

    llm.push(Reply::fault(Fault::RateLimited {
        retry_after: Some(Duration::from_secs(2)),
    }));
    let error = client.chat(request()).await.unwrap_err();
    assert!(
        matches!(&error, Error::RateLimited { retry_after: Some(d), code: Some(c), .. }
            if *d == Duration::from_secs(2) && c == "rate_limit_exceeded"),
        "{error:?}"
    );
    assert_eq!(error.retry_after(), Some(Duration::from_secs(2)));
    assert!(error.is_retryable());

    llm.push(Reply::fault(Fault::Status { status: 503 }));
    let error = client.chat(request()).await.unwrap_err();
    assert!(
        matches!(error, Error::Server { status: 503, .. }),
        "{error:?}"
    );
    assert_eq!(error.error_type(), "server_error");

    let span = span_where("429 span", |s| {
        s.name == "chat t-errors" && s.str_attr("error.type") == Some("rate_limit_exceeded")
    })
    .await;
    assert_eq!(span.status_code, SpanStatus::Error);
    assert!(
        span.status_message.contains("rate limited"),
        "{}",
        span.status_message
    );
    assert!(span.attr("gen_ai.usage.cost").is_none());
    assert!(span.attr("gen_ai.usage.input_tokens").is_none());
    span_where("503 span", |s| {
        s.name == "chat t-errors" && s.str_attr("error.type") == Some("server_error")
    })
    .await;
    let (_, duration) = point(
        "gen_ai.client.operation.duration",
        "t-errors",
        "error.type",
        "rate_limit_exceeded",
    )
    .await;
    assert_eq!(duration.histogram().unwrap().count, 1);

    // Anthropic's overload.
    llm.push(Reply::fault(Fault::Status { status: 529 }));
    let error = anthropic_client(&llm)
        .chat(ChatRequest::new("t-errors").user("hi"))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::Server { status: 529, code: Some(c), .. } if c == "overloaded_error"),
        "{error:?}"
    );

    // A timeout.
    llm.push(Reply::text("late").with_first_chunk_delay(Duration::from_secs(2)));
    let impatient = openai::Client::builder()
        .with_base_url(llm.openai_base_url())
        .with_timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let error = impatient.chat(request()).await.unwrap_err();
    assert!(matches!(error, Error::Timeout(_)), "{error:?}");
    span_where("timeout span", |s| {
        s.name == "chat t-errors" && s.str_attr("error.type") == Some("timeout")
    })
    .await;

    // A server that is not there.
    let gone = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let error = openai::Client::builder()
        .with_base_url(format!("http://{gone}/v1"))
        .with_api_key("sk-test-secret-key")
        .build()
        .unwrap()
        .chat(request())
        .await
        .unwrap_err();
    assert!(
        matches!(
            &error,
            Error::Transport {
                kind: "connect",
                ..
            }
        ),
        "{error:?}"
    );
    assert!(!error.to_string().contains("sk-test-secret-key"));
}

#[tokio::test]
async fn broken_streams_fail_typed_and_leave_no_cost() {
    shared();
    let llm = FakeLlm::start().await.unwrap();
    let client = openai_client(&llm);

    // Cut mid-way: three events, then the connection drops.
    llm.push(
        Reply::text("one two three four five")
            .with_usage(10, 5)
            .with_fault(Fault::CutStream { after_events: 3 }),
    );
    let mut stream = client
        .chat_stream(ChatRequest::new("t-cut").user("count").prompt("cut", 1))
        .await
        .unwrap();
    let mut text = String::new();
    let error = loop {
        match stream.next().await {
            Some(Ok(delta)) => text.push_str(&delta.text),
            Some(Err(e)) => break e,
            None => panic!("the stream ended without an error"),
        }
    };
    assert_eq!(text, "one two ");
    assert!(matches!(error, Error::IncompleteStream(_)), "{error:?}");
    assert!(stream.next().await.is_none(), "nothing after the error");
    assert!(stream.response().is_none());
    let span = span_where("cut span", |s| {
        s.name == "chat t-cut" && s.str_attr("error.type") == Some("incomplete_stream")
    })
    .await;
    assert_eq!(span.status_code, SpanStatus::Error);
    assert!(span.attr("gen_ai.usage.cost").is_none());
    assert!(
        span.f64_attr("gen_ai.response.time_to_first_chunk")
            .is_some()
    );

    // Ends cleanly but early.
    llm.push(Reply::text("a b").with_fault(Fault::EndStreamEarly { after_events: 2 }));
    let error = client
        .chat_stream(ChatRequest::new("t-cut").user("x"))
        .await
        .unwrap()
        .into_response()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::IncompleteStream(_)), "{error:?}");

    // Not JSON.
    llm.push(Reply::text("a b").with_fault(Fault::MalformedEvent { after_events: 1 }));
    let error = client
        .chat_stream(ChatRequest::new("t-cut").user("x"))
        .await
        .unwrap()
        .into_response()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::MalformedStream(_)), "{error:?}");
    assert_eq!(error.error_type(), "malformed_stream");

    // A plain answer that is not a chat completion.
    llm.push(Reply::text("x").with_fault(Fault::MalformedEvent { after_events: 0 }));
    let error = client
        .chat(ChatRequest::new("t-cut").user("x"))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::MalformedResponse(_)), "{error:?}");

    // No cost was counted for any of these.
    let metrics = shared().receiver.metrics();
    assert!(
        metrics
            .iter()
            .filter(|m| m.name == "gen_ai.client.cost")
            .all(|m| m.point_with("gen_ai.request.model", "t-cut").is_none())
    );
}

#[tokio::test]
async fn a_stream_dropped_half_way_still_ends_its_span() {
    shared();
    let llm = FakeLlm::start().await.unwrap();
    llm.push(Reply::text("one two three four").with_chunk_delay(Duration::from_millis(20)));
    let client = openai_client(&llm);
    let mut stream = client
        .chat_stream(ChatRequest::new("t-dropped").user("x"))
        .await
        .unwrap();
    assert_eq!(stream.next().await.unwrap().unwrap().text, "one ");
    drop(stream);
    let span = llm_span("chat", "t-dropped").await;
    assert!(span.attr("gen_ai.usage.cost").is_none());
    assert!(
        span.f64_attr("gen_ai.response.time_to_first_chunk")
            .is_some()
    );
}

#[tokio::test]
async fn any_client_by_hand_with_the_span_api() {
    shared();
    let parent = tracing::info_span!("hand_parent");
    let cost = parent.in_scope(|| {
        let call = Generation::chat("acme", "t-hand")
            .prompt("greet", 3)
            .temperature(0.5)
            .server("llm.internal", Some(8443))
            .with_pricing(pricing())
            .start();
        call.record_response_id("r-1");
        call.record_finish_reason("stop");
        call.record_usage(Usage {
            input: 1000,
            cache_read: 400,
            output: 200,
            reasoning: 50,
            ..Default::default()
        });
        call.end()
    });
    drop(parent); // the parent span is exported when it closes
    let cost = cost.unwrap();
    assert!((cost.total - 0.003).abs() < 1e-12, "{cost:?}");

    let span = llm_span("chat", "t-hand").await;
    let root = span_where("hand_parent", |s| s.name == "hand_parent").await;
    assert_eq!(span.parent_span_id.as_deref(), Some(root.span_id.as_str()));
    assert_eq!(
        attrs(&span),
        expect(vec![
            ("gen_ai.operation.name", "chat".into()),
            ("gen_ai.provider.name", "acme".into()),
            ("gen_ai.request.model", "t-hand".into()),
            ("server.address", "llm.internal".into()),
            ("server.port", 8443i64.into()),
            ("gen_ai.prompt.name", "greet".into()),
            ("gen_ai.prompt.version", 3i64.into()),
            ("gen_ai.request.temperature", 0.5.into()),
            ("gen_ai.response.id", "r-1".into()),
            ("gen_ai.response.finish_reasons", strings(&["stop"])),
            ("gen_ai.usage.input_tokens", 1000i64.into()),
            ("gen_ai.usage.output_tokens", 200i64.into()),
            ("gen_ai.usage.cache_read.input_tokens", 400i64.into()),
            ("gen_ai.usage.reasoning.output_tokens", 50i64.into()),
            ("gen_ai.usage.cost", cost.total.into()),
        ])
    );
}

#[tokio::test]
async fn an_unknown_model_gets_no_cost_attribute_and_no_cost_metric() {
    shared();
    let call = Generation::chat("acme", "t-unknown-model-xyz")
        .prompt("unknown", 1)
        .start();
    call.record_usage(Usage {
        input: 10,
        output: 5,
        ..Default::default()
    });
    assert!(call.end().is_none());
    let span = llm_span("chat", "t-unknown-model-xyz").await;
    assert_eq!(span.int_attr("gen_ai.usage.input_tokens"), Some(10));
    assert!(span.attr("gen_ai.usage.cost").is_none(), "never $0");
    point(
        "gen_ai.client.token.usage",
        "t-unknown-model-xyz",
        "gen_ai.token.type",
        "output",
    )
    .await;
    assert!(
        shared()
            .receiver
            .metrics()
            .iter()
            .filter(|m| m.name == "gen_ai.client.cost")
            .all(|m| m
                .point_with("gen_ai.request.model", "t-unknown-model-xyz")
                .is_none())
    );
}

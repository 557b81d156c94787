//! Generations per second and CPU per 1,000 generations exported to a fake Langfuse OTLP
//! endpoint on loopback: spanforge-langfuse (with its Langfuse attribute mapping) against
//! opentelemetry-langfuse (a plain OTLP exporter), same spans, same endpoint, same run.
//!
//! Run with `cargo run --release --manifest-path benches/langfuse-peer/Cargo.toml`.

use std::time::{Duration, Instant, SystemTime};

use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanExporter, SpanLinks};
use spanforge_langfuse::{LangfuseConfig, LangfuseExporter};
use spanforge_testkit::langfuse::FakeLangfuse;

const BATCH: usize = 1_000;
const BATCHES: usize = 30;

fn generation(i: usize) -> SpanData {
    let trace = TraceId::from_bytes(((i as u128 + 1) * 0x9e37_79b9_7f4a_7c15).to_be_bytes());
    let span = SpanId::from_bytes(((i as u64 + 1) * 0x2545_f491_4f6c_dd1d).to_be_bytes());
    let end = SystemTime::now();
    SpanData {
        span_context: SpanContext::new(
            trace,
            span,
            TraceFlags::SAMPLED,
            false,
            TraceState::default(),
        ),
        parent_span_id: SpanId::INVALID,
        parent_span_is_remote: false,
        span_kind: SpanKind::Client,
        name: "chat gpt-4o-mini".into(),
        start_time: end - Duration::from_millis(850),
        end_time: end,
        attributes: vec![
            KeyValue::new("gen_ai.operation.name", "chat"),
            KeyValue::new("gen_ai.provider.name", "openai"),
            KeyValue::new("gen_ai.request.model", "gpt-4o-mini"),
            KeyValue::new("gen_ai.response.model", "gpt-4o-mini-2024-07-18"),
            KeyValue::new("gen_ai.response.id", format!("chatcmpl-{i}")),
            KeyValue::new("gen_ai.usage.input_tokens", 1200_i64),
            KeyValue::new("gen_ai.usage.output_tokens", 180_i64),
            KeyValue::new("gen_ai.usage.cache_read.input_tokens", 400_i64),
            KeyValue::new("gen_ai.usage.cost", 0.000_288),
            KeyValue::new("gen_ai.prompt.name", "greet"),
            KeyValue::new("gen_ai.prompt.version", 3_i64),
            KeyValue::new("gen_ai.request.temperature", 0.2),
            KeyValue::new("gen_ai.response.time_to_first_chunk", 0.21),
        ],
        dropped_attributes_count: 0,
        events: SpanEvents::default(),
        links: SpanLinks::default(),
        status: Status::Unset,
        instrumentation_scope: InstrumentationScope::builder("spanforge.llm").build(),
    }
}

/// Process CPU time (user + system) from /proc/self/stat, in clock ticks of 10 ms.
fn cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|v| v.parse::<u64>().ok()))
        .sum();
    Duration::from_millis(ticks * 10)
}

async fn run<E: SpanExporter>(exporter: &E, batches: &[Vec<SpanData>]) -> (f64, f64) {
    let wall = Instant::now();
    let cpu_before = cpu();
    for batch in batches {
        exporter.export(batch.clone()).await.expect("export");
    }
    let seconds = wall.elapsed().as_secs_f64();
    let cpu_ms = (cpu() - cpu_before).as_secs_f64() * 1000.0;
    let generations = (batches.len() * BATCH) as f64;
    (generations / seconds, cpu_ms / (generations / 1000.0))
}

#[tokio::main]
async fn main() {
    let fake = FakeLangfuse::start().expect("fake Langfuse");
    let batches: Vec<Vec<SpanData>> = (0..BATCHES)
        .map(|b| (0..BATCH).map(|i| generation(b * BATCH + i)).collect())
        .collect();

    let ours = LangfuseExporter::new(
        LangfuseConfig::builder("pk-lf-bench", "sk-lf-bench")
            .base_url(fake.base_url())
            .build()
            .expect("config"),
    )
    .expect("spanforge-langfuse exporter");
    let peer = opentelemetry_langfuse::ExporterBuilder::new()
        .with_host(&fake.base_url())
        .with_basic_auth("pk-lf-bench", "sk-lf-bench")
        .build()
        .expect("opentelemetry-langfuse exporter");

    // Warm up both (connections, allocator).
    run(&ours, &batches[..2]).await;
    run(&peer, &batches[..2]).await;

    println!("{BATCHES} batches of {BATCH} generations per round; fake Langfuse on loopback");
    println!("round exporter                  generations/s  CPU ms per 1,000");
    for round in 1..=3 {
        let (rate, cpu) = run(&ours, &batches).await;
        println!("{round:>5} spanforge-langfuse        {rate:>13.0}  {cpu:>16.1}");
        let (rate, cpu) = run(&peer, &batches).await;
        println!("{round:>5} opentelemetry-langfuse    {rate:>13.0}  {cpu:>16.1}");
    }
    let received: usize = fake.requests().iter().map(|r| r.spans.len()).sum();
    println!("spans received by the fake: {received}");
}

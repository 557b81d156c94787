//! What instrumenting one LLM call costs the application, excluding the network (goal:
//! under 5 µs per call).
//!
//! Run with `cargo bench -p spanforge --bench llm_overhead`.
//!
//! Each iteration is one whole call as the instrumented clients record it: the span starts
//! with the request attributes, the response id, model, finish reason and usage are
//! recorded, and `end()` resolves the (dated) response model in the pricing table, computes
//! the cost, writes the attributes, ends the span into the default pipeline (a bounded queue
//! whose exporter discards), and records the token, duration, time-to-first-chunk and cost
//! metrics into an SDK meter provider.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::{ManualReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use spanforge::cost::Usage;
use spanforge::llm::{ContentCapture, FinishReason, Generation, Message, OutputMessage};
use spanforge::{BatchSettings, Config, ExporterKind, LogFormat};

#[derive(Debug)]
struct Discard;

impl SpanExporter for Discard {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        black_box(batch);
        Ok(())
    }
}

fn pipeline() -> (spanforge::Telemetry, SdkMeterProvider) {
    let config = Config::default()
        .with_install_subscriber(false)
        .with_log_format(LogFormat::None)
        .with_traces_exporter(ExporterKind::None)
        .with_metrics_exporter(ExporterKind::None)
        .with_logs_exporter(ExporterKind::None)
        .with_span_batch(BatchSettings {
            max_queue_size: 1 << 16,
            max_export_batch_size: 512,
            scheduled_delay: Duration::from_millis(200),
            export_timeout: Duration::from_secs(30),
        })
        .with_span_exporter("discard", Discard);
    let telemetry = spanforge::init(config).expect("pipeline");
    // A real SDK meter provider, so metric recording is measured too.
    let meters = SdkMeterProvider::builder()
        .with_reader(ManualReader::builder().build())
        .build();
    opentelemetry::global::set_meter_provider(meters.clone());
    (telemetry, meters)
}

const USAGE: Usage = Usage {
    input: 1_000,
    output: 200,
    cache_read: 400,
    cache_creation: 0,
    reasoning: 50,
};

fn llm_overhead(c: &mut Criterion) {
    let (telemetry, meters) = pipeline();
    let mut group = c.benchmark_group("llm_overhead");

    group.bench_function("chat_call", |b| {
        b.iter(|| {
            let call = Generation::chat("openai", "gpt-4o-mini")
                .prompt("greet", 3)
                .temperature(0.2)
                .max_tokens(256)
                .server("api.openai.com", Some(443))
                .start();
            call.record_response_id("chatcmpl-AbC123");
            call.record_response_model("gpt-4o-mini-2024-07-18");
            call.record_finish_reason("stop");
            call.record_usage(black_box(USAGE));
            black_box(call.end())
        })
    });

    group.bench_function("chat_stream_call", |b| {
        b.iter(|| {
            let call = Generation::chat("anthropic", "claude-sonnet-4-5")
                .prompt("greet", 3)
                .max_tokens(1024)
                .stream(true)
                .server("api.anthropic.com", Some(443))
                .start();
            call.record_first_chunk();
            call.record_response_id("msg_01AbC");
            call.record_response_model("claude-sonnet-4-5-20250929");
            call.record_finish_reason("end_turn");
            call.record_usage(black_box(USAGE));
            black_box(call.end())
        })
    });

    group.bench_function("embeddings_call", |b| {
        b.iter(|| {
            let call = Generation::embeddings("openai", "text-embedding-3-small")
                .server("api.openai.com", Some(443))
                .start();
            call.record_response_model("text-embedding-3-small");
            call.record_embedding_dimensions(1536);
            call.record_usage(Usage {
                input: 42,
                ..Usage::default()
            });
            black_box(call.end())
        })
    });

    // For comparison: content capture on (off by default), two short messages.
    let capture = ContentCapture::enabled();
    let input = [
        Message::system("Answer in one sentence."),
        Message::user("What is OpenTelemetry?"),
    ];
    let output = [OutputMessage {
        message: Message::assistant("An observability framework for traces, metrics and logs."),
        finish_reason: FinishReason::Stop,
    }];
    group.bench_function("chat_call_with_content_capture", |b| {
        b.iter(|| {
            let call = Generation::chat("openai", "gpt-4o-mini")
                .prompt("greet", 3)
                .with_content_capture(capture.clone())
                .start();
            call.record_input_messages(&input);
            call.record_output_messages(&output);
            call.record_response_model("gpt-4o-mini-2024-07-18");
            call.record_finish_reason("stop");
            call.record_usage(black_box(USAGE));
            black_box(call.end())
        })
    });
    group.finish();
    let _ = meters.shutdown();
    drop(telemetry);
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(4)).warm_up_time(Duration::from_secs(1));
    targets = llm_overhead
}
criterion_main!(benches);

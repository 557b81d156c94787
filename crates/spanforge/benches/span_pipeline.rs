//! Per-span cost on the application's thread of the default pipeline, against the
//! OpenTelemetry SDK's own batch processor.
//!
//! Run with `cargo bench -p spanforge --bench span_pipeline`.
//!
//! Every case ends spans into a processor whose exporter discards them, so the figures are
//! the cost the application pays per span (creation, attributes, bridge, enqueue); the
//! export itself happens on another thread.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use opentelemetry::KeyValue;
use opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider, SpanData, SpanExporter,
};
use spanforge::{BatchSettings, Config, ExporterKind, LogFormat};
use tracing_subscriber::layer::SubscriberExt;

#[derive(Debug)]
struct Discard;

impl SpanExporter for Discard {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        black_box(batch);
        Ok(())
    }
}

fn spanforge_pipeline() -> spanforge::Telemetry {
    let config = Config::default()
        .with_install_subscriber(false)
        .with_log_format(LogFormat::None)
        .with_traces_exporter(ExporterKind::None)
        .with_metrics_exporter(ExporterKind::None)
        .with_logs_exporter(ExporterKind::None)
        // A queue large enough that the measurement never counts drops.
        .with_span_batch(BatchSettings {
            max_queue_size: 1 << 16,
            max_export_batch_size: 512,
            scheduled_delay: Duration::from_millis(200),
            export_timeout: Duration::from_secs(30),
        })
        .with_span_exporter("discard", Discard);
    spanforge::init(config).expect("pipeline")
}

fn sdk_batch_provider() -> SdkTracerProvider {
    let processor = BatchSpanProcessor::builder(Discard)
        .with_batch_config(
            BatchConfigBuilder::default()
                .with_max_queue_size(1 << 16)
                .with_scheduled_delay(Duration::from_millis(200))
                .build(),
        )
        .build();
    SdkTracerProvider::builder()
        .with_span_processor(processor)
        .build()
}

fn otel_api_span(c: &mut Criterion) {
    let mut group = c.benchmark_group("otel_api_span");
    let telemetry = spanforge_pipeline();
    let tracer = telemetry
        .tracer_provider()
        .expect("traces on")
        .tracer("bench");
    group.bench_function("spanforge_queue", |b| {
        b.iter(|| {
            let mut span = tracer.start("GET /prompts/{name}");
            span.set_attribute(KeyValue::new("http.request.method", "GET"));
            span.set_attribute(KeyValue::new("http.response.status_code", 200));
            span.end();
        })
    });
    let sdk = sdk_batch_provider();
    let sdk_tracer = sdk.tracer("bench");
    group.bench_function("sdk_batch_span_processor", |b| {
        b.iter(|| {
            let mut span = sdk_tracer.start("GET /prompts/{name}");
            span.set_attribute(KeyValue::new("http.request.method", "GET"));
            span.set_attribute(KeyValue::new("http.response.status_code", 200));
            span.end();
        })
    });
    group.finish();
    let _ = sdk.shutdown();
    drop(telemetry);
}

fn tracing_span(c: &mut Criterion) {
    let mut group = c.benchmark_group("tracing_span");
    let telemetry = spanforge_pipeline();
    let subscriber = tracing_subscriber::registry().with(telemetry.tracing_layer());
    tracing::subscriber::with_default(subscriber, || {
        group.bench_function("spanforge_pipeline", |b| {
            b.iter(|| {
                let span =
                    tracing::info_span!("render_prompt", prompt.name = "greet", prompt.version = 3);
                drop(black_box(span.enter()));
            })
        });
    });

    // spanforge's provider and queue behind a bare tracing-opentelemetry layer: separates the
    // cost of the layer configuration from that of the provider.
    let provider = telemetry.tracer_provider().expect("traces on").clone();
    let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("bench"));
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        group.bench_function("tracing_opentelemetry_spanforge_queue", |b| {
            b.iter(|| {
                let span =
                    tracing::info_span!("render_prompt", prompt.name = "greet", prompt.version = 3);
                drop(black_box(span.enter()));
            })
        });
    });

    let sdk = sdk_batch_provider();
    let layer = tracing_opentelemetry::layer().with_tracer(sdk.tracer("bench"));
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        group.bench_function("tracing_opentelemetry_sdk_batch", |b| {
            b.iter(|| {
                let span =
                    tracing::info_span!("render_prompt", prompt.name = "greet", prompt.version = 3);
                drop(black_box(span.enter()));
            })
        });
    });

    let subscriber = tracing_subscriber::registry();
    tracing::subscriber::with_default(subscriber, || {
        group.bench_function("registry_only_no_export", |b| {
            b.iter(|| {
                let span =
                    tracing::info_span!("render_prompt", prompt.name = "greet", prompt.version = 3);
                drop(black_box(span.enter()));
            })
        });
    });
    group.finish();
    let _ = sdk.shutdown();
    drop(telemetry);
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(4)).warm_up_time(Duration::from_secs(1));
    targets = otel_api_span, tracing_span
}
criterion_main!(benches);

//! Per-request overhead of HTTP server instrumentation, in-process (`tower::Service` calls,
//! no network), against the peer crates in the same run with the same exporter.
//!
//! Run with `cargo bench -p spanforge --features axum --bench http_server`.
//!
//! Every variant serves the same axum router; spans go to one discarding exporter through
//! spanforge's pipeline, metrics aggregate in the same meter provider.

use std::hint::black_box;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use criterion::{Criterion, criterion_group, criterion_main};
use http_body_util::BodyExt;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use spanforge::{BatchSettings, Config, ExporterKind, LogFormat};
use tower::ServiceExt;

#[derive(Debug)]
struct Discard;

impl SpanExporter for Discard {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        black_box(batch);
        Ok(())
    }
}

fn routes() -> Router {
    Router::new().route("/prompts/{name}", get(|| async { "ok" }))
}

fn request() -> http::Request<Body> {
    http::Request::get("/prompts/greet?variant=b")
        .header("host", "api.example.com:8000")
        .header("user-agent", "bench/1.0")
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .body(Body::empty())
        .unwrap()
}

fn bench(c: &mut Criterion) {
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_port = dead.local_addr().unwrap().port();
    drop(dead);
    let telemetry = spanforge::init(
        Config::default()
            .with_log_format(LogFormat::None)
            .with_log_filter("trace")
            .with_traces_exporter(ExporterKind::None)
            .with_logs_exporter(ExporterKind::None)
            // Metrics aggregate in memory; the (unreachable) export happens once a minute.
            .with_otlp_endpoint(format!("http://127.0.0.1:{dead_port}"))
            .with_metric_export_interval(Duration::from_secs(60))
            .with_span_batch(BatchSettings {
                max_queue_size: 1 << 16,
                max_export_batch_size: 512,
                scheduled_delay: Duration::from_millis(200),
                export_timeout: Duration::from_secs(30),
            })
            .with_span_exporter("discard", Discard),
    )
    .expect("pipeline");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("http_server_request");
    let variants: Vec<(&str, Router)> = vec![
        ("no_instrumentation", routes()),
        (
            "spanforge_server_layer",
            routes().layer(spanforge::http::ServerLayer::default()),
        ),
        (
            "axum_tracing_opentelemetry_0_42",
            routes().layer(axum_tracing_opentelemetry::middleware::OtelAxumLayer::default()),
        ),
        (
            "opentelemetry_instrumentation_tower_0_19",
            routes().layer(opentelemetry_instrumentation_tower::http::server::Layer::new()),
        ),
    ];
    for (name, app) in variants {
        group.bench_function(name, |b| {
            b.iter(|| {
                runtime.block_on(async {
                    let response = app.clone().oneshot(request()).await.unwrap();
                    assert_eq!(response.status(), 200);
                    black_box(response.into_body().collect().await.unwrap());
                })
            })
        });
    }
    group.finish();
    let stats = telemetry.stats();
    let discard = stats.exporter("discard", "traces").unwrap();
    assert_eq!(
        discard.dropped, 0,
        "the queue never overflowed: {discard:?}"
    );
    drop(telemetry);
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(5)).warm_up_time(Duration::from_secs(1));
    targets = bench
}
criterion_main!(benches);

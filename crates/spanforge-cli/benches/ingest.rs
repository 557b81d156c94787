//! `spanforge serve`: ingest throughput over OTLP/HTTP, and the JSON API's latency with
//! 100,000 stored spans (what each UI page waits for).
//!
//! `cargo bench -p spanforge-cli --bench ingest`

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message as _;
use spanforge_cli::serve::{ServeConfig, Server};
use spanforge_cli::store::Retention;

/// Spans per export request (the SDKs' default batch is 512).
const SPANS_PER_REQUEST: u64 = 500;
/// Requests in flight at once, as from a few services exporting together.
const CONCURRENT_SENDERS: usize = 4;
/// Spans stored before the API is measured.
const STORED_SPANS: u64 = 100_000;

static NEXT_TRACE: AtomicU64 = AtomicU64::new(1);

fn kv(key: &str, value: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(value) }),
        ..KeyValue::default()
    }
}

fn s(key: &str, value: &str) -> KeyValue {
    kv(key, any_value::Value::StringValue(value.to_owned()))
}

fn i(key: &str, value: i64) -> KeyValue {
    kv(key, any_value::Value::IntValue(value))
}

/// A request of traces shaped like the llm_service's: a server span, a DB span, an LLM call,
/// a DB span and an internal span, with realistic attributes.
fn request(spans: u64, now_ns: u64) -> ExportTraceServiceRequest {
    let mut out = Vec::with_capacity(spans as usize);
    while (out.len() as u64) < spans {
        let trace = NEXT_TRACE.fetch_add(1, Ordering::Relaxed);
        let mut trace_id = 0xfeed_u64.to_be_bytes().to_vec();
        trace_id.extend_from_slice(&trace.to_be_bytes());
        let start = now_ns - (trace % 3_600) * 1_000_000_000;
        let prompt = ["greet", "summarize", "classify", "translate"][(trace % 4) as usize];
        for n in 0..5u64 {
            let mut span = Span {
                trace_id: trace_id.clone(),
                span_id: ((trace << 8) | (n + 1)).to_be_bytes().to_vec(),
                parent_span_id: if n == 0 {
                    Vec::new()
                } else {
                    ((trace << 8) | 1).to_be_bytes().to_vec()
                },
                start_time_unix_nano: start + n * 1_000_000,
                end_time_unix_nano: start + n * 1_000_000 + 800_000 + (trace % 97) * 10_000,
                ..Span::default()
            };
            match n {
                0 => {
                    span.name = "POST /prompts/{name}/run".into();
                    span.kind = 2;
                    span.attributes = vec![
                        s("http.request.method", "POST"),
                        s("http.route", "/prompts/{name}/run"),
                        i(
                            "http.response.status_code",
                            if trace.is_multiple_of(50) { 500 } else { 200 },
                        ),
                        s("url.path", &format!("/prompts/{prompt}/run")),
                        s("url.scheme", "http"),
                        s("user_agent.original", "bench/1.0"),
                    ];
                }
                2 => {
                    span.name = "chat gpt-4o-mini".into();
                    span.kind = 3;
                    span.attributes = vec![
                        s("gen_ai.operation.name", "chat"),
                        s("gen_ai.provider.name", "openai"),
                        s("gen_ai.request.model", "gpt-4o-mini"),
                        s("gen_ai.response.model", "gpt-4o-mini-2024-07-18"),
                        s("gen_ai.prompt.name", prompt),
                        i("gen_ai.prompt.version", (trace % 3) as i64 + 1),
                        i("gen_ai.usage.input_tokens", 400 + (trace % 500) as i64),
                        i("gen_ai.usage.output_tokens", 20 + (trace % 80) as i64),
                        kv("gen_ai.usage.cost", any_value::Value::DoubleValue(0.00012)),
                    ];
                }
                1 | 3 => {
                    span.name = "SELECT prompts".into();
                    span.kind = 3;
                    span.attributes = vec![
                        s("db.system.name", "sqlite"),
                        s("db.operation.name", "SELECT"),
                        s("db.collection.name", "prompts"),
                        s(
                            "db.query.text",
                            "SELECT id, template FROM prompts WHERE name = ? ORDER BY version DESC LIMIT ?",
                        ),
                    ];
                }
                _ => {
                    span.name = "render_template".into();
                    span.kind = 1;
                }
            }
            out.push(span);
        }
    }
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![
                    s("service.name", "llm_service"),
                    s("service.version", "1.0.0"),
                ],
                ..Resource::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans: out,
                ..ScopeSpans::default()
            }],
            ..ResourceSpans::default()
        }],
    }
}

fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

struct Bench {
    runtime: tokio::runtime::Runtime,
    server: Server,
    client: reqwest::Client,
    _dir: std::path::PathBuf,
}

fn start() -> Bench {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    static STARTS: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "spanforge-bench-{}-{}",
        std::process::id(),
        STARTS.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut config = ServeConfig::loopback(dir.join("bench.db"));
    config.retention = Retention {
        max_age: None,
        max_bytes: None,
    };
    let server = runtime.block_on(Server::start(config)).unwrap();
    Bench {
        runtime,
        server,
        client: reqwest::Client::new(),
        _dir: dir,
    }
}

impl Bench {
    /// Sends `bodies` with `CONCURRENT_SENDERS` requests in flight.
    fn send_all(&self, bodies: Vec<Vec<u8>>) -> Duration {
        let url = format!("http://{}/v1/traces", self.server.http_addr());
        self.runtime.block_on(async {
            let started = Instant::now();
            let chunks: Vec<Vec<Vec<u8>>> = {
                let mut chunks = vec![Vec::new(); CONCURRENT_SENDERS];
                for (n, body) in bodies.into_iter().enumerate() {
                    chunks[n % CONCURRENT_SENDERS].push(body);
                }
                chunks
            };
            let mut tasks = Vec::new();
            for chunk in chunks {
                let client = self.client.clone();
                let url = url.clone();
                tasks.push(tokio::spawn(async move {
                    for body in chunk {
                        let response = client
                            .post(&url)
                            .header("content-type", "application/x-protobuf")
                            .body(body)
                            .send()
                            .await
                            .unwrap();
                        assert_eq!(response.status(), 200);
                    }
                }));
            }
            for task in tasks {
                task.await.unwrap();
            }
            started.elapsed()
        })
    }

    fn get(&self, path: &str) {
        let url = format!("http://{}{path}", self.server.ui_addr());
        self.runtime.block_on(async {
            let response = self.client.get(&url).send().await.unwrap();
            assert_eq!(response.status(), 200, "{path}");
            response.bytes().await.unwrap();
        });
    }
}

fn ingest(c: &mut Criterion) {
    let bench = start();
    let mut group = c.benchmark_group("serve_ingest");
    let requests_per_iteration = 8u64;
    group.throughput(Throughput::Elements(
        SPANS_PER_REQUEST * requests_per_iteration,
    ));
    group.sample_size(20);
    group.bench_function("otlp_http_protobuf_500_span_requests_x8", |b| {
        b.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                let now = now_ns();
                let bodies = (0..requests_per_iteration)
                    .map(|_| request(SPANS_PER_REQUEST, now).encode_to_vec())
                    .collect();
                total += bench.send_all(bodies);
            }
            total
        })
    });
    group.finish();
}

fn api(c: &mut Criterion) {
    let bench = start();
    let now = now_ns();
    let bodies: Vec<Vec<u8>> = (0..STORED_SPANS / SPANS_PER_REQUEST)
        .map(|_| request(SPANS_PER_REQUEST, now).encode_to_vec())
        .collect();
    bench.send_all(bodies);
    let trace_id = bench.runtime.block_on(async {
        let list = bench
            .server
            .store()
            .traces(&spanforge_cli::store::TraceFilter {
                limit: 1,
                ..Default::default()
            })
            .await
            .unwrap();
        list.traces[0].trace_id.clone()
    });
    let mut group = c.benchmark_group("serve_api_100k_spans");
    group.sample_size(20);
    for (name, path) in [
        ("traces_page", "/api/traces?limit=50".to_owned()),
        (
            "traces_filtered",
            "/api/traces?llm=true&status=error&min_ms=1&limit=50".to_owned(),
        ),
        ("trace_waterfall", format!("/api/traces/{trace_id}")),
        ("llm_by_prompt_all_time", "/api/llm?group=prompt".to_owned()),
        (
            "llm_by_model_24h",
            "/api/llm?group=model&since=24h".to_owned(),
        ),
        ("llm_by_route", "/api/llm?group=route".to_owned()),
        ("services_all_time", "/api/services".to_owned()),
        ("meta", "/api/meta".to_owned()),
    ] {
        group.bench_function(name, |b| b.iter(|| bench.get(&path)));
    }
    group.finish();
}

criterion_group!(benches, ingest, api);
criterion_main!(benches);

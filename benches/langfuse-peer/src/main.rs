//! Generations per second and CPU per 1,000 generations exported to an OTLP/HTTP receiver on
//! loopback: spanforge-langfuse (Langfuse attribute mapping and GenAI filtering included)
//! against opentelemetry-langfuse (a plain OTLP exporter), same spans, same receiver, same
//! run.
//!
//! The peer runs twice: on the plain GenAI spans (it then sends 13 attributes per span where
//! spanforge-langfuse sends 20), and on spans that already carry the `langfuse.*` attributes
//! spanforge-langfuse adds, set by hand as a user of a plain exporter would have to, so that
//! both encode and send the same data. A check at start-up asserts that Langfuse (the test
//! kit's fake) receives identical spans from spanforge-langfuse and from the peer in that
//! second setup.
//!
//! The receiver stands for Langfuse, which decodes on another machine: it reads each request
//! and counts its spans by walking the protobuf framing (request, resource spans, scope
//! spans, spans), checking every length, without decoding the spans (`--decode`: a full
//! prost decode instead). It runs on a thread of its own, whose CPU is reported apart, so
//! that the exporter's own CPU can be read.
//!
//! Run with `cargo run --release --manifest-path benches/langfuse-peer/Cargo.toml`
//! (options: `--decode`, `--only N`).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanExporter, SpanLinks};
use prost::Message;
use spanforge_langfuse::{LangfuseConfig, LangfuseExporter};
use spanforge_testkit::langfuse::FakeLangfuse;

const BATCH: usize = 1_000;
const BATCHES: usize = 30;
const ROUNDS: usize = 5;

fn generation(i: usize) -> SpanData {
    let trace = TraceId::from_bytes(((i as u128 + 1) * 0x9e37_79b9_7f4a_7c15).to_be_bytes());
    let span = SpanId::from_bytes(((i as u64 + 1) * 0x2545_f491_4f6c_dd1d).to_be_bytes());
    // Deterministic times, so that the spans built twice are equal.
    static NOW: OnceLock<SystemTime> = OnceLock::new();
    let end = *NOW.get_or_init(SystemTime::now) + Duration::from_micros(i as u64);
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

/// The same generation carrying, set by hand, the `langfuse.*` attributes spanforge-langfuse
/// derives from it (checked at start-up against what spanforge-langfuse sends).
fn premapped(i: usize) -> SpanData {
    let mut span = generation(i);
    let first_chunk = span.start_time + Duration::from_secs_f64(0.21);
    span.attributes.extend([
        KeyValue::new("langfuse.observation.type", "generation"),
        KeyValue::new("langfuse.observation.prompt.name", "greet"),
        KeyValue::new("langfuse.observation.prompt.version", 3_i64),
        KeyValue::new(
            "langfuse.observation.completion_start_time",
            iso8601(first_chunk),
        ),
        KeyValue::new(
            "langfuse.observation.usage_details",
            r#"{"input":800,"input_cached_tokens":400,"output":180,"total":1380}"#,
        ),
        KeyValue::new("langfuse.observation.cost_details", r#"{"total":0.000288}"#),
        KeyValue::new("langfuse.trace.name", "chat gpt-4o-mini"),
    ]);
    span
}

/// `2026-11-28T17:40:00.123456Z`.
fn iso8601(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Days to civil date (Hinnant).
    let z = days + 719_468;
    let (era, doe) = (z.div_euclid(146_097), z.rem_euclid(146_097));
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
        d.subsec_micros()
    )
}

/// Process CPU time, all threads (exited ones included).
fn process_cpu() -> Duration {
    // SAFETY: getrusage only writes the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// CPU time of one thread of this process, from its schedstat (nanoseconds).
fn thread_cpu(tid: &str) -> Duration {
    let text =
        std::fs::read_to_string(format!("/proc/self/task/{tid}/schedstat")).unwrap_or_default();
    let nanos = text
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    Duration::from_nanos(nanos)
}

/// Reads a varint; the value and the rest.
fn varint(buf: &[u8]) -> Option<(u64, &[u8])> {
    let mut value = 0u64;
    for (i, &b) in buf.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b < 0x80 {
            return Some((value, &buf[i + 1..]));
        }
    }
    None
}

/// The length-delimited fields numbered `field` of a message, `None` if its framing is
/// broken.
fn submessages(mut buf: &[u8], field: u64) -> Option<Vec<&[u8]>> {
    let mut out = Vec::new();
    while !buf.is_empty() {
        let (key, rest) = varint(buf)?;
        buf = match key & 7 {
            0 => varint(rest)?.1,
            1 => rest.get(8..)?,
            2 => {
                let (len, rest) = varint(rest)?;
                let len = usize::try_from(len).ok()?;
                if key >> 3 == field {
                    out.push(rest.get(..len)?);
                }
                rest.get(len..)?
            }
            5 => rest.get(4..)?,
            _ => return None,
        };
    }
    Some(out)
}

/// The number of spans of an `ExportTraceServiceRequest`, from its framing.
fn count_spans(body: &[u8]) -> Option<usize> {
    let mut spans = 0;
    for resource_spans in submessages(body, 1)? {
        for scope_spans in submessages(resource_spans, 2)? {
            spans += submessages(scope_spans, 2)?.len();
        }
    }
    Some(spans)
}

/// A full decode, as a collector does.
fn decode_spans(body: &[u8]) -> Option<usize> {
    let request = ExportTraceServiceRequest::decode(body).ok()?;
    Some(
        request
            .resource_spans
            .iter()
            .flat_map(|rs| &rs.scope_spans)
            .map(|ss| ss.spans.len())
            .sum(),
    )
}

/// An OTLP/HTTP traces receiver on loopback, on a thread and runtime of its own: counts
/// the spans of every request.
struct Receiver {
    addr: SocketAddr,
    tid: String,
    spans: Arc<AtomicU64>,
}

impl Receiver {
    fn start(decode: bool) -> Receiver {
        let spans = Arc::new(AtomicU64::new(0));
        let counter = spans.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("receiver".into())
            .spawn(move || {
                let tid = std::fs::read_link("/proc/thread-self")
                    .ok()
                    .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                    .unwrap_or_default();
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                        .await
                        .expect("bind");
                    tx.send((listener.local_addr().expect("addr"), tid))
                        .expect("send");
                    loop {
                        let Ok((stream, _)) = listener.accept().await else {
                            continue;
                        };
                        let counter = counter.clone();
                        tokio::spawn(async move {
                            let service = service_fn(move |req: Request<hyper::body::Incoming>| {
                                let counter = counter.clone();
                                async move {
                                    let body = req
                                        .into_body()
                                        .collect()
                                        .await
                                        .map(|b| b.to_bytes())
                                        .unwrap_or_default();
                                    let n = if decode {
                                        decode_spans(&body)
                                    } else {
                                        count_spans(&body)
                                    }
                                    .unwrap_or(0);
                                    counter.fetch_add(n as u64, Ordering::Relaxed);
                                    let mut response = Response::new(Full::new(Bytes::new()));
                                    response.headers_mut().insert(
                                        "content-type",
                                        "application/x-protobuf".parse().expect("header"),
                                    );
                                    Ok::<_, Infallible>(response)
                                }
                            });
                            let _ = http1::Builder::new()
                                .serve_connection(TokioIo::new(stream), service)
                                .await;
                        });
                    }
                });
            })
            .expect("receiver thread");
        let (addr, tid) = rx.recv().expect("receiver started");
        Receiver { addr, tid, spans }
    }

    fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

fn ours(base_url: &str) -> LangfuseExporter {
    LangfuseExporter::new(
        LangfuseConfig::builder("pk-lf-bench", "sk-lf-bench")
            .base_url(base_url)
            .build()
            .expect("config"),
    )
    .expect("spanforge-langfuse exporter")
}

fn peer(base_url: &str) -> impl SpanExporter + use<> {
    opentelemetry_langfuse::ExporterBuilder::new()
        .with_host(base_url)
        .with_basic_auth("pk-lf-bench", "sk-lf-bench")
        .build()
        .expect("opentelemetry-langfuse exporter")
}

/// Both exporters must put the same spans in Langfuse when the peer is given the
/// `langfuse.*` attributes by hand.
async fn check_same_data() {
    let sample: Vec<usize> = (0..50).collect();
    let received = |exporter_spans: Vec<SpanData>, ours_too: bool| async move {
        let fake = FakeLangfuse::start().expect("fake Langfuse");
        if ours_too {
            ours(&fake.base_url())
                .export(exporter_spans)
                .await
                .expect("export");
        } else {
            peer(&fake.base_url())
                .export(exporter_spans)
                .await
                .expect("export");
        }
        fake.accepted_spans()
    };
    let from_ours = received(sample.iter().map(|&i| generation(i)).collect(), true).await;
    let from_peer = received(sample.iter().map(|&i| premapped(i)).collect(), false).await;
    let from_plain = received(sample.iter().map(|&i| generation(i)).collect(), false).await;
    assert_eq!(from_ours.len(), sample.len());
    if let Some((a, b)) = from_ours.iter().zip(&from_peer).find(|(a, b)| a != b) {
        panic!("the peer's pre-mapped spans differ from ours:\n{a:?}\n{b:?}");
    }
    assert_eq!(from_ours.len(), from_peer.len());
    println!(
        "attributes per generation sent: spanforge-langfuse {}, peer on plain spans {}, peer on pre-mapped spans {} (identical spans checked)",
        from_ours[0].attributes.len(),
        from_plain[0].attributes.len(),
        from_peer[0].attributes.len(),
    );
}

struct Sample {
    rate: f64,
    cpu: f64,
    exporter_cpu: f64,
}

async fn run<E: SpanExporter>(
    exporter: &E,
    batches: &[Vec<SpanData>],
    receiver: &Receiver,
) -> Sample {
    // The copies are made before the clock starts: the exporter gets owned batches, as
    // from the SDK's batch processor.
    let copies: Vec<Vec<SpanData>> = batches.to_vec();
    let received_before = receiver.spans.load(Ordering::Relaxed);
    let receiver_before = thread_cpu(&receiver.tid);
    let cpu_before = process_cpu();
    let wall = Instant::now();
    for batch in copies {
        exporter.export(batch).await.expect("export");
    }
    let seconds = wall.elapsed().as_secs_f64();
    let cpu = (process_cpu() - cpu_before).as_secs_f64() * 1000.0;
    let receiver_cpu = (thread_cpu(&receiver.tid) - receiver_before).as_secs_f64() * 1000.0;
    let generations = batches.iter().map(Vec::len).sum::<usize>();
    assert_eq!(
        receiver.spans.load(Ordering::Relaxed) - received_before,
        generations as u64,
        "every span must reach the receiver"
    );
    let thousands = generations as f64 / 1000.0;
    Sample {
        rate: generations as f64 / seconds,
        cpu: cpu / thousands,
        exporter_cpu: (cpu - receiver_cpu) / thousands,
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[tokio::main]
async fn main() {
    check_same_data().await;

    let args: Vec<String> = std::env::args().collect();
    let decode = args.iter().any(|a| a == "--decode");
    let receiver = Receiver::start(decode);
    let plain: Vec<Vec<SpanData>> = (0..BATCHES)
        .map(|b| (0..BATCH).map(|i| generation(b * BATCH + i)).collect())
        .collect();
    let mapped: Vec<Vec<SpanData>> = (0..BATCHES)
        .map(|b| (0..BATCH).map(|i| premapped(b * BATCH + i)).collect())
        .collect();

    let ours = ours(&receiver.base_url());
    let peer = peer(&receiver.base_url());
    const NAMES: [&str; 3] = [
        "spanforge-langfuse",
        "opentelemetry-langfuse",
        "opentelemetry-langfuse, pre-mapped spans",
    ];
    let run_one = async |which: usize| match which {
        0 => run(&ours, &plain, &receiver).await,
        1 => run(&peer, &plain, &receiver).await,
        _ => run(&peer, &mapped, &receiver).await,
    };

    // Warm up (connections, allocator).
    for which in 0..3 {
        let warm = match which {
            2 => &mapped[..2],
            _ => &plain[..2],
        };
        match which {
            0 => run(&ours, warm, &receiver).await,
            _ => run(&peer, warm, &receiver).await,
        };
    }

    println!(
        "{BATCHES} batches of {BATCH} generations per run; receiver on loopback ({})",
        if decode {
            "decodes every request"
        } else {
            "counts spans from the framing"
        }
    );
    println!(
        "round  exporter                                  generations/s  CPU ms/1,000  of which exporter side"
    );
    // `--only N` (0 ours, 1 the peer, 2 the peer on pre-mapped spans), e.g. for a profile.
    let only: Option<usize> = args
        .iter()
        .skip_while(|a| *a != "--only")
        .nth(1)
        .and_then(|v| v.parse().ok());
    let mut samples: [Vec<Sample>; 3] = Default::default();
    for round in 1..=ROUNDS {
        // Rotate the order, so that none always runs first.
        for k in 0..3 {
            let which = (k + round) % 3;
            if only.is_some_and(|o| o != which) {
                continue;
            }
            let s = run_one(which).await;
            println!(
                "{round:>5}  {:<40}  {:>13.0}  {:>12.1}  {:>22.1}",
                NAMES[which], s.rate, s.cpu, s.exporter_cpu
            );
            samples[which].push(s);
        }
    }
    if only.is_some() {
        return;
    }
    println!("medians over {ROUNDS} rounds:");
    let medians: Vec<(f64, f64, f64)> = samples
        .iter()
        .map(|s| {
            (
                median(s.iter().map(|x| x.rate).collect()),
                median(s.iter().map(|x| x.cpu).collect()),
                median(s.iter().map(|x| x.exporter_cpu).collect()),
            )
        })
        .collect();
    for (which, (rate, cpu, exporter_cpu)) in medians.iter().enumerate() {
        println!(
            "       {:<40}  {rate:>13.0}  {cpu:>12.1}  {exporter_cpu:>22.1}",
            NAMES[which]
        );
    }
    for peer in [1, 2] {
        let name = NAMES[peer];
        println!(
            "spanforge-langfuse / {name}: {:.2}x throughput, {:.2}x CPU, {:.2}x exporter-side CPU",
            medians[0].0 / medians[peer].0,
            medians[0].1 / medians[peer].1,
            medians[0].2 / medians[peer].2,
        );
    }
}

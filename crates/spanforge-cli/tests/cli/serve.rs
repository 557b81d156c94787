//! `spanforge serve`'s ingest: both protocols, every encoding, bad input, duplicates, retention.

use std::io::Write as _;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_client::LogsServiceClient;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, metric, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message as _;
use spanforge_cli::serve::{ServeConfig, Server};
use spanforge_cli::store::Retention;

use crate::support::*;

async fn post(
    url: String,
    content_type: &str,
    encoding: Option<&str>,
    body: Vec<u8>,
) -> (u16, String) {
    let mut request = reqwest::Client::new()
        .post(url)
        .header("content-type", content_type)
        .body(body);
    if let Some(encoding) = encoding {
        request = request.header("content-encoding", encoding);
    }
    let response = request.send().await.expect("answers");
    let status = response.status().as_u16();
    (
        status,
        String::from_utf8_lossy(&response.bytes().await.unwrap()).into_owned(),
    )
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

async fn trace_count(backend: &Backend) -> usize {
    backend.api("/api/traces?limit=1000").await["traces"]
        .as_array()
        .unwrap()
        .len()
}

#[tokio::test]
async fn ingests_http_protobuf_json_gzip_and_grpc() {
    let backend = backend().await;
    let now = now_ns();
    let traces_url = format!("{}/v1/traces", backend.otlp_http_url());

    // 1. OTLP/HTTP protobuf.
    let (status, _) = post(
        traces_url.clone(),
        "application/x-protobuf",
        None,
        export("svc-proto", vec![span(1, 1, None, "proto", now, 5)]).encode_to_vec(),
    )
    .await;
    assert_eq!(status, 200);

    // 2. OTLP/HTTP JSON, as the collector writes it (hex ids, enum names), gzipped.
    let json = format!(
        r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"svc-json"}}}}]}},
        "scopeSpans":[{{"spans":[{{"traceId":"{}","spanId":"{}","name":"json","kind":"SPAN_KIND_SERVER",
        "startTimeUnixNano":"{now}","endTimeUnixNano":"{}","attributes":[{{"key":"http.route","value":{{"stringValue":"/json"}}}}]}}]}}]}}]}}"#,
        trace_hex(2),
        span_hex(1),
        now + 7_000_000
    );
    let (status, body) = post(
        traces_url.clone(),
        "application/json",
        Some("gzip"),
        gzip(json.as_bytes()),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, "{}");

    // 3. OTLP/gRPC, gzip-compressed.
    let mut client = TraceServiceClient::connect(backend.otlp_grpc_url())
        .await
        .expect("gRPC connects")
        .send_compressed(tonic::codec::CompressionEncoding::Gzip);
    client
        .export(export("svc-grpc", vec![span(3, 1, None, "grpc", now, 9)]))
        .await
        .expect("gRPC export accepted");

    let list = backend.api("/api/traces").await;
    let mut services: Vec<String> = list["traces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["service"].as_str().unwrap().to_owned())
        .collect();
    services.sort();
    assert_eq!(services, ["svc-grpc", "svc-json", "svc-proto"]);
    let json_trace = backend.api(&format!("/api/traces/{}", trace_hex(2))).await;
    assert_eq!(json_trace["spans"][0]["kind"], "server");
    assert_eq!(json_trace["spans"][0]["attributes"]["http.route"], "/json");
    assert_eq!(json_trace["duration_ms"], 7.0);
}

#[tokio::test]
async fn malformed_requests_get_400_with_a_reason_and_store_nothing() {
    let backend = backend().await;
    let now = now_ns();
    let traces_url = format!("{}/v1/traces", backend.otlp_http_url());

    // A good span followed by one with a 3-byte trace id: the whole request is refused.
    let mut bad = span(10, 2, None, "bad", now, 1);
    bad.trace_id = vec![1, 2, 3];
    let request = export("svc", vec![span(10, 1, None, "good", now, 1), bad]);
    let (status, body) = post(
        traces_url.clone(),
        "application/x-protobuf",
        None,
        request.encode_to_vec(),
    )
    .await;
    assert_eq!(status, 400);
    assert!(body.contains("traceId is 3 bytes"), "{body}");

    let cases: Vec<(&str, Option<&str>, Vec<u8>, &str)> = vec![
        (
            "application/x-protobuf",
            None,
            vec![0xff, 0xff, 0xff],
            "400",
        ),
        (
            "application/json",
            None,
            b"{\"resourceSpans\": [".to_vec(),
            "400",
        ),
        (
            "application/json",
            Some("gzip"),
            b"not gzip".to_vec(),
            "400",
        ),
        ("text/plain", None, b"hello".to_vec(), "415"),
        ("application/json", Some("br"), b"{}".to_vec(), "415"),
    ];
    for (content_type, encoding, body, expected) in cases {
        let (status, reason) = post(traces_url.clone(), content_type, encoding, body).await;
        assert_eq!(
            status.to_string(),
            expected,
            "{content_type} {encoding:?}: {reason}"
        );
        assert!(!reason.is_empty(), "a reason is given");
    }

    // gRPC: the same bad ids are INVALID_ARGUMENT.
    let mut bad = span(11, 1, None, "bad", now, 1);
    bad.span_id = vec![9];
    let status = TraceServiceClient::connect(backend.otlp_grpc_url())
        .await
        .unwrap()
        .export(export("svc", vec![bad]))
        .await
        .expect_err("refused");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert!(
        status.message().contains("spanId is 1 bytes"),
        "{}",
        status.message()
    );

    // Nothing was stored, and the server still works.
    assert_eq!(trace_count(&backend).await, 0);
    backend
        .send(&export("svc", vec![span(12, 1, None, "after", now, 1)]))
        .await;
    assert_eq!(trace_count(&backend).await, 1);
}

#[tokio::test]
async fn a_retried_export_is_stored_once() {
    let backend = backend().await;
    let now = now_ns();
    let request = export(
        "svc",
        vec![
            span(20, 1, None, "root", now, 10),
            llm_span(
                20,
                2,
                Some(1),
                now,
                5,
                ("openai", "gpt-4o-mini"),
                ("greet", 1),
                (100, 10, 0),
                0.25,
            ),
        ],
    );
    backend.send(&request).await;
    backend.send(&request).await;
    let list = backend.api("/api/traces").await;
    let trace = &list["traces"][0];
    assert_eq!(trace["span_count"], 2);
    assert_eq!(trace["llm_calls"], 1);
    assert_eq!(trace["cost_usd"], 0.25);
    let llm = backend.api("/api/llm?group=prompt").await;
    assert_eq!(llm["totals"]["calls"], 1);
}

#[tokio::test]
async fn logs_and_metrics_are_stored_and_logs_join_their_trace() {
    let backend = backend().await;
    let now = now_ns();
    backend
        .send(&export("svc", vec![span(30, 1, None, "root", now, 10)]))
        .await;
    let resource = Some(Resource {
        attributes: vec![string("service.name", "svc")],
        ..Resource::default()
    });
    let logs = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: resource.clone(),
            scope_logs: vec![ScopeLogs {
                log_records: vec![LogRecord {
                    time_unix_nano: now + 2_000_000,
                    severity_number: 17,
                    body: Some(opentelemetry_proto::tonic::common::v1::AnyValue {
                        value: Some(
                            opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(
                                "the model timed out".into(),
                            ),
                        ),
                    }),
                    trace_id: trace_id(30),
                    span_id: span_id(1),
                    ..LogRecord::default()
                }],
                ..ScopeLogs::default()
            }],
            ..ResourceLogs::default()
        }],
    };
    LogsServiceClient::connect(backend.otlp_grpc_url())
        .await
        .unwrap()
        .export(logs)
        .await
        .expect("logs accepted");
    let metrics = ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource,
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![Metric {
                    name: "queue.depth".into(),
                    data: Some(metric::Data::Gauge(Gauge {
                        data_points: vec![NumberDataPoint {
                            time_unix_nano: now,
                            value: Some(number_data_point::Value::AsInt(7)),
                            ..NumberDataPoint::default()
                        }],
                    })),
                    ..Metric::default()
                }],
                ..ScopeMetrics::default()
            }],
            ..ResourceMetrics::default()
        }],
    };
    let (status, body) = post(
        format!("{}/v1/metrics", backend.otlp_http_url()),
        "application/x-protobuf",
        None,
        metrics.encode_to_vec(),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    let trace = backend.api(&format!("/api/traces/{}", trace_hex(30))).await;
    let log = &trace["logs"][0];
    assert_eq!(log["body"], "the model timed out");
    assert_eq!(log["severity"], "ERROR");
    assert_eq!(log["span_id"], span_hex(1));
    assert_eq!(log["offset_ms"], 2.0);

    let conn = libsql::Builder::new_local(backend.db_path())
        .build()
        .await
        .unwrap()
        .connect()
        .unwrap();
    let mut rows = conn
        .query("SELECT name, value FROM metric_points", ())
        .await
        .unwrap();
    let row = rows.next().await.unwrap().expect("one point");
    assert_eq!(row.get::<String>(0).unwrap(), "queue.depth");
    assert_eq!(row.get::<f64>(1).unwrap(), 7.0);
}

#[tokio::test]
async fn retention_deletes_old_traces_and_keeps_new_ones() {
    let backend = backend().await;
    let now = now_ns();
    let day_ns = 86_400_000_000_000;
    backend
        .send(&export(
            "svc",
            vec![
                span(40, 1, None, "ten days old", now - 10 * day_ns, 1),
                span(41, 1, None, "fresh", now, 1),
            ],
        ))
        .await;
    let report = backend
        .server
        .store()
        .enforce(Retention {
            max_age: Some(Duration::from_secs(7 * 86_400)),
            max_bytes: None,
        })
        .await
        .unwrap();
    assert_eq!((report.traces, report.spans), (1, 1));
    let list = backend.api("/api/traces").await;
    assert_eq!(list["traces"].as_array().unwrap().len(), 1);
    assert_eq!(list["traces"][0]["name"], "fresh");
}

#[tokio::test]
async fn retention_by_size_deletes_the_oldest_traces_first() {
    let backend = backend().await;
    let now = now_ns();
    // 40 traces with a 20 KB attribute each: about 800 KB.
    for n in 0..40u64 {
        let mut root = span(100 + n, 1, None, &format!("trace {n}"), now + n * 1_000, 1);
        root.attributes = vec![string("payload", &"x".repeat(20_000))];
        backend.send(&export("svc", vec![root])).await;
    }
    let report = backend
        .server
        .store()
        .enforce(Retention {
            max_age: None,
            max_bytes: Some(400_000),
        })
        .await
        .unwrap();
    assert!(report.bytes_in_use <= 400_000, "{report:?}");
    assert!(report.traces > 0 && report.traces < 40, "{report:?}");
    let names: Vec<String> = backend.api("/api/traces?limit=100").await["traces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect();
    // Newest first, and what is left is the newest ones.
    assert_eq!(names.len() as u64, 40 - report.traces);
    assert_eq!(names[0], "trace 39");
}

#[tokio::test]
async fn a_port_in_use_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dir = TempDir::new("bind");
    let mut config = ServeConfig::loopback(dir.path("spanforge.db"));
    config.http = taken.local_addr().unwrap();
    let error = Server::start(config).await.expect_err("port taken");
    let message = error.to_string();
    assert!(message.contains("OTLP/HTTP"), "{message}");
    assert!(
        message.contains(&taken.local_addr().unwrap().to_string()),
        "{message}"
    );
}

#[tokio::test]
async fn a_store_of_another_schema_version_is_refused() {
    let dir = TempDir::new("schema");
    let path = dir.path("old.db");
    {
        let conn = libsql::Builder::new_local(&path)
            .build()
            .await
            .unwrap()
            .connect()
            .unwrap();
        conn.execute_batch(
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             INSERT INTO meta VALUES ('schema_version', '99');",
        )
        .await
        .unwrap();
    }
    let error = spanforge_cli::store::Store::open(&path)
        .await
        .expect_err("refused");
    assert!(error.to_string().contains("schema version 99"), "{error}");
}

//! The OTLP receiver against real OTLP clients: the generated tonic clients for gRPC, and a
//! plain HTTP client sending protobuf, OTLP/JSON and gzip.

use std::io::Write as _;
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::logs::v1::logs_service_client::LogsServiceClient;
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList, any_value,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum, metric, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{
    ResourceSpans, ScopeSpans, Span, Status, span, status,
};
use prost::Message as _;
use spanforge_testkit::otlp::{
    AttrValue, Encoding, Fault, GrpcCode, MetricKind, OtlpReceiver, Outcome, PointValue, Signal,
    SpanKind, StartError, StatusCode, Temporality, Transport,
};
use tonic::codec::CompressionEncoding;
use tonic_types::StatusExt as _;

const WAIT: Duration = Duration::from_secs(5);

const TRACE_ID: [u8; 16] = [
    0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03, 0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3f, 0xc6, 0x0c,
];
const TRACE_HEX: &str = "5b8efff798038103d269b633813fc60c";
const ROOT_ID: [u8; 8] = [0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74];
const ROOT_HEX: &str = "eee19b7ec3c1b174";
const CHILD_ID: [u8; 8] = [0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77];
const CHILD_HEX: &str = "0011223344556677";

// ----- sample data -------------------------------------------------------------------------------

fn kv(key: &str, value: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

fn s(v: &str) -> any_value::Value {
    any_value::Value::StringValue(v.to_owned())
}

fn resource() -> Option<Resource> {
    Some(Resource {
        attributes: vec![kv("service.name", s("prompt-api"))],
        ..Default::default()
    })
}

fn scope() -> Option<InstrumentationScope> {
    Some(InstrumentationScope {
        name: "spanforge".to_owned(),
        version: "0.1.0".to_owned(),
        ..Default::default()
    })
}

fn traces() -> ExportTraceServiceRequest {
    let root = Span {
        trace_id: TRACE_ID.to_vec(),
        span_id: ROOT_ID.to_vec(),
        name: "POST /prompts/{name}/run".to_owned(),
        kind: span::SpanKind::Server as i32,
        start_time_unix_nano: 1_000_000_000,
        end_time_unix_nano: 1_250_000_000,
        attributes: vec![
            kv("http.request.method", s("POST")),
            kv("http.response.status_code", any_value::Value::IntValue(200)),
        ],
        ..Default::default()
    };
    let child = Span {
        trace_id: TRACE_ID.to_vec(),
        span_id: CHILD_ID.to_vec(),
        parent_span_id: ROOT_ID.to_vec(),
        name: "chat gpt-4o-mini".to_owned(),
        kind: span::SpanKind::Client as i32,
        start_time_unix_nano: 1_010_000_000,
        end_time_unix_nano: 1_200_000_000,
        attributes: vec![
            kv("gen_ai.request.model", s("gpt-4o-mini")),
            kv(
                "gen_ai.usage.input_tokens",
                any_value::Value::IntValue(1000),
            ),
            kv("gen_ai.usage.cost", any_value::Value::DoubleValue(0.00042)),
            kv("gen_ai.stream", any_value::Value::BoolValue(true)),
            kv(
                "gen_ai.response.finish_reasons",
                any_value::Value::ArrayValue(ArrayValue {
                    values: vec![AnyValue {
                        value: Some(s("stop")),
                    }],
                }),
            ),
        ],
        events: vec![span::Event {
            name: "gen_ai.first_chunk".to_owned(),
            time_unix_nano: 1_050_000_000,
            attributes: vec![kv("chunk.index", any_value::Value::IntValue(0))],
            ..Default::default()
        }],
        status: Some(Status {
            code: status::StatusCode::Error as i32,
            message: "rate limited".to_owned(),
        }),
        ..Default::default()
    };
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: resource(),
            scope_spans: vec![ScopeSpans {
                scope: scope(),
                spans: vec![root, child],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn one_span(name: &str) -> ExportTraceServiceRequest {
    let mut req = traces();
    let spans = &mut req.resource_spans[0].scope_spans[0].spans;
    spans.truncate(1);
    spans[0].name = name.to_owned();
    req
}

fn metrics(counter_value: i64) -> ExportMetricsServiceRequest {
    let point = |value| NumberDataPoint {
        attributes: vec![kv("gen_ai.request.model", s("gpt-4o-mini"))],
        time_unix_nano: 2_000_000_000,
        value: Some(value),
        ..Default::default()
    };
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: resource(),
            scope_metrics: vec![ScopeMetrics {
                scope: scope(),
                metrics: vec![
                    Metric {
                        name: "gen_ai.client.token.count".to_owned(),
                        unit: "{token}".to_owned(),
                        data: Some(metric::Data::Sum(Sum {
                            data_points: vec![point(number_data_point::Value::AsInt(
                                counter_value,
                            ))],
                            aggregation_temporality: AggregationTemporality::Cumulative as i32,
                            is_monotonic: true,
                        })),
                        ..Default::default()
                    },
                    Metric {
                        name: "db.client.connection.count".to_owned(),
                        data: Some(metric::Data::Gauge(Gauge {
                            data_points: vec![point(number_data_point::Value::AsDouble(3.0))],
                        })),
                        ..Default::default()
                    },
                    Metric {
                        name: "http.server.request.duration".to_owned(),
                        unit: "s".to_owned(),
                        data: Some(metric::Data::Histogram(Histogram {
                            data_points: vec![HistogramDataPoint {
                                count: 3,
                                sum: Some(0.6),
                                bucket_counts: vec![1, 2, 0],
                                explicit_bounds: vec![0.1, 0.5],
                                min: Some(0.05),
                                max: Some(0.3),
                                ..Default::default()
                            }],
                            aggregation_temporality: AggregationTemporality::Delta as i32,
                        })),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn logs() -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: resource(),
            scope_logs: vec![ScopeLogs {
                scope: scope(),
                log_records: vec![
                    LogRecord {
                        time_unix_nano: 3_000_000_000,
                        severity_number: 17,
                        severity_text: "ERROR".to_owned(),
                        body: Some(AnyValue {
                            value: Some(s("provider returned 429")),
                        }),
                        trace_id: TRACE_ID.to_vec(),
                        span_id: CHILD_ID.to_vec(),
                        attributes: vec![kv("retry", any_value::Value::BoolValue(true))],
                        ..Default::default()
                    },
                    LogRecord {
                        severity_number: 9,
                        body: Some(AnyValue {
                            value: Some(any_value::Value::KvlistValue(KeyValueList {
                                values: vec![kv("event", s("startup"))],
                            })),
                        }),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

// ----- clients -----------------------------------------------------------------------------------

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("a plain HTTP client builds")
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("gzip into memory");
    encoder.finish().expect("gzip into memory")
}

async fn post(
    receiver: &OtlpReceiver,
    signal: Signal,
    content_type: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    http()
        .post(receiver.http_url(signal))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("the receiver answers")
}

/// Decodes a `google.rpc.Status` error body (protobuf).
async fn rpc_status(response: reqwest::Response) -> tonic_types::Status {
    let body = response.bytes().await.expect("error body");
    tonic_types::Status::decode(body).expect("error body is a google.rpc.Status")
}

fn with_auth<T>(message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", "Bearer grpc-token".parse().expect("ascii"));
    request
}

// ----- gRPC --------------------------------------------------------------------------------------

#[tokio::test]
async fn grpc_exports_of_all_signals_are_stored_and_flattened() {
    let receiver = OtlpReceiver::start().await.expect("receiver starts");
    let endpoint = receiver.grpc_endpoint();
    assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint}");

    let mut traces_client = TraceServiceClient::connect(endpoint.clone())
        .await
        .expect("gRPC connects")
        .send_compressed(CompressionEncoding::Gzip);
    let response = traces_client
        .export(with_auth(traces()))
        .await
        .expect("traces accepted")
        .into_inner();
    assert_eq!(response.partial_success, None);
    MetricsServiceClient::connect(endpoint.clone())
        .await
        .expect("gRPC connects")
        .export(metrics(7))
        .await
        .expect("metrics accepted");
    LogsServiceClient::connect(endpoint)
        .await
        .expect("gRPC connects")
        .export(logs())
        .await
        .expect("logs accepted");

    // Spans: ids as hex, resource and scope folded in, typed attributes.
    let spans = receiver.wait_for_spans(2, WAIT).await.expect("2 spans");
    let root = receiver
        .span_named("POST /prompts/{name}/run")
        .expect("root span");
    assert_eq!(root.trace_id, TRACE_HEX);
    assert_eq!(root.span_id, ROOT_HEX);
    assert_eq!(root.parent_span_id, None);
    assert!(root.is_root());
    assert_eq!(root.kind, SpanKind::Server);
    assert_eq!(root.duration(), Duration::from_millis(250));
    assert_eq!(root.int_attr("http.response.status_code"), Some(200));
    assert_eq!(root.service_name(), Some("prompt-api"));
    assert_eq!(root.scope_name, "spanforge");
    assert_eq!(root.scope_version, "0.1.0");
    assert_eq!(root.transport, Transport::Grpc);
    assert_eq!(root.encoding, Encoding::Protobuf);

    let child = &spans[1];
    assert_eq!(child.name, "chat gpt-4o-mini");
    assert_eq!(child.parent_span_id.as_deref(), Some(ROOT_HEX));
    assert_eq!(child.kind, SpanKind::Client);
    assert_eq!(child.status_code, StatusCode::Error);
    assert_eq!(child.status_message, "rate limited");
    assert_eq!(child.str_attr("gen_ai.request.model"), Some("gpt-4o-mini"));
    assert_eq!(child.int_attr("gen_ai.usage.input_tokens"), Some(1000));
    assert_eq!(child.f64_attr("gen_ai.usage.cost"), Some(0.00042));
    assert_eq!(child.bool_attr("gen_ai.stream"), Some(true));
    // Accessors are strict about the type.
    assert_eq!(child.f64_attr("gen_ai.usage.input_tokens"), None);
    assert_eq!(
        child.attr("gen_ai.response.finish_reasons"),
        Some(&AttrValue::Array(vec![AttrValue::from("stop")]))
    );
    let event = child.event("gen_ai.first_chunk").expect("event");
    assert_eq!(event.time_unix_nano, 1_050_000_000);
    assert_eq!(event.int_attr("chunk.index"), Some(0));

    // Tree queries.
    assert_eq!(receiver.children_of(&root), vec![child.clone()]);
    assert_eq!(receiver.parent_of(child), Some(root.clone()));
    assert_eq!(receiver.parent_of(&root), None);
    assert_eq!(receiver.trace(&TRACE_HEX.to_uppercase()).len(), 2);
    assert_eq!(receiver.spans_named("chat gpt-4o-mini").len(), 1);

    // Metrics.
    let counter = receiver
        .wait_for_metric("gen_ai.client.token.count", WAIT)
        .await
        .expect("counter");
    assert_eq!(counter.kind, MetricKind::Sum);
    assert_eq!(counter.temporality, Temporality::Cumulative);
    assert!(counter.is_monotonic);
    assert_eq!(counter.unit, "{token}");
    let point = counter
        .point_with("gen_ai.request.model", "gpt-4o-mini")
        .expect("point by attribute");
    assert_eq!(point.as_i64(), Some(7));
    assert_eq!(point.time_unix_nano, 2_000_000_000);
    let gauge = receiver
        .metric_named("db.client.connection.count")
        .expect("gauge");
    assert_eq!(gauge.kind, MetricKind::Gauge);
    assert_eq!(gauge.points[0].as_f64(), Some(3.0));
    let histogram = receiver
        .metric_named("http.server.request.duration")
        .expect("histogram");
    assert_eq!(histogram.kind, MetricKind::Histogram);
    assert_eq!(histogram.temporality, Temporality::Delta);
    let h = histogram.points[0].histogram().expect("histogram point");
    assert_eq!(
        (h.count, h.sum, h.min, h.max),
        (3, Some(0.6), Some(0.05), Some(0.3))
    );
    assert_eq!(h.bucket_counts, vec![1, 2, 0]);
    assert_eq!(h.explicit_bounds, vec![0.1, 0.5]);
    assert_eq!(histogram.service_name(), Some("prompt-api"));

    // Logs: body as text, correlation ids as hex.
    let received_logs = receiver.wait_for_logs(2, WAIT).await.expect("2 logs");
    let error = &received_logs[0];
    assert_eq!(error.body, "provider returned 429");
    assert_eq!(error.severity_number, 17);
    assert_eq!(error.severity_text, "ERROR");
    assert_eq!(error.trace_id.as_deref(), Some(TRACE_HEX));
    assert_eq!(error.span_id.as_deref(), Some(CHILD_HEX));
    assert_eq!(error.bool_attr("retry"), Some(true));
    assert_eq!(error.service_name(), Some("prompt-api"));
    let structured = &received_logs[1];
    assert_eq!(structured.body, r#"{"event":"startup"}"#);
    assert_eq!(structured.trace_id, None);
    assert!(matches!(structured.body_value, Some(AttrValue::Map(_))));

    // Raw requests are kept as decoded.
    assert_eq!(receiver.trace_requests(), vec![traces()]);
    assert_eq!(receiver.metric_requests(), vec![metrics(7)]);
    assert_eq!(receiver.log_requests(), vec![logs()]);

    // The request log has transport, path, metadata and compression.
    let requests = receiver.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests.successful(), 3);
    let first = &requests.records()[0];
    assert_eq!(first.transport, Transport::Grpc);
    assert_eq!(first.signal, Some(Signal::Traces));
    assert_eq!(first.path, Signal::Traces.grpc_path());
    assert_eq!(first.header("authorization"), Some("Bearer grpc-token"));
    assert_eq!(first.content_encoding.as_deref(), Some("gzip"));
    assert_eq!(first.outcome, Outcome::Grpc(GrpcCode::Ok));
    assert_eq!(first.items, 2);
    assert_eq!(requests.records()[1].items, 3);
}

#[tokio::test]
async fn grpc_rejects_ids_of_the_wrong_length() {
    let receiver = OtlpReceiver::start().await.expect("receiver starts");
    let mut request = one_span("bad");
    request.resource_spans[0].scope_spans[0].spans[0].trace_id = vec![1, 2, 3];
    let status = TraceServiceClient::connect(receiver.grpc_endpoint())
        .await
        .expect("gRPC connects")
        .export(request)
        .await
        .expect_err("rejected");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert!(
        status.message().contains("traceId is 3 bytes, expected 16"),
        "{}",
        status.message()
    );
    assert!(receiver.spans().is_empty());
    assert_eq!(
        receiver.requests().last().expect("recorded").outcome,
        Outcome::Grpc(GrpcCode::InvalidArgument)
    );
}

// ----- HTTP --------------------------------------------------------------------------------------

#[tokio::test]
async fn http_protobuf_is_stored_and_answered_in_protobuf() {
    let receiver = OtlpReceiver::start().await.expect("receiver starts");
    let response = http()
        .post(format!("{}/v1/traces", receiver.http_endpoint()))
        .header("content-type", "application/x-protobuf")
        .header("authorization", "Basic dXNlcjpwYXNz")
        .header("x-scope-orgid", "tenant-1")
        .body(traces().encode_to_vec())
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/x-protobuf");
    let body = response.bytes().await.expect("body");
    let decoded = ExportTraceServiceResponse::decode(body).expect("protobuf response");
    assert_eq!(decoded.partial_success, None);

    let spans = receiver.spans();
    assert_eq!(spans.len(), 2);
    assert!(
        spans
            .iter()
            .all(|s| s.transport == Transport::Http && s.encoding == Encoding::Protobuf)
    );
    let request = receiver.requests().last().cloned().expect("recorded");
    assert_eq!(request.transport, Transport::Http);
    assert_eq!(request.path, "/v1/traces");
    assert_eq!(request.encoding, Some(Encoding::Protobuf));
    assert_eq!(request.header("authorization"), Some("Basic dXNlcjpwYXNz"));
    assert_eq!(request.header("X-Scope-OrgID"), Some("tenant-1"));
    assert_eq!(request.content_encoding, None);
    assert_eq!(request.http_status(), Some(http::StatusCode::OK));
    assert_eq!(request.items, 2);
}

#[tokio::test]
async fn http_json_as_the_opentelemetry_otlp_exporter_writes_it() {
    // The opentelemetry-otlp `http-json` exporter serializes with opentelemetry-proto's serde
    // (`serde_json::to_string_pretty`); send exactly that.
    let receiver = OtlpReceiver::start().await.expect("receiver starts");
    let body = serde_json::to_string_pretty(&traces()).expect("serialize");
    let response = post(&receiver, Signal::Traces, "application/json", body.into()).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.text().await.expect("body"), "{}");

    let body = serde_json::to_vec(&metrics(11)).expect("serialize");
    let response = post(&receiver, Signal::Metrics, "application/json", body).await;
    assert_eq!(response.status(), 200);
    let body = serde_json::to_vec(&logs()).expect("serialize");
    let response = post(
        &receiver,
        Signal::Logs,
        "application/json; charset=utf-8",
        body,
    )
    .await;
    assert_eq!(response.status(), 200);

    // Same data as over protobuf.
    assert_eq!(receiver.trace_requests(), vec![traces()]);
    assert_eq!(receiver.metric_requests(), vec![metrics(11)]);
    assert_eq!(receiver.log_requests(), vec![logs()]);
    let child = receiver.span_named("chat gpt-4o-mini").expect("child");
    assert_eq!(child.encoding, Encoding::Json);
    assert_eq!(child.f64_attr("gen_ai.usage.cost"), Some(0.00042));
}

#[tokio::test]
async fn http_json_as_the_collector_writes_it() {
    // The Collector's OTLP/JSON: lowercase or uppercase hex ids, int64 as strings, enums as
    // numbers, empty fields omitted (`{"arrayValue":{}}`), plus forms the proto3 JSON mapping
    // allows (enum names, 32-bit integers as strings).
    let receiver = OtlpReceiver::start().await.expect("receiver starts");
    let traces = r#"{
      "resourceSpans": [{
        "resource": {
          "attributes": [{"key": "service.name", "value": {"stringValue": "collector-svc"}}],
          "entityRefs": [{"type": "service", "idKeys": ["service.name"]}]
        },
        "scopeSpans": [{
          "scope": {"name": "otelcol"},
          "spans": [{
            "traceId": "5B8EFFF798038103D269B633813FC60C",
            "spanId": "eee19b7ec3c1b174",
            "parentSpanId": "",
            "name": "GET /health",
            "kind": 2,
            "startTimeUnixNano": "1544712660000000000",
            "endTimeUnixNano": "1544712661000000000",
            "droppedAttributesCount": "1",
            "attributes": [
              {"key": "http.response.status_code", "value": {"intValue": "200"}},
              {"key": "ratio", "value": {"doubleValue": 0.5}},
              {"key": "tags", "value": {"arrayValue": {}}},
              {"key": "labels", "value": {"kvlistValue": {}}},
              {"key": "blob", "value": {"bytesValue": "AQID"}},
              {"key": "empty", "value": {}}
            ],
            "events": [{"timeUnixNano": "1544712660500000000", "name": "ready"}],
            "status": {}
          }, {
            "traceId": "5b8efff798038103d269b633813fc60c",
            "spanId": "0011223344556677",
            "parentSpanId": "eee19b7ec3c1b174",
            "name": "SELECT prompts",
            "kind": "SPAN_KIND_CLIENT",
            "status": {"code": "STATUS_CODE_ERROR", "message": "timeout"}
          }]
        }]
      }]
    }"#;
    let response = post(&receiver, Signal::Traces, "application/json", traces.into()).await;
    let status = response.status();
    assert_eq!(status, 200, "{}", response.text().await.unwrap_or_default());

    let health = receiver.span_named("GET /health").expect("span");
    assert_eq!(health.trace_id, TRACE_HEX);
    assert_eq!(health.kind, SpanKind::Server);
    assert_eq!(health.start_time_unix_nano, 1_544_712_660_000_000_000);
    assert_eq!(health.duration(), Duration::from_secs(1));
    assert_eq!(health.dropped_attributes_count, 1);
    assert_eq!(health.int_attr("http.response.status_code"), Some(200));
    assert_eq!(health.f64_attr("ratio"), Some(0.5));
    assert_eq!(health.attr("tags"), Some(&AttrValue::Array(Vec::new())));
    assert!(matches!(health.attr("labels"), Some(AttrValue::Map(m)) if m.is_empty()));
    assert_eq!(
        health.attr("blob").and_then(AttrValue::as_bytes),
        Some(&[1u8, 2, 3][..])
    );
    assert_eq!(health.attr("empty"), Some(&AttrValue::Empty));
    assert_eq!(health.events[0].name, "ready");
    assert_eq!(health.status_code, StatusCode::Unset);
    assert_eq!(health.service_name(), Some("collector-svc"));
    let db = receiver.span_named("SELECT prompts").expect("span");
    assert_eq!(db.kind, SpanKind::Client);
    assert_eq!(db.status_code, StatusCode::Error);
    assert_eq!(receiver.children_of(&health), vec![db]);

    let metrics = r#"{"resourceMetrics": [{"scopeMetrics": [{"metrics": [
      {"name": "requests", "sum": {
        "dataPoints": [{"asInt": "42", "timeUnixNano": "1544712660000000000",
                        "attributes": [{"key": "route", "value": {"stringValue": "/run"}}]}],
        "aggregationTemporality": 2, "isMonotonic": true}},
      {"name": "latency", "unit": "s", "histogram": {
        "dataPoints": [{"count": "3", "sum": 1.5, "bucketCounts": ["1", "2"], "explicitBounds": [1]}],
        "aggregationTemporality": "AGGREGATION_TEMPORALITY_DELTA"}}
    ]}]}]}"#;
    let response = post(
        &receiver,
        Signal::Metrics,
        "application/json",
        metrics.into(),
    )
    .await;
    assert_eq!(response.status(), 200);
    let requests = receiver.metric_named("requests").expect("sum");
    assert_eq!(requests.kind, MetricKind::Sum);
    assert_eq!(
        requests.point_with("route", "/run").map(|p| &p.value),
        Some(&PointValue::Int(42))
    );
    let latency = receiver.metric_named("latency").expect("histogram");
    assert_eq!(latency.temporality, Temporality::Delta);
    let h = latency.points[0].histogram().expect("histogram");
    assert_eq!((h.count, h.sum), (3, Some(1.5)));
    assert_eq!(h.bucket_counts, vec![1, 2]);

    let logs = r#"{"resourceLogs": [{"scopeLogs": [{"logRecords": [{
      "timeUnixNano": "1544712660300000000",
      "severityNumber": "SEVERITY_NUMBER_WARN",
      "severityText": "WARN",
      "traceId": "5b8efff798038103d269b633813fc60c",
      "spanId": "eee19b7ec3c1b174",
      "body": {"stringValue": "slow query"},
      "flags": "1"
    }]}]}]}"#;
    let response = post(&receiver, Signal::Logs, "application/json", logs.into()).await;
    assert_eq!(response.status(), 200);
    let log = &receiver.logs()[0];
    assert_eq!(log.body, "slow query");
    assert_eq!(log.severity_number, 13);
    assert_eq!(log.span_id.as_deref(), Some(ROOT_HEX));
    assert_eq!(log.flags, 1);
}

#[tokio::test]
async fn http_gzip_bodies_are_decompressed() {
    let receiver = OtlpReceiver::start().await.expect("receiver starts");
    for (content_type, body) in [
        ("application/x-protobuf", traces().encode_to_vec()),
        (
            "application/json",
            serde_json::to_vec(&one_span("json-gzip")).expect("serialize"),
        ),
    ] {
        let response = http()
            .post(receiver.http_url(Signal::Traces))
            .header("content-type", content_type)
            .header("content-encoding", "gzip")
            .body(gzip(&body))
            .send()
            .await
            .expect("answered");
        assert_eq!(response.status(), 200, "{content_type}");
    }
    assert_eq!(receiver.spans().len(), 3);
    assert!(receiver.span_named("json-gzip").is_some());
    let requests = receiver.requests();
    assert!(
        requests
            .iter()
            .all(|r| r.content_encoding.as_deref() == Some("gzip"))
    );
}

struct BadBody {
    signal: Signal,
    content_type: &'static str,
    content_encoding: Option<&'static str>,
    body: Vec<u8>,
    expected: &'static str,
}

#[tokio::test]
async fn malformed_bodies_get_400_with_a_reason_and_nothing_is_stored() {
    let receiver = OtlpReceiver::start().await.expect("receiver starts");
    let mut short_id = one_span("x");
    short_id.resource_spans[0].scope_spans[0].spans[0].span_id = vec![1, 2];
    let cases = vec![
        BadBody {
            signal: Signal::Traces,
            content_type: "application/x-protobuf",
            content_encoding: None,
            body: b"\xff\xff\xff not protobuf".to_vec(),
            expected: "invalid protobuf ExportTraceServiceRequest",
        },
        BadBody {
            signal: Signal::Traces,
            content_type: "application/json",
            content_encoding: None,
            body: b"{\"resourceSpans\": [".to_vec(),
            expected: "invalid JSON",
        },
        BadBody {
            signal: Signal::Traces,
            content_type: "application/json",
            content_encoding: None,
            body: br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"not-hex","name":"x"}]}]}]}"#.to_vec(),
            expected: "invalid OTLP/JSON ExportTraceServiceRequest",
        },
        BadBody {
            signal: Signal::Traces,
            content_type: "application/json",
            content_encoding: None,
            body: b"[1, 2]".to_vec(),
            expected: "expected a JSON object",
        },
        BadBody {
            signal: Signal::Traces,
            content_type: "application/x-protobuf",
            content_encoding: None,
            body: short_id.encode_to_vec(),
            expected: "spanId is 2 bytes, expected 8",
        },
        BadBody {
            // opentelemetry-proto's serde alone would accept this as a point without a value ...
            signal: Signal::Metrics,
            content_type: "application/json",
            content_encoding: None,
            body: br#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"m","sum":{"dataPoints":[{"asInt":"12x"}]}}]}]}]}"#.to_vec(),
            expected: r#"metrics[0] (name "m").dataPoints[0].asInt: "12x" is not a valid int64"#,
        },
        BadBody {
            // ... and this as a metric without data.
            signal: Signal::Metrics,
            content_type: "application/json",
            content_encoding: None,
            body: br#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"h","histogram":{"dataPoints":[{"count":"3x"}]}}]}]}]}"#.to_vec(),
            expected: r#"metrics[0] (name "h").histogram: invalid digit found in string"#,
        },
        BadBody {
            signal: Signal::Logs,
            content_type: "application/x-protobuf",
            content_encoding: Some("gzip"),
            body: b"not gzip at all".to_vec(),
            expected: "body is not valid gzip data",
        },
    ];
    for BadBody {
        signal,
        content_type,
        content_encoding,
        body,
        expected,
    } in cases
    {
        let mut request = http()
            .post(receiver.http_url(signal))
            .header("content-type", content_type)
            .body(body);
        if let Some(coding) = content_encoding {
            request = request.header("content-encoding", coding);
        }
        let response = request.send().await.expect("answered");
        assert_eq!(response.status(), 400, "{expected}");
        let reason = if content_type == "application/json" {
            let status: serde_json::Value =
                serde_json::from_slice(&response.bytes().await.expect("body")).expect("JSON");
            assert_eq!(status["code"], 3, "INVALID_ARGUMENT");
            status["message"].as_str().expect("message").to_owned()
        } else {
            let status = rpc_status(response).await;
            assert_eq!(status.code, tonic::Code::InvalidArgument as i32);
            status.message
        };
        assert!(
            reason.contains(expected),
            "reason {reason:?} lacks {expected:?}"
        );
        let record = receiver.requests().last().cloned().expect("recorded");
        assert_eq!(record.http_status(), Some(http::StatusCode::BAD_REQUEST));
        assert_eq!(record.error.as_deref(), Some(reason.as_str()));
    }
    assert!(receiver.spans().is_empty());
    assert!(receiver.metrics().is_empty());
    assert!(receiver.logs().is_empty());
    assert!(receiver.trace_requests().is_empty());
    assert_eq!(receiver.requests().successful(), 0);
}

#[tokio::test]
async fn unsupported_content_type_encoding_path_and_method_are_refused() {
    let receiver = OtlpReceiver::start().await.expect("receiver starts");
    let body = traces().encode_to_vec();

    let response = post(&receiver, Signal::Traces, "text/plain", body.clone()).await;
    assert_eq!(response.status(), 415);
    assert!(
        response
            .text()
            .await
            .expect("body")
            .contains("unsupported content type \"text/plain\"")
    );

    let response = http()
        .post(receiver.http_url(Signal::Traces))
        .header("content-type", "application/x-protobuf")
        .header("content-encoding", "br")
        .body(body.clone())
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 415);

    let response = http()
        .post(format!("{}/v1/trace", receiver.http_endpoint()))
        .header("content-type", "application/x-protobuf")
        .body(body)
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 404);

    let response = http()
        .get(receiver.http_url(Signal::Traces))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "POST");

    let requests = receiver.requests();
    let statuses: Vec<u16> = requests
        .iter()
        .filter_map(|r| r.http_status().map(|s| s.as_u16()))
        .collect();
    assert_eq!(statuses, vec![415, 415, 404, 405]);
    assert_eq!(requests.records()[2].path, "/v1/trace");
    assert_eq!(requests.records()[2].signal, None);
    assert!(receiver.spans().is_empty());
}

// ----- faults ------------------------------------------------------------------------------------

#[tokio::test]
async fn status_fault_over_http_sends_status_and_retry_after() {
    let receiver = OtlpReceiver::start().await.expect("receiver starts");
    receiver.queue_faults([
        Fault::throttled(Some(Duration::from_millis(1500))),
        Fault::unavailable(None),
    ]);

    let response = post(
        &receiver,
        Signal::Traces,
        "application/x-protobuf",
        traces().encode_to_vec(),
    )
    .await;
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "2", "rounded up");
    assert_eq!(
        rpc_status(response).await.code,
        tonic::Code::ResourceExhausted as i32
    );

    let response = post(
        &receiver,
        Signal::Logs,
        "application/json",
        serde_json::to_vec(&logs()).expect("serialize"),
    )
    .await;
    assert_eq!(response.status(), 503);
    assert!(response.headers().get("retry-after").is_none());
    let status: serde_json::Value = response.json_body().await;
    assert_eq!(status["code"], tonic::Code::Unavailable as i32);

    // The queue is used up: the next request is accepted.
    let response = post(
        &receiver,
        Signal::Traces,
        "application/x-protobuf",
        traces().encode_to_vec(),
    )
    .await;
    assert_eq!(response.status(), 200);

    let requests = receiver.requests();
    assert_eq!(requests.faulted(), 2);
    assert_eq!(
        requests.records()[0].fault,
        Some(Fault::throttled(Some(Duration::from_millis(1500))))
    );
    assert_eq!(
        receiver.trace_requests().len(),
        1,
        "faulted requests are not stored"
    );
    assert!(receiver.logs().is_empty());
}

#[tokio::test]
async fn status_fault_over_grpc_carries_retry_info() {
    let receiver = OtlpReceiver::start().await.expect("receiver starts");
    let mut client = TraceServiceClient::connect(receiver.grpc_endpoint())
        .await
        .expect("gRPC connects");

    receiver.set_fault(Fault::unavailable(Some(Duration::from_secs(2))));
    let status = client.export(traces()).await.expect_err("unavailable");
    assert_eq!(status.code(), tonic::Code::Unavailable);
    let retry = status.get_details_retry_info().expect("RetryInfo detail");
    assert_eq!(retry.retry_delay, Some(Duration::from_secs(2)));

    receiver.set_fault(Fault::throttled(None));
    let status = client.export(traces()).await.expect_err("throttled");
    assert_eq!(status.code(), tonic::Code::ResourceExhausted);
    assert!(status.get_details_retry_info().is_none());

    receiver.set_fault(Fault::None);
    client.export(traces()).await.expect("accepted again");

    let requests = receiver.requests();
    assert_eq!(requests.faulted(), 2);
    assert_eq!(
        requests.records()[0].outcome,
        Outcome::Grpc(GrpcCode::Unavailable)
    );
    assert_eq!(receiver.trace_requests().len(), 1);
}

#[tokio::test]
async fn dropped_connection_is_a_client_error_over_http_and_grpc() {
    let receiver = OtlpReceiver::start().await.expect("receiver starts");
    receiver.queue_faults([Fault::DropConnection, Fault::DropConnection]);

    let error = http()
        .post(receiver.http_url(Signal::Traces))
        .header("content-type", "application/x-protobuf")
        .body(traces().encode_to_vec())
        .send()
        .await
        .expect_err("no response");
    assert!(!error.is_status(), "{error:?}");

    let mut client = TraceServiceClient::connect(receiver.grpc_endpoint())
        .await
        .expect("gRPC connects");
    let status = client.export(traces()).await.expect_err("no response");
    assert_ne!(status.code(), tonic::Code::Ok);

    // Both transports recover: a new HTTP connection, and a reconnecting gRPC channel.
    let response = post(
        &receiver,
        Signal::Traces,
        "application/x-protobuf",
        traces().encode_to_vec(),
    )
    .await;
    assert_eq!(response.status(), 200);
    TraceServiceClient::connect(receiver.grpc_endpoint())
        .await
        .expect("gRPC connects")
        .export(traces())
        .await
        .expect("accepted");

    let requests = receiver.requests();
    let outcomes: Vec<&Outcome> = requests.iter().map(|r| &r.outcome).collect();
    assert_eq!(
        outcomes,
        vec![
            &Outcome::Dropped,
            &Outcome::Dropped,
            &Outcome::Http(http::StatusCode::OK),
            &Outcome::Grpc(GrpcCode::Ok),
        ]
    );
    assert_eq!(requests.faulted(), 2);
    assert_eq!(receiver.trace_requests().len(), 2);
}

#[tokio::test]
async fn delay_fault_delays_the_answer_and_stores_the_data() {
    let receiver = OtlpReceiver::start().await.expect("receiver starts");
    let delay = Duration::from_millis(300);
    receiver.set_fault(Fault::Delay(delay));

    let started = Instant::now();
    let response = post(
        &receiver,
        Signal::Traces,
        "application/x-protobuf",
        one_span("delayed-http").encode_to_vec(),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert!(started.elapsed() >= delay, "{:?}", started.elapsed());

    let started = Instant::now();
    TraceServiceClient::connect(receiver.grpc_endpoint())
        .await
        .expect("gRPC connects")
        .export(one_span("delayed-grpc"))
        .await
        .expect("accepted");
    assert!(started.elapsed() >= delay, "{:?}", started.elapsed());

    assert!(receiver.span_named("delayed-http").is_some());
    assert!(receiver.span_named("delayed-grpc").is_some());
    assert_eq!(receiver.requests().faulted(), 2);
}

#[tokio::test]
async fn a_client_that_gives_up_during_a_delay_is_recorded_as_cancelled() {
    let receiver = OtlpReceiver::start().await.expect("receiver starts");
    receiver.queue_faults([Fault::Delay(Duration::from_secs(2))]);
    let error = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(200))
        .build()
        .expect("client")
        .post(receiver.http_url(Signal::Traces))
        .header("content-type", "application/x-protobuf")
        .body(one_span("impatient").encode_to_vec())
        .send()
        .await
        .expect_err("client times out");
    assert!(error.is_timeout(), "{error:?}");

    // Over gRPC, dropping the call resets the HTTP/2 stream.
    receiver.queue_faults([Fault::Delay(Duration::from_secs(2))]);
    let mut client = TraceServiceClient::connect(receiver.grpc_endpoint())
        .await
        .expect("gRPC connects");
    let call = tokio::time::timeout(
        Duration::from_millis(200),
        client.export(one_span("impatient")),
    )
    .await;
    assert!(call.is_err(), "the call is abandoned");

    let requests = receiver
        .wait_for_requests(2, WAIT)
        .await
        .expect("recorded once the server notices");
    let outcomes: Vec<&Outcome> = requests.iter().map(|r| &r.outcome).collect();
    assert_eq!(outcomes, vec![&Outcome::Cancelled, &Outcome::Cancelled]);
    assert_eq!(requests.faulted(), 2);
    assert!(receiver.spans().is_empty());
}

#[tokio::test]
async fn partial_success_is_reported_and_everything_is_stored() {
    let receiver = OtlpReceiver::start().await.expect("receiver starts");
    receiver.set_fault(Fault::partial_success(1, "span name too long"));

    // HTTP protobuf.
    let response = post(
        &receiver,
        Signal::Traces,
        "application/x-protobuf",
        traces().encode_to_vec(),
    )
    .await;
    assert_eq!(response.status(), 200);
    let decoded = ExportTraceServiceResponse::decode(response.bytes().await.expect("body"))
        .expect("protobuf response");
    let partial = decoded.partial_success.expect("partial success");
    assert_eq!(partial.rejected_spans, 1);
    assert_eq!(partial.error_message, "span name too long");

    // HTTP JSON: parseable by opentelemetry-proto's serde, as the HTTP/JSON exporter does.
    let response = post(
        &receiver,
        Signal::Logs,
        "application/json",
        serde_json::to_vec(&logs()).expect("serialize"),
    )
    .await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.expect("body");
    assert_eq!(
        text,
        r#"{"partialSuccess":{"rejectedLogRecords":1,"errorMessage":"span name too long"}}"#
    );
    let decoded: ExportLogsServiceResponse = serde_json::from_str(&text).expect("JSON response");
    assert_eq!(
        decoded.partial_success.map(|p| p.rejected_log_records),
        Some(1)
    );

    // gRPC.
    let response = MetricsServiceClient::connect(receiver.grpc_endpoint())
        .await
        .expect("gRPC connects")
        .export(metrics(1))
        .await
        .expect("accepted")
        .into_inner();
    let partial = response.partial_success.expect("partial success");
    assert_eq!(partial.rejected_data_points, 1);

    assert_eq!(receiver.spans().len(), 2);
    assert_eq!(receiver.logs().len(), 2);
    assert_eq!(receiver.metrics().len(), 3);
    assert_eq!(receiver.requests().faulted(), 3);
    assert_eq!(receiver.requests().successful(), 3);
}

#[tokio::test]
async fn faults_can_target_one_signal() {
    let receiver = OtlpReceiver::start().await.expect("receiver starts");
    receiver.set_fault(Fault::unavailable(None));
    receiver.set_fault_for(Signal::Logs, Fault::None);
    receiver.queue_faults_for(Signal::Metrics, [Fault::None]);

    let send = |signal, body: Vec<u8>| {
        let receiver = &receiver;
        async move {
            post(receiver, signal, "application/x-protobuf", body)
                .await
                .status()
                .as_u16()
        }
    };
    assert_eq!(send(Signal::Traces, traces().encode_to_vec()).await, 503);
    assert_eq!(send(Signal::Logs, logs().encode_to_vec()).await, 200);
    assert_eq!(send(Signal::Metrics, metrics(1).encode_to_vec()).await, 200);
    assert_eq!(send(Signal::Metrics, metrics(2).encode_to_vec()).await, 503);

    receiver.clear_faults();
    assert_eq!(send(Signal::Traces, traces().encode_to_vec()).await, 200);
    assert_eq!(receiver.requests().faulted(), 2);
    assert_eq!(
        receiver
            .requests()
            .for_signal(Signal::Metrics)
            .filter(|r| r.fault.is_some())
            .count(),
        1
    );
}

// ----- waiting -----------------------------------------------------------------------------------

#[tokio::test]
async fn waits_wake_up_on_arrival() {
    let receiver = OtlpReceiver::start().await.expect("receiver starts");
    let url = receiver.http_url(Signal::Traces);
    let sender = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        http()
            .post(url)
            .header("content-type", "application/x-protobuf")
            .body(one_span("late").encode_to_vec())
            .send()
            .await
            .expect("answered")
            .status()
    });
    let started = Instant::now();
    let span = receiver
        .wait_for_span_named("late", Duration::from_secs(30))
        .await
        .expect("arrives");
    assert_eq!(span.name, "late");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(sender.await.expect("sender"), 200);

    let found = receiver
        .wait_for_span_matching("a server span", WAIT, |s| s.kind == SpanKind::Server)
        .await
        .expect("already there");
    assert_eq!(found.name, "late");
}

#[tokio::test]
async fn wait_timeouts_say_what_arrived() {
    let receiver = OtlpReceiver::start().await.expect("receiver starts");
    post(
        &receiver,
        Signal::Traces,
        "application/x-protobuf",
        one_span("GET /health").encode_to_vec(),
    )
    .await;
    let short = Duration::from_millis(100);

    let error = receiver
        .wait_for_spans(3, short)
        .await
        .expect_err("only one span");
    assert_eq!(error.arrived(), 1);
    assert_eq!(error.timeout(), short);
    assert_eq!(
        error.to_string(),
        r#"timed out after 100ms waiting for 3 spans: 1 arrived ("GET /health")"#
    );

    let error = receiver
        .wait_for_span_named("chat gpt-4o", short)
        .await
        .expect_err("no such span");
    assert_eq!(
        error.to_string(),
        r#"timed out after 100ms waiting for a span named "chat gpt-4o": 1 span arrived, none matching ("GET /health")"#
    );

    let error = receiver.wait_for_logs(1, short).await.expect_err("no logs");
    assert_eq!(
        error.to_string(),
        "timed out after 100ms waiting for 1 log record: 0 arrived"
    );

    let error = receiver
        .wait_for_metric("gen_ai.client.cost", short)
        .await
        .expect_err("no metrics");
    assert_eq!(error.arrived(), 0);
    assert!(
        error
            .to_string()
            .contains(r#"a metric named "gen_ai.client.cost""#)
    );

    let error = receiver
        .wait_for_requests(2, short)
        .await
        .expect_err("one request");
    assert_eq!(error.arrived(), 1);
}

#[tokio::test]
async fn wait_for_metric_returns_the_latest_export() {
    let receiver = OtlpReceiver::start().await.expect("receiver starts");
    for value in [1, 5] {
        post(
            &receiver,
            Signal::Metrics,
            "application/x-protobuf",
            metrics(value).encode_to_vec(),
        )
        .await;
    }
    let metric = receiver
        .wait_for_metric("gen_ai.client.token.count", WAIT)
        .await
        .expect("metric");
    assert_eq!(metric.points[0].as_i64(), Some(5));
    assert_eq!(receiver.metrics().len(), 6);

    let reached = receiver
        .wait_for_metric_matching("the counter at 5", WAIT, |m| {
            m.name == "gen_ai.client.token.count" && m.points[0].as_i64() == Some(5)
        })
        .await
        .expect("metric");
    assert_eq!(reached, metric);

    receiver.clear();
    assert!(receiver.metrics().is_empty());
    assert!(receiver.metric_requests().is_empty());
    assert!(receiver.requests().is_empty());
}

// ----- lifecycle ---------------------------------------------------------------------------------

#[tokio::test]
async fn stop_refuses_connections_and_restart_comes_back_on_the_same_ports() {
    let receiver = OtlpReceiver::start().await.expect("receiver starts");
    let (grpc_addr, http_addr) = (receiver.grpc_addr(), receiver.http_addr());
    let client = http();
    let send = || {
        client
            .post(receiver.http_url(Signal::Traces))
            .header("content-type", "application/x-protobuf")
            .body(traces().encode_to_vec())
            .send()
    };
    assert_eq!(send().await.expect("up").status(), 200);

    receiver.stop().await;
    assert!(!receiver.is_running().await);
    let error = send().await.expect_err("down");
    assert!(error.is_connect(), "{error:?}");
    assert!(
        TraceServiceClient::connect(receiver.grpc_endpoint())
            .await
            .is_err()
    );
    assert_eq!(receiver.spans().len(), 2, "data survives a stop");

    receiver.restart().await.expect("restarts");
    assert!(receiver.is_running().await);
    assert_eq!(
        (receiver.grpc_addr(), receiver.http_addr()),
        (grpc_addr, http_addr)
    );
    assert_eq!(send().await.expect("up again").status(), 200);
    TraceServiceClient::connect(receiver.grpc_endpoint())
        .await
        .expect("gRPC connects")
        .export(traces())
        .await
        .expect("accepted");
    assert_eq!(receiver.spans().len(), 6);

    receiver.shutdown().await;
    assert!(
        tokio::net::TcpStream::connect(http_addr).await.is_err(),
        "closed after shutdown"
    );
}

#[tokio::test]
async fn dropping_the_receiver_closes_its_ports() {
    let receiver = OtlpReceiver::start().await.expect("receiver starts");
    let addr = receiver.http_addr();
    drop(receiver);
    // The listener closes when the runtime drops the aborted task, right after this yield.
    let mut refused = false;
    for _ in 0..50 {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(refused, "port {addr} still open");
}

#[tokio::test]
async fn fixed_ports_and_bind_errors() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let taken_port = taken.local_addr().expect("addr").port();

    let error = OtlpReceiver::builder()
        .with_http_port(taken_port)
        .start()
        .await
        .expect_err("port in use");
    assert!(matches!(
        error,
        StartError::Bind {
            transport: Transport::Http,
            ..
        }
    ));
    assert!(
        error.to_string().starts_with(&format!(
            "cannot bind the OTLP/HTTP listener to 127.0.0.1:{taken_port}: "
        )),
        "{error}"
    );

    drop(taken);
    let receiver = OtlpReceiver::builder()
        .with_http_port(taken_port)
        .start()
        .await
        .expect("port free again");
    assert_eq!(receiver.http_addr().port(), taken_port);
    assert_eq!(
        receiver.http_endpoint(),
        format!("http://127.0.0.1:{taken_port}")
    );
}

#[tokio::test]
async fn body_size_limit_applies() {
    let receiver = OtlpReceiver::builder()
        .with_max_body_size(64)
        .start()
        .await
        .expect("receiver starts");
    let response = post(
        &receiver,
        Signal::Traces,
        "application/x-protobuf",
        traces().encode_to_vec(),
    )
    .await;
    assert_eq!(response.status(), 413);
    let response = http()
        .post(receiver.http_url(Signal::Traces))
        .header("content-type", "application/x-protobuf")
        .header("content-encoding", "gzip")
        .body(gzip(&vec![0u8; 4096]))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 400);
    assert!(
        rpc_status(response)
            .await
            .message
            .contains("decompresses to more than 64 bytes")
    );
    assert!(receiver.spans().is_empty());
}

/// `reqwest` is used without its `json` feature.
trait JsonBody {
    async fn json_body(self) -> serde_json::Value;
}

impl JsonBody for reqwest::Response {
    async fn json_body(self) -> serde_json::Value {
        serde_json::from_slice(&self.bytes().await.expect("body")).expect("JSON body")
    }
}

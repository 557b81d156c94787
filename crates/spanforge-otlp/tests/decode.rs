//! Decoding OTLP export requests: content types, compression, protobuf, OTLP/JSON and its
//! normalisation, validation, answers; and property tests that no input makes any of it panic.

use std::io::Write as _;

use bytes::Bytes;
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, ArrayValue, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1 as pm;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, span};
use proptest::prelude::*;
use prost::Message as _;
use serde_json::Value;
use spanforge_otlp::{
    DecodeError, DecompressError, Encoding, ExportRequest, Signal, decode, decode_json,
    decode_protobuf, decompress,
};

const TRACE_ID: [u8; 16] = [
    0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03, 0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3f, 0xc6, 0x0c,
];
const SPAN_ID: [u8; 8] = [0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74];

// ---------------------------------------------------------------------------------------------
// Sample requests, written the way the Collector and the SDKs write them.

/// Traces in OTLP/JSON using every form the normalisation handles.
const TRACES_JSON: &str = r#"{"resourceSpans":[{
  "resource":{
    "attributes":[{"key":"service.name","value":{"stringValue":"prompt-api"}}],
    "entityRefs":[{"idKeys":["service.name"]}]
  },
  "scopeSpans":[{
    "scope":{"name":"spanforge","version":"0.1.0"},
    "spans":[{
      "traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"eee19b7ec3c1b174","parentSpanId":"",
      "name":"chat gpt-4o-mini","kind":"SPAN_KIND_CLIENT","flags":"257",
      "startTimeUnixNano":"1700000000000000000","endTimeUnixNano":1700000000250000000,
      "droppedAttributesCount":"3","droppedEventsCount":"0","droppedLinksCount":1,
      "attributes":[
        {"key":"gen_ai.usage.input_tokens","value":{"intValue":"1000"}},
        {"key":"gen_ai.usage.cost","value":{"doubleValue":0.00042}},
        {"key":"tags","value":{"arrayValue":{}}},
        {"key":"extra","value":{"kvlistValue":{"values":[{"value":{"boolValue":true}}]}}},
        {"key":"none","value":{"kvlistValue":{"values":null}}},
        {"value":{"bytesValue":"aGVsbG8="}}
      ],
      "events":[{"timeUnixNano":"1700000000100000000","name":"retry","attributes":[]}],
      "links":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b175"}],
      "status":{"code":"STATUS_CODE_ERROR","message":"provider returned 429"}
    },{
      "traceId":"5b8efff798038103d269b633813fc60c","spanId":"0000000000000001",
      "parentSpanId":"eee19b7ec3c1b174","name":"SELECT prompts","kind":3,
      "status":{"code":0}
    }]
  }]
}]}"#;

/// Metrics of every kind, with exemplars.
const METRICS_JSON: &str = r#"{"resourceMetrics":[{
  "resource":{"attributes":[{"key":"service.name","value":{"stringValue":"prompt-api"}}]},
  "scopeMetrics":[{"metrics":[
    {"name":"queue.depth","gauge":{"dataPoints":[{"asDouble":3.5,"timeUnixNano":"1"}]}},
    {"name":"gen_ai.client.token.usage","sum":{
      "aggregationTemporality":"AGGREGATION_TEMPORALITY_CUMULATIVE","isMonotonic":true,
      "dataPoints":[{"asInt":"1000","attributes":[{"key":"gen_ai.token.type","value":{"stringValue":"input"}}],
        "exemplars":[{"asInt":"7","traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174"}]}]}},
    {"name":"http.server.duration","histogram":{"aggregationTemporality":2,"dataPoints":[
      {"count":"3","sum":0.75,"bucketCounts":["1","2","0"],"explicitBounds":[0.1,0.5],"flags":"0",
       "exemplars":[{"asDouble":0.2,"filteredAttributes":[{"value":{"stringValue":"x"}}]}]}]}},
    {"name":"latency","exponentialHistogram":{"aggregationTemporality":1,"dataPoints":[
      {"count":"4","scale":"3","zeroCount":"1","positive":{"offset":"-2","bucketCounts":["1","2"]}}]}},
    {"name":"rpc.latency","summary":{"dataPoints":[
      {"count":"2","sum":1.5,"quantileValues":[{"quantile":0.5,"value":0.7}]}]}}
  ]}]
}]}"#;

/// Logs with severity names and correlation ids.
const LOGS_JSON: &str = r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[
  {"timeUnixNano":"1700000000000000000","severityNumber":"SEVERITY_NUMBER_ERROR","severityText":"ERROR",
   "body":{"stringValue":"provider returned 429"},"flags":"1",
   "traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
   "attributes":[{"key":"retry","value":{"boolValue":true}}]},
  {"severityNumber":9,"body":{"kvlistValue":{}},"traceId":"","spanId":""}
]}]}]}"#;

fn span(name: &str) -> Span {
    Span {
        trace_id: TRACE_ID.to_vec(),
        span_id: SPAN_ID.to_vec(),
        name: name.to_owned(),
        kind: span::SpanKind::Server as i32,
        start_time_unix_nano: 1_700_000_000_000_000_000,
        end_time_unix_nano: 1_700_000_000_250_000_000,
        attributes: vec![KeyValue {
            key: "http.route".to_owned(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue("/chat".to_owned())),
            }),
            ..KeyValue::default()
        }],
        ..Span::default()
    }
}

fn traces(spans: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans,
                ..ScopeSpans::default()
            }],
            ..ResourceSpans::default()
        }],
    }
}

fn logs(records: Vec<LogRecord>) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: records,
                ..ScopeLogs::default()
            }],
            ..ResourceLogs::default()
        }],
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).expect("gzip in memory");
    encoder.finish().expect("gzip in memory")
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).expect("zlib in memory");
    encoder.finish().expect("zlib in memory")
}

fn json_error<T: ExportRequest + std::fmt::Debug>(body: &str) -> String {
    decode_json::<T>(body.as_bytes())
        .expect_err("refused")
        .to_string()
}

// ---------------------------------------------------------------------------------------------
// Signals and content types.

#[test]
fn request_types_name_their_signal_and_message() {
    assert_eq!(ExportTraceServiceRequest::SIGNAL, Signal::Traces);
    assert_eq!(ExportMetricsServiceRequest::SIGNAL, Signal::Metrics);
    assert_eq!(ExportLogsServiceRequest::SIGNAL, Signal::Logs);
    assert_eq!(
        ExportMetricsServiceRequest::MESSAGE_NAME,
        "ExportMetricsServiceRequest"
    );
    assert_eq!(Signal::Logs.to_string(), "logs");
    assert_eq!(Signal::Metrics.http_path(), "/v1/metrics");
    assert_eq!(
        Signal::Traces.grpc_path(),
        "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
    );
}

#[test]
fn content_types_choose_the_encoding() {
    for (value, expected) in [
        ("application/x-protobuf", Encoding::Protobuf),
        ("application/protobuf", Encoding::Protobuf),
        (" Application/X-Protobuf ; proto=x", Encoding::Protobuf),
        ("application/json", Encoding::Json),
        ("application/json; charset=utf-8", Encoding::Json),
    ] {
        assert_eq!(
            Encoding::from_content_type(Some(value)),
            Ok(expected),
            "{value}"
        );
    }
    let error = Encoding::from_content_type(Some("text/plain")).expect_err("refused");
    assert_eq!(error.content_type(), Some("text/plain"));
    assert_eq!(error.http_status(), 415);
    assert_eq!(
        error.to_string(),
        r#"unsupported content type "text/plain"; OTLP/HTTP accepts application/x-protobuf and application/json"#
    );
    let error = Encoding::from_content_type(None).expect_err("refused");
    assert_eq!(
        error.to_string(),
        "unsupported content type (none); OTLP/HTTP accepts application/x-protobuf and application/json"
    );
    assert!(Encoding::from_content_type(Some("application/jsonl")).is_err());
    assert_eq!(Encoding::Json.content_type(), "application/json");
    assert_eq!(Encoding::Protobuf.to_string(), "protobuf");
}

// ---------------------------------------------------------------------------------------------
// Compression.

#[test]
fn identity_bodies_pass_through_without_a_copy() {
    let body = Bytes::from(vec![1u8; 64]);
    for coding in [None, Some(""), Some("identity"), Some(" IDENTITY ")] {
        let out = decompress(body.clone(), coding, 64).expect("identity");
        assert_eq!(out.as_ptr(), body.as_ptr(), "{coding:?}");
    }
    let error = decompress(body, None, 63).expect_err("over the limit");
    assert_eq!(
        error,
        DecompressError::TooLarge {
            coding: "identity",
            limit: 63
        }
    );
    assert_eq!(error.to_string(), "body is larger than 63 bytes");
    assert_eq!(error.http_status(), 400);
}

#[test]
fn gzip_and_deflate_bodies_are_decompressed() {
    let data = traces(vec![span("a"), span("b")]).encode_to_vec();
    for (coding, body) in [
        ("gzip", gzip(&data)),
        ("GZIP", gzip(&data)),
        ("x-gzip", gzip(&data)),
        ("deflate", zlib(&data)),
    ] {
        let out = decompress(Bytes::from(body), Some(coding), data.len()).expect(coding);
        assert_eq!(out, data, "{coding}");
        let request: ExportTraceServiceRequest = decode_protobuf(&out).expect("decodes");
        assert_eq!(request.item_count(), 2);
    }
    // Concatenated gzip members are one stream, as HTTP clients that stream-compress send them.
    let mut two = gzip(b"hello ");
    two.extend(gzip(b"world"));
    assert_eq!(
        decompress(Bytes::from(two), Some("gzip"), 11).expect("two members"),
        "hello world"
    );
}

#[test]
fn a_gzip_bomb_is_refused_at_the_limit() {
    // 8 MiB of zeros compress to about 8 KiB; the limit stops the expansion at 1 MiB + 1.
    let zeros = vec![0u8; 1 << 20];
    let bomb = {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        for _ in 0..8 {
            encoder.write_all(&zeros).expect("gzip in memory");
        }
        encoder.finish().expect("gzip in memory")
    };
    assert!(bomb.len() < 16 << 10, "{} bytes", bomb.len());
    // And 1 GiB as 1024 concatenated members of 1 MiB each, in about 1 MiB.
    let member = gzip(&zeros);
    let members = member.repeat(1024);
    for bomb in [bomb, members] {
        let error = decompress(Bytes::from(bomb), Some("gzip"), 1 << 20).expect_err("bomb");
        assert_eq!(
            error,
            DecompressError::TooLarge {
                coding: "gzip",
                limit: 1 << 20
            }
        );
        assert_eq!(
            error.to_string(),
            "gzip body decompresses to more than 1048576 bytes"
        );
    }

    // Exactly at the limit is fine; one byte over is not.
    let body = Bytes::from(gzip(&[7u8; 1000]));
    assert_eq!(
        decompress(body.clone(), Some("gzip"), 1000)
            .expect("at the limit")
            .len(),
        1000
    );
    assert!(matches!(
        decompress(body, Some("gzip"), 999),
        Err(DecompressError::TooLarge { limit: 999, .. })
    ));
}

#[test]
fn corrupt_and_unsupported_bodies_are_refused() {
    let error = decompress(Bytes::from_static(b"not gzip at all"), Some("gzip"), 1024)
        .expect_err("corrupt");
    assert!(matches!(
        error,
        DecompressError::Corrupt { coding: "gzip", .. }
    ));
    assert!(
        error
            .to_string()
            .starts_with("body is not valid gzip data: "),
        "{error}"
    );
    assert_eq!(error.http_status(), 400);

    // A truncated stream is corrupt too, not a short body.
    let mut truncated = gzip(&[1u8; 4096]);
    truncated.truncate(truncated.len() / 2);
    assert!(matches!(
        decompress(Bytes::from(truncated), Some("gzip"), 1 << 20),
        Err(DecompressError::Corrupt { .. })
    ));
    assert!(matches!(
        decompress(Bytes::from(gzip(b"x")), Some("deflate"), 1024),
        Err(DecompressError::Corrupt {
            coding: "deflate",
            ..
        })
    ));

    let error = decompress(Bytes::from_static(b"x"), Some("br"), 1024).expect_err("br");
    assert_eq!(
        error,
        DecompressError::UnsupportedEncoding {
            content_encoding: "br".to_owned()
        }
    );
    assert_eq!(error.http_status(), 415);
    assert_eq!(
        error.to_string(),
        r#"unsupported Content-Encoding "br"; this receiver accepts gzip, deflate and identity"#
    );
}

// ---------------------------------------------------------------------------------------------
// Protobuf, validation.

#[test]
fn protobuf_requests_decode_and_count_their_items() {
    let request = traces(vec![span("a"), span("b"), span("c")]);
    let decoded: ExportTraceServiceRequest =
        decode_protobuf(&request.encode_to_vec()).expect("decodes");
    assert_eq!(decoded, request);
    assert_eq!(decoded.item_count(), 3);
    let decoded: ExportTraceServiceRequest =
        decode(&request.encode_to_vec(), Encoding::Protobuf).expect("decodes");
    assert_eq!(decoded, request);

    let error = decode_protobuf::<ExportLogsServiceRequest>(b"\xff\xff\xff not protobuf")
        .expect_err("garbage");
    assert!(matches!(
        error,
        DecodeError::Protobuf {
            message_name: "ExportLogsServiceRequest",
            ..
        }
    ));
    assert!(
        error
            .to_string()
            .starts_with("invalid protobuf ExportLogsServiceRequest: "),
        "{error}"
    );
    assert_eq!(error.http_status(), 400);
}

/// Breaks one id of a span.
type Breakage = fn(&mut Span);

#[test]
fn span_ids_of_the_wrong_length_are_refused() {
    const AT: &str = r#"resourceSpans[0].scopeSpans[0].spans[1] (name "bad")"#;
    let cases: [(Breakage, &str); 5] = [
        (
            |s| s.trace_id = vec![1, 2, 3],
            r#"resourceSpans[0].scopeSpans[0].spans[1] (name "bad"): traceId is 3 bytes, expected 16"#,
        ),
        (
            |s| s.trace_id.clear(),
            r#"resourceSpans[0].scopeSpans[0].spans[1] (name "bad"): traceId is 0 bytes, expected 16"#,
        ),
        (
            |s| s.span_id = vec![1, 2],
            r#"resourceSpans[0].scopeSpans[0].spans[1] (name "bad"): spanId is 2 bytes, expected 8"#,
        ),
        (
            |s| s.parent_span_id = vec![0; 16],
            r#"resourceSpans[0].scopeSpans[0].spans[1] (name "bad"): parentSpanId is 16 bytes, expected 8 (or empty)"#,
        ),
        (
            |s| {
                s.links = vec![span::Link {
                    trace_id: TRACE_ID.to_vec(),
                    span_id: vec![9; 7],
                    ..span::Link::default()
                }]
            },
            r#"resourceSpans[0].scopeSpans[0].spans[1] (name "bad").links[0]: spanId is 7 bytes, expected 8"#,
        ),
    ];
    for (break_it, expected) in cases {
        let mut bad = span("bad");
        break_it(&mut bad);
        let request = traces(vec![span("good"), bad]);
        let error = request.validate().expect_err(expected);
        assert_eq!(error.to_string(), expected);
        assert!(error.location().starts_with(AT), "{error}");
        assert!(expected.starts_with(error.location()), "{error}");
        // Both decoders validate.
        let from_protobuf = decode_protobuf::<ExportTraceServiceRequest>(&request.encode_to_vec())
            .expect_err("protobuf refused");
        assert_eq!(from_protobuf, DecodeError::Invalid(error.clone()));
        assert_eq!(from_protobuf.to_string(), expected);
        let json = serde_json::to_vec(&request).expect("serialize");
        let from_json = decode_json::<ExportTraceServiceRequest>(&json).expect_err("JSON refused");
        assert_eq!(from_json.to_string(), expected);
    }
    let mut parentless = span("root");
    parentless.parent_span_id.clear();
    traces(vec![parentless])
        .validate()
        .expect("an empty parent is a root");
}

#[test]
fn log_and_exemplar_ids_may_be_empty_but_not_short() {
    let mut record = LogRecord {
        trace_id: TRACE_ID.to_vec(),
        span_id: SPAN_ID.to_vec(),
        ..LogRecord::default()
    };
    logs(vec![record.clone(), LogRecord::default()])
        .validate()
        .expect("full or empty ids");
    record.span_id = vec![1; 4];
    let error = logs(vec![LogRecord::default(), record])
        .validate()
        .expect_err("short span id");
    assert_eq!(error.field(), "spanId");
    assert_eq!(
        error.to_string(),
        "resourceLogs[0].scopeLogs[0].logRecords[1]: spanId is 4 bytes, expected 8 (or empty)"
    );

    let metrics = |trace_id: Vec<u8>| ExportMetricsServiceRequest {
        resource_metrics: vec![pm::ResourceMetrics {
            scope_metrics: vec![pm::ScopeMetrics {
                metrics: vec![pm::Metric {
                    name: "m".to_owned(),
                    data: Some(pm::metric::Data::Histogram(pm::Histogram {
                        data_points: vec![pm::HistogramDataPoint {
                            exemplars: vec![pm::Exemplar {
                                trace_id,
                                ..pm::Exemplar::default()
                            }],
                            ..pm::HistogramDataPoint::default()
                        }],
                        ..pm::Histogram::default()
                    })),
                    ..pm::Metric::default()
                }],
                ..pm::ScopeMetrics::default()
            }],
            ..pm::ResourceMetrics::default()
        }],
    };
    metrics(Vec::new()).validate().expect("no trace");
    metrics(TRACE_ID.to_vec()).validate().expect("a trace");
    assert_eq!(
        metrics(vec![0; 15])
            .validate()
            .expect_err("short")
            .to_string(),
        r#"resourceMetrics[0].scopeMetrics[0].metrics[0] (name "m"), an exemplar: traceId is 15 bytes, expected 16 (or empty)"#
    );
}

#[test]
fn protobuf_nested_beyond_the_recursion_limit_is_an_error() {
    let mut value = AnyValue {
        value: Some(any_value::Value::StringValue("leaf".to_owned())),
    };
    for _ in 0..200 {
        value = AnyValue {
            value: Some(any_value::Value::ArrayValue(ArrayValue {
                values: vec![value],
            })),
        };
    }
    let mut deep = span("deep");
    deep.attributes = vec![KeyValue {
        key: "deep".to_owned(),
        value: Some(value),
        ..KeyValue::default()
    }];
    let body = traces(vec![deep]).encode_to_vec();
    let error = decode_protobuf::<ExportTraceServiceRequest>(&body).expect_err("too deep");
    assert!(error.to_string().contains("recursion limit"), "{error}");
}

// ---------------------------------------------------------------------------------------------
// OTLP/JSON and its normalisation.

#[test]
fn collector_style_traces_json_is_normalised() {
    let request: ExportTraceServiceRequest = decode_json(TRACES_JSON.as_bytes()).expect("decodes");
    assert_eq!(request.item_count(), 2);
    let resource = request.resource_spans[0]
        .resource
        .as_ref()
        .expect("resource");
    // An `EntityRef` without `type`, `schemaUrl` and `descriptionKeys`.
    assert_eq!(resource.entity_refs[0].id_keys, ["service.name"]);
    assert_eq!(resource.entity_refs[0].r#type, "");
    let spans = &request.resource_spans[0].scope_spans[0].spans;
    let s = &spans[0];
    // Hex ids in upper case.
    assert_eq!(s.trace_id, TRACE_ID);
    assert_eq!(s.span_id, SPAN_ID);
    // Enum names.
    assert_eq!(s.kind, span::SpanKind::Client as i32);
    let status = s.status.as_ref().expect("status");
    assert_eq!(status.code, 2);
    assert_eq!(status.message, "provider returned 429");
    assert_eq!(spans[1].status.as_ref().expect("status").code, 0);
    // 32-bit integers as strings, 64-bit ones as numbers.
    assert_eq!(s.flags, 257);
    assert_eq!(s.dropped_attributes_count, 3);
    assert_eq!(s.dropped_links_count, 1);
    assert_eq!(s.end_time_unix_nano, 1_700_000_000_250_000_000);
    // Empty `arrayValue` / `kvlistValue`, a `KeyValue` without `key`.
    let value = |i: usize| s.attributes[i].value.as_ref().and_then(|v| v.value.clone());
    assert_eq!(
        value(2),
        Some(any_value::Value::ArrayValue(ArrayValue { values: vec![] }))
    );
    match value(3) {
        Some(any_value::Value::KvlistValue(list)) => {
            assert_eq!(list.values.len(), 1);
            assert_eq!(list.values[0].key, "");
        }
        other => panic!("expected a kvlist, got {other:?}"),
    }
    assert!(matches!(value(4), Some(any_value::Value::KvlistValue(l)) if l.values.is_empty()));
    assert_eq!(s.attributes[5].key, "");
    assert_eq!(
        value(5),
        Some(any_value::Value::BytesValue(b"hello".to_vec()))
    );
    assert_eq!(s.links[0].span_id[7], 0x75);
}

#[test]
fn collector_style_metrics_and_logs_json_is_normalised() {
    let metrics: ExportMetricsServiceRequest =
        decode_json(METRICS_JSON.as_bytes()).expect("decodes");
    assert_eq!(metrics.item_count(), 5);
    let list = &metrics.resource_metrics[0].scope_metrics[0].metrics;
    match &list[1].data {
        Some(pm::metric::Data::Sum(sum)) => {
            assert_eq!(
                sum.aggregation_temporality,
                pm::AggregationTemporality::Cumulative as i32
            );
            assert_eq!(
                sum.data_points[0].value,
                Some(pm::number_data_point::Value::AsInt(1000))
            );
            assert_eq!(sum.data_points[0].exemplars[0].span_id, SPAN_ID);
        }
        other => panic!("expected a sum, got {other:?}"),
    }
    match &list[3].data {
        Some(pm::metric::Data::ExponentialHistogram(h)) => {
            let point = &h.data_points[0];
            assert_eq!(point.scale, 3);
            assert_eq!(point.positive.as_ref().expect("positive").offset, -2);
        }
        other => panic!("expected an exponential histogram, got {other:?}"),
    }

    let logs: ExportLogsServiceRequest = decode_json(LOGS_JSON.as_bytes()).expect("decodes");
    assert_eq!(logs.item_count(), 2);
    let records = &logs.resource_logs[0].scope_logs[0].log_records;
    assert_eq!(records[0].severity_number, 17);
    assert_eq!(records[0].flags, 1);
    assert_eq!(records[0].trace_id, TRACE_ID);
    assert_eq!(records[1].severity_number, 9);
    assert!(records[1].trace_id.is_empty());
}

#[test]
fn what_serde_serializes_decodes_back() {
    let request = traces(vec![span("a"), span("b")]);
    let json = serde_json::to_vec(&request).expect("serialize");
    assert_eq!(
        decode::<ExportTraceServiceRequest>(&json, Encoding::Json).expect("decodes"),
        request
    );
    let empty: ExportLogsServiceRequest = decode_json(b"{}").expect("an empty request");
    assert_eq!(empty.item_count(), 0);
}

#[test]
fn malformed_metric_data_is_an_error_not_missing_data() {
    type M = ExportMetricsServiceRequest;
    let metric =
        |m: &str| format!(r#"{{"resourceMetrics":[{{"scopeMetrics":[{{"metrics":[{m}]}}]}}]}}"#);
    assert_eq!(
        json_error::<M>(&metric(
            r#"{"name":"m","sum":{"dataPoints":[{"asInt":"12x"}]}}"#
        )),
        r#"invalid OTLP/JSON ExportMetricsServiceRequest: resourceMetrics[0].scopeMetrics[0].metrics[0] (name "m").dataPoints[0].asInt: "12x" is not a valid int64 (a JSON integer or a decimal string)"#
    );
    assert_eq!(
        json_error::<M>(&metric(
            r#"{"name":"g","gauge":{"dataPoints":[{"asDouble":"fast"}]}}"#
        )),
        r#"invalid OTLP/JSON ExportMetricsServiceRequest: resourceMetrics[0].scopeMetrics[0].metrics[0] (name "g").dataPoints[0].asDouble: "fast" is not a valid double"#
    );
    let error = json_error::<M>(&metric(
        r#"{"name":"h","histogram":{"dataPoints":[{"count":"3x"}]}}"#,
    ));
    assert!(
        error.contains(r#"metrics[0] (name "h").histogram: invalid digit found in string"#),
        "{error}"
    );
    let error = json_error::<M>(&metric(
        r#"{"name":"h","histogram":{"dataPoints":[{"explicitBounds":["Infinity"]}]}}"#,
    ));
    assert!(error.contains(r#"(name "h").histogram: "#), "{error}");
    let error = json_error::<M>(&metric(
        r#"{"name":"e","histogram":{"dataPoints":[{"exemplars":[{"asInt":"1.5"}]}]}}"#,
    ));
    assert!(
        error
            .contains(r#"(name "e").dataPoints[0].exemplars[0].asInt: "1.5" is not a valid int64"#),
        "{error}"
    );
    // A metric without any data is not an error: OTLP allows it.
    let request: M = decode_json(metric(r#"{"name":"empty"}"#).as_bytes()).expect("no data");
    assert_eq!(request.item_count(), 0);
    // Nor is a point without a value.
    let request: M =
        decode_json(metric(r#"{"name":"p","sum":{"dataPoints":[{"asInt":null}]}}"#).as_bytes())
            .expect("no value");
    assert_eq!(request.item_count(), 1);
}

#[test]
fn json_that_is_not_a_request_is_refused_with_a_reason() {
    type T = ExportTraceServiceRequest;
    assert!(json_error::<T>(r#"{"resourceSpans": ["#).starts_with("invalid JSON: "),);
    assert_eq!(
        json_error::<T>("[1, 2]"),
        "invalid OTLP/JSON ExportTraceServiceRequest: expected a JSON object"
    );
    assert_eq!(
        json_error::<ExportLogsServiceRequest>("null"),
        "invalid OTLP/JSON ExportLogsServiceRequest: expected a JSON object"
    );
    let error = json_error::<T>(
        r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"not-hex","name":"x"}]}]}]}"#,
    );
    assert!(
        error.starts_with("invalid OTLP/JSON ExportTraceServiceRequest: "),
        "{error}"
    );
    // An enum name that does not exist stays a string, and is refused.
    let error = json_error::<T>(
        r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"kind":"SPAN_KIND_SIDEWAYS"}]}]}]}"#,
    );
    assert!(error.contains("SPAN_KIND_SIDEWAYS"), "{error}");
    assert!(matches!(
        decode_json::<T>(b"\"x\""),
        Err(DecodeError::OtlpJson { .. })
    ));
    assert!(matches!(
        decode_json::<T>(b"{"),
        Err(DecodeError::Json { .. })
    ));
}

#[test]
fn deeply_nested_json_is_an_error_not_a_stack_overflow() {
    for (open, close) in [("[", "]"), (r#"{"a":"#, "}")] {
        let body = format!(
            r#"{{"resourceSpans":{}1{}}}"#,
            open.repeat(100_000),
            close.repeat(100_000)
        );
        let error = decode_json::<ExportTraceServiceRequest>(body.as_bytes()).expect_err("deep");
        assert!(error.to_string().contains("recursion limit"), "{error}");
    }
}

// ---------------------------------------------------------------------------------------------
// Answers.

#[test]
fn responses_encode_in_the_request_encoding() {
    let ok = ExportTraceServiceRequest::success();
    assert_eq!(ok, ExportTraceServiceResponse::default());
    assert_eq!(Encoding::Json.encode_response(&ok), b"{}");
    assert!(Encoding::Protobuf.encode_response(&ok).is_empty());

    let partial = ExportLogsServiceRequest::partial_success(1, "span name too long");
    assert_eq!(
        String::from_utf8(Encoding::Json.encode_response(&partial)).expect("UTF-8"),
        r#"{"partialSuccess":{"rejectedLogRecords":1,"errorMessage":"span name too long"}}"#
    );
    let decoded =
        ExportLogsServiceResponse::decode(&Encoding::Protobuf.encode_response(&partial)[..])
            .expect("protobuf");
    assert_eq!(decoded, partial);

    let partial = ExportMetricsServiceRequest::partial_success(0, "deprecated unit");
    let decoded: ExportMetricsServiceResponse =
        serde_json::from_slice(&Encoding::Json.encode_response(&partial)).expect("JSON");
    assert_eq!(decoded, partial);
}

#[test]
fn status_bodies_are_google_rpc_status() {
    #[derive(Clone, PartialEq, prost::Message)]
    struct Status {
        #[prost(int32, tag = "1")]
        code: i32,
        #[prost(string, tag = "2")]
        message: String,
    }
    let body = Encoding::Protobuf.encode_status(3, "invalid JSON: EOF");
    assert_eq!(
        Status::decode(&body[..]).expect("google.rpc.Status"),
        Status {
            code: 3,
            message: "invalid JSON: EOF".to_owned()
        }
    );
    let body = Encoding::Json.encode_status(14, "down \"for now\"");
    let status: Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(
        status,
        serde_json::json!({"code": 14, "message": "down \"for now\""})
    );
}

// ---------------------------------------------------------------------------------------------
// Property tests: no input panics.

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 128,
        // The failure persistence file would be written next to this file.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Decodes `body` as every signal in every encoding; returns whether anything decoded.
fn decode_everything(body: &[u8]) -> bool {
    let mut any = false;
    for encoding in [Encoding::Protobuf, Encoding::Json] {
        any |= decode::<ExportTraceServiceRequest>(body, encoding).is_ok();
        any |= decode::<ExportMetricsServiceRequest>(body, encoding).is_ok();
        any |= decode::<ExportLogsServiceRequest>(body, encoding).is_ok();
    }
    any
}

fn valid_bodies() -> Vec<(Signal, Encoding, Vec<u8>)> {
    let metrics: ExportMetricsServiceRequest =
        decode_json(METRICS_JSON.as_bytes()).expect("sample decodes");
    let logs: ExportLogsServiceRequest = decode_json(LOGS_JSON.as_bytes()).expect("sample decodes");
    let traces: ExportTraceServiceRequest =
        decode_json(TRACES_JSON.as_bytes()).expect("sample decodes");
    vec![
        (
            Signal::Traces,
            Encoding::Json,
            TRACES_JSON.as_bytes().to_vec(),
        ),
        (
            Signal::Metrics,
            Encoding::Json,
            METRICS_JSON.as_bytes().to_vec(),
        ),
        (Signal::Logs, Encoding::Json, LOGS_JSON.as_bytes().to_vec()),
        (Signal::Traces, Encoding::Protobuf, traces.encode_to_vec()),
        (Signal::Metrics, Encoding::Protobuf, metrics.encode_to_vec()),
        (Signal::Logs, Encoding::Protobuf, logs.encode_to_vec()),
    ]
}

fn decode_as(signal: Signal, encoding: Encoding, body: &[u8]) -> Result<usize, DecodeError> {
    match signal {
        Signal::Traces => {
            decode::<ExportTraceServiceRequest>(body, encoding).map(|r| r.item_count())
        }
        Signal::Metrics => {
            decode::<ExportMetricsServiceRequest>(body, encoding).map(|r| r.item_count())
        }
        Signal::Logs => decode::<ExportLogsServiceRequest>(body, encoding).map(|r| r.item_count()),
    }
}

/// A byte-level edit of a body.
#[derive(Debug, Clone)]
enum Mutation {
    Flip(prop::sample::Index, u8),
    Insert(prop::sample::Index, Vec<u8>),
    Delete(prop::sample::Index, usize),
    Truncate(prop::sample::Index),
    Duplicate(prop::sample::Index, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<prop::sample::Index>(), 1..=255u8).prop_map(|(i, x)| Mutation::Flip(i, x)),
        (
            any::<prop::sample::Index>(),
            prop::collection::vec(any::<u8>(), 1..8)
        )
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
        (any::<prop::sample::Index>(), 1..16usize).prop_map(|(i, n)| Mutation::Delete(i, n)),
        any::<prop::sample::Index>().prop_map(Mutation::Truncate),
        (any::<prop::sample::Index>(), 1..32usize).prop_map(|(i, n)| Mutation::Duplicate(i, n)),
    ]
}

fn apply(body: &mut Vec<u8>, mutation: &Mutation) {
    if body.is_empty() {
        return;
    }
    match mutation {
        Mutation::Flip(i, x) => {
            let i = i.index(body.len());
            body[i] ^= x;
        }
        Mutation::Insert(i, bytes) => {
            let i = i.index(body.len() + 1);
            body.splice(i..i, bytes.iter().copied());
        }
        Mutation::Delete(i, n) => {
            let i = i.index(body.len());
            body.drain(i..(i + n).min(body.len()));
        }
        Mutation::Truncate(i) => body.truncate(i.index(body.len())),
        Mutation::Duplicate(i, n) => {
            let i = i.index(body.len());
            let copy = body[i..(i + n).min(body.len())].to_vec();
            body.splice(i..i, copy);
        }
    }
}

/// JSON values made of the pieces OTLP/JSON uses, to put anywhere in a valid request.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        prop::sample::select(vec![
            "",
            "12x",
            "-1",
            "4294967296",
            "99999999999999999999",
            "Infinity",
            "NaN",
            "SPAN_KIND_SERVER",
            "STATUS_CODE_ERROR",
            "SEVERITY_NUMBER_WARN",
            "AGGREGATION_TEMPORALITY_DELTA",
            "5b8efff798038103d269b633813fc60c",
            "eee19b7ec3c1b174",
            "0102",
            "aGVsbG8=",
        ])
        .prop_map(Value::from),
        "[a-zA-Z0-9 _.=+/-]{0,12}".prop_map(Value::from),
    ];
    let keys = prop::sample::select(vec![
        "key",
        "value",
        "values",
        "stringValue",
        "intValue",
        "arrayValue",
        "kvlistValue",
        "attributes",
        "asInt",
        "asDouble",
        "dataPoints",
        "exemplars",
        "sum",
        "gauge",
        "histogram",
        "kind",
        "code",
        "flags",
        "traceId",
        "spanId",
        "entityRefs",
    ]);
    leaf.prop_recursive(3, 24, 4, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(keys.clone(), inner, 0..4).prop_map(|m| Value::Object(
                m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
            )),
        ]
    })
}

/// Every JSON pointer in `value`, the root included.
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                pointers(item, format!("{at}/{i}"), out);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                let key = key.replace('~', "~0").replace('/', "~1");
                pointers(item, format!("{at}/{key}"), out);
            }
        }
        _ => {}
    }
    out.push(at);
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..512)) {
        decode_everything(&body);
        for coding in [None, Some("gzip"), Some("deflate"), Some("identity"), Some("zstd")] {
            let _ = decompress(Bytes::from(body.clone()), coding, 256);
        }
    }

    #[test]
    fn arbitrary_gzip_streams_never_panic(tail in prop::collection::vec(any::<u8>(), 0..256)) {
        // A valid gzip header, so the decompressor gets past it into the deflate data.
        let mut body = vec![0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff];
        body.extend(tail);
        if let Ok(out) = decompress(Bytes::from(body), Some("gzip"), 4096) {
            prop_assert!(out.len() <= 4096);
            decode_everything(&out);
        }
    }

    #[test]
    fn arbitrary_json_never_panics(value in json_value()) {
        let body = serde_json::to_vec(&value).expect("serialize");
        decode_everything(&body);
    }

    #[test]
    fn mutated_requests_decode_or_fail_cleanly(
        which in 0..6usize,
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let (signal, encoding, mut body) = valid_bodies().swap_remove(which);
        for m in &mutations {
            apply(&mut body, m);
        }
        let _ = decode_as(signal, encoding, &body);
        // Compressed, then mutated: the decompressor sees the damage first.
        let (_, _, plain) = valid_bodies().swap_remove(which);
        let mut compressed = gzip(&plain);
        for m in &mutations {
            apply(&mut compressed, m);
        }
        if let Ok(out) = decompress(Bytes::from(compressed), Some("gzip"), 1 << 16) {
            let _ = decode_as(signal, encoding, &out);
        }
    }

    #[test]
    fn json_requests_with_a_value_replaced_decode_or_fail_cleanly(
        which in 0..3usize,
        at in any::<prop::sample::Index>(),
        replacement in json_value(),
    ) {
        let (signal, _, body) = valid_bodies().swap_remove(which);
        let mut json: Value = serde_json::from_slice(&body).expect("valid JSON");
        let mut all = Vec::new();
        pointers(&json, String::new(), &mut all);
        let pointer = &all[at.index(all.len())];
        if let Some(slot) = json.pointer_mut(pointer) {
            *slot = replacement;
        }
        let body = serde_json::to_vec(&json).expect("serialize");
        if let Ok(items) = decode_as(signal, Encoding::Json, &body) {
            // Whatever decodes is valid, and counts no more items than there were to begin with.
            prop_assert!(items <= 5);
        }
    }

    #[test]
    fn valid_protobuf_requests_round_trip(names in prop::collection::vec("[ -~]{0,16}", 0..8)) {
        let request = traces(names.iter().map(|n| span(n)).collect());
        let decoded: ExportTraceServiceRequest =
            decode_protobuf(&request.encode_to_vec()).expect("decodes");
        prop_assert_eq!(decoded.item_count(), names.len());
        prop_assert_eq!(decoded, request);
    }
}

//! Decoding and validating OTLP export requests (protobuf and OTLP/JSON).
//!
//! OTLP/JSON is parsed with opentelemetry-proto's serde support after a normalisation pass
//! that closes the gaps between what that support accepts and what real senders emit:
//!
//! - `{"arrayValue":{}}` and `{"kvlistValue":{}}` (how the Collector writes empty arrays and
//!   maps) fail with "missing field `values`": an empty `values` is inserted.
//! - A `KeyValue` without `key` and an `EntityRef` with omitted empty fields are rejected
//!   (those structs have no `#[serde(default)]`): the defaults are inserted.
//! - Enum names (`"kind":"SPAN_KIND_SERVER"`), which the Collector accepts, are rejected
//!   (only integers parse): they are mapped to their numbers.
//! - 32-bit integers written as strings (`"droppedAttributesCount":"3"`, valid in the proto3
//!   JSON mapping) are rejected: they are turned into numbers.
//!
//! And one silent failure is turned into an error: inside `Metric.data` and the data point /
//! exemplar `value` oneofs, opentelemetry-proto uses `#[serde(flatten)]` on an `Option`, which
//! swallows every error below it. A metric whose `sum` has a malformed data point (or a
//! histogram whose `explicitBounds` holds `"Infinity"`) parses as a metric with *no data*, and
//! `"asInt":"12x"` parses as a point with no value. [`check_metrics_json`] walks the JSON next
//! to the parsed request and reports the real error instead.

use std::io::Read;

use bytes::Bytes;
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::logs::v1::SeverityNumber;
use opentelemetry_proto::tonic::metrics::v1 as pm;
use opentelemetry_proto::tonic::trace::v1 as pt;
use serde::Deserialize as _;
use serde_json::{Map, Value};

use super::fault::Signal;
use super::model::{self, Encoding, Transport};
use super::store::Data;

/// One of the three OTLP export request types.
pub(crate) trait ExportRequest:
    prost::Message + serde::de::DeserializeOwned + Default + Sized + Send + 'static
{
    /// The response type.
    type Response: prost::Message + serde::Serialize + Default + Send + 'static;

    const SIGNAL: Signal;
    const MESSAGE_NAME: &'static str;

    /// Spans, data points or log records in the request.
    fn item_count(&self) -> usize;

    /// Checks what neither prost nor serde checks (id lengths).
    fn validate(&self) -> Result<(), String>;

    /// JSON-only checks against the parsed request (see the module docs).
    fn check_json(&self, _json: &Value) -> Result<(), String> {
        Ok(())
    }

    fn response(partial: Option<(i64, String)>) -> Self::Response;

    fn store_into(self, data: &mut Data, transport: Transport, encoding: Encoding);
}

impl ExportRequest for ExportTraceServiceRequest {
    type Response = ExportTraceServiceResponse;
    const SIGNAL: Signal = Signal::Traces;
    const MESSAGE_NAME: &'static str = "ExportTraceServiceRequest";

    fn item_count(&self) -> usize {
        self.resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .map(|s| s.spans.len())
            .sum()
    }

    fn validate(&self) -> Result<(), String> {
        for (ri, rs) in self.resource_spans.iter().enumerate() {
            for (si, ss) in rs.scope_spans.iter().enumerate() {
                for (i, span) in ss.spans.iter().enumerate() {
                    let at = || {
                        format!(
                            "resourceSpans[{ri}].scopeSpans[{si}].spans[{i}] (name {:?})",
                            span.name
                        )
                    };
                    check_id(&span.trace_id, &[16], "traceId", &at)?;
                    check_id(&span.span_id, &[8], "spanId", &at)?;
                    check_id(&span.parent_span_id, &[0, 8], "parentSpanId", &at)?;
                    for (li, link) in span.links.iter().enumerate() {
                        let at = || format!("{}.links[{li}]", at());
                        check_id(&link.trace_id, &[16], "traceId", &at)?;
                        check_id(&link.span_id, &[8], "spanId", &at)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn response(partial: Option<(i64, String)>) -> ExportTraceServiceResponse {
        ExportTraceServiceResponse {
            partial_success: partial.map(|(rejected_spans, error_message)| {
                ExportTracePartialSuccess {
                    rejected_spans,
                    error_message,
                }
            }),
        }
    }

    fn store_into(self, data: &mut Data, transport: Transport, encoding: Encoding) {
        data.spans
            .extend(model::flatten_spans(&self, transport, encoding));
        data.trace_requests.push(self);
    }
}

impl ExportRequest for ExportMetricsServiceRequest {
    type Response = ExportMetricsServiceResponse;
    const SIGNAL: Signal = Signal::Metrics;
    const MESSAGE_NAME: &'static str = "ExportMetricsServiceRequest";

    fn item_count(&self) -> usize {
        use pm::metric::Data as D;
        self.resource_metrics
            .iter()
            .flat_map(|r| &r.scope_metrics)
            .flat_map(|s| &s.metrics)
            .map(|m| match &m.data {
                Some(D::Gauge(g)) => g.data_points.len(),
                Some(D::Sum(s)) => s.data_points.len(),
                Some(D::Histogram(h)) => h.data_points.len(),
                Some(D::ExponentialHistogram(h)) => h.data_points.len(),
                Some(D::Summary(s)) => s.data_points.len(),
                None => 0,
            })
            .sum()
    }

    fn validate(&self) -> Result<(), String> {
        use pm::metric::Data as D;
        for (ri, rm) in self.resource_metrics.iter().enumerate() {
            for (si, sm) in rm.scope_metrics.iter().enumerate() {
                for (mi, metric) in sm.metrics.iter().enumerate() {
                    let exemplars: Vec<&pm::Exemplar> = match &metric.data {
                        Some(D::Gauge(g)) => {
                            g.data_points.iter().flat_map(|p| &p.exemplars).collect()
                        }
                        Some(D::Sum(s)) => {
                            s.data_points.iter().flat_map(|p| &p.exemplars).collect()
                        }
                        Some(D::Histogram(h)) => {
                            h.data_points.iter().flat_map(|p| &p.exemplars).collect()
                        }
                        Some(D::ExponentialHistogram(h)) => {
                            h.data_points.iter().flat_map(|p| &p.exemplars).collect()
                        }
                        Some(D::Summary(_)) | None => Vec::new(),
                    };
                    for ex in exemplars {
                        let at = || {
                            format!(
                                "resourceMetrics[{ri}].scopeMetrics[{si}].metrics[{mi}] (name {:?}), an exemplar",
                                metric.name
                            )
                        };
                        check_id(&ex.trace_id, &[0, 16], "traceId", &at)?;
                        check_id(&ex.span_id, &[0, 8], "spanId", &at)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn check_json(&self, json: &Value) -> Result<(), String> {
        check_metrics_json(self, json)
    }

    fn response(partial: Option<(i64, String)>) -> ExportMetricsServiceResponse {
        ExportMetricsServiceResponse {
            partial_success: partial.map(|(rejected_data_points, error_message)| {
                ExportMetricsPartialSuccess {
                    rejected_data_points,
                    error_message,
                }
            }),
        }
    }

    fn store_into(self, data: &mut Data, transport: Transport, encoding: Encoding) {
        data.metrics
            .extend(model::flatten_metrics(&self, transport, encoding));
        data.metric_requests.push(self);
    }
}

impl ExportRequest for ExportLogsServiceRequest {
    type Response = ExportLogsServiceResponse;
    const SIGNAL: Signal = Signal::Logs;
    const MESSAGE_NAME: &'static str = "ExportLogsServiceRequest";

    fn item_count(&self) -> usize {
        self.resource_logs
            .iter()
            .flat_map(|r| &r.scope_logs)
            .map(|s| s.log_records.len())
            .sum()
    }

    fn validate(&self) -> Result<(), String> {
        for (ri, rl) in self.resource_logs.iter().enumerate() {
            for (si, sl) in rl.scope_logs.iter().enumerate() {
                for (i, record) in sl.log_records.iter().enumerate() {
                    let at = || format!("resourceLogs[{ri}].scopeLogs[{si}].logRecords[{i}]");
                    check_id(&record.trace_id, &[0, 16], "traceId", &at)?;
                    check_id(&record.span_id, &[0, 8], "spanId", &at)?;
                }
            }
        }
        Ok(())
    }

    fn response(partial: Option<(i64, String)>) -> ExportLogsServiceResponse {
        ExportLogsServiceResponse {
            partial_success: partial.map(|(rejected_log_records, error_message)| {
                ExportLogsPartialSuccess {
                    rejected_log_records,
                    error_message,
                }
            }),
        }
    }

    fn store_into(self, data: &mut Data, transport: Transport, encoding: Encoding) {
        data.logs
            .extend(model::flatten_logs(&self, transport, encoding));
        data.log_requests.push(self);
    }
}

fn check_id(
    id: &[u8],
    allowed: &[usize],
    field: &str,
    at: &dyn Fn() -> String,
) -> Result<(), String> {
    if allowed.contains(&id.len()) {
        return Ok(());
    }
    let expected = match allowed {
        [n] => format!("{n}"),
        [0, n] => format!("{n} (or empty)"),
        _ => format!("{allowed:?}"),
    };
    Err(format!(
        "{}: {field} is {} bytes, expected {expected}",
        at(),
        id.len()
    ))
}

/// Why a body could not be turned into bytes to decode.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// A `Content-Encoding` this receiver does not implement (answer 415).
    UnsupportedEncoding(String),
    /// A body that does not decompress, or decompresses past the limit (answer 400).
    Invalid(String),
}

/// Undoes `Content-Encoding` (`gzip`, `deflate` (zlib), `identity`), bounded by `limit` bytes.
pub(crate) fn decompress(
    content_encoding: Option<&str>,
    body: Bytes,
    limit: usize,
) -> Result<Bytes, BodyError> {
    let coding = content_encoding.map(|c| c.trim().to_ascii_lowercase());
    let reader: Box<dyn Read> = match coding.as_deref() {
        None | Some("") | Some("identity") => return Ok(body),
        Some("gzip") | Some("x-gzip") => Box::new(flate2::read::MultiGzDecoder::new(&body[..])),
        Some("deflate") => Box::new(flate2::read::ZlibDecoder::new(&body[..])),
        Some(other) => {
            return Err(BodyError::UnsupportedEncoding(format!(
                "unsupported Content-Encoding {other:?}; this receiver accepts gzip, deflate and identity"
            )));
        }
    };
    let name = coding.as_deref().unwrap_or_default();
    let mut out = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    reader
        .take(cap)
        .read_to_end(&mut out)
        .map_err(|e| BodyError::Invalid(format!("body is not valid {name} data: {e}")))?;
    if out.len() > limit {
        return Err(BodyError::Invalid(format!(
            "{name} body decompresses to more than {limit} bytes"
        )));
    }
    Ok(Bytes::from(out))
}

pub(crate) fn decode_protobuf<T: ExportRequest>(body: &[u8]) -> Result<T, String> {
    let msg = T::decode(body).map_err(|e| format!("invalid protobuf {}: {e}", T::MESSAGE_NAME))?;
    msg.validate()?;
    Ok(msg)
}

pub(crate) fn decode_json<T: ExportRequest>(body: &[u8]) -> Result<T, String> {
    let mut json: Value = serde_json::from_slice(body).map_err(|e| format!("invalid JSON: {e}"))?;
    if !json.is_object() {
        return Err(format!(
            "invalid OTLP/JSON {}: expected a JSON object",
            T::MESSAGE_NAME
        ));
    }
    normalize(&mut json);
    let msg =
        T::deserialize(&json).map_err(|e| format!("invalid OTLP/JSON {}: {e}", T::MESSAGE_NAME))?;
    msg.check_json(&json)
        .map_err(|e| format!("invalid OTLP/JSON {}: {e}", T::MESSAGE_NAME))?;
    msg.validate()?;
    Ok(msg)
}

/// Rewrites accepted-elsewhere OTLP/JSON forms into the ones opentelemetry-proto parses.
fn normalize(value: &mut Value) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(normalize),
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                match key.as_str() {
                    "kind" => enum_to_number(child, |s| {
                        pt::span::SpanKind::from_str_name(s).map(|k| k as i32)
                    }),
                    "code" => enum_to_number(child, |s| {
                        pt::status::StatusCode::from_str_name(s).map(|c| c as i32)
                    }),
                    "severityNumber" => enum_to_number(child, |s| {
                        SeverityNumber::from_str_name(s).map(|n| n as i32)
                    }),
                    "aggregationTemporality" => enum_to_number(child, |s| {
                        pm::AggregationTemporality::from_str_name(s).map(|t| t as i32)
                    }),
                    "droppedAttributesCount"
                    | "droppedEventsCount"
                    | "droppedLinksCount"
                    | "flags"
                    | "scale"
                    | "offset" => enum_to_number(child, |_| None),
                    "arrayValue" | "kvlistValue" => {
                        if let Value::Object(inner) = child {
                            let values = inner
                                .entry("values")
                                .or_insert_with(|| Value::Array(Vec::new()));
                            if values.is_null() {
                                *values = Value::Array(Vec::new());
                            }
                            if key == "kvlistValue" {
                                ensure_keys(values);
                            }
                        }
                    }
                    "attributes" | "filteredAttributes" | "metadata" => ensure_keys(child),
                    "entityRefs" => {
                        if let Value::Array(refs) = child {
                            for r in refs.iter_mut().filter_map(Value::as_object_mut) {
                                insert_default(r, "schemaUrl", Value::from(""));
                                insert_default(r, "type", Value::from(""));
                                insert_default(r, "idKeys", Value::Array(Vec::new()));
                                insert_default(r, "descriptionKeys", Value::Array(Vec::new()));
                            }
                        }
                    }
                    _ => {}
                }
                normalize(child);
            }
        }
        _ => {}
    }
}

/// Replaces an enum name (via `by_name`) or a decimal string with its number.
fn enum_to_number(value: &mut Value, by_name: impl Fn(&str) -> Option<i32>) {
    let Value::String(s) = value else { return };
    if let Some(n) = by_name(s) {
        *value = Value::from(n);
    } else if let Ok(n) = s.trim().parse::<i64>() {
        *value = Value::from(n);
    }
}

fn ensure_keys(list: &mut Value) {
    if let Value::Array(items) = list {
        for kv in items.iter_mut().filter_map(Value::as_object_mut) {
            insert_default(kv, "key", Value::from(""));
        }
    }
}

fn insert_default(map: &mut Map<String, Value>, key: &str, default: Value) {
    if !map.contains_key(key) {
        map.insert(key.to_owned(), default);
    }
}

const METRIC_DATA_KEYS: [&str; 5] = [
    "gauge",
    "sum",
    "histogram",
    "exponentialHistogram",
    "summary",
];

/// Reports the errors that `#[serde(flatten)]` swallowed while parsing metrics.
fn check_metrics_json(req: &ExportMetricsServiceRequest, json: &Value) -> Result<(), String> {
    use pm::metric::Data as D;
    for (ri, rm) in req.resource_metrics.iter().enumerate() {
        for (si, sm) in rm.scope_metrics.iter().enumerate() {
            for (mi, metric) in sm.metrics.iter().enumerate() {
                let jm = &json["resourceMetrics"][ri]["scopeMetrics"][si]["metrics"][mi];
                let at = format!(
                    "resourceMetrics[{ri}].scopeMetrics[{si}].metrics[{mi}] (name {:?})",
                    metric.name
                );
                match &metric.data {
                    None => {
                        if let Some(key) = METRIC_DATA_KEYS.iter().find(|k| jm.get(**k).is_some()) {
                            return Err(format!("{at}.{key}: {}", reparse_error(key, &jm[*key])));
                        }
                    }
                    Some(D::Gauge(g)) => {
                        check_number_points(&g.data_points, &jm["gauge"]["dataPoints"], &at)?
                    }
                    Some(D::Sum(s)) => {
                        check_number_points(&s.data_points, &jm["sum"]["dataPoints"], &at)?
                    }
                    Some(D::Histogram(h)) => {
                        for (pi, p) in h.data_points.iter().enumerate() {
                            let jp = &jm["histogram"]["dataPoints"][pi];
                            check_exemplars(&p.exemplars, jp, &format!("{at}.dataPoints[{pi}]"))?;
                        }
                    }
                    Some(D::ExponentialHistogram(h)) => {
                        for (pi, p) in h.data_points.iter().enumerate() {
                            let jp = &jm["exponentialHistogram"]["dataPoints"][pi];
                            check_exemplars(&p.exemplars, jp, &format!("{at}.dataPoints[{pi}]"))?;
                        }
                    }
                    Some(D::Summary(_)) => {}
                }
            }
        }
    }
    Ok(())
}

fn check_number_points(
    points: &[pm::NumberDataPoint],
    json: &Value,
    at: &str,
) -> Result<(), String> {
    for (pi, p) in points.iter().enumerate() {
        let jp = &json[pi];
        let at = format!("{at}.dataPoints[{pi}]");
        if p.value.is_none() {
            check_oneof_value(jp, &at)?;
        }
        check_exemplars(&p.exemplars, jp, &at)?;
    }
    Ok(())
}

fn check_exemplars(exemplars: &[pm::Exemplar], point: &Value, at: &str) -> Result<(), String> {
    for (ei, ex) in exemplars.iter().enumerate() {
        if ex.value.is_none() {
            check_oneof_value(&point["exemplars"][ei], &format!("{at}.exemplars[{ei}]"))?;
        }
    }
    Ok(())
}

/// A point or exemplar parsed with no value: an error if the JSON did carry one.
fn check_oneof_value(json: &Value, at: &str) -> Result<(), String> {
    for key in ["asInt", "asDouble"] {
        if let Some(v) = json.get(key).filter(|v| !v.is_null()) {
            return Err(format!(
                "{at}.{key}: {v} is not a valid {}",
                if key == "asInt" {
                    "int64 (a JSON integer or a decimal string)"
                } else {
                    "double"
                }
            ));
        }
    }
    Ok(())
}

/// Parses a metric's data object on its own, without `flatten`, to get the error serde
/// swallowed.
fn reparse_error(key: &str, value: &Value) -> String {
    let result = match key {
        "gauge" => pm::Gauge::deserialize(value).map(drop),
        "sum" => pm::Sum::deserialize(value).map(drop),
        "histogram" => pm::Histogram::deserialize(value).map(drop),
        "exponentialHistogram" => pm::ExponentialHistogram::deserialize(value).map(drop),
        _ => pm::Summary::deserialize(value).map(drop),
    };
    match result {
        Err(e) => e.to_string(),
        Ok(()) => format!("{value} could not be decoded"),
    }
}

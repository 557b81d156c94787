//! Decoding OTLP export requests (protobuf and OTLP/JSON).
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
//!
//! Nothing here panics on any input: serde_json refuses JSON nested deeper than 128 levels
//! before the (recursive) normalisation sees it, and prost bounds protobuf nesting likewise.

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::logs::v1::SeverityNumber;
use opentelemetry_proto::tonic::metrics::v1 as pm;
use opentelemetry_proto::tonic::trace::v1 as pt;
use serde::Deserialize as _;
use serde_json::{Map, Value};

use crate::encoding::Encoding;
use crate::request::{ExportRequest, ValidationError};

/// Why a request body is not a valid export request.
///
/// The message is a reason meant for the client, suitable as the body (or the
/// `google.rpc.Status` message) of a `400 Bad Request` answer, e.g.
/// `invalid OTLP/JSON ExportMetricsServiceRequest: resourceMetrics[0].scopeMetrics[0].metrics[0] (name "m").dataPoints[0].asInt: "12x" is not a valid int64 (a JSON integer or a decimal string)`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The body is not a protobuf encoding of the request message.
    #[error("invalid protobuf {message_name}: {reason}")]
    Protobuf {
        /// The expected message, e.g. `ExportTraceServiceRequest`.
        message_name: &'static str,
        /// What prost reported.
        reason: String,
    },
    /// The body is not JSON.
    #[error("invalid JSON: {reason}")]
    Json {
        /// What serde_json reported, with the line and column.
        reason: String,
    },
    /// The body is JSON, but not an OTLP/JSON encoding of the request message.
    #[error("invalid OTLP/JSON {message_name}: {reason}")]
    OtlpJson {
        /// The expected message, e.g. `ExportTraceServiceRequest`.
        message_name: &'static str,
        /// What is wrong, and where.
        reason: String,
    },
    /// The request decoded, but breaks a rule of OTLP (see [`ExportRequest::validate`]).
    #[error(transparent)]
    Invalid(#[from] ValidationError),
}

impl DecodeError {
    /// The HTTP status to answer with: always `400` (and `INVALID_ARGUMENT`, 3, in the
    /// `google.rpc.Status` body; the client must not retry).
    pub fn http_status(&self) -> u16 {
        400
    }
}

/// Decodes and validates a protobuf export request (`Content-Type: application/x-protobuf`).
///
/// ```
/// use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
/// use spanforge_otlp::decode_protobuf;
///
/// let request: ExportTraceServiceRequest = decode_protobuf(b"")?;
/// assert!(request.resource_spans.is_empty());
/// let error = decode_protobuf::<ExportTraceServiceRequest>(b"\xff\xff").unwrap_err();
/// assert!(error.to_string().starts_with("invalid protobuf ExportTraceServiceRequest: "));
/// # Ok::<(), spanforge_otlp::DecodeError>(())
/// ```
///
/// # Errors
///
/// [`DecodeError::Protobuf`] when the body is not the message, [`DecodeError::Invalid`] when
/// [`ExportRequest::validate`] refuses it.
pub fn decode_protobuf<T: ExportRequest>(body: &[u8]) -> Result<T, DecodeError> {
    let msg = T::decode(body).map_err(|e| DecodeError::Protobuf {
        message_name: T::MESSAGE_NAME,
        reason: e.to_string(),
    })?;
    msg.validate()?;
    Ok(msg)
}

/// Decodes and validates an OTLP/JSON export request (`Content-Type: application/json`).
///
/// This accepts what the opentelemetry-otlp `http-json` exporter and the OpenTelemetry
/// Collector send, which opentelemetry-proto's serde support alone does not: empty
/// `{"arrayValue":{}}` / `{"kvlistValue":{}}`, attributes without a `key`, enum names
/// (`"SPAN_KIND_SERVER"`) and 32-bit integers as strings. It refuses what that support would
/// silently drop: a metric whose data or a data point whose value is malformed is an error,
/// not a metric without data. Ids are hex (any case), 64-bit integers strings or numbers,
/// bytes base64.
///
/// ```
/// use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
/// use spanforge_otlp::{ExportRequest, decode_json};
///
/// let body = br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{
///     "traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"eee19b7ec3c1b174",
///     "name":"GET /","kind":"SPAN_KIND_SERVER",
///     "attributes":[{"key":"tags","value":{"arrayValue":{}}}]
/// }]}]}]}"#;
/// let request: ExportTraceServiceRequest = decode_json(body)?;
/// assert_eq!(request.item_count(), 1);
/// assert_eq!(request.resource_spans[0].scope_spans[0].spans[0].kind, 2);
/// # Ok::<(), spanforge_otlp::DecodeError>(())
/// ```
///
/// # Errors
///
/// [`DecodeError::Json`] when the body is not JSON, [`DecodeError::OtlpJson`] when it is not
/// the message (including the checks of [`ExportRequest::check_json`]),
/// [`DecodeError::Invalid`] when [`ExportRequest::validate`] refuses it.
pub fn decode_json<T: ExportRequest>(body: &[u8]) -> Result<T, DecodeError> {
    let mut json: Value = serde_json::from_slice(body).map_err(|e| DecodeError::Json {
        reason: e.to_string(),
    })?;
    let otlp_json = |reason: String| DecodeError::OtlpJson {
        message_name: T::MESSAGE_NAME,
        reason,
    };
    if !json.is_object() {
        return Err(otlp_json("expected a JSON object".to_owned()));
    }
    normalize(&mut json);
    let msg = T::deserialize(&json).map_err(|e| otlp_json(e.to_string()))?;
    msg.check_json(&json)?;
    msg.validate()?;
    Ok(msg)
}

/// Decodes and validates a request in `encoding`: [`decode_protobuf`] or [`decode_json`].
///
/// # Errors
///
/// Those of [`decode_protobuf`] and [`decode_json`].
pub fn decode<T: ExportRequest>(body: &[u8], encoding: Encoding) -> Result<T, DecodeError> {
    match encoding {
        Encoding::Protobuf => decode_protobuf(body),
        Encoding::Json => decode_json(body),
    }
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
                    | "keyStrindex"
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
pub(crate) fn check_metrics_json(
    req: &ExportMetricsServiceRequest,
    json: &Value,
) -> Result<(), String> {
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

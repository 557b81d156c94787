//! OTLP export requests to store rows.
//!
//! The GenAI, HTTP and prompt attributes the UI groups by are lifted into their own columns
//! here; everything else stays in the JSON of the row.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{metric, number_data_point};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::span::Event;
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::json;

use crate::store::{Batch, LlmFields, LogRecord, PointRecord, SpanRecord};

/// GenAI operations that are calls to a model (tool executions and agent spans are not).
const LLM_OPERATIONS: &[&str] = &["chat", "text_completion", "generate_content", "embeddings"];

/// The service of resources without `service.name`, as the SDKs name it.
const UNKNOWN_SERVICE: &str = "unknown_service";

/// Spans of a trace export request (already validated: ids have the right length).
pub fn traces(request: ExportTraceServiceRequest) -> Batch {
    let mut spans = Vec::new();
    for resource_spans in request.resource_spans {
        let resource = Attributes::of_resource(resource_spans.resource.as_ref());
        let service = resource.service();
        let resource_json = resource.json();
        for scope_spans in resource_spans.scope_spans {
            for span in scope_spans.spans {
                let attributes = Attributes(&span.attributes);
                let status = span.status.as_ref();
                let start_ns = clamp_ns(span.start_time_unix_nano);
                spans.push(SpanRecord {
                    trace_id: hex(&span.trace_id),
                    span_id: hex(&span.span_id),
                    parent_span_id: (!span.parent_span_id.is_empty())
                        .then(|| hex(&span.parent_span_id)),
                    service: service.clone(),
                    kind: span.kind,
                    start_ns,
                    end_ns: clamp_ns(span.end_time_unix_nano).max(start_ns),
                    status_code: status.map_or(0, |s| s.code),
                    status_message: status
                        .map(|s| s.message.clone())
                        .filter(|message| !message.is_empty()),
                    http_method: attributes.string("http.request.method"),
                    http_route: attributes.string("http.route"),
                    http_status: attributes.int("http.response.status_code"),
                    llm: llm_fields(&attributes),
                    attributes_json: attributes.json(),
                    resource_json: resource_json.clone(),
                    events_json: events_json(&span.events),
                    name: span.name,
                });
            }
        }
    }
    Batch {
        spans,
        ..Batch::default()
    }
}

fn llm_fields(attributes: &Attributes<'_>) -> Option<LlmFields> {
    let operation = attributes.string("gen_ai.operation.name")?;
    if !LLM_OPERATIONS.contains(&operation.as_str()) {
        return None;
    }
    Some(LlmFields {
        operation,
        provider: attributes
            .string("gen_ai.provider.name")
            .or_else(|| attributes.string("gen_ai.system")),
        model: attributes
            .string("gen_ai.response.model")
            .or_else(|| attributes.string("gen_ai.request.model")),
        prompt_name: attributes.string("gen_ai.prompt.name"),
        prompt_version: attributes.text("gen_ai.prompt.version"),
        input_tokens: attributes.int("gen_ai.usage.input_tokens"),
        output_tokens: attributes.int("gen_ai.usage.output_tokens"),
        cached_tokens: attributes.int("gen_ai.usage.cache_read.input_tokens"),
        cost_usd: attributes
            .double("gen_ai.usage.cost")
            .filter(|cost| cost.is_finite()),
        ttfc_ms: attributes
            .double("gen_ai.response.time_to_first_chunk")
            .filter(|seconds| seconds.is_finite())
            .map(|seconds| seconds * 1000.0),
    })
}

/// Log records of a logs export request.
pub fn logs(request: ExportLogsServiceRequest) -> Batch {
    let mut logs = Vec::new();
    for resource_logs in request.resource_logs {
        let service = Attributes::of_resource(resource_logs.resource.as_ref()).service();
        for scope_logs in resource_logs.scope_logs {
            for record in scope_logs.log_records {
                let time = if record.time_unix_nano != 0 {
                    record.time_unix_nano
                } else {
                    record.observed_time_unix_nano
                };
                logs.push(LogRecord {
                    time_ns: clamp_ns(time),
                    trace_id: (!record.trace_id.is_empty()).then(|| hex(&record.trace_id)),
                    span_id: (!record.span_id.is_empty()).then(|| hex(&record.span_id)),
                    service: service.clone(),
                    severity_number: record.severity_number,
                    severity_text: (!record.severity_text.is_empty())
                        .then_some(record.severity_text),
                    body: match record.body.as_ref().and_then(|b| b.value.as_ref()) {
                        Some(any_value::Value::StringValue(text)) => text.clone(),
                        None => String::new(),
                        Some(_) => serde_json::to_string(&JsonAnyValue(record.body.as_ref()))
                            .unwrap_or_default(),
                    },
                    attributes_json: Attributes(&record.attributes).json(),
                });
            }
        }
    }
    Batch {
        logs,
        ..Batch::default()
    }
}

/// Data points of a metrics export request.
pub fn metrics(request: ExportMetricsServiceRequest) -> Batch {
    let mut points = Vec::new();
    for resource_metrics in request.resource_metrics {
        let service = Attributes::of_resource(resource_metrics.resource.as_ref()).service();
        for scope_metrics in resource_metrics.scope_metrics {
            for metric in scope_metrics.metrics {
                let base = PointRecord {
                    service: service.clone(),
                    name: metric.name.clone(),
                    unit: metric.unit.clone(),
                    ..PointRecord::default()
                };
                match &metric.data {
                    Some(metric::Data::Gauge(gauge)) => {
                        for point in &gauge.data_points {
                            points.push(number_point(&base, "gauge", point));
                        }
                    }
                    Some(metric::Data::Sum(sum)) => {
                        for point in &sum.data_points {
                            points.push(number_point(&base, "sum", point));
                        }
                    }
                    Some(metric::Data::Histogram(histogram)) => {
                        for point in &histogram.data_points {
                            points.push(PointRecord {
                                time_ns: clamp_ns(point.time_unix_nano),
                                kind: "histogram",
                                attributes_json: Attributes(&point.attributes).json(),
                                count: i64::try_from(point.count).ok(),
                                sum: point.sum,
                                buckets_json: Some(
                                    json!({
                                        "bounds": point.explicit_bounds,
                                        "counts": point.bucket_counts,
                                    })
                                    .to_string(),
                                ),
                                ..base.clone()
                            });
                        }
                    }
                    Some(metric::Data::ExponentialHistogram(histogram)) => {
                        for point in &histogram.data_points {
                            points.push(PointRecord {
                                time_ns: clamp_ns(point.time_unix_nano),
                                kind: "exponential_histogram",
                                attributes_json: Attributes(&point.attributes).json(),
                                count: i64::try_from(point.count).ok(),
                                sum: point.sum,
                                ..base.clone()
                            });
                        }
                    }
                    Some(metric::Data::Summary(summary)) => {
                        for point in &summary.data_points {
                            points.push(PointRecord {
                                time_ns: clamp_ns(point.time_unix_nano),
                                kind: "summary",
                                attributes_json: Attributes(&point.attributes).json(),
                                count: i64::try_from(point.count).ok(),
                                sum: Some(point.sum),
                                ..base.clone()
                            });
                        }
                    }
                    None => {}
                }
            }
        }
    }
    Batch {
        points,
        ..Batch::default()
    }
}

fn number_point(
    base: &PointRecord,
    kind: &'static str,
    point: &opentelemetry_proto::tonic::metrics::v1::NumberDataPoint,
) -> PointRecord {
    PointRecord {
        time_ns: clamp_ns(point.time_unix_nano),
        kind,
        attributes_json: Attributes(&point.attributes).json(),
        value: match point.value {
            Some(number_data_point::Value::AsDouble(value)) => Some(value),
            Some(number_data_point::Value::AsInt(value)) => Some(value as f64),
            None => None,
        },
        ..base.clone()
    }
}

/// A list of OTLP attributes with typed lookups.
struct Attributes<'a>(&'a [KeyValue]);

impl<'a> Attributes<'a> {
    fn of_resource(resource: Option<&'a Resource>) -> Attributes<'a> {
        Attributes(resource.map_or(&[], |r| r.attributes.as_slice()))
    }

    fn get(&self, key: &str) -> Option<&'a any_value::Value> {
        self.0
            .iter()
            .find(|kv| kv.key == key)
            .and_then(|kv| kv.value.as_ref())
            .and_then(|v| v.value.as_ref())
    }

    fn service(&self) -> String {
        self.string("service.name")
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| UNKNOWN_SERVICE.to_owned())
    }

    fn string(&self, key: &str) -> Option<String> {
        match self.get(key)? {
            any_value::Value::StringValue(s) => Some(s.clone()),
            _ => None,
        }
    }

    /// A string, or an integer or double written as text.
    fn text(&self, key: &str) -> Option<String> {
        match self.get(key)? {
            any_value::Value::StringValue(s) => Some(s.clone()),
            any_value::Value::IntValue(i) => Some(i.to_string()),
            any_value::Value::DoubleValue(d) => Some(d.to_string()),
            _ => None,
        }
    }

    fn int(&self, key: &str) -> Option<i64> {
        match self.get(key)? {
            any_value::Value::IntValue(i) => Some(*i),
            any_value::Value::StringValue(s) => s.parse().ok(),
            _ => None,
        }
    }

    fn double(&self, key: &str) -> Option<f64> {
        match self.get(key)? {
            any_value::Value::DoubleValue(d) => Some(*d),
            any_value::Value::IntValue(i) => Some(*i as f64),
            any_value::Value::StringValue(s) => s.parse().ok(),
            _ => None,
        }
    }

    /// The attributes as a JSON object, written straight from the protobuf values.
    fn json(&self) -> String {
        serde_json::to_string(&JsonAttributes(self.0)).unwrap_or_else(|_| "{}".to_owned())
    }
}

/// Events as a JSON array of `{"name", "time_unix_nano", "attributes"}`.
fn events_json(events: &[Event]) -> String {
    if events.is_empty() {
        return "[]".to_owned();
    }
    serde_json::to_string(&JsonEvents(events)).unwrap_or_else(|_| "[]".to_owned())
}

/// Serializes attributes as a JSON object without building a `serde_json::Value` first.
struct JsonAttributes<'a>(&'a [KeyValue]);

impl Serialize for JsonAttributes<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for kv in self.0 {
            map.serialize_entry(&kv.key, &JsonAnyValue(kv.value.as_ref()))?;
        }
        map.end()
    }
}

/// One OTLP value as JSON: bytes as hex, non-finite doubles as strings, empty as `null`.
struct JsonAnyValue<'a>(Option<&'a AnyValue>);

impl Serialize for JsonAnyValue<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0.and_then(|v| v.value.as_ref()) {
            Some(any_value::Value::StringValue(s)) => serializer.serialize_str(s),
            Some(any_value::Value::BoolValue(b)) => serializer.serialize_bool(*b),
            Some(any_value::Value::IntValue(i)) => serializer.serialize_i64(*i),
            Some(any_value::Value::DoubleValue(d)) if d.is_finite() => serializer.serialize_f64(*d),
            Some(any_value::Value::DoubleValue(d)) => serializer.serialize_str(&d.to_string()),
            Some(any_value::Value::ArrayValue(array)) => {
                let mut seq = serializer.serialize_seq(Some(array.values.len()))?;
                for value in &array.values {
                    seq.serialize_element(&JsonAnyValue(Some(value)))?;
                }
                seq.end()
            }
            Some(any_value::Value::KvlistValue(list)) => {
                JsonAttributes(&list.values).serialize(serializer)
            }
            Some(any_value::Value::BytesValue(bytes)) => serializer.serialize_str(&hex(bytes)),
            Some(any_value::Value::StringValueStrindex(index)) => serializer.serialize_i32(*index),
            None => serializer.serialize_unit(),
        }
    }
}

struct JsonEvents<'a>(&'a [Event]);

impl Serialize for JsonEvents<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for event in self.0 {
            seq.serialize_element(&JsonEvent(event))?;
        }
        seq.end()
    }
}

struct JsonEvent<'a>(&'a Event);

impl Serialize for JsonEvent<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("name", &self.0.name)?;
        map.serialize_entry("time_unix_nano", &clamp_ns(self.0.time_unix_nano))?;
        map.serialize_entry("attributes", &JsonAttributes(&self.0.attributes))?;
        map.end()
    }
}

/// Unsigned nanoseconds into the store's signed column (times past 2262 are clamped).
fn clamp_ns(ns: u64) -> i64 {
    i64::try_from(ns).unwrap_or(i64::MAX)
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0xf)]));
    }
    out
}

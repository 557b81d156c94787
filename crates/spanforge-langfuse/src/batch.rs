//! Batch mode: Langfuse's legacy ingestion API (`POST /api/public/ingestion`), for
//! self-hosted servers without the OTLP endpoint.

use std::collections::HashMap;

use opentelemetry::trace::{SpanId, Status};
use opentelemetry::{Array, Value};
use opentelemetry_sdk::trace::SpanData;
use serde_json::{Map, Value as Json, json};

use crate::mapping::{self, ResourceInfo};

fn attr<'a>(span: &'a SpanData, key: &str) -> Option<&'a Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

fn attr_str(span: &SpanData, key: &str) -> Option<String> {
    match attr(span, key)? {
        Value::String(s) => Some(s.as_str().to_owned()),
        other => Some(other.to_string()),
    }
}

fn to_json(value: &Value) -> Json {
    match value {
        Value::Bool(b) => Json::Bool(*b),
        Value::I64(i) => Json::from(*i),
        Value::F64(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
        Value::String(s) => Json::String(s.as_str().to_owned()),
        Value::Array(Array::String(items)) => {
            Json::Array(items.iter().map(|s| Json::from(s.as_str())).collect())
        }
        Value::Array(Array::I64(items)) => {
            Json::Array(items.iter().map(|i| Json::from(*i)).collect())
        }
        Value::Array(Array::F64(items)) => Json::Array(
            items
                .iter()
                .map(|f| serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number))
                .collect(),
        ),
        Value::Array(Array::Bool(items)) => {
            Json::Array(items.iter().map(|b| Json::Bool(*b)).collect())
        }
        other => Json::String(other.to_string()),
    }
}

/// A JSON string is sent parsed (Langfuse renders it), anything else as is.
fn content(raw: String) -> Json {
    serde_json::from_str(&raw).unwrap_or(Json::String(raw))
}

fn hex_span(id: SpanId) -> String {
    format!("{id}")
}

/// Model parameters in Langfuse's `MapValue` shape: strings, ints, bools, string lists.
fn model_parameters(span: &SpanData) -> Map<String, Json> {
    let mut out = Map::new();
    for kv in &span.attributes {
        let Some(name) = kv.key.as_str().strip_prefix("gen_ai.request.") else {
            continue;
        };
        if name == "model" {
            continue;
        }
        let value = match &kv.value {
            Value::I64(i) => Json::from(*i),
            Value::Bool(b) => Json::Bool(*b),
            Value::String(s) => Json::from(s.as_str()),
            Value::Array(Array::String(items)) => {
                Json::Array(items.iter().map(|s| Json::from(s.as_str())).collect())
            }
            other => Json::String(other.to_string()),
        };
        out.insert(name.to_owned(), value);
    }
    out
}

/// The ingestion events for a span that already carries the `langfuse.*` attributes: a
/// `trace-create` for a root, a `span-create` or `generation-create`, and an `event-create`
/// per span event. Envelope ids derive from the span ids, so a retry is idempotent.
pub(crate) fn events(span: &SpanData, resource: &ResourceInfo) -> Vec<Json> {
    let trace_id = format!("{}", span.span_context.trace_id());
    let span_id = hex_span(span.span_context.span_id());
    let start = mapping::iso8601(span.start_time);
    let end = mapping::iso8601(span.end_time);
    let kind = attr_str(span, "langfuse.observation.type").unwrap_or_else(|| "span".into());
    let is_generation = kind == "generation" || kind == "embedding";
    let mut out = Vec::new();

    let user = attr_str(span, "user.id");
    let session = attr_str(span, "session.id");
    if span.parent_span_id == SpanId::INVALID || user.is_some() || session.is_some() {
        let mut body = Map::new();
        body.insert("id".into(), json!(trace_id));
        body.insert("timestamp".into(), json!(start));
        if span.parent_span_id == SpanId::INVALID {
            body.insert("name".into(), json!(span.name));
        }
        if let Some(user) = &user {
            body.insert("userId".into(), json!(user));
        }
        if let Some(session) = &session {
            body.insert("sessionId".into(), json!(session));
        }
        if let Some(env) = &resource.environment {
            body.insert("environment".into(), json!(env));
        }
        if let Some(release) = &resource.release {
            body.insert("release".into(), json!(release));
        }
        out.push(envelope(
            format!("{trace_id}-{span_id}-trace"),
            "trace-create",
            &start,
            body,
        ));
    }

    let mut body = Map::new();
    body.insert("id".into(), json!(span_id));
    body.insert("traceId".into(), json!(trace_id));
    body.insert("name".into(), json!(span.name));
    body.insert("startTime".into(), json!(start));
    body.insert("endTime".into(), json!(end));
    if span.parent_span_id != SpanId::INVALID {
        body.insert(
            "parentObservationId".into(),
            json!(hex_span(span.parent_span_id)),
        );
    }
    if let Some(env) = &resource.environment {
        body.insert("environment".into(), json!(env));
    }
    if let Some(release) = &resource.release {
        body.insert("version".into(), json!(release));
    }
    if let Status::Error { .. } = span.status {
        body.insert("level".into(), json!("ERROR"));
        if let Some(message) = attr_str(span, "langfuse.observation.status_message") {
            body.insert("statusMessage".into(), json!(message));
        }
    }
    if let Some(input) = attr_str(span, "langfuse.observation.input") {
        body.insert("input".into(), content(input));
    }
    if let Some(output) = attr_str(span, "langfuse.observation.output") {
        body.insert("output".into(), content(output));
    }
    let mut metadata = Map::new();
    for kv in &span.attributes {
        let key = kv.key.as_str();
        if key.starts_with("langfuse.")
            || key == "gen_ai.input.messages"
            || key == "gen_ai.output.messages"
        {
            continue;
        }
        metadata.insert(key.to_owned(), to_json(&kv.value));
    }
    if !metadata.is_empty() {
        body.insert("metadata".into(), Json::Object(metadata));
    }
    let event_type = if is_generation {
        if let Some(model) = attr_str(span, "gen_ai.response.model")
            .or_else(|| attr_str(span, "gen_ai.request.model"))
        {
            body.insert("model".into(), json!(model));
        }
        let parameters = model_parameters(span);
        if !parameters.is_empty() {
            body.insert("modelParameters".into(), Json::Object(parameters));
        }
        for (attribute, field) in [
            ("langfuse.observation.usage_details", "usageDetails"),
            ("langfuse.observation.cost_details", "costDetails"),
        ] {
            if let Some(raw) = attr_str(span, attribute)
                && let Ok(value) = serde_json::from_str::<Json>(&raw)
            {
                body.insert(field.into(), value);
            }
        }
        if let Some(at) = attr_str(span, "langfuse.observation.completion_start_time") {
            body.insert("completionStartTime".into(), json!(at));
        }
        // Langfuse needs both, and an integer version.
        if let (Some(name), Some(Value::I64(version))) = (
            attr_str(span, "langfuse.observation.prompt.name"),
            attr(span, "langfuse.observation.prompt.version"),
        ) {
            body.insert("promptName".into(), json!(name));
            body.insert("promptVersion".into(), json!(version));
        }
        "generation-create"
    } else {
        "span-create"
    };
    out.push(envelope(
        format!("{trace_id}-{span_id}"),
        event_type,
        &start,
        body,
    ));

    for (n, event) in span.events.events.iter().enumerate() {
        let at = mapping::iso8601(event.timestamp);
        let mut body = Map::new();
        body.insert("id".into(), json!(format!("{span_id}-e{n}")));
        body.insert("traceId".into(), json!(trace_id));
        body.insert("parentObservationId".into(), json!(span_id));
        body.insert("name".into(), json!(event.name));
        body.insert("startTime".into(), json!(at));
        let metadata: Map<String, Json> = event
            .attributes
            .iter()
            .map(|kv| (kv.key.as_str().to_owned(), to_json(&kv.value)))
            .collect();
        if !metadata.is_empty() {
            body.insert("metadata".into(), Json::Object(metadata));
        }
        if let Some(env) = &resource.environment {
            body.insert("environment".into(), json!(env));
        }
        out.push(envelope(
            format!("{trace_id}-{span_id}-e{n}"),
            "event-create",
            &at,
            body,
        ));
    }
    out
}

fn envelope(id: String, kind: &str, timestamp: &str, body: Map<String, Json>) -> Json {
    json!({ "id": id, "type": kind, "timestamp": timestamp, "body": Json::Object(body) })
}

/// Packs events into request bodies of at most `max` bytes (an event larger than that goes
/// alone).
pub(crate) fn pack(events: Vec<Json>, max: usize) -> Vec<Vec<Json>> {
    let mut out = Vec::new();
    let mut current = Vec::new();
    let mut size = 64;
    for event in events {
        let len = serde_json::to_vec(&event).map_or(0, |v| v.len()) + 1;
        if !current.is_empty() && size + len > max {
            out.push(std::mem::take(&mut current));
            size = 64;
        }
        size += len;
        current.push(event);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// The per-event outcome of a 207 answer: ids to retry and `(id, status, message)` of the
/// events rejected for good.
pub(crate) fn outcome(answer: &Json) -> (Vec<String>, Vec<(String, u16, String)>) {
    let mut retry = Vec::new();
    let mut rejected = Vec::new();
    let errors = answer.get("errors").and_then(Json::as_array);
    for error in errors.into_iter().flatten() {
        let Some(id) = error.get("id").and_then(Json::as_str) else {
            continue;
        };
        let status = error
            .get("status")
            .and_then(Json::as_u64)
            .and_then(|s| u16::try_from(s).ok())
            .unwrap_or(500);
        if status == 429 || status >= 500 {
            retry.push(id.to_owned());
        } else {
            let message = error
                .get("message")
                .or_else(|| error.get("error"))
                .map(|m| m.to_string())
                .unwrap_or_default();
            rejected.push((id.to_owned(), status, message));
        }
    }
    (retry, rejected)
}

/// Index of events by envelope id.
pub(crate) fn by_id(events: &[Json]) -> HashMap<String, usize> {
    events
        .iter()
        .enumerate()
        .filter_map(|(i, e)| Some((e.get("id")?.as_str()?.to_owned(), i)))
        .collect()
}

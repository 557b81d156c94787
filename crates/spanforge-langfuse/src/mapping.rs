//! GenAI semantic-convention attributes to Langfuse's `langfuse.*` attributes.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry::trace::Status;
use opentelemetry::{Array, Key, KeyValue, StringValue, Value};
use opentelemetry_sdk::trace::SpanData;

/// What the resource contributes to every observation.
#[derive(Debug, Clone, Default)]
pub(crate) struct ResourceInfo {
    pub(crate) environment: Option<String>,
    pub(crate) release: Option<String>,
}

const OPERATION: &str = "gen_ai.operation.name";
/// Marker appended to truncated strings.
pub const TRUNCATION_MARKER: &str = "…[truncated by spanforge-langfuse]";

fn get<'a>(span: &'a SpanData, key: &str) -> Option<&'a Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

fn get_i64(span: &SpanData, key: &str) -> Option<i64> {
    match get(span, key)? {
        Value::I64(v) => Some(*v),
        Value::F64(v) => Some(*v as i64),
        Value::String(s) => s.as_str().trim().parse().ok(),
        _ => None,
    }
}

fn get_f64(span: &SpanData, key: &str) -> Option<f64> {
    match get(span, key)? {
        Value::F64(v) => Some(*v),
        Value::I64(v) => Some(*v as f64),
        Value::String(s) => s.as_str().trim().parse().ok(),
        _ => None,
    }
}

fn get_string(span: &SpanData, key: &str) -> Option<String> {
    match get(span, key)? {
        Value::String(s) => Some(s.as_str().to_owned()),
        other => Some(other.to_string()),
    }
}

/// Whether the span is a GenAI span.
pub(crate) fn is_genai(span: &SpanData) -> bool {
    get(span, OPERATION).is_some()
}

/// The Langfuse observation type for a `gen_ai.operation.name`.
pub(crate) fn observation_type(operation: Option<&str>) -> &'static str {
    match operation {
        Some("chat" | "text_completion" | "completion" | "generate_content" | "generate") => {
            "generation"
        }
        Some("embeddings") => "embedding",
        Some("execute_tool") => "tool",
        Some("invoke_agent" | "create_agent") => "agent",
        _ => "span",
    }
}

/// Adds the `langfuse.*` attributes to a span. `trace_name` is the name of the trace's root
/// span when it is known.
pub(crate) fn map_span(span: &mut SpanData, resource: &ResourceInfo, trace_name: Option<&str>) {
    let mut extra: Vec<KeyValue> = Vec::new();
    let operation = get_string(span, OPERATION);
    let kind = observation_type(operation.as_deref());
    extra.push(KeyValue::new("langfuse.observation.type", kind));

    if let Some(name) = get_string(span, "gen_ai.prompt.name") {
        extra.push(KeyValue::new("langfuse.observation.prompt.name", name));
        if let Some(version) = get_i64(span, "gen_ai.prompt.version") {
            // Langfuse rejects a string version: always an int.
            extra.push(KeyValue::new(
                "langfuse.observation.prompt.version",
                version,
            ));
        }
    }

    if let Some(ttfc) = get_f64(span, "gen_ai.response.time_to_first_chunk")
        && let Ok(ttfc) = Duration::try_from_secs_f64(ttfc)
        && let Some(at) = span.start_time.checked_add(ttfc)
    {
        extra.push(KeyValue::new(
            "langfuse.observation.completion_start_time",
            iso8601(at),
        ));
    }

    if let Some(usage) = usage_details(span) {
        extra.push(KeyValue::new("langfuse.observation.usage_details", usage));
    }
    if let Some(cost) = get_f64(span, "gen_ai.usage.cost")
        && cost.is_finite()
    {
        let details = serde_json::json!({ "total": cost });
        extra.push(KeyValue::new(
            "langfuse.observation.cost_details",
            details.to_string(),
        ));
    }

    if let Status::Error { description } = &span.status {
        extra.push(KeyValue::new("langfuse.observation.level", "ERROR"));
        let message = if description.is_empty() {
            get_string(span, "error.type").unwrap_or_else(|| "error".to_owned())
        } else {
            description.to_string()
        };
        extra.push(KeyValue::new(
            "langfuse.observation.status_message",
            message,
        ));
    }

    if !span
        .parent_span_id
        .eq(&opentelemetry::trace::SpanId::INVALID)
    {
        if let Some(name) = trace_name {
            extra.push(KeyValue::new("langfuse.trace.name", name.to_owned()));
        }
    } else {
        extra.push(KeyValue::new("langfuse.trace.name", span.name.to_string()));
    }

    if get(span, "session.id").is_none()
        && let Some(conversation) = get_string(span, "gen_ai.conversation.id")
    {
        extra.push(KeyValue::new("session.id", conversation));
    }
    if get(span, "user.id").is_none()
        && let Some(user) = get_string(span, "enduser.id")
    {
        extra.push(KeyValue::new("user.id", user));
    }
    if let Some(env) = &resource.environment {
        extra.push(KeyValue::new("langfuse.environment", env.clone()));
    }
    if let Some(release) = &resource.release {
        extra.push(KeyValue::new("langfuse.release", release.clone()));
    }

    // Input/output only exist when content capture was on; pass them through explicitly.
    if let Some(input) = get_string(span, "gen_ai.input.messages")
        .or_else(|| get_string(span, "gen_ai.tool.call.arguments"))
    {
        extra.push(KeyValue::new("langfuse.observation.input", input));
    }
    if let Some(output) = get_string(span, "gen_ai.output.messages")
        .or_else(|| get_string(span, "gen_ai.tool.call.result"))
    {
        extra.push(KeyValue::new("langfuse.observation.output", output));
    }

    span.attributes
        .retain(|kv| !extra.iter().any(|e| e.key == kv.key));
    span.attributes.extend(extra);
}

/// Langfuse usage keys, disjoint so that Langfuse's sum and its price lookup are right:
/// `input` excludes cache reads and writes, `output` excludes reasoning.
fn usage_details(span: &SpanData) -> Option<String> {
    let input = get_i64(span, "gen_ai.usage.input_tokens");
    let output = get_i64(span, "gen_ai.usage.output_tokens");
    if input.is_none() && output.is_none() {
        return None;
    }
    let cache_read = get_i64(span, "gen_ai.usage.cache_read.input_tokens").unwrap_or(0);
    let cache_creation = get_i64(span, "gen_ai.usage.cache_creation.input_tokens").unwrap_or(0);
    let reasoning = get_i64(span, "gen_ai.usage.reasoning.output_tokens").unwrap_or(0);
    let mut map = serde_json::Map::new();
    let input = input.unwrap_or(0);
    let output = output.unwrap_or(0);
    map.insert(
        "input".into(),
        (input - cache_read - cache_creation).max(0).into(),
    );
    if cache_read > 0 {
        map.insert("input_cached_tokens".into(), cache_read.into());
    }
    if cache_creation > 0 {
        map.insert("input_cache_creation".into(), cache_creation.into());
    }
    map.insert("output".into(), (output - reasoning).max(0).into());
    if reasoning > 0 {
        map.insert("output_reasoning_tokens".into(), reasoning.into());
    }
    map.insert("total".into(), (input + output).into());
    Some(serde_json::Value::Object(map).to_string())
}

/// Truncates every string attribute (and span event attribute) longer than `max` bytes,
/// appending [`TRUNCATION_MARKER`]. Returns how many values were cut.
pub(crate) fn truncate_strings(span: &mut SpanData, max: usize) -> usize {
    let mut cut = 0;
    for kv in span.attributes.iter_mut() {
        cut += truncate_value(&mut kv.value, max);
    }
    for event in span.events.events.iter_mut() {
        for kv in event.attributes.iter_mut() {
            cut += truncate_value(&mut kv.value, max);
        }
    }
    cut
}

fn truncate_value(value: &mut Value, max: usize) -> usize {
    match value {
        Value::String(s) if s.as_str().len() > max => {
            *s = StringValue::from(truncate_str(s.as_str(), max));
            1
        }
        Value::Array(Array::String(items)) => {
            let mut cut = 0;
            for s in items.iter_mut() {
                if s.as_str().len() > max {
                    *s = StringValue::from(truncate_str(s.as_str(), max));
                    cut += 1;
                }
            }
            cut
        }
        _ => 0,
    }
}

pub(crate) fn truncate_str(s: &str, max: usize) -> String {
    let keep = max.saturating_sub(TRUNCATION_MARKER.len());
    let mut end = keep.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = String::with_capacity(end + TRUNCATION_MARKER.len());
    out.push_str(&s[..end]);
    out.push_str(TRUNCATION_MARKER);
    out
}

/// Reads environment and release from resource attributes.
pub(crate) fn resource_info(resource: &opentelemetry_sdk::Resource) -> ResourceInfo {
    let get = |k: &'static str| {
        resource
            .get(&Key::from_static_str(k))
            .map(|v| v.to_string())
    };
    ResourceInfo {
        environment: get("deployment.environment.name").or_else(|| get("deployment.environment")),
        release: get("service.version"),
    }
}

/// RFC 3339 / ISO 8601 UTC with microseconds: `2026-11-28T17:40:00.123456Z`.
pub(crate) fn iso8601(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, day) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
        d.subsec_micros()
    )
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_formats_utc() {
        let t = UNIX_EPOCH + Duration::from_micros(1_764_351_000_123_456);
        assert_eq!(iso8601(t), "2025-11-28T17:30:00.123456Z");
        assert_eq!(iso8601(UNIX_EPOCH), "1970-01-01T00:00:00.000000Z");
    }

    #[test]
    fn truncation_keeps_char_boundaries_and_marks() {
        let s = "é".repeat(100);
        let t = truncate_str(&s, 80);
        assert!(t.len() <= 80 + 1);
        assert!(t.ends_with(TRUNCATION_MARKER));
    }

    #[test]
    fn observation_types() {
        assert_eq!(observation_type(Some("chat")), "generation");
        assert_eq!(observation_type(Some("text_completion")), "generation");
        assert_eq!(observation_type(Some("embeddings")), "embedding");
        assert_eq!(observation_type(Some("execute_tool")), "tool");
        assert_eq!(observation_type(None), "span");
    }
}

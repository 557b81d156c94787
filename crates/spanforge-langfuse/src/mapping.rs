//! GenAI semantic-convention attributes to Langfuse's `langfuse.*` attributes.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{SpanId, Status};
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

/// A string value of a Langfuse attribute: borrowed from the span or the resource, or
/// written into the caller's scratch buffer (`start..end`).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Text<'a> {
    Borrowed(&'a str),
    Scratch(usize, usize),
}

impl<'a> Text<'a> {
    /// The string, given the scratch buffer it was written into.
    pub(crate) fn resolve<'s>(self, scratch: &'s str) -> &'s str
    where
        'a: 's,
    {
        match self {
            Text::Borrowed(s) => s,
            Text::Scratch(start, end) => &scratch[start..end],
        }
    }
}

/// The value of a Langfuse attribute.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ExtraValue<'a> {
    Str(Text<'a>),
    Int(i64),
}

/// One attribute the mapping adds (replacing an attribute of the same key, if any).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Extra<'a> {
    pub(crate) key: &'static str,
    pub(crate) value: ExtraValue<'a>,
}

/// The attributes the mapping reads, found in one pass (the first of each key, like a
/// lookup by key).
#[derive(Default)]
struct Known<'a> {
    operation: Option<&'a Value>,
    prompt_name: Option<&'a Value>,
    prompt_version: Option<&'a Value>,
    time_to_first_chunk: Option<&'a Value>,
    input_tokens: Option<&'a Value>,
    output_tokens: Option<&'a Value>,
    cache_read: Option<&'a Value>,
    cache_creation: Option<&'a Value>,
    reasoning: Option<&'a Value>,
    cost: Option<&'a Value>,
    error_type: Option<&'a Value>,
    session_id: Option<&'a Value>,
    conversation_id: Option<&'a Value>,
    user_id: Option<&'a Value>,
    enduser_id: Option<&'a Value>,
    input_messages: Option<&'a Value>,
    tool_arguments: Option<&'a Value>,
    output_messages: Option<&'a Value>,
    tool_result: Option<&'a Value>,
}

impl<'a> Known<'a> {
    fn of(span: &'a SpanData) -> Known<'a> {
        let mut known = Known::default();
        for kv in &span.attributes {
            let slot = match kv.key.as_str() {
                OPERATION => &mut known.operation,
                "gen_ai.prompt.name" => &mut known.prompt_name,
                "gen_ai.prompt.version" => &mut known.prompt_version,
                "gen_ai.response.time_to_first_chunk" => &mut known.time_to_first_chunk,
                "gen_ai.usage.input_tokens" => &mut known.input_tokens,
                "gen_ai.usage.output_tokens" => &mut known.output_tokens,
                "gen_ai.usage.cache_read.input_tokens" => &mut known.cache_read,
                "gen_ai.usage.cache_creation.input_tokens" => &mut known.cache_creation,
                "gen_ai.usage.reasoning.output_tokens" => &mut known.reasoning,
                "gen_ai.usage.cost" => &mut known.cost,
                "error.type" => &mut known.error_type,
                "session.id" => &mut known.session_id,
                "gen_ai.conversation.id" => &mut known.conversation_id,
                "user.id" => &mut known.user_id,
                "enduser.id" => &mut known.enduser_id,
                "gen_ai.input.messages" => &mut known.input_messages,
                "gen_ai.tool.call.arguments" => &mut known.tool_arguments,
                "gen_ai.output.messages" => &mut known.output_messages,
                "gen_ai.tool.call.result" => &mut known.tool_result,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(&kv.value);
            }
        }
        known
    }
}

fn as_i64(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::I64(v) => Some(*v),
        Value::F64(v) => Some(*v as i64),
        Value::String(s) => s.as_str().trim().parse().ok(),
        _ => None,
    }
}

fn as_f64(value: Option<&Value>) -> Option<f64> {
    match value? {
        Value::F64(v) => Some(*v),
        Value::I64(v) => Some(*v as f64),
        Value::String(s) => s.as_str().trim().parse().ok(),
        _ => None,
    }
}

/// A value as a string: a string is borrowed, anything else is formatted into `scratch`.
fn as_text<'a>(value: Option<&'a Value>, scratch: &mut String) -> Option<Text<'a>> {
    match value? {
        Value::String(s) => Some(Text::Borrowed(s.as_str())),
        other => {
            let start = scratch.len();
            let _ = write!(scratch, "{other}");
            Some(Text::Scratch(start, scratch.len()))
        }
    }
}

/// The `langfuse.*` (and session and user) attributes for a span, appended to `out` in the
/// order they are sent; strings built on the way are written into `scratch`. `trace_name`
/// is the name of the trace's root span when it is known. The span's attributes with the
/// same keys are to be left out.
pub(crate) fn langfuse_attributes<'a>(
    span: &'a SpanData,
    resource: &'a ResourceInfo,
    trace_name: Option<&'a str>,
    out: &mut Vec<Extra<'a>>,
    scratch: &mut String,
) {
    let known = Known::of(span);
    let mut push = |key: &'static str, value: ExtraValue<'a>| out.push(Extra { key, value });
    let str = |text: Text<'a>| ExtraValue::Str(text);

    let kind = match known.operation {
        None => observation_type(None),
        Some(Value::String(s)) => observation_type(Some(s.as_str())),
        Some(other) => {
            let start = scratch.len();
            let _ = write!(scratch, "{other}");
            let kind = observation_type(Some(&scratch[start..]));
            scratch.truncate(start);
            kind
        }
    };
    push("langfuse.observation.type", str(Text::Borrowed(kind)));

    if let Some(name) = as_text(known.prompt_name, scratch) {
        push("langfuse.observation.prompt.name", str(name));
        if let Some(version) = as_i64(known.prompt_version) {
            // Langfuse rejects a string version: always an int.
            push(
                "langfuse.observation.prompt.version",
                ExtraValue::Int(version),
            );
        }
    }

    if let Some(ttfc) = as_f64(known.time_to_first_chunk)
        && let Ok(ttfc) = Duration::try_from_secs_f64(ttfc)
        && let Some(at) = span.start_time.checked_add(ttfc)
    {
        let start = scratch.len();
        write_iso8601(at, scratch);
        push(
            "langfuse.observation.completion_start_time",
            str(Text::Scratch(start, scratch.len())),
        );
    }

    let start = scratch.len();
    if write_usage_details(&known, scratch) {
        push(
            "langfuse.observation.usage_details",
            str(Text::Scratch(start, scratch.len())),
        );
    }
    if let Some(cost) = as_f64(known.cost)
        && let Some(cost) = serde_json::Number::from_f64(cost)
    {
        // `{"total": cost}` as serde_json writes it.
        let start = scratch.len();
        let _ = write!(scratch, "{{\"total\":{cost}}}");
        push(
            "langfuse.observation.cost_details",
            str(Text::Scratch(start, scratch.len())),
        );
    }

    if let Status::Error { description } = &span.status {
        push("langfuse.observation.level", str(Text::Borrowed("ERROR")));
        let message = if description.is_empty() {
            as_text(known.error_type, scratch).unwrap_or(Text::Borrowed("error"))
        } else {
            Text::Borrowed(description)
        };
        push("langfuse.observation.status_message", str(message));
    }

    if span.parent_span_id != SpanId::INVALID {
        if let Some(name) = trace_name {
            push("langfuse.trace.name", str(Text::Borrowed(name)));
        }
    } else {
        push("langfuse.trace.name", str(Text::Borrowed(&span.name)));
    }

    if known.session_id.is_none()
        && let Some(conversation) = as_text(known.conversation_id, scratch)
    {
        push("session.id", str(conversation));
    }
    if known.user_id.is_none()
        && let Some(user) = as_text(known.enduser_id, scratch)
    {
        push("user.id", str(user));
    }
    if let Some(env) = &resource.environment {
        push("langfuse.environment", str(Text::Borrowed(env)));
    }
    if let Some(release) = &resource.release {
        push("langfuse.release", str(Text::Borrowed(release)));
    }

    // Input/output only exist when content capture was on; pass them through explicitly.
    if let Some(input) = as_text(known.input_messages.or(known.tool_arguments), scratch) {
        push("langfuse.observation.input", str(input));
    }
    if let Some(output) = as_text(known.output_messages.or(known.tool_result), scratch) {
        push("langfuse.observation.output", str(output));
    }
}

/// Adds the `langfuse.*` attributes to a span (replacing attributes of the same keys).
/// `trace_name` is the name of the trace's root span when it is known.
pub(crate) fn map_span(span: &mut SpanData, resource: &ResourceInfo, trace_name: Option<&str>) {
    let mut extras = Vec::new();
    let mut scratch = String::new();
    langfuse_attributes(span, resource, trace_name, &mut extras, &mut scratch);
    let extra: Vec<KeyValue> = extras
        .iter()
        .map(|e| {
            let value = match e.value {
                ExtraValue::Int(v) => Value::I64(v),
                ExtraValue::Str(text) => Value::String(text.resolve(&scratch).to_owned().into()),
            };
            KeyValue::new(Key::from_static_str(e.key), value)
        })
        .collect();
    span.attributes
        .retain(|kv| !extra.iter().any(|e| e.key == kv.key));
    span.attributes.extend(extra);
}

/// Langfuse usage keys, disjoint so that Langfuse's sum and its price lookup are right:
/// `input` excludes cache reads and writes, `output` excludes reasoning. Written as the JSON
/// object serde_json makes of them (keys sorted); `false` when there is no usage.
fn write_usage_details(known: &Known<'_>, out: &mut String) -> bool {
    let input = as_i64(known.input_tokens);
    let output = as_i64(known.output_tokens);
    if input.is_none() && output.is_none() {
        return false;
    }
    let cache_read = as_i64(known.cache_read).unwrap_or(0);
    let cache_creation = as_i64(known.cache_creation).unwrap_or(0);
    let reasoning = as_i64(known.reasoning).unwrap_or(0);
    let input = input.unwrap_or(0);
    let output = output.unwrap_or(0);
    out.push_str("{\"input\":");
    push_i64(out, (input - cache_read - cache_creation).max(0));
    if cache_creation > 0 {
        out.push_str(",\"input_cache_creation\":");
        push_i64(out, cache_creation);
    }
    if cache_read > 0 {
        out.push_str(",\"input_cached_tokens\":");
        push_i64(out, cache_read);
    }
    out.push_str(",\"output\":");
    push_i64(out, (output - reasoning).max(0));
    if reasoning > 0 {
        out.push_str(",\"output_reasoning_tokens\":");
        push_i64(out, reasoning);
    }
    out.push_str(",\"total\":");
    push_i64(out, input + output);
    out.push('}');
    true
}

/// Appends an integer in decimal, without the formatting machinery.
fn push_i64(out: &mut String, value: i64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut v = value.unsigned_abs();
    loop {
        at -= 1;
        digits[at] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    if value < 0 {
        out.push('-');
    }
    out.push_str(std::str::from_utf8(&digits[at..]).unwrap_or_default());
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
    let mut out = String::with_capacity(27);
    write_iso8601(t, &mut out);
    out
}

/// [`iso8601`], appended to `out`.
pub(crate) fn write_iso8601(t: SystemTime, out: &mut String) {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, day) = civil_from_days(days);
    if !(0..=9999).contains(&y) {
        let _ = write!(
            out,
            "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
            rem / 3600,
            (rem % 3600) / 60,
            rem % 60,
            d.subsec_micros()
        );
        return;
    }
    let mut buf = *b"0000-00-00T00:00:00.000000Z";
    let mut put = |at: usize, width: usize, mut v: u64| {
        for i in (at..at + width).rev() {
            buf[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, 4, y as u64);
    put(5, 2, u64::from(m));
    put(8, 2, u64::from(day));
    put(11, 2, (rem / 3600) as u64);
    put(14, 2, ((rem % 3600) / 60) as u64);
    put(17, 2, (rem % 60) as u64);
    put(20, 6, u64::from(d.subsec_micros()));
    out.push_str(std::str::from_utf8(&buf).unwrap_or_default());
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
    fn integers_are_written_as_display_writes_them() {
        for v in [0, 1, -1, 9, 10, 1380, -20, i64::MAX, i64::MIN, 1 << 40] {
            let mut out = String::new();
            push_i64(&mut out, v);
            assert_eq!(out, v.to_string());
        }
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

//! The direct encoding against the reference path it replaces: each span mapped into owned
//! `langfuse.*` attributes and truncated in place, converted by `opentelemetry-proto`,
//! encoded by prost, split with the same size estimate. Byte for byte, on spans covering
//! every field, value type and mapping rule.

use std::borrow::Cow;
use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{
    Event, Link, SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{Array, InstrumentationScope, KeyValue, StringValue, Value};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans};
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};
use prost::Message;

use super::{ExportResource, encode};
use crate::mapping::{self, ResourceInfo};

// ----- the reference: the mapping and encoding as they were -----------------------------

mod reference {
    use super::*;

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

    pub(super) fn iso8601(t: SystemTime) -> String {
        let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
        let secs = d.as_secs() as i64;
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let y = yoe + era * 400;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = if m <= 2 { y + 1 } else { y };
        format!(
            "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
            rem / 3600,
            (rem % 3600) / 60,
            rem % 60,
            d.subsec_micros()
        )
    }

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

    pub(super) fn map_span(span: &mut SpanData, resource: &ResourceInfo, trace_name: Option<&str>) {
        let mut extra: Vec<KeyValue> = Vec::new();
        let operation = get_string(span, "gen_ai.operation.name");
        let kind = mapping::observation_type(operation.as_deref());
        extra.push(KeyValue::new("langfuse.observation.type", kind));
        if let Some(name) = get_string(span, "gen_ai.prompt.name") {
            extra.push(KeyValue::new("langfuse.observation.prompt.name", name));
            if let Some(version) = get_i64(span, "gen_ai.prompt.version") {
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
        if span.parent_span_id != SpanId::INVALID {
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

    fn finish(resource_spans: ResourceSpans) -> Vec<u8> {
        ExportTraceServiceRequest {
            resource_spans: vec![resource_spans],
        }
        .encode_to_vec()
    }

    /// Map, truncate, convert, encode and split, as the exporter did.
    pub(super) fn export(
        spans: Vec<SpanData>,
        resource: &Resource,
        max: usize,
        max_attr: usize,
    ) -> (Vec<(Vec<u8>, u64)>, usize) {
        let info = mapping::resource_info(resource);
        let mut spans = spans;
        let roots: HashMap<TraceId, String> = spans
            .iter()
            .filter(|s| s.parent_span_id == SpanId::INVALID)
            .map(|s| (s.span_context.trace_id(), s.name.to_string()))
            .collect();
        let mut truncated = 0;
        for span in spans.iter_mut() {
            let root = roots.get(&span.span_context.trace_id()).cloned();
            map_span(span, &info, root.as_deref());
            truncated += mapping::truncate_strings(span, max_attr);
        }
        let resource = ResourceAttributesWithSchema::from(resource);
        let mut out = Vec::new();
        for resource_spans in group_spans_by_resource_and_scope(spans, &resource) {
            let ResourceSpans {
                resource,
                scope_spans,
                schema_url,
            } = resource_spans;
            let empty = || ResourceSpans {
                resource: resource.clone(),
                scope_spans: Vec::new(),
                schema_url: schema_url.clone(),
            };
            let mut current = empty();
            let mut current_len = current.encoded_len() + 16;
            let mut count = 0u64;
            for scope in scope_spans {
                let ScopeSpans {
                    scope: info,
                    spans,
                    schema_url: scope_url,
                } = scope;
                let scope_overhead =
                    info.as_ref().map_or(0, |s| s.encoded_len()) + scope_url.len() + 16;
                let mut open = false;
                for span in spans {
                    let len = span.encoded_len() + 8;
                    let extra = len + if open { 0 } else { scope_overhead };
                    if count > 0 && current_len + extra > max {
                        out.push((finish(std::mem::replace(&mut current, empty())), count));
                        current_len = current.encoded_len() + 16;
                        count = 0;
                        open = false;
                    }
                    if !open {
                        current.scope_spans.push(ScopeSpans {
                            scope: info.clone(),
                            spans: Vec::new(),
                            schema_url: scope_url.clone(),
                        });
                        current_len += scope_overhead;
                        open = true;
                    }
                    if let Some(last) = current.scope_spans.last_mut() {
                        last.spans.push(span);
                    }
                    current_len += len;
                    count += 1;
                }
            }
            if count > 0 {
                out.push((finish(current), count));
            }
        }
        (out, truncated)
    }
}

// ----- spans covering the cases ---------------------------------------------------------

/// A small deterministic generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 17
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

fn base_time() -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(1_764_351_000_123_456_789)
}

fn scopes() -> Vec<InstrumentationScope> {
    vec![
        InstrumentationScope::builder("spanforge.llm").build(),
        InstrumentationScope::builder("app")
            .with_version("1.2.3")
            .with_schema_url("https://opentelemetry.io/schemas/1.30.0")
            .with_attributes([KeyValue::new("scope.attr", 7_i64)])
            .build(),
        InstrumentationScope::builder("").build(),
    ]
}

/// Every kind of value, long strings and multi-byte characters included.
fn value(rng: &mut Rng) -> Value {
    match rng.below(12) {
        0 => Value::Bool(rng.chance(50)),
        1 => Value::I64(rng.next() as i64 - (1 << 46)),
        2 => Value::I64(-1),
        3 => Value::F64((rng.next() as f64) / 1e9),
        4 => Value::String("".into()),
        5 => Value::String("é€𝄞x".repeat(rng.below(200) as usize + 1).into()),
        6 => Value::String("y".repeat(rng.below(600) as usize).into()),
        7 => Value::Array(Array::Bool(vec![true, false, rng.chance(50)])),
        8 => Value::Array(Array::I64(vec![0, -5, rng.next() as i64])),
        9 => Value::Array(Array::F64(vec![0.0, -1.5, f64::NAN, 1e300])),
        10 => Value::Array(Array::String(vec![
            StringValue::from("a"),
            StringValue::from("ü".repeat(rng.below(400) as usize)),
            StringValue::from(""),
        ])),
        _ => Value::Array(Array::String(Vec::new())),
    }
}

fn genai_attributes(rng: &mut Rng) -> Vec<KeyValue> {
    let mut attrs = Vec::new();
    let mut maybe = |rng: &mut Rng, key: &'static str, value: Value| {
        if rng.chance(60) {
            attrs.push(KeyValue::new(key, value));
        }
    };
    let operation = match rng.below(8) {
        0 => Value::from("chat"),
        1 => Value::from("text_completion"),
        2 => Value::from("embeddings"),
        3 => Value::from("execute_tool"),
        4 => Value::from("invoke_agent"),
        5 => Value::from("something_else"),
        6 => Value::I64(3),
        _ => Value::from("generate_content"),
    };
    maybe(rng, "gen_ai.operation.name", operation);
    let name = if rng.chance(80) {
        Value::from("greet")
    } else {
        Value::I64(12)
    };
    maybe(rng, "gen_ai.prompt.name", name);
    let version = match rng.below(4) {
        0 => Value::I64(3),
        1 => Value::from(" 7 "),
        2 => Value::F64(4.9),
        _ => Value::from("v2"),
    };
    maybe(rng, "gen_ai.prompt.version", version);
    let ttfc = match rng.below(5) {
        0 => Value::F64(0.21),
        1 => Value::from("0.5"),
        2 => Value::F64(-1.0),
        3 => Value::I64(2),
        _ => Value::F64(f64::INFINITY),
    };
    maybe(rng, "gen_ai.response.time_to_first_chunk", ttfc);
    for key in [
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.output_tokens",
        "gen_ai.usage.cache_read.input_tokens",
        "gen_ai.usage.cache_creation.input_tokens",
        "gen_ai.usage.reasoning.output_tokens",
    ] {
        let tokens = match rng.below(5) {
            0 => Value::I64(rng.below(5000) as i64),
            1 => Value::from(format!("{}", rng.below(900))),
            2 => Value::F64(12.7),
            3 => Value::I64(-20),
            _ => Value::Bool(true),
        };
        maybe(rng, key, tokens);
    }
    let cost = match rng.below(7) {
        0 => Value::F64(0.000_288),
        1 => Value::F64(1e-7),
        2 => Value::F64(12.0),
        3 => Value::I64(3),
        4 => Value::F64(f64::NAN),
        5 => Value::from("0.25"),
        _ => Value::F64(-0.0),
    };
    maybe(rng, "gen_ai.usage.cost", cost);
    maybe(rng, "error.type", Value::I64(429));
    maybe(rng, "session.id", Value::from("s-1"));
    maybe(rng, "gen_ai.conversation.id", Value::from("conv-9"));
    maybe(rng, "user.id", Value::from("u-1"));
    maybe(rng, "enduser.id", Value::from("alice"));
    let input = value(rng);
    maybe(rng, "gen_ai.input.messages", input);
    maybe(rng, "gen_ai.tool.call.arguments", Value::from("{\"q\":1}"));
    let output = value(rng);
    maybe(rng, "gen_ai.output.messages", output);
    maybe(rng, "gen_ai.tool.call.result", Value::from("42"));
    // Attributes the mapping replaces, and others.
    maybe(rng, "langfuse.observation.type", Value::from("event"));
    maybe(rng, "langfuse.trace.name", Value::from("old"));
    maybe(rng, "", Value::from("empty key"));
    for i in 0..rng.below(4) {
        let v = value(rng);
        attrs.push(KeyValue::new(format!("extra.{i}"), v));
    }
    // Shuffle a little: the first of duplicate keys wins.
    if attrs.len() > 2 && rng.chance(30) {
        let a = rng.below(attrs.len() as u64) as usize;
        let b = rng.below(attrs.len() as u64) as usize;
        attrs.swap(a, b);
        attrs.push(attrs[a].clone());
    }
    attrs
}

fn span(rng: &mut Rng, i: usize, scopes: &[InstrumentationScope]) -> SpanData {
    let trace = TraceId::from((rng.below(6) + 1) as u128 * 0x1_0000_0001);
    let id = SpanId::from(i as u64 + 1);
    let parent = match rng.below(3) {
        0 => SpanId::INVALID,
        1 => SpanId::from(rng.below(i as u64 + 1) + 1),
        _ => SpanId::from(9_999),
    };
    let trace_state = if rng.chance(20) {
        TraceState::from_key_value([("vendor", "v1"), ("other", "x")]).unwrap()
    } else {
        TraceState::default()
    };
    let flags = if rng.chance(80) {
        TraceFlags::SAMPLED
    } else {
        TraceFlags::default()
    };
    let start = if rng.chance(5) {
        UNIX_EPOCH
    } else {
        base_time() + Duration::from_micros(rng.below(1 << 30))
    };
    let events = (0..rng.below(3))
        .map(|e| {
            let attrs = (0..rng.below(3))
                .map(|k| KeyValue::new(format!("event.{k}"), value(rng)))
                .collect();
            let mut event = Event::new(
                if e == 0 { "" } else { "gen_ai.choice" },
                if rng.chance(10) {
                    UNIX_EPOCH
                } else {
                    start + Duration::from_millis(e)
                },
                attrs,
                0,
            );
            event.dropped_attributes_count = rng.below(2) as u32;
            event
        })
        .collect();
    let links = (0..rng.below(3))
        .map(|_| {
            let context = SpanContext::new(
                TraceId::from(rng.next() as u128 + 1),
                SpanId::from(rng.next() + 1),
                flags,
                rng.chance(50),
                trace_state.clone(),
            );
            let attrs = (0..rng.below(3))
                .map(|k| KeyValue::new(format!("link.{k}"), value(rng)))
                .collect();
            Link::new(context, attrs, rng.below(2) as u32)
        })
        .collect();
    let status = match rng.below(5) {
        0 => Status::Ok,
        1 => Status::error(""),
        2 => Status::error("quota exceeded"),
        _ => Status::Unset,
    };
    let kind = match rng.below(5) {
        0 => SpanKind::Internal,
        1 => SpanKind::Server,
        2 => SpanKind::Client,
        3 => SpanKind::Producer,
        _ => SpanKind::Consumer,
    };
    let attributes = if rng.chance(80) {
        genai_attributes(rng)
    } else {
        vec![KeyValue::new("http.route", "/chat")]
    };
    SpanData {
        span_context: SpanContext::new(trace, id, flags, false, trace_state),
        parent_span_id: parent,
        parent_span_is_remote: rng.chance(10),
        span_kind: kind,
        name: if rng.chance(5) {
            Cow::Borrowed("")
        } else {
            Cow::Owned(format!("span {i}"))
        },
        start_time: start,
        end_time: start + Duration::from_millis(rng.below(5000)),
        attributes,
        dropped_attributes_count: rng.below(2) as u32,
        events: {
            let mut e = SpanEvents::default();
            e.events = events;
            e.dropped_count = rng.below(2) as u32;
            e
        },
        links: {
            let mut l = SpanLinks::default();
            l.links = links;
            l.dropped_count = rng.below(2) as u32;
            l
        },
        status,
        instrumentation_scope: scopes[rng.below(scopes.len() as u64) as usize].clone(),
    }
}

fn resources() -> Vec<Resource> {
    vec![
        Resource::builder_empty().build(),
        Resource::builder_empty()
            .with_service_name("llm-service")
            .with_attributes([
                KeyValue::new("deployment.environment.name", "staging"),
                KeyValue::new("service.version", "1.2.3"),
                KeyValue::new("host.cores", 2_i64),
            ])
            .build(),
        Resource::builder_empty()
            .with_schema_url(
                [KeyValue::new("deployment.environment", "prod")],
                "https://opentelemetry.io/schemas/1.30.0",
            )
            .build(),
    ]
}

/// Compares with the reference; returns the number of requests and of truncated values.
fn check(spans: Vec<SpanData>, resource: &Resource, max: usize, max_attr: usize) -> (usize, usize) {
    let refs: Vec<&SpanData> = spans.iter().collect();
    let spare = (max > 1000).then(|| vec![7u8; 100_000]);
    let ours = encode(&refs, &ExportResource::new(resource), max, max_attr, spare);
    let (expected, expected_truncated) = reference::export(spans.clone(), resource, max, max_attr);
    assert_eq!(ours.truncated, expected_truncated, "truncated count");
    assert_eq!(
        ours.requests.len(),
        expected.len(),
        "request count (max {max})"
    );
    for (i, ((body, count), (want, want_count))) in ours.requests.iter().zip(&expected).enumerate()
    {
        assert_eq!(count, want_count, "spans in request {i}");
        if body.as_ref() != want.as_slice() {
            let got = ExportTraceServiceRequest::decode(body.as_ref()).expect("decodes");
            let wanted = ExportTraceServiceRequest::decode(want.as_slice()).unwrap();
            assert_eq!(got, wanted, "request {i} (max {max}, max_attr {max_attr})");
            let at = body.iter().zip(want.iter()).position(|(a, b)| a != b);
            let from = at.unwrap_or(0).saturating_sub(24);
            panic!(
                "request {i}: same message, different bytes at {at:?}:\n{:?}\n{:?}",
                &body[from..(from + 64).min(body.len())],
                &want[from..(from + 64).min(want.len())]
            );
        }
    }
    (expected.len(), expected_truncated)
}

#[test]
fn requests_are_byte_identical_to_the_reference_encoding() {
    let scopes = scopes();
    let (mut batches, mut requests, mut truncated) = (0, 0, 0);
    for (seed, resource) in resources().iter().enumerate() {
        let mut rng = Rng(seed as u64 * 7919 + 1);
        for round in 0..40 {
            let n = 1 + rng.below(40) as usize;
            let spans: Vec<SpanData> = (0..n).map(|i| span(&mut rng, i, &scopes)).collect();
            let max_attr = [64, 300, 1000, 512 * 1024][round % 4];
            for max in [1, 700, 4_000, 3_500_000] {
                let (r, t) = check(spans.clone(), resource, max, max_attr);
                batches += 1;
                requests += r;
                truncated += t;
            }
        }
    }
    // The cases were exercised: split requests and truncated values.
    assert!(
        requests > batches * 2,
        "{requests} requests for {batches} batches"
    );
    assert!(truncated > 1000, "{truncated} truncated values");
}

#[test]
fn a_typical_generation_matches_the_reference() {
    let resource = &resources()[1];
    let spans: Vec<SpanData> = (0..3)
        .map(|i| SpanData {
            span_context: SpanContext::new(
                TraceId::from(77 + i as u128),
                SpanId::from(5 + i),
                TraceFlags::SAMPLED,
                false,
                TraceState::default(),
            ),
            parent_span_id: SpanId::INVALID,
            parent_span_is_remote: false,
            span_kind: SpanKind::Client,
            name: "chat gpt-4o-mini".into(),
            start_time: base_time(),
            end_time: base_time() + Duration::from_millis(850),
            attributes: vec![
                KeyValue::new("gen_ai.operation.name", "chat"),
                KeyValue::new("gen_ai.request.model", "gpt-4o-mini"),
                KeyValue::new("gen_ai.usage.input_tokens", 1200_i64),
                KeyValue::new("gen_ai.usage.output_tokens", 180_i64),
                KeyValue::new("gen_ai.usage.cache_read.input_tokens", 400_i64),
                KeyValue::new("gen_ai.usage.cost", 0.000_288),
                KeyValue::new("gen_ai.prompt.name", "greet"),
                KeyValue::new("gen_ai.prompt.version", 3_i64),
                KeyValue::new("gen_ai.response.time_to_first_chunk", 0.21),
            ],
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: Status::Unset,
            instrumentation_scope: InstrumentationScope::builder("spanforge.llm").build(),
        })
        .collect();
    check(spans, resource, 3_500_000, 512 * 1024);
}

/// Attributes as comparable strings (NaN included).
fn comparable(attributes: &[KeyValue]) -> Vec<(String, String)> {
    attributes
        .iter()
        .map(|kv| {
            let kind = match &kv.value {
                Value::Bool(_) => "bool",
                Value::I64(_) => "i64",
                Value::F64(_) => "f64",
                Value::String(_) => "string",
                Value::Array(_) => "array",
                _ => "other",
            };
            (kv.key.to_string(), format!("{kind}: {}", kv.value))
        })
        .collect()
}

#[test]
fn the_mapping_matches_the_reference() {
    let scopes = scopes();
    let info = mapping::resource_info(&resources()[1]);
    let mut rng = Rng(42);
    for i in 0..2_000 {
        let original = span(&mut rng, i, &scopes);
        for trace_name in [None, Some("root")] {
            let mut ours = original.clone();
            let mut expected = original.clone();
            mapping::map_span(&mut ours, &info, trace_name);
            reference::map_span(&mut expected, &info, trace_name);
            assert_eq!(
                comparable(&ours.attributes),
                comparable(&expected.attributes)
            );
        }
    }
}

#[test]
fn iso8601_matches_the_reference() {
    let mut rng = Rng(3);
    let mut times = vec![
        UNIX_EPOCH,
        UNIX_EPOCH - Duration::from_secs(5),
        UNIX_EPOCH + Duration::from_secs(253_402_300_799),
        UNIX_EPOCH + Duration::from_secs(253_402_300_800),
        UNIX_EPOCH + Duration::from_secs(951_782_400),
    ];
    times.extend((0..10_000).map(|_| UNIX_EPOCH + Duration::from_micros(rng.next())));
    for t in times {
        assert_eq!(mapping::iso8601(t), reference::iso8601(t));
    }
}

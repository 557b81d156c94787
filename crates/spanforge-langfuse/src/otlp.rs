//! OTLP/HTTP protobuf requests written straight from the `SpanData` and the Langfuse
//! attributes the mapping derives, borrowing both: no intermediate protobuf structures, no
//! copies of attribute keys and values, one exactly sized buffer per request.
//!
//! The bytes are those `opentelemetry-proto`'s conversion and prost's encoding produce for
//! the mapped and truncated spans (fields in tag order, defaults left out), which the tests
//! check.

use std::collections::HashMap;
use std::ops::Range;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use opentelemetry::trace::{SpanId, SpanKind, Status, TraceId};
use opentelemetry::{Array, InstrumentationScope, KeyValue, Value};
use opentelemetry_proto::tonic::common::v1::InstrumentationScope as ProtoScope;
use opentelemetry_proto::tonic::resource::v1::Resource as ProtoResource;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SpanData;
use prost::Message;

use crate::mapping::{self, Extra, ExtraValue, ResourceInfo, TRUNCATION_MARKER};

/// What the resource contributes to every request, computed once per resource.
#[derive(Debug, Default)]
pub(crate) struct ExportResource {
    /// Environment and release, for the mapping.
    pub(crate) info: ResourceInfo,
    /// The encoded `Resource` message.
    encoded: Vec<u8>,
    /// The resource's schema URL (empty if none).
    schema_url: String,
}

impl ExportResource {
    pub(crate) fn new(resource: &Resource) -> ExportResource {
        let attributes = ResourceAttributesWithSchema::from(resource);
        ExportResource {
            info: mapping::resource_info(resource),
            encoded: ProtoResource {
                attributes: attributes.attributes.0,
                dropped_attributes_count: 0,
                entity_refs: Vec::new(),
            }
            .encode_to_vec(),
            schema_url: attributes.schema_url.unwrap_or_default(),
        }
    }
}

/// The requests for a batch, and how many string values were truncated.
pub(crate) struct Encoded {
    /// Request bodies and the number of spans in each.
    pub(crate) requests: Vec<(Bytes, u64)>,
    pub(crate) truncated: usize,
}

/// One span, mapped and measured.
struct Planned<'a> {
    span: &'a SpanData,
    /// Its Langfuse attributes, in the batch's arena.
    extras: Range<usize>,
    /// The W3C trace state header (empty, without allocating, in the usual case).
    trace_state: String,
    /// Length of the encoded `Span` message.
    len: usize,
    /// Index of its instrumentation scope.
    scope: usize,
}

/// One instrumentation scope of the batch.
struct Scope {
    /// The encoded `InstrumentationScope` message.
    encoded: Vec<u8>,
    schema_url: String,
}

/// Maps `spans` (kept spans, in batch order) and encodes them into
/// `ExportTraceServiceRequest`s: one resource, the spans grouped by instrumentation scope
/// (scopes in order of first appearance, spans in batch order), each request at most
/// `max_request_bytes` (estimated as before: a single larger span goes alone). String
/// attribute values longer than `max_attribute_bytes` are truncated. `spare` is a buffer
/// of an earlier export to write a request into, if it is large enough.
pub(crate) fn encode(
    spans: &[&SpanData],
    resource: &ExportResource,
    max_request_bytes: usize,
    max_attribute_bytes: usize,
    mut spare: Option<Vec<u8>>,
) -> Encoded {
    // The root span's name of each trace, for spans that have a parent.
    let roots: HashMap<TraceId, &str> = if spans.iter().any(|s| s.parent_span_id != SpanId::INVALID)
    {
        spans
            .iter()
            .filter(|s| s.parent_span_id == SpanId::INVALID)
            .map(|s| (s.span_context.trace_id(), s.name.as_ref()))
            .collect()
    } else {
        HashMap::new()
    };

    // Group by scope: the previous span's scope first, which is the usual case.
    let mut scopes: Vec<(&InstrumentationScope, Vec<&SpanData>)> = Vec::new();
    let mut scope_index: HashMap<&InstrumentationScope, usize> = HashMap::new();
    let mut last: Option<usize> = None;
    for &span in spans {
        let scope = &span.instrumentation_scope;
        let at = match last {
            Some(i) if scopes[i].0 == scope => i,
            _ => *scope_index.entry(scope).or_insert_with(|| {
                scopes.push((scope, Vec::new()));
                scopes.len() - 1
            }),
        };
        scopes[at].1.push(span);
        last = Some(at);
    }

    // Map and measure every span, scope by scope.
    let mut extras: Vec<Extra<'_>> = Vec::with_capacity(spans.len() * 8);
    let mut scratch = String::with_capacity(spans.len() * 128);
    let mut planned: Vec<Planned<'_>> = Vec::with_capacity(spans.len());
    let mut scope_info: Vec<Scope> = Vec::with_capacity(scopes.len());
    let mut truncated = 0;
    for (index, (scope, members)) in scopes.iter().enumerate() {
        scope_info.push(Scope {
            encoded: ProtoScope::from((*scope, None)).encode_to_vec(),
            schema_url: scope.schema_url().unwrap_or_default().to_owned(),
        });
        for &span in members {
            let trace_name = if span.parent_span_id != SpanId::INVALID {
                roots.get(&span.span_context.trace_id()).copied()
            } else {
                None
            };
            let from = extras.len();
            mapping::langfuse_attributes(
                span,
                &resource.info,
                trace_name,
                &mut extras,
                &mut scratch,
            );
            let mut plan = Planned {
                span,
                extras: from..extras.len(),
                trace_state: span.span_context.trace_state().header(),
                len: 0,
                scope: index,
            };
            let ctx = Ctx {
                extras: &extras[plan.extras.clone()],
                scratch: &scratch,
                max: max_attribute_bytes,
            };
            let mut cut = 0;
            plan.len = span_len(&plan, &ctx, &mut cut);
            truncated += cut;
            planned.push(plan);
        }
    }

    // Split into requests, estimating sizes as the exporter always has.
    let resource_field = 1 + len_field(resource.encoded.len());
    let resource_schema = string_field(&resource.schema_url);
    let base_len = resource_field + resource_schema + 16;
    let mut requests: Vec<Range<usize>> = Vec::new();
    let mut first = 0;
    let mut current_len = base_len;
    let mut open: Option<usize> = None;
    for (i, plan) in planned.iter().enumerate() {
        let scope = &scope_info[plan.scope];
        let scope_overhead = scope.encoded.len() + scope.schema_url.len() + 16;
        let is_open = open == Some(plan.scope);
        let len = plan.len + 8;
        let extra = len + if is_open { 0 } else { scope_overhead };
        if i > first && current_len + extra > max_request_bytes {
            requests.push(first..i);
            first = i;
            current_len = base_len;
            open = None;
        }
        if open != Some(plan.scope) {
            current_len += scope_overhead;
            open = Some(plan.scope);
        }
        current_len += len;
    }
    if first < planned.len() {
        requests.push(first..planned.len());
    }

    // Write each request into a buffer of its exact size.
    let requests = requests
        .into_iter()
        .map(|range| {
            let plans = &planned[range];
            // Runs of spans of the same scope: one ScopeSpans each.
            let mut runs: Vec<(usize, Range<usize>, usize)> = Vec::new();
            for (i, plan) in plans.iter().enumerate() {
                match runs.last_mut() {
                    Some((scope, run, _)) if *scope == plan.scope => run.end = i + 1,
                    _ => runs.push((plan.scope, i..i + 1, 0)),
                }
            }
            let mut resource_spans_len = resource_field + resource_schema;
            for (scope, run, len) in runs.iter_mut() {
                let info = &scope_info[*scope];
                *len = 1
                    + len_field(info.encoded.len())
                    + plans[run.clone()]
                        .iter()
                        .map(|p| 1 + len_field(p.len))
                        .sum::<usize>()
                    + string_field(&info.schema_url);
                resource_spans_len += 1 + len_field(*len);
            }
            let total = 1 + len_field(resource_spans_len);
            let mut buf = match spare.take() {
                Some(mut buf) if buf.capacity() >= total => {
                    buf.clear();
                    buf
                }
                _ => Vec::with_capacity(total),
            };
            // ExportTraceServiceRequest.resource_spans
            buf.push(0x0A);
            varint(&mut buf, resource_spans_len as u64);
            // ResourceSpans.resource
            buf.push(0x0A);
            varint(&mut buf, resource.encoded.len() as u64);
            buf.extend_from_slice(&resource.encoded);
            for (scope, run, len) in &runs {
                let info = &scope_info[*scope];
                // ResourceSpans.scope_spans
                buf.push(0x12);
                varint(&mut buf, *len as u64);
                // ScopeSpans.scope
                buf.push(0x0A);
                varint(&mut buf, info.encoded.len() as u64);
                buf.extend_from_slice(&info.encoded);
                for plan in &plans[run.clone()] {
                    // ScopeSpans.spans
                    buf.push(0x12);
                    varint(&mut buf, plan.len as u64);
                    let ctx = Ctx {
                        extras: &extras[plan.extras.clone()],
                        scratch: &scratch,
                        max: max_attribute_bytes,
                    };
                    let at = buf.len();
                    put_span(&mut buf, plan, &ctx);
                    debug_assert_eq!(buf.len() - at, plan.len, "span length");
                }
                // ScopeSpans.schema_url
                put_string(&mut buf, 3, &info.schema_url);
            }
            // ResourceSpans.schema_url
            put_string(&mut buf, 3, &resource.schema_url);
            debug_assert_eq!(buf.len(), total, "request length");
            (Bytes::from(buf), plans.len() as u64)
        })
        .collect();
    Encoded {
        requests,
        truncated,
    }
}

/// What the encoding of one span needs besides the span.
struct Ctx<'e, 'a> {
    extras: &'e [Extra<'a>],
    scratch: &'e str,
    /// Longest string attribute value sent as is.
    max: usize,
}

impl Ctx<'_, '_> {
    /// Whether a span attribute is replaced by a Langfuse attribute of the same key.
    fn replaced(&self, kv: &KeyValue) -> bool {
        let key = kv.key.as_str();
        self.extras.iter().any(|e| e.key == key)
    }
}

// ----- protobuf primitives --------------------------------------------------------------

fn varint_len(value: u64) -> usize {
    ((((value | 1).leading_zeros() ^ 63) * 9 + 73) / 64) as usize
}

fn varint(buf: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        buf.push((value as u8) | 0x80);
        value >>= 7;
    }
    buf.push(value as u8);
}

/// Length of a length-delimited payload of `len` bytes with its length prefix (the tag
/// excluded).
fn len_field(len: usize) -> usize {
    varint_len(len as u64) + len
}

/// Length of a string field with a one-byte tag, left out when empty.
fn string_field(s: &str) -> usize {
    if s.is_empty() {
        0
    } else {
        1 + len_field(s.len())
    }
}

/// A string field with a one-byte tag, left out when empty.
fn put_string(buf: &mut Vec<u8>, field: u8, s: &str) {
    if !s.is_empty() {
        buf.push(field << 3 | 2);
        varint(buf, s.len() as u64);
        buf.extend_from_slice(s.as_bytes());
    }
}

/// A varint field with a one-byte tag, left out when zero.
fn varint_field(value: u64) -> usize {
    if value == 0 { 0 } else { 1 + varint_len(value) }
}

fn put_varint(buf: &mut Vec<u8>, field: u8, value: u64) {
    if value != 0 {
        buf.push(field << 3);
        varint(buf, value);
    }
}

/// A fixed64 field with a one-byte tag, left out when zero.
fn put_fixed64(buf: &mut Vec<u8>, field: u8, value: u64) {
    if value != 0 {
        buf.push(field << 3 | 1);
        buf.extend_from_slice(&value.to_le_bytes());
    }
}

fn nanos(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// OTLP span flags: the W3C trace flags, plus whether the parent is remote.
fn span_flags(parent_is_remote: bool, trace_flags: u8) -> u32 {
    u32::from(trace_flags) | 0x100 | if parent_is_remote { 0x200 } else { 0 }
}

// ----- strings, with truncation ---------------------------------------------------------

/// Where `s` is cut when it is longer than `max`: the length of the kept head.
fn cut_at(s: &str, max: usize) -> Option<usize> {
    if s.len() <= max {
        return None;
    }
    let mut end = max.saturating_sub(TRUNCATION_MARKER.len()).min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    Some(end)
}

/// Length of `s` as sent; counts a truncation in `cut`.
fn sent_len(s: &str, max: usize, cut: &mut usize) -> usize {
    match cut_at(s, max) {
        None => s.len(),
        Some(end) => {
            *cut += 1;
            end + TRUNCATION_MARKER.len()
        }
    }
}

fn put_sent(buf: &mut Vec<u8>, s: &str, max: usize) {
    match cut_at(s, max) {
        None => buf.extend_from_slice(s.as_bytes()),
        Some(end) => {
            buf.extend_from_slice(&s.as_bytes()[..end]);
            buf.extend_from_slice(TRUNCATION_MARKER.as_bytes());
        }
    }
}

/// An `AnyValue` string, truncated beyond `max`.
fn string_value_len(s: &str, max: usize, cut: &mut usize) -> usize {
    1 + len_field(sent_len(s, max, cut))
}

fn put_string_value(buf: &mut Vec<u8>, s: &str, max: usize) {
    buf.push(0x0A);
    let mut ignored = 0;
    varint(buf, sent_len(s, max, &mut ignored) as u64);
    put_sent(buf, s, max);
}

// ----- attributes -----------------------------------------------------------------------

/// Length of the `AnyValue` message for a value.
fn any_len(value: &Value, max: usize, cut: &mut usize) -> usize {
    match value {
        Value::Bool(_) => 2,
        Value::I64(v) => 1 + varint_len(*v as u64),
        Value::F64(_) => 9,
        Value::String(s) => string_value_len(s.as_str(), max, cut),
        Value::Array(array) => 1 + len_field(array_len(array, max, cut)),
        _ => 0,
    }
}

fn put_any(buf: &mut Vec<u8>, value: &Value, max: usize) {
    match value {
        Value::Bool(b) => buf.extend_from_slice(&[0x10, u8::from(*b)]),
        Value::I64(v) => {
            buf.push(0x18);
            varint(buf, *v as u64);
        }
        Value::F64(v) => {
            buf.push(0x21);
            buf.extend_from_slice(&v.to_bits().to_le_bytes());
        }
        Value::String(s) => put_string_value(buf, s.as_str(), max),
        Value::Array(array) => {
            buf.push(0x2A);
            let mut ignored = 0;
            varint(buf, array_len(array, max, &mut ignored) as u64);
            put_array(buf, array, max);
        }
        _ => {}
    }
}

/// Length of the `ArrayValue` message.
fn array_len(array: &Array, max: usize, cut: &mut usize) -> usize {
    fn items<T>(values: &[T], len: impl Fn(&T) -> usize) -> usize {
        values.iter().map(|v| 1 + len_field(len(v))).sum()
    }
    match array {
        Array::Bool(values) => items(values, |_| 2),
        Array::I64(values) => items(values, |v| 1 + varint_len(*v as u64)),
        Array::F64(values) => items(values, |_| 9),
        Array::String(values) => values
            .iter()
            .map(|s| 1 + len_field(string_value_len(s.as_str(), max, cut)))
            .sum(),
        _ => 0,
    }
}

fn put_array(buf: &mut Vec<u8>, array: &Array, max: usize) {
    match array {
        Array::Bool(values) => {
            for v in values {
                buf.extend_from_slice(&[0x0A, 2, 0x10, u8::from(*v)]);
            }
        }
        Array::I64(values) => {
            for v in values {
                buf.push(0x0A);
                varint(buf, 1 + varint_len(*v as u64) as u64);
                buf.push(0x18);
                varint(buf, *v as u64);
            }
        }
        Array::F64(values) => {
            for v in values {
                buf.extend_from_slice(&[0x0A, 9, 0x21]);
                buf.extend_from_slice(&v.to_bits().to_le_bytes());
            }
        }
        Array::String(values) => {
            for s in values {
                buf.push(0x0A);
                let mut ignored = 0;
                varint(buf, string_value_len(s.as_str(), max, &mut ignored) as u64);
                put_string_value(buf, s.as_str(), max);
            }
        }
        _ => {}
    }
}

/// Length of a `KeyValue` message whose value's `AnyValue` is `any` bytes long.
fn key_value_len(key: &str, any: usize) -> usize {
    string_field(key) + 1 + len_field(any)
}

/// A repeated `KeyValue` field (tag `field`) holding a span attribute.
fn attribute_len(kv: &KeyValue, max: usize, cut: &mut usize) -> usize {
    1 + len_field(key_value_len(kv.key.as_str(), any_len(&kv.value, max, cut)))
}

fn put_attribute(buf: &mut Vec<u8>, field: u8, kv: &KeyValue, max: usize) {
    let key = kv.key.as_str();
    let mut ignored = 0;
    let any = any_len(&kv.value, max, &mut ignored);
    buf.push(field << 3 | 2);
    varint(buf, key_value_len(key, any) as u64);
    put_string(buf, 1, key);
    buf.push(0x12);
    varint(buf, any as u64);
    put_any(buf, &kv.value, max);
}

fn extra_any_len(extra: &Extra<'_>, ctx: &Ctx<'_, '_>, cut: &mut usize) -> usize {
    match extra.value {
        ExtraValue::Int(v) => 1 + varint_len(v as u64),
        ExtraValue::Str(text) => string_value_len(text.resolve(ctx.scratch), ctx.max, cut),
    }
}

fn extra_len(extra: &Extra<'_>, ctx: &Ctx<'_, '_>, cut: &mut usize) -> usize {
    1 + len_field(key_value_len(extra.key, extra_any_len(extra, ctx, cut)))
}

fn put_extra(buf: &mut Vec<u8>, extra: &Extra<'_>, ctx: &Ctx<'_, '_>) {
    let mut ignored = 0;
    let any = extra_any_len(extra, ctx, &mut ignored);
    // Span.attributes
    buf.push(0x4A);
    varint(buf, key_value_len(extra.key, any) as u64);
    put_string(buf, 1, extra.key);
    buf.push(0x12);
    varint(buf, any as u64);
    match extra.value {
        ExtraValue::Int(v) => {
            buf.push(0x18);
            varint(buf, v as u64);
        }
        ExtraValue::Str(text) => put_string_value(buf, text.resolve(ctx.scratch), ctx.max),
    }
}

// ----- spans ----------------------------------------------------------------------------

fn kind(kind: &SpanKind) -> u64 {
    match kind {
        SpanKind::Internal => 1,
        SpanKind::Server => 2,
        SpanKind::Client => 3,
        SpanKind::Producer => 4,
        SpanKind::Consumer => 5,
    }
}

/// `Status` message: the description of an error, and the code.
fn status(status: &Status) -> (&str, u64) {
    match status {
        Status::Unset => ("", 0),
        Status::Ok => ("", 1),
        Status::Error { description } => (description, 2),
    }
}

fn status_len(status: &Status) -> usize {
    let (message, code) = self::status(status);
    string_field(message) + varint_field(code)
}

fn event_len(event: &opentelemetry::trace::Event, max: usize, cut: &mut usize) -> usize {
    (if nanos(event.timestamp) != 0 { 9 } else { 0 })
        + string_field(&event.name)
        + event
            .attributes
            .iter()
            .map(|kv| attribute_len(kv, max, cut))
            .sum::<usize>()
        + varint_field(u64::from(event.dropped_attributes_count))
}

fn link_len(link: &opentelemetry::trace::Link, trace_state: &str) -> usize {
    let mut ignored = 0;
    18 + 10
        + string_field(trace_state)
        + link
            .attributes
            .iter()
            .map(|kv| attribute_len(kv, usize::MAX, &mut ignored))
            .sum::<usize>()
        + varint_field(u64::from(link.dropped_attributes_count))
        + 5
}

/// Length of the `Span` message; counts truncated values in `cut`.
fn span_len(plan: &Planned<'_>, ctx: &Ctx<'_, '_>, cut: &mut usize) -> usize {
    let span = plan.span;
    // trace_id, span_id, flags (two-byte tag), kind (never unspecified)
    let mut len = 18 + 10 + 6 + 2;
    len += string_field(&plan.trace_state);
    if span.parent_span_id != SpanId::INVALID {
        len += 10;
    }
    len += string_field(&span.name);
    if nanos(span.start_time) != 0 {
        len += 9;
    }
    if nanos(span.end_time) != 0 {
        len += 9;
    }
    for kv in &span.attributes {
        if !ctx.replaced(kv) {
            len += attribute_len(kv, ctx.max, cut);
        }
    }
    for extra in ctx.extras {
        len += extra_len(extra, ctx, cut);
    }
    len += varint_field(u64::from(span.dropped_attributes_count));
    for event in span.events.iter() {
        len += 1 + len_field(event_len(event, ctx.max, cut));
    }
    len += varint_field(u64::from(span.events.dropped_count));
    for link in span.links.iter() {
        let trace_state = link.span_context.trace_state().header();
        len += 1 + len_field(link_len(link, &trace_state));
    }
    len += varint_field(u64::from(span.links.dropped_count));
    len + 1 + len_field(status_len(&span.status))
}

fn put_span(buf: &mut Vec<u8>, plan: &Planned<'_>, ctx: &Ctx<'_, '_>) {
    let span = plan.span;
    let context = &span.span_context;
    buf.extend_from_slice(&[0x0A, 16]);
    buf.extend_from_slice(&context.trace_id().to_bytes());
    buf.extend_from_slice(&[0x12, 8]);
    buf.extend_from_slice(&context.span_id().to_bytes());
    put_string(buf, 3, &plan.trace_state);
    if span.parent_span_id != SpanId::INVALID {
        buf.extend_from_slice(&[0x22, 8]);
        buf.extend_from_slice(&span.parent_span_id.to_bytes());
    }
    put_string(buf, 5, &span.name);
    buf.extend_from_slice(&[0x30, kind(&span.span_kind) as u8]);
    put_fixed64(buf, 7, nanos(span.start_time));
    put_fixed64(buf, 8, nanos(span.end_time));
    for kv in &span.attributes {
        if !ctx.replaced(kv) {
            put_attribute(buf, 9, kv, ctx.max);
        }
    }
    for extra in ctx.extras {
        put_extra(buf, extra, ctx);
    }
    put_varint(buf, 10, u64::from(span.dropped_attributes_count));
    for event in span.events.iter() {
        let mut ignored = 0;
        buf.push(0x5A);
        varint(buf, event_len(event, ctx.max, &mut ignored) as u64);
        put_fixed64(buf, 1, nanos(event.timestamp));
        put_string(buf, 2, &event.name);
        for kv in &event.attributes {
            put_attribute(buf, 3, kv, ctx.max);
        }
        put_varint(buf, 4, u64::from(event.dropped_attributes_count));
    }
    put_varint(buf, 12, u64::from(span.events.dropped_count));
    for link in span.links.iter() {
        let context = &link.span_context;
        let trace_state = context.trace_state().header();
        buf.push(0x6A);
        varint(buf, link_len(link, &trace_state) as u64);
        buf.extend_from_slice(&[0x0A, 16]);
        buf.extend_from_slice(&context.trace_id().to_bytes());
        buf.extend_from_slice(&[0x12, 8]);
        buf.extend_from_slice(&context.span_id().to_bytes());
        put_string(buf, 3, &trace_state);
        for kv in &link.attributes {
            put_attribute(buf, 4, kv, usize::MAX);
        }
        put_varint(buf, 5, u64::from(link.dropped_attributes_count));
        // flags: field 6, fixed32
        buf.push(0x35);
        let flags = span_flags(context.is_remote(), context.trace_flags().to_u8());
        buf.extend_from_slice(&flags.to_le_bytes());
    }
    put_varint(buf, 14, u64::from(span.links.dropped_count));
    buf.push(0x7A);
    varint(buf, status_len(&span.status) as u64);
    let (message, code) = status(&span.status);
    put_string(buf, 2, message);
    put_varint(buf, 3, code);
    // flags: field 16, fixed32 (prost writes fields in tag order)
    buf.extend_from_slice(&[0x85, 0x01]);
    let flags = span_flags(span.parent_span_is_remote, context.trace_flags().to_u8());
    buf.extend_from_slice(&flags.to_le_bytes());
}

#[cfg(test)]
mod tests;

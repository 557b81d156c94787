//! A started GenAI span: what the call returned, then cost, attributes and metrics at the end.

use std::borrow::Cow;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use opentelemetry::trace::{Status, TraceContextExt};
use opentelemetry::{Context, KeyValue, StringValue};

use super::attributes::*;
use super::content::ContentCapture;
use super::generation::{string_array, to_i64};
use super::message::{Message, OutputMessage, Part, ToolDefinition};
use super::metrics;
use super::operation::Operation;
use super::pricing;
use crate::cost::{Cost, Pricing, Usage};

/// A started GenAI span. Record what the call returned, then [`end`](GenerationSpan::end) it;
/// dropping it ends it too (a stream dropped half-way still gets its span).
///
/// The `record_*` methods take `&self` and may be called from any thread. What they record
/// is written to the span when it ends, together with the cost.
#[derive(Debug)]
pub struct GenerationSpan {
    inner: Option<Active>,
}

#[derive(Debug)]
pub(super) struct Active {
    pub(super) cx: Context,
    pub(super) started: Instant,
    pub(super) operation: Operation,
    pub(super) provider: Option<Cow<'static, str>>,
    pub(super) model: Option<StringValue>,
    pub(super) prompt_name: Option<StringValue>,
    pub(super) prompt_version: Option<i64>,
    pub(super) pricing: Option<Pricing>,
    pub(super) content: ContentCapture,
    pub(super) state: Mutex<State>,
}

#[derive(Debug, Default)]
pub(super) struct State {
    usage: Option<Usage>,
    response_id: Option<String>,
    response_model: Option<String>,
    finish_reasons: Vec<String>,
    first_chunk: Option<Duration>,
    error: Option<(Cow<'static, str>, String)>,
    attributes: Vec<KeyValue>,
}

impl GenerationSpan {
    pub(super) fn new(active: Active) -> GenerationSpan {
        GenerationSpan {
            inner: Some(active),
        }
    }

    fn state(&self) -> Option<MutexGuard<'_, State>> {
        self.inner
            .as_ref()
            .map(|a| a.state.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// The context holding this span: pass it to child spans or propagate it
    /// (`opentelemetry::context::FutureExt::with_context`).
    pub fn context(&self) -> Context {
        self.inner
            .as_ref()
            .map_or_else(Context::current, |a| a.cx.clone())
    }

    /// Whether message content is recorded for this call; skip building content when not.
    pub fn captures_content(&self) -> bool {
        self.inner.as_ref().is_some_and(|a| a.content.is_enabled())
    }

    /// The provider's id of the response.
    pub fn record_response_id(&self, id: impl Into<String>) {
        if let Some(mut s) = self.state() {
            s.response_id = Some(id.into());
        }
    }

    /// The model that answered. Cost is computed for it (it is often a dated snapshot,
    /// which the pricing table resolves), else for the requested model.
    pub fn record_response_model(&self, model: impl Into<String>) {
        if let Some(mut s) = self.state() {
            s.response_model = Some(model.into());
        }
    }

    /// Adds a finish reason as the provider reported it (one per choice).
    pub fn record_finish_reason(&self, reason: impl Into<String>) {
        if let Some(mut s) = self.state() {
            s.finish_reasons.push(reason.into());
        }
    }

    /// Token usage, in the semantic-convention meaning (build it with
    /// [`Usage::from_openai`], [`Usage::from_anthropic`], …). The last call wins.
    pub fn record_usage(&self, usage: Usage) {
        if let Some(mut s) = self.state() {
            s.usage = Some(usage);
        }
    }

    /// Marks the arrival of the first chunk of a streamed answer; later calls are ignored.
    /// Recorded as `gen_ai.response.time_to_first_chunk` and on the time-to-first-chunk
    /// histogram.
    pub fn record_first_chunk(&self) {
        if let Some(active) = &self.inner {
            let mut s = active.state.lock().unwrap_or_else(PoisonError::into_inner);
            if s.first_chunk.is_none() {
                s.first_chunk = Some(active.started.elapsed());
            }
        }
    }

    /// Marks the call failed: `error.type` (low cardinality: the provider's error code, an
    /// HTTP status, `timeout`, …) and the span status with `message`.
    pub fn record_error(
        &self,
        error_type: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
    ) {
        if let Some(mut s) = self.state() {
            s.error = Some((error_type.into(), message.into()));
        }
    }

    /// `gen_ai.embeddings.dimension.count`.
    pub fn record_embedding_dimensions(&self, dimensions: usize) {
        self.record_attribute(KeyValue::new(
            GEN_AI_EMBEDDINGS_DIMENSION_COUNT,
            to_i64(dimensions as u64),
        ));
    }

    /// Any other attribute, written when the span ends.
    pub fn record_attribute(&self, attribute: KeyValue) {
        if let Some(mut s) = self.state() {
            s.attributes.push(attribute);
        }
    }

    fn record_content<T: serde::Serialize + ?Sized>(&self, key: &'static str, value: &T) {
        let Some(active) = &self.inner else { return };
        if let Some(json) = active.content.capture(value) {
            self.record_attribute(KeyValue::new(key, json));
        }
    }

    /// `gen_ai.input.messages` — only when content capture is on.
    pub fn record_input_messages(&self, messages: &[Message]) {
        self.record_content(GEN_AI_INPUT_MESSAGES, messages);
    }

    /// `gen_ai.system_instructions` (instructions given apart from the history, like
    /// Anthropic's `system`) — only when content capture is on.
    pub fn record_system_instructions(&self, parts: &[Part]) {
        self.record_content(GEN_AI_SYSTEM_INSTRUCTIONS, parts);
    }

    /// `gen_ai.tool.definitions` — only when content capture is on.
    pub fn record_tool_definitions(&self, tools: &[ToolDefinition]) {
        self.record_content(GEN_AI_TOOL_DEFINITIONS, tools);
    }

    /// `gen_ai.output.messages` — only when content capture is on.
    pub fn record_output_messages(&self, messages: &[OutputMessage]) {
        self.record_content(GEN_AI_OUTPUT_MESSAGES, messages);
    }

    /// `gen_ai.tool.call.arguments` (tools) — only when content capture is on.
    pub fn record_tool_call_arguments(&self, arguments: &serde_json::Value) {
        self.record_content(GEN_AI_TOOL_CALL_ARGUMENTS, arguments);
    }

    /// `gen_ai.tool.call.result` (tools) — only when content capture is on.
    pub fn record_tool_call_result(&self, result: &serde_json::Value) {
        self.record_content(GEN_AI_TOOL_CALL_RESULT, result);
    }

    /// Ends the span: writes what was recorded, computes the cost from the usage and the
    /// response (else request) model, attaches `gen_ai.usage.cost` when the model's price is
    /// known (an unknown model gets no cost attribute, never $0), and records the metrics.
    /// Returns the cost.
    pub fn end(mut self) -> Option<Cost> {
        self.inner.take().and_then(Active::finish)
    }
}

impl Drop for GenerationSpan {
    fn drop(&mut self) {
        if let Some(active) = self.inner.take() {
            active.finish();
        }
    }
}

impl Active {
    fn finish(self) -> Option<Cost> {
        let duration = self.started.elapsed();
        let state = std::mem::take(&mut *self.state.lock().unwrap_or_else(PoisonError::into_inner));
        let span = self.cx.span();

        let cost = match (&state.usage, self.operation) {
            (_, Operation::ExecuteTool) | (None, _) => None,
            (Some(usage), _) => state
                .response_model
                .as_deref()
                .or(self.model.as_ref().map(StringValue::as_str))
                .filter(|m| !m.is_empty())
                .and_then(|model| match &self.pricing {
                    Some(p) => p.cost(model, usage),
                    None => pricing::pricing().cost(model, usage),
                }),
        };

        // A fixed array chained with the recorded attributes: no vector to allocate.
        let usage = state.usage.as_ref();
        let attrs = [
            state
                .response_id
                .map(|id| KeyValue::new(GEN_AI_RESPONSE_ID, id)),
            state
                .response_model
                .map(|model| KeyValue::new(GEN_AI_RESPONSE_MODEL, model)),
            (!state.finish_reasons.is_empty()).then(|| {
                KeyValue::new(
                    GEN_AI_RESPONSE_FINISH_REASONS,
                    string_array(state.finish_reasons),
                )
            }),
            usage.map(|u| KeyValue::new(GEN_AI_USAGE_INPUT_TOKENS, to_i64(u.input))),
            usage
                .filter(|_| self.operation.has_output_tokens())
                .map(|u| KeyValue::new(GEN_AI_USAGE_OUTPUT_TOKENS, to_i64(u.output))),
            usage
                .filter(|u| u.cache_read > 0)
                .map(|u| KeyValue::new(GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, to_i64(u.cache_read))),
            usage.filter(|u| u.cache_creation > 0).map(|u| {
                KeyValue::new(
                    GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
                    to_i64(u.cache_creation),
                )
            }),
            usage
                .filter(|u| u.reasoning > 0)
                .map(|u| KeyValue::new(GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, to_i64(u.reasoning))),
            state
                .first_chunk
                .map(|ttfc| KeyValue::new(GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, ttfc.as_secs_f64())),
            cost.as_ref()
                .map(|cost| KeyValue::new(GEN_AI_USAGE_COST, cost.total)),
            state
                .error
                .as_ref()
                .map(|(error_type, _)| KeyValue::new(ERROR_TYPE, error_type.clone())),
        ];
        span.set_attributes(attrs.into_iter().flatten().chain(state.attributes));
        if let Some((_, message)) = state.error.as_ref() {
            span.set_status(Status::error(message.clone()));
        }
        span.end();

        if self.operation != Operation::ExecuteTool {
            let summary = Summary {
                duration,
                usage: state.usage,
                first_chunk: state.first_chunk,
                error_type: state.error.map(|e| e.0),
            };
            self.record_metrics(&summary, cost.as_ref());
        }
        cost
    }

    /// The metrics carry only low-cardinality attributes (operation, provider, requested
    /// model, token type, error type; the prompt on the cost counter): the server and the
    /// exact response model are on the span.
    fn record_metrics(&self, summary: &Summary, cost: Option<&Cost>) {
        let instruments = metrics::instruments();
        // The attribute sets live on the stack (no allocation per call); `Slots` fills a
        // fixed array in order and hands out the filled prefix.
        let operation = KeyValue::new(GEN_AI_OPERATION_NAME, self.operation.as_str());
        let provider = self
            .provider
            .as_ref()
            .map(|p| KeyValue::new(GEN_AI_PROVIDER_NAME, p.clone()));
        let model = self
            .model
            .as_ref()
            .map(|m| KeyValue::new(GEN_AI_REQUEST_MODEL, m.clone()));

        let mut attrs = Slots::new(&operation);
        attrs.push(operation.clone());
        attrs.push_opt(provider.clone());
        attrs.push_opt(model.clone());
        if let Some(usage) = &summary.usage {
            attrs.push(KeyValue::new(GEN_AI_TOKEN_TYPE, "input"));
            instruments
                .token_usage
                .record(usage.input, attrs.as_slice());
            if self.operation.has_output_tokens() {
                attrs.replace_last(KeyValue::new(GEN_AI_TOKEN_TYPE, "output"));
                instruments
                    .token_usage
                    .record(usage.output, attrs.as_slice());
            }
            attrs.pop();
        }
        if let Some(ttfc) = summary.first_chunk {
            instruments
                .time_to_first_chunk
                .record(ttfc.as_secs_f64(), attrs.as_slice());
        }
        if let Some(error_type) = &summary.error_type {
            attrs.push(KeyValue::new(ERROR_TYPE, error_type.clone()));
        }
        instruments
            .duration
            .record(summary.duration.as_secs_f64(), attrs.as_slice());

        if let Some(cost) = cost {
            let mut attrs = Slots::new(&operation);
            attrs.push_opt(provider);
            attrs.push_opt(model);
            attrs.push_opt(
                self.prompt_name
                    .as_ref()
                    .map(|name| KeyValue::new(GEN_AI_PROMPT_NAME, name.clone())),
            );
            attrs.push_opt(
                self.prompt_version
                    .map(|version| KeyValue::new(GEN_AI_PROMPT_VERSION, version)),
            );
            instruments.cost.add(cost.total, attrs.as_slice());
        }
    }
}

struct Summary {
    duration: Duration,
    usage: Option<Usage>,
    first_chunk: Option<Duration>,
    error_type: Option<Cow<'static, str>>,
}

/// A metric attribute set of at most [`Slots::CAPACITY`] entries, on the stack.
struct Slots {
    kvs: [KeyValue; Slots::CAPACITY],
    len: usize,
}

impl Slots {
    const CAPACITY: usize = 5;

    /// `filler` only occupies the unused slots (a cheap clone: a static key and value).
    fn new(filler: &KeyValue) -> Slots {
        Slots {
            kvs: std::array::from_fn(|_| filler.clone()),
            len: 0,
        }
    }

    fn push(&mut self, kv: KeyValue) {
        if let Some(slot) = self.kvs.get_mut(self.len) {
            *slot = kv;
            self.len += 1;
        }
    }

    fn push_opt(&mut self, kv: Option<KeyValue>) {
        if let Some(kv) = kv {
            self.push(kv);
        }
    }

    fn replace_last(&mut self, kv: KeyValue) {
        if let Some(last) = self.len.checked_sub(1) {
            self.kvs[last] = kv;
        }
    }

    fn pop(&mut self) {
        self.len = self.len.saturating_sub(1);
    }

    fn as_slice(&self) -> &[KeyValue] {
        &self.kvs[..self.len]
    }
}

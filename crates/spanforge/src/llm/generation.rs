//! The GenAI span API: one span per model call (or tool execution), usable with any client.

use std::borrow::Cow;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use opentelemetry::global::{self, BoxedTracer};
use opentelemetry::trace::{SpanKind, TraceContextExt, Tracer};
use opentelemetry::{Array, Context, InstrumentationScope, KeyValue, StringValue, Value};

use super::attributes::*;
use super::content::ContentCapture;
use super::operation::Operation;
use super::prompt::PromptRef;
use super::span::{Active, GenerationSpan};
use crate::cost::Pricing;

fn tracer() -> &'static BoxedTracer {
    static TRACER: OnceLock<BoxedTracer> = OnceLock::new();
    TRACER.get_or_init(|| {
        global::tracer_with_scope(
            InstrumentationScope::builder("spanforge.llm")
                .with_version(env!("CARGO_PKG_VERSION"))
                .build(),
        )
    })
}

/// Describes a GenAI call before it starts: operation, provider, model, request parameters,
/// prompt. [`start`](Generation::start) opens the span.
///
/// ```
/// use spanforge::cost::Usage;
/// use spanforge::llm::Generation;
///
/// let call = Generation::chat("openai", "gpt-4o-mini")
///     .prompt("greet", 3)
///     .temperature(0.2)
///     .start();
/// // ... call the model with any client ...
/// call.record_response_model("gpt-4o-mini-2024-07-18");
/// call.record_finish_reason("stop");
/// call.record_usage(Usage { input: 1000, cache_read: 400, output: 200, reasoning: 50, ..Default::default() });
/// let cost = call.end(); // gen_ai.usage.cost is computed and attached here
/// assert!(cost.is_some_and(|c| c.total > 0.0));
/// ```
///
/// The span is named `{operation} {model}` (`execute_tool {tool}` for tools), of kind CLIENT
/// (INTERNAL for tools), and is a child of the current OpenTelemetry context — the current
/// `tracing` span included — unless [`start_with_context`](Generation::start_with_context)
/// names another parent.
#[derive(Debug)]
#[must_use = "a Generation does nothing until `start()`"]
pub struct Generation {
    operation: Operation,
    provider: Option<Cow<'static, str>>,
    model: Option<String>,
    tool_name: Option<String>,
    prompt: Option<PromptRef>,
    server: Option<(String, Option<u16>)>,
    attributes: Vec<KeyValue>,
    pricing: Option<Pricing>,
    content: Option<ContentCapture>,
}

impl Generation {
    /// A call of `operation` to `model` at `provider` (a `gen_ai.provider.name` value such as
    /// `openai`, `anthropic`, `azure.ai.openai`, `aws.bedrock`, `gcp.gemini`, `groq`).
    pub fn new(
        operation: Operation,
        provider: impl Into<Cow<'static, str>>,
        model: impl Into<String>,
    ) -> Generation {
        Generation {
            operation,
            provider: Some(provider.into()),
            model: Some(model.into()),
            tool_name: None,
            prompt: None,
            server: None,
            attributes: Vec::new(),
            pricing: None,
            content: None,
        }
    }

    /// A chat completion.
    pub fn chat(provider: impl Into<Cow<'static, str>>, model: impl Into<String>) -> Generation {
        Generation::new(Operation::Chat, provider, model)
    }

    /// A (legacy) text completion.
    pub fn text_completion(
        provider: impl Into<Cow<'static, str>>,
        model: impl Into<String>,
    ) -> Generation {
        Generation::new(Operation::TextCompletion, provider, model)
    }

    /// An embeddings call.
    pub fn embeddings(
        provider: impl Into<Cow<'static, str>>,
        model: impl Into<String>,
    ) -> Generation {
        Generation::new(Operation::Embeddings, provider, model)
    }

    /// The execution of the tool `name` that a model asked for: an INTERNAL span named
    /// `execute_tool {name}`, with no cost and no metrics.
    pub fn execute_tool(name: impl Into<String>) -> Generation {
        let name = name.into();
        Generation {
            operation: Operation::ExecuteTool,
            provider: None,
            model: None,
            attributes: vec![KeyValue::new(GEN_AI_TOOL_NAME, name.clone())],
            tool_name: Some(name),
            prompt: None,
            server: None,
            pricing: None,
            content: None,
        }
    }

    fn push(mut self, kv: KeyValue) -> Self {
        self.attributes.push(kv);
        self
    }

    /// The provider (tools have none by default).
    pub fn provider(mut self, provider: impl Into<Cow<'static, str>>) -> Self {
        self.provider = Some(provider.into());
        self
    }

    /// The prompt template this call was rendered from, by name and (integer) version.
    pub fn prompt(mut self, name: impl Into<String>, version: i64) -> Self {
        let template_id = self.prompt.take().and_then(|p| p.template_id);
        self.prompt = Some(PromptRef {
            template_id,
            ..PromptRef::new(name, version)
        });
        self
    }

    /// The prompt template, fully described.
    pub fn prompt_ref(mut self, prompt: PromptRef) -> Self {
        self.prompt = Some(prompt);
        self
    }

    /// An identifier of the prompt template (`gen_ai.prompt.template.id`).
    pub fn prompt_template_id(mut self, id: impl Into<String>) -> Self {
        let prompt = self.prompt.get_or_insert_with(|| PromptRef::named(""));
        prompt.template_id = Some(id.into());
        self
    }

    /// The conversation (session, thread) this call belongs to.
    pub fn conversation(self, id: impl Into<String>) -> Self {
        self.push(KeyValue::new(GEN_AI_CONVERSATION_ID, id.into()))
    }

    /// The API's host and port (`server.address`, `server.port`).
    pub fn server(mut self, address: impl Into<String>, port: Option<u16>) -> Self {
        self.server = Some((address.into(), port));
        self
    }

    /// `gen_ai.request.temperature`.
    pub fn temperature(self, value: f64) -> Self {
        self.push(KeyValue::new(GEN_AI_REQUEST_TEMPERATURE, value))
    }

    /// `gen_ai.request.max_tokens`.
    pub fn max_tokens(self, value: u64) -> Self {
        self.push(KeyValue::new(GEN_AI_REQUEST_MAX_TOKENS, to_i64(value)))
    }

    /// `gen_ai.request.top_p`.
    pub fn top_p(self, value: f64) -> Self {
        self.push(KeyValue::new(GEN_AI_REQUEST_TOP_P, value))
    }

    /// `gen_ai.request.top_k` (a double, as v1.41.0 types it).
    pub fn top_k(self, value: u32) -> Self {
        self.push(KeyValue::new(GEN_AI_REQUEST_TOP_K, f64::from(value)))
    }

    /// `gen_ai.request.frequency_penalty`.
    pub fn frequency_penalty(self, value: f64) -> Self {
        self.push(KeyValue::new(GEN_AI_REQUEST_FREQUENCY_PENALTY, value))
    }

    /// `gen_ai.request.presence_penalty`.
    pub fn presence_penalty(self, value: f64) -> Self {
        self.push(KeyValue::new(GEN_AI_REQUEST_PRESENCE_PENALTY, value))
    }

    /// `gen_ai.request.stop_sequences`.
    pub fn stop_sequences<S: Into<String>>(self, sequences: impl IntoIterator<Item = S>) -> Self {
        self.push(KeyValue::new(
            GEN_AI_REQUEST_STOP_SEQUENCES,
            string_array(sequences),
        ))
    }

    /// `gen_ai.request.seed`.
    pub fn seed(self, value: i64) -> Self {
        self.push(KeyValue::new(GEN_AI_REQUEST_SEED, value))
    }

    /// `gen_ai.request.choice.count` (recorded only when not 1).
    pub fn choice_count(self, count: u32) -> Self {
        if count == 1 {
            return self;
        }
        self.push(KeyValue::new(GEN_AI_REQUEST_CHOICE_COUNT, i64::from(count)))
    }

    /// Marks a streamed call (`gen_ai.request.stream = true`); record the first chunk with
    /// [`GenerationSpan::record_first_chunk`].
    pub fn stream(self, streaming: bool) -> Self {
        if !streaming {
            return self;
        }
        self.push(KeyValue::new(GEN_AI_REQUEST_STREAM, true))
    }

    /// `gen_ai.output.type`: `text`, `json`, `image` or `speech`.
    pub fn output_type(self, kind: impl Into<Cow<'static, str>>) -> Self {
        self.push(KeyValue::new(GEN_AI_OUTPUT_TYPE, kind.into()))
    }

    /// `gen_ai.request.encoding_formats` (embeddings).
    pub fn encoding_formats<S: Into<String>>(self, formats: impl IntoIterator<Item = S>) -> Self {
        self.push(KeyValue::new(
            GEN_AI_REQUEST_ENCODING_FORMATS,
            string_array(formats),
        ))
    }

    /// `gen_ai.tool.call.id` (tools).
    pub fn tool_call_id(self, id: impl Into<String>) -> Self {
        self.push(KeyValue::new(GEN_AI_TOOL_CALL_ID, id.into()))
    }

    /// `gen_ai.tool.description` (tools).
    pub fn tool_description(self, description: impl Into<String>) -> Self {
        self.push(KeyValue::new(GEN_AI_TOOL_DESCRIPTION, description.into()))
    }

    /// `gen_ai.tool.type`: `function`, `extension` or `datastore` (tools).
    pub fn tool_type(self, kind: impl Into<Cow<'static, str>>) -> Self {
        self.push(KeyValue::new(GEN_AI_TOOL_TYPE, kind.into()))
    }

    /// Any other attribute, set when the span starts.
    pub fn attribute(self, attribute: KeyValue) -> Self {
        self.push(attribute)
    }

    /// The pricing table for this call (default: [`llm::pricing()`](super::pricing())).
    pub fn with_pricing(mut self, pricing: Pricing) -> Self {
        self.pricing = Some(pricing);
        self
    }

    /// The content-capture policy for this call (default: [`ContentCapture::global`]).
    pub fn with_content_capture(mut self, capture: ContentCapture) -> Self {
        self.content = Some(capture);
        self
    }

    /// Starts the span as a child of the current context.
    pub fn start(self) -> GenerationSpan {
        self.start_with_context(&Context::current())
    }

    /// Starts the span as a child of `parent`.
    pub fn start_with_context(self, parent: &Context) -> GenerationSpan {
        let Generation {
            operation,
            provider,
            model,
            tool_name,
            prompt,
            server,
            attributes,
            pricing,
            content,
        } = self;
        let name = match (operation, &tool_name, &model) {
            (Operation::ExecuteTool, Some(tool), _) => format!("execute_tool {tool}"),
            (_, _, Some(model)) if !model.is_empty() => format!("{operation} {model}"),
            _ => operation.as_str().to_owned(),
        };
        let kind = if operation == Operation::ExecuteTool {
            SpanKind::Internal
        } else {
            SpanKind::Client
        };
        // Shared, not copied: the span and every metric point carry the model name.
        let model = model.map(|m| StringValue::from(Arc::<str>::from(m)));
        let mut attrs = attributes;
        // Room for the start attributes and for those `end()` adds (response, usage, cost):
        // the span keeps this vector, so it is not reallocated when the call ends.
        attrs.reserve(20);
        attrs.push(KeyValue::new(GEN_AI_OPERATION_NAME, operation.as_str()));
        if let Some(provider) = &provider {
            attrs.push(KeyValue::new(GEN_AI_PROVIDER_NAME, provider.clone()));
        }
        if let Some(model) = &model {
            attrs.push(KeyValue::new(GEN_AI_REQUEST_MODEL, model.clone()));
        }
        if let Some((address, port)) = server {
            attrs.push(KeyValue::new(SERVER_ADDRESS, address));
            if let Some(port) = port {
                attrs.push(KeyValue::new(SERVER_PORT, i64::from(port)));
            }
        }
        let (mut prompt_name, mut prompt_version) = (None, None);
        if let Some(prompt) = prompt {
            if !prompt.name.is_empty() {
                let name = StringValue::from(Arc::<str>::from(prompt.name));
                attrs.push(KeyValue::new(GEN_AI_PROMPT_NAME, name.clone()));
                prompt_name = Some(name);
            }
            if let Some(version) = prompt.version {
                attrs.push(KeyValue::new(GEN_AI_PROMPT_VERSION, version));
                prompt_version = Some(version);
            }
            if let Some(id) = prompt.template_id {
                attrs.push(KeyValue::new(GEN_AI_PROMPT_TEMPLATE_ID, id));
            }
        }
        let tracer = tracer();
        let span = tracer
            .span_builder(name)
            .with_kind(kind)
            .with_attributes(attrs)
            .start_with_context(tracer, parent);
        GenerationSpan::new(Active {
            cx: parent.with_span(span),
            started: Instant::now(),
            operation,
            provider,
            model,
            prompt_name,
            prompt_version,
            pricing,
            content: content.unwrap_or_else(ContentCapture::global),
            state: Mutex::default(),
        })
    }
}

/// Token counts as the i64 OTLP carries (saturating; no real count comes near).
pub(super) fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

pub(super) fn string_array<S: Into<String>>(values: impl IntoIterator<Item = S>) -> Value {
    Value::Array(Array::String(
        values
            .into_iter()
            .map(|s| StringValue::from(s.into()))
            .collect(),
    ))
}

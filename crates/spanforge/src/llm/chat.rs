//! Provider-neutral requests and responses of the instrumented clients.

use serde_json::{Map, Value};

use super::generation::Generation;
#[cfg(feature = "anthropic")]
use super::message::Part;
use super::message::{FinishReason, Message, OutputMessage, Role, ToolCall, ToolDefinition};
use super::prompt::PromptRef;
use crate::cost::Usage;

/// A chat request, sent as-is by either client (`openai::Client::chat`,
/// `anthropic::Client::chat`).
///
/// ```
/// use spanforge::llm::ChatRequest;
/// let request = ChatRequest::new("gpt-4o-mini")
///     .system("Answer in one sentence.")
///     .user("What is OpenTelemetry?")
///     .temperature(0.2)
///     .max_tokens(200)
///     .prompt("explain", 3);
/// # let _ = request;
/// ```
///
/// Parameters a provider does not have are not sent to it (Anthropic has no penalties,
/// OpenAI no `top_k`). Anything else goes in [`extra`](ChatRequest::extra), merged into the
/// provider's JSON body as is.
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct ChatRequest {
    pub(crate) model: String,
    pub(crate) messages: Vec<Message>,
    pub(crate) tools: Vec<ToolDefinition>,
    pub(crate) temperature: Option<f64>,
    pub(crate) max_tokens: Option<u64>,
    pub(crate) top_p: Option<f64>,
    pub(crate) top_k: Option<u32>,
    pub(crate) frequency_penalty: Option<f64>,
    pub(crate) presence_penalty: Option<f64>,
    pub(crate) stop: Vec<String>,
    pub(crate) seed: Option<i64>,
    pub(crate) prompt: Option<PromptRef>,
    pub(crate) conversation_id: Option<String>,
    pub(crate) extra: Map<String, Value>,
}

impl ChatRequest {
    /// A request to `model`, with no messages yet.
    pub fn new(model: impl Into<String>) -> ChatRequest {
        ChatRequest {
            model: model.into(),
            messages: Vec::new(),
            tools: Vec::new(),
            temperature: None,
            max_tokens: None,
            top_p: None,
            top_k: None,
            frequency_penalty: None,
            presence_penalty: None,
            stop: Vec::new(),
            seed: None,
            prompt: None,
            conversation_id: None,
            extra: Map::new(),
        }
    }

    /// Appends a system message (Anthropic receives system messages as its `system` field).
    pub fn system(self, text: impl Into<String>) -> Self {
        self.message(Message::system(text))
    }

    /// Appends a user message.
    pub fn user(self, text: impl Into<String>) -> Self {
        self.message(Message::user(text))
    }

    /// Appends an assistant message.
    pub fn assistant(self, text: impl Into<String>) -> Self {
        self.message(Message::assistant(text))
    }

    /// Appends a message.
    pub fn message(mut self, message: Message) -> Self {
        self.messages.push(message);
        self
    }

    /// Appends messages.
    pub fn messages(mut self, messages: impl IntoIterator<Item = Message>) -> Self {
        self.messages.extend(messages);
        self
    }

    /// Offers a tool to the model.
    pub fn tool(mut self, tool: ToolDefinition) -> Self {
        self.tools.push(tool);
        self
    }

    /// Sampling temperature.
    pub fn temperature(mut self, value: f64) -> Self {
        self.temperature = Some(value);
        self
    }

    /// Maximum output tokens (Anthropic requires one; its client sends 4096 when unset).
    pub fn max_tokens(mut self, value: u64) -> Self {
        self.max_tokens = Some(value);
        self
    }

    /// Nucleus sampling.
    pub fn top_p(mut self, value: f64) -> Self {
        self.top_p = Some(value);
        self
    }

    /// Top-k sampling (Anthropic).
    pub fn top_k(mut self, value: u32) -> Self {
        self.top_k = Some(value);
        self
    }

    /// Frequency penalty (OpenAI).
    pub fn frequency_penalty(mut self, value: f64) -> Self {
        self.frequency_penalty = Some(value);
        self
    }

    /// Presence penalty (OpenAI).
    pub fn presence_penalty(mut self, value: f64) -> Self {
        self.presence_penalty = Some(value);
        self
    }

    /// A stop sequence.
    pub fn stop(mut self, sequence: impl Into<String>) -> Self {
        self.stop.push(sequence.into());
        self
    }

    /// Seed (OpenAI).
    pub fn seed(mut self, value: i64) -> Self {
        self.seed = Some(value);
        self
    }

    /// The prompt template this request was rendered from: `gen_ai.prompt.name` and
    /// `gen_ai.prompt.version` on the span, and labels of the cost counter.
    pub fn prompt(mut self, name: impl Into<String>, version: i64) -> Self {
        self.prompt = Some(PromptRef::new(name, version));
        self
    }

    /// The prompt template, fully described.
    pub fn prompt_ref(mut self, prompt: PromptRef) -> Self {
        self.prompt = Some(prompt);
        self
    }

    /// The conversation (session, thread): `gen_ai.conversation.id`.
    pub fn conversation(mut self, id: impl Into<String>) -> Self {
        self.conversation_id = Some(id.into());
        self
    }

    /// A provider-specific body field (`response_format`, `metadata`, `thinking`, …).
    pub fn extra(mut self, key: impl Into<String>, value: Value) -> Self {
        self.extra.insert(key.into(), value);
        self
    }

    /// The model asked for.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// The messages so far.
    pub fn message_list(&self) -> &[Message] {
        &self.messages
    }

    /// The span description of this request (parameters as sent to `provider`).
    pub(crate) fn generation(&self, generation: Generation, sent: SentParams) -> Generation {
        let mut g = generation;
        if let Some(p) = &self.prompt {
            g = g.prompt_ref(p.clone());
        }
        if let Some(id) = &self.conversation_id {
            g = g.conversation(id.clone());
        }
        if let Some(v) = self.temperature {
            g = g.temperature(v);
        }
        if let Some(v) = sent.max_tokens.or(self.max_tokens) {
            g = g.max_tokens(v);
        }
        if let Some(v) = self.top_p {
            g = g.top_p(v);
        }
        if let (Some(v), true) = (self.top_k, sent.top_k) {
            g = g.top_k(v);
        }
        if sent.penalties_and_seed {
            if let Some(v) = self.frequency_penalty {
                g = g.frequency_penalty(v);
            }
            if let Some(v) = self.presence_penalty {
                g = g.presence_penalty(v);
            }
            if let Some(v) = self.seed {
                g = g.seed(v);
            }
        }
        if !self.stop.is_empty() {
            g = g.stop_sequences(self.stop.iter().cloned());
        }
        g
    }
}

/// Which of a request's parameters a provider actually sends.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SentParams {
    pub(crate) max_tokens: Option<u64>,
    pub(crate) top_k: bool,
    pub(crate) penalties_and_seed: bool,
}

/// The answer to a [`ChatRequest`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ChatResponse {
    /// The provider's id of the completion.
    pub id: Option<String>,
    /// The model that answered.
    pub model: Option<String>,
    /// The answer (the first choice): text, tool calls, reasoning.
    pub message: Message,
    /// Why the model stopped, in the provider's words (`stop`, `tool_calls`, `end_turn`, …).
    pub finish_reason: Option<String>,
    /// Token usage, when the provider reported it.
    pub usage: Option<Usage>,
    /// The cost in USD, when usage was reported and the model's price is known.
    pub cost: Option<f64>,
}

impl ChatResponse {
    pub(crate) fn empty() -> ChatResponse {
        ChatResponse {
            id: None,
            model: None,
            message: Message {
                role: Role::Assistant,
                parts: Vec::new(),
                name: None,
            },
            finish_reason: None,
            usage: None,
            cost: None,
        }
    }

    /// The answer's text.
    pub fn text(&self) -> String {
        self.message.text()
    }

    /// The tool calls the model asked for.
    pub fn tool_calls(&self) -> Vec<ToolCall> {
        self.message.tool_call_list()
    }

    /// The answer as the semantic conventions' output message.
    pub(crate) fn output_message(&self) -> OutputMessage {
        OutputMessage {
            message: self.message.clone(),
            finish_reason: self
                .finish_reason
                .as_deref()
                .map_or(FinishReason::Stop, FinishReason::from_provider),
        }
    }
}

/// An embeddings request.
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct EmbeddingsRequest {
    pub(crate) model: String,
    pub(crate) input: Vec<String>,
    pub(crate) dimensions: Option<u32>,
    pub(crate) encoding_format: Option<String>,
    pub(crate) prompt: Option<PromptRef>,
    pub(crate) extra: Map<String, Value>,
}

impl EmbeddingsRequest {
    /// Embeddings of `input` with `model`.
    pub fn new<S: Into<String>>(
        model: impl Into<String>,
        input: impl IntoIterator<Item = S>,
    ) -> EmbeddingsRequest {
        EmbeddingsRequest {
            model: model.into(),
            input: input.into_iter().map(Into::into).collect(),
            dimensions: None,
            encoding_format: None,
            prompt: None,
            extra: Map::new(),
        }
    }

    /// The number of dimensions to return (models that support shortening).
    pub fn dimensions(mut self, dimensions: u32) -> Self {
        self.dimensions = Some(dimensions);
        self
    }

    /// `float` (the default) or `base64`; the client decodes `float` only.
    pub fn encoding_format(mut self, format: impl Into<String>) -> Self {
        self.encoding_format = Some(format.into());
        self
    }

    /// The prompt (or pipeline step) these embeddings belong to, for per-prompt cost.
    pub fn prompt(mut self, name: impl Into<String>, version: i64) -> Self {
        self.prompt = Some(PromptRef::new(name, version));
        self
    }

    /// A provider-specific body field.
    pub fn extra(mut self, key: impl Into<String>, value: Value) -> Self {
        self.extra.insert(key.into(), value);
        self
    }
}

/// The answer to an [`EmbeddingsRequest`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct EmbeddingsResponse {
    /// The model that answered.
    pub model: Option<String>,
    /// One vector per input, in input order.
    pub embeddings: Vec<Vec<f32>>,
    /// Token usage, when the provider reported it.
    pub usage: Option<Usage>,
    /// The cost in USD, when usage was reported and the model's price is known.
    pub cost: Option<f64>,
}

/// Text parts of the system messages of `messages`, for `gen_ai.system_instructions`.
#[cfg(feature = "anthropic")]
pub(crate) fn system_parts(messages: &[Message]) -> Vec<Part> {
    messages
        .iter()
        .filter(|m| m.role == Role::System)
        .flat_map(|m| m.parts.iter().cloned())
        .collect()
}

//! The Chat Completions and Embeddings JSON: request bodies out, responses and stream
//! chunks in.

use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::cost::Usage;
use crate::llm::chat::{ChatRequest, ChatResponse, EmbeddingsRequest, EmbeddingsResponse};
use crate::llm::message::{Message, Part, Role, ToolCall};

/// The `POST /chat/completions` body.
pub(super) fn chat_body(request: &ChatRequest, stream: bool) -> Value {
    let mut body = Map::new();
    body.insert("model".into(), json!(request.model));
    body.insert("messages".into(), Value::Array(messages(&request.messages)));
    if !request.tools.is_empty() {
        let tools = request
            .tools
            .iter()
            .map(|t| {
                let mut function = Map::new();
                function.insert("name".into(), json!(t.name));
                if let Some(d) = &t.description {
                    function.insert("description".into(), json!(d));
                }
                if !t.parameters.is_null() {
                    function.insert("parameters".into(), t.parameters.clone());
                }
                json!({"type": "function", "function": function})
            })
            .collect();
        body.insert("tools".into(), Value::Array(tools));
    }
    let mut put = |key: &str, value: Option<Value>| {
        if let Some(v) = value {
            body.insert(key.into(), v);
        }
    };
    put("temperature", request.temperature.map(|v| json!(v)));
    put("max_tokens", request.max_tokens.map(|v| json!(v)));
    put("top_p", request.top_p.map(|v| json!(v)));
    put(
        "frequency_penalty",
        request.frequency_penalty.map(|v| json!(v)),
    );
    put(
        "presence_penalty",
        request.presence_penalty.map(|v| json!(v)),
    );
    put("seed", request.seed.map(|v| json!(v)));
    if !request.stop.is_empty() {
        body.insert("stop".into(), json!(request.stop));
    }
    if stream {
        body.insert("stream".into(), json!(true));
        // Without it, a stream carries no usage and the call no cost.
        body.insert("stream_options".into(), json!({"include_usage": true}));
    }
    for (k, v) in &request.extra {
        body.insert(k.clone(), v.clone());
    }
    Value::Object(body)
}

fn arguments_text(arguments: &Value) -> String {
    match arguments {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn response_text(response: &Value) -> String {
    match response {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Messages in the Chat Completions shape.
fn messages(messages: &[Message]) -> Vec<Value> {
    let mut out = Vec::with_capacity(messages.len());
    for message in messages {
        match message.role {
            Role::Tool => {
                for part in &message.parts {
                    if let Part::ToolCallResponse { id, response } = part {
                        out.push(json!({
                            "role": "tool",
                            "tool_call_id": id.clone().unwrap_or_default(),
                            "content": response_text(response),
                        }));
                    }
                }
            }
            role => {
                let mut m = Map::new();
                let role = match role {
                    Role::System => "system",
                    Role::User => "user",
                    _ => "assistant",
                };
                m.insert("role".into(), json!(role));
                let text = message.text();
                let calls: Vec<Value> = message
                    .parts
                    .iter()
                    .filter_map(|p| match p {
                        Part::ToolCall {
                            id,
                            name,
                            arguments,
                        } => Some(json!({
                            "id": id.clone().unwrap_or_default(),
                            "type": "function",
                            "function": {"name": name, "arguments": arguments_text(arguments)},
                        })),
                        _ => None,
                    })
                    .collect();
                if calls.is_empty() {
                    m.insert("content".into(), json!(text));
                } else {
                    m.insert(
                        "content".into(),
                        if text.is_empty() {
                            Value::Null
                        } else {
                            json!(text)
                        },
                    );
                    m.insert("tool_calls".into(), Value::Array(calls));
                }
                if let Some(name) = &message.name {
                    m.insert("name".into(), json!(name));
                }
                out.push(Value::Object(m));
            }
        }
    }
    out
}

/// The `POST /embeddings` body.
pub(super) fn embeddings_body(request: &EmbeddingsRequest) -> Value {
    let mut body = Map::new();
    body.insert("model".into(), json!(request.model));
    body.insert("input".into(), json!(request.input));
    if let Some(d) = request.dimensions {
        body.insert("dimensions".into(), json!(d));
    }
    if let Some(f) = &request.encoding_format {
        body.insert("encoding_format".into(), json!(f));
    }
    for (k, v) in &request.extra {
        body.insert(k.clone(), v.clone());
    }
    Value::Object(body)
}

#[derive(Debug, Deserialize)]
pub(super) struct WireUsage {
    #[serde(default)]
    prompt_tokens: Option<u64>,
    #[serde(default)]
    completion_tokens: Option<u64>,
    #[serde(default)]
    prompt_tokens_details: Option<PromptDetails>,
    #[serde(default)]
    completion_tokens_details: Option<CompletionDetails>,
}

#[derive(Debug, Deserialize)]
struct PromptDetails {
    #[serde(default)]
    cached_tokens: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct CompletionDetails {
    #[serde(default)]
    reasoning_tokens: Option<u64>,
}

impl WireUsage {
    pub(super) fn usage(&self) -> Usage {
        Usage::from_openai(
            self.prompt_tokens.unwrap_or(0),
            self.completion_tokens.unwrap_or(0),
            self.prompt_tokens_details
                .as_ref()
                .and_then(|d| d.cached_tokens)
                .unwrap_or(0),
            self.completion_tokens_details
                .as_ref()
                .and_then(|d| d.reasoning_tokens)
                .unwrap_or(0),
        )
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct ChatCompletion {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    choices: Option<Vec<Choice>>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Debug, Deserialize)]
struct Choice {
    #[serde(default)]
    message: Option<WireMessage>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct WireMessage {
    #[serde(default)]
    content: Option<String>,
    /// DeepSeek, vLLM and others put reasoning text here.
    #[serde(default)]
    reasoning_content: Option<String>,
    #[serde(default)]
    refusal: Option<String>,
    #[serde(default)]
    tool_calls: Option<Vec<WireToolCall>>,
}

#[derive(Debug, Deserialize)]
struct WireToolCall {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    function: Option<WireFunction>,
}

#[derive(Debug, Deserialize)]
struct WireFunction {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    arguments: Option<String>,
}

impl ChatCompletion {
    pub(super) fn into_response(self) -> ChatResponse {
        let mut response = ChatResponse::empty();
        response.id = self.id;
        response.model = self.model;
        response.usage = self.usage.map(|u| u.usage());
        let first = self.choices.and_then(|c| c.into_iter().next());
        if let Some(choice) = first {
            response.finish_reason = choice.finish_reason;
            if let Some(message) = choice.message {
                let parts = &mut response.message.parts;
                if let Some(r) = message.reasoning_content.filter(|r| !r.is_empty()) {
                    parts.push(Part::Reasoning { content: r });
                }
                if let Some(text) = message.content.or(message.refusal)
                    && !text.is_empty()
                {
                    parts.push(Part::text(text));
                }
                for call in message.tool_calls.unwrap_or_default() {
                    let function = call.function.unwrap_or(WireFunction {
                        name: None,
                        arguments: None,
                    });
                    parts.push(Part::ToolCall {
                        id: call.id,
                        name: function.name.unwrap_or_default(),
                        arguments: ToolCall::parse_arguments(
                            function.arguments.as_deref().unwrap_or_default(),
                        ),
                    });
                }
            }
        }
        response
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct Embeddings {
    #[serde(default)]
    data: Option<Vec<EmbeddingData>>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Debug, Deserialize)]
struct EmbeddingData {
    #[serde(default)]
    index: Option<usize>,
    embedding: Vec<f32>,
}

impl Embeddings {
    pub(super) fn into_response(self) -> EmbeddingsResponse {
        let mut data = self.data.unwrap_or_default();
        data.sort_by_key(|d| d.index.unwrap_or(usize::MAX));
        EmbeddingsResponse {
            model: self.model,
            embeddings: data.into_iter().map(|d| d.embedding).collect(),
            usage: self.usage.map(|u| u.usage()),
            cost: None,
        }
    }
}

// ----- streaming --------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
pub(super) struct Chunk {
    #[serde(default)]
    pub(super) id: Option<String>,
    #[serde(default)]
    pub(super) model: Option<String>,
    #[serde(default)]
    pub(super) choices: Option<Vec<ChunkChoice>>,
    #[serde(default)]
    pub(super) usage: Option<WireUsage>,
}

#[derive(Debug, Deserialize)]
pub(super) struct ChunkChoice {
    #[serde(default)]
    pub(super) index: Option<usize>,
    #[serde(default)]
    pub(super) delta: Option<Delta>,
    #[serde(default)]
    pub(super) finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Delta {
    #[serde(default)]
    pub(super) content: Option<String>,
    #[serde(default)]
    pub(super) reasoning_content: Option<String>,
    #[serde(default)]
    pub(super) tool_calls: Option<Vec<ToolCallChunk>>,
}

#[derive(Debug, Deserialize)]
pub(super) struct ToolCallChunk {
    #[serde(default)]
    pub(super) index: Option<usize>,
    #[serde(default)]
    pub(super) id: Option<String>,
    #[serde(default)]
    pub(super) function: Option<FunctionChunk>,
}

#[derive(Debug, Deserialize)]
pub(super) struct FunctionChunk {
    #[serde(default)]
    pub(super) name: Option<String>,
    #[serde(default)]
    pub(super) arguments: Option<String>,
}

//! The Messages API JSON: request bodies out, responses in.

use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::cost::Usage;
use crate::llm::chat::{ChatRequest, ChatResponse};
use crate::llm::message::{Message, Part, Role};

/// `max_tokens` when the request has none (the Messages API requires one).
pub(super) const DEFAULT_MAX_TOKENS: u64 = 4096;

/// The `POST /v1/messages` body.
pub(super) fn messages_body(request: &ChatRequest, stream: bool) -> Value {
    let mut body = Map::new();
    body.insert("model".into(), json!(request.model));
    body.insert(
        "max_tokens".into(),
        json!(request.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS)),
    );
    let system: Vec<String> = request
        .messages
        .iter()
        .filter(|m| m.role == Role::System)
        .map(Message::text)
        .collect();
    if !system.is_empty() {
        body.insert("system".into(), json!(system.join("\n\n")));
    }
    body.insert("messages".into(), Value::Array(messages(&request.messages)));
    if !request.tools.is_empty() {
        let tools = request
            .tools
            .iter()
            .map(|t| {
                let mut tool = Map::new();
                tool.insert("name".into(), json!(t.name));
                if let Some(d) = &t.description {
                    tool.insert("description".into(), json!(d));
                }
                let schema = if t.parameters.is_null() {
                    json!({"type": "object", "properties": {}})
                } else {
                    t.parameters.clone()
                };
                tool.insert("input_schema".into(), schema);
                Value::Object(tool)
            })
            .collect();
        body.insert("tools".into(), Value::Array(tools));
    }
    if let Some(v) = request.temperature {
        body.insert("temperature".into(), json!(v));
    }
    if let Some(v) = request.top_p {
        body.insert("top_p".into(), json!(v));
    }
    if let Some(v) = request.top_k {
        body.insert("top_k".into(), json!(v));
    }
    if !request.stop.is_empty() {
        body.insert("stop_sequences".into(), json!(request.stop));
    }
    if stream {
        body.insert("stream".into(), json!(true));
    }
    for (k, v) in &request.extra {
        body.insert(k.clone(), v.clone());
    }
    Value::Object(body)
}

/// Non-system messages as content blocks; consecutive messages of one role are merged
/// (tool results travel as user messages, and roles must alternate).
fn messages(messages: &[Message]) -> Vec<Value> {
    let mut out: Vec<(&'static str, Vec<Value>)> = Vec::new();
    for message in messages {
        let (role, blocks) = match message.role {
            Role::System => continue,
            Role::User => ("user", blocks(&message.parts)),
            Role::Assistant => ("assistant", blocks(&message.parts)),
            Role::Tool => ("user", blocks(&message.parts)),
        };
        if blocks.is_empty() {
            continue;
        }
        match out.last_mut() {
            Some((last, existing)) if *last == role => existing.extend(blocks),
            _ => out.push((role, blocks)),
        }
    }
    out.into_iter()
        .map(|(role, content)| json!({"role": role, "content": content}))
        .collect()
}

fn blocks(parts: &[Part]) -> Vec<Value> {
    parts
        .iter()
        .filter_map(|part| match part {
            Part::Text { content } => Some(json!({"type": "text", "text": content})),
            Part::ToolCall {
                id,
                name,
                arguments,
            } => {
                let input = match arguments {
                    Value::Object(_) => arguments.clone(),
                    Value::String(s) => serde_json::from_str(s).unwrap_or_else(|_| json!({})),
                    _ => json!({}),
                };
                Some(json!({
                    "type": "tool_use",
                    "id": id.clone().unwrap_or_default(),
                    "name": name,
                    "input": input,
                }))
            }
            Part::ToolCallResponse { id, response } => Some(json!({
                "type": "tool_result",
                "tool_use_id": id.clone().unwrap_or_default(),
                "content": match response {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                },
            })),
            // Thinking blocks need the provider's signature to be sent back; not kept.
            Part::Reasoning { .. } => None,
        })
        .collect()
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct WireUsage {
    #[serde(default)]
    pub(super) input_tokens: Option<u64>,
    #[serde(default)]
    pub(super) output_tokens: Option<u64>,
    #[serde(default)]
    pub(super) cache_read_input_tokens: Option<u64>,
    #[serde(default)]
    pub(super) cache_creation_input_tokens: Option<u64>,
}

impl WireUsage {
    pub(super) fn usage(&self) -> Usage {
        Usage::from_anthropic(
            self.input_tokens.unwrap_or(0),
            self.output_tokens.unwrap_or(0),
            self.cache_read_input_tokens.unwrap_or(0),
            self.cache_creation_input_tokens.unwrap_or(0),
        )
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct MessageResponse {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    content: Option<Vec<Block>>,
    #[serde(default)]
    stop_reason: Option<String>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Debug, Deserialize)]
struct Block {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    thinking: Option<String>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    input: Option<Value>,
}

impl MessageResponse {
    pub(super) fn into_response(self) -> ChatResponse {
        let mut response = ChatResponse::empty();
        response.id = self.id;
        response.model = self.model;
        response.finish_reason = self.stop_reason;
        response.usage = self.usage.map(|u| u.usage());
        for block in self.content.unwrap_or_default() {
            match block.kind.as_str() {
                "text" => response
                    .message
                    .parts
                    .push(Part::text(block.text.unwrap_or_default())),
                "thinking" => response.message.parts.push(Part::Reasoning {
                    content: block.thinking.unwrap_or_default(),
                }),
                "tool_use" => response.message.parts.push(Part::ToolCall {
                    id: block.id,
                    name: block.name.unwrap_or_default(),
                    arguments: block.input.unwrap_or_else(|| json!({})),
                }),
                _ => {}
            }
        }
        response
    }
}

//! Messages, tool calls and tool definitions, provider-neutral.
//!
//! They serialize to the semantic conventions' JSON shapes (v1.41.0
//! `gen-ai-input-messages.json` / `gen-ai-output-messages.json`), which is what content
//! capture records:
//!
//! ```text
//! {"role":"user","parts":[{"type":"text","content":"Weather in Paris?"}]}
//! {"role":"assistant","parts":[{"type":"tool_call","id":"call_1","name":"get_weather","arguments":{"city":"Paris"}}],"finish_reason":"tool_call"}
//! {"role":"tool","parts":[{"type":"tool_call_response","id":"call_1","response":"18°C"}]}
//! ```

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Instructions for the model.
    System,
    /// The user.
    User,
    /// The model.
    Assistant,
    /// The result of a tool call.
    Tool,
}

/// One part of a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Part {
    /// Text.
    Text {
        /// The text.
        content: String,
    },
    /// A call of a tool, requested by the model.
    ToolCall {
        /// The provider's id of the call, echoed in the response.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        /// The tool's name.
        name: String,
        /// The arguments (a JSON object; a JSON string when the model produced invalid JSON).
        #[serde(default)]
        arguments: Value,
    },
    /// What a tool returned.
    ToolCallResponse {
        /// The id of the call this answers.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        /// The result.
        response: Value,
    },
    /// The model's reasoning ("thinking") text.
    Reasoning {
        /// The text.
        content: String,
    },
}

impl Part {
    /// A text part.
    pub fn text(content: impl Into<String>) -> Part {
        Part::Text {
            content: content.into(),
        }
    }
}

/// A tool call the model asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    /// The provider's id of the call (send it back with the result).
    pub id: String,
    /// The tool's name.
    pub name: String,
    /// The arguments (a JSON object; a JSON string when the model produced invalid JSON).
    pub arguments: Value,
}

impl ToolCall {
    /// A tool call.
    pub fn new(id: impl Into<String>, name: impl Into<String>, arguments: Value) -> ToolCall {
        ToolCall {
            id: id.into(),
            name: name.into(),
            arguments,
        }
    }

    /// Arguments from the JSON text a provider sent: parsed when valid, kept as a string
    /// otherwise (models do produce invalid JSON).
    #[cfg(any(feature = "openai", feature = "anthropic"))]
    pub(crate) fn parse_arguments(text: &str) -> Value {
        if text.trim().is_empty() {
            return Value::Object(serde_json::Map::new());
        }
        serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
    }
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Who wrote it.
    pub role: Role,
    /// What it holds.
    pub parts: Vec<Part>,
    /// An optional participant name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Message {
    /// A message of `role` with one text part.
    pub fn new(role: Role, text: impl Into<String>) -> Message {
        Message {
            role,
            parts: vec![Part::text(text)],
            name: None,
        }
    }

    /// A system message.
    pub fn system(text: impl Into<String>) -> Message {
        Message::new(Role::System, text)
    }

    /// A user message.
    pub fn user(text: impl Into<String>) -> Message {
        Message::new(Role::User, text)
    }

    /// An assistant message.
    pub fn assistant(text: impl Into<String>) -> Message {
        Message::new(Role::Assistant, text)
    }

    /// The assistant's tool calls, to send back in the history before their results.
    pub fn tool_calls(calls: impl IntoIterator<Item = ToolCall>) -> Message {
        Message {
            role: Role::Assistant,
            parts: calls
                .into_iter()
                .map(|c| Part::ToolCall {
                    id: Some(c.id),
                    name: c.name,
                    arguments: c.arguments,
                })
                .collect(),
            name: None,
        }
    }

    /// The result of the tool call `call_id`.
    pub fn tool_result(call_id: impl Into<String>, response: impl Into<Value>) -> Message {
        Message {
            role: Role::Tool,
            parts: vec![Part::ToolCallResponse {
                id: Some(call_id.into()),
                response: response.into(),
            }],
            name: None,
        }
    }

    /// The text parts, concatenated.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for part in &self.parts {
            if let Part::Text { content } = part {
                out.push_str(content);
            }
        }
        out
    }

    /// The tool calls among the parts.
    pub fn tool_call_list(&self) -> Vec<ToolCall> {
        self.parts
            .iter()
            .filter_map(|p| match p {
                Part::ToolCall {
                    id,
                    name,
                    arguments,
                } => Some(ToolCall {
                    id: id.clone().unwrap_or_default(),
                    name: name.clone(),
                    arguments: arguments.clone(),
                }),
                _ => None,
            })
            .collect()
    }
}

/// Why the model stopped, in the semantic conventions' closed set (used in
/// `gen_ai.output.messages`; `gen_ai.response.finish_reasons` keeps the provider's words).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// A natural end or a stop sequence.
    Stop,
    /// The token limit.
    Length,
    /// A content filter.
    ContentFilter,
    /// The model asked for a tool call.
    ToolCall,
    /// Anything else, including errors.
    Error,
}

impl FinishReason {
    /// Maps a provider's finish or stop reason (OpenAI's `stop`, `length`, `tool_calls`,
    /// `content_filter`; Anthropic's `end_turn`, `stop_sequence`, `max_tokens`, `tool_use`,
    /// `refusal`; Gemini's `STOP`, `MAX_TOKENS`, `SAFETY`).
    pub fn from_provider(reason: &str) -> FinishReason {
        match reason.to_ascii_lowercase().as_str() {
            "stop" | "end_turn" | "stop_sequence" | "pause_turn" => FinishReason::Stop,
            "length" | "max_tokens" | "model_context_window_exceeded" => FinishReason::Length,
            "content_filter" | "refusal" | "safety" | "recitation" | "blocklist" => {
                FinishReason::ContentFilter
            }
            "tool_calls" | "tool_call" | "function_call" | "tool_use" => FinishReason::ToolCall,
            _ => FinishReason::Error,
        }
    }
}

/// A message the model produced, with why it stopped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputMessage {
    /// The message (role `assistant`).
    #[serde(flatten)]
    pub message: Message,
    /// Why the model stopped.
    pub finish_reason: FinishReason,
}

/// A tool the model may call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolDefinition {
    /// Always `function` for the tools spanforge's clients send.
    #[serde(rename = "type")]
    pub kind: String,
    /// The tool's name.
    pub name: String,
    /// What it does (the model reads this).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A JSON schema of its arguments.
    #[serde(default)]
    pub parameters: Value,
}

impl ToolDefinition {
    /// A function tool.
    pub fn function(
        name: impl Into<String>,
        description: impl Into<String>,
        parameters: Value,
    ) -> ToolDefinition {
        ToolDefinition {
            kind: "function".to_owned(),
            name: name.into(),
            description: Some(description.into()),
            parameters,
        }
    }
}

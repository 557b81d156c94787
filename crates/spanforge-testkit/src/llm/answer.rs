//! A scripted reply resolved against the request it answers.

use serde_json::Value;

use super::script::{Content, Reply, ScriptedToolCall, Tokens};

/// Which API a request was sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Api {
    /// `POST …/chat/completions`.
    OpenAiChat,
    /// `POST …/embeddings`.
    OpenAiEmbeddings,
    /// `POST …/v1/messages`.
    AnthropicMessages,
}

/// What to send back, whatever the wire format.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub(crate) id: String,
    pub(crate) model: String,
    pub(crate) text: String,
    pub(crate) tool_calls: Vec<ScriptedToolCall>,
    pub(crate) embedding_dimensions: usize,
    pub(crate) tokens: Tokens,
    pub(crate) finish_reason: String,
}

/// One token per four characters, at least one (for unscripted usage).
fn estimate(text: &str) -> u64 {
    (text.chars().count() as u64).div_ceil(4).max(1)
}

/// The text of a message's `content`: a string, or parts/blocks with `text`.
fn content_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(""),
        _ => String::new(),
    }
}

/// The request's texts: all of them (for the input estimate) and the last user message.
fn request_texts(api: Api, body: &Value) -> (String, String) {
    let mut all = String::new();
    let mut last_user = String::new();
    if api == Api::OpenAiEmbeddings {
        match body.get("input") {
            Some(Value::String(s)) => all.push_str(s),
            Some(Value::Array(items)) => {
                for item in items.iter().filter_map(Value::as_str) {
                    all.push_str(item);
                }
            }
            _ => {}
        }
        return (all, last_user);
    }
    if let Some(system) = body.get("system") {
        all.push_str(&content_text(Some(system)));
    }
    for message in body
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let text = content_text(message.get("content"));
        all.push_str(&text);
        if message.get("role").and_then(Value::as_str) == Some("user") && !text.is_empty() {
            last_user = text;
        }
    }
    (all, last_user)
}

impl Answer {
    pub(crate) fn resolve(reply: &Reply, api: Api, body: &Value, n: u64) -> Answer {
        let requested_model = body
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or("fake-model")
            .to_owned();
        let (all, last_user) = request_texts(api, body);
        let (text, tool_calls, dims) = match &reply.content {
            Content::Echo => (last_user, Vec::new(), 8),
            Content::Text(t) => (t.clone(), Vec::new(), 8),
            Content::ToolCalls(calls) => (String::new(), calls.clone(), 8),
            Content::Embedding(d) => (String::new(), Vec::new(), *d),
        };
        let tokens = reply.tokens.unwrap_or_else(|| Tokens {
            input: estimate(&all),
            output: if api == Api::OpenAiEmbeddings {
                0
            } else {
                estimate(&text)
            },
            ..Tokens::default()
        });
        let finish_reason = reply.finish_reason.clone().unwrap_or_else(|| {
            match (api, tool_calls.is_empty()) {
                (Api::AnthropicMessages, true) => "end_turn",
                (Api::AnthropicMessages, false) => "tool_use",
                (_, true) => "stop",
                (_, false) => "tool_calls",
            }
            .to_owned()
        });
        let id = reply.id.clone().unwrap_or_else(|| match api {
            Api::AnthropicMessages => format!("msg_fake_{n}"),
            _ => format!("chatcmpl-fake-{n}"),
        });
        Answer {
            id,
            model: reply.model.clone().unwrap_or(requested_model),
            text,
            tool_calls,
            embedding_dimensions: dims,
            tokens,
            finish_reason,
        }
    }

    /// The text in stream-sized pieces (a word and its following space each).
    pub(crate) fn text_pieces(&self) -> Vec<&str> {
        self.text.split_inclusive(' ').collect()
    }
}

/// Splits JSON text in two (tool-call arguments stream in pieces).
pub(crate) fn halves(text: &str) -> [&str; 2] {
    let mut mid = text.len() / 2;
    while !text.is_char_boundary(mid) {
        mid -= 1;
    }
    [&text[..mid], &text[mid..]]
}

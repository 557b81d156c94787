//! Chat Completions stream chunks → deltas. The stream ends with `data: [DONE]`; with
//! `stream_options.include_usage` the chunk before it carries the usage and no choices.

use super::wire::Chunk;
use crate::llm::error::Error;
use crate::llm::sse::SseEvent;
use crate::llm::stream::{Accumulator, ChatDelta, Decoder, Step, parse_event};

#[derive(Debug, Default)]
pub(super) struct OpenAiDecoder;

impl Decoder for OpenAiDecoder {
    fn event(
        &mut self,
        event: SseEvent,
        acc: &mut Accumulator,
        delta: &mut ChatDelta,
    ) -> Result<Step, Error> {
        let data = event.data.trim();
        if data == "[DONE]" {
            return Ok(Step::Done);
        }
        let value = parse_event(data)?;
        if let Some(error) = value.get("error") {
            // An error in the middle of a stream (OpenAI sends `{"error": {...}}`).
            let body = serde_json::json!({ "error": error }).to_string();
            let (code, message) = crate::llm::client::provider_error(body.as_bytes());
            return Err(Error::Server {
                status: 500,
                code,
                message,
            });
        }
        let chunk: Chunk = serde_json::from_value(value)
            .map_err(|e| Error::MalformedStream(format!("{e} in a chat completion chunk")))?;
        if acc.id.is_none() {
            acc.id = chunk.id;
        }
        if acc.model.is_none() {
            acc.model = chunk.model;
        }
        if let Some(usage) = chunk.usage {
            acc.usage = Some(usage.usage());
        }
        for choice in chunk.choices.unwrap_or_default() {
            // Only the first choice is assembled (n > 1 is rare with streaming).
            if choice.index.unwrap_or(0) != 0 {
                continue;
            }
            if let Some(reason) = choice.finish_reason {
                acc.finish_reason = Some(reason);
            }
            let Some(d) = choice.delta else { continue };
            if let Some(text) = d.reasoning_content.as_deref().filter(|t| !t.is_empty()) {
                acc.reasoning(delta, text);
            }
            if let Some(text) = d.content.as_deref().filter(|t| !t.is_empty()) {
                acc.text(delta, text);
            }
            for call in d.tool_calls.unwrap_or_default() {
                let (name, arguments) = match call.function {
                    Some(f) => (f.name, f.arguments.unwrap_or_default()),
                    None => (None, String::new()),
                };
                acc.tool(
                    delta,
                    call.index.unwrap_or(0),
                    call.id.as_deref(),
                    name.as_deref(),
                    &arguments,
                );
            }
        }
        Ok(Step::More)
    }
}

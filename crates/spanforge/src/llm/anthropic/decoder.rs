//! Messages stream events → deltas. Input and cache counts arrive in `message_start`, the
//! final output count in `message_delta`, and the stream ends with `message_stop`.

use serde_json::Value;

use super::wire::WireUsage;
use crate::llm::error::Error;
use crate::llm::sse::SseEvent;
use crate::llm::stream::{Accumulator, ChatDelta, Decoder, Step, parse_event};

#[derive(Debug, Default)]
pub(super) struct AnthropicDecoder {
    usage: WireUsage,
}

fn str_of<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

impl AnthropicDecoder {
    fn merge_usage(&mut self, usage: Option<&Value>) -> Result<(), Error> {
        let Some(usage) = usage.filter(|u| !u.is_null()) else {
            return Ok(());
        };
        let usage: WireUsage = serde_json::from_value(usage.clone())
            .map_err(|e| Error::MalformedStream(format!("{e} in a usage object")))?;
        // Later events repeat or update counts; a count present wins.
        if usage.input_tokens.is_some() {
            self.usage.input_tokens = usage.input_tokens;
        }
        if usage.output_tokens.is_some() {
            self.usage.output_tokens = usage.output_tokens;
        }
        if usage.cache_read_input_tokens.is_some() {
            self.usage.cache_read_input_tokens = usage.cache_read_input_tokens;
        }
        if usage.cache_creation_input_tokens.is_some() {
            self.usage.cache_creation_input_tokens = usage.cache_creation_input_tokens;
        }
        Ok(())
    }
}

impl Decoder for AnthropicDecoder {
    fn event(
        &mut self,
        event: SseEvent,
        acc: &mut Accumulator,
        delta: &mut ChatDelta,
    ) -> Result<Step, Error> {
        let value = parse_event(&event.data)?;
        let kind = str_of(&value, "type")
            .or(event.event.as_deref())
            .unwrap_or_default()
            .to_owned();
        match kind.as_str() {
            "message_start" => {
                let message = value.get("message").cloned().unwrap_or(Value::Null);
                acc.id = str_of(&message, "id").map(str::to_owned);
                acc.model = str_of(&message, "model").map(str::to_owned);
                self.merge_usage(message.get("usage"))?;
            }
            "content_block_start" => {
                let index = block_index(&value)?;
                let block = value.get("content_block").cloned().unwrap_or(Value::Null);
                match str_of(&block, "type") {
                    Some("text") => {
                        if let Some(text) = str_of(&block, "text").filter(|t| !t.is_empty()) {
                            acc.text(delta, text);
                        }
                    }
                    Some("tool_use") => acc.tool(
                        delta,
                        index,
                        str_of(&block, "id"),
                        str_of(&block, "name"),
                        "",
                    ),
                    _ => {}
                }
            }
            "content_block_delta" => {
                let index = block_index(&value)?;
                let d = value.get("delta").cloned().unwrap_or(Value::Null);
                match str_of(&d, "type") {
                    Some("text_delta") => acc.text(delta, str_of(&d, "text").unwrap_or_default()),
                    Some("thinking_delta") => {
                        acc.reasoning(delta, str_of(&d, "thinking").unwrap_or_default());
                    }
                    Some("input_json_delta") => acc.tool(
                        delta,
                        index,
                        None,
                        None,
                        str_of(&d, "partial_json").unwrap_or_default(),
                    ),
                    _ => {}
                }
            }
            "message_delta" => {
                if let Some(reason) = value.get("delta").and_then(|d| str_of(d, "stop_reason")) {
                    acc.finish_reason = Some(reason.to_owned());
                }
                self.merge_usage(value.get("usage"))?;
            }
            "message_stop" => {
                acc.usage = Some(self.usage.usage());
                return Ok(Step::Done);
            }
            "error" => {
                let error = value.get("error").cloned().unwrap_or(Value::Null);
                let code = str_of(&error, "type").map(str::to_owned);
                let message = str_of(&error, "message").unwrap_or_default().to_owned();
                return Err(match code.as_deref() {
                    Some("rate_limit_error") => Error::RateLimited {
                        retry_after: None,
                        code,
                        message,
                    },
                    Some("overloaded_error") => Error::Server {
                        status: 529,
                        code,
                        message,
                    },
                    _ => Error::Server {
                        status: 500,
                        code,
                        message,
                    },
                });
            }
            _ => {} // ping, content_block_stop, and event types added later
        }
        Ok(Step::More)
    }
}

fn block_index(value: &Value) -> Result<usize, Error> {
    value
        .get("index")
        .and_then(Value::as_u64)
        .and_then(|i| usize::try_from(i).ok())
        .ok_or_else(|| Error::MalformedStream("a content block event without an index".into()))
}

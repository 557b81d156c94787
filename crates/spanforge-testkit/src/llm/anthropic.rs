//! Anthropic's wire format: messages (JSON and named SSE events) and error bodies.

use serde_json::{Value, json};

use super::answer::{Answer, halves};

/// Anthropic's counting: `input_tokens` exclude cache reads and writes.
fn usage(answer: &Answer, output: u64) -> Value {
    let t = answer.tokens;
    json!({
        "input_tokens": t.input.saturating_sub(t.cache_read).saturating_sub(t.cache_creation),
        "cache_creation_input_tokens": t.cache_creation,
        "cache_read_input_tokens": t.cache_read,
        "output_tokens": output,
    })
}

fn content(answer: &Answer) -> Vec<Value> {
    let mut blocks = Vec::new();
    if !answer.text.is_empty() || answer.tool_calls.is_empty() {
        blocks.push(json!({"type": "text", "text": answer.text}));
    }
    for call in &answer.tool_calls {
        blocks.push(
            json!({"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments}),
        );
    }
    blocks
}

pub(crate) fn message_json(answer: &Answer) -> Value {
    json!({
        "id": answer.id,
        "type": "message",
        "role": "assistant",
        "model": answer.model,
        "content": content(answer),
        "stop_reason": answer.finish_reason,
        "stop_sequence": null,
        "usage": usage(answer, answer.tokens.output),
    })
}

fn event(name: &str, data: Value) -> String {
    format!("event: {name}\ndata: {data}\n\n")
}

/// The SSE events of a streamed message, `message_stop` last.
pub(crate) fn message_events(answer: &Answer) -> Vec<String> {
    let mut events = vec![event(
        "message_start",
        json!({"type": "message_start", "message": {
            "id": answer.id, "type": "message", "role": "assistant", "model": answer.model,
            "content": [], "stop_reason": null, "stop_sequence": null,
            "usage": usage(answer, 1),
        }}),
    )];
    let mut index = 0;
    if !answer.text.is_empty() || answer.tool_calls.is_empty() {
        events.push(event(
            "content_block_start",
            json!({"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}}),
        ));
        events.push(event("ping", json!({"type": "ping"})));
        for piece in answer.text_pieces() {
            events.push(event(
                "content_block_delta",
                json!({"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": piece}}),
            ));
        }
        events.push(event(
            "content_block_stop",
            json!({"type": "content_block_stop", "index": index}),
        ));
        index += 1;
    }
    for call in &answer.tool_calls {
        events.push(event(
            "content_block_start",
            json!({"type": "content_block_start", "index": index, "content_block": {
                "type": "tool_use", "id": call.id, "name": call.name, "input": {},
            }}),
        ));
        let arguments = call.arguments.to_string();
        for half in halves(&arguments) {
            events.push(event(
                "content_block_delta",
                json!({"type": "content_block_delta", "index": index, "delta": {"type": "input_json_delta", "partial_json": half}}),
            ));
        }
        events.push(event(
            "content_block_stop",
            json!({"type": "content_block_stop", "index": index}),
        ));
        index += 1;
    }
    events.push(event(
        "message_delta",
        json!({"type": "message_delta",
            "delta": {"stop_reason": answer.finish_reason, "stop_sequence": null},
            "usage": {"output_tokens": answer.tokens.output}}),
    ));
    events.push(event("message_stop", json!({"type": "message_stop"})));
    events
}

pub(crate) fn error_json(status: u16) -> Value {
    let (kind, message) = match status {
        429 => (
            "rate_limit_error",
            "Number of request tokens has exceeded your per-minute rate limit.",
        ),
        401 => ("authentication_error", "invalid x-api-key"),
        529 => ("overloaded_error", "Overloaded"),
        500.. => ("api_error", "Internal server error"),
        _ => ("invalid_request_error", "The request was rejected."),
    };
    json!({"type": "error", "error": {"type": kind, "message": message}})
}

//! OpenAI's wire format: chat completions (JSON and `chat.completion.chunk` SSE),
//! embeddings, and error bodies.

use serde_json::{Value, json};

use super::answer::{Answer, halves};

const CREATED: u64 = 1_700_000_000;

fn usage(answer: &Answer) -> Value {
    let t = answer.tokens;
    json!({
        "prompt_tokens": t.input,
        "completion_tokens": t.output,
        "total_tokens": t.input + t.output,
        "prompt_tokens_details": {"cached_tokens": t.cache_read, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": t.reasoning, "audio_tokens": 0},
    })
}

pub(crate) fn chat_json(answer: &Answer) -> Value {
    let mut message = json!({
        "role": "assistant",
        "content": if answer.tool_calls.is_empty() { json!(answer.text) } else { Value::Null },
        "refusal": null,
    });
    if !answer.tool_calls.is_empty() {
        message["tool_calls"] = answer
            .tool_calls
            .iter()
            .map(|c| {
                json!({
                    "id": c.id,
                    "type": "function",
                    "function": {"name": c.name, "arguments": c.arguments.to_string()},
                })
            })
            .collect();
    }
    json!({
        "id": answer.id,
        "object": "chat.completion",
        "created": CREATED,
        "model": answer.model,
        "choices": [{
            "index": 0,
            "message": message,
            "logprobs": null,
            "finish_reason": answer.finish_reason,
        }],
        "usage": usage(answer),
        "system_fingerprint": "fp_fake",
    })
}

fn chunk(answer: &Answer, delta: Value, finish_reason: Option<&str>) -> String {
    let body = json!({
        "id": answer.id,
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": answer.model,
        "system_fingerprint": "fp_fake",
        "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish_reason}],
        "usage": null,
    });
    format!("data: {body}\n\n")
}

/// The SSE events of a streamed chat completion, `[DONE]` last.
pub(crate) fn chat_events(answer: &Answer, include_usage: bool) -> Vec<String> {
    let mut events = vec![chunk(
        answer,
        json!({"role": "assistant", "content": "", "refusal": null}),
        None,
    )];
    for piece in answer.text_pieces() {
        events.push(chunk(answer, json!({"content": piece}), None));
    }
    for (index, call) in answer.tool_calls.iter().enumerate() {
        events.push(chunk(
            answer,
            json!({"tool_calls": [{
                "index": index, "id": call.id, "type": "function",
                "function": {"name": call.name, "arguments": ""},
            }]}),
            None,
        ));
        let arguments = call.arguments.to_string();
        for half in halves(&arguments) {
            events.push(chunk(
                answer,
                json!({"tool_calls": [{"index": index, "function": {"arguments": half}}]}),
                None,
            ));
        }
    }
    events.push(chunk(answer, json!({}), Some(&answer.finish_reason)));
    if include_usage {
        let body = json!({
            "id": answer.id,
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": answer.model,
            "system_fingerprint": "fp_fake",
            "choices": [],
            "usage": usage(answer),
        });
        events.push(format!("data: {body}\n\n"));
    }
    events.push("data: [DONE]\n\n".to_owned());
    events
}

pub(crate) fn embeddings_json(answer: &Answer, inputs: usize) -> Value {
    let dims = answer.embedding_dimensions;
    let data: Vec<Value> = (0..inputs)
        .map(|i| {
            let vector: Vec<f64> = (0..dims)
                .map(|j| ((i * dims + j) % 97) as f64 / 97.0)
                .collect();
            json!({"object": "embedding", "index": i, "embedding": vector})
        })
        .collect();
    json!({
        "object": "list",
        "data": data,
        "model": answer.model,
        "usage": {"prompt_tokens": answer.tokens.input, "total_tokens": answer.tokens.input},
    })
}

pub(crate) fn error_json(status: u16) -> Value {
    let (message, kind, code) = match status {
        429 => (
            "Rate limit reached for gpt-4o-mini on requests per min (RPM): Limit 3, Used 3, Requested 1.",
            "requests",
            json!("rate_limit_exceeded"),
        ),
        401 => (
            "Incorrect API key provided.",
            "invalid_request_error",
            json!("invalid_api_key"),
        ),
        500.. => (
            "The server had an error while processing your request. Sorry about that!",
            "server_error",
            Value::Null,
        ),
        _ => (
            "The request was rejected.",
            "invalid_request_error",
            Value::Null,
        ),
    };
    json!({"error": {"message": message, "type": kind, "param": null, "code": code}})
}

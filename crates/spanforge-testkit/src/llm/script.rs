//! Scripted answers and faults.

use std::time::Duration;

use serde_json::Value;

/// Token counts of a scripted answer, in the OpenTelemetry meaning: `input` includes cache
/// reads and writes, `output` includes reasoning. The fake renders them in each provider's
/// own way (Anthropic's `input_tokens` exclude the cache; OpenAI's `prompt_tokens` include it),
/// so a client that normalises correctly reads back exactly these numbers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tokens {
    /// All input tokens.
    pub input: u64,
    /// All output tokens.
    pub output: u64,
    /// Input tokens read from the prompt cache.
    pub cache_read: u64,
    /// Input tokens written to the prompt cache.
    pub cache_creation: u64,
    /// Reasoning output tokens.
    pub reasoning: u64,
}

/// A tool call in a scripted answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptedToolCall {
    /// The call id.
    pub id: String,
    /// The tool's name.
    pub name: String,
    /// The arguments.
    pub arguments: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Content {
    /// The last user message, echoed.
    Echo,
    Text(String),
    ToolCalls(Vec<ScriptedToolCall>),
    /// Embeddings of this many dimensions, one per input.
    Embedding(usize),
}

/// A failure the fake LLM answers with instead of (or in the middle of) a normal answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// HTTP 429 with the provider's rate-limit error body and, when set, `Retry-After`
    /// (whole seconds, rounded up).
    RateLimited {
        /// The wait hint.
        retry_after: Option<Duration>,
    },
    /// An HTTP error status (500, 503, Anthropic's 529 …) with the provider's error body.
    Status {
        /// The status.
        status: u16,
    },
    /// A streamed answer whose connection is cut after this many events (the client sees
    /// the connection close mid-body). A plain answer is cut before its body.
    CutStream {
        /// Events sent before the cut.
        after_events: usize,
    },
    /// A streamed answer that ends cleanly after this many events, without its final event
    /// (`[DONE]`, `message_stop`).
    EndStreamEarly {
        /// Events sent before the end.
        after_events: usize,
    },
    /// A streamed answer whose event after this many is not JSON.
    MalformedEvent {
        /// Good events sent before the bad one.
        after_events: usize,
    },
}

/// One scripted answer of the fake LLM.
///
/// ```
/// use std::time::Duration;
/// use spanforge_testkit::llm::{Fault, Reply};
///
/// let hello = Reply::text("Hello, Ada!").with_usage(12, 4).with_model("gpt-4o-mini-2024-07-18");
/// let slow = Reply::text("…").with_first_chunk_delay(Duration::from_millis(200));
/// let throttled = Reply::fault(Fault::RateLimited { retry_after: Some(Duration::from_secs(2)) });
/// # let _ = (hello, slow, throttled);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub(crate) content: Content,
    pub(crate) tokens: Option<Tokens>,
    pub(crate) id: Option<String>,
    pub(crate) model: Option<String>,
    pub(crate) finish_reason: Option<String>,
    pub(crate) first_chunk_delay: Duration,
    pub(crate) chunk_delay: Duration,
    pub(crate) fault: Option<Fault>,
}

impl Default for Reply {
    /// [`Reply::echo`].
    fn default() -> Self {
        Reply::echo()
    }
}

impl Reply {
    fn with_content(content: Content) -> Reply {
        Reply {
            content,
            tokens: None,
            id: None,
            model: None,
            finish_reason: None,
            first_chunk_delay: Duration::ZERO,
            chunk_delay: Duration::ZERO,
            fault: None,
        }
    }

    /// Answers with the last user message's text (the default for unscripted requests).
    /// Usage is estimated at one token per four characters, at least one.
    pub fn echo() -> Reply {
        Reply::with_content(Content::Echo)
    }

    /// Answers with `text`.
    pub fn text(text: impl Into<String>) -> Reply {
        Reply::with_content(Content::Text(text.into()))
    }

    /// Answers with one tool call (id `call_1` unless [`with_tool_call_id`](Reply::with_tool_call_id)).
    pub fn tool_call(name: impl Into<String>, arguments: Value) -> Reply {
        Reply::with_content(Content::ToolCalls(vec![ScriptedToolCall {
            id: "call_1".to_owned(),
            name: name.into(),
            arguments,
        }]))
    }

    /// Answers with several tool calls.
    pub fn tool_calls(calls: impl IntoIterator<Item = ScriptedToolCall>) -> Reply {
        Reply::with_content(Content::ToolCalls(calls.into_iter().collect()))
    }

    /// Answers an embeddings request with vectors of `dimensions` (deterministic values).
    pub fn embedding(dimensions: usize) -> Reply {
        Reply::with_content(Content::Embedding(dimensions))
    }

    /// Fails with `fault` (a streamed fault still sends the events before it).
    pub fn fault(fault: Fault) -> Reply {
        Reply {
            fault: Some(fault),
            ..Reply::echo()
        }
    }

    /// Adds a fault to this answer (for stream faults: the events before it are this answer's).
    pub fn with_fault(mut self, fault: Fault) -> Reply {
        self.fault = Some(fault);
        self
    }

    /// Reported usage: `input` and `output` tokens.
    pub fn with_usage(mut self, input: u64, output: u64) -> Reply {
        let tokens = self.tokens.get_or_insert_with(Tokens::default);
        tokens.input = input;
        tokens.output = output;
        self
    }

    /// Reported usage, in full.
    pub fn with_tokens(mut self, tokens: Tokens) -> Reply {
        self.tokens = Some(tokens);
        self
    }

    /// The response id (default `chatcmpl-fake-<n>` / `msg_fake_<n>`).
    pub fn with_id(mut self, id: impl Into<String>) -> Reply {
        self.id = Some(id.into());
        self
    }

    /// The response model (default: the requested model).
    pub fn with_model(mut self, model: impl Into<String>) -> Reply {
        self.model = Some(model.into());
        self
    }

    /// The finish reason in the provider's words (default `stop` / `end_turn`, or
    /// `tool_calls` / `tool_use` for tool calls).
    pub fn with_finish_reason(mut self, reason: impl Into<String>) -> Reply {
        self.finish_reason = Some(reason.into());
        self
    }

    /// The id of the (first) tool call.
    pub fn with_tool_call_id(mut self, id: impl Into<String>) -> Reply {
        if let Content::ToolCalls(calls) = &mut self.content
            && let Some(first) = calls.first_mut()
        {
            first.id = id.into();
        }
        self
    }

    /// Waits this long before the first event of a stream (headers are sent at once), or
    /// before the whole answer of a plain request.
    pub fn with_first_chunk_delay(mut self, delay: Duration) -> Reply {
        self.first_chunk_delay = delay;
        self
    }

    /// Waits this long between the events of a stream.
    pub fn with_chunk_delay(mut self, delay: Duration) -> Reply {
        self.chunk_delay = delay;
        self
    }
}

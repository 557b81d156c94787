//! Streamed chat answers: SSE in, deltas out, the span ended with usage and cost when the
//! stream completes (or fails, or is dropped).

use std::collections::VecDeque;
use std::fmt;
use std::future::Future as _;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt as _};
use serde_json::Value;

use super::chat::ChatResponse;
use super::client::{Transport, fail, finish_chat};
use super::error::Error;
use super::message::{Part, ToolCall};
use super::span::GenerationSpan;
use super::sse::{SseDecoder, SseEvent};
use crate::cost::Usage;

/// A piece of a streamed answer.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct ChatDelta {
    /// Answer text.
    pub text: String,
    /// Reasoning ("thinking") text.
    pub reasoning: String,
    /// Pieces of tool calls.
    pub tool_calls: Vec<ToolCallDelta>,
}

impl ChatDelta {
    fn is_empty(&self) -> bool {
        self.text.is_empty() && self.reasoning.is_empty() && self.tool_calls.is_empty()
    }
}

/// A piece of a streamed tool call: the first piece of a call has its id and name, later
/// ones more of its arguments (JSON text).
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct ToolCallDelta {
    /// Which call of the answer this belongs to.
    pub index: usize,
    /// The call's id (first piece).
    pub id: Option<String>,
    /// The tool's name (first piece).
    pub name: Option<String>,
    /// More of the arguments' JSON text.
    pub arguments: String,
}

/// Builds the final response from a stream's events.
#[derive(Debug, Default)]
pub(crate) struct Accumulator {
    pub(crate) id: Option<String>,
    pub(crate) model: Option<String>,
    pub(crate) finish_reason: Option<String>,
    pub(crate) usage: Option<Usage>,
    text: String,
    reasoning: String,
    tools: Vec<(usize, String, String, String)>,
}

impl Accumulator {
    pub(crate) fn text(&mut self, delta: &mut ChatDelta, text: &str) {
        self.text.push_str(text);
        delta.text.push_str(text);
    }

    pub(crate) fn reasoning(&mut self, delta: &mut ChatDelta, text: &str) {
        self.reasoning.push_str(text);
        delta.reasoning.push_str(text);
    }

    /// A piece of tool call `index`; `id` and `name` when the piece has them.
    pub(crate) fn tool(
        &mut self,
        delta: &mut ChatDelta,
        index: usize,
        id: Option<&str>,
        name: Option<&str>,
        arguments: &str,
    ) {
        let slot = match self.tools.iter().position(|t| t.0 == index) {
            Some(i) => i,
            None => {
                self.tools
                    .push((index, String::new(), String::new(), String::new()));
                self.tools.len() - 1
            }
        };
        let entry = &mut self.tools[slot];
        if let Some(id) = id {
            entry.1.push_str(id);
        }
        if let Some(name) = name {
            entry.2.push_str(name);
        }
        entry.3.push_str(arguments);
        delta.tool_calls.push(ToolCallDelta {
            index,
            id: id.map(str::to_owned),
            name: name.map(str::to_owned),
            arguments: arguments.to_owned(),
        });
    }

    fn into_response(self) -> ChatResponse {
        let mut response = ChatResponse::empty();
        response.id = self.id;
        response.model = self.model;
        response.finish_reason = self.finish_reason;
        response.usage = self.usage;
        let parts = &mut response.message.parts;
        if !self.reasoning.is_empty() {
            parts.push(Part::Reasoning {
                content: self.reasoning,
            });
        }
        if !self.text.is_empty() {
            parts.push(Part::text(self.text));
        }
        for (_, id, name, arguments) in self.tools {
            parts.push(Part::ToolCall {
                id: Some(id),
                name,
                arguments: ToolCall::parse_arguments(&arguments),
            });
        }
        response
    }
}

/// What a provider's event decoder tells the stream.
pub(crate) enum Step {
    /// Keep reading.
    More,
    /// The final event arrived.
    Done,
}

/// Turns one provider's SSE events into deltas.
pub(crate) trait Decoder: Send + 'static {
    /// Handles `event`, adding to `acc` and `delta`.
    fn event(
        &mut self,
        event: SseEvent,
        acc: &mut Accumulator,
        delta: &mut ChatDelta,
    ) -> Result<Step, Error>;
}

/// Parses an event's JSON data, or says which event was malformed.
pub(crate) fn parse_event(data: &str) -> Result<Value, Error> {
    serde_json::from_str(data).map_err(|e| {
        Error::MalformedStream(format!(
            "{e} in event data {}",
            super::client::snippet(data.as_bytes())
        ))
    })
}

type Body = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

/// A streamed chat answer: a [`Stream`] of [`ChatDelta`]s.
///
/// The span ends when the stream completes, fails or is dropped; when it completes,
/// [`response`](ChatStream::response) holds the whole answer with usage and cost.
/// A stream that stops before its final event yields [`Error::IncompleteStream`]; a gap
/// between chunks longer than the client's timeout yields [`Error::Timeout`].
///
/// ```no_run
/// # #[cfg(feature = "openai")]
/// # async fn run(llm: spanforge::llm::openai::Client) -> Result<(), spanforge::llm::Error> {
/// use futures_util::StreamExt;
/// use spanforge::llm::ChatRequest;
///
/// let mut stream = llm.chat_stream(ChatRequest::new("gpt-4o-mini").user("hi")).await?;
/// while let Some(delta) = stream.next().await {
///     print!("{}", delta?.text);
/// }
/// let answer = stream.response().expect("complete");
/// println!("\n{:?} tokens, {:?} USD", answer.usage, answer.cost);
/// # Ok(()) }
/// ```
pub struct ChatStream {
    body: Body,
    sse: SseDecoder,
    decoder: Box<dyn Decoder>,
    transport: Arc<Transport>,
    acc: Option<Accumulator>,
    events: Vec<SseEvent>,
    pending: VecDeque<ChatDelta>,
    span: Option<GenerationSpan>,
    idle: Pin<Box<tokio::time::Sleep>>,
    response: Option<ChatResponse>,
    finished: bool,
}

impl fmt::Debug for ChatStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChatStream")
            .field("finished", &self.finished)
            .field("pending", &self.pending.len())
            .field("response", &self.response)
            .finish_non_exhaustive()
    }
}

impl ChatStream {
    pub(crate) fn new(
        response: reqwest::Response,
        decoder: Box<dyn Decoder>,
        transport: Arc<Transport>,
        span: GenerationSpan,
    ) -> ChatStream {
        let body: Body = Box::pin(futures_util::stream::unfold(
            Some(response),
            |state| async move {
                let mut response = state?;
                match response.chunk().await {
                    Ok(Some(bytes)) => Some((Ok(bytes), Some(response))),
                    Ok(None) => None,
                    Err(e) => Some((Err(e), None)),
                }
            },
        ));
        let timeout = transport.timeout;
        ChatStream {
            body,
            sse: SseDecoder::default(),
            decoder,
            transport,
            acc: Some(Accumulator::default()),
            events: Vec::new(),
            pending: VecDeque::new(),
            span: Some(span),
            idle: Box::pin(tokio::time::sleep(timeout)),
            response: None,
            finished: false,
        }
    }

    /// The whole answer, with usage and cost, once the stream has completed.
    pub fn response(&self) -> Option<&ChatResponse> {
        self.response.as_ref()
    }

    /// Reads the rest of the stream and returns the whole answer.
    ///
    /// # Errors
    ///
    /// The first error the stream yields.
    pub async fn into_response(mut self) -> Result<ChatResponse, Error> {
        while let Some(delta) = self.next().await {
            delta?;
        }
        self.response
            .take()
            .ok_or_else(|| Error::IncompleteStream("the stream was already consumed".into()))
    }

    fn fail(&mut self, error: Error) -> Poll<Option<Result<ChatDelta, Error>>> {
        self.finished = true;
        self.pending.clear();
        let error = match self.span.take() {
            Some(span) => fail(span, error),
            None => error,
        };
        Poll::Ready(Some(Err(error)))
    }

    fn complete(&mut self) {
        self.finished = true;
        let Some(acc) = self.acc.take() else { return };
        let mut response = acc.into_response();
        if let Some(span) = self.span.take() {
            finish_chat(span, &mut response);
        }
        self.response = Some(response);
    }

    /// Decodes the buffered events; `Err` ends the stream.
    fn decode_events(&mut self) -> Result<(), Error> {
        let events = std::mem::take(&mut self.events);
        let Some(acc) = self.acc.as_mut() else {
            return Ok(());
        };
        for event in events {
            if let Some(span) = &self.span {
                span.record_first_chunk();
            }
            let mut delta = ChatDelta::default();
            let step = self.decoder.event(event, acc, &mut delta)?;
            if !delta.is_empty() {
                self.pending.push_back(delta);
            }
            if let Step::Done = step {
                self.complete();
                break;
            }
        }
        Ok(())
    }
}

impl Stream for ChatStream {
    type Item = Result<ChatDelta, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(delta) = this.pending.pop_front() {
                return Poll::Ready(Some(Ok(delta)));
            }
            if this.finished {
                return Poll::Ready(None);
            }
            match this.body.as_mut().poll_next(cx) {
                Poll::Ready(Some(Ok(bytes))) => {
                    let timeout = this.transport.timeout;
                    this.idle
                        .as_mut()
                        .reset(tokio::time::Instant::now() + timeout);
                    if let Err(reason) = this.sse.feed(&bytes, &mut this.events) {
                        return this.fail(Error::MalformedStream(reason));
                    }
                    if let Err(error) = this.decode_events() {
                        return this.fail(error);
                    }
                }
                Poll::Ready(Some(Err(error))) => {
                    let error = match this.transport.reqwest_error(&error) {
                        Error::Transport { message, .. } => Error::IncompleteStream(format!(
                            "the connection was lost before the final event: {message}"
                        )),
                        other => other,
                    };
                    return this.fail(error);
                }
                Poll::Ready(None) => {
                    let reason = if this.sse.has_partial() {
                        "the stream ended in the middle of an event"
                    } else {
                        "the stream ended before its final event"
                    };
                    return this.fail(Error::IncompleteStream(reason.to_owned()));
                }
                Poll::Pending => {
                    if this.idle.as_mut().poll(cx).is_ready() {
                        let timeout: Duration = this.transport.timeout;
                        return this.fail(Error::Timeout(timeout));
                    }
                    return Poll::Pending;
                }
            }
        }
    }
}

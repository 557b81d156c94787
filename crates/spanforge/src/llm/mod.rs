//! LLM instrumentation: GenAI spans and metrics with token counts and dollar cost, for any
//! client, plus instrumented OpenAI-compatible and Anthropic clients.
//!
//! With an instrumented client every call is a span, without extra code:
//!
//! ```no_run
//! # #[cfg(feature = "openai")]
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use spanforge::llm::{ChatRequest, openai};
//!
//! let llm = openai::Client::from_env()?; // OPENAI_API_KEY, OPENAI_BASE_URL
//! let reply = llm
//!     .chat(ChatRequest::new("gpt-4o-mini").user("hi").prompt("greet", 3))
//!     .await?;
//! println!("{} ({:?} USD)", reply.text(), reply.cost);
//! # Ok(()) }
//! ```
//!
//! Any other client is instrumented by hand with the span API:
//!
//! ```
//! use spanforge::cost::Usage;
//! use spanforge::llm::Generation;
//!
//! let call = Generation::chat("openai", "gpt-4o-mini").prompt("greet", 3).start();
//! // ... send the request with your client ...
//! call.record_usage(Usage { input: 1000, cache_read: 400, output: 200, reasoning: 50, ..Default::default() });
//! call.end(); // cost computed and attached here
//! ```
//!
//! Each call produces a span named `chat gpt-4o-mini` (kind CLIENT) with
//!
//! ```text
//! gen_ai.operation.name=chat gen_ai.provider.name=openai gen_ai.request.model=gpt-4o-mini
//! gen_ai.response.model=gpt-4o-mini-2024-07-18 gen_ai.response.id=chatcmpl-… gen_ai.response.finish_reasons=["stop"]
//! gen_ai.usage.input_tokens=1000 gen_ai.usage.cache_read.input_tokens=400 gen_ai.usage.output_tokens=200
//! gen_ai.usage.reasoning.output_tokens=50 gen_ai.usage.cost=0.00024 gen_ai.prompt.name=greet gen_ai.prompt.version=3
//! ```
//!
//! and the metrics `gen_ai.client.token.usage`, `gen_ai.client.operation.duration`,
//! `gen_ai.client.operation.time_to_first_chunk` (streamed calls) and `gen_ai.client.cost`.
//! Names are in [`attributes`]; the full reference is `docs/llm.md`.
//!
//! # Cost
//!
//! [`GenerationSpan::end`] computes the cost with the [`cost`](crate::cost) engine from the
//! recorded [`Usage`](crate::cost::Usage) and the response model (else the request model),
//! and sets `gen_ai.usage.cost` (USD). A model missing from the pricing table gets no cost
//! attribute (never $0) and a once-per-model warning. The table is [`pricing()`]: the
//! built-in one with `SPANFORGE_PRICING_FILE` merged over it, or what [`set_pricing`]
//! installed.
//!
//! # Content
//!
//! Prompts and answers are **not** recorded unless
//! `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true` or a [`ContentCapture`] says so;
//! then they are recorded in the semantic-convention JSON shapes, passed through a
//! [`Redact`] hook and capped in size.
//!
//! # Features
//!
//! | feature | what it adds |
//! |---|---|
//! | (none) | [`Generation`], [`GenerationSpan`], [`ContentCapture`], messages and metrics |
//! | `openai` | `openai::Client`: chat (plain and streamed), tool calls and embeddings against any OpenAI-compatible API |
//! | `anthropic` | `anthropic::Client`: Messages (plain and streamed) and tool use |

pub mod attributes;
mod content;
mod generation;
mod message;
mod metrics;
mod operation;
mod pricing;
mod prompt;
mod span;

pub use content::{ContentCapture, Redact, TRUNCATION_MARKER};
pub use generation::Generation;
pub use message::{FinishReason, Message, OutputMessage, Part, Role, ToolCall, ToolDefinition};
pub use operation::Operation;
pub use pricing::{pricing, set_pricing};
pub use prompt::PromptRef;
pub use span::GenerationSpan;

#[cfg(any(feature = "openai", feature = "anthropic"))]
mod chat;
#[cfg(any(feature = "openai", feature = "anthropic"))]
mod client;
#[cfg(any(feature = "openai", feature = "anthropic"))]
mod error;
#[cfg(any(feature = "openai", feature = "anthropic"))]
mod sse;
#[cfg(any(feature = "openai", feature = "anthropic"))]
mod stream;

#[cfg(any(feature = "openai", feature = "anthropic"))]
pub use chat::{ChatRequest, ChatResponse, EmbeddingsRequest, EmbeddingsResponse};
#[cfg(any(feature = "openai", feature = "anthropic"))]
pub use error::{ConfigError, Error};
#[cfg(any(feature = "openai", feature = "anthropic"))]
pub use stream::{ChatDelta, ChatStream, ToolCallDelta};

#[cfg(feature = "anthropic")]
#[cfg_attr(docsrs, doc(cfg(feature = "anthropic")))]
pub mod anthropic;
#[cfg(feature = "openai")]
#[cfg_attr(docsrs, doc(cfg(feature = "openai")))]
pub mod openai;

//! A fake LLM provider on loopback: OpenAI's Chat Completions (JSON and SSE with
//! `stream_options.include_usage`) and Embeddings, Anthropic's Messages (JSON and named SSE
//! events), with scripted answers and faults.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use spanforge_testkit::llm::{FakeLlm, Fault, Reply, Tokens};
//!
//! let llm = FakeLlm::start().await?;
//! llm.push_all([
//!     // Usage in the OpenTelemetry meaning; rendered per provider.
//!     Reply::text("Hello!").with_tokens(Tokens { input: 1000, cache_read: 400, output: 20, ..Tokens::default() }),
//!     Reply::tool_call("get_weather", serde_json::json!({"city": "Paris"})),
//!     Reply::text("slow").with_first_chunk_delay(Duration::from_millis(200)),
//!     Reply::fault(Fault::RateLimited { retry_after: Some(Duration::from_secs(2)) }),
//!     Reply::fault(Fault::Status { status: 500 }),
//!     Reply::text("a b c d").with_fault(Fault::CutStream { after_events: 2 }),
//! ]);
//! # let _ = llm.openai_base_url();
//! # Ok(()) }
//! ```
//!
//! | path (any prefix) | API | stream when |
//! |---|---|---|
//! | `…/chat/completions` | OpenAI chat completions | `"stream": true` (usage chunk only with `stream_options.include_usage`) |
//! | `…/embeddings` | OpenAI embeddings | never |
//! | `…/messages` | Anthropic messages | `"stream": true` |
//!
//! | fault | plain answer | streamed answer |
//! |---|---|---|
//! | [`Fault::RateLimited`] | 429, provider error body, `Retry-After` | same, before any event |
//! | [`Fault::Status`] | that status, provider error body | same, before any event |
//! | [`Fault::CutStream`] | connection cut before the body | connection cut after N events |
//! | [`Fault::EndStreamEarly`] | half a JSON body | clean end after N events, no final event |
//! | [`Fault::MalformedEvent`] | a body that is not JSON | N events, then one that is not JSON |
//!
//! [`Reply::with_first_chunk_delay`] delays the first event of a stream (the headers go out
//! at once) or a whole plain answer; [`Reply::with_chunk_delay`] spaces the events.

mod answer;
mod anthropic;
mod openai;
mod script;
mod server;

pub use answer::Api;
pub use script::{Fault, Reply, ScriptedToolCall, Tokens};
pub use server::{FakeLlm, LlmRequest, StartError};

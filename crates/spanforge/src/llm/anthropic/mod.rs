//! An instrumented client for the Anthropic Messages API.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use spanforge::llm::{ChatRequest, anthropic};
//!
//! let llm = anthropic::Client::from_env()?; // ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL
//! let reply = llm
//!     .chat(
//!         ChatRequest::new("claude-sonnet-4-5")
//!             .system("Answer in one sentence.")
//!             .user("What is OpenTelemetry?")
//!             .prompt("explain", 2),
//!     )
//!     .await?;
//! println!("{} — {:?} USD", reply.text(), reply.cost);
//! # Ok(()) }
//! ```
//!
//! System messages of the [`ChatRequest`] become the `system` field (and, with content
//! capture on, `gen_ai.system_instructions`); tool results travel as user messages.
//! Anthropic's `input_tokens` exclude cache reads and writes; the span's
//! `gen_ai.usage.input_tokens` includes them, as the semantic conventions define it.

mod decoder;
mod wire;

use std::sync::Arc;

use reqwest::header::HeaderName;
use tokio::time::Instant;

use super::chat::{ChatRequest, ChatResponse, SentParams, system_parts};
use super::client::{Settings, Transport, fail, finish_chat, settings_setters};
use super::error::{ConfigError, Error};
use super::message::Role;
use super::operation::Operation;
use super::span::GenerationSpan;
use super::stream::ChatStream;

/// The public Anthropic API.
pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";

/// The `anthropic-version` sent by default.
pub const DEFAULT_API_VERSION: &str = "2023-06-01";

/// An instrumented Anthropic client. Cheap to clone (the connection pool is shared).
#[derive(Debug, Clone)]
pub struct Client {
    transport: Arc<Transport>,
}

/// Builds a [`Client`].
#[derive(Debug)]
#[must_use = "a builder does nothing until `build()`"]
pub struct ClientBuilder {
    settings: Settings,
    provider_set: bool,
    version: String,
}

impl ClientBuilder {
    settings_setters!("ANTHROPIC_BASE_URL");

    /// The `anthropic-version` header (default `2023-06-01`).
    pub fn with_api_version(mut self, version: impl Into<String>) -> Self {
        self.version = version.into();
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    ///
    /// A base URL that is not an absolute http(s) URL, an invalid header, or an HTTP client
    /// that cannot be built.
    pub fn build(mut self) -> Result<Client, ConfigError> {
        let mut auth = Vec::new();
        if let Some(key) = &self.settings.api_key {
            auth.push((
                HeaderName::from_static("x-api-key"),
                key.expose().to_owned(),
            ));
        }
        self.settings
            .headers
            .push(("anthropic-version".to_owned(), self.version.clone()));
        Ok(Client {
            transport: Arc::new(self.settings.build(auth)?),
        })
    }
}

impl Client {
    /// `ANTHROPIC_API_KEY`.
    pub const API_KEY_VAR: &'static str = "ANTHROPIC_API_KEY";
    /// `ANTHROPIC_BASE_URL` (without `/v1`, as in Anthropic's SDKs).
    pub const BASE_URL_VAR: &'static str = "ANTHROPIC_BASE_URL";

    /// A builder with the public Anthropic API as base URL and no key.
    pub fn builder() -> ClientBuilder {
        ClientBuilder {
            settings: Settings::new(DEFAULT_BASE_URL, "anthropic"),
            provider_set: false,
            version: DEFAULT_API_VERSION.to_owned(),
        }
    }

    /// A builder from `ANTHROPIC_API_KEY` and `ANTHROPIC_BASE_URL`.
    pub fn builder_from_env() -> ClientBuilder {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let mut builder = Client::builder();
        if let Some(url) = var(Self::BASE_URL_VAR) {
            builder = builder.with_base_url(url);
        }
        if let Some(key) = var(Self::API_KEY_VAR) {
            builder = builder.with_api_key(key);
        }
        builder
    }

    /// A client from the environment.
    ///
    /// # Errors
    ///
    /// [`ConfigError::MissingApiKey`] when `ANTHROPIC_API_KEY` is unset and the base URL is
    /// Anthropic's own, or any [`ClientBuilder::build`] error.
    pub fn from_env() -> Result<Client, ConfigError> {
        let builder = Client::builder_from_env();
        let official = reqwest::Url::parse(builder.settings.base_url.trim())
            .ok()
            .and_then(|u| {
                u.host_str()
                    .map(|h| h.eq_ignore_ascii_case("api.anthropic.com"))
            })
            .unwrap_or(false);
        if builder.settings.api_key.is_none() && official {
            return Err(ConfigError::MissingApiKey {
                var: Self::API_KEY_VAR,
            });
        }
        builder.build()
    }

    /// The `gen_ai.provider.name` of this client's calls.
    pub fn provider_name(&self) -> &str {
        &self.transport.provider
    }

    /// The base URL (secrets redacted).
    pub fn base_url(&self) -> String {
        self.transport.base_url()
    }

    fn start(&self, request: &ChatRequest, stream: bool) -> GenerationSpan {
        let sent = SentParams {
            max_tokens: Some(request.max_tokens.unwrap_or(wire::DEFAULT_MAX_TOKENS)),
            top_k: true,
            penalties_and_seed: false,
        };
        let span = request
            .generation(
                self.transport.generation(Operation::Chat, &request.model),
                sent,
            )
            .stream(stream)
            .start();
        if span.captures_content() {
            let system = system_parts(&request.messages);
            if !system.is_empty() {
                span.record_system_instructions(&system);
            }
            let history: Vec<_> = request
                .messages
                .iter()
                .filter(|m| m.role != Role::System)
                .cloned()
                .collect();
            span.record_input_messages(&history);
            if !request.tools.is_empty() {
                span.record_tool_definitions(&request.tools);
            }
        }
        span
    }

    /// A message (`POST /v1/messages`).
    ///
    /// # Errors
    ///
    /// [`Error`]: 429 with the server's retry hint, 5xx (529 when overloaded), other 4xx,
    /// timeout, transport failure, or a body that is not a message. The span records it too.
    pub async fn chat(&self, request: ChatRequest) -> Result<ChatResponse, Error> {
        let deadline = Instant::now() + self.transport.timeout;
        let span = self.start(&request, false);
        let body = wire::messages_body(&request, false)
            .to_string()
            .into_bytes();
        let message: wire::MessageResponse = match self
            .transport
            .post_json(&span, "v1/messages", body, deadline)
            .await
        {
            Ok(v) => v,
            Err(e) => return Err(fail(span, e)),
        };
        let mut response = message.into_response();
        finish_chat(span, &mut response);
        Ok(response)
    }

    /// A streamed message (`"stream": true`). The span ends when the stream does.
    ///
    /// # Errors
    ///
    /// As [`chat`](Client::chat), for everything before the first event; later errors
    /// (including `error` events such as `overloaded_error`) come out of the stream.
    pub async fn chat_stream(&self, request: ChatRequest) -> Result<ChatStream, Error> {
        let deadline = Instant::now() + self.transport.timeout;
        let span = self.start(&request, true);
        let body = wire::messages_body(&request, true).to_string().into_bytes();
        let response = match self
            .transport
            .post(
                &span,
                "v1/messages",
                body,
                &[("accept", "text/event-stream")],
                deadline,
            )
            .await
        {
            Ok(r) => r,
            Err(e) => return Err(fail(span, e)),
        };
        Ok(ChatStream::new(
            response,
            Box::<decoder::AnthropicDecoder>::default(),
            self.transport.clone(),
            span,
        ))
    }
}

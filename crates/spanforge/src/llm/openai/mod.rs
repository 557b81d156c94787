//! An instrumented client for OpenAI-compatible APIs: OpenAI, Azure OpenAI, vLLM, Ollama,
//! OpenRouter, Groq, DeepSeek, … — anything that speaks Chat Completions and Embeddings.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use spanforge::llm::{ChatRequest, openai};
//!
//! // OPENAI_API_KEY, and OPENAI_BASE_URL for another server (e.g. http://localhost:11434/v1).
//! let llm = openai::Client::from_env()?;
//! let reply = llm
//!     .chat(ChatRequest::new("gpt-4o-mini").user("hi").prompt("greet", 3))
//!     .await?;
//! println!("{} — {:?} tokens, {:?} USD", reply.text(), reply.usage, reply.cost);
//! # Ok(()) }
//! ```
//!
//! Every call is a `chat {model}` / `embeddings {model}` span (see [`crate::llm`]) with an
//! HTTP CLIENT span below it. Streams ask for `stream_options.include_usage`, so streamed
//! calls get usage and cost too.
//!
//! Azure OpenAI takes its key in an `api-key` header and an `api-version` query parameter:
//!
//! ```no_run
//! # fn run() -> Result<(), spanforge::llm::ConfigError> {
//! let llm = spanforge::llm::openai::Client::builder()
//!     .with_base_url("https://my-resource.openai.azure.com/openai/deployments/gpt-4o-mini")
//!     .with_api_key(std::env::var("AZURE_OPENAI_API_KEY").unwrap_or_default())
//!     .with_query_param("api-version", "2024-10-21")
//!     .build()?; // provider `azure.ai.openai`, key sent as `api-key`
//! # let _ = llm; Ok(()) }
//! ```

mod decoder;
mod wire;

use std::borrow::Cow;
use std::sync::Arc;

use reqwest::header::{AUTHORIZATION, HeaderName};
use tokio::time::Instant;

use super::chat::{ChatRequest, ChatResponse, EmbeddingsRequest, EmbeddingsResponse, SentParams};
use super::client::{Settings, Transport, fail, finish_chat, settings_setters};
use super::error::{ConfigError, Error};
use super::operation::Operation;
use super::span::GenerationSpan;
use super::stream::ChatStream;

/// The public OpenAI API.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// An instrumented OpenAI-compatible client. Cheap to clone (the connection pool is shared).
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
    key_header: Option<String>,
}

impl ClientBuilder {
    settings_setters!("OPENAI_BASE_URL");

    /// Sends the key in this header, as is, instead of `Authorization: Bearer <key>`
    /// (Azure OpenAI uses `api-key`, and is detected by host).
    pub fn with_api_key_header(mut self, name: impl Into<String>) -> Self {
        self.key_header = Some(name.into());
        self
    }

    /// A query parameter added to every request (Azure's `api-version`).
    pub fn with_query_param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.settings.query.push((name.into(), value.into()));
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    ///
    /// A base URL that is not an absolute http(s) URL, an invalid header, or an HTTP client
    /// that cannot be built.
    pub fn build(mut self) -> Result<Client, ConfigError> {
        let host = host_of(&self.settings.base_url);
        if !self.provider_set {
            self.settings.provider = Cow::Borrowed(provider_for_host(&host));
        }
        let azure = is_azure(&host);
        let mut auth = Vec::new();
        if let Some(key) = &self.settings.api_key {
            let (name, value) = match (&self.key_header, azure) {
                (Some(name), _) => (header_name(name)?, key.expose().to_owned()),
                (None, true) => (HeaderName::from_static("api-key"), key.expose().to_owned()),
                (None, false) => (AUTHORIZATION, format!("Bearer {}", key.expose())),
            };
            auth.push((name, value));
        }
        Ok(Client {
            transport: Arc::new(self.settings.build(auth)?),
        })
    }
}

fn header_name(name: &str) -> Result<HeaderName, ConfigError> {
    HeaderName::from_bytes(name.as_bytes()).map_err(|e| ConfigError::InvalidHeader {
        name: name.to_owned(),
        reason: e.to_string(),
    })
}

fn host_of(url: &str) -> String {
    reqwest::Url::parse(url.trim())
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        .unwrap_or_default()
}

fn is_azure(host: &str) -> bool {
    host.ends_with(".openai.azure.com")
        || host.ends_with(".services.ai.azure.com")
        || host.ends_with(".cognitiveservices.azure.com")
}

/// The `gen_ai.provider.name` of a known OpenAI-compatible host; `openai` otherwise.
fn provider_for_host(host: &str) -> &'static str {
    let is = |domain: &str| host == domain || host.ends_with(&format!(".{domain}"));
    if is_azure(host) {
        "azure.ai.openai"
    } else if is("groq.com") {
        "groq"
    } else if is("deepseek.com") {
        "deepseek"
    } else if is("x.ai") {
        "x_ai"
    } else if is("mistral.ai") {
        "mistral_ai"
    } else if is("perplexity.ai") {
        "perplexity"
    } else if is("openrouter.ai") {
        "openrouter"
    } else {
        "openai"
    }
}

impl Client {
    /// `OPENAI_API_KEY`.
    pub const API_KEY_VAR: &'static str = "OPENAI_API_KEY";
    /// `OPENAI_BASE_URL`.
    pub const BASE_URL_VAR: &'static str = "OPENAI_BASE_URL";

    /// A builder with the public OpenAI API as base URL and no key.
    pub fn builder() -> ClientBuilder {
        ClientBuilder {
            settings: Settings::new(DEFAULT_BASE_URL, "openai"),
            provider_set: false,
            key_header: None,
        }
    }

    /// A builder from the environment: `OPENAI_API_KEY`, `OPENAI_BASE_URL` (default
    /// `https://api.openai.com/v1`), `OPENAI_ORG_ID` and `OPENAI_PROJECT_ID` (sent as
    /// `OpenAI-Organization` / `OpenAI-Project`).
    pub fn builder_from_env() -> ClientBuilder {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let mut builder = Client::builder();
        if let Some(url) = var(Self::BASE_URL_VAR) {
            builder = builder.with_base_url(url);
        }
        if let Some(key) = var(Self::API_KEY_VAR) {
            builder = builder.with_api_key(key);
        }
        if let Some(org) = var("OPENAI_ORG_ID") {
            builder = builder.with_header("OpenAI-Organization", org);
        }
        if let Some(project) = var("OPENAI_PROJECT_ID") {
            builder = builder.with_header("OpenAI-Project", project);
        }
        builder
    }

    /// A client from the environment (see [`builder_from_env`](Client::builder_from_env)).
    ///
    /// # Errors
    ///
    /// [`ConfigError::MissingApiKey`] when `OPENAI_API_KEY` is unset and the base URL is
    /// OpenAI's own (a local server such as vLLM or Ollama needs no key), or any
    /// [`ClientBuilder::build`] error.
    pub fn from_env() -> Result<Client, ConfigError> {
        let builder = Client::builder_from_env();
        if builder.settings.api_key.is_none()
            && host_of(&builder.settings.base_url) == "api.openai.com"
        {
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

    fn start_chat(&self, request: &ChatRequest, stream: bool) -> GenerationSpan {
        let sent = SentParams {
            max_tokens: request.max_tokens,
            top_k: false,
            penalties_and_seed: true,
        };
        let span = request
            .generation(
                self.transport.generation(Operation::Chat, &request.model),
                sent,
            )
            .stream(stream)
            .start();
        if span.captures_content() {
            span.record_input_messages(&request.messages);
            if !request.tools.is_empty() {
                span.record_tool_definitions(&request.tools);
            }
        }
        span
    }

    /// A chat completion (`POST /chat/completions`).
    ///
    /// # Errors
    ///
    /// [`Error`]: 429 with the server's retry hint, 5xx, other 4xx, timeout, transport
    /// failure, or a body that is not a chat completion. The span records it too.
    pub async fn chat(&self, request: ChatRequest) -> Result<ChatResponse, Error> {
        let deadline = Instant::now() + self.transport.timeout;
        let span = self.start_chat(&request, false);
        let body = wire::chat_body(&request, false).to_string().into_bytes();
        let completion: wire::ChatCompletion = match self
            .transport
            .post_json(&span, "chat/completions", body, deadline)
            .await
        {
            Ok(v) => v,
            Err(e) => return Err(fail(span, e)),
        };
        let mut response = completion.into_response();
        finish_chat(span, &mut response);
        Ok(response)
    }

    /// A streamed chat completion (`"stream": true` with `stream_options.include_usage`).
    /// The span ends when the stream does.
    ///
    /// # Errors
    ///
    /// As [`chat`](Client::chat), for everything before the first chunk; later errors come
    /// out of the stream.
    pub async fn chat_stream(&self, request: ChatRequest) -> Result<ChatStream, Error> {
        let deadline = Instant::now() + self.transport.timeout;
        let span = self.start_chat(&request, true);
        let body = wire::chat_body(&request, true).to_string().into_bytes();
        let response = match self
            .transport
            .post(
                &span,
                "chat/completions",
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
            Box::new(decoder::OpenAiDecoder),
            self.transport.clone(),
            span,
        ))
    }

    /// Embeddings (`POST /embeddings`).
    ///
    /// # Errors
    ///
    /// As [`chat`](Client::chat).
    pub async fn embeddings(
        &self,
        request: EmbeddingsRequest,
    ) -> Result<EmbeddingsResponse, Error> {
        let deadline = Instant::now() + self.transport.timeout;
        let mut generation = self
            .transport
            .generation(Operation::Embeddings, &request.model);
        if let Some(prompt) = &request.prompt {
            generation = generation.prompt_ref(prompt.clone());
        }
        if let Some(format) = &request.encoding_format {
            generation = generation.encoding_formats([format.clone()]);
        }
        let span = generation.start();
        let body = wire::embeddings_body(&request).to_string().into_bytes();
        let embeddings: wire::Embeddings = match self
            .transport
            .post_json(&span, "embeddings", body, deadline)
            .await
        {
            Ok(v) => v,
            Err(e) => return Err(fail(span, e)),
        };
        let mut response = embeddings.into_response();
        if let Some(model) = &response.model {
            span.record_response_model(model.clone());
        }
        if let Some(dimensions) = response.embeddings.first().map(Vec::len) {
            span.record_embedding_dimensions(dimensions);
        }
        if let Some(usage) = response.usage {
            span.record_usage(usage);
        }
        response.cost = span.end().map(|c| c.total);
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn providers_by_host() {
        assert_eq!(provider_for_host("api.openai.com"), "openai");
        assert_eq!(
            provider_for_host("acme.openai.azure.com"),
            "azure.ai.openai"
        );
        assert_eq!(provider_for_host("api.groq.com"), "groq");
        assert_eq!(provider_for_host("openrouter.ai"), "openrouter");
        assert_eq!(provider_for_host("localhost"), "openai");
        assert_eq!(provider_for_host("notgroq.com"), "openai");
    }

    #[test]
    fn debug_hides_the_key() {
        let client = Client::builder()
            .with_api_key("sk-very-secret")
            .with_header("x-gateway-key", "gw-secret")
            .build()
            .unwrap();
        let debug = format!("{client:?}");
        assert!(!debug.contains("sk-very-secret"), "{debug}");
        assert!(!debug.contains("gw-secret"), "{debug}");
        assert!(debug.contains("REDACTED"), "{debug}");
    }

    #[test]
    fn bad_base_urls_are_named() {
        let err = Client::builder()
            .with_base_url("localhost:8000")
            .build()
            .unwrap_err();
        assert!(matches!(err, ConfigError::InvalidBaseUrl { .. }), "{err}");
        let err = Client::builder()
            .with_base_url("ftp://example.com/v1")
            .build()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid base URL \"ftp://example.com/v1\": the scheme is \"ftp\"; use http or https"
        );
    }
}

//! The model behind `POST /prompts/{name}/run`: spanforge's instrumented OpenAI-compatible
//! or Anthropic client, chosen from the environment.
//!
//! | variables set | model client |
//! |---|---|
//! | `LLM_PROVIDER=anthropic`, or only `ANTHROPIC_API_KEY` / `ANTHROPIC_BASE_URL` | Anthropic Messages |
//! | `OPENAI_API_KEY` and/or `OPENAI_BASE_URL` (OpenAI, Azure, vLLM, Ollama, OpenRouter, Groq, the testkit's fake LLM …) | OpenAI-compatible chat completions |
//! | none of them | no model: runs answer `503` "no LLM configured" (everything else works) |
//!
//! `LLM_MODEL` names the model (default `gpt-4o-mini`, or `claude-haiku-4-5` for Anthropic).
//! Every call is a `chat {model}` span under the request's span, with token usage, cost and
//! the prompt's name and version; the same numbers are returned with the run.

use std::sync::OnceLock;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header::RETRY_AFTER};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};
use spanforge::cost::Usage;
use spanforge::llm::{ChatRequest, ConfigError, anthropic, openai};

use super::store::Prompt;

/// The configured model client, or none.
#[derive(Debug, Clone)]
pub enum Llm {
    /// An OpenAI-compatible API.
    OpenAi {
        /// The instrumented client.
        client: openai::Client,
        /// The model to call.
        model: String,
    },
    /// The Anthropic Messages API.
    Anthropic {
        /// The instrumented client.
        client: anthropic::Client,
        /// The model to call.
        model: String,
    },
    /// No model configured.
    Unconfigured,
}

/// What a run got from the model.
#[derive(Debug, Clone, Serialize)]
pub struct Completion {
    /// The model's answer.
    pub output: String,
    /// `openai`, `anthropic`, … (`gen_ai.provider.name`).
    pub provider: String,
    /// The model that answered.
    pub model: String,
    /// Token usage, when the provider reported it.
    pub usage: Option<Usage>,
    /// The cost in US dollars, when the model's price is known.
    pub cost_usd: Option<f64>,
}

/// Why a run got no answer.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// No model is configured.
    #[error(
        "no LLM configured: set OPENAI_API_KEY or OPENAI_BASE_URL (any OpenAI-compatible \
         server), or ANTHROPIC_API_KEY"
    )]
    NotConfigured,
    /// The model call failed.
    #[error("the model call failed: {0}")]
    Call(#[from] spanforge::llm::Error),
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl Llm {
    /// The client the environment asks for (see the module documentation).
    ///
    /// # Errors
    ///
    /// A base URL that is not an http(s) URL, or a missing key for the provider's own API.
    pub fn from_env() -> Result<Llm, ConfigError> {
        let openai = var("OPENAI_API_KEY").is_some() || var("OPENAI_BASE_URL").is_some();
        let anthropic = var("ANTHROPIC_API_KEY").is_some() || var("ANTHROPIC_BASE_URL").is_some();
        let provider = var("LLM_PROVIDER").map(|p| p.to_ascii_lowercase());
        let llm = match provider.as_deref() {
            Some("anthropic") => Llm::anthropic()?,
            Some("openai") => Llm::openai()?,
            _ if openai => Llm::openai()?,
            _ if anthropic => Llm::anthropic()?,
            _ => Llm::Unconfigured,
        };
        Ok(llm)
    }

    fn openai() -> Result<Llm, ConfigError> {
        Ok(Llm::OpenAi {
            client: openai::Client::from_env()?,
            model: var("LLM_MODEL").unwrap_or_else(|| "gpt-4o-mini".to_owned()),
        })
    }

    fn anthropic() -> Result<Llm, ConfigError> {
        Ok(Llm::Anthropic {
            client: anthropic::Client::from_env()?,
            model: var("LLM_MODEL").unwrap_or_else(|| "claude-haiku-4-5".to_owned()),
        })
    }

    /// One line for the startup log (no secrets).
    pub fn describe(&self) -> String {
        match self {
            Llm::OpenAi { client, model } => {
                format!(
                    "{model} at {} ({})",
                    client.base_url(),
                    client.provider_name()
                )
            }
            Llm::Anthropic { client, model } => {
                format!(
                    "{model} at {} ({})",
                    client.base_url(),
                    client.provider_name()
                )
            }
            Llm::Unconfigured => "none: runs answer 503 until a model is configured".to_owned(),
        }
    }

    /// Sends the rendered prompt to the model, labelled with the prompt's name and version.
    ///
    /// # Errors
    ///
    /// [`LlmError::NotConfigured`] without a model; [`LlmError::Call`] when the call fails.
    pub async fn complete(&self, prompt: &Prompt, input: &str) -> Result<Completion, LlmError> {
        let request = |model: &str| {
            ChatRequest::new(model)
                .user(input)
                .prompt(prompt.name.clone(), i64::from(prompt.version))
        };
        let (reply, provider, model) = match self {
            Llm::OpenAi { client, model } => (
                client.chat(request(model)).await?,
                client.provider_name(),
                model,
            ),
            Llm::Anthropic { client, model } => (
                client.chat(request(model)).await?,
                client.provider_name(),
                model,
            ),
            Llm::Unconfigured => return Err(LlmError::NotConfigured),
        };
        Ok(Completion {
            output: reply.text(),
            provider: provider.to_owned(),
            model: reply.model.clone().unwrap_or_else(|| model.clone()),
            usage: reply.usage,
            cost_usd: reply.cost,
        })
    }
}

impl Completion {
    /// What the store keeps of this completion.
    pub fn run_usage(&self) -> super::store::RunUsage {
        super::store::RunUsage {
            model: Some(self.model.clone()),
            input_tokens: self
                .usage
                .as_ref()
                .map(|u| i64::try_from(u.input).unwrap_or(i64::MAX)),
            output_tokens: self
                .usage
                .as_ref()
                .map(|u| i64::try_from(u.output).unwrap_or(i64::MAX)),
            cost_usd: self.cost_usd,
        }
    }

    /// `run` (any serializable record) with the model, usage and cost added:
    /// `{…run, "provider", "model", "usage": {"input", "output", "cache_read", …}, "cost_usd"}`.
    pub fn with_run(&self, run: &impl Serialize) -> Value {
        let mut body = match serde_json::to_value(run) {
            Ok(Value::Object(map)) => map,
            _ => serde_json::Map::new(),
        };
        body.insert("provider".into(), json!(self.provider));
        body.insert("model".into(), json!(self.model));
        body.insert("usage".into(), json!(self.usage));
        body.insert("cost_usd".into(), json!(self.cost_usd));
        Value::Object(body)
    }
}

impl IntoResponse for LlmError {
    /// `503` without a model, `429` (with `Retry-After`) when the provider throttles,
    /// `504` on a timeout, `502` for other failures of the model call.
    fn into_response(self) -> Response {
        let status = match &self {
            LlmError::NotConfigured => StatusCode::SERVICE_UNAVAILABLE,
            LlmError::Call(e) if e.status() == Some(429) => StatusCode::TOO_MANY_REQUESTS,
            LlmError::Call(spanforge::llm::Error::Timeout(_)) => StatusCode::GATEWAY_TIMEOUT,
            LlmError::Call(_) => StatusCode::BAD_GATEWAY,
        };
        let retry_after = match &self {
            LlmError::Call(e) => e.retry_after(),
            LlmError::NotConfigured => None,
        };
        let mut response = (status, Json(json!({ "error": self.to_string() }))).into_response();
        if let Some(after) = retry_after {
            let secs = after.as_secs() + u64::from(after.subsec_nanos() > 0);
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

static LLM: OnceLock<Llm> = OnceLock::new();

/// Makes `llm` the model of the service's runs (call once, at startup). Returns `false`
/// if a model was already installed.
pub fn install(llm: Llm) -> bool {
    LLM.set(llm).is_ok()
}

/// The installed model; if none was installed, the one the environment asks for (an
/// invalid configuration is logged and leaves the service without a model).
pub fn current() -> &'static Llm {
    LLM.get_or_init(|| {
        Llm::from_env().unwrap_or_else(|error| {
            tracing::error!(%error, "LLM configuration is invalid; runs will answer 503");
            Llm::Unconfigured
        })
    })
}

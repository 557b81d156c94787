//! Token usage in the OpenTelemetry GenAI meaning, and constructors that normalize
//! each provider's own counting to it.

use serde::{Deserialize, Serialize};

/// Token counts of one call, in the semantic-convention meaning.
///
/// | field | attribute | meaning |
/// |---|---|---|
/// | `input` | `gen_ai.usage.input_tokens` | all input tokens, **including** cache reads and cache writes |
/// | `output` | `gen_ai.usage.output_tokens` | all output tokens, **including** reasoning tokens |
/// | `cache_read` | `gen_ai.usage.cache_read.input_tokens` | input tokens served from the prompt cache |
/// | `cache_creation` | `gen_ai.usage.cache_creation.input_tokens` | input tokens written to the prompt cache |
/// | `reasoning` | `gen_ai.usage.reasoning.output_tokens` | reasoning ("thinking") output tokens |
///
/// Providers count differently; build a `Usage` with the constructor for the provider
/// ([`Usage::from_openai`], [`Usage::from_anthropic`], [`Usage::from_gemini`]) rather than
/// copying raw fields, or cached tokens get charged twice (or not at all).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct Usage {
    /// All input tokens, cached ones included.
    pub input: u64,
    /// All output tokens, reasoning included.
    pub output: u64,
    /// Input tokens read from the prompt cache (part of `input`).
    pub cache_read: u64,
    /// Input tokens written to the prompt cache (part of `input`).
    pub cache_creation: u64,
    /// Reasoning output tokens (part of `output`).
    pub reasoning: u64,
}

impl Usage {
    /// Usage from an OpenAI(-compatible) response.
    ///
    /// OpenAI's `prompt_tokens` already include `prompt_tokens_details.cached_tokens`,
    /// and `completion_tokens` already include
    /// `completion_tokens_details.reasoning_tokens`, so they map one to one.
    /// (The Responses API's `input_tokens`/`output_tokens` count the same way.)
    ///
    /// ```
    /// use spanforge::cost::Usage;
    /// let u = Usage::from_openai(1_000, 300, 400, 100);
    /// assert_eq!((u.input, u.cache_read, u.output, u.reasoning), (1_000, 400, 300, 100));
    /// ```
    pub fn from_openai(
        prompt_tokens: u64,
        completion_tokens: u64,
        cached_tokens: u64,
        reasoning_tokens: u64,
    ) -> Self {
        Self {
            input: prompt_tokens,
            output: completion_tokens,
            cache_read: cached_tokens,
            cache_creation: 0,
            reasoning: reasoning_tokens,
        }
    }

    /// Usage from an Anthropic Messages response.
    ///
    /// Anthropic's `input_tokens` **exclude** `cache_read_input_tokens` and
    /// `cache_creation_input_tokens`; the semantic-convention `input` is their sum.
    /// Anthropic reports thinking tokens inside `output_tokens` without a separate count.
    ///
    /// ```
    /// use spanforge::cost::Usage;
    /// let u = Usage::from_anthropic(100, 50, 2_000, 500);
    /// assert_eq!(u.input, 2_600);
    /// ```
    pub fn from_anthropic(
        input_tokens: u64,
        output_tokens: u64,
        cache_read_input_tokens: u64,
        cache_creation_input_tokens: u64,
    ) -> Self {
        Self {
            input: input_tokens
                .saturating_add(cache_read_input_tokens)
                .saturating_add(cache_creation_input_tokens),
            output: output_tokens,
            cache_read: cache_read_input_tokens,
            cache_creation: cache_creation_input_tokens,
            reasoning: 0,
        }
    }

    /// Usage from a Gemini `usageMetadata`.
    ///
    /// Gemini's `promptTokenCount` includes `cachedContentTokenCount`, but
    /// `candidatesTokenCount` **excludes** `thoughtsTokenCount`; the semantic-convention
    /// `output` is their sum.
    ///
    /// ```
    /// use spanforge::cost::Usage;
    /// let u = Usage::from_gemini(1_000, 200, 0, 800);
    /// assert_eq!((u.output, u.reasoning), (1_000, 800));
    /// ```
    pub fn from_gemini(
        prompt_token_count: u64,
        candidates_token_count: u64,
        cached_content_token_count: u64,
        thoughts_token_count: u64,
    ) -> Self {
        Self {
            input: prompt_token_count,
            output: candidates_token_count.saturating_add(thoughts_token_count),
            cache_read: cached_content_token_count,
            cache_creation: 0,
            reasoning: thoughts_token_count,
        }
    }

    /// Input tokens that were neither read from nor written to the cache.
    ///
    /// Saturates at zero if the parts add up to more than `input` (inconsistent data).
    pub fn uncached_input(&self) -> u64 {
        self.input
            .saturating_sub(self.cache_read)
            .saturating_sub(self.cache_creation)
    }

    /// Output tokens that are not reasoning tokens (saturating at zero).
    pub fn non_reasoning_output(&self) -> u64 {
        self.output.saturating_sub(self.reasoning)
    }
}

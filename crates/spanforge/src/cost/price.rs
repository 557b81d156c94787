//! The price of one model: USD per million tokens, with optional cache, reasoning and
//! long-context prices.

use serde::{Deserialize, Deserializer, Serialize};

/// Prices of one model, in USD per 1,000,000 tokens.
///
/// `input` and `output` are required. The others are optional, and fall back as follows:
/// - no `cache_read` price: cache reads are charged at the `input` price;
/// - no `cache_write` price: cache writes are charged at the `input` price;
/// - no `reasoning` price: reasoning tokens are charged at the `output` price
///   (what OpenAI, Anthropic and Google do).
///
/// `tiers` hold long-context prices: a request whose input tokens (cached ones included)
/// exceed a tier's threshold is charged entirely at that tier's prices.
///
/// ```
/// use spanforge::cost::{ModelPrice, PriceTier};
/// let price = ModelPrice::new(1.25, 10.0)
///     .with_cache_read(0.125)
///     .with_tier(PriceTier::new(200_000, 2.5, 15.0).with_cache_read(0.25));
/// assert_eq!(price.input(), 1.25);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelPrice {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    provider: Option<String>,
    #[serde(deserialize_with = "usd")]
    input: f64,
    #[serde(deserialize_with = "usd")]
    output: f64,
    #[serde(
        default,
        deserialize_with = "opt_usd",
        skip_serializing_if = "Option::is_none"
    )]
    cache_read: Option<f64>,
    #[serde(
        default,
        deserialize_with = "opt_usd",
        skip_serializing_if = "Option::is_none"
    )]
    cache_write: Option<f64>,
    #[serde(
        default,
        deserialize_with = "opt_usd",
        skip_serializing_if = "Option::is_none"
    )]
    reasoning: Option<f64>,
    #[serde(
        default,
        deserialize_with = "tiers",
        skip_serializing_if = "Vec::is_empty"
    )]
    tiers: Vec<PriceTier>,
}

/// Long-context prices of a model, used when a request's input tokens exceed
/// [`above_input_tokens`](PriceTier::above_input_tokens).
///
/// Missing optional prices fall back to this tier's `input`/`output`, as in [`ModelPrice`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceTier {
    above_input_tokens: u64,
    #[serde(deserialize_with = "usd")]
    input: f64,
    #[serde(deserialize_with = "usd")]
    output: f64,
    #[serde(
        default,
        deserialize_with = "opt_usd",
        skip_serializing_if = "Option::is_none"
    )]
    cache_read: Option<f64>,
    #[serde(
        default,
        deserialize_with = "opt_usd",
        skip_serializing_if = "Option::is_none"
    )]
    cache_write: Option<f64>,
    #[serde(
        default,
        deserialize_with = "opt_usd",
        skip_serializing_if = "Option::is_none"
    )]
    reasoning: Option<f64>,
}

/// The prices that apply to one request: the base prices or one tier's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rates {
    pub(crate) input: f64,
    pub(crate) output: f64,
    pub(crate) cache_read: f64,
    pub(crate) cache_write: f64,
    pub(crate) reasoning: f64,
}

impl ModelPrice {
    /// A price with only input and output prices (USD per million tokens).
    pub fn new(input: f64, output: f64) -> Self {
        Self {
            provider: None,
            input,
            output,
            cache_read: None,
            cache_write: None,
            reasoning: None,
            tiers: Vec::new(),
        }
    }

    /// Sets the provider (a `gen_ai.provider.name` value such as `openai`), for display only.
    pub fn with_provider(mut self, provider: impl Into<String>) -> Self {
        self.provider = Some(provider.into());
        self
    }

    /// Sets the price of input tokens read from the prompt cache.
    pub fn with_cache_read(mut self, usd_per_million: f64) -> Self {
        self.cache_read = Some(usd_per_million);
        self
    }

    /// Sets the price of input tokens written to the prompt cache.
    pub fn with_cache_write(mut self, usd_per_million: f64) -> Self {
        self.cache_write = Some(usd_per_million);
        self
    }

    /// Sets a price for reasoning tokens apart from other output tokens.
    pub fn with_reasoning(mut self, usd_per_million: f64) -> Self {
        self.reasoning = Some(usd_per_million);
        self
    }

    /// Adds a long-context tier (tiers are kept sorted by threshold).
    pub fn with_tier(mut self, tier: PriceTier) -> Self {
        self.tiers.push(tier);
        self.tiers.sort_by_key(|t| t.above_input_tokens);
        self
    }

    /// The provider, if the table names one.
    pub fn provider(&self) -> Option<&str> {
        self.provider.as_deref()
    }

    /// USD per million uncached input tokens.
    pub fn input(&self) -> f64 {
        self.input
    }

    /// USD per million output tokens.
    pub fn output(&self) -> f64 {
        self.output
    }

    /// USD per million cache-read input tokens, if priced apart.
    pub fn cache_read(&self) -> Option<f64> {
        self.cache_read
    }

    /// USD per million cache-write input tokens, if priced apart.
    pub fn cache_write(&self) -> Option<f64> {
        self.cache_write
    }

    /// USD per million reasoning tokens, if priced apart from output.
    pub fn reasoning(&self) -> Option<f64> {
        self.reasoning
    }

    /// Long-context tiers, sorted by threshold.
    pub fn tiers(&self) -> &[PriceTier] {
        &self.tiers
    }

    /// The rates that apply to a request with `input_tokens` input tokens.
    pub(crate) fn rates_for(&self, input_tokens: u64) -> Rates {
        match self
            .tiers
            .iter()
            .rev()
            .find(|t| input_tokens > t.above_input_tokens)
        {
            Some(t) => Rates::new(t.input, t.output, t.cache_read, t.cache_write, t.reasoning),
            None => Rates::new(
                self.input,
                self.output,
                self.cache_read,
                self.cache_write,
                self.reasoning,
            ),
        }
    }

    /// Checks every price is finite and non-negative and tier thresholds are distinct.
    pub(crate) fn validate(&self) -> Result<(), String> {
        check("input", self.input)?;
        check("output", self.output)?;
        check_opt("cache_read", self.cache_read)?;
        check_opt("cache_write", self.cache_write)?;
        check_opt("reasoning", self.reasoning)?;
        for tier in &self.tiers {
            check("tier input", tier.input)?;
            check("tier output", tier.output)?;
            check_opt("tier cache_read", tier.cache_read)?;
            check_opt("tier cache_write", tier.cache_write)?;
            check_opt("tier reasoning", tier.reasoning)?;
        }
        check_thresholds(&self.tiers)
    }
}

impl PriceTier {
    /// A tier that applies above `above_input_tokens` input tokens.
    pub fn new(above_input_tokens: u64, input: f64, output: f64) -> Self {
        Self {
            above_input_tokens,
            input,
            output,
            cache_read: None,
            cache_write: None,
            reasoning: None,
        }
    }

    /// Sets this tier's cache-read price.
    pub fn with_cache_read(mut self, usd_per_million: f64) -> Self {
        self.cache_read = Some(usd_per_million);
        self
    }

    /// Sets this tier's cache-write price.
    pub fn with_cache_write(mut self, usd_per_million: f64) -> Self {
        self.cache_write = Some(usd_per_million);
        self
    }

    /// Sets this tier's reasoning price.
    pub fn with_reasoning(mut self, usd_per_million: f64) -> Self {
        self.reasoning = Some(usd_per_million);
        self
    }

    /// The tier applies when input tokens are strictly greater than this.
    pub fn above_input_tokens(&self) -> u64 {
        self.above_input_tokens
    }

    /// USD per million uncached input tokens.
    pub fn input(&self) -> f64 {
        self.input
    }

    /// USD per million output tokens.
    pub fn output(&self) -> f64 {
        self.output
    }

    /// USD per million cache-read input tokens, if priced apart.
    pub fn cache_read(&self) -> Option<f64> {
        self.cache_read
    }

    /// USD per million cache-write input tokens, if priced apart.
    pub fn cache_write(&self) -> Option<f64> {
        self.cache_write
    }

    /// USD per million reasoning tokens, if priced apart.
    pub fn reasoning(&self) -> Option<f64> {
        self.reasoning
    }
}

impl Rates {
    fn new(
        input: f64,
        output: f64,
        cache_read: Option<f64>,
        cache_write: Option<f64>,
        reasoning: Option<f64>,
    ) -> Self {
        Self {
            input,
            output,
            cache_read: cache_read.unwrap_or(input),
            cache_write: cache_write.unwrap_or(input),
            reasoning: reasoning.unwrap_or(output),
        }
    }
}

fn valid_price(v: f64) -> bool {
    v.is_finite() && v >= 0.0
}

fn check(field: &str, v: f64) -> Result<(), String> {
    if valid_price(v) {
        Ok(())
    } else {
        Err(format!(
            "`{field}` price must be a finite number >= 0, got {v}"
        ))
    }
}

fn check_opt(field: &str, v: Option<f64>) -> Result<(), String> {
    v.map_or(Ok(()), |v| check(field, v))
}

fn check_thresholds(tiers: &[PriceTier]) -> Result<(), String> {
    for pair in tiers.windows(2) {
        if pair[0].above_input_tokens == pair[1].above_input_tokens {
            return Err(format!(
                "two tiers have the same `above_input_tokens` = {}",
                pair[0].above_input_tokens
            ));
        }
    }
    Ok(())
}

/// Deserializes a price, rejecting negative, NaN and infinite values where they appear
/// (so the error carries the value's line and column).
fn usd<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let v = f64::deserialize(d)?;
    if valid_price(v) {
        Ok(v)
    } else {
        Err(serde::de::Error::custom(format_args!(
            "price must be a finite number >= 0, got {v}"
        )))
    }
}

fn opt_usd<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    usd(d).map(Some)
}

fn tiers<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<PriceTier>, D::Error> {
    let mut tiers = Vec::<PriceTier>::deserialize(d)?;
    tiers.sort_by_key(|t| t.above_input_tokens);
    check_thresholds(&tiers).map_err(serde::de::Error::custom)?;
    Ok(tiers)
}

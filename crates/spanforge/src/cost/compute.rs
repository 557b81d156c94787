//! Cost of one call: usage × price.

use super::price::ModelPrice;
use super::usage::Usage;

const PER_MILLION: f64 = 1_000_000.0;

/// The dollar cost of one call, split by kind of token. All amounts are USD.
///
/// `total` is the sum of the parts and is what goes into `gen_ai.usage.cost`.
/// Reasoning tokens are always reported apart (`reasoning`), at the model's reasoning
/// price if it has one and at its output price otherwise; `output` covers the other
/// output tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Cost {
    /// Sum of all parts.
    pub total: f64,
    /// Uncached input tokens.
    pub input: f64,
    /// Output tokens other than reasoning tokens.
    pub output: f64,
    /// Input tokens read from the prompt cache.
    pub cache_read: f64,
    /// Input tokens written to the prompt cache.
    pub cache_write: f64,
    /// Reasoning output tokens.
    pub reasoning: f64,
}

impl ModelPrice {
    /// Computes the cost of `usage` at this price.
    ///
    /// ```text
    /// cost = uncached input × input + cache reads × cache_read + cache writes × cache_write
    ///      + (output − reasoning) × output + reasoning × reasoning-price
    /// ```
    /// where uncached input = input − cache reads − cache writes (the [`Usage`] fields are
    /// in the semantic-convention meaning), and the prices are the long-context tier's
    /// when `usage.input` is above a tier's threshold. Parts never exceed their totals:
    /// cache reads and writes are clamped to `input`, reasoning to `output`.
    ///
    /// ```
    /// use spanforge::cost::{ModelPrice, Usage};
    /// // $2.50 / $10 per million, cached input $1.25
    /// let price = ModelPrice::new(2.5, 10.0).with_cache_read(1.25);
    /// let cost = price.cost(&Usage::from_openai(1_000_000, 100_000, 400_000, 0));
    /// // 600k × 2.5 + 400k × 1.25 + 100k × 10 (per million) = 1.5 + 0.5 + 1.0
    /// assert!((cost.total - 3.0).abs() < 1e-9);
    /// ```
    pub fn cost(&self, usage: &Usage) -> Cost {
        let rates = self.rates_for(usage.input);
        let cache_read = usage.cache_read.min(usage.input);
        let cache_write = usage.cache_creation.min(usage.input - cache_read);
        let uncached = usage.input - cache_read - cache_write;
        let reasoning = usage.reasoning.min(usage.output);
        let plain_output = usage.output - reasoning;

        let part =
            |tokens: u64, usd_per_million: f64| tokens as f64 * usd_per_million / PER_MILLION;
        let input = part(uncached, rates.input);
        let cache_read = part(cache_read, rates.cache_read);
        let cache_write = part(cache_write, rates.cache_write);
        let output = part(plain_output, rates.output);
        let reasoning = part(reasoning, rates.reasoning);
        Cost {
            total: input + cache_read + cache_write + output + reasoning,
            input,
            output,
            cache_read,
            cache_write,
            reasoning,
        }
    }
}

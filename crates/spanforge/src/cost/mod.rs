//! LLM cost: an embedded pricing table, model-name resolution and cost computation.
//!
//! The same engine computes `gen_ai.usage.cost` on LLM spans and backs `spanforge cost`.
//!
//! ```
//! use spanforge::cost::{Pricing, Usage};
//!
//! // An Anthropic response: input_tokens excludes cache reads and writes.
//! let usage = Usage::from_anthropic(1_000, 500, 20_000, 0);
//! let cost = Pricing::builtin()
//!     .cost("bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0", &usage)
//!     .expect("a known model");
//! // 1,000 × $3 + 20,000 × $0.30 + 500 × $15, per million tokens
//! assert!((cost.total - 0.0165).abs() < 1e-12);
//! ```
//!
//! # The cost model
//!
//! [`Usage`] holds token counts in the OpenTelemetry GenAI meaning (`input` includes
//! cached tokens, `output` includes reasoning tokens); its constructors normalise each
//! provider's counting. [`ModelPrice::cost`] then charges
//!
//! ```text
//! uncached input × input + cache reads × cache_read + cache writes × cache_write
//! + non-reasoning output × output + reasoning × reasoning (or output when not priced apart)
//! ```
//!
//! at the long-context tier's prices when the request's input is above a tier threshold.
//!
//! # Name resolution
//!
//! [`Pricing::resolve`] tries the name as given, then without provider prefixes, then
//! without version suffixes, looking up models and aliases at each step; it never
//! matches on a bare prefix, so a sibling model is never picked. An unknown model is an
//! error: its spans get no cost attribute, a warning is logged once per model
//! ([`UNKNOWN_MODEL_EVENT`]) and [`unknown_model_count`] counts every miss.
//!
//! # The data
//!
//! The built-in table (`pricing.toml`, compiled in) records its sources and date in
//! [`Pricing::meta`]. Add or override prices with a JSON or TOML file named by
//! `SPANFORGE_PRICING_FILE` ([`Pricing::from_env`]) or in code ([`Pricing::insert`]).
//! See `docs/cost.md` for the file format.

mod compute;
mod error;
mod format;
mod hash;
mod price;
mod pricing;
mod resolve;
mod unknown;
mod usage;

pub use compute::Cost;
pub use error::{InvalidPrice, PricingError, PricingFileError, UnknownModel};
pub use format::{PricingFormat, PricingMeta};
pub use price::{ModelPrice, PriceTier};
pub use pricing::{Pricing, ResolvedModel};
pub use resolve::MatchKind;
pub use unknown::{UNKNOWN_MODEL_EVENT, UNKNOWN_MODEL_SUPPRESSED_EVENT, unknown_model_count};
pub use usage::Usage;

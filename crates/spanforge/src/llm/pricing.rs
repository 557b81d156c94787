//! The pricing table generations use unless given their own.

use std::sync::{OnceLock, PoisonError, RwLock};

use crate::cost::Pricing;

static INSTALLED: RwLock<Option<Pricing>> = RwLock::new(None);

/// The pricing table LLM spans are costed with: the one [`set_pricing`] installed, else
/// [`Pricing::from_env`] (the built-in table with `SPANFORGE_PRICING_FILE` merged over it),
/// read once. A pricing file that cannot be read is logged once as an error
/// (`spanforge.llm.pricing_file_invalid`) and the built-in table is used.
pub fn pricing() -> Pricing {
    if let Some(p) = INSTALLED
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .as_ref()
    {
        return p.clone();
    }
    static FROM_ENV: OnceLock<Pricing> = OnceLock::new();
    FROM_ENV
        .get_or_init(|| match Pricing::from_env() {
            Ok(p) => p,
            Err(error) => {
                tracing::error!(
                    name: "spanforge.llm.pricing_file_invalid",
                    %error,
                    "ignoring the pricing file; LLM costs use the built-in table"
                );
                Pricing::builtin().clone()
            }
        })
        .clone()
}

/// Installs the pricing table every generation uses unless given its own
/// ([`Generation::with_pricing`](super::Generation::with_pricing)).
///
/// ```
/// use spanforge::cost::{ModelPrice, Pricing};
/// let mut pricing = Pricing::builtin().clone();
/// pricing.insert("acme-chat-1", ModelPrice::new(1.0, 2.0)).unwrap();
/// spanforge::llm::set_pricing(pricing);
/// ```
pub fn set_pricing(pricing: Pricing) {
    *INSTALLED.write().unwrap_or_else(PoisonError::into_inner) = Some(pricing);
}

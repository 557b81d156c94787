//! Cost engine: the shipped table, name resolution, cost arithmetic, unknown models,
//! pricing files.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use proptest::prelude::*;
use spanforge::cost::{
    Cost, MatchKind, ModelPrice, PriceTier, Pricing, PricingError, PricingFormat,
    UNKNOWN_MODEL_EVENT, Usage, unknown_model_count,
};

fn close(actual: f64, expected: f64) -> bool {
    (actual - expected).abs() <= 1e-12 + expected.abs() * 1e-12
}

#[track_caller]
fn assert_cost(cost: &Cost, total: f64) {
    assert!(
        close(cost.total, total),
        "total {} != expected {total} ({cost:?})",
        cost.total
    );
    let parts = cost.input + cost.output + cost.cache_read + cost.cache_write + cost.reasoning;
    assert!(
        close(parts, cost.total),
        "parts {parts} != total {}",
        cost.total
    );
}

fn builtin_cost(model: &str, usage: Usage) -> Cost {
    Pricing::builtin()
        .cost(model, &usage)
        .unwrap_or_else(|| panic!("{model} must be priced"))
}

// ---------------------------------------------------------------------------------------
// The shipped table
// ---------------------------------------------------------------------------------------

#[test]
fn builtin_table_records_source_and_date() {
    let pricing = Pricing::builtin();
    let meta = pricing.meta();
    assert_eq!(meta.date.as_deref(), Some("2026-11-28"));
    assert!(
        meta.source
            .as_deref()
            .is_some_and(|s| s.contains("LiteLLM"))
    );
    assert_eq!(meta.currency.as_deref(), Some("USD"));
    assert_eq!(meta.unit.as_deref(), Some("1M tokens"));
    assert!(pricing.len() >= 60, "only {} models", pricing.len());
    // builtin() is parsed once and shared.
    assert!(std::ptr::eq(Pricing::builtin(), Pricing::builtin()));
}

#[test]
fn builtin_table_is_valid() {
    let pricing = Pricing::builtin();
    let ok = |v: f64| v.is_finite() && v >= 0.0;
    for (name, price) in pricing.models() {
        assert!(!name.is_empty());
        assert_eq!(
            name,
            name.to_ascii_lowercase(),
            "{name}: keys are lower case"
        );
        assert!(price.provider().is_some(), "{name}: no provider");
        assert!(ok(price.input()) && price.input() > 0.0, "{name}: input");
        assert!(ok(price.output()), "{name}: output");
        for p in [price.cache_read(), price.cache_write(), price.reasoning()]
            .into_iter()
            .flatten()
        {
            assert!(ok(p), "{name}: optional price {p}");
        }
        // A cached token never costs more than an uncached one.
        if let Some(cr) = price.cache_read() {
            assert!(cr < price.input(), "{name}: cache_read >= input");
        }
        let mut last = 0;
        for tier in price.tiers() {
            assert!(
                tier.above_input_tokens() > last,
                "{name}: tiers out of order"
            );
            last = tier.above_input_tokens();
            assert!(
                ok(tier.input()) && tier.input() >= price.input(),
                "{name}: tier input"
            );
            assert!(
                ok(tier.output()) && tier.output() >= price.output(),
                "{name}: tier output"
            );
            assert_eq!(
                tier.cache_read().is_some(),
                price.cache_read().is_some(),
                "{name}: tier and base disagree on cache_read"
            );
            assert_eq!(
                tier.cache_write().is_some(),
                price.cache_write().is_some(),
                "{name}: tier and base disagree on cache_write"
            );
        }
        // Anthropic: 5-minute cache write = 1.25 × input, cache read = 0.1 × input
        // (Claude 3 Haiku is published rounded: $0.30 and $0.03 for $0.25 input).
        if price.provider() == Some("anthropic") && name != "claude-3-haiku" {
            let (cw, cr) = (price.cache_write().unwrap(), price.cache_read().unwrap());
            assert!(close(cw, price.input() * 1.25), "{name}: cache_write {cw}");
            assert!(close(cr, price.input() * 0.1), "{name}: cache_read {cr}");
        }
    }
    let mut aliases = 0;
    for (alias, target) in pricing.aliases() {
        aliases += 1;
        assert!(
            pricing.get(target).is_some(),
            "alias {alias} -> missing {target}"
        );
        assert!(
            pricing.get(alias).is_none(),
            "{alias} is both a model and an alias"
        );
        assert_eq!(pricing.resolve(alias).unwrap().model(), target);
    }
    assert!(aliases >= 10);
}

#[test]
fn builtin_table_covers_the_listed_families() {
    let pricing = Pricing::builtin();
    for model in [
        "gpt-4o",
        "gpt-4o-mini",
        "gpt-4.1",
        "gpt-4.1-mini",
        "gpt-4.1-nano",
        "o1",
        "o3",
        "o3-mini",
        "o4-mini",
        "gpt-5",
        "gpt-5-mini",
        "gpt-5-nano",
        "text-embedding-3-small",
        "text-embedding-3-large",
        "text-embedding-ada-002",
        "claude-3-5-sonnet",
        "claude-3-5-haiku",
        "claude-3-7-sonnet",
        "claude-sonnet-4",
        "claude-sonnet-4-5",
        "claude-opus-4",
        "claude-opus-4-1",
        "claude-haiku-4-5",
        "gemini-1.5-pro",
        "gemini-1.5-flash",
        "gemini-2.0-flash",
        "gemini-2.5-pro",
        "gemini-2.5-flash",
        "mistral-large-latest",
        "mistral-medium-latest",
        "codestral-latest",
        "mistral-embed",
    ] {
        assert!(pricing.resolve(model).is_ok(), "{model} missing");
    }
}

// ---------------------------------------------------------------------------------------
// Cost arithmetic (prices are USD per 1M tokens; each comment shows the hand computation)
// ---------------------------------------------------------------------------------------

#[test]
fn openai_cached_input_is_not_double_counted() {
    // gpt-4o: input $2.50, cached input $1.25, output $10.
    // prompt_tokens = 10,000 of which cached 4,000; completion 1,000.
    //   uncached 6,000 × 2.50 / 1e6 = 0.015
    //   cached   4,000 × 1.25 / 1e6 = 0.005
    //   output   1,000 × 10   / 1e6 = 0.010
    //   total                       = 0.030
    let cost = builtin_cost(
        "gpt-4o-2024-08-06",
        Usage::from_openai(10_000, 1_000, 4_000, 0),
    );
    assert_cost(&cost, 0.030);
    assert!(close(cost.input, 0.015));
    assert!(close(cost.cache_read, 0.005));
    assert!(close(cost.output, 0.010));
    assert_eq!(cost.cache_write, 0.0);
}

#[test]
fn openai_reasoning_tokens_are_output_tokens() {
    // o4-mini: input $1.10, output $4.40, no separate reasoning price.
    // prompt 2,000; completion 5,000 of which reasoning 4,000.
    //   input      2,000 × 1.10 / 1e6 = 0.0022
    //   output     1,000 × 4.40 / 1e6 = 0.0044
    //   reasoning  4,000 × 4.40 / 1e6 = 0.0176
    //   total                         = 0.0242
    let cost = builtin_cost(
        "o4-mini-2025-04-16",
        Usage::from_openai(2_000, 5_000, 0, 4_000),
    );
    assert_cost(&cost, 0.0242);
    assert!(close(cost.reasoning, 0.0176));
    assert!(close(cost.output, 0.0044));
}

#[test]
fn anthropic_cache_reads_and_writes() {
    // claude-sonnet-4-5: input $3, cache write $3.75, cache read $0.30, output $15.
    // Anthropic usage: input_tokens 3,000 (excludes cache), cache_read 50,000,
    // cache_creation 10,000, output 1,000 → semconv input = 63,000.
    //   uncached  3,000 × 3.00 / 1e6 = 0.009
    //   read     50,000 × 0.30 / 1e6 = 0.015
    //   write    10,000 × 3.75 / 1e6 = 0.0375
    //   output    1,000 × 15   / 1e6 = 0.015
    //   total                        = 0.0765
    let usage = Usage::from_anthropic(3_000, 1_000, 50_000, 10_000);
    assert_eq!(usage.input, 63_000);
    let cost = builtin_cost("claude-sonnet-4-5-20250929", usage);
    assert_cost(&cost, 0.0765);
    assert!(close(cost.cache_write, 0.0375));
    assert!(close(cost.cache_read, 0.015));
}

#[test]
fn anthropic_long_context_tier() {
    // claude-sonnet-4 above 200k input tokens: input $6, cache read $0.60, output $22.50.
    // input_tokens 150,000 + cache_read 100,000 = 250,000 > 200,000 → long-context tier.
    //   uncached 150,000 × 6.00  / 1e6 = 0.900
    //   read     100,000 × 0.60  / 1e6 = 0.060
    //   output     2,000 × 22.50 / 1e6 = 0.045
    //   total                          = 1.005
    let cost = builtin_cost(
        "claude-sonnet-4-20250514",
        Usage::from_anthropic(150_000, 2_000, 100_000, 0),
    );
    assert_cost(&cost, 1.005);
    // The same call with 150,000 uncached input only stays in the base tier:
    //   150,000 × 3 / 1e6 + 2,000 × 15 / 1e6 = 0.45 + 0.03 = 0.48
    let cost = builtin_cost(
        "claude-sonnet-4",
        Usage::from_anthropic(150_000, 2_000, 0, 0),
    );
    assert_cost(&cost, 0.48);
}

#[test]
fn gemini_tiers_and_thinking_tokens() {
    // gemini-2.5-pro ≤ 200k: input $1.25, output $10 (thinking billed as output).
    // prompt 100,000; candidates 1,000; thoughts 3,000 → output 4,000.
    //   input     100,000 × 1.25 / 1e6 = 0.125
    //   output      1,000 × 10   / 1e6 = 0.010
    //   reasoning   3,000 × 10   / 1e6 = 0.030
    //   total                          = 0.165
    let cost = builtin_cost(
        "gemini-2.5-pro",
        Usage::from_gemini(100_000, 1_000, 0, 3_000),
    );
    assert_cost(&cost, 0.165);

    // > 200k: input $2.50, cache read $0.25, output $15.
    // prompt 300,000 of which cached 100,000; candidates 1,000.
    //   uncached 200,000 × 2.50 / 1e6 = 0.500
    //   cached   100,000 × 0.25 / 1e6 = 0.025
    //   output     1,000 × 15   / 1e6 = 0.015
    //   total                         = 0.540
    let cost = builtin_cost(
        "models/gemini-2.5-pro",
        Usage::from_gemini(300_000, 1_000, 100_000, 0),
    );
    assert_cost(&cost, 0.540);

    // Exactly 200,000 is not "above 200k": 200,000 × 1.25 / 1e6 = 0.25
    let cost = builtin_cost("gemini-2.5-pro", Usage::from_gemini(200_000, 0, 0, 0));
    assert_cost(&cost, 0.25);

    // gemini-1.5-pro above 128k: input $2.50, output $10.
    //   130,000 × 2.50 / 1e6 + 1,000 × 10 / 1e6 = 0.325 + 0.01 = 0.335
    let cost = builtin_cost(
        "gemini-1.5-pro-002",
        Usage::from_gemini(130_000, 1_000, 0, 0),
    );
    assert_cost(&cost, 0.335);
}

#[test]
fn mistral_and_embeddings() {
    // mistral-large-latest → mistral-large-2512: input $0.50, output $1.50.
    //   10,000 × 0.50 / 1e6 + 2,000 × 1.50 / 1e6 = 0.005 + 0.003 = 0.008
    let cost = builtin_cost(
        "mistral/mistral-large-latest",
        Usage::from_openai(10_000, 2_000, 0, 0),
    );
    assert_cost(&cost, 0.008);
    // mistral-large-2411 keeps its own price: 10,000 × 2 / 1e6 + 2,000 × 6 / 1e6 = 0.032
    let cost = builtin_cost(
        "mistral-large-2411",
        Usage::from_openai(10_000, 2_000, 0, 0),
    );
    assert_cost(&cost, 0.032);
    // text-embedding-3-small: 1,000,000 × 0.02 / 1e6 = 0.02
    let cost = builtin_cost(
        "text-embedding-3-small",
        Usage {
            input: 1_000_000,
            ..Usage::default()
        },
    );
    assert_cost(&cost, 0.02);
    // mistral-embed: 250,000 × 0.10 / 1e6 = 0.025
    let cost = builtin_cost(
        "mistral-embed",
        Usage {
            input: 250_000,
            ..Usage::default()
        },
    );
    assert_cost(&cost, 0.025);
}

#[test]
fn reasoning_priced_apart_when_the_table_says_so() {
    // A model with a reasoning price of its own: input $1, output $4, reasoning $8.
    // input 1,000; output 3,000 of which reasoning 2,000.
    //   input     1,000 × 1 / 1e6 = 0.001
    //   output    1,000 × 4 / 1e6 = 0.004
    //   reasoning 2,000 × 8 / 1e6 = 0.016
    //   total                     = 0.021
    let price = ModelPrice::new(1.0, 4.0).with_reasoning(8.0);
    let cost = price.cost(&Usage {
        input: 1_000,
        output: 3_000,
        reasoning: 2_000,
        ..Usage::default()
    });
    assert_cost(&cost, 0.021);
    assert!(close(cost.reasoning, 0.016));
}

#[test]
fn missing_cache_prices_fall_back_to_input() {
    // gpt-4o-2024-05-13 has no cached-input price: cached tokens cost the input price.
    //   10,000 × 5 / 1e6 + 0 output = 0.05 whatever the cached share
    let cost = builtin_cost("gpt-4o-2024-05-13", Usage::from_openai(10_000, 0, 6_000, 0));
    assert_cost(&cost, 0.05);
}

#[test]
fn inconsistent_usage_is_clamped_not_negative() {
    let price = ModelPrice::new(1.0, 2.0)
        .with_cache_read(0.5)
        .with_cache_write(1.25);
    let usage = Usage {
        input: 100,
        output: 10,
        cache_read: 80,
        cache_creation: 80,
        reasoning: 50,
    };
    let cost = price.cost(&usage);
    // read 80 × 0.5 + write 20 × 1.25 + reasoning 10 × 2 (per 1e6)
    assert_cost(&cost, (80.0 * 0.5 + 20.0 * 1.25 + 10.0 * 2.0) / 1e6);
    assert!(cost.input == 0.0 && cost.output == 0.0);
}

#[test]
fn usage_constructors_normalize_to_semconv() {
    let u = Usage::from_openai(1_000, 500, 300, 200);
    assert_eq!(
        u,
        Usage {
            input: 1_000,
            output: 500,
            cache_read: 300,
            cache_creation: 0,
            reasoning: 200
        }
    );
    assert_eq!(u.uncached_input(), 700);
    assert_eq!(u.non_reasoning_output(), 300);
    let u = Usage::from_anthropic(100, 50, 1_000, 200);
    assert_eq!(
        u,
        Usage {
            input: 1_300,
            output: 50,
            cache_read: 1_000,
            cache_creation: 200,
            reasoning: 0
        }
    );
    assert_eq!(u.uncached_input(), 100);
    let u = Usage::from_gemini(1_000, 100, 400, 300);
    assert_eq!(
        u,
        Usage {
            input: 1_000,
            output: 400,
            cache_read: 400,
            cache_creation: 0,
            reasoning: 300
        }
    );
}

// ---------------------------------------------------------------------------------------
// Name resolution
// ---------------------------------------------------------------------------------------

#[test]
fn every_name_form_resolves_to_its_entry() {
    use MatchKind::*;
    let cases: &[(&str, &str, MatchKind)] = &[
        ("gpt-4o", "gpt-4o", Exact),
        ("gpt-4o-2024-08-06", "gpt-4o", VersionSuffix),
        ("gpt-4o-2024-11-20", "gpt-4o", VersionSuffix),
        ("gpt-4o-2024-05-13", "gpt-4o-2024-05-13", Exact),
        ("openai/gpt-4o", "gpt-4o", ProviderPrefix),
        ("azure/gpt-4o", "gpt-4o", ProviderPrefix),
        ("openai:gpt-4o", "gpt-4o", ProviderPrefix),
        ("azure/gpt-4o-2024-08-06", "gpt-4o", VersionSuffix),
        (
            "openrouter/openai/gpt-4o-mini",
            "gpt-4o-mini",
            ProviderPrefix,
        ),
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini", VersionSuffix),
        ("gpt-4.1-2025-04-14", "gpt-4.1", VersionSuffix),
        ("gpt-4.1-mini-2025-04-14", "gpt-4.1-mini", VersionSuffix),
        ("o1-2024-12-17", "o1", VersionSuffix),
        ("o3-mini-2025-01-31", "o3-mini", VersionSuffix),
        ("o3-2025-04-16", "o3", VersionSuffix),
        ("gpt-5-2025-08-07", "gpt-5", VersionSuffix),
        ("gpt-5-mini-2025-08-07", "gpt-5-mini", VersionSuffix),
        ("gpt-5-chat-latest", "gpt-5", Alias),
        ("gpt-5.4-mini-2026-03-17", "gpt-5.4-mini", VersionSuffix),
        ("chatgpt-4o-latest", "chatgpt-4o-latest", Exact),
        (
            "claude-3-5-sonnet-20240620",
            "claude-3-5-sonnet",
            VersionSuffix,
        ),
        (
            "claude-3-5-sonnet-20241022",
            "claude-3-5-sonnet",
            VersionSuffix,
        ),
        (
            "claude-3-5-sonnet@20240620",
            "claude-3-5-sonnet",
            VersionSuffix,
        ),
        (
            "vertex_ai/claude-3-5-sonnet-v2@20241022",
            "claude-3-5-sonnet",
            Alias,
        ),
        ("claude-3-5-sonnet-latest", "claude-3-5-sonnet", Alias),
        (
            "anthropic/claude-3-5-haiku-latest",
            "claude-3-5-haiku",
            Alias,
        ),
        ("claude-sonnet-4-0", "claude-sonnet-4", Alias),
        ("claude-sonnet-4@20250514", "claude-sonnet-4", VersionSuffix),
        ("claude-sonnet-4-5", "claude-sonnet-4-5", Exact),
        (
            "claude-sonnet-4-5-20250929",
            "claude-sonnet-4-5",
            VersionSuffix,
        ),
        ("claude-opus-4-1-20250805", "claude-opus-4-1", VersionSuffix),
        (
            "claude-haiku-4-5-20251001",
            "claude-haiku-4-5",
            VersionSuffix,
        ),
        (
            "anthropic.claude-3-5-sonnet-20240620-v1:0",
            "claude-3-5-sonnet",
            VersionSuffix,
        ),
        (
            "bedrock/anthropic.claude-3-5-sonnet-20241022-v2:0",
            "claude-3-5-sonnet",
            VersionSuffix,
        ),
        (
            "bedrock/us.anthropic.claude-sonnet-4-20250514-v1:0",
            "claude-sonnet-4",
            VersionSuffix,
        ),
        (
            "eu.anthropic.claude-haiku-4-5-20251001-v1:0",
            "claude-haiku-4-5",
            VersionSuffix,
        ),
        (
            "global.anthropic.claude-opus-4-5-20251101-v1:0",
            "claude-opus-4-5",
            VersionSuffix,
        ),
        ("gemini-2.5-pro", "gemini-2.5-pro", Exact),
        (
            "gemini/gemini-2.5-flash",
            "gemini-2.5-flash",
            ProviderPrefix,
        ),
        (
            "vertex_ai/gemini-2.0-flash-001",
            "gemini-2.0-flash",
            VersionSuffix,
        ),
        ("gemini-1.5-pro@002", "gemini-1.5-pro", VersionSuffix),
        (
            "models/gemini-2.5-flash-lite",
            "gemini-2.5-flash-lite",
            ProviderPrefix,
        ),
        ("gemini-embedding-001", "gemini-embedding-001", Exact),
        ("mistral-large-latest", "mistral-large-2512", Alias),
        ("mistral/codestral-latest", "codestral-2508", Alias),
        (
            "mistralai/mistral-medium-2505",
            "mistral-medium-2505",
            ProviderPrefix,
        ),
        ("cohere.embed-english-v3", "embed-english-v3.0", Alias),
        ("GPT-4o", "gpt-4o", Exact),
        (" gpt-4o-mini ", "gpt-4o-mini", Exact),
    ];
    let pricing = Pricing::builtin();
    for &(name, model, kind) in cases {
        let r = pricing
            .resolve(name)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!((r.model(), r.matched()), (model, kind), "{name}");
    }
}

#[test]
fn a_sibling_model_is_never_picked() {
    let pricing = Pricing::builtin();
    for (name, expected) in [
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
        ("o3-mini-2025-01-31", "o3-mini"),
        ("gpt-4.1-nano", "gpt-4.1-nano"),
        ("gpt-5-nano-2025-08-07", "gpt-5-nano"),
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
        ("claude-opus-4-1", "claude-opus-4-1"),
        ("gemini-2.5-flash-lite", "gemini-2.5-flash-lite"),
        (
            "gemini-3.1-flash-lite-preview",
            "gemini-3.1-flash-lite-preview",
        ),
    ] {
        assert_eq!(pricing.resolve(name).unwrap().model(), expected, "{name}");
    }
    let before = unknown_model_count();
    for name in [
        "gpt-4o-ultra",
        "gpt-4o-mini-ultra",
        "gpt-4",
        "gpt-4o2",
        "claude-sonnet-4-9",
        "claude-3-5-sonnet-ultra-20241022",
        "mistral-large-2407",
        "gemini-2.5-pro-preview-99-99",
        "groq/openai/gpt-oss-120b",
        "ft:gpt-4o-mini-2024-07-18:acme::abc123",
        "",
    ] {
        let err = pricing.resolve(name).expect_err(name);
        assert_eq!(err.name(), name);
    }
    assert!(unknown_model_count() >= before + 11);
}

// ---------------------------------------------------------------------------------------
// Unknown models: error, counter, once-per-model warning
// ---------------------------------------------------------------------------------------

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<(String, String)>>>);

impl tracing::Subscriber for Captured {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        struct Model(String);
        impl tracing::field::Visit for Model {
            fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
                if field.name() == "model" {
                    self.0 = value.to_owned();
                }
            }
            fn record_debug(&mut self, _: &tracing::field::Field, _: &dyn std::fmt::Debug) {}
        }
        let mut model = Model(String::new());
        event.record(&mut model);
        self.0
            .lock()
            .unwrap()
            .push((event.metadata().name().to_owned(), model.0));
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[test]
fn unknown_model_errors_counts_and_warns_once() {
    let captured = Captured::default();
    let name = "acme-llm-unknown-to-the-table-7f3a";
    let other = "acme-llm-unknown-to-the-table-9c1e";
    let before = unknown_model_count();
    tracing::subscriber::with_default(captured.clone(), || {
        for _ in 0..5 {
            let err = Pricing::builtin().resolve(name).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("unknown model `{name}`: it is not in the pricing table")
            );
        }
        // No cost at all — never a silent $0.
        assert_eq!(
            Pricing::builtin().cost(name, &Usage::from_openai(10, 10, 0, 0)),
            None
        );
        assert!(Pricing::builtin().resolve(other).is_err());
    });
    // Other tests run in parallel and may also miss, hence >=.
    assert!(unknown_model_count() >= before + 7);
    let events = captured.0.lock().unwrap();
    let warnings: Vec<_> = events
        .iter()
        .filter(|(n, _)| n == UNKNOWN_MODEL_EVENT)
        .collect();
    assert_eq!(warnings.len(), 2, "{events:?}");
    assert_eq!(warnings[0].1, name);
    assert_eq!(warnings[1].1, other);
}

#[test]
fn lookup_does_not_count_or_warn() {
    let captured = Captured::default();
    let name = "acme-llm-only-looked-up-4d2b";
    tracing::subscriber::with_default(captured.clone(), || {
        assert!(Pricing::builtin().lookup(name).is_none());
        assert_eq!(
            Pricing::builtin()
                .lookup("openai/gpt-4o-2024-08-06")
                .unwrap()
                .model(),
            "gpt-4o"
        );
    });
    assert!(captured.0.lock().unwrap().is_empty());
    // The first `resolve` of the name still warns: `lookup` did not use up the warning.
    tracing::subscriber::with_default(captured.clone(), || {
        assert!(Pricing::builtin().resolve(name).is_err());
    });
    assert_eq!(captured.0.lock().unwrap().len(), 1);
}

// ---------------------------------------------------------------------------------------
// Pricing files
// ---------------------------------------------------------------------------------------

#[track_caller]
fn toml_error(text: &str) -> (usize, String) {
    let e = Pricing::from_toml_str(text).expect_err("must be rejected");
    assert!(e.line >= 1 && e.column >= 1);
    (e.line, e.reason)
}

#[track_caller]
fn json_error(text: &str) -> (usize, String) {
    let e = Pricing::from_json_str(text).expect_err("must be rejected");
    assert!(e.line >= 1 && e.column >= 1);
    (e.line, e.reason)
}

#[test]
fn malformed_toml_names_line_and_reason() {
    // Syntax error.
    let (line, reason) = toml_error("[models.\"a\"]\ninput = 1.0\noutput = = 2\n");
    assert_eq!(line, 3, "{reason}");

    // Negative price.
    let (line, reason) = toml_error(
        "[models.\"a\"]\ninput = 1.0\noutput = 2.0\n\n[models.\"b\"]\ninput = -1.5\noutput = 2.0\n",
    );
    assert_eq!(line, 6, "{reason}");
    assert!(
        reason.contains("price must be a finite number >= 0, got -1.5"),
        "{reason}"
    );

    // NaN.
    let (line, reason) = toml_error("[models.\"a\"]\ninput = nan\noutput = 2.0\n");
    assert_eq!(line, 2, "{reason}");
    assert!(reason.contains("got NaN"), "{reason}");

    // Missing output price.
    let (line, reason) =
        toml_error("[meta]\ndate = \"2026-01-01\"\n\n[models.\"a\"]\ninput = 1.0\n");
    assert!(reason.contains("missing field `output`"), "{reason}");
    assert_eq!(line, 4, "{reason}");

    // A misspelt field is an error, not silently ignored.
    let (line, reason) =
        toml_error("[models.\"a\"]\ninput = 1.0\noutput = 2.0\ncache_raed = 0.1\n");
    assert!(reason.contains("unknown field `cache_raed`"), "{reason}");
    assert_eq!(line, 4, "{reason}");

    // Prices per 1K tokens are refused rather than misread.
    let (line, reason) = toml_error("[meta]\nunit = \"1K tokens\"\n");
    assert_eq!(line, 2, "{reason}");
    assert!(reason.contains("unit must be"), "{reason}");

    // An alias to nothing.
    let (line, reason) =
        toml_error("[models.\"a\"]\ninput = 1.0\noutput = 2.0\n\n[aliases]\n\"b\" = \"c\"\n");
    assert_eq!(line, 6, "{reason}");
    assert!(
        reason.contains("alias `b` points to `c`, which is not a model"),
        "{reason}"
    );

    // Two tiers with one threshold.
    let (line, reason) = toml_error(
        "[models.\"a\"]\ninput = 1.0\noutput = 2.0\n[[models.\"a\".tiers]]\nabove_input_tokens = 10\ninput = 2\noutput = 4\n[[models.\"a\".tiers]]\nabove_input_tokens = 10\ninput = 3\noutput = 5\n",
    );
    assert!(reason.contains("same `above_input_tokens`"), "{reason}");
    assert!(line >= 1);
}

#[test]
fn malformed_json_names_line_and_reason() {
    // Syntax error: trailing comma on line 3.
    let (line, reason) =
        json_error("{\n  \"models\": {\n    \"a\": {\"input\": 1, \"output\": 2},\n  }\n}");
    assert_eq!(line, 4, "{reason}");

    // Negative price on line 4.
    let (line, reason) = json_error(
        "{\n  \"models\": {\n    \"a\": {\"input\": 1, \"output\": 2},\n    \"b\": {\"input\": 1, \"output\": -2}\n  }\n}",
    );
    assert_eq!(line, 4, "{reason}");
    assert!(
        reason.contains("price must be a finite number >= 0, got -2"),
        "{reason}"
    );

    // Missing output price.
    let (line, reason) = json_error("{\n  \"models\": {\n    \"a\": {\"input\": 1}\n  }\n}");
    assert_eq!(line, 3, "{reason}");
    assert!(reason.contains("missing field `output`"), "{reason}");

    // Not a number.
    let (line, reason) = json_error("{\"models\": {\"a\": {\"input\": \"1.0\", \"output\": 2}}}");
    assert_eq!(line, 1);
    assert!(reason.contains("invalid type"), "{reason}");

    // The reason does not repeat the position.
    assert!(!reason.contains(" at line "), "{reason}");
}

#[test]
fn pricing_file_error_display_is_pinned() {
    let dir = temp_dir("display");
    let path = dir.join("prices.toml");
    std::fs::write(&path, "[models.\"a\"]\ninput = -1\noutput = 2\n").unwrap();
    let err = Pricing::from_file(&path).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "pricing file `{}`, line 2, column 9: price must be a finite number >= 0, got -1",
            path.display()
        )
    );
    let PricingError::Invalid(e) = err else {
        panic!("wrong variant")
    };
    assert_eq!(
        (e.path.as_deref(), e.line, e.column),
        (Some(path.as_path()), 2, 9)
    );

    let missing = dir.join("missing.json");
    let err = Pricing::from_file(&missing).unwrap_err();
    assert!(matches!(err, PricingError::Io { .. }), "{err}");
    assert!(
        err.to_string().starts_with("cannot read pricing file"),
        "{err}"
    );

    let err = Pricing::from_file(dir.join("prices.yaml")).unwrap_err();
    assert!(
        matches!(err, PricingError::UnsupportedFormat { .. }),
        "{err}"
    );
    assert!(
        err.to_string().ends_with("must end in .json or .toml"),
        "{err}"
    );
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("spanforge-cost-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const OVERRIDES_TOML: &str = r#"
[meta]
date = "2026-12-01"
source = "negotiated contract"

# A negotiated discount on gpt-4o replaces the whole entry.
[models."gpt-4o"]
provider = "openai"
input = 2.00
cache_read = 1.00
output = 8.00

# A self-hosted model.
[models."acme-ft-7b"]
input = 0.05
output = 0.10

[aliases]
# An alias may point at a built-in model.
"prod-chat" = "claude-sonnet-4-5"
"#;

#[test]
fn override_file_merges_over_builtin() {
    let dir = temp_dir("overrides");
    let path = dir.join("prices.toml");
    std::fs::write(&path, OVERRIDES_TOML).unwrap();
    let pricing = Pricing::builtin().with_overrides_from_file(&path).unwrap();

    // Overridden: 1,000,000 × 2.00 / 1e6 = 2.00
    let usage = Usage::from_openai(1_000_000, 0, 0, 0);
    assert_cost(
        &pricing.cost("azure/gpt-4o-2024-08-06", &usage).unwrap(),
        2.00,
    );
    // Built-in entries are still there, and the built-in table is unchanged (2.50).
    assert_cost(&pricing.cost("gpt-4o-mini", &usage).unwrap(), 0.15);
    assert_cost(&Pricing::builtin().cost("gpt-4o", &usage).unwrap(), 2.50);
    // Added model and alias.
    assert_cost(&pricing.cost("acme-ft-7b", &usage).unwrap(), 0.05);
    assert_eq!(
        pricing.resolve("prod-chat").unwrap().model(),
        "claude-sonnet-4-5"
    );
    assert_eq!(pricing.len(), Pricing::builtin().len() + 1);
    // Metadata from the override wins where set.
    assert_eq!(pricing.meta().date.as_deref(), Some("2026-12-01"));
    assert_eq!(pricing.meta().currency.as_deref(), Some("USD"));

    // The same document as JSON.
    let json = r#"{"models": {"gpt-4o": {"input": 2.0, "output": 8.0}}, "aliases": {"prod-chat": "claude-sonnet-4-5"}}"#;
    let pricing = Pricing::builtin()
        .with_overrides_from_str(json, PricingFormat::Json)
        .unwrap();
    assert_cost(&pricing.cost("gpt-4o", &usage).unwrap(), 2.00);
    assert_eq!(
        pricing.resolve("prod-chat").unwrap().model(),
        "claude-sonnet-4-5"
    );

    // Standing alone, the alias target does not exist.
    assert!(Pricing::from_file(&path).is_err());
}

#[test]
fn override_alias_cannot_shadow_a_model() {
    let err = Pricing::builtin()
        .with_overrides_from_str(
            "[aliases]\n\"gpt-4o\" = \"gpt-4o-mini\"\n",
            PricingFormat::Toml,
        )
        .unwrap_err();
    assert_eq!(err.line, 2);
    assert!(err.reason.contains("is a model"), "{err}");
}

#[test]
fn from_env_reads_the_pricing_file() {
    let dir = temp_dir("env");
    let path = dir.join("prices.json");
    std::fs::write(
        &path,
        r#"{"models": {"acme-env-model": {"input": 1, "output": 2}}}"#,
    )
    .unwrap();
    // SAFETY: this is the only test in this binary that reads or writes the environment.
    unsafe { std::env::set_var(Pricing::ENV_VAR, &path) };
    let pricing = Pricing::from_env();
    unsafe { std::env::remove_var(Pricing::ENV_VAR) };
    let pricing = pricing.unwrap();
    assert!(pricing.get("acme-env-model").is_some());
    assert!(pricing.get("gpt-4o").is_some());
    assert_eq!(Pricing::from_env().unwrap().len(), Pricing::builtin().len());
}

#[test]
fn prices_in_code() {
    let mut pricing = Pricing::builtin().clone();
    pricing
        .insert(
            "acme-large",
            ModelPrice::new(1.0, 2.0)
                .with_provider("acme")
                .with_cache_read(0.1)
                .with_tier(PriceTier::new(100_000, 2.0, 4.0).with_cache_read(0.2)),
        )
        .unwrap()
        .insert_alias("acme-large-latest", "acme-large")
        .unwrap();
    // Tier: 200,000 × 2 / 1e6 = 0.4
    assert_cost(
        &pricing
            .cost(
                "acme-large-latest",
                &Usage {
                    input: 200_000,
                    ..Usage::default()
                },
            )
            .unwrap(),
        0.4,
    );
    assert!(Pricing::builtin().get("acme-large").is_none());

    let err = pricing
        .insert("bad", ModelPrice::new(-1.0, 2.0))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid price for model `bad`: `input` price must be a finite number >= 0, got -1"
    );
    assert!(
        pricing
            .insert("bad", ModelPrice::new(1.0, f64::NAN))
            .is_err()
    );
    assert!(pricing.insert("", ModelPrice::new(1.0, 1.0)).is_err());
    assert!(pricing.insert_alias("x", "no-such-model").is_err());
    assert!(pricing.insert_alias("gpt-4o", "gpt-4o-mini").is_err());

    // A model replaces an alias of the same name.
    pricing
        .insert("acme-large-latest", ModelPrice::new(9.0, 9.0))
        .unwrap();
    assert_eq!(
        pricing.resolve("acme-large-latest").unwrap().matched(),
        MatchKind::Exact
    );
    assert_eq!(
        pricing
            .aliases()
            .filter(|(a, _)| *a == "acme-large-latest")
            .count(),
        0
    );

    // merge: the other table's entries win.
    let other =
        Pricing::from_json_str(r#"{"models": {"gpt-4o": {"input": 1, "output": 1}}}"#).unwrap();
    let merged = Pricing::builtin().merge(&other).unwrap();
    assert_eq!(merged.get("gpt-4o").unwrap().input(), 1.0);
}

proptest! {
    #[test]
    fn resolve_never_panics(name in "\\PC{0,40}") {
        let _ = Pricing::builtin().lookup(&name);
    }

    #[test]
    fn resolve_never_panics_on_name_shaped_input(
        prefix in "(openai/|azure/|bedrock/|us\\.|anthropic\\.|vertex_ai/|models/|)",
        body in "[a-z0-9.@:-]{0,30}",
    ) {
        let _ = Pricing::builtin().lookup(&format!("{prefix}{body}"));
    }
}

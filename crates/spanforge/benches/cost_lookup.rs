//! Model-name resolution for every name form (goal: under 200 ns each), and a full
//! resolve + cost computation.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use spanforge::cost::{Pricing, Usage};

fn resolve(c: &mut Criterion) {
    let pricing = Pricing::builtin();
    let mut group = c.benchmark_group("cost_resolve");
    for (form, name) in [
        ("exact", "gpt-4o"),
        ("provider_prefixed", "azure/gpt-4o"),
        ("dated", "gpt-4o-mini-2024-07-18"),
        ("at_versioned", "claude-3-5-sonnet@20240620"),
        (
            "bedrock",
            "bedrock/us.anthropic.claude-sonnet-4-20250514-v1:0",
        ),
        ("alias", "claude-3-5-sonnet-latest"),
        ("upper_case", "GPT-4o"),
        ("unknown", "acme-unknown-model-2024-01-01"),
    ] {
        // Warm up: the unknown model's one-time warning is not part of the measurement.
        let _ = pricing.resolve(name);
        group.bench_function(form, |b| {
            b.iter(|| {
                let _ = black_box(pricing.resolve(black_box(name)));
            })
        });
    }
    group.finish();
}

fn cost(c: &mut Criterion) {
    let pricing = Pricing::builtin();
    let usage = Usage::from_anthropic(3_000, 1_000, 50_000, 10_000);
    c.bench_function("cost_resolve_and_compute", |b| {
        b.iter(|| {
            black_box(pricing.cost(black_box("claude-sonnet-4-5-20250929"), black_box(&usage)))
        })
    });
}

criterion_group!(benches, resolve, cost);
criterion_main!(benches);

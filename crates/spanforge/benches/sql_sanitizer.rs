//! SQL sanitizer throughput (goal: under 1 µs for a typical ~200-byte query).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use spanforge::db::sanitize::sanitize;

/// A typical ~200-byte application query: a join, string and numeric literals, an IN list.
const TYPICAL: &str = "SELECT u.id, u.email, o.total FROM users u JOIN orders o ON o.user_id = u.id \
    WHERE u.email = 'ann@example.com' AND o.status IN ('paid', 'shipped', 'refunded') \
    AND o.total > 100.50 ORDER BY o.created_at DESC LIMIT 20";

/// A parameterized insert as a driver sends it.
const INSERT: &str = "INSERT INTO runs (prompt_name, prompt_version, model, input_tokens, output_tokens, cost) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("sql_sanitize");
    for (name, sql) in [("typical_200b", TYPICAL), ("parameterized_insert", INSERT)] {
        group.throughput(Throughput::Bytes(sql.len() as u64));
        group.bench_function(name, |b| b.iter(|| sanitize(black_box(sql))));
    }
    let long = format!(
        "SELECT * FROM events WHERE id IN ({}) AND note = 'x'",
        (0..500)
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    group.throughput(Throughput::Bytes(long.len() as u64));
    group.bench_function("in_list_500", |b| b.iter(|| sanitize(black_box(&long))));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

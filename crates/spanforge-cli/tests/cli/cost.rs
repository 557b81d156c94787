//! `spanforge cost` against the local store: its numbers equal the sums of the stored spans.

use std::collections::BTreeMap;
use std::process::Command;

use crate::support::*;

fn cost(db: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_spanforge"))
        .arg("cost")
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .expect("spanforge runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn cost_equals_the_sums_of_the_stored_spans_in_every_format() {
    let backend = backend().await;
    let now = now_ns();
    // 30 calls over three prompts and two models, with costs that do not add up exactly in
    // binary floating point.
    let mut expected: BTreeMap<(String, String), (u64, u64, f64)> = BTreeMap::new();
    let mut spans = Vec::new();
    for n in 0..30u64 {
        let prompt = ["greet", "summarize", "classify"][(n % 3) as usize];
        let version = (n % 2 + 1) as i64;
        let model = if n % 5 == 0 { "gpt-4o" } else { "gpt-4o-mini" };
        let cost = 0.000_1 * (n + 1) as f64 + 0.000_000_3;
        let input = 100 + n as i64;
        spans.push(llm_span(
            500 + n,
            1,
            None,
            now + n,
            10,
            ("openai", model),
            (prompt, version),
            (input, 7, 0),
            cost,
        ));
        let entry = expected
            .entry((prompt.to_owned(), version.to_string()))
            .or_default();
        entry.0 += 1;
        entry.1 += input as u64;
        entry.2 += cost;
    }
    backend.send(&export("svc", spans)).await;

    let (ok, json, stderr) = cost(&backend.db_path(), &["--format", "json"]);
    assert!(ok, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(report["group"], "prompt");
    let mut got: BTreeMap<(String, String), (u64, u64, f64)> = BTreeMap::new();
    for row in report["rows"].as_array().unwrap() {
        got.insert(
            (
                row["prompt_name"].as_str().unwrap().to_owned(),
                row["prompt_version"].as_str().unwrap().to_owned(),
            ),
            (
                row["calls"].as_u64().unwrap(),
                row["input_tokens"].as_u64().unwrap(),
                row["cost_usd"].as_f64().unwrap(),
            ),
        );
    }
    assert_eq!(got.len(), expected.len());
    for (key, (calls, input, cost)) in &expected {
        let (got_calls, got_input, got_cost) = got[key];
        assert_eq!((got_calls, got_input), (*calls, *input), "{key:?}");
        assert!(
            (got_cost - cost).abs() < 1e-12,
            "{key:?}: {got_cost} vs {cost}"
        );
    }
    let total: f64 = expected.values().map(|v| v.2).sum();
    assert!((report["total"]["cost_usd"].as_f64().unwrap() - total).abs() < 1e-12);
    assert_eq!(report["total"]["calls"], 30);

    // By model, as CSV.
    let (ok, csv, stderr) = cost(&backend.db_path(), &["--by", "model", "--format", "csv"]);
    assert!(ok, "{stderr}");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "model,calls,input_tokens,output_tokens,cached_tokens,cost_usd"
    );
    let mini_calls: u64 = lines[1..]
        .iter()
        .find(|l| l.starts_with("gpt-4o-mini,"))
        .unwrap()
        .split(',')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(mini_calls, 24);

    // The table ends with the total.
    let (ok, table, _) = cost(&backend.db_path(), &["--by", "provider", "--since", "1h"]);
    assert!(ok);
    let last = table.lines().last().unwrap();
    assert!(last.starts_with("TOTAL"), "{table}");
    assert!(last.contains(&format!("{total:.6}")), "{table}");
}

#[test]
fn a_missing_store_and_bad_flags_are_clear_errors() {
    let dir = TempDir::new("cost-missing");
    let (ok, _, stderr) = cost(&dir.path("nothing.db"), &[]);
    assert!(!ok);
    assert!(stderr.contains("no store at"), "{stderr}");
    let (ok, _, stderr) = cost(&dir.path("nothing.db"), &["--since", "forever"]);
    assert!(!ok);
    assert!(stderr.contains("ms, s, m, h, d or w"), "{stderr}");
    let (ok, _, stderr) = cost(&dir.path("nothing.db"), &["--by", "team"]);
    assert!(!ok);
    assert!(stderr.contains("prompt"), "{stderr}");
}

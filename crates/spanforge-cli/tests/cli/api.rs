//! The JSON API: filters, the waterfall, per-prompt/model/provider/route LLM numbers that equal
//! the sums of the spans sent, RED per route, and clear 400s.

use std::collections::BTreeMap;

use crate::support::*;

/// Three traces: two successful prompt runs (greet v1, greet v2) and one failing summarize run,
/// with nested spans, plus a health check without LLM calls.
async fn seeded() -> (Backend, u64) {
    let backend = backend().await;
    let now = now_ns();
    let ms = 1_000_000;
    let requests = vec![
        export(
            "prompt-api",
            vec![
                server_span(1, 1, now, 120, ("POST", "/prompts/{name}/run"), 200),
                span(1, 2, Some(1), "SELECT prompts", now + ms, 3),
                llm_span(
                    1,
                    3,
                    Some(1),
                    now + 5 * ms,
                    100,
                    ("openai", "gpt-4o-mini"),
                    ("greet", 1),
                    (1000, 50, 200),
                    0.000_18,
                ),
                span(1, 4, Some(3), "parse answer", now + 100 * ms, 2),
            ],
        ),
        export(
            "prompt-api",
            vec![
                server_span(
                    2,
                    1,
                    now + 200 * ms,
                    300,
                    ("POST", "/prompts/{name}/run"),
                    200,
                ),
                llm_span(
                    2,
                    2,
                    Some(1),
                    now + 201 * ms,
                    250,
                    ("anthropic", "claude-haiku-4-5"),
                    ("greet", 2),
                    (2000, 80, 0),
                    0.0024,
                ),
                llm_span(
                    2,
                    3,
                    Some(1),
                    now + 460 * ms,
                    30,
                    ("openai", "gpt-4o-mini"),
                    ("greet", 2),
                    (500, 10, 0),
                    0.000_081,
                ),
            ],
        ),
        export(
            "prompt-api",
            vec![
                server_span(
                    3,
                    1,
                    now + 600 * ms,
                    50,
                    ("POST", "/prompts/{name}/run"),
                    502,
                ),
                failed(
                    llm_span(
                        3,
                        2,
                        Some(1),
                        now + 601 * ms,
                        40,
                        ("openai", "gpt-4o-mini"),
                        ("summarize", 1),
                        (0, 0, 0),
                        0.0,
                    ),
                    "provider returned 500",
                ),
            ],
        ),
        export(
            "prompt-api",
            vec![server_span(
                4,
                1,
                now + 700 * ms,
                1,
                ("GET", "/health"),
                200,
            )],
        ),
    ];
    for request in &requests {
        backend.send(request).await;
    }
    (backend, now)
}

fn ids(list: &serde_json::Value) -> Vec<String> {
    list["traces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["trace_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn trace_list_filters() {
    let (backend, _) = seeded().await;
    let all = backend.api("/api/traces").await;
    assert_eq!(
        ids(&all),
        [trace_hex(4), trace_hex(3), trace_hex(2), trace_hex(1)],
        "newest first"
    );
    let first = &all["traces"][3];
    assert_eq!(first["name"], "POST /prompts/{name}/run");
    assert_eq!(first["route"], "/prompts/{name}/run");
    assert_eq!(first["span_count"], 4);
    assert_eq!(first["llm_calls"], 1);
    assert_eq!(first["duration_ms"], 120.0);

    assert_eq!(
        ids(&backend.api("/api/traces?status=error").await),
        [trace_hex(3)]
    );
    assert_eq!(
        ids(&backend.api("/api/traces?llm=false").await),
        [trace_hex(4)]
    );
    assert_eq!(
        ids(&backend.api("/api/traces?route=/health").await),
        [trace_hex(4)]
    );
    assert_eq!(
        ids(&backend.api("/api/traces?min_ms=200").await),
        [trace_hex(2)]
    );
    assert_eq!(
        ids(&backend.api("/api/traces?max_ms=60&llm=true").await),
        [trace_hex(3)]
    );
    assert_eq!(
        ids(&backend.api("/api/traces?service=other").await),
        Vec::<String>::new()
    );
    assert_eq!(ids(&backend.api("/api/traces?limit=2").await).len(), 2);
    assert_eq!(ids(&backend.api("/api/traces?since=1h").await).len(), 4);

    let meta = backend.api("/api/meta").await;
    assert_eq!(meta["services"], serde_json::json!(["prompt-api"]));
    assert_eq!(
        meta["routes"],
        serde_json::json!(["/health", "/prompts/{name}/run"])
    );
}

#[tokio::test]
async fn the_waterfall_nests_spans_depth_first() {
    let (backend, _) = seeded().await;
    let trace = backend.api(&format!("/api/traces/{}", trace_hex(1))).await;
    let shape: Vec<(String, u64, Option<String>)> = trace["spans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["span_id"].as_str().unwrap().to_owned(),
                s["depth"].as_u64().unwrap(),
                s["parent_span_id"].as_str().map(str::to_owned),
            )
        })
        .collect();
    assert_eq!(
        shape,
        [
            (span_hex(1), 0, None),
            (span_hex(2), 1, Some(span_hex(1))),
            (span_hex(3), 1, Some(span_hex(1))),
            (span_hex(4), 2, Some(span_hex(3))),
        ]
    );
    let llm = &trace["spans"][2];
    assert_eq!(llm["kind"], "client");
    assert_eq!(llm["offset_ms"], 5.0);
    assert_eq!(llm["attributes"]["gen_ai.prompt.name"], "greet");
    assert_eq!(llm["attributes"]["gen_ai.usage.input_tokens"], 1000);
    assert_eq!(llm["resource"]["service.name"], "prompt-api");

    let failed = backend.api(&format!("/api/traces/{}", trace_hex(3))).await;
    // A later request of the same process reuses the stored resource.
    assert_eq!(failed["spans"][0]["resource"]["service.name"], "prompt-api");
    assert_eq!(failed["spans"][1]["status"], "error");
    assert_eq!(
        failed["spans"][1]["status_message"],
        "provider returned 500"
    );
}

#[tokio::test]
async fn llm_numbers_equal_the_sums_of_the_spans() {
    let (backend, _) = seeded().await;
    let by_prompt = backend.api("/api/llm?group=prompt").await;
    let rows: BTreeMap<(String, String), &serde_json::Value> = by_prompt["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                (
                    r["prompt_name"].as_str().unwrap().to_owned(),
                    r["prompt_version"].as_str().unwrap().to_owned(),
                ),
                r,
            )
        })
        .collect();
    let greet2 = rows[&("greet".to_owned(), "2".to_owned())];
    assert_eq!(greet2["calls"], 2);
    assert_eq!(greet2["input_tokens"], 2500);
    assert_eq!(greet2["output_tokens"], 90);
    assert_eq!(greet2["cost_usd"].as_f64().unwrap(), 0.0024 + 0.000_081);
    assert_eq!(
        greet2["avg_cost_usd"].as_f64().unwrap(),
        (0.0024 + 0.000_081) / 2.0
    );
    assert_eq!(greet2["latency_p50_ms"], 30.0);
    assert_eq!(greet2["latency_p95_ms"], 250.0);
    assert_eq!(
        greet2["model"],
        serde_json::Value::Null,
        "only the grouping's keys are set"
    );
    let greet1 = rows[&("greet".to_owned(), "1".to_owned())];
    assert_eq!(greet1["cached_tokens"], 200);
    let summarize = rows[&("summarize".to_owned(), "1".to_owned())];
    assert_eq!(summarize["errors"], 1);
    assert_eq!(summarize["error_rate"], 1.0);
    assert_eq!(
        by_prompt["rows"][0]["prompt_version"], "2",
        "most expensive first"
    );
    let totals = &by_prompt["totals"];
    assert_eq!(totals["calls"], 4);
    assert_eq!(totals["errors"], 1);
    assert_eq!(totals["input_tokens"], 3500);
    let expected_total = 0.000_18 + 0.0024 + 0.000_081 + 0.0;
    assert!((totals["cost_usd"].as_f64().unwrap() - expected_total).abs() < 1e-15);

    let by_provider = backend.api("/api/llm?group=provider").await;
    let providers: BTreeMap<&str, u64> = by_provider["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["provider"].as_str().unwrap(),
                r["calls"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(providers, BTreeMap::from([("anthropic", 1), ("openai", 3)]));
    let by_model = backend.api("/api/llm?group=model&since=1h").await;
    assert_eq!(by_model["rows"].as_array().unwrap().len(), 2);
    let by_route = backend.api("/api/llm?group=route").await;
    assert_eq!(by_route["rows"][0]["route"], "/prompts/{name}/run");
    assert_eq!(by_route["rows"][0]["calls"], 4);
}

#[tokio::test]
async fn services_show_rate_errors_and_latency_per_route() {
    let (backend, _) = seeded().await;
    let services = backend.api("/api/services").await;
    let run = &services["routes"][0];
    assert_eq!(run["service"], "prompt-api");
    assert_eq!(run["method"], "POST");
    assert_eq!(run["route"], "/prompts/{name}/run");
    assert_eq!(run["requests"], 3);
    assert_eq!(run["errors"], 1);
    assert_eq!(run["p50_ms"], 120.0);
    assert_eq!(run["p95_ms"], 300.0);
    assert_eq!(services["routes"][1]["route"], "/health");
}

#[tokio::test]
async fn bad_parameters_get_400_naming_the_parameter() {
    let (backend, _) = seeded().await;
    for (path, parameter) in [
        ("/api/traces?status=maybe", "status"),
        ("/api/traces?limit=0", "limit"),
        ("/api/traces?min_ms=-5", "min_ms"),
        ("/api/traces?since=yesterday", "since"),
        ("/api/llm?group=team", "group"),
        ("/api/services?since=5y", "since"),
        ("/api/traces/not-a-trace-id", "trace_id"),
    ] {
        let response = reqwest::get(format!("{}{path}", backend.ui_url()))
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{path}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert!(
            body["error"].as_str().unwrap().contains(parameter),
            "{path}: {body}"
        );
    }
    let missing = reqwest::get(format!(
        "{}/api/traces/{}",
        backend.ui_url(),
        trace_hex(999)
    ))
    .await
    .unwrap();
    assert_eq!(missing.status(), 404);
    let unknown = reqwest::get(format!("{}/api/nothing", backend.ui_url()))
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
}

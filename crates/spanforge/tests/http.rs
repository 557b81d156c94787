//! HTTP instrumentation against real sockets: axum servers with the layer, a reqwest
//! client with the middleware, the OTLP test receiver collecting what they emit.
//!
//! One pipeline for the whole binary (the OpenTelemetry globals are per process); each
//! test uses its own routes and finds its spans by trace id.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::{any, get};
use spanforge::health::{Health, probes};
use spanforge::http::ServerLayer;
use spanforge_testkit::ReceivedSpan;
use spanforge_testkit::otlp::{SpanKind, StatusCode as SpanStatus};

const WAIT: Duration = Duration::from_secs(10);

mod common;

fn shared() -> &'static common::Shared {
    common::shared("http-test")
}

async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    addr
}

async fn span_where(what: &str, predicate: impl Fn(&ReceivedSpan) -> bool) -> ReceivedSpan {
    shared()
        .receiver
        .wait_for_span_matching(what, WAIT, predicate)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

async fn server_span(route_or_path: &str) -> ReceivedSpan {
    span_where(route_or_path, |s| {
        s.kind == SpanKind::Server
            && (s.str_attr("http.route") == Some(route_or_path)
                || s.str_attr("url.path") == Some(route_or_path))
    })
    .await
}

// ---------------------------------------------------------------------------------------

#[tracing::instrument]
async fn load_profile(id: &str) -> String {
    tracing::info!("loading profile");
    format!("profile {id}")
}

#[tokio::test]
async fn one_trace_across_two_services() {
    shared();
    let b = serve(
        Router::new()
            .route(
                "/b/profiles/{id}",
                get(|Path(id): Path<String>| async move { load_profile(&id).await }),
            )
            .layer(ServerLayer::default()),
    )
    .await;
    let client = spanforge::http::client(reqwest::Client::new());
    let a = serve(
        Router::new()
            .route(
                "/a/profile",
                get(move || {
                    let client = client.clone();
                    async move {
                        let step = tracing::info_span!("fetch_from_b");
                        tracing::Instrument::instrument(
                            async {
                                client
                                    .get(format!("http://{b}/b/profiles/7"))
                                    .send()
                                    .await
                                    .unwrap()
                                    .text()
                                    .await
                                    .unwrap()
                            },
                            step,
                        )
                        .await
                    }
                }),
            )
            .layer(ServerLayer::default()),
    )
    .await;

    let body = reqwest::get(format!("http://{a}/a/profile"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body, "profile 7");

    let a_server = server_span("/a/profile").await;
    let step = span_where("fetch_from_b", |s| {
        s.name == "fetch_from_b" && s.trace_id == a_server.trace_id
    })
    .await;
    let client_span = span_where("client span", |s| {
        s.kind == SpanKind::Client && s.trace_id == a_server.trace_id
    })
    .await;
    let b_server = server_span("/b/profiles/{id}").await;
    let b_inner = span_where("load_profile", |s| {
        s.name == "load_profile" && s.trace_id == a_server.trace_id
    })
    .await;

    assert!(
        a_server.is_root(),
        "A's server span is the root: {a_server:?}"
    );
    assert_eq!(a_server.name, "GET /a/profile");
    assert_eq!(
        step.parent_span_id.as_deref(),
        Some(a_server.span_id.as_str()),
        "#[instrument]-style span under the server span"
    );
    assert_eq!(
        client_span.parent_span_id.as_deref(),
        Some(step.span_id.as_str())
    );
    assert_eq!(client_span.name, "GET");
    assert_eq!(
        b_server.trace_id, a_server.trace_id,
        "one trace across both services"
    );
    assert_eq!(
        b_server.parent_span_id.as_deref(),
        Some(client_span.span_id.as_str())
    );
    assert_eq!(
        b_inner.parent_span_id.as_deref(),
        Some(b_server.span_id.as_str())
    );
    assert_eq!(
        client_span.str_attr("url.full"),
        Some(format!("http://{b}/b/profiles/7").as_str())
    );
    assert_eq!(client_span.str_attr("server.address"), Some("127.0.0.1"));
    assert_eq!(
        client_span.int_attr("server.port"),
        Some(i64::from(b.port()))
    );
    assert_eq!(client_span.int_attr("http.response.status_code"), Some(200));

    // The log inside B's handler carries B's inner span ids.
    let log = shared()
        .receiver
        .wait_for_log_matching("loading profile", WAIT, |l| {
            l.body == "loading profile" && l.trace_id.as_deref() == Some(a_server.trace_id.as_str())
        })
        .await
        .unwrap();
    assert_eq!(log.span_id.as_deref(), Some(b_inner.span_id.as_str()));
}

#[tokio::test]
async fn routes_are_templated_and_unmatched_requests_get_no_route() {
    shared();
    let addr = serve(
        Router::new()
            .route("/tmpl/users/{id}", get(|| async { "user" }))
            .layer(ServerLayer::default()),
    )
    .await;
    let client = reqwest::Client::new();
    let res = client
        .get(format!("http://{addr}/tmpl/users/42"))
        .header("user-agent", "spanforge-test/1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let span = server_span("/tmpl/users/{id}").await;
    assert_eq!(span.name, "GET /tmpl/users/{id}");
    assert_eq!(span.str_attr("url.path"), Some("/tmpl/users/42"));
    assert_eq!(span.str_attr("http.request.method"), Some("GET"));
    assert_eq!(span.str_attr("url.scheme"), Some("http"));
    assert_eq!(span.str_attr("server.address"), Some("127.0.0.1"));
    assert_eq!(span.int_attr("server.port"), Some(i64::from(addr.port())));
    assert_eq!(span.str_attr("client.address"), Some("127.0.0.1"));
    assert_eq!(
        span.str_attr("user_agent.original"),
        Some("spanforge-test/1")
    );
    assert_eq!(span.str_attr("network.protocol.version"), Some("1.1"));
    assert_eq!(span.int_attr("http.response.status_code"), Some(200));
    assert_eq!(span.int_attr("http.response.body.size"), Some(4));
    assert_eq!(span.status_code, SpanStatus::Unset);

    let res = client
        .get(format!("http://{addr}/tmpl/nothing/here"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let span = server_span("/tmpl/nothing/here").await;
    assert_eq!(span.name, "GET");
    assert_eq!(span.str_attr("http.route"), None);
    assert_eq!(span.int_attr("http.response.status_code"), Some(404));
    assert_eq!(
        span.status_code,
        SpanStatus::Unset,
        "a 404 is not a server error"
    );
    assert_eq!(span.str_attr("error.type"), None);
}

#[tokio::test]
async fn client_errors_are_not_server_errors_but_5xx_are() {
    shared();
    let addr = serve(
        Router::new()
            .route("/status/bad", get(|| async { StatusCode::BAD_REQUEST }))
            .route(
                "/status/broken",
                get(|| async { StatusCode::SERVICE_UNAVAILABLE }),
            )
            .layer(ServerLayer::default()),
    )
    .await;
    reqwest::get(format!("http://{addr}/status/bad"))
        .await
        .unwrap();
    reqwest::get(format!("http://{addr}/status/broken"))
        .await
        .unwrap();
    let bad = server_span("/status/bad").await;
    assert_eq!(bad.int_attr("http.response.status_code"), Some(400));
    assert_eq!(bad.status_code, SpanStatus::Unset);
    assert_eq!(bad.str_attr("error.type"), None);
    let broken = server_span("/status/broken").await;
    assert_eq!(broken.int_attr("http.response.status_code"), Some(503));
    assert_eq!(broken.status_code, SpanStatus::Error);
    assert_eq!(broken.str_attr("error.type"), Some("503"));

    // The client side treats 4xx as errors too.
    let client = spanforge::http::client(reqwest::Client::new());
    let root = tracing::info_span!("client_4xx_root");
    let res = tracing::Instrument::instrument(
        client.get(format!("http://{addr}/status/bad")).send(),
        root.clone(),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 400);
    drop(root);
    let root = span_where("client_4xx_root", |s| s.name == "client_4xx_root").await;
    let client_span = span_where("client span of client_4xx_root", |s| {
        s.kind == SpanKind::Client && s.parent_span_id.as_deref() == Some(root.span_id.as_str())
    })
    .await;
    assert_eq!(client_span.status_code, SpanStatus::Error);
    assert_eq!(client_span.str_attr("error.type"), Some("400"));
}

#[tokio::test]
async fn unknown_methods_become_other_with_the_original_kept() {
    shared();
    let addr = serve(
        Router::new()
            .route("/purge/cache", any(|| async { "purged" }))
            .layer(ServerLayer::default()),
    )
    .await;
    let res = reqwest::Client::new()
        .request(
            reqwest::Method::from_bytes(b"PURGE").unwrap(),
            format!("http://{addr}/purge/cache"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let span = server_span("/purge/cache").await;
    assert_eq!(span.str_attr("http.request.method"), Some("_OTHER"));
    assert_eq!(span.str_attr("http.request.method_original"), Some("PURGE"));
    assert_eq!(span.name, "HTTP /purge/cache");
}

#[tokio::test]
async fn secrets_are_redacted_from_query_and_url() {
    shared();
    let addr = serve(
        Router::new()
            .route("/redact/search", get(|| async { "ok" }))
            .layer(ServerLayer::default()),
    )
    .await;
    reqwest::get(format!(
        "http://{addr}/redact/search?q=rust&api_key=sk-live-123&token=t0k&sig=abc&page=2"
    ))
    .await
    .unwrap();
    let span = server_span("/redact/search").await;
    let query = span.str_attr("url.query").unwrap();
    assert_eq!(
        query,
        "q=rust&api_key=REDACTED&token=REDACTED&sig=REDACTED&page=2"
    );

    let client = spanforge::http::client(reqwest::Client::new());
    let root = tracing::info_span!("redact_client_root");
    tracing::Instrument::instrument(
        client
            .get(format!(
                "http://user:hunter2@{addr}/redact/search?api_key=sk-live-456&x=1"
            ))
            .send(),
        root.clone(),
    )
    .await
    .unwrap();
    drop(root);
    let root = span_where("redact_client_root", |s| s.name == "redact_client_root").await;
    let client_span = span_where("client span", |s| {
        s.kind == SpanKind::Client && s.parent_span_id.as_deref() == Some(root.span_id.as_str())
    })
    .await;
    let full = client_span.str_attr("url.full").unwrap();
    // reqwest moves `user:pass@` into an Authorization header before middleware runs, so
    // the credentials are gone from the URL; the query secret is redacted by us.
    assert_eq!(
        full,
        format!("http://{addr}/redact/search?api_key=REDACTED&x=1")
    );
    for span in shared().receiver.trace(&root.trace_id) {
        let text = format!("{span:?}");
        assert!(
            !text.contains("hunter2") && !text.contains("sk-live"),
            "secret leaked: {text}"
        );
    }
}

#[tokio::test]
async fn only_allow_listed_headers_are_captured_and_never_credentials() {
    shared();
    let layer = ServerLayer::builder()
        .capture_request_headers(["x-request-id", "authorization", "cookie", "x-api-key"])
        .capture_response_headers(["x-cache", "set-cookie"])
        .trace_id_response_header("x-trace-id")
        .build();
    let addr = serve(
        Router::new()
            .route(
                "/headers/echo",
                get(|| async {
                    (
                        [("x-cache", "hit"), ("set-cookie", "session=secret-cookie")],
                        "ok",
                    )
                }),
            )
            .layer(layer),
    )
    .await;
    let res = reqwest::Client::new()
        .get(format!("http://{addr}/headers/echo"))
        .header("x-request-id", "req-1")
        .header("authorization", "Bearer secret-token")
        .header("cookie", "session=secret-cookie")
        .header("x-api-key", "secret-key")
        .send()
        .await
        .unwrap();
    let returned_trace_id = res.headers()["x-trace-id"].to_str().unwrap().to_owned();
    let span = server_span("/headers/echo").await;
    assert_eq!(
        returned_trace_id, span.trace_id,
        "the trace id is returned to the caller"
    );
    let captured = span
        .attr("http.request.header.x-request-id")
        .expect("allow-listed header");
    assert_eq!(format!("{captured}"), r#"["req-1"]"#);
    assert!(span.attr("http.response.header.x-cache").is_some());
    for key in span.attributes.keys() {
        assert!(
            !key.contains("authorization") && !key.contains("cookie") && !key.contains("api-key"),
            "sensitive header captured: {key}"
        );
    }
    assert!(!format!("{span:?}").contains("secret"), "{span:?}");
}

#[tokio::test]
async fn a_streamed_body_ends_the_span_after_its_last_chunk() {
    shared();
    let addr = serve(
        Router::new()
            .route(
                "/stream/sse",
                get(|| async {
                    let chunks = futures_util::stream::unfold(0u32, |n| async move {
                        if n == 3 {
                            return None;
                        }
                        tokio::time::sleep(Duration::from_millis(150)).await;
                        Some((
                            Ok::<_, std::io::Error>(bytes::Bytes::from(format!(
                                "data: chunk {n}\n\n"
                            ))),
                            n + 1,
                        ))
                    });
                    (
                        [("content-type", "text/event-stream")],
                        Body::from_stream(chunks),
                    )
                }),
            )
            .layer(ServerLayer::default()),
    )
    .await;
    let started = Instant::now();
    let res = reqwest::get(format!("http://{addr}/stream/sse"))
        .await
        .unwrap();
    let headers_after = started.elapsed();
    let body = res.text().await.unwrap();
    let body_after = started.elapsed();
    assert_eq!(body.matches("data: chunk").count(), 3);
    assert!(
        headers_after < Duration::from_millis(150),
        "headers go out before the chunks"
    );
    let span = server_span("/stream/sse").await;
    assert!(
        span.duration() >= Duration::from_millis(440),
        "span lasted {:?}; the body took {body_after:?}",
        span.duration()
    );
    assert_eq!(
        span.int_attr("http.response.body.size"),
        Some(body.len() as i64)
    );
}

#[tokio::test]
async fn a_panicking_handler_is_recorded_as_an_error() {
    shared();
    let addr = serve(
        Router::new()
            .route(
                "/panic/now",
                get(|| async {
                    if std::hint::black_box(true) {
                        panic!("the handler exploded");
                    }
                    "unreachable"
                }),
            )
            .layer(ServerLayer::default()),
    )
    .await;
    let result = reqwest::get(format!("http://{addr}/panic/now")).await;
    assert!(result.is_err(), "the connection is closed by the panic");
    let span = server_span("/panic/now").await;
    assert_eq!(span.status_code, SpanStatus::Error);
    assert_eq!(span.str_attr("error.type"), Some("panic"));
    let event = span.event("exception").expect("exception event");
    assert_eq!(
        event.attributes.get_str("exception.message"),
        Some("the handler exploded")
    );
}

#[tokio::test]
async fn the_duration_histogram_counts_every_request_in_semconv_buckets() {
    shared();
    let addr = serve(
        Router::new()
            .route("/hist/fast", get(|| async { "ok" }))
            .route(
                "/hist/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_millis(120)).await;
                    "ok"
                }),
            )
            .layer(ServerLayer::default()),
    )
    .await;
    for _ in 0..5 {
        reqwest::get(format!("http://{addr}/hist/fast"))
            .await
            .unwrap();
    }
    for _ in 0..2 {
        reqwest::get(format!("http://{addr}/hist/slow"))
            .await
            .unwrap();
    }
    let route_point = |route: &'static str, count: u64| {
        move |m: &spanforge_testkit::ReceivedMetric| {
            m.name == "http.server.request.duration"
                && m.points.iter().any(|p| {
                    p.str_attr("http.route") == Some(route)
                        && p.histogram().is_some_and(|h| h.count == count)
                })
        }
    };
    let metric = shared()
        .receiver
        .wait_for_metric_matching("5 fast and 2 slow", WAIT, |m| {
            route_point("/hist/fast", 5)(m) && route_point("/hist/slow", 2)(m)
        })
        .await
        .unwrap();
    assert_eq!(metric.unit, "s");
    let slow = metric.point_with("http.route", "/hist/slow").unwrap();
    assert_eq!(slow.str_attr("http.request.method"), Some("GET"));
    assert_eq!(slow.int_attr("http.response.status_code"), Some(200));
    let histogram = slow.histogram().unwrap();
    assert_eq!(
        histogram.explicit_bounds,
        vec![
            0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0
        ]
    );
    // Both slow requests took 120 ms or a little more: the (0.1, 0.25] bucket.
    assert_eq!(histogram.bucket_counts[6], 2, "{histogram:?}");
    assert_eq!(histogram.bucket_counts.iter().sum::<u64>(), 2);
    let fast = metric
        .point_with("http.route", "/hist/fast")
        .unwrap()
        .histogram()
        .unwrap();
    assert_eq!(fast.bucket_counts.iter().sum::<u64>(), 5);
    assert!(
        fast.bucket_counts[..6].iter().sum::<u64>() == 5,
        "fast requests under 100 ms: {fast:?}"
    );
}

#[tokio::test]
async fn health_paths_are_excluded_by_default() {
    shared();
    let health = Health::new();
    let addr = serve(
        Router::new()
            .merge(health.router())
            .route("/excl/work", get(|| async { "ok" }))
            .layer(ServerLayer::default()),
    )
    .await;
    reqwest::get(format!("http://{addr}/health")).await.unwrap();
    reqwest::get(format!("http://{addr}/excl/work"))
        .await
        .unwrap();
    let work = server_span("/excl/work").await;
    // The health request was sent first; its span would have been exported with or before this one.
    assert!(
        shared()
            .receiver
            .spans()
            .iter()
            .all(|s| s.str_attr("url.path") != Some("/health"))
    );
    assert_eq!(work.name, "GET /excl/work");
}

#[tokio::test]
async fn readiness_names_the_failing_probe_and_times_out_hanging_ones() {
    shared();
    let health = Health::new()
        .probe("database", true, Duration::from_secs(1), || async {
            Ok::<(), String>(())
        })
        .probe(
            "redis",
            true,
            Duration::from_secs(1),
            probes::failing("connection refused", Duration::ZERO),
        )
        .probe("llm", false, Duration::from_millis(200), || async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            Ok::<(), String>(())
        });
    let addr = serve(Router::new().merge(health.router())).await;

    let started = Instant::now();
    let res = reqwest::get(format!("http://{addr}/health/ready"))
        .await
        .unwrap();
    let took = started.elapsed();
    assert_eq!(res.status(), 503);
    assert!(
        took < Duration::from_secs(1),
        "the hanging probe did not hang the endpoint: {took:?}"
    );
    let report: serde_json::Value = res.json().await.unwrap();
    assert_eq!(report["status"], "unavailable");
    let by_name: HashMap<String, serde_json::Value> = report["probes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap().to_owned(), p.clone()))
        .collect();
    assert_eq!(by_name["database"]["status"], "up");
    assert_eq!(by_name["redis"]["status"], "down");
    assert_eq!(by_name["redis"]["error"], "connection refused");
    assert_eq!(by_name["llm"]["status"], "timeout");
    assert_eq!(by_name["llm"]["critical"], false);

    let live = reqwest::get(format!("http://{addr}/health")).await.unwrap();
    assert_eq!(live.status(), 200);

    // The probe results are metrics too.
    let metric = shared()
        .receiver
        .wait_for_metric_matching("probe gauge", WAIT, |m| {
            m.name == "spanforge.health.probe.up" && m.point_with("probe", "redis").is_some()
        })
        .await
        .unwrap();
    assert_eq!(
        metric.point_with("probe", "redis").unwrap().as_i64(),
        Some(0)
    );
    assert_eq!(
        metric.point_with("probe", "database").unwrap().as_i64(),
        Some(1)
    );
}

#[tokio::test]
async fn a_refused_connection_is_a_connect_error_on_the_client_span() {
    shared();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let client = spanforge::http::client(reqwest::Client::new());
    let root = tracing::info_span!("refused_root");
    let result = tracing::Instrument::instrument(
        client.get(format!("http://127.0.0.1:{port}/x")).send(),
        root.clone(),
    )
    .await;
    assert!(result.is_err());
    drop(root);
    let root = span_where("refused_root", |s| s.name == "refused_root").await;
    let span = span_where("client span", |s| {
        s.kind == SpanKind::Client && s.parent_span_id.as_deref() == Some(root.span_id.as_str())
    })
    .await;
    assert_eq!(span.str_attr("error.type"), Some("connect"));
    assert_eq!(span.status_code, SpanStatus::Error);
    assert_eq!(span.int_attr("http.response.status_code"), None);
}

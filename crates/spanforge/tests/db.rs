//! Database instrumentation against real databases: libSQL files on disk and a
//! redis-server started by the tests themselves, with the OTLP test receiver collecting
//! what spanforge exports.
//!
//! One pipeline for the whole binary (the OpenTelemetry globals are per process); each test
//! uses its own database file, Redis server, pool name or root span, and finds its spans by
//! trace id.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use redis::AsyncCommands;
use spanforge::db::libsql::{Database, PoolError};
use spanforge::db::{DbOperation, PoolMetrics, PoolSnapshot};
use spanforge::http::ServerLayer;
use spanforge_testkit::otlp::{AttrValue, ReceivedMetric, SpanKind, StatusCode};
use spanforge_testkit::{OtlpReceiver, ReceivedSpan};
use tracing::Instrument;

const WAIT: Duration = Duration::from_secs(15);

mod common;

fn shared() -> &'static common::Shared {
    common::shared("db-test")
}

fn receiver() -> &'static OtlpReceiver {
    &shared().receiver
}

async fn span_where(what: &str, predicate: impl Fn(&ReceivedSpan) -> bool) -> ReceivedSpan {
    receiver()
        .wait_for_span_matching(what, WAIT, predicate)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The span named `name` in trace `trace_id`.
async fn in_trace(trace_id: &str, name: &str) -> ReceivedSpan {
    span_where(&format!("{name:?} in trace {trace_id}"), |s| {
        s.trace_id == trace_id && s.name == name
    })
    .await
}

async fn metric_where(what: &str, predicate: impl Fn(&ReceivedMetric) -> bool) -> ReceivedMetric {
    receiver()
        .wait_for_metric_matching(what, WAIT, predicate)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// An expected attribute value.
#[derive(Debug, Clone, PartialEq)]
enum V {
    S(String),
    I(i64),
}

fn s(v: impl Into<String>) -> V {
    V::S(v.into())
}

/// Assert that `span` has exactly these attributes, no more, no fewer.
fn assert_attrs(span: &ReceivedSpan, expected: &[(&str, V)]) {
    let actual: BTreeMap<String, V> = span
        .attributes
        .iter()
        .map(|(k, v)| {
            let v = match v {
                AttrValue::String(s) => V::S(s.clone()),
                AttrValue::Int(i) => V::I(*i),
                other => V::S(format!("{other:?}")),
            };
            (k.to_owned(), v)
        })
        .collect();
    let expected: BTreeMap<String, V> = expected
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    assert_eq!(actual, expected, "attributes of span {:?}", span.name);
}

fn temp_db(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("spanforge-{}-{name}.db", std::process::id()));
    remove_db(&path);
    path
}

fn remove_db(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
}

fn free_port() -> u16 {
    spanforge_testkit::ports::unused_port()
}

async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    addr
}

// ----- libSQL ------------------------------------------------------------------------------

/// The scenario the HTTP route runs: every kind of call, against a real database file.
async fn scenario(db: &Database) -> Result<String, String> {
    let conn = db.connect().map_err(|e| e.to_string())?;
    conn.execute(
        "CREATE TABLE IF NOT EXISTS prompts (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, version INTEGER NOT NULL)",
        (),
    )
    .await
    .map_err(|e| e.to_string())?;
    conn.execute(
        "INSERT INTO prompts (name, version) VALUES (?1, ?2)",
        ("greet", 1),
    )
    .await
    .map_err(|e| e.to_string())?;
    conn.execute("INSERT INTO prompts (name, version) VALUES ('plan', 2)", ())
        .await
        .map_err(|e| e.to_string())?;
    let mut rows = conn
        .query(
            "SELECT id, name, version FROM prompts WHERE version >= 1 ORDER BY id",
            (),
        )
        .await
        .map_err(|e| e.to_string())?;
    let mut names = Vec::new();
    while let Some(row) = rows.next().await.map_err(|e| e.to_string())? {
        names.push(row.get::<String>(1).map_err(|e| e.to_string())?);
    }
    drop(rows);
    let updated = conn
        .execute(
            "UPDATE prompts SET version = version + 1 WHERE name = 'greet'",
            (),
        )
        .await
        .map_err(|e| e.to_string())?;
    let duplicate = conn
        .execute(
            "INSERT INTO prompts (name, version) VALUES ('greet', 5)",
            (),
        )
        .await;
    if duplicate.is_ok() {
        return Err("the duplicate insert succeeded".into());
    }
    let tx = conn.transaction().await.map_err(|e| e.to_string())?;
    tx.execute(
        "INSERT INTO prompts (name, version) VALUES (?1, ?2)",
        ("tx", 1),
    )
    .await
    .map_err(|e| e.to_string())?;
    let mut count = tx
        .query("SELECT count(*) FROM prompts", ())
        .await
        .map_err(|e| e.to_string())?;
    let total: i64 = count
        .next()
        .await
        .map_err(|e| e.to_string())?
        .ok_or("no count")?
        .get(0)
        .map_err(|e| e.to_string())?;
    while count.next().await.map_err(|e| e.to_string())?.is_some() {}
    drop(count);
    tx.commit().await.map_err(|e| e.to_string())?;
    Ok(format!("{} {updated} {total}", names.join(",")))
}

#[tokio::test]
async fn libsql_calls_are_spans_under_the_http_server_span() {
    shared();
    let path = temp_db("scenario");
    let db = Database::open_local(&path).await.unwrap();
    let ns = path.file_name().unwrap().to_str().unwrap().to_owned();
    assert_eq!(db.namespace(), Some(ns.as_str()));
    let app = Router::new()
        .route(
            "/db/scenario",
            get(|State(db): State<Database>| async move {
                match scenario(&db).await {
                    Ok(body) => (axum::http::StatusCode::OK, body),
                    Err(e) => (axum::http::StatusCode::INTERNAL_SERVER_ERROR, e),
                }
            }),
        )
        .with_state(db.clone())
        .layer(ServerLayer::default());
    let addr = serve(app).await;
    let response = reqwest::get(format!("http://{addr}/db/scenario"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "greet,plan 1 3");

    let server = span_where("the scenario's server span", |s| {
        s.kind == SpanKind::Server && s.str_attr("http.route") == Some("/db/scenario")
    })
    .await;
    let t = server.trace_id.as_str();
    let base = |extra: &[(&'static str, V)]| {
        let mut attrs = vec![("db.system.name", s("sqlite")), ("db.namespace", s(&ns))];
        attrs.extend_from_slice(extra);
        attrs
    };

    let create = in_trace(t, "CREATE TABLE prompts").await;
    assert_attrs(
        &create,
        &base(&[
            ("db.operation.name", s("CREATE TABLE")),
            ("db.collection.name", s("prompts")),
            ("db.query.summary", s("CREATE TABLE prompts")),
            (
                "db.query.text",
                s(
                    "CREATE TABLE IF NOT EXISTS prompts (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, version INTEGER NOT NULL)",
                ),
            ),
        ]),
    );

    let inserts: Vec<ReceivedSpan> = receiver()
        .trace(t)
        .into_iter()
        .filter(|s| s.name == "INSERT prompts")
        .collect();
    assert_eq!(
        inserts.len(),
        4,
        "two inserts, the duplicate, the one in the transaction"
    );
    let parameterized: Vec<&ReceivedSpan> = inserts
        .iter()
        .filter(|s| {
            s.str_attr("db.query.text")
                == Some("INSERT INTO prompts (name, version) VALUES (?1, ?2)")
        })
        .collect();
    assert_eq!(parameterized.len(), 2);
    let insert_attrs = |text: &str| {
        base(&[
            ("db.operation.name", s("INSERT")),
            ("db.collection.name", s("prompts")),
            ("db.query.summary", s("INSERT prompts")),
            ("db.query.text", s(text)),
            ("spanforge.db.rows_affected", V::I(1)),
        ])
    };
    assert_attrs(
        parameterized[0],
        &insert_attrs("INSERT INTO prompts (name, version) VALUES (?1, ?2)"),
    );
    let literal: Vec<&ReceivedSpan> = inserts
        .iter()
        .filter(|s| {
            s.str_attr("db.query.text") == Some("INSERT INTO prompts (name, version) VALUES (?, ?)")
        })
        .collect();
    assert_eq!(literal.len(), 2, "literals are replaced by ?");
    let (ok, failed): (Vec<&ReceivedSpan>, Vec<&ReceivedSpan>) = literal
        .into_iter()
        .partition(|s| s.status_code != StatusCode::Error);
    assert_attrs(
        ok[0],
        &insert_attrs("INSERT INTO prompts (name, version) VALUES (?, ?)"),
    );
    let failed = failed[0];
    assert_attrs(
        failed,
        &base(&[
            ("db.operation.name", s("INSERT")),
            ("db.collection.name", s("prompts")),
            ("db.query.summary", s("INSERT prompts")),
            (
                "db.query.text",
                s("INSERT INTO prompts (name, version) VALUES (?, ?)"),
            ),
            ("error.type", s("SQLITE_CONSTRAINT")),
            ("db.response.status_code", s("2067")),
        ]),
    );
    assert!(
        failed.status_message.contains("UNIQUE constraint failed"),
        "{:?}",
        failed.status_message
    );

    let select = in_trace(t, "SELECT prompts").await;
    assert_attrs(
        &select,
        &base(&[
            ("db.operation.name", s("SELECT")),
            ("db.collection.name", s("prompts")),
            ("db.query.summary", s("SELECT prompts")),
            (
                "db.query.text",
                s("SELECT id, name, version FROM prompts WHERE version >= ? ORDER BY id"),
            ),
            ("db.response.returned_rows", V::I(2)),
        ]),
    );
    let update = in_trace(t, "UPDATE prompts").await;
    assert_attrs(
        &update,
        &base(&[
            ("db.operation.name", s("UPDATE")),
            ("db.collection.name", s("prompts")),
            ("db.query.summary", s("UPDATE prompts")),
            (
                "db.query.text",
                s("UPDATE prompts SET version = version + ? WHERE name = ?"),
            ),
            ("spanforge.db.rows_affected", V::I(1)),
        ]),
    );

    let begin = in_trace(t, "BEGIN").await;
    assert_attrs(
        &begin,
        &base(&[
            ("db.operation.name", s("BEGIN")),
            ("db.query.summary", s("BEGIN")),
            ("db.query.text", s("BEGIN DEFERRED")),
        ]),
    );
    let count = span_where("the count in the transaction", |s| {
        s.trace_id == t && s.str_attr("db.query.text") == Some("SELECT count(*) FROM prompts")
    })
    .await;
    assert_eq!(count.int_attr("db.response.returned_rows"), Some(1));
    let commit = in_trace(t, "COMMIT").await;
    assert_attrs(
        &commit,
        &base(&[
            ("db.operation.name", s("COMMIT")),
            ("db.query.summary", s("COMMIT")),
            ("db.query.text", s("COMMIT")),
        ]),
    );
    assert!(begin.start_time_unix_nano <= count.start_time_unix_nano);
    assert!(count.end_time_unix_nano <= commit.start_time_unix_nano);

    let db_spans: Vec<ReceivedSpan> = receiver()
        .trace(t)
        .into_iter()
        .filter(|s| s.attributes.contains_key("db.system.name"))
        .collect();
    assert_eq!(
        db_spans.len(),
        10,
        "{:?}",
        db_spans.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
    for span in &db_spans {
        assert_eq!(span.kind, SpanKind::Client, "{}", span.name);
        assert_eq!(
            span.parent_span_id.as_deref(),
            Some(server.span_id.as_str()),
            "{} is a child of the HTTP server span",
            span.name
        );
        assert!(
            span.duration() > Duration::ZERO,
            "{} has a duration",
            span.name
        );
        assert!(span.duration() <= server.duration(), "{}", span.name);
        assert_eq!(span.scope_name, "spanforge.db");
    }

    // The duration histogram, by operation and collection, errors apart.
    let histogram = metric_where("db.client.operation.duration of this database", |m| {
        m.name == "db.client.operation.duration"
            && m.points.iter().any(|p| {
                p.str_attr("db.namespace") == Some(ns.as_str())
                    && p.str_attr("error.type") == Some("SQLITE_CONSTRAINT")
            })
    })
    .await;
    assert_eq!(histogram.unit, "s");
    let of = |op: &str, error: Option<&str>| {
        histogram
            .points
            .iter()
            .find(|p| {
                p.str_attr("db.namespace") == Some(ns.as_str())
                    && p.str_attr("db.operation.name") == Some(op)
                    && p.str_attr("error.type") == error
            })
            .unwrap_or_else(|| panic!("no {op} point with error {error:?}"))
            .clone()
    };
    let select_point = of("SELECT", None);
    assert_eq!(select_point.str_attr("db.system.name"), Some("sqlite"));
    assert_eq!(select_point.str_attr("db.collection.name"), Some("prompts"));
    assert_eq!(
        select_point.str_attr("db.query.summary"),
        Some("SELECT prompts")
    );
    let h = select_point.histogram().unwrap();
    assert_eq!(
        h.explicit_bounds,
        vec![0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0]
    );
    assert_eq!(h.count, 2, "the scenario's SELECT and the count(*)");
    assert_eq!(of("INSERT", None).histogram().unwrap().count, 3);
    let failed_point = of("INSERT", Some("SQLITE_CONSTRAINT"));
    assert_eq!(failed_point.histogram().unwrap().count, 1);
    assert_eq!(
        failed_point.str_attr("db.response.status_code"),
        Some("2067")
    );
    assert!(
        failed_point.attributes.get("db.query.text").is_none(),
        "query text is not a metric attribute"
    );

    // Rows read and written, by system and namespace.
    for (name, expected) in [
        ("spanforge.db.rows_read", 3),
        ("spanforge.db.rows_written", 4),
    ] {
        let counter = metric_where(&format!("{name} = {expected}"), |m| {
            m.name == name
                && m.point_with("db.namespace", ns.as_str())
                    .is_some_and(|p| p.as_i64() == Some(expected))
        })
        .await;
        assert_eq!(counter.unit, "{row}");
        assert!(counter.is_monotonic);
        let point = counter.point_with("db.namespace", ns.as_str()).unwrap();
        let keys: Vec<&str> = point.attributes.keys().collect();
        assert_eq!(keys.len(), 2, "{keys:?}");
        assert_eq!(point.str_attr("db.system.name"), Some("sqlite"));
    }
    remove_db(&path);
}

#[tokio::test]
async fn libsql_prepared_statements_batches_and_rollback() {
    shared();
    let path = temp_db("statements");
    let db = Database::open_local(&path)
        .await
        .unwrap()
        .with_namespace("statements");
    let root = tracing::info_span!("libsql_statements");
    async {
        let conn = db.connect().unwrap();
        conn.execute_batch(
            "CREATE TABLE runs (id INTEGER PRIMARY KEY, prompt TEXT); \
             INSERT INTO runs (prompt) VALUES ('seed')",
        )
        .await
        .unwrap();
        let stmt = conn
            .prepare("INSERT INTO runs (prompt) VALUES (?1)")
            .await
            .unwrap();
        stmt.execute(["a"]).await.unwrap();
        stmt.reset();
        stmt.execute(["b"]).await.unwrap();
        let mut select = conn
            .prepare("SELECT prompt FROM runs WHERE prompt != 'zzz'")
            .await
            .unwrap();
        let row = select.query_row(()).await.unwrap();
        assert_eq!(row.get::<String>(0).unwrap(), "seed");
        assert!(conn.prepare("SELEC nonsense").await.is_err());
        let mut deleted = conn
            .query("DELETE FROM runs WHERE prompt = ?1 RETURNING id", ["a"])
            .await
            .unwrap();
        while deleted.next().await.unwrap().is_some() {}
        drop(deleted);
        let tx = conn.transaction().await.unwrap();
        tx.execute("DELETE FROM runs", ()).await.unwrap();
        tx.rollback().await.unwrap();
        let mut left = conn.query("SELECT id FROM runs", ()).await.unwrap();
        assert!(left.next().await.unwrap().is_some());
        // Dropped after one row: the span ends with the rows read so far.
        drop(left);
    }
    .instrument(root)
    .await;

    let root = span_where("the root", |s| s.name == "libsql_statements").await;
    let t = root.trace_id.as_str();
    let batch = in_trace(t, "BATCH").await;
    assert_attrs(
        &batch,
        &[
            ("db.system.name", s("sqlite")),
            ("db.namespace", s("statements")),
            ("db.operation.name", s("BATCH")),
            ("db.collection.name", s("runs")),
            ("db.query.summary", s("BATCH")),
            (
                "db.query.text",
                s(
                    "CREATE TABLE runs (id INTEGER PRIMARY KEY, prompt TEXT); INSERT INTO runs (prompt) VALUES (?)",
                ),
            ),
            ("db.operation.batch.size", V::I(2)),
        ],
    );
    let prepared: Vec<ReceivedSpan> = receiver()
        .trace(t)
        .into_iter()
        .filter(|s| s.str_attr("db.query.text") == Some("INSERT INTO runs (prompt) VALUES (?1)"))
        .collect();
    assert_eq!(
        prepared.len(),
        2,
        "one span per execution, none for preparing"
    );
    assert!(
        prepared
            .iter()
            .all(|s| s.name == "INSERT runs" && s.int_attr("spanforge.db.rows_affected") == Some(1))
    );
    let query_row = span_where("query_row", |s| {
        s.trace_id == t
            && s.str_attr("db.query.text") == Some("SELECT prompt FROM runs WHERE prompt != ?")
    })
    .await;
    assert_eq!(query_row.int_attr("db.response.returned_rows"), Some(1));
    let bad = span_where("the failed prepare", |s| {
        s.trace_id == t && s.str_attr("db.query.text") == Some("SELEC nonsense")
    })
    .await;
    assert_eq!(bad.name, "statements", "no summary: named by the namespace");
    assert_eq!(bad.status_code, StatusCode::Error);
    assert_eq!(bad.str_attr("error.type"), Some("SQLITE_ERROR"));
    assert_eq!(bad.str_attr("db.response.status_code"), Some("1"));
    let returning = in_trace(t, "DELETE runs").await;
    assert_eq!(returning.int_attr("db.response.returned_rows"), Some(1));
    assert_eq!(returning.int_attr("spanforge.db.rows_affected"), Some(1));
    let rollback = in_trace(t, "ROLLBACK").await;
    assert_eq!(rollback.str_attr("db.operation.name"), Some("ROLLBACK"));
    assert_eq!(rollback.status_code, StatusCode::Unset);
    let partial = span_where("the partly read query", |s| {
        s.trace_id == t && s.str_attr("db.query.text") == Some("SELECT id FROM runs")
    })
    .await;
    assert_eq!(partial.int_attr("db.response.returned_rows"), Some(1));
    for span in receiver().trace(t) {
        if span.attributes.contains_key("db.system.name") {
            assert_eq!(span.parent_span_id.as_deref(), Some(root.span_id.as_str()));
        }
    }
    remove_db(&path);
}

// ----- pool metrics -------------------------------------------------------------------------

fn pool_point(m: &ReceivedMetric, pool: &str, state: Option<&str>) -> Option<i64> {
    m.points
        .iter()
        .find(|p| {
            p.str_attr("db.client.connection.pool.name") == Some(pool)
                && p.str_attr("db.client.connection.state") == state
        })
        .and_then(|p| p.as_i64())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pool_gauges_move_under_concurrent_load_and_return_to_idle() {
    shared();
    let path = temp_db("pool");
    let db = Database::open_local(&path).await.unwrap();
    db.connect()
        .unwrap()
        .execute("CREATE TABLE t (x INTEGER)", ())
        .await
        .unwrap();
    let pool = db.pool().name("pool-load").max_size(3).build().unwrap();
    assert_eq!(pool.metrics().pool_name(), "pool-load");

    let mut tasks = Vec::new();
    for i in 0..8 {
        let pool = pool.clone();
        tasks.push(tokio::spawn(async move {
            let conn = pool.get().await.unwrap();
            conn.execute("INSERT INTO t (x) VALUES (?1)", [i])
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(500)).await;
        }));
    }
    // Under load: every connection used, callers waiting.
    let busy = metric_where("3 connections used", |m| {
        m.name == "db.client.connection.count"
            && pool_point(m, "pool-load", Some("used")) == Some(3)
    })
    .await;
    assert_eq!(busy.unit, "{connection}");
    assert!(!busy.is_monotonic);
    assert_eq!(pool_point(&busy, "pool-load", Some("idle")), Some(0));
    metric_where("requests pending", |m| {
        m.name == "db.client.connection.pending_requests"
            && pool_point(m, "pool-load", None).is_some_and(|n| n > 0)
    })
    .await;
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(
        pool.status(),
        PoolSnapshot {
            max: 3,
            idle: 3,
            used: 0,
            pending: 0
        }
    );
    // Back to idle.
    let idle = metric_where("3 connections idle", |m| {
        m.name == "db.client.connection.count"
            && pool_point(m, "pool-load", Some("idle")) == Some(3)
            && pool_point(m, "pool-load", Some("used")) == Some(0)
    })
    .await;
    assert_eq!(
        idle.points
            .iter()
            .filter(|p| p.str_attr("db.client.connection.pool.name") == Some("pool-load"))
            .count(),
        2
    );
    let max = metric_where("max", |m| {
        m.name == "db.client.connection.max" && pool_point(m, "pool-load", None).is_some()
    })
    .await;
    assert_eq!(pool_point(&max, "pool-load", None), Some(3));
    metric_where("nothing pending", |m| {
        m.name == "db.client.connection.pending_requests"
            && pool_point(m, "pool-load", None) == Some(0)
    })
    .await;
    for name in [
        "db.client.connection.wait_time",
        "db.client.connection.use_time",
    ] {
        let m = metric_where(&format!("{name} x8"), |m| {
            m.name == name
                && m.point_with("db.client.connection.pool.name", "pool-load")
                    .and_then(|p| p.histogram())
                    .is_some_and(|h| h.count == 8)
        })
        .await;
        assert_eq!(m.unit, "s");
    }
    let waits = metric_where("wait times", |m| m.name == "db.client.connection.wait_time").await;
    let h = waits
        .point_with("db.client.connection.pool.name", "pool-load")
        .unwrap()
        .histogram()
        .unwrap()
        .clone();
    assert!(
        h.max.unwrap_or_default() >= 0.4,
        "the last callers waited for a whole wave: {h:?}"
    );

    // A pool that cannot serve in time times out, and says so.
    let small = db
        .pool()
        .name("pool-timeout")
        .max_size(1)
        .wait_timeout(Some(Duration::from_millis(50)))
        .build()
        .unwrap();
    let held = small.get().await.unwrap();
    let err = small.get().await.unwrap_err();
    assert!(matches!(err, PoolError::Timeout(_)), "{err}");
    assert_eq!(
        err.to_string(),
        "no libSQL connection became free within 50ms"
    );
    drop(held);
    metric_where("one timeout", |m| {
        m.name == "db.client.connection.timeouts"
            && m.point_with("db.client.connection.pool.name", "pool-timeout")
                .is_some_and(|p| p.as_i64() == Some(1))
    })
    .await;
    remove_db(&path);
}

#[tokio::test]
async fn pool_metrics_guards_for_any_pool() {
    shared();
    let metrics = PoolMetrics::new("manual-pool", 2);
    let snapshot = || metrics.snapshot().unwrap();
    assert_eq!(
        snapshot(),
        PoolSnapshot {
            max: 2,
            idle: 0,
            used: 0,
            pending: 0
        }
    );
    let a = metrics.acquire_started();
    let b = metrics.acquire_started();
    assert_eq!(snapshot().pending, 2);
    let a = a.acquired();
    assert_eq!(
        snapshot(),
        PoolSnapshot {
            max: 2,
            idle: 0,
            used: 1,
            pending: 1
        }
    );
    drop(b); // gave up
    assert_eq!(snapshot().pending, 0);
    a.released();
    assert_eq!(
        snapshot(),
        PoolSnapshot {
            max: 2,
            idle: 1,
            used: 0,
            pending: 0
        }
    );
    let c = metrics.acquire_started().acquired();
    assert_eq!(
        snapshot(),
        PoolSnapshot {
            max: 2,
            idle: 0,
            used: 1,
            pending: 0
        }
    );
    c.discarded();
    assert_eq!(
        snapshot(),
        PoolSnapshot {
            max: 2,
            idle: 0,
            used: 0,
            pending: 0
        }
    );
    metrics.connection_opened();
    metrics.set_max(5);
    assert_eq!(
        snapshot(),
        PoolSnapshot {
            max: 5,
            idle: 1,
            used: 0,
            pending: 0
        }
    );
    metric_where("the manual pool's idle connection", |m| {
        m.name == "db.client.connection.count"
            && pool_point(m, "manual-pool", Some("idle")) == Some(1)
    })
    .await;
    metric_where("the manual pool's max", |m| {
        m.name == "db.client.connection.max" && pool_point(m, "manual-pool", None) == Some(5)
    })
    .await;
}

// ----- any driver ---------------------------------------------------------------------------

#[tokio::test]
async fn db_operation_for_a_driver_spanforge_does_not_wrap() {
    shared();
    let root = tracing::info_span!("custom_driver");
    async {
        let mut span = DbOperation::new("mongodb")
            .namespace("shop")
            .operation_name("findAndModify")
            .collection_name("orders")
            .server_address("mongo.internal")
            .server_port(27018)
            .start();
        span.set_returned_rows(1);
        span.end();
        let span = DbOperation::sql(
            "postgresql",
            "SELECT * FROM accounts WHERE email = 'ann@example.com'",
        )
        .namespace("bank")
        .start();
        span.end_with_error("timeout", &"statement timeout after 5s");
        let span = DbOperation::new("other_sql").start();
        drop(span); // cancelled: ended, not an error
    }
    .instrument(root)
    .await;
    let root = span_where("the root", |s| s.name == "custom_driver").await;
    let t = root.trace_id.as_str();
    let mongo = in_trace(t, "findAndModify orders").await;
    assert_eq!(mongo.kind, SpanKind::Client);
    assert_attrs(
        &mongo,
        &[
            ("db.system.name", s("mongodb")),
            ("db.namespace", s("shop")),
            ("db.operation.name", s("findAndModify")),
            ("db.collection.name", s("orders")),
            ("server.address", s("mongo.internal")),
            ("server.port", V::I(27018)),
            ("db.response.returned_rows", V::I(1)),
        ],
    );
    let pg = in_trace(t, "SELECT accounts").await;
    assert_attrs(
        &pg,
        &[
            ("db.system.name", s("postgresql")),
            ("db.namespace", s("bank")),
            ("db.operation.name", s("SELECT")),
            ("db.collection.name", s("accounts")),
            ("db.query.summary", s("SELECT accounts")),
            ("db.query.text", s("SELECT * FROM accounts WHERE email = ?")),
            ("error.type", s("timeout")),
        ],
    );
    assert_eq!(pg.status_code, StatusCode::Error);
    assert_eq!(pg.status_message, "statement timeout after 5s");
    let other = in_trace(t, "other_sql").await;
    assert_eq!(other.status_code, StatusCode::Unset);
    assert_attrs(&other, &[("db.system.name", s("other_sql"))]);
}

// ----- Redis --------------------------------------------------------------------------------

/// A redis-server of the test's own on a free loopback port, killed when dropped.
struct RedisServer {
    child: Child,
    port: u16,
}

impl RedisServer {
    fn start() -> RedisServer {
        let port = free_port();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                &std::env::temp_dir().to_string_lossy(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start redis-server ({e}): the Redis tests need it; \
                     install it with scripts/install-test-tools.sh (Debian package redis-server)"
                )
            });
        let mut server = RedisServer { child, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("redis-server exited at start: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "redis-server did not listen on port {port} within 10 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        server.port = port;
        server
    }

    fn client(&self) -> redis::Client {
        redis::Client::open(format!("redis://127.0.0.1:{}/0", self.port)).unwrap()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn redis_attrs(port: u16, extra: &[(&'static str, V)]) -> Vec<(&'static str, V)> {
    let mut attrs = vec![
        ("db.system.name", s("redis")),
        ("db.namespace", s("0")),
        ("server.address", s("127.0.0.1")),
        ("server.port", V::I(i64::from(port))),
    ];
    attrs.extend_from_slice(extra);
    attrs
}

#[tokio::test]
async fn redis_commands_are_spans_with_values_redacted() {
    shared();
    let server = RedisServer::start();
    let client = server.client();
    let root = tracing::info_span!("redis_commands");
    async {
        let mut conn = spanforge::db::redis::Connection::multiplexed(&client)
            .await
            .unwrap();
        let _: () = conn.set("user:1", "ann").await.unwrap();
        let name: String = conn.get("user:1").await.unwrap();
        assert_eq!(name, "ann");
        let err = redis::cmd("INCR")
            .arg("user:1")
            .query_async::<i64>(&mut conn)
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some("ERR"));
        let _: () = conn
            .hset_multiple(
                "profile:1",
                &[("email", "ann@example.com"), ("plan", "pro")],
            )
            .await
            .unwrap();
        let mut manager = spanforge::db::redis::Connection::manager(client.clone())
            .await
            .unwrap();
        let pong: String = redis::cmd("PING").query_async(&mut manager).await.unwrap();
        assert_eq!(pong, "PONG");
    }
    .instrument(root)
    .await;

    let root = span_where("the root", |s| s.name == "redis_commands").await;
    let t = root.trace_id.as_str();
    let port = server.port;
    let set = in_trace(t, "SET").await;
    assert_attrs(
        &set,
        &redis_attrs(
            port,
            &[
                ("db.operation.name", s("SET")),
                ("db.query.text", s("SET user:1 ?")),
            ],
        ),
    );
    let get = in_trace(t, "GET").await;
    assert_attrs(
        &get,
        &redis_attrs(
            port,
            &[
                ("db.operation.name", s("GET")),
                ("db.query.text", s("GET user:1")),
            ],
        ),
    );
    let incr = in_trace(t, "INCR").await;
    assert_attrs(
        &incr,
        &redis_attrs(
            port,
            &[
                ("db.operation.name", s("INCR")),
                ("db.query.text", s("INCR user:1")),
                ("error.type", s("ERR")),
                ("db.response.status_code", s("ERR")),
            ],
        ),
    );
    assert_eq!(incr.status_code, StatusCode::Error);
    let hmset = in_trace(t, "HMSET").await;
    assert_eq!(
        hmset.str_attr("db.query.text"),
        Some("HMSET profile:1 email ? plan ?"),
        "field names kept, values redacted"
    );
    assert!(!format!("{:?}", receiver().trace(t)).contains("ann@example.com"));
    let connects: Vec<ReceivedSpan> = receiver()
        .trace(t)
        .into_iter()
        .filter(|s| s.name == "connect")
        .collect();
    assert_eq!(connects.len(), 2, "multiplexed and manager");
    assert_attrs(&connects[0], &redis_attrs(port, &[]));
    let ping = in_trace(t, "PING").await;
    assert_attrs(
        &ping,
        &redis_attrs(
            port,
            &[
                ("db.operation.name", s("PING")),
                ("db.query.text", s("PING")),
            ],
        ),
    );
    for span in receiver().trace(t) {
        if span.attributes.contains_key("db.system.name") {
            assert_eq!(span.kind, SpanKind::Client);
            assert_eq!(span.parent_span_id.as_deref(), Some(root.span_id.as_str()));
        }
    }
    let histogram = metric_where("redis durations", |m| {
        m.name == "db.client.operation.duration"
            && m.points.iter().any(|p| {
                p.str_attr("db.system.name") == Some("redis")
                    && p.int_attr("server.port") == Some(i64::from(port))
                    && p.str_attr("error.type") == Some("ERR")
            })
    })
    .await;
    let get_point = histogram
        .points
        .iter()
        .find(|p| {
            p.int_attr("server.port") == Some(i64::from(port))
                && p.str_attr("db.operation.name") == Some("GET")
        })
        .unwrap();
    assert_eq!(get_point.histogram().unwrap().count, 1);
    assert!(
        !histogram
            .points
            .iter()
            .any(|p| p.int_attr("server.port") == Some(i64::from(port))
                && p.attributes.get("db.operation.name").is_none()),
        "connecting is not an operation"
    );
}

#[tokio::test]
async fn redis_pipelines_and_transactions_are_one_span() {
    shared();
    let server = RedisServer::start();
    let client = server.client();
    let root = tracing::info_span!("redis_batches");
    async {
        let mut conn = spanforge::db::redis::Connection::multiplexed(&client)
            .await
            .unwrap();
        let (a,): (i64,) = redis::pipe()
            .set("p:a", 1)
            .ignore()
            .set("p:b", 2)
            .ignore()
            .get("p:a")
            .query_async(&mut conn)
            .await
            .unwrap();
        assert_eq!(a, 1);
        let (x, y): (i64, i64) = redis::pipe()
            .atomic()
            .cmd("INCR")
            .arg("m:c")
            .cmd("INCR")
            .arg("m:c")
            .query_async(&mut conn)
            .await
            .unwrap();
        assert_eq!((x, y), (1, 2));
        let failed = redis::pipe()
            .atomic()
            .set("m:s", "text")
            .cmd("INCR")
            .arg("m:s")
            .query_async::<(String, i64)>(&mut conn)
            .await;
        assert!(failed.is_err());
    }
    .instrument(root)
    .await;

    let root = span_where("the root", |s| s.name == "redis_batches").await;
    let t = root.trace_id.as_str();
    let port = server.port;
    let pipeline = in_trace(t, "PIPELINE").await;
    assert_attrs(
        &pipeline,
        &redis_attrs(
            port,
            &[
                ("db.operation.name", s("PIPELINE")),
                ("db.query.text", s("SET p:a ?; SET p:b ?; GET p:a")),
                ("db.operation.batch.size", V::I(3)),
            ],
        ),
    );
    let multi = in_trace(t, "MULTI INCR").await;
    assert_attrs(
        &multi,
        &redis_attrs(
            port,
            &[
                ("db.operation.name", s("MULTI INCR")),
                ("db.query.text", s("INCR m:c")),
                ("db.operation.batch.size", V::I(2)),
            ],
        ),
    );
    assert_eq!(multi.status_code, StatusCode::Unset);
    let failed = in_trace(t, "MULTI").await;
    assert_attrs(
        &failed,
        &redis_attrs(
            port,
            &[
                ("db.operation.name", s("MULTI")),
                ("db.query.text", s("SET m:s ?; INCR m:s")),
                ("db.operation.batch.size", V::I(2)),
                ("error.type", s("ERR")),
                ("db.response.status_code", s("ERR")),
            ],
        ),
    );
    assert_eq!(failed.status_code, StatusCode::Error);
    let commands: Vec<String> = receiver()
        .trace(t)
        .into_iter()
        .filter(|s| s.attributes.contains_key("db.system.name"))
        .map(|s| s.name)
        .collect();
    assert_eq!(
        commands.len(),
        4,
        "connect + one span per batch: {commands:?}"
    );
}

#[tokio::test]
async fn redis_connection_refused_is_marked() {
    shared();
    let port = free_port(); // nothing listens there
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}/0")).unwrap();
    let root = tracing::info_span!("redis_refused");
    async {
        let err = spanforge::db::redis::Connection::multiplexed(&client)
            .await
            .unwrap_err();
        assert!(err.is_connection_refusal(), "{err:?}");
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_number_of_retries(0)
            .set_connection_timeout(Some(Duration::from_secs(1)));
        let mut lazy =
            spanforge::db::redis::Connection::manager_lazy(client.clone(), config).unwrap();
        let err = lazy.get::<_, Option<String>>("k").await.unwrap_err();
        assert!(err.is_connection_refusal() || err.is_io_error(), "{err:?}");
    }
    .instrument(root)
    .await;
    let root = span_where("the root", |s| s.name == "redis_refused").await;
    let t = root.trace_id.as_str();
    let connect = in_trace(t, "connect").await;
    assert_attrs(
        &connect,
        &redis_attrs(port, &[("error.type", s("connection_refused"))]),
    );
    assert_eq!(connect.status_code, StatusCode::Error);
    assert_eq!(connect.kind, SpanKind::Client);
    let get = in_trace(t, "GET").await;
    assert_attrs(
        &get,
        &redis_attrs(
            port,
            &[
                ("db.operation.name", s("GET")),
                ("db.query.text", s("GET k")),
                ("error.type", s("connection_refused")),
            ],
        ),
    );
    assert_eq!(get.status_code, StatusCode::Error);
}

// ----- Turso (remote libSQL) ------------------------------------------------------------------

#[cfg(feature = "turso")]
mod turso;

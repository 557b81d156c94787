//! Remote Turso (`spanforge::db::turso`) against a real libSQL server: sqld (the server
//! Turso runs, installed by `scripts/install-sqld.sh`), started by each test with JWT
//! authentication, behind the test kit's recording, fault-injecting proxy. The rows-read /
//! rows-written counters are compared with what sqld reported on the wire.

use std::time::Duration;

use spanforge::db::turso::{Database, Error, Params, Value};
use spanforge_testkit::ReceivedSpan;
use spanforge_testkit::otlp::{SpanKind, StatusCode};
use spanforge_testkit::turso::{Sqld, TursoFault, TursoProxy};
use tracing::Instrument;

use super::{V, assert_attrs, free_port, in_trace, metric_where, receiver, s, shared, span_where};

/// A sqld of the test's own behind a proxy; the database talks to the proxy.
struct Remote {
    _sqld: Sqld,
    proxy: TursoProxy,
    db: Database,
    port: u16,
}

fn remote(namespace: &str) -> Remote {
    let sqld = Sqld::start().unwrap_or_else(|e| panic!("{e}"));
    let proxy = TursoProxy::start(sqld.addr()).unwrap();
    let db = Database::open(&proxy.url(), Some(Sqld::AUTH_TOKEN))
        .unwrap()
        .with_namespace(namespace);
    let port = proxy.url().rsplit(':').next().unwrap().parse().unwrap();
    Remote {
        _sqld: sqld,
        proxy,
        db,
        port,
    }
}

/// The attributes every span of `ns` on `port` has, plus `extra`.
fn base(ns: &str, port: u16, extra: &[(&'static str, V)]) -> Vec<(&'static str, V)> {
    let mut attrs = vec![
        ("db.system.name", s("sqlite")),
        ("db.namespace", s(ns)),
        ("server.address", s("127.0.0.1")),
        ("server.port", V::I(i64::from(port))),
    ];
    attrs.extend_from_slice(extra);
    attrs
}

/// The rows-read and rows-written counters of `ns` reach what the proxy saw sqld report.
async fn assert_rows_counted(ns: &str, proxy: &TursoProxy) {
    for (name, expected) in [
        ("spanforge.db.rows_read", proxy.rows_read()),
        ("spanforge.db.rows_written", proxy.rows_written()),
    ] {
        let expected = i64::try_from(expected).unwrap();
        let counter = metric_where(&format!("{name} of {ns} = {expected}"), |m| {
            m.name == name
                && m.point_with("db.namespace", ns)
                    .is_some_and(|p| p.as_i64() == Some(expected))
        })
        .await;
        let point = counter.point_with("db.namespace", ns).unwrap();
        assert_eq!(point.str_attr("db.system.name"), Some("sqlite"));
        assert_eq!(point.attributes.len(), 2, "{:?}", point.attributes);
    }
}

fn trace_spans(trace_id: &str) -> Vec<ReceivedSpan> {
    receiver()
        .trace(trace_id)
        .into_iter()
        .filter(|s| s.attributes.contains_key("db.system.name"))
        .collect()
}

#[tokio::test]
async fn turso_statements_are_spans_and_turso_rows_are_counted() {
    shared();
    let ns = "turso-crud";
    let Remote {
        _sqld,
        proxy,
        db,
        port,
    } = remote(ns);
    let root = tracing::info_span!("turso_crud");
    async {
        db.execute(
            "CREATE TABLE prompts (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, \
             version INTEGER NOT NULL, score REAL, data BLOB)",
            (),
        )
        .await
        .unwrap();
        let first = db
            .execute(
                "INSERT INTO prompts (name, version, score, data) VALUES (?1, ?2, ?3, ?4)",
                ("greet", 1, 0.5, vec![0u8, 1, 255]),
            )
            .await
            .unwrap();
        assert_eq!(first.rows_affected, 1);
        assert_eq!(first.last_insert_rowid, Some(1));
        assert_eq!(
            first.rows_written,
            Some(2),
            "the row and its UNIQUE index entry"
        );
        let second = db
            .execute(
                "INSERT INTO prompts (name, version) VALUES (:name, :version)",
                Params::named([
                    (":name", Value::from("plan")),
                    (":version", 9_007_199_254_740_993i64.into()),
                ]),
            )
            .await
            .unwrap();
        assert_eq!(second.last_insert_rowid, Some(2));
        let duplicate = db
            .execute(
                "INSERT INTO prompts (name, version) VALUES ('greet', 5)",
                (),
            )
            .await
            .unwrap_err();
        assert_eq!(duplicate.code(), Some("SQLITE_CONSTRAINT"), "{duplicate}");
        assert!(
            duplicate
                .to_string()
                .contains("UNIQUE constraint failed: prompts.name")
        );
        let rows = db
            .query(
                "SELECT id, name, version, score, data FROM prompts WHERE version >= 1 ORDER BY id",
                (),
            )
            .await
            .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows.column_name(3), Some("score"));
        assert_eq!(rows.columns()[1].decltype.as_deref(), Some("TEXT"));
        let greet = &rows.rows()[0];
        assert_eq!(greet.get::<i64>(0).unwrap(), 1);
        assert_eq!(greet.get::<String>(1).unwrap(), "greet");
        assert_eq!(greet.get::<f64>(3).unwrap(), 0.5);
        assert_eq!(greet.get::<Vec<u8>>(4).unwrap(), vec![0u8, 1, 255]);
        let plan = &rows.rows()[1];
        assert_eq!(
            plan.get_by_name::<i64>("version").unwrap(),
            9_007_199_254_740_993
        );
        assert_eq!(plan.get::<Option<f64>>(3).unwrap(), None);
        assert_eq!(plan.value(4), Some(&Value::Null));
        assert!(plan.get::<String>(2).is_err(), "an integer is not text");
        let updated = db
            .execute(
                "UPDATE prompts SET version = version + 1 WHERE name = 'greet'",
                (),
            )
            .await
            .unwrap();
        assert_eq!(updated.rows_affected, 1);
    }
    .instrument(root)
    .await;

    let root = span_where("the root", |s| s.name == "turso_crud").await;
    let t = root.trace_id.as_str();
    let create = in_trace(t, "CREATE TABLE prompts").await;
    assert_attrs(
        &create,
        &base(
            ns,
            port,
            &[
                ("db.operation.name", s("CREATE TABLE")),
                ("db.collection.name", s("prompts")),
                ("db.query.summary", s("CREATE TABLE prompts")),
                (
                    "db.query.text",
                    s(
                        "CREATE TABLE prompts (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, \
                       version INTEGER NOT NULL, score REAL, data BLOB)",
                    ),
                ),
            ],
        ),
    );
    let insert = span_where("the parameterized insert", |s| {
        s.trace_id == t
            && s.str_attr("db.query.text")
                == Some("INSERT INTO prompts (name, version, score, data) VALUES (?1, ?2, ?3, ?4)")
    })
    .await;
    assert_eq!(insert.name, "INSERT prompts");
    assert_attrs(
        &insert,
        &base(
            ns,
            port,
            &[
                ("db.operation.name", s("INSERT")),
                ("db.collection.name", s("prompts")),
                ("db.query.summary", s("INSERT prompts")),
                (
                    "db.query.text",
                    s("INSERT INTO prompts (name, version, score, data) VALUES (?1, ?2, ?3, ?4)"),
                ),
                ("spanforge.db.rows_affected", V::I(1)),
            ],
        ),
    );
    let failed = span_where("the failed insert", |s| {
        s.trace_id == t && s.status_code == StatusCode::Error
    })
    .await;
    assert_attrs(
        &failed,
        &base(
            ns,
            port,
            &[
                ("db.operation.name", s("INSERT")),
                ("db.collection.name", s("prompts")),
                ("db.query.summary", s("INSERT prompts")),
                (
                    "db.query.text",
                    s("INSERT INTO prompts (name, version) VALUES (?, ?)"),
                ),
                ("error.type", s("SQLITE_CONSTRAINT")),
                ("db.response.status_code", s("SQLITE_CONSTRAINT")),
            ],
        ),
    );
    assert!(
        failed
            .status_message
            .contains("UNIQUE constraint failed: prompts.name"),
        "{:?}",
        failed.status_message
    );
    let select = in_trace(t, "SELECT prompts").await;
    assert_attrs(
        &select,
        &base(
            ns,
            port,
            &[
                ("db.operation.name", s("SELECT")),
                ("db.collection.name", s("prompts")),
                ("db.query.summary", s("SELECT prompts")),
                (
                    "db.query.text",
                    s(
                        "SELECT id, name, version, score, data FROM prompts WHERE version >= ? ORDER BY id",
                    ),
                ),
                ("db.response.returned_rows", V::I(2)),
            ],
        ),
    );
    let update = in_trace(t, "UPDATE prompts").await;
    assert_attrs(
        &update,
        &base(
            ns,
            port,
            &[
                ("db.operation.name", s("UPDATE")),
                ("db.collection.name", s("prompts")),
                ("db.query.summary", s("UPDATE prompts")),
                (
                    "db.query.text",
                    s("UPDATE prompts SET version = version + ? WHERE name = ?"),
                ),
                ("spanforge.db.rows_affected", V::I(1)),
            ],
        ),
    );
    let spans = trace_spans(t);
    assert_eq!(
        spans.len(),
        6,
        "{:?}",
        spans.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
    for span in &spans {
        assert_eq!(span.kind, SpanKind::Client, "{}", span.name);
        assert_eq!(span.parent_span_id.as_deref(), Some(root.span_id.as_str()));
        assert_eq!(span.scope_name, "spanforge.db");
    }

    // Each statement went out as one Hrana pipeline (execute + close), with the token.
    let exchanges = proxy.exchanges();
    assert_eq!(exchanges.len(), 6);
    for exchange in &exchanges {
        assert_eq!(exchange.path, "/v2/pipeline");
        assert_eq!(
            exchange.authorization.as_deref(),
            Some(format!("Bearer {}", Sqld::AUTH_TOKEN).as_str())
        );
        let request = exchange.request.as_ref().unwrap();
        assert_eq!(request["baton"], serde_json::Value::Null);
        assert_eq!(request["requests"][1]["type"], "close");
    }
    let args = &exchanges[1].request.as_ref().unwrap()["requests"][0]["stmt"]["args"];
    assert_eq!(
        args,
        &serde_json::json!([
            {"type": "text", "value": "greet"},
            {"type": "integer", "value": "1"},
            {"type": "float", "value": 0.5},
            {"type": "blob", "base64": "AAH/"}
        ])
    );
    assert!(proxy.rows_read() > 0 && proxy.rows_written() > 0);

    // The duration histogram: server address and port, the failure apart.
    let histogram = metric_where("db.client.operation.duration of turso-crud", |m| {
        m.name == "db.client.operation.duration"
            && m.points.iter().any(|p| {
                p.str_attr("db.namespace") == Some(ns)
                    && p.str_attr("error.type") == Some("SQLITE_CONSTRAINT")
            })
    })
    .await;
    let point = histogram
        .points
        .iter()
        .find(|p| {
            p.str_attr("db.namespace") == Some(ns)
                && p.str_attr("error.type") == Some("SQLITE_CONSTRAINT")
        })
        .unwrap();
    assert_eq!(point.histogram().unwrap().count, 1);
    assert_eq!(point.str_attr("server.address"), Some("127.0.0.1"));
    assert_eq!(point.int_attr("server.port"), Some(i64::from(port)));
    assert_eq!(
        point.str_attr("db.response.status_code"),
        Some("SQLITE_CONSTRAINT")
    );
    let inserts = histogram
        .points
        .iter()
        .find(|p| {
            p.str_attr("db.namespace") == Some(ns)
                && p.str_attr("db.operation.name") == Some("INSERT")
                && p.str_attr("error.type").is_none()
        })
        .unwrap();
    assert_eq!(inserts.histogram().unwrap().count, 2);

    assert_rows_counted(ns, &proxy).await;
}

#[tokio::test]
async fn turso_batches_and_transactions() {
    shared();
    let ns = "turso-tx";
    let Remote {
        _sqld,
        proxy,
        db,
        port,
    } = remote(ns);
    let root = tracing::info_span!("turso_tx");
    async {
        let results = db
            .batch([
                "CREATE TABLE runs (id INTEGER PRIMARY KEY, prompt TEXT NOT NULL)".into(),
                spanforge::db::turso::Statement::new(
                    "INSERT INTO runs (prompt) VALUES (?1)",
                    ["a"],
                ),
                "INSERT INTO runs (prompt) VALUES ('b');".into(),
            ])
            .await
            .unwrap();
        assert_eq!(results.len(), 3);
        assert_eq!(results[2].last_insert_rowid(), Some(2));

        // All or nothing: the second statement fails, the first is rolled back.
        let err = db
            .transactional_batch([
                "INSERT INTO runs (prompt) VALUES ('c')",
                "INSERT INTO runs (id, prompt) VALUES (1, 'dup')",
            ])
            .await
            .unwrap_err();
        match &err {
            Error::Sql { code, step, .. } => {
                assert_eq!(code.as_deref(), Some("SQLITE_CONSTRAINT"));
                assert_eq!(*step, Some(1));
            }
            other => panic!("{other:?}"),
        }

        let tx = db.transaction().await.unwrap();
        tx.execute("INSERT INTO runs (prompt) VALUES (?1)", ["tx"])
            .await
            .unwrap();
        let inside = tx.query("SELECT count(*) FROM runs", ()).await.unwrap();
        assert_eq!(inside.rows()[0].get::<i64>(0).unwrap(), 3);
        tx.commit().await.unwrap();

        let tx = db.transaction().await.unwrap();
        let deleted = tx.execute("DELETE FROM runs", ()).await.unwrap();
        assert_eq!(deleted.rows_affected, 3);
        tx.rollback().await.unwrap();

        let after = db
            .query("SELECT prompt FROM runs ORDER BY id", ())
            .await
            .unwrap();
        let prompts: Vec<String> = after.iter().map(|r| r.get(0).unwrap()).collect();
        assert_eq!(
            prompts,
            ["a", "b", "tx"],
            "c rolled back, the delete rolled back"
        );
    }
    .instrument(root)
    .await;

    let root = span_where("the root", |s| s.name == "turso_tx").await;
    let t = root.trace_id.as_str();
    let batch = span_where("the batch", |s| {
        s.trace_id == t && s.int_attr("db.operation.batch.size") == Some(3)
    })
    .await;
    assert_eq!(batch.name, "BATCH");
    assert_attrs(
        &batch,
        &base(
            ns,
            port,
            &[
                ("db.operation.name", s("BATCH")),
                ("db.collection.name", s("runs")),
                ("db.query.summary", s("BATCH")),
                (
                    "db.query.text",
                    s(
                        "CREATE TABLE runs (id INTEGER PRIMARY KEY, prompt TEXT NOT NULL); \
                       INSERT INTO runs (prompt) VALUES (?1); INSERT INTO runs (prompt) VALUES (?)",
                    ),
                ),
                ("db.operation.batch.size", V::I(3)),
            ],
        ),
    );
    let failed = span_where("the failed transactional batch", |s| {
        s.trace_id == t && s.status_code == StatusCode::Error
    })
    .await;
    assert_eq!(failed.name, "BATCH INSERT runs");
    assert_attrs(
        &failed,
        &base(
            ns,
            port,
            &[
                ("db.operation.name", s("BATCH INSERT")),
                ("db.collection.name", s("runs")),
                ("db.query.summary", s("BATCH INSERT runs")),
                (
                    "db.query.text",
                    s(
                        "INSERT INTO runs (prompt) VALUES (?); INSERT INTO runs (id, prompt) VALUES (?, ?)",
                    ),
                ),
                ("db.operation.batch.size", V::I(2)),
                ("error.type", s("SQLITE_CONSTRAINT")),
                ("db.response.status_code", s("SQLITE_CONSTRAINT")),
            ],
        ),
    );
    assert!(
        failed
            .status_message
            .starts_with("statement 1 failed (SQLITE_CONSTRAINT)")
    );
    let begins: Vec<ReceivedSpan> = trace_spans(t)
        .into_iter()
        .filter(|s| s.name == "BEGIN")
        .collect();
    assert_eq!(begins.len(), 2);
    assert_attrs(
        &begins[0],
        &base(
            ns,
            port,
            &[
                ("db.operation.name", s("BEGIN")),
                ("db.query.summary", s("BEGIN")),
                ("db.query.text", s("BEGIN DEFERRED")),
            ],
        ),
    );
    let commit = in_trace(t, "COMMIT").await;
    assert_attrs(
        &commit,
        &base(
            ns,
            port,
            &[
                ("db.operation.name", s("COMMIT")),
                ("db.query.summary", s("COMMIT")),
                ("db.query.text", s("COMMIT")),
            ],
        ),
    );
    let rollback = in_trace(t, "ROLLBACK").await;
    assert_eq!(rollback.status_code, StatusCode::Unset);
    let count = span_where("the count inside the transaction", |s| {
        s.trace_id == t && s.str_attr("db.query.text") == Some("SELECT count(*) FROM runs")
    })
    .await;
    assert_eq!(count.int_attr("db.response.returned_rows"), Some(1));
    let delete = in_trace(t, "DELETE runs").await;
    assert_eq!(delete.int_attr("spanforge.db.rows_affected"), Some(3));
    let spans = trace_spans(t);
    assert_eq!(
        spans.len(),
        10,
        "{:?}",
        spans.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
    for span in &spans {
        assert_eq!(span.parent_span_id.as_deref(), Some(root.span_id.as_str()));
    }

    // On the wire: one batch request each; the transactions carried sqld's baton from
    // BEGIN to COMMIT / ROLLBACK, which closed the stream.
    let exchanges = proxy.exchanges();
    let statements: Vec<Vec<String>> = exchanges.iter().map(|e| e.statements()).collect();
    assert_eq!(
        statements[1],
        [
            "BEGIN",
            "INSERT INTO runs (prompt) VALUES ('c')",
            "INSERT INTO runs (id, prompt) VALUES (1, 'dup')",
            "COMMIT",
            "ROLLBACK"
        ]
    );
    let tx: Vec<_> = exchanges[2..6].iter().collect();
    assert_eq!(
        tx[0].request.as_ref().unwrap()["baton"],
        serde_json::Value::Null
    );
    for pair in tx.windows(2) {
        let given = pair[0].response.as_ref().unwrap()["baton"]
            .as_str()
            .unwrap();
        assert_eq!(pair[1].request.as_ref().unwrap()["baton"], given);
    }
    assert_eq!(tx[3].statements(), ["COMMIT"]);
    assert_eq!(
        tx[3].response.as_ref().unwrap()["baton"],
        serde_json::Value::Null
    );

    assert_rows_counted(ns, &proxy).await;
}

#[tokio::test]
async fn turso_failures_are_typed_and_marked() {
    shared();
    let ns = "turso-faults";
    let Remote {
        _sqld,
        proxy,
        db,
        port,
    } = remote(ns);
    let down = free_port();
    let root = tracing::info_span!("turso_faults");
    let errors = async {
        let mut errors = Vec::new();
        let wrong = Database::open(&proxy.url(), Some(Sqld::WRONG_KEY_TOKEN))
            .unwrap()
            .with_namespace(ns);
        let e = wrong.execute("SELECT 1", ()).await.unwrap_err();
        assert_eq!(e.status(), Some(401), "{e}");
        assert!(e.to_string().contains("check TURSO_AUTH_TOKEN"), "{e}");
        errors.push(e);

        // A read-only token may read, not write: 403 before anything runs.
        let read_only = Database::open(&proxy.url(), Some(Sqld::READ_ONLY_TOKEN))
            .unwrap()
            .with_namespace("turso-read-only");
        let e = read_only
            .execute("CREATE TABLE nope (a)", ())
            .await
            .unwrap_err();
        assert_eq!(e.status(), Some(403), "{e}");
        assert!(e.to_string().contains("read-only token"), "{e}");
        assert!(!e.to_string().contains(Sqld::READ_ONLY_TOKEN));

        let none = Database::open(&proxy.url(), None)
            .unwrap()
            .with_namespace(ns);
        let e = none.query("SELECT 2", ()).await.unwrap_err();
        assert_eq!(e.status(), Some(401), "{e}");
        errors.push(e);

        proxy.queue_faults([TursoFault::unavailable()]);
        let e = db.execute("SELECT 3", ()).await.unwrap_err();
        assert_eq!(e.status(), Some(503), "{e}");
        errors.push(e);

        proxy.queue_faults([TursoFault::throttled(2)]);
        let e = db.execute("SELECT 4", ()).await.unwrap_err();
        match &e {
            Error::Http {
                status: 429,
                retry_after,
                ..
            } => {
                assert_eq!(*retry_after, Some(Duration::from_secs(2)));
            }
            other => panic!("{other:?}"),
        }
        errors.push(e);

        proxy.queue_faults([TursoFault::Delay(Duration::from_secs(2))]);
        let impatient = Database::builder(proxy.url())
            .auth_token(Sqld::AUTH_TOKEN)
            .timeout(Duration::from_millis(300))
            .build()
            .unwrap()
            .with_namespace(ns);
        let e = impatient.execute("SELECT 5", ()).await.unwrap_err();
        assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
        errors.push(e);

        proxy.queue_faults([TursoFault::DropConnection]);
        let e = db.execute("SELECT 6", ()).await.unwrap_err();
        assert!(matches!(e, Error::Transport { .. }), "{e:?}");
        errors.push(e);

        proxy.queue_faults([TursoFault::Body("<html>gateway</html>".into())]);
        let e = db.execute("SELECT 7", ()).await.unwrap_err();
        assert!(matches!(e, Error::MalformedResponse { .. }), "{e:?}");
        errors.push(e);

        let unreachable =
            Database::open(&format!("http://127.0.0.1:{down}"), Some(Sqld::AUTH_TOKEN))
                .unwrap()
                .with_namespace(ns);
        let e = unreachable.execute("SELECT 8", ()).await.unwrap_err();
        assert!(matches!(e, Error::Connect { .. }), "{e:?}");
        errors.push(e);

        // Without a TLS backend (spanforge's `tls` feature off), https:// says so instead of
        // failing oddly; with one, the TLS handshake with the plain-HTTP proxy fails.
        let https = Database::open(&format!("https://127.0.0.1:{port}"), Some(Sqld::AUTH_TOKEN))
            .unwrap()
            .with_namespace(ns);
        let e = https.execute("SELECT 9", ()).await.unwrap_err();
        match &e {
            Error::TlsUnavailable { .. } => {
                assert!(
                    e.to_string().contains("enable spanforge's `tls` feature"),
                    "{e}"
                );
            }
            Error::Connect { .. } => {}
            other => panic!("{other:?}"),
        }
        let tls_error_type = e.error_type();
        errors.push(e);

        // A transaction whose request failed over HTTP cannot go on.
        let tx = db.transaction().await.unwrap();
        proxy.queue_faults([TursoFault::unavailable()]);
        let e = tx.execute("SELECT 10", ()).await.unwrap_err();
        assert_eq!(e.status(), Some(503));
        let e = tx.execute("SELECT 11", ()).await.unwrap_err();
        assert!(matches!(e, Error::StreamClosed(_)), "{e:?}");
        errors.push(e);
        drop(tx);
        (errors, tls_error_type)
    }
    .instrument(root)
    .await;
    let (errors, tls_error_type) = errors;
    for e in &errors {
        for secret in [Sqld::AUTH_TOKEN, Sqld::WRONG_KEY_TOKEN] {
            assert!(!e.to_string().contains(secret), "{e}");
            assert!(!format!("{e:?}").contains(secret), "{e:?}");
        }
    }

    let root = span_where("the root", |s| s.name == "turso_faults").await;
    let t = root.trace_id.as_str();
    for (n, error_type) in [
        (1, "401"),
        (2, "401"),
        (3, "503"),
        (4, "429"),
        (5, "timeout"),
        (6, "connection_dropped"),
        (7, "malformed_response"),
        (8, "connection_failed"),
        (9, tls_error_type.as_str()),
        (10, "503"),
        (11, "stream_closed"),
    ] {
        let text = format!("SELECT {n}");
        let span = span_where(&text, |s| {
            s.trace_id == t
                && s.str_attr("db.query.text") == Some("SELECT ?")
                && s.status_message.contains(error_type_hint(error_type))
                && s.str_attr("error.type") == Some(error_type)
        })
        .await;
        assert_eq!(span.status_code, StatusCode::Error, "{text}");
        assert_eq!(span.kind, SpanKind::Client);
        assert!(span.str_attr("db.response.status_code").is_none(), "{text}");
        for secret in [Sqld::AUTH_TOKEN, Sqld::WRONG_KEY_TOKEN] {
            assert!(!span.status_message.contains(secret));
        }
    }
    let unreachable = span_where("the span of the unreachable server", |s| {
        s.trace_id == t
            && s.str_attr("error.type") == Some("connection_failed")
            && s.status_message.contains(&format!("127.0.0.1:{down}"))
    })
    .await;
    assert_eq!(unreachable.int_attr("server.port"), Some(i64::from(down)));
}

/// A piece of the span's status message for each error type.
fn error_type_hint(error_type: &str) -> &'static str {
    match error_type {
        "401" => "HTTP 401",
        "503" => "HTTP 503",
        "429" => "HTTP 429",
        "timeout" => "did not answer within",
        "connection_dropped" => "request to",
        "malformed_response" => "malformed answer",
        "connection_failed" => "cannot connect",
        "tls_unavailable" => "needs TLS",
        "stream_closed" => "stream is closed",
        _ => "",
    }
}

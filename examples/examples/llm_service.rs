//! A small prompt-platform service, instrumented with spanforge.
//!
//! Run with `cargo run -p spanforge-examples --example llm_service`
//! then `curl -X POST localhost:8000/prompts -H 'content-type: application/json' \
//!   -d '{"name":"greet","version":1,"template":"Say hello to {{who}}"}'`
//! and `curl -X POST localhost:8000/prompts/greet/run -H 'content-type: application/json' \
//!   -d '{"variables":{"who":"Ada"}}'`.
//!
//! The model comes from `OPENAI_BASE_URL` / `OPENAI_API_KEY` or `ANTHROPIC_API_KEY` (and
//! `LLM_MODEL`); without any, runs answer 503 "no LLM configured".
//!
//! Reads `PORT` (default 8000), the standard `OTEL_*` variables, `DATABASE_URL` (else
//! `TURSO_DATABASE_URL`; default `llm_service.db`) and `REDIS_URL` (optional, e.g.
//! `redis://127.0.0.1:6379/0`: caches each prompt's latest version). The database is a
//! local libSQL file, or a remote one: `libsql://<db>-<org>.turso.io` with
//! `TURSO_AUTH_TOKEN` (Turso, over HTTPS: the build needs a TLS backend, see the TLS
//! section of docs/database.md), or `http://127.0.0.1:8080` (a libSQL server, `sqld`).
//! Every query is a span either way; remote ones also count Turso's rows read and written.

use anyhow::Context as _;
use std::time::Duration;

use spanforge::health::{Health, probes};
use spanforge_examples::llm_service::{Store, llm, router};

/// Where the data lives when `DATABASE_URL` is not set.
const DEFAULT_DATABASE_URL: &str = "llm_service.db";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut config = spanforge::Config::from_env()?
        .with_service_name(
            std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| "llm_service".into()),
        )
        .with_service_version(env!("CARGO_PKG_VERSION"));
    // LLM traces also go to Langfuse when its keys are set (each destination has its own queue).
    if std::env::var_os("LANGFUSE_PUBLIC_KEY").is_some() {
        let langfuse = spanforge_langfuse::LangfuseExporter::from_env()
            .context("configuring the Langfuse exporter")?;
        config = config.with_span_exporter("langfuse", langfuse);
    }
    let telemetry = spanforge::init(config)?;
    let port: u16 = match std::env::var("PORT") {
        Ok(raw) => raw
            .parse()
            .with_context(|| format!("PORT={raw:?} is not a port number"))?,
        Err(_) => 8000,
    };
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", port))
        .await
        .with_context(|| format!("binding port {port}"))?;
    tracing::info!(port, "llm_service listening");

    // After init: the pool registers its metrics with the installed meter provider.
    let database_url = std::env::var("DATABASE_URL")
        .or_else(|_| std::env::var("TURSO_DATABASE_URL"))
        .unwrap_or_else(|_| DEFAULT_DATABASE_URL.to_owned());
    let auth_token = std::env::var("TURSO_AUTH_TOKEN").ok();
    // Shown without its query: a libsql:// URL may carry ?authToken=.
    let shown = database_url
        .split('?')
        .next()
        .unwrap_or_default()
        .to_owned();
    let mut store = Store::open_with_token(&database_url, auth_token.as_deref())
        .await
        .with_context(|| format!("opening the database {shown:?}"))?;
    tracing::info!(database = %shown, remote = store.is_remote(), "database opened");
    if let Ok(redis_url) = std::env::var("REDIS_URL") {
        store = store
            .with_cache(&redis_url)
            .await
            .context("connecting to Redis (REDIS_URL)")?;
    }

    // The model of the runs: OPENAI_* or ANTHROPIC_* (see llm_service::llm); none is fine.
    let llm = llm::Llm::from_env().context("configuring the LLM client")?;
    tracing::info!(llm = %llm.describe(), "LLM configured");
    llm::install(llm);

    let health = health_probes(&store);
    let _background = health.spawn_background(Duration::from_secs(30));
    let app = router(store, &health);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .context("serving")?;

    tracing::info!("shutting down; flushing telemetry");
    telemetry.shutdown().await.context("flushing telemetry")?;
    Ok(())
}

/// Readiness probes: the OTLP collector (not critical: telemetry loss must not take the
/// service out of rotation), the database (critical; for a remote database, an HTTP round
/// trip that also checks the token) and the Redis cache (not critical: reads fall back to
/// the database).
fn health_probes(store: &Store) -> Health {
    let mut health = Health::new();
    let endpoint = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT")
        .unwrap_or_else(|_| "http://localhost:4318".to_owned());
    if let Some(address) = probes::otlp_address(&endpoint) {
        health = health.probe("otlp", false, Duration::from_secs(1), probes::tcp(address));
    }
    let db = store.clone();
    health = health.probe("database", true, Duration::from_secs(2), move || {
        let db = db.clone();
        async move { db.ping_database().await }
    });
    if store.has_cache() {
        let cache = store.clone();
        health = health.probe("redis", false, Duration::from_secs(1), move || {
            let cache = cache.clone();
            async move { cache.ping_cache().await }
        });
    }
    health
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

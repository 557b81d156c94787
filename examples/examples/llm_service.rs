//! A small prompt-platform service, instrumented with spanforge.
//!
//! Run with `cargo run -p spanforge-examples --example llm_service`
//! then `curl -X POST localhost:8000/prompts -H 'content-type: application/json' \
//!   -d '{"name":"greet","version":1,"template":"Say hello to {{who}}"}'`
//! and `curl -X POST localhost:8000/prompts/greet/run -H 'content-type: application/json' \
//!   -d '{"variables":{"who":"Ada"}}'`.
//!
//! Reads `PORT` (default 8000) and the standard `OTEL_*` variables.

use anyhow::Context as _;
use std::time::Duration;

use spanforge::health::{Health, probes};
use spanforge_examples::llm_service::{Store, router};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let telemetry = spanforge::init(
        spanforge::Config::from_env()?
            .with_service_name(
                std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| "llm_service".into()),
            )
            .with_service_version(env!("CARGO_PKG_VERSION")),
    )?;
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

    let health = health_probes();
    let _background = health.spawn_background(Duration::from_secs(30));
    let app = router(Store::default(), &health);
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
/// service out of rotation).
fn health_probes() -> Health {
    let mut health = Health::new();
    let endpoint = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT")
        .unwrap_or_else(|_| "http://localhost:4318".to_owned());
    if let Some(address) = probes::otlp_address(&endpoint) {
        health = health.probe("otlp", false, Duration::from_secs(1), probes::tcp(address));
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

//! Ready-made probes for common dependencies.

use std::future::Future;
use std::time::Duration;

/// A probe that succeeds when a TCP connection to `address` (`host:port`) can be opened —
/// enough for an OTLP collector, Redis or a database whose client has no ping.
pub fn tcp(
    address: impl Into<String>,
) -> impl Fn() -> std::pin::Pin<Box<dyn Future<Output = Result<(), String>> + Send>>
+ Send
+ Sync
+ 'static {
    let address = address.into();
    move || {
        let address = address.clone();
        Box::pin(async move {
            tokio::net::TcpStream::connect(&address)
                .await
                .map(drop)
                .map_err(|e| format!("cannot connect to {address}: {e}"))
        })
    }
}

/// The `host:port` of an OTLP endpoint URL such as `http://collector:4317`, for [`tcp`].
/// `None` when the URL has no host.
pub fn otlp_address(endpoint: &str) -> Option<String> {
    let uri: http::Uri = endpoint.parse().ok()?;
    let host = uri.host()?;
    let port = uri.port_u16().unwrap_or(match uri.scheme_str() {
        Some("https") => 443,
        _ => 80,
    });
    Some(format!("{host}:{port}"))
}

/// A probe that always fails with `reason` after `delay` — useful to check alerting and
/// dashboards end to end.
pub fn failing(
    reason: &'static str,
    delay: Duration,
) -> impl Fn() -> std::pin::Pin<Box<dyn Future<Output = Result<(), String>> + Send>>
+ Send
+ Sync
+ 'static {
    move || {
        Box::pin(async move {
            tokio::time::sleep(delay).await;
            Err(reason.to_owned())
        })
    }
}

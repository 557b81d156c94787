//! The Redis check: `PING` over a new connection.

use std::time::Duration;

use super::{Finding, human_duration};

/// `redis://host:port/db` without user name or password.
fn shown(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(parsed) if parsed.has_host() => {
            let mut out = format!(
                "{}://{}",
                parsed.scheme(),
                parsed.host_str().unwrap_or_default()
            );
            if let Some(port) = parsed.port() {
                out.push_str(&format!(":{port}"));
            }
            let path = parsed.path();
            if path != "/" {
                out.push_str(path);
            }
            out
        }
        Ok(parsed) => format!("{}://{}", parsed.scheme(), parsed.path()),
        Err(_) => "REDIS_URL".to_owned(),
    }
}

pub(crate) async fn check(url: Option<String>, timeout: Duration) -> Finding {
    let Some(url) = url.map(|u| u.trim().to_owned()).filter(|u| !u.is_empty()) else {
        return Finding::not_configured(None, "REDIS_URL is not set");
    };
    let target = shown(&url);
    #[cfg(not(feature = "tls"))]
    if url.starts_with("rediss://") || url.starts_with("valkeys://") {
        return Finding::failed(
            Some(target),
            "TLS (rediss://) is not supported: this build of spanforge has no TLS backend (it \
             was built without the `tls` feature)",
        );
    }
    // The client's errors do not contain the URL, so they are safe to show.
    let client = match ::redis::Client::open(url.as_str()) {
        Ok(client) => client,
        Err(e) => return Finding::failed(Some(target), format!("REDIS_URL is invalid: {e}")),
    };
    let ping = async {
        let mut connection = client
            .get_multiplexed_async_connection()
            .await
            .map_err(|e| format!("cannot connect: {e}"))?;
        ::redis::cmd("PING")
            .query_async::<String>(&mut connection)
            .await
            .map_err(|e| format!("PING failed: {e}"))
    };
    match tokio::time::timeout(timeout, ping).await {
        Ok(Ok(reply)) => Finding::ok(target, reply),
        Ok(Err(reason)) => Finding::failed(Some(target), reason),
        Err(_) => Finding::failed(
            Some(target),
            format!("no answer within {}", human_duration(timeout)),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(
            shown("redis://:hunter2@cache:6380/2"),
            "redis://cache:6380/2"
        );
        assert_eq!(shown("redis://user:hunter2@cache"), "redis://cache");
        assert_eq!(
            shown("redis+unix:///run/redis.sock"),
            "redis+unix:///run/redis.sock"
        );
        assert_eq!(shown("not a url hunter2"), "REDIS_URL");
    }
}

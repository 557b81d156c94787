//! Posting a report to a Discord webhook.
//!
//! Discord takes `{"content": "..."}` of at most 2000 characters per message, answers 204,
//! and rate-limits with 429 and a JSON body `{"retry_after": <seconds>, ...}`. A longer
//! report goes out as several messages, split between lines. The webhook URL holds the
//! webhook's token: it is never printed, errors name only its host.
//!
//! Every real webhook is `https://discord.com/api/webhooks/…`: that needs the crate's `tls`
//! feature (on by default). A build without it refuses `https://` up front
//! ([`DiscordError::HttpsUnsupported`]).

use std::time::Duration;

use reqwest::{StatusCode, Url};
use serde::Deserialize;

use crate::prometheus::{http_client, snippet, transport_cause};

/// Discord's limit on a message's `content`.
pub const MESSAGE_LIMIT: usize = 2000;

/// How often one message is retried after 429 before giving up.
const MAX_ATTEMPTS: u32 = 5;

/// The longest `retry_after` waited for; a longer one fails the post.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// Why a post to the webhook failed.
#[derive(Debug, thiserror::Error)]
pub enum DiscordError {
    /// The webhook URL does not parse. The URL itself is not repeated (it holds a token).
    #[error("the Discord webhook URL is invalid: {0}")]
    InvalidUrl(String),
    /// An `https://` webhook (every real Discord webhook is), in a build without the `tls`
    /// feature: it has no TLS backend.
    #[error(
        "the Discord webhook at {host} is https, which this build of spanforge cannot reach \
         (no TLS backend: it was built without the `tls` feature); use a plain-HTTP relay to \
         Discord"
    )]
    HttpsUnsupported {
        /// The webhook's host.
        host: String,
    },
    /// The webhook could not be reached, or did not answer in time.
    #[error("the Discord webhook at {host} is unreachable: {reason}")]
    Unreachable {
        /// The webhook's host.
        host: String,
        /// The transport error.
        reason: String,
    },
    /// The webhook answered with a non-2xx status other than a 429 that could be waited out.
    #[error(
        "the Discord webhook at {host} answered HTTP {status} for message {message} of {messages}: {body}"
    )]
    Status {
        /// The webhook's host.
        host: String,
        /// The status code.
        status: u16,
        /// Which message (from 1).
        message: usize,
        /// How many messages the report needed.
        messages: usize,
        /// The start of the answer's body.
        body: String,
    },
    /// Still rate-limited after the retries, or asked to wait longer than a minute.
    #[error(
        "the Discord webhook at {host} kept rate-limiting (HTTP 429, retry after {retry_after:?}) after {attempts} attempts"
    )]
    RateLimited {
        /// The webhook's host.
        host: String,
        /// Attempts made for the message.
        attempts: u32,
        /// The last `retry_after`.
        retry_after: Duration,
    },
}

/// A Discord webhook.
pub struct DiscordWebhook {
    url: Url,
    host: String,
    http: reqwest::Client,
}

impl std::fmt::Debug for DiscordWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiscordWebhook")
            .field("host", &self.host)
            .field("url", &"<redacted>")
            .finish()
    }
}

impl DiscordWebhook {
    /// A webhook at `url`, each request bounded by `timeout`.
    ///
    /// # Errors
    ///
    /// [`DiscordError::InvalidUrl`]; without the `tls` feature,
    /// [`DiscordError::HttpsUnsupported`] for an `https://` webhook.
    pub fn new(url: &str, timeout: Duration) -> Result<DiscordWebhook, DiscordError> {
        let url = Url::parse(url.trim()).map_err(|e| DiscordError::InvalidUrl(e.to_string()))?;
        let host = match (url.host_str(), url.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_owned(),
            (None, _) => return Err(DiscordError::InvalidUrl("no host".to_owned())),
        };
        #[cfg(not(feature = "tls"))]
        if url.scheme() == "https" {
            return Err(DiscordError::HttpsUnsupported { host });
        }
        match url.scheme() {
            "http" | "https" => {}
            other => {
                return Err(DiscordError::InvalidUrl(format!(
                    "scheme {other:?} is not http or https"
                )));
            }
        }
        let http = http_client(|builder| builder.timeout(timeout))
            .map_err(|e| DiscordError::InvalidUrl(e.without_url().to_string()))?;
        Ok(DiscordWebhook { url, host, http })
    }

    /// Posts `content`, split into as many messages as Discord's limit needs. Returns the
    /// number of messages sent.
    ///
    /// # Errors
    ///
    /// The first message that could not be delivered; the messages before it were.
    pub async fn post(&self, content: &str) -> Result<usize, DiscordError> {
        let messages = split_message(content, MESSAGE_LIMIT);
        for (index, message) in messages.iter().enumerate() {
            self.post_one(message, index + 1, messages.len()).await?;
        }
        Ok(messages.len())
    }

    async fn post_one(
        &self,
        content: &str,
        message: usize,
        messages: usize,
    ) -> Result<(), DiscordError> {
        // No pings from a report: a service called "@everyone" stays text.
        let body = serde_json::json!({ "content": content, "allowed_mentions": { "parse": [] } });
        let mut attempts = 0;
        loop {
            attempts += 1;
            let response = self
                .http
                .post(self.url.clone())
                .json(&body)
                .send()
                .await
                .map_err(|e| DiscordError::Unreachable {
                    host: self.host.clone(),
                    reason: transport_cause(&e.without_url()),
                })?;
            let status = response.status();
            if status.is_success() {
                return Ok(());
            }
            let header_wait = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<f64>().ok());
            let bytes = response.bytes().await.unwrap_or_default();
            if status != StatusCode::TOO_MANY_REQUESTS {
                return Err(DiscordError::Status {
                    host: self.host.clone(),
                    status: status.as_u16(),
                    message,
                    messages,
                    body: snippet(&bytes),
                });
            }
            let retry_after = retry_after(&bytes).or(header_wait).unwrap_or(1.0);
            let wait = Duration::try_from_secs_f64(retry_after.max(0.0)).unwrap_or(Duration::MAX);
            if attempts >= MAX_ATTEMPTS || wait > MAX_RETRY_AFTER {
                return Err(DiscordError::RateLimited {
                    host: self.host.clone(),
                    attempts,
                    retry_after: wait,
                });
            }
            tokio::time::sleep(wait).await;
        }
    }
}

/// `retry_after` (seconds, possibly fractional) from a 429 body.
fn retry_after(body: &[u8]) -> Option<f64> {
    #[derive(Deserialize)]
    struct RateLimit {
        retry_after: f64,
    }
    serde_json::from_slice::<RateLimit>(body)
        .ok()
        .map(|r| r.retry_after)
        .filter(|s| s.is_finite())
}

/// Discord counts UTF-16 code units; counting them never undercounts.
fn length(text: &str) -> usize {
    text.encode_utf16().count()
}

/// Splits `content` into messages of at most `limit` UTF-16 units, between lines where
/// possible (a single longer line is cut between characters).
pub fn split_message(content: &str, limit: usize) -> Vec<String> {
    let content = content.trim_end();
    let mut messages = Vec::new();
    let mut current = String::new();
    for line in content.split_inclusive('\n') {
        if length(&current) + length(line) <= limit {
            current.push_str(line);
            continue;
        }
        if !current.trim().is_empty() {
            messages.push(current.trim_end().to_owned());
        }
        current = String::new();
        let mut rest = line;
        while length(rest) > limit {
            let mut units = 0;
            let cut = rest
                .char_indices()
                .find(|(_, c)| {
                    units += c.len_utf16();
                    units > limit
                })
                .map_or(rest.len(), |(i, _)| i);
            messages.push(rest[..cut].to_owned());
            rest = &rest[cut..];
        }
        current.push_str(rest);
    }
    if !current.trim().is_empty() {
        messages.push(current.trim_end().to_owned());
    }
    messages
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_content_is_one_message() {
        assert_eq!(split_message("a\nb\n", 2000), vec!["a\nb".to_owned()]);
    }

    #[test]
    fn long_content_splits_between_lines() {
        let line = format!("- ✅ {}\n", "x".repeat(95));
        let content = line.repeat(50);
        let messages = split_message(&content, MESSAGE_LIMIT);
        assert!(messages.len() > 1);
        for message in &messages {
            assert!(length(message) <= MESSAGE_LIMIT);
            assert!(message.starts_with("- ✅"));
        }
        assert_eq!(messages.join("\n") + "\n", content);
    }

    #[test]
    fn a_line_longer_than_the_limit_is_cut() {
        let content = "é".repeat(4500);
        let messages = split_message(&content, MESSAGE_LIMIT);
        assert_eq!(
            messages.iter().map(|m| length(m)).collect::<Vec<_>>(),
            [2000, 2000, 500]
        );
        assert_eq!(messages.concat(), content);
    }

    #[cfg(not(feature = "tls"))]
    #[test]
    fn https_is_refused_without_tls() {
        let error = DiscordWebhook::new(
            "https://discord.com/api/webhooks/1/secret-token",
            Duration::from_secs(1),
        )
        .unwrap_err();
        let text = error.to_string();
        assert!(
            text.starts_with("the Discord webhook at discord.com is https"),
            "{text}"
        );
        assert!(!text.contains("secret-token"));
    }

    #[test]
    fn urls_are_checked_and_never_shown() {
        #[cfg(feature = "tls")]
        {
            let webhook = DiscordWebhook::new(
                "https://discord.com/api/webhooks/1/secret-token",
                Duration::from_secs(1),
            )
            .unwrap();
            assert_eq!(webhook.host, "discord.com");
            assert!(!format!("{webhook:?}").contains("secret-token"));
        }
        let error = DiscordWebhook::new(
            "ftp://discord.com/api/webhooks/1/secret-token",
            Duration::from_secs(1),
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "the Discord webhook URL is invalid: scheme \"ftp\" is not http or https"
        );
        let webhook = DiscordWebhook::new(
            "http://127.0.0.1:9/api/webhooks/1/secret-token",
            Duration::from_secs(1),
        )
        .unwrap();
        assert!(!format!("{webhook:?}").contains("secret-token"));
        assert_eq!(
            retry_after(
                br#"{"message":"You are being rate limited.","retry_after":0.25,"global":false}"#
            ),
            Some(0.25)
        );
    }
}

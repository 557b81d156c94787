//! The span exporter: filter, map, split, send, retry.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::hash::{BuildHasher, BuildHasherDefault, Hash, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use opentelemetry::trace::{SpanId, TraceId};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

use crate::batch;
use crate::config::{ConfigError, IngestionMode, LangfuseConfig, SpanFilter};
use crate::mapping;
use crate::otlp::{self, ExportResource};

/// The `x-langfuse-ingestion-version` header value (real-time processing).
pub const INGESTION_VERSION: &str = "4";

/// Counters of what the exporter did, since it was built.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LangfuseStats {
    /// Spans Langfuse accepted (in batch mode, approximate when a batch was split into
    /// several requests; rejected events are counted in `events_rejected`).
    pub spans_sent: u64,
    /// Spans the filter left out (not GenAI, or rejected by a custom filter).
    pub spans_filtered: u64,
    /// Spans never sent because their trace or span id is invalid.
    pub spans_invalid: u64,
    /// Spans lost: retries exhausted, credentials rejected or another 4xx.
    pub spans_dropped: u64,
    /// HTTP requests made, retries included.
    pub requests: u64,
    /// Retries after a 429, a 5xx or a transport error.
    pub retries: u64,
    /// Requests answered 401 or 403.
    pub auth_failures: u64,
    /// String attribute values truncated for size.
    pub truncated_values: u64,
    /// Batch mode: ingestion events Langfuse rejected for good (a 4xx in a 207 answer).
    pub events_rejected: u64,
}

#[derive(Debug, Default)]
struct Counters {
    spans_sent: AtomicU64,
    spans_filtered: AtomicU64,
    spans_invalid: AtomicU64,
    spans_dropped: AtomicU64,
    requests: AtomicU64,
    retries: AtomicU64,
    auth_failures: AtomicU64,
    truncated_values: AtomicU64,
    events_rejected: AtomicU64,
}

fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

/// A trace id with its hash under [`GenAiTraces`]' keyed hasher, computed once per span
/// rather than once per map operation.
#[derive(Debug, Clone, Copy)]
struct TraceKey {
    id: TraceId,
    hash: u64,
}

impl PartialEq for TraceKey {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for TraceKey {}

impl Hash for TraceKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

/// The hasher of maps keyed by [`TraceKey`]: the precomputed hash, as is.
#[derive(Debug, Default)]
struct Precomputed(u64);

impl Hasher for Precomputed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used; anything else still hashes.
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

/// Per trace, the ids of ancestors not yet seen, for traces known to hold GenAI spans.
/// Bounded: the oldest trace is forgotten first.
#[derive(Debug, Default)]
struct GenAiTraces {
    /// Keyed (SipHash, random keys): trace ids can come from remote callers.
    keys: RandomState,
    wanted: HashMap<TraceKey, HashSet<SpanId>, BuildHasherDefault<Precomputed>>,
    order: VecDeque<TraceKey>,
}

impl GenAiTraces {
    fn key(&self, id: TraceId) -> TraceKey {
        TraceKey {
            id,
            hash: self.keys.hash_one(id),
        }
    }

    fn remember(&mut self, trace: TraceKey, capacity: usize) -> &mut HashSet<SpanId> {
        if !self.wanted.contains_key(&trace) {
            while self.order.len() >= capacity.max(1) {
                if let Some(old) = self.order.pop_front() {
                    self.wanted.remove(&old);
                }
            }
            self.order.push_back(trace);
        }
        self.wanted.entry(trace).or_default()
    }
}

struct Inner {
    config: LangfuseConfig,
    client: reqwest::Client,
    authorization: String,
    endpoint: String,
    resource: RwLock<Arc<ExportResource>>,
    genai: Mutex<GenAiTraces>,
    /// The buffer of a sent request, reused for the next export's.
    spare_buffer: Mutex<Option<Vec<u8>>>,
    counters: Counters,
    auth_reported: AtomicBool,
    other_4xx_reported: AtomicBool,
    event_rejection_reported: AtomicBool,
    shut_down: AtomicBool,
}

/// A span exporter sending to Langfuse: OTLP/HTTP protobuf to
/// `{base}/api/public/otel/v1/traces` by default, or ingestion events to
/// `{base}/api/public/ingestion` in [`IngestionMode::Batch`]. Cloning gives another handle
/// to the same exporter, e.g. to read [`stats`](Self::stats) after handing it to spanforge.
#[derive(Clone)]
pub struct LangfuseExporter {
    inner: Arc<Inner>,
}

impl fmt::Debug for LangfuseExporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LangfuseExporter")
            .field("config", &self.inner.config)
            .field("endpoint", &self.inner.endpoint)
            .finish_non_exhaustive()
    }
}

impl LangfuseExporter {
    /// An exporter configured from the environment ([`LangfuseConfig::from_env`]).
    pub fn from_env() -> Result<LangfuseExporter, ConfigError> {
        LangfuseExporter::new(LangfuseConfig::from_env()?)
    }

    /// An exporter with the given configuration.
    pub fn new(config: LangfuseConfig) -> Result<LangfuseExporter, ConfigError> {
        // Proxies from the environment apply, except to a Langfuse on this machine.
        let host = config
            .base_url
            .split("://")
            .nth(1)
            .unwrap_or_default()
            .split(['/', ':'])
            .next()
            .unwrap_or_default();
        let mut builder = reqwest::Client::builder();
        if matches!(host, "localhost" | "127.0.0.1" | "[") || host.starts_with("127.") {
            builder = builder.no_proxy();
        }
        let client = builder
            .build()
            .map_err(|e| ConfigError::Client(e.to_string()))?;
        let authorization = format!(
            "Basic {}",
            base64(format!("{}:{}", config.public_key, config.secret_key).as_bytes())
        );
        let endpoint = match config.mode {
            IngestionMode::Otel => config.traces_endpoint(),
            IngestionMode::Batch => config.ingestion_endpoint(),
        };
        Ok(LangfuseExporter {
            inner: Arc::new(Inner {
                config,
                client,
                authorization,
                endpoint,
                resource: RwLock::new(Arc::new(ExportResource::new(
                    &Resource::builder_empty().build(),
                ))),
                genai: Mutex::new(GenAiTraces::default()),
                spare_buffer: Mutex::new(None),
                counters: Counters::default(),
                auth_reported: AtomicBool::new(false),
                other_4xx_reported: AtomicBool::new(false),
                event_rejection_reported: AtomicBool::new(false),
                shut_down: AtomicBool::new(false),
            }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &LangfuseConfig {
        &self.inner.config
    }

    /// What the exporter did so far.
    pub fn stats(&self) -> LangfuseStats {
        let c = &self.inner.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        LangfuseStats {
            spans_sent: get(&c.spans_sent),
            spans_filtered: get(&c.spans_filtered),
            spans_invalid: get(&c.spans_invalid),
            spans_dropped: get(&c.spans_dropped),
            requests: get(&c.requests),
            retries: get(&c.retries),
            auth_failures: get(&c.auth_failures),
            truncated_values: get(&c.truncated_values),
            events_rejected: get(&c.events_rejected),
        }
    }

    /// Which spans of the batch to send: those with valid ids that pass the filter.
    fn select(&self, batch: &[SpanData]) -> Vec<bool> {
        let inner = &self.inner;
        let valid: Vec<bool> = batch.iter().map(|s| s.span_context.is_valid()).collect();
        let valid_count = valid.iter().filter(|&&v| v).count();
        add(
            &inner.counters.spans_invalid,
            (batch.len() - valid_count) as u64,
        );
        let keep = match &inner.config.filter {
            SpanFilter::All => valid,
            SpanFilter::Custom(predicate) => valid
                .iter()
                .zip(batch)
                .map(|(&v, s)| v && predicate(s))
                .collect(),
            SpanFilter::GenAiTraces => self.select_genai(batch, valid),
        };
        let kept = keep.iter().filter(|&&k| k).count();
        add(&inner.counters.spans_filtered, (valid_count - kept) as u64);
        keep
    }

    fn select_genai(&self, batch: &[SpanData], valid: Vec<bool>) -> Vec<bool> {
        let mut index: HashMap<(TraceId, SpanId), usize> = HashMap::with_capacity(batch.len());
        for (i, s) in batch.iter().enumerate() {
            if valid[i] {
                index.insert((s.span_context.trace_id(), s.span_context.span_id()), i);
            }
        }
        let mut selected = vec![false; batch.len()];
        let capacity = self.inner.config.genai_trace_memory;
        let Ok(mut memory) = self.inner.genai.lock() else {
            return batch
                .iter()
                .zip(valid)
                .map(|(s, v)| v && mapping::is_genai(s))
                .collect();
        };
        // Seeds: GenAI spans, and spans an earlier batch's GenAI span is waiting for.
        let mut seeds = Vec::new();
        for (i, span) in batch.iter().enumerate() {
            if !valid[i] {
                continue;
            }
            let trace = memory.key(span.span_context.trace_id());
            let id = span.span_context.span_id();
            if mapping::is_genai(span) {
                memory.remember(trace, capacity);
                seeds.push((i, trace));
            } else if let Some(wanted) = memory.wanted.get_mut(&trace)
                && wanted.remove(&id)
            {
                seeds.push((i, trace));
            }
        }
        // Ancestors are in the seed's trace.
        for (seed, trace_key) in seeds {
            let mut at = seed;
            loop {
                if selected[at] {
                    break;
                }
                selected[at] = true;
                let span = &batch[at];
                let trace = span.span_context.trace_id();
                let parent = span.parent_span_id;
                if parent == SpanId::INVALID || span.parent_span_is_remote {
                    break;
                }
                match index.get(&(trace, parent)) {
                    Some(&p) => at = p,
                    None => {
                        memory.remember(trace_key, capacity).insert(parent);
                        break;
                    }
                }
            }
        }
        selected
    }

    /// The resource of the spans, as the requests carry it.
    fn resource(&self) -> Arc<ExportResource> {
        match self.inner.resource.read() {
            Ok(r) => r.clone(),
            Err(_) => Arc::new(ExportResource::new(&Resource::builder_empty().build())),
        }
    }

    fn credentials_rejected(&self, code: u16, spans: u64) -> String {
        let inner = &self.inner;
        add(&inner.counters.auth_failures, 1);
        add(&inner.counters.spans_dropped, spans);
        let message = format!(
            "Langfuse rejected the credentials for public key {} (HTTP {code}); \
             check LANGFUSE_PUBLIC_KEY, LANGFUSE_SECRET_KEY and LANGFUSE_BASE_URL",
            inner.config.public_key
        );
        if !inner.auth_reported.swap(true, Ordering::Relaxed) {
            tracing::error!(target: "spanforge_langfuse", "{message}");
        }
        message
    }

    fn other_4xx(&self, code: u16, spans: u64, text: &str) -> String {
        let inner = &self.inner;
        add(&inner.counters.spans_dropped, spans);
        let message = format!(
            "Langfuse refused {spans} spans with HTTP {code}: {}",
            text.chars().take(500).collect::<String>()
        );
        if !inner.other_4xx_reported.swap(true, Ordering::Relaxed) {
            tracing::error!(target: "spanforge_langfuse", "{message}");
        }
        message
    }

    /// Batch mode: sends events with retries; a 207 answer's 5xx/429 events are retried,
    /// its 4xx events dropped and counted.
    async fn send_batch(
        &self,
        mut events: Vec<serde_json::Value>,
        spans: u64,
        deadline: Instant,
    ) -> Result<(), String> {
        let inner = &self.inner;
        let policy = &inner.config.retry;
        let mut backoff = policy.initial_backoff;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            add(&inner.counters.requests, 1);
            let body = serde_json::to_vec(&serde_json::json!({ "batch": &events }))
                .map_err(|e| e.to_string())?;
            let result = inner
                .client
                .post(&inner.endpoint)
                .header("content-type", "application/json")
                .header("authorization", &inner.authorization)
                .timeout(attempt_timeout(inner.config.request_timeout, deadline))
                .body(body)
                .send()
                .await;
            let (retry_after, failure) = match result {
                Ok(response) => {
                    let status = response.status();
                    let code = status.as_u16();
                    if status.is_success() {
                        let text = response.text().await.unwrap_or_default();
                        let answer: serde_json::Value =
                            serde_json::from_str(&text).unwrap_or_default();
                        let (retry, rejected) = batch::outcome(&answer);
                        if !rejected.is_empty() {
                            add(&inner.counters.events_rejected, rejected.len() as u64);
                            if !inner.event_rejection_reported.swap(true, Ordering::Relaxed) {
                                let (id, status, message) = &rejected[0];
                                tracing::error!(
                                    target: "spanforge_langfuse",
                                    "Langfuse rejected {} ingestion events; first: {id} (HTTP {status}): {message}",
                                    rejected.len()
                                );
                            }
                        }
                        if retry.is_empty() {
                            add(&inner.counters.spans_sent, spans);
                            return Ok(());
                        }
                        let index = batch::by_id(&events);
                        let mut keep: Vec<usize> = retry
                            .iter()
                            .filter_map(|id| index.get(id).copied())
                            .collect();
                        keep.sort_unstable();
                        let mut next = Vec::with_capacity(keep.len());
                        for (i, event) in events.into_iter().enumerate() {
                            if keep.binary_search(&i).is_ok() {
                                next.push(event);
                            }
                        }
                        events = next;
                        if events.is_empty() {
                            add(&inner.counters.spans_sent, spans);
                            return Ok(());
                        }
                        (
                            None,
                            format!("{} events failed with a retryable status", events.len()),
                        )
                    } else if code == 401 || code == 403 {
                        return Err(self.credentials_rejected(code, spans));
                    } else if code != 429 && !status.is_server_error() {
                        let text = response.text().await.unwrap_or_default();
                        return Err(self.other_4xx(code, spans, &text));
                    } else {
                        (retry_after(&response), format!("HTTP {code}"))
                    }
                }
                Err(e) => (None, format!("transport error: {e}")),
            };
            let wait = retry_after
                .unwrap_or_else(|| backoff + jitter(backoff / 2))
                .min(policy.max_backoff);
            backoff = backoff.saturating_mul(2).min(policy.max_backoff);
            if attempt >= policy.max_attempts
                || Instant::now()
                    .checked_add(wait)
                    .is_none_or(|at| at >= deadline)
            {
                add(&inner.counters.spans_dropped, spans);
                let message = format!(
                    "Langfuse ingestion of {} events failed after {attempt} attempts: {failure}",
                    events.len()
                );
                tracing::warn!(target: "spanforge_langfuse", "{message}");
                return Err(message);
            }
            add(&inner.counters.retries, 1);
            tokio::time::sleep(wait).await;
        }
    }

    /// Keeps a sent request's buffer for the next export, when nothing else holds it and
    /// it is not larger than a request may be.
    fn keep_buffer(&self, body: Bytes) {
        let limit = self.inner.config.max_request_bytes;
        if let Ok(mut spare) = self.inner.spare_buffer.lock()
            && spare.is_none()
            && let Ok(buffer) = body.try_into_mut()
            && buffer.capacity() <= limit
        {
            *spare = Some(Vec::from(buffer));
        }
    }

    /// Sends one request with retries. Returns whether Langfuse accepted it.
    async fn send(&self, body: &Bytes, spans: u64, deadline: Instant) -> Result<(), String> {
        let inner = &self.inner;
        let policy = &inner.config.retry;
        let mut backoff = policy.initial_backoff;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            add(&inner.counters.requests, 1);
            let result = inner
                .client
                .post(&inner.endpoint)
                .header("content-type", "application/x-protobuf")
                .header("authorization", &inner.authorization)
                .header("x-langfuse-ingestion-version", INGESTION_VERSION)
                .timeout(attempt_timeout(inner.config.request_timeout, deadline))
                .body(body.clone())
                .send()
                .await;
            let (retry_after, failure) = match result {
                Ok(response) => {
                    let status = response.status();
                    if status.is_success() {
                        add(&inner.counters.spans_sent, spans);
                        return Ok(());
                    }
                    let code = status.as_u16();
                    if code == 401 || code == 403 {
                        return Err(self.credentials_rejected(code, spans));
                    }
                    if code != 429 && !status.is_server_error() {
                        let text = response.text().await.unwrap_or_default();
                        return Err(self.other_4xx(code, spans, &text));
                    }
                    (retry_after(&response), format!("HTTP {code}"))
                }
                Err(e) => {
                    let hint = if inner.endpoint.starts_with("https://") {
                        " (https needs a TLS feature of reqwest, e.g. `rustls`, enabled in the application)"
                    } else {
                        ""
                    };
                    (None, format!("transport error: {e}{hint}"))
                }
            };
            let wait = retry_after
                .unwrap_or_else(|| backoff + jitter(backoff / 2))
                .min(policy.max_backoff);
            backoff = backoff.saturating_mul(2).min(policy.max_backoff);
            if attempt >= policy.max_attempts
                || Instant::now()
                    .checked_add(wait)
                    .is_none_or(|at| at >= deadline)
            {
                add(&inner.counters.spans_dropped, spans);
                let message = format!(
                    "Langfuse export of {spans} spans failed after {attempt} attempts: {failure}"
                );
                tracing::warn!(target: "spanforge_langfuse", "{message}");
                return Err(message);
            }
            add(&inner.counters.retries, 1);
            tokio::time::sleep(wait).await;
        }
    }
}

/// The timeout of one attempt: the configured one, cut to what is left of the budget.
fn attempt_timeout(configured: Duration, deadline: Instant) -> Duration {
    configured
        .min(deadline.saturating_duration_since(Instant::now()))
        .max(Duration::from_millis(1))
}

fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
}

/// A random duration in `[0, max)`, from the clock (good enough for jitter).
fn jitter(max: Duration) -> Duration {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let mixed = (u64::from(nanos)).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11;
    let fraction = (mixed as f64) / ((1u64 << 53) as f64);
    max.mul_f64(fraction)
}

fn base64(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(TABLE[(n >> 18) as usize & 63] as char);
        out.push(TABLE[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            TABLE[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            TABLE[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

impl SpanExporter for LangfuseExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        if self.inner.shut_down.load(Ordering::Relaxed) {
            return Err(OTelSdkError::AlreadyShutdown);
        }
        let keep = self.select(&batch);
        if !keep.contains(&true) {
            return Ok(());
        }
        let resource = self.resource();
        let max_attr = self.inner.config.max_attribute_bytes;
        // One time budget for the whole export, retries and split requests included.
        let deadline = || {
            let now = Instant::now();
            now.checked_add(self.inner.config.retry.max_elapsed)
                .unwrap_or(now + Duration::from_secs(3600))
        };
        let mut errors = Vec::new();
        match self.inner.config.mode {
            IngestionMode::Otel => {
                let spans: Vec<&SpanData> = batch
                    .iter()
                    .zip(&keep)
                    .filter_map(|(s, &k)| k.then_some(s))
                    .collect();
                let spare = self
                    .inner
                    .spare_buffer
                    .lock()
                    .ok()
                    .and_then(|mut s| s.take());
                let encoded = otlp::encode(
                    &spans,
                    &resource,
                    self.inner.config.max_request_bytes,
                    max_attr,
                    spare,
                );
                drop(spans);
                drop(batch);
                add(
                    &self.inner.counters.truncated_values,
                    encoded.truncated as u64,
                );
                let deadline = deadline();
                for (body, count) in encoded.requests {
                    if let Err(e) = self.send(&body, count, deadline).await {
                        errors.push(e);
                    }
                    self.keep_buffer(body);
                }
            }
            IngestionMode::Batch => {
                let mut spans: Vec<SpanData> = batch
                    .into_iter()
                    .zip(keep)
                    .filter_map(|(s, k)| k.then_some(s))
                    .collect();
                let info = &resource.info;
                let roots: HashMap<TraceId, String> = spans
                    .iter()
                    .filter(|s| s.parent_span_id == SpanId::INVALID)
                    .map(|s| (s.span_context.trace_id(), s.name.to_string()))
                    .collect();
                let mut truncated = 0;
                for span in spans.iter_mut() {
                    let root = roots.get(&span.span_context.trace_id());
                    mapping::map_span(span, info, root.map(String::as_str));
                    truncated += mapping::truncate_strings(span, max_attr);
                }
                add(&self.inner.counters.truncated_values, truncated as u64);
                let deadline = deadline();
                let mut events = Vec::new();
                for span in &spans {
                    events.extend(batch::events(span, info));
                }
                let requests = batch::pack(events, self.inner.config.max_request_bytes);
                let per_request = (spans.len() as u64).div_ceil(requests.len().max(1) as u64);
                for events in requests {
                    if let Err(e) = self.send_batch(events, per_request, deadline).await {
                        errors.push(e);
                    }
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(OTelSdkError::InternalFailure(errors.join("; ")))
        }
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        self.inner.shut_down.store(true, Ordering::Relaxed);
        Ok(())
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn set_resource(&mut self, resource: &Resource) {
        let encoded = Arc::new(ExportResource::new(resource));
        if let Ok(mut r) = self.inner.resource.write() {
            *r = encoded;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"pk-lf-1:sk-lf-2"), "cGstbGYtMTpzay1sZi0y");
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let config = LangfuseConfig::builder("pk-lf-public", "sk-lf-very-secret")
            .base_url("http://localhost:3000")
            .build()
            .unwrap();
        let exporter = LangfuseExporter::new(config.clone()).unwrap();
        for text in [format!("{config:?}"), format!("{exporter:?}")] {
            assert!(!text.contains("sk-lf-very-secret"), "{text}");
            assert!(text.contains("pk-lf-public"), "{text}");
        }
    }

    #[test]
    fn from_env_names_the_missing_variable() {
        let err = LangfuseConfig::from_lookup(|_| None).unwrap_err();
        assert_eq!(err.to_string(), "LANGFUSE_PUBLIC_KEY is not set");
        let err =
            LangfuseConfig::from_lookup(|k| (k == "LANGFUSE_PUBLIC_KEY").then(|| "pk".into()))
                .unwrap_err();
        assert_eq!(err.to_string(), "LANGFUSE_SECRET_KEY is not set");
        let env = |k: &str| match k {
            "LANGFUSE_PUBLIC_KEY" => Some("pk".to_owned()),
            "LANGFUSE_SECRET_KEY" => Some("sk-secret".to_owned()),
            "LANGFUSE_HOST" => Some("ftp://x".to_owned()),
            _ => None,
        };
        let err = LangfuseConfig::from_lookup(env).unwrap_err();
        assert!(
            err.to_string().starts_with("LANGFUSE_HOST is invalid"),
            "{err}"
        );
        assert!(!err.to_string().contains("sk-secret"));
        let env = |k: &str| match k {
            "LANGFUSE_PUBLIC_KEY" => Some("pk".to_owned()),
            "LANGFUSE_SECRET_KEY" => Some("sk".to_owned()),
            "LANGFUSE_BASE_URL" => Some("http://lf:3000/".to_owned()),
            "LANGFUSE_HOST" => Some("http://ignored".to_owned()),
            _ => None,
        };
        let config = LangfuseConfig::from_lookup(env).unwrap();
        assert_eq!(
            config.traces_endpoint(),
            "http://lf:3000/api/public/otel/v1/traces"
        );
        assert_eq!(config.mode(), IngestionMode::Otel);
        let with_mode = |mode: &'static str| {
            move |k: &str| match k {
                "LANGFUSE_PUBLIC_KEY" => Some("pk".to_owned()),
                "LANGFUSE_SECRET_KEY" => Some("sk".to_owned()),
                "LANGFUSE_BASE_URL" => Some("http://lf:3000".to_owned()),
                "LANGFUSE_INGESTION" => Some(mode.to_owned()),
                _ => None,
            }
        };
        let config = LangfuseConfig::from_lookup(with_mode("batch")).unwrap();
        assert_eq!(config.mode(), IngestionMode::Batch);
        assert_eq!(
            config.ingestion_endpoint(),
            "http://lf:3000/api/public/ingestion"
        );
        let err = LangfuseConfig::from_lookup(with_mode("grpc")).unwrap_err();
        assert!(
            err.to_string().starts_with("LANGFUSE_INGESTION is invalid"),
            "{err}"
        );
    }
}

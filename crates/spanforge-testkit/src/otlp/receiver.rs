//! The receiver handle: lifecycle, queries, waiting and fault control.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use tokio::net::TcpListener;

use super::error::{StartError, WaitTimeout};
use super::fault::{Fault, FaultPlan, Signal};
use super::model::{ReceivedLog, ReceivedMetric, ReceivedSpan, Transport};
use super::requests::RequestLog;
use super::server::RunningServer;
use super::store::Store;
use super::{grpc, http};

/// Default limit on a request body, compressed or not: 64 MiB.
const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) max_body_bytes: usize,
    /// Prefix of the OTLP/HTTP paths (`""`, or e.g. `/api/public/otel`).
    pub(crate) http_path_prefix: String,
}

/// State shared by the handle and the request handlers.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) store: Store,
    pub(crate) config: Config,
    faults: Mutex<FaultPlan>,
}

impl Shared {
    pub(crate) fn next_fault(&self, signal: Signal) -> Fault {
        self.faults().next(signal)
    }

    fn faults(&self) -> std::sync::MutexGuard<'_, FaultPlan> {
        self.faults.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[derive(Debug)]
struct Servers {
    grpc: RunningServer,
    http: RunningServer,
}

/// Builds an [`OtlpReceiver`] with non-default options.
///
/// ```
/// # async fn demo() -> Result<(), spanforge_testkit::otlp::StartError> {
/// use spanforge_testkit::otlp::OtlpReceiver;
///
/// let receiver = OtlpReceiver::builder()
///     .with_max_body_size(1024 * 1024)
///     .start()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `start()` is awaited"]
pub struct OtlpReceiverBuilder {
    ip: IpAddr,
    grpc_port: u16,
    http_port: u16,
    max_body_bytes: usize,
    http_path_prefix: String,
}

impl Default for OtlpReceiverBuilder {
    fn default() -> Self {
        OtlpReceiverBuilder {
            ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            grpc_port: 0,
            http_port: 0,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            http_path_prefix: String::new(),
        }
    }
}

impl OtlpReceiverBuilder {
    /// The address both listeners bind to. Default `127.0.0.1`; use `::1` to test IPv6.
    pub fn with_ip(mut self, ip: IpAddr) -> Self {
        self.ip = ip;
        self
    }

    /// A fixed gRPC port (the standard one is 4317). Default 0: a free port chosen by the OS.
    pub fn with_grpc_port(mut self, port: u16) -> Self {
        self.grpc_port = port;
        self
    }

    /// A fixed HTTP port (the standard one is 4318). Default 0: a free port chosen by the OS.
    pub fn with_http_port(mut self, port: u16) -> Self {
        self.http_port = port;
        self
    }

    /// The largest request body accepted, before and after decompression; larger HTTP
    /// bodies get `413` (or `400` when the decompressed size is over), larger gRPC
    /// messages `OUT_OF_RANGE` (from tonic, not recorded in the request log). Default 64 MiB.
    pub fn with_max_body_size(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// Serves OTLP/HTTP under a path prefix: with `/api/public/otel`, traces are posted to
    /// `/api/public/otel/v1/traces` (Langfuse's OTLP endpoint). A trailing `/` is ignored;
    /// [`OtlpReceiver::http_endpoint`] and [`OtlpReceiver::http_url`] include the prefix.
    /// Default: no prefix.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use spanforge_testkit::otlp::{OtlpReceiver, Signal};
    ///
    /// let langfuse = OtlpReceiver::builder()
    ///     .with_http_path_prefix("/api/public/otel")
    ///     .start()
    ///     .await?;
    /// let url = langfuse.http_url(Signal::Traces);
    /// assert!(url.ends_with("/api/public/otel/v1/traces"));
    /// let post = |url: String| {
    ///     reqwest::Client::new()
    ///         .post(url)
    ///         .header("content-type", "application/json")
    ///         .body("{}")
    ///         .send()
    /// };
    /// assert_eq!(post(url).await?.status(), 200);
    /// let unprefixed = format!("http://{}/v1/traces", langfuse.http_addr());
    /// assert_eq!(post(unprefixed).await?.status(), 404);
    /// # Ok(()) }
    /// ```
    pub fn with_http_path_prefix(mut self, prefix: &str) -> Self {
        let prefix = prefix.trim_end_matches('/');
        self.http_path_prefix = if prefix.is_empty() || prefix.starts_with('/') {
            prefix.to_owned()
        } else {
            format!("/{prefix}")
        };
        self
    }

    /// Binds both listeners and starts serving.
    ///
    /// # Errors
    ///
    /// [`StartError::Bind`] if a port cannot be bound, [`StartError::NoRuntime`] outside a
    /// Tokio runtime.
    pub async fn start(self) -> Result<OtlpReceiver, StartError> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(StartError::NoRuntime);
        }
        let grpc_listener = bind(Transport::Grpc, SocketAddr::new(self.ip, self.grpc_port)).await?;
        let http_listener = bind(Transport::Http, SocketAddr::new(self.ip, self.http_port)).await?;
        let grpc_addr = local_addr(&grpc_listener, Transport::Grpc, self.grpc_port, self.ip)?;
        let http_addr = local_addr(&http_listener, Transport::Http, self.http_port, self.ip)?;
        let shared = Arc::new(Shared {
            store: Store::new(),
            config: Config {
                max_body_bytes: self.max_body_bytes,
                http_path_prefix: self.http_path_prefix,
            },
            faults: Mutex::new(FaultPlan::default()),
        });
        let servers = Servers {
            grpc: RunningServer::spawn(grpc_listener, grpc::router(shared.clone())),
            http: RunningServer::spawn(http_listener, http::router(shared.clone())),
        };
        Ok(OtlpReceiver {
            shared,
            grpc_addr,
            http_addr,
            servers: tokio::sync::Mutex::new(Some(servers)),
        })
    }
}

async fn bind(transport: Transport, addr: SocketAddr) -> Result<TcpListener, StartError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind {
            transport,
            addr,
            source,
        })
}

fn local_addr(
    listener: &TcpListener,
    transport: Transport,
    port: u16,
    ip: IpAddr,
) -> Result<SocketAddr, StartError> {
    listener.local_addr().map_err(|source| StartError::Bind {
        transport,
        addr: SocketAddr::new(ip, port),
        source,
    })
}

/// An OTLP receiver on loopback: OTLP/gRPC and OTLP/HTTP (protobuf and JSON) for traces,
/// metrics and logs, with everything it receives kept for inspection.
///
/// See the [module documentation](crate::otlp) for an overview and examples.
///
/// Dropping the receiver stops both listeners and closes every connection.
///
/// # Runtime
///
/// The listeners run as tasks on the Tokio runtime that started the receiver, so start one
/// receiver per test (it takes two ephemeral ports and no threads) rather than sharing one
/// through a `static`: each `#[tokio::test]` has its own runtime, and the receiver dies with
/// the runtime of the test that started it. On a current-thread runtime the receiver cannot
/// answer while the test thread is blocked, so call blocking SDK functions
/// (`force_flush`, `shutdown`) through `tokio::task::spawn_blocking`, or use
/// `#[tokio::test(flavor = "multi_thread")]`.
#[derive(Debug)]
pub struct OtlpReceiver {
    shared: Arc<Shared>,
    grpc_addr: SocketAddr,
    http_addr: SocketAddr,
    servers: tokio::sync::Mutex<Option<Servers>>,
}

impl OtlpReceiver {
    /// Starts a receiver on `127.0.0.1` with two free ports.
    ///
    /// # Errors
    ///
    /// See [`OtlpReceiverBuilder::start`].
    pub async fn start() -> Result<OtlpReceiver, StartError> {
        OtlpReceiver::builder().start().await
    }

    /// A builder for fixed ports, another address or a body size limit.
    pub fn builder() -> OtlpReceiverBuilder {
        OtlpReceiverBuilder::default()
    }

    // ----- endpoints -------------------------------------------------------------------------

    /// The OTLP/gRPC endpoint, `http://127.0.0.1:PORT` (for `OTEL_EXPORTER_OTLP_ENDPOINT` with
    /// the `grpc` protocol, or a tonic client).
    pub fn grpc_endpoint(&self) -> String {
        format!("http://{}", self.grpc_addr)
    }

    /// The OTLP/HTTP base endpoint, `http://127.0.0.1:PORT`; signals live under `/v1/traces`,
    /// `/v1/metrics` and `/v1/logs` (what `OTEL_EXPORTER_OTLP_ENDPOINT` expects). With
    /// [`OtlpReceiverBuilder::with_http_path_prefix`], `http://127.0.0.1:PORT/<prefix>`.
    pub fn http_endpoint(&self) -> String {
        format!(
            "http://{}{}",
            self.http_addr, self.shared.config.http_path_prefix
        )
    }

    /// The full OTLP/HTTP URL of one signal, e.g. `http://127.0.0.1:PORT/v1/traces` (what the
    /// signal-specific `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` expects).
    pub fn http_url(&self, signal: Signal) -> String {
        format!(
            "http://{}{}{}",
            self.http_addr,
            self.shared.config.http_path_prefix,
            signal.http_path()
        )
    }

    /// The gRPC listener's address.
    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc_addr
    }

    /// The HTTP listener's address.
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    // ----- lifecycle -------------------------------------------------------------------------

    /// Simulates a receiver that went down: closes both listeners (new connections are
    /// refused) and every open connection. Received data, the request log and faults are
    /// kept. Does nothing if already stopped.
    pub async fn stop(&self) {
        let servers = self.servers.lock().await.take();
        if let Some(servers) = servers {
            tokio::join!(servers.grpc.stop(), servers.http.stop());
        }
    }

    /// Brings a stopped receiver back on the same ports (stopping it first if it is
    /// running), keeping its data.
    ///
    /// # Errors
    ///
    /// [`StartError::Bind`] if another process took a port in the meantime; the receiver
    /// then stays stopped and `restart` can be tried again.
    pub async fn restart(&self) -> Result<(), StartError> {
        let mut servers = self.servers.lock().await;
        if let Some(running) = servers.take() {
            tokio::join!(running.grpc.stop(), running.http.stop());
        }
        let grpc_listener = bind(Transport::Grpc, self.grpc_addr).await?;
        let http_listener = bind(Transport::Http, self.http_addr).await?;
        *servers = Some(Servers {
            grpc: RunningServer::spawn(grpc_listener, grpc::router(self.shared.clone())),
            http: RunningServer::spawn(http_listener, http::router(self.shared.clone())),
        });
        Ok(())
    }

    /// Whether the listeners are up (false after [`stop`](Self::stop)).
    pub async fn is_running(&self) -> bool {
        self.servers.lock().await.is_some()
    }

    /// Stops the receiver and waits until every socket is closed. Dropping the receiver
    /// does the same without waiting.
    pub async fn shutdown(self) {
        self.stop().await;
    }

    // ----- faults ----------------------------------------------------------------------------

    /// Applies `fault` to every following request of every signal, until changed.
    /// `set_fault(Fault::None)` ends it. Queued faults go first.
    pub fn set_fault(&self, fault: Fault) {
        self.shared.faults().set(None, fault);
    }

    /// Applies `fault` to every following request of `signal`, until changed; it takes
    /// precedence over [`set_fault`](Self::set_fault), so `Fault::None` here exempts the
    /// signal from a fault set for all.
    pub fn set_fault_for(&self, signal: Signal, fault: Fault) {
        self.shared.faults().set(Some(signal), fault);
    }

    /// Queues faults for the next requests of any signal, one fault per request, in order;
    /// after them the standing fault (if any) applies again. Use [`Fault::None`] in the
    /// queue to let a request through.
    pub fn queue_faults(&self, faults: impl IntoIterator<Item = Fault>) {
        self.shared.faults().queue(None, faults);
    }

    /// Queues faults for the next requests of `signal`; they go before the shared queue.
    pub fn queue_faults_for(&self, signal: Signal, faults: impl IntoIterator<Item = Fault>) {
        self.shared.faults().queue(Some(signal), faults);
    }

    /// Removes every standing and queued fault.
    pub fn clear_faults(&self) {
        self.shared.faults().clear();
    }

    // ----- raw data --------------------------------------------------------------------------

    /// Every accepted trace export request, as decoded.
    pub fn trace_requests(&self) -> Vec<ExportTraceServiceRequest> {
        self.shared.store.read(|d| d.trace_requests.clone())
    }

    /// Every accepted metrics export request, as decoded.
    pub fn metric_requests(&self) -> Vec<ExportMetricsServiceRequest> {
        self.shared.store.read(|d| d.metric_requests.clone())
    }

    /// Every accepted logs export request, as decoded.
    pub fn log_requests(&self) -> Vec<ExportLogsServiceRequest> {
        self.shared.store.read(|d| d.log_requests.clone())
    }

    /// The log of every request answered so far (accepted, rejected or faulted).
    pub fn requests(&self) -> RequestLog {
        self.shared
            .store
            .read(|d| RequestLog::new(d.requests.clone()))
    }

    /// Forgets all received data and the request log. Faults are kept.
    pub fn clear(&self) {
        self.shared.store.clear();
    }

    // ----- spans -----------------------------------------------------------------------------

    /// All received spans, in arrival order.
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        self.shared.store.read(|d| d.spans.clone())
    }

    /// The first span named `name`.
    pub fn span_named(&self, name: &str) -> Option<ReceivedSpan> {
        self.shared
            .store
            .read(|d| d.spans.iter().find(|s| s.name == name).cloned())
    }

    /// All spans named `name`.
    pub fn spans_named(&self, name: &str) -> Vec<ReceivedSpan> {
        self.shared
            .store
            .read(|d| d.spans.iter().filter(|s| s.name == name).cloned().collect())
    }

    /// The spans of one trace (hex id, any case), in arrival order.
    pub fn trace(&self, trace_id: &str) -> Vec<ReceivedSpan> {
        let trace_id = trace_id.to_ascii_lowercase();
        self.shared.store.read(|d| {
            d.spans
                .iter()
                .filter(|s| s.trace_id == trace_id)
                .cloned()
                .collect()
        })
    }

    /// The direct children of `span`.
    pub fn children_of(&self, span: &ReceivedSpan) -> Vec<ReceivedSpan> {
        self.shared.store.read(|d| {
            d.spans
                .iter()
                .filter(|s| {
                    s.trace_id == span.trace_id
                        && s.parent_span_id.as_deref() == Some(span.span_id.as_str())
                })
                .cloned()
                .collect()
        })
    }

    /// The parent of `span`, if it is not a root and the parent has arrived.
    pub fn parent_of(&self, span: &ReceivedSpan) -> Option<ReceivedSpan> {
        let parent = span.parent_span_id.as_deref()?;
        self.shared.store.read(|d| {
            d.spans
                .iter()
                .find(|s| s.trace_id == span.trace_id && s.span_id == parent)
                .cloned()
        })
    }

    /// Waits until at least `n` spans have arrived in total; returns all of them.
    ///
    /// # Errors
    ///
    /// [`WaitTimeout`] saying how many arrived (and their names).
    pub async fn wait_for_spans(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<ReceivedSpan>, WaitTimeout> {
        let found = self
            .shared
            .store
            .wait(timeout, |d| (d.spans.len() >= n).then(|| d.spans.clone()))
            .await;
        found.map_err(|()| {
            let spans = self.spans();
            WaitTimeout::new(
                plural(n, "span"),
                format!("{} arrived{}", spans.len(), span_names(&spans)),
                timeout,
                spans.len(),
            )
        })
    }

    /// Waits for a span named `name` (returns the first one).
    ///
    /// # Errors
    ///
    /// [`WaitTimeout`] listing the span names that did arrive.
    pub async fn wait_for_span_named(
        &self,
        name: &str,
        timeout: Duration,
    ) -> Result<ReceivedSpan, WaitTimeout> {
        self.wait_for_span_matching(&format!("a span named {name:?}"), timeout, |s| {
            s.name == name
        })
        .await
    }

    /// Waits for a span that satisfies `predicate` (returns the first one). `description`
    /// names what is awaited in the timeout message.
    ///
    /// # Errors
    ///
    /// [`WaitTimeout`] listing the span names that did arrive.
    pub async fn wait_for_span_matching(
        &self,
        description: &str,
        timeout: Duration,
        predicate: impl Fn(&ReceivedSpan) -> bool,
    ) -> Result<ReceivedSpan, WaitTimeout> {
        let found = self
            .shared
            .store
            .wait(timeout, |d| d.spans.iter().find(|s| predicate(s)).cloned())
            .await;
        found.map_err(|()| {
            let spans = self.spans();
            WaitTimeout::new(
                description.to_owned(),
                format!(
                    "{} arrived, none matching{}",
                    plural(spans.len(), "span"),
                    span_names(&spans)
                ),
                timeout,
                spans.len(),
            )
        })
    }

    // ----- logs ------------------------------------------------------------------------------

    /// All received log records, in arrival order.
    pub fn logs(&self) -> Vec<ReceivedLog> {
        self.shared.store.read(|d| d.logs.clone())
    }

    /// Waits until at least `n` log records have arrived in total; returns all of them.
    ///
    /// # Errors
    ///
    /// [`WaitTimeout`] saying how many arrived.
    pub async fn wait_for_logs(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<ReceivedLog>, WaitTimeout> {
        let found = self
            .shared
            .store
            .wait(timeout, |d| (d.logs.len() >= n).then(|| d.logs.clone()))
            .await;
        found.map_err(|()| {
            let arrived = self.shared.store.read(|d| d.logs.len());
            WaitTimeout::new(
                plural(n, "log record"),
                format!("{arrived} arrived"),
                timeout,
                arrived,
            )
        })
    }

    /// Waits for a log record that satisfies `predicate` (returns the first one).
    ///
    /// # Errors
    ///
    /// [`WaitTimeout`] with the bodies of the records that did arrive.
    pub async fn wait_for_log_matching(
        &self,
        description: &str,
        timeout: Duration,
        predicate: impl Fn(&ReceivedLog) -> bool,
    ) -> Result<ReceivedLog, WaitTimeout> {
        let found = self
            .shared
            .store
            .wait(timeout, |d| d.logs.iter().find(|l| predicate(l)).cloned())
            .await;
        found.map_err(|()| {
            let logs = self.logs();
            let bodies = sample(logs.iter().map(|l| l.body.as_str()));
            WaitTimeout::new(
                description.to_owned(),
                format!(
                    "{} arrived, none matching{bodies}",
                    plural(logs.len(), "log record")
                ),
                timeout,
                logs.len(),
            )
        })
    }

    // ----- metrics ---------------------------------------------------------------------------

    /// Every received metric, one entry per metric per request, in arrival order (a periodic
    /// reader exporting every second yields a new entry each second).
    pub fn metrics(&self) -> Vec<ReceivedMetric> {
        self.shared.store.read(|d| d.metrics.clone())
    }

    /// The latest received metric named `name`.
    pub fn metric_named(&self, name: &str) -> Option<ReceivedMetric> {
        self.shared
            .store
            .read(|d| d.metrics.iter().rev().find(|m| m.name == name).cloned())
    }

    /// Waits until a metric named `name` has arrived; returns the latest one.
    ///
    /// # Errors
    ///
    /// [`WaitTimeout`] listing the metric names that did arrive.
    pub async fn wait_for_metric(
        &self,
        name: &str,
        timeout: Duration,
    ) -> Result<ReceivedMetric, WaitTimeout> {
        self.wait_for_metric_matching(&format!("a metric named {name:?}"), timeout, |m| {
            m.name == name
        })
        .await
    }

    /// Waits until a metric satisfying `predicate` has arrived; returns the latest such one.
    /// Useful with cumulative metrics: wait until the counter reaches a value.
    ///
    /// # Errors
    ///
    /// [`WaitTimeout`] listing the metric names that did arrive.
    pub async fn wait_for_metric_matching(
        &self,
        description: &str,
        timeout: Duration,
        predicate: impl Fn(&ReceivedMetric) -> bool,
    ) -> Result<ReceivedMetric, WaitTimeout> {
        let found = self
            .shared
            .store
            .wait(timeout, |d| {
                d.metrics.iter().rev().find(|m| predicate(m)).cloned()
            })
            .await;
        found.map_err(|()| {
            let metrics = self.metrics();
            let mut names: Vec<&str> = metrics.iter().map(|m| m.name.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            WaitTimeout::new(
                description.to_owned(),
                format!(
                    "{} arrived, none matching{}",
                    plural(metrics.len(), "metric"),
                    sample(names.into_iter())
                ),
                timeout,
                metrics.len(),
            )
        })
    }

    // ----- requests --------------------------------------------------------------------------

    /// Waits until at least `n` requests have been answered (of any kind, including faulted
    /// and rejected ones); returns the log.
    ///
    /// # Errors
    ///
    /// [`WaitTimeout`] saying how many were answered.
    pub async fn wait_for_requests(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<RequestLog, WaitTimeout> {
        let found = self
            .shared
            .store
            .wait(timeout, |d| {
                (d.requests.len() >= n).then(|| RequestLog::new(d.requests.clone()))
            })
            .await;
        found.map_err(|()| {
            let arrived = self.shared.store.read(|d| d.requests.len());
            WaitTimeout::new(
                plural(n, "request"),
                format!("{arrived} arrived"),
                timeout,
                arrived,
            )
        })
    }
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

fn span_names(spans: &[ReceivedSpan]) -> String {
    sample(spans.iter().map(|s| s.name.as_str()))
}

/// ` ("a", "b", ... and N more)`, or nothing for no items.
fn sample<'a>(items: impl Iterator<Item = &'a str>) -> String {
    const SHOWN: usize = 10;
    let items: Vec<&str> = items.collect();
    if items.is_empty() {
        return String::new();
    }
    let mut out = String::from(" (");
    for (i, item) in items.iter().take(SHOWN).enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "{item:?}");
    }
    if items.len() > SHOWN {
        let _ = write!(out, ", ... and {} more", items.len() - SHOWN);
    }
    out.push(')');
    out
}

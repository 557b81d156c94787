//! One bounded queue and one export task per exporter.

use std::fmt;
use std::sync::Arc;
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use opentelemetry::Context;
use opentelemetry::InstrumentationScope;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::logs::{LogBatch, LogExporter, LogProcessor, SdkLogRecord};
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::runtime::Handle;

use tokio::sync::{Notify, mpsc};

use super::ExportCounters;
use super::dyn_exporter::DynSpanExporter;
use crate::config::BatchSettings;

/// What the export task does with a batch.
trait Sink: Send + Sync + 'static {
    type Item: Send + 'static;
    fn export(&self, batch: Vec<Self::Item>) -> BoxFuture<'_, OTelSdkResult>;
    fn shutdown(&self, timeout: Duration) -> OTelSdkResult;
}

enum Control {
    Flush(std_mpsc::SyncSender<OTelSdkResult>),
    Shutdown(Duration, std_mpsc::SyncSender<OTelSdkResult>),
}

/// The application-facing half: non-blocking `push`, blocking `flush`/`shutdown` with deadlines.
///
/// Items go into a bounded standard channel that the export task drains with `try_recv`:
/// pushing never wakes anybody except when a full batch is waiting, so the cost on the
/// application's thread is one lock-free enqueue and two atomic increments.
struct Queue<T> {
    items: std_mpsc::SyncSender<T>,
    shared: Arc<QueueShared>,
    control: mpsc::UnboundedSender<Control>,
    counters: Arc<ExportCounters>,
}

struct QueueShared {
    queued: AtomicUsize,
    batch_ready: Notify,
    batch_size: usize,
}

impl<T: Send + 'static> Queue<T> {
    fn start<S: Sink<Item = T>>(
        sink: S,
        settings: BatchSettings,
        counters: Arc<ExportCounters>,
        runtime: &Handle,
    ) -> Self {
        let (items, items_rx) = std_mpsc::sync_channel(settings.max_queue_size.max(1));
        let (control, control_rx) = mpsc::unbounded_channel();
        let shared = Arc::new(QueueShared {
            queued: AtomicUsize::new(0),
            batch_ready: Notify::new(),
            batch_size: settings.max_export_batch_size.max(1),
        });
        runtime.spawn(run(
            sink,
            items_rx,
            control_rx,
            shared.clone(),
            settings,
            counters.clone(),
        ));
        Queue {
            items,
            shared,
            control,
            counters,
        }
    }

    fn push(&self, item: T) {
        match self.items.try_send(item) {
            Ok(()) => {
                self.counters.accepted();
                let queued = self.shared.queued.fetch_add(1, Ordering::Relaxed) + 1;
                if queued.is_multiple_of(self.shared.batch_size) {
                    self.shared.batch_ready.notify_one();
                }
            }
            Err(std_mpsc::TrySendError::Full(_)) => {
                let total = self.counters.dropped(1);
                if self.counters.drop_warning.allow() {
                    tracing::warn!(
                        name: "spanforge.export.queue_full",
                        target: "spanforge::export",
                        exporter = %self.counters.name,
                        signal = self.counters.signal,
                        dropped_total = total,
                        "export queue is full; dropping telemetry (the destination is down or too slow). \
                         Drops are counted in spanforge.exporter.*.dropped; this warning repeats at most once a minute"
                    );
                }
            }
            Err(std_mpsc::TrySendError::Disconnected(_)) => {
                self.counters.dropped(1);
            }
        }
    }

    fn request(
        &self,
        make: impl FnOnce(std_mpsc::SyncSender<OTelSdkResult>) -> Control,
        wait: Duration,
    ) -> OTelSdkResult {
        let (reply, answer) = std_mpsc::sync_channel(1);
        if self.control.send(make(reply)).is_err() {
            return Err(OTelSdkError::AlreadyShutdown);
        }
        match answer.recv_timeout(wait) {
            Ok(result) => result,
            Err(std_mpsc::RecvTimeoutError::Timeout) => Err(OTelSdkError::Timeout(wait)),
            Err(std_mpsc::RecvTimeoutError::Disconnected) => Err(OTelSdkError::InternalFailure(
                "the export task stopped before answering".into(),
            )),
        }
    }

    fn flush(&self, wait: Duration) -> OTelSdkResult {
        self.request(Control::Flush, wait)
    }

    fn shutdown(&self, wait: Duration) -> OTelSdkResult {
        self.request(|reply| Control::Shutdown(wait, reply), wait)
    }
}

/// Move up to `limit` queued items into `buffer`; `true` when every sender is gone.
fn take<T>(
    items: &std_mpsc::Receiver<T>,
    shared: &QueueShared,
    buffer: &mut Vec<T>,
    limit: usize,
) -> bool {
    let mut taken = 0;
    let mut disconnected = false;
    while taken < limit {
        match items.try_recv() {
            Ok(item) => {
                buffer.push(item);
                taken += 1;
            }
            Err(std_mpsc::TryRecvError::Empty) => break,
            Err(std_mpsc::TryRecvError::Disconnected) => {
                disconnected = true;
                break;
            }
        }
    }
    shared.queued.fetch_sub(taken, Ordering::Relaxed);
    disconnected
}

async fn run<S: Sink>(
    sink: S,
    items: std_mpsc::Receiver<S::Item>,
    mut control: mpsc::UnboundedReceiver<Control>,
    shared: Arc<QueueShared>,
    settings: BatchSettings,
    counters: Arc<ExportCounters>,
) {
    let batch_size = shared.batch_size;
    let mut buffer: Vec<S::Item> = Vec::with_capacity(batch_size);
    let mut deadline = tokio::time::Instant::now() + settings.scheduled_delay;
    loop {
        tokio::select! {
            biased;
            Some(request) = control.recv() => {
                // Everything pushed before the request was sent is already in the channel.
                let mut result = Ok(());
                loop {
                    take(&items, &shared, &mut buffer, batch_size);
                    if buffer.is_empty() {
                        break;
                    }
                    let outcome = export(&sink, &mut buffer, &settings, &counters).await;
                    if result.is_ok() {
                        result = outcome;
                    }
                }
                match request {
                    Control::Flush(reply) => {
                        let _ = reply.send(result);
                    }
                    Control::Shutdown(timeout, reply) => {
                        let shutdown = sink.shutdown(timeout);
                        let _ = reply.send(result.and(shutdown));
                        return;
                    }
                }
                deadline = tokio::time::Instant::now() + settings.scheduled_delay;
            }
            () = shared.batch_ready.notified() => {
                while shared.queued.load(Ordering::Relaxed) >= batch_size {
                    take(&items, &shared, &mut buffer, batch_size);
                    let _ = export(&sink, &mut buffer, &settings, &counters).await;
                }
            }
            () = tokio::time::sleep_until(deadline) => {
                loop {
                    let gone = take(&items, &shared, &mut buffer, batch_size);
                    if !buffer.is_empty() {
                        let _ = export(&sink, &mut buffer, &settings, &counters).await;
                    }
                    if gone {
                        // Every sender is gone: the processor was dropped without shutdown.
                        return;
                    }
                    if shared.queued.load(Ordering::Relaxed) == 0 {
                        break;
                    }
                }
                deadline = tokio::time::Instant::now() + settings.scheduled_delay;
            }
        }
    }
}

/// Export the buffered batch; the buffer is left empty.
async fn export<S: Sink>(
    sink: &S,
    buffer: &mut Vec<S::Item>,
    settings: &BatchSettings,
    counters: &ExportCounters,
) -> OTelSdkResult {
    if buffer.is_empty() {
        return Ok(());
    }
    let batch: Vec<S::Item> = std::mem::take(buffer);
    let items = batch.len() as u64;
    let started = Instant::now();
    let outcome = match tokio::time::timeout(settings.export_timeout, sink.export(batch)).await {
        Ok(outcome) => outcome,
        Err(_) => Err(OTelSdkError::Timeout(settings.export_timeout)),
    };
    counters.export_finished(items, outcome.is_ok(), started.elapsed());
    if let Err(error) = &outcome
        && counters.failure_warning.allow()
    {
        tracing::warn!(
            name: "spanforge.export.failed",
            target: "spanforge::export",
            exporter = %counters.name,
            signal = counters.signal,
            items,
            %error,
            "export failed; the batch is lost. Failures are counted in spanforge.exporter.*.failed; \
             this warning repeats at most once a minute"
        );
    }
    outcome
}

struct SpanSink(Box<dyn DynSpanExporter>);

impl Sink for SpanSink {
    type Item = SpanData;

    fn export(&self, batch: Vec<SpanData>) -> BoxFuture<'_, OTelSdkResult> {
        self.0.export_boxed(batch)
    }

    fn shutdown(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_boxed(timeout)
    }
}

/// A span processor with its own bounded queue and export task on the export runtime.
pub(crate) struct SpanQueue {
    queue: Queue<SpanData>,
}

impl SpanQueue {
    pub(crate) fn start(
        exporter: Box<dyn DynSpanExporter>,
        settings: BatchSettings,
        counters: Arc<ExportCounters>,
        runtime: &Handle,
    ) -> Self {
        SpanQueue {
            queue: Queue::start(SpanSink(exporter), settings, counters, runtime),
        }
    }
}

impl fmt::Debug for SpanQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpanQueue")
            .field("exporter", &self.queue.counters.name)
            .finish_non_exhaustive()
    }
}

const FLUSH_WAIT: Duration = Duration::from_secs(5);

impl SpanProcessor for SpanQueue {
    fn on_start(&self, _span: &mut Span, _cx: &Context) {}

    fn on_end(&self, span: SpanData) {
        if span.span_context.is_sampled() {
            self.queue.push(span);
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.queue.flush(FLUSH_WAIT)
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.queue.shutdown(timeout)
    }
}

struct LogSink<E>(E);

impl<E: LogExporter + 'static> Sink for LogSink<E> {
    type Item = (SdkLogRecord, InstrumentationScope);

    fn export(&self, batch: Vec<Self::Item>) -> BoxFuture<'_, OTelSdkResult> {
        Box::pin(async move {
            let refs: Vec<(&SdkLogRecord, &InstrumentationScope)> = batch
                .iter()
                .map(|(record, scope)| (record, scope))
                .collect();
            self.0.export(LogBatch::new(&refs)).await
        })
    }

    fn shutdown(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }
}

/// A log processor with its own bounded queue and export task on the export runtime.
pub(crate) struct LogQueue {
    queue: Queue<(SdkLogRecord, InstrumentationScope)>,
}

impl LogQueue {
    pub(crate) fn start<E: LogExporter + 'static>(
        exporter: E,
        settings: BatchSettings,
        counters: Arc<ExportCounters>,
        runtime: &Handle,
    ) -> Self {
        LogQueue {
            queue: Queue::start(LogSink(exporter), settings, counters, runtime),
        }
    }
}

impl fmt::Debug for LogQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogQueue")
            .field("exporter", &self.queue.counters.name)
            .finish_non_exhaustive()
    }
}

impl LogProcessor for LogQueue {
    fn emit(&self, record: &mut SdkLogRecord, scope: &InstrumentationScope) {
        self.queue.push((record.clone(), scope.clone()));
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.queue.flush(FLUSH_WAIT)
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.queue.shutdown(timeout)
    }
}

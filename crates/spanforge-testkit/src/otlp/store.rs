//! Received data, the request log, and event-driven waiting on both.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use http::HeaderMap;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use tokio::sync::watch;

use super::fault::Signal;
use super::model::{ReceivedLog, ReceivedMetric, ReceivedSpan, Transport};
use super::requests::{Outcome, RequestRecord};

#[derive(Debug, Default)]
pub(crate) struct Data {
    pub(crate) trace_requests: Vec<ExportTraceServiceRequest>,
    pub(crate) metric_requests: Vec<ExportMetricsServiceRequest>,
    pub(crate) log_requests: Vec<ExportLogsServiceRequest>,
    pub(crate) spans: Vec<ReceivedSpan>,
    pub(crate) metrics: Vec<ReceivedMetric>,
    pub(crate) logs: Vec<ReceivedLog>,
    pub(crate) requests: Vec<RequestRecord>,
}

/// Everything received, behind one lock, plus a version counter that is bumped on every
/// change so waiters wake up exactly when something arrives.
#[derive(Debug)]
pub(crate) struct Store {
    data: Mutex<Data>,
    version: watch::Sender<u64>,
}

impl Store {
    pub(crate) fn new() -> Store {
        Store {
            data: Mutex::new(Data::default()),
            version: watch::Sender::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Data> {
        // Nothing panics while holding the lock; if something ever did, the data is still
        // the best information a test has.
        self.data.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn read<T>(&self, f: impl FnOnce(&Data) -> T) -> T {
        f(&self.lock())
    }

    pub(crate) fn write(&self, f: impl FnOnce(&mut Data)) {
        f(&mut self.lock());
        self.version.send_modify(|v| *v = v.wrapping_add(1));
    }

    pub(crate) fn clear(&self) {
        self.write(|d| *d = Data::default());
    }

    /// Waits until `check` returns `Some`, re-checking after every change. `Err(())` when
    /// `timeout` passes first.
    pub(crate) async fn wait<T>(
        &self,
        timeout: Duration,
        mut check: impl FnMut(&Data) -> Option<T>,
    ) -> Result<T, ()> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut changes = self.version.subscribe();
        loop {
            // Mark the current version as seen *before* looking, so a change that lands
            // between the look and the wait is not missed.
            changes.borrow_and_update();
            if let Some(found) = self.read(&mut check) {
                return Ok(found);
            }
            match tokio::time::timeout_at(deadline, changes.changed()).await {
                Ok(Ok(())) => {}
                // The sender lives in `self`, so it cannot be gone; treat it as a timeout.
                Ok(Err(_)) | Err(_) => return Err(()),
            }
        }
    }
}

/// A request being handled. Finish it with an outcome; if the handler is dropped first
/// (the client went away), it is recorded as [`Outcome::Cancelled`].
#[derive(Debug)]
pub(crate) struct PendingRecord<'a> {
    store: &'a Store,
    record: Option<RequestRecord>,
}

impl<'a> PendingRecord<'a> {
    pub(crate) fn new(
        store: &'a Store,
        transport: Transport,
        signal: Option<Signal>,
        path: &str,
        headers: HeaderMap,
    ) -> PendingRecord<'a> {
        let content_encoding = match transport {
            Transport::Http => headers.get(http::header::CONTENT_ENCODING),
            Transport::Grpc => headers.get("grpc-encoding"),
        }
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
        PendingRecord {
            store,
            record: Some(RequestRecord {
                transport,
                signal,
                path: path.to_owned(),
                headers,
                encoding: None,
                content_encoding,
                outcome: Outcome::Cancelled,
                fault: None,
                items: 0,
                error: None,
                received_at: SystemTime::now(),
            }),
        }
    }

    pub(crate) fn record_mut(&mut self) -> &mut RequestRecord {
        self.record
            .as_mut()
            .expect("a pending record is present until finished")
    }

    pub(crate) fn finish(self, outcome: Outcome) {
        self.finish_storing(outcome, |_| {});
    }

    pub(crate) fn finish_storing(mut self, outcome: Outcome, store: impl FnOnce(&mut Data)) {
        if let Some(mut record) = self.record.take() {
            record.outcome = outcome;
            self.store.write(|d| {
                store(d);
                d.requests.push(record);
            });
        }
    }
}

impl Drop for PendingRecord<'_> {
    fn drop(&mut self) {
        if let Some(record) = self.record.take() {
            self.store.write(|d| d.requests.push(record));
        }
    }
}

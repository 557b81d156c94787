//! Fault injection: what the receiver does to the next request instead of accepting it.

use std::collections::VecDeque;
use std::time::Duration;

/// A gRPC status code, as used in [`Fault::Status`] (this is `tonic::Code`).
pub use tonic::Code as GrpcCode;

/// An OTLP signal: which export service a request was sent to (this is
/// [`spanforge_otlp::Signal`]).
pub use spanforge_otlp::Signal;

/// What the receiver does with an export request instead of (or on top of) accepting it.
///
/// A request answered with [`Fault::Status`] or [`Fault::DropConnection`] is not stored.
/// [`Fault::Delay`] only slows the answer: the request is stored once the delay has passed,
/// unless the client gave up first. [`Fault::PartialSuccess`] stores everything and reports a
/// rejection in the response. Every request that gets a fault other than [`Fault::None`] is
/// counted in [`RequestLog::faulted`](crate::otlp::RequestLog::faulted).
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub enum Fault {
    /// Accept the request normally.
    #[default]
    None,
    /// Wait this long, then accept the request normally (a slow backend). The body is read
    /// first, so the delay is between the end of the request and the response.
    Delay(Duration),
    /// Reject the request: HTTP gets status `http` (with a `Retry-After` header in whole
    /// seconds, rounded up, when `retry_after` is set) and a `google.rpc.Status` body; gRPC gets
    /// `grpc_code` (with a `google.rpc.RetryInfo` detail when `retry_after` is set).
    Status {
        /// HTTP status code to answer with.
        http: http::StatusCode,
        /// gRPC status code to answer with.
        grpc_code: GrpcCode,
        /// Throttling hint: `Retry-After` (HTTP) or `RetryInfo.retry_delay` (gRPC).
        retry_after: Option<Duration>,
    },
    /// Close the TCP connection without sending a response. For gRPC this closes the whole
    /// HTTP/2 connection, so concurrent requests on it fail too.
    DropConnection,
    /// Store the whole request, but answer with an OTLP `partial_success` saying `rejected`
    /// items were rejected, with `message`.
    PartialSuccess {
        /// Number of spans / data points / log records reported as rejected.
        rejected: i64,
        /// `error_message` of the partial success.
        message: String,
    },
}

impl Fault {
    /// HTTP 503 / gRPC `UNAVAILABLE`: the retryable "try again later".
    pub fn unavailable(retry_after: Option<Duration>) -> Fault {
        Fault::Status {
            http: http::StatusCode::SERVICE_UNAVAILABLE,
            grpc_code: GrpcCode::Unavailable,
            retry_after,
        }
    }

    /// HTTP 429 / gRPC `RESOURCE_EXHAUSTED`: throttling. OTLP clients retry a gRPC
    /// `RESOURCE_EXHAUSTED` only when it carries a retry delay.
    pub fn throttled(retry_after: Option<Duration>) -> Fault {
        Fault::Status {
            http: http::StatusCode::TOO_MANY_REQUESTS,
            grpc_code: GrpcCode::ResourceExhausted,
            retry_after,
        }
    }

    /// Any HTTP status and gRPC code, without a retry hint.
    pub fn status(http: http::StatusCode, grpc_code: GrpcCode) -> Fault {
        Fault::Status {
            http,
            grpc_code,
            retry_after: None,
        }
    }

    /// A partial success rejecting `rejected` items with `message`.
    pub fn partial_success(rejected: i64, message: impl Into<String>) -> Fault {
        Fault::PartialSuccess {
            rejected,
            message: message.into(),
        }
    }

    /// Whether this is [`Fault::None`].
    pub fn is_none(&self) -> bool {
        matches!(self, Fault::None)
    }
}

#[derive(Debug, Default)]
struct Slot {
    queue: VecDeque<Fault>,
    sticky: Option<Fault>,
}

/// The faults scheduled for each signal. The next fault for a request of signal `s` is, in
/// order: the front of `s`'s queue, the front of the shared queue, `s`'s standing fault, the
/// shared standing fault, or [`Fault::None`].
#[derive(Debug, Default)]
pub(crate) struct FaultPlan {
    all: Slot,
    per_signal: [Slot; 3],
}

impl FaultPlan {
    pub(crate) fn next(&mut self, signal: Signal) -> Fault {
        let own = &mut self.per_signal[slot_index(signal)];
        if let Some(f) = own.queue.pop_front() {
            return f;
        }
        if let Some(f) = self.all.queue.pop_front() {
            return f;
        }
        if let Some(f) = &own.sticky {
            return f.clone();
        }
        self.all.sticky.clone().unwrap_or_default()
    }

    pub(crate) fn set(&mut self, signal: Option<Signal>, fault: Fault) {
        self.slot(signal).sticky = Some(fault);
    }

    pub(crate) fn queue(
        &mut self,
        signal: Option<Signal>,
        faults: impl IntoIterator<Item = Fault>,
    ) {
        self.slot(signal).queue.extend(faults);
    }

    pub(crate) fn clear(&mut self) {
        *self = FaultPlan::default();
    }

    fn slot(&mut self, signal: Option<Signal>) -> &mut Slot {
        match signal {
            Some(s) => &mut self.per_signal[slot_index(s)],
            None => &mut self.all,
        }
    }
}

/// The slot of `signal` in [`FaultPlan::per_signal`].
fn slot_index(signal: Signal) -> usize {
    match signal {
        Signal::Traces => 0,
        Signal::Metrics => 1,
        Signal::Logs => 2,
    }
}

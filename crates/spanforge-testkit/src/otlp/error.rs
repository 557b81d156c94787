//! Errors of the OTLP receiver.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use super::model::Transport;

/// The receiver could not start (or restart).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// A listener could not be bound: the port is taken (another receiver, a real collector
    /// on 4317/4318, or a port reused too early after [`restart`](crate::otlp::OtlpReceiver::restart)),
    /// or the address is not local.
    #[error("cannot bind the OTLP/{transport} listener to {addr}: {source}")]
    Bind {
        /// Which listener.
        transport: Transport,
        /// The address it tried.
        addr: SocketAddr,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// `start()` was awaited outside a Tokio runtime; the receiver spawns Tokio tasks.
    #[error("the OTLP receiver must be started inside a Tokio runtime")]
    NoRuntime,
}

/// A `wait_for_*` call ran out of time.
///
/// The message says what was awaited and what arrived instead, e.g.
/// `timed out after 2s waiting for 3 spans: 1 arrived ("GET /health")`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("timed out after {timeout:?} waiting for {expected}: {observed}")]
pub struct WaitTimeout {
    expected: String,
    observed: String,
    timeout: Duration,
    arrived: usize,
}

impl WaitTimeout {
    pub(crate) fn new(
        expected: String,
        observed: String,
        timeout: Duration,
        arrived: usize,
    ) -> WaitTimeout {
        WaitTimeout {
            expected,
            observed,
            timeout,
            arrived,
        }
    }

    /// How long the call waited.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// How many items of the awaited kind (spans, logs, metrics or requests) had arrived when
    /// the time ran out.
    pub fn arrived(&self) -> usize {
        self.arrived
    }
}

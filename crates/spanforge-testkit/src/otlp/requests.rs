//! The log of requests the receiver has answered.

use std::time::SystemTime;

use http::HeaderMap;

use super::fault::{Fault, GrpcCode, Signal};
use super::model::{Encoding, Transport};

/// How the receiver answered a request.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Outcome {
    /// An HTTP response with this status.
    Http(http::StatusCode),
    /// A gRPC response with this status code (`Ok` on success).
    Grpc(GrpcCode),
    /// The connection was closed without a response ([`Fault::DropConnection`]).
    Dropped,
    /// The client went away before the answer was ready (e.g. it timed out during a
    /// [`Fault::Delay`]).
    Cancelled,
}

impl Outcome {
    /// Whether the request was accepted (HTTP 2xx or gRPC `OK`).
    pub fn is_success(&self) -> bool {
        match self {
            Outcome::Http(s) => s.is_success(),
            Outcome::Grpc(c) => *c == GrpcCode::Ok,
            Outcome::Dropped | Outcome::Cancelled => false,
        }
    }
}

/// One request the receiver saw, in arrival order.
///
/// HTTP requests are all recorded, including ones to unknown paths. gRPC requests are
/// recorded once tonic has decoded them; a gRPC message that tonic itself cannot decode
/// (or decompress) is answered by tonic and not recorded.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RequestRecord {
    /// Transport the request arrived on.
    pub transport: Transport,
    /// The signal, when the path is an OTLP export path.
    pub signal: Option<Signal>,
    /// HTTP path (for gRPC, the method path).
    pub path: String,
    /// Request headers (for gRPC, the request metadata), so tests can check `authorization`,
    /// `user-agent` and custom headers.
    pub headers: HeaderMap,
    /// Payload encoding, when the content type was understood.
    pub encoding: Option<Encoding>,
    /// `Content-Encoding` (HTTP) or `grpc-encoding` (gRPC), when present.
    pub content_encoding: Option<String>,
    /// How the receiver answered.
    pub outcome: Outcome,
    /// The fault applied to this request, if any (never [`Fault::None`]).
    pub fault: Option<Fault>,
    /// Items decoded from the request: spans, metric data points or log records
    /// (0 when the body was not decoded).
    pub items: usize,
    /// Why the request was rejected, for a 4xx/5xx answer or an error status.
    pub error: Option<String>,
    /// When the request arrived.
    pub received_at: SystemTime,
}

impl RequestRecord {
    /// The first value of header `name` as a string (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The HTTP status, for an HTTP response.
    pub fn http_status(&self) -> Option<http::StatusCode> {
        match self.outcome {
            Outcome::Http(s) => Some(s),
            _ => None,
        }
    }

    /// The gRPC status code, for a gRPC response.
    pub fn grpc_code(&self) -> Option<GrpcCode> {
        match self.outcome {
            Outcome::Grpc(c) => Some(c),
            _ => None,
        }
    }
}

/// A snapshot of the request log, in arrival order.
#[derive(Debug, Clone, Default)]
pub struct RequestLog {
    records: Vec<RequestRecord>,
}

impl RequestLog {
    pub(crate) fn new(records: Vec<RequestRecord>) -> RequestLog {
        RequestLog { records }
    }

    /// All records.
    pub fn records(&self) -> &[RequestRecord] {
        &self.records
    }

    /// Iterates over the records.
    pub fn iter(&self) -> std::slice::Iter<'_, RequestRecord> {
        self.records.iter()
    }

    /// Number of requests.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether no request arrived.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The most recent request.
    pub fn last(&self) -> Option<&RequestRecord> {
        self.records.last()
    }

    /// Records of one signal.
    pub fn for_signal(&self, signal: Signal) -> impl Iterator<Item = &RequestRecord> {
        self.records
            .iter()
            .filter(move |r| r.signal == Some(signal))
    }

    /// Records of one transport.
    pub fn for_transport(&self, transport: Transport) -> impl Iterator<Item = &RequestRecord> {
        self.records
            .iter()
            .filter(move |r| r.transport == transport)
    }

    /// Number of requests that got a fault.
    pub fn faulted(&self) -> usize {
        self.records.iter().filter(|r| r.fault.is_some()).count()
    }

    /// Number of requests that were accepted.
    pub fn successful(&self) -> usize {
        self.records
            .iter()
            .filter(|r| r.outcome.is_success())
            .count()
    }

    /// Consumes the log into its records.
    pub fn into_records(self) -> Vec<RequestRecord> {
        self.records
    }
}

impl<'a> IntoIterator for &'a RequestLog {
    type Item = &'a RequestRecord;
    type IntoIter = std::slice::Iter<'a, RequestRecord>;

    fn into_iter(self) -> Self::IntoIter {
        self.records.iter()
    }
}

impl IntoIterator for RequestLog {
    type Item = RequestRecord;
    type IntoIter = std::vec::IntoIter<RequestRecord>;

    fn into_iter(self) -> Self::IntoIter {
        self.records.into_iter()
    }
}

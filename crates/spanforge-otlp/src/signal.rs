//! The three OTLP signals.

use std::fmt;

/// An OTLP signal: which export service a request is sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Signal {
    /// `/v1/traces`, `TraceService/Export`.
    Traces,
    /// `/v1/metrics`, `MetricsService/Export`.
    Metrics,
    /// `/v1/logs`, `LogsService/Export`.
    Logs,
}

impl Signal {
    /// The OTLP/HTTP path of this signal, e.g. `/v1/traces`.
    pub fn http_path(self) -> &'static str {
        match self {
            Signal::Traces => "/v1/traces",
            Signal::Metrics => "/v1/metrics",
            Signal::Logs => "/v1/logs",
        }
    }

    /// The OTLP/gRPC method path of this signal, e.g.
    /// `/opentelemetry.proto.collector.trace.v1.TraceService/Export`.
    pub fn grpc_path(self) -> &'static str {
        match self {
            Signal::Traces => "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
            Signal::Metrics => "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
            Signal::Logs => "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
        }
    }
}

/// `traces`, `metrics` or `logs`.
impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Signal::Traces => "traces",
            Signal::Metrics => "metrics",
            Signal::Logs => "logs",
        })
    }
}

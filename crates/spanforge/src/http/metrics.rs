//! The HTTP duration histograms and the active-requests counter.

#![allow(dead_code)] // each feature uses a subset

use std::sync::OnceLock;

use opentelemetry::global;
use opentelemetry::metrics::{Histogram, UpDownCounter};

/// Bucket boundaries the HTTP semantic conventions recommend for request durations (seconds).
pub(crate) const DURATION_BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

pub(crate) struct ServerInstruments {
    pub(crate) duration: Histogram<f64>,
    pub(crate) active: UpDownCounter<i64>,
}

pub(crate) struct ClientInstruments {
    pub(crate) duration: Histogram<f64>,
}

fn meter() -> opentelemetry::metrics::Meter {
    global::meter_with_scope(
        opentelemetry::InstrumentationScope::builder("spanforge.http")
            .with_version(env!("CARGO_PKG_VERSION"))
            .build(),
    )
}

/// Created on first use, so the layer may be built before `init` installs the meter provider.
pub(crate) fn server() -> &'static ServerInstruments {
    static INSTRUMENTS: OnceLock<ServerInstruments> = OnceLock::new();
    INSTRUMENTS.get_or_init(|| {
        let meter = meter();
        ServerInstruments {
            duration: meter
                .f64_histogram("http.server.request.duration")
                .with_unit("s")
                .with_description("Duration of HTTP server requests.")
                .with_boundaries(DURATION_BUCKETS.to_vec())
                .build(),
            active: meter
                .i64_up_down_counter("http.server.active_requests")
                .with_unit("{request}")
                .with_description("Number of active HTTP server requests.")
                .build(),
        }
    })
}

pub(crate) fn client() -> &'static ClientInstruments {
    static INSTRUMENTS: OnceLock<ClientInstruments> = OnceLock::new();
    INSTRUMENTS.get_or_init(|| ClientInstruments {
        duration: meter()
            .f64_histogram("http.client.request.duration")
            .with_unit("s")
            .with_description("Duration of HTTP client requests.")
            .with_boundaries(DURATION_BUCKETS.to_vec())
            .build(),
    })
}

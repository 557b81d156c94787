//! The GenAI client instruments, created on first use from the global meter provider.

use std::sync::OnceLock;

use opentelemetry::global;
use opentelemetry::metrics::{Counter, Histogram};

use super::attributes::{
    METRIC_COST, METRIC_OPERATION_DURATION, METRIC_TIME_TO_FIRST_CHUNK, METRIC_TOKEN_USAGE,
};

/// Token-count buckets of the semantic conventions (v1.41.0).
pub(crate) const TOKEN_BUCKETS: [f64; 14] = [
    1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0,
    16777216.0, 67108864.0,
];

/// Duration buckets (seconds) of the semantic conventions, used for the operation duration
/// and the time to first chunk.
pub(crate) const DURATION_BUCKETS: [f64; 14] = [
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];

pub(crate) struct Instruments {
    pub(crate) token_usage: Histogram<u64>,
    pub(crate) duration: Histogram<f64>,
    pub(crate) time_to_first_chunk: Histogram<f64>,
    pub(crate) cost: Counter<f64>,
}

/// Created on first use, so clients may be built before `init` installs the meter provider
/// (but not used before it: instruments made from the no-op provider stay no-ops).
pub(crate) fn instruments() -> &'static Instruments {
    static INSTRUMENTS: OnceLock<Instruments> = OnceLock::new();
    INSTRUMENTS.get_or_init(|| {
        let meter = global::meter_with_scope(
            opentelemetry::InstrumentationScope::builder("spanforge.llm")
                .with_version(env!("CARGO_PKG_VERSION"))
                .build(),
        );
        Instruments {
            token_usage: meter
                .u64_histogram(METRIC_TOKEN_USAGE)
                .with_unit("{token}")
                .with_description("Number of input and output tokens used.")
                .with_boundaries(TOKEN_BUCKETS.to_vec())
                .build(),
            duration: meter
                .f64_histogram(METRIC_OPERATION_DURATION)
                .with_unit("s")
                .with_description("GenAI operation duration.")
                .with_boundaries(DURATION_BUCKETS.to_vec())
                .build(),
            time_to_first_chunk: meter
                .f64_histogram(METRIC_TIME_TO_FIRST_CHUNK)
                .with_unit("s")
                .with_description("Time to receive the first chunk of a streamed response.")
                .with_boundaries(DURATION_BUCKETS.to_vec())
                .build(),
            // `{USD}` is an annotation: the Prometheus name is `gen_ai_client_cost_total`.
            cost: meter
                .f64_counter(METRIC_COST)
                .with_unit("{USD}")
                .with_description("Cost of GenAI calls in US dollars, from the pricing table.")
                .build(),
        }
    })
}

//! The operation-duration histogram and the rows read / written counters.

use std::sync::OnceLock;

use opentelemetry::metrics::{Counter, Histogram, Meter};
use opentelemetry::{InstrumentationScope, global};

use super::attributes::DURATION_BUCKETS;

pub(crate) struct Instruments {
    pub(crate) duration: Histogram<f64>,
    pub(crate) rows_read: Counter<u64>,
    pub(crate) rows_written: Counter<u64>,
}

pub(crate) fn meter() -> Meter {
    global::meter_with_scope(
        InstrumentationScope::builder("spanforge.db")
            .with_version(env!("CARGO_PKG_VERSION"))
            .build(),
    )
}

/// Created on first use, so wrappers may be built before `init` installs the meter provider
/// (the first operation normally runs after it).
pub(crate) fn instruments() -> &'static Instruments {
    static INSTRUMENTS: OnceLock<Instruments> = OnceLock::new();
    INSTRUMENTS.get_or_init(|| {
        let meter = meter();
        Instruments {
            duration: meter
                .f64_histogram("db.client.operation.duration")
                .with_unit("s")
                .with_description("Duration of database client operations.")
                .with_boundaries(DURATION_BUCKETS.to_vec())
                .build(),
            rows_read: meter
                .u64_counter("spanforge.db.rows_read")
                .with_unit("{row}")
                .with_description(
                    "Rows read by database operations (rows returned to the client, unless \
                     the driver reports the rows the database scanned).",
                )
                .build(),
            rows_written: meter
                .u64_counter("spanforge.db.rows_written")
                .with_unit("{row}")
                .with_description("Rows inserted, updated or deleted by database operations.")
                .build(),
        }
    })
}

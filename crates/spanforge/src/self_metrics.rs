//! The `spanforge.exporter.*` self-metrics, so telemetry losses are visible in the same
//! backend as everything else.

use std::sync::Arc;

use opentelemetry::KeyValue;
use opentelemetry::metrics::{Meter, ObservableCounter};

use crate::export::ExportCounters;

/// Register observable counters that read the live counters at each collection, and attach
/// the export-duration histogram. The returned handles must be kept alive.
pub(crate) fn register(
    meter: &Meter,
    counters: &[Arc<ExportCounters>],
) -> Vec<ObservableCounter<u64>> {
    let duration = meter
        .f64_histogram("spanforge.exporter.export.duration")
        .with_unit("s")
        .with_description("Duration of export calls, by exporter and signal.")
        .build();
    for c in counters {
        c.set_duration_histogram(duration.clone());
    }

    type Pick = fn(&crate::ExporterStats) -> u64;
    let series: [(&str, &str, Pick); 3] = [
        ("exported", "Items acknowledged by the destination.", |s| {
            s.exported
        }),
        (
            "dropped",
            "Items dropped before export: queue full or telemetry shut down.",
            |s| s.dropped,
        ),
        ("failed", "Items in failed or timed-out exports.", |s| {
            s.failed
        }),
    ];
    let mut handles = Vec::new();
    for signal in ["spans", "logs", "metrics"] {
        let sdk_signal = match signal {
            "spans" => "traces",
            other => other,
        };
        let of_signal: Vec<Arc<ExportCounters>> = counters
            .iter()
            .filter(|c| c.signal == sdk_signal)
            .cloned()
            .collect();
        if of_signal.is_empty() {
            continue;
        }
        for (what, description, pick) in series {
            let of_signal = of_signal.clone();
            let unit = match signal {
                "spans" => "{span}",
                "logs" => "{log_record}",
                _ => "{metric}",
            };
            handles.push(
                meter
                    .u64_observable_counter(format!("spanforge.exporter.{signal}.{what}"))
                    .with_unit(unit)
                    .with_description(description)
                    .with_callback(move |observer| {
                        for c in &of_signal {
                            let snapshot = c.snapshot();
                            observer.observe(
                                pick(&snapshot),
                                &[KeyValue::new("exporter", snapshot.name.clone())],
                            );
                        }
                    })
                    .build(),
            );
        }
    }
    handles
}

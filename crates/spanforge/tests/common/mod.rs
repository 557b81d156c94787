//! One telemetry pipeline per test binary (the OpenTelemetry globals are per process),
//! exporting to an OTLP test receiver that runs on a runtime of its own so that it outlives
//! every test's runtime.

#![allow(dead_code)] // each test binary uses a part

use std::sync::OnceLock;
use std::time::Duration;

use spanforge_testkit::OtlpReceiver;

/// The receiver and the pipeline exporting to it.
pub(crate) struct Shared {
    pub(crate) receiver: OtlpReceiver,
    _telemetry: spanforge::Telemetry,
}

/// Start the receiver and install the pipeline on first use, as service `service`: spans
/// exported every 50 ms, metrics every 200 ms, over gRPC.
pub(crate) fn shared(service: &'static str) -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                tx.send(OtlpReceiver::start().await.unwrap()).unwrap();
                std::future::pending::<()>().await;
            });
        });
        let receiver = rx.recv().unwrap();
        let telemetry = spanforge::init(
            spanforge::Config::default()
                .with_service_name(service)
                .with_otlp_endpoint(receiver.grpc_endpoint())
                .with_otlp_protocol(spanforge::Protocol::Grpc)
                .with_log_format(spanforge::LogFormat::None)
                .with_span_batch(spanforge::BatchSettings {
                    max_queue_size: 8192,
                    max_export_batch_size: 512,
                    scheduled_delay: Duration::from_millis(50),
                    export_timeout: Duration::from_secs(5),
                })
                .with_metric_export_interval(Duration::from_millis(200)),
        )
        .unwrap();
        Shared {
            receiver,
            _telemetry: telemetry,
        }
    })
}

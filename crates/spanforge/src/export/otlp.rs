//! Building the OTLP exporters from resolved settings, inside the export runtime.

use std::collections::HashMap;

use opentelemetry_otlp::{
    Compression, LogExporter, MetricExporter, Protocol as OtlpProtocol, SpanExporter,
    WithExportConfig, WithHttpConfig, WithTonicConfig,
};
use opentelemetry_sdk::metrics::Temporality;
use tokio::runtime::Handle;

use crate::InitError;
use crate::config::{Protocol, ResolvedOtlp};

fn metadata(
    settings: &ResolvedOtlp,
    signal: &'static str,
) -> Result<tonic::metadata::MetadataMap, InitError> {
    let mut map = http::HeaderMap::new();
    for (name, value) in &settings.headers {
        // Both were validated when parsed; a failure here is an internal error.
        let name =
            http::HeaderName::from_bytes(name.as_bytes()).map_err(|e| InitError::Exporter {
                signal,
                reason: format!("header name: {e}"),
            })?;
        let value = http::HeaderValue::from_str(value).map_err(|_| InitError::Exporter {
            signal,
            reason: format!("header {name}: value not allowed in HTTP"),
        })?;
        map.insert(name, value);
    }
    Ok(tonic::metadata::MetadataMap::from_headers(map))
}

fn http_protocol(protocol: Protocol) -> OtlpProtocol {
    match protocol {
        Protocol::HttpJson => OtlpProtocol::HttpJson,
        _ => OtlpProtocol::HttpBinary,
    }
}

fn headers(settings: &ResolvedOtlp) -> HashMap<String, String> {
    settings.headers.iter().cloned().collect()
}

macro_rules! build_exporter {
    ($builder:expr, $settings:expr, $signal:expr) => {{
        let settings: &ResolvedOtlp = $settings;
        let built = match settings.protocol {
            Protocol::Grpc => {
                let mut b = $builder
                    .with_tonic()
                    .with_endpoint(settings.endpoint.clone())
                    .with_timeout(settings.timeout)
                    .with_metadata(metadata(settings, $signal)?);
                // opentelemetry-otlp gives tonic a TLS configuration without trusted roots:
                // an https endpoint needs the platform's roots set here.
                #[cfg(feature = "tls")]
                if settings.endpoint.starts_with("https://") {
                    b = b.with_tls_config(
                        tonic::transport::ClientTlsConfig::new().with_native_roots(),
                    );
                }
                if settings.gzip {
                    b = b.with_compression(Compression::Gzip);
                }
                b.build()
            }
            Protocol::HttpProtobuf | Protocol::HttpJson => {
                let mut b = $builder
                    .with_http()
                    .with_protocol(http_protocol(settings.protocol))
                    .with_endpoint(settings.endpoint.clone())
                    .with_timeout(settings.timeout)
                    .with_headers(headers(settings));
                if settings.gzip {
                    b = b.with_compression(Compression::Gzip);
                }
                b.build()
            }
        };
        built.map_err(|e| InitError::Exporter {
            signal: $signal,
            reason: e.to_string(),
        })
    }};
}

/// The OTLP span exporter. Built with the export runtime entered: the gRPC channel spawns
/// its connection task there.
pub(crate) fn build_span_exporter(
    settings: &ResolvedOtlp,
    runtime: &Handle,
) -> Result<SpanExporter, InitError> {
    let _entered = runtime.enter();
    build_exporter!(SpanExporter::builder(), settings, "traces")
}

/// The OTLP log exporter.
pub(crate) fn build_log_exporter(
    settings: &ResolvedOtlp,
    runtime: &Handle,
) -> Result<LogExporter, InitError> {
    let _entered = runtime.enter();
    build_exporter!(LogExporter::builder(), settings, "logs")
}

/// The OTLP metric exporter, cumulative temporality (what Prometheus expects).
pub(crate) fn build_metric_exporter(
    settings: &ResolvedOtlp,
    runtime: &Handle,
) -> Result<MetricExporter, InitError> {
    let _entered = runtime.enter();
    build_exporter!(
        MetricExporter::builder().with_temporality(Temporality::Cumulative),
        settings,
        "metrics"
    )
}

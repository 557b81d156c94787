//! An object-safe view of `SpanExporter`, so exporters of different types share one queue type.

use std::fmt;
use std::time::Duration;

use futures_util::future::BoxFuture;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

pub(crate) trait DynSpanExporter: Send + Sync + fmt::Debug {
    fn export_boxed(&self, batch: Vec<SpanData>) -> BoxFuture<'_, OTelSdkResult>;
    fn shutdown_boxed(&self, timeout: Duration) -> OTelSdkResult;
    fn set_resource_boxed(&mut self, resource: &Resource);
}

impl<E: SpanExporter> DynSpanExporter for E {
    fn export_boxed(&self, batch: Vec<SpanData>) -> BoxFuture<'_, OTelSdkResult> {
        Box::pin(self.export(batch))
    }

    fn shutdown_boxed(&self, timeout: Duration) -> OTelSdkResult {
        self.shutdown_with_timeout(timeout)
    }

    fn set_resource_boxed(&mut self, resource: &Resource) {
        self.set_resource(resource);
    }
}

/// A span exporter with the name its counters are reported under.
pub(crate) struct NamedSpanExporter {
    pub(crate) name: String,
    pub(crate) exporter: Box<dyn DynSpanExporter>,
}

impl NamedSpanExporter {
    pub(crate) fn new<E: SpanExporter + 'static>(name: String, exporter: E) -> Self {
        NamedSpanExporter {
            name,
            exporter: Box::new(exporter),
        }
    }
}

impl fmt::Debug for NamedSpanExporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NamedSpanExporter")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

//! Flattened, typed views of received OTLP data.

use std::fmt;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
use opentelemetry_proto::tonic::metrics::v1 as pm;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1 as pt;

use super::attributes::{AttrValue, Attributes, attribute_accessors};

/// The transport a request arrived on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// OTLP/gRPC.
    Grpc,
    /// OTLP/HTTP.
    Http,
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Transport::Grpc => "gRPC",
            Transport::Http => "HTTP",
        })
    }
}

/// The payload encoding a request used (this is [`spanforge_otlp::Encoding`]).
pub use spanforge_otlp::Encoding;

/// A span's kind (`Span.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpanKind {
    /// `SPAN_KIND_UNSPECIFIED` (or a value this crate does not know).
    Unspecified,
    /// `SPAN_KIND_INTERNAL`.
    Internal,
    /// `SPAN_KIND_SERVER`.
    Server,
    /// `SPAN_KIND_CLIENT`.
    Client,
    /// `SPAN_KIND_PRODUCER`.
    Producer,
    /// `SPAN_KIND_CONSUMER`.
    Consumer,
}

impl SpanKind {
    fn from_proto(kind: i32) -> SpanKind {
        match pt::span::SpanKind::try_from(kind) {
            Ok(pt::span::SpanKind::Internal) => SpanKind::Internal,
            Ok(pt::span::SpanKind::Server) => SpanKind::Server,
            Ok(pt::span::SpanKind::Client) => SpanKind::Client,
            Ok(pt::span::SpanKind::Producer) => SpanKind::Producer,
            Ok(pt::span::SpanKind::Consumer) => SpanKind::Consumer,
            Ok(pt::span::SpanKind::Unspecified) | Err(_) => SpanKind::Unspecified,
        }
    }
}

/// A span's status code (`Span.status.code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusCode {
    /// `STATUS_CODE_UNSET` (also when the span has no status).
    Unset,
    /// `STATUS_CODE_OK`.
    Ok,
    /// `STATUS_CODE_ERROR`.
    Error,
}

impl StatusCode {
    fn from_proto(code: i32) -> StatusCode {
        match pt::status::StatusCode::try_from(code) {
            Ok(pt::status::StatusCode::Ok) => StatusCode::Ok,
            Ok(pt::status::StatusCode::Error) => StatusCode::Error,
            Ok(pt::status::StatusCode::Unset) | Err(_) => StatusCode::Unset,
        }
    }
}

/// One received span, with its resource and scope folded in.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ReceivedSpan {
    /// Trace id, 32 lowercase hex digits.
    pub trace_id: String,
    /// Span id, 16 lowercase hex digits.
    pub span_id: String,
    /// Parent span id in hex; `None` for a root span.
    pub parent_span_id: Option<String>,
    /// W3C `tracestate`.
    pub trace_state: String,
    /// Span flags (W3C trace flags in the low 8 bits).
    pub flags: u32,
    /// Span name.
    pub name: String,
    /// Span kind.
    pub kind: SpanKind,
    /// Status code.
    pub status_code: StatusCode,
    /// Status message (empty unless set).
    pub status_message: String,
    /// Start time, Unix epoch nanoseconds.
    pub start_time_unix_nano: u64,
    /// End time, Unix epoch nanoseconds.
    pub end_time_unix_nano: u64,
    /// Span attributes.
    pub attributes: Attributes,
    /// Number of attributes the SDK dropped.
    pub dropped_attributes_count: u32,
    /// Span events.
    pub events: Vec<SpanEvent>,
    /// Number of events the SDK dropped.
    pub dropped_events_count: u32,
    /// Span links.
    pub links: Vec<SpanLink>,
    /// Number of links the SDK dropped.
    pub dropped_links_count: u32,
    /// Resource attributes (`service.name`, ...).
    pub resource: Attributes,
    /// Instrumentation scope name.
    pub scope_name: String,
    /// Instrumentation scope version.
    pub scope_version: String,
    /// Transport the span arrived on.
    pub transport: Transport,
    /// Encoding the span arrived in.
    pub encoding: Encoding,
}

attribute_accessors!(ReceivedSpan);

impl ReceivedSpan {
    /// `end - start` (zero if the end is before the start).
    pub fn duration(&self) -> Duration {
        Duration::from_nanos(
            self.end_time_unix_nano
                .saturating_sub(self.start_time_unix_nano),
        )
    }

    /// Whether the span has no parent.
    pub fn is_root(&self) -> bool {
        self.parent_span_id.is_none()
    }

    /// The `service.name` resource attribute.
    pub fn service_name(&self) -> Option<&str> {
        self.resource.get_str("service.name")
    }

    /// The first event named `name`.
    pub fn event(&self, name: &str) -> Option<&SpanEvent> {
        self.events.iter().find(|e| e.name == name)
    }
}

/// An event recorded on a span.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SpanEvent {
    /// Event name.
    pub name: String,
    /// Event time, Unix epoch nanoseconds.
    pub time_unix_nano: u64,
    /// Event attributes.
    pub attributes: Attributes,
}

attribute_accessors!(SpanEvent);

/// A link from a span to another span.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SpanLink {
    /// Linked trace id in hex.
    pub trace_id: String,
    /// Linked span id in hex.
    pub span_id: String,
    /// Linked span's `tracestate`.
    pub trace_state: String,
    /// Link attributes.
    pub attributes: Attributes,
}

attribute_accessors!(SpanLink);

/// One received log record, with its resource and scope folded in.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ReceivedLog {
    /// Event time, Unix epoch nanoseconds (0 if unknown).
    pub time_unix_nano: u64,
    /// Observed time, Unix epoch nanoseconds.
    pub observed_time_unix_nano: u64,
    /// Severity number (1-4 TRACE, 5-8 DEBUG, 9-12 INFO, 13-16 WARN, 17-20 ERROR, 21-24 FATAL;
    /// 0 unspecified).
    pub severity_number: i32,
    /// Severity text as sent (e.g. `"INFO"`).
    pub severity_text: String,
    /// The body as text: a string body as it is, any other body rendered by
    /// [`AttrValue`]'s `Display` (maps and arrays as JSON); empty when there is no body.
    pub body: String,
    /// The body as a typed value; `None` when there is no body.
    pub body_value: Option<AttrValue>,
    /// Trace id in hex, if the record is correlated with a trace.
    pub trace_id: Option<String>,
    /// Span id in hex, if the record is correlated with a span.
    pub span_id: Option<String>,
    /// Log record flags (W3C trace flags in the low 8 bits).
    pub flags: u32,
    /// Event name (empty unless the record is an event).
    pub event_name: String,
    /// Log attributes.
    pub attributes: Attributes,
    /// Resource attributes.
    pub resource: Attributes,
    /// Instrumentation scope name (for tracing-based logs, usually the target).
    pub scope_name: String,
    /// Instrumentation scope version.
    pub scope_version: String,
    /// Transport the record arrived on.
    pub transport: Transport,
    /// Encoding the record arrived in.
    pub encoding: Encoding,
}

attribute_accessors!(ReceivedLog);

impl ReceivedLog {
    /// The `service.name` resource attribute.
    pub fn service_name(&self) -> Option<&str> {
        self.resource.get_str("service.name")
    }
}

/// The type of a metric (which `Metric.data` variant it carried).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetricKind {
    /// `gauge`.
    Gauge,
    /// `sum` (counters and up-down counters).
    Sum,
    /// `histogram` (explicit buckets).
    Histogram,
    /// `exponentialHistogram`.
    ExponentialHistogram,
    /// `summary`.
    Summary,
    /// No data set.
    Empty,
}

/// Aggregation temporality of a sum or histogram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Temporality {
    /// Not set (always the case for gauges and summaries).
    Unspecified,
    /// Delta.
    Delta,
    /// Cumulative.
    Cumulative,
}

impl Temporality {
    fn from_proto(value: i32) -> Temporality {
        match pm::AggregationTemporality::try_from(value) {
            Ok(pm::AggregationTemporality::Delta) => Temporality::Delta,
            Ok(pm::AggregationTemporality::Cumulative) => Temporality::Cumulative,
            Ok(pm::AggregationTemporality::Unspecified) | Err(_) => Temporality::Unspecified,
        }
    }
}

/// One received metric (one `Metric` message of one request), with its resource and scope
/// folded in.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ReceivedMetric {
    /// Metric name.
    pub name: String,
    /// Metric description.
    pub description: String,
    /// Unit (UCUM, e.g. `"s"`, `"{token}"`).
    pub unit: String,
    /// Metric type.
    pub kind: MetricKind,
    /// Aggregation temporality (sums and histograms).
    pub temporality: Temporality,
    /// Whether a sum is monotonic (a counter).
    pub is_monotonic: bool,
    /// Data points.
    pub points: Vec<DataPoint>,
    /// Resource attributes.
    pub resource: Attributes,
    /// Instrumentation scope name (the meter name).
    pub scope_name: String,
    /// Instrumentation scope version.
    pub scope_version: String,
    /// Transport the metric arrived on.
    pub transport: Transport,
    /// Encoding the metric arrived in.
    pub encoding: Encoding,
}

impl ReceivedMetric {
    /// The first data point whose attribute `key` equals `value`.
    pub fn point_with(&self, key: &str, value: impl Into<AttrValue>) -> Option<&DataPoint> {
        let value = value.into();
        self.points
            .iter()
            .find(|p| p.attributes.get(key) == Some(&value))
    }

    /// The `service.name` resource attribute.
    pub fn service_name(&self) -> Option<&str> {
        self.resource.get_str("service.name")
    }
}

/// One data point of a metric.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct DataPoint {
    /// Point attributes.
    pub attributes: Attributes,
    /// Start of the aggregation interval, Unix epoch nanoseconds.
    pub start_time_unix_nano: u64,
    /// Time of the point, Unix epoch nanoseconds.
    pub time_unix_nano: u64,
    /// Point flags.
    pub flags: u32,
    /// The value.
    pub value: PointValue,
}

attribute_accessors!(DataPoint);

impl DataPoint {
    /// The number of a gauge or sum point, as `f64` (`Int` converted); `None` otherwise.
    pub fn as_f64(&self) -> Option<f64> {
        match self.value {
            PointValue::Int(i) => Some(i as f64),
            PointValue::Double(d) => Some(d),
            _ => None,
        }
    }

    /// The integer of a gauge or sum point; `None` for any other value.
    pub fn as_i64(&self) -> Option<i64> {
        match self.value {
            PointValue::Int(i) => Some(i),
            _ => None,
        }
    }

    /// The histogram of a histogram point.
    pub fn histogram(&self) -> Option<&HistogramPoint> {
        match &self.value {
            PointValue::Histogram(h) => Some(h),
            _ => None,
        }
    }
}

/// The value of a [`DataPoint`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum PointValue {
    /// A gauge or sum point with `asInt`.
    Int(i64),
    /// A gauge or sum point with `asDouble`.
    Double(f64),
    /// An explicit-bucket histogram point.
    Histogram(HistogramPoint),
    /// An exponential histogram point.
    ExponentialHistogram(ExponentialHistogramPoint),
    /// A summary point.
    Summary(SummaryPoint),
    /// A gauge or sum point with no value.
    Empty,
}

/// An explicit-bucket histogram data point.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct HistogramPoint {
    /// Number of recorded values.
    pub count: u64,
    /// Sum of recorded values, if sent.
    pub sum: Option<f64>,
    /// Minimum, if sent.
    pub min: Option<f64>,
    /// Maximum, if sent.
    pub max: Option<f64>,
    /// Per-bucket counts (`explicit_bounds.len() + 1` entries).
    pub bucket_counts: Vec<u64>,
    /// Bucket upper bounds.
    pub explicit_bounds: Vec<f64>,
}

/// An exponential histogram data point.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ExponentialHistogramPoint {
    /// Number of recorded values.
    pub count: u64,
    /// Sum of recorded values, if sent.
    pub sum: Option<f64>,
    /// Minimum, if sent.
    pub min: Option<f64>,
    /// Maximum, if sent.
    pub max: Option<f64>,
    /// Resolution scale.
    pub scale: i32,
    /// Count of values in the zero bucket.
    pub zero_count: u64,
    /// Width of the zero bucket.
    pub zero_threshold: f64,
    /// Index offset of the first positive bucket.
    pub positive_offset: i32,
    /// Positive bucket counts.
    pub positive_bucket_counts: Vec<u64>,
    /// Index offset of the first negative bucket.
    pub negative_offset: i32,
    /// Negative bucket counts.
    pub negative_bucket_counts: Vec<u64>,
}

/// A summary data point.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SummaryPoint {
    /// Number of recorded values.
    pub count: u64,
    /// Sum of recorded values.
    pub sum: f64,
    /// `(quantile, value)` pairs.
    pub quantiles: Vec<(f64, f64)>,
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

fn hex_opt(bytes: &[u8]) -> Option<String> {
    (!bytes.is_empty()).then(|| hex(bytes))
}

fn resource_attrs(resource: Option<&Resource>) -> Attributes {
    resource
        .map(|r| Attributes::from_proto(&r.attributes))
        .unwrap_or_default()
}

fn scope_parts(scope: Option<&InstrumentationScope>) -> (String, String) {
    scope
        .map(|s| (s.name.clone(), s.version.clone()))
        .unwrap_or_default()
}

pub(crate) fn flatten_spans(
    req: &ExportTraceServiceRequest,
    transport: Transport,
    encoding: Encoding,
) -> Vec<ReceivedSpan> {
    let mut out = Vec::new();
    for rs in &req.resource_spans {
        let resource = resource_attrs(rs.resource.as_ref());
        for ss in &rs.scope_spans {
            let (scope_name, scope_version) = scope_parts(ss.scope.as_ref());
            for span in &ss.spans {
                let status = span.status.as_ref();
                out.push(ReceivedSpan {
                    trace_id: hex(&span.trace_id),
                    span_id: hex(&span.span_id),
                    parent_span_id: hex_opt(&span.parent_span_id),
                    trace_state: span.trace_state.clone(),
                    flags: span.flags,
                    name: span.name.clone(),
                    kind: SpanKind::from_proto(span.kind),
                    status_code: StatusCode::from_proto(status.map_or(0, |s| s.code)),
                    status_message: status.map(|s| s.message.clone()).unwrap_or_default(),
                    start_time_unix_nano: span.start_time_unix_nano,
                    end_time_unix_nano: span.end_time_unix_nano,
                    attributes: Attributes::from_proto(&span.attributes),
                    dropped_attributes_count: span.dropped_attributes_count,
                    events: span
                        .events
                        .iter()
                        .map(|e| SpanEvent {
                            name: e.name.clone(),
                            time_unix_nano: e.time_unix_nano,
                            attributes: Attributes::from_proto(&e.attributes),
                        })
                        .collect(),
                    dropped_events_count: span.dropped_events_count,
                    links: span
                        .links
                        .iter()
                        .map(|l| SpanLink {
                            trace_id: hex(&l.trace_id),
                            span_id: hex(&l.span_id),
                            trace_state: l.trace_state.clone(),
                            attributes: Attributes::from_proto(&l.attributes),
                        })
                        .collect(),
                    dropped_links_count: span.dropped_links_count,
                    resource: resource.clone(),
                    scope_name: scope_name.clone(),
                    scope_version: scope_version.clone(),
                    transport,
                    encoding,
                });
            }
        }
    }
    out
}

pub(crate) fn flatten_logs(
    req: &ExportLogsServiceRequest,
    transport: Transport,
    encoding: Encoding,
) -> Vec<ReceivedLog> {
    let mut out = Vec::new();
    for rl in &req.resource_logs {
        let resource = resource_attrs(rl.resource.as_ref());
        for sl in &rl.scope_logs {
            let (scope_name, scope_version) = scope_parts(sl.scope.as_ref());
            for record in &sl.log_records {
                let body_value = record.body.as_ref().map(|b| AttrValue::from_proto(Some(b)));
                out.push(ReceivedLog {
                    time_unix_nano: record.time_unix_nano,
                    observed_time_unix_nano: record.observed_time_unix_nano,
                    severity_number: record.severity_number,
                    severity_text: record.severity_text.clone(),
                    body: body_value
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                    body_value,
                    trace_id: hex_opt(&record.trace_id),
                    span_id: hex_opt(&record.span_id),
                    flags: record.flags,
                    event_name: record.event_name.clone(),
                    attributes: Attributes::from_proto(&record.attributes),
                    resource: resource.clone(),
                    scope_name: scope_name.clone(),
                    scope_version: scope_version.clone(),
                    transport,
                    encoding,
                });
            }
        }
    }
    out
}

fn number_point(p: &pm::NumberDataPoint) -> DataPoint {
    DataPoint {
        attributes: Attributes::from_proto(&p.attributes),
        start_time_unix_nano: p.start_time_unix_nano,
        time_unix_nano: p.time_unix_nano,
        flags: p.flags,
        value: match p.value {
            Some(pm::number_data_point::Value::AsInt(i)) => PointValue::Int(i),
            Some(pm::number_data_point::Value::AsDouble(d)) => PointValue::Double(d),
            None => PointValue::Empty,
        },
    }
}

fn histogram_point(p: &pm::HistogramDataPoint) -> DataPoint {
    DataPoint {
        attributes: Attributes::from_proto(&p.attributes),
        start_time_unix_nano: p.start_time_unix_nano,
        time_unix_nano: p.time_unix_nano,
        flags: p.flags,
        value: PointValue::Histogram(HistogramPoint {
            count: p.count,
            sum: p.sum,
            min: p.min,
            max: p.max,
            bucket_counts: p.bucket_counts.clone(),
            explicit_bounds: p.explicit_bounds.clone(),
        }),
    }
}

fn exponential_point(p: &pm::ExponentialHistogramDataPoint) -> DataPoint {
    let (positive_offset, positive_bucket_counts) = p
        .positive
        .as_ref()
        .map(|b| (b.offset, b.bucket_counts.clone()))
        .unwrap_or_default();
    let (negative_offset, negative_bucket_counts) = p
        .negative
        .as_ref()
        .map(|b| (b.offset, b.bucket_counts.clone()))
        .unwrap_or_default();
    DataPoint {
        attributes: Attributes::from_proto(&p.attributes),
        start_time_unix_nano: p.start_time_unix_nano,
        time_unix_nano: p.time_unix_nano,
        flags: p.flags,
        value: PointValue::ExponentialHistogram(ExponentialHistogramPoint {
            count: p.count,
            sum: p.sum,
            min: p.min,
            max: p.max,
            scale: p.scale,
            zero_count: p.zero_count,
            zero_threshold: p.zero_threshold,
            positive_offset,
            positive_bucket_counts,
            negative_offset,
            negative_bucket_counts,
        }),
    }
}

fn summary_point(p: &pm::SummaryDataPoint) -> DataPoint {
    DataPoint {
        attributes: Attributes::from_proto(&p.attributes),
        start_time_unix_nano: p.start_time_unix_nano,
        time_unix_nano: p.time_unix_nano,
        flags: p.flags,
        value: PointValue::Summary(SummaryPoint {
            count: p.count,
            sum: p.sum,
            quantiles: p
                .quantile_values
                .iter()
                .map(|q| (q.quantile, q.value))
                .collect(),
        }),
    }
}

pub(crate) fn flatten_metrics(
    req: &ExportMetricsServiceRequest,
    transport: Transport,
    encoding: Encoding,
) -> Vec<ReceivedMetric> {
    use pm::metric::Data;

    let mut out = Vec::new();
    for rm in &req.resource_metrics {
        let resource = resource_attrs(rm.resource.as_ref());
        for sm in &rm.scope_metrics {
            let (scope_name, scope_version) = scope_parts(sm.scope.as_ref());
            for metric in &sm.metrics {
                let (kind, temporality, is_monotonic, points) = match &metric.data {
                    Some(Data::Gauge(g)) => (
                        MetricKind::Gauge,
                        Temporality::Unspecified,
                        false,
                        g.data_points.iter().map(number_point).collect(),
                    ),
                    Some(Data::Sum(s)) => (
                        MetricKind::Sum,
                        Temporality::from_proto(s.aggregation_temporality),
                        s.is_monotonic,
                        s.data_points.iter().map(number_point).collect(),
                    ),
                    Some(Data::Histogram(h)) => (
                        MetricKind::Histogram,
                        Temporality::from_proto(h.aggregation_temporality),
                        false,
                        h.data_points.iter().map(histogram_point).collect(),
                    ),
                    Some(Data::ExponentialHistogram(h)) => (
                        MetricKind::ExponentialHistogram,
                        Temporality::from_proto(h.aggregation_temporality),
                        false,
                        h.data_points.iter().map(exponential_point).collect(),
                    ),
                    Some(Data::Summary(s)) => (
                        MetricKind::Summary,
                        Temporality::Unspecified,
                        false,
                        s.data_points.iter().map(summary_point).collect(),
                    ),
                    None => (
                        MetricKind::Empty,
                        Temporality::Unspecified,
                        false,
                        Vec::new(),
                    ),
                };
                out.push(ReceivedMetric {
                    name: metric.name.clone(),
                    description: metric.description.clone(),
                    unit: metric.unit.clone(),
                    kind,
                    temporality,
                    is_monotonic,
                    points,
                    resource: resource.clone(),
                    scope_name: scope_name.clone(),
                    scope_version: scope_version.clone(),
                    transport,
                    encoding,
                });
            }
        }
    }
    out
}

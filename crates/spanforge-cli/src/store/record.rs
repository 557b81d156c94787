//! The rows one OTLP export request becomes: what the writer inserts, all or nothing.

/// One span, with the columns the UI filters and groups by already extracted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpanRecord {
    /// 32 lowercase hex digits.
    pub trace_id: String,
    /// 16 lowercase hex digits.
    pub span_id: String,
    /// The parent's span id; `None` for a root span.
    pub parent_span_id: Option<String>,
    /// `service.name` of the resource (`unknown_service` when absent).
    pub service: String,
    /// The span name.
    pub name: String,
    /// The OTLP span kind number (0 unspecified, 1 internal, 2 server, 3 client, …).
    pub kind: i32,
    /// Start, nanoseconds since the Unix epoch.
    pub start_ns: i64,
    /// End, nanoseconds since the Unix epoch (never before the start).
    pub end_ns: i64,
    /// The OTLP status code number (0 unset, 1 ok, 2 error).
    pub status_code: i32,
    /// The status message, when not empty.
    pub status_message: Option<String>,
    /// `http.request.method`.
    pub http_method: Option<String>,
    /// `http.route`.
    pub http_route: Option<String>,
    /// `http.response.status_code`.
    pub http_status: Option<i64>,
    /// The GenAI fields when the span is an LLM call.
    pub llm: Option<LlmFields>,
    /// All span attributes as a JSON object.
    pub attributes_json: String,
    /// All resource attributes as a JSON object.
    pub resource_json: String,
    /// Events as a JSON array of `{"name","time_unix_nano","attributes"}`.
    pub events_json: String,
}

impl SpanRecord {
    /// Whether the span failed: status error, or `error.type` set on an unset status.
    pub fn is_error(&self) -> bool {
        self.status_code == 2
    }
}

/// What an LLM call span carries (`gen_ai.*`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LlmFields {
    /// `gen_ai.operation.name` (`chat`, `text_completion`, `embeddings`, …).
    pub operation: String,
    /// `gen_ai.provider.name`.
    pub provider: Option<String>,
    /// `gen_ai.response.model`, else `gen_ai.request.model`.
    pub model: Option<String>,
    /// `gen_ai.prompt.name`.
    pub prompt_name: Option<String>,
    /// `gen_ai.prompt.version` (a string or an integer on the wire; kept as text).
    pub prompt_version: Option<String>,
    /// `gen_ai.usage.input_tokens`.
    pub input_tokens: Option<i64>,
    /// `gen_ai.usage.output_tokens`.
    pub output_tokens: Option<i64>,
    /// `gen_ai.usage.cache_read.input_tokens`.
    pub cached_tokens: Option<i64>,
    /// `gen_ai.usage.cost` in USD.
    pub cost_usd: Option<f64>,
    /// `gen_ai.response.time_to_first_chunk`, in milliseconds.
    pub ttfc_ms: Option<f64>,
}

/// One log record.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogRecord {
    /// Time (or observed time when the time is unset), nanoseconds since the Unix epoch.
    pub time_ns: i64,
    /// The trace it belongs to, when any.
    pub trace_id: Option<String>,
    /// The span it belongs to, when any.
    pub span_id: Option<String>,
    /// `service.name` of the resource.
    pub service: String,
    /// The OTLP severity number.
    pub severity_number: i32,
    /// The severity text, when set.
    pub severity_text: Option<String>,
    /// The body: a string as is, anything else as JSON.
    pub body: String,
    /// Attributes as a JSON object.
    pub attributes_json: String,
}

/// One metric data point.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PointRecord {
    /// Time of the point, nanoseconds since the Unix epoch.
    pub time_ns: i64,
    /// `service.name` of the resource.
    pub service: String,
    /// Metric name.
    pub name: String,
    /// Metric unit.
    pub unit: String,
    /// `gauge`, `sum`, `histogram`, `exponential_histogram` or `summary`.
    pub kind: &'static str,
    /// Point attributes as a JSON object.
    pub attributes_json: String,
    /// The value of a gauge or sum point.
    pub value: Option<f64>,
    /// The count of a histogram or summary point.
    pub count: Option<i64>,
    /// The sum of a histogram or summary point.
    pub sum: Option<f64>,
    /// Bucket bounds and counts of a histogram, as JSON.
    pub buckets_json: Option<String>,
}

/// Everything one export request carries; stored in one transaction.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    /// Spans.
    pub spans: Vec<SpanRecord>,
    /// Log records.
    pub logs: Vec<LogRecord>,
    /// Metric data points.
    pub points: Vec<PointRecord>,
}

impl Batch {
    /// Spans, log records and points in the batch.
    pub fn len(&self) -> usize {
        self.spans.len() + self.logs.len() + self.points.len()
    }

    /// Whether the batch holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

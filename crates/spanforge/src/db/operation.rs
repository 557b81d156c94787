//! The driver-agnostic span API: [`DbOperation`] describes a call, [`DbSpan`] measures it.

use std::borrow::Cow;
use std::fmt;
use std::sync::OnceLock;
use std::time::Instant;

use opentelemetry::global::{self, BoxedTracer};
use opentelemetry::trace::{SpanKind, Status, TraceContextExt, Tracer};
use opentelemetry::{Context, InstrumentationScope, KeyValue, StringValue, Value};

use super::attributes::*;
use super::metrics;
use super::sanitize::sanitize;

/// Longest status message kept on a failed span; driver messages can be long.
const MAX_MESSAGE_LEN: usize = 512;

fn tracer() -> &'static BoxedTracer {
    static TRACER: OnceLock<BoxedTracer> = OnceLock::new();
    TRACER.get_or_init(|| {
        global::tracer_with_scope(
            InstrumentationScope::builder("spanforge.db")
                .with_version(env!("CARGO_PKG_VERSION"))
                .build(),
        )
    })
}

/// What a database call is about, known before it runs: the builder of a [`DbSpan`].
///
/// Any driver can be instrumented with it: describe the call, [`start`](Self::start) the
/// span, run the call, then end the span with the outcome.
///
/// ```
/// use spanforge::db::DbOperation;
///
/// # fn run_query(_: &str) -> Result<Vec<String>, std::io::Error> { Ok(vec![]) }
/// let sql = "SELECT name FROM prompts WHERE owner = 'ann'";
/// let mut span = DbOperation::sql("postgresql", sql)
///     .namespace("prompts_db")
///     .server_address("db.internal")
///     .start();
/// match run_query(sql) {
///     Ok(rows) => {
///         span.set_returned_rows(rows.len() as u64);
///         span.end();
///     }
///     Err(e) => span.end_with_error("io", &e),
/// }
/// ```
///
/// The span is named after `db.query.summary` when there is one, else
/// `{db.operation.name} {target}` (target: the collection, stored procedure, namespace or
/// `server.address:server.port`), else the target, else `db.system.name`, as the database
/// conventions ask. Its kind is CLIENT.
#[derive(Debug, Clone)]
pub struct DbOperation {
    system: StringValue,
    namespace: Option<StringValue>,
    operation: Option<StringValue>,
    collection: Option<StringValue>,
    text: Option<String>,
    summary: Option<StringValue>,
    stored_procedure: Option<StringValue>,
    batch_size: Option<u64>,
    server_address: Option<StringValue>,
    server_port: Option<u16>,
    name: Option<String>,
    kind: SpanKind,
    record_duration: bool,
}

impl DbOperation {
    /// A call to a database of the given `db.system.name` (`sqlite`, `postgresql`,
    /// `redis`, `other_sql`, ...). Nothing else is set.
    pub fn new(system_name: impl Into<StringValue>) -> Self {
        DbOperation {
            system: system_name.into(),
            namespace: None,
            operation: None,
            collection: None,
            text: None,
            summary: None,
            stored_procedure: None,
            batch_size: None,
            server_address: None,
            server_port: None,
            name: None,
            kind: SpanKind::Client,
            record_duration: true,
        }
    }

    /// A SQL call: `sql` goes through [`sanitize`](super::sanitize::sanitize), which sets
    /// `db.query.text` (literals replaced by `?`), `db.query.summary`, `db.operation.name`
    /// (the statement's operation, `BATCH …` for several statements), `db.collection.name`
    /// (when the query touches exactly one table) and `db.operation.batch.size` (when there
    /// are several statements).
    ///
    /// The conventions discourage deriving the operation and collection from query text
    /// when a statement can touch several; spanforge sets them only when the sanitizer
    /// found a single one, so that `db.client.operation.duration` can be broken down by
    /// them. Override either with [`operation_name`](Self::operation_name) /
    /// [`collection_name`](Self::collection_name).
    pub fn sql(system_name: impl Into<StringValue>, sql: &str) -> Self {
        let q = sanitize(sql);
        let mut op = DbOperation::new(system_name);
        op.text = Some(q.text);
        if !q.summary.is_empty() {
            op.summary = Some(q.summary.into());
        }
        op.operation = q.operation.map(Into::into);
        op.collection = q.collection.map(Into::into);
        if q.statements > 1 {
            op.batch_size = Some(q.statements as u64);
        }
        op
    }

    /// `db.namespace`: the database (for SQLite, the file; for Redis, the database index).
    pub fn namespace(mut self, namespace: impl Into<StringValue>) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    /// `db.operation.name`, e.g. `SELECT`, `GET`, `findAndModify`.
    pub fn operation_name(mut self, operation: impl Into<StringValue>) -> Self {
        self.operation = Some(operation.into());
        self
    }

    /// `db.collection.name`: the table or collection.
    pub fn collection_name(mut self, collection: impl Into<StringValue>) -> Self {
        self.collection = Some(collection.into());
        self
    }

    /// `db.query.text`, recorded as given: pass parameterized or sanitized text only
    /// ([`DbOperation::sql`] sanitizes for you).
    pub fn query_text(mut self, text: impl Into<String>) -> Self {
        self.text = Some(text.into());
        self
    }

    /// `db.query.summary`, e.g. `SELECT prompts`; also the span name.
    pub fn query_summary(mut self, summary: impl Into<StringValue>) -> Self {
        self.summary = Some(summary.into());
        self
    }

    /// `db.stored_procedure.name` (a Lua script's SHA for Redis `EVALSHA`).
    pub fn stored_procedure_name(mut self, name: impl Into<StringValue>) -> Self {
        self.stored_procedure = Some(name.into());
        self
    }

    /// `db.operation.batch.size`: the number of operations in a batch. Per the
    /// conventions it is never 1 (a batch of one is a single operation); `1` is ignored.
    pub fn batch_size(mut self, size: u64) -> Self {
        self.batch_size = (size != 1).then_some(size);
        self
    }

    /// `server.address`: the database host as configured (never with credentials).
    pub fn server_address(mut self, address: impl Into<StringValue>) -> Self {
        self.server_address = Some(address.into());
        self
    }

    /// `server.port`; by convention only set when it is not the system's default port.
    pub fn server_port(mut self, port: u16) -> Self {
        self.server_port = Some(port);
        self
    }

    /// Name the span explicitly instead of deriving the name from the attributes.
    pub fn span_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Use span kind INTERNAL, which the conventions allow for in-process databases.
    pub fn internal(mut self) -> Self {
        self.kind = SpanKind::Internal;
        self
    }

    /// A span that is not a database operation (connecting): no duration measurement.
    #[allow(dead_code)] // used by the redis integration
    pub(crate) fn without_duration_metric(mut self) -> Self {
        self.record_duration = false;
        self
    }

    /// The `db.operation.name` set so far.
    pub fn get_operation_name(&self) -> Option<&str> {
        self.operation.as_ref().map(StringValue::as_str)
    }

    /// The `db.query.text` set so far.
    pub fn get_query_text(&self) -> Option<&str> {
        self.text.as_deref()
    }

    /// Start the span under the current context (the surrounding HTTP server span, a
    /// `#[tracing::instrument]` span, ...).
    pub fn start(self) -> DbSpan {
        self.start_with_parent(&Context::current())
    }

    /// Start the span under `parent`.
    pub fn start_with_parent(self, parent: &Context) -> DbSpan {
        let name = self.span_name_text();
        let mut span_attrs = Vec::with_capacity(11);
        let mut metric_attrs = Vec::with_capacity(10);
        let system = KeyValue::new(DB_SYSTEM_NAME, Value::String(self.system));
        span_attrs.push(system.clone());
        metric_attrs.push(system.clone());
        let mut counter_attrs = Vec::with_capacity(2);
        counter_attrs.push(system);
        let both = [
            (DB_NAMESPACE, self.namespace),
            (DB_OPERATION_NAME, self.operation),
            (DB_COLLECTION_NAME, self.collection),
            (DB_QUERY_SUMMARY, self.summary),
            (DB_STORED_PROCEDURE_NAME, self.stored_procedure),
            (SERVER_ADDRESS, self.server_address),
        ];
        for (key, value) in both {
            if let Some(value) = value {
                let kv = KeyValue::new(key, Value::String(value));
                if key == DB_NAMESPACE {
                    counter_attrs.push(kv.clone());
                }
                span_attrs.push(kv.clone());
                metric_attrs.push(kv);
            }
        }
        if let Some(port) = self.server_port {
            let kv = KeyValue::new(SERVER_PORT, i64::from(port));
            span_attrs.push(kv.clone());
            metric_attrs.push(kv);
        }
        if let Some(text) = self.text {
            span_attrs.push(KeyValue::new(DB_QUERY_TEXT, text));
        }
        if let Some(size) = self.batch_size {
            span_attrs.push(KeyValue::new(
                DB_OPERATION_BATCH_SIZE,
                i64::try_from(size).unwrap_or(i64::MAX),
            ));
        }
        let span = tracer()
            .span_builder(name)
            .with_kind(self.kind)
            .with_attributes(span_attrs)
            .start_with_context(tracer(), parent);
        DbSpan {
            cx: parent.with_span(span),
            started: Instant::now(),
            metric_attrs,
            counter_attrs,
            returned_rows: None,
            affected_rows: None,
            rows_read: None,
            rows_written: None,
            status_code: None,
            record_duration: self.record_duration,
            ended: false,
        }
    }

    fn span_name_text(&self) -> String {
        if let Some(name) = &self.name {
            return name.clone();
        }
        if let Some(summary) = &self.summary {
            return summary.as_str().to_owned();
        }
        let target: Option<Cow<'_, str>> = self
            .collection
            .as_ref()
            .or(self.stored_procedure.as_ref())
            .or(self.namespace.as_ref())
            .map(|t| Cow::Borrowed(t.as_str()))
            .or_else(|| {
                self.server_address
                    .as_ref()
                    .map(|a| match self.server_port {
                        Some(port) => Cow::Owned(format!("{}:{port}", a.as_str())),
                        None => Cow::Borrowed(a.as_str()),
                    })
            });
        match (&self.operation, target) {
            (Some(op), Some(target)) => format!("{} {target}", op.as_str()),
            (Some(op), None) => op.as_str().to_owned(),
            (None, Some(target)) => target.into_owned(),
            (None, None) => self.system.as_str().to_owned(),
        }
    }
}

/// A database call in progress: a CLIENT span plus the `db.client.operation.duration`
/// measurement, both finished by [`end`](Self::end) or
/// [`end_with_error`](Self::end_with_error).
///
/// Dropping it without either (the caller's future was cancelled) ends it as a success:
/// cancellation is not an error by the conventions. On ending, rows returned count
/// towards `spanforge.db.rows_read` and rows affected towards `spanforge.db.rows_written`
/// (unless [`set_rows_read`](Self::set_rows_read) / [`set_rows_written`](Self::set_rows_written)
/// give the database's own numbers).
pub struct DbSpan {
    cx: Context,
    started: Instant,
    metric_attrs: Vec<KeyValue>,
    counter_attrs: Vec<KeyValue>,
    returned_rows: Option<u64>,
    affected_rows: Option<u64>,
    rows_read: Option<u64>,
    rows_written: Option<u64>,
    status_code: Option<StringValue>,
    record_duration: bool,
    ended: bool,
}

impl fmt::Debug for DbSpan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DbSpan")
            .field("span_context", self.cx.span().span_context())
            .field("returned_rows", &self.returned_rows)
            .field("affected_rows", &self.affected_rows)
            .finish_non_exhaustive()
    }
}

impl DbSpan {
    /// The context holding this span, to parent work done on its behalf.
    pub fn context(&self) -> &Context {
        &self.cx
    }

    /// `db.response.returned_rows`: rows the call returned.
    pub fn set_returned_rows(&mut self, rows: u64) {
        self.returned_rows = Some(rows);
    }

    /// Add to `db.response.returned_rows` (for results read row by row).
    pub fn add_returned_rows(&mut self, rows: u64) {
        self.returned_rows = Some(self.returned_rows.unwrap_or(0).saturating_add(rows));
    }

    /// `spanforge.db.rows_affected`: rows an INSERT, UPDATE or DELETE changed.
    pub fn set_affected_rows(&mut self, rows: u64) {
        self.affected_rows = Some(rows);
    }

    /// Rows the database read to answer (e.g. Turso's `rows_read`), when the driver knows;
    /// counted in `spanforge.db.rows_read` instead of the rows returned.
    pub fn set_rows_read(&mut self, rows: u64) {
        self.rows_read = Some(rows);
    }

    /// Rows the database wrote, when the driver knows; counted in
    /// `spanforge.db.rows_written` instead of the rows affected.
    pub fn set_rows_written(&mut self, rows: u64) {
        self.rows_written = Some(rows);
    }

    /// `db.response.status_code`: the database's own code (`ERR`, `WRONGTYPE`, `2067`).
    pub fn set_response_status_code(&mut self, code: impl Into<StringValue>) {
        self.status_code = Some(code.into());
    }

    /// Set any other attribute on the span (not on the metric).
    pub fn set_attribute(&self, attribute: KeyValue) {
        self.cx.span().set_attribute(attribute);
    }

    /// End the call as a success.
    pub fn end(mut self) {
        self.finish(None);
    }

    /// End the call as a failure: `error_type` becomes `error.type` on the span and the
    /// metric (keep it low-cardinality: an error code or class, `_OTHER` if nothing
    /// better), `message` the span's status description.
    pub fn end_with_error(
        mut self,
        error_type: impl Into<StringValue>,
        message: &dyn fmt::Display,
    ) {
        let mut message = message.to_string();
        if message.len() > MAX_MESSAGE_LEN {
            let mut cut = MAX_MESSAGE_LEN;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
            message.push_str("...");
        }
        self.finish(Some((error_type.into(), message)));
    }

    fn finish(&mut self, error: Option<(StringValue, String)>) {
        if self.ended {
            return;
        }
        self.ended = true;
        let elapsed = self.started.elapsed();
        let span = self.cx.span();
        if let Some(rows) = self.returned_rows {
            span.set_attribute(KeyValue::new(
                DB_RESPONSE_RETURNED_ROWS,
                i64::try_from(rows).unwrap_or(i64::MAX),
            ));
        }
        if let Some(rows) = self.affected_rows {
            span.set_attribute(KeyValue::new(
                SPANFORGE_DB_ROWS_AFFECTED,
                i64::try_from(rows).unwrap_or(i64::MAX),
            ));
        }
        let mut metric_attrs = std::mem::take(&mut self.metric_attrs);
        if let Some(code) = self.status_code.take() {
            let kv = KeyValue::new(DB_RESPONSE_STATUS_CODE, Value::String(code));
            span.set_attribute(kv.clone());
            metric_attrs.push(kv);
        }
        if let Some((error_type, message)) = error {
            let kv = KeyValue::new(ERROR_TYPE, Value::String(error_type));
            span.set_attribute(kv.clone());
            metric_attrs.push(kv);
            span.set_status(Status::error(message));
        }
        span.end();
        let instruments = metrics::instruments();
        if self.record_duration {
            instruments
                .duration
                .record(elapsed.as_secs_f64(), &metric_attrs);
        }
        if let Some(read) = self.rows_read.or(self.returned_rows) {
            instruments.rows_read.add(read, &self.counter_attrs);
        }
        if let Some(written) = self.rows_written.or(self.affected_rows) {
            instruments.rows_written.add(written, &self.counter_attrs);
        }
    }
}

impl Drop for DbSpan {
    fn drop(&mut self) {
        self.finish(None);
    }
}

/// Whether a SQL operation name (as the sanitizer reports it) changes rows, so that the
/// driver's "changes" count belongs to it.
#[allow(dead_code)] // used by the libsql integration
pub(crate) fn is_write_operation(operation: Option<&str>) -> bool {
    let Some(op) = operation else { return false };
    let first = op.split(' ').next().unwrap_or("");
    ["INSERT", "UPDATE", "DELETE", "REPLACE", "UPSERT", "MERGE"]
        .iter()
        .any(|w| first.eq_ignore_ascii_case(w))
}

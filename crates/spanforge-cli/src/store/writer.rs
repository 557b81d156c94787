//! The writer thread: the only connection that writes.

use std::collections::HashMap;

use libsql::{Connection, Value};
use tokio::sync::{mpsc, oneshot};

use super::StoreError;
use super::record::{Batch, LogRecord, PointRecord, SpanRecord};
use super::retention::{Retention, RetentionReport};

/// Requests to the writer.
#[derive(Debug)]
pub(super) enum Message {
    Write(Prepared, oneshot::Sender<Result<WriteSummary, StoreError>>),
    Retain(
        Retention,
        oneshot::Sender<Result<RetentionReport, StoreError>>,
    ),
}

/// What a write stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteSummary {
    /// Spans inserted.
    pub spans: usize,
    /// Spans skipped because they were already stored.
    pub duplicate_spans: usize,
    /// Log records inserted.
    pub logs: usize,
    /// Metric points inserted.
    pub points: usize,
}

/// Spans committed together at most; more waiting batches wait for the next transaction.
const MAX_SPANS_PER_TRANSACTION: usize = 50_000;

pub(super) fn spawn(conn: Connection, mut inbox: mpsc::Receiver<Message>) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("spanforge-store-writer".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread().build() {
                Ok(runtime) => runtime,
                Err(error) => {
                    tracing::error!(%error, "the store writer cannot start");
                    return;
                }
            };
            runtime.block_on(async move {
                let mut writer = Writer {
                    conn,
                    resources: HashMap::new(),
                };
                while let Some(first) = inbox.recv().await {
                    let mut writes = Vec::new();
                    let mut spans = 0;
                    let mut next = Some(first);
                    // Coalesce what is already waiting into one transaction.
                    while let Some(message) = next.take() {
                        match message {
                            Message::Write(batch, ack) => {
                                spans += batch.spans.len();
                                writes.push((batch, ack));
                            }
                            Message::Retain(retention, ack) => {
                                writer.flush(std::mem::take(&mut writes)).await;
                                spans = 0;
                                let _ = ack.send(writer.retain(retention).await);
                            }
                        }
                        if spans < MAX_SPANS_PER_TRANSACTION {
                            next = inbox.try_recv().ok();
                        }
                    }
                    writer.flush(writes).await;
                }
            });
        })?;
    Ok(())
}

type Ack = oneshot::Sender<Result<WriteSummary, StoreError>>;

/// A batch turned into statement parameters by the sender, so the writer thread (the one
/// serial step of ingest) only binds and steps.
#[derive(Debug)]
pub(super) struct Prepared {
    spans: Vec<PreparedSpan>,
    logs: Vec<Vec<Value>>,
    points: Vec<Vec<Value>>,
}

#[derive(Debug)]
struct PreparedSpan {
    trace_id: String,
    /// Resource attributes as JSON: stored once in `resources`, referenced by id.
    resource_json: String,
    contribution: Contribution,
    params: Vec<Value>,
}

impl Prepared {
    pub(super) fn new(batch: Batch) -> Prepared {
        Prepared {
            spans: batch
                .spans
                .into_iter()
                .map(|mut span| PreparedSpan {
                    trace_id: span.trace_id.clone(),
                    resource_json: std::mem::take(&mut span.resource_json),
                    contribution: Contribution::of(&span),
                    params: span_params(span),
                })
                .collect(),
            logs: batch.logs.into_iter().map(log_params).collect(),
            points: batch.points.into_iter().map(point_params).collect(),
        }
    }
}

struct Writer {
    conn: Connection,
    /// Resource JSON to its row id. Rows in `resources` are never deleted, so an id stays
    /// valid for the life of the writer (a rollback empties the cache).
    resources: HashMap<String, i64>,
}

impl Writer {
    /// Commits all batches in one transaction. If it fails (the disk is full, the file is
    /// locked by another program), every batch in it fails and its sender is told to retry.
    async fn flush(&mut self, writes: Vec<(Prepared, Ack)>) {
        if writes.is_empty() {
            return;
        }
        let (batches, acks): (Vec<Prepared>, Vec<Ack>) = writes.into_iter().unzip();
        match self.transaction(batches).await {
            Ok(summaries) => {
                for (ack, summary) in acks.into_iter().zip(summaries) {
                    let _ = ack.send(Ok(summary));
                }
            }
            Err(error) => {
                tracing::error!(%error, "storing a transaction failed");
                let message = error.to_string();
                for ack in acks {
                    let _ = ack.send(Err(StoreError::Write(message.clone())));
                }
            }
        }
    }

    async fn transaction(
        &mut self,
        batches: Vec<Prepared>,
    ) -> Result<Vec<WriteSummary>, StoreError> {
        self.conn.execute("BEGIN IMMEDIATE", ()).await?;
        match self.insert_all(batches).await {
            Ok(summaries) => match self.conn.execute("COMMIT", ()).await {
                Ok(_) => Ok(summaries),
                Err(error) => {
                    let _ = self.conn.execute("ROLLBACK", ()).await;
                    self.resources.clear();
                    Err(error.into())
                }
            },
            Err(error) => {
                let _ = self.conn.execute("ROLLBACK", ()).await;
                self.resources.clear();
                Err(error)
            }
        }
    }

    /// Inserts every row; spans get the id of their resource, stored once.
    async fn insert_all(
        &mut self,
        batches: Vec<Prepared>,
    ) -> Result<Vec<WriteSummary>, StoreError> {
        let insert_span = self.conn.prepare(INSERT_SPAN).await?;
        let upsert_trace = self.conn.prepare(UPSERT_TRACE).await?;
        let insert_log = self.conn.prepare(INSERT_LOG).await?;
        let insert_point = self.conn.prepare(INSERT_POINT).await?;
        let mut summaries = Vec::with_capacity(batches.len());
        let mut traces: HashMap<String, TraceDelta> = HashMap::new();
        for batch in batches {
            let mut summary = WriteSummary::default();
            for span in batch.spans {
                let resource_id = match self.resources.get(&span.resource_json) {
                    Some(&id) => id,
                    None => {
                        let id = self.resource_id(&span.resource_json).await?;
                        self.resources.insert(span.resource_json, id);
                        id
                    }
                };
                let mut params = span.params;
                params.push(resource_id.into());
                let inserted = insert_span.execute(params).await?;
                insert_span.reset();
                if inserted == 0 {
                    summary.duplicate_spans += 1;
                    continue;
                }
                summary.spans += 1;
                traces
                    .entry(span.trace_id)
                    .or_default()
                    .add(span.contribution);
            }
            for params in batch.logs {
                insert_log.execute(params).await?;
                insert_log.reset();
                summary.logs += 1;
            }
            for params in batch.points {
                insert_point.execute(params).await?;
                insert_point.reset();
                summary.points += 1;
            }
            summaries.push(summary);
        }
        for (trace_id, delta) in traces {
            upsert_trace.execute(delta.params(trace_id)).await?;
            upsert_trace.reset();
        }
        Ok(summaries)
    }

    /// The id of a resource's row, inserting it the first time it is seen.
    async fn resource_id(&mut self, json: &str) -> Result<i64, StoreError> {
        self.conn
            .execute(
                "INSERT OR IGNORE INTO resources (attributes) VALUES (?1)",
                [json],
            )
            .await?;
        let mut rows = self
            .conn
            .query("SELECT id FROM resources WHERE attributes = ?1", [json])
            .await?;
        match rows.next().await? {
            Some(row) => Ok(row.get(0)?),
            None => Err(StoreError::Corrupt {
                column: "resources.id",
                reason: "a resource just inserted is missing".into(),
            }),
        }
    }

    async fn retain(&mut self, retention: Retention) -> Result<RetentionReport, StoreError> {
        super::retention::enforce(&self.conn, retention).await
    }
}

/// What one span adds to its trace's summary row.
#[derive(Debug)]
struct Contribution {
    /// Service, name and route, when the span is a root.
    root: Option<(String, String, Option<String>)>,
    /// Service and name, used when the span is the first of its trace in the transaction.
    first: Option<(String, String)>,
    start_ns: i64,
    end_ns: i64,
    error: bool,
    llm_cost: Option<f64>,
}

impl Contribution {
    fn of(span: &SpanRecord) -> Contribution {
        Contribution {
            root: span.parent_span_id.is_none().then(|| {
                (
                    span.service.clone(),
                    span.name.clone(),
                    span.http_route.clone(),
                )
            }),
            first: Some((span.service.clone(), span.name.clone())),
            start_ns: span.start_ns,
            end_ns: span.end_ns,
            error: span.is_error(),
            llm_cost: span.llm.as_ref().map(|llm| llm.cost_usd.unwrap_or(0.0)),
        }
    }
}

/// What the spans of one transaction add to their trace's summary row.
#[derive(Default)]
struct TraceDelta {
    root: Option<(String, String, Option<String>)>,
    first: Option<(String, String)>,
    start_ns: i64,
    end_ns: i64,
    spans: i64,
    errors: i64,
    llm_calls: i64,
    cost_usd: f64,
}

impl TraceDelta {
    fn add(&mut self, span: Contribution) {
        if self.spans == 0 {
            self.start_ns = span.start_ns;
            self.end_ns = span.end_ns;
        }
        if self.first.is_none() {
            self.first = span.first;
        }
        if span.root.is_some() {
            self.root = span.root;
        }
        self.start_ns = self.start_ns.min(span.start_ns);
        self.end_ns = self.end_ns.max(span.end_ns);
        self.spans += 1;
        self.errors += i64::from(span.error);
        if let Some(cost) = span.llm_cost {
            self.llm_calls += 1;
            self.cost_usd += cost;
        }
    }

    fn params(self, trace_id: String) -> Vec<Value> {
        let has_root = self.root.is_some();
        let (first_service, first_name) = self.first.unwrap_or_default();
        let (service, root_name, route) = match self.root {
            Some((service, name, route)) => (service, Some(name), route),
            None => (first_service, None, None),
        };
        vec![
            trace_id.into(),
            service.into(),
            root_name.into(),
            first_name.into(),
            route.into(),
            self.start_ns.into(),
            self.end_ns.into(),
            self.spans.into(),
            self.errors.into(),
            self.llm_calls.into(),
            self.cost_usd.into(),
            i64::from(has_root).into(),
        ]
    }
}

const INSERT_SPAN: &str = "INSERT OR IGNORE INTO spans (
    trace_id, span_id, parent_span_id, service, name, kind, start_ns, end_ns, status_code,
    status_message, http_method, http_route, http_status, llm_operation, llm_provider, llm_model,
    prompt_name, prompt_version, input_tokens, output_tokens, cached_tokens, cost_usd, ttfc_ms,
    attributes, events, resource_id
) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19,
    ?20, ?21, ?22, ?23, ?24, ?25, ?26)";

// A trace's service, name and route come from its root span once the root has arrived.
const UPSERT_TRACE: &str = "INSERT INTO traces (
    trace_id, service, root_name, first_name, route, start_ns, end_ns, span_count, error_count,
    llm_calls, cost_usd
) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
ON CONFLICT (trace_id) DO UPDATE SET
    service = CASE WHEN ?12 = 1 THEN excluded.service ELSE traces.service END,
    root_name = COALESCE(excluded.root_name, traces.root_name),
    route = CASE WHEN ?12 = 1 THEN excluded.route ELSE traces.route END,
    start_ns = MIN(traces.start_ns, excluded.start_ns),
    end_ns = MAX(traces.end_ns, excluded.end_ns),
    span_count = traces.span_count + excluded.span_count,
    error_count = traces.error_count + excluded.error_count,
    llm_calls = traces.llm_calls + excluded.llm_calls,
    cost_usd = traces.cost_usd + excluded.cost_usd";

const INSERT_LOG: &str = "INSERT INTO logs (
    time_ns, trace_id, span_id, service, severity_number, severity_text, body, attributes
) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

const INSERT_POINT: &str = "INSERT INTO metric_points (
    time_ns, service, name, unit, kind, attributes, value, count, sum, buckets
) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";

fn span_params(span: SpanRecord) -> Vec<Value> {
    let llm = span.llm.unwrap_or_default();
    let is_llm = !llm.operation.is_empty();
    vec![
        span.trace_id.into(),
        span.span_id.into(),
        span.parent_span_id.into(),
        span.service.into(),
        span.name.into(),
        span.kind.into(),
        span.start_ns.into(),
        span.end_ns.into(),
        span.status_code.into(),
        span.status_message.into(),
        span.http_method.into(),
        span.http_route.into(),
        span.http_status.into(),
        is_llm.then_some(llm.operation).into(),
        llm.provider.into(),
        llm.model.into(),
        llm.prompt_name.into(),
        llm.prompt_version.into(),
        llm.input_tokens.into(),
        llm.output_tokens.into(),
        llm.cached_tokens.into(),
        llm.cost_usd.into(),
        llm.ttfc_ms.into(),
        span.attributes_json.into(),
        span.events_json.into(),
    ]
}

fn log_params(log: LogRecord) -> Vec<Value> {
    vec![
        log.time_ns.into(),
        log.trace_id.into(),
        log.span_id.into(),
        log.service.into(),
        log.severity_number.into(),
        log.severity_text.into(),
        log.body.into(),
        log.attributes_json.into(),
    ]
}

fn point_params(point: PointRecord) -> Vec<Value> {
    vec![
        point.time_ns.into(),
        point.service.into(),
        point.name.into(),
        point.unit.into(),
        point.kind.into(),
        point.attributes_json.into(),
        point.value.into(),
        point.count.into(),
        point.sum.into(),
        point.buckets_json.into(),
    ]
}

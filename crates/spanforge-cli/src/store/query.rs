//! What the UI, the JSON API and `spanforge cost` read.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use libsql::Value;
use serde::Serialize;

use super::{Store, StoreError};

/// Filters of the trace list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TraceFilter {
    /// The root span's service.
    pub service: Option<String>,
    /// The root span's `http.route`.
    pub route: Option<String>,
    /// `Some(true)`: only traces with an error span; `Some(false)`: only traces without.
    pub errors: Option<bool>,
    /// Minimum duration in milliseconds.
    pub min_ms: Option<f64>,
    /// Maximum duration in milliseconds.
    pub max_ms: Option<f64>,
    /// `Some(true)`: only traces with an LLM call; `Some(false)`: only traces without.
    pub llm: Option<bool>,
    /// Only traces that started within this window before now.
    pub since: Option<Duration>,
    /// At most this many traces (newest first).
    pub limit: u32,
}

/// The trace list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceList {
    /// Newest first.
    pub traces: Vec<TraceSummary>,
}

/// One trace in the list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceSummary {
    /// 32 hex digits.
    pub trace_id: String,
    /// The root span's service.
    pub service: String,
    /// The root span's name (the first span's while the root has not arrived).
    pub name: String,
    /// The root span's `http.route`.
    pub route: Option<String>,
    /// Start, milliseconds since the Unix epoch.
    pub start_unix_ms: f64,
    /// From the first start to the last end.
    pub duration_ms: f64,
    /// Spans stored.
    pub span_count: i64,
    /// Spans with status error.
    pub error_count: i64,
    /// LLM call spans.
    pub llm_calls: i64,
    /// Sum of `gen_ai.usage.cost` over the trace, USD.
    pub cost_usd: f64,
}

/// One trace with all its spans (in waterfall order) and logs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceDetail {
    /// 32 hex digits.
    pub trace_id: String,
    /// Start of the earliest span, milliseconds since the Unix epoch.
    pub start_unix_ms: f64,
    /// From the first start to the last end.
    pub duration_ms: f64,
    /// Depth-first from each root, children by start time.
    pub spans: Vec<TraceSpan>,
    /// Log records of the trace, by time.
    pub logs: Vec<TraceLog>,
}

/// A span in a trace's waterfall.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceSpan {
    /// 16 hex digits.
    pub span_id: String,
    /// The parent, when any.
    pub parent_span_id: Option<String>,
    /// 0 for roots (and spans whose parent is not stored).
    pub depth: u32,
    /// `service.name`.
    pub service: String,
    /// Span name.
    pub name: String,
    /// `server`, `client`, `internal`, `producer`, `consumer` or `unspecified`.
    pub kind: &'static str,
    /// Start relative to the trace's start.
    pub offset_ms: f64,
    /// Duration.
    pub duration_ms: f64,
    /// `unset`, `ok` or `error`.
    pub status: &'static str,
    /// The status message.
    pub status_message: Option<String>,
    /// Span attributes.
    pub attributes: serde_json::Value,
    /// Resource attributes.
    pub resource: serde_json::Value,
    /// Span events.
    pub events: Vec<TraceSpanEvent>,
}

/// An event of a span.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceSpanEvent {
    /// Event name.
    pub name: String,
    /// Time relative to the trace's start.
    pub offset_ms: f64,
    /// Event attributes.
    pub attributes: serde_json::Value,
}

/// A log record of a trace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceLog {
    /// Time relative to the trace's start.
    pub offset_ms: f64,
    /// The span that was active, when any.
    pub span_id: Option<String>,
    /// The severity text, else one derived from the severity number.
    pub severity: String,
    /// The body.
    pub body: String,
    /// Attributes.
    pub attributes: serde_json::Value,
}

/// What LLM rows are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LlmGroup {
    /// Prompt name and version.
    Prompt,
    /// Model.
    Model,
    /// Provider.
    Provider,
    /// The HTTP route of the trace's root span.
    Route,
}

/// LLM calls grouped, with totals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LlmReport {
    /// The grouping.
    pub group: LlmGroup,
    /// Most expensive first.
    pub rows: Vec<LlmRow>,
    /// Over all rows.
    pub totals: LlmTotals,
}

/// One group of LLM calls. Only the grouping's key fields are set.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LlmRow {
    /// Prompt name.
    pub prompt_name: Option<String>,
    /// Prompt version.
    pub prompt_version: Option<String>,
    /// Model.
    pub model: Option<String>,
    /// Provider.
    pub provider: Option<String>,
    /// Route.
    pub route: Option<String>,
    /// Calls.
    pub calls: u64,
    /// Calls that failed.
    pub errors: u64,
    /// `errors / calls`.
    pub error_rate: f64,
    /// Input tokens (cached included).
    pub input_tokens: u64,
    /// Output tokens (reasoning included).
    pub output_tokens: u64,
    /// Input tokens read from cache.
    pub cached_tokens: u64,
    /// Total cost, USD.
    pub cost_usd: f64,
    /// `cost_usd / calls`.
    pub avg_cost_usd: f64,
    /// Median call duration.
    pub latency_p50_ms: f64,
    /// 95th percentile call duration.
    pub latency_p95_ms: f64,
    /// Median time to first chunk (streaming calls only).
    pub ttfc_p50_ms: Option<f64>,
    /// 95th percentile time to first chunk (streaming calls only).
    pub ttfc_p95_ms: Option<f64>,
}

/// Totals of an [`LlmReport`].
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LlmTotals {
    /// Calls.
    pub calls: u64,
    /// Failed calls.
    pub errors: u64,
    /// Input tokens.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Cached input tokens.
    pub cached_tokens: u64,
    /// Cost, USD.
    pub cost_usd: f64,
}

/// Rate, errors and latency per route.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServicesReport {
    /// Busiest first.
    pub routes: Vec<RouteRow>,
}

/// RED numbers of one service, method and route (server spans).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RouteRow {
    /// Service.
    pub service: String,
    /// `http.request.method`.
    pub method: Option<String>,
    /// `http.route`.
    pub route: Option<String>,
    /// Requests.
    pub requests: u64,
    /// Requests whose span has status error (5xx).
    pub errors: u64,
    /// `errors / requests`.
    pub error_rate: f64,
    /// Requests per second over the window.
    pub rate_per_s: f64,
    /// Median duration.
    pub p50_ms: f64,
    /// 95th percentile duration.
    pub p95_ms: f64,
}

/// Values for the UI's filters.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Meta {
    /// Services of root spans.
    pub services: Vec<String>,
    /// Routes of root spans.
    pub routes: Vec<String>,
}

impl Store {
    /// Traces matching `filter`, newest first.
    pub async fn traces(&self, filter: &TraceFilter) -> Result<TraceList, StoreError> {
        let mut sql = String::from(
            "SELECT trace_id, service, COALESCE(root_name, first_name), route, start_ns, end_ns,
                    span_count, error_count, llm_calls, cost_usd
             FROM traces WHERE 1 = 1",
        );
        let mut params: Vec<Value> = Vec::new();
        let mut bind = |sql: &mut String, clause: &str, value: Value| {
            params.push(value);
            sql.push_str(&clause.replace('?', &format!("?{}", params.len())));
        };
        if let Some(service) = &filter.service {
            bind(&mut sql, " AND service = ?", service.clone().into());
        }
        if let Some(route) = &filter.route {
            bind(&mut sql, " AND route = ?", route.clone().into());
        }
        if let Some(since) = filter.since {
            bind(&mut sql, " AND start_ns >= ?", cutoff_ns(since).into());
        }
        if let Some(min_ms) = filter.min_ms {
            bind(
                &mut sql,
                " AND end_ns - start_ns >= ?",
                ms_to_ns(min_ms).into(),
            );
        }
        if let Some(max_ms) = filter.max_ms {
            bind(
                &mut sql,
                " AND end_ns - start_ns <= ?",
                ms_to_ns(max_ms).into(),
            );
        }
        match filter.errors {
            Some(true) => sql.push_str(" AND error_count > 0"),
            Some(false) => sql.push_str(" AND error_count = 0"),
            None => {}
        }
        match filter.llm {
            Some(true) => sql.push_str(" AND llm_calls > 0"),
            Some(false) => sql.push_str(" AND llm_calls = 0"),
            None => {}
        }
        bind(
            &mut sql,
            " ORDER BY start_ns DESC LIMIT ?",
            i64::from(filter.limit).into(),
        );
        let conn = self.reader().await?;
        let mut rows = conn.query(&sql, params).await?;
        let mut traces = Vec::new();
        while let Some(row) = rows.next().await? {
            let start_ns: i64 = row.get(4)?;
            let end_ns: i64 = row.get(5)?;
            traces.push(TraceSummary {
                trace_id: row.get(0)?,
                service: row.get(1)?,
                name: row.get(2)?,
                route: row.get(3)?,
                start_unix_ms: ns_to_ms(start_ns),
                duration_ms: ns_to_ms(end_ns - start_ns),
                span_count: row.get(6)?,
                error_count: row.get(7)?,
                llm_calls: row.get(8)?,
                cost_usd: row.get(9)?,
            });
        }
        Ok(TraceList { traces })
    }

    /// One trace with its spans in waterfall order and its logs; `None` when not stored.
    pub async fn trace(&self, trace_id: &str) -> Result<Option<TraceDetail>, StoreError> {
        let conn = self.reader().await?;
        let mut rows = conn
            .query(
                "SELECT s.span_id, s.parent_span_id, s.service, s.name, s.kind, s.start_ns,
                        s.end_ns, s.status_code, s.status_message, s.attributes, r.attributes,
                        s.events
                 FROM spans s LEFT JOIN resources r ON r.id = s.resource_id
                 WHERE s.trace_id = ?1",
                [trace_id],
            )
            .await?;
        let mut spans = Vec::new();
        while let Some(row) = rows.next().await? {
            spans.push(StoredSpan {
                span_id: row.get(0)?,
                parent_span_id: row.get(1)?,
                service: row.get(2)?,
                name: row.get(3)?,
                kind: row.get(4)?,
                start_ns: row.get(5)?,
                end_ns: row.get(6)?,
                status_code: row.get(7)?,
                status_message: row.get(8)?,
                attributes: row.get(9)?,
                resource: row
                    .get::<Option<String>>(10)?
                    .unwrap_or_else(|| "{}".into()),
                events: row.get(11)?,
            });
        }
        if spans.is_empty() {
            return Ok(None);
        }
        let start_ns = spans.iter().map(|s| s.start_ns).min().unwrap_or(0);
        let end_ns = spans.iter().map(|s| s.end_ns).max().unwrap_or(start_ns);

        let mut rows = conn
            .query(
                "SELECT time_ns, span_id, severity_number, severity_text, body, attributes
                 FROM logs WHERE trace_id = ?1 ORDER BY time_ns",
                [trace_id],
            )
            .await?;
        let mut logs = Vec::new();
        while let Some(row) = rows.next().await? {
            let time_ns: i64 = row.get(0)?;
            let severity_number: i32 = row.get(2)?;
            let severity_text: Option<String> = row.get(3)?;
            logs.push(TraceLog {
                offset_ms: ns_to_ms(time_ns - start_ns),
                span_id: row.get(1)?,
                severity: severity_text
                    .filter(|text| !text.is_empty())
                    .unwrap_or_else(|| severity_name(severity_number).to_owned()),
                body: row.get(4)?,
                attributes: parse_json("logs.attributes", &row.get::<String>(5)?)?,
            });
        }

        let mut waterfall = Vec::with_capacity(spans.len());
        for (index, depth) in waterfall_order(&spans) {
            let span = &spans[index];
            waterfall.push(span.to_trace_span(depth, start_ns)?);
        }
        Ok(Some(TraceDetail {
            trace_id: trace_id.to_owned(),
            start_unix_ms: ns_to_ms(start_ns),
            duration_ms: ns_to_ms(end_ns - start_ns),
            spans: waterfall,
            logs,
        }))
    }

    /// LLM calls within `since` (all when `None`), grouped.
    pub async fn llm_report(
        &self,
        group: LlmGroup,
        since: Option<Duration>,
    ) -> Result<LlmReport, StoreError> {
        let key = match group {
            LlmGroup::Prompt => "s.prompt_name, s.prompt_version",
            LlmGroup::Model => "s.llm_model, NULL",
            LlmGroup::Provider => "s.llm_provider, NULL",
            LlmGroup::Route => "t.route, NULL",
        };
        let join = if group == LlmGroup::Route {
            " LEFT JOIN traces t ON t.trace_id = s.trace_id"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {key}, s.end_ns - s.start_ns, s.ttfc_ms, s.status_code, s.input_tokens,
                    s.output_tokens, s.cached_tokens, s.cost_usd
             FROM spans s{join}
             WHERE s.llm_operation IS NOT NULL AND s.start_ns >= ?1"
        );
        let conn = self.reader().await?;
        let mut rows = conn
            .query(&sql, [since.map(cutoff_ns).unwrap_or(i64::MIN)])
            .await?;
        let mut groups: BTreeMap<(Option<String>, Option<String>), GroupAccumulator> =
            BTreeMap::new();
        while let Some(row) = rows.next().await? {
            let key = (row.get::<Option<String>>(0)?, row.get::<Option<String>>(1)?);
            let entry = groups.entry(key).or_default();
            entry.calls += 1;
            entry.durations_ms.push(ns_to_ms(row.get::<i64>(2)?));
            if let Some(ttfc) = row.get::<Option<f64>>(3)? {
                entry.ttfc_ms.push(ttfc);
            }
            entry.errors += u64::from(row.get::<i32>(4)? == 2);
            entry.input_tokens += non_negative(row.get::<Option<i64>>(5)?);
            entry.output_tokens += non_negative(row.get::<Option<i64>>(6)?);
            entry.cached_tokens += non_negative(row.get::<Option<i64>>(7)?);
            entry.cost_usd += row.get::<Option<f64>>(8)?.unwrap_or(0.0);
        }
        let mut totals = LlmTotals::default();
        let mut report_rows: Vec<LlmRow> = groups
            .into_iter()
            .map(|((first, second), mut acc)| {
                totals.calls += acc.calls;
                totals.errors += acc.errors;
                totals.input_tokens += acc.input_tokens;
                totals.output_tokens += acc.output_tokens;
                totals.cached_tokens += acc.cached_tokens;
                totals.cost_usd += acc.cost_usd;
                let mut row = acc.finish();
                match group {
                    LlmGroup::Prompt => {
                        row.prompt_name = first;
                        row.prompt_version = second;
                    }
                    LlmGroup::Model => row.model = first,
                    LlmGroup::Provider => row.provider = first,
                    LlmGroup::Route => row.route = first,
                }
                row
            })
            .collect();
        report_rows.sort_by(|a, b| {
            b.cost_usd
                .total_cmp(&a.cost_usd)
                .then_with(|| b.calls.cmp(&a.calls))
        });
        Ok(LlmReport {
            group,
            rows: report_rows,
            totals,
        })
    }

    /// Rate, errors and latency of server spans per service, method and route.
    pub async fn services(&self, since: Option<Duration>) -> Result<ServicesReport, StoreError> {
        let conn = self.reader().await?;
        let mut rows = conn
            .query(
                "SELECT service, http_method, http_route, start_ns, end_ns - start_ns, status_code
                 FROM spans WHERE kind = 2 AND start_ns >= ?1",
                [since.map(cutoff_ns).unwrap_or(i64::MIN)],
            )
            .await?;
        type RouteKey = (String, Option<String>, Option<String>);
        let mut groups: HashMap<RouteKey, (u64, Vec<f64>)> = HashMap::new();
        let (mut first_ns, mut last_ns) = (i64::MAX, i64::MIN);
        while let Some(row) = rows.next().await? {
            let start_ns: i64 = row.get(3)?;
            first_ns = first_ns.min(start_ns);
            last_ns = last_ns.max(start_ns);
            let entry = groups
                .entry((row.get(0)?, row.get(1)?, row.get(2)?))
                .or_default();
            entry.1.push(ns_to_ms(row.get::<i64>(4)?));
            entry.0 += u64::from(row.get::<i32>(5)? == 2);
        }
        let window_s = match since {
            Some(since) => since.as_secs_f64(),
            None if first_ns <= last_ns => ns_to_ms(last_ns - first_ns) / 1000.0,
            None => 0.0,
        }
        .max(1.0);
        let mut routes: Vec<RouteRow> = groups
            .into_iter()
            .map(|((service, method, route), (errors, mut durations))| {
                durations.sort_by(f64::total_cmp);
                let requests = durations.len() as u64;
                RouteRow {
                    service,
                    method,
                    route,
                    requests,
                    errors,
                    error_rate: ratio(errors, requests),
                    rate_per_s: requests as f64 / window_s,
                    p50_ms: percentile(&durations, 0.50).unwrap_or(0.0),
                    p95_ms: percentile(&durations, 0.95).unwrap_or(0.0),
                }
            })
            .collect();
        routes.sort_by(|a, b| {
            b.requests
                .cmp(&a.requests)
                .then_with(|| a.service.cmp(&b.service))
                .then_with(|| a.route.cmp(&b.route))
        });
        Ok(ServicesReport { routes })
    }

    /// Services and routes of stored traces, for the UI's filters.
    pub async fn meta(&self) -> Result<Meta, StoreError> {
        let conn = self.reader().await?;
        let mut services = Vec::new();
        let mut rows = conn
            .query("SELECT DISTINCT service FROM traces ORDER BY service", ())
            .await?;
        while let Some(row) = rows.next().await? {
            services.push(row.get(0)?);
        }
        let mut routes = Vec::new();
        let mut rows = conn
            .query(
                "SELECT DISTINCT route FROM traces WHERE route IS NOT NULL ORDER BY route",
                (),
            )
            .await?;
        while let Some(row) = rows.next().await? {
            routes.push(row.get(0)?);
        }
        Ok(Meta { services, routes })
    }
}

#[derive(Default)]
struct GroupAccumulator {
    calls: u64,
    errors: u64,
    input_tokens: u64,
    output_tokens: u64,
    cached_tokens: u64,
    cost_usd: f64,
    durations_ms: Vec<f64>,
    ttfc_ms: Vec<f64>,
}

impl GroupAccumulator {
    fn finish(&mut self) -> LlmRow {
        self.durations_ms.sort_by(f64::total_cmp);
        self.ttfc_ms.sort_by(f64::total_cmp);
        LlmRow {
            calls: self.calls,
            errors: self.errors,
            error_rate: ratio(self.errors, self.calls),
            input_tokens: self.input_tokens,
            output_tokens: self.output_tokens,
            cached_tokens: self.cached_tokens,
            cost_usd: self.cost_usd,
            avg_cost_usd: if self.calls == 0 {
                0.0
            } else {
                self.cost_usd / self.calls as f64
            },
            latency_p50_ms: percentile(&self.durations_ms, 0.50).unwrap_or(0.0),
            latency_p95_ms: percentile(&self.durations_ms, 0.95).unwrap_or(0.0),
            ttfc_p50_ms: percentile(&self.ttfc_ms, 0.50),
            ttfc_p95_ms: percentile(&self.ttfc_ms, 0.95),
            ..LlmRow::default()
        }
    }
}

struct StoredSpan {
    span_id: String,
    parent_span_id: Option<String>,
    service: String,
    name: String,
    kind: i32,
    start_ns: i64,
    end_ns: i64,
    status_code: i32,
    status_message: Option<String>,
    attributes: String,
    resource: String,
    events: String,
}

impl StoredSpan {
    fn to_trace_span(&self, depth: u32, trace_start_ns: i64) -> Result<TraceSpan, StoreError> {
        let events: Vec<StoredEvent> =
            serde_json::from_str(&self.events).map_err(|e| StoreError::Corrupt {
                column: "spans.events",
                reason: e.to_string(),
            })?;
        Ok(TraceSpan {
            span_id: self.span_id.clone(),
            parent_span_id: self.parent_span_id.clone(),
            depth,
            service: self.service.clone(),
            name: self.name.clone(),
            kind: kind_name(self.kind),
            offset_ms: ns_to_ms(self.start_ns - trace_start_ns),
            duration_ms: ns_to_ms(self.end_ns - self.start_ns),
            status: match self.status_code {
                1 => "ok",
                2 => "error",
                _ => "unset",
            },
            status_message: self.status_message.clone(),
            attributes: parse_json("spans.attributes", &self.attributes)?,
            resource: parse_json("spans.resource", &self.resource)?,
            events: events
                .into_iter()
                .map(|event| TraceSpanEvent {
                    name: event.name,
                    offset_ms: ns_to_ms(event.time_unix_nano - trace_start_ns),
                    attributes: event.attributes,
                })
                .collect(),
        })
    }
}

/// How events are stored in `spans.events`.
#[derive(serde::Deserialize)]
struct StoredEvent {
    name: String,
    time_unix_nano: i64,
    attributes: serde_json::Value,
}

/// Indexes into `spans` in depth-first order, children by start time, with their depth.
/// Spans whose parent is not stored are roots; a cycle (malformed input) cannot loop.
fn waterfall_order(spans: &[StoredSpan]) -> Vec<(usize, u32)> {
    let ids: HashMap<&str, usize> = spans
        .iter()
        .enumerate()
        .map(|(index, span)| (span.span_id.as_str(), index))
        .collect();
    let mut children: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut roots = Vec::new();
    for (index, span) in spans.iter().enumerate() {
        match span
            .parent_span_id
            .as_deref()
            .and_then(|parent| ids.get(parent))
        {
            Some(&parent) if parent != index => children.entry(parent).or_default().push(index),
            _ => roots.push(index),
        }
    }
    let by_start = |list: &mut Vec<usize>| {
        list.sort_by_key(|&i| (spans[i].start_ns, spans[i].span_id.as_str()));
    };
    by_start(&mut roots);
    for list in children.values_mut() {
        by_start(list);
    }
    let mut order = Vec::with_capacity(spans.len());
    let mut visited = HashSet::new();
    let mut stack: Vec<(usize, u32)> = roots.iter().rev().map(|&i| (i, 0)).collect();
    while let Some((index, depth)) = stack.pop() {
        if !visited.insert(index) {
            continue;
        }
        order.push((index, depth));
        if let Some(list) = children.get(&index) {
            stack.extend(list.iter().rev().map(|&child| (child, depth + 1)));
        }
    }
    // Spans only reachable through a cycle: shown at the top level rather than lost.
    for index in 0..spans.len() {
        if !visited.contains(&index) {
            order.push((index, 0));
        }
    }
    order
}

fn parse_json(column: &'static str, text: &str) -> Result<serde_json::Value, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
        column,
        reason: e.to_string(),
    })
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

fn non_negative(value: Option<i64>) -> u64 {
    value.and_then(|v| u64::try_from(v).ok()).unwrap_or(0)
}

fn cutoff_ns(since: Duration) -> i64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(now.saturating_sub(since).as_nanos()).unwrap_or(i64::MAX)
}

fn ms_to_ns(ms: f64) -> i64 {
    (ms * 1e6) as i64
}

fn ns_to_ms(ns: i64) -> f64 {
    ns as f64 / 1e6
}

fn kind_name(kind: i32) -> &'static str {
    match kind {
        1 => "internal",
        2 => "server",
        3 => "client",
        4 => "producer",
        5 => "consumer",
        _ => "unspecified",
    }
}

fn severity_name(number: i32) -> &'static str {
    match number {
        1..=4 => "TRACE",
        5..=8 => "DEBUG",
        9..=12 => "INFO",
        13..=16 => "WARN",
        17..=20 => "ERROR",
        21..=24 => "FATAL",
        _ => "UNSPECIFIED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&values, 0.50), Some(50.0));
        assert_eq!(percentile(&values, 0.95), Some(95.0));
        assert_eq!(percentile(&[7.0], 0.95), Some(7.0));
        assert_eq!(percentile(&[], 0.5), None);
    }
}

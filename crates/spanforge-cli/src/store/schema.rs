//! The store's tables and indexes.
//!
//! Spans keep the columns the UI filters and groups by (HTTP route, GenAI model, prompt,
//! tokens, cost) next to the full attribute set as JSON, so list and summary pages read narrow
//! rows through partial indexes instead of parsing JSON. `traces` is a summary maintained at
//! ingest, so the trace list never aggregates spans. A process' resource attributes are the same
//! on every span it sends: they are stored once in `resources`.

/// Bumped when the tables change shape; a file with another version is refused.
pub(crate) const SCHEMA_VERSION: i64 = 2;

/// Connection settings: WAL so readers never block the writer, and incremental vacuum so
/// retention can give space back to the file system.
pub(crate) const PRAGMAS: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA busy_timeout = 5000;
PRAGMA temp_store = MEMORY;
PRAGMA cache_size = -65536;
";

/// Set once, before the first table: only takes effect on an empty file.
pub(crate) const AUTO_VACUUM: &str = "PRAGMA auto_vacuum = INCREMENTAL;";

pub(crate) const CREATE: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE IF NOT EXISTS resources (
    id INTEGER PRIMARY KEY,
    attributes TEXT NOT NULL UNIQUE
);

CREATE TABLE IF NOT EXISTS spans (
    trace_id TEXT NOT NULL,
    span_id TEXT NOT NULL,
    parent_span_id TEXT,
    service TEXT NOT NULL,
    name TEXT NOT NULL,
    kind INTEGER NOT NULL,
    start_ns INTEGER NOT NULL,
    end_ns INTEGER NOT NULL,
    status_code INTEGER NOT NULL,
    status_message TEXT,
    http_method TEXT,
    http_route TEXT,
    http_status INTEGER,
    llm_operation TEXT,
    llm_provider TEXT,
    llm_model TEXT,
    prompt_name TEXT,
    prompt_version TEXT,
    input_tokens INTEGER,
    output_tokens INTEGER,
    cached_tokens INTEGER,
    cost_usd REAL,
    ttfc_ms REAL,
    attributes TEXT NOT NULL,
    events TEXT NOT NULL,
    resource_id INTEGER NOT NULL REFERENCES resources (id)
);
CREATE UNIQUE INDEX IF NOT EXISTS spans_by_id ON spans (trace_id, span_id);
CREATE INDEX IF NOT EXISTS spans_server ON spans (start_ns) WHERE kind = 2;
CREATE INDEX IF NOT EXISTS spans_llm ON spans (start_ns) WHERE llm_operation IS NOT NULL;

CREATE TABLE IF NOT EXISTS traces (
    trace_id TEXT PRIMARY KEY,
    service TEXT NOT NULL,
    root_name TEXT,
    first_name TEXT NOT NULL,
    route TEXT,
    start_ns INTEGER NOT NULL,
    end_ns INTEGER NOT NULL,
    span_count INTEGER NOT NULL,
    error_count INTEGER NOT NULL,
    llm_calls INTEGER NOT NULL,
    cost_usd REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS traces_by_start ON traces (start_ns);

CREATE TABLE IF NOT EXISTS logs (
    time_ns INTEGER NOT NULL,
    trace_id TEXT,
    span_id TEXT,
    service TEXT NOT NULL,
    severity_number INTEGER NOT NULL,
    severity_text TEXT,
    body TEXT NOT NULL,
    attributes TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS logs_by_trace ON logs (trace_id) WHERE trace_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS logs_by_time ON logs (time_ns);

CREATE TABLE IF NOT EXISTS metric_points (
    time_ns INTEGER NOT NULL,
    service TEXT NOT NULL,
    name TEXT NOT NULL,
    unit TEXT NOT NULL,
    kind TEXT NOT NULL,
    attributes TEXT NOT NULL,
    value REAL,
    count INTEGER,
    sum REAL,
    buckets TEXT
);
CREATE INDEX IF NOT EXISTS metric_points_by_name ON metric_points (name, time_ns);
CREATE INDEX IF NOT EXISTS metric_points_by_time ON metric_points (time_ns);
";

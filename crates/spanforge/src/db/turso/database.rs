//! [`Database`]: a remote libSQL database (Turso, or a libSQL server), every call a span.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::StringValue;

use super::client::{Endpoint, parse_url};
use super::error::{ConfigError, Error, fail};
use super::proto::{
    Batch, BatchCond, BatchStep, Stmt, StreamRequest, StreamResponse, StreamResult,
};
use super::rows::{ExecuteResult, Rows};
use super::transaction::{StreamState, Transaction};
use super::value::{IntoParams, Params, Value};
use crate::db::operation::is_write_operation;
use crate::db::{DbOperation, DbSpan};

/// Default for [`DatabaseBuilder::timeout`].
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default for [`DatabaseBuilder::connect_timeout`].
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What every span of one database carries.
#[derive(Clone)]
pub(super) struct Meta {
    system: StringValue,
    namespace: Option<StringValue>,
    server_address: Option<StringValue>,
    server_port: Option<u16>,
}

impl Meta {
    /// The operation for one SQL call, sanitized.
    pub(super) fn sql(&self, sql: &str) -> DbOperation {
        let mut op = DbOperation::sql(self.system.clone(), sql);
        if let Some(ns) = &self.namespace {
            op = op.namespace(ns.clone());
        }
        if let Some(address) = &self.server_address {
            op = op.server_address(address.clone());
        }
        if let Some(port) = self.server_port {
            op = op.server_port(port);
        }
        op
    }
}

fn shared(s: impl AsRef<str>) -> StringValue {
    StringValue::from(Arc::<str>::from(s.as_ref()))
}

/// The default `db.namespace`: the database name in a Turso host name
/// (`prompts-acme` in `prompts-acme.turso.io`, `prompts-acme.aws-us-east-1.turso.io`):
/// the first label of a host name of three labels or more. None for IP addresses and
/// short names such as `localhost`.
fn default_namespace(host: &str) -> Option<String> {
    if host.parse::<std::net::IpAddr>().is_ok() {
        return None;
    }
    let labels: Vec<&str> = host.split('.').collect();
    (labels.len() >= 3 && !labels[0].is_empty()).then(|| labels[0].to_owned())
}

/// One SQL statement with its arguments, for [`Database::batch`] and
/// [`Database::transactional_batch`]. Built from a `&str`/`String` (no arguments) or a
/// `(sql, params)` tuple.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    sql: String,
    params: Params,
}

impl Statement {
    /// A statement and its arguments.
    pub fn new(sql: impl Into<String>, params: impl IntoParams) -> Statement {
        Statement {
            sql: sql.into(),
            params: params.into_params(),
        }
    }

    /// The SQL text.
    pub fn sql(&self) -> &str {
        &self.sql
    }
}

impl From<&str> for Statement {
    fn from(sql: &str) -> Statement {
        Statement::new(sql, ())
    }
}

impl From<String> for Statement {
    fn from(sql: String) -> Statement {
        Statement::new(sql, ())
    }
}

impl<S: Into<String>, P: IntoParams> From<(S, P)> for Statement {
    fn from((sql, params): (S, P)) -> Statement {
        Statement::new(sql, params)
    }
}

/// How a transaction starts, as SQLite's `BEGIN DEFERRED | IMMEDIATE | EXCLUSIVE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TransactionBehavior {
    /// Locks are taken when first needed (SQLite's default).
    #[default]
    Deferred,
    /// The write lock is taken at once.
    Immediate,
    /// As `Immediate` (in WAL mode).
    Exclusive,
}

impl TransactionBehavior {
    pub(super) fn begin(self) -> &'static str {
        match self {
            TransactionBehavior::Deferred => "BEGIN DEFERRED",
            TransactionBehavior::Immediate => "BEGIN IMMEDIATE",
            TransactionBehavior::Exclusive => "BEGIN EXCLUSIVE",
        }
    }
}

/// Configures a [`Database`]; from [`Database::builder`].
pub struct DatabaseBuilder {
    url: String,
    token: Option<(String, &'static str)>,
    timeout: Duration,
    connect_timeout: Duration,
    client: Option<reqwest::Client>,
}

impl fmt::Debug for DatabaseBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseBuilder")
            .field("url", &super::client::redact(&self.url))
            .field("auth_token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .finish_non_exhaustive()
    }
}

impl DatabaseBuilder {
    /// The auth token (a Turso database token, or a JWT the libSQL server accepts), sent as
    /// `Authorization: Bearer …`. Overrides a `?authToken=` in the URL. Surrounding
    /// whitespace is removed.
    pub fn auth_token(self, token: impl Into<String>) -> DatabaseBuilder {
        self.token_from(token.into(), "the builder")
    }

    fn token_from(mut self, token: String, source: &'static str) -> DatabaseBuilder {
        let token = token.trim().to_owned();
        self.token = (!token.is_empty()).then_some((token, source));
        self
    }

    /// Longest wait for a whole request, answer included (default 30 s). A request that
    /// times out fails with [`Error::Timeout`]; the statement may still have run.
    pub fn timeout(mut self, timeout: Duration) -> DatabaseBuilder {
        self.timeout = timeout;
        self
    }

    /// Longest wait for the TCP (and TLS) connection (default 10 s). Ignored with
    /// [`client`](Self::client).
    pub fn connect_timeout(mut self, timeout: Duration) -> DatabaseBuilder {
        self.connect_timeout = timeout;
        self
    }

    /// Send requests with this reqwest client (for a TLS backend, proxy, or connection-pool
    /// settings of your own). [`timeout`](Self::timeout) still applies to each request.
    pub fn client(mut self, client: reqwest::Client) -> DatabaseBuilder {
        self.client = Some(client);
        self
    }

    /// Build the database handle. Nothing is sent: a bad token or an unreachable server
    /// shows on the first call.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidUrl`] for a URL that is not `libsql://`, `https://` or
    /// `http://` (or has credentials in it), [`ConfigError::InvalidToken`] for a token that
    /// cannot be an HTTP header, [`ConfigError::Client`] when the HTTP client cannot be
    /// built.
    pub fn build(self) -> Result<Database, ConfigError> {
        let mut target = parse_url(&self.url)?;
        let url_token = target.token.take();
        let (token, source) = match (self.token, url_token) {
            (Some((token, source)), _) => (Some(token), source),
            (None, Some(token)) => (Some(token), "the URL's authToken"),
            (None, None) => (None, "none"),
        };
        let client = match self.client {
            Some(client) => client,
            None => reqwest::Client::builder()
                .connect_timeout(self.connect_timeout)
                .build()
                .map_err(|e| ConfigError::Client(e.to_string()))?,
        };
        let meta = Meta {
            system: StringValue::from("sqlite"),
            namespace: default_namespace(&target.host).map(shared),
            server_address: Some(shared(&target.host)),
            server_port: target.port,
        };
        let endpoint = Endpoint::new(client, target, token, source, self.timeout)?;
        Ok(Database {
            endpoint: Arc::new(endpoint),
            meta: Arc::new(meta),
        })
    }
}

/// A remote libSQL database: Turso (`libsql://<db>-<org>.turso.io`) or a libSQL server
/// (`sqld`), spoken to over Hrana over HTTP. Cheap to clone; clones share the HTTP client
/// and its connections.
///
/// Every call is one CLIENT span and one `db.client.operation.duration` measurement, with
/// `db.system.name = "sqlite"` (as the local libSQL wrapper), `db.namespace` (the database
/// name from the host, see [`with_namespace`](Self::with_namespace)), `server.address`,
/// `server.port` (when not the scheme's default), and the rows Turso reports reading and
/// writing added to `spanforge.db.rows_read` / `spanforge.db.rows_written`.
#[derive(Clone)]
pub struct Database {
    endpoint: Arc<Endpoint>,
    meta: Arc<Meta>,
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Database")
            .field("url", &self.endpoint.target.base)
            .field(
                "auth_token",
                &self.endpoint.has_token().then_some("<redacted>"),
            )
            .field("namespace", &self.namespace())
            .finish_non_exhaustive()
    }
}

impl Database {
    /// Configure a database at `url`: `libsql://<db>-<org>.turso.io` (HTTPS; add `?tls=0`
    /// for plain HTTP), `https://…`, or `http://host:port` for a local libSQL server.
    pub fn builder(url: impl Into<String>) -> DatabaseBuilder {
        DatabaseBuilder {
            url: url.into(),
            token: None,
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            client: None,
        }
    }

    /// The database at `url` with this auth token (or none, for a server without
    /// authentication); see [`builder`](Self::builder) for the options.
    ///
    /// # Errors
    ///
    /// As [`DatabaseBuilder::build`].
    pub fn open(url: &str, auth_token: Option<&str>) -> Result<Database, ConfigError> {
        let mut builder = Database::builder(url);
        if let Some(token) = auth_token {
            builder = builder.auth_token(token);
        }
        builder.build()
    }

    /// The database named by the environment: the URL from `TURSO_DATABASE_URL`, else
    /// `DATABASE_URL`; the token from `TURSO_AUTH_TOKEN` (else the URL's `?authToken=`,
    /// else none).
    ///
    /// # Errors
    ///
    /// [`ConfigError::MissingUrl`] when neither variable is set; otherwise as
    /// [`DatabaseBuilder::build`].
    pub fn from_env() -> Result<Database, ConfigError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let url = var("TURSO_DATABASE_URL")
            .or_else(|| var("DATABASE_URL"))
            .ok_or(ConfigError::MissingUrl)?;
        let mut builder = Database::builder(url);
        if let Some(token) = var("TURSO_AUTH_TOKEN") {
            builder = builder.token_from(token, "TURSO_AUTH_TOKEN");
        }
        builder.build()
    }

    /// Set `db.namespace` (default: the database name from the host, see the type's docs).
    pub fn with_namespace(mut self, namespace: impl AsRef<str>) -> Database {
        Arc::make_mut(&mut self.meta).namespace = Some(shared(namespace));
        self
    }

    /// Set `db.system.name` (default `sqlite`).
    pub fn with_system_name(mut self, system_name: impl AsRef<str>) -> Database {
        Arc::make_mut(&mut self.meta).system = shared(system_name);
        self
    }

    /// `db.namespace` of this database's spans.
    pub fn namespace(&self) -> Option<&str> {
        self.meta.namespace.as_ref().map(|n| n.as_str())
    }

    /// The pipeline URL requests go to (`https://…/v2/pipeline`; never holds the token).
    pub fn url(&self) -> &str {
        self.endpoint.url()
    }

    /// Run a statement; returns the rows it changed and the last inserted rowid. One span,
    /// with `spanforge.db.rows_affected` for INSERT/UPDATE/DELETE.
    ///
    /// # Errors
    ///
    /// [`Error::Sql`] when the statement fails (its code becomes `error.type`), and the
    /// HTTP and transport errors of [`Error`].
    pub async fn execute(
        &self,
        sql: &str,
        params: impl IntoParams,
    ) -> Result<ExecuteResult, Error> {
        let mut stream = StreamState::OneShot;
        execute_on(
            &self.endpoint,
            &self.meta,
            &mut stream,
            sql,
            params.into_params(),
        )
        .await
    }

    /// Run a query and return all its rows (Hrana over HTTP answers with the whole
    /// result). One span, with `db.response.returned_rows`.
    ///
    /// # Errors
    ///
    /// As [`execute`](Self::execute).
    pub async fn query(&self, sql: &str, params: impl IntoParams) -> Result<Rows, Error> {
        let mut stream = StreamState::OneShot;
        query_on(
            &self.endpoint,
            &self.meta,
            &mut stream,
            sql,
            params.into_params(),
        )
        .await
    }

    /// Run several `;`-separated statements without arguments (Hrana's `sequence`), e.g.
    /// a schema. One span, `db.operation.batch.size` = the statement count. Stops at the
    /// first failing statement; those before it stay applied.
    ///
    /// # Errors
    ///
    /// As [`execute`](Self::execute).
    pub async fn execute_batch(&self, sql: &str) -> Result<(), Error> {
        let mut stream = StreamState::OneShot;
        execute_batch_on(&self.endpoint, &self.meta, &mut stream, sql).await
    }

    /// Run statements in one request (a Hrana `batch`), each only if the one before it
    /// succeeded; returns each statement's result. Not atomic: statements before a failing
    /// one stay applied (see [`transactional_batch`](Self::transactional_batch)).
    ///
    /// One span for the whole batch: the statements' texts joined by `; `, and
    /// `db.operation.batch.size`.
    ///
    /// # Errors
    ///
    /// [`Error::Sql`] with `step` = the index of the failing statement; the HTTP and
    /// transport errors of [`Error`].
    pub async fn batch<S: Into<Statement>>(
        &self,
        statements: impl IntoIterator<Item = S>,
    ) -> Result<Vec<Rows>, Error> {
        let statements: Vec<Statement> = statements.into_iter().map(Into::into).collect();
        let mut stream = StreamState::OneShot;
        batch_on(
            &self.endpoint,
            &self.meta,
            &mut stream,
            statements,
            BatchMode::Sequential,
        )
        .await
    }

    /// Run statements atomically in one request: `BEGIN`, the statements (each only if the
    /// one before succeeded), `COMMIT` — or `ROLLBACK` when any failed. One span, as
    /// [`batch`](Self::batch).
    ///
    /// # Errors
    ///
    /// As [`batch`](Self::batch); nothing was applied.
    pub async fn transactional_batch<S: Into<Statement>>(
        &self,
        statements: impl IntoIterator<Item = S>,
    ) -> Result<Vec<Rows>, Error> {
        let statements: Vec<Statement> = statements.into_iter().map(Into::into).collect();
        let mut stream = StreamState::OneShot;
        batch_on(
            &self.endpoint,
            &self.meta,
            &mut stream,
            statements,
            BatchMode::Transactional,
        )
        .await
    }

    /// Begin an interactive transaction (a `BEGIN DEFERRED` span) on a stream of its own,
    /// which the server keeps between requests.
    ///
    /// # Errors
    ///
    /// As [`execute`](Self::execute).
    pub async fn transaction(&self) -> Result<Transaction, Error> {
        self.transaction_with_behavior(TransactionBehavior::Deferred)
            .await
    }

    /// Begin an interactive transaction with the given behavior (a `BEGIN …` span).
    ///
    /// # Errors
    ///
    /// As [`execute`](Self::execute).
    pub async fn transaction_with_behavior(
        &self,
        behavior: TransactionBehavior,
    ) -> Result<Transaction, Error> {
        Transaction::begin(self.endpoint.clone(), self.meta.clone(), behavior).await
    }
}

/// Infinite floats have no JSON form; refuse them before anything is sent.
fn check_params(params: &Params) -> Result<(), Error> {
    let bad = |(i, v): (usize, &Value)| match v {
        Value::Float(x) if x.is_infinite() => Some(i.to_string()),
        _ => None,
    };
    let found = match params {
        Params::None => None,
        Params::Positional(values) => values.iter().enumerate().find_map(bad),
        Params::Named(pairs) => pairs.iter().find_map(|(name, v)| {
            matches!(v, Value::Float(x) if x.is_infinite()).then(|| name.clone())
        }),
    };
    match found {
        Some(which) => Err(Error::InvalidArgument(which)),
        None => Ok(()),
    }
}

/// One statement's result out of a pipeline result.
fn stmt_result(url: &str, result: StreamResult) -> Result<Rows, Error> {
    match result {
        StreamResult::Ok {
            response: StreamResponse::Execute { result },
        } => Ok(Rows::from_result(result)),
        StreamResult::Ok { .. } => Err(Error::MalformedResponse {
            url: url.to_owned(),
            reason: "expected an execute response".into(),
        }),
        StreamResult::Error { error } => Err(Error::Sql {
            code: error.code,
            message: error.message,
            step: None,
        }),
        StreamResult::None => Err(Error::StreamClosed("the server did not run the request")),
    }
}

/// Record what the server reported on `span`, then end it.
fn finish(mut span: DbSpan, write: bool, returned: bool, outcome: &Result<Rows, Error>) {
    match outcome {
        Ok(rows) => {
            if returned {
                span.set_returned_rows(rows.len() as u64);
            }
            if write {
                span.set_affected_rows(rows.rows_affected());
            }
            if let Some(read) = rows.rows_read() {
                span.set_rows_read(read);
            }
            if let Some(written) = rows.rows_written() {
                span.set_rows_written(written);
            }
            span.end();
        }
        Err(e) => fail(span, e),
    }
}

/// One statement on `stream`, as a span.
async fn statement_on(
    endpoint: &Endpoint,
    meta: &Meta,
    stream: &mut StreamState,
    sql: &str,
    params: Params,
    want_rows: bool,
) -> Result<Rows, Error> {
    let op = meta.sql(sql);
    let write = is_write_operation(op.get_operation_name());
    let span = op.start();
    let outcome = async {
        check_params(&params)?;
        let requests = [StreamRequest::Execute {
            stmt: Stmt::new(sql, params, want_rows),
        }];
        let mut results = stream.call(endpoint, requests).await?;
        stmt_result(endpoint.url(), results.remove(0))
    }
    .await;
    finish(span, write, want_rows, &outcome);
    outcome
}

pub(super) async fn execute_on(
    endpoint: &Endpoint,
    meta: &Meta,
    stream: &mut StreamState,
    sql: &str,
    params: Params,
) -> Result<ExecuteResult, Error> {
    statement_on(endpoint, meta, stream, sql, params, false)
        .await
        .map(|rows| ExecuteResult::from(&rows))
}

pub(super) async fn query_on(
    endpoint: &Endpoint,
    meta: &Meta,
    stream: &mut StreamState,
    sql: &str,
    params: Params,
) -> Result<Rows, Error> {
    statement_on(endpoint, meta, stream, sql, params, true).await
}

pub(super) async fn execute_batch_on(
    endpoint: &Endpoint,
    meta: &Meta,
    stream: &mut StreamState,
    sql: &str,
) -> Result<(), Error> {
    let span = meta.sql(sql).start();
    let outcome = async {
        let requests = [StreamRequest::Sequence {
            sql: sql.to_owned(),
        }];
        let mut results = stream.call(endpoint, requests).await?;
        match results.remove(0) {
            StreamResult::Ok { .. } => Ok(()),
            StreamResult::Error { error } => Err(Error::Sql {
                code: error.code,
                message: error.message,
                step: None,
            }),
            StreamResult::None => Err(Error::StreamClosed("the server did not run the request")),
        }
    }
    .await;
    match &outcome {
        Ok(()) => span.end(),
        Err(e) => fail(span, e),
    }
    outcome
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BatchMode {
    /// Each statement runs if the previous one succeeded.
    Sequential,
    /// The same, between `BEGIN` and `COMMIT` (or `ROLLBACK`).
    Transactional,
}

pub(super) async fn batch_on(
    endpoint: &Endpoint,
    meta: &Meta,
    stream: &mut StreamState,
    statements: Vec<Statement>,
    mode: BatchMode,
) -> Result<Vec<Rows>, Error> {
    let text = statements
        .iter()
        .map(|s| s.sql.trim().trim_end_matches(';').trim_end())
        .collect::<Vec<_>>()
        .join("; ");
    let count = statements.len();
    let mut span = meta.sql(&text).batch_size(count as u64).start();
    let mut read: Option<u64> = None;
    let mut written: Option<u64> = None;
    let outcome = async {
        for statement in &statements {
            check_params(&statement.params)?;
        }
        let offset = usize::from(mode == BatchMode::Transactional);
        let mut steps = Vec::with_capacity(count + 3);
        if mode == BatchMode::Transactional {
            steps.push(BatchStep {
                condition: None,
                stmt: Stmt::new("BEGIN", Params::None, false),
            });
        }
        for (i, statement) in statements.into_iter().enumerate() {
            let step = i + offset;
            steps.push(BatchStep {
                condition: step.checked_sub(1).map(|prev| BatchCond::Ok { step: prev }),
                stmt: Stmt::new(statement.sql, statement.params, true),
            });
        }
        if mode == BatchMode::Transactional {
            let last = steps.len() - 1;
            steps.push(BatchStep {
                condition: Some(BatchCond::Ok { step: last }),
                stmt: Stmt::new("COMMIT", Params::None, false),
            });
            steps.push(BatchStep {
                condition: Some(BatchCond::Not {
                    cond: Box::new(BatchCond::Ok { step: last + 1 }),
                }),
                stmt: Stmt::new("ROLLBACK", Params::None, false),
            });
        }
        let total = steps.len();
        let requests = [StreamRequest::Batch {
            batch: Batch { steps },
        }];
        let mut results = stream.call(endpoint, requests).await?;
        let result = match results.remove(0) {
            StreamResult::Ok {
                response: StreamResponse::Batch { result },
            } => result,
            StreamResult::Ok { .. } => {
                return Err(Error::MalformedResponse {
                    url: endpoint.url().to_owned(),
                    reason: "expected a batch response".into(),
                });
            }
            StreamResult::Error { error } => {
                return Err(Error::Sql {
                    code: error.code,
                    message: error.message,
                    step: None,
                });
            }
            StreamResult::None => {
                return Err(Error::StreamClosed("the server did not run the request"));
            }
        };
        let mut step_results = result.step_results;
        let step_errors = result.step_errors;
        if step_results.len() != total || step_errors.len() > total {
            return Err(Error::MalformedResponse {
                url: endpoint.url().to_owned(),
                reason: format!("{} step results for {total} steps", step_results.len()),
            });
        }
        // What the server read and wrote, failed or not: every step that ran counts.
        for r in step_results.iter().flatten() {
            if let Some(n) = r.rows_read {
                read = Some(read.unwrap_or(0) + n);
            }
            if let Some(n) = r.rows_written {
                written = Some(written.unwrap_or(0) + n);
            }
        }
        if let Some((step, error)) = step_errors
            .iter()
            .enumerate()
            .find_map(|(i, e)| e.as_ref().map(|e| (i, e)))
        {
            let user_step = step.checked_sub(offset).filter(|s| *s < count);
            return Err(Error::Sql {
                code: error.code.clone(),
                message: error.message.clone(),
                step: user_step,
            });
        }
        let mut out = Vec::with_capacity(count);
        for i in 0..count {
            match step_results[i + offset].take() {
                Some(r) => out.push(Rows::from_result(r)),
                None => {
                    return Err(Error::MalformedResponse {
                        url: endpoint.url().to_owned(),
                        reason: format!("statement {i} neither ran nor failed"),
                    });
                }
            }
        }
        Ok(out)
    }
    .await;
    if let Some(n) = read {
        span.set_rows_read(n);
    }
    if let Some(n) = written {
        span.set_rows_written(n);
    }
    match &outcome {
        Ok(_) => span.end(),
        Err(e) => fail(span, e),
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces() {
        assert_eq!(
            default_namespace("prompts-acme.turso.io").as_deref(),
            Some("prompts-acme")
        );
        assert_eq!(
            default_namespace("prompts-acme.aws-us-east-1.turso.io").as_deref(),
            Some("prompts-acme")
        );
        assert_eq!(default_namespace("localhost"), None);
        assert_eq!(default_namespace("127.0.0.1"), None);
        assert_eq!(default_namespace("::1"), None);
        assert_eq!(default_namespace("example.com"), None);
    }

    #[test]
    fn debug_never_shows_the_token() {
        let db = Database::open("libsql://db-org.turso.io?authToken=s3cr3t", None).unwrap();
        let text = format!("{db:?}");
        assert!(!text.contains("s3cr3t"), "{text}");
        assert!(text.contains("<redacted>"), "{text}");
        let builder = Database::builder("libsql://db-org.turso.io").auth_token("s3cr3t");
        assert!(!format!("{builder:?}").contains("s3cr3t"));
        assert_eq!(db.url(), "https://db-org.turso.io/v2/pipeline");
        assert_eq!(db.namespace(), Some("db-org"));
    }

    #[test]
    fn bad_tokens_are_named_not_shown() {
        let e = Database::open("http://127.0.0.1:1", Some("abc\u{7f}secret")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the auth token (the builder) is not a valid HTTP header value"
        );
    }
}

//! [`Connection`]: one CLIENT span per call.

use std::fmt;
use std::sync::Arc;

use libsql::TransactionBehavior;
use libsql::params::IntoParams;

use super::database::Meta;
use super::error::fail;
use super::rows::Rows;
use super::statement::Statement;
use super::transaction::Transaction;
use crate::db::operation::is_write_operation;

/// An instrumented libSQL connection: the same calls as [`libsql::Connection`], each one a
/// span and a `db.client.operation.duration` measurement. Cheap to clone (clones share the
/// underlying connection).
///
/// | call | span | rows |
/// |---|---|---|
/// | [`execute`](Self::execute) | the statement | `spanforge.db.rows_affected` for INSERT/UPDATE/DELETE |
/// | [`query`](Self::query) | the statement, ended when the [`Rows`] are exhausted or dropped | `db.response.returned_rows` |
/// | [`prepare`](Self::prepare) | only if preparing fails; then one per execution | as above |
/// | [`execute_batch`](Self::execute_batch) | one span for all statements, `db.operation.batch.size` | — |
/// | [`transaction`](Self::transaction) | `BEGIN`, then one per statement, then `COMMIT`/`ROLLBACK` | as above |
#[derive(Clone)]
pub struct Connection {
    inner: libsql::Connection,
    meta: Arc<Meta>,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field(
                "namespace",
                &self.meta.namespace.as_ref().map(|n| n.as_str()),
            )
            .finish_non_exhaustive()
    }
}

impl Connection {
    pub(crate) fn new(inner: libsql::Connection, meta: Arc<Meta>) -> Self {
        Connection { inner, meta }
    }

    pub(crate) fn meta(&self) -> &Arc<Meta> {
        &self.meta
    }

    /// Run a statement; returns the number of rows it changed.
    ///
    /// # Errors
    ///
    /// libSQL's error; the span then carries `error.type` (e.g. `SQLITE_CONSTRAINT`) and
    /// `db.response.status_code` (the extended SQLite code).
    pub async fn execute(&self, sql: &str, params: impl IntoParams) -> libsql::Result<u64> {
        let op = self.meta.sql(sql);
        let write = is_write_operation(op.get_operation_name());
        let mut span = op.start();
        match self.inner.execute(sql, params).await {
            Ok(changed) => {
                if write {
                    span.set_affected_rows(changed);
                }
                span.end();
                Ok(changed)
            }
            Err(e) => {
                fail(span, &e);
                Err(e)
            }
        }
    }

    /// Run a query; read the result with [`Rows::next`]. The span ends when the rows are
    /// exhausted (or dropped), with `db.response.returned_rows`.
    ///
    /// # Errors
    ///
    /// libSQL's error, recorded on the span.
    pub async fn query(&self, sql: &str, params: impl IntoParams) -> libsql::Result<Rows> {
        let op = self.meta.sql(sql);
        let write = is_write_operation(op.get_operation_name());
        let span = op.start();
        match self.inner.query(sql, params).await {
            Ok(rows) => Ok(Rows::new(rows, span, write.then(|| self.inner.clone()))),
            Err(e) => {
                fail(span, &e);
                Err(e)
            }
        }
    }

    /// Prepare a statement: its query text is sanitized once, here; each execution is a
    /// span. A statement that fails to prepare gives one failed span.
    ///
    /// # Errors
    ///
    /// libSQL's error, recorded on a span.
    pub async fn prepare(&self, sql: &str) -> libsql::Result<Statement> {
        let op = self.meta.sql(sql);
        match self.inner.prepare(sql).await {
            Ok(statement) => Ok(Statement::new(statement, op, self.inner.clone())),
            Err(e) => {
                fail(op.start(), &e);
                Err(e)
            }
        }
    }

    /// Run several `;`-separated statements as one call (one span with
    /// `db.operation.batch.size`, summary `BATCH …`).
    ///
    /// # Errors
    ///
    /// libSQL's error, recorded on the span.
    pub async fn execute_batch(&self, sql: &str) -> libsql::Result<libsql::BatchRows> {
        let span = self.meta.sql(sql).start();
        match self.inner.execute_batch(sql).await {
            Ok(rows) => {
                span.end();
                Ok(rows)
            }
            Err(e) => {
                fail(span, &e);
                Err(e)
            }
        }
    }

    /// [`execute_batch`](Self::execute_batch) inside a transaction: all statements or none.
    ///
    /// # Errors
    ///
    /// libSQL's error, recorded on the span.
    pub async fn execute_transactional_batch(
        &self,
        sql: &str,
    ) -> libsql::Result<libsql::BatchRows> {
        let span = self.meta.sql(sql).start();
        match self.inner.execute_transactional_batch(sql).await {
            Ok(rows) => {
                span.end();
                Ok(rows)
            }
            Err(e) => {
                fail(span, &e);
                Err(e)
            }
        }
    }

    /// Begin a deferred transaction (a `BEGIN DEFERRED` span).
    ///
    /// # Errors
    ///
    /// libSQL's error, recorded on the span.
    pub async fn transaction(&self) -> libsql::Result<Transaction> {
        self.transaction_with_behavior(TransactionBehavior::Deferred)
            .await
    }

    /// Begin a transaction with the given behavior (a `BEGIN …` span).
    ///
    /// # Errors
    ///
    /// libSQL's error, recorded on the span.
    pub async fn transaction_with_behavior(
        &self,
        behavior: TransactionBehavior,
    ) -> libsql::Result<Transaction> {
        let begin = match behavior {
            TransactionBehavior::Deferred => "BEGIN DEFERRED",
            TransactionBehavior::Immediate => "BEGIN IMMEDIATE",
            TransactionBehavior::Exclusive => "BEGIN EXCLUSIVE",
            TransactionBehavior::ReadOnly => "BEGIN READONLY",
        };
        let span = self.meta.sql(begin).start();
        match self.inner.transaction_with_behavior(behavior).await {
            Ok(tx) => {
                span.end();
                Ok(Transaction::new(tx, self.meta.clone()))
            }
            Err(e) => {
                fail(span, &e);
                Err(e)
            }
        }
    }

    /// Whether no transaction is open.
    pub fn is_autocommit(&self) -> bool {
        self.inner.is_autocommit()
    }

    /// Rows changed by the most recent INSERT, UPDATE or DELETE.
    pub fn changes(&self) -> u64 {
        self.inner.changes()
    }

    /// The rowid of the most recent successful INSERT.
    pub fn last_insert_rowid(&self) -> i64 {
        self.inner.last_insert_rowid()
    }

    /// The libSQL connection, for calls spanforge does not wrap (not traced).
    pub fn inner(&self) -> &libsql::Connection {
        &self.inner
    }
}

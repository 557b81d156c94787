//! [`Statement`]: a prepared statement whose executions are spans.

use std::fmt;

use libsql::params::IntoParams;

use super::error::fail;
use super::rows::Rows;
use crate::db::DbOperation;
use crate::db::operation::is_write_operation;

/// A prepared statement. Its text was sanitized once when it was prepared; each
/// execution is a span.
pub struct Statement {
    inner: libsql::Statement,
    op: DbOperation,
    write: bool,
    conn: libsql::Connection,
}

impl fmt::Debug for Statement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Statement")
            .field("query_text", &self.op.get_query_text())
            .finish_non_exhaustive()
    }
}

impl Statement {
    pub(crate) fn new(inner: libsql::Statement, op: DbOperation, conn: libsql::Connection) -> Self {
        let write = is_write_operation(op.get_operation_name());
        Statement {
            inner,
            op,
            write,
            conn,
        }
    }

    /// Execute; returns the number of rows changed.
    ///
    /// # Errors
    ///
    /// libSQL's error, recorded on the span.
    pub async fn execute(&self, params: impl IntoParams) -> libsql::Result<usize> {
        let mut span = self.op.clone().start();
        match self.inner.execute(params).await {
            Ok(changed) => {
                if self.write {
                    span.set_affected_rows(changed as u64);
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

    /// Query; the span ends when the [`Rows`] are exhausted or dropped.
    ///
    /// # Errors
    ///
    /// libSQL's error, recorded on the span.
    pub async fn query(&self, params: impl IntoParams) -> libsql::Result<Rows> {
        let span = self.op.clone().start();
        match self.inner.query(params).await {
            Ok(rows) => Ok(Rows::new(rows, span, self.write.then(|| self.conn.clone()))),
            Err(e) => {
                fail(span, &e);
                Err(e)
            }
        }
    }

    /// Execute, ignoring any rows.
    ///
    /// # Errors
    ///
    /// libSQL's error, recorded on the span.
    pub async fn run(&self, params: impl IntoParams) -> libsql::Result<()> {
        let mut span = self.op.clone().start();
        match self.inner.run(params).await {
            Ok(()) => {
                if self.write {
                    span.set_affected_rows(self.conn.changes());
                }
                span.end();
                Ok(())
            }
            Err(e) => {
                fail(span, &e);
                Err(e)
            }
        }
    }

    /// Query and return the first row.
    ///
    /// # Errors
    ///
    /// libSQL's error (`QueryReturnedNoRows` when there is none), recorded on the span.
    pub async fn query_row(&mut self, params: impl IntoParams) -> libsql::Result<libsql::Row> {
        let mut span = self.op.clone().start();
        match self.inner.query_row(params).await {
            Ok(row) => {
                span.set_returned_rows(1);
                span.end();
                Ok(row)
            }
            Err(e) => {
                fail(span, &e);
                Err(e)
            }
        }
    }

    /// Reset the statement so it can be executed again.
    pub fn reset(&self) {
        self.inner.reset();
    }

    /// Number of parameters.
    pub fn parameter_count(&self) -> usize {
        self.inner.parameter_count()
    }

    /// Number of result columns.
    pub fn column_count(&self) -> usize {
        self.inner.column_count()
    }

    /// The libSQL statement (calls on it are not traced).
    pub fn inner(&self) -> &libsql::Statement {
        &self.inner
    }
}

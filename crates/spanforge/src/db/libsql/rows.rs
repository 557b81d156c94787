//! [`Rows`]: a result set that ends its span when read to the end or dropped.

use std::fmt;

use super::error::fail;
use crate::db::DbSpan;

/// The rows of a query. Counts them as they are read; the query's span ends with
/// `db.response.returned_rows` when [`next`](Self::next) returns `None`, fails, or the
/// `Rows` are dropped (then with the rows read so far).
pub struct Rows {
    inner: libsql::Rows,
    span: Option<DbSpan>,
    returned: u64,
    /// For INSERT/UPDATE/DELETE … RETURNING: the connection whose `changes()` are read at
    /// the end.
    changes: Option<libsql::Connection>,
}

impl fmt::Debug for Rows {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rows")
            .field("returned", &self.returned)
            .field("done", &self.span.is_none())
            .finish_non_exhaustive()
    }
}

impl Rows {
    pub(crate) fn new(
        inner: libsql::Rows,
        span: DbSpan,
        changes: Option<libsql::Connection>,
    ) -> Self {
        Rows {
            inner,
            span: Some(span),
            returned: 0,
            changes,
        }
    }

    /// The next row, or `None` at the end.
    ///
    /// # Errors
    ///
    /// libSQL's error, recorded on the query's span.
    pub async fn next(&mut self) -> libsql::Result<Option<libsql::Row>> {
        match self.inner.next().await {
            Ok(Some(row)) => {
                self.returned += 1;
                Ok(Some(row))
            }
            Ok(None) => {
                self.finish();
                Ok(None)
            }
            Err(e) => {
                if let Some(mut span) = self.span.take() {
                    span.set_returned_rows(self.returned);
                    fail(span, &e);
                }
                Err(e)
            }
        }
    }

    /// Rows read so far.
    pub fn returned(&self) -> u64 {
        self.returned
    }

    /// Number of columns.
    pub fn column_count(&self) -> i32 {
        self.inner.column_count()
    }

    /// Name of the column at `idx`.
    pub fn column_name(&self, idx: i32) -> Option<&str> {
        self.inner.column_name(idx)
    }

    /// Type of the column at `idx`.
    ///
    /// # Errors
    ///
    /// libSQL's error for a bad index.
    pub fn column_type(&self, idx: i32) -> libsql::Result<libsql::ValueType> {
        self.inner.column_type(idx)
    }

    fn finish(&mut self) {
        if let Some(mut span) = self.span.take() {
            span.set_returned_rows(self.returned);
            if let Some(conn) = &self.changes {
                span.set_affected_rows(conn.changes());
            }
            span.end();
        }
    }
}

impl Drop for Rows {
    fn drop(&mut self) {
        self.finish();
    }
}

//! [`Transaction`]: statements inside it are spans; so are `COMMIT` and `ROLLBACK`.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use super::connection::Connection;
use super::database::Meta;
use super::error::fail;

/// An open transaction. Dereferences to a [`Connection`], so statements run through it
/// are traced like any other; [`commit`](Self::commit) and [`rollback`](Self::rollback)
/// are spans of their own. Dropped without either, libSQL rolls it back.
pub struct Transaction {
    inner: libsql::Transaction,
    conn: Connection,
}

impl fmt::Debug for Transaction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transaction")
            .field("conn", &self.conn)
            .finish_non_exhaustive()
    }
}

impl Transaction {
    pub(crate) fn new(inner: libsql::Transaction, meta: Arc<Meta>) -> Self {
        let conn = Connection::new(libsql::Connection::clone(&inner), meta);
        Transaction { inner, conn }
    }

    /// Commit (a `COMMIT` span).
    ///
    /// # Errors
    ///
    /// libSQL's error, recorded on the span.
    pub async fn commit(self) -> libsql::Result<()> {
        let span = self.conn.meta().sql("COMMIT").start();
        match self.inner.commit().await {
            Ok(()) => {
                span.end();
                Ok(())
            }
            Err(e) => {
                fail(span, &e);
                Err(e)
            }
        }
    }

    /// Roll back (a `ROLLBACK` span).
    ///
    /// # Errors
    ///
    /// libSQL's error, recorded on the span.
    pub async fn rollback(self) -> libsql::Result<()> {
        let span = self.conn.meta().sql("ROLLBACK").start();
        match self.inner.rollback().await {
            Ok(()) => {
                span.end();
                Ok(())
            }
            Err(e) => {
                fail(span, &e);
                Err(e)
            }
        }
    }
}

impl Deref for Transaction {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        &self.conn
    }
}

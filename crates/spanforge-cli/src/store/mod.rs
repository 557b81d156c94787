//! The local store: spans, logs and metric points in one libSQL file.
//!
//! One writer thread owns the only writing connection. Each export request arrives as a
//! [`Batch`] and is stored in one transaction, so a request is stored whole or not at all;
//! requests that queue up while a transaction runs are committed together, which is what makes
//! ingest fast (one fsync for many requests). Readers open their own connections: the file is
//! in WAL mode, so queries never wait for the writer.

mod query;
mod record;
mod retention;
mod schema;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

pub use query::{
    LlmGroup, LlmReport, LlmRow, LlmTotals, Meta, RouteRow, ServicesReport, TraceDetail,
    TraceFilter, TraceList, TraceLog, TraceSpan, TraceSpanEvent, TraceSummary,
};
pub use record::{Batch, LlmFields, LogRecord, PointRecord, SpanRecord};
pub use retention::{Retention, RetentionReport};
pub use writer::WriteSummary;

/// How long a write may wait for room in the writer's queue before the caller is told to retry.
const QUEUE_WAIT: Duration = Duration::from_secs(5);

/// Batches waiting for the writer.
const QUEUE_DEPTH: usize = 256;

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file could not be opened or created.
    #[error("cannot open the store {path}: {source}")]
    Open {
        /// The file.
        path: PathBuf,
        /// What libSQL said.
        #[source]
        source: libsql::Error,
    },
    /// The file was written by another version of spanforge.
    #[error(
        "the store {path} has schema version {found}, this spanforge reads version {expected}: use another file or remove it"
    )]
    SchemaVersion {
        /// The file.
        path: PathBuf,
        /// The version in the file.
        found: String,
        /// The version this build reads.
        expected: i64,
    },
    /// A statement failed.
    #[error("database error: {0}")]
    Database(#[from] libsql::Error),
    /// A transaction failed; nothing of it was stored.
    #[error("storing failed, nothing was stored: {0}")]
    Write(String),
    /// The writer's queue stayed full: the caller should retry later.
    #[error("the store is busy: {0} batches are waiting to be written")]
    Busy(usize),
    /// The writer has stopped.
    #[error("the store is closed")]
    Closed,
    /// A stored value could not be read back.
    #[error("corrupt stored value in {column}: {reason}")]
    Corrupt {
        /// Where.
        column: &'static str,
        /// What was wrong.
        reason: String,
    },
}

/// A handle to the store; cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    db: libsql::Database,
    writer: mpsc::Sender<writer::Message>,
}

impl Store {
    /// Opens (or creates) the store at `path` and starts its writer thread.
    pub async fn open(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        let path = path.as_ref().to_owned();
        let open_error = |source| StoreError::Open {
            path: path.clone(),
            source,
        };
        let db = libsql::Builder::new_local(&path)
            .build()
            .await
            .map_err(open_error)?;
        let conn = db.connect().map_err(open_error)?;
        conn.execute_batch(schema::AUTO_VACUUM)
            .await
            .map_err(open_error)?;
        conn.execute_batch(schema::PRAGMAS)
            .await
            .map_err(open_error)?;
        conn.execute_batch(schema::CREATE)
            .await
            .map_err(open_error)?;
        check_version(&conn, &path).await?;
        let (sender, receiver) = mpsc::channel(QUEUE_DEPTH);
        writer::spawn(conn, receiver).map_err(|e| StoreError::Open {
            path: path.clone(),
            source: libsql::Error::ConnectionFailed(format!("cannot start the writer thread: {e}")),
        })?;
        Ok(Store {
            inner: Arc::new(Inner {
                path,
                db,
                writer: sender,
            }),
        })
    }

    /// The file behind the store.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Stores a batch in one transaction: all of it, or (on error) none of it.
    ///
    /// A span already stored (same trace and span id, as when a sender retries) is skipped.
    pub async fn write(&self, batch: Batch) -> Result<WriteSummary, StoreError> {
        if batch.is_empty() {
            return Ok(WriteSummary::default());
        }
        let (ack, answer) = oneshot::channel();
        // Turning rows into parameters here keeps that work off the writer thread.
        let prepared = writer::Prepared::new(batch);
        self.send(writer::Message::Write(prepared, ack)).await?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    /// Deletes what is older than the retention's age, then the oldest traces until the file
    /// is within its size, and gives the freed pages back to the file system.
    pub async fn enforce(&self, retention: Retention) -> Result<RetentionReport, StoreError> {
        let (ack, answer) = oneshot::channel();
        self.send(writer::Message::Retain(retention, ack)).await?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    async fn send(&self, message: writer::Message) -> Result<(), StoreError> {
        match tokio::time::timeout(QUEUE_WAIT, self.inner.writer.send(message)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(StoreError::Closed),
            Err(_) => Err(StoreError::Busy(QUEUE_DEPTH)),
        }
    }

    /// A connection for reading.
    pub(crate) async fn reader(&self) -> Result<libsql::Connection, StoreError> {
        let conn = self.inner.db.connect()?;
        conn.execute_batch("PRAGMA busy_timeout = 5000; PRAGMA temp_store = MEMORY;")
            .await?;
        Ok(conn)
    }
}

async fn check_version(conn: &libsql::Connection, path: &Path) -> Result<(), StoreError> {
    let mut rows = conn
        .query("SELECT value FROM meta WHERE key = 'schema_version'", ())
        .await?;
    match rows.next().await? {
        Some(row) => {
            let found: String = row.get(0)?;
            if found != schema::SCHEMA_VERSION.to_string() {
                return Err(StoreError::SchemaVersion {
                    path: path.to_owned(),
                    found,
                    expected: schema::SCHEMA_VERSION,
                });
            }
        }
        None => {
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?1)",
                [schema::SCHEMA_VERSION.to_string()],
            )
            .await?;
        }
    }
    Ok(())
}

//! [`Pool`]: a deadpool pool of instrumented connections with the pool metrics.

use std::fmt;
use std::ops::Deref;
use std::time::Duration;

use deadpool::managed::{self, Metrics, RecycleError, RecycleResult};

use super::connection::Connection;
use super::database::Database;
use crate::db::{ConnectionGuard, PoolMetrics, PoolSnapshot};

/// Opens and recycles libSQL connections for deadpool.
struct Manager {
    db: Database,
    busy_timeout: Option<Duration>,
}

impl fmt::Debug for Manager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Manager").field("db", &self.db).finish()
    }
}

impl managed::Manager for Manager {
    type Type = Connection;
    type Error = libsql::Error;

    async fn create(&self) -> Result<Connection, libsql::Error> {
        let conn = self.db.connect()?;
        if let Some(timeout) = self.busy_timeout {
            conn.inner().busy_timeout(timeout)?;
        }
        Ok(conn)
    }

    async fn recycle(&self, conn: &mut Connection, _: &Metrics) -> RecycleResult<libsql::Error> {
        // A connection handed back inside a transaction would leak it to the next user.
        if conn.is_autocommit() {
            Ok(())
        } else {
            Err(RecycleError::message(
                "connection returned with an open transaction",
            ))
        }
    }
}

/// Why [`Pool::get`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PoolError {
    /// No connection became free within the pool's wait timeout (counted in
    /// `db.client.connection.timeouts`). Raise the pool size or find the slow queries.
    #[error("no libSQL connection became free within {0:?}")]
    Timeout(Duration),
    /// Opening a new connection failed.
    #[error("opening a libSQL connection failed: {0}")]
    Connect(#[source] libsql::Error),
    /// The pool was closed.
    #[error("the libSQL pool is closed")]
    Closed,
    /// Any other pool failure.
    #[error("libSQL pool: {0}")]
    Other(String),
}

/// Why [`PoolBuilder::build`] failed.
#[derive(Debug, thiserror::Error)]
#[error("invalid libSQL pool configuration: {0}")]
pub struct PoolBuildError(String);

/// Configures a [`Pool`]; from [`Database::pool`].
#[derive(Debug)]
pub struct PoolBuilder {
    db: Database,
    name: Option<String>,
    max_size: usize,
    wait_timeout: Option<Duration>,
    busy_timeout: Option<Duration>,
}

impl PoolBuilder {
    pub(crate) fn new(db: Database) -> Self {
        PoolBuilder {
            db,
            name: None,
            max_size: 4,
            wait_timeout: Some(Duration::from_secs(5)),
            busy_timeout: Some(Duration::from_secs(5)),
        }
    }

    /// `db.client.connection.pool.name` (default: the database's namespace, else
    /// `libsql`). Unique within the application.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// At most this many connections (default 4; at least 1).
    pub fn max_size(mut self, max_size: usize) -> Self {
        self.max_size = max_size.max(1);
        self
    }

    /// How long [`Pool::get`] waits for a free connection before [`PoolError::Timeout`]
    /// (default 5 s; `None` waits forever).
    pub fn wait_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.wait_timeout = timeout;
        self
    }

    /// How long a statement waits for another connection's write lock on the same file
    /// before failing with `SQLITE_BUSY` (default 5 s; `None` fails at once, SQLite's
    /// default). Set on every connection the pool opens.
    pub fn busy_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// Build the pool. Connections are opened on demand.
    ///
    /// # Errors
    ///
    /// [`PoolBuildError`] if deadpool rejects the configuration.
    pub fn build(self) -> Result<Pool, PoolBuildError> {
        let name = self
            .name
            .or_else(|| self.db.namespace().map(str::to_owned))
            .unwrap_or_else(|| "libsql".to_owned());
        let inner = managed::Pool::<Manager>::builder(Manager {
            db: self.db,
            busy_timeout: self.busy_timeout,
        })
        .max_size(self.max_size)
        .wait_timeout(self.wait_timeout)
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .map_err(|e| PoolBuildError(e.to_string()))?;
        let weak = inner.weak();
        let metrics = PoolMetrics::observe(name, move || {
            let status = weak.upgrade()?.status();
            Some(PoolSnapshot {
                max: status.max_size as u64,
                idle: status.available as u64,
                used: status.size.saturating_sub(status.available) as u64,
                pending: status.waiting as u64,
            })
        });
        Ok(Pool {
            inner,
            metrics,
            wait_timeout: self.wait_timeout,
        })
    }
}

/// A pool of instrumented libSQL connections ([deadpool](https://docs.rs/deadpool)),
/// reporting `db.client.connection.count{state=idle|used}`, `.max`, `.pending_requests`,
/// `.wait_time`, `.use_time` and `.timeouts`. Cheap to clone.
///
/// ```no_run
/// # #[cfg(feature = "libsql")]
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let db = spanforge::db::libsql::Database::open_local("app.db").await?;
/// let pool = db.pool().max_size(8).build()?;
/// let conn = pool.get().await?;                 // a PooledConnection: derefs to Connection
/// conn.execute("UPDATE runs SET seen = 1 WHERE id = ?1", [7]).await?;
/// # Ok(()) }
/// ```
///
/// A local libSQL connection is one SQLite handle; a pool bounds how many exist and lets
/// concurrent requests use separate handles (readers do not wait for each other in WAL
/// mode). A connection returned with an open transaction is closed, not reused.
#[derive(Clone)]
pub struct Pool {
    inner: managed::Pool<Manager>,
    metrics: PoolMetrics,
    wait_timeout: Option<Duration>,
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("metrics", &self.metrics)
            .finish_non_exhaustive()
    }
}

impl Pool {
    /// A connection, waiting for one to free up if all are in use.
    ///
    /// # Errors
    ///
    /// [`PoolError`]: timeout, a failure to open a connection, or a closed pool.
    pub async fn get(&self) -> Result<PooledConnection, PoolError> {
        let waiting = self.metrics.acquire_started();
        match self.inner.get().await {
            Ok(object) => Ok(PooledConnection {
                object,
                _in_use: waiting.acquired(),
            }),
            Err(managed::PoolError::Timeout(_)) => {
                waiting.timed_out();
                Err(PoolError::Timeout(self.wait_timeout.unwrap_or_default()))
            }
            Err(managed::PoolError::Backend(e)) => Err(PoolError::Connect(e)),
            Err(managed::PoolError::Closed) => Err(PoolError::Closed),
            Err(e) => Err(PoolError::Other(e.to_string())),
        }
    }

    /// The pool's numbers now (what the metrics will report).
    pub fn status(&self) -> PoolSnapshot {
        self.metrics.snapshot().unwrap_or_default()
    }

    /// The pool's metrics handle.
    pub fn metrics(&self) -> &PoolMetrics {
        &self.metrics
    }

    /// Close the pool: waiting and future [`get`](Self::get) calls fail with
    /// [`PoolError::Closed`].
    pub fn close(&self) {
        self.inner.close();
    }
}

/// A connection borrowed from a [`Pool`]; goes back when dropped. Dereferences to
/// [`Connection`].
pub struct PooledConnection {
    object: managed::Object<Manager>,
    _in_use: ConnectionGuard,
}

impl fmt::Debug for PooledConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PooledConnection")
            .field("conn", &*self.object)
            .finish()
    }
}

impl Deref for PooledConnection {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        &self.object
    }
}

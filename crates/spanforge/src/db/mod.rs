//! Database instrumentation: the driver-agnostic span API, the SQL sanitizer, libSQL (local
//! files), Turso (remote) and Redis integrations, and connection-pool metrics.
//!
//! Everything follows the stable database semantic conventions (v1.44): CLIENT spans named
//! by `db.query.summary` (`SELECT prompts`) or the command (`GET`), with `db.system.name`,
//! `db.namespace`, `db.operation.name`, `db.collection.name`, `db.query.text` (literals
//! replaced by `?`, Redis values redacted), `db.query.summary`, `db.operation.batch.size`,
//! `db.response.returned_rows`, `db.response.status_code` and `error.type`; the
//! `db.client.operation.duration` histogram (seconds, buckets
//! `[0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10]`); the `spanforge.db.rows_read` and
//! `spanforge.db.rows_written` counters; and the `db.client.connection.*` pool metrics.
//!
//! | feature | what it adds |
//! |---|---|
//! | (none) | [`DbOperation`] / [`DbSpan`] for any driver, [`PoolMetrics`] for any pool, [`sanitize`] |
//! | `libsql` | [`libsql`]: instrumented `Database`, `Connection`, `Statement`, `Transaction`, `Rows`, and a deadpool-based `Pool` |
//! | `redis` | [`redis`]: an instrumented async connection (multiplexed or connection manager) |
//! | `turso` | [`turso`]: a remote Turso / libSQL server client (Hrana over HTTP) whose calls are spans, with Turso's rows read and written counted |
//!
//! See `docs/database.md` for setup, the attribute and metric reference, and how to
//! instrument a driver spanforge does not wrap.

pub mod sanitize;

mod attributes;
mod metrics;
mod operation;
mod pool;

#[cfg(feature = "libsql")]
#[cfg_attr(docsrs, doc(cfg(feature = "libsql")))]
pub mod libsql;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub mod redis;
#[cfg(feature = "turso")]
#[cfg_attr(docsrs, doc(cfg(feature = "turso")))]
pub mod turso;

pub use operation::{DbOperation, DbSpan};
pub use pool::{AcquireGuard, ConnectionGuard, PoolMetrics, PoolSnapshot};

//! libSQL / Turso: instrumented wrappers that keep libSQL's API.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use spanforge::db::libsql::Database;
//!
//! let db = Database::open_local("app.db").await?;
//! let conn = db.connect()?;
//! conn.execute("CREATE TABLE IF NOT EXISTS runs (id INTEGER PRIMARY KEY, prompt TEXT)", ()).await?;
//! conn.execute("INSERT INTO runs (prompt) VALUES (?1)", ["greet"]).await?;
//! let mut rows = conn.query("SELECT id, prompt FROM runs WHERE prompt = ?1", ["greet"]).await?;
//! while let Some(row) = rows.next().await? {
//!     let id: i64 = row.get(0)?;
//!     println!("run {id}");
//! }
//! # Ok(()) }
//! ```
//!
//! Each call is a CLIENT span, named by the query summary, under the current span (the
//! HTTP server span of the request, say):
//!
//! ```text
//! POST /prompts/{name}/run                       SERVER
//! └─ INSERT runs                                 CLIENT  db.system.name=sqlite
//!                                                        db.namespace=app.db
//!                                                        db.query.text="INSERT INTO runs (prompt) VALUES (?1)"
//!                                                        db.operation.name=INSERT  db.collection.name=runs
//!                                                        spanforge.db.rows_affected=1
//! ```
//!
//! Only libSQL's `core` feature is used (local files and `:memory:`). For remote Turso
//! databases (`libsql://…` with an auth token) use [`crate::db::turso`] (feature `turso`):
//! spanforge's own client for Turso's HTTP protocol, on the reqwest the workspace already
//! has, instead of libSQL's `remote` feature and the second HTTP stack it brings. See
//! `docs/database.md`.

mod connection;
mod database;
mod error;
mod pool;
mod rows;
mod statement;
mod transaction;

pub use connection::Connection;
pub use database::Database;
pub use pool::{Pool, PoolBuildError, PoolBuilder, PoolError, PooledConnection};
pub use rows::Rows;
pub use statement::Statement;
pub use transaction::Transaction;

/// Re-export of the libSQL crate spanforge is built against (its `Value`, `Row`,
/// `params!`, `TransactionBehavior`, ...).
pub use ::libsql as driver;

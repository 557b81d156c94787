//! Remote Turso and libSQL server databases over Hrana over HTTP — spanforge's own client on
//! the reqwest the rest of spanforge uses, so no second HTTP stack.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use spanforge::db::turso::Database;
//!
//! // TURSO_DATABASE_URL (or DATABASE_URL) = libsql://prompts-acme.turso.io, TURSO_AUTH_TOKEN
//! let db = Database::from_env()?;
//! db.execute("CREATE TABLE IF NOT EXISTS runs (id INTEGER PRIMARY KEY, prompt TEXT)", ()).await?;
//! let inserted = db.execute("INSERT INTO runs (prompt) VALUES (?1)", ["greet"]).await?;
//! println!("run {:?}", inserted.last_insert_rowid);
//! let rows = db.query("SELECT id, prompt FROM runs WHERE prompt = ?1", ["greet"]).await?;
//! for row in &rows {
//!     let id: i64 = row.get(0)?;
//!     let prompt: String = row.get_by_name("prompt")?;
//!     println!("{id} {prompt}");
//! }
//! let tx = db.transaction().await?;
//! tx.execute("UPDATE runs SET prompt = ?1 WHERE id = ?2", ("plan", 1)).await?;
//! tx.commit().await?;
//! # Ok(()) }
//! ```
//!
//! Each call is a CLIENT span under the current span, like the local
//! [`libsql`](super::libsql) wrapper's, plus Turso's own counts of rows read and written:
//!
//! ```text
//! POST /prompts/{name}/run                 SERVER
//! └─ INSERT runs                           CLIENT  db.system.name=sqlite  db.namespace=prompts-acme
//!                                                  server.address=prompts-acme.turso.io
//!                                                  db.query.text="INSERT INTO runs (prompt) VALUES (?1)"
//!                                                  db.operation.name=INSERT  db.collection.name=runs
//!                                                  spanforge.db.rows_affected=1
//! ```
//!
//! and `spanforge.db.rows_read` / `spanforge.db.rows_written` grow by the `rows_read` /
//! `rows_written` Turso reports for the statement — the numbers Turso bills.
//!
//! | call | request | span |
//! |---|---|---|
//! | [`Database::execute`] / [`query`](Database::query) | one `execute` | the statement |
//! | [`Database::execute_batch`] | one `sequence` (`;`-separated SQL) | one, `db.operation.batch.size` |
//! | [`Database::batch`] / [`transactional_batch`](Database::transactional_batch) | one `batch`, each step conditioned on the previous | one, `db.operation.batch.size` |
//! | [`Database::transaction`] | `BEGIN`, then one request per call, `COMMIT`/`ROLLBACK` | one per call |
//!
//! # TLS
//!
//! Turso is HTTPS only, and spanforge builds reqwest without a TLS backend by default. An
//! application that talks to Turso turns one on: spanforge's `tls` feature, or a TLS
//! feature on its own reqwest dependency (Cargo merges the features):
//!
//! ```toml
//! spanforge = { version = "0.1", features = ["turso", "tls"] }
//! # or
//! reqwest = { version = "0.13", default-features = false, features = ["rustls"] }
//! ```
//!
//! Without one, every call to an `https://` (or `libsql://`) URL fails with
//! [`Error::TlsUnavailable`], which says exactly that. Plain `http://` (a local libSQL
//! server, or `libsql://host?tls=0`) needs nothing.
//!
//! # Errors
//!
//! [`Error`] tells apart what the server refused (HTTP status; 401 is a bad token),
//! statements that failed (`Error::Sql` with the server's code, e.g. `SQLITE_CONSTRAINT`),
//! and transport failures (connect, timeout, dropped connection), and records the same as
//! `error.type`. Nothing is retried: a write may have run when the answer was lost.
//! Neither errors nor `Debug` output contain the auth token.

mod base64;
mod client;
mod database;
mod error;
mod proto;
mod rows;
mod transaction;
mod value;

pub use database::{Database, DatabaseBuilder, Statement, TransactionBehavior};
pub use error::{ConfigError, Error};
pub use rows::{Column, ExecuteResult, Row, Rows};
pub use transaction::Transaction;
pub use value::{ColumnError, FromValue, IntoParams, Params, Value};

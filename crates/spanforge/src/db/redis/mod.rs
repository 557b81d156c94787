//! Redis: an instrumented async connection, one span per command.
//!
//! ```no_run
//! # async fn run() -> redis::RedisResult<()> {
//! use redis::AsyncCommands;
//! use spanforge::db::redis::Connection;
//!
//! let client = redis::Client::open("redis://127.0.0.1:6379/0")?;
//! let mut conn = Connection::multiplexed(&client).await?;      // or Connection::manager(client)
//! let _: () = conn.set("prompt:greet:latest", "3").await?;    // span "SET", text "SET prompt:greet:latest ?"
//! let latest: Option<String> = conn.get("prompt:greet:latest").await?;
//! let (a, b): (i64, i64) = redis::pipe()                      // one span "PIPELINE INCR", batch size 2
//!     .incr("hits:a", 1).incr("hits:b", 1)
//!     .query_async(&mut conn).await?;
//! # Ok(()) }
//! ```
//!
//! See [`Connection`] for the attributes. Values never reach a span: only keys, field
//! names and options are kept in `db.query.text`; unknown commands keep only their name.

mod command;
mod connection;
mod error;

pub use connection::Connection;

/// Re-export of the redis crate spanforge is built against.
pub use ::redis as driver;

//! Turso on loopback: a real libSQL server ([`Sqld`], the server Turso runs, installed by
//! `scripts/install-sqld.sh`) with Turso's JWT authentication, and a [`TursoProxy`] in
//! front of it that records every Hrana-over-HTTP exchange — with the `rows_read` /
//! `rows_written` the server reported — and injects faults (HTTP 5xx and 429, slow answers,
//! dropped connections, non-Hrana answers).
//!
//! ```no_run
//! use spanforge_testkit::turso::{Sqld, TursoFault, TursoProxy};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let sqld = Sqld::start()?;                      // http://127.0.0.1:<port>, empty database
//! let proxy = TursoProxy::start(sqld.addr())?;    // the client talks to proxy.url()
//! // Client under test: url = proxy.url(), token = Sqld::AUTH_TOKEN.
//! proxy.queue_faults([TursoFault::unavailable()]); // the next request gets a 503
//! // ... run the client ...
//! let billed = proxy.rows_read();                 // what sqld reported, summed
//! # let _ = billed;
//! # Ok(()) }
//! ```
//!
//! Statements run on a real SQLite engine (libSQL), so results, constraint errors
//! (`SQLITE_CONSTRAINT`), batches, transactions (batons) and the rows-read counts are the
//! server's own. A missing `sqld` fails [`Sqld::start`] with a message naming the script.

mod proxy;
mod sqld;

pub use proxy::{HranaExchange, TursoFault, TursoProxy};
pub use sqld::{Sqld, SqldError};

//! [`Transaction`]: an interactive transaction on a Hrana stream of its own, carried across
//! HTTP requests by the server's baton.

use std::fmt;
use std::sync::Arc;

use super::client::Endpoint;
use super::database::{
    BatchMode, Meta, Statement, TransactionBehavior, batch_on, execute_batch_on, execute_on,
    query_on,
};
use super::error::{Error, fail};
use super::proto::{Stmt, StreamRequest, StreamResult};
use super::rows::{ExecuteResult, Rows};
use super::value::{IntoParams, Params};

/// The client's side of a Hrana stream.
#[derive(Debug)]
pub(super) enum StreamState {
    /// No stream kept: each call opens one and closes it in the same request.
    OneShot,
    /// A stream to open with the next request and keep.
    Fresh,
    /// An open stream: the baton to send next, and the URL the server asked for.
    Open {
        baton: String,
        base_url: Option<String>,
    },
    /// Unusable, and why.
    Closed(&'static str),
}

impl StreamState {
    /// Send `requests` on this stream; returns one result per request.
    pub(super) async fn call(
        &mut self,
        endpoint: &Endpoint,
        requests: impl Into<Vec<StreamRequest>>,
    ) -> Result<Vec<StreamResult>, Error> {
        let mut requests = requests.into();
        let asked = requests.len();
        if let StreamState::OneShot = self {
            requests.push(StreamRequest::Close);
            let mut response = endpoint.pipeline(None, None, &requests).await?;
            response.results.truncate(asked);
            return Ok(response.results);
        }
        // Taken out for the duration of the request: a request that is cancelled (its
        // future dropped) leaves the stream unusable, since its next baton is lost.
        let (baton, base_url) =
            match std::mem::replace(self, StreamState::Closed("a request on it was cancelled")) {
                StreamState::Fresh => (None, None),
                StreamState::Open { baton, base_url } => (Some(baton), base_url),
                StreamState::Closed(why) => {
                    *self = StreamState::Closed(why);
                    return Err(Error::StreamClosed(why));
                }
                StreamState::OneShot => unreachable!("handled above"),
            };
        match endpoint
            .pipeline(base_url.as_deref(), baton.as_deref(), &requests)
            .await
        {
            Ok(response) => {
                *self = match response.baton {
                    Some(baton) => StreamState::Open {
                        baton,
                        base_url: response.base_url.or(base_url),
                    },
                    None => StreamState::Closed("the server closed it"),
                };
                Ok(response.results)
            }
            Err(e) => {
                // An HTTP or transport failure invalidates the stream (the spec says so
                // for HTTP errors; after a transport failure the baton is unknown).
                *self = StreamState::Closed("a request on it failed");
                Err(e)
            }
        }
    }
}

/// An interactive transaction: `BEGIN`, then statements in as many requests as needed,
/// then [`commit`](Self::commit) or [`rollback`](Self::rollback) — each a span, as on
/// [`Database`](super::Database).
///
/// Calls are serialized (a Hrana stream takes one request at a time). Dropped without
/// `commit` or `rollback`, the transaction is rolled back: a `ROLLBACK` is sent in the
/// background when a Tokio runtime is running, and the server rolls back streams left
/// idle anyway (after a few seconds on Turso). A transaction whose request failed on the
/// HTTP level, or was cancelled, cannot be used any more ([`Error::StreamClosed`]).
pub struct Transaction {
    endpoint: Arc<Endpoint>,
    meta: Arc<Meta>,
    stream: tokio::sync::Mutex<StreamState>,
}

impl fmt::Debug for Transaction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transaction")
            .field("url", &self.endpoint.url())
            .finish_non_exhaustive()
    }
}

impl Transaction {
    pub(super) async fn begin(
        endpoint: Arc<Endpoint>,
        meta: Arc<Meta>,
        behavior: TransactionBehavior,
    ) -> Result<Transaction, Error> {
        let mut stream = StreamState::Fresh;
        execute_on(
            &endpoint,
            &meta,
            &mut stream,
            behavior.begin(),
            Params::None,
        )
        .await?;
        Ok(Transaction {
            endpoint,
            meta,
            stream: tokio::sync::Mutex::new(stream),
        })
    }

    /// Run a statement in the transaction; see [`Database::execute`](super::Database::execute).
    ///
    /// # Errors
    ///
    /// As `Database::execute`, plus [`Error::StreamClosed`].
    pub async fn execute(
        &self,
        sql: &str,
        params: impl IntoParams,
    ) -> Result<ExecuteResult, Error> {
        let mut stream = self.stream.lock().await;
        execute_on(
            &self.endpoint,
            &self.meta,
            &mut stream,
            sql,
            params.into_params(),
        )
        .await
    }

    /// Run a query in the transaction; see [`Database::query`](super::Database::query).
    ///
    /// # Errors
    ///
    /// As `Database::query`, plus [`Error::StreamClosed`].
    pub async fn query(&self, sql: &str, params: impl IntoParams) -> Result<Rows, Error> {
        let mut stream = self.stream.lock().await;
        query_on(
            &self.endpoint,
            &self.meta,
            &mut stream,
            sql,
            params.into_params(),
        )
        .await
    }

    /// Run `;`-separated statements in the transaction; see
    /// [`Database::execute_batch`](super::Database::execute_batch).
    ///
    /// # Errors
    ///
    /// As `Database::execute_batch`, plus [`Error::StreamClosed`].
    pub async fn execute_batch(&self, sql: &str) -> Result<(), Error> {
        let mut stream = self.stream.lock().await;
        execute_batch_on(&self.endpoint, &self.meta, &mut stream, sql).await
    }

    /// Run statements in one request in the transaction, each only if the one before it
    /// succeeded; see [`Database::batch`](super::Database::batch).
    ///
    /// # Errors
    ///
    /// As `Database::batch`, plus [`Error::StreamClosed`].
    pub async fn batch<S: Into<Statement>>(
        &self,
        statements: impl IntoIterator<Item = S>,
    ) -> Result<Vec<Rows>, Error> {
        let statements: Vec<Statement> = statements.into_iter().map(Into::into).collect();
        let mut stream = self.stream.lock().await;
        batch_on(
            &self.endpoint,
            &self.meta,
            &mut stream,
            statements,
            BatchMode::Sequential,
        )
        .await
    }

    /// Commit (a `COMMIT` span) and close the stream.
    ///
    /// # Errors
    ///
    /// The commit failed (the transaction is then rolled back by the server), or the
    /// errors of [`Error`].
    pub async fn commit(self) -> Result<(), Error> {
        self.end("COMMIT", "committed").await
    }

    /// Roll back (a `ROLLBACK` span) and close the stream.
    ///
    /// # Errors
    ///
    /// The errors of [`Error`]; the server rolls back a stream it closes anyway.
    pub async fn rollback(self) -> Result<(), Error> {
        self.end("ROLLBACK", "rolled back").await
    }

    async fn end(&self, sql: &'static str, done: &'static str) -> Result<(), Error> {
        let span = self.meta.sql(sql).start();
        let mut stream = self.stream.lock().await;
        let outcome = async {
            let requests = vec![
                StreamRequest::Execute {
                    stmt: Stmt::new(sql, Params::None, false),
                },
                StreamRequest::Close,
            ];
            let mut results = stream.call(&self.endpoint, requests).await?;
            match results.remove(0) {
                StreamResult::Ok { .. } => Ok(()),
                StreamResult::Error { error } => Err(Error::Sql {
                    code: error.code,
                    message: error.message,
                    step: None,
                }),
                StreamResult::None => {
                    Err(Error::StreamClosed("the server did not run the request"))
                }
            }
        }
        .await;
        *stream = StreamState::Closed(done);
        match &outcome {
            Ok(()) => span.end(),
            Err(e) => fail(span, e),
        }
        outcome
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        let Ok(mut stream) = self.stream.try_lock() else {
            return;
        };
        let StreamState::Open { baton, base_url } =
            std::mem::replace(&mut *stream, StreamState::Closed("dropped"))
        else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let endpoint = self.endpoint.clone();
        runtime.spawn(async move {
            let requests = [
                StreamRequest::Execute {
                    stmt: Stmt::new("ROLLBACK", Params::None, false),
                },
                StreamRequest::Close,
            ];
            let _ = endpoint
                .pipeline(base_url.as_deref(), Some(&baton), &requests)
                .await;
        });
    }
}

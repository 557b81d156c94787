//! [`Connection`]: a `redis::aio::ConnectionLike` that traces every command.

use std::fmt;
use std::sync::Arc;

use opentelemetry::StringValue;
use redis::aio::{
    ConnectionLike, ConnectionManager, ConnectionManagerConfig, MultiplexedConnection,
};
use redis::{Client, Cmd, ConnectionAddr, ConnectionInfo, Pipeline, RedisFuture, Value};

use super::command::{cap, describe};
use super::error::{fail, fail_reply};
use crate::db::DbOperation;

const DEFAULT_PORT: u16 = 6379;

/// What every span of one connection carries.
#[derive(Debug)]
struct Meta {
    namespace: StringValue,
    server_address: Option<StringValue>,
    server_port: Option<u16>,
}

impl Meta {
    fn from_info(info: &ConnectionInfo) -> Meta {
        let (address, port) = match info.addr() {
            ConnectionAddr::Tcp(host, port) => (Some(host.clone()), Some(*port)),
            ConnectionAddr::TcpTls { host, port, .. } => (Some(host.clone()), Some(*port)),
            ConnectionAddr::Unix(path) => (Some(path.to_string_lossy().into_owned()), None),
            _ => (None, None),
        };
        Meta {
            namespace: info.redis_settings().db().to_string().into(),
            server_address: address.map(Into::into),
            server_port: port.filter(|p| *p != DEFAULT_PORT),
        }
    }

    fn operation(&self) -> DbOperation {
        let mut op = DbOperation::new("redis").namespace(self.namespace.clone());
        if let Some(address) = &self.server_address {
            op = op.server_address(address.clone());
        }
        if let Some(port) = self.server_port {
            op = op.server_port(port);
        }
        op
    }

    fn command(&self, cmd: &Cmd) -> DbOperation {
        let op = self.operation();
        match describe(cmd) {
            Some(d) => {
                let mut op = op
                    .span_name(match &d.procedure {
                        Some(p) => format!("{} {p}", d.name),
                        None => d.name.clone(),
                    })
                    .operation_name(d.name)
                    .query_text(d.text);
                if let Some(p) = d.procedure {
                    op = op.stored_procedure_name(p);
                }
                op
            }
            None => op.span_name("redis"),
        }
    }

    fn pipeline(&self, pipeline: &Pipeline) -> DbOperation {
        let prefix = if pipeline.is_transaction() {
            "MULTI"
        } else {
            "PIPELINE"
        };
        let described: Vec<_> = pipeline.cmd_iter().filter_map(describe).collect();
        let same_name = described
            .first()
            .filter(|first| described.iter().all(|d| d.name == first.name))
            .map(|first| first.name.clone());
        let name = match same_name {
            Some(command) => format!("{prefix} {command}"),
            None => prefix.to_owned(),
        };
        let same_text = described
            .first()
            .filter(|first| described.iter().all(|d| d.text == first.text))
            .map(|first| first.text.clone());
        let text = match same_text {
            Some(text) => text,
            None => {
                let mut joined = String::new();
                for d in &described {
                    if !joined.is_empty() {
                        joined.push_str("; ");
                    }
                    joined.push_str(&d.text);
                    if joined.len() > crate::db::sanitize::MAX_TEXT_LEN {
                        break;
                    }
                }
                cap(joined)
            }
        };
        self.operation()
            .span_name(name.clone())
            .operation_name(name)
            .query_text(text)
            .batch_size(pipeline.len() as u64)
    }
}

/// A Redis async connection whose commands are traced: wraps a
/// [`MultiplexedConnection`], a [`ConnectionManager`] or any other
/// [`redis::aio::ConnectionLike`], and is one itself, so every redis API works on it
/// (`redis::AsyncCommands`, `cmd(..).query_async`, `pipe()..query_async`).
///
/// One CLIENT span per command, named by the command (`GET`), with
/// `db.system.name = "redis"`, `db.namespace` (the database index the connection was
/// opened with, e.g. `"0"`; a later `SELECT` is not followed), `db.operation.name` (the
/// command as written), `db.query.text` (keys kept, values `?`: `SET user:1 ?`),
/// `db.stored_procedure.name` (the script SHA of `EVALSHA`, the function of `FCALL`),
/// `server.address` and `server.port` (when not 6379). A pipeline is one span named
/// `PIPELINE`, a transaction (`pipe().atomic()`) one named `MULTI` — `PIPELINE SET` /
/// `MULTI SET` when every command is the same — with `db.operation.batch.size`.
///
/// Errors set `error.type` and, for server errors, `db.response.status_code` to the
/// error prefix (`WRONGTYPE`); connection failures give `connection_refused`, `timeout`,
/// `connection_dropped` or `io`.
#[derive(Clone)]
pub struct Connection<C> {
    inner: C,
    meta: Arc<Meta>,
}

impl<C> fmt::Debug for Connection<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("namespace", &self.meta.namespace.as_str())
            .field(
                "server_address",
                &self.meta.server_address.as_ref().map(|a| a.as_str()),
            )
            .field("server_port", &self.meta.server_port)
            .finish_non_exhaustive()
    }
}

/// Run `connect` under a `connect` span (no duration metric: connecting is not an
/// operation), failed with `error.type` when connecting fails.
async fn traced_connect<T>(
    meta: &Meta,
    connect: impl Future<Output = redis::RedisResult<T>>,
) -> redis::RedisResult<T> {
    let span = meta
        .operation()
        .span_name("connect")
        .without_duration_metric()
        .start();
    match connect.await {
        Ok(conn) => {
            span.end();
            Ok(conn)
        }
        Err(e) => {
            fail(span, &e);
            Err(e)
        }
    }
}

impl<C> Connection<C> {
    /// Wrap a connection opened from `info` (which gives the server and database index
    /// for the spans).
    pub fn new(inner: C, info: &ConnectionInfo) -> Self {
        Connection {
            inner,
            meta: Arc::new(Meta::from_info(info)),
        }
    }

    /// The wrapped connection.
    pub fn get_ref(&self) -> &C {
        &self.inner
    }

    /// The wrapped connection, mutably (commands sent through it are not traced).
    pub fn get_mut(&mut self) -> &mut C {
        &mut self.inner
    }

    /// Unwrap.
    pub fn into_inner(self) -> C {
        self.inner
    }
}

impl Connection<MultiplexedConnection> {
    /// Open a multiplexed connection (a `connect` span, failed when connecting fails).
    ///
    /// # Errors
    ///
    /// redis' error when the server cannot be reached.
    pub async fn multiplexed(client: &Client) -> redis::RedisResult<Self> {
        let meta = Meta::from_info(client.get_connection_info());
        let inner = traced_connect(&meta, client.get_multiplexed_async_connection()).await?;
        Ok(Connection {
            inner,
            meta: Arc::new(meta),
        })
    }
}

impl Connection<ConnectionManager> {
    /// Open a [`ConnectionManager`] (reconnects by itself), connecting now (a `connect`
    /// span).
    ///
    /// # Errors
    ///
    /// redis' error when the server cannot be reached.
    pub async fn manager(client: Client) -> redis::RedisResult<Self> {
        Self::manager_with_config(client, ConnectionManagerConfig::new()).await
    }

    /// [`manager`](Self::manager) with a configuration.
    ///
    /// # Errors
    ///
    /// redis' error when the server cannot be reached.
    pub async fn manager_with_config(
        client: Client,
        config: ConnectionManagerConfig,
    ) -> redis::RedisResult<Self> {
        let meta = Meta::from_info(client.get_connection_info());
        let inner =
            traced_connect(&meta, ConnectionManager::new_with_config(client, config)).await?;
        Ok(Connection {
            inner,
            meta: Arc::new(meta),
        })
    }

    /// A [`ConnectionManager`] that connects on the first command; a server that cannot
    /// be reached then fails that command's span (`error.type = "connection_refused"`).
    ///
    /// # Errors
    ///
    /// redis' error for an invalid configuration.
    pub fn manager_lazy(
        client: Client,
        config: ConnectionManagerConfig,
    ) -> redis::RedisResult<Self> {
        let meta = Meta::from_info(client.get_connection_info());
        let inner = ConnectionManager::new_lazy_with_config(client, config)?;
        Ok(Connection {
            inner,
            meta: Arc::new(meta),
        })
    }
}

/// The first server error among pipeline replies (looking into a transaction's `EXEC`
/// reply).
fn first_server_error(values: &[Value]) -> Option<&redis::ServerError> {
    values.iter().find_map(|v| match v {
        Value::ServerError(e) => Some(e),
        Value::Array(items) => first_server_error(items),
        _ => None,
    })
}

impl<C> ConnectionLike for Connection<C>
where
    C: ConnectionLike + Send,
{
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        let span = self.meta.command(cmd).start();
        Box::pin(async move {
            let result = self.inner.req_packed_command(cmd).await;
            match &result {
                Ok(Value::ServerError(e)) => fail_reply(span, e),
                Ok(_) => span.end(),
                Err(e) => fail(span, e),
            }
            result
        })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        let span = self.meta.pipeline(pipeline).start();
        Box::pin(async move {
            let result = self
                .inner
                .req_packed_commands(pipeline, offset, count)
                .await;
            match &result {
                Ok(values) => match first_server_error(values) {
                    Some(e) => fail_reply(span, e),
                    None => span.end(),
                },
                Err(e) => fail(span, e),
            }
            result
        })
    }

    fn get_db(&self) -> i64 {
        self.inner.get_db()
    }
}

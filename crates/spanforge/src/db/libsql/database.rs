//! [`Database`]: an opened libSQL database, the source of instrumented connections.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use opentelemetry::StringValue;

use super::connection::Connection;
use super::pool::PoolBuilder;
use crate::db::DbOperation;

/// What every span of one database carries.
#[derive(Clone)]
pub(crate) struct Meta {
    pub(crate) system: StringValue,
    pub(crate) namespace: Option<StringValue>,
    pub(crate) server_address: Option<StringValue>,
    pub(crate) server_port: Option<u16>,
}

impl Meta {
    /// The operation for one SQL call, sanitized.
    pub(crate) fn sql(&self, sql: &str) -> DbOperation {
        let mut op = DbOperation::sql(self.system.clone(), sql);
        if let Some(ns) = &self.namespace {
            op = op.namespace(ns.clone());
        }
        if let Some(address) = &self.server_address {
            op = op.server_address(address.clone());
        }
        if let Some(port) = self.server_port {
            op = op.server_port(port);
        }
        op
    }
}

fn shared(s: impl AsRef<str>) -> StringValue {
    StringValue::from(Arc::<str>::from(s.as_ref()))
}

/// A libSQL database whose connections are instrumented. Cheap to clone.
///
/// Every span carries `db.system.name = "sqlite"` (libSQL is SQLite's fork; change it with
/// [`with_system_name`](Self::with_system_name)) and `db.namespace` = the database file's
/// name (`app.db`, without its directory; change it with
/// [`with_namespace`](Self::with_namespace)).
#[derive(Clone)]
pub struct Database {
    inner: Arc<libsql::Database>,
    meta: Arc<Meta>,
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Database")
            .field("system", &self.meta.system.as_str())
            .field(
                "namespace",
                &self.meta.namespace.as_ref().map(|n| n.as_str()),
            )
            .finish_non_exhaustive()
    }
}

impl Database {
    /// Open (or create) the database file at `path`; `":memory:"` opens an in-memory one.
    ///
    /// # Errors
    ///
    /// libSQL's error when the file cannot be opened.
    pub async fn open_local(path: impl AsRef<Path>) -> Result<Database, libsql::Error> {
        let path = path.as_ref();
        let db = libsql::Builder::new_local(path).build().await?;
        let namespace = match path.file_name() {
            Some(name) => name.to_string_lossy().into_owned(),
            None => path.to_string_lossy().into_owned(),
        };
        Ok(Database::from_libsql(db).with_namespace(namespace))
    }

    /// Wrap a database opened with libSQL's own builder — for example a remote Turso
    /// database in an application that enables libSQL's `remote` feature itself (see
    /// `docs/database.md`). No namespace is set: add one with
    /// [`with_namespace`](Self::with_namespace), and the host with
    /// [`with_server`](Self::with_server).
    pub fn from_libsql(db: libsql::Database) -> Database {
        Database {
            inner: Arc::new(db),
            meta: Arc::new(Meta {
                system: StringValue::from("sqlite"),
                namespace: None,
                server_address: None,
                server_port: None,
            }),
        }
    }

    /// Set `db.namespace`.
    pub fn with_namespace(mut self, namespace: impl AsRef<str>) -> Database {
        Arc::make_mut(&mut self.meta).namespace = Some(shared(namespace));
        self
    }

    /// Set `db.system.name` (default `sqlite`).
    pub fn with_system_name(mut self, system_name: impl AsRef<str>) -> Database {
        Arc::make_mut(&mut self.meta).system = shared(system_name);
        self
    }

    /// Set `server.address` and, when it is not the default, `server.port` (for a remote
    /// database).
    pub fn with_server(mut self, address: impl AsRef<str>, port: Option<u16>) -> Database {
        let meta = Arc::make_mut(&mut self.meta);
        meta.server_address = Some(shared(address));
        meta.server_port = port;
        self
    }

    /// `db.namespace` of this database's spans.
    pub fn namespace(&self) -> Option<&str> {
        self.meta.namespace.as_ref().map(|n| n.as_str())
    }

    /// Open a connection.
    ///
    /// # Errors
    ///
    /// libSQL's error when the connection cannot be opened.
    pub fn connect(&self) -> Result<Connection, libsql::Error> {
        Ok(Connection::new(self.inner.connect()?, self.meta.clone()))
    }

    /// A pool of connections to this database, reporting the `db.client.connection.*`
    /// metrics; see [`Pool`](super::Pool).
    pub fn pool(&self) -> PoolBuilder {
        PoolBuilder::new(self.clone())
    }

    /// The libSQL database.
    pub fn inner(&self) -> &libsql::Database {
        &self.inner
    }
}

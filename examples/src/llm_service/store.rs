//! Storage of prompts and runs: libSQL — a local file, or a remote Turso database
//! (`libsql://…` + `TURSO_AUTH_TOKEN`) — with an optional Redis cache of each prompt's
//! latest version. Every query and every cache command is a span.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use spanforge::db::libsql::driver::params;
use spanforge::db::libsql::{Database, Pool, PoolError};
use spanforge::db::redis::Connection as RedisConnection;
use spanforge::db::redis::driver::aio::{ConnectionManager, ConnectionManagerConfig};
use spanforge::db::redis::driver::{self as redis, AsyncCommands};
use spanforge::db::turso;

/// One version of a prompt template.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Prompt {
    /// The prompt's name, e.g. `greet`.
    pub name: String,
    /// Its version, starting at 1.
    pub version: u32,
    /// The template with `{{variable}}` placeholders.
    pub template: String,
}

/// One execution of a prompt.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    /// Sequence number across all runs.
    pub id: u64,
    /// The prompt's name.
    pub prompt: String,
    /// The version that was run.
    pub version: u32,
    /// The rendered input.
    pub input: String,
    /// The model's answer.
    pub output: String,
    /// The model that answered, usage and cost (absent for runs with no model call).
    #[serde(flatten)]
    pub usage: RunUsage,
}

/// What a run cost: stored with the run so `GET /prompts/{name}/runs` can be summed.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RunUsage {
    /// The model that answered.
    pub model: Option<String>,
    /// Input tokens (including cached ones).
    pub input_tokens: Option<i64>,
    /// Output tokens (including reasoning).
    pub output_tokens: Option<i64>,
    /// Cost in US dollars; absent when the model's price is unknown.
    pub cost_usd: Option<f64>,
}

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The prompt already has this version or a later one.
    #[error("prompt {name} already has version {version} or later")]
    Conflict {
        /// The prompt.
        name: String,
        /// The version that was asked for.
        version: u32,
    },
    /// The remote database URL or token is unusable.
    #[error("remote database: {0}")]
    RemoteConfig(#[from] turso::ConfigError),
    /// The remote database failed.
    #[error("remote database: {0}")]
    Remote(#[from] turso::Error),
    /// A row of the remote database did not have the expected shape.
    #[error("remote database: {0}")]
    RemoteColumn(#[from] turso::ColumnError),
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] spanforge::db::libsql::driver::Error),
    /// No database connection was free in time.
    #[error("database pool: {0}")]
    Pool(#[from] PoolError),
    /// Building the pool failed.
    #[error("database pool: {0}")]
    PoolBuild(#[from] spanforge::db::libsql::PoolBuildError),
    /// Redis failed (only when connecting: cache failures at run time fall back to the
    /// database).
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
}

const SCHEMA: &str = "\
CREATE TABLE IF NOT EXISTS prompts (
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    template TEXT NOT NULL,
    PRIMARY KEY (name, version)
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    prompt TEXT NOT NULL,
    version INTEGER NOT NULL,
    input TEXT NOT NULL,
    output TEXT NOT NULL
)";

/// Columns added after the first schema; an existing database gets them on start.
const RUN_USAGE_COLUMNS: [&str; 4] = [
    "ALTER TABLE runs ADD COLUMN model TEXT",
    "ALTER TABLE runs ADD COLUMN input_tokens INTEGER",
    "ALTER TABLE runs ADD COLUMN output_tokens INTEGER",
    "ALTER TABLE runs ADD COLUMN cost_usd REAL",
];

/// Where prompts and runs live.
#[derive(Debug, Clone)]
enum Backend {
    /// A local libSQL file, through a pool of connections.
    Local(Pool),
    /// A remote Turso / libSQL server database, over Hrana over HTTP.
    Remote(turso::Database),
}

/// Prompts and runs, shared between requests. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    backend: Backend,
    cache: Option<RedisConnection<ConnectionManager>>,
}

/// Whether `database_url` names a remote database rather than a file.
fn is_remote(database_url: &str) -> bool {
    ["libsql://", "https://", "http://", "wss://", "ws://"]
        .iter()
        .any(|scheme| database_url.starts_with(scheme))
}

fn latest_key(name: &str) -> String {
    format!("prompt:{name}:latest")
}

impl Store {
    /// Open the database named by `database_url` — a file path (`llm_service.db`,
    /// `file:data/app.db`, `:memory:`), or a remote database without a token (see
    /// [`open_with_token`](Self::open_with_token)) — and create the tables if needed.
    ///
    /// # Errors
    ///
    /// Database errors.
    pub async fn open(database_url: &str) -> Result<Store, StoreError> {
        Store::open_with_token(database_url, None).await
    }

    /// Open the database named by `database_url` and create the tables if needed: a file
    /// path, or a remote database — `libsql://<db>-<org>.turso.io` (Turso; HTTPS, which
    /// needs a reqwest TLS feature in the build), `http://host:port` (a libSQL server) —
    /// with `auth_token` (Turso's `TURSO_AUTH_TOKEN`).
    ///
    /// # Errors
    ///
    /// An unusable URL or token; database errors (a bad token shows here, as HTTP 401).
    pub async fn open_with_token(
        database_url: &str,
        auth_token: Option<&str>,
    ) -> Result<Store, StoreError> {
        if is_remote(database_url) {
            let db = turso::Database::open(database_url, auth_token)?;
            db.execute_batch(SCHEMA).await?;
            for column in RUN_USAGE_COLUMNS {
                // "duplicate column name" on a database that already has it.
                let _ = db.execute(column, ()).await;
            }
            return Ok(Store {
                backend: Backend::Remote(db),
                cache: None,
            });
        }
        let path = database_url.strip_prefix("file:").unwrap_or(database_url);
        let db = Database::open_local(path).await?;
        let conn = db.connect()?;
        conn.execute_batch(SCHEMA).await?;
        for column in RUN_USAGE_COLUMNS {
            // "duplicate column name" on a database that already has it.
            let _ = conn.execute(column, ()).await;
        }
        drop(conn);
        let pool = db.pool().name("llm_service").max_size(8).build()?;
        Ok(Store {
            backend: Backend::Local(pool),
            cache: None,
        })
    }

    /// Whether the data lives in a remote database.
    pub fn is_remote(&self) -> bool {
        matches!(self.backend, Backend::Remote(_))
    }

    /// Cache each prompt's latest version in Redis at `redis_url`. The connection manager
    /// reconnects by itself; while Redis is down, reads fall back to the database.
    ///
    /// # Errors
    ///
    /// The Redis URL is invalid, or the server cannot be reached now.
    pub async fn with_cache(mut self, redis_url: &str) -> Result<Store, StoreError> {
        let client = redis::Client::open(redis_url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(1)))
            .set_number_of_retries(2);
        self.cache = Some(RedisConnection::manager_with_config(client, config).await?);
        Ok(self)
    }

    /// Whether a Redis cache is configured.
    pub fn has_cache(&self) -> bool {
        self.cache.is_some()
    }

    /// Store a new version of the prompt; versions must grow. Runs in a transaction so two
    /// concurrent writers cannot both add the same version.
    ///
    /// # Errors
    ///
    /// [`StoreError::Conflict`] when the version is not newer than the latest.
    pub async fn add_prompt(&self, prompt: &Prompt) -> Result<(), StoreError> {
        let pool = match &self.backend {
            Backend::Local(pool) => pool,
            Backend::Remote(db) => {
                remote_add_prompt(db, prompt).await?;
                self.cache_prompt(prompt).await;
                return Ok(());
            }
        };
        let conn = pool.get().await?;
        let tx = conn
            .transaction_with_behavior(
                spanforge::db::libsql::driver::TransactionBehavior::Immediate,
            )
            .await?;
        let mut latest = tx
            .query(
                "SELECT max(version) FROM prompts WHERE name = ?1",
                [prompt.name.as_str()],
            )
            .await?;
        let current: Option<u32> = match latest.next().await? {
            Some(row) => row.get::<Option<u32>>(0)?,
            None => None,
        };
        drop(latest);
        if current.is_some_and(|v| v >= prompt.version) {
            tx.rollback().await?;
            return Err(StoreError::Conflict {
                name: prompt.name.clone(),
                version: prompt.version,
            });
        }
        tx.execute(
            INSERT_PROMPT,
            params![
                prompt.name.as_str(),
                prompt.version,
                prompt.template.as_str()
            ],
        )
        .await?;
        tx.commit().await?;
        self.cache_prompt(prompt).await;
        Ok(())
    }

    /// Make `prompt` the cached latest version of its name (when there is a cache).
    async fn cache_prompt(&self, prompt: &Prompt) {
        if let Some(cache) = &self.cache
            && let Ok(json) = serde_json::to_string(prompt)
        {
            let mut cache = cache.clone();
            if let Err(e) = cache.set::<_, _, ()>(latest_key(&prompt.name), json).await {
                tracing::warn!(error = %e, "prompt cache not updated");
            }
        }
    }

    /// The given version of `name`, or its latest (from the cache when there is one).
    ///
    /// # Errors
    ///
    /// Database errors.
    pub async fn prompt(
        &self,
        name: &str,
        version: Option<u32>,
    ) -> Result<Option<Prompt>, StoreError> {
        let mut cache = self.cache.clone();
        if version.is_none()
            && let Some(cache) = &mut cache
        {
            match cache.get::<_, Option<String>>(latest_key(name)).await {
                Ok(Some(json)) => {
                    if let Ok(prompt) = serde_json::from_str::<Prompt>(&json) {
                        return Ok(Some(prompt));
                    }
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "prompt cache unavailable"),
            }
        }
        let prompt = match &self.backend {
            Backend::Local(pool) => local_prompt(pool, name, version).await?,
            Backend::Remote(db) => remote_prompt(db, name, version).await?,
        };
        if let (Some(prompt), None, Some(cache)) = (&prompt, version, &mut cache)
            && let Ok(json) = serde_json::to_string(prompt)
            && let Err(e) = cache.set::<_, _, ()>(latest_key(name), json).await
        {
            tracing::warn!(error = %e, "prompt cache not updated");
        }
        Ok(prompt)
    }

    /// Record a run and return it with its id.
    ///
    /// # Errors
    ///
    /// Database errors.
    pub async fn add_run(
        &self,
        prompt: &Prompt,
        input: String,
        output: String,
        usage: RunUsage,
    ) -> Result<Run, StoreError> {
        let id = match &self.backend {
            Backend::Local(pool) => local_add_run(pool, prompt, &input, &output, &usage).await?,
            Backend::Remote(db) => remote_add_run(db, prompt, &input, &output, &usage).await?,
        };
        Ok(Run {
            id: u64::try_from(id).unwrap_or_default(),
            prompt: prompt.name.clone(),
            version: prompt.version,
            input,
            output,
            usage,
        })
    }

    /// Every run of `name`, oldest first.
    ///
    /// # Errors
    ///
    /// Database errors.
    pub async fn runs(&self, name: &str) -> Result<Vec<Run>, StoreError> {
        match &self.backend {
            Backend::Local(pool) => local_runs(pool, name).await,
            Backend::Remote(db) => remote_runs(db, name).await,
        }
    }

    /// Readiness: the database answers `SELECT 1` (a pooled connection for a local file,
    /// an HTTP round trip — token checked — for a remote one).
    ///
    /// # Errors
    ///
    /// What failed.
    pub async fn ping_database(&self) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Local(pool) => {
                let conn = pool.get().await?;
                let mut rows = conn.query("SELECT 1", ()).await?;
                while rows.next().await?.is_some() {}
            }
            Backend::Remote(db) => {
                db.query("SELECT 1", ()).await?;
            }
        }
        Ok(())
    }

    /// Readiness of the cache: `PING`. `Ok` when no cache is configured.
    ///
    /// # Errors
    ///
    /// What failed.
    pub async fn ping_cache(&self) -> Result<(), StoreError> {
        if let Some(cache) = &self.cache {
            let mut cache = cache.clone();
            redis::cmd("PING").query_async::<String>(&mut cache).await?;
        }
        Ok(())
    }
}

const SELECT_VERSION: &str =
    "SELECT name, version, template FROM prompts WHERE name = ?1 AND version = ?2";
const SELECT_LATEST: &str = "SELECT name, version, template FROM prompts WHERE name = ?1 \
                             ORDER BY version DESC LIMIT 1";
const INSERT_PROMPT: &str = "INSERT INTO prompts (name, version, template) VALUES (?1, ?2, ?3)";
const INSERT_RUN: &str = "INSERT INTO runs (prompt, version, input, output, model, input_tokens, \
                          output_tokens, cost_usd) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
                          RETURNING id";
const SELECT_RUNS: &str = "SELECT id, prompt, version, input, output, model, input_tokens, \
                           output_tokens, cost_usd FROM runs WHERE prompt = ?1 ORDER BY id";

async fn local_prompt(
    pool: &Pool,
    name: &str,
    version: Option<u32>,
) -> Result<Option<Prompt>, StoreError> {
    let conn = pool.get().await?;
    let mut rows = match version {
        Some(v) => conn.query(SELECT_VERSION, params![name, v]).await?,
        None => conn.query(SELECT_LATEST, [name]).await?,
    };
    let prompt = match rows.next().await? {
        Some(row) => Some(Prompt {
            name: row.get(0)?,
            version: row.get(1)?,
            template: row.get(2)?,
        }),
        None => None,
    };
    Ok(prompt)
}

async fn remote_prompt(
    db: &turso::Database,
    name: &str,
    version: Option<u32>,
) -> Result<Option<Prompt>, StoreError> {
    let rows = match version {
        Some(v) => db.query(SELECT_VERSION, (name, v)).await?,
        None => db.query(SELECT_LATEST, [name]).await?,
    };
    let prompt = match rows.first() {
        Some(row) => Some(Prompt {
            name: row.get(0)?,
            version: row.get(1)?,
            template: row.get(2)?,
        }),
        None => None,
    };
    Ok(prompt)
}

/// `add_prompt` on a remote database: the same transaction, over HTTP (the stream is kept
/// between requests by the server's baton).
async fn remote_add_prompt(db: &turso::Database, prompt: &Prompt) -> Result<(), StoreError> {
    let tx = db
        .transaction_with_behavior(turso::TransactionBehavior::Immediate)
        .await?;
    let latest = tx
        .query(
            "SELECT max(version) FROM prompts WHERE name = ?1",
            [prompt.name.as_str()],
        )
        .await?;
    let current: Option<u32> = match latest.first() {
        Some(row) => row.get(0)?,
        None => None,
    };
    if current.is_some_and(|v| v >= prompt.version) {
        tx.rollback().await?;
        return Err(StoreError::Conflict {
            name: prompt.name.clone(),
            version: prompt.version,
        });
    }
    tx.execute(
        INSERT_PROMPT,
        (
            prompt.name.as_str(),
            prompt.version,
            prompt.template.as_str(),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn local_add_run(
    pool: &Pool,
    prompt: &Prompt,
    input: &str,
    output: &str,
    usage: &RunUsage,
) -> Result<i64, StoreError> {
    let conn = pool.get().await?;
    let mut inserted = conn
        .query(
            INSERT_RUN,
            params![
                prompt.name.as_str(),
                prompt.version,
                input,
                output,
                usage.model.clone(),
                usage.input_tokens,
                usage.output_tokens,
                usage.cost_usd
            ],
        )
        .await?;
    let id: i64 = match inserted.next().await? {
        Some(row) => row.get(0)?,
        None => conn.last_insert_rowid(),
    };
    Ok(id)
}

async fn remote_add_run(
    db: &turso::Database,
    prompt: &Prompt,
    input: &str,
    output: &str,
    usage: &RunUsage,
) -> Result<i64, StoreError> {
    let inserted = db
        .query(
            INSERT_RUN,
            (
                prompt.name.as_str(),
                prompt.version,
                input,
                output,
                usage.model.clone(),
                usage.input_tokens,
                usage.output_tokens,
                usage.cost_usd,
            ),
        )
        .await?;
    let id = match inserted.first() {
        Some(row) => row.get(0)?,
        None => inserted.last_insert_rowid().unwrap_or_default(),
    };
    Ok(id)
}

async fn local_runs(pool: &Pool, name: &str) -> Result<Vec<Run>, StoreError> {
    let conn = pool.get().await?;
    let mut rows = conn.query(SELECT_RUNS, [name]).await?;
    let mut runs = Vec::new();
    while let Some(row) = rows.next().await? {
        runs.push(Run {
            id: u64::try_from(row.get::<i64>(0)?).unwrap_or_default(),
            prompt: row.get(1)?,
            version: row.get(2)?,
            input: row.get(3)?,
            output: row.get(4)?,
            usage: RunUsage {
                model: row.get(5)?,
                input_tokens: row.get(6)?,
                output_tokens: row.get(7)?,
                cost_usd: row.get(8)?,
            },
        });
    }
    Ok(runs)
}

async fn remote_runs(db: &turso::Database, name: &str) -> Result<Vec<Run>, StoreError> {
    let rows = db.query(SELECT_RUNS, [name]).await?;
    let mut runs = Vec::with_capacity(rows.len());
    for row in &rows {
        runs.push(Run {
            id: u64::try_from(row.get::<i64>(0)?).unwrap_or_default(),
            prompt: row.get(1)?,
            version: row.get(2)?,
            input: row.get(3)?,
            output: row.get(4)?,
            usage: RunUsage {
                model: row.get(5)?,
                input_tokens: row.get(6)?,
                output_tokens: row.get(7)?,
                cost_usd: row.get(8)?,
            },
        });
    }
    Ok(runs)
}

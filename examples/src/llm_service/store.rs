//! Storage of prompts and runs: libSQL (a local file), with an optional Redis cache of
//! each prompt's latest version. Every query and every cache command is a span.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use spanforge::db::libsql::driver::params;
use spanforge::db::libsql::{Database, Pool, PoolError};
use spanforge::db::redis::Connection as RedisConnection;
use spanforge::db::redis::driver::aio::{ConnectionManager, ConnectionManagerConfig};
use spanforge::db::redis::driver::{self as redis, AsyncCommands};

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
    /// `DATABASE_URL` names a remote database, which this build cannot open.
    #[error(
        "DATABASE_URL={0:?} is a remote libSQL database; this build opens local files only \
         (remote Turso needs libSQL's `remote` feature, see docs/database.md)"
    )]
    RemoteUnsupported(String),
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

/// Prompts and runs, shared between requests. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: Pool,
    cache: Option<RedisConnection<ConnectionManager>>,
}

fn latest_key(name: &str) -> String {
    format!("prompt:{name}:latest")
}

impl Store {
    /// Open the database named by `database_url` — a file path (`llm_service.db`,
    /// `file:data/app.db`, `:memory:`) — and create the tables if needed.
    ///
    /// # Errors
    ///
    /// [`StoreError::RemoteUnsupported`] for `libsql://`, `https://` or `wss://` URLs;
    /// database errors otherwise.
    pub async fn open(database_url: &str) -> Result<Store, StoreError> {
        if ["libsql://", "https://", "http://", "wss://", "ws://"]
            .iter()
            .any(|scheme| database_url.starts_with(scheme))
        {
            return Err(StoreError::RemoteUnsupported(database_url.to_owned()));
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
        Ok(Store { pool, cache: None })
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
        let conn = self.pool.get().await?;
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
            "INSERT INTO prompts (name, version, template) VALUES (?1, ?2, ?3)",
            params![
                prompt.name.as_str(),
                prompt.version,
                prompt.template.as_str()
            ],
        )
        .await?;
        tx.commit().await?;
        if let Some(cache) = &self.cache
            && let Ok(json) = serde_json::to_string(prompt)
        {
            let mut cache = cache.clone();
            if let Err(e) = cache.set::<_, _, ()>(latest_key(&prompt.name), json).await {
                tracing::warn!(error = %e, "prompt cache not updated");
            }
        }
        Ok(())
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
        let conn = self.pool.get().await?;
        let mut rows = match version {
            Some(v) => {
                conn.query(
                    "SELECT name, version, template FROM prompts WHERE name = ?1 AND version = ?2",
                    params![name, v],
                )
                .await?
            }
            None => {
                conn.query(
                    "SELECT name, version, template FROM prompts WHERE name = ?1 \
                     ORDER BY version DESC LIMIT 1",
                    [name],
                )
                .await?
            }
        };
        let prompt = match rows.next().await? {
            Some(row) => Some(Prompt {
                name: row.get(0)?,
                version: row.get(1)?,
                template: row.get(2)?,
            }),
            None => None,
        };
        drop(rows);
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
        let conn = self.pool.get().await?;
        let mut inserted = conn
            .query(
                "INSERT INTO runs (prompt, version, input, output, model, input_tokens, \
                 output_tokens, cost_usd) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id",
                params![
                    prompt.name.as_str(),
                    prompt.version,
                    input.as_str(),
                    output.as_str(),
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
        drop(inserted);
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
        let conn = self.pool.get().await?;
        let mut rows = conn
            .query(
                "SELECT id, prompt, version, input, output, model, input_tokens, output_tokens, \
                 cost_usd FROM runs WHERE prompt = ?1 ORDER BY id",
                [name],
            )
            .await?;
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

    /// Readiness: a connection can be had and answers `SELECT 1`.
    ///
    /// # Errors
    ///
    /// What failed.
    pub async fn ping_database(&self) -> Result<(), StoreError> {
        let conn = self.pool.get().await?;
        let mut rows = conn.query("SELECT 1", ()).await?;
        while rows.next().await?.is_some() {}
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

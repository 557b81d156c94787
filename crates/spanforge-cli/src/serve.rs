//! `spanforge serve`: OTLP in (gRPC and HTTP), a local libSQL store, the web UI and JSON API out.
//!
//! [`Server`] is the whole backend in-process: the binary runs it until Ctrl-C, the quickstart
//! and the tests start it on their own ports.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::duration::{parse_duration, parse_size};
use crate::store::{Retention, Store, StoreError};
use crate::{api, ingest, ui};

/// How often retention runs.
const RETENTION_EVERY: Duration = Duration::from_secs(60);

/// Arguments of `spanforge serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The store file (created when missing).
    #[arg(long, env = "SPANFORGE_DB", default_value = "spanforge.db")]
    pub db: PathBuf,
    /// OTLP/gRPC listen address.
    #[arg(long, env = "SPANFORGE_OTLP_GRPC", default_value = "127.0.0.1:4317")]
    pub grpc: SocketAddr,
    /// OTLP/HTTP listen address.
    #[arg(long, env = "SPANFORGE_OTLP_HTTP", default_value = "127.0.0.1:4318")]
    pub http: SocketAddr,
    /// Web UI and JSON API listen address.
    #[arg(long, env = "SPANFORGE_UI", default_value = "127.0.0.1:7318")]
    pub ui: SocketAddr,
    /// Delete data older than this (`0s` keeps everything).
    #[arg(long, env = "SPANFORGE_RETENTION", default_value = "7d", value_parser = parse_duration)]
    pub retention: Duration,
    /// Delete the oldest traces when the store grows past this (`0` for no limit).
    #[arg(long, env = "SPANFORGE_MAX_SIZE", default_value = "1GiB", value_parser = parse_size)]
    pub max_size: u64,
}

impl ServeArgs {
    fn config(&self) -> ServeConfig {
        ServeConfig {
            db: self.db.clone(),
            grpc: self.grpc,
            http: self.http,
            ui: self.ui,
            retention: Retention {
                max_age: (!self.retention.is_zero()).then_some(self.retention),
                max_bytes: (self.max_size != 0).then_some(self.max_size),
            },
        }
    }
}

/// Where the backend listens and what it keeps.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// The store file.
    pub db: PathBuf,
    /// OTLP/gRPC address (port 0 picks a free port).
    pub grpc: SocketAddr,
    /// OTLP/HTTP address.
    pub http: SocketAddr,
    /// Web UI and JSON API address.
    pub ui: SocketAddr,
    /// What the store keeps.
    pub retention: Retention,
}

impl ServeConfig {
    /// A backend on loopback with free ports, storing into `db`, with the default retention.
    pub fn loopback(db: impl Into<PathBuf>) -> ServeConfig {
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        ServeConfig {
            db: db.into(),
            grpc: any,
            http: any,
            ui: any,
            retention: Retention::default(),
        }
    }
}

/// Why the backend could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The store could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A listen address was unavailable.
    #[error("cannot listen on {address} ({what}): {source}")]
    Bind {
        /// Which listener.
        what: &'static str,
        /// The address.
        address: SocketAddr,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
}

/// The running backend. Dropping it stops the listeners.
#[derive(Debug)]
pub struct Server {
    store: Store,
    grpc: SocketAddr,
    http: SocketAddr,
    ui: SocketAddr,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Server {
    /// Opens the store and starts the three listeners and the retention task.
    pub async fn start(config: ServeConfig) -> Result<Server, ServeError> {
        let store = Store::open(&config.db).await?;
        let grpc = bind("OTLP/gRPC", config.grpc).await?;
        let http = bind("OTLP/HTTP", config.http).await?;
        let ui_listener = bind("web UI", config.ui).await?;
        let addresses = (local(&grpc), local(&http), local(&ui_listener));
        let (stop, stopped) = watch::channel(false);
        let ui_router = api::router(store.clone()).merge(ui::router());
        let tasks = vec![
            serve(grpc, ingest::grpc_router(store.clone()), stopped.clone()),
            serve(http, ingest::http_router(store.clone()), stopped.clone()),
            serve(ui_listener, ui_router, stopped.clone()),
            tokio::spawn(retain(store.clone(), config.retention, stopped)),
        ];
        Ok(Server {
            store,
            grpc: addresses.0,
            http: addresses.1,
            ui: addresses.2,
            stop,
            tasks,
        })
    }

    /// The store the backend writes.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The OTLP/gRPC address.
    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc
    }

    /// The OTLP/HTTP address.
    pub fn http_addr(&self) -> SocketAddr {
        self.http
    }

    /// The web UI and JSON API address.
    pub fn ui_addr(&self) -> SocketAddr {
        self.ui
    }

    /// Stops accepting, lets requests in flight finish, and waits for the listeners.
    pub async fn shutdown(mut self) {
        self.stop.send_replace(true);
        for task in self.tasks.drain(..) {
            let _ = task.await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.send_replace(true);
        for task in &self.tasks {
            task.abort();
        }
    }
}

async fn bind(what: &'static str, address: SocketAddr) -> Result<TcpListener, ServeError> {
    TcpListener::bind(address)
        .await
        .map_err(|source| ServeError::Bind {
            what,
            address,
            source,
        })
}

fn local(listener: &TcpListener) -> SocketAddr {
    listener
        .local_addr()
        .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
}

fn serve(
    listener: TcpListener,
    router: axum::Router,
    mut stopped: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let shutdown = async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        };
        if let Err(error) = axum::serve(listener, router)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::error!(%error, "a listener stopped");
        }
    })
}

async fn retain(store: Store, retention: Retention, mut stopped: watch::Receiver<bool>) {
    if retention.max_age.is_none() && retention.max_bytes.is_none() {
        return;
    }
    let mut every = tokio::time::interval(RETENTION_EVERY);
    loop {
        tokio::select! {
            _ = every.tick() => {}
            _ = stopped.wait_for(|stop| *stop) => return,
        }
        match store.enforce(retention).await {
            Ok(report) if report.traces + report.logs + report.points > 0 => tracing::info!(
                traces = report.traces,
                spans = report.spans,
                logs = report.logs,
                points = report.points,
                bytes_in_use = report.bytes_in_use,
                "retention deleted old data"
            ),
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "retention failed"),
        }
    }
}

/// Runs `spanforge serve` until Ctrl-C.
pub async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let server = Server::start(args.config()).await?;
    println!(
        "spanforge serve: storing into {}",
        server.store().path().display()
    );
    println!("  OTLP/gRPC  {}", server.grpc_addr());
    println!("  OTLP/HTTP  http://{}", server.http_addr());
    println!("  web UI     http://{}/", server.ui_addr());
    let _ = tokio::signal::ctrl_c().await;
    println!("stopping");
    server.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

//! A loopback HTTP/1.1 + HTTP/2 (h2c) server whose connections can be cut from a handler.
//!
//! axum's `serve` and tonic's `Server` own their connections, so a handler cannot close the
//! socket it is answering on. Here every accepted connection runs in its own task, and a
//! [`ConnHandle`] in the request extensions lets a handler close it without a response
//! ([`Fault::DropConnection`](super::Fault::DropConnection)).

use std::io;
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tower::ServiceExt as _;

/// Lets a handler close the connection its request arrived on.
#[derive(Debug, Clone)]
pub(crate) struct ConnHandle {
    kill: watch::Sender<bool>,
    closed: watch::Receiver<bool>,
}

impl ConnHandle {
    /// Closes the connection without a response, and waits until the socket is closed.
    ///
    /// For HTTP/1 the caller's future is dropped along with the connection, so this never
    /// returns there; for HTTP/2 it returns once the socket is gone, and whatever the handler
    /// answers then goes nowhere.
    pub(crate) async fn drop_connection(&self) {
        self.kill.send_replace(true);
        // Returns early if the connection task is gone, which also means the socket is closed.
        until_true(&mut self.closed.clone()).await;
    }
}

/// A running listener. Dropping it stops accepting and closes every connection.
#[derive(Debug)]
pub(crate) struct RunningServer {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl RunningServer {
    pub(crate) fn spawn(listener: TcpListener, router: Router) -> RunningServer {
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, router, stop_rx));
        RunningServer { stop, task }
    }

    /// Stops accepting, closes the listener and every open connection, and waits until all
    /// sockets are closed.
    pub(crate) async fn stop(mut self) {
        self.stop.send_replace(true);
        // The loop closes everything before it returns. If the task panicked or was aborted,
        // its listener and connections were dropped with it.
        let _ = (&mut self.task).await;
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        // `stop()` has already joined the task in the usual case; otherwise this closes the
        // listener and (through the JoinSet it owns) all connections as soon as the runtime
        // drops the task.
        self.task.abort();
    }
}

async fn accept_loop(listener: TcpListener, router: Router, mut stop: watch::Receiver<bool>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = until_true(&mut stop) => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    connections.spawn(serve_connection(stream, router.clone()));
                }
                Err(e) if is_connection_error(&e) => {}
                // Out of file descriptors and the like: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    connections.shutdown().await;
}

fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

async fn serve_connection(stream: TcpStream, router: Router) {
    let _ = stream.set_nodelay(true);
    let (kill, mut kill_rx) = watch::channel(false);
    let (closed_tx, closed) = watch::channel(false);
    let handle = ConnHandle { kill, closed };
    let service = router.map_request(move |mut req: http::Request<Incoming>| {
        req.extensions_mut().insert(handle.clone());
        req
    });
    let builder = auto::Builder::new(TokioExecutor::new());
    let mut connection =
        Box::pin(builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service)));
    tokio::select! {
        _ = &mut connection => {}
        _ = until_true(&mut kill_rx) => {}
    }
    // Dropping the connection drops the socket: the peer sees the connection closed.
    drop(connection);
    closed_tx.send_replace(true);
}

/// Waits until the flag is set (or its sender is gone).
async fn until_true(flag: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns is not `Send`; drop it here rather than hold it in a
    // `select!`.
    let _ = flag.wait_for(|set| *set).await;
}

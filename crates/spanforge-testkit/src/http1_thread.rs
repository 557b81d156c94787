//! A loopback HTTP/1.1 server on a thread (and current-thread runtime) of its own, for the
//! doubles whose users may call them from plain `#[test]`s as well as from async tests.

use std::future::Future;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// Binds `127.0.0.1` on an ephemeral port, serves every connection with `handle`, and returns
/// the address once the listener is bound. The server lives as long as the process.
pub(crate) fn spawn<H, Fut, E>(thread_name: &str, handle: H) -> std::io::Result<SocketAddr>
where
    H: Fn(Request<Incoming>) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<Response<Full<Bytes>>, E>> + Send + 'static,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name(thread_name.to_owned())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            };
            runtime.block_on(async move {
                let listener = match TcpListener::bind("127.0.0.1:0").await {
                    Ok(l) => l,
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                };
                let _ = tx.send(listener.local_addr());
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let handle = handle.clone();
                    tokio::spawn(async move {
                        let _ = http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service_fn(handle))
                            .await;
                    });
                }
            });
        })?;
    rx.recv()
        .map_err(|e| std::io::Error::other(e.to_string()))?
}

//! [`Sqld`]: a real libSQL server (sqld, the server behind Turso) on loopback, with JWT
//! authentication as Turso has it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::ports::unused_port;

/// The Ed25519 public key sqld checks tokens with (`--auth-jwt-key-file`). Its private key
/// signed [`Sqld::AUTH_TOKEN`] and [`Sqld::READ_ONLY_TOKEN`] and was then discarded.
const JWT_PUBLIC_KEY: &str = "-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEA5XI1lqcdMNoJwR+s7vh0SV+ICoHYZoIxiIUcFq0qMo0=
-----END PUBLIC KEY-----
";

/// How long [`Sqld::start`] waits for the server to answer.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// Why [`Sqld::start`] failed.
#[derive(Debug, thiserror::Error)]
pub enum SqldError {
    /// No sqld binary was found.
    #[error(
        "sqld not found (looked at $SPANFORGE_SQLD, {cache}, and PATH): run scripts/install-sqld.sh"
    )]
    NotFound {
        /// The cache path that was tried.
        cache: String,
    },
    /// Starting it, or preparing its directory, failed.
    #[error("starting sqld: {0}")]
    Io(#[from] std::io::Error),
    /// It did not answer in time (or exited); the end of its log.
    #[error("sqld did not become ready within {timeout:?}: {log}")]
    NotReady {
        /// How long it was given.
        timeout: Duration,
        /// The last lines it printed.
        log: String,
    },
}

/// A sqld process on a free loopback port, with its own database directory, killed (and
/// the directory removed) on drop.
///
/// It requires a token (`Authorization: Bearer <JWT>`, as Turso does):
/// [`AUTH_TOKEN`](Self::AUTH_TOKEN) is accepted, [`WRONG_KEY_TOKEN`](Self::WRONG_KEY_TOKEN)
/// is well-formed but signed by another key (401).
#[derive(Debug)]
pub struct Sqld {
    child: Child,
    addr: SocketAddr,
    dir: PathBuf,
}

impl Sqld {
    /// A token sqld accepts for reading and writing (claims `{"a":"rw"}`, no expiry; an `id`
    /// claim would name a namespace).
    pub const AUTH_TOKEN: &'static str = "eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9.eyJhIjoicncifQ.JzO_DvYU-OfheLTg4nX7phC1v0u82y5jZsn52MUr8mYejkaZOy6ytvJcgWEr2BvEq4hDsHX7hiOlhRGU4gxKCg";
    /// A read-only token (`{"a":"ro"}`): writes are refused with HTTP 403.
    pub const READ_ONLY_TOKEN: &'static str = "eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9.eyJhIjoicm8ifQ.Uo0ccUjSlRtcEHydK3Xq2NXiHnE6mjrusPGmsilFG2oBSNyS4ARytyw2cHOjSxbleywg5Prm9omBu5NaIKluCA";
    /// The claims of `AUTH_TOKEN` signed by another key: sqld answers 401.
    pub const WRONG_KEY_TOKEN: &'static str = "eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9.eyJhIjoicncifQ.Lt-wyh5S5QrFCRBraVn63or5-Mzt3wuEYOJp_v0LOlrtydlp5ic6RnJtjdgUn2Vj0HJS8sFKfTYb8AL1Rm-JBg";

    /// The sqld binary: `$SPANFORGE_SQLD`, else where `scripts/install-sqld.sh` puts it
    /// (`${SPANFORGE_CACHE:-$HOME/.cache/spanforge}/sqld/sqld`), else `sqld` on `PATH`.
    ///
    /// # Errors
    ///
    /// [`SqldError::NotFound`].
    pub fn binary() -> Result<PathBuf, SqldError> {
        if let Some(path) = std::env::var_os("SPANFORGE_SQLD") {
            return Ok(PathBuf::from(path));
        }
        let cache = match std::env::var_os("SPANFORGE_CACHE") {
            Some(dir) => PathBuf::from(dir),
            None => {
                PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/spanforge")
            }
        }
        .join("sqld/sqld");
        if cache.is_file() {
            return Ok(cache);
        }
        if let Some(path) = std::env::var_os("PATH") {
            for dir in std::env::split_paths(&path) {
                let candidate = dir.join("sqld");
                if candidate.is_file() {
                    return Ok(candidate);
                }
            }
        }
        Err(SqldError::NotFound {
            cache: cache.display().to_string(),
        })
    }

    /// Start sqld with an empty database and wait until it answers HTTP.
    ///
    /// # Errors
    ///
    /// [`SqldError`]: no binary, it cannot start, or it does not answer within 20 s.
    pub fn start() -> Result<Sqld, SqldError> {
        let binary = Sqld::binary()?;
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "spanforge-sqld-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let key = dir.join("jwt.pem");
        std::fs::write(&key, JWT_PUBLIC_KEY)?;
        let log = std::fs::File::create(dir.join("sqld.log"))?;
        let port = unused_port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let child = Command::new(&binary)
            .arg("--db-path")
            .arg(dir.join("data.sqld"))
            .arg("--http-listen-addr")
            .arg(addr.to_string())
            .arg("--auth-jwt-key-file")
            .arg(&key)
            .arg("--no-welcome")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        let mut sqld = Sqld { child, addr, dir };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            // `/health` answers before the default namespace is restored: wait for an
            // (empty) pipeline to succeed.
            if pipeline_ready(addr) {
                return Ok(sqld);
            }
            let exited = matches!(sqld.child.try_wait(), Ok(Some(_)));
            if exited || Instant::now() >= deadline {
                return Err(SqldError::NotReady {
                    timeout: START_TIMEOUT,
                    log: tail(&sqld.dir.join("sqld.log")),
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `http://127.0.0.1:<port>`: the database URL (Hrana over HTTP at `/v2/pipeline`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The directory of its database and log.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Sqld {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Whether `POST /v2/pipeline` with no requests succeeds (plain HTTP/1.1).
fn pipeline_ready(addr: SocketAddr) -> bool {
    let status = || -> Option<u16> {
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(200)).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_millis(1000)))
            .ok()?;
        let body = r#"{"baton":null,"requests":[]}"#;
        write!(
            stream,
            "POST /v2/pipeline HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            Sqld::AUTH_TOKEN,
            body.len()
        )
        .ok()?;
        let mut head = [0u8; 64];
        let n = stream.read(&mut head).ok()?;
        let text = std::str::from_utf8(&head[..n]).ok()?;
        text.split(' ').nth(1)?.parse().ok()
    };
    status() == Some(200)
}

fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(10)..].join("\n")
}

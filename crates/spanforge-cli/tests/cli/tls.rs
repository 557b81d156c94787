//! HTTPS and `rediss://` from the real `spanforge` binary, with the `tls` feature (on by
//! default): a private CA and a server certificate for 127.0.0.1 made here with the `openssl`
//! command, an HTTPS double (Python's `http.server` wrapped in `ssl`) that speaks enough of
//! Prometheus, Discord, Grafana, the collector, OTLP/HTTP and Langfuse and records every
//! request, and redis-server with TLS. The binary trusts the CA through `SSL_CERT_FILE`, which
//! the platform verifier honours on Linux.
//!
//! Needs openssl and python3 (`apt-get install -y openssl python3`) and redis-server
//! (scripts/install-test-tools.sh). A missing program fails the test with how to install it.
//!
//! Built without `tls`, the same URLs are refused up front; the last test checks that.

#[cfg(feature = "tls")]
use std::path::{Path, PathBuf};
#[cfg(feature = "tls")]
use std::process::Command;

#[cfg(feature = "tls")]
use spanforge_testkit::ports::unused_port;

use crate::doctor::programs;
#[cfg(feature = "tls")]
use crate::doctor::programs::{Program, Scratch};

/// The HTTPS double. `python3 -u server.py PORT LOG [CERT KEY]`: without CERT and KEY it
/// speaks plain HTTP. Each request is appended to LOG as one JSON line.
#[cfg(feature = "tls")]
const SERVER_PY: &str = r#"
import http.server, json, ssl, sys, threading

port, log_path = int(sys.argv[1]), sys.argv[2]
cert, key = (sys.argv[3], sys.argv[4]) if len(sys.argv) > 4 else (None, None)
lock = threading.Lock()

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def record(self, body):
        line = {"method": self.command, "path": self.path,
                "authorization": self.headers.get("Authorization"),
                "body": body.decode("utf-8", "replace")}
        with lock, open(log_path, "a") as log:
            log.write(json.dumps(line) + "\n")

    def answer(self, status, body=b"", content_type="application/json"):
        self.send_response(status)
        if status != 204:
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != 204:
            self.wfile.write(body)

    def do_GET(self):
        self.record(b"")
        path = self.path.split("?", 1)[0]
        if path == "/api/v1/query":
            self.answer(200, b'{"status":"success","data":{"resultType":"vector","result":[]}}')
        elif path == "/api/v1/status/buildinfo":
            self.answer(200, b'{"status":"success","data":{"version":"3.0.0"}}')
        elif path == "/-/ready":
            self.answer(200, b"Ready.", "text/plain")
        elif path == "/api/health":
            self.answer(200, b'{"commit":"1a2b3c4d","database":"ok","version":"11.2.0"}')
        elif path == "/health":
            self.answer(200, b'{"status":"Server available"}')
        else:
            self.answer(404, b"not found", "text/plain")

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.record(body)
        path = self.path.split("?", 1)[0]
        if path.startswith("/api/webhooks/"):
            self.answer(204)
        elif path in ("/v1/traces", "/api/public/otel/v1/traces"):
            self.answer(200, b"", "application/x-protobuf")
        else:
            self.answer(404, b"not found", "text/plain")

    def log_message(self, format, *args):
        sys.stderr.write("%s %s\n" % (self.address_string(), format % args))

server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
if cert:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    # The handshake happens in each request's thread, never in the accept loop.
    server.socket = context.wrap_socket(server.socket, server_side=True,
                                        do_handshake_on_connect=False)
sys.stderr.write("listening on %d (%s)\n" % (port, "https" if cert else "http"))
server.serve_forever()
"#;

/// A CA, a server certificate it signed (127.0.0.1 and localhost), and an unrelated CA.
#[cfg(feature = "tls")]
struct Certificates {
    /// The CA that signed the server certificate (PEM).
    ca: PathBuf,
    /// A CA that signed nothing here: trusting only it makes the server untrusted.
    other_ca: PathBuf,
    /// The server's certificate and key (PEM).
    cert: PathBuf,
    key: PathBuf,
}

#[cfg(feature = "tls")]
fn openssl(args: &[&str], dir: &Path) {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run openssl ({e}): install it with `apt-get install -y openssl`")
        });
    assert!(
        output.status.success(),
        "openssl {args:?} failed:\n{}",
        programs::describe(&output)
    );
}

#[cfg(feature = "tls")]
fn certificates(scratch: &Scratch) -> Certificates {
    let dir = scratch.path("");
    let ca = |name: &str, subject: &str| {
        openssl(
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.pem"),
                "-days",
                "2",
                "-subj",
                subject,
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
            &dir,
        );
    };
    ca("ca", "/CN=spanforge test CA");
    ca("other-ca", "/CN=spanforge unrelated CA");
    openssl(
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
        &dir,
    );
    std::fs::write(
        scratch.path("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n\
         basicConstraints=critical,CA:FALSE\n\
         keyUsage=critical,digitalSignature\n\
         extendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-set_serial",
            "2",
            "-days",
            "2",
            "-extfile",
            "server.ext",
            "-out",
            "server.pem",
        ],
        &dir,
    );
    Certificates {
        ca: scratch.path("ca.pem"),
        other_ca: scratch.path("other-ca.pem"),
        cert: scratch.path("server.pem"),
        key: scratch.path("server.key"),
    }
}

/// One request the double received.
#[cfg(feature = "tls")]
#[derive(Debug, serde::Deserialize)]
struct Request {
    method: String,
    path: String,
    authorization: Option<String>,
    body: String,
}

/// A running double; killed on drop.
#[cfg(feature = "tls")]
struct Double {
    _program: Program,
    port: u16,
    log: PathBuf,
}

#[cfg(feature = "tls")]
impl Double {
    /// `https://127.0.0.1:PORT` serving `certificates`' server certificate, or plain HTTP.
    async fn start(scratch: &Scratch, name: &str, tls: Option<&Certificates>) -> Double {
        if Command::new("python3").arg("--version").output().is_err() {
            panic!("python3 not found: install it with `apt-get install -y python3`");
        }
        let script = scratch.path("server.py");
        std::fs::write(&script, SERVER_PY).unwrap();
        let port = unused_port();
        let log = scratch.path(&format!("{name}.requests.jsonl"));
        let mut command = Command::new("python3");
        command
            .arg("-u")
            .arg(&script)
            .arg(port.to_string())
            .arg(&log);
        if let Some(certificates) = tls {
            command.arg(&certificates.cert).arg(&certificates.key);
        }
        let mut program = Program::start(name, command, scratch.path(&format!("{name}.log")));
        program.wait_tcp(port).await;
        Double {
            _program: program,
            port,
            log,
        }
    }

    fn url(&self, scheme: &str) -> String {
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    fn requests(&self) -> Vec<Request> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).expect("a JSON line"))
            .collect()
    }
}

#[cfg(feature = "tls")]
const TOKEN: &str = "tls-webhook-token";

#[cfg(feature = "tls")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_weekly_posts_to_an_https_discord_webhook() {
    let scratch = Scratch::new("tls-report");
    let certificates = certificates(&scratch);
    let server = Double::start(&scratch, "https-double", Some(&certificates)).await;
    let base = server.url("https");
    let webhook = format!("{base}/api/webhooks/42/{TOKEN}");
    let ca = certificates.ca.display().to_string();

    let output = programs::spanforge(
        &[
            "report",
            "weekly",
            "--prometheus",
            &base,
            "--discord-webhook",
            &webhook,
        ],
        &[("SSL_CERT_FILE", ca.as_str())],
    )
    .await;
    let shown = programs::describe(&output);
    assert!(output.status.success(), "{shown}");
    assert!(!shown.contains(TOKEN), "{shown}");
    let markdown = String::from_utf8_lossy(&output.stdout);
    assert!(
        markdown.contains(&format!("_From Prometheus at {base}:")),
        "{shown}"
    );

    let requests = server.requests();
    let queries = requests
        .iter()
        .filter(|r| r.method == "GET" && r.path.starts_with("/api/v1/query?"))
        .count();
    assert!(
        queries >= 4,
        "Prometheus was not queried over https: {requests:#?}"
    );
    let posts: Vec<&Request> = requests.iter().filter(|r| r.method == "POST").collect();
    assert_eq!(posts.len(), 1, "{requests:#?}");
    assert_eq!(posts[0].path, format!("/api/webhooks/42/{TOKEN}"));
    let body: serde_json::Value = serde_json::from_str(&posts[0].body).unwrap();
    assert_eq!(body["content"], markdown.trim_end(), "{shown}");
    assert_eq!(body["allowed_mentions"], serde_json::json!({ "parse": [] }));

    // `cost --prometheus` reads the same https Prometheus.
    let output = programs::spanforge(
        &["cost", "--prometheus", &base, "--since", "7d"],
        &[("SSL_CERT_FILE", ca.as_str())],
    )
    .await;
    assert!(output.status.success(), "{}", programs::describe(&output));
}

#[cfg(feature = "tls")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_is_refused() {
    let scratch = Scratch::new("tls-untrusted");
    let certificates = certificates(&scratch);
    let server = Double::start(&scratch, "https-double", Some(&certificates)).await;
    let plain = Double::start(&scratch, "http-double", None).await;
    let host = format!("127.0.0.1:{}", server.port);
    let webhook = format!("{}/api/webhooks/42/{TOKEN}", server.url("https"));
    // Trusting only a CA that did not sign the server's certificate.
    let other_ca = certificates.other_ca.display().to_string();
    let env = [("SSL_CERT_FILE", other_ca.as_str())];

    let output = programs::spanforge(
        &[
            "report",
            "weekly",
            "--prometheus",
            &plain.url("http"),
            "--discord-webhook",
            &webhook,
        ],
        &env,
    )
    .await;
    let shown = programs::describe(&output);
    assert_eq!(output.status.code(), Some(1), "{shown}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "the Discord webhook at {host} is unreachable: TLS: invalid peer certificate: \
             UnknownIssuer: the server's certificate is not signed by a CA this machine trusts"
        )),
        "{shown}"
    );
    assert!(!shown.contains(TOKEN), "{shown}");
    // The report itself was made (over plain HTTP), and nothing reached the webhook.
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("## Weekly SLI report"),
        "{shown}"
    );
    assert!(server.requests().is_empty(), "{:#?}", server.requests());

    let output = programs::spanforge(
        &["report", "weekly", "--prometheus", &server.url("https")],
        &env,
    )
    .await;
    let shown = programs::describe(&output);
    assert_eq!(output.status.code(), Some(1), "{shown}");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains(&format!(
            "Prometheus at https://{host} is unreachable: TLS: invalid peer certificate: \
             UnknownIssuer"
        )),
        "{shown}"
    );

    let output = programs::spanforge(
        &[
            "doctor",
            "--skip",
            "otlp,collector,grafana,alertmanager",
            "--prometheus",
            &server.url("https"),
        ],
        &env,
    )
    .await;
    let shown = programs::describe(&output);
    assert_eq!(output.status.code(), Some(1), "{shown}");
    assert!(
        String::from_utf8_lossy(&output.stdout).contains(&format!(
            "✗ prometheus    https://{host}: cannot connect: TLS: invalid peer certificate: \
             UnknownIssuer"
        )),
        "{shown}"
    );
    assert!(server.requests().is_empty(), "{:#?}", server.requests());
}

#[cfg(feature = "tls")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_ca_certificates_http_still_works_and_https_says_why() {
    let scratch = Scratch::new("tls-no-roots");
    let certificates = certificates(&scratch);
    let server = Double::start(&scratch, "https-double", Some(&certificates)).await;
    let plain = Double::start(&scratch, "http-double", None).await;
    // No CA certificate at all: SSL_CERT_FILE names a file that does not exist.
    let missing = scratch.path("no-such-bundle.pem").display().to_string();
    let env = [("SSL_CERT_FILE", missing.as_str())];

    let output = programs::spanforge(
        &["report", "weekly", "--prometheus", &plain.url("http")],
        &env,
    )
    .await;
    assert!(output.status.success(), "{}", programs::describe(&output));

    let webhook = format!("{}/api/webhooks/42/{TOKEN}", server.url("https"));
    let output = programs::spanforge(
        &[
            "report",
            "weekly",
            "--prometheus",
            &plain.url("http"),
            "--discord-webhook",
            &webhook,
        ],
        &env,
    )
    .await;
    let shown = programs::describe(&output);
    assert_eq!(output.status.code(), Some(1), "{shown}");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains(
            "TLS: invalid peer certificate: UnknownIssuer: no trusted CA certificate could be \
             loaded on this machine"
        ),
        "{shown}"
    );
    assert!(server.requests().is_empty(), "{:#?}", server.requests());
}

#[cfg(feature = "tls")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_checks_https_endpoints_and_rediss() {
    let scratch = Scratch::new("tls-doctor");
    let certificates = certificates(&scratch);
    let server = Double::start(&scratch, "https-double", Some(&certificates)).await;

    let redis_port = unused_port();
    let mut redis_cmd = Command::new(programs::redis_server());
    redis_cmd
        .args(["--port", "0", "--tls-port", &redis_port.to_string()])
        .arg("--tls-cert-file")
        .arg(&certificates.cert)
        .arg("--tls-key-file")
        .arg(&certificates.key)
        .arg("--tls-ca-cert-file")
        .arg(&certificates.ca)
        .args(["--tls-auth-clients", "no", "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no", "--dir"])
        .arg(scratch.path(""));
    let mut redis = Program::start("redis-server", redis_cmd, scratch.path("redis.log"));
    redis.wait_tcp(redis_port).await;

    let base = server.url("https");
    let health = format!("{base}/health");
    let redis_url = format!("rediss://127.0.0.1:{redis_port}/0");
    let ca = certificates.ca.display().to_string();
    let secret = "sk-lf-tls-secret";
    let output = programs::spanforge(
        &[
            "doctor",
            "--otlp-endpoint",
            &base,
            "--collector-health",
            &health,
            "--prometheus",
            &base,
            "--grafana",
            &base,
            "--alertmanager",
            &base,
            "--langfuse-url",
            &base,
            "--redis-url",
            &redis_url,
            "--skip",
            "database",
        ],
        &[
            ("SSL_CERT_FILE", ca.as_str()),
            ("LANGFUSE_PUBLIC_KEY", "pk-lf-tls"),
            ("LANGFUSE_SECRET_KEY", secret),
        ],
    )
    .await;
    let shown = programs::describe(&output);
    assert!(output.status.success(), "{shown}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    for expected in [
        format!("✓ otlp          {base}/v1/traces: accepted an empty OTLP/HTTP protobuf export"),
        format!("✓ collector     {health}: Server available"),
        format!("✓ prometheus    {base}: ready, Prometheus 3.0.0"),
        format!("✓ grafana       {base}/api/health: database ok, Grafana 11.2.0"),
        format!("✓ alertmanager  {base}: ready"),
        format!("✓ langfuse      {base}/api/public/otel/v1/traces: credentials accepted"),
        format!("✓ redis         rediss://127.0.0.1:{redis_port}/0: PONG"),
    ] {
        assert!(
            stdout.lines().any(|line| line.starts_with(&expected)),
            "missing {expected:?} in\n{shown}"
        );
    }
    assert!(
        stdout.ends_with("doctor: 7 passed, 0 failed, 1 skipped\n"),
        "{shown}"
    );
    assert!(!shown.contains(secret), "{shown}");

    let requests = server.requests();
    for (method, path) in [
        ("POST", "/v1/traces"),
        ("GET", "/health"),
        ("GET", "/-/ready"),
        ("GET", "/api/v1/status/buildinfo"),
        ("GET", "/api/health"),
        ("POST", "/api/public/otel/v1/traces"),
    ] {
        assert!(
            requests
                .iter()
                .any(|r| r.method == method && r.path == path),
            "no {method} {path} over https: {requests:#?}"
        );
    }
    let langfuse = requests
        .iter()
        .find(|r| r.path == "/api/public/otel/v1/traces")
        .unwrap();
    assert!(
        langfuse
            .authorization
            .as_deref()
            .is_some_and(|a| a.starts_with("Basic ")),
        "{langfuse:?}"
    );
}

/// Built without `tls`: every https URL is refused up front, saying why.
#[cfg(not(feature = "tls"))]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_tls_feature_https_is_refused() {
    let webhook = "https://discord.com/api/webhooks/42/tls-webhook-token";
    let output = programs::spanforge(
        &[
            "report",
            "weekly",
            "--prometheus",
            "https://prometheus.example.com",
            "--discord-webhook",
            webhook,
        ],
        &[],
    )
    .await;
    let shown = programs::describe(&output);
    assert_eq!(output.status.code(), Some(1), "{shown}");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains(
            "the Discord webhook at discord.com is https, which this build of spanforge cannot \
             reach (no TLS backend: it was built without the `tls` feature)"
        ),
        "{shown}"
    );
    let output = programs::spanforge(
        &[
            "report",
            "weekly",
            "--prometheus",
            "https://prometheus.example.com",
        ],
        &[],
    )
    .await;
    let shown = programs::describe(&output);
    assert_eq!(output.status.code(), Some(1), "{shown}");
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("https is not supported: this build of spanforge has no TLS backend"),
        "{shown}"
    );
    let output = programs::spanforge(
        &[
            "doctor",
            "--skip",
            "otlp,collector,grafana,alertmanager",
            "--prometheus",
            "https://prometheus.example.com",
            "--redis-url",
            "rediss://cache.example.com:6380",
        ],
        &[],
    )
    .await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("✗ prometheus    https://prometheus.example.com: https is not supported"),
        "{}",
        programs::describe(&output)
    );
    assert!(
        stdout.contains(
            "✗ redis         rediss://cache.example.com:6380: TLS (rediss://) is not supported"
        ),
        "{}",
        programs::describe(&output)
    );
}

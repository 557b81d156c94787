//! `spanforge doctor` against real backends on loopback: the built collector (OTLP in and
//! health_check), Prometheus, Alertmanager, redis-server, a local libSQL file, the fake
//! Langfuse, and a wire-format double of Grafana's `/api/health` (Grafana itself is not
//! installable here). Then against dead endpoints. Every run is the real binary.
//!
//! Needs prometheus and alertmanager (scripts/install-ops-tools.sh), redis-server
//! (scripts/install-test-tools.sh) and the collector (scripts/build-collector.sh, needs Go).
//! A missing program fails the test with the command that installs it.

use std::process::Output;

use programs::{Program, Scratch};
use spanforge_testkit::ports::unused_port;
use spanforge_testkit::{FakeLangfuse, FakeResponse};

const CHECKS: [&str; 8] = [
    "otlp",
    "collector",
    "prometheus",
    "grafana",
    "alertmanager",
    "langfuse",
    "database",
    "redis",
];

/// Starting and finding the external programs; shared with the report tests.
pub(crate) mod programs {
    use std::collections::HashMap;
    use std::fs::File;
    use std::io::Read;
    use std::net::TcpStream;
    use std::path::{Path, PathBuf};
    use std::process::{Child, Command, Output, Stdio};
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::{Duration, Instant};

    /// How long a program may take to become ready on a slow, loaded machine.
    pub(crate) const READY_DEADLINE: Duration = Duration::from_secs(120);

    /// The repository root.
    pub(crate) fn repo_root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
    }

    /// This suite's test data.
    pub(crate) fn data(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/doctor-report")
            .join(name)
    }

    fn on_path(binary: &str) -> Option<PathBuf> {
        let path = std::env::var_os("PATH")?;
        std::env::split_paths(&path)
            .map(|dir| dir.join(binary))
            .find(|candidate| candidate.is_file())
    }

    /// The `NAME=path` lines scripts/install-ops-tools.sh caches.
    fn ops_tools_env() -> HashMap<String, String> {
        let cache = std::env::var_os("SPANFORGE_CACHE")
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME").map(|home| Path::new(&home).join(".cache/spanforge"))
            });
        let Some(cache) = cache else {
            return HashMap::new();
        };
        std::fs::read_to_string(cache.join("ops-tools.env"))
            .unwrap_or_default()
            .lines()
            .filter_map(|line| line.split_once('='))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect()
    }

    /// An operations tool (prometheus, promtool, alertmanager): `$VAR`, else the path
    /// scripts/install-ops-tools.sh cached, else PATH. Panics with how to install it.
    pub(crate) fn ops_tool(var: &str, binary: &str) -> PathBuf {
        let candidate = std::env::var(var)
            .ok()
            .or_else(|| ops_tools_env().remove(var))
            .map(PathBuf::from)
            .filter(|p| p.is_file())
            .or_else(|| on_path(binary));
        candidate.unwrap_or_else(|| {
            panic!(
                "{binary} not found (${var}, the cache of scripts/install-ops-tools.sh, PATH): \
                 run scripts/install-ops-tools.sh"
            )
        })
    }

    /// redis-server: `$REDIS_SERVER`, else PATH. Panics with how to install it.
    pub(crate) fn redis_server() -> PathBuf {
        std::env::var("REDIS_SERVER")
            .ok()
            .map(PathBuf::from)
            .filter(|p| p.is_file())
            .or_else(|| on_path("redis-server"))
            .unwrap_or_else(|| {
                panic!("redis-server not found ($REDIS_SERVER, PATH): run scripts/install-test-tools.sh")
            })
    }

    /// The spanforge collector, built (or found in its cache) by scripts/build-collector.sh.
    pub(crate) fn collector() -> PathBuf {
        let script = repo_root().join("scripts/build-collector.sh");
        let output = Command::new("bash")
            .arg(&script)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run `bash {}`: {e} (the collector is built by \
                     scripts/build-collector.sh, which needs bash and Go)",
                    script.display()
                )
            });
        let path = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        if !output.status.success() || path.is_empty() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            panic!(
                "scripts/build-collector.sh failed (it needs Go and the Go module proxy):\n{}",
                tail(&stderr, 40)
            );
        }
        PathBuf::from(path)
    }

    fn tail(text: &str, lines: usize) -> String {
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// A scratch directory under the target directory, removed on drop.
    #[derive(Debug)]
    pub(crate) struct Scratch(PathBuf);

    impl Scratch {
        pub(crate) fn new(tag: &str) -> Scratch {
            static NEXT: AtomicU32 = AtomicU32::new(0);
            let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
                "doctor-report-{tag}-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("create the scratch directory");
            Scratch(dir)
        }

        pub(crate) fn path(&self, name: &str) -> PathBuf {
            self.0.join(name)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// A program started for a test; killed on drop. Its output goes to a log file that
    /// failures show.
    #[derive(Debug)]
    pub(crate) struct Program {
        name: String,
        child: Child,
        log: PathBuf,
    }

    impl Program {
        pub(crate) fn start(name: &str, mut command: Command, log: PathBuf) -> Program {
            let file = File::create(&log).expect("create the log file");
            let child = command
                .stdin(Stdio::null())
                .stdout(file.try_clone().expect("clone the log file"))
                .stderr(file)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {name} ({command:?}): {e}"));
            Program {
                name: name.to_owned(),
                child,
                log,
            }
        }

        pub(crate) fn log(&self) -> String {
            let mut text = String::new();
            if let Ok(mut file) = File::open(&self.log) {
                let _ = file.read_to_string(&mut text);
            }
            tail(&text, 60)
        }

        fn check_running(&mut self) {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "{} exited ({status}) before it was ready:\n{}",
                    self.name,
                    self.log()
                );
            }
        }

        /// Waits until `GET url` answers 2xx.
        pub(crate) async fn wait_http(&mut self, url: &str) {
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap();
            let deadline = Instant::now() + READY_DEADLINE;
            loop {
                self.check_running();
                if let Ok(response) = client.get(url).send().await
                    && response.status().is_success()
                {
                    return;
                }
                if Instant::now() > deadline {
                    panic!(
                        "{} not ready at {url} after {READY_DEADLINE:?}:\n{}",
                        self.name,
                        self.log()
                    );
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }

        /// Waits until the port accepts TCP connections.
        pub(crate) async fn wait_tcp(&mut self, port: u16) {
            let deadline = Instant::now() + READY_DEADLINE;
            loop {
                self.check_running();
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return;
                }
                if Instant::now() > deadline {
                    panic!(
                        "{} not listening on {port} after {READY_DEADLINE:?}:\n{}",
                        self.name,
                        self.log()
                    );
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }

    impl Drop for Program {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    /// Starts Prometheus on a loopback port with `data` as its TSDB; returns it and its URL.
    pub(crate) async fn prometheus(scratch: &Scratch, tsdb: &Path) -> (Program, String) {
        let port = spanforge_testkit::ports::unused_port();
        let mut command = Command::new(ops_tool("PROMETHEUS", "prometheus"));
        command
            .arg(format!(
                "--config.file={}",
                data("prometheus.yml").display()
            ))
            .arg(format!("--storage.tsdb.path={}", tsdb.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            // Blocks made by promtool may lie in the future of the test's clock; keep them.
            .arg("--storage.tsdb.retention.time=3650d");
        let mut program = Program::start("prometheus", command, scratch.path("prometheus.log"));
        let url = format!("http://127.0.0.1:{port}");
        program.wait_http(&format!("{url}/-/ready")).await;
        (program, url)
    }

    /// Runs the `spanforge` binary with exactly these environment variables.
    pub(crate) async fn spanforge(args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_spanforge"));
        command.args(args).env_clear().stdin(Stdio::null());
        for (name, value) in env {
            command.env(name, value);
        }
        tokio::task::spawn_blocking(move || command.output().expect("run spanforge"))
            .await
            .expect("join")
    }

    /// stdout, stderr and the exit code, for assertion messages.
    pub(crate) fn describe(output: &Output) -> String {
        format!(
            "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
            output.status.code(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    }
}

/// Base64 (standard alphabet, padded), for the expected Authorization header.
fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A double of Grafana's `GET /api/health` (its JSON, as Grafana 11 answers).
async fn fake_grafana() -> String {
    let app = axum::Router::new().route(
        "/api/health",
        axum::routing::get(|| async {
            axum::Json(serde_json::json!({
                "commit": "1a2b3c4d", "database": "ok", "version": "11.2.0"
            }))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

/// A TCP server that accepts connections and never answers.
async fn silent_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    format!("http://{addr}")
}

async fn create_database(path: &std::path::Path) {
    let database = libsql::Builder::new_local(path).build().await.unwrap();
    let connection = database.connect().unwrap();
    connection
        .execute(
            "CREATE TABLE runs (id INTEGER PRIMARY KEY, prompt TEXT)",
            (),
        )
        .await
        .unwrap();
    connection
        .execute("CREATE INDEX runs_prompt ON runs (prompt)", ())
        .await
        .unwrap();
}

fn lines(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

fn line_of<'a>(lines: &'a [String], check: &str) -> &'a str {
    lines
        .iter()
        .find(|l| l.split_whitespace().nth(1) == Some(check))
        .unwrap_or_else(|| panic!("no line for {check} in {lines:#?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_all_green_against_live_backends() {
    let scratch = Scratch::new("live");

    // Start every program first, then wait for all: they boot in parallel.
    let (otlp_http, otlp_grpc, health) = (unused_port(), unused_port(), unused_port());
    let mut collector_cmd = std::process::Command::new(programs::collector());
    collector_cmd
        .arg(format!(
            "--config={}",
            programs::data("otelcol.yaml").display()
        ))
        .env("OTLP_HTTP_ENDPOINT", format!("127.0.0.1:{otlp_http}"))
        .env("OTLP_GRPC_ENDPOINT", format!("127.0.0.1:{otlp_grpc}"))
        .env("HEALTH_ENDPOINT", format!("127.0.0.1:{health}"));
    let mut collector = Program::start("collector", collector_cmd, scratch.path("collector.log"));

    let alertmanager_port = unused_port();
    let mut alertmanager_cmd =
        std::process::Command::new(programs::ops_tool("ALERTMANAGER", "alertmanager"));
    alertmanager_cmd
        .arg(format!(
            "--config.file={}",
            programs::data("alertmanager.yml").display()
        ))
        .arg(format!(
            "--storage.path={}",
            scratch.path("alertmanager").display()
        ))
        .arg(format!(
            "--web.listen-address=127.0.0.1:{alertmanager_port}"
        ))
        .arg("--cluster.listen-address=");
    let mut alertmanager = Program::start(
        "alertmanager",
        alertmanager_cmd,
        scratch.path("alertmanager.log"),
    );

    let redis_port = unused_port();
    let mut redis_cmd = std::process::Command::new(programs::redis_server());
    redis_cmd.args([
        "--port",
        &redis_port.to_string(),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        &scratch.path("").display().to_string(),
    ]);
    let mut redis = Program::start("redis-server", redis_cmd, scratch.path("redis.log"));

    let (_prometheus, prometheus_url) = programs::prometheus(&scratch, &scratch.path("tsdb")).await;
    let alertmanager_url = format!("http://127.0.0.1:{alertmanager_port}");
    alertmanager
        .wait_http(&format!("{alertmanager_url}/-/ready"))
        .await;
    collector
        .wait_http(&format!("http://127.0.0.1:{health}/"))
        .await;
    collector.wait_tcp(otlp_http).await;
    collector.wait_tcp(otlp_grpc).await;
    redis.wait_tcp(redis_port).await;

    let database = scratch.path("app.db");
    create_database(&database).await;
    let langfuse = FakeLangfuse::start().unwrap();
    let grafana = fake_grafana().await;

    let otlp_endpoint = format!("http://127.0.0.1:{otlp_http}");
    let health_url = format!("http://127.0.0.1:{health}/");
    // The shown targets drop a bare trailing slash.
    let langfuse_url = langfuse.base_url();
    let database_url = format!("file:{}", database.display());
    let redis_url = format!("redis://127.0.0.1:{redis_port}/0");
    let secret = "sk-lf-right-secret-0123";
    let env = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", otlp_endpoint.as_str()),
        ("SPANFORGE_DOCTOR_COLLECTOR_HEALTH_URL", health_url.as_str()),
        ("SPANFORGE_PROMETHEUS_URL", prometheus_url.as_str()),
        (
            "SPANFORGE_DOCTOR_ALERTMANAGER_URL",
            alertmanager_url.as_str(),
        ),
        ("LANGFUSE_PUBLIC_KEY", "pk-lf-right"),
        ("LANGFUSE_SECRET_KEY", secret),
        ("LANGFUSE_HOST", langfuse_url.as_str()),
        ("DATABASE_URL", database_url.as_str()),
        ("REDIS_URL", redis_url.as_str()),
    ];
    // Grafana by flag, everything else by environment.
    let text =
        programs::spanforge(&["doctor", "--timeout", "30s", "--grafana", &grafana], &env).await;
    let shown = programs::describe(&text);
    assert!(text.status.success(), "{shown}");
    let out = lines(&text);
    assert_eq!(out.len(), CHECKS.len() + 1, "{shown}");
    for (line, check) in out.iter().zip(CHECKS) {
        assert!(line.starts_with(&format!("✓ {check} ")), "{shown}");
        assert!(line.ends_with(" ms)"), "{shown}");
    }
    assert_eq!(out[8], "doctor: 8 passed, 0 failed, 0 skipped");
    assert!(
        line_of(&out, "otlp").contains(&format!(
            "{otlp_endpoint}/v1/traces: accepted an empty OTLP/HTTP protobuf export (HTTP 200 OK)"
        )),
        "{shown}"
    );
    assert!(
        line_of(&out, "collector")
            .contains(&format!("http://127.0.0.1:{health}: Server available")),
        "{shown}"
    );
    assert!(
        line_of(&out, "prometheus").contains(&format!("{prometheus_url}: ready, Prometheus ")),
        "{shown}"
    );
    assert!(
        line_of(&out, "grafana").contains("/api/health: database ok, Grafana 11.2.0"),
        "{shown}"
    );
    assert!(
        line_of(&out, "alertmanager").contains(&format!("{alertmanager_url}: ready")),
        "{shown}"
    );
    assert!(
        line_of(&out, "langfuse").contains("credentials accepted (public key pk-lf-right)"),
        "{shown}"
    );
    assert!(
        line_of(&out, "database").contains(", 2 schema objects"),
        "{shown}"
    );
    assert!(
        line_of(&out, "redis").contains(&format!("redis://127.0.0.1:{redis_port}/0: PONG")),
        "{shown}"
    );
    assert!(!shown.contains(secret), "the secret key leaked:\n{shown}");

    // Langfuse got the keys as HTTP basic authentication on the exporter's endpoint.
    let expected_auth = format!(
        "Basic {}",
        base64(format!("pk-lf-right:{secret}").as_bytes())
    );
    let requests = langfuse.requests();
    assert!(
        requests
            .iter()
            .any(|r| r.path == "/api/public/otel/v1/traces"
                && r.authorization.as_deref() == Some(expected_auth.as_str())
                && r.body_len == 0),
        "{requests:#?}"
    );

    // The same as JSON.
    let json = programs::spanforge(
        &[
            "doctor",
            "--json",
            "--timeout",
            "30s",
            "--grafana",
            &grafana,
        ],
        &env,
    )
    .await;
    assert!(json.status.success(), "{}", programs::describe(&json));
    let results: Vec<serde_json::Value> =
        serde_json::from_slice(&json.stdout).expect("a JSON array");
    let names: Vec<&str> = results
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, CHECKS);
    for result in &results {
        assert_eq!(result["status"], "ok", "{result}");
        assert!(result["duration_ms"].is_u64(), "{result}");
        assert!(result["detail"].is_string(), "{result}");
    }
    assert_eq!(results[2]["target"], prometheus_url.as_str());
    assert_eq!(
        results[7]["target"],
        format!("redis://127.0.0.1:{redis_port}/0")
    );

    // gRPC: a TCP connection to the collector's gRPC port.
    let grpc_endpoint = format!("http://127.0.0.1:{otlp_grpc}");
    let grpc = programs::spanforge(
        &[
            "doctor",
            "--otlp-protocol",
            "grpc",
            "--otlp-endpoint",
            &grpc_endpoint,
            "--skip",
            "collector,prometheus,grafana,alertmanager",
        ],
        &[],
    )
    .await;
    assert!(grpc.status.success(), "{}", programs::describe(&grpc));
    let out = lines(&grpc);
    assert!(
        line_of(&out, "otlp").starts_with(&format!(
            "✓ otlp          127.0.0.1:{otlp_grpc}: gRPC port accepts TCP connections"
        )),
        "{out:#?}"
    );

    // Wrong keys: Langfuse answers 401 (the fake does not check keys itself, so the test
    // scripts the answer a real Langfuse gives), and the secret still never shows.
    langfuse.push_responses([FakeResponse::status(401)]);
    let wrong_secret = "sk-lf-WRONG-secret-9876";
    let mut wrong_env = env.to_vec();
    wrong_env.retain(|(k, _)| *k != "LANGFUSE_SECRET_KEY");
    wrong_env.push(("LANGFUSE_SECRET_KEY", wrong_secret));
    let wrong = programs::spanforge(
        &["doctor", "--timeout", "30s", "--grafana", &grafana],
        &wrong_env,
    )
    .await;
    let shown = programs::describe(&wrong);
    assert_eq!(wrong.status.code(), Some(1), "{shown}");
    let out = lines(&wrong);
    let langfuse_line = line_of(&out, "langfuse");
    assert!(langfuse_line.starts_with("✗ langfuse      "), "{shown}");
    assert!(
        langfuse_line
            .contains("credentials rejected (HTTP 401 Unauthorized) for public key pk-lf-right"),
        "{shown}"
    );
    assert_eq!(out[8], "doctor: 7 passed, 1 failed, 0 skipped", "{shown}");
    assert!(
        !shown.contains(wrong_secret),
        "the secret key leaked:\n{shown}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_reports_dead_endpoints_and_fails() {
    let scratch = Scratch::new("dead");
    let dead = || format!("http://127.0.0.1:{}", unused_port());
    let (otlp, collector, prometheus, alertmanager, langfuse) =
        (dead(), dead(), dead(), dead(), dead());
    // Grafana accepts the connection and never answers: the per-check timeout ends it.
    let grafana = silent_server().await;
    let missing = scratch.path("missing.db");
    let database_url = missing.display().to_string();
    let redis_port = unused_port();
    let redis_url = format!("redis://:hunter2@127.0.0.1:{redis_port}");
    let env = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", otlp.as_str()),
        ("SPANFORGE_DOCTOR_COLLECTOR_HEALTH_URL", collector.as_str()),
        ("SPANFORGE_PROMETHEUS_URL", prometheus.as_str()),
        ("SPANFORGE_DOCTOR_GRAFANA_URL", grafana.as_str()),
        ("SPANFORGE_DOCTOR_ALERTMANAGER_URL", alertmanager.as_str()),
        ("LANGFUSE_PUBLIC_KEY", "pk-lf-1"),
        ("LANGFUSE_SECRET_KEY", "sk-lf-dead-secret"),
        ("LANGFUSE_BASE_URL", langfuse.as_str()),
        ("DATABASE_URL", database_url.as_str()),
        ("REDIS_URL", redis_url.as_str()),
    ];
    let text = programs::spanforge(&["doctor", "--timeout", "2s"], &env).await;
    let shown = programs::describe(&text);
    assert_eq!(text.status.code(), Some(1), "{shown}");
    let out = lines(&text);
    for (line, check) in out.iter().zip(CHECKS) {
        assert!(line.starts_with(&format!("✗ {check} ")), "{shown}");
    }
    assert_eq!(out[8], "doctor: 0 passed, 8 failed, 0 skipped", "{shown}");
    assert!(
        line_of(&out, "otlp").contains(&format!("{otlp}/v1/traces: cannot connect: ")),
        "{shown}"
    );
    assert!(
        line_of(&out, "collector").contains("cannot connect: "),
        "{shown}"
    );
    assert!(
        line_of(&out, "prometheus").contains(&format!("{prometheus}: cannot connect: ")),
        "{shown}"
    );
    assert!(
        line_of(&out, "grafana").contains("/api/health: no answer within 2 s"),
        "{shown}"
    );
    assert!(
        line_of(&out, "alertmanager").contains("cannot connect: "),
        "{shown}"
    );
    assert!(
        line_of(&out, "langfuse").contains("cannot connect: "),
        "{shown}"
    );
    assert!(
        line_of(&out, "database").ends_with(&format!("{database_url}: no such file")),
        "{shown}"
    );
    assert!(
        line_of(&out, "redis")
            .contains(&format!("redis://127.0.0.1:{redis_port}: cannot connect: ")),
        "{shown}"
    );
    assert!(
        !shown.contains("hunter2") && !shown.contains("sk-lf-dead-secret"),
        "{shown}"
    );
    // The database check must not have created the file it was pointed at.
    assert!(!missing.exists());

    let json = programs::spanforge(&["doctor", "--json", "--timeout", "2s"], &env).await;
    assert_eq!(json.status.code(), Some(1), "{}", programs::describe(&json));
    let results: Vec<serde_json::Value> =
        serde_json::from_slice(&json.stdout).expect("a JSON array");
    assert_eq!(results.len(), 8);
    for result in &results {
        assert_eq!(result["status"], "failed", "{result}");
        assert!(!result["detail"].as_str().unwrap().is_empty(), "{result}");
    }
    assert_eq!(results[3]["detail"], "no answer within 2 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_skips_what_is_not_configured_unless_required() {
    let skip_stack = "otlp,collector,prometheus,grafana,alertmanager";
    let output = programs::spanforge(&["doctor", "--skip", skip_stack], &[]).await;
    let shown = programs::describe(&output);
    assert!(output.status.success(), "{shown}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "- otlp          skipped: left out with --skip\n\
         - collector     skipped: left out with --skip\n\
         - prometheus    skipped: left out with --skip\n\
         - grafana       skipped: left out with --skip\n\
         - alertmanager  skipped: left out with --skip\n\
         - langfuse      skipped: LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY are not set\n\
         - database      skipped: DATABASE_URL is not set\n\
         - redis         skipped: REDIS_URL is not set\n\
         doctor: 0 passed, 0 failed, 8 skipped\n",
        "{shown}"
    );

    // A remote libSQL database is not checked: skipped, with the reason, token never shown.
    let output = programs::spanforge(
        &["doctor", "--skip", skip_stack],
        &[(
            "DATABASE_URL",
            "libsql://prompts-acme.turso.io?authToken=eyJsecret",
        )],
    )
    .await;
    assert!(output.status.success(), "{}", programs::describe(&output));
    let out = lines(&output);
    assert!(
        line_of(&out, "database")
            .starts_with("- database      skipped: remote libSQL databases are not checked yet"),
        "{out:#?}"
    );
    assert!(!programs::describe(&output).contains("eyJsecret"));

    let output = programs::spanforge(
        &[
            "doctor",
            "--skip",
            skip_stack,
            "--require",
            "redis,langfuse",
        ],
        &[],
    )
    .await;
    let shown = programs::describe(&output);
    assert_eq!(output.status.code(), Some(1), "{shown}");
    let out = lines(&output);
    assert_eq!(
        line_of(&out, "redis"),
        "✗ redis         required (--require) but not configured: REDIS_URL is not set"
    );
    assert!(line_of(&out, "langfuse").starts_with("✗ langfuse      required (--require)"));
    assert_eq!(out[8], "doctor: 0 passed, 2 failed, 6 skipped");

    // Asking for both is a usage error, not a report.
    let output =
        programs::spanforge(&["doctor", "--skip", "redis", "--require", "redis"], &[]).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("redis is both skipped (--skip) and required (--require)"),
        "{}",
        programs::describe(&output)
    );
}

//! The quickstart: with nothing set up, see traces and what each prompt costs.
//!
//! Starts the local backend (`spanforge serve`) in-process, runs the `llm_service` example
//! application against a built-in fake LLM that speaks the OpenAI API (or the real OpenAI API
//! when `OPENAI_API_KEY` is set), drives a short scripted workload through it (two prompts,
//! three versions, the database, a failing model call and a failing route), prints the
//! per-prompt cost table and the web UI's address, and serves until Ctrl-C.
//!
//! ```sh
//! cargo run -p spanforge-examples --example quickstart            # then open the UI
//! cargo run -p spanforge-examples --example quickstart -- --exit  # stop after the workload
//! ```
//!
//! The backend listens on the usual ports (OTLP 4317/4318, UI 7318) when they are free, on
//! free ports otherwise, and stores into `quickstart.db` in the current directory.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde_json::json;
use spanforge::Config;
use spanforge::Protocol;
use spanforge::health::Health;
use spanforge::llm::openai;
use spanforge_cli::cost::{self, CostReport, Format, GroupBy};
use spanforge_cli::serve::{ServeConfig, Server};
use spanforge_examples::llm_service::{Store, llm, router};
use spanforge_testkit::FakeLlm;
use spanforge_testkit::llm::{Fault, Reply, Tokens};

/// The model the fake answers as; its price is in the built-in pricing table.
const MODEL: &str = "gpt-4o-mini";

/// The scripted workload: prompt, version, variables and what the fake LLM answers.
fn workload() -> Vec<(&'static str, u32, serde_json::Value, Reply)> {
    let answer = |text: &str, input, output, cached| {
        Reply::text(text).with_tokens(Tokens {
            input,
            output,
            cache_read: cached,
            ..Tokens::default()
        })
    };
    vec![
        (
            "greet",
            1,
            json!({"who": "Ada"}),
            answer("Hello, Ada!", 420, 18, 0),
        ),
        (
            "greet",
            1,
            json!({"who": "Grace"}),
            answer("Hello, Grace!", 430, 20, 0),
        ),
        (
            "greet",
            2,
            json!({"who": "Alan"}),
            answer("Good day, Alan.", 610, 24, 512),
        ),
        (
            "greet",
            2,
            json!({"who": "Edsger"}),
            answer("Good day, Edsger.", 615, 26, 512),
        ),
        (
            "greet",
            2,
            json!({"who": "Barbara"}),
            answer("Good day, Barbara.", 620, 25, 512),
        ),
        (
            "summarize",
            1,
            json!({"text": "OpenTelemetry is a collection of APIs, SDKs and tools."}),
            answer(
                "OpenTelemetry: APIs, SDKs and tools for telemetry.",
                2_400,
                160,
                0,
            ),
        ),
        (
            "summarize",
            1,
            json!({"text": "Langfuse is an open source LLM engineering platform."}),
            answer("Langfuse: open source LLM engineering.", 2_150, 140, 1_024),
        ),
        // The provider fails: an error span with error.type, and no cost.
        (
            "summarize",
            1,
            json!({"text": "this call fails"}),
            Reply::fault(Fault::Status { status: 500 }),
        ),
    ]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let exit_after_workload = std::env::args().skip(1).any(|arg| arg == "--exit");

    // 1. The local backend.
    let server = start_backend("quickstart.db").await?;
    let ui = format!("http://{}/", server.ui_addr());

    // 2. Telemetry of the application goes to it over OTLP/HTTP.
    let telemetry = spanforge::init(
        Config::from_env()?
            .with_service_name("llm_service")
            .with_service_version(env!("CARGO_PKG_VERSION"))
            .with_otlp_endpoint(format!("http://{}", server.http_addr()))
            .with_otlp_protocol(Protocol::HttpProtobuf)
            .with_metric_export_interval(Duration::from_secs(5))
            .with_log_filter("warn,llm_service=info"),
    )?;

    // 3. The model: the real OpenAI API with OPENAI_API_KEY, otherwise the fake.
    let fake = if std::env::var_os("OPENAI_API_KEY").is_some() {
        llm::install(llm::Llm::from_env()?);
        None
    } else {
        let fake = FakeLlm::start().await.context("starting the fake LLM")?;
        let client = openai::Client::builder()
            .with_base_url(fake.openai_base_url())
            .with_api_key("quickstart")
            .with_provider_name("openai")
            .build()?;
        llm::install(llm::Llm::OpenAi {
            client,
            model: MODEL.to_owned(),
        });
        Some(fake)
    };

    // 4. The application, on a free port.
    let app_db =
        std::env::temp_dir().join(format!("spanforge-quickstart-{}.db", std::process::id()));
    let store = Store::open(app_db.to_str().context("temp dir path")?).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let app_addr = listener.local_addr()?;
    let app = router(store, &Health::new());
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });

    // 5. The workload.
    println!("Running the workload against llm_service at http://{app_addr} ...");
    let calls = run_workload(app_addr, fake.as_ref()).await?;

    // 6. Wait until every LLM call has arrived, then print what each prompt cost.
    telemetry
        .force_flush(Duration::from_secs(5))
        .context("flushing telemetry")?;
    wait_for_llm_calls(&server, calls).await;
    let rows = cost::local_rows(server.store(), GroupBy::Prompt, None).await?;
    println!("\nLLM cost per prompt:\n");
    print!(
        "{}",
        CostReport::new(GroupBy::Prompt, None, rows).render(Format::Table)
    );
    println!("\nTraces, the per-prompt cost view and RED per route: {ui}");
    println!(
        "The same from the command line: spanforge cost --db {}",
        server.store().path().display()
    );

    if !exit_after_workload {
        println!(
            "\nServing until Ctrl-C. Point any OpenTelemetry SDK at http://{} (OTLP/HTTP) or http://{} (gRPC).",
            server.http_addr(),
            server.grpc_addr()
        );
        let _ = tokio::signal::ctrl_c().await;
    }
    telemetry.shutdown().await.context("flushing telemetry")?;
    server.shutdown().await;
    let _ = std::fs::remove_file(&app_db);
    Ok(())
}

/// The backend on the usual ports, or on free ones when those are taken.
async fn start_backend(db: &str) -> anyhow::Result<Server> {
    let usual = ServeConfig {
        grpc: "127.0.0.1:4317".parse()?,
        http: "127.0.0.1:4318".parse()?,
        ui: "127.0.0.1:7318".parse()?,
        ..ServeConfig::loopback(db)
    };
    match Server::start(usual).await {
        Ok(server) => Ok(server),
        Err(spanforge_cli::serve::ServeError::Bind { address, .. }) => {
            println!("{address} is taken: the backend uses free ports instead.");
            Ok(Server::start(ServeConfig::loopback(db)).await?)
        }
        Err(error) => Err(error.into()),
    }
}

/// Creates the prompts, runs them, and hits a failing route; returns the LLM calls made.
async fn run_workload(app: SocketAddr, fake: Option<&FakeLlm>) -> anyhow::Result<u64> {
    let http = reqwest::Client::new();
    let base = format!("http://{app}");
    for (name, version, template) in [
        ("greet", 1, "Say hello to {{who}}."),
        (
            "greet",
            2,
            "You are a courteous butler. Greet {{who}} formally.",
        ),
        ("summarize", 1, "Summarise in one sentence: {{text}}"),
    ] {
        let response = http
            .post(format!("{base}/prompts"))
            .json(&json!({"name": name, "version": version, "template": template}))
            .send()
            .await?;
        anyhow::ensure!(
            response.status().is_success(),
            "creating prompt {name} v{version}: {}",
            response.status()
        );
    }
    println!(
        "  (the last run and GET /boom fail on purpose — a provider error and a failing route; \
         their ERROR logs are expected and appear in the UI linked to their traces)"
    );
    let mut calls = 0;
    for (name, version, variables, reply) in workload() {
        if let Some(fake) = fake {
            fake.push(reply);
        }
        let response = http
            .post(format!("{base}/prompts/{name}/run"))
            .json(&json!({"variables": variables, "version": version}))
            .send()
            .await?;
        calls += 1;
        println!(
            "  POST /prompts/{name}/run (v{version}) -> {}",
            response.status()
        );
    }
    let response = http.get(format!("{base}/boom")).send().await?;
    println!("  GET /boom -> {}", response.status());
    Ok(calls)
}

async fn wait_for_llm_calls(server: &Server, expected: u64) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if let Ok(report) = server
            .store()
            .llm_report(spanforge_cli::store::LlmGroup::Prompt, None)
            .await
            && report.totals.calls >= expected
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!("warning: not every LLM call arrived within 15 s; the table may be incomplete");
}

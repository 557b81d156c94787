//! The HTTP routes.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use spanforge::health::Health;
use spanforge::http::ServerLayer;
use tracing::instrument;

use super::llm;
use super::store::{Prompt, Store, StoreError};
use super::template::render;

/// The service's routes over `store`, instrumented with spanforge's server layer, with
/// `/health` and `/health/ready` served by `health`.
pub fn router(store: Store, health: &Health) -> Router {
    Router::new()
        .route("/prompts", post(create_prompt))
        .route("/prompts/{name}/run", post(run_prompt))
        .route("/prompts/{name}/runs", get(list_runs))
        .route("/boom", get(boom))
        .with_state(store)
        .merge(health.router())
        .layer(
            ServerLayer::builder()
                .trace_id_response_header("x-trace-id")
                .build(),
        )
}

#[derive(Debug, Deserialize)]
struct NewPrompt {
    name: String,
    version: u32,
    template: String,
}

#[instrument(skip_all, fields(prompt.name = %body.name, prompt.version = i64::from(body.version)))]
async fn create_prompt(State(store): State<Store>, Json(body): Json<NewPrompt>) -> Response {
    if body.name.is_empty() || body.version == 0 {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "name must be non-empty and version at least 1",
        );
    }
    let prompt = Prompt {
        name: body.name,
        version: body.version,
        template: body.template,
    };
    match store.add_prompt(&prompt).await {
        Ok(()) => (StatusCode::CREATED, Json(prompt)).into_response(),
        Err(e @ StoreError::Conflict { .. }) => error(StatusCode::CONFLICT, &e.to_string()),
        Err(e) => store_failed(&e),
    }
}

#[derive(Debug, Deserialize, Default)]
struct RunRequest {
    #[serde(default)]
    variables: HashMap<String, String>,
    version: Option<u32>,
}

#[instrument(skip_all, fields(prompt.name = %name, prompt.version = tracing::field::Empty))]
async fn run_prompt(
    State(store): State<Store>,
    Path(name): Path<String>,
    body: Option<Json<RunRequest>>,
) -> Response {
    let request = body.map(|Json(r)| r).unwrap_or_default();
    let prompt = match store.prompt(&name, request.version).await {
        Ok(Some(prompt)) => prompt,
        Ok(None) => return error(StatusCode::NOT_FOUND, &format!("no prompt named {name}")),
        Err(e) => return store_failed(&e),
    };
    tracing::Span::current().record("prompt.version", i64::from(prompt.version));
    let input = render(&prompt.template, &request.variables);
    // An instrumented call: a `chat {model}` span under this one, with usage and cost.
    let completion = match llm::current().complete(&prompt, &input).await {
        Ok(completion) => completion,
        Err(e) => {
            tracing::error!(
                error = &e as &(dyn std::error::Error + 'static),
                "model call failed"
            );
            return e.into_response();
        }
    };
    let run = match store
        .add_run(
            &prompt,
            input,
            completion.output.clone(),
            completion.run_usage(),
        )
        .await
    {
        Ok(run) => run,
        Err(e) => return store_failed(&e),
    };
    tracing::info!(
        run.id = run.id as i64,
        gen_ai.usage.cost = completion.cost_usd,
        "prompt run recorded"
    );
    (StatusCode::OK, Json(completion.with_run(&run))).into_response()
}

async fn list_runs(State(store): State<Store>, Path(name): Path<String>) -> Response {
    match store.runs(&name).await {
        Ok(runs) => Json(json!({ "prompt": name, "runs": runs })).into_response(),
        Err(e) => store_failed(&e),
    }
}

/// Always fails: exercises the error path (a 500, an error log and an exception event).
#[instrument(fields(otel.status_code = "ERROR"))]
async fn boom() -> Response {
    let failure = std::io::Error::other("the boom endpoint always fails");
    tracing::error!(
        error = &failure as &(dyn std::error::Error + 'static),
        "request failed"
    );
    error(StatusCode::INTERNAL_SERVER_ERROR, "boom")
}

/// A storage failure: logged (with the trace) and answered with a 503.
fn store_failed(e: &StoreError) -> Response {
    tracing::error!(
        error = e as &(dyn std::error::Error + 'static),
        "storage failed"
    );
    error(StatusCode::SERVICE_UNAVAILABLE, "storage unavailable")
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

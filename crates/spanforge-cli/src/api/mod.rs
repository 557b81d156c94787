//! The JSON API behind the web UI (see docs/cli.md for every endpoint and parameter).
//!
//! Bad parameters get `400 {"error": "..."}` naming the parameter; an unknown trace `404`.

pub mod params;

use std::collections::HashMap;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;

use crate::store::{Store, StoreError};

/// `GET /api/meta`, `/api/traces`, `/api/traces/{trace_id}`, `/api/llm`, `/api/services`.
pub fn router(store: Store) -> Router {
    Router::new()
        .route("/api/meta", get(meta))
        .route("/api/traces", get(traces))
        .route("/api/traces/{trace_id}", get(trace))
        .route("/api/llm", get(llm))
        .route("/api/services", get(services))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "no such API endpoint".into()) })
        .with_state(store)
}

type Params = Query<HashMap<String, String>>;

async fn meta(State(store): State<Store>) -> Response {
    respond(store.meta().await)
}

async fn traces(State(store): State<Store>, Query(params): Params) -> Response {
    match params::trace_filter(&params) {
        Ok(filter) => respond(store.traces(&filter).await),
        Err(e) => error(StatusCode::BAD_REQUEST, e.to_string()),
    }
}

async fn trace(State(store): State<Store>, Path(trace_id): Path<String>) -> Response {
    let trace_id = match params::trace_id(&trace_id) {
        Ok(id) => id,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.to_string()),
    };
    match store.trace(&trace_id).await {
        Ok(Some(detail)) => Json(detail).into_response(),
        Ok(None) => error(
            StatusCode::NOT_FOUND,
            format!("trace {trace_id} is not stored"),
        ),
        Err(e) => store_error(e),
    }
}

async fn llm(State(store): State<Store>, Query(params): Params) -> Response {
    let parsed = params::llm_group(&params).and_then(|g| Ok((g, params::since(&params)?)));
    match parsed {
        Ok((group, since)) => respond(store.llm_report(group, since).await),
        Err(e) => error(StatusCode::BAD_REQUEST, e.to_string()),
    }
}

async fn services(State(store): State<Store>, Query(params): Params) -> Response {
    match params::since(&params) {
        Ok(since) => respond(store.services(since).await),
        Err(e) => error(StatusCode::BAD_REQUEST, e.to_string()),
    }
}

fn respond<T: Serialize>(result: Result<T, StoreError>) -> Response {
    match result {
        Ok(body) => Json(body).into_response(),
        Err(e) => store_error(e),
    }
}

fn store_error(e: StoreError) -> Response {
    tracing::error!(error = %e, "API query failed");
    error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}

fn error(status: StatusCode, message: String) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}

//! The `/health` and `/health/ready` routes.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;

use super::Health;

impl Health {
    /// `GET /health` (liveness: always 200 while the process serves) and
    /// `GET /health/ready` (readiness: 200 or 503 with the probe report as JSON).
    pub fn router<S>(&self) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        Router::new()
            .route(
                "/health",
                get(|| async { Json(serde_json::json!({ "status": "ok" })) }),
            )
            .route("/health/ready", get(ready))
            .with_state(self.clone())
    }
}

async fn ready(State(health): State<Health>) -> impl IntoResponse {
    let report = health.check().await;
    let status = if report.is_ready() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(report))
}

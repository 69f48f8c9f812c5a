//! Liveness (`/healthz`: the process answers) and readiness (`/readyz`: the ledger answers and
//! at least one backend is in rotation).

use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;

#[utoipa::path(get, path = "/healthz", responses((status = 200, description = "The process is up")))]
pub async fn healthz() -> &'static str {
    "ok"
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Ready {
    pub ready: bool,
    pub ledger: bool,
    /// Backends in rotation now, by name.
    pub backends_in_rotation: Vec<String>,
}

#[utoipa::path(get, path = "/readyz", responses(
    (status = 200, description = "Ready to route", body = Ready),
    (status = 503, description = "Not ready: the ledger or every backend is out", body = Ready)))]
pub async fn readyz(State(state): State<Arc<AppState>>) -> (StatusCode, Json<Ready>) {
    let ledger = sqlx::query("SELECT 1")
        .execute(state.ledger.pool())
        .await
        .is_ok();
    let now = Instant::now();
    let backends_in_rotation: Vec<String> = state
        .slots
        .iter()
        .filter(|s| s.health.out_for(now).is_none())
        .map(|s| s.backend.name.clone())
        .collect();
    let ready = ledger && !backends_in_rotation.is_empty();
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(Ready {
            ready,
            ledger,
            backends_in_rotation,
        }),
    )
}

#[utoipa::path(get, path = "/metrics", responses((status = 200, description = "Prometheus text format: requests, attempts, rates, in flight vs caps, rotation")))]
pub async fn metrics(
    State(state): State<Arc<AppState>>,
) -> ([(axum::http::HeaderName, &'static str); 1], String) {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        crate::metrics::render(&state),
    )
}

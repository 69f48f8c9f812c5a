//! Liveness (`/healthz`: the process answers) and readiness (`/readyz`: the ledger answers, Redis
//! too when configured, and at least one backend is in rotation).

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
    /// Redis answers, when configured for what replicas share (`null` without it).
    pub shared: Option<bool>,
    /// Backends in rotation now, by name.
    pub backends_in_rotation: Vec<String>,
}

#[utoipa::path(get, path = "/readyz", responses(
    (status = 200, description = "Ready to route", body = Ready),
    (status = 503, description = "Not ready: the ledger or Redis (when configured) does not answer, or every backend is out", body = Ready)))]
pub async fn readyz(State(state): State<Arc<AppState>>) -> (StatusCode, Json<Ready>) {
    let ledger = state.ledger.db().ping().await;
    let shared = match &state.shared {
        Some(shared) => Some(shared.ping().await.is_ok()),
        None => None,
    };
    let now = Instant::now();
    let mut backends_in_rotation = Vec::new();
    for slot in &state.slots {
        if slot.in_rotation(now).await {
            backends_in_rotation.push(slot.backend.name.clone());
        }
    }
    let ready = ledger && shared != Some(false) && !backends_in_rotation.is_empty();
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
            shared,
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
        crate::metrics::render(&state).await,
    )
}

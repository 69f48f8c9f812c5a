//! The HTTP surface: the OpenAI-compatible `/v1` API, health, and the OpenAPI document.

mod admin;
mod auth;
mod chat;
mod extract;
mod health;
mod station;
mod sync;
mod tasks;
mod updates;

pub use admin::ADMIN_KEY_ENV;
pub use chat::chat_body;

use std::sync::Arc;

use axum::http::{header, HeaderMap};
use axum::routing::{get, post};
use axum::Router;
use utoipa::OpenApi;

use crate::error::HttpError;
use crate::ledger::Client;
use crate::state::AppState;

#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Review Station LLM router",
        description = "An OpenAI-compatible gateway with the platform's traffic manager and a usage ledger; the stations' API; the admins' API."
    ),
    paths(
        chat::chat_completions,
        chat::list_models,
        health::healthz,
        health::readyz,
        health::metrics,
        admin::dashboard,
        admin::live,
        admin::usage,
        admin::latency,
        admin::shares,
        admin::requests,
        auth::login,
        auth::code,
        auth::session,
        auth::logout,
        auth::recovery_codes,
        auth::add_user,
        auth::users,
        auth::revoke_sessions,
        station::create_enrolment_code,
        station::revoke_device,
        station::enrol,
        station::blob_state,
        station::upload_blob,
        station::submit_job,
        station::job_results,
        station::ingest_corrections,
        sync::hello,
        sync::post_audit_head,
        sync::audit_heads,
        sync::download_blob,
        tasks::raise_task,
        tasks::claim_tasks,
        tasks::renew_leases,
        tasks::release_tasks,
        tasks::decide_task,
        updates::offer_update,
        updates::update_file,
    ),
    components(schemas(
        crate::error::ErrorBody,
        chat::ModelList,
        chat::ModelEntry,
        chat::ChatRequest,
        health::Ready,
        protocol::admin::Bucket,
        protocol::admin::QueryWindow,
        protocol::admin::UsagePoint,
        protocol::admin::LatencyPoint,
        protocol::admin::BackendCount,
        protocol::admin::SharePoint,
        protocol::admin::DeviceRef,
        protocol::admin::FilterChoices,
        protocol::admin::Dashboard,
        protocol::admin::BackendLive,
        protocol::admin::Live,
        protocol::admin::AttemptView,
        protocol::admin::RequestView,
        protocol::admin::RequestPage,
        admin::UsageSeries,
        admin::LatencySeries,
        admin::ShareSeries,
        protocol::account::Role,
        protocol::account::NextStep,
        protocol::account::Login,
        protocol::account::LoginChallenge,
        protocol::account::SecondFactor,
        protocol::account::SignedIn,
        protocol::account::SessionState,
        protocol::account::Account,
        protocol::account::NewAccount,
        protocol::account::RegenerateRecovery,
        protocol::account::RecoveryCodes,
        station::EnrolmentCode,
        station::NewCode,
        protocol::station_api::Enrol,
        protocol::station_api::Enrolled,
        protocol::station_api::Upload,
        protocol::station_api::NewJob,
        protocol::station_api::JobAccepted,
        protocol::station_api::JobKind,
        protocol::station_api::JobResult,
        protocol::station_api::Corrections,
        protocol::station_api::Correction,
        protocol::station_api::CorrectionsReceived,
        protocol::station_api::Hello,
        protocol::station_api::AuditHead,
        protocol::station_api::WitnessedHead,
        protocol::station_api::NewTask,
        protocol::station_api::SharedTask,
        protocol::station_api::Claim,
        protocol::station_api::LeaseChange,
        protocol::station_api::LeaseRenewed,
        protocol::station_api::Release,
        protocol::station_api::Released,
        protocol::station_api::SharedDecision,
        protocol::station_api::DecisionRecorded,
        protocol::station_api::UpdateOffer,
    ))
)]
pub struct ApiDoc;

/// The OpenAPI document, as served at `/openapi.json` (and committed: a test fails on drift).
pub fn openapi_json() -> String {
    ApiDoc::openapi().to_pretty_json().unwrap_or_default()
}

pub fn router(state: Arc<AppState>) -> Router {
    // the POSTs whose answers are small JSON: an Idempotency-Key replays them (the chat
    // completions and the jobs keep their own rules)
    let repeatable = Router::new()
        .route(
            "/admin/v1/enrolment-codes",
            post(station::create_enrolment_code),
        )
        .route(
            "/admin/v1/devices/{id}/revoke",
            post(station::revoke_device),
        )
        .route("/station/v1/enrol", post(station::enrol))
        .route("/station/v1/corrections", post(station::ingest_corrections))
        .route("/station/v1/audit-heads", post(sync::post_audit_head))
        .route("/station/v1/tasks", post(tasks::raise_task))
        .route("/station/v1/tasks/claim", post(tasks::claim_tasks))
        .route("/station/v1/tasks/renew", post(tasks::renew_leases))
        .route("/station/v1/tasks/release", post(tasks::release_tasks))
        .route("/station/v1/tasks/{id}/decision", post(tasks::decide_task))
        .route_layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            crate::idempotency::idempotent,
        ));
    Router::new()
        .route("/v1/chat/completions", post(chat::chat_completions))
        .route("/v1/models", get(chat::list_models))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/admin/v1/dashboard", get(admin::dashboard))
        .route("/admin/v1/live", get(admin::live))
        .route("/admin/v1/usage", get(admin::usage))
        .route("/admin/v1/latency", get(admin::latency))
        .route("/admin/v1/shares", get(admin::shares))
        .route("/admin/v1/requests", get(admin::requests))
        .route("/station/v1/auth/login", post(auth::login))
        .route("/station/v1/auth/code", post(auth::code))
        .route("/station/v1/auth/session", get(auth::session))
        .route("/station/v1/auth/logout", post(auth::logout))
        .route(
            "/station/v1/auth/recovery-codes",
            post(auth::recovery_codes),
        )
        .route("/admin/v1/users", get(auth::users).post(auth::add_user))
        .route(
            "/admin/v1/users/{id}/revoke-sessions",
            post(auth::revoke_sessions),
        )
        .route("/station/v1/jobs", post(station::submit_job))
        .route("/station/v1/results", get(station::job_results))
        .route("/station/v1/hello", get(sync::hello))
        .route(
            "/station/v1/updates/files/{name}",
            get(updates::update_file),
        )
        .route(
            "/station/v1/updates/{os}/{arch}/{bundle}/{current_version}",
            get(updates::offer_update),
        )
        .route("/station/v1/audit-heads", get(sync::audit_heads))
        .route(
            "/station/v1/blobs/{sha256}",
            get(sync::download_blob)
                .head(station::blob_state)
                .patch(station::upload_blob),
        )
        .route(
            "/openapi.json",
            get(|| async { ([(header::CONTENT_TYPE, "application/json")], openapi_json()) }),
        )
        .merge(repeatable)
        .with_state(state)
}

/// The client of the request's bearer key.
async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Client, HttpError> {
    let key = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| {
            HttpError::unauthorized("send your router key as `Authorization: Bearer <key>`")
        })?;
    match state.client(key).await {
        Ok(Ok(client)) => Ok(client),
        Ok(Err(true)) => Err(HttpError::unauthorized("this key was revoked")),
        Ok(Err(false)) => Err(HttpError::unauthorized("this key is unknown")),
        Err(error) => {
            tracing::error!(%error, "key lookup failed");
            Err(HttpError::internal("the key could not be checked"))
        }
    }
}

#[cfg(test)]
mod tests {
    /// The committed OpenAPI document is the code's: `UPDATE_OPENAPI=1 cargo test -p router
    /// openapi_is_current` writes it anew.
    #[test]
    fn openapi_is_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.json");
        let generated = format!("{}\n", super::openapi_json());
        if std::env::var_os("UPDATE_OPENAPI").is_some() {
            std::fs::write(&path, &generated).expect("write openapi.json");
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(committed == generated, "crates/router/openapi.json is stale: run UPDATE_OPENAPI=1 cargo test -p router openapi_is_current");
    }

    /// Every route the server answers is in the document (a route added without its
    /// `#[utoipa::path]` in the list above fails here).
    #[test]
    fn every_route_is_documented() {
        let doc: serde_json::Value =
            serde_json::from_str(&super::openapi_json()).expect("the document is JSON");
        // the server's code, above this test module
        let source = include_str!("mod.rs")
            .split("#[cfg(test)]")
            .next()
            .unwrap_or_default();
        let routes: Vec<&str> = source
            .split(".route(")
            .skip(1)
            .filter_map(|rest| rest.trim_start().strip_prefix('"')?.split('"').next())
            .filter(|path| *path != "/openapi.json")
            .collect();
        assert!(routes.len() >= 15, "{routes:?}");
        let missing: Vec<&&str> = routes
            .iter()
            .filter(|r| doc["paths"].get(**r).is_none())
            .collect();
        assert!(
            missing.is_empty(),
            "routes missing from the OpenAPI document: {missing:?}"
        );
    }
}

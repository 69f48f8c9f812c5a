//! The team's shared review queue over HTTP (`/station/v1/tasks`): raise, claim under a lease,
//! renew, release, decide. The rules live in `crate::tasks`; these handlers check the bodies
//! and say what happened as `{code, message}`.
// utoipa's `params(...)` expansion names the parameter type by a qualified path
#![allow(unused_qualifications)]

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use protocol::station_api::{
    Claim, DecisionRecorded, LeaseChange, LeaseRenewed, NewTask, Release, Released, SharedDecision,
    SharedTask,
};
use protocol::ErrorCode;

use super::extract::{Caller, JsonBody};
use super::station::{storage, upload_error};
use crate::error::HttpError;
use crate::state::AppState;
use crate::tasks::{self, Decided};

#[utoipa::path(post, path = "/station/v1/tasks", request_body = NewTask, responses(
    (status = 201, description = "Raised", body = SharedTask),
    (status = 200, description = "Raised before by this station under this task_key: the task as first raised", body = SharedTask),
    (status = 422, description = "`blob_missing`: a blob was never uploaded whole", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn raise_task(
    State(state): State<Arc<AppState>>,
    Caller(device): Caller,
    JsonBody(task): JsonBody<NewTask>,
) -> Response {
    if let Err(message) = tasks::check_new(&task) {
        return HttpError::invalid(message).into_response();
    }
    // another station must be able to show what the reviewer decides on
    for sha in &task.blobs {
        match state.blobs.state(state.ledger.db(), sha).await {
            Ok(Some(upload)) if upload.complete => {}
            Ok(_) => {
                return HttpError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    ErrorCode::BlobMissing,
                    format!(
                        "blob {sha} was never uploaded whole: upload it before raising the task"
                    ),
                )
                .into_response()
            }
            Err(e) => return upload_error(&e).into_response(),
        }
    }
    match tasks::raise(state.ledger.db(), device.id, &task).await {
        Ok((task, true)) => (StatusCode::CREATED, Json(task)).into_response(),
        Ok((task, false)) => Json(task).into_response(),
        Err(e) => storage(&e).into_response(),
    }
}

fn check_lease(lease_s: u32) -> Result<(), HttpError> {
    if tasks::LEASE_S.contains(&lease_s) {
        Ok(())
    } else {
        Err(HttpError::invalid(format!(
            "lease_s is {} to {} seconds",
            tasks::LEASE_S.start(),
            tasks::LEASE_S.end()
        )))
    }
}

fn check_ids(ids: &[i64]) -> Result<(), HttpError> {
    if ids.len() > tasks::MAX_IDS {
        Err(HttpError::invalid(format!(
            "at most {} ids at once",
            tasks::MAX_IDS
        )))
    } else {
        Ok(())
    }
}

#[utoipa::path(post, path = "/station/v1/tasks/claim", request_body = Claim, responses(
    (status = 200, description = "Leased to the calling station: those it held first, then the least sure", body = [SharedTask])),
    security(("bearer" = [])))]
pub async fn claim_tasks(
    State(state): State<Arc<AppState>>,
    Caller(device): Caller,
    JsonBody(claim): JsonBody<Claim>,
) -> Response {
    if claim.max == 0 || claim.max > tasks::MAX_CLAIM {
        return HttpError::invalid(format!("max is 1 to {}", tasks::MAX_CLAIM)).into_response();
    }
    if let Err(error) = check_lease(claim.lease_s) {
        return error.into_response();
    }
    match tasks::claim(state.ledger.db(), device.id, &claim).await {
        Ok(leased) => Json(leased).into_response(),
        Err(e) => storage(&e).into_response(),
    }
}

#[utoipa::path(post, path = "/station/v1/tasks/renew", request_body = LeaseChange, responses(
    (status = 200, description = "Which leases were extended and which this station no longer holds", body = LeaseRenewed)),
    security(("bearer" = [])))]
pub async fn renew_leases(
    State(state): State<Arc<AppState>>,
    Caller(device): Caller,
    JsonBody(change): JsonBody<LeaseChange>,
) -> Response {
    if let Err(error) = check_lease(change.lease_s).and_then(|()| check_ids(&change.ids)) {
        return error.into_response();
    }
    match tasks::renew(state.ledger.db(), device.id, &change.ids, change.lease_s).await {
        Ok((renewed, lost, until)) => Json(LeaseRenewed {
            renewed,
            lost,
            lease_expires_at: tasks::rfc3339_ms(until),
        })
        .into_response(),
        Err(e) => storage(&e).into_response(),
    }
}

#[utoipa::path(post, path = "/station/v1/tasks/release", request_body = Release, responses(
    (status = 200, description = "The tasks given back (those this station held)", body = Released)),
    security(("bearer" = [])))]
pub async fn release_tasks(
    State(state): State<Arc<AppState>>,
    Caller(device): Caller,
    JsonBody(release): JsonBody<Release>,
) -> Response {
    if let Err(error) = check_ids(&release.ids) {
        return error.into_response();
    }
    match tasks::release(state.ledger.db(), device.id, &release.ids).await {
        Ok(released) => Json(Released { released }).into_response(),
        Err(e) => storage(&e).into_response(),
    }
}

#[utoipa::path(post, path = "/station/v1/tasks/{id}/decision", request_body = SharedDecision,
    params(("id" = i64, Path, description = "The shared task's id")), responses(
    (status = 200, description = "Recorded, or recorded before (a repeat of the same decision_hash: once)", body = DecisionRecorded),
    (status = 404, body = crate::error::ErrorBody),
    (status = 409, description = "`lease_lost`: another station holds the task (or nobody does): not recorded; `task_not_held`: this station decided it already, otherwise", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn decide_task(
    State(state): State<Arc<AppState>>,
    Caller(device): Caller,
    Path(id): Path<i64>,
    JsonBody(decision): JsonBody<SharedDecision>,
) -> Response {
    if let Err(message) = tasks::check_decision(&decision) {
        return HttpError::invalid(message).into_response();
    }
    let recorded = |new| {
        Json(DecisionRecorded {
            task_id: id,
            decision_hash: decision.decision_hash.clone(),
            new,
        })
        .into_response()
    };
    match tasks::decide(state.ledger.db(), device.id, id, &decision).await {
        Ok(Decided::Recorded) => recorded(true),
        Ok(Decided::Repeat) => recorded(false),
        Ok(Decided::NotFound) => HttpError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            format!("no shared task {id}"),
        )
        .into_response(),
        Ok(Decided::LeaseLost { holder: Some(_) }) => HttpError::new(
            StatusCode::CONFLICT,
            ErrorCode::LeaseLost,
            format!("task {id} was taken over by another station: the decision was not recorded"),
        )
        .into_response(),
        Ok(Decided::LeaseLost { holder: None }) => HttpError::new(
            StatusCode::CONFLICT,
            ErrorCode::LeaseLost,
            format!(
                "task {id} is not leased to this station (given back, or never claimed): the decision was not recorded"
            ),
        )
        .into_response(),
        Ok(Decided::DecidedAlready) => HttpError::new(
            StatusCode::CONFLICT,
            ErrorCode::TaskNotHeld,
            format!("task {id} was decided already by this station, with another decision"),
        )
        .into_response(),
        Err(e) => storage(&e).into_response(),
    }
}

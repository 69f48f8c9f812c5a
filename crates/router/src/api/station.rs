//! The station API (`/station/v1`): enrolment with a one-time code an admin created, and
//! content-addressed, resumable uploads of photos and pages. (The admin side: creating codes,
//! revoking devices.)
// utoipa's `params(...)` expansion names the parameter type by a qualified path
#![allow(unused_qualifications)]

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use protocol::ErrorCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use protocol::station_api::{
    Corrections, CorrectionsReceived, Enrol, Enrolled, JobAccepted, NewJob, Upload,
};

use super::extract::{Caller, JsonBody, Operator};
use crate::blobs::{UploadError, UploadState};
use crate::devices::{self, Enrolment};
use crate::error::HttpError;
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewCode {
    /// Who the code is for (shown to admins).
    pub note: Option<String>,
    /// How long the code is valid; default 72 hours.
    pub hours: Option<i64>,
    /// The sha256 (hex) of a code the admin's tool made: the router never holds the code, and
    /// the request can be repeated (`Idempotency-Key`). Without it the router makes the code.
    pub code_sha256: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EnrolmentCode {
    /// The code the router made, shown once (none when the admin's tool made it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub expires_at: String,
}

#[utoipa::path(post, path = "/admin/v1/enrolment-codes", request_body = NewCode,
    responses((status = 201, body = EnrolmentCode), (status = 401, body = crate::error::ErrorBody)), security(("admin" = [])))]
pub async fn create_enrolment_code(
    State(state): State<Arc<AppState>>,
    _operator: Operator,
    headers: HeaderMap,
    JsonBody(new): JsonBody<NewCode>,
) -> Response {
    let hours = new.hours.unwrap_or(72).clamp(1, 24 * 30);
    if let Some(hash) = &new.code_sha256 {
        if !crate::blobs::valid_name(hash) {
            return HttpError::invalid(
                "code_sha256 is the sha256 of the code: 64 lowercase hex digits",
            )
            .into_response();
        }
    } else if headers.contains_key("idempotency-key") {
        // the answer would carry the code, and a secret is never kept for a replay
        return HttpError::invalid(
            "to repeat this request safely, make the code yourself and send its code_sha256",
        )
        .into_response();
    }
    match devices::create_code(
        state.ledger.db(),
        new.note.as_deref(),
        hours,
        new.code_sha256.as_deref(),
    )
    .await
    {
        Ok((code, expires_at)) => (
            StatusCode::CREATED,
            Json(EnrolmentCode { code, expires_at }),
        )
            .into_response(),
        Err(e) => storage(&e).into_response(),
    }
}

#[utoipa::path(post, path = "/admin/v1/devices/{id}/revoke", params(("id" = i64, Path, description = "The device's client id")),
    responses((status = 200, description = "Revoked"), (status = 404, body = crate::error::ErrorBody)), security(("admin" = [])))]
pub async fn revoke_device(
    State(state): State<Arc<AppState>>,
    _operator: Operator,
    Path(id): Path<i64>,
) -> Response {
    match state.ledger.revoke_client(id).await {
        Ok(true) => {
            state.forget_keys();
            Json(serde_json::json!({"revoked": id})).into_response()
        }
        Ok(false) => HttpError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            format!("no live device {id}"),
        )
        .into_response(),
        Err(e) => HttpError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Storage,
            e.to_string(),
        )
        .into_response(),
    }
}

#[utoipa::path(post, path = "/station/v1/enrol", request_body = Enrol, responses(
    (status = 201, body = Enrolled),
    (status = 200, description = "A repeat of this enrolment with the same station-made key (Idempotent-Replayed)", body = Enrolled),
    (status = 401, description = "No such code, or it expired", body = crate::error::ErrorBody),
    (status = 200, description = "A repeat of this enrolment with the same station-made key (Idempotent-Replayed)", body = Enrolled),
    (status = 409, description = "The code enrolled a device already", body = crate::error::ErrorBody)))]
pub async fn enrol(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    JsonBody(request): JsonBody<Enrol>,
) -> Response {
    let name = request.name.trim();
    if name.is_empty() || name.len() > 100 {
        return HttpError::invalid("a station's name is 1 to 100 characters").into_response();
    }
    if request.key_sha256.is_none() && headers.contains_key("idempotency-key") {
        // the answer would carry the device key, and a secret is never kept for a replay
        return HttpError::invalid(
            "to repeat an enrolment safely, make the device key yourself and send its key_sha256",
        )
        .into_response();
    }
    if let Some(hash) = &request.key_sha256 {
        if !crate::blobs::valid_name(hash) {
            return HttpError::invalid(
                "key_sha256 is the sha256 of the station's key: 64 lowercase hex digits",
            )
            .into_response();
        }
    }
    let enrolment = devices::enrol(
        state.ledger.db(),
        request.code.trim(),
        name,
        request.key_sha256.as_deref(),
    )
    .await;
    match enrolment {
        Ok(Enrolment::Enrolled { client, key }) => (
            StatusCode::CREATED,
            Json(Enrolled {
                device_id: client.id,
                key,
            }),
        )
            .into_response(),
        Ok(Enrolment::Repeated { client }) => {
            let mut response = Json(Enrolled {
                device_id: client.id,
                key: None,
            })
            .into_response();
            response
                .headers_mut()
                .insert("idempotent-replayed", HeaderValue::from_static("true"));
            response
        }
        Ok(Enrolment::Invalid) => HttpError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::EnrolmentInvalid,
            "no such enrolment code, or it has expired",
        )
        .into_response(),
        Ok(Enrolment::Used) => HttpError::new(
            StatusCode::CONFLICT,
            ErrorCode::EnrolmentUsed,
            "this enrolment code has enrolled a device already: ask an admin for a new one",
        )
        .into_response(),
        Err(e) => storage(&e).into_response(),
    }
}

fn upload_headers(mut response: Response, state: UploadState) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        ("upload-offset", state.received.to_string()),
        ("upload-length", state.length.to_string()),
        ("blob-complete", state.complete.to_string()),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    response
}

#[utoipa::path(head, path = "/station/v1/blobs/{sha256}", params(("sha256" = String, Path)),
    responses((status = 200, description = "Upload-Offset, Upload-Length and Blob-Complete say where the upload stands"), (status = 404, description = "Never started")),
    security(("bearer" = [])))]
pub async fn blob_state(
    State(state): State<Arc<AppState>>,
    _caller: Caller,
    Path(sha): Path<String>,
) -> Response {
    match state.blobs.state(state.ledger.db(), &sha).await {
        Ok(Some(upload)) => upload_headers(StatusCode::OK.into_response(), upload),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => upload_error(&e).into_response(),
    }
}

#[utoipa::path(patch, path = "/station/v1/blobs/{sha256}", params(("sha256" = String, Path),
        ("Upload-Offset" = u64, Header, description = "Where these bytes go: what HEAD said"),
        ("Upload-Length" = Option<u64>, Header, description = "The whole blob's length (required on the first piece)")),
    request_body(content = Vec<u8>, content_type = "application/offset+octet-stream"),
    responses((status = 200, body = Upload), (status = 409, description = "Another offset than the router has", body = crate::error::ErrorBody),
        (status = 422, description = "The bytes do not hash to the name", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn upload_blob(
    State(state): State<Arc<AppState>>,
    Caller(client): Caller,
    Path(sha): Path<String>,
    request: Request,
) -> Response {
    let headers = request.headers().clone();
    let number = |name: &str| {
        headers
            .get(name)
            .map(|v| v.to_str().ok().and_then(|v| v.trim().parse::<u64>().ok()))
    };
    let offset = match number("upload-offset") {
        Some(Some(offset)) => offset,
        _ => {
            return HttpError::invalid(
                "Upload-Offset (a byte count) is required: HEAD says where to continue",
            )
            .into_response()
        }
    };
    let length = match number("upload-length") {
        None => None,
        Some(Some(length)) => Some(length),
        Some(None) => {
            return HttpError::invalid("Upload-Length must be a byte count").into_response()
        }
    };
    match state
        .blobs
        .append(
            state.ledger.db(),
            &sha,
            client.id,
            offset,
            length,
            request.into_body(),
        )
        .await
    {
        Ok(upload) => upload_headers(
            Json(Upload {
                length: upload.length,
                received: upload.received,
                complete: upload.complete,
            })
            .into_response(),
            upload,
        ),
        Err(e) => upload_error(&e).into_response(),
    }
}

pub(super) fn upload_error(error: &UploadError) -> HttpError {
    let message = error.to_string();
    match *error {
        UploadError::BadName
        | UploadError::LengthMissing
        | UploadError::LengthChanged(_)
        | UploadError::Overrun
        | UploadError::Cut { .. } => HttpError::invalid(message),
        UploadError::TooLarge(_) => HttpError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
            message,
        ),
        UploadError::OffsetMismatch { .. } => {
            HttpError::new(StatusCode::CONFLICT, ErrorCode::OffsetMismatch, message)
        }
        // a piece still arriving (or a connection about to be given up as idle): try again soon
        UploadError::Busy => HttpError::new(
            StatusCode::CONFLICT,
            ErrorCode::IdempotencyInProgress,
            message,
        )
        .retry_after(std::time::Duration::from_secs(2)),
        UploadError::HashMismatch { .. } => HttpError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::HashMismatch,
            message,
        ),
        UploadError::Io(_) | UploadError::Database(_) => HttpError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Storage,
            message,
        ),
    }
}

pub(super) fn storage(error: &sqlx::Error) -> HttpError {
    HttpError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::Storage,
        format!("the ledger failed: {error}"),
    )
}

#[utoipa::path(post, path = "/station/v1/jobs", request_body = NewJob,
    params(("Idempotency-Key" = String, Header, description = "Required: a repeat names the same job")),
    responses((status = 202, body = JobAccepted), (status = 422, description = "A blob was never uploaded whole, or the key came with another input", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn submit_job(
    State(state): State<Arc<AppState>>,
    Caller(device): Caller,
    headers: HeaderMap,
    JsonBody(job): JsonBody<NewJob>,
) -> Response {
    let key = match crate::idempotency::key_of(&headers) {
        Ok(Some(key)) => key,
        Ok(None) => {
            return HttpError::invalid("a job needs an Idempotency-Key (1 to 255 characters)")
                .into_response()
        }
        Err(error) => return error.into_response(),
    };
    let shas = match crate::jobs::blobs_of(job.kind, &job.input) {
        Ok(shas) => shas,
        Err(message) => return HttpError::invalid(message).into_response(),
    };
    for sha in &shas {
        match state.blobs.state(state.ledger.db(), sha).await {
            Ok(Some(upload)) if upload.complete => {}
            Ok(_) => {
                return HttpError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    ErrorCode::BlobMissing,
                    format!("blob {sha} was never uploaded whole: upload it first"),
                )
                .into_response()
            }
            Err(e) => return upload_error(&e).into_response(),
        }
    }
    match crate::jobs::submit(&state, &device, &key, job.kind, &job.input).await {
        Ok((job_id, new)) => {
            let mut response =
                (StatusCode::ACCEPTED, Json(JobAccepted { job_id, new })).into_response();
            if !new {
                // the same job, answered again: nothing was submitted twice
                response
                    .headers_mut()
                    .insert("idempotent-replayed", HeaderValue::from_static("true"));
            }
            response
        }
        Err(None) => HttpError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::IdempotencyMismatch,
            "this Idempotency-Key named a job with another input",
        )
        .into_response(),
        Err(Some(e)) => storage(&e).into_response(),
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct Cursor {
    /// The last `seq` seen (0 at first).
    pub after: Option<i64>,
    /// Seconds to wait for a result when there is none yet (at most 30).
    pub wait: Option<u64>,
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/station/v1/results", params(Cursor), responses((status = 200, body = [protocol::station_api::JobResult])), security(("bearer" = [])))]
pub async fn job_results(
    State(state): State<Arc<AppState>>,
    Caller(device): Caller,
    axum::extract::Query(cursor): axum::extract::Query<Cursor>,
) -> Response {
    let wait = std::time::Duration::from_secs(cursor.wait.unwrap_or(0).min(30));
    match crate::jobs::results(
        &state,
        device.id,
        cursor.after.unwrap_or(0),
        cursor.limit.unwrap_or(100).clamp(1, 500),
        wait,
    )
    .await
    {
        Ok(results) => Json(results).into_response(),
        Err(e) => storage(&e).into_response(),
    }
}

#[utoipa::path(post, path = "/station/v1/corrections", request_body = Corrections,
    responses((status = 200, body = CorrectionsReceived, description = "Repeats are counted once"), (status = 400, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn ingest_corrections(
    State(state): State<Arc<AppState>>,
    Caller(device): Caller,
    JsonBody(batch): JsonBody<Corrections>,
) -> Response {
    match crate::jobs::ingest_corrections(&state, device.id, &batch.corrections).await {
        Ok(new) => Json(serde_json::json!({"received": batch.corrections.len(), "new": new}))
            .into_response(),
        Err(message) => HttpError::invalid(message).into_response(),
    }
}

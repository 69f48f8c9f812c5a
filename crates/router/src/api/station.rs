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
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EnrolmentCode {
    /// Shown once: give it to the station's operator.
    pub code: String,
    pub expires_at: String,
}

#[utoipa::path(post, path = "/admin/v1/enrolment-codes", request_body = NewCode,
    responses((status = 201, body = EnrolmentCode), (status = 401, body = crate::error::ErrorBody)), security(("admin" = [])))]
pub async fn create_enrolment_code(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Json(new): Json<NewCode>,
) -> Response {
    if let Err(error) = super::admin::authorize(&state, &headers) {
        return error.into_response();
    }
    let hours = new.hours.unwrap_or(72).clamp(1, 24 * 30);
    match devices::create_code(state.ledger.pool(), new.note.as_deref(), hours).await {
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
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Response {
    if let Err(error) = super::admin::authorize(&state, &headers) {
        return error.into_response();
    }
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

#[derive(Debug, Deserialize, ToSchema)]
pub struct Enrol {
    pub code: String,
    /// The station's name (shown to admins).
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Enrolled {
    pub device_id: i64,
    /// Shown once: the station keeps it in the OS keyring.
    pub key: String,
}

#[utoipa::path(post, path = "/station/v1/enrol", request_body = Enrol, responses(
    (status = 201, body = Enrolled),
    (status = 401, description = "No such code, or it expired", body = crate::error::ErrorBody),
    (status = 409, description = "The code enrolled a device already", body = crate::error::ErrorBody)))]
pub async fn enrol(State(state): State<Arc<AppState>>, body: axum::body::Bytes) -> Response {
    let request: Enrol = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => {
            return HttpError::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::MalformedJson,
                format!("the body is not an enrolment: {e}"),
            )
            .into_response()
        }
    };
    let name = request.name.trim();
    if name.is_empty() || name.len() > 100 {
        return HttpError::invalid("a station's name is 1 to 100 characters").into_response();
    }
    match devices::enrol(state.ledger.pool(), request.code.trim(), name).await {
        Ok(Enrolment::Enrolled { client, key }) => (
            StatusCode::CREATED,
            Json(Enrolled {
                device_id: client.id,
                key,
            }),
        )
            .into_response(),
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

#[derive(Debug, Serialize, ToSchema)]
pub struct Upload {
    pub length: u64,
    pub received: u64,
    pub complete: bool,
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
    headers: HeaderMap,
    Path(sha): Path<String>,
) -> Response {
    if let Err(error) = super::authenticate(&state, &headers).await {
        return error.into_response();
    }
    match state.blobs.state(state.ledger.pool(), &sha).await {
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
    Path(sha): Path<String>,
    request: Request,
) -> Response {
    let headers = request.headers().clone();
    let client = match super::authenticate(&state, &headers).await {
        Ok(client) => client,
        Err(error) => return error.into_response(),
    };
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
            state.ledger.pool(),
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

fn upload_error(error: &UploadError) -> HttpError {
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
        UploadError::OffsetMismatch { .. } | UploadError::Busy => {
            HttpError::new(StatusCode::CONFLICT, ErrorCode::OffsetMismatch, message)
        }
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

fn storage(error: &sqlx::Error) -> HttpError {
    HttpError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::Storage,
        format!("the ledger failed: {error}"),
    )
}

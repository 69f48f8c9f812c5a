//! The station API's sync endpoints beside the queue: who answers (`hello`, no key), the heads
//! of a station's decision chain the router witnesses, and blob downloads (a second station
//! shows the photo of a task raised elsewhere).
// utoipa's `params(...)` expansion names the parameter type by a qualified path
#![allow(unused_qualifications)]

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use protocol::station_api::{AuditHead, Hello, WitnessedHead, ROUTER_SERVICE, STATION_API_VERSION};
use protocol::ErrorCode;
use serde::Deserialize;

use super::extract::{Caller, JsonBody};
use super::station::{storage, upload_error};
use crate::audit::Witnessed;
use crate::error::HttpError;
use crate::state::AppState;

#[utoipa::path(get, path = "/station/v1/hello", responses((status = 200, body = Hello)))]
pub async fn hello() -> Json<Hello> {
    Json(Hello {
        service: ROUTER_SERVICE.to_owned(),
        api: STATION_API_VERSION,
        version: env!("CARGO_PKG_VERSION").to_owned(),
        now: crate::ledger::now_rfc3339(),
        idempotency_retention_s: u64::try_from(crate::idempotency::KEEP.whole_seconds())
            .unwrap_or_default(),
    })
}

#[utoipa::path(post, path = "/station/v1/audit-heads", request_body = AuditHead, responses(
    (status = 201, description = "Witnessed", body = WitnessedHead),
    (status = 200, description = "Witnessed before (as first received)", body = WitnessedHead),
    (status = 409, description = "`audit_diverged`: it contradicts a head this station showed before (kept all the same)", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn post_audit_head(
    State(state): State<Arc<AppState>>,
    Caller(device): Caller,
    JsonBody(head): JsonBody<AuditHead>,
) -> Response {
    if !crate::blobs::valid_name(&head.last_hash) {
        return HttpError::invalid("last_hash is a sha256: 64 lowercase hex digits")
            .into_response();
    }
    if i64::try_from(head.decisions).is_err() {
        return HttpError::invalid("decisions is too large").into_response();
    }
    match crate::audit::witness(state.ledger.db(), device.id, &head).await {
        Ok(Witnessed::New(head)) => (StatusCode::CREATED, Json(head)).into_response(),
        Ok(Witnessed::Repeat(head)) => Json(head).into_response(),
        Ok(Witnessed::Diverged { head, earlier }) => {
            tracing::warn!(
                device = device.id,
                ?head,
                ?earlier,
                "a station's decision history diverged"
            );
            HttpError::new(
                StatusCode::CONFLICT,
                ErrorCode::AuditDiverged,
                format!(
                    "the station's decision history differs from what it showed this router on {}: \
                     then {} decisions ending in {}, now {} ending in {} (this head is kept as evidence)",
                    earlier.received_at,
                    earlier.head.decisions,
                    short(&earlier.head.last_hash),
                    head.head.decisions,
                    short(&head.head.last_hash),
                ),
            )
            .into_response()
        }
        Err(e) => storage(&e).into_response(),
    }
}

fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct Page {
    /// How many heads were read already (0 at first): heads are only ever added.
    pub after: Option<i64>,
    /// At most 1000; default 100.
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/station/v1/audit-heads", params(Page),
    responses((status = 200, description = "The calling station's heads, oldest first", body = [WitnessedHead])),
    security(("bearer" = [])))]
pub async fn audit_heads(
    State(state): State<Arc<AppState>>,
    Caller(device): Caller,
    Query(page): Query<Page>,
) -> Response {
    let skip = page.after.unwrap_or(0).max(0);
    let limit = page.limit.unwrap_or(100).clamp(1, 1000);
    match crate::audit::heads(state.ledger.db(), device.id, skip, limit).await {
        Ok(heads) => Json(heads).into_response(),
        Err(e) => storage(&e).into_response(),
    }
}

#[utoipa::path(get, path = "/station/v1/blobs/{sha256}", params(("sha256" = String, Path)),
    responses((status = 200, description = "The whole blob", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 404, description = "No complete blob of that name", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn download_blob(
    State(state): State<Arc<AppState>>,
    _caller: Caller,
    Path(sha): Path<String>,
) -> Response {
    let absent = || {
        HttpError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            format!("the router has no complete blob {sha}"),
        )
        .into_response()
    };
    match state.blobs.state(state.ledger.db(), &sha).await {
        Ok(Some(upload)) if upload.complete => {}
        Ok(_) => return absent(),
        Err(e) => return upload_error(&e).into_response(),
    }
    let Some(path) = state.blobs.path_of(&sha) else {
        return absent();
    };
    let file = match tokio::fs::File::open(&path).await {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return absent(),
        Err(e) => return storage_io(&e),
    };
    let length = match file.metadata().await {
        Ok(meta) => meta.len(),
        Err(e) => return storage_io(&e),
    };
    let mut response = file_response(file, length);
    // the name is the content's hash: it never changes
    if let Ok(tag) = HeaderValue::from_str(&format!("\"{sha}\"")) {
        response.headers_mut().insert(header::ETAG, tag);
    }
    response
}

/// A file streamed from disk (a blob or a package of hundreds of MB is never held in memory),
/// with its length: what a download's progress bar needs.
pub(super) fn file_response(file: tokio::fs::File, length: u64) -> Response {
    let mut response = Body::from_stream(tokio_util::io::ReaderStream::new(file)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    response
}

fn storage_io(error: &std::io::Error) -> Response {
    HttpError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::Storage,
        format!("the blob store failed: {error}"),
    )
    .into_response()
}

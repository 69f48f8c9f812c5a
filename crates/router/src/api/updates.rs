//! Station releases (no key: the same answer a static host would give, and a package is worth
//! nothing without the signing key): whether a newer release exists for a platform, and its
//! package, streamed from the updates folder.
// utoipa's `params(...)` expansion names the parameter type by a qualified path
#![allow(unused_qualifications)]

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use protocol::station_api::UpdateOffer;
use protocol::ErrorCode;

use crate::error::HttpError;
use crate::state::AppState;
use crate::updates::{Manifest, Package};

/// Where packages in the updates folder are downloaded from.
const FILES: &str = "/station/v1/updates/files/";

#[utoipa::path(get, path = "/station/v1/updates/{os}/{arch}/{bundle}/{current_version}",
    params(
        ("os" = String, Path, description = "linux, darwin or windows"),
        ("arch" = String, Path, description = "x86_64, aarch64, …"),
        ("bundle" = String, Path, description = "How the station was installed: appimage, deb, rpm, msi, nsis, app"),
        ("current_version" = String, Path, description = "The station's version (semver)")),
    responses(
        (status = 200, description = "A newer release for this platform", body = UpdateOffer),
        (status = 204, description = "Nothing newer (or nothing published)"),
        (status = 400, description = "`invalid_request`: the version is not semver", body = crate::error::ErrorBody),
        (status = 503, description = "`unavailable`: the published manifest is broken (the router's log says how)", body = crate::error::ErrorBody)))]
pub async fn offer_update(
    State(state): State<Arc<AppState>>,
    Path((os, arch, bundle, current)): Path<(String, String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let Ok(current) = semver::Version::parse(current.trim_start_matches('v')) else {
        return HttpError::invalid(format!("{current:?} is not a semver version")).into_response();
    };
    let manifest = match manifest(&state).await {
        Ok(Some(manifest)) => manifest,
        Ok(None) => return StatusCode::NO_CONTENT.into_response(),
        Err(response) => return response,
    };
    let Some(package) = manifest.offer(&current, &os, &arch, &bundle) else {
        return StatusCode::NO_CONTENT.into_response();
    };
    let url = match download_url(&state, &headers, package) {
        Ok(url) => url,
        Err(error) => return error.into_response(),
    };
    Json(UpdateOffer {
        version: manifest.version.to_string(),
        notes: manifest.notes.clone(),
        pub_date: manifest.pub_date.clone(),
        url,
        signature: package.signature.clone(),
    })
    .into_response()
}

#[utoipa::path(get, path = "/station/v1/updates/files/{name}",
    params(("name" = String, Path, description = "A package the current manifest names")),
    responses(
        (status = 200, description = "The package", content_type = "application/octet-stream"),
        (status = 404, description = "`not_found`: not a package of the current release", body = crate::error::ErrorBody)))]
pub async fn update_file(State(state): State<Arc<AppState>>, Path(name): Path<String>) -> Response {
    let not_found = || {
        HttpError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            format!("{name:?} is not a package of the release this router offers"),
        )
        .into_response()
    };
    let manifest = match manifest(&state).await {
        Ok(Some(manifest)) => manifest,
        Ok(None) => return not_found(),
        Err(response) => return response,
    };
    // only what the manifest names, checked as a plain file name by `Manifest::load`
    let (Some(updates), true) = (state.config.updates.as_ref(), manifest.serves(&name)) else {
        return not_found();
    };
    let file = match tokio::fs::File::open(updates.dir.join(&name)).await {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return not_found(),
        Err(e) => {
            return HttpError::internal(format!("the package {name} cannot be read: {e}"))
                .into_response()
        }
    };
    let length = match file.metadata().await {
        Ok(meta) => meta.len(),
        Err(e) => {
            return HttpError::internal(format!("the package {name} cannot be read: {e}"))
                .into_response()
        }
    };
    super::sync::file_response(file, length)
}

/// The published manifest, read now (publishing needs no restart); a broken one is the
/// operator's to fix: logged, and told to the station as unavailable.
async fn manifest(state: &AppState) -> Result<Option<Manifest>, Response> {
    let Some(updates) = state.config.updates.clone() else {
        return Ok(None);
    };
    let loaded = tokio::task::spawn_blocking(move || Manifest::load(&updates.dir)).await;
    match loaded {
        Ok(Ok(manifest)) => Ok(manifest),
        Ok(Err(error)) => {
            tracing::error!(%error, "update manifest refused");
            Err(HttpError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Unavailable,
                format!("this router's published release cannot be offered: {error}"),
            )
            .into_response())
        }
        Err(join) => Err(HttpError::internal(format!(
            "reading the update manifest failed: {join}"
        ))
        .into_response()),
    }
}

/// An absolute URL for the package: as published when it is elsewhere, else on this router
/// at its public URL (or the address the station asked).
fn download_url(
    state: &AppState,
    headers: &HeaderMap,
    package: &Package,
) -> Result<String, HttpError> {
    let Some(name) = package.local_file() else {
        return Ok(package.url.clone());
    };
    let base = match state
        .config
        .updates
        .as_ref()
        .and_then(|u| u.public_url.clone())
    {
        Some(base) => base,
        None => {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .ok_or_else(|| HttpError::invalid("no Host header to name the download by"))?;
            let https = headers
                .get("x-forwarded-proto")
                .is_some_and(|p| p.as_bytes().eq_ignore_ascii_case(b"https"));
            format!("{}://{host}", if https { "https" } else { "http" })
        }
    };
    let mut url = url::Url::parse(&base)
        .and_then(|b| b.join(FILES))
        .map_err(|e| {
            HttpError::invalid(format!("the router's address {base:?} is not a URL: {e}"))
        })?;
    url.path_segments_mut()
        .map_err(|()| {
            HttpError::invalid(format!("the router's address {base:?} cannot hold a path"))
        })?
        .pop_if_empty()
        .push(name);
    Ok(url.to_string())
}

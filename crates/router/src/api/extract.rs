//! The extractors every handler shares: who calls (a client or device key, or the admin key)
//! and a JSON body, each refused with the project's `{code, message}` error.

use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use protocol::ErrorCode;
use serde::de::DeserializeOwned;

use crate::error::HttpError;
use crate::ledger::Client;
use crate::state::AppState;

/// The client (or station device) of the request's bearer key.
#[derive(Debug)]
pub struct Caller(pub Client);

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = HttpError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, HttpError> {
        super::authenticate(state, &parts.headers).await.map(Caller)
    }
}

/// The request carries the admin key.
#[derive(Debug)]
pub struct Admin;

impl FromRequestParts<Arc<AppState>> for Admin {
    type Rejection = HttpError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, HttpError> {
        super::admin::authorize(state, &parts.headers).map(|()| Admin)
    }
}

/// A JSON body; one that does not parse is `malformed_json` with serde's reason.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = HttpError;

    async fn from_request(request: Request, state: &S) -> Result<Self, HttpError> {
        let bytes = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(|e| {
                HttpError::new(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::MalformedJson,
                    format!("the body cannot be read: {e}"),
                )
            })?;
        serde_json::from_slice(&bytes).map(JsonBody).map_err(|e| {
            HttpError::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::MalformedJson,
                format!("the body is not the JSON this endpoint takes: {e}"),
            )
        })
    }
}

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

/// A person signed in on the calling device: the device key and `X-Session-Token`.
#[derive(Debug)]
pub struct Person {
    pub session: crate::accounts::Session,
    pub token: String,
}

impl FromRequestParts<Arc<AppState>> for Person {
    type Rejection = HttpError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, HttpError> {
        let device = super::authenticate(state, &parts.headers).await?;
        let token = parts
            .headers
            .get(protocol::account::SESSION_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                HttpError::new(
                    StatusCode::UNAUTHORIZED,
                    ErrorCode::NotSignedIn,
                    format!(
                        "this needs a signed-in person: send the session as `{}`",
                        protocol::account::SESSION_HEADER
                    ),
                )
            })?
            .to_owned();
        let session = state.accounts.session(&token, device.id).await?;
        Ok(Self { session, token })
    }
}

/// A person signed in with an admin account: the dashboards and account management. A
/// reviewer's or auditor's session is refused here, at the router, whatever the UI shows.
#[derive(Debug)]
pub struct Admin(#[allow(dead_code)] pub Person);

impl FromRequestParts<Arc<AppState>> for Admin {
    type Rejection = HttpError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, HttpError> {
        let person = Person::from_request_parts(parts, state).await?;
        if person.session.account.role == protocol::account::Role::Admin {
            Ok(Self(person))
        } else {
            Err(crate::accounts::AuthError::Forbidden(format!(
                "this needs an admin account; {} is signed in as {} {}",
                person.session.account.name,
                if person.session.account.role == protocol::account::Role::Reviewer {
                    "a"
                } else {
                    "an"
                },
                person.session.account.role.as_str()
            ))
            .into())
        }
    }
}

/// Device enrolment codes and revocations: an admin's session, or the operator's key
/// (`REVIEW_ROUTER_ADMIN_KEY`, for provisioning scripts before any station exists: a first
/// station needs a code before anyone can sign in on it). It opens nothing else.
#[derive(Debug)]
pub struct Operator;

impl FromRequestParts<Arc<AppState>> for Operator {
    type Rejection = HttpError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, HttpError> {
        if super::admin::authorize(state, &parts.headers).is_ok() {
            return Ok(Self);
        }
        Admin::from_request_parts(parts, state).await.map(|_| Self)
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

//! Sign-in for people (`/station/v1/auth`): the password, then a TOTP code or a recovery code,
//! each from a device with its key; and the admins' account management (`/admin/v1/users`).
//! Nothing here is replayed by `Idempotency-Key`: every answer holds a secret or is one use.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use protocol::account::{
    Account, Login, LoginChallenge, NewAccount, RecoveryCodes, RegenerateRecovery, SecondFactor,
    SessionState, SignedIn,
};
use protocol::ErrorCode;

use super::extract::{Admin, Caller, JsonBody, Person};
use crate::accounts::AuthError;
use crate::error::HttpError;
use crate::state::AppState;

impl From<AuthError> for HttpError {
    fn from(error: AuthError) -> Self {
        let message = error.to_string();
        match error {
            AuthError::Off => HttpError::new(StatusCode::FORBIDDEN, ErrorCode::Forbidden, message),
            AuthError::BadCredentials => {
                HttpError::new(StatusCode::UNAUTHORIZED, ErrorCode::BadCredentials, message)
            }
            AuthError::Locked { retry_after_s, .. } => HttpError::new(
                StatusCode::TOO_MANY_REQUESTS,
                ErrorCode::AccountLocked,
                message,
            )
            .retry_after(std::time::Duration::from_secs(retry_after_s)),
            AuthError::BadCode { .. } | AuthError::BadRecoveryCode => {
                HttpError::new(StatusCode::UNAUTHORIZED, ErrorCode::BadCode, message)
            }
            AuthError::ChallengeExpired | AuthError::SessionEnded(_) => {
                HttpError::new(StatusCode::UNAUTHORIZED, ErrorCode::SessionExpired, message)
            }
            AuthError::Forbidden(_) => {
                HttpError::new(StatusCode::FORBIDDEN, ErrorCode::Forbidden, message)
            }
            AuthError::Invalid(_) => HttpError::invalid(message),
            AuthError::Storage(_) => HttpError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::Storage,
                message,
            ),
            AuthError::Seal(_) => HttpError::internal(message),
        }
    }
}

fn answer<T: serde::Serialize>(result: Result<T, AuthError>) -> Response {
    match result {
        Ok(value) => Json(value).into_response(),
        Err(error) => HttpError::from(error).into_response(),
    }
}

/// The password step.
#[utoipa::path(post, path = "/station/v1/auth/login", request_body = Login,
    responses((status = 200, body = LoginChallenge), (status = 401, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)),
    security(("device" = [])))]
pub async fn login(
    State(state): State<Arc<AppState>>,
    Caller(device): Caller,
    JsonBody(login): JsonBody<Login>,
) -> Response {
    answer(
        state
            .accounts
            .login(&login.name, &login.password, device.id)
            .await,
    )
}

/// The second step: a TOTP code (confirming the authenticator on an enrolment) or a recovery
/// code; answers the session.
#[utoipa::path(post, path = "/station/v1/auth/code", request_body = SecondFactor,
    responses((status = 200, body = SignedIn), (status = 401, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)),
    security(("device" = [])))]
pub async fn code(
    State(state): State<Arc<AppState>>,
    Caller(device): Caller,
    JsonBody(step): JsonBody<SecondFactor>,
) -> Response {
    answer(
        state
            .accounts
            .second_factor(
                &step.challenge,
                step.code.as_deref(),
                step.recovery_code.as_deref(),
                device.id,
            )
            .await,
    )
}

/// The session of `X-Session-Token`, as the router sees it.
#[utoipa::path(get, path = "/station/v1/auth/session",
    responses((status = 200, body = SessionState), (status = 401, body = crate::error::ErrorBody)),
    security(("device" = [])))]
pub async fn session(person: Person) -> Response {
    Json(SessionState {
        expires_at: person.session.expires_at(),
        account: person.session.account,
    })
    .into_response()
}

#[utoipa::path(post, path = "/station/v1/auth/logout",
    responses((status = 204), (status = 401, body = crate::error::ErrorBody)),
    security(("device" = [])))]
pub async fn logout(State(state): State<Arc<AppState>>, person: Person) -> Response {
    match state.accounts.logout(&person.token).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(error) => HttpError::from(error).into_response(),
    }
}

/// New recovery codes (the old ones void), for a fresh TOTP code.
#[utoipa::path(post, path = "/station/v1/auth/recovery-codes", request_body = RegenerateRecovery,
    responses((status = 200, body = RecoveryCodes), (status = 401, body = crate::error::ErrorBody)),
    security(("device" = [])))]
pub async fn recovery_codes(
    State(state): State<Arc<AppState>>,
    person: Person,
    JsonBody(body): JsonBody<RegenerateRecovery>,
) -> Response {
    answer(
        state
            .accounts
            .regenerate_recovery_codes(&person.session, &body.code)
            .await
            .map(|codes| RecoveryCodes { codes }),
    )
}

/// An admin adds an account; the person enrols TOTP at the first sign-in.
#[utoipa::path(post, path = "/admin/v1/users", request_body = NewAccount,
    responses((status = 200, body = Account), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)),
    security(("admin" = [])))]
pub async fn add_user(
    State(state): State<Arc<AppState>>,
    _admin: Admin,
    JsonBody(new): JsonBody<NewAccount>,
) -> Response {
    answer(
        state
            .accounts
            .create(&new.name, new.role, &new.password)
            .await,
    )
}

#[utoipa::path(get, path = "/admin/v1/users",
    responses((status = 200, body = [Account]), (status = 403, body = crate::error::ErrorBody)),
    security(("admin" = [])))]
pub async fn users(State(state): State<Arc<AppState>>, _admin: Admin) -> Response {
    answer(state.accounts.list().await)
}

/// Ends every session of an account.
#[utoipa::path(post, path = "/admin/v1/users/{id}/revoke-sessions",
    params(("id" = i64, Path, description = "The account id")),
    responses((status = 200, body = Object), (status = 403, body = crate::error::ErrorBody)),
    security(("admin" = [])))]
pub async fn revoke_sessions(
    State(state): State<Arc<AppState>>,
    _admin: Admin,
    Path(id): Path<i64>,
) -> Response {
    answer(
        state
            .accounts
            .revoke_sessions(id)
            .await
            .map(|n| serde_json::json!({ "revoked": n })),
    )
}

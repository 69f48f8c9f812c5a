//! The router's errors: configuration and start-up (`RouterError`), and what a request is
//! answered with (`HttpError`: a status, the shared `{code, message}` body, and `Retry-After`
//! when there is a time to come back).

use std::path::PathBuf;
use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use protocol::ErrorCode;
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {0}: {1}")]
    Read(PathBuf, #[source] std::io::Error),
    #[error("the router config is not valid TOML: {0}")]
    Parse(String),
    #[error("the router config is wrong: {0}")]
    Invalid(String),
}

#[derive(Debug, thiserror::Error)]
pub enum RouterError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("the ledger database failed: {0}")]
    Database(#[from] sqlx::Error),
    #[error("the ledger's migrations failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot listen: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot build the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// What a request is answered with when it fails.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message} ({code})")]
pub struct HttpError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
    pub retry_after: Option<Duration>,
}

impl HttpError {
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn retry_after(mut self, wait: Duration) -> Self {
        self.retry_after = Some(wait);
        self
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, message)
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidRequest, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            message,
        )
    }
}

/// `{code, message}` as everywhere in the project, plus OpenAI's `error` object, so OpenAI's
/// SDKs show the message as they do a provider's.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    #[schema(value_type = String)]
    pub code: ErrorCode,
    pub message: String,
    /// When to come back (also the `Retry-After` header).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u64>,
    pub error: OpenAiError,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OpenAiError {
    pub message: String,
    /// OpenAI's error type (`invalid_request_error`, `rate_limit_error`…).
    #[serde(rename = "type")]
    pub kind: String,
    #[schema(value_type = String)]
    pub code: ErrorCode,
}

/// Whole seconds, rounded up (a client that waits the header's time must find room).
pub fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let retry = self.retry_after.map(retry_after_secs);
        let kind = match self.status.as_u16() {
            401 => "authentication_error",
            429 => "rate_limit_error",
            400..=499 => "invalid_request_error",
            _ => "api_error",
        };
        let body = ErrorBody {
            code: self.code,
            message: self.message.clone(),
            retry_after_seconds: retry,
            error: OpenAiError {
                message: self.message,
                kind: kind.into(),
                code: self.code,
            },
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(seconds) = retry {
            if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        response
    }
}

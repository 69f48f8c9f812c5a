//! `POST /v1/chat/completions` and `GET /v1/models`, as OpenAI's API has them: any OpenAI client
//! works unchanged. Text and images (data URLs), `response_format` with a JSON schema, and
//! `stream: true` are passed on to the backend chosen.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use protocol::ErrorCode;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::error::HttpError;
use crate::idempotency::{self, Claim};
use crate::state::AppState;

/// An OpenAI chat completion request (only the fields the router reads are listed; the rest are
/// passed on as sent).
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // documents the body in the OpenAPI document; the body is read as JSON
pub struct ChatRequest {
    /// A model name of `GET /v1/models`.
    pub model: String,
    /// OpenAI's messages: text, or parts with `image_url` data URLs.
    #[schema(value_type = Vec<Object>)]
    pub messages: Vec<Value>,
    /// `{"type": "json_schema", "json_schema": {…}}` for structured output.
    #[schema(value_type = Option<Object>)]
    pub response_format: Option<Value>,
    /// Server-sent events, passed through as the backend sends them.
    pub stream: Option<bool>,
}

#[utoipa::path(post, path = "/v1/chat/completions", request_body = ChatRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer to a repeat (kept 24 h)"),
        ("X-Store-Id" = Option<String>, Header, description = "The store the request is for (the admins' views filter by it)")),
    responses(
        (status = 200, description = "The backend's chat completion (or an SSE stream), as it sent it"),
        (status = 400, description = "Malformed JSON or a wrong request", body = crate::error::ErrorBody),
        (status = 401, description = "No key, or an unknown or revoked one", body = crate::error::ErrorBody),
        (status = 404, description = "Unknown model", body = crate::error::ErrorBody),
        (status = 409, description = "The first request with this Idempotency-Key is still running", body = crate::error::ErrorBody),
        (status = 413, description = "The body is larger than the router accepts", body = crate::error::ErrorBody),
        (status = 422, description = "This Idempotency-Key came with another body", body = crate::error::ErrorBody),
        (status = 429, description = "This key's rate is exceeded; see Retry-After", body = crate::error::ErrorBody),
        (status = 503, description = "No backend can take it now; see Retry-After", body = crate::error::ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn chat_completions(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    request: Request,
) -> Response {
    let (client, model, body, bytes) =
        match read_request(&state, &headers, request.into_body()).await {
            Ok(read) => read,
            Err(error) => return error.into_response(),
        };
    let store = headers
        .get("x-store-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let Some(key) = headers.get("idempotency-key") else {
        return crate::dispatch::chat(
            state,
            client,
            model,
            body,
            crate::dispatch::Tags {
                idempotency_key: None,
                store,
            },
        )
        .await;
    };
    let key = match key.to_str() {
        Ok(key) if !key.is_empty() && key.len() <= 255 => key.to_owned(),
        _ => {
            return HttpError::invalid("Idempotency-Key must be 1 to 255 visible ASCII characters")
                .into_response()
        }
    };
    if body.get("stream").and_then(Value::as_bool).unwrap_or(false) {
        return HttpError::invalid(
            "a streamed answer cannot be replayed: send Idempotency-Key without `stream`",
        )
        .into_response();
    }
    let pool = state.ledger.pool().clone();
    match idempotency::claim(&pool, client.id, &key, &idempotency::body_hash(&bytes)).await {
        Err(error) => {
            tracing::error!(%error, "idempotency claim failed");
            HttpError::internal("the idempotency key could not be checked").into_response()
        }
        Ok(Claim::Mismatch) => HttpError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::IdempotencyMismatch,
            "this Idempotency-Key was used with another body",
        )
        .into_response(),
        Ok(Claim::InProgress) => HttpError::new(
            StatusCode::CONFLICT,
            ErrorCode::IdempotencyInProgress,
            "the first request with this Idempotency-Key is still running",
        )
        .retry_after(std::time::Duration::from_secs(1))
        .into_response(),
        Ok(Claim::Replay {
            status,
            content_type,
            body,
        }) => {
            let mut response =
                (StatusCode::from_u16(status).unwrap_or(StatusCode::OK), body).into_response();
            let headers = response.headers_mut();
            headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
            if let Some(value) = content_type.and_then(|c| HeaderValue::from_str(&c).ok()) {
                headers.insert(header::CONTENT_TYPE, value);
            }
            response
        }
        Ok(Claim::Run) => {
            let response = crate::dispatch::chat(
                Arc::clone(&state),
                client.clone(),
                model,
                body,
                crate::dispatch::Tags {
                    idempotency_key: Some(key.clone()),
                    store,
                },
            )
            .await;
            let (parts, body) = response.into_parts();
            // a whole answer (not a stream): already in memory
            let bytes = axum::body::to_bytes(body, usize::MAX)
                .await
                .unwrap_or_default();
            let content_type = parts
                .headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok());
            if let Err(error) = idempotency::finish(
                &pool,
                client.id,
                &key,
                parts.status.as_u16(),
                content_type,
                &bytes,
            )
            .await
            {
                tracing::error!(%error, "the answer could not be kept for its idempotency key");
            }
            Response::from_parts(parts, Body::from(bytes))
        }
    }
}

type Read = (
    crate::ledger::Client,
    crate::state::ModelRoute,
    Value,
    bytes::Bytes,
);

async fn read_request(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<Read, HttpError> {
    let client = super::authenticate(state, headers).await?;
    if let Err(wait) = state.admission.admit(client.id) {
        return Err(HttpError::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RateLimited,
            format!("key {} is over its rate", client.name),
        )
        .retry_after(wait));
    }
    let limit = state.config.max_body_bytes;
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| {
        HttpError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
            format!("the body is over {limit} bytes"),
        )
    })?;
    let body: Value = serde_json::from_slice(&bytes).map_err(|e| {
        HttpError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::MalformedJson,
            format!("the body is not JSON: {e}"),
        )
    })?;
    if !body.is_object() {
        return Err(HttpError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::MalformedJson,
            "the body must be a JSON object",
        ));
    }
    let name = body
        .get("model")
        .and_then(Value::as_str)
        .ok_or_else(|| HttpError::invalid("`model` is missing"))?;
    if !body.get("messages").is_some_and(Value::is_array) {
        return Err(HttpError::invalid("`messages` must be a list"));
    }
    let model = state.models.get(name).cloned().ok_or_else(|| {
        HttpError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::UnknownModel,
            format!("no model named {name:?} is served (GET /v1/models lists them)"),
        )
    })?;
    Ok((client, model, body, bytes))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ModelList {
    /// Always `list`.
    pub object: &'static str,
    pub data: Vec<ModelEntry>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ModelEntry {
    pub id: String,
    /// Always `model`.
    pub object: &'static str,
    pub created: i64,
    pub owned_by: &'static str,
}

#[utoipa::path(get, path = "/v1/models", responses((status = 200, body = ModelList), (status = 401, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_models(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if let Err(error) = super::authenticate(&state, &headers).await {
        return error.into_response();
    }
    let mut data: Vec<ModelEntry> = state
        .models
        .keys()
        .map(|id| ModelEntry {
            id: id.clone(),
            object: "model",
            created: 0,
            owned_by: "review-router",
        })
        .collect();
    data.sort_by(|a, b| a.id.cmp(&b.id));
    Json(ModelList {
        object: "list",
        data,
    })
    .into_response()
}

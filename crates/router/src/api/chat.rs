//! `POST /v1/chat/completions` and `GET /v1/models`, as OpenAI's API has them: any OpenAI client
//! works unchanged. Text and images (data URLs), `response_format` with a JSON schema, and
//! `stream: true` are passed on to the backend chosen.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use protocol::ErrorCode;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::extract::Caller;
use crate::error::HttpError;
use crate::idempotency;
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
    let key = match idempotency::key_of(&headers) {
        Ok(key) => key,
        Err(error) => return error.into_response(),
    };
    let Some(key) = key else {
        let tags = crate::dispatch::Tags {
            idempotency_key: None,
            store,
        };
        return crate::dispatch::chat(state, client, model, body, tags).await;
    };
    if body.get("stream").and_then(Value::as_bool).unwrap_or(false) {
        return HttpError::invalid(
            "a streamed answer cannot be replayed: send Idempotency-Key without `stream`",
        )
        .into_response();
    }
    let pool = state.ledger.db().clone();
    // per client (not per bearer text): a client's repeat is its own, whichever key it sends
    let scope = idempotency::Scope {
        endpoint: "POST /v1/chat/completions".into(),
        principal: format!("client:{}", client.id),
    };
    let hash = idempotency::body_hash(&bytes);
    let tags = crate::dispatch::Tags {
        idempotency_key: Some(key.clone()),
        store,
    };
    let work = crate::dispatch::chat(Arc::clone(&state), client, model, body, tags);
    idempotency::once(&pool, state.shared.as_ref(), &scope, &key, &hash, work).await
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
    let admitted = state.admit(client.id).await.map_err(|error| {
        tracing::error!(%error, "shared traffic state unavailable");
        HttpError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Unavailable,
            "the router's shared traffic state (Redis) does not answer",
        )
        .retry_after(std::time::Duration::from_secs(1))
    })?;
    if let Err(wait) = admitted {
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
    let (body, name) = chat_body(&bytes)?;
    let name = name.as_str();
    let model = state.models.get(name).cloned().ok_or_else(|| {
        HttpError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::UnknownModel,
            format!("no model named {name:?} is served (GET /v1/models lists them)"),
        )
    })?;
    Ok((client, model, body, bytes))
}

/// A chat request's body as the router reads it before routing: a JSON object with a `model`
/// name and a `messages` list (the rest is the provider's business and passed on). Any bytes
/// give the body or the client's error, never a panic (fuzzed: `fuzz/fuzz_targets/router.rs`).
pub fn chat_body(bytes: &[u8]) -> Result<(Value, String), HttpError> {
    let body: Value = serde_json::from_slice(bytes).map_err(|e| {
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
        .ok_or_else(|| HttpError::invalid("`model` is missing"))?
        .to_owned();
    if !body.get("messages").is_some_and(Value::is_array) {
        return Err(HttpError::invalid("`messages` must be a list"));
    }
    Ok((body, name))
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
pub async fn list_models(State(state): State<Arc<AppState>>, _caller: Caller) -> Response {
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

//! Each provider's error responses as they come over the wire: status, headers and body, copied
//! from what Gemini's OpenAI-compatible endpoint and OpenAI send, so the router's error mapping is
//! tested against the real shapes (Gemini wraps most errors in a one-element list; its 5xx bodies
//! are bare objects).

use crate::script::{FaultKind, FaultRule};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Whose wire format the fake speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    Gemini,
    #[serde(rename = "openai")]
    OpenAi,
}

impl std::str::FromStr for Provider {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "gemini" => Ok(Self::Gemini),
            "openai" => Ok(Self::OpenAi),
            other => Err(format!(
                "unknown provider {other:?}: expected gemini or openai"
            )),
        }
    }
}

impl Provider {
    pub fn default_models(self) -> Vec<String> {
        let models: &[&str] = match self {
            Self::Gemini => &["gemini-2.5-flash", "gemini-2.5-pro"],
            Self::OpenAi => &["gpt-4o-mini", "gpt-4.1"],
        };
        models.iter().map(|m| (*m).to_owned()).collect()
    }

    pub fn owner(self) -> &'static str {
        match self {
            Self::Gemini => "google",
            Self::OpenAi => "openai",
        }
    }
}

/// Default retry hint of a rate-limit fault.
const DEFAULT_RETRY_AFTER_MS: u64 = 120;

/// The error response of a fault that answers with an error status; `None` for the faults that
/// shape a 200 (or no answer at all).
pub fn fault_response(provider: Provider, rule: &FaultRule, model: &str) -> Option<Response> {
    let response = match rule.kind {
        FaultKind::Quota => quota(provider),
        FaultKind::RateLimit => rate_limit(
            provider,
            model,
            rule.retry_after_ms.unwrap_or(DEFAULT_RETRY_AFTER_MS),
        ),
        FaultKind::ServerError => server_error(provider, rule.status.unwrap_or(503)),
        FaultKind::BadRequest => bad_request(provider, "Request contains an invalid argument."),
        FaultKind::Timeout
        | FaultKind::Hang
        | FaultKind::CutStream
        | FaultKind::MalformedBody
        | FaultKind::InvalidContent => return None,
    };
    Some(response)
}

fn quota(provider: Provider) -> Response {
    match provider {
        Provider::Gemini => gemini(
            429,
            "Resource has been exhausted (e.g. check quota).",
            "RESOURCE_EXHAUSTED",
            true,
        ),
        Provider::OpenAi => respond(
            StatusCode::TOO_MANY_REQUESTS,
            &[],
            &json!({"error": {
                "message": "You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.",
                "type": "insufficient_quota", "param": null, "code": "insufficient_quota"}}),
        ),
    }
}

fn rate_limit(provider: Provider, model: &str, retry_ms: u64) -> Response {
    match provider {
        Provider::Gemini => {
            let delay = if retry_ms.is_multiple_of(1000) {
                format!("{}s", retry_ms / 1000)
            } else {
                format!("{:.3}s", retry_ms as f64 / 1000.0)
            };
            let body = json!([{"error": {
            "code": 429,
            "message": format!("You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.\n* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_paid_tier_requests, limit: 500, model: {model}\nPlease retry in {delay}."),
            "status": "RESOURCE_EXHAUSTED",
            "details": [
                {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{
                    "quotaMetric": "generativelanguage.googleapis.com/generate_content_paid_tier_requests",
                    "quotaId": "GenerateRequestsPerMinutePerProjectPerModel",
                    "quotaDimensions": {"location": "global", "model": model},
                    "quotaValue": "500"}]},
                {"@type": "type.googleapis.com/google.rpc.Help", "links": [{
                    "description": "Learn more about Gemini API quotas",
                    "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}]},
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay}
            ]}}]);
            respond(StatusCode::TOO_MANY_REQUESTS, &[], &body)
        }
        Provider::OpenAi => {
            let headers = [
                ("retry-after", retry_ms.div_ceil(1000).max(1).to_string()),
                ("retry-after-ms", retry_ms.to_string()),
                ("x-ratelimit-limit-requests", "500".to_owned()),
                ("x-ratelimit-remaining-requests", "0".to_owned()),
                ("x-ratelimit-reset-requests", format!("{retry_ms}ms")),
                ("x-ratelimit-limit-tokens", "200000".to_owned()),
                ("x-ratelimit-remaining-tokens", "199000".to_owned()),
                ("x-ratelimit-reset-tokens", "300ms".to_owned()),
            ];
            let body = json!({"error": {
                "message": format!("Rate limit reached for {model} in organization org-fake on requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again in {retry_ms}ms. Visit https://platform.openai.com/account/rate-limits to learn more."),
                "type": "requests", "param": null, "code": "rate_limit_exceeded"}});
            respond(StatusCode::TOO_MANY_REQUESTS, &headers, &body)
        }
    }
}

fn server_error(provider: Provider, status: u16) -> Response {
    match (provider, status) {
        (Provider::Gemini, 500) => gemini(500, "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting", "INTERNAL", false),
        (Provider::Gemini, 502) => gemini(502, "Bad Gateway", "UNAVAILABLE", false),
        (Provider::Gemini, _) => gemini(503, "The model is overloaded. Please try again later.", "UNAVAILABLE", false),
        (Provider::OpenAi, 500) => openai(StatusCode::INTERNAL_SERVER_ERROR, "The server had an error while processing your request. Sorry about that!", "server_error", &Value::Null),
        (Provider::OpenAi, 502) => openai(StatusCode::BAD_GATEWAY, "Bad gateway.", "cf_bad_gateway", &json!(502)),
        (Provider::OpenAi, _) => openai(StatusCode::SERVICE_UNAVAILABLE, "The engine is currently overloaded, please try again later", "server_error", &Value::Null),
    }
}

/// 400 for a request the provider refuses; never worth a retry.
pub fn bad_request(provider: Provider, message: &str) -> Response {
    match provider {
        Provider::Gemini => gemini(400, message, "INVALID_ARGUMENT", true),
        Provider::OpenAi => openai(
            StatusCode::BAD_REQUEST,
            message,
            "invalid_request_error",
            &Value::Null,
        ),
    }
}

/// A missing or wrong API key. Gemini answers these with 400 INVALID_ARGUMENT, not 401.
pub fn bad_key(provider: Provider) -> Response {
    match provider {
        Provider::Gemini => gemini(400, "API key not valid. Please pass a valid API key.", "INVALID_ARGUMENT", true),
        Provider::OpenAi => openai(
            StatusCode::UNAUTHORIZED,
            "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.",
            "invalid_request_error",
            &json!("invalid_api_key"),
        ),
    }
}

fn gemini(code: u16, message: &str, status: &str, listed: bool) -> Response {
    let error = json!({"error": {"code": code, "message": message, "status": status}});
    let body = if listed { json!([error]) } else { error };
    respond(
        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        &[],
        &body,
    )
}

fn openai(status: StatusCode, message: &str, kind: &str, code: &Value) -> Response {
    let body = json!({"error": {"message": message, "type": kind, "param": null, "code": code}});
    respond(status, &[], &body)
}

fn respond(status: StatusCode, headers: &[(&'static str, String)], body: &Value) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    for (name, value) in headers {
        if let Ok(value) = HeaderValue::from_str(value) {
            response
                .headers_mut()
                .insert(HeaderName::from_static(name), value);
        }
    }
    response
}

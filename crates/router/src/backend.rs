//! One OpenAI-compatible backend: the HTTP call, and what its answer means — a success with the
//! usage the provider reported, or a failure read from the provider's own error body (Gemini's
//! `RESOURCE_EXHAUSTED`, OpenAI's `insufficient_quota` and `rate_limit_exceeded`, 5xx, timeouts).

use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use bytes::Bytes;
use serde_json::Value;

use crate::config::{BackendConfig, Provider};

#[derive(Debug)]
pub struct Backend {
    pub name: String,
    provider: Provider,
    endpoint: String,
    api_key: Option<String>,
    timeout: Duration,
    client: reqwest::Client,
}

/// Tokens as the provider reported them (absent fields stay `None`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub input: Option<i64>,
    pub output: Option<i64>,
    pub cached: Option<i64>,
    pub reasoning: Option<i64>,
    pub image: Option<i64>,
}

/// Why an attempt failed, as far as routing is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The quota is spent: the backend leaves rotation for a while.
    Quota {
        retry_after: Option<Duration>,
    },
    /// Too many requests just now: retried with backoff, maybe elsewhere.
    RateLimited {
        retry_after: Option<Duration>,
    },
    /// 5xx, a cut connection, an unreadable answer: retried, maybe elsewhere.
    Server {
        detail: String,
    },
    Timeout,
    /// The request is wrong (400, 401, 403, 404, 422…): returned to the client as it is.
    Client,
}

impl Failure {
    pub fn outcome(&self) -> &'static str {
        match self {
            Self::Quota { .. } => "quota",
            Self::RateLimited { .. } => "rate_limited",
            Self::Server { .. } => "server_error",
            Self::Timeout => "timeout",
            Self::Client => "client_error",
        }
    }
}

/// A finished attempt: the status and body to pass on, and what they mean.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub failure: Option<Failure>,
    /// The provider's own error code (`insufficient_quota`, `RESOURCE_EXHAUSTED`…).
    pub provider_error: Option<String>,
    pub retry_after: Option<Duration>,
    pub usage: Usage,
}

impl Backend {
    pub fn new(config: &BackendConfig, api_key: Option<String>, client: reqwest::Client) -> Self {
        Self {
            name: config.name.clone(),
            provider: config.provider,
            endpoint: format!("{}/chat/completions", config.base_url.trim_end_matches('/')),
            api_key,
            timeout: config.timeout(),
            client,
        }
    }

    fn request(&self, body: Bytes) -> reqwest::RequestBuilder {
        let request = self
            .client
            .post(&self.endpoint)
            .header("content-type", "application/json")
            .body(body);
        match &self.api_key {
            Some(key) => request.bearer_auth(key),
            None => request,
        }
    }

    /// Sends a whole (non-streaming) request and reads the whole answer, within the timeout.
    pub async fn complete(&self, body: Bytes) -> Answer {
        let call = async {
            let response = self.request(body).send().await?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = response.bytes().await?;
            Ok::<_, reqwest::Error>((status, headers, body))
        };
        match tokio::time::timeout(self.timeout, call).await {
            Err(_) => failed(Failure::Timeout),
            Ok(Err(e)) if e.is_timeout() => failed(Failure::Timeout),
            Ok(Err(e)) => failed(Failure::Server {
                detail: format!("connection failed: {e}"),
            }),
            Ok(Ok((status, headers, body))) => self.read(status, headers, body),
        }
    }

    /// Opens a streaming request: the status and headers, and the response to read the body from.
    /// A failure status is read whole and classified like any answer.
    pub async fn open_stream(&self, body: Bytes) -> Result<reqwest::Response, Answer> {
        match tokio::time::timeout(self.timeout, self.request(body).send()).await {
            Err(_) => Err(failed(Failure::Timeout)),
            Ok(Err(e)) if e.is_timeout() => Err(failed(Failure::Timeout)),
            Ok(Err(e)) => Err(failed(Failure::Server {
                detail: format!("connection failed: {e}"),
            })),
            Ok(Ok(response)) if response.status().is_success() => Ok(response),
            Ok(Ok(response)) => {
                let status = response.status();
                let headers = response.headers().clone();
                let body = tokio::time::timeout(self.timeout, response.bytes())
                    .await
                    .ok()
                    .and_then(Result::ok)
                    .unwrap_or_default();
                Err(self.read(status, headers, body))
            }
        }
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    fn read(&self, status: StatusCode, headers: HeaderMap, body: Bytes) -> Answer {
        let retry_after = retry_after(&headers);
        if status.is_success() {
            return match serde_json::from_slice::<Value>(&body) {
                Ok(json) if json.get("choices").is_some() => Answer {
                    status,
                    headers,
                    usage: usage_of(&json),
                    body,
                    failure: None,
                    provider_error: None,
                    retry_after,
                },
                _ => Answer {
                    failure: Some(Failure::Server {
                        detail: "the backend's answer is not a chat completion".into(),
                    }),
                    ..failed_with(status, headers, body, None)
                },
            };
        }
        let provider_error = provider_error(&body);
        let failure = classify(
            self.provider,
            status,
            provider_error.as_deref(),
            retry_after,
        );
        Answer {
            failure: Some(failure),
            retry_after,
            ..failed_with(status, headers, body, provider_error)
        }
    }
}

fn failed(failure: Failure) -> Answer {
    Answer {
        status: StatusCode::BAD_GATEWAY,
        headers: HeaderMap::new(),
        body: Bytes::new(),
        failure: Some(failure),
        provider_error: None,
        retry_after: None,
        usage: Usage::default(),
    }
}

fn failed_with(
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    provider_error: Option<String>,
) -> Answer {
    Answer {
        status,
        headers,
        body,
        failure: None,
        provider_error,
        retry_after: None,
        usage: Usage::default(),
    }
}

/// What a failure status means for routing, from the provider's error code.
pub fn classify(
    provider: Provider,
    status: StatusCode,
    code: Option<&str>,
    retry_after: Option<Duration>,
) -> Failure {
    match status.as_u16() {
        429 => {
            let quota = match provider {
                // Gemini says RESOURCE_EXHAUSTED for a spent quota and for a per-minute limit
                // alike; both mean this backend is done for now
                Provider::Gemini => code.is_none_or(|c| c == "RESOURCE_EXHAUSTED"),
                Provider::Openai => code == Some("insufficient_quota"),
            };
            if quota {
                Failure::Quota { retry_after }
            } else {
                Failure::RateLimited { retry_after }
            }
        }
        408 | 504 => Failure::Timeout,
        500..=599 => Failure::Server {
            detail: format!("the backend answered {status}"),
        },
        _ => Failure::Client,
    }
}

/// The provider's error code: OpenAI's `error.code` (or `type`), Gemini's `error.status`
/// (its OpenAI-compatible endpoint may wrap the error in a list).
pub fn provider_error(body: &[u8]) -> Option<String> {
    let json: Value = serde_json::from_slice(body).ok()?;
    let error = match &json {
        Value::Array(items) => items.first()?.get("error")?,
        other => other.get("error")?,
    };
    ["status", "code", "type"]
        .iter()
        .find_map(|key| match error.get(*key)? {
            Value::String(s) => Some(s.clone()),
            _ => None,
        })
}

/// The longest wait a backend's `Retry-After` is taken at: past a day it says "not today",
/// and the rotation's own limits apply.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(86_400);

/// A wait in seconds from a header, whatever number it holds (`1e400`, `inf`, `NaN`, `-3`):
/// capped at [`MAX_RETRY_AFTER`], none when it is not a number.
fn wait_of(seconds: f64) -> Option<Duration> {
    Duration::try_from_secs_f64(seconds.clamp(0.0, MAX_RETRY_AFTER.as_secs_f64())).ok()
}

/// The backend's `retry-after-ms` or `retry-after` (seconds), capped; any header bytes give a
/// wait or none (fuzzed: `fuzz/fuzz_targets/router.rs`).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    if let Some(ms) = headers
        .get("retry-after-ms")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
    {
        return wait_of(ms / 1000.0);
    }
    let seconds = headers
        .get("retry-after")?
        .to_str()
        .ok()?
        .trim()
        .parse::<f64>()
        .ok()?;
    wait_of(seconds)
}

/// The usage object of a completion (or of a stream's last chunk).
pub fn usage_of(json: &Value) -> Usage {
    let Some(usage) = json.get("usage").filter(|u| u.is_object()) else {
        return Usage::default();
    };
    let int = |path: &[&str]| {
        let mut v = usage;
        for key in path {
            v = v.get(*key)?;
        }
        v.as_i64()
    };
    Usage {
        input: int(&["prompt_tokens"]),
        output: int(&["completion_tokens"]),
        cached: int(&["prompt_tokens_details", "cached_tokens"]),
        reasoning: int(&["completion_tokens_details", "reasoning_tokens"]),
        image: int(&["prompt_tokens_details", "image_tokens"]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_retry_after_number_is_a_capped_wait_or_none() {
        let wait = |name: &'static str, value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(name, value.parse().unwrap());
            retry_after(&headers)
        };
        // these panicked in Duration::from_secs_f64 (a backend's header could end a request)
        assert_eq!(wait("retry-after", "1e400"), Some(MAX_RETRY_AFTER));
        assert_eq!(wait("retry-after", "inf"), Some(MAX_RETRY_AFTER));
        assert_eq!(wait("retry-after-ms", "1e309"), Some(MAX_RETRY_AFTER));
        assert_eq!(wait("retry-after", "NaN"), None);
        assert_eq!(wait("retry-after", "-3"), Some(Duration::ZERO));
        assert_eq!(wait("retry-after", " 7 "), Some(Duration::from_secs(7)));
        assert_eq!(
            wait("retry-after-ms", "1500"),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(wait("retry-after", "soon"), None);
    }

    #[test]
    fn provider_errors_are_read_in_each_providers_words() {
        let gemini = br#"[{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED"}}]"#;
        let quota = br#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"#;
        let rate = br#"{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#;
        assert_eq!(
            provider_error(gemini).as_deref(),
            Some("RESOURCE_EXHAUSTED")
        );
        assert_eq!(provider_error(quota).as_deref(), Some("insufficient_quota"));
        assert_eq!(provider_error(rate).as_deref(), Some("rate_limit_exceeded"));
        assert_eq!(provider_error(b"not json"), None);
        let too_many = StatusCode::TOO_MANY_REQUESTS;
        assert_eq!(
            classify(Provider::Gemini, too_many, Some("RESOURCE_EXHAUSTED"), None),
            Failure::Quota { retry_after: None }
        );
        assert_eq!(
            classify(Provider::Openai, too_many, Some("insufficient_quota"), None),
            Failure::Quota { retry_after: None }
        );
        assert!(matches!(
            classify(
                Provider::Openai,
                too_many,
                Some("rate_limit_exceeded"),
                None
            ),
            Failure::RateLimited { .. }
        ));
        assert!(matches!(
            classify(
                Provider::Openai,
                StatusCode::SERVICE_UNAVAILABLE,
                None,
                None
            ),
            Failure::Server { .. }
        ));
        assert_eq!(
            classify(Provider::Openai, StatusCode::GATEWAY_TIMEOUT, None, None),
            Failure::Timeout
        );
        for status in [400, 401, 403, 404, 422] {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
            assert_eq!(
                classify(Provider::Gemini, status, None, None),
                Failure::Client
            );
        }
    }

    #[test]
    fn usage_is_taken_as_reported() {
        let json: Value = serde_json::json!({"usage": {"prompt_tokens": 1200, "completion_tokens": 80,
            "prompt_tokens_details": {"cached_tokens": 1024}, "completion_tokens_details": {"reasoning_tokens": 40}}});
        assert_eq!(
            usage_of(&json),
            Usage {
                input: Some(1200),
                output: Some(80),
                cached: Some(1024),
                reasoning: Some(40),
                image: None
            }
        );
        assert_eq!(
            usage_of(&serde_json::json!({"usage": null})),
            Usage::default()
        );
    }
}

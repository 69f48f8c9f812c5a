//! One chat request through the traffic manager: counted, routed (primary, spillover), then
//! attempted — a slot under the backend's in-flight cap (a wait that times out goes to the
//! other backend), the call, and on a retryable failure a jittered backoff and maybe the other
//! backend; a non-retryable answer is passed on as it is. Every attempt and the request are
//! recorded in the ledger once the answer (or the stream) is done.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use backon::{BackoffBuilder, ExponentialBuilder};
use bytes::Bytes;
use futures_util::StreamExt;
use protocol::ErrorCode;
use serde_json::Value;

use crate::backend::{usage_of, Answer, Failure, Usage};
use crate::config::ServedModel;
use crate::error::HttpError;
use crate::ledger::{now_rfc3339, AttemptRow, Client, RequestRow};
use crate::state::{AppState, ModelRoute};
use crate::traffic::counters::Rates;
use crate::traffic::shared::SharedError;
use crate::traffic::slot::{AcquireError, SlotPermit};
use crate::traffic::split::Decision;

/// A request on its way: what the ledger will say of it.
struct Trip {
    row: RequestRow,
    began: Instant,
}

impl Trip {
    fn ms(&self) -> f64 {
        self.began.elapsed().as_secs_f64() * 1000.0
    }
}

/// What a request is recorded under besides its client.
#[derive(Debug, Clone, Default)]
pub struct Tags {
    pub idempotency_key: Option<String>,
    pub store: Option<String>,
}

pub async fn chat(
    state: Arc<AppState>,
    client: Client,
    model: ModelRoute,
    mut body: Value,
    tags: Tags,
) -> Response {
    let stream = body.get("stream").and_then(Value::as_bool).unwrap_or(false);
    if stream {
        // the usage comes in the stream's last chunk only when asked for
        body["stream_options"]["include_usage"] = Value::Bool(true);
    }
    let began = Instant::now();
    let counted = state.record_request(began).await;
    let (rates, up) = counted
        .as_ref()
        .map_or((Rates { rpm: 0, rps10: 0 }, [false; 2]), |r| *r);
    let decision = state.splitter.decide(rates, up[0], up[1]);
    let mut trip = Trip {
        began,
        row: RequestRow {
            id: uuid::Uuid::new_v4().to_string(),
            client_id: client.id,
            idempotency_key: tags.idempotency_key,
            store_id: tags.store,
            requested_model: model.name.clone(),
            stream,
            decision: match decision {
                Some(Decision::Spillover) => "spillover",
                _ => "primary",
            },
            decision_reason: match decision {
                Some(Decision::Primary) if rates.rpm > 0 => "quiet",
                Some(Decision::Spillover) => "busy",
                Some(Decision::PrimaryUnavailable) => "primary_unavailable",
                Some(Decision::SecondaryUnavailable) => "secondary_unavailable",
                _ => "quiet",
            },
            decided_backend: None,
            final_backend: None,
            status: 0,
            error_code: None,
            started_at: now_rfc3339(),
            latency_ms: 0.0,
            ttft_ms: None,
            attempts: Vec::new(),
        },
    };
    if let Err(error) = counted {
        return refuse(&state, trip, shared_unavailable(&error)).await;
    }
    let Some(decision) = decision else {
        let error = unavailable(&state, began).await;
        return refuse(&state, trip, error).await;
    };
    let mut at = usize::from(decision.to_secondary());
    if model.on[at].is_none() {
        at = 1 - at;
    }
    trip.row.decided_backend = Some(state.slots[at].backend.name.clone());
    let mut backoff = ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(50))
        .with_max_delay(Duration::from_secs(2))
        .with_jitter()
        .build();
    let mut last: Option<HttpError> = None;
    // the first attempt goes by the rotation the decision just read (one Redis trip less)
    let mut just_read = Some(up);
    for _ in 0..state.config.routing.max_attempts {
        // out of rotation (or not serving this model): the other one, if it can
        let usable_now = match just_read.take() {
            Some(up) => model.on[at].is_some() && up[at],
            None => usable(&state, &model, at).await,
        };
        if !usable_now {
            if usable(&state, &model, 1 - at).await {
                at = 1 - at;
            } else {
                last = Some(unavailable(&state, Instant::now()).await);
                break;
            }
        }
        let slot = &state.slots[at];
        let Some(served) = model.on[at].as_ref() else {
            break;
        };
        let asked = Instant::now();
        let permit = match slot.acquire().await {
            Ok(permit) => permit,
            Err(AcquireError::Shared(error)) => {
                last = Some(shared_unavailable(&error));
                break;
            }
            Err(AcquireError::Busy) => {
                trip.row.attempts.push(attempt_row(
                    slot.backend.name.clone(),
                    served,
                    "queue_timeout",
                    None,
                    asked,
                    asked,
                ));
                last = Some(
                    HttpError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        ErrorCode::Unavailable,
                        format!(
                            "every slot of {} stayed busy for {} ms",
                            slot.backend.name,
                            slot.queue_wait.as_millis()
                        ),
                    )
                    .retry_after(Duration::from_secs(1)),
                );
                at = 1 - at;
                continue;
            }
        };
        let started = Instant::now();
        body["model"] = Value::String(served.model.clone());
        let request = Bytes::from(serde_json::to_vec(&body).unwrap_or_default());
        let answer = if stream {
            match slot.backend.open_stream(request).await {
                Ok(response) => {
                    return stream_through(
                        &state,
                        trip,
                        at,
                        served.clone(),
                        permit,
                        asked,
                        started,
                        response,
                    )
                }
                Err(answer) => answer,
            }
        } else {
            slot.backend.complete(request).await
        };
        drop(permit);
        match settle(&state, &mut trip, at, served, answer, asked, started).await {
            Step::Done(response) => return finish(&state, trip, response).await,
            Step::Retry { error, wait } => {
                last = Some(error);
                if usable(&state, &model, 1 - at).await {
                    at = 1 - at;
                }
                if wait {
                    if let Some(pause) = backoff.next() {
                        tokio::time::sleep(pause).await;
                    }
                }
            }
        }
    }
    let error = match last {
        Some(error) => error,
        None => unavailable(&state, Instant::now()).await,
    };
    refuse(&state, trip, error).await
}

enum Step {
    /// The answer to give (a success, or a client error passed on as it is).
    Done(Response),
    /// Try again (elsewhere if the other backend can); `wait`: after a backoff.
    Retry { error: HttpError, wait: bool },
}

/// Records an attempt's answer and says what to do next.
async fn settle(
    state: &AppState,
    trip: &mut Trip,
    at: usize,
    served: &ServedModel,
    answer: Answer,
    asked: Instant,
    started: Instant,
) -> Step {
    let slot = &state.slots[at];
    let name = slot.backend.name.clone();
    let outcome = answer.failure.as_ref().map_or("ok", Failure::outcome);
    let mut row = attempt_row(
        name.clone(),
        served,
        outcome,
        Some(answer.status.as_u16()),
        asked,
        started,
    );
    row.provider_error = answer.provider_error.clone();
    row.retry_after_ms = answer.retry_after.map(|d| d.as_millis() as i64);
    row.usage = answer.usage;
    row.cost_usd = cost(served, answer.usage);
    trip.row.attempts.push(row);
    let now = Instant::now();
    let wall = time::OffsetDateTime::now_utc();
    match answer.failure {
        None | Some(Failure::Client) => {
            trip.row.final_backend = Some(name);
            Step::Done(passthrough(answer.status, answer.body))
        }
        Some(Failure::Quota { retry_after }) => {
            let out = slot.quota_exhausted(now, wall, retry_after).await;
            tracing::warn!(backend = %name, out_secs = out.as_secs(), "quota exhausted: out of rotation");
            Step::Retry {
                error: HttpError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    ErrorCode::Unavailable,
                    format!("{name}'s quota is exhausted"),
                )
                .retry_after(out),
                wait: false,
            }
        }
        Some(Failure::RateLimited { retry_after }) => {
            slot.error(now, wall).await;
            let error = HttpError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Unavailable,
                format!("{name} is rate limiting"),
            );
            Step::Retry {
                error: error.retry_after(retry_after.unwrap_or(Duration::from_secs(1))),
                wait: true,
            }
        }
        Some(Failure::Server { detail }) => {
            slot.error(now, wall).await;
            Step::Retry {
                error: HttpError::new(
                    StatusCode::BAD_GATEWAY,
                    ErrorCode::Upstream,
                    format!("{name}: {detail}"),
                ),
                wait: true,
            }
        }
        Some(Failure::Timeout) => {
            slot.error(now, wall).await;
            let message = format!(
                "{name} did not answer within {} ms",
                slot.backend.timeout().as_millis()
            );
            Step::Retry {
                error: HttpError::new(
                    StatusCode::GATEWAY_TIMEOUT,
                    ErrorCode::UpstreamTimeout,
                    message,
                ),
                wait: true,
            }
        }
    }
}

fn attempt_row(
    backend: String,
    served: &ServedModel,
    outcome: &'static str,
    status: Option<u16>,
    asked: Instant,
    started: Instant,
) -> AttemptRow {
    AttemptRow {
        backend,
        provider_model: served.model.clone(),
        outcome,
        http_status: status,
        provider_error: None,
        retry_after_ms: None,
        queue_wait_ms: started.saturating_duration_since(asked).as_secs_f64() * 1000.0,
        latency_ms: started.elapsed().as_secs_f64() * 1000.0,
        ttft_ms: None,
        usage: Usage::default(),
        cost_usd: 0.0,
        started_at: now_rfc3339(),
    }
}

/// The attempt's cost at the price in force today (cached input at its own price when listed).
pub fn cost(served: &ServedModel, usage: Usage) -> f64 {
    let Some(price) = served.price_on(time::OffsetDateTime::now_utc().date()) else {
        return 0.0;
    };
    let input = usage.input.unwrap_or(0) as f64;
    let cached = usage.cached.unwrap_or(0).min(usage.input.unwrap_or(0)) as f64;
    let cached_price = price.cached_input.unwrap_or(price.input);
    ((input - cached) * price.input
        + cached * cached_price
        + usage.output.unwrap_or(0) as f64 * price.output)
        / 1_000_000.0
}

fn passthrough(status: StatusCode, body: Bytes) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Serves this model and is in rotation.
async fn usable(state: &AppState, model: &ModelRoute, i: usize) -> bool {
    model.on[i].is_some() && state.slots[i].in_rotation(Instant::now()).await
}

/// Redis (configured for what replicas share) does not answer: refused rather than routed on
/// this process's own counts, which would let every replica use the whole cap.
fn shared_unavailable(error: &SharedError) -> HttpError {
    tracing::error!(%error, "shared traffic state unavailable");
    HttpError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Unavailable,
        "the router's shared traffic state (Redis) does not answer",
    )
    .retry_after(Duration::from_secs(1))
}

/// Both backends out: 503 with the time the first comes back.
async fn unavailable(state: &AppState, now: Instant) -> HttpError {
    let mut back: Option<Duration> = None;
    for slot in &state.slots {
        if let Ok(Some(out)) = slot.out_for(now).await {
            back = Some(back.map_or(out, |b| b.min(out)));
        }
    }
    let back = back.unwrap_or(Duration::from_secs(1));
    HttpError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Unavailable,
        "no backend can take requests now (quota or error limit reached)",
    )
    .retry_after(back)
}

async fn finish(state: &AppState, mut trip: Trip, response: Response) -> Response {
    trip.row.status = response.status().as_u16();
    count(state, &trip.row);
    trip.row.latency_ms = trip.ms();
    let id = trip.row.id.clone();
    state.ledger.record(trip.row).await;
    with_request_id(response, &id)
}

async fn refuse(state: &AppState, mut trip: Trip, error: HttpError) -> Response {
    trip.row.error_code = Some(error.code.to_string());
    finish(state, trip, error.into_response()).await
}

/// The request and its attempts in the live counters (`/metrics`).
fn count(state: &AppState, row: &RequestRow) {
    state.metrics.request(row.status);
    for attempt in &row.attempts {
        state.metrics.attempt(&attempt.backend, attempt.outcome);
    }
}

fn with_request_id(mut response: Response, id: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// Passes a stream through as it comes, holding the backend's slot until it ends; records the
/// time to first token, the usage of its last chunk, and whether it was cut.
#[allow(clippy::too_many_arguments)]
fn stream_through(
    state: &Arc<AppState>,
    mut trip: Trip,
    at: usize,
    served: ServedModel,
    permit: SlotPermit,
    asked: Instant,
    started: Instant,
    response: reqwest::Response,
) -> Response {
    let status = response.status();
    trip.row.final_backend = Some(state.slots[at].backend.name.clone());
    trip.row.status = status.as_u16();
    let id = trip.row.id.clone();
    let mut guard = StreamGuard {
        state: Arc::clone(state),
        trip: Some(trip),
        attempt: attempt_row(
            state.slots[at].backend.name.clone(),
            &served,
            "cut",
            Some(status.as_u16()),
            asked,
            started,
        ),
        served,
        started,
        pending: Vec::new(),
        _permit: permit,
    };
    let body = response.bytes_stream().map(move |chunk| {
        match &chunk {
            Ok(bytes) => guard.saw(bytes),
            Err(_) => guard.attempt.outcome = "cut",
        }
        chunk
    });
    let mut out = Response::new(Body::from_stream(body));
    *out.status_mut() = StatusCode::OK;
    out.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    out.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    with_request_id(out, &id)
}

/// One line of a provider's server-sent event stream, as the ledger reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SseLine {
    /// `data: [DONE]`: the stream ended as it should.
    Done,
    /// A chunk carrying token counts (the last one, when the client asked for usage).
    Usage(Usage),
    /// Anything else: content, comments, keep-alives, lines that are not JSON.
    Other,
}

/// Reads one line of a stream (any bytes: fuzzed in `fuzz/fuzz_targets/router.rs`).
pub fn sse_line(line: &[u8]) -> SseLine {
    let Some(data) = line.strip_prefix(b"data:") else {
        return SseLine::Other;
    };
    let data = data.trim_ascii();
    if data == b"[DONE]" {
        return SseLine::Done;
    }
    match serde_json::from_slice::<Value>(data) {
        Ok(json) => match usage_of(&json) {
            usage if usage != Usage::default() => SseLine::Usage(usage),
            _ => SseLine::Other,
        },
        Err(_) => SseLine::Other,
    }
}

/// Follows a stream; when it is dropped (ended, cut, or the client left) the attempt and the
/// request are recorded.
struct StreamGuard {
    state: Arc<AppState>,
    trip: Option<Trip>,
    attempt: AttemptRow,
    served: ServedModel,
    started: Instant,
    /// The unfinished last line of the chunks seen so far.
    pending: Vec<u8>,
    _permit: SlotPermit,
}

impl StreamGuard {
    fn saw(&mut self, bytes: &[u8]) {
        if self.attempt.ttft_ms.is_none() {
            let ms = self.started.elapsed().as_secs_f64() * 1000.0;
            self.attempt.ttft_ms = Some(ms);
            if let Some(trip) = &mut self.trip {
                trip.row.ttft_ms = Some(trip.ms());
            }
        }
        self.pending.extend_from_slice(bytes);
        while let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            match sse_line(&line) {
                SseLine::Done => self.attempt.outcome = "ok",
                SseLine::Usage(usage) => self.attempt.usage = usage,
                SseLine::Other => {}
            }
        }
    }
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        let Some(mut trip) = self.trip.take() else {
            return;
        };
        let mut attempt = self.attempt.clone();
        attempt.latency_ms = self.started.elapsed().as_secs_f64() * 1000.0;
        attempt.cost_usd = cost(&self.served, attempt.usage);
        if attempt.outcome != "ok" {
            trip.row.error_code = Some(ErrorCode::Upstream.to_string());
        }
        trip.row.attempts.push(attempt);
        trip.row.latency_ms = trip.ms();
        count(&self.state, &trip.row);
        let ledger = self.state.ledger.clone();
        // dropped inside the runtime (the body is polled by it): the write is queued from a task
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move { ledger.record(trip.row).await });
        }
    }
}

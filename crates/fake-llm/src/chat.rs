//! `POST /v1/chat/completions`: parse the request, apply the scripted latency and fault, and
//! answer with deterministic content and usage, as one JSON object or as an SSE stream.

use crate::provider::{self, Provider};
use crate::rng::{fnv1a, mix, Rng};
use crate::script::FaultKind;
use crate::{schema_gen, Shared, Ticket};
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const DEFAULT_TIMEOUT_DELAY_MS: u64 = 30_000;
/// Prompt tokens a message costs beyond its text (role, separators), as OpenAI counts them.
const TOKENS_PER_MESSAGE: u64 = 4;

const WORDS: &[&str] = &[
    "the",
    "shelf",
    "display",
    "matches",
    "rules",
    "invoice",
    "total",
    "is",
    "consistent",
    "with",
    "line",
    "items",
    "and",
    "tax",
    "photo",
    "shows",
    "price",
    "labels",
    "clearly",
    "document",
    "party",
    "court",
    "summary",
    "reviewed",
    "nothing",
    "missing",
    "appears",
    "correct",
];

/// The parts of a request the fake looks at; everything else (temperature, tools) is ignored.
struct ChatRequest {
    model: String,
    messages: Value,
    stream: bool,
    include_usage: bool,
    response_format: Option<Value>,
}

fn parse(body: &[u8]) -> Result<ChatRequest, String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("Invalid JSON payload received. {e}"))?;
    let model = value
        .get("model")
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
        .ok_or("you must provide a model parameter")?
        .to_owned();
    let messages = value.get("messages").cloned().unwrap_or(Value::Null);
    if messages.as_array().is_none_or(Vec::is_empty) {
        return Err("'messages' must be a non-empty array".into());
    }
    let stream = value
        .get("stream")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let include_usage = value
        .pointer("/stream_options/include_usage")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let response_format = value
        .get("response_format")
        .filter(|f| f.get("type").and_then(Value::as_str) != Some("text"))
        .cloned();
    Ok(ChatRequest {
        model,
        messages,
        stream,
        include_usage,
        response_format,
    })
}

pub(crate) async fn completions(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let ticket = shared.enter();
    let provider = shared.provider;
    let request = match parse(&body) {
        Ok(request) => request,
        Err(message) => return shared.finish(provider::bad_request(provider, &message)),
    };
    if let Some(key) = &shared.api_key {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if given != Some(key.as_str()) {
            return shared.finish(provider::bad_key(provider));
        }
    }
    shared.bump(|s| &mut s.by_model, &request.model);
    let fault = ticket
        .script
        .pick(ticket.n, ticket.elapsed_ms, &request.model)
        .cloned();
    if let Some(rule) = &fault {
        shared.bump(|s| &mut s.by_fault, rule.kind.name());
    }
    tokio::time::sleep(ticket.script.latency_for(ticket.n)).await;
    let kind = fault.as_ref().map(|rule| rule.kind);
    match (kind, &fault) {
        (Some(FaultKind::Hang), _) => std::future::pending::<()>().await,
        (Some(FaultKind::Timeout), Some(rule)) => {
            let delay = rule.delay_ms.unwrap_or(DEFAULT_TIMEOUT_DELAY_MS);
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        (_, Some(rule)) => {
            if let Some(response) = provider::fault_response(provider, rule, &request.model) {
                return shared.finish(response);
            }
        }
        _ => {}
    }
    let answer = match answer(&shared, &ticket, &request, kind) {
        Ok(answer) => answer,
        Err(message) => return shared.finish(provider::bad_request(provider, &message)),
    };
    let response = if request.stream {
        stream(ticket, &request, &answer, kind)
    } else {
        complete(ticket, &request, &answer, kind)
    };
    shared.finish(response)
}

/// What the model "said" and what it cost.
struct Answer {
    content: String,
    usage: Value,
}

fn answer(
    shared: &Shared,
    ticket: &Ticket,
    request: &ChatRequest,
    kind: Option<FaultKind>,
) -> Result<Answer, String> {
    // Content depends on what was asked, not on the request number, so a retry gets the same answer.
    let hash = fnv1a(
        format!(
            "{}{}",
            request.messages,
            request.response_format.clone().unwrap_or_default()
        )
        .as_bytes(),
    );
    let invalid = kind == Some(FaultKind::InvalidContent);
    let not_json = format!(
        "Sure! Here is the JSON you asked for: {{\"answer\": \"{}",
        text(hash)
    );
    let format_type = request
        .response_format
        .as_ref()
        .and_then(|f| f.get("type"))
        .and_then(Value::as_str);
    // (the request's text only gathered when some answer is scripted: benchmarks send many)
    let scripted = if ticket.script.answers.is_empty() {
        None
    } else {
        ticket.script.answer_for(&request_text(&request.messages))
    };
    let content = match (format_type, &request.response_format) {
        (Some("json_schema"), Some(format)) => {
            let schema = format
                .pointer("/json_schema/schema")
                .ok_or("response_format.json_schema.schema is required")?;
            let validator = shared
                .validator(schema)
                .map_err(|e| format!("Invalid JSON schema in response_format: {e}"))?;
            let (value, found) = match scripted {
                // checked like a generated one: sent even when refused, and counted
                Some(value) => (value.clone(), validator.is_valid(value)),
                None => schema_gen::valid_instance(schema, hash, &validator),
            };
            if !found {
                shared.lock().stats.schema_misses += 1;
            }
            if invalid {
                schema_gen::invalid_instance(&value, schema, &validator)
                    .map_or(not_json, |v| v.to_string())
            } else {
                value.to_string()
            }
        }
        (Some("json_object"), _) if !invalid => scripted.map_or_else(
            || json!({"answer": text(hash), "request_hash": format!("{hash:016x}")}).to_string(),
            Value::to_string,
        ),
        (Some("json_object"), _) => not_json,
        (Some(other), _) => {
            return Err(format!(
                "Invalid value for 'response_format.type': {other:?}"
            ))
        }
        (None, _) => text(hash),
    };
    let usage = usage(ticket, request, &content);
    Ok(Answer { content, usage })
}

/// The text of a request's messages (string contents and text parts), for scripted answers.
fn request_text(messages: &Value) -> String {
    let mut text = String::new();
    for message in messages.as_array().into_iter().flatten() {
        match message.get("content") {
            Some(Value::String(s)) => text.push_str(s),
            Some(Value::Array(parts)) => {
                for part in parts {
                    if let Some(s) = part.get("text").and_then(Value::as_str) {
                        text.push_str(s);
                        text.push('\n');
                    }
                }
            }
            _ => {}
        }
        text.push('\n');
    }
    text
}

/// A short, deterministic sentence naming the request's hash (so tests can tell answers apart).
fn text(hash: u64) -> String {
    let mut rng = Rng::new(hash);
    let count = 8 + rng.below(12);
    let words: Vec<&str> = (0..count)
        .map(|_| WORDS[rng.below(WORDS.len() as u64) as usize])
        .collect();
    format!("Fake answer {hash:016x}: {}.", words.join(" "))
}

fn tokens(chars: usize) -> u64 {
    (chars as u64).div_ceil(4)
}

fn usage(ticket: &Ticket, request: &ChatRequest, content: &str) -> Value {
    let extra = &ticket.script.usage;
    let mut prompt = 0;
    for message in request.messages.as_array().into_iter().flatten() {
        prompt += TOKENS_PER_MESSAGE;
        match message.get("content") {
            Some(Value::String(text)) => prompt += tokens(text.chars().count()),
            Some(Value::Array(parts)) => {
                for part in parts {
                    match part.get("type").and_then(Value::as_str) {
                        Some("image_url" | "input_image") => prompt += extra.image_tokens,
                        _ => {
                            let text = part.get("text").and_then(Value::as_str).unwrap_or_default();
                            prompt += tokens(text.chars().count());
                        }
                    }
                }
            }
            _ => {}
        }
    }
    if let Some(schema) = request
        .response_format
        .as_ref()
        .and_then(|f| f.pointer("/json_schema/schema"))
    {
        prompt += tokens(schema.to_string().len());
    }
    let completion = tokens(content.chars().count()) + extra.reasoning_tokens;
    json!({
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": extra.cached_tokens.min(prompt), "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": extra.reasoning_tokens, "audio_tokens": 0,
            "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0},
    })
}

fn created() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn id(ticket: &Ticket) -> String {
    format!("chatcmpl-fake{:016x}", mix(ticket.n, ticket.elapsed_ms))
}

/// OpenAI names every response; the router logs the id beside its attempt.
fn with_provider_headers(mut response: Response, provider: Provider, n: u64) -> Response {
    if provider == Provider::OpenAi {
        if let Ok(value) = HeaderValue::from_str(&format!("req_fake{:016x}", mix(n, 1))) {
            response.headers_mut().insert("x-request-id", value);
        }
    }
    response
}

/// The longest prefix of `text` no longer than `at` bytes that ends on a char boundary.
fn prefix(text: &str, at: usize) -> &str {
    let mut end = at.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

type Chunk = Result<Bytes, std::io::Error>;

/// The error that makes hyper drop the connection mid-body, as a provider's crash would.
fn cut() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::ConnectionAborted,
        "fake-llm: cut_stream fault",
    )
}

/// A body that sends each chunk after its delay; the ticket rides along so the request stays
/// in flight until the last chunk is out (or the client goes away).
fn delayed(items: Vec<(Duration, Chunk)>, ticket: Ticket) -> Body {
    let stream = futures_util::stream::unfold(
        (items.into_iter(), ticket),
        |(mut items, ticket)| async move {
            let (delay, chunk) = items.next()?;
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            Some((chunk, (items, ticket)))
        },
    );
    Body::from_stream(stream)
}

fn json_body(body: String) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn complete(
    ticket: Ticket,
    request: &ChatRequest,
    answer: &Answer,
    kind: Option<FaultKind>,
) -> Response {
    let body = json!({
        "id": id(&ticket),
        "object": "chat.completion",
        "created": created(),
        "model": request.model,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": answer.content, "refusal": null},
            "logprobs": null,
            "finish_reason": "stop",
        }],
        "usage": answer.usage,
        "system_fingerprint": "fp_fake",
    })
    .to_string();
    let (provider, n) = (ticket.shared.provider, ticket.n);
    let response = match kind {
        Some(FaultKind::MalformedBody) => json_body(prefix(&body, body.len() * 3 / 5).to_owned()),
        Some(FaultKind::CutStream) => {
            let half = Bytes::from(prefix(&body, body.len() / 2).to_owned());
            // The pause lets hyper flush the status line and the first half before the cut.
            let items = vec![
                (Duration::ZERO, Ok(half)),
                (Duration::from_millis(10), Err(cut())),
            ];
            let mut response = delayed(items, ticket).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        }
        _ => json_body(body),
    };
    with_provider_headers(response, provider, n)
}

/// Splits the content into about six deltas, as a model emits tokens in bursts.
fn pieces(content: &str) -> Vec<String> {
    let chars: Vec<char> = content.chars().collect();
    let size = chars.len().div_ceil(6).max(4);
    chars.chunks(size).map(|c| c.iter().collect()).collect()
}

fn stream(
    ticket: Ticket,
    request: &ChatRequest,
    answer: &Answer,
    kind: Option<FaultKind>,
) -> Response {
    let (id, created) = (id(&ticket), created());
    let chunk = |delta: Value, finish: Value| {
        let mut chunk = json!({
            "id": id, "object": "chat.completion.chunk", "created": created, "model": request.model,
            "system_fingerprint": "fp_fake",
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}],
        });
        if request.include_usage {
            chunk["usage"] = Value::Null;
        }
        chunk.to_string()
    };
    let mut events = vec![chunk(
        json!({"role": "assistant", "content": "", "refusal": null}),
        Value::Null,
    )];
    for piece in pieces(&answer.content) {
        events.push(chunk(json!({"content": piece}), Value::Null));
    }
    events.push(chunk(json!({}), json!("stop")));
    if request.include_usage {
        events.push(
            json!({"id": id, "object": "chat.completion.chunk", "created": created, "model": request.model,
                   "system_fingerprint": "fp_fake", "choices": [], "usage": answer.usage})
            .to_string(),
        );
    }
    if kind == Some(FaultKind::MalformedBody) {
        events[1] = prefix(&events[1], events[1].len() / 2).to_owned();
    }
    let mut lines: Vec<String> = events.iter().map(|e| format!("data: {e}\n\n")).collect();
    lines.push("data: [DONE]\n\n".to_owned());
    let gap = Duration::from_millis(ticket.script.stream_chunk_ms);
    let cut_at = (kind == Some(FaultKind::CutStream)).then_some(lines.len() / 2);
    let mut items: Vec<(Duration, Chunk)> = lines
        .into_iter()
        .take(cut_at.unwrap_or(usize::MAX))
        .enumerate()
        .map(|(i, line)| {
            (
                if i == 0 { Duration::ZERO } else { gap },
                Ok(Bytes::from(line)),
            )
        })
        .collect();
    if cut_at.is_some() {
        items.push((gap, Err(cut())));
    }
    let (provider, n) = (ticket.shared.provider, ticket.n);
    let mut response = (StatusCode::OK, delayed(items, ticket)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    with_provider_headers(response, provider, n)
}

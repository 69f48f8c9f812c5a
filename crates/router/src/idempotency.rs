//! `Idempotency-Key` on every mutating endpoint: the first request with a key runs; a repeat
//! with the same body gets the stored answer (`Idempotent-Replayed: true`) and does nothing
//! again (a chat completion reaches no backend, so it is never charged twice); the same key with
//! another body is 422; a repeat while the first still runs is 409. An answer that says "try
//! later" (429, 5xx) is not kept: the key is free for the retry. Keys are kept 24 hours, per
//! endpoint and caller. An answer that would carry a secret is never kept: those endpoints take
//! a key only when the caller brings the secret's hash instead (`key_sha256`, `code_sha256`).

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use protocol::ErrorCode;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::error::HttpError;
use crate::ledger::now_rfc3339;
use crate::state::AppState;
use crate::traffic::shared::{SharedError, SharedTraffic};

/// How long a key and its answer are kept.
pub const KEEP: time::Duration = time::Duration::hours(24);
/// A key still "running" after this long belongs to a request that died with the process.
const ABANDONED: time::Duration = time::Duration::minutes(10);

/// Which stored answers a key belongs to: the endpoint, and who called it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub endpoint: String,
    pub principal: String,
}

#[derive(Debug)]
pub enum Claim {
    /// This request runs; `finish` records its answer.
    Run,
    Replay {
        status: u16,
        content_type: Option<String>,
        body: Vec<u8>,
    },
    /// The same key is running now.
    InProgress,
    /// The same key came with another body.
    Mismatch,
}

pub fn body_hash(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

pub async fn claim(
    db: &crate::db::Db,
    scope: &Scope,
    key: &str,
    hash: &str,
) -> Result<Claim, sqlx::Error> {
    let now = OffsetDateTime::now_utc();
    claim_unless_running_since(db, scope, key, hash, now - ABANDONED).await
}

/// A key's row: body hash, state, and the answer kept (status, content type, body).
type StoredKey = (String, String, Option<i64>, Option<String>, Option<Vec<u8>>);

/// The claim, where a row still `running` since before `abandoned_before` counts as left by a
/// request that died.
async fn claim_unless_running_since(
    db: &crate::db::Db,
    scope: &Scope,
    key: &str,
    hash: &str,
    abandoned_before: OffsetDateTime,
) -> Result<Claim, sqlx::Error> {
    crate::with_db!(db, pool => {
        let now = OffsetDateTime::now_utc();
        let mut tx = pool.begin().await?;
        // expired keys, and one left running by a process that died, are free again
        sqlx::query(
            "DELETE FROM idempotency_scoped WHERE scope = $1 AND principal = $2 AND key = $3
               AND (created_at < $4 OR (state = 'running' AND updated_at < $5))",
        )
        .bind(&scope.endpoint)
        .bind(&scope.principal)
        .bind(key)
        .bind(rfc3339(now - KEEP))
        .bind(rfc3339(abandoned_before))
        .execute(&mut *tx)
        .await?;
        // PostgreSQL: the row that stopped the INSERT may be gone before the SELECT (its request
        // answered "try later", freeing the key), so the INSERT is tried again; a key that
        // keeps changing hands is answered as in progress (the client tries again)
        let mut claim = Claim::InProgress;
        for _ in 0..3 {
            let inserted = sqlx::query(
                "INSERT INTO idempotency_scoped (scope, principal, key, body_hash, state, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, 'running', $5, $6) ON CONFLICT (scope, principal, key) DO NOTHING",
            )
            .bind(&scope.endpoint)
            .bind(&scope.principal)
            .bind(key)
            .bind(hash)
            .bind(rfc3339(now))
            .bind(rfc3339(now))
            .execute(&mut *tx)
            .await?;
            if inserted.rows_affected() == 1 {
                claim = Claim::Run;
                break;
            }
            let stored: Option<StoredKey> =
                sqlx::query_as(
                    "SELECT body_hash, state, status, content_type, response FROM idempotency_scoped
                         WHERE scope = $1 AND principal = $2 AND key = $3",
                )
                .bind(&scope.endpoint)
                .bind(&scope.principal)
                .bind(key)
                .fetch_optional(&mut *tx)
                .await?;
            let Some((stored_hash, state, status, content_type, body)) = stored else {
                continue;
            };
            claim = if stored_hash != hash {
                Claim::Mismatch
            } else if state == "running" {
                Claim::InProgress
            } else {
                Claim::Replay {
                    status: status.and_then(|s| u16::try_from(s).ok()).unwrap_or(200),
                    content_type,
                    body: body.unwrap_or_default(),
                }
            };
            break;
        }
        tx.commit().await?;
        Ok(claim)
    })
}

/// Keeps the answer for repeats, or frees the key when the answer says "try later".
pub async fn finish(
    db: &crate::db::Db,
    scope: &Scope,
    key: &str,
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<(), sqlx::Error> {
    crate::with_db!(db, pool => {
        if status == 429 || status >= 500 {
            sqlx::query("DELETE FROM idempotency_scoped WHERE scope = $1 AND principal = $2 AND key = $3")
                .bind(&scope.endpoint)
                .bind(&scope.principal)
                .bind(key)
                .execute(pool)
                .await?;
            return Ok(());
        }
        sqlx::query(
            "UPDATE idempotency_scoped SET state = 'done', status = $1, content_type = $2, response = $3, updated_at = $4
             WHERE scope = $5 AND principal = $6 AND key = $7",
        )
        .bind(i64::from(status))
        .bind(content_type)
        .bind(body)
        .bind(now_rfc3339())
        .bind(&scope.endpoint)
        .bind(&scope.principal)
        .bind(key)
        .execute(pool)
        .await?;
        Ok(())
    })
}

/// Drops keys older than 24 h (run now and then).
pub async fn sweep(db: &crate::db::Db) -> Result<u64, sqlx::Error> {
    crate::with_db!(db, pool => {
        let done = sqlx::query("DELETE FROM idempotency_scoped WHERE created_at < $1")
            .bind(rfc3339(OffsetDateTime::now_utc() - KEEP))
            .execute(pool)
            .await?;
        Ok(done.rows_affected())
    })
}

/// The request's `Idempotency-Key`, checked: `Ok(None)` when there is none.
pub fn key_of(headers: &axum::http::HeaderMap) -> Result<Option<String>, HttpError> {
    match headers.get("idempotency-key").map(|v| v.to_str()) {
        None => Ok(None),
        Some(Ok(key)) if !key.is_empty() && key.len() <= 255 => Ok(Some(key.to_owned())),
        Some(_) => Err(HttpError::invalid(
            "Idempotency-Key must be 1 to 255 visible ASCII characters",
        )),
    }
}

/// The answer to a claim that does not run: a replay, or why not.
pub fn answer(claim: Claim) -> Option<Response> {
    match claim {
        Claim::Run => None,
        Claim::Mismatch => Some(
            HttpError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::IdempotencyMismatch,
                "this Idempotency-Key was used with another body",
            )
            .into_response(),
        ),
        Claim::InProgress => Some(
            HttpError::new(
                StatusCode::CONFLICT,
                ErrorCode::IdempotencyInProgress,
                "the first request with this Idempotency-Key is still running",
            )
            .retry_after(std::time::Duration::from_secs(1))
            .into_response(),
        ),
        Claim::Replay {
            status,
            content_type,
            body,
        } => {
            let mut response =
                (StatusCode::from_u16(status).unwrap_or(StatusCode::OK), body).into_response();
            let headers = response.headers_mut();
            headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
            if let Some(value) = content_type.and_then(|c| HeaderValue::from_str(&c).ok()) {
                headers.insert(header::CONTENT_TYPE, value);
            }
            Some(response)
        }
    }
}

/// The caller a key belongs to: the hash of its bearer key, or "anonymous".
pub fn principal_of(headers: &axum::http::HeaderMap) -> String {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map_or_else(
            || "anonymous".to_owned(),
            |k| crate::ledger::key_hash(k.trim()),
        )
}

/// A task stopped when its handle is dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Why a key could not be claimed.
#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    #[error(transparent)]
    Store(#[from] sqlx::Error),
    #[error(transparent)]
    Shared(#[from] SharedError),
}

/// The claim when replicas share Redis: the "running" state is a mark there, renewed by its
/// holder, so a key whose replica was killed is free again within the mark's TTL (not after
/// `ABANDONED`). The mark is taken first; whoever holds it owns any `running` row, which can
/// only be a dead holder's. A finished answer is written before its mark is cleared, so a
/// newcomer that finds no mark finds the answer.
async fn claim_marked(
    db: &crate::db::Db,
    shared: &SharedTraffic,
    mark: &str,
    scope: &Scope,
    key: &str,
    hash: &str,
) -> Result<Claim, ClaimError> {
    if let Some(held) = shared.mark_running(mark, hash).await? {
        return Ok(if held == hash {
            Claim::InProgress
        } else {
            Claim::Mismatch
        });
    }
    let far = OffsetDateTime::now_utc() + time::Duration::days(1);
    let claimed = claim_unless_running_since(db, scope, key, hash, far).await;
    if !matches!(claimed, Ok(Claim::Run)) {
        if let Err(error) = shared.clear_mark(mark).await {
            tracing::warn!(%error, "an idempotency mark was not cleared: it lapses at its TTL");
        }
    }
    Ok(claimed?)
}

/// Runs `work` once for this key: a repeat gets the kept answer (or 409 / 422), the first run's
/// answer is kept (it is whole: a JSON body, or a chat completion, never a stream). With
/// `shared`, replicas see each other's running keys through Redis.
pub async fn once(
    db: &crate::db::Db,
    shared: Option<&SharedTraffic>,
    scope: &Scope,
    key: &str,
    hash: &str,
    work: impl std::future::Future<Output = Response>,
) -> Response {
    let mark = body_hash(format!("{}\n{}\n{key}", scope.endpoint, scope.principal).as_bytes());
    let claimed = match shared {
        Some(shared) => claim_marked(db, shared, &mark, scope, key, hash).await,
        None => claim(db, scope, key, hash).await.map_err(ClaimError::from),
    };
    match claimed {
        Err(ClaimError::Shared(error)) => {
            tracing::error!(%error, "idempotency mark failed");
            HttpError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Unavailable,
                "the router's shared traffic state (Redis) does not answer",
            )
            .retry_after(std::time::Duration::from_secs(1))
            .into_response()
        }
        Err(ClaimError::Store(error)) => {
            tracing::error!(%error, "idempotency claim failed");
            HttpError::internal("the idempotency key could not be checked").into_response()
        }
        Ok(claimed) => match answer(claimed) {
            Some(response) => response,
            None => {
                // stopped when dropped, also when the caller leaves mid-work: the mark then
                // lapses at its TTL instead of being renewed for ever
                let renewer = shared.map(|shared| {
                    let (shared, mark) = (shared.clone(), mark.clone());
                    AbortOnDrop(tokio::spawn(async move {
                        loop {
                            tokio::time::sleep(shared.slot_ttl() / 3).await;
                            if let Err(error) = shared.renew_mark(&mark).await {
                                tracing::warn!(%error, "an idempotency mark was not renewed");
                            }
                        }
                    }))
                });
                let response = work.await;
                drop(renewer);
                let (parts, body) = response.into_parts();
                let bytes = axum::body::to_bytes(body, usize::MAX)
                    .await
                    .unwrap_or_default();
                let content_type = parts
                    .headers
                    .get(header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok());
                if let Err(error) =
                    finish(db, scope, key, parts.status.as_u16(), content_type, &bytes).await
                {
                    tracing::error!(%error, "the answer could not be kept for its idempotency key");
                }
                // after the answer is kept: a newcomer that finds no mark finds the answer
                if let Some(shared) = shared {
                    if let Err(error) = shared.clear_mark(&mark).await {
                        tracing::warn!(%error, "an idempotency mark was not cleared: it lapses at its TTL");
                    }
                }
                Response::from_parts(parts, Body::from(bytes))
            }
        },
    }
}

/// Middleware for the mutating endpoints whose answers are plain JSON (every POST but the chat
/// completions and the jobs, which keep their own rules).
pub async fn idempotent(
    State(state): State<std::sync::Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let key = match key_of(request.headers()) {
        Ok(Some(key)) => key,
        Ok(None) => return next.run(request).await,
        Err(error) => return error.into_response(),
    };
    let scope = Scope {
        endpoint: format!("{} {}", request.method(), request.uri().path()),
        principal: principal_of(request.headers()),
    };
    let (parts, body) = request.into_parts();
    let limit = state.config.max_body_bytes;
    let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
        return HttpError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
            format!("the body is over {limit} bytes"),
        )
        .into_response();
    };
    let hash = body_hash(&bytes);
    once(
        state.ledger.db(),
        state.shared.as_ref(),
        &scope,
        &key,
        &hash,
        next.run(Request::from_parts(parts, Body::from(bytes))),
    )
    .await
}

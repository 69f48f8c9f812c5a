//! The admin API the dashboards draw from (`/admin/v1`, behind the admin key until accounts
//! land): live counters and in-flight per backend against the caps, latency percentiles, cost
//! and tokens by backend × model × hour or day, the decision share against the actual-call
//! share, and recent requests with their attempts; each also as CSV.
// utoipa's `params(...)` expansion names the parameter type by a qualified path
#![allow(unused_qualifications)]

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use protocol::ErrorCode;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::{IntoParams, ToSchema};

use super::extract::Admin;
use crate::error::HttpError;
use crate::state::AppState;
use crate::traffic::counters::Rates;
use crate::traffic::health::HealthView;

/// The environment variable holding the admin key (never the config file).
pub const ADMIN_KEY_ENV: &str = "REVIEW_ROUTER_ADMIN_KEY";

pub(super) fn authorize(state: &AppState, headers: &HeaderMap) -> Result<(), HttpError> {
    let Some(expected) = state.admin_key.as_deref() else {
        return Err(HttpError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::Unauthorized,
            format!("the admin API is off: start the router with {ADMIN_KEY_ENV} set"),
        ));
    };
    let sent = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    // compared as hashes: the time taken says nothing about how much of the key was right
    if crate::ledger::key_hash(sent) == crate::ledger::key_hash(expected) {
        Ok(())
    } else {
        Err(HttpError::unauthorized("the admin key is missing or wrong"))
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Live {
    #[schema(value_type = Object)]
    pub rates: Rates,
    pub backends: Vec<BackendLive>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BackendLive {
    pub name: String,
    pub in_flight: u32,
    pub cap: u32,
    #[schema(value_type = Object)]
    pub health: HealthView,
}

#[utoipa::path(get, path = "/admin/v1/live", params(Range), responses((status = 200, body = Live), (status = 401, body = crate::error::ErrorBody)), security(("admin" = [])))]
pub async fn live(
    State(state): State<Arc<AppState>>,
    _admin: Admin,
    Query(range): Query<Range>,
) -> Response {
    let now = Instant::now();
    let backends = state
        .slots
        .iter()
        .map(|s| BackendLive {
            name: s.backend.name.clone(),
            in_flight: s.in_flight(),
            cap: s.cap,
            health: s.health.view(now),
        })
        .collect();
    let live = Live {
        rates: state.counters.rates(now),
        backends,
    };
    if range.format.as_deref() == Some("csv") {
        let mut out = String::from(
            "backend,in_flight,cap,in_rotation,reason,back_in_seconds,errors_today,rpm,rps10\n",
        );
        for b in &live.backends {
            let reason = b.health.reason.map_or(String::new(), |r| {
                serde_json::to_value(r)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            });
            let back = b
                .health
                .back_in_seconds
                .map_or(String::new(), |s| s.to_string());
            let _ = writeln!(
                out,
                "{},{},{},{},{reason},{back},{},{},{}",
                csv_field(&b.name),
                b.in_flight,
                b.cap,
                b.health.in_rotation,
                b.health.errors_today,
                live.rates.rpm,
                live.rates.rps10
            );
        }
        return csv_response("live.csv", out);
    }
    Json(live).into_response()
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct Range {
    /// From this time on (RFC 3339, UTC); default: 24 hours ago.
    pub from: Option<String>,
    /// Before this time; default: now.
    pub to: Option<String>,
    /// `hour` or `day` (usage only).
    pub bucket: Option<String>,
    pub backend: Option<String>,
    /// The provider's model name.
    pub model: Option<String>,
    /// A client (device) id.
    pub client: Option<i64>,
    /// A store id (as the station's jobs, or `X-Store-Id`, named it).
    pub store: Option<String>,
    /// `csv` for a download; JSON otherwise.
    pub format: Option<String>,
    /// Requests: at most this many (default 50, at most 500), started before `before`.
    pub limit: Option<u32>,
    pub before: Option<String>,
}

impl Range {
    fn bounds(&self) -> Result<(String, String), HttpError> {
        let parse = |text: &str| {
            time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                .map_err(|_| HttpError::invalid(format!("not an RFC 3339 time: {text}")))
        };
        let now = time::OffsetDateTime::now_utc();
        let to = self.to.as_deref().map(parse).transpose()?.unwrap_or(now);
        let from = self
            .from
            .as_deref()
            .map(parse)
            .transpose()?
            .unwrap_or(to - time::Duration::days(1));
        let fmt = |t: time::OffsetDateTime| {
            t.to_offset(time::UtcOffset::UTC)
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default()
        };
        Ok((fmt(from), fmt(to)))
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UsageRow {
    /// `YYYY-MM-DDTHH` (hours) or `YYYY-MM-DD` (days), UTC.
    pub bucket: String,
    pub backend: String,
    pub model: String,
    pub attempts: i64,
    pub ok: i64,
    pub errors: i64,
    pub timeouts: i64,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cached_tokens: i64,
    pub reasoning_tokens: i64,
    pub cost_usd: f64,
}

#[utoipa::path(get, path = "/admin/v1/usage", params(Range), responses((status = 200, body = [UsageRow]), (status = 401, body = crate::error::ErrorBody)), security(("admin" = [])))]
pub async fn usage(
    State(state): State<Arc<AppState>>,
    _admin: Admin,
    Query(range): Query<Range>,
) -> Response {
    match usage_rows(&state, &range).await {
        Ok(rows) if range.format.as_deref() == Some("csv") => {
            csv_response("usage.csv", usage_csv(&rows))
        }
        Ok(rows) => Json(rows).into_response(),
        Err(error) => error.into_response(),
    }
}

async fn usage_rows(state: &AppState, range: &Range) -> Result<Vec<UsageRow>, HttpError> {
    let (from, to) = range.bounds()?;
    let width = match range.bucket.as_deref() {
        None | Some("hour") => 13,
        Some("day") => 10,
        Some(other) => {
            return Err(HttpError::invalid(format!(
                "bucket is hour or day, not {other}"
            )))
        }
    };
    // nearest-rank percentiles per group with window functions: the row at ⌈p·n⌉
    let sql = "WITH a AS (
            SELECT substr(a.started_at, 1, ?) AS bucket, a.backend, a.provider_model, a.outcome, a.latency_ms,
                   a.input_tokens, a.output_tokens, a.cached_tokens, a.reasoning_tokens, a.cost_usd
            FROM attempts a JOIN requests r ON r.id = a.request_id
            WHERE a.started_at >= ? AND a.started_at < ? AND a.outcome <> 'queue_timeout'
              AND (? IS NULL OR a.backend = ?) AND (? IS NULL OR a.provider_model = ?) AND (? IS NULL OR r.client_id = ?)
              AND (? IS NULL OR r.store_id = ?)),
        ranked AS (
            SELECT *, ROW_NUMBER() OVER (PARTITION BY bucket, backend, provider_model ORDER BY latency_ms) AS rn,
                      COUNT(*) OVER (PARTITION BY bucket, backend, provider_model) AS n
            FROM a)
        SELECT bucket, backend, provider_model, count(*) AS attempts, sum(outcome = 'ok') AS ok, sum(outcome <> 'ok') AS errors,
               sum(outcome = 'timeout') AS timeouts,
               max(CASE WHEN rn = (n * 50 + 99) / 100 THEN latency_ms END) AS p50,
               max(CASE WHEN rn = (n * 95 + 99) / 100 THEN latency_ms END) AS p95,
               max(CASE WHEN rn = (n * 99 + 99) / 100 THEN latency_ms END) AS p99,
               coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0), coalesce(sum(cached_tokens), 0),
               coalesce(sum(reasoning_tokens), 0), coalesce(sum(cost_usd), 0)
        FROM ranked GROUP BY bucket, backend, provider_model ORDER BY bucket, backend, provider_model";
    let rows = sqlx::query(sql)
        .bind(width)
        .bind(&from)
        .bind(&to)
        .bind(&range.backend)
        .bind(&range.backend)
        .bind(&range.model)
        .bind(&range.model)
        .bind(range.client)
        .bind(range.client)
        .bind(&range.store)
        .bind(&range.store)
        .fetch_all(state.ledger.pool())
        .await
        .map_err(|e| {
            HttpError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::Storage,
                format!("the ledger query failed: {e}"),
            )
        })?;
    Ok(rows
        .iter()
        .map(|r| UsageRow {
            bucket: r.get(0),
            backend: r.get(1),
            model: r.get(2),
            attempts: r.get(3),
            ok: r.get(4),
            errors: r.get(5),
            timeouts: r.get(6),
            p50_ms: r.get(7),
            p95_ms: r.get(8),
            p99_ms: r.get(9),
            input_tokens: r.get(10),
            output_tokens: r.get(11),
            cached_tokens: r.get(12),
            reasoning_tokens: r.get(13),
            cost_usd: r.get(14),
        })
        .collect())
}

fn usage_csv(rows: &[UsageRow]) -> String {
    let mut out = String::from("bucket,backend,model,attempts,ok,errors,timeouts,p50_ms,p95_ms,p99_ms,input_tokens,output_tokens,cached_tokens,reasoning_tokens,cost_usd\n");
    let ms = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.3}"));
    for r in rows {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{:.8}",
            csv_field(&r.bucket),
            csv_field(&r.backend),
            csv_field(&r.model),
            r.attempts,
            r.ok,
            r.errors,
            r.timeouts,
            ms(r.p50_ms),
            ms(r.p95_ms),
            ms(r.p99_ms),
            r.input_tokens,
            r.output_tokens,
            r.cached_tokens,
            r.reasoning_tokens,
            r.cost_usd
        );
    }
    out
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Shares {
    pub requests: i64,
    /// Requests per backend as the routing decided them…
    pub decided: Vec<(String, i64)>,
    /// …and per backend that actually answered them.
    pub answered_by: Vec<(String, i64)>,
    /// Calls made per backend (every attempt that reached one).
    pub calls: Vec<(String, i64)>,
    pub spillover: i64,
    pub fallback: i64,
    pub timeouts: i64,
    pub refused_429: i64,
    pub refused_503: i64,
}

#[utoipa::path(get, path = "/admin/v1/shares", params(Range), responses((status = 200, body = Shares), (status = 401, body = crate::error::ErrorBody)), security(("admin" = [])))]
pub async fn shares(
    State(state): State<Arc<AppState>>,
    _admin: Admin,
    Query(range): Query<Range>,
) -> Response {
    match share_rows(&state, &range).await {
        Ok(shares) if range.format.as_deref() == Some("csv") => {
            csv_response("shares.csv", shares_csv(&shares))
        }
        Ok(shares) => Json(shares).into_response(),
        Err(error) => error.into_response(),
    }
}

async fn share_rows(state: &AppState, range: &Range) -> Result<Shares, HttpError> {
    let (from, to) = range.bounds()?;
    let pool = state.ledger.pool();
    let failed = |e: sqlx::Error| {
        HttpError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Storage,
            format!("the ledger query failed: {e}"),
        )
    };
    let grouped = |column: &'static str| {
        let sql = format!(
            "SELECT {column}, count(*) FROM requests WHERE started_at >= ? AND started_at < ? AND {column} IS NOT NULL AND (? IS NULL OR client_id = ?)
             AND (? IS NULL OR store_id = ?) {} GROUP BY {column} ORDER BY {column}",
            if column == "final_backend" { "AND status = 200" } else { "" }
        );
        let (from, to) = (from.clone(), to.clone());
        async move {
            sqlx::query_as::<_, (String, i64)>(&sql)
                .bind(from)
                .bind(to)
                .bind(range.client)
                .bind(range.client)
                .fetch_all(pool)
                .await
        }
    };
    let decided = grouped("decided_backend").await.map_err(failed)?;
    let answered_by = grouped("final_backend").await.map_err(failed)?;
    let calls = sqlx::query_as::<_, (String, i64)>(
        "SELECT a.backend, count(*) FROM attempts a JOIN requests r ON r.id = a.request_id WHERE a.started_at >= ? AND a.started_at < ?
         AND a.outcome <> 'queue_timeout' AND (? IS NULL OR r.client_id = ?) AND (? IS NULL OR r.store_id = ?)
         GROUP BY a.backend ORDER BY a.backend",
    )
    .bind(&from)
    .bind(&to)
    .bind(range.client)
    .bind(range.client)
    .bind(&range.store)
    .bind(&range.store)
    .fetch_all(pool)
    .await
    .map_err(failed)?;
    let (requests, spillover, fallback, refused_429, refused_503): (i64, i64, i64, i64, i64) = sqlx::query_as(
        "SELECT count(*), coalesce(sum(decision = 'spillover'), 0), coalesce(sum(fallback), 0), coalesce(sum(status = 429), 0), coalesce(sum(status = 503), 0)
         FROM requests WHERE started_at >= ? AND started_at < ? AND (? IS NULL OR client_id = ?) AND (? IS NULL OR store_id = ?)",
    )
    .bind(&from)
    .bind(&to)
    .bind(range.client)
    .bind(range.client)
    .bind(&range.store)
    .bind(&range.store)
    .fetch_one(pool)
    .await
    .map_err(failed)?;
    let timeouts: i64 = sqlx::query_scalar("SELECT count(*) FROM attempts WHERE started_at >= ? AND started_at < ? AND outcome = 'timeout'")
        .bind(&from)
        .bind(&to)
        .fetch_one(pool)
        .await
        .map_err(failed)?;
    Ok(Shares {
        requests,
        decided,
        answered_by,
        calls,
        spillover,
        fallback,
        timeouts,
        refused_429,
        refused_503,
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RequestView {
    pub id: String,
    pub client_id: Option<i64>,
    pub requested_model: String,
    pub stream: bool,
    pub decision: String,
    pub decision_reason: String,
    pub decided_backend: Option<String>,
    pub final_backend: Option<String>,
    pub fallback: bool,
    pub status: i64,
    pub error_code: Option<String>,
    pub started_at: String,
    pub latency_ms: f64,
    pub ttft_ms: Option<f64>,
    pub cost_usd: f64,
    pub attempts: Vec<AttemptView>,
}

#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct AttemptView {
    pub backend: String,
    pub provider_model: String,
    pub outcome: String,
    pub http_status: Option<i64>,
    pub provider_error: Option<String>,
    pub retry_after_ms: Option<i64>,
    pub queue_wait_ms: f64,
    pub latency_ms: f64,
    pub ttft_ms: Option<f64>,
    pub input_tokens: Option<i64>,
    pub output_tokens: Option<i64>,
    pub cost_usd: f64,
}

/// Recent requests, newest first, with their attempts; `before` pages back.
#[utoipa::path(get, path = "/admin/v1/requests", params(Range), responses((status = 200, body = [RequestView]), (status = 401, body = crate::error::ErrorBody)), security(("admin" = [])))]
pub async fn requests(
    State(state): State<Arc<AppState>>,
    _admin: Admin,
    Query(range): Query<Range>,
) -> Response {
    match request_rows(&state, &range).await {
        Ok(rows) if range.format.as_deref() == Some("csv") => {
            csv_response("requests.csv", requests_csv(&rows))
        }
        Ok(rows) => Json(rows).into_response(),
        Err(error) => error.into_response(),
    }
}

async fn request_rows(state: &AppState, range: &Range) -> Result<Vec<RequestView>, HttpError> {
    let (from, to) = range.bounds()?;
    let before = range.before.clone().unwrap_or(to);
    let limit = i64::from(range.limit.unwrap_or(50).clamp(1, 500));
    let failed = |e: sqlx::Error| {
        HttpError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Storage,
            format!("the ledger query failed: {e}"),
        )
    };
    let pool = state.ledger.pool();
    let rows = sqlx::query(
        "SELECT id, client_id, requested_model, stream, decision, decision_reason, decided_backend, final_backend, fallback, status,
                error_code, started_at, latency_ms, ttft_ms, cost_usd
         FROM requests WHERE started_at >= ? AND started_at < ? AND (? IS NULL OR client_id = ?)
           AND (? IS NULL OR final_backend = ?) AND (? IS NULL OR store_id = ?) ORDER BY started_at DESC, id DESC LIMIT ?",
    )
    .bind(&from)
    .bind(&before)
    .bind(range.client)
    .bind(range.client)
    .bind(&range.backend)
    .bind(&range.backend)
    .bind(&range.store)
    .bind(&range.store)
    .bind(limit)
    .fetch_all(pool)
    .await
    .map_err(failed)?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let id: String = r.get(0);
        let attempts = sqlx::query_as::<_, AttemptView>(
            "SELECT backend, provider_model, outcome, http_status, provider_error, retry_after_ms, queue_wait_ms, latency_ms, ttft_ms,
                    input_tokens, output_tokens, cost_usd FROM attempts WHERE request_id = ? ORDER BY n",
        )
        .bind(&id)
        .fetch_all(pool)
        .await
        .map_err(failed)?;
        out.push(RequestView {
            id,
            client_id: r.get(1),
            requested_model: r.get(2),
            stream: r.get(3),
            decision: r.get(4),
            decision_reason: r.get(5),
            decided_backend: r.get(6),
            final_backend: r.get(7),
            fallback: r.get(8),
            status: r.get(9),
            error_code: r.get(10),
            started_at: r.get(11),
            latency_ms: r.get(12),
            ttft_ms: r.get(13),
            cost_usd: r.get(14),
            attempts,
        });
    }
    Ok(out)
}

fn requests_csv(rows: &[RequestView]) -> String {
    let mut out = String::from("id,started_at,client_id,model,decision,decision_reason,decided_backend,final_backend,fallback,status,error_code,attempts,latency_ms,ttft_ms,cost_usd\n");
    for r in rows {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{:.3},{},{:.8}",
            r.id,
            r.started_at,
            r.client_id.map_or(String::new(), |c| c.to_string()),
            csv_field(&r.requested_model),
            r.decision,
            r.decision_reason,
            r.decided_backend.as_deref().unwrap_or(""),
            r.final_backend.as_deref().unwrap_or(""),
            u8::from(r.fallback),
            r.status,
            r.error_code.as_deref().unwrap_or(""),
            r.attempts.len(),
            r.latency_ms,
            r.ttft_ms.map_or(String::new(), |t| format!("{t:.3}")),
            r.cost_usd
        );
    }
    out
}

fn shares_csv(shares: &Shares) -> String {
    let mut out = String::from("measure,backend,count\n");
    for (measure, list) in [
        ("decided", &shares.decided),
        ("answered_by", &shares.answered_by),
        ("calls", &shares.calls),
    ] {
        for (backend, n) in list {
            let _ = writeln!(out, "{measure},{},{n}", csv_field(backend));
        }
    }
    for (measure, n) in [
        ("requests", shares.requests),
        ("spillover", shares.spillover),
        ("fallback", shares.fallback),
        ("timeouts", shares.timeouts),
        ("refused_429", shares.refused_429),
        ("refused_503", shares.refused_503),
    ] {
        let _ = writeln!(out, "{measure},,{n}");
    }
    out
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

fn csv_response(name: &str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

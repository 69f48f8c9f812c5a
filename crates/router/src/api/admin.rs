//! The admin API the dashboards draw from (`/admin/v1`): the dashboard (usage, latency and
//! shares per bucket from the rollups, with the filters' choices), the live counters and
//! in-flight per backend against the caps, and the recent requests with their attempts; each
//! table also as CSV (`?format=csv`, the window in the file name).
// utoipa's `params(...)` expansion names the parameter type by a qualified path
#![allow(unused_qualifications)]

mod csv;

use std::sync::Arc;
use std::time::Instant;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use protocol::admin::{
    BackendLive, Bucket, Dashboard, DashboardQuery, LatencyPoint, Live, QueryWindow, RequestPage,
    SharePoint, UsagePoint,
};
use protocol::ErrorCode;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use super::extract::Admin;
use crate::error::HttpError;
use crate::rollup::page;
use crate::rollup::read::{self, ReadError, Window};
use crate::state::AppState;
use crate::traffic::health::OutReason;

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

/// A table as CSV instead of JSON (the `/usage`, `/latency`, `/shares` and `/live` tables).
/// Documents the parameter: the handlers read `Params`.
#[allow(dead_code)]
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Format {
    /// `csv` for a download (the header names each column with its unit; the file name holds
    /// the window); JSON otherwise.
    pub format: Option<String>,
}

/// A page of requests (documents the parameters: the handler reads `Params`).
#[allow(dead_code)]
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Page {
    /// Requests per page: 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// Requests before this: an RFC 3339 time, or the `next_before` of the page before.
    pub before: Option<String>,
    /// `csv` for a download; JSON otherwise.
    pub format: Option<String>,
}

/// Every admin query's parameters as sent, checked here so that each bad value is a 400
/// `invalid_request` that names it.
#[derive(Debug, Default, Deserialize)]
pub struct Params {
    from: Option<String>,
    to: Option<String>,
    bucket: Option<String>,
    backend: Option<String>,
    model: Option<String>,
    store: Option<String>,
    device: Option<String>,
    format: Option<String>,
    limit: Option<String>,
    before: Option<String>,
}

impl Params {
    fn of(query: Result<Query<Params>, QueryRejection>) -> Result<Self, HttpError> {
        query
            .map(|Query(p)| p)
            .map_err(|e| HttpError::invalid(format!("the query string cannot be read: {e}")))
    }

    fn dashboard_query(&self) -> Result<DashboardQuery, HttpError> {
        let bucket =
            match self.bucket.as_deref() {
                None | Some("") => None,
                Some(word) => Some(word.parse::<Bucket>().map_err(|_| {
                    HttpError::invalid(format!("bucket is hour or day, not {word:?}"))
                })?),
            };
        let device = match self.device.as_deref() {
            None | Some("") => None,
            Some(text) => Some(text.parse::<i64>().map_err(|_| {
                HttpError::invalid(format!("device is a device id (a number), not {text:?}"))
            })?),
        };
        Ok(DashboardQuery {
            from: self.from.clone().filter(|t| !t.is_empty()),
            to: self.to.clone().filter(|t| !t.is_empty()),
            bucket,
            backend: self.backend.clone(),
            model: self.model.clone(),
            store: self.store.clone(),
            device,
        })
    }

    /// Whether a CSV download was asked for.
    fn csv(&self) -> Result<bool, HttpError> {
        match self.format.as_deref() {
            None | Some("" | "json") => Ok(false),
            Some("csv") => Ok(true),
            Some(other) => Err(HttpError::invalid(format!(
                "format is csv or json, not {other:?}"
            ))),
        }
    }

    fn limit(&self) -> Result<Option<u32>, HttpError> {
        match self.limit.as_deref() {
            None | Some("") => Ok(None),
            Some(text) => text.parse().map(Some).map_err(|_| {
                HttpError::invalid(format!("limit is 1 to {}, not {text:?}", page::MAX_PAGE))
            }),
        }
    }
}

impl From<ReadError> for HttpError {
    fn from(error: ReadError) -> Self {
        match error {
            ReadError::Invalid(message) => HttpError::invalid(message),
            ReadError::Storage(e) => HttpError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::Storage,
                format!("the ledger query failed: {e}"),
            ),
        }
    }
}

fn answer<T: Serialize>(result: Result<T, HttpError>) -> Response {
    match result {
        Ok(value) => Json(value).into_response(),
        Err(error) => error.into_response(),
    }
}

/// Every series of a range: usage, latency and shares per bucket, the window actually covered
/// (whole buckets, UTC) and the values the filters offer. An empty range answers empty series.
#[utoipa::path(get, path = "/admin/v1/dashboard", params(DashboardQuery),
    responses((status = 200, body = Dashboard), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody)),
    security(("admin" = [])))]
pub async fn dashboard(
    State(state): State<Arc<AppState>>,
    _admin: Admin,
    query: Result<Query<Params>, QueryRejection>,
) -> Response {
    answer(
        async {
            let query = Params::of(query)?.dashboard_query()?;
            Ok::<_, HttpError>(
                read::dashboard(state.ledger.db(), &query, OffsetDateTime::now_utc()).await?,
            )
        }
        .await,
    )
}

/// `GET /admin/v1/usage` as JSON: the dashboard's usage series and its window.
#[derive(Debug, Serialize, ToSchema)]
pub struct UsageSeries {
    pub window: QueryWindow,
    pub usage: Vec<UsagePoint>,
}

/// `GET /admin/v1/latency` as JSON.
#[derive(Debug, Serialize, ToSchema)]
pub struct LatencySeries {
    pub window: QueryWindow,
    pub latency: Vec<LatencyPoint>,
}

/// `GET /admin/v1/shares` as JSON.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShareSeries {
    pub window: QueryWindow,
    pub shares: Vec<SharePoint>,
}

/// The query and the window of a series request.
fn series_query(
    query: Result<Query<Params>, QueryRejection>,
) -> Result<(DashboardQuery, Window, bool), HttpError> {
    let params = Params::of(query)?;
    let query = params.dashboard_query()?;
    let window = Window::of(&query, OffsetDateTime::now_utc())?;
    Ok((query, window, params.csv()?))
}

/// Calls, tokens and cost per bucket × backend × provider model.
#[utoipa::path(get, path = "/admin/v1/usage", params(DashboardQuery, Format),
    responses((status = 200, body = UsageSeries), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody)),
    security(("admin" = [])))]
pub async fn usage(
    State(state): State<Arc<AppState>>,
    _admin: Admin,
    query: Result<Query<Params>, QueryRejection>,
) -> Response {
    let result = async {
        let (query, window, csv) = series_query(query)?;
        let usage = read::usage(state.ledger.db(), &window, &query).await?;
        Ok::<_, HttpError>(if csv {
            csv::response("usage", &window.wire(), csv::usage(&usage))
        } else {
            Json(UsageSeries {
                window: window.wire(),
                usage,
            })
            .into_response()
        })
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

/// Latency and time-to-first-token percentiles per bucket × backend × provider model.
#[utoipa::path(get, path = "/admin/v1/latency", params(DashboardQuery, Format),
    responses((status = 200, body = LatencySeries), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody)),
    security(("admin" = [])))]
pub async fn latency(
    State(state): State<Arc<AppState>>,
    _admin: Admin,
    query: Result<Query<Params>, QueryRejection>,
) -> Response {
    let result = async {
        let (query, window, csv) = series_query(query)?;
        let latency = read::latency(state.ledger.db(), &window, &query).await?;
        Ok::<_, HttpError>(if csv {
            csv::response("latency", &window.wire(), csv::latency(&latency))
        } else {
            Json(LatencySeries {
                window: window.wire(),
                latency,
            })
            .into_response()
        })
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

/// The routing decision's share against who answered and the calls made, per bucket.
#[utoipa::path(get, path = "/admin/v1/shares", params(DashboardQuery, Format),
    responses((status = 200, body = ShareSeries), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody)),
    security(("admin" = [])))]
pub async fn shares(
    State(state): State<Arc<AppState>>,
    _admin: Admin,
    query: Result<Query<Params>, QueryRejection>,
) -> Response {
    let result = async {
        let (query, window, csv) = series_query(query)?;
        let shares = read::shares(state.ledger.db(), &window, &query).await?;
        Ok::<_, HttpError>(if csv {
            csv::response("shares", &window.wire(), csv::shares(&shares))
        } else {
            Json(ShareSeries {
                window: window.wire(),
                shares,
            })
            .into_response()
        })
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

/// The counters now: requests per minute and per 10 s, and each backend's in-flight calls
/// against its cap and its rotation.
#[utoipa::path(get, path = "/admin/v1/live", params(Format),
    responses((status = 200, body = Live), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody)),
    security(("admin" = [])))]
pub async fn live(
    State(state): State<Arc<AppState>>,
    _admin: Admin,
    query: Result<Query<Params>, QueryRejection>,
) -> Response {
    let csv = match Params::of(query).and_then(|p| p.csv()) {
        Ok(csv) => csv,
        Err(error) => return error.into_response(),
    };
    let now = Instant::now();
    let at = OffsetDateTime::now_utc();
    let shared_error = |error: crate::traffic::shared::SharedError| {
        HttpError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Unavailable,
            format!("the router's shared traffic state (Redis) does not answer: {error}"),
        )
        .retry_after(std::time::Duration::from_secs(1))
        .into_response()
    };
    let rates = match state.rates(now).await {
        Ok(rates) => rates,
        Err(error) => return shared_error(error),
    };
    let mut backends = Vec::new();
    for s in &state.slots {
        let (health, in_flight) = match (s.view(now, at).await, s.in_flight().await) {
            (Ok(health), Ok(in_flight)) => (health, in_flight),
            (Err(error), _) | (_, Err(error)) => return shared_error(error),
        };
        backends.push(BackendLive {
            name: s.backend.name.clone(),
            in_flight,
            cap: s.cap,
            in_rotation: health.in_rotation,
            disabled_reason: health.reason.map(|r| {
                match r {
                    OutReason::Quota => "quota",
                    OutReason::DailyLimit => "daily_errors",
                }
                .to_owned()
            }),
            disabled_until: health.back_in_seconds.map(|s| {
                read::rfc3339(at.unix_timestamp() + i64::try_from(s).unwrap_or(i64::MAX / 2))
            }),
            errors_today: health.errors_today,
        });
    }
    let live = Live {
        at: read::rfc3339(at.unix_timestamp()),
        rpm: rates.rpm,
        rps10: rates.rps10,
        backends,
    };
    if csv {
        return csv::live_response(&live);
    }
    Json(live).into_response()
}

/// Recent requests, newest first, with their attempts; `before` pages back (`next_before`).
/// Filters: `backend` and `model` keep the requests with an attempt on them.
#[utoipa::path(get, path = "/admin/v1/requests", params(DashboardQuery, Page),
    responses((status = 200, body = RequestPage), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody)),
    security(("admin" = [])))]
pub async fn requests(
    State(state): State<Arc<AppState>>,
    _admin: Admin,
    query: Result<Query<Params>, QueryRejection>,
) -> Response {
    let result = async {
        let params = Params::of(query)?;
        let query = params.dashboard_query()?;
        let csv = params.csv()?;
        let page = page::requests(
            state.ledger.db(),
            &query,
            params.before.as_deref(),
            params.limit()?,
            OffsetDateTime::now_utc(),
        )
        .await?;
        Ok::<_, HttpError>(if csv {
            csv::response("requests", &page.window, csv::requests(&page.requests))
        } else {
            Json::<RequestPage>(page).into_response()
        })
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

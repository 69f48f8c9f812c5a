//! The admins' dashboards (`/admin/v1` of the router, shown by the station's admin screen):
//! cost and tokens, latency, the routing decision's share against the calls actually made, the
//! live counters and recent requests. Every series answers with the exact window it covers.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::{IntoParams, ToSchema};

use crate::wire_enum::wire_enum;

wire_enum! {
    /// The width of one point of a time series.
    #[derive(ToSchema, Default)]
    pub enum Bucket {
        #[default]
        Hour => "hour",
        Day => "day",
    }
}

/// What a dashboard shows: a time range and filters (every filter optional).
#[derive(
    Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema, IntoParams,
)]
#[into_params(parameter_in = Query)]
pub struct DashboardQuery {
    /// From this time on (RFC 3339); default: 24 hours before `to`. Rounded down to the bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Before this time (RFC 3339); default: now. Rounded up to the bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<Bucket>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<String>,
    /// The provider's model name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// A store id (as the station's jobs, or `X-Store-Id`, named it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<String>,
    /// A device (client) id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(type = "number | null")]
    pub device: Option<i64>,
}

/// The exact window a series covers: `[from, to)`, UTC, whole buckets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct QueryWindow {
    pub from: String,
    pub to: String,
    pub bucket: Bucket,
}

/// Calls and what they used, per bucket × backend × provider model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct UsagePoint {
    /// The bucket's start (RFC 3339, UTC).
    pub bucket: String,
    pub backend: String,
    pub model: String,
    #[ts(type = "number")]
    pub attempts: i64,
    #[ts(type = "number")]
    pub ok: i64,
    #[ts(type = "number")]
    pub errors: i64,
    #[ts(type = "number")]
    pub timeouts: i64,
    #[ts(type = "number")]
    pub input_tokens: i64,
    #[ts(type = "number")]
    pub output_tokens: i64,
    #[ts(type = "number")]
    pub cached_tokens: i64,
    #[ts(type = "number")]
    pub reasoning_tokens: i64,
    #[ts(type = "number")]
    pub image_tokens: i64,
    /// US dollars at the prices in force on the call's day.
    pub cost_usd: f64,
}

/// Latency and time to first token (milliseconds) per bucket × backend × provider model.
/// Percentiles are nearest-rank, read from a histogram whose buckets are 2 % wide: the value
/// given is the upper edge of the bucket that holds the exact percentile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct LatencyPoint {
    pub bucket: String,
    pub backend: String,
    pub model: String,
    /// Calls measured (every attempt that reached the backend).
    #[ts(type = "number")]
    pub calls: i64,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    /// Streamed calls, whose first token was timed.
    #[ts(type = "number")]
    pub streamed: i64,
    pub ttft_p50_ms: Option<f64>,
    pub ttft_p95_ms: Option<f64>,
    pub ttft_p99_ms: Option<f64>,
}

/// A count per backend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct BackendCount {
    pub backend: String,
    #[ts(type = "number")]
    pub n: i64,
}

/// Where requests were sent by the routing decision, against who answered and which backends
/// were called, with what went wrong, per bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct SharePoint {
    pub bucket: String,
    #[ts(type = "number")]
    pub requests: i64,
    /// Requests per backend as the routing decided them…
    pub decided: Vec<BackendCount>,
    /// …per backend that answered them (successful requests)…
    pub answered: Vec<BackendCount>,
    /// …and calls made per backend (every attempt that reached one).
    pub calls: Vec<BackendCount>,
    #[ts(type = "number")]
    pub spillover: i64,
    /// Requests answered by another backend than decided.
    #[ts(type = "number")]
    pub fallback: i64,
    /// Attempts that timed out.
    #[ts(type = "number")]
    pub timeouts: i64,
    /// Requests answered 429 / 503 by the router.
    #[ts(type = "number")]
    pub refused_429: i64,
    #[ts(type = "number")]
    pub refused_503: i64,
}

/// A device (station or client key) the filters offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct DeviceRef {
    #[ts(type = "number")]
    pub id: i64,
    pub name: String,
}

/// The values the filters offer (every one seen in the ledger).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct FilterChoices {
    pub backends: Vec<String>,
    pub models: Vec<String>,
    pub stores: Vec<String>,
    pub devices: Vec<DeviceRef>,
}

/// `GET /admin/v1/dashboard`: every time series of the range, one window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct Dashboard {
    pub window: QueryWindow,
    pub usage: Vec<UsagePoint>,
    pub latency: Vec<LatencyPoint>,
    pub shares: Vec<SharePoint>,
    pub choices: FilterChoices,
}

/// One backend now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct BackendLive {
    pub name: String,
    pub in_flight: u32,
    pub cap: u32,
    pub in_rotation: bool,
    /// Why it is out of rotation (`quota`, `daily_errors`), when it is.
    pub disabled_reason: Option<String>,
    /// Until when (RFC 3339), when it is.
    pub disabled_until: Option<String>,
    pub errors_today: u32,
}

/// `GET /admin/v1/live`: the counters now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct Live {
    /// When this was read (RFC 3339).
    pub at: String,
    /// Requests in the last minute, and in the last 10 seconds.
    pub rpm: u32,
    pub rps10: u32,
    pub backends: Vec<BackendLive>,
}

/// One call to a backend for a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct AttemptView {
    pub backend: String,
    pub provider_model: String,
    pub outcome: String,
    #[ts(type = "number | null")]
    pub http_status: Option<i64>,
    pub provider_error: Option<String>,
    #[ts(type = "number | null")]
    pub retry_after_ms: Option<i64>,
    pub queue_wait_ms: f64,
    pub latency_ms: f64,
    pub ttft_ms: Option<f64>,
    #[ts(type = "number | null")]
    pub input_tokens: Option<i64>,
    #[ts(type = "number | null")]
    pub output_tokens: Option<i64>,
    pub cost_usd: f64,
}

/// One request with its attempts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct RequestView {
    pub id: String,
    #[ts(type = "number | null")]
    pub device: Option<i64>,
    pub store: Option<String>,
    pub requested_model: String,
    pub stream: bool,
    pub decision: String,
    pub decision_reason: String,
    pub decided_backend: Option<String>,
    pub final_backend: Option<String>,
    pub fallback: bool,
    #[ts(type = "number")]
    pub status: i64,
    pub error_code: Option<String>,
    pub started_at: String,
    pub latency_ms: f64,
    pub ttft_ms: Option<f64>,
    pub cost_usd: f64,
    pub attempts: Vec<AttemptView>,
}

/// `GET /admin/v1/requests`: newest first; `next_before` pages back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct RequestPage {
    pub window: QueryWindow,
    pub requests: Vec<RequestView>,
    pub next_before: Option<String>,
}

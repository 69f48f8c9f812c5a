//! What the account and admin screens receive over IPC.

use protocol::account::Account;
use protocol::admin::{Dashboard, Live, RequestPage};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Whose name decisions go under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum AccountMode {
    /// Never connected to a router: the reviewer name typed on this station, marked as local.
    Local,
    /// Connected: people sign in with their router account.
    Router,
}

/// The station's sign-in state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct AccountStatus {
    pub mode: AccountMode,
    /// The signed-in account (router mode), while its session lasts.
    pub account: Option<Account>,
    /// RFC 3339: when the session ends.
    pub expires_at: Option<String>,
    pub router_url: Option<String>,
    /// Router mode and nobody signed in (or the session ended): the login screen is due.
    pub sign_in_required: bool,
    /// Local mode: the name typed on this station.
    pub local_reviewer: Option<String>,
    /// Why the session was closed, when it was closed by the router (revoked, expired).
    pub ended_reason: Option<String>,
}

/// A completed sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct LoginOutcome {
    pub status: AccountStatus,
    /// After TOTP enrolment: the 10 recovery codes, shown once.
    pub recovery_codes: Vec<String>,
    /// After a recovery code was used: how many are left.
    pub recovery_codes_left: Option<u32>,
}

/// A QR code as modules (row by row, `size × size`, true = dark), drawn by the UI as SVG:
/// no image bytes and no remote content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct QrCode {
    pub size: u32,
    pub modules: Vec<bool>,
}

/// Where an admin view's data came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Freshness {
    /// RFC 3339: when the router answered this.
    pub fetched_at: String,
    /// False: the router cannot be reached and this is the last snapshot synced.
    pub fresh: bool,
    /// Why the router was not asked or did not answer, when `fresh` is false.
    pub offline_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct DashboardView {
    pub dashboard: Dashboard,
    pub freshness: Freshness,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct LiveView {
    pub live: Live,
    pub freshness: Freshness,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct RequestsView {
    pub page: RequestPage,
    pub freshness: Freshness,
}

/// The tables an admin can export as CSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum CsvTable {
    Usage,
    Latency,
    Shares,
    Live,
    Requests,
    Engine,
}

/// Latency of one step of the local engine on this station.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct StepLatency {
    /// `quality_gate`, `category_gate`, `ocr`.
    pub step: String,
    pub count: u32,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
}

/// One reviewer's pace, from the evaluation store's decisions.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct ReviewerPace {
    pub reviewer: String,
    pub items: u32,
    /// Items per hour of active reviewing (gaps over 10 minutes are breaks, not work).
    pub items_per_hour: f64,
    /// Median seconds from opening an item to deciding it.
    pub seconds_per_item: f64,
}

/// `GET`-like: the local engine and the reviewers on this station, over a window.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct LocalStats {
    /// The window (RFC 3339, `[from, to)`).
    pub from: String,
    pub to: String,
    /// The processor (and GPU, when in use) these latencies were measured on.
    pub hardware: String,
    pub steps: Vec<StepLatency>,
    pub reviewers: Vec<ReviewerPace>,
}

//! Sign-in with a router account (password, then TOTP or a recovery code), the session token in
//! the OS keyring, and the admin views fetched through the session, with the last snapshot kept
//! for when the router cannot be reached.

mod types;

pub use types::{
    AccountMode, AccountStatus, CsvTable, DashboardView, Freshness, LiveView, LocalStats,
    LoginOutcome, QrCode, RequestsView, ReviewerPace, StepLatency,
};

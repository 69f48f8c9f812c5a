//! The review service: the review queue as the application sees it: results are routed by their store's policy
//! (`policies/<store id>.toml` in the data directory, reread when it changes; an invalid edit
//! keeps the previous policy and reports why), doubtful ones become tasks, and reviewers claim,
//! decide and undo through the audit trail (what the decisions say: `crate::insights`).
//!
//! - `policy.rs`: the policies, cached by file time; `routing.rs`: results into tasks;
//! - `decisions.rs`: the queue, leases, decisions, undo, the audit check; `diff.rs`: what a
//!   reviewer changed;
//! - `learning.rs`: a category correction becomes a reference photo.

mod decisions;
pub(crate) use decisions::audit_check;
mod diff;
mod learning;
mod policy;
mod routing;

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

pub use decisions::QueuePage;
pub use diff::changed_fields;
use policy::PolicyCache;

use crate::shared::Core;
use crate::{Session, Stores};

#[derive(Debug)]
pub struct Review {
    core: Arc<Core>,
    /// The active store routes documents; a store's config says whether corrections are learnt.
    stores: Arc<Stores>,
    /// Every queue call acts as the signed-in reviewer.
    session: Arc<Session>,
    /// Routing policies by store, as last read.
    policies: std::sync::Mutex<PolicyCache>,
    /// Writes to the review queue (claims, decisions, renewals) go one at a time: two at once
    /// would meet in SQLite's busy handler, which sleeps in steps of milliseconds — the
    /// pre-load of the next task would then cost the decision before it 5–15 ms.
    writes: tokio::sync::Mutex<()>,
}

impl Review {
    pub(crate) fn new(core: Arc<Core>, stores: Arc<Stores>, session: Arc<Session>) -> Self {
        Self {
            core,
            stores,
            session,
            policies: std::sync::Mutex::new(PolicyCache::default()),
            writes: tokio::sync::Mutex::new(()),
        }
    }
}

/// How long a claimed task stays with its reviewer without a decision.
pub const LEASE_MS: i64 = 10 * 60 * 1000;
/// Store id of results routed while no store is active.
pub const DEFAULT_STORE: &str = "default";
pub const POLICIES_DIR: &str = "policies";

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

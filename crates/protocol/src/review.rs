//! Results and their review: what kind a result is, why it is reviewed, what a reviewer decided.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::wire_enum::wire_enum;

wire_enum! {
    /// What a structured result is; each has its own JSON Schema and routing thresholds.
    pub enum ResultKind {
        Compliance => "compliance",
        Invoice => "invoice",
        Legal => "legal",
    }
}

impl ResultKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::Compliance => "Compliance",
            Self::Invoice => "Invoice",
            Self::Legal => "Legal",
        }
    }
}

wire_enum! {
    /// What a document is extracted as (a photo's compliance result is not extracted but judged).
    pub enum DocumentKind {
        Invoice => "invoice",
        Legal => "legal",
    }
}

impl From<DocumentKind> for ResultKind {
    fn from(kind: DocumentKind) -> Self {
        match kind {
            DocumentKind::Invoice => Self::Invoice,
            DocumentKind::Legal => Self::Legal,
        }
    }
}

wire_enum! {
    /// Why a result goes to a reviewer.
    pub enum RoutingReason {
        /// A field's or a rule's confidence is under its threshold.
        LowConfidence => "low_confidence",
        /// A validator failed (totals, check digit, a gate rule).
        ValidationFailed => "validation_failed",
        /// A gate's verdict is close to its threshold (category margin).
        GateBorderline => "gate_borderline",
        /// Would be auto-accepted; sampled so that auto-accepted results are measured too.
        QaSample => "qa_sample",
    }
}

impl RoutingReason {
    pub fn label(self) -> &'static str {
        match self {
            Self::LowConfidence => "Low confidence",
            Self::ValidationFailed => "Validation failed",
            Self::GateBorderline => "Gate borderline",
            Self::QaSample => "QA sample",
        }
    }
}

wire_enum! {
    /// Why a reviewer rejected a result.
    pub enum RejectReason {
        WrongDocument => "wrong_document",
        Illegible => "illegible",
        Duplicate => "duplicate",
        NotForThisStore => "not_for_this_store",
        Other => "other",
    }
}

impl RejectReason {
    pub fn label(self) -> &'static str {
        match self {
            Self::WrongDocument => "wrong document",
            Self::Illegible => "illegible",
            Self::Duplicate => "duplicate",
            Self::NotForThisStore => "not for this store",
            Self::Other => "other",
        }
    }
}

wire_enum! {
    /// What a decision did to its task.
    pub enum DecisionAction {
        Approve => "approve",
        Reject => "reject",
        Correct => "correct",
        /// Takes back the reviewer's last decision on the task; the task is open again.
        Undo => "undo",
    }
}

/// A task as the UI sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ReviewTask {
    #[ts(type = "number")]
    pub id: i64,
    #[ts(type = "number")]
    pub item_id: i64,
    pub kind: ResultKind,
    pub store_id: String,
    pub confidence: f64,
    pub reasons: Vec<RoutingReason>,
    pub created_at: String,
    pub due_at: Option<String>,
    /// The model's output as routed (an invoice, legal or compliance result).
    #[ts(type = "unknown")]
    pub model_output: serde_json::Value,
    #[ts(type = "unknown")]
    pub versions: serde_json::Value,
    pub lease_owner: Option<String>,
    /// Until when the lease holds (RFC 3339); the task is free again after it.
    pub lease_expires_at: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, Default)]
#[serde(rename_all = "snake_case")]
pub enum QueueSort {
    #[default]
    LowestConfidence,
    Oldest,
    Due,
}

/// Which open tasks a queue view or a claim considers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, Default)]
pub struct QueueQuery {
    pub kind: Option<ResultKind>,
    pub store_id: Option<String>,
    pub reason: Option<RoutingReason>,
    /// Only tasks created at or before this time (RFC 3339): "older than".
    pub created_before: Option<String>,
    #[serde(default)]
    pub sort: QueueSort,
}

/// A reviewer's decision on a task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum DecisionInput {
    Approve,
    Reject {
        reason_code: RejectReason,
    },
    /// The reviewer's corrected output (the whole result, with the edited fields).
    Correct {
        #[ts(type = "unknown")]
        after: serde_json::Value,
    },
}

impl DecisionInput {
    pub fn action(&self) -> DecisionAction {
        match self {
            Self::Approve => DecisionAction::Approve,
            Self::Reject { .. } => DecisionAction::Reject,
            Self::Correct { .. } => DecisionAction::Correct,
        }
    }
}

/// A decision as recorded in the audit trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct DecisionRecord {
    #[ts(type = "number")]
    pub id: i64,
    #[ts(type = "number")]
    pub task_id: i64,
    pub reviewer: String,
    pub action: DecisionAction,
    pub reason_code: Option<RejectReason>,
    /// For an undo: the decision it takes back.
    #[ts(type = "number | null")]
    pub undoes: Option<i64>,
    pub decided_at: String,
    #[ts(type = "number")]
    pub duration_ms: i64,
    pub hash: String,
    /// Where a category correction was added as a reference photo (learning loop).
    pub learned: Option<String>,
    /// Why the correction could not be added as a reference photo (the decision stands).
    pub learn_error: Option<String>,
    /// How long the station took to commit the decision (read the task, diff, the chained
    /// write), in ms: the workbench reports it beside the round trip it sees.
    pub commit_ms: f64,
}

/// The audit trail's verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct AuditCheck {
    #[ts(type = "number")]
    pub decisions: u64,
    pub intact: bool,
    #[ts(type = "number | null")]
    pub broken_at: Option<i64>,
    pub problem: Option<String>,
    /// When connected to a router: how the chain compares with the heads the router witnessed
    /// at each sync (a history rewritten after a head was sent no longer reaches it), or why
    /// the router could not be asked. `None` for a station never connected.
    #[serde(default)]
    pub witnessed: Option<String>,
    /// How the chain's seals (HMACs with the audit key kept in the OS keyring) were checked,
    /// or why they could not be.
    #[serde(default)]
    pub seal: Option<String>,
}

/// Who is working in this session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SessionInfo {
    pub reviewer: Option<String>,
}

/// A store's routing policy file changed on disk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct PolicyChanged {
    pub store_id: String,
    /// Why the edit was rejected; the previous policy stays in force.
    pub error: Option<String>,
}

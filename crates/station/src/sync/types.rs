//! What the sync panel shows: the connection, whether the router answers, and each outbox
//! row's state in words a person acts on.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// A row's state (the outbox state machine's, as stored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum SyncJobState {
    Queued,
    Uploading,
    Waiting,
    Retrying,
    Parked,
    Done,
}

impl SyncJobState {
    pub const ALL: [Self; 6] = [
        Self::Queued,
        Self::Uploading,
        Self::Waiting,
        Self::Retrying,
        Self::Parked,
        Self::Done,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Uploading => "uploading",
            Self::Waiting => "waiting",
            Self::Retrying => "retrying",
            Self::Parked => "parked",
            Self::Done => "done",
        }
    }

    pub fn parse(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == word)
    }
}

/// The router this station is connected to (its key is in the OS keyring, never here).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct SyncConnection {
    pub url: String,
    #[ts(type = "number")]
    pub device_id: i64,
    pub station_name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, TS)]
pub struct SyncCounts {
    #[ts(type = "number")]
    pub queued: u64,
    #[ts(type = "number")]
    pub uploading: u64,
    #[ts(type = "number")]
    pub waiting: u64,
    #[ts(type = "number")]
    pub retrying: u64,
    #[ts(type = "number")]
    pub parked: u64,
    #[ts(type = "number")]
    pub done: u64,
}

/// The sync panel's header.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct SyncStatus {
    /// None: never connected (the station works on its own, as always).
    pub connection: Option<SyncConnection>,
    /// The router answered the last call.
    pub online: bool,
    /// Why the station is offline or cannot sync (no keyring, the key revoked, the server not
    /// a router, …), in words.
    pub problem: Option<String>,
    /// The last time the router answered (RFC 3339).
    pub last_contact: Option<String>,
    pub counts: SyncCounts,
}

/// One outbox row in the sync panel.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct SyncJob {
    #[ts(type = "number")]
    pub id: i64,
    /// `compliance_check`, `invoice_fields`, `legal_summary` or `correction`.
    pub kind: String,
    /// The item it belongs to (opens in the item view).
    #[ts(type = "number | null")]
    pub item_id: Option<i64>,
    pub state: SyncJobState,
    /// Uploading: how much of its files the router has.
    pub percent: Option<u8>,
    /// Retrying or parked: why.
    pub reason: Option<String>,
    /// Retrying: when (RFC 3339).
    pub retry_at: Option<String>,
    pub failures: u32,
    /// The whole state in words (`retrying at 10:42:05: 503 unavailable`).
    pub description: String,
    pub created_at: String,
    pub updated_at: String,
}

/// A page of the sync panel's rows.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct SyncJobPage {
    pub jobs: Vec<SyncJob>,
    #[ts(type = "number")]
    pub total: u64,
}

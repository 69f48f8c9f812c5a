//! What a visit looks like to the UI: the visit, its photos with their verdicts, the
//! checklist, the watched folder, and the events a visit sends.

use serde::{Deserialize, Serialize};
use store::VisitRow;
use ts_rs::TS;

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct VisitInfo {
    #[ts(type = "number")]
    pub id: i64,
    pub store_id: String,
    pub store_name: String,
    pub auditor: String,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub import_folder: Option<String>,
}

impl From<VisitRow> for VisitInfo {
    fn from(row: VisitRow) -> Self {
        Self {
            id: row.id,
            store_id: row.store_id,
            store_name: row.store_name,
            auditor: row.auditor,
            started_at: row.started_at,
            ended_at: row.ended_at,
            import_folder: row.import_folder,
        }
    }
}

/// What a photo means for the visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum PhotoState {
    /// Passes the gates and counts for a required shot.
    Accepted,
    /// Passes the gates but no required shot asks for its category.
    Extra,
    /// Must be taken again; `guidance` says how.
    Retake,
    /// Not a photo the station can read (corrupt, truncated, a PDF…).
    Unreadable,
}

/// A photo of a visit with its verdicts, as shown the moment it lands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct VisitPhoto {
    #[ts(type = "number | null")]
    pub item_id: Option<i64>,
    pub file_name: String,
    pub source_path: String,
    /// When the photo joined the visit (RFC 3339).
    #[serde(default)]
    pub added_at: String,
    pub state: PhotoState,
    /// `pass` or `fail`; none when the photo could not be read.
    pub quality: Option<String>,
    /// Failed quality checks (`blur`, `dark`, …) and category problems (`irrelevant`,
    /// `uncertain`).
    pub reasons: Vec<String>,
    /// What to do differently, one line per reason.
    pub guidance: Vec<String>,
    /// The category the photo shows, when the category gate could tell.
    pub category: Option<String>,
    pub category_verdict: Option<String>,
    /// The required shot it counts for (or would, once retaken).
    pub shot: Option<String>,
    /// Rules of its shot waiting for the cloud LLM.
    pub pending_rules: u32,
    /// Its shot's rules as the cloud LLM judged them (or still waits to), once synced.
    #[serde(default)]
    pub cloud_rules: Vec<CloudRule>,
    /// Milliseconds from the file being taken (complete) to both verdicts.
    pub latency_ms: f64,
    /// The same content was already part of this visit.
    pub duplicate: bool,
    /// Why the photo could not be read, or why the category gate did not run.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ShotState {
    Done,
    Retake,
    Missing,
}

/// One line of the visit checklist.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct ShotStatus {
    pub name: String,
    pub category: String,
    pub required: u32,
    pub accepted: u32,
    pub retakes: u32,
    pub state: ShotState,
    pub rules: Vec<String>,
}

/// The watched import folder of a visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum FolderStatus {
    /// No folder is watched for this visit.
    None,
    Watching,
    /// The folder is gone (a card pulled out, a phone unplugged); watching resumes when it is back.
    Missing,
    /// The folder exists but cannot be watched; `message` says why.
    Failed,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct FolderState {
    pub path: Option<String>,
    pub status: FolderStatus,
    pub message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct VisitState {
    pub visit: VisitInfo,
    pub checklist: Vec<ShotStatus>,
    /// Newest first, one page of them.
    pub photos: Vec<VisitPhoto>,
    #[ts(type = "number")]
    pub photos_total: u64,
    #[ts(type = "number")]
    pub pending_cloud: u64,
    pub folder: FolderState,
    /// Set when `stores.toml` was rejected; the visit goes on with the last valid config.
    pub config_error: Option<String>,
}

/// Emitted when a photo of a visit has its verdicts.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct VisitPhotoEvent {
    #[ts(type = "number")]
    pub visit_id: i64,
    pub photo: VisitPhoto,
}

/// Emitted when a visit's import folder appears, vanishes or cannot be watched.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct VisitFolderEvent {
    #[ts(type = "number")]
    pub visit_id: i64,
    pub folder: FolderState,
}

/// A store rule of a photo, checked by the cloud LLM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct CloudRule {
    pub rule: String,
    /// `pending`, `passed`, `failed` or `unclear`.
    pub state: String,
    pub confidence: Option<f64>,
    /// The model's reason, in a sentence.
    pub reason: Option<String>,
}

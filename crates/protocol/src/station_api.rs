//! The station API's wire types (`/station/v1` of the router): what the sync client sends and
//! what the router answers. Declared once, here, for both sides; the router's OpenAPI document
//! describes them (utoipa derives: plain data, no I/O).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::wire_enum::wire_enum;

wire_enum! {
    /// The LLM work a station hands to the router.
    #[derive(ToSchema)]
    pub enum JobKind {
        /// A store photo against the store's rules → a verdict per rule, with reasons.
        ComplianceCheck => "compliance_check",
        /// Page images, OCR text and the local extraction → the invoice's fields.
        InvoiceFields => "invoice_fields",
        /// A judgment's pages and text → an extractive summary.
        LegalSummary => "legal_summary",
    }
}

/// `POST /station/v1/enrol`: a one-time code an admin created, for this station's device key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Enrol {
    pub code: String,
    /// The station's name (shown to admins).
    pub name: String,
    /// The sha256 (hex) of a key the station made itself (32 random bytes or more) and keeps in
    /// its keyring: the router never holds the key, and a repeat of this enrolment (an answer
    /// lost on the way) is answered again. Without it the router makes the key and shows it
    /// once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_sha256: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Enrolled {
    pub device_id: i64,
    /// The key the router made (shown once), when the station did not bring its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// Where an upload stands (`PATCH /station/v1/blobs/{sha256}`; `HEAD` says it in headers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Upload {
    pub length: u64,
    pub received: u64,
    pub complete: bool,
}

/// `POST /station/v1/jobs` (with an `Idempotency-Key`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NewJob {
    pub kind: JobKind,
    /// compliance_check: `{store_id, photo_sha256, rules: [{id, text}]}`; invoice_fields:
    /// `{store_id?, page_sha256s, ocr_text, local}`; legal_summary: `{page_sha256s, text}`.
    #[schema(value_type = Object)]
    pub input: serde_json::Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct JobAccepted {
    pub job_id: i64,
    /// False when this key's job was submitted before (its result is fetched as usual).
    pub new: bool,
}

/// A finished job (`GET /station/v1/results?after=SEQ&wait=S`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct JobResult {
    pub job_id: i64,
    pub kind: JobKind,
    /// The cursor: fetch with `after` set to the last one seen.
    pub seq: i64,
    pub ok: bool,
    /// Valid against the kind's schema when `ok`.
    #[schema(value_type = Option<Object>)]
    pub result: Option<serde_json::Value>,
    /// Why the job failed, when it did.
    pub error: Option<String>,
    /// The prompt and schema it ran with (`compliance_check.v1`…).
    pub prompt_version: String,
    pub finished_at: String,
    /// The key the job was submitted with: a station that submitted it but crashed before it
    /// kept the job's id still knows the result for its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
}

/// `POST /station/v1/corrections`: reviewers' decisions for the server-side evaluation store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Corrections {
    pub corrections: Vec<Correction>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Correction {
    /// The decision's hash in the station's audit chain: each is stored once.
    pub decision_hash: String,
    /// The result kind (`compliance`, `invoice`, `legal`).
    pub kind: String,
    /// The model's output and the reviewer's, and anything else the station records.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub rest: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CorrectionsReceived {
    pub received: u64,
    /// Not seen before (repeats are counted once).
    pub new: u64,
}

/// `POST /station/v1/audit-heads`: the head of the station's decision chain as it stands, sent at
/// each sync. The router keeps every head it is sent, so a history rewritten after a head was
/// witnessed no longer reaches that head (`--verify-audit` asks for them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuditHead {
    /// Decisions in the chain.
    pub decisions: u64,
    /// The last decision's id.
    pub last_id: i64,
    /// The last decision's hash (hex sha256), or the genesis hash for an empty chain.
    pub last_hash: String,
}

/// A head the router was sent, and when (`GET /station/v1/audit-heads`, oldest first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WitnessedHead {
    #[serde(flatten)]
    pub head: AuditHead,
    pub received_at: String,
}

/// `GET /station/v1/hello` (no key needed): who answers. A station checks it before anything
/// else, so a wrong URL (another web server) is told apart from a router that refuses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Hello {
    /// Always [`ROUTER_SERVICE`].
    pub service: String,
    /// The station API's version; a station speaks [`STATION_API_VERSION`].
    pub api: u32,
    /// The router's version.
    pub version: String,
    /// The router's clock (RFC 3339): a station whose clock is far off says so.
    pub now: String,
    /// How long the router keeps idempotency keys: a station retries no longer than this.
    pub idempotency_retention_s: u64,
}

pub const ROUTER_SERVICE: &str = "review-router";
pub const STATION_API_VERSION: u32 = 1;

/// `POST /station/v1/tasks`: a task a station raises into the team's shared review queue, so a
/// reviewer at any station can decide it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NewTask {
    /// The raising station's own id for the task, unique per device: a repeat is the same task.
    pub task_key: String,
    /// The reviewed item's content hash (hex sha256).
    pub item_sha256: String,
    /// The blobs a reviewer looks at (the photo, the pages), uploaded whole before the task is
    /// raised: another station downloads them (`GET /station/v1/blobs/{sha256}`).
    pub blobs: Vec<String>,
    /// The result kind: `compliance`, `invoice` or `legal`.
    pub kind: String,
    pub store_id: String,
    /// The model's confidence (0–1): the queue is worked lowest first.
    pub confidence: f64,
    /// Why the result is reviewed.
    pub reasons: Vec<String>,
    /// What the model answered, as the station shows it to a reviewer.
    #[schema(value_type = Object)]
    pub model_output: serde_json::Value,
    /// The model, prompt and schema versions the output came from.
    pub versions: String,
    /// Seconds the raising station holds the new task (30 to 3600): a task a reviewer there may
    /// already be deciding is not claimed by another station meanwhile. None: free at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_s: Option<u32>,
}

/// A task of the shared queue, as raised, with the lease as it stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SharedTask {
    pub id: i64,
    /// The device that raised it (for a task the router raised from a job: the job's device).
    pub origin_device: i64,
    pub task_key: String,
    pub item_sha256: String,
    pub blobs: Vec<String>,
    pub kind: String,
    pub store_id: String,
    pub confidence: f64,
    pub reasons: Vec<String>,
    #[schema(value_type = Object)]
    pub model_output: serde_json::Value,
    pub versions: String,
    pub created_at: String,
    /// Until when the calling station holds it (RFC 3339); none when it is not leased to it.
    pub lease_expires_at: Option<String>,
}

/// `POST /station/v1/tasks/claim`: lease up to `max` open tasks to the calling station. Tasks it
/// holds already come first (their leases renewed), then the lowest confidence; a task whose
/// lease ran out can be claimed by any station.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Claim {
    /// At most 200.
    pub max: u32,
    /// How long the lease lasts: 30 to 3600 seconds.
    pub lease_s: u32,
    /// Only tasks of this result kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Only tasks of this store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_id: Option<String>,
}

/// `POST /station/v1/tasks/renew`: extend the leases of tasks this station holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LeaseChange {
    pub ids: Vec<i64>,
    /// The new lease, from now: 30 to 3600 seconds.
    pub lease_s: u32,
}

/// The answer to a renewal: which leases were extended, and which this station no longer holds
/// (taken over, released, decided or unknown): its reviewer should stop working on those.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LeaseRenewed {
    pub renewed: Vec<i64>,
    pub lost: Vec<i64>,
    /// The renewed leases' new end (RFC 3339).
    pub lease_expires_at: String,
}

/// `POST /station/v1/tasks/release`: give tasks back to the queue before their lease runs out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Release {
    pub ids: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Released {
    /// The tasks this station held and gave back (the others were not its own to give).
    pub released: Vec<i64>,
}

/// `POST /station/v1/tasks/{id}/decision`: a reviewer's decision on a shared task, recorded only
/// while this station holds its lease (or the lease ran out and no other station claimed it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SharedDecision {
    /// `approve`, `reject` or `correct` (an undo is the station's own: a shared decision is
    /// final).
    pub action: String,
    /// The decision's hash in the station's audit chain: a repeat with it is recorded once.
    pub decision_hash: String,
    /// The result before the reviewer's change.
    #[schema(value_type = Object)]
    pub before: serde_json::Value,
    /// The result as the reviewer left it.
    #[schema(value_type = Object)]
    pub after: serde_json::Value,
    pub reviewer: String,
    /// When the reviewer decided (RFC 3339).
    pub decided_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DecisionRecorded {
    pub task_id: i64,
    pub decision_hash: String,
    /// False when this decision was recorded before (a repeat).
    pub new: bool,
}

/// `GET /station/v1/updates/{os}/{arch}/{bundle}/{current_version}` (no key needed): a newer
/// release of the station for that platform and package kind; `204 No Content` when there is
/// none. The shape is the Tauri updater's "dynamic" answer, so any static host serving the same
/// JSON works too. The router vouches for nothing here: the station installs the file only when
/// `signature` (minisign, base64) verifies against the public key built into it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UpdateOffer {
    /// The release's version (semver).
    pub version: String,
    /// What is new, shown to the user before anything is downloaded.
    pub notes: Option<String>,
    /// When it was published (RFC 3339).
    pub pub_date: Option<String>,
    /// Where the package is: on this router (`/station/v1/updates/files/…`) or elsewhere.
    pub url: String,
    /// The package's minisign signature, base64 of the `.sig` file's text.
    pub signature: String,
}

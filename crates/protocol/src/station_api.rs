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

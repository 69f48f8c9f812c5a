//! The one error shape of every boundary: `{code, message}` with a typed code.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::wire_enum::wire_enum;

wire_enum! {
    /// Why a request failed, as a program should act on it: the message says it to a person,
    /// the code decides what happens next (retry, ask for something else, give up).
    pub enum ErrorCode {
        /// No item, visit, task or file with that id or path.
        NotFound => "not_found",
        /// The task is decided already, or leased to another reviewer.
        TaskNotHeld => "task_not_held",
        /// The request itself is wrong (a missing reason, an unknown store, a bad value).
        InvalidRequest => "invalid_request",
        /// The database or the blob store failed (busy, full, read-only).
        Storage => "storage",
        /// A bug or a crashed worker.
        Internal => "internal",
        /// The local engine's models or runtime are not available (yet).
        EngineUnavailable => "engine_unavailable",
        /// No store is configured.
        NoStore => "no_store",
        /// The operation was cancelled by the user.
        Cancelled => "cancelled",
        /// A file or export destination could not be read or written.
        Io => "io",
        /// The disk holding the station's data (or an export's folder) is full: nothing of the
        /// operation was saved; it can be done again once there is room.
        DiskFull => "disk_full",
        /// The station's data cannot be written (a read-only disk, no permission): what is
        /// stored can be read, nothing new saved.
        DataReadOnly => "data_read_only",
        /// The disk failed a read or a write (an I/O error): the operation was not saved.
        DiskFailed => "disk_failed",
        EmptyFile => "empty_file",
        FileTooLarge => "file_too_large",
        UnsupportedFormat => "unsupported_format",
        TooManyPixels => "too_many_pixels",
        Truncated => "truncated",
        Corrupt => "corrupt",
        /// The file cannot be read at all (permissions, a card pulled out).
        Unreadable => "unreadable",
        NotAFile => "not_a_file",
        PdfUnavailable => "pdf_unavailable",
        PdfEncrypted => "pdf_encrypted",
        PdfEmpty => "pdf_empty",
        PdfCorrupt => "pdf_corrupt",
        PdfTooManyPages => "pdf_too_many_pages",
        PageOutOfRange => "page_out_of_range",
        PdfRender => "pdf_render",
        CategoryFailed => "category_failed",
        OcrFailed => "ocr_failed",
        /// A result did not validate against its JSON Schema.
        SchemaInvalid => "schema_invalid",
        /// Nobody is signed in: the request acts for a reviewer.
        NotSignedIn => "not_signed_in",
        /// No text was found where a document was to be read: there is nothing to extract.
        NoText => "no_text",
        /// HTTP: no API key, or one the server does not know or has revoked.
        Unauthorized => "unauthorized",
        /// HTTP: this client sent more than its share; `Retry-After` says when to come back.
        RateLimited => "rate_limited",
        /// HTTP: no backend can take the request now; `Retry-After` says when to come back.
        Unavailable => "unavailable",
        /// HTTP: the body is larger than the server accepts.
        PayloadTooLarge => "payload_too_large",
        /// HTTP: the body is not the JSON the endpoint expects.
        MalformedJson => "malformed_json",
        /// HTTP: no model of that name is served.
        UnknownModel => "unknown_model",
        /// HTTP: the LLM backend failed (5xx, a cut connection, an unreadable answer).
        Upstream => "upstream",
        /// HTTP: the LLM backend did not answer in time.
        UpstreamTimeout => "upstream_timeout",
        /// HTTP: this `Idempotency-Key` was used with another body.
        IdempotencyMismatch => "idempotency_mismatch",
        /// HTTP: the first request with this `Idempotency-Key` is still running.
        IdempotencyInProgress => "idempotency_in_progress",
        /// HTTP: no such enrolment code, or it has expired.
        EnrolmentInvalid => "enrolment_invalid",
        /// HTTP: this enrolment code has enrolled a device already.
        EnrolmentUsed => "enrolment_used",
        /// HTTP: an upload's bytes do not hash to the name it was sent under.
        HashMismatch => "hash_mismatch",
        /// HTTP: an upload continues at another offset than the server has.
        OffsetMismatch => "offset_mismatch",
        /// HTTP: a job names a blob that was never uploaded whole.
        BlobMissing => "blob_missing",
        /// HTTP: the station's decision history differs from a head of it this router witnessed
        /// before (the same count with another hash, or fewer decisions): it was rewritten.
        AuditDiverged => "audit_diverged",
        /// HTTP: a shared task's lease went to another station (or was given back): the decision
        /// was not recorded there; the other station's reviewer decides it.
        LeaseLost => "lease_lost",
        /// HTTP: the name and password do not match an account (which of them is not said).
        BadCredentials => "bad_credentials",
        /// HTTP: the authenticator or recovery code is wrong, or was used already.
        BadCode => "bad_code",
        /// HTTP: too many failed sign-ins; `Retry-After` says when the account opens again.
        AccountLocked => "account_locked",
        /// HTTP: the session ended (expired, signed out, revoked, or opened on another device):
        /// sign in again.
        SessionExpired => "session_expired",
        /// HTTP: the signed-in account's role may not do this.
        Forbidden => "forbidden",
    }
}

impl ErrorCode {
    /// Whether the same request may pass when sent again later: the database was busy, the
    /// engine was still loading, a worker died. Every other code is final for that request.
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            Self::Storage
                | Self::DiskFull
                | Self::DataReadOnly
                | Self::DiskFailed
                | Self::Internal
                | Self::EngineUnavailable
                | Self::RateLimited
                | Self::Unavailable
                | Self::Upstream
                | Self::UpstreamTimeout
        )
    }
}

/// The one error shape that crosses IPC and HTTP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for ApiError {}

//! The documents service: structured results — invoices, receipts and legal documents
//! extracted from the text of every page (`extraction.rs`: text layer or OCR, recorded per page,
//! a cancellable job), and the compliance result of a photo (`compliance.rs`). Every result is
//! checked against its JSON Schema before it is recorded, and a doubtful one is handed to the
//! review service's routing.

mod compliance;
mod extraction;

use std::sync::Arc;

use ::extract::invoice::Invoice;
use ::extract::legal::LegalDocument;
use protocol::{DocumentKind, ErrorCode};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::StationError;
use crate::shared::Core;
use crate::{Analysis, Review};

pub const EXTRACT_INVOICE: &str = "extract_invoice";
pub const EXTRACT_LEGAL: &str = "extract_legal";
pub const COMPLIANCE: &str = "compliance";

/// The size of a page in the coordinates of its evidence boxes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct PageSize {
    pub page: u32,
    pub width: u32,
    pub height: u32,
    /// `ocr` or `text_layer`.
    pub source: String,
    /// The OCR models that read the page, as the engine reports them (none for a text layer,
    /// and in results recorded before pages kept it).
    #[serde(default)]
    pub model_version: Option<String>,
}

/// A document's extracted result as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct DocumentResult {
    #[ts(type = "number")]
    pub item_id: i64,
    pub kind: DocumentKind,
    pub invoice: Option<Invoice>,
    pub legal: Option<LegalDocument>,
    /// The pages that were read, with the size their evidence boxes refer to.
    pub pages: Vec<PageSize>,
    pub page_count: u32,
    pub latency_ms: f64,
    pub created_at: String,
    #[serde(default)]
    pub cached: bool,
}

/// Progress of an extraction, one event per page read.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ExtractProgress {
    #[ts(type = "number")]
    pub job_id: u64,
    #[ts(type = "number")]
    pub item_id: i64,
    pub pages_done: u32,
    pub pages_total: u32,
}

/// Where extraction progress goes (the window, in the app).
pub trait ExtractSink: Send + Sync {
    fn progress(&self, event: &ExtractProgress);
}

/// A sink that drops events (tests, the command line).
#[derive(Debug, Clone, Copy)]
pub struct NoProgress;

impl ExtractSink for NoProgress {
    fn progress(&self, _: &ExtractProgress) {}
}

fn schema_error(error: &::extract::ExtractError) -> StationError {
    StationError::Analysis {
        code: ErrorCode::SchemaInvalid,
        message: error.to_string(),
    }
}

#[derive(Debug)]
pub struct Documents {
    core: Arc<Core>,
    /// Reads the pages' text.
    analysis: Arc<Analysis>,
    /// Routes results; a doubtful one becomes a task.
    review: Arc<Review>,
}

impl Documents {
    pub(crate) fn new(core: Arc<Core>, analysis: Arc<Analysis>, review: Arc<Review>) -> Self {
        Self {
            core,
            analysis,
            review,
        }
    }

    /// The latest recorded document result of an item, if it was extracted.
    pub async fn latest_document(
        &self,
        item_id: i64,
    ) -> Result<Option<DocumentResult>, StationError> {
        let mut newest: Option<(i64, DocumentResult)> = None;
        for analyzer in [EXTRACT_INVOICE, EXTRACT_LEGAL] {
            if let Some(row) = self.core.store.latest_analysis(item_id, analyzer).await? {
                if let Ok(mut result) = serde_json::from_str::<DocumentResult>(&row.result_json) {
                    result.cached = true;
                    if newest.as_ref().is_none_or(|(id, _)| row.id > *id) {
                        newest = Some((row.id, result));
                    }
                }
            }
        }
        Ok(newest.map(|(_, r)| r))
    }
}

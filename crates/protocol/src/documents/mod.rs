//! The structured results the station extracts and reviewers correct: invoices and receipts,
//! legal documents, store-compliance results, and the parts they share (a field with its
//! value as printed and normalized, its confidence, checks and evidence). Their JSON Schemas
//! (`schemas/`) are generated from these types by `crates/extract`.

pub mod compliance;
pub mod date;
pub mod invoice;
pub mod legal;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// One line of text on a page, as OCR or a PDF text layer gives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, JsonSchema)]
pub struct Line {
    /// 1-based page number.
    pub page: u32,
    /// Corners (top-left, top-right, bottom-right, bottom-left) in page pixels.
    pub polygon: [[f32; 2]; 4],
    pub text: String,
    /// Recognition confidence 0–1 (1 for a text layer).
    pub confidence: f32,
}

impl Line {
    pub fn left(&self) -> f32 {
        self.polygon
            .iter()
            .map(|p| p[0])
            .fold(f32::INFINITY, f32::min)
    }
    pub fn right(&self) -> f32 {
        self.polygon
            .iter()
            .map(|p| p[0])
            .fold(f32::NEG_INFINITY, f32::max)
    }
    pub fn top(&self) -> f32 {
        self.polygon
            .iter()
            .map(|p| p[1])
            .fold(f32::INFINITY, f32::min)
    }
    pub fn bottom(&self) -> f32 {
        self.polygon
            .iter()
            .map(|p| p[1])
            .fold(f32::NEG_INFINITY, f32::max)
    }
    pub fn height(&self) -> f32 {
        (self.bottom() - self.top()).max(1.0)
    }
    pub fn center_y(&self) -> f32 {
        (self.top() + self.bottom()) / 2.0
    }
}

/// Where a value was read: the line (index into the input lines), its page and box.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, JsonSchema)]
pub struct Evidence {
    pub page: u32,
    /// Index of the line in the lines the extraction was given.
    pub line: u32,
    pub polygon: [[f32; 2]; 4],
    pub text: String,
}

impl Evidence {
    pub fn of(lines: &[Line], index: usize) -> Option<Self> {
        let line = lines.get(index)?;
        Some(Self {
            page: line.page,
            line: u32::try_from(index).unwrap_or(u32::MAX),
            polygon: line.polygon,
            text: line.text.clone(),
        })
    }
}

/// A validator's outcome for one field or for the whole result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, JsonSchema)]
pub struct Check {
    /// Stable name, e.g. `gstin_checksum`, `line_items_sum`, `date_order_ambiguous`.
    pub name: String,
    pub passed: bool,
    /// What was compared, in words a reviewer understands.
    pub detail: String,
}

impl Check {
    pub fn new(name: &str, passed: bool, detail: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            passed,
            detail: detail.into(),
        }
    }
}

/// One extracted field: the normalized value, the text it was read from, how sure we are,
/// which checks apply to it and where it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, JsonSchema)]
pub struct Field<T> {
    /// Normalized value; absent when the field was not found.
    pub value: Option<T>,
    /// The value as printed.
    pub printed: Option<String>,
    /// 0–1: recognition confidence of the evidence × how the value was located × checks.
    pub confidence: f32,
    pub checks: Vec<Check>,
    pub evidence: Vec<Evidence>,
}

impl<T> Default for Field<T> {
    fn default() -> Self {
        Self {
            value: None,
            printed: None,
            confidence: 0.0,
            checks: Vec::new(),
            evidence: Vec::new(),
        }
    }
}

impl<T> Field<T> {
    pub fn is_found(&self) -> bool {
        self.value.is_some()
    }
}

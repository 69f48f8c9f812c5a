//! Structured results from text lines (OCR or a PDF text layer): invoices and receipts, legal
//! documents. Every field carries its value as printed and normalized, a confidence, the
//! checks it passed or failed, and the lines it came from, so that a reviewer sees exactly
//! what is doubtful and where it is on the page.
//!
//! Pure functions over lines: no models, no database, no UI. The result types live in
//! `protocol::documents` (shared with the UI, the sync client and the router); their versioned
//! JSON Schemas in `schemas/` are generated here (a test fails on drift).

pub mod amount;
pub mod compliance;
pub mod date;
pub mod invoice;
pub mod layout;
pub mod legal;
pub mod schema;
pub mod tax_id;

pub use protocol::documents::{Check, Evidence, Field, Line};

/// How a value was located, which bounds its confidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Located {
    /// Next to its own label ("Invoice No:", "TOTAL").
    Labelled,
    /// By layout or pattern alone (the first line in large print, the only GSTIN on the page).
    Inferred,
    /// A last resort (the largest amount on the page).
    Guessed,
}

impl Located {
    /// About how often a value located this way is the right one when its text is read right
    /// (SROIE transcriptions, `sroie_eval`: labelled dates and totals ≈ 0.99, inferred sellers
    /// and addresses 0.86–0.94), so that a confidence reads as a probability and a perfectly
    /// read inferred value passes the default 0.8 while one doubtful character does not.
    fn weight(self) -> f32 {
        match self {
            Located::Labelled => 1.0,
            Located::Inferred => 0.9,
            Located::Guessed => 0.5,
        }
    }
}

/// How extraction fills and scores a field (the field itself is a wire type, in `protocol`).
pub trait FieldScoring<T>: Sized {
    /// A field read from `evidence` (indices into `lines`): its confidence is the evidence's
    /// lowest recognition confidence, weighted by how the value was located.
    fn found(
        value: T,
        printed: impl Into<String>,
        lines: &[Line],
        evidence: &[usize],
        located: Located,
    ) -> Self;

    /// Adds a check; a failed one halves the confidence, because the value or a related one
    /// is likely misread.
    fn check(&mut self, check: Check);
}

impl<T> FieldScoring<T> for Field<T> {
    fn found(
        value: T,
        printed: impl Into<String>,
        lines: &[Line],
        evidence: &[usize],
        located: Located,
    ) -> Self {
        let evidence: Vec<Evidence> = evidence
            .iter()
            .filter_map(|&i| Evidence::of(lines, i))
            .collect();
        let recognition = if evidence.is_empty() {
            0.0
        } else {
            evidence
                .iter()
                .filter_map(|e| lines.get(e.line as usize))
                .map(|l| l.confidence.clamp(0.0, 1.0))
                .fold(1.0_f32, f32::min)
        };
        Self {
            value: Some(value),
            printed: Some(printed.into()),
            confidence: recognition * located.weight(),
            checks: Vec::new(),
            evidence,
        }
    }

    fn check(&mut self, check: Check) {
        if !check.passed {
            self.confidence *= 0.5;
        }
        self.checks.push(check);
    }
}

/// Errors of this crate (extraction itself never fails on odd text: it reports what it found).
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("result does not match schema {schema}: {message}")]
    Schema {
        schema: &'static str,
        message: String,
    },
    #[error("result could not be serialized: {0}")]
    Serialize(#[from] serde_json::Error),
}

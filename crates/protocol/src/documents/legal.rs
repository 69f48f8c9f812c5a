//! A legal document (a judgment) as extracted.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::date::DateValue;
use super::{Evidence, Field};

/// A paragraph: consecutive rows of one page with no wider gap than a line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, JsonSchema)]
pub struct Paragraph {
    pub page: u32,
    pub text: String,
    /// Indices of its lines in the input.
    pub lines: Vec<u32>,
}

/// A heading and the paragraphs under it (the first section may have no heading).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, JsonSchema)]
pub struct Section {
    pub heading: Option<String>,
    pub page: u32,
    pub paragraphs: Vec<Paragraph>,
}

/// A party with its role as the document names it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, JsonSchema)]
pub struct Party {
    /// `petitioner`, `respondent`, `appellant`, `plaintiff`, `defendant`, `applicant`,
    /// `complainant`, `accused` or `party` when only `X v. Y` says who.
    pub role: String,
    pub name: Field<String>,
}

/// A cited statute or case, with where it is cited.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, JsonSchema)]
pub struct Citation {
    pub text: String,
    /// How many times it is cited.
    pub count: u32,
    pub evidence: Vec<Evidence>,
}

/// A sentence chosen for the extractive summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, JsonSchema)]
pub struct SummarySentence {
    pub text: String,
    pub page: u32,
    /// Relative importance 0–1 among the document's sentences.
    pub score: f32,
}

/// A legal document as extracted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, JsonSchema)]
pub struct LegalDocument {
    /// Always `legal/1`.
    pub schema: String,
    pub page_count: u32,
    pub case_number: Field<String>,
    pub court: Field<String>,
    pub parties: Vec<Party>,
    pub judges: Vec<Field<String>>,
    pub filed: Field<DateValue>,
    pub heard: Field<DateValue>,
    pub decided: Field<DateValue>,
    pub statutes: Vec<Citation>,
    pub cited_cases: Vec<Citation>,
    pub sections: Vec<Section>,
    pub summary: Vec<SummarySentence>,
}

//! The store-compliance result of a photo.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Why a photo is not valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum InvalidReason {
    Blank,
    Blur,
    Dark,
    OverExposed,
    LowResolution,
    /// A page whose text barely stands out from its paper.
    FaintText,
    Irrelevant,
    WrongCategory,
    RuleFailed,
}

/// One quality figure against its threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, JsonSchema)]
pub struct QualityFigure {
    /// `too_small`, `blank`, `dark`, `over_exposed` or `blur`.
    pub check: String,
    pub value: f64,
    pub threshold: f64,
    pub passed: bool,
}

/// The category gate's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, JsonSchema)]
pub struct CategoryOutcome {
    /// `match`, `wrong_category`, `uncertain`, `irrelevant` or `predicted`.
    pub verdict: String,
    pub expected: Option<String>,
    pub predicted: Option<String>,
    pub similarity: f32,
    pub margin: f32,
}

/// A rule's state: decided locally or by the cloud, or waiting for the cloud.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RuleState {
    Passed,
    Failed,
    Pending,
    /// The cloud answered that the photo cannot tell (the part of the store is not in it):
    /// for a person to judge.
    Unclear,
}

/// One compliance rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, JsonSchema)]
pub struct RuleResult {
    pub id: String,
    pub description: String,
    pub state: RuleState,
    /// Absent while pending.
    pub passed: Option<bool>,
    pub confidence: Option<f32>,
    /// What the decision rests on, in words.
    pub evidence: String,
}

/// A store-compliance result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, JsonSchema)]
pub struct Compliance {
    /// Always `compliance/1`.
    pub schema: String,
    pub valid: bool,
    pub invalid_reasons: Vec<InvalidReason>,
    pub category: Option<CategoryOutcome>,
    pub width: u32,
    pub height: u32,
    pub quality: Vec<QualityFigure>,
    pub rules: Vec<RuleResult>,
    pub pass_count: u32,
    pub total_rules: u32,
    pub suggestions: Vec<String>,
    /// The engine's full outputs (quality report, category verdict) as recorded.
    #[ts(type = "unknown")]
    pub payload: serde_json::Value,
}

//! The store-compliance result of a photo: the local gates (quality, category) as rules with
//! evidence, why the photo is invalid, what to do about it, and the full engine payload.
//! Rules that need the cloud LLM are added later with state `pending` until decided.

use engine::category::CategoryVerdict;
use engine::quality::{GateCheck, QualityReport, QualityVerdict};
pub use protocol::documents::compliance::{
    CategoryOutcome, Compliance, InvalidReason, QualityFigure, RuleResult, RuleState,
};

/// The version written into every compliance result (`schemas/compliance.v1.schema.json`).
pub const COMPLIANCE_SCHEMA: &str = "compliance/1";

fn reason_of(check: GateCheck) -> InvalidReason {
    match check {
        GateCheck::TooSmall => InvalidReason::LowResolution,
        GateCheck::Blank => InvalidReason::Blank,
        GateCheck::Dark => InvalidReason::Dark,
        GateCheck::OverExposed => InvalidReason::OverExposed,
        GateCheck::Blur => InvalidReason::Blur,
        GateCheck::FaintText => InvalidReason::FaintText,
    }
}

fn check_name(check: GateCheck) -> String {
    serde_json::to_value(check)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Builds the compliance result of a photo from the local gates, plus any rules already
/// decided or pending elsewhere.
pub fn compliance(
    quality: &QualityReport,
    category: Option<&CategoryVerdict>,
    extra_rules: Vec<RuleResult>,
) -> Compliance {
    let mut reasons: Vec<InvalidReason> = quality.reasons.iter().copied().map(reason_of).collect();
    let mut suggestions = quality.suggestions.clone();
    let failed: Vec<String> = quality
        .checks
        .iter()
        .filter(|c| c.counted && !c.passed)
        .map(|c| {
            format!(
                "{} {:.3} beyond {:.3}",
                check_name(c.check),
                c.value,
                c.threshold
            )
        })
        .collect();
    let quality_passed = quality.verdict == QualityVerdict::Pass;
    let mut rules = vec![RuleResult {
        id: "photo_quality".into(),
        description: "The photo is sharp, well exposed and large enough to judge.".into(),
        state: if quality_passed {
            RuleState::Passed
        } else {
            RuleState::Failed
        },
        passed: Some(quality_passed),
        confidence: Some(1.0),
        evidence: if failed.is_empty() {
            "every quality check passed".into()
        } else {
            failed.join("; ")
        },
    }];
    if let Some(v) = category {
        let (state, reason) = match v.verdict.as_str() {
            "match" | "predicted" => (RuleState::Passed, None),
            "wrong_category" => (RuleState::Failed, Some(InvalidReason::WrongCategory)),
            "irrelevant" => (RuleState::Failed, Some(InvalidReason::Irrelevant)),
            _ => (RuleState::Pending, None),
        };
        if let Some(r) = reason {
            reasons.push(r);
            suggestions.push(match r {
                InvalidReason::Irrelevant => "Photograph the display itself: the photo does not look like any of this store's sections.".into(),
                _ => format!(
                    "Photograph the {} section: this photo looks like {}.",
                    v.expected.as_deref().unwrap_or("expected"),
                    v.predicted.as_deref().unwrap_or("another section")
                ),
            });
        }
        if v.verdict == "uncertain" {
            suggestions
                .push("Check the category: the photo is close to more than one section.".into());
        }
        rules.push(RuleResult {
            id: "category".into(),
            description: "The photo shows the section it was taken for.".into(),
            state,
            passed: match state {
                RuleState::Pending => None,
                s => Some(s == RuleState::Passed),
            },
            confidence: Some(v.similarity.clamp(0.0, 1.0)),
            evidence: format!(
                "{}: predicted {} (similarity {:.3}, margin {:.3})",
                v.verdict,
                v.predicted.as_deref().unwrap_or("none"),
                v.similarity,
                v.margin
            ),
        });
    }
    for rule in &extra_rules {
        if rule.state == RuleState::Failed && !reasons.contains(&InvalidReason::RuleFailed) {
            reasons.push(InvalidReason::RuleFailed);
        }
    }
    rules.extend(extra_rules);
    let pass_count = rules
        .iter()
        .filter(|r| r.state == RuleState::Passed)
        .count();
    Compliance {
        schema: COMPLIANCE_SCHEMA.into(),
        valid: reasons.is_empty(),
        invalid_reasons: reasons,
        category: category.map(|v| CategoryOutcome {
            verdict: v.verdict.clone(),
            expected: v.expected.clone(),
            predicted: v.predicted.clone(),
            similarity: v.similarity,
            margin: v.margin,
        }),
        width: quality.width,
        height: quality.height,
        quality: quality
            .checks
            .iter()
            .map(|c| QualityFigure {
                check: check_name(c.check),
                value: c.value,
                threshold: c.threshold,
                passed: c.passed,
            })
            .collect(),
        pass_count: u32::try_from(pass_count).unwrap_or(u32::MAX),
        total_rules: u32::try_from(rules.len()).unwrap_or(u32::MAX),
        rules,
        suggestions,
        payload: serde_json::json!({ "quality": quality, "category": category }),
    }
}

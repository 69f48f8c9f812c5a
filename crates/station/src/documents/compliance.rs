//! A photo's compliance result, from its recorded quality and category verdicts, and its
//! routing to the review queue.

use extract::compliance::{Compliance, RuleResult, RuleState};
use extract::schema::validate;
use protocol::ResultKind;
use store::NewAnalysis;

use super::{schema_error, Documents, COMPLIANCE};
use crate::analysis::CATEGORY_GATE;
use crate::{StationError, QUALITY_GATE};

impl Documents {
    /// The compliance result of a photo from its recorded quality and category verdicts;
    /// recorded when it differs from the last one recorded.
    pub async fn compliance(&self, item_id: i64) -> Result<Compliance, StationError> {
        let item = self.core.store.get_item(item_id).await?;
        if item.kind != "photo" || item.status != "analyzed" {
            return Err(StationError::InvalidRequest(
                "compliance is judged for photos that could be read".into(),
            ));
        }
        let quality: engine::QualityReport = self
            .core
            .store
            .latest_analysis(item_id, QUALITY_GATE)
            .await?
            .and_then(|row| serde_json::from_str(&row.result_json).ok())
            .ok_or_else(|| {
                StationError::InvalidRequest("the photo has no quality verdict".into())
            })?;
        let category: Option<crate::types::CategoryResult> = self
            .core
            .store
            .latest_analysis(item_id, CATEGORY_GATE)
            .await?
            .and_then(|row| serde_json::from_str(&row.result_json).ok());
        let cloud_rules = self
            .core
            .store
            .cloud_checks(item_id)
            .await?
            .into_iter()
            .map(cloud_rule)
            .collect();
        let result = extract::compliance::compliance(
            &quality,
            category.as_ref().map(|c| &c.verdict),
            cloud_rules,
        );
        let value = serde_json::to_value(&result).map_err(|e| schema_error(&e.into()))?;
        validate(ResultKind::Compliance, &value).map_err(|e| schema_error(&e))?;
        let json = value.to_string();
        let unchanged = self
            .core
            .store
            .latest_analysis(item_id, COMPLIANCE)
            .await?
            .is_some_and(|row| row.result_json == json);
        if !unchanged {
            self.core
                .store
                .add_analysis(
                    item_id,
                    &NewAnalysis {
                        analyzer: COMPLIANCE.into(),
                        engine_version: engine::ENGINE_VERSION.into(),
                        verdict: Some(if result.valid { "valid" } else { "invalid" }.into()),
                        result_json: json,
                        ..NewAnalysis::default()
                    },
                )
                .await?;
        }
        Ok(result)
    }

    /// Judges a photo's compliance and routes it by `store_id`'s policy: a doubtful result
    /// goes to the review queue.
    pub async fn route_compliance(
        &self,
        item_id: i64,
        store_id: &str,
    ) -> Result<(::review::Route, Option<i64>), StationError> {
        let compliance = self.compliance(item_id).await?;
        self.review
            .route_compliance(item_id, store_id, &compliance)
            .await
    }
}

/// A store rule checked by the cloud LLM, as a rule of the result: pending until its answer is
/// back, then passed, failed or unclear with the answer's confidence and reason.
fn cloud_rule(check: store::CloudCheckRow) -> RuleResult {
    let state = match check.state.as_str() {
        "passed" => RuleState::Passed,
        "failed" => RuleState::Failed,
        "unclear" => RuleState::Unclear,
        _ => RuleState::Pending,
    };
    RuleResult {
        id: format!("cloud:{}", check.rule),
        description: check.rule,
        state,
        passed: match state {
            RuleState::Passed | RuleState::Failed => check.passed,
            RuleState::Pending | RuleState::Unclear => None,
        },
        // an f64 from the database, a fraction: f32 keeps every digit shown
        #[allow(clippy::cast_possible_truncation)]
        confidence: check.confidence.map(|c| c.clamp(0.0, 1.0) as f32),
        evidence: check
            .reason
            .unwrap_or_else(|| "cloud check pending: sent when the station is online".into()),
    }
}

//! The evaluation set: every standing decision with the model's and the reviewer's output.

use std::path::Path;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::{Station, StationError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum EvaluationFormat {
    Jsonl,
    Csv,
}

/// One row of the evaluation set.
#[derive(Debug, Clone, PartialEq, Serialize)]
struct EvaluationRow {
    decision_id: i64,
    task_id: i64,
    item_id: i64,
    kind: String,
    store_id: String,
    reasons: serde_json::Value,
    confidence: f64,
    reviewer: String,
    action: String,
    reason_code: Option<String>,
    decided_at: String,
    duration_ms: i64,
    changed_fields: serde_json::Value,
    versions: serde_json::Value,
    model_output: serde_json::Value,
    human_output: serde_json::Value,
}

impl Station {
    /// Writes the evaluation set (every standing decision with the model's and the reviewer's
    /// output, the changed fields and the versions) to `dest`, as JSON lines or CSV.
    pub async fn export_evaluation(
        &self,
        dest: &Path,
        format: EvaluationFormat,
    ) -> Result<u32, StationError> {
        let ext = match format {
            EvaluationFormat::Jsonl => "jsonl",
            EvaluationFormat::Csv => "csv",
        };
        let path = crate::export_file::destination(dest, ext, "the evaluation set")?;
        let parse = |s: &str| serde_json::from_str::<serde_json::Value>(s).unwrap_or_default();
        let rows: Vec<EvaluationRow> = self
            .standing_decisions()
            .await?
            .0
            .into_iter()
            .map(|(d, t)| EvaluationRow {
                decision_id: d.id,
                task_id: t.id,
                item_id: t.item_id,
                kind: t.kind,
                store_id: t.store_id,
                reasons: parse(&t.reasons),
                confidence: t.confidence,
                reviewer: d.reviewer,
                action: d.action,
                reason_code: d.reason_code,
                decided_at: d.decided_at,
                duration_ms: d.duration_ms,
                changed_fields: parse(&d.diff_json),
                versions: parse(&d.versions),
                model_output: parse(&d.before_json),
                human_output: parse(&d.after_json),
            })
            .collect();
        let bytes = match format {
            EvaluationFormat::Jsonl => rows
                .iter()
                .map(|r| serde_json::to_string(r).unwrap_or_default() + "\n")
                .collect::<String>()
                .into_bytes(),
            EvaluationFormat::Csv => {
                let mut w = csv::Writer::from_writer(Vec::new());
                let fail =
                    |e: csv::Error| StationError::InvalidRequest(format!("cannot write CSV: {e}"));
                w.write_record([
                    "decision_id",
                    "task_id",
                    "item_id",
                    "kind",
                    "store_id",
                    "reasons",
                    "confidence",
                    "reviewer",
                    "action",
                    "reason_code",
                    "decided_at",
                    "duration_ms",
                    "changed_fields",
                    "versions",
                    "model_output",
                    "human_output",
                ])
                .map_err(fail)?;
                for r in &rows {
                    w.write_record([
                        r.decision_id.to_string(),
                        r.task_id.to_string(),
                        r.item_id.to_string(),
                        r.kind.clone(),
                        r.store_id.clone(),
                        r.reasons.to_string(),
                        r.confidence.to_string(),
                        r.reviewer.clone(),
                        r.action.clone(),
                        r.reason_code.clone().unwrap_or_default(),
                        r.decided_at.clone(),
                        r.duration_ms.to_string(),
                        r.changed_fields.to_string(),
                        r.versions.to_string(),
                        r.model_output.to_string(),
                        r.human_output.to_string(),
                    ])
                    .map_err(fail)?;
                }
                w.into_inner()
                    .map_err(|e| StationError::InvalidRequest(format!("cannot write CSV: {e}")))?
            }
        };
        crate::export_file::write_atomically(&path, &bytes)?;
        Ok(u32::try_from(rows.len()).unwrap_or(u32::MAX))
    }
}

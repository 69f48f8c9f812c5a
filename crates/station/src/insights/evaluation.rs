//! The evaluation set: every standing decision with the model's and the reviewer's output.

use std::path::Path;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::Insights;
use crate::StationError;

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

/// The CSV columns, in the order of [`EvaluationRow::csv_record`].
const CSV_HEADER: [&str; 16] = [
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
];

/// Where the rows go, by format.
enum Writer {
    Jsonl(std::io::BufWriter<crate::export_file::AtomicFile>),
    Csv(Box<csv::Writer<crate::export_file::AtomicFile>>),
}

/// Decisions read per query while the set is written: memory stays bounded however many
/// decisions there are.
const PAGE: u32 = 500;

impl EvaluationRow {
    fn of(d: store::DecisionRow, t: store::TaskRow) -> Self {
        let parse = |s: &str| serde_json::from_str::<serde_json::Value>(s).unwrap_or_default();
        Self {
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
        }
    }

    fn csv_record(&self) -> [String; 16] {
        [
            self.decision_id.to_string(),
            self.task_id.to_string(),
            self.item_id.to_string(),
            self.kind.clone(),
            self.store_id.clone(),
            self.reasons.to_string(),
            self.confidence.to_string(),
            self.reviewer.clone(),
            self.action.clone(),
            self.reason_code.clone().unwrap_or_default(),
            self.decided_at.clone(),
            self.duration_ms.to_string(),
            self.changed_fields.to_string(),
            self.versions.to_string(),
            self.model_output.to_string(),
            self.human_output.to_string(),
        ]
    }
}

impl Insights {
    /// Writes the evaluation set (every standing decision with the model's and the reviewer's
    /// output, the changed fields and the versions) to `dest`, as JSON lines or CSV; the
    /// decisions are read and written a page at a time, and the file appears whole or not at
    /// all. Returns how many decisions were written.
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
        let file = crate::export_file::AtomicFile::create(&path)?;
        let write_error = |e: std::io::Error| StationError::Write {
            path: path.display().to_string(),
            source: e,
        };
        let csv_error = |e: csv::Error| StationError::Write {
            path: path.display().to_string(),
            source: std::io::Error::other(e),
        };
        let mut out = match format {
            EvaluationFormat::Jsonl => Writer::Jsonl(std::io::BufWriter::new(file)),
            EvaluationFormat::Csv => {
                let mut w = csv::Writer::from_writer(file);
                w.write_record(CSV_HEADER).map_err(csv_error)?;
                Writer::Csv(Box::new(w))
            }
        };
        let (mut after, mut written) = (0i64, 0u32);
        loop {
            let page = self.core.store.standing_decisions(after, PAGE).await?;
            let Some((last, _)) = page.last() else {
                break;
            };
            after = last.id;
            for (d, t) in page {
                let row = EvaluationRow::of(d, t);
                match &mut out {
                    Writer::Jsonl(w) => {
                        use std::io::Write;
                        serde_json::to_writer(&mut *w, &row).map_err(|e| write_error(e.into()))?;
                        w.write_all(b"\n").map_err(write_error)?;
                    }
                    // reviewer names and reason codes are typed or stored text: every cell
                    // is defused, as in the visit report
                    Writer::Csv(w) => w
                        .write_record(
                            row.csv_record()
                                .iter()
                                .map(|c| protocol::csv::cell(c).into_owned()),
                        )
                        .map_err(csv_error)?,
                }
                written = written.saturating_add(1);
            }
        }
        let file = match out {
            Writer::Jsonl(w) => w.into_inner().map_err(|e| write_error(e.into_error()))?,
            Writer::Csv(w) => w
                .into_inner()
                .map_err(|e| write_error(std::io::Error::other(e.to_string())))?,
        };
        file.commit()?;
        Ok(written)
    }
}

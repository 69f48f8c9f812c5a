//! What the decisions say: agreement per field, outcomes, time per item, the gates' false
//! rejects, the threshold simulator and volume per day.

use std::collections::HashMap;

use serde::Serialize;
use store::TaskRow;
use ts_rs::TS;

use crate::{Station, StationError};

/// Agreement of the model with reviewers on one field.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct FieldAgreement {
    /// The result kind (invoice, legal, compliance).
    pub kind: String,
    /// A field, or for compliance `valid`, `category` or `rule:<id>`.
    pub field: String,
    pub decided: u32,
    /// The reviewer kept the model's value.
    pub agreed: u32,
}

/// What the decisions so far say (undone decisions do not count).
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct ReviewMetrics {
    pub decisions: u32,
    pub approved: u32,
    pub corrected: u32,
    pub rejected: u32,
    pub undone: u32,
    pub fields: Vec<FieldAgreement>,
    /// Median seconds per decision, per reviewer.
    pub seconds_per_item: Vec<(String, f64)>,
    /// Compliance results the gates judged invalid, and how many of those reviewers found
    /// valid: the gates' false rejects.
    pub gate_rejections: u32,
    pub gate_false_rejects: u32,
}

/// What a reviewer can judge in a result, by name: a document's fields (top-level objects with
/// a `confidence`: their value), and for a compliance result its verdict (`valid`), the
/// category shown (`category`) and each rule (`rule:<id>`: passed or not).
pub fn judged_values(
    result: &serde_json::Value,
) -> std::collections::BTreeMap<String, serde_json::Value> {
    let mut out = std::collections::BTreeMap::new();
    let Some(fields) = result.as_object() else {
        return out;
    };
    let compliance = fields.get("rules").is_some_and(serde_json::Value::is_array)
        && fields
            .get("valid")
            .is_some_and(serde_json::Value::is_boolean);
    if compliance {
        out.insert(
            "valid".to_string(),
            fields.get("valid").cloned().unwrap_or_default(),
        );
        out.insert(
            "category".to_string(),
            fields
                .get("category")
                .and_then(|c| c.get("predicted"))
                .cloned()
                .unwrap_or_default(),
        );
        for rule in fields
            .get("rules")
            .and_then(serde_json::Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(id) = rule.get("id").and_then(serde_json::Value::as_str) {
                out.insert(
                    format!("rule:{id}"),
                    rule.get("passed").cloned().unwrap_or_default(),
                );
            }
        }
        return out;
    }
    for (name, field) in fields {
        if field.get("confidence").is_some() {
            out.insert(
                name.clone(),
                field.get("value").cloned().unwrap_or_default(),
            );
        }
    }
    out
}

/// For a result the gates judged invalid: whether the reviewer found it valid (a false
/// reject). None when the gates did not reject it.
fn gate_overridden(before: &serde_json::Value, after: &serde_json::Value) -> Option<bool> {
    (before.get("valid") == Some(&serde_json::Value::Bool(false)))
        .then(|| after.get("valid") == Some(&serde_json::Value::Bool(true)))
}

/// The fields, verdicts and rules whose value the reviewer changed.
pub fn changed_fields(before: &serde_json::Value, after: &serde_json::Value) -> Vec<String> {
    let after = judged_values(after);
    judged_values(before)
        .into_iter()
        .filter(|(name, value)| after.get(name).unwrap_or(&serde_json::Value::Null) != value)
        .map(|(name, _)| name)
        .collect()
}

impl Station {
    pub async fn review_metrics(&self) -> Result<ReviewMetrics, StationError> {
        let (standing, undone) = self.standing_decisions().await?;
        let mut m = ReviewMetrics {
            decisions: 0,
            approved: 0,
            corrected: 0,
            rejected: 0,
            undone,
            fields: Vec::new(),
            seconds_per_item: Vec::new(),
            gate_rejections: 0,
            gate_false_rejects: 0,
        };
        let mut fields: std::collections::BTreeMap<(String, String), (u32, u32)> =
            Default::default();
        let mut times: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
        for (row, task) in &standing {
            m.decisions += 1;
            match row.action.as_str() {
                "approve" => m.approved += 1,
                "correct" => m.corrected += 1,
                _ => m.rejected += 1,
            }
            times
                .entry(row.reviewer.clone())
                .or_default()
                .push(row.duration_ms as f64 / 1000.0);
            if row.action == "reject" {
                continue;
            }
            let before: serde_json::Value =
                serde_json::from_str(&row.before_json).unwrap_or_default();
            let after: serde_json::Value =
                serde_json::from_str(&row.after_json).unwrap_or_default();
            if let Some(overridden) = gate_overridden(&before, &after) {
                m.gate_rejections += 1;
                m.gate_false_rejects += u32::from(overridden);
            }
            let changed = changed_fields(&before, &after);
            for name in judged_values(&before).into_keys() {
                let agreed = !changed.contains(&name);
                let entry = fields.entry((task.kind.clone(), name)).or_default();
                entry.0 += 1;
                entry.1 += u32::from(agreed);
            }
        }
        m.fields = fields
            .into_iter()
            .map(|((kind, field), (decided, agreed))| FieldAgreement {
                kind,
                field,
                decided,
                agreed,
            })
            .collect();
        m.seconds_per_item = times
            .into_iter()
            .map(|(reviewer, mut t)| {
                t.sort_by(f64::total_cmp);
                let median = t.get(t.len() / 2).copied().unwrap_or(0.0);
                (reviewer, median)
            })
            .collect();
        Ok(m)
    }
}

/// One point of the threshold simulator.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct ThresholdPoint {
    pub threshold: f64,
    /// Share of the decided results that this threshold would send to review.
    pub review_share: f64,
    /// Share of the results it would auto-accept that reviewers corrected or rejected.
    pub error_rate: f64,
    pub auto_accepted: u32,
}

/// Decisions per day.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct VolumePoint {
    pub day: String,
    pub decisions: u32,
}

/// The gates' rejections reviewed on one day, and how many reviewers overrode.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct GatePoint {
    pub day: String,
    pub rejections: u32,
    pub false_rejects: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct ReviewInsights {
    pub simulation: Vec<ThresholdPoint>,
    pub volume: Vec<VolumePoint>,
    pub gate: Vec<GatePoint>,
}

impl Station {
    /// The standing decisions (undone ones dropped) with their tasks, oldest first, and how
    /// many decisions were undone.
    pub(super) async fn standing_decisions(
        &self,
    ) -> Result<(Vec<(store::DecisionRow, TaskRow)>, u32), StationError> {
        // an undo takes back its task's standing decision; at most one stands per task
        let mut slots: Vec<Option<(store::DecisionRow, TaskRow)>> = Vec::new();
        let mut by_task: HashMap<i64, usize> = HashMap::new();
        let mut undone = 0;
        for (row, task) in self.store.decisions_with_tasks().await? {
            if row.action == "undo" {
                undone += 1;
                if let Some(i) = by_task.remove(&row.task_id) {
                    slots[i] = None;
                }
            } else {
                by_task.insert(row.task_id, slots.len());
                slots.push(Some((row, task)));
            }
        }
        Ok((slots.into_iter().flatten().collect(), undone))
    }

    /// The threshold simulator (for every threshold 0–1 in steps of 0.05: how many of the
    /// decided results it would send to review, and how many of those it would accept
    /// unseen were in fact corrected or rejected) and the review volume per day.
    pub async fn review_insights(&self) -> Result<ReviewInsights, StationError> {
        let (standing, _) = self.standing_decisions().await?;
        let n = standing.len().max(1) as f64;
        let simulation = (0..=20)
            .map(|step| {
                let threshold = f64::from(step) / 20.0;
                let (mut reviewed, mut accepted, mut wrong) = (0u32, 0u32, 0u32);
                for (d, t) in &standing {
                    if t.confidence < threshold {
                        reviewed += 1;
                    } else {
                        accepted += 1;
                        wrong += u32::from(d.action != "approve");
                    }
                }
                ThresholdPoint {
                    threshold,
                    review_share: f64::from(reviewed) / n,
                    error_rate: if accepted == 0 {
                        0.0
                    } else {
                        f64::from(wrong) / f64::from(accepted)
                    },
                    auto_accepted: accepted,
                }
            })
            .collect();
        let mut days: std::collections::BTreeMap<String, u32> = Default::default();
        let mut gate: std::collections::BTreeMap<String, (u32, u32)> = Default::default();
        for (d, _) in &standing {
            let day: String = d.decided_at.chars().take(10).collect();
            *days.entry(day.clone()).or_default() += 1;
            if d.action == "reject" {
                continue;
            }
            let parse =
                |json: &str| serde_json::from_str::<serde_json::Value>(json).unwrap_or_default();
            if let Some(overridden) = gate_overridden(&parse(&d.before_json), &parse(&d.after_json))
            {
                let entry = gate.entry(day).or_default();
                entry.0 += 1;
                entry.1 += u32::from(overridden);
            }
        }
        Ok(ReviewInsights {
            simulation,
            volume: days
                .into_iter()
                .map(|(day, decisions)| VolumePoint { day, decisions })
                .collect(),
            gate: gate
                .into_iter()
                .map(|(day, (rejections, false_rejects))| GatePoint {
                    day,
                    rejections,
                    false_rejects,
                })
                .collect(),
        })
    }
}

//! What the decisions say: agreement per field, outcomes, time per item, the gates' false
//! rejects, the threshold simulator and volume per day; each an SQL aggregate in `crates/store`
//! over the standing decisions.

use serde::Serialize;
use ts_rs::TS;

use super::Insights;
use crate::StationError;

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

impl Insights {
    /// What the standing decisions say (undone ones do not count), from SQL aggregates.
    pub async fn review_metrics(&self) -> Result<ReviewMetrics, StationError> {
        let totals = self.core.store.decision_totals().await?;
        let gate = self.core.store.gate_overrides_per_day().await?;
        let count = |v: i64| u32::try_from(v.max(0)).unwrap_or(u32::MAX);
        Ok(ReviewMetrics {
            decisions: totals.approved + totals.corrected + totals.rejected,
            approved: totals.approved,
            corrected: totals.corrected,
            rejected: totals.rejected,
            undone: totals.undone,
            fields: self
                .core
                .store
                .field_agreement()
                .await?
                .into_iter()
                .map(|f| FieldAgreement {
                    kind: f.kind,
                    field: f.field,
                    decided: count(f.decided),
                    agreed: count(f.agreed),
                })
                .collect(),
            seconds_per_item: self.core.store.median_seconds_per_reviewer().await?,
            gate_rejections: gate.iter().map(|(_, n, _)| n).sum(),
            gate_false_rejects: gate.iter().map(|(_, _, f)| f).sum(),
        })
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

impl Insights {
    /// The threshold simulator (for every threshold 0–1 in steps of 0.05: how many of the
    /// decided results it would send to review, and how many of those it would accept
    /// unseen were in fact corrected or rejected), the review volume and the gates' false
    /// rejects per day; all from SQL aggregates.
    pub async fn review_insights(&self) -> Result<ReviewInsights, StationError> {
        let thresholds: Vec<f64> = (0..=20).map(|step| f64::from(step) / 20.0).collect();
        let simulation = self
            .core
            .store
            .threshold_simulation(&thresholds)
            .await?
            .into_iter()
            .map(|t| {
                let decided = f64::from((t.reviewed + t.accepted).max(1));
                ThresholdPoint {
                    threshold: t.threshold,
                    review_share: f64::from(t.reviewed) / decided,
                    error_rate: if t.accepted == 0 {
                        0.0
                    } else {
                        f64::from(t.wrong) / f64::from(t.accepted)
                    },
                    auto_accepted: t.accepted,
                }
            })
            .collect();
        Ok(ReviewInsights {
            simulation,
            volume: self
                .core
                .store
                .decisions_per_day()
                .await?
                .into_iter()
                .map(|(day, decisions)| VolumePoint { day, decisions })
                .collect(),
            gate: self
                .core
                .store
                .gate_overrides_per_day()
                .await?
                .into_iter()
                .map(|(day, rejections, false_rejects)| GatePoint {
                    day,
                    rejections,
                    false_rejects,
                })
                .collect(),
        })
    }
}

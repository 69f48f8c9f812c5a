//! Insights: what the review decisions say (metrics and the charts' data) and the evaluation
//! set they make, read from the store's aggregates over the standing decisions (each task's
//! latest decision, unless undone), never by loading every decision.

mod evaluation;
mod metrics;

pub use evaluation::EvaluationFormat;
pub use metrics::{
    FieldAgreement, GatePoint, ReviewInsights, ReviewMetrics, ThresholdPoint, VolumePoint,
};

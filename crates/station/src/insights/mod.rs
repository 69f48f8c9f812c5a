//! The insights service: what the review decisions say (metrics and the charts' data) and the evaluation
//! set they make, read from the store's aggregates over the standing decisions (each task's
//! latest decision, unless undone), never by loading every decision.

mod evaluation;
mod local_stats;
mod metrics;

use std::sync::Arc;

use crate::shared::Core;

pub use evaluation::EvaluationFormat;
pub use metrics::{
    FieldAgreement, GatePoint, ReviewInsights, ReviewMetrics, ThresholdPoint, VolumePoint,
};

/// Reads the store's aggregates over the standing decisions; it needs no other service.
#[derive(Debug)]
pub struct Insights {
    core: Arc<Core>,
}

impl Insights {
    pub(crate) fn new(core: Arc<Core>) -> Self {
        Self { core }
    }
}

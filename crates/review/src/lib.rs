//! Routing policy: per store and per result kind, thresholds decide whether a result is
//! accepted automatically or goes to a reviewer, and why — per field for documents, per rule and
//! per gate for compliance. A configurable share of auto-accepted results is sampled for quality
//! assurance, deterministically by result key, so a result's route never changes on re-routing.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use ts_rs::TS;

use protocol::{ResultKind, RoutingReason};

/// Thresholds of one result kind: a default and per-field (or per-rule) overrides.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, TS)]
#[serde(deny_unknown_fields)]
pub struct KindPolicy {
    /// Lowest confidence auto-accepted for a field or rule not listed.
    #[serde(default = "default_threshold")]
    pub default: f64,
    /// Per field (`total`, `date`, …) or per rule (`quality`, `category`, …).
    #[serde(default)]
    pub fields: BTreeMap<String, f64>,
    /// A failed validator sends the result to review (default true).
    #[serde(default = "yes")]
    pub review_failed_checks: bool,
    /// How long (hours) a result of this kind may wait for a reviewer: its due time is this
    /// long after it was queued (the queue's "due time" order).
    #[serde(default = "default_due_hours")]
    pub due_hours: f64,
}

fn default_threshold() -> f64 {
    0.8
}
fn yes() -> bool {
    true
}
fn default_due_hours() -> f64 {
    24.0
}

impl Default for KindPolicy {
    fn default() -> Self {
        Self {
            default: default_threshold(),
            fields: BTreeMap::new(),
            review_failed_checks: true,
            due_hours: default_due_hours(),
        }
    }
}

/// A store's policy file (`policies/<store id>.toml` in the data directory).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, TS)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Share (0–1) of results that would be auto-accepted and go to review anyway.
    #[serde(default = "default_qa")]
    pub qa_sample: f64,
    /// A category verdict whose margin to the runner-up is under this is borderline.
    #[serde(default = "default_margin")]
    pub gate_margin: f64,
    #[serde(default)]
    pub compliance: KindPolicy,
    #[serde(default)]
    pub invoice: KindPolicy,
    #[serde(default)]
    pub legal: KindPolicy,
}

fn default_qa() -> f64 {
    0.05
}
fn default_margin() -> f64 {
    0.05
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            qa_sample: default_qa(),
            gate_margin: default_margin(),
            compliance: KindPolicy::default(),
            invoice: KindPolicy::default(),
            legal: KindPolicy::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("{0}")]
    Toml(String),
    #[error("{what} must be between 0 and 1 (got {value})")]
    OutOfRange { what: String, value: String },
    #[error("{what} must be more than 0 and at most a year of hours, 8784 (got {value})")]
    DueHours { what: String, value: String },
}

impl Policy {
    pub fn from_toml(text: &str) -> Result<Self, PolicyError> {
        let policy: Self = toml::from_str(text).map_err(|e| PolicyError::Toml(e.to_string()))?;
        let check = |what: String, v: f64| {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(PolicyError::OutOfRange {
                    what,
                    value: v.to_string(),
                })
            }
        };
        check("qa_sample".into(), policy.qa_sample)?;
        check("gate_margin".into(), policy.gate_margin)?;
        for (kind, k) in [
            ("compliance", &policy.compliance),
            ("invoice", &policy.invoice),
            ("legal", &policy.legal),
        ] {
            check(format!("{kind}.default"), k.default)?;
            if !(k.due_hours > 0.0 && k.due_hours <= 24.0 * 366.0) {
                return Err(PolicyError::DueHours {
                    what: format!("{kind}.due_hours"),
                    value: k.due_hours.to_string(),
                });
            }
            for (field, v) in &k.fields {
                check(format!("{kind}.fields.{field}"), *v)?;
            }
        }
        Ok(policy)
    }

    pub fn kind(&self, kind: ResultKind) -> &KindPolicy {
        match kind {
            ResultKind::Compliance => &self.compliance,
            ResultKind::Invoice => &self.invoice,
            ResultKind::Legal => &self.legal,
        }
    }

    /// Routes one result: its fields (or rules) with their confidence and whether their checks
    /// passed, the category gate's margin when there is one, and a stable key (e.g. the item's
    /// content hash) for QA sampling.
    pub fn route(
        &self,
        kind: ResultKind,
        fields: &[FieldScore],
        gate_margin: Option<f64>,
        key: &str,
    ) -> Route {
        let k = self.kind(kind);
        let mut reasons = Vec::new();
        let mut doubtful = Vec::new();
        for f in fields {
            let threshold = k.fields.get(&f.name).copied().unwrap_or(k.default);
            let mut flagged = false;
            if f.confidence < threshold {
                push_once(&mut reasons, RoutingReason::LowConfidence);
                flagged = true;
            }
            if !f.checks_passed && k.review_failed_checks {
                push_once(&mut reasons, RoutingReason::ValidationFailed);
                flagged = true;
            }
            if flagged {
                doubtful.push(f.name.clone());
            }
        }
        if gate_margin.is_some_and(|m| m < self.gate_margin) {
            push_once(&mut reasons, RoutingReason::GateBorderline);
        }
        if reasons.is_empty() && sampled(key, self.qa_sample) {
            reasons.push(RoutingReason::QaSample);
        }
        reasons.sort();
        let confidence = fields.iter().map(|f| f.confidence).fold(1.0_f64, f64::min);
        Route {
            review: !reasons.is_empty(),
            reasons,
            doubtful_fields: doubtful,
            confidence,
        }
    }
}

fn push_once(reasons: &mut Vec<RoutingReason>, r: RoutingReason) {
    if !reasons.contains(&r) {
        reasons.push(r);
    }
}

/// Whether `key` falls in the sampled share: the first 8 bytes of its sha256 as a fraction.
fn sampled(key: &str, share: f64) -> bool {
    let digest = Sha256::digest(key.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    (u64::from_le_bytes(first) as f64 / u64::MAX as f64) < share
}

/// A field or rule as routing sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldScore {
    pub name: String,
    pub confidence: f64,
    pub checks_passed: bool,
}

/// Where a result goes.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct Route {
    pub review: bool,
    pub reasons: Vec<RoutingReason>,
    /// The fields or rules that made it doubtful (Tab walks through them in review).
    pub doubtful_fields: Vec<String>,
    /// The lowest confidence among its fields: the queue's priority.
    pub confidence: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str, confidence: f64, checks_passed: bool) -> FieldScore {
        FieldScore {
            name: name.into(),
            confidence,
            checks_passed,
        }
    }

    #[test]
    fn thresholds_per_field_decide_and_say_why() {
        let policy = Policy::from_toml(
            "qa_sample = 0.0\n[invoice]\ndefault = 0.8\nfields = { total = 0.95 }\n",
        )
        .unwrap();
        let ok = policy.route(
            ResultKind::Invoice,
            &[field("total", 0.97, true), field("date", 0.85, true)],
            None,
            "a",
        );
        assert!(!ok.review);
        let low = policy.route(
            ResultKind::Invoice,
            &[field("total", 0.9, true), field("date", 0.85, true)],
            None,
            "a",
        );
        assert_eq!(low.reasons, [RoutingReason::LowConfidence]);
        assert_eq!(low.doubtful_fields, ["total"]);
        assert!((low.confidence - 0.85).abs() < 1e-9);
        let failed = policy.route(
            ResultKind::Invoice,
            &[field("total", 0.99, false)],
            None,
            "a",
        );
        assert_eq!(failed.reasons, [RoutingReason::ValidationFailed]);
        let borderline = policy.route(
            ResultKind::Compliance,
            &[field("quality", 0.99, true)],
            Some(0.01),
            "a",
        );
        assert_eq!(borderline.reasons, [RoutingReason::GateBorderline]);
    }

    #[test]
    fn qa_sampling_takes_the_configured_share_and_is_stable() {
        let policy = Policy::from_toml("qa_sample = 0.1\n").unwrap();
        let sampled = (0..10_000)
            .filter(|i| {
                policy
                    .route(
                        ResultKind::Legal,
                        &[field("court", 0.99, true)],
                        None,
                        &format!("item-{i}"),
                    )
                    .reasons
                    == [RoutingReason::QaSample]
            })
            .count();
        assert!((900..=1100).contains(&sampled), "{sampled}");
        let once = policy.route(ResultKind::Legal, &[], None, "item-7");
        assert_eq!(once, policy.route(ResultKind::Legal, &[], None, "item-7"));
    }

    #[test]
    fn the_documented_example_is_a_valid_policy() {
        let policy = Policy::from_toml(include_str!("../../../config/policy.toml")).unwrap();
        assert_eq!(policy.invoice.fields.get("total"), Some(&0.95));
        assert!((policy.compliance.due_hours - 4.0).abs() < 1e-9);
        assert_eq!(policy.qa_sample, Policy::default().qa_sample);
    }

    #[test]
    fn invalid_policies_are_refused_with_the_reason() {
        assert!(Policy::from_toml("qa_sample = 2.0\n")
            .unwrap_err()
            .to_string()
            .contains("qa_sample"));
        assert!(Policy::from_toml("[invoice]\nfields = { total = -1 }\n")
            .unwrap_err()
            .to_string()
            .contains("invoice.fields.total"));
        assert!(Policy::from_toml("colour = 'red'\n").is_err());
        assert!(Policy::from_toml("[legal]\ndue_hours = 0\n")
            .unwrap_err()
            .to_string()
            .contains("legal.due_hours"));
        assert_eq!(
            Policy::from_toml("[legal]\ndue_hours = 72\n")
                .unwrap()
                .legal
                .due_hours,
            72.0
        );
        assert_eq!(Policy::from_toml("").unwrap(), Policy::default());
    }
}

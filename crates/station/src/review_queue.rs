//! The review queue as the application sees it: results are routed by their store's policy
//! (`policies/<store id>.toml` in the data directory, reread when it changes; an invalid edit
//! keeps the previous policy and reports why), doubtful ones become tasks, and reviewers claim,
//! decide and undo through the audit trail.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use protocol::{
    AuditCheck, DecisionAction, DecisionInput, DecisionRecord, DocumentKind, PolicyChanged,
    QueueQuery, QueueSort, ResultKind, ReviewTask,
};
use review::{FieldScore, Policy, Route};
use serde::{Deserialize, Serialize};
use store::{NewDecision, NewTask, QueueFilter, QueueOrder, TaskRow};
use ts_rs::TS;

use crate::{DocumentResult, Station, StationError};

/// How long a claimed task stays with its reviewer without a decision.
pub const LEASE_MS: i64 = 10 * 60 * 1000;
/// Store id of results routed while no store is active.
pub const DEFAULT_STORE: &str = "default";
pub const POLICIES_DIR: &str = "policies";

#[derive(Debug, Default)]
pub(crate) struct PolicyCache {
    /// By store id: the policy in force, the file's modification time, the last error.
    loaded: HashMap<String, (Policy, Option<SystemTime>, Option<String>)>,
}

/// A task row as the UI sees it.
fn task_of(row: TaskRow) -> ReviewTask {
    ReviewTask {
        id: row.id,
        item_id: row.item_id,
        // the column is only written from a ResultKind; a row that says otherwise is damaged
        // and shown as what the queue routes by default
        kind: row.kind.parse().unwrap_or(ResultKind::Invoice),
        store_id: row.store_id,
        confidence: row.confidence,
        reasons: serde_json::from_str::<Vec<String>>(&row.reasons)
            .unwrap_or_default()
            .iter()
            .filter_map(|r| r.parse().ok())
            .collect(),
        created_at: row.created_at,
        due_at: row.due_at,
        model_output: serde_json::from_str(&row.model_output).unwrap_or_default(),
        versions: serde_json::from_str(&row.versions).unwrap_or_default(),
        lease_owner: row.lease_owner,
        lease_expires_at: row.lease_expires_at.and_then(store::rfc3339_from_ms),
    }
}

fn filter_of(query: &QueueQuery) -> QueueFilter {
    QueueFilter {
        kind: query.kind,
        store_id: query.store_id.clone(),
        reason: query.reason,
        created_before: query.created_before.clone(),
        order: match query.sort {
            QueueSort::LowestConfidence => QueueOrder::LowestConfidence,
            QueueSort::Oldest => QueueOrder::Oldest,
            QueueSort::Due => QueueOrder::Due,
        },
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct QueuePage {
    #[ts(type = "number")]
    pub total: u64,
    pub oldest_created_at: Option<String>,
    pub tasks: Vec<ReviewTask>,
    /// Policy files that are not in force (the previous or default policy routes instead).
    pub policy_errors: Vec<PolicyChanged>,
}

fn record_of(row: store::DecisionRow) -> DecisionRecord {
    // an undo's reason column names the decision it undoes ("undo of decision 7")
    let undoes = row
        .reason_code
        .as_deref()
        .and_then(|r| r.strip_prefix(store::UNDO_PREFIX))
        .and_then(|id| id.parse().ok());
    DecisionRecord {
        id: row.id,
        task_id: row.task_id,
        reviewer: row.reviewer,
        action: row.action.parse().unwrap_or(DecisionAction::Approve),
        reason_code: row.reason_code.as_deref().and_then(|r| r.parse().ok()),
        undoes,
        decided_at: row.decided_at,
        duration_ms: row.duration_ms,
        hash: row.hash,
        learned: None,
        learn_error: None,
        commit_ms: 0.0,
    }
}

/// The due time of a task queued now that may wait `hours`.
fn due_in(hours: f64) -> String {
    // the policy keeps due_hours within (0, 8784], so the rounded seconds fit an i64
    store::rfc3339_from_now((hours * 3600.0).round() as i64)
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The fields of a result as routing sees them: every top-level object with a `confidence`
/// whose value was found, its checks passed or not.
fn field_scores(value: &serde_json::Value) -> Vec<FieldScore> {
    let Some(fields) = value.as_object() else {
        return Vec::new();
    };
    fields
        .iter()
        .filter_map(|(name, field)| {
            let confidence = field.get("confidence")?.as_f64()?;
            if field.get("value").is_some_and(serde_json::Value::is_null) {
                return None;
            }
            let checks_passed =
                field
                    .get("checks")
                    .and_then(|c| c.as_array())
                    .is_none_or(|checks| {
                        checks.iter().all(|c| {
                            c.get("passed").and_then(serde_json::Value::as_bool) != Some(false)
                        })
                    });
            Some(FieldScore {
                name: name.clone(),
                confidence,
                checks_passed,
            })
        })
        .collect()
}

impl Station {
    fn policy_path(&self, store_id: &str) -> Result<PathBuf, StationError> {
        // store ids come from stores.toml; never let one name a path outside the folder
        if store_id.is_empty()
            || !store_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
            || store_id.starts_with('.')
        {
            return Err(StationError::InvalidRequest(format!(
                "store id {store_id:?} cannot name a policy file"
            )));
        }
        Ok(self
            .data_dir()
            .join(POLICIES_DIR)
            .join(format!("{store_id}.toml")))
    }

    /// The store's routing policy (defaults when it has no file), reread when the file
    /// changed; an invalid file keeps the previous policy and the error is returned beside it.
    pub fn policy(&self, store_id: &str) -> Result<(Policy, Option<String>), StationError> {
        let path = self.policy_path(store_id)?;
        let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
        let mut cache = self
            .policies
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((policy, seen, error)) = cache.loaded.get(store_id) {
            if *seen == modified {
                return Ok((policy.clone(), error.clone()));
            }
        }
        let previous = cache.loaded.get(store_id).map(|(p, ..)| p.clone());
        let (policy, error) = match std::fs::read_to_string(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (Policy::default(), None),
            Err(e) => (
                previous.unwrap_or_default(),
                Some(format!("{}: {e}", path.display())),
            ),
            Ok(text) => match Policy::from_toml(&text) {
                Ok(policy) => (policy, None),
                Err(e) => {
                    tracing::error!(store = store_id, error = %e, "routing policy rejected; keeping the previous one");
                    (
                        previous.unwrap_or_default(),
                        Some(format!("{}: {e}", path.display())),
                    )
                }
            },
        };
        cache.loaded.insert(
            store_id.to_string(),
            (policy.clone(), modified, error.clone()),
        );
        Ok((policy, error))
    }

    /// Routes an extracted document by its store's policy; a doubtful one becomes a task.
    pub async fn route_document(
        &self,
        result: &DocumentResult,
    ) -> Result<(Route, Option<i64>), StationError> {
        let store_id = self
            .stores()
            .await
            .active
            .unwrap_or_else(|| DEFAULT_STORE.to_string());
        let (kind, value) = match result.kind {
            DocumentKind::Invoice => (ResultKind::Invoice, serde_json::to_value(&result.invoice)),
            DocumentKind::Legal => (ResultKind::Legal, serde_json::to_value(&result.legal)),
        };
        let value = value.map_err(|e| StationError::InvalidRequest(e.to_string()))?;
        let (policy, _) = self.policy(&store_id)?;
        let item = self.store.get_item(result.item_id).await?;
        let key = item
            .blob_sha256
            .clone()
            .unwrap_or_else(|| result.item_id.to_string());
        let mut fields = field_scores(&value);
        // document-level checks (Σ items = subtotal, …) count as a field of their own
        if let Some(checks) = value.get("checks").and_then(|c| c.as_array()) {
            let passed = checks
                .iter()
                .all(|c| c.get("passed").and_then(serde_json::Value::as_bool) != Some(false));
            fields.push(FieldScore {
                name: "checks".into(),
                confidence: 1.0,
                checks_passed: passed,
            });
        }
        let route = policy.route(kind, &fields, None, &key);
        if !route.review {
            return Ok((route, None));
        }
        let task = NewTask {
            item_id: result.item_id,
            kind,
            store_id,
            confidence: route.confidence,
            reasons: serde_json::to_string(
                &route.reasons,
            )
            .unwrap_or_default(),
            due_at: Some(due_in(policy.kind(kind).due_hours)),
            model_output: value.to_string(),
            versions: serde_json::json!({
                "engine": engine::ENGINE_VERSION,
                "extraction": format!("extract {}", env!("CARGO_PKG_VERSION")),
                "text": result.pages.iter().map(|p| p.source.clone()).collect::<Vec<_>>(),
                "model": if result.pages.iter().any(|p| p.source == "ocr") { "rapidocr==3.10.0 (PP-OCRv6)" } else { "none (PDF text layer)" },
                "prompt": null,
                "backend": "local, offline",
                "doubtful_fields": route.doubtful_fields,
            })
            .to_string(),
        };
        // extracting the same document again does not queue it twice
        if let Some(open) = self.store.open_task_for(task.item_id, task.kind).await? {
            return Ok((route, Some(open)));
        }
        let _write = self.review_writes.lock().await;
        let id = self.store.enqueue_tasks(&[task]).await?.first().copied();
        Ok((route, id))
    }

    /// Routes a photo's store-compliance result (quality and category gates as rules, each
    /// with its confidence; the category margin) by the store's policy.
    pub async fn route_compliance(
        &self,
        item_id: i64,
        store_id: &str,
    ) -> Result<(Route, Option<i64>), StationError> {
        let compliance = self.compliance(item_id).await?;
        let (policy, _) = self.policy(store_id)?;
        let fields: Vec<FieldScore> = compliance
            .rules
            .iter()
            .filter_map(|rule| {
                Some(FieldScore {
                    name: rule.id.clone(),
                    confidence: f64::from(rule.confidence.unwrap_or(1.0)),
                    checks_passed: rule.passed?,
                })
            })
            .collect();
        let margin = compliance
            .category
            .as_ref()
            .filter(|c| c.predicted.is_some())
            .map(|c| f64::from(c.margin));
        let item = self.store.get_item(item_id).await?;
        let key = item.blob_sha256.unwrap_or_else(|| item_id.to_string());
        let route = policy.route(ResultKind::Compliance, &fields, margin, &key);
        if !route.review {
            return Ok((route, None));
        }
        if let Some(open) = self
            .store
            .open_task_for(item_id, ResultKind::Compliance)
            .await?
        {
            return Ok((route, Some(open)));
        }
        let model_output = serde_json::to_value(&compliance)
            .map_err(|e| StationError::InvalidRequest(e.to_string()))?;
        let task = NewTask {
            item_id,
            kind: ResultKind::Compliance,
            store_id: store_id.to_string(),
            confidence: route.confidence,
            reasons: serde_json::to_string(
                &route.reasons,
            )
            .unwrap_or_default(),
            due_at: Some(due_in(policy.compliance.due_hours)),
            model_output: model_output.to_string(),
            versions: serde_json::json!({
                "engine": engine::ENGINE_VERSION,
                "model": compliance.payload.get("category").and_then(|c| c.get("model_version")).cloned(),
                "prompt": null,
                "backend": "local, offline",
                "doubtful_fields": route.doubtful_fields,
            })
            .to_string(),
        };
        let _write = self.review_writes.lock().await;
        let id = self.store.enqueue_tasks(&[task]).await?.first().copied();
        Ok((route, id))
    }

    /// When a reviewer says a photo shows another category and the store allows it, the photo
    /// becomes a reference photo of that category, with a provenance file beside it. Returns
    /// the reference's path.
    async fn learn_category(
        &self,
        task: &TaskRow,
        reviewer: &str,
        decision_id: i64,
        after: &serde_json::Value,
    ) -> Result<Option<String>, StationError> {
        let before: serde_json::Value =
            serde_json::from_str(&task.model_output).unwrap_or_default();
        let predicted = |v: &serde_json::Value| {
            v.get("category")
                .and_then(|c| c.get("predicted"))
                .and_then(|p| p.as_str())
                .map(str::to_string)
        };
        let Some(corrected) = predicted(after) else {
            return Ok(None);
        };
        if predicted(&before).as_deref() == Some(corrected.as_str()) {
            return Ok(None);
        }
        let Ok(spec) = self.store_spec(&task.store_id) else {
            return Ok(None);
        };
        if !spec.learn_from_reviews {
            return Ok(None);
        }
        let Some(dir) = spec
            .category
            .iter()
            .find(|c| c.name == corrected)
            .and_then(|c| c.references.clone())
        else {
            return Ok(None);
        };
        let item = self.store.get_item(task.item_id).await?;
        let Some(sha) = item
            .blob_sha256
            .as_deref()
            .and_then(|s| store::Sha256Hex::parse(s).ok())
        else {
            return Ok(None);
        };
        let bytes = self.store.blobs().read(&sha)?;
        let ext = match item.format.as_deref() {
            Some("png") => "png",
            Some("webp") => "webp",
            _ => "jpg",
        };
        let stem = format!("review-{}", &sha.as_str()[..16]);
        let photo = dir.join(format!("{stem}.{ext}"));
        let provenance = serde_json::json!({
            "source": "review",
            "decision_id": decision_id,
            "task_id": task.id,
            "item_id": task.item_id,
            "sha256": sha.as_str(),
            "reviewer": reviewer,
            "from": predicted(&before),
            "to": corrected,
            "at": store::now_rfc3339(),
        });
        let written = std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::write(&photo, &bytes))
            .and_then(|()| {
                std::fs::write(
                    dir.join(format!("{stem}.json")),
                    serde_json::to_string_pretty(&provenance).unwrap_or_default(),
                )
            });
        if let Err(error) = written {
            tracing::error!(%error, path = %photo.display(), "cannot add the reference photo");
            return Ok(None);
        }
        self.forget_category_set(&task.store_id);
        tracing::info!(path = %photo.display(), category = %corrected, "reviewer's correction added as a reference photo");
        Ok(Some(photo.display().to_string()))
    }

    pub async fn review_queue(
        &self,
        query: &QueueQuery,
        offset: u32,
        limit: u32,
    ) -> Result<QueuePage, StationError> {
        let filter = filter_of(query);
        let (total, oldest_created_at) = self.store.queue_stats(&filter).await?;
        let tasks = self
            .store
            .list_tasks(&filter, offset, limit.min(crate::MAX_PAGE))
            .await?
            .into_iter()
            .map(task_of)
            .collect();
        Ok(QueuePage {
            total,
            oldest_created_at,
            tasks,
            policy_errors: self.policy_errors(),
        })
    }

    /// Every policy file that is invalid now, with why (read through the cache, so a file
    /// that was already broken when the station started is reported too).
    pub fn policy_errors(&self) -> Vec<PolicyChanged> {
        let Ok(entries) = std::fs::read_dir(self.data_dir().join(POLICIES_DIR)) else {
            return Vec::new();
        };
        let mut errors: Vec<PolicyChanged> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let path = e.path();
                if path.extension().is_none_or(|x| x != "toml") {
                    return None;
                }
                let store_id = path.file_stem()?.to_str()?.to_string();
                let error = match self.policy(&store_id) {
                    Ok((_, error)) => error?,
                    Err(e) => e.to_string(),
                };
                Some(PolicyChanged {
                    store_id,
                    error: Some(error),
                })
            })
            .collect();
        errors.sort_by(|a, b| a.store_id.cmp(&b.store_id));
        errors
    }

    /// Leases the reviewer the next task of the queue (not one of `holding`: the task on screen
    /// while this one is pre-loaded).
    pub async fn claim_next(
        &self,
        query: &QueueQuery,
        holding: &[i64],
    ) -> Result<Option<ReviewTask>, StationError> {
        let reviewer = self.reviewer()?;
        let _write = self.review_writes.lock().await;
        Ok(self
            .store
            .claim_next(&reviewer, &filter_of(query), now_ms(), LEASE_MS, holding)
            .await?
            .map(task_of))
    }

    /// Keeps the reviewer's tasks (on screen and pre-loaded) leased while they work on them;
    /// returns those that are still theirs.
    pub async fn renew_leases(&self, task_ids: &[i64]) -> Result<Vec<i64>, StationError> {
        let reviewer = self.reviewer()?;
        let _write = self.review_writes.lock().await;
        Ok(self
            .store
            .renew_leases(
                &reviewer,
                &task_ids[..task_ids.len().min(8)],
                now_ms(),
                LEASE_MS,
            )
            .await?)
    }

    pub async fn release_task(&self, task_id: i64) -> Result<bool, StationError> {
        let reviewer = self.reviewer()?;
        let _write = self.review_writes.lock().await;
        Ok(self.store.release_task(task_id, &reviewer).await?)
    }

    /// Records a decision on a task the reviewer holds; the audit row keeps the model output
    /// (before) and the reviewer's (after).
    pub async fn decide(
        &self,
        task_id: i64,
        decision: DecisionInput,
        duration_ms: i64,
    ) -> Result<DecisionRecord, StationError> {
        let began = std::time::Instant::now();
        let reviewer = self.reviewer()?;
        let reviewer = reviewer.as_str();
        let task = self.store.get_task(task_id).await?;
        let versions = task.versions.clone();
        let action = decision.action();
        let (reason_code, after) = match decision {
            DecisionInput::Approve => (None, task.model_output.clone()),
            DecisionInput::Reject { reason_code } => (
                Some(reason_code.as_str().to_string()),
                task.model_output.clone(),
            ),
            DecisionInput::Correct { after } => (None, after.to_string()),
        };
        let after_value: serde_json::Value = serde_json::from_str(&after).unwrap_or_default();
        let diff_json = serde_json::to_string(&changed_fields(
            &serde_json::from_str(&task.model_output).unwrap_or_default(),
            &after_value,
        ))
        .unwrap_or_default();
        let write = self.review_writes.lock().await;
        let row = self
            .store
            .decide_task(
                task_id,
                reviewer,
                &NewDecision {
                    action,
                    reason_code,
                    diff_json,
                    versions,
                    before_json: task.model_output.clone(),
                    after_json: after,
                    duration_ms: duration_ms.max(0),
                },
                now_ms(),
            )
            .await?;
        drop(write);
        let mut record = record_of(row);
        record.commit_ms = began.elapsed().as_secs_f64() * 1000.0;
        if task.kind == ResultKind::Compliance.as_str() && record.action == DecisionAction::Correct
        {
            // the decision is committed: a failure to learn from it must not read as a failed save
            match self
                .learn_category(&task, reviewer, record.id, &after_value)
                .await
            {
                Ok(learned) => record.learned = learned,
                Err(error) => {
                    tracing::error!(%error, task = task.id, "the correction could not become a reference photo");
                    record.learn_error = Some(error.to_string());
                }
            }
        }
        Ok(record)
    }

    pub async fn undo_decision(&self, task_id: i64) -> Result<DecisionRecord, StationError> {
        let reviewer = self.reviewer()?;
        let _write = self.review_writes.lock().await;
        Ok(self
            .store
            .undo_decision(task_id, &reviewer, now_ms(), LEASE_MS)
            .await
            .map(record_of)?)
    }

    pub async fn verify_audit(&self) -> Result<AuditCheck, StationError> {
        Ok(match self.store.verify_decisions().await? {
            Ok(decisions) => AuditCheck {
                decisions,
                intact: true,
                broken_at: None,
                problem: None,
            },
            Err(b) => AuditCheck {
                decisions: 0,
                intact: false,
                broken_at: Some(b.decision_id),
                problem: Some(b.problem),
            },
        })
    }
}

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
    /// The standing decisions (undone ones dropped) with their tasks, oldest first, and how
    /// many decisions were undone.
    async fn standing_decisions(
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

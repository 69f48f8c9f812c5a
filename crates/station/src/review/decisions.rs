//! The queue, leases, decisions and undo, as the signed-in reviewer; the audit check.

use protocol::{
    AuditCheck, DecisionAction, DecisionInput, DecisionRecord, PolicyChanged, QueueQuery,
    QueueSort, ResultKind, ReviewTask,
};
use serde::Serialize;
use store::{NewDecision, QueueFilter, QueueOrder, TaskRow};
use ts_rs::TS;

use super::Review;
use super::{changed_fields, now_ms, LEASE_MS};
use crate::StationError;

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

impl Review {
    pub async fn queue(
        &self,
        query: &QueueQuery,
        offset: u32,
        limit: u32,
    ) -> Result<QueuePage, StationError> {
        let filter = filter_of(query);
        let (total, oldest_created_at) = self.core.store.queue_stats(&filter).await?;
        let tasks = self
            .core
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

    /// Leases the reviewer the next task of the queue (not one of `holding`: the task on screen
    /// while this one is pre-loaded).
    pub async fn claim_next(
        &self,
        query: &QueueQuery,
        holding: &[i64],
    ) -> Result<Option<ReviewTask>, StationError> {
        let reviewer = self.session.reviewer()?;
        let _write = self.writes.lock().await;
        Ok(self
            .core
            .store
            .claim_next(&reviewer, &filter_of(query), now_ms(), LEASE_MS, holding)
            .await?
            .map(task_of))
    }

    /// Keeps the reviewer's tasks (on screen and pre-loaded) leased while they work on them;
    /// returns those that are still theirs.
    pub async fn renew_leases(&self, task_ids: &[i64]) -> Result<Vec<i64>, StationError> {
        let reviewer = self.session.reviewer()?;
        let _write = self.writes.lock().await;
        Ok(self
            .core
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
        let reviewer = self.session.reviewer()?;
        let _write = self.writes.lock().await;
        Ok(self.core.store.release_task(task_id, &reviewer).await?)
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
        let reviewer = self.session.reviewer()?;
        let reviewer = reviewer.as_str();
        let task = self.core.store.get_task(task_id).await?;
        let versions = task.versions.clone();
        let action = decision.action();
        let (reason_code, after) = match decision {
            DecisionInput::Approve => (None, task.model_output.clone()),
            DecisionInput::Reject { reason_code } => (
                Some(reason_code.as_str().to_string()),
                task.model_output.clone(),
            ),
            DecisionInput::Correct { after } => {
                // a reviewer's output goes where the model's goes (the audit trail, the
                // evaluation set, the router): it must fit the same schema
                let kind: ResultKind = task.kind.parse().map_err(|_| {
                    StationError::InvalidRequest(format!(
                        "task {task_id} has an unknown kind {:?}",
                        task.kind
                    ))
                })?;
                extract::schema::validate(kind, &after).map_err(|e| {
                    StationError::InvalidRequest(format!("the correction is not saved: {e}"))
                })?;
                (None, after.to_string())
            }
        };
        let after_value: serde_json::Value = serde_json::from_str(&after).unwrap_or_default();
        let diff_json = serde_json::to_string(&changed_fields(
            &serde_json::from_str(&task.model_output).unwrap_or_default(),
            &after_value,
        ))
        .unwrap_or_default();
        let write = self.writes.lock().await;
        let row = self
            .core
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
        // the decision's correction is in the outbox: the sync worker sends it now
        self.core.outbox_written.notify_one();
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
        let reviewer = self.session.reviewer()?;
        let _write = self.writes.lock().await;
        let record = self
            .core
            .store
            .undo_decision(task_id, &reviewer, now_ms(), LEASE_MS)
            .await
            .map(record_of)?;
        self.core.outbox_written.notify_one();
        Ok(record)
    }

    pub async fn verify_audit(&self) -> Result<AuditCheck, StationError> {
        audit_check(&self.core.store).await
    }
}

/// The local chain's check (the router's witness is added by `sync`).
pub(crate) async fn audit_check(store: &store::Store) -> Result<AuditCheck, StationError> {
    let verified = store.verify_decisions().await?;
    let seal = Some(crate::audit_key::describe(store, verified.is_ok()).await?);
    Ok(match verified {
        Ok(decisions) => AuditCheck {
            decisions,
            intact: true,
            broken_at: None,
            problem: None,
            witnessed: None,
            seal,
        },
        Err(b) => AuditCheck {
            decisions: 0,
            intact: false,
            broken_at: Some(b.decision_id),
            problem: Some(b.problem),
            witnessed: None,
            seal,
        },
    })
}

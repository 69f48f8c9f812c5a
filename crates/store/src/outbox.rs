//! The sync outbox and the sync client's memory. A row is written in the same transaction as
//! the change that needs the router (`queue_cloud_check`, a decision in `review.rs`), so a
//! change is never saved without its row nor a row without its change; the sync client then
//! moves rows through their states. Results are applied in the same transaction as the row
//! that asked for them becomes done and the cursor advances, so a result is applied once.

use sqlx::SqliteConnection;

use crate::{now_rfc3339, Result, Store};

/// The row kind of a reviewer's decision bound for the router's evaluation store.
pub const CORRECTION: &str = "correction";
/// The row kind of a local task raised on the team's shared queue.
pub const RAISE_TASK: &str = "raise_task";
/// The row kind of a decision on a task of the shared queue.
pub const SHARED_DECISION: &str = "shared_decision";

/// A change bound for the router.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOutbox {
    /// `compliance_check`, `invoice_fields`, `legal_summary` or [`CORRECTION`].
    pub kind: String,
    pub item_id: Option<i64>,
    /// Sent with every attempt: the router runs a key once.
    pub idempotency_key: String,
    pub input_json: String,
    /// Uploaded before the job is submitted.
    pub blobs: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OutboxRow {
    pub id: i64,
    pub kind: String,
    pub item_id: Option<i64>,
    pub idempotency_key: String,
    pub input_json: String,
    pub blobs_json: String,
    pub state: String,
    pub upload_done: i64,
    pub upload_total: i64,
    pub failures: i64,
    pub next_at_ms: Option<i64>,
    pub reason: Option<String>,
    pub job_id: Option<i64>,
    pub first_attempt_ms: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
}

const OUTBOX_COLUMNS: &str = "id, kind, item_id, idempotency_key, input_json, blobs_json, state, \
                              upload_done, upload_total, failures, next_at_ms, reason, job_id, \
                              first_attempt_ms, created_at, updated_at";

/// Where a row stands, as the sync client sets it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OutboxState {
    pub state: String,
    pub upload_done: i64,
    pub upload_total: i64,
    pub failures: i64,
    pub next_at_ms: Option<i64>,
    pub reason: Option<String>,
    pub job_id: Option<i64>,
}

/// An open task's confidence and model output after a second opinion.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskUpdate {
    pub task_id: i64,
    pub confidence: f64,
    pub model_output: String,
}

/// A cloud check's answer for one rule.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleAnswer {
    pub rule: String,
    pub passed: Option<bool>,
    pub confidence: f64,
    pub reason: String,
}

/// A rule of a photo's cloud check and its answer, when back.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CloudCheckRow {
    pub rule: String,
    pub state: String,
    pub passed: Option<bool>,
    pub confidence: Option<f64>,
    pub reason: Option<String>,
}

#[derive(sqlx::FromRow)]
struct VisitCheck {
    item_id: i64,
    #[sqlx(flatten)]
    check: CloudCheckRow,
}

/// Rows by state, for the sync panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutboxCounts {
    pub queued: u64,
    pub uploading: u64,
    pub waiting: u64,
    pub retrying: u64,
    pub parked: u64,
    pub done: u64,
}

pub(crate) async fn insert_outbox(conn: &mut SqliteConnection, new: &NewOutbox) -> Result<()> {
    let now = now_rfc3339();
    let blobs = serde_json::to_string(&new.blobs).unwrap_or_else(|_| "[]".into());
    // the same key again is the same change: kept once
    sqlx::query(
        "INSERT INTO outbox (kind, item_id, idempotency_key, input_json, blobs_json, created_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(idempotency_key) DO NOTHING",
    )
    .bind(&new.kind)
    .bind(new.item_id)
    .bind(&new.idempotency_key)
    .bind(&new.input_json)
    .bind(blobs)
    .bind(&now)
    .bind(&now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl Store {
    /// Queues a photo's rules for the cloud LLM: the pending checks and the outbox row that
    /// will send them, in one transaction. Queuing the same check twice keeps one of each.
    pub async fn queue_cloud_check(
        &self,
        visit_id: i64,
        item_id: i64,
        rules: &[String],
        job: &NewOutbox,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for rule in rules {
            sqlx::query(
                "INSERT INTO pending_cloud (visit_id, item_id, rule, created_at) VALUES (?, ?, ?, ?) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(visit_id)
            .bind(item_id)
            .bind(rule)
            .bind(now_rfc3339())
            .execute(&mut *tx)
            .await?;
        }
        insert_outbox(&mut tx, job).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A change bound for the router that goes with no other write.
    pub async fn add_outbox(&self, new: &NewOutbox) -> Result<()> {
        let mut conn = self.pool.acquire().await?;
        insert_outbox(&mut conn, new).await
    }

    /// Rows the sync client should work on now: queued ones, and retrying ones that are due,
    /// oldest first. Corrections are sent in batches, so they are asked for apart.
    pub async fn due_outbox(
        &self,
        now_ms: i64,
        corrections: bool,
        limit: u32,
    ) -> Result<Vec<OutboxRow>> {
        let kind_test = if corrections { "kind = ?" } else { "kind <> ?" };
        Ok(sqlx::query_as(&format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE {kind_test} AND \
             (state IN ('queued', 'uploading') OR (state = 'retrying' AND next_at_ms <= ?)) \
             ORDER BY id LIMIT ?"
        ))
        .bind(CORRECTION)
        .bind(now_ms)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?)
    }

    /// When the next retrying row falls due, if any.
    pub async fn next_retry_at(&self) -> Result<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT MIN(next_at_ms) FROM outbox WHERE state = 'retrying'")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    pub async fn get_outbox(&self, id: i64) -> Result<Option<OutboxRow>> {
        Ok(
            sqlx::query_as(&format!("SELECT {OUTBOX_COLUMNS} FROM outbox WHERE id = ?"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    pub async fn outbox_by_key(&self, key: &str) -> Result<Option<OutboxRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE idempotency_key = ?"
        ))
        .bind(key)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn outbox_by_job(&self, job_id: i64) -> Result<Option<OutboxRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE job_id = ?"
        ))
        .bind(job_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Moves a row; a done row never moves again (a late answer to a repeat changes nothing).
    /// The first attempt's time is kept from the first move on: the retry window counts from it.
    pub async fn set_outbox_state(&self, id: i64, s: &OutboxState, now_ms: i64) -> Result<bool> {
        let moved = sqlx::query(
            "UPDATE outbox SET state = ?, upload_done = ?, upload_total = ?, failures = ?, \
             next_at_ms = ?, reason = ?, job_id = COALESCE(?, job_id), \
             first_attempt_ms = COALESCE(first_attempt_ms, ?), updated_at = ? \
             WHERE id = ? AND state <> 'done'",
        )
        .bind(&s.state)
        .bind(s.upload_done)
        .bind(s.upload_total)
        .bind(s.failures)
        .bind(s.next_at_ms)
        .bind(&s.reason)
        .bind(s.job_id)
        .bind(now_ms)
        .bind(now_rfc3339())
        .bind(id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(moved == 1)
    }

    /// Corrections the router acknowledged.
    pub async fn outbox_done(&self, ids: &[i64]) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let now = now_rfc3339();
        for id in ids {
            sqlx::query(
                "UPDATE outbox SET state = 'done', reason = NULL, next_at_ms = NULL, updated_at = ? WHERE id = ?",
            )
            .bind(&now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A person's "Retry now": a parked or retrying row is queued again, its count reset.
    pub async fn retry_outbox_now(&self, id: i64) -> Result<bool> {
        let moved = sqlx::query(
            "UPDATE outbox SET state = 'queued', failures = 0, next_at_ms = NULL, reason = NULL, \
             first_attempt_ms = NULL, updated_at = ? WHERE id = ? AND state IN ('parked', 'retrying')",
        )
        .bind(now_rfc3339())
        .bind(id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(moved == 1)
    }

    /// Every retrying row is due now (the network came back, or a person asked).
    pub async fn retry_all_now(&self) -> Result<u64> {
        Ok(
            sqlx::query(
                "UPDATE outbox SET next_at_ms = 0, updated_at = ? WHERE state = 'retrying'",
            )
            .bind(now_rfc3339())
            .execute(&self.pool)
            .await?
            .rows_affected(),
        )
    }

    /// A page of rows for the sync panel, newest first; `state` filters.
    pub async fn list_outbox(
        &self,
        state: Option<&str>,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<OutboxRow>> {
        let mut q = sqlx::QueryBuilder::new(format!("SELECT {OUTBOX_COLUMNS} FROM outbox"));
        if let Some(state) = state {
            q.push(" WHERE state = ").push_bind(state.to_string());
        }
        q.push(" ORDER BY id DESC LIMIT ")
            .push_bind(i64::from(limit))
            .push(" OFFSET ")
            .push_bind(i64::from(offset));
        Ok(q.build_query_as().fetch_all(&self.pool).await?)
    }

    pub async fn outbox_counts(&self) -> Result<OutboxCounts> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT state, COUNT(*) FROM outbox GROUP BY state")
                .fetch_all(&self.pool)
                .await?;
        let mut counts = OutboxCounts::default();
        for (state, n) in rows {
            let n = u64::try_from(n).unwrap_or(0);
            match state.as_str() {
                "queued" => counts.queued = n,
                "uploading" => counts.uploading = n,
                "waiting" => counts.waiting = n,
                "retrying" => counts.retrying = n,
                "parked" => counts.parked = n,
                "done" => counts.done = n,
                _ => {}
            }
        }
        Ok(counts)
    }

    /// Applies a cloud check's answer: the photo's rules, the row done and the results cursor,
    /// in one transaction. An answer for a row already done changes nothing but the cursor.
    /// Returns whether it was applied.
    pub async fn apply_cloud_check(
        &self,
        outbox_id: i64,
        item_id: i64,
        answers: &[RuleAnswer],
        cursor: i64,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let applied = finish_row(&mut tx, outbox_id).await?;
        if applied {
            let now = now_rfc3339();
            for a in answers {
                let state = match a.passed {
                    Some(true) => "passed",
                    Some(false) => "failed",
                    None => "unclear",
                };
                sqlx::query(
                    "UPDATE pending_cloud SET state = ?, passed = ?, confidence = ?, reason = ?, decided_at = ? \
                     WHERE item_id = ? AND rule = ? AND state = 'pending'",
                )
                .bind(state)
                .bind(a.passed)
                .bind(a.confidence)
                .bind(&a.reason)
                .bind(&now)
                .bind(item_id)
                .bind(&a.rule)
                .execute(&mut *tx)
                .await?;
            }
        }
        set_state_value(&mut tx, RESULTS_CURSOR, &cursor.to_string()).await?;
        tx.commit().await?;
        Ok(applied)
    }

    /// A result that applies to nothing here (a job that failed on the server, or one this
    /// station no longer has): the row (if any) is parked with the reason and the cursor moves.
    pub async fn skip_result(
        &self,
        outbox_id: Option<i64>,
        reason: &str,
        cursor: i64,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        if let Some(id) = outbox_id {
            sqlx::query(
                "UPDATE outbox SET state = 'parked', reason = ?, updated_at = ? WHERE id = ? AND state <> 'done'",
            )
            .bind(reason)
            .bind(now_rfc3339())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        set_state_value(&mut tx, RESULTS_CURSOR, &cursor.to_string()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A document job's answer: recorded as the item's analysis (`analyzer`) — and, when its
    /// task is still open, the task's new confidence and model output (the second opinion beside
    /// the local reading) — in the same transaction as the row done and the cursor.
    pub async fn apply_job_result(
        &self,
        outbox_id: i64,
        item_id: i64,
        analyzer: &str,
        result_json: &str,
        task: Option<&TaskUpdate>,
        cursor: i64,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let applied = finish_row(&mut tx, outbox_id).await?;
        if let (true, Some(task)) = (applied, task) {
            sqlx::query(
                "UPDATE review_tasks SET confidence = ?, model_output = ? WHERE id = ? AND state = 'open'",
            )
            .bind(task.confidence)
            .bind(&task.model_output)
            .bind(task.task_id)
            .execute(&mut *tx)
            .await?;
        }
        if applied {
            crate::items::insert_analysis(
                &mut tx,
                item_id,
                &crate::NewAnalysis {
                    analyzer: analyzer.into(),
                    engine_version: "router".into(),
                    result_json: result_json.into(),
                    provider: Some("router".into()),
                    ..crate::NewAnalysis::default()
                },
                &now_rfc3339(),
            )
            .await?;
        }
        set_state_value(&mut tx, RESULTS_CURSOR, &cursor.to_string()).await?;
        tx.commit().await?;
        Ok(applied)
    }

    /// A photo's cloud checks with their answers, by rule.
    pub async fn cloud_checks(&self, item_id: i64) -> Result<Vec<CloudCheckRow>> {
        Ok(sqlx::query_as(
            "SELECT rule, state, passed, confidence, reason FROM pending_cloud WHERE item_id = ? ORDER BY id",
        )
        .bind(item_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Every cloud check of a visit's photos with its answer, by item.
    pub async fn visit_cloud_checks(
        &self,
        visit_id: i64,
    ) -> Result<std::collections::HashMap<i64, Vec<CloudCheckRow>>> {
        let rows: Vec<VisitCheck> = sqlx::query_as(
            "SELECT item_id, rule, state, passed, confidence, reason FROM pending_cloud \
             WHERE visit_id = ? ORDER BY id",
        )
        .bind(visit_id)
        .fetch_all(&self.pool)
        .await?;
        let mut by_item: std::collections::HashMap<i64, Vec<CloudCheckRow>> =
            std::collections::HashMap::new();
        for row in rows {
            by_item.entry(row.item_id).or_default().push(row.check);
        }
        Ok(by_item)
    }

    pub async fn sync_value(&self, name: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT value FROM sync_state WHERE name = ?")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    pub async fn set_sync_value(&self, name: &str, value: Option<&str>) -> Result<()> {
        let mut conn = self.pool.acquire().await?;
        match value {
            Some(value) => set_state_value(&mut conn, name, value).await,
            None => {
                sqlx::query("DELETE FROM sync_state WHERE name = ?")
                    .bind(name)
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            }
        }
    }
}

/// The results cursor's name in `sync_state`.
pub const RESULTS_CURSOR: &str = "results_cursor";

async fn finish_row(conn: &mut SqliteConnection, outbox_id: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE outbox SET state = 'done', reason = NULL, next_at_ms = NULL, updated_at = ? \
         WHERE id = ? AND state <> 'done'",
    )
    .bind(now_rfc3339())
    .bind(outbox_id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(done == 1)
}

async fn set_state_value(conn: &mut SqliteConnection, name: &str, value: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO sync_state (name, value) VALUES (?, ?) \
         ON CONFLICT(name) DO UPDATE SET value = excluded.value",
    )
    .bind(name)
    .bind(value)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

//! The review queue and its audit trail.
//!
//! A task is leased to one reviewer at a time (`lease_owner`, `lease_expires_at`); an expired
//! lease returns it to the queue. Deciding is one conditional update — open, leased to this
//! reviewer, lease not expired — so a task is never decided twice, whoever races for it.
//! Decisions are append-only (triggers refuse updates and deletes) and each row carries the
//! sha256 of the previous row's hash and its own content, so `verify_decisions` pinpoints a
//! changed or removed row.
//!
//! Past 600 lines (about 810 of code, 45 of tests): the queue, its leases, the decisions and the
//! audit chain are one transaction boundary; a decision's outbox rows (its correction, its
//! decision for the team's queue) and a task's raise are written inside it, by design. The team
//! queue's own lookups are the next thing to move out (`shared_queue.rs`).

use sha2::{Digest, Sha256};

use protocol::{DecisionAction, ResultKind, RoutingReason};

use crate::{now_rfc3339, AuditSeal, Result, Store, StoreError};

/// How an undo's reason column begins; the id of the decision it undoes follows.
pub const UNDO_PREFIX: &str = "undo of decision ";

#[derive(Debug, Clone, PartialEq)]
pub struct NewTask {
    pub item_id: i64,
    pub kind: ResultKind,
    pub store_id: String,
    pub confidence: f64,
    /// JSON array of reason codes.
    pub reasons: String,
    pub due_at: Option<String>,
    pub model_output: String,
    pub versions: String,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct TaskRow {
    pub id: i64,
    pub item_id: i64,
    pub kind: String,
    pub store_id: String,
    pub confidence: f64,
    pub reasons: String,
    pub created_at: String,
    pub due_at: Option<String>,
    pub model_output: String,
    pub versions: String,
    pub state: String,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<i64>,
}

const TASK_COLUMNS: &str = "id, item_id, kind, store_id, confidence, reasons, created_at, due_at, \
                            model_output, versions, state, lease_owner, lease_expires_at";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QueueOrder {
    #[default]
    LowestConfidence,
    Oldest,
    Due,
}

/// Which open tasks a queue view or a claim considers.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QueueFilter {
    pub kind: Option<ResultKind>,
    pub store_id: Option<String>,
    /// One reason the task must carry.
    pub reason: Option<RoutingReason>,
    /// Only tasks created at or before this time (RFC 3339): "older than".
    pub created_before: Option<String>,
    pub order: QueueOrder,
}

impl QueueFilter {
    fn push_where(&self, q: &mut sqlx::QueryBuilder<'_, sqlx::Sqlite>) {
        q.push(" WHERE state = 'open'");
        if let Some(kind) = self.kind {
            q.push(" AND kind = ").push_bind(kind.as_str());
        }
        if let Some(store) = &self.store_id {
            q.push(" AND store_id = ").push_bind(store.clone());
        }
        if let Some(reason) = self.reason {
            // reasons is a JSON array of plain codes: match the quoted code
            q.push(" AND instr(reasons, ")
                .push_bind(format!("\"{}\"", reason.as_str()))
                .push(") > 0");
        }
        if let Some(before) = &self.created_before {
            q.push(" AND created_at <= ").push_bind(before.clone());
        }
    }

    fn order_sql(&self) -> &'static str {
        match self.order {
            QueueOrder::LowestConfidence => " ORDER BY confidence ASC, id ASC",
            QueueOrder::Oldest => " ORDER BY created_at ASC, id ASC",
            QueueOrder::Due => " ORDER BY due_at IS NULL, due_at ASC, confidence ASC, id ASC",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DecisionRow {
    pub id: i64,
    pub task_id: i64,
    pub reviewer: String,
    pub action: String,
    pub reason_code: Option<String>,
    pub before_json: String,
    pub after_json: String,
    pub decided_at: String,
    pub duration_ms: i64,
    pub diff_json: String,
    pub versions: String,
    pub prev_hash: String,
    pub hash: String,
    /// The audit key's HMAC of `hash` (`audit_seal`); `None` when written without a key.
    pub seal: Option<String>,
}

const DECISION_COLUMNS: &str = "id, task_id, reviewer, action, reason_code, before_json, \
                                after_json, decided_at, duration_ms, diff_json, versions, \
                                prev_hash, hash, seal";

/// What a reviewer decided, before it is chained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDecision {
    pub action: DecisionAction,
    pub reason_code: Option<String>,
    pub before_json: String,
    pub after_json: String,
    pub duration_ms: i64,
    /// JSON array of the fields the reviewer changed.
    pub diff_json: String,
    /// JSON object: versions of engine, model, prompt and backend.
    pub versions: String,
}

/// Where the audit chain breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    pub decision_id: i64,
    pub problem: String,
}

/// The hash of the first row's predecessor.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn chain_hash(
    prev: &str,
    id: i64,
    task_id: i64,
    reviewer: &str,
    action: &str,
    d: &NewDecision,
    at: &str,
) -> String {
    let mut h = Sha256::new();
    // every field length-prefixed, so that no two different rows hash the same bytes
    for part in [
        prev,
        &id.to_string(),
        &task_id.to_string(),
        reviewer,
        action,
        d.reason_code.as_deref().unwrap_or("\u{0}"),
        &d.before_json,
        &d.after_json,
        at,
        &d.duration_ms.to_string(),
        &d.diff_json,
        &d.versions,
    ] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

impl Store {
    pub async fn enqueue_tasks(&self, tasks: &[NewTask]) -> Result<Vec<i64>> {
        let mut tx = self.pool.begin().await?;
        let ids = insert_tasks(&mut tx, tasks).await?;
        tx.commit().await?;
        Ok(ids)
    }

    /// Queues a task and the router job that gives it a second opinion, in one transaction.
    pub async fn enqueue_task_with_job(
        &self,
        task: &NewTask,
        job: &crate::NewOutbox,
    ) -> Result<i64> {
        let mut tx = self.pool.begin().await?;
        let ids = insert_tasks(&mut tx, std::slice::from_ref(task)).await?;
        crate::outbox::insert_outbox(&mut tx, job).await?;
        tx.commit().await?;
        ids.first()
            .copied()
            .ok_or_else(|| StoreError::Corrupt("a task insert returned no id".into()))
    }

    /// A local task is on the team's queue as `shared_id`, leased to this station until
    /// `until_ms`.
    pub async fn set_task_shared(&self, task_id: i64, shared_id: i64, until_ms: i64) -> Result<()> {
        sqlx::query("UPDATE review_tasks SET shared_id = ?, shared_until_ms = ? WHERE id = ?")
            .bind(shared_id)
            .bind(until_ms)
            .bind(task_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// An open task's result as it stands now (judged again); a decided task keeps what its
    /// reviewer saw.
    pub async fn refresh_open_task(
        &self,
        task_id: i64,
        confidence: f64,
        reasons: &str,
        model_output: &str,
    ) -> Result<bool> {
        let changed = sqlx::query(
            "UPDATE review_tasks SET confidence = ?, reasons = ?, model_output = ? \
             WHERE id = ? AND state = 'open' AND (model_output <> ? OR reasons <> ?)",
        )
        .bind(confidence)
        .bind(reasons)
        .bind(model_output)
        .bind(task_id)
        .bind(model_output)
        .bind(reasons)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(changed == 1)
    }

    /// A local task's id on the team's queue, once raised or claimed.
    pub async fn shared_id_of(&self, task_id: i64) -> Result<Option<i64>> {
        Ok(
            sqlx::query_scalar::<_, Option<i64>>("SELECT shared_id FROM review_tasks WHERE id = ?")
                .bind(task_id)
                .fetch_optional(&self.pool)
                .await?
                .flatten(),
        )
    }

    /// The local task of a shared one, if this station has it.
    pub async fn task_by_shared(&self, shared_id: i64) -> Result<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT id FROM review_tasks WHERE shared_id = ?")
                .bind(shared_id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// A task another station (or the router) raised, claimed by this one: kept as a local task
    /// with its shared id and lease, and no raise of its own.
    pub async fn add_shared_task(
        &self,
        task: &NewTask,
        shared_id: i64,
        until_ms: i64,
    ) -> Result<i64> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO review_tasks (item_id, kind, store_id, confidence, reasons, created_at, due_at, model_output, versions, shared_id, shared_until_ms) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT(shared_id) WHERE shared_id IS NOT NULL DO UPDATE SET shared_until_ms = excluded.shared_until_ms \
             RETURNING id",
        )
        .bind(task.item_id)
        .bind(task.kind.as_str())
        .bind(&task.store_id)
        .bind(task.confidence)
        .bind(&task.reasons)
        .bind(now_rfc3339())
        .bind(&task.due_at)
        .bind(&task.model_output)
        .bind(&task.versions)
        .bind(shared_id)
        .bind(until_ms)
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    /// The shared ids of the open tasks this station holds, and forgets holding them (it gives
    /// them back to the team).
    pub async fn drop_held_shared(&self, now_ms: i64) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "UPDATE review_tasks SET shared_until_ms = 0 \
             WHERE state = 'open' AND shared_id IS NOT NULL AND shared_until_ms > ? RETURNING shared_id",
        )
        .bind(now_ms)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The open tasks this station holds on the team's queue now.
    pub async fn held_shared(&self, now_ms: i64) -> Result<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM review_tasks WHERE state = 'open' AND shared_id IS NOT NULL AND shared_until_ms > ?",
        )
        .bind(now_ms)
        .fetch_one(&self.pool)
        .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// How many open tasks match, and when the oldest of them was created.
    pub async fn queue_stats(&self, filter: &QueueFilter) -> Result<(u64, Option<String>)> {
        let mut q = sqlx::QueryBuilder::new("SELECT COUNT(*), MIN(created_at) FROM review_tasks");
        filter.push_where(&mut q);
        let (count, oldest): (i64, Option<String>) =
            q.build_query_as().fetch_one(&self.pool).await?;
        Ok((u64::try_from(count).unwrap_or(0), oldest))
    }

    /// One page of the open queue in the filter's order.
    pub async fn list_tasks(
        &self,
        filter: &QueueFilter,
        offset: u32,
        limit: u32,
    ) -> Result<Vec<TaskRow>> {
        let mut q = sqlx::QueryBuilder::new(format!("SELECT {TASK_COLUMNS} FROM review_tasks"));
        filter.push_where(&mut q);
        q.push(filter.order_sql());
        q.push(" LIMIT ").push_bind(i64::from(limit));
        q.push(" OFFSET ").push_bind(i64::from(offset));
        Ok(q.build_query_as().fetch_all(&self.pool).await?)
    }

    /// The open task of an item's result of this kind, if one is queued.
    pub async fn open_task_for(&self, item_id: i64, kind: ResultKind) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM review_tasks WHERE item_id = ? AND kind = ? AND state = 'open' LIMIT 1",
        )
        .bind(item_id)
        .bind(kind.as_str())
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn get_task(&self, id: i64) -> Result<TaskRow> {
        sqlx::query_as::<_, TaskRow>(&format!(
            "SELECT {TASK_COLUMNS} FROM review_tasks WHERE id = ?"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::TaskNotFound(id))
    }

    /// Leases the first open task in the filter's order that nobody holds (or whose lease has
    /// expired) to `reviewer` until `now_ms + lease_ms`, skipping `exclude` (tasks the reviewer
    /// already holds, e.g. the one on screen while the next is pre-loaded).
    pub async fn claim_next(
        &self,
        reviewer: &str,
        filter: &QueueFilter,
        now_ms: i64,
        lease_ms: i64,
        exclude: &[i64],
    ) -> Result<Option<TaskRow>> {
        let mut q = sqlx::QueryBuilder::new("UPDATE review_tasks SET lease_owner = ");
        q.push_bind(reviewer.to_string())
            .push(", lease_expires_at = ")
            .push_bind(now_ms + lease_ms)
            .push(" WHERE id = (SELECT id FROM review_tasks");
        filter.push_where(&mut q);
        // the reviewer's own live lease counts as free: after a restart (or a reload of the
        // window) the task they were on must come back to them, not sit leased to nobody else
        q.push(" AND (lease_owner IS NULL OR lease_owner = ")
            .push_bind(reviewer.to_string())
            .push(" OR lease_expires_at < ")
            .push_bind(now_ms)
            .push(")");
        // a task of the team's queue only while the router leases it to this station
        q.push(" AND (shared_id IS NULL OR shared_until_ms > ")
            .push_bind(now_ms)
            .push(")");
        if !exclude.is_empty() {
            q.push(" AND id NOT IN (");
            let mut sep = q.separated(", ");
            for id in exclude {
                sep.push_bind(*id);
            }
            q.push(")");
        }
        q.push(filter.order_sql());
        q.push(format!(" LIMIT 1) RETURNING {TASK_COLUMNS}"));
        Ok(q.build_query_as().fetch_optional(&self.pool).await?)
    }

    /// Extends the reviewer's leases on these tasks (the one on screen and the pre-loaded
    /// one) to `now_ms + lease_ms`; returns the tasks that are still the reviewer's.
    pub async fn renew_leases(
        &self,
        reviewer: &str,
        task_ids: &[i64],
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<Vec<i64>> {
        let mut held = Vec::with_capacity(task_ids.len());
        for id in task_ids {
            let renewed = sqlx::query(
                "UPDATE review_tasks SET lease_owner = ?, lease_expires_at = ? \
                 WHERE id = ? AND state = 'open' \
                 AND (lease_owner = ? OR lease_owner IS NULL OR lease_expires_at < ?)",
            )
            .bind(reviewer)
            .bind(now_ms + lease_ms)
            .bind(id)
            .bind(reviewer)
            .bind(now_ms)
            .execute(&self.pool)
            .await?
            .rows_affected();
            if renewed == 1 {
                held.push(*id);
            }
        }
        Ok(held)
    }

    /// Gives a leased task back to the queue. Returns false when `reviewer` did not hold it.
    pub async fn release_task(&self, task_id: i64, reviewer: &str) -> Result<bool> {
        Ok(sqlx::query(
            "UPDATE review_tasks SET lease_owner = NULL, lease_expires_at = NULL \
             WHERE id = ? AND state = 'open' AND lease_owner = ?",
        )
        .bind(task_id)
        .bind(reviewer)
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1)
    }

    /// Records a decision on a task: the task closes and the decision is chained to the last
    /// one, in one transaction. The reviewer must hold the task, or nobody may: a decision
    /// saved after the reviewer's lease ran out still counts unless another reviewer has
    /// claimed the task since. Fails with `TaskNotHeld` when the task is decided already or
    /// leased to someone else.
    pub async fn decide_task(
        &self,
        task_id: i64,
        reviewer: &str,
        decision: &NewDecision,
        now_ms: i64,
    ) -> Result<DecisionRow> {
        let mut tx = self.pool.begin().await?;
        // the write comes first, so the transaction holds the write lock from here on
        let closed = sqlx::query(
            "UPDATE review_tasks SET state = 'decided', lease_owner = NULL, lease_expires_at = NULL \
             WHERE id = ? AND state = 'open' \
             AND (lease_owner = ? OR lease_owner IS NULL OR lease_expires_at < ?)",
        )
        .bind(task_id)
        .bind(reviewer)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if closed != 1 {
            return Err(StoreError::TaskNotHeld(task_id));
        }
        let seal = self.audit_seal();
        let row = append_decision(&mut tx, task_id, reviewer, decision, seal.as_ref()).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Takes back the reviewer's standing decision on a task: an `undo` row is appended and the
    /// task is open again, leased to the same reviewer.
    pub async fn undo_decision(
        &self,
        task_id: i64,
        reviewer: &str,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<DecisionRow> {
        let mut tx = self.pool.begin().await?;
        let reopened = sqlx::query(
            "UPDATE review_tasks SET state = 'open', lease_owner = ?, lease_expires_at = ? \
             WHERE id = ? AND state = 'decided'",
        )
        .bind(reviewer)
        .bind(now_ms + lease_ms)
        .bind(task_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let last: Option<DecisionRow> = sqlx::query_as(&format!(
            "SELECT {DECISION_COLUMNS} FROM review_decisions WHERE task_id = ? ORDER BY id DESC LIMIT 1"
        ))
        .bind(task_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(last) =
            last.filter(|d| reopened == 1 && d.action != "undo" && d.reviewer == reviewer)
        else {
            return Err(StoreError::NothingToUndo(task_id));
        };
        let undo = NewDecision {
            action: DecisionAction::Undo,
            reason_code: Some(format!("{UNDO_PREFIX}{}", last.id)),
            before_json: last.after_json,
            after_json: last.before_json,
            duration_ms: 0,
            diff_json: last.diff_json,
            versions: last.versions,
        };
        let seal = self.audit_seal();
        let row = append_decision(&mut tx, task_id, reviewer, &undo, seal.as_ref()).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Decisions in chain order, `limit` from `after_id`.
    pub async fn decisions(&self, after_id: i64, limit: u32) -> Result<Vec<DecisionRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {DECISION_COLUMNS} FROM review_decisions WHERE id > ? ORDER BY id LIMIT ?"
        ))
        .bind(after_id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?)
    }

    /// Decision `id`'s hash and how many decisions the chain holds up to it, if it exists.
    pub async fn decision_at(&self, id: i64) -> Result<Option<(u64, String)>> {
        let row: Option<(String, i64)> = sqlx::query_as(
            "SELECT hash, (SELECT COUNT(*) FROM review_decisions WHERE id <= ?1) \
             FROM review_decisions WHERE id = ?1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(hash, n)| (u64::try_from(n).unwrap_or(0), hash)))
    }

    /// The chain's head as recorded beside it: decisions, last id, last hash.
    pub async fn chain_head(&self) -> Result<(u64, i64, String)> {
        let head: Option<(i64, i64, String)> = sqlx::query_as(
            "SELECT decisions, last_id, last_hash FROM review_chain_head WHERE id = 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        Ok(
            head.map_or((0, 0, GENESIS_HASH.to_string()), |(n, id, hash)| {
                (u64::try_from(n).unwrap_or(0), id, hash)
            }),
        )
    }

    /// Walks the whole chain: the number of rows when intact, else the first row that does not
    /// follow from its predecessor (changed content, a row removed before it, a row inserted),
    /// or — when the rows end before the recorded head — the first missing one. With the
    /// audit key set, every row it covers and the head must carry its seal too (a row inserted,
    /// a head rewritten or the whole chain recomputed by someone without the key).
    pub async fn verify_decisions(&self) -> Result<Result<u64, ChainBreak>> {
        let seal = self.audit_seal();
        let (head_count, head_id, head_hash) = self.chain_head().await?;
        let mut prev_hash = GENESIS_HASH.to_string();
        let mut after = 0;
        let mut count = 0u64;
        loop {
            let rows = self.decisions(after, 1000).await?;
            if rows.is_empty() {
                if count != head_count || prev_hash != head_hash {
                    return Ok(Err(ChainBreak {
                        decision_id: after + 1,
                        problem: format!(
                            "the chain ends at decision {after} after {count} rows, but its head records {head_count} rows ending at decision {head_id}: the rows after {after} were removed"
                        ),
                    }));
                }
                if let Some(seal) = seal.as_ref().filter(|s| s.covers(head_id)) {
                    let stored: Option<String> =
                        sqlx::query_scalar("SELECT seal FROM review_chain_head WHERE id = 1")
                            .fetch_optional(&self.pool)
                            .await?
                            .flatten();
                    if stored.as_deref()
                        != Some(seal.head(head_count, head_id, &head_hash).as_str())
                    {
                        return Ok(Err(ChainBreak {
                            decision_id: head_id,
                            problem: "the chain's head does not carry the station's seal: it was rewritten without the audit key".into(),
                        }));
                    }
                }
                return Ok(Ok(count));
            }
            for row in rows {
                if row.prev_hash != prev_hash {
                    return Ok(Err(ChainBreak {
                        decision_id: row.id,
                        problem: format!(
                            "its previous-row hash does not match decision {after}: a row before it was removed or changed"
                        ),
                    }));
                }
                let expected = chain_hash(
                    &row.prev_hash,
                    row.id,
                    row.task_id,
                    &row.reviewer,
                    // the stored word, whatever it is: a changed one must change the hash
                    &row.action,
                    &NewDecision {
                        action: DecisionAction::Approve,
                        reason_code: row.reason_code.clone(),
                        before_json: row.before_json.clone(),
                        after_json: row.after_json.clone(),
                        duration_ms: row.duration_ms,
                        diff_json: row.diff_json.clone(),
                        versions: row.versions.clone(),
                    },
                    &row.decided_at,
                );
                if expected != row.hash {
                    return Ok(Err(ChainBreak {
                        decision_id: row.id,
                        problem: "its content does not match its hash: the row was changed".into(),
                    }));
                }
                if let Some(problem) = seal
                    .as_ref()
                    .and_then(|s| crate::audit_seal::row_problem(s, &row))
                {
                    return Ok(Err(ChainBreak {
                        decision_id: row.id,
                        problem,
                    }));
                }
                prev_hash = row.hash;
                after = row.id;
                count += 1;
            }
        }
    }
}

async fn insert_tasks(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    tasks: &[NewTask],
) -> Result<Vec<i64>> {
    let now = now_rfc3339();
    let mut ids = Vec::with_capacity(tasks.len());
    for t in tasks {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO review_tasks (item_id, kind, store_id, confidence, reasons, created_at, due_at, model_output, versions) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(t.item_id)
        .bind(t.kind.as_str())
        .bind(&t.store_id)
        .bind(t.confidence)
        .bind(&t.reasons)
        .bind(&now)
        .bind(&t.due_at)
        .bind(&t.model_output)
        .bind(&t.versions)
        .fetch_one(&mut **tx)
        .await?;
        // raised on the router's shared queue when this station syncs (a task whose item has no
        // bytes to show another station stays local)
        sqlx::query(
            "INSERT INTO outbox (kind, item_id, idempotency_key, input_json, blobs_json, created_at, updated_at) \
             SELECT ?, t.item_id, 'raise/task-' || t.id, json_object('task_id', t.id), \
                    json_array(i.blob_sha256), ?, ? \
             FROM review_tasks t JOIN items i ON i.id = t.item_id \
             WHERE t.id = ? AND i.blob_sha256 IS NOT NULL ON CONFLICT(idempotency_key) DO NOTHING",
        )
        .bind(crate::RAISE_TASK)
        .bind(&now)
        .bind(&now)
        .bind(id)
        .execute(&mut **tx)
        .await?;
        ids.push(id);
    }
    Ok(ids)
}

async fn append_decision(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    task_id: i64,
    reviewer: &str,
    d: &NewDecision,
    seal: Option<&AuditSeal>,
) -> Result<DecisionRow> {
    let last: Option<(i64, String)> =
        sqlx::query_as("SELECT id, hash FROM review_decisions ORDER BY id DESC LIMIT 1")
            .fetch_optional(&mut **tx)
            .await?;
    let (last_id, prev_hash) = last.unwrap_or((0, GENESIS_HASH.to_string()));
    let id = last_id + 1;
    let at = now_rfc3339();
    let hash = chain_hash(&prev_hash, id, task_id, reviewer, d.action.as_str(), d, &at);
    let seal = seal.filter(|s| s.covers(id));
    let row_seal = seal.map(|s| s.row(&hash));
    sqlx::query(
        "INSERT INTO review_decisions (id, task_id, reviewer, action, reason_code, before_json, after_json, decided_at, duration_ms, diff_json, versions, prev_hash, hash, seal) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id)
    .bind(task_id)
    .bind(reviewer)
    .bind(d.action.as_str())
    .bind(&d.reason_code)
    .bind(&d.before_json)
    .bind(&d.after_json)
    .bind(&at)
    .bind(d.duration_ms)
    .bind(&d.diff_json)
    .bind(&d.versions)
    .bind(&prev_hash)
    .bind(&hash)
    .bind(&row_seal)
    .execute(&mut **tx)
    .await?;
    // the head, moved by its trigger, sealed in the same transaction
    if let Some(seal) = seal {
        let decisions: i64 =
            sqlx::query_scalar("SELECT decisions FROM review_chain_head WHERE id = 1")
                .fetch_one(&mut **tx)
                .await?;
        sqlx::query("UPDATE review_chain_head SET seal = ? WHERE id = 1")
            .bind(seal.head(u64::try_from(decisions).unwrap_or(0), id, &hash))
            .execute(&mut **tx)
            .await?;
    }
    // the correction bound for the router's evaluation store, in the decision's transaction;
    // its key is the decision's hash, which the router stores once
    sqlx::query(
        "INSERT INTO outbox (kind, item_id, idempotency_key, input_json, created_at, updated_at) \
         SELECT ?, t.item_id, ?, json_object('decision_hash', ?, 'kind', t.kind, 'task_id', t.id, \
                'item_id', t.item_id, 'store_id', t.store_id, 'action', ?, 'reason_code', ?, \
                'reviewer', ?, 'before', json(?), 'after', json(?), 'diff', json(?), \
                'model_output', json(t.model_output), 'versions', t.versions, 'decided_at', ?), ?, ? \
         FROM review_tasks t WHERE t.id = ? ON CONFLICT(idempotency_key) DO NOTHING",
    )
    .bind(crate::CORRECTION)
    .bind(&hash)
    .bind(&hash)
    .bind(d.action.as_str())
    .bind(&d.reason_code)
    .bind(reviewer)
    .bind(&d.before_json)
    .bind(&d.after_json)
    .bind(&d.diff_json)
    .bind(&at)
    .bind(&at)
    .bind(&at)
    .bind(task_id)
    .execute(&mut **tx)
    .await?;
    // a decision on a task of the team's queue (raised or claimed) goes to the router too, which
    // records it only from the station holding the task; an undo stays local
    if d.action != DecisionAction::Undo {
        sqlx::query(
            "INSERT INTO outbox (kind, item_id, idempotency_key, input_json, created_at, updated_at) \
             SELECT ?, t.item_id, 'decision/' || ?, json_object('task_id', t.id, 'decision_hash', ?, \
                    'action', ?, 'before', json(?), 'after', json(?), 'reviewer', ?, 'decided_at', ?), ?, ? \
             FROM review_tasks t WHERE t.id = ? AND (t.shared_id IS NOT NULL OR EXISTS \
                    (SELECT 1 FROM outbox o WHERE o.idempotency_key = 'raise/task-' || t.id)) \
             ON CONFLICT(idempotency_key) DO NOTHING",
        )
        .bind(crate::SHARED_DECISION)
        .bind(&hash)
        .bind(&hash)
        .bind(d.action.as_str())
        .bind(&d.before_json)
        .bind(&d.after_json)
        .bind(reviewer)
        .bind(&at)
        .bind(&at)
        .bind(&at)
        .bind(task_id)
        .execute(&mut **tx)
        .await?;
    }
    Ok(DecisionRow {
        id,
        task_id,
        reviewer: reviewer.to_string(),
        action: d.action.as_str().to_string(),
        reason_code: d.reason_code.clone(),
        before_json: d.before_json.clone(),
        after_json: d.after_json.clone(),
        decided_at: at,
        duration_ms: d.duration_ms,
        diff_json: d.diff_json.clone(),
        versions: d.versions.clone(),
        prev_hash,
        hash,
        seal: row_seal,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_covers_every_field() {
        let d = NewDecision {
            action: DecisionAction::Approve,
            reason_code: None,
            before_json: "{}".into(),
            after_json: "{}".into(),
            duration_ms: 5,
            diff_json: "[]".into(),
            versions: "{}".into(),
        };
        let base = chain_hash(GENESIS_HASH, 1, 2, "ana", "approve", &d, "t");
        assert_ne!(
            base,
            chain_hash(GENESIS_HASH, 1, 2, "bo", "approve", &d, "t")
        );
        assert_ne!(
            base,
            chain_hash(GENESIS_HASH, 2, 2, "ana", "approve", &d, "t")
        );
        assert_ne!(
            base,
            chain_hash(GENESIS_HASH, 1, 2, "ana", "reject", &d, "t")
        );
        let mut e = d.clone();
        e.after_json = "{\"total\":1}".into();
        assert_ne!(
            base,
            chain_hash(GENESIS_HASH, 1, 2, "ana", "approve", &e, "t")
        );
        let mut e = d.clone();
        e.reason_code = Some(String::new());
        assert_ne!(
            base,
            chain_hash(GENESIS_HASH, 1, 2, "ana", "approve", &e, "t")
        );
        let mut e = d;
        e.versions = "{\"model\":\"v2\"}".into();
        assert_ne!(
            base,
            chain_hash(GENESIS_HASH, 1, 2, "ana", "approve", &e, "t")
        );
    }
}

//! The team's shared review queue: tasks live on the router, raised by a station (or by the
//! router itself when a compliance check comes back doubtful); each station claims a window of
//! them under a lease, so two reviewers never work on the same task. A claim is one `UPDATE`
//! (SQLite runs one writer at a time; PostgreSQL locks the picked rows and skips rows another
//! claim holds: two stations claiming at once get disjoint tasks). A
//! decision counts only from the lease's holder; the holder is kept after its lease runs out, so
//! its decision still counts until another station claims the task. Every decision also lands
//! in the evaluation store as a correction.

use std::collections::HashSet;

use protocol::station_api::{Claim, Correction, NewTask, SharedDecision, SharedTask};
use protocol::{DecisionAction, ResultKind};
use serde_json::{json, Value};

use crate::ledger::now_rfc3339;

/// The columns a [`TaskRow`] is read from.
const COLUMNS: &str =
    "id, origin_device, task_key, item_sha256, blobs, kind, store_id, confidence, \
    reasons, model_output, versions, created_at, lease_device, leased_at_ms, lease_until_ms";

/// Most tasks one claim leases.
pub const MAX_CLAIM: u32 = 200;
/// Shortest and longest lease, in seconds.
pub const LEASE_S: std::ops::RangeInclusive<u32> = 30..=3600;
/// Most ids one renewal or release names.
pub const MAX_IDS: usize = 500;

#[derive(Debug, sqlx::FromRow)]
struct TaskRow {
    id: i64,
    origin_device: i64,
    task_key: String,
    item_sha256: String,
    blobs: String,
    kind: String,
    store_id: String,
    confidence: f64,
    reasons: String,
    model_output: String,
    versions: String,
    created_at: String,
    lease_device: Option<i64>,
    leased_at_ms: Option<i64>,
    lease_until_ms: Option<i64>,
}

impl TaskRow {
    /// The task as `device` sees it: the lease's end only when it is that device's.
    fn for_device(self, device: i64) -> SharedTask {
        let lease_expires_at = self
            .lease_until_ms
            .filter(|_| self.lease_device == Some(device))
            .map(rfc3339_ms);
        SharedTask {
            id: self.id,
            origin_device: self.origin_device,
            task_key: self.task_key,
            item_sha256: self.item_sha256,
            blobs: serde_json::from_str(&self.blobs).unwrap_or_default(),
            kind: self.kind,
            store_id: self.store_id,
            confidence: self.confidence,
            reasons: serde_json::from_str(&self.reasons).unwrap_or_default(),
            model_output: serde_json::from_str(&self.model_output).unwrap_or(Value::Null),
            versions: self.versions,
            created_at: self.created_at,
            lease_expires_at,
        }
    }
}

pub fn now_ms() -> i64 {
    i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000)
        .unwrap_or(i64::MAX)
}

pub fn rfc3339_ms(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// What is wrong with a task a station raises, if anything (the blobs' presence is checked
/// apart, against the blob store).
pub fn check_new(task: &NewTask) -> Result<(), String> {
    if task.task_key.is_empty() || task.task_key.len() > 200 {
        return Err("task_key is the station's id for the task: 1 to 200 characters".into());
    }
    if !crate::blobs::valid_name(&task.item_sha256) {
        return Err("item_sha256 is a sha256: 64 lowercase hex digits".into());
    }
    if let Some(bad) = task.blobs.iter().find(|b| !crate::blobs::valid_name(b)) {
        return Err(format!("blob {bad:?} is not a sha256 name"));
    }
    if task.kind.parse::<ResultKind>().is_err() {
        return Err(format!(
            "kind {:?} is not a result kind (compliance, invoice, legal)",
            task.kind
        ));
    }
    if task.store_id.is_empty() || task.store_id.len() > 200 {
        return Err("store_id is 1 to 200 characters".into());
    }
    if !(0.0..=1.0).contains(&task.confidence) {
        return Err("confidence is between 0 and 1".into());
    }
    Ok(())
}

/// Raises a task once per (device, task key): `(task, true)` when it is new, else the task as
/// first raised.
pub async fn raise(
    db: &crate::db::Db,
    device: i64,
    task: &NewTask,
) -> Result<(SharedTask, bool), sqlx::Error> {
    crate::with_db!(db, pool => {
        // held by the raiser from the start when it asks: nobody claims what it may be deciding
        let hold = task
            .hold_s
            .map(|s| now_ms() + i64::from(s.clamp(30, 3600)) * 1000);
        let inserted: Option<TaskRow> = sqlx::query_as(&format!(
            "INSERT INTO shared_tasks (origin_device, task_key, item_sha256, blobs, kind, store_id, confidence,
            reasons, model_output, versions, created_at, lease_device, leased_at_ms, lease_until_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
         ON CONFLICT (origin_device, task_key) DO NOTHING RETURNING {COLUMNS}"
        ))
        .bind(device)
        .bind(&task.task_key)
        .bind(&task.item_sha256)
        .bind(Value::from(task.blobs.clone()).to_string())
        .bind(&task.kind)
        .bind(&task.store_id)
        .bind(task.confidence)
        .bind(Value::from(task.reasons.clone()).to_string())
        .bind(task.model_output.to_string())
        .bind(&task.versions)
        .bind(now_rfc3339())
        .bind(hold.map(|_| device))
        .bind(hold.map(|_| now_ms()))
        .bind(hold)
        .fetch_optional(pool)
        .await?;
        if let Some(row) = inserted {
            return Ok((row.for_device(device), true));
        }
        let row: TaskRow = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM shared_tasks WHERE origin_device = $1 AND task_key = $2"
        ))
        .bind(device)
        .bind(&task.task_key)
        .fetch_one(pool)
        .await?;
        Ok((row.for_device(device), false))
    })
}

/// Why a compliance check's answer needs a reviewer: its least sure rule's confidence, and a
/// reason per doubtful rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Doubt {
    pub confidence: f64,
    pub reasons: Vec<String>,
}

/// A compliance answer is doubtful when a rule is undecided (`passed: null`) or less sure than
/// `below`; `None` when every rule is decided surely enough.
pub fn doubts(result: &Value, below: f64) -> Option<Doubt> {
    let rules = result.get("rules").and_then(Value::as_array)?;
    let mut reasons = Vec::new();
    let mut least = 1.0_f64;
    for rule in rules {
        let id = rule.get("id").and_then(Value::as_str).unwrap_or("?");
        let confidence = rule
            .get("confidence")
            .and_then(Value::as_f64)
            .unwrap_or(0.0);
        least = least.min(confidence);
        if rule.get("passed").is_none_or(Value::is_null) {
            reasons.push(format!("rule {id}: the model could not decide"));
        } else if confidence < below {
            reasons.push(format!(
                "rule {id}: confidence {confidence:.2} under {below}"
            ));
        }
    }
    (!reasons.is_empty()).then_some(Doubt {
        confidence: least.clamp(0.0, 1.0),
        reasons,
    })
}

/// A finished compliance job the router raises a task for.
#[derive(Debug)]
pub struct JobDoubt<'a> {
    pub job_id: i64,
    pub device: i64,
    pub input: &'a Value,
    pub result: &'a Value,
    pub prompt_version: &'a str,
    pub doubt: Doubt,
}

/// Raises the shared task of a doubtful job (once: its key is `job:<id>`).
pub async fn raise_for_job(db: &crate::db::Db, job: &JobDoubt<'_>) -> Result<i64, sqlx::Error> {
    let photo = job
        .input
        .get("photo_sha256")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let task = NewTask {
        task_key: format!("job:{}", job.job_id),
        item_sha256: photo.clone(),
        blobs: vec![photo],
        kind: ResultKind::Compliance.as_str().to_owned(),
        store_id: job
            .input
            .get("store_id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        confidence: job.doubt.confidence,
        reasons: job.doubt.reasons.clone(),
        model_output: json!({"job_id": job.job_id, "result": job.result, "input": job.input}),
        versions: job.prompt_version.to_owned(),
        hold_s: None,
    };
    raise(db, job.device, &task).await.map(|(task, _)| task.id)
}

/// Leases up to `claim.max` open tasks to `device`: those it holds first (renewed), then the
/// least sure. One statement, so a task goes to one station however many claim at once.
pub async fn claim(
    db: &crate::db::Db,
    device: i64,
    claim: &Claim,
) -> Result<Vec<SharedTask>, sqlx::Error> {
    crate::with_db!(db, pool => {
        let now = now_ms();
        let until = now + i64::from(claim.lease_s) * 1000;
        // PostgreSQL picks from its snapshot, so a concurrent claim could pick the same rows:
        // they are locked as picked (rows another claim holds are skipped) and the UPDATE
        // re-checks the lease on each row as it is then. The pick is a CTE so it runs once: as a
        // subquery the planner may rescan it, and each rescan skips the rows this statement has
        // just updated and picks more. SQLite runs one writer at a time and needs no lock.
        let lock = if db.is_postgres() { "FOR UPDATE SKIP LOCKED" } else { "" };
        // every SET expression sees the row as it was: `leased_at_ms` stays for a task this
        // device held already, which is how the answer puts those first
        let mut rows: Vec<TaskRow> = sqlx::query_as(&format!(
            "WITH picked AS (SELECT id FROM shared_tasks WHERE decided_by IS NULL
            AND (lease_device IS NULL OR lease_device = $1 OR lease_until_ms <= $2)
            AND ($4 IS NULL OR kind = $4) AND ($5 IS NULL OR store_id = $5)
            ORDER BY lease_device IS NOT DISTINCT FROM $1 DESC, confidence, id LIMIT $6 {lock})
         UPDATE shared_tasks SET
            leased_at_ms = CASE WHEN lease_device IS NOT DISTINCT FROM $1 THEN leased_at_ms ELSE $2 END,
            lease_device = $1, lease_until_ms = $3
         WHERE id IN (SELECT id FROM picked) AND decided_by IS NULL
           AND (lease_device IS NULL OR lease_device = $1 OR lease_until_ms <= $2)
         RETURNING {COLUMNS}"
        ))
        .bind(device)
        .bind(now)
        .bind(until)
        .bind(&claim.kind)
        .bind(&claim.store_id)
        .bind(i64::from(claim.max))
        .fetch_all(pool)
        .await?;
        rows.sort_by(|a, b| {
            let held = |r: &TaskRow| r.leased_at_ms.is_some_and(|at| at < now);
            held(b)
                .cmp(&held(a))
                .then(a.confidence.total_cmp(&b.confidence))
                .then(a.id.cmp(&b.id))
        });
        Ok(rows.into_iter().map(|r| r.for_device(device)).collect())
    })
}

/// The ids of a JSON array bound as text, as a subquery: SQLite's json_each, PostgreSQL's
/// json_array_elements_text.
fn json_ids(db: &crate::db::Db, param: &str) -> String {
    if db.is_postgres() {
        format!("SELECT value::bigint FROM json_array_elements_text({param}::json)")
    } else {
        format!("SELECT value FROM json_each({param})")
    }
}

/// The ids in `asked` (without repeats, in order) that are not in `done`.
fn missing(asked: &[i64], done: &[i64]) -> Vec<i64> {
    let done: HashSet<i64> = done.iter().copied().collect();
    let mut seen = HashSet::new();
    asked
        .iter()
        .copied()
        .filter(|id| !done.contains(id) && seen.insert(*id))
        .collect()
}

/// Extends the leases `device` still holds among `ids`: `(renewed, lost, new end in ms)`.
pub async fn renew(
    db: &crate::db::Db,
    device: i64,
    ids: &[i64],
    lease_s: u32,
) -> Result<(Vec<i64>, Vec<i64>, i64), sqlx::Error> {
    crate::with_db!(db, pool => {
        let until = now_ms() + i64::from(lease_s) * 1000;
        let sql = format!(
            "UPDATE shared_tasks SET lease_until_ms = $1 WHERE lease_device = $2 AND decided_by IS NULL
               AND id IN ({}) RETURNING id",
            json_ids(db, "$3")
        );
        let mut renewed: Vec<i64> = sqlx::query_scalar(&sql)
        .bind(until)
        .bind(device)
        .bind(Value::from(ids.to_vec()).to_string())
        .fetch_all(pool)
        .await?;
        renewed.sort_unstable();
        let lost = missing(ids, &renewed);
        Ok((renewed, lost, until))
    })
}

/// Gives back the tasks `device` holds among `ids`; returns those it gave back.
pub async fn release(
    db: &crate::db::Db,
    device: i64,
    ids: &[i64],
) -> Result<Vec<i64>, sqlx::Error> {
    crate::with_db!(db, pool => {
        let sql = format!(
            "UPDATE shared_tasks SET lease_device = NULL, leased_at_ms = NULL, lease_until_ms = NULL
             WHERE lease_device = $1 AND decided_by IS NULL AND id IN ({}) RETURNING id",
            json_ids(db, "$2")
        );
        let mut released: Vec<i64> = sqlx::query_scalar(&sql)
        .bind(device)
        .bind(Value::from(ids.to_vec()).to_string())
        .fetch_all(pool)
        .await?;
        released.sort_unstable();
        Ok(released)
    })
}

/// What became of a decision.
#[derive(Debug, PartialEq, Eq)]
pub enum Decided {
    Recorded,
    /// The same decision (hash) was recorded before: nothing is recorded twice.
    Repeat,
    NotFound,
    /// Another station holds the task (`Some`), or nobody does (released, never claimed).
    LeaseLost {
        holder: Option<i64>,
    },
    /// This station decided the task already, otherwise.
    DecidedAlready,
}

/// What is wrong with a decision, if anything.
pub fn check_decision(decision: &SharedDecision) -> Result<(), String> {
    match decision.action.parse::<DecisionAction>() {
        Ok(DecisionAction::Undo) => {
            return Err("a shared task's decision is final: an undo stays on the station".into())
        }
        Ok(_) => {}
        Err(_) => {
            return Err(format!(
                "action {:?} is not approve, reject or correct",
                decision.action
            ))
        }
    }
    if !crate::blobs::valid_name(&decision.decision_hash) {
        return Err("decision_hash is a sha256: 64 lowercase hex digits".into());
    }
    if decision.reviewer.trim().is_empty() {
        return Err("reviewer names who decided".into());
    }
    Ok(())
}

/// Records `device`'s decision on task `id` if it holds the lease, with its correction for the
/// evaluation store, in one transaction.
pub async fn decide(
    db: &crate::db::Db,
    device: i64,
    id: i64,
    decision: &SharedDecision,
) -> Result<Decided, sqlx::Error> {
    crate::with_db!(db, pool => {
        let mut tx = pool.begin().await?;
        // the write comes first: the transaction holds SQLite's write lock from here, so the lease
        // cannot change hands between this check and the correction. The station that decided a
        // task may decide it again (its reviewer undid and decided anew): the task takes its latest
        // decision, and the evaluation store keeps both, each once
        let taken: Option<TaskRow> = sqlx::query_as(&format!(
            "UPDATE shared_tasks SET decided_by = $1, decision_hash = $2, decision = $3, decided_at = $4
         WHERE id = $5 AND ((lease_device = $1 AND decided_by IS NULL)
                            OR (decided_by = $1 AND decision_hash <> $2)) RETURNING {COLUMNS}"
        ))
        .bind(device)
        .bind(&decision.decision_hash)
        .bind(serde_json::to_string(decision).unwrap_or_default())
        .bind(now_rfc3339())
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(task) = taken else {
            let row: Option<(Option<i64>, Option<i64>, Option<String>)> = sqlx::query_as(
                "SELECT lease_device, decided_by, decision_hash FROM shared_tasks WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
            tx.rollback().await?;
            return Ok(match row {
                None => Decided::NotFound,
                Some((_, Some(by), Some(hash))) if by == device && hash == decision.decision_hash => {
                    Decided::Repeat
                }
                Some((holder, _, _)) if holder != Some(device) => Decided::LeaseLost { holder },
                Some(_) => Decided::DecidedAlready,
            });
        };
        let mut rest = serde_json::Map::new();
        for (key, value) in [
            ("source", json!("shared_queue")),
            ("task_id", json!(task.id)),
            ("task_key", json!(task.task_key)),
            ("origin_device", json!(task.origin_device)),
            ("store_id", json!(task.store_id)),
            ("item_sha256", json!(task.item_sha256)),
            ("versions", json!(task.versions)),
            (
                "model_output",
                serde_json::from_str(&task.model_output).unwrap_or(Value::Null),
            ),
            ("action", json!(decision.action)),
            ("before", decision.before.clone()),
            ("after", decision.after.clone()),
            ("reviewer", json!(decision.reviewer)),
            ("decided_at", json!(decision.decided_at)),
        ] {
            rest.insert(key.to_owned(), value);
        }
        let correction = Correction {
            decision_hash: decision.decision_hash.clone(),
            kind: task.kind.clone(),
            rest,
        };
        crate::jobs::store_correction(&mut *tx, device, &correction).await?;
        tx.commit().await?;
        Ok(Decided::Recorded)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_undecided_or_unsure_is_doubtful_and_the_least_sure_confidence_is_the_tasks() {
        let sure = json!({"rules": [{"id": "a", "passed": true, "confidence": 0.9, "reason": ""}]});
        assert_eq!(doubts(&sure, 0.6), None);
        let unsure = json!({"rules": [
            {"id": "a", "passed": true, "confidence": 0.9, "reason": ""},
            {"id": "b", "passed": false, "confidence": 0.4, "reason": ""},
            {"id": "c", "passed": null, "confidence": 0.8, "reason": ""}]});
        let doubt = doubts(&unsure, 0.6).expect("doubtful");
        assert!((doubt.confidence - 0.4).abs() < 1e-9);
        assert_eq!(doubt.reasons.len(), 2, "{:?}", doubt.reasons);
        assert!(doubt.reasons[1].contains("could not decide"));
        assert_eq!(doubts(&json!({"rules": []}), 0.6), None);
    }

    #[test]
    fn missing_lists_each_id_not_done_once() {
        assert_eq!(missing(&[3, 1, 3, 2], &[1]), vec![3, 2]);
    }

    #[test]
    fn a_lease_end_is_written_to_the_millisecond() {
        assert_eq!(rfc3339_ms(1_767_225_600_250), "2026-01-01T00:00:00.25Z");
    }
}

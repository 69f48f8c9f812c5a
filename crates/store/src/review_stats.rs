//! What the review decisions say, computed by SQLite: aggregates over the *standing* decisions
//! (each task's latest decision, unless that is an undo), so that metrics and charts cost one
//! query each instead of loading every decision with its JSON into memory; and the standing
//! decisions a page at a time for the evaluation export.

use crate::{DecisionRow, Result, Store, TaskRow};

// JSON tests use `IS`, never `=`: a missing key is NULL, and NOT (NULL …) would drop the row.

/// Each task's latest decision when it is not an undo (an undo takes its task's decision back).
const STANDING: &str = "standing AS (\
    SELECT d.* FROM review_decisions d \
    JOIN (SELECT task_id, MAX(id) AS last FROM review_decisions GROUP BY task_id) l \
      ON d.id = l.last \
    WHERE d.action != 'undo')";

/// The judged values of a standing decision's model output, one row per (decision, field):
/// a compliance result's verdict (`valid`), category (`category`) and rules (`rule:<id>`), or a
/// document's fields (top-level objects with a `confidence`). Rejections judge nothing.
const JUDGED: &str = "judged AS (\
    SELECT s.id, s.diff_json, t.kind, 'valid' AS field FROM standing s \
      JOIN review_tasks t ON t.id = s.task_id \
      WHERE s.action != 'reject' AND json_type(s.before_json, '$.rules') IS 'array' \
        AND COALESCE(json_type(s.before_json, '$.valid'), '') IN ('true', 'false') \
    UNION ALL \
    SELECT s.id, s.diff_json, t.kind, 'category' FROM standing s \
      JOIN review_tasks t ON t.id = s.task_id \
      WHERE s.action != 'reject' AND json_type(s.before_json, '$.rules') IS 'array' \
        AND COALESCE(json_type(s.before_json, '$.valid'), '') IN ('true', 'false') \
    UNION ALL \
    SELECT s.id, s.diff_json, t.kind, 'rule:' || json_extract(r.value, '$.id') FROM standing s \
      JOIN review_tasks t ON t.id = s.task_id, json_each(s.before_json, '$.rules') r \
      WHERE s.action != 'reject' AND json_type(s.before_json, '$.rules') IS 'array' \
        AND COALESCE(json_type(s.before_json, '$.valid'), '') IN ('true', 'false') \
        AND json_type(r.value, '$.id') IS 'text' \
    UNION ALL \
    SELECT s.id, s.diff_json, t.kind, f.key FROM standing s \
      JOIN review_tasks t ON t.id = s.task_id, json_each(s.before_json) f \
      WHERE s.action != 'reject' \
        AND NOT (json_type(s.before_json, '$.rules') IS 'array' \
                 AND COALESCE(json_type(s.before_json, '$.valid'), '') IN ('true', 'false')) \
        AND f.type = 'object' AND json_type(f.value, '$.confidence') IS NOT NULL)";

/// Standing decisions by outcome, and how many undos there were.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DecisionTotals {
    pub approved: u32,
    pub corrected: u32,
    pub rejected: u32,
    pub undone: u32,
}

/// One field of one result kind: decided how often, and how often the model's value stood.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FieldTally {
    pub kind: String,
    pub field: String,
    pub decided: i64,
    pub agreed: i64,
}

/// One threshold of the simulator over the standing decisions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThresholdTally {
    pub threshold: f64,
    /// Decided results under the threshold (it would send them to review).
    pub reviewed: u32,
    /// At or above it (accepted unseen) ...
    pub accepted: u32,
    /// ... of which the reviewer corrected or rejected.
    pub wrong: u32,
}

fn count(v: i64) -> u32 {
    u32::try_from(v.max(0)).unwrap_or(u32::MAX)
}

impl Store {
    pub async fn decision_totals(&self) -> Result<DecisionTotals> {
        let (approved, corrected, rejected): (i64, i64, i64) = sqlx::query_as(&format!(
            "WITH {STANDING} SELECT \
               COALESCE(SUM(action = 'approve'), 0), COALESCE(SUM(action = 'correct'), 0), \
               COALESCE(SUM(action NOT IN ('approve', 'correct')), 0) FROM standing"
        ))
        .fetch_one(&self.pool)
        .await?;
        let (undone,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM review_decisions WHERE action = 'undo'")
                .fetch_one(&self.pool)
                .await?;
        Ok(DecisionTotals {
            approved: count(approved),
            corrected: count(corrected),
            rejected: count(rejected),
            undone: count(undone),
        })
    }

    /// Each reviewer's median seconds per decision (the upper median of an even count), by name.
    pub async fn median_seconds_per_reviewer(&self) -> Result<Vec<(String, f64)>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(&format!(
            "WITH {STANDING}, ranked AS (\
               SELECT reviewer, duration_ms, \
                 ROW_NUMBER() OVER (PARTITION BY reviewer ORDER BY duration_ms) AS n, \
                 COUNT(*) OVER (PARTITION BY reviewer) AS total FROM standing) \
             SELECT reviewer, duration_ms FROM ranked WHERE n = total / 2 + 1 ORDER BY reviewer"
        ))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(reviewer, ms)| (reviewer, ms as f64 / 1000.0))
            .collect())
    }

    /// How often the reviewers kept the model's value, per result kind and field.
    pub async fn field_agreement(&self) -> Result<Vec<FieldTally>> {
        Ok(sqlx::query_as(&format!(
            "WITH {STANDING}, {JUDGED} \
             SELECT kind, field, COUNT(*) AS decided, \
               SUM(NOT EXISTS (SELECT 1 FROM json_each(judged.diff_json) c \
                               WHERE c.value = judged.field)) AS agreed \
             FROM judged GROUP BY kind, field ORDER BY kind, field"
        ))
        .fetch_all(&self.pool)
        .await?)
    }

    /// Per day (UTC): the gates' rejections that were reviewed, and how many the reviewer found
    /// valid after all (false rejects).
    pub async fn gate_overrides_per_day(&self) -> Result<Vec<(String, u32, u32)>> {
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(&format!(
            "WITH {STANDING} SELECT substr(decided_at, 1, 10) AS day, COUNT(*), \
               SUM(json_type(after_json, '$.valid') IS 'true') \
             FROM standing WHERE action != 'reject' AND json_type(before_json, '$.valid') IS 'false' \
             GROUP BY day ORDER BY day"
        ))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(day, n, overridden)| (day, count(n), count(overridden)))
            .collect())
    }

    /// Standing decisions per day (UTC).
    pub async fn decisions_per_day(&self) -> Result<Vec<(String, u32)>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(&format!(
            "WITH {STANDING} SELECT substr(decided_at, 1, 10) AS day, COUNT(*) FROM standing \
             GROUP BY day ORDER BY day"
        ))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(day, n)| (day, count(n))).collect())
    }

    /// For each threshold: how many decided results have a confidence under it, and of those
    /// at or above it, how many the reviewer did not approve as they were.
    pub async fn threshold_simulation(&self, thresholds: &[f64]) -> Result<Vec<ThresholdTally>> {
        if thresholds.is_empty() {
            return Ok(Vec::new());
        }
        // one pass: the standing decisions once, crossed with the thresholds
        let mut q = sqlx::QueryBuilder::new(format!("WITH {STANDING}, th(t) AS (VALUES "));
        let mut values = q.separated(", ");
        for &threshold in thresholds {
            values.push("(");
            values.push_bind_unseparated(threshold);
            values.push_unseparated(")");
        }
        q.push(
            ") SELECT th.t, COALESCE(SUM(d.confidence < th.t), 0), \
               COALESCE(SUM(d.confidence >= th.t), 0), \
               COALESCE(SUM(d.confidence >= th.t AND d.action != 'approve'), 0) \
             FROM th LEFT JOIN (SELECT t.confidence, s.action FROM standing s \
               JOIN review_tasks t ON t.id = s.task_id) d \
             GROUP BY th.t ORDER BY th.t",
        );
        let rows: Vec<(f64, i64, i64, i64)> = q.build_query_as().fetch_all(&self.pool).await?;
        Ok(rows
            .into_iter()
            .map(|(threshold, reviewed, accepted, wrong)| ThresholdTally {
                threshold,
                reviewed: count(reviewed),
                accepted: count(accepted),
                wrong: count(wrong),
            })
            .collect())
    }

    /// Standing decisions with their tasks in chain order, `limit` after decision `after_id`.
    pub async fn standing_decisions(
        &self,
        after_id: i64,
        limit: u32,
    ) -> Result<Vec<(DecisionRow, TaskRow)>> {
        let rows: Vec<DecisionRow> = sqlx::query_as(&format!(
            "WITH {STANDING} SELECT id, task_id, reviewer, action, reason_code, before_json, \
               after_json, decided_at, duration_ms, diff_json, versions, prev_hash, hash, seal \
             FROM standing WHERE id > ? ORDER BY id LIMIT ?"
        ))
        .bind(after_id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let task = self.get_task(row.task_id).await?;
            out.push((row, task));
        }
        Ok(out)
    }
}

//! The local engine's latencies and the reviewers' pace on this station, over a window of time,
//! for the admin dashboard: each engine step's run count and nearest-rank p50 / p95 from the
//! `analyses` rows, computed by SQLite; and each reviewer's standing decisions with their times,
//! reduced to items per hour of active reviewing and a median time per item.
//!
//! Windows are half-open, `[from, to)`, in RFC 3339 (any offset). Stored times and the bounds
//! are compared as instants by SQLite's `julianday`, to the millisecond (a fraction of a
//! millisecond is rounded), never as text: `…:00Z` and `…:00.5Z` do not sort as text does.

use sqlx::{QueryBuilder, Sqlite};

use crate::{Result, Store};

/// Each task's latest decision when it is not an undo (an undo takes its task's decision back):
/// the same standing decisions as the review metrics (`review_stats.rs`) count.
const STANDING: &str = "standing AS (\
    SELECT d.* FROM review_decisions d \
    JOIN (SELECT task_id, MAX(id) AS last FROM review_decisions GROUP BY task_id) l \
      ON d.id = l.last \
    WHERE d.action != 'undo')";

/// A gap between a reviewer's consecutive decisions longer than this is a break, not work.
pub const BREAK_AFTER_MS: i64 = 10 * 60 * 1000;

/// Which recorded analyses are runs of one engine step: the rows of `analyzer` that carry a
/// verdict (a row without one recorded an error: the file could not be decoded), except those
/// whose verdict is one of `except_verdicts` (an `ocr` row whose text came from a PDF's text
/// layer, say, is not an OCR run).
#[derive(Debug, Clone, Copy)]
pub struct StepRuns<'a> {
    pub analyzer: &'a str,
    pub except_verdicts: &'a [&'a str],
}

/// One step's runs in a window: how many, and the nearest-rank percentiles of their latency
/// (the `⌈p·n⌉`-th smallest; none without runs).
#[derive(Debug, Clone, PartialEq)]
pub struct StepLatencyRow {
    pub analyzer: String,
    pub count: u32,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
}

/// One reviewer's standing decisions in a window.
///
/// Active time: the reviewer's standing decisions in the window, in time order, are split into
/// runs wherever the gap since the previous one is over [`BREAK_AFTER_MS`] (10 minutes; a gap
/// of exactly 10 minutes is work). The first decision of a run counts its own recorded duration
/// (opening the item to deciding it), capped at 10 minutes, as a longer one held a break too;
/// every other decision counts the gap since the previous decision, which is the time spent on
/// it (and on anything undone in between). The first decision in the window always starts a
/// run: decisions before `from` are not looked at.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewerPaceRow {
    pub reviewer: String,
    /// Standing decisions (undone ones do not count).
    pub items: u32,
    /// Seconds of active reviewing, as defined above.
    pub active_seconds: f64,
    /// `items / (active_seconds / 3600)`; 0 when no active time was recorded.
    pub items_per_hour: f64,
    /// The median recorded duration in seconds (the upper median of an even count, as the
    /// review metrics' seconds per item).
    pub median_seconds: f64,
}

fn count(v: i64) -> u32 {
    u32::try_from(v.max(0)).unwrap_or(u32::MAX)
}

/// `AND <column> in [from, to)`, as instants.
fn push_window<'a>(q: &mut QueryBuilder<'a, Sqlite>, column: &str, from: &'a str, to: &'a str) {
    q.push(format!(" AND julianday({column}) >= julianday("));
    q.push_bind(from);
    q.push(format!(") AND julianday({column}) < julianday("));
    q.push_bind(to);
    q.push(")");
}

impl Store {
    /// For each step (in the order given): its runs recorded in `[from, to)` (see [`StepRuns`]),
    /// counted, with the nearest-rank p50 and p95 of `latency_ms` picked by SQLite.
    pub async fn step_latencies(
        &self,
        steps: &[StepRuns<'_>],
        from: &str,
        to: &str,
    ) -> Result<Vec<StepLatencyRow>> {
        let mut out = Vec::with_capacity(steps.len());
        for step in steps {
            let mut q = QueryBuilder::<Sqlite>::new(
                "WITH runs AS (SELECT latency_ms FROM analyses WHERE analyzer = ",
            );
            q.push_bind(step.analyzer);
            q.push(" AND verdict IS NOT NULL");
            if !step.except_verdicts.is_empty() {
                q.push(" AND verdict NOT IN (");
                let mut list = q.separated(", ");
                for verdict in step.except_verdicts {
                    list.push_bind(*verdict);
                }
                q.push(")");
            }
            push_window(&mut q, "created_at", from, to);
            // rank ⌈p·n⌉ in integers: ⌈n/2⌉ = (n + 1) / 2, ⌈95n/100⌉ = (95n + 99) / 100
            q.push(
                "), ranked AS (SELECT latency_ms, \
                   ROW_NUMBER() OVER (ORDER BY latency_ms) AS n, COUNT(*) OVER () AS total \
                   FROM runs) \
                 SELECT COUNT(*), \
                   MAX(CASE WHEN n = (total + 1) / 2 THEN latency_ms END), \
                   MAX(CASE WHEN n = (95 * total + 99) / 100 THEN latency_ms END) \
                 FROM ranked",
            );
            let (n, p50, p95): (i64, Option<f64>, Option<f64>) =
                q.build_query_as().fetch_one(&self.pool).await?;
            out.push(StepLatencyRow {
                analyzer: step.analyzer.to_string(),
                count: count(n),
                p50_ms: p50,
                p95_ms: p95,
            });
        }
        Ok(out)
    }

    /// The execution providers recorded on the analyses of `analyzers` in `[from, to)`: what
    /// the models behind those latencies ran on (`CPUExecutionProvider`, …), by name.
    pub async fn analysis_providers(
        &self,
        analyzers: &[&str],
        from: &str,
        to: &str,
    ) -> Result<Vec<String>> {
        if analyzers.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = QueryBuilder::<Sqlite>::new(
            "SELECT DISTINCT provider FROM analyses WHERE provider IS NOT NULL AND analyzer IN (",
        );
        let mut list = q.separated(", ");
        for analyzer in analyzers {
            list.push_bind(*analyzer);
        }
        q.push(")");
        push_window(&mut q, "created_at", from, to);
        q.push(" ORDER BY provider");
        let rows: Vec<(String,)> = q.build_query_as().fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(|(p,)| p).collect())
    }

    /// Each reviewer's pace over the standing decisions made in `[from, to)`, by name (see
    /// [`ReviewerPaceRow`] for what counts as active time).
    pub async fn reviewer_pace(&self, from: &str, to: &str) -> Result<Vec<ReviewerPaceRow>> {
        let mut q = QueryBuilder::<Sqlite>::new(format!(
            "WITH {STANDING} SELECT reviewer, \
               CAST(ROUND((julianday(decided_at) - 2440587.5) * 86400000.0) AS INTEGER) AS at_ms, \
               duration_ms FROM standing WHERE 1"
        ));
        push_window(&mut q, "decided_at", from, to);
        q.push(" ORDER BY reviewer, at_ms, id");
        let rows: Vec<(String, i64, i64)> = q.build_query_as().fetch_all(&self.pool).await?;

        let mut out = Vec::new();
        let mut rest = rows.as_slice();
        while let Some((reviewer, _, _)) = rest.first() {
            let len = rest.iter().take_while(|r| &r.0 == reviewer).count();
            let (mine, after) = rest.split_at(len);
            out.push(pace(reviewer, mine));
            rest = after;
        }
        Ok(out)
    }
}

/// One reviewer's pace from their decisions `(reviewer, at_ms, duration_ms)`, in time order.
fn pace(reviewer: &str, decisions: &[(String, i64, i64)]) -> ReviewerPaceRow {
    let mut active_ms: i64 = 0;
    let mut previous: Option<i64> = None;
    for &(_, at_ms, duration_ms) in decisions {
        active_ms += match previous {
            Some(prev) if at_ms - prev <= BREAK_AFTER_MS => (at_ms - prev).max(0),
            _ => duration_ms.clamp(0, BREAK_AFTER_MS),
        };
        previous = Some(at_ms);
    }
    let mut durations: Vec<i64> = decisions.iter().map(|d| d.2).collect();
    durations.sort_unstable();
    let median_ms = durations.get(durations.len() / 2).copied().unwrap_or(0);
    let items = count(i64::try_from(decisions.len()).unwrap_or(i64::MAX));
    let active_seconds = active_ms as f64 / 1000.0;
    ReviewerPaceRow {
        reviewer: reviewer.to_string(),
        items,
        active_seconds,
        items_per_hour: if active_ms > 0 {
            f64::from(items) * 3600.0 / active_seconds
        } else {
            0.0
        },
        median_seconds: median_ms as f64 / 1000.0,
    }
}

//! The end of the run: both SQLite files read directly (read-only) and compared, the logs read
//! for what must never be said, and the table printed.
//!
//! Past 600 lines because each of the promises is its own comparison here (jobs once,
//! no double charge, corrections once, the team's queue, photos, integrity, the audit chain and
//! the router's witness), each with the words of its finding; split, they would only pass the
//! same two databases around.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use sqlx::SqlitePool;

use super::parts::JOBS_MODEL;
use super::proxy::Stats;
use super::{Args, Done, Layout, Tally};

pub struct Inputs<'a> {
    pub layout: &'a Layout,
    pub args: &'a Args,
    pub done: &'a Done,
    pub tally: &'a Tally,
    pub proxy: &'a Stats,
    pub fake_stats: &'a [(String, serde_json::Value)],
    pub router_log: &'a Path,
    pub elapsed: Duration,
}

async fn open(path: &Path) -> SqlitePool {
    let url = format!("sqlite://{}?mode=ro", path.display());
    SqlitePool::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("{} opens read-only: {e}", path.display()))
}

/// A station job row: kind, key, state, the router's job id, reason, item.
type StationJob = (
    String,
    String,
    String,
    Option<i64>,
    Option<String>,
    Option<i64>,
);
/// A router job: id, key, state, error, attempts, finished seq.
type RouterJob = (i64, String, String, Option<String>, i64, Option<i64>);

#[derive(Debug, Default)]
struct Report {
    rows: Vec<(String, String)>,
    findings: Vec<String>,
    notes: Vec<String>,
}

impl Report {
    fn row(&mut self, what: &str, value: impl Into<String>) {
        self.rows.push((what.to_owned(), value.into()));
    }
    fn finding(&mut self, what: impl Into<String>) {
        self.findings.push(what.into());
    }
}

fn short(text: &str) -> String {
    let first: String = text.chars().take(220).collect();
    if first.len() < text.len() {
        format!("{first}…")
    } else {
        first
    }
}

impl Inputs<'_> {
    pub async fn check(self) -> bool {
        let mut report = Report::default();
        let station = open(&self.layout.station().join(station::DATABASE_FILE)).await;
        let router = open(&self.layout.router().join("router.db")).await;
        self.what_was_done(&mut report);
        let device: i64 = sqlx::query_scalar::<_, String>(
            "SELECT value FROM sync_state WHERE name = 'device_id'",
        )
        .fetch_optional(&station)
        .await
        .ok()
        .flatten()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
        if device == 0 {
            report.finding("the station never recorded its connection (no device id)");
        }
        let cursor: i64 = sqlx::query_scalar::<_, String>(
            "SELECT value FROM sync_state WHERE name = 'results_cursor'",
        )
        .fetch_optional(&station)
        .await
        .ok()
        .flatten()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
        jobs(&station, &router, device, cursor, &mut report).await;
        team_queue(&station, &router, device, &mut report).await;
        ledger(&router, device, &mut report).await;
        corrections(&station, &router, device, self.tally, &mut report).await;
        photos(&station, self.tally, &mut report).await;
        integrity(&station, &router, device, self.done, &mut report).await;
        self.logs(&mut report);
        station.close().await;
        router.close().await;
        print(&report, self.elapsed);
        report.findings.is_empty()
    }

    fn what_was_done(&self, report: &mut Report) {
        let d = self.done;
        let t = self.tally;
        report.row(
            "kills: station (SIGKILL)",
            format!(
                "{} of {} asked ({} before it was ready; {} lives got ready)",
                d.station_kills, self.args.station_kills, d.station_early_kills, d.lives_ready
            ),
        );
        report.row(
            "kills: router (SIGKILL)",
            format!(
                "{} of {} asked (down {:.1} s in all)",
                d.router_kills,
                self.args.router_kills,
                d.router_down.as_secs_f64()
            ),
        );
        let p = self.proxy;
        report.row(
            "proxy: connections",
            format!(
                "{} ({} refused while the router was down)",
                Stats::get(&p.connections),
                Stats::get(&p.refused)
            ),
        );
        report.row(
            "proxy: cut mid-body",
            format!(
                "{} (station→router {}, router→station {})",
                p.cuts(),
                Stats::get(&p.cut_up),
                Stats::get(&p.cut_down)
            ),
        );
        report.row(
            "proxy: stalled 1–4 s",
            format!(
                "{} (station→router {}, router→station {})",
                p.stalled(),
                Stats::get(&p.stalled_up),
                Stats::get(&p.stalled_down)
            ),
        );
        for (name, stats) in self.fake_stats {
            let faults = stats["by_fault"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| format!("{k} {v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            report.row(
                &format!("fake LLM {name}"),
                format!(
                    "{} requests; faults: {}",
                    stats["requests"],
                    if faults.is_empty() { "none" } else { &faults }
                ),
            );
        }
        let not_accepted = t
            .photos_not_accepted
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ");
        report.row(
            "work: photos",
            format!(
                "{} added ({} new, {} added again after a kill){}",
                t.photos.len(),
                t.photos_new,
                t.photos_again,
                if not_accepted.is_empty() {
                    String::new()
                } else {
                    format!("; not accepted: {not_accepted}")
                }
            ),
        );
        report.row(
            "work: decisions",
            format!("{} decided, {} undone", t.decisions.len(), t.undos.len()),
        );
        if !t.errors.is_empty() {
            let errors = t
                .errors
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ");
            report.row("station: errors said", errors);
            for example in t.error_examples.values() {
                report.notes.push(format!("e.g. {}", short(example)));
            }
        }
        report.row(
            "time",
            format!(
                "chaos {:.0} s, drain {:.0} s ({})",
                d.chaos_time.as_secs_f64(),
                d.drain_time.as_secs_f64(),
                d.drain_ended
            ),
        );
        for exit in &d.station_exits {
            report.finding(exit.clone());
        }
    }

    fn logs(&self, report: &mut Report) {
        let router_log = std::fs::read_to_string(self.router_log).unwrap_or_default();
        for (needle, what) in [
            (
                "diverged",
                "the router saw the station's audit history diverge",
            ),
            (
                "could not be recorded",
                "the router could not record a finished job",
            ),
            ("was not raised", "the router could not raise a shared task"),
            ("panicked", "the router panicked"),
        ] {
            let lines: Vec<&str> = router_log.lines().filter(|l| l.contains(needle)).collect();
            if let Some(first) = lines.first() {
                report.finding(format!(
                    "{what}: {} lines in router.log, e.g. {}",
                    lines.len(),
                    short(first)
                ));
            }
        }
        let station_log = std::fs::read_to_string(self.layout.station_log()).unwrap_or_default();
        let panics: Vec<&str> = station_log
            .lines()
            .filter(|l| l.contains("panicked"))
            .collect();
        if let Some(first) = panics.first() {
            report.finding(format!(
                "the station panicked {} times, e.g. {}",
                panics.len(),
                short(first)
            ));
        }
        // the station's warnings, by message (the fields after it vary)
        let mut warnings: BTreeMap<String, u64> = BTreeMap::new();
        for line in station_log.lines() {
            let Some(at) = line.find(" WARN ").or_else(|| line.find(" ERROR ")) else {
                continue;
            };
            let rest = &line[at..];
            let message = rest
                .split_once(": ")
                .map_or(rest, |(_, m)| m)
                .split(" row=")
                .next()
                .unwrap_or_default();
            let message: String = message
                .split_whitespace()
                .take_while(|w| !w.contains('='))
                .collect::<Vec<_>>()
                .join(" ");
            let level = if rest.starts_with(" WARN") {
                "WARN"
            } else {
                "ERROR"
            };
            *warnings.entry(format!("{level} {message}")).or_default() += 1;
        }
        for (message, n) in warnings {
            report.row("station log", format!("{n} × {}", short(&message)));
        }
    }
}

async fn jobs(
    station: &SqlitePool,
    router: &SqlitePool,
    device: i64,
    cursor: i64,
    report: &mut Report,
) {
    // the rows of LLM jobs (corrections and the team queue's rows are checked apart)
    let station_rows: Vec<StationJob> = sqlx::query_as(
        "SELECT kind, idempotency_key, state, job_id, reason, item_id FROM outbox \
         WHERE kind IN ('compliance_check', 'invoice_fields', 'legal_summary')",
    )
    .fetch_all(station)
    .await
    .expect("the station's outbox");
    let router_rows: Vec<RouterJob> = sqlx::query_as(
        "SELECT id, idempotency_key, state, error, attempts, finished_seq FROM jobs WHERE device_id = ?",
    )
    .bind(device)
    .fetch_all(router)
    .await
    .expect("the router's jobs");
    let mut by_key_station: BTreeMap<&str, Vec<&StationJob>> = BTreeMap::new();
    for row in &station_rows {
        by_key_station.entry(row.1.as_str()).or_default().push(row);
    }
    let mut by_key_router: BTreeMap<&str, Vec<&RouterJob>> = BTreeMap::new();
    for row in &router_rows {
        by_key_router.entry(row.1.as_str()).or_default().push(row);
    }
    let keys: BTreeSet<&str> = by_key_station
        .keys()
        .chain(by_key_router.keys())
        .copied()
        .collect();
    let mut done_both = 0;
    let mut failed_parked = 0;
    let mut parked: BTreeMap<String, u64> = BTreeMap::new();
    let mut problems: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut problem = |kind: &str, detail: String| {
        problems.entry(kind.to_owned()).or_default().push(detail);
    };
    for key in &keys {
        let s = by_key_station
            .get(key)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let r = by_key_router
            .get(key)
            .map(Vec::as_slice)
            .unwrap_or_default();
        if s.len() > 1 || r.len() > 1 {
            problem(
                "a job key more than once",
                format!("{key}: {} station rows, {} router jobs", s.len(), r.len()),
            );
            continue;
        }
        match (s.first(), r.first()) {
            (Some(s), Some(r)) => {
                let (_, _, s_state, s_job, s_reason, _) = s;
                let (r_id, _, r_state, r_error, _, r_seq) = r;
                if s_job.is_some_and(|j| j != *r_id) {
                    problem(
                        "the station's job id is not the router's",
                        format!("{key}: station {s_job:?}, router {r_id}"),
                    );
                }
                match (s_state.as_str(), r_state.as_str()) {
                    ("done", "done") => done_both += 1,
                    ("parked", "failed") => {
                        failed_parked += 1;
                        *parked
                            .entry(format!(
                                "{} (router: {})",
                                s_reason.as_deref().unwrap_or("?"),
                                r_error.as_deref().unwrap_or("?")
                            ))
                            .or_default() += 1;
                    }
                    ("waiting", "running") => problem(
                        "a job the router never finished (still `running` on the router, the station waits for it forever)",
                        format!("{key} (router job {r_id})"),
                    ),
                    ("waiting", "done" | "failed") if r_seq.is_some_and(|seq| seq <= cursor) => {
                        problem(
                            "a result passed over (the station's results cursor is past it, its row still waits)",
                            format!(
                                "{key}: router job {r_id} {r_state} as seq {}, station cursor {cursor}",
                                r_seq.unwrap_or_default()
                            ),
                        );
                    }
                    (s_state, r_state) => problem(
                        "a job not done on both sides",
                        format!(
                            "{key}: station {s_state}{}, router {r_state}{}",
                            s_reason
                                .as_deref()
                                .map(|r| format!(" ({})", short(r)))
                                .unwrap_or_default(),
                            r_error
                                .as_deref()
                                .map(|e| format!(" ({})", short(e)))
                                .unwrap_or_default()
                        ),
                    ),
                }
            }
            (Some((_, _, state, _, reason, _)), None) => problem(
                "a job that never reached the router",
                format!(
                    "{key}: station {state}{}",
                    reason
                        .as_deref()
                        .map(|r| format!(" ({})", short(r)))
                        .unwrap_or_default()
                ),
            ),
            (None, Some((id, _, state, _, _, _))) => problem(
                "a job on the router the station does not have",
                format!("{key}: router job {id} {state}"),
            ),
            (None, None) => {}
        }
    }
    let parked_rows: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT kind, reason FROM outbox WHERE state = 'parked' ORDER BY id")
            .fetch_all(station)
            .await
            .expect("the parked rows");
    let mut parked_reasons: BTreeMap<String, u64> = BTreeMap::new();
    for (kind, reason) in &parked_rows {
        let reason = reason.as_deref().unwrap_or("no reason");
        let explained = explained(kind, reason);
        if explained.is_none() && !JOB_KINDS.contains(&kind.as_str()) && kind != "correction" {
            report.finding(format!("a {kind} row parked: {}", short(reason)));
        }
        // the same reason about another task or item is the same reason
        let mut pattern = String::with_capacity(reason.len());
        for c in reason.chars() {
            if !c.is_ascii_digit() {
                pattern.push(c);
            } else if !pattern.ends_with('#') {
                pattern.push('#');
            }
        }
        let reason = pattern;
        *parked_reasons
            .entry(format!(
                "{kind}: {reason}{}",
                explained
                    .map(|why| format!(" [explained: {why}]"))
                    .unwrap_or_default()
            ))
            .or_default() += 1;
    }
    report.row(
        "parked rows (all kinds)",
        format!(
            "{}{}",
            parked_rows.len(),
            if parked_rows.is_empty() {
                ""
            } else {
                ", by reason:"
            }
        ),
    );
    for (reason, n) in &parked_reasons {
        report.row("  parked", format!("{n} × {}", short(reason)));
    }
    report.row(
        "jobs: station / router / done both",
        format!(
            "{} / {} / {done_both}  (failed on the router and parked at the station: {failed_parked})",
            station_rows.len(),
            router_rows.len()
        ),
    );
    for (reason, n) in &parked {
        report.row(
            "  failed and parked (explained: the fake's faults)",
            format!("{n} × {}", short(reason)),
        );
    }
    if station_rows.is_empty() {
        report.finding("no job was made: the cloud checks were not exercised");
    }
    for (kind, details) in problems {
        report.finding(format!(
            "{kind}: {} — {}",
            details.len(),
            details
                .iter()
                .take(5)
                .cloned()
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
}

const JOB_KINDS: [&str; 3] = ["compliance_check", "invoice_fields", "legal_summary"];

/// Why a parked row is no fault of the sync, if it is not.
fn explained(kind: &str, reason: &str) -> Option<&'static str> {
    if JOB_KINDS.contains(&kind)
        && reason.starts_with("the router could not do it: the LLM call failed")
    {
        return Some("the fake LLM's faults: every attempt of the call failed");
    }
    if kind == "shared_decision" && reason.contains("with another decision") {
        return Some(
            "decided, undone and decided again by a router that keeps the first decision (before 0fb2c90)",
        );
    }
    None
}

/// The team's shared queue: tasks this station raised and decisions on them, against the
/// router's `shared_tasks` (read fallibly: the queue is newer than the rest).
async fn team_queue(station: &SqlitePool, router: &SqlitePool, device: i64, report: &mut Report) {
    let rows: Vec<(String, String, String)> = match sqlx::query_as(
        "SELECT kind, idempotency_key, state FROM outbox WHERE kind IN ('raise_task', 'shared_decision')",
    )
    .fetch_all(station)
    .await
    {
        Ok(rows) => rows,
        Err(error) => {
            report.notes.push(format!("the team queue's rows not read: {error}"));
            return;
        }
    };
    let shared: Vec<(String, Option<i64>, Option<String>)> = match sqlx::query_as(
        "SELECT task_key, decided_by, decision_hash FROM shared_tasks WHERE origin_device = ?1 OR decided_by = ?1",
    )
    .bind(device)
    .fetch_all(router)
    .await
    {
        Ok(rows) => rows,
        Err(error) => {
            report.notes.push(format!("the router's shared tasks not read: {error}"));
            return;
        }
    };
    let count = |kind: &str, state: Option<&str>| {
        rows.iter()
            .filter(|(k, _, s)| k == kind && state.is_none_or(|state| s == state))
            .count()
    };
    let raised_here: BTreeSet<String> = rows
        .iter()
        .filter(|(k, _, s)| k == "raise_task" && s == "done")
        .filter_map(|(_, key, _)| key.strip_prefix("raise/").map(str::to_owned))
        .collect();
    let raised_there: Vec<&str> = shared.iter().map(|(key, _, _)| key.as_str()).collect();
    let decided_here: BTreeSet<&str> = rows
        .iter()
        .filter(|(k, _, s)| k == "shared_decision" && s == "done")
        .filter_map(|(_, key, _)| key.strip_prefix("decision/"))
        .collect();
    let decided_there: Vec<&str> = shared
        .iter()
        .filter(|(_, by, _)| *by == Some(device))
        .filter_map(|(_, _, hash)| hash.as_deref())
        .collect();
    report.row(
        "team queue: raised / decided",
        format!(
            "station {} raise rows ({} done) / router {} tasks ({} more raised by the router for doubtful jobs); \
             station {} decision rows ({} done, {} parked) / router {} decided by it",
            count("raise_task", None),
            count("raise_task", Some("done")),
            raised_there.iter().filter(|k| !k.starts_with("job:")).count(),
            raised_there.iter().filter(|k| k.starts_with("job:")).count(),
            count("shared_decision", None),
            count("shared_decision", Some("done")),
            count("shared_decision", Some("parked")),
            decided_there.len()
        ),
    );
    let there: BTreeSet<&str> = raised_there
        .iter()
        .copied()
        .filter(|k| !k.starts_with("job:"))
        .collect();
    let missing: Vec<&String> = raised_here
        .iter()
        .filter(|k| !there.contains(k.as_str()))
        .collect();
    if !missing.is_empty() {
        report.finding(format!(
            "{} tasks raised (done at the station) are not on the router: {missing:?}",
            missing.len()
        ));
    }
    let decided_set: BTreeSet<&str> = decided_there.iter().copied().collect();
    if decided_set.len() != decided_there.len() {
        report.finding("a decision is on the team's queue twice");
    }
    // each shared task stands on the router with the station's latest decision on it: one
    // decided, undone and decided again is replaced there (both stay in the corrections); an
    // undo alone stays local
    let latest: Result<Vec<(i64, String)>, _> = sqlx::query_as(
        "SELECT t.shared_id, d.hash FROM review_decisions d JOIN review_tasks t ON t.id = d.task_id \
         WHERE t.shared_id IS NOT NULL AND d.action <> 'undo' ORDER BY d.id",
    )
    .fetch_all(station)
    .await;
    let standing: Result<Vec<(i64, String)>, _> = sqlx::query_as(
        "SELECT id, decision_hash FROM shared_tasks WHERE decided_by = ? AND decision_hash IS NOT NULL",
    )
    .bind(device)
    .fetch_all(router)
    .await;
    match (latest, standing) {
        (Ok(latest), Ok(standing)) => {
            let expected: BTreeMap<i64, String> = latest.into_iter().collect();
            let standing: BTreeMap<i64, String> = standing.into_iter().collect();
            let sent: BTreeSet<&str> = decided_here.iter().copied().collect();
            let wrong: Vec<i64> = expected
                .iter()
                .filter(|(_, hash)| sent.contains(hash.as_str()))
                .filter(|(task, hash)| standing.get(task) != Some(hash))
                .map(|(task, _)| *task)
                .collect();
            if !wrong.is_empty() {
                report.finding(format!(
                    "{} shared tasks do not stand on the router with the station's latest decision, e.g. {:?}",
                    wrong.len(),
                    wrong.iter().take(3).collect::<Vec<_>>()
                ));
            }
            let replaced = decided_here.len().saturating_sub(decided_set.len());
            report.notes.push(format!(
                "team queue: {} tasks stand with the station's latest decision; {replaced} earlier decisions were replaced by a later one of the same station",
                standing.len()
            ));
        }
        (Err(error), _) | (_, Err(error)) => {
            report
                .notes
                .push(format!("the standing decisions not compared: {error}"));
        }
    }
    for (kind, key, state) in &rows {
        if !matches!(state.as_str(), "done" | "parked") {
            report.finding(format!("{kind} {key} is {state} at the end"));
        }
    }
}

async fn ledger(router: &SqlitePool, device: i64, report: &mut Report) {
    // a job's calls are recorded under its device's client, for the jobs' model; no tag names
    // the job (`dispatch::Tags` carries no key for them), so totals are compared: every call a
    // job made is one `requests` row, and `jobs.attempts` counts them
    let (requests, ok, cost): (i64, i64, f64) = sqlx::query_as(
        "SELECT COUNT(*), COALESCE(SUM(status = 200), 0), COALESCE(SUM(cost_usd), 0.0) FROM requests \
         WHERE client_id = ? AND requested_model = ?",
    )
    .bind(device)
    .bind(JOBS_MODEL)
    .fetch_one(router)
    .await
    .expect("the ledger");
    let (calls, done, done_calls, failed, running): (i64, i64, i64, i64, i64) = sqlx::query_as(
        "SELECT COALESCE(SUM(attempts), 0), COALESCE(SUM(state = 'done'), 0), \
                COALESCE(SUM(CASE WHEN state = 'done' THEN attempts ELSE 0 END), 0), \
                COALESCE(SUM(state = 'failed'), 0), COALESCE(SUM(state = 'running'), 0) \
         FROM jobs WHERE device_id = ?",
    )
    .bind(device)
    .fetch_one(router)
    .await
    .expect("the jobs");
    let attempts: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM attempts a JOIN requests r ON r.id = a.request_id \
         WHERE r.client_id = ? AND r.requested_model = ?",
    )
    .bind(device)
    .bind(JOBS_MODEL)
    .fetch_one(router)
    .await
    .expect("the attempts");
    report.row(
        "ledger: job LLM calls",
        format!(
            "{requests} requests ({ok} answered 200, {attempts} backend attempts, ${cost:.4}); \
             jobs asked {calls} calls ({done} done with {done_calls} calls, {failed} failed, {running} running)"
        ),
    );
    if requests > calls {
        report.finding(format!(
            "the ledger has {} more job calls than the jobs made ({requests} requests, {calls} calls): a job charged twice",
            requests - calls
        ));
    }
    if ok > done_calls + failed * 2 {
        report.finding(format!(
            "{ok} answered calls for {done} done jobs ({done_calls} calls): more answers were paid for than the jobs asked"
        ));
    }
    if requests < calls {
        report.finding(format!(
            "{} job calls the jobs made are not in the ledger ({requests} requests, {calls} calls): \
             charged by the provider, recorded nowhere",
            calls - requests
        ));
    }
}

async fn corrections(
    station: &SqlitePool,
    router: &SqlitePool,
    device: i64,
    tally: &Tally,
    report: &mut Report,
) {
    let decisions: Vec<(String, String)> =
        sqlx::query_as("SELECT hash, action FROM review_decisions ORDER BY id")
            .fetch_all(station)
            .await
            .expect("the station's decisions");
    let outbox: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT idempotency_key, state, reason FROM outbox WHERE kind = 'correction'",
    )
    .fetch_all(station)
    .await
    .expect("the station's corrections");
    let received: Vec<String> =
        sqlx::query_scalar("SELECT decision_hash FROM corrections WHERE device_id = ?")
            .bind(device)
            .fetch_all(router)
            .await
            .expect("the router's corrections");
    let local: BTreeSet<&str> = decisions.iter().map(|(h, _)| h.as_str()).collect();
    let remote: BTreeSet<&str> = received.iter().map(String::as_str).collect();
    let undos = decisions.iter().filter(|(_, a)| a == "undo").count();
    let sent = outbox.iter().filter(|(_, s, _)| s == "done").count();
    report.row(
        "corrections: station / router",
        format!(
            "{} decisions ({undos} undos), {} outbox rows ({sent} done) / {} received",
            decisions.len(),
            outbox.len(),
            received.len()
        ),
    );
    if decisions.is_empty() {
        report.finding("no decision was made: the corrections were not exercised");
    }
    let missing: Vec<&&str> = local.difference(&remote).collect();
    if !missing.is_empty() {
        report.finding(format!(
            "{} decisions never reached the router, e.g. {:?}",
            missing.len(),
            missing.iter().take(3).collect::<Vec<_>>()
        ));
    }
    let unknown: Vec<&&str> = remote.difference(&local).collect();
    if !unknown.is_empty() {
        report.finding(format!(
            "{} corrections on the router match no decision of the station, e.g. {:?}",
            unknown.len(),
            unknown.iter().take(3).collect::<Vec<_>>()
        ));
    }
    if received.len() != remote.len() {
        report.finding("a correction is on the router twice");
    }
    let rows: BTreeSet<&str> = outbox.iter().map(|(k, _, _)| k.as_str()).collect();
    if rows != local || outbox.len() != decisions.len() {
        report.finding(format!(
            "the correction rows ({}) are not the decisions ({}) one for one",
            outbox.len(),
            decisions.len()
        ));
    }
    for (key, state, reason) in outbox.iter().filter(|(_, s, _)| s != "done") {
        report.finding(format!(
            "correction {key} is {state} at the end{}",
            reason
                .as_deref()
                .map(|r| format!(": {}", short(r)))
                .unwrap_or_default()
        ));
    }
    let said: BTreeSet<&str> = tally
        .decisions
        .iter()
        .chain(&tally.undos)
        .map(String::as_str)
        .collect();
    let lost: Vec<&&str> = said.difference(&local).collect();
    if !lost.is_empty() {
        report.finding(format!(
            "{} decisions the station said it recorded are not in its database, e.g. {:?}",
            lost.len(),
            lost.iter().take(3).collect::<Vec<_>>()
        ));
    }
}

async fn photos(station: &SqlitePool, tally: &Tally, report: &mut Report) {
    let rows: Vec<(i64, i64)> =
        sqlx::query_as("SELECT item_id, COUNT(*) FROM visit_photos GROUP BY item_id")
            .fetch_all(station)
            .await
            .expect("the visit's photos");
    let in_visit: BTreeMap<i64, i64> = rows.into_iter().collect();
    let lost: Vec<i64> = tally
        .photos
        .keys()
        .filter(|item| !in_visit.contains_key(item))
        .copied()
        .collect();
    let doubled: Vec<(i64, i64)> = in_visit
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(i, n)| (*i, *n))
        .collect();
    let pending: Vec<(i64, String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT p.item_id, p.rule, o.state, o.reason FROM pending_cloud p \
         LEFT JOIN outbox o ON o.item_id = p.item_id AND o.kind = 'compliance_check' \
         WHERE p.state = 'pending'",
    )
    .fetch_all(station)
    .await
    .expect("the pending cloud checks");
    let answered: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM pending_cloud WHERE state <> 'pending'")
            .fetch_one(station)
            .await
            .expect("the answered cloud checks");
    report.row(
        "photos: said added / in the visit",
        format!(
            "{} / {} (cloud rules answered {answered}, still pending {})",
            tally.photos.len(),
            in_visit.len(),
            pending.len()
        ),
    );
    if !lost.is_empty() {
        report.finding(format!(
            "{} photos the station said it added are not in the visit: items {:?}",
            lost.len(),
            lost.iter().take(10).collect::<Vec<_>>()
        ));
    }
    if !doubled.is_empty() {
        report.finding(format!(
            "{} photos are in the visit more than once: {doubled:?}",
            doubled.len()
        ));
    }
    let (explained, unexplained): (Vec<_>, Vec<_>) = pending
        .iter()
        .partition(|(_, _, state, _)| state.as_deref() == Some("parked"));
    if !explained.is_empty() {
        report.row(
            "  pending, its job parked",
            format!("{} (see the parked jobs)", explained.len()),
        );
    }
    if !unexplained.is_empty() {
        report.finding(format!(
            "{} cloud checks still pending at the end: {}",
            unexplained.len(),
            unexplained
                .iter()
                .take(5)
                .map(|(item, rule, state, _)| format!(
                    "item {item} '{rule}' (its job: {})",
                    state.as_deref().unwrap_or("none")
                ))
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
}

async fn integrity(
    station: &SqlitePool,
    router: &SqlitePool,
    device: i64,
    done: &Done,
    report: &mut Report,
) {
    let check: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(station)
        .await
        .expect("the integrity check");
    let ok = check == ["ok"];
    report.row("station: PRAGMA integrity_check", check.join("; "));
    if !ok {
        report.finding(format!("the station's database: {}", check.join("; ")));
    }
    let router_check: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(router)
        .await
        .expect("the router's integrity check");
    report.row("router: PRAGMA integrity_check", router_check.join("; "));
    if router_check != ["ok"] {
        report.finding(format!(
            "the router's database: {}",
            router_check.join("; ")
        ));
    }
    match &done.audit {
        Some(line) => {
            report.row("station: audit chain", line.clone());
            if !line.starts_with("true ") {
                report.finding(format!("the audit chain does not verify: {line}"));
            }
        }
        None => {
            report.row("station: audit chain", "not checked (no answer)");
            report.finding("the station did not check its audit chain at the end");
        }
    }
    // every head the router witnessed is a prefix of the station's chain as it stands
    let heads: Vec<(i64, i64, String)> = sqlx::query_as(
        "SELECT decisions, last_id, last_hash FROM audit_heads WHERE device_id = ? ORDER BY id",
    )
    .bind(device)
    .fetch_all(router)
    .await
    .expect("the witnessed heads");
    let mut off = Vec::new();
    for (decisions, last_id, last_hash) in &heads {
        if *decisions == 0 {
            continue;
        }
        let local: Option<(i64, String)> = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM review_decisions WHERE id <= ?1), hash FROM review_decisions WHERE id = ?1",
        )
        .bind(last_id)
        .fetch_optional(station)
        .await
        .expect("the station's chain");
        if local.as_ref() != Some(&(*decisions, last_hash.clone())) {
            off.push(format!("{decisions} ending at {last_id}"));
        }
    }
    let head: Option<(i64, String)> =
        sqlx::query_as("SELECT decisions, last_hash FROM review_chain_head WHERE id = 1")
            .fetch_optional(station)
            .await
            .expect("the chain's head");
    let latest_witnessed = heads
        .iter()
        .max_by_key(|(n, _, _)| *n)
        .map(|(n, _, h)| (*n, h.clone()));
    report.row(
        "router: witnessed heads",
        format!(
            "{} heads, {} not on the station's chain; the last is {}",
            heads.len(),
            off.len(),
            if head.is_some() && latest_witnessed == head {
                "the station's head"
            } else {
                "NOT the station's head"
            }
        ),
    );
    if !off.is_empty() {
        report.finding(format!(
            "heads the router witnessed are not on the station's chain: {}",
            off.join(", ")
        ));
    }
    if head.is_some() && latest_witnessed != head {
        report.finding(format!(
            "the router never witnessed the station's final head {head:?} (latest {latest_witnessed:?})"
        ));
    }
}

fn print(report: &Report, elapsed: Duration) {
    let width = report
        .rows
        .iter()
        .map(|(w, _)| w.chars().count())
        .max()
        .unwrap_or(0);
    println!();
    println!(
        "sync_chaos: what it did and what it found ({:.0} s)",
        elapsed.as_secs_f64()
    );
    println!("{}", "─".repeat(100));
    for (what, value) in &report.rows {
        let pad = width.saturating_sub(what.chars().count());
        println!("{what}{}  {value}", " ".repeat(pad));
    }
    println!("{}", "─".repeat(100));
    for note in &report.notes {
        println!("note: {note}");
    }
    if report.findings.is_empty() {
        println!("FINDINGS: none");
    } else {
        println!("FINDINGS: {}", report.findings.len());
        for (i, finding) in report.findings.iter().enumerate() {
            println!("  {}. {finding}", i + 1);
        }
    }
}

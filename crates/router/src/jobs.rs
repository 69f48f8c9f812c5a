//! The stations' jobs: compliance checks of a photo against a store's rules, invoice fields from
//! page images and OCR text, legal summaries. Each is submitted once (its idempotency key),
//! run through the traffic manager like any request, with a versioned prompt and JSON Schema
//! (`prompts/`); an answer that does not validate is asked for once more, then the job fails
//! with the reason. Results are fetched by cursor, waiting for new ones (long-poll). With
//! replicas a running job is held under a lease, renewed while it runs.
//!
//! Just past 600 lines: a job's states (submitted, running under a lease, taken over, finished
//! once, read by cursor) are written here together and checked together.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use protocol::station_api::{Correction, JobKind, JobResult};
use serde_json::{json, Value};

use crate::ledger::{now_rfc3339, Client};
use crate::state::AppState;
use crate::traffic::shared::SharedTraffic;

struct Prompt {
    version: &'static str,
    system: &'static str,
    schema: &'static str,
}

fn prompt(kind: JobKind) -> Prompt {
    match kind {
        JobKind::ComplianceCheck => Prompt {
            version: "compliance_check.v1",
            system: include_str!("../prompts/compliance_check.v1.md"),
            schema: include_str!("../prompts/compliance_check.v1.schema.json"),
        },
        JobKind::InvoiceFields => Prompt {
            version: "invoice_fields.v1",
            system: include_str!("../prompts/invoice_fields.v1.md"),
            schema: include_str!("../../../schemas/invoice.v1.schema.json"),
        },
        JobKind::LegalSummary => Prompt {
            version: "legal_summary.v1",
            system: include_str!("../prompts/legal_summary.v1.md"),
            schema: include_str!("../prompts/legal_summary.v1.schema.json"),
        },
    }
}

/// The blobs a job's input names (they must be uploaded whole before it is accepted).
pub fn blobs_of(kind: JobKind, input: &Value) -> Result<Vec<String>, String> {
    let field = match kind {
        JobKind::ComplianceCheck => "photo_sha256",
        JobKind::InvoiceFields | JobKind::LegalSummary => "page_sha256s",
    };
    match input.get(field) {
        Some(Value::String(sha)) => Ok(vec![sha.clone()]),
        Some(Value::Array(list)) if !list.is_empty() => list
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| format!("`{field}` must list sha256 names"))
            })
            .collect(),
        _ => Err(format!("a {kind} job needs `{field}`")),
    }
}

/// Records a job (or finds the one submitted with the same key) and starts it.
/// `Ok((id, true))` when it is new; `Err(None)` when the key came with another input.
pub async fn submit(
    state: &Arc<AppState>,
    device: &Client,
    key: &str,
    kind: JobKind,
    input: &Value,
) -> Result<(i64, bool), Option<sqlx::Error>> {
    let text = input.to_string();
    let hash = crate::idempotency::body_hash(format!("{}:{text}", kind.as_str()).as_bytes());
    crate::with_db!(state.ledger.db(), pool => {
    let inserted: Option<i64> = sqlx::query_scalar(
        "INSERT INTO jobs (device_id, idempotency_key, input_hash, kind, input, state, prompt_version, created_at, lease_until_ms)
         VALUES ($1, $2, $3, $4, $5, 'running', $6, $7, $8) ON CONFLICT (device_id, idempotency_key) DO NOTHING RETURNING id",
    )
    .bind(device.id)
    .bind(key)
    .bind(&hash)
    .bind(kind.as_str())
    .bind(&text)
    .bind(prompt(kind).version)
    .bind(now_rfc3339())
    .bind(lease(state).map(lease_end))
    .fetch_optional(pool)
    .await
    .map_err(Some)?;
    if let Some(id) = inserted {
        tokio::spawn(run(
            Arc::clone(state),
            device.clone(),
            id,
            kind,
            input.clone(),
        ));
        return Ok((id, true));
    }
    let (id, stored): (i64, String) = sqlx::query_as(
        "SELECT id, input_hash FROM jobs WHERE device_id = $1 AND idempotency_key = $2",
    )
    .bind(device.id)
    .bind(key)
    .fetch_one(pool)
    .await
    .map_err(Some)?;
    if stored == hash {
        Ok((id, false))
    } else {
        Err(None)
    }
    })
}

/// A compliance check's answer names exactly the rules asked: the schema's rule `id` becomes
/// the asked ids and the list as long as the rules, so an answer about another rule (or one
/// left out) fails validation and is asked again, instead of reaching the station.
fn narrow_to_rules_asked(schema: &mut Value, input: &Value) {
    let ids: Vec<Value> = input
        .get("rules")
        .and_then(Value::as_array)
        .map(|rules| rules.iter().filter_map(|r| r.get("id").cloned()).collect())
        .unwrap_or_default();
    if ids.is_empty() {
        return;
    }
    let count = ids.len();
    if let Some(rules) = schema.pointer_mut("/properties/rules") {
        rules["minItems"] = json!(count);
        rules["maxItems"] = json!(count);
        if let Some(id) = rules.pointer_mut("/items/properties/id") {
            id["enum"] = Value::Array(ids);
        }
    }
}

/// The chat request of a job: the prompt, the input as JSON, the images as data URLs.
fn request(
    state: &AppState,
    kind: JobKind,
    input: &Value,
    model: &str,
    schema: &Value,
    retry_note: Option<&str>,
) -> Result<Value, String> {
    let mut parts = vec![json!({"type": "text", "text": format!("Input:\n{input}")})];
    for sha in blobs_of(kind, input)? {
        let path = state
            .blobs
            .path_of(&sha)
            .ok_or("a blob name is not a sha256")?;
        let bytes = std::fs::read(&path).map_err(|e| format!("blob {sha}: {e}"))?;
        let mime = if bytes.starts_with(b"\x89PNG") {
            "image/png"
        } else {
            "image/jpeg"
        };
        let url = format!(
            "data:{mime};base64,{}",
            base64::engine::general_purpose::STANDARD.encode(&bytes)
        );
        parts.push(json!({"type": "image_url", "image_url": {"url": url}}));
    }
    if let Some(note) = retry_note {
        parts.push(json!({"type": "text", "text": format!("Your previous answer was rejected: {note}. Answer again, matching the schema exactly.")}));
    }
    Ok(json!({
        "model": model,
        "messages": [{"role": "system", "content": prompt(kind).system}, {"role": "user", "content": parts}],
        "response_format": {"type": "json_schema", "json_schema": {"name": kind.as_str(), "schema": schema, "strict": true}},
    }))
}

/// How long a replica's hold on a running job lasts unless renewed: with replicas (`[shared]`),
/// the slots' TTL, the same "what a killed replica held comes back" time. Without, none: the one
/// process is the only runner.
fn lease(state: &AppState) -> Option<Duration> {
    state.shared.as_ref().map(SharedTraffic::slot_ttl)
}

fn lease_end(lease: Duration) -> i64 {
    crate::tasks::now_ms() + i64::try_from(lease.as_millis()).unwrap_or(i64::MAX / 2)
}

/// Starts again the jobs whose runner is gone (a router killed mid-call, its answer never
/// recorded): each is run once more, so a station waiting for its result gets one. Without
/// replicas that is every job still running when the router starts. With replicas, a job is
/// taken over only once its runner's lease has lapsed, by one replica (a conditional write), and
/// each replica looks again every half lease. Returns how many.
pub async fn resume_running(state: &Arc<AppState>) -> Result<usize, sqlx::Error> {
    let rows: Vec<(i64, i64, String, String)> = crate::with_db!(state.ledger.db(), pool => {
        match lease(state) {
            None => sqlx::query_as(
                "SELECT id, device_id, kind, input FROM jobs WHERE state = 'running' ORDER BY id",
            )
            .fetch_all(pool)
            .await?,
            Some(lease) => sqlx::query_as(
                "UPDATE jobs SET lease_until_ms = $1
                 WHERE state = 'running' AND (lease_until_ms IS NULL OR lease_until_ms <= $2)
                 RETURNING id, device_id, kind, input",
            )
            .bind(lease_end(lease))
            .bind(crate::tasks::now_ms())
            .fetch_all(pool)
            .await?,
        }
    });
    let mut resumed = 0;
    for (id, device_id, kind, input) in rows {
        let (Ok(kind), Ok(input)) = (kind.parse::<JobKind>(), serde_json::from_str(&input)) else {
            tracing::warn!(
                job = id,
                "a job left running cannot be read; it stays as it is"
            );
            continue;
        };
        let name: Option<String> = crate::with_db!(state.ledger.db(), pool => {
            sqlx::query_scalar("SELECT name FROM clients WHERE id = $1")
                .bind(device_id)
                .fetch_optional(pool)
                .await?
        });
        let Some(name) = name else {
            tracing::warn!(
                job = id,
                "a job left running has no device; it stays as it is"
            );
            continue;
        };
        let device = Client {
            id: device_id,
            name,
        };
        tokio::spawn(run(Arc::clone(state), device, id, kind, input));
        resumed += 1;
    }
    Ok(resumed)
}

/// With replicas: takes over, every half lease, the jobs of replicas that died. Runs until
/// aborted.
pub async fn keep_resuming(state: Arc<AppState>) {
    let Some(lease) = lease(&state) else { return };
    let mut every = tokio::time::interval((lease / 2).max(Duration::from_millis(100)));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    every.tick().await;
    loop {
        every.tick().await;
        match resume_running(&state).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(jobs = n, "jobs of a replica that stopped are run again"),
            Err(error) => tracing::warn!(%error, "jobs of stopped replicas not looked for"),
        }
    }
}

/// Runs a job, renewing its lease while it runs when there are replicas.
async fn run(state: Arc<AppState>, device: Client, id: i64, kind: JobKind, input: Value) {
    let Some(lease) = lease(&state) else {
        return run_to_end(state, device, id, kind, input).await;
    };
    let renewing = {
        let db = state.ledger.db().clone();
        async move {
            let mut every = tokio::time::interval((lease / 3).max(Duration::from_millis(50)));
            every.tick().await;
            loop {
                every.tick().await;
                let renewed = crate::with_db!(&db, pool => {
                    sqlx::query("UPDATE jobs SET lease_until_ms = $1 WHERE id = $2 AND state = 'running'")
                        .bind(lease_end(lease))
                        .bind(id)
                        .execute(pool)
                        .await
                        .map(|_| ())
                });
                if let Err(error) = renewed {
                    tracing::warn!(job = id, %error, "a running job's lease not renewed");
                }
            }
        }
    };
    tokio::select! {
        () = run_to_end(state, device, id, kind, input) => {}
        () = renewing => {}
    }
}

async fn run_to_end(state: Arc<AppState>, device: Client, id: i64, kind: JobKind, input: Value) {
    let outcome = attempt_all(&state, &device, kind, &input).await;
    let doubtful = match (&outcome.0, kind) {
        (Ok(result), JobKind::ComplianceCheck) => {
            crate::tasks::doubts(result, state.config.tasks.doubtful_below)
        }
        _ => None,
    };
    let (result, error, attempts) = match outcome {
        (Ok(result), n) => (Some(result), None, n),
        (Err(reason), n) => (None, Some(reason), n),
    };
    // raised before the result is recorded, so whoever reads the result finds the task queued
    if let (Some(doubt), Some(result)) = (doubtful, &result) {
        let job = crate::tasks::JobDoubt {
            job_id: id,
            device: device.id,
            input: &input,
            result,
            prompt_version: prompt(kind).version,
            doubt,
        };
        if let Err(e) = crate::tasks::raise_for_job(state.ledger.db(), &job).await {
            tracing::error!(job = id, error = %e, "a doubtful job's shared task was not raised");
        }
    }
    // the order results are fetched in (a cursor): a number must be visible no later than every
    // smaller one. SQLite has one writer at a time, so the next is the largest plus one.
    // PostgreSQL's writers take it from a sequence under a lock held to the commit, so numbers
    // are taken in commit order (a sequence alone lets 11 commit before 10, and a reader past 11
    // would never see 10).
    let next_seq = if state.ledger.db().is_postgres() {
        "nextval('jobs_finished_seq')"
    } else {
        "(SELECT coalesce(max(finished_seq), 0) + 1 FROM jobs)"
    };
    // only while still running: of two runners (a replica taken for dead that was not), the
    // first to finish is the result
    let sql = format!(
        "UPDATE jobs SET state = $1, result = $2, error = $3, attempts = $4, finished_at = $5,
                finished_seq = {next_seq}, lease_until_ms = NULL WHERE id = $6 AND state = 'running'"
    );
    let finished = crate::with_db!(state.ledger.db(), pool => {
        async {
            let mut tx = pool.begin().await?;
            if state.ledger.db().is_postgres() {
                sqlx::query(&format!("SELECT pg_advisory_xact_lock({FINISH_ORDER_LOCK})"))
                    .execute(&mut *tx)
                    .await?;
            }
            let done = sqlx::query(&sql)
                .bind(if error.is_none() { "done" } else { "failed" })
                .bind(result.as_ref().map(Value::to_string))
                .bind(error.clone())
                .bind(attempts)
                .bind(now_rfc3339())
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            Ok::<_, sqlx::Error>(done)
        }
        .await
    });
    match finished {
        Ok(0) => tracing::info!(
            job = id,
            "a job another runner finished first; this result is dropped"
        ),
        Ok(_) => {}
        Err(e) => tracing::error!(job = id, error = %e, "a finished job could not be recorded"),
    }
    state.jobs_finished.notify_waiters();
}

/// The advisory lock that orders jobs' finishing numbers on PostgreSQL (any constant no other
/// lock of this database uses: "rsjobs" in ASCII).
const FINISH_ORDER_LOCK: i64 = 0x7273_6a6f_6273;

/// Up to two answers: one that does not validate is asked for again once.
async fn attempt_all(
    state: &Arc<AppState>,
    device: &Client,
    kind: JobKind,
    input: &Value,
) -> (Result<Value, String>, i64) {
    let Some(model) = state.models.get(&state.config.jobs_model).cloned() else {
        return (
            Err(format!(
                "the jobs' model {} is not configured",
                state.config.jobs_model
            )),
            0,
        );
    };
    let mut schema: Value = match serde_json::from_str(prompt(kind).schema) {
        Ok(schema) => schema,
        Err(e) => return (Err(format!("the job's schema is not JSON: {e}")), 0),
    };
    if kind == JobKind::ComplianceCheck {
        narrow_to_rules_asked(&mut schema, input);
    }
    let validator = match jsonschema::validator_for(&schema) {
        Ok(v) => v,
        Err(e) => return (Err(format!("the job's schema is invalid: {e}")), 0),
    };
    let mut note: Option<String> = None;
    for attempt in 1..=2 {
        let body = match request(state, kind, input, &model.name, &schema, note.as_deref()) {
            Ok(body) => body,
            Err(reason) => return (Err(reason), attempt - 1),
        };
        let tags = crate::dispatch::Tags {
            idempotency_key: None,
            store: input
                .get("store_id")
                .and_then(Value::as_str)
                .map(str::to_owned),
        };
        let response =
            crate::dispatch::chat(Arc::clone(state), device.clone(), model.clone(), body, tags)
                .await;
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap_or_default();
        if !status.is_success() {
            let message = serde_json::from_slice::<Value>(&bytes)
                .ok()
                .and_then(|v| v["message"].as_str().map(str::to_owned));
            return (
                Err(format!(
                    "the LLM call failed ({status}): {}",
                    message.unwrap_or_default()
                )),
                attempt,
            );
        }
        let content = serde_json::from_slice::<Value>(&bytes).ok().and_then(|v| {
            v["choices"][0]["message"]["content"]
                .as_str()
                .map(str::to_owned)
        });
        let answer = content.as_deref().map(serde_json::from_str::<Value>);
        let problem = match answer {
            None => "the answer has no content".to_owned(),
            Some(Err(e)) => format!("the answer is not JSON ({e})"),
            Some(Ok(value)) => {
                let first_error = validator
                    .iter_errors(&value)
                    .next()
                    .map(|e| format!("at {}: {e}", e.instance_path));
                match first_error {
                    None => return (Ok(value), attempt),
                    Some(error) => format!("the answer does not match the schema {error}"),
                }
            }
        };
        tracing::warn!(kind = kind.as_str(), attempt, %problem, "a job's answer was rejected");
        note = Some(problem);
    }
    (
        Err(format!("rejected twice: {}", note.unwrap_or_default())),
        2,
    )
}

/// A finished job as `results` reads it.
#[derive(sqlx::FromRow)]
struct FinishedRow {
    id: i64,
    kind: String,
    finished_seq: i64,
    result: Option<String>,
    error: Option<String>,
    prompt_version: String,
    finished_at: String,
    idempotency_key: String,
}

/// Finished jobs of a device after `after`, waiting up to `wait` for one when there is none.
pub async fn results(
    state: &AppState,
    device: i64,
    after: i64,
    limit: i64,
    wait: Duration,
) -> Result<Vec<JobResult>, sqlx::Error> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        // registered before the query: a job finishing in between still wakes this wait
        let finished = state.jobs_finished.notified();
        let rows: Vec<FinishedRow> = crate::with_db!(state.ledger.db(), pool => {
            sqlx::query_as(
                "SELECT id, kind, finished_seq, result, error, prompt_version, finished_at, idempotency_key FROM jobs
                 WHERE device_id = $1 AND finished_seq > $2 ORDER BY finished_seq LIMIT $3",
            )
            .bind(device)
            .bind(after)
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        if !rows.is_empty() || tokio::time::Instant::now() >= deadline {
            return Ok(rows
                .into_iter()
                .filter_map(|row| {
                    let kind = row.kind.parse().ok()?;
                    Some(JobResult {
                        job_id: row.id,
                        kind,
                        seq: row.finished_seq,
                        ok: row.error.is_none(),
                        result: row.result.and_then(|r| serde_json::from_str(&r).ok()),
                        error: row.error,
                        prompt_version: row.prompt_version,
                        finished_at: row.finished_at,
                        idempotency_key: Some(row.idempotency_key),
                    })
                })
                .collect());
        }
        // with replicas a job may finish at another one, whose finishing wakes nobody here:
        // look again every second
        let look_again = if state.shared.is_some() {
            deadline.min(tokio::time::Instant::now() + Duration::from_secs(1))
        } else {
            deadline
        };
        let _ = tokio::time::timeout_at(look_again, finished).await;
    }
}

/// Stores reviewers' corrections once each (by the decision's hash); returns how many were new.
pub async fn ingest_corrections(
    state: &AppState,
    device: i64,
    corrections: &[Correction],
) -> Result<u64, String> {
    if let Some((i, _)) = corrections
        .iter()
        .enumerate()
        .find(|(_, c)| !crate::blobs::valid_name(&c.decision_hash))
    {
        return Err(format!(
            "correction {i}: `decision_hash` must be a sha256 (64 lowercase hex digits)"
        ));
    }
    crate::with_db!(state.ledger.db(), pool => {
        let mut tx = pool.begin().await.map_err(|e| e.to_string())?;
        let mut new = 0;
        for c in corrections {
            new += store_correction(&mut *tx, device, c)
                .await
                .map_err(|e| e.to_string())?;
        }
        tx.commit().await.map_err(|e| e.to_string())?;
        Ok(new)
    })
}

/// One correction into the evaluation store, once (by its decision hash): 1 when it was new.
/// Shared with the shared queue's decisions, which land here too.
pub async fn store_correction<C: CorrectionTarget>(
    connection: &mut C,
    device: i64,
    correction: &Correction,
) -> Result<u64, sqlx::Error> {
    connection.store_correction(device, correction).await
}

/// A connection (in a transaction) a correction can be stored on, on either engine.
pub trait CorrectionTarget {
    fn store_correction<'a>(
        &'a mut self,
        device: i64,
        correction: &'a Correction,
    ) -> impl std::future::Future<Output = Result<u64, sqlx::Error>> + Send + 'a;
}

macro_rules! correction_target {
    ($conn:ty) => {
        impl CorrectionTarget for $conn {
            fn store_correction<'a>(
                &'a mut self,
                device: i64,
                correction: &'a Correction,
            ) -> impl std::future::Future<Output = Result<u64, sqlx::Error>> + Send + 'a {
                async move {
                    let body = serde_json::to_string(correction).unwrap_or_default();
                    let done = sqlx::query(
                        "INSERT INTO corrections (decision_hash, device_id, kind, body, received_at)
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (decision_hash) DO NOTHING",
                    )
                    .bind(&correction.decision_hash)
                    .bind(device)
                    .bind(&correction.kind)
                    .bind(body)
                    .bind(now_rfc3339())
                    .execute(&mut *self)
                    .await?;
                    Ok(done.rows_affected())
                }
            }
        }
    };
}

correction_target!(sqlx::SqliteConnection);
correction_target!(sqlx::PgConnection);

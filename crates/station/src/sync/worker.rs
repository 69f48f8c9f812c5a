//! The sync worker: one task per connection that, round after round, checks the router is
//! there, sends the audit chain's head and the corrections, uploads and submits the due jobs,
//! and pulls results by cursor. A failure of one job moves that job (retrying at a time the
//! retry policy chose, or parked with its reason); a failure to reach the router ends the
//! round and marks the station offline until a round gets through again.

use std::sync::Arc;
use std::time::Duration;

use ::sync::outbox::Event;
use ::sync::retry::RetryPolicy;
use ::sync::{BlobSource, RouterClient, SyncError};
use protocol::station_api::{AuditHead, Correction, Corrections, JobKind, NewJob};
use store::{OutboxRow, OutboxState, CORRECTION, RESULTS_CURSOR};
use tokio_util::sync::CancellationToken;

use super::types::{SyncConnection, SyncJob, SyncJobState};
use super::{machine, shared, SyncService};

/// Jobs handled per round, so results and corrections are not held up by a long backlog.
const JOBS_PER_ROUND: u32 = 20;
const CORRECTIONS_PER_BATCH: u32 = 200;
/// How long a results poll waits on the router while jobs are out.
const RESULTS_WAIT_S: u64 = 20;
/// Between rounds when nothing is waiting (new rows wake the worker at once).
const IDLE: Duration = Duration::from_secs(30);
const AUDIT_HEAD_SENT: &str = "audit_head_sent";

pub(super) async fn run(
    sync: Arc<SyncService>,
    connection: SyncConnection,
    key: ::sync::Secret,
    cancel: CancellationToken,
) {
    let client = match RouterClient::new(&connection.url, Some(key)) {
        Ok(client) => client,
        Err(error) => {
            sync.set_problem(error.to_string());
            return;
        }
    };
    let mut policy = RetryPolicy::default();
    let mut offline_rounds: u32 = 0;
    loop {
        let outcome = tokio::select! {
            () = cancel.cancelled() => return,
            outcome = round(&sync, &client, &mut policy, &cancel, connection.device_id) => outcome,
        };
        let pause = match outcome {
            Ok(Some(pause)) => {
                offline_rounds = 0;
                pause
            }
            Ok(None) => return,
            Err(problem) => {
                sync.set_problem(problem);
                offline_rounds = offline_rounds.saturating_add(1);
                // back off while the router is away: 1 s, 2 s, 4 s … up to a minute
                Duration::from_secs(1u64 << offline_rounds.min(6)).min(Duration::from_secs(60))
            }
        };
        tokio::select! {
            () = cancel.cancelled() => return,
            () = sync.core.outbox_written.notified() => {}
            () = tokio::time::sleep(pause) => {}
        }
    }
}

/// One round; `Ok(Some(pause))`: how long to rest before the next, `Ok(None)`: cancelled,
/// `Err`: the router could not be reached (why, in words).
async fn round(
    sync: &Arc<SyncService>,
    client: &RouterClient,
    policy: &mut RetryPolicy,
    cancel: &CancellationToken,
    device_id: i64,
) -> Result<Option<Duration>, String> {
    let store = &sync.core.store;
    let was_online = sync.link_mut().online;
    let hello = client.hello().await.map_err(|e| e.to_string())?;
    policy.retention = Duration::from_secs(hello.idempotency_retention_s.max(60));
    // the window of the team's queue this station works on, claimed and renewed; a keyed call,
    // so a revoked key shows here, before the station says it is online
    shared::claim_window(sync, client, device_id).await?;
    sync.set_online();
    if !was_online {
        // back online: whatever waited for the network goes now, not at its backoff time
        store.retry_all_now().await.map_err(|e| e.to_string())?;
    }
    send_audit_head(sync, client).await?;
    send_corrections(sync, client, policy).await?;
    let due = store
        .due_outbox(now_ms(), false, JOBS_PER_ROUND)
        .await
        .map_err(|e| e.to_string())?;
    let more_due = due.len() == JOBS_PER_ROUND as usize;
    for row in due {
        if cancel.is_cancelled() {
            return Ok(None);
        }
        let sent = match row.kind.as_str() {
            store::RAISE_TASK => shared::raise(sync, client, &row).await,
            store::SHARED_DECISION => shared::decide(sync, client, &row).await,
            _ => send_job(sync, client, policy, &row, cancel)
                .await
                .map(|()| shared::Outcome::Done),
        };
        match sent {
            Ok(outcome) => {
                if matches!(
                    row.kind.as_str(),
                    store::RAISE_TASK | store::SHARED_DECISION
                ) {
                    if let Some(next) = shared::stored(&outcome, &row) {
                        store
                            .set_outbox_state(row.id, &next, now_ms())
                            .await
                            .map_err(|e| e.to_string())?;
                    }
                }
            }
            Err(error) => {
                if matches!(
                    row.kind.as_str(),
                    store::RAISE_TASK | store::SHARED_DECISION
                ) {
                    failed(sync, policy, &row, &error, "the team's queue").await?;
                }
                if is_network(&error) {
                    return Err(error.to_string());
                }
            }
        }
    }
    let counts = store.outbox_counts().await.map_err(|e| e.to_string())?;
    if counts.waiting > 0 {
        let wait = if more_due { 0 } else { RESULTS_WAIT_S };
        pull_results(sync, client, wait).await?;
    }
    let next_retry = store.next_retry_at().await.map_err(|e| e.to_string())?;
    let pause = if more_due || counts.waiting > 0 {
        Duration::ZERO
    } else {
        next_retry.map_or(IDLE, |at| {
            Duration::from_millis(u64::try_from(at - now_ms()).unwrap_or(0)).min(IDLE)
        })
    };
    Ok(Some(pause))
}

/// A failure of the link rather than of one row: no answer, or the router no longer knows this
/// station's key. It ends the round (the station is offline, with the reason) and moves no row.
fn is_network(error: &SyncError) -> bool {
    matches!(error.failure(), ::sync::retry::Failure::Network(_))
        || matches!(error, SyncError::Unauthorized { .. })
}

async fn send_audit_head(sync: &SyncService, client: &RouterClient) -> Result<(), String> {
    let store = &sync.core.store;
    let (decisions, last_id, last_hash) = store.chain_head().await.map_err(|e| e.to_string())?;
    let word = format!("{decisions}:{last_hash}");
    if store
        .sync_value(AUDIT_HEAD_SENT)
        .await
        .map_err(|e| e.to_string())?
        .as_deref()
        == Some(word.as_str())
    {
        return Ok(());
    }
    let head = AuditHead {
        decisions,
        last_id,
        last_hash,
    };
    match client.send_audit_head(&head).await {
        Ok(_) => {}
        Err(error) if is_network(&error) => return Err(error.to_string()),
        // the router keeps the head even when it disagrees with an earlier one: the finding is
        // the router's to show, and this station's own verify tells what changed
        Err(error) => tracing::warn!(%error, "the router questioned the audit chain's head"),
    }
    store
        .set_sync_value(AUDIT_HEAD_SENT, Some(&word))
        .await
        .map_err(|e| e.to_string())
}

async fn send_corrections(
    sync: &SyncService,
    client: &RouterClient,
    policy: &RetryPolicy,
) -> Result<(), String> {
    let store = &sync.core.store;
    loop {
        let rows = store
            .due_outbox(now_ms(), true, CORRECTIONS_PER_BATCH)
            .await
            .map_err(|e| e.to_string())?;
        if rows.is_empty() {
            return Ok(());
        }
        let mut batch = Vec::with_capacity(rows.len());
        for row in &rows {
            match correction_of(row) {
                Some(correction) => batch.push(correction),
                None => {
                    park(sync, row, "the stored correction is not valid JSON".into()).await?;
                }
            }
        }
        let full = rows.len() == CORRECTIONS_PER_BATCH as usize;
        match client
            .send_corrections(&Corrections { corrections: batch })
            .await
        {
            Ok(_) => {
                let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
                store.outbox_done(&ids).await.map_err(|e| e.to_string())?;
            }
            Err(error) => {
                for row in &rows {
                    failed(sync, policy, row, &error, "sending corrections").await?;
                }
                if is_network(&error) {
                    return Err(error.to_string());
                }
                return Ok(());
            }
        }
        if !full {
            return Ok(());
        }
    }
}

fn correction_of(row: &OutboxRow) -> Option<Correction> {
    let mut rest: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&row.input_json).ok()?;
    let kind = rest.remove("kind")?.as_str()?.to_string();
    rest.remove("decision_hash");
    Some(Correction {
        decision_hash: row.idempotency_key.clone(),
        kind,
        rest,
    })
}

/// Uploads a job's files (each from where the router has it) and submits it with its key.
async fn send_job(
    sync: &SyncService,
    client: &RouterClient,
    policy: &RetryPolicy,
    row: &OutboxRow,
    cancel: &CancellationToken,
) -> Result<(), SyncError> {
    let store = &sync.core.store;
    let Ok(kind) = row.kind.parse::<JobKind>() else {
        let _ = park(sync, row, format!("unknown job kind {:?}", row.kind)).await;
        return Ok(());
    };
    let Ok(input) = serde_json::from_str::<serde_json::Value>(&row.input_json) else {
        let _ = park(sync, row, "the stored job input is not valid JSON".into()).await;
        return Ok(());
    };
    let blobs: Vec<String> = serde_json::from_str(&row.blobs_json).unwrap_or_default();
    let mut files = Vec::with_capacity(blobs.len());
    let mut total = 0u64;
    for sha in &blobs {
        let Ok(name) = store::Sha256Hex::parse(sha) else {
            let _ = park(sync, row, format!("{sha} is not a file's sha256")).await;
            return Ok(());
        };
        let path = store.blobs().path_of(&name);
        match std::fs::metadata(&path) {
            Ok(meta) => total += meta.len(),
            Err(error) => {
                let _ = park(
                    sync,
                    row,
                    format!("the file {sha} is missing from this station ({error})"),
                )
                .await;
                return Ok(());
            }
        }
        files.push((sha.clone(), path));
    }
    let mut row = row.clone();
    let mut done = 0u64;
    for (sha, path) in &files {
        move_row(sync, &mut row, Event::Uploaded { done, total }).await;
        let before = done;
        let uploaded = client
            .upload_blob(
                sha,
                BlobSource::File(path),
                |has, _| sync.set_upload(row.id, Some((before + has, total))),
                cancel,
            )
            .await;
        match uploaded {
            Ok(upload) => done += upload.length,
            Err(error) => {
                sync.set_upload(row.id, None);
                let _ = failed(sync, policy, &row, &error, "uploading a file").await;
                return Err(error);
            }
        }
    }
    sync.set_upload(row.id, None);
    if !files.is_empty() {
        move_row(sync, &mut row, Event::Uploaded { done, total }).await;
    }
    match client
        .submit_job(&row.idempotency_key, &NewJob { kind, input })
        .await
    {
        Ok(accepted) => {
            move_row(
                sync,
                &mut row,
                Event::Accepted {
                    job_id: accepted.job_id,
                },
            )
            .await;
            Ok(())
        }
        Err(error) => {
            let _ = failed(sync, policy, &row, &error, "submitting the job").await;
            Err(error)
        }
    }
}

/// Moves a job row by the state machine and stores it; an impossible move is logged, never
/// written.
async fn move_row(sync: &SyncService, row: &mut OutboxRow, event: Event) {
    let now = now_ms();
    match machine::step(row, event, now) {
        Ok(next) => {
            if let Err(error) = sync.core.store.set_outbox_state(row.id, &next, now).await {
                tracing::warn!(row = row.id, %error, "outbox row not moved");
            }
            row.state = next.state;
            row.upload_done = next.upload_done;
            row.upload_total = next.upload_total;
            row.failures = next.failures;
            row.next_at_ms = next.next_at_ms;
            row.reason = next.reason;
            row.job_id = next.job_id;
        }
        Err(impossible) => tracing::warn!(row = row.id, %impossible, "outbox move refused"),
    }
}

async fn pull_results(
    sync: &SyncService,
    client: &RouterClient,
    wait_s: u64,
) -> Result<(), String> {
    let store = &sync.core.store;
    let after: i64 = store
        .sync_value(RESULTS_CURSOR)
        .await
        .map_err(|e| e.to_string())?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let results = client
        .results(after, Duration::from_secs(wait_s), 100)
        .await
        .map_err(|e| e.to_string())?;
    for result in results {
        super::apply::apply(sync, &result)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// A row's attempt failed: retrying at the time the policy chose, or parked with the reason.
async fn failed(
    sync: &SyncService,
    policy: &RetryPolicy,
    row: &OutboxRow,
    error: &SyncError,
    doing: &str,
) -> Result<(), String> {
    if matches!(error, SyncError::Unauthorized { .. }) {
        // the key, not the row: the row waits as it is until the station is connected again
        return Ok(());
    }
    let now = now_ms();
    let failures = u32::try_from(row.failures).unwrap_or(0).saturating_add(1);
    let age = Duration::from_millis(
        u64::try_from(now - row.first_attempt_ms.unwrap_or(now)).unwrap_or(0),
    );
    let decision = policy.decide(
        &error.failure(),
        failures,
        age,
        rand::random::<f64>(),
        time::OffsetDateTime::now_utc(),
    );
    let event = Event::Failed {
        decision,
        reason: format!("{doing}: {error}"),
    };
    if row.kind == CORRECTION {
        // a correction is not a job (no result to wait for), but fails and retries like one
        let mut as_job = row.clone();
        as_job.state = "queued".into();
        let next = machine::step(&as_job, event, now).map_err(|e| e.to_string())?;
        return sync
            .core
            .store
            .set_outbox_state(row.id, &next, now)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string());
    }
    let mut row = row.clone();
    move_row(sync, &mut row, event).await;
    Ok(())
}

async fn park(sync: &SyncService, row: &OutboxRow, reason: String) -> Result<(), String> {
    let state = OutboxState {
        state: "parked".into(),
        failures: row.failures,
        reason: Some(reason),
        ..OutboxState::default()
    };
    sync.core
        .store
        .set_outbox_state(row.id, &state, now_ms())
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// A row as the sync panel shows it.
pub(super) fn describe(row: OutboxRow) -> SyncJob {
    let state = SyncJobState::parse(&row.state).unwrap_or(SyncJobState::Queued);
    let percent = (state == SyncJobState::Uploading).then(|| {
        if row.upload_total <= 0 {
            0
        } else {
            u8::try_from((row.upload_done.clamp(0, row.upload_total) * 100) / row.upload_total)
                .unwrap_or(100)
        }
    });
    let retry_at = row
        .next_at_ms
        .filter(|_| state == SyncJobState::Retrying)
        .and_then(|ms| {
            time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
        });
    let retry_words = retry_at.and_then(|at| {
        at.format(&time::format_description::well_known::Rfc3339)
            .ok()
    });
    let what = if row.kind == CORRECTION {
        "correction"
    } else {
        row.kind.as_str()
    };
    let description = match state {
        SyncJobState::Queued => format!("{what}: queued"),
        SyncJobState::Uploading => format!("{what}: uploading {} %", percent.unwrap_or(0)),
        SyncJobState::Waiting => format!("{what}: waiting for the result"),
        SyncJobState::Retrying => format!(
            "{what}: retrying at {}: {}",
            retry_words.as_deref().unwrap_or("?"),
            row.reason.as_deref().unwrap_or("")
        ),
        SyncJobState::Parked => format!("{what}: parked: {}", row.reason.as_deref().unwrap_or("")),
        SyncJobState::Done => format!("{what}: done"),
    };
    SyncJob {
        id: row.id,
        kind: row.kind,
        item_id: row.item_id,
        state,
        percent,
        reason: row.reason,
        retry_at: retry_words,
        failures: u32::try_from(row.failures).unwrap_or(0),
        description,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

pub(super) fn now_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis(),
    )
    .unwrap_or(i64::MAX)
}

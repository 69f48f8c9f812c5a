//! The team's shared review queue, from this station: every local task is raised on the router
//! (held by this station from the start, so nobody claims what a reviewer here may be deciding),
//! a window of tasks is claimed under the router's lease each round (renewing the ones held;
//! a task raised elsewhere comes with its photo or pages, imported here), and a decision on a
//! shared task goes to the router, which records it only from the holder. One it refuses (the
//! task was taken over) is parked as "not recorded" with the router's words — never dropped.

use std::time::Duration;

use protocol::station_api::{Claim, NewTask as SharedNew, SharedDecision, SharedTask};
use protocol::ErrorCode;
use store::{OutboxRow, OutboxState};

use super::worker::now_ms;
use super::SyncService;
use crate::StationError;

/// Tasks this station keeps claimed: a reviewer's next task is always local, offline included.
pub(crate) const WINDOW: u32 = 20;
/// The router's lease on the window, renewed each round (a round is at most 30 s apart).
pub(crate) const LEASE_S: u32 = 600;

#[derive(serde::Deserialize)]
struct TaskRef {
    task_id: i64,
}

#[derive(serde::Deserialize)]
struct DecisionInput {
    task_id: i64,
    decision_hash: String,
    action: String,
    before: serde_json::Value,
    after: serde_json::Value,
    reviewer: String,
    decided_at: String,
}

/// What became of a row: done, parked with a reason, or left for a later round.
pub(super) enum Outcome {
    Done,
    Parked(String),
    Later,
}

fn until_of(task: &SharedTask) -> i64 {
    task.lease_expires_at
        .as_deref()
        .and_then(|at| {
            time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339).ok()
        })
        .map_or(now_ms() + i64::from(LEASE_S) * 1000, |at| {
            i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
        })
}

/// Raises the row's local task on the shared queue, held by this station.
pub(super) async fn raise(
    sync: &SyncService,
    client: &::sync::RouterClient,
    row: &OutboxRow,
) -> Result<Outcome, ::sync::SyncError> {
    let store = &sync.core.store;
    let Ok(TaskRef { task_id }) = serde_json::from_str(&row.input_json) else {
        return Ok(Outcome::Parked(
            "the stored task reference is not valid".into(),
        ));
    };
    let Ok(task) = store.get_task(task_id).await else {
        return Ok(Outcome::Parked(format!(
            "task {task_id} is not in this station"
        )));
    };
    let blobs: Vec<String> = serde_json::from_str(&row.blobs_json).unwrap_or_default();
    for sha in &blobs {
        let Ok(name) = store::Sha256Hex::parse(sha) else {
            return Ok(Outcome::Parked(format!("{sha} is not a file's sha256")));
        };
        let path = store.blobs().path_of(&name);
        client
            .upload_blob(
                sha,
                ::sync::BlobSource::File(&path),
                |_, _| {},
                &tokio_util::sync::CancellationToken::new(),
            )
            .await?;
    }
    let reasons: Vec<String> = serde_json::from_str(&task.reasons).unwrap_or_default();
    let shared = client
        .raise_task(&SharedNew {
            task_key: format!("task-{task_id}"),
            item_sha256: blobs.first().cloned().unwrap_or_default(),
            blobs,
            kind: task.kind.clone(),
            store_id: task.store_id.clone(),
            confidence: task.confidence,
            reasons,
            model_output: serde_json::from_str(&task.model_output).unwrap_or_default(),
            versions: task.versions.clone(),
            hold_s: Some(LEASE_S),
        })
        .await?;
    store
        .set_task_shared(task_id, shared.id, until_of(&shared))
        .await
        .map_err(|e| ::sync::SyncError::Upload {
            sha256: String::new(),
            reason: e.to_string(),
        })?;
    Ok(Outcome::Done)
}

/// Sends a decision on a shared task; a refusal because another station holds it is parked as
/// not recorded.
pub(super) async fn decide(
    sync: &SyncService,
    client: &::sync::RouterClient,
    row: &OutboxRow,
) -> Result<Outcome, ::sync::SyncError> {
    let store = &sync.core.store;
    let Ok(input) = serde_json::from_str::<DecisionInput>(&row.input_json) else {
        return Ok(Outcome::Parked("the stored decision is not valid".into()));
    };
    let Ok(Some(shared_id)) = store.shared_id_of(input.task_id).await else {
        // its task is not raised yet (the raise is before it in the outbox): a later round
        return Ok(Outcome::Later);
    };
    let decision = SharedDecision {
        action: input.action,
        decision_hash: input.decision_hash,
        before: input.before,
        after: input.after,
        reviewer: input.reviewer,
        decided_at: input.decided_at,
    };
    match client.decide_shared(shared_id, &decision).await {
        Ok(_) => Ok(Outcome::Done),
        Err(::sync::SyncError::Http {
            code: Some(code @ (ErrorCode::LeaseLost | ErrorCode::TaskNotHeld)),
            message,
            ..
        }) => Ok(Outcome::Parked(format!(
            "not recorded on the team's queue ({code}): {message}"
        ))),
        Err(error) => Err(error),
    }
}

/// Claims (and renews) this station's window; tasks raised elsewhere are brought in with their
/// files. Returns how many tasks the station holds.
pub(super) async fn claim_window(
    sync: &SyncService,
    client: &::sync::RouterClient,
    device_id: i64,
) -> Result<usize, String> {
    let store = &sync.core.store;
    let claimed = client
        .claim_tasks(&Claim {
            max: WINDOW,
            lease_s: LEASE_S,
            kind: None,
            store_id: None,
        })
        .await
        .map_err(|e| e.to_string())?;
    for task in &claimed {
        let until = until_of(task);
        let local = store
            .task_by_shared(task.id)
            .await
            .map_err(|e| e.to_string())?;
        let own = (task.origin_device == device_id)
            .then(|| task.task_key.strip_prefix("task-")?.parse::<i64>().ok())
            .flatten();
        match (local, own) {
            (Some(local), _) | (None, Some(local)) => store
                .set_task_shared(local, task.id, until)
                .await
                .map_err(|e| e.to_string())?,
            (None, None) => {
                if let Err(error) = bring_in(sync, client, task, until).await {
                    tracing::warn!(task = task.id, %error, "a shared task could not be brought in");
                }
            }
        }
    }
    Ok(claimed.len())
}

/// A task raised elsewhere: its files downloaded and imported here, then the task kept locally
/// with its shared id and lease.
async fn bring_in(
    sync: &SyncService,
    client: &::sync::RouterClient,
    task: &SharedTask,
    until: i64,
) -> Result<(), StationError> {
    let fail = |e: ::sync::SyncError| StationError::Sync {
        code: ErrorCode::Unavailable,
        message: e.to_string(),
    };
    let store = &sync.core.store;
    let bytes = client
        .download_blob(&task.item_sha256)
        .await
        .map_err(fail)?;
    let inbox = store.data_dir().join("shared");
    tokio::fs::create_dir_all(&inbox)
        .await
        .map_err(|e| StationError::InvalidRequest(e.to_string()))?;
    let extension = if bytes.starts_with(b"%PDF") {
        "pdf"
    } else if bytes.starts_with(b"\x89PNG") {
        "png"
    } else {
        "jpg"
    };
    let path = inbox.join(format!("shared-task-{}.{extension}", task.id));
    tokio::fs::write(&path, &bytes)
        .await
        .map_err(|e| StationError::InvalidRequest(e.to_string()))?;
    let outcome = sync.imports.import_one(&path).await;
    let Some(item_id) = outcome.item_id() else {
        return Err(StationError::InvalidRequest(format!(
            "shared task {}: its file could not be imported: {outcome:?}",
            task.id
        )));
    };
    let kind = task
        .kind
        .parse()
        .map_err(|_| StationError::InvalidRequest(format!("unknown task kind {}", task.kind)))?;
    store
        .add_shared_task(
            &store::NewTask {
                item_id,
                kind,
                store_id: task.store_id.clone(),
                confidence: task.confidence,
                reasons: serde_json::to_string(&task.reasons).unwrap_or_default(),
                due_at: None,
                model_output: task.model_output.to_string(),
                versions: task.versions.clone(),
            },
            task.id,
            until,
        )
        .await?;
    Ok(())
}

/// How long a row the shared queue could not take waits before it is tried again.
pub(super) const LATER: Duration = Duration::from_secs(5);

/// The stored form of an outcome.
pub(super) fn stored(outcome: &Outcome, row: &OutboxRow) -> Option<OutboxState> {
    match outcome {
        Outcome::Done => Some(OutboxState {
            state: "done".into(),
            failures: row.failures,
            ..OutboxState::default()
        }),
        Outcome::Parked(reason) => Some(OutboxState {
            state: "parked".into(),
            failures: row.failures,
            reason: Some(reason.clone()),
            ..OutboxState::default()
        }),
        Outcome::Later => Some(OutboxState {
            state: "retrying".into(),
            failures: row.failures,
            next_at_ms: Some(now_ms() + i64::try_from(LATER.as_millis()).unwrap_or(5000)),
            reason: Some("waiting for its task to be raised".into()),
            ..OutboxState::default()
        }),
    }
}

//! An outbox row as the sync crate's state machine sees it, and back: every move the worker
//! makes on a job row goes through `sync::outbox::Job::on`, which refuses impossible ones (a
//! result twice, an upload after the job is done) instead of writing them.

use ::sync::outbox::{Event, Impossible, Job, State};
use store::{OutboxRow, OutboxState};
use time::OffsetDateTime;

fn at_ms(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn ms_of(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// The machine's view of a stored row.
pub(super) fn job_of(row: &OutboxRow) -> Job {
    let state = match row.state.as_str() {
        "uploading" => State::Uploading {
            done: count(row.upload_done),
            total: count(row.upload_total),
        },
        "waiting" => State::WaitingForResult {
            job_id: row.job_id.unwrap_or_default(),
        },
        "retrying" => State::Retrying {
            at: at_ms(row.next_at_ms.unwrap_or_default()),
            reason: row.reason.clone().unwrap_or_default(),
        },
        "parked" => State::Parked {
            reason: row.reason.clone().unwrap_or_default(),
        },
        "done" => State::Done,
        _ => State::Queued,
    };
    Job {
        state,
        failures: u32::try_from(row.failures).unwrap_or(0),
    }
}

/// The stored form of a job; what the state does not say (the upload's size, the server's job
/// id) is kept from the row.
pub(super) fn state_of(job: &Job, row: &OutboxRow) -> OutboxState {
    let mut stored = OutboxState {
        state: String::new(),
        upload_done: row.upload_done,
        upload_total: row.upload_total,
        failures: i64::from(job.failures),
        next_at_ms: None,
        reason: None,
        job_id: row.job_id,
    };
    stored.state = match &job.state {
        State::Queued => "queued",
        State::Uploading { done, total } => {
            stored.upload_done = i64::try_from(*done).unwrap_or(i64::MAX);
            stored.upload_total = i64::try_from(*total).unwrap_or(i64::MAX);
            "uploading"
        }
        State::WaitingForResult { job_id } => {
            stored.job_id = Some(*job_id);
            "waiting"
        }
        State::Retrying { at, reason } => {
            stored.next_at_ms = Some(ms_of(*at));
            stored.reason = Some(reason.clone());
            "retrying"
        }
        State::Parked { reason } => {
            stored.reason = Some(reason.clone());
            "parked"
        }
        State::Done => "done",
    }
    .to_string();
    stored
}

/// The row after `event` at `now_ms`, or why the event cannot happen to it.
pub(super) fn step(row: &OutboxRow, event: Event, now_ms: i64) -> Result<OutboxState, Impossible> {
    let mut job = job_of(row);
    if matches!(job.state, State::Retrying { .. }) && !matches!(event, Event::RetryNow) {
        // a retrying row handed to the worker is due: it is queued again first
        job = job.on(Event::Due, at_ms(now_ms))?;
    }
    let next = job.on(event, at_ms(now_ms))?;
    Ok(state_of(&next, row))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::sync::retry::Decision;
    use std::time::Duration;

    fn row(state: &str) -> OutboxRow {
        OutboxRow {
            id: 1,
            kind: "compliance_check".into(),
            item_id: Some(2),
            idempotency_key: "k".into(),
            input_json: "{}".into(),
            blobs_json: "[]".into(),
            state: state.into(),
            upload_done: 0,
            upload_total: 0,
            failures: 2,
            next_at_ms: Some(1_000),
            reason: Some("503".into()),
            job_id: None,
            first_attempt_ms: Some(0),
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    #[test]
    fn rows_move_through_the_machine_and_impossible_moves_are_refused() {
        let uploading = step(&row("queued"), Event::Uploaded { done: 5, total: 10 }, 0).unwrap();
        assert_eq!(
            (uploading.state.as_str(), uploading.upload_done),
            ("uploading", 5)
        );
        // a due retry is queued, then sent
        let accepted = step(&row("retrying"), Event::Accepted { job_id: 9 }, 2_000).unwrap();
        assert_eq!(
            (accepted.state.as_str(), accepted.job_id),
            ("waiting", Some(9))
        );
        assert_eq!(accepted.failures, 2, "the count goes on until it is done");
        let failed = step(
            &row("queued"),
            Event::Failed {
                decision: Decision::RetryIn(Duration::from_secs(3)),
                reason: "network".into(),
            },
            10_000,
        )
        .unwrap();
        assert_eq!(
            (failed.state.as_str(), failed.next_at_ms, failed.failures),
            ("retrying", Some(13_000), 3)
        );
        assert!(step(&row("done"), Event::Accepted { job_id: 1 }, 0).is_err());
        assert!(step(&row("parked"), Event::Accepted { job_id: 1 }, 0).is_err());
    }
}

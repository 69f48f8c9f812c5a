//! An outbox job's life: queued → (uploading its blobs) → submitted, waiting for its result →
//! done; a failure either schedules a retry or parks the job with its reason, where a person
//! can retry it by hand. Every state says what the sync panel shows. Pure: the database row
//! stores the state; the transport feeds the events.

use std::time::Duration;

use time::OffsetDateTime;

use crate::retry::Decision;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    Queued,
    /// Its blobs are going up (bytes the server has, of all).
    Uploading {
        done: u64,
        total: u64,
    },
    /// The server has the job; its result is pulled by cursor.
    WaitingForResult {
        job_id: i64,
    },
    Retrying {
        at: OffsetDateTime,
        reason: String,
    },
    Parked {
        reason: String,
    },
    Done,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Uploaded {
        done: u64,
        total: u64,
    },
    Accepted {
        job_id: i64,
    },
    Failed {
        decision: Decision,
        reason: String,
    },
    ResultArrived,
    /// A retry's time has come.
    Due,
    /// A person asked for it (the panel's Retry now).
    RetryNow,
}

/// A job's state and how many attempts failed so far (the retry policy's input).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub state: State,
    pub failures: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{event} cannot happen to a job that is {state}")]
pub struct Impossible {
    pub state: String,
    pub event: String,
}

impl Default for Job {
    fn default() -> Self {
        Self {
            state: State::Queued,
            failures: 0,
        }
    }
}

impl Job {
    /// The state after `event` at `now`; an event that cannot happen in this state is refused
    /// (a result that arrives twice, an upload after the job is done), never applied.
    pub fn on(&self, event: Event, now: OffsetDateTime) -> Result<Self, Impossible> {
        use State::*;
        let described = format!("{event:?}");
        let refuse = || Impossible {
            state: self.state.describe(now),
            event: described.clone(),
        };
        let next = |state| {
            Ok(Self {
                state,
                failures: self.failures,
            })
        };
        match (&self.state, event) {
            (Queued | Uploading { .. }, Event::Uploaded { done, total }) => next(Uploading {
                done: done.min(total),
                total,
            }),
            (Queued | Uploading { .. }, Event::Accepted { job_id }) => {
                next(WaitingForResult { job_id })
            }
            // a result for a job it already has is a repeat: the job stays done, once
            (WaitingForResult { .. }, Event::ResultArrived) => next(Done),
            (
                Queued | Uploading { .. } | WaitingForResult { .. },
                Event::Failed { decision, reason },
            ) => {
                let failures = self.failures.saturating_add(1);
                Ok(Self {
                    state: match decision {
                        Decision::RetryIn(wait) => Retrying {
                            at: now + wait,
                            reason,
                        },
                        Decision::Park(why) => Parked {
                            reason: format!("{reason}: {why}"),
                        },
                    },
                    failures,
                })
            }
            (Retrying { .. }, Event::Due) => next(Queued),
            (Retrying { .. } | Parked { .. }, Event::RetryNow) => Ok(Self {
                state: Queued,
                failures: 0,
            }),
            _ => Err(refuse()),
        }
    }
}

impl State {
    /// What the sync panel says of a job in this state.
    pub fn describe(&self, now: OffsetDateTime) -> String {
        match self {
            Self::Queued => "queued".into(),
            Self::Uploading { done, total } => {
                let percent = if *total == 0 {
                    100
                } else {
                    done.saturating_mul(100) / total
                };
                format!("uploading {percent} %")
            }
            Self::WaitingForResult { .. } => "waiting for result".into(),
            Self::Retrying { at, reason } => {
                let wait = Duration::try_from(*at - now).unwrap_or(Duration::ZERO);
                format!("retrying in {} s: {reason}", wait.as_secs())
            }
            Self::Parked { reason } => format!("parked: {reason}"),
            Self::Done => "done".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-12-02 10:00:00 UTC);

    #[test]
    fn a_job_goes_up_waits_and_is_done_once() {
        let job = Job::default();
        let job = job
            .on(
                Event::Uploaded {
                    done: 400,
                    total: 1000,
                },
                NOW,
            )
            .unwrap();
        assert_eq!(job.state.describe(NOW), "uploading 40 %");
        // an interrupted upload goes on from the server's offset, which may be lower
        let job = job
            .on(
                Event::Uploaded {
                    done: 300,
                    total: 1000,
                },
                NOW,
            )
            .unwrap();
        let job = job.on(Event::Accepted { job_id: 7 }, NOW).unwrap();
        assert_eq!(job.state, State::WaitingForResult { job_id: 7 });
        let done = job.on(Event::ResultArrived, NOW).unwrap();
        assert_eq!(done.state, State::Done);
        assert!(
            done.on(Event::ResultArrived, NOW).is_err(),
            "a result is taken once"
        );
        assert!(done.on(Event::Uploaded { done: 1, total: 1 }, NOW).is_err());
    }

    #[test]
    fn failures_retry_later_or_park_and_a_person_can_retry() {
        let job = Job::default();
        let failed = job
            .on(
                Event::Failed {
                    decision: Decision::RetryIn(Duration::from_secs(12)),
                    reason: "503 unavailable".into(),
                },
                NOW,
            )
            .unwrap();
        assert_eq!(failed.failures, 1);
        assert_eq!(
            failed.state.describe(NOW),
            "retrying in 12 s: 503 unavailable"
        );
        assert!(
            failed.on(Event::Accepted { job_id: 1 }, NOW).is_err(),
            "not sent while waiting to retry"
        );
        let due = failed.on(Event::Due, NOW).unwrap();
        assert_eq!(
            (due.state.clone(), due.failures),
            (State::Queued, 1),
            "the count goes on"
        );
        let parked = due
            .on(
                Event::Failed {
                    decision: Decision::Park("the server refused it (422 hash_mismatch)".into()),
                    reason: "photo upload".into(),
                },
                NOW,
            )
            .unwrap();
        assert_eq!(
            parked.state.describe(NOW),
            "parked: photo upload: the server refused it (422 hash_mismatch)"
        );
        assert!(
            parked.on(Event::Due, NOW).is_err(),
            "a parked job waits for a person"
        );
        let again = parked.on(Event::RetryNow, NOW).unwrap();
        assert_eq!((again.state, again.failures), (State::Queued, 0));
    }
}

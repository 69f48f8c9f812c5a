//! When a failed send is tried again, and whether at all: exponential backoff with full jitter
//! (a uniformly random wait up to the exponential step, so many stations coming back online at
//! once do not knock together), the server's `Retry-After` honoured (seconds or an HTTP date)
//! but capped, and the failures that retrying cannot fix parked with their reason.
//!
//! The exponential steps are backon's (the project's retry crate); the jitter is applied here
//! because backon's own adds a random share *on top of* the step (d to 2d), which keeps every
//! station's first retry at least `base` after the failure: full jitter spreads them over
//! [0, d).

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use protocol::ErrorCode;

/// The policy's constants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The first step.
    pub base: Duration,
    /// No wait is longer than this, the server's `Retry-After` included.
    pub cap: Duration,
    /// How long the server keeps idempotency keys: past it, a repeat could run twice, so the job
    /// is parked for reconciliation instead.
    pub retention: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            base: Duration::from_millis(500),
            cap: Duration::from_secs(60),
            retention: Duration::from_secs(24 * 3600),
        }
    }
}

/// What the last attempt came to, as far as retrying goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// No answer: the connection failed, was cut or timed out.
    Network(String),
    /// An HTTP answer: its status, the `{code}` of its body when it had one, and `Retry-After`.
    Http {
        status: u16,
        code: Option<ErrorCode>,
        retry_after: Option<String>,
    },
    /// Something a retry cannot change without a person: the address answers but is no router,
    /// its answer is not the API's, the certificate is not trusted, the clock is far off, the
    /// keyring is locked. The reason is shown as it is.
    Final(String),
}

/// What to do after a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    RetryIn(Duration),
    /// Retrying cannot help (the request is wrong, the key revoked, the quota spent, or the
    /// server's idempotency window has passed): it waits for a person, with the reason.
    Park(String),
}

impl RetryPolicy {
    /// `attempt`: failed attempts so far (1 after the first); `age`: since the first attempt;
    /// `random`: uniform in [0, 1) (injected, so the policy is testable).
    pub fn decide(
        &self,
        failure: &Failure,
        attempt: u32,
        age: Duration,
        random: f64,
        now: time::OffsetDateTime,
    ) -> Decision {
        if age >= self.retention {
            return Decision::Park(format!(
                "not sent within {} h, the server's idempotency window: reconcile before sending again",
                self.retention.as_secs() / 3600
            ));
        }
        let server_wait = match failure {
            Failure::Network(_) => None,
            Failure::Final(reason) => return Decision::Park(reason.clone()),
            Failure::Http {
                status,
                code,
                retry_after,
            } => {
                if let Some(reason) = final_reason(*status, *code) {
                    return Decision::Park(reason);
                }
                retry_after
                    .as_deref()
                    .and_then(|v| parse_retry_after(v, now))
            }
        };
        let jittered = self.step(attempt).mul_f64(random.clamp(0.0, 1.0));
        // the server knows best when it has room; never longer than the cap
        Decision::RetryIn(
            server_wait
                .map_or(jittered, |w| w.max(jittered))
                .min(self.cap),
        )
    }

    /// backon's exponential steps for this policy: `base`, doubling, held at `cap`; no jitter of
    /// its own and no end (the policy parks by age, not by count).
    fn exponential(&self) -> ExponentialBuilder {
        ExponentialBuilder::new()
            .with_min_delay(self.base)
            .with_max_delay(self.cap)
            .with_factor(2.0)
            .without_max_times()
    }

    /// The step after the `attempt`-th failure (1 and 0 alike: the first). Past 64 doublings any
    /// base is past any cap, so the walk stops there instead of counting to a huge `attempt`.
    fn step(&self, attempt: u32) -> Duration {
        let nth = attempt.clamp(1, 64) as usize - 1;
        self.exponential()
            .build()
            .nth(nth)
            .unwrap_or(self.cap)
            .min(self.cap)
    }
}

/// The policy's waits for retries within one call, for backon's `Retryable`: each of backon's
/// exponential steps `d` becomes a uniformly random wait in [0, d) (full jitter). Endless, like
/// the policy: bound it with `.take(n)`.
pub fn full_jitter(policy: &RetryPolicy) -> impl backon::Backoff {
    policy
        .exponential()
        .build()
        .map(|step| step.mul_f64(rand::random::<f64>()))
}

/// Why a status is final (not retried), or `None` when a retry may pass.
fn final_reason(status: u16, code: Option<ErrorCode>) -> Option<String> {
    match (status, code) {
        (408 | 425 | 500..=599, _) => None,
        // in flight elsewhere: the first attempt is still running
        (409, Some(ErrorCode::IdempotencyInProgress)) => None,
        (429, Some(ErrorCode::RateLimited) | None) => None,
        (429, Some(other)) => Some(format!("refused for good by the server ({other})")),
        (400 | 401 | 403 | 404 | 409 | 413 | 422, code) => Some(match code {
            Some(code) => format!("the server refused it ({status} {code})"),
            None => format!("the server refused it ({status})"),
        }),
        (_, code) => Some(format!(
            "unexpected answer {status}{}",
            code.map_or(String::new(), |c| format!(" ({c})"))
        )),
    }
}

/// `Retry-After`: whole seconds, or an HTTP date (IMF-fixdate) — the wait from `now`.
pub fn parse_retry_after(value: &str, now: time::OffsetDateTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let at = time::PrimitiveDateTime::parse(value, format)
        .ok()?
        .assume_utc();
    Some(Duration::try_from(at - now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: time::OffsetDateTime = datetime!(2026-12-02 10:00:00 UTC);

    fn http(status: u16, code: Option<ErrorCode>, retry_after: Option<&str>) -> Failure {
        Failure::Http {
            status,
            code,
            retry_after: retry_after.map(str::to_owned),
        }
    }

    #[test]
    fn waits_grow_exponentially_with_full_jitter_and_stop_at_the_cap() {
        let p = RetryPolicy::default();
        let net = Failure::Network("connection reset".into());
        let wait = |attempt, random| p.decide(&net, attempt, Duration::ZERO, random, NOW);
        assert_eq!(
            wait(1, 0.999_999),
            Decision::RetryIn(Duration::from_millis(500).mul_f64(0.999_999))
        );
        assert_eq!(wait(3, 0.5), Decision::RetryIn(Duration::from_secs(1)));
        assert_eq!(
            wait(1, 0.0),
            Decision::RetryIn(Duration::ZERO),
            "full jitter reaches zero"
        );
        assert_eq!(
            wait(30, 1.0),
            Decision::RetryIn(Duration::from_secs(60)),
            "capped"
        );
        assert_eq!(
            wait(u32::MAX, 1.0),
            Decision::RetryIn(Duration::from_secs(60)),
            "a huge count is the cap, at once"
        );
        let steps: Vec<Duration> = (1..=9)
            .map(|attempt| match wait(attempt, 1.0) {
                Decision::RetryIn(wait) => wait,
                Decision::Park(why) => panic!("{why}"),
            })
            .collect();
        let millis: Vec<u128> = steps.iter().map(Duration::as_millis).collect();
        assert_eq!(
            millis,
            [500, 1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000]
        );
    }

    #[test]
    fn in_call_retries_wait_a_random_share_of_each_step() {
        let p = RetryPolicy {
            base: Duration::from_millis(100),
            cap: Duration::from_millis(800),
            ..RetryPolicy::default()
        };
        let steps = [100u64, 200, 400, 800, 800, 800];
        // many draws: each wait is below its step, and the waits are spread (not all the step
        // itself, which is what backon's own jitter would never go under)
        let mut below_half = 0;
        for _ in 0..200 {
            let waits: Vec<Duration> = full_jitter(&p).take(steps.len()).collect();
            assert_eq!(waits.len(), steps.len(), "endless until taken");
            for (wait, step) in waits.iter().zip(steps) {
                let step = Duration::from_millis(step);
                assert!(*wait < step, "{wait:?} under {step:?}");
                if *wait < step / 2 {
                    below_half += 1;
                }
            }
        }
        let draws = 200 * steps.len();
        assert!(
            (draws / 4..draws * 3 / 4).contains(&below_half),
            "uniform: about half the waits are under half their step ({below_half} of {draws})"
        );
    }

    #[tokio::test]
    async fn full_jitter_drives_backons_retryable() {
        use backon::Retryable;
        use std::sync::atomic::{AtomicU32, Ordering};
        let p = RetryPolicy {
            base: Duration::from_millis(1),
            cap: Duration::from_millis(4),
            ..RetryPolicy::default()
        };
        let calls = AtomicU32::new(0);
        let answer = (|| async {
            match calls.fetch_add(1, Ordering::SeqCst) {
                0 | 1 => Err("not yet"),
                n => Ok(n),
            }
        })
        .retry(full_jitter(&p).take(5))
        .sleep(tokio::time::sleep)
        .await;
        assert_eq!(answer, Ok(2), "the third call passes");
        let gave_up = (|| async { Err::<(), _>("never") })
            .retry(full_jitter(&p).take(2))
            .sleep(tokio::time::sleep)
            .await;
        assert_eq!(gave_up, Err("never"), "bounded by take");
    }

    #[test]
    fn retry_after_is_honoured_in_seconds_or_as_a_date_but_capped() {
        let p = RetryPolicy::default();
        assert_eq!(
            p.decide(
                &http(429, Some(ErrorCode::RateLimited), Some("7")),
                1,
                Duration::ZERO,
                0.0,
                NOW
            ),
            Decision::RetryIn(Duration::from_secs(7))
        );
        let date = http(
            503,
            Some(ErrorCode::Unavailable),
            Some("Wed, 02 Dec 2026 10:00:30 GMT"),
        );
        assert_eq!(
            p.decide(&date, 1, Duration::ZERO, 0.0, NOW),
            Decision::RetryIn(Duration::from_secs(30))
        );
        assert_eq!(
            p.decide(&http(503, None, Some("3600")), 1, Duration::ZERO, 0.0, NOW),
            Decision::RetryIn(Duration::from_secs(60))
        );
        assert_eq!(
            parse_retry_after("Wed, 02 Dec 2026 09:59:00 GMT", NOW),
            Some(Duration::ZERO),
            "a date in the past: now"
        );
        assert_eq!(parse_retry_after("soon", NOW), None);
    }

    #[test]
    fn what_retrying_cannot_fix_is_parked_with_its_reason() {
        let p = RetryPolicy::default();
        let decide = |f: Failure| p.decide(&f, 1, Duration::ZERO, 0.5, NOW);
        for status in [400, 401, 403, 404, 422] {
            assert!(
                matches!(decide(http(status, None, None)), Decision::Park(_)),
                "{status}"
            );
        }
        assert!(
            matches!(
                decide(http(409, Some(ErrorCode::IdempotencyInProgress), None)),
                Decision::RetryIn(_)
            ),
            "in flight: retried"
        );
        assert!(matches!(
            decide(http(409, Some(ErrorCode::OffsetMismatch), None)),
            Decision::Park(_)
        ));
        for status in [408, 500, 502, 503, 504] {
            assert!(
                matches!(decide(http(status, None, None)), Decision::RetryIn(_)),
                "{status}"
            );
        }
        let Decision::Park(reason) = decide(http(422, Some(ErrorCode::HashMismatch), None)) else {
            panic!("parked")
        };
        assert_eq!(reason, "the server refused it (422 hash_mismatch)");
        // past the server's idempotency window a repeat could run twice
        let late = p.decide(
            &Failure::Network("down".into()),
            40,
            Duration::from_secs(25 * 3600),
            0.5,
            NOW,
        );
        assert!(matches!(late, Decision::Park(reason) if reason.contains("idempotency window")));
        assert_eq!(
            decide(Failure::Final("not a router".into())),
            Decision::Park("not a router".into()),
            "a final failure is parked with its reason as it is"
        );
    }
}

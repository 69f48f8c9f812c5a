//! When a failed send is tried again, and whether at all: exponential backoff with full jitter
//! (a uniformly random wait up to the exponential step, so many stations coming back online at
//! once do not knock together), the server's `Retry-After` honoured (seconds or an HTTP date)
//! but capped, and the failures that retrying cannot fix parked with their reason.

use std::time::Duration;

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
        let step = self
            .base
            .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1).min(16)));
        let jittered = step.min(self.cap).mul_f64(random.clamp(0.0, 1.0));
        // the server knows best when it has room; never longer than the cap
        Decision::RetryIn(
            server_wait
                .map_or(jittered, |w| w.max(jittered))
                .min(self.cap),
        )
    }
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
    }
}

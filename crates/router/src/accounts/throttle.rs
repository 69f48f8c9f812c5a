//! How failed sign-ins lock an account: 5 failures within 15 minutes lock it for 15 minutes;
//! each further lock before a successful sign-in lasts twice as long (at most a day). Pure: the
//! store keeps the numbers, this decides.

/// Failures allowed in one window.
pub const MAX_FAILURES: u32 = 5;
/// The window the failures are counted in, and the first lock's length.
pub const WINDOW_MS: i64 = 15 * 60 * 1000;
const MAX_LOCK_MS: i64 = 24 * 60 * 60 * 1000;

/// An account's throttle state as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Throttle {
    pub failures: u32,
    pub failures_since_ms: Option<i64>,
    pub locked_until_ms: Option<i64>,
    pub lockouts: u32,
}

impl Throttle {
    /// Until when the account is locked, when it is now.
    pub fn locked_until(&self, now_ms: i64) -> Option<i64> {
        self.locked_until_ms.filter(|until| *until > now_ms)
    }

    /// The state after one more failure at `now_ms`; a lock starts on the fifth failure in the
    /// window.
    #[must_use]
    pub fn after_failure(self, now_ms: i64) -> Self {
        let in_window = self
            .failures_since_ms
            .is_some_and(|since| now_ms - since < WINDOW_MS);
        let (failures, since) = if in_window {
            (self.failures + 1, self.failures_since_ms)
        } else {
            (1, Some(now_ms))
        };
        if failures >= MAX_FAILURES {
            let factor = 1_i64 << self.lockouts.min(20);
            Self {
                failures: 0,
                failures_since_ms: None,
                locked_until_ms: Some(now_ms + (WINDOW_MS * factor).min(MAX_LOCK_MS)),
                lockouts: self.lockouts + 1,
            }
        } else {
            Self {
                failures,
                failures_since_ms: since,
                locked_until_ms: self.locked_until_ms,
                lockouts: self.lockouts,
            }
        }
    }

    /// After a successful sign-in everything starts over.
    #[must_use]
    pub fn after_success() -> Self {
        Self::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fifth_failure_in_fifteen_minutes_locks_for_fifteen_minutes() {
        let mut t = Throttle::default();
        for i in 0..4 {
            t = t.after_failure(i * 1000);
            assert_eq!(t.locked_until(i * 1000), None, "failure {}", i + 1);
        }
        t = t.after_failure(4000);
        assert_eq!(t.locked_until(4000), Some(4000 + WINDOW_MS));
        assert_eq!(t.locked_until(4000 + WINDOW_MS), None);
    }

    #[test]
    fn failures_spread_over_more_than_the_window_do_not_lock() {
        let mut t = Throttle::default();
        for i in 0..10 {
            t = t.after_failure(i * (WINDOW_MS / 3));
            assert_eq!(
                t.locked_until(i * (WINDOW_MS / 3)),
                None,
                "failure {}",
                i + 1
            );
        }
    }

    #[test]
    fn each_lock_before_a_success_lasts_twice_as_long() {
        let mut t = Throttle::default();
        let mut now = 0;
        let mut lengths = Vec::new();
        for _ in 0..3 {
            for _ in 0..5 {
                t = t.after_failure(now);
            }
            let until = t.locked_until(now).unwrap();
            lengths.push(until - now);
            now = until;
        }
        assert_eq!(lengths, vec![WINDOW_MS, 2 * WINDOW_MS, 4 * WINDOW_MS]);
        let fresh = Throttle::after_success();
        assert_eq!(fresh.lockouts, 0);
        for _ in 0..20 {
            t = t.after_failure(now);
            now = t.locked_until(now).unwrap_or(now);
        }
        assert!(t.locked_until_ms.unwrap() - now <= MAX_LOCK_MS);
    }
}

//! Whether a backend is in rotation: a quota-like error takes it out for a while; too many
//! errors in one UTC day take it out until midnight. While both are out, requests get 503 with
//! the time the first comes back.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use time::OffsetDateTime;

#[derive(Debug)]
pub struct BackendHealth {
    quota_disable: Duration,
    daily_limit: u32,
    inner: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    out_until: Option<Instant>,
    /// Why it is out (for the 503 body and the admin view).
    reason: Option<OutReason>,
    /// Errors counted today (UTC), and which day that is.
    day: Option<time::Date>,
    errors_today: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutReason {
    /// The provider said the quota is spent.
    Quota,
    /// Past the daily error limit.
    DailyLimit,
}

/// A backend's state as admins see it.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct HealthView {
    pub in_rotation: bool,
    pub reason: Option<OutReason>,
    pub back_in_seconds: Option<u64>,
    pub errors_today: u32,
}

impl BackendHealth {
    pub fn new(quota_disable: Duration, daily_limit: u32) -> Self {
        Self {
            quota_disable,
            daily_limit,
            inner: Mutex::new(State::default()),
        }
    }

    pub fn quota_disable(&self) -> Duration {
        self.quota_disable
    }

    pub fn daily_limit(&self) -> u32 {
        self.daily_limit
    }

    /// `None` when in rotation; otherwise how long until it is back.
    pub fn out_for(&self, now: Instant) -> Option<Duration> {
        let mut s = self.lock();
        match s.out_until {
            Some(until) if until > now => Some(until - now),
            Some(_) => {
                s.out_until = None;
                s.reason = None;
                None
            }
            None => None,
        }
    }

    /// A quota-like error: out for the configured time (and counted as an error of the day).
    pub fn quota_exhausted(
        &self,
        now: Instant,
        wall: OffsetDateTime,
        provider_retry_after: Option<Duration>,
    ) -> Duration {
        self.error(now, wall);
        let wait = provider_retry_after.map_or(self.quota_disable, |r| r.max(self.quota_disable));
        let mut s = self.lock();
        let until = now + wait;
        if s.out_until.is_none_or(|u| u < until) {
            s.out_until = Some(until);
            s.reason = Some(OutReason::Quota);
        }
        wait
    }

    /// Any error the backend is to blame for (quota, 5xx, timeout, an unreadable answer).
    pub fn error(&self, now: Instant, wall: OffsetDateTime) {
        let mut s = self.lock();
        let today = wall.date();
        if s.day != Some(today) {
            s.day = Some(today);
            s.errors_today = 0;
        }
        s.errors_today = s.errors_today.saturating_add(1);
        if s.errors_today >= self.daily_limit {
            s.out_until = Some(now + until_midnight(wall));
            s.reason = Some(OutReason::DailyLimit);
        }
    }

    pub fn view(&self, now: Instant) -> HealthView {
        let out = self.out_for(now);
        let s = self.lock();
        HealthView {
            in_rotation: out.is_none(),
            reason: s.reason,
            back_in_seconds: out.map(crate::error::retry_after_secs),
            errors_today: s.errors_today,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // plain values: a panic elsewhere cannot leave them inconsistent
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Time left in the UTC day of `wall`.
pub fn until_midnight(wall: OffsetDateTime) -> Duration {
    let midnight = wall.date().next_day().map(|d| d.midnight().assume_utc());
    midnight.map_or(Duration::from_secs(86_400), |m| {
        Duration::try_from(m - wall).unwrap_or(Duration::from_secs(1))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_quota_error_takes_the_backend_out_for_its_time() {
        let h = BackendHealth::new(Duration::from_secs(60), 1000);
        let now = Instant::now();
        let wall = datetime!(2026-12-02 10:00 UTC);
        assert_eq!(h.out_for(now), None);
        assert_eq!(h.quota_exhausted(now, wall, None), Duration::from_secs(60));
        assert_eq!(
            h.out_for(now + Duration::from_secs(59)),
            Some(Duration::from_secs(1))
        );
        assert_eq!(h.out_for(now + Duration::from_secs(60)), None);
        // the provider's own Retry-After wins when longer
        assert_eq!(
            h.quota_exhausted(now, wall, Some(Duration::from_secs(90))),
            Duration::from_secs(90)
        );
    }

    #[test]
    fn the_daily_limit_lasts_until_midnight_utc() {
        let h = BackendHealth::new(Duration::from_secs(60), 3);
        let now = Instant::now();
        let wall = datetime!(2026-12-02 23:00 UTC);
        h.error(now, wall);
        h.error(now, wall);
        assert_eq!(h.out_for(now), None);
        h.error(now, wall);
        assert_eq!(h.out_for(now), Some(Duration::from_secs(3600)));
        assert_eq!(h.view(now).reason, Some(OutReason::DailyLimit));
        // a new day starts the count again
        let later = now + Duration::from_secs(3600);
        assert_eq!(h.out_for(later), None);
        h.error(later, datetime!(2026-12-03 00:00 UTC));
        assert_eq!(h.view(later).errors_today, 1);
    }
}

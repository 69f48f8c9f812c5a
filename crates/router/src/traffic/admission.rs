//! Admission: a token bucket per client key (governor). A request over its key's rate is
//! refused with 429 and the wait, before any work is done.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

#[derive(Debug)]
pub struct Admission {
    limiter: RateLimiter<i64, DefaultKeyedStateStore<i64>, DefaultClock>,
    clock: DefaultClock,
}

impl Admission {
    pub fn new(per_second: u32, burst: u32) -> Self {
        let rate = NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        Self {
            limiter: RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst)),
            clock: DefaultClock::default(),
        }
    }

    /// `Err(wait)` when the client (by key id) must wait before its next request.
    pub fn admit(&self, client: i64) -> Result<(), Duration> {
        self.limiter
            .check_key(&client)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_past_its_burst_waits_and_others_do_not() {
        let a = Admission::new(1, 3);
        for _ in 0..3 {
            assert_eq!(a.admit(1), Ok(()));
        }
        let wait = a.admit(1).err();
        assert!(
            wait.is_some_and(|w| w > Duration::ZERO && w <= Duration::from_secs(1)),
            "{wait:?}"
        );
        assert_eq!(a.admit(2), Ok(()));
    }
}

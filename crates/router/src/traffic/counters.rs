//! Requests per minute and per 10 seconds, as sliding windows of one-second buckets: they drive
//! spillover and are shown live to admins.

use std::sync::Mutex;
use std::time::Instant;

const BUCKETS: usize = 60;

#[derive(Debug)]
pub struct RateCounters {
    start: Instant,
    inner: Mutex<Buckets>,
}

#[derive(Debug)]
struct Buckets {
    /// Counts per second, indexed by second modulo 60.
    counts: [u32; BUCKETS],
    /// The second each slot holds (a slot from an older minute counts as empty).
    seconds: [u64; BUCKETS],
}

/// What the counters say now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Rates {
    /// Requests in the last 60 seconds.
    pub rpm: u32,
    /// Requests in the last 10 seconds.
    pub rps10: u32,
}

impl Default for RateCounters {
    fn default() -> Self {
        Self::new(Instant::now())
    }
}

impl RateCounters {
    pub fn new(start: Instant) -> Self {
        Self {
            start,
            inner: Mutex::new(Buckets {
                counts: [0; BUCKETS],
                seconds: [u64::MAX; BUCKETS],
            }),
        }
    }

    /// Counts one request at `now`; returns the rates including it.
    pub fn record(&self, now: Instant) -> Rates {
        let second = now.saturating_duration_since(self.start).as_secs();
        let mut b = self.lock();
        let slot = (second % BUCKETS as u64) as usize;
        if b.seconds[slot] != second {
            b.seconds[slot] = second;
            b.counts[slot] = 0;
        }
        b.counts[slot] = b.counts[slot].saturating_add(1);
        rates(&b, second)
    }

    pub fn rates(&self, now: Instant) -> Rates {
        let second = now.saturating_duration_since(self.start).as_secs();
        rates(&self.lock(), second)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Buckets> {
        // plain counters: a panic elsewhere cannot leave them inconsistent
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn rates(b: &Buckets, now: u64) -> Rates {
    let mut rpm = 0u32;
    let mut rps10 = 0u32;
    for (count, &second) in b.counts.iter().zip(b.seconds.iter()) {
        if second == u64::MAX || second > now {
            continue;
        }
        let age = now - second;
        if age < 60 {
            rpm = rpm.saturating_add(*count);
        }
        if age < 10 {
            rps10 = rps10.saturating_add(*count);
        }
    }
    Rates { rpm, rps10 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn windows_slide_by_the_second() {
        let start = Instant::now();
        let c = RateCounters::new(start);
        let at = |s: u64| start + Duration::from_millis(s * 1000 + 500);
        for _ in 0..5 {
            c.record(at(0));
        }
        for _ in 0..3 {
            c.record(at(9));
        }
        assert_eq!(c.rates(at(9)), Rates { rpm: 8, rps10: 8 });
        // 10 s on, the first second has left the 10 s window but not the minute
        assert_eq!(c.rates(at(10)), Rates { rpm: 8, rps10: 3 });
        assert_eq!(c.rates(at(59)), Rates { rpm: 8, rps10: 0 });
        assert_eq!(c.rates(at(60)), Rates { rpm: 3, rps10: 0 });
        // a slot reused a minute later starts from zero
        assert_eq!(c.record(at(60)), Rates { rpm: 4, rps10: 1 });
        assert_eq!(c.rates(at(200)), Rates { rpm: 0, rps10: 0 });
    }
}

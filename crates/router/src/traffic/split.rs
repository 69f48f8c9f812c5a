//! The routing decision: the primary first; past the spill thresholds a configured share goes
//! to the secondary, chosen deterministically (no random sampling: a 0.5 share alternates by
//! parity, other shares interleave evenly, so the split is exact over any run); a backend out
//! of rotation sends its traffic to the other.

use std::sync::atomic::{AtomicU64, Ordering};

use super::counters::Rates;

/// Which backend a request goes to, and why (recorded in the ledger apart from the calls made).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Primary,
    /// Past a threshold, this request was in the spilled share.
    Spillover,
    /// The primary is out of rotation (quota, daily limit).
    PrimaryUnavailable,
    /// The secondary is out of rotation: everything to the primary, thresholds or not.
    SecondaryUnavailable,
}

impl Decision {
    /// The backend chosen: true for the secondary.
    pub fn to_secondary(self) -> bool {
        matches!(self, Self::Spillover | Self::PrimaryUnavailable)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Primary => "primary",
            Self::Spillover => "spillover",
            Self::PrimaryUnavailable => "primary_unavailable",
            Self::SecondaryUnavailable => "secondary_unavailable",
        }
    }
}

#[derive(Debug)]
pub struct Splitter {
    spill_rpm: u32,
    spill_rps10: u32,
    /// The share spilled, in millionths (exact integer arithmetic).
    share_ppm: u64,
    /// Requests past a threshold so far: the n-th is spilled when ⌊n·s⌋ grows.
    spilled_seen: AtomicU64,
}

impl Splitter {
    pub fn new(spill_rpm: u32, spill_rps10: u32, share: f64) -> Self {
        Self {
            spill_rpm,
            spill_rps10,
            share_ppm: (share.clamp(0.0, 1.0) * 1_000_000.0).round() as u64,
            spilled_seen: AtomicU64::new(0),
        }
    }

    /// Decides for one request given the rates including it and which backends are in rotation.
    /// `None`: neither is.
    pub fn decide(&self, rates: Rates, primary_up: bool, secondary_up: bool) -> Option<Decision> {
        match (primary_up, secondary_up) {
            (false, false) => None,
            (false, true) => Some(Decision::PrimaryUnavailable),
            (true, false) => Some(Decision::SecondaryUnavailable),
            (true, true) => {
                let busy = rates.rpm > self.spill_rpm || rates.rps10 > self.spill_rps10;
                if busy && self.take_share() {
                    Some(Decision::Spillover)
                } else {
                    Some(Decision::Primary)
                }
            }
        }
    }

    /// Whether the next request past a threshold is in the spilled share.
    fn take_share(&self) -> bool {
        let n = self.spilled_seen.fetch_add(1, Ordering::Relaxed);
        // n-th of the busy requests (from 0): spilled when the running share crosses an integer
        (n + 1) * self.share_ppm / 1_000_000 > n * self.share_ppm / 1_000_000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUSY: Rates = Rates {
        rpm: 1_000,
        rps10: 1_000,
    };
    const QUIET: Rates = Rates { rpm: 1, rps10: 1 };

    fn run(s: &Splitter, n: usize) -> Vec<bool> {
        (0..n)
            .map(|_| {
                s.decide(BUSY, true, true)
                    .is_some_and(Decision::to_secondary)
            })
            .collect()
    }

    #[test]
    fn a_half_split_alternates() {
        let s = Splitter::new(600, 150, 0.5);
        assert_eq!(run(&s, 6), [false, true, false, true, false, true]);
    }

    #[test]
    fn other_shares_interleave_exactly() {
        let s = Splitter::new(600, 150, 0.3);
        let picks = run(&s, 1000);
        assert_eq!(picks.iter().filter(|&&p| p).count(), 300);
        // evenly: never two spilled in a row at 30 %, and at most 3 kept in a row
        assert!(!picks.windows(2).any(|w| w[0] && w[1]));
        assert!(!picks.windows(4).any(|w| w.iter().all(|&p| !p)));
    }

    #[test]
    fn quiet_traffic_and_unavailable_backends() {
        let s = Splitter::new(600, 150, 1.0);
        assert_eq!(s.decide(QUIET, true, true), Some(Decision::Primary));
        assert_eq!(s.decide(BUSY, true, true), Some(Decision::Spillover));
        assert_eq!(
            s.decide(BUSY, false, true),
            Some(Decision::PrimaryUnavailable)
        );
        assert_eq!(
            s.decide(BUSY, true, false),
            Some(Decision::SecondaryUnavailable)
        );
        assert_eq!(s.decide(BUSY, false, false), None);
        // past either threshold
        assert_eq!(
            s.decide(Rates { rpm: 601, rps10: 0 }, true, true),
            Some(Decision::Spillover)
        );
        assert_eq!(
            s.decide(Rates { rpm: 0, rps10: 151 }, true, true),
            Some(Decision::Spillover)
        );
        assert_eq!(
            s.decide(
                Rates {
                    rpm: 600,
                    rps10: 150
                },
                true,
                true
            ),
            Some(Decision::Primary)
        );
    }
}

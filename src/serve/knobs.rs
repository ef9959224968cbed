//! Realism knobs that act before the model is touched: throttling and injected faults.
//!
//! Both are decided before the request reaches the model, so a throttled or faulted
//! call never changes state, exactly as a client retrying it would assume.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Admits at most `limit` requests per rolling second.
#[derive(Debug)]
pub(super) struct Throttle {
    limit: u32,
    admitted: VecDeque<Instant>,
}

impl Throttle {
    pub(super) fn new(limit: u32) -> Throttle {
        Throttle { limit, admitted: VecDeque::new() }
    }

    /// Whether a request arriving at `now` is admitted (throttled ones do not count).
    pub(super) fn admit(&mut self, now: Instant) -> bool {
        while self
            .admitted
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= Duration::from_secs(1))
        {
            self.admitted.pop_front();
        }
        if self.admitted.len() >= self.limit as usize {
            return false;
        }
        self.admitted.push_back(now);
        true
    }
}

/// One injected fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fault {
    /// Answer 500 InternalServerError.
    InternalError,
    /// Close the connection without an answer.
    Drop,
    /// Wait this long, then answer normally.
    Delay(Duration),
}

/// Decides faults from their own seeded stream, so enabling faults never shifts ids.
#[derive(Debug)]
pub(super) struct Faults {
    probability: f64,
    rng: ChaCha8Rng,
}

impl Faults {
    pub(super) fn new(probability: f64, seed: u64) -> Faults {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(1);
        Faults { probability: probability.clamp(0.0, 1.0), rng }
    }

    /// The fault for the next request, if any.
    pub(super) fn next(&mut self) -> Option<Fault> {
        if self.probability <= 0.0 || !self.rng.random_bool(self.probability) {
            return None;
        }
        Some(match self.rng.random_range(0..3u8) {
            0 => Fault::InternalError,
            1 => Fault::Drop,
            _ => Fault::Delay(Duration::from_millis(self.rng.random_range(50..=300))),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttle_admits_limit_per_rolling_second() {
        let mut t = Throttle::new(2);
        let t0 = Instant::now();
        assert!(t.admit(t0));
        assert!(t.admit(t0));
        assert!(!t.admit(t0 + Duration::from_millis(500)));
        assert!(t.admit(t0 + Duration::from_millis(1000)));
    }

    #[test]
    fn faults_are_seeded_and_cover_every_kind() {
        let run = |seed| {
            let mut f = Faults::new(1.0, seed);
            (0..30).map(|_| f.next()).collect::<Vec<_>>()
        };
        let a = run(3);
        assert_eq!(a, run(3));
        assert!(a.iter().all(Option::is_some));
        assert!(a.contains(&Some(Fault::InternalError)));
        assert!(a.contains(&Some(Fault::Drop)));
        assert!(a.iter().any(|f| matches!(f, Some(Fault::Delay(d)) if *d >= Duration::from_millis(50))));
        assert!(Faults::new(0.0, 3).next().is_none());
    }
}

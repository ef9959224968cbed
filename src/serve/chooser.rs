//! The emulator's decisions where the contract allows more than one answer.
//!
//! Every decision is the model's preferred option (index 0) except whether a user has
//! settled after a change, which depends on the `--settle-ms` window. Generated ids and
//! page tokens come from a seeded ChaCha stream, so one seed gives one id sequence.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rand::{Rng, RngCore};
use rand_chacha::ChaCha8Rng;

use crate::expect::{Choice, Chooser};

/// When each user's faces last changed, keyed by (collection, user).
#[derive(Debug, Default)]
pub(super) struct SettleClock {
    changed: HashMap<(String, String), Instant>,
}

impl SettleClock {
    /// Records that `user`'s faces changed at `at`.
    pub(super) fn touch(&mut self, collection: &str, user: &str, at: Instant) {
        self.changed.insert((collection.to_string(), user.to_string()), at);
    }

    /// Forgets every user of a collection (it was deleted).
    pub(super) fn forget_collection(&mut self, collection: &str) {
        self.changed.retain(|(c, _), _| c != collection);
    }

    /// Whether `user` changed less than `window` before `now`.
    pub(super) fn is_settling(&self, collection: &str, user: &str, now: Instant, window: Duration) -> bool {
        self.changed
            .get(&(collection.to_string(), user.to_string()))
            .is_some_and(|at| now.saturating_duration_since(*at) < window)
    }
}

/// The chooser for one request: the seeded stream plus the settle clock at `now`.
pub(super) struct EmulatorChooser<'a> {
    pub(super) rng: &'a mut ChaCha8Rng,
    pub(super) clock: &'a SettleClock,
    pub(super) now: Instant,
    pub(super) settle: Duration,
}

/// A lower-case v4-format UUID from `rng`.
pub(super) fn uuid_from(rng: &mut ChaCha8Rng) -> String {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    uuid::Builder::from_random_bytes(bytes).into_uuid().hyphenated().to_string()
}

impl Chooser for EmulatorChooser<'_> {
    fn pick(&mut self, choice: &Choice, _options: usize) -> usize {
        match choice {
            // 0 = UPDATING while the window runs, 1 = settled afterwards.
            Choice::UserStatus { collection, user } => {
                usize::from(!self.clock.is_settling(collection, user, self.now, self.settle))
            }
            Choice::Near(_) | Choice::Free | Choice::Unknown(_) => 0,
        }
    }

    fn number(&mut self, _min: f64, _max: f64, sample: f64) -> f64 {
        sample
    }

    fn fresh_id(&mut self) -> String {
        uuid_from(self.rng)
    }

    fn page_token(&mut self) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..48).map(|_| char::from(ALPHABET[self.rng.random_range(0..ALPHABET.len())])).collect()
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::expect::is_lower_uuid;

    #[test]
    fn ids_are_lower_case_v4_and_seeded() {
        let mut a = ChaCha8Rng::seed_from_u64(7);
        let mut b = ChaCha8Rng::seed_from_u64(7);
        let x = uuid_from(&mut a);
        assert!(is_lower_uuid(&x), "{x}");
        assert_eq!(&x[14..15], "4");
        assert_eq!(x, uuid_from(&mut b));
        assert_ne!(x, uuid_from(&mut a));
    }

    #[test]
    fn user_status_follows_the_settle_window() {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let mut clock = SettleClock::default();
        let t0 = Instant::now();
        clock.touch("c", "u", t0);
        let choice = Choice::UserStatus { collection: "c".into(), user: "u".into() };
        let window = Duration::from_millis(100);
        let mut at =
            |now| EmulatorChooser { rng: &mut rng, clock: &clock, now, settle: window }.pick(&choice, 2);
        assert_eq!(at(t0 + Duration::from_millis(10)), 0);
        assert_eq!(at(t0 + Duration::from_millis(150)), 1);
    }
}

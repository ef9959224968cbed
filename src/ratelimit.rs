//! The client-side rate limiter: one pacer per operation (AWS's quotas are per
//! operation), which backs off when the endpoint throttles and grows again while it
//! does not, and the retries each operation needed.
//!
//! Each pacer is unlimited until its operation is first throttled (an endpoint that never
//! throttles is never slowed). Then it paces calls at a rate, AIMD as TCP does:
//!
//! - **Multiplicative decrease.** A throttling answer (ThrottlingException or
//!   ProvisionedThroughputExceededException) sets the rate to [`BACKOFF`] times what it
//!   was; the first one, to [`BACKOFF`] times the calls answered without throttling in
//!   the last second (what the endpoint let through when it started refusing). Calls sent
//!   before a decrease cannot have seen it, so their throttles do not decrease it again,
//!   nor do throttles within a second of it: one decrease per burst of throttles, not per
//!   call.
//! - **Increase.** Each call answered without throttling adds [`GROWTH`] (at most
//!   doubling the rate), so a pacer that keeps succeeding grows by a tenth of its rate
//!   every second, and by at least [`MIN_GROWTH`] requests/s: it finds a quota of 10
//!   requests/s or of 1,000 again in about a second after a decrease, and overshoots it
//!   by little before the next.
//!
//! **A quota shared by every operation.** Some endpoints (an emulator's `--throttle-tps`, a
//! proxy) throttle the total rate, not each operation's. Per-operation pacers then shrink
//! one another: each learns its share at one moment and keeps it while the mix of calls
//! changes. When two different operations are throttled within [`SHARED_WINDOW`] of each
//! other, the limiter takes the quota as shared, for the rest of the run: one endpoint-wide
//! pacer, learning the same way, paces every call, and the per-operation ones are dropped.
//!
//! Pacing is a virtual schedule (GCRA): a call reserves the next free slot and waits
//! for it; the slots are `1 / rate` apart. The pacers take the time as an argument, so
//! their arithmetic is tested step by step; [`Limiter`] adds the clock and the sleeping.
//! It judges nothing: a call throttled to the end is still handed back as it came.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::Serialize;

/// The factor a throttling answer multiplies the rate by. A gentle cut: the average of
/// the sawtooth between a quota and this fraction of it is `(1 + BACKOFF) / 2` of it.
pub const BACKOFF: f64 = 0.9;
/// Requests/s a pacer grows by with each call answered without throttling: a tenth of its
/// rate per second.
pub const GROWTH: f64 = 0.1;
/// The least a pacer grows by per second of calls answered without throttling, in
/// requests/s (so that a slow one recovers in seconds).
pub const MIN_GROWTH: f64 = 1.0;
/// The slowest a pacer gets: one call every 4 s.
pub const MIN_RATE: f64 = 0.25;
/// The fastest a pacer is held to (it is then as good as unlimited).
pub const MAX_RATE: f64 = 100_000.0;
/// How far back the answered calls are counted that the first decrease starts from.
const WINDOW: Duration = Duration::from_secs(1);
/// Throttles of two different operations this close together mean a shared quota.
pub const SHARED_WINDOW: Duration = Duration::from_secs(2);

/// The pacing of one operation.
#[derive(Debug, Clone)]
pub struct Pacer {
    /// Requests per second; `None` until the first throttle.
    rate: Option<f64>,
    /// The earliest free slot.
    next: Option<Instant>,
    /// When the rate was last decreased.
    decreased: Option<Instant>,
    /// When the calls of the last [`WINDOW`] answered without throttling were answered.
    recent: VecDeque<Instant>,
}

impl Default for Pacer {
    fn default() -> Self {
        Pacer::new()
    }
}

impl Pacer {
    /// An unlimited pacer.
    pub fn new() -> Pacer {
        Pacer { rate: None, next: None, decreased: None, recent: VecDeque::new() }
    }

    /// The rate calls are paced at; `None` while unlimited.
    pub fn rate(&self) -> Option<f64> {
        self.rate
    }

    /// Reserves the next slot for a call arriving at `now`: when it may be sent.
    pub fn reserve(&mut self, now: Instant) -> Instant {
        let Some(rate) = self.rate else { return now };
        let slot = self.next.map_or(now, |next| next.max(now));
        self.next = Some(slot + Duration::from_secs_f64(1.0 / rate));
        slot
    }

    /// A call was answered without throttling at `now` (for the first decrease).
    pub fn answered(&mut self, now: Instant) {
        while self.recent.front().is_some_and(|t| now.saturating_duration_since(*t) >= WINDOW) {
            self.recent.pop_front();
        }
        self.recent.push_back(now);
    }

    /// A call sent at `sent` was throttled, as seen at `now`: the rate decreases, unless
    /// it already did after the call was sent or within the last second (a quota is per
    /// second: its throttles come in bursts, one decrease per burst).
    pub fn throttled(&mut self, sent: Instant, now: Instant) {
        if self.decreased.is_some_and(|d| sent < d || now.saturating_duration_since(d) < WINDOW) {
            return;
        }
        let answered = self.recent.iter().filter(|t| now.saturating_duration_since(**t) < WINDOW).count();
        let base = self.rate.unwrap_or(answered.max(1) as f64);
        let rate = (base * BACKOFF).clamp(MIN_RATE, MAX_RATE);
        self.rate = Some(rate);
        self.decreased = Some(now);
        // The next call waits a slot from now, whatever was reserved before.
        let pause = now + Duration::from_secs_f64(1.0 / rate);
        self.next = Some(self.next.map_or(pause, |next| next.max(pause)));
    }

    /// A call was answered without throttling: the rate grows.
    pub fn succeeded(&mut self) {
        if let Some(rate) = self.rate {
            // At most doubling per success: one call at a slow rate stands for a long wait.
            self.rate = Some((rate + GROWTH.max(MIN_GROWTH / rate).min(rate)).min(MAX_RATE));
        }
    }
}

/// The retries one operation needed in a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct OperationRetries {
    /// Calls made (each may take several attempts).
    pub calls: u64,
    /// Attempts beyond each call's first, for any reason (throttling, 5xx, a dropped
    /// connection, a timeout).
    pub retries: u64,
    /// Of those, the ones after a throttling answer.
    pub throttled: u64,
    /// Calls still throttled after every attempt (reported as no answer).
    pub throttled_out: u64,
}

impl OperationRetries {
    /// `12 retries (9 throttled)`, with the calls throttled to the end when there were any.
    pub fn describe(&self) -> String {
        let noun = if self.retries == 1 { "retry" } else { "retries" };
        let mut text = format!("{} {noun} ({} throttled)", self.retries, self.throttled);
        if self.throttled_out > 0 {
            text.push_str(&format!(", {} still throttled after every attempt", self.throttled_out));
        }
        text
    }
}

/// How one round of a call (the SDK's attempts of one send) went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    /// Attempts made (1 when the first one was answered for good).
    pub attempts: u32,
    /// Attempts answered with throttling.
    pub throttled: u32,
    /// Whether the last attempt was throttled too.
    pub throttled_at_end: bool,
}

/// Every operation's pacer and retry counts, shared by all calls of a target.
#[derive(Debug, Default)]
pub struct Limiter {
    pacers: Mutex<Pacers>,
    counts: Mutex<BTreeMap<String, OperationRetries>>,
}

/// The pacers of a target: one per operation, or one for all once the quota is shared.
#[derive(Debug, Default)]
struct Pacers {
    by_operation: HashMap<String, Pacer>,
    /// The endpoint-wide pacer; `Some` once the quota is taken as shared.
    shared: Option<Pacer>,
    /// Calls of every operation answered without throttling, for the shared pacer's
    /// first decrease.
    all: Pacer,
    /// The operation throttled last, and when.
    last_throttle: Option<(String, Instant)>,
}

impl Pacers {
    /// The pacer `operation`'s calls go through.
    fn pacer(&mut self, operation: &str) -> &mut Pacer {
        match &mut self.shared {
            Some(shared) => shared,
            None => self.by_operation.entry(operation.to_string()).or_default(),
        }
    }

    /// `operation` was throttled at `now`: a throttle of another operation shortly before
    /// means the quota is shared, and the endpoint-wide pacer takes over, starting from
    /// what every operation got through in the last second.
    fn note_throttle(&mut self, operation: &str, now: Instant) {
        let other = self
            .last_throttle
            .as_ref()
            .is_some_and(|(op, at)| op != operation && now.saturating_duration_since(*at) < SHARED_WINDOW);
        if other && self.shared.is_none() {
            self.shared = Some(self.all.clone());
            self.by_operation.clear();
        }
        self.last_throttle = Some((operation.to_string(), now));
    }
}

/// Locks a mutex, recovering the data if a previous holder panicked.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Limiter {
    /// A limiter with every operation unlimited.
    pub fn new() -> Limiter {
        Limiter::default()
    }

    /// Waits until `operation` may send; the instant it was let go.
    pub async fn acquire(&self, operation: &str) -> Instant {
        let now = Instant::now();
        let slot = lock(&self.pacers).pacer(operation).reserve(now);
        if slot > now {
            tokio::time::sleep_until(tokio::time::Instant::from_std(slot)).await;
        }
        Instant::now()
    }

    /// One round of `operation`'s call, sent at `sent`, ended: the pacer learns from it.
    /// `first` says whether it was the call's first round (a resend is not a new call).
    pub fn finished(&self, operation: &str, sent: Instant, round: Round, first: bool) {
        self.finished_at(operation, sent, Instant::now(), round, first);
    }

    /// [`Limiter::finished`] at `now`.
    fn finished_at(&self, operation: &str, sent: Instant, now: Instant, round: Round, first: bool) {
        {
            let mut pacers = lock(&self.pacers);
            if round.throttled > 0 {
                pacers.note_throttle(operation, now);
                pacers.pacer(operation).throttled(sent, now);
            }
            if !round.throttled_at_end {
                pacers.all.answered(now);
                let pacer = pacers.pacer(operation);
                pacer.answered(now);
                pacer.succeeded();
            }
        }
        let mut counts = lock(&self.counts);
        let count = counts.entry(operation.to_string()).or_default();
        count.calls += u64::from(first);
        // A resend is a retry too; within a round, every attempt after the first.
        count.retries += u64::from(!first) + u64::from(round.attempts.saturating_sub(1));
        let throttled_then_retried = round.throttled.saturating_sub(u32::from(round.throttled_at_end));
        count.throttled += u64::from(!first) + u64::from(throttled_then_retried);
    }

    /// A call of `operation` ended still throttled after every attempt and resend.
    pub fn gave_up(&self, operation: &str) {
        lock(&self.counts).entry(operation.to_string()).or_default().throttled_out += 1;
    }

    /// The retries each operation needed so far, by operation name.
    pub fn retries(&self) -> BTreeMap<String, OperationRetries> {
        lock(&self.counts).clone()
    }

    /// The rate `operation` is paced at; `None` while unlimited.
    pub fn rate(&self, operation: &str) -> Option<f64> {
        let pacers = lock(&self.pacers);
        match &pacers.shared {
            Some(shared) => shared.rate(),
            None => pacers.by_operation.get(operation).and_then(Pacer::rate),
        }
    }

    /// Whether the endpoint's quota was found to be shared by every operation.
    pub fn shared_quota(&self) -> bool {
        lock(&self.pacers).shared.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn unlimited_until_the_first_throttle() {
        let mut p = Pacer::new();
        let t0 = Instant::now();
        for i in 0..100 {
            assert_eq!(p.reserve(t0 + ms(i)), t0 + ms(i), "an unthrottled pacer never waits");
            p.succeeded();
        }
        assert_eq!(p.rate(), None);
    }

    #[test]
    fn a_throttle_backs_off_from_what_got_through_and_paces() {
        let mut p = Pacer::new();
        let t0 = Instant::now();
        (0..60).for_each(|_| p.answered(t0));
        p.throttled(t0, t0 + ms(1));
        let rate = p.rate().unwrap();
        assert!((rate - 60.0 * BACKOFF).abs() < 1e-9, "{rate}");
        // Slots are 1/rate apart, the first one a slot after the throttle.
        let gap = Duration::from_secs_f64(1.0 / rate);
        let first = p.reserve(t0 + ms(1));
        let second = p.reserve(t0 + ms(1));
        assert_eq!(first, t0 + ms(1) + gap);
        assert_eq!(second, first + gap);
    }

    #[test]
    fn one_decrease_per_round_of_calls() {
        let mut p = Pacer::new();
        let t0 = Instant::now();
        (0..50).for_each(|_| p.answered(t0));
        p.throttled(t0, t0 + ms(10));
        let once = p.rate().unwrap();
        // Calls sent before the decrease report their throttles late: no further decrease.
        for _ in 0..20 {
            p.throttled(t0 + ms(5), t0 + ms(20));
        }
        assert_eq!(p.rate(), Some(once));
        // Sent after it, but within a second of it: the same burst.
        p.throttled(t0 + ms(30), t0 + ms(40));
        assert_eq!(p.rate(), Some(once));
        // A call sent after it and throttled a second later: the rate decreases again.
        p.throttled(t0 + ms(30), t0 + ms(1_010));
        assert!((p.rate().unwrap() - once * BACKOFF).abs() < 1e-9);
    }

    #[test]
    fn recovers_after_backing_off_and_never_below_the_floor() {
        let mut p = Pacer::new();
        let t0 = Instant::now();
        let mut now = t0;
        for _ in 0..100 {
            now += ms(1_000);
            p.throttled(now, now);
        }
        assert_eq!(p.rate(), Some(MIN_RATE));
        // Doubling up to 1 request/s, then MIN_GROWTH requests/s more per second up to
        // 10 (about 50 successes), then a tenth more per second: 300 more, far fewer
        // than 2,000.
        let mut successes = 0;
        while p.rate().unwrap() < 40.0 {
            p.succeeded();
            successes += 1;
            assert!(successes < 2_000, "no recovery: {:?}", p.rate());
        }
        assert!(successes > 10, "grew too fast: {successes}");
        // And a throttle brings it down again.
        let before = p.rate().unwrap();
        now += ms(1_000);
        p.throttled(now, now);
        assert!(p.rate().unwrap() < before);
    }

    #[test]
    fn only_the_last_second_seeds_the_first_decrease() {
        let mut p = Pacer::new();
        let t0 = Instant::now();
        (0..1_000).for_each(|_| p.answered(t0));
        (0..10).for_each(|_| p.answered(t0 + ms(1_500)));
        p.throttled(t0 + ms(1_500), t0 + ms(1_500));
        assert!((p.rate().unwrap() - 10.0 * BACKOFF).abs() < 1e-9);
    }

    const ANSWERED: Round = Round { attempts: 1, throttled: 0, throttled_at_end: false };
    const THROTTLED: Round = Round { attempts: 1, throttled: 1, throttled_at_end: true };

    /// 40 calls of each of `operations` answered at `at`.
    fn answered(limiter: &Limiter, operations: &[&str], at: Instant) {
        for op in operations {
            (0..40).for_each(|_| limiter.finished_at(op, at, at, ANSWERED, true));
        }
    }

    #[test]
    fn a_quota_of_one_operation_paces_that_operation_only() {
        let limiter = Limiter::new();
        let t0 = Instant::now();
        answered(&limiter, &["IndexFaces", "ListUsers"], t0);
        // IndexFaces is throttled again and again, alone: its own quota.
        for i in 0..5 {
            let at = t0 + ms(100 + 1_000 * i);
            limiter.finished_at("IndexFaces", at, at, THROTTLED, true);
        }
        assert!(!limiter.shared_quota());
        assert!(limiter.rate("IndexFaces").is_some());
        assert_eq!(limiter.rate("ListUsers"), None, "ListUsers was never throttled");
        // Another operation throttled long after: still per operation.
        let late = t0 + ms(4_100) + SHARED_WINDOW;
        limiter.finished_at("ListUsers", late, late, THROTTLED, true);
        assert!(!limiter.shared_quota());
        assert_eq!(limiter.rate("DeleteUser"), None);
    }

    #[test]
    fn two_operations_throttled_together_are_one_shared_quota() {
        let limiter = Limiter::new();
        let t0 = Instant::now();
        answered(&limiter, &["IndexFaces", "ListUsers", "SearchUsers"], t0);
        limiter.finished_at("IndexFaces", t0, t0 + ms(10), THROTTLED, true);
        assert!(!limiter.shared_quota(), "one operation throttled is its own quota so far");
        let first = limiter.rate("IndexFaces").unwrap();
        assert!((first - 40.0 * BACKOFF).abs() < 1e-9, "{first}");
        limiter.finished_at("ListUsers", t0, t0 + ms(20), THROTTLED, true);
        assert!(limiter.shared_quota());
        // One pacer for every operation, starting from what all of them got through.
        let shared = limiter.rate("DeleteUser").unwrap();
        assert!((shared - 120.0 * BACKOFF).abs() < 1e-9, "{shared}");
        assert_eq!(limiter.rate("IndexFaces"), Some(shared));
        // It learns as a pacer does: a later burst decreases it once more.
        let later = t0 + ms(1_500);
        limiter.finished_at("SearchUsers", later, later, THROTTLED, true);
        limiter.finished_at("IndexFaces", later, later, THROTTLED, true);
        let decreased = limiter.rate("ListUsers").unwrap();
        assert!((decreased - shared * BACKOFF).abs() < 1e-9, "{decreased}");
    }

    #[test]
    fn counts_retries_per_operation() {
        let limiter = Limiter::new();
        let t = Instant::now();
        // Throttled twice, then answered: 2 retries, both throttled.
        limiter.finished("IndexFaces", t, Round { attempts: 3, throttled: 2, throttled_at_end: false }, true);
        // A 500, then answered: 1 retry, not throttled.
        limiter.finished("IndexFaces", t, Round { attempts: 2, throttled: 0, throttled_at_end: false }, true);
        // Throttled to the end of a round, resent, answered: 3 + 1 retries, 3 throttled.
        limiter.finished("ListUsers", t, Round { attempts: 3, throttled: 3, throttled_at_end: true }, true);
        limiter.finished("ListUsers", t, Round { attempts: 1, throttled: 0, throttled_at_end: false }, false);
        let retries = limiter.retries();
        assert_eq!(
            retries["IndexFaces"],
            OperationRetries { calls: 2, retries: 3, throttled: 2, throttled_out: 0 }
        );
        assert_eq!(retries["IndexFaces"].describe(), "3 retries (2 throttled)");
        assert_eq!(
            retries["ListUsers"],
            OperationRetries { calls: 1, retries: 3, throttled: 3, throttled_out: 0 }
        );
        // Two operations throttled at once: the quota is taken as shared, every call paced.
        assert!(limiter.shared_quota());
        assert!(limiter.rate("DeleteUser").is_some());
    }
}

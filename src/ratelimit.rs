//! The client-side rate limiter: one pacer per operation (AWS's quotas are per
//! operation), which backs off when the endpoint throttles and grows again while it
//! does not, and the retries each operation needed.
//!
//! Each pacer is unlimited until its operation is first throttled (an endpoint that never
//! throttles is never slowed). Then it paces calls at a rate, AIMD as TCP does:
//!
//! - **Multiplicative decrease.** A throttling answer (ThrottlingException or
//!   ProvisionedThroughputExceededException) sets the rate to [`BACKOFF`] times what it
//!   was; the first one, to [`BACKOFF`] times the attempts of the last second (the rate
//!   that was too much). Calls sent before a decrease cannot have seen it, so their
//!   throttles do not decrease it again, nor do throttles within a second of it: one
//!   decrease per burst of throttles, not per call.
//! - **Additive increase.** Each call answered without throttling adds `GROWTH / rate`
//!   (at most doubling the rate), so a pacer that keeps succeeding grows by about
//!   [`GROWTH`] requests/s every second.
//!
//! Pacing is a virtual schedule (GCRA): a call reserves the next free slot and waits
//! for it; the slots are `1 / rate` apart. The pacers take the time as an argument, so
//! their arithmetic is tested step by step; [`Limiter`] adds the clock and the sleeping.
//! It judges nothing: a call throttled to the end is still handed back as it came.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::Serialize;

/// The factor a throttling answer multiplies the rate by.
pub const BACKOFF: f64 = 0.8;
/// Requests/s a pacer grows by per second of calls answered without throttling.
pub const GROWTH: f64 = 10.0;
/// The slowest a pacer gets: one call every 4 s.
pub const MIN_RATE: f64 = 0.25;
/// The fastest a pacer is held to (it is then as good as unlimited).
pub const MAX_RATE: f64 = 100_000.0;
/// How far back the attempts are counted that the first decrease starts from.
const WINDOW: Duration = Duration::from_secs(1);

/// The pacing of one operation.
#[derive(Debug, Clone)]
pub struct Pacer {
    /// Requests per second; `None` until the first throttle.
    rate: Option<f64>,
    /// The earliest free slot.
    next: Option<Instant>,
    /// When the rate was last decreased.
    decreased: Option<Instant>,
    /// When the attempts of the last [`WINDOW`] were answered.
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

    /// `attempts` attempts of a call were answered at `now` (for the first decrease).
    pub fn attempted(&mut self, now: Instant, attempts: u32) {
        while self.recent.front().is_some_and(|t| now.saturating_duration_since(*t) >= WINDOW) {
            self.recent.pop_front();
        }
        self.recent.extend(std::iter::repeat_n(now, attempts as usize));
    }

    /// A call sent at `sent` was throttled, as seen at `now`: the rate decreases, unless
    /// it already did after the call was sent or within the last second (a quota is per
    /// second: its throttles come in bursts, one decrease per burst).
    pub fn throttled(&mut self, sent: Instant, now: Instant) {
        if self.decreased.is_some_and(|d| sent < d || now.saturating_duration_since(d) < WINDOW) {
            return;
        }
        let base = self.rate.unwrap_or(self.recent.len().max(1) as f64);
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
            self.rate = Some((rate + (GROWTH / rate).min(rate)).min(MAX_RATE));
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
    pacers: Mutex<HashMap<String, Pacer>>,
    counts: Mutex<BTreeMap<String, OperationRetries>>,
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
        let slot = lock(&self.pacers).entry(operation.to_string()).or_default().reserve(now);
        if slot > now {
            tokio::time::sleep_until(tokio::time::Instant::from_std(slot)).await;
        }
        Instant::now()
    }

    /// One round of `operation`'s call, sent at `sent`, ended: the pacer learns from it.
    /// `first` says whether it was the call's first round (a resend is not a new call).
    pub fn finished(&self, operation: &str, sent: Instant, round: Round, first: bool) {
        let now = Instant::now();
        {
            let mut pacers = lock(&self.pacers);
            let pacer = pacers.entry(operation.to_string()).or_default();
            pacer.attempted(now, round.attempts);
            if round.throttled > 0 {
                pacer.throttled(sent, now);
            }
            if !round.throttled_at_end {
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
        lock(&self.pacers).get(operation).and_then(Pacer::rate)
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
    fn a_throttle_backs_off_from_the_rate_that_was_too_much_and_paces() {
        let mut p = Pacer::new();
        let t0 = Instant::now();
        p.attempted(t0, 60);
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
        p.attempted(t0, 50);
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
        // Doubling up to GROWTH/s, then about GROWTH requests/s more per second of
        // successes: (40² - 10²) / (2 GROWTH) = 75 more, far fewer than 2,000.
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
        p.attempted(t0, 1_000);
        p.attempted(t0 + ms(1_500), 10);
        p.throttled(t0 + ms(1_500), t0 + ms(1_500));
        assert!((p.rate().unwrap() - 10.0 * BACKOFF).abs() < 1e-9);
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
        assert!(limiter.rate("IndexFaces").is_some(), "IndexFaces was throttled: it is paced");
        assert_eq!(limiter.rate("DeleteUser"), None);
    }
}

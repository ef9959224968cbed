//! Driving cases with proptest: generation from a seeded RNG, shrinking a divergence to
//! a minimal case, and confirming that the minimal case reproduces.
//!
//! proptest's [`TestRunner`] generates `vec(Draw, 1..=max_steps)` from a ChaCha RNG
//! derived from `(seed, partition)`, with no failure-persistence file. A case that
//! diverges fails the property, so proptest shrinks it (fewer steps, simpler values).
//! The minimal case is then run again [`DriveConfig::confirm_runs`] times; it counts as
//! a finding only if every run fails at the same step with the same first mismatch
//! path, else it is reported as flaky. Exploration then goes on with the remaining
//! budget, skipping divergences already found (by [`Divergence::signature`]), so one run
//! reports each distinct divergence once. This module writes no files and prints
//! nothing; it reports through [`Progress`].

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};

use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::case::{CaseResult, CaseRunner, CaseVerdict, Divergence};
use super::coverage::Coverage;
use super::generate::{Draw, case_strategy};
use crate::unknown::Unknown;

/// One worker's share of the seed space: `index` of `count` (1-based), as `K/N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partition {
    /// This worker, 1..=count.
    pub index: u32,
    /// Number of workers.
    pub count: u32,
}

impl Default for Partition {
    fn default() -> Self {
        Partition { index: 1, count: 1 }
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Partition {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("`{s}` is not a partition like 1/4 (worker K of N, 1 <= K <= N)");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let index: u32 = k.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Partition { index, count })
    }
}

impl Partition {
    /// The ChaCha seed of this worker: SHA-256 of the run seed and the worker index, so
    /// workers of one seed explore disjoint streams and each is reproducible alone.
    pub fn worker_seed(&self, seed: u64) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(b"rekcon-fuzz/v1");
        hasher.update(seed.to_le_bytes());
        hasher.update(self.index.to_le_bytes());
        hasher.finalize().into()
    }
}

/// The budget and knobs of one fuzz run.
#[derive(Debug, Clone)]
pub struct DriveConfig {
    /// The run seed; with the partition it decides every case.
    pub seed: u64,
    /// Which worker this is.
    pub partition: Partition,
    /// Cases to explore (shrinking and confirmation runs not counted).
    pub cases: u32,
    /// Most steps per case.
    pub max_steps: usize,
    /// Share of steps that break a constraint.
    pub invalid_share: f64,
    /// Stop starting new cases after this long.
    pub time: Option<Duration>,
    /// Stop after this many findings (0: no limit).
    pub max_findings: usize,
    /// Most shrinking steps per divergence.
    pub max_shrink_iters: u32,
    /// Longest time shrinking one divergence.
    pub max_shrink_time: Duration,
    /// Runs of the minimal case that must all reproduce it.
    pub confirm_runs: usize,
}

impl Default for DriveConfig {
    fn default() -> Self {
        DriveConfig {
            seed: 0,
            partition: Partition::default(),
            cases: 200,
            max_steps: 30,
            invalid_share: 0.15,
            time: None,
            max_findings: 0,
            max_shrink_iters: 2000,
            max_shrink_time: Duration::from_secs(60),
            confirm_runs: 3,
        }
    }
}

/// A divergence shrunk to a minimal case that reproduced on every confirmation run.
#[derive(Debug, Clone)]
pub struct Found {
    /// The minimal case's draws.
    pub draws: Vec<Draw>,
    /// Its first mismatch.
    pub divergence: Divergence,
    /// Steps in the minimal case.
    pub steps: usize,
    /// Steps of the case as first found, before shrinking.
    pub original_steps: usize,
    /// Shrinking candidates that still failed.
    pub shrink_steps: u32,
    /// Time from the start of the run to the first failing case.
    pub found_after: Duration,
    /// Exploration cases run up to and including the first failing one.
    pub found_at_case: u64,
}

/// A divergence whose minimal case did not fail the same way on every confirmation run.
#[derive(Debug, Clone)]
pub struct Flaky {
    /// The minimal case's draws.
    pub draws: Vec<Draw>,
    /// The mismatch it first showed.
    pub divergence: Divergence,
    /// Steps in the minimal case.
    pub steps: usize,
    /// Confirmation runs that reproduced it.
    pub reproduced: usize,
    /// Confirmation runs made.
    pub runs: usize,
}

/// A generated case that could not be loaded or run as written.
#[derive(Debug, Clone)]
pub struct GeneratorBug {
    /// What went wrong.
    pub reason: String,
    /// The case's YAML.
    pub yaml: String,
}

/// What a run did and found.
#[derive(Debug, Clone, Default)]
pub struct DriveOutcome {
    /// Exploration cases run.
    pub cases: u64,
    /// Cases run while shrinking and confirming.
    pub extra_cases: u64,
    /// Calls made and checked, shrinking and confirmation included.
    pub checked_calls: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// Distinct divergences, minimal and confirmed.
    pub findings: Vec<Found>,
    /// Divergences that did not reproduce.
    pub flaky: Vec<Flaky>,
    /// Cases failing like an earlier finding (not shrunk again).
    pub repeats: u64,
    /// Bugs of the generator itself (must stay empty).
    pub generator_bugs: Vec<GeneratorBug>,
    /// What the calls reached.
    pub coverage: Coverage,
    /// Unsettled facts of the contract the calls leaned on.
    pub unknowns: BTreeSet<Unknown>,
    /// Why the endpoint gave no answer, when it stopped the run.
    pub no_answer: Option<String>,
}

impl DriveOutcome {
    /// Checked calls per second of wall time.
    pub fn calls_per_second(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 { self.checked_calls as f64 / secs } else { 0.0 }
    }
}

/// Where a run stands, for a progress display.
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    /// Exploration cases run.
    pub cases: u64,
    /// Exploration cases planned.
    pub planned: u64,
    /// Calls made and checked.
    pub checked_calls: u64,
    /// Wall time so far.
    pub elapsed: Duration,
    /// Divergences confirmed so far.
    pub findings: usize,
    /// Steps of the failing case being shrunk, while shrinking.
    pub shrinking: Option<usize>,
}

/// Receives progress; the CLI draws a bar, tests ignore it.
pub trait Progress {
    /// Called after every case.
    fn update(&self, stats: &Stats);
}

/// Ignores progress.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Progress for Silent {
    fn update(&self, _stats: &Stats) {}
}

/// The run's mutable state, shared with proptest's test closure.
struct Explorer<'a> {
    runner: &'a mut CaseRunner,
    config: &'a DriveConfig,
    progress: &'a dyn Progress,
    started: Instant,
    deadline: Option<Instant>,
    /// Signatures of divergences already found or found flaky.
    known: BTreeSet<String>,
    /// While shrinking: (first failure, when it was found, its case number, its steps).
    shrinking: Option<(Divergence, Duration, u64, usize)>,
    shrink_steps: u32,
    last_failure: Option<(Vec<Draw>, Divergence)>,
    stop: bool,
    outcome: DriveOutcome,
}

impl Explorer<'_> {
    fn stats(&self) -> Stats {
        Stats {
            cases: self.outcome.cases,
            planned: u64::from(self.config.cases),
            checked_calls: self.outcome.checked_calls,
            elapsed: self.started.elapsed(),
            findings: self.outcome.findings.len(),
            shrinking: self.last_failure.as_ref().filter(|_| self.shrinking.is_some()).map(|(d, _)| d.len()),
        }
    }

    fn account(&mut self, result: &CaseResult) {
        self.outcome.checked_calls += result.checked_calls;
        self.outcome.coverage.merge(&result.coverage);
        self.outcome.unknowns.extend(result.unknowns.iter().copied());
        if let CaseVerdict::GeneratorBug(reason) = &result.verdict {
            // Keep the first few: one is enough to fix, a flood helps nobody.
            if self.outcome.generator_bugs.len() < 5 {
                self.outcome
                    .generator_bugs
                    .push(GeneratorBug { reason: reason.clone(), yaml: result.yaml.clone() });
            }
        }
    }

    /// proptest's property: one case; a new divergence fails it.
    fn case(&mut self, draws: Vec<Draw>) -> Result<(), TestCaseError> {
        let shrinking = self.shrinking.is_some();
        if self.stop || (!shrinking && self.deadline.is_some_and(|d| Instant::now() >= d)) {
            self.stop = true;
            // Outside shrinking a rejection ends the run (no global rejects allowed).
            return if shrinking { Ok(()) } else { Err(TestCaseError::reject("budget spent")) };
        }
        if shrinking {
            self.outcome.extra_cases += 1;
        } else {
            self.outcome.cases += 1;
        }
        let result = self.runner.run(&draws);
        self.account(&result);
        let verdict = result.verdict;
        let outcome = match verdict {
            CaseVerdict::Pass | CaseVerdict::GeneratorBug(_) => Ok(()),
            CaseVerdict::NoAnswer(reason) => {
                self.outcome.no_answer.get_or_insert(reason);
                self.stop = true;
                if shrinking { Ok(()) } else { Err(TestCaseError::reject("no answer")) }
            }
            CaseVerdict::Diverged(d) if self.known.contains(&d.signature()) => {
                self.outcome.repeats += 1;
                Ok(())
            }
            CaseVerdict::Diverged(d) => {
                if shrinking {
                    self.shrink_steps += 1;
                } else {
                    self.shrinking =
                        Some((d.clone(), self.started.elapsed(), self.outcome.cases, result.steps));
                    self.shrink_steps = 0;
                }
                let reason = d.to_string();
                self.last_failure = Some((draws, d));
                Err(TestCaseError::fail(reason))
            }
        };
        self.progress.update(&self.stats());
        outcome
    }

    /// Re-runs a minimal case: a finding when every run fails the same way, else flaky.
    fn confirm(&mut self, minimal: Vec<Draw>) {
        let Some((first, found_after, found_at_case, original_steps)) = self.shrinking.take() else { return };
        let last = self.last_failure.take();
        let run = |this: &mut Self| {
            this.outcome.extra_cases += 1;
            let result = this.runner.run(&minimal);
            this.account(&result);
            (result.verdict, result.steps)
        };
        let (reference, steps) = match last {
            Some((draws, d)) if draws == minimal => (Some(d), minimal.len()),
            _ => match run(self) {
                (CaseVerdict::Diverged(d), steps) => (Some(d), steps),
                (_, steps) => (None, steps),
            },
        };
        let mut reproduced = 0;
        if let Some(reference) = &reference {
            for _ in 0..self.config.confirm_runs {
                if let (CaseVerdict::Diverged(d), _) = run(self)
                    && d.same_as(reference)
                {
                    reproduced += 1;
                }
            }
        }
        let divergence = reference.unwrap_or(first);
        self.known.insert(divergence.signature());
        if reproduced == self.config.confirm_runs && self.outcome.no_answer.is_none() {
            self.outcome.findings.push(Found {
                draws: minimal,
                divergence,
                steps,
                original_steps,
                shrink_steps: self.shrink_steps,
                found_after,
                found_at_case,
            });
        } else {
            self.outcome.flaky.push(Flaky {
                draws: minimal,
                divergence,
                steps,
                reproduced,
                runs: self.config.confirm_runs,
            });
        }
        self.progress.update(&self.stats());
    }
}

/// Runs the fuzzer: explores `config.cases` cases (or until `config.time`), shrinks and
/// confirms each new divergence, and returns what it found.
pub fn drive(runner: &mut CaseRunner, config: &DriveConfig, progress: &dyn Progress) -> DriveOutcome {
    let started = Instant::now();
    let strategy = case_strategy(config.invalid_share, config.max_steps);
    let proptest_config = |cases: u32| Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: config.max_shrink_iters,
        max_shrink_time: u32::try_from(config.max_shrink_time.as_millis()).unwrap_or(u32::MAX),
        max_global_rejects: 0,
        ..Config::default()
    };
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &config.partition.worker_seed(config.seed));
    let mut test_runner = TestRunner::new_with_rng(proptest_config(config.cases), rng);
    let explorer = RefCell::new(Explorer {
        runner,
        config,
        progress,
        started,
        deadline: config.time.map(|t| started + t),
        known: BTreeSet::new(),
        shrinking: None,
        shrink_steps: 0,
        last_failure: None,
        stop: false,
        outcome: DriveOutcome::default(),
    });
    loop {
        let result = test_runner.run(&strategy, |draws| explorer.borrow_mut().case(draws));
        let mut ex = explorer.borrow_mut();
        match result {
            Ok(()) | Err(TestError::Abort(_)) => break,
            Err(TestError::Fail(_, minimal)) => {
                ex.confirm(minimal);
                let remaining = u64::from(config.cases).saturating_sub(ex.outcome.cases);
                let enough = config.max_findings > 0 && ex.outcome.findings.len() >= config.max_findings;
                if ex.stop || enough || remaining == 0 {
                    break;
                }
                let rng = test_runner.new_rng();
                test_runner = TestRunner::new_with_rng(
                    proptest_config(u32::try_from(remaining).unwrap_or(u32::MAX)),
                    rng,
                );
            }
        }
    }
    let mut outcome = explorer.into_inner().outcome;
    outcome.elapsed = started.elapsed();
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_parse_and_seed_workers_apart() {
        let p: Partition = "2/4".parse().expect("valid");
        assert_eq!(p, Partition { index: 2, count: 4 });
        assert_eq!(p.to_string(), "2/4");
        for bad in ["0/4", "5/4", "1", "a/b", "1/0"] {
            assert!(bad.parse::<Partition>().is_err(), "{bad}");
        }
        let one = Partition { index: 1, count: 2 };
        assert_ne!(one.worker_seed(7), p.worker_seed(7));
        assert_ne!(one.worker_seed(7), one.worker_seed(8));
        assert_eq!(one.worker_seed(7), Partition { index: 1, count: 3 }.worker_seed(7));
    }
}

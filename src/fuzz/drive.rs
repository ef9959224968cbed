//! Driving cases with proptest: generation from a seeded RNG, shrinking a divergence to
//! a minimal case, and confirming that the minimal case reproduces.
//!
//! proptest's [`TestRunner`] (no failure-persistence file, a ChaCha RNG derived from
//! `(seed, partition)`) supplies value trees of `vec(Draw, 1..=max_steps)`; cases run in
//! batches, one per lane of the [`CaseRunner`], and their results are read in order. A
//! case that diverges is shrunk with proptest's simplify/complicate protocol (fewer
//! draws, simpler values), then step by step (steps a multi-step draw added, FaceIds
//! the failure does not need). The minimal case is run again
//! [`DriveConfig::confirm_runs`] times: it is a finding only if every run fails at the
//! same step with the same first mismatch path, else it is reported as flaky.
//! Exploration then goes on with the remaining budget, skipping divergences already
//! found (by [`Divergence::signature`]), so one run reports each distinct divergence
//! once. This module writes no files and prints nothing; it reports through [`Progress`].

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::case::{CaseResult, CaseRunner, CaseVerdict, Divergence, Running};
use super::coverage::Coverage;
use super::generate::{Draw, GenStep, Generated, case_strategy};
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

/// Cases explored when no budget is given.
pub const DEFAULT_CASES: u32 = 200;

/// [`DriveConfig::cases`] of a run that only its time budget ends.
pub const NO_CASE_LIMIT: u32 = u32::MAX;

/// What ended a fuzz run's exploration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EndedBy {
    /// Every planned case ran (`--cases`, or the default 200).
    #[default]
    Cases,
    /// The time budget (`--time`) was spent.
    Time,
    /// `--max-findings` was reached.
    Findings,
    /// Ctrl-C (or another signal) ended it early.
    Interrupt,
    /// The endpoint stopped it: no answer, a set-up problem, or CreateCollection not implemented.
    Endpoint,
}

impl EndedBy {
    /// The name in reports: `cases`, `time`, `max-findings`, `interrupt`, `endpoint`.
    pub fn name(self) -> &'static str {
        match self {
            EndedBy::Cases => "cases",
            EndedBy::Time => "time",
            EndedBy::Findings => "max-findings",
            EndedBy::Interrupt => "interrupt",
            EndedBy::Endpoint => "endpoint",
        }
    }
}

/// The budget and knobs of one fuzz run.
#[derive(Debug, Clone)]
pub struct DriveConfig {
    /// The run seed; with the partition it decides every case.
    pub seed: u64,
    /// Which worker this is.
    pub partition: Partition,
    /// Cases to explore (shrinking and confirmation runs not counted); [`NO_CASE_LIMIT`]
    /// when only [`DriveConfig::time`] ends the run.
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
    /// Set from outside (Ctrl-C) to end the run early: no new cases start, shrinking
    /// stops at the smallest failing case so far, and what was found is still confirmed
    /// and reported.
    pub interrupt: Option<Arc<AtomicBool>>,
    /// Signatures of known causes (`--baseline`): a case that fails with one is counted
    /// as a repeat, never stops the run and is not shrunk again.
    pub known: BTreeSet<String>,
}

impl Default for DriveConfig {
    fn default() -> Self {
        DriveConfig {
            seed: 0,
            partition: Partition::default(),
            cases: DEFAULT_CASES,
            max_steps: 30,
            invalid_share: 0.15,
            time: None,
            max_findings: 0,
            max_shrink_iters: 500,
            max_shrink_time: Duration::from_secs(60),
            confirm_runs: 3,
            interrupt: None,
            known: BTreeSet::new(),
        }
    }
}

/// A divergence shrunk to a minimal case that reproduced on every confirmation run.
#[derive(Debug, Clone)]
pub struct Found {
    /// The minimal case.
    pub generated: Generated,
    /// Its first mismatch.
    pub divergence: Divergence,
    /// Steps in the minimal case.
    pub steps: usize,
    /// Steps of the case as first found, before shrinking.
    pub original_steps: usize,
    /// Shrinking candidates that still failed (proptest's; step removals not counted).
    pub shrink_steps: u32,
    /// Time from the start of the run to the first failing case.
    pub found_after: Duration,
    /// Exploration cases run up to and including the first failing one.
    pub found_at_case: u64,
}

/// A divergence whose minimal case did not fail the same way on every confirmation run.
#[derive(Debug, Clone)]
pub struct Flaky {
    /// The minimal case.
    pub generated: Generated,
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
    /// The hint, when the endpoint refused rekcon's own set-up and that stopped the run.
    pub setup_problem: Option<String>,
    /// Operations the endpoint does not implement, with the first evidence.
    pub not_implemented: BTreeMap<String, String>,
    /// Whether the run was interrupted before its budget was spent.
    pub interrupted: bool,
    /// Which budget (or event) ended the exploration.
    pub ended_by: EndedBy,
}

impl DriveOutcome {
    /// Notes an operation the endpoint does not implement; whether the run must stop
    /// (without CreateCollection nothing else can be reached).
    fn note_not_implemented(&mut self, operation: String, evidence: String) -> bool {
        let stop = operation == crate::api::Operation::CreateCollection.name();
        self.not_implemented.entry(operation).or_insert(evidence);
        stop
    }

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

/// The run's mutable state.
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
    /// Candidates run while shrinking the current failure, and since when.
    shrink_tries: u32,
    shrink_started: Instant,
    last_failure: Option<(Vec<Draw>, Divergence)>,
    stop: bool,
    outcome: DriveOutcome,
}

/// A batch of cases drawn and started: under way, or finished with its results.
enum Started {
    Running(Running),
    Done(Vec<CaseResult>),
}

impl Started {
    /// Waits for the batch to finish, keeping its results.
    fn finish(&mut self) {
        *self = Started::Done(std::mem::replace(self, Started::Done(Vec::new())).results());
    }

    /// Starts no further case of the batch (see [`Running::cancel`]).
    fn cancel(&self) {
        if let Started::Running(running) = self {
            running.cancel();
        }
    }

    /// The batch's results, once it has finished.
    fn results(self) -> Vec<CaseResult> {
        match self {
            Started::Running(running) => running.wait(),
            Started::Done(results) => results,
        }
    }
}

impl Explorer<'_> {
    fn stats(&self) -> Stats {
        Stats {
            cases: self.outcome.cases,
            planned: u64::from(self.config.cases),
            checked_calls: self.outcome.checked_calls,
            elapsed: self.started.elapsed(),
            findings: self.outcome.findings.len(),
            shrinking: self
                .last_failure
                .as_ref()
                .filter(|_| self.shrinking.is_some())
                .map(|(d, _)| self.runner.steps(d)),
        }
    }

    /// Whether shrinking the current failure has used its candidates or its time, or
    /// the run was interrupted.
    fn shrink_spent(&self) -> bool {
        self.shrink_tries >= self.config.max_shrink_iters
            || self.shrink_started.elapsed() >= self.config.max_shrink_time
            || self.interrupted()
    }

    /// Draws the next batch of up to `size` cases and starts it, unless the cases
    /// planned are all drawn, the time is up or the run was interrupted.
    fn start_batch<S: Strategy<Value = Vec<Draw>>>(
        &mut self,
        strategy: &S,
        test_runner: &mut TestRunner,
        drawn: &mut u64,
        size: usize,
    ) -> Option<(Vec<S::Tree>, Started)> {
        let planned = u64::from(self.config.cases);
        if *drawn >= planned || self.interrupted() || self.deadline.is_some_and(|d| Instant::now() >= d) {
            return None;
        }
        let size = usize::try_from(planned - *drawn).unwrap_or(usize::MAX).min(size);
        // The strategy has no filters, so a tree is always drawn; stop rather than spin.
        let trees: Vec<S::Tree> = (0..size).map_while(|_| strategy.new_tree(test_runner).ok()).collect();
        if trees.is_empty() {
            return None;
        }
        *drawn += trees.len() as u64;
        let batch: Vec<Vec<Draw>> = trees.iter().map(ValueTree::current).collect();
        Some((trees, Started::Running(self.runner.start_batch(&batch))))
    }

    /// Whether the run was asked to end early.
    fn interrupted(&self) -> bool {
        self.config.interrupt.as_ref().is_some_and(|flag| flag.load(Ordering::Relaxed))
    }

    /// Counts a case's calls and coverage; `generated` when proptest's draws made it (a
    /// step-shrunk case that no longer loads or runs is a rejected candidate, not a bug).
    fn account(&mut self, result: &CaseResult, generated: bool) {
        self.outcome.checked_calls += result.checked_calls;
        self.outcome.coverage.merge(&result.coverage);
        self.outcome.unknowns.extend(result.unknowns.iter().copied());
        if generated && let CaseVerdict::GeneratorBug(reason) = &result.verdict {
            // Keep the first few: one is enough to fix, a flood helps nobody.
            if self.outcome.generator_bugs.len() < 5 {
                self.outcome
                    .generator_bugs
                    .push(GeneratorBug { reason: reason.clone(), yaml: result.yaml.clone() });
            }
        }
    }

    /// Shrinks a failing case with proptest's value-tree protocol (as `TestRunner::run`
    /// does): simplify while the candidate still fails with a new divergence, complicate
    /// when it passes, until the tree is exhausted or the shrinking budget is spent.
    /// Returns the last failing draws.
    fn shrink<T: ValueTree<Value = Vec<Draw>>>(
        &mut self,
        mut tree: T,
        first: Divergence,
        steps: usize,
    ) -> Vec<Draw> {
        let mut minimal = tree.current();
        self.shrinking = Some((first.clone(), self.started.elapsed(), self.outcome.cases, steps));
        self.last_failure = Some((minimal.clone(), first));
        self.shrink_steps = 0;
        self.shrink_tries = 0;
        self.shrink_started = Instant::now();
        if !tree.simplify() {
            return minimal;
        }
        while !self.shrink_spent() && !self.stop {
            let candidate = tree.current();
            let fails = self.try_candidate(&candidate);
            let moved = if fails {
                minimal = candidate;
                tree.simplify()
            } else {
                tree.complicate()
            };
            if !moved {
                break;
            }
        }
        minimal
    }

    /// Runs a shrinking candidate; whether it fails with a divergence not found before.
    fn try_candidate(&mut self, draws: &[Draw]) -> bool {
        self.shrink_tries += 1;
        self.outcome.extra_cases += 1;
        let result = self.runner.run(draws);
        self.account(&result, true);
        let fails = match result.verdict {
            CaseVerdict::Diverged(d) if !self.known.contains(&d.signature()) => {
                self.shrink_steps += 1;
                self.last_failure = Some((draws.to_vec(), d));
                true
            }
            CaseVerdict::NoAnswer(reason) => {
                self.outcome.no_answer.get_or_insert(reason);
                self.stop = true;
                false
            }
            CaseVerdict::SetupProblem(hint) => {
                self.outcome.setup_problem.get_or_insert(hint);
                self.stop = true;
                false
            }
            CaseVerdict::NotImplemented { operation, evidence } => {
                self.stop |= self.outcome.note_not_implemented(operation, evidence);
                false
            }
            _ => false,
        };
        self.progress.update(&self.stats());
        fails
    }

    /// Runs generated steps as a case, counted as shrinking or confirmation work.
    fn run_steps(&mut self, generated: &Generated) -> CaseVerdict {
        self.outcome.extra_cases += 1;
        let result = self.runner.run_generated(generated);
        self.account(&result, false);
        result.verdict
    }

    /// Shrinks proptest's minimal case further, at the level of scenario steps: drops each
    /// step (last first) whose captures nothing later uses, and halves or thins FaceIds
    /// lists, keeping a change when the case still fails with the same signature. Draws
    /// are shrunk as a whole; this removes what a multi-step draw added that the failure
    /// does not need.
    fn shrink_steps(
        &mut self,
        mut generated: Generated,
        mut reference: Divergence,
    ) -> (Generated, Divergence) {
        let signature = reference.signature();
        let deadline = self.step_shrink_deadline();
        let mut changed = true;
        while changed && self.started.elapsed() < deadline && !self.interrupted() {
            changed = false;
            let mut candidates: Vec<Generated> = Vec::new();
            for i in (0..generated.steps.len()).rev() {
                if generated.steps.len() > 1 && removable(&generated, i) {
                    let mut candidate = generated.clone();
                    candidate.steps.remove(i);
                    candidates.push(candidate);
                }
            }
            candidates.extend(thinner_face_lists(&generated));
            for candidate in candidates {
                if self.started.elapsed() >= deadline || self.interrupted() {
                    break;
                }
                // A candidate must fail twice running: a case that fails only by chance
                // (list order follows generated ids) is no smaller reproduction.
                let fails = |verdict: CaseVerdict| match verdict {
                    CaseVerdict::Diverged(d) if d.signature() == signature => Some(d),
                    _ => None,
                };
                if let Some(d) = fails(self.run_steps(&candidate))
                    && fails(self.run_steps(&candidate)).is_some_and(|again| again.same_as(&d))
                {
                    generated = candidate;
                    reference = d;
                    changed = true;
                    // The other candidates were made from the old case.
                    break;
                }
            }
        }
        prune_captures(&mut generated);
        (generated, reference)
    }

    fn step_shrink_deadline(&self) -> Duration {
        self.started.elapsed() + self.config.max_shrink_time
    }

    /// How many of [`DriveConfig::confirm_runs`] runs of `generated` fail like `reference`.
    fn reproductions(&mut self, generated: &Generated, reference: &Divergence) -> usize {
        (0..self.config.confirm_runs)
            .filter(|_| matches!(self.run_steps(generated), CaseVerdict::Diverged(d) if d.same_as(reference)))
            .count()
    }

    /// Re-runs a minimal case: a finding when every run fails the same way, else flaky.
    fn confirm(&mut self, minimal: Vec<Draw>) {
        let Some((first, found_after, found_at_case, original_steps)) = self.shrinking.take() else { return };
        let last = self.last_failure.take();
        let generated = self.runner.generated(&minimal);
        let reference = match last {
            Some((draws, d)) if draws == minimal => Some(d),
            _ => match self.run_steps(&generated) {
                CaseVerdict::Diverged(d) => Some(d),
                _ => None,
            },
        };
        // The step-shrunk case first; should it not reproduce, proptest's minimal case.
        let mut tries = vec![(generated.clone(), reference.clone())];
        if let Some(d) = reference.clone()
            && self.outcome.no_answer.is_none()
        {
            let (g, d) = self.shrink_steps(generated, d);
            tries.insert(0, (g, Some(d)));
        }
        let mut outcome = None;
        for (generated, reference) in tries {
            let reproduced = match &reference {
                Some(reference) => self.reproductions(&generated, reference),
                None => 0,
            };
            let done = reproduced == self.config.confirm_runs;
            if outcome.is_none() || done {
                outcome = Some((generated, reference, reproduced));
            }
            if done {
                break;
            }
        }
        let Some((generated, reference, reproduced)) = outcome else { return };
        let divergence = reference.unwrap_or(first);
        self.known.insert(divergence.signature());
        let steps = generated.steps.len();
        if reproduced == self.config.confirm_runs && self.outcome.no_answer.is_none() {
            self.outcome.findings.push(Found {
                generated,
                divergence,
                steps,
                original_steps,
                shrink_steps: self.shrink_steps,
                found_after,
                found_at_case,
            });
        } else {
            self.outcome.flaky.push(Flaky {
                generated,
                divergence,
                steps,
                reproduced,
                runs: self.config.confirm_runs,
            });
        }
        self.progress.update(&self.stats());
    }
}

/// Whether step `i` can go: no later step refers to a value it captures.
fn removable(generated: &Generated, i: usize) -> bool {
    let GenStep::Call { captures, .. } = &generated.steps[i] else { return true };
    let later: Vec<String> = generated.steps[i + 1..].iter().map(step_text).collect();
    captures.iter().all(|(name, _)| {
        let reference = format!("${{{name}}}");
        !later.iter().any(|text| text.contains(&reference))
    })
}

/// Variants of `generated` with one FaceIds list shorter: each half, or (for short
/// lists) one element fewer.
fn thinner_face_lists(generated: &Generated) -> Vec<Generated> {
    let mut out = Vec::new();
    for (i, step) in generated.steps.iter().enumerate() {
        let GenStep::Call { request, .. } = step else { continue };
        let Some(ids) = request.get("FaceIds").and_then(serde_json::Value::as_array) else { continue };
        if ids.len() < 2 {
            continue;
        }
        let half = ids.len() / 2;
        let mut lists = vec![ids[..half].to_vec(), ids[half..].to_vec()];
        if ids.len() <= 8 {
            lists.extend(
                (0..ids.len()).map(|k| {
                    ids.iter().enumerate().filter(|(j, _)| *j != k).map(|(_, v)| v.clone()).collect()
                }),
            );
        }
        for list in lists {
            let mut candidate = generated.clone();
            if let GenStep::Call { request, .. } = &mut candidate.steps[i] {
                request["FaceIds"] = serde_json::Value::Array(list);
            }
            out.push(candidate);
        }
    }
    out
}

/// Drops captures no later step refers to, so the written case shows only what matters.
fn prune_captures(generated: &mut Generated) {
    let texts: Vec<String> = generated.steps.iter().map(step_text).collect();
    for (i, step) in generated.steps.iter_mut().enumerate() {
        if let GenStep::Call { captures, .. } = step {
            captures.retain(|(name, _)| {
                let reference = format!("${{{name}}}");
                texts[i + 1..].iter().any(|t| t.contains(&reference))
            });
        }
    }
}

/// The text of a step where references can appear.
fn step_text(step: &GenStep) -> String {
    match step {
        GenStep::Call { request, .. } => request.to_string(),
        GenStep::Raw { body, .. } => body.clone(),
    }
}

/// Runs the fuzzer: explores `config.cases` cases (or until `config.time`), a batch of
/// one case per lane at a time, then shrinks and confirms each new divergence (one case
/// at a time), and returns what it found.
///
/// proptest's [`TestRunner`] supplies the seeded RNG and the value trees; the batches
/// are drawn in order, and within a batch results are read in order, so a seed (and
/// partition) repeats the run.
pub fn drive(runner: &mut CaseRunner, config: &DriveConfig, progress: &dyn Progress) -> DriveOutcome {
    let started = Instant::now();
    // An interrupt ends a batch too: the cases under way finish, no other starts.
    runner.set_interrupt(config.interrupt.clone());
    // So does the end of the time budget.
    runner.set_deadline(config.time.map(|t| started + t));
    let strategy = case_strategy(config.invalid_share, config.max_steps);
    let proptest_config = Config { cases: config.cases, failure_persistence: None, ..Config::default() };
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &config.partition.worker_seed(config.seed));
    let mut test_runner = TestRunner::new_with_rng(proptest_config, rng);
    // A few cases per lane per batch, so lanes rarely wait for each other.
    let batch_size = if runner.lanes() > 1 { runner.lanes() * 4 } else { 1 };
    let mut ex = Explorer {
        runner,
        config,
        progress,
        started,
        deadline: config.time.map(|t| started + t),
        known: config.known.clone(),
        shrinking: None,
        shrink_steps: 0,
        shrink_tries: 0,
        shrink_started: started,
        last_failure: None,
        stop: false,
        outcome: DriveOutcome::default(),
    };
    let planned = u64::from(config.cases);
    let mut ended_by = EndedBy::Cases;
    // Lanes of their own (in-process) have two batches under way at once: each lane
    // moves on to the next batch as soon as the current one has nothing left for it,
    // instead of waiting for its slowest case. Results are still read batch by batch, in
    // order, so a seed repeats the run. Lanes sharing an endpoint run one batch at a
    // time: a case of the next batch would change the ids the emulator hands out to the
    // shrinking of this one's finding.
    let overlap = ex.runner.isolated_lanes();
    let mut drawn = 0u64;
    let mut next = ex.start_batch(&strategy, &mut test_runner, &mut drawn, batch_size);
    'explore: while let Some((trees, batch)) = next.take() {
        if overlap && !ex.stop {
            next = ex.start_batch(&strategy, &mut test_runner, &mut drawn, batch_size);
        }
        for (tree, result) in trees.into_iter().zip(batch.results()) {
            ex.outcome.cases += 1;
            ex.account(&result, true);
            let steps = result.steps;
            match result.verdict {
                CaseVerdict::Pass | CaseVerdict::GeneratorBug(_) => {}
                CaseVerdict::NoAnswer(reason) => {
                    ex.outcome.no_answer.get_or_insert(reason);
                    ex.stop = true;
                    ended_by = EndedBy::Endpoint;
                }
                CaseVerdict::SetupProblem(hint) => {
                    ex.outcome.setup_problem.get_or_insert(hint);
                    ex.stop = true;
                    ended_by = EndedBy::Endpoint;
                }
                CaseVerdict::NotImplemented { operation, evidence } => {
                    if ex.outcome.note_not_implemented(operation, evidence) {
                        ex.stop = true;
                        ended_by = EndedBy::Endpoint;
                    }
                }
                CaseVerdict::Diverged(d) if ex.known.contains(&d.signature()) => ex.outcome.repeats += 1,
                CaseVerdict::Diverged(d) => {
                    // Shrinking and confirming run alone: the emulator's id stream, and so
                    // what the finding shows, then follow from the seed.
                    if let Some((_, batch)) = next.as_mut() {
                        batch.finish();
                    }
                    let minimal = ex.shrink(tree, d, steps);
                    ex.confirm(minimal);
                    if config.max_findings > 0 && ex.outcome.findings.len() >= config.max_findings {
                        ex.stop = true;
                        ended_by = EndedBy::Findings;
                    }
                }
            }
            ex.progress.update(&ex.stats());
            if ex.stop {
                // The batch started after this one is not read: what it found is past
                // the end of the run. Its cases under way finish first.
                if let Some((_, batch)) = next.take() {
                    batch.cancel();
                    drop(batch.results());
                }
                break 'explore;
            }
        }
        if !overlap && !ex.stop {
            next = ex.start_batch(&strategy, &mut test_runner, &mut drawn, batch_size);
        }
        if next.is_none() && ex.outcome.cases < planned && ex.deadline.is_some_and(|d| Instant::now() >= d) {
            ended_by = EndedBy::Time;
        }
    }
    // An interrupted batch ran only the cases started before it (counted), shrinking
    // nothing more.
    let interrupted = ex.interrupted();
    let mut outcome = ex.outcome;
    outcome.interrupted = interrupted;
    outcome.ended_by = if interrupted { EndedBy::Interrupt } else { ended_by };
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

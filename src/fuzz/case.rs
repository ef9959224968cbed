//! One fuzz case: draws → steps → loaded scenario → run → verdict.
//!
//! A case goes through the scenario loader's checks exactly as a file would, built from
//! the document [`to_yaml`] would write ([`Loader::build`]) rather than from its text,
//! so what the fuzzer checks is what `rekcon run` checks, and a finding written out as a
//! file replays the same way. The YAML is written only for a case that did not pass
//! (what becomes a finding or a bug report). A generated case the loader rejects, or one
//! whose capture finds nothing in a conforming answer, is a bug in the generator,
//! reported as such and never as a divergence.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::coverage::Coverage;
use super::exec::Executor;
use super::generate::{Draw, GenConfig, Generated, generate, to_document, to_yaml};
use super::pool::{Pending, Pool, wait_all};
use crate::check::Layer;
use crate::report::{ScenarioReport, Verdict};
use crate::scenario::Loader;
use crate::unknown::Unknown;

/// Runs of a throttled case after the first.
pub const THROTTLE_RETRIES: usize = 3;
/// The pause before running again a case that got no answer for `reason`
/// ([`crate::error::NoAnswer::retry_pause`]).
fn transient_pause(reason: &str) -> Option<std::time::Duration> {
    crate::error::NoAnswer::retry_pause(reason)
}

/// The first mismatch of a diverging case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Divergence {
    /// 1-based step of the case.
    pub step: usize,
    /// The operation or `X-Amz-Target` of the call that diverged.
    pub operation: String,
    /// Which check found it: `protocol` or `contract` (`scenario` never happens for generated cases).
    pub layer: String,
    /// Where in the response (`UserStatus`, `(header) Content-Type`, ...).
    pub path: String,
    /// What the contract allows there.
    pub expected: String,
    /// What the endpoint sent.
    pub actual: String,
}

impl Divergence {
    /// What identifies a bug across cases: its root-cause signature
    /// ([`crate::cause::Signature`]) — layer, operation (any, for protocol faults; one
    /// for every unknown target), path with list positions dropped, and the classes of
    /// what was expected and what came. `CreateCollections` and `ListUserss` answered
    /// `InvalidAction` are one finding.
    pub fn signature(&self) -> String {
        let layer = match self.layer.as_str() {
            "protocol" | "wire" => crate::cause::CauseLayer::Protocol,
            _ => crate::cause::CauseLayer::Contract,
        };
        let mismatch = crate::expect::Mismatch {
            path: self.path.clone(),
            expected: self.expected.clone(),
            actual: self.actual.clone(),
        };
        crate::cause::Signature::from_mismatch(layer, &self.operation, &mismatch).to_string()
    }

    /// The path with list positions dropped: positions follow generated ids (list order
    /// is by FaceId), so they change from run to run while the bug stays.
    pub fn general_path(&self) -> String {
        crate::cause::general_path(&self.path)
    }

    /// Whether `other` is the same failure: same step, operation and first mismatch path
    /// (list positions aside).
    pub fn same_as(&self, other: &Divergence) -> bool {
        self.step == other.step
            && self.operation == other.operation
            && self.general_path() == other.general_path()
    }
}

impl std::fmt::Display for Divergence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = if self.path.is_empty() { "(outcome)" } else { &self.path };
        write!(
            f,
            "step {} {}: [{}] {path}: expected {}, got {}",
            self.step, self.operation, self.layer, self.expected, self.actual
        )
    }
}

/// How a case ended.
#[derive(Debug, Clone, PartialEq)]
pub enum CaseVerdict {
    /// Every call conformed.
    Pass,
    /// The endpoint diverged from the model.
    Diverged(Divergence),
    /// The endpoint gave no answer (transport, timeout, throttling after retries).
    NoAnswer(String),
    /// The endpoint does not implement an operation the case needs.
    NotImplemented {
        /// The operation.
        operation: String,
        /// The evidence (`HTTP 501 NotImplementedError`).
        evidence: String,
    },
    /// The endpoint refused rekcon's own signature, credentials, clock or permissions:
    /// the hint. Never a finding: the campaign stops and writes no regression file.
    SetupProblem(String),
    /// The generated case could not be loaded or run as written: a rekcon bug.
    GeneratorBug(String),
}

/// What one case did.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// How it ended.
    pub verdict: CaseVerdict,
    /// Calls made and checked, ListUsers polls before searches included.
    pub checked_calls: u64,
    /// What the calls reached.
    pub coverage: Coverage,
    /// Unsettled facts of the contract the calls leaned on.
    pub unknowns: BTreeSet<Unknown>,
    /// The case as scenario YAML (description left generic) when it did not pass;
    /// empty for a case that passed, whose YAML nobody reads.
    pub yaml: String,
    /// Steps in the case.
    pub steps: usize,
}

/// Runs cases: generates, loads and executes them, numbering each run uniquely. With
/// several lanes (executors), a batch of cases runs side by side. Each lane lives on a
/// thread of its own for the runner's lifetime ([`Pool`]).
pub struct CaseRunner {
    pool: Pool<Lane>,
    shared: Arc<Shared>,
    /// Set when the run should stop: no case of a batch starts after it.
    interrupt: Option<Arc<AtomicBool>>,
    /// No case of a batch starts after it (`--time`).
    deadline: Option<Instant>,
    /// Whether every executor is [`Executor::isolated`].
    isolated: bool,
}

/// What every lane reads.
struct Shared {
    /// The scenarios folder whose `images/` holds the fixtures.
    root: PathBuf,
    gen_config: GenConfig,
    /// The last case number given out: each run of a case gets the next.
    ordinal: AtomicUsize,
}

/// One executor and its loader (which reads each fixture image once).
struct Lane {
    executor: Box<dyn Executor + Send>,
    loader: Loader,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for CaseRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaseRunner")
            .field("root", &self.shared.root)
            .field("lanes", &self.pool.len())
            .finish()
    }
}

/// A batch of cases the lanes claim one at a time.
struct Batch {
    draws: Vec<Vec<Draw>>,
    next: AtomicUsize,
    interrupt: Option<Arc<AtomicBool>>,
    deadline: Option<Instant>,
    /// Set by [`Running::cancel`].
    cancelled: AtomicBool,
}

impl Batch {
    fn stopped(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
            || self.interrupt.as_ref().is_some_and(|flag| flag.load(Ordering::Relaxed))
            || self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    /// Claims and runs cases until none is left (or the interrupt is set): each lane
    /// takes the next case not yet taken, so short and long cases balance out. A case
    /// that panics is reported as a harness error and the lane goes on.
    fn work(&self, lane: &mut Lane) -> Vec<(usize, CaseResult)> {
        let mut done = Vec::new();
        // Cases are claimed in order, so the ones an interrupt leaves unstarted are the
        // batch's tail.
        while !self.stopped() {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            let Some(draws) = self.draws.get(i) else { break };
            let generated = generate(draws, &lane.shared.gen_config);
            let result =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| lane.run_generated(&generated)))
                    .unwrap_or_else(|_| panicked(&generated));
            done.push((i, result));
        }
        done
    }
}

impl CaseRunner {
    /// Cases on `executor`; scenarios load with `root` (the scenarios folder whose
    /// `images/` holds the fixtures).
    pub fn new(executor: Box<dyn Executor + Send>, root: &Path, gen_config: GenConfig) -> CaseRunner {
        CaseRunner::with_lanes(vec![executor], root, gen_config)
    }

    /// Cases on several executors at once (at least one is needed; an empty list runs
    /// nothing and reports every case as a generator bug).
    pub fn with_lanes(
        executors: Vec<Box<dyn Executor + Send>>,
        root: &Path,
        gen_config: GenConfig,
    ) -> CaseRunner {
        let isolated = executors.iter().all(|e| e.isolated());
        let shared = Arc::new(Shared { root: root.to_path_buf(), gen_config, ordinal: AtomicUsize::new(0) });
        let lanes = executors
            .into_iter()
            .map(|executor| Lane { executor, loader: Loader::new(root), shared: Arc::clone(&shared) })
            .collect();
        CaseRunner {
            pool: Pool::new(lanes, "rekcon-lane"),
            shared,
            interrupt: None,
            deadline: None,
            isolated,
        }
    }

    /// Whether every lane's cases are seen by no other lane ([`Executor::isolated`]), so
    /// that batches may overlap without changing what any case sees.
    pub fn isolated_lanes(&self) -> bool {
        self.isolated
    }

    /// How many cases run at once.
    pub fn lanes(&self) -> usize {
        self.pool.len().max(1)
    }

    /// How many scenario steps `draws` make (a draw may make several).
    pub fn steps(&self, draws: &[Draw]) -> usize {
        self.generated(draws).steps.len()
    }

    /// The steps `draws` make.
    pub fn generated(&self, draws: &[Draw]) -> Generated {
        generate(draws, &self.shared.gen_config)
    }

    /// Loads and runs generated steps (a shrunk case) on the first lane.
    pub fn run_generated(&mut self, generated: &Generated) -> CaseResult {
        if self.pool.is_empty() {
            return no_lane(generated);
        }
        let case = generated.clone();
        self.pool
            .on(0, move |lane: &mut Lane| lane.run_generated(&case))
            .unwrap_or_else(|| panicked(generated))
    }

    /// Stops each batch from starting cases once `flag` is set (a signal, a request
    /// budget): the cases under way finish, the rest of the batch is left out of its
    /// results.
    pub fn set_interrupt(&mut self, flag: Option<Arc<AtomicBool>>) {
        self.interrupt = flag;
    }

    /// Stops each batch from starting cases at `deadline` (the end of a `--time`
    /// budget), as [`CaseRunner::set_interrupt`] does.
    pub fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.deadline = deadline;
    }

    /// Generates, loads and runs one case (see [`CaseRunner::run_batch`]).
    pub fn run(&mut self, draws: &[Draw]) -> CaseResult {
        let generated = self.generated(draws);
        self.run_generated(&generated)
    }

    /// Generates, loads and runs cases side by side: each lane takes the next case not
    /// yet taken (and generates it), so short and long cases balance out. Results come
    /// back in order: all of them, or, once the interrupt is set or the deadline passed,
    /// those of the cases started before.
    pub fn run_batch(&mut self, batch: &[Vec<Draw>]) -> Vec<CaseResult> {
        self.start_batch(batch).wait()
    }

    /// Starts a batch (see [`CaseRunner::run_batch`]) without waiting for it. A batch
    /// started while another runs is taken up by each lane as soon as it has nothing
    /// left of the first, so no lane waits for the slowest case of a batch. Cases run
    /// later through [`CaseRunner::run`] queue behind the batches started before.
    pub fn start_batch(&mut self, batch: &[Vec<Draw>]) -> Running {
        let work = Arc::new(Batch {
            draws: batch.to_vec(),
            next: AtomicUsize::new(0),
            interrupt: self.interrupt.clone(),
            deadline: self.deadline,
            cancelled: AtomicBool::new(false),
        });
        let job = Arc::clone(&work);
        let answers = if self.pool.is_empty() {
            Vec::new()
        } else {
            self.pool.submit_all(move |lane: &mut Lane| job.work(lane))
        };
        Running { work, answers, shared: Arc::clone(&self.shared) }
    }

    /// Deletes anything cases left behind.
    pub fn finish(&mut self) -> crate::report::CleanupSummary {
        let mut summary = crate::report::CleanupSummary::default();
        for done in self.pool.on_all(|lane: &mut Lane| lane.executor.finish()).into_iter().flatten() {
            summary.deleted += done.deleted;
            summary.failed.extend(done.failed);
        }
        summary
    }
}

/// A batch under way ([`CaseRunner::start_batch`]).
#[must_use = "a batch's results are read with `wait`"]
pub struct Running {
    work: Arc<Batch>,
    /// One per lane: none when there was no lane to run the batch on.
    answers: Pending<Vec<(usize, CaseResult)>>,
    shared: Arc<Shared>,
}

impl Running {
    /// Starts no further case of the batch: the ones under way finish, and
    /// [`Running::wait`] gives their results.
    pub fn cancel(&self) {
        self.work.cancelled.store(true, Ordering::Relaxed);
    }

    /// Waits for the batch: the results of the cases it started, in order.
    pub fn wait(self) -> Vec<CaseResult> {
        let generated = |draws: &[Draw]| generate(draws, &self.shared.gen_config);
        if self.answers.is_empty() {
            return self.work.draws.iter().map(|draws| no_lane(&generated(draws))).collect();
        }
        let batch = &self.work.draws;
        let mut results: Vec<Option<CaseResult>> = vec![None; batch.len()];
        for (i, result) in wait_all(self.answers).into_iter().flatten().flatten() {
            results[i] = Some(result);
        }
        results.truncate(self.work.next.load(Ordering::Relaxed).min(batch.len()));
        results
            .into_iter()
            .zip(batch)
            .map(|(r, draws)| r.unwrap_or_else(|| panicked(&generated(draws))))
            .collect()
    }
}

/// The description of a generated case's scenario.
const DESCRIPTION: &str = "A generated case.";

/// The result of a case that had nowhere to run.
fn no_lane(generated: &Generated) -> CaseResult {
    not_run(generated, "no executor to run cases on")
}

/// The result of a case whose run panicked (a rekcon bug, reported as a generator bug).
fn panicked(generated: &Generated) -> CaseResult {
    not_run(generated, "harness error: the case's thread panicked")
}

/// A case that made no call, reported as a generator bug for `reason`.
fn not_run(generated: &Generated, reason: &str) -> CaseResult {
    with_yaml(
        CaseResult {
            verdict: CaseVerdict::GeneratorBug(reason.into()),
            ..CaseResult::empty(generated.steps.len())
        },
        generated,
    )
}

/// `result` with the case's YAML, written when it did not pass.
fn with_yaml(mut result: CaseResult, generated: &Generated) -> CaseResult {
    if result.verdict != CaseVerdict::Pass {
        result.yaml = to_yaml(generated, DESCRIPTION);
    }
    result
}

impl CaseResult {
    /// A case of `steps` steps that passed with no call made.
    fn empty(steps: usize) -> CaseResult {
        CaseResult {
            verdict: CaseVerdict::Pass,
            checked_calls: 0,
            coverage: Coverage::default(),
            unknowns: BTreeSet::new(),
            yaml: String::new(),
            steps,
        }
    }
}

impl Lane {
    /// Runs one generated case. A case the endpoint throttled (or answered another
    /// transient error, see [`transient_pause`]) past the SDK's retries runs again after a
    /// pause (at most [`THROTTLE_RETRIES`] times): nothing it did survives (its
    /// collections are deleted), and it runs again under a fresh ordinal.
    fn run_generated(&mut self, generated: &Generated) -> CaseResult {
        let mut result = self.run_once(generated);
        for _ in 0..THROTTLE_RETRIES {
            let CaseVerdict::NoAnswer(reason) = &result.verdict else { break };
            let Some(pause) = transient_pause(reason) else { break };
            std::thread::sleep(pause);
            let calls = result.checked_calls;
            result = self.run_once(generated);
            result.checked_calls += calls;
        }
        with_yaml(result, generated)
    }

    /// Loads and runs a case under a fresh ordinal (it names the case's collections),
    /// built from its document without its YAML ([`Loader::build`]).
    fn run_once(&mut self, generated: &Generated) -> CaseResult {
        let ordinal = self.shared.ordinal.fetch_add(1, Ordering::Relaxed) + 1;
        let name = format!("fuzz/case-{ordinal}");
        let path = self.shared.root.join("fuzz").join(format!("case-{ordinal}.yaml"));
        let mut result = CaseResult::empty(generated.steps.len());
        let (document, steps_at) = to_document(generated, DESCRIPTION);
        let scenario = match self.loader.build(&name, &path, &document, &steps_at) {
            Ok(scenario) => scenario,
            Err(built) => {
                // The text's error places it in the file the report shows.
                let error = self.loader.parse(&name, &path, &to_yaml(generated, DESCRIPTION)).err();
                let e = error.map_or_else(|| format!("{built} (its YAML loads)"), |e| e.to_string());
                result.verdict = CaseVerdict::GeneratorBug(format!("the generated case does not load: {e}"));
                return result;
            }
        };
        let report = self.executor.run(ordinal, &scenario);
        result.checked_calls = report.records.iter().map(|r| 1 + r.settle_polls as u64).sum();
        result.coverage.record_calls(&report.records);
        result.verdict = verdict_of(&report);
        result.unknowns = report.unknowns;
        result
    }
}

/// Reads a case's verdict from its scenario report.
fn verdict_of(report: &ScenarioReport) -> CaseVerdict {
    match &report.verdict {
        Verdict::Pass => CaseVerdict::Pass,
        Verdict::Diverged { step, .. } | Verdict::Contradiction { step, .. } => {
            let Some(record) = report.deciding_record() else {
                return CaseVerdict::GeneratorBug(format!("step {step} diverged without a record"));
            };
            let finding =
                record.findings.iter().find(|f| f.is_divergence()).or_else(|| record.findings.first());
            let (layer, mismatch) = match finding {
                Some(f) => (f.layer, f.mismatch.clone()),
                None => return CaseVerdict::GeneratorBug(format!("step {step} diverged without a finding")),
            };
            CaseVerdict::Diverged(Divergence {
                step: *step,
                operation: record.call_name().to_string(),
                layer: match layer {
                    Layer::Wire => "protocol",
                    Layer::Model => "contract",
                    Layer::Scenario => "scenario",
                }
                .to_string(),
                path: mismatch.path,
                expected: mismatch.expected,
                actual: mismatch.actual,
            })
        }
        Verdict::NoAnswer { step, reason, .. } => CaseVerdict::NoAnswer(format!("step {step}: {reason}")),
        Verdict::Blocked { operation, evidence, .. } => {
            CaseVerdict::NotImplemented { operation: operation.clone(), evidence: evidence.clone() }
        }
        Verdict::SetupProblem { hint, .. } => CaseVerdict::SetupProblem(hint.clone()),
        Verdict::BadScenario { reason, .. } => CaseVerdict::GeneratorBug(reason.clone()),
        Verdict::HarnessError { reason } => CaseVerdict::GeneratorBug(format!("harness error: {reason}")),
        // --max-requests stopped the case (and the campaign): what was judged conformed.
        Verdict::NotRun { reason } if reason.contains("--max-requests") => CaseVerdict::Pass,
        Verdict::NotRun { reason } => CaseVerdict::GeneratorBug(format!("not run: {reason}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_ignore_list_positions() {
        let d = |path: &str| Divergence {
            step: 3,
            operation: "AssociateFaces".into(),
            layer: "contract".into(),
            path: path.into(),
            expected: "x".into(),
            actual: "y".into(),
        };
        assert_eq!(
            d("UnsuccessfulFaceAssociations[0].Reasons[1]").signature(),
            d("UnsuccessfulFaceAssociations[2].Reasons[0]").signature()
        );
        assert_ne!(d("UserStatus").signature(), d("AssociatedFaces").signature());
        assert!(d("Faces[3].UserId").same_as(&d("Faces[0].UserId")));
        assert!(!d("Faces[3].UserId").same_as(&d("Faces[3].FaceId")));
    }
}

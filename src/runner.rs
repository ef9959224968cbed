//! Running scenarios: per step, substitute references, ask the model what the contract
//! allows, settle users when the call depends on them, call the target, check the answer
//! on the wire, against the model and against the step's expectation, record it, capture
//! values, and stop at the first step that fails. Scenarios run concurrently, each with
//! its own run-scoped collections, which are deleted at the end — after a failure, a
//! panic or Ctrl-C too.
//!
//! The runner owns no I/O format: it produces [`ScenarioReport`]s; [`crate::report`]
//! renders them. [`run_command`] is `rekcon run`.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::task::JoinSet;

use crate::api::{self, ErrorCode, Operation, Request};
use crate::check::{self, Expectation, Finding, Layer, Unjudgeable};
use crate::config::{EndpointChoice, RunArgs, RunConfig};
use crate::error::{LoadError, NoAnswer};
use crate::expect::{Allowed, Mismatch, Observed};
use crate::filter::Selector;
use crate::model::{Model, ModelConfig};
use crate::report::baseline::{self, Baseline};
use crate::report::{
    CleanupSummary, EXIT_BAD_INPUT, FORMAT_VERSION, Repro, RunMetadata, RunReport, ScenarioReport,
    StepRecord, Stop, StopKind, Verdict,
};
use crate::scenario::{self, Action, Bindings, Expect, RawBody, Scenario, Step};
use crate::target::{Call, Target};
use crate::unknown::Unknown;

mod concurrent;

pub use concurrent::LinearCounts;

/// First wait between ListUsers polls while users settle.
const SETTLE_FIRST_DELAY: Duration = Duration::from_millis(25);
/// Longest wait between ListUsers polls.
const SETTLE_MAX_DELAY: Duration = Duration::from_secs(1);
/// A not-found answer this soon after the session's last write may be read-after-write
/// lag (contract §9.20), and is asked again before it counts.
const LAG_WINDOW: Duration = Duration::from_secs(10);
/// Times a lagging not-found is asked again, waiting 50, 100, 200, 400 ms (750 ms in all).
const LAG_RETRIES: usize = 4;
/// First wait before asking a lagging not-found again.
const LAG_FIRST_DELAY: Duration = Duration::from_millis(50);
/// Runs of a scenario after a transient no answer (see [`Runner::run_scenario`]).
pub const SCENARIO_RERUNS: usize = 2;
/// How far apart the ordinals of a scenario's runs are (its collections are named by them).
const RERUN_ORDINAL_STRIDE: usize = 1_000_000;
/// Longest time the final cleanup may take after an interrupt.
const CLEANUP_AFTER_INTERRUPT: Duration = Duration::from_secs(30);

/// How a run behaves, besides where it sends calls.
#[derive(Debug, Clone)]
pub struct RunSettings {
    /// 8 hex digits naming this run in every collection it creates.
    pub run_id: String,
    /// Longest wait for users to settle before a step that depends on them.
    pub settle_timeout: Duration,
    /// Refuse to create a collection without the run prefix (set for real AWS).
    pub require_run_prefix: bool,
    /// How reports spell the command that reproduces a scenario.
    pub repro: Repro,
    /// What the model knows about the endpoint (region, account).
    pub model: ModelConfig,
    /// `--fail-fast`: start no scenario after one that did not pass.
    pub fail_fast: bool,
    /// `--max-requests`: the calls the scenarios may still send (see [`crate::budget`]).
    pub budget: Option<Arc<crate::budget::RequestBudget>>,
}

impl RunSettings {
    /// Settings with a fresh random run id, a 60 s settle timeout and no prefix rule.
    pub fn new(repro: Repro) -> RunSettings {
        let run_id = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
        RunSettings {
            run_id,
            settle_timeout: Duration::from_secs(60),
            require_run_prefix: false,
            repro,
            model: ModelConfig::default(),
            fail_fast: false,
            budget: None,
        }
    }
}

/// How one step ended.
#[derive(Debug, Clone, PartialEq)]
pub enum StepOutcome {
    /// The answer conformed and met the expectation.
    Conformed,
    /// The endpoint diverged from the model (wire or semantics).
    Diverged,
    /// The expectation and the model disagree.
    Contradiction,
    /// No answer.
    NoAnswer(NoAnswer),
    /// The endpoint does not implement the operation; the evidence.
    NotImplemented(String),
    /// The endpoint refused rekcon's own credentials, signature, clock or permissions;
    /// the hint. Nothing about the endpoint is judged.
    SetupProblem(String),
    /// The step cannot be run as written.
    BadStep(String),
    /// A capture found nothing in the answer: a bad step if the endpoint has conformed
    /// so far, else a consequence of its divergence.
    CaptureMissing(String),
    /// The answer cannot be read, and the call may have changed state: the model can no
    /// longer follow the endpoint.
    Unfollowable(String),
    /// The endpoint conformed, but the scenario cannot go on: it needs what the
    /// endpoint's own face detection did not give (`--faces endpoint`).
    NotApplicable(String),
    /// `--max-requests` was reached before the call was sent: nothing more is judged.
    BudgetSpent(String),
}

/// Drives scenarios through the model and one target. Build once per run.
#[derive(Debug)]
pub struct Runner {
    target: Target,
    settings: RunSettings,
    /// Every collection a CreateCollection was sent for, with the scenario ordinal that sent it.
    created: Mutex<BTreeMap<String, usize>>,
    /// How the `concurrent:` blocks run so far were judged.
    linear: Mutex<LinearCounts>,
}

impl Runner {
    /// A runner over `target`.
    pub fn new(target: Target, settings: RunSettings) -> Runner {
        Runner { target, settings, created: Mutex::new(BTreeMap::new()), linear: Mutex::default() }
    }

    /// The target calls go to.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The run's settings.
    pub fn settings(&self) -> &RunSettings {
        &self.settings
    }

    /// `rekcon-<run>-`: the start of every collection name this run creates.
    pub fn run_prefix(&self) -> String {
        format!("rekcon-{}-", self.settings.run_id)
    }

    /// `rekcon-<run>-<ordinal>-`: the start of scenario `ordinal`'s collection names.
    pub fn collection_prefix(&self, ordinal: usize) -> String {
        format!("rekcon-{}-{ordinal}-", self.settings.run_id)
    }

    /// A fresh session (new model, no bindings) for scenario number `ordinal`.
    pub fn session(&self, ordinal: usize) -> Session<'_> {
        Session {
            runner: self,
            ordinal,
            model: Model::new(self.settings.model.clone()),
            bindings: Bindings::default(),
            records: Vec::new(),
            unknowns: BTreeSet::new(),
            diverged_at: None,
            last_write: None,
            touched: BTreeMap::new(),
            others: Vec::new(),
        }
    }

    /// A fresh session for `scenario` as number `ordinal`: its collections and images
    /// bound, and its folder's catalogue given to the model, which cannot tell who a real
    /// photo shows otherwise.
    pub fn scenario_session(&self, ordinal: usize, scenario: &Scenario) -> Session<'_> {
        let mut session = self.session(ordinal);
        session.bindings = Bindings::new(scenario, &self.collection_prefix(ordinal));
        session.model.set_catalogue(scenario.catalogue.clone());
        session
    }

    /// Runs one scenario to its end, then deletes its collections.
    ///
    /// A divergence does not stop the scenario: the model follows what the endpoint did,
    /// so every later step is judged and every divergence reported. The scenario stops
    /// only where the endpoint's state can no longer be followed (no answer, an operation
    /// not implemented, an answer that cannot be read, a capture that finds nothing), and
    /// the report then says which steps were not judged and why.
    ///
    /// A scenario that got no answer for a transient reason (a 5xx, throttling or a
    /// dropped connection still there after the SDK's retries) is run again from its
    /// start, at most [`SCENARIO_RERUNS`] times, as the fuzzer runs such a case again;
    /// the report's first call says so.
    pub async fn run_scenario(&self, ordinal: usize, scenario: &Scenario) -> ScenarioReport {
        let mut report = self.run_scenario_once(ordinal, scenario).await;
        for rerun in 1..=SCENARIO_RERUNS {
            let Verdict::NoAnswer { reason, .. } = &report.verdict else { break };
            let Some(pause) = NoAnswer::retry_pause(reason) else { break };
            let why = format!(
                "run again ({rerun} of at most {SCENARIO_RERUNS}) after a transient no answer: {reason}"
            );
            tokio::time::sleep(pause).await;
            // Under a new ordinal: new collection names, so nothing the first run left on
            // the endpoint (a collection, a ClientRequestToken built from its name) is met
            // again and taken for a replay.
            report = self.run_scenario_once(ordinal + rerun * RERUN_ORDINAL_STRIDE, scenario).await;
            if let Some(first) = report.records.first_mut() {
                first.note = Some(match first.note.take() {
                    Some(note) => format!("{why}; {note}"),
                    None => why,
                });
            }
        }
        report
    }

    async fn run_scenario_once(&self, ordinal: usize, scenario: &Scenario) -> ScenarioReport {
        let started = Instant::now();
        let mut session = self.scenario_session(ordinal, scenario);
        let mut stop = None;
        let mut budget_spent = None;
        let mut next = 0;
        while let Some(block) = concurrent::block_at(&scenario.steps, next) {
            next += block.len();
            let step = &block[block.len() - 1];
            // While earlier racing calls leave several possible states, every step is
            // judged against all of them, as a block of one.
            let outcome = match step.concurrent {
                None if session.others.is_empty() => session.run_step(step).await,
                _ => session.run_concurrent(block).await,
            };
            let at = |kind: StopKind, reason: String| Stop {
                step: step.index,
                line: step.line,
                column: step.column,
                kind,
                reason,
                operation: step.operation_name(),
                not_judged: (step.index < scenario.steps.len())
                    .then(|| (step.index + 1, scenario.steps.len())),
                not_judged_operations: scenario.steps[step.index.min(scenario.steps.len())..]
                    .iter()
                    .map(Step::operation_name)
                    .collect(),
            };
            stop = match outcome {
                StepOutcome::Conformed | StepOutcome::Diverged | StepOutcome::Contradiction => continue,
                StepOutcome::NoAnswer(no) => Some(at(StopKind::NoAnswer, no.reason)),
                StepOutcome::NotImplemented(evidence) => Some(at(StopKind::NotImplemented, evidence)),
                StepOutcome::SetupProblem(hint) => Some(at(StopKind::SetupProblem, hint)),
                StepOutcome::BadStep(reason) => Some(at(StopKind::BadStep, reason)),
                // The endpoint conformed; what it detected leaves the rest unjudgeable.
                StepOutcome::NotApplicable(reason) => Some(at(StopKind::NotApplicable, reason)),
                StepOutcome::CaptureMissing(reason) if session.diverged_at.is_none() => {
                    Some(at(StopKind::BadStep, reason))
                }
                StepOutcome::CaptureMissing(reason) | StepOutcome::Unfollowable(reason) => {
                    Some(at(StopKind::Unfollowable, reason))
                }
                StepOutcome::BudgetSpent(reason) => {
                    budget_spent = Some(format!("step {}: {reason}", step.index));
                    None
                }
            };
            break;
        }
        let verdict = match budget_spent {
            // What was judged before the cap stands; the rest is not run, never a verdict.
            Some(reason) if !session.records.iter().any(|r| r.diverged() || r.contradicted()) => {
                Verdict::NotRun { reason }
            }
            _ => Verdict::decide(&session.records, stop.as_ref(), &scenario.path),
        };
        session.cleanup(verdict == Verdict::Pass).await;
        ScenarioReport {
            name: scenario.name.clone(),
            path: scenario.path.clone(),
            verdict,
            steps: scenario.steps.len(),
            stop,
            collections: session.bindings.collections().clone(),
            records: session.records,
            unknowns: session.unknowns,
            duration: started.elapsed(),
            reproduce: self.settings.repro.command(&scenario.name),
        }
    }

    /// Runs `scenarios` at most `jobs` at a time until all are done or `interrupt`
    /// completes; returns a report per scenario, in the order given (unfinished ones
    /// `NotRun`), and whether the run was interrupted. Scenario `i` gets ordinal `i + 1`.
    pub async fn run_all(
        self: &Arc<Self>,
        scenarios: &[Arc<Scenario>],
        jobs: usize,
        interrupt: impl Future<Output = ()>,
    ) -> (Vec<ScenarioReport>, bool) {
        self.run_all_reporting(scenarios, jobs, interrupt, &|_| {}).await
    }

    /// [`Runner::run_all`], handing each scenario's report to `done` as it finishes (for
    /// a progress display).
    pub async fn run_all_reporting(
        self: &Arc<Self>,
        scenarios: &[Arc<Scenario>],
        jobs: usize,
        interrupt: impl Future<Output = ()>,
        done: &(dyn Fn(&ScenarioReport) + Sync),
    ) -> (Vec<ScenarioReport>, bool) {
        // Scenarios start in order, at most `jobs` at a time: the next one is spawned as
        // one finishes, so `--fail-fast` can start nothing after a failure.
        let mut tasks = JoinSet::new();
        let mut index_of = BTreeMap::new();
        let mut next = 0;
        let spawn_next =
            |tasks: &mut JoinSet<ScenarioReport>, index_of: &mut BTreeMap<_, _>, next: &mut usize| {
                let i = *next;
                let Some(scenario) = scenarios.get(i) else { return };
                *next += 1;
                let runner = Arc::clone(self);
                let scenario = Arc::clone(scenario);
                let handle = tasks.spawn(async move { runner.run_scenario(i + 1, &scenario).await });
                index_of.insert(handle.id(), i);
            };
        for _ in 0..jobs.max(1) {
            spawn_next(&mut tasks, &mut index_of, &mut next);
        }
        let mut reports: Vec<Option<ScenarioReport>> = vec![None; scenarios.len()];
        let mut interrupted = false;
        let mut failed = false;
        tokio::pin!(interrupt);
        loop {
            tokio::select! {
                biased;
                () = &mut interrupt, if !interrupted => {
                    interrupted = true;
                    tasks.abort_all();
                }
                joined = tasks.join_next_with_id() => {
                    let (id, report) = match joined {
                        None => break,
                        Some(Ok((id, report))) => (id, report),
                        Some(Err(error)) if error.is_panic() => {
                            let id = error.id();
                            let Some(s) = index_of.get(&id).map(|&i| &scenarios[i]) else { continue };
                            let reason = panic_message(error.into_panic());
                            (id, ScenarioReport::without_result(&s.name, &s.path, Verdict::HarnessError { reason }, &self.settings.repro))
                        }
                        Some(Err(_)) => continue,
                    };
                    done(&report);
                    failed |= report.verdict != Verdict::Pass;
                    if let Some(&i) = index_of.get(&id) {
                        reports[i] = Some(report);
                    }
                    let stop = interrupted || (failed && self.settings.fail_fast) || self.budget_spent();
                    if !stop {
                        spawn_next(&mut tasks, &mut index_of, &mut next);
                    }
                }
            }
        }
        let budget_reason = self.settings.budget.as_ref().map(|b| format!("not started: {}", b.reason()));
        let not_started = if interrupted {
            "interrupted"
        } else {
            budget_reason
                .as_deref()
                .filter(|_| self.budget_spent())
                .unwrap_or("--fail-fast: not started after a scenario that did not pass")
        };
        let reports = reports
            .into_iter()
            .zip(scenarios)
            .map(|(report, s)| {
                report.unwrap_or_else(|| {
                    ScenarioReport::without_result(
                        &s.name,
                        &s.path,
                        Verdict::NotRun { reason: not_started.into() },
                        &self.settings.repro,
                    )
                })
            })
            .collect();
        (reports, interrupted)
    }

    /// Asks the endpoint about each operation no scenario reached, when scenarios were
    /// blocked by operations not implemented: one call with an empty body (`{}`, which
    /// creates nothing: every operation requires members) per operation, so the parity
    /// matrix can tell "not implemented" from "not reached". Returns the calls whose
    /// answer says "not implemented"; nothing else is judged.
    pub async fn probe_unreached(&self, reports: &[ScenarioReport]) -> Vec<StepRecord> {
        let records = || reports.iter().flat_map(|s| &s.records);
        if !records().any(|r| r.not_implemented.is_some()) || self.budget_spent() {
            return Vec::new();
        }
        let reached: BTreeSet<&str> = records().map(StepRecord::call_name).collect();
        let mut out = Vec::new();
        for op in Operation::ALL.iter().filter(|op| !reached.contains(op.name())) {
            let call = Call::Raw { target: op.target(), body: "{}".into() };
            let Ok(raw) = self.target.send(&call).await else { continue };
            if let Err(Unjudgeable::NotImplemented(evidence)) = check::wire(&raw, Some(*op)) {
                let mut record = blank_record(Place { step: 0, line: 0, settle_poll: false }, Some(&call));
                record.response = Some(check::RawResponse { body: Vec::new(), ..raw });
                record.not_implemented = Some(evidence);
                record.note =
                    Some("probe: an empty request, sent because no scenario reached the operation".into());
                out.push(record);
            }
        }
        out
    }

    /// Deletes every collection the run created that is still there (after panics and
    /// interrupts, the scenarios' own cleanup may not have run).
    pub async fn cleanup(&self) -> CleanupSummary {
        let remaining: Vec<String> = self.created_collections().into_iter().map(|(id, _)| id).collect();
        let mut summary = CleanupSummary::default();
        for id in remaining {
            match self.target.delete_collection(&id).await {
                Ok(()) => {
                    summary.deleted += 1;
                    self.forget(&id);
                }
                Err(_) => summary.failed.push(id),
            }
        }
        summary
    }

    /// Whether `--max-requests` refused a call.
    pub fn budget_spent(&self) -> bool {
        self.settings.budget.as_ref().is_some_and(|b| b.is_spent())
    }

    /// Takes one request of the budget for a checked call; the reason when none is left.
    fn take_request(&self) -> Result<(), String> {
        match &self.settings.budget {
            Some(budget) if !budget.take() => Err(budget.reason()),
            _ => Ok(()),
        }
    }

    /// Collections created and not yet deleted by a cleanup, with their scenario ordinal.
    pub fn created_collections(&self) -> Vec<(String, usize)> {
        self.created.lock().map(|c| c.iter().map(|(k, v)| (k.clone(), *v)).collect()).unwrap_or_default()
    }

    fn remember(&self, collection_id: &str, ordinal: usize) {
        if let Ok(mut created) = self.created.lock() {
            created.insert(collection_id.to_string(), ordinal);
        }
    }

    fn forget(&self, collection_id: &str) {
        if let Ok(mut created) = self.created.lock() {
            created.remove(collection_id);
        }
    }
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".into())
}

/// One scenario's (or one fuzz case's) state: its model, bindings and records.
#[derive(Debug)]
pub struct Session<'r> {
    runner: &'r Runner,
    ordinal: usize,
    model: Model,
    bindings: Bindings,
    records: Vec<StepRecord>,
    unknowns: BTreeSet<Unknown>,
    /// The first step at which the endpoint diverged: from then on the model follows the
    /// endpoint's state, and written expectations are not judged.
    diverged_at: Option<usize>,
    /// When the last call that may have created something succeeded.
    last_write: Option<Instant>,
    /// Per collection, the last operation of this session that succeeded on it (a
    /// vanished collection is only blamed on the endpoint after one that could remove it).
    touched: BTreeMap<String, Operation>,
    /// Other states the endpoint may be in besides `model`: a `concurrent:` block whose
    /// answers more than one order explains leaves each; later steps keep those that
    /// allow their answers (see `concurrent.rs`).
    others: Vec<Model>,
}

/// Where a call sits in its scenario, for its record.
#[derive(Debug, Clone, Copy)]
struct Place {
    step: usize,
    line: u64,
    settle_poll: bool,
}

impl Session<'_> {
    /// The model, advanced along every conforming answer so far.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The calls made so far.
    pub fn records(&self) -> &[StepRecord] {
        &self.records
    }

    /// Unsettled facts the calls so far leaned on.
    pub fn unknowns(&self) -> &BTreeSet<Unknown> {
        &self.unknowns
    }

    /// Runs one scenario step: substitute, settle, call, check, record, capture.
    pub async fn run_step(&mut self, step: &Step) -> StepOutcome {
        let place = Place { step: step.index, line: step.line, settle_poll: false };
        let (call, request) = match self.build(step) {
            Ok(built) => built,
            Err(reason) => return self.bad_step(place, None, reason),
        };
        let expectation = match &step.expect {
            None => None,
            Some(Expect::Success) => Some(Expectation::Success),
            Some(Expect::Errors(codes)) => Some(Expectation::Errors(codes.clone())),
            Some(Expect::Response(template)) => match template.render(&self.bindings) {
                Ok(body) => Some(Expectation::Response(body)),
                Err(e) => return self.bad_step(place, Some(&call), e.0),
            },
        };
        let outcome = self.call(call, request, expectation, place).await;
        self.bind_captures(step, outcome)
    }

    /// Binds `step`'s captures from its answer (the last record) when the state was
    /// followed; the step's outcome, or why a capture found nothing.
    fn bind_captures(&mut self, step: &Step, outcome: StepOutcome) -> StepOutcome {
        let followed =
            matches!(outcome, StepOutcome::Conformed | StepOutcome::Diverged | StepOutcome::Contradiction);
        if !followed || step.captures.is_empty() {
            return outcome;
        }
        let observed = self.records.last().and_then(|r| r.observed.clone());
        for capture in &step.captures {
            let value = match &observed {
                Some(Observed::Success(body)) => capture.path.get(body).cloned(),
                _ => None,
            };
            match value {
                Some(value) => self.bindings.capture(&capture.name, value),
                None => {
                    let got = observed.as_ref().map_or_else(|| "nothing".into(), check::describe_observed);
                    let reason = format!(
                        "capture `{}`: the answer has no value at `{}` (got {got})",
                        capture.name, capture.path
                    );
                    if self.model.follows_endpoint_faces() {
                        // The endpoint's detector decides how many faces (and pages) there are.
                        let reason =
                            format!("{reason}; the endpoint's face detection decides (--faces endpoint)");
                        if let Some(record) = self.records.last_mut() {
                            record.not_applicable = Some(reason.clone());
                        }
                        return StepOutcome::NotApplicable(reason);
                    }
                    if let Some(record) = self.records.last_mut() {
                        record.note = Some(reason.clone());
                    }
                    return StepOutcome::CaptureMissing(reason);
                }
            }
        }
        outcome
    }

    /// Sends one typed request through the checked path (for generated calls: the fuzzer).
    pub async fn call_request(
        &mut self,
        request: Request,
        expectation: Option<Expectation>,
        step: usize,
    ) -> StepOutcome {
        let place = Place { step, line: 0, settle_poll: false };
        self.call(Call::Typed(request.clone()), Some(request), expectation, place).await
    }

    /// Deletes the collections this session created; when `passed`, skips those the model
    /// saw deleted.
    pub async fn cleanup(&mut self, passed: bool) {
        let mine: Vec<String> = self
            .runner
            .created_collections()
            .into_iter()
            .filter(|(_, o)| *o == self.ordinal)
            .map(|(id, _)| id)
            .collect();
        for id in mine {
            if passed && !self.model.collections().contains_key(&id) {
                self.runner.forget(&id);
                continue;
            }
            if self.runner.target.delete_collection(&id).await.is_ok() {
                self.runner.forget(&id);
            }
        }
    }

    /// The call a step makes, and the typed request the model judges (`None` for raw
    /// bodies that are not a request of one of the 16 operations).
    fn build(&self, step: &Step) -> Result<(Call, Option<Request>), String> {
        match &step.action {
            Action::Call { operation, request } => {
                let body = request.render(&self.bindings).map_err(|e| e.0)?;
                let request =
                    Request::from_json(*operation, &body).map_err(|e| format!("{operation}: {e}"))?;
                Ok((Call::Typed(request.clone()), Some(request)))
            }
            Action::Raw { target, body } => {
                let body = match body {
                    RawBody::Text(text) => text.render_string(&self.bindings).map_err(|e| e.0)?,
                    RawBody::Json(template) => template.render(&self.bindings).map_err(|e| e.0)?.to_string(),
                };
                let request = target.operation.and_then(|op| {
                    serde_json::from_str::<Value>(&body)
                        .ok()
                        .and_then(|json| Request::from_json(op, &json).ok())
                });
                Ok((Call::Raw { target: target.header.clone(), body }, request))
            }
        }
    }

    fn bad_step(&mut self, place: Place, call: Option<&Call>, reason: String) -> StepOutcome {
        self.records.push(StepRecord { note: Some(reason.clone()), ..blank_record(place, call) });
        StepOutcome::BadStep(reason)
    }

    /// The checked path every call takes: guard, settle, send, check, record.
    async fn call(
        &mut self,
        call: Call,
        request: Option<Request>,
        expectation: Option<Expectation>,
        place: Place,
    ) -> StepOutcome {
        let started = Instant::now();
        let creates = match self.guard_creation(&call, request.as_ref(), place) {
            Ok(creates) => creates,
            Err(outcome) => return outcome,
        };
        let mut settle_polls = 0;
        if let Some(r) = &request
            && self.model.needs_settled_users(r)
        {
            match self.settle(r.collection_id().unwrap_or_default().to_string(), place).await {
                Ok(polls) => settle_polls = polls,
                Err(outcome) => return outcome,
            }
        }
        // The budget's request for this call, once its polls are done (a creation took it
        // above, before it was remembered).
        if creates.is_none()
            && let Err(reason) = self.runner.take_request()
        {
            return StepOutcome::BudgetSpent(reason);
        }
        // Asked after settling: the polls moved the model on.
        let allowed = match &request {
            Some(r) => self.model.allowed(r),
            // Raw bodies the model cannot read: the protocol decides.
            None if call.operation().is_none() => Allowed::error(ErrorCode::UnknownOperationException),
            None => Allowed::error(ErrorCode::SerializationException),
        };
        let mut record = blank_record(place, Some(&call));
        record.settle_polls = settle_polls;
        record.expectation = expectation.clone();
        // After a divergence the model follows the endpoint's state, which the scenario's
        // author did not write the expectations for: judging them would blame the scenario
        // for the endpoint's defect.
        let expectation = match (expectation, self.diverged_at) {
            (Some(_), Some(step)) => {
                record.note = Some(format!(
                    "expectation not judged: the state follows the endpoint's divergence at step {step}"
                ));
                None
            }
            (expectation, _) => expectation,
        };
        if let Some(expectation) = &expectation
            && let Some(m) = check::expectation_feasible(expectation, &allowed)
        {
            record.findings.push(Finding::new(Layer::Scenario, m));
        }
        let mut outcome =
            self.send_and_judge(&call, request.as_ref(), &allowed, expectation.as_ref(), &mut record).await;
        if matches!(outcome, StepOutcome::BudgetSpent(_)) {
            // Not sent (or its answer not judged): no record of it.
            return outcome;
        }
        if outcome == StepOutcome::Diverged
            && let Some(hint) = self.removed_by_another(request.as_ref(), &allowed, &record).await
        {
            // Not the endpoint's fault: the contract findings of this call go; a protocol
            // fault of the answer is still the endpoint's.
            record.findings.retain(|f| f.layer == Layer::Wire);
            record.setup_problem = Some(hint.clone());
            outcome = StepOutcome::SetupProblem(hint);
        }
        if let (Some(collection), Some(operation), Some(Observed::Success(_))) =
            (request.as_ref().and_then(Request::collection_id), call.operation(), &record.observed)
        {
            self.touched.insert(collection.to_string(), operation);
        }
        // Any other id is deleted at the end only if this call created it (it may be someone else's).
        if let Some(collection) = creates
            && matches!(record.observed, Some(Observed::Success(_)))
        {
            self.runner.remember(&collection, self.ordinal);
        }
        record.duration = started.elapsed();
        self.push(record);
        outcome
    }

    /// Defect 9: whether a ResourceNotFoundException for a collection this session created,
    /// never deleted and the model holds was caused by something other than the endpoint
    /// (another actor, such as `rekcon cleanup`, deleting the run's collections); the
    /// set-up problem's hint when so.
    ///
    /// The rule: DescribeCollection must confirm the collection is gone (else the
    /// endpoint contradicts itself, a divergence), and nothing of ours could have removed
    /// it: this session's last call that succeeded on it was a read (which found it), or
    /// another collection the session holds vanished too. Right after its creation or one
    /// of our own writes (a DeleteFaces, say) with nothing else gone, the endpoint never
    /// kept it or lost it: a divergence.
    async fn removed_by_another(
        &self,
        request: Option<&Request>,
        allowed: &Allowed,
        record: &StepRecord,
    ) -> Option<String> {
        let Some(Observed::Error(error)) = &record.observed else { return None };
        if error.code != ErrorCode::ResourceNotFoundException
            || allowed.errors.contains(&ErrorCode::ResourceNotFoundException)
        {
            return None;
        }
        let collection = request?.collection_id()?.to_string();
        let ours: Vec<String> = self
            .runner
            .created_collections()
            .into_iter()
            .filter(|(id, ordinal)| *ordinal == self.ordinal && self.model.collections().contains_key(id))
            .map(|(id, _)| id)
            .collect();
        if !ours.contains(&collection) || !self.collection_gone(&collection).await {
            return None;
        }
        // Only a read that found it proves the endpoint held it: after its creation or a
        // write of ours, an endpoint that never kept it or lost it is the one to blame.
        let read = self.touched.get(&collection).copied().filter(|op| op.is_read_only());
        let why = if let Some(op) = read {
            format!(
                "it vanished after a {op} that found it, and no call of this run in between could remove it"
            )
        } else {
            let mut also_gone = None;
            for other in ours.iter().filter(|id| **id != collection) {
                if self.collection_gone(other).await {
                    also_gone = Some(other.clone());
                    break;
                }
            }
            format!("`{}`, another of the run's collections that it never deleted, vanished too", also_gone?)
        };
        Some(format!(
            "the run's collection `{collection}` was deleted by something else, such as `rekcon cleanup` \
             (DescribeCollection: ResourceNotFoundException; {why})"
        ))
    }

    /// Whether DescribeCollection answers ResourceNotFoundException for `collection` (the
    /// answer is not judged).
    async fn collection_gone(&self, collection: &str) -> bool {
        let describe = Request::DescribeCollection(api::DescribeCollectionRequest {
            collection_id: Some(collection.to_string()),
        });
        let Ok(raw) = self.runner.target.send(&Call::Typed(describe)).await else { return false };
        matches!(
            check::wire(&raw, Some(Operation::DescribeCollection)),
            Ok(check::WireVerdict { observed: Some(Observed::Error(e)), .. })
                if e.code == ErrorCode::ResourceNotFoundException
        )
    }

    /// The collection `call` would create, remembered for cleanup before it is sent when
    /// run-scoped; refused (a bad step) on real AWS without the run prefix.
    fn guard_creation(
        &mut self,
        call: &Call,
        request: Option<&Request>,
        place: Place,
    ) -> Result<Option<String>, StepOutcome> {
        let creates = created_collection(call, request);
        if let Some(collection) = &creates {
            let scoped = collection.starts_with(&self.runner.run_prefix());
            // An invalid id creates nothing, so validation scenarios may still send one.
            if self.runner.settings.require_run_prefix && !scoped && is_valid_collection_id(collection) {
                return Err(self.bad_step(
                    place,
                    Some(call),
                    format!(
                        "refusing to create collection `{collection}` on real AWS: every resource must carry the run prefix {} (use a `${{name}}` collection)",
                        self.runner.run_prefix()
                    ),
                ));
            }
            if let Err(reason) = self.runner.take_request() {
                return Err(StepOutcome::BudgetSpent(reason));
            }
            // Run-scoped ids are remembered before the call, so a crash mid-call still cleans up.
            if scoped {
                self.runner.remember(collection, self.ordinal);
            }
        }
        Ok(creates)
    }

    /// Keeps a call's record, noting the first divergence.
    fn push(&mut self, record: StepRecord) {
        if self.diverged_at.is_none() && record.findings.iter().any(Finding::is_divergence) {
            self.diverged_at = Some(record.step);
        }
        self.unknowns.extend(record.unknowns.iter().copied());
        self.records.push(record);
    }

    async fn send_and_judge(
        &mut self,
        call: &Call,
        request: Option<&Request>,
        allowed: &Allowed,
        expectation: Option<&Expectation>,
        record: &mut StepRecord,
    ) -> StepOutcome {
        let mut raw = match self.runner.target.send(call).await {
            Ok(raw) => raw,
            Err(no) => {
                record.no_answer = Some(no.clone());
                return StepOutcome::NoAnswer(no);
            }
        };
        // Read-after-write lag (§9.20): a not-found the model does not allow, right after
        // a write, is asked again with a bounded backoff before it counts.
        let mut delay = LAG_FIRST_DELAY;
        while record.lag_retries < LAG_RETRIES
            && self.last_write.is_some_and(|t| t.elapsed() < LAG_WINDOW)
            && lagging_not_found(&raw, call.operation(), allowed)
        {
            tokio::time::sleep(delay).await;
            delay *= 2;
            record.lag_retries += 1;
            if let Err(reason) = self.runner.take_request() {
                return StepOutcome::BudgetSpent(reason);
            }
            raw = match self.runner.target.send(call).await {
                Ok(raw) => raw,
                Err(no) => {
                    record.no_answer = Some(no.clone());
                    return StepOutcome::NoAnswer(no);
                }
            };
        }
        if (200..300).contains(&raw.status) && call.operation().is_none_or(|op| !op.is_read_only()) {
            self.last_write = Some(Instant::now());
        }
        let wire = check::wire(&raw, call.operation());
        let status = raw.status;
        // The body stays (never serialised into reports) for recordings.
        record.response = Some(raw);
        let wire = match wire {
            Ok(wire) => wire,
            Err(Unjudgeable::NoAnswer(no)) => {
                record.no_answer = Some(no.clone());
                return StepOutcome::NoAnswer(no);
            }
            Err(Unjudgeable::NotImplemented(evidence)) => {
                record.not_implemented = Some(evidence.clone());
                return StepOutcome::NotImplemented(evidence);
            }
            Err(Unjudgeable::SetupProblem(hint)) => {
                record.setup_problem = Some(hint.clone());
                return StepOutcome::SetupProblem(hint);
            }
        };
        record.findings.extend(wire.mismatches.into_iter().map(|m| Finding::new(Layer::Wire, m)));
        record.unknowns.extend(wire.unknowns);
        if let Some(observed) = &wire.observed {
            // Only answers that carry a UserStatus can hold one the model lets vary.
            if call.operation().is_some_and(Operation::answers_user_status) {
                record.settling = allowed.settling_paths(observed, &|id| self.model.is_known_id(id));
            }
            let (mismatches, unknowns) = match request {
                Some(r) => {
                    let judgement = self.model.observe(r, allowed, observed);
                    (judgement.mismatches, judgement.unknowns)
                }
                None => (
                    allowed.judge(observed, &|_| false).err().unwrap_or_default(),
                    allowed.touched_unknowns(),
                ),
            };
            record.findings.extend(mismatches.into_iter().map(|m| Finding::new(Layer::Model, m)));
            record.unknowns.extend(unknowns);
            // An expectation about who the faces show cannot be judged when the model does not know.
            if expectation.is_some() && allowed.needs_identity() {
                record.findings.retain(|f| f.layer != Layer::Scenario);
                record.not_applicable = Some("needs face identity; --faces endpoint".into());
            }
            // An expectation already found infeasible is not compared again.
            let judged_already = record.not_applicable.is_some()
                || record.findings.iter().any(|f| f.is_divergence() || f.layer == Layer::Scenario);
            if !judged_already && let Some(expectation) = expectation {
                let unmet = check::expectation_met(expectation, observed);
                record.findings.extend(unmet.into_iter().map(|m| Finding::new(Layer::Scenario, m)));
            }
        }
        let unreadable = wire.observed.is_none();
        record.observed = wire.observed;
        if unreadable {
            // An error changes nothing, and neither does a read; anything else may have.
            let changes_state =
                (200..300).contains(&status) && call.operation().is_none_or(|op| !op.is_read_only());
            if changes_state {
                return StepOutcome::Unfollowable(format!(
                    "the answer to {} could not be read, so what it changed is unknown",
                    call.operation().map_or_else(|| "the call".to_string(), |op| op.to_string())
                ));
            }
            record.note.get_or_insert_with(|| "contract not judged: the answer could not be read".into());
        }
        if record.findings.iter().any(|f| f.layer == Layer::Scenario) {
            StepOutcome::Contradiction
        } else if record.findings.is_empty() {
            StepOutcome::Conformed
        } else {
            StepOutcome::Diverged
        }
    }

    /// Polls ListUsers (every page, each checked like a step) until the model sees every
    /// user of `collection` settled; returns the number of polls. A poll that conformed is
    /// counted, not kept; one that diverged stays in the records, and polling goes on
    /// (the model follows it). A poll without an answer ends the step. Users that never
    /// settle are a divergence of their own, and the step is still sent.
    async fn settle(&mut self, collection: String, place: Place) -> Result<usize, StepOutcome> {
        let deadline = Instant::now() + self.runner.settings.settle_timeout;
        let mut delay = SETTLE_FIRST_DELAY;
        let mut polls = 0;
        let poll_place = Place { settle_poll: true, ..place };
        loop {
            let mut token = None;
            loop {
                let request = settle_poll(&collection, token);
                let outcome =
                    Box::pin(self.call(Call::Typed(request.clone()), Some(request), None, poll_place)).await;
                polls += 1;
                token = match outcome {
                    StepOutcome::Conformed => next_token_of(self.records.pop()),
                    StepOutcome::Diverged => next_token_of(self.records.last().cloned()),
                    other => return Err(other),
                };
                if token.is_none() {
                    break;
                }
            }
            let unsettled = self.model.unsettled_users(&collection);
            if unsettled.is_empty() {
                return Ok(polls);
            }
            if Instant::now() + delay > deadline {
                let mut record = blank_record(poll_place, None);
                record.target = Operation::ListUsers.target();
                record.findings.push(Finding::new(
                    Layer::Model,
                    Mismatch {
                        path: "Users[].UserStatus".into(),
                        expected: format!("users settled within {:?}", self.runner.settings.settle_timeout),
                        actual: format!("{} still unsettled after {polls} polls", unsettled.join(", ")),
                    },
                ));
                self.push(record);
                return Ok(polls);
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(SETTLE_MAX_DELAY);
        }
    }
}

/// Whether `raw` is a not-found answer the model does not allow (it holds the thing):
/// ResourceNotFoundException, or the InvalidParameterException "… not found …" of an
/// unknown FaceId or UserId (contract §8, §9.8).
fn lagging_not_found(raw: &check::RawResponse, operation: Option<Operation>, allowed: &Allowed) -> bool {
    if raw.status < 400 || raw.status >= 500 {
        return false;
    }
    let Ok(check::WireVerdict { observed: Some(Observed::Error(error)), .. }) = check::wire(raw, operation)
    else {
        return false;
    };
    let not_found = match error.code {
        ErrorCode::ResourceNotFoundException => true,
        ErrorCode::InvalidParameterException => {
            error.message.as_deref().is_some_and(|m| m.to_ascii_lowercase().contains("not found"))
        }
        _ => false,
    };
    not_found && !allowed.errors.contains(&error.code)
}

/// One page of the ListUsers polling that waits for users to settle before a search.
pub(crate) fn settle_poll(collection: &str, next_token: Option<String>) -> Request {
    Request::ListUsers(api::ListUsersRequest {
        collection_id: Some(collection.to_string()),
        max_results: None,
        next_token,
    })
}

/// The NextToken a successful listing call answered, if any.
pub(crate) fn next_token_of(record: Option<StepRecord>) -> Option<String> {
    match record.and_then(|r| r.observed) {
        Some(Observed::Success(body)) => body.get("NextToken").and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
}

/// A record with nothing observed yet.
fn blank_record(place: Place, call: Option<&Call>) -> StepRecord {
    let (target, raw, request) = match call {
        Some(Call::Typed(request)) => (request.operation().target(), false, request.to_json()),
        Some(Call::Raw { target, body }) => (target.clone(), true, Value::String(body.clone())),
        None => (String::new(), false, Value::Null),
    };
    StepRecord {
        step: place.step,
        line: place.line,
        settle_poll: place.settle_poll,
        target,
        raw,
        request,
        ..StepRecord::default()
    }
}

/// Whether `id` matches the CollectionId constraints (`[a-zA-Z0-9_.\-]+`, 1 to 255 characters).
pub(crate) fn is_valid_collection_id(id: &str) -> bool {
    (1..=255).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// The CollectionId a call would create, if it is a CreateCollection.
fn created_collection(call: &Call, request: Option<&Request>) -> Option<String> {
    match (request, call) {
        (Some(Request::CreateCollection(r)), _) => r.collection_id.clone(),
        (_, Call::Raw { body, .. }) if call.operation() == Some(Operation::CreateCollection) => {
            serde_json::from_str::<Value>(body).ok()?.get("CollectionId")?.as_str().map(str::to_string)
        }
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// `rekcon run`
// ---------------------------------------------------------------------------------------------

/// The scenarios a run selected: loaded ones and files that failed to load.
#[derive(Debug, Default)]
pub struct Selection {
    /// Loaded scenarios, in name order.
    pub scenarios: Vec<Arc<Scenario>>,
    /// Files that failed to load: scenario name and error.
    pub broken: Vec<(String, LoadError)>,
    /// Links to folders the search skipped (loops), for a warning.
    pub skipped_links: Vec<scenario::SkippedLink>,
    /// Tags of the selector that no scenario carries, each with a suggestion.
    pub unknown_tags: Vec<String>,
    /// Filters that matched no scenario, each with a suggestion.
    pub unmatched: Vec<String>,
}

/// Loads the scenarios below `root` that match `filters` and carry one of `tags` (when
/// given); see [`crate::filter`] for how filters match.
pub fn select(root: &Path, filters: &[String], tags: &[String]) -> Result<Selection, LoadError> {
    let tags = tags.iter().map(|t| crate::filter::TagExpr::Tag(t.clone())).collect();
    select_with(root, &Selector { filters: filters.to_vec(), tags, ..Selector::default() })
}

/// Loads the scenarios below `root` that `selector` selects. A broken file that matches
/// the filters is kept as an entry whatever the tags (its tags cannot be read). A broken
/// `images/catalogue.yaml` is an error of the whole selection: every scenario would
/// carry it. Tags no scenario of the suite carries are listed in `unknown_tags`.
pub fn select_with(root: &Path, selector: &Selector) -> Result<Selection, LoadError> {
    let scenario::Discovery { files, skipped } = scenario::discover_all(root)?;
    let (filters, skip) = selector.compile(root);
    let mut loader = scenario::Loader::new(root);
    loader.catalogue()?;
    let mut selection = Selection { skipped_links: skipped, ..Selection::default() };
    let mut known_tags = std::collections::BTreeSet::new();
    for file in &files {
        let selected = (filters.is_empty() || filters.iter().any(|m| m.matches(&file.name)))
            && !skip.iter().any(|m| m.matches(&file.name));
        // Every scenario is loaded: the tags of the whole suite tell a misspelt tag.
        match loader.load(file) {
            Ok(s) => {
                known_tags.extend(s.tags.iter().cloned());
                if selected && (selector.tags.is_empty() || selector.tags.iter().any(|t| t.matches(&s.tags)))
                {
                    selection.scenarios.push(Arc::new(s));
                }
            }
            Err(e) if selected => selection.broken.push((file.name.clone(), e)),
            Err(_) => {}
        }
    }
    selection.unknown_tags = selector.unknown_tags(&known_tags);
    let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    for (text, filter) in selector.filters.iter().zip(&filters) {
        if !names.iter().any(|n| filter.matches(n)) {
            selection.unmatched.push(format!("`{text}` matches no scenario{}", filter.suggestion(&names)));
        }
    }
    Ok(selection)
}

/// `rekcon run`: select and load scenarios, start the built-in emulator when no endpoint
/// is given, run, delete what the run created, print the summary, write the reports.
/// Returns the exit code (see [`crate::report`]).
pub fn run_command(args: RunArgs) -> u8 {
    let options = match RunOptions::from_args(&args) {
        Ok(options) => options,
        Err(e) => {
            eprintln!("rekcon run: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let config = match RunConfig::from_args(args) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("rekcon run: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("rekcon run: cannot start the async runtime: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    runtime.block_on(run_configured(config, options))
}

/// What `rekcon run` selects and how it stops, besides the [`RunConfig`].
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Which scenarios.
    pub selector: Selector,
    /// Where they come from.
    pub suite: crate::suite::Source,
    /// `--list`: print the selection only.
    pub list: bool,
    /// `--fail-fast`.
    pub fail_fast: bool,
    /// `--estimate`, `--max-requests`, `--yes`.
    pub budget: crate::budget::BudgetArgs,
}

impl RunOptions {
    /// Parses the selection options of `args` (the tag expressions).
    pub fn from_args(args: &RunArgs) -> Result<RunOptions, crate::error::Error> {
        Ok(RunOptions {
            selector: Selector::new(args.filters.clone(), args.skip.clone(), args.exact, &args.tags)?,
            suite: crate::suite::Source::resolve(args.scenarios.clone()),
            list: args.list,
            fail_fast: args.fail_fast,
            budget: args.budget.clone(),
        })
    }
}

/// Selects the scenarios of `suite`; for the built-in suite, each file is named as it
/// would be in a checkout (`scenarios/users/x.yaml`).
pub fn select_suite(suite: &crate::suite::Source, selector: &Selector) -> Result<Selection, String> {
    let Some(dir) = suite.dir() else {
        let unpacked = crate::suite::Unpacked::new().map_err(|e| e.to_string())?;
        let mut selection = select_with(unpacked.root(), selector).map_err(|e| e.to_string())?;
        for scenario in &mut selection.scenarios {
            if let Some(s) = Arc::get_mut(scenario) {
                s.path = unpacked.display_path(&s.path);
            }
        }
        for (_, error) in &mut selection.broken {
            error.path = unpacked.display_path(&error.path);
        }
        // Everything is loaded (images too): the unpacked files go now.
        return Ok(selection);
    };
    select_with(dir, selector).map_err(|e| e.to_string())
}

async fn run_configured(config: RunConfig, options: RunOptions) -> u8 {
    let started = Instant::now();
    // Watched from before anything is created on the endpoint to the end of the reports.
    let interrupts = crate::interrupt::Interrupts::watch(Box::new(|signal, count| {
        use std::io::Write as _;
        let what = signal.describe();
        let line = if count == 1 {
            format!(
                "\nrekcon run: interrupted: deleting the run's collections and writing the reports \
                 ({what} again abandons the cleanup)"
            )
        } else {
            "rekcon run: cleanup abandoned; `rekcon cleanup --journal` deletes the collections the run left"
                .into()
        };
        let _ = writeln!(std::io::stderr(), "{line}");
    }));
    // A broken baseline stops the run before anything is sent.
    let baseline = match config.reports.baseline.as_deref().map(Baseline::read).transpose() {
        Ok(baseline) => baseline,
        Err(e) => {
            eprintln!("rekcon run: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    // `--against DIR`: the recorded scenarios (unless filters narrow them).
    let recordings = match &config.against {
        Some(dir) => match crate::record::load_dir(dir) {
            Ok(recordings) if !recordings.is_empty() => Some(recordings),
            Ok(_) => {
                eprintln!("rekcon run: --against {}: no cassette there", dir.display());
                return EXIT_BAD_INPUT;
            }
            Err(e) => {
                eprintln!("rekcon run: --against: {e}");
                return EXIT_BAD_INPUT;
            }
        },
        None => None,
    };
    let selector = match &recordings {
        Some(recordings) if options.selector.filters.is_empty() => Selector {
            filters: recordings.keys().cloned().collect(),
            exact: true,
            ..options.selector.clone()
        },
        _ => options.selector.clone(),
    };
    let selection = match select_suite(&options.suite, &selector) {
        Ok(selection) => selection,
        Err(e) => {
            eprintln!("rekcon run: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    for link in &selection.skipped_links {
        eprintln!("rekcon run: warning: {link}");
    }
    if !selection.unknown_tags.is_empty() {
        for unknown in &selection.unknown_tags {
            eprintln!("rekcon run: {unknown}");
        }
        return EXIT_BAD_INPUT;
    }
    if selection.scenarios.is_empty() && selection.broken.is_empty() {
        eprintln!(
            "rekcon run: no scenario in {} matches {}",
            options.suite.describe(),
            describe_filters(&config.filters, &config.tags)
        );
        for unmatched in &selection.unmatched {
            eprintln!("rekcon run: {unmatched}");
        }
        return EXIT_BAD_INPUT;
    }
    if options.list {
        return list_selection(&selection);
    }
    // Before anything is sent: what the run would send, and a confirmation for real AWS.
    let estimate = crate::budget::Estimate::of_scenarios(&selection.scenarios);
    if options.budget.estimate {
        if let Err(e) = crate::output::print(&estimate.render(options.budget.max_requests)) {
            eprintln!("rekcon run: cannot print the estimate: {e}");
        }
        return crate::report::EXIT_CONFORM;
    }
    if config.target(None).is_aws() {
        eprint!("rekcon run: {}", estimate.render(options.budget.max_requests));
        if let Err(refusal) =
            crate::budget::confirm(estimate.capped(options.budget.max_requests), options.budget.yes)
        {
            eprintln!("rekcon run: {refusal}");
            return EXIT_BAD_INPUT;
        }
    }
    if options.suite == crate::suite::Source::BuiltIn {
        eprintln!(
            "rekcon run: no ./scenarios folder here: running the built-in suite \
             (`rekcon scenarios export DIR` writes it out for editing)"
        );
    }
    if let Some(notice) = config.emulator_notice() {
        eprintln!("rekcon run: {notice}");
    }
    if let Some(settlements) = &config.settlements {
        let _ = crate::output::print(&settlements.describe());
    }
    let emulator = match config.endpoint {
        EndpointChoice::BuiltIn => {
            let serve = config.serve_config();
            match crate::serve::Server::start(serve).await {
                Ok(server) => Some(server),
                Err(e) => {
                    eprintln!("rekcon run: {}", crate::error::Error::Emulator(e.to_string()));
                    return EXIT_BAD_INPUT;
                }
            }
        }
        _ => None,
    };
    let target_config = config.target(emulator.as_ref().map(|s| s.url()).as_deref());
    let target = match Target::connect(&target_config).await {
        Ok(target) => target,
        Err(e) => {
            eprintln!("rekcon run: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let mut settings = RunSettings::new(config.repro());
    let target = match crate::journal::attach(target, &target_config, &settings.run_id, "run") {
        Ok(target) => target,
        Err(e) => {
            eprintln!("rekcon run: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    if target_config.is_aws() {
        for warning in real_aws_image_warnings(&selection.scenarios) {
            eprintln!("rekcon run: warning: {warning}");
        }
    }
    settings.fail_fast = options.fail_fast;
    settings.budget = options.budget.max_requests.map(|n| {
        Arc::new(crate::budget::RequestBudget::new(n, Arc::new(std::sync::atomic::AtomicBool::new(false))))
    });
    settings.settle_timeout = config.settle_timeout;
    settings.require_run_prefix = target_config.is_aws();
    settings.model = config.model_config(target.region(), emulator.is_some());
    let endpoint = target.describe().to_string();
    let region = target.region().to_string();
    let runner = Arc::new(Runner::new(target, settings));
    // Live progress on a terminal: scenarios done, and how many failed so far.
    let bar = crate::progress::bar(selection.scenarios.len() as u64, "scenarios");
    let failed = std::sync::atomic::AtomicUsize::new(0);
    let show = |report: &ScenarioReport| {
        if report.verdict != Verdict::Pass {
            failed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        bar.set_message(format!("{} failed", failed.load(std::sync::atomic::Ordering::Relaxed)));
        bar.inc(1);
    };
    let (mut reports, interrupted) =
        runner.run_all_reporting(&selection.scenarios, config.jobs, signalled(&interrupts, 1), &show).await;
    bar.finish_and_clear();
    let probes = if interrupted { Vec::new() } else { runner.probe_unreached(&reports).await };
    let cleanup = if interrupted {
        tokio::select! {
            summary = tokio::time::timeout(CLEANUP_AFTER_INTERRUPT, runner.cleanup()) => summary.unwrap_or_default(),
            () = signalled(&interrupts, 2) => CleanupSummary::default(),
        }
    } else {
        runner.cleanup().await
    };
    crate::journal::finish(runner.target(), "run");
    if let Some(server) = emulator {
        server.shutdown().await;
    }
    for (name, error) in &selection.broken {
        reports.push(ScenarioReport::bad_file(name, error, &runner.settings().repro));
    }
    reports.sort_by(|a, b| a.name.cmp(&b.name));
    let report = RunReport {
        format_version: FORMAT_VERSION,
        run_id: runner.settings().run_id.clone(),
        endpoint,
        scenarios: reports,
        probes,
        interrupted,
        // A run a signal ended exits 128 + its number (130 for Ctrl-C, 143 for SIGTERM);
        // one --max-requests stopped, 7.
        interrupt_exit: if !interrupted && runner.budget_spent() {
            crate::budget::EXIT_BUDGET_SPENT
        } else {
            interrupts.exit_code(crate::report::EXIT_INTERRUPTED, crate::report::EXIT_INTERRUPTED)
        },
        baseline: None,
        metadata: RunMetadata::now(&selection.scenarios, &region),
        cleanup,
        retries: runner.target().retries(),
        shared_quota: runner.target().shared_quota(),
        verification: None,
        duration: started.elapsed(),
    };
    let mut report = report;
    // Recorded before verifying: the cassettes keep every finding the model made.
    let mut record_failed = false;
    if let Some(dir) = &config.record {
        let kind = match (&config.endpoint, target_config.is_aws()) {
            (_, true) => "aws",
            (EndpointChoice::BuiltIn, _) => "built-in",
            _ => "endpoint-url",
        };
        let provenance = crate::record::Provenance::of_run(
            kind,
            &report.endpoint,
            runner.target().region(),
            &report.run_id,
            &selection.scenarios,
            &config.scenarios,
        );
        match crate::record::write_run(dir, &report.scenarios, &provenance) {
            Ok(files) => eprintln!("rekcon run: recorded {} cassette(s) in {}", files.len(), dir.display()),
            Err(e) => {
                eprintln!("rekcon run: --record: {e}");
                record_failed = true;
            }
        }
    }
    if let (Some(recordings), Some(dir)) = (&recordings, &config.against) {
        let scenario = |name: &str| {
            selection
                .scenarios
                .iter()
                .find(|s| s.name == name)
                .map(|s| (s.images.clone(), s.compare.clone()))
                .unwrap_or_default()
        };
        let dir = dir.display().to_string();
        let v = crate::verify::Verification::of(&dir, &report.scenarios, recordings, &scenario);
        v.absolve(&mut report.scenarios);
        report.verification = Some(v);
    }
    if let (Some(baseline), Some(path)) = (&baseline, &config.reports.baseline) {
        report.baseline = Some(baseline.check(path, &report.causes(), &report.scenarios, &baseline::today()));
    }
    let mut code = report.exit_code();
    if record_failed {
        code = code.max(EXIT_BAD_INPUT);
    }
    // The reports first: a closed stdout must not lose them.
    for e in write_reports(&report, &config, baseline.as_ref()) {
        eprintln!("rekcon run: {e}");
        if code == crate::report::EXIT_CONFORM {
            code = EXIT_BAD_INPUT;
        }
    }
    let mut rendered = report.render();
    if let Some(v) = &report.verification {
        rendered.push('\n');
        rendered.push_str(&v.render());
    }
    if let Err(e) = crate::output::print(&rendered) {
        eprintln!("rekcon run: cannot print the report: {e}");
    }
    code
}

/// Writes every report file `config` asks for; the errors of those that failed.
fn write_reports(
    report: &RunReport,
    config: &RunConfig,
    baseline: Option<&Baseline>,
) -> Vec<crate::error::Error> {
    let mut errors = Vec::new();
    type Write = fn(&RunReport, &Path) -> Result<(), crate::error::Error>;
    let writes: [(Option<&PathBuf>, Write); 4] = [
        (config.json.as_ref(), RunReport::write_json),
        (config.junit.as_ref(), RunReport::write_junit),
        (config.reports.html.as_ref(), RunReport::write_html),
        (config.reports.markdown.as_ref(), RunReport::write_markdown),
    ];
    for (path, write) in writes {
        if let Some(path) = path
            && let Err(e) = write(report, path)
        {
            errors.push(e);
        }
    }
    if let Some(path) = &config.reports.write_baseline {
        // An existing file's reasons and expiry dates are kept (it may be the one checked).
        let previous = baseline.cloned().or_else(|| Baseline::read(path).ok());
        if let Err(e) = Baseline::of(&report.causes(), previous.as_ref()).write(path) {
            errors.push(e);
        }
    }
    errors
}

/// `rekcon run --list`: the selected scenarios' names on stdout, one a line; files that
/// do not load on stderr (exit 2).
fn list_selection(selection: &Selection) -> u8 {
    let mut names: Vec<&str> = selection.scenarios.iter().map(|s| s.name.as_str()).collect();
    names.extend(selection.broken.iter().map(|(name, _)| name.as_str()));
    names.sort_unstable();
    let mut text = names.join("\n");
    text.push('\n');
    if let Err(e) = crate::output::print(&text) {
        eprintln!("rekcon run: cannot print the list: {e}");
    }
    for (_, error) in &selection.broken {
        eprintln!("rekcon run: {error}");
    }
    if selection.broken.is_empty() { crate::report::EXIT_CONFORM } else { EXIT_BAD_INPUT }
}

/// Warnings about the images `scenarios` send, for a run against real AWS: fixtures still
/// carrying a marker (AWS sees no face in a grey square) and photos the catalogue does not
/// declare (the model then assumes one face of an unknown person). Empty when ready.
pub fn real_aws_image_warnings(scenarios: &[Arc<Scenario>]) -> Vec<String> {
    use base64::Engine as _;
    let (mut fixtures, mut undeclared) = (BTreeSet::new(), BTreeSet::new());
    for scenario in scenarios {
        for fixture in &scenario.images {
            let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(fixture.base64.as_bytes())
            else {
                continue;
            };
            if scenario.catalogue.declared(&bytes).is_some() {
                continue;
            }
            if crate::image::marker_faces(&bytes).is_some() {
                fixtures.insert(fixture.name.clone());
            } else {
                undeclared.insert(fixture.name.clone());
            }
        }
    }
    let list = |names: BTreeSet<String>| names.into_iter().collect::<Vec<_>>().join(", ");
    let mut warnings = Vec::new();
    if !fixtures.is_empty() {
        warnings.push(format!(
            "{} image(s) are still generated fixtures, in which real AWS finds no face; replace \
             them with real photos (scenarios/images/README.md): {}",
            fixtures.len(),
            list(fixtures)
        ));
    }
    if !undeclared.is_empty() {
        warnings.push(format!(
            "{} image(s) are not in {}/{}, so the model assumes each shows one face of a \
             person of its own: {}",
            undeclared.len(),
            scenario::IMAGES_DIR,
            scenario::CATALOGUE_FILE,
            list(undeclared)
        ));
    }
    warnings
}

/// Resolves once `n` interrupting signals arrived (never, if they cannot be watched).
async fn signalled(interrupts: &crate::interrupt::Interrupts, n: u32) {
    interrupts.nth(n).await;
}

fn describe_filters(filters: &[String], tags: &[String]) -> String {
    let mut parts: Vec<String> = filters.iter().map(|f| format!("`{f}`")).collect();
    parts.extend(tags.iter().map(|t| format!("tag `{t}`")));
    if parts.is_empty() { "anything".into() } else { parts.join(", ") }
}

// ---------------------------------------------------------------------------------------------
// `rekcon cleanup`
// ---------------------------------------------------------------------------------------------

/// The exit codes as `rekcon cleanup --help` lists them.
pub const CLEANUP_EXIT_CODES_HELP: &str = "Exit codes:
  0    every matching collection was deleted (or, with --dry-run, listed); with --journal,
       every dead run's journal was finished
  2    bad options (no endpoint, real AWS without --aws, a prefix outside rekcon-)
  3    the endpoint gave no answer or refused the listing or a deletion; run it again
       (with --journal: a journal was kept, for that or because it names real AWS without --aws)";

/// What [`cleanup_collections`] deletes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanupOptions {
    /// Collections whose name starts with this are deleted; checked by the caller
    /// (see [`crate::config::check_cleanup_prefix`]).
    pub prefix: String,
    /// Only list what would be deleted.
    pub dry_run: bool,
    /// MaxResults per ListCollections page (`None`: the endpoint's default).
    pub page_size: Option<i32>,
}

/// What [`cleanup_collections`] found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CleanupOutcome {
    /// Collections the endpoint listed.
    pub listed: usize,
    /// Those whose name starts with the prefix, sorted.
    pub matched: Vec<String>,
    /// Deleted now.
    pub deleted: Vec<String>,
    /// Listed, but gone by the time of the deletion.
    pub already_gone: Vec<String>,
    /// Not deleted, with the reason.
    pub failed: Vec<(String, String)>,
}

impl CleanupOutcome {
    /// The summary line: what was matched, deleted, kept, and where.
    pub fn summary(&self, options: &CleanupOptions, endpoint: &str) -> String {
        let prefix = &options.prefix;
        let kept = self.listed - self.matched.len();
        if options.dry_run {
            return format!(
                "cleanup (dry run): would delete {} collection(s) starting with `{prefix}`, keep {kept} \
                 other(s), on {endpoint}; nothing was deleted",
                self.matched.len()
            );
        }
        let mut line = format!(
            "cleanup: deleted {} of {} collection(s) starting with `{prefix}`",
            self.deleted.len() + self.already_gone.len(),
            self.matched.len()
        );
        if !self.already_gone.is_empty() {
            line.push_str(&format!(" ({} already gone)", self.already_gone.len()));
        }
        if !self.failed.is_empty() {
            line.push_str(&format!(", {} failed", self.failed.len()));
        }
        line.push_str(&format!(", kept {kept} other(s), on {endpoint}"));
        line
    }

    /// 0 when everything matched is gone, else 3 (run it again).
    pub fn exit_code(&self) -> u8 {
        if self.failed.is_empty() { crate::report::EXIT_CONFORM } else { crate::report::EXIT_NO_ANSWER }
    }
}

/// Deletes the collections on `target` whose name starts with `options.prefix` — what
/// runs left behind after a crash or a kill — and writes one line per collection to
/// `out` as it goes. Lists everything first (following NextToken), then deletes, so the
/// listing is not disturbed by its own deletions. An error only when the listing fails;
/// failed deletions are in the outcome.
pub async fn cleanup_collections(
    target: &Target,
    options: &CleanupOptions,
    out: &mut dyn std::io::Write,
) -> Result<CleanupOutcome, crate::target::HousekeepingError> {
    let ids = target.list_collection_ids(options.page_size).await?;
    let mut matched: Vec<String> = ids.iter().filter(|id| id.starts_with(&options.prefix)).cloned().collect();
    matched.sort();
    let mut outcome =
        CleanupOutcome { listed: ids.len(), matched: matched.clone(), ..CleanupOutcome::default() };
    // Output is best effort: a closed stdout must not stop the deletions.
    for id in matched {
        if options.dry_run {
            let _ = writeln!(out, "would delete  {id}");
            continue;
        }
        match target.remove_collection(&id).await {
            Ok(crate::target::Deletion::Deleted) => {
                let _ = writeln!(out, "deleted       {id}");
                outcome.deleted.push(id);
            }
            Ok(crate::target::Deletion::AlreadyGone) => {
                let _ = writeln!(out, "already gone  {id}");
                outcome.already_gone.push(id);
            }
            Err(e) => {
                let _ = writeln!(out, "failed        {id}: {e}");
                outcome.failed.push((id, e.to_string()));
            }
        }
    }
    Ok(outcome)
}

/// `rekcon cleanup`: validate the options, connect as `rekcon run` would, delete (or
/// list) the leftover collections, print a summary. Returns the exit code.
pub fn cleanup_command(args: crate::config::CleanupArgs) -> u8 {
    if args.journal {
        let options = crate::journal::JournalCleanupOptions {
            dry_run: args.dry_run,
            aws: args.endpoint.aws,
            profile: args.endpoint.profile,
            forget_unreachable: args.forget_unreachable,
        };
        return crate::journal::cleanup_command(&options);
    }
    let config = match crate::config::CleanupConfig::from_args(args) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("rekcon cleanup: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("rekcon cleanup: cannot start the async runtime: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    runtime.block_on(async {
        let target = match Target::connect(&config.target).await {
            Ok(target) => target,
            Err(e) => {
                eprintln!("rekcon cleanup: {e}");
                return EXIT_BAD_INPUT;
            }
        };
        let options =
            CleanupOptions { prefix: config.prefix.clone(), dry_run: config.dry_run, page_size: None };
        let mut stdout = std::io::stdout();
        match cleanup_collections(&target, &options, &mut stdout).await {
            Ok(outcome) => {
                let summary = format!("{}\n", outcome.summary(&options, target.describe()));
                if let Err(e) = crate::output::print(&summary) {
                    eprintln!("rekcon cleanup: cannot print the summary: {e}");
                }
                outcome.exit_code()
            }
            Err(e) => {
                eprintln!("rekcon cleanup: cannot list the collections on {}: {e}", target.describe());
                crate::report::EXIT_NO_ANSWER
            }
        }
    })
}

/// The scenarios root the test binary and benches use: `<crate>/scenarios`.
pub fn crate_scenarios_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> PathBuf {
        let root = std::env::temp_dir().join(format!("rekcon-select-{}", uuid::Uuid::new_v4().simple()));
        for name in ["users/create_user", "users/create_user_duplicate", "faces/index_faces"] {
            let path = root.join(format!("{name}.yaml"));
            std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
            std::fs::write(path, "description: d\ntags: [t]\nsteps:\n  - ListCollections: {}\n")
                .expect("file");
        }
        root
    }

    fn names(root: &Path, filters: &[&str], tags: &[&str]) -> Vec<String> {
        let filters: Vec<String> = filters.iter().map(|f| f.to_string()).collect();
        let tags: Vec<String> = tags.iter().map(|t| t.to_string()).collect();
        let selection = select(root, &filters, &tags).expect("selects");
        selection.scenarios.iter().map(|s| s.name.clone()).collect()
    }

    #[test]
    fn filters_select_by_name_segments_wildcards_and_path() {
        let root = root();
        assert_eq!(names(&root, &["users/create_user"], &[]), ["users/create_user"]);
        assert_eq!(names(&root, &["create_user"], &[]), ["users/create_user"]);
        assert_eq!(
            names(&root, &["create_user*"], &[]),
            ["users/create_user", "users/create_user_duplicate"]
        );
        assert_eq!(names(&root, &["users::create_user_duplicate"], &[]), ["users/create_user_duplicate"]);
        let file = root.join("faces/index_faces.yaml").display().to_string();
        assert_eq!(names(&root, &[&file], &[]), ["faces/index_faces"]);
        let dir = root.join("users").display().to_string();
        assert_eq!(names(&root, &[&dir], &[]), ["users/create_user", "users/create_user_duplicate"]);
        assert_eq!(names(&root, &[], &["t"]).len(), 3);
        assert!(names(&root, &[], &["other"]).is_empty());
    }

    #[test]
    fn real_aws_warnings_name_leftover_fixtures_and_undeclared_photos() {
        let root = std::env::temp_dir().join(format!("rekcon-photos-{}", uuid::Uuid::new_v4().simple()));
        let images = root.join(scenario::IMAGES_DIR);
        std::fs::create_dir_all(&images).expect("dir");
        let marked = crate::image::fixture_png(&[]);
        std::fs::write(images.join("fixture.png"), marked).expect("image");
        std::fs::write(images.join("declared.jpg"), b"\xFF\xD8\xFFdeclared").expect("image");
        std::fs::write(images.join("stray.jpg"), b"\xFF\xD8\xFFstray").expect("image");
        std::fs::write(images.join(scenario::CATALOGUE_FILE), "declared.jpg: [alice]\n").expect("catalogue");
        let text = "description: d\nimages: [fixture, declared, stray]\nsteps:\n  - ListCollections: {}\n";
        let loaded = scenario::parse(&root, "t/x", &root.join("t/x.yaml"), text).expect("loads");
        let warnings = real_aws_image_warnings(&[Arc::new(loaded)]);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(
            warnings[0].contains("still generated fixtures") && warnings[0].ends_with(": fixture"),
            "{warnings:?}"
        );
        assert!(warnings[1].contains("catalogue.yaml") && warnings[1].ends_with(": stray"), "{warnings:?}");
        std::fs::write(images.join(scenario::CATALOGUE_FILE), "declared.jpg: [alice]\nstray.jpg: []\n")
            .expect("catalogue");
        let text = "description: d\nimages: [declared, stray]\nsteps:\n  - ListCollections: {}\n";
        let loaded = scenario::parse(&root, "t/x", &root.join("t/x.yaml"), text).expect("loads");
        assert!(real_aws_image_warnings(&[Arc::new(loaded)]).is_empty());
    }

    #[test]
    fn collection_ids_that_can_create_something() {
        assert!(is_valid_collection_id("rekcon-1234abcd-1-c"));
        assert!(!is_valid_collection_id("bad name!"));
        assert!(!is_valid_collection_id(&"x".repeat(256)));
        assert!(!is_valid_collection_id(""));
    }
}

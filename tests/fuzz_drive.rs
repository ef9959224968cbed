//! The driver's judgement of what it saw, with scripted executors: a divergence that does
//! not reproduce on every confirmation run is flaky, not a finding; a generated case
//! that cannot run is a generator bug (reported, exit 2); an endpoint that stops
//! answering stops the run (exit 3).

mod fuzz_support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use rekcon::check::{Finding, Layer};
use rekcon::expect::{Mismatch, Observed};
use rekcon::fuzz::case::CaseRunner;
use rekcon::fuzz::drive::{self, DriveConfig, Silent};
use rekcon::fuzz::exec::Executor;
use rekcon::fuzz::generate::{Fixture, GenConfig};
use rekcon::fuzz::report::{self, ReplayContext, RunDescription};
use rekcon::report::{CleanupSummary, ScenarioReport, StepRecord, Verdict};
use rekcon::scenario::Scenario;
use serde_json::json;

/// Answers every case by `script(run number)`.
struct Scripted {
    runs: usize,
    script: fn(usize) -> Verdict,
}

impl Executor for Scripted {
    fn run(&mut self, _ordinal: usize, scenario: &Scenario) -> ScenarioReport {
        self.runs += 1;
        let verdict = (self.script)(self.runs);
        let finding = Finding::new(
            Layer::Model,
            Mismatch {
                path: "UserStatus".into(),
                expected: "\"UPDATING\"".into(),
                actual: "\"ACTIVE\"".into(),
            },
        );
        let record = StepRecord {
            step: 1,
            line: 7,
            settle_poll: false,
            target: "RekognitionService.AssociateFaces".into(),
            raw: false,
            request: json!({}),
            response: None,
            observed: Some(Observed::Success(json!({}))),
            expectation: None,
            findings: if matches!(verdict, Verdict::Diverged { .. }) { vec![finding] } else { Vec::new() },
            unknowns: BTreeSet::new(),
            ..StepRecord::default()
        };
        ScenarioReport {
            name: scenario.name.clone(),
            path: scenario.path.clone(),
            verdict,
            steps: 1,
            stop: None,
            records: vec![record],
            unknowns: BTreeSet::new(),
            collections: BTreeMap::new(),
            duration: Duration::ZERO,
            reproduce: String::new(),
        }
    }

    fn finish(&mut self) -> CleanupSummary {
        CleanupSummary::default()
    }
}

fn runner(script: fn(usize) -> Verdict) -> CaseRunner {
    let root = fuzz_support::root();
    let fixtures = Fixture::load_dir(&root.join("images")).expect("fixture images");
    CaseRunner::new(Box::new(Scripted { runs: 0, script }), &root, GenConfig { fixtures })
}

fn config() -> DriveConfig {
    DriveConfig { seed: 3, cases: 20, max_shrink_iters: 20, ..DriveConfig::default() }
}

fn describe() -> RunDescription {
    RunDescription {
        target: "scripted".into(),
        mutant: None,
        reproduce: "rekcon fuzz --seed 3".into(),
        replay: ReplayContext::default(),
    }
}

#[test]
fn a_divergence_that_does_not_reproduce_is_flaky_not_a_finding() {
    // Every other run diverges: the first failure shrinks, then fails to repeat.
    let outcome = drive::drive(
        &mut runner(|n| if n % 2 == 0 { Verdict::Diverged { step: 1, line: 7 } } else { Verdict::Pass }),
        &config(),
        &Silent,
    );
    assert!(outcome.findings.is_empty(), "{:?}", outcome.findings);
    assert_eq!(outcome.flaky.len(), 1, "{:?}", outcome.flaky);
    let flaky = &outcome.flaky[0];
    assert!(flaky.reproduced < flaky.runs && flaky.runs == 3, "{flaky:?}");
    assert_eq!(flaky.divergence.path, "UserStatus");
    let dir = fuzz_support::scratch_root("flaky");
    let report =
        report::build(&outcome, &config(), &describe(), &dir, &dir.join("regressions")).expect("report");
    assert_eq!(report.exit_code(), 0, "flaky is reported, not counted");
    assert!(report.render().contains("flaky (not a finding)"));
    assert!(!dir.join("regressions").exists(), "no regression is written for a flaky divergence");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_steady_divergence_is_a_finding() {
    let outcome = drive::drive(&mut runner(|_| Verdict::Diverged { step: 1, line: 7 }), &config(), &Silent);
    assert_eq!(outcome.findings.len(), 1, "{:?}", outcome.flaky);
    assert!(outcome.findings[0].steps <= 8);
    assert_eq!(outcome.cases, 20, "later cases failing the same way are not shrunk again");
    assert!(outcome.repeats > 0);
}

#[test]
fn cases_that_cannot_run_are_generator_bugs() {
    let outcome = drive::drive(
        &mut runner(|_| Verdict::BadScenario {
            line: 7,
            column: 5,
            reason: "capture `f1` found nothing".into(),
        }),
        &config(),
        &Silent,
    );
    assert!(outcome.findings.is_empty());
    assert!(!outcome.generator_bugs.is_empty() && outcome.generator_bugs.len() <= 5);
    let dir = fuzz_support::scratch_root("genbug");
    let report =
        report::build(&outcome, &config(), &describe(), &dir, &dir.join("regressions")).expect("report");
    assert_eq!(report.exit_code(), 2);
    assert!(report.render().contains("GENERATOR BUG"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_endpoint_that_stops_answering_stops_the_run() {
    let outcome = drive::drive(
        &mut runner(|_| Verdict::NoAnswer { step: 1, line: 7, reason: "connection refused".into() }),
        &config(),
        &Silent,
    );
    assert_eq!(outcome.cases, 1);
    assert!(outcome.no_answer.as_deref().is_some_and(|r| r.contains("connection refused")));
    let dir = fuzz_support::scratch_root("noanswer");
    let report =
        report::build(&outcome, &config(), &describe(), &dir, &dir.join("regressions")).expect("report");
    assert_eq!(report.exit_code(), 3);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_case_meeting_a_transient_error_past_the_retries_runs_again() {
    // `serve --faults` injects 500s independently per request: now and then one call
    // meets one on every attempt. Its case runs again; the run goes on.
    let outcome = drive::drive(
        &mut runner(|n| match n {
            1 => Verdict::NoAnswer {
                step: 22,
                line: 7,
                reason: "InternalServerError (HTTP 500) after retries".into(),
            },
            3 => Verdict::NoAnswer {
                step: 2,
                line: 7,
                reason: "dispatch failure: io error: connection closed before message completed".into(),
            },
            _ => Verdict::Pass,
        }),
        &config(),
        &Silent,
    );
    assert_eq!(outcome.no_answer, None);
    assert_eq!(outcome.cases, 20);
}

/// Passes every case and raises `flag` during its first run, as a signal arriving while
/// the first case is under way would.
struct InterruptsAtFirstRun {
    flag: std::sync::Arc<std::sync::atomic::AtomicBool>,
    runs: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Executor for InterruptsAtFirstRun {
    fn run(&mut self, ordinal: usize, scenario: &Scenario) -> ScenarioReport {
        use std::sync::atomic::Ordering;
        self.runs.fetch_add(1, Ordering::SeqCst);
        self.flag.store(true, Ordering::SeqCst);
        Scripted { runs: 0, script: |_| Verdict::Pass }.run(ordinal, scenario)
    }

    fn finish(&mut self) -> CleanupSummary {
        CleanupSummary::default()
    }
}

#[test]
fn an_interrupt_starts_no_further_case_of_the_batch_under_way() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let flag = Arc::new(AtomicBool::new(false));
    let runs = Arc::new(AtomicUsize::new(0));
    let lanes: Vec<Box<dyn Executor + Send>> = (0..2)
        .map(|_| {
            Box::new(InterruptsAtFirstRun { flag: Arc::clone(&flag), runs: Arc::clone(&runs) })
                as Box<dyn Executor + Send>
        })
        .collect();
    let root = fuzz_support::root();
    let fixtures = Fixture::load_dir(&root.join("images")).expect("fixture images");
    let mut runner = CaseRunner::with_lanes(lanes, &root, GenConfig { fixtures });
    let config = DriveConfig { interrupt: Some(Arc::clone(&flag)), cases: 100, ..config() };
    let outcome = drive::drive(&mut runner, &config, &Silent);
    // A batch holds 4 cases per lane (8); at most the two under way when the flag went up
    // ran, and those were counted.
    let ran = runs.load(Ordering::SeqCst);
    assert!((1..=2).contains(&ran), "{ran} cases ran after the interrupt of the first");
    assert_eq!(outcome.cases, ran as u64, "{outcome:?}");
    assert!(outcome.interrupted, "{outcome:?}");
}

/// Passes every case; the first case of the run takes `slow` and notes how many cases
/// the other lanes ran meanwhile.
struct SlowFirstCase {
    started: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    ran_meanwhile: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    slow: Duration,
    isolated: bool,
}

impl Executor for SlowFirstCase {
    fn run(&mut self, ordinal: usize, scenario: &Scenario) -> ScenarioReport {
        use std::sync::atomic::Ordering;
        if self.started.fetch_add(1, Ordering::SeqCst) == 0 {
            std::thread::sleep(self.slow);
            // The others, not this one.
            self.ran_meanwhile.store(self.started.load(Ordering::SeqCst) - 1, Ordering::SeqCst);
        }
        Scripted { runs: 0, script: |_| Verdict::Pass }.run(ordinal, scenario)
    }

    fn finish(&mut self) -> CleanupSummary {
        CleanupSummary::default()
    }

    fn isolated(&self) -> bool {
        self.isolated
    }
}

/// Runs 40 cases on two lanes whose first case takes 3 s; how many cases the other lane
/// ran meanwhile.
fn cases_beside_a_slow_one(isolated: bool) -> usize {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let (started, ran_meanwhile) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let lanes: Vec<Box<dyn Executor + Send>> = (0..2)
        .map(|_| {
            Box::new(SlowFirstCase {
                started: Arc::clone(&started),
                ran_meanwhile: Arc::clone(&ran_meanwhile),
                slow: Duration::from_secs(3),
                isolated,
            }) as Box<dyn Executor + Send>
        })
        .collect();
    let root = fuzz_support::root();
    let fixtures = Fixture::load_dir(&root.join("images")).expect("fixture images");
    let mut runner = CaseRunner::with_lanes(lanes, &root, GenConfig { fixtures });
    let outcome = drive::drive(&mut runner, &DriveConfig { cases: 40, ..config() }, &Silent);
    assert_eq!(outcome.cases, 40, "{outcome:?}");
    ran_meanwhile.load(Ordering::SeqCst)
}

#[test]
fn no_lane_of_its_own_waits_for_the_slowest_case_of_a_batch() {
    // A batch holds 4 cases per lane (8). Had the other lane waited for the slow case at
    // the end of its batch, it would have run at most the batch's 7 others meanwhile;
    // the next batch gives it 8 more.
    let meanwhile = cases_beside_a_slow_one(true);
    assert!((8..=15).contains(&meanwhile), "the other lane ran {meanwhile} cases while the slow one ran");
}

#[test]
fn lanes_sharing_an_endpoint_run_one_batch_at_a_time() {
    // The next batch would change the ids the endpoint hands out while this one's
    // findings are shrunk: it waits.
    let meanwhile = cases_beside_a_slow_one(false);
    assert_eq!(meanwhile, 7, "the other lane ran {meanwhile} cases while the slow one ran");
}

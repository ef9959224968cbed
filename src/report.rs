//! What a run found, for people and for machines: per-step records, per-scenario verdicts,
//! the run summary, the JSON report (`format_version` 1), JUnit XML, and exit codes.
//!
//! Reports never carry credentials: the raw response keeps only status and three
//! headers, request bodies are what the scenario wrote, and endpoint URLs are shown
//! without any user-info part.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use serde_json::{Value, json};

use crate::check::{Expectation, Finding, Layer, RawResponse};
use crate::error::{Error, LoadError, NoAnswer};
use crate::expect::Observed;
use crate::scenario::test_name;
use crate::unknown::Unknown;

/// Exit code: every scenario conformed.
pub const EXIT_CONFORM: u8 = 0;
/// Exit code: at least one divergence, or a scenario that contradicts the model.
pub const EXIT_DIVERGENCE: u8 = 1;
/// Exit code: a scenario file could not be used, the options were wrong, or the harness failed.
pub const EXIT_BAD_INPUT: u8 = 2;
/// Exit code: the endpoint gave no answer (transport, timeout, throttling after retries).
pub const EXIT_NO_ANSWER: u8 = 3;
/// Exit code: interrupted (Ctrl-C); reports were still written and collections deleted.
pub const EXIT_INTERRUPTED: u8 = 130;

/// The exit codes as `rekcon run --help` lists them (keep in step with the constants above).
pub const EXIT_CODES_HELP: &str = "Exit codes:
  0    every scenario conformed
  1    a divergence, or a scenario that contradicts the model
  2    a bad scenario, bad options, or a harness error
  3    no answer from the endpoint (transport, timeout, throttling after retries)
  130  interrupted by Ctrl-C (reports are still written, collections deleted);
       143 by SIGTERM, 129 by SIGHUP";

/// Version of the JSON report's layout; bumped whenever a field changes or is added.
pub const FORMAT_VERSION: u32 = 1;

/// The command that reproduces one scenario, as the report prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Repro {
    /// `rekcon run NAME` plus these flags (already starting with a space).
    Cli {
        /// Endpoint, region, profile and `--aws` flags of the run.
        flags: String,
    },
    /// `cargo test --test conformance -- TEST --exact`, with this environment prefix.
    CargoTest {
        /// `REKCON_ENDPOINT_URL=... ` or empty.
        env: String,
    },
}

impl Repro {
    /// The command for `scenario_name`.
    pub fn command(&self, scenario_name: &str) -> String {
        match self {
            Repro::Cli { flags } => format!("rekcon run {scenario_name}{flags}"),
            Repro::CargoTest { env } => {
                format!("{env}cargo test --test conformance -- {} --exact", test_name(scenario_name))
            }
        }
    }
}

/// What happened at one call: the request, the raw answer, what each check found.
#[derive(Debug, Clone, Serialize)]
pub struct StepRecord {
    /// The scenario step (1-based) the call belongs to.
    pub step: usize,
    /// The step's line in the scenario file.
    pub line: u64,
    /// Whether this is a ListUsers poll the runner made before the step, not the step itself.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub settle_poll: bool,
    /// The `X-Amz-Target` sent.
    pub target: String,
    /// Whether the body was sent byte for byte (a raw step), rather than through SDK builders.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub raw: bool,
    /// The request body: the JSON request, or the raw body text.
    pub request: Value,
    /// Status and headers of the last attempt's response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<RawResponse>,
    /// The answer read from the response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed: Option<Observed>,
    /// The step's written expectation, references substituted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expectation: Option<Expectation>,
    /// What the checks found; empty when the call conformed.
    pub findings: Vec<Finding>,
    /// Unsettled facts of the contract the judgement leaned on.
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub unknowns: BTreeSet<Unknown>,
    /// Why there was no answer, when there was none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_answer: Option<NoAnswer>,
    /// Why the step could not be run or completed (a capture found nothing, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// ListUsers polls made before the step so that users settled.
    #[serde(skip_serializing_if = "is_zero")]
    pub settle_polls: usize,
    /// Time taken, settling included.
    #[serde(serialize_with = "millis")]
    pub duration: Duration,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1000.0 * 10.0).round() / 10.0)
}

impl StepRecord {
    /// The operation or target, for humans.
    pub fn call_name(&self) -> &str {
        self.target.strip_prefix("RekognitionService.").unwrap_or(&self.target)
    }
}

/// How one scenario ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// Every step conformed and met its expectation.
    Pass,
    /// The endpoint diverged from the model at this step (wire or semantics).
    Diverged {
        /// 1-based step.
        step: usize,
        /// Its line.
        line: u64,
    },
    /// The scenario's expectation and the model disagree at this step: one of them is wrong.
    Contradiction {
        /// 1-based step.
        step: usize,
        /// Its line.
        line: u64,
    },
    /// The endpoint gave no answer at this step.
    NoAnswer {
        /// 1-based step.
        step: usize,
        /// Its line.
        line: u64,
        /// Why.
        reason: String,
    },
    /// The scenario cannot be run as written (load error, or a step that cannot be built).
    BadScenario {
        /// Line of the problem (0 when unknown).
        line: u64,
        /// Column of the problem (0 when unknown).
        column: u64,
        /// What is wrong.
        reason: String,
    },
    /// The harness itself failed (a panic); a bug in rekcon.
    HarnessError {
        /// The panic message.
        reason: String,
    },
    /// The scenario did not run to the end.
    NotRun {
        /// Why (interrupted).
        reason: String,
    },
}

impl Verdict {
    /// The exit code this verdict alone calls for.
    pub fn exit_code(&self) -> u8 {
        match self {
            Verdict::Pass => EXIT_CONFORM,
            Verdict::Diverged { .. } | Verdict::Contradiction { .. } => EXIT_DIVERGENCE,
            Verdict::BadScenario { .. } | Verdict::HarnessError { .. } => EXIT_BAD_INPUT,
            Verdict::NoAnswer { .. } => EXIT_NO_ANSWER,
            Verdict::NotRun { .. } => EXIT_INTERRUPTED,
        }
    }

    /// A one-word label.
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Diverged { .. } => "diverged",
            Verdict::Contradiction { .. } => "contradiction",
            Verdict::NoAnswer { .. } => "no answer",
            Verdict::BadScenario { .. } => "bad scenario",
            Verdict::HarnessError { .. } => "harness error",
            Verdict::NotRun { .. } => "not run",
        }
    }
}

/// One scenario's result.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioReport {
    /// The scenario name (`users/x`).
    pub name: String,
    /// Its file.
    pub path: PathBuf,
    /// How it ended.
    #[serde(flatten)]
    pub verdict: Verdict,
    /// Every call made, in order (successful settle polls are counted, not kept).
    pub records: Vec<StepRecord>,
    /// Unsettled facts of the contract its calls leaned on.
    pub unknowns: BTreeSet<Unknown>,
    /// The run-scoped CollectionId of each declared collection.
    pub collections: BTreeMap<String, String>,
    /// Time taken, cleanup included.
    #[serde(serialize_with = "millis")]
    pub duration: Duration,
    /// The command that runs this scenario alone.
    pub reproduce: String,
}

impl ScenarioReport {
    /// A report for a file that failed to load.
    pub fn bad_file(name: &str, error: &LoadError, repro: &Repro) -> ScenarioReport {
        ScenarioReport {
            name: name.to_string(),
            path: error.path.clone(),
            verdict: Verdict::BadScenario {
                line: error.line,
                column: error.column,
                reason: error.to_string(),
            },
            records: Vec::new(),
            unknowns: BTreeSet::new(),
            collections: BTreeMap::new(),
            duration: Duration::ZERO,
            reproduce: repro.command(name),
        }
    }

    /// A report for a scenario that ended without a verdict of its own.
    pub fn without_result(name: &str, path: &Path, verdict: Verdict, repro: &Repro) -> ScenarioReport {
        ScenarioReport {
            name: name.to_string(),
            path: path.to_path_buf(),
            verdict,
            records: Vec::new(),
            unknowns: BTreeSet::new(),
            collections: BTreeMap::new(),
            duration: Duration::ZERO,
            reproduce: repro.command(name),
        }
    }

    /// Whether the scenario passed.
    pub fn passed(&self) -> bool {
        self.verdict == Verdict::Pass
    }

    /// The record of the call that decided the verdict, if any.
    pub fn deciding_record(&self) -> Option<&StepRecord> {
        match self.verdict {
            Verdict::Pass
            | Verdict::BadScenario { .. }
            | Verdict::HarnessError { .. }
            | Verdict::NotRun { .. } => self.records.last().filter(|r| r.note.is_some()),
            _ => self.records.last(),
        }
    }

    /// `file:line` of the deciding step (`scenarios/users/x.yaml:23`).
    pub fn location(&self) -> String {
        match &self.verdict {
            Verdict::Diverged { line, .. }
            | Verdict::Contradiction { line, .. }
            | Verdict::NoAnswer { line, .. } => {
                format!("{}:{line}", self.path.display())
            }
            Verdict::BadScenario { line, .. } if *line > 0 => format!("{}:{line}", self.path.display()),
            _ => self.path.display().to_string(),
        }
    }

    /// The human explanation: verdict, place, every finding, and the reproduction command.
    /// Empty for a pass.
    pub fn explain(&self) -> String {
        let mut out = String::new();
        let call = self.deciding_record().map(|r| format!(": {}", r.call_name())).unwrap_or_default();
        match &self.verdict {
            Verdict::Pass => return out,
            Verdict::Diverged { step, .. } => {
                let _ = writeln!(out, "{}: diverged at step {step} ({}){call}", self.name, self.location());
            }
            Verdict::Contradiction { step, .. } => {
                let _ = writeln!(
                    out,
                    "{}: the scenario contradicts the model at step {step} ({}){call} — the model or the scenario is wrong",
                    self.name,
                    self.location()
                );
            }
            Verdict::NoAnswer { step, reason, .. } => {
                let _ = writeln!(
                    out,
                    "{}: no answer at step {step} ({}){call}: {reason}",
                    self.name,
                    self.location()
                );
            }
            Verdict::BadScenario { reason, .. } => {
                let _ = writeln!(out, "{}: bad scenario: {reason}", self.name);
            }
            Verdict::HarnessError { reason } => {
                let _ = writeln!(out, "{}: harness error (a bug in rekcon): {reason}", self.name);
            }
            Verdict::NotRun { reason } => {
                let _ = writeln!(out, "{}: not run: {reason}", self.name);
                return out;
            }
        }
        if let Some(record) = self.deciding_record() {
            if record.settle_poll {
                let _ = writeln!(out, "  while polling ListUsers for users to settle before the step");
            }
            for finding in &record.findings {
                let layer = match finding.layer {
                    Layer::Wire => "wire",
                    Layer::Model => "model",
                    Layer::Scenario => "scenario",
                };
                let m = &finding.mismatch;
                let path = if m.path.is_empty() { "(outcome)" } else { &m.path };
                let _ = writeln!(out, "  [{layer}] {path}: expected {}, got {}", m.expected, m.actual);
            }
            if let Some(note) = &record.note {
                let _ = writeln!(out, "  {note}");
            }
        }
        let _ = writeln!(out, "  reproduce: {}", self.reproduce);
        out
    }
}

/// What the final cleanup did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CleanupSummary {
    /// Collections deleted (or already gone).
    pub deleted: usize,
    /// Collections that could not be deleted (no answer); delete them by hand.
    pub failed: Vec<String>,
}

/// Everything one run found.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// Layout version of this report ([`FORMAT_VERSION`]).
    pub format_version: u32,
    /// The run id in every collection name (`rekcon-<run_id>-...`).
    pub run_id: String,
    /// The endpoint, without credentials.
    pub endpoint: String,
    /// Per scenario, in name order.
    pub scenarios: Vec<ScenarioReport>,
    /// Whether the run was interrupted.
    pub interrupted: bool,
    /// What the cleanup did.
    pub cleanup: CleanupSummary,
    /// Wall time of the run.
    #[serde(serialize_with = "millis")]
    pub duration: Duration,
}

impl RunReport {
    /// The exit code: 1 when anything diverged or contradicted the model, else 2 for bad
    /// scenarios or harness errors, else 3 when the endpoint gave no answer, else 130 when
    /// interrupted, else 0.
    pub fn exit_code(&self) -> u8 {
        let codes: BTreeSet<u8> = self.scenarios.iter().map(|s| s.verdict.exit_code()).collect();
        let interrupted = self.interrupted.then_some(EXIT_INTERRUPTED);
        [EXIT_DIVERGENCE, EXIT_BAD_INPUT, EXIT_NO_ANSWER, EXIT_INTERRUPTED]
            .into_iter()
            .find(|code| codes.contains(code))
            .or(interrupted)
            .unwrap_or(EXIT_CONFORM)
    }

    /// Every unsettled fact any call of the run leaned on.
    pub fn unknowns(&self) -> BTreeSet<Unknown> {
        self.scenarios.iter().flat_map(|s| s.unknowns.iter().copied()).collect()
    }

    /// The human report: one line per scenario, explanations of failures, unsettled
    /// points, cleanup, and a closing count.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "rekcon run {} against {}", self.run_id, self.endpoint);
        for s in &self.scenarios {
            let _ = writeln!(out, "{:<13} {}", s.verdict.label(), s.name);
        }
        let failures: Vec<&ScenarioReport> = self
            .scenarios
            .iter()
            .filter(|s| !s.passed() && !matches!(s.verdict, Verdict::NotRun { .. }))
            .collect();
        if !failures.is_empty() {
            let _ = writeln!(out);
            for s in failures {
                let _ = writeln!(out, "{}", s.explain());
            }
        }
        let unknowns = self.unknowns();
        if !unknowns.is_empty() {
            let _ = writeln!(
                out,
                "unsettled: needs a real-AWS recording ({} points this run leaned on)",
                unknowns.len()
            );
            for u in unknowns {
                let _ = writeln!(out, "  {} — {}", u.tag(), u.question());
            }
            let _ = writeln!(out);
        }
        if !self.cleanup.failed.is_empty() {
            let _ = writeln!(
                out,
                "cleanup: could not delete {} collection(s): {}\n  once the endpoint answers: rekcon cleanup --prefix rekcon-{}- (with this run's endpoint flags)",
                self.cleanup.failed.len(),
                self.cleanup.failed.join(", "),
                self.run_id
            );
        }
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for s in &self.scenarios {
            *counts.entry(s.verdict.label()).or_default() += 1;
        }
        let order =
            ["pass", "diverged", "contradiction", "bad scenario", "no answer", "harness error", "not run"];
        let parts: Vec<String> = order
            .iter()
            .filter_map(|label| counts.get(label).map(|n| format!("{n} {}", plural(label, *n))))
            .collect();
        let parts = if parts.is_empty() { "no scenarios".to_string() } else { parts.join(", ") };
        let interrupted = if self.interrupted { " (interrupted)" } else { "" };
        let _ = writeln!(out, "{parts} in {:.2}s{interrupted}", self.duration.as_secs_f64());
        out
    }

    /// The JSON report: the run, each scenario's verdict and its deciding call in full,
    /// and the unsettled points with their questions.
    pub fn to_json(&self) -> Value {
        let scenarios: Vec<Value> = self
            .scenarios
            .iter()
            .map(|s| {
                let mut v = json!({
                    "name": s.name,
                    "path": s.path.display().to_string(),
                    "location": s.location(),
                    "verdict": s.verdict,
                    "steps_run": s.records.iter().filter(|r| !r.settle_poll).count(),
                    "unknowns": s.unknowns,
                    "duration_ms": (s.duration.as_secs_f64() * 1000.0).round(),
                    "reproduce": s.reproduce,
                });
                if let Some(record) = s.deciding_record().filter(|_| !s.passed()) {
                    v["failure"] = shorten_long_strings(serde_json::to_value(record).unwrap_or(Value::Null));
                    v["explanation"] = Value::String(s.explain());
                }
                v
            })
            .collect();
        let unknowns: Vec<Value> =
            self.unknowns().into_iter().map(|u| json!({"tag": u.tag(), "question": u.question()})).collect();
        json!({
            "format_version": FORMAT_VERSION,
            "run_id": self.run_id,
            "endpoint": self.endpoint,
            "exit_code": self.exit_code(),
            "interrupted": self.interrupted,
            "duration_ms": (self.duration.as_secs_f64() * 1000.0).round(),
            "summary": self.scenarios.iter().fold(BTreeMap::<&str, usize>::new(), |mut m, s| {
                *m.entry(s.verdict.label()).or_default() += 1;
                m
            }),
            "scenarios": scenarios,
            "unsettled": unknowns,
            "cleanup": self.cleanup,
        })
    }

    /// The JUnit XML report: one test case per scenario, named by its test name.
    pub fn to_junit(&self) -> String {
        use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
        let mut suite = TestSuite::new("rekcon");
        for s in &self.scenarios {
            let mut status = match &s.verdict {
                Verdict::Pass => TestCaseStatus::success(),
                Verdict::NotRun { .. } => TestCaseStatus::skipped(),
                Verdict::Diverged { .. } | Verdict::Contradiction { .. } => {
                    TestCaseStatus::non_success(NonSuccessKind::Failure)
                }
                _ => TestCaseStatus::non_success(NonSuccessKind::Error),
            };
            if !s.passed() {
                status.set_message(format!("{} at {}", s.verdict.label(), s.location()));
                status.set_type(s.verdict.label());
                status.set_description(s.explain());
            }
            let mut case = TestCase::new(s.name.replace('/', "::"), status);
            case.set_classname(
                s.name.rsplit_once('/').map_or("scenarios", |(dir, _)| dir).replace('/', "::"),
            );
            case.set_time(s.duration);
            suite.add_test_case(case);
        }
        let mut report = Report::new("rekcon");
        report.set_time(self.duration);
        report.add_test_suite(suite);
        report.to_string().unwrap_or_else(|e| format!("<!-- cannot serialize the JUnit report: {e} -->"))
    }

    /// Writes the JSON report.
    pub fn write_json(&self, path: &Path) -> Result<(), Error> {
        let text = serde_json::to_string_pretty(&self.to_json()).unwrap_or_default();
        write_file(path, &text)
    }

    /// Writes the JUnit report.
    pub fn write_junit(&self, path: &Path) -> Result<(), Error> {
        write_file(path, &self.to_junit())
    }
}

fn plural(label: &str, n: usize) -> String {
    match (label, n) {
        ("pass", _) => "passed".into(),
        ("contradiction", n) if n > 1 => "contradictions".into(),
        ("bad scenario", n) if n > 1 => "bad scenarios".into(),
        ("harness error", n) if n > 1 => "harness errors".into(),
        (label, _) => label.to_string(),
    }
}

fn write_file(path: &Path, text: &str) -> Result<(), Error> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|source| Error::Write { path: path.to_path_buf(), source })?;
    }
    std::fs::write(path, text).map_err(|source| Error::Write { path: path.to_path_buf(), source })
}

/// Replaces strings longer than 200 characters (image bytes) by their length.
fn shorten_long_strings(value: Value) -> Value {
    match value {
        Value::String(s) if s.len() > 200 => Value::String(format!("<{} characters>", s.len())),
        Value::Array(items) => Value::Array(items.into_iter().map(shorten_long_strings).collect()),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, shorten_long_strings(v))).collect())
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expect::Mismatch;

    fn record() -> StepRecord {
        StepRecord {
            step: 4,
            line: 23,
            settle_poll: false,
            target: "RekognitionService.AssociateFaces".into(),
            raw: false,
            request: json!({"CollectionId": "c"}),
            response: None,
            observed: None,
            expectation: None,
            findings: vec![Finding::new(
                Layer::Model,
                Mismatch {
                    path: "UserStatus".into(),
                    expected: "\"UPDATING\"".into(),
                    actual: "\"ACTIVE\"".into(),
                },
            )],
            unknowns: BTreeSet::new(),
            no_answer: None,
            note: None,
            settle_polls: 0,
            duration: Duration::from_millis(3),
        }
    }

    fn report(verdict: Verdict) -> ScenarioReport {
        let repro = Repro::Cli { flags: " --endpoint-url http://127.0.0.1:9".into() };
        ScenarioReport {
            name: "users/x".into(),
            path: PathBuf::from("scenarios/users/x.yaml"),
            verdict,
            records: vec![record()],
            unknowns: [Unknown::ValidationErrorType].into(),
            collections: BTreeMap::new(),
            duration: Duration::from_millis(5),
            reproduce: repro.command("users/x"),
        }
    }

    #[test]
    fn a_divergence_names_file_line_path_and_reproduction() {
        let text = report(Verdict::Diverged { step: 4, line: 23 }).explain();
        assert_eq!(
            text,
            "users/x: diverged at step 4 (scenarios/users/x.yaml:23): AssociateFaces\n  [model] UserStatus: expected \"UPDATING\", got \"ACTIVE\"\n  reproduce: rekcon run users/x --endpoint-url http://127.0.0.1:9\n"
        );
    }

    #[test]
    fn exit_codes_prefer_findings() {
        let run = |verdicts: Vec<Verdict>| RunReport {
            format_version: FORMAT_VERSION,
            run_id: "r".into(),
            endpoint: "e".into(),
            scenarios: verdicts.into_iter().map(report).collect(),
            interrupted: false,
            cleanup: CleanupSummary::default(),
            duration: Duration::ZERO,
        };
        assert_eq!(run(vec![Verdict::Pass]).exit_code(), EXIT_CONFORM);
        let no_answer = Verdict::NoAnswer { step: 1, line: 1, reason: "r".into() };
        assert_eq!(run(vec![Verdict::Pass, no_answer.clone()]).exit_code(), EXIT_NO_ANSWER);
        assert_eq!(run(vec![no_answer, Verdict::Diverged { step: 1, line: 2 }]).exit_code(), EXIT_DIVERGENCE);
        let bad = Verdict::BadScenario { line: 1, column: 1, reason: "x".into() };
        assert_eq!(run(vec![bad, Verdict::Pass]).exit_code(), EXIT_BAD_INPUT);
        let report = run(vec![Verdict::Contradiction { step: 1, line: 2 }]);
        let json = report.to_json();
        assert_eq!(json["format_version"], 1);
        assert_eq!(json["unsettled"][0]["tag"], "unknown:validation-error-type");
        assert!(report.to_junit().contains("users::x"));
        assert!(report.render().contains("unsettled: needs a real-AWS recording"));
    }

    #[test]
    fn cargo_test_reproduction() {
        let repro = Repro::CargoTest { env: String::new() };
        assert_eq!(repro.command("users/x"), "cargo test --test conformance -- users::x --exact");
    }
}

//! What a run found, for people and for machines: the typed run result (per-call
//! records, per-scenario verdicts, where a scenario stopped and why), the exit codes,
//! and one module per format, each reading that one result: [`text`] for people,
//! [`json`] (`format_version` 2) and [`junit`] for machines. The root causes
//! ([`crate::cause`]) and the parity matrix ([`matrix`]) are derived from it.
//!
//! Reports never carry credentials: the raw response keeps only status and three
//! headers, request bodies are what the scenario wrote, and endpoint URLs are shown
//! without any user-info part.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::cause::{Causes, Seen, Signature};
use crate::check::{Expectation, Finding, RawResponse};
use crate::error::{Error, LoadError, NoAnswer};
use crate::expect::Observed;
use crate::ratelimit::OperationRetries;
use crate::scenario::test_name;
use crate::unknown::Unknown;

pub mod baseline;
mod html;
pub mod json;
mod junit;
mod markdown;
pub mod matrix;
mod text;

pub(crate) use junit::junit_report;
pub use matrix::{Matrix, OperationVerdict};

/// Exit code: every scenario conformed.
pub const EXIT_CONFORM: u8 = 0;
/// Exit code: at least one divergence, or a scenario that contradicts the model.
pub const EXIT_DIVERGENCE: u8 = 1;
/// Exit code: a scenario file could not be used, the options were wrong, or the harness failed.
pub const EXIT_BAD_INPUT: u8 = 2;
/// Exit code: the endpoint gave no answer (transport, timeout, throttling after retries).
pub const EXIT_NO_ANSWER: u8 = 3;
/// Exit code: nothing diverged, but operations a scenario needs are not implemented, so
/// the scenarios that need them are blocked (neither passed nor failed).
pub const EXIT_NOT_IMPLEMENTED: u8 = 4;
/// Exit code: nothing diverged, but the endpoint refused rekcon's own set-up (signature,
/// credentials, clock skew, IAM permissions for the action): fix the set-up and run again.
pub const EXIT_SETUP_PROBLEM: u8 = 5;
/// Exit code: interrupted (Ctrl-C); reports were still written and collections deleted.
pub const EXIT_INTERRUPTED: u8 = 130;

/// The exit codes as `rekcon run --help` lists them (keep in step with the constants above).
pub const EXIT_CODES_HELP: &str = "Exit codes:
  0    every scenario conformed
  1    a divergence, or a scenario that contradicts the model
  2    a bad scenario, bad options, or a harness error
  3    no answer from the endpoint (transport, timeout, throttling after retries)
  4    nothing diverged, but some operations are not implemented (scenarios blocked)
  5    a set-up problem: the endpoint refused rekcon's own signature, credentials, clock
       or IAM permissions (never blamed on the endpoint); fix the set-up, run again
  6    with --against: nothing diverged from AWS, but the model disagrees with what AWS
       answered (a rekcon bug, reported apart; never blamed on the endpoint)
  7    --max-requests stopped the run and nothing it judged diverged (the rest is not run;
       collections deleted, reports written)
  130  interrupted by Ctrl-C (reports are still written, collections deleted);
       143 by SIGTERM, 129 by SIGHUP";

/// Version of the JSON report's layout; bumped whenever a field changes or is added.
pub const FORMAT_VERSION: u32 = 2;

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
#[derive(Debug, Clone, Default, Serialize)]
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
    /// The evidence that the endpoint does not implement the operation
    /// (`HTTP 501 NotImplementedError`), when it said so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_implemented: Option<String>,
    /// The hint, when the endpoint refused rekcon's own set-up (signature, credentials,
    /// clock, IAM permissions) at this call: nothing about the endpoint was judged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub setup_problem: Option<String>,
    /// Times the call was sent again because a not-found answer came right after the
    /// write that created the thing (read-after-write lag, contract §9.20).
    #[serde(skip_serializing_if = "is_zero")]
    pub lag_retries: usize,
    /// Why the step's expectation (or the rest of the scenario) was not judged: it needs
    /// face identity or a face count, which `--faces endpoint` leaves to the endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_applicable: Option<String>,
    /// Why the step could not be run or completed (a capture found nothing, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Paths of the answer whose value the model allowed to vary with timing (a user's
    /// status while it settles): transcripts normalise them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub settling: Vec<String>,
    /// ListUsers polls made before the step so that users settled.
    #[serde(skip_serializing_if = "is_zero")]
    pub settle_polls: usize,
    /// Time taken, settling included (`duration_ms` in reports).
    #[serde(rename = "duration_ms", serialize_with = "millis")]
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

    /// Whether a check blamed the endpoint at this call.
    pub fn diverged(&self) -> bool {
        self.findings.iter().any(Finding::is_divergence)
    }

    /// Whether the scenario and the model disagreed at this call.
    pub fn contradicted(&self) -> bool {
        self.findings.iter().any(|f| f.layer == crate::check::Layer::Scenario)
    }
}

/// Why a scenario stopped before its last step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum StopKind {
    /// The endpoint gave no answer.
    NoAnswer,
    /// The endpoint does not implement the step's operation.
    NotImplemented,
    /// The endpoint refused rekcon's own credentials, signature, clock or permissions.
    SetupProblem,
    /// The step cannot be run as written.
    BadStep,
    /// After a divergence, the endpoint's state can no longer be followed.
    Unfollowable,
    /// The endpoint conformed, but the rest needs what its own face detection did not
    /// give (`--faces endpoint`): not applicable, never a failure.
    NotApplicable,
}

/// Where a scenario stopped, why, and which steps were therefore not judged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stop {
    /// The 1-based step it stopped at.
    pub step: usize,
    /// Its line.
    pub line: u64,
    /// Its column.
    #[serde(skip)]
    pub column: u64,
    /// The step's operation (or raw target).
    pub operation: String,
    /// What stopped it.
    pub kind: StopKind,
    /// Why, in words.
    pub reason: String,
    /// The steps after it, first and last, that were not judged (none when it was the last).
    pub not_judged: Option<(usize, usize)>,
    /// The operations of those steps, in order.
    #[serde(skip)]
    pub not_judged_operations: Vec<String>,
}

impl Stop {
    /// `steps 7–12 not judged` (or `step 12 not judged`), when any were left.
    pub fn not_judged_text(&self) -> Option<String> {
        self.not_judged.map(|(from, to)| {
            if from == to {
                format!("step {from} not judged")
            } else {
                format!("steps {from}–{to} not judged")
            }
        })
    }
}

/// How one scenario ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
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
    /// A step needs an operation the endpoint does not implement, and nothing diverged
    /// before it: neither a pass nor a failure.
    Blocked {
        /// 1-based step.
        step: usize,
        /// Its line.
        line: u64,
        /// The operation not implemented.
        operation: String,
        /// The evidence (`HTTP 501 NotImplementedError`).
        evidence: String,
    },
    /// The endpoint refused rekcon's own signature, credentials, clock or IAM
    /// permissions at this step: the tester's set-up, never the endpoint's fault.
    SetupProblem {
        /// 1-based step.
        step: usize,
        /// Its line.
        line: u64,
        /// What to fix, in one line.
        hint: String,
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
            Verdict::Blocked { .. } => EXIT_NOT_IMPLEMENTED,
            Verdict::SetupProblem { .. } => EXIT_SETUP_PROBLEM,
            Verdict::NotRun { .. } => EXIT_INTERRUPTED,
        }
    }

    /// A scenario's verdict from its calls and where it stopped: any divergence blames
    /// the endpoint (the first one is named); else a contradiction; else what stopped it;
    /// else a pass. `file` names the scenario in a bad step's reason.
    pub fn decide(records: &[StepRecord], stop: Option<&Stop>, file: &Path) -> Verdict {
        if let Some(r) = records.iter().find(|r| r.diverged()) {
            return Verdict::Diverged { step: r.step, line: r.line };
        }
        if let Some(r) = records.iter().find(|r| r.contradicted()) {
            return Verdict::Contradiction { step: r.step, line: r.line };
        }
        let Some(stop) = stop else { return Verdict::Pass };
        let (step, line) = (stop.step, stop.line);
        match stop.kind {
            StopKind::NotApplicable => Verdict::Pass,
            StopKind::NoAnswer => Verdict::NoAnswer { step, line, reason: stop.reason.clone() },
            StopKind::SetupProblem => Verdict::SetupProblem { step, line, hint: stop.reason.clone() },
            StopKind::NotImplemented => Verdict::Blocked {
                step,
                line,
                operation: stop.operation.clone(),
                evidence: stop.reason.clone(),
            },
            // Without a divergence the state is always followed; a scenario that cannot
            // go on is the scenario's problem.
            StopKind::BadStep | StopKind::Unfollowable => Verdict::BadScenario {
                line,
                column: stop.column,
                reason: format!("{}:{line}:{}: step {step}: {}", file.display(), stop.column, stop.reason),
            },
        }
    }

    /// A one-word label.
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Diverged { .. } => "diverged",
            Verdict::Contradiction { .. } => "contradiction",
            Verdict::NoAnswer { .. } => "no answer",
            Verdict::Blocked { .. } => "blocked",
            Verdict::SetupProblem { .. } => "set-up problem",
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
    /// How many steps it has.
    pub steps: usize,
    /// Where it stopped before its end, and why; `None` when every step was judged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop: Option<Stop>,
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
            steps: 0,
            stop: None,
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
            steps: 0,
            stop: None,
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

    /// The record of the call that decided the verdict, if any: the first divergence,
    /// the first contradiction, or the call it stopped at.
    pub fn deciding_record(&self) -> Option<&StepRecord> {
        match self.verdict {
            Verdict::Diverged { .. } => self.records.iter().find(|r| r.diverged()),
            Verdict::Contradiction { .. } => self.records.iter().find(|r| r.contradicted()),
            Verdict::Pass
            | Verdict::BadScenario { .. }
            | Verdict::HarnessError { .. }
            | Verdict::NotRun { .. } => self.records.last().filter(|r| r.note.is_some()),
            Verdict::NoAnswer { .. } | Verdict::Blocked { .. } | Verdict::SetupProblem { .. } => {
                self.records.last()
            }
        }
    }

    /// Every call at which the endpoint diverged, in order.
    pub fn diverging_records(&self) -> impl Iterator<Item = &StepRecord> {
        self.records.iter().filter(|r| r.diverged())
    }

    /// The calls of this scenario as the cause grouping reads them.
    pub fn seen(&self) -> impl Iterator<Item = Seen<'_>> {
        self.records.iter().map(|r| Seen {
            scenario: &self.name,
            file: &self.path,
            line: r.line,
            step: r.step,
            operation: r.call_name(),
            findings: &r.findings,
        })
    }

    /// The signatures of this scenario's divergences, each once, in order of first sight.
    pub fn signatures(&self) -> Vec<Signature> {
        let mut out: Vec<Signature> = Vec::new();
        for r in &self.records {
            for f in &r.findings {
                if let Some(sig) = Signature::of(r.call_name(), f)
                    && !out.contains(&sig)
                {
                    out.push(sig);
                }
            }
        }
        out
    }

    /// `file:line` of the deciding step (`scenarios/users/x.yaml:23`).
    pub fn location(&self) -> String {
        match &self.verdict {
            Verdict::Diverged { line, .. }
            | Verdict::Contradiction { line, .. }
            | Verdict::NoAnswer { line, .. }
            | Verdict::Blocked { line, .. }
            | Verdict::SetupProblem { line, .. } => {
                format!("{}:{line}", self.path.display())
            }
            Verdict::BadScenario { line, .. } if *line > 0 => format!("{}:{line}", self.path.display()),
            _ => self.path.display().to_string(),
        }
    }
}

/// What ran where, and when: enough to repeat a run, or to check a claim about it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct RunMetadata {
    /// rekcon's version.
    pub rekcon_version: String,
    /// SHA-256 over the selected scenario files (names and bytes) and their images, hex.
    pub suite_hash: String,
    /// The signing region.
    pub region: String,
    /// When the run started, RFC 3339 in UTC.
    pub started_at: String,
}

impl RunMetadata {
    /// The metadata of a run of `scenarios` in `region`, starting now.
    pub fn now(scenarios: &[std::sync::Arc<crate::scenario::Scenario>], region: &str) -> RunMetadata {
        RunMetadata {
            rekcon_version: env!("CARGO_PKG_VERSION").to_string(),
            suite_hash: suite_hash(scenarios),
            region: region.to_string(),
            started_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        }
    }
}

/// SHA-256 over each scenario's name, file bytes and images, in name order.
pub fn suite_hash(scenarios: &[std::sync::Arc<crate::scenario::Scenario>]) -> String {
    use sha2::{Digest, Sha256};
    let mut sorted: Vec<&crate::scenario::Scenario> = scenarios.iter().map(|s| s.as_ref()).collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let mut hasher = Sha256::new();
    for s in sorted {
        hasher.update(s.name.as_bytes());
        hasher.update([0]);
        hasher.update(std::fs::read(&s.path).unwrap_or_default());
        for image in &s.images {
            hasher.update(image.name.as_bytes());
            hasher.update(image.base64.as_bytes());
        }
        hasher.update([0xff]);
    }
    hex::encode(hasher.finalize())
}

/// How often a not-found answer right after a write was asked again ([`RunReport::lag`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Lag {
    /// Calls asked again.
    pub calls: usize,
    /// Retries in all.
    pub retries: usize,
    /// Of those calls, the ones whose last answer still diverged.
    pub still_diverged: usize,
}

/// What the final cleanup did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
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
    /// Calls that asked about operations no scenario reached, answered "not implemented"
    /// ([`crate::runner::Runner::probe_unreached`]).
    pub probes: Vec<StepRecord>,
    /// Whether the run was interrupted.
    pub interrupted: bool,
    /// The exit code an interruption gives: 128 + the signal's number (130 for Ctrl-C,
    /// 143 for SIGTERM, 129 for SIGHUP).
    #[serde(skip)]
    pub interrupt_exit: u8,
    /// The run's causes held against a known-divergence baseline (`--baseline`).
    #[serde(skip)]
    pub baseline: Option<baseline::BaselineCheck>,
    /// What ran where, and when.
    #[serde(skip)]
    pub metadata: RunMetadata,
    /// What the cleanup did.
    pub cleanup: CleanupSummary,
    /// The calls and retries each operation needed, by name ([`crate::target::Target::retries`]):
    /// worth knowing, never a divergence.
    pub retries: BTreeMap<String, OperationRetries>,
    /// Whether the endpoint throttled every operation together ([`crate::ratelimit`]).
    pub shared_quota: bool,
    /// Under `--against DIR`: each step compared with the recording and the model.
    #[serde(skip)]
    pub verification: Option<crate::verify::Verification>,
    /// Wall time of the run.
    #[serde(serialize_with = "millis")]
    pub duration: Duration,
}

impl RunReport {
    /// The exit code: 1 when anything diverged or contradicted the model, else 2 for bad
    /// scenarios or harness errors, else 5 for a set-up problem, else 3 when the endpoint gave no answer, else 4 when
    /// scenarios were blocked by operations not implemented, else 130 when interrupted,
    /// else 0.
    pub fn exit_code(&self) -> u8 {
        if self.baseline.as_ref().is_some_and(baseline::BaselineCheck::fails) {
            return EXIT_DIVERGENCE;
        }
        let codes: BTreeSet<u8> = self.scenarios.iter().map(|s| self.scenario_exit_code(s)).collect();
        let interrupted = self.interrupted.then_some(self.interrupt_exit);
        let code =
            [EXIT_DIVERGENCE, EXIT_BAD_INPUT, EXIT_SETUP_PROBLEM, EXIT_NO_ANSWER, EXIT_NOT_IMPLEMENTED]
                .into_iter()
                .find(|code| codes.contains(code))
                .or(interrupted)
                .or(codes.contains(&EXIT_INTERRUPTED).then_some(self.interrupt_exit))
                .unwrap_or(EXIT_CONFORM);
        self.verification.as_ref().map_or(code, |v| v.exit_code(code))
    }

    /// A scenario's exit code; against a baseline, a divergence whose every cause is
    /// known counts as what the scenario would be without it.
    fn scenario_exit_code(&self, s: &ScenarioReport) -> u8 {
        match (&self.baseline, &s.verdict) {
            (Some(check), Verdict::Diverged { .. })
                if s.signatures().iter().all(|sig| check.is_known(sig)) =>
            {
                let judged: Vec<StepRecord> = s
                    .records
                    .iter()
                    .map(|r| StepRecord {
                        findings: r.findings.iter().filter(|f| !f.is_divergence()).cloned().collect(),
                        ..r.clone()
                    })
                    .collect();
                Verdict::decide(&judged, s.stop.as_ref(), &s.path).exit_code()
            }
            _ => s.verdict.exit_code(),
        }
    }

    /// Read-after-write lag (contract §9.20): the calls whose not-found answer came right
    /// after a write and were asked again, the retries in all, and how many of those
    /// calls still diverged after them.
    pub fn lag(&self) -> Lag {
        let mut lag = Lag::default();
        for r in self.scenarios.iter().flat_map(|s| &s.records).filter(|r| r.lag_retries > 0) {
            lag.calls += 1;
            lag.retries += r.lag_retries;
            lag.still_diverged += usize::from(r.diverged());
        }
        lag
    }

    /// `IndexFaces: 12 retries (9 throttled)` for each operation that needed retries.
    pub fn retry_lines(&self) -> Vec<String> {
        self.retries
            .iter()
            .filter(|(_, r)| r.retries > 0 || r.throttled_out > 0)
            .map(|(op, r)| format!("{op}: {}", r.describe()))
            .collect()
    }

    /// Each distinct set-up problem's hint, with the number of scenarios it stopped.
    pub fn setup_problems(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for s in &self.scenarios {
            if let Verdict::SetupProblem { hint, .. } = &s.verdict {
                *out.entry(hint.clone()).or_default() += 1;
            }
        }
        out
    }

    /// Every unsettled fact any call of the run leaned on.
    pub fn unknowns(&self) -> BTreeSet<Unknown> {
        self.scenarios.iter().flat_map(|s| s.unknowns.iter().copied()).collect()
    }

    /// The run's divergences grouped into root causes, most reach first.
    pub fn causes(&self) -> Causes {
        Causes::group(self.scenarios.iter().flat_map(ScenarioReport::seen))
    }

    /// The parity matrix: a verdict for each of the 16 operations.
    pub fn matrix(&self, causes: &Causes) -> Matrix {
        Matrix::of(&self.scenarios, &self.probes, causes)
    }

    /// The operations the endpoint said it does not implement, with the first evidence.
    pub fn not_implemented(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for r in self.scenarios.iter().flat_map(|s| &s.records).chain(&self.probes) {
            if let Some(evidence) = &r.not_implemented
                && crate::api::Operation::from_name(r.call_name()).is_some()
            {
                out.entry(r.call_name().to_string()).or_insert_with(|| evidence.clone());
            }
        }
        out
    }

    /// How many calls got an answer rekcon could judge.
    pub fn judged_calls(&self) -> usize {
        self.scenarios
            .iter()
            .flat_map(|s| &s.records)
            .filter(|r| r.response.is_some() && r.not_implemented.is_none())
            .count()
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

fn write_file(path: &Path, text: &str) -> Result<(), Error> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|source| Error::Write { path: path.to_path_buf(), source })?;
    }
    std::fs::write(path, text).map_err(|source| Error::Write { path: path.to_path_buf(), source })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::check::Layer;
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
            not_implemented: None,
            setup_problem: None,
            lag_retries: 0,
            not_applicable: None,
            settling: Vec::new(),
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
            steps: 5,
            stop: None,
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
            "users/x: diverged at step 4 (scenarios/users/x.yaml:23): AssociateFaces\n  #1 [contract] step 4 (scenarios/users/x.yaml:23) AssociateFaces: UserStatus: expected \"UPDATING\", got \"ACTIVE\"\n  reproduce: rekcon run users/x --endpoint-url http://127.0.0.1:9\n"
        );
    }

    #[test]
    fn exit_codes_prefer_findings() {
        let run = |verdicts: Vec<Verdict>| RunReport {
            format_version: FORMAT_VERSION,
            run_id: "r".into(),
            endpoint: "e".into(),
            scenarios: verdicts.into_iter().map(report).collect(),
            probes: Vec::new(),
            interrupt_exit: EXIT_INTERRUPTED,
            baseline: None,
            metadata: RunMetadata::default(),
            interrupted: false,
            cleanup: CleanupSummary::default(),
            retries: BTreeMap::new(),
            shared_quota: false,
            verification: None,
            duration: Duration::ZERO,
        };
        assert_eq!(run(vec![Verdict::Pass]).exit_code(), EXIT_CONFORM);
        let no_answer = Verdict::NoAnswer { step: 1, line: 1, reason: "r".into() };
        assert_eq!(run(vec![Verdict::Pass, no_answer.clone()]).exit_code(), EXIT_NO_ANSWER);
        assert_eq!(run(vec![no_answer, Verdict::Diverged { step: 1, line: 2 }]).exit_code(), EXIT_DIVERGENCE);
        let bad = Verdict::BadScenario { line: 1, column: 1, reason: "x".into() };
        assert_eq!(run(vec![bad, Verdict::Pass]).exit_code(), EXIT_BAD_INPUT);
        let setup = Verdict::SetupProblem { step: 1, line: 1, hint: "fix it".into() };
        let no_answer = Verdict::NoAnswer { step: 1, line: 1, reason: "r".into() };
        assert_eq!(run(vec![no_answer, setup.clone()]).exit_code(), EXIT_SETUP_PROBLEM);
        assert_eq!(
            run(vec![setup.clone(), Verdict::Diverged { step: 1, line: 2 }]).exit_code(),
            EXIT_DIVERGENCE
        );
        assert!(
            run(vec![setup])
                .render()
                .contains("set-up problem (rekcon's own set-up, not the endpoint): fix it")
        );
        let report = run(vec![Verdict::Contradiction { step: 1, line: 2 }]);
        let json = report.to_json();
        assert_eq!(json["format_version"], 2);
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

//! What a fuzz run found, for people and machines: the JSON report (`format_version`
//! 1), the human summary, and the regression scenario written for each finding.
//!
//! A regression file is an ordinary scenario: `rekcon run regressions/<name>` replays
//! the minimal case against any endpoint and fails the same way while the bug lasts.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::case::Divergence;
use super::coverage::Coverage;
use super::drive::{DriveConfig, DriveOutcome, Found};
use super::generate::to_yaml;
use crate::error::Error;
use crate::report::{
    EXIT_BAD_INPUT, EXIT_CONFORM, EXIT_DIVERGENCE, EXIT_INTERRUPTED, EXIT_NO_ANSWER, EXIT_NOT_IMPLEMENTED,
};

/// Layout version of the fuzz JSON report; bumped whenever a field changes or is added.
pub const FORMAT_VERSION: u32 = 4;

/// Longest expected/actual text quoted in a regression file's description.
const QUOTE_MAX: usize = 160;

/// The fuzz JSON report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FuzzReport {
    /// Layout version ([`FORMAT_VERSION`]).
    pub format_version: u32,
    /// The run seed (`--seed`).
    pub seed: u64,
    /// This worker's partition, `K/N`; a merged report joins them (`1/2,2/2`).
    pub partition: String,
    /// The endpoint, without credentials (`built-in emulator ...`, a URL, `real AWS (...)`).
    pub target: String,
    /// The planted bug of the built-in emulator, if any.
    pub mutant: Option<String>,
    /// Share of steps that break a constraint.
    pub invalid_share: f64,
    /// Most steps per case.
    pub max_steps: usize,
    /// Exploration cases run.
    pub cases: u64,
    /// Cases run while shrinking and confirming.
    pub extra_cases: u64,
    /// Calls made and checked.
    pub checked_calls: u64,
    /// Checked calls per second (a merged report: summed over workers).
    pub calls_per_second: f64,
    /// Wall time in seconds (a merged report: the longest worker's).
    pub elapsed_seconds: f64,
    /// Distinct divergences, each shrunk and confirmed.
    pub findings: Vec<FindingReport>,
    /// Divergences whose minimal case did not reproduce on every confirmation run.
    pub flaky: Vec<FlakyReport>,
    /// Cases that failed like an earlier finding.
    pub repeats: u64,
    /// Generated cases that could not be loaded or run (a rekcon bug; must be empty).
    pub generator_bugs: Vec<GeneratorBugReport>,
    /// Why the endpoint stopped answering, when it did.
    pub no_answer: Option<String>,
    /// The hint, when the endpoint refused rekcon's own set-up (signature, credentials,
    /// clock, permissions) and the run stopped: never a finding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setup_problem: Option<String>,
    /// Operations the endpoint does not implement, with the first evidence of each.
    pub not_implemented: BTreeMap<String, String>,
    /// Whether the run was interrupted (Ctrl-C) before its budget was spent (a merged
    /// report: whether any worker was).
    pub interrupted: bool,
    /// What ended the exploration: `cases` (the case budget), `time` (the time budget),
    /// `max-findings`, `interrupt` or `endpoint` (a merged report: each worker's, joined).
    pub ended_by: String,
    /// What the calls reached.
    pub coverage: Coverage,
    /// What they did not reach, by area.
    pub coverage_missing: BTreeMap<String, Vec<String>>,
    /// Unsettled facts of the contract the calls leaned on (`unknown:...` tags).
    pub unknowns: Vec<String>,
    /// The command that repeats this run exactly.
    pub reproduce: String,
    /// Per worker (one entry, or one per merged report).
    pub workers: Vec<WorkerReport>,
}

/// One worker's share of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct WorkerReport {
    /// `K/N`.
    pub partition: String,
    /// The run seed.
    pub seed: u64,
    /// The worker's ChaCha seed (hex), derived from the seed and K.
    pub worker_seed: String,
    /// Exploration cases run.
    pub cases: u64,
    /// Calls made and checked.
    pub checked_calls: u64,
    /// Wall time in seconds.
    pub elapsed_seconds: f64,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FindingReport {
    /// The regression scenario written for it.
    pub scenario: PathBuf,
    /// Its scenario name (`regressions/fuzz_...`).
    pub name: String,
    /// Steps of the minimal case.
    pub steps: usize,
    /// Steps of the case as first found.
    pub original_steps: usize,
    /// The first mismatch of the minimal case.
    pub first_mismatch: Divergence,
    /// The command that replays the regression scenario.
    pub reproduce: String,
    /// Seconds from the start of the run to the first failing case.
    pub found_after_seconds: f64,
    /// Exploration cases up to the first failing one.
    pub found_at_case: u64,
    /// Shrinking candidates that still failed.
    pub shrink_steps: u32,
    /// `K/N` of the worker that found it.
    pub partition: String,
}

/// A divergence that did not reproduce.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FlakyReport {
    /// The mismatch first seen.
    pub first_mismatch: Divergence,
    /// Steps of the minimal case.
    pub steps: usize,
    /// Confirmation runs that reproduced it, of `runs`.
    pub reproduced: usize,
    /// Confirmation runs made.
    pub runs: usize,
    /// The minimal case as scenario YAML, to investigate by hand.
    pub yaml: String,
}

/// A generated case the harness could not load or run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct GeneratorBugReport {
    /// What went wrong.
    pub reason: String,
    /// The case.
    pub yaml: String,
}

impl FuzzReport {
    /// The exit code: 1 with findings, else 2 for generator bugs, else 5 for a set-up
    /// problem, else 3 when the endpoint
    /// stopped answering, else 4 when operations are not implemented, else 130 when
    /// interrupted, else 0.
    pub fn exit_code(&self) -> u8 {
        if !self.findings.is_empty() {
            EXIT_DIVERGENCE
        } else if !self.generator_bugs.is_empty() {
            EXIT_BAD_INPUT
        } else if self.setup_problem.is_some() {
            crate::report::EXIT_SETUP_PROBLEM
        } else if self.no_answer.is_some() {
            EXIT_NO_ANSWER
        } else if !self.not_implemented.is_empty() {
            EXIT_NOT_IMPLEMENTED
        } else if self.interrupted {
            EXIT_INTERRUPTED
        } else {
            EXIT_CONFORM
        }
    }

    /// The JUnit XML report: one failing test case per finding (its regression file as
    /// `file`, its minimal case in `<system-out>`), one skipped case per flaky
    /// divergence, and one case for the campaign itself (an error when the endpoint
    /// stopped answering or the generator failed); the seed, partition, target and
    /// planted bugs as properties.
    pub fn to_junit(&self) -> String {
        use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus};
        let mut cases = Vec::new();
        for f in &self.findings {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_message(f.first_mismatch.to_string());
            status.set_type("diverged");
            status.set_description(format!("reproduce: {}", f.reproduce));
            cases.push(regression_case(&f.name, &f.scenario, "fuzz", status));
        }
        for (i, f) in self.flaky.iter().enumerate() {
            let mut status = TestCaseStatus::skipped();
            status.set_message(format!(
                "flaky, reproduced {} of {}: {}",
                f.reproduced, f.runs, f.first_mismatch
            ));
            let mut case = TestCase::new(format!("flaky::{}", i + 1), status);
            case.set_classname("fuzz");
            case.set_system_out(f.yaml.clone());
            cases.push(case);
        }
        let mut status = match (&self.no_answer, self.generator_bugs.first()) {
            (Some(reason), _) => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
                s.set_message(format!("no answer: {reason}"));
                s
            }
            (None, Some(bug)) => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
                s.set_message(format!("generator bug: {}", bug.reason));
                s
            }
            (None, None) => TestCaseStatus::success(),
        };
        if !self.not_implemented.is_empty() && matches!(status, TestCaseStatus::Success { .. }) {
            status = TestCaseStatus::skipped();
            status.set_message(format!(
                "not implemented: {}",
                self.not_implemented.keys().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
        let mut campaign = TestCase::new("campaign", status);
        campaign.set_classname("fuzz");
        campaign.set_time(std::time::Duration::from_secs_f64(self.elapsed_seconds.max(0.0)));
        campaign.set_system_out(self.render());
        cases.push(campaign);
        crate::report::junit_report(
            "rekcon fuzz",
            "",
            std::time::Duration::from_secs_f64(self.elapsed_seconds.max(0.0)),
            &[
                ("seed", self.seed.to_string()),
                ("partition", self.partition.clone()),
                ("target", self.target.clone()),
                ("mutant", self.mutant.clone().unwrap_or_default()),
                ("cases", self.cases.to_string()),
                ("checked_calls", self.checked_calls.to_string()),
                ("reproduce", self.reproduce.clone()),
            ],
            cases,
        )
    }

    /// The JSON Schema of the fuzz JSON report, as committed in
    /// `docs/schemas/fuzz-report.schema.json`.
    pub fn schema() -> serde_json::Value {
        serde_json::to_value(schemars::schema_for!(FuzzReport)).unwrap_or(serde_json::Value::Null)
    }

    /// Writes the JUnit XML report.
    pub fn write_junit(&self, path: &Path) -> Result<(), Error> {
        write_text(path, self.to_junit())
    }

    /// Writes the report as pretty JSON.
    pub fn write_json(&self, path: &Path) -> Result<(), Error> {
        write_pretty_json(path, self)
    }

    /// Reads a report written by [`FuzzReport::write_json`].
    pub fn read_json(path: &Path) -> Result<FuzzReport, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| Error::Read { path: path.to_path_buf(), source })?;
        let report: FuzzReport = serde_json::from_str(&text).map_err(|e| Error::Read {
            path: path.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        })?;
        if report.format_version != FORMAT_VERSION {
            return Err(Error::Config(format!(
                "{} has format_version {}, this rekcon reads {FORMAT_VERSION}",
                path.display(),
                report.format_version
            )));
        }
        Ok(report)
    }

    /// The human summary.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let mutant = self.mutant.as_ref().map(|m| format!(" with planted bug `{m}`")).unwrap_or_default();
        let _ = writeln!(
            out,
            "rekcon fuzz: seed {}, partition {}, against {}{mutant}",
            self.seed, self.partition, self.target
        );
        let _ = writeln!(
            out,
            "{} cases ({} more shrinking and confirming), {} checked calls in {:.1} s ({:.0} calls/s)",
            self.cases, self.extra_cases, self.checked_calls, self.elapsed_seconds, self.calls_per_second
        );
        let _ = writeln!(out, "ended by: {}", ended_by_text(&self.ended_by));
        for (i, f) in self.findings.iter().enumerate() {
            let _ = writeln!(out, "finding {}: {}", i + 1, f.first_mismatch);
            let _ = writeln!(
                out,
                "  minimal case: {} steps (shrunk from {}), found after {:.1} s (case {})",
                f.steps, f.original_steps, f.found_after_seconds, f.found_at_case
            );
            let _ = writeln!(out, "  written to {}", f.scenario.display());
            let _ = writeln!(out, "  reproduce: {}", f.reproduce);
        }
        for f in &self.flaky {
            let _ = writeln!(
                out,
                "flaky (not a finding): {} — reproduced {} of {} runs",
                f.first_mismatch, f.reproduced, f.runs
            );
        }
        if self.repeats > 0 {
            let what = if self.findings.is_empty() {
                "a known cause (--baseline)"
            } else {
                "a finding above or a known cause"
            };
            let _ = writeln!(out, "{} more cases failed like {what}", self.repeats);
        }
        for bug in &self.generator_bugs {
            let _ = writeln!(out, "GENERATOR BUG (a rekcon bug, please report it): {}", bug.reason);
            let _ = writeln!(out, "  the case:\n    {}", bug.yaml.trim_end().replace('\n', "\n    "));
        }
        if let Some(hint) = &self.setup_problem {
            let _ =
                writeln!(out, "set-up problem (rekcon's own set-up, not the endpoint), run stopped: {hint}");
        }
        if let Some(reason) = &self.no_answer {
            let _ = writeln!(out, "no answer from the endpoint, run stopped: {reason}");
        }
        for (operation, evidence) in &self.not_implemented {
            let stopped = if operation == "CreateCollection" {
                "; run stopped: nothing can be reached without it"
            } else {
                ""
            };
            let _ = writeln!(out, "not implemented: {operation} ({evidence}){stopped}");
        }
        if self.interrupted {
            let _ = writeln!(out, "interrupted after {} of the planned cases", self.cases);
        }
        let _ = writeln!(out, "coverage: {}", self.coverage_summary());
        for (area, items) in &self.coverage_missing {
            let _ = writeln!(out, "  not reached ({area}): {}", items.join(", "));
        }
        if !self.unknowns.is_empty() {
            let _ = writeln!(out, "unsettled (needs a real-AWS recording): {}", self.unknowns.join(", "));
        }
        let _ = writeln!(out, "reproduce this run: {}", self.reproduce);
        let verdict = match self.exit_code() {
            EXIT_DIVERGENCE => format!("{} divergence(s) found", self.findings.len()),
            EXIT_BAD_INPUT => "generator bug".to_string(),
            EXIT_NO_ANSWER => "stopped: no answer".to_string(),
            EXIT_NOT_IMPLEMENTED => format!(
                "no divergence found; not implemented: {}",
                self.not_implemented.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
            EXIT_INTERRUPTED => "interrupted: no divergence found in the cases run".to_string(),
            _ => "no divergence found".to_string(),
        };
        let _ = writeln!(out, "{verdict}");
        out
    }

    fn coverage_summary(&self) -> String {
        let missing = |area: &str| self.coverage_missing.get(area).map_or(0, Vec::len);
        let probes = super::coverage::all_probes();
        let reached = probes.iter().filter(|p| self.coverage.constraints.contains_key(*p)).count();
        super::coverage::AREAS
            .iter()
            .map(|(area, total)| format!("{area} {}/{total}", total - missing(area)))
            .chain(std::iter::once(format!("constraint probes {reached}/{}", probes.len())))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The JUnit test case of a finding: named after its regression scenario, which is its
/// `file` and, read back, its `<system-out>`.
pub(super) fn regression_case(
    name: &str,
    scenario: &Path,
    classname: &str,
    status: quick_junit::TestCaseStatus,
) -> quick_junit::TestCase {
    let mut case = quick_junit::TestCase::new(name.replace('/', "::"), status);
    case.set_classname(classname);
    case.extra.insert("file".into(), scenario.display().to_string().into());
    case.extra.insert("line".into(), "1".into());
    if let Ok(yaml) = std::fs::read_to_string(scenario) {
        case.set_system_out(yaml);
    }
    case
}

/// Writes `text` to `path`.
pub(super) fn write_text(path: &Path, text: String) -> Result<(), Error> {
    std::fs::write(path, text).map_err(|source| Error::Write { path: path.to_path_buf(), source })
}

/// Writes `value` to `path` as pretty JSON, ending in a newline.
pub(super) fn write_pretty_json(path: &Path, value: &impl Serialize) -> Result<(), Error> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Error::Write { path: path.to_path_buf(), source: std::io::Error::other(e) })?;
    write_text(path, text + "\n")
}

/// How a finished run is described: where it ran and how to repeat it.
#[derive(Debug, Clone)]
pub struct RunDescription {
    /// The endpoint, without credentials.
    pub target: String,
    /// The planted bug, if any.
    pub mutant: Option<String>,
    /// The command that repeats the run.
    pub reproduce: String,
    /// How `rekcon run` replays a regression scenario against the same endpoint.
    pub replay: ReplayContext,
}

/// What a replay command is built from.
#[derive(Debug, Clone, Default)]
pub struct ReplayContext {
    /// Endpoint, region, profile, `--aws`, `--mutant` and `--scenarios` flags (each
    /// starting with a space).
    pub flags: String,
}

/// `rekcon run` with the context's flags, for scenario `name`.
pub fn replay_command(context: &ReplayContext, name: &str) -> String {
    format!("rekcon run {name}{}", context.flags)
}

/// Builds the report of a finished run, writing one regression scenario per finding
/// under `out_dir` (inside `scenarios_root`).
pub fn build(
    outcome: &DriveOutcome,
    config: &DriveConfig,
    description: &RunDescription,
    scenarios_root: &Path,
    out_dir: &Path,
) -> Result<FuzzReport, Error> {
    let partition = config.partition.to_string();
    let mut findings = Vec::new();
    for found in &outcome.findings {
        let (path, name) = regression_path(scenarios_root, out_dir, config, &found.divergence)?;
        let text = to_yaml(&found.generated, &regression_description(found, config, description));
        std::fs::create_dir_all(out_dir)
            .map_err(|source| Error::Write { path: out_dir.to_path_buf(), source })?;
        std::fs::write(&path, text).map_err(|source| Error::Write { path: path.clone(), source })?;
        findings.push(FindingReport {
            reproduce: replay_command(&description.replay, &name),
            scenario: path,
            name,
            steps: found.steps,
            original_steps: found.original_steps,
            first_mismatch: found.divergence.clone(),
            found_after_seconds: round(found.found_after.as_secs_f64()),
            found_at_case: found.found_at_case,
            shrink_steps: found.shrink_steps,
            partition: partition.clone(),
        });
    }
    let flaky = outcome
        .flaky
        .iter()
        .map(|f| FlakyReport {
            first_mismatch: f.divergence.clone(),
            steps: f.steps,
            reproduced: f.reproduced,
            runs: f.runs,
            yaml: to_yaml(&f.generated, &format!("Flaky divergence: {}", f.divergence)),
        })
        .collect();
    let elapsed = round(outcome.elapsed.as_secs_f64());
    Ok(FuzzReport {
        format_version: FORMAT_VERSION,
        seed: config.seed,
        partition: partition.clone(),
        target: description.target.clone(),
        mutant: description.mutant.clone(),
        invalid_share: config.invalid_share,
        max_steps: config.max_steps,
        cases: outcome.cases,
        extra_cases: outcome.extra_cases,
        checked_calls: outcome.checked_calls,
        calls_per_second: round(outcome.calls_per_second()),
        elapsed_seconds: elapsed,
        findings,
        flaky,
        repeats: outcome.repeats,
        generator_bugs: outcome
            .generator_bugs
            .iter()
            .map(|b| GeneratorBugReport { reason: b.reason.clone(), yaml: b.yaml.clone() })
            .collect(),
        no_answer: outcome.no_answer.clone(),
        setup_problem: outcome.setup_problem.clone(),
        not_implemented: outcome.not_implemented.clone(),
        interrupted: outcome.interrupted,
        ended_by: outcome.ended_by.name().to_string(),
        coverage: outcome.coverage.clone(),
        coverage_missing: missing_of(&outcome.coverage),
        unknowns: outcome.unknowns.iter().map(|u| u.tag().to_string()).collect(),
        reproduce: description.reproduce.clone(),
        workers: vec![WorkerReport {
            partition,
            seed: config.seed,
            worker_seed: hex::encode(config.partition.worker_seed(config.seed)),
            cases: outcome.cases,
            checked_calls: outcome.checked_calls,
            elapsed_seconds: elapsed,
        }],
    })
}

/// The human reading of [`FuzzReport::ended_by`].
fn ended_by_text(ended_by: &str) -> String {
    ended_by
        .split(',')
        .map(|e| match e {
            "cases" => "the case budget (--cases)",
            "time" => "the time budget (--time)",
            "max-findings" => "--max-findings",
            "interrupt" => "an interrupt",
            "endpoint" => "the endpoint (see below)",
            other => other,
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// [`Coverage::missing`] with owned keys, for the report.
pub fn missing_of(coverage: &Coverage) -> BTreeMap<String, Vec<String>> {
    coverage.missing().into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// A free file name under `out_dir` for a finding, and its scenario name.
fn regression_path(
    root: &Path,
    out_dir: &Path,
    config: &DriveConfig,
    divergence: &Divergence,
) -> Result<(PathBuf, String), Error> {
    free_regression_path(
        root,
        out_dir,
        &format!("fuzz_{}_{}", config.seed, config.partition.index),
        &divergence.operation,
    )
}

/// A free file name `<prefix>_<operation in snake case>.yaml` under `out_dir` (with
/// `_2`, `_3`… when taken), and its scenario name.
pub(super) fn free_regression_path(
    root: &Path,
    out_dir: &Path,
    prefix: &str,
    operation: &str,
) -> Result<(PathBuf, String), Error> {
    let operation: String = operation
        .chars()
        .flat_map(|c| {
            if c.is_ascii_uppercase() {
                vec!['_', c.to_ascii_lowercase()]
            } else if c.is_ascii_alphanumeric() {
                vec![c]
            } else {
                vec!['_']
            }
        })
        .collect();
    let stem = format!("{prefix}{operation}");
    for n in 1.. {
        let file = if n == 1 { format!("{stem}.yaml") } else { format!("{stem}_{n}.yaml") };
        let path = out_dir.join(&file);
        if !path.exists() {
            let name = crate::scenario::scenario_name(root, &path);
            return Ok((path, name));
        }
    }
    Err(Error::Config(format!("no free file name under {}", out_dir.display())))
}

/// The endpoint as a committed file may name it: the built-in emulator's address is a
/// throwaway port, so it is left out.
fn stable_target(target: &str) -> &str {
    match target.split_once(" at http") {
        Some(("built-in emulator", _)) => "the built-in emulator",
        _ => target,
    }
}

/// The description of a regression scenario: where it was found and how it fails.
fn regression_description(found: &Found, config: &DriveConfig, description: &RunDescription) -> String {
    let d = &found.divergence;
    let clean = |s: &str| -> String {
        let s: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
        if s.chars().count() > QUOTE_MAX {
            format!("{}…", s.chars().take(QUOTE_MAX).collect::<String>())
        } else {
            s
        }
    };
    let path = if d.path.is_empty() { "(outcome)" } else { &d.path };
    let mutant = description.mutant.as_ref().map(|m| format!(" (planted bug `{m}`)")).unwrap_or_default();
    format!(
        "Found by rekcon fuzz, seed {} partition {}, against {}{mutant}.\n\
         First mismatch at step {} ({}), [{}] {path}: expected {}, got {}.\n\
         Shrunk from {} to {} steps. Repeat the run: {}",
        config.seed,
        config.partition,
        clean(stable_target(&description.target)),
        d.step,
        d.operation,
        d.layer,
        clean(&d.expected),
        clean(&d.actual),
        found.original_steps,
        found.steps,
        description.reproduce
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> FuzzReport {
        FuzzReport {
            format_version: FORMAT_VERSION,
            seed: 1,
            partition: "1/1".into(),
            target: "t".into(),
            mutant: None,
            invalid_share: 0.15,
            max_steps: 30,
            cases: 3,
            extra_cases: 0,
            checked_calls: 10,
            calls_per_second: 5.0,
            elapsed_seconds: 2.0,
            findings: Vec::new(),
            flaky: Vec::new(),
            repeats: 0,
            generator_bugs: Vec::new(),
            no_answer: None,
            setup_problem: None,
            not_implemented: BTreeMap::new(),
            interrupted: false,
            ended_by: "cases".into(),
            coverage: Coverage::default(),
            coverage_missing: BTreeMap::new(),
            unknowns: Vec::new(),
            reproduce: "rekcon fuzz --seed 1".into(),
            workers: Vec::new(),
        }
    }

    #[test]
    fn exit_codes_prefer_findings() {
        let mut r = report();
        assert_eq!(r.exit_code(), EXIT_CONFORM);
        r.interrupted = true;
        assert_eq!(r.exit_code(), EXIT_INTERRUPTED);
        assert!(r.render().contains("interrupted after"));
        r.no_answer = Some("refused".into());
        assert_eq!(r.exit_code(), EXIT_NO_ANSWER);
        r.generator_bugs.push(GeneratorBugReport { reason: "x".into(), yaml: String::new() });
        assert_eq!(r.exit_code(), EXIT_BAD_INPUT);
        assert!(r.render().contains("GENERATOR BUG"));
    }

    #[test]
    fn reports_round_trip_through_json() {
        let r = report();
        let text = serde_json::to_string(&r).expect("serialises");
        let back: FuzzReport = serde_json::from_str(&text).expect("parses");
        assert_eq!(back, r);
    }

    #[test]
    fn regression_files_name_no_throwaway_address() {
        assert_eq!(stable_target("built-in emulator at http://127.0.0.1:39747"), "the built-in emulator");
        assert_eq!(stable_target("http://localhost:4566"), "http://localhost:4566");
        assert_eq!(stable_target("real AWS (eu-west-1)"), "real AWS (eu-west-1)");
    }
}

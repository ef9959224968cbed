//! What `rekcon fuzz --concurrency K` found, for machines: the JSON report
//! (`format_version` [`FORMAT_VERSION`], schema in `docs/schemas/race-report.schema.json`)
//! and the JUnit XML report. Both are read from one [`RaceReport`], built from the run's
//! [`ConcurrencyOutcome`]; the text report is [`ConcurrencyOutcome::render`].

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::concurrent::{CONFIRM_RUNS, ConcurrencyConfig, ConcurrencyOutcome};
use crate::error::Error;

/// Layout version of the concurrency JSON report; bumped whenever a field changes.
pub const FORMAT_VERSION: u32 = 1;

/// The JSON report of a concurrency run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RaceReport {
    /// Layout version ([`FORMAT_VERSION`]).
    pub format_version: u32,
    /// The run's seed.
    pub seed: u64,
    /// Calls sent at once in each group (`--concurrency K`).
    pub concurrency: usize,
    /// The built-in emulator's planted bugs, by name (empty for a clean run or an
    /// endpoint URL).
    pub mutants: Vec<String>,
    /// `diverged`, `generator bug`, `no answer` or `no finding`, as the exit code says.
    pub verdict: String,
    /// Cases explored.
    pub cases: u64,
    /// Cases not judged: no answer, an operation not implemented, or a set-up problem
    /// (never a finding).
    pub cases_not_judged: u64,
    /// Why the first case not judged was not.
    pub first_not_judged: Option<String>,
    /// How the concurrent blocks were judged (shrinking and confirming included).
    pub linearizability: Linearizability,
    /// Minimal non-linearizable (or otherwise diverging) cases, each written as a scenario.
    pub findings: Vec<RaceFindingReport>,
    /// Cases rekcon could not load or run as written: rekcon's own bugs.
    pub generator_bugs: Vec<String>,
    /// Wall time of the run.
    pub elapsed_seconds: f64,
    /// Whether a signal ended the run early.
    pub interrupted: bool,
}

/// The linearizability checks of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Linearizability {
    /// Concurrent blocks whose history was checked.
    pub checked: u64,
    /// Histories no order of the calls explains (each one divergence).
    pub not_linearizable: u64,
    /// Histories the bounded search could not decide (never a finding).
    pub undecided: u64,
    /// Model steps the searches took in all.
    pub model_steps: u64,
}

/// One finding: its regression scenario and how it was found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RaceFindingReport {
    /// The regression scenario written (a `concurrent:` block where calls race).
    pub scenario: PathBuf,
    /// Its scenario name, as `rekcon run NAME` selects it.
    pub name: String,
    /// The first divergence of the minimal case.
    pub first_divergence: String,
    /// Calls of the minimal case.
    pub calls: usize,
    /// Calls of the case as first found.
    pub found_calls: usize,
    /// Runs of the minimal case that diverged again, of `runs`.
    pub reproduced: usize,
    /// Runs of the minimal case made to confirm it.
    pub runs: usize,
    /// From the start of the run to the first diverging case.
    pub found_after_seconds: f64,
    /// The command that replays it.
    pub reproduce: String,
}

impl RaceReport {
    /// The report of `outcome`, a run of `config`.
    pub fn new(outcome: &ConcurrencyOutcome, config: &ConcurrencyConfig) -> RaceReport {
        RaceReport {
            format_version: FORMAT_VERSION,
            seed: config.seed,
            concurrency: config.concurrency,
            mutants: config.mutants.clone(),
            verdict: outcome.verdict().to_string(),
            cases: outcome.cases,
            cases_not_judged: outcome.no_answer,
            first_not_judged: outcome.first_not_judged.clone(),
            linearizability: Linearizability {
                checked: outcome.linear.checked,
                not_linearizable: outcome.linear.violations,
                undecided: outcome.linear.undecided,
                model_steps: outcome.linear.steps,
            },
            findings: outcome
                .findings
                .iter()
                .map(|f| RaceFindingReport {
                    scenario: f.path.clone(),
                    name: f.name.clone(),
                    first_divergence: f.first.clone(),
                    calls: f.calls,
                    found_calls: f.found_calls,
                    reproduced: f.reproduced,
                    runs: CONFIRM_RUNS,
                    found_after_seconds: f.time_to_find.as_secs_f64(),
                    reproduce: f.reproduce.clone(),
                })
                .collect(),
            generator_bugs: outcome.generator_bugs.clone(),
            elapsed_seconds: outcome.elapsed.as_secs_f64(),
            interrupted: outcome.interrupted,
        }
    }

    /// The JSON Schema of the report, as committed in `docs/schemas/race-report.schema.json`.
    pub fn schema() -> serde_json::Value {
        serde_json::to_value(schemars::schema_for!(RaceReport)).unwrap_or(serde_json::Value::Null)
    }

    /// The JUnit XML report: one failing test case per finding (its regression file as
    /// `file`, the scenario in `<system-out>`), and one case for the run itself (an error
    /// when the generator failed or no case could be judged, skipped when some were not
    /// judged and nothing was found); seed, concurrency and planted bugs as properties.
    pub fn to_junit(&self) -> String {
        use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus};
        let mut cases = Vec::new();
        for f in &self.findings {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_message(f.first_divergence.clone());
            status.set_type("not linearizable");
            status.set_description(format!(
                "diverged again in {} of {} runs; reproduce: {}",
                f.reproduced, f.runs, f.reproduce
            ));
            cases.push(super::report::regression_case(&f.name, &f.scenario, "fuzz.concurrency", status));
        }
        let status = if let Some(bug) = self.generator_bugs.first() {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
            s.set_message(format!("generator bug: {bug}"));
            s
        } else if self.cases > 0 && self.cases_not_judged == self.cases {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
            s.set_message(format!(
                "no answer: nothing was judged ({})",
                self.first_not_judged.as_deref().unwrap_or("no reason given")
            ));
            s
        } else {
            TestCaseStatus::success()
        };
        let time = std::time::Duration::from_secs_f64(self.elapsed_seconds.max(0.0));
        let mut campaign = TestCase::new("linearizability", status);
        campaign.set_classname("fuzz.concurrency");
        campaign.set_time(time);
        campaign.set_system_out(format!(
            "{} cases, {} concurrent blocks checked: {} not linearizable, {} undecided; {} cases not judged",
            self.cases,
            self.linearizability.checked,
            self.linearizability.not_linearizable,
            self.linearizability.undecided,
            self.cases_not_judged
        ));
        cases.push(campaign);
        crate::report::junit_report(
            "rekcon fuzz --concurrency",
            "",
            time,
            &[
                ("seed", self.seed.to_string()),
                ("concurrency", self.concurrency.to_string()),
                ("mutant", self.mutants.join(",")),
                ("cases", self.cases.to_string()),
            ],
            cases,
        )
    }

    /// Writes the report as pretty JSON.
    pub fn write_json(&self, path: &Path) -> Result<(), Error> {
        super::report::write_pretty_json(path, self)
    }

    /// Writes the JUnit XML report.
    pub fn write_junit(&self, path: &Path) -> Result<(), Error> {
        super::report::write_text(path, self.to_junit())
    }
}

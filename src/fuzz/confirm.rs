//! `rekcon fuzz --confirm-on URL|aws`: each finding's minimal case (its regression
//! scenario) replayed once on a second endpoint — real AWS, as a rule — recorded as a
//! cassette (docs/cassettes.md), and the finding classified by what that endpoint did:
//!
//! - it answered as the model says → the fuzzed endpoint's bug;
//! - it diverged from the model as the fuzzed endpoint did (the same signature) → the
//!   model's bug, reported apart with the contract section it rests on;
//! - it diverged otherwise → unclear, with what it did;
//! - it could not be judged (no answer, a set-up problem, not implemented, the cap) → not
//!   confirmed, and nothing is blamed.
//!
//! Judging ([`classify`]) is apart from doing ([`confirm`]). The budget, printed before
//! anything is sent, is the sum of the cases' steps plus one DeleteCollection per
//! collection they declare; the cap is a hard limit between cases: a case whose planned
//! calls would pass it is not sent.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use super::report::FindingReport;
use crate::report::{ScenarioReport, Verdict};
use crate::scenario::Scenario;

/// How a confirmed finding is classified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    /// The confirm endpoint answered as the model says: the fuzzed endpoint's bug.
    EndpointBug,
    /// The confirm endpoint did what the fuzzed endpoint did: the model's bug.
    ModelBug,
    /// The confirm endpoint diverged from the model otherwise.
    Unclear,
    /// Nothing could be judged on the confirm endpoint.
    NotConfirmed,
}

impl Class {
    /// The words reports use.
    pub fn label(self) -> &'static str {
        match self {
            Class::EndpointBug => "endpoint's bug",
            Class::ModelBug => "model's bug",
            Class::Unclear => "unclear",
            Class::NotConfirmed => "not confirmed",
        }
    }
}

/// One finding, confirmed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Confirmed {
    /// The regression scenario (`regressions/fuzz_...`).
    pub name: String,
    /// How it is classified.
    pub class: Class,
    /// Why, in one line.
    pub detail: String,
    /// The contract section the model rests on (for a model's bug).
    pub section: &'static str,
    /// The cassette the replay was recorded in.
    pub cassette: Option<PathBuf>,
}

/// Calls a case is planned to make: its steps, and a DeleteCollection per collection.
pub fn planned_calls(scenario: &Scenario) -> usize {
    scenario.steps.len() + scenario.collections.len()
}

/// Classifies `finding` by the confirm endpoint's run of its minimal case.
pub fn classify(finding: &FindingReport, run: &ScenarioReport) -> (Class, String) {
    let wanted = finding.first_mismatch.signature();
    let at = finding.first_mismatch.step;
    match &run.verdict {
        Verdict::NoAnswer { reason, .. } => return (Class::NotConfirmed, format!("no answer: {reason}")),
        Verdict::SetupProblem { hint, .. } => {
            return (Class::NotConfirmed, format!("set-up problem: {hint}"));
        }
        Verdict::Blocked { operation, .. } => {
            return (Class::NotConfirmed, format!("{operation} is not implemented there"));
        }
        Verdict::BadScenario { reason, .. } | Verdict::HarnessError { reason } => {
            return (Class::NotConfirmed, format!("the case could not run: {reason}"));
        }
        Verdict::NotRun { .. } => return (Class::NotConfirmed, "not run".into()),
        Verdict::Pass | Verdict::Diverged { .. } | Verdict::Contradiction { .. } => {}
    }
    let signatures: Vec<String> = run.signatures().iter().map(ToString::to_string).collect();
    if signatures.contains(&wanted) {
        return (Class::ModelBug, format!("it answered as the fuzzed endpoint did: {wanted}"));
    }
    let before = run.records.iter().find(|r| r.step <= at && r.diverged());
    match before {
        None if run.stop.as_ref().is_some_and(|s| s.step < at) => {
            (Class::NotConfirmed, format!("the case stopped before step {at}"))
        }
        None => (Class::EndpointBug, format!("it answered step {at} as the model says")),
        Some(r) => (
            Class::Unclear,
            format!(
                "it diverged otherwise, at step {}: {}",
                r.step,
                r.findings
                    .iter()
                    .filter(|f| f.is_divergence())
                    .map(|f| format!(
                        "{}: expected {}, got {}",
                        f.mismatch.path, f.mismatch.expected, f.mismatch.actual
                    ))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        ),
    }
}

/// The contract section a finding's divergence rests on.
pub fn section(finding: &FindingReport) -> &'static str {
    let layer = match finding.first_mismatch.layer.as_str() {
        "protocol" | "wire" => crate::check::Layer::Wire,
        _ => crate::check::Layer::Model,
    };
    crate::verify::contract_section(&finding.first_mismatch.operation, Some(layer))
}

/// What confirming did.
#[derive(Debug, Clone, Default)]
pub struct Confirmation {
    /// The endpoint, without credentials.
    pub endpoint: String,
    /// Planned calls of every case (the printed budget).
    pub budget: usize,
    /// The cap.
    pub cap: usize,
    /// Calls made (settle polls, lag retries and cleanup included).
    pub calls: usize,
    /// Per finding, in the report's order.
    pub findings: Vec<Confirmed>,
}

impl Confirmation {
    /// 1 when any finding is the endpoint's or unclear or unconfirmed (the model's
    /// judgement stands), else 6 when every finding is the model's bug.
    pub fn exit_code(&self, otherwise: u8) -> u8 {
        if !self.findings.is_empty() && self.findings.iter().all(|f| f.class == Class::ModelBug) {
            crate::verify::EXIT_MODEL_DISAGREES
        } else {
            otherwise
        }
    }

    /// The human section.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "confirmed on {}: {} call(s) of a budget of {} (cap {})",
            self.endpoint, self.calls, self.budget, self.cap
        );
        for class in [Class::EndpointBug, Class::ModelBug, Class::Unclear, Class::NotConfirmed] {
            for f in self.findings.iter().filter(|f| f.class == class) {
                let apart = if class == Class::ModelBug {
                    format!(" — rekcon's bug, not the endpoint's: the model ({}) is wrong here", f.section)
                } else {
                    String::new()
                };
                let _ = writeln!(out, "{:<15} {}{apart}: {}", class.label(), f.name, f.detail);
                if let Some(cassette) = &f.cassette {
                    let _ = writeln!(out, "    recorded in {}", cassette.display());
                }
            }
        }
        out
    }
}

/// Where and how to confirm.
#[derive(Debug)]
pub struct ConfirmOn {
    /// The endpoint and credentials (a copy of the fuzz run's, endpoint replaced).
    pub run: crate::config::RunConfig,
    /// The scenarios folder the regressions are in.
    pub root: PathBuf,
    /// Where cassettes go.
    pub record: PathBuf,
    /// Most calls.
    pub cap: Option<usize>,
}

/// Loads the findings' regression scenarios; a finding whose file does not load is
/// returned with the error.
pub fn load(findings: &[FindingReport], root: &Path) -> Vec<Result<Arc<Scenario>, String>> {
    findings
        .iter()
        .map(|f| crate::scenario::load_file(root, &f.scenario).map(Arc::new).map_err(|e| e.to_string()))
        .collect()
}

/// The budget of `cases`: the sum of their planned calls.
pub fn budget(cases: &[Result<Arc<Scenario>, String>]) -> usize {
    cases.iter().flatten().map(|s| planned_calls(s)).sum()
}

/// Calls a run of a case made: each call, its successful settle polls and lag retries.
fn calls_made(report: &ScenarioReport) -> usize {
    report.records.iter().map(|r| 1 + r.settle_polls + r.lag_retries).sum()
}

/// Replays each finding's minimal case once on `on`, records it and classifies it;
/// `announce` hears the budget and the cap before anything is sent.
pub fn confirm(
    findings: &[FindingReport],
    on: &ConfirmOn,
    announce: &dyn Fn(usize, usize),
) -> Result<Confirmation, crate::error::Error> {
    let cases = load(findings, &on.root);
    let budget = budget(&cases);
    let cap = on.cap.unwrap_or(budget);
    announce(budget, cap);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| crate::error::Error::Config(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        let target_config = on.run.target(None);
        let target = crate::target::Target::connect(&target_config).await?;
        let mut settings = crate::runner::RunSettings::new(on.run.repro());
        settings.settle_timeout = on.run.settle_timeout;
        settings.require_run_prefix = target_config.is_aws();
        settings.model = on.run.model_config(target.region(), false);
        let endpoint = target.describe().to_string();
        let region = target.region().to_string();
        let runner = Arc::new(crate::runner::Runner::new(target, settings));
        let mut out = Confirmation { endpoint: endpoint.clone(), budget, cap, ..Confirmation::default() };
        let kind = if target_config.is_aws() { "aws" } else { "endpoint-url" };
        for (finding, case) in findings.iter().zip(&cases) {
            let scenario = match case {
                Ok(s) => s,
                Err(e) => {
                    out.findings.push(Confirmed {
                        name: finding.name.clone(),
                        class: Class::NotConfirmed,
                        detail: format!("the regression does not load: {e}"),
                        section: section(finding),
                        cassette: None,
                    });
                    continue;
                }
            };
            if out.calls + planned_calls(scenario) > cap {
                out.findings.push(Confirmed {
                    name: finding.name.clone(),
                    class: Class::NotConfirmed,
                    detail: format!(
                        "not sent: its {} planned call(s) would pass the cap of {cap} ({} made)",
                        planned_calls(scenario),
                        out.calls
                    ),
                    section: section(finding),
                    cassette: None,
                });
                continue;
            }
            let (reports, _) = runner
                .run_all_reporting(std::slice::from_ref(scenario), 1, std::future::pending(), &|_| {})
                .await;
            let Some(report) = reports.into_iter().next() else { continue };
            out.calls += calls_made(&report) + scenario.collections.len();
            let provenance = crate::record::Provenance::of_run(
                kind,
                &endpoint,
                &region,
                &runner.settings().run_id,
                std::slice::from_ref(scenario),
                &on.root,
            );
            let cassette = crate::record::write_run(&on.record, std::slice::from_ref(&report), &provenance)
                .map_err(|e| crate::error::Error::Config(format!("--confirm-on: {e}")))?
                .into_iter()
                .next();
            let (class, detail) = classify(finding, &report);
            out.findings.push(Confirmed {
                name: finding.name.clone(),
                class,
                detail,
                section: section(finding),
                cassette,
            });
        }
        runner.cleanup().await;
        Ok(out)
    })
}

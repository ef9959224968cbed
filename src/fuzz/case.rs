//! One fuzz case: draws → steps → scenario YAML → loaded scenario → run → verdict.
//!
//! A case goes through the scenario loader exactly as a file would, so what the fuzzer
//! checks is what `rekcon run` checks, and a finding written out as a file replays the
//! same way. A generated case the loader rejects, or one whose capture finds nothing in
//! a conforming answer, is a bug in the generator, reported as such and never as a
//! divergence.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::coverage::Coverage;
use super::exec::Executor;
use super::generate::{Draw, GenConfig, generate, to_yaml};
use crate::check::Layer;
use crate::report::{ScenarioReport, Verdict};
use crate::scenario::Loader;
use crate::unknown::Unknown;

/// The first mismatch of a diverging case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Divergence {
    /// 1-based step of the case.
    pub step: usize,
    /// The operation or `X-Amz-Target` of the call that diverged.
    pub operation: String,
    /// Which check found it: `wire` or `model` (`scenario` never happens for generated cases).
    pub layer: String,
    /// Where in the response (`UserStatus`, `(header) Content-Type`, ...).
    pub path: String,
    /// What the contract allows there.
    pub expected: String,
    /// What the endpoint sent.
    pub actual: String,
}

impl Divergence {
    /// What identifies a bug across cases: operation, check and path with list indexes
    /// dropped (`UnsuccessfulFaceAssociations[].Reasons[]`).
    pub fn signature(&self) -> String {
        let mut path = String::with_capacity(self.path.len());
        let mut in_index = false;
        for ch in self.path.chars() {
            match ch {
                '[' => {
                    in_index = true;
                    path.push('[');
                }
                ']' => {
                    in_index = false;
                    path.push(']');
                }
                _ if in_index => {}
                other => path.push(other),
            }
        }
        format!("{} {} {path}", self.operation, self.layer)
    }

    /// Whether `other` is the same failure: same step and same first mismatch path.
    pub fn same_as(&self, other: &Divergence) -> bool {
        self.step == other.step && self.path == other.path && self.operation == other.operation
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
    /// The case as scenario YAML (description left generic).
    pub yaml: String,
    /// Steps in the case.
    pub steps: usize,
}

/// Runs cases: generates, loads and executes them, numbering each run uniquely.
pub struct CaseRunner {
    executor: Box<dyn Executor>,
    loader: Loader,
    root: PathBuf,
    gen_config: GenConfig,
    ordinal: usize,
}

impl std::fmt::Debug for CaseRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaseRunner").field("root", &self.root).field("ordinal", &self.ordinal).finish()
    }
}

impl CaseRunner {
    /// Cases on `executor`; scenarios load with `root` (the scenarios folder whose
    /// `images/` holds the fixtures).
    pub fn new(executor: Box<dyn Executor>, root: &Path, gen_config: GenConfig) -> CaseRunner {
        CaseRunner { executor, loader: Loader::new(root), root: root.to_path_buf(), gen_config, ordinal: 0 }
    }

    /// The YAML of the case `draws` describe, with `description`.
    pub fn yaml(&self, draws: &[Draw], description: &str) -> String {
        to_yaml(&generate(draws, &self.gen_config), description)
    }

    /// Generates, loads and runs one case.
    pub fn run(&mut self, draws: &[Draw]) -> CaseResult {
        let generated = generate(draws, &self.gen_config);
        let yaml = to_yaml(&generated, "A generated case.");
        self.run_yaml(yaml, generated.steps.len())
    }

    /// Loads and runs case text (a generated case, or a regression file being confirmed).
    pub fn run_yaml(&mut self, yaml: String, steps: usize) -> CaseResult {
        self.ordinal += 1;
        let name = format!("fuzz/case-{}", self.ordinal);
        let path = self.root.join("fuzz").join(format!("case-{}.yaml", self.ordinal));
        let mut result = CaseResult {
            verdict: CaseVerdict::Pass,
            checked_calls: 0,
            coverage: Coverage::default(),
            unknowns: BTreeSet::new(),
            yaml,
            steps,
        };
        let scenario = match self.loader.parse(&name, &path, &result.yaml) {
            Ok(scenario) => scenario,
            Err(e) => {
                result.verdict = CaseVerdict::GeneratorBug(format!("the generated case does not load: {e}"));
                return result;
            }
        };
        let report = self.executor.run(self.ordinal, &scenario);
        result.checked_calls = report.records.iter().map(|r| 1 + r.settle_polls as u64).sum();
        result.coverage.record_calls(&report.records);
        result.verdict = verdict_of(&report);
        result.unknowns = report.unknowns;
        result
    }

    /// Deletes anything cases left behind.
    pub fn finish(&mut self) -> crate::report::CleanupSummary {
        self.executor.finish()
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
                    Layer::Wire => "wire",
                    Layer::Model => "model",
                    Layer::Scenario => "scenario",
                }
                .to_string(),
                path: mismatch.path,
                expected: mismatch.expected,
                actual: mismatch.actual,
            })
        }
        Verdict::NoAnswer { step, reason, .. } => CaseVerdict::NoAnswer(format!("step {step}: {reason}")),
        Verdict::BadScenario { reason, .. } => CaseVerdict::GeneratorBug(reason.clone()),
        Verdict::HarnessError { reason } => CaseVerdict::GeneratorBug(format!("harness error: {reason}")),
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
            layer: "model".into(),
            path: path.into(),
            expected: "x".into(),
            actual: "y".into(),
        };
        assert_eq!(
            d("UnsuccessfulFaceAssociations[0].Reasons[1]").signature(),
            d("UnsuccessfulFaceAssociations[2].Reasons[0]").signature()
        );
        assert_ne!(d("UserStatus").signature(), d("AssociatedFaces").signature());
        assert!(d("UserStatus").same_as(&d("UserStatus")));
    }
}

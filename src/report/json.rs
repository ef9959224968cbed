//! The JSON report (`format_version` 2), built from typed structs whose JSON Schema is
//! committed under `docs/schemas/` (`run-report.schema.json`): the run; the root causes
//! with their reach; the parity matrix keyed by operation; the operations not
//! implemented; the baseline; each scenario's verdict, its divergences by signature,
//! where it stopped, and its deciding call in full; the unsettled points with their
//! questions. Durations are milliseconds (`duration_ms`) everywhere.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use super::matrix::Row;
use super::{CleanupSummary, FORMAT_VERSION, Lag, RunMetadata, RunReport, ScenarioReport, StopKind, Verdict};
use crate::cause::{Cause, CauseLayer, Causes, Signature};
use crate::ratelimit::OperationRetries;

/// The whole JSON report of `rekcon run`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunJson {
    /// Layout version: 2.
    pub format_version: u32,
    /// The run id in every collection name (`rekcon-<run_id>-...`).
    pub run_id: String,
    /// The endpoint, without credentials.
    pub endpoint: String,
    /// What the process exits with.
    pub exit_code: u8,
    /// Whether a signal ended the run early.
    pub interrupted: bool,
    /// Wall time.
    pub duration_ms: f64,
    /// Scenarios per verdict label.
    pub summary: BTreeMap<String, usize>,
    /// Root causes, most reach first.
    pub causes: Vec<CauseJson>,
    /// A verdict for each of the 16 operations, keyed by name.
    pub matrix: BTreeMap<String, Row>,
    /// Operations the endpoint said it does not implement.
    pub not_implemented: Vec<NotImplementedJson>,
    /// What ran where, and when.
    pub metadata: RunMetadata,
    /// The run held against a known-divergence baseline, when one was given.
    pub baseline: Option<BaselineJson>,
    /// Each set-up problem's hint, with the scenarios it stopped.
    pub setup_problems: Vec<SetupProblemJson>,
    /// Not-found answers right after a write that were asked again.
    pub read_after_write_lag: Lag,
    /// Per scenario, in name order.
    pub scenarios: Vec<ScenarioJson>,
    /// The unsettled points of the contract the run leaned on.
    pub unsettled: Vec<UnsettledJson>,
    /// What the final cleanup did.
    pub cleanup: CleanupSummary,
    /// Per operation called, by name: the calls sent (settle polls, probes and cleanup
    /// included) and the retries they needed. Not divergences.
    pub retries: BTreeMap<String, OperationRetries>,
    /// Whether the endpoint throttled every operation together (one quota for all, where
    /// AWS's quotas are per operation), so rekcon paced every call as one. Only present
    /// when it did.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub shared_quota: bool,
    /// Under `--against DIR`: each step compared three ways (endpoint, recording, model).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub three_way: Option<ThreeWayJson>,
}

/// The three-way verification of `rekcon run --against DIR`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ThreeWayJson {
    /// Steps per class label (`endpoint diverges from AWS`, `model disagrees with AWS`,
    /// `recordings disagree`, `agrees`).
    pub counts: BTreeMap<String, usize>,
    /// Everything compared: the recordings, each step's class, the unknowns settled.
    #[serde(flatten)]
    pub verification: crate::verify::Verification,
}

/// One root cause.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CauseJson {
    /// Its `#N` in the text report.
    pub rank: usize,
    /// The whole signature as one string.
    pub signature: String,
    /// `protocol` or `contract`.
    pub layer: CauseLayer,
    /// The operation, or `*` for a protocol fault.
    pub operation: String,
    /// The operations (or raw targets) it was seen on.
    pub operations: Vec<String>,
    /// The field path, list positions dropped.
    pub path: String,
    /// The class of what the contract allows.
    pub expected: String,
    /// The class of what came.
    pub actual: String,
    /// One line for people.
    pub summary: String,
    /// Scenarios it was seen in.
    pub scenarios: usize,
    /// Calls it was seen on.
    pub calls: usize,
    /// Where it was first seen.
    pub first: FirstJson,
}

/// Where a cause was first seen, as it read there.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct FirstJson {
    /// The scenario.
    pub scenario: String,
    /// Its file.
    pub file: String,
    /// The step's line.
    pub line: u64,
    /// The 1-based step.
    pub step: usize,
    /// The operation called.
    pub operation: String,
    /// The field path.
    pub path: String,
    /// What the contract allowed there.
    pub expected: String,
    /// What came.
    pub actual: String,
}

/// An operation not implemented.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct NotImplementedJson {
    /// The operation.
    pub operation: String,
    /// The first evidence (`HTTP 501 NotImplementedError`).
    pub evidence: String,
}

/// A set-up problem.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SetupProblemJson {
    /// What to fix on rekcon's side.
    pub hint: String,
    /// Scenarios it stopped.
    pub scenarios: usize,
}

/// An unsettled point of the contract.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct UnsettledJson {
    /// `unknown:...`.
    pub tag: String,
    /// The question a real-AWS recording settles.
    pub question: String,
}

/// The run held against a baseline.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct BaselineJson {
    /// The baseline file.
    pub file: String,
    /// `passes` or `fails`.
    pub status: String,
    /// Known causes, unchanged.
    pub known: Vec<String>,
    /// Causes the baseline does not know.
    pub new: Vec<String>,
    /// Known places whose observed class changed.
    pub changed: Vec<ChangedJson>,
    /// Entries that no longer appear: remove them.
    pub fixed: Vec<String>,
    /// Entries past their date.
    pub expired: Vec<ExpiredJson>,
    /// Entries none of whose scenarios ran to their end.
    pub not_checked: Vec<String>,
}

/// A baselined cause whose observed class changed.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ChangedJson {
    /// The cause as seen now.
    pub signature: String,
    /// The observed class the baseline had.
    pub baselined_as: String,
}

/// A baseline entry past its date.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ExpiredJson {
    /// The entry's signature.
    pub signature: String,
    /// Its `expires:` date.
    pub expires: Option<String>,
}

/// One scenario.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenarioJson {
    /// The scenario name (`users/x`).
    pub name: String,
    /// Its file.
    pub path: String,
    /// `file:line` of the deciding step.
    pub location: String,
    /// How it ended (`verdict` names it; the other members depend on it).
    pub verdict: Verdict,
    /// Steps in the scenario.
    pub steps: usize,
    /// Steps sent.
    pub steps_run: usize,
    /// Every divergence, by signature.
    pub divergences: Vec<DivergenceJson>,
    /// Steps whose expectation was not applicable.
    pub not_applicable: usize,
    /// The unsettled points its calls leaned on (`unknown:...`).
    pub unknowns: Vec<String>,
    /// Time taken, cleanup included.
    pub duration_ms: f64,
    /// The command that runs this scenario alone.
    pub reproduce: String,
    /// The operation that blocked it, when blocked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked_by: Option<Vec<String>>,
    /// Where it stopped before its end, and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<StoppedJson>,
    /// The deciding call in full (long strings shortened), when it did not pass.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<Value>,
    /// The text report's block for it, when it did not pass.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
}

/// One divergence of a scenario.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DivergenceJson {
    /// The 1-based step.
    pub step: usize,
    /// Its line.
    pub line: u64,
    /// The operation or raw target.
    pub operation: String,
    /// Whether it was a ListUsers poll before the step.
    pub settle_poll: bool,
    /// Its cause's signature.
    pub signature: String,
    /// Its cause's rank.
    pub cause: Option<usize>,
    /// `protocol` or `contract`.
    pub layer: CauseLayer,
    /// The field path.
    pub path: String,
    /// What the contract allowed.
    pub expected: String,
    /// What came.
    pub actual: String,
}

/// Where a scenario stopped.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct StoppedJson {
    /// The step it stopped at.
    pub step: usize,
    /// Its line.
    pub line: u64,
    /// The step's operation.
    pub operation: String,
    /// What stopped it.
    pub kind: StopKind,
    /// Why.
    pub reason: String,
    /// The steps after it that were not judged.
    pub not_judged: Option<StepRange>,
}

/// A range of steps, first and last.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
pub struct StepRange {
    /// The first.
    pub from: usize,
    /// The last.
    pub to: usize,
}

impl RunReport {
    /// The JSON report as typed data.
    pub fn json_report(&self) -> RunJson {
        let causes = self.causes();
        let matrix = self.matrix(&causes);
        RunJson {
            format_version: FORMAT_VERSION,
            run_id: self.run_id.clone(),
            endpoint: self.endpoint.clone(),
            exit_code: self.exit_code(),
            interrupted: self.interrupted,
            duration_ms: (self.duration.as_secs_f64() * 1000.0).round(),
            summary: self.scenarios.iter().fold(BTreeMap::new(), |mut m, s| {
                *m.entry(s.verdict.label().to_string()).or_default() += 1;
                m
            }),
            causes: causes.all().iter().enumerate().map(|(i, c)| cause_json(i + 1, c)).collect(),
            matrix: matrix.rows().iter().map(|(op, row)| (op.name().to_string(), row.clone())).collect(),
            not_implemented: self
                .not_implemented()
                .into_iter()
                .map(|(operation, evidence)| NotImplementedJson { operation, evidence })
                .collect(),
            metadata: self.metadata.clone(),
            baseline: self.baseline.as_ref().map(|b| BaselineJson {
                file: b.file.display().to_string(),
                status: if b.fails() { "fails" } else { "passes" }.into(),
                known: b.known.iter().map(ToString::to_string).collect(),
                new: b.new.iter().map(ToString::to_string).collect(),
                changed: b
                    .changed
                    .iter()
                    .map(|(s, was)| ChangedJson { signature: s.to_string(), baselined_as: was.clone() })
                    .collect(),
                fixed: b.fixed.iter().map(|e| e.signature.clone()).collect(),
                expired: b
                    .expired
                    .iter()
                    .map(|e| ExpiredJson { signature: e.signature.clone(), expires: e.expires.clone() })
                    .collect(),
                not_checked: b.not_checked.iter().map(|e| e.signature.clone()).collect(),
            }),
            setup_problems: self
                .setup_problems()
                .into_iter()
                .map(|(hint, scenarios)| SetupProblemJson { hint, scenarios })
                .collect(),
            read_after_write_lag: self.lag(),
            scenarios: self.scenarios.iter().map(|s| scenario_json(s, &causes)).collect(),
            unsettled: self
                .unknowns()
                .into_iter()
                .map(|u| UnsettledJson { tag: u.tag().to_string(), question: u.question().to_string() })
                .collect(),
            cleanup: self.cleanup.clone(),
            retries: self.retries.clone(),
            shared_quota: self.shared_quota,
            three_way: self.verification.as_ref().map(|v| ThreeWayJson {
                counts: v.counts().into_iter().map(|(c, n)| (c.label().to_string(), n)).collect(),
                verification: v.clone(),
            }),
        }
    }

    /// The JSON report.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self.json_report()).unwrap_or(Value::Null)
    }
}

/// The JSON Schema of [`RunJson`], as committed in `docs/schemas/run-report.schema.json`.
pub fn run_report_schema() -> Value {
    serde_json::to_value(schemars::schema_for!(RunJson)).unwrap_or(Value::Null)
}

fn cause_json(rank: usize, c: &Cause) -> CauseJson {
    CauseJson {
        rank,
        signature: c.signature.to_string(),
        layer: c.signature.layer,
        operation: c.signature.operation.clone(),
        operations: c.operations.iter().cloned().collect(),
        path: c.signature.path.clone(),
        expected: c.signature.expected.clone(),
        actual: c.signature.actual.clone(),
        summary: c.summary(),
        scenarios: c.scenarios.len(),
        calls: c.calls,
        first: FirstJson {
            scenario: c.first.scenario.clone(),
            file: c.first.file.display().to_string(),
            line: c.first.line,
            step: c.first.step,
            operation: c.first.operation.clone(),
            path: c.first.mismatch.path.clone(),
            expected: c.first.mismatch.expected.clone(),
            actual: c.first.mismatch.actual.clone(),
        },
    }
}

fn scenario_json(s: &ScenarioReport, causes: &Causes) -> ScenarioJson {
    let divergences = s
        .records
        .iter()
        .flat_map(|r| r.findings.iter().map(move |f| (r, f)))
        .filter_map(|(r, f)| {
            let sig = Signature::of(r.call_name(), f)?;
            Some(DivergenceJson {
                step: r.step,
                line: r.line,
                operation: r.call_name().to_string(),
                settle_poll: r.settle_poll,
                signature: sig.to_string(),
                cause: causes.rank(&sig),
                layer: sig.layer,
                path: f.mismatch.path.clone(),
                expected: f.mismatch.expected.clone(),
                actual: f.mismatch.actual.clone(),
            })
        })
        .collect();
    let failing = s.deciding_record().filter(|_| !s.passed());
    ScenarioJson {
        name: s.name.clone(),
        path: s.path.display().to_string(),
        location: s.location(),
        verdict: s.verdict.clone(),
        steps: s.steps,
        steps_run: s
            .records
            .iter()
            .filter(|r| !r.settle_poll)
            .map(|r| r.step)
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        divergences,
        not_applicable: s.records.iter().filter(|r| r.not_applicable.is_some()).count(),
        unknowns: s.unknowns.iter().map(|u| u.tag().to_string()).collect(),
        duration_ms: (s.duration.as_secs_f64() * 1000.0).round(),
        reproduce: s.reproduce.clone(),
        blocked_by: match &s.verdict {
            Verdict::Blocked { operation, .. } => Some(vec![operation.clone()]),
            _ => None,
        },
        stopped: s.stop.as_ref().map(|stop| StoppedJson {
            step: stop.step,
            line: stop.line,
            operation: stop.operation.clone(),
            kind: stop.kind,
            reason: stop.reason.clone(),
            not_judged: stop.not_judged.map(|(from, to)| StepRange { from, to }),
        }),
        failure: failing.map(|r| shorten_long_strings(serde_json::to_value(r).unwrap_or(Value::Null))),
        explanation: failing.map(|_| s.explain_with(causes)),
    }
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

//! The parity matrix: for each of the 16 operations, one verdict — conforms, diverges
//! (with its causes), not implemented, not reached, or not applicable — and how many
//! calls were judged. Every report format shows it.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::{ScenarioReport, StepRecord, StopKind};
use crate::api::Operation;
use crate::cause::{Causes, Signature};

/// One operation's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum OperationVerdict {
    /// Every judged call conformed.
    Conforms,
    /// At least one call diverged.
    Diverges,
    /// The endpoint said it does not implement the operation.
    NotImplemented,
    /// No scenario got as far as calling it.
    NotReached,
    /// It was called, but every check of it needed what the endpoint cannot tell (face identity).
    NotApplicable,
}

impl OperationVerdict {
    /// The word reports show: `conforms`, `not-implemented`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            OperationVerdict::Conforms => "conforms",
            OperationVerdict::Diverges => "diverges",
            OperationVerdict::NotImplemented => "not-implemented",
            OperationVerdict::NotReached => "not-reached",
            OperationVerdict::NotApplicable => "not-applicable",
        }
    }
}

/// One row of the matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Row {
    /// The verdict.
    pub verdict: OperationVerdict,
    /// Calls whose answer was judged (settle polls included).
    pub calls: usize,
    /// Calls whose written expectation was not applicable.
    pub not_applicable: usize,
    /// The ranks (`#N`) of the causes seen on this operation, most reach first.
    #[serde(skip)]
    pub ranks: Vec<usize>,
    /// The signatures of those causes.
    #[serde(serialize_with = "signature_strings")]
    #[schemars(with = "Vec<String>")]
    pub causes: Vec<Signature>,
    /// The evidence that it is not implemented.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
}

fn signature_strings<S: serde::Serializer>(sigs: &[Signature], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(sigs.iter().map(ToString::to_string))
}

/// The matrix: a row per operation, in the API's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matrix {
    rows: Vec<(Operation, Row)>,
}

impl Matrix {
    /// The matrix of a run's scenarios, whose causes are `causes`.
    pub fn of(scenarios: &[ScenarioReport], probes: &[StepRecord], causes: &Causes) -> Matrix {
        #[derive(Default)]
        struct Tally {
            calls: usize,
            not_applicable: usize,
            not_implemented: Option<String>,
            causes: BTreeSet<usize>,
        }
        let mut tally: BTreeMap<Operation, Tally> = BTreeMap::new();
        for r in scenarios.iter().flat_map(|s| &s.records).chain(probes) {
            {
                let Some(op) = Operation::from_name(r.call_name()) else { continue };
                let t = tally.entry(op).or_default();
                if let Some(evidence) = &r.not_implemented {
                    t.not_implemented.get_or_insert_with(|| evidence.clone());
                    continue;
                }
                // A refused set-up judged nothing about the operation.
                if r.response.is_none() || r.setup_problem.is_some() {
                    continue;
                }
                t.calls += 1;
                if r.not_applicable.is_some() {
                    t.not_applicable += 1;
                }
                for f in &r.findings {
                    if let Some(rank) = Signature::of(r.call_name(), f).and_then(|sig| causes.rank(&sig)) {
                        t.causes.insert(rank);
                    }
                }
            }
        }
        // Steps left unjudged because the endpoint's own faces made them meaningless are
        // not applicable, and counted so: never passed silently.
        for stop in
            scenarios.iter().filter_map(|s| s.stop.as_ref()).filter(|s| s.kind == StopKind::NotApplicable)
        {
            for op in stop.not_judged_operations.iter().filter_map(|name| Operation::from_name(name)) {
                tally.entry(op).or_default().not_applicable += 1;
            }
        }
        let rows = Operation::ALL
            .iter()
            .map(|&op| {
                let t = tally.remove(&op).unwrap_or_default();
                let verdict = if t.not_implemented.is_some() {
                    OperationVerdict::NotImplemented
                } else if !t.causes.is_empty() {
                    OperationVerdict::Diverges
                } else if t.calls == 0 && t.not_applicable == 0 {
                    OperationVerdict::NotReached
                } else if t.not_applicable >= t.calls {
                    OperationVerdict::NotApplicable
                } else {
                    OperationVerdict::Conforms
                };
                let ranks: Vec<usize> = t.causes.into_iter().collect();
                let causes = ranks
                    .iter()
                    .filter_map(|&rank| causes.all().get(rank - 1))
                    .map(|c| c.signature.clone())
                    .collect();
                let row = Row {
                    verdict,
                    calls: t.calls,
                    not_applicable: t.not_applicable,
                    ranks,
                    causes,
                    evidence: t.not_implemented,
                };
                (op, row)
            })
            .collect();
        Matrix { rows }
    }

    /// The rows, in the API's order.
    pub fn rows(&self) -> &[(Operation, Row)] {
        &self.rows
    }

    /// The row of `op`.
    pub fn row(&self, op: Operation) -> Option<&Row> {
        self.rows.iter().find(|(o, _)| *o == op).map(|(_, r)| r)
    }

    /// How many operations got each verdict.
    pub fn counts(&self) -> BTreeMap<OperationVerdict, usize> {
        let mut out = BTreeMap::new();
        for (_, row) in &self.rows {
            *out.entry(row.verdict).or_default() += 1;
        }
        out
    }
}

//! Linearizability: is there an order of concurrent calls, consistent with real time, in
//! which the reference model allows every observed outcome?
//!
//! A Wing–Gong search in the manner of Knossos. From the model's state before the calls,
//! it tries, depth first, every call that may come next — one that no other pending call
//! completed before it was invoked — applies it to a copy of the model
//! ([`Model::allowed`], then [`Model::observe`]) and goes deeper only when the model
//! allows what the endpoint answered. Pruning: a branch ends at the first outcome the
//! model does not allow, and a (state fingerprint, set of calls already placed) pair seen
//! once is never searched again. The search goes on after the first valid order: orders
//! that explain the same answers may leave different states, and the calls after them
//! must be judged against each ([`check_from`]). It is bounded by a number of model
//! steps; a history it cannot decide within them is [`Verdict::Undecided`], never a
//! violation.
//!
//! The checker only judges. The runner executes the calls and records the history
//! ([`crate::runner`]); `rekcon fuzz --concurrency` generates the histories.

use std::collections::{BTreeSet, HashSet};

use sha2::{Digest, Sha256};

use crate::api::Request;
use crate::expect::{Mismatch, Observed};
use crate::model::Model;
use crate::unknown::Unknown;

/// Most calls one history may hold (the set of placed calls is a 128-bit mask).
pub const MAX_CALLS: usize = 128;

/// The model steps a search may take by default: a few seconds at most, and far more
/// than any group of racing calls the fuzzer makes needs (a handful of calls).
pub const DEFAULT_STEPS: u64 = 200_000;

/// One call of a history: what was sent, what came back, and when it was invoked and
/// completed, on one monotonic clock (any unit; the runner uses nanoseconds).
#[derive(Debug, Clone)]
pub struct Call {
    /// How reports name the call (`step 7`).
    pub label: String,
    /// The request sent.
    pub request: Request,
    /// What the endpoint answered.
    pub observed: Observed,
    /// When the call was sent.
    pub invoked: u64,
    /// When its answer was complete (at or after `invoked`).
    pub completed: u64,
}

/// How far a search may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Most calls applied to a model (each try of a call in a place is one step).
    pub steps: u64,
}

impl Default for Budget {
    fn default() -> Self {
        Budget { steps: DEFAULT_STEPS }
    }
}

/// Most distinct states a history may leave: each is judged against every later call.
pub const MAX_STATES: usize = 64;

/// What the search found.
#[derive(Debug, Clone)]
pub enum Verdict {
    /// Orders exist. Every distinct state they leave the model in (different orders may
    /// leave different states: later calls must decide between them), the first order
    /// found, and the facts the allowances leaned on.
    Linearizable {
        /// Positions in the history, in the first order found.
        order: Vec<usize>,
        /// The distinct states the valid orders leave, the first order's first.
        models: Vec<Model>,
        /// Unsettled facts of the contract the orders' allowances leaned on.
        unknowns: BTreeSet<Unknown>,
        /// Model steps the search took.
        steps: u64,
    },
    /// No order exists: the endpoint's answers cannot all be right.
    NotLinearizable(Violation),
    /// The budget ran out first: nothing is known.
    Undecided {
        /// Model steps the search took.
        steps: u64,
        /// Why (the budget, or a history too large to search).
        reason: String,
    },
}

/// The evidence of a history with no valid order: the longest prefix the search could
/// place, and why every call that could come next was refused there.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// Positions placed in the longest valid prefix.
    pub prefix: Vec<usize>,
    /// Each call that could have come next, with the model's objections to its outcome.
    pub refused: Vec<(usize, Vec<Mismatch>)>,
    /// Model steps the search took.
    pub steps: u64,
}

impl Violation {
    /// One line per fact: the prefix, then each refused call and its first objection.
    pub fn explain(&self, calls: &[Call]) -> String {
        let label = |i: &usize| calls.get(*i).map_or_else(|| format!("call {i}"), |c| c.label.clone());
        let prefix = if self.prefix.is_empty() {
            "no call can go first".to_string()
        } else {
            format!("after {}", self.prefix.iter().map(label).collect::<Vec<_>>().join(", "))
        };
        let refused: Vec<String> = self
            .refused
            .iter()
            .map(|(i, mismatches)| {
                let why = mismatches.first().map_or_else(|| "refused".to_string(), ToString::to_string);
                format!("{} cannot come next ({why})", label(i))
            })
            .collect();
        format!("{prefix}: {}", refused.join("; "))
    }
}

/// Searches for an order of `calls` from `model`'s state, within `budget`.
pub fn check(model: &Model, calls: &[Call], budget: Budget) -> Verdict {
    check_from(std::slice::from_ref(model), calls, budget)
}

/// Searches for an order of `calls` from any of the states `starts` (the states earlier
/// concurrent calls may have left), within `budget`; every distinct end state is kept.
pub fn check_from(starts: &[Model], calls: &[Call], budget: Budget) -> Verdict {
    if calls.len() > MAX_CALLS {
        return Verdict::Undecided {
            steps: 0,
            reason: format!("{} calls at once; the checker searches at most {MAX_CALLS}", calls.len()),
        };
    }
    let mut search = Search {
        calls,
        budget: budget.steps,
        steps: 0,
        seen: HashSet::new(),
        best: Violation { prefix: Vec::new(), refused: Vec::new(), steps: 0 },
        best_len: None,
        first_order: None,
        finals: Vec::new(),
        final_prints: HashSet::new(),
        unknowns: BTreeSet::new(),
    };
    for start in starts {
        let mut order = Vec::with_capacity(calls.len());
        if let Err(reason) = search.place(start, 0, &mut order, &BTreeSet::new()) {
            return Verdict::Undecided { steps: search.steps, reason };
        }
    }
    match search.first_order {
        Some(order) => Verdict::Linearizable {
            order,
            models: search.finals,
            unknowns: search.unknowns,
            steps: search.steps,
        },
        None => Verdict::NotLinearizable(Violation { steps: search.steps, ..search.best }),
    }
}

struct Search<'a> {
    calls: &'a [Call],
    budget: u64,
    steps: u64,
    /// (state fingerprint, placed calls) pairs already searched.
    seen: HashSet<([u8; 16], u128)>,
    best: Violation,
    best_len: Option<usize>,
    first_order: Option<Vec<usize>>,
    finals: Vec<Model>,
    final_prints: HashSet<[u8; 16]>,
    unknowns: BTreeSet<Unknown>,
}

impl Search<'_> {
    /// Searches every order from `model` with the calls in `placed` done; `Err` when the
    /// budget or the state limit is exceeded.
    fn place(
        &mut self,
        model: &Model,
        placed: u128,
        order: &mut Vec<usize>,
        unknowns: &BTreeSet<Unknown>,
    ) -> Result<(), String> {
        let n = self.calls.len();
        let print = fingerprint(model);
        if order.len() == n {
            self.first_order.get_or_insert_with(|| order.clone());
            self.unknowns.extend(unknowns.iter().copied());
            if self.final_prints.insert(print) {
                if self.finals.len() == MAX_STATES {
                    return Err(format!("the calls leave more than {MAX_STATES} possible states"));
                }
                self.finals.push(model.clone());
            }
            return Ok(());
        }
        // Searched before: whatever it leads to is already known.
        if !self.seen.insert((print, placed)) {
            return Ok(());
        }
        let pending = |i: usize| placed & (1u128 << i) == 0;
        // A call may come next when no pending call completed before it was invoked.
        let earliest_completion =
            (0..n).filter(|&i| pending(i)).map(|i| self.calls[i].completed).min().unwrap_or(u64::MAX);
        let mut refused = Vec::new();
        for i in (0..n).filter(|&i| pending(i) && self.calls[i].invoked <= earliest_completion) {
            if self.steps >= self.budget {
                return Err(format!("the search budget of {} model steps ran out", self.budget));
            }
            self.steps += 1;
            let call = &self.calls[i];
            let mut next = model.clone();
            let allowed = next.allowed(&call.request);
            let judgement = next.observe(&call.request, &allowed, &call.observed);
            if !judgement.conforms() {
                refused.push((i, judgement.mismatches));
                continue;
            }
            order.push(i);
            let mut touched = unknowns.clone();
            touched.extend(judgement.unknowns);
            let searched = self.place(&next, placed | (1u128 << i), order, &touched);
            order.pop();
            searched?;
        }
        if self.best_len.is_none_or(|len| order.len() > len) && !refused.is_empty() {
            self.best_len = Some(order.len());
            self.best = Violation { prefix: order.clone(), refused, steps: 0 };
        }
        Ok(())
    }
}

/// A digest of everything the model knows (its `Debug` form is complete and ordered).
fn fingerprint(model: &Model) -> [u8; 16] {
    let digest = Sha256::digest(format!("{model:?}").as_bytes());
    let mut out = [0u8; 16];
    out.copy_from_slice(&digest[..16]);
    out
}

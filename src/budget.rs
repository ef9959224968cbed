//! Request budgets for real AWS, where every call may cost money: an estimate of what a
//! run will send before it sends anything ([`Estimate`]), a confirmation above
//! [`CONFIRM_ABOVE`] requests, and a hard cap (`--max-requests`, [`RequestBudget`]) that
//! stops a run cleanly.
//!
//! What the cap counts: every call the scenarios (or fuzz cases) send through the checked
//! path — steps, the ListUsers polls that wait for users to settle, and the re-asks of a
//! not-found that may be read-after-write lag. What it does not count: the deletions that
//! clean up after a scenario and at the end of the run, the DescribeCollection that checks
//! whether a vanished collection is really gone, and the probes of operations no scenario
//! reached (not sent once the cap is reached). So a run sends at most N calls plus its
//! cleanup, which is one DeleteCollection per collection it created.

use std::io::IsTerminal as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::api::Operation;
use crate::scenario::{Action, Scenario};

/// Above this many requests, a real-AWS run needs `--yes` or a confirmation on a terminal.
pub const CONFIRM_ABOVE: u64 = 500;

/// Exit code of a run that `--max-requests` stopped with nothing found in what it judged.
pub const EXIT_BUDGET_SPENT: u8 = 7;

/// The operations AWS bills as image calls.
pub const IMAGE_OPERATIONS: [Operation; 3] =
    [Operation::IndexFaces, Operation::SearchFacesByImage, Operation::SearchUsersByImage];

/// The budget options `rekcon run` and `rekcon fuzz` share.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct BudgetArgs {
    /// Print an estimate of the requests the run would send (per operation, image calls,
    /// users and collections created) and exit without sending any.
    #[arg(long)]
    pub estimate: bool,
    /// Stop cleanly once N requests were sent: no new call, the run's collections deleted
    /// (those deletions are not counted), reports written, unfinished scenarios reported
    /// as not run; exit 7 when nothing judged diverged.
    #[arg(long, value_name = "N")]
    pub max_requests: Option<u64>,
    /// Confirm a real-AWS run whose estimate is above 500 requests (else asked on a terminal).
    #[arg(long)]
    pub yes: bool,
}

/// What a run is expected to send.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Estimate {
    /// Calls per operation, in [`Operation::ALL`] order; raw calls of no known operation apart.
    pub calls: Vec<(Operation, u64)>,
    /// Raw calls whose target is none of the 16 operations.
    pub other_calls: u64,
    /// At least this many ListUsers polls while users settle (each search after a change).
    pub settle_polls: u64,
    /// Users to be created (CreateUser calls).
    pub users: u64,
    /// Collections to be created (CreateCollection calls).
    pub collections: u64,
    /// For fuzz: the estimate is an upper bound of exploration only, per operation unknown.
    pub fuzz: Option<FuzzBound>,
}

/// The fuzzer's case budget: at most `cases × max_steps` calls in exploration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FuzzBound {
    /// `--cases`.
    pub cases: u64,
    /// `--max-steps`.
    pub max_steps: u64,
}

impl Estimate {
    /// The calls the steps of `scenarios` send, one per step, plus at least one settle
    /// poll per search of users (the first poll; more while users stay UPDATING).
    pub fn of_scenarios(scenarios: &[Arc<Scenario>]) -> Estimate {
        let mut counts = [0u64; Operation::ALL.len()];
        let mut estimate = Estimate::default();
        for step in scenarios.iter().flat_map(|s| &s.steps) {
            let operation = match &step.action {
                Action::Call { operation, .. } => Some(*operation),
                Action::Raw { target, .. } => target.operation,
            };
            let Some(operation) = operation else {
                estimate.other_calls += 1;
                continue;
            };
            if let Some(i) = Operation::ALL.iter().position(|op| *op == operation) {
                counts[i] += 1;
            }
            match operation {
                Operation::CreateUser => estimate.users += 1,
                Operation::CreateCollection => estimate.collections += 1,
                Operation::SearchUsers | Operation::SearchUsersByImage => estimate.settle_polls += 1,
                _ => {}
            }
        }
        estimate.calls = Operation::ALL.iter().copied().zip(counts).filter(|(_, n)| *n > 0).collect();
        estimate
    }

    /// A fuzz campaign of `cases` cases of at most `max_steps` calls each.
    pub fn of_fuzz(cases: u32, max_steps: usize) -> Estimate {
        Estimate {
            fuzz: Some(FuzzBound { cases: u64::from(cases), max_steps: max_steps as u64 }),
            ..Estimate::default()
        }
    }

    /// Requests in all (for fuzz, the exploration's upper bound).
    pub fn total(&self) -> u64 {
        if let Some(f) = self.fuzz {
            return f.cases.saturating_mul(f.max_steps);
        }
        self.calls.iter().map(|(_, n)| n).sum::<u64>() + self.other_calls + self.settle_polls
    }

    /// The billed image calls (for fuzz, unknown: at most [`Estimate::total`]).
    pub fn image_calls(&self) -> u64 {
        self.calls.iter().filter(|(op, _)| IMAGE_OPERATIONS.contains(op)).map(|(_, n)| n).sum()
    }

    /// What a run bounded by `max_requests` sends at most.
    pub fn capped(&self, max_requests: Option<u64>) -> u64 {
        max_requests.map_or(self.total(), |n| n.min(self.total()))
    }

    /// The estimate for humans, several lines.
    pub fn render(&self, max_requests: Option<u64>) -> String {
        let mut out = String::new();
        if let Some(f) = self.fuzz {
            out.push_str(&format!(
                "estimate: at most {} requests exploring ({} cases of at most {} calls; which \
                 operations is drawn as the cases run), plus shrinking and 3 confirmation runs per \
                 divergence; any of them may be an image call ({})\n",
                self.total(),
                f.cases,
                f.max_steps,
                IMAGE_OPERATIONS.map(Operation::name).join(", ")
            ));
        } else {
            out.push_str(&format!(
                "estimate: {} requests ({} image calls), {} collection(s) and {} user(s) created\n",
                self.total(),
                self.image_calls(),
                self.collections,
                self.users
            ));
            for (operation, n) in &self.calls {
                let billed = if IMAGE_OPERATIONS.contains(operation) { "  (image call)" } else { "" };
                out.push_str(&format!("  {:<20} {n:>6}{billed}\n", operation.name()));
            }
            if self.settle_polls > 0 {
                out.push_str(&format!(
                    "  {:<20} {:>6}  (at least: polls while users settle)\n",
                    "ListUsers (polls)", self.settle_polls
                ));
            }
            if self.other_calls > 0 {
                out.push_str(&format!("  {:<20} {:>6}\n", "other targets", self.other_calls));
            }
            out.push_str(&format!("  cleanup: up to {} DeleteCollection, not counted\n", self.collections));
        }
        if let Some(n) = max_requests {
            out.push_str(&format!("  --max-requests {n}: the run stops cleanly after {n} requests\n"));
        }
        out
    }
}

/// Why a real-AWS run may not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Above the threshold, off a terminal, without `--yes`.
    #[error(
        "this run would send up to {requests} requests to real AWS, above {CONFIRM_ABOVE}: pass --yes to \
         confirm, or --max-requests N to cap it"
    )]
    NeedsYes {
        /// The requests it would send.
        requests: u64,
    },
    /// The person at the terminal said no.
    #[error("not confirmed; nothing was sent")]
    Declined,
}

/// Asks before a real-AWS run that would send more than [`CONFIRM_ABOVE`] requests
/// (`requests`, the estimate under any cap): fine with `yes`; else a `y` on a terminal;
/// else refused.
pub fn confirm(requests: u64, yes: bool) -> Result<(), Refusal> {
    if requests <= CONFIRM_ABOVE || yes {
        return Ok(());
    }
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Err(Refusal::NeedsYes { requests });
    }
    eprint!("rekcon: send up to {requests} requests to real AWS? [y/N] ");
    let mut answer = String::new();
    if std::io::stdin().read_line(&mut answer).is_err() {
        return Err(Refusal::Declined);
    }
    match answer.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Ok(()),
        _ => Err(Refusal::Declined),
    }
}

/// A run's `--max-requests`: shared by every scenario (or case) of the run.
#[derive(Debug)]
pub struct RequestBudget {
    max: u64,
    sent: AtomicU64,
    /// Set once a call was refused; also raised, when given, to stop a fuzz campaign.
    spent: Arc<AtomicBool>,
}

impl RequestBudget {
    /// A budget of `max` requests; `spent` is raised when a call is refused.
    pub fn new(max: u64, spent: Arc<AtomicBool>) -> RequestBudget {
        RequestBudget { max, sent: AtomicU64::new(0), spent }
    }

    /// Takes one request; `false` (and the budget marked spent) when none is left.
    pub fn take(&self) -> bool {
        let taken = self.sent.fetch_add(1, Ordering::Relaxed) < self.max;
        if !taken {
            self.spent.store(true, Ordering::Relaxed);
        }
        taken
    }

    /// Whether a call was refused.
    pub fn is_spent(&self) -> bool {
        self.spent.load(Ordering::Relaxed)
    }

    /// The cap.
    pub fn max(&self) -> u64 {
        self.max
    }

    /// Why a scenario or case stopped, for its report.
    pub fn reason(&self) -> String {
        format!("--max-requests {} reached: the rest is not judged", self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_refuses_exactly_after_its_last_request() {
        let budget = RequestBudget::new(2, Arc::new(AtomicBool::new(false)));
        assert!(budget.take() && budget.take());
        assert!(!budget.is_spent());
        assert!(!budget.take());
        assert!(budget.is_spent());
    }

    #[test]
    fn confirmation_is_needed_only_above_the_threshold() {
        assert_eq!(confirm(CONFIRM_ABOVE, false), Ok(()));
        assert_eq!(confirm(CONFIRM_ABOVE + 1, true), Ok(()));
        // Tests run without a terminal on stdin.
        if !std::io::stdin().is_terminal() {
            assert_eq!(
                confirm(CONFIRM_ABOVE + 1, false),
                Err(Refusal::NeedsYes { requests: CONFIRM_ABOVE + 1 })
            );
        }
    }

    #[test]
    fn a_fuzz_estimate_is_its_case_budget() {
        let estimate = Estimate::of_fuzz(200, 30);
        assert_eq!(estimate.total(), 6000);
        assert_eq!(estimate.capped(Some(100)), 100);
    }
}

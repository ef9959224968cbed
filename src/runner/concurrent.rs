//! Running a `concurrent:` block: its steps are sent at once, each call's invocation and
//! completion instants recorded on one monotonic clock, every answer checked on the wire,
//! and the history judged by [`crate::linearize`] from the model's state before the block.
//! A linearizable block leaves every distinct state its valid orders lead to; while there
//! is more than one, each later step is run here too, as a block of one judged against
//! all of them, and the states that do not allow its answer are dropped. A block with no
//! valid order is one divergence, and ends the scenario (the state is then unknown); a
//! block the search cannot decide within its budget is counted as undecided and ends the
//! scenario without blaming the endpoint.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::Instant;

use crate::check::{self, Expectation, Finding, Layer, Unjudgeable};
use crate::expect::{Mismatch, Observed};
use crate::linearize::{self, Budget, Verdict};
use crate::scenario::{Expect, Step};

use super::{Place, Session, StepOutcome, blank_record};

/// How the `concurrent:` blocks a runner ran were judged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinearCounts {
    /// Blocks whose history was checked.
    pub checked: u64,
    /// Histories with no valid order (each one divergence).
    pub violations: u64,
    /// Histories the search could not decide within its budget (never a finding).
    pub undecided: u64,
    /// Model steps the searches took in all.
    pub steps: u64,
}

/// The steps from `start` that run together: one plain step, or every step of the
/// `concurrent:` block `steps[start]` belongs to. `None` past the end.
pub(super) fn block_at(steps: &[Step], start: usize) -> Option<&[Step]> {
    let first = steps.get(start)?;
    let len = match first.concurrent {
        None => 1,
        Some(group) => steps[start..].iter().take_while(|s| s.concurrent == Some(group)).count(),
    };
    Some(&steps[start..start + len])
}

impl super::Runner {
    /// How the `concurrent:` blocks run so far were judged.
    pub fn linear_counts(&self) -> LinearCounts {
        self.linear.lock().map(|c| *c).unwrap_or_default()
    }

    fn count(&self, verdict: &Verdict) {
        if let Ok(mut counts) = self.linear.lock() {
            counts.checked += 1;
            counts.steps += match verdict {
                Verdict::Linearizable { steps, .. } | Verdict::Undecided { steps, .. } => *steps,
                Verdict::NotLinearizable(v) => v.steps,
            };
            match verdict {
                Verdict::Linearizable { .. } => {}
                Verdict::NotLinearizable(_) => counts.violations += 1,
                Verdict::Undecided { .. } => counts.undecided += 1,
            }
        }
    }
}

impl Session<'_> {
    /// Runs the steps of one `concurrent:` block at once and judges them together.
    pub(super) async fn run_concurrent(&mut self, steps: &[Step]) -> StepOutcome {
        let mut built = Vec::with_capacity(steps.len());
        for step in steps {
            let place = Place { step: step.index, line: step.line, settle_poll: false };
            match self.build(step) {
                Ok((call, Some(request))) => {
                    match self.guard_creation(&call, Some(&request), place) {
                        Err(outcome) => return outcome,
                        // A creation took its request of the budget in the guard.
                        Ok(Some(_)) => {}
                        Ok(None) => {
                            if let Err(reason) = self.runner.take_request() {
                                return StepOutcome::BudgetSpent(reason);
                            }
                        }
                    }
                    built.push((place, call, request));
                }
                Ok((call, None)) => {
                    let why = if step.concurrent.is_some() {
                        "a concurrent step needs a typed request"
                    } else {
                        "a raw step cannot be judged while earlier concurrent steps leave several possible states"
                    };
                    return self.bad_step(place, Some(&call), why.into());
                }
                Err(reason) => return self.bad_step(place, None, reason),
            }
        }
        let origin = Instant::now();
        let target = &self.runner.target;
        let nanos = move || u64::try_from(origin.elapsed().as_nanos()).unwrap_or(u64::MAX);
        let answers = join_all(
            built
                .iter()
                .map(|(_, call, _)| async move {
                    let invoked = nanos();
                    let answer = target.send(call).await;
                    (invoked, answer, nanos())
                })
                .collect(),
        )
        .await;

        let mut records = Vec::with_capacity(built.len());
        let mut history = Vec::with_capacity(built.len());
        let mut stop = None;
        for ((place, call, request), (invoked, answer, completed)) in built.iter().zip(answers) {
            let mut record = blank_record(*place, Some(call));
            record.duration = std::time::Duration::from_nanos(completed.saturating_sub(invoked));
            let raw = match answer {
                Ok(raw) => raw,
                Err(no) => {
                    record.no_answer = Some(no.clone());
                    stop.get_or_insert(StepOutcome::NoAnswer(no));
                    records.push(record);
                    continue;
                }
            };
            let wire = check::wire(&raw, call.operation());
            record.response = Some(raw);
            match wire {
                Ok(wire) => {
                    record.findings.extend(wire.mismatches.into_iter().map(|m| Finding::new(Layer::Wire, m)));
                    record.unknowns.extend(wire.unknowns);
                    match &wire.observed {
                        Some(observed) => history.push(linearize::Call {
                            label: format!("step {}", place.step),
                            request: request.clone(),
                            observed: observed.clone(),
                            invoked,
                            completed,
                        }),
                        None => {
                            stop.get_or_insert(StepOutcome::Unfollowable(format!(
                                "the answer to the concurrent {} could not be read, so the history cannot be judged",
                                request.operation()
                            )));
                        }
                    }
                    record.observed = wire.observed;
                }
                Err(Unjudgeable::NoAnswer(no)) => {
                    record.no_answer = Some(no.clone());
                    stop.get_or_insert(StepOutcome::NoAnswer(no));
                }
                Err(Unjudgeable::NotImplemented(evidence)) => {
                    record.not_implemented = Some(evidence.clone());
                    stop.get_or_insert(StepOutcome::NotImplemented(evidence));
                }
                Err(Unjudgeable::SetupProblem(hint)) => {
                    record.setup_problem = Some(hint.clone());
                    stop.get_or_insert(StepOutcome::SetupProblem(hint));
                }
            }
            records.push(record);
        }
        // Mark every collection a racing CreateCollection made, as a single step would.
        for ((_, call, request), record) in built.iter().zip(&records) {
            if let Some(collection) = super::created_collection(call, Some(request))
                && matches!(record.observed, Some(Observed::Success(_)))
            {
                self.runner.remember(&collection, self.ordinal);
            }
        }
        if let Some(outcome) = stop {
            // What the others did cannot be placed without every answer: nothing is judged.
            for record in &mut records {
                if record.no_answer.is_none() && record.note.is_none() {
                    record.note =
                        Some("not judged: another call of its concurrent block got no usable answer".into());
                }
            }
            records.into_iter().for_each(|r| self.push(r));
            return outcome;
        }

        // A step after a block (run as a block of one) may state an expectation and capture.
        let single = match steps {
            [step] if step.concurrent.is_none() => Some(step),
            _ => None,
        };
        if let Some(step) = single
            && let Some(expect) = &step.expect
            && let Some(call) = history.first()
        {
            let expectation = match expect {
                Expect::Success => Expectation::Success,
                Expect::Errors(codes) => Expectation::Errors(codes.clone()),
                Expect::Response(template) => match template.render(&self.bindings) {
                    Ok(body) => Expectation::Response(body),
                    Err(e) => return self.bad_step(built[0].0, Some(&built[0].1), e.0),
                },
            };
            let unmet = check::expectation_met(&expectation, &call.observed);
            records[0].findings.extend(unmet.into_iter().map(|m| Finding::new(Layer::Scenario, m)));
            records[0].expectation = Some(expectation);
        }

        let mut starts = vec![self.model.clone()];
        starts.append(&mut self.others);
        let verdict = linearize::check_from(&starts, &history, Budget::default());
        self.runner.count(&verdict);
        let first = steps.first().map_or(0, |s| s.index);
        let last = steps.last().map_or(0, |s| s.index);
        let what = match single {
            Some(_) => format!(
                "an answer to step {first} the model allows in one of the {} states the concurrent steps before it may have left",
                starts.len()
            ),
            None => format!(
                "an order of concurrent steps {first}-{last}, consistent with real time, in which the model allows every answer"
            ),
        };
        let outcome = match verdict {
            Verdict::Linearizable { order, models, unknowns, steps } => {
                let mut models = models.into_iter();
                if let Some(model) = models.next() {
                    self.model = model;
                }
                self.others = models.collect();
                if let Some(record) = records.first_mut() {
                    record.unknowns.extend(unknowns);
                    let order: Vec<&str> = order.iter().map(|&i| history[i].label.as_str()).collect();
                    let states = match self.others.len() {
                        0 => String::new(),
                        n => format!("; {} possible states follow", n + 1),
                    };
                    record.note = Some(format!(
                        "concurrent steps {first}-{last} linearizable, e.g. as {} ({steps} model steps{states})",
                        order.join(", ")
                    ));
                }
                None
            }
            Verdict::NotLinearizable(violation) => {
                let explanation = violation.explain(&history);
                let at = violation.refused.first().map_or(0, |(i, _)| *i);
                records[at].findings.push(Finding::new(
                    Layer::Model,
                    Mismatch {
                        path: String::new(),
                        expected: what,
                        actual: format!("no such order ({} model steps): {explanation}", violation.steps),
                    },
                ));
                // No order fits, so the state the endpoint is in is unknown: judging later
                // steps against a guess would blame them for this divergence.
                Some(StepOutcome::Unfollowable(format!(
                    "no order of steps {first}-{last} fits their answers, so the state after them is unknown"
                )))
            }
            Verdict::Undecided { steps, reason } => Some(StepOutcome::Unfollowable(format!(
                "linearizability of steps {first}-{last} undecided: {reason} ({steps} model steps); \
                 not a finding, but the state can no longer be followed"
            ))),
        };
        let diverged = records.iter().any(|r| r.findings.iter().any(Finding::is_divergence));
        let contradicted = records.iter().any(|r| r.findings.iter().any(|f| f.layer == Layer::Scenario));
        records.into_iter().for_each(|r| self.push(r));
        let outcome = match outcome {
            Some(outcome) => outcome,
            None if diverged => StepOutcome::Diverged,
            None if contradicted => StepOutcome::Contradiction,
            None => StepOutcome::Conformed,
        };
        match single {
            Some(step) => self.bind_captures(step, outcome),
            None => outcome,
        }
    }
}

/// Polls every future until all are done; the outputs in the order given.
async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => *output = Some(value),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending { Poll::Pending } else { Poll::Ready(()) }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

//! The human report: the root causes first, ranked by reach; what is not implemented;
//! one line per scenario naming its causes; the details of each failing scenario, each
//! defect once; the parity matrix; the unsettled points; the closing count.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::baseline::BaselineCheck;
use super::{RunReport, ScenarioReport, StopKind, Verdict};
use crate::cause::{Cause, CauseLayer, Causes, Signature};
use crate::check::Layer;

/// Causes listed at the top of the report; the JSON report lists every one.
const CAUSES_SHOWN: usize = 20;
/// A cause seen in more scenarios than this is named, not repeated, in each scenario's details.
const WIDESPREAD: usize = 3;

impl RunReport {
    /// The human report.
    pub fn render(&self) -> String {
        let causes = self.causes();
        let matrix = self.matrix(&causes);
        let mut out = String::new();
        let _ = writeln!(out, "rekcon run {} against {}", self.run_id, self.endpoint);
        self.render_causes(&causes, &mut out);
        let not_implemented = self.not_implemented();
        if !not_implemented.is_empty() {
            let stopped = self
                .scenarios
                .iter()
                .filter(|s| s.stop.as_ref().is_some_and(|stop| stop.kind == StopKind::NotImplemented))
                .count();
            let names: Vec<&str> = not_implemented.keys().map(String::as_str).collect();
            let _ = writeln!(
                out,
                "not implemented: {} ({} of 16 operations; {} stopped at one of them)",
                names.join(", "),
                names.len(),
                plural_n(stopped, "scenario", "scenarios")
            );
        }
        if let Some(b) = &self.baseline {
            render_baseline(b, &causes, &mut out);
        }
        for (hint, n) in self.setup_problems() {
            let _ = writeln!(
                out,
                "set-up problem (rekcon's own set-up, not the endpoint): {hint} — {} stopped",
                plural_n(n, "scenario", "scenarios")
            );
        }
        if let Some(hint) = marker_hint(&causes) {
            let _ = writeln!(out, "{hint}");
        }
        let _ = writeln!(out);
        for s in &self.scenarios {
            let _ = writeln!(out, "{:<13} {}{}", s.verdict.label(), s.name, s.brief(&causes));
        }
        let details: Vec<String> = self
            .scenarios
            .iter()
            .filter(|s| s.has_details(&causes))
            .map(|s| s.explain_with(&causes))
            .collect();
        if !details.is_empty() {
            let _ = writeln!(out);
            for d in details {
                let _ = writeln!(out, "{d}");
            }
        }
        let counts = matrix.counts();
        let tally: Vec<String> = counts.iter().map(|(v, n)| format!("{n} {}", v.as_str())).collect();
        let _ = writeln!(out, "parity matrix ({})", tally.join(", "));
        for (op, row) in matrix.rows() {
            let ranks: Vec<String> = row.ranks.iter().map(|r| format!("#{r}")).collect();
            let na =
                if row.not_applicable > 0 { format!(" ({} n/a)", row.not_applicable) } else { String::new() };
            let detail = match (&row.evidence, ranks.is_empty()) {
                (Some(evidence), _) => format!("  {evidence}"),
                (None, false) => format!("  {}", ranks.join(" ")),
                (None, true) => String::new(),
            };
            let _ = writeln!(
                out,
                "  {:<20} {:<16} {:>6} {}{na}{detail}",
                op.name(),
                row.verdict.as_str(),
                thousands(row.calls),
                if row.calls == 1 { "call " } else { "calls" }
            );
        }
        let _ = writeln!(out);
        let unknowns = self.unknowns();
        if !unknowns.is_empty() {
            let _ = writeln!(
                out,
                "unsettled: needs a real-AWS recording ({} points this run leaned on)",
                unknowns.len()
            );
            for u in unknowns {
                let _ = writeln!(out, "  {} — {}", u.tag(), u.question());
            }
            let _ = writeln!(out);
        }
        if !self.cleanup.failed.is_empty() {
            let _ = writeln!(
                out,
                "cleanup: could not delete {} collection(s): {}\n  once the endpoint answers: rekcon cleanup --prefix rekcon-{}- (with this run's endpoint flags)",
                self.cleanup.failed.len(),
                self.cleanup.failed.join(", "),
                self.run_id
            );
        }
        let lag = self.lag();
        if lag.calls > 0 {
            let _ = writeln!(
                out,
                "read-after-write lag (§9.20): {} answered not-found right after a write and \
                 were asked again ({}); {} still diverged",
                plural_n(lag.calls, "call", "calls"),
                plural_n(lag.retries, "retry", "retries"),
                lag.still_diverged
            );
        }
        let retries = self.retry_lines();
        if !retries.is_empty() {
            let _ = writeln!(out, "retries the endpoint needed (answered in the end; not divergences):");
            for line in retries {
                let _ = writeln!(out, "  {line}");
            }
        }
        if self.shared_quota {
            let _ = writeln!(
                out,
                "throttling: the endpoint throttled every operation together (one quota for all; \
                 AWS's quotas are per operation), so every call was paced as one"
            );
        }
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for s in &self.scenarios {
            *counts.entry(s.verdict.label()).or_default() += 1;
        }
        let order = [
            "pass",
            "diverged",
            "contradiction",
            "blocked",
            "set-up problem",
            "bad scenario",
            "no answer",
            "harness error",
            "not run",
        ];
        let parts: Vec<String> = order
            .iter()
            .filter_map(|label| counts.get(label).map(|n| format!("{n} {}", plural(label, *n))))
            .collect();
        let parts = if parts.is_empty() { "no scenarios".to_string() } else { parts.join(", ") };
        let causes_part = match causes.len() {
            0 => String::new(),
            1 => ", 1 cause".to_string(),
            n => format!(", {n} causes"),
        };
        let interrupted = match (self.interrupted, self.interrupt_exit) {
            (true, _) => " (interrupted)",
            (false, crate::budget::EXIT_BUDGET_SPENT) => " (stopped at --max-requests)",
            _ => "",
        };
        let _ = writeln!(out, "{parts}{causes_part} in {:.2}s{interrupted}", self.duration.as_secs_f64());
        out
    }

    fn render_causes(&self, causes: &Causes, out: &mut String) {
        if causes.is_empty() {
            return;
        }
        let judged = self.judged_calls();
        let _ = writeln!(out, "{} by reach:", plural_n(causes.len(), "cause", "causes"));
        for (i, cause) in causes.all().iter().take(CAUSES_SHOWN).enumerate() {
            let known = match &self.baseline {
                Some(b) if b.is_known(&cause.signature) => " (baselined)",
                _ => "",
            };
            let _ = writeln!(out, "  #{}{known} {}", i + 1, cause_line(cause, judged));
        }
        if causes.len() > CAUSES_SHOWN {
            let _ = writeln!(
                out,
                "  … and {} more (the JSON report lists every cause)",
                causes.len() - CAUSES_SHOWN
            );
        }
    }
}

/// `[protocol] Content-Type is … — 16 operations, 94 scenarios, 1,203 of 1,203 calls; first at file:line`.
fn cause_line(cause: &Cause, judged_calls: usize) -> String {
    let calls = if cause.calls == judged_calls && judged_calls > 1 {
        format!("every one of the {} calls", thousands(cause.calls))
    } else {
        plural_n(cause.calls, "call", "calls")
    };
    let operations = match cause.signature.layer {
        CauseLayer::Protocol => {
            let (known, unknown) = cause.operation_reach();
            let unknown = if unknown { " and unknown targets" } else { "" };
            format!("{}{unknown}, ", plural_n(known, "operation", "operations"))
        }
        CauseLayer::Contract => String::new(),
    };
    format!(
        "[{}] {} — {operations}{}, {calls}; first at {}:{}",
        cause.signature.layer.as_str(),
        cause.summary(),
        plural_n(cause.scenarios.len(), "scenario", "scenarios"),
        cause.first.file.display(),
        cause.first.line
    )
}

/// The baseline's verdict: briefly when it passes, each failure named when it does not.
fn render_baseline(b: &BaselineCheck, causes: &Causes, out: &mut String) {
    let rank = |sig: &Signature| causes.rank(sig).map(|r| format!("#{r} ")).unwrap_or_default();
    let status = if b.fails() { "fails" } else { "passes" };
    let _ = writeln!(
        out,
        "baseline {}: {status} — {} known, {} new, {} changed, {} fixed, {} expired{}",
        b.file.display(),
        b.known.len(),
        b.new.len(),
        b.changed.len(),
        b.fixed.len(),
        b.expired.len(),
        if b.not_checked.is_empty() {
            String::new()
        } else {
            format!(", {} not checked (their scenarios did not run to the end)", b.not_checked.len())
        }
    );
    for sig in &b.new {
        let _ = writeln!(out, "  new: {}{sig}", rank(sig));
    }
    for (sig, was) in &b.changed {
        let _ = writeln!(out, "  changed: {}{sig} (baselined as {was})", rank(sig));
    }
    for e in &b.fixed {
        let _ = writeln!(out, "  fixed: {} — remove it from the baseline", e.signature);
    }
    for e in &b.expired {
        let _ = writeln!(out, "  expired on {}: {}", e.expires.as_deref().unwrap_or("?"), e.signature);
    }
}

/// One line when the endpoint ignores the fixtures' face markers, naming the flag.
fn marker_hint(causes: &Causes) -> Option<String> {
    let calls: usize = causes
        .all()
        .iter()
        .filter(|c| {
            c.signature.layer == CauseLayer::Contract
                && c.signature.operation == "IndexFaces"
                && c.signature.path == "FaceRecords"
                && (c.signature.expected.ends_with(" items") || c.signature.expected.ends_with(" item"))
        })
        .map(|c| c.calls)
        .sum();
    (calls > 0).then(|| {
        format!(
            "hint: in {} IndexFaces found another number of faces than the fixture images declare: the endpoint \
             ignores rekcon's fixture markers (it detects faces itself, or not at all). With --faces endpoint, \
             rekcon follows the faces the endpoint reports and judges who they show only structurally.",
            plural_n(calls, "call", "calls")
        )
    })
}

impl ScenarioReport {
    /// Whether the scenario needs a block of its own below the scenario lines: it failed
    /// for a reason its line cannot say in full. A divergence whose every cause is
    /// widespread (described at the top, named on its line) needs none, nor does a
    /// blocked scenario (its line names the operation).
    fn has_details(&self, causes: &Causes) -> bool {
        match self.verdict {
            Verdict::Pass
            | Verdict::NotRun { .. }
            | Verdict::Blocked { .. }
            | Verdict::SetupProblem { .. } => false,
            Verdict::Diverged { .. } => {
                self.stop.is_some()
                    || self.records.iter().any(|r| r.contradicted())
                    || self.signatures().iter().any(|sig| {
                        causes
                            .rank(sig)
                            .and_then(|rank| causes.all().get(rank - 1))
                            .is_none_or(|c| c.scenarios.len() <= WIDESPREAD)
                    })
            }
            _ => true,
        }
    }

    /// What follows the scenario's name on its line: its causes, or why it stopped.
    fn brief(&self, causes: &Causes) -> String {
        let mut parts = Vec::new();
        let ranks: Vec<String> =
            self.signatures().iter().filter_map(|sig| causes.rank(sig)).map(|r| format!("#{r}")).collect();
        if !ranks.is_empty() {
            parts.push(ranks.join(" "));
        }
        if let Some(stop) = &self.stop {
            let why = match stop.kind {
                StopKind::NotImplemented => {
                    format!("{} not implemented (step {})", stop.operation, stop.step)
                }
                StopKind::NoAnswer => format!("no answer at step {}", stop.step),
                StopKind::SetupProblem => format!("set-up problem at step {}", stop.step),
                StopKind::BadStep if matches!(self.verdict, Verdict::BadScenario { .. }) => String::new(),
                StopKind::BadStep | StopKind::Unfollowable => format!("stopped at step {}", stop.step),
                StopKind::NotApplicable => {
                    format!("not applicable after step {} (endpoint faces)", stop.step)
                }
            };
            let rest = stop.not_judged_text();
            let text: Vec<String> = [why].into_iter().chain(rest).filter(|t| !t.is_empty()).collect();
            if !text.is_empty() {
                parts.push(text.join("; "));
            }
        }
        if parts.is_empty() { String::new() } else { format!(" — {}", parts.join("; ")) }
    }

    /// The human explanation, each finding on its own line; empty for a pass.
    pub fn explain(&self) -> String {
        self.explain_with(&Causes::group(self.seen()))
    }

    /// The explanation, naming causes by their rank in `causes`: a cause seen in many
    /// scenarios is named once (it is described at the top), others are shown where they
    /// were first seen in this scenario, with the other steps that showed them.
    pub fn explain_with(&self, causes: &Causes) -> String {
        let mut out = String::new();
        let call = self.deciding_record().map(|r| format!(": {}", r.call_name())).unwrap_or_default();
        match &self.verdict {
            Verdict::Pass => return out,
            Verdict::Diverged { step, .. } => {
                let _ = writeln!(out, "{}: diverged at step {step} ({}){call}", self.name, self.location());
            }
            Verdict::Contradiction { step, .. } => {
                let _ = writeln!(
                    out,
                    "{}: the scenario contradicts the model at step {step} ({}){call} — the model or the scenario is wrong",
                    self.name,
                    self.location()
                );
            }
            Verdict::NoAnswer { step, reason, .. } => {
                let _ = writeln!(
                    out,
                    "{}: no answer at step {step} ({}){call}: {reason}",
                    self.name,
                    self.location()
                );
            }
            Verdict::Blocked { step, operation, evidence, .. } => {
                let _ = writeln!(
                    out,
                    "{}: blocked at step {step} ({}): {operation} not implemented ({evidence})",
                    self.name,
                    self.location()
                );
            }
            Verdict::SetupProblem { step, hint, .. } => {
                let _ = writeln!(
                    out,
                    "{}: set-up problem at step {step} ({}){call}: {hint}",
                    self.name,
                    self.location()
                );
            }
            Verdict::BadScenario { reason, .. } => {
                let _ = writeln!(out, "{}: bad scenario: {reason}", self.name);
            }
            Verdict::HarnessError { reason } => {
                let _ = writeln!(out, "{}: harness error (a bug in rekcon): {reason}", self.name);
            }
            Verdict::NotRun { reason } => {
                let _ = writeln!(out, "{}: not run: {reason}", self.name);
                return out;
            }
        }
        // Each cause once: where this scenario first showed it, and the other steps.
        let mut shown: Vec<(Signature, usize, Vec<usize>)> = Vec::new();
        let mut widespread: BTreeMap<usize, usize> = BTreeMap::new();
        for record in &self.records {
            for finding in &record.findings {
                let Some(sig) = Signature::of(record.call_name(), finding) else {
                    if finding.layer == Layer::Scenario {
                        let m = &finding.mismatch;
                        let path = if m.path.is_empty() { "(outcome)" } else { &m.path };
                        let _ = writeln!(
                            out,
                            "  [scenario] step {} {}: {path}: expected {}, got {}",
                            record.step,
                            record.call_name(),
                            m.expected,
                            m.actual
                        );
                    }
                    continue;
                };
                let rank = causes.rank(&sig).unwrap_or(0);
                let reach = causes.all().get(rank.wrapping_sub(1)).map_or(0, |c| c.scenarios.len());
                if reach > WIDESPREAD {
                    *widespread.entry(rank).or_default() += 1;
                    continue;
                }
                if let Some((_, _, steps)) = shown.iter_mut().find(|(s, _, _)| *s == sig) {
                    if !steps.contains(&record.step) {
                        steps.push(record.step);
                    }
                    continue;
                }
                let m = &finding.mismatch;
                let path = if m.path.is_empty() { "(outcome)" } else { &m.path };
                let poll = if record.settle_poll { " (ListUsers poll before the step)" } else { "" };
                let _ = writeln!(
                    out,
                    "  #{rank} [{}] step {} ({}:{}) {}{poll}: {path}: expected {}, got {}",
                    sig.layer.as_str(),
                    record.step,
                    self.path.display(),
                    record.line,
                    record.call_name(),
                    m.expected,
                    m.actual
                );
                shown.push((sig, rank, vec![record.step]));
            }
        }
        for (_, rank, steps) in &shown {
            if steps.len() > 1 {
                let more: Vec<String> = steps[1..].iter().map(usize::to_string).collect();
                let _ = writeln!(out, "    #{rank} again at step {}", more.join(", "));
            }
        }
        if !widespread.is_empty() {
            let named: Vec<String> = widespread
                .iter()
                .map(|(rank, n)| format!("#{rank} ({})", plural_n(*n, "finding", "findings")))
                .collect();
            let _ = writeln!(out, "  also {} — described at the top", named.join(", "));
        }
        if let Some(record) = self.deciding_record()
            && let Some(note) = &record.note
            && !matches!(self.verdict, Verdict::BadScenario { .. })
        {
            let _ = writeln!(out, "  {note}");
        }
        if let Some(stop) = &self.stop
            && !matches!(
                self.verdict,
                Verdict::NoAnswer { .. }
                    | Verdict::Blocked { .. }
                    | Verdict::BadScenario { .. }
                    | Verdict::SetupProblem { .. }
            )
        {
            let rest = stop.not_judged_text().map(|t| format!("; {t}")).unwrap_or_default();
            let why = match stop.kind {
                StopKind::NotImplemented => format!("{} not implemented ({})", stop.operation, stop.reason),
                StopKind::NoAnswer => format!("no answer: {}", stop.reason),
                StopKind::SetupProblem => format!("set-up problem: {}", stop.reason),
                StopKind::BadStep | StopKind::Unfollowable | StopKind::NotApplicable => stop.reason.clone(),
            };
            let _ = writeln!(
                out,
                "  stopped at step {} ({}:{}): {why}{rest}",
                stop.step,
                self.path.display(),
                stop.line
            );
        } else if let Some(rest) = self.stop.as_ref().and_then(super::Stop::not_judged_text) {
            let _ = writeln!(out, "  {rest}");
        }
        let _ = writeln!(out, "  reproduce: {}", self.reproduce);
        out
    }
}

/// `1,203`.
pub(super) fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1 call`, `1,203 calls`.
fn plural_n(n: usize, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

fn plural(label: &str, n: usize) -> String {
    match (label, n) {
        ("pass", _) => "passed".into(),
        ("contradiction", n) if n > 1 => "contradictions".into(),
        ("bad scenario", n) if n > 1 => "bad scenarios".into(),
        ("harness error", n) if n > 1 => "harness errors".into(),
        ("set-up problem", n) if n > 1 => "set-up problems".into(),
        (label, _) => label.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1203), "1,203");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}

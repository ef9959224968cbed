//! The JSON report (`format_version` 2): the run; the root causes with their reach; the
//! parity matrix keyed by operation; the operations not implemented; each scenario's
//! verdict, its divergences by signature, where it stopped, and its deciding call in full;
//! the unsettled points with their questions.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{FORMAT_VERSION, RunReport, ScenarioReport, Verdict};
use crate::cause::{Cause, Causes, Signature};

impl RunReport {
    /// The JSON report.
    pub fn to_json(&self) -> Value {
        let causes = self.causes();
        let matrix = self.matrix(&causes);
        let scenarios: Vec<Value> = self.scenarios.iter().map(|s| scenario_json(s, &causes)).collect();
        let unknowns: Vec<Value> =
            self.unknowns().into_iter().map(|u| json!({"tag": u.tag(), "question": u.question()})).collect();
        let matrix: serde_json::Map<String, Value> = matrix
            .rows()
            .iter()
            .map(|(op, row)| (op.name().to_string(), serde_json::to_value(row).unwrap_or(Value::Null)))
            .collect();
        let not_implemented: Vec<Value> = self
            .not_implemented()
            .into_iter()
            .map(|(operation, evidence)| json!({"operation": operation, "evidence": evidence}))
            .collect();
        json!({
            "format_version": FORMAT_VERSION,
            "run_id": self.run_id,
            "endpoint": self.endpoint,
            "exit_code": self.exit_code(),
            "interrupted": self.interrupted,
            "duration_ms": (self.duration.as_secs_f64() * 1000.0).round(),
            "summary": self.scenarios.iter().fold(BTreeMap::<&str, usize>::new(), |mut m, s| {
                *m.entry(s.verdict.label()).or_default() += 1;
                m
            }),
            "causes": causes.all().iter().enumerate().map(|(i, c)| cause_json(i + 1, c)).collect::<Vec<_>>(),
            "matrix": matrix,
            "not_implemented": not_implemented,
            "metadata": self.metadata,
            "baseline": self.baseline.as_ref().map(|b| json!({
                "file": b.file.display().to_string(),
                "status": if b.fails() { "fails" } else { "passes" },
                "known": b.known.iter().map(ToString::to_string).collect::<Vec<_>>(),
                "new": b.new.iter().map(ToString::to_string).collect::<Vec<_>>(),
                "changed": b.changed.iter().map(|(s, was)| json!({"signature": s.to_string(), "baselined_as": was})).collect::<Vec<_>>(),
                "fixed": b.fixed.iter().map(|e| e.signature.clone()).collect::<Vec<_>>(),
                "expired": b.expired.iter().map(|e| json!({"signature": e.signature, "expires": e.expires})).collect::<Vec<_>>(),
                "not_checked": b.not_checked.iter().map(|e| e.signature.clone()).collect::<Vec<_>>(),
            })),
            "setup_problems": self
                .setup_problems()
                .into_iter()
                .map(|(hint, n)| json!({"hint": hint, "scenarios": n}))
                .collect::<Vec<_>>(),
            "read_after_write_lag": self.lag(),
            "scenarios": scenarios,
            "unsettled": unknowns,
            "cleanup": self.cleanup,
        })
    }
}

fn cause_json(rank: usize, c: &Cause) -> Value {
    json!({
        "rank": rank,
        "signature": c.signature.to_string(),
        "layer": c.signature.layer,
        "operation": c.signature.operation,
        "operations": c.operations,
        "path": c.signature.path,
        "expected": c.signature.expected,
        "actual": c.signature.actual,
        "summary": c.summary(),
        "scenarios": c.scenarios.len(),
        "calls": c.calls,
        "first": {
            "scenario": c.first.scenario,
            "file": c.first.file.display().to_string(),
            "line": c.first.line,
            "step": c.first.step,
            "operation": c.first.operation,
            "path": c.first.mismatch.path,
            "expected": c.first.mismatch.expected,
            "actual": c.first.mismatch.actual,
        },
    })
}

fn scenario_json(s: &ScenarioReport, causes: &Causes) -> Value {
    let divergences: Vec<Value> = s
        .records
        .iter()
        .flat_map(|r| r.findings.iter().map(move |f| (r, f)))
        .filter_map(|(r, f)| {
            let sig = Signature::of(r.call_name(), f)?;
            Some(json!({
                "step": r.step,
                "line": r.line,
                "operation": r.call_name(),
                "settle_poll": r.settle_poll,
                "signature": sig.to_string(),
                "cause": causes.rank(&sig),
                "layer": sig.layer,
                "path": f.mismatch.path,
                "expected": f.mismatch.expected,
                "actual": f.mismatch.actual,
            }))
        })
        .collect();
    let not_applicable = s.records.iter().filter(|r| r.not_applicable.is_some()).count();
    let mut v = json!({
        "name": s.name,
        "path": s.path.display().to_string(),
        "location": s.location(),
        "verdict": s.verdict,
        "steps": s.steps,
        "steps_run": s.records.iter().filter(|r| !r.settle_poll).map(|r| r.step).collect::<std::collections::BTreeSet<_>>().len(),
        "divergences": divergences,
        "not_applicable": not_applicable,
        "unknowns": s.unknowns,
        "duration_ms": (s.duration.as_secs_f64() * 1000.0).round(),
        "reproduce": s.reproduce,
    });
    if let Verdict::Blocked { operation, .. } = &s.verdict {
        v["blocked_by"] = json!([operation]);
    }
    if let Some(stop) = &s.stop {
        v["stopped"] = json!({
            "step": stop.step,
            "line": stop.line,
            "operation": stop.operation,
            "kind": stop.kind,
            "reason": stop.reason,
            "not_judged": stop.not_judged.map(|(from, to)| json!({"from": from, "to": to})),
        });
    }
    if let Some(record) = s.deciding_record().filter(|_| !s.passed()) {
        v["failure"] = shorten_long_strings(serde_json::to_value(record).unwrap_or(Value::Null));
        v["explanation"] = Value::String(s.explain_with(causes));
    }
    v
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

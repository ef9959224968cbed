//! The JUnit XML report: one test case per scenario, named by its test name, with the
//! `file` and `line` CI systems link to, the transcript of a failing scenario in
//! `<system-out>`, the run's start as `timestamp`, and the endpoint, run id, rekcon
//! version and suite hash as `<properties>`.

use std::fmt::Write as _;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use super::{RunReport, ScenarioReport, Verdict};
use crate::expect::Observed;

/// An RFC 3339 date as JUnit's `timestamp`, when it parses.
pub(crate) fn timestamp(rfc3339: &str) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    chrono::DateTime::parse_from_rfc3339(rfc3339).ok()
}

/// A JUnit report of one suite named `name` holding `cases`, with `properties`.
pub(crate) fn junit_report(
    name: &str,
    started_at: &str,
    time: std::time::Duration,
    properties: &[(&str, String)],
    cases: Vec<TestCase>,
) -> String {
    let mut suite = TestSuite::new(name);
    if let Some(at) = timestamp(started_at) {
        suite.set_timestamp(at);
    }
    suite.set_time(time);
    for (k, v) in properties {
        suite.add_property(Property::new(*k, v.as_str()));
    }
    suite.add_test_cases(cases);
    let mut report = Report::new(name);
    if let Some(at) = timestamp(started_at) {
        report.set_timestamp(at);
    }
    report.set_time(time);
    report.add_test_suite(suite);
    report.to_string().unwrap_or_else(|e| format!("<!-- cannot serialize the JUnit report: {e} -->"))
}

impl RunReport {
    /// The JUnit XML report. A blocked scenario is skipped, with the operation that
    /// blocked it as the message: it neither passed nor failed.
    pub fn to_junit(&self) -> String {
        let causes = self.causes();
        let cases = self
            .scenarios
            .iter()
            .map(|s| {
                let mut status = match &s.verdict {
                    Verdict::Pass => TestCaseStatus::success(),
                    Verdict::NotRun { .. } | Verdict::Blocked { .. } => TestCaseStatus::skipped(),
                    Verdict::Diverged { .. } | Verdict::Contradiction { .. } => {
                        TestCaseStatus::non_success(NonSuccessKind::Failure)
                    }
                    _ => TestCaseStatus::non_success(NonSuccessKind::Error),
                };
                if !s.passed() {
                    status.set_message(format!("{} at {}", s.verdict.label(), s.location()));
                    status.set_type(s.verdict.label());
                    status.set_description(s.explain_with(&causes));
                }
                let mut case = TestCase::new(s.name.replace('/', "::"), status);
                case.set_classname(
                    s.name.rsplit_once('/').map_or("scenarios", |(dir, _)| dir).replace('/', "::"),
                );
                case.set_time(s.duration);
                case.extra.insert("file".into(), s.path.display().to_string().into());
                let line = s.deciding_record().map_or(1, |r| r.line.max(1));
                case.extra.insert("line".into(), line.to_string().into());
                if !s.passed() {
                    case.set_system_out(transcript(s));
                }
                case
            })
            .collect();
        junit_report(
            "rekcon",
            &self.metadata.started_at,
            self.duration,
            &[
                ("endpoint", self.endpoint.clone()),
                ("run_id", self.run_id.clone()),
                ("rekcon_version", self.metadata.rekcon_version.clone()),
                ("suite_hash", self.metadata.suite_hash.clone()),
                ("region", self.metadata.region.clone()),
            ],
            cases,
        )
    }
}

/// A failing scenario's calls, one paragraph each: the request and what came back.
fn transcript(s: &ScenarioReport) -> String {
    let mut out = String::new();
    for r in &s.records {
        let poll = if r.settle_poll { " (settle poll)" } else { "" };
        let status =
            r.response.as_ref().map(|x| format!("HTTP {}", x.status)).unwrap_or_else(|| "no response".into());
        let request = match &r.request {
            serde_json::Value::String(raw) => raw.clone(),
            other => other.to_string(),
        };
        let _ = writeln!(out, "step {} (line {}) {}{poll} -> {status}", r.step, r.line, r.call_name());
        let _ = writeln!(out, "  request: {}", clip(&request));
        match &r.observed {
            Some(Observed::Success(body)) => {
                let _ = writeln!(out, "  response: {}", clip(&body.to_string()));
            }
            Some(Observed::Error(e)) => {
                let _ = writeln!(out, "  error: {}", e.code);
            }
            None => {}
        }
        for f in &r.findings {
            let m = &f.mismatch;
            let layer = match f.layer {
                crate::check::Layer::Wire => "protocol",
                crate::check::Layer::Model => "contract",
                crate::check::Layer::Scenario => "scenario",
            };
            let _ = writeln!(out, "  [{layer}] {}: expected {}, got {}", m.path, m.expected, m.actual);
        }
        for note in [&r.not_implemented, &r.not_applicable, &r.note].into_iter().flatten() {
            let _ = writeln!(out, "  {note}");
        }
        if let Some(no) = &r.no_answer {
            let _ = writeln!(out, "  no answer: {}", no.reason);
        }
    }
    out
}

/// Long values (image bytes) cut short.
fn clip(text: &str) -> String {
    if text.chars().count() > 600 {
        format!("{}… ({} characters)", text.chars().take(600).collect::<String>(), text.chars().count())
    } else {
        text.to_string()
    }
}

//! `rekcon fuzz --time T` without `--cases` runs for T, not for the default 200 cases;
//! with both, whichever budget is spent first ends the run, and the report (text and
//! JSON) says which. No timing is asserted: only case counts and the budget named.

mod fuzz_support;

use std::path::PathBuf;

use fuzz_support::{arg, rekcon, root};
use serde_json::Value;

/// A scratch folder for the JSON report (unique per test).
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rekcon-fuzz-time-{name}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    dir
}

/// Runs `rekcon fuzz` in-process with `budget`; returns (stdout, the JSON report).
fn fuzz(name: &str, budget: &[&str]) -> (String, Value) {
    let dir = scratch(name);
    let json = dir.join("fuzz.json");
    let scenarios = root();
    let mut args = vec!["fuzz", "--target", "model", "--seed", "5", "--max-steps", "2"];
    args.extend_from_slice(budget);
    let (json_arg, scenarios_arg) = (arg(&json), arg(&scenarios));
    args.extend_from_slice(&["--json", &json_arg, "--scenarios", &scenarios_arg]);
    let out = rekcon(&args);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("the JSON report")).expect("JSON");
    let _ = std::fs::remove_dir_all(&dir);
    (stdout, report)
}

#[test]
fn time_alone_runs_past_the_default_case_count() {
    let (text, report) = fuzz("alone", &["--time", "3"]);
    let cases = report["cases"].as_u64().expect("cases");
    assert!(cases > 200, "a 3 s run of 2-step cases stopped after {cases} cases:\n{text}");
    assert_eq!(report["ended_by"], "time", "{text}");
    assert!(text.contains("ended by: the time budget (--time)"), "{text}");
    // The run is repeated by its time budget, not by a case count.
    assert!(!report["reproduce"].as_str().unwrap_or_default().contains("--cases"), "{report}");
}

#[test]
fn with_both_budgets_the_case_budget_can_end_the_run() {
    let (text, report) = fuzz("cases-first", &["--time", "600", "--cases", "7"]);
    assert_eq!(report["cases"], 7, "{text}");
    assert_eq!(report["ended_by"], "cases", "{text}");
    assert!(text.contains("ended by: the case budget (--cases)"), "{text}");
}

#[test]
fn with_both_budgets_the_time_budget_can_end_the_run() {
    let (text, report) = fuzz("time-first", &["--time", "1", "--cases", "4000000000"]);
    let cases = report["cases"].as_u64().expect("cases");
    assert!(cases < 4_000_000_000, "{text}");
    assert_eq!(report["ended_by"], "time", "{text}");
}

#[test]
fn without_a_budget_the_default_cases_end_the_run() {
    let (text, report) = fuzz("default", &[]);
    assert_eq!(report["cases"], 200, "{text}");
    assert_eq!(report["ended_by"], "cases", "{text}");
}

//! Every row of the constraint table validation uses (`rekcon::model::validate::CONSTRAINTS`:
//! lengths, patterns, ranges, list, map and blob sizes, enums, exactly-one groups, required
//! members, nested members included), in every operation that has it, is reached at and
//! beyond each bound by the scenario suite or by a default fuzz run — as counted by the
//! fuzz coverage module (`rekcon::fuzz::coverage::probes_of`): a value beyond a bound only
//! in a call breaking nothing else, a value at a bound only in a call breaking nothing.
//!
//! The test prints what each side reached alone, so a gap points at the scenario or the
//! generator draw that would fill it.

mod fuzz_support;
mod suite_support;

use std::collections::BTreeSet;

use fuzz_support::{budget, fuzz, in_process};
use rekcon::fuzz::coverage::{Coverage, all_probes};
use rekcon::report::Verdict;
use rekcon::serve::ServeConfig;

/// The suite against the unmutated emulator: every scenario passes; what its calls reached.
fn suite_coverage() -> Coverage {
    let suite = suite_support::load_suite();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    let reports = runtime.block_on(suite_support::run_suite(None, &suite));
    let failing: Vec<&str> =
        reports.iter().filter(|r| r.verdict != Verdict::Pass).map(|r| r.name.as_str()).collect();
    assert!(failing.is_empty(), "scenarios that do not pass against the built-in emulator: {failing:?}");
    let mut coverage = Coverage::default();
    for report in &reports {
        coverage.record_calls(&report.records);
    }
    coverage
}

/// A default fuzz run (200 cases of up to 30 steps, seed 1), in-process.
fn fuzz_coverage() -> Coverage {
    let mut runner = in_process(&ServeConfig { seed: 1, ..ServeConfig::default() }, false);
    let outcome = fuzz(&mut runner, &budget(1));
    assert!(outcome.findings.is_empty(), "the unmutated emulator diverged: {:?}", outcome.findings);
    assert!(outcome.generator_bugs.is_empty(), "{:?}", outcome.generator_bugs);
    outcome.coverage
}

#[test]
fn every_constraint_is_reached_at_and_beyond_each_bound() {
    let all = all_probes();
    assert!(all.len() > 150, "the table lost rows: {} probes", all.len());
    let suite: BTreeSet<String> = suite_coverage().constraints.into_keys().collect();
    let fuzzed: BTreeSet<String> = fuzz_coverage().constraints.into_keys().collect();
    let missing: Vec<&String> = all.iter().filter(|p| !suite.contains(*p) && !fuzzed.contains(*p)).collect();
    let suite_only: Vec<&String> =
        all.iter().filter(|p| suite.contains(*p) && !fuzzed.contains(*p)).collect();
    let fuzz_only: Vec<&String> = all.iter().filter(|p| !suite.contains(*p) && fuzzed.contains(*p)).collect();
    println!("{} probes; the suite reaches {}, a default fuzz run {}", all.len(), suite.len(), fuzzed.len());
    println!("reached by the suite alone ({}):\n  {}", suite_only.len(), join(&suite_only));
    println!("reached by the fuzzer alone ({}):\n  {}", fuzz_only.len(), join(&fuzz_only));
    assert!(
        missing.is_empty(),
        "{} constraint probes reached neither by a scenario nor by a default fuzz run:\n  {}",
        missing.len(),
        join(&missing)
    );
}

fn join(items: &[&String]) -> String {
    items.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n  ")
}

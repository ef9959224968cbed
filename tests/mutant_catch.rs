//! Detection that survives an edit: for every planted bug of the built-in emulator
//! (`rekcon serve --list-mutants`), how many scenarios of the suite catch it. Each must
//! be caught by at least two scenarios, or by one scenario and a deterministic fuzz
//! check (a default fuzz run with a fixed seed, in-process, that finds it), so one
//! edited scenario never loses the detection.
//!
//! The whole suite runs once per mutant, in-process through the harness's library API
//! (`Runner`, as `rekcon run` does), a few mutants at a time on one runtime. The test
//! prints the count per mutant.

mod fuzz_support;
mod suite_support;

use std::collections::BTreeMap;
use std::sync::Arc;

use fuzz_support::{budget, fuzz, in_process, with_mutant};
use rekcon::report::Verdict;
use rekcon::serve::Mutant;

/// Scenarios that must catch a mutant without a fuzz check.
const MIN_SCENARIOS: usize = 2;
/// The seed of the fuzz check.
const FUZZ_SEED: u64 = 1;
/// Whole-suite runs at the same time (a run mostly waits on its users settling, so more
/// runs than cores keep the cores busy).
const AT_ONCE: usize = 12;

/// Each mutant's catching scenarios, and the scenarios that did not pass against the
/// unmutated emulator (none may).
fn catches() -> (BTreeMap<&'static str, Vec<String>>, Vec<String>) {
    let suite = Arc::new(suite_support::load_suite());
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    runtime.block_on(async {
        let reference = suite_support::run_suite(None, &suite).await;
        let failing =
            reference.iter().filter(|r| r.verdict != Verdict::Pass).map(|r| r.name.clone()).collect();
        let mut caught = BTreeMap::new();
        for chunk in Mutant::ALL.chunks(AT_ONCE) {
            let mut tasks = tokio::task::JoinSet::new();
            for &mutant in chunk {
                let suite = Arc::clone(&suite);
                tasks.spawn(async move {
                    let reports = suite_support::run_suite(Some(mutant), &suite).await;
                    let by: Vec<String> = reports
                        .into_iter()
                        .filter(|r| matches!(r.verdict, Verdict::Diverged { .. }))
                        .map(|r| r.name)
                        .collect();
                    (mutant.name(), by)
                });
            }
            while let Some(done) = tasks.join_next().await {
                let (name, by) = done.expect("a suite run does not panic");
                caught.insert(name, by);
            }
        }
        (caught, failing)
    })
}

/// Whether a default fuzz run with [`FUZZ_SEED`] finds `mutant` (in-process, on the wire).
fn fuzz_finds(mutant: Mutant) -> bool {
    let mut runner = in_process(&with_mutant(mutant, FUZZ_SEED), true);
    !fuzz(&mut runner, &budget(FUZZ_SEED)).findings.is_empty()
}

#[test]
fn every_mutant_is_caught_by_two_scenarios_or_one_and_a_fuzz_check() {
    let (caught, failing) = catches();
    assert!(failing.is_empty(), "scenarios failing against the unmutated emulator: {failing:?}");
    // The fuzz checks of the mutants fewer than MIN_SCENARIOS catch, at once.
    let needs_fuzz: Vec<Mutant> = Mutant::ALL
        .iter()
        .copied()
        .filter(|m| caught.get(m.name()).map_or(0, Vec::len) < MIN_SCENARIOS)
        .collect();
    let fuzz_found: BTreeMap<&'static str, bool> = std::thread::scope(|scope| {
        let checks: Vec<_> =
            needs_fuzz.iter().map(|&m| (m.name(), scope.spawn(move || fuzz_finds(m)))).collect();
        checks
            .into_iter()
            .map(|(name, check)| (name, check.join().expect("a fuzz check does not panic")))
            .collect()
    });
    let mut lines = Vec::new();
    let mut fragile = Vec::new();
    for &mutant in Mutant::ALL {
        let by = caught.get(mutant.name()).cloned().unwrap_or_default();
        let fuzzed = fuzz_found.get(mutant.name()).copied().unwrap_or(false);
        let shown: Vec<&str> = by.iter().take(3).map(String::as_str).collect();
        let more = if by.len() > 3 { format!(" +{}", by.len() - 3) } else { String::new() };
        let check = if fuzzed { " + fuzz check (seed 1)" } else { "" };
        lines.push(format!(
            "  {:<38} {:>3} scenarios{check}: {}{more}",
            mutant.name(),
            by.len(),
            shown.join(", ")
        ));
        if !(by.len() >= MIN_SCENARIOS || by.len() == 1 && fuzzed) {
            fragile.push(format!(
                "{} ({} scenarios{})",
                mutant.name(),
                by.len(),
                if fuzzed { ", fuzz finds it" } else { "" }
            ));
        }
    }
    println!("scenarios catching each planted bug:\n{}", lines.join("\n"));
    assert!(
        fragile.is_empty(),
        "planted bugs not caught by {MIN_SCENARIOS} scenarios (or one and a fixed-seed fuzz run): {}",
        fragile.join(", ")
    );
}

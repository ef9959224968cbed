//! Detection that survives an edit: for every planted bug of the built-in emulator
//! (`rekcon serve --list-mutants`), how many scenarios of the suite catch it. Each must
//! be caught by at least two scenarios, or by one scenario and a deterministic fuzz
//! check (a default fuzz run with a fixed seed, in-process, that finds it), so one
//! edited scenario never loses the detection.
//!
//! The whole suite runs once per mutant, in-process through the harness's library API
//! (`Runner`, as `rekcon run` does), a few mutants at a time on one runtime, beside the
//! run against the unmutated emulator and the fuzz checks. The test prints the count per
//! mutant.

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
/// runs than cores keep the cores busy). A new run starts as soon as one ends.
const AT_ONCE: usize = 12;

/// What the runs found: each mutant's catching scenarios, the scenarios that did not
/// pass against the unmutated emulator (none may), and whether the fixed-seed fuzz run
/// finds each mutant that fewer than [`MIN_SCENARIOS`] scenarios catch.
struct Catches {
    by: BTreeMap<&'static str, Vec<String>>,
    failing: Vec<String>,
    fuzz_found: BTreeMap<&'static str, bool>,
}

/// The reference run and every mutant's run, [`AT_ONCE`] at a time on one runtime; a
/// mutant's fuzz check starts on a blocking thread as soon as its suite run shows it needs
/// one, so the checks overlap the runs still going.
fn catches() -> Catches {
    let suite = Arc::new(suite_support::load_suite());
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    runtime.block_on(async {
        let mut found = Catches { by: BTreeMap::new(), failing: Vec::new(), fuzz_found: BTreeMap::new() };
        // None: the unmutated reference.
        let mut pending = std::iter::once(None).chain(Mutant::ALL.iter().copied().map(Some));
        let mut runs = tokio::task::JoinSet::new();
        let spawn_run = |runs: &mut tokio::task::JoinSet<_>, mutant: Option<Mutant>| {
            let suite = Arc::clone(&suite);
            runs.spawn(async move { (mutant, suite_support::run_suite(mutant, &suite).await) });
        };
        for mutant in pending.by_ref().take(AT_ONCE) {
            spawn_run(&mut runs, mutant);
        }
        let mut checks = tokio::task::JoinSet::new();
        while let Some(done) = runs.join_next().await {
            let (mutant, reports) = done.expect("a suite run does not panic");
            if let Some(next) = pending.next() {
                spawn_run(&mut runs, next);
            }
            let Some(mutant) = mutant else {
                found.failing =
                    reports.into_iter().filter(|r| r.verdict != Verdict::Pass).map(|r| r.name).collect();
                continue;
            };
            let by: Vec<String> = reports
                .into_iter()
                .filter(|r| matches!(r.verdict, Verdict::Diverged { .. }))
                .map(|r| r.name)
                .collect();
            if by.len() < MIN_SCENARIOS {
                checks.spawn_blocking(move || (mutant.name(), fuzz_finds(mutant)));
            }
            found.by.insert(mutant.name(), by);
        }
        while let Some(done) = checks.join_next().await {
            let (name, fuzzed) = done.expect("a fuzz check does not panic");
            found.fuzz_found.insert(name, fuzzed);
        }
        found
    })
}

/// Whether a default fuzz run with [`FUZZ_SEED`] finds `mutant` (in-process, on the wire).
fn fuzz_finds(mutant: Mutant) -> bool {
    let mut runner = in_process(&with_mutant(mutant, FUZZ_SEED), true);
    !fuzz(&mut runner, &budget(FUZZ_SEED)).findings.is_empty()
}

#[test]
fn every_mutant_is_caught_by_two_scenarios_or_one_and_a_fuzz_check() {
    let Catches { by: caught, failing, fuzz_found } = catches();
    assert!(failing.is_empty(), "scenarios failing against the unmutated emulator: {failing:?}");
    assert_eq!(caught.len(), Mutant::ALL.len(), "every mutant had its suite run");
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

//! The generator's weights reach every item of the contract the coverage report lists
//! (operations, error types, failure reasons, UserStatus values, users at 0, 1, 99 and
//! 100 faces, and each constrained member at its limits) within the default budget,
//! against the built-in emulator over HTTP, as `rekcon fuzz` runs by default (four
//! cases at a time).

mod fuzz_support;

use fuzz_support::{budget, fuzz, in_process, over_http_lanes};
use rekcon::fuzz::coverage::AREAS;
use rekcon::serve::ServeConfig;

#[test]
fn the_default_budget_reaches_every_coverage_item() {
    let mut runner = over_http_lanes(ServeConfig { seed: 1, ..ServeConfig::default() }, 4);
    let outcome = fuzz(&mut runner, &budget(1));
    assert!(outcome.findings.is_empty(), "the unmutated emulator diverged: {:?}", outcome.findings);
    assert!(outcome.generator_bugs.is_empty(), "{:?}", outcome.generator_bugs);
    assert_eq!(outcome.cases, 200);
    let missing = outcome.coverage.missing();
    assert!(missing.is_empty(), "not reached within the default budget: {missing:?}");
}

#[test]
fn other_seeds_reach_every_item_too() {
    // The weights, not one lucky seed: a few more runs of the default budget, in-process.
    for seed in [2, 3, 4] {
        let mut runner = in_process(&ServeConfig { seed, ..ServeConfig::default() }, false);
        let outcome = fuzz(&mut runner, &budget(seed));
        let missing = outcome.coverage.missing();
        assert!(missing.is_empty(), "seed {seed}: not reached: {missing:?}");
    }
    assert_eq!(AREAS.len(), 6);
}

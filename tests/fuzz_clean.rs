//! No false positives: against the unmutated built-in emulator the fuzzer finds nothing,
//! flags nothing as flaky and never trips over its own generated cases — also with the
//! emulator's realism knobs on: users that settle slowly (`--settle-ms`), throttling
//! (`--throttle-tps`) and injected faults (`--faults`: 500s, dropped connections,
//! delays). Modest budgets here; a long run with every knob is ignored by default:
//!
//! ```sh
//! cargo test --release --test fuzz_clean -- --ignored --nocapture
//! ```

mod fuzz_support;

use std::time::Duration;

use fuzz_support::{budget, fuzz, in_process, over_http, over_http_lanes};
use rekcon::fuzz::drive::{DriveConfig, DriveOutcome};
use rekcon::serve::ServeConfig;

fn assert_clean(what: &str, outcome: &DriveOutcome) {
    println!(
        "{what}: {} cases, {} checked calls in {:.1}s",
        outcome.cases,
        outcome.checked_calls,
        outcome.elapsed.as_secs_f64()
    );
    assert!(outcome.findings.is_empty(), "{what}: false positives: {:#?}", outcome.findings);
    assert!(outcome.flaky.is_empty(), "{what}: flaky divergences: {:#?}", outcome.flaky);
    assert!(outcome.generator_bugs.is_empty(), "{what}: generator bugs: {:#?}", outcome.generator_bugs);
    assert_eq!(outcome.no_answer, None, "{what}: the emulator stopped answering");
    assert!(outcome.cases > 0 && outcome.checked_calls > outcome.cases, "{what}: nothing ran");
}

#[test]
fn a_long_run_in_process_finds_nothing() {
    let mut runner = in_process(&ServeConfig { seed: 11, ..ServeConfig::default() }, true);
    let outcome = fuzz(&mut runner, &DriveConfig { cases: 500, ..budget(11) });
    assert_clean("500 cases in-process, on the wire", &outcome);
}

#[test]
fn slowly_settling_users_cause_no_false_positives() {
    let config = ServeConfig { seed: 12, settle: Duration::from_millis(20), ..ServeConfig::default() };
    let outcome = fuzz(&mut over_http(config), &DriveConfig { cases: 40, ..budget(12) });
    assert_clean("--settle-ms 20", &outcome);
}

#[test]
fn injected_faults_cause_no_false_positives() {
    let config = ServeConfig { seed: 13, faults: 0.05, ..ServeConfig::default() };
    let outcome = fuzz(&mut over_http_lanes(config, 4), &DriveConfig { cases: 60, ..budget(13) });
    assert_clean("--faults 0.05", &outcome);
}

#[test]
fn throttling_causes_no_false_positives() {
    // Far below the fuzzer's rate: throttled calls are retried by the SDK, and a case
    // throttled past its retries runs again after a pause.
    let config = ServeConfig { seed: 14, throttle_tps: Some(100), ..ServeConfig::default() };
    let outcome = fuzz(&mut over_http(config), &DriveConfig { cases: 20, ..budget(14) });
    assert_clean("--throttle-tps 100", &outcome);
}

#[test]
#[ignore = "a long run with every knob on: cargo test --release --test fuzz_clean -- --ignored --nocapture"]
fn a_long_run_with_every_knob_finds_nothing() {
    let config = ServeConfig {
        seed: 15,
        settle: Duration::from_millis(5),
        faults: 0.02,
        throttle_tps: Some(2000),
        ..ServeConfig::default()
    };
    let outcome = fuzz(&mut over_http_lanes(config, 4), &DriveConfig { cases: 2000, ..budget(15) });
    assert_clean("2000 cases, --settle-ms 5 --faults 0.02 --throttle-tps 2000", &outcome);
}

//! `rekcon fuzz --concurrency 4` finds each planted race of the built-in emulator, shrinks
//! it, and writes a regression that `rekcon run` replays (exit 1 against the race, 0 on
//! the clean emulator); the clean emulator, with its realism knobs on, gives no finding.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use rekcon::config::{EndpointChoice, ReportArgs, RunConfig};
use rekcon::fuzz::concurrent::{self, ConcurrencyConfig, ConcurrencyOutcome};
use rekcon::model::FaceSource;
use rekcon::serve::{Detector, Mutant, ServeConfig};

/// A scenarios folder of its own in the temp dir, with the fixture images.
fn scenarios_root() -> PathBuf {
    let root = std::env::temp_dir().join(format!("rekcon-races-{}", uuid::Uuid::new_v4().simple()));
    let images = root.join("images");
    std::fs::create_dir_all(&images).expect("temp dir");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/images");
    for name in ["alice-1.png", "bob-1.png", "alice-2.png"] {
        std::fs::copy(fixtures.join(name), images.join(name)).expect("fixture image");
    }
    root
}

fn run_config(root: &Path, mutants: Vec<Mutant>) -> RunConfig {
    RunConfig {
        endpoint: EndpointChoice::BuiltIn,
        region: None,
        profile: None,
        aws: false,
        scenarios: root.to_path_buf(),
        filters: Vec::new(),
        tags: Vec::new(),
        jobs: 1,
        settle_timeout: Duration::from_secs(10),
        json: None,
        junit: None,
        reports: ReportArgs::default(),
        mutants,
        faces: FaceSource::Catalogue,
        detector: Detector::Marker,
        record: None,
        against: None,
        settlements: None,
    }
}

fn fuzz(root: &Path, serve: ServeConfig, time: Duration, max_findings: usize) -> ConcurrencyOutcome {
    let mutants: Vec<String> = serve.mutants.iter().map(|m| m.name().to_string()).collect();
    let config = ConcurrencyConfig {
        concurrency: 4,
        seed: serve.seed,
        cases: 1_000_000,
        time: Some(time),
        max_findings,
        // Shrinking ends when no smaller case diverges; the clock only bounds a runaway
        // (a loaded machine must shrink as far as an idle one).
        shrink_time: Duration::from_secs(600),
        scenarios: root.to_path_buf(),
        out_dir: root.join("regressions"),
        replay_flags: String::new(),
        mutants,
        interrupt: None,
    };
    concurrent::run(&config, &run_config(root, serve.mutants.clone()), &serve).expect("the run starts")
}

/// `rekcon run NAME --scenarios ROOT [--mutant M]`'s exit code.
fn replay(root: &Path, name: &str, mutant: Option<&str>) -> i32 {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rekcon"));
    cmd.args(["run", name, "--scenarios"]).arg(root);
    if let Some(m) = mutant {
        cmd.args(["--mutant", m]);
    }
    cmd.output().expect("rekcon runs").status.code().unwrap_or(-1)
}

#[test]
fn every_planted_race_is_found_shrunk_and_replayed() {
    assert_eq!(Mutant::RACES.len(), 3);
    for (i, &race) in Mutant::RACES.iter().enumerate() {
        let root = scenarios_root();
        let serve = ServeConfig { mutants: vec![race], seed: 11 + i as u64, ..ServeConfig::default() };
        let outcome = fuzz(&root, serve, Duration::from_secs(60), 1);
        assert!(outcome.generator_bugs.is_empty(), "{:?}", outcome.generator_bugs);
        let finding =
            outcome.findings.first().unwrap_or_else(|| panic!("{} not found: {outcome:?}", race.name()));
        assert!(outcome.linear.violations >= 1, "{} found by linearizability: {outcome:?}", race.name());
        assert!(finding.calls < finding.found_calls, "{} shrunk: {finding:?}", race.name());
        assert!(finding.calls <= 8, "{} shrunk to a few calls: {finding:?}", race.name());
        let text = std::fs::read_to_string(&finding.path).expect("the regression is written");
        assert!(text.contains("concurrent:"), "{text}");
        assert_eq!(replay(&root, &finding.name, Some(race.name())), 1, "{} replays: {text}", race.name());
        assert_eq!(
            replay(&root, &finding.name, None),
            0,
            "{} passes on the clean emulator: {text}",
            race.name()
        );
    }
}

#[test]
fn the_clean_emulator_with_realism_knobs_gives_no_finding() {
    let root = scenarios_root();
    let serve =
        ServeConfig { seed: 5, settle: Duration::from_millis(50), faults: 0.02, ..ServeConfig::default() };
    let outcome = fuzz(&root, serve, Duration::from_secs(20), 0);
    assert!(outcome.findings.is_empty(), "{:?}", outcome.findings);
    assert!(outcome.generator_bugs.is_empty(), "{:?}", outcome.generator_bugs);
    assert_eq!(outcome.linear.undecided, 0, "{outcome:?}");
    assert!(outcome.linear.checked >= 20, "blocks were checked: {outcome:?}");
}

#[test]
fn the_races_are_listed_by_serve_list_mutants() {
    let out =
        Command::new(env!("CARGO_BIN_EXE_rekcon")).args(["serve", "--list-mutants"]).output().expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    for race in Mutant::RACES {
        assert!(race.name().starts_with("race-"));
        assert!(text.lines().any(|l| l.starts_with(race.name())), "{} listed:\n{text}", race.name());
    }
}

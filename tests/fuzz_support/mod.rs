//! What the fuzz tests share: case runners over the built-in emulator (in-process or
//! over HTTP), scratch scenario folders, and the `rekcon` binary.

#![allow(dead_code, reason = "each test binary uses a different part")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rekcon::fuzz::case::CaseRunner;
use rekcon::fuzz::drive::{self, DriveConfig, DriveOutcome, Silent};
use rekcon::fuzz::exec::{EndpointExecutor, InProcessExecutor};
use rekcon::fuzz::generate::{Fixture, GenConfig};
use rekcon::runner;
use rekcon::serve::{Mutant, ServeConfig};

/// The crate's scenarios folder (fixture images under `images/`).
pub fn root() -> PathBuf {
    runner::crate_scenarios_root()
}

fn gen_config() -> GenConfig {
    GenConfig { fixtures: Fixture::load_dir(&root().join("images")).expect("fixture images") }
}

/// Cases through the emulator's core in-process (`wire`: checked on the bytes).
pub fn in_process(config: &ServeConfig, wire: bool) -> CaseRunner {
    CaseRunner::new(Box::new(InProcessExecutor::new(config, "fuzztest", wire)), &root(), gen_config())
}

/// Cases over HTTP through the SDK to a built-in emulator started with `config`, one at a time.
pub fn over_http(config: ServeConfig) -> CaseRunner {
    over_http_lanes(config, 1)
}

/// Like [`over_http`], `lanes` cases at a time (as `rekcon fuzz --jobs`).
pub fn over_http_lanes(config: ServeConfig, lanes: usize) -> CaseRunner {
    let executors = EndpointExecutor::built_in_lanes(&config, lanes)
        .expect("the emulator starts and the SDK client builds")
        .into_iter()
        .map(|e| Box::new(e) as Box<dyn rekcon::fuzz::exec::Executor + Send>)
        .collect();
    CaseRunner::with_lanes(executors, &root(), gen_config())
}

/// The default budget (200 cases of up to 30 steps, 15% invalid) with this seed.
pub fn budget(seed: u64) -> DriveConfig {
    DriveConfig { seed, ..DriveConfig::default() }
}

/// Runs the fuzzer silently and deletes what it left.
pub fn fuzz(runner: &mut CaseRunner, config: &DriveConfig) -> DriveOutcome {
    let outcome = drive::drive(runner, config, &Silent);
    runner.finish();
    outcome
}

/// The emulator with `mutant` planted (seeded like the run).
pub fn with_mutant(mutant: Mutant, seed: u64) -> ServeConfig {
    ServeConfig { mutants: vec![mutant], seed, ..ServeConfig::default() }
}

/// A fresh scenarios folder holding a copy of the fixture images, so tests write
/// regressions there and never into the repository.
pub fn scratch_root(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rekcon-fuzz-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let images = dir.join("images");
    std::fs::create_dir_all(&images).expect("scratch folder");
    for entry in std::fs::read_dir(root().join("images")).expect("fixture images") {
        let path = entry.expect("an entry").path();
        if let Some(file) = path.file_name() {
            std::fs::copy(&path, images.join(file)).expect("copy a fixture");
        }
    }
    dir
}

/// Runs the `rekcon` binary with `args`, without endpoint variables from the caller.
pub fn rekcon(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rekcon"))
        .args(args)
        .env_remove("REKCON_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL_REKOGNITION")
        .output()
        .expect("rekcon runs")
}

/// Text of a path for a command line.
pub fn arg(path: &Path) -> String {
    path.display().to_string()
}

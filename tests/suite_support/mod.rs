//! Running the whole scenario suite in-process, through the harness's library API
//! ([`Runner`]) as `rekcon run` does, against a built-in emulator (optionally planted
//! with a mutant) on loopback.

#![allow(dead_code, reason = "each test binary uses a different part")]

use std::sync::Arc;
use std::time::Duration;

use rekcon::config::{Endpoint, TargetConfig};
use rekcon::model::ModelConfig;
use rekcon::report::{Repro, ScenarioReport};
use rekcon::runner::{self, RunSettings, Runner};
use rekcon::scenario::Scenario;
use rekcon::serve::{Mutant, ServeConfig, Server};
use rekcon::target::Target;

/// Scenarios of one whole-suite run that run at the same time.
pub const JOBS: usize = 8;

/// Every scenario of the crate's suite (the built-in suite), none broken.
pub fn load_suite() -> Vec<Arc<Scenario>> {
    let root = runner::crate_scenarios_root();
    let selection = runner::select(&root, &[], &[]).expect("the scenarios folder can be read");
    let broken: Vec<String> = selection.broken.iter().map(|(name, e)| format!("{name}: {e}")).collect();
    assert!(broken.is_empty(), "scenario files that do not load:\n{}", broken.join("\n"));
    assert!(!selection.scenarios.is_empty(), "no scenario under {}", root.display());
    selection.scenarios
}

/// A fresh in-process emulator planted with `mutant`, and a runner over it.
pub async fn start(mutant: Option<Mutant>) -> (Server, Arc<Runner>) {
    let serve = ServeConfig { mutants: mutant.into_iter().collect(), ..ServeConfig::default() };
    let account = serve.account.clone();
    let server = Server::start(serve).await.expect("the emulator starts");
    let target = Target::connect(&TargetConfig::new(Endpoint::BuiltIn(server.url())))
        .await
        .expect("the SDK client builds");
    let mut settings = RunSettings::new(Repro::Cli { flags: String::new() });
    settings.settle_timeout = Duration::from_secs(10);
    settings.model = ModelConfig {
        region: Some(target.region().to_string()),
        account: Some(account),
        ..ModelConfig::default()
    };
    (server, Arc::new(Runner::new(target, settings)))
}

/// The whole suite once against a fresh emulator planted with `mutant` (none: the
/// reference), every scenario's report in suite order.
pub async fn run_suite(mutant: Option<Mutant>, suite: &[Arc<Scenario>]) -> Vec<ScenarioReport> {
    let (server, runner) = start(mutant).await;
    let (reports, interrupted) = runner.run_all(suite, JOBS, std::future::pending()).await;
    assert!(!interrupted);
    runner.cleanup().await;
    server.shutdown().await;
    reports
}

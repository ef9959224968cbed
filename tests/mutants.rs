//! The scenario suite's power to detect divergence, measured: every planted bug of the
//! built-in emulator (`rekcon serve --list-mutants`) must make at least one scenario
//! diverge, and the unmutated emulator must pass the whole suite.
//!
//! Each suite run gets its own in-process emulator (one per mutant, plus the reference)
//! and runs through the harness's library API ([`Runner::run_all`]), exactly as
//! `rekcon run` does; all runs go at once on one runtime. The test prints, per mutant,
//! which scenarios caught it and the first finding, so a mutant that slips through
//! points at the behaviour the suite lacks.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rekcon::config::{Endpoint, TargetConfig};
use rekcon::model::ModelConfig;
use rekcon::report::{Repro, ScenarioReport, Verdict};
use rekcon::runner::{self, RunSettings, Runner};
use rekcon::scenario::Scenario;
use rekcon::serve::{Mutant, ServeConfig, Server};
use rekcon::target::Target;

/// Scenarios of one suite run at the same time.
const JOBS: usize = 16;

/// What one suite run against one emulator found.
struct SuiteResult {
    /// `None` for the unmutated emulator.
    mutant: Option<Mutant>,
    reports: Vec<ScenarioReport>,
    elapsed: Duration,
}

impl SuiteResult {
    fn label(&self) -> &'static str {
        self.mutant.map_or("(none)", Mutant::name)
    }

    fn diverged(&self) -> impl Iterator<Item = &ScenarioReport> {
        self.reports.iter().filter(|r| matches!(r.verdict, Verdict::Diverged { .. }))
    }

    fn not_passed(&self) -> impl Iterator<Item = &ScenarioReport> {
        self.reports.iter().filter(|r| r.verdict != Verdict::Pass)
    }
}

fn load_suite() -> Vec<Arc<Scenario>> {
    let root = runner::crate_scenarios_root();
    let selection = runner::select(&root, &[], &[]).expect("the scenarios folder can be read");
    let broken: Vec<String> = selection.broken.iter().map(|(name, e)| format!("{name}: {e}")).collect();
    assert!(broken.is_empty(), "scenario files that do not load:\n{}", broken.join("\n"));
    assert!(!selection.scenarios.is_empty(), "no scenario under {}", root.display());
    selection.scenarios
}

/// Runs the whole suite against a fresh in-process emulator planted with `mutant`.
async fn run_suite(mutant: Option<Mutant>, suite: Arc<Vec<Arc<Scenario>>>) -> SuiteResult {
    let started = Instant::now();
    let serve = ServeConfig { mutant, ..ServeConfig::default() };
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
    let runner = Arc::new(Runner::new(target, settings));
    let (reports, interrupted) = runner.run_all(&suite, JOBS, std::future::pending()).await;
    assert!(!interrupted);
    runner.cleanup().await;
    server.shutdown().await;
    SuiteResult { mutant, reports, elapsed: started.elapsed() }
}

/// The first finding of a report's failing step, on one line.
fn first_finding(report: &ScenarioReport) -> String {
    let finding = report.records.iter().rev().flat_map(|r| r.findings.iter()).next();
    match finding {
        Some(f) => {
            let line = format!("{:?} {}", f.layer, f.mismatch);
            if line.chars().count() > 140 {
                format!("{}…", line.chars().take(140).collect::<String>())
            } else {
                line
            }
        }
        None => format!("{:?}", report.verdict),
    }
}

#[test]
fn every_mutant_is_caught_and_the_unmutated_emulator_passes() {
    let started = Instant::now();
    let suite = Arc::new(load_suite());
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    let results: Vec<SuiteResult> = runtime.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for mutant in std::iter::once(None).chain(Mutant::ALL.iter().copied().map(Some)) {
            tasks.spawn(run_suite(mutant, Arc::clone(&suite)));
        }
        let mut results = Vec::new();
        while let Some(result) = tasks.join_next().await {
            results.push(result.expect("a suite run does not panic"));
        }
        results
    });
    let by_mutant: BTreeMap<&str, &SuiteResult> = results.iter().map(|r| (r.label(), r)).collect();

    // The reference: every scenario passes against the unmutated emulator.
    let reference = by_mutant["(none)"];
    let failures: Vec<String> = reference
        .not_passed()
        .map(|r| format!("  {}: {:?} — {}", r.name, r.verdict, first_finding(r)))
        .collect();

    // Each mutant: which scenarios diverged (a contradiction or bad scenario is not a catch).
    let mut table = Vec::new();
    let mut escaped = Vec::new();
    for mutant in Mutant::ALL {
        let result = by_mutant[mutant.name()];
        let caught: Vec<&ScenarioReport> = result.diverged().collect();
        match caught.first() {
            Some(first) => {
                let more =
                    if caught.len() > 1 { format!(" (+{} more)", caught.len() - 1) } else { String::new() };
                table.push(format!(
                    "  {:<38} caught by {}{more}\n      {}",
                    mutant.name(),
                    first.name,
                    first_finding(first)
                ));
            }
            None => {
                let odd: Vec<String> =
                    result.not_passed().map(|r| format!("{} {:?}", r.name, r.verdict)).collect();
                escaped.push(format!(
                    "  {:<38} {} — no scenario diverged {odd:?}",
                    mutant.name(),
                    mutant.description()
                ));
            }
        }
    }
    let slowest = results.iter().map(|r| r.elapsed).max().unwrap_or_default();
    println!(
        "{} scenarios × {} emulators in {:.1}s (slowest suite run {:.1}s)\n{}",
        suite.len(),
        results.len(),
        started.elapsed().as_secs_f64(),
        slowest.as_secs_f64(),
        table.join("\n")
    );
    assert!(failures.is_empty(), "the unmutated emulator fails scenarios:\n{}", failures.join("\n"));
    assert!(escaped.is_empty(), "mutants no scenario catches:\n{}", escaped.join("\n"));
}

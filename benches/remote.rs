//! A distant endpoint and a throttling one, each measured in one run, with the default
//! settings a user's `rekcon run --endpoint-url URL` gets (its `--jobs`, its rate limiter).
//!
//! 1. The built-in suite against an in-process `serve --latency-ms 25`: the suite's wall
//!    time over its longest scenario's time alone (run by itself afterwards, one job).
//!    Goal ≤ 1.5: with enough scenarios in flight the suite takes hardly longer than its
//!    longest scenario.
//! 2. The built-in suite against an in-process `serve --throttle-tps 50`: the effective
//!    request rate (calls answered without throttling, per second of the run's wall time)
//!    over 50, with no call throttled to the end. Goal ≥ 0.9.
//!
//! Both drive the real runner ([`Runner::run_all`], [`Target`] with its limiter) with the
//! [`RunConfig`] that `rekcon run --endpoint-url URL` parses; only the printing of the
//! text report is left out. Run with `cargo bench --bench remote`.

/// The same allocator as the `rekcon` binary, so the figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use rekcon::config::{RunArgs, RunConfig};
use rekcon::filter::Selector;
use rekcon::report::{ScenarioReport, Verdict};
use rekcon::runner::{RunSettings, Runner, select_suite};
use rekcon::scenario::Scenario;
use rekcon::serve::{ServeConfig, Server};
use rekcon::suite::Source;
use rekcon::target::Target;

type BenchResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// `rekcon run`'s options, parsed as the binary parses them.
#[derive(Debug, Parser)]
struct Cli {
    #[command(flatten)]
    run: RunArgs,
}

/// How one run went.
struct Run {
    wall: Duration,
    reports: Vec<ScenarioReport>,
    /// Calls answered without throttling, and calls throttled to the end.
    answered: u64,
    throttled_out: u64,
    retries: u64,
    throttled: u64,
    jobs: usize,
    /// Whether the limiter took the endpoint's quota as shared by every operation.
    shared_quota: bool,
}

/// Runs `scenarios` against `url` as `rekcon run --endpoint-url URL [extra]` would.
async fn run(url: &str, extra: &[&str], scenarios: &[Arc<Scenario>]) -> BenchResult<Run> {
    let mut argv = vec!["rekcon", "--endpoint-url", url];
    argv.extend_from_slice(extra);
    let config = RunConfig::from_args(Cli::try_parse_from(argv)?.run)?;
    let started = Instant::now();
    let target = Target::connect(&config.target(None)).await?;
    let mut settings = RunSettings::new(config.repro());
    settings.settle_timeout = config.settle_timeout;
    settings.model = config.model_config(target.region(), false);
    let runner = Arc::new(Runner::new(target, settings));
    let (reports, _) = runner.run_all(scenarios, config.jobs, std::future::pending()).await;
    runner.cleanup().await;
    let wall = started.elapsed();
    let counts = runner.target().retries();
    let sum = |f: fn(&rekcon::ratelimit::OperationRetries) -> u64| counts.values().map(f).sum::<u64>();
    let throttled_out = sum(|r| r.throttled_out);
    Ok(Run {
        wall,
        reports,
        answered: sum(|r| r.calls) - throttled_out,
        throttled_out,
        retries: sum(|r| r.retries),
        throttled: sum(|r| r.throttled),
        jobs: config.jobs,
        shared_quota: runner.target().shared_quota(),
    })
}

/// An error naming every scenario that did not pass (a figure from a broken run is no figure).
fn all_passed(run: &Run) -> BenchResult {
    let failed: Vec<String> = run
        .reports
        .iter()
        .filter(|r| r.verdict != Verdict::Pass)
        .map(|r| format!("{}: {}", r.name, r.verdict.label()))
        .collect();
    let rerun: Vec<String> = run
        .reports
        .iter()
        .filter_map(|r| {
            let note = r.records.first().and_then(|c| c.note.as_deref())?;
            note.contains("run again").then(|| format!("{}: {note}", r.name))
        })
        .collect();
    if !failed.is_empty() || !rerun.is_empty() {
        return Err(format!(
            "{} did not pass, {} ran again: {}",
            failed.len(),
            rerun.len(),
            failed.iter().chain(&rerun).cloned().collect::<Vec<_>>().join("; ")
        )
        .into());
    }
    Ok(())
}

async fn latency(scenarios: &[Arc<Scenario>]) -> BenchResult {
    let server =
        Server::start(ServeConfig { latency: Duration::from_millis(25), ..ServeConfig::default() }).await?;
    let url = server.url();
    let suite = run(&url, &[], scenarios).await?;
    all_passed(&suite)?;
    // The longest scenarios of the run, each run again alone, one job: the longest of those.
    let mut by_time: Vec<&ScenarioReport> = suite.reports.iter().collect();
    by_time.sort_by_key(|r| std::cmp::Reverse(r.duration));
    let mut longest = (Duration::ZERO, String::new());
    for report in by_time.iter().take(5) {
        let alone: Vec<Arc<Scenario>> = scenarios.iter().filter(|s| s.name == report.name).cloned().collect();
        let solo = run(&url, &["--jobs", "1"], &alone).await?;
        all_passed(&solo)?;
        let time = solo.reports.first().map_or(Duration::ZERO, |r| r.duration);
        if time > longest.0 {
            longest = (time, report.name.clone());
        }
    }
    server.shutdown().await;
    println!(
        "latency 25 ms: {} scenarios, --jobs {} (default): suite {:.2} s; longest scenario alone {:.2} s ({})",
        suite.reports.len(),
        suite.jobs,
        suite.wall.as_secs_f64(),
        longest.0.as_secs_f64(),
        longest.1
    );
    println!(
        "ratio suite-wall/longest-scenario at 25 ms: {:.2}",
        suite.wall.as_secs_f64() / longest.0.as_secs_f64()
    );
    Ok(())
}

async fn throttle(scenarios: &[Arc<Scenario>]) -> BenchResult {
    const TPS: u32 = 50;
    let server = Server::start(ServeConfig { throttle_tps: Some(TPS), ..ServeConfig::default() }).await?;
    let suite = run(&server.url(), &[], scenarios).await?;
    server.shutdown().await;
    all_passed(&suite)?;
    if suite.throttled_out > 0 {
        return Err(format!("{} calls were still throttled after every attempt", suite.throttled_out).into());
    }
    let rate = suite.answered as f64 / suite.wall.as_secs_f64();
    println!(
        "throttle {TPS} tps: {} scenarios, --jobs {} (default): {} calls answered in {:.2} s = {rate:.1} calls/s; \
         {} retries ({} throttled), 0 throttled to the end; quota taken as {}",
        suite.reports.len(),
        suite.jobs,
        suite.answered,
        suite.wall.as_secs_f64(),
        suite.retries,
        suite.throttled,
        if suite.shared_quota { "shared by every operation" } else { "per operation" }
    );
    println!("ratio effective-rate/throttle at {TPS} tps: {:.2}", rate / f64::from(TPS));
    Ok(())
}

fn main() -> BenchResult {
    let selector = Selector::new(Vec::new(), Vec::new(), false, &[])?;
    let scenarios = select_suite(&Source::resolve(None), &selector)?.scenarios;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    // `cargo bench --bench remote -- throttle` (or `latency`) runs one measurement.
    let only: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let wanted = |name: &str| only.is_empty() || only.iter().any(|o| o == name);
    runtime.block_on(async {
        if wanted("latency") {
            latency(&scenarios).await?;
        }
        if wanted("throttle") {
            throttle(&scenarios).await?;
        }
        Ok(())
    })
}

//! `cargo bench --bench fuzz`: how fast the fuzzer checks calls.
//!
//! Prints, for one fixed set of generated cases (seed 1, default weights, 15% invalid):
//! the cost of each stage of a case (generate + YAML, load, run), checked calls per
//! second with the model alone (the built-in emulator's core in-process, judged by a
//! second model: no HTTP, no SDK), and against the built-in emulator over loopback
//! through the SDK — the two figures `rekcon fuzz --target model` and `rekcon fuzz`
//! reach. Targets: 50,000/s model-only, 2,000/s over loopback (release, 2 cores).
//! `cargo bench --bench fuzz -- model` measures the stages and the model alone only.

/// The same allocator as the `rekcon` binary, so the figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use rekcon::fuzz::case::CaseRunner;
use rekcon::fuzz::exec::{EndpointExecutor, Executor, InProcessExecutor};
use rekcon::fuzz::generate::{Draw, Fixture, GenConfig, case_strategy, generate, to_yaml};
use rekcon::runner;
use rekcon::scenario::Loader;
use rekcon::serve::ServeConfig;

/// Cases per measurement.
const CASES: usize = 400;

fn cases(root: &std::path::Path) -> (Vec<Vec<Draw>>, GenConfig) {
    let fixtures = Fixture::load_dir(&root.join("images")).expect("fixture images");
    let mut runner =
        TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &[1; 32]));
    let strategy = case_strategy(0.15, 30);
    let draws = (0..CASES).map(|_| strategy.new_tree(&mut runner).expect("a case").current()).collect();
    (draws, GenConfig { fixtures })
}

fn per_case(total: Duration) -> String {
    format!("{:>8.1} µs/case", total.as_secs_f64() * 1e6 / CASES as f64)
}

/// Runs every case through `runner`, a batch per round of lanes; returns (checked
/// calls, wall time).
fn run_all(runner: &mut CaseRunner, draws: &[Vec<Draw>]) -> (u64, Duration) {
    let started = Instant::now();
    let mut calls = 0;
    let batch = runner.lanes() * 4;
    for result in draws.chunks(batch).flat_map(|chunk| runner.run_batch(chunk)) {
        assert!(
            matches!(result.verdict, rekcon::fuzz::case::CaseVerdict::Pass),
            "the unmutated emulator must conform: {:?}\n{}",
            result.verdict,
            result.yaml
        );
        calls += result.checked_calls;
    }
    (calls, started.elapsed())
}

/// Rounds of the model-alone measurement; the machines are noisy, so the median is reported.
const ROUNDS: usize = 7;

/// Checked calls per second with the model alone, one per round, sorted: every case run
/// in-process, split over `lanes` threads with an executor each (as `rekcon fuzz
/// --target model --jobs N` splits cases), calls only (no generation or parsing).
fn model_alone(scenarios: &[rekcon::scenario::Scenario], lanes: usize) -> Vec<f64> {
    let mut rates: Vec<f64> = (0..ROUNDS)
        .map(|round| {
            let share = scenarios.len().div_ceil(lanes);
            let started = Instant::now();
            let calls: u64 = std::thread::scope(|scope| {
                let workers: Vec<_> = scenarios
                    .chunks(share)
                    .enumerate()
                    .map(|(lane, chunk)| {
                        scope.spawn(move || {
                            let run_id = format!("r{round}l{lane}");
                            let mut executor =
                                InProcessExecutor::new(&ServeConfig::default(), &run_id, false);
                            chunk
                                .iter()
                                .enumerate()
                                .map(|(i, s)| {
                                    let report = executor.run(i + 1, s);
                                    assert!(
                                        matches!(report.verdict, rekcon::report::Verdict::Pass),
                                        "the unmutated emulator must conform: {:?}",
                                        report.verdict
                                    );
                                    report.records.iter().map(|r| 1 + r.settle_polls as u64).sum::<u64>()
                                })
                                .sum::<u64>()
                        })
                    })
                    .collect();
                workers.into_iter().map(|w| w.join().expect("lane")).sum()
            });
            calls as f64 / started.elapsed().as_secs_f64()
        })
        .collect();
    rates.sort_by(f64::total_cmp);
    rates
}

fn main() {
    let root: PathBuf = runner::crate_scenarios_root();
    let (draws, gen_config) = cases(&root);

    let started = Instant::now();
    let yamls: Vec<String> = draws.iter().map(|d| to_yaml(&generate(d, &gen_config), "bench")).collect();
    let generating = started.elapsed();
    let mut loader = Loader::new(&root);
    let started = Instant::now();
    let scenarios: Vec<_> = yamls
        .iter()
        .enumerate()
        .map(|(i, y)| {
            loader.parse(&format!("fuzz/b{i}"), &root.join("fuzz/b.yaml"), y).expect("generated cases load")
        })
        .collect();
    let loading = started.elapsed();
    let mut executor = InProcessExecutor::new(&ServeConfig::default(), "bench000", false);
    let started = Instant::now();
    let mut model_calls = 0u64;
    let mut by_operation: std::collections::BTreeMap<String, (u64, Duration)> = Default::default();
    for (i, s) in scenarios.iter().enumerate() {
        let report = executor.run(i + 1, s);
        model_calls += report.records.iter().map(|r| 1 + r.settle_polls as u64).sum::<u64>();
        for r in &report.records {
            let name = r.call_name();
            let name =
                if rekcon::api::Operation::from_name(name).is_some() { name } else { "(unknown targets)" };
            let entry = by_operation.entry(name.to_string()).or_default();
            entry.0 += 1;
            entry.1 += r.duration;
        }
    }
    let executing = started.elapsed();
    println!("stages of a case ({CASES} cases, {model_calls} calls):");
    println!("  generate + write YAML  {}", per_case(generating));
    println!("  load (scenario parser) {}", per_case(loading));
    println!("  run in-process + check {}", per_case(executing));
    println!("  per operation in-process (calls, mean µs, share of call time):");
    let call_time: Duration = by_operation.values().map(|(_, d)| *d).sum();
    let mut rows: Vec<_> = by_operation.into_iter().collect();
    rows.sort_by_key(|row| std::cmp::Reverse(row.1.1));
    for (op, (n, d)) in rows {
        println!(
            "    {op:<32} {n:>6} {:>9.1} {:>5.1}%",
            d.as_secs_f64() * 1e6 / n as f64,
            100.0 * d.as_secs_f64() / call_time.as_secs_f64()
        );
    }
    println!(
        "model alone, calls only, first round:       {:>9.0} checked calls/s",
        model_calls as f64 / executing.as_secs_f64()
    );
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    for lanes in [1, cores] {
        let rates = model_alone(&scenarios, lanes);
        println!(
            "model alone, calls only, {lanes} lane(s), {ROUNDS} rounds: median {:>9.0} checked calls/s (slowest {:.0}, fastest {:.0})",
            rates[rates.len() / 2],
            rates[0],
            rates[rates.len() - 1]
        );
    }
    // `cargo bench --bench fuzz -- model` stops here: the stage to profile when the
    // model is slow (for example under `valgrind --tool=callgrind`).
    if std::env::args().skip(1).any(|a| a == "model") {
        return;
    }

    for (wire, label) in [(false, "rekcon fuzz --target model"), (true, "rekcon fuzz --target wire")] {
        for jobs in [1, cores] {
            let executors: Vec<Box<dyn Executor + Send>> = (0..jobs)
                .map(|_| {
                    Box::new(InProcessExecutor::new(&ServeConfig::default(), "bench001", wire))
                        as Box<dyn Executor + Send>
                })
                .collect();
            let mut in_process = CaseRunner::with_lanes(executors, &root, gen_config.clone());
            let (calls, took) = run_all(&mut in_process, &draws);
            println!(
                "whole cases in-process ({label} --jobs {jobs}): {:>9.0} checked calls/s ({calls} calls in {:.2} s)",
                calls as f64 / took.as_secs_f64(),
                took.as_secs_f64()
            );
        }
    }

    // As `rekcon fuzz` does by default: twice the cores' cases at once over HTTP.
    let jobs = (cores * 2).min(8);
    let lanes = EndpointExecutor::built_in_lanes(&ServeConfig::default(), jobs).expect("emulator and client");
    let executors = lanes.into_iter().map(|e| Box::new(e) as Box<dyn Executor + Send>).collect();
    let mut over_http = CaseRunner::with_lanes(executors, &root, gen_config);
    let (calls, took) = run_all(&mut over_http, &draws);
    println!(
        "built-in emulator over loopback (rekcon fuzz --jobs {jobs}): {:>9.0} checked calls/s ({calls} calls in {:.2} s)",
        calls as f64 / took.as_secs_f64(),
        took.as_secs_f64()
    );
    over_http.finish();
}

//! `cargo bench --bench fuzz`: how fast the fuzzer checks calls, against what the
//! parts beneath it can do.
//!
//! Prints, for one fixed set of generated cases (seed 1, default weights, 15% invalid):
//! the cost of each stage of a case (generate, build the scenario, run; and the YAML a
//! finding is written as, for comparison), and two pairs, each measured side by side in
//! rounds that alternate, so the machine's noise falls on both sides alike (medians):
//!
//! - whole cases in-process as `rekcon fuzz --target model --jobs <cores>` runs them
//!   (generation, building, calls) against the model alone (the same cases' calls
//!   only, preloaded): `ratio whole-cases/model-alone`;
//! - the fuzzer over loopback through the SDK (`rekcon fuzz`, `--jobs 4`) against the
//!   capacity of the same in-process emulator: 8 concurrent SDK clients calling
//!   ListCollections as fast as it answers: `ratio fuzz-loopback/emulator-capacity`.
//!
//! `cargo bench --bench fuzz -- model` stops after the in-process figures;
//! `cargo bench --bench fuzz -- loopback` measures only the loopback pair.

/// The same allocator as the `rekcon` binary, so the figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "support/sdk.rs"]
mod sdk;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use rekcon::fuzz::case::CaseRunner;
use rekcon::fuzz::drive::{self, DriveConfig};
use rekcon::fuzz::exec::{EndpointExecutor, Executor, InProcessExecutor};
use rekcon::fuzz::generate::{Draw, Fixture, GenConfig, case_strategy, generate, to_document, to_yaml};
use rekcon::runner;
use rekcon::scenario::Loader;
use rekcon::serve::ServeConfig;

/// Cases per measurement.
const CASES: usize = 400;

/// The seed of the cases: `rekcon fuzz --seed 1`.
const SEED: u64 = 1;

/// The cases `rekcon fuzz --seed 1 --cases 400` explores, drawn as [`drive::drive`] draws
/// them, so the model-alone side runs the very cases the fuzzer does.
fn cases(root: &std::path::Path) -> (Vec<Vec<Draw>>, GenConfig) {
    let fixtures = Fixture::load_dir(&root.join("images")).expect("fixture images");
    let defaults = DriveConfig::default();
    let config = Config { cases: CASES as u32, failure_persistence: None, ..Config::default() };
    let seed = defaults.partition.worker_seed(SEED);
    let mut runner = TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
    let strategy = case_strategy(defaults.invalid_share, defaults.max_steps);
    let draws = (0..CASES).map(|_| strategy.new_tree(&mut runner).expect("a case").current()).collect();
    (draws, GenConfig { fixtures })
}

fn per_case(total: Duration) -> String {
    format!("{:>8.1} µs/case", total.as_secs_f64() * 1e6 / CASES as f64)
}

/// Explores the cases of [`cases`] as `rekcon fuzz --seed 1 --cases 400` does
/// ([`drive::drive`]: batches, coverage, verdicts); returns (checked calls, wall time).
fn fuzz(runner: &mut CaseRunner) -> (u64, Duration) {
    let config = DriveConfig { seed: SEED, cases: CASES as u32, ..DriveConfig::default() };
    let outcome = drive::drive(runner, &config, &drive::Silent);
    assert!(
        outcome.findings.is_empty() && outcome.generator_bugs.is_empty() && outcome.cases == CASES as u64,
        "the unmutated emulator must conform, and every case run: {outcome:?}"
    );
    (outcome.checked_calls, outcome.elapsed)
}

/// Rounds of each in-process measurement; the machines are noisy, so the median is reported.
const ROUNDS: usize = 7;
/// Rounds of each loopback measurement.
const LOOPBACK_ROUNDS: usize = 3;

/// Checked calls per second with the model alone: every case run in-process, split over
/// `lanes` threads with an executor each (as `rekcon fuzz --target model --jobs N` splits
/// cases), calls only (no generation or building).
fn model_alone(scenarios: &[rekcon::scenario::Scenario], lanes: usize, round: usize) -> f64 {
    let share = scenarios.len().div_ceil(lanes);
    let started = Instant::now();
    let calls: u64 = std::thread::scope(|scope| {
        let workers: Vec<_> = scenarios
            .chunks(share)
            .enumerate()
            .map(|(lane, chunk)| {
                scope.spawn(move || {
                    let run_id = format!("r{round}l{lane}");
                    let mut executor = InProcessExecutor::new(&ServeConfig::default(), &run_id, false);
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
}

/// The median of `rates` (sorted in place), with the slowest and fastest.
fn median(rates: &mut [f64]) -> (f64, f64, f64) {
    rates.sort_by(f64::total_cmp);
    (rates[rates.len() / 2], rates[0], rates[rates.len() - 1])
}

fn show(rates: &mut [f64]) -> String {
    let (median, slowest, fastest) = median(rates);
    format!("median {median:>9.0} checked calls/s (slowest {slowest:.0}, fastest {fastest:.0})")
}

/// Requests per second the emulator at `url` answers to 8 concurrent SDK clients calling
/// ListCollections (over 20 collections, as `cargo bench --bench emulator`) for `secs`.
fn capacity(handle: &tokio::runtime::Handle, url: &str, secs: Duration) -> f64 {
    let client = sdk::client(url);
    handle.block_on(async {
        let ids: Vec<String> = (0..20).map(|i| format!("bench-capacity-{i}")).collect();
        for id in &ids {
            client.create_collection().collection_id(id).send().await.expect("a collection");
        }
        let clients: Vec<_> = (0..8).map(|_| client.clone()).collect();
        // Warm the connections.
        for c in &clients {
            c.list_collections().send().await.expect("an answer");
        }
        let started = Instant::now();
        let tasks: Vec<_> = clients
            .into_iter()
            .map(|c| {
                tokio::spawn(async move {
                    let mut n = 0u64;
                    while started.elapsed() < secs {
                        c.list_collections().send().await.expect("an answer");
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        let mut total = 0;
        for t in tasks {
            total += t.await.expect("a client");
        }
        let rate = total as f64 / started.elapsed().as_secs_f64();
        for id in &ids {
            client.delete_collection().collection_id(id).send().await.expect("deleted");
        }
        rate
    })
}

/// Whether the bench was given `name` (`cargo bench --bench fuzz -- name`).
fn argument(name: &str) -> bool {
    std::env::args().skip(1).any(|a| a == name)
}

/// The in-process figures: the stages of a case, the model alone and whole cases.
fn in_process(root: &std::path::Path, draws: &[Vec<Draw>], gen_config: &GenConfig, cores: usize) {
    let started = Instant::now();
    let generated: Vec<_> = draws.iter().map(|d| generate(d, gen_config)).collect();
    let generating = started.elapsed();
    let mut loader = Loader::new(root);
    let path = root.join("fuzz/b.yaml");
    let started = Instant::now();
    let scenarios: Vec<_> = generated
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let (document, steps_at) = to_document(g, "bench");
            loader.build(&format!("fuzz/b{i}"), &path, &document, &steps_at).expect("generated cases load")
        })
        .collect();
    let building = started.elapsed();
    let started = Instant::now();
    for (i, g) in generated.iter().enumerate() {
        loader.parse(&format!("fuzz/b{i}"), &path, &to_yaml(g, "bench")).expect("their YAML loads");
    }
    let yaml = started.elapsed();
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
    println!("  generate                         {}", per_case(generating));
    println!("  build the scenario (no YAML)     {}", per_case(building));
    println!("  run in-process + check           {}", per_case(executing));
    println!("  (write YAML + parse it, findings only) {}", per_case(yaml));
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
    let mut one_lane: Vec<f64> = (0..ROUNDS).map(|round| model_alone(&scenarios, 1, round)).collect();
    println!("model alone, calls only, 1 lane, {ROUNDS} rounds: {}", show(&mut one_lane));

    // The first pair, round by round: the model alone, then whole cases.
    let executors: Vec<Box<dyn Executor + Send>> = (0..cores)
        .map(|_| {
            Box::new(InProcessExecutor::new(&ServeConfig::default(), "bench001", false))
                as Box<dyn Executor + Send>
        })
        .collect();
    let mut whole = CaseRunner::with_lanes(executors, root, gen_config.clone());
    let (mut alone, mut cases_rates) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        alone.push(model_alone(&scenarios, cores, 100 + round));
        let (calls, took) = fuzz(&mut whole);
        assert_eq!(calls, model_calls, "the fuzzer ran the cases the model alone ran");
        cases_rates.push(calls as f64 / took.as_secs_f64());
    }
    let (alone_median, cases_median) = (median(&mut alone).0, median(&mut cases_rates).0);
    println!("model alone, calls only, {cores} lanes, {ROUNDS} rounds: {}", show(&mut alone));
    println!(
        "whole cases in-process (rekcon fuzz --target model --jobs {cores}), {ROUNDS} rounds: {}",
        show(&mut cases_rates)
    );
    println!("ratio whole-cases/model-alone: {:.2}", cases_median / alone_median);

    let executors: Vec<Box<dyn Executor + Send>> = (0..cores)
        .map(|_| {
            Box::new(InProcessExecutor::new(&ServeConfig::default(), "bench002", true))
                as Box<dyn Executor + Send>
        })
        .collect();
    let (calls, took) = fuzz(&mut CaseRunner::with_lanes(executors, root, gen_config.clone()));
    println!(
        "whole cases in-process (rekcon fuzz --target wire --jobs {cores}): {:>9.0} checked calls/s",
        calls as f64 / took.as_secs_f64()
    );
}

fn main() {
    let root: PathBuf = runner::crate_scenarios_root();
    let (draws, gen_config) = cases(&root);

    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    // `cargo bench --bench fuzz -- loopback` measures the loopback pair alone: the
    // stage to profile when the fuzzer is slow over HTTP.
    if !argument("loopback") {
        in_process(&root, &draws, &gen_config, cores);
        // `cargo bench --bench fuzz -- model` stops here: the stage to profile when the
        // model is slow (for example under `valgrind --tool=callgrind`).
        if argument("model") {
            return;
        }
    }

    // The second pair, round by round, against one emulator on one runtime: its capacity
    // for 8 SDK clients, then the fuzzer as `rekcon fuzz` runs by default (twice the
    // cores' cases at once, at most 8).
    let jobs = (cores * 2).min(8);
    let lanes = EndpointExecutor::built_in_lanes(&ServeConfig::default(), jobs).expect("emulator and client");
    let (handle, url) =
        (lanes[0].runtime(), lanes[0].emulator_url().expect("the first lane holds the emulator"));
    let executors = lanes.into_iter().map(|e| Box::new(e) as Box<dyn Executor + Send>).collect();
    let mut over_http = CaseRunner::with_lanes(executors, &root, gen_config);
    let (mut capacities, mut fuzz_rates) = (Vec::new(), Vec::new());
    for _ in 0..LOOPBACK_ROUNDS {
        let (calls, took) = fuzz(&mut over_http);
        fuzz_rates.push(calls as f64 / took.as_secs_f64());
        capacities.push(capacity(&handle, &url, took.max(Duration::from_secs(1))));
    }
    let (capacity_median, fuzz_median) = (median(&mut capacities).0, median(&mut fuzz_rates).0);
    let (c, slowest, fastest) = median(&mut capacities);
    println!(
        "emulator capacity, 8 SDK clients (ListCollections), {LOOPBACK_ROUNDS} rounds: median {c:>9.0} req/s (slowest {slowest:.0}, fastest {fastest:.0})"
    );
    println!(
        "fuzzer over loopback (rekcon fuzz --jobs {jobs}), {LOOPBACK_ROUNDS} rounds: {}",
        show(&mut fuzz_rates)
    );
    println!("ratio fuzz-loopback/emulator-capacity: {:.2}", fuzz_median / capacity_median);
    over_http.finish();
}

//! `rekcon fuzz` and `rekcon fuzz merge`: options, validation, wiring the pieces, the
//! progress bar and the exit code. The only part of the fuzzer that prints.

use std::path::{Path, PathBuf};
use std::time::Duration;

use indicatif::ProgressBar;

use super::case::CaseRunner;
use super::drive::{self, DriveConfig, Partition, Progress, Stats};
use super::exec::{EndpointExecutor, Executor, InProcessExecutor, check_in_process};
use super::generate::{Fixture, GenConfig};
use super::merge::merge;
use super::report::{self, FuzzReport, ReplayContext, RunDescription};
use crate::config::{EndpointChoice, RunConfig, parse_duration, redact_url, resolve_endpoint};
use crate::error::Error;
use crate::interrupt::Interrupts;
use crate::model::ModelConfig;
use crate::report::{EXIT_BAD_INPUT, EXIT_CONFORM, EXIT_INTERRUPTED, EXIT_NO_ANSWER, Repro};
use crate::runner::{RunSettings, Runner};
use crate::serve::cli::parse_mutant;
use crate::serve::{Mutant, ServeConfig, Server};
use crate::target::Target;

/// Environment variables that name an endpoint, after `--endpoint-url` (as `rekcon run`).
/// `rekcon fuzz`: generate call sequences, check every call, shrink what diverges.
#[derive(Debug, Clone, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct FuzzCommand {
    /// `merge`: join the JSON reports of `--partition` workers.
    #[command(subcommand)]
    pub action: Option<FuzzAction>,
    /// Options of a fuzz run.
    #[command(flatten)]
    pub args: FuzzArgs,
}

/// Subcommands of `rekcon fuzz`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum FuzzAction {
    /// Merge the JSON reports of `--partition` workers into one (sums cases and calls,
    /// unites findings, merges coverage).
    Merge(MergeArgs),
}

/// `rekcon fuzz merge` options.
#[derive(Debug, Clone, clap::Args)]
pub struct MergeArgs {
    /// Worker reports written with `rekcon fuzz --json`.
    #[arg(required = true, value_name = "REPORT.json")]
    pub reports: Vec<PathBuf>,
    /// Write the merged report here.
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
}

/// Where generated calls go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TargetKind {
    /// Over HTTP through the AWS SDK: the built-in emulator, `--endpoint-url`, or `--aws`.
    Http,
    /// The built-in emulator's core in-process, answers rendered to bytes and read back
    /// through the wire checks: no HTTP, no SDK.
    Wire,
    /// The built-in emulator's core in-process, its outcomes judged by the model alone:
    /// no HTTP, no SDK, no wire (wire-format bugs go unseen; the fastest).
    Model,
}

/// `rekcon fuzz` options.
#[derive(Debug, Clone, clap::Args)]
pub struct FuzzArgs {
    /// Narrow the model to what recordings of AWS settled (docs/settlements.md);
    /// default: settlements.yaml in the scenarios folder, when there is one.
    #[arg(long, value_name = "FILE")]
    pub settlements: Option<PathBuf>,
    /// Cases to explore (shrinking and confirming a divergence come on top). Default 200,
    /// or no case limit when --time is given; with both, whichever is spent first ends the run.
    #[arg(long, value_name = "N")]
    pub cases: Option<u32>,
    /// Most calls per case.
    #[arg(long, default_value_t = 30, value_name = "N")]
    pub max_steps: usize,
    /// Stop starting new cases after this long (e.g. 60, 60s, 2m).
    #[arg(long, value_name = "SECONDS", value_parser = parse_duration)]
    pub time: Option<Duration>,
    /// Seed of the run; the same seed (and partition) repeats the run exactly. Random when absent.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Worker K of N: workers of one seed explore disjoint cases; merge their --json reports.
    #[arg(long, default_value = "1/1", value_name = "K/N")]
    pub partition: Partition,
    /// Share of calls that break a constraint of the contract, 0 to 1.
    #[arg(long, default_value_t = 0.15, value_name = "SHARE")]
    pub invalid_share: f64,
    /// Cases run at the same time (default: twice the CPU cores against the built-in
    /// emulator over HTTP, the cores in-process, at most 8; 128 against an endpoint URL;
    /// 1 against real AWS). Shrinking runs one case at a time.
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// Stop after this many distinct divergences (0: explore the whole budget).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub max_findings: usize,
    /// Write the JSON report here (format_version 3).
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
    /// Write a JUnit XML report here: a failing test case per finding, one for the campaign.
    #[arg(long, value_name = "PATH")]
    pub junit: Option<PathBuf>,
    /// A known-divergence baseline (`rekcon run --write-baseline`): cases failing with a
    /// cause it lists are counted as repeats and not shrunk again.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Where minimal failing cases are written as scenarios (default: SCENARIOS/regressions).
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// The scenarios folder (its `images/` holds the fixture images cases send).
    #[arg(long, value_name = "DIR", default_value = "scenarios")]
    pub scenarios: PathBuf,
    /// `http` (default): calls go over HTTP through the SDK; `wire`: the built-in emulator's
    /// core in-process, checked on its bytes; `model`: its outcomes judged by the model alone.
    #[arg(long, value_enum, default_value = "http")]
    pub target: TargetKind,
    /// Where calls go, and with which credentials.
    #[command(flatten)]
    pub endpoint: crate::config::EndpointArgs,
    /// Longest wait for users to settle before a search (e.g. 60s, 500ms).
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub settle_timeout: Duration,
    /// Built-in emulator: plant this bug (see `rekcon serve --list-mutants`); repeat to
    /// stack several.
    #[arg(long = "mutant", value_parser = parse_mutant, value_name = "NAME")]
    pub mutants: Vec<Mutant>,
    /// Built-in emulator: milliseconds a user reads as UPDATING after a change.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub settle_ms: u64,
    /// Built-in emulator: answer ThrottlingException beyond this many requests per second.
    #[arg(long, value_name = "N")]
    pub throttle_tps: Option<u32>,
    /// Built-in emulator: probability per request of an injected fault.
    #[arg(long, default_value_t = 0.0, value_name = "P")]
    pub faults: f64,
    /// Most cases proptest tries while shrinking one divergence (a step-by-step pass follows).
    #[arg(long, default_value_t = 500, value_name = "N")]
    pub max_shrink_iters: u32,
    /// Longest time shrinking one divergence.
    #[arg(long, default_value = "60s", value_name = "DURATION", value_parser = parse_duration)]
    pub shrink_time: Duration,
    /// Request budgets: --estimate, --max-requests (required with --aws), --yes.
    #[command(flatten)]
    pub budget: crate::budget::BudgetArgs,
    /// Keep K calls in flight at once on one collection's users and faces (2 to 16), and
    /// check each group's history for linearizability against the model (over HTTP).
    #[arg(long, value_name = "K")]
    pub concurrency: Option<usize>,
    /// Replay each finding's minimal case once on this endpoint (a URL, or `aws` for real
    /// AWS, which costs money), record it, and say whose bug it is: the fuzzed endpoint's
    /// or the model's.
    #[arg(long, value_name = "URL|aws")]
    pub confirm_on: Option<String>,
    /// Most calls confirming may make (default: the printed budget).
    #[arg(long, value_name = "N", requires = "confirm_on")]
    pub confirm_cap: Option<usize>,
    /// Where confirming records its cassettes (default: SCENARIOS/confirmed).
    #[arg(long, value_name = "DIR", requires = "confirm_on")]
    pub confirm_record: Option<PathBuf>,
}

/// Runs `rekcon fuzz` (or `rekcon fuzz merge`); returns the exit code.
pub fn command(cmd: FuzzCommand) -> u8 {
    match cmd.action {
        Some(FuzzAction::Merge(args)) => merge_command(&args),
        None => fuzz_command(cmd.args),
    }
}

/// `rekcon fuzz merge`.
pub fn merge_command(args: &MergeArgs) -> u8 {
    let mut reports = Vec::new();
    for path in &args.reports {
        match FuzzReport::read_json(path) {
            Ok(r) => reports.push(r),
            Err(e) => {
                eprintln!("rekcon fuzz merge: {e}");
                return EXIT_BAD_INPUT;
            }
        }
    }
    let merged = match merge(&reports) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("rekcon fuzz merge: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    if let Some(path) = &args.json
        && let Err(e) = merged.write_json(path)
    {
        eprintln!("rekcon fuzz merge: {e}");
        return EXIT_BAD_INPUT;
    }
    if let Err(e) = crate::output::print(&merged.render()) {
        eprintln!("rekcon fuzz merge: cannot print the report: {e}");
    }
    merged.exit_code()
}

/// A validated fuzz run.
#[derive(Debug)]
struct Plan {
    budget: crate::budget::BudgetArgs,
    drive: DriveConfig,
    run: RunConfig,
    target: TargetKind,
    serve: ServeConfig,
    out_dir: PathBuf,
    json: Option<PathBuf>,
    junit: Option<PathBuf>,
    reproduce: String,
    jobs: usize,
    concurrency: Option<usize>,
    confirm: Option<super::confirm::ConfirmOn>,
}

impl Plan {
    fn from_args(args: FuzzArgs) -> Result<Plan, Error> {
        let env_endpoint = crate::config::configured_endpoint(args.endpoint.profile.as_deref())
            .filter(|(url, _)| !url.trim().is_empty());
        let endpoint = resolve_endpoint(args.endpoint.endpoint_url.clone(), env_endpoint, args.endpoint.aws)?;
        if !(0.0..=1.0).contains(&args.invalid_share) {
            return Err(Error::Config(format!(
                "--invalid-share must be in [0, 1], got {}",
                args.invalid_share
            )));
        }
        if args.cases == Some(0) || args.max_steps == 0 {
            return Err(Error::Config("--cases and --max-steps must be at least 1".into()));
        }
        if !(0.0..=1.0).contains(&args.faults) {
            return Err(Error::Config(format!(
                "--faults must be a probability in [0, 1], got {}",
                args.faults
            )));
        }
        let knobs = !args.mutants.is_empty()
            || args.settle_ms > 0
            || args.throttle_tps.is_some()
            || args.faults > 0.0;
        if knobs && endpoint != EndpointChoice::BuiltIn {
            return Err(Error::Config(
                "--mutant, --settle-ms, --throttle-tps and --faults configure the built-in emulator; \
                 they cannot be used with an endpoint"
                    .into(),
            ));
        }
        let serve = ServeConfig {
            seed: args.seed.unwrap_or(0),
            settle: Duration::from_millis(args.settle_ms),
            throttle_tps: args.throttle_tps,
            faults: args.faults,
            mutants: args.mutants.clone(),
            ..ServeConfig::default()
        };
        if args.target == TargetKind::Model {
            if endpoint != EndpointChoice::BuiltIn {
                return Err(Error::Config(
                    "--target model runs the built-in emulator in-process; drop the endpoint".into(),
                ));
            }
            check_in_process(&serve)?;
        }
        if !args.scenarios.join(crate::scenario::IMAGES_DIR).is_dir() {
            return Err(Error::Config(format!(
                "{} has no images/ folder: --scenarios must name the scenarios folder whose images/ holds the fixtures \
                 (outside a checkout, `rekcon scenarios export scenarios` writes the built-in suite's)",
                args.scenarios.display()
            )));
        }
        let out_dir = args.out_dir.clone().unwrap_or_else(|| args.scenarios.join("regressions"));
        if !inside(&out_dir, &args.scenarios) {
            return Err(Error::Config(format!(
                "--out-dir {} must be inside --scenarios {}, so `rekcon run` finds the regression and its images",
                out_dir.display(),
                args.scenarios.display()
            )));
        }
        let seed = args.seed.unwrap_or_else(random_seed);
        let serve = ServeConfig { seed, ..serve };
        let drive = DriveConfig {
            seed,
            partition: args.partition,
            cases: case_budget(args.cases, args.time),
            max_steps: args.max_steps,
            invalid_share: args.invalid_share,
            time: args.time,
            max_findings: args.max_findings,
            max_shrink_iters: args.max_shrink_iters,
            max_shrink_time: args.shrink_time,
            confirm_runs: 3,
            // Set by the Ctrl-C watcher once the run starts.
            interrupt: None,
            known: match &args.baseline {
                Some(path) => crate::report::baseline::Baseline::read(path)?
                    .causes
                    .into_iter()
                    .map(|entry| entry.signature)
                    .collect(),
                None => std::collections::BTreeSet::new(),
            },
        };
        let run = RunConfig {
            endpoint,
            region: args.endpoint.region.clone(),
            profile: args.endpoint.profile.clone(),
            aws: args.endpoint.aws,
            scenarios: args.scenarios.clone(),
            filters: Vec::new(),
            tags: Vec::new(),
            jobs: 1,
            settle_timeout: args.settle_timeout,
            json: None,
            junit: None,
            reports: crate::config::ReportArgs::default(),
            mutants: args.mutants.clone(),
            faces: crate::model::FaceSource::Catalogue,
            detector: crate::serve::Detector::Marker,
            record: None,
            against: None,
            settlements: crate::settle::for_run(args.settlements.as_deref(), &args.scenarios)
                .map_err(|e| Error::Config(e.to_string()))?
                .map(std::sync::Arc::new),
        };
        if args.jobs == Some(0) {
            return Err(Error::Config("--jobs must be at least 1".into()));
        }
        // Over HTTP a case mostly waits for answers, so twice the cores keep the built-in
        // emulator busy; an endpoint URL gets the remote default, paced by the rate
        // limiter; in-process, one case per core. Real AWS bills every call: one at a time.
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let jobs = args.jobs.unwrap_or(match args.target {
            _ if run.target(None).is_aws() => 1,
            _ if run.endpoint != EndpointChoice::BuiltIn => run.endpoint.default_jobs(),
            TargetKind::Http => (cores * 2).min(8),
            _ => cores.min(8),
        });
        if run.target(None).is_aws() && args.budget.max_requests.is_none() && !args.budget.estimate {
            return Err(Error::Config(
                "rekcon fuzz against real AWS needs --max-requests N: a campaign's calls are drawn as it \
                 runs, and every one may cost money (--estimate prints the case budget's bound)"
                    .into(),
            ));
        }
        if let Some(k) = args.concurrency {
            if !(2..=16).contains(&k) {
                return Err(Error::Config(format!("--concurrency must be 2 to 16 calls at once, got {k}")));
            }
            if args.target != TargetKind::Http {
                return Err(Error::Config(
                    "--concurrency sends calls at once over HTTP: drop --target".into(),
                ));
            }
            if args.baseline.is_some() || args.partition.count > 1 {
                return Err(Error::Config(
                    "--concurrency writes text, --json and --junit reports; --baseline and --partition are \
                     not supported with it yet"
                        .into(),
                ));
            }
        }
        let reproduce = reproduce_run(&args, seed, &run);
        let confirm = args.confirm_on.as_deref().map(|on| super::confirm::ConfirmOn {
            run: RunConfig {
                endpoint: if on == "aws" {
                    EndpointChoice::Aws
                } else {
                    EndpointChoice::Url { url: on.to_string(), source: "--confirm-on" }
                },
                aws: on == "aws",
                mutants: Vec::new(),
                ..run.clone()
            },
            root: args.scenarios.clone(),
            record: args.confirm_record.clone().unwrap_or_else(|| args.scenarios.join("confirmed")),
            cap: args.confirm_cap,
        });
        Ok(Plan {
            budget: args.budget.clone(),
            drive,
            run,
            target: args.target,
            serve,
            out_dir,
            json: args.json,
            junit: args.junit,
            reproduce,
            jobs,
            concurrency: args.concurrency,
            confirm,
        })
    }

    /// How `rekcon run` replays a regression against what this run fuzzed: the same
    /// endpoint flags, and the same planted bug in the built-in emulator.
    fn replay(&self) -> ReplayContext {
        match self.run.repro() {
            Repro::Cli { flags } => ReplayContext { flags },
            Repro::CargoTest { .. } => ReplayContext::default(),
        }
    }
}

/// Whether `path` lies inside `root` (lexically, both made absolute).
fn inside(path: &Path, root: &Path) -> bool {
    let absolute = |p: &Path| -> PathBuf {
        let p = if p.is_absolute() {
            p.to_path_buf()
        } else {
            std::env::current_dir().unwrap_or_default().join(p)
        };
        let mut out = PathBuf::new();
        for c in p.components() {
            match c {
                std::path::Component::ParentDir => {
                    out.pop();
                }
                std::path::Component::CurDir => {}
                other => out.push(other),
            }
        }
        out
    };
    let (path, root) = (absolute(path), absolute(root));
    path != root && path.starts_with(&root)
}

/// The cases a run explores: `--cases`; else none limit a `--time` run; else the default.
fn case_budget(cases: Option<u32>, time: Option<Duration>) -> u32 {
    match (cases, time) {
        (Some(n), _) => n,
        (None, Some(_)) => drive::NO_CASE_LIMIT,
        (None, None) => drive::DEFAULT_CASES,
    }
}

fn random_seed() -> u64 {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    u64::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7]])
        % 1_000_000_000
}

/// The command that repeats this run exactly.
fn reproduce_run(args: &FuzzArgs, seed: u64, run: &RunConfig) -> String {
    let mut cmd = format!("rekcon fuzz --seed {seed} --partition {}", args.partition);
    // A time-only run is repeated by its time budget, not by a case count.
    if let Some(n) = args.cases.or(args.time.is_none().then_some(drive::DEFAULT_CASES)) {
        cmd.push_str(&format!(" --cases {n}"));
    }
    cmd.push_str(&format!(" --max-steps {} --invalid-share {}", args.max_steps, args.invalid_share));
    if let Some(t) = args.time {
        cmd.push_str(&format!(" --time {}", t.as_secs_f64()));
    }
    if args.max_findings > 0 {
        cmd.push_str(&format!(" --max-findings {}", args.max_findings));
    }
    if let Some(k) = args.concurrency {
        cmd.push_str(&format!(" --concurrency {k}"));
    }
    match args.target {
        TargetKind::Http => {}
        TargetKind::Wire => cmd.push_str(" --target wire"),
        TargetKind::Model => cmd.push_str(" --target model"),
    }
    for m in &args.mutants {
        cmd.push_str(&format!(" --mutant {}", m.name()));
    }
    if args.settle_ms > 0 {
        cmd.push_str(&format!(" --settle-ms {}", args.settle_ms));
    }
    if let Some(tps) = args.throttle_tps {
        cmd.push_str(&format!(" --throttle-tps {tps}"));
    }
    if args.faults > 0.0 {
        cmd.push_str(&format!(" --faults {}", args.faults));
    }
    if args.scenarios != Path::new("scenarios") {
        cmd.push_str(&format!(" --scenarios {}", args.scenarios.display()));
    }
    if let EndpointChoice::Url { url, .. } = &run.endpoint {
        cmd.push_str(&format!(" --endpoint-url {}", redact_url(url)));
    }
    if let Some(region) = &run.region {
        cmd.push_str(&format!(" --region {region}"));
    }
    if run.aws {
        cmd.push_str(" --aws");
    }
    cmd
}

/// The progress bar: cases done, checked calls per second, divergences. Hidden when
/// stderr is not a terminal.
struct Bar(ProgressBar);

impl Bar {
    fn new(cases: u32) -> Bar {
        // A run only its time budget ends has no length: the bar then counts cases.
        let len = (cases != drive::NO_CASE_LIMIT).then_some(u64::from(cases));
        Bar(crate::progress::bar(len.unwrap_or(0), "cases"))
    }
}

impl Progress for Bar {
    fn update(&self, stats: &Stats) {
        self.0.set_position(stats.cases);
        let rate = stats.checked_calls as f64 / stats.elapsed.as_secs_f64().max(1e-9);
        let state = match stats.shrinking {
            Some(steps) => format!(" · shrinking a divergence ({steps} steps)"),
            None => String::new(),
        };
        self.0.set_message(format!("{rate:.0} calls/s · {} divergences{state}", stats.findings));
    }
}

/// `rekcon fuzz`.
pub fn fuzz_command(args: FuzzArgs) -> u8 {
    let mut plan = match Plan::from_args(args) {
        Ok(plan) => plan,
        Err(e) => {
            eprintln!("rekcon fuzz: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let estimate = crate::budget::Estimate::of_fuzz(plan.drive.cases, plan.drive.max_steps);
    if plan.budget.estimate {
        if let Err(e) = crate::output::print(&estimate.render(plan.budget.max_requests)) {
            eprintln!("rekcon fuzz: cannot print the estimate: {e}");
        }
        return EXIT_CONFORM;
    }
    if plan.run.target(None).is_aws() {
        eprint!("rekcon fuzz: {}", estimate.render(plan.budget.max_requests));
        if let Err(refusal) =
            crate::budget::confirm(estimate.capped(plan.budget.max_requests), plan.budget.yes)
        {
            eprintln!("rekcon fuzz: {refusal}");
            return EXIT_BAD_INPUT;
        }
    }
    // Watched from before anything is created on the endpoint to the end of the report.
    let interrupts = watch_signals();
    plan.drive.interrupt = Some(interrupts.flag());
    eprintln!(
        "rekcon fuzz: seed {} partition {} (repeat with: {})",
        plan.drive.seed, plan.drive.partition, plan.reproduce
    );
    if let Some(concurrency) = plan.concurrency {
        return concurrency_command(&plan, concurrency, &interrupts);
    }
    let fixtures = match Fixture::load_dir(&plan.run.scenarios.join(crate::scenario::IMAGES_DIR)) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("rekcon fuzz: cannot read the fixture images: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let (executors, target) = match executors(&plan) {
        Ok(built) => built,
        Err(e) => {
            eprintln!("rekcon fuzz: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    if let Some(settlements) = &plan.run.settlements {
        eprint!("rekcon fuzz: {}", settlements.describe());
    }
    let mut runner = CaseRunner::with_lanes(executors, &plan.run.scenarios, GenConfig { fixtures });
    let bar = Bar::new(plan.drive.cases);
    let outcome = drive::drive(&mut runner, &plan.drive, &bar);
    bar.0.finish_and_clear();
    let cleanup = runner.finish();
    if !cleanup.failed.is_empty() {
        eprintln!("rekcon fuzz: could not delete collections: {}", cleanup.failed.join(", "));
    }
    let description = RunDescription {
        target,
        mutant: (!plan.serve.mutants.is_empty())
            .then(|| plan.serve.mutants.iter().map(|m| m.name()).collect::<Vec<_>>().join(", ")),
        reproduce: plan.reproduce.clone(),
        replay: plan.replay(),
    };
    let report = match report::build(&outcome, &plan.drive, &description, &plan.run.scenarios, &plan.out_dir)
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("rekcon fuzz: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    // A run a signal ended exits 128 + its number (130 for Ctrl-C, 143 for SIGTERM); one
    // that --max-requests stopped (it raises the same flag, without a signal), 7.
    let mut code = interrupts.exit_code(report.exit_code(), EXIT_INTERRUPTED);
    if code == EXIT_INTERRUPTED && interrupts.first().is_none() && plan.budget.max_requests.is_some() {
        eprintln!("rekcon fuzz: stopped at --max-requests {}", plan.budget.max_requests.unwrap_or_default());
        code = crate::budget::EXIT_BUDGET_SPENT;
    }
    let confirmation = match &plan.confirm {
        Some(on)
            if !report.findings.is_empty()
                && !interrupts.flag().load(std::sync::atomic::Ordering::Relaxed) =>
        {
            let announce = |budget: usize, cap: usize| {
                eprintln!(
                    "rekcon fuzz: confirming {} finding(s) on {}: a budget of {budget} call(s) \
                     (their steps plus cleanup), cap {cap}",
                    report.findings.len(),
                    match &on.run.endpoint {
                        EndpointChoice::Url { url, .. } => redact_url(url),
                        _ => "real AWS".to_string(),
                    },
                );
            };
            match super::confirm::confirm(&report.findings, on, &announce) {
                Ok(c) => {
                    code = c.exit_code(code);
                    Some(c)
                }
                Err(e) => {
                    eprintln!("rekcon fuzz: --confirm-on: {e}");
                    None
                }
            }
        }
        _ => None,
    };
    // The report file first: a closed stdout must not lose it.
    write_reports(&plan, |p| report.write_json(p), |p| report.write_junit(p), &mut code);
    let mut rendered = report.render();
    if let Some(c) = &confirmation {
        rendered.push('\n');
        rendered.push_str(&c.render());
    }
    if let Err(e) = crate::output::print(&rendered) {
        eprintln!("rekcon fuzz: cannot print the report: {e}");
    }
    code
}

/// Writes the `--json` and `--junit` reports `plan` asks for; a failure is printed and
/// turns a conforming exit `code` into 2.
fn write_reports(
    plan: &Plan,
    json: impl Fn(&Path) -> Result<(), Error>,
    junit: impl Fn(&Path) -> Result<(), Error>,
    code: &mut u8,
) {
    let written = [plan.json.as_deref().map(json), plan.junit.as_deref().map(junit)];
    for e in written.into_iter().flatten().filter_map(Result::err) {
        eprintln!("rekcon fuzz: {e}");
        if *code == EXIT_CONFORM {
            *code = EXIT_BAD_INPUT;
        }
    }
}

/// `rekcon fuzz --concurrency K`: racing calls, judged for linearizability.
fn concurrency_command(plan: &Plan, concurrency: usize, interrupts: &Interrupts) -> u8 {
    let config = super::concurrent::ConcurrencyConfig {
        concurrency,
        seed: plan.drive.seed,
        cases: plan.drive.cases,
        time: plan.drive.time,
        max_findings: plan.drive.max_findings,
        shrink_time: plan.drive.max_shrink_time,
        scenarios: plan.run.scenarios.clone(),
        out_dir: plan.out_dir.clone(),
        replay_flags: plan.replay().flags,
        mutants: plan.serve.mutants.iter().map(|m| m.name().to_string()).collect(),
        interrupt: Some(interrupts.flag()),
    };
    match super::concurrent::run(&config, &plan.run, &plan.serve) {
        Ok(outcome) => {
            let mut code = interrupts.exit_code(outcome.exit_code(), EXIT_INTERRUPTED);
            // The report files first: a closed stdout must not lose them.
            let report = super::race_report::RaceReport::new(&outcome, &config);
            write_reports(plan, |p| report.write_json(p), |p| report.write_junit(p), &mut code);
            if let Err(e) = crate::output::print(&outcome.render(&config)) {
                eprintln!("rekcon fuzz: cannot print the report: {e}");
            }
            code
        }
        Err(e) => {
            eprintln!("rekcon fuzz: {e}");
            if matches!(e, Error::Config(_)) { EXIT_BAD_INPUT } else { EXIT_NO_ANSWER }
        }
    }
}

/// Watches SIGINT, SIGTERM and SIGHUP: the first ends the run early (the cases under way
/// finish, collections are deleted, the report is written); the second quits at once.
fn watch_signals() -> Interrupts {
    Interrupts::watch(Box::new(|signal, count| {
        use std::io::Write as _;
        let what = signal.describe();
        let mut err = std::io::stderr();
        if count == 1 {
            let _ = writeln!(
                err,
                "\nrekcon fuzz: interrupted: finishing the cases under way, deleting the run's \
                 collections and writing the report ({what} again quits at once)"
            );
        } else {
            let _ = writeln!(
                err,
                "rekcon fuzz: quit; `rekcon cleanup --journal` deletes the collections the run left"
            );
            std::process::exit(i32::from(signal.exit_code()));
        }
    }))
}

/// Builds where cases run (one executor per `--jobs` lane), and describes it.
fn executors(plan: &Plan) -> Result<(Vec<Box<dyn Executor + Send>>, String), Error> {
    let run_id = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
    let in_process = |wire: bool| -> Vec<Box<dyn Executor + Send>> {
        (0..plan.jobs)
            .map(|_| {
                let executor = InProcessExecutor::new(&plan.serve, &run_id, wire)
                    .with_settlements(plan.run.settlements.clone());
                Box::new(executor) as Box<dyn Executor + Send>
            })
            .collect()
    };
    match plan.target {
        TargetKind::Http => {}
        TargetKind::Wire => {
            return Ok((
                in_process(true),
                "the built-in emulator's core in-process, checked on the wire".into(),
            ));
        }
        TargetKind::Model => {
            return Ok((
                in_process(false),
                "the built-in emulator's core in-process, judged by the model".into(),
            ));
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Config(format!("cannot start the async runtime: {e}")))?;
    let (emulator, target) = runtime.block_on(async {
        let emulator = match plan.run.endpoint {
            EndpointChoice::BuiltIn => {
                Some(Server::start(plan.serve.clone()).await.map_err(|e| Error::Emulator(e.to_string()))?)
            }
            _ => None,
        };
        let target_config = plan.run.target(emulator.as_ref().map(Server::url).as_deref());
        let target = Target::connect(&target_config).await?;
        let target = crate::journal::attach(target, &target_config, &run_id, "fuzz")
            .map_err(|e| Error::Config(e.to_string()))?;
        Ok::<_, Error>((emulator, target))
    })?;
    let mut settings = RunSettings::new(plan.run.repro());
    settings.run_id = run_id;
    settings.settle_timeout = plan.run.settle_timeout;
    settings.require_run_prefix = plan.run.target(None).is_aws();
    // The cap raises the interrupt flag: the campaign stops starting cases, as on Ctrl-C.
    settings.budget = plan.budget.max_requests.map(|n| {
        let flag = plan.drive.interrupt.clone().unwrap_or_default();
        std::sync::Arc::new(crate::budget::RequestBudget::new(n, flag))
    });
    settings.model = ModelConfig {
        region: Some(target.region().to_string()),
        settlements: plan.run.settlements.clone(),
        ..ModelConfig::default()
    };
    if emulator.is_some() {
        settings.model.account = Some(plan.serve.account.clone());
    }
    let description = target.describe().to_string();
    let lanes = EndpointExecutor::lanes(runtime, Runner::new(target, settings), emulator, plan.jobs);
    Ok((lanes.into_iter().map(|e| Box::new(e) as Box<dyn Executor + Send>).collect(), description))
}

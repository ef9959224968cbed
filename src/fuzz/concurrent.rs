//! `rekcon fuzz --concurrency K`: racing calls on shared state, judged for linearizability.
//!
//! A case is one collection with a few faces and users, then groups of K calls sent at
//! once: the same face associated to two users, AssociateFaces racing DeleteUser,
//! DeleteFaces or DeleteCollection, one ClientRequestToken used twice, DisassociateFaces
//! racing AssociateFaces, CreateUser twice with one UserId — each group filled up to K
//! with other calls on the same users and faces. Every case is written as a scenario with
//! `concurrent:` blocks and run by the harness's runner, which sends each block at once
//! and judges its history with the one checker, [`crate::linearize`]. A case that
//! diverges is shrunk (calls and groups dropped while it still diverges in one of a few
//! runs: a race need not show every time), then written as a regression scenario that
//! tries the minimal case on three collections in turn, so `rekcon run` shows it again.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::config::{EndpointChoice, RunConfig};
use crate::error::Error;
use crate::model::ModelConfig;
use crate::report::{ScenarioReport, Verdict};
use crate::runner::{LinearCounts, RunSettings, Runner};
use crate::scenario::{self, Scenario};
use crate::serve::{ServeConfig, Server};
use crate::target::Target;

/// The fixture images a case indexes, one face each (`f1`, `f2`, `f3`).
const IMAGES: [&str; 3] = ["alice-1", "bob-1", "alice-2"];
/// Users a case may name (`u1`…`u5`); the setup creates the first three.
const USERS: usize = 5;
/// Runs of a shrinking candidate before it counts as no longer diverging.
const SHRINK_RUNS: usize = 4;
/// Runs of the minimal case after shrinking, to say how often it shows.
pub const CONFIRM_RUNS: usize = 5;
/// Collections the regression scenario tries the minimal case on, one after another.
const ATTEMPTS: usize = 3;

/// One call of a case, on the case's collection.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// AssociateFaces of these faces to a user, with an optional token number.
    Associate { user: usize, faces: Vec<usize>, token: Option<usize> },
    /// DisassociateFaces.
    Disassociate { user: usize, faces: Vec<usize>, token: Option<usize> },
    /// CreateUser.
    CreateUser { user: usize, token: Option<usize> },
    /// DeleteUser.
    DeleteUser { user: usize, token: Option<usize> },
    /// DeleteFaces.
    DeleteFaces { faces: Vec<usize> },
    /// DeleteCollection.
    DeleteCollection,
    /// ListUsers.
    ListUsers,
    /// ListFaces, optionally of one user.
    ListFaces { user: Option<usize> },
}

/// A step of a case: one call, or calls sent at once.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// A call on its own.
    Step(Op),
    /// Calls sent at once (a `concurrent:` block).
    Group(Vec<Op>),
}

/// A generated case.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// The steps after the collection and its faces are made.
    pub items: Vec<Item>,
}

impl Op {
    fn faces(&self) -> &[usize] {
        match self {
            Op::Associate { faces, .. } | Op::Disassociate { faces, .. } | Op::DeleteFaces { faces } => faces,
            _ => &[],
        }
    }

    fn operation(&self) -> &'static str {
        match self {
            Op::Associate { .. } => "AssociateFaces",
            Op::Disassociate { .. } => "DisassociateFaces",
            Op::CreateUser { .. } => "CreateUser",
            Op::DeleteUser { .. } => "DeleteUser",
            Op::DeleteFaces { .. } => "DeleteFaces",
            Op::DeleteCollection => "DeleteCollection",
            Op::ListUsers => "ListUsers",
            Op::ListFaces { .. } => "ListFaces",
        }
    }

    /// The request in scenario form, on collection `c` with face captures `prefix_fN`.
    fn request(&self, c: &str, prefix: &str) -> Value {
        let collection = format!("${{{c}}}");
        let user = |u: &usize| format!("u{}", u + 1);
        let faces = |fs: &[usize]| -> Vec<String> {
            fs.iter().map(|f| format!("${{{prefix}_f{}}}", f + 1)).collect()
        };
        let with_token = |mut body: Value, token: &Option<usize>| {
            if let (Some(t), Some(map)) = (token, body.as_object_mut()) {
                map.insert("ClientRequestToken".into(), json!(format!("${{{c}}}-t{t}")));
            }
            body
        };
        match self {
            Op::Associate { user: u, faces: fs, token } | Op::Disassociate { user: u, faces: fs, token } => {
                with_token(
                    json!({ "CollectionId": collection, "UserId": user(u), "FaceIds": faces(fs) }),
                    token,
                )
            }
            Op::CreateUser { user: u, token } | Op::DeleteUser { user: u, token } => {
                with_token(json!({ "CollectionId": collection, "UserId": user(u) }), token)
            }
            Op::DeleteFaces { faces: fs } => json!({ "CollectionId": collection, "FaceIds": faces(fs) }),
            Op::DeleteCollection | Op::ListUsers => json!({ "CollectionId": collection }),
            Op::ListFaces { user: Some(u) } => json!({ "CollectionId": collection, "UserId": user(u) }),
            Op::ListFaces { user: None } => json!({ "CollectionId": collection }),
        }
    }

    fn yaml(&self, c: &str, prefix: &str) -> String {
        format!("{}: {}", self.operation(), self.request(c, prefix))
    }
}

impl Case {
    fn ops(&self) -> impl Iterator<Item = &Op> {
        self.items.iter().flat_map(|item| match item {
            Item::Step(op) => std::slice::from_ref(op),
            Item::Group(ops) => ops.as_slice(),
        })
    }

    /// Calls the case makes, collection set-up included, per attempt.
    pub fn calls(&self) -> usize {
        1 + self.faces_used().len() + self.ops().count()
    }

    fn faces_used(&self) -> Vec<usize> {
        let mut used: Vec<usize> = self.ops().flat_map(|op| op.faces().iter().copied()).collect();
        used.sort_unstable();
        used.dedup();
        used
    }

    /// The case as scenario YAML, tried on `attempts` collections one after another.
    pub fn to_yaml(&self, description: &str, attempts: usize) -> String {
        let faces = self.faces_used();
        let collections: Vec<String> = (1..=attempts).map(|a| format!("c{a}")).collect();
        let images: Vec<&str> = faces.iter().map(|&f| IMAGES[f]).collect();
        let mut out = String::new();
        out.push_str("description: >\n");
        for line in description.lines() {
            out.push_str(&format!("  {line}\n"));
        }
        out.push_str("tags: [concurrency, fuzz]\n");
        out.push_str(&format!("collections: [{}]\n", collections.join(", ")));
        if !images.is_empty() {
            out.push_str(&format!("images: [{}]\n", images.join(", ")));
        }
        out.push_str("steps:\n");
        for c in &collections {
            let prefix = format!("a{}", &c[1..]);
            out.push_str(&format!(
                "  - CreateCollection: {}\n",
                json!({ "CollectionId": format!("${{{c}}}") })
            ));
            for &f in &faces {
                let body = json!({ "CollectionId": format!("${{{c}}}"), "Image": { "Bytes": format!("${{{}}}", IMAGES[f]) } });
                out.push_str(&format!("  - IndexFaces: {body}\n"));
                out.push_str(&format!(
                    "    capture: {{ {prefix}_f{}: \"FaceRecords[0].Face.FaceId\" }}\n",
                    f + 1
                ));
            }
            for item in &self.items {
                match item {
                    Item::Step(op) => out.push_str(&format!("  - {}\n", op.yaml(c, &prefix))),
                    Item::Group(ops) if ops.is_empty() => {}
                    Item::Group(ops) if ops.len() == 1 => {
                        out.push_str(&format!("  - {}\n", ops[0].yaml(c, &prefix)))
                    }
                    Item::Group(ops) => {
                        out.push_str("  - concurrent:\n");
                        for op in ops {
                            out.push_str(&format!("      - {}\n", op.yaml(c, &prefix)));
                        }
                    }
                }
            }
        }
        out
    }

    /// Smaller cases: each item dropped, then each call of a group dropped.
    fn shrink_candidates(&self) -> Vec<Case> {
        let mut out = Vec::new();
        for i in 0..self.items.len() {
            let mut items = self.items.clone();
            items.remove(i);
            out.push(Case { items });
        }
        for (i, item) in self.items.iter().enumerate() {
            // A group of one goes with the item itself (above).
            let Item::Group(ops) = item else { continue };
            if ops.len() < 2 {
                continue;
            }
            for j in 0..ops.len() {
                let mut ops = ops.clone();
                ops.remove(j);
                let mut items = self.items.clone();
                items[i] = Item::Group(ops);
                out.push(Case { items });
            }
        }
        out
    }
}

/// Draws one case: set-up (users, perhaps a face already owned), then 1 to 3 racing
/// groups of `k` calls each.
pub fn generate(rng: &mut StdRng, k: usize) -> Case {
    let mut items: Vec<Item> = (0..3).map(|u| Item::Step(Op::CreateUser { user: u, token: None })).collect();
    if rng.random_bool(0.5) {
        items.push(Item::Step(Op::Associate { user: 2, faces: vec![2], token: None }));
    }
    let groups = rng.random_range(1..=3);
    let mut token = 0;
    let mut fresh_user = 3;
    for g in 0..groups {
        let face = rng.random_range(0..IMAGES.len());
        let (a, b) = two_users(rng);
        let last = g + 1 == groups;
        // A racing DeleteCollection ends the case, so it races only in the last group.
        let kind = rng.random_range(0..if last { 7 } else { 6 });
        let mut reads_only = false;
        let mut ops = match kind {
            0 => vec![
                Op::Associate { user: a, faces: vec![face], token: None },
                Op::Associate { user: b, faces: vec![face], token: None },
            ],
            1 => vec![
                Op::Associate { user: a, faces: vec![face], token: None },
                Op::DeleteUser { user: a, token: None },
            ],
            2 => vec![
                Op::Associate { user: a, faces: vec![face], token: None },
                Op::DeleteFaces { faces: vec![face] },
            ],
            3 => {
                token += 1;
                reads_only = true;
                let t = Some(token);
                let op = match rng.random_range(0..4) {
                    0 => {
                        fresh_user = (fresh_user + 1).min(USERS - 1);
                        Op::CreateUser { user: fresh_user, token: t }
                    }
                    1 => Op::Associate { user: a, faces: vec![face], token: t },
                    2 => Op::Disassociate { user: a, faces: vec![face], token: t },
                    _ => Op::DeleteUser { user: a, token: t },
                };
                vec![op.clone(), op]
            }
            4 => vec![
                Op::Disassociate { user: a, faces: vec![face], token: None },
                Op::Associate {
                    user: if rng.random_bool(0.5) { a } else { b },
                    faces: vec![face],
                    token: None,
                },
            ],
            5 => {
                fresh_user = (fresh_user + 1).min(USERS - 1);
                vec![
                    Op::CreateUser { user: fresh_user, token: None },
                    Op::CreateUser { user: fresh_user, token: None },
                ]
            }
            _ => vec![Op::Associate { user: a, faces: vec![face], token: None }, Op::DeleteCollection],
        };
        while ops.len() < k {
            ops.push(filler(rng, reads_only));
        }
        items.push(Item::Group(ops));
    }
    Case { items }
}

fn two_users(rng: &mut StdRng) -> (usize, usize) {
    let a = rng.random_range(0..3);
    let b = (a + rng.random_range(1..3)) % 3;
    (a, b)
}

/// Another call on the same users and faces. Beside a token used twice only reads: a
/// change in between would let a replay answer anew (`unknown:token-replay`).
fn filler(rng: &mut StdRng, reads_only: bool) -> Op {
    let user = rng.random_range(0..USERS);
    let face = rng.random_range(0..IMAGES.len());
    match rng.random_range(0..if reads_only { 2 } else { 6 }) {
        0 => Op::ListUsers,
        1 => Op::ListFaces { user: rng.random_bool(0.5).then_some(user) },
        2 => Op::Associate { user, faces: vec![face], token: None },
        3 => Op::Disassociate { user, faces: vec![face], token: None },
        4 => Op::CreateUser { user, token: None },
        _ => Op::DeleteUser { user, token: None },
    }
}

/// What a concurrency run is given.
#[derive(Debug, Clone)]
pub struct ConcurrencyConfig {
    /// Calls sent at once in each group.
    pub concurrency: usize,
    /// The run's seed.
    pub seed: u64,
    /// Most cases to explore.
    pub cases: u32,
    /// Longest exploration (no case starts after it).
    pub time: Option<Duration>,
    /// Stop after this many findings (0: the whole budget).
    pub max_findings: usize,
    /// Longest shrinking of one finding.
    pub shrink_time: Duration,
    /// The scenarios folder (its `images/`).
    pub scenarios: PathBuf,
    /// Where regression scenarios go (inside `scenarios`).
    pub out_dir: PathBuf,
    /// The flags `rekcon run` replays a regression with (each starting with a space).
    pub replay_flags: String,
    /// The planted bugs, by name, for descriptions.
    pub mutants: Vec<String>,
    /// Set when the run should stop early.
    pub interrupt: Option<Arc<AtomicBool>>,
}

/// One minimal non-linearizable (or otherwise diverging) case, written out.
#[derive(Debug, Clone)]
pub struct RaceFinding {
    /// The regression scenario written.
    pub path: PathBuf,
    /// Its scenario name.
    pub name: String,
    /// The command that replays it.
    pub reproduce: String,
    /// The first divergence of the minimal case.
    pub first: String,
    /// Calls of the minimal case (one attempt).
    pub calls: usize,
    /// Calls of the case as first found.
    pub found_calls: usize,
    /// Runs of the minimal case, of [`CONFIRM_RUNS`], that diverged again.
    pub reproduced: usize,
    /// From the start of the run to the first diverging case.
    pub time_to_find: Duration,
}

/// What a concurrency run did.
#[derive(Debug, Clone, Default)]
pub struct ConcurrencyOutcome {
    /// Cases explored.
    pub cases: u64,
    /// Cases not judged: no answer from the endpoint, an operation it does not
    /// implement, or a set-up problem (never a finding).
    pub no_answer: u64,
    /// Why the first case not judged was not.
    pub first_not_judged: Option<String>,
    /// Cases that were not loadable or could not be run as written: rekcon's bugs.
    pub generator_bugs: Vec<String>,
    /// How the concurrent blocks were judged (shrinking and confirming included).
    pub linear: LinearCounts,
    /// Minimal cases written.
    pub findings: Vec<RaceFinding>,
    /// How long it ran.
    pub elapsed: Duration,
    /// Whether a signal ended it early.
    pub interrupted: bool,
}

impl ConcurrencyOutcome {
    /// 1 with a finding, 2 with a generator bug, 3 when no case could be judged, else 0.
    pub fn exit_code(&self) -> u8 {
        if !self.findings.is_empty() {
            crate::report::EXIT_DIVERGENCE
        } else if !self.generator_bugs.is_empty() {
            crate::report::EXIT_BAD_INPUT
        } else if self.cases > 0 && self.no_answer == self.cases {
            crate::report::EXIT_NO_ANSWER
        } else {
            crate::report::EXIT_CONFORM
        }
    }

    /// `diverged`, `generator bug`, `no answer` or `no finding`, as [`Self::exit_code`] says.
    pub fn verdict(&self) -> &'static str {
        match self.exit_code() {
            crate::report::EXIT_DIVERGENCE => "diverged",
            crate::report::EXIT_NO_ANSWER => "no answer",
            crate::report::EXIT_BAD_INPUT => "generator bug",
            _ => "no finding",
        }
    }

    /// The text report.
    pub fn render(&self, config: &ConcurrencyConfig) -> String {
        let mut out = format!(
            "rekcon fuzz --concurrency {}: {} cases in {:.1}s, {} concurrent blocks checked for linearizability \
             ({} not linearizable, {} undecided within the search budget; {} model steps), {} cases without an answer\n",
            config.concurrency,
            self.cases,
            self.elapsed.as_secs_f64(),
            self.linear.checked,
            self.linear.violations,
            self.linear.undecided,
            self.linear.steps,
            self.no_answer,
        );
        if let Some(why) = &self.first_not_judged {
            out.push_str(&format!("not judged (the first): {why}\n"));
        }
        for bug in &self.generator_bugs {
            out.push_str(&format!("generator bug: {bug}\n"));
        }
        for (i, f) in self.findings.iter().enumerate() {
            out.push_str(&format!(
                "finding {}: {} ({} calls, shrunk from {}; diverged again in {} of {CONFIRM_RUNS} runs; found after {:.1}s)\n  {}\n  reproduce: {}\n",
                i + 1,
                f.path.display(),
                f.calls,
                f.found_calls,
                f.reproduced,
                f.time_to_find.as_secs_f64(),
                f.first,
                f.reproduce
            ));
        }
        let verdict = match self.exit_code() {
            crate::report::EXIT_NO_ANSWER => "no answer: nothing was judged",
            _ => self.verdict(),
        };
        out.push_str(&format!(
            "{verdict}: {} findings, seed {}{}\n",
            self.findings.len(),
            config.seed,
            if self.interrupted { " (interrupted)" } else { "" }
        ));
        out
    }
}

/// Runs the exploration against the built-in emulator (configured by `serve`) or the
/// endpoint `run` names.
pub fn run(
    config: &ConcurrencyConfig,
    run: &RunConfig,
    serve: &ServeConfig,
) -> Result<ConcurrencyOutcome, Error> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Config(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        let emulator = match run.endpoint {
            EndpointChoice::BuiltIn => {
                Some(Server::start(serve.clone()).await.map_err(|e| Error::Emulator(e.to_string()))?)
            }
            _ => None,
        };
        let target = Target::connect(&run.target(emulator.as_ref().map(Server::url).as_deref())).await?;
        let mut settings = RunSettings::new(run.repro());
        settings.settle_timeout = run.settle_timeout;
        settings.require_run_prefix = run.target(None).is_aws();
        settings.model = ModelConfig { region: Some(target.region().to_string()), ..ModelConfig::default() };
        if emulator.is_some() {
            settings.model.account = Some(serve.account.clone());
        }
        let runner = Runner::new(target, settings);
        let mut explorer = Explorer {
            config,
            runner: &runner,
            ordinal: 0,
            loader: scenario::Loader::new(&config.scenarios),
        };
        let outcome = explorer.explore().await;
        runner.cleanup().await;
        if let Some(server) = emulator {
            server.shutdown().await;
        }
        outcome
    })
}

struct Explorer<'a> {
    config: &'a ConcurrencyConfig,
    runner: &'a Runner,
    ordinal: usize,
    loader: scenario::Loader,
}

impl Explorer<'_> {
    async fn explore(&mut self) -> Result<ConcurrencyOutcome, Error> {
        let started = Instant::now();
        let mut rng = StdRng::seed_from_u64(self.config.seed);
        let mut outcome = ConcurrencyOutcome::default();
        let stopped = || self.config.interrupt.as_ref().is_some_and(|f| f.load(Ordering::SeqCst));
        while outcome.cases < u64::from(self.config.cases)
            && self.config.time.is_none_or(|t| started.elapsed() < t)
            && (self.config.max_findings == 0 || outcome.findings.len() < self.config.max_findings)
        {
            if stopped() {
                outcome.interrupted = true;
                break;
            }
            let case = generate(&mut rng, self.config.concurrency);
            outcome.cases += 1;
            let undecided_before = self.runner.linear_counts().undecided;
            let report = match self.run_case(&case, 1).await {
                Ok(report) => report,
                Err(bug) => {
                    outcome.generator_bugs.push(bug);
                    break;
                }
            };
            match &report.verdict {
                Verdict::Diverged { .. } => {
                    let time_to_find = started.elapsed();
                    let found = first_divergence(&report);
                    let finding =
                        self.shrink_and_write(case, found, outcome.findings.len() + 1, time_to_find).await?;
                    outcome.findings.push(finding);
                }
                Verdict::NoAnswer { reason, .. }
                | Verdict::Blocked { evidence: reason, .. }
                | Verdict::SetupProblem { hint: reason, .. } => {
                    outcome.no_answer += 1;
                    outcome.first_not_judged.get_or_insert_with(|| reason.clone());
                }
                Verdict::Pass => {}
                // An undecided block ends its case without a verdict on the endpoint.
                Verdict::BadScenario { .. } if self.runner.linear_counts().undecided > undecided_before => {}
                Verdict::BadScenario { reason, .. } => {
                    outcome.generator_bugs.push(format!("case {}: {reason}", outcome.cases));
                }
                other => outcome.generator_bugs.push(format!("case {}: {}", outcome.cases, other.label())),
            }
        }
        outcome.linear = self.runner.linear_counts();
        outcome.elapsed = started.elapsed();
        Ok(outcome)
    }

    /// Runs `case` once on fresh collections; `Err` when it does not load.
    async fn run_case(&mut self, case: &Case, attempts: usize) -> Result<ScenarioReport, String> {
        let scenario = self.load(case, "a generated case", attempts)?;
        self.ordinal += 1;
        Ok(self.runner.run_scenario(self.ordinal, &scenario).await)
    }

    fn load(&mut self, case: &Case, description: &str, attempts: usize) -> Result<Scenario, String> {
        let yaml = case.to_yaml(description, attempts);
        let path = self.config.out_dir.join("race_case.yaml");
        self.loader.parse("regressions/race_case", &path, &yaml).map_err(|e| format!("{e}\n{yaml}"))
    }

    /// Whether `case` diverges in one of `runs` runs.
    async fn diverges(&mut self, case: &Case, runs: usize) -> Result<bool, Error> {
        for _ in 0..runs {
            let report = self.run_case(case, 1).await.map_err(Error::Config)?;
            if matches!(report.verdict, Verdict::Diverged { .. }) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    async fn shrink_and_write(
        &mut self,
        found: Case,
        found_divergence: String,
        n: usize,
        time_to_find: Duration,
    ) -> Result<RaceFinding, Error> {
        let deadline = Instant::now() + self.config.shrink_time;
        let found_calls = found.calls();
        // Every case shrinking kept, the found one first: a candidate is kept when any
        // of a few runs diverges, so a rare race can be kept by luck.
        let mut kept = vec![found];
        'pass: while Instant::now() < deadline {
            let Some(case) = kept.last() else { break };
            for candidate in case.shrink_candidates() {
                if Instant::now() >= deadline {
                    break 'pass;
                }
                if self.diverges(&candidate, SHRINK_RUNS).await? {
                    kept.push(candidate);
                    continue 'pass;
                }
            }
            break;
        }
        // The finding is the smallest kept case that diverges again when confirmed; one
        // that never does steps back to the case it was shrunk from.
        let (mut chosen, mut reproduced, mut first) = (kept.len() - 1, 0, None);
        for (i, candidate) in kept.iter().enumerate().rev() {
            for _ in 0..CONFIRM_RUNS {
                let report = self.run_case(candidate, 1).await.map_err(Error::Config)?;
                if matches!(report.verdict, Verdict::Diverged { .. }) {
                    reproduced += 1;
                    first.get_or_insert_with(|| first_divergence(&report));
                }
            }
            if reproduced > 0 {
                chosen = i;
                break;
            }
        }
        let case = kept.swap_remove(chosen);
        let first =
            first.unwrap_or_else(|| format!("{found_divergence} (the case as found; not shown again)"));
        let operation = case
            .ops()
            .find(|op| !matches!(op, Op::CreateUser { token: None, .. }))
            .map_or("CreateUser", Op::operation);
        let (path, name) = super::report::free_regression_path(
            &self.config.scenarios,
            &self.config.out_dir,
            &format!("race_{}_{n}", self.config.seed),
            operation,
        )?;
        let mutants = if self.config.mutants.is_empty() {
            String::new()
        } else {
            format!(" against --mutant {}", self.config.mutants.join(", "))
        };
        let description = format!(
            "Found by `rekcon fuzz --concurrency {} --seed {}`{mutants}, shrunk from {found_calls} to {} calls.\n\
             The racing calls are tried on {ATTEMPTS} collections in turn: a race need not show on every run.\n\
             First divergence: {first}",
            self.config.concurrency,
            self.config.seed,
            case.calls()
        );
        let yaml = case.to_yaml(&description, ATTEMPTS);
        std::fs::create_dir_all(&self.config.out_dir)
            .and_then(|()| std::fs::write(&path, &yaml))
            .map_err(|e| Error::Config(format!("cannot write {}: {e}", path.display())))?;
        // What was written must load as it will be replayed.
        scenario::load_file(&self.config.scenarios, &path).map_err(|e| Error::Config(e.to_string()))?;
        Ok(RaceFinding {
            reproduce: super::report::replay_command(
                &super::report::ReplayContext { flags: self.config.replay_flags.clone() },
                &name,
            ),
            path,
            name,
            first,
            calls: case.calls(),
            found_calls,
            reproduced,
            time_to_find,
        })
    }
}

/// The first divergence of a report, in one line.
fn first_divergence(report: &ScenarioReport) -> String {
    report
        .records
        .iter()
        .find(|r| r.diverged())
        .and_then(|r| {
            let finding = r.findings.iter().find(|f| f.is_divergence())?;
            Some(format!("step {} {}: {}", r.step, r.call_name(), finding.mismatch))
        })
        .unwrap_or_else(|| "a divergence".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every case drawn, and every case shrinking makes of it (down to nothing), loads.
    #[test]
    fn generated_and_shrunk_cases_load() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let mut loader = scenario::Loader::new(&root);
        let path = root.join("regressions/race_case.yaml");
        let mut loaded = 0;
        for seed in 0..10 {
            let mut rng = StdRng::seed_from_u64(seed);
            let mut case = generate(&mut rng, 4);
            loop {
                for candidate in std::iter::once(case.clone()).chain(case.shrink_candidates()) {
                    let yaml = candidate.to_yaml("a case", 2);
                    if let Err(e) = loader.parse("regressions/race_case", &path, &yaml) {
                        panic!("seed {seed}: {e}\n{yaml}");
                    }
                    loaded += 1;
                }
                // Shrink along the last candidate, the one that empties a group soonest.
                match case.shrink_candidates().pop() {
                    Some(smaller) => case = smaller,
                    None => break,
                }
            }
        }
        assert!(loaded > 50, "{loaded}");
    }
}

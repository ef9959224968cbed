//! Where a generated case runs: an endpoint over HTTP through the harness's own
//! [`Runner`] (the built-in emulator, any endpoint URL, or real AWS), or the built-in
//! emulator's core in-process with no HTTP and no SDK ([`InProcessExecutor`]).
//!
//! Both take a loaded [`Scenario`] and give a [`ScenarioReport`], so the fuzzer judges
//! every case the way `rekcon run` judges a scenario. This module decides nothing about
//! cases; [`super::case`] reads the reports.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::api::{self, ErrorCode, Operation, Request};
use crate::check::{self, Finding, Layer};
use crate::config::{Endpoint, TargetConfig};
use crate::error::Error;
use crate::expect::{Allowed, Mismatch, Observed};
use crate::model::{Model, ModelConfig};
use crate::report::Repro;
use crate::report::{CleanupSummary, ScenarioReport, StepRecord, Verdict};
use crate::runner::{self, RunSettings, Runner};
use crate::scenario::{Action, Bindings, RawBody, Scenario, Step};
use crate::serve::{InProcess, ServeConfig, Server};
use crate::target::Target;
use crate::unknown::Unknown;

/// Runs loaded scenarios, one fuzz case each.
pub trait Executor {
    /// Runs `scenario` as case number `ordinal` (unique per run: it names the case's
    /// collections) and deletes what it created.
    fn run(&mut self, ordinal: usize, scenario: &Scenario) -> ScenarioReport;

    /// Deletes anything cases left behind; called once at the end of a run.
    fn finish(&mut self) -> CleanupSummary;

    /// Whether what this executor's cases do is seen by no other executor's (an
    /// in-process emulator of its own). Lanes that share an endpoint see each other's
    /// calls: the ids and page tokens an emulator hands out then depend on how their
    /// cases interleave.
    fn isolated(&self) -> bool {
        false
    }
}

/// Cases sent over HTTP through the [`Runner`], exactly as `rekcon run` sends scenarios.
///
/// Several executors made by [`EndpointExecutor::lanes`] share one runtime, runner and
/// SDK client, so cases run side by side the way `rekcon run --jobs` runs scenarios.
#[derive(Debug)]
pub struct EndpointExecutor {
    runtime: Arc<tokio::runtime::Runtime>,
    runner: Arc<Runner>,
    /// The built-in emulator the runner talks to, held by the first lane (stopped at the end).
    emulator: Option<Server>,
    /// Whether this lane cleans up for all at the end (the first one).
    owner: bool,
}

impl EndpointExecutor {
    /// An executor over `runner`, whose calls run on `runtime`; `emulator` is the
    /// built-in emulator the runner talks to, if one was started (stopped at the end).
    pub fn new(
        runtime: tokio::runtime::Runtime,
        runner: Runner,
        emulator: Option<Server>,
    ) -> EndpointExecutor {
        EndpointExecutor { runtime: Arc::new(runtime), runner: Arc::new(runner), emulator, owner: true }
    }

    /// `count` executors sharing one runtime, runner and emulator (at least one).
    pub fn lanes(
        runtime: tokio::runtime::Runtime,
        runner: Runner,
        emulator: Option<Server>,
        count: usize,
    ) -> Vec<EndpointExecutor> {
        let first = EndpointExecutor::new(runtime, runner, emulator);
        let mut lanes: Vec<EndpointExecutor> = (1..count.max(1))
            .map(|_| EndpointExecutor {
                runtime: Arc::clone(&first.runtime),
                runner: Arc::clone(&first.runner),
                emulator: None,
                owner: false,
            })
            .collect();
        lanes.insert(0, first);
        lanes
    }

    /// `count` lanes over HTTP to a built-in emulator started with `config` on a runtime
    /// of their own, judged by a model that knows the emulator's region and account: the
    /// HTTP path of `rekcon fuzz`, for tests and benchmarks that set the emulator up.
    pub fn built_in_lanes(config: &ServeConfig, count: usize) -> Result<Vec<EndpointExecutor>, Error> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| Error::Config(format!("cannot start the async runtime: {e}")))?;
        let (server, target) = runtime.block_on(async {
            let server = Server::start(config.clone()).await.map_err(|e| Error::Emulator(e.to_string()))?;
            let target = Target::connect(&TargetConfig::new(Endpoint::BuiltIn(server.url()))).await?;
            Ok::<_, Error>((server, target))
        })?;
        let mut settings = RunSettings::new(Repro::Cli { flags: String::new() });
        settings.model = ModelConfig {
            region: Some(target.region().to_string()),
            account: Some(config.account.clone()),
            ..ModelConfig::default()
        };
        Ok(EndpointExecutor::lanes(runtime, Runner::new(target, settings), Some(server), count))
    }

    /// The runner cases go through.
    pub fn runner(&self) -> &Runner {
        &self.runner
    }

    /// The runtime cases run on (the built-in emulator's too, when the lanes started it).
    pub fn runtime(&self) -> tokio::runtime::Handle {
        self.runtime.handle().clone()
    }

    /// The URL of the built-in emulator this lane holds (the first lane holds it).
    pub fn emulator_url(&self) -> Option<String> {
        self.emulator.as_ref().map(Server::url)
    }
}

impl Executor for EndpointExecutor {
    /// Runs the case as a task of the runtime, beside the SDK's connections (and the
    /// built-in emulator): the lane's thread only waits for its end. Driving the case on
    /// the lane's own thread instead made every call hop between threads several times
    /// (the case, the connection, the server), which cost more than the call.
    fn run(&mut self, ordinal: usize, scenario: &Scenario) -> ScenarioReport {
        let (runner, case) = (Arc::clone(&self.runner), scenario.clone());
        let task = self.runtime.spawn(async move { runner.run_scenario(ordinal, &case).await });
        match self.runtime.block_on(task) {
            Ok(report) => report,
            // As if the case had run on this thread: its panic is the lane's.
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => ScenarioReport::without_result(
                &scenario.name,
                &scenario.path,
                Verdict::HarnessError { reason: format!("the case's task ended early: {e}") },
                &self.runner.settings().repro,
            ),
        }
    }

    fn finish(&mut self) -> CleanupSummary {
        // The first lane cleans up for all (they share the runner), once.
        if !std::mem::take(&mut self.owner) {
            return CleanupSummary::default();
        }
        let summary = self.runtime.block_on(self.runner.cleanup());
        crate::journal::finish(self.runner.target(), "fuzz");
        if let Some(server) = self.emulator.take() {
            self.runtime.block_on(server.shutdown());
        }
        summary
    }
}

/// Cases run through the built-in emulator's core in-process and judged by a second
/// [`Model`], with the same wire and model checks as the runner, minus HTTP and the SDK.
///
/// It follows the runner's step semantics (substitute, settle users before a search,
/// check the wire, judge, capture, stop at the first failing step); it exists to
/// measure the model alone and to fuzz at memory speed.
#[derive(Debug)]
pub struct InProcessExecutor {
    core: InProcess,
    model: ModelConfig,
    run_id: String,
    wire: bool,
}

/// How many ListUsers polls a search may wait for users to settle in-process.
const SETTLE_POLLS: usize = 64;

impl InProcessExecutor {
    /// An in-process emulator configured as `config` (seed, settle, mutant). With
    /// `wire`, typed calls are rendered to bytes and read back through the wire checks
    /// (as over HTTP); without, the emulator's outcome goes straight to the checker
    /// model, so only the model judges (wire-style bugs go unseen, calls are faster).
    /// Raw steps always go through the wire, as bytes are what they are about.
    pub fn new(config: &ServeConfig, run_id: &str, wire: bool) -> InProcessExecutor {
        InProcessExecutor {
            core: InProcess::new(config),
            model: ModelConfig {
                region: Some(config.region.clone()),
                account: Some(config.account.clone()),
                ..ModelConfig::default()
            },
            run_id: run_id.to_string(),
            wire,
        }
    }

    /// The checker model narrowed by these settlements (`rekcon fuzz --settlements`).
    pub fn with_settlements(
        mut self,
        settlements: Option<std::sync::Arc<crate::settle::Settlements>>,
    ) -> Self {
        self.model.settlements = settlements;
        self
    }
}

impl Executor for InProcessExecutor {
    /// Each in-process executor holds an emulator of its own.
    fn isolated(&self) -> bool {
        true
    }

    fn run(&mut self, ordinal: usize, scenario: &Scenario) -> ScenarioReport {
        let started = Instant::now();
        let prefix = format!("rekcon-{}-{ordinal}-", self.run_id);
        let mut case = InProcessCase {
            core: &mut self.core,
            wire: self.wire,
            model: Model::new(self.model.clone()),
            bindings: Bindings::new(scenario, &prefix),
            records: Vec::new(),
            unknowns: BTreeSet::new(),
        };
        let mut verdict = Verdict::Pass;
        for step in &scenario.steps {
            match case.step(step) {
                Ok(()) => continue,
                Err(v) => {
                    verdict = v;
                    break;
                }
            }
        }
        let InProcessCase { bindings, records, unknowns, model, .. } = case;
        // Whatever the case created goes, so the emulator's memory stays flat. After a
        // pass the model knows exactly what exists; otherwise try every name it may use.
        let collections = bindings.collections().clone();
        let ids: Vec<String> = if verdict == Verdict::Pass {
            model.collections().keys().filter(|id| id.starts_with(&prefix)).cloned().collect()
        } else {
            collections
                .values()
                .flat_map(|id| [id.clone(), format!("{id}{}", "x".repeat(255usize.saturating_sub(id.len())))])
                .collect()
        };
        for id in ids {
            let request = Request::DeleteCollection(api::DeleteCollectionRequest { collection_id: Some(id) });
            self.core.answer(&request);
        }
        ScenarioReport {
            name: scenario.name.clone(),
            path: scenario.path.clone(),
            verdict,
            steps: scenario.steps.len(),
            stop: None,
            records,
            unknowns,
            collections,
            duration: started.elapsed(),
            reproduce: format!("rekcon run {}", scenario.name),
        }
    }

    fn finish(&mut self) -> CleanupSummary {
        CleanupSummary::default()
    }
}

/// One case's state in-process: the checker model, bindings and records.
struct InProcessCase<'a> {
    core: &'a mut InProcess,
    wire: bool,
    model: Model,
    bindings: Bindings,
    records: Vec<StepRecord>,
    unknowns: BTreeSet<Unknown>,
}

impl InProcessCase<'_> {
    fn step(&mut self, step: &Step) -> Result<(), Verdict> {
        let bad = |reason: String| Verdict::BadScenario { line: step.line, column: step.column, reason };
        let built = build(step, &self.bindings).map_err(bad)?;
        if let Some(r) = built.request()
            && self.model.needs_settled_users(r)
        {
            let collection = r.collection_id().unwrap_or_default().to_string();
            self.settle(&collection, step)?;
        }
        if self.call(step, built, false) {
            return Err(Verdict::Diverged { step: step.index, line: step.line });
        }
        for capture in &step.captures {
            let value = match self.records.last().and_then(|r| r.observed.as_ref()) {
                Some(Observed::Success(body)) => capture.path.get(body).cloned(),
                _ => None,
            };
            match value {
                Some(value) => self.bindings.capture(&capture.name, value),
                None => {
                    let reason =
                        format!("capture `{}`: the answer has no value at `{}`", capture.name, capture.path);
                    if let Some(record) = self.records.last_mut() {
                        record.note = Some(reason.clone());
                    }
                    return Err(bad(reason));
                }
            }
        }
        Ok(())
    }

    /// Sends one call, checks it on the wire and against the model, records it; returns
    /// whether it diverged.
    fn call(&mut self, step: &Step, built: Built, settle_poll: bool) -> bool {
        let started = Instant::now();
        let request = built.request();
        let operation = built.operation();
        let allowed = match request {
            Some(r) => self.model.allowed(r),
            None if operation.is_none() => Allowed::error(ErrorCode::UnknownOperationException),
            None => Allowed::error(ErrorCode::SerializationException),
        };
        let mut findings = Vec::new();
        let mut unknowns = BTreeSet::new();
        let mut observed = None;
        let mut response = None;
        // What the record shows as the request: on the wire, what was sent.
        let mut sent = None;
        match &built {
            Built::Typed(r, _) if !self.wire => observed = Some(self.core.answer(r)),
            // A typed call goes out as the SDK would serialise it; a raw one byte for byte.
            Built::Typed(r, _) => {
                let json = r.to_json();
                response = Some(self.core.call(&r.operation().target(), json.to_string().as_bytes()));
                sent = Some(json);
            }
            Built::Raw { target, body, .. } => response = Some(self.core.call(target, body.as_bytes())),
        }
        if let Some(raw) = &response {
            match check::wire(raw, operation) {
                // The core never throttles or fails: a transient answer here is a wrong answer.
                Err(unjudgeable) => findings.push(Finding::new(
                    Layer::Wire,
                    Mismatch {
                        path: "(status)".into(),
                        expected: "an answer".into(),
                        actual: match unjudgeable {
                            check::Unjudgeable::NoAnswer(no) => no.reason,
                            check::Unjudgeable::NotImplemented(evidence) => evidence,
                            check::Unjudgeable::SetupProblem(hint) => hint,
                        },
                    },
                )),
                Ok(wire) => {
                    findings.extend(wire.mismatches.into_iter().map(|m| Finding::new(Layer::Wire, m)));
                    unknowns.extend(wire.unknowns);
                    observed = wire.observed;
                }
            }
        }
        if let Some(seen) = &observed {
            let (mismatches, touched) = match request {
                Some(r) => {
                    let judgement = self.model.observe(r, &allowed, seen);
                    (judgement.mismatches, judgement.unknowns)
                }
                None => {
                    (allowed.judge(seen, &|_| false).err().unwrap_or_default(), allowed.touched_unknowns())
                }
            };
            findings.extend(mismatches.into_iter().map(|m| Finding::new(Layer::Model, m)));
            unknowns.extend(touched);
        }
        let diverged = !findings.is_empty();
        self.unknowns.extend(unknowns.iter().copied());
        let raw = matches!(built, Built::Raw { .. });
        let (target, record_request) = match built {
            Built::Typed(r, json) => (r.operation().target(), sent.unwrap_or(json)),
            Built::Raw { target, body, .. } => (target, Value::String(body)),
        };
        self.records.push(StepRecord {
            step: step.index,
            line: step.line,
            settle_poll,
            target,
            raw,
            request: record_request,
            response: response.map(|raw| check::RawResponse { body: Vec::new(), ..raw }),
            observed,
            expectation: None,
            findings,
            unknowns,
            duration: started.elapsed(),
            ..StepRecord::default()
        });
        diverged
    }

    /// Polls ListUsers (every page) until the model sees `collection`'s users settled.
    fn settle(&mut self, collection: &str, step: &Step) -> Result<(), Verdict> {
        let diverged = Verdict::Diverged { step: step.index, line: step.line };
        let mut polls = 0;
        while !self.model.unsettled_users(collection).is_empty() {
            if polls >= SETTLE_POLLS {
                return Err(diverged);
            }
            let mut token: Option<String> = None;
            loop {
                let request = runner::settle_poll(collection, token.take());
                polls += 1;
                let json = request.to_json();
                if self.call(step, Built::Typed(request, json), true) {
                    return Err(diverged);
                }
                token = runner::next_token_of(self.records.pop());
                if token.is_none() {
                    break;
                }
            }
            if !self.model.unsettled_users(collection).is_empty() {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        Ok(())
    }
}

/// What a step sends.
enum Built {
    /// A typed request, and the JSON it was decoded from (references substituted).
    Typed(Request, Value),
    /// A raw body, with the typed request the model reads from it when it can.
    Raw { target: String, body: String, request: Option<Request> },
}

impl Built {
    fn request(&self) -> Option<&Request> {
        match self {
            Built::Typed(r, _) => Some(r),
            Built::Raw { request, .. } => request.as_ref(),
        }
    }

    fn operation(&self) -> Option<Operation> {
        match self {
            Built::Typed(r, _) => Some(r.operation()),
            Built::Raw { target, .. } => {
                target.strip_prefix("RekognitionService.").and_then(Operation::from_name)
            }
        }
    }
}

/// What a step sends, references substituted; mirrors the runner's step building.
fn build(step: &Step, bindings: &Bindings) -> Result<Built, String> {
    match &step.action {
        Action::Call { operation, request } => {
            let body = request.render(bindings).map_err(|e| e.0)?;
            let request = Request::from_json(*operation, &body).map_err(|e| format!("{operation}: {e}"))?;
            Ok(Built::Typed(request, body))
        }
        Action::Raw { target, body } => {
            let body = match body {
                RawBody::Text(text) => text.render_string(bindings).map_err(|e| e.0)?,
                RawBody::Json(template) => template.render(bindings).map_err(|e| e.0)?.to_string(),
            };
            let request = target.operation.and_then(|op| {
                serde_json::from_str::<Value>(&body).ok().and_then(|json| Request::from_json(op, &json).ok())
            });
            Ok(Built::Raw { target: target.header.clone(), body, request })
        }
    }
}

/// Checks that an in-process executor can be built for `config` (it cannot throttle,
/// fail or check signatures, so those settings are refused rather than ignored).
pub fn check_in_process(config: &ServeConfig) -> Result<(), Error> {
    if config.throttle_tps.is_some() || config.faults > 0.0 {
        return Err(Error::Config(
            "the in-process targets have no network: --throttle-tps and --faults need --target http".into(),
        ));
    }
    Ok(())
}

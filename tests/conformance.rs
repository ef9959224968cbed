//! `cargo test --test conformance`: one trial per scenario file, named by its path with
//! `::` (`users::create_user`), so `-- users::` filters and `--list` lists them.
//!
//! Every trial runs against one shared built-in emulator, started on first use (so
//! `--list` starts nothing), or against `REKCON_ENDPOINT_URL` when it is set (with
//! `REKCON_REGION`, `REKCON_PROFILE`, `REKCON_AWS=1` for real AWS). A trial fails when its
//! file does not load or its scenario does not pass; after the checks, the scenario's
//! redacted transcript is compared with its insta snapshot under `snapshots/`, or under
//! `REKCON_SNAPSHOTS` (another target's set); values the model lets vary with timing (a
//! user's status while it settles) are normalised first. Review changes with
//! `cargo insta review`, or accept them with `INSTA_UPDATE=always`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, OnceLock};

use libtest_mimic::{Arguments, Failed, Trial};
use rekcon::config::{self, EndpointChoice};
use rekcon::model::ModelConfig;
use rekcon::report::Repro;
use rekcon::runner::{self, RunSettings, Runner};
use rekcon::scenario::{self, Loader, ScenarioFile};
use rekcon::serve::{ServeConfig, Server};
use rekcon::target::Target;
use rekcon::transcript::Transcript;

/// What every trial shares: one runtime, one emulator (unless an endpoint is given), one
/// SDK client.
struct Shared {
    runtime: tokio::runtime::Runtime,
    runner: Arc<Runner>,
    emulator: Option<Server>,
}

type Lazy = Arc<OnceLock<Result<Shared, String>>>;

fn start() -> Result<Shared, String> {
    let config = config::from_env().map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a tokio runtime: {e}"))?;
    let (emulator, runner) = runtime.block_on(async {
        let emulator = match config.endpoint {
            EndpointChoice::BuiltIn => Some(
                Server::start(ServeConfig::default())
                    .await
                    .map_err(|e| format!("cannot start the built-in emulator: {e}"))?,
            ),
            _ => None,
        };
        let target_config = config.target(emulator.as_ref().map(Server::url).as_deref());
        let target = Target::connect(&target_config).await.map_err(|e| e.to_string())?;
        let env = match &config.endpoint {
            EndpointChoice::Url { url, .. } => format!("REKCON_ENDPOINT_URL={} ", config::redact_url(url)),
            _ => String::new(),
        };
        let mut settings = RunSettings::new(Repro::CargoTest { env });
        settings.require_run_prefix = target_config.is_aws();
        settings.model = ModelConfig {
            region: Some(target.region().to_string()),
            account: emulator.as_ref().map(|_| ServeConfig::default().account),
            ..ModelConfig::default()
        };
        Ok::<_, String>((emulator, Arc::new(Runner::new(target, settings))))
    })?;
    Ok(Shared { runtime, runner, emulator })
}

fn trial(file: ScenarioFile, ordinal: usize, root: PathBuf, shared: Lazy) -> Trial {
    Trial::test(scenario::test_name(&file.name), move || {
        let scenario = Loader::new(&root).load(&file).map_err(|e| Failed::from(e.to_string()))?;
        let shared = shared.get_or_init(start).as_ref().map_err(|e| Failed::from(e.clone()))?;
        let report = shared.runtime.block_on(shared.runner.run_scenario(ordinal, &scenario));
        if !report.passed() {
            return Err(report.explain().into());
        }
        let transcript = Transcript::new(&report, &scenario.images);
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(snapshot_dir());
        settings.set_prepend_module_to_snapshot(false);
        settings.set_input_file(&scenario.path);
        settings.set_description(scenario.description.trim());
        settings.set_omit_expression(true);
        settings.set_sort_maps(true);
        settings.bind(|| insta::assert_yaml_snapshot!(scenario.snapshot_name(), transcript));
        Ok(())
    })
}

/// The snapshot set of the target under test: `REKCON_SNAPSHOTS` names another target's
/// set (relative to the crate), else the built-in emulator's committed `snapshots/`.
fn snapshot_dir() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    match std::env::var_os("REKCON_SNAPSHOTS").filter(|v| !v.is_empty()) {
        Some(dir) => root.join(dir),
        None => root.join("snapshots"),
    }
}

fn main() -> ExitCode {
    let args = Arguments::from_args();
    let root = runner::crate_scenarios_root();
    let shared: Lazy = Arc::new(OnceLock::new());
    let trials = match scenario::discover(&root) {
        Ok(files) => files
            .into_iter()
            .enumerate()
            .map(|(i, file)| trial(file, i + 1, root.clone(), Arc::clone(&shared)))
            .collect(),
        Err(e) => vec![Trial::test("scenarios", move || Err(e.to_string().into()))],
    };
    let conclusion = libtest_mimic::run(&args, trials);
    // Delete whatever the trials left behind (a panicking trial skips its own cleanup).
    if let Some(Ok(shared)) = shared.get() {
        let cleanup = shared.runtime.block_on(shared.runner.cleanup());
        if !cleanup.failed.is_empty() {
            eprintln!("could not delete collections: {}", cleanup.failed.join(", "));
        }
    }
    if let Some(Ok(Shared { runtime, emulator: Some(server), .. })) =
        Arc::into_inner(shared).and_then(OnceLock::into_inner)
    {
        runtime.block_on(server.shutdown());
    }
    conclusion.exit_code()
}

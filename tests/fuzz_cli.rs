//! `rekcon fuzz` end to end, through the binary: a finding is shrunk, written as a
//! regression scenario and replayed by `rekcon run`; a seed repeats a run; partitions
//! explore apart and their reports merge; the JSON report carries its documented fields;
//! budgets, exit codes and the progress bar behave as documented.

mod fuzz_support;
mod serve_support;

use std::path::Path;
use std::time::{Duration, Instant};

use fuzz_support::{arg, rekcon, scratch_root};
use rekcon::serve::{Mutant, ServeConfig, Server};
use serde_json::Value;

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A report with the figures that vary from run to run (time, rate, ports) taken out.
fn comparable(mut report: Value) -> Value {
    for key in ["elapsed_seconds", "calls_per_second", "target"] {
        report[key] = Value::Null;
    }
    for worker in report["workers"].as_array_mut().into_iter().flatten() {
        worker["elapsed_seconds"] = Value::Null;
    }
    for finding in report["findings"].as_array_mut().into_iter().flatten() {
        finding["found_after_seconds"] = Value::Null;
        finding["first_mismatch"]["expected"] = Value::Null;
        finding["first_mismatch"]["actual"] = Value::Null;
    }
    report
}

#[test]
fn a_finding_is_written_as_a_scenario_that_rekcon_run_replays() {
    let dir = scratch_root("replay");
    let json = dir.join("fuzz.json");
    let out = rekcon(&[
        "fuzz",
        "--mutant",
        "user-active-at-once",
        "--seed",
        "1",
        "--max-findings",
        "1",
        "--max-shrink-iters",
        "50",
        "--scenarios",
        &arg(&dir),
        "--json",
        &arg(&json),
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("seed 1"), "the seed is printed first");

    let report = read_json(&json);
    assert_eq!(report["format_version"], 4);
    assert_eq!(report["seed"], 1);
    assert_eq!(report["partition"], "1/1");
    assert_eq!(report["mutant"], "user-active-at-once");
    for key in ["cases", "checked_calls"] {
        assert!(report[key].as_u64().is_some_and(|n| n > 0), "{key}: {}", report[key]);
    }
    for key in ["calls_per_second", "elapsed_seconds"] {
        assert!(report[key].as_f64().is_some_and(|x| x > 0.0), "{key}: {}", report[key]);
    }
    for key in ["flaky", "generator_bugs", "unknowns", "workers"] {
        assert!(report[key].is_array(), "{key}");
    }
    assert!(report["coverage"]["operations"].is_object());
    assert!(report["coverage_missing"].is_object());
    assert!(report["reproduce"].as_str().is_some_and(|r| r.contains("--seed 1")));

    let finding = &report["findings"][0];
    assert_eq!(report["findings"].as_array().map(Vec::len), Some(1));
    let scenario = Path::new(finding["scenario"].as_str().expect("a path"));
    assert!(scenario.starts_with(dir.join("regressions")) && scenario.is_file(), "{}", scenario.display());
    assert!(stdout.contains(&scenario.display().to_string()), "the path is printed");
    let name = finding["name"].as_str().expect("a name");
    assert!(name.starts_with("regressions/fuzz_1_1_"), "{name}");
    assert!(finding["steps"].as_u64().is_some_and(|s| (1..=8).contains(&s)), "{}", finding["steps"]);
    let mismatch = &finding["first_mismatch"];
    assert_eq!(mismatch["path"], "UserStatus");
    assert!(finding["reproduce"].as_str().is_some_and(|r| r.contains(&format!("rekcon run {name}"))));
    let yaml = std::fs::read_to_string(scenario).expect("the regression");
    assert!(yaml.contains("seed 1") && yaml.contains("UserStatus"), "the description names both:\n{yaml}");

    // `rekcon run` fails the same way against an emulator with the same bug ...
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let mutant = Mutant::from_name("user-active-at-once");
    let server = runtime
        .block_on(Server::start(ServeConfig {
            mutants: mutant.into_iter().collect(),
            ..ServeConfig::default()
        }))
        .expect("the emulator starts");
    let run_json = dir.join("run.json");
    let out = rekcon(&[
        "run",
        "--scenarios",
        &arg(&dir),
        name,
        "--endpoint-url",
        &server.url(),
        "--json",
        &arg(&run_json),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let run = read_json(&run_json);
    let replayed = &run["scenarios"][0];
    assert_eq!(replayed["verdict"]["verdict"], "diverged");
    assert_eq!(replayed["verdict"]["step"], mismatch["step"]);
    assert_eq!(replayed["failure"]["findings"][0]["path"], mismatch["path"]);
    runtime.block_on(server.shutdown());

    // ... and so does the one-line replay command the report gives, which plants the same
    // bug in the built-in emulator.
    let replay = finding["reproduce"].as_str().expect("a replay command");
    assert!(!replay.contains("rekcon serve"), "{replay}");
    assert!(replay.contains("--mutant user-active-at-once"), "{replay}");
    let out = rekcon(&["run", "--scenarios", &arg(&dir), name, "--mutant", "user-active-at-once"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("UserStatus"), "{}", text(&out.stdout));

    // ... and passes against the built-in emulator without it.
    let out = rekcon(&["run", "--scenarios", &arg(&dir), name]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_same_seed_repeats_the_run() {
    let dir = scratch_root("seed");
    let run = |target: &str, mutant: Option<&str>, file: &str| {
        let json = dir.join(file);
        // Shrinking capped so the debug build stays quick; the step pass does the rest.
        let mut args = vec![
            "fuzz",
            "--seed",
            "5",
            "--cases",
            "40",
            "--target",
            target,
            "--max-findings",
            "1",
            "--max-shrink-iters",
            "50",
        ];
        if let Some(m) = mutant {
            args.extend(["--mutant", m]);
        }
        let (dir_arg, json_arg) = (arg(&dir), arg(&json));
        args.extend(["--scenarios", &dir_arg, "--json", &json_arg]);
        let out = rekcon(&args);
        assert!(matches!(out.status.code(), Some(0 | 1)), "{}", text(&out.stdout));
        read_json(&json)
    };
    let first = run("wire", None, "a.json");
    assert_eq!(comparable(first.clone()), comparable(run("wire", None, "b.json")));
    // Over HTTP against the emulator, with a bug to find: the same finding, case for case.
    let first = run("http", Some("delete-owned-face"), "c.json");
    let second = run("http", Some("delete-owned-face"), "d.json");
    assert_eq!(first["findings"].as_array().map(Vec::len), Some(1));
    let steps = |r: &Value| {
        let path = r["findings"][0]["scenario"].as_str().expect("a path").to_string();
        let yaml = std::fs::read_to_string(path).expect("the regression");
        yaml.split_once("steps:").map(|(_, s)| s.to_string()).expect("steps")
    };
    assert_eq!(steps(&first), steps(&second));
    let findings = |r: &Value| {
        let mut f = r["findings"][0].clone();
        for key in ["scenario", "name", "reproduce", "found_after_seconds"] {
            f[key] = Value::Null;
        }
        f
    };
    assert_eq!(findings(&first), findings(&second));
    assert_eq!(first["cases"], second["cases"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn partitions_explore_apart_and_their_reports_merge() {
    let dir = scratch_root("partition");
    let worker = |k: &str| {
        let json = dir.join(format!("p{}.json", &k[..1]));
        let out = rekcon(&[
            "fuzz",
            "--seed",
            "9",
            "--cases",
            "30",
            "--target",
            "wire",
            "--partition",
            k,
            "--scenarios",
            &arg(&dir),
            "--json",
            &arg(&json),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
        (json.clone(), read_json(&json))
    };
    let (a_path, a) = worker("1/2");
    let (b_path, b) = worker("2/2");
    assert_eq!(a["partition"], "1/2");
    assert_ne!(a["workers"][0]["worker_seed"], b["workers"][0]["worker_seed"]);
    assert_ne!(a["coverage"], b["coverage"], "the workers ran different cases");

    let merged_path = dir.join("merged.json");
    let out = rekcon(&["fuzz", "merge", &arg(&a_path), &arg(&b_path), "--json", &arg(&merged_path)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let merged = read_json(&merged_path);
    assert_eq!(merged["format_version"], 4);
    assert_eq!(merged["partition"], "1/2,2/2");
    assert_eq!(merged["cases"], 60);
    let sum = |key: &str| a[key].as_u64().unwrap_or(0) + b[key].as_u64().unwrap_or(0);
    assert_eq!(merged["checked_calls"].as_u64(), Some(sum("checked_calls")));
    assert_eq!(merged["workers"].as_array().map(Vec::len), Some(2));
    let ops = |r: &Value| r["coverage"]["operations"]["IndexFaces"].as_u64().unwrap_or(0);
    assert_eq!(ops(&merged), ops(&a) + ops(&b));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_options_exit_2_and_a_silent_endpoint_exits_3() {
    for args in [
        vec!["fuzz", "--partition", "3/2"],
        vec!["fuzz", "--invalid-share", "1.5"],
        vec!["fuzz", "--mutant", "no-such-bug"],
        vec!["fuzz", "--mutant", "user-active-at-once", "--endpoint-url", "http://127.0.0.1:9"],
        vec!["fuzz", "--target", "model", "--faults", "0.1"],
        vec!["fuzz", "--scenarios", "/nonexistent"],
        vec!["fuzz", "merge", "/nonexistent/report.json"],
    ] {
        let out = rekcon(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out.stderr));
    }
    // A port nothing listens on: no answer is not a divergence.
    let port =
        std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
    let dir = scratch_root("silent");
    let out = rekcon(&[
        "fuzz",
        "--cases",
        "3",
        "--endpoint-url",
        &format!("http://127.0.0.1:{port}"),
        "--scenarios",
        &arg(&dir),
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("no answer"), "{}", text(&out.stdout));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_time_budget_stops_new_cases_and_the_bar_stays_quiet_off_a_terminal() {
    let dir = scratch_root("time");
    let json = dir.join("t.json");
    let started = Instant::now();
    let out = rekcon(&[
        "fuzz",
        "--cases",
        "1000000",
        "--time",
        "1",
        "--target",
        "wire",
        "--scenarios",
        &arg(&dir),
        "--json",
        &arg(&json),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(started.elapsed() < Duration::from_secs(30), "took {:?}", started.elapsed());
    let report = read_json(&json);
    assert!(report["cases"].as_u64().is_some_and(|n| n > 0 && n < 1_000_000), "{}", report["cases"]);
    // Captured stderr is not a terminal: one line naming the seed, no bar.
    let stderr = text(&out.stderr);
    assert!(!stderr.contains("cases ·") && !stderr.contains('\r'), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// What an interrupted `rekcon fuzz` left: its exit code, stdout and stderr.
#[cfg(unix)]
struct Interrupted {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Starts `rekcon fuzz <args>` with endpoint credentials for a loopback emulator, waits
/// until the run has announced its seed (the Ctrl-C handler is in place by then) and
/// `started` holds (polled), lets it work for `working`, sends SIGINT and waits for it
/// to end.
#[cfg(unix)]
fn interrupt_fuzz(args: &[&str], started: &dyn Fn() -> bool, working: Duration) -> Interrupted {
    use std::io::{BufRead as _, BufReader, Read as _};
    use std::process::{Command, Stdio};

    let mut child = serve_support::rekcon_for_loopback()
        .arg("fuzz")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("rekcon starts");
    let stderr = child.stderr.take().expect("piped stderr");
    let (lines, seen) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = lines.send(line.clone());
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let first = seen.recv_timeout(Duration::from_secs(120)).expect("the run announces its seed");
    assert!(first.starts_with("rekcon fuzz: seed"), "{first}");
    let waiting = Instant::now() + Duration::from_secs(120);
    while !started() {
        assert!(Instant::now() < waiting, "the run did not start within 120 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(working);
    let sent = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill runs");
    assert!(sent.success(), "SIGINT delivered");
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().expect("waits") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("rekcon fuzz did not stop within 120 s of Ctrl-C");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stdout = String::new();
    child.stdout.take().expect("piped stdout").read_to_string(&mut stdout).expect("stdout");
    Interrupted { code: status.code(), stdout, stderr: reader.join().expect("stderr read") }
}

#[cfg(unix)]
#[test]
fn ctrl_c_ends_the_run_with_its_report_written() {
    let dir = scratch_root("interrupt");
    let json = dir.join("i.json");
    let run = interrupt_fuzz(
        &["--target", "model", "--cases", "100000000", "--scenarios", &arg(&dir), "--json", &arg(&json)],
        &|| true,
        Duration::from_millis(800),
    );
    assert_eq!(run.code, Some(130), "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("interrupted: finishing the cases under way"), "{}", run.stderr);
    assert!(run.stdout.contains("interrupted after"), "{}", run.stdout);
    let report = read_json(&json);
    assert_eq!(report["interrupted"], true);
    assert!(report["cases"].as_u64().is_some_and(|n| n > 0 && n < 100_000_000), "{}", report["cases"]);
    assert!(report["findings"].as_array().is_some_and(Vec::is_empty));
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(unix)]
#[test]
fn ctrl_c_over_http_deletes_every_collection_the_run_created() {
    let dir = scratch_root("interrupt-http");
    let json = dir.join("i.json");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let server = runtime.block_on(Server::start(ServeConfig::default())).expect("the emulator starts");
    let url = server.url();
    let client = serve_support::sdk_client(&url);
    // Interrupted once its cases have begun creating collections (a loaded machine can
    // take seconds to get there), and a little after.
    let creating = || {
        runtime.block_on(async {
            client.list_collections().send().await.is_ok_and(|page| !page.collection_ids().is_empty())
        })
    };
    let run = interrupt_fuzz(
        &["--endpoint-url", &url, "--cases", "100000000", "--scenarios", &arg(&dir), "--json", &arg(&json)],
        &creating,
        Duration::from_millis(500),
    );
    assert_eq!(run.code, Some(130), "{}\n{}", run.stdout, run.stderr);
    // Cases create collections as they go; none may be left once the run has ended.
    let left = runtime.block_on(async {
        let page = client.list_collections().max_results(1000).send().await.expect("listed");
        page.collection_ids().to_vec()
    });
    assert!(left.is_empty(), "left behind: {left:?}");
    let report = read_json(&json);
    assert_eq!(report["interrupted"], true);
    assert!(report["checked_calls"].as_u64().is_some_and(|n| n > 0), "the run had started calling");
    runtime.block_on(server.shutdown());
    let _ = std::fs::remove_dir_all(&dir);
}

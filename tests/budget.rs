//! Request budgets: `--estimate` counts what the selected scenarios would send,
//! `--max-requests N` stops a run cleanly after exactly N checked calls (its cleanup on
//! top), a real-AWS run above the threshold is refused off a terminal without `--yes`, and
//! `rekcon fuzz --aws` needs `--max-requests`. Never real AWS: the refusals happen before
//! anything is sent, and the endpoints named are not AWS's own hosts.

#![cfg(unix)]

mod serve_support;

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::{Arc, Mutex};

use rekcon::serve::{LogSink, ServeConfig};

/// An AWS host name that resolves nowhere: were anything sent, it would go nowhere.
const NOT_AWS: &str = "https://rekognition.rekcon-test-nowhere.invalid.amazonaws.com";

/// Six calls each: one image call, one collection, one user, a search that polls ListUsers.
fn scenarios_root(copies: usize) -> PathBuf {
    serve_support::slow_scenarios(copies)
}

fn rekcon(root: &Path, args: &[&str]) -> Output {
    serve_support::rekcon_for_loopback()
        .env("REKCON_JOURNAL_DIR", root.join("journals"))
        .args(args)
        .arg("--scenarios")
        .arg(root)
        .stdin(Stdio::null())
        .output()
        .expect("rekcon runs")
}

fn text(output: &Output) -> String {
    format!("{}\n{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

#[test]
fn estimate_counts_the_selected_steps_and_sends_nothing() {
    let root = scenarios_root(3);
    // Nothing listens on port 1: an estimate that sent anything would fail.
    let out = rekcon(&root, &["run", "--estimate", "--endpoint-url", "http://127.0.0.1:1"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("estimate: 18 requests (3 image calls), 3 collection(s) and 3 user(s) created\n"),
        "{stdout}"
    );
    for line in [
        "CreateCollection          3",
        "IndexFaces                3  (image call)",
        "ListUsers (polls)         3",
    ] {
        assert!(stdout.contains(line), "`{line}` in:\n{stdout}");
    }
    // A filter narrows the estimate as it narrows the run.
    let out = rekcon(&root, &["run", "--estimate", "s/slow000"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("estimate: 6 requests (1 image calls)"),
        "{}",
        text(&out)
    );
    let out = rekcon(&root, &["fuzz", "--estimate", "--cases", "40", "--max-steps", "10"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("at most 400 requests exploring"),
        "{}",
        text(&out)
    );
    let _ = std::fs::remove_dir_all(&root);
}

/// The built-in emulator on a loopback port, logging the `X-Amz-Target` of every request.
struct Logged {
    runtime: tokio::runtime::Runtime,
    server: rekcon::serve::Server,
    targets: Arc<Mutex<Vec<String>>>,
}

impl Logged {
    fn start() -> Logged {
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("rt");
        let targets: Arc<Mutex<Vec<String>>> = Arc::default();
        let log = Arc::clone(&targets);
        let config = ServeConfig {
            log_requests: true,
            log_sink: Some(LogSink::new(move |line| {
                if let Ok(mut targets) = log.lock() {
                    targets.push(line.target.clone());
                }
            })),
            ..ServeConfig::default()
        };
        let server = runtime.block_on(serve_support::start(config));
        Logged { runtime, server, targets }
    }

    /// No collection is left on the emulator.
    fn assert_nothing_left(self) {
        let client = serve_support::sdk_client(&self.server.url());
        let left = self.runtime.block_on(async {
            client.list_collections().send().await.expect("listed").collection_ids().to_vec()
        });
        assert!(left.is_empty(), "nothing is left behind: {left:?}");
        self.runtime.block_on(self.server.shutdown());
    }
}

#[test]
fn max_requests_stops_after_exactly_n_calls_and_cleans_up() {
    let root = scenarios_root(6);
    let logged = Logged::start();
    let (url, targets) = (logged.server.url(), Arc::clone(&logged.targets));
    let report = root.join("r.json");
    let report_arg = report.to_str().expect("utf-8 path");
    let out = rekcon(
        &root,
        &["run", "--endpoint-url", &url, "--max-requests", "13", "--jobs", "2", "--json", report_arg],
    );
    assert_eq!(out.status.code(), Some(7), "the documented exit code\n{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("(stopped at --max-requests)"), "{}", text(&out));
    let sent = targets.lock().expect("log").clone();
    let (cleanup, checked): (Vec<&String>, Vec<&String>) =
        sent.iter().partition(|t| t.ends_with("DeleteCollection"));
    assert_eq!(checked.len(), 13, "exactly N calls besides the cleanup: {sent:?}");
    let created = sent.iter().filter(|t| t.ends_with("CreateCollection")).count();
    assert!(cleanup.len() <= created, "the cleanup deletes what was created: {sent:?}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("the report is written"))
            .expect("JSON");
    let verdicts: Vec<&serde_json::Value> =
        json["scenarios"].as_array().expect("scenarios").iter().map(|s| &s["verdict"]).collect();
    assert!(verdicts.iter().all(|v| v["verdict"] == "pass" || v["verdict"] == "not_run"), "{verdicts:?}");
    let not_run: Vec<&&serde_json::Value> = verdicts.iter().filter(|v| v["verdict"] == "not_run").collect();
    assert!(
        !not_run.is_empty()
            && not_run.iter().all(|v| v["reason"].as_str().is_some_and(|r| r.contains("--max-requests 13"))),
        "{verdicts:?}"
    );
    assert_eq!(json["exit_code"], 7);
    logged.assert_nothing_left();
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn max_requests_stops_a_fuzz_campaign_cleanly() {
    let root = scenarios_root(0);
    let logged = Logged::start();
    let (url, targets) = (logged.server.url(), Arc::clone(&logged.targets));
    let out = rekcon(
        &root,
        &["fuzz", "--endpoint-url", &url, "--max-requests", "40", "--cases", "100000", "--seed", "7"],
    );
    assert_eq!(out.status.code(), Some(7), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("stopped at --max-requests 40"), "{}", text(&out));
    let sent = targets.lock().expect("log").clone();
    let others = sent.iter().filter(|t| !t.ends_with("DeleteCollection")).count();
    // The 40 checked calls may include generated DeleteCollections; the cleanup's come on top.
    assert!(others <= 40 && sent.len() >= 40, "{} calls, {others} not deletions: {sent:?}", sent.len());
    logged.assert_nothing_left();
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_large_real_aws_run_needs_yes_off_a_terminal() {
    // 100 scenarios of 6 calls: 600 requests, above the threshold of 500.
    let root = scenarios_root(100);
    let out = rekcon(&root, &["run", "--aws", "--endpoint-url", NOT_AWS, "--region", "us-east-1"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr
            .contains("estimate: 600 requests (100 image calls), 100 collection(s) and 100 user(s) created"),
        "{stderr}"
    );
    assert!(stderr.contains("above 500: pass --yes to confirm, or --max-requests N to cap it"), "{stderr}");
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn fuzz_against_real_aws_needs_max_requests() {
    let root = scenarios_root(0);
    let out = rekcon(&root, &["fuzz", "--aws", "--endpoint-url", NOT_AWS, "--region", "us-east-1"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs --max-requests N"), "{}", text(&out));
    let _ = std::fs::remove_dir_all(&root);
}

//! Distant and throttling endpoints: a run against `serve --throttle-tps` passes with
//! the retries it needed counted (and none counted without throttling), the default
//! `--jobs` for an endpoint URL is the remote one, and `serve --latency-ms` delays
//! every answer.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use clap::Parser;
use rekcon::config::{REMOTE_JOBS, RunArgs, RunConfig};
use rekcon::serve::{ServeConfig, Server};
use serde_json::Value;

/// `rekcon run`'s options, parsed as the binary parses them.
#[derive(Debug, Parser)]
struct Cli {
    #[command(flatten)]
    run: RunArgs,
}

fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rekcon-remote-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

/// `rekcon run collections --endpoint-url URL --json FILE`: its output and JSON report.
fn run_collections(url: String) -> (Output, Value) {
    let dir = scratch();
    let json = dir.join("report.json");
    let output = Command::new(env!("CARGO_BIN_EXE_rekcon"))
        .args(["run", "collections", "--endpoint-url", &url, "--json"])
        .arg(&json)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_CONFIG_FILE", dir.join("no-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("no-credentials"))
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_MAX_ATTEMPTS")
        .env_remove("AWS_RETRY_MODE")
        .output()
        .expect("rekcon runs");
    let report = std::fs::read_to_string(&json).ok().and_then(|t| serde_json::from_str(&t).ok());
    let _ = std::fs::remove_dir_all(&dir);
    (output, report.unwrap_or(Value::Null))
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// The sum of one counter over every operation of a JSON report's `retries`.
fn total(report: &Value, counter: &str) -> u64 {
    report["retries"].as_object().map_or(0, |ops| ops.values().filter_map(|r| r[counter].as_u64()).sum())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_against_a_throttling_endpoint_passes_and_counts_its_retries() {
    let server = Server::start(ServeConfig { throttle_tps: Some(10), ..ServeConfig::default() })
        .await
        .expect("server starts");
    let url = server.url();
    let (output, report) = tokio::task::spawn_blocking(move || run_collections(url)).await.expect("joins");
    server.shutdown().await;
    let out = text(&output);
    // Throttled calls were retried until answered: nothing failed, nothing ran again.
    assert_eq!(output.status.code(), Some(0), "{out}");
    assert!(!out.contains("run again"), "{out}");
    let scenarios = report["scenarios"].as_array().expect("scenarios");
    assert!(scenarios.len() >= 5 && scenarios.iter().all(|s| s["verdict"]["verdict"] == "pass"), "{out}");
    // The endpoint throttled (10 requests/s against dozens of scenarios at once) and the
    // report counts it, per operation, in JSON and in text.
    assert!(total(&report, "throttled") > 0, "no throttled retry counted: {}", report["retries"]);
    assert!(total(&report, "retries") >= total(&report, "throttled"));
    assert_eq!(total(&report, "throttled_out"), 0, "{}", report["retries"]);
    let (op, counts) = report["retries"]
        .as_object()
        .and_then(|ops| ops.iter().find(|(_, r)| r["throttled"].as_u64() > Some(0)))
        .expect("an operation with throttled retries");
    let line = format!(
        "  {op}: {} retr{} ({} throttled)",
        counts["retries"],
        if counts["retries"] == 1 { "y" } else { "ies" },
        counts["throttled"]
    );
    assert!(out.contains("retries the endpoint needed (answered in the end; not divergences):"), "{out}");
    assert!(out.contains(&line), "`{line}` not in:\n{out}");
    // `--throttle-tps` caps every operation together, unlike AWS's per-operation quotas:
    // the limiter found it out (and paced every call as one), and the report says so.
    assert_eq!(report["shared_quota"], true, "{out}");
    assert!(out.contains("throttling: the endpoint throttled every operation together"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_throttling_no_retry_is_counted() {
    let server = Server::start(ServeConfig::default()).await.expect("server starts");
    let url = server.url();
    let (output, report) = tokio::task::spawn_blocking(move || run_collections(url)).await.expect("joins");
    server.shutdown().await;
    let out = text(&output);
    assert_eq!(output.status.code(), Some(0), "{out}");
    assert!(total(&report, "calls") > 0, "calls are counted: {}", report["retries"]);
    assert_eq!(total(&report, "retries"), 0, "{}", report["retries"]);
    assert!(!out.contains("retries the endpoint needed"), "{out}");
    assert!(report.get("shared_quota").is_none(), "{out}");
}

fn jobs(args: &[&str]) -> usize {
    let argv = std::iter::once("rekcon").chain(args.iter().copied());
    RunConfig::from_args(Cli::try_parse_from(argv).expect("parses").run).expect("valid").jobs
}

#[test]
fn the_default_jobs_for_an_endpoint_url_is_the_remote_default() {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    assert_eq!(jobs(&["--endpoint-url", "http://127.0.0.1:9"]), REMOTE_JOBS);
    assert!(REMOTE_JOBS > cores, "the remote default is not the cores");
    assert_eq!(jobs(&["--endpoint-url", "http://127.0.0.1:9", "--jobs", "3"]), 3);
}

#[tokio::test]
async fn latency_delays_every_answer() {
    let latency = Duration::from_millis(150);
    let server = Server::start(ServeConfig { latency, ..ServeConfig::default() }).await.expect("starts");
    let target = rekcon::target::Target::connect(&rekcon::config::TargetConfig::new(
        rekcon::config::Endpoint::BuiltIn(server.url()),
    ))
    .await
    .expect("connects");
    let call =
        rekcon::target::Call::Raw { target: "RekognitionService.ListCollections".into(), body: "{}".into() };
    for _ in 0..2 {
        let sent = Instant::now();
        let raw = target.send(&call).await.expect("an answer");
        // A lower bound only: the answer cannot come before the added latency.
        assert!(sent.elapsed() >= latency, "answered after {:?}", sent.elapsed());
        assert_eq!(raw.status, 200);
    }
    server.shutdown().await;
}

//! A closed stdout (`rekcon run --json r.json | true`) neither panics nor loses the
//! reports: they are written before anything is printed, and a broken pipe ends the
//! command quietly with its own exit code. The same for `rekcon fuzz` and `rekcon cleanup`.

#![cfg(unix)]

mod serve_support;

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use rekcon::serve::{ServeConfig, Server};

const GOOD: &str = "description: a collection is created and described
collections: [c]
steps:
  - CreateCollection: { CollectionId: \"${c}\" }
  - DescribeCollection: { CollectionId: \"${c}\" }
";

fn scenarios_root() -> PathBuf {
    let root = std::env::temp_dir().join(format!("rekcon-stdout-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(root.join("images")).expect("temp dir");
    std::fs::create_dir_all(root.join("c")).expect("temp dir");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/images/alice-1.png");
    std::fs::copy(fixture, root.join("images/alice-1.png")).expect("fixture image");
    std::fs::write(root.join("c/good.yaml"), GOOD).expect("scenario file");
    root
}

/// Runs `command` with its stdout a pipe whose reading end is closed before the command
/// writes anything; returns its exit code and stderr.
fn with_closed_stdout(mut command: Command) -> (Option<i32>, String) {
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("rekcon starts");
    drop(child.stdout.take());
    let mut stderr = String::new();
    child.stderr.take().expect("piped stderr").read_to_string(&mut stderr).expect("stderr");
    let status = child.wait().expect("waits");
    (status.code(), stderr)
}

fn assert_quiet(stderr: &str) {
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("Broken pipe"), "{stderr}");
}

#[test]
fn run_writes_its_reports_and_exits_with_its_verdict() {
    let root = scenarios_root();
    let (json, junit) = (root.join("r.json"), root.join("j.xml"));
    let mut command = serve_support::rekcon_for_loopback();
    command.arg("run").arg("--scenarios").arg(&root).arg("--json").arg(&json).arg("--junit").arg(&junit);
    let (code, stderr) = with_closed_stdout(command);
    assert_eq!(code, Some(0), "{stderr}");
    assert_quiet(&stderr);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("r.json written")).expect("JSON");
    assert_eq!(report["exit_code"], 0);
    assert!(std::fs::read_to_string(&junit).expect("JUnit written").contains("testsuite"));
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn fuzz_writes_its_report_and_exits_with_its_verdict() {
    let root = scenarios_root();
    let json = root.join("f.json");
    let mut command = serve_support::rekcon_for_loopback();
    command
        .args(["fuzz", "--target", "model", "--cases", "5", "--scenarios"])
        .arg(&root)
        .arg("--json")
        .arg(&json);
    let (code, stderr) = with_closed_stdout(command);
    assert_eq!(code, Some(0), "{stderr}");
    assert_quiet(&stderr);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("f.json written")).expect("JSON");
    assert_eq!(report["cases"], 5);
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn cleanup_deletes_and_exits_0() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let server =
        runtime.block_on(Server::start(ServeConfig { port: 0, ..ServeConfig::default() })).expect("starts");
    let client = serve_support::sdk_client(&server.url());
    runtime.block_on(async {
        client.create_collection().collection_id("rekcon-00000000-1-left").send().await.expect("created");
    });
    let mut command = serve_support::rekcon_for_loopback();
    command.args(["cleanup", "--endpoint-url", &server.url()]);
    let (code, stderr) = with_closed_stdout(command);
    assert_eq!(code, Some(0), "{stderr}");
    assert_quiet(&stderr);
    let left = runtime.block_on(async {
        client.list_collections().send().await.expect("listed").collection_ids().to_vec()
    });
    assert!(left.is_empty(), "left: {left:?}");
    runtime.block_on(server.shutdown());
}

//! Defect 9: `rekcon cleanup` deleting a run's collections while the run is using them is
//! a set-up problem of the run (exit 5), never a divergence of the endpoint; an endpoint
//! that loses a collection itself, after one of the run's own calls, still diverges.

#![cfg(unix)]

mod serve_support;

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use rekcon::serve::ServeConfig;

/// Waits for a user to settle, then deletes a face and lists the rest: a collection
/// deleted by someone else while the run waits is found gone after a read of its own;
/// one the endpoint drops in DeleteFaces is found gone after a write of the run's.
const SCENARIO: &str = "description: d
collections: [c]
images: [alice-1, bob-1]
steps:
  - CreateCollection: { CollectionId: \"${c}\" }
  - IndexFaces: { CollectionId: \"${c}\", Image: { Bytes: \"${alice-1}\" } }
    capture: { a1: \"FaceRecords[0].Face.FaceId\" }
  - IndexFaces: { CollectionId: \"${c}\", Image: { Bytes: \"${bob-1}\" } }
    capture: { b1: \"FaceRecords[0].Face.FaceId\" }
  - CreateUser: { CollectionId: \"${c}\", UserId: alice }
  - AssociateFaces: { CollectionId: \"${c}\", UserId: alice, FaceIds: [\"${a1}\"] }
  - SearchUsers: { CollectionId: \"${c}\", FaceId: \"${a1}\" }
  - DeleteFaces: { CollectionId: \"${c}\", FaceIds: [\"${b1}\"] }
  - ListFaces: { CollectionId: \"${c}\" }
";

fn scenarios_root() -> PathBuf {
    serve_support::scenarios_folder(&[("vanish.yaml".to_string(), SCENARIO)])
}

fn rekcon(root: &Path) -> std::process::Command {
    let mut command = serve_support::rekcon_for_loopback();
    command.env("REKCON_JOURNAL_DIR", root.join("journals")).stdout(Stdio::piped()).stderr(Stdio::piped());
    command
}

fn verdict(report: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(report).expect("the JSON report is written");
    let json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    json["scenarios"][0]["verdict"].clone()
}

fn text(output: &Output) -> String {
    format!("{}\n{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

#[test]
fn a_concurrent_cleanup_is_a_set_up_problem_not_a_divergence() {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("rt");
    // Users take 3 s to settle: the run is polling ListUsers when the cleanup comes.
    let config = ServeConfig { settle: Duration::from_secs(3), ..ServeConfig::default() };
    let server = runtime.block_on(serve_support::start(config));
    let url = server.url();
    let client = serve_support::sdk_client(&url);
    let root = scenarios_root();
    let report = root.join("r.json");
    let run = rekcon(&root)
        .args(["run", "--endpoint-url", &url, "--scenarios"])
        .arg(&root)
        .arg("--json")
        .arg(&report)
        .spawn()
        .expect("rekcon run starts");
    // Waits until the run's user is associated (UPDATING): from then on it waits for it.
    let deadline = Instant::now() + Duration::from_secs(60);
    let associated = || {
        runtime.block_on(async {
            let Ok(page) = client.list_collections().send().await else { return false };
            for id in page.collection_ids() {
                let Ok(users) = client.list_users().collection_id(id).send().await else { continue };
                if users.users().iter().any(|u| u.user_status().is_some_and(|s| s.as_str() == "UPDATING")) {
                    return true;
                }
            }
            false
        })
    };
    while !associated() {
        assert!(Instant::now() < deadline, "the run associated no face within 60 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    let cleanup = rekcon(&root).args(["cleanup", "--endpoint-url", &url]).output().expect("cleanup runs");
    assert_eq!(cleanup.status.code(), Some(0), "{}", text(&cleanup));
    assert!(String::from_utf8_lossy(&cleanup.stdout).contains("deleted       rekcon-"), "{}", text(&cleanup));
    let run = run.wait_with_output().expect("the run ends");
    let verdict = verdict(&report);
    assert_eq!(verdict["verdict"], "setup_problem", "{verdict}\n{}", text(&run));
    let hint = verdict["hint"].as_str().unwrap_or_default();
    assert!(hint.contains("deleted by something else, such as `rekcon cleanup`"), "{hint}");
    assert_eq!(run.status.code(), Some(5), "the set-up problem's exit code\n{}", text(&run));
    assert!(!text(&run).contains("[contract]"), "no cause is blamed on the endpoint:\n{}", text(&run));
    runtime.block_on(server.shutdown());
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn an_endpoint_that_loses_the_collection_itself_still_diverges() {
    let root = scenarios_root();
    let report = root.join("r.json");
    let run = rekcon(&root)
        .args(["run", "--mutant", "delete-faces-drops-collection", "--scenarios"])
        .arg(&root)
        .arg("--json")
        .arg(&report)
        .output()
        .expect("rekcon run runs");
    let verdict = verdict(&report);
    assert_eq!(verdict["verdict"], "diverged", "{verdict}\n{}", text(&run));
    assert_eq!(run.status.code(), Some(1), "{}", text(&run));
    assert!(
        text(&run).contains("ListFaces __type: expected success, got ResourceNotFoundException"),
        "{}",
        text(&run)
    );
    assert!(!text(&run).contains("deleted by something else"), "{}", text(&run));
    let _ = std::fs::remove_dir_all(&root);
}

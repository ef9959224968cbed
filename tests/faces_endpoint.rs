//! Endpoints with their own face detection: `rekcon serve --detector canned` (one fixed
//! face for any image, similarity from a hash) judged by `rekcon run --faces endpoint`,
//! and stacked planted bugs (`--mutant` more than once).
//!
//! The canned emulator can never match the fixtures' markers, so it is the honest test
//! of the endpoint profile: the whole suite must pass without a single false divergence
//! or contradiction, and a planted identity-independent bug must still be caught.

mod serve_support;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;
use std::time::Duration;

use rekcon::api::Operation;
use rekcon::config::{Endpoint, TargetConfig};
use rekcon::model::{FaceSource, ModelConfig};
use rekcon::report::{Repro, ScenarioReport, Verdict};
use rekcon::runner::{RunSettings, Runner};
use rekcon::scenario;
use rekcon::serve::{Detector, Mutant, ServeConfig};
use serde_json::json;
use serve_support::{associate, call, create_collection, create_user, index, rekcon_for_loopback, start};

fn suite() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

/// How many scenarios the suite holds.
fn suite_size() -> usize {
    scenario::discover(&suite()).expect("the suite is readable").len()
}

fn canned(mutants: Vec<Mutant>) -> ServeConfig {
    ServeConfig { detector: Detector::Canned, mutants, ..ServeConfig::default() }
}

/// `rekcon run --scenarios <suite> ARGS` against `url`, off the async runtime.
async fn run_against(url: String, args: Vec<&'static str>) -> Output {
    tokio::task::spawn_blocking(move || {
        rekcon_for_loopback()
            .arg("run")
            .arg("--scenarios")
            .arg(suite())
            .args(["--endpoint-url", &url])
            .args(args)
            .output()
            .expect("rekcon runs")
    })
    .await
    .expect("the run finishes")
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_canned_detector_passes_the_whole_suite_judged_by_endpoint_faces() {
    let server = start(canned(Vec::new())).await;
    let out = run_against(server.url(), vec!["--faces", "endpoint"]).await;
    let report = text(&out);
    assert_eq!(out.status.code(), Some(0), "{report}");
    assert!(report.contains(&format!("{} passed in", suite_size())), "{report}");
    // The same endpoint judged by the fixtures' markers diverges: the profile is what
    // makes it pass, not a model that accepts anything.
    let strict = run_against(server.url(), vec!["--faces", "marker"]).await;
    assert_eq!(strict.status.code(), Some(1), "{}", text(&strict));
    assert!(text(&strict).contains("diverged      faces/index_faces_group"), "{}", text(&strict));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stolen_face_is_caught_through_a_canned_detector() {
    let server = start(canned(vec![Mutant::StealAssociatedFace])).await;
    let out = run_against(server.url(), vec!["--faces", "endpoint"]).await;
    let report = text(&out);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(report.contains("diverged      associate/associate_face_of_other_user"), "{report}");
    assert!(report.contains("associate_face_of_other_user.yaml:18): AssociateFaces"), "{report}");
    assert!(
        report.contains("[contract] AssociateFaces AssociatedFaces[0]: expected the item for")
            && report.contains("in UnsuccessfulFaceAssociations"),
        "{report}"
    );
    assert!(report.contains("--faces endpoint"), "the reproduction carries the profile: {report}");
    server.shutdown().await;
}

#[test]
fn rekcon_run_starts_a_canned_emulator_in_one_command() {
    let out = rekcon_for_loopback()
        .args(["run", "--scenarios"])
        .arg(suite())
        .args(["--detector", "canned"])
        .output()
        .expect("rekcon runs");
    let report = text(&out);
    assert_eq!(out.status.code(), Some(0), "{report}");
    assert!(report.contains("runs with the `canned` detector"), "{report}");
    assert!(report.contains(&format!("{} passed in", suite_size())), "{report}");
    // --detector is the built-in emulator's; an endpoint URL cannot take it.
    let out = rekcon_for_loopback()
        .args(["run", "--scenarios"])
        .arg(suite())
        .args(["--detector", "canned", "--endpoint-url", "http://127.0.0.1:9"])
        .output()
        .expect("rekcon runs");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    // --faces catalogue needs the catalogue.
    let out = rekcon_for_loopback()
        .args(["run", "--scenarios"])
        .arg(suite())
        .args(["--faces", "catalogue"])
        .output();
    let out = out.expect("rekcon runs");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("--faces catalogue needs"), "{}", text(&out));
}

/// A scenarios folder holding `files` and these fixture images from the suite.
fn scenarios_root(images: &[&str], files: &[(&str, &str)]) -> PathBuf {
    let root = std::env::temp_dir().join(format!("rekcon-faces-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(root.join("images")).expect("temp dir");
    for image in images {
        let name = format!("{image}.png");
        std::fs::copy(suite().join("images").join(&name), root.join("images").join(&name)).expect("fixture");
    }
    for (name, text) in files {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().expect("has a parent")).expect("temp dir");
        std::fs::write(path, text).expect("scenario file");
    }
    root
}

async fn endpoint_runner(url: String) -> Arc<Runner> {
    let mut config = TargetConfig::new(Endpoint::Url(url));
    config.attempt_timeout = Duration::from_secs(5);
    config.operation_timeout = Duration::from_secs(10);
    let target = rekcon::target::Target::connect(&config).await.expect("the SDK client builds");
    let mut settings = RunSettings::new(Repro::Cli { flags: String::new() });
    settings.settle_timeout = Duration::from_secs(5);
    settings.model = ModelConfig {
        region: Some(target.region().to_string()),
        faces: FaceSource::Endpoint,
        ..ModelConfig::default()
    };
    Arc::new(Runner::new(target, settings))
}

/// An expectation about who faces show: alice's second photo joins alice's user.
const IDENTITY: &str = "description: d
collections: [c]
images: [alice-1, alice-2]
steps:
  - CreateCollection: { CollectionId: \"${c}\" }
  - IndexFaces: { CollectionId: \"${c}\", Image: { Bytes: \"${alice-1}\" } }
    capture: { a1: \"FaceRecords[0].Face.FaceId\" }
  - IndexFaces: { CollectionId: \"${c}\", Image: { Bytes: \"${alice-2}\" } }
    capture: { a2: \"FaceRecords[0].Face.FaceId\" }
  - CreateUser: { CollectionId: \"${c}\", UserId: alice }
  - AssociateFaces: { CollectionId: \"${c}\", UserId: alice, FaceIds: [\"${a1}\"] }
    expect: { response: { AssociatedFaces: [{ FaceId: \"${a1}\" }] } }
  - AssociateFaces: { CollectionId: \"${c}\", UserId: alice, FaceIds: [\"${a2}\"] }
    expect: { response: { AssociatedFaces: [{ FaceId: \"${a2}\" }] } }
  - CreateUser: { CollectionId: \"${c}\", UserId: alice }
    expect: { error: ConflictException }
";

/// A wrong expectation that needs no identity: it must stay a contradiction.
const WRONG_WITHOUT_IDENTITY: &str = "description: d
collections: [c]
steps:
  - CreateCollection: { CollectionId: \"${c}\" }
  - CreateUser: { CollectionId: \"${c}\", UserId: u }
  - CreateUser: { CollectionId: \"${c}\", UserId: u }
    expect: success
";

/// A capture of a second face, which a one-face detector never gives.
const SECOND_FACE: &str = "description: d
collections: [c]
images: [group-alice-bob]
steps:
  - CreateCollection: { CollectionId: \"${c}\" }
  - IndexFaces: { CollectionId: \"${c}\", Image: { Bytes: \"${group-alice-bob}\" } }
    capture: { bob: \"FaceRecords[1].Face.FaceId\" }
  - DeleteFaces: { CollectionId: \"${c}\", FaceIds: [\"${bob}\"] }
";

fn records_not_applicable(report: &ScenarioReport) -> Vec<(usize, String)> {
    report.records.iter().filter_map(|r| r.not_applicable.clone().map(|why| (r.step, why))).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_expectations_are_not_applicable_and_the_rest_are_still_judged() {
    let server = start(canned(Vec::new())).await;
    let runner = endpoint_runner(server.url()).await;
    let root = scenarios_root(
        &["alice-1", "alice-2", "group-alice-bob"],
        &[
            ("t/identity.yaml", IDENTITY),
            ("t/wrong.yaml", WRONG_WITHOUT_IDENTITY),
            ("t/second.yaml", SECOND_FACE),
        ],
    );
    let load = |name: &str| scenario::load_file(&root, &root.join(name)).expect("scenario loads");

    let report = runner.run_scenario(1, &load("t/identity.yaml")).await;
    assert_eq!(report.verdict, Verdict::Pass, "{}", report.explain());
    // The first association needs no identity (a user without faces takes any face) and
    // neither does the duplicate user; only the second association's expectation is set aside.
    assert_eq!(records_not_applicable(&report), [(6, "needs face identity; --faces endpoint".to_string())]);
    assert!(report.records.iter().all(|r| r.findings.is_empty()), "{:?}", report.records);

    let report = runner.run_scenario(2, &load("t/wrong.yaml")).await;
    assert_eq!(report.verdict, Verdict::Contradiction { step: 3, line: 6 }, "{}", report.explain());
    assert!(records_not_applicable(&report).is_empty());

    let report = runner.run_scenario(3, &load("t/second.yaml")).await;
    assert_eq!(report.verdict, Verdict::Pass, "{}", report.explain());
    let skipped = records_not_applicable(&report);
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert_eq!(skipped[0].0, 2);
    assert!(
        skipped[0].1.contains("capture `bob`") && skipped[0].1.contains("--faces endpoint"),
        "{skipped:?}"
    );
    // The step after the missing capture was not sent.
    assert_eq!(report.records.iter().filter(|r| !r.settle_poll).count(), 2);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_canned_detector_answers_one_fixed_face_and_hash_similarities() {
    let server = start(canned(Vec::new())).await;
    create_collection(&server, "c").await;
    let group = serve_support::faces_png(&["alice", "bob", "carol"]);
    let raw =
        call(&server, Operation::IndexFaces, json!({"CollectionId": "c", "Image": {"Bytes": group}})).await;
    let records = raw.json()["FaceRecords"].as_array().expect("FaceRecords").clone();
    assert_eq!(records.len(), 1, "{}", raw.text());
    assert_eq!(
        records[0]["Face"]["BoundingBox"],
        json!({"Width": 0.5, "Height": 0.6, "Left": 0.25, "Top": 0.2}),
        "{}",
        raw.text()
    );
    // Two photos of one person are as (dis)similar as any two: the score is a hash of the
    // ids, the same both ways, and decides the threshold consistently.
    let a = index(&server, "c", "alice").await;
    let b = index(&server, "c", "alice").await;
    let score = |from: &str, to: &str| {
        let (server, from, to) = (&server, from.to_string(), to.to_string());
        async move {
            let body =
                json!({"CollectionId": "c", "FaceId": from, "FaceMatchThreshold": 0, "MaxFaces": 4096});
            let raw = call(server, Operation::SearchFaces, body).await;
            let matches = raw.json()["FaceMatches"].as_array().expect("FaceMatches").clone();
            matches.iter().find(|m| m["Face"]["FaceId"] == to.as_str()).and_then(|m| m["Similarity"].as_f64())
        }
    };
    let ab = score(&a, &b).await.expect("at threshold 0 every face matches");
    assert_eq!(Some(ab), score(&b, &a).await);
    let above = json!({"CollectionId": "c", "FaceId": a, "FaceMatchThreshold": ab + 0.001});
    let raw = call(&server, Operation::SearchFaces, above).await;
    let listed = raw.json()["FaceMatches"]
        .as_array()
        .expect("FaceMatches")
        .iter()
        .any(|m| m["Face"]["FaceId"] == b.as_str());
    assert!(!listed, "a threshold above the score excludes the face: {}", raw.text());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stacked_mutants_each_take_effect() {
    let server = start(ServeConfig {
        mutants: vec![Mutant::WrongContentType, Mutant::StealAssociatedFace],
        ..ServeConfig::default()
    })
    .await;
    create_collection(&server, "c").await;
    let face = index(&server, "c", "alice").await;
    create_user(&server, "c", "owner").await;
    create_user(&server, "c", "thief").await;
    associate(&server, "c", "owner", &[&face]).await;
    let raw = associate(&server, "c", "thief", &[&face]).await;
    assert_eq!(raw.header("content-type"), Some("application/json"), "the wire fault");
    assert_eq!(
        raw.json()["AssociatedFaces"],
        json!([{"FaceId": face}]),
        "the contract fault: {}",
        raw.text()
    );
    server.shutdown().await;
}

#[test]
fn stacked_mutants_are_accepted_and_every_one_is_in_the_reproduction() {
    let out = rekcon_for_loopback()
        .args(["run", "--scenarios"])
        .arg(suite())
        .args(["associate/associate_face_of_other_user", "--mutant", "wrong-content-type"])
        .args(["--mutant", "steal-associated-face"])
        .output()
        .expect("rekcon runs");
    let report = text(&out);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(report.contains("planted bugs `wrong-content-type` and `steal-associated-face`"), "{report}");
    assert!(
        report.contains(
            "reproduce: rekcon run associate/associate_face_of_other_user --mutant wrong-content-type \
             --mutant steal-associated-face"
        ),
        "{report}"
    );
    // rekcon serve takes them too, and names each.
    let mut serve = rekcon_for_loopback()
        .args(["serve", "--port", "0", "--quiet", "--detector", "canned"])
        .args(["--mutant", "wrong-content-type", "--mutant", "steal-associated-face"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("rekcon serve starts");
    let stdout = serve.stdout.take().expect("stdout");
    let lines: Vec<String> = std::io::BufRead::lines(std::io::BufReader::new(stdout))
        .take(4)
        .map(|l| l.expect("a line"))
        .collect();
    serve.kill().expect("rekcon serve stops");
    let _ = serve.wait();
    assert!(lines[0].starts_with("rekcon serve listening on http://127.0.0.1:"), "{lines:?}");
    assert!(lines[1].starts_with("planted bug: wrong-content-type"), "{lines:?}");
    assert!(lines[2].starts_with("planted bug: steal-associated-face"), "{lines:?}");
    assert!(lines[3].starts_with("detector: canned"), "{lines:?}");
}

//! Record once, verify any endpoint against the recording (issue 11 items 1, 2 and 7):
//! the built-in emulator plays AWS for the recordings, planted bugs play the endpoint
//! under test (the endpoint's bug), a planted bug in the recorded "AWS" plays a model
//! error (rekcon's bug, reported apart), and two recordings that differ play AWS's own
//! nondeterminism. All on 127.0.0.1, through the `rekcon` binary.

mod serve_support;

use std::path::{Path, PathBuf};
use std::process::Output;

use rekcon::record::{Cassette, load_dir};
use rekcon::serve::{Mutant, ServeConfig, Server};

const SCENARIOS: [&str; 2] =
    ["associate/associate_face_of_other_user", "associate/associate_lookalike_default_75"];

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rekcon-rec-{name}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("dir");
    dir
}

async fn rekcon(args: Vec<String>) -> Output {
    let mut command = serve_support::rekcon_for_loopback();
    command.env("AWS_SESSION_TOKEN", "session-token-never-recorded").args(args);
    tokio::task::spawn_blocking(move || command.output().expect("rekcon runs")).await.expect("joined")
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// Records SCENARIOS into `dir` against an emulator with `mutants` playing AWS, users
/// settling in 30 ms (real variation).
async fn record(dir: &Path, mutants: &[&str]) {
    record_settling(dir, mutants, std::time::Duration::from_millis(30)).await;
}

/// [`record`] with users settling in `settle` (zero: as the built-in emulator of
/// `rekcon run`, so that a comparison does not hang on timing).
async fn record_settling(dir: &Path, mutants: &[&str], settle: std::time::Duration) {
    let config = ServeConfig {
        mutants: mutants.iter().map(|m| Mutant::from_name(m).expect("a mutant")).collect(),
        settle,
        ..ServeConfig::default()
    };
    let server = Server::start(config).await.expect("the emulator starts");
    let dir_arg = dir.display().to_string();
    let mut list = vec!["run", "--record", &dir_arg, "--endpoint-url"];
    let url = server.url();
    list.push(&url);
    list.extend(SCENARIOS);
    let out = rekcon(args(&list)).await;
    assert!(text(&out.stderr).contains("recorded 2 cassette(s)"), "{}", text(&out.stderr));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cassettes_hold_raw_exchanges_and_provenance_and_no_credentials() {
    let dir = scratch("format");
    record(&dir, &[]).await;
    let cassettes = load_dir(&dir).expect("cassettes load");
    assert_eq!(cassettes.keys().map(String::as_str).collect::<Vec<_>>(), SCENARIOS);
    let c: &Cassette = &cassettes[SCENARIOS[0]][0];
    assert_eq!((c.format.as_str(), c.version), ("rekcon-cassette", 1));
    assert_eq!(c.provenance.endpoint_kind, "endpoint-url");
    assert_eq!(c.provenance.region, "us-east-1");
    assert_eq!(c.provenance.sdk_version, aws_sdk_rekognition::meta::PKG_VERSION);
    assert_eq!(c.provenance.suite_sha256.len(), 64);
    assert!(c.provenance.recorded_at_unix > 1_600_000_000);
    let first = &c.exchanges[0];
    assert_eq!(first.target, "RekognitionService.CreateCollection");
    let response = first.response.as_ref().expect("a response");
    assert_eq!(response.status, 200);
    assert!(response.headers.iter().any(|(k, _)| k == "x-amzn-requestid"), "{:?}", response.headers);
    // Raw: the recorded id is the endpoint's own, not a placeholder.
    assert!(response.body.as_deref().is_some_and(|b| b.contains("rekcon-")), "{:?}", response.body);
    assert!(c.exchanges.iter().all(|e| e.duration_ms >= 0.0));
    for path in walk(&dir) {
        let text = std::fs::read_to_string(&path).expect("a cassette");
        for secret in [
            "test-secret",
            "session-token-never-recorded",
            "AKIDTEST",
            "Credential=",
            "Signature=",
            "uthorization",
            "X-Amz-Security-Token",
        ] {
            assert!(!text.contains(secret), "{} holds {secret}", path.display());
        }
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planted_bug_in_the_endpoint_diverges_from_aws() {
    let dir = scratch("endpoint-bug");
    record(&dir, &[]).await;
    let against = dir.display().to_string();
    let out = rekcon(args(&["run", "--against", &against, "--mutant", "steal-associated-face"])).await;
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{}", text(&out.stderr));
    assert!(
        stdout.contains(
            "endpoint diverges from AWS  associate/associate_face_of_other_user step 8 AssociateFaces"
        ),
        "{stdout}"
    );
    assert!(!stdout.contains("model disagrees with AWS  "), "{stdout}");
    // The clean emulator agrees with its own recording everywhere.
    let out = rekcon(args(&["run", "--against", &against])).await;
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(!stdout.contains("diverges from AWS  ") && stdout.contains("three-way:"), "{stdout}");
}

/// The stdout of a run that exits 6, and its line for associate_lookalike_default_75's
/// step 7, a model disagreement.
fn model_disagreement(out: &Output) -> (String, String) {
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(6), "{stdout}\n{}", text(&out.stderr));
    let line = stdout
        .lines()
        .find(|l| l.starts_with("model disagrees with AWS"))
        .unwrap_or_else(|| panic!("no model disagreement:\n{stdout}"))
        .to_string();
    assert!(line.contains("associate/associate_lookalike_default_75 step 7 AssociateFaces"), "{line}");
    (stdout, line)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bug_in_the_recorded_aws_is_the_models_disagreement_not_the_endpoints() {
    let dir = scratch("model-bug");
    record(&dir, &["associate-default-threshold-80"]).await;
    let against = dir.display().to_string();
    let out = rekcon(args(&["run", "--against", &against])).await;
    let (stdout, line) = model_disagreement(&out);
    assert!(line.contains("(§6.5)") && line.contains("the endpoint agrees with the model"), "{line}");
    assert!(!stdout.contains("endpoint diverges from AWS"), "{stdout}");
    assert!(!stdout.lines().any(|l| l.starts_with("diverged ")), "not an ordinary divergence:\n{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_recordings_that_differ_are_aws_nondeterminism() {
    let dir = scratch("two");
    record(&dir, &[]).await;
    record(&dir, &["associate-default-threshold-80"]).await;
    let cassettes = load_dir(&dir).expect("cassettes load");
    assert_eq!(cassettes[SCENARIOS[1]].len(), 2, "the second recording is kept beside the first");
    let against = dir.display().to_string();
    let out = rekcon(args(&["run", "--against", &against])).await;
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("recordings disagree         associate/associate_lookalike_default_75 step 7"),
        "{stdout}"
    );
    assert_eq!(out.status.code(), Some(0), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknowns_lists_the_recordings_that_answer_each_point() {
    let dir = scratch("unknowns");
    record(&dir, &[]).await;
    let out = rekcon(args(&["unknowns", &dir.display().to_string()])).await;
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", text(&out.stderr));
    // associate_face_of_other_user step 8 changes nothing: which UserStatus it returns is unsettled.
    let block: Vec<&str> =
        stdout.lines().skip_while(|l| !l.starts_with("unknown:status-when-unchanged")).take(3).collect();
    assert!(
        block.iter().any(|l| l
            .contains("associate/associate_face_of_other_user step 8 AssociateFaces on http://127.0.0.1")
            && l.contains("HTTP 200")),
        "{stdout}"
    );
    assert!(stdout.contains("unknown:token-scope — ") && stdout.contains("not answered by any recording"));
    let empty = scratch("no-cassettes");
    let out = rekcon(args(&["unknowns", &empty.display().to_string()])).await;
    assert_eq!(out.status.code(), Some(2));
}

/// A run's JSON report (checked against its committed schema) and its JUnit failure count.
fn reports_of(json: &Path, junit: &Path) -> (serde_json::Value, usize) {
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(json).expect("the JSON report")).expect("JSON");
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/schemas/run-report.schema.json"),
        )
        .expect("the committed schema"),
    )
    .expect("JSON");
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let problems: Vec<String> = validator.iter_errors(&json).map(|e| e.to_string()).collect();
    assert!(problems.is_empty(), "the --against report breaks its schema: {problems:?}");
    let junit = std::fs::read_to_string(junit).expect("the JUnit report");
    (json, junit.matches("<failure").count())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_that_answers_as_aws_did_is_never_called_diverged() {
    // "AWS" (a planted bug) and the endpoint answer alike; the model rejects both.
    let dir = scratch("absolved");
    // Settling as the endpoint does: the answers compare alike, not by luck of timing.
    record_settling(&dir, &["associate-default-threshold-80"], std::time::Duration::ZERO).await;
    let against = dir.display().to_string();
    let json = dir.join("run.json");
    let junit = dir.join("run.xml");
    let run = |mutant: &'static str| {
        args(&[
            "run",
            "--against",
            &against,
            "--mutant",
            mutant,
            "--json",
            &json.display().to_string(),
            "--junit",
            &junit.display().to_string(),
        ])
    };
    let out = rekcon(run("associate-default-threshold-80")).await;
    // Exit code 6, the model's disagreement, not 1; the step is the model's disagreement
    // with the endpoint agreeing with AWS, and nothing is printed as diverged.
    let (stdout, line) = model_disagreement(&out);
    assert!(line.contains("the endpoint agrees with AWS"), "{line}");
    assert!(!stdout.contains("diverged") && !stdout.contains("endpoint diverges from AWS"), "{stdout}");
    // JSON: no scenario diverged, the exit code is 6, the three-way section classifies it.
    let (report, failures) = reports_of(&json, &junit);
    assert_eq!(report["exit_code"], 6, "{report:#}");
    assert!(report["summary"].get("diverged").is_none(), "{:#}", report["summary"]);
    assert!(report["causes"].as_array().is_some_and(Vec::is_empty), "{:#}", report["causes"]);
    let lookalike = report["scenarios"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == SCENARIOS[1]))
        .expect("the scenario in the JSON report");
    assert_eq!(lookalike["verdict"]["verdict"], "pass", "{lookalike:#}");
    assert!(lookalike["divergences"].as_array().is_some_and(Vec::is_empty), "{lookalike:#}");
    let three_way = &report["three_way"];
    assert_eq!(three_way["counts"]["model disagrees with AWS"], 1, "{three_way:#}");
    assert!(three_way["counts"].get("endpoint diverges from AWS").is_none(), "{three_way:#}");
    let step = three_way["steps"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["class"] == "model-disagrees-with-aws"))
        .expect("the step in the JSON report");
    assert_eq!((step["step"].as_u64(), step["section"].as_str()), (Some(7), Some("§6.5")), "{step:#}");
    assert_eq!(step["endpoint_agrees_with_aws"], true, "{step:#}");
    assert!(step["findings"].as_array().is_some_and(|f| !f.is_empty()), "the model's findings are kept");
    assert_eq!(three_way["recorded_from"]["endpoint_kind"], "endpoint-url", "{three_way:#}");
    // JUnit: no failure.
    assert_eq!(failures, 0, "{}", std::fs::read_to_string(&junit).unwrap_or_default());

    // The same recording, an endpoint with another bug: that one is the endpoint's, in
    // every report.
    let out = rekcon(run("steal-associated-face")).await;
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let (report, failures) = reports_of(&json, &junit);
    assert_eq!(report["exit_code"], 1);
    assert!(report["three_way"]["counts"]["endpoint diverges from AWS"].as_u64() >= Some(1), "{report:#}");
    assert!(report["summary"]["diverged"].as_u64() >= Some(1), "{:#}", report["summary"]);
    assert!(failures >= 1);
}

/// The hand-made cassettes committed under tests/cassettes/ (see its README.md).
fn hand_made() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cassettes")
}

#[test]
fn the_hand_made_front_end_refusal_has_aws_shape_and_is_a_setup_problem() {
    // Contract §1.1 and §8's front-end row (aws/aws-sdk-php#1780): 400, `__type` and a
    // lower-case `message`, no `Code`.
    let cassettes = load_dir(&hand_made()).expect("the hand-made cassettes load");
    let refused = &cassettes["collections/create_collection"][0].exchanges[0];
    let response = refused.response.as_ref().expect("a response");
    assert_eq!(response.status, 400);
    let body: serde_json::Value =
        serde_json::from_str(response.body.as_deref().unwrap_or_default()).expect("a JSON body");
    let keys: Vec<&str> =
        body.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
    assert_eq!(keys, ["__type", "message"]);
    let raw = refused.raw_response().expect("readable");
    match rekcon::check::wire(&raw, Some(rekcon::api::Operation::CreateCollection)) {
        Err(rekcon::check::Unjudgeable::SetupProblem(hint)) => assert!(hint.contains("clock"), "{hint}"),
        other => panic!("{other:?}"),
    }
    // The lagging not-found of §9.20: asked again, still not found.
    let lagged = &cassettes["search/search_faces_by_image"][0].exchanges[6];
    assert_eq!((lagged.lag_retries, lagged.response.as_ref().map(|r| r.status)), (4, Some(400)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hand_made_cassettes_a_front_end_refusal_and_a_lagging_not_found_are_never_judged_against_aws() {
    let dir = scratch("hand-made");
    let json = dir.join("run.json").display().to_string();
    let against = hand_made().display().to_string();
    let out = rekcon(args(&["run", "--against", &against, "--json", &json])).await;
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", text(&out.stderr));
    let line = |start: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(start))
            .unwrap_or_else(|| panic!("no {start}:\n{stdout}"))
            .to_string()
    };
    // The refusal: the recording is unusable from there, and says so; nothing blamed.
    let refused = line("not judged against AWS      collections/create_collection step 1");
    assert!(refused.contains("AWS refused rekcon's own set-up") && refused.contains("clock"), "{refused}");
    // The lag that never settled: neither the model's disagreement nor the endpoint's.
    let lag = line("not judged against AWS      search/search_faces_by_image step 7");
    assert!(lag.contains("read-after-write lag (§9.20)"), "{lag}");
    assert!(!stdout.contains("model disagrees with AWS  "), "{stdout}");
    // The lag that settled: compared as usual, and the report says AWS lagged.
    let settled = line("agrees                      search/search_faces_by_image_largest_face step 4");
    assert!(settled.contains("AWS lagged: asked 2 more time(s)"), "{settled}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("JSON report")).expect("JSON");
    assert_eq!(report["three_way"]["counts"]["not judged against AWS"], 2, "{:#}", report["three_way"]);

    // Detection: an endpoint with a wire fault diverges from AWS where AWS answered, and
    // is judged by the model alone (an ordinary divergence) where the recording is unusable.
    let out = rekcon(args(&["run", "--against", &against, "--mutant", "wrong-content-type"])).await;
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("endpoint diverges from AWS  search/search_faces_by_image_largest_face step 4"),
        "alike bodies, a header AWS got right:\n{stdout}"
    );
    assert!(!stdout.contains("endpoint diverges from AWS  collections/create_collection"), "{stdout}");
    assert!(stdout.contains("not judged against AWS      collections/create_collection step 1"), "{stdout}");
}

#[test]
fn a_field_override_needs_a_written_reason() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let path = Path::new("scenarios/x/override.yaml");
    let scenario = |compare: &str| {
        format!(
            "description: d\ncollections: [c]\ncompare:\n{compare}steps:\n  - CreateCollection: {{ CollectionId: \"${{c}}\" }}\n"
        )
    };
    let loaded = rekcon::scenario::parse(
        &root,
        "x/override",
        path,
        &scenario("  \"FaceMatches[].Similarity\": { tolerance: 5, reason: \"the lookalike photo scores 93 to 97\" }\n"),
    )
    .expect("loads");
    assert_eq!(loaded.compare.len(), 1);
    assert_eq!(loaded.compare[0].path, "FaceMatches[].Similarity");
    assert_eq!(loaded.compare[0].how, rekcon::scenario::Comparison::Tolerance(5.0));
    // No reason: an error at the override, file:line:col.
    let err = rekcon::scenario::parse(
        &root,
        "x/override",
        path,
        &scenario("  \"FaceMatches[].Similarity\": { tolerance: 5 }\n"),
    )
    .expect_err("a reason is mandatory");
    let text = err.to_string();
    assert!(text.starts_with("scenarios/x/override.yaml:4:"), "{text}");
    assert!(text.contains("needs a `reason`"), "{text}");
    for (bad, says) in [
        ("  UserStatus: { reason: \"r\" }\n", "needs one of tolerance"),
        ("  UserStatus: { ignore: true, exact: true, reason: \"r\" }\n", "twice"),
        ("  UserStatus: { tolerence: 1, reason: \"r\" }\n", "did you mean `tolerance`"),
        ("  UserStatus: { ignore: true, reason: \"\" }\n", "must say why"),
    ] {
        let err = rekcon::scenario::parse(&root, "x/override", path, &scenario(bad)).expect_err(bad);
        assert!(err.to_string().contains(says), "{bad}: {err}");
        assert!(err.line == 4 && err.column > 0, "{bad}: {err}");
    }
}

//! `rekcon run` as a user meets it: exit codes, the printed report, and the JSON and
//! JUnit reports, which are written whatever the outcome.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use rekcon::serve::{Mutant, ServeConfig, Server};

const REKCON: &str = env!("CARGO_BIN_EXE_rekcon");

/// A scenarios folder in the temp dir holding `files` and the fixture image `alice-1`.
fn scenarios_root(files: &[(&str, &str)]) -> PathBuf {
    let root = std::env::temp_dir().join(format!("rekcon-cli-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(root.join("images")).expect("temp dir");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/images/alice-1.png");
    std::fs::copy(fixture, root.join("images/alice-1.png")).expect("fixture image");
    for (name, text) in files {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().expect("has a parent")).expect("temp dir");
        std::fs::write(path, text).expect("scenario file");
    }
    root
}

const GOOD: &str = "description: a collection is created and described
collections: [c]
images: [alice-1]
steps:
  - CreateCollection: { CollectionId: \"${c}\" }
  - IndexFaces: { CollectionId: \"${c}\", Image: { Bytes: \"${alice-1}\" } }
  - DescribeCollection: { CollectionId: \"${c}\" }
    expect: { response: { FaceCount: 1 } }
";

const BROKEN: &str = "description: d\nsteps:\n  - DescribeColection: { CollectionId: x }\n";

fn rekcon(root: &Path, extra: &[&str]) -> Output {
    let mut command = Command::new(REKCON);
    command.arg("run").arg("--scenarios").arg(root).args(extra);
    command
        .env_remove("REKCON_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL_REKOGNITION");
    command.output().expect("rekcon runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("report written")).expect("report is JSON")
}

#[test]
fn all_conform_exits_0_against_the_built_in_emulator() {
    let root = scenarios_root(&[("c/good.yaml", GOOD)]);
    let out = rekcon(&root, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("1 passed"), "{}", stdout(&out));
}

#[test]
fn a_broken_file_exits_2_and_the_rest_still_runs_and_is_reported() {
    let root = scenarios_root(&[("c/good.yaml", GOOD), ("c/broken.yaml", BROKEN)]);
    let (report, junit) = (root.join("out/report.json"), root.join("out/junit.xml"));
    let out = rekcon(
        &root,
        &["--json", report.to_str().expect("utf-8"), "--junit", junit.to_str().expect("utf-8")],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("pass          c/good"), "{text}");
    assert!(
        text.contains(
            "broken.yaml:3:5: unknown operation `DescribeColection` (did you mean `DescribeCollection`?)"
        ),
        "{text}"
    );
    let report = json(&report);
    assert_eq!(report["format_version"], 2);
    assert_eq!(report["exit_code"], 2);
    assert_eq!(report["scenarios"][0]["verdict"]["verdict"], "bad_scenario");
    assert_eq!(report["scenarios"][1]["verdict"]["verdict"], "pass");
    let junit = std::fs::read_to_string(junit).expect("JUnit written");
    assert!(junit.contains("c::broken") && junit.contains("c::good"), "{junit}");
}

#[test]
fn a_closed_port_exits_3_and_the_reports_say_no_answer() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let root = scenarios_root(&[("c/good.yaml", GOOD)]);
    let report = root.join("report.json");
    let url = format!("http://127.0.0.1:{port}");
    let out = rekcon(&root, &["--endpoint-url", &url, "--json", report.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(3), "{}", stdout(&out));
    assert_eq!(json(&report)["scenarios"][0]["verdict"]["verdict"], "no_answer");
}

#[test]
fn real_aws_needs_confirmation() {
    let root = scenarios_root(&[("c/good.yaml", GOOD)]);
    let out = rekcon(&root, &["--endpoint-url", "https://rekognition.us-east-1.amazonaws.com"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--aws"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn mutant_plants_a_bug_in_the_built_in_emulator_only() {
    let root = scenarios_root(&[("c/good.yaml", GOOD)]);
    // The planted bug is caught, and the reproduction plants it again.
    let out = rekcon(&root, &["--mutant", "arn-prefix-on-create"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("[contract] step 1 (")
            && text.contains("CreateCollection: CollectionArn: expected an ARN like"),
        "{text}"
    );
    assert!(text.contains("reproduce: rekcon run c/good --mutant arn-prefix-on-create"), "{text}");
    // Another endpoint cannot take it, and an unknown bug is a usage error.
    let stderr = |out: &Output| String::from_utf8_lossy(&out.stderr).into_owned();
    let out = rekcon(&root, &["--mutant", "arn-prefix-on-create", "--endpoint-url", "http://127.0.0.1:9"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--mutant plants a bug in the built-in emulator"), "{}", stderr(&out));
    let out = rekcon(&root, &["--mutant", "no-such-bug"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("unknown mutant `no-such-bug`"), "{}", stderr(&out));
}

#[test]
fn progress_shows_on_a_terminal_only() {
    let root = scenarios_root(&[("c/good.yaml", GOOD), ("c/also_good.yaml", GOOD)]);
    // Off a terminal (captured here), stderr carries no bar.
    let out = rekcon(&root, &["--mutant", "arn-prefix-on-create"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("scenarios ·") && !stderr.contains('\r'), "{stderr}");
    // On a terminal (util-linux `script` gives the run a pseudo-terminal), it counts the
    // scenarios done and the failures.
    let command = format!("{REKCON} run --scenarios {} --mutant arn-prefix-on-create", root.display());
    let out = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env_remove("REKCON_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL_REKOGNITION")
        .output()
        .expect("util-linux `script` runs (it gives the run a terminal)");
    let seen = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(seen.contains("/2 scenarios · ") && seen.contains(" failed"), "{seen}");
}

#[test]
fn help_documents_the_exit_codes() {
    let out = Command::new(REKCON).args(["run", "--help"]).output().expect("rekcon runs");
    let text = stdout(&out);
    for line in [
        "0    every scenario conformed",
        "1    a divergence",
        "2    a bad scenario",
        "3    no answer",
        "130  interrupted",
    ] {
        assert!(text.contains(line), "{text}");
    }
}

/// Runs `rekcon run` in a thread while the test's runtime keeps serving the emulator.
async fn run_against(server_url: String, root: PathBuf, extra: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        let mut args: Vec<&str> = vec!["--endpoint-url", &server_url];
        args.extend(extra.iter().map(String::as_str));
        rekcon(&root, &args)
    })
    .await
    .expect("the run finishes")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_divergence_exits_1_with_file_line_path_and_reproduction() {
    let config = ServeConfig {
        mutants: Mutant::from_name("arn-prefix-on-create").into_iter().collect(),
        ..ServeConfig::default()
    };
    let server = Server::start(config).await.expect("the emulator starts");
    let url = server.url();
    let root = scenarios_root(&[("c/good.yaml", GOOD)]);
    let (report, junit) = (root.join("report.json"), root.join("junit.xml"));
    let extra =
        vec!["--json".into(), report.display().to_string(), "--junit".into(), junit.display().to_string()];
    let out = run_against(url.clone(), root.clone(), extra).await;
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("c/good.yaml:5): CreateCollection"), "{text}");
    assert!(
        text.contains("[contract] step 1 (")
            && text.contains("CreateCollection: CollectionArn: expected an ARN like"),
        "{text}"
    );
    assert!(text.contains(&format!("reproduce: rekcon run c/good --endpoint-url {url}")), "{text}");
    let report = json(&report);
    assert_eq!(report["exit_code"], 1);
    assert_eq!(report["scenarios"][0]["failure"]["findings"][0]["path"], "CollectionArn");
    assert!(std::fs::read_to_string(junit).expect("JUnit written").contains("<failure"));
    server.shutdown().await;
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_writes_reports_cleans_up_and_exits_130() {
    use rekcon::config::{Endpoint, TargetConfig};
    use rekcon::target::{Call, Target};

    // Users take 3 s to settle, so the run is still waiting when it is interrupted.
    let config = ServeConfig { settle: Duration::from_secs(3), ..ServeConfig::default() };
    let server = Server::start(config).await.expect("the emulator starts");
    let url = server.url();
    let slow = "description: d
collections: [c]
images: [alice-1]
steps:
  - CreateCollection: { CollectionId: \"${c}\" }
  - IndexFaces: { CollectionId: \"${c}\", Image: { Bytes: \"${alice-1}\" } }
    capture: { face: \"FaceRecords[0].Face.FaceId\" }
  - CreateUser: { CollectionId: \"${c}\", UserId: alice }
  - AssociateFaces: { CollectionId: \"${c}\", UserId: alice, FaceIds: [\"${face}\"] }
  - SearchUsers: { CollectionId: \"${c}\", FaceId: \"${face}\" }
";
    let root = scenarios_root(&[("c/slow.yaml", slow)]);
    let report = root.join("report.json");
    let child = Command::new(REKCON)
        .arg("run")
        .arg("--scenarios")
        .arg(&root)
        .args(["--endpoint-url", &url, "--json"])
        .arg(&report)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("rekcon starts");
    let pid = child.id().to_string();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    Command::new("kill").args(["-INT", &pid]).status().expect("kill runs");
    let out =
        tokio::task::spawn_blocking(move || child.wait_with_output()).await.expect("joins").expect("waits");
    assert_eq!(out.status.code(), Some(130), "{}", stdout(&out));
    let report = json(&report);
    assert_eq!(report["interrupted"], true);
    assert_eq!(report["scenarios"][0]["verdict"]["verdict"], "not_run");
    assert_eq!(report["cleanup"]["deleted"], 1);
    let target = Target::connect(&TargetConfig::new(Endpoint::BuiltIn(url))).await.expect("client");
    let call = Call::Raw { target: "RekognitionService.ListCollections".into(), body: "{}".into() };
    let listed = target.send(&call).await.expect("the emulator answers");
    assert_eq!(String::from_utf8_lossy(&listed.body), r#"{"CollectionIds":[],"FaceModelVersions":[]}"#);
    server.shutdown().await;
}

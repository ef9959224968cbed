//! `rekcon run` as a user meets it: exit codes, the printed report, and the JSON and
//! JUnit reports, which are written whatever the outcome.

mod serve_support;

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
    let slow = serve_support::SLOW_SCENARIO;
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

// ---------------------------------------------------------------------------------------------
// Installed anywhere: the built-in suite
// ---------------------------------------------------------------------------------------------

/// An empty folder in the temp dir, with no `scenarios/` in it.
fn empty_dir(what: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rekcon-{what}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// `rekcon ARGS` run in `dir`, with no endpoint in the environment.
fn rekcon_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(REKCON)
        .args(args)
        .current_dir(dir)
        .env_remove("REKCON_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL_REKOGNITION")
        .output()
        .expect("rekcon runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The number of scenarios in the checkout's suite.
fn suite_size() -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    rekcon::scenario::discover(&root).expect("the suite can be read").len()
}

#[test]
fn the_built_in_suite_runs_from_a_folder_without_scenarios() {
    let dir = empty_dir("anywhere");
    let out = rekcon_in(&dir, &["run", "--json", "report.json"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(text.contains(&format!("{} passed", suite_size())), "{text}");
    assert!(stderr(&out).contains("running the built-in suite"), "{}", stderr(&out));
    let report = json(&dir.join("report.json"));
    let scenarios = report["scenarios"].as_array().expect("scenarios");
    assert_eq!(scenarios.len(), suite_size());
    // Files are named as in a checkout, and the unpacked copy is gone.
    let path = scenarios[0]["path"].as_str().expect("a path");
    assert!(path.starts_with("scenarios/") && path.ends_with(".yaml"), "{path}");
    assert!(!dir.join("scenarios").exists());

    // A failure's reproduction command runs from anywhere too: no --scenarios in it.
    let out = rekcon_in(&dir, &["run", "associate_face_of_other_user", "--mutant", "steal-associated-face"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("scenarios/associate/associate_face_of_other_user.yaml:"), "{text}");
    assert!(
        text.contains(
            "reproduce: rekcon run associate/associate_face_of_other_user --mutant steal-associated-face\n"
        ),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_exported_suite_is_read_from_disk_and_export_never_overwrites() {
    let dir = empty_dir("export");
    let out = rekcon_in(&dir, &["scenarios", "export", "scenarios"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let original = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/users/create_user.yaml");
    assert_eq!(
        std::fs::read(dir.join("scenarios/users/create_user.yaml")).expect("exported"),
        std::fs::read(original).expect("in the checkout")
    );
    assert!(dir.join("scenarios/images/alice-1.png").is_file());
    // ./scenarios now wins over the built-in copy: an edit counts without a rebuild.
    std::fs::create_dir_all(dir.join("scenarios/mine")).expect("dir");
    std::fs::write(dir.join("scenarios/mine/good.yaml"), GOOD).expect("file");
    let out = rekcon_in(&dir, &["run", "--list", "mine"]);
    assert_eq!((out.status.code(), stdout(&out).as_str()), (Some(0), "mine/good\n"), "{}", stderr(&out));
    let out = rekcon_in(&dir, &["run", "mine"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(!stderr(&out).contains("built-in suite"), "{}", stderr(&out));

    let out = rekcon_in(&dir, &["scenarios", "export", "scenarios"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not empty"), "{}", stderr(&out));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `cargo install --path . --root DIR`, then `DIR/bin/rekcon run` from `/`: the whole
/// suite passes. Slow (a build of its own): `cargo test --test harness_cli -- --ignored`.
#[test]
#[ignore]
fn cargo_install_gives_a_rekcon_that_runs_the_suite_from_the_root_folder() {
    let root = empty_dir("install");
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("install-target");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["install", "--locked", "--offline", "--debug", "--path", env!("CARGO_MANIFEST_DIR"), "--root"])
        .arg(&root)
        .env("CARGO_TARGET_DIR", &target)
        .status()
        .expect("cargo runs");
    assert!(status.success());
    let out = Command::new(root.join("bin/rekcon"))
        .arg("run")
        .current_dir("/")
        .env_remove("REKCON_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL_REKOGNITION")
        .output()
        .expect("the installed rekcon runs");
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains(&format!("{} passed", suite_size())), "{}", stdout(&out));
    let _ = std::fs::remove_dir_all(&root);
}

// ---------------------------------------------------------------------------------------------
// Selecting scenarios: whole segments, --skip, --exact, tag expressions, --list, --fail-fast
// ---------------------------------------------------------------------------------------------

fn tagged(tags: &str) -> String {
    format!("description: d\ntags: [{tags}]\nsteps:\n  - ListCollections: {{}}\n")
}

/// A suite with look-alike names: associate/ and disassociate/, create_user and
/// create_user_duplicate.
fn lookalike_suite() -> PathBuf {
    scenarios_root(&[
        ("associate/associate_faces.yaml", &tagged("associate, users")),
        ("associate/face_limit_101.yaml", &tagged("associate, slow")),
        ("disassociate/disassociate_faces.yaml", &tagged("disassociate, users")),
        ("users/create_user.yaml", &tagged("users")),
        ("users/create_user_duplicate.yaml", &tagged("users, slow")),
    ])
}

/// What `rekcon run --list ARGS` selects in `root`, one name a line.
fn listed(root: &Path, args: &[&str]) -> String {
    let mut all = vec!["--list"];
    all.extend(args);
    let out = rekcon(root, &all);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    stdout(&out)
}

#[test]
fn filters_match_whole_segments_unless_a_star_asks_for_more() {
    let root = lookalike_suite();
    assert_eq!(listed(&root, &["associate"]), "associate/associate_faces\nassociate/face_limit_101\n");
    assert_eq!(listed(&root, &["associate_faces"]), "associate/associate_faces\n");
    assert_eq!(listed(&root, &["create_user"]), "users/create_user\n");
    assert_eq!(listed(&root, &["users/"]), "users/create_user\nusers/create_user_duplicate\n");
    assert_eq!(listed(&root, &["users::create_user_duplicate"]), "users/create_user_duplicate\n");
    assert_eq!(
        listed(&root, &["*associate_faces"]),
        "associate/associate_faces\ndisassociate/disassociate_faces\n"
    );
    assert_eq!(listed(&root, &["create_user*"]), "users/create_user\nusers/create_user_duplicate\n");
    let file = root.join("users/create_user.yaml").display().to_string();
    assert_eq!(listed(&root, &[&file]), "users/create_user\n");
    let out = rekcon(&root, &["asociate"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("`asociate` matches no scenario (did you mean `associate`?)"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn skip_and_exact() {
    let root = lookalike_suite();
    assert_eq!(
        listed(&root, &["--skip", "users", "--skip", "face_limit*"]),
        "associate/associate_faces\ndisassociate/disassociate_faces\n"
    );
    assert_eq!(listed(&root, &["users", "--skip", "create_user"]), "users/create_user_duplicate\n");
    assert_eq!(listed(&root, &["--exact", "users/create_user"]), "users/create_user\n");
    let out = rekcon(&root, &["--exact", "create_user"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
}

#[test]
fn tag_expressions_select_and_unknown_tags_get_a_suggestion() {
    let root = lookalike_suite();
    assert_eq!(
        listed(&root, &["--tag", "users and not slow"]),
        "associate/associate_faces\ndisassociate/disassociate_faces\nusers/create_user\n"
    );
    assert_eq!(
        listed(&root, &["--tag", "slow and (associate or disassociate)"]),
        "associate/face_limit_101\n"
    );
    assert_eq!(listed(&root, &["--tag", "slow", "--tag", "disassociate"]).lines().count(), 3);
    let out = rekcon(&root, &["--tag", "usres and not slow"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no scenario carries the tag `usres` (did you mean `users`?)"),
        "{}",
        stderr(&out)
    );
    let out = rekcon(&root, &["--tag", "users and"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("a tag is missing at the end"), "{}", stderr(&out));
}

#[test]
fn list_runs_nothing() {
    let root = lookalike_suite();
    // A closed port: running anything would exit 3.
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let url = format!("http://127.0.0.1:{port}");
    let out = rekcon(&root, &["--list", "--endpoint-url", &url, "users"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "users/create_user\nusers/create_user_duplicate\n");
}

#[test]
fn fail_fast_starts_nothing_after_the_first_failure() {
    // The model says FaceCount 1; the scenario insists on 5: a contradiction.
    let wrong = GOOD.replace("FaceCount: 1", "FaceCount: 5");
    let root = scenarios_root(&[("a/wrong.yaml", &wrong), ("b/good.yaml", GOOD), ("c/good.yaml", GOOD)]);
    let report = root.join("report.json");
    let verdicts = |report: &Path| -> Vec<String> {
        json(report)["scenarios"]
            .as_array()
            .expect("scenarios")
            .iter()
            .map(|s| s["verdict"]["verdict"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let report_arg = report.display().to_string();
    let out = rekcon(&root, &["--jobs", "1", "--json", &report_arg]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert_eq!(verdicts(&report), ["contradiction", "pass", "pass"]);
    let out = rekcon(&root, &["--jobs", "1", "--fail-fast", "--json", &report_arg]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert_eq!(verdicts(&report), ["contradiction", "not_run", "not_run"]);
}

#[test]
fn cleanup_help_promises_no_default_endpoint() {
    let out = Command::new(REKCON).args(["cleanup", "--help"]).output().expect("rekcon runs");
    let text = stdout(&out);
    assert!(!text.contains("default: the built-in emulator"), "{text}");
    assert!(text.contains("The endpoint to clean up (required"), "{text}");
    let out = Command::new(REKCON).args(["run", "--help"]).output().expect("rekcon runs");
    let text = stdout(&out);
    for promise in
        ["default: the built-in emulator", "`associate` selects associate/*, not", "--fail-fast", "--exact"]
    {
        assert!(text.contains(promise), "{promise}: {text}");
    }
}

#[test]
fn an_https_endpoint_is_spoken_to_in_tls() {
    use std::io::Read as _;
    // The SDK's one https client (rustls) must remain: the first byte it sends to an
    // https endpoint opens a TLS handshake record (0x16); the listener then hangs up.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let first = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("the SDK connects");
        let mut byte = [0u8; 1];
        stream.read_exact(&mut byte).map(|()| byte[0]).ok()
    });
    let root = scenarios_root(&[("c/good.yaml", GOOD)]);
    let url = format!("https://127.0.0.1:{port}");
    let out = rekcon(&root, &["--endpoint-url", &url]);
    assert_eq!(out.status.code(), Some(3), "{}", stdout(&out));
    assert_eq!(first.join().expect("joins"), Some(0x16));
}

//! Settling unknowns from recordings (issue 11 item 4): the built-in emulator, served on
//! 127.0.0.1, plays AWS for the recordings; `rekcon unknowns --write-settlements` turns
//! them into a settlements file; a planted bug that takes the other allowed alternative
//! passes without it and diverges with it, naming the settlement. A point that one
//! recording cannot settle is not applied, two recordings that disagree are refused, and
//! a broken file is an error at file:line:column.

mod serve_support;

use std::path::{Path, PathBuf};
use std::process::Output;

use rekcon::serve::{Mutant, ServeConfig, Server};

const SCENARIO: &str = "search/search_users_query_shape";
const MUTANT: &str = "search-users-shape-validation";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rekcon-settle-{name}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("dir");
    dir
}

async fn rekcon(args: Vec<String>) -> Output {
    let mut command = serve_support::rekcon_for_loopback();
    command.args(args);
    tokio::task::spawn_blocking(move || command.output().expect("rekcon runs")).await.expect("joined")
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// Records SCENARIO and users/create_user into `dir` against a served emulator with
/// `mutants` playing AWS.
async fn record(dir: &Path, mutants: &[&str]) {
    let config = ServeConfig {
        mutants: mutants.iter().map(|m| Mutant::from_name(m).expect("a mutant")).collect(),
        ..ServeConfig::default()
    };
    let server = Server::start(config).await.expect("the emulator starts");
    let url = server.url();
    let dir_arg = dir.display().to_string();
    let out =
        rekcon(args(&["run", "--record", &dir_arg, "--endpoint-url", &url, SCENARIO, "users/create_user"]))
            .await;
    assert!(text(&out.stderr).contains("recorded 2 cassette(s)"), "{}", text(&out.stderr));
    server.shutdown().await;
}

async fn write_settlements(rec: &Path, file: &Path) -> Output {
    rekcon(args(&[
        "unknowns",
        &rec.display().to_string(),
        "--write-settlements",
        &file.display().to_string(),
    ]))
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_settlement_turns_an_allowed_alternative_into_a_divergence_naming_it() {
    let root = scratch("narrow");
    let rec = root.join("rec");
    record(&rec, &[]).await;
    let file = root.join("settlements.yaml");
    let out = write_settlements(&rec, &file).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let written = std::fs::read_to_string(&file).expect("written");
    assert!(written.contains("unknown: unknown:search-users-query-shape"), "{written}");
    assert!(written.contains("- InvalidParameterException"), "{written}");

    // Without the settlement the planted bug takes an alternative the model allows.
    let out = rekcon(args(&["run", "--mutant", MUTANT, SCENARIO])).await;
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));

    // With it, the same answer diverges, and the divergence names the settlement.
    let file_arg = file.display().to_string();
    let out = rekcon(args(&["run", "--settlements", &file_arg, "--mutant", MUTANT, SCENARIO])).await;
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("narrowed unknown:search-users-query-shape to InvalidParameterException"),
        "{stdout}"
    );
    assert!(
        stdout.contains("expected InvalidParameterException (unknown:search-users-query-shape settled as InvalidParameterException by"),
        "{stdout}"
    );
    assert!(stdout.contains("got ValidationException"), "{stdout}");

    // The clean emulator still conforms under the settlement.
    let out = rekcon(args(&["run", "--settlements", &file_arg, SCENARIO])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    std::fs::remove_dir_all(&root).ok();
}

/// A settlements file settling one point to `outcome`, with one piece of evidence.
fn hand_made(tag: &str, outcome: &str) -> String {
    format!(
        "version: 1\nsettlements:\n  - unknown: {tag}\n    outcomes: [{outcome}]\n    evidence:\n      - outcome: {outcome}\n        scenario: hand/made\n        step: 1\n        run: 00000000\n        date: 2026-12-01\n        region: eu-west-1\n        endpoint: real AWS (eu-west-1)\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_point_one_recording_cannot_settle_is_reported_not_applied() {
    let root = scratch("evidence");
    // The emulator answers InvalidParameterException for a syntactic violation; were this
    // settlement applied, the clean run would diverge.
    let file = root.join("settlements.yaml");
    std::fs::write(&file, hand_made("unknown:validation-error-type", "ValidationException")).expect("write");
    let out = rekcon(args(&[
        "run",
        "--settlements",
        &file.display().to_string(),
        "validation/collection_id_pattern",
    ]))
    .await;
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("0 point(s) narrowed, 1 kept as recorded evidence"), "{stdout}");
    assert!(
        stdout.contains("not applied unknown:validation-error-type: the error type may differ"),
        "{stdout}"
    );

    // The same shape of file on a narrowable point is applied (the check above can fail).
    std::fs::write(&file, hand_made("unknown:search-users-query-shape", "ValidationException"))
        .expect("write");
    let out = rekcon(args(&["run", "--settlements", &file.display().to_string(), SCENARIO])).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    std::fs::remove_dir_all(&root).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recordings_that_disagree_are_refused() {
    let root = scratch("conflict");
    let rec = root.join("rec");
    record(&rec.join("a"), &[]).await;
    record(&rec.join("b"), &[MUTANT]).await;
    let file = root.join("settlements.yaml");
    let out = write_settlements(&rec, &file).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("refusing to settle unknown:search-users-query-shape"), "{stderr}");
    assert!(stderr.contains("AWS varies there"), "{stderr}");
    assert!(!file.exists());
    std::fs::remove_dir_all(&root).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_settlements_file_is_an_error_at_its_place() {
    let root = scratch("malformed");
    let file = root.join("settlements.yaml");
    let bad = hand_made("unknown:search-users-query-shape", "InvalidParameterException")
        .replace("outcomes: [InvalidParameterException]", "outcomes: [Bogus]");
    std::fs::write(&file, bad).expect("write");
    let out = rekcon(args(&["run", "--settlements", &file.display().to_string(), SCENARIO])).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&format!("{}:4:16: `Bogus` is not an outcome", file.display())), "{stderr}");

    std::fs::write(&file, hand_made("unknown:serch-users-query-shape", "InvalidParameterException"))
        .expect("write");
    let out = rekcon(args(&["run", "--settlements", &file.display().to_string(), SCENARIO])).await;
    let stderr = text(&out.stderr);
    assert!(stderr.contains(&format!("{}:3:14:", file.display())), "{stderr}");
    assert!(stderr.contains("did you mean `unknown:search-users-query-shape`"), "{stderr}");
    std::fs::remove_dir_all(&root).ok();
}

#[test]
fn the_readme_table_of_open_points_is_the_generated_one() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let committed =
        rekcon::settle::for_run(None, &root.join("scenarios")).expect("the committed settlements load");
    let table = rekcon::settle::open_points_table(committed.as_ref());
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let begin =
        "<!-- open-points: generated from src/settle.rs; `cargo test --test settlements` checks it -->\n";
    let start = readme.find(begin).expect("the open points' begin marker") + begin.len();
    let end = readme[start..].find("<!-- open-points end -->").expect("the end marker") + start;
    assert_eq!(
        &readme[start..end],
        table,
        "README.md's table of open points is stale; put this there:\n{table}"
    );
}

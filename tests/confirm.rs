//! `rekcon fuzz --confirm-on URL` (issue 11, item 3), on 127.0.0.1: a planted bug in the
//! fuzzed emulator, confirmed on a clean emulator playing AWS, is the endpoint's bug; the
//! same finding confirmed on an emulator with the same bug playing AWS (AWS doing what
//! the model forbids) is the model's bug; a cap below the budget sends nothing.

mod fuzz_support;

use std::path::{Path, PathBuf};
use std::process::Output;

use fuzz_support::{arg, rekcon, scratch_root};
use rekcon::record::load_dir;
use rekcon::serve::{Mutant, ServeConfig, Server};

/// Found at the first CreateCollection, so a short budget always finds it.
const MUTANT: &str = "status-code-missing";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Fuzzes the built-in emulator with [`MUTANT`] planted, confirming on an emulator with
/// `aws_mutants` playing AWS; returns the output and the cassette folder.
async fn fuzz_and_confirm(name: &str, aws_mutants: &[&str], extra: &[&str]) -> (Output, PathBuf) {
    let dir = scratch_root(&format!("confirm-{name}-{}", uuid::Uuid::new_v4().simple()));
    let aws = Server::start(ServeConfig {
        mutants: aws_mutants.iter().map(|m| Mutant::from_name(m).expect("a mutant")).collect(),
        ..ServeConfig::default()
    })
    .await
    .expect("the emulator playing AWS starts");
    let cassettes = dir.join("confirmed");
    let mut args: Vec<String> = [
        "fuzz",
        "--mutant",
        MUTANT,
        "--seed",
        "1",
        "--cases",
        "10",
        "--max-findings",
        "1",
        "--scenarios",
        &arg(&dir),
        "--confirm-on",
        &aws.url(),
        "--confirm-record",
        &arg(&cassettes),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    let out = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        rekcon(&args)
    })
    .await
    .expect("joined");
    aws.shutdown().await;
    (out, cassettes)
}

/// The line of the confirmation section that names the finding.
fn confirmed_line(stdout: &str) -> String {
    stdout
        .lines()
        .skip_while(|l| !l.starts_with("confirmed on "))
        .nth(1)
        .unwrap_or_else(|| panic!("no confirmation:\n{stdout}"))
        .to_string()
}

fn the_cassette(dir: &Path) -> rekcon::record::Cassette {
    let cassettes = load_dir(dir).expect("the confirmation's cassettes load");
    let (name, recorded) = cassettes.into_iter().next().expect("one cassette");
    assert!(name.starts_with("regressions/fuzz_"), "{name}");
    recorded.into_iter().next().expect("a recording")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finding_aws_answers_as_the_model_says_is_the_endpoints_bug() {
    let (out, cassettes) = fuzz_and_confirm("endpoint", &[], &[]).await;
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    // The budget is printed before anything is sent: the case's steps plus cleanup.
    let announced = stderr
        .lines()
        .find(|l| l.contains("confirming 1 finding(s) on http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no budget:\n{stderr}"));
    assert!(announced.contains("a budget of 2 call(s)") && announced.contains("cap 2"), "{announced}");
    let line = confirmed_line(&stdout);
    assert!(line.starts_with("endpoint's bug  regressions/fuzz_"), "{line}");
    assert!(line.contains("as the model says"), "{line}");
    assert!(!stdout.contains("model's bug"), "{stdout}");
    // Recorded, in the --record format: the confirm endpoint's raw answer.
    let cassette = the_cassette(&cassettes);
    assert_eq!(cassette.exchanges[0].target, "RekognitionService.CreateCollection");
    let body = cassette.exchanges[0].response.as_ref().and_then(|r| r.body.clone()).unwrap_or_default();
    assert!(body.contains("\"StatusCode\":200"), "{body}");
    assert!(cassette.exchanges.iter().all(|e| e.model_findings.is_empty()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finding_aws_shares_is_the_models_bug_reported_apart() {
    // "AWS" has the fuzzed endpoint's bug: the model forbids what AWS does.
    let (out, cassettes) = fuzz_and_confirm("model", &[MUTANT], &[]).await;
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(6), "every finding is the model's: {stdout}\n{stderr}");
    let line = confirmed_line(&stdout);
    assert!(line.starts_with("model's bug     regressions/fuzz_"), "{line}");
    assert!(line.contains("rekcon's bug, not the endpoint's") && line.contains("(§6.1)"), "{line}");
    assert!(line.contains("StatusCode"), "{line}");
    assert!(!stdout.contains("endpoint's bug  "), "{stdout}");
    let cassette = the_cassette(&cassettes);
    assert!(!cassette.exchanges[0].model_findings.is_empty(), "the recording keeps what the model found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cap_below_the_budget_sends_nothing_and_blames_nobody() {
    let (out, cassettes) = fuzz_and_confirm("cap", &[], &["--confirm-cap", "1"]).await;
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "the fuzz finding stands: {stdout}");
    let line = confirmed_line(&stdout);
    assert!(line.starts_with("not confirmed   regressions/fuzz_") && line.contains("cap of 1"), "{line}");
    assert!(stdout.contains("confirmed on http://127.0.0.1:") && stdout.contains(": 0 call(s)"), "{stdout}");
    assert!(!cassettes.exists(), "nothing was recorded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confirm_endpoint_that_diverges_otherwise_is_unclear() {
    // "AWS" keeps StatusCode but prefixes the ARN: neither the model nor the fuzzed endpoint.
    let (out, _) = fuzz_and_confirm("unclear", &["arn-prefix-on-create"], &[]).await;
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "the model's judgement stands: {stdout}");
    let line = confirmed_line(&stdout);
    assert!(line.starts_with("unclear         regressions/fuzz_"), "{line}");
    assert!(line.contains("diverged otherwise, at step 1") && line.contains("CollectionArn"), "{line}");
}

//! rekcon against moto (`moto_server` from PyPI), a real third-party emulator that
//! implements none of the 16 operations: for each of them moto answers HTTP 500 with
//! Werkzeug's HTML error page (`Content-Type: text/html`), because its Rekognition
//! backend raises `NotImplementedError`. The report must say "not implemented" for all
//! 16, exit 4, and do so quickly.
//!
//! The test starts `moto_server -H 127.0.0.1 -p 0` itself (`REKCON_MOTO_SERVER` names
//! another command). Without moto it explains why and passes, unless
//! `REKCON_REQUIRE_MOTO=1` (set in CI), which makes a missing moto a failure.
//! Install: `python3 -m pip install moto flask flask-cors`.

mod thirdparty_support;

use std::process::Command;
use std::time::Duration;

use thirdparty_support::{StartError, all_operations, blocked_by, required, run_rekcon, verdict_of};

/// How long a whole run against moto may take. Today it takes 2–3 s; the bound is generous
/// for a loaded 2-core CI machine, and still catches retry storms and timeouts.
const RUN_BOUND: Duration = Duration::from_secs(30);

fn start_moto() -> Option<thirdparty_support::Emulator> {
    let must = required("REKCON_REQUIRE_MOTO");
    let program = std::env::var("REKCON_MOTO_SERVER").unwrap_or_else(|_| "moto_server".into());
    let mut command = Command::new(&program);
    command.args(["-H", "127.0.0.1", "-p", "0"]);
    match thirdparty_support::start(command, Duration::from_secs(60)) {
        Ok(moto) => Some(moto),
        Err(e @ StartError::NotInstalled(_)) | Err(e @ StartError::NotReady(_)) => {
            assert!(!must, "REKCON_REQUIRE_MOTO=1 but moto cannot run: {e}");
            eprintln!("skipping the moto test: {e} (python3 -m pip install moto flask flask-cors)");
            None
        }
    }
}

#[test]
fn moto_is_reported_not_implemented_for_all_16_operations() {
    let Some(moto) = start_moto() else { return };
    let run = run_rekcon(&moto.url, &[]);
    let context = format!("{}\n--- moto log (tail)\n{}", run.context(), moto.log_tail(30));

    assert!(run.elapsed < RUN_BOUND, "the run took {:?} (bound {RUN_BOUND:?})\n{context}", run.elapsed);
    assert_eq!(run.code, Some(4), "exit code\n{context}");
    assert_eq!(run.report["format_version"], 2, "{context}");
    assert_eq!(run.report["exit_code"], 4, "{context}");

    // The parity matrix: every one of the 16 operations, each not implemented.
    let matrix = run.matrix();
    assert_eq!(matrix.keys().cloned().collect::<Vec<_>>(), all_operations(), "matrix keys\n{context}");
    for (op, verdict) in &matrix {
        assert_eq!(verdict, "not-implemented", "matrix.{op}\n{context}");
    }
    assert_eq!(run.not_implemented(), all_operations(), "not_implemented\n{context}");
    assert!(run.report["causes"].is_array(), "a top-level causes array\n{context}");

    // No scenario passes or is blamed on the endpoint: each is blocked by an operation moto
    // lacks. (wire/unknown_operation calls only targets that are not among the 16, which
    // moto answers with the same HTML 500; it must not pass, and the exit code above says
    // it was not counted as a divergence either.)
    let scenarios = run.scenarios();
    assert!(scenarios.len() >= 90, "the whole suite ran: {} scenarios\n{context}", scenarios.len());
    for scenario in scenarios {
        let name = scenario["name"].as_str().unwrap_or("?");
        if name == "wire/unknown_operation" {
            assert_ne!(verdict_of(scenario), "pass", "{scenario}");
            continue;
        }
        assert_eq!(verdict_of(scenario), "blocked", "{name}: {scenario}\n{context}");
        let by = blocked_by(scenario);
        assert!(!by.is_empty(), "{name} names what blocks it: {scenario}");
        assert!(by.iter().all(|op| all_operations().contains(op)), "{name} blocked by {by:?}");
    }
    let create = run.scenario("collections/create_collection");
    assert_eq!(blocked_by(create), ["CreateCollection"], "{create}");

    // The text says so in words.
    assert!(run.stdout.contains("not implemented"), "{context}");
    // An operation moto does not implement created nothing: no journal is left claiming
    // 96 collections the run could not delete.
    assert!(!run.stderr.contains("could not delete"), "{context}");
}

/// What the main test's premise rests on, checked on the wire: moto answers every one of
/// the 16 operations with a 500 HTML page (and has not started to implement one).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moto_answers_each_of_the_16_operations_with_an_html_500() {
    let Some(moto) = tokio::task::spawn_blocking(start_moto).await.expect("join") else { return };
    for op in rekcon::api::Operation::ALL {
        let raw = thirdparty_support::call_signed(&moto.url, &op.target(), r#"{"CollectionId": "c1"}"#).await;
        let content_type = raw.header("content-type").unwrap_or("");
        assert_eq!(raw.status, 500, "{op}: {} {}", raw.status, raw.text());
        assert!(content_type.starts_with("text/html"), "{op}: Content-Type {content_type}");
        assert!(raw.text().contains("500 Internal Server Error"), "{op}: {}", raw.text());
    }
    let log = moto.log();
    assert!(log.contains("NotImplementedError"), "moto logs why: {}", moto.log_tail(20));
}

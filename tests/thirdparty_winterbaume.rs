//! rekcon against winterbaume (the `winterbaume-rekognition` crate), a real third-party
//! emulator that implements part of the API: the four collection operations are stateful,
//! while every face and user operation answers HTTP 501 `{"__type":"NotImplementedError"}`.
//! Its collection answers carry protocol faults (`Content-Type: application/x-amz-json-1.0`,
//! no `x-amzn-RequestId`) and CreateCollection's CollectionArn starts with `arn:`.
//!
//! The crate is served by rekcon's own small server in tests/emulators/winterbaume-server/,
//! a separate Cargo package that rekcon's build never compiles. Build it and point
//! `REKCON_WINTERBAUME_BIN` at the binary; without it this test explains why and passes:
//!
//! ```sh
//! (cd tests/emulators/winterbaume-server && cargo build --release --locked)
//! REKCON_WINTERBAUME_BIN=$PWD/tests/emulators/winterbaume-server/target/release/rekcon-winterbaume-server \
//!     cargo test --test thirdparty_winterbaume
//! ```

mod thirdparty_support;

use std::process::Command;
use std::time::Duration;

use thirdparty_support::{Emulator, all_operations, blocked_by, run_rekcon, verdict_of};

const COLLECTION_OPS: [&str; 4] =
    ["CreateCollection", "DeleteCollection", "DescribeCollection", "ListCollections"];

fn start_winterbaume() -> Option<Emulator> {
    let Ok(bin) = std::env::var("REKCON_WINTERBAUME_BIN") else {
        eprintln!(
            "skipping the winterbaume test: REKCON_WINTERBAUME_BIN is not set \
             (build tests/emulators/winterbaume-server and point it at the binary)"
        );
        return None;
    };
    let mut command = Command::new(&bin);
    command.args(["--port", "0", "--stop-on-stdin-eof"]);
    // The variable was set on purpose: a binary that does not start is a failure.
    Some(thirdparty_support::start(command, Duration::from_secs(30)).unwrap_or_else(|e| panic!("{bin}: {e}")))
}

/// The face and user operations: the 16 less the collection operations.
fn face_and_user_ops() -> Vec<String> {
    all_operations().into_iter().filter(|op| !COLLECTION_OPS.contains(&op.as_str())).collect()
}

#[test]
fn winterbaume_implements_collections_and_not_faces_or_users() {
    let Some(winterbaume) = start_winterbaume() else { return };
    let run = run_rekcon(&winterbaume.url, &[]);
    let context = format!("{}\n--- server log (tail)\n{}", run.context(), winterbaume.log_tail(20));

    assert!(run.elapsed < Duration::from_secs(30), "the run took {:?}\n{context}", run.elapsed);
    // The collection operations diverge (protocol faults at least), which outranks "not
    // implemented" in the exit code.
    assert_eq!(run.code, Some(1), "exit code\n{context}");
    assert_eq!(run.report["format_version"], 2, "{context}");

    let matrix = run.matrix();
    assert_eq!(matrix.keys().cloned().collect::<Vec<_>>(), all_operations(), "matrix keys\n{context}");
    for op in COLLECTION_OPS {
        let entry = &run.report["matrix"][op];
        // Implemented and reached; none conforms, because every answer has the 1.0 Content-Type.
        assert_eq!(matrix[op], "diverges", "matrix.{op}: {entry}\n{context}");
        assert!(entry["calls"].as_u64().is_some_and(|n| n > 0), "matrix.{op} counts its calls: {entry}");
        assert!(
            entry["causes"].as_array().is_some_and(|c| !c.is_empty()),
            "matrix.{op} names causes: {entry}"
        );
    }
    for op in face_and_user_ops() {
        assert_eq!(matrix[&op], "not-implemented", "matrix.{op}\n{context}");
    }
    assert_eq!(run.not_implemented(), face_and_user_ops(), "not_implemented\n{context}");

    // The causes: the wire fault once (not once per call), and CollectionArn's `arn:` as a
    // contract divergence of CreateCollection.
    let causes = run.report["causes"].as_array().expect("a top-level causes array");
    let mentions = |cause: &serde_json::Value, what: &str| {
        cause["path"].as_str().is_some_and(|p| p.contains(what))
            || cause["summary"].as_str().is_some_and(|s| s.contains(what))
    };
    let content_type: Vec<_> = causes.iter().filter(|c| mentions(c, "Content-Type")).collect();
    assert_eq!(content_type.len(), 1, "one Content-Type cause: {content_type:?}");
    assert_eq!(content_type[0]["layer"], "protocol", "{content_type:?}");
    assert!(content_type[0]["scenarios"].as_u64().is_some_and(|n| n >= 90), "its reach: {content_type:?}");
    assert!(
        causes.iter().any(|c| c["layer"] == "contract"
            && c["operation"] == "CreateCollection"
            && mentions(c, "CollectionArn")),
        "a CreateCollection CollectionArn contract cause: {causes:?}"
    );
    assert!(causes.len() < 40, "{} causes: the same defect is counted more than once", causes.len());

    // Scenarios: collection-only ones diverge. One whose first call is IndexFaces is
    // blocked by it; one that diverges at CreateCollection and then needs CreateUser is
    // diverged, and says it stopped there because CreateUser is not implemented.
    for name in ["collections/create_collection", "collections/list_collections"] {
        let scenario = run.scenario(name);
        assert_eq!(verdict_of(scenario), "diverged", "{name}: {scenario}");
        assert!(scenario["stopped"].is_null(), "{name} is judged to its end: {scenario}");
    }
    let missing = run.scenario("collections/operations_on_missing_collection");
    assert_eq!(verdict_of(missing), "blocked", "{missing}");
    assert_eq!(blocked_by(missing), ["IndexFaces"], "{missing}");
    let users = run.scenario("users/create_user");
    assert_eq!(verdict_of(users), "diverged", "{users}");
    assert_eq!(users["stopped"]["kind"], "not-implemented", "{users}");
    assert_eq!(users["stopped"]["operation"], "CreateUser", "{users}");
    for scenario in run.scenarios() {
        assert_ne!(verdict_of(scenario), "pass", "{scenario}");
        let by = blocked_by(scenario);
        assert!(by.iter().all(|op| face_and_user_ops().contains(op)), "blocked by {by:?}: {scenario}");
    }
    assert!(run.stdout.contains("not implemented"), "{context}");
}

/// The premise, on the wire: collections answer 200, faces and users 501 NotImplementedError.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn winterbaume_answers_faces_and_users_with_501() {
    let Some(winterbaume) = tokio::task::spawn_blocking(start_winterbaume).await.expect("join") else {
        return;
    };
    let url = winterbaume.url.clone();
    let created = thirdparty_support::call_signed(
        &url,
        "RekognitionService.CreateCollection",
        r#"{"CollectionId": "wb-probe"}"#,
    )
    .await;
    assert_eq!(created.status, 200, "{}", created.text());
    assert!(created.json()["CollectionArn"].is_string(), "{}", created.text());
    for op in rekcon::api::Operation::ALL {
        if COLLECTION_OPS.contains(&op.name()) {
            continue;
        }
        let raw = thirdparty_support::call_signed(
            &url,
            &op.target(),
            r#"{"CollectionId": "wb-probe", "UserId": "u", "FaceId": "x"}"#,
        )
        .await;
        assert_eq!(raw.status, 501, "{op}: {}", raw.text());
        assert_eq!(raw.error_type().as_deref(), Some("NotImplementedError"), "{op}");
    }
}

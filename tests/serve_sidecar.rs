//! `rekcon serve` as a CI sidecar: `GET /_rekcon/health`, `POST /_rekcon/reset` (all
//! state gone, like moto's `/moto-api/reset`) and `--state FILE` (loaded at start, saved
//! atomically on exit; a torn file is an error, never a silently empty state).

mod serve_support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use rekcon::api::Operation;
use rekcon::serve::{ServeConfig, ServeError, Server};
use serde_json::{Value, json};
use serve_support::{
    call, create_collection, create_user, face_png, index, ok, request_bytes, send_raw, start,
};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rekcon-sidecar-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

fn control(method: &str, path: &str) -> Vec<u8> {
    format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
        .into_bytes()
}

fn collection_ids(listed: &Value) -> Vec<String> {
    listed["CollectionIds"]
        .as_array()
        .map(|ids| ids.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default()
}

fn state_config(path: &Path) -> ServeConfig {
    ServeConfig { state: Some(path.to_path_buf()), ..ServeConfig::default() }
}

#[tokio::test]
async fn health_answers_ok() {
    let server = start(ServeConfig::default()).await;
    let raw = send_raw(server.addr(), &control("GET", "/_rekcon/health")).await.expect("an answer");
    assert_eq!(raw.status, 200, "{}", raw.text());
    assert_eq!(raw.json(), json!({"Status": "ok"}));
    let unknown = send_raw(server.addr(), &control("GET", "/_rekcon/nothing")).await.expect("an answer");
    assert_eq!(unknown.status, 404);
}

#[tokio::test]
async fn reset_clears_every_collection_face_and_user() {
    let server = start(ServeConfig::default()).await;
    create_collection(&server, "kept-until-reset").await;
    index(&server, "kept-until-reset", "alice").await;
    create_user(&server, "kept-until-reset", "u1").await;
    let raw = send_raw(server.addr(), &control("POST", "/_rekcon/reset")).await.expect("an answer");
    assert_eq!(raw.status, 200, "{}", raw.text());
    let listed = ok(&server, Operation::ListCollections, json!({})).await;
    assert!(collection_ids(&listed).is_empty(), "{listed}");
    let described =
        call(&server, Operation::DescribeCollection, json!({"CollectionId": "kept-until-reset"})).await;
    assert_eq!(described.error_type().as_deref(), Some("ResourceNotFoundException"));
    // The emulator still works after a reset.
    create_collection(&server, "kept-until-reset").await;
}

#[tokio::test]
async fn state_survives_a_restart_and_ids_are_never_reused() {
    let dir = scratch("restart");
    let path = dir.join("state.json");
    let server = Server::start(state_config(&path)).await.expect("starts with no state file yet");
    create_collection(&server, "c").await;
    let face = index(&server, "c", "alice").await;
    create_user(&server, "c", "u1").await;
    ok(&server, Operation::AssociateFaces, json!({"CollectionId": "c", "UserId": "u1", "FaceIds": [face]}))
        .await;
    create_collection(&server, "gone").await;
    ok(&server, Operation::DeleteCollection, json!({"CollectionId": "gone"})).await;
    let saved = server.saver().save().expect("saves").expect("a state file is configured");
    assert_eq!(saved, path);
    server.shutdown().await;

    let server = Server::start(state_config(&path)).await.expect("loads the state");
    let listed = ok(&server, Operation::ListCollections, json!({})).await;
    assert_eq!(collection_ids(&listed), vec!["c".to_string()]);
    let faces = ok(&server, Operation::ListFaces, json!({"CollectionId": "c"})).await;
    assert_eq!(faces["Faces"][0]["FaceId"], json!(face), "{faces}");
    assert_eq!(faces["Faces"][0]["UserId"], json!("u1"), "{faces}");
    let users = ok(&server, Operation::ListUsers, json!({"CollectionId": "c"})).await;
    assert_eq!(users["Users"][0]["UserId"], json!("u1"), "{users}");
    let again =
        ok(&server, Operation::IndexFaces, json!({"CollectionId": "c", "Image": {"Bytes": face_png("bob")}}))
            .await;
    assert_ne!(again["FaceRecords"][0]["Face"]["FaceId"], json!(face), "a restarted emulator reused an id");
    server.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_torn_or_foreign_state_file_is_an_error_not_an_empty_state() {
    let dir = scratch("torn");
    let path = dir.join("state.json");
    let server = Server::start(state_config(&path)).await.expect("starts");
    create_collection(&server, "c").await;
    server.saver().save().expect("saves");
    server.shutdown().await;
    let whole = std::fs::read(&path).expect("the state file");
    for torn in [&whole[..whole.len() / 2], &whole[..whole.len() - 3], &[][..]] {
        std::fs::write(&path, torn).expect("tear the file");
        match Server::start(state_config(&path)).await {
            Err(ServeError::State { path: named, .. }) => assert_eq!(named, path),
            Err(other) => panic!("a torn file ({} bytes) failed otherwise: {other}", torn.len()),
            Ok(_) => panic!("a torn file ({} bytes) started an emulator", torn.len()),
        }
    }
    std::fs::write(&path, br#"{"some": "other json"}"#).expect("write");
    assert!(matches!(Server::start(state_config(&path)).await, Err(ServeError::State { .. })));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `rekcon serve --state FILE` in the background; the child, its address and its stdout.
fn serve_cli(path: &Path) -> (std::process::Child, std::net::SocketAddr, impl BufRead) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rekcon"))
        .args(["serve", "--port", "0", "--quiet", "--state"])
        .arg(path)
        .stdout(Stdio::piped())
        .spawn()
        .expect("rekcon serve starts");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    stdout.read_line(&mut line).expect("the listening line");
    let addr = line.trim().rsplit("http://").next().unwrap_or_default().parse();
    (child, addr.unwrap_or_else(|e| panic!("no address in {line:?}: {e}")), stdout)
}

#[tokio::test]
async fn serve_saves_its_state_on_sigterm_and_loads_it_at_start() {
    let dir = scratch("cli");
    let path = dir.join("state.json");
    let (child, addr, stdout) = serve_cli(&path);
    let body = json!({"CollectionId": "from-the-first-run"}).to_string();
    let request = request_bytes(Some(&Operation::CreateCollection.target()), &[], body.as_bytes());
    assert_eq!(send_raw(addr, &request).await.expect("an answer").status, 200);
    let sent = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    assert!(sent.expect("kill runs").success());
    let rest: Vec<String> = stdout.lines().map_while(Result::ok).collect();
    let exit = child.wait_with_output().expect("serve exits");
    assert_eq!(exit.status.code(), Some(143));
    assert!(rest.iter().any(|l| l.starts_with("state saved to")), "{rest:?}");
    assert!(path.exists(), "no state file after SIGTERM");
    let leftovers: Vec<_> =
        std::fs::read_dir(&dir).expect("scratch").filter_map(Result::ok).map(|e| e.file_name()).collect();
    assert_eq!(leftovers.len(), 1, "temporary files left: {leftovers:?}");

    let (mut child, addr, _stdout) = serve_cli(&path);
    let list = request_bytes(Some(&Operation::ListCollections.target()), &[], b"{}");
    let listed = send_raw(addr, &list).await.expect("an answer").json();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(collection_ids(&listed), vec!["from-the-first-run".to_string()]);
    let _ = std::fs::remove_dir_all(&dir);
}

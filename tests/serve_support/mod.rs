//! Shared helpers for the emulator's wire tests: start a server on an ephemeral
//! loopback port and talk raw HTTP/1.1 to it, so every byte the server sends is visible.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use aws_sdk_rekognition::Client;
use aws_sdk_rekognition::config::{BehaviorVersion, Builder, Credentials, Region};
use rekcon::api::Operation;
use rekcon::image::{BoundingBox, ImageFace, fixture_png};
use rekcon::serve::{ServeConfig, Server};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One raw HTTP answer.
#[derive(Debug, Clone)]
pub struct Raw {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Raw {
    /// The first value of a header (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The body as JSON (`Value::Null` for an empty body); panics on non-JSON.
    pub fn json(&self) -> Value {
        if self.body.is_empty() {
            return Value::Null;
        }
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {:?}", self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The `__type` of an error body.
    pub fn error_type(&self) -> Option<String> {
        self.json().get("__type").and_then(Value::as_str).map(str::to_string)
    }
}

/// Starts a server with `config` on an ephemeral loopback port.
pub async fn start(config: ServeConfig) -> Server {
    Server::start(ServeConfig { port: 0, ..config }).await.expect("server starts")
}

/// Starts a default server (seed 0, no knobs, no mutant).
pub async fn start_default() -> Server {
    start(ServeConfig::default()).await
}

/// Sends raw bytes and reads the answer until the server closes; `None` if the connection
/// closed without any answer.
pub async fn send_raw(addr: SocketAddr, request: &[u8]) -> Option<Raw> {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request).await.ok()?;
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut buf)).await;
    match read {
        Ok(Ok(_)) => {}
        Ok(Err(_)) if !buf.is_empty() => {}
        Ok(Err(_)) => return None,
        Err(_) => panic!("no answer within 20 s"),
    }
    if buf.is_empty() {
        return None;
    }
    Some(parse_response(&buf))
}

/// Parses one HTTP/1.1 response.
pub fn parse_response(buf: &[u8]) -> Raw {
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n").expect("header end");
    let head = std::str::from_utf8(&buf[..split]).expect("ascii head");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().expect("status line");
    let status = status_line.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("status code");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = buf[split + 4..].to_vec();
    if let Some(len) = headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("content-length")) {
        let len: usize = len.1.parse().expect("content-length");
        body.truncate(len);
    }
    Raw { status, headers, body }
}

/// Builds a `POST /` request with the given target (if any), extra headers and body.
pub fn request_bytes(target: Option<&str>, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = String::from("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    if let Some(t) = target {
        out.push_str(&format!("X-Amz-Target: {t}\r\n"));
    }
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// Calls `op` with a JSON body, the way an SDK does.
pub async fn call(server: &Server, op: Operation, body: Value) -> Raw {
    call_at(server.addr(), op, body).await
}

pub async fn call_at(addr: SocketAddr, op: Operation, body: Value) -> Raw {
    let bytes = request_bytes(
        Some(&op.target()),
        &[("Content-Type", "application/x-amz-json-1.1")],
        body.to_string().as_bytes(),
    );
    send_raw(addr, &bytes).await.expect("an answer")
}

/// Calls `op` and expects 200; returns the body.
pub async fn ok(server: &Server, op: Operation, body: Value) -> Value {
    let raw = call(server, op, body.clone()).await;
    assert_eq!(raw.status, 200, "{op} {body} answered {} {}", raw.status, raw.text());
    raw.json()
}

/// A fixture PNG showing one face of `person` (base64, as it goes in `Image.Bytes`).
pub fn face_png(person: &str) -> String {
    faces_png(&[person])
}

/// A fixture PNG showing faces of `people`, the first the largest.
pub fn faces_png(people: &[&str]) -> String {
    let faces: Vec<ImageFace> = people
        .iter()
        .enumerate()
        .map(|(i, p)| ImageFace {
            person: (*p).into(),
            bounding_box: BoundingBox {
                left: 0.05 + 0.2 * i as f64,
                top: 0.1,
                width: 0.3 / (i + 1) as f64,
                height: 0.4,
            },
        })
        .collect();
    rekcon::api::Blob::new(fixture_png(&faces)).to_base64()
}

/// A fixture PNG with no face.
pub fn no_face_png() -> String {
    rekcon::api::Blob::new(fixture_png(&[])).to_base64()
}

/// Creates collection `c` and returns nothing.
pub async fn create_collection(server: &Server, c: &str) {
    ok(server, Operation::CreateCollection, json!({"CollectionId": c})).await;
}

/// Indexes one face of `person` into `c`; returns its FaceId.
pub async fn index(server: &Server, c: &str, person: &str) -> String {
    let body =
        ok(server, Operation::IndexFaces, json!({"CollectionId": c, "Image": {"Bytes": face_png(person)}}))
            .await;
    body["FaceRecords"][0]["Face"]["FaceId"].as_str().expect("a FaceId").to_string()
}

pub async fn create_user(server: &Server, c: &str, u: &str) {
    ok(server, Operation::CreateUser, json!({"CollectionId": c, "UserId": u})).await;
}

pub async fn associate(server: &Server, c: &str, u: &str, faces: &[&str]) -> Raw {
    call(server, Operation::AssociateFaces, json!({"CollectionId": c, "UserId": u, "FaceIds": faces})).await
}

/// Walks every value of a JSON document.
pub fn contains_null(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.iter().any(contains_null),
        Value::Object(o) => o.values().any(contains_null),
        _ => false,
    }
}

/// An aws-sdk-rekognition client for `url`, signing with these test credentials and region.
pub fn sdk_client_signed(url: &str, access_key: &str, secret: &str, region: &str) -> Client {
    let config = Builder::new()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(url)
        .region(Region::new(region.to_string()))
        .credentials_provider(Credentials::new(access_key, secret, None, None, "test"))
        .build();
    Client::from_conf(config)
}

/// An aws-sdk-rekognition client for `url` with dummy credentials in us-east-1.
pub fn sdk_client(url: &str) -> Client {
    sdk_client_signed(url, "AKIDTEST", "test-secret", "us-east-1")
}

/// The `rekcon` binary set up for a loopback emulator: no endpoint or profile variables
/// from the caller's environment, dummy credentials, us-east-1.
pub fn rekcon_for_loopback() -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_rekcon"));
    command
        .env_remove("REKCON_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL_REKOGNITION")
        .env_remove("AWS_PROFILE")
        .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
        .env("AWS_SECRET_ACCESS_KEY", "test-secret")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        // A journal folder of its own: a run a test kills leaves its journal there, never
        // in the user's state folder (where later runs would warn about it).
        .env(
            "REKCON_JOURNAL_DIR",
            std::env::temp_dir().join(format!("rekcon-test-journals-{}", uuid::Uuid::new_v4().simple())),
        );
    command
}

/// A scenario that waits for a user to settle before its search (as long as the
/// emulator's settle time): a run of it is reliably mid-way for a while.
pub const SLOW_SCENARIO: &str = "description: d
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

/// A scenarios folder of its own in the temp dir: every fixture image, and `files`
/// (a path inside the folder, the scenario's text).
pub fn scenarios_folder(files: &[(String, &str)]) -> std::path::PathBuf {
    let root = std::env::temp_dir().join(format!("rekcon-scenarios-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(root.join("images")).expect("temp dir");
    let images = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/images");
    for entry in std::fs::read_dir(&images).expect("fixture images").flatten() {
        if entry.path().extension().is_some_and(|x| x == "png") {
            std::fs::copy(entry.path(), root.join("images").join(entry.file_name())).expect("fixture image");
        }
    }
    for (name, text) in files {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().expect("has a parent")).expect("temp dir");
        std::fs::write(path, text).expect("scenario file");
    }
    root
}

/// [`scenarios_folder`] with `copies` of [`SLOW_SCENARIO`] in `s/`.
pub fn slow_scenarios(copies: usize) -> std::path::PathBuf {
    let files: Vec<(String, &str)> =
        (0..copies).map(|i| (format!("s/slow{i:03}.yaml"), SLOW_SCENARIO)).collect();
    scenarios_folder(&files)
}

//! Thousands of random, malformed and hostile requests: the emulator never panics,
//! always answers, and every answer is a success or AWS-shaped JSON with `__type`.

mod serve_support;

use std::net::SocketAddr;

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rekcon::api::Operation;
use rekcon::serve::{Mutant, ServeConfig};
use serde_json::{Map, Value, json};
use serve_support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Values a member may get: valid, boundary and (rarely) wrong-typed.
fn value(rng: &mut ChaCha8Rng, member: &str, faces: &[String]) -> Value {
    if rng.random_bool(0.02) {
        return any_value(rng, faces);
    }
    match member {
        "CollectionId" => json!(["c0", "c0", "c0", "c1", "c2", "bad id!", ""].choose(rng)),
        "UserId" => json!(["u0", "u0", "u1", "u1", "u:2", "", "x".repeat(200).as_str()].choose(rng)),
        "FaceId" => json!(faces.choose(rng).map_or("00000000-0000-4000-8000-000000000000", String::as_str)),
        "FaceIds" => match rng.random_range(0..5) {
            0 => json!([]),
            1 => json!(["00000000-0000-4000-8000-000000000000", "NOT-A-UUID"]),
            2 => json!([faces.first(), faces.first()]),
            _ => json!(faces.iter().filter(|_| rng.random_bool(0.5)).collect::<Vec<_>>()),
        },
        "Image" => match rng.random_range(0..7) {
            0 => json!({"Bytes": no_face_png()}),
            1 => json!({"Bytes": "!!!not base64"}),
            2 => json!({"Bytes": "aGVsbG8="}),
            3 => json!({"S3Object": {"Bucket": "b", "Name": "n.jpg"}}),
            4 => json!({"Bytes": faces_png(&["alice", "bob", "carol"])}),
            _ => {
                json!({"Bytes": face_png(["alice", "bob", "alice~twin"].choose(rng).copied().unwrap_or("alice"))})
            }
        },
        "MaxResults" | "MaxFaces" | "MaxUsers" => {
            json!([-1, 0, 1, 1, 2, 2, 100, 100, 500, 501, 4096, 4097, i64::MAX].choose(rng))
        }
        "UserMatchThreshold" | "FaceMatchThreshold" => {
            json!([-1.5, 0.0, 50.0, 75.0, 77.0, 77.0, 80.0, 80.0, 100.0, 100.5].choose(rng))
        }
        "ClientRequestToken" => json!(format!("tok-{}", rng.random_range(0..4))),
        "NextToken" => json!(["", "garbage-token", "x".repeat(300).as_str()].choose(rng)),
        "ExternalImageId" => json!(["img-1", "bad id", ""].choose(rng)),
        "DetectionAttributes" => json!(["DEFAULT", "ALL", "BOGUS"]),
        "QualityFilter" => json!(["NONE", "AUTO", "LOW", "HIGH", "bogus"].choose(rng)),
        "Tags" => json!({"k": "v", "aws:reserved": "x"}),
        _ => any_value(rng, faces),
    }
}

/// Any JSON value, mostly of the wrong type for the member it lands in.
fn any_value(rng: &mut ChaCha8Rng, faces: &[String]) -> Value {
    match rng.random_range(0..9) {
        0 => Value::Null,
        1 => json!(true),
        2 => json!({"nested": {"deeper": [1, 2, {"x": null}]}}),
        3 => json!(["NaN", "Infinity", "-Infinity"].choose(rng)),
        4 => [json!(i64::MIN), json!(-1), json!(1e308)].choose(rng).cloned().unwrap_or_default(),
        5 => json!(faces),
        6 => json!({"Bytes": faces_png(&["alice"; 3]), "S3Object": {"Bucket": "b"}}),
        _ => json!(rng.random::<u32>().to_string()),
    }
}

/// A body for `op`: usually plausible, sometimes garbage.
fn body(rng: &mut ChaCha8Rng, op: Operation, faces: &[String]) -> Vec<u8> {
    match rng.random_range(0..16) {
        0 if rng.random_bool(0.5) => (0..rng.random_range(0..200)).map(|_| rng.random::<u8>()).collect(),
        1 if rng.random_bool(0.5) => {
            let full = json!({"CollectionId": "c0", "FaceIds": faces, "UserId": "u0"}).to_string().into_bytes();
            let cut = rng.random_range(0..full.len().max(1));
            full[..cut].to_vec()
        }
        2 if rng.random_bool(0.5) => {
            let depth = rng.random_range(100..5000);
            let mut s = "[".repeat(depth);
            s.push_str(&"]".repeat(depth));
            s.into_bytes()
        }
        3 => b"{\"CollectionId\": \"c0\", \"MaxResults\": 123456789012345678901234567890, \"UserMatchThreshold\": 1e400}".to_vec(),
        4 => Vec::new(),
        5 => b"null".to_vec(),
        6 => "{\"CollectionId\": \"\u{0}\u{fffd}é\"}".as_bytes().to_vec(),
        _ => {
            let mut map = Map::new();
            for member in op.request_members() {
                let p = if *member == "NextToken" { 0.15 } else { 0.8 };
                if rng.random_bool(p) {
                    map.insert((*member).to_string(), value(rng, member, faces));
                }
            }
            if rng.random_bool(0.05) {
                map.insert("Unknown".into(), json!(1));
            }
            Value::Object(map).to_string().into_bytes()
        }
    }
}

fn target(rng: &mut ChaCha8Rng) -> (Option<String>, Operation) {
    let op = *Operation::ALL.choose(rng).unwrap_or(&Operation::ListCollections);
    let t = match rng.random_range(0..40) {
        0 => None,
        1 => Some("RekognitionService.".to_string()),
        2 => Some(format!("RekognitionService.{}", op.name().to_lowercase())),
        3 => Some(format!("Other.{}", op.name())),
        4 => Some((0..rng.random_range(1..40)).map(|_| char::from(rng.random_range(0x21u8..0x7f))).collect()),
        _ => Some(op.target()),
    };
    (t, op)
}

/// Sends one random request; returns the answer, or `None` if the connection closed without one.
async fn one(addr: SocketAddr, rng: &mut ChaCha8Rng, faces: &[String]) -> Option<Raw> {
    let (target, op) = target(rng);
    let body = body(rng, op, faces);
    let mut headers: Vec<(&str, String)> = Vec::new();
    match rng.random_range(0..10) {
        0 => {}
        1 => headers.push(("Content-Type", "application/json".into())),
        2 => headers.push(("Content-Type", "text/plain; charset=\u{7f}x".replace('\u{7f}', "?"))),
        _ => headers.push(("Content-Type", "application/x-amz-json-1.1".into())),
    }
    if rng.random_bool(0.05) {
        headers.push(("Authorization", "AWS4-HMAC-SHA256 garbage".into()));
    }
    if rng.random_bool(0.05) {
        headers.push(("X-Amz-Target", "RekognitionService.ListCollections".into()));
    }
    let header_refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut bytes = request_bytes(target.as_deref(), &header_refs, &body);
    if rng.random_bool(0.03) {
        let head = ["GET / ", "POST /x ", "OPTIONS / "].choose(rng).copied().unwrap_or("GET / ");
        bytes.splice(..b"POST / ".len(), head.bytes());
    }
    send_raw(addr, &bytes).await
}

fn assert_aws_shaped(raw: &Raw) {
    assert!(raw.header("x-amzn-RequestId").is_some(), "no request id: {raw:?}");
    let body: Value =
        serde_json::from_slice(&raw.body).unwrap_or_else(|e| panic!("non-JSON answer ({e}): {raw:?}"));
    if raw.status == 200 {
        assert!(body.is_object(), "{body}");
        assert!(!contains_null(&body), "null in success: {body}");
    } else {
        assert!(body["__type"].is_string(), "error without __type: {} {}", raw.status, raw.text());
        assert_ne!(body["__type"], "InternalServerError", "the model failed on a request: {}", raw.text());
        assert!((400..500).contains(&raw.status), "{}", raw.status);
    }
}

async fn fuzz(config: ServeConfig, seed: u64, requests: usize) {
    let server = start(config).await;
    for c in ["c0", "c1"] {
        create_collection(&server, c).await;
    }
    let mut faces = Vec::new();
    for person in ["alice", "bob"] {
        faces.push(index(&server, "c0", person).await);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut answers = std::collections::BTreeMap::<String, usize>::new();
    for i in 0..requests {
        let raw =
            one(server.addr(), &mut rng, &faces).await.unwrap_or_else(|| panic!("request {i}: no answer"));
        assert_aws_shaped(&raw);
        *answers.entry(raw.error_type().unwrap_or_else(|| raw.status.to_string())).or_default() += 1;
        if raw.status == 200 {
            let body = raw.json();
            for rec in body["FaceRecords"].as_array().into_iter().flatten() {
                if let Some(id) = rec["Face"]["FaceId"].as_str()
                    && faces.len() < 20
                {
                    faces.push(id.to_string());
                }
            }
        }
    }
    if requests >= 1000 {
        eprintln!("answers: {answers:?}");
        // The mix must reach the model, not only the front end.
        assert!(answers.get("200").is_some_and(|n| *n >= requests / 40), "{answers:?}");
        assert!(answers.len() >= 6, "a spread of outcomes: {answers:?}");
        assert!(
            answers.contains_key("SerializationException")
                && answers.contains_key("UnknownOperationException")
        );
    }
    // Still healthy.
    assert_eq!(call(&server, Operation::ListCollections, json!({})).await.status, 200);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_random_requests_get_aws_shaped_answers() {
    fuzz(ServeConfig::default(), 1, 3000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mutant_survives_random_requests() {
    for (i, m) in Mutant::ALL.iter().enumerate() {
        if *m == Mutant::Empty200ForError || *m == Mutant::MissingErrorType || *m == Mutant::NullForAbsent {
            // Their answers are deliberately not AWS-shaped; checked for liveness below.
            continue;
        }
        fuzz(ServeConfig { mutants: vec![*m], ..ServeConfig::default() }, 100 + i as u64, 150).await;
    }
    for m in [Mutant::Empty200ForError, Mutant::MissingErrorType, Mutant::NullForAbsent] {
        let server = start(ServeConfig { mutants: vec![m], ..ServeConfig::default() }).await;
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        for _ in 0..150 {
            let raw = one(server.addr(), &mut rng, &[]).await.expect("an answer");
            assert!(raw.header("x-amzn-RequestId").is_some());
        }
    }
}

/// Bytes that are not even HTTP: the server closes or answers, and keeps serving.
#[tokio::test]
async fn garbage_on_the_socket_never_kills_the_server() {
    let server = start_default().await;
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for i in 0..300 {
        let mut stream = tokio::net::TcpStream::connect(server.addr()).await.expect("connect");
        let junk: Vec<u8> = match i % 4 {
            0 => (0..rng.random_range(1..2000)).map(|_| rng.random::<u8>()).collect(),
            1 => b"POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n".to_vec(),
            2 => b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\n".to_vec(),
            _ => b"POST / HTTP/1.1\r\nX-Amz-Target: RekognitionService.ListCollections\r\nContent-Length: 50\r\n\r\n{}".to_vec(),
        };
        let _ = stream.write_all(&junk).await;
        let _ = stream.shutdown().await;
        let mut buf = Vec::new();
        let _ = tokio::time::timeout(std::time::Duration::from_secs(15), stream.read_to_end(&mut buf))
            .await
            .expect("no hang");
    }
    assert_eq!(call(&server, Operation::ListCollections, json!({})).await.status, 200);
}

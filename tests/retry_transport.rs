//! A dropped connection (`rekcon serve --faults` drops some; the client sees `connection
//! closed before message completed`) is retried like the SDK's other transient errors,
//! so it never ends a call as "no answer" — also after earlier calls spent the SDK's
//! retry quota. That quota (a token bucket, shared by every call of a client and drained
//! further when concurrent calls retry at once) protects real AWS from retry storms; for
//! an emulator or another local endpoint it only turns injected faults into false
//! "no answer"s, so rekcon gives such targets an unlimited one.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use rekcon::config::{Endpoint, TargetConfig};
use rekcon::target::{Call, Target};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A loopback endpoint: while `failing`, it answers every request with a retryable
/// HTTP 500; afterwards it drops every third connection without an answer and answers
/// the others with an empty ListCollections page.
struct Flaky {
    url: String,
    failing: Arc<AtomicBool>,
    requests: Arc<AtomicUsize>,
}

async fn read_request(stream: &mut TcpStream) -> bool {
    let (mut buf, mut seen) = (vec![0u8; 64 * 1024], Vec::new());
    loop {
        let Ok(n) = stream.read(&mut buf).await else { return false };
        if n == 0 {
            return false;
        }
        seen.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&seen).to_ascii_lowercase();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if seen.len() >= end + 4 + length {
                return true;
            }
        }
    }
}

async fn flaky() -> Flaky {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let failing = Arc::new(AtomicBool::new(true));
    let requests = Arc::new(AtomicUsize::new(0));
    let (f, r) = (Arc::clone(&failing), Arc::clone(&requests));
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let (failing, requests) = (Arc::clone(&f), Arc::clone(&r));
            tokio::spawn(async move {
                if !read_request(&mut stream).await {
                    return;
                }
                let n = requests.fetch_add(1, Ordering::SeqCst);
                let (status, body) = if failing.load(Ordering::SeqCst) {
                    ("500 Internal Server Error", r#"{"__type":"InternalServerError","Message":"no"}"#)
                } else if n % 3 == 0 {
                    return; // dropped: closed without an answer
                } else {
                    ("200 OK", r#"{"CollectionIds":[],"FaceModelVersions":[]}"#)
                };
                let answer = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/x-amz-json-1.1\r\n\
                     x-amzn-requestid: r\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes()).await;
            });
        }
    });
    Flaky { url, failing, requests }
}

fn list_call() -> Call {
    Call::Raw { target: "RekognitionService.ListCollections".into(), body: "{}".into() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_connections_are_retried_after_many_failures() {
    let endpoint = flaky().await;
    // Ten attempts: a call whose every attempt is dropped stays out of reach (1 in 3^10).
    let config =
        TargetConfig { max_attempts: 10, ..TargetConfig::new(Endpoint::BuiltIn(endpoint.url.clone())) };
    let target = Arc::new(Target::connect(&config).await.expect("client"));
    // Many concurrent calls that fail on every attempt: with the SDK's default quota,
    // these use it all up.
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..300 {
        let target = Arc::clone(&target);
        calls.spawn(async move { target.send(&list_call()).await.map(|r| r.status) });
    }
    while let Some(status) = calls.join_next().await {
        assert_eq!(status.expect("joins"), Ok(500), "the failing endpoint answers 500");
    }
    let spent = endpoint.requests.load(Ordering::SeqCst);
    assert!(spent > 300, "the 500s were retried ({spent} requests for 300 calls)");
    eprintln!("{spent} requests for 300 failing calls");
    // Now one connection in three is dropped; every call must still get its answer,
    // also with calls under way at the same time (as `--jobs` lanes send them).
    endpoint.failing.store(false, Ordering::SeqCst);
    let mut lanes = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let target = Arc::clone(&target);
        lanes.spawn(async move {
            let mut failures = Vec::new();
            for _ in 0..25 {
                match target.send(&list_call()).await {
                    Ok(r) => assert_eq!(r.status, 200),
                    Err(e) => failures.push(e.reason),
                }
            }
            failures
        });
    }
    let mut failures = Vec::new();
    while let Some(lane) = lanes.join_next().await {
        failures.extend(lane.expect("joins"));
    }
    assert!(
        failures.is_empty(),
        "{} of 200 calls got no answer: {:?}",
        failures.len(),
        &failures[..failures.len().min(3)]
    );
}

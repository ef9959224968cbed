//! rekcon honours the AWS configuration conventions the SDKs implement, through
//! aws-config's own loader: a profile's `endpoint_url`, a `services` section, and
//! `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`; `AWS_MAX_ATTEMPTS` sets the attempts per call.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rekcon::serve::{LogSink, ServeConfig, Server};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rekcon-awsconfig-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

/// A loopback emulator counting the requests it gets (and the 500s it answers).
async fn counted(faults: f64) -> (Server, Arc<AtomicUsize>) {
    let requests = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&requests);
    let config = ServeConfig {
        log_requests: true,
        log_sink: Some(LogSink::new(move |_| {
            seen.fetch_add(1, Ordering::SeqCst);
        })),
        faults,
        ..ServeConfig::default()
    };
    (Server::start(config).await.expect("server starts"), requests)
}

/// `rekcon run collections/create_collection` with only this AWS configuration file.
/// Every call gets a folder of its own: the tests run at once, and a shared folder
/// would let one test delete or overwrite another's configuration file.
fn run_with_config(config: &str, env: &[(&str, &str)]) -> Output {
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let dir = scratch(&format!("call{}", CALLS.fetch_add(1, Ordering::SeqCst)));
    let file = dir.join("config");
    std::fs::write(&file, config).expect("config file");
    let mut command = Command::new(env!("CARGO_BIN_EXE_rekcon"));
    command
        .args(["run", "collections/create_collection"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("AWS_CONFIG_FILE", &file)
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("no-credentials"))
        .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env_remove("AWS_PROFILE")
        .env_remove("REKCON_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL_REKOGNITION")
        .env_remove("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
        .env_remove("AWS_MAX_ATTEMPTS")
        .env_remove("AWS_RETRY_MODE");
    for (k, v) in env {
        command.env(k, v);
    }
    let output = command.output().expect("rekcon runs");
    let _ = std::fs::remove_dir_all(&dir);
    output
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_profile_endpoint_url_is_used() {
    let (server, requests) = counted(0.0).await;
    let config = format!("[default]\nregion = us-east-1\nendpoint_url = {}\n", server.url());
    let output = tokio::task::spawn_blocking(move || run_with_config(&config, &[])).await.expect("joins");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(requests.load(Ordering::SeqCst) > 0, "the profile's endpoint got no request: {}", text(&output));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_services_section_is_used() {
    let (server, requests) = counted(0.0).await;
    let config = format!(
        "[default]\nregion = us-east-1\nservices = local\n\n[services local]\nrekognition =\n  endpoint_url = {}\n",
        server.url()
    );
    let output = tokio::task::spawn_blocking(move || run_with_config(&config, &[])).await.expect("joins");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(requests.load(Ordering::SeqCst) > 0, "the services section was ignored: {}", text(&output));
}

#[tokio::test(flavor = "multi_thread")]
async fn ignore_configured_endpoint_urls_falls_back_to_the_built_in_emulator() {
    let (server, requests) = counted(0.0).await;
    let config = format!("[default]\nregion = us-east-1\nendpoint_url = {}\n", server.url());
    let output = tokio::task::spawn_blocking(move || {
        run_with_config(&config, &[("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")])
    })
    .await
    .expect("joins");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert_eq!(requests.load(Ordering::SeqCst), 0, "the configured endpoint was not ignored");
}

/// A loopback endpoint answering every request with a retryable 500; its URL and the
/// number of requests it got.
async fn always_500() -> (String, Arc<AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let requests = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&requests);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let count = Arc::clone(&count);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                let mut seen = Vec::new();
                loop {
                    let Ok(n) = stream.read(&mut buf).await else { return };
                    if n == 0 {
                        return;
                    }
                    seen.extend_from_slice(&buf[..n]);
                    let head = String::from_utf8_lossy(&seen).to_ascii_lowercase();
                    let Some(end) = head.find("\r\n\r\n") else { continue };
                    let length = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if seen.len() < end + 4 + length {
                        continue;
                    }
                    seen.drain(..end + 4 + length);
                    count.fetch_add(1, Ordering::SeqCst);
                    let body = r#"{"__type":"InternalServerError","message":"boom"}"#;
                    let answer = format!(
                        "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/x-amz-json-1.1\r\n\
                         x-amzn-RequestId: r\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if stream.write_all(answer.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, requests)
}

#[tokio::test(flavor = "multi_thread")]
async fn aws_max_attempts_sets_the_attempts_per_call() {
    // Every call fails: each makes exactly AWS_MAX_ATTEMPTS attempts.
    let (url, requests) = always_500().await;
    let config = format!("[default]\nregion = us-east-1\nendpoint_url = {url}\n");
    let (c1, c5) = (config.clone(), config);
    let output = tokio::task::spawn_blocking(move || run_with_config(&c1, &[("AWS_MAX_ATTEMPTS", "1")]))
        .await
        .expect("joins");
    assert_eq!(output.status.code(), Some(3), "{}", text(&output));
    let one = requests.swap(0, Ordering::SeqCst);
    let output = tokio::task::spawn_blocking(move || run_with_config(&c5, &[("AWS_MAX_ATTEMPTS", "5")]))
        .await
        .expect("joins");
    assert_eq!(output.status.code(), Some(3), "{}", text(&output));
    let five = requests.load(Ordering::SeqCst);
    assert!(one > 0 && five == 5 * one, "1 attempt: {one} requests; 5 attempts: {five}");
}

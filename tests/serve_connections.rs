//! `rekcon serve` caps its open connections (`--max-connections`): a crowd of idle
//! sockets never blocks a valid request, even when it outnumbers the process's file
//! descriptors; the idlest connections are shed to make room.

mod serve_support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rekcon::api::Operation;
use serde_json::json;
use serve_support::request_bytes;

/// Kills the server however the test ends.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `rekcon serve` under `ulimit -n 128`, capped at 48 connections; its address.
fn serve_with_few_descriptors() -> (Killed, SocketAddr) {
    let script = format!(
        "ulimit -n 128 && exec '{}' serve --port 0 --quiet --max-connections 48",
        env!("CARGO_BIN_EXE_rekcon")
    );
    let mut child = Command::new("sh")
        .args(["-c", &script])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("rekcon serve starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("the listening line");
    let url = line.trim().rsplit(' ').next().unwrap_or_default().trim_start_matches("http://").to_string();
    let addr = url.parse().unwrap_or_else(|e| panic!("no address in {line:?}: {e}"));
    (Killed(child), addr)
}

/// One ListCollections over a fresh connection; the status line it got, if any.
fn list_collections(addr: SocketAddr) -> Option<String> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(60))).ok()?;
    let target = format!("RekognitionService.{}", Operation::ListCollections.name());
    let body = json!({}).to_string();
    let request = request_bytes(Some(&target), &[], body.as_bytes());
    stream.write_all(&request).ok()?;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    text.lines().next().map(str::to_string)
}

#[test]
fn idle_sockets_beyond_the_descriptor_limit_never_block_a_valid_request() {
    let (server, addr) = serve_with_few_descriptors();
    // 300 idle sockets: far more than the server's 128 descriptors.
    let mut idle: Vec<TcpStream> = (0..300).filter_map(|_| TcpStream::connect(addr).ok()).collect();
    assert!(idle.len() >= 250, "only {} idle sockets connected", idle.len());
    std::thread::sleep(Duration::from_millis(300));

    let started = Instant::now();
    let status = list_collections(addr);
    let waited = started.elapsed();
    assert_eq!(status.as_deref(), Some("HTTP/1.1 200 OK"), "the valid request got no answer");
    // Without the cap the request waits for idle sockets to time out (30 s each).
    assert!(waited < Duration::from_secs(10), "the valid request took {waited:?}");

    // The server shed idle connections (read sees end of file) to stay under its cap.
    let mut shed = 0;
    for socket in &mut idle {
        let _ = socket.set_read_timeout(Some(Duration::from_millis(50)));
        let mut byte = [0u8; 1];
        if matches!(socket.read(&mut byte), Ok(0)) {
            shed += 1;
        }
    }
    drop(server);
    assert!(shed >= idle.len() - 48, "only {shed} of {} idle sockets were shed", idle.len());
}

//! SIGTERM and SIGHUP end `rekcon run`, `rekcon fuzz` and `rekcon serve` as Ctrl-C does:
//! no new work, the run's collections deleted, the reports written, and exit 128 + the
//! signal's number (143 for SIGTERM, 129 for SIGHUP). This is what `timeout`,
//! `docker stop` and a cancelled CI job send.
//!
//! Each test starts `rekcon serve --settle-ms 1000` as a process of its own on a free
//! loopback port, so users take a second to settle and a run is reliably mid-way.

#![cfg(unix)]

mod serve_support;

use std::io::{BufRead as _, BufReader, Read as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A scenarios folder with `copies` slow scenarios and the fixture images.
fn scenarios_root(copies: usize) -> PathBuf {
    serve_support::slow_scenarios(copies)
}

/// `rekcon serve --settle-ms 1000` on a free port, and its URL.
struct Serve {
    child: Child,
    url: String,
}

impl Serve {
    fn start() -> Serve {
        let mut child = serve_support::rekcon_for_loopback()
            .args(["serve", "--port", "0", "--settle-ms", "1000", "--quiet"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("rekcon serve starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("the banner");
        let url = line.trim().strip_prefix("rekcon serve listening on ").expect("the banner names the URL");
        Serve { url: url.to_string(), child }
    }

    /// The collections on the emulator.
    fn collections(&self) -> Vec<String> {
        let client = serve_support::sdk_client(&self.url);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        runtime.block_on(async {
            let page = client.list_collections().max_results(1000).send().await.expect("listed");
            page.collection_ids().to_vec()
        })
    }

    /// Waits (at most 60 s) until the emulator holds a collection of a run.
    fn wait_for_a_collection(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self.collections().iter().any(|c| c.starts_with("rekcon-")) {
            assert!(Instant::now() < deadline, "the run created no collection within 60 s");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the emulator with `signal` and returns how it exited.
    fn stop(mut self, signal: &str) -> ExitStatus {
        send(&self.child, signal);
        wait(&mut self.child, "rekcon serve")
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn send(child: &Child, signal: &str) {
    let sent = Command::new("kill").arg(format!("-{signal}")).arg(child.id().to_string()).status();
    assert!(sent.expect("kill runs").success(), "{signal} delivered");
}

/// Waits for `child` to end, at most 120 s.
fn wait(child: &mut Child, what: &str) -> ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(status) = child.try_wait().expect("waits") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{what} did not stop within 120 s of the signal");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn output(child: &mut Child) -> (String, String) {
    let (mut out, mut err) = (String::new(), String::new());
    if let Some(mut s) = child.stdout.take() {
        let _ = s.read_to_string(&mut out);
    }
    if let Some(mut s) = child.stderr.take() {
        let _ = s.read_to_string(&mut err);
    }
    (out, err)
}

fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{} written: {e}", path.display()));
    serde_json::from_str(&text).expect("the report is JSON")
}

/// Starts `rekcon run` against a slow emulator, sends `signal` once the run has created a
/// collection, and checks the exit code, the report and that nothing is left.
fn interrupt_run(signal: &str, expected_code: i32) {
    let serve = Serve::start();
    let root = scenarios_root(8);
    let report = root.join("r.json");
    let mut child = serve_support::rekcon_for_loopback()
        .arg("run")
        .arg("--scenarios")
        .arg(&root)
        .args(["--endpoint-url", &serve.url, "--jobs", "2", "--json"])
        .arg(&report)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("rekcon run starts");
    serve.wait_for_a_collection();
    send(&child, signal);
    let status = wait(&mut child, "rekcon run");
    let (out, err) = output(&mut child);
    assert_eq!(status.code(), Some(expected_code), "{out}\n{err}");
    assert!(err.contains("rekcon run: interrupted"), "{err}");
    let json = read_json(&report);
    assert_eq!(json["interrupted"], true);
    assert_eq!(json["exit_code"], i64::from(expected_code), "the report says what the process exits with");
    let verdicts: Vec<&str> = json["scenarios"]
        .as_array()
        .expect("scenarios")
        .iter()
        .filter_map(|s| s["verdict"]["verdict"].as_str())
        .collect();
    assert_eq!(verdicts.len(), 8, "{verdicts:?}");
    assert!(verdicts.contains(&"not_run"), "the run stopped starting work: {verdicts:?}");
    let left = serve.collections();
    assert!(left.is_empty(), "left behind: {left:?}");
    assert!(out.contains("(interrupted)"), "the summary is printed: {out}");
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn sigterm_ends_a_run_with_its_report_written_and_nothing_left() {
    interrupt_run("TERM", 143);
}

#[test]
fn sighup_ends_a_run_with_its_report_written_and_nothing_left() {
    interrupt_run("HUP", 129);
}

#[test]
fn sigterm_ends_a_fuzz_run_with_its_report_written_and_nothing_left() {
    let serve = Serve::start();
    let root = scenarios_root(0);
    let report = root.join("f.json");
    let mut child = serve_support::rekcon_for_loopback()
        .arg("fuzz")
        .args(["--endpoint-url", &serve.url, "--cases", "100000000", "--jobs", "2", "--scenarios"])
        .arg(&root)
        .arg("--json")
        .arg(&report)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("rekcon fuzz starts");
    serve.wait_for_a_collection();
    send(&child, "TERM");
    let status = wait(&mut child, "rekcon fuzz");
    let (out, err) = output(&mut child);
    assert_eq!(status.code(), Some(143), "{out}\n{err}");
    assert!(err.contains("interrupted: finishing the cases under way"), "{err}");
    let json = read_json(&report);
    assert_eq!(json["interrupted"], true);
    assert!(json["checked_calls"].as_u64().is_some_and(|n| n > 0), "the run had started calling");
    let left = serve.collections();
    assert!(left.is_empty(), "left behind: {left:?}");
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn serve_stops_on_sigterm_and_sighup_with_128_plus_the_signal() {
    assert_eq!(Serve::start().stop("TERM").code(), Some(143));
    assert_eq!(Serve::start().stop("HUP").code(), Some(129));
    assert_eq!(Serve::start().stop("INT").code(), Some(130));
}

//! Shared helpers for the tests that judge real third-party emulators (moto, winterbaume):
//! start the emulator as a child process on an ephemeral 127.0.0.1 port, run the `rekcon`
//! binary against it over the whole scenario suite, and read the JSON report.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rekcon::api::Operation;
use serde_json::Value;

#[path = "../serve_support/mod.rs"]
pub mod serve_support;

/// Whether `variable` is set to `1`: then a missing emulator fails the test instead of
/// skipping it (CI sets these).
pub fn required(variable: &str) -> bool {
    std::env::var(variable).is_ok_and(|v| v == "1")
}

/// A running emulator process, the leader of its own process group; on drop the group is
/// killed (a launcher such as a pyenv shim may stand between us and the server) and the
/// process reaped.
pub struct Emulator {
    child: Child,
    /// `http://127.0.0.1:PORT`, as the emulator announced it.
    pub url: String,
    log: Arc<Mutex<String>>,
}

impl Emulator {
    /// Everything the emulator printed so far (stdout and stderr interleaved), for
    /// assertion messages.
    pub fn log(&self) -> String {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// The last `lines` lines of the log.
    pub fn log_tail(&self, lines: usize) -> String {
        let log = self.log();
        let all: Vec<&str> = log.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).stderr(Stdio::null()).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Why an emulator could not be started.
#[derive(Debug)]
pub enum StartError {
    /// The program is not installed (the spawn found no such file).
    NotInstalled(String),
    /// It started but exited, or never announced its address, within the time allowed.
    NotReady(String),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::NotInstalled(m) | StartError::NotReady(m) => f.write_str(m),
        }
    }
}

/// Spawns `command` with piped output and waits until one of its output lines names
/// `http://127.0.0.1:PORT`, which becomes the emulator's URL. Its output is drained for
/// as long as it runs (an emulator that logs a traceback per request must never block
/// on a full pipe) and kept for diagnostics.
pub fn start(mut command: Command, ready_within: Duration) -> Result<Emulator, StartError> {
    let program = command.get_program().to_string_lossy().into_owned();
    command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).process_group(0);
    let mut child = command.spawn().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            StartError::NotInstalled(format!("`{program}` is not installed (not found on PATH)"))
        } else {
            StartError::NotReady(format!("`{program}` cannot be started: {e}"))
        }
    })?;
    let log = Arc::new(Mutex::new(String::new()));
    let (lines_tx, lines) = mpsc::channel::<String>();
    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");
    drain(stdout, Arc::clone(&log), lines_tx.clone());
    drain(stderr, Arc::clone(&log), lines_tx);

    let deadline = Instant::now() + ready_within;
    let mut emulator = Emulator { child, url: String::new(), log };
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => {
                if let Some(url) = loopback_url(&line) {
                    emulator.url = url;
                    return Ok(emulator);
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = emulator.child.wait().map(|s| s.to_string()).unwrap_or_default();
                return Err(StartError::NotReady(format!(
                    "`{program}` exited ({status}) before it listened:\n{}",
                    emulator.log_tail(20)
                )));
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                return Err(StartError::NotReady(format!(
                    "`{program}` did not announce a 127.0.0.1 address within {ready_within:?}:\n{}",
                    emulator.log_tail(20)
                )));
            }
        }
    }
}

fn drain(stream: impl Read + Send + 'static, log: Arc<Mutex<String>>, lines: mpsc::Sender<String>) {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if let Ok(mut log) = log.lock() {
                log.push_str(&line);
                log.push('\n');
            }
            let _ = lines.send(line);
        }
    });
}

/// `http://127.0.0.1:PORT` out of a line such as ` * Running on http://127.0.0.1:40121`
/// or `listening on http://127.0.0.1:40121`.
fn loopback_url(line: &str) -> Option<String> {
    let start = line.find("http://127.0.0.1:")?;
    let rest = &line[start + "http://127.0.0.1:".len()..];
    let port: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let port: u16 = port.parse().ok()?;
    (port != 0).then(|| format!("http://127.0.0.1:{port}"))
}

/// One `rekcon run` over the whole scenario suite.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
    /// The JSON report (`--json`).
    pub report: Value,
}

impl Run {
    /// The report's parity matrix: operation name → verdict.
    pub fn matrix(&self) -> BTreeMap<String, String> {
        let matrix = self.report["matrix"].as_object().unwrap_or_else(|| {
            panic!("the report has no `matrix` object: {}", head(&self.report.to_string(), 600))
        });
        matrix
            .iter()
            .map(|(op, entry)| {
                let verdict =
                    entry["verdict"].as_str().unwrap_or_else(|| panic!("matrix.{op} has no verdict"));
                (op.clone(), verdict.to_string())
            })
            .collect()
    }

    /// The operations of the report's `not_implemented` list, sorted. An entry is an
    /// operation name or an object `{"operation": NAME, "evidence": …}`.
    pub fn not_implemented(&self) -> Vec<String> {
        let mut names: Vec<String> = self.report["not_implemented"]
            .as_array()
            .expect("the report has a `not_implemented` array")
            .iter()
            .map(|v| {
                let name = v.as_str().or_else(|| v["operation"].as_str());
                name.unwrap_or_else(|| panic!("not_implemented entry without an operation: {v}")).to_string()
            })
            .collect();
        names.sort();
        names
    }

    /// The scenario named `name` (e.g. `users/create_user`) in the report.
    pub fn scenario(&self, name: &str) -> &Value {
        self.scenarios()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("scenario {name} is not in the report"))
    }

    pub fn scenarios(&self) -> &[Value] {
        self.report["scenarios"].as_array().map(Vec::as_slice).expect("the report lists scenarios")
    }

    /// Text output and the head of the report, for assertion messages.
    pub fn context(&self) -> String {
        format!(
            "exit {:?} after {:?}\n--- stdout (head)\n{}\n--- stderr\n{}",
            self.code,
            self.elapsed,
            head(&self.stdout, 4000),
            head(&self.stderr, 2000)
        )
    }
}

/// A scenario's verdict word (`pass`, `diverged`, `blocked`, …), whether the report nests
/// it as `{"verdict": {"verdict": …}}` or gives it as a plain string.
pub fn verdict_of(scenario: &Value) -> &str {
    let verdict = &scenario["verdict"];
    verdict.as_str().or_else(|| verdict["verdict"].as_str()).unwrap_or("")
}

/// The operations a blocked scenario names in `blocked_by` (next to or inside its verdict).
pub fn blocked_by(scenario: &Value) -> Vec<String> {
    let list = scenario["verdict"]["blocked_by"].as_array().or_else(|| scenario["blocked_by"].as_array());
    list.map(|l| l.iter().filter_map(Value::as_str).map(str::to_string).collect()).unwrap_or_default()
}

/// Runs `rekcon run --endpoint-url URL --json …` over the project's `scenarios/`, with
/// dummy credentials and no endpoint variables from the caller's environment.
pub fn run_rekcon(url: &str, extra: &[&str]) -> Run {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let report_path = report_path();
    let started = Instant::now();
    let output = serve_support::rekcon_for_loopback()
        .current_dir(manifest)
        .arg("run")
        .arg("--scenarios")
        .arg(manifest.join("scenarios"))
        .arg("--endpoint-url")
        .arg(url)
        .arg("--json")
        .arg(&report_path)
        .args(extra)
        .output()
        .expect("the rekcon binary runs");
    let elapsed = started.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let text = std::fs::read_to_string(&report_path)
        .unwrap_or_else(|e| panic!("no JSON report at {} ({e})\n{stdout}\n{stderr}", report_path.display()));
    let report = serde_json::from_str(&text).expect("the JSON report parses");
    let _ = std::fs::remove_file(&report_path);
    Run { code: output.status.code(), stdout, stderr, elapsed, report }
}

fn report_path() -> PathBuf {
    std::env::temp_dir().join(format!("rekcon-thirdparty-{}.json", uuid::Uuid::new_v4().simple()))
}

/// Sends `op` with a JSON body to `url` the way an SDK does, with a SigV4-shaped
/// `Authorization` header (moto routes by its credential scope; nobody checks the
/// signature), and returns the raw answer.
pub async fn call_signed(url: &str, target: &str, body: &str) -> serve_support::Raw {
    let addr: std::net::SocketAddr =
        url.trim_start_matches("http://").parse().expect("a http://127.0.0.1:PORT url");
    let authorization = "AWS4-HMAC-SHA256 Credential=AKIDTEST/20260101/us-east-1/rekognition/aws4_request, \
                         SignedHeaders=host;x-amz-date;x-amz-target, Signature=0";
    let request = serve_support::request_bytes(
        Some(target),
        &[
            ("Content-Type", "application/x-amz-json-1.1"),
            ("X-Amz-Date", "20260101T000000Z"),
            ("Authorization", authorization),
        ],
        body.as_bytes(),
    );
    serve_support::send_raw(addr, &request).await.expect("an answer")
}

/// The 16 operation names, sorted.
pub fn all_operations() -> Vec<String> {
    let mut names: Vec<String> = Operation::ALL.iter().map(|op| op.name().to_string()).collect();
    names.sort();
    names
}

fn head(text: &str, chars: usize) -> String {
    text.chars().take(chars).collect()
}

//! Set-up problems (issue 11, item 6): signature, credential, clock and permission
//! failures on rekcon's own calls are a "set-up problem" verdict with a one-line hint,
//! exit 5; never a divergence, never a fuzz regression file; and a `--profile` that
//! does not exist is an error, not a fallback to dummy credentials. Against
//! `rekcon serve --require-sigv4` on 127.0.0.1.

mod fuzz_support;
mod serve_support;

use std::path::Path;
use std::process::Output;

use rekcon::serve::{ServeConfig, Server};
use serde_json::Value;

/// The secret the strict emulator expects; rekcon is given another one.
const SERVER_SECRET: &str = "server-only-secret";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

async fn strict(access_key: &str) -> Server {
    let config = ServeConfig {
        require_sigv4: Some((access_key.into(), SERVER_SECRET.into())),
        ..ServeConfig::default()
    };
    Server::start(config).await.expect("the emulator starts")
}

async fn rekcon(args: Vec<String>, envs: Vec<(&'static str, String)>) -> Output {
    let mut command = serve_support::rekcon_for_loopback();
    command.args(args).envs(envs);
    tokio::task::spawn_blocking(move || command.output().expect("rekcon runs")).await.expect("joined")
}

fn arg(path: &Path) -> String {
    path.display().to_string()
}

/// What rekcon is given: `AKIDTEST` / `test-secret` (serve_support::rekcon_for_loopback).
fn assert_no_credentials(out: &str) {
    for secret in ["test-secret", SERVER_SECRET] {
        assert!(!out.contains(secret), "a secret leaked:\n{out}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_are_a_setup_problem_not_a_divergence() {
    // The access key is unknown (UnrecognizedClientException), then the secret is wrong
    // (InvalidSignatureException).
    for (server_key, hint_word) in [("AKIDOTHER", "access key id"), ("AKIDTEST", "secret access key")] {
        let server = strict(server_key).await;
        let dir = std::env::temp_dir().join(format!("rekcon-setup-{}-{server_key}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let json = dir.join("run.json");
        let out = rekcon(
            ["run", "users/", "--endpoint-url", &server.url(), "--json", &arg(&json)]
                .into_iter()
                .map(String::from)
                .collect(),
            vec![],
        )
        .await;
        let stdout = text(&out.stdout);
        assert_eq!(out.status.code(), Some(5), "{stdout}\n{}", text(&out.stderr));
        assert!(!stdout.contains("diverged"), "{stdout}");
        assert!(stdout.contains("set-up problem (rekcon's own set-up, not the endpoint)"), "{stdout}");
        assert!(stdout.contains(hint_word), "the hint names what to check: {stdout}");
        let report: Value =
            serde_json::from_str(&std::fs::read_to_string(&json).expect("the JSON report")).expect("JSON");
        assert_eq!(report["exit_code"], 5);
        assert!(report["causes"].as_array().is_some_and(Vec::is_empty), "{}", report["causes"]);
        let scenarios = report["scenarios"].as_array().expect("scenarios");
        assert!(!scenarios.is_empty());
        for s in scenarios {
            assert_eq!(s["verdict"]["verdict"], "setup_problem", "{}", s["name"]);
            assert!(
                s["verdict"]["hint"].as_str().is_some_and(|h| h.contains(hint_word) && !h.contains('\n'))
            );
        }
        assert_eq!(report["setup_problems"][0]["scenarios"].as_u64(), Some(scenarios.len() as u64));
        assert_no_credentials(&stdout);
        assert_no_credentials(&std::fs::read_to_string(&json).expect("the JSON report"));
        server.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fuzz_stops_on_a_setup_problem_and_writes_no_regression() {
    let server = strict("AKIDOTHER").await;
    let dir = fuzz_support::scratch_root("setup");
    let json = dir.join("fuzz.json");
    let out = rekcon(
        [
            "fuzz",
            "--endpoint-url",
            &server.url(),
            "--seed",
            "1",
            "--cases",
            "20",
            "--scenarios",
            &arg(&dir),
            "--json",
            &arg(&json),
        ]
        .into_iter()
        .map(String::from)
        .collect(),
        vec![],
    )
    .await;
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(5), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("set-up problem"), "{stdout}");
    let regressions = dir.join("regressions");
    let written = std::fs::read_dir(&regressions).map(|d| d.count()).unwrap_or(0);
    assert_eq!(written, 0, "no regression file in {}", regressions.display());
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("the JSON report")).expect("JSON");
    assert!(report["findings"].as_array().is_some_and(Vec::is_empty));
    assert!(report["setup_problem"].as_str().is_some_and(|h| h.contains("access key id")));
    assert_no_credentials(&stdout);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_that_does_not_exist_is_an_error() {
    let server = strict("AKIDTEST").await;
    let dir = std::env::temp_dir().join(format!("rekcon-profile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let config = dir.join("config");
    std::fs::write(&config, "[profile real]\nregion = us-east-1\n").expect("config");
    let credentials = dir.join("credentials");
    let with_profile = |profile: &str| {
        let args = ["run", "users/create_user", "--endpoint-url", &server.url(), "--profile", profile];
        let envs =
            vec![("AWS_CONFIG_FILE", arg(&config)), ("AWS_SHARED_CREDENTIALS_FILE", arg(&credentials))];
        rekcon(args.into_iter().map(String::from).collect(), envs)
    };
    let out = with_profile("no-such-profile").await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{}\n{stderr}", text(&out.stdout));
    assert!(stderr.contains("--profile no-such-profile"), "{stderr}");
    // A profile that exists (here with a region only) is used: the run goes on, and the
    // strict endpoint refuses the signature of the environment's credentials.
    let out = with_profile("real").await;
    assert_eq!(out.status.code(), Some(5), "{}\n{}", text(&out.stdout), text(&out.stderr));
    server.shutdown().await;
}

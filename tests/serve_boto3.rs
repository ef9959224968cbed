//! The emulator through boto3 (a second, independent client stack): runs
//! `scripts/boto3_roundtrip.py` against an in-process server.
//!
//! Without python3 or boto3 the test explains why and passes, unless
//! `REKCON_REQUIRE_BOTO3=1` (set in CI), which makes a missing client a failure.

mod serve_support;

use std::process::Command;

use rekcon::serve::ServeConfig;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_round_trip() {
    run_script(ServeConfig::default()).await;
}

/// botocore signs differently from the Rust SDK (its own header set): verify it too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_round_trip_with_sigv4_required() {
    run_script(ServeConfig {
        require_sigv4: Some(("AKIDTEST".into(), "test-secret".into())),
        ..ServeConfig::default()
    })
    .await;
}

async fn run_script(config: ServeConfig) {
    let required = std::env::var("REKCON_REQUIRE_BOTO3").is_ok_and(|v| v == "1");
    let server = serve_support::start(config).await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/boto3_roundtrip.py");
    let url = server.url();
    let output = tokio::task::spawn_blocking(move || Command::new("python3").arg(script).arg(url).output())
        .await
        .expect("join");
    let output = match output {
        Ok(output) => output,
        Err(e) => {
            assert!(!required, "REKCON_REQUIRE_BOTO3=1 but python3 cannot run: {e}");
            eprintln!("skipping boto3 round trip: python3 cannot run: {e}");
            return;
        }
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.code() == Some(2) {
        assert!(!required, "REKCON_REQUIRE_BOTO3=1 but boto3 is unusable: {stderr}");
        eprintln!("skipping boto3 round trip: {stderr}");
        return;
    }
    assert!(output.status.success(), "boto3 round trip failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("boto3 round trip: ok"), "{stdout}");
    server.shutdown().await;
}

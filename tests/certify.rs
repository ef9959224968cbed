//! `rekcon certify`: a bundle of the suite, a fuzz campaign with a recorded seed and
//! every report, under a SHA-256 manifest that `rekcon certify --verify` checks.

mod serve_support;

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

fn certify(args: &[&str]) -> Output {
    serve_support::rekcon_for_loopback()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("certify")
        .args(args)
        .output()
        .expect("rekcon certify runs")
}

fn bundle_dir(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("rekcon-certify-{name}-{}", uuid::Uuid::new_v4().simple()))
}

fn arg(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temp path")
}

#[test]
fn a_bundle_holds_every_report_under_a_manifest_that_catches_any_change() {
    let out = bundle_dir("clean");
    let made = certify(&["--out", arg(&out), "--seed", "7", "--cases", "10"]);
    assert_eq!(made.status.code(), Some(0), "{}", String::from_utf8_lossy(&made.stdout));
    for file in [
        "report.json",
        "report.html",
        "summary.md",
        "junit.xml",
        "fuzz.json",
        "fuzz-junit.xml",
        "certificate.json",
        "MANIFEST.sha256",
        "suite/users/create_user.yaml",
        "suite/images/alice-1.png",
    ] {
        assert!(out.join(file).is_file(), "{file} is in the bundle");
    }
    let certificate: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("certificate.json")).expect("read"))
            .expect("JSON");
    assert_eq!(certificate["fuzz"]["seed"], 7);
    assert_eq!(certificate["fuzz"]["cases"], 10);
    assert_eq!(certificate["run"]["exit_code"], 0);
    assert_eq!(certificate["rekcon_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(certificate["suite_hash"].as_str().map(str::len), Some(64));
    assert!(certificate["fixtures"]["images/alice-1.png"].as_str().is_some_and(|h| h.len() == 64));
    assert_eq!(certificate["run"]["matrix"]["AssociateFaces"]["verdict"], "conforms");

    let verify = |dir: &Path| certify(&["--verify", arg(dir)]);
    let ok = verify(&out);
    assert_eq!(ok.status.code(), Some(0), "{}", String::from_utf8_lossy(&ok.stdout));
    // A changed report, a removed fixture and an added file are each named.
    std::fs::write(out.join("summary.md"), "## rekcon: conforms\n").expect("tampered");
    std::fs::remove_file(out.join("suite/images/alice-1.png")).expect("removed");
    std::fs::write(out.join("extra.txt"), "x").expect("added");
    let bad = verify(&out);
    let text = String::from_utf8_lossy(&bad.stdout);
    assert_eq!(bad.status.code(), Some(1), "{text}");
    assert!(text.contains("summary.md: changed"), "{text}");
    assert!(text.contains("suite/images/alice-1.png: missing"), "{text}");
    assert!(text.contains("extra.txt: not in the manifest"), "{text}");
    // A bundle is written into a new folder only.
    let again = certify(&["--out", arg(&out), "--cases", "1"]);
    assert_eq!(again.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn a_bundle_of_a_diverging_endpoint_says_so() {
    let out = bundle_dir("mutant");
    let made = certify(&["--out", arg(&out), "--cases", "5", "--mutant", "steal-associated-face"]);
    assert_eq!(made.status.code(), Some(1), "{}", String::from_utf8_lossy(&made.stdout));
    let certificate: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("certificate.json")).expect("read"))
            .expect("JSON");
    assert_eq!(certificate["run"]["exit_code"], 1);
    assert_eq!(certificate["run"]["matrix"]["AssociateFaces"]["verdict"], "diverges");
    assert_eq!(certify(&["--verify", arg(&out)]).status.code(), Some(0), "an honest failing bundle verifies");
    let _ = std::fs::remove_dir_all(&out);
}

//! The reports CI systems and certifiers read, through the binary: the known-divergence
//! baseline round trip, the Markdown summary, and the HTML report rendered in a real
//! browser (headless Chromium).

mod fuzz_support;
mod serve_support;

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rekcon-reports-{name}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    dir
}

/// `rekcon run` of the repository's suite against the built-in emulator with `args`.
fn run(args: &[&str]) -> Output {
    serve_support::rekcon_for_loopback()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("run")
        .args(args)
        .output()
        .expect("rekcon runs")
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn arg(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temp path")
}

#[test]
fn a_baseline_passes_known_causes_and_names_new_changed_and_fixed_ones() {
    let dir = scratch("baseline");
    let baseline = dir.join("b.yaml");
    let out = run(&["--mutant", "steal-associated-face", "--write-baseline", arg(&baseline)]);
    assert_eq!(out.status.code(), Some(1), "without a baseline the divergence fails the run");
    let written = std::fs::read_to_string(&baseline).expect("the baseline is written");
    assert!(written.contains("operation: AssociateFaces") && written.contains("reason: \"\""), "{written}");

    // The same bug against its baseline: known, exit 0, and the JSON says so.
    let json = dir.join("r.json");
    let out = run(&["--mutant", "steal-associated-face", "--baseline", arg(&baseline), "--json", arg(&json)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("baseline ") && text(&out).contains(": passes"), "{}", text(&out));
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("JSON")).expect("JSON parses");
    assert_eq!(report["baseline"]["status"], "passes");
    assert_eq!(report["exit_code"], 0);

    // The clean emulator: the known causes are fixed, and must leave the baseline.
    let out = run(&["--baseline", arg(&baseline)]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("fixed: contract AssociateFaces"), "{}", text(&out));
    assert!(text(&out).contains("remove it from the baseline"), "{}", text(&out));

    // Another bug: a new cause (and the known ones fixed).
    let out = run(&["--mutant", "delete-owned-face", "--baseline", arg(&baseline)]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("new: #1 contract DeleteFaces"), "{}", text(&out));

    // A known cause past its date fails the run.
    let expired = written.replace("reason: \"\"", "reason: \"known\"\n    expires: 2001-01-01");
    std::fs::write(&baseline, expired).expect("rewritten");
    let out = run(&["--mutant", "steal-associated-face", "--baseline", arg(&baseline)]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("expired on 2001-01-01"), "{}", text(&out));

    // A broken baseline stops the run before it starts, naming the file.
    std::fs::write(&baseline, "version: 1\ncauses: [ {signature: x, colour: red} ]\n").expect("rewritten");
    let out = run(&["--baseline", arg(&baseline)]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("b.yaml") && err.contains("not a rekcon baseline"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_markdown_summary_has_the_matrix_and_the_causes() {
    let dir = scratch("markdown");
    let md = dir.join("summary.md");
    let out = run(&["--mutant", "steal-associated-face", "--markdown", arg(&md)]);
    assert_eq!(out.status.code(), Some(1));
    let text = std::fs::read_to_string(&md).expect("the summary is written");
    let rows =
        text.lines().filter(|l| l.starts_with("| ") && l.contains(" | ✅ ") || l.contains(" | ❌ ")).count();
    assert_eq!(rows, 16, "one matrix row per operation:\n{text}");
    assert!(text.contains("| AssociateFaces | ❌ diverges |"), "{text}");
    assert!(
        text.contains("### Causes, by reach")
            && text.contains("AssociateFaces AssociatedFaces[0]: expected the item for"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Debian's Chromium, if installed.
fn chromium() -> Option<PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"].into_iter().map(PathBuf::from).find(|p| p.exists())
}

#[test]
fn the_html_report_renders_in_a_browser_with_the_matrix_of_16_operations() {
    let Some(chromium) = chromium() else {
        assert!(
            std::env::var_os("REKCON_REQUIRE_CHROMIUM").is_none(),
            "REKCON_REQUIRE_CHROMIUM is set but Chromium is not installed"
        );
        eprintln!("skipped: Chromium is not installed (apt-get install chromium)");
        return;
    };
    let dir = scratch("html");
    let html = dir.join("report.html");
    let out = run(&["--mutant", "steal-associated-face", "--html", arg(&html)]);
    assert_eq!(out.status.code(), Some(1));
    let source = std::fs::read_to_string(&html).expect("the HTML report is written");
    assert!(!source.contains("<script"), "no scripts");
    assert!(!source.contains("<link") && !source.contains("src=\"http"), "self-contained: nothing to fetch");
    // Chromium without its background networking, on a profile of its own (the
    // machine's network is closed): load the file:// URL and dump the DOM it built.
    let profile = dir.join("chromium-profile");
    let dom = std::process::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", html.display()))
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&dom.stdout);
    let matrix_rows = dom.matches("<tr data-operation=").count();
    assert_eq!(matrix_rows, 16, "the matrix has the 16 operations");
    assert!(
        dom.contains("data-operation=\"AssociateFaces\" data-verdict=\"diverges\""),
        "coloured by verdict"
    );
    assert!(dom.contains("data-operation=\"CreateCollection\" data-verdict=\"conforms\""));
    assert!(
        dom.contains("id=\"cause-1\"") && dom.contains("rekcon run associate/"),
        "causes with a reproduction"
    );
    assert!(dom.contains("suite hash") && dom.contains("rekcon version"), "run metadata");
    assert!(dom.contains("id=\"unsettled\""), "the unsettled points");
    assert!(dom.matches("class=\"scenario\"").count() >= 94, "every scenario, with its steps");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_fuzz_run_against_a_baseline_finds_nothing_known() {
    let dir = scratch("fuzz-baseline");
    let baseline = dir.join("b.yaml");
    let out = run(&["--mutant", "steal-associated-face", "--write-baseline", arg(&baseline)]);
    assert_eq!(out.status.code(), Some(1));
    // A scenarios folder of the fuzzer's own, so no regression file lands in the repository.
    let scenarios = fuzz_support::scratch_root("reports-baseline");
    let json = dir.join("fuzz.json");
    let out = serve_support::rekcon_for_loopback()
        .args(["fuzz", "--mutant", "steal-associated-face", "--seed", "3", "--cases", "300", "--baseline"])
        .arg(&baseline)
        .arg("--scenarios")
        .arg(&scenarios)
        .arg("--json")
        .arg(&json)
        .output()
        .expect("rekcon fuzz runs");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).expect("JSON")).expect("parses");
    assert_eq!(report["findings"].as_array().map(Vec::len), Some(0));
    assert!(report["repeats"].as_u64() > Some(0), "the known cause was met, counted, not shrunk: {report}");
    assert!(!scenarios.join("regressions").exists(), "no regression file for a known cause");
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&scenarios);
}

#[test]
fn junit_carries_file_line_transcript_timestamp_and_properties() {
    let dir = scratch("junit");
    let junit = dir.join("junit.xml");
    let out = run(&["--mutant", "steal-associated-face", "--junit", arg(&junit)]);
    assert_eq!(out.status.code(), Some(1));
    let xml = std::fs::read_to_string(&junit).expect("the JUnit report is written");
    let failing = xml
        .split("<testcase ")
        .find(|case| case.contains("associate_face_of_other_user\""))
        .expect("the failing scenario's test case");
    assert!(failing.contains("file=\"scenarios/associate/associate_face_of_other_user.yaml\""), "{failing}");
    assert!(failing.contains("line=\"18\""), "the first diverging step's line: {failing}");
    assert!(failing.contains("<failure"), "{failing}");
    assert!(
        failing.contains("<system-out>")
            && failing.contains("step 8 (line 18) AssociateFaces -&gt; HTTP 200"),
        "{failing}"
    );
    assert!(!failing.contains("Wire") && !failing.contains("Model:"), "no Rust enum names: {failing}");
    assert!(xml.contains("timestamp=\"20"), "{xml:.400}");
    for property in ["endpoint", "run_id", "rekcon_version", "suite_hash", "region"] {
        assert!(xml.contains(&format!("<property name=\"{property}\"")), "{property}: {xml:.600}");
    }
    let passing = xml.split("<testcase ").find(|c| c.contains("associate_faces\"")).expect("a passing case");
    assert!(!passing.contains("<system-out>"), "only failing scenarios carry a transcript");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fuzz_writes_junit_with_a_failing_case_per_finding() {
    let dir = scratch("fuzz-junit");
    let scenarios = fuzz_support::scratch_root("reports-junit");
    let junit = dir.join("fuzz.xml");
    let out = serve_support::rekcon_for_loopback()
        .args([
            "fuzz",
            "--mutant",
            "user-active-at-once",
            "--seed",
            "1",
            "--max-findings",
            "1",
            "--max-shrink-iters",
            "50",
            "--scenarios",
        ])
        .arg(&scenarios)
        .arg("--junit")
        .arg(&junit)
        .output()
        .expect("rekcon fuzz runs");
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    let xml = std::fs::read_to_string(&junit).expect("the JUnit report is written");
    assert_eq!(xml.matches("<failure").count(), 1, "{xml}");
    assert!(
        xml.contains("file=\"") && xml.contains("regressions/"),
        "the finding links to its regression file: {xml}"
    );
    assert!(xml.contains("<property name=\"seed\" value=\"1\""), "{xml}");
    assert!(xml.contains("name=\"campaign\""), "{xml}");
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&scenarios);
}

//! The JSON reports have committed JSON Schemas (docs/schemas/), generated from the typed
//! report structs; real output of `rekcon run` and `rekcon fuzz` must validate against
//! them. `REKCON_UPDATE_SCHEMAS=1 cargo test --test schemas` rewrites the files after an
//! intended change of the report layout (bump its `format_version` too).

mod fuzz_support;
mod serve_support;

use std::path::{Path, PathBuf};

use serde_json::Value;

fn schema_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/schemas").join(name)
}

/// The committed schema, checked to be the one the code generates.
fn committed(name: &str, generated: Value) -> Value {
    let path = schema_file(name);
    let text = serde_json::to_string_pretty(&generated).expect("a schema serialises") + "\n";
    if std::env::var_os("REKCON_UPDATE_SCHEMAS").is_some() {
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("docs/schemas");
        std::fs::write(&path, &text).expect("the schema is written");
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(
        on_disk,
        text,
        "{} is not the schema the report structs generate; after an intended change run \
         REKCON_UPDATE_SCHEMAS=1 cargo test --test schemas",
        path.display()
    );
    generated
}

fn validate(schema: &Value, instance: &Value, what: &str) {
    let validator = jsonschema::validator_for(schema).expect("the schema compiles");
    let errors: Vec<String> =
        validator.iter_errors(instance).map(|e| format!("{} at {}", e, e.instance_path)).collect();
    assert!(errors.is_empty(), "{what} does not match its schema:\n{}", errors.join("\n"));
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rekcon-schemas-{name}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    dir
}

#[test]
fn run_reports_match_their_committed_schema() {
    let schema = committed("run-report.schema.json", rekcon::report::json::run_report_schema());
    let dir = scratch("run");
    // A run with every part: causes, a baseline, a stopped scenario (a bad file), the matrix.
    let baseline = dir.join("b.yaml");
    let run = |extra: &[&str]| {
        serve_support::rekcon_for_loopback()
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["run", "--mutant", "steal-associated-face", "--mutant", "wrong-content-type"])
            .args(extra)
            .output()
            .expect("rekcon runs")
    };
    run(&["--write-baseline", baseline.to_str().expect("UTF-8")]);
    let json = dir.join("r.json");
    let out =
        run(&["--baseline", baseline.to_str().expect("UTF-8"), "--json", json.to_str().expect("UTF-8")]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).expect("JSON")).expect("parses");
    validate(&schema, &report, "a run against a baseline");
    // No Rust enum names in the output.
    let text = report.to_string();
    for rust in ["\"Success\"", "\"Error\"", "\"Wire\"", "\"Model\"", "\"duration\":"] {
        assert!(!text.contains(rust), "{rust} leaks into the JSON report");
    }
    // A wrong report is caught: the schema is not a formality.
    let mut broken = report.clone();
    broken["causes"][0]["calls"] = Value::String("many".into());
    let validator = jsonschema::validator_for(&schema).expect("compiles");
    assert!(!validator.is_valid(&broken), "a string where a count belongs fails the schema");
    let mut extra = report;
    extra["scenarios"][0]["surprise"] = Value::Bool(true);
    assert!(!validator.is_valid(&extra), "an undocumented member fails the schema");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fuzz_reports_match_their_committed_schema() {
    let schema = committed("fuzz-report.schema.json", rekcon::fuzz::report::FuzzReport::schema());
    let scenarios = fuzz_support::scratch_root("schemas");
    let json = scenarios.join("fuzz.json");
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
        ])
        .arg("--scenarios")
        .arg(&scenarios)
        .arg("--json")
        .arg(&json)
        .output()
        .expect("rekcon fuzz runs");
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).expect("JSON")).expect("parses");
    assert!(report["findings"].as_array().is_some_and(|f| !f.is_empty()));
    validate(&schema, &report, "a fuzz report with a finding");
    let _ = std::fs::remove_dir_all(&scenarios);
}

/// `rekcon fuzz --concurrency K` writes JSON that matches its committed schema and JUnit
/// with one failing case per finding, found against a planted race; a clean run's reports
/// say no finding.
#[test]
fn race_reports_match_their_committed_schema_and_junit_names_each_finding() {
    let schema = committed("race-report.schema.json", rekcon::fuzz::race_report::RaceReport::schema());
    let scenarios = fuzz_support::scratch_root("schemas-race");
    let race = |extra: &[&str], name: &str| {
        let json = scenarios.join(format!("{name}.json"));
        let junit = scenarios.join(format!("{name}.xml"));
        let out = serve_support::rekcon_for_loopback()
            .args(["fuzz", "--concurrency", "4", "--seed", "11", "--max-findings", "1"])
            .args(extra)
            .arg("--scenarios")
            .arg(&scenarios)
            .arg("--json")
            .arg(&json)
            .arg("--junit")
            .arg(&junit)
            .output()
            .expect("rekcon fuzz runs");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let report: Value =
            serde_json::from_str(&std::fs::read_to_string(&json).expect("JSON is written")).expect("parses");
        let xml = std::fs::read_to_string(&junit).expect("the JUnit report is written");
        (out.status.code(), text, report, xml)
    };

    let (code, text, report, xml) = race(&["--mutant", "race-create-user-twice", "--time", "60"], "found");
    assert_eq!(code, Some(1), "{text}");
    validate(&schema, &report, "a concurrency report with a finding");
    assert_eq!(report["verdict"], "diverged", "{report}");
    assert_eq!(report["mutants"][0], "race-create-user-twice");
    let findings = report["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 1, "{report}");
    let scenario = findings[0]["scenario"].as_str().expect("a path");
    assert!(Path::new(scenario).is_file(), "the regression is written: {scenario}");
    assert!(report["linearizability"]["not_linearizable"].as_u64() >= Some(1), "{report}");
    assert_eq!(xml.matches("<failure").count(), 1, "{xml}");
    assert!(xml.contains(&format!("file=\"{scenario}\"")), "the finding links to its regression: {xml}");
    assert!(xml.contains("concurrent:"), "the regression is in system-out: {xml}");
    assert!(xml.contains("<property name=\"concurrency\" value=\"4\""), "{xml}");

    let (code, text, report, xml) = race(&["--cases", "15"], "clean");
    assert_eq!(code, Some(0), "{text}");
    validate(&schema, &report, "a clean concurrency report");
    assert_eq!(report["verdict"], "no finding", "{report}");
    assert_eq!(report["cases"], 15, "{report}");
    assert!(report["linearizability"]["checked"].as_u64() > Some(0), "{report}");
    assert_eq!(xml.matches("<failure").count() + xml.matches("<error").count(), 0, "{xml}");
    assert!(xml.contains("name=\"linearizability\""), "{xml}");
    let _ = std::fs::remove_dir_all(&scenarios);
}

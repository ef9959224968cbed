//! The scenario suite's power to detect divergence, measured: every planted bug of the
//! built-in emulator (`rekcon serve --list-mutants`) must make at least one scenario
//! diverge, and the unmutated emulator must pass the whole suite.
//!
//! Each run gets its own in-process emulator (the reference, and one per mutant) and goes
//! through the harness's library API ([`Runner`]), exactly as `rekcon run` does; all
//! runs go at once on one runtime. To stay fast, a mutant is first tried against the
//! scenario [`CATCHERS`] names for it; only when that one does not diverge (a new mutant,
//! or a stale entry) does the whole suite run against it. The test prints, per mutant,
//! the scenario that caught it and the finding, so a mutant that slips through points at
//! the behaviour the suite lacks.

mod suite_support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use rekcon::report::{ScenarioReport, Verdict};
use rekcon::runner::Runner;
use rekcon::scenario::Scenario;
use rekcon::serve::Mutant;
use suite_support::{JOBS, load_suite, start};

/// The scenario meant to catch each mutant: the behaviour it pins is the one the mutant
/// breaks. (Most mutants are caught by several scenarios; this is the most direct one.)
const CATCHERS: &[(&str, &str)] = &[
    ("user-active-at-once", "associate/associate_faces"),
    ("steal-associated-face", "associate/associate_face_of_other_user"),
    ("accept-101st-face", "associate/face_limit_101"),
    ("face-not-found-as-resource-not-found", "associate/associate_face_not_found"),
    ("search-users-includes-self", "search/search_users_by_user_excludes_self"),
    ("delete-owned-face", "faces/delete_faces_owned_by_user"),
    ("arn-prefix-on-create", "collections/create_collection"),
    ("lowercase-message", "wire/unknown_operation"),
    ("empty-200-for-error", "collections/describe_collection_missing"),
    ("ignore-idempotency-tokens", "idempotency/create_user_replay"),
    ("pagination-skips-item", "pagination/list_faces_follow_next_token"),
    ("pagination-repeats-item", "pagination/list_users_follow_next_token"),
    ("associate-default-threshold-80", "associate/associate_lookalike_default_75"),
    ("null-for-absent", "search/search_users_by_face"),
    ("wrong-content-type", "collections/create_collection"),
    ("missing-error-type", "collections/delete_collection_missing"),
    ("unknown-user-search-not-found", "search/search_users_unknown_ids"),
    ("same-user-face-reported", "associate/associate_already_associated"),
    ("disassociate-ignores-unknown-face", "disassociate/disassociate_face_not_found"),
    ("delete-user-deletes-faces", "users/delete_user_frees_faces"),
    ("user-count-always-zero", "collections/describe_collection_counts"),
    ("max-results-ignored", "pagination/list_faces_max_results_bounds"),
    ("duplicate-collection-succeeds", "collections/create_collection_duplicate"),
    ("no-face-search-users-error", "search/search_users_by_image_no_face"),
    ("omit-empty-unsuccessful", "associate/associate_faces"),
    ("status-code-missing", "collections/create_collection"),
    ("timestamp-in-millis", "collections/describe_collection_counts"),
    ("list-faces-drops-user-id", "faces/list_faces"),
    ("delete-faces-drops-collection", "faces/delete_faces"),
];

/// How a mutant fared.
struct Hunt {
    mutant: Mutant,
    /// The designated catcher, when [`CATCHERS`] names one that exists.
    designated: Option<String>,
    /// Scenarios that diverged (the designated one alone when it caught the mutant).
    caught_by: Vec<ScenarioReport>,
    /// Scenarios that ended otherwise than pass or diverge (contradictions, bad steps).
    odd: Vec<ScenarioReport>,
}

/// The whole suite against `runner`.
async fn run_all(runner: &Arc<Runner>, suite: &[Arc<Scenario>]) -> Vec<ScenarioReport> {
    let (reports, interrupted) = runner.run_all(suite, JOBS, std::future::pending()).await;
    assert!(!interrupted);
    runner.cleanup().await;
    reports
}

/// The whole suite against the unmutated emulator.
async fn reference(suite: Arc<Vec<Arc<Scenario>>>) -> Vec<ScenarioReport> {
    let (server, runner) = start(None).await;
    let reports = run_all(&runner, &suite).await;
    server.shutdown().await;
    reports
}

/// Looks for a scenario that diverges under `mutant`: the designated one, else all.
async fn hunt(mutant: Mutant, suite: Arc<Vec<Arc<Scenario>>>) -> Hunt {
    let (server, runner) = start(Some(mutant)).await;
    let designated = CATCHERS
        .iter()
        .find(|(m, _)| *m == mutant.name())
        .and_then(|(_, name)| suite.iter().position(|s| s.name == *name));
    let mut hunt = Hunt {
        mutant,
        designated: designated.map(|i| suite[i].name.clone()),
        caught_by: Vec::new(),
        odd: Vec::new(),
    };
    if let Some(i) = designated {
        let report = runner.run_scenario(i + 1, &suite[i]).await;
        if matches!(report.verdict, Verdict::Diverged { .. }) {
            hunt.caught_by.push(report);
        }
    }
    if hunt.caught_by.is_empty() {
        for report in run_all(&runner, &suite).await {
            match report.verdict {
                Verdict::Pass => {}
                Verdict::Diverged { .. } => hunt.caught_by.push(report),
                _ => hunt.odd.push(report),
            }
        }
    }
    runner.cleanup().await;
    server.shutdown().await;
    hunt
}

/// The first finding of a report's failing step, on one line.
fn finding(report: &ScenarioReport) -> String {
    let found = report.records.iter().rev().flat_map(|r| r.findings.iter()).next();
    let line = match found {
        Some(f) => format!("[{:?}] {}", f.layer, f.mismatch),
        None => format!("{:?}", report.verdict),
    };
    if line.chars().count() > 150 {
        format!("{}…", line.chars().take(150).collect::<String>())
    } else {
        line
    }
}

#[test]
fn every_mutant_is_caught_and_the_unmutated_emulator_passes() {
    let started = Instant::now();
    let suite = Arc::new(load_suite());
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    let (reference, hunts) = runtime.block_on(async {
        let reference = tokio::spawn(reference(Arc::clone(&suite)));
        let mut tasks = tokio::task::JoinSet::new();
        for &mutant in Mutant::ALL {
            tasks.spawn(hunt(mutant, Arc::clone(&suite)));
        }
        let mut hunts = BTreeMap::new();
        while let Some(hunt) = tasks.join_next().await {
            let hunt = hunt.expect("a mutant hunt does not panic");
            hunts.insert(Mutant::ALL.iter().position(|m| *m == hunt.mutant), hunt);
        }
        (reference.await.expect("the reference run does not panic"), hunts)
    });

    let mut lines = Vec::new();
    let mut escaped = Vec::new();
    for hunt in hunts.values() {
        let name = hunt.mutant.name();
        match hunt.caught_by.first() {
            Some(first) => {
                let how = match &hunt.designated {
                    Some(d) if *d == first.name => String::new(),
                    Some(d) => format!(" (designated catcher {d} did not catch it: update CATCHERS)"),
                    None => " (no designated catcher: add one to CATCHERS)".to_string(),
                };
                let more = if hunt.caught_by.len() > 1 {
                    format!(" +{} more", hunt.caught_by.len() - 1)
                } else {
                    String::new()
                };
                lines.push(format!(
                    "  {name:<38} caught by {}{more}{how}\n      {}",
                    first.name,
                    finding(first)
                ));
            }
            None => {
                let odd: Vec<String> =
                    hunt.odd.iter().map(|r| format!("{} ({})", r.name, finding(r))).collect();
                escaped.push(format!(
                    "  {name} — {}; no scenario diverged{}",
                    hunt.mutant.description(),
                    if odd.is_empty() {
                        String::new()
                    } else {
                        format!("; not passing otherwise: {}", odd.join(", "))
                    }
                ));
            }
        }
    }
    println!(
        "{} scenarios; {} mutants; {:.1}s\n{}",
        suite.len(),
        Mutant::ALL.len(),
        started.elapsed().as_secs_f64(),
        lines.join("\n")
    );

    let failures: Vec<String> = reference
        .iter()
        .filter(|r| r.verdict != Verdict::Pass)
        .map(|r| format!("  {}: {:?}\n      {}", r.name, r.verdict, finding(r)))
        .collect();
    assert!(failures.is_empty(), "the unmutated emulator fails scenarios:\n{}", failures.join("\n"));
    assert!(escaped.is_empty(), "mutants no scenario catches:\n{}", escaped.join("\n"));
    for (mutant, _) in CATCHERS {
        assert!(Mutant::from_name(mutant).is_some(), "CATCHERS names `{mutant}`, which is not a mutant");
    }
}

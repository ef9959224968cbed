//! Merging the JSON reports of `--partition` workers into one.
//!
//! Workers of one seed explore disjoint streams; merged, their reports read as one run:
//! cases and calls add up, findings and flaky divergences are united (the same
//! regression file once), coverage counts add up, and the elapsed time is the longest
//! worker's (they ran side by side).

use std::collections::BTreeSet;

use super::report::{FORMAT_VERSION, FuzzReport, missing_of};
use crate::error::Error;

/// Merges worker reports; fails on an empty list or reports of another layout.
pub fn merge(reports: &[FuzzReport]) -> Result<FuzzReport, Error> {
    let Some(first) = reports.first() else {
        return Err(Error::Config("nothing to merge: give at least one report".into()));
    };
    if let Some(other) = reports.iter().find(|r| r.format_version != FORMAT_VERSION) {
        return Err(Error::Config(format!("cannot merge format_version {}", other.format_version)));
    }
    let mut merged = first.clone();
    merged.findings.clear();
    merged.flaky.clear();
    merged.generator_bugs.clear();
    merged.workers.clear();
    merged.coverage = Default::default();
    merged.cases = 0;
    merged.extra_cases = 0;
    merged.checked_calls = 0;
    merged.repeats = 0;
    merged.calls_per_second = 0.0;
    merged.elapsed_seconds = 0.0;
    let mut unknowns = BTreeSet::new();
    let mut partitions = Vec::new();
    let mut ended_by: Vec<String> = Vec::new();
    let mut seen_findings = BTreeSet::new();
    for r in reports {
        merged.cases += r.cases;
        merged.extra_cases += r.extra_cases;
        merged.checked_calls += r.checked_calls;
        merged.repeats += r.repeats;
        merged.calls_per_second += r.calls_per_second;
        merged.elapsed_seconds = merged.elapsed_seconds.max(r.elapsed_seconds);
        merged.coverage.merge(&r.coverage);
        unknowns.extend(r.unknowns.iter().cloned());
        for f in &r.findings {
            if seen_findings.insert(f.scenario.clone()) {
                merged.findings.push(f.clone());
            }
        }
        merged.flaky.extend(r.flaky.iter().cloned());
        merged.generator_bugs.extend(r.generator_bugs.iter().cloned());
        merged.workers.extend(r.workers.iter().cloned());
        for (operation, evidence) in &r.not_implemented {
            merged.not_implemented.entry(operation.clone()).or_insert_with(|| evidence.clone());
        }
        if merged.no_answer.is_none() {
            merged.no_answer.clone_from(&r.no_answer);
        }
        if merged.setup_problem.is_none() {
            merged.setup_problem.clone_from(&r.setup_problem);
        }
        merged.interrupted |= r.interrupted;
        if !ended_by.contains(&r.ended_by) {
            ended_by.push(r.ended_by.clone());
        }
        if !partitions.contains(&r.partition) {
            partitions.push(r.partition.clone());
        }
        if r.seed != first.seed {
            merged.reproduce = "(merged reports of several seeds: see workers)".into();
        }
    }
    merged.partition = partitions.join(",");
    merged.ended_by = ended_by.join(",");
    merged.unknowns = unknowns.into_iter().collect();
    merged.coverage_missing = missing_of(&merged.coverage);
    merged.calls_per_second = (merged.calls_per_second * 1000.0).round() / 1000.0;
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::fuzz::coverage::Coverage;
    use crate::fuzz::report::WorkerReport;

    fn worker(k: u32, cases: u64, ops: &[&str]) -> FuzzReport {
        let mut coverage = Coverage::default();
        for op in ops {
            coverage.operations.insert(op.to_string(), 2);
        }
        FuzzReport {
            format_version: FORMAT_VERSION,
            seed: 9,
            partition: format!("{k}/2"),
            target: "t".into(),
            mutant: None,
            invalid_share: 0.15,
            max_steps: 30,
            cases,
            extra_cases: 1,
            checked_calls: cases * 10,
            calls_per_second: 100.0,
            elapsed_seconds: k as f64,
            findings: Vec::new(),
            flaky: Vec::new(),
            repeats: 0,
            generator_bugs: Vec::new(),
            no_answer: None,
            setup_problem: None,
            not_implemented: Default::default(),
            interrupted: false,
            ended_by: "cases".into(),
            coverage_missing: BTreeMap::new(),
            coverage,
            unknowns: vec![format!("unknown:{k}")],
            reproduce: "rekcon fuzz --seed 9".into(),
            workers: vec![WorkerReport {
                partition: format!("{k}/2"),
                seed: 9,
                worker_seed: String::new(),
                cases,
                checked_calls: cases * 10,
                elapsed_seconds: k as f64,
            }],
        }
    }

    #[test]
    fn sums_counts_and_unites_coverage() {
        let merged = merge(&[worker(1, 5, &["ListUsers"]), worker(2, 7, &["ListUsers", "CreateUser"])])
            .expect("merges");
        assert_eq!(merged.cases, 12);
        assert_eq!(merged.checked_calls, 120);
        assert_eq!(merged.elapsed_seconds, 2.0);
        assert_eq!(merged.calls_per_second, 200.0);
        assert_eq!(merged.partition, "1/2,2/2");
        assert_eq!(merged.coverage.operations["ListUsers"], 4);
        assert_eq!(merged.coverage.operations["CreateUser"], 2);
        assert_eq!(merged.unknowns, ["unknown:1", "unknown:2"]);
        assert_eq!(merged.workers.len(), 2);
        assert!(!merged.coverage_missing["operations"].contains(&"CreateUser".to_string()));
        assert!(merge(&[]).is_err());
    }
}

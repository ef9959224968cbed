//! A strict known-divergence baseline: "we know about these causes; fail only on
//! anything else" — and on a known cause that changed, was fixed, or expired.
//!
//! A baseline file lists causes by their parts: where (layer, operation, path), what the
//! contract wants there (the expected class) and what the endpoint did instead (the
//! actual class). A run checked against it fails, naming each, on:
//! - a **new** cause: no entry has its place and expectation;
//! - a **changed** cause: an entry has its place and expectation, but the endpoint now
//!   does something else there;
//! - a **fixed** cause: an entry none of whose scenarios showed it, though at least one of
//!   them ran to its end ("fixed: remove it from the baseline");
//! - an **expired** entry: its `expires:` date has passed.
//!
//! An entry whose scenarios did not run, or were stopped before their end, is not
//! checked (a filtered run or a blocked scenario proves nothing about it).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::ScenarioReport;
use crate::cause::{Cause, Causes, Signature};
use crate::error::Error;

/// Layout version of baseline files.
pub const BASELINE_VERSION: u32 = 1;

/// A baseline file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// [`BASELINE_VERSION`].
    pub version: u32,
    /// The known causes.
    #[serde(default)]
    pub causes: Vec<Entry>,
}

/// One known cause.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// The full signature, for people and for `rekcon fuzz --baseline`.
    pub signature: String,
    /// `protocol` or `contract`.
    pub layer: String,
    /// The operation, or `*`.
    pub operation: String,
    /// The field path, list positions dropped.
    pub path: String,
    /// The class of what the contract allows there.
    pub expected: String,
    /// The class of what the endpoint did.
    pub observed: String,
    /// How it read where it was first seen.
    pub example: String,
    /// The scenarios it appeared in.
    pub scenarios: Vec<String>,
    /// Why it is accepted: for the author to fill.
    #[serde(default)]
    pub reason: String,
    /// `YYYY-MM-DD`: after this day the entry fails the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}

impl Entry {
    fn of(cause: &Cause) -> Entry {
        let s = &cause.signature;
        let m = &cause.first.mismatch;
        Entry {
            signature: s.to_string(),
            layer: s.layer.as_str().to_string(),
            operation: s.operation.clone(),
            path: s.path.clone(),
            expected: s.expected.clone(),
            observed: s.actual.clone(),
            example: format!(
                "{}: expected {}, got {}",
                if m.path.is_empty() { "(outcome)" } else { &m.path },
                m.expected,
                m.actual
            ),
            scenarios: cause.scenarios.iter().cloned().collect(),
            reason: String::new(),
            expires: None,
        }
    }

    /// Whether the entry and `signature` are about one place and one expectation.
    fn same_place(&self, signature: &Signature) -> bool {
        self.layer == signature.layer.as_str()
            && self.operation == signature.operation
            && self.path == signature.path
            && self.expected == signature.expected
    }
}

impl Baseline {
    /// A baseline of every cause of a run; reasons and expiry dates of `previous`
    /// entries for the same causes are kept.
    pub fn of(causes: &Causes, previous: Option<&Baseline>) -> Baseline {
        let causes = causes
            .all()
            .iter()
            .map(|c| {
                let mut entry = Entry::of(c);
                if let Some(old) =
                    previous.and_then(|p| p.causes.iter().find(|e| e.signature == entry.signature))
                {
                    entry.reason.clone_from(&old.reason);
                    entry.expires.clone_from(&old.expires);
                }
                entry
            })
            .collect();
        Baseline { version: BASELINE_VERSION, causes }
    }

    /// Reads a baseline file; a broken one is an error naming the file and place.
    pub fn read(path: &Path) -> Result<Baseline, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| Error::Read { path: path.to_path_buf(), source })?;
        let baseline: Baseline = serde_saphyr::from_str(&text)
            .map_err(|e| Error::Config(format!("{}: not a rekcon baseline: {e}", path.display())))?;
        if baseline.version != BASELINE_VERSION {
            return Err(Error::Config(format!(
                "{}: baseline version {}, this rekcon reads {BASELINE_VERSION}",
                path.display(),
                baseline.version
            )));
        }
        for entry in &baseline.causes {
            if let Some(date) = &entry.expires
                && chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").is_err()
            {
                return Err(Error::Config(format!(
                    "{}: cause `{}`: expires `{date}` is not a YYYY-MM-DD date",
                    path.display(),
                    entry.signature
                )));
            }
        }
        Ok(baseline)
    }

    /// Writes the baseline as YAML, with a header saying how to use it.
    pub fn write(&self, path: &Path) -> Result<(), Error> {
        let body = serde_saphyr::to_string(self).map_err(|e| Error::Write {
            path: path.to_path_buf(),
            source: std::io::Error::other(e.to_string()),
        })?;
        let text = format!(
            "# rekcon baseline: the divergences this endpoint is known to have.\n\
             # `rekcon run --baseline {}` fails only on a new cause, a known cause whose\n\
             # observed class changed, a known cause that no longer appears (fixed), or an\n\
             # entry past its `expires: YYYY-MM-DD`. Fill in each `reason`.\n{body}",
            path.display()
        );
        super::write_file(path, &text)
    }

    /// Checks a run's causes against the baseline on `today` (`YYYY-MM-DD`).
    pub fn check(
        &self,
        file: &Path,
        causes: &Causes,
        scenarios: &[ScenarioReport],
        today: &str,
    ) -> BaselineCheck {
        let mut check = BaselineCheck { file: file.to_path_buf(), ..BaselineCheck::default() };
        let mut matched = BTreeSet::new();
        for cause in causes.all() {
            let sig = &cause.signature;
            match self.causes.iter().position(|e| e.same_place(sig)) {
                Some(i) => {
                    matched.insert(i);
                    let entry = &self.causes[i];
                    if entry.observed != sig.actual {
                        check.changed.push((sig.clone(), entry.observed.clone()));
                    } else if entry.expires.as_deref().is_some_and(|d| d < today) {
                        check.expired.push(entry.clone());
                    } else {
                        check.known.push(sig.clone());
                    }
                }
                None => check.new.push(sig.clone()),
            }
        }
        let ran_to_end: BTreeSet<&str> =
            scenarios.iter().filter(|s| s.stop.is_none() && s.steps > 0).map(|s| s.name.as_str()).collect();
        for (i, entry) in self.causes.iter().enumerate() {
            if matched.contains(&i) {
                continue;
            }
            if entry.scenarios.iter().any(|s| ran_to_end.contains(s.as_str())) {
                check.fixed.push(entry.clone());
            } else {
                check.not_checked.push(entry.clone());
            }
        }
        check
    }
}

/// A run's causes held against a baseline.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BaselineCheck {
    /// The baseline file.
    pub file: PathBuf,
    /// Causes the baseline knows, unchanged and not expired.
    pub known: Vec<Signature>,
    /// Causes the baseline does not know.
    pub new: Vec<Signature>,
    /// Causes whose place and expectation the baseline knows, with what it had observed.
    pub changed: Vec<(Signature, String)>,
    /// Entries that no longer appear although a scenario of theirs ran to its end.
    pub fixed: Vec<Entry>,
    /// Entries past their expiry date.
    pub expired: Vec<Entry>,
    /// Entries none of whose scenarios ran to their end.
    pub not_checked: Vec<Entry>,
}

impl BaselineCheck {
    /// Whether the run fails against the baseline.
    pub fn fails(&self) -> bool {
        !(self.new.is_empty() && self.changed.is_empty() && self.fixed.is_empty() && self.expired.is_empty())
    }

    /// Whether `signature` is a known cause (unchanged, not expired).
    pub fn is_known(&self, signature: &Signature) -> bool {
        self.known.contains(signature)
    }
}

/// Today, `YYYY-MM-DD`, in UTC.
pub fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::cause::Seen;
    use crate::check::{Finding, Layer};
    use crate::expect::Mismatch;
    use crate::report::{Repro, Verdict};

    fn causes_of(findings: &[(&str, &str, &str, &str)]) -> Causes {
        let findings: Vec<Vec<Finding>> = findings
            .iter()
            .map(|(_, path, expected, actual)| {
                vec![Finding::new(
                    Layer::Model,
                    Mismatch { path: (*path).into(), expected: (*expected).into(), actual: (*actual).into() },
                )]
            })
            .collect();
        Causes::group(findings.iter().map(|f| Seen {
            scenario: "s/a",
            file: Path::new("scenarios/s/a.yaml"),
            line: 3,
            step: 1,
            operation: "AssociateFaces",
            findings: f,
        }))
    }

    fn ran(name: &str) -> ScenarioReport {
        let mut s = ScenarioReport::without_result(
            name,
            Path::new("scenarios/s/a.yaml"),
            Verdict::Pass,
            &Repro::Cli { flags: String::new() },
        );
        s.steps = 3;
        s
    }

    #[test]
    fn known_new_changed_fixed_and_expired() {
        let status = ("", "UserStatus", "\"UPDATING\"", "\"ACTIVE\"");
        let first = causes_of(&[status]);
        let baseline = Baseline::of(&first, None);
        assert_eq!(baseline.causes.len(), 1);
        let file = Path::new("b.yaml");
        let scenarios = [ran("s/a")];
        // The same cause again: known, the run passes.
        let check = baseline.check(file, &first, &scenarios, "2026-12-01");
        assert!(!check.fails() && check.known.len() == 1, "{check:?}");
        // Same place and expectation, another observed class: changed.
        let changed = causes_of(&[("", "UserStatus", "\"UPDATING\"", "\"CREATED\"")]);
        let check = baseline.check(file, &changed, &scenarios, "2026-12-01");
        assert!(check.fails() && check.changed.len() == 1 && check.new.is_empty(), "{check:?}");
        assert_eq!(check.changed[0].1, "\"ACTIVE\"");
        // Another place: new; and the baselined one no longer appears although its scenario ran: fixed.
        let other = causes_of(&[("", "AssociatedFaces[0]", "no such item", "{}")]);
        let check = baseline.check(file, &other, &scenarios, "2026-12-01");
        assert_eq!((check.new.len(), check.fixed.len()), (1, 1), "{check:?}");
        // A scenario that did not run proves nothing: not checked, not fixed.
        let check = baseline.check(file, &Causes::default(), &[ran("s/other")], "2026-12-01");
        assert!(!check.fails() && check.not_checked.len() == 1, "{check:?}");
        // Past its date, a known cause fails the run.
        let mut dated = baseline.clone();
        dated.causes[0].expires = Some("2026-11-30".into());
        assert!(dated.check(file, &first, &scenarios, "2026-12-01").fails());
        assert!(!dated.check(file, &first, &scenarios, "2026-11-30").fails(), "the day itself still counts");
    }

    #[test]
    fn a_written_baseline_reads_back_and_keeps_reasons() {
        let causes = causes_of(&[("", "UserStatus", "\"UPDATING\"", "\"ACTIVE\"")]);
        let mut first = Baseline::of(&causes, None);
        first.causes[0].reason = "emulator#12: statuses settle at once".into();
        first.causes[0].expires = Some("2027-01-31".into());
        let again = Baseline::of(&causes, Some(&first));
        assert_eq!(again, first, "reasons and dates survive a rewrite");
        let path =
            std::env::temp_dir().join(format!("rekcon-baseline-{}.yaml", uuid::Uuid::new_v4().simple()));
        first.write(&path).expect("written");
        let read = Baseline::read(&path).expect("read back");
        assert_eq!(read, first);
        std::fs::write(&path, "version: 1\ncauses:\n  - signature: x\n    colour: red\n").expect("written");
        let err = Baseline::read(&path).expect_err("an unknown member is an error").to_string();
        assert!(err.contains("not a rekcon baseline") && err.contains("colour"), "{err}");
        std::fs::write(&path, first_with_bad_date()).expect("written");
        assert!(Baseline::read(&path).expect_err("a bad date").to_string().contains("not a YYYY-MM-DD date"));
        let _ = std::fs::remove_file(&path);
    }

    fn first_with_bad_date() -> String {
        "version: 1\ncauses:\n  - signature: s\n    layer: contract\n    operation: ListUsers\n    path: p\n    expected: e\n    observed: o\n    example: x\n    scenarios: []\n    expires: next week\n".into()
    }
}

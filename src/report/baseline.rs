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
                if let Some(old) = previous.and_then(|p| p.causes.iter().find(|e| e.signature == entry.signature)) {
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
        let text =
            std::fs::read_to_string(path).map_err(|source| Error::Read { path: path.to_path_buf(), source })?;
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
        let body = serde_saphyr::to_string(self)
            .map_err(|e| Error::Write { path: path.to_path_buf(), source: std::io::Error::other(e.to_string()) })?;
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
    pub fn check(&self, file: &Path, causes: &Causes, scenarios: &[ScenarioReport], today: &str) -> BaselineCheck {
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

//! Settlements: what recordings of AWS showed for the contract's unsettled points, and
//! the one place the model's allowance is narrowed to it.
//!
//! `rekcon unknowns DIR --write-settlements FILE` writes, per `unknown:*` tag, the
//! outcomes the recorded endpoint gave (`success` or an error code) with where each was
//! recorded (docs/settlements.md). `rekcon run --settlements FILE` (or
//! `scenarios/settlements.yaml`) loads it; [`Settlements::narrow`] then drops, from an
//! allowance that leans on a settled point, the alternatives of that point AWS never
//! gave. Which points may be narrowed at all is [`rule`]'s one table: a point whose
//! answer depends on timing or on the request's details is kept as recorded evidence.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use crate::api::ErrorCode;
use crate::expect::Allowed;
use crate::record::{Cassette, RecordError, load_dir};
use crate::unknown::Unknown;

/// Layout version of settlements files.
pub const SETTLEMENTS_VERSION: u32 = 1;
/// The settlements file `rekcon run` reads from a suite folder when `--settlements` is not given.
pub const DEFAULT_FILE: &str = "settlements.yaml";
/// The outcome name of a successful call.
pub const SUCCESS: &str = "success";

/// Whether a settlement of a point may narrow the model, and why not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// The point is one choice among these outcomes, the same whenever it arises.
    Narrowable(&'static [&'static str]),
    /// One recording cannot settle it; the reason.
    Evidence(&'static str),
}

const IPE: &str = "InvalidParameterException";
const VE: &str = "ValidationException";

/// The one table: for every unsettled point, whether a recording may narrow it.
pub fn rule(unknown: Unknown) -> Rule {
    match unknown {
        Unknown::SearchUsersQueryShape => Rule::Narrowable(&[IPE, VE]),
        Unknown::SearchUsersUnknownFace => Rule::Narrowable(&[IPE, "ResourceNotFoundException"]),
        Unknown::PageSizeZero => Rule::Narrowable(&[SUCCESS, IPE, VE]),
        Unknown::DuplicateFaceIds => Rule::Narrowable(&[SUCCESS, IPE, VE]),
        Unknown::FaceLimitOverflow => Rule::Narrowable(&[SUCCESS, "ServiceQuotaExceededException"]),
        Unknown::ValidationErrorType => Rule::Evidence(
            "the error type may differ by field and by kind of violation (length, pattern, range): one recorded violation does not settle the others",
        ),
        Unknown::ImageErrorType => {
            Rule::Evidence("the error depends on what is wrong with the image (format, no picture, S3)")
        }
        Unknown::TokenScope => Rule::Evidence(
            "a token may be scoped per operation, collection or user: one recording shows one of these",
        ),
        Unknown::ForeignPaginationToken => Rule::Evidence(
            "the answer may depend on what the token is foreign to (operation, collection or filter)",
        ),
        Unknown::RequestEntityTooLarge => {
            Rule::Evidence("the answer depends on the body's size, and the limit is not known")
        }
        Unknown::StatusWhenUnchanged | Unknown::StatusAfterLastFaceRemoved | Unknown::CreatingStatus => {
            Rule::Evidence("a user's status depends on when it is read while the user settles")
        }
        Unknown::ListFacesUnknownUser | Unknown::ListFacesUnknownFaceIds => Rule::Evidence(
            "the allowance merges this point with the page's own shape; settlements narrow whole outcomes only",
        ),
        Unknown::DeleteFacesAllFailed
        | Unknown::TokenReplay
        | Unknown::ReindexSameImage
        | Unknown::SearchFacesSelfMatch
        | Unknown::MixedUserSimilarity => Rule::Evidence(
            "the alternatives are forms of a success body; settlements narrow whole outcomes (success or an error code) only",
        ),
        Unknown::ThrottlingStatus | Unknown::ErrorBodyMembers => {
            Rule::Evidence("judged on the wire, not by the model's allowance")
        }
    }
}

/// Where one recorded answer came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// The outcome recorded: `success` or an error code.
    pub outcome: String,
    /// The recorded scenario.
    pub scenario: String,
    /// Its step.
    pub step: usize,
    /// The recording run (the cassette's `provenance.run_id`).
    pub run: String,
    /// The day it was recorded, `YYYY-MM-DD`.
    pub date: String,
    /// The region recorded in.
    pub region: String,
    /// The endpoint recorded (`real AWS (eu-west-1)`).
    pub endpoint: String,
}

/// One settled point as written in the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// The `unknown:*` tag.
    pub unknown: String,
    /// Every outcome the recordings showed for it.
    pub outcomes: Vec<String>,
    /// Whether rekcon applies it (from [`rule`]; informative in the file).
    pub applied: bool,
    /// Why it is not applied, when it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_applied_because: Option<String>,
    /// The recorded answers.
    pub evidence: Vec<Evidence>,
}

/// A settlements file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct File {
    /// [`SETTLEMENTS_VERSION`].
    pub version: u32,
    /// Settled points, in [`Unknown::ALL`] order.
    pub settlements: Vec<Entry>,
}

/// Errors reading or writing settlements.
#[derive(Debug, thiserror::Error)]
pub enum SettleError {
    /// The file is not a valid settlements file.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// Two recordings of one step answered a point differently.
    #[error("refusing to settle {tag}: {detail}")]
    Conflict {
        /// The point.
        tag: &'static str,
        /// The two answers.
        detail: String,
    },
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The recordings could not be read.
    #[error(transparent)]
    Record(#[from] RecordError),
}

/// The outcome an exchange's response shows: `success`, or its error code.
fn outcome_of(status: u16, body: Option<&str>) -> Option<String> {
    if (200..300).contains(&status) {
        return Some(SUCCESS.to_string());
    }
    let body: serde_json::Value = serde_json::from_str(body?).ok()?;
    let code = body.get("__type").or_else(|| body.get("code")).and_then(serde_json::Value::as_str)?;
    Some(ErrorCode::parse(code).to_string())
}

fn day_of(unix: u64) -> String {
    let stamp = crate::serve::format_amz_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix));
    match (stamp.get(0..4), stamp.get(4..6), stamp.get(6..8)) {
        (Some(y), Some(m), Some(d)) => format!("{y}-{m}-{d}"),
        _ => stamp,
    }
}

/// The settlements the cassettes below `dir` support. An outcome outside a point's
/// alternatives says nothing about it and is left out; two recordings of one scenario's
/// step that answered a point differently are a conflict (AWS varies there).
pub fn from_recordings(dir: &Path) -> Result<File, SettleError> {
    let cassettes = load_dir(dir)?;
    let all: Vec<&Cassette> = cassettes.values().flatten().collect();
    let mut settlements = Vec::new();
    for u in Unknown::ALL {
        let alternatives: &[&str] = match rule(u) {
            Rule::Narrowable(alts) => alts,
            Rule::Evidence(_) => &[],
        };
        let mut evidence = Vec::new();
        let mut by_step: BTreeMap<(String, usize), Evidence> = BTreeMap::new();
        for c in &all {
            for e in c.exchanges.iter().filter(|e| !e.settle_poll && e.unknowns.contains(u.tag())) {
                let Some(r) = &e.response else { continue };
                let Some(outcome) = outcome_of(r.status, r.body.as_deref()) else { continue };
                if !alternatives.is_empty() && !alternatives.contains(&outcome.as_str()) {
                    continue;
                }
                let found = Evidence {
                    outcome,
                    scenario: c.scenario.clone(),
                    step: e.step,
                    run: c.provenance.run_id.clone(),
                    date: day_of(c.provenance.recorded_at_unix),
                    region: c.provenance.region.clone(),
                    endpoint: c.provenance.endpoint.clone(),
                };
                // Only a point that would be applied is refused; evidence keeps both answers.
                if let Some(other) = by_step.get(&(found.scenario.clone(), found.step))
                    && !alternatives.is_empty()
                    && other.outcome != found.outcome
                {
                    return Err(SettleError::Conflict {
                        tag: u.tag(),
                        detail: format!(
                            "{} step {} answered {} in run {} and {} in run {}; AWS varies there, so no recording settles it",
                            found.scenario, found.step, other.outcome, other.run, found.outcome, found.run
                        ),
                    });
                }
                by_step.insert((found.scenario.clone(), found.step), found.clone());
                evidence.push(found);
            }
        }
        if evidence.is_empty() {
            continue;
        }
        let outcomes: BTreeSet<String> = evidence.iter().map(|e| e.outcome.clone()).collect();
        let reason = match rule(u) {
            Rule::Narrowable(_) => None,
            Rule::Evidence(reason) => Some(reason.to_string()),
        };
        settlements.push(Entry {
            unknown: u.tag().to_string(),
            outcomes: outcomes.into_iter().collect(),
            applied: reason.is_none(),
            not_applied_because: reason,
            evidence,
        });
    }
    Ok(File { version: SETTLEMENTS_VERSION, settlements })
}

/// Writes a settlements file with a header saying how it is used.
pub fn write(file: &File, path: &Path) -> Result<(), SettleError> {
    let body = serde_saphyr::to_string(file).map_err(|e| SettleError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other(e.to_string()),
    })?;
    let text = format!(
        "# rekcon settlements: what recordings showed for the contract's unsettled points\n\
         # (docs/settlements.md). `rekcon run --settlements {}` narrows the model to them.\n{body}",
        path.display()
    );
    std::fs::write(path, text).map_err(|source| SettleError::Io { path: path.to_path_buf(), source })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    version: Spanned<u32>,
    settlements: Vec<RawEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    unknown: Spanned<String>,
    outcomes: Vec<Spanned<String>>,
    #[serde(default)]
    #[allow(dead_code)]
    applied: Option<bool>,
    #[serde(default)]
    #[allow(dead_code)]
    not_applied_because: Option<String>,
    evidence: Vec<Evidence>,
}

/// One point as the model uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    /// The point.
    pub unknown: Unknown,
    /// The outcomes AWS showed.
    pub outcomes: BTreeSet<String>,
    /// Where they came from, in one line.
    pub source: String,
}

/// A loaded settlements file: the points the model narrows, and those kept as evidence.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Settlements {
    /// The file read.
    pub path: PathBuf,
    /// Points applied to the model.
    pub applied: BTreeMap<Unknown, Settled>,
    /// Points recorded but not applied, with the reason.
    pub evidence_only: Vec<(Settled, &'static str)>,
}

impl Settlements {
    /// Reads a settlements file; a broken one is an error at `file:line:column`.
    pub fn read(path: &Path) -> Result<Settlements, SettleError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| SettleError::Io { path: path.to_path_buf(), source })?;
        let invalid = |line: usize, column: usize, message: String| SettleError::Invalid {
            path: path.to_path_buf(),
            line,
            column,
            message,
        };
        let raw: RawFile = serde_saphyr::from_str(&text).map_err(|e| {
            let (line, column) = e.location().map_or((1, 1), |l| (l.line() as usize, l.column() as usize));
            invalid(line, column, format!("not a rekcon settlements file: {}", e.without_snippet()))
        })?;
        let at = |s: &serde_saphyr::Location| (s.line() as usize, s.column() as usize);
        if raw.version.value != SETTLEMENTS_VERSION {
            let (l, c) = at(&raw.version.referenced);
            return Err(invalid(
                l,
                c,
                format!("settlements version {}, this rekcon reads {SETTLEMENTS_VERSION}", raw.version.value),
            ));
        }
        let mut out = Settlements { path: path.to_path_buf(), ..Settlements::default() };
        for entry in raw.settlements {
            let (l, c) = at(&entry.unknown.referenced);
            let Some(unknown) = Unknown::ALL.iter().copied().find(|u| u.tag() == entry.unknown.value) else {
                return Err(invalid(
                    l,
                    c,
                    format!(
                        "`{}` is not an unknown point{}",
                        entry.unknown.value,
                        crate::scenario::did_you_mean(
                            &entry.unknown.value,
                            Unknown::ALL.iter().map(|u| u.tag())
                        )
                    ),
                ));
            };
            if out.applied.contains_key(&unknown)
                || out.evidence_only.iter().any(|(s, _)| s.unknown == unknown)
            {
                return Err(invalid(l, c, format!("{} is settled twice", unknown.tag())));
            }
            if entry.outcomes.is_empty() {
                return Err(invalid(l, c, format!("{} lists no outcome", unknown.tag())));
            }
            let rule = rule(unknown);
            for o in &entry.outcomes {
                if let Rule::Narrowable(alts) = rule
                    && !alts.contains(&o.value.as_str())
                {
                    let (l, c) = at(&o.referenced);
                    return Err(invalid(
                        l,
                        c,
                        format!(
                            "`{}` is not an outcome of {} (one of: {})",
                            o.value,
                            unknown.tag(),
                            alts.join(", ")
                        ),
                    ));
                }
            }
            let outcomes: BTreeSet<String> = entry.outcomes.iter().map(|o| o.value.clone()).collect();
            let shown: BTreeSet<&str> = entry.evidence.iter().map(|e| e.outcome.as_str()).collect();
            if let Some(missing) = outcomes.iter().find(|o| !shown.contains(o.as_str())) {
                return Err(invalid(
                    l,
                    c,
                    format!("{}: no evidence shows the outcome {missing}", unknown.tag()),
                ));
            }
            if let Some(extra) = shown.iter().find(|o| !outcomes.contains(**o)) {
                return Err(invalid(
                    l,
                    c,
                    format!("{}: evidence shows {extra}, which the outcomes leave out", unknown.tag()),
                ));
            }
            let settled = Settled { unknown, outcomes, source: source_line(path, &entry.evidence) };
            match rule {
                Rule::Narrowable(_) => {
                    out.applied.insert(unknown, settled);
                }
                Rule::Evidence(reason) => out.evidence_only.push((settled, reason)),
            }
        }
        Ok(out)
    }

    /// Narrows `allowed` to what AWS did on every settled point it leans on. An
    /// alternative is dropped only when AWS never gave it for that point, no other point
    /// of the allowance also allows it, and something is left.
    pub fn narrow(&self, mut allowed: Allowed) -> Allowed {
        if self.applied.is_empty() {
            return allowed;
        }
        // Points decided at the outcome level (success or which error); those inside a
        // success body choose among its forms and claim no outcome.
        let touched = allowed.unknowns.clone();
        for settled in touched.iter().filter_map(|u| self.applied.get(u)) {
            let Rule::Narrowable(alts) = rule(settled.unknown) else { continue };
            let shared = |alt: &str| {
                touched.iter().any(|v| {
                    *v != settled.unknown
                        && match rule(*v) {
                            Rule::Narrowable(other) => other.contains(&alt),
                            // An evidence-only point's alternatives are not listed: keep all.
                            Rule::Evidence(_) => true,
                        }
                })
            };
            let drop: Vec<&str> =
                alts.iter().copied().filter(|a| !settled.outcomes.contains(*a) && !shared(a)).collect();
            let keeps_success = allowed.success.is_some() && !drop.contains(&SUCCESS);
            let keeps_error = allowed.errors.iter().any(|e| !drop.contains(&e.to_string().as_str()));
            if drop.is_empty() || !(keeps_success || keeps_error) {
                continue;
            }
            if drop.contains(&SUCCESS) {
                allowed.success = None;
                allowed.prefer_error = true;
            }
            allowed.errors.retain(|e| !drop.contains(&e.to_string().as_str()));
            if allowed.errors.is_empty() {
                allowed.prefer_error = false;
            }
            allowed.unknowns.remove(&settled.unknown);
            allowed.settled.push(format!(
                "{} settled as {} by {}",
                settled.unknown.tag(),
                settled.outcomes.iter().cloned().collect::<Vec<_>>().join(" or "),
                settled.source
            ));
        }
        allowed
    }

    /// What the report says about the settlements in use.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "settlements {}: {} point(s) narrowed, {} kept as recorded evidence",
            self.path.display(),
            self.applied.len(),
            self.evidence_only.len()
        );
        for s in self.applied.values() {
            let outcomes: Vec<&str> = s.outcomes.iter().map(String::as_str).collect();
            let _ = writeln!(
                out,
                "  narrowed {} to {} (from {})",
                s.unknown.tag(),
                outcomes.join(" or "),
                s.source
            );
        }
        for (s, reason) in &self.evidence_only {
            let _ = writeln!(out, "  not applied {}: {reason}", s.unknown.tag());
        }
        out
    }
}

fn source_line(path: &Path, evidence: &[Evidence]) -> String {
    let first = evidence.first().map_or_else(String::new, |e| {
        format!(": {} step {}, recorded {} in {} on {}", e.scenario, e.step, e.date, e.region, e.endpoint)
    });
    let more = if evidence.len() > 1 { format!(" and {} more", evidence.len() - 1) } else { String::new() };
    format!("{}{first}{more}", path.display())
}

/// The settlements a run reads: `explicit` when given, else `SUITE/settlements.yaml` when
/// the suite folder has one, else none.
pub fn for_run(explicit: Option<&Path>, suite: &Path) -> Result<Option<Settlements>, SettleError> {
    match explicit {
        Some(path) => Settlements::read(path).map(Some),
        None => {
            let default = suite.join(DEFAULT_FILE);
            if default.is_file() { Settlements::read(&default).map(Some) } else { Ok(None) }
        }
    }
}

/// `rekcon unknowns DIR --write-settlements FILE`; returns the exit code.
pub fn write_command(dir: &Path, path: &Path) -> u8 {
    match from_recordings(dir).and_then(|file| write(&file, path).map(|()| file)) {
        Ok(file) => {
            let applied = file.settlements.iter().filter(|e| e.applied).count();
            eprintln!(
                "rekcon unknowns: wrote {}: {} point(s) settled, {applied} of them narrow the model",
                path.display(),
                file.settlements.len()
            );
            crate::report::EXIT_CONFORM
        }
        Err(e) => {
            eprintln!("rekcon unknowns: {e}");
            crate::report::EXIT_BAD_INPUT
        }
    }
}

/// The README's table of open points: every point, whether a recording may narrow it,
/// and what `settled` (the committed `scenarios/settlements.yaml`, if any) says of it.
pub fn open_points_table(settled: Option<&Settlements>) -> String {
    let mut out = String::from(
        "| tag | the question a real-AWS recording would settle | a recording may narrow it | settled by scenarios/settlements.yaml |\n|---|---|---|---|\n",
    );
    for u in Unknown::ALL {
        let narrowable = match rule(u) {
            Rule::Narrowable(_) => "yes".to_string(),
            Rule::Evidence(reason) => format!("no: {reason}"),
        };
        let status = settled.map_or("not settled".to_string(), |s| {
            if let Some(p) = s.applied.get(&u) {
                let outcomes: Vec<&str> = p.outcomes.iter().map(String::as_str).collect();
                format!("narrowed to {}", outcomes.join(" or "))
            } else if s.evidence_only.iter().any(|(p, _)| p.unknown == u) {
                "recorded, not applied".to_string()
            } else {
                "not settled".to_string()
            }
        });
        let _ = writeln!(out, "| `{}` | {} | {narrowable} | {status} |", u.tag(), u.question());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ApiError;
    use crate::expect::{Observed, Pat};

    fn settled(unknown: Unknown, outcomes: &[&str]) -> Settlements {
        let s = Settled {
            unknown,
            outcomes: outcomes.iter().map(|o| o.to_string()).collect(),
            source: "s.yaml: hand/made step 1".into(),
        };
        Settlements { path: "s.yaml".into(), applied: [(unknown, s)].into(), evidence_only: Vec::new() }
    }

    fn fails(allowed: &Allowed, code: ErrorCode) -> Option<String> {
        allowed
            .judge(&Observed::Error(ApiError { code, message: None }), &|_| false)
            .err()
            .map(|m| m[0].expected.clone())
    }

    #[test]
    fn a_settled_point_drops_the_alternatives_aws_never_gave_and_names_itself() {
        let zero = || {
            Allowed::success(Pat::Any)
                .or_error(ErrorCode::InvalidParameterException, Unknown::PageSizeZero)
                .or_error(ErrorCode::ValidationException, Unknown::PageSizeZero)
        };
        assert_eq!(fails(&zero(), ErrorCode::InvalidParameterException), None);
        let narrowed = settled(Unknown::PageSizeZero, &[SUCCESS]).narrow(zero());
        let expected = fails(&narrowed, ErrorCode::InvalidParameterException).expect("a divergence now");
        assert!(expected.contains("unknown:page-size-zero settled as success by s.yaml"), "{expected}");
        assert!(narrowed.success.is_some());
        assert!(!narrowed.touched_unknowns().contains(&Unknown::PageSizeZero));
    }

    #[test]
    fn an_alternative_another_point_allows_is_kept() {
        // Both points of this allowance may give ValidationException.
        let both = Allowed::errors(
            vec![ErrorCode::InvalidParameterException, ErrorCode::ValidationException],
            Some(Unknown::ValidationErrorType),
        )
        .or_error(ErrorCode::ValidationException, Unknown::SearchUsersQueryShape);
        let narrowed = settled(Unknown::SearchUsersQueryShape, &[IPE]).narrow(both.clone());
        assert_eq!(narrowed, both);
    }

    #[test]
    fn a_narrowing_that_would_leave_nothing_is_not_made() {
        let quota =
            Allowed::errors(vec![ErrorCode::ServiceQuotaExceededException], Some(Unknown::FaceLimitOverflow));
        let narrowed = settled(Unknown::FaceLimitOverflow, &[SUCCESS]).narrow(quota.clone());
        assert_eq!(narrowed, quota);
    }
}

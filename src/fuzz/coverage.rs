//! Which parts of the contract a run reached.
//!
//! Counted from the calls actually made and the outcomes actually observed, never from
//! what the generator meant to do: operations, error types, failure reasons, UserStatus
//! values, boundaries (a user at 0, 1, 99 and 100 faces; each constrained member at
//! its limits), and every row of the constraint table (`crate::model::validate`) at and
//! beyond each bound ([`probes_of`]). The report shows what was reached and what was
//! not, so a thin budget is visible rather than silently trusted.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::api::{ErrorCode, Member, Members, Operation, Request};
use crate::expect::Observed;
use crate::model::validate::{self, Constraint, Rule, Stage};
use crate::report::StepRecord;

/// Every failure reason the in-scope operations can report (contract §3).
pub const FAILURE_REASONS: [&str; 7] = [
    "AssociateFaces:FACE_NOT_FOUND",
    "AssociateFaces:ASSOCIATED_TO_A_DIFFERENT_USER",
    "AssociateFaces:LOW_MATCH_CONFIDENCE",
    "DisassociateFaces:FACE_NOT_FOUND",
    "DisassociateFaces:ASSOCIATED_TO_A_DIFFERENT_USER",
    "DeleteFaces:ASSOCIATED_TO_AN_EXISTING_USER",
    "DeleteFaces:FACE_NOT_FOUND",
];

/// The UserStatus values a conforming endpoint shows in ordinary use.
pub const STATUSES: [&str; 3] = ["CREATED", "UPDATING", "ACTIVE"];

/// Face counts of a user worth reaching (contract §6.3, §7).
pub const USER_FACE_COUNTS: [usize; 4] = [0, 1, 99, 100];

/// Error types the generator is meant to provoke.
pub const ERROR_TYPES: [ErrorCode; 10] = [
    ErrorCode::InvalidParameterException,
    ErrorCode::ResourceNotFoundException,
    ErrorCode::ResourceAlreadyExistsException,
    ErrorCode::ConflictException,
    ErrorCode::IdempotentParameterMismatchException,
    ErrorCode::InvalidPaginationTokenException,
    ErrorCode::ServiceQuotaExceededException,
    ErrorCode::InvalidImageFormatException,
    ErrorCode::SerializationException,
    ErrorCode::UnknownOperationException,
];

/// Constrained members at (or beyond) a limit, by name (contract §2).
pub const BOUNDARIES: [&str; 25] = [
    "CollectionId:0",
    "CollectionId:255",
    "CollectionId:256",
    "UserId:128",
    "UserId:129",
    "ExternalImageId:255",
    "ExternalImageId:256",
    "ClientRequestToken:65",
    "FaceIds:0",
    "FaceIds:100",
    "FaceIds:101",
    "UserMatchThreshold:0",
    "UserMatchThreshold:100",
    "UserMatchThreshold:out-of-range",
    "FaceMatchThreshold:0",
    "FaceMatchThreshold:100",
    "FaceMatchThreshold:out-of-range",
    "MaxResults:1",
    "MaxResults:max",
    "MaxResults:out-of-range",
    "MaxUsers:1",
    "MaxUsers:500",
    "MaxUsers:out-of-range",
    "MaxFaces:1",
    "MaxFaces:out-of-range",
];

/// Each area of [`Coverage::missing`] and how many items it has (constraint probes
/// are counted by [`all_probes`]).
pub const AREAS: [(&str, usize); 6] = [
    ("operations", Operation::ALL.len()),
    ("errors", ERROR_TYPES.len()),
    ("reasons", FAILURE_REASONS.len()),
    ("statuses", STATUSES.len()),
    ("user_face_counts", USER_FACE_COUNTS.len()),
    ("boundaries", BOUNDARIES.len()),
];

/// What a run reached, counted per item.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Coverage {
    /// Calls per operation.
    pub operations: BTreeMap<String, u64>,
    /// Observed error types.
    pub errors: BTreeMap<String, u64>,
    /// Observed failure reasons, as `Operation:REASON`.
    pub reasons: BTreeMap<String, u64>,
    /// Observed UserStatus values.
    pub statuses: BTreeMap<String, u64>,
    /// Face counts users reached, among [`USER_FACE_COUNTS`].
    pub user_face_counts: BTreeMap<String, u64>,
    /// Boundaries sent, among [`BOUNDARIES`].
    pub boundaries: BTreeMap<String, u64>,
    /// Constraint-table probes sent, among [`all_probes`]: `CreateUser UserId length
    /// 1..=128: above-max` — a value beyond a bound only in a call breaking nothing
    /// else, a value at a bound only in a call breaking nothing.
    #[serde(default)]
    pub constraints: BTreeMap<String, u64>,
}

impl Coverage {
    /// Counts one call and its outcome.
    pub fn record(&mut self, request: &Request, observed: &Observed) {
        self.record_json(request.operation(), &request.to_json(), observed);
    }

    /// Counts one call, given as its operation and JSON request, and its outcome.
    pub fn record_json(&mut self, op: Operation, request: &Value, observed: &Observed) {
        self.record_sent(op, request, true, observed);
    }

    /// [`Coverage::record_json`]; `typed` when the body is known to decode as `op`'s
    /// request (a raw body may not: then no value in it counts as at a bound).
    fn record_sent(&mut self, op: Operation, request: &Value, typed: bool, observed: &Observed) {
        *self.operations.entry(op.name().to_string()).or_default() += 1;
        for boundary in boundaries_of(op, request) {
            *self.boundaries.entry(boundary.to_string()).or_default() += 1;
        }
        if let Some(map) = request.as_object() {
            let typed = typed || Request::from_json(op, request).is_ok();
            for probe in probes_of(op, map, typed) {
                *self.constraints.entry(probe).or_default() += 1;
            }
        }
        match observed {
            Observed::Error(e) => *self.errors.entry(e.code.to_string()).or_default() += 1,
            Observed::Success(body) => self.record_body(op, body),
        }
    }

    /// Counts a raw call that the model could not decode (malformed bodies, unknown targets).
    pub fn record_raw(&mut self, observed: &Observed) {
        if let Observed::Error(e) = observed {
            *self.errors.entry(e.code.to_string()).or_default() += 1;
        }
    }

    /// Counts every call of one case from its records, and the face count of each user
    /// after each conforming call that changed it (read from the responses).
    pub fn record_calls(&mut self, records: &[StepRecord]) {
        let mut users = UserFaces::default();
        for record in records {
            let Some(observed) = &record.observed else { continue };
            let op = Operation::from_name(record.call_name());
            let parsed;
            let json = match (&record.request, record.raw) {
                (Value::String(body), true) => {
                    parsed = serde_json::from_str::<Value>(body).ok();
                    parsed.as_ref()
                }
                (json, false) => Some(json),
                _ => None,
            };
            match (op, json) {
                (Some(op), Some(json)) if json.is_object() => {
                    self.record_sent(op, json, !record.raw, observed);
                    if record.findings.is_empty()
                        && let Observed::Success(body) = observed
                        && let Some(count) = users.follow(op, json, body)
                    {
                        self.record_user_faces(count);
                    }
                }
                _ => self.record_raw(observed),
            }
        }
    }

    /// Counts a user's face count after a call, when it is one worth reaching.
    pub fn record_user_faces(&mut self, count: usize) {
        if USER_FACE_COUNTS.contains(&count) {
            *self.user_face_counts.entry(count.to_string()).or_default() += 1;
        }
    }

    fn record_body(&mut self, op: Operation, body: &Value) {
        for list in
            ["UnsuccessfulFaceAssociations", "UnsuccessfulFaceDisassociations", "UnsuccessfulFaceDeletions"]
        {
            for item in body.get(list).and_then(Value::as_array).into_iter().flatten() {
                for reason in item.get("Reasons").and_then(Value::as_array).into_iter().flatten() {
                    if let Some(r) = reason.as_str() {
                        *self.reasons.entry(format!("{op}:{r}")).or_default() += 1;
                    }
                }
            }
        }
        let mut status = |s: Option<&str>| {
            if let Some(s) = s {
                *self.statuses.entry(s.to_string()).or_default() += 1;
            }
        };
        status(body.get("UserStatus").and_then(Value::as_str));
        for u in body.get("Users").and_then(Value::as_array).into_iter().flatten() {
            status(u.get("UserStatus").and_then(Value::as_str));
        }
        for m in body.get("UserMatches").and_then(Value::as_array).into_iter().flatten() {
            status(m.get("User").and_then(|u| u.get("UserStatus")).and_then(Value::as_str));
        }
    }

    /// Adds another run's coverage (for `--partition` workers).
    pub fn merge(&mut self, other: &Coverage) {
        for (mine, theirs) in [
            (&mut self.operations, &other.operations),
            (&mut self.errors, &other.errors),
            (&mut self.reasons, &other.reasons),
            (&mut self.statuses, &other.statuses),
            (&mut self.user_face_counts, &other.user_face_counts),
            (&mut self.boundaries, &other.boundaries),
            (&mut self.constraints, &other.constraints),
        ] {
            for (k, v) in theirs {
                *mine.entry(k.clone()).or_default() += v;
            }
        }
    }

    /// What the run did not reach, by area, so a thin budget shows.
    pub fn missing(&self) -> BTreeMap<&'static str, Vec<String>> {
        let mut out = BTreeMap::new();
        let miss = |have: &BTreeMap<String, u64>, all: Vec<String>| -> Vec<String> {
            all.into_iter().filter(|x| !have.contains_key(x)).collect()
        };
        out.insert(
            "operations",
            miss(&self.operations, Operation::ALL.iter().map(|o| o.name().to_string()).collect()),
        );
        out.insert("errors", miss(&self.errors, ERROR_TYPES.iter().map(ToString::to_string).collect()));
        out.insert("reasons", miss(&self.reasons, FAILURE_REASONS.iter().map(ToString::to_string).collect()));
        out.insert("statuses", miss(&self.statuses, STATUSES.iter().map(ToString::to_string).collect()));
        out.insert(
            "user_face_counts",
            miss(&self.user_face_counts, USER_FACE_COUNTS.iter().map(ToString::to_string).collect()),
        );
        out.insert(
            "boundaries",
            miss(&self.boundaries, BOUNDARIES.iter().map(ToString::to_string).collect()),
        );
        out.retain(|_, v| !v.is_empty());
        out
    }

    /// The constraint probes ([`all_probes`]) the run did not reach.
    pub fn missing_constraints(&self) -> Vec<String> {
        all_probes().into_iter().filter(|p| !self.constraints.contains_key(p)).collect()
    }
}

/// The probes of one rule: values at each bound, and beyond it (see [`probes_of`]).
pub fn rule_probes(rule: &Rule) -> Vec<String> {
    let names: &[&str] = match rule {
        Rule::Required => &["absent"],
        Rule::Length { min: 0, .. } => &["at-min", "at-max", "above-max"],
        Rule::Length { .. } | Rule::Items { .. } | Rule::Bytes { .. } => {
            &["at-min", "below-min", "at-max", "above-max"]
        }
        Rule::Pattern(p) if p.case_matters() => &["outside", "other-case"],
        Rule::Pattern(_) => &["outside"],
        Rule::NotPrefix(_) => &["prefixed"],
        Rule::Range { max, .. } if max.is_infinite() => &["at-min", "below-min"],
        Rule::Range { .. } => &["at-min", "below-min", "at-max", "above-max"],
        Rule::Entries { .. } => &["at-max", "above-max"],
        Rule::Enum(_) => &["member", "outside", "other-case"],
        Rule::ExactlyOne(members) => {
            let mut out: Vec<String> = members.iter().map(|m| format!("only-{m}")).collect();
            out.extend(["all".to_string(), "none".to_string()]);
            return out;
        }
    };
    names.iter().map(ToString::to_string).collect()
}

/// Whether a probe name is a value beyond a bound (a call that must be refused).
pub fn is_beyond(probe: &str) -> bool {
    matches!(
        probe,
        "absent" | "below-min" | "above-max" | "outside" | "other-case" | "prefixed" | "all" | "none"
    )
}

/// Probes no run makes, with why: (member, probe, reason).
pub const UNPROBED: [(&str, &str, &str); 2] = [
    (
        "CollectionId",
        "at-min",
        "a one-character CollectionId cannot carry the run prefix: its answer depends on \
         collections outside the run, and a call could change one",
    ),
    (
        "ClientRequestToken",
        "at-min",
        "a one-character token cannot be unique to the run: an endpoint that remembers \
         tokens would take a later run's call for a replay",
    ),
];

/// Every probe of the constraint table: `"{op} {member} {rule}: {probe}"`, for each
/// operation of each row, but the [`UNPROBED`] ones.
pub fn all_probes() -> Vec<String> {
    let mut out = Vec::new();
    for op in Operation::ALL {
        for constraint in validate::constraints_of(op) {
            let name = constraint.name(op);
            let probed = |p: &String| {
                !UNPROBED.iter().any(|(member, probe, _)| constraint.member == *member && p == probe)
            };
            out.extend(
                rule_probes(&constraint.rule).into_iter().filter(probed).map(|p| format!("{name}: {p}")),
            );
        }
    }
    out
}

/// The probes a value of `constraint`'s member reaches (before the isolation rule).
fn value_probes(constraint: &Constraint, value: &Member<'_>) -> Vec<String> {
    let mut out = Vec::new();
    let mut bound = |x: f64, min: f64, max: f64| {
        if x == min {
            out.push("at-min".to_string());
        }
        if x == max {
            out.push("at-max".to_string());
        }
        if x < min {
            out.push("below-min".to_string());
        }
        if x > max {
            out.push("above-max".to_string());
        }
    };
    match (&constraint.rule, value) {
        (Rule::Length { min, max }, Member::Str(s)) => {
            bound(s.chars().count() as f64, *min as f64, *max as f64)
        }
        (Rule::Items { min, max }, Member::List(items)) => {
            bound(items.len() as f64, *min as f64, *max as f64)
        }
        (Rule::Entries { max }, v) => {
            let n = match v {
                Member::Map(entries) => entries.len(),
                Member::Struct(map) => map.entries().len(),
                _ => return out,
            };
            bound(n as f64, -1.0, *max as f64);
        }
        (Rule::Range { min, max, .. }, Member::Int(_) | Member::Float(_)) => {
            let x = match value {
                Member::Int(i) => *i as f64,
                Member::Float(f) => *f,
                _ => return out,
            };
            bound(x, *min, *max);
        }
        (Rule::Bytes { min, max }, v) => {
            if let Some(n) = validate::blob_len(v) {
                bound(n as f64, *min as f64, *max as f64);
            }
        }
        (Rule::Pattern(p), Member::Str(s)) => {
            for c in s.chars().filter(|c| !p.allows(*c)) {
                let flipped = c.to_lowercase().chain(c.to_uppercase()).any(|f| f != c && p.allows(f));
                out.push(if flipped && p.case_matters() { "other-case" } else { "outside" }.to_string());
            }
        }
        (Rule::NotPrefix(prefix), Member::Str(s)) if s.starts_with(prefix) => out.push("prefixed".into()),
        (Rule::Enum(values), Member::Str(s)) => {
            let p = if values.contains(s) {
                "member"
            } else if values.contains(&s.to_uppercase().as_str()) {
                "other-case"
            } else {
                "outside"
            };
            out.push(p.to_string());
        }
        (Rule::ExactlyOne(members), v) => {
            let given: Vec<&&str> = members.iter().filter(|m| validate::has(v, m)).collect();
            match given.as_slice() {
                [] => out.push("none".into()),
                [one] => out.push(format!("only-{one}")),
                more if more.len() == members.len() => out.push("all".into()),
                _ => {}
            }
        }
        _ => {}
    }
    out.sort();
    out.dedup();
    out
}

/// The constraint probes one call reaches. A value at a bound counts only in a call that
/// breaks no constraint (`typed`: it decodes as the operation's request), so its
/// acceptance is what gets judged; a value beyond one only in a call that breaks no
/// other constraint, so no other refusal hides how the endpoint treats it.
pub fn probes_of(op: Operation, request: &serde_json::Map<String, Value>, typed: bool) -> Vec<String> {
    let root: &dyn Members = request;
    let rows: Vec<&Constraint> = validate::constraints_of(op).collect();
    // Each row's values, read once for its breaches and its probes.
    let values: Vec<Vec<(Cow<'_, str>, Member<'_>)>> = rows
        .iter()
        .map(|c| if c.rule == Rule::Required { Vec::new() } else { validate::values_at(root, c.member) })
        .collect();
    // What each row's values reach, before any breach is looked for: a call whose
    // values reach no probe and leave out no required member (most calls) needs no
    // validation at all.
    let reached: Vec<Vec<String>> = rows
        .iter()
        .zip(&values)
        .map(|(c, v)| v.iter().flat_map(|(_, value)| value_probes(c, value)).collect())
        .collect();
    if reached.iter().all(Vec::is_empty)
        && !rows
            .iter()
            .any(|c| c.rule == Rule::Required && !validate::breaches_among(c, root, &[]).is_empty())
    {
        return Vec::new();
    }
    let broken: Vec<bool> =
        rows.iter().zip(&values).map(|(c, v)| !validate::breaches_among(c, root, v).is_empty()).collect();
    let syntax_broken = rows.iter().zip(&broken).any(|(c, b)| *b && c.stage == Stage::Syntax);
    let mut out = Vec::new();
    for (i, (constraint, reached)) in rows.iter().zip(reached).enumerate() {
        let others_hold = rows.iter().zip(&broken).enumerate().all(|(j, (_, b))| j == i || !b);
        let reached = if constraint.rule == Rule::Required {
            if broken[i] { vec!["absent".to_string()] } else { Vec::new() }
        } else {
            reached
        };
        // Named only when a probe counts: most rows reach none.
        let mut name = None;
        for probe in reached {
            let counts = if is_beyond(&probe) {
                typed && broken[i] && others_hold
            } else {
                typed && !syntax_broken && !(constraint.stage == Stage::Rules && broken[i])
            };
            if counts {
                let name = name.get_or_insert_with(|| constraint.name(op));
                out.push(format!("{name}: {probe}"));
            }
        }
    }
    out
}

/// Each user's faces within one case, followed from successful responses.
#[derive(Debug, Default)]
struct UserFaces {
    /// (CollectionId, UserId) → FaceIds.
    faces: BTreeMap<(String, String), BTreeSet<String>>,
}

impl UserFaces {
    /// Follows one successful call; returns the face count of the user it changed, if any.
    fn follow(&mut self, op: Operation, request: &Value, body: &Value) -> Option<usize> {
        let member = |v: &Value, m: &str| v.get(m).and_then(Value::as_str).map(str::to_string);
        let collection = member(request, "CollectionId")?;
        let ids = |list: &str| -> Vec<String> {
            body.get(list)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|item| item.get("FaceId").and_then(Value::as_str).or_else(|| item.as_str()))
                .map(str::to_string)
                .collect()
        };
        match op {
            Operation::CreateUser => {
                let key = (collection, member(request, "UserId")?);
                Some(self.faces.entry(key).or_default().len())
            }
            Operation::AssociateFaces | Operation::DisassociateFaces => {
                let faces = self.faces.get_mut(&(collection, member(request, "UserId")?))?;
                if op == Operation::AssociateFaces {
                    faces.extend(ids("AssociatedFaces"));
                } else {
                    for id in ids("DisassociatedFaces") {
                        faces.remove(&id);
                    }
                }
                Some(faces.len())
            }
            Operation::DeleteUser => {
                self.faces.remove(&(collection, member(request, "UserId")?));
                None
            }
            Operation::DeleteCollection => {
                self.faces.retain(|(c, _), _| *c != collection);
                None
            }
            _ => None,
        }
    }
}

fn boundaries_of(op: Operation, json: &Value) -> BTreeSet<&'static str> {
    let mut out = BTreeSet::new();
    let len = |member: &str| json.get(member).and_then(Value::as_str).map(|s| s.chars().count());
    let num = |member: &str| json.get(member).and_then(Value::as_f64);
    match len("CollectionId") {
        Some(0) => {
            out.insert("CollectionId:0");
        }
        Some(255) => {
            out.insert("CollectionId:255");
        }
        Some(n) if n > 255 => {
            out.insert("CollectionId:256");
        }
        _ => {}
    }
    match len("UserId") {
        Some(128) => {
            out.insert("UserId:128");
        }
        Some(n) if n > 128 => {
            out.insert("UserId:129");
        }
        _ => {}
    }
    match len("ExternalImageId") {
        Some(255) => {
            out.insert("ExternalImageId:255");
        }
        Some(n) if n > 255 => {
            out.insert("ExternalImageId:256");
        }
        _ => {}
    }
    if len("ClientRequestToken").is_some_and(|n| n > 64) {
        out.insert("ClientRequestToken:65");
    }
    if matches!(op, Operation::AssociateFaces | Operation::DisassociateFaces | Operation::DeleteFaces)
        && let Some(ids) = json.get("FaceIds").and_then(Value::as_array)
    {
        match ids.len() {
            0 => {
                out.insert("FaceIds:0");
            }
            100 => {
                out.insert("FaceIds:100");
            }
            n if n > 100 => {
                out.insert("FaceIds:101");
            }
            _ => {}
        }
    }
    for (member, at_0, at_100, beyond) in [
        (
            "UserMatchThreshold",
            "UserMatchThreshold:0",
            "UserMatchThreshold:100",
            "UserMatchThreshold:out-of-range",
        ),
        (
            "FaceMatchThreshold",
            "FaceMatchThreshold:0",
            "FaceMatchThreshold:100",
            "FaceMatchThreshold:out-of-range",
        ),
    ] {
        match num(member) {
            Some(0.0) => {
                out.insert(at_0);
            }
            Some(100.0) => {
                out.insert(at_100);
            }
            Some(x) if !(0.0..=100.0).contains(&x) => {
                out.insert(beyond);
            }
            _ => {}
        }
    }
    // ListUsers' MaxResults is a MaxUserResults (1–500); the others a PageSize (0–4096).
    let (min, max) = if op == Operation::ListUsers { (1.0, 500.0) } else { (0.0, 4096.0) };
    match num("MaxResults") {
        Some(x) if x < min || x > max => {
            out.insert("MaxResults:out-of-range");
        }
        Some(x) if x == max => {
            out.insert("MaxResults:max");
        }
        Some(1.0) => {
            out.insert("MaxResults:1");
        }
        _ => {}
    }
    match num("MaxUsers") {
        Some(x) if !(1.0..=500.0).contains(&x) => {
            out.insert("MaxUsers:out-of-range");
        }
        Some(1.0) => {
            out.insert("MaxUsers:1");
        }
        Some(500.0) => {
            out.insert("MaxUsers:500");
        }
        _ => {}
    }
    match num("MaxFaces") {
        Some(x) if x < 1.0 || (op != Operation::IndexFaces && x > 4096.0) => {
            out.insert("MaxFaces:out-of-range");
        }
        Some(1.0) => {
            out.insert("MaxFaces:1");
        }
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::ApiError;

    #[test]
    fn counts_reasons_statuses_errors_and_boundaries() {
        let mut cov = Coverage::default();
        let req = Request::from_json(
            Operation::AssociateFaces,
            &json!({"CollectionId": "c", "UserId": "u".repeat(128), "FaceIds": ["x"], "UserMatchThreshold": 0}),
        )
        .unwrap();
        let body = json!({"AssociatedFaces": [], "UnsuccessfulFaceAssociations": [{"FaceId": "x", "Reasons": ["FACE_NOT_FOUND"]}], "UserStatus": "UPDATING"});
        cov.record(&req, &Observed::Success(body));
        cov.record(&req, &Observed::Error(ApiError { code: ErrorCode::ConflictException, message: None }));
        assert_eq!(cov.reasons["AssociateFaces:FACE_NOT_FOUND"], 1);
        assert_eq!(cov.statuses["UPDATING"], 1);
        assert_eq!(cov.errors["ConflictException"], 1);
        assert_eq!(cov.boundaries["UserId:128"], 2);
        assert_eq!(cov.boundaries["UserMatchThreshold:0"], 2);
        let missing = cov.missing();
        assert!(missing["operations"].contains(&"ListUsers".to_string()));
        assert!(!missing["reasons"].contains(&"AssociateFaces:FACE_NOT_FOUND".to_string()));
    }
}

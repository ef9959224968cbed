//! Which parts of the contract a run reached.
//!
//! Counted from the calls actually made and the outcomes actually observed, never from
//! what the generator meant to do: operations, error types, failure reasons, UserStatus
//! values, and boundaries (a user at 0, 1, 99 and 100 faces; each constrained member at
//! its limits). The report shows what was reached and what was not, so a thin budget is
//! visible rather than silently trusted.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use crate::api::{ErrorCode, Operation, Request};
use crate::expect::Observed;

/// Every failure reason the in-scope operations can report (contract §3).
pub const FAILURE_REASONS: [&str; 6] = [
    "AssociateFaces:FACE_NOT_FOUND",
    "AssociateFaces:ASSOCIATED_TO_A_DIFFERENT_USER",
    "AssociateFaces:LOW_MATCH_CONFIDENCE",
    "DisassociateFaces:FACE_NOT_FOUND",
    "DisassociateFaces:ASSOCIATED_TO_A_DIFFERENT_USER",
    "DeleteFaces:ASSOCIATED_TO_AN_EXISTING_USER",
];

/// The UserStatus values a conforming endpoint shows in ordinary use.
pub const STATUSES: [&str; 3] = ["CREATED", "UPDATING", "ACTIVE"];

/// Face counts of a user worth reaching (contract §6.3, §7).
pub const USER_FACE_COUNTS: [usize; 4] = [0, 1, 99, 100];

/// Error types the generator is meant to provoke.
pub const ERROR_TYPES: [ErrorCode; 9] = [
    ErrorCode::InvalidParameterException,
    ErrorCode::ResourceNotFoundException,
    ErrorCode::ResourceAlreadyExistsException,
    ErrorCode::ConflictException,
    ErrorCode::IdempotentParameterMismatchException,
    ErrorCode::InvalidPaginationTokenException,
    ErrorCode::ServiceQuotaExceededException,
    ErrorCode::SerializationException,
    ErrorCode::UnknownOperationException,
];

/// Constrained members at (or beyond) a limit, by name.
pub const BOUNDARIES: [&str; 12] = [
    "CollectionId:255",
    "CollectionId:256",
    "UserId:128",
    "UserId:129",
    "ExternalImageId:255",
    "ClientRequestToken:65",
    "FaceIds:0",
    "FaceIds:100",
    "FaceIds:101",
    "UserMatchThreshold:0",
    "UserMatchThreshold:100",
    "MaxResults:out-of-range",
];

/// What a run reached, counted per item.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
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
}

impl Coverage {
    /// Counts one call and its outcome.
    pub fn record(&mut self, request: &Request, observed: &Observed) {
        *self.operations.entry(request.operation().name().to_string()).or_default() += 1;
        let json = request.to_json();
        for boundary in boundaries_of(request.operation(), &json) {
            *self.boundaries.entry(boundary).or_default() += 1;
        }
        match observed {
            Observed::Error(e) => *self.errors.entry(e.code.to_string()).or_default() += 1,
            Observed::Success(body) => self.record_body(request.operation(), body),
        }
    }

    /// Counts a raw call that the model could not decode (malformed bodies, unknown targets).
    pub fn record_raw(&mut self, observed: &Observed) {
        if let Observed::Error(e) = observed {
            *self.errors.entry(e.code.to_string()).or_default() += 1;
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
}

fn boundaries_of(op: Operation, json: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let len = |member: &str| json.get(member).and_then(Value::as_str).map(|s| s.chars().count());
    match len("CollectionId") {
        Some(255) => drop(out.insert("CollectionId:255".to_string())),
        Some(n) if n > 255 => drop(out.insert("CollectionId:256".to_string())),
        _ => {}
    }
    match len("UserId") {
        Some(128) => drop(out.insert("UserId:128".to_string())),
        Some(n) if n > 128 => drop(out.insert("UserId:129".to_string())),
        _ => {}
    }
    if len("ExternalImageId") == Some(255) {
        out.insert("ExternalImageId:255".to_string());
    }
    if len("ClientRequestToken").is_some_and(|n| n > 64) {
        out.insert("ClientRequestToken:65".to_string());
    }
    if matches!(op, Operation::AssociateFaces | Operation::DisassociateFaces | Operation::DeleteFaces)
        && let Some(ids) = json.get("FaceIds").and_then(Value::as_array)
    {
        match ids.len() {
            0 => drop(out.insert("FaceIds:0".to_string())),
            100 => drop(out.insert("FaceIds:100".to_string())),
            n if n > 100 => drop(out.insert("FaceIds:101".to_string())),
            _ => {}
        }
    }
    let threshold = json.get("UserMatchThreshold").and_then(Value::as_f64);
    if threshold == Some(0.0) {
        out.insert("UserMatchThreshold:0".to_string());
    } else if threshold == Some(100.0) {
        out.insert("UserMatchThreshold:100".to_string());
    }
    let max = match op {
        Operation::ListUsers => 500,
        _ => 4096,
    };
    if json
        .get("MaxResults")
        .and_then(Value::as_i64)
        .is_some_and(|n| n < i64::from(op == Operation::ListUsers) || n > max)
    {
        out.insert("MaxResults:out-of-range".to_string());
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

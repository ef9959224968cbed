//! Judging one answer: the wire layer on the raw HTTP response, and the scenario's
//! written expectation against the answer and against the model.
//!
//! The semantic layer (is this answer one the contract allows?) is the model's job,
//! [`crate::model::Model::observe`]; this module only adds what the model cannot see — the
//! raw bytes the SDK would have forgiven — and what the scenario author wrote. Pure
//! functions over plain data: no SDK types, no I/O.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::api::{ApiError, ErrorCode, Operation};
use crate::error::NoAnswer;
use crate::expect::{Allowed, Mismatch, Observed, json_eq, render};
use crate::unknown::Unknown;

/// The media type of every awsJson1_1 response.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// The raw HTTP response of the last attempt, as read off the wire.
///
/// Only the headers the checks need are kept, so nothing sensitive can leak through a
/// report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RawResponse {
    /// HTTP status code.
    pub status: u16,
    /// The `Content-Type` header.
    pub content_type: Option<String>,
    /// The `x-amzn-RequestId` header.
    pub request_id: Option<String>,
    /// The `x-amzn-ErrorType` header.
    pub error_type: Option<String>,
    /// Every response header, for recordings (`rekcon run --record`); names lower-case.
    #[serde(skip)]
    pub headers: Vec<(String, String)>,
    /// The body bytes.
    #[serde(skip)]
    pub body: Vec<u8>,
}

/// Which comparison a finding comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Layer {
    /// The raw response breaks the awsJson1_1 protocol: an endpoint divergence
    /// (`protocol` in reports).
    #[serde(rename = "protocol")]
    Wire,
    /// The answer is not one the model allows: an endpoint divergence (`contract`).
    #[serde(rename = "contract")]
    Model,
    /// The scenario's expectation disagrees with the model: the model or the scenario is wrong.
    Scenario,
}

/// One difference found at a step, and which comparison found it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Which comparison.
    pub layer: Layer,
    /// Where, what was expected, what was there.
    #[serde(flatten)]
    pub mismatch: Mismatch,
}

impl Finding {
    /// A finding of `layer`.
    pub fn new(layer: Layer, mismatch: Mismatch) -> Finding {
        Finding { layer, mismatch }
    }

    /// Whether the finding is about the endpoint (wire or model) rather than the scenario.
    pub fn is_divergence(&self) -> bool {
        matches!(self.layer, Layer::Wire | Layer::Model)
    }
}

/// What the wire layer concluded about one response.
#[derive(Debug, Clone, PartialEq)]
pub struct WireVerdict {
    /// Protocol faults; empty when the response is well formed.
    pub mismatches: Vec<Mismatch>,
    /// Unsettled facts the wire check leaned on.
    pub unknowns: BTreeSet<Unknown>,
    /// The answer, when the body could be read as one.
    pub observed: Option<Observed>,
}

/// Error codes that mean "ask again later": an answer still carrying one after the SDK's
/// retries is no answer, never a verdict.
fn is_transient(code: &ErrorCode) -> bool {
    match code {
        ErrorCode::ThrottlingException
        | ErrorCode::ProvisionedThroughputExceededException
        | ErrorCode::InternalServerError => true,
        ErrorCode::Other(other) => {
            matches!(
                other.as_str(),
                "ServiceUnavailable"
                    | "ServiceUnavailableException"
                    | "RequestTimeout"
                    | "RequestTimeoutException"
            )
        }
        _ => false,
    }
}

fn miss(path: &str, expected: impl Into<String>, actual: impl Into<String>) -> Mismatch {
    Mismatch { path: path.to_string(), expected: expected.into(), actual: actual.into() }
}

/// Why a response cannot be judged at all: neither layer can say anything about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unjudgeable {
    /// A transient answer (throttling, 5xx) that survived the SDK's retries.
    NoAnswer(NoAnswer),
    /// The endpoint does not implement the operation; the evidence, in words
    /// (`HTTP 501 NotImplementedError`).
    NotImplemented(String),
    /// The endpoint refused rekcon's own credentials, signature, clock or permissions:
    /// the tester's set-up, never the endpoint's behaviour. A one-line hint.
    SetupProblem(String),
}

/// Whether an error answer refuses rekcon's own set-up (credentials, signature, clock,
/// IAM permissions for the action called), and the one-line hint to fix it.
///
/// AccessDeniedException counts only when its message names a `rekognition:` action (the
/// IAM text `… is not authorized to perform: rekognition:CreateCollection …`, contract §8):
/// an S3 image the service may not read is also AccessDeniedException (§2), and that one
/// is judged.
pub fn setup_problem(code: &ErrorCode, message: Option<&str>) -> Option<String> {
    let message = message.unwrap_or_default();
    let hint = match code.as_str() {
        "InvalidSignatureException" | "SignatureDoesNotMatch"
            if message.to_ascii_lowercase().contains("signature expired") =>
        {
            "the request's signing time is too far from the endpoint's clock (over 5 minutes, §8): set this machine's clock right (NTP)"
        }
        "InvalidSignatureException" | "SignatureDoesNotMatch" => {
            "the endpoint refused the signature: check the secret access key (AWS_SECRET_ACCESS_KEY or the --profile) and --region"
        }
        "IncompleteSignatureException" => {
            "the endpoint found the signature incomplete: check the credentials and --region"
        }
        "UnrecognizedClientException" | "InvalidClientTokenId" => {
            "the endpoint does not know the access key id: check AWS_ACCESS_KEY_ID or the --profile"
        }
        "MissingAuthenticationTokenException" | "MissingAuthenticationToken" => {
            "the request carried no signature: give rekcon credentials (environment, --profile)"
        }
        "ExpiredTokenException" | "ExpiredToken" | "RequestExpired" => {
            "the credentials' session token has expired: refresh them (aws sso login, a new STS session)"
        }
        "AccessDeniedException" if message.contains("rekognition:") => {
            let action = message
                .split_whitespace()
                .find(|word| word.starts_with("rekognition:"))
                .map(|word| word.trim_end_matches(|c: char| !c.is_ascii_alphanumeric()))
                .unwrap_or("the action");
            return Some(format!(
                "the credentials' IAM policy does not allow {action}: grant it to the principal rekcon runs as"
            ));
        }
        _ => return None,
    };
    Some(hint.to_string())
}

/// Error codes emulators answer for an operation they do not implement: winterbaume's
/// and LocalStack's `NotImplementedError`, moto's `InvalidAction`, and the protocol's own
/// `UnknownOperationException` (the answer to a target the service does not know).
/// (LocalStack's `InternalFailure` with "not yet implemented" is a 501.)
const NOT_IMPLEMENTED_CODES: &[&str] = &[
    "NotImplementedError",
    "NotImplemented",
    "NotImplementedException",
    "InvalidAction",
    "UnknownOperationException",
    "UnknownOperation",
];

/// Whether a response says the endpoint does not implement `operation`, and the evidence.
///
/// For one of the 16 operations: HTTP 501; an error code that means "not implemented";
/// an HTTP 500 page that is not JSON (moto's HTML 500); a 404 to `POST /` (every call
/// rekcon makes is one) without a Rekognition error type. For a target that is none of
/// the 16, whose right answer is `UnknownOperationException`, only a 501 or a 500 page
/// counts: the endpoint answers it as it answers what it does not implement, so how it
/// treats unknown targets cannot be judged. (An error code such as `InvalidAction` is
/// then judged: it is a divergence.)
fn not_implemented(
    raw: &RawResponse,
    operation: Option<Operation>,
    body: &Result<Option<Value>, String>,
    code: Option<&ErrorCode>,
) -> Option<String> {
    let code_text = code.map(|c| format!(" {c}")).unwrap_or_default();
    if raw.status == 501 {
        return Some(format!("HTTP 501{code_text}"));
    }
    let page = |status: u16| {
        let media = raw.content_type.as_deref().map(media_type).unwrap_or("no Content-Type");
        format!("HTTP {status} with a {media} page, not JSON")
    };
    // 502-504 pages are gateways and busy front ends: transient, so no answer.
    if raw.status == 500 && body.is_err() {
        return Some(page(raw.status));
    }
    operation?;
    if let Some(code) = code
        && NOT_IMPLEMENTED_CODES.contains(&code.as_str())
    {
        return Some(format!("{code} (HTTP {})", raw.status));
    }
    // A known error type with a wrong status is a protocol fault, judged as such.
    if raw.status == 404 && !code.is_some_and(|c| !matches!(c, ErrorCode::Other(_))) {
        return Some(format!("HTTP 404 to POST /{code_text}"));
    }
    None
}

/// Whether `raw`, an answer to `operation`, says the endpoint does not implement it (as
/// [`wire`] classifies it): such an answer created nothing.
pub fn says_not_implemented(raw: &RawResponse, operation: Operation) -> bool {
    if (200..300).contains(&raw.status) {
        return false;
    }
    let body = parse_body(&raw.body);
    let code = error_code(raw, body.as_ref().ok().and_then(|b| b.as_ref()));
    not_implemented(raw, Some(operation), &body, code.as_ref()).is_some()
}

/// Checks a raw response against the awsJson1_1 protocol and reads the answer from it.
///
/// `operation` is the operation called, when known (a raw step to an unknown target has
/// none). Returns [`Unjudgeable`] for transient answers (throttling, 5xx) that survived
/// the SDK's retries, and for answers that say the operation is not implemented.
pub fn wire(raw: &RawResponse, operation: Option<Operation>) -> Result<WireVerdict, Unjudgeable> {
    let success = (200..300).contains(&raw.status);
    let mut mismatches = Vec::new();
    let mut unknowns = BTreeSet::new();

    let body = parse_body(&raw.body);
    let error_code =
        (!success).then(|| error_code(raw, body.as_ref().ok().and_then(|b| b.as_ref()))).flatten();
    if !success {
        if let Some(code) = &error_code {
            let message = body.as_ref().ok().and_then(|b| b.as_ref()).and_then(|b| {
                ["Message", "message", "errorMessage"].iter().find_map(|k| b.get(*k)?.as_str())
            });
            if let Some(hint) = setup_problem(code, message) {
                return Err(Unjudgeable::SetupProblem(hint));
            }
        }
        if let Some(evidence) = not_implemented(raw, operation, &body, error_code.as_ref()) {
            return Err(Unjudgeable::NotImplemented(evidence));
        }
        match &error_code {
            Some(code) if is_transient(code) => {
                return Err(Unjudgeable::NoAnswer(NoAnswer::new(format!(
                    "{code} (HTTP {}) after retries",
                    raw.status
                ))));
            }
            None if raw.status >= 500 || raw.status == 429 => {
                return Err(Unjudgeable::NoAnswer(NoAnswer::new(format!(
                    "HTTP {} without an error type, after retries",
                    raw.status
                ))));
            }
            _ => {}
        }
    }

    match raw.content_type.as_deref() {
        Some(ct) if media_type(ct).eq_ignore_ascii_case(CONTENT_TYPE) => {}
        other => mismatches.push(miss("(header) Content-Type", CONTENT_TYPE, other.unwrap_or("absent"))),
    }
    if raw.request_id.as_deref().is_none_or(str::is_empty) {
        mismatches.push(miss("(header) x-amzn-RequestId", "a request id", "absent"));
    }

    let observed = match (success, body) {
        (_, Err(text)) => {
            mismatches.push(miss("(body)", "a JSON object", text));
            error_code.map(|code| Observed::Error(ApiError { code, message: None }))
        }
        (true, Ok(None)) => {
            if !matches!(operation, Some(Operation::CreateUser | Operation::DeleteUser)) {
                mismatches.push(miss("(body)", "a JSON object", "an empty body"));
            }
            Some(Observed::Success(Value::Object(Map::new())))
        }
        (true, Ok(Some(value))) => {
            if value.is_object() {
                null_paths(&value, &mut String::new(), &mut |path| {
                    mismatches.push(miss(
                        path,
                        "absent (members without a value are omitted, never null)",
                        "null",
                    ));
                });
                Some(Observed::Success(value))
            } else {
                mismatches.push(miss("(body)", "a JSON object", render(&value)));
                None
            }
        }
        (false, body) => {
            let body = body.ok().flatten();
            let object = body.as_ref().and_then(Value::as_object);
            if object.is_none() {
                mismatches.push(miss(
                    "(body)",
                    "a JSON object with __type and Message",
                    body.as_ref().map_or("an empty body".into(), render),
                ));
            }
            let member = |name: &str| object.and_then(|o| o.get(name));
            // Without an error type from anywhere, the finding below says it all: one
            // defect, one mismatch.
            if error_code.is_some() && !member("__type").is_some_and(Value::is_string) {
                mismatches.push(miss(
                    "__type",
                    "the error type",
                    member("__type").map_or("absent".into(), render),
                ));
            }
            // Real error bodies capitalise every key (contract §1.1: the 2019 doc sample and a
            // 2023 capture). SDKs also read a lower-case `message`, which hides the difference
            // from them but not from clients that read `Message`.
            let message = member("Message");
            if !message.is_some_and(Value::is_string) {
                let lower = member("message").map(|m| format!("absent (lower-case message: {})", render(m)));
                mismatches.push(miss(
                    "Message",
                    "an error message in Message",
                    lower.unwrap_or_else(|| message.map_or("absent".into(), render)),
                ));
            }
            if member("Code").is_none() || member("Logref").is_none() {
                unknowns.insert(Unknown::ErrorBodyMembers);
            }
            if let (Some(header), Some(Value::String(in_body))) =
                (raw.error_type.as_deref(), member("__type"))
                && ErrorCode::parse(header) != ErrorCode::parse(in_body)
            {
                mismatches.push(miss(
                    "(header) x-amzn-ErrorType",
                    format!("the body's __type {in_body}"),
                    header,
                ));
            }
            match &error_code {
                Some(code) => check_error_status(code, raw.status, &mut mismatches, &mut unknowns),
                None => mismatches.push(miss(
                    "__type",
                    "an error type (__type, code or x-amzn-ErrorType)",
                    "none",
                )),
            }
            let message = message.and_then(Value::as_str).map(str::to_string);
            error_code.map(|code| Observed::Error(ApiError { code, message }))
        }
    };
    Ok(WireVerdict { mismatches, unknowns, observed })
}

fn check_error_status(
    code: &ErrorCode,
    status: u16,
    mismatches: &mut Vec<Mismatch>,
    unknowns: &mut BTreeSet<Unknown>,
) {
    let expected = code.http_status();
    match code {
        ErrorCode::ThrottlingException => {
            unknowns.insert(Unknown::ThrottlingStatus);
            if status != 400 && status < 500 {
                mismatches.push(miss("(status)", format!("400 or 5xx for {code}"), status.to_string()));
            }
        }
        ErrorCode::Other(_) if status < 400 => {
            mismatches.push(miss("(status)", format!("4xx or 5xx for {code}"), status.to_string()));
        }
        ErrorCode::Other(_) => {}
        _ if status != expected => {
            mismatches.push(miss("(status)", format!("{expected} for {code}"), status.to_string()))
        }
        _ => {}
    }
}

/// Whether a response is a throttling answer (ThrottlingException or
/// ProvisionedThroughputExceededException), which the rate limiter backs off on.
pub fn is_throttling(raw: &RawResponse) -> bool {
    raw.status >= 400
        && matches!(
            error_code(raw, parse_body(&raw.body).ok().flatten().as_ref()),
            Some(ErrorCode::ThrottlingException | ErrorCode::ProvisionedThroughputExceededException)
        )
}

/// The error code as AWS JSON clients read it: `x-amzn-ErrorType`, else `code`, else `__type`.
fn error_code(raw: &RawResponse, body: Option<&Value>) -> Option<ErrorCode> {
    let from_body = |name: &str| body.and_then(|b| b.get(name)).and_then(Value::as_str).map(str::to_string);
    raw.error_type
        .clone()
        .filter(|h| !h.is_empty())
        .or_else(|| from_body("code"))
        .or_else(|| from_body("__type"))
        .map(|raw| ErrorCode::parse(&raw))
}

/// `Ok(None)` for an empty body, `Ok(Some(json))`, or `Err(a printable excerpt)`.
fn parse_body(body: &[u8]) -> Result<Option<Value>, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(body).map(Some).map_err(|_| excerpt(body))
}

/// The first 80 characters of a body, printable, for a mismatch column.
pub fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let cleaned: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).take(80).collect();
    if text.chars().count() > 80 { format!("{cleaned}…") } else { cleaned }
}

fn media_type(content_type: &str) -> &str {
    content_type.split(';').next().unwrap_or_default().trim()
}

/// Calls `found` with the path of every `null` inside `value`.
fn null_paths(value: &Value, path: &mut String, found: &mut dyn FnMut(&str)) {
    match value {
        Value::Null => found(path),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                null_paths(item, path, found);
                path.truncate(len);
            }
        }
        Value::Object(members) => {
            for (name, member) in members {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(name);
                null_paths(member, path, found);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// Written expectations
// ---------------------------------------------------------------------------------------------

/// A step's written expectation with its references substituted.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Expectation {
    /// The call must succeed.
    Success,
    /// The call must fail with one of these error types.
    Errors(Vec<ErrorCode>),
    /// The call must succeed and its body match this partially.
    Response(Value),
}

impl Expectation {
    /// A short description, for "expected" columns.
    pub fn describe(&self) -> String {
        match self {
            Expectation::Success => "success".into(),
            Expectation::Errors(codes) => {
                codes.iter().map(ErrorCode::to_string).collect::<Vec<_>>().join(" or ")
            }
            Expectation::Response(body) => format!("success with {}", render(body)),
        }
    }
}

/// Whether the model can allow what the expectation demands; the mismatch says why not.
pub fn expectation_feasible(expectation: &Expectation, allowed: &Allowed) -> Option<Mismatch> {
    let feasible = match expectation {
        Expectation::Success | Expectation::Response(_) => allowed.success.is_some(),
        Expectation::Errors(codes) => codes.iter().any(|c| allowed.errors.contains(c)),
    };
    (!feasible).then(|| {
        miss(
            "(outcome)",
            format!("the scenario expects {}", expectation.describe()),
            format!("the model allows only {}", allowed.describe()),
        )
    })
}

/// Differences between the expectation and the answer; empty when it is met.
pub fn expectation_met(expectation: &Expectation, observed: &Observed) -> Vec<Mismatch> {
    match (expectation, observed) {
        (Expectation::Success, Observed::Success(_)) => Vec::new(),
        (Expectation::Errors(codes), Observed::Error(e)) if codes.contains(&e.code) => Vec::new(),
        (Expectation::Response(expected), Observed::Success(body)) => partial_match(expected, body, ""),
        (expectation, observed) => {
            vec![miss("(outcome)", expectation.describe(), describe_observed(observed))]
        }
    }
}

/// A short description of an answer.
pub fn describe_observed(observed: &Observed) -> String {
    match observed {
        Observed::Success(body) => format!("success {}", render(body)),
        Observed::Error(e) => e.code.to_string(),
    }
}

/// Partial match: listed members must match recursively, unlisted members are ignored,
/// `null` means the member must be absent; arrays must have the same length and match
/// item by item in any order (as a multiset); numbers compare by value.
pub fn partial_match(expected: &Value, actual: &Value, path: &str) -> Vec<Mismatch> {
    match (expected, actual) {
        (Value::Object(want), Value::Object(have)) => {
            let mut out = Vec::new();
            for (name, want_member) in want {
                let member_path = if path.is_empty() { name.clone() } else { format!("{path}.{name}") };
                match (want_member, have.get(name)) {
                    (Value::Null, None) => {}
                    (Value::Null, Some(v)) => out.push(miss(&member_path, "absent", render(v))),
                    (_, None) => out.push(miss(&member_path, render(want_member), "absent")),
                    (_, Some(v)) => out.extend(partial_match(want_member, v, &member_path)),
                }
            }
            out
        }
        (Value::Array(want), Value::Array(have)) => multiset_match(want, have, path),
        (want, have) if json_eq(want, have) => Vec::new(),
        (want, have) => vec![miss(path, render(want), render(have))],
    }
}

/// Matches expected items to distinct actual items in any order (bipartite matching).
fn multiset_match(want: &[Value], have: &[Value], path: &str) -> Vec<Mismatch> {
    let item_path = |i: usize| format!("{path}[{i}]");
    if want.len() != have.len() {
        return vec![miss(
            path,
            format!("{} items: {}", want.len(), render(&Value::Array(want.to_vec()))),
            format!("{} items: {}", have.len(), render(&Value::Array(have.to_vec()))),
        )];
    }
    let fits: Vec<Vec<bool>> = want
        .iter()
        .map(|w| {
            have.iter().enumerate().map(|(j, h)| partial_match(w, h, &item_path(j)).is_empty()).collect()
        })
        .collect();
    // Kuhn's augmenting paths: owner[j] is the expected item matched to actual item j.
    let mut owner: Vec<Option<usize>> = vec![None; have.len()];
    fn augment(i: usize, fits: &[Vec<bool>], owner: &mut [Option<usize>], seen: &mut [bool]) -> bool {
        for j in 0..owner.len() {
            if fits[i][j] && !seen[j] {
                seen[j] = true;
                if owner[j].is_none_or(|k| augment(k, fits, owner, seen)) {
                    owner[j] = Some(i);
                    return true;
                }
            }
        }
        false
    }
    let mut unmatched = Vec::new();
    for i in 0..want.len() {
        if !augment(i, &fits, &mut owner, &mut vec![false; have.len()]) {
            unmatched.push(i);
        }
    }
    let free: Vec<usize> = (0..have.len()).filter(|j| owner[*j].is_none()).collect();
    let mut out = Vec::new();
    for i in unmatched {
        // Explain with the closest free actual item.
        let best = free
            .iter()
            .map(|&j| partial_match(&want[i], &have[j], &item_path(j)))
            .min_by_key(Vec::len)
            .unwrap_or_else(|| vec![miss(path, render(&want[i]), "no matching item")]);
        out.extend(best);
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn raw(status: u16, body: &str) -> RawResponse {
        RawResponse {
            status,
            content_type: Some(CONTENT_TYPE.into()),
            request_id: Some("r".into()),
            error_type: None,
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn signature_credential_clock_and_own_permission_errors_are_setup_problems() {
        let setup =
            |status: u16, body: &str| match wire(&raw(status, body), Some(Operation::CreateCollection)) {
                Err(Unjudgeable::SetupProblem(hint)) => Some(hint),
                _ => None,
            };
        for code in [
            "InvalidSignatureException",
            "UnrecognizedClientException",
            "MissingAuthenticationTokenException",
            "ExpiredTokenException",
            "IncompleteSignatureException",
            "SignatureDoesNotMatch",
        ] {
            let hint = setup(403, &format!(r#"{{"__type": "{code}", "Message": "m"}}"#));
            assert!(hint.as_ref().is_some_and(|h| !h.contains('\n')), "{code}: {hint:?}");
        }
        // Contract §8: the clock-skew text of a real InvalidSignatureException.
        let skew = setup(
            400,
            r#"{"__type": "InvalidSignatureException", "Message": "Signature expired: 20200101T000000Z is now earlier than 20200101T000600Z (20200101T000600Z - 5 min.)"}"#,
        );
        assert!(skew.is_some_and(|h| h.contains("clock")));
        let denied = setup(
            400,
            r#"{"__type": "AccessDeniedException", "Message": "User: arn:aws:iam::1:user/x is not authorized to perform: rekognition:CreateCollection on resource: arn"}"#,
        );
        assert!(denied.is_some_and(|h| h.contains("rekognition:CreateCollection")));
        // An S3 image the service may not read is the endpoint's answer to judge (§2).
        assert_eq!(
            setup(
                400,
                r#"{"__type": "AccessDeniedException", "Message": "You are not authorized to perform this action."}"#
            ),
            None
        );
        assert_eq!(setup(400, r#"{"__type": "ResourceNotFoundException", "Message": "m"}"#), None);
    }

    #[test]
    fn a_well_formed_success_has_no_wire_findings() {
        let verdict = wire(&raw(200, r#"{"Users": []}"#), Some(Operation::ListUsers)).unwrap();
        assert!(verdict.mismatches.is_empty(), "{:?}", verdict.mismatches);
        assert_eq!(verdict.observed, Some(Observed::Success(json!({"Users": []}))));
    }

    #[test]
    fn nulls_content_type_and_request_id_are_wire_faults() {
        let mut r = raw(200, r#"{"Users": [{"UserId": "u", "UserStatus": null}]}"#);
        r.content_type = Some("application/json".into());
        r.request_id = None;
        let verdict = wire(&r, Some(Operation::ListUsers)).unwrap();
        let paths: Vec<&str> = verdict.mismatches.iter().map(|m| m.path.as_str()).collect();
        assert_eq!(paths, ["(header) Content-Type", "(header) x-amzn-RequestId", "Users[0].UserStatus"]);
    }

    #[test]
    fn empty_bodies_only_for_create_and_delete_user() {
        assert!(wire(&raw(200, ""), Some(Operation::CreateUser)).unwrap().mismatches.is_empty());
        let v = wire(&raw(200, ""), Some(Operation::ListUsers)).unwrap();
        assert_eq!(v.mismatches[0].path, "(body)");
    }

    #[test]
    fn errors_need_type_message_and_their_status() {
        let v =
            wire(&raw(400, r#"{"__type": "ResourceNotFoundException", "Message": "gone"}"#), None).unwrap();
        assert!(v.mismatches.is_empty(), "{:?}", v.mismatches);
        assert!(v.unknowns.contains(&Unknown::ErrorBodyMembers));
        let v = wire(&raw(404, r#"{"__type": "ResourceNotFoundException"}"#), None).unwrap();
        let paths: Vec<&str> = v.mismatches.iter().map(|m| m.path.as_str()).collect();
        assert_eq!(paths, ["Message", "(status)"]);
        let v = wire(
            &raw(
                400,
                r#"{"__type": "ns#ConflictException:extra", "Message": "m", "Code": "C", "Logref": "l"}"#,
            ),
            None,
        )
        .unwrap();
        assert!(v.mismatches.is_empty() && v.unknowns.is_empty());
        let lower = wire(&raw(400, r#"{"__type": "ConflictException", "message": "m"}"#), None).unwrap();
        assert_eq!(lower.mismatches[0].path, "Message", "only a lower-case message is a wire divergence");
        assert!(matches!(
            v.observed,
            Some(Observed::Error(ApiError { code: ErrorCode::ConflictException, .. }))
        ));
    }

    #[test]
    fn an_error_without_any_type_is_one_finding() {
        // No __type, no `code`, no x-amzn-ErrorType: one defect, one mismatch.
        let v = wire(&raw(400, r#"{"Message": "m"}"#), Some(Operation::DeleteUser)).unwrap();
        let types: Vec<&Mismatch> = v.mismatches.iter().filter(|m| m.path == "__type").collect();
        assert_eq!(types.len(), 1, "{:?}", v.mismatches);
        assert!(types[0].expected.contains("x-amzn-ErrorType"), "{:?}", types[0]);
        // The type only in the header: the body's missing __type is still a finding.
        let mut r = raw(400, r#"{"Message": "m"}"#);
        r.error_type = Some("ResourceNotFoundException".into());
        let v = wire(&r, Some(Operation::DeleteUser)).unwrap();
        let types: Vec<&Mismatch> = v.mismatches.iter().filter(|m| m.path == "__type").collect();
        assert_eq!(types.len(), 1, "{:?}", v.mismatches);
        assert_eq!(types[0].expected, "the error type");
    }

    #[test]
    fn transient_answers_are_no_answer() {
        assert!(wire(&raw(500, r#"{"__type": "ThrottlingException", "Message": "slow"}"#), None).is_err());
        assert!(
            wire(&raw(400, r#"{"__type": "ProvisionedThroughputExceededException", "Message": "m"}"#), None)
                .is_err()
        );
        assert!(wire(&raw(503, "<html>busy</html>"), None).is_err());
    }

    #[test]
    fn not_implemented_is_its_own_verdict() {
        let create = Some(Operation::CreateUser);
        let ni = |r: &RawResponse| match wire(r, create) {
            Err(Unjudgeable::NotImplemented(evidence)) => Some(evidence),
            _ => None,
        };
        // winterbaume: 501 NotImplementedError.
        let winterbaume = raw(501, r#"{"__type": "NotImplementedError", "message": "x"}"#);
        assert_eq!(ni(&winterbaume).as_deref(), Some("HTTP 501 NotImplementedError"));
        // moto: an HTML 500 page.
        let mut moto = raw(500, "<!doctype html><title>500 Internal Server Error</title>");
        moto.content_type = Some("text/html; charset=utf-8".into());
        assert_eq!(ni(&moto).as_deref(), Some("HTTP 500 with a text/html page, not JSON"));
        assert!(ni(&raw(400, r#"{"__type": "InvalidAction", "Message": "m"}"#)).is_some());
        assert!(ni(&raw(400, r#"{"__type": "UnknownOperationException"}"#)).is_some());
        assert!(ni(&raw(404, "Not Found")).is_some());
        // Not "not implemented": a known error with a wrong status, a busy gateway, a
        // JSON 500, and an unknown target (whose right answer is UnknownOperationException).
        assert!(ni(&raw(404, r#"{"__type": "ResourceNotFoundException", "Message": "m"}"#)).is_none());
        assert!(matches!(wire(&raw(503, "<html>busy</html>"), create), Err(Unjudgeable::NoAnswer(_))));
        assert!(matches!(
            wire(&raw(500, r#"{"__type": "InternalServerError", "Message": "m"}"#), create),
            Err(Unjudgeable::NoAnswer(_))
        ));
        assert!(wire(&raw(400, r#"{"__type": "UnknownOperationException", "Message": "m"}"#), None).is_ok());
        assert!(wire(&raw(400, r#"{"__type": "InvalidAction", "Message": "m"}"#), None).is_ok(), "judged");
        assert!(matches!(wire(&moto, None), Err(Unjudgeable::NotImplemented(_))), "unknown targets too");
    }

    #[test]
    fn html_is_a_wire_divergence_not_a_panic() {
        let v = wire(&raw(200, "<html><body>hello</body></html>"), Some(Operation::ListCollections)).unwrap();
        assert_eq!(v.mismatches[0].path, "(body)");
        assert_eq!(v.mismatches[0].actual, "<html><body>hello</body></html>");
        assert!(v.observed.is_none());
        let v = wire(&raw(403, "<html>denied</html>"), None).unwrap();
        assert!(v.mismatches.iter().any(|m| m.path == "(body)"));
    }

    #[test]
    fn partial_match_semantics() {
        let actual =
            json!({"Faces": [{"FaceId": "b", "UserId": "u"}, {"FaceId": "a"}], "NextToken": "t", "N": 2.0});
        assert!(partial_match(&json!({"Faces": [{"FaceId": "a"}, {"FaceId": "b"}]}), &actual, "").is_empty());
        assert!(partial_match(&json!({"N": 2}), &actual, "").is_empty());
        let m = partial_match(
            &json!({"Faces": [{"FaceId": "a", "UserId": null}, {"FaceId": "b", "UserId": null}]}),
            &actual,
            "",
        );
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].path, "Faces[0].UserId");
        assert_eq!(m[0].expected, "absent");
        let m = partial_match(&json!({"Faces": [{"FaceId": "a"}]}), &actual, "");
        assert!(m[0].expected.starts_with("1 items"), "{m:?}");
        let m = partial_match(&json!({"NextToken": null}), &actual, "");
        assert_eq!(m[0].path, "NextToken");
    }

    #[test]
    fn feasibility_against_the_model() {
        let allowed = Allowed::error(ErrorCode::ResourceNotFoundException);
        assert!(
            expectation_feasible(&Expectation::Errors(vec![ErrorCode::ConflictException]), &allowed)
                .is_some()
        );
        assert!(
            expectation_feasible(&Expectation::Errors(vec![ErrorCode::ResourceNotFoundException]), &allowed)
                .is_none()
        );
        assert!(expectation_feasible(&Expectation::Success, &allowed).is_some());
    }
}

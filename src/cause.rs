//! Root causes: one defect seen in many calls is one cause.
//!
//! Every divergence a check finds gets a stable [`Signature`]: its layer (`protocol` or
//! `contract`), the operation (any operation, `*`, for protocol faults, which do not
//! depend on what was called), the field path with list positions and generated values
//! dropped, and the *class* of what was expected and of what came. Two findings with one
//! signature are the same defect, so reports list it once with its reach, baselines and
//! fuzz deduplication speak in signatures, and one `Content-Type` fault seen on 1,200
//! responses reads as one line.
//!
//! Pure functions over plain data: no I/O, no SDK types.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

use crate::check::{Finding, Layer};
use crate::expect::Mismatch;

/// The operation of a signature for a call to a target that is none of the 16.
pub const UNKNOWN_TARGET: &str = "(unknown target)";

/// Which side of the contract a divergence is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CauseLayer {
    /// The awsJson1.1 protocol: status, headers, body shape, the `__type`/`Message`
    /// form, `null`s. SDKs often forgive these.
    Protocol,
    /// What the reference model allows: the API's behaviour.
    Contract,
}

impl CauseLayer {
    /// The layer of a check's finding; `None` for the scenario layer, which blames the
    /// scenario or the model, never the endpoint.
    pub fn of(layer: Layer) -> Option<CauseLayer> {
        match layer {
            Layer::Wire => Some(CauseLayer::Protocol),
            Layer::Model => Some(CauseLayer::Contract),
            Layer::Scenario => None,
        }
    }

    /// `protocol` or `contract`.
    pub fn as_str(self) -> &'static str {
        match self {
            CauseLayer::Protocol => "protocol",
            CauseLayer::Contract => "contract",
        }
    }
}

/// What identifies one defect across calls, scenarios and runs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Signature {
    /// `protocol` or `contract`.
    pub layer: CauseLayer,
    /// The operation, or `*` for a protocol fault (it does not depend on the operation).
    pub operation: String,
    /// The field path with list positions dropped (`UnsuccessfulFaceAssociations[].Reasons[]`).
    pub path: String,
    /// The class of what the contract allows there.
    pub expected: String,
    /// The class of what came.
    pub actual: String,
}

impl Signature {
    /// The signature of a finding at a call of `operation` (an operation name or a raw
    /// `X-Amz-Target`); `None` for scenario-layer findings.
    pub fn of(operation: &str, finding: &Finding) -> Option<Signature> {
        let layer = CauseLayer::of(finding.layer)?;
        Some(Signature::from_mismatch(layer, operation, &finding.mismatch))
    }

    /// The signature of `mismatch` on `layer` at a call of `operation`.
    pub fn from_mismatch(layer: CauseLayer, operation: &str, mismatch: &Mismatch) -> Signature {
        // Items where none may be are one defect however the list was described: an
        // exact empty list, or a list with every item accounted for.
        if mismatch.expected == "[]" && mismatch.actual.starts_with("[{") {
            let item = Mismatch {
                path: format!("{}[]", mismatch.path),
                expected: "no such item".into(),
                actual: "{}".into(),
            };
            return Signature::from_mismatch(layer, operation, &item);
        }
        let literal = is_literal_path(&mismatch.path);
        let class = |text: &str| if literal { text.to_string() } else { class_of(text) };
        Signature {
            layer,
            operation: match layer {
                CauseLayer::Protocol => "*".into(),
                // Every unknown target is answered alike: one cause, however misspelt.
                CauseLayer::Contract if crate::api::Operation::from_name(operation).is_none() => {
                    UNKNOWN_TARGET.into()
                }
                CauseLayer::Contract => operation.to_string(),
            },
            path: general_path(&mismatch.path),
            expected: class(without_note(&mismatch.expected)),
            actual: class(&mismatch.actual),
        }
    }
}

impl fmt::Display for Signature {
    /// `contract AssociateFaces UnsuccessfulFaceAssociations[].UserId: "a string" <- absent`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() { "(outcome)" } else { &self.path };
        write!(f, "{} {} {path}: {} <- {}", self.layer.as_str(), self.operation, self.expected, self.actual)
    }
}

/// An expectation without its closing note: `"UPDATING" (faces were associated)` says why
/// `"UPDATING"` is due, and the defect is the same with or without the reason.
fn without_note(expected: &str) -> &str {
    let trimmed = expected.trim_end();
    match trimmed.strip_suffix(')').and_then(|t| t.rfind(" (")) {
        Some(open) if open > 0 => &trimmed[..open],
        _ => expected,
    }
}

/// Header and status values are small enumerations: compared literally.
fn is_literal_path(path: &str) -> bool {
    path.starts_with("(header)") || path.starts_with("(status)")
}

/// `path` with list positions dropped: positions follow generated ids (lists are ordered
/// by FaceId or similarity), so they change from run to run while the defect stays.
pub fn general_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_index = false;
    for ch in path.chars() {
        match ch {
            '[' => {
                in_index = true;
                out.push('[');
            }
            ']' => {
                in_index = false;
                out.push(']');
            }
            _ if in_index => {}
            other => out.push(other),
        }
    }
    out
}

/// The class of an expected or actual column: the words that stay when the values that
/// change from run to run go. Quoted strings become `a string` (or stay, when they are
/// an enumeration constant such as `"UPDATING"`), generated ids `<id>`, run-scoped
/// collection names `<collection>`, numbers `N`, JSON objects and arrays `an object`
/// and `an array`.
pub fn class_of(text: &str) -> String {
    let text = text.trim();
    if text.starts_with("success {") || text.starts_with("success [") {
        return "success".into();
    }
    if text.starts_with('{') {
        return "an object".into();
    }
    if text.starts_with('[') {
        return "an array".into();
    }
    let mut out = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '"' {
            let end = chars[i + 1..].iter().position(|&d| d == '"').map(|p| i + 1 + p);
            match end {
                Some(end) => {
                    let inner: String = chars[i + 1..end].iter().collect();
                    out.push_str(&quoted_class(&inner));
                    i = end + 1;
                }
                None => {
                    out.push_str("a string");
                    i = chars.len();
                }
            }
            continue;
        }
        if c.is_ascii_hexdigit() && starts_uuid(&chars[i..]) && (i == 0 || !chars[i - 1].is_alphanumeric()) {
            out.push_str("<id>");
            i += 36;
            continue;
        }
        if text[byte_offset(&chars, i)..].starts_with("rekcon-") {
            let len =
                chars[i..].iter().position(|d| d.is_whitespace() || *d == ',').unwrap_or(chars.len() - i);
            out.push_str("<collection>");
            i += len;
            continue;
        }
        if c.is_ascii_digit() && (i == 0 || !chars[i - 1].is_alphanumeric()) {
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            out.push('N');
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

fn byte_offset(chars: &[char], i: usize) -> usize {
    chars[..i].iter().map(|c| c.len_utf8()).sum()
}

/// The class of a quoted string's content.
fn quoted_class(inner: &str) -> String {
    let constant = !inner.is_empty()
        && inner.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && inner.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if constant { format!("\"{inner}\"") } else { "a string".into() }
}

fn starts_uuid(chars: &[char]) -> bool {
    chars.len() >= 36
        && chars[..36].iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Where a cause was first seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Occurrence {
    /// The scenario's name.
    pub scenario: String,
    /// Its file.
    pub file: PathBuf,
    /// The step's line.
    pub line: u64,
    /// The 1-based step.
    pub step: usize,
    /// The operation or target called.
    pub operation: String,
    /// The finding as it was seen there.
    pub mismatch: Mismatch,
}

/// One root cause and its reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    /// What identifies it.
    pub signature: Signature,
    /// The operations it was seen on.
    pub operations: BTreeSet<String>,
    /// The scenarios it was seen in.
    pub scenarios: BTreeSet<String>,
    /// The calls it was seen on.
    pub calls: usize,
    /// Where it was first seen, in report order.
    pub first: Occurrence,
}

impl Cause {
    /// How many of the 16 operations it was seen on, and whether it was also seen on
    /// targets that are none of them.
    pub fn operation_reach(&self) -> (usize, bool) {
        let known =
            self.operations.iter().filter(|op| crate::api::Operation::from_name(op).is_some()).count();
        (known, known < self.operations.len())
    }

    /// One line for humans: what is wrong, without the reach.
    pub fn summary(&self) -> String {
        let m = &self.first.mismatch;
        if let Some(header) = m.path.strip_prefix("(header) ") {
            return if m.actual == "absent" {
                format!("{header} is absent (expected {})", m.expected)
            } else {
                format!("{header} is {} (expected {})", m.actual, m.expected)
            };
        }
        let path = if m.path.is_empty() { "(outcome)" } else { &m.path };
        let on = match self.signature.layer {
            CauseLayer::Protocol => String::new(),
            CauseLayer::Contract => format!("{} ", self.signature.operation),
        };
        format!("{on}{path}: expected {}, got {}", m.expected, m.actual)
    }
}

/// A call's divergences, for grouping: where the call sits and what was found.
#[derive(Debug, Clone, Copy)]
pub struct Seen<'a> {
    /// The scenario's name.
    pub scenario: &'a str,
    /// Its file.
    pub file: &'a std::path::Path,
    /// The step's line.
    pub line: u64,
    /// The 1-based step.
    pub step: usize,
    /// The operation or target called.
    pub operation: &'a str,
    /// Everything the checks found at the call.
    pub findings: &'a [Finding],
}

/// Causes grouped from calls, ranked by reach (most scenarios, then most calls).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Causes {
    causes: Vec<Cause>,
    index: BTreeMap<Signature, usize>,
}

impl Causes {
    /// Groups the divergences of `calls`, given in report order.
    pub fn group<'a>(calls: impl IntoIterator<Item = Seen<'a>>) -> Causes {
        let mut causes: Vec<Cause> = Vec::new();
        let mut index: BTreeMap<Signature, usize> = BTreeMap::new();
        for seen in calls {
            // One call counts once per cause, however many list items show it.
            let mut counted = BTreeSet::new();
            for finding in seen.findings {
                let Some(signature) = Signature::of(seen.operation, finding) else { continue };
                let i = *index.entry(signature.clone()).or_insert_with(|| {
                    causes.push(Cause {
                        signature: signature.clone(),
                        operations: BTreeSet::new(),
                        scenarios: BTreeSet::new(),
                        calls: 0,
                        first: Occurrence {
                            scenario: seen.scenario.to_string(),
                            file: seen.file.to_path_buf(),
                            line: seen.line,
                            step: seen.step,
                            operation: seen.operation.to_string(),
                            mismatch: finding.mismatch.clone(),
                        },
                    });
                    causes.len() - 1
                });
                let cause = &mut causes[i];
                cause.operations.insert(seen.operation.to_string());
                cause.scenarios.insert(seen.scenario.to_string());
                if counted.insert(i) {
                    cause.calls += 1;
                }
            }
        }
        let mut order: Vec<usize> = (0..causes.len()).collect();
        order.sort_by(|&a, &b| {
            let (x, y) = (&causes[a], &causes[b]);
            y.scenarios.len().cmp(&x.scenarios.len()).then(y.calls.cmp(&x.calls)).then(a.cmp(&b))
        });
        let mut slots: Vec<Option<Cause>> = causes.into_iter().map(Some).collect();
        let causes: Vec<Cause> = order.into_iter().filter_map(|i| slots[i].take()).collect();
        let index = causes.iter().enumerate().map(|(i, c)| (c.signature.clone(), i)).collect();
        Causes { causes, index }
    }

    /// The causes, most reach first.
    pub fn all(&self) -> &[Cause] {
        &self.causes
    }

    /// The 1-based rank of the cause with this signature (its `#N` in reports).
    pub fn rank(&self, signature: &Signature) -> Option<usize> {
        self.index.get(signature).map(|i| i + 1)
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.causes.is_empty()
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.causes.len()
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn finding(layer: Layer, path: &str, expected: &str, actual: &str) -> Finding {
        Finding::new(layer, Mismatch { path: path.into(), expected: expected.into(), actual: actual.into() })
    }

    #[test]
    fn classes_drop_what_changes_between_runs() {
        assert_eq!(class_of("\"owner\""), "a string");
        assert_eq!(class_of("\"UPDATING\""), "\"UPDATING\"");
        assert_eq!(class_of("\"ASSOCIATED_TO_A_DIFFERENT_USER\""), "\"ASSOCIATED_TO_A_DIFFERENT_USER\"");
        assert_eq!(class_of("50 items"), "N items");
        assert_eq!(class_of("a number in [0, 100]"), "a number in [N, N]");
        assert_eq!(class_of("an item for 0b6c8f0e-3a41-4d7e-9b1a-2f6a0c1d2e3f"), "an item for <id>");
        assert_eq!(
            class_of("the listing to include rekcon-1a2b3c4d-7-c"),
            "the listing to include <collection>"
        );
        assert_eq!(class_of("success {\"UserId\": \"u\"}"), "success");
        assert_eq!(class_of("{\"FaceId\": \"x\"}"), "an object");
        assert_eq!(class_of("absent"), "absent");
        assert_eq!(class_of("ResourceNotFoundException"), "ResourceNotFoundException");
    }

    #[test]
    fn protocol_faults_are_one_cause_across_operations() {
        let ct = finding(
            Layer::Wire,
            "(header) Content-Type",
            "application/x-amz-json-1.1",
            "application/x-amz-json-1.0",
        );
        let a = Signature::of("CreateCollection", &ct);
        let b = Signature::of("ListUsers", &ct);
        assert_eq!(a, b);
        let other =
            finding(Layer::Wire, "(header) Content-Type", "application/x-amz-json-1.1", "application/json");
        assert_ne!(a, Signature::of("ListUsers", &other), "another wrong value is another defect");
        let scenario = finding(Layer::Scenario, "UserStatus", "\"ACTIVE\"", "\"UPDATING\"");
        assert_eq!(
            Signature::of("ListUsers", &scenario),
            None,
            "the scenario layer never blames the endpoint"
        );
    }

    #[test]
    fn contract_causes_keep_their_operation_and_drop_positions_and_ids() {
        let at = |op: &str, i: usize, user: &str| {
            Signature::of(
                op,
                &finding(
                    Layer::Model,
                    &format!("UnsuccessfulFaceAssociations[{i}].UserId"),
                    &format!("\"{user}\""),
                    "absent",
                ),
            )
        };
        assert_eq!(at("AssociateFaces", 0, "owner"), at("AssociateFaces", 3, "alice"));
        assert_ne!(at("AssociateFaces", 0, "owner"), at("DisassociateFaces", 0, "owner"));
        let invalid_action = |target: &str| {
            Signature::of(
                target,
                &finding(Layer::Model, "__type", "UnknownOperationException", "InvalidAction"),
            )
        };
        assert_eq!(
            invalid_action("CreateCollections"),
            invalid_action("ListUserss"),
            "misspelt targets are one cause"
        );
        assert_eq!(invalid_action("ListUserss").map(|s| s.operation), Some(UNKNOWN_TARGET.to_string()));
        let unwanted = |path: &str, expected: &str, actual: &str| {
            Signature::of("AssociateFaces", &finding(Layer::Model, path, expected, actual))
        };
        assert_eq!(
            unwanted("AssociatedFaces", "[]", r#"[{"FaceId":"f"}]"#),
            unwanted("AssociatedFaces[2]", "no such item", r#"{"FaceId":"g"}"#),
            "an item where none may be is one defect, whether the list was to be empty or shorter"
        );
    }

    #[test]
    fn grouping_counts_reach_and_ranks_by_it() {
        let ct = finding(
            Layer::Wire,
            "(header) Content-Type",
            "application/x-amz-json-1.1",
            "application/x-amz-json-1.0",
        );
        let stolen = finding(Layer::Model, "AssociatedFaces[0]", "no such item", "{\"FaceId\": \"f\"}");
        let stolen2 = finding(Layer::Model, "AssociatedFaces[1]", "no such item", "{\"FaceId\": \"g\"}");
        let file = Path::new("scenarios/a.yaml");
        let calls_a = [ct.clone()];
        let calls_b = [ct.clone(), stolen.clone(), stolen2];
        let seen = vec![
            Seen { scenario: "a", file, line: 3, step: 1, operation: "CreateCollection", findings: &calls_a },
            Seen { scenario: "b", file, line: 9, step: 4, operation: "AssociateFaces", findings: &calls_b },
            Seen { scenario: "b", file, line: 3, step: 1, operation: "CreateCollection", findings: &calls_a },
        ];
        let causes = Causes::group(seen);
        assert_eq!(causes.len(), 2);
        let first = &causes.all()[0];
        assert_eq!(first.signature.layer, CauseLayer::Protocol);
        assert_eq!((first.scenarios.len(), first.calls, first.operations.len()), (2, 3, 2));
        assert_eq!(first.first.line, 3);
        assert_eq!(
            first.summary(),
            "Content-Type is application/x-amz-json-1.0 (expected application/x-amz-json-1.1)"
        );
        let second = &causes.all()[1];
        assert_eq!(second.calls, 1, "two items of one call are one call");
        assert_eq!(causes.rank(&second.signature), Some(2));
        assert_eq!(
            second.summary(),
            "AssociateFaces AssociatedFaces[0]: expected no such item, got {\"FaceId\": \"f\"}"
        );
    }

    #[test]
    fn a_reason_in_the_expectation_does_not_make_another_cause() {
        let plain = finding(Layer::Model, "UserStatus", "\"UPDATING\"", "\"ACTIVE\"");
        let noted = finding(Layer::Model, "UserStatus", "\"UPDATING\" (faces were associated)", "\"ACTIVE\"");
        assert_eq!(Signature::of("AssociateFaces", &plain), Signature::of("AssociateFaces", &noted));
        // The actual column keeps its note: a lower-case `message` is not an absent one.
        let absent = finding(Layer::Wire, "Message", "an error message in Message", "absent");
        let lower = finding(
            Layer::Wire,
            "Message",
            "an error message in Message",
            "absent (lower-case message: \"x\")",
        );
        assert_ne!(Signature::of("CreateUser", &absent), Signature::of("CreateUser", &lower));
    }
}

//! Syntactic validation, as the service applies it before looking at any state.
//!
//! Every constraint of the contract's tables (§2, §5) is one row of [`CONSTRAINTS`]:
//! required members, string lengths, patterns (matched in full), numeric ranges, list
//! sizes, map sizes, blob sizes, enum values and groups of members of which exactly one
//! may be given. Validation reads the rows; so do the coverage report
//! (`crate::fuzz::coverage`) and the fuzzer's generator, which breaks them. Which error
//! type a violation surfaces as is unsettled (`unknown:validation-error-type`); the
//! caller allows both.

use crate::api::{Member, Members, Operation, Request};
use std::borrow::Cow;

/// Largest decoded image accepted inline (contract §2, `ImageBlob`).
pub const MAX_IMAGE_BYTES: usize = 5_242_880;

/// One violated constraint: which member, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The member path, e.g. `FaceIds[2]`.
    pub member: String,
    /// What is wrong with it.
    pub problem: String,
}

/// Whether the violation concerns image size rather than syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Length, pattern, range, enum or presence.
    Syntax,
    /// Decoded image bytes beyond [`MAX_IMAGE_BYTES`].
    ImageTooLarge,
}

/// `QualityFilter` (contract §3).
pub const QUALITY_FILTERS: &[&str] = &["NONE", "AUTO", "LOW", "MEDIUM", "HIGH"];
/// `Attribute`, IndexFaces' DetectionAttributes (contract §3).
pub const ATTRIBUTES: &[&str] = &[
    "DEFAULT",
    "ALL",
    "AGE_RANGE",
    "BEARD",
    "EMOTIONS",
    "EYE_DIRECTION",
    "EYEGLASSES",
    "EYES_OPEN",
    "GENDER",
    "MOUTH_OPEN",
    "MUSTACHE",
    "FACE_OCCLUDED",
    "SMILE",
    "SUNGLASSES",
];

/// A pattern of the contract, matched in full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pattern {
    /// `[a-zA-Z0-9_.\-]+`.
    CollectionId,
    /// `[a-zA-Z0-9_.\-:]+` (UserId and ExternalImageId).
    UserId,
    /// A lower-case UUID, `[0-9a-f]{8}-[0-9a-f]{4}-…-[0-9a-f]{12}`.
    FaceId,
    /// `^[a-zA-Z0-9-_]+$`.
    Token,
    /// `[0-9A-Za-z\.\-_]*`.
    S3Bucket,
    /// `[\p{L}\p{Z}\p{N}_.:/=+\-@]*`: letters, separators (not tabs or newlines) and numbers.
    Tag,
}

impl Pattern {
    /// Whether `c` is in the pattern's character classes.
    pub fn allows(self, c: char) -> bool {
        match self {
            Pattern::CollectionId => c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'),
            Pattern::UserId => c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | ':'),
            Pattern::FaceId => c.is_ascii_digit() || ('a'..='f').contains(&c) || c == '-',
            Pattern::Token => c.is_ascii_alphanumeric() || matches!(c, '-' | '_'),
            Pattern::S3Bucket => c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'),
            Pattern::Tag => {
                c.is_alphanumeric()
                    || is_separator(c)
                    || matches!(c, '_' | '.' | ':' | '/' | '=' | '+' | '-' | '@')
            }
        }
    }

    /// Whether `s` matches the pattern in full.
    pub fn matches(self, s: &str) -> bool {
        match self {
            Pattern::FaceId => crate::expect::is_lower_uuid(s),
            _ => s.chars().all(|c| self.allows(c)),
        }
    }

    /// Whether a letter of the other case is outside the pattern (FaceIds are lower-case hex).
    pub fn case_matters(self) -> bool {
        self == Pattern::FaceId
    }

    /// A string of `len` characters the pattern matches (the shape of a valid value).
    pub fn sample(self, len: usize) -> String {
        match self {
            Pattern::FaceId => "0badface-0000-4000-8000-000000000000".to_string(),
            _ => "x".repeat(len),
        }
    }
}

/// Unicode general category Z (Zs, Zl, Zp).
fn is_separator(c: char) -> bool {
    matches!(
        c,
        ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}' | '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}'
    )
}

/// What a constraint demands of a member.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rule {
    /// The member must be present.
    Required,
    /// A string of `min..=max` characters.
    Length {
        /// Fewest characters.
        min: usize,
        /// Most characters.
        max: usize,
    },
    /// A string matching the pattern in full.
    Pattern(Pattern),
    /// A string that does not start with this prefix (TagKey's `(?!aws:)`).
    NotPrefix(&'static str),
    /// A number in `min..=max` (`max` infinite: no upper bound).
    Range {
        /// Lowest value.
        min: f64,
        /// Highest value.
        max: f64,
        /// Whether the member is an integer (else a float).
        integer: bool,
    },
    /// A list of `min..=max` items.
    Items {
        /// Fewest items.
        min: usize,
        /// Most items.
        max: usize,
    },
    /// A map of at most `max` entries.
    Entries {
        /// Most entries.
        max: usize,
    },
    /// A blob of `min..=max` decoded bytes.
    Bytes {
        /// Fewest bytes.
        min: usize,
        /// Most bytes.
        max: usize,
    },
    /// One of these strings, exactly (case matters).
    Enum(&'static [&'static str]),
    /// Exactly one of these members of the structure is given.
    ExactlyOne(&'static [&'static str]),
}

/// Who judges a constraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Validation, before any state is looked at ([`violations`]).
    Syntax,
    /// The operation's rules, after the collection is found (SearchUsers' FaceId/UserId).
    Rules,
}

/// One row of the constraint table: a rule of one member in some operations.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Constraint {
    /// The operations whose input has the member.
    pub ops: &'static [Operation],
    /// The member path: `Image.S3Object.Bucket`; `FaceIds[]` each item of a list;
    /// `Tags{key}` and `Tags{value}` each key and value of a map; `` the request itself.
    pub member: &'static str,
    /// What it demands.
    pub rule: Rule,
    /// Who judges it.
    pub stage: Stage,
}

impl Constraint {
    /// A stable name for reports: `CreateUser UserId length 1..=128`.
    pub fn name(&self, op: Operation) -> String {
        let member = if self.member.is_empty() { "request" } else { self.member };
        let rule = match self.rule {
            Rule::Required => "required".to_string(),
            Rule::Length { min, max } => format!("length {min}..={max}"),
            Rule::Pattern(p) => format!("pattern {p:?}"),
            Rule::NotPrefix(p) => format!("not prefixed {p}"),
            Rule::Range { min, max, .. } if max.is_infinite() => format!("range {min}.."),
            Rule::Range { min, max, .. } => format!("range {min}..={max}"),
            Rule::Items { min, max } => format!("items {min}..={max}"),
            Rule::Entries { max } => format!("entries ..={max}"),
            Rule::Bytes { min, max } => format!("bytes {min}..={max}"),
            Rule::Enum(_) => "enum".to_string(),
            Rule::ExactlyOne(members) => format!("exactly one of {}", members.join("/")),
        };
        format!("{op} {member} {rule}")
    }
}

use Operation as O;

/// Every operation but ListCollections: those whose input names a collection.
const IN_COLLECTION: &[Operation] = &[
    O::CreateCollection,
    O::DeleteCollection,
    O::DescribeCollection,
    O::IndexFaces,
    O::ListFaces,
    O::DeleteFaces,
    O::SearchFaces,
    O::SearchFacesByImage,
    O::CreateUser,
    O::DeleteUser,
    O::ListUsers,
    O::AssociateFaces,
    O::DisassociateFaces,
    O::SearchUsers,
    O::SearchUsersByImage,
];
const WITH_IMAGE: &[Operation] = &[O::IndexFaces, O::SearchFacesByImage, O::SearchUsersByImage];
const USER_REQUIRED: &[Operation] = &[O::CreateUser, O::DeleteUser, O::AssociateFaces, O::DisassociateFaces];
const WITH_USER_ID: &[Operation] =
    &[O::CreateUser, O::DeleteUser, O::AssociateFaces, O::DisassociateFaces, O::ListFaces, O::SearchUsers];
const WITH_TOKEN: &[Operation] = USER_REQUIRED;
const ASSOCIATIONS: &[Operation] = &[O::AssociateFaces, O::DisassociateFaces];
const WITH_FACE_IDS: &[Operation] = &[O::ListFaces, O::DeleteFaces, O::AssociateFaces, O::DisassociateFaces];
const PAGED: &[Operation] = &[O::ListCollections, O::ListFaces, O::ListUsers];
const WITH_QUALITY: &[Operation] = WITH_IMAGE;

const fn syntax(ops: &'static [Operation], member: &'static str, rule: Rule) -> Constraint {
    Constraint { ops, member, rule, stage: Stage::Syntax }
}

/// The contract's input constraints (§2, §3, §5), one row per member and rule.
pub const CONSTRAINTS: &[Constraint] = &[
    syntax(IN_COLLECTION, "CollectionId", Rule::Required),
    syntax(IN_COLLECTION, "CollectionId", Rule::Length { min: 1, max: 255 }),
    syntax(IN_COLLECTION, "CollectionId", Rule::Pattern(Pattern::CollectionId)),
    syntax(&[O::CreateCollection], "Tags", Rule::Entries { max: 200 }),
    syntax(&[O::CreateCollection], "Tags{key}", Rule::Length { min: 1, max: 128 }),
    syntax(&[O::CreateCollection], "Tags{key}", Rule::Pattern(Pattern::Tag)),
    syntax(&[O::CreateCollection], "Tags{key}", Rule::NotPrefix("aws:")),
    syntax(&[O::CreateCollection], "Tags{value}", Rule::Length { min: 0, max: 256 }),
    syntax(&[O::CreateCollection], "Tags{value}", Rule::Pattern(Pattern::Tag)),
    syntax(PAGED, "NextToken", Rule::Length { min: 0, max: 255 }),
    syntax(
        &[O::ListCollections, O::ListFaces],
        "MaxResults",
        Rule::Range { min: 0.0, max: 4096.0, integer: true },
    ),
    syntax(&[O::ListUsers], "MaxResults", Rule::Range { min: 1.0, max: 500.0, integer: true }),
    syntax(WITH_IMAGE, "Image", Rule::Required),
    syntax(WITH_IMAGE, "Image", Rule::ExactlyOne(&["Bytes", "S3Object"])),
    syntax(WITH_IMAGE, "Image.Bytes", Rule::Bytes { min: 1, max: MAX_IMAGE_BYTES }),
    syntax(WITH_IMAGE, "Image.S3Object.Bucket", Rule::Required),
    syntax(WITH_IMAGE, "Image.S3Object.Bucket", Rule::Length { min: 3, max: 255 }),
    syntax(WITH_IMAGE, "Image.S3Object.Bucket", Rule::Pattern(Pattern::S3Bucket)),
    syntax(WITH_IMAGE, "Image.S3Object.Name", Rule::Required),
    syntax(WITH_IMAGE, "Image.S3Object.Name", Rule::Length { min: 1, max: 1024 }),
    syntax(WITH_IMAGE, "Image.S3Object.Version", Rule::Length { min: 1, max: 1024 }),
    syntax(&[O::IndexFaces], "ExternalImageId", Rule::Length { min: 1, max: 255 }),
    syntax(&[O::IndexFaces], "ExternalImageId", Rule::Pattern(Pattern::UserId)),
    syntax(&[O::IndexFaces], "DetectionAttributes[]", Rule::Enum(ATTRIBUTES)),
    syntax(&[O::IndexFaces], "MaxFaces", Rule::Range { min: 1.0, max: f64::INFINITY, integer: true }),
    syntax(
        &[O::SearchFaces, O::SearchFacesByImage],
        "MaxFaces",
        Rule::Range { min: 1.0, max: 4096.0, integer: true },
    ),
    syntax(WITH_QUALITY, "QualityFilter", Rule::Enum(QUALITY_FILTERS)),
    syntax(USER_REQUIRED, "UserId", Rule::Required),
    syntax(WITH_USER_ID, "UserId", Rule::Length { min: 1, max: 128 }),
    syntax(WITH_USER_ID, "UserId", Rule::Pattern(Pattern::UserId)),
    syntax(&[O::DeleteFaces, O::AssociateFaces, O::DisassociateFaces], "FaceIds", Rule::Required),
    syntax(&[O::ListFaces, O::DeleteFaces], "FaceIds", Rule::Items { min: 1, max: 4096 }),
    syntax(ASSOCIATIONS, "FaceIds", Rule::Items { min: 1, max: 100 }),
    syntax(WITH_FACE_IDS, "FaceIds[]", Rule::Pattern(Pattern::FaceId)),
    syntax(&[O::SearchFaces], "FaceId", Rule::Required),
    syntax(&[O::SearchFaces, O::SearchUsers], "FaceId", Rule::Pattern(Pattern::FaceId)),
    syntax(
        &[O::SearchFaces, O::SearchFacesByImage],
        "FaceMatchThreshold",
        Rule::Range { min: 0.0, max: 100.0, integer: false },
    ),
    syntax(
        &[O::AssociateFaces, O::SearchUsers, O::SearchUsersByImage],
        "UserMatchThreshold",
        Rule::Range { min: 0.0, max: 100.0, integer: false },
    ),
    syntax(
        &[O::SearchUsers, O::SearchUsersByImage],
        "MaxUsers",
        Rule::Range { min: 1.0, max: 500.0, integer: true },
    ),
    syntax(WITH_TOKEN, "ClientRequestToken", Rule::Length { min: 1, max: 64 }),
    syntax(WITH_TOKEN, "ClientRequestToken", Rule::Pattern(Pattern::Token)),
    Constraint {
        ops: &[O::SearchUsers],
        member: "",
        rule: Rule::ExactlyOne(&["FaceId", "UserId"]),
        stage: Stage::Rules,
    },
];

/// The rows of [`CONSTRAINTS`] that apply to `op`, in table order.
pub fn constraints_of(op: Operation) -> impl Iterator<Item = &'static Constraint> {
    CONSTRAINTS.iter().filter(move |c| c.ops.contains(&op))
}

/// A JSON request body read as members (for coverage, which sees what was sent).
impl Members for serde_json::Map<String, serde_json::Value> {
    fn member(&self, name: &str) -> Option<Member<'_>> {
        self.get(name).and_then(json_member)
    }

    fn entries(&self) -> Vec<(&str, Member<'_>)> {
        self.iter().filter_map(|(k, v)| Some((k.as_str(), json_member(v)?))).collect()
    }
}

/// A JSON value as a [`Member`]; `null` is absent. A string stands for a blob too
/// (its base64 text: see [`blob_len`]).
pub fn json_member(value: &serde_json::Value) -> Option<Member<'_>> {
    use serde_json::Value as V;
    Some(match value {
        V::Null => return None,
        V::Bool(b) => Member::Bool(*b),
        V::Number(n) => match n.as_i64() {
            Some(i) => Member::Int(i),
            None => Member::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        V::String(s) => Member::Str(s),
        V::Array(items) => Member::List(items.iter().filter_map(json_member).collect()),
        V::Object(map) => Member::Struct(map),
    })
}

/// The decoded length of a blob member: a typed blob's, or a base64 text's.
pub fn blob_len(value: &Member<'_>) -> Option<usize> {
    match value {
        Member::Bytes(n) => Some(*n),
        Member::Str(text) => {
            let padding = text.bytes().rev().take_while(|b| *b == b'=').count().min(2);
            Some((text.len() / 4 * 3).saturating_sub(padding))
        }
        _ => None,
    }
}

/// A numeric member's value.
fn number(value: &Member<'_>) -> Option<f64> {
    match value {
        Member::Int(i) => Some(*i as f64),
        Member::Float(f) => Some(*f),
        _ => None,
    }
}

/// The values at `path` (see [`Constraint::member`]) under `root`, each with its concrete
/// path (`FaceIds[2]`, `Tags.team`). The parents of a required member, for [`Rule::Required`],
/// are found with [`parents`].
///
/// A top-level member's path is borrowed from `path`: requests are validated several
/// times a call (the model, the fuzzer's coverage), and most values are top-level.
pub fn values_at<'a>(root: &'a dyn Members, path: &'a str) -> Vec<(Cow<'a, str>, Member<'a>)> {
    if path.is_empty() {
        return vec![(Cow::Borrowed(""), Member::Struct(root))];
    }
    let mut current: Vec<(Cow<'a, str>, Member<'a>)> = vec![(Cow::Borrowed(""), Member::Struct(root))];
    for segment in path.split('.') {
        let (name, each) = match segment.find(['[', '{']) {
            Some(i) => (&segment[..i], &segment[i..]),
            None => (segment, ""),
        };
        let mut next = Vec::new();
        for (at, value) in current {
            let Member::Struct(s) = value else { continue };
            let Some(child) = s.member(name) else { continue };
            let at: Cow<'a, str> =
                if at.is_empty() { Cow::Borrowed(name) } else { format!("{at}.{name}").into() };
            let entries = |child: Member<'a>| match child {
                Member::Map(entries) => entries,
                Member::Struct(map) => map.entries(),
                _ => Vec::new(),
            };
            match (each, child) {
                ("", child) => next.push((at, child)),
                ("[]", Member::List(items)) => {
                    next.extend(
                        items.into_iter().enumerate().map(|(i, item)| (format!("{at}[{i}]").into(), item)),
                    );
                }
                ("{key}", child) => {
                    next.extend(
                        entries(child).into_iter().map(|(k, _)| (format!("{at}.{k}").into(), Member::Str(k))),
                    );
                }
                ("{value}", child) => {
                    next.extend(entries(child).into_iter().map(|(k, v)| (format!("{at}.{k}").into(), v)));
                }
                _ => {}
            }
        }
        current = next;
    }
    current
}

/// The structures that should hold `path`'s last member (the request itself for a
/// top-level member), with the member's name.
pub fn parents<'a>(root: &'a dyn Members, path: &'a str) -> (Vec<(Cow<'a, str>, Member<'a>)>, &'a str) {
    match path.rsplit_once('.') {
        Some((parent, name)) => (values_at(root, parent), name),
        None => (vec![(Cow::Borrowed(""), Member::Struct(root))], path),
    }
}

/// Whether a structure value has member `name`.
pub fn has(value: &Member<'_>, name: &str) -> bool {
    matches!(value, Member::Struct(s) if s.member(name).is_some())
}

/// Every way `request` (read as members) breaks `constraint`, as (member path, problem).
pub fn breaches(constraint: &Constraint, request: &dyn Members) -> Vec<(Kind, Violation)> {
    let values =
        if constraint.rule == Rule::Required { Vec::new() } else { values_at(request, constraint.member) };
    breaches_among(constraint, request, &values)
}

/// [`breaches`], given the values at the constraint's member ([`values_at`]; unread
/// for [`Rule::Required`]), for a caller that reads them too.
pub fn breaches_among(
    constraint: &Constraint,
    request: &dyn Members,
    values: &[(Cow<'_, str>, Member<'_>)],
) -> Vec<(Kind, Violation)> {
    let mut out = Vec::new();
    let mut fail = |kind: Kind, member: &str, problem: String| {
        out.push((kind, Violation { member: member.to_string(), problem }));
    };
    if let Rule::Required = constraint.rule {
        let (parents, name) = parents(request, constraint.member);
        for (at, parent) in parents {
            if !has(&parent, name) {
                let member = if at.is_empty() { name.to_string() } else { format!("{at}.{name}") };
                fail(Kind::Syntax, &member, "is required".into());
            }
        }
        return out;
    }
    for (at, value) in values {
        let entries = match value {
            Member::Map(entries) => entries.len(),
            Member::Struct(map) => map.entries().len(),
            _ => 0,
        };
        let problem = match (constraint.rule, value) {
            (Rule::Length { min, max }, Member::Str(s)) => {
                let len = s.chars().count();
                (len < min || len > max).then(|| format!("length {len} is outside {min}..={max}"))
            }
            (Rule::Pattern(p), Member::Str(s)) if !p.matches(s) => {
                Some(format!("{s:?} does not match the pattern"))
            }
            (Rule::NotPrefix(prefix), Member::Str(s)) if s.starts_with(prefix) => {
                Some(format!("starts with {prefix}"))
            }
            (Rule::Range { min, max, .. }, v) => number(v)
                .filter(|x| !(min..=max).contains(x))
                .map(|x| format!("{x} is outside {min}..={max}")),
            (Rule::Items { min, max }, Member::List(items)) if items.len() < min || items.len() > max => {
                Some(format!("{} items is outside {min}..={max}", items.len()))
            }
            (Rule::Entries { max }, Member::Map(_) | Member::Struct(_)) if entries > max => {
                Some(format!("{entries} entries exceed {max}"))
            }
            (Rule::Bytes { min, max }, v) => match blob_len(v) {
                Some(n) if n > max => {
                    fail(Kind::ImageTooLarge, at, format!("{n} bytes exceed {max}"));
                    None
                }
                Some(n) if n < min => Some(format!("{n} bytes, fewer than {min}")),
                _ => None,
            },
            (Rule::Enum(values), Member::Str(s)) if !values.contains(s) => {
                Some(format!("{s:?} is not one of {}", values.join(", ")))
            }
            (Rule::ExactlyOne(members), v) => {
                let given = members.iter().filter(|m| has(v, m)).count();
                (given != 1).then(|| format!("has {given} of {}, not exactly one", members.join(", ")))
            }
            _ => None,
        };
        if let Some(problem) = problem {
            fail(Kind::Syntax, at, problem);
        }
    }
    out
}

/// Every constraint `request` violates, with the kind of each.
pub fn violations(request: &Request) -> Vec<(Kind, Violation)> {
    let members = request.members();
    constraints_of(request.operation())
        .filter(|c| c.stage == Stage::Syntax)
        .flat_map(|c| breaches(c, members))
        .collect()
}

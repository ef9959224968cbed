//! Allowed outcomes: patterns over awsJson1.1 response bodies.
//!
//! The reference model answers every call with an [`Allowed`]: the error codes the
//! contract permits and a [`Pat`] that any permitted success body matches. The same
//! value serves both directions:
//!
//! - the harness *judges* the body an endpoint actually sent ([`Allowed::judge`]),
//!   getting exact field paths such as `UnsuccessfulFaceAssociations[0].Reasons[0]`;
//! - the built-in emulator *realises* one permitted body ([`Allowed::realize`]).
//!
//! Because both sides read one description, the emulator cannot drift from what the
//! checker accepts. This module knows nothing of Rekognition beyond string rules; the
//! model builds the patterns.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::Arc;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::api::{ApiError, ErrorCode};
use crate::unknown::Unknown;

mod moved;

/// What an endpoint answered to one call, as far as the contract is concerned.
///
/// In reports: `{"outcome": "success", "body": {...}}` or `{"outcome": "error", "code":
/// "...", "message": "..."}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", content = "body", rename_all = "snake_case")]
pub enum Observed {
    /// HTTP 2xx with this JSON body (`{}` for an empty body).
    Success(Value),
    /// An AWS-shaped error.
    Error(ApiError),
}

/// One difference between what the contract allows and what was observed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    /// Where in the response, e.g. `UnsuccessfulFaceAssociations[0].Reasons[0]`; empty for the whole outcome.
    pub path: String,
    /// What the contract allows there.
    pub expected: String,
    /// What was there.
    pub actual: String,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = if self.path.is_empty() { "(outcome)" } else { &self.path };
        write!(f, "{path}: expected {}, got {}", self.expected, self.actual)
    }
}

/// What kind of decision a [`Pat::OneOf`] stands for, so the emulator can decide it well.
///
/// Within one realisation, equal choices are decided once: a near-threshold face
/// decided as "matched" in one list is decided so in every list it may appear in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Choice {
    /// A user's status while an update may still be settling.
    UserStatus {
        /// The collection holding the user.
        collection: String,
        /// The user.
        user: String,
    },
    /// A similarity near a threshold for the item with this key: matched (0) or not (1).
    Near(String),
    /// A free choice among equally valid forms (the emulator takes the first).
    Free,
    /// An allowance for an unsettled fact of the contract.
    Unknown(Unknown),
}

/// How a string member is constrained.
#[derive(Debug, Clone, PartialEq)]
pub enum StrRule {
    /// Any string up to `max_len` characters (unbounded when `None`).
    Any {
        /// Longest allowed length, in characters.
        max_len: Option<usize>,
    },
    /// A lower-case UUID, the FaceId/ImageId pattern.
    Uuid,
    /// A face model version such as `6.0` or `6` (`[0-9.]+`).
    ModelVersion,
    /// The same, as user searches spell it: the major version alone (`6`, contract §9.4
    /// [real]); any version is accepted, `7` is what the emulator answers.
    UserSearchModelVersion,
    /// A collection ARN; `with_arn_prefix` false is CreateCollection's `aws:rekognition:…` form.
    CollectionArn {
        /// Whether the value starts with `arn:`.
        with_arn_prefix: bool,
        /// The collection id the ARN ends with.
        collection: String,
        /// The region, when the model knows it.
        region: Option<String>,
        /// The account, when the model knows it.
        account: Option<String>,
    },
}

/// A pattern over one JSON value (or its absence).
#[derive(Debug, Clone, PartialEq)]
pub enum Pat {
    /// Anything, including absence.
    Any,
    /// The member must be absent (never `null`: null is a wire fault checked elsewhere).
    Absent,
    /// Exactly this value (numbers compare numerically).
    Eq(Value),
    /// A string obeying a rule.
    Str(StrRule),
    /// A number in `[min, max]`; `sample` is what the emulator sends unless it chooses.
    Num {
        /// Lowest allowed value.
        min: f64,
        /// Highest allowed value.
        max: f64,
        /// A representative value inside the range.
        sample: f64,
    },
    /// Absent, or matching the inner pattern.
    Opt(Box<Pat>),
    /// An object. Listed members are checked; unlisted members are a mismatch when `closed`.
    Obj {
        /// Member name and pattern, in wire order.
        members: Vec<(&'static str, Pat)>,
        /// Whether members not listed are forbidden.
        closed: bool,
    },
    /// An array with exactly these items in this order.
    List(Vec<Pat>),
    /// An array compared as a set or subset of keyed items (see [`Keyed`]).
    Keyed(Box<Keyed>),
    /// An array of at most `max_len` items, each matching `item`: how many there are is
    /// the endpoint's to say (its own face detection, `--faces endpoint`).
    Each {
        /// The pattern every item matches.
        item: Box<Pat>,
        /// Most items allowed.
        max_len: usize,
        /// How many items the emulator sends.
        sample_len: usize,
    },
    /// The members of a List* response page (see [`Page`]).
    Page(Box<Page>),
    /// Any one of the options.
    OneOf {
        /// The permitted alternatives; the first is what the emulator prefers.
        options: Vec<Pat>,
        /// What the decision is about.
        choice: Choice,
    },
    /// Match the inner pattern and remember the value under `name`; once a value is
    /// bound, the same value again (so every item of a [`Pat::Each`] can share one).
    Bind(&'static str, Box<Pat>),
    /// The same value bound earlier under this name.
    Same(&'static str),
    /// A new lower-case UUID: not an id the model already knows, and not repeated in this response.
    Fresh,
}

/// An array of items identified by a key member, compared as a set.
#[derive(Debug, Clone, PartialEq)]
pub struct Keyed {
    /// Path from an item to its key, e.g. `["User", "UserId"]`; empty when items are strings.
    pub key_path: Vec<&'static str>,
    /// Items the contract permits, by key, each required or optional.
    pub items: Vec<KeyedItem>,
    /// Most items allowed; when reached, missing required items are forgiven (truncation).
    pub max_len: Option<usize>,
    /// Member that must be non-increasing along the array, e.g. `Similarity`.
    pub sorted_desc_by: Option<&'static str>,
}

/// One permitted item of a [`Keyed`] array.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyedItem {
    /// The item's key.
    pub key: String,
    /// The item's pattern.
    pub pat: Pat,
    /// Whether the item must appear (unless truncated by `max_len`).
    pub required: bool,
    /// When optional: the emulator includes the item when its pick for this choice is this index.
    pub choice: Option<(Choice, usize)>,
}

/// One page of a List* operation. It constrains the item array, the parallel array of
/// ListCollections, the other members and `NextToken` together, because completeness
/// depends on whether a `NextToken` was sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The member holding the items: `CollectionIds`, `Faces` or `Users`.
    pub items_member: &'static str,
    /// Path from an item to its key; empty when items are strings.
    pub key_path: Vec<&'static str>,
    /// Items that may appear on this page, in the emulator's listing order.
    pub candidates: Vec<(String, Pat)>,
    /// Keys returned by earlier pages of this listing: never again.
    pub exclude: BTreeSet<String>,
    /// Keys that must not appear at all (deleted things). Shared with the model, which
    /// holds every collection it saw deleted: a page is allowed many times a second
    /// and must not copy them each time.
    pub forbidden: Arc<BTreeSet<String>>,
    /// Whether keys the model does not know may appear (ListCollections on a shared endpoint).
    pub allow_foreign: bool,
    /// Page size limit from MaxResults.
    pub max_len: Option<usize>,
    /// Page size the emulator uses without MaxResults.
    pub default_len: usize,
    /// Whether the last page (no NextToken) must complete the listing.
    pub require_complete: bool,
    /// A member parallel to the items (ListCollections' `FaceModelVersions`) and its pattern per key.
    pub parallel: Option<(&'static str, BTreeMap<String, Pat>)>,
    /// Longest NextToken allowed (ListFaces' is unbounded).
    pub token_max_len: Option<usize>,
    /// Other members of the response.
    pub members: Vec<(&'static str, Pat)>,
}

/// What the contract allows one call to return.
#[derive(Debug, Clone, PartialEq)]
pub struct Allowed {
    /// Pattern of every permitted success body, or `None` when the call must fail.
    pub success: Option<Pat>,
    /// Error codes the contract permits.
    pub errors: Vec<ErrorCode>,
    /// What the reference emulator answers: the success, or the first error.
    pub prefer_error: bool,
    /// Unsettled facts this allowance leans on (besides those inside `success`).
    pub unknowns: BTreeSet<Unknown>,
    /// Whether the allowance was widened because the model does not know who the faces
    /// show or how many an image holds (`--faces endpoint`): a scenario's written
    /// expectation about this call may then depend on what the model cannot know.
    pub identity_blind: bool,
    /// The settlements that narrowed this allowance, one line each (see [`crate::settle`]).
    pub settled: Vec<String>,
}

impl Allowed {
    /// Only this success pattern is permitted.
    pub fn success(pat: Pat) -> Allowed {
        Allowed {
            success: Some(pat),
            errors: Vec::new(),
            prefer_error: false,
            unknowns: BTreeSet::new(),
            identity_blind: false,
            settled: Vec::new(),
        }
    }

    /// Only this error is permitted.
    pub fn error(code: ErrorCode) -> Allowed {
        Allowed {
            success: None,
            errors: vec![code],
            prefer_error: true,
            unknowns: BTreeSet::new(),
            identity_blind: false,
            settled: Vec::new(),
        }
    }

    /// One of these errors is permitted; the first is what the emulator sends.
    pub fn errors(codes: Vec<ErrorCode>, unknown: Option<Unknown>) -> Allowed {
        Allowed {
            success: None,
            errors: codes,
            prefer_error: true,
            unknowns: unknown.into_iter().collect(),
            identity_blind: false,
            settled: Vec::new(),
        }
    }

    /// Also permit `code`, marking the allowance with `unknown`.
    pub fn or_error(mut self, code: ErrorCode, unknown: Unknown) -> Allowed {
        if !self.errors.contains(&code) {
            self.errors.push(code);
        }
        self.unknowns.insert(unknown);
        self
    }

    /// Whether this allowance depends on who the faces show (or how many an image
    /// holds), which the model does not know with `--faces endpoint`: it then allows
    /// every identity-dependent outcome, so an expectation written for the fixtures'
    /// people cannot be judged against it.
    pub fn needs_identity(&self) -> bool {
        self.identity_blind
    }

    /// Marks the allowance as widened for unknown identity (see [`Allowed::needs_identity`]).
    pub fn blind(mut self, blind: bool) -> Allowed {
        self.identity_blind |= blind;
        self
    }

    /// Every unsettled fact this allowance leans on, including those inside patterns.
    pub fn touched_unknowns(&self) -> BTreeSet<Unknown> {
        let mut out = self.unknowns.clone();
        if let Some(pat) = &self.success {
            collect_unknowns(pat, &mut out);
        }
        out
    }

    /// Judges an observed outcome. `known_id` tells which ids already exist, for [`Pat::Fresh`].
    pub fn judge(&self, actual: &Observed, known_id: &dyn Fn(&str) -> bool) -> Result<(), Vec<Mismatch>> {
        match actual {
            Observed::Error(err) => {
                if self.errors.contains(&err.code) {
                    Ok(())
                } else {
                    Err(vec![Mismatch {
                        path: "__type".into(),
                        expected: self.describe(),
                        actual: err.code.to_string(),
                    }])
                }
            }
            Observed::Success(body) => match &self.success {
                None => Err(vec![Mismatch {
                    path: String::new(),
                    expected: self.describe(),
                    actual: format!("success {}", render(body)),
                }]),
                Some(pat) => {
                    let mut judge = Judge::new(known_id);
                    let mismatches = judge.value(pat, Some(body), &Path::Root);
                    if mismatches.is_empty() { Ok(()) } else { Err(moved::merge_moved(mismatches, body)) }
                }
            },
        }
    }

    /// The paths in `actual` (a success body this allowance accepts) of the user statuses
    /// the model allowed more than one of: what an endpoint shows there depends on when
    /// it was asked (a user settling after a change), not on whether it conforms.
    pub fn settling_paths(&self, actual: &Observed, known_id: &dyn Fn(&str) -> bool) -> Vec<String> {
        let (Some(pat), Observed::Success(body)) = (&self.success, actual) else { return Vec::new() };
        let mut judge = Judge::new(known_id);
        judge.settling = Some(Vec::new());
        if judge.value(pat, Some(body), &Path::Root).is_empty() {
            judge.settling.unwrap_or_default()
        } else {
            Vec::new()
        }
    }

    /// Realises the outcome the reference emulator gives.
    pub fn realize(&self, chooser: &mut dyn Chooser) -> Observed {
        match (&self.success, self.errors.first()) {
            (Some(pat), first_error) if !(self.prefer_error && first_error.is_some()) => {
                let mut realizing = Realizing { chooser, binds: BTreeMap::new(), picks: BTreeMap::new() };
                Observed::Success(realizing.value(pat).unwrap_or_else(|| Value::Object(Map::new())))
            }
            (_, Some(code)) => Observed::Error(ApiError { code: code.clone(), message: None }),
            (_, None) => Observed::Error(ApiError { code: ErrorCode::InternalServerError, message: None }),
        }
    }

    /// A short description of the whole allowance, for "expected" columns.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if self.success.is_some() {
            parts.push("success".to_string());
        }
        parts.extend(self.errors.iter().map(ErrorCode::to_string));
        let mut out = if parts.is_empty() { "nothing".into() } else { parts.join(" or ") };
        if !self.settled.is_empty() {
            let _ = write!(out, " ({})", self.settled.join("; "));
        }
        out
    }
}

/// Decisions the emulator makes while realising a pattern.
pub trait Chooser {
    /// Picks one of `options` alternatives for `choice` (0 is the model's preference).
    fn pick(&mut self, choice: &Choice, options: usize) -> usize;
    /// Picks a number in `[min, max]`; `sample` is the model's suggestion.
    fn number(&mut self, min: f64, max: f64, sample: f64) -> f64;
    /// A new lower-case UUID.
    fn fresh_id(&mut self) -> String;
    /// A new opaque pagination token.
    fn page_token(&mut self) -> String;
}

/// One realisation in progress: the chooser, bound values and decisions already made.
struct Realizing<'a> {
    chooser: &'a mut dyn Chooser,
    binds: BTreeMap<&'static str, Value>,
    picks: BTreeMap<Choice, usize>,
}

impl Realizing<'_> {
    fn pick(&mut self, choice: &Choice, options: usize) -> usize {
        if let Some(index) = self.picks.get(choice) {
            return *index;
        }
        let index = self.chooser.pick(choice, options).min(options.saturating_sub(1));
        self.picks.insert(choice.clone(), index);
        index
    }

    /// Realises `pat`; `None` means the member is absent.
    fn value(&mut self, pat: &Pat) -> Option<Value> {
        match pat {
            Pat::Any | Pat::Absent => None,
            Pat::Eq(v) => Some(v.clone()),
            Pat::Str(rule) => Some(Value::String(sample_string(rule))),
            Pat::Num { min, max, sample } => Some(number(self.chooser.number(*min, *max, *sample))),
            Pat::Opt(inner) => self.value(inner),
            Pat::Obj { members, .. } => {
                let mut map = Map::with_capacity(members.len());
                for (name, member) in members {
                    if let Some(v) = self.value(member) {
                        map.insert((*name).to_string(), v);
                    }
                }
                Some(Value::Object(map))
            }
            Pat::List(items) => Some(Value::Array(items.iter().filter_map(|p| self.value(p)).collect())),
            Pat::Keyed(keyed) => Some(self.keyed(keyed)),
            Pat::Each { item, max_len, sample_len } => {
                Some(Value::Array((0..*sample_len.min(max_len)).filter_map(|_| self.value(item)).collect()))
            }
            Pat::Page(page) => Some(self.page(page)),
            Pat::OneOf { options, choice } => {
                let index = if options.len() > 1 { self.pick(choice, options.len()) } else { 0 };
                options.get(index).and_then(|p| self.value(p))
            }
            Pat::Bind(name, _) if self.binds.contains_key(name) => self.binds.get(name).cloned(),
            Pat::Bind(name, inner) => {
                let v = self.value(inner);
                if let Some(v) = &v {
                    self.binds.insert(name, v.clone());
                }
                v
            }
            Pat::Same(name) => self.binds.get(name).cloned(),
            Pat::Fresh => Some(Value::String(self.chooser.fresh_id())),
        }
    }

    fn keyed(&mut self, keyed: &Keyed) -> Value {
        let mut items: Vec<Value> = Vec::new();
        for item in &keyed.items {
            let include = match &item.choice {
                _ if item.required => true,
                Some((choice, index)) => self.pick(choice, 2) == *index,
                None => false,
            };
            if include && let Some(v) = self.value(&item.pat) {
                items.push(v);
            }
        }
        if let Some(field) = keyed.sorted_desc_by {
            items.sort_by(|a, b| {
                let x = a.get(field).and_then(Value::as_f64).unwrap_or(0.0);
                let y = b.get(field).and_then(Value::as_f64).unwrap_or(0.0);
                y.total_cmp(&x)
            });
        }
        if let Some(max) = keyed.max_len {
            items.truncate(max);
        }
        Value::Array(items)
    }

    fn page(&mut self, page: &Page) -> Value {
        let remaining: Vec<&(String, Pat)> =
            page.candidates.iter().filter(|(k, _)| !page.exclude.contains(k)).collect();
        let size = page.max_len.unwrap_or(page.default_len);
        let taken: Vec<&(String, Pat)> = remaining.iter().take(size).copied().collect();
        let mut map = Map::new();
        let items: Vec<Value> = taken.iter().filter_map(|(_, p)| self.value(p)).collect();
        map.insert(page.items_member.to_string(), Value::Array(items));
        if let Some((member, pats)) = &page.parallel {
            let values = taken.iter().filter_map(|(k, _)| pats.get(k).and_then(|p| self.value(p))).collect();
            map.insert((*member).to_string(), Value::Array(values));
        }
        if remaining.len() > taken.len() {
            map.insert("NextToken".into(), Value::String(self.chooser.page_token()));
        }
        for (name, member) in &page.members {
            if let Some(v) = self.value(member) {
                map.insert((*name).to_string(), v);
            }
        }
        Value::Object(map)
    }
}

fn sample_string(rule: &StrRule) -> String {
    match rule {
        StrRule::Any { .. } => String::new(),
        StrRule::Uuid => "00000000-0000-4000-8000-000000000000".into(),
        StrRule::ModelVersion => "7.0".into(),
        StrRule::UserSearchModelVersion => "7".into(),
        StrRule::CollectionArn { with_arn_prefix, collection, region, account } => {
            let prefix = if *with_arn_prefix { "arn:" } else { "" };
            let region = region.as_deref().unwrap_or("us-east-1");
            let account = account.as_deref().unwrap_or("123456789012");
            format!("{prefix}aws:rekognition:{region}:{account}:collection/{collection}")
        }
    }
}

/// A JSON number from an f64, written as an integer when it is one (as AWS does for counts).
pub fn number(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        Value::from(x as i64)
    } else {
        serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
    }
}

/// Whether `s` is a lower-case UUID (the FaceId/ImageId pattern, fully matched).
pub fn is_lower_uuid(s: &str) -> bool {
    let bytes = s.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(b),
        })
}

fn collect_unknowns(pat: &Pat, out: &mut BTreeSet<Unknown>) {
    match pat {
        Pat::OneOf { options, choice } => {
            if let Choice::Unknown(u) = choice {
                out.insert(*u);
            }
            options.iter().for_each(|p| collect_unknowns(p, out));
        }
        Pat::Opt(p) | Pat::Bind(_, p) | Pat::Each { item: p, .. } => collect_unknowns(p, out),
        Pat::Obj { members, .. } => members.iter().for_each(|(_, p)| collect_unknowns(p, out)),
        Pat::List(items) => items.iter().for_each(|p| collect_unknowns(p, out)),
        Pat::Keyed(k) => k.items.iter().for_each(|i| {
            if let Some((Choice::Unknown(u), _)) = &i.choice {
                out.insert(*u);
            }
            collect_unknowns(&i.pat, out)
        }),
        Pat::Page(p) => {
            p.candidates.iter().for_each(|(_, c)| collect_unknowns(c, out));
            p.members.iter().for_each(|(_, c)| collect_unknowns(c, out));
        }
        _ => {}
    }
}

/// A JSON path being walked, rendered like `UnsuccessfulFaceAssociations[0].Reasons[0]`.
///
/// A chain of borrowed segments on the stack, turned into text only when a mismatch is
/// reported: judging a 50-face IndexFaces answer walks hundreds of members, and
/// formatting each path eagerly cost more than the comparisons.
#[derive(Debug, Clone, Copy)]
enum Path<'a> {
    Root,
    Member(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl<'a> Path<'a> {
    fn member(&'a self, name: &'a str) -> Path<'a> {
        Path::Member(self, name)
    }

    fn index(&'a self, i: usize) -> Path<'a> {
        Path::Index(self, i)
    }

    fn render(&self) -> String {
        let mut out = String::new();
        self.write_to(&mut out);
        out
    }

    fn write_to(&self, out: &mut String) {
        match self {
            Path::Root => {}
            Path::Member(parent, name) => {
                parent.write_to(out);
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(name);
            }
            Path::Index(parent, i) => {
                parent.write_to(out);
                let _ = write!(out, "[{i}]");
            }
        }
    }
}

/// Renders a value compactly for a mismatch column, cut at 160 characters.
pub fn render(v: &Value) -> String {
    let mut s = v.to_string();
    if s.len() > 160 {
        let cut = (0..=157).rev().find(|i| s.is_char_boundary(*i)).unwrap_or(0);
        s.truncate(cut);
        s.push('…');
    }
    s
}

fn render_opt(v: Option<&Value>) -> String {
    v.map_or_else(|| "absent".to_string(), render)
}

/// Whether two JSON values are equal, numbers compared by value (200 == 200.0).
pub fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// Describes what a pattern allows, for the "expected" column.
pub fn describe(pat: &Pat) -> String {
    match pat {
        Pat::Any => "anything".into(),
        Pat::Absent => "absent".into(),
        Pat::Eq(v) => render(v),
        Pat::Str(StrRule::Any { max_len: Some(n) }) => format!("a string of at most {n} characters"),
        Pat::Str(StrRule::Any { max_len: None }) => "a string".into(),
        Pat::Str(StrRule::Uuid) => "a lower-case UUID".into(),
        Pat::Str(StrRule::ModelVersion | StrRule::UserSearchModelVersion) => {
            "a face model version ([0-9.]+)".into()
        }
        Pat::Str(rule @ StrRule::CollectionArn { .. }) => format!("an ARN like {:?}", sample_string(rule)),
        Pat::Num { min, max, .. } if min == max => format!("the number {min}"),
        Pat::Num { min, max, .. } => format!("a number in [{min}, {max}]"),
        Pat::Opt(inner) => format!("absent or {}", describe(inner)),
        Pat::Obj { .. } => "an object".into(),
        Pat::List(items) => format!("an array of {} items", items.len()),
        Pat::Keyed(_) => "an array".into(),
        Pat::Each { max_len, item, .. } => {
            format!("an array of at most {max_len} items, each {}", describe(item))
        }
        Pat::Page(_) => "a page".into(),
        Pat::OneOf { options, .. } => options.iter().map(describe).collect::<Vec<_>>().join(" or "),
        Pat::Bind(_, inner) => describe(inner),
        Pat::Same(name) => format!("the same value as {name}"),
        Pat::Fresh => "a new lower-case UUID".into(),
    }
}

struct Judge<'a> {
    known_id: &'a dyn Fn(&str) -> bool,
    binds: BTreeMap<&'static str, Value>,
    /// New ids seen so far in this response, and the order they were seen in (so a
    /// failed [`Pat::OneOf`] option can take back exactly what it recorded).
    fresh: BTreeSet<String>,
    fresh_order: Vec<String>,
    /// When collecting: the paths of user statuses the model allowed more than one of.
    settling: Option<Vec<String>>,
}

impl<'a> Judge<'a> {
    fn new(known_id: &'a dyn Fn(&str) -> bool) -> Judge<'a> {
        Judge {
            known_id,
            binds: BTreeMap::new(),
            fresh: BTreeSet::new(),
            fresh_order: Vec::new(),
            settling: None,
        }
    }
    fn miss(path: &Path<'_>, expected: String, actual: Option<&Value>) -> Vec<Mismatch> {
        vec![Mismatch { path: path.render(), expected, actual: render_opt(actual) }]
    }

    fn value(&mut self, pat: &Pat, actual: Option<&Value>, path: &Path<'_>) -> Vec<Mismatch> {
        match (pat, actual) {
            (Pat::Any, _) => Vec::new(),
            (Pat::Absent, None) => Vec::new(),
            (Pat::Opt(_), None) => Vec::new(),
            (Pat::Opt(inner), Some(_)) => self.value(inner, actual, path),
            (Pat::OneOf { options, choice: Choice::UserStatus { .. } }, _)
                if options.len() > 1 && self.settling.is_some() =>
            {
                let out = self.one_of(options, actual, path);
                if out.is_empty()
                    && let Some(paths) = &mut self.settling
                {
                    paths.push(path.render());
                }
                out
            }
            (Pat::OneOf { options, .. }, _) => self.one_of(options, actual, path),
            (Pat::Same(name), _) => match (self.binds.get(name), actual) {
                (Some(b), Some(a)) if json_eq(b, a) => Vec::new(),
                (b, _) => Self::miss(path, b.map_or_else(|| format!("the value of {name}"), render), actual),
            },
            (Pat::Bind(name, _), _) if self.binds.contains_key(name) => {
                match (self.binds.get(name), actual) {
                    (Some(b), Some(a)) if json_eq(b, a) => Vec::new(),
                    (b, _) => {
                        Self::miss(path, b.map_or_else(|| format!("the value of {name}"), render), actual)
                    }
                }
            }
            (Pat::Bind(name, inner), _) => {
                let out = self.value(inner, actual, path);
                if out.is_empty()
                    && let Some(a) = actual
                {
                    self.binds.insert(name, a.clone());
                }
                out
            }
            (_, None) => Self::miss(path, describe(pat), None),
            (Pat::Absent, Some(_)) => Self::miss(path, "absent".into(), actual),
            (Pat::Eq(v), Some(a)) => {
                if json_eq(v, a) {
                    Vec::new()
                } else {
                    Self::miss(path, render(v), actual)
                }
            }
            (Pat::Str(rule), Some(a)) => match a.as_str() {
                Some(s) if str_ok(rule, s) => Vec::new(),
                _ => Self::miss(path, describe(pat), actual),
            },
            (Pat::Num { min, max, .. }, Some(a)) => match a.as_f64() {
                Some(x) if x >= *min && x <= *max => Vec::new(),
                _ => Self::miss(path, describe(pat), actual),
            },
            (Pat::Fresh, Some(a)) => match a.as_str() {
                Some(s) if is_lower_uuid(s) && !(self.known_id)(s) && self.fresh.insert(s.to_string()) => {
                    self.fresh_order.push(s.to_string());
                    Vec::new()
                }
                Some(s) if is_lower_uuid(s) => {
                    Self::miss(path, "a new id, not one already issued".into(), actual)
                }
                _ => Self::miss(path, describe(pat), actual),
            },
            (Pat::Obj { members, closed }, Some(a)) => self.object(members, *closed, a, path),
            (Pat::List(items), Some(a)) => self.list(items, a, path),
            (Pat::Keyed(keyed), Some(a)) => self.keyed(keyed, a, path),
            (Pat::Each { item, max_len, .. }, Some(a)) => self.each(item, *max_len, a, path),
            (Pat::Page(page), Some(a)) => self.page(page, a, path),
        }
    }

    fn one_of(&mut self, options: &[Pat], actual: Option<&Value>, path: &Path<'_>) -> Vec<Mismatch> {
        let mut best: Option<Vec<Mismatch>> = None;
        for option in options {
            // Each option is tried on the state before it: a failed one leaves no trace.
            let binds = (options.len() > 1).then(|| self.binds.clone());
            let fresh_mark = self.fresh_order.len();
            let out = self.value(option, actual, path);
            if out.is_empty() {
                return Vec::new();
            }
            for id in self.fresh_order.drain(fresh_mark..) {
                self.fresh.remove(&id);
            }
            if let Some(binds) = binds {
                self.binds = binds;
            }
            if best.as_ref().is_none_or(|b| out.len() < b.len()) {
                best = Some(out);
            }
        }
        // Scalar alternatives all failing at the same place read best as one line.
        let all_here = options.iter().all(|o| {
            !matches!(o, Pat::Obj { .. } | Pat::Keyed(_) | Pat::Page(_) | Pat::List(_) | Pat::Each { .. })
        });
        if all_here {
            let expected = options.iter().map(describe).collect::<Vec<_>>().join(" or ");
            return Self::miss(path, expected, actual);
        }
        best.unwrap_or_default()
    }

    fn object(
        &mut self,
        members: &[(&'static str, Pat)],
        closed: bool,
        actual: &Value,
        path: &Path<'_>,
    ) -> Vec<Mismatch> {
        let Some(map) = actual.as_object() else {
            return Self::miss(path, "an object".into(), Some(actual));
        };
        let mut out = Vec::new();
        let mut present = 0;
        for (name, member) in members {
            let value = small_get(map, name);
            present += usize::from(value.is_some());
            out.extend(self.value(member, value, &path.member(name)));
        }
        // Member names are distinct, so every present member was listed unless the
        // object has more: only then look for the unlisted ones.
        if closed && present < map.len() {
            for (name, v) in map {
                if !members.iter().any(|(m, _)| m == name) {
                    out.push(Mismatch {
                        path: path.member(name).render(),
                        expected: "no such member".into(),
                        actual: render(v),
                    });
                }
            }
        }
        out
    }

    fn list(&mut self, items: &[Pat], actual: &Value, path: &Path<'_>) -> Vec<Mismatch> {
        let Some(array) = actual.as_array() else {
            return Self::miss(path, "an array".into(), Some(actual));
        };
        let mut out = Vec::new();
        // A list of the wrong length is one finding, not one per missing or extra item;
        // the items both sides have are still judged one by one.
        if array.len() != items.len() {
            out.push(Mismatch {
                path: path.render(),
                expected: format!("{} {}", items.len(), if items.len() == 1 { "item" } else { "items" }),
                actual: format!("{} {}", array.len(), if array.len() == 1 { "item" } else { "items" }),
            });
        }
        for (i, (item, actual)) in items.iter().zip(array).enumerate() {
            out.extend(self.value(item, Some(actual), &path.index(i)));
        }
        out
    }

    fn each(&mut self, item: &Pat, max_len: usize, actual: &Value, path: &Path<'_>) -> Vec<Mismatch> {
        let Some(array) = actual.as_array() else {
            return Self::miss(path, "an array".into(), Some(actual));
        };
        let mut out = Vec::new();
        for (i, v) in array.iter().enumerate() {
            out.extend(self.value(item, Some(v), &path.index(i)));
        }
        if array.len() > max_len {
            out.push(Mismatch {
                path: path.render(),
                expected: format!("at most {max_len} items"),
                actual: format!("{} items", array.len()),
            });
        }
        out
    }

    fn keyed(&mut self, keyed: &Keyed, actual: &Value, path: &Path<'_>) -> Vec<Mismatch> {
        let Some(array) = actual.as_array() else {
            return Self::miss(path, "an array".into(), Some(actual));
        };
        let mut out = Vec::new();
        let mut seen = BTreeSet::new();
        for (i, item) in array.iter().enumerate() {
            let item_path = path.index(i);
            let Some(key) = key_of(item, &keyed.key_path) else {
                out.push(Mismatch {
                    path: item_path.render(),
                    expected: "an item with a key".into(),
                    actual: render(item),
                });
                continue;
            };
            if !seen.insert(key.clone()) {
                out.push(Mismatch {
                    path: item_path.render(),
                    expected: format!("{key} listed once"),
                    actual: render(item),
                });
                continue;
            }
            match keyed.items.iter().find(|k| k.key == key) {
                Some(k) => out.extend(self.value(&k.pat, Some(item), &item_path)),
                None => out.push(Mismatch {
                    path: item_path.render(),
                    expected: "no such item".into(),
                    actual: render(item),
                }),
            }
        }
        if let Some(max) = keyed.max_len
            && array.len() > max
        {
            out.push(Mismatch {
                path: path.render(),
                expected: format!("at most {max} items"),
                actual: format!("{} items", array.len()),
            });
        }
        let truncated = keyed.max_len.is_some_and(|max| array.len() >= max);
        if !truncated {
            let missing: Vec<&str> = keyed
                .items
                .iter()
                .filter(|k| k.required && !seen.contains(&k.key))
                .map(|k| k.key.as_str())
                .collect();
            if !missing.is_empty() {
                out.push(Mismatch {
                    path: path.render(),
                    expected: format!("an item for {}", missing.join(", ")),
                    actual: if missing.len() == 1 {
                        "none".into()
                    } else {
                        format!("none for {} of them", missing.len())
                    },
                });
            }
        }
        if let Some(field) = keyed.sorted_desc_by {
            let values: Vec<f64> =
                array.iter().filter_map(|v| v.get(field).and_then(Value::as_f64)).collect();
            if let Some(i) = values.windows(2).position(|w| w[0] < w[1]) {
                out.push(Mismatch {
                    path: path.index(i + 1).member(field).render(),
                    expected: format!("sorted by {field}, descending (at most {})", values[i]),
                    actual: values[i + 1].to_string(),
                });
            }
        }
        out
    }

    fn page(&mut self, page: &Page, actual: &Value, path: &Path<'_>) -> Vec<Mismatch> {
        let Some(map) = actual.as_object() else {
            return Self::miss(path, "an object".into(), Some(actual));
        };
        let mut out = Vec::new();
        let items_path = path.member(page.items_member);
        let items = match map.get(page.items_member) {
            Some(Value::Array(a)) => a.as_slice(),
            Some(other) => {
                out.extend(Self::miss(&items_path, "an array".into(), Some(other)));
                &[]
            }
            None => {
                out.extend(Self::miss(&items_path, "an array".into(), None));
                &[]
            }
        };
        let mut keys = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let item_path = items_path.index(i);
            let Some(key) = key_of(item, &page.key_path) else {
                out.push(Mismatch {
                    path: item_path.render(),
                    expected: "an item with a key".into(),
                    actual: render(item),
                });
                continue;
            };
            if page.exclude.contains(&key) || keys.contains(&key) {
                out.push(Mismatch {
                    path: item_path.render(),
                    expected: "an item not listed before in this listing".into(),
                    actual: render(item),
                });
            } else if page.forbidden.contains(&key) {
                out.push(Mismatch {
                    path: item_path.render(),
                    expected: "no deleted item".into(),
                    actual: render(item),
                });
            } else if let Some((_, pat)) = page.candidates.iter().find(|(k, _)| *k == key) {
                out.extend(self.value(pat, Some(item), &item_path));
            } else if !page.allow_foreign {
                out.push(Mismatch {
                    path: item_path.render(),
                    expected: "no such item".into(),
                    actual: render(item),
                });
            }
            keys.push(key);
        }
        if let Some(max) = page.max_len
            && items.len() > max
        {
            out.push(Mismatch {
                path: items_path.render(),
                expected: format!("at most {max} items (MaxResults)"),
                actual: format!("{} items", items.len()),
            });
        }
        if let Some((member, pats)) = &page.parallel {
            let member_path = path.member(member);
            match map.get(*member).and_then(Value::as_array) {
                Some(values) if values.len() == items.len() => {
                    for (i, (key, v)) in keys.iter().zip(values).enumerate() {
                        if let Some(pat) = pats.get(key) {
                            out.extend(self.value(pat, Some(v), &member_path.index(i)));
                        }
                    }
                }
                _ => out.push(Mismatch {
                    path: member_path.render(),
                    expected: format!("an array parallel to {} ({} items)", page.items_member, items.len()),
                    actual: render_opt(map.get(*member)),
                }),
            }
        }
        let token = map.get("NextToken");
        let token_path = path.member("NextToken");
        match token {
            None => {
                if page.require_complete {
                    let listed: BTreeSet<&String> = keys.iter().collect();
                    let missing: Vec<&str> = page
                        .candidates
                        .iter()
                        .filter(|(k, _)| !page.exclude.contains(k) && !listed.contains(k))
                        .map(|(k, _)| k.as_str())
                        .collect();
                    if !missing.is_empty() {
                        let mut expected = String::from("the listing to include ");
                        let shown: Vec<&str> = missing.iter().take(5).copied().collect();
                        let _ = write!(expected, "{}", shown.join(", "));
                        if missing.len() > shown.len() {
                            let _ = write!(expected, " and {} more", missing.len() - shown.len());
                        }
                        out.push(Mismatch {
                            path: items_path.render(),
                            expected,
                            actual: format!("last page (no NextToken) without {} of them", missing.len()),
                        });
                    }
                }
            }
            Some(Value::String(s)) if page.token_max_len.is_none_or(|max| s.chars().count() <= max) => {}
            Some(other) => out.extend(Self::miss(
                &token_path,
                format!("a string of at most {} characters", page.token_max_len.unwrap_or(usize::MAX)),
                Some(other),
            )),
        }
        let mut known: Vec<&str> = vec![page.items_member, "NextToken"];
        if let Some((member, _)) = &page.parallel {
            known.push(member);
        }
        for (name, member) in &page.members {
            known.push(name);
            out.extend(self.value(member, map.get(*name), &path.member(name)));
        }
        for (name, v) in map {
            if !known.contains(&name.as_str()) {
                out.push(Mismatch {
                    path: path.member(name).render(),
                    expected: "no such member".into(),
                    actual: render(v),
                });
            }
        }
        out
    }
}

/// A member of an object; AWS objects have a handful of members, and scanning them is
/// cheaper than hashing the name (judging a 50-face answer looks up hundreds).
fn small_get<'a>(map: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    if map.len() <= 16 { map.iter().find(|(k, _)| k.as_str() == name).map(|(_, v)| v) } else { map.get(name) }
}

/// `value[name]` when `value` is an object holding it: [`Value::get`] without hashing
/// the name, for code that reads many small response objects.
pub fn member<'a>(value: &'a Value, name: &str) -> Option<&'a Value> {
    value.as_object().and_then(|map| small_get(map, name))
}

/// The key of an item along `key_path`; the item itself when the path is empty.
pub fn key_of(item: &Value, key_path: &[&str]) -> Option<String> {
    let mut cur = item;
    for step in key_path {
        cur = member(cur, step)?;
    }
    cur.as_str().map(str::to_string)
}

fn str_ok(rule: &StrRule, s: &str) -> bool {
    match rule {
        StrRule::Any { max_len } => max_len.is_none_or(|max| s.chars().count() <= max),
        StrRule::Uuid => is_lower_uuid(s),
        StrRule::ModelVersion | StrRule::UserSearchModelVersion => {
            !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        }
        StrRule::CollectionArn { with_arn_prefix, collection, region, account } => {
            let rest = if *with_arn_prefix {
                match s.strip_prefix("arn:") {
                    Some(r) => r,
                    None => return false,
                }
            } else {
                s
            };
            // Partitions: aws, aws-cn, aws-us-gov.
            let mut parts = rest.splitn(5, ':');
            let (Some(partition), Some(service), Some(reg), Some(acct), Some(resource)) =
                (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return false;
            };
            partition.starts_with("aws")
                && partition != "arn"
                && service == "rekognition"
                && region.as_deref().is_none_or(|r| r == reg)
                && !reg.is_empty()
                && account.as_deref().is_none_or(|a| a == acct)
                && acct.len() == 12
                && acct.bytes().all(|b| b.is_ascii_digit())
                && resource.strip_prefix("collection/") == Some(collection.as_str())
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn judge(pat: Pat, v: Value) -> Vec<Mismatch> {
        match Allowed::success(pat).judge(&Observed::Success(v), &|_| false) {
            Ok(()) => Vec::new(),
            Err(m) => m,
        }
    }

    struct First;
    impl Chooser for First {
        fn pick(&mut self, _: &Choice, _: usize) -> usize {
            0
        }
        fn number(&mut self, _: f64, _: f64, sample: f64) -> f64 {
            sample
        }
        fn fresh_id(&mut self) -> String {
            "11111111-2222-4333-8444-555555555555".into()
        }
        fn page_token(&mut self) -> String {
            "t1".into()
        }
    }

    fn obj(members: Vec<(&'static str, Pat)>) -> Pat {
        Pat::Obj { members, closed: true }
    }

    #[test]
    fn closed_objects_name_every_unlisted_member() {
        let pat = obj(vec![("FaceId", Pat::Str(StrRule::Uuid)), ("UserId", Pat::Opt(Box::new(Pat::Any)))]);
        assert!(judge(pat.clone(), json!({"FaceId": "11111111-2222-4333-8444-555555555555"})).is_empty());
        // An extra member beside every listed one, and one standing in for an absent one.
        let got = judge(
            obj(vec![("Outer", pat.clone())]),
            json!({"Outer": {"FaceId": "11111111-2222-4333-8444-555555555555", "UserId": "u", "Extra": 1}}),
        );
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!((got[0].path.as_str(), got[0].expected.as_str()), ("Outer.Extra", "no such member"));
        let got = judge(pat, json!({"FaceId": "11111111-2222-4333-8444-555555555555", "userId": "u"}));
        assert_eq!(got.iter().map(|m| m.path.as_str()).collect::<Vec<_>>(), ["userId"]);
        // An open object lets them pass.
        let open = Pat::Obj { members: vec![("FaceId", Pat::Any)], closed: false };
        assert!(judge(open, json!({"FaceId": "x", "Extra": 1})).is_empty());
    }

    #[test]
    fn mismatch_paths_are_exact() {
        let pat = obj(vec![(
            "UnsuccessfulFaceAssociations",
            Pat::List(vec![obj(vec![("Reasons", Pat::List(vec![Pat::Eq(json!("FACE_NOT_FOUND"))]))])]),
        )]);
        let got =
            judge(pat, json!({"UnsuccessfulFaceAssociations": [{"Reasons": ["LOW_MATCH_CONFIDENCE"]}]}));
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].path, "UnsuccessfulFaceAssociations[0].Reasons[0]");
        assert_eq!(got[0].expected, "\"FACE_NOT_FOUND\"");
    }

    #[test]
    fn closed_objects_reject_unknown_members_and_absent_means_absent() {
        let pat = obj(vec![("SearchedFace", Pat::Absent)]);
        let got = judge(pat, json!({"SearchedFace": {}, "Extra": 1}));
        let paths: Vec<_> = got.iter().map(|m| m.path.as_str()).collect();
        assert_eq!(paths, ["SearchedFace", "Extra"]);
    }

    #[test]
    fn numbers_compare_by_value_and_ranges_are_inclusive() {
        assert!(judge(Pat::Eq(json!(200)), json!(200.0)).is_empty());
        assert!(judge(Pat::Num { min: 75.0, max: 100.0, sample: 90.0 }, json!(75)).is_empty());
        assert_eq!(judge(Pat::Num { min: 75.0, max: 100.0, sample: 90.0 }, json!(74.99)).len(), 1);
    }

    #[test]
    fn one_of_reports_scalar_alternatives_on_one_line() {
        let pat = Pat::OneOf {
            options: vec![Pat::Eq(json!("UPDATING")), Pat::Eq(json!("ACTIVE"))],
            choice: Choice::Free,
        };
        assert!(judge(pat.clone(), json!("ACTIVE")).is_empty());
        let got = judge(pat, json!("CREATED"));
        assert_eq!(got[0].expected, "\"UPDATING\" or \"ACTIVE\"");
    }

    #[test]
    fn fresh_ids_must_be_new_and_distinct() {
        let pat = Pat::List(vec![Pat::Fresh, Pat::Fresh]);
        let a = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa";
        let b = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb";
        assert!(judge(pat.clone(), json!([a, b])).is_empty());
        assert_eq!(judge(pat.clone(), json!([a, a])).len(), 1);
        assert_eq!(judge(pat.clone(), json!([a, "AAAAAAAA-aaaa-4aaa-8aaa-aaaaaaaaaaaa"])).len(), 1);
        let known = Allowed::success(pat).judge(&Observed::Success(json!([a, b])), &|id| id == a);
        assert!(known.is_err());
    }

    #[test]
    fn bind_and_same_tie_values_together() {
        let pat = Pat::List(vec![Pat::Bind("img", Box::new(Pat::Fresh)), Pat::Same("img")]);
        let a = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa";
        let b = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb";
        assert!(judge(pat.clone(), json!([a, a])).is_empty());
        assert_eq!(judge(pat, json!([a, b]))[0].path, "[1]");
    }

    fn keyed_users(max_len: Option<usize>) -> Pat {
        let item = |k: &str, required: bool| KeyedItem {
            key: k.into(),
            pat: obj(vec![
                ("Similarity", Pat::Num { min: 90.0, max: 100.0, sample: 99.0 }),
                ("User", obj(vec![("UserId", Pat::Eq(json!(k))), ("UserStatus", Pat::Any)])),
            ]),
            required,
            choice: (!required).then(|| (Choice::Near(k.into()), 0)),
        };
        Pat::Keyed(Box::new(Keyed {
            key_path: vec!["User", "UserId"],
            items: vec![item("a", true), item("b", false)],
            max_len,
            sorted_desc_by: Some("Similarity"),
        }))
    }

    #[test]
    fn keyed_lists_are_sets_with_required_items_and_order() {
        let m = |u: &str, s: f64| json!({"Similarity": s, "User": {"UserId": u, "UserStatus": "ACTIVE"}});
        assert!(judge(keyed_users(None), json!([m("a", 99.0)])).is_empty());
        assert!(judge(keyed_users(None), json!([m("b", 99.0), m("a", 95.0)])).is_empty());
        assert_eq!(judge(keyed_users(None), json!([m("b", 99.0)])).len(), 1, "required a missing");
        assert!(judge(keyed_users(Some(1)), json!([m("b", 99.0)])).is_empty(), "truncated by max");
        assert_eq!(judge(keyed_users(None), json!([m("a", 91.0), m("b", 99.0)]))[0].path, "[1].Similarity");
        assert_eq!(judge(keyed_users(None), json!([m("a", 99.0), m("a", 99.0)])).len(), 1, "repeat");
        assert_eq!(judge(keyed_users(None), json!([m("c", 99.0), m("a", 99.0)]))[0].path, "[0]");
    }

    fn users_page(exclude: &[&str], max_len: Option<usize>) -> Pat {
        Pat::Page(Box::new(Page {
            items_member: "Users",
            key_path: vec!["UserId"],
            candidates: ["u1", "u2", "u3"].iter().map(|k| (k.to_string(), Pat::Any)).collect(),
            exclude: exclude.iter().map(|s| s.to_string()).collect(),
            forbidden: Arc::default(),
            allow_foreign: false,
            max_len,
            default_len: 2,
            require_complete: true,
            parallel: None,
            token_max_len: Some(255),
            members: Vec::new(),
        }))
    }

    #[test]
    fn pages_catch_skips_repeats_and_oversize() {
        let u = |k: &str| json!({"UserId": k});
        assert!(
            judge(users_page(&[], Some(2)), json!({"Users": [u("u1"), u("u2")], "NextToken": "x"}))
                .is_empty()
        );
        assert!(judge(users_page(&["u1", "u2"], None), json!({"Users": [u("u3")]})).is_empty());
        let skip = judge(users_page(&["u1"], None), json!({"Users": [u("u3")]}));
        assert!(skip[0].expected.contains("u2"), "{skip:?}");
        let repeat = judge(users_page(&["u1"], None), json!({"Users": [u("u1"), u("u2"), u("u3")]}));
        assert_eq!(repeat[0].path, "Users[0]");
        let big = judge(users_page(&[], Some(1)), json!({"Users": [u("u1"), u("u2")], "NextToken": "x"}));
        assert_eq!(big[0].path, "Users");
    }

    #[test]
    fn realized_outcomes_pass_their_own_judgement() {
        let pats = [keyed_users(None), users_page(&["u1"], Some(1)), users_page(&[], None)];
        for pat in pats {
            let allowed = Allowed::success(pat);
            let got = allowed.realize(&mut First);
            assert_eq!(allowed.judge(&got, &|_| false), Ok(()), "{got:?}");
        }
    }

    #[test]
    fn errors_are_judged_by_code() {
        let allowed = Allowed::errors(
            vec![ErrorCode::InvalidParameterException, ErrorCode::ValidationException],
            Some(Unknown::ValidationErrorType),
        );
        let err = |code| Observed::Error(ApiError { code, message: None });
        assert!(allowed.judge(&err(ErrorCode::ValidationException), &|_| false).is_ok());
        let got = allowed.judge(&err(ErrorCode::ResourceNotFoundException), &|_| false).unwrap_err();
        assert_eq!(got[0].path, "__type");
        assert!(allowed.judge(&Observed::Success(json!({})), &|_| false).is_err());
        assert_eq!(
            allowed.touched_unknowns().into_iter().collect::<Vec<_>>(),
            [Unknown::ValidationErrorType]
        );
    }

    #[test]
    fn collection_arns_with_and_without_prefix() {
        let rule = |p| {
            Pat::Str(StrRule::CollectionArn {
                with_arn_prefix: p,
                collection: "c1".into(),
                region: None,
                account: None,
            })
        };
        assert!(judge(rule(false), json!("aws:rekognition:us-west-2:123456789012:collection/c1")).is_empty());
        assert_eq!(
            judge(rule(false), json!("arn:aws:rekognition:us-west-2:123456789012:collection/c1")).len(),
            1
        );
        assert!(
            judge(rule(true), json!("arn:aws:rekognition:us-west-2:123456789012:collection/c1")).is_empty()
        );
        assert_eq!(
            judge(rule(true), json!("arn:aws:rekognition:us-west-2:123456789012:collection/c2")).len(),
            1
        );
    }
}

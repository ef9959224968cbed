//! Scenario files: the YAML format of `docs/scenario-format.md`, loaded with locations.
//!
//! Loading does all the checking that needs no endpoint: one operation per step, member
//! names of the API's own shapes, `${...}` references to declared collections, images and
//! earlier captures, expectations and capture paths. Every error names the file, line and
//! column and suggests the closest valid name. Values are parsed once into [`Template`]s,
//! so running a step only substitutes references. The folder's catalogue of real photos
//! (`images/catalogue.yaml`, [`load_catalogue`]) is checked with it and travels with
//! every scenario, so each scenario's model knows who the photos show.
//!
//! This module never talks to an endpoint and never imports the AWS SDK.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use serde_saphyr::Spanned;

use crate::api::{self, ErrorCode, Operation, Request};
use crate::error::LoadError;
use crate::image::{self, BoundingBox, Catalogue, ImageFace};

/// The extensions a scenario file may have.
const EXTENSIONS: [&str; 2] = ["yaml", "yml"];
/// The folder (under the scenarios root) holding fixture images.
pub const IMAGES_DIR: &str = "images";
/// The file in [`IMAGES_DIR`] that declares who real photos show (see [`load_catalogue`]).
pub const CATALOGUE_FILE: &str = "catalogue.yaml";
/// Extensions of image files, in the order a bare image name is looked up.
const IMAGE_EXTENSIONS: [&str; 3] = ["png", "jpg", "jpeg"];
/// Longest result of `${repeat(...)}` / `${pad(...)}`, a guard against typos like 1e9.
const MAX_GENERATED_LEN: usize = 1 << 20;

// ---------------------------------------------------------------------------------------------
// The loaded form
// ---------------------------------------------------------------------------------------------

/// One scenario file, checked and ready to run.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Path under the scenarios root without the extension, `/`-separated (`users/x`).
    pub name: String,
    /// The file, as found (`scenarios/users/x.yaml`).
    pub path: PathBuf,
    /// What behaviour the scenario pins down.
    pub description: String,
    /// Free words for `--tag`.
    pub tags: Vec<String>,
    /// Names of run-scoped collections (`c` in `${c}`).
    pub collections: Vec<String>,
    /// Fixture images the steps refer to.
    pub images: Vec<Fixture>,
    /// The calls, in order.
    pub steps: Vec<Step>,
    /// Who the real photos of the scenarios folder show (empty without `catalogue.yaml`);
    /// the runner hands it to the scenario's model, which has no other way to know.
    pub catalogue: Catalogue,
}

impl Scenario {
    /// The test name: the scenario name with `::` for `/` (`users::x`).
    pub fn test_name(&self) -> String {
        test_name(&self.name)
    }

    /// The insta snapshot name: the scenario name with `__` for `/` (`users__x`).
    pub fn snapshot_name(&self) -> String {
        self.name.replace('/', "__")
    }
}

/// A scenario name as a test name (`users/x` → `users::x`).
pub fn test_name(scenario_name: &str) -> String {
    scenario_name.replace('/', "::")
}

/// A fixture image, loaded once.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// The name scenarios use (`alice-1`).
    pub name: String,
    /// The file's bytes as padded standard base64, the form `Image.Bytes` takes.
    pub base64: Arc<str>,
}

/// One step of a scenario.
#[derive(Debug, Clone)]
pub struct Step {
    /// 1-based position in `steps`.
    pub index: usize,
    /// Line of the step in the file.
    pub line: u64,
    /// Column of the step in the file.
    pub column: u64,
    /// What to send.
    pub action: Action,
    /// What the author expects; without it the model alone decides.
    pub expect: Option<Expect>,
    /// Values of the response to bind for later steps.
    pub captures: Vec<Capture>,
}

impl Step {
    /// The operation the step calls, when it names one of the 16.
    pub fn operation(&self) -> Option<Operation> {
        match &self.action {
            Action::Call { operation, .. } => Some(*operation),
            Action::Raw { target, .. } => target.operation,
        }
    }

    /// The operation's name, or the raw `X-Amz-Target` without its service prefix.
    pub fn operation_name(&self) -> String {
        match &self.action {
            Action::Call { operation, .. } => operation.name().to_string(),
            Action::Raw { target, .. } => {
                target.header.strip_prefix("RekognitionService.").unwrap_or(&target.header).to_string()
            }
        }
    }
}

/// What a step sends.
#[derive(Debug, Clone)]
pub enum Action {
    /// A typed call, sent through the SDK.
    Call {
        /// The operation.
        operation: Operation,
        /// The request body, with references still to substitute.
        request: Template,
    },
    /// A signed request with a body the SDK could not produce.
    Raw {
        /// The `X-Amz-Target` to send.
        target: RawTarget,
        /// The body, sent byte for byte after substitution.
        body: RawBody,
    },
}

/// The `X-Amz-Target` of a raw step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawTarget {
    /// The header value, e.g. `RekognitionService.CreateCollection`.
    pub header: String,
    /// The operation the header names, when it is one of the 16.
    pub operation: Option<Operation>,
}

/// The body of a raw step.
#[derive(Debug, Clone)]
pub enum RawBody {
    /// Text, sent as is after substitution.
    Text(Text),
    /// A YAML mapping or list, sent as compact JSON after substitution.
    Json(Template),
}

/// What the author expects a step to return.
#[derive(Debug, Clone)]
pub enum Expect {
    /// `expect: success`.
    Success,
    /// `expect: { error: X }` or `{ error: [X, Y] }`.
    Errors(Vec<ErrorCode>),
    /// `expect: { response: {...} }`: success, and the body matches partially.
    Response(Template),
}

/// `capture: { name: path }`.
#[derive(Debug, Clone)]
pub struct Capture {
    /// The name later steps refer to as `${name}`.
    pub name: String,
    /// Where in the response body.
    pub path: ValuePath,
}

/// A path into a JSON value, written like a mismatch path: `FaceRecords[0].Face.FaceId`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValuePath(Vec<Segment>);

/// One step of a [`ValuePath`].
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Member(String),
    Index(usize),
}

impl ValuePath {
    /// Parses `A.B[0].C`.
    pub fn parse(text: &str) -> Result<ValuePath, String> {
        let mut segments = Vec::new();
        for part in text.split('.') {
            let (name, mut rest) = part.split_once('[').map_or((part, ""), |(n, r)| (n, r));
            if name.is_empty() {
                return Err(format!("path `{text}` has an empty member name"));
            }
            segments.push(Segment::Member(name.to_string()));
            if !part.contains('[') {
                continue;
            }
            loop {
                let (index, after) =
                    rest.split_once(']').ok_or_else(|| format!("path `{text}` has an unclosed `[`"))?;
                let index = index
                    .trim()
                    .parse::<usize>()
                    .map_err(|_| format!("path `{text}`: `{index}` is not an index"))?;
                segments.push(Segment::Index(index));
                if after.is_empty() {
                    break;
                }
                rest = after
                    .strip_prefix('[')
                    .ok_or_else(|| format!("path `{text}`: unexpected `{after}` after `]`"))?;
            }
        }
        Ok(ValuePath(segments))
    }

    /// The first member name, which must be a member of the response.
    pub fn first_member(&self) -> Option<&str> {
        match self.0.first() {
            Some(Segment::Member(name)) => Some(name),
            _ => None,
        }
    }

    /// The value at this path in `value`.
    pub fn get<'v>(&self, value: &'v Value) -> Option<&'v Value> {
        self.0.iter().try_fold(value, |v, segment| match segment {
            Segment::Member(name) => v.get(name.as_str()),
            Segment::Index(i) => v.get(*i),
        })
    }
}

impl fmt::Display for ValuePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Member(name) if i == 0 => f.write_str(name)?,
                Segment::Member(name) => write!(f, ".{name}")?,
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Templates: values with `${...}` references, parsed once
// ---------------------------------------------------------------------------------------------

/// A JSON value whose strings may hold `${...}` references.
#[derive(Debug, Clone, PartialEq)]
pub enum Template {
    /// A subtree without references: rendered by cloning.
    Const(Value),
    /// A string with references.
    Text(Text),
    /// An array with references somewhere inside.
    Array(Vec<Template>),
    /// An object with references somewhere inside.
    Object(Vec<(String, Template)>),
}

/// A string split into literal text and references.
#[derive(Debug, Clone, PartialEq)]
pub struct Text(Vec<Part>);

/// One piece of a [`Text`].
#[derive(Debug, Clone, PartialEq)]
enum Part {
    Literal(String),
    /// `${name}`.
    Ref(String),
    /// `${repeat(text, n)}`.
    Repeat(String, usize),
    /// `${pad(collection, n)}`.
    Pad(String, usize),
}

/// A reference that cannot be substituted while running (never one the loader accepted,
/// unless a capture failed earlier).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RenderError(pub String);

/// The values `${...}` references stand for while one scenario runs.
#[derive(Debug, Clone, Default)]
pub struct Bindings {
    collections: BTreeMap<String, String>,
    images: BTreeMap<String, Arc<str>>,
    captures: BTreeMap<String, Value>,
}

impl Bindings {
    /// Bindings for `scenario`: collection `c` becomes `{collection_prefix}c`.
    pub fn new(scenario: &Scenario, collection_prefix: &str) -> Bindings {
        Bindings {
            collections: scenario
                .collections
                .iter()
                .map(|c| (c.clone(), format!("{collection_prefix}{c}")))
                .collect(),
            images: scenario.images.iter().map(|f| (f.name.clone(), Arc::clone(&f.base64))).collect(),
            captures: BTreeMap::new(),
        }
    }

    /// Binds `name` to a captured value (later captures of the same name replace it).
    pub fn capture(&mut self, name: &str, value: Value) {
        self.captures.insert(name.to_string(), value);
    }

    /// The run-scoped CollectionId of each declared collection, by declared name.
    pub fn collections(&self) -> &BTreeMap<String, String> {
        &self.collections
    }

    fn value(&self, name: &str) -> Option<Value> {
        if let Some(v) = self.captures.get(name) {
            return Some(v.clone());
        }
        if let Some(id) = self.collections.get(name) {
            return Some(Value::String(id.clone()));
        }
        self.images.get(name).map(|b| Value::String(b.to_string()))
    }
}

impl Template {
    /// Substitutes every reference.
    pub fn render(&self, bindings: &Bindings) -> Result<Value, RenderError> {
        match self {
            Template::Const(v) => Ok(v.clone()),
            Template::Text(text) => text.render_value(bindings),
            Template::Array(items) => {
                items.iter().map(|t| t.render(bindings)).collect::<Result<_, _>>().map(Value::Array)
            }
            Template::Object(members) => {
                let mut map = Map::with_capacity(members.len());
                for (name, t) in members {
                    map.insert(name.clone(), t.render(bindings)?);
                }
                Ok(Value::Object(map))
            }
        }
    }
}

impl Text {
    /// A JSON value: a lone `${name}` gives the bound value itself, anything else a string.
    pub fn render_value(&self, bindings: &Bindings) -> Result<Value, RenderError> {
        if let [Part::Ref(name)] = self.0.as_slice() {
            return bindings.value(name).ok_or_else(|| unbound(name));
        }
        self.render_string(bindings).map(Value::String)
    }

    /// The text with every reference written out (non-strings as JSON text).
    pub fn render_string(&self, bindings: &Bindings) -> Result<String, RenderError> {
        let mut out = String::new();
        for part in &self.0 {
            match part {
                Part::Literal(s) => out.push_str(s),
                Part::Ref(name) => match bindings.value(name).ok_or_else(|| unbound(name))? {
                    Value::String(s) => out.push_str(&s),
                    other => out.push_str(&other.to_string()),
                },
                Part::Repeat(text, n) => out.push_str(&text.repeat(*n)),
                Part::Pad(collection, n) => {
                    let id = bindings.collections.get(collection).ok_or_else(|| unbound(collection))?;
                    out.push_str(&pad(id, *n).map_err(RenderError)?);
                }
            }
        }
        Ok(out)
    }
}

fn unbound(name: &str) -> RenderError {
    RenderError(format!("`${{{name}}}` has no value (was its capture skipped?)"))
}

/// `id` padded with `x` to exactly `len` characters.
fn pad(id: &str, len: usize) -> Result<String, String> {
    let have = id.chars().count();
    if have > len {
        return Err(format!("the run-scoped name `{id}` is already longer than {len} characters"));
    }
    Ok(format!("{id}{}", "x".repeat(len - have)))
}

/// Splits a string into literal text and references; `$${` is a literal `${`.
fn parse_text(s: &str) -> Result<Text, String> {
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut rest = s;
    while let Some(at) = rest.find('$') {
        literal.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("$${") {
            literal.push_str("${");
            rest = after;
        } else if let Some(after) = tail.strip_prefix("${") {
            let end = after.find('}').ok_or_else(|| format!("`${{` without a closing `}}` in {s:?}"))?;
            if !literal.is_empty() {
                parts.push(Part::Literal(std::mem::take(&mut literal)));
            }
            parts.push(parse_reference(after[..end].trim())?);
            rest = &after[end + 1..];
        } else {
            literal.push('$');
            rest = &tail[1..];
        }
    }
    literal.push_str(rest);
    if !literal.is_empty() || parts.is_empty() {
        parts.push(Part::Literal(literal));
    }
    Ok(Text(parts))
}

fn parse_reference(inner: &str) -> Result<Part, String> {
    if let Some((function, args)) = inner.split_once('(') {
        let args = args.strip_suffix(')').ok_or_else(|| format!("`${{{inner}}}` lacks its closing `)`"))?;
        let (arg, count) = args.rsplit_once(',').ok_or_else(|| {
            format!("`${{{inner}}}` needs two arguments, like `{}(x, 10)`", function.trim())
        })?;
        let count: usize = count
            .trim()
            .parse()
            .map_err(|_| format!("`{}` in `${{{inner}}}` is not a count", count.trim()))?;
        if count > MAX_GENERATED_LEN {
            return Err(format!("`${{{inner}}}` would generate more than {MAX_GENERATED_LEN} characters"));
        }
        let arg = arg.trim().to_string();
        return match function.trim() {
            "repeat" => Ok(Part::Repeat(arg, count)),
            "pad" => Ok(Part::Pad(arg, count)),
            other => Err(format!(
                "unknown function `{other}` in `${{{inner}}}`{}",
                did_you_mean(other, ["repeat", "pad"].into_iter())
            )),
        };
    }
    if inner.is_empty() {
        return Err("empty reference `${}`".into());
    }
    Ok(Part::Ref(inner.to_string()))
}

/// ` (did you mean `x`?)` for the candidate closest to `word`, or nothing.
pub fn did_you_mean<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> String {
    closest(word, candidates).map(|c| format!(" (did you mean `{c}`?)")).unwrap_or_default()
}

/// The candidate closest to `word`, when it is close enough to be a likely typo.
pub fn closest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let lower = word.to_lowercase();
    candidates
        .map(|c| {
            let distance = strsim::damerau_levenshtein(&lower, &c.to_lowercase());
            let similarity = strsim::jaro_winkler(&lower, &c.to_lowercase());
            (c, distance, similarity)
        })
        .filter(|(c, distance, similarity)| {
            // Short names are one typo apart at most; longer ones may lose a third.
            let len = c.chars().count();
            let max = if len <= 3 { 1 } else { (len / 3).max(2) };
            *distance <= max || *similarity >= 0.9
        })
        .min_by(|a, b| a.1.cmp(&b.1).then(b.2.total_cmp(&a.2)))
        .map(|(c, _, _)| c)
}

// ---------------------------------------------------------------------------------------------
// YAML with locations
// ---------------------------------------------------------------------------------------------

/// A 1-based position in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Pos {
    line: u64,
    column: u64,
}

/// A YAML node with its position.
#[derive(Debug, Clone)]
struct Node {
    value: NodeValue,
    at: Pos,
}

#[derive(Debug, Clone)]
enum NodeValue {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Key, Node)>),
}

/// A mapping key with its position.
#[derive(Debug, Clone)]
struct Key {
    name: String,
    at: Pos,
}

/// What serde-saphyr produces: the tree with each child wrapped in `Spanned`.
enum RawNode {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<RawNode>>),
    Map(Vec<(Spanned<RawNode>, Spanned<RawNode>)>),
}

impl<'de> Deserialize<'de> for RawNode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AnyNode;
        impl<'de> Visitor<'de> for AnyNode {
            type Value = RawNode;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_unit<E>(self) -> Result<RawNode, E> {
                Ok(RawNode::Null)
            }
            fn visit_none<E>(self) -> Result<RawNode, E> {
                Ok(RawNode::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<RawNode, D::Error> {
                RawNode::deserialize(d)
            }
            fn visit_bool<E>(self, v: bool) -> Result<RawNode, E> {
                Ok(RawNode::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<RawNode, E> {
                Ok(RawNode::Int(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<RawNode, E> {
                Ok(RawNode::UInt(v))
            }
            fn visit_f64<E>(self, v: f64) -> Result<RawNode, E> {
                Ok(RawNode::Float(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<RawNode, E> {
                Ok(RawNode::Str(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<RawNode, E> {
                Ok(RawNode::Str(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawNode, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Spanned<RawNode>>()? {
                    items.push(item);
                }
                Ok(RawNode::Seq(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawNode, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<Spanned<RawNode>>()? {
                    let value = map.next_value::<Spanned<RawNode>>()?;
                    entries.push((key, value));
                }
                Ok(RawNode::Map(entries))
            }
        }
        deserializer.deserialize_any(AnyNode)
    }
}

fn pos_of<T>(spanned: &Spanned<T>) -> Pos {
    Pos { line: spanned.referenced.line(), column: spanned.referenced.column() }
}

impl Node {
    fn from_spanned(spanned: Spanned<RawNode>) -> Node {
        let at = pos_of(&spanned);
        let value = match spanned.value {
            RawNode::Null => NodeValue::Null,
            RawNode::Bool(b) => NodeValue::Bool(b),
            RawNode::Int(i) => NodeValue::Int(i),
            RawNode::UInt(u) => NodeValue::UInt(u),
            RawNode::Float(x) => NodeValue::Float(x),
            RawNode::Str(s) => NodeValue::Str(s),
            RawNode::Seq(items) => NodeValue::Seq(items.into_iter().map(Node::from_spanned).collect()),
            RawNode::Map(entries) => NodeValue::Map(
                entries
                    .into_iter()
                    .map(|(k, v)| {
                        let key_at = pos_of(&k);
                        let name = match Node::from_spanned(k).value {
                            NodeValue::Str(s) => s,
                            other => scalar_text(&other),
                        };
                        (Key { name, at: key_at }, Node::from_spanned(v))
                    })
                    .collect(),
            ),
        };
        Node { value, at }
    }

    fn kind(&self) -> &'static str {
        match self.value {
            NodeValue::Null => "null",
            NodeValue::Bool(_) => "a boolean",
            NodeValue::Int(_) | NodeValue::UInt(_) | NodeValue::Float(_) => "a number",
            NodeValue::Str(_) => "a string",
            NodeValue::Seq(_) => "a list",
            NodeValue::Map(_) => "a mapping",
        }
    }
}

fn scalar_text(value: &NodeValue) -> String {
    match value {
        NodeValue::Null => "null".into(),
        NodeValue::Bool(b) => b.to_string(),
        NodeValue::Int(i) => i.to_string(),
        NodeValue::UInt(u) => u.to_string(),
        NodeValue::Float(x) => x.to_string(),
        NodeValue::Str(s) => s.clone(),
        NodeValue::Seq(_) => "[...]".into(),
        NodeValue::Map(_) => "{...}".into(),
    }
}

// ---------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------

/// A scenario file found under the root, not yet loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioFile {
    /// The scenario name (`users/x`).
    pub name: String,
    /// The file (`scenarios/users/x.yaml`).
    pub path: PathBuf,
}

/// Every scenario file below `root` (the `images/` folder and hidden folders aside),
/// sorted by name. See [`discover_all`] for symbolic links.
pub fn discover(root: &Path) -> Result<Vec<ScenarioFile>, LoadError> {
    discover_all(root).map(|found| found.files)
}

/// What [`discover_all`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Discovery {
    /// The scenario files, sorted by name.
    pub files: Vec<ScenarioFile>,
    /// Links to folders that were not followed, because the folder they lead to was
    /// searched already (a loop such as `loop -> ..`, or a second way to one folder).
    pub skipped: Vec<SkippedLink>,
}

/// A link to a folder that the search did not follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedLink {
    /// The link, as found below the root.
    pub link: PathBuf,
    /// The folder it leads to.
    pub target: PathBuf,
}

impl fmt::Display for SkippedLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "skipped the link {}: it leads to {}, a folder already searched",
            self.link.display(),
            self.target.display()
        )
    }
}

/// [`discover`], also listing the links it skipped. Each real folder is searched once:
/// first the folders below `root` themselves, then the folders links lead to, each the
/// first time it is reached; a link to a folder searched already (a loop back up the
/// tree, or a second link to one folder) is skipped and listed.
pub fn discover_all(root: &Path) -> Result<Discovery, LoadError> {
    let mut walk =
        Walk { root, searched: HashSet::new(), links: VecDeque::new(), found: Discovery::default() };
    if let Ok(real) = root.canonicalize() {
        walk.searched.insert(real);
    }
    walk.folder(root)?;
    while let Some(link) = walk.links.pop_front() {
        // A link that no longer resolves cannot lead to a folder: nothing to search.
        let Ok(target) = link.canonicalize() else { continue };
        if walk.searched.insert(target.clone()) {
            walk.folder(&link)?;
        } else {
            walk.found.skipped.push(SkippedLink { link, target });
        }
    }
    walk.found.files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(walk.found)
}

/// The state of [`discover_all`].
struct Walk<'r> {
    root: &'r Path,
    /// Folders searched (or about to be), by their real path.
    searched: HashSet<PathBuf>,
    /// Links to folders, followed once the real folders are all searched.
    links: VecDeque<PathBuf>,
    found: Discovery,
}

impl Walk<'_> {
    fn folder(&mut self, dir: &Path) -> Result<(), LoadError> {
        let entries = std::fs::read_dir(dir).map_err(|e| LoadError {
            path: dir.to_path_buf(),
            line: 0,
            column: 0,
            message: format!("cannot read the scenarios folder: {e}"),
        })?;
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths {
            let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if file_name.starts_with('.') {
                continue;
            }
            if path.is_dir() {
                if dir == self.root && file_name == IMAGES_DIR {
                    continue;
                }
                let is_link = std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink());
                if is_link {
                    self.links.push_back(path);
                    continue;
                }
                // A real folder reached a second way (inside a linked folder that holds
                // one searched already) is not searched again.
                let real = path.canonicalize().unwrap_or_else(|_| path.clone());
                if self.searched.insert(real.clone()) {
                    self.folder(&path)?;
                } else {
                    self.found.skipped.push(SkippedLink { link: path, target: real });
                }
            } else if path.extension().and_then(|e| e.to_str()).is_some_and(|e| EXTENSIONS.contains(&e)) {
                self.found.files.push(ScenarioFile { name: scenario_name(self.root, &path), path });
            }
        }
        Ok(())
    }
}

/// The scenario name of `path`: relative to `root`, without extension, `/`-separated.
pub fn scenario_name(root: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(root).unwrap_or(path);
    let without_extension = relative.with_extension("");
    without_extension.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

/// Loads every scenario below `root`, sorted by name. A file that fails to load is an
/// `Err` entry, so it becomes one failing test instead of aborting the run.
pub fn load_dir(root: &Path) -> Vec<Result<Scenario, LoadError>> {
    match discover(root) {
        Ok(files) => {
            let mut loader = Loader::new(root);
            files.iter().map(|file| loader.load(file)).collect()
        }
        Err(e) => vec![Err(e)],
    }
}

/// Loads one scenario file; `root` is the scenarios folder that names it and holds `images/`.
pub fn load_file(root: &Path, path: &Path) -> Result<Scenario, LoadError> {
    let file = ScenarioFile { name: scenario_name(root, path), path: path.to_path_buf() };
    Loader::new(root).load(&file)
}

/// Parses scenario text (for tests and generated scenarios); images are read from `root/images`.
pub fn parse(root: &Path, name: &str, path: &Path, text: &str) -> Result<Scenario, LoadError> {
    Loader::new(root).parse(name, path, text)
}

/// Loads scenarios below one root, reading each fixture image and the catalogue once.
#[derive(Debug)]
pub struct Loader {
    root: PathBuf,
    images: HashMap<String, Result<Arc<str>, String>>,
    /// `images/catalogue.yaml`, read on first use and shared by every scenario.
    catalogue: Option<Result<Catalogue, LoadError>>,
}

impl Loader {
    /// A loader for the scenarios folder `root`.
    pub fn new(root: &Path) -> Loader {
        Loader { root: root.to_path_buf(), images: HashMap::new(), catalogue: None }
    }

    /// The folder's catalogue of real photos (see [`load_catalogue`]), read once.
    ///
    /// Every scenario loaded afterwards carries it; when it is broken, every scenario
    /// fails to load with its error, since no model could predict their images.
    pub fn catalogue(&mut self) -> Result<Catalogue, LoadError> {
        self.catalogue.get_or_insert_with(|| load_catalogue(&self.root)).clone()
    }

    /// Reads and checks one file.
    pub fn load(&mut self, file: &ScenarioFile) -> Result<Scenario, LoadError> {
        let bytes = std::fs::read(&file.path).map_err(|e| LoadError {
            path: file.path.clone(),
            line: 0,
            column: 0,
            message: format!("cannot read: {e}"),
        })?;
        let text = decode_utf8(bytes).map_err(|(at, message)| LoadError {
            path: file.path.clone(),
            line: at.line,
            column: at.column,
            message,
        })?;
        self.parse(&file.name, &file.path, &text)
    }

    /// Checks scenario text.
    pub fn parse(&mut self, name: &str, path: &Path, text: &str) -> Result<Scenario, LoadError> {
        let fail = |at: Pos, message: String| LoadError {
            path: path.to_path_buf(),
            line: at.line,
            column: at.column,
            message,
        };
        let catalogue = self.catalogue()?;
        let root = parse_yaml(text).map_err(|(at, message)| fail(at, message))?;
        let mut parser = FileParser { path, loader: self, catalogue };
        parser.scenario(name, root).map_err(|(at, message)| fail(at, message))
    }

    fn image(&mut self, name: &str) -> Result<Arc<str>, String> {
        if let Some(cached) = self.images.get(name) {
            return cached.clone();
        }
        let dir = self.root.join(IMAGES_DIR);
        let found =
            IMAGE_EXTENSIONS.iter().map(|ext| dir.join(format!("{name}.{ext}"))).find(|p| p.is_file());
        let result = match found {
            Some(path) => std::fs::read(&path)
                .map(|bytes| Arc::from(base64::engine::general_purpose::STANDARD.encode(bytes)))
                .map_err(|e| format!("cannot read image {}: {e}", path.display())),
            None => {
                let known = known_images(&dir);
                Err(format!(
                    "image `{name}` not found: expected {}/{name}.png or .jpg{}",
                    dir.display(),
                    did_you_mean(name, known.iter().map(String::as_str))
                ))
            }
        };
        self.images.insert(name.to_string(), result.clone());
        result
    }
}

/// The text of a file that must be UTF-8; otherwise the line and column of the first
/// byte that is not.
fn decode_utf8(bytes: Vec<u8>) -> Result<String, Fail> {
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let before = std::str::from_utf8(&bytes[..valid]).unwrap_or_default();
        let byte = bytes.get(valid).copied().unwrap_or_default();
        (
            position_after(before),
            format!(
                "not UTF-8: byte 0x{byte:02X} (offset {valid}) is not valid UTF-8; save the file as UTF-8"
            ),
        )
    })
}

/// The 1-based line and column (in characters) of the character after `before`.
fn position_after(before: &str) -> Pos {
    let line = before.matches('\n').count() as u64 + 1;
    let last_line = before.rsplit('\n').next().unwrap_or_default();
    Pos { line, column: last_line.chars().count() as u64 + 1 }
}

/// Whether YAML allows `c` in a stream (`c-printable`, YAML 1.2 §5.1).
fn yaml_printable(c: char) -> bool {
    matches!(c,
        '\t' | '\n' | '\r' | '\u{20}'..='\u{7E}' | '\u{85}' | '\u{A0}'..='\u{D7FF}'
        | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// Refuses a character YAML does not allow, with its line and column. The YAML reader
/// stops at some of them (a NUL ends the stream where it stands), which would silently
/// drop the rest of the file: a scenario with fewer steps that passes.
fn check_printable(text: &str) -> Result<(), Fail> {
    match text.char_indices().find(|(_, c)| !yaml_printable(*c)) {
        None => Ok(()),
        Some((i, c)) => Err((
            position_after(&text[..i]),
            format!(
                "invalid YAML: the control character U+{:04X} is not allowed in a YAML file{}",
                u32::from(c),
                if c == '\0' { " (a NUL byte)" } else { "" }
            ),
        )),
    }
}

/// Parses YAML text into a tree with positions; errors carry the location serde-saphyr found.
fn parse_yaml(text: &str) -> Result<Node, Fail> {
    check_printable(text)?;
    // YAML 1.2 booleans only: `n`, `no`, `on` and `yes` are user ids and capture names here.
    let options = serde_saphyr::Options { strict_booleans: true, ..serde_saphyr::Options::default() };
    let root: Spanned<RawNode> = serde_saphyr::from_str_with_options(text, options).map_err(|e| {
        let at = e.location().map(|l| Pos { line: l.line(), column: l.column() }).unwrap_or_default();
        let message = e.without_snippet().to_string();
        // serde-saphyr appends " at line L, column C"; the location is printed in front.
        let message = strip_location_suffix(&message);
        (at, format!("invalid YAML: {message}"))
    })?;
    Ok(Node::from_spanned(root))
}

fn strip_location_suffix(message: &str) -> &str {
    let message = message.strip_prefix("error: ").unwrap_or(message);
    let message = match message.split_once(": ") {
        Some((head, tail)) if head.starts_with("line ") => tail,
        _ => message,
    };
    match message.rfind(" at line ") {
        Some(i) => &message[..i],
        None => message,
    }
}

fn known_images(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter_map(|e| {
                    let path = e.path();
                    let ext = path.extension()?.to_str()?;
                    IMAGE_EXTENSIONS.contains(&ext).then(|| path.file_stem()?.to_str().map(str::to_string))?
                })
                .collect()
        })
        .unwrap_or_default()
}

type Fail = (Pos, String);

/// What names `${...}` may refer to at some point of a file.
#[derive(Debug, Default)]
struct Names {
    collections: BTreeSet<String>,
    images: BTreeMap<String, Arc<str>>,
    captures: BTreeSet<String>,
}

impl Names {
    fn all(&self) -> impl Iterator<Item = &str> {
        self.collections
            .iter()
            .map(String::as_str)
            .chain(self.images.keys().map(String::as_str))
            .chain(self.captures.iter().map(String::as_str))
    }

    fn check(&self, part: &Part) -> Result<(), String> {
        match part {
            Part::Literal(_) | Part::Repeat(..) => Ok(()),
            Part::Ref(name) => {
                if self.collections.contains(name)
                    || self.images.contains_key(name)
                    || self.captures.contains(name)
                {
                    Ok(())
                } else {
                    Err(format!(
                        "unknown reference `${{{name}}}`: not a declared collection or image, nor captured by an earlier step{}",
                        did_you_mean(name, self.all())
                    ))
                }
            }
            Part::Pad(collection, len) => {
                if !self.collections.contains(collection) {
                    return Err(format!(
                        "`${{pad({collection}, {len})}}` needs a collection declared under `collections:`{}",
                        did_you_mean(collection, self.collections.iter().map(String::as_str))
                    ));
                }
                Ok(())
            }
        }
    }

    /// A stand-in value for type checks at load time; `None` when the type is only known at run time.
    fn probe(&self, part: &Part) -> Option<String> {
        match part {
            Part::Literal(s) => Some(s.clone()),
            Part::Repeat(text, n) => Some(text.repeat(*n)),
            Part::Pad(_, n) => Some("x".repeat(*n)),
            Part::Ref(name) if self.captures.contains(name) => None,
            Part::Ref(name) => match self.images.get(name) {
                Some(b64) => Some(b64.to_string()),
                None => Some(format!("rekcon-00000000-0-{name}")),
            },
        }
    }
}

struct FileParser<'a> {
    path: &'a Path,
    loader: &'a mut Loader,
    catalogue: Catalogue,
}

const TOP_KEYS: [&str; 5] = ["description", "tags", "collections", "images", "steps"];
const STEP_KEYS: [&str; 3] = ["raw", "expect", "capture"];

impl FileParser<'_> {
    fn scenario(&mut self, name: &str, root: Node) -> Result<Scenario, Fail> {
        let NodeValue::Map(entries) = root.value else {
            return Err((
                root.at,
                format!("a scenario is a mapping with `description` and `steps`, not {}", root.kind()),
            ));
        };
        let mut description = None;
        let mut tags = Vec::new();
        let mut names = Names::default();
        let mut collections = Vec::new();
        let mut images = Vec::new();
        let mut steps_node = None;
        for (key, value) in entries {
            match key.name.as_str() {
                "description" => description = Some(string(&value, "description")?),
                "tags" => tags = string_list(&value, "tags")?.into_iter().map(|(s, _)| s).collect(),
                "collections" => {
                    for (collection, at) in string_list(&value, "collections")? {
                        check_simple_name(&collection, at, "collection")?;
                        if !names.collections.insert(collection.clone()) {
                            return Err((at, format!("collection `{collection}` is declared twice")));
                        }
                        collections.push(collection);
                    }
                }
                "images" => {
                    for (image, at) in string_list(&value, "images")? {
                        check_simple_name(&image, at, "image")?;
                        if names.collections.contains(&image) || names.images.contains_key(&image) {
                            return Err((at, format!("`{image}` is declared twice")));
                        }
                        let base64 = self.loader.image(&image).map_err(|e| (at, e))?;
                        names.images.insert(image.clone(), Arc::clone(&base64));
                        images.push(Fixture { name: image, base64 });
                    }
                }
                "steps" => steps_node = Some(value),
                other => {
                    return Err((
                        key.at,
                        format!("unknown key `{other}`{}", did_you_mean(other, TOP_KEYS.into_iter())),
                    ));
                }
            }
        }
        let description = description
            .ok_or((root.at, "missing `description`: say what behaviour this pins down".into()))?;
        let steps_node = steps_node.ok_or((root.at, "missing `steps`".to_string()))?;
        let NodeValue::Seq(step_nodes) = steps_node.value else {
            return Err((steps_node.at, format!("`steps` must be a list, not {}", steps_node.kind())));
        };
        if step_nodes.is_empty() {
            return Err((steps_node.at, "`steps` is empty".into()));
        }
        let mut steps = Vec::with_capacity(step_nodes.len());
        for (i, node) in step_nodes.into_iter().enumerate() {
            steps.push(self.step(i + 1, node, &mut names)?);
        }
        Ok(Scenario {
            name: name.to_string(),
            path: self.path.to_path_buf(),
            description,
            tags,
            collections,
            images,
            steps,
            catalogue: self.catalogue.clone(),
        })
    }

    fn step(&mut self, index: usize, node: Node, names: &mut Names) -> Result<Step, Fail> {
        let at = node.at;
        let NodeValue::Map(entries) = node.value else {
            return Err((
                at,
                format!("a step is a mapping like `- CreateUser: {{...}}`, not {}", node.kind()),
            ));
        };
        let mut action: Option<(Key, Node)> = None;
        let mut expect_node = None;
        let mut capture_node = None;
        for (key, value) in entries {
            match key.name.as_str() {
                "expect" => expect_node = Some(value),
                "capture" => capture_node = Some(value),
                name if name == "raw" || Operation::from_name(name).is_some() => {
                    if let Some((first, _)) = &action {
                        return Err((
                            key.at,
                            format!(
                                "a step has exactly one operation; this one has `{}` and `{name}`",
                                first.name
                            ),
                        ));
                    }
                    action = Some((key, value));
                }
                other => {
                    let candidates = Operation::ALL.iter().map(|o| o.name()).chain(STEP_KEYS);
                    let what =
                        if closest(other, STEP_KEYS.into_iter()).is_some() { "key" } else { "operation" };
                    return Err((
                        key.at,
                        format!("unknown {what} `{other}`{}", did_you_mean(other, candidates)),
                    ));
                }
            }
        }
        let (key, value) =
            action.ok_or((at, "a step needs an operation (`CreateUser: {...}`) or `raw:`".to_string()))?;
        let operation;
        let action = if key.name == "raw" {
            let (target, body) = self.raw(value, key.at, names)?;
            operation = target.operation;
            Action::Raw { target, body }
        } else {
            let op = Operation::from_name(&key.name).expect("matched above");
            operation = Some(op);
            Action::Call { operation: op, request: request_template(op, value, names)? }
        };
        let expect = expect_node.map(|n| expect(n, operation, names)).transpose()?;
        let captures = match capture_node {
            Some(n) => captures(n, operation, names)?,
            None => Vec::new(),
        };
        // Captures are visible from the next step on.
        for capture in &captures {
            names.captures.insert(capture.name.clone());
        }
        Ok(Step { index, line: at.line, column: at.column, action, expect, captures })
    }

    fn raw(&mut self, node: Node, key_at: Pos, names: &Names) -> Result<(RawTarget, RawBody), Fail> {
        let NodeValue::Map(entries) = node.value else {
            return Err((
                node.at,
                "`raw` takes `{ operation: X, body: '...' }` or `{ target: ..., body: '...' }`".into(),
            ));
        };
        let mut target = None;
        let mut body = None;
        for (key, value) in entries {
            match key.name.as_str() {
                "operation" => {
                    let name = string(&value, "operation")?;
                    let op = Operation::from_name(&name).ok_or_else(|| {
                        (
                            value.at,
                            format!(
                                "unknown operation `{name}`{}",
                                did_you_mean(&name, Operation::ALL.iter().map(|o| o.name()))
                            ),
                        )
                    })?;
                    if target.is_some() {
                        return Err((key.at, "`raw` takes one of `operation` and `target`, not both".into()));
                    }
                    target = Some(RawTarget { header: op.target(), operation: Some(op) });
                }
                "target" => {
                    let header = string(&value, "target")?;
                    if target.is_some() {
                        return Err((key.at, "`raw` takes one of `operation` and `target`, not both".into()));
                    }
                    let operation = header.strip_prefix("RekognitionService.").and_then(Operation::from_name);
                    target = Some(RawTarget { header, operation });
                }
                "body" => {
                    body = Some(match value.value {
                        NodeValue::Str(ref s) => {
                            let text = parse_text(s).map_err(|e| (value.at, e))?;
                            check_text(&text, value.at, names)?;
                            RawBody::Text(text)
                        }
                        NodeValue::Map(_) | NodeValue::Seq(_) => RawBody::Json(free_template(&value, names)?),
                        _ => {
                            return Err((
                                value.at,
                                format!("`body` must be a string or a mapping, not {}", value.kind()),
                            ));
                        }
                    });
                }
                other => {
                    return Err((
                        key.at,
                        format!(
                            "unknown key `{other}` in `raw`{}",
                            did_you_mean(other, ["operation", "target", "body"].into_iter())
                        ),
                    ));
                }
            }
        }
        let target = target
            .ok_or((key_at, "`raw` needs `operation: <Name>` or `target: <X-Amz-Target>`".to_string()))?;
        let body = body.ok_or((key_at, "`raw` needs a `body`".to_string()))?;
        Ok((target, body))
    }
}

fn string(node: &Node, what: &str) -> Result<String, Fail> {
    match &node.value {
        NodeValue::Str(s) => Ok(s.clone()),
        _ => Err((node.at, format!("`{what}` must be a string, not {}", node.kind()))),
    }
}

fn string_list(node: &Node, what: &str) -> Result<Vec<(String, Pos)>, Fail> {
    match &node.value {
        NodeValue::Seq(items) => items
            .iter()
            .map(|item| match &item.value {
                NodeValue::Str(s) => Ok((s.clone(), item.at)),
                other => Ok((scalar_text(other), item.at)),
            })
            .collect(),
        NodeValue::Null => Ok(Vec::new()),
        _ => Err((node.at, format!("`{what}` must be a list like `[a, b]`, not {}", node.kind()))),
    }
}

fn check_simple_name(name: &str, at: Pos, what: &str) -> Result<(), Fail> {
    let ok =
        !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err((at, format!("{what} name `{name}` may hold only letters, digits, `-`, `_` and `.`")))
    }
}

fn check_text(text: &Text, at: Pos, names: &Names) -> Result<(), Fail> {
    text.0.iter().try_for_each(|part| names.check(part)).map_err(|e| (at, e))
}

/// Nested request shapes whose member names are checked: path from the request root → members.
fn nested_request_members(path: &[&str]) -> Option<&'static [&'static str]> {
    match path {
        [.., "Image"] => Some(api::Image::MEMBERS),
        [.., "Image", "S3Object"] => Some(api::S3Object::MEMBERS),
        _ => None,
    }
}

/// The request of a typed step: member names checked, references checked, types probed.
fn request_template(op: Operation, node: Node, names: &Names) -> Result<Template, Fail> {
    let node = match node.value {
        NodeValue::Null => Node { value: NodeValue::Map(Vec::new()), at: node.at },
        NodeValue::Map(_) => node,
        _ => {
            return Err((
                node.at,
                format!("the {op} request must be a mapping of its members, not {}", node.kind()),
            ));
        }
    };
    check_members(op, &node, &mut Vec::new())?;
    let template = free_template(&node, names)?;
    // Probe the member types with the references filled in where their type is known now.
    if let Some(probe) = probe(&node, names)
        && let Err(e) = Request::from_json(op, &probe)
    {
        let member_path = e.message.rsplit_once("for member ").map(|(_, p)| p.to_string());
        let (at, hint) = match member_path.as_deref().and_then(|p| find_member(&node, p)) {
            Some(found) => (found.at, quoting_hint(found)),
            None => (node.at, String::new()),
        };
        return Err((at, format!("{op}: {}{hint}", e.message)));
    }
    Ok(template)
}

fn quoting_hint(node: &Node) -> String {
    match &node.value {
        NodeValue::Bool(_) | NodeValue::Int(_) | NodeValue::UInt(_) | NodeValue::Float(_) => {
            format!(
                " (YAML read `{}` as {}; quote it to send a string)",
                scalar_text(&node.value),
                node.kind()
            )
        }
        _ => String::new(),
    }
}

fn check_members(op: Operation, node: &Node, path: &mut Vec<String>) -> Result<(), Fail> {
    match &node.value {
        NodeValue::Map(entries) => {
            let path_refs: Vec<&str> = path.iter().map(String::as_str).collect();
            let allowed =
                if path.is_empty() { Some(op.request_members()) } else { nested_request_members(&path_refs) };
            for (key, value) in entries {
                if let Some(allowed) = allowed
                    && !allowed.contains(&key.name.as_str())
                {
                    let owner = if path.is_empty() {
                        op.name().to_string()
                    } else {
                        format!("{op} {}", path.join("."))
                    };
                    return Err((
                        key.at,
                        format!(
                            "unknown member `{}` of {owner}{}",
                            key.name,
                            did_you_mean(&key.name, allowed.iter().copied())
                        ),
                    ));
                }
                // Tags hold free keys; nothing below them is checked.
                if path.is_empty() && key.name == "Tags" {
                    continue;
                }
                path.push(key.name.clone());
                check_members(op, value, path)?;
                path.pop();
            }
            Ok(())
        }
        NodeValue::Seq(items) => items.iter().try_for_each(|item| check_members(op, item, path)),
        _ => Ok(()),
    }
}

/// The node at a decode-error member path such as `Image.S3Object.Bucket` or `FaceIds[1]`.
fn find_member<'n>(node: &'n Node, path: &str) -> Option<&'n Node> {
    let path = ValuePath::parse(path).ok()?;
    path.0.iter().try_fold(node, |n, segment| match (segment, &n.value) {
        (Segment::Member(name), NodeValue::Map(entries)) => {
            entries.iter().find(|(k, _)| &k.name == name).map(|(_, v)| v)
        }
        (Segment::Index(i), NodeValue::Seq(items)) => items.get(*i),
        _ => None,
    })
}

/// A template from any node; references are checked against `names`.
fn free_template(node: &Node, names: &Names) -> Result<Template, Fail> {
    Ok(match &node.value {
        NodeValue::Str(s) => {
            let text = parse_text(s).map_err(|e| (node.at, e))?;
            check_text(&text, node.at, names)?;
            match text.0.as_slice() {
                [Part::Literal(s)] => Template::Const(Value::String(s.clone())),
                _ => Template::Text(text),
            }
        }
        NodeValue::Seq(items) => {
            let items = items.iter().map(|n| free_template(n, names)).collect::<Result<Vec<_>, _>>()?;
            if items.iter().all(|t| matches!(t, Template::Const(_))) {
                Template::Const(Value::Array(items.into_iter().map(into_const).collect()))
            } else {
                Template::Array(items)
            }
        }
        NodeValue::Map(entries) => {
            let mut members = Vec::with_capacity(entries.len());
            let mut seen = BTreeSet::new();
            for (key, value) in entries {
                if !seen.insert(key.name.as_str()) {
                    return Err((key.at, format!("member `{}` is given twice", key.name)));
                }
                members.push((key.name.clone(), free_template(value, names)?));
            }
            if members.iter().all(|(_, t)| matches!(t, Template::Const(_))) {
                Template::Const(Value::Object(members.into_iter().map(|(k, t)| (k, into_const(t))).collect()))
            } else {
                Template::Object(members)
            }
        }
        scalar => Template::Const(scalar_json(scalar)),
    })
}

fn into_const(template: Template) -> Value {
    match template {
        Template::Const(v) => v,
        _ => unreachable!("checked by the caller"),
    }
}

fn scalar_json(value: &NodeValue) -> Value {
    match value {
        NodeValue::Null => Value::Null,
        NodeValue::Bool(b) => Value::Bool(*b),
        NodeValue::Int(i) => Value::from(*i),
        NodeValue::UInt(u) => Value::from(*u),
        NodeValue::Float(x) => match serde_json::Number::from_f64(*x) {
            Some(n) => Value::Number(n),
            // The awsJson1_1 spelling of non-finite floats.
            None if x.is_nan() => Value::from("NaN"),
            None if *x > 0.0 => Value::from("Infinity"),
            None => Value::from("-Infinity"),
        },
        NodeValue::Str(s) => Value::String(s.clone()),
        NodeValue::Seq(_) | NodeValue::Map(_) => Value::Null,
    }
}

/// The node as JSON with references replaced by stand-ins; `None` when a stand-in's type
/// would be a guess (a lone capture reference), so the check waits for run time.
fn probe(node: &Node, names: &Names) -> Option<Value> {
    Some(match &node.value {
        NodeValue::Str(s) => {
            let text = parse_text(s).ok()?;
            let mut out = String::new();
            for part in &text.0 {
                out.push_str(&names.probe(part)?);
            }
            Value::String(out)
        }
        NodeValue::Seq(items) => Value::Array(items.iter().map(|n| probe(n, names)).collect::<Option<_>>()?),
        NodeValue::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, v)| Some((k.name.clone(), probe(v, names)?)))
                .collect::<Option<Map<_, _>>>()?,
        ),
        scalar => scalar_json(scalar),
    })
}

fn expect(node: Node, operation: Option<Operation>, names: &Names) -> Result<Expect, Fail> {
    match &node.value {
        NodeValue::Str(s) if s == "success" => Ok(Expect::Success),
        NodeValue::Str(s) => {
            let hint = if ErrorCode::KNOWN.iter().any(|c| c.as_str() == s) {
                format!(" (write `expect: {{ error: {s} }}`)")
            } else {
                did_you_mean(s, ["success"].into_iter())
            };
            Err((
                node.at,
                format!(
                    "`expect` takes `success`, `{{ error: ... }}` or `{{ response: ... }}`, not `{s}`{hint}"
                ),
            ))
        }
        NodeValue::Map(entries) => {
            let [(key, value)] = entries.as_slice() else {
                return Err((node.at, "`expect` takes exactly one of `error` and `response`".into()));
            };
            match key.name.as_str() {
                "error" => {
                    let codes = match &value.value {
                        NodeValue::Str(s) => vec![(s.clone(), value.at)],
                        NodeValue::Seq(_) => string_list(value, "error")?,
                        _ => {
                            return Err((
                                value.at,
                                format!(
                                    "`error` takes an error type or a list of them, not {}",
                                    value.kind()
                                ),
                            ));
                        }
                    };
                    if codes.is_empty() {
                        return Err((value.at, "`error` needs at least one error type".into()));
                    }
                    codes
                        .into_iter()
                        .map(|(code, at)| error_code(&code, at))
                        .collect::<Result<_, _>>()
                        .map(Expect::Errors)
                }
                "response" => {
                    if !matches!(value.value, NodeValue::Map(_)) {
                        return Err((
                            value.at,
                            format!("`response` must be a mapping of response members, not {}", value.kind()),
                        ));
                    }
                    if let (Some(op), NodeValue::Map(members)) = (operation, &value.value) {
                        for (member, _) in members {
                            check_response_member(op, &member.name, member.at)?;
                        }
                    }
                    Ok(Expect::Response(free_template(value, names)?))
                }
                other => Err((
                    key.at,
                    format!(
                        "unknown key `{other}` in `expect`{}",
                        did_you_mean(other, ["error", "response"].into_iter())
                    ),
                )),
            }
        }
        _ => Err((
            node.at,
            format!(
                "`expect` takes `success`, `{{ error: ... }}` or `{{ response: ... }}`, not {}",
                node.kind()
            ),
        )),
    }
}

fn error_code(text: &str, at: Pos) -> Result<ErrorCode, Fail> {
    let code = ErrorCode::parse(text);
    if let ErrorCode::Other(other) = &code
        && let Some(close) = closest(other, ErrorCode::KNOWN.iter().map(ErrorCode::as_str))
    {
        return Err((at, format!("unknown error type `{other}` (did you mean `{close}`?)")));
    }
    Ok(code)
}

fn check_response_member(op: Operation, member: &str, at: Pos) -> Result<(), Fail> {
    let members = op.response_members();
    if members.contains(&member) {
        return Ok(());
    }
    let listing = if members.is_empty() {
        " (it has no members)".to_string()
    } else {
        did_you_mean(member, members.iter().copied())
    };
    Err((at, format!("unknown member `{member}` of the {op} response{listing}")))
}

fn captures(node: Node, operation: Option<Operation>, names: &Names) -> Result<Vec<Capture>, Fail> {
    let NodeValue::Map(entries) = node.value else {
        return Err((
            node.at,
            "`capture` maps names to response paths, like `{ face: \"FaceRecords[0].Face.FaceId\" }`".into(),
        ));
    };
    let mut out = Vec::with_capacity(entries.len());
    for (key, value) in entries {
        check_simple_name(&key.name, key.at, "capture")?;
        if names.collections.contains(&key.name) || names.images.contains_key(&key.name) {
            return Err((
                key.at,
                format!("capture `{}` would hide the declared collection or image of that name", key.name),
            ));
        }
        let text = string(&value, "capture path")?;
        let path = ValuePath::parse(&text).map_err(|e| (value.at, e))?;
        if let (Some(op), Some(first)) = (operation, path.first_member()) {
            check_response_member(op, first, value.at)?;
        }
        out.push(Capture { name: key.name, path });
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// The catalogue of real photos
// ---------------------------------------------------------------------------------------------

/// Loads `root/images/catalogue.yaml`, which declares who the real photos in that folder
/// show, so the model can predict what real AWS detects in them:
///
/// ```yaml
/// alice-1.jpg: [alice]
/// group-alice-bob.jpg: [alice, bob]        # largest face first
/// no-face.jpg: []
/// alice-twin-1.jpg: ["alice~twin"]         # a lookalike of alice
/// dave-1.jpg: [{ person: dave, box: [0.3, 0.2, 0.4, 0.5] }]   # left, top, width, height
/// ```
///
/// Keys are image file names in the folder (or the bare names scenarios use). Every
/// error names this file, its line and column; an unknown image suggests the closest
/// one. An entry for a fixture that carries a marker must agree with the marker, since
/// the built-in emulator reads the marker: a catalogue that disagreed would mispredict.
/// Without the file, the catalogue is empty.
pub fn load_catalogue(root: &Path) -> Result<Catalogue, LoadError> {
    let dir = root.join(IMAGES_DIR);
    let path = dir.join(CATALOGUE_FILE);
    let fail =
        |line: u64, column: u64, message: String| LoadError { path: path.clone(), line, column, message };
    let text = match std::fs::read(&path) {
        Ok(bytes) => decode_utf8(bytes).map_err(|(at, message)| fail(at.line, at.column, message))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Catalogue::default()),
        Err(e) => return Err(fail(0, 0, format!("cannot read: {e}"))),
    };
    parse_catalogue(&dir, &text).map_err(|(at, message)| fail(at.line, at.column, message))
}

/// One image a catalogue declared, for spotting duplicates.
struct Declared {
    file: String,
    at: Pos,
    faces: Vec<ImageFace>,
}

fn parse_catalogue(dir: &Path, text: &str) -> Result<Catalogue, Fail> {
    check_printable(text)?;
    // A file holding only comments declares nothing.
    if text.lines().all(|l| l.trim().is_empty() || l.trim_start().starts_with('#')) {
        return Ok(Catalogue::default());
    }
    let root = parse_yaml(text)?;
    let entries = match root.value {
        NodeValue::Null => return Ok(Catalogue::default()),
        NodeValue::Map(entries) => entries,
        _ => {
            return Err((
                root.at,
                format!(
                    "the catalogue maps image file names to the people they show, largest face \
                     first (`alice-1.jpg: [alice]`), not {}",
                    root.kind()
                ),
            ));
        }
    };
    let files = image_files(dir);
    let mut catalogue = Catalogue::default();
    let mut by_file: BTreeMap<String, Pos> = BTreeMap::new();
    let mut by_digest: BTreeMap<String, Declared> = BTreeMap::new();
    for (key, value) in entries {
        let file = resolve_image(&key, &files, dir)?;
        if let Some(first) = by_file.insert(file.clone(), key.at) {
            return Err((key.at, format!("`{file}` is declared twice (first at line {})", first.line)));
        }
        let (faces, with_boxes) = catalogue_faces(&file, value)?;
        let bytes = std::fs::read(dir.join(&file))
            .map_err(|e| (key.at, format!("cannot read image {}: {e}", dir.join(&file).display())))?;
        if let Some(marked) = image::marker_faces(&bytes) {
            let people = |faces: &[ImageFace]| faces.iter().map(|f| f.person.clone()).collect::<Vec<_>>();
            let boxes_differ = with_boxes
                && marked.iter().zip(&faces).any(|(m, f)| !same_box(&m.bounding_box, &f.bounding_box));
            if people(&marked) != people(&faces) || boxes_differ {
                return Err((
                    key.at,
                    format!(
                        "`{file}` carries a fixture marker declaring {}, but the catalogue says {}: \
                         the built-in emulator reads the marker, so the entry must agree with it \
                         (remove the entry, or replace the fixture with a real photo)",
                        describe_faces(&marked, boxes_differ),
                        describe_faces(&faces, boxes_differ)
                    ),
                ));
            }
        }
        let digest = image::digest(&bytes);
        if let Some(other) = by_digest.get(&digest) {
            if other.faces != faces {
                return Err((
                    key.at,
                    format!(
                        "`{file}` has the same bytes as `{}` (line {}), which is declared with other \
                         faces; identical images show the same faces",
                        other.file, other.at.line
                    ),
                ));
            }
            continue;
        }
        catalogue.declare(&bytes, faces.clone());
        by_digest.insert(digest, Declared { file, at: key.at, faces });
    }
    Ok(catalogue)
}

/// Image file names in `dir`, sorted; empty when it cannot be read.
fn image_files(dir: &Path) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter(|e| e.path().is_file())
                .filter_map(|e| e.file_name().to_str().map(str::to_string))
                .filter(|name| {
                    Path::new(name)
                        .extension()
                        .and_then(|x| x.to_str())
                        .is_some_and(|x| IMAGE_EXTENSIONS.contains(&x))
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// The image file a catalogue key names: a file name, or a bare name looked up like a
/// scenario's `images:` entry (`.png`, then `.jpg`, then `.jpeg`).
fn resolve_image(key: &Key, files: &[String], dir: &Path) -> Result<String, Fail> {
    if files.contains(&key.name) {
        return Ok(key.name.clone());
    }
    if let Some(file) =
        IMAGE_EXTENSIONS.iter().map(|ext| format!("{}.{ext}", key.name)).find(|f| files.contains(f))
    {
        return Ok(file);
    }
    let stems: Vec<&str> =
        files.iter().filter_map(|f| Path::new(f).file_stem().and_then(|s| s.to_str())).collect();
    let candidates = files.iter().map(String::as_str).chain(stems);
    Err((
        key.at,
        format!("no image `{}` in {}{}", key.name, dir.display(), did_you_mean(&key.name, candidates)),
    ))
}

/// The faces a catalogue entry declares, in order, and whether they came with boxes.
fn catalogue_faces(file: &str, node: Node) -> Result<(Vec<ImageFace>, bool), Fail> {
    let items = match node.value {
        NodeValue::Seq(items) => items,
        NodeValue::Null => {
            return Err((
                node.at,
                format!(
                    "`{file}` needs the list of people it shows, largest face first; \
                     write `[]` for an image without faces"
                ),
            ));
        }
        NodeValue::Str(person) => {
            return Err((node.at, format!("the faces of `{file}` are a list: write `[{person}]`")));
        }
        _ => {
            return Err((
                node.at,
                format!("the faces of `{file}` are a list like `[alice, bob]`, not {}", node.kind()),
            ));
        }
    };
    let mut faces: Vec<(String, Option<BoundingBox>, Pos)> = Vec::with_capacity(items.len());
    for item in items {
        faces.push(catalogue_face(item)?);
    }
    let with_boxes = faces.iter().any(|(_, b, _)| b.is_some());
    if with_boxes && let Some((person, _, at)) = faces.iter().find(|(_, b, _)| b.is_none()) {
        return Err((
            *at,
            format!("`{person}` has no box: give a box for every face of `{file}` or for none"),
        ));
    }
    for pair in faces.windows(2) {
        if let [(first, Some(a), _), (second, Some(b), at)] = pair
            && b.area() > a.area() + 1e-12
        {
            return Err((
                *at,
                format!(
                    "faces are listed largest first, but `{second}`'s box (area {:.4}) is larger \
                     than `{first}`'s before it ({:.4})",
                    b.area(),
                    a.area()
                ),
            ));
        }
    }
    let faces = faces
        .into_iter()
        .enumerate()
        .map(|(i, (person, bounding_box, _))| ImageFace {
            person,
            bounding_box: bounding_box.unwrap_or_else(|| image::placeholder_box(i)),
        })
        .collect();
    Ok((faces, with_boxes))
}

/// One face: `alice`, or `{ person: alice, box: [left, top, width, height] }`.
fn catalogue_face(node: Node) -> Result<(String, Option<BoundingBox>, Pos), Fail> {
    const FACE_KEYS: [&str; 2] = ["person", "box"];
    let at = node.at;
    let ((person, person_at), bounding_box) = match node.value {
        NodeValue::Str(person) => ((person, at), None),
        NodeValue::Map(entries) => {
            let (mut person, mut bounding_box) = (None, None);
            for (key, value) in entries {
                match key.name.as_str() {
                    "person" => person = Some((string(&value, "person")?, value.at)),
                    "box" => bounding_box = Some(catalogue_box(&value)?),
                    other => {
                        return Err((
                            key.at,
                            format!("unknown key `{other}`{}", did_you_mean(other, FACE_KEYS.into_iter())),
                        ));
                    }
                }
            }
            let Some(person) = person else {
                return Err((at, "a face written as a mapping needs `person:`".into()));
            };
            (person, bounding_box)
        }
        NodeValue::Int(_) | NodeValue::UInt(_) | NodeValue::Float(_) | NodeValue::Bool(_) => {
            return Err((
                at,
                format!("a person's name is a string: quote it (`\"{}\"`)", scalar_text(&node.value)),
            ));
        }
        _ => {
            return Err((
                at,
                format!(
                    "a face is a person's name (`alice`) or `{{ person: alice, box: [left, top, \
                     width, height] }}`, not {}",
                    node.kind()
                ),
            ));
        }
    };
    if person.trim().is_empty() {
        return Err((person_at, "a person's name cannot be empty".into()));
    }
    Ok((person, bounding_box, at))
}

/// `[left, top, width, height]`, ratios of the image size as IndexFaces reports them.
fn catalogue_box(node: &Node) -> Result<BoundingBox, Fail> {
    let shape =
        || (node.at, "a box is `[left, top, width, height]`, four ratios of the image size".to_string());
    let NodeValue::Seq(items) = &node.value else { return Err(shape()) };
    let numbers: Vec<f64> = items
        .iter()
        .map(|item| match item.value {
            NodeValue::Int(i) => Some(i as f64),
            NodeValue::UInt(u) => Some(u as f64),
            NodeValue::Float(x) if x.is_finite() => Some(x),
            _ => None,
        })
        .collect::<Option<_>>()
        .ok_or_else(shape)?;
    let [left, top, width, height] = numbers[..] else { return Err(shape()) };
    if !(width > 0.0 && width <= 1.0 && height > 0.0 && height <= 1.0) {
        return Err((
            node.at,
            format!("a box's width and height are ratios in (0, 1], got {width} and {height}"),
        ));
    }
    if !((-1.0..=1.0).contains(&left) && (-1.0..=1.0).contains(&top)) {
        return Err((node.at, format!("a box's left and top are ratios in [-1, 1], got {left} and {top}")));
    }
    Ok(BoundingBox { left, top, width, height })
}

fn same_box(a: &BoundingBox, b: &BoundingBox) -> bool {
    const TOL: f64 = 1e-9;
    (a.left - b.left).abs() <= TOL
        && (a.top - b.top).abs() <= TOL
        && (a.width - b.width).abs() <= TOL
        && (a.height - b.height).abs() <= TOL
}

/// `[alice, bob]`, or with boxes `[alice@0.1,0.1,0.3,0.4, …]`.
fn describe_faces(faces: &[ImageFace], with_boxes: bool) -> String {
    let faces: Vec<String> = faces
        .iter()
        .map(|f| {
            let b = f.bounding_box;
            if with_boxes {
                format!("{}@{},{},{},{}", f.person, b.left, b.top, b.width, b.height)
            } else {
                f.person.clone()
            }
        })
        .collect();
    format!("[{}]", faces.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Loads `bytes` as a file `t/x.yaml` of a fresh scenarios folder.
    fn load_bytes(bytes: &[u8]) -> Result<Scenario, LoadError> {
        let root = std::env::temp_dir().join(format!("rekcon-bytes-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(root.join("t")).expect("temp dir");
        let path = root.join("t/x.yaml");
        std::fs::write(&path, bytes).expect("scenario file");
        let loaded = load_file(&root, &path);
        let _ = std::fs::remove_dir_all(&root);
        loaded
    }

    #[cfg(unix)]
    #[test]
    fn symlink_loops_are_searched_once_and_the_skipped_links_named() {
        use std::os::unix::fs::symlink;
        let base = std::env::temp_dir().join(format!("rekcon-links-{}", uuid::Uuid::new_v4().simple()));
        let (root, outside) = (base.join("root"), base.join("outside"));
        for dir in [root.join("a/deep"), root.join("b"), outside.clone()] {
            std::fs::create_dir_all(dir).expect("temp dir");
        }
        for file in [root.join("a/one.yaml"), root.join("a/deep/two.yaml"), outside.join("three.yaml")] {
            std::fs::write(file, "description: d\nsteps: []\n").expect("scenario file");
        }
        // Two loops back up the tree (once exponential), a second way to a/, and a link
        // to a folder outside the tree, which is searched once.
        symlink("..", root.join("a/loop")).expect("link");
        symlink("../..", root.join("a/deep/up")).expect("link");
        symlink("../a", root.join("b/again")).expect("link");
        symlink(&outside, root.join("shared")).expect("link");
        symlink(&outside, root.join("zz-shared-again")).expect("link");
        let found = discover_all(&root).expect("discovered");
        let names: Vec<&str> = found.files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["a/deep/two", "a/one", "shared/three"]);
        let mut skipped: Vec<String> = found
            .skipped
            .iter()
            .map(|s| s.link.strip_prefix(&root).expect("below the root").display().to_string())
            .collect();
        skipped.sort();
        assert_eq!(skipped, ["a/deep/up", "a/loop", "b/again", "zz-shared-again"]);
        let message = found.skipped[0].to_string();
        assert!(
            message.starts_with("skipped the link ") && message.contains("already searched"),
            "{message}"
        );
        let _ = std::fs::remove_dir_all(&base);
    }

    const TWO_STEPS: &str =
        "description: d\ncollections: [c]\nsteps:\n  - CreateCollection: { CollectionId: \"${c}\" }\n";

    #[test]
    fn a_nul_byte_is_a_load_error_with_its_place_never_a_shorter_scenario() {
        let text = format!("{TWO_STEPS}# \u{0}\n  - DeleteCollection: {{ CollectionId: \"${{c}}\" }}\n");
        let e = load_bytes(text.as_bytes()).expect_err("a NUL must not load");
        assert_eq!((e.line, e.column), (5, 3), "{e}");
        assert!(e.message.contains("U+0000"), "{e}");
        // Anywhere: in a value too, and with other control characters.
        let text = format!("{TWO_STEPS}  - DeleteCollection: {{ CollectionId: \"x\u{1}y\" }}\n");
        let e = load_bytes(text.as_bytes()).expect_err("a control character must not load");
        assert_eq!((e.line, e.column), (5, 41), "{e}");
        // Without it, the same file has both steps.
        let text = format!("{TWO_STEPS}# -\n  - DeleteCollection: {{ CollectionId: \"${{c}}\" }}\n");
        assert_eq!(load_bytes(text.as_bytes()).expect("loads").steps.len(), 2);
    }

    #[test]
    fn invalid_utf8_is_a_load_error_with_its_place() {
        let mut bytes = TWO_STEPS.as_bytes().to_vec();
        bytes.extend_from_slice(b"  - DeleteCollection: { CollectionId: \"\xC3\x28\" }\n");
        let e = load_bytes(&bytes).expect_err("invalid UTF-8 must not load");
        assert_eq!((e.line, e.column), (5, 40), "{e}");
        assert!(e.message.contains("not UTF-8"), "{e}");
        assert!(e.to_string().contains("x.yaml:5:40: not UTF-8"), "{e}");
    }

    fn load(text: &str) -> Result<Scenario, LoadError> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        parse(&root, "t/x", Path::new("scenarios/t/x.yaml"), text)
    }

    fn err(text: &str) -> String {
        load(text).expect_err("should fail").to_string()
    }

    #[test]
    fn misspelt_operation_names_place_and_suggestion() {
        let e = err(
            "description: d\ncollections: [c]\nsteps:\n  - CreateCollection: { CollectionId: \"${c}\" }\n  - AssociateFace: { CollectionId: \"${c}\" }\n",
        );
        assert_eq!(
            e,
            "scenarios/t/x.yaml:5:5: unknown operation `AssociateFace` (did you mean `AssociateFaces`?)"
        );
    }

    #[test]
    fn misspelt_member_names_place_and_suggestion() {
        let e = err(
            "description: d\ncollections: [c]\nsteps:\n  - AssociateFaces: { CollectionId: \"${c}\", UserId: u, FaceId: [x] }\n",
        );
        assert_eq!(
            e,
            "scenarios/t/x.yaml:4:56: unknown member `FaceId` of AssociateFaces (did you mean `FaceIds`?)"
        );
        let e =
            err("description: d\nsteps:\n  - IndexFaces: { Image: { S3Object: { Bucket: b, Nmae: n } } }\n");
        assert!(
            e.contains("unknown member `Nmae` of IndexFaces Image.S3Object (did you mean `Name`?)"),
            "{e}"
        );
    }

    #[test]
    fn unknown_reference_suggests_declared_name() {
        let e = err(
            "description: d\ncollections: [coll]\nsteps:\n  - CreateCollection: { CollectionId: \"${col}\" }\n",
        );
        assert!(e.starts_with("scenarios/t/x.yaml:4:39: unknown reference `${col}`"), "{e}");
        assert!(e.ends_with("(did you mean `coll`?)"), "{e}");
    }

    #[test]
    fn captures_are_visible_only_to_later_steps() {
        let e = err(
            "description: d\ncollections: [c]\nsteps:\n  - ListUsers: { CollectionId: \"${c}\", NextToken: \"${t}\" }\n    capture: { t: NextToken }\n",
        );
        assert!(e.contains("unknown reference `${t}`"), "{e}");
        let ok = load(
            "description: d\ncollections: [c]\nsteps:\n  - ListUsers: { CollectionId: \"${c}\" }\n    capture: { t: NextToken }\n  - ListUsers: { CollectionId: \"${c}\", NextToken: \"${t}\" }\n",
        );
        assert!(ok.is_ok(), "{ok:?}");
    }

    #[test]
    fn wrong_member_type_points_at_the_value_with_a_quoting_hint() {
        let e = err("description: d\nsteps:\n  - CreateUser: { CollectionId: c, UserId: 123 }\n");
        assert_eq!(
            e,
            "scenarios/t/x.yaml:3:44: CreateUser: expected a string for member UserId (YAML read `123` as a number; quote it to send a string)"
        );
    }

    #[test]
    fn expectations_parse_and_misspelt_error_types_are_caught() {
        let s = load("description: d\nsteps:\n  - ListCollections: {}\n    expect: success\n  - ListCollections:\n    expect: { error: [ValidationException, InvalidParameterException] }\n  - ListCollections: {}\n    expect: { response: { CollectionIds: [] } }\n").expect("loads");
        assert!(matches!(s.steps[0].expect, Some(Expect::Success)));
        assert!(matches!(&s.steps[1].expect, Some(Expect::Errors(codes)) if codes.len() == 2));
        assert!(matches!(s.steps[2].expect, Some(Expect::Response(_))));
        let e =
            err("description: d\nsteps:\n  - ListCollections: {}\n    expect: { error: ResourceNotFound }\n");
        assert!(e.contains("did you mean `ResourceNotFoundException`"), "{e}");
        let e = err(
            "description: d\nsteps:\n  - ListCollections: {}\n    expect: { response: { CollectionId: [] } }\n",
        );
        assert!(e.contains("unknown member `CollectionId` of the ListCollections response (did you mean `CollectionIds`?)"), "{e}");
    }

    #[test]
    fn one_operation_per_step() {
        let e = err("description: d\nsteps:\n  - ListCollections: {}\n    DescribeCollection: {}\n");
        assert!(e.contains("exactly one operation"), "{e}");
        let e = err("description: d\nsteps:\n  - expect: success\n");
        assert!(e.contains("needs an operation"), "{e}");
        let e = err("description: d\nsteps:\n  - ListCollections: {}\n    expcet: success\n");
        assert!(e.contains("unknown key `expcet` (did you mean `expect`?)"), "{e}");
    }

    #[test]
    fn invalid_yaml_reports_its_location() {
        let e = err("description: d\nsteps: [\n  - a: 1\n");
        assert!(e.starts_with("scenarios/t/x.yaml:"), "{e}");
        assert!(e.contains("invalid YAML"), "{e}");
    }

    #[test]
    fn templates_render_whole_and_embedded_references() {
        let s = load("description: d\ncollections: [c]\nsteps:\n  - CreateCollection: { CollectionId: \"${c}\" }\n    capture: { n: StatusCode }\n  - raw: { operation: ListCollections, body: '{\"MaxResults\": ${n}, \"X\": \"$${c}\"}' }\n  - CreateCollection: { CollectionId: \"${pad(c, 30)}\" }\n  - CreateCollection: { CollectionId: \"${repeat(ab, 3)}\" }\n").expect("loads");
        let scenario = s.clone();
        let mut bindings = Bindings::new(&scenario, "rekcon-12345678-1-");
        bindings.capture("n", Value::from(7));
        let Action::Call { request, .. } = &s.steps[0].action else { panic!() };
        assert_eq!(
            request.render(&bindings).unwrap(),
            serde_json::json!({"CollectionId": "rekcon-12345678-1-c"})
        );
        let Action::Raw { body: RawBody::Text(text), target } = &s.steps[1].action else { panic!() };
        assert_eq!(target.operation, Some(Operation::ListCollections));
        assert_eq!(text.render_string(&bindings).unwrap(), "{\"MaxResults\": 7, \"X\": \"${c}\"}");
        let Action::Call { request, .. } = &s.steps[2].action else { panic!() };
        let padded = request.render(&bindings).unwrap();
        assert_eq!(padded["CollectionId"].as_str().unwrap().len(), 30);
        assert!(padded["CollectionId"].as_str().unwrap().starts_with("rekcon-12345678-1-cx"));
        let Action::Call { request, .. } = &s.steps[3].action else { panic!() };
        assert_eq!(request.render(&bindings).unwrap()["CollectionId"], "ababab");
    }

    #[test]
    fn value_paths_parse_and_read() {
        let path = ValuePath::parse("FaceRecords[0].Face.FaceId").unwrap();
        assert_eq!(path.to_string(), "FaceRecords[0].Face.FaceId");
        let v = serde_json::json!({"FaceRecords": [{"Face": {"FaceId": "f"}}]});
        assert_eq!(path.get(&v), Some(&Value::from("f")));
        assert!(ValuePath::parse("A[x]").is_err());
        assert!(ValuePath::parse("A[0][1].B").is_ok());
    }

    #[test]
    fn closest_names() {
        assert_eq!(closest("AssociateFace", Operation::ALL.iter().map(|o| o.name())), Some("AssociateFaces"));
        assert_eq!(closest("zzz", Operation::ALL.iter().map(|o| o.name())), None);
    }
}

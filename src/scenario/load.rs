//! The scenario format: a file's YAML checked against the API's own shapes and turned into
//! a [`Scenario`], with file, line and column on every error.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::api::{self, ErrorCode, Operation, Request};
use crate::error::LoadError;
use crate::image::Catalogue;

use super::catalogue::load_catalogue;
use super::discover::{ScenarioFile, discover, scenario_name};
use super::suggest::{closest, did_you_mean};
use super::template::{Part, Template, Text, parse_text};
use super::value_path::{Segment, ValuePath};
use super::yaml::{Fail, Key, Node, NodeValue, Pos, decode_utf8, parse_yaml, scalar_text};
use super::{
    Action, Capture, Expect, Fixture, IMAGE_EXTENSIONS, IMAGES_DIR, RawBody, RawTarget, Scenario, Step,
};

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
        let root = parse_yaml(text);
        self.check(name, path, root)
    }

    /// Checks a scenario a program made, given as the JSON value of its document (the
    /// mapping a scenario file holds): the same checks and the same loaded form as
    /// [`Loader::parse`] of that document written as YAML, without writing and reading
    /// the text (the fuzzer builds every case this way and writes YAML only for
    /// findings). `steps_at` holds each step's (line, column) in the file it would be
    /// written as; the step's members share its place, and anything else is at 0:0.
    pub fn build(
        &mut self,
        name: &str,
        path: &Path,
        document: &Value,
        steps_at: &[(u64, u64)],
    ) -> Result<Scenario, LoadError> {
        let mut root = Node::from_json(document, Pos::default());
        if let NodeValue::Map(entries) = &mut root.value
            && let Some((_, steps)) = entries.iter_mut().find(|(key, _)| key.name == "steps")
            && let NodeValue::Seq(steps) = &mut steps.value
        {
            for (step, &(line, column)) in steps.iter_mut().zip(steps_at) {
                step.place(Pos { line, column });
            }
        }
        self.check(name, path, Ok(root))
    }

    /// Checks a scenario's tree (the catalogue first: no scenario loads without it).
    fn check(&mut self, name: &str, path: &Path, root: Result<Node, Fail>) -> Result<Scenario, LoadError> {
        let fail = |(at, message): Fail| LoadError {
            path: path.to_path_buf(),
            line: at.line,
            column: at.column,
            message,
        };
        let catalogue = self.catalogue()?;
        let root = root.map_err(fail)?;
        let mut parser = FileParser { path, loader: self, catalogue };
        parser.scenario(name, root).map_err(fail)
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
    /// With `short`, a repetition of whole base64 quads stands in with one copy (see
    /// [`short_repeat`]).
    fn probe(&self, part: &Part, short: bool) -> Option<String> {
        match part {
            Part::Literal(s) => Some(s.clone()),
            Part::Repeat(text, n) if short && short_repeat(text, *n) => Some(text.clone()),
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

const TOP_KEYS: [&str; 6] = ["description", "tags", "collections", "images", "steps", "compare"];
const COMPARE_KEYS: [&str; 5] = ["tolerance", "ignore", "unordered", "exact", "reason"];
const STEP_KEYS: [&str; 4] = ["raw", "expect", "capture", "concurrent"];
/// Most steps one `concurrent:` block may hold: the linearizability search grows fast.
const MAX_CONCURRENT: usize = 16;

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
        let mut compare = Vec::new();
        for (key, value) in entries {
            match key.name.as_str() {
                "compare" => compare = compare_overrides(value)?,
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
        let mut groups = 0;
        for node in step_nodes {
            match concurrent_block(node)? {
                Ok(block) => {
                    groups += 1;
                    let block = self.concurrent(steps.len() + 1, block, groups, &mut names)?;
                    steps.extend(block);
                }
                Err(node) => steps.push(self.step(steps.len() + 1, node, &mut names)?),
            }
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
            compare,
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
        Ok(Step { index, line: at.line, column: at.column, action, expect, captures, concurrent: None })
    }

    /// The steps of a `concurrent:` block (its list node), numbered from `first`, in group
    /// `group`: operation calls only, with neither `expect` nor `capture` — what a racing
    /// call may answer depends on the order the endpoint took, which the linearizability
    /// check judges.
    fn concurrent(
        &mut self,
        first: usize,
        block: Node,
        group: usize,
        names: &mut Names,
    ) -> Result<Vec<Step>, Fail> {
        let NodeValue::Seq(nodes) = block.value else {
            return Err((block.at, format!("`concurrent` takes a list of steps, not {}", block.kind())));
        };
        if nodes.len() < 2 || nodes.len() > MAX_CONCURRENT {
            return Err((
                block.at,
                format!("a `concurrent` block holds 2 to {MAX_CONCURRENT} steps, not {}", nodes.len()),
            ));
        }
        let mut steps = Vec::with_capacity(nodes.len());
        for node in nodes {
            if let NodeValue::Map(entries) = &node.value {
                for (key, _) in entries {
                    let why = match key.name.as_str() {
                        "expect" | "capture" => {
                            "the outcome of a racing call depends on the order the endpoint took; the \
                             linearizability check judges it (capture in a step after the block)"
                        }
                        "raw" => "the linearizability check needs a typed request",
                        "concurrent" => "`concurrent` blocks do not nest",
                        _ => continue,
                    };
                    return Err((
                        key.at,
                        format!("`{}` is not allowed inside `concurrent`: {why}", key.name),
                    ));
                }
            }
            let mut step = self.step(first + steps.len(), node, names)?;
            step.concurrent = Some(group);
            steps.push(step);
        }
        Ok(steps)
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

/// `Ok(list)` when `node` is a `- concurrent: [...]` step, else `Err(node)` given back; a
/// `concurrent` key beside other keys is an error.
fn concurrent_block(node: Node) -> Result<Result<Node, Node>, Fail> {
    let NodeValue::Map(entries) = &node.value else { return Ok(Err(node)) };
    let Some(at) = entries.iter().position(|(key, _)| key.name == "concurrent") else { return Ok(Err(node)) };
    if entries.len() > 1 {
        let other = entries.iter().find(|(key, _)| key.name != "concurrent").map(|(key, _)| key);
        let (pos, name) = other.map_or((node.at, String::new()), |k| (k.at, k.name.clone()));
        return Err((
            pos,
            format!("a `concurrent` step holds only its list of steps, not `{name}` beside it"),
        ));
    }
    let NodeValue::Map(mut entries) = node.value else { return Ok(Err(node)) };
    Ok(Ok(entries.swap_remove(at).1))
}

/// `compare: { "FaceMatches[].Similarity": { tolerance: 5, reason: "…" } }`: one way of
/// comparing per path (`tolerance: N`, `ignore: true`, `unordered: true` or `exact: true`)
/// and a reason, always.
fn compare_overrides(node: Node) -> Result<Vec<super::FieldOverride>, Fail> {
    use super::{Comparison, FieldOverride};
    let NodeValue::Map(entries) = node.value else {
        return Err((
            node.at,
            format!("`compare` maps field paths to `{{ tolerance: N, reason: ... }}`, not {}", node.kind()),
        ));
    };
    let mut out: Vec<FieldOverride> = Vec::new();
    for (path, value) in entries {
        let path_name = path.name.clone();
        if path_name.trim().is_empty() || path_name.contains(char::is_whitespace) {
            return Err((
                path.at,
                format!("`{path_name}` is not a field path like `FaceMatches[].Similarity`"),
            ));
        }
        if out.iter().any(|o| o.path == path_name) {
            return Err((path.at, format!("`compare` names `{path_name}` twice")));
        }
        let at = value.at;
        let NodeValue::Map(fields) = value.value else {
            return Err((
                at,
                format!("`compare.{path_name}` must be a mapping like `{{ tolerance: 5, reason: ... }}`"),
            ));
        };
        let (mut how, mut reason) = (None, None);
        for (key, v) in fields {
            let chosen = match (key.name.as_str(), &v.value) {
                ("reason", NodeValue::Str(text)) if !text.trim().is_empty() => {
                    reason = Some(text.clone());
                    None
                }
                ("reason", _) => {
                    return Err((v.at, format!("`compare.{path_name}.reason` must say why, in words")));
                }
                ("tolerance", NodeValue::Int(n)) if *n >= 0 => Some(Comparison::Tolerance(*n as f64)),
                ("tolerance", NodeValue::UInt(n)) => Some(Comparison::Tolerance(*n as f64)),
                ("tolerance", NodeValue::Float(x)) if x.is_finite() && *x >= 0.0 => {
                    Some(Comparison::Tolerance(*x))
                }
                ("tolerance", _) => {
                    return Err((v.at, "`tolerance` must be a number, 0 or more".to_string()));
                }
                ("ignore", NodeValue::Bool(true)) => Some(Comparison::Ignore),
                ("unordered", NodeValue::Bool(true)) => Some(Comparison::Unordered),
                ("exact", NodeValue::Bool(true)) => Some(Comparison::Exact),
                ("ignore" | "unordered" | "exact", _) => {
                    return Err((v.at, format!("`{}` takes `true`", key.name)));
                }
                (other, _) => {
                    return Err((
                        key.at,
                        format!("unknown key `{other}`{}", did_you_mean(other, COMPARE_KEYS.into_iter())),
                    ));
                }
            };
            if let Some(chosen) = chosen {
                if how.is_some() {
                    return Err((key.at, format!("`compare.{path_name}` says how to compare twice")));
                }
                how = Some(chosen);
            }
        }
        let how = how.ok_or((
            at,
            format!("`compare.{path_name}` needs one of tolerance, ignore, unordered or exact"),
        ))?;
        let reason = reason.ok_or((
            at,
            format!("`compare.{path_name}` needs a `reason`: say why this field is compared otherwise than the table"),
        ))?;
        out.push(FieldOverride { path: path_name, how, reason });
    }
    Ok(out)
}

pub(super) fn string(node: &Node, what: &str) -> Result<String, Fail> {
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
    // Probe the member types with the references filled in where their type is known now:
    // first with long repetitions cut short (a request that decodes so decodes in full),
    // then, to report the error the full request gives, in full.
    let decodes = |short: bool| probe(&node, names, short).map(|probe| Request::from_json(op, &probe));
    if let Some(Err(_)) = decodes(true)
        && let Some(Err(e)) = decodes(false)
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

/// What a probe sends for a whole image: valid base64 of a few bytes.
const IMAGE_STAND_IN: &str = "AAAA";

/// Whether `${repeat(text, n)}` may stand in as one copy of `text` in a probe: when
/// `text` is whole base64 quads (no padding), the probe decodes with one copy exactly
/// when it decodes with `n` (the bytes, the padding's place, the length modulo 4 and the
/// last symbol stay), and any other member accepts any string. A 5 MiB image written as
/// a repetition is then neither built nor decoded at load time.
fn short_repeat(text: &str, n: usize) -> bool {
    n > 1
        && !text.is_empty()
        && text.len().is_multiple_of(4)
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

/// The node as JSON with references replaced by stand-ins; `None` when a stand-in's type
/// would be a guess (a lone capture reference), so the check waits for run time.
fn probe(node: &Node, names: &Names, short: bool) -> Option<Value> {
    Some(match &node.value {
        NodeValue::Str(s) => {
            let text = parse_text(s).ok()?;
            // A whole image is valid base64 (the loader encoded it), and types are all a
            // probe checks: a short stand-in checks the same, without copying and
            // decoding the image for every step that sends it.
            if let [Part::Ref(name)] = text.0.as_slice()
                && names.images.contains_key(name)
            {
                return Some(Value::String(IMAGE_STAND_IN.into()));
            }
            let mut out = String::new();
            for part in &text.0 {
                out.push_str(&names.probe(part, short)?);
            }
            Value::String(out)
        }
        NodeValue::Seq(items) => {
            Value::Array(items.iter().map(|n| probe(n, names, short)).collect::<Option<_>>()?)
        }
        NodeValue::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, v)| Some((k.name.clone(), probe(v, names, short)?)))
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

#[cfg(test)]
mod tests {
    use super::super::Bindings;
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
    fn a_control_character_in_a_built_value_loads_as_its_escaped_text_does() {
        // The fuzzer draws pattern violations from outside each pattern's characters,
        // control characters included; its YAML writes them escaped, which loads.
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let text = "description: d\nsteps:\n  - ListUsers: { CollectionId: \"\\u0005c\" }\n";
        let parsed = parse(&root, "t/x", Path::new("t/x.yaml"), text).expect("the escaped text loads");
        let document = serde_json::json!({
            "description": "d",
            "steps": [{"ListUsers": {"CollectionId": "\u{5}c"}}],
        });
        let built = Loader::new(&root)
            .build("t/x", Path::new("t/x.yaml"), &document, &[(3, 5)])
            .expect("the built document loads");
        let request = |s: &Scenario| match &s.steps[0].action {
            Action::Call { request, .. } => request.render(&Bindings::default()).expect("renders"),
            other => panic!("{other:?}"),
        };
        assert_eq!(request(&parsed), request(&built));
        assert_eq!(request(&built)["CollectionId"], "\u{5}c");
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
    fn a_probe_cut_short_decodes_exactly_when_the_full_request_does() {
        let texts = ["AAAA", "AAAAAAAA", "QUJD", "ab+/", "////"];
        let ends =
            ["", "A", "AA", "AAA", "=", "A=", "AA=", "AA==", "AQ==", "AB==", "QUI=", "QUJ=", "A===", "*"];
        for text in texts {
            assert!(short_repeat(text, 3), "{text}");
            for (prefix, suffix) in ends.iter().flat_map(|p| ends.iter().map(move |s| (*p, *s))) {
                for n in [2, 3, 5] {
                    let full = api::Blob::from_base64(&format!("{prefix}{}{suffix}", text.repeat(n))).is_ok();
                    let short = api::Blob::from_base64(&format!("{prefix}{text}{suffix}")).is_ok();
                    assert_eq!(short, full, "{prefix:?} + {text:?} x {n} + {suffix:?}");
                }
            }
        }
        // Anything else is probed in full.
        for (text, n) in [("AAA", 4), ("AA==", 2), ("a-_b", 2), ("", 3), ("AAAA", 1)] {
            assert!(!short_repeat(text, n), "{text:?} x {n}");
        }
    }

    #[test]
    fn a_repeated_image_loads_and_a_broken_one_fails_as_in_full() {
        let scenario = |bytes: &str| {
            format!(
                "description: d\ncollections: [c]\nsteps:\n  - IndexFaces: {{ CollectionId: \"${{c}}\", Image: {{ Bytes: \"{bytes}\" }} }}\n"
            )
        };
        let loaded =
            load_bytes(scenario("${repeat(AAAAAAAA, 655360)}AAAA").as_bytes()).expect("valid base64 loads");
        assert_eq!(loaded.steps.len(), 1);
        // The error names the place in the full text, not in the probe cut short.
        let e = load_bytes(scenario("${repeat(AAAAAAAA, 1000)}A*AA").as_bytes()).expect_err("invalid base64");
        assert!(e.message.contains("invalid base64") && e.message.contains("8001"), "{e}");
    }
}

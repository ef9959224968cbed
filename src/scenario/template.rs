//! Templates: request values whose strings hold `${...}` references, parsed once when a
//! file loads and rendered for each run with that run's [`Bindings`].

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::suggest::did_you_mean;
use super::{MAX_GENERATED_LEN, Scenario};

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
pub struct Text(pub(super) Vec<Part>);

/// One piece of a [`Text`].
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Part {
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
        for (i, part) in self.0.iter().enumerate() {
            match part {
                // A long repetition (a 5 MiB image) is written once, with room for the
                // literal text after it, rather than copied in and grown.
                Part::Repeat(text, n) if out.is_empty() => {
                    let rest: usize = self.0[i + 1..]
                        .iter()
                        .map(|p| if let Part::Literal(s) = p { s.len() } else { 0 })
                        .sum();
                    out = text.repeat(*n);
                    out.reserve(rest);
                }
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
pub(super) fn parse_text(s: &str) -> Result<Text, String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(text: &str) -> String {
        parse_text(text).expect("valid").render_string(&Bindings::default()).expect("renders")
    }

    #[test]
    fn repetitions_render_wherever_they_stand() {
        assert_eq!(rendered("${repeat(AB, 3)}"), "ABABAB");
        assert_eq!(rendered("${repeat(AB, 3)}==x"), "ABABAB==x");
        assert_eq!(rendered("pre${repeat(AB, 2)}post"), "preABABpost");
        assert_eq!(rendered("${repeat(AB, 2)}${repeat(C, 3)}."), "ABABCCC.");
        assert_eq!(rendered("${repeat(AB, 0)}x"), "x");
    }
}

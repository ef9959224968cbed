//! YAML with locations: the tree serde-saphyr reads, each node with its line and column,
//! and the byte-level checks (UTF-8, characters YAML forbids) that come before it.

use std::fmt;

use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

/// A 1-based position in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Pos {
    pub(super) line: u64,
    pub(super) column: u64,
}

/// A YAML node with its position.
#[derive(Debug, Clone)]
pub(super) struct Node {
    pub(super) value: NodeValue,
    pub(super) at: Pos,
}

#[derive(Debug, Clone)]
pub(super) enum NodeValue {
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
pub(super) struct Key {
    pub(super) name: String,
    pub(super) at: Pos,
}

/// What serde-saphyr produces: the tree with each child wrapped in `Spanned`.
pub(super) enum RawNode {
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

pub(super) fn pos_of<T>(spanned: &Spanned<T>) -> Pos {
    Pos { line: spanned.referenced.line(), column: spanned.referenced.column() }
}

impl Node {
    pub(super) fn from_spanned(spanned: Spanned<RawNode>) -> Node {
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

    /// The tree of a JSON value, every node at `at`: the form a program builds a
    /// scenario in. Strings (values, and names such as a Tags key) may hold any
    /// character: in text they are written double-quoted, where YAML escapes them
    /// (`"\u0005"`), so what loads this way loads as text too.
    pub(super) fn from_json(value: &serde_json::Value, at: Pos) -> Node {
        use serde_json::Value;
        let value = match value {
            Value::Null => NodeValue::Null,
            Value::Bool(b) => NodeValue::Bool(*b),
            Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(u), _, _) => NodeValue::UInt(u),
                (None, Some(i), _) => NodeValue::Int(i),
                (None, None, x) => NodeValue::Float(x.unwrap_or(f64::NAN)),
            },
            Value::String(s) => NodeValue::Str(s.clone()),
            Value::Array(items) => NodeValue::Seq(items.iter().map(|v| Node::from_json(v, at)).collect()),
            Value::Object(members) => NodeValue::Map(
                members
                    .iter()
                    .map(|(name, v)| (Key { name: name.clone(), at }, Node::from_json(v, at)))
                    .collect(),
            ),
        };
        Node { value, at }
    }

    /// Moves the node and everything below it to `at`.
    pub(super) fn place(&mut self, at: Pos) {
        self.at = at;
        match &mut self.value {
            NodeValue::Seq(items) => items.iter_mut().for_each(|item| item.place(at)),
            NodeValue::Map(entries) => entries.iter_mut().for_each(|(key, value)| {
                key.at = at;
                value.place(at);
            }),
            _ => {}
        }
    }

    pub(super) fn kind(&self) -> &'static str {
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

pub(super) fn scalar_text(value: &NodeValue) -> String {
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

/// The text of a file that must be UTF-8; otherwise the line and column of the first
/// byte that is not.
pub(super) fn decode_utf8(bytes: Vec<u8>) -> Result<String, Fail> {
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
pub(super) fn position_after(before: &str) -> Pos {
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
pub(super) fn check_printable(text: &str) -> Result<(), Fail> {
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
pub(super) fn parse_yaml(text: &str) -> Result<Node, Fail> {
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

pub(super) type Fail = (Pos, String);

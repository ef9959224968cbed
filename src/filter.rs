//! Which scenarios a `rekcon run` selects: name filters, `--skip`, `--exact` and tag
//! expressions.
//!
//! A scenario's name is its path below the suite without the extension
//! (`associate/face_limit_101`), a run of `/`-separated segments. A filter matches:
//! - a scenario file or folder given as a path (`scenarios/users/create_user.yaml`,
//!   `scenarios/users`): that file, or everything below that folder;
//! - otherwise whole segments: the filter's segments are consecutive segments of the
//!   name (`users`, `create_user`, `users/create_user`, `associate/face_limit_101`). So
//!   `create_user` does not select `users/create_user_duplicate`, and `associate_faces`
//!   does not select `disassociate/disassociate_faces`;
//! - `*` in a segment matches any characters within that segment: `face_limit*`,
//!   `*token*` (a substring), `users/*`;
//! - with `--exact`, only the whole name (`users/create_user`), no wildcards.
//!
//! `::` may stand for `/` and a trailing `.yaml` is ignored, so the names `cargo test
//! --test conformance -- --list` prints work too.
//!
//! A tag expression combines tags with `and`, `or`, `not` and parentheses
//! (`users and not slow`); `not` binds tightest, then `and`, then `or`.

use std::collections::BTreeSet;
use std::path::Path;

use crate::error::Error;
use crate::scenario;

/// One name filter (a positional `rekcon run` argument, or a `--skip` pattern).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameFilter {
    /// Exactly this name.
    Exact(String),
    /// Every name starting with this (a folder: `users/`, or `` for the whole suite).
    Prefix(String),
    /// Consecutive whole segments, each a pattern in which `*` matches any characters.
    Segments(Vec<String>),
}

impl NameFilter {
    /// Interprets `filter` for a suite rooted at `root` (see the module docs).
    pub fn new(root: &Path, filter: &str, exact: bool) -> NameFilter {
        let path = Path::new(filter);
        let is_file = filter.ends_with(".yaml") || filter.ends_with(".yml");
        if is_file || path.is_dir() {
            let relative = match (path.canonicalize(), root.canonicalize()) {
                (Ok(p), Ok(r)) => p.strip_prefix(&r).map(Path::to_path_buf).ok(),
                _ => path.strip_prefix(root).map(Path::to_path_buf).ok(),
            };
            if let Some(relative) = relative {
                let name = scenario::scenario_name(Path::new(""), &relative);
                return if is_file {
                    NameFilter::Exact(name)
                } else if name.is_empty() {
                    NameFilter::Prefix(String::new())
                } else {
                    NameFilter::Prefix(format!("{name}/"))
                };
            }
        }
        let mut name = filter.trim().replace("::", "/");
        for extension in [".yaml", ".yml"] {
            if let Some(stripped) = name.strip_suffix(extension) {
                name = stripped.to_string();
            }
        }
        // A path as reports spell it (`scenarios/users/x.yaml`), where it does not exist
        // on disk (the built-in suite): the name below `scenarios/`.
        if let Some(rest) = name.strip_prefix("scenarios/") {
            name = rest.to_string();
        }
        let name = name.trim_matches('/').to_string();
        if exact {
            return NameFilter::Exact(name);
        }
        NameFilter::Segments(name.split('/').map(str::to_string).collect())
    }

    /// Whether the scenario named `name` matches.
    pub fn matches(&self, name: &str) -> bool {
        match self {
            NameFilter::Exact(n) => name == n,
            NameFilter::Prefix(p) => name.starts_with(p.as_str()),
            NameFilter::Segments(patterns) => {
                let segments: Vec<&str> = name.split('/').collect();
                patterns.len() <= segments.len()
                    && segments.windows(patterns.len()).any(|window| {
                        window.iter().zip(patterns).all(|(segment, pattern)| glob(pattern, segment))
                    })
            }
        }
    }

    /// What the filter would most likely have meant among `names`, for a filter that
    /// matched nothing: the closest segment or name.
    pub fn suggestion<'a>(&self, names: &[&'a str]) -> String {
        let word = match self {
            NameFilter::Exact(n) => n.clone(),
            NameFilter::Prefix(p) => p.trim_end_matches('/').to_string(),
            NameFilter::Segments(s) => s.join("/"),
        };
        let mut candidates: BTreeSet<&'a str> = names.iter().copied().collect();
        for name in names {
            candidates.extend(name.split('/'));
        }
        scenario::did_you_mean(&word, candidates.into_iter())
    }
}

/// Whether `text` matches `pattern`, where `*` matches any run of characters.
fn glob(pattern: &str, text: &str) -> bool {
    let Some((first, rest)) = pattern.split_once('*') else { return pattern == text };
    let Some(mut remaining) = text.strip_prefix(first) else { return false };
    let parts: Vec<&str> = rest.split('*').collect();
    let Some((last, middle)) = parts.split_last() else { return true };
    for part in middle {
        match remaining.find(part) {
            Some(at) => remaining = &remaining[at + part.len()..],
            None => return false,
        }
    }
    remaining.len() >= last.len() && remaining.ends_with(last)
}

/// A parsed `--tag` expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagExpr {
    /// The scenario carries this tag.
    Tag(String),
    /// Not the inner expression.
    Not(Box<TagExpr>),
    /// Both.
    And(Box<TagExpr>, Box<TagExpr>),
    /// Either.
    Or(Box<TagExpr>, Box<TagExpr>),
}

impl TagExpr {
    /// Parses `users and not (slow or flaky)`.
    pub fn parse(text: &str) -> Result<TagExpr, Error> {
        let tokens = tokenize(text);
        let mut parser = Parser { tokens: &tokens, at: 0, text };
        let expr = parser.or()?;
        match parser.tokens.get(parser.at) {
            None => Ok(expr),
            Some(token) => Err(parser.error(&format!("unexpected `{token}`"))),
        }
    }

    /// Whether a scenario carrying `tags` matches.
    pub fn matches(&self, tags: &[String]) -> bool {
        match self {
            TagExpr::Tag(t) => tags.iter().any(|x| x == t),
            TagExpr::Not(e) => !e.matches(tags),
            TagExpr::And(a, b) => a.matches(tags) && b.matches(tags),
            TagExpr::Or(a, b) => a.matches(tags) || b.matches(tags),
        }
    }

    /// Every tag the expression names.
    pub fn tags(&self) -> Vec<&str> {
        match self {
            TagExpr::Tag(t) => vec![t.as_str()],
            TagExpr::Not(e) => e.tags(),
            TagExpr::And(a, b) | TagExpr::Or(a, b) => {
                let mut tags = a.tags();
                tags.extend(b.tags());
                tags
            }
        }
    }
}

fn tokenize(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        if c.is_whitespace() || c == '(' || c == ')' {
            if !word.is_empty() {
                tokens.push(std::mem::take(&mut word));
            }
            if !c.is_whitespace() {
                tokens.push(c.to_string());
            }
        } else {
            word.push(c);
        }
    }
    if !word.is_empty() {
        tokens.push(word);
    }
    tokens
}

struct Parser<'t> {
    tokens: &'t [String],
    at: usize,
    text: &'t str,
}

impl Parser<'_> {
    fn error(&self, what: &str) -> Error {
        Error::Config(format!(
            "--tag `{}`: {what} (an expression of tags with and, or, not and parentheses, e.g. \
             `users and not slow`)",
            self.text
        ))
    }

    fn peek(&self) -> Option<&str> {
        self.tokens.get(self.at).map(String::as_str)
    }

    fn or(&mut self) -> Result<TagExpr, Error> {
        let mut left = self.and()?;
        while self.peek() == Some("or") {
            self.at += 1;
            left = TagExpr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<TagExpr, Error> {
        let mut left = self.not()?;
        while self.peek() == Some("and") {
            self.at += 1;
            left = TagExpr::And(Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<TagExpr, Error> {
        match self.peek() {
            Some("not") => {
                self.at += 1;
                Ok(TagExpr::Not(Box::new(self.not()?)))
            }
            Some("(") => {
                self.at += 1;
                let inner = self.or()?;
                if self.peek() != Some(")") {
                    return Err(self.error("a `(` is not closed"));
                }
                self.at += 1;
                Ok(inner)
            }
            Some(word @ (")" | "and" | "or")) => {
                Err(self.error(&format!("a tag is missing before `{word}`")))
            }
            Some(tag) => {
                let tag = tag.to_string();
                self.at += 1;
                Ok(TagExpr::Tag(tag))
            }
            None => Err(self.error("a tag is missing at the end")),
        }
    }
}

/// What a `rekcon run` selects, besides the suite it reads.
#[derive(Debug, Clone, Default)]
pub struct Selector {
    /// Positional filters: a scenario matching any of them (all when there are none).
    pub filters: Vec<String>,
    /// `--skip`: a scenario matching any of them is left out.
    pub skip: Vec<String>,
    /// `--exact`: filters and skips name whole scenarios.
    pub exact: bool,
    /// `--tag`: a scenario matching any of them (all when there are none).
    pub tags: Vec<TagExpr>,
}

impl Selector {
    /// Parses the tag expressions.
    pub fn new(
        filters: Vec<String>,
        skip: Vec<String>,
        exact: bool,
        tags: &[String],
    ) -> Result<Selector, Error> {
        let tags = tags.iter().map(|t| TagExpr::parse(t)).collect::<Result<Vec<_>, _>>()?;
        Ok(Selector { filters, skip, exact, tags })
    }

    /// The filters of this selector, interpreted for the suite at `root`.
    pub fn compile(&self, root: &Path) -> (Vec<NameFilter>, Vec<NameFilter>) {
        let f = |list: &[String]| -> Vec<NameFilter> {
            list.iter().map(|f| NameFilter::new(root, f, self.exact)).collect()
        };
        (f(&self.filters), f(&self.skip))
    }

    /// Errors for tags no scenario of the suite carries, with a suggestion each.
    pub fn unknown_tags(&self, known: &BTreeSet<String>) -> Vec<String> {
        let mut seen = BTreeSet::new();
        self.tags
            .iter()
            .flat_map(TagExpr::tags)
            .filter(|t| !known.contains(*t) && seen.insert(t.to_string()))
            .map(|t| {
                format!(
                    "no scenario carries the tag `{t}`{}",
                    scenario::did_you_mean(t, known.iter().map(String::as_str))
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(filter: &str, name: &str) -> bool {
        NameFilter::new(Path::new("/nonexistent-root"), filter, false).matches(name)
    }

    #[test]
    fn filters_match_whole_segments() {
        assert!(matches("associate", "associate/associate_faces"));
        assert!(!matches("associate", "disassociate/disassociate_faces"));
        assert!(matches("associate_faces", "associate/associate_faces"));
        assert!(!matches("associate_face", "associate/associate_faces"));
        assert!(!matches("associate_faces", "disassociate/disassociate_faces"));
        assert!(matches("users/", "users/create_user"));
        assert!(matches("users::create_user", "users/create_user"));
        assert!(!matches("create_user", "users/create_user_duplicate"));
        assert!(matches("scenarios/users/create_user.yaml", "users/create_user"));
        assert!(!matches("users/create_user/x", "users/create_user"));
    }

    #[test]
    fn stars_match_within_a_segment() {
        assert!(matches("face_limit*", "associate/face_limit_101"));
        assert!(matches("*associate*", "disassociate/disassociate_faces"));
        assert!(matches("users/*", "users/list_users"));
        assert!(matches("a*b*c", "axxbyyc"));
        assert!(!matches("a*b*c", "axxcyyb"));
        assert!(!matches("*_101", "associate/face_limit_100"));
        assert!(glob("*", ""));
        assert!(!glob("ab*ba", "aba"));
    }

    #[test]
    fn exact_names_the_whole_scenario() {
        let f = NameFilter::new(Path::new("/nonexistent-root"), "create_user", true);
        assert!(!f.matches("users/create_user"));
        let f = NameFilter::new(Path::new("/nonexistent-root"), "users/create_user", true);
        assert!(f.matches("users/create_user"));
        assert!(!f.matches("users/create_user_duplicate"));
    }

    #[test]
    fn tag_expressions() {
        let tags = |list: &[&str]| list.iter().map(|t| t.to_string()).collect::<Vec<_>>();
        let e = TagExpr::parse("users and not slow").expect("parses");
        assert!(e.matches(&tags(&["users"])));
        assert!(!e.matches(&tags(&["users", "slow"])));
        assert!(!e.matches(&tags(&["faces"])));
        let e = TagExpr::parse("not (a or b) and c or d").expect("parses");
        assert!(e.matches(&tags(&["c"])));
        assert!(!e.matches(&tags(&["a", "c"])));
        assert!(e.matches(&tags(&["a", "d"])));
        assert_eq!(e.tags(), ["a", "b", "c", "d"]);
        for bad in ["", "a and", "(a or b", "a b", "and a", "a)"] {
            let err = TagExpr::parse(bad).expect_err(bad).to_string();
            assert!(err.contains("--tag"), "{err}");
        }
    }

    #[test]
    fn unknown_tags_get_a_suggestion() {
        let selector = Selector::new(vec![], vec![], false, &["usres or faces".into()]).expect("parses");
        let known: BTreeSet<String> = ["users", "faces"].iter().map(|t| t.to_string()).collect();
        assert_eq!(
            selector.unknown_tags(&known),
            ["no scenario carries the tag `usres` (did you mean `users`?)"]
        );
    }
}

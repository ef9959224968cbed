//! Stable continuation tokens for the emulator's List* pages.
//!
//! When the listing changes between two pages (another client created or deleted a
//! collection, say), the model allows a continuation page to shift either way, and its
//! preferred realisation restarts from the top, repeating items. A real service resumes
//! after the key the token points at, so the emulator remembers, per token, the keys its
//! listing returned and the last one, and leaves out every key up to it. That narrows
//! what the model allows; it never widens it.

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;

use crate::api::Request;
use crate::expect::{Allowed, Pat, key_of};

/// Where one issued NextToken resumes.
#[derive(Debug, Clone, Default)]
struct Cursor {
    /// Keys the listing returned so far.
    seen: BTreeSet<String>,
    /// The last key returned.
    last: Option<String>,
}

/// The cursor behind each issued NextToken.
#[derive(Debug, Default)]
pub(super) struct Cursors {
    issued: HashMap<String, Cursor>,
}

/// The NextToken a List* request continues, with its items member and key path.
fn listing(request: &Request) -> Option<(Option<&str>, &'static str, &'static [&'static str])> {
    match request {
        Request::ListCollections(r) => Some((r.next_token.as_deref(), "CollectionIds", &[])),
        Request::ListFaces(r) => Some((r.next_token.as_deref(), "Faces", &["FaceId"])),
        Request::ListUsers(r) => Some((r.next_token.as_deref(), "Users", &["UserId"])),
        _ => None,
    }
}

impl Cursors {
    /// Leaves the keys already listed through the request's token out of the page to realise.
    pub(super) fn narrow(&self, request: &Request, allowed: &mut Allowed) {
        let Some((Some(token), _, _)) = listing(request) else { return };
        let (Some(cursor), Some(Pat::Page(page))) = (self.issued.get(token), allowed.success.as_mut()) else {
            return;
        };
        page.exclude.extend(cursor.seen.iter().cloned());
        let Some(last) = &cursor.last else { return };
        let keys: Vec<&String> = page.candidates.iter().map(|(k, _)| k).collect();
        let before: Vec<String> = if keys.windows(2).all(|w| w[0] < w[1]) {
            // A listing in key order resumes after the last key, even if that key is gone.
            keys.into_iter().filter(|k| *k <= last).cloned().collect()
        } else {
            match keys.iter().position(|k| *k == last) {
                Some(at) => keys[..at].iter().map(|k| (*k).clone()).collect(),
                None => Vec::new(),
            }
        };
        page.exclude.extend(before);
    }

    /// Remembers what the listing has returned, under the answer's NextToken.
    pub(super) fn record(&mut self, request: &Request, answer: &Value) {
        let Some((token, items, key_path)) = listing(request) else { return };
        let Some(next) = answer.get("NextToken").and_then(Value::as_str) else { return };
        let mut cursor = token.and_then(|t| self.issued.get(t)).cloned().unwrap_or_default();
        for key in answer
            .get(items)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|i| key_of(i, key_path))
        {
            cursor.last = Some(key.clone());
            cursor.seen.insert(key);
        }
        self.issued.insert(next.to_string(), cursor);
    }
}

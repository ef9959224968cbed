//! Items in the wrong list: one defect, not two.
//!
//! When an answer puts an item in one list that belongs in another (a face the contract
//! says AssociateFaces must refuse, listed under `AssociatedFaces` instead of
//! `UnsuccessfulFaceAssociations`), judging each list alone finds two things wrong: an
//! item where none may be, and an item missing. They are one defect, and a report that
//! shows two causes for it counts it twice. [`merge_moved`] turns each such pair into one
//! mismatch at the item that came, naming the list it belongs in.

use serde_json::Value;

use super::{Mismatch, render};

/// What the keyed-list judge writes for required items that did not come.
const MISSING_PREFIX: &str = "an item for ";
/// What the judges write for an item where none may be.
const UNWANTED: &str = "no such item";

/// `mismatches` of one answer `body`, with every item that came in one list while the
/// contract wants it (by its id) in another merged into one mismatch.
pub(super) fn merge_moved(mismatches: Vec<Mismatch>, body: &Value) -> Vec<Mismatch> {
    // The required items that did not come: (mismatch, list, ids).
    let missing: Vec<(usize, String, Vec<String>)> = mismatches
        .iter()
        .enumerate()
        .filter(|(_, m)| m.actual.starts_with("none"))
        .filter_map(|(i, m)| {
            let ids = m.expected.strip_prefix(MISSING_PREFIX)?;
            Some((i, m.path.clone(), ids.split(", ").map(str::to_string).collect()))
        })
        .collect();
    if missing.is_empty() {
        return mismatches;
    }
    // The items where none may be: (mismatch, path of the item, the item).
    let mut unwanted: Vec<(usize, String, Value)> = Vec::new();
    for (i, m) in mismatches.iter().enumerate() {
        if m.expected == UNWANTED {
            if let Some(item) = at(body, &m.path) {
                unwanted.push((i, m.path.clone(), item.clone()));
            }
        } else if m.expected == "[]"
            && let Some(Value::Array(items)) = at(body, &m.path)
        {
            unwanted.extend(
                items.iter().enumerate().map(|(j, item)| (i, format!("{}[{j}]", m.path), item.clone())),
            );
        }
    }
    let mut moved: Vec<Mismatch> = Vec::new();
    let mut explained = vec![false; unwanted.len()];
    let mut still_missing: Vec<(usize, Vec<String>)> = Vec::new();
    for (i, list, ids) in &missing {
        let mut left = Vec::new();
        for id in ids {
            let found = unwanted
                .iter()
                .enumerate()
                .find(|(u, (m, _, item))| !explained[*u] && m != i && names(item, id));
            match found {
                Some((u, (_, path, item))) => {
                    explained[u] = true;
                    moved.push(Mismatch {
                        path: path.clone(),
                        expected: format!("the item for {id} in {list}"),
                        actual: render(item),
                    });
                }
                None => left.push(id.clone()),
            }
        }
        still_missing.push((*i, left));
    }
    if moved.is_empty() {
        return mismatches;
    }
    // A mismatch goes when every item it stood for moved; a missing-items mismatch keeps
    // the ids that are not accounted for.
    let fully_explained = |m: usize| {
        let mut items = unwanted.iter().enumerate().filter(|(_, (n, _, _))| *n == m).peekable();
        items.peek().is_some() && items.all(|(u, _)| explained[u])
    };
    let mut out = Vec::with_capacity(mismatches.len());
    for (i, mut m) in mismatches.into_iter().enumerate() {
        if let Some((_, left)) = still_missing.iter().find(|(n, _)| *n == i) {
            if left.is_empty() {
                continue;
            }
            m.expected = format!("{MISSING_PREFIX}{}", left.join(", "));
            m.actual =
                if left.len() == 1 { "none".into() } else { format!("none for {} of them", left.len()) };
            out.push(m);
        } else if !fully_explained(i) {
            out.push(m);
        }
    }
    fold_status(&mut out, moved, body);
    out
}

/// Appends `moved` to `out`, folding into the first of them the UserStatus mismatch that
/// follows from it. An AssociateFaces or DisassociateFaces answer whose face went to the
/// wrong list reports the status of what the endpoint did: nothing changed, so not
/// `UPDATING`, where the model expected a change; a change, so `UPDATING`, where it
/// expected none. That is the same defect, named in the moved item's expectation (a
/// trailing note, which the cause's signature leaves out), not a second cause. A status
/// that does not fit what the endpoint did stays a mismatch of its own.
fn fold_status(out: &mut Vec<Mismatch>, mut moved: Vec<Mismatch>, body: &Value) {
    let changed = ["AssociatedFaces", "DisassociatedFaces"]
        .iter()
        .filter_map(|list| body.get(*list).and_then(Value::as_array))
        .any(|items| !items.is_empty());
    let updating = "\"UPDATING\"";
    let follows = |m: &Mismatch| {
        m.path == "UserStatus"
            && if changed {
                m.actual == updating && !m.expected.contains(updating)
            } else {
                m.expected == updating && m.actual != updating
            }
    };
    if let Some(first) = moved.first_mut()
        && let Some(i) = out.iter().position(follows)
    {
        let status = out.remove(i);
        first.expected.push_str(&format!(" (UserStatus {} follows from it)", status.actual));
    }
    out.extend(moved);
}

/// Whether `item` names `id` in one of its own members (`{"FaceId": id}`, `{"UserId": id}`).
fn names(item: &Value, id: &str) -> bool {
    match item {
        Value::String(s) => s == id,
        Value::Object(map) => map.values().any(|v| v.as_str() == Some(id)),
        _ => false,
    }
}

/// The value at a mismatch path such as `AssociatedFaces[0]` or `A.B[2]`; `None` when the
/// path does not lead anywhere in `body`.
fn at<'a>(body: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = body;
    for part in path.split('.') {
        let (name, mut rest) = match part.find('[') {
            Some(b) => (&part[..b], &part[b..]),
            None => (part, ""),
        };
        if !name.is_empty() {
            cur = cur.get(name)?;
        }
        while let Some(inner) = rest.strip_prefix('[') {
            let end = inner.find(']')?;
            cur = cur.get(inner[..end].parse::<usize>().ok()?)?;
            rest = &inner[end + 1..];
        }
    }
    Some(cur)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn mismatch(path: &str, expected: &str, actual: &str) -> Mismatch {
        Mismatch { path: path.into(), expected: expected.into(), actual: actual.into() }
    }

    #[test]
    fn an_item_in_the_wrong_list_is_one_mismatch() {
        let body = json!({"AssociatedFaces": [{"FaceId": "f"}], "UnsuccessfulFaceAssociations": []});
        let found = vec![
            mismatch("AssociatedFaces", "[]", r#"[{"FaceId":"f"}]"#),
            mismatch("UnsuccessfulFaceAssociations", "an item for f", "none"),
        ];
        let merged = merge_moved(found, &body);
        assert_eq!(
            merged,
            vec![mismatch(
                "AssociatedFaces[0]",
                "the item for f in UnsuccessfulFaceAssociations",
                r#"{"FaceId":"f"}"#
            )]
        );
    }

    #[test]
    fn what_did_not_move_stays() {
        // g moved; h is missing and nowhere; k is unwanted and wanted nowhere.
        let body = json!({"AssociatedFaces": [{"FaceId": "k"}, {"FaceId": "g"}]});
        let found = vec![
            mismatch("AssociatedFaces[0]", UNWANTED, r#"{"FaceId":"k"}"#),
            mismatch("AssociatedFaces[1]", UNWANTED, r#"{"FaceId":"g"}"#),
            mismatch("UnsuccessfulFaceAssociations", "an item for g, h", "none for 2 of them"),
        ];
        let merged = merge_moved(found, &body);
        assert_eq!(
            merged,
            vec![
                mismatch("AssociatedFaces[0]", UNWANTED, r#"{"FaceId":"k"}"#),
                mismatch("UnsuccessfulFaceAssociations", "an item for h", "none"),
                mismatch(
                    "AssociatedFaces[1]",
                    "the item for g in UnsuccessfulFaceAssociations",
                    r#"{"FaceId":"g"}"#
                ),
            ]
        );
    }

    #[test]
    fn the_status_that_follows_from_a_moved_face_is_part_of_it() {
        // A face the model wanted associated was refused: the user did not change.
        let body = json!({"UnsuccessfulFaceAssociations": [{"FaceId": "f"}], "UserStatus": "ACTIVE"});
        let found = vec![
            mismatch("UserStatus", r#""UPDATING""#, r#""ACTIVE""#),
            mismatch("AssociatedFaces", "an item for f", "none"),
            mismatch("UnsuccessfulFaceAssociations", "[]", r#"[{"FaceId":"f"}]"#),
        ];
        let merged = merge_moved(found, &body);
        assert_eq!(
            merged,
            vec![mismatch(
                "UnsuccessfulFaceAssociations[0]",
                r#"the item for f in AssociatedFaces (UserStatus "ACTIVE" follows from it)"#,
                r#"{"FaceId":"f"}"#
            )]
        );
        // A face the model wanted refused was associated: UPDATING follows.
        let body = json!({"AssociatedFaces": [{"FaceId": "g"}], "UserStatus": "UPDATING"});
        let found = vec![
            mismatch("AssociatedFaces", "[]", r#"[{"FaceId":"g"}]"#),
            mismatch("UnsuccessfulFaceAssociations", "an item for g", "none"),
            mismatch("UserStatus", r#""ACTIVE""#, r#""UPDATING""#),
        ];
        let merged = merge_moved(found, &body);
        assert_eq!(merged.len(), 1, "{merged:?}");
        assert!(merged[0].expected.ends_with(r#"(UserStatus "UPDATING" follows from it)"#), "{merged:?}");
    }

    #[test]
    fn a_status_that_does_not_follow_stays_its_own_mismatch() {
        // The face was associated, yet the status is not UPDATING: a defect of its own.
        let body = json!({"AssociatedFaces": [{"FaceId": "g"}], "UserStatus": "ACTIVE"});
        let found = vec![
            mismatch("AssociatedFaces", "[]", r#"[{"FaceId":"g"}]"#),
            mismatch("UnsuccessfulFaceAssociations", "an item for g", "none"),
            mismatch("UserStatus", r#""UPDATING" (faces were associated)"#, r#""ACTIVE""#),
        ];
        let merged = merge_moved(found, &body);
        assert_eq!(merged.len(), 2, "{merged:?}");
        assert!(merged.iter().any(|m| m.path == "UserStatus"), "{merged:?}");
        // No face moved: a wrong status is never folded.
        let body = json!({"AssociatedFaces": [], "UserStatus": "ACTIVE"});
        let found = vec![mismatch("UserStatus", r#""UPDATING""#, r#""ACTIVE""#)];
        assert_eq!(merge_moved(found.clone(), &body), found);
    }

    #[test]
    fn unrelated_mismatches_are_untouched() {
        let body = json!({"AssociatedFaces": [{"FaceId": "x"}]});
        let found = vec![
            mismatch("AssociatedFaces", "[]", r#"[{"FaceId":"x"}]"#),
            mismatch("UnsuccessfulFaceAssociations", "an item for f", "none"),
        ];
        assert_eq!(merge_moved(found.clone(), &body), found);
    }
}

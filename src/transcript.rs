//! A scenario's transcript: its requests and answers with every generated value replaced
//! by a stable placeholder, so that two conforming endpoints — or the same one on two
//! runs — give the same text. The transcript is what `tests/conformance.rs` snapshots.
//!
//! Placeholders are numbered per kind in order of first appearance (`<face:1>`,
//! `<image:1>`, `<token:1>`, `<id:1>`), which keeps "these two ids are the same" visible;
//! run-scoped collection names become `<collection:c>`, fixture image bytes
//! `<fixture:alice-1>`, timestamps `<timestamp>`, and the region and account inside ARNs
//! `<region>` and `<account>`. Floats are rounded to two decimals. ListCollections
//! answers list only this scenario's collections. A partial page of a listing (a
//! NextToken sent or received) shows its number of items, not which: that is the
//! endpoint's choice (and for ListCollections, other users' too). Lists the contract
//! leaves unordered are sorted after redaction, and search matches with equal similarity
//! too. Objects are written with sorted keys. Error messages and request ids are left out.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;
use serde_json::{Map, Number, Value};

use crate::expect::Observed;
use crate::report::ScenarioReport;
use crate::scenario::Fixture;

/// One scenario's redacted transcript.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transcript {
    /// The scenario name.
    pub scenario: String,
    /// The calls, in order (settle polls left out: their number depends on timing).
    pub steps: Vec<Entry>,
}

/// One call in a transcript.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// The scenario step.
    pub step: usize,
    /// The operation, or `raw <X-Amz-Target>` for a raw step.
    pub call: String,
    /// The request body, redacted.
    pub request: Value,
    /// The HTTP status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The success body, redacted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<Value>,
    /// The error type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Why there was no answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_answer: Option<String>,
}

/// Member names whose arrays have no order the contract guarantees.
const UNORDERED: [&str; 8] = [
    "Users",
    "Faces",
    "DeletedFaces",
    "UnsuccessfulFaceDeletions",
    "AssociatedFaces",
    "UnsuccessfulFaceAssociations",
    "DisassociatedFaces",
    "UnsuccessfulFaceDisassociations",
];
/// Member names whose arrays are ordered by descending similarity (ties unordered).
const BY_SIMILARITY: [&str; 2] = ["UserMatches", "FaceMatches"];
/// Member names holding FaceIds.
const FACE_KEYS: [&str; 4] = ["FaceId", "FaceIds", "DeletedFaces", "SearchedFaceId"];

static UUID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$").expect("valid regex")
});
static ARN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"aws:rekognition:[a-z0-9-]*:[0-9]*:").expect("valid regex"));

impl Transcript {
    /// The transcript of `report`; `fixtures` name the image bytes the steps sent.
    pub fn new(report: &ScenarioReport, fixtures: &[Fixture]) -> Transcript {
        let mut redactor = Redactor::new(report, fixtures);
        let steps = report
            .records
            .iter()
            .filter(|r| !r.settle_poll)
            .map(|record| {
                let request = if record.raw {
                    match record.request.as_str().map(serde_json::from_str::<Value>) {
                        Some(Ok(json)) => redactor.value(None, &json),
                        _ => redactor.value(None, &record.request),
                    }
                } else {
                    redactor.value(None, &record.request)
                };
                let (response, error) = match &record.observed {
                    Some(Observed::Success(body))
                        if listed_member(&record.target).is_some() && is_partial_page(record, body) =>
                    {
                        let member = listed_member(&record.target).unwrap_or_default();
                        (Some(page_summary(&mut redactor, member, body)), None)
                    }
                    Some(Observed::Success(body)) => {
                        let mut body = body.clone();
                        // What the model allowed to vary with timing is not compared.
                        for path in &record.settling {
                            if let Some(slot) = at_path(&mut body, path) {
                                *slot = Value::String(SETTLING.into());
                            }
                        }
                        let mut body = redactor.value(None, &body);
                        redactor.tidy(None, &mut body);
                        (Some(body), None)
                    }
                    Some(Observed::Error(e)) => (None, Some(e.code.to_string())),
                    None => (None, None),
                };
                let call = if record.raw {
                    format!("raw {}", record.target)
                } else {
                    record.call_name().to_string()
                };
                Entry {
                    step: record.step,
                    call,
                    request,
                    status: record.response.as_ref().map(|r| r.status),
                    response,
                    error,
                    no_answer: record.no_answer.as_ref().map(|n| n.reason.clone()),
                }
            })
            .collect();
        Transcript { scenario: report.name.clone(), steps }
    }
}

/// What a transcript shows for a value the model allowed to vary with timing (a user's
/// status while it settles: UPDATING, or the settled status).
pub const SETTLING: &str = "<status while settling>";

/// The value at a rendered path (`Users[1].UserStatus`), if there is one.
fn at_path<'v>(value: &'v mut Value, path: &str) -> Option<&'v mut Value> {
    let mut cur = value;
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (name, indexes) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !name.is_empty() {
            cur = cur.get_mut(name)?;
        }
        for index in indexes.split(['[', ']']).filter(|s| !s.is_empty()) {
            cur = cur.get_mut(index.parse::<usize>().ok()?)?;
        }
    }
    Some(cur)
}

/// The member holding the items of a List* answer, for the operations that paginate.
fn listed_member(target: &str) -> Option<&'static str> {
    match target.strip_prefix("RekognitionService.")? {
        "ListCollections" => Some("CollectionIds"),
        "ListFaces" => Some("Faces"),
        "ListUsers" => Some("Users"),
        _ => None,
    }
}

/// Whether `record` listed only part of something (a NextToken sent or received): which
/// items such a page holds is up to the endpoint, and for ListCollections also up to
/// everyone else using it.
fn is_partial_page(record: &crate::report::StepRecord, body: &Value) -> bool {
    let request = if record.raw {
        record.request.as_str().and_then(|s| serde_json::from_str::<Value>(s).ok()).unwrap_or(Value::Null)
    } else {
        record.request.clone()
    };
    request.get("NextToken").is_some() || body.get("NextToken").is_some()
}

/// Replaces the items of a partial page by their number (`<3 items>`), or, for
/// ListCollections, by a note; a NextToken stays (numbered), the rest is redacted.
fn page_summary(redactor: &mut Redactor<'_>, member: &str, body: &Value) -> Value {
    let mut out = Map::new();
    let mut keys: Vec<&String> = body.as_object().map(|m| m.keys().collect()).unwrap_or_default();
    keys.sort();
    for key in keys {
        let value = &body[key.as_str()];
        let summary = match key.as_str() {
            k if k == member && member == "CollectionIds" => {
                Value::String("<a page of a listing shared with other users of the endpoint>".into())
            }
            "FaceModelVersions" if member == "CollectionIds" => continue,
            k if k == member => {
                let n = value.as_array().map_or(0, Vec::len);
                Value::String(format!("<{n} {}>", if n == 1 { "item" } else { "items" }))
            }
            _ => redactor.value(Some(key), value),
        };
        out.insert(key.clone(), summary);
    }
    Value::Object(out)
}

/// Replaces generated values, remembering which placeholder each value got.
struct Redactor<'a> {
    /// Run-scoped collection ids and their placeholders, longest id first.
    collections: Vec<(String, String)>,
    fixtures: HashMap<&'a str, &'a str>,
    numbered: HashMap<(&'static str, String), usize>,
    counters: HashMap<&'static str, usize>,
}

impl<'a> Redactor<'a> {
    fn new(report: &ScenarioReport, fixtures: &'a [Fixture]) -> Redactor<'a> {
        let mut collections: Vec<(String, String)> = report
            .collections
            .iter()
            .map(|(name, id)| (id.clone(), format!("<collection:{name}>")))
            .collect();
        collections.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        Redactor {
            collections,
            fixtures: fixtures.iter().map(|f| (&*f.base64, f.name.as_str())).collect(),
            numbered: HashMap::new(),
            counters: HashMap::new(),
        }
    }

    fn placeholder(&mut self, kind: &'static str, value: &str) -> Value {
        let next = self.counters.get(kind).copied().unwrap_or(0) + 1;
        let n = *self.numbered.entry((kind, value.to_string())).or_insert_with(|| next);
        if n == next {
            self.counters.insert(kind, next);
        }
        Value::String(format!("<{kind}:{n}>"))
    }

    fn value(&mut self, key: Option<&str>, value: &Value) -> Value {
        match (key, value) {
            (Some("CreationTimestamp"), _) => Value::String("<timestamp>".into()),
            (_, Value::String(s)) => self.string(key, s),
            (_, Value::Number(n)) => round(n),
            (_, Value::Array(items)) => {
                Value::Array(items.iter().map(|item| self.value(key, item)).collect())
            }
            (_, Value::Object(map)) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                let mut out = Map::with_capacity(map.len());
                for k in keys {
                    out.insert(k.clone(), self.value(Some(k), &map[k]));
                }
                Value::Object(out)
            }
            (_, other) => other.clone(),
        }
    }

    fn string(&mut self, key: Option<&str>, s: &str) -> Value {
        if let Some(name) = self.fixtures.get(s) {
            return Value::String(format!("<fixture:{name}>"));
        }
        if key == Some("NextToken") {
            return self.placeholder("token", s);
        }
        if UUID.is_match(s) {
            let kind = match key {
                Some("ImageId") => "image",
                Some(k) if FACE_KEYS.contains(&k) => "face",
                _ => "id",
            };
            return self.placeholder(kind, s);
        }
        let mut text = s.to_string();
        for (id, placeholder) in &self.collections {
            if text.contains(id.as_str()) {
                text = text.replace(id.as_str(), placeholder);
            }
        }
        if text.contains("aws:rekognition:") {
            text = ARN.replace_all(&text, "aws:rekognition:<region>:<account>:").into_owned();
        }
        Value::String(text)
    }

    /// Sorts unordered lists and drops collections of other scenarios from ListCollections.
    fn tidy(&self, key: Option<&str>, value: &mut Value) {
        match value {
            Value::Object(map) => {
                if let (Some(Value::Array(ids)), versions) =
                    (map.get("CollectionIds").cloned(), map.get("FaceModelVersions").cloned())
                {
                    let versions = versions.and_then(|v| v.as_array().cloned());
                    let mut pairs: Vec<(Value, Option<Value>)> = ids
                        .into_iter()
                        .enumerate()
                        .map(|(i, id)| (id, versions.as_ref().and_then(|v| v.get(i).cloned())))
                        .filter(|(id, _)| id.as_str().is_some_and(|s| s.contains("<collection:")))
                        .collect();
                    pairs.sort_by_key(|(id, _)| id.to_string());
                    let has_versions = versions.is_some();
                    let (ids, versions): (Vec<Value>, Vec<Option<Value>>) = pairs.into_iter().unzip();
                    map.insert("CollectionIds".into(), Value::Array(ids));
                    if has_versions {
                        map.insert(
                            "FaceModelVersions".into(),
                            Value::Array(versions.into_iter().flatten().collect()),
                        );
                    }
                }
                for (k, v) in map.iter_mut() {
                    self.tidy(Some(k), v);
                }
            }
            Value::Array(items) => {
                for item in items.iter_mut() {
                    self.tidy(None, item);
                }
                match key {
                    Some(k) if UNORDERED.contains(&k) => items.sort_by_cached_key(Value::to_string),
                    Some(k) if BY_SIMILARITY.contains(&k) => sort_ties(items),
                    _ => {}
                }
            }
            _ => {}
        }
    }
}

/// Sorts runs of equal (rounded) `Similarity` by their text, keeping the runs in place.
fn sort_ties(items: &mut [Value]) {
    let similarity = |v: &Value| v.get("Similarity").map(Value::to_string).unwrap_or_default();
    let mut start = 0;
    while start < items.len() {
        let key = similarity(&items[start]);
        let end = start + items[start..].iter().take_while(|v| similarity(v) == key).count();
        items[start..end].sort_by_cached_key(Value::to_string);
        start = end;
    }
}

/// Integers as they are; other numbers rounded to two decimals.
fn round(n: &Number) -> Value {
    if n.is_i64() || n.is_u64() {
        return Value::Number(n.clone());
    }
    let x = n.as_f64().unwrap_or_default();
    let rounded = (x * 100.0).round() / 100.0;
    Number::from_f64(rounded).map_or(Value::Null, Value::Number)
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::PathBuf;
    use std::sync::Arc;
    use std::time::Duration;

    use serde_json::json;

    use super::*;
    use crate::check::RawResponse;
    use crate::report::{StepRecord, Verdict};

    fn record(step: usize, target: &str, request: Value, body: Value) -> StepRecord {
        StepRecord {
            step,
            line: 1,
            settle_poll: false,
            target: format!("RekognitionService.{target}"),
            raw: false,
            request,
            response: Some(RawResponse {
                status: 200,
                content_type: None,
                request_id: None,
                error_type: None,
                headers: Vec::new(),
                body: Vec::new(),
            }),
            observed: Some(Observed::Success(body)),
            expectation: None,
            findings: Vec::new(),
            unknowns: BTreeSet::new(),
            ..StepRecord::default()
        }
    }

    #[test]
    fn generated_values_become_numbered_placeholders() {
        let cid = "rekcon-0badcafe-3-c";
        let f1 = "5e0c4a52-7f5b-4f6e-8d0e-1a2b3c4d5e6f";
        let f2 = "aaaaaaaa-7f5b-4f6e-8d0e-1a2b3c4d5e6f";
        let report = ScenarioReport {
            name: "t/x".into(),
            path: PathBuf::from("scenarios/t/x.yaml"),
            verdict: Verdict::Pass,
            steps: 3,
            stop: None,
            records: vec![
                record(
                    1,
                    "CreateCollection",
                    json!({"CollectionId": cid}),
                    json!({
                        "CollectionArn": format!("aws:rekognition:eu-west-1:210987654321:collection/{cid}"),
                        "StatusCode": 200, "FaceModelVersion": "7.0"
                    }),
                ),
                record(
                    2,
                    "IndexFaces",
                    json!({"CollectionId": cid, "Image": {"Bytes": "QUJD"}}),
                    json!({
                        "FaceRecords": [{"Face": {"FaceId": f1, "ImageId": "bbbbbbbb-7f5b-4f6e-8d0e-1a2b3c4d5e6f", "Confidence": 99.87654}}]
                    }),
                ),
                record(
                    3,
                    "ListFaces",
                    json!({"CollectionId": cid}),
                    json!({
                        "Faces": [{"FaceId": f2}, {"FaceId": f1}]
                    }),
                ),
                record(
                    4,
                    "ListCollections",
                    json!({}),
                    json!({
                        "CollectionIds": ["someone-else", cid], "FaceModelVersions": ["6.0", "7.0"]
                    }),
                ),
                record(
                    5,
                    "DescribeCollection",
                    json!({"CollectionId": cid}),
                    json!({"CreationTimestamp": 1.7e9}),
                ),
                record(
                    6,
                    "ListUsers",
                    json!({"CollectionId": cid, "MaxResults": 1}),
                    json!({"Users": [{"UserId": "u", "UserStatus": "ACTIVE"}], "NextToken": "opaque"}),
                ),
            ],
            unknowns: BTreeSet::new(),
            collections: BTreeMap::from([("c".to_string(), cid.to_string())]),
            duration: Duration::ZERO,
            reproduce: String::new(),
        };
        let fixtures = [Fixture { name: "alice-1".into(), base64: Arc::from("QUJD") }];
        let t = serde_json::to_value(Transcript::new(&report, &fixtures)).unwrap();
        assert_eq!(t["steps"][0]["request"]["CollectionId"], "<collection:c>");
        assert_eq!(
            t["steps"][0]["response"]["CollectionArn"],
            "aws:rekognition:<region>:<account>:collection/<collection:c>"
        );
        assert_eq!(t["steps"][1]["request"]["Image"]["Bytes"], "<fixture:alice-1>");
        assert_eq!(t["steps"][1]["response"]["FaceRecords"][0]["Face"]["FaceId"], "<face:1>");
        assert_eq!(t["steps"][1]["response"]["FaceRecords"][0]["Face"]["ImageId"], "<image:1>");
        assert_eq!(t["steps"][1]["response"]["FaceRecords"][0]["Face"]["Confidence"], 99.88);
        // f2 first appears in the ListFaces response; the list is then sorted.
        assert_eq!(
            t["steps"][2]["response"]["Faces"],
            json!([{"FaceId": "<face:1>"}, {"FaceId": "<face:2>"}])
        );
        assert_eq!(
            t["steps"][3]["response"],
            json!({"CollectionIds": ["<collection:c>"], "FaceModelVersions": ["7.0"]})
        );
        assert_eq!(t["steps"][4]["response"]["CreationTimestamp"], "<timestamp>");
        // A partial page shows how many items it has, not which.
        assert_eq!(t["steps"][5]["response"], json!({"NextToken": "<token:1>", "Users": "<1 item>"}));
    }

    #[test]
    fn equal_similarities_are_sorted_others_keep_their_order() {
        let mut items = vec![
            json!({"Similarity": 99.0, "U": "b"}),
            json!({"Similarity": 99.0, "U": "a"}),
            json!({"Similarity": 50.0, "U": "0"}),
        ];
        sort_ties(&mut items);
        assert_eq!(items[0]["U"], "a");
        assert_eq!(items[2]["U"], "0");
    }

    #[test]
    fn statuses_the_model_let_vary_are_not_compared() {
        let mut body = json!({"Users": [{"UserId": "a", "UserStatus": "ACTIVE"}, {"UserId": "b", "UserStatus": "UPDATING"}]});
        *at_path(&mut body, "Users[1].UserStatus").expect("the path exists") = json!(SETTLING);
        assert_eq!(body["Users"][1]["UserStatus"], SETTLING);
        assert_eq!(body["Users"][0]["UserStatus"], "ACTIVE", "only the path named");
        assert!(at_path(&mut body, "Users[5].UserStatus").is_none());
        let mut flat = json!({"UserStatus": "UPDATING"});
        assert!(at_path(&mut flat, "UserStatus").is_some());
    }
}

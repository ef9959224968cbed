//! Turning shrinkable random draws into calls drawn from what exists.
//!
//! A case is a vector of [`Draw`]s; proptest generates and shrinks the vector (fewer
//! steps, numbers toward zero). [`generate`] interprets the draws in order against an
//! abstract state — which collections, users and faces the calls so far created — so
//! most calls refer to things that exist, some to things that do not or were deleted,
//! and a flag-controlled share break a constraint of the contract. The output is plain
//! scenario steps, so a case runs through the same runner as a YAML scenario and a
//! finding can be written out as one.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::api::Operation;

/// One step's worth of random decisions. Zero is always the simplest choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Draw {
    /// Which kind of call.
    pub op: u16,
    /// Which existing things it refers to.
    pub pick: u32,
    /// Which variant of the call (threshold, page size, filter …).
    pub variant: u32,
    /// Whether (and how) it breaks a constraint: below the invalid share means break one.
    pub invalid: u16,
}

/// A fixture image the generator may send, with the people it shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Fixture {
    /// The name scenarios use (`alice-1`).
    pub name: String,
    /// Who its faces show, largest first.
    pub persons: Vec<String>,
}

/// One generated call, in scenario terms.
#[derive(Debug, Clone, PartialEq)]
pub enum GenStep {
    /// An operation with its request (strings may hold `${…}` references).
    Call {
        /// The operation.
        op: Operation,
        /// The request, with the API's member names.
        request: Value,
        /// Values of the response to bind: (name, path).
        captures: Vec<(String, String)>,
    },
    /// A raw body the SDK cannot express.
    Raw {
        /// The X-Amz-Target header.
        target: String,
        /// The body, byte for byte.
        body: String,
    },
}

/// A generated case, ready to be written as a scenario.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Generated {
    /// Run-scoped collection names the steps use.
    pub collections: Vec<String>,
    /// Fixture images the steps use.
    pub images: Vec<String>,
    /// The calls.
    pub steps: Vec<GenStep>,
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenConfig {
    /// Share of calls that break a constraint, 0.0–1.0.
    pub invalid_share: f64,
    /// Fixture images available.
    pub fixtures: Vec<Fixture>,
}

const COLLECTIONS: [&str; 3] = ["c0", "c1", "c2"];
const USERS: [&str; 5] = ["u0", "u1", "u2", "u3:with-colon", "u4"];
const UNKNOWN_FACE: &str = "0badface-0000-4000-8000-000000000000";

/// A face the calls so far indexed, by capture name.
#[derive(Debug, Clone)]
struct FaceRef {
    capture: String,
    collection: usize,
    person: String,
    user: Option<String>,
    deleted: bool,
}

/// What the generator believes exists; a rough guide, the model is the judge.
#[derive(Debug, Default)]
struct Abstract {
    exists: [bool; 3],
    users: [BTreeMap<String, ()>; 3],
    faces: Vec<FaceRef>,
    /// Token-carrying calls made so far: (operation, request).
    tokened: Vec<(Operation, Value)>,
    /// NextToken captures: (operation, collection, capture name).
    cursors: Vec<(Operation, usize, String)>,
    captures: usize,
}

impl Abstract {
    fn fresh_capture(&mut self, prefix: &str) -> String {
        self.captures += 1;
        format!("{prefix}{}", self.captures)
    }

    fn live_faces(&self, collection: usize) -> Vec<usize> {
        (0..self.faces.len())
            .filter(|i| self.faces[*i].collection == collection && !self.faces[*i].deleted)
            .collect()
    }

    fn user_of(&self, collection: usize, pick: u32) -> String {
        let users: Vec<&String> = self.users[collection].keys().collect();
        if users.is_empty() || pick % 8 == 7 {
            USERS[pick as usize % USERS.len()].to_string()
        } else {
            users[pick as usize % users.len()].clone()
        }
    }
}

/// Operations by weight; earlier entries are what shrinking moves toward.
const WEIGHTS: [(Kind, u16); 18] = [
    (Kind::CreateCollection, 6),
    (Kind::IndexFaces, 14),
    (Kind::CreateUser, 10),
    (Kind::AssociateFaces, 18),
    (Kind::DisassociateFaces, 7),
    (Kind::BulkAssociate, 3),
    (Kind::ListUsers, 5),
    (Kind::ListFaces, 5),
    (Kind::ListCollections, 2),
    (Kind::DescribeCollection, 5),
    (Kind::DeleteFaces, 5),
    (Kind::DeleteUser, 4),
    (Kind::SearchUsers, 6),
    (Kind::SearchUsersByImage, 3),
    (Kind::SearchFaces, 3),
    (Kind::SearchFacesByImage, 3),
    (Kind::ReplayToken, 4),
    (Kind::DeleteCollection, 1),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    CreateCollection,
    IndexFaces,
    CreateUser,
    AssociateFaces,
    DisassociateFaces,
    BulkAssociate,
    ListUsers,
    ListFaces,
    ListCollections,
    DescribeCollection,
    DeleteFaces,
    DeleteUser,
    SearchUsers,
    SearchUsersByImage,
    SearchFaces,
    SearchFacesByImage,
    ReplayToken,
    DeleteCollection,
}

fn kind_of(op: u16) -> Kind {
    let total: u16 = WEIGHTS.iter().map(|(_, w)| w).sum();
    let mut x = op % total;
    for (kind, weight) in WEIGHTS {
        if x < weight {
            return kind;
        }
        x -= weight;
    }
    Kind::CreateCollection
}

fn coll_ref(i: usize) -> String {
    format!("${{{}}}", COLLECTIONS[i])
}

/// Interprets `draws` into scenario steps.
pub fn generate(draws: &[Draw], config: &GenConfig) -> Generated {
    let mut state = Abstract::default();
    let mut out = Generated {
        collections: COLLECTIONS.iter().map(|s| s.to_string()).collect(),
        ..Generated::default()
    };
    let invalid_below = (config.invalid_share.clamp(0.0, 1.0) * f64::from(u16::MAX)) as u16;
    for draw in draws {
        let step = valid_step(&mut state, &mut out, draw, config);
        let step = if draw.invalid < invalid_below && config.invalid_share > 0.0 {
            violate(step, draw)
        } else {
            step
        };
        out.steps.push(step);
    }
    out.images.sort();
    out.images.dedup();
    out
}

fn call(op: Operation, request: Value) -> GenStep {
    GenStep::Call { op, request, captures: Vec::new() }
}

fn valid_step(state: &mut Abstract, out: &mut Generated, draw: &Draw, config: &GenConfig) -> GenStep {
    // Mostly the first collection, so calls meet each other's effects.
    let c = match draw.pick % 10 {
        0..=7 => 0,
        8 => 1,
        _ => 2,
    };
    let v = draw.variant;
    match kind_of(draw.op) {
        Kind::CreateCollection => {
            let c = if state.exists[0] && v % 3 != 0 { (v as usize % 2) + 1 } else { 0 };
            state.exists[c] = true;
            call(Operation::CreateCollection, json!({"CollectionId": coll_ref(c)}))
        }
        Kind::IndexFaces => {
            if config.fixtures.is_empty() {
                return call(Operation::ListCollections, json!({}));
            }
            let fixture = &config.fixtures[draw.pick as usize / 10 % config.fixtures.len()];
            out.images.push(fixture.name.clone());
            let mut request =
                json!({"CollectionId": coll_ref(c), "Image": {"Bytes": format!("${{{}}}", fixture.name)}});
            let max_faces = if v % 7 == 3 { Some(1 + (v / 7) as usize % 2) } else { None };
            if let Some(m) = max_faces {
                request["MaxFaces"] = json!(m);
            }
            if v % 5 == 4 {
                request["ExternalImageId"] =
                    json!(if v % 2 == 0 { "x".repeat(255) } else { "ext:image_1.jpg".into() });
            }
            let stored = fixture.persons.len().min(max_faces.unwrap_or(100));
            let mut captures = Vec::new();
            for (i, person) in fixture.persons.iter().take(stored).enumerate() {
                let name = state.fresh_capture("f");
                captures.push((name.clone(), format!("FaceRecords[{i}].Face.FaceId")));
                if state.exists[c] {
                    state.faces.push(FaceRef {
                        capture: name,
                        collection: c,
                        person: person.clone(),
                        user: None,
                        deleted: false,
                    });
                }
            }
            if !state.exists[c] {
                captures.clear();
            }
            GenStep::Call { op: Operation::IndexFaces, request, captures }
        }
        Kind::CreateUser => {
            let user =
                if v % 11 == 10 { "u".repeat(128) } else { USERS[v as usize % USERS.len()].to_string() };
            let mut request = json!({"CollectionId": coll_ref(c), "UserId": user});
            with_token(state, &mut request, Operation::CreateUser, v);
            if state.exists[c] {
                state.users[c].insert(user, ());
            }
            call(Operation::CreateUser, request)
        }
        Kind::AssociateFaces | Kind::DisassociateFaces => {
            let op = if kind_of(draw.op) == Kind::AssociateFaces {
                Operation::AssociateFaces
            } else {
                Operation::DisassociateFaces
            };
            let user = state.user_of(c, draw.pick / 10);
            let live = state.live_faces(c);
            let mut ids: Vec<String> = Vec::new();
            let count = 1 + (v as usize % 3);
            for k in 0..count {
                if live.is_empty() || (v >> (4 + k)) % 9 == 8 {
                    ids.push(UNKNOWN_FACE.to_string());
                } else {
                    let face = live[(draw.pick as usize / 3 + k * 7) % live.len()];
                    ids.push(format!("${{{}}}", state.faces[face].capture));
                }
            }
            ids.dedup();
            let mut request = json!({"CollectionId": coll_ref(c), "UserId": user, "FaceIds": ids});
            if op == Operation::AssociateFaces {
                match (v / 3) % 6 {
                    1 => request["UserMatchThreshold"] = json!(0),
                    2 => request["UserMatchThreshold"] = json!(100),
                    3 => request["UserMatchThreshold"] = json!(80),
                    4 => request["UserMatchThreshold"] = json!(75),
                    _ => {}
                }
            }
            with_token(state, &mut request, op, v);
            track_association(state, c, &user, &request, op);
            call(op, request)
        }
        Kind::BulkAssociate => {
            // Up to 100 faces of the person most faces show: reaches users at 99 and 100 faces.
            let user = state.user_of(c, draw.pick / 10);
            let live = state.live_faces(c);
            let mut by_person: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
            for i in &live {
                if state.faces[*i].user.is_none() {
                    by_person.entry(state.faces[*i].person.as_str()).or_default().push(*i);
                }
            }
            let best = by_person.values().max_by_key(|v| v.len()).cloned().unwrap_or_default();
            let take = match v % 3 {
                0 => 100,
                1 => 99,
                _ => 1,
            };
            let ids: Vec<String> =
                best.iter().take(take).map(|i| format!("${{{}}}", state.faces[*i].capture)).collect();
            let ids = if ids.is_empty() { vec![UNKNOWN_FACE.to_string()] } else { ids };
            let request = json!({"CollectionId": coll_ref(c), "UserId": user, "FaceIds": ids});
            track_association(state, c, &user, &request, Operation::AssociateFaces);
            call(Operation::AssociateFaces, request)
        }
        Kind::ListUsers | Kind::ListFaces | Kind::ListCollections => {
            let op = match kind_of(draw.op) {
                Kind::ListUsers => Operation::ListUsers,
                Kind::ListFaces => Operation::ListFaces,
                _ => Operation::ListCollections,
            };
            let mut request = if op == Operation::ListCollections {
                json!({})
            } else {
                json!({"CollectionId": coll_ref(c)})
            };
            let small = [1, 2, 3][v as usize % 3];
            if v % 4 != 0 {
                request["MaxResults"] = json!(small);
            }
            if op == Operation::ListFaces && v % 5 == 2 {
                request["UserId"] = json!(state.user_of(c, draw.pick / 10));
            }
            // Follow the last page of the same listing, when there is one.
            if v % 2 == 1
                && let Some((_, _, capture)) = state
                    .cursors
                    .iter()
                    .rev()
                    .find(|(o, cc, _)| *o == op && (*cc == c || op == Operation::ListCollections))
            {
                request["NextToken"] = json!(format!("${{{capture}}}"));
                if let Some(filter) = previous_filter(out, capture) {
                    request["UserId"] = filter;
                }
            }
            let name = state.fresh_capture("nt");
            state.cursors.push((op, c, name.clone()));
            GenStep::Call { op, request, captures: vec![(name, "NextToken".into())] }
        }
        Kind::DescribeCollection => call(Operation::DescribeCollection, json!({"CollectionId": coll_ref(c)})),
        Kind::DeleteFaces => {
            let live = state.live_faces(c);
            let ids: Vec<String> = if live.is_empty() {
                vec![UNKNOWN_FACE.to_string()]
            } else {
                let face = live[draw.pick as usize / 3 % live.len()];
                let mut ids = vec![format!("${{{}}}", state.faces[face].capture)];
                if v % 3 == 1 {
                    ids.push(UNKNOWN_FACE.to_string());
                }
                if state.faces[face].user.is_none() {
                    state.faces[face].deleted = true;
                }
                ids
            };
            call(Operation::DeleteFaces, json!({"CollectionId": coll_ref(c), "FaceIds": ids}))
        }
        Kind::DeleteUser => {
            let user = state.user_of(c, draw.pick / 10);
            let mut request = json!({"CollectionId": coll_ref(c), "UserId": user});
            with_token(state, &mut request, Operation::DeleteUser, v);
            state.users[c].remove(&user);
            for face in state
                .faces
                .iter_mut()
                .filter(|f| f.collection == c && f.user.as_deref() == Some(user.as_str()))
            {
                face.user = None;
            }
            call(Operation::DeleteUser, request)
        }
        Kind::SearchUsers => {
            let live = state.live_faces(c);
            let mut request = json!({"CollectionId": coll_ref(c)});
            match v % 4 {
                0 | 1 if !live.is_empty() => {
                    request["FaceId"] = json!(format!(
                        "${{{}}}",
                        state.faces[live[draw.pick as usize / 3 % live.len()]].capture
                    ));
                }
                _ => request["UserId"] = json!(state.user_of(c, draw.pick / 10)),
            }
            match (v / 4) % 4 {
                1 => request["UserMatchThreshold"] = json!(0),
                2 => request["MaxUsers"] = json!(1),
                _ => {}
            }
            call(Operation::SearchUsers, request)
        }
        Kind::SearchUsersByImage | Kind::SearchFacesByImage => {
            let op = if kind_of(draw.op) == Kind::SearchUsersByImage {
                Operation::SearchUsersByImage
            } else {
                Operation::SearchFacesByImage
            };
            if config.fixtures.is_empty() {
                return call(Operation::ListCollections, json!({}));
            }
            let fixture = &config.fixtures[draw.pick as usize / 10 % config.fixtures.len()];
            out.images.push(fixture.name.clone());
            call(
                op,
                json!({"CollectionId": coll_ref(c), "Image": {"Bytes": format!("${{{}}}", fixture.name)}}),
            )
        }
        Kind::SearchFaces => {
            let live = state.live_faces(c);
            let face = if live.is_empty() {
                UNKNOWN_FACE.to_string()
            } else {
                format!("${{{}}}", state.faces[live[draw.pick as usize / 3 % live.len()]].capture)
            };
            let mut request = json!({"CollectionId": coll_ref(c), "FaceId": face});
            if v % 3 == 1 {
                request["FaceMatchThreshold"] = json!(0);
            }
            call(Operation::SearchFaces, request)
        }
        Kind::ReplayToken => {
            if state.tokened.is_empty() {
                return call(Operation::ListCollections, json!({}));
            }
            let (op, mut request) = state.tokened[draw.pick as usize % state.tokened.len()].clone();
            if v % 2 == 1 {
                // Same token, another parameter: IdempotentParameterMismatchException.
                let other = if request["UserId"] == json!("u0") { "u1" } else { "u0" };
                request["UserId"] = json!(other);
            }
            call(op, request)
        }
        Kind::DeleteCollection => {
            state.exists[c] = false;
            state.users[c].clear();
            for face in state.faces.iter_mut().filter(|f| f.collection == c) {
                face.deleted = true;
            }
            call(Operation::DeleteCollection, json!({"CollectionId": coll_ref(c)}))
        }
    }
}

/// The UserId filter of the listing whose NextToken `capture` bound, so a continuation keeps its scope.
fn previous_filter(out: &Generated, capture: &str) -> Option<Value> {
    out.steps.iter().find_map(|s| match s {
        GenStep::Call { request, captures, .. } if captures.iter().any(|(n, _)| n == capture) => {
            request.get("UserId").cloned()
        }
        _ => None,
    })
}

fn with_token(state: &mut Abstract, request: &mut Value, op: Operation, variant: u32) {
    if variant % 4 == 1 {
        let token = format!("tok-{}", state.tokened.len() + 1);
        request["ClientRequestToken"] = json!(token);
        state.tokened.push((op, request.clone()));
    }
}

fn track_association(state: &mut Abstract, c: usize, user: &str, request: &Value, op: Operation) {
    if !state.users[c].contains_key(user) {
        return;
    }
    let ids: Vec<String> = request["FaceIds"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter_map(|s| s.strip_prefix("${").and_then(|s| s.strip_suffix('}')).map(str::to_string))
        .collect();
    for face in state.faces.iter_mut().filter(|f| ids.contains(&f.capture)) {
        match op {
            Operation::AssociateFaces if face.user.is_none() => face.user = Some(user.to_string()),
            Operation::DisassociateFaces if face.user.as_deref() == Some(user) => face.user = None,
            _ => {}
        }
    }
}

/// Breaks one constraint of the contract in `step` (§2), or replaces it with a malformed raw body.
fn violate(step: GenStep, draw: &Draw) -> GenStep {
    let GenStep::Call { op, mut request, captures } = step else { return step };
    let v = draw.invalid as usize;
    let target = op.target();
    let members = op.request_members();
    match v % 9 {
        0 => return GenStep::Raw { target, body: "{\"CollectionId\": ".into() },
        1 => {
            let member = members.first().copied().unwrap_or("CollectionId");
            return GenStep::Raw { target, body: format!("{{\"{member}\": 5}}") };
        }
        2 => return GenStep::Raw { target: "RekognitionService.AssociateFace".into(), body: "{}".into() },
        _ => {}
    }
    let map = match request.as_object_mut() {
        Some(m) => m,
        None => return GenStep::Call { op, request, captures },
    };
    let choice = v / 9;
    if map.contains_key("FaceIds") && choice % 4 == 0 {
        let first = map["FaceIds"].get(0).cloned().unwrap_or_else(|| json!(UNKNOWN_FACE));
        map["FaceIds"] = match choice / 4 % 4 {
            0 => json!([]),
            1 => json!((0..101).map(|i| format!("{i:08x}-0000-4000-8000-000000000000")).collect::<Vec<_>>()),
            2 => json!([first.clone(), first]),
            _ => json!(["ABCDEF12-0000-4000-8000-000000000000"]),
        };
    } else if map.contains_key("UserId") && choice % 4 == 1 {
        map["UserId"] = json!(if choice % 2 == 0 { "u".repeat(129) } else { "bad user".into() });
    } else if map.contains_key("UserMatchThreshold") || op == Operation::AssociateFaces && choice % 4 == 2 {
        map.insert("UserMatchThreshold".into(), json!(if choice % 2 == 0 { 101 } else { -1 }));
    } else if map.contains_key("MaxResults")
        || matches!(op, Operation::ListUsers | Operation::ListFaces) && choice % 4 == 3
    {
        let bad = match op {
            Operation::ListUsers => [0, 501][choice % 2],
            _ => [4097, -1][choice % 2],
        };
        map.insert("MaxResults".into(), json!(bad));
    } else if map.contains_key("NextToken") {
        map.insert("NextToken".into(), json!("not-a-token-rekcon-issued"));
    } else if map.contains_key("ClientRequestToken") {
        map.insert(
            "ClientRequestToken".into(),
            json!(if choice % 2 == 0 { "t".repeat(65) } else { "bad token!".into() }),
        );
    } else if map.contains_key("Image") {
        map.insert("Image".into(), if choice % 2 == 0 { json!({}) } else { json!({"Bytes": "aGVsbG8="}) });
    } else if map.contains_key("CollectionId") {
        map.insert(
            "CollectionId".into(),
            json!(match choice % 4 {
                0 => "${repeat(a, 256)}".to_string(),
                1 => "bad id".into(),
                2 => "bad:id".into(),
                _ => String::new(),
            }),
        );
    } else {
        map.insert("MaxResults".into(), json!(-1));
    }
    // A rejected call binds nothing.
    GenStep::Call { op, request, captures: Vec::new() }
}

/// Writes a generated case as a scenario file (docs/scenario-format.md).
pub fn to_yaml(generated: &Generated, description: &str) -> String {
    let mut y = String::new();
    let _ = writeln!(y, "description: >\n  {}", description.replace('\n', "\n  "));
    let _ = writeln!(y, "tags: [fuzz, regression]");
    let used: Vec<&String> = generated
        .collections
        .iter()
        .filter(|c| generated.steps.iter().any(|s| step_text(s).contains(&format!("${{{c}}}"))))
        .collect();
    let _ = writeln!(y, "collections: [{}]", used.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "));
    if !generated.images.is_empty() {
        let _ = writeln!(y, "images: [{}]", generated.images.join(", "));
    }
    let _ = writeln!(y, "steps:");
    for step in &generated.steps {
        match step {
            GenStep::Call { op, request, captures } => {
                let _ = writeln!(y, "  - {op}: {}", yaml_flow(request));
                if !captures.is_empty() {
                    let caps: Vec<String> =
                        captures.iter().map(|(n, p)| format!("{n}: {}", yaml_str(p))).collect();
                    let _ = writeln!(y, "    capture: {{ {} }}", caps.join(", "));
                }
            }
            GenStep::Raw { target, body } => {
                let _ = writeln!(y, "  - raw: {{ target: {}, body: {} }}", yaml_str(target), yaml_str(body));
            }
        }
    }
    y
}

fn step_text(step: &GenStep) -> String {
    match step {
        GenStep::Call { request, .. } => request.to_string(),
        GenStep::Raw { body, .. } => body.clone(),
    }
}

/// A JSON value in YAML flow style (JSON strings are valid double-quoted YAML scalars).
fn yaml_flow(v: &Value) -> String {
    match v {
        Value::Object(map) => {
            let members: Vec<String> = map.iter().map(|(k, v)| format!("{k}: {}", yaml_flow(v))).collect();
            format!("{{ {} }}", members.join(", "))
        }
        Value::Array(items) => format!("[{}]", items.iter().map(yaml_flow).collect::<Vec<_>>().join(", ")),
        Value::String(s) => yaml_str(s),
        other => other.to_string(),
    }
}

fn yaml_str(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixtures() -> Vec<Fixture> {
        vec![
            Fixture { name: "alice-1".into(), persons: vec!["alice".into()] },
            Fixture { name: "group-alice-bob".into(), persons: vec!["alice".into(), "bob".into()] },
        ]
    }

    #[test]
    fn zero_draws_are_the_simplest_calls() {
        let g = generate(&[Draw::default()], &GenConfig { invalid_share: 0.0, fixtures: fixtures() });
        assert_eq!(g.steps, vec![call(Operation::CreateCollection, json!({"CollectionId": "${c0}"}))]);
    }

    #[test]
    fn calls_refer_to_faces_indexed_before() {
        let draws = [
            Draw::default(),
            Draw { op: 6, pick: 10, ..Draw::default() },
            Draw { op: 6 + 14, ..Draw::default() },
            Draw { op: 6 + 14 + 10, ..Draw::default() },
        ];
        let g = generate(&draws, &GenConfig { invalid_share: 0.0, fixtures: fixtures() });
        let GenStep::Call { op, request, .. } = &g.steps[3] else { panic!("a call") };
        assert_eq!(*op, Operation::AssociateFaces);
        assert!(request["FaceIds"][0].as_str().unwrap().starts_with("${f"), "{request}");
        assert_eq!(g.images, ["group-alice-bob"]);
    }

    #[test]
    fn invalid_share_one_breaks_every_call_and_yaml_is_well_formed() {
        let draws: Vec<Draw> = (0..40)
            .map(|i| Draw { op: i * 7, pick: i as u32 * 13, variant: i as u32, invalid: i * 3 })
            .collect();
        let g = generate(&draws, &GenConfig { invalid_share: 1.0, fixtures: fixtures() });
        assert_eq!(g.steps.len(), 40);
        let yaml = to_yaml(&g, "generated");
        assert!(yaml.starts_with("description:"));
        assert!(yaml.contains("raw:"), "{yaml}");
    }
}

//! Turning shrinkable random draws into calls drawn from what exists.
//!
//! A case is a vector of [`Draw`]s; proptest generates and shrinks the vector (fewer
//! draws, numbers toward zero). [`generate`] interprets the draws in order against an
//! abstract state — which collections, users and faces the calls so far created — so
//! most calls refer to things that exist, some to things that do not, were deleted or
//! live in another collection, and a share (the `invalid` draw) break a constraint of
//! the contract table (lengths at and beyond bounds, a space or colon in CollectionId,
//! upper-case FaceIds, numbers out of range, 0 and 101 FaceIds, duplicated FaceIds,
//! reused ClientRequestTokens, foreign pagination tokens, malformed raw bodies).
//!
//! When a drawn call needs something that is not there (a collection, faces, a user),
//! the draw usually makes that first instead. A few draws make several steps at once,
//! where a behaviour needs a setup that random draws rarely line up: filling a user to
//! 99 or 100 faces and past the limit, offering a lookalike's face at thresholds around
//! its similarity band, and walking a listing to its last page with nothing changed in
//! between.
//!
//! The abstract state is a guide for picking names, except where a step captures a
//! value: a capture that finds nothing fails the step, so captures are only added where
//! every conforming answer carries the value (the state tracks what is *certain* for
//! that). The output is plain scenario steps ([`to_yaml`]), so a case runs through the
//! same runner as a YAML scenario and a finding can be written out as one. This module
//! never talks to an endpoint.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use proptest::collection::vec;
use proptest::prelude::{Just, Strategy, any, prop_oneof};
use serde_json::{Value, json};

use super::coverage;
use crate::api::Operation;
use crate::model::validate::{self, Constraint, Pattern, Rule};

/// One step's worth of random decisions. Zero is always the simplest choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Draw {
    /// Which kind of call.
    pub op: u16,
    /// Which existing things it refers to.
    pub pick: u32,
    /// Which variant of the call (threshold, page size, filter …).
    pub variant: u32,
    /// 0 for a call that keeps the contract; otherwise which constraint to break.
    pub invalid: u16,
}

/// The strategy of one [`Draw`]; `invalid_share` of them break a constraint.
///
/// The valid alternative comes first, so shrinking moves a step toward a valid call.
pub fn draw_strategy(invalid_share: f64) -> impl Strategy<Value = Draw> + Clone {
    let share = invalid_share.clamp(0.0, 1.0);
    let invalid_weight = (share * 1000.0).round() as u32;
    let valid_weight = 1000 - invalid_weight;
    let invalid = match (valid_weight, invalid_weight) {
        (_, 0) => Just(0u16).boxed(),
        (0, _) => (1..=u16::MAX).boxed(),
        (v, i) => prop_oneof![v => Just(0u16), i => 1..=u16::MAX].boxed(),
    };
    (any::<u16>(), any::<u32>(), any::<u32>(), invalid).prop_map(|(op, pick, variant, invalid)| Draw {
        op,
        pick,
        variant,
        invalid,
    })
}

/// The strategy of one case: 1 to `max_steps` draws.
pub fn case_strategy(invalid_share: f64, max_steps: usize) -> impl Strategy<Value = Vec<Draw>> + Clone {
    vec(draw_strategy(invalid_share), 1..=max_steps.max(1))
}

/// A fixture image the generator may send, with the people it shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Fixture {
    /// The name scenarios use (`alice-1`).
    pub name: String,
    /// Who its faces show, largest first.
    pub persons: Vec<String>,
}

impl Fixture {
    /// The fixture images under `images_dir` (`scenarios/images`), in name order, with the
    /// people each declares (see [`crate::image`]).
    pub fn load_dir(images_dir: &std::path::Path) -> std::io::Result<Vec<Fixture>> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(images_dir)? {
            let path = entry?.path();
            let is_image = path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| ["png", "jpg", "jpeg"].contains(&e));
            let Some(name) = path.file_stem().and_then(|s| s.to_str()) else { continue };
            if !is_image {
                continue;
            }
            let bytes = std::fs::read(&path)?;
            let persons = crate::image::faces_in(&bytes).into_iter().map(|f| f.person).collect();
            out.push(Fixture { name: name.to_string(), persons });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out.dedup_by(|a, b| a.name == b.name);
        Ok(out)
    }
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
    /// Run-scoped collection names the steps may use.
    pub collections: Vec<String>,
    /// Fixture images the steps use.
    pub images: Vec<String>,
    /// The calls.
    pub steps: Vec<GenStep>,
}

/// What to generate from.
#[derive(Debug, Clone)]
pub struct GenConfig {
    /// Fixture images available.
    pub fixtures: Vec<Fixture>,
}

/// Declared collections; slot 3 is `c2` padded to 255 characters (a CollectionId at its limit).
const COLLECTIONS: [&str; 3] = ["c0", "c1", "c2"];
/// Collection slots: c0, c1, c2 and the padded one.
const SLOTS: usize = 4;
const USERS: [&str; 5] = ["u0", "u1", "u2", "u3:with-colon", "u4"];
/// A well-formed FaceId no endpoint issued.
pub const UNKNOWN_FACE: &str = "0badface-0000-4000-8000-000000000000";

/// A face the calls so far indexed, by capture name.
#[derive(Debug, Clone)]
struct FaceRef {
    capture: String,
    collection: usize,
    person: String,
    /// The user it is probably associated with.
    user: Option<String>,
    /// Probably deleted (by DeleteFaces or with its collection).
    deleted: bool,
    /// Certainly in its collection (never passed to DeleteFaces, collection never deleted).
    certain: bool,
}

/// A NextToken a listing certainly returned.
#[derive(Debug, Clone)]
struct Cursor {
    op: Operation,
    collection: usize,
    capture: String,
    /// The change counter when the page was listed: a continuation right after it must
    /// complete the listing exactly.
    changes: u64,
}

/// What the generator believes exists. Names are picked from it; captures rely only on
/// its certain parts.
#[derive(Debug, Default, Clone)]
struct Abstract {
    /// Whether each collection slot exists (certain: only valid calls change it).
    exists: [bool; SLOTS],
    /// Users per slot, and whether each certainly exists.
    users: [BTreeMap<String, bool>; SLOTS],
    faces: Vec<FaceRef>,
    /// Valid token-carrying calls so far: (operation, request).
    tokened: Vec<(Operation, Value)>,
    cursors: Vec<Cursor>,
    /// Steps so far that may have changed something.
    changes: u64,
    /// Fixture images indexed per slot.
    indexed: std::collections::BTreeSet<(usize, String)>,
    captures: usize,
    tokens: usize,
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

    fn certain_faces(&self, collection: usize) -> usize {
        self.faces.iter().filter(|f| f.collection == collection && f.certain && !f.deleted).count()
    }

    fn certain_users(&self, collection: usize) -> usize {
        self.users[collection].values().filter(|certain| **certain).count()
    }

    /// An existing user of `collection` most of the time, else any name (maybe unknown).
    fn user_of(&self, collection: usize, pick: u32) -> String {
        let users: Vec<&String> = self.users[collection].keys().collect();
        if users.is_empty() || pick % 8 == 7 {
            USERS[pick as usize % USERS.len()].to_string()
        } else {
            users[pick as usize % users.len()].clone()
        }
    }

    /// A FaceId reference for a call on `collection`: mostly a live face of it, sometimes
    /// a deleted face, a face of another collection or an id nobody issued.
    fn face_ref(&self, collection: usize, pick: usize, twist: u32) -> String {
        let live = self.live_faces(collection);
        match twist % 16 {
            13 => {
                let gone: Vec<&FaceRef> =
                    self.faces.iter().filter(|f| f.collection == collection && f.deleted).collect();
                if let Some(f) = gone.get(pick % gone.len().max(1)) {
                    return capture_ref(&f.capture);
                }
            }
            14 => {
                let other: Vec<&FaceRef> = self.faces.iter().filter(|f| f.collection != collection).collect();
                if let Some(f) = other.get(pick % other.len().max(1)) {
                    return capture_ref(&f.capture);
                }
            }
            15 => return UNKNOWN_FACE.to_string(),
            _ => {}
        }
        match live.get(pick % live.len().max(1)) {
            Some(i) => capture_ref(&self.faces[*i].capture),
            None => UNKNOWN_FACE.to_string(),
        }
    }

    /// Free live faces of `collection` showing a lookalike of the person whose faces
    /// `user` probably holds (`alice~twin` for `alice`), else the person itself: where
    /// AssociateFaces' thresholds decide.
    fn kin_faces(&self, collection: usize, user: &str) -> (Vec<usize>, bool) {
        let base = |person: &str| person.split('~').next().unwrap_or_default().to_string();
        let held: Vec<&str> = self
            .faces
            .iter()
            .filter(|f| f.collection == collection && !f.deleted && f.user.as_deref() == Some(user))
            .map(|f| f.person.as_str())
            .collect();
        let bases: Vec<String> = held.iter().map(|p| base(p)).collect();
        let free: Vec<usize> = self
            .live_faces(collection)
            .into_iter()
            .filter(|i| self.faces[*i].user.is_none() && bases.contains(&base(&self.faces[*i].person)))
            .collect();
        let lookalikes: Vec<usize> =
            free.iter().copied().filter(|i| !held.contains(&self.faces[*i].person.as_str())).collect();
        if lookalikes.is_empty() { (free, false) } else { (lookalikes, true) }
    }

    /// Forgets everything in `collection` (it was deleted).
    fn drop_collection(&mut self, c: usize) {
        self.exists[c] = false;
        self.indexed.retain(|(slot, _)| *slot != c);
        self.users[c].clear();
        for face in self.faces.iter_mut().filter(|f| f.collection == c) {
            face.deleted = true;
            face.certain = false;
        }
        self.cursors.retain(|cur| cur.collection != c || cur.op == Operation::ListCollections);
    }
}

/// Operations by weight; earlier entries are what shrinking moves toward.
const WEIGHTS: [(Kind, u16); 20] = [
    (Kind::CreateCollection, 6),
    (Kind::IndexFaces, 14),
    (Kind::CreateUser, 9),
    (Kind::AssociateFaces, 16),
    (Kind::DisassociateFaces, 6),
    (Kind::BulkAssociate, 2),
    (Kind::Lookalike, 2),
    (Kind::ListUsers, 5),
    (Kind::ListFaces, 5),
    (Kind::ListCollections, 2),
    (Kind::DescribeCollection, 4),
    (Kind::DeleteFaces, 5),
    (Kind::DeleteUser, 4),
    (Kind::SearchUsers, 7),
    (Kind::SearchUsersByImage, 3),
    (Kind::SearchFaces, 4),
    (Kind::SearchFacesByImage, 3),
    (Kind::ReplayToken, 4),
    (Kind::DeleteCollection, 2),
    (Kind::Breaches, 10),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    CreateCollection,
    IndexFaces,
    CreateUser,
    AssociateFaces,
    DisassociateFaces,
    /// A user of c0 filled to 100 or 99 faces of one person, or pushed past the limit; the
    /// steps it needs first (many-face images, an empty user) come with it.
    BulkAssociate,
    /// A lookalike's face (similarity just under SearchUsers' 80, over AssociateFaces' 75)
    /// offered to a user of c0 holding the person it resembles, at a threshold around the
    /// band; the user and its face come with it when missing.
    Lookalike,
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
    /// Drawn as a broken call: one call of an operation (picked by the draw) broken in
    /// every way the constraint table allows, one step each, so each row of the table is
    /// tried in every operation within a default budget. Drawn valid: a ListCollections.
    Breaches,
}

impl Kind {
    /// A draw's `op` that [`kind_of`] maps to this kind.
    fn index(self) -> Option<usize> {
        let mut at = 0usize;
        for (kind, weight) in WEIGHTS {
            if kind == self {
                return Some(at);
            }
            at += usize::from(weight);
        }
        None
    }
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

fn coll_ref(slot: usize) -> String {
    match slot {
        0..=2 => format!("${{{}}}", COLLECTIONS[slot]),
        _ => "${pad(c2, 255)}".to_string(),
    }
}

fn capture_ref(name: &str) -> String {
    format!("${{{name}}}")
}

/// Interprets `draws` into scenario steps.
pub fn generate(draws: &[Draw], config: &GenConfig) -> Generated {
    let mut state = Abstract::default();
    let mut out = Generated {
        collections: COLLECTIONS.iter().map(|s| s.to_string()).collect(),
        ..Generated::default()
    };
    for draw in draws {
        if kind_of(draw.op) == Kind::Breaches && draw.invalid != 0 {
            // Built on a copy: every step is refused, so nothing changes.
            let mut scratch = state.clone();
            let steps = breaches(&mut scratch, &mut out, draw, config);
            out.steps.extend(steps);
            continue;
        }
        if draw.invalid == 0 {
            // A valid draw keeps its effects: no copy of the state to fall back on.
            let steps = valid_steps(&mut state, &mut out, draw, config);
            keep_tokens(&mut state, &steps);
            out.steps.extend(steps);
            continue;
        }
        let mut next = state.clone();
        let mut steps = valid_steps(&mut next, &mut out, draw, config);
        // A draw that makes several steps (the bulk association) stays valid.
        if draw.invalid != 0 && steps.len() == 1 {
            let (step, may_succeed) = violate(steps.remove(0), draw.invalid - 1);
            if may_succeed {
                // The endpoint may run it as if it were valid: keep the effects, trust none.
                let text = step_text(&step);
                for face in next.faces.iter_mut() {
                    if text.contains(&capture_ref(&face.capture)) {
                        face.certain = false;
                    }
                }
                next.cursors.truncate(state.cursors.len());
                state = next;
            }
            out.steps.push(step);
            continue;
        }
        keep_tokens(&mut next, &steps);
        state = next;
        out.steps.extend(steps);
    }
    out.images.sort();
    out.images.dedup();
    out
}

/// Remembers the valid token-carrying calls among `steps`, for replays.
fn keep_tokens(state: &mut Abstract, steps: &[GenStep]) {
    for step in steps {
        if let GenStep::Call { op, request, .. } = step
            && op.has_idempotency_token()
            && request.get("ClientRequestToken").is_some()
        {
            state.tokened.push((*op, request.clone()));
        }
    }
}

fn call(op: Operation, request: Value) -> GenStep {
    GenStep::Call { op, request, captures: Vec::new() }
}

/// The collection slot a call uses: mostly the first, so calls meet each other's effects.
fn slot_of(pick: u32) -> usize {
    match pick % 32 {
        0..=24 => 0,
        25..=28 => 1,
        29 | 30 => 2,
        _ => 3,
    }
}

/// The steps one draw makes: one call, or the bulk association's few.
fn valid_steps(state: &mut Abstract, out: &mut Generated, draw: &Draw, config: &GenConfig) -> Vec<GenStep> {
    let macro_ok = state.exists[0] || (draw.variant >> 24) % 8 == 7;
    match kind_of(draw.op) {
        // Half the listings walk on: the next page follows at once, with nothing changed
        // between, so it must complete the listing exactly.
        Kind::ListUsers | Kind::ListFaces | Kind::ListCollections
            if (draw.variant >> 28).is_multiple_of(2) =>
        {
            let first = valid_step(state, out, draw, config);
            let next = match &first {
                GenStep::Call { op, request, captures } if captures.iter().any(|(_, p)| p == "NextToken") => {
                    let mut request = request.clone();
                    if let Some((name, _)) = captures.first() {
                        request["NextToken"] = json!(capture_ref(name));
                    }
                    if let Some(map) = request.as_object_mut() {
                        map.remove("MaxResults");
                    }
                    Some(call(*op, request))
                }
                _ => None,
            };
            return [Some(first), next].into_iter().flatten().collect();
        }
        Kind::BulkAssociate if macro_ok => return bulk(state, out, draw, config),
        Kind::Lookalike if macro_ok => {
            let steps = lookalike(state, out, draw, config);
            if !steps.is_empty() {
                return steps;
            }
        }
        _ => {}
    }
    vec![valid_step(state, out, draw, config)]
}

fn valid_step(state: &mut Abstract, out: &mut Generated, draw: &Draw, config: &GenConfig) -> GenStep {
    let c = slot_of(draw.pick);
    let v = draw.variant;
    let pick = (draw.pick / 32) as usize;
    let kind = redirect(kind_of(draw.op), state, c, v);
    if !matches!(
        kind,
        Kind::ListUsers
            | Kind::ListFaces
            | Kind::ListCollections
            | Kind::DescribeCollection
            | Kind::SearchUsers
            | Kind::SearchUsersByImage
            | Kind::SearchFaces
            | Kind::SearchFacesByImage
    ) {
        state.changes += 1;
    }
    match kind {
        Kind::CreateCollection => {
            let c = if !state.exists[c] {
                c
            } else if !state.exists[0] || v.is_multiple_of(4) {
                0
            } else {
                1 + (v as usize / 4) % 3
            };
            state.exists[c] = true;
            call(Operation::CreateCollection, json!({"CollectionId": coll_ref(c)}))
        }
        Kind::IndexFaces => {
            // One in four shows a lookalike of someone a user holds (`alice~twin` for
            // `alice`), so similarity bands near the thresholds get exercised.
            let held: Vec<&str> = state
                .faces
                .iter()
                .filter(|f| f.collection == c && !f.deleted && f.user.is_some())
                .map(|f| f.person.as_str())
                .collect();
            let lookalikes: Vec<&Fixture> = config
                .fixtures
                .iter()
                .filter(|f| {
                    f.persons.len() == 1
                        && f.persons[0].split_once('~').is_some_and(|(base, _)| held.contains(&base))
                })
                .collect();
            let fixture = match lookalikes.get(pick % lookalikes.len().max(1)) {
                Some(f) if (v >> 12) % 4 == 1 => Some(*f),
                _ => config.fixtures.get(pick % config.fixtures.len().max(1)),
            };
            let Some(fixture) = fixture else {
                return call(Operation::ListCollections, json!({}));
            };
            index_faces(state, out, c, fixture, v)
        }
        Kind::CreateUser => {
            let user =
                if v % 13 == 12 { "u".repeat(128) } else { USERS[v as usize % USERS.len()].to_string() };
            create_user(state, c, user, v)
        }
        Kind::AssociateFaces | Kind::DisassociateFaces => {
            let op = if kind == Kind::AssociateFaces {
                Operation::AssociateFaces
            } else {
                Operation::DisassociateFaces
            };
            // Associations offer a user a free face that looks like its own: two in three
            // when some lookalike is free (rare, and where the thresholds decide), one in
            // three the same person's.
            let kin_pair = (op == Operation::AssociateFaces && (v >> 16) % 3 != 2)
                .then(|| {
                    let users: Vec<&String> = state.users[c].keys().collect();
                    let pairs: Vec<(String, Vec<usize>, bool)> = (0..users.len())
                        .map(|k| users[(pick + k) % users.len()])
                        .map(|u| {
                            let (kin, lookalike) = state.kin_faces(c, u);
                            (u.clone(), kin, lookalike)
                        })
                        .filter(|(_, kin, _)| !kin.is_empty())
                        .collect();
                    let lookalike = pairs.iter().find(|(_, _, l)| *l).cloned();
                    match lookalike {
                        Some(pair) => Some(pair),
                        None if (v >> 16).is_multiple_of(3) => pairs.into_iter().next(),
                        None => None,
                    }
                })
                .flatten()
                .map(|(u, kin, _)| (u, kin));
            let user = match &kin_pair {
                Some((u, _)) => u.clone(),
                None => state.user_of(c, draw.pick / 7),
            };
            let count = 1 + (v as usize % 3);
            let mut ids: Vec<String> = Vec::new();
            let kin = kin_pair.map(|(_, kin)| kin).unwrap_or_default();
            // And some offer a face another user holds (a quarter of associations, half of
            // disassociations).
            let others: Vec<&FaceRef> = state
                .faces
                .iter()
                .filter(|f| f.collection == c && !f.deleted && f.user.as_ref().is_some_and(|u| *u != user))
                .collect();
            if !kin.is_empty() {
                ids.push(capture_ref(&state.faces[kin[pick % kin.len()]].capture));
            } else if (v >> 16) % (if op == Operation::AssociateFaces { 4 } else { 2 }) == 1
                && !others.is_empty()
            {
                ids.push(capture_ref(&others[pick % others.len()].capture));
            }
            for k in ids.len()..count {
                let id = state.face_ref(c, pick + k * 7, v >> (4 + 4 * k));
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            let mut request = json!({"CollectionId": coll_ref(c), "UserId": user, "FaceIds": ids});
            // A lookalike is offered at the default threshold half the time.
            if op == Operation::AssociateFaces && (kin.is_empty() || (v >> 20) % 2 == 1) {
                match (v / 3) % 7 {
                    1 => request["UserMatchThreshold"] = json!(0),
                    2 => request["UserMatchThreshold"] = json!(100),
                    3 => request["UserMatchThreshold"] = json!(80),
                    4 => request["UserMatchThreshold"] = json!(75),
                    5 => request["UserMatchThreshold"] = json!(50.5),
                    _ => {}
                }
            }
            with_token(state, &mut request, v);
            track_association(state, c, &user, &request, op);
            call(op, request)
        }
        // Drawn only when c0 does not exist (or no fixture shows a lookalike): create it.
        Kind::BulkAssociate | Kind::Lookalike => {
            call(Operation::CreateCollection, json!({"CollectionId": coll_ref(0)}))
        }
        Kind::ListUsers | Kind::ListFaces | Kind::ListCollections => list(state, draw, kind, c),
        Kind::DescribeCollection => call(Operation::DescribeCollection, json!({"CollectionId": coll_ref(c)})),
        Kind::DeleteFaces => {
            let mut ids = vec![state.face_ref(c, pick, v >> 2)];
            if v % 3 == 1 {
                let other = state.face_ref(c, pick + 5, v >> 8);
                if !ids.contains(&other) {
                    ids.push(other);
                }
            }
            // Now and then as many as DeleteFaces takes, 4096 (the rest ids nobody issued).
            if (v >> 20) % 96 == 5 {
                ids.extend((ids.len()..4096).map(unknown_face));
            }
            for face in state.faces.iter_mut().filter(|f| f.collection == c) {
                if ids.contains(&capture_ref(&face.capture)) {
                    face.certain = false;
                    if face.user.is_none() {
                        face.deleted = true;
                    }
                }
            }
            call(Operation::DeleteFaces, json!({"CollectionId": coll_ref(c), "FaceIds": ids}))
        }
        Kind::DeleteUser => {
            // Half the time a user holding faces: what happens to them is the point.
            let holder = state
                .faces
                .iter()
                .filter(|f| f.collection == c && !f.deleted)
                .filter_map(|f| f.user.clone())
                .nth(pick % 4);
            let user = match holder {
                Some(u) if v.is_multiple_of(2) => u,
                _ => state.user_of(c, draw.pick / 7),
            };
            let mut request = json!({"CollectionId": coll_ref(c), "UserId": user});
            with_token(state, &mut request, v);
            state.users[c].remove(&user);
            for face in
                state.faces.iter_mut().filter(|f| f.collection == c && f.user.as_deref() == Some(&user))
            {
                face.user = None;
            }
            call(Operation::DeleteUser, request)
        }
        Kind::SearchUsers => {
            let mut request = json!({"CollectionId": coll_ref(c)});
            if v.is_multiple_of(2) {
                request["FaceId"] = json!(state.face_ref(c, pick, v >> 1));
            } else {
                request["UserId"] = json!(state.user_of(c, draw.pick / 7));
            }
            match (v / 4) % 6 {
                1 => request["UserMatchThreshold"] = json!(0),
                2 => request["UserMatchThreshold"] = json!(100),
                3 => request["MaxUsers"] = json!(1),
                4 => request["MaxUsers"] = json!(500),
                _ => {}
            }
            call(Operation::SearchUsers, request)
        }
        Kind::SearchUsersByImage | Kind::SearchFacesByImage => {
            let op = if kind == Kind::SearchUsersByImage {
                Operation::SearchUsersByImage
            } else {
                Operation::SearchFacesByImage
            };
            // One search in four sends an image without a face: the two operations
            // answer it differently (an empty match list, an error).
            let faceless = config.fixtures.iter().find(|f| f.persons.is_empty());
            let fixture = match faceless {
                Some(f) if (v >> 12).is_multiple_of(4) => Some(f),
                _ => config.fixtures.get(pick % config.fixtures.len().max(1)),
            };
            let Some(fixture) = fixture else {
                return call(Operation::ListCollections, json!({}));
            };
            out.images.push(fixture.name.clone());
            let mut request =
                json!({"CollectionId": coll_ref(c), "Image": {"Bytes": capture_ref(&fixture.name)}});
            let threshold =
                if op == Operation::SearchUsersByImage { "UserMatchThreshold" } else { "FaceMatchThreshold" };
            match (v / 2) % 5 {
                1 => request[threshold] = json!(0),
                2 => request[threshold] = json!(100),
                3 if op == Operation::SearchUsersByImage => request["MaxUsers"] = json!(1),
                3 => request["MaxFaces"] = json!(1),
                _ => {}
            }
            call(op, request)
        }
        Kind::SearchFaces => {
            let mut request = json!({"CollectionId": coll_ref(c), "FaceId": state.face_ref(c, pick, v >> 2)});
            match v % 5 {
                1 => request["FaceMatchThreshold"] = json!(0),
                2 => request["FaceMatchThreshold"] = json!(100),
                3 => request["MaxFaces"] = json!(1),
                4 => request["MaxFaces"] = json!(4096),
                _ => {}
            }
            call(Operation::SearchFaces, request)
        }
        Kind::ReplayToken => replay(state, draw),
        Kind::Breaches => call(Operation::ListCollections, json!({})),
        Kind::DeleteCollection => {
            state.drop_collection(c);
            call(Operation::DeleteCollection, json!({"CollectionId": coll_ref(c)}))
        }
    }
}

/// Most of the time, a call that needs something that is not there first makes it: a
/// collection, then faces, then users (one draw in eight keeps the call as drawn, so
/// calls on missing things stay common).
fn redirect(kind: Kind, state: &Abstract, c: usize, v: u32) -> Kind {
    if (v >> 24) % 8 == 7 {
        return kind;
    }
    let needs_faces = matches!(
        kind,
        Kind::AssociateFaces | Kind::DisassociateFaces | Kind::DeleteFaces | Kind::SearchFaces
    );
    let needs_users = matches!(kind, Kind::AssociateFaces | Kind::DisassociateFaces | Kind::DeleteUser);
    if !state.exists[c] && !matches!(kind, Kind::CreateCollection | Kind::ListCollections) {
        Kind::CreateCollection
    } else if needs_faces && state.live_faces(c).is_empty() {
        Kind::IndexFaces
    } else if needs_users && state.users[c].is_empty() {
        Kind::CreateUser
    } else {
        kind
    }
}

fn create_user(state: &mut Abstract, c: usize, user: String, v: u32) -> GenStep {
    let mut request = json!({"CollectionId": coll_ref(c), "UserId": user});
    with_token(state, &mut request, v);
    if state.exists[c] {
        state.users[c].insert(user, true);
    }
    call(Operation::CreateUser, request)
}

/// The bulk association of c0, with what it needs first: many-face images until 100
/// faces of one person are free, and an empty user. `v % 4` picks the goal: fill the user
/// to 100, fill it to 99, send 100 faces to the fullest user, or fill to 100 and then
/// add one more face (past the limit).
fn bulk(state: &mut Abstract, out: &mut Generated, draw: &Draw, config: &GenConfig) -> Vec<GenStep> {
    let c = 0;
    let v = draw.variant;
    let goal = v % 4;
    let mut steps = Vec::new();
    let best_free = |state: &Abstract| -> Vec<usize> {
        let mut by_person: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for i in state.live_faces(c) {
            if state.faces[i].user.is_none() {
                by_person.entry(state.faces[i].person.as_str()).or_default().push(i);
            }
        }
        by_person.into_values().max_by_key(Vec::len).unwrap_or_default()
    };
    // The largest many-face images not indexed here yet: two of them give 100 faces.
    let mut many: Vec<&Fixture> = config.fixtures.iter().filter(|f| f.persons.len() > 3).collect();
    many.sort_by_key(|f| std::cmp::Reverse(f.persons.len()));
    for fixture in many {
        if best_free(state).len() >= 100 {
            break;
        }
        if !state.indexed.contains(&(c, fixture.name.clone())) {
            steps.push(index_faces(state, out, c, fixture, 0));
        }
    }
    let held = |state: &Abstract, user: &str| {
        state
            .faces
            .iter()
            .filter(|f| f.collection == c && !f.deleted && f.user.as_deref() == Some(user))
            .count()
    };
    let existing = |state: &Abstract, want: &dyn Fn(usize) -> bool| {
        state.users[c].keys().find(|u| want(held(state, u))).cloned()
    };
    let user = match goal {
        2 => state.users[c].keys().max_by_key(|u| held(state, u)).cloned(),
        _ => existing(state, &|n| n == 0),
    };
    let user = match user {
        Some(u) => u,
        None => {
            let fresh = USERS
                .iter()
                .map(|u| u.to_string())
                .chain(["u".repeat(128)])
                .find(|u| !state.users[c].contains_key(u));
            let Some(fresh) = fresh else { return steps };
            steps.push(create_user(state, c, fresh.clone(), 0));
            fresh
        }
    };
    let take = match goal {
        0 | 3 => 100usize.saturating_sub(held(state, &user)),
        1 => 99usize.saturating_sub(held(state, &user)),
        _ => 100,
    };
    let associate = |state: &mut Abstract, ids: Vec<String>| {
        let ids = if ids.is_empty() { vec![UNKNOWN_FACE.to_string()] } else { ids };
        let request = json!({"CollectionId": coll_ref(c), "UserId": user, "FaceIds": ids});
        track_association(state, c, &user, &request, Operation::AssociateFaces);
        call(Operation::AssociateFaces, request)
    };
    let ids = best_free(state)
        .into_iter()
        .take(take.clamp(1, 100))
        .map(|i| capture_ref(&state.faces[i].capture))
        .collect();
    steps.push(associate(state, ids));
    if goal == 3 {
        // One more face, from a one-face image: the 101st.
        let single: Vec<&Fixture> = config.fixtures.iter().filter(|f| f.persons.len() == 1).collect();
        if let Some(fixture) = single.get(draw.pick as usize % single.len().max(1)).copied() {
            let before = state.faces.len();
            steps.push(index_faces(state, out, c, fixture, 0));
            let ids = state.faces[before..].iter().map(|f| capture_ref(&f.capture)).collect();
            steps.push(associate(state, ids));
        }
    }
    steps
}

/// A lookalike probe on c0: a user holding person P (made here if none), a face of P's
/// lookalike indexed, and offered to the user at the default threshold or one around
/// the lookalike band (80, 75, 100, 0).
fn lookalike(state: &mut Abstract, out: &mut Generated, draw: &Draw, config: &GenConfig) -> Vec<GenStep> {
    let c = 0;
    let v = draw.variant;
    let pick = draw.pick as usize;
    let single = |person: &str| config.fixtures.iter().filter(|f| f.persons == [person]).collect::<Vec<_>>();
    let pairs: Vec<(&Fixture, String)> = config
        .fixtures
        .iter()
        .filter(|f| f.persons.len() == 1)
        .filter_map(|f| f.persons[0].split_once('~').map(|(base, _)| (f, base.to_string())))
        .filter(|(_, base)| !single(base).is_empty())
        .collect();
    let Some((twin, person)) = pairs.get(pick % pairs.len().max(1)).cloned() else { return Vec::new() };
    let mut steps = Vec::new();
    let holds = |state: &Abstract, user: &str| -> (usize, bool) {
        let faces: Vec<&FaceRef> = state
            .faces
            .iter()
            .filter(|f| f.collection == c && !f.deleted && f.user.as_deref() == Some(user))
            .collect();
        (faces.len(), faces.iter().any(|f| f.person == person))
    };
    let holder = state.users[c].keys().find(|u| matches!(holds(state, u), (n, true) if n < 99)).cloned();
    let user = match holder {
        Some(u) => u,
        None => {
            let user = match state.users[c].keys().find(|u| holds(state, u).0 == 0).cloned() {
                Some(u) => u,
                None => {
                    let fresh = USERS.iter().find(|u| !state.users[c].contains_key(**u));
                    let Some(fresh) = fresh else { return steps };
                    steps.push(create_user(state, c, fresh.to_string(), 0));
                    fresh.to_string()
                }
            };
            let own = single(&person);
            let Some(own) = own.get(pick / 7 % own.len().max(1)).copied() else { return steps };
            let before = state.faces.len();
            steps.push(index_faces(state, out, c, own, 0));
            let ids: Vec<String> = state.faces[before..].iter().map(|f| capture_ref(&f.capture)).collect();
            steps.push(associate_call(state, c, &user, ids, None));
            user
        }
    };
    let before = state.faces.len();
    steps.push(index_faces(state, out, c, twin, 0));
    let ids: Vec<String> = state.faces[before..].iter().map(|f| capture_ref(&f.capture)).collect();
    let threshold = match v % 6 {
        0 | 1 => None,
        2 => Some(json!(80)),
        3 => Some(json!(75)),
        4 => Some(json!(100)),
        _ => Some(json!(0)),
    };
    steps.push(associate_call(state, c, &user, ids, threshold));
    steps
}

/// An AssociateFaces of `ids` (an unknown face when none) to `user`, tracked.
fn associate_call(
    state: &mut Abstract,
    c: usize,
    user: &str,
    ids: Vec<String>,
    threshold: Option<Value>,
) -> GenStep {
    let ids = if ids.is_empty() { vec![UNKNOWN_FACE.to_string()] } else { ids };
    let mut request = json!({"CollectionId": coll_ref(c), "UserId": user, "FaceIds": ids});
    if let Some(t) = threshold {
        request["UserMatchThreshold"] = t;
    }
    track_association(state, c, user, &request, Operation::AssociateFaces);
    call(Operation::AssociateFaces, request)
}

fn index_faces(state: &mut Abstract, out: &mut Generated, c: usize, fixture: &Fixture, v: u32) -> GenStep {
    out.images.push(fixture.name.clone());
    let mut request = json!({"CollectionId": coll_ref(c), "Image": {"Bytes": capture_ref(&fixture.name)}});
    let max_faces = match v % 7 {
        3 => Some(1 + (v / 7) as usize % 2),
        5 => Some(crate::image::MAX_FACES_PER_IMAGE),
        _ => None,
    };
    if let Some(m) = max_faces {
        request["MaxFaces"] = json!(m);
    }
    match v % 5 {
        4 => request["ExternalImageId"] = json!("x".repeat(255)),
        2 => request["ExternalImageId"] = json!("ext:image_1.jpg"),
        _ => {}
    }
    let mut captures = Vec::new();
    if state.exists[c] {
        state.indexed.insert((c, fixture.name.clone()));
        let stored = fixture.persons.len().min(max_faces.unwrap_or(crate::image::MAX_FACES_PER_IMAGE));
        for (i, person) in fixture.persons.iter().take(stored).enumerate() {
            let name = state.fresh_capture("f");
            captures.push((name.clone(), format!("FaceRecords[{i}].Face.FaceId")));
            state.faces.push(FaceRef {
                capture: name,
                collection: c,
                person: person.clone(),
                user: None,
                deleted: false,
                certain: true,
            });
        }
    }
    GenStep::Call { op: Operation::IndexFaces, request, captures }
}

/// A List* call; its NextToken is captured only when a next page is certain.
fn list(state: &mut Abstract, draw: &Draw, kind: Kind, c: usize) -> GenStep {
    let v = draw.variant;
    let op = match kind {
        Kind::ListUsers => Operation::ListUsers,
        Kind::ListFaces => Operation::ListFaces,
        _ => Operation::ListCollections,
    };
    let mut request =
        if op == Operation::ListCollections { json!({}) } else { json!({"CollectionId": coll_ref(c)}) };
    // Follow a page of the same listing, when there is one: mostly when nothing changed
    // since (the continuation must then complete the listing exactly), sometimes after.
    let cursor = state
        .cursors
        .iter()
        .rev()
        .find(|cur| cur.op == op && (cur.collection == c || op == Operation::ListCollections));
    if let Some(cursor) = cursor
        && (if cursor.changes == state.changes {
            !(v >> 8).is_multiple_of(4)
        } else {
            (v >> 8).is_multiple_of(4)
        })
    {
        request["NextToken"] = json!(capture_ref(&cursor.capture));
        // Mostly finish the listing in one page, so a complete listing can be checked.
        if v % 4 != 1 {
            request["MaxResults"] = json!(if op == Operation::ListUsers { 500 } else { 4096 });
        }
        return call(op, request);
    }
    let size = [1i64, 2, 3][v as usize % 3];
    let max = match (v / 3) % 8 {
        0 => None,
        1 if op == Operation::ListUsers => Some(500),
        1 => Some(4096),
        2 if op == Operation::ListUsers => Some(1),
        _ => Some(size),
    };
    if let Some(m) = max {
        request["MaxResults"] = json!(m);
    }
    // ListFaces' filters, each alone and both together: a user drawn from the state,
    // faces drawn from the state (now and then as many as the filter takes, 4096).
    let by_user = op == Operation::ListFaces && v % 5 == 2;
    let by_faces = op == Operation::ListFaces && matches!((v >> 16) % 6, 1 | 2) && !by_user
        || by_user && (v >> 16) % 6 == 3;
    if by_user {
        request["UserId"] = json!(state.user_of(c, draw.pick / 7));
    }
    if by_faces {
        let pick = (draw.pick / 32) as usize;
        let mut ids: Vec<String> =
            (0..1 + (v >> 19) as usize % 3).map(|k| state.face_ref(c, pick + k * 5, v >> (8 + k))).collect();
        ids.dedup();
        if (v >> 22) % 8 == 3 {
            ids.extend((ids.len()..4096).map(unknown_face));
        }
        request["FaceIds"] = json!(ids);
    }
    let filtered = by_user || by_faces;
    let certain = match op {
        Operation::ListUsers if state.exists[c] => state.certain_users(c),
        Operation::ListFaces if state.exists[c] && !filtered => state.certain_faces(c),
        Operation::ListCollections => state.exists.iter().filter(|e| **e).count(),
        _ => 0,
    };
    // A page holds at most MaxResults items, so more certain items than that means a NextToken.
    let captures = match max {
        Some(m) if certain as i64 > m && m > 0 => {
            let name = state.fresh_capture("nt");
            state.cursors.push(Cursor { op, collection: c, capture: name.clone(), changes: state.changes });
            vec![(name, "NextToken".to_string())]
        }
        _ => Vec::new(),
    };
    GenStep::Call { op, request, captures }
}

/// Replays a token-carrying call: as it was, or with another UserId (same token).
fn replay(state: &mut Abstract, draw: &Draw) -> GenStep {
    if state.tokened.is_empty() {
        return call(Operation::ListCollections, json!({}));
    }
    let (op, mut request) = state.tokened[draw.pick as usize % state.tokened.len()].clone();
    if draw.variant % 2 == 1 {
        // Same token, another parameter: IdempotentParameterMismatchException, unless the
        // first call failed and the endpoint kept no record of the token.
        let other = if request["UserId"] == json!("u0") { "u1" } else { "u0" };
        request["UserId"] = json!(other);
        let c = (0..SLOTS).find(|s| request["CollectionId"] == json!(coll_ref(*s))).unwrap_or(0);
        match op {
            Operation::CreateUser if state.exists[c] => {
                state.users[c].entry(other.to_string()).or_insert(false);
            }
            Operation::DeleteUser => {
                if let Some(certain) = state.users[c].get_mut(other) {
                    *certain = false;
                }
            }
            _ => {}
        }
    }
    call(op, request)
}

fn with_token(state: &mut Abstract, request: &mut Value, variant: u32) {
    if variant % 4 == 1 {
        state.tokens += 1;
        // The collection id makes the token unique to this run and case.
        request["ClientRequestToken"] = json!(format!("tok{}-${{c0}}", state.tokens));
    }
}

fn track_association(state: &mut Abstract, c: usize, user: &str, request: &Value, op: Operation) {
    if !state.users[c].contains_key(user) {
        return;
    }
    let ids: Vec<&str> =
        request["FaceIds"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    for face in state
        .faces
        .iter_mut()
        .filter(|f| f.collection == c && ids.contains(&capture_ref(&f.capture).as_str()))
    {
        match op {
            Operation::AssociateFaces if face.user.is_none() => face.user = Some(user.to_string()),
            Operation::DisassociateFaces if face.user.as_deref() == Some(user) => face.user = None,
            _ => {}
        }
    }
}

/// The kinds one call of which [`Kind::Breaches`] breaks, by the draw's pick.
const BREACHED: [Kind; 16] = [
    Kind::CreateCollection,
    Kind::IndexFaces,
    Kind::CreateUser,
    Kind::AssociateFaces,
    Kind::DisassociateFaces,
    Kind::ListUsers,
    Kind::ListFaces,
    Kind::ListCollections,
    Kind::DescribeCollection,
    Kind::DeleteFaces,
    Kind::DeleteUser,
    Kind::SearchUsers,
    Kind::SearchUsersByImage,
    Kind::SearchFaces,
    Kind::SearchFacesByImage,
    Kind::DeleteCollection,
];

/// A valid call of the operation the draw picks, then that call broken in each way
/// [`violations_for`] lists (the operation's own members; the universal breaches are
/// left to single draws), each breaking nothing else. `state` is a scratch copy.
fn breaches(state: &mut Abstract, out: &mut Generated, draw: &Draw, config: &GenConfig) -> Vec<GenStep> {
    let kind = BREACHED[draw.pick as usize % BREACHED.len()];
    let op = kind.index().map_or(0, |i| i as u16);
    // The variant keeps the kind as drawn (no redirect to what it would need first).
    let variant = (draw.variant & !(7 << 24)) | (7 << 24);
    let base = valid_step(state, out, &Draw { op, variant, invalid: 0, ..*draw }, config);
    let GenStep::Call { op, request, .. } = &base else { return Vec::new() };
    // choice = 3k + 1: the k-th of the operation's own breaches; 3k: the k-th universal
    // one, for an operation with only a CollectionId (see [`violate`]).
    let (universal, own) = pools(*op, request);
    let (options, offset) = if own.is_empty() { (universal.len(), 0) } else { (own.len(), 1) };
    let spin = draw.invalid as usize % 16;
    let steps: Vec<GenStep> = (0..options)
        .map(|k| violate(base.clone(), u16::try_from(3 * (k + spin * options) + offset).unwrap_or(1)))
        .filter(|(_, may_succeed)| !may_succeed)
        .map(|(step, _)| step)
        .collect();
    if steps.is_empty() { vec![call(Operation::ListCollections, json!({}))] } else { steps }
}

/// One way to break the contract.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Violation {
    RawTruncated,
    RawWrongType,
    RawUnknownTarget,
    /// A row of the constraint table broken (or, for the image's members, met at a
    /// bound by a call that certainly fails), as its `k`-th coverage probe names it.
    Breach(&'static Constraint, usize),
    FaceIdsDuplicated,
    NextTokenForeign,
    ImageNotAnImage,
}

/// The ways to break `op`'s request: every probe beyond a bound of every row of the
/// constraint table for `op`; for the image's members also the probes at a bound (an
/// S3 object rekcon never uploaded, bytes that are no image: the call certainly fails);
/// and the breaches the table cannot express (duplicated FaceIds, a foreign token, a
/// malformed body).
fn violations_for(op: Operation, request: &Value) -> Vec<Violation> {
    use Violation as V;
    let mut out = vec![V::RawTruncated, V::RawWrongType, V::RawUnknownTarget];
    for constraint in validate::constraints_of(op) {
        // SearchUsers' FaceId is only broken where the request names a face (its
        // UserId likewise), so the breach stays the only one.
        if constraint.member == "FaceId" && op == Operation::SearchUsers && request.get("FaceId").is_none() {
            continue;
        }
        if constraint.member == "UserId" && op == Operation::SearchUsers && request.get("UserId").is_none() {
            continue;
        }
        let certain_failure = constraint.member.starts_with("Image");
        for (k, probe) in coverage::rule_probes(&constraint.rule).iter().enumerate() {
            if (coverage::is_beyond(probe) || certain_failure) && probe != "only-Bytes" {
                out.push(V::Breach(constraint, k));
            }
        }
    }
    if matches!(op, Operation::AssociateFaces | Operation::DisassociateFaces | Operation::DeleteFaces) {
        out.push(V::FaceIdsDuplicated);
    }
    if op.request_members().contains(&"NextToken") {
        out.push(V::NextTokenForeign);
    }
    if op.request_members().contains(&"Image") {
        out.push(V::ImageNotAnImage);
    }
    out
}

/// [`violations_for`] split: the universal breaches (a malformed body, an unknown
/// target, a bad CollectionId) and the operation's own.
fn pools(op: Operation, request: &Value) -> (Vec<Violation>, Vec<Violation>) {
    let universal = |v: &Violation| match v {
        Violation::RawTruncated | Violation::RawWrongType | Violation::RawUnknownTarget => true,
        Violation::Breach(c, _) => c.member == "CollectionId",
        _ => false,
    };
    violations_for(op, request).into_iter().partition(universal)
}

/// Breaks one constraint of the contract (§2) in `step`; `choice` picks which. Returns
/// the broken step and whether a conforming endpoint may still run it (duplicated
/// FaceIds are an unsettled point, not a certain error).
fn violate(step: GenStep, choice: u16) -> (GenStep, bool) {
    use Violation as V;
    let GenStep::Call { op, mut request, .. } = step else { return (step, false) };
    // Two draws in three break a member of this operation, one a universal constraint
    // (a malformed body, an unknown target, a bad CollectionId), so rare members get their turn.
    let (universal, specific) = pools(op, &request);
    let choice = choice as usize;
    let pool = if specific.is_empty() || choice.is_multiple_of(3) { &universal } else { &specific };
    let violation = pool[(choice / 3) % pool.len()];
    // What varies within one violation (which character, how far beyond).
    let spin = choice / 3 / pool.len();
    let target = op.target();
    let Some(map) = request.as_object_mut() else {
        return (GenStep::Call { op, request, captures: Vec::new() }, false);
    };
    match violation {
        V::RawTruncated => return (GenStep::Raw { target, body: "{\"CollectionId\": ".into() }, false),
        V::RawWrongType => {
            let member = op.request_members().first().copied().unwrap_or("CollectionId");
            return (GenStep::Raw { target, body: format!("{{\"{member}\": true}}") }, false);
        }
        V::RawUnknownTarget => {
            let target = format!("RekognitionService.{}s", op.name());
            return (GenStep::Raw { target, body: "{}".into() }, false);
        }
        V::FaceIdsDuplicated => {
            let first =
                map.get("FaceIds").and_then(|f| f.get(0)).cloned().unwrap_or_else(|| json!(UNKNOWN_FACE));
            map.insert("FaceIds".into(), json!([first.clone(), first]));
            return (GenStep::Call { op, request, captures: Vec::new() }, true);
        }
        V::NextTokenForeign => {
            map.insert("NextToken".into(), json!("not-a-token-rekcon-issued"));
        }
        V::ImageNotAnImage => {
            map.insert("Image".into(), json!({"Bytes": "aGVsbG8="}));
        }
        V::Breach(constraint, k) => {
            let probes = coverage::rule_probes(&constraint.rule);
            breach(map, constraint, probes.get(k).map_or("", String::as_str), spin);
        }
    }
    // A rejected call binds nothing.
    (GenStep::Call { op, request, captures: Vec::new() }, false)
}

/// A valid S3 object rekcon never uploaded (every call with it fails).
fn s3_object() -> Value {
    json!({"Bucket": "rekcon-no-such-bucket", "Name": "alice-1.png"})
}

/// Characters beyond the ASCII range worth trying against a pattern: accented and
/// non-Latin letters, digits of other scripts, separators, zero-width and control
/// characters, an emoji.
const WIDE: [char; 14] = [
    'é', 'ß', 'Ж', '中', '٣', '\u{a0}', '\u{3000}', '\u{200b}', '\u{2028}', '\u{7f}', '\u{85}', '\t', '\n',
    '😀',
];

/// A character outside `pattern`'s character classes (and, where case matters, not a
/// case variant of one inside), the `spin`-th of the candidates: every ASCII character
/// from NUL to `~` the pattern does not allow, then [`WIDE`], then code points far out.
pub fn outside_char(pattern: Pattern, spin: usize) -> char {
    let flips = |c: char| c.to_lowercase().chain(c.to_uppercase()).any(|f| f != c && pattern.allows(f));
    let candidates: Vec<char> = (0u8..=0x7e)
        .map(char::from)
        .chain(WIDE)
        .chain((0..64u32).filter_map(|k| char::from_u32(0x1_0000 + k * 0x1_7ff)))
        .filter(|c| !(pattern.allows(*c) || pattern.case_matters() && flips(*c)))
        .collect();
    // Half the draws take a character a sibling pattern allows (`:` is in UserId's, not
    // CollectionId's): the likeliest confusion of an implementation.
    const ALL: [Pattern; 6] = [
        Pattern::CollectionId,
        Pattern::UserId,
        Pattern::FaceId,
        Pattern::Token,
        Pattern::S3Bucket,
        Pattern::Tag,
    ];
    let near: Vec<char> =
        candidates.iter().copied().filter(|c| c.is_ascii() && ALL.iter().any(|p| p.allows(*c))).collect();
    if spin.is_multiple_of(2) && !near.is_empty() {
        return near[spin / 2 % near.len()];
    }
    candidates.get(spin % candidates.len().max(1)).copied().unwrap_or('\u{0}')
}

/// A case variant of a character inside `pattern` (FaceIds: an upper-case hex letter).
fn other_case(pattern: Pattern, spin: usize) -> char {
    let candidates: Vec<char> =
        ('A'..='Z').filter(|c| !pattern.allows(*c) && pattern.allows(c.to_ascii_lowercase())).collect();
    candidates.get(spin % candidates.len().max(1)).copied().unwrap_or('A')
}

/// `value` with its `spin`-th character replaced by `c` (`sample` when it is empty).
fn with_char(value: &str, c: char, spin: usize) -> String {
    let mut chars: Vec<char> = value.chars().collect();
    let i = spin % chars.len().max(1);
    match chars.get_mut(i) {
        Some(slot) if *slot != '$' && *slot != '{' && *slot != '}' && !value.contains("${") => *slot = c,
        _ => chars = vec!['x', c],
    }
    chars.into_iter().collect()
}

/// A FaceId no endpoint issued, of `n` distinct ones.
fn unknown_face(n: usize) -> String {
    format!("{n:08x}-0000-4000-8000-000000000000")
}

/// Sets `member` (a table path) of `request` to `value`, making its parents; for a list
/// item (`FaceIds[]`) the list becomes `[value]`, for a map key or value (`Tags{key}`)
/// the map gets one such entry.
fn set_member(request: &mut serde_json::Map<String, Value>, member: &str, value: Value) {
    let mut segments: Vec<&str> = member.split('.').collect();
    let Some(last) = segments.pop() else { return };
    let mut map = request;
    for segment in segments {
        let entry = map.entry(segment.to_string()).or_insert_with(|| json!({}));
        if !entry.is_object() {
            *entry = json!({});
        }
        let Some(next) = entry.as_object_mut() else { return };
        map = next;
    }
    if let Some(name) = last.strip_suffix("[]") {
        map.insert(name.to_string(), json!([value]));
    } else if let Some(name) = last.strip_suffix("{key}") {
        let key = value.as_str().unwrap_or_default().to_string();
        map.insert(name.to_string(), json!({ key: "v" }));
    } else if let Some(name) = last.strip_suffix("{value}") {
        map.insert(name.to_string(), json!({ "k": value }));
    } else {
        map.insert(last.to_string(), value);
    }
}

/// Breaks (or, for the image's members, meets at a bound) `constraint` in `request` as
/// the coverage probe `probe` names it, breaking nothing else.
fn breach(request: &mut serde_json::Map<String, Value>, constraint: &Constraint, probe: &str, spin: usize) {
    let member = constraint.member;
    // An S3 object's members need an S3 object, without Bytes.
    if member.starts_with("Image.S3Object") {
        request.insert("Image".into(), json!({"S3Object": s3_object()}));
    }
    let current = values_text(request, member);
    let pattern_of = |c: &Constraint| match c.rule {
        Rule::Pattern(p) => Some(p),
        _ => None,
    };
    // The member's own pattern, so a length breach keeps its characters valid.
    let pattern = validate::CONSTRAINTS
        .iter()
        .filter(|c| c.member == member && c.ops.iter().any(|op| constraint.ops.contains(op)))
        .find_map(pattern_of);
    let text = |len: usize| pattern.map_or_else(|| "x".repeat(len), |p| p.sample(len));
    let value = match (constraint.rule, probe) {
        (Rule::Required, _) => {
            remove_member(request, member);
            return;
        }
        (Rule::Length { min, .. }, "at-min") => json!(text(min)),
        (Rule::Length { min, .. }, "below-min") => json!(text(min.saturating_sub(1))),
        (Rule::Length { max, .. }, "at-max") => json!(text(max)),
        (Rule::Length { max, .. }, _) => json!(text(max + 1 + spin % 3)),
        (Rule::Pattern(p), probe) => {
            // A valid value of the member, one character of it replaced.
            let base = current.filter(|s| !s.contains("${") && p.matches(s)).unwrap_or_else(|| p.sample(8));
            let c = if probe == "other-case" { other_case(p, spin) } else { outside_char(p, spin) };
            json!(with_char(&base, c, spin / 7))
        }
        (Rule::NotPrefix(prefix), _) => json!(format!("{prefix}tag{}", spin % 10)),
        (Rule::Range { min, integer, .. }, "below-min") => {
            number(min - [1.0, 0.5, 1000.0][spin % 3], integer)
        }
        (Rule::Range { max, integer, .. }, _) => number(max + [1.0, 0.5, 1000.0][spin % 3], integer),
        (Rule::Items { min, .. }, "below-min") => {
            json!((0..min.saturating_sub(1)).map(unknown_face).collect::<Vec<_>>())
        }
        (Rule::Items { max, .. }, _) => json!((0..=max).map(unknown_face).collect::<Vec<_>>()),
        (Rule::Entries { max }, _) => {
            let tags: serde_json::Map<String, Value> =
                (0..=max).map(|i| (format!("k{i}"), json!("v"))).collect();
            Value::Object(tags)
        }
        (Rule::Bytes { min, .. }, "at-min") => json!(base64_of_len(min)),
        (Rule::Bytes { .. }, "below-min") => json!(""),
        (Rule::Bytes { max, .. }, "at-max") => json!(base64_of_len(max)),
        (Rule::Bytes { max, .. }, _) => json!(base64_of_len(max + 1)),
        (Rule::Enum(values), "other-case") => json!(values[spin % values.len()].to_lowercase()),
        (Rule::Enum(_), _) => json!(["ULTRA", "NOSE", "", "DEFAULT "][spin % 4]),
        (Rule::ExactlyOne(_), probe) => {
            exactly_one(request, member, probe);
            return;
        }
    };
    set_member(request, member, value);
}

/// `x` as a JSON number of the member's kind (an integer member gets `x` rounded away
/// from the bound).
fn number(x: f64, integer: bool) -> Value {
    if integer { json!(if x < 0.0 { x.floor() } else { x.ceil() } as i64) } else { json!(x) }
}

/// Base64 of `n` zero bytes, as a `${repeat(...)}` expression for long ones.
fn base64_of_len(n: usize) -> String {
    let full = n / 3 * 4;
    let tail = match n % 3 {
        0 => "",
        1 => "AA==",
        _ => "AAA=",
    };
    // `repeat` makes at most 2^20 characters a call: repeat 8 characters at a time.
    let rest = if full % 8 == 4 { "AAAA" } else { "" };
    if full > 64 {
        format!("${{repeat(AAAAAAAA, {})}}{rest}{tail}", full / 8)
    } else {
        format!("{}{tail}", "A".repeat(full))
    }
}

/// The string at `member` (a top-level or nested path, lists' first item), if any.
fn values_text(request: &serde_json::Map<String, Value>, member: &str) -> Option<String> {
    let mut value = request.get(member.split('.').next()?.trim_end_matches("[]"))?;
    for segment in member.split('.').skip(1) {
        value = value.get(segment.trim_end_matches("[]"))?;
    }
    let value = if value.is_array() { value.get(0)? } else { value };
    value.as_str().map(str::to_string)
}

/// Removes `member` (a top-level or nested path) from `request`.
fn remove_member(request: &mut serde_json::Map<String, Value>, member: &str) {
    match member.rsplit_once('.') {
        None => {
            request.remove(member);
        }
        Some((parent, name)) => {
            let mut map = request;
            for segment in parent.split('.') {
                let Some(next) = map.get_mut(segment).and_then(Value::as_object_mut) else { return };
                map = next;
            }
            map.remove(name);
        }
    }
}

/// Gives `probe`'s members of an exactly-one group: `only-X`, `all` or `none`.
fn exactly_one(request: &mut serde_json::Map<String, Value>, member: &str, probe: &str) {
    if member == "Image" {
        let bytes =
            request.get("Image").and_then(|i| i.get("Bytes")).cloned().unwrap_or_else(|| json!("aGVsbG8="));
        let image = match probe {
            "all" => json!({"Bytes": bytes, "S3Object": s3_object()}),
            "none" => json!({}),
            _ => json!({"S3Object": s3_object()}),
        };
        request.insert("Image".into(), image);
    } else {
        // SearchUsers: FaceId and UserId.
        match probe {
            "all" => {
                request.entry("FaceId").or_insert_with(|| json!(UNKNOWN_FACE));
                request.entry("UserId").or_insert_with(|| json!("u0"));
            }
            _ => {
                request.remove("FaceId");
                request.remove("UserId");
            }
        }
    }
}

/// Writes a generated case as a scenario file (docs/scenario-format.md).
pub fn to_yaml(generated: &Generated, description: &str) -> String {
    let mut y = String::new();
    let description = description.trim().replace('\n', "\n  ");
    let _ = writeln!(y, "description: >\n  {description}");
    let _ = writeln!(y, "tags: [fuzz, regression]");
    let (used, images) = declared(generated);
    let _ = writeln!(y, "collections: [{}]", used.join(", "));
    if !images.is_empty() {
        let _ = writeln!(y, "images: [{}]", images.join(", "));
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

/// The collections and images a case's steps refer to: what its scenario declares.
fn declared(generated: &Generated) -> (Vec<&str>, Vec<&str>) {
    let mentioned = |needle: &str| generated.steps.iter().any(|step| mentions(step, needle));
    let used = generated
        .collections
        .iter()
        .map(String::as_str)
        .filter(|c| mentioned(&format!("${{{c}}}")) || mentioned(&format!("pad({c},")))
        .collect();
    let images = generated.images.iter().map(String::as_str).filter(|i| mentioned(&capture_ref(i))).collect();
    (used, images)
}

/// Whether [`step_text`] of `step` contains `needle`, a reference (`${c0}`, `pad(c0,`),
/// read without writing the request as JSON: such a needle holds neither a quote nor
/// anything JSON escapes, so in a request's text it can only lie within one string (a
/// member's name or a value), written there as is.
fn mentions(step: &GenStep, needle: &str) -> bool {
    fn within(value: &Value, needle: &str) -> bool {
        match value {
            Value::String(s) => s.contains(needle),
            Value::Array(items) => items.iter().any(|item| within(item, needle)),
            Value::Object(map) => map.iter().any(|(k, v)| k.contains(needle) || within(v, needle)),
            Value::Null | Value::Bool(_) | Value::Number(_) => false,
        }
    }
    match step {
        GenStep::Call { request, .. } => within(request, needle),
        GenStep::Raw { body, .. } => body.contains(needle),
    }
}

/// The scenario [`to_yaml`] writes, as the JSON value of its document, with each step's
/// (line, column) in that text: what [`crate::scenario::Loader::build`] loads without
/// writing and reading YAML.
pub fn to_document(generated: &Generated, description: &str) -> (Value, Vec<(u64, u64)>) {
    let (used, images) = declared(generated);
    let description_lines: Vec<&str> = description.trim().split('\n').collect();
    // description, its folded lines, tags, collections, images, steps.
    let mut line = 1 + description_lines.len() as u64 + 2 + u64::from(!images.is_empty()) + 1;
    let mut at = Vec::with_capacity(generated.steps.len());
    let steps: Vec<Value> = generated
        .steps
        .iter()
        .map(|step| {
            line += 1;
            at.push((line, 5));
            match step {
                GenStep::Call { op, request, captures } => {
                    let mut entry = serde_json::Map::new();
                    entry.insert(op.name().to_string(), request.clone());
                    if !captures.is_empty() {
                        line += 1;
                        let captures =
                            captures.iter().map(|(n, p)| (n.clone(), Value::String(p.clone()))).collect();
                        entry.insert("capture".into(), Value::Object(captures));
                    }
                    Value::Object(entry)
                }
                GenStep::Raw { target, body } => json!({ "raw": { "target": target, "body": body } }),
            }
        })
        .collect();
    let mut document = json!({
        // `>` folds the lines into one, with a final newline.
        "description": format!("{}\n", description_lines.join(" ")),
        "tags": ["fuzz", "regression"],
        "collections": used,
    });
    if !images.is_empty() {
        document["images"] = json!(images);
    }
    document["steps"] = Value::Array(steps);
    (document, at)
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
            let members: Vec<String> = map
                .iter()
                .map(|(k, v)| {
                    let plain = !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric());
                    let key = if plain { k.clone() } else { yaml_str(k) };
                    format!("{key}: {}", yaml_flow(v))
                })
                .collect();
            format!("{{ {} }}", members.join(", "))
        }
        Value::Array(items) => format!("[{}]", items.iter().map(yaml_flow).collect::<Vec<_>>().join(", ")),
        Value::String(s) => yaml_str(s),
        other => other.to_string(),
    }
}

/// A YAML double-quoted scalar; every character outside printable ASCII is escaped, so
/// any string (control characters, separators, astral code points) survives loading.
fn yaml_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            ' '..='~' => out.push(c),
            c if u32::from(c) <= 0xffff => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => {
                let _ = write!(out, "\\U{:08x}", u32::from(c));
            }
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

    use super::*;

    fn fixtures() -> Vec<Fixture> {
        vec![
            Fixture { name: "alice-1".into(), persons: vec!["alice".into()] },
            Fixture { name: "alice-many-50".into(), persons: vec!["alice".into(); 50] },
            Fixture { name: "group-alice-bob".into(), persons: vec!["alice".into(), "bob".into()] },
        ]
    }

    fn config() -> GenConfig {
        GenConfig { fixtures: fixtures() }
    }

    fn op_index(kind: Kind) -> u16 {
        let mut at = 0;
        for (k, w) in WEIGHTS {
            if k == kind {
                return at;
            }
            at += w;
        }
        unreachable!("every kind has a weight")
    }

    #[test]
    fn zero_draws_are_the_simplest_calls() {
        let g = generate(&[Draw::default()], &config());
        assert_eq!(g.steps, vec![call(Operation::CreateCollection, json!({"CollectionId": "${c0}"}))]);
    }

    #[test]
    fn calls_refer_to_faces_indexed_before() {
        let draws = [
            Draw::default(),
            Draw { op: op_index(Kind::IndexFaces), pick: 2 * 32, ..Draw::default() },
            Draw { op: op_index(Kind::CreateUser), ..Draw::default() },
            Draw { op: op_index(Kind::AssociateFaces), ..Draw::default() },
        ];
        let g = generate(&draws, &config());
        let GenStep::Call { op, request, .. } = &g.steps[3] else { panic!("a call") };
        assert_eq!(*op, Operation::AssociateFaces);
        assert!(request["FaceIds"][0].as_str().unwrap().starts_with("${f"), "{request}");
        assert_eq!(g.images, ["group-alice-bob"]);
    }

    #[test]
    fn a_broken_call_leaves_the_state_alone() {
        // IndexFaces broken: no face may be referred to later.
        let draws = [
            Draw::default(),
            Draw { op: op_index(Kind::IndexFaces), invalid: 1, ..Draw::default() },
            Draw { op: op_index(Kind::CreateUser), ..Draw::default() },
            Draw { op: op_index(Kind::AssociateFaces), ..Draw::default() },
        ];
        let g = generate(&draws, &config());
        assert!(matches!(g.steps[1], GenStep::Raw { .. }), "{:?}", g.steps[1]);
        // No face exists, so the association is preceded by an IndexFaces instead.
        let GenStep::Call { op, .. } = &g.steps[3] else { panic!("a call") };
        assert_eq!(*op, Operation::IndexFaces);
        // Kept as drawn (one in eight), it names a face nobody issued.
        let mut draws = draws;
        draws[3].variant = 7 << 24;
        let g = generate(&draws, &config());
        let GenStep::Call { request, .. } = &g.steps[3] else { panic!("a call") };
        assert_eq!(request["FaceIds"], json!([UNKNOWN_FACE]));
    }

    #[test]
    fn next_tokens_are_captured_only_when_certain() {
        let list_faces =
            |pick: u32| Draw { op: op_index(Kind::ListFaces), variant: 3 * 3, pick, ..Draw::default() };
        // No faces yet: a page of 1 may be the last, so nothing is captured.
        let g = generate(&[Draw::default(), list_faces(0)], &config());
        let GenStep::Call { captures, .. } = &g.steps[1] else { panic!("a call") };
        assert!(captures.is_empty());
        let index = Draw { op: op_index(Kind::IndexFaces), pick: 2 * 32, ..Draw::default() };
        let g = generate(&[Draw::default(), index, list_faces(0)], &config());
        let GenStep::Call { captures, request, .. } = &g.steps[2] else { panic!("a call") };
        assert_eq!(request["MaxResults"], json!(1));
        assert_eq!(captures.len(), 1, "{request}");
    }

    #[test]
    fn every_violation_keeps_the_scenario_loadable() {
        let all_kinds: Vec<u16> = WEIGHTS.iter().map(|(k, _)| op_index(*k)).collect();
        let draws: Vec<Draw> = (0..400u32)
            .map(|i| Draw {
                op: all_kinds[i as usize % all_kinds.len()],
                pick: i * 13,
                variant: i * 7,
                invalid: if i % 2 == 0 { 0 } else { 1 + i as u16 },
            })
            .collect();
        let g = generate(&draws, &config());
        assert!(g.steps.len() >= 400);
        let yaml = to_yaml(&g, "generated");
        assert!(yaml.contains("raw:"), "{yaml}");
        let root = crate::runner::crate_scenarios_root();
        let loaded = crate::scenario::parse(&root, "fuzz/t", &root.join("fuzz/t.yaml"), &yaml);
        assert!(loaded.is_ok(), "{loaded:?}");
    }

    #[test]
    fn the_strategy_respects_the_invalid_share() {
        let mut runner =
            TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]));
        let strategy = draw_strategy(0.25);
        let invalid = (0..2000)
            .filter(|_| strategy.new_tree(&mut runner).expect("a draw").current().invalid != 0)
            .count();
        assert!((400..600).contains(&invalid), "{invalid} of 2000");
        let none = draw_strategy(0.0);
        assert!((0..100).all(|_| none.new_tree(&mut runner).expect("a draw").current().invalid == 0));
    }

    #[test]
    fn references_are_found_in_requests_as_in_their_text() {
        let mut runner =
            TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &[3; 32]));
        let strategy = case_strategy(0.5, 30);
        let (mut found, mut missed) = (0, 0);
        let fixtures = fixtures();
        for _ in 0..300 {
            let generated = generate(&strategy.new_tree(&mut runner).expect("a case").current(), &config());
            let needles = COLLECTIONS
                .iter()
                .flat_map(|c| [format!("${{{c}}}"), format!("pad({c},")])
                .chain(fixtures.iter().map(|f| capture_ref(&f.name)));
            for needle in needles {
                for step in &generated.steps {
                    let in_text = step_text(step).contains(&needle);
                    assert_eq!(mentions(step, &needle), in_text, "{needle} in {step:?}");
                    if in_text { found += 1 } else { missed += 1 }
                }
            }
        }
        assert!(found > 100 && missed > 100, "both answers were tried: {found} found, {missed} not");
    }
}

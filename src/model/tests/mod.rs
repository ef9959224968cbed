//! Unit tests of the reference model, one per contract rule.
//!
//! Each test names the contract section it checks (`// §6.5`). Tests that check a
//! detection hand-craft a wrong outcome and assert the exact mismatch path.

mod associate;
mod collections;
mod endpoint_faces;
mod faces;
mod idempotency;
mod pagination;
mod search;
mod state;
mod users;
mod validation;

use serde_json::{Value, json};

use super::*;
use crate::api::{ApiError, Operation};
use crate::expect::{Choice, Chooser};
use crate::image::{BoundingBox, ImageFace, fixture_png};

/// A deterministic chooser standing in for the emulator: first options, counted ids.
pub(crate) struct Scripted {
    next_id: u32,
    /// Whether pending users read as settled (`ACTIVE`) rather than `UPDATING`.
    settled: bool,
    /// The pick for near-threshold decisions: 0 matched, 1 not.
    near: usize,
    /// The pick for every other decision.
    other: usize,
}

impl Scripted {
    pub(crate) fn new() -> Self {
        Scripted { next_id: 0, settled: false, near: 0, other: 0 }
    }
}

impl Chooser for Scripted {
    fn pick(&mut self, choice: &Choice, _options: usize) -> usize {
        match choice {
            Choice::UserStatus { .. } => usize::from(self.settled),
            Choice::Near(_) => self.near,
            _ => self.other,
        }
    }
    fn number(&mut self, _min: f64, _max: f64, sample: f64) -> f64 {
        sample
    }
    fn fresh_id(&mut self) -> String {
        self.next_id += 1;
        format!("00000000-0000-4000-8000-{:012x}", self.next_id)
    }
    fn page_token(&mut self) -> String {
        self.next_id += 1;
        format!("token-{}", self.next_id)
    }
}

/// An `Image` member showing these people, largest face first.
pub(crate) fn image(people: &[&str]) -> Value {
    let faces: Vec<ImageFace> = people
        .iter()
        .enumerate()
        .map(|(i, p)| ImageFace {
            person: (*p).to_string(),
            bounding_box: BoundingBox {
                left: 0.05 + 0.1 * i as f64,
                top: 0.1,
                width: 0.3 - 0.02 * i as f64,
                height: 0.3,
            },
        })
        .collect();
    json!({ "Bytes": crate::api::Blob::new(fixture_png(&faces)).to_base64() })
}

/// An `Image` member holding `n` faces of one person (for the faces-per-user limit).
pub(crate) fn crowd(person: &str, n: usize, salt: usize) -> Value {
    let faces: Vec<ImageFace> = (0..n)
        .map(|i| ImageFace {
            person: person.to_string(),
            bounding_box: BoundingBox {
                left: 0.0,
                top: 0.0,
                width: 0.5 - 0.001 * i as f64,
                height: 0.01 + salt as f64 * 1e-6,
            },
        })
        .collect();
    json!({ "Bytes": crate::api::Blob::new(fixture_png(&faces)).to_base64() })
}

/// Runs one call the way the emulator does: realise the allowance, then observe it.
pub(crate) fn call(model: &mut Model, chooser: &mut Scripted, op: Operation, body: Value) -> Observed {
    let request = Request::from_json(op, &body).expect("test request decodes");
    let allowed = model.allowed(&request);
    let observed = allowed.realize(chooser);
    let judgement = model.observe(&request, &allowed, &observed);
    assert!(
        judgement.conforms(),
        "{op}: realised outcome fails its own judgement: {:?}",
        judgement.mismatches
    );
    observed
}

fn body(o: &Observed) -> &Value {
    match o {
        Observed::Success(v) => v,
        Observed::Error(e) => panic!("expected success, got {e}"),
    }
}

fn request(op: Operation, body: Value) -> Request {
    Request::from_json(op, &body).expect("test request decodes")
}

fn error(code: ErrorCode) -> Observed {
    Observed::Error(ApiError { code, message: None })
}

/// A model plus the emulator's chooser, with shorthands for the usual set-up steps.
pub(crate) struct Env {
    pub(crate) m: Model,
    pub(crate) ch: Scripted,
}

impl Env {
    fn new() -> Env {
        Env { m: Model::new(ModelConfig::default()), ch: Scripted::new() }
    }

    fn with_config(config: ModelConfig) -> Env {
        Env { m: Model::new(config), ch: Scripted::new() }
    }

    /// Realises and observes a call; panics if the realisation fails its own judgement.
    fn call(&mut self, op: Operation, body: Value) -> Observed {
        call(&mut self.m, &mut self.ch, op, body)
    }

    /// A call that must succeed; its body.
    fn ok(&mut self, op: Operation, body: Value) -> Value {
        match self.call(op, body) {
            Observed::Success(v) => v,
            Observed::Error(e) => panic!("{op}: expected success, got {e}"),
        }
    }

    /// A call that must fail; its error code.
    fn fails(&mut self, op: Operation, body: Value) -> ErrorCode {
        match self.call(op, body) {
            Observed::Error(e) => e.code,
            Observed::Success(v) => panic!("{op}: expected an error, got {v}"),
        }
    }

    fn allowed(&self, op: Operation, body: Value) -> Allowed {
        self.m.allowed(&request(op, body))
    }

    /// Judges a hand-made outcome on a copy of the model (the state stays as it is).
    fn judge(&self, op: Operation, body: Value, outcome: Observed) -> Judgement {
        let r = request(op, body);
        let allowed = self.m.allowed(&r);
        self.m.clone().observe(&r, &allowed, &outcome)
    }

    /// Observes a hand-made outcome on the model itself (advancing when it conforms).
    fn observe(&mut self, op: Operation, body: Value, outcome: Observed) -> Judgement {
        let r = request(op, body);
        let allowed = self.m.allowed(&r);
        self.m.observe(&r, &allowed, &outcome)
    }

    /// The mismatch paths of a hand-made success body.
    fn paths(&self, op: Operation, req: Value, resp: Value) -> Vec<String> {
        self.judge(op, req, Observed::Success(resp)).mismatches.into_iter().map(|m| m.path).collect()
    }

    fn collection(&mut self, id: &str) {
        self.ok(Operation::CreateCollection, json!({"CollectionId": id}));
    }

    /// Indexes an image of `people` into `cid`; the new FaceIds, largest face first.
    fn index(&mut self, cid: &str, people: &[&str]) -> Vec<String> {
        let b = self.ok(Operation::IndexFaces, json!({"CollectionId": cid, "Image": image(people)}));
        face_ids(&b)
    }

    fn user(&mut self, cid: &str, uid: &str) {
        self.ok(Operation::CreateUser, json!({"CollectionId": cid, "UserId": uid}));
    }

    fn associate(&mut self, cid: &str, uid: &str, faces: &[&str]) -> Value {
        self.ok(Operation::AssociateFaces, json!({"CollectionId": cid, "UserId": uid, "FaceIds": faces}))
    }

    /// A collection `c` with users `alice` (one alice face) and `bob` (one bob face);
    /// returns [alice's face, bob's face, a free alice face, a free bob face].
    fn two_users(&mut self) -> Vec<String> {
        self.collection("c");
        let first = self.index("c", &["alice", "bob"]);
        let second = self.index("c", &["alice", "bob"]);
        self.user("c", "alice");
        self.user("c", "bob");
        self.associate("c", "alice", &[&first[0]]);
        self.associate("c", "bob", &[&first[1]]);
        vec![first[0].clone(), first[1].clone(), second[0].clone(), second[1].clone()]
    }

    fn users(&self, cid: &str) -> Vec<String> {
        self.m.collections()[cid].users.keys().cloned().collect()
    }
}

/// The FaceIds of an IndexFaces body, in record order.
fn face_ids(body: &Value) -> Vec<String> {
    body["FaceRecords"]
        .as_array()
        .expect("FaceRecords")
        .iter()
        .map(|r| r["Face"]["FaceId"].as_str().expect("FaceId").to_string())
        .collect()
}

/// The keys of the items of `list`, along `key`.
fn keys(body: &Value, list: &str, key: &[&str]) -> Vec<String> {
    body.get(list)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|item| crate::expect::key_of(item, key)).collect())
        .unwrap_or_default()
}

/// Asserts the allowance is the syntactic-validation one (§2): both error types, tagged.
#[track_caller]
fn assert_validation(allowed: &Allowed) {
    assert_eq!(allowed.success, None, "a validation failure has no success");
    assert_eq!(allowed.errors, [ErrorCode::InvalidParameterException, ErrorCode::ValidationException]);
    assert!(allowed.touched_unknowns().contains(&Unknown::ValidationErrorType));
}

/// Asserts the allowance is not a validation failure.
#[track_caller]
fn assert_valid(allowed: &Allowed) {
    assert!(
        !allowed.unknowns.contains(&Unknown::ValidationErrorType),
        "expected the request to pass validation, got {}",
        allowed.describe()
    );
}

const UNKNOWN_FACE: &str = "ffffffff-ffff-4fff-8fff-ffffffffffff";

#[test]
fn smoke_collection_user_association_round_trip() {
    let mut m = Model::new(ModelConfig::default());
    let mut ch = Scripted::new();
    call(&mut m, &mut ch, Operation::CreateCollection, json!({"CollectionId": "c"}));
    let indexed = call(
        &mut m,
        &mut ch,
        Operation::IndexFaces,
        json!({"CollectionId": "c", "Image": image(&["alice", "bob"])}),
    );
    let faces = face_ids(body(&indexed));
    assert_eq!(faces.len(), 2);
    call(&mut m, &mut ch, Operation::CreateUser, json!({"CollectionId": "c", "UserId": "alice"}));
    let assoc = call(
        &mut m,
        &mut ch,
        Operation::AssociateFaces,
        json!({"CollectionId": "c", "UserId": "alice", "FaceIds": [faces[0]]}),
    );
    assert_eq!(body(&assoc)["UserStatus"], "UPDATING");
    assert_eq!(body(&assoc)["UnsuccessfulFaceAssociations"], json!([]));
    // bob's face against alice's user: LOW_MATCH_CONFIDENCE with a Confidence.
    let low = call(
        &mut m,
        &mut ch,
        Operation::AssociateFaces,
        json!({"CollectionId": "c", "UserId": "alice", "FaceIds": [faces[1]]}),
    );
    assert_eq!(body(&low)["UnsuccessfulFaceAssociations"][0]["Reasons"][0], "LOW_MATCH_CONFIDENCE");
    ch.settled = true;
    let users = call(&mut m, &mut ch, Operation::ListUsers, json!({"CollectionId": "c"}));
    assert_eq!(body(&users)["Users"][0]["UserStatus"], "ACTIVE");
    let search =
        call(&mut m, &mut ch, Operation::SearchUsers, json!({"CollectionId": "c", "FaceId": faces[0]}));
    assert_eq!(body(&search)["UserMatches"][0]["User"]["UserId"], "alice");
    let described = call(&mut m, &mut ch, Operation::DescribeCollection, json!({"CollectionId": "c"}));
    assert_eq!(body(&described)["FaceCount"], 2);
    assert_eq!(body(&described)["UserCount"], 1);
    assert!(m.invariant_violations().is_empty());
}

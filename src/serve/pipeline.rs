//! One call through the model: allowed → realised → mutated → followed.
//!
//! This is the emulator without HTTP: it takes a decoded request and gives the outcome
//! to send. The model advances along what is actually answered (mutant answers too), so
//! the emulator stays self-consistent whatever bug is planted.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use super::chooser::{EmulatorChooser, SettleClock};
use super::config::ServeConfig;
use super::mutant::{self, Memory, Mutant};
use super::paging::Cursors;
use super::wire;
use crate::api::{Operation, Request};
use crate::expect::Observed;
use crate::model::{Model, ModelConfig};

/// The emulator's state: the model, its seeded id stream and the settle clock.
#[derive(Debug)]
pub(super) struct Emulator {
    model: Model,
    ids: ChaCha8Rng,
    clock: SettleClock,
    settle: Duration,
    mutants: Vec<Mutant>,
    memory: Memory,
    cursors: Cursors,
    /// Every answered call that changed state, in order: replaying them rebuilds the model.
    changes: Vec<Change>,
}

/// A call's answer, decided and not yet acted on.
#[derive(Debug)]
pub(super) struct Decided {
    /// The request as a mutant misread it, when it did.
    rewritten: Option<Request>,
    outcome: mutant::Outcome,
}

/// One call that changed state, as `--state` saves it.
#[derive(Debug, Clone)]
struct Change {
    request: Request,
    answer: Value,
    epoch_seconds: f64,
}

/// The tag of a `--state` file's format.
const STATE_FORMAT: &str = "rekcon-serve-state/1";

impl Emulator {
    /// An emulator of an empty endpoint as `config` describes it: seed, settle window,
    /// planted bugs, face detector, region and account.
    pub(super) fn new(config: &ServeConfig) -> Emulator {
        let mut model = ModelConfig {
            region: Some(config.region.clone()),
            account: Some(config.account.clone()),
            faces: config.detector.faces(),
            ..ModelConfig::default()
        };
        for m in &config.mutants {
            m.configure(&mut model);
        }
        Emulator {
            model: Model::new(model),
            ids: ChaCha8Rng::seed_from_u64(config.seed),
            clock: SettleClock::default(),
            settle: config.settle,
            mutants: config.mutants.clone(),
            memory: Memory::default(),
            cursors: Cursors::default(),
            changes: Vec::new(),
        }
    }

    /// The state as `--state` saves it: the calls that changed it, and where the id
    /// stream stands (so a restarted emulator never hands out an id twice).
    pub(super) fn save(&self) -> Value {
        let changes: Vec<Value> = self
            .changes
            .iter()
            .map(|c| {
                json!({
                    "Operation": c.request.operation().name(),
                    "Request": c.request.to_json(),
                    "Answer": c.answer,
                    "EpochSeconds": c.epoch_seconds,
                })
            })
            .collect();
        json!({
            "Format": STATE_FORMAT,
            "Ids": {
                "Seed": hex::encode(self.ids.get_seed()),
                "Stream": self.ids.get_stream().to_string(),
                "WordPos": self.ids.get_word_pos().to_string(),
            },
            "Changes": changes,
        })
    }

    /// An emulator as `config` describes it, holding the state `saved` describes (what
    /// [`Emulator::save`] wrote); an error names what is wrong with it.
    pub(super) fn restore(config: &ServeConfig, saved: &Value) -> Result<Emulator, String> {
        if saved.get("Format").and_then(Value::as_str) != Some(STATE_FORMAT) {
            return Err(format!("not a {STATE_FORMAT} file"));
        }
        let mut emulator = Emulator::new(config);
        let ids = saved.get("Ids").ok_or("no Ids")?;
        let text = |key: &str| ids.get(key).and_then(Value::as_str).ok_or(format!("no Ids.{key}"));
        let seed: [u8; 32] = hex::decode(text("Seed")?)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or("Ids.Seed is not 32 hex bytes")?;
        let stream: u64 = text("Stream")?.parse().map_err(|_| "Ids.Stream is not a number")?;
        let word_pos: u128 = text("WordPos")?.parse().map_err(|_| "Ids.WordPos is not a number")?;
        let changes = saved.get("Changes").and_then(Value::as_array).ok_or("no Changes list")?;
        for (i, change) in changes.iter().enumerate() {
            let at = |what: &str| format!("change {}: {what}", i + 1);
            let name = change.get("Operation").and_then(Value::as_str).ok_or_else(|| at("no Operation"))?;
            let op = Operation::ALL
                .into_iter()
                .find(|o| o.name() == name)
                .ok_or_else(|| at(&format!("unknown operation {name}")))?;
            let body = change.get("Request").ok_or_else(|| at("no Request"))?;
            let request = Request::from_json(op, body).map_err(|e| at(&e.to_string()))?;
            let answer = change.get("Answer").cloned().ok_or_else(|| at("no Answer"))?;
            let epoch_seconds =
                change.get("EpochSeconds").and_then(Value::as_f64).ok_or_else(|| at("no EpochSeconds"))?;
            emulator.replay(Change { request, answer, epoch_seconds });
        }
        emulator.ids = ChaCha8Rng::from_seed(seed);
        emulator.ids.set_stream(stream);
        emulator.ids.set_word_pos(word_pos);
        Ok(emulator)
    }

    /// Advances the model along one saved change, and keeps it for the next save.
    fn replay(&mut self, change: Change) {
        let follow = Observed::Success(change.answer.clone());
        self.model.advance(&change.request, &follow);
        if let Request::CreateCollection(_) = &change.request {
            let collection = change.request.collection_id().unwrap_or_default().to_string();
            self.model.note_creation_timestamp(&collection, change.epoch_seconds);
        }
        self.changes.push(change);
    }

    /// Notes a call that changed state (a successful one that does not only read).
    fn note_change(&mut self, request: &Request, answer: &Observed, epoch_seconds: f64) {
        let Observed::Success(body) = answer else { return };
        match request {
            _ if request.operation().is_read_only() => {}
            // A deleted collection's history is no longer state: the log stays as large
            // as what is alive.
            Request::DeleteCollection(_) => {
                let gone = request.collection_id();
                self.changes.retain(|c| c.request.collection_id() != gone);
            }
            _ => self.changes.push(Change { request: request.clone(), answer: body.clone(), epoch_seconds }),
        }
    }

    /// The model as it stands (tests compare states across faults).
    #[cfg(test)]
    pub(super) fn model(&self) -> &Model {
        &self.model
    }

    /// Answers `request` at `now`; `epoch_seconds` is the wall clock for CreationTimestamp.
    pub(super) fn answer(&mut self, request: &Request, now: Instant, epoch_seconds: f64) -> Observed {
        let decided = self.decide(request, now);
        self.commit(request, decided, now, epoch_seconds)
    }

    /// Whether the model holds a response for this ClientRequestToken (planted races).
    pub(super) fn token_recorded(&self, token: &str) -> bool {
        self.model.token_recorded(token)
    }

    /// Forgets a ClientRequestToken's response (planted races).
    pub(super) fn forget_token(&mut self, token: &str) {
        self.model.forget_token(token);
    }

    /// The check half of a call: the answer decided on the state as it stands, nothing
    /// advanced yet. [`Emulator::commit`] acts on it; a planted race lets other calls in
    /// between.
    pub(super) fn decide(&mut self, request: &Request, now: Instant) -> Decided {
        let rewritten = mutant::rewrite_request(&self.mutants, request);
        let request = rewritten.as_ref().unwrap_or(request);
        let mut allowed = self.model.allowed(request);
        self.cursors.narrow(request, &mut allowed);
        let realised = {
            let mut chooser =
                EmulatorChooser { rng: &mut self.ids, clock: &self.clock, now, settle: self.settle };
            allowed.realize(&mut chooser)
        };
        let outcome = mutant::transform_all(&self.mutants, request, &self.model, realised, &mut self.memory);
        let mut answer = outcome.answer;
        match &mut answer {
            Observed::Error(err) if err.message.is_none() => {
                err.message = Some(wire::message(&err.code, request, &self.model));
            }
            Observed::Error(_) => {}
            Observed::Success(body) => self.cursors.record(request, body),
        }
        Decided { rewritten, outcome: mutant::Outcome { answer, ..outcome } }
    }

    /// The act half of a call: advances the state along what [`Emulator::decide`]
    /// decided, and gives the answer to send.
    pub(super) fn commit(
        &mut self,
        request: &Request,
        decided: Decided,
        now: Instant,
        epoch_seconds: f64,
    ) -> Observed {
        let Decided { rewritten, outcome } = decided;
        let request = rewritten.as_ref().unwrap_or(request);
        let answer = outcome.answer;
        let follow = outcome.follow.as_ref().unwrap_or(&answer);

        let collection = request.collection_id().unwrap_or_default().to_string();
        let before = self.user_faces(request, &collection);
        self.model.advance(request, follow);
        self.note_change(request, follow, epoch_seconds);
        for (extra, observed) in &outcome.extra {
            self.model.advance(extra, observed);
            self.note_change(extra, observed, epoch_seconds);
        }
        if let Some(before) = before {
            let after = self.user_faces(request, &collection).unwrap_or_default();
            for (user, faces) in &after {
                if before.get(user) != Some(faces) {
                    self.clock.touch(&collection, user, now);
                }
            }
        }
        if let Observed::Success(_) = follow {
            match &request {
                Request::CreateCollection(_) => {
                    self.clock.forget_collection(&collection);
                    self.model.note_creation_timestamp(&collection, epoch_seconds);
                }
                Request::DeleteCollection(_) => self.clock.forget_collection(&collection),
                _ => {}
            }
        }
        answer
    }

    /// Each user's faces in `collection`, for calls that may change them (else `None`).
    fn user_faces(&self, request: &Request, collection: &str) -> Option<BTreeMap<String, BTreeSet<String>>> {
        let may_change = matches!(
            request,
            Request::AssociateFaces(_)
                | Request::DisassociateFaces(_)
                | Request::DeleteFaces(_)
                | Request::DeleteUser(_)
        );
        may_change.then(|| {
            self.model
                .collections()
                .get(collection)
                .map(|c| c.users.iter().map(|(id, u)| (id.clone(), u.faces.clone())).collect())
                .unwrap_or_default()
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::api::Operation;
    use crate::image::{BoundingBox, ImageFace, fixture_png};

    fn call(emu: &mut Emulator, op: Operation, body: Value) -> Observed {
        let request = Request::from_json(op, &body).expect("request decodes");
        emu.answer(&request, Instant::now(), 1_700_000_000.5)
    }

    fn png(person: &str) -> String {
        let face = ImageFace {
            person: person.into(),
            bounding_box: BoundingBox { left: 0.1, top: 0.1, width: 0.3, height: 0.4 },
        };
        crate::api::Blob::new(fixture_png(&[face])).to_base64()
    }

    fn success(o: Observed) -> Value {
        match o {
            Observed::Success(v) => v,
            Observed::Error(e) => panic!("expected success, got {e}"),
        }
    }

    #[test]
    fn users_lifecycle_through_the_model() {
        let mut emu = Emulator::new(&ServeConfig { seed: 1, ..ServeConfig::default() });
        let created = success(call(&mut emu, Operation::CreateCollection, json!({"CollectionId": "c"})));
        assert_eq!(created["StatusCode"], 200);
        assert_eq!(created["CollectionArn"], "aws:rekognition:us-east-1:123456789012:collection/c");
        let indexed = success(call(
            &mut emu,
            Operation::IndexFaces,
            json!({"CollectionId": "c", "Image": {"Bytes": png("alice")}}),
        ));
        let face = indexed["FaceRecords"][0]["Face"]["FaceId"].as_str().expect("face id").to_string();
        success(call(&mut emu, Operation::CreateUser, json!({"CollectionId": "c", "UserId": "u"})));
        let assoc = success(call(
            &mut emu,
            Operation::AssociateFaces,
            json!({"CollectionId": "c", "UserId": "u", "FaceIds": [face]}),
        ));
        assert_eq!(assoc["UserStatus"], "UPDATING");
        assert_eq!(assoc["AssociatedFaces"], json!([{"FaceId": face}]));
        let described = success(call(&mut emu, Operation::DescribeCollection, json!({"CollectionId": "c"})));
        assert_eq!(described["CreationTimestamp"], 1_700_000_000.5);
        assert_eq!(described["UserCount"], 1);
        assert!(emu.model().invariant_violations().is_empty());
        match call(&mut emu, Operation::DescribeCollection, json!({"CollectionId": "nope"})) {
            Observed::Error(e) => {
                assert_eq!(e.message.as_deref(), Some("Collection:nope not found!"))
            }
            other => panic!("{other:?}"),
        }
    }
}

//! One call through the model: allowed → realised → mutated → followed.
//!
//! This is the emulator without HTTP: it takes a decoded request and gives the outcome
//! to send. The model advances along what is actually answered (mutant answers too), so
//! the emulator stays self-consistent whatever bug is planted.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::chooser::{EmulatorChooser, SettleClock};
use super::config::ServeConfig;
use super::mutant::{self, Memory, Mutant};
use super::paging::Cursors;
use super::wire;
use crate::api::Request;
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
}

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
        }
    }

    /// The model as it stands (tests compare states across faults).
    #[cfg(test)]
    pub(super) fn model(&self) -> &Model {
        &self.model
    }

    /// Answers `request` at `now`; `epoch_seconds` is the wall clock for CreationTimestamp.
    pub(super) fn answer(&mut self, request: &Request, now: Instant, epoch_seconds: f64) -> Observed {
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
        let follow = outcome.follow.as_ref().unwrap_or(&answer);

        let collection = request.collection_id().unwrap_or_default().to_string();
        let before = self.user_faces(request, &collection);
        self.model.advance(request, follow);
        for (extra, observed) in &outcome.extra {
            self.model.advance(extra, observed);
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
                assert_eq!(e.message.as_deref(), Some("The collection id: nope does not exist"))
            }
            other => panic!("{other:?}"),
        }
    }
}

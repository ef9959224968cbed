//! Advancing the state along the outcome an endpoint actually returned.
//!
//! The model cannot predict generated ids, nor which way a near-threshold or unsettled
//! decision went, so the next state is read from the observed body. The body has
//! already been judged (or, in the emulator, is what a planted bug chose to answer),
//! so this code trusts its shape and ignores what it cannot read.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::Value;

use super::rules::list_faces_scope;
use super::{Collection, Cursor, Face, FaceSource, Model, Status, TokenUse, User, similarity};
use crate::api::{Operation, Request};
use crate::expect::{key_of, member};
use crate::image::BoundingBox;

/// The keys (along `key`) of the items of `list` in `body`.
fn strings<'a>(body: &'a Value, list: &str, key: &'a [&'a str]) -> impl Iterator<Item = String> + 'a {
    body.get(list).and_then(Value::as_array).into_iter().flatten().filter_map(move |item| key_of(item, key))
}

/// A BoundingBox read from a response.
fn bbox(v: Option<&Value>) -> Option<BoundingBox> {
    let v = v?;
    let f = |k: &str| member(v, k).and_then(Value::as_f64);
    Some(BoundingBox { left: f("Left")?, top: f("Top")?, width: f("Width")?, height: f("Height")? })
}

/// Applies `request`'s effect as `body` reports it.
pub(super) fn advance(model: &mut Model, request: &Request, body: &Value) {
    let op = request.operation();
    let collection = request.collection_id().unwrap_or_default().to_string();
    if is_replay(model, request, body) {
        // Same token, same parameters, the first response again: nothing runs twice (§1.3).
        return;
    }
    let changed = apply(model, request, &collection, body);
    if changed {
        // One model-wide counter, so a collection deleted and created again never reuses a
        // generation that an old ClientRequestToken or NextToken recorded (§1.3, §5.2).
        model.generation += 1;
        let generation = model.generation;
        if let Some(c) = model.collections.get_mut(&collection) {
            c.generation = generation;
        }
    }
    record_cursor(model, request, &collection, body);
    observe_statuses(model, &collection, body);
    if model.config.honour_tokens
        && let Some(token) = request.client_request_token()
    {
        let generation = model.collections.get(&collection).map_or(0, |c| c.generation);
        model.tokens.insert(
            token.to_string(),
            TokenUse {
                op,
                collection,
                fingerprint: Model::fingerprint(request),
                body: body.clone(),
                generation,
            },
        );
    }
}

/// Whether `body` replays the response recorded for the request's ClientRequestToken.
fn is_replay(model: &Model, request: &Request, body: &Value) -> bool {
    super::rules::is_token_replay(model, request, body)
}

/// Applies the state change; returns whether anything changed.
fn apply(model: &mut Model, request: &Request, collection: &str, body: &Value) -> bool {
    match request {
        Request::CreateCollection(_) => {
            if model.retired.contains(collection) {
                Arc::make_mut(&mut model.retired).remove(collection);
            }
            model.collections.insert(
                collection.to_string(),
                Collection {
                    face_model_version: body
                        .get("FaceModelVersion")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    creation_timestamp: None,
                    faces: Default::default(),
                    users: Default::default(),
                    generation: 0,
                    detected_apart: false,
                },
            );
            true
        }
        Request::DeleteCollection(_) => {
            model.collections.remove(collection);
            Arc::make_mut(&mut model.retired).insert(collection.to_string());
            true
        }
        Request::DescribeCollection(_) => {
            if let Some(c) = model.collections.get_mut(collection)
                && c.creation_timestamp.is_none()
            {
                c.creation_timestamp = body.get("CreationTimestamp").and_then(Value::as_f64);
            }
            false
        }
        Request::IndexFaces(r) => {
            let Some(image) = r.image.as_ref().and_then(|i| i.bytes.as_ref()) else { return false };
            let faces = model.config.faces;
            let declared = model.catalogue.faces_in(image);
            let digest = image.digest();
            let Some(c) = model.collections.get_mut(collection) else { return false };
            let records =
                member(body, "FaceRecords").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
            if faces == FaceSource::Endpoint {
                let limit = usize::try_from(r.max_faces.unwrap_or(i64::MAX))
                    .unwrap_or(usize::MAX)
                    .min(crate::image::MAX_FACES_PER_IMAGE);
                c.detected_apart |= records.len() != declared.len().min(limit);
            }
            let mut changed = false;
            for (i, record) in records.iter().enumerate() {
                let face = member(record, "Face");
                let Some(id) = face.and_then(|f| member(f, "FaceId")).and_then(Value::as_str) else {
                    continue;
                };
                // An earlier indexing of the same image reported again: nothing new (§6.2).
                if c.faces.contains_key(id) {
                    continue;
                }
                changed = true;
                let field = |k: &str| face.and_then(|f| member(f, k));
                let spec = declared.get(i);
                let person = match faces {
                    // Who the endpoint's detector saw is unknown; similarities follow it.
                    FaceSource::Endpoint => similarity::UNKNOWN_PERSON.to_string(),
                    FaceSource::Canned => similarity::canned_person(id),
                    FaceSource::Marker | FaceSource::Catalogue => {
                        spec.map_or_else(|| format!("unknown-{id}"), |s| s.person.clone())
                    }
                };
                c.faces.insert(
                    id.to_string(),
                    Face {
                        person,
                        image_id: field("ImageId").and_then(Value::as_str).unwrap_or_default().to_string(),
                        external_image_id: field("ExternalImageId")
                            .and_then(Value::as_str)
                            .map(str::to_string),
                        bounding_box: bbox(field("BoundingBox"))
                            .or(spec.map(|s| s.bounding_box))
                            .unwrap_or(BoundingBox { left: 0.0, top: 0.0, width: 0.0, height: 0.0 }),
                        confidence: field("Confidence").and_then(Value::as_f64),
                        user: None,
                        image_digest: digest.to_string(),
                    },
                );
            }
            changed
        }
        Request::DeleteFaces(_) => {
            let Some(c) = model.collections.get_mut(collection) else { return false };
            let mut changed = false;
            for id in strings(body, "DeletedFaces", &[]) {
                if let Some(face) = c.faces.remove(&id) {
                    changed = true;
                    // Only a non-conforming endpoint deletes an owned face; follow it anyway.
                    if let Some(user) = face.user.and_then(|u| c.users.get_mut(&u)) {
                        user.faces.remove(&id);
                    }
                }
            }
            changed
        }
        Request::CreateUser(r) => {
            let Some(c) = model.collections.get_mut(collection) else { return false };
            let uid = r.user_id.clone().unwrap_or_default();
            c.users.insert(uid, User { faces: BTreeSet::new(), status: Status::Created });
            true
        }
        Request::DeleteUser(r) => {
            let Some(c) = model.collections.get_mut(collection) else { return false };
            let uid = r.user_id.as_deref().unwrap_or_default();
            // §6.4: the user's faces are disassociated, not deleted.
            if let Some(user) = c.users.remove(uid) {
                for f in user.faces {
                    if let Some(face) = c.faces.get_mut(&f) {
                        face.user = None;
                    }
                }
            }
            true
        }
        Request::AssociateFaces(r) => {
            let Some(c) = model.collections.get_mut(collection) else { return false };
            let uid = r.user_id.clone().unwrap_or_default();
            let ids: Vec<String> = strings(body, "AssociatedFaces", &["FaceId"]).collect();
            let mut changed = false;
            for id in ids {
                let Some(face) = c.faces.get_mut(&id) else { continue };
                if face.user.as_deref() == Some(uid.as_str()) {
                    continue;
                }
                // A conforming endpoint never moves an owned face; a buggy one may.
                if let Some(previous) = face.user.replace(uid.clone())
                    && let Some(owner) = c.users.get_mut(&previous)
                {
                    owner.faces.remove(&id);
                    owner.status = Status::Pending;
                }
                if let Some(user) = c.users.get_mut(&uid) {
                    user.faces.insert(id);
                    user.status = Status::Pending;
                }
                changed = true;
            }
            changed
        }
        Request::DisassociateFaces(r) => {
            let Some(c) = model.collections.get_mut(collection) else { return false };
            let uid = r.user_id.as_deref().unwrap_or_default();
            let mut changed = false;
            for id in strings(body, "DisassociatedFaces", &["FaceId"]) {
                if let Some(face) = c.faces.get_mut(&id)
                    && face.user.as_deref() == Some(uid)
                {
                    face.user = None;
                    if let Some(user) = c.users.get_mut(uid) {
                        user.faces.remove(&id);
                        user.status = Status::Pending;
                    }
                    changed = true;
                }
            }
            changed
        }
        Request::ListCollections(_)
        | Request::ListFaces(_)
        | Request::ListUsers(_)
        | Request::SearchFaces(_)
        | Request::SearchFacesByImage(_)
        | Request::SearchUsers(_)
        | Request::SearchUsersByImage(_) => false,
    }
}

/// Remembers a NextToken and what the listing has returned so far.
fn record_cursor(model: &mut Model, request: &Request, collection: &str, body: &Value) {
    let Some(token) = body.get("NextToken").and_then(Value::as_str) else { return };
    let (op, scope, items, key): (Operation, String, &str, &[&str]) = match request {
        Request::ListCollections(_) => (Operation::ListCollections, String::new(), "CollectionIds", &[]),
        Request::ListFaces(r) => {
            (Operation::ListFaces, list_faces_scope(collection, r), "Faces", &["FaceId"])
        }
        Request::ListUsers(_) => (Operation::ListUsers, collection.to_string(), "Users", &["UserId"]),
        _ => return,
    };
    let next_token = match request {
        Request::ListCollections(r) => r.next_token.as_deref(),
        Request::ListFaces(r) => r.next_token.as_deref(),
        Request::ListUsers(r) => r.next_token.as_deref(),
        _ => None,
    };
    let mut seen = next_token.and_then(|t| model.cursors.get(t)).map(|c| c.seen.clone()).unwrap_or_default();
    seen.extend(strings(body, items, key));
    let generation = match op {
        Operation::ListCollections => model.generation,
        _ => model.collections.get(collection).map_or(0, |c| c.generation),
    };
    model.cursors.insert(token.to_string(), Cursor { op, scope, seen, generation });
}

/// A pending user seen as ACTIVE or CREATED has settled.
fn observe_statuses(model: &mut Model, collection: &str, body: &Value) {
    let Some(c) = model.collections.get_mut(collection) else { return };
    let mut seen: Vec<(String, String)> = Vec::new();
    for item in body.get("Users").and_then(Value::as_array).into_iter().flatten() {
        if let (Some(u), Some(s)) = (key_of(item, &["UserId"]), key_of(item, &["UserStatus"])) {
            seen.push((u, s));
        }
    }
    for item in body.get("UserMatches").and_then(Value::as_array).into_iter().flatten() {
        if let (Some(u), Some(s)) = (key_of(item, &["User", "UserId"]), key_of(item, &["User", "UserStatus"]))
        {
            seen.push((u, s));
        }
    }
    for (uid, status) in seen {
        if let Some(user) = c.users.get_mut(&uid)
            && user.status == Status::Pending
            && status != "UPDATING"
        {
            user.status = Status::Settled(status);
        }
    }
}

impl Model {
    /// Records when a collection was created, so DescribeCollection must report it (the emulator's clock).
    pub fn note_creation_timestamp(&mut self, collection: &str, epoch_seconds: f64) {
        if let Some(c) = self.collections.get_mut(collection) {
            c.creation_timestamp = Some(epoch_seconds);
        }
    }
}

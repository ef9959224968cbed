//! The reference model: the oracle every other part of rekcon stands on.
//!
//! A pure, synchronous, deterministic state machine of collections, faces, users and
//! associations. For a call it says which outcomes the contract allows
//! ([`Model::allowed`]); given the outcome an endpoint actually returned it judges it
//! and advances along it ([`Model::observe`]). Where the contract lets the service vary
//! (user status while an update settles, list order, similarity near a threshold) or
//! where a fact is `[unknown]`, the allowance holds every plausible outcome, and the
//! model follows the branch the endpoint took.
//!
//! The model never imports the AWS SDK and never looks at a clock.

mod advance;
mod rules;
pub mod similarity;
pub mod validate;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::Value;

use crate::api::{ErrorCode, Request};
use crate::expect::{Allowed, Mismatch, Observed};
use crate::image::{BoundingBox, Catalogue};
use crate::unknown::Unknown;

/// The AssociateFaces default UserMatchThreshold (contract §6.5).
pub const ASSOCIATE_DEFAULT_THRESHOLD: f64 = 75.0;
/// The SearchUsers / SearchUsersByImage default UserMatchThreshold (contract §6.7).
pub const SEARCH_USERS_DEFAULT_THRESHOLD: f64 = 80.0;
/// The SearchFaces / SearchFacesByImage default FaceMatchThreshold (contract §6.2).
pub const SEARCH_FACES_DEFAULT_THRESHOLD: f64 = 80.0;
/// Most faces one user holds (contract §6.3, §7).
pub const FACES_PER_USER: usize = 100;

/// Where the model learns which faces an image holds, and who they show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FaceSource {
    /// The fixtures' marker (or one face per image digest); a catalogue is ignored.
    Marker,
    /// A catalogue of real photos where it declares an image, else the marker (the default).
    #[default]
    Catalogue,
    /// The endpoint's own detector (`--faces endpoint`): the model follows the faces
    /// IndexFaces reports (count, boxes, order) and does not know who they show, so every
    /// identity- or detection-dependent outcome is allowed within the contract's
    /// structure (bounds, thresholds, order, caps) and marked
    /// [`Allowed::needs_identity`].
    Endpoint,
    /// The built-in emulator's canned detector (`rekcon serve --detector canned`): one
    /// fixed face for any image; the similarity of two faces is derived from a hash of
    /// their ids (of a searched image, from its digest).
    Canned,
}

/// Knobs of the model: facts about the endpoint, and limits the emulator's mutants bend.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelConfig {
    /// The endpoint's region, when known (ARNs must then carry it).
    pub region: Option<String>,
    /// The endpoint's account, when known.
    pub account: Option<String>,
    /// Faces one user may hold.
    pub faces_per_user: usize,
    /// AssociateFaces' threshold when the request has none.
    pub associate_default_threshold: f64,
    /// Whether ClientRequestTokens de-duplicate calls.
    pub honour_tokens: bool,
    /// Where faces come from.
    pub faces: FaceSource,
    /// What recordings of AWS settled; narrows every allowance (see [`crate::settle`]).
    pub settlements: Option<std::sync::Arc<crate::settle::Settlements>>,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            region: None,
            account: None,
            faces_per_user: FACES_PER_USER,
            associate_default_threshold: ASSOCIATE_DEFAULT_THRESHOLD,
            honour_tokens: true,
            faces: FaceSource::Catalogue,
            settlements: None,
        }
    }
}

/// One indexed face.
#[derive(Debug, Clone, PartialEq)]
pub struct Face {
    /// Who the face shows.
    pub person: String,
    /// The ImageId IndexFaces reported.
    pub image_id: String,
    /// The ExternalImageId it was indexed with.
    pub external_image_id: Option<String>,
    /// The bounding box IndexFaces reported (or the declared one).
    pub bounding_box: BoundingBox,
    /// The detection confidence IndexFaces reported.
    pub confidence: Option<f64>,
    /// The user the face is associated with.
    pub user: Option<String>,
    /// Digest of the image the face came from.
    pub image_digest: String,
}

/// What the model knows of a user's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Created, never changed: `CREATED` (or the undescribed `CREATING`).
    Created,
    /// Changed; reads may show `UPDATING` until the endpoint shows it settled.
    Pending,
    /// Seen settled after the last change, with this status.
    Settled(String),
}

/// One user.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    /// FaceIds associated with the user.
    pub faces: BTreeSet<String>,
    /// What is known of its status.
    pub status: Status,
}

/// One collection.
#[derive(Debug, Clone, PartialEq)]
pub struct Collection {
    /// The face model version CreateCollection reported.
    pub face_model_version: Option<String>,
    /// The CreationTimestamp first reported by DescribeCollection.
    pub creation_timestamp: Option<f64>,
    /// Faces by FaceId.
    pub faces: BTreeMap<String, Face>,
    /// Users by UserId.
    pub users: BTreeMap<String, User>,
    /// The model-wide change counter at this collection's last change; cursors and tokens
    /// issued before a change are judged leniently.
    pub generation: u64,
    /// Whether the collection's state depends on what only the endpoint's detector knows
    /// (`--faces endpoint`): IndexFaces reported another number of faces than the images
    /// declare, or AssociateFaces decided a threshold on a similarity the model cannot
    /// know. Expectations written for the fixtures' faces then do not apply to it.
    pub detected_apart: bool,
}

/// An issued pagination token and what the listing had returned when it was issued.
#[derive(Debug, Clone, PartialEq)]
struct Cursor {
    op: crate::api::Operation,
    scope: String,
    seen: BTreeSet<String>,
    generation: u64,
}

/// A ClientRequestToken already used, and the response it got.
#[derive(Debug, Clone, PartialEq)]
struct TokenUse {
    op: crate::api::Operation,
    collection: String,
    fingerprint: String,
    body: Value,
    generation: u64,
}

/// The result of judging one observed outcome.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Judgement {
    /// Differences from every allowed outcome; empty when the outcome conforms.
    pub mismatches: Vec<Mismatch>,
    /// Unsettled facts this call's allowance leaned on.
    pub unknowns: BTreeSet<Unknown>,
}

impl Judgement {
    /// Whether the outcome conforms.
    pub fn conforms(&self) -> bool {
        self.mismatches.is_empty()
    }
}

/// The reference state machine.
#[derive(Debug, Clone, Default)]
pub struct Model {
    config: ModelConfig,
    collections: BTreeMap<String, Collection>,
    /// Collections this model saw deleted: they must not be listed again.
    retired: Arc<BTreeSet<String>>,
    cursors: BTreeMap<String, Cursor>,
    tokens: BTreeMap<String, TokenUse>,
    catalogue: Catalogue,
    generation: u64,
}

impl Model {
    /// A model of an empty endpoint.
    pub fn new(config: ModelConfig) -> Model {
        Model { config, ..Model::default() }
    }

    /// The model's configuration.
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// Declares the people in real photos (runs against real AWS). Ignored with
    /// [`FaceSource::Marker`] and [`FaceSource::Canned`], which read no catalogue.
    pub fn set_catalogue(&mut self, catalogue: Catalogue) {
        if matches!(self.config.faces, FaceSource::Catalogue | FaceSource::Endpoint) {
            self.catalogue = catalogue;
        }
    }

    /// Whether the model follows the faces the endpoint reports (`--faces endpoint`), so
    /// that an answer lacking a face or a page the fixtures would give is the detector's
    /// doing, not a divergence.
    pub fn follows_endpoint_faces(&self) -> bool {
        self.config.faces == FaceSource::Endpoint
    }

    /// What the contract allows `request` to return now.
    pub fn allowed(&self, request: &Request) -> Allowed {
        let allowed = rules::allowed(self, request);
        match &self.config.settlements {
            Some(settlements) => settlements.narrow(allowed),
            None => allowed,
        }
    }

    /// Judges `actual` against `allowed` (from [`Model::allowed`] for the same request
    /// and state) and advances the state along it — along what the endpoint did even
    /// when it diverges, so that the calls after a divergence are judged against the
    /// state the endpoint is really in, and one defect is not reported again as the
    /// divergence of every later call.
    pub fn observe(&mut self, request: &Request, allowed: &Allowed, actual: &Observed) -> Judgement {
        let unknowns = allowed.touched_unknowns();
        let mismatches = {
            let known = |id: &str| self.is_known_id(id);
            match allowed.judge(actual, &known) {
                Ok(()) => Vec::new(),
                Err(m) => m,
            }
        };
        let mut mismatches = mismatches;
        if mismatches.is_empty()
            && let Observed::Success(body) = actual
        {
            mismatches.extend(rules::cross_checks(self, request, body));
        }
        self.advance(request, actual);
        // Which faces a user now holds was the endpoint's decision, not the fixtures'.
        if allowed.needs_identity()
            && matches!(request, Request::AssociateFaces(_))
            && let Some(c) = request.collection_id().and_then(|id| self.collections.get_mut(id))
        {
            c.detected_apart = true;
        }
        Judgement { mismatches, unknowns }
    }

    /// Advances along `actual` without judging it. The emulator uses this to follow
    /// what a planted bug made it answer; the harness never does.
    pub fn advance(&mut self, request: &Request, actual: &Observed) {
        if let Observed::Success(body) = actual {
            advance::advance(self, request, body);
        }
    }

    /// Users whose status has not been seen settled since their last change, in `collection`.
    pub fn unsettled_users(&self, collection: &str) -> Vec<String> {
        self.collections
            .get(collection)
            .map(|c| {
                c.users
                    .iter()
                    .filter(|(_, u)| u.status == Status::Pending)
                    .map(|(id, _)| id.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Whether `request`'s result depends on user vectors, so users should settle first.
    pub fn needs_settled_users(&self, request: &Request) -> bool {
        matches!(request, Request::SearchUsers(_) | Request::SearchUsersByImage(_))
            && request.collection_id().is_some_and(|c| !self.unsettled_users(c).is_empty())
    }

    /// The collections the model believes exist.
    pub fn collections(&self) -> &BTreeMap<String, Collection> {
        &self.collections
    }

    /// Whether `id` is a FaceId the endpoint issued in any collection.
    pub fn is_known_id(&self, id: &str) -> bool {
        self.collections.values().any(|c| c.faces.contains_key(id))
    }

    /// Whether a response is recorded for this ClientRequestToken.
    pub fn token_recorded(&self, token: &str) -> bool {
        self.tokens.contains_key(token)
    }

    /// Forgets the response recorded for a ClientRequestToken. Only the emulator's
    /// planted race `race-token-recorded-late` does this; the harness never does.
    pub fn forget_token(&mut self, token: &str) {
        self.tokens.remove(token);
    }

    fn fingerprint(request: &Request) -> String {
        let mut json = request.to_json();
        if let Some(map) = json.as_object_mut() {
            map.remove("ClientRequestToken");
        }
        json.to_string()
    }

    /// Checks the model's invariants; returns what is broken (empty when sound).
    ///
    /// A face belongs to at most one user and that user lists it; a user holds at most
    /// `faces_per_user` faces (unless a mutant relaxed the limit).
    pub fn invariant_violations(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (cid, c) in &self.collections {
            for (uid, u) in &c.users {
                if u.faces.len() > self.config.faces_per_user {
                    out.push(format!("{cid}/{uid} holds {} faces", u.faces.len()));
                }
                for f in &u.faces {
                    match c.faces.get(f) {
                        Some(face) if face.user.as_deref() == Some(uid.as_str()) => {}
                        _ => out.push(format!("{cid}/{uid} lists face {f} that does not point back")),
                    }
                }
            }
            for (fid, face) in &c.faces {
                if let Some(uid) = &face.user
                    && !c.users.get(uid).is_some_and(|u| u.faces.contains(fid))
                {
                    out.push(format!("{cid}: face {fid} points at {uid}, which does not list it"));
                }
            }
        }
        out
    }
}

/// The error codes a syntactic violation may surface as (`unknown:validation-error-type`).
pub fn validation_errors() -> Allowed {
    Allowed::errors(
        vec![ErrorCode::InvalidParameterException, ErrorCode::ValidationException],
        Some(Unknown::ValidationErrorType),
    )
}

#[cfg(test)]
mod tests;

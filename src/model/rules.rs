//! The contract's rules, one function per operation: what a call may return now.
//!
//! Section numbers refer to the contract reference (`rekognition-contract.md`).

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::{Value, json};

use super::similarity::{self, Band, Verdict};
use super::validate::{self, Kind};
use super::{Collection, FaceSource, Model, Status, User, validation_errors};
use crate::api::{Blob, ErrorCode, Image, Operation, Request};
use crate::expect::{Allowed, Choice, Keyed, KeyedItem, Mismatch, Page, Pat, StrRule, key_of, number};
use crate::image::{self, BoundingBox, ImageFace, MAX_FACES_PER_IMAGE};
use crate::unknown::Unknown;

/// Default page sizes the emulator uses; the service's are undocumented (§5.2).
const DEFAULT_PAGE_COLLECTIONS: usize = 1000;
const DEFAULT_PAGE_FACES: usize = 1000;
const DEFAULT_PAGE_USERS: usize = 500;

/// A closed object: the listed members, no others.
pub(super) fn obj(members: Vec<(&'static str, Pat)>) -> Pat {
    Pat::Obj { members, closed: true }
}

/// An open object: the listed members; others are allowed (detail the model does not track).
fn open(members: Vec<(&'static str, Pat)>) -> Pat {
    Pat::Obj { members, closed: false }
}

/// Exactly this value.
fn eq(v: impl Into<Value>) -> Pat {
    Pat::Eq(v.into())
}

/// Absent, or matching `p`.
fn opt(p: Pat) -> Pat {
    Pat::Opt(Box::new(p))
}

/// Any of `options`; `choice` says what the decision is about.
fn one_of(options: Vec<Pat>, choice: Choice) -> Pat {
    Pat::OneOf { options, choice }
}

/// A number in `[min, max]`, realised as `sample` (clamped into the range).
fn num(min: f64, max: f64, sample: f64) -> Pat {
    Pat::Num { min, max, sample: sample.clamp(min, max) }
}

/// A Percent (0..=100).
fn percent(sample: f64) -> Pat {
    num(0.0, 100.0, sample)
}

/// A bounding box as IndexFaces may first report it: ratios, `sample` being the declared box.
fn bbox_loose(b: &BoundingBox) -> Pat {
    open(vec![
        ("Width", num(0.0, 1.0, b.width)),
        ("Height", num(0.0, 1.0, b.height)),
        ("Left", num(-1.0, 1.0, b.left)),
        ("Top", num(-1.0, 1.0, b.top)),
    ])
}

/// A bounding box that must repeat what was reported before (within float noise).
fn bbox_same(b: &BoundingBox) -> Pat {
    const TOL: f64 = 1e-4;
    // Within float noise, and never outside what `bbox_loose` allows.
    let around = |x: f64, lo: f64, hi: f64| num((x - TOL).max(lo), (x + TOL).min(hi), x);
    open(vec![
        ("Width", around(b.width, 0.0, 1.0)),
        ("Height", around(b.height, 0.0, 1.0)),
        ("Left", around(b.left, -1.0, 1.0)),
        ("Top", around(b.top, -1.0, 1.0)),
    ])
}

/// The collection's face model version, once CreateCollection reported it.
fn version_pat(c: &Collection) -> Pat {
    match &c.face_model_version {
        Some(v) => eq(v.as_str()),
        None => Pat::Str(StrRule::ModelVersion),
    }
}

/// A stored face as ListFaces, SearchFaces and SearchFacesByImage show it (§5.1, §6.6).
fn face_pat(c: &Collection, id: &str, face: &super::Face) -> Pat {
    obj(vec![
        ("FaceId", eq(id)),
        ("BoundingBox", bbox_same(&face.bounding_box)),
        ("ImageId", eq(face.image_id.as_str())),
        ("ExternalImageId", face.external_image_id.as_deref().map_or(Pat::Absent, eq)),
        (
            "Confidence",
            face.confidence
                .map_or_else(|| percent(99.9), |x| num((x - 1e-3).max(0.0), (x + 1e-3).min(100.0), x)),
        ),
        (
            "IndexFacesModelVersion",
            opt(c.face_model_version.as_deref().map_or(Pat::Str(StrRule::ModelVersion), eq)),
        ),
        ("UserId", face.user.as_deref().map_or(Pat::Absent, eq)),
    ])
}

/// A user's status as a read (ListUsers, search matches) may show it (§6.3).
pub(super) fn status_pat(collection: &str, user_id: &str, user: &User) -> Pat {
    match &user.status {
        Status::Created => {
            one_of(vec![eq("CREATED"), eq("CREATING")], Choice::Unknown(Unknown::CreatingStatus))
        }
        Status::Pending => {
            let settled = if user.faces.is_empty() {
                one_of(
                    vec![eq("ACTIVE"), eq("CREATED")],
                    Choice::Unknown(Unknown::StatusAfterLastFaceRemoved),
                )
            } else {
                eq("ACTIVE")
            };
            one_of(
                vec![eq("UPDATING"), settled],
                Choice::UserStatus { collection: collection.to_string(), user: user_id.to_string() },
            )
        }
        Status::Settled(s) => eq(s.as_str()),
    }
}

/// The status an Associate/DisassociateFaces response carries (§6.5).
///
/// `UPDATING` after a change [real]; which status a call that changed nothing reports is
/// unsettled. `near` lists faces whose association is a near-threshold decision: the
/// response says `UPDATING` exactly when one of them was associated, so the emulator's
/// status follows the same decision as its lists.
fn changed_status_pat(collection: &str, user_id: &str, user: &User, certain: bool, near_ids: &[&str]) -> Pat {
    if certain {
        return eq("UPDATING");
    }
    let mut options = vec![status_pat(collection, user_id, user)];
    options.extend(["UPDATING", "ACTIVE", "CREATED", "CREATING"].map(eq));
    let mut pat = one_of(options, Choice::Unknown(Unknown::StatusWhenUnchanged));
    for id in near_ids.iter().rev() {
        pat = one_of(vec![eq("UPDATING"), pat], near(id));
    }
    pat
}

/// The score of a match (at or above `threshold`) or a miss (below it) within `band`.
fn similarity_in(band: Band, threshold: f64, matched: bool) -> Pat {
    if matched {
        let lo = band.min.max(threshold);
        num(lo, band.max, band.typical)
    } else {
        // A miss scores below the threshold; the boundary itself matches.
        let hi = band.max.min(threshold - 1e-6).max(band.min);
        num(band.min, hi, band.typical)
    }
}

/// The allowance for `request` in `model`'s current state.
pub(super) fn allowed(model: &Model, request: &Request) -> Allowed {
    let violations = validate::violations(request);
    // A body carrying an image over the limit may be refused whole by the front end, as
    // an HTTP server refuses any over-large body, before the service validates it.
    let too_large = |allowed: Allowed| {
        if violations.iter().any(|(kind, _)| *kind == Kind::ImageTooLarge) {
            allowed.or_error(ErrorCode::RequestEntityTooLargeException, Unknown::RequestEntityTooLarge)
        } else {
            allowed
        }
    };
    if violations.iter().any(|(kind, _)| *kind == Kind::Syntax) {
        return too_large(validation_errors());
    }
    if !violations.is_empty() {
        return too_large(Allowed::errors(
            vec![
                ErrorCode::ImageTooLargeException,
                ErrorCode::InvalidParameterException,
                ErrorCode::ValidationException,
            ],
            Some(Unknown::ValidationErrorType),
        ));
    }
    let fresh = fresh_allowed(model, request);
    let allowed = idempotent(model, request, fresh);
    // The endpoint's detector found other faces than the fixtures declare: what these
    // operations return depends on faces the scenario's author never saw.
    let reads_faces = matches!(
        request,
        Request::DescribeCollection(_)
            | Request::ListFaces(_)
            | Request::DeleteFaces(_)
            | Request::AssociateFaces(_)
            | Request::DisassociateFaces(_)
            | Request::SearchFaces(_)
            | Request::SearchFacesByImage(_)
            | Request::SearchUsers(_)
            | Request::SearchUsersByImage(_)
    );
    let apart = reads_faces
        && request.collection_id().and_then(|id| model.collections.get(id)).is_some_and(|c| c.detected_apart);
    allowed.blind(apart)
}

/// Applies ClientRequestToken semantics (§1.3) on top of a call's fresh allowance.
fn idempotent(model: &Model, request: &Request, fresh: Allowed) -> Allowed {
    let op = request.operation();
    let (Some(token), true) = (request.client_request_token(), model.config.honour_tokens) else {
        return fresh;
    };
    let Some(used) = model.tokens.get(token) else { return fresh };
    let collection = request.collection_id().unwrap_or_default();
    if used.op != op || used.collection != collection {
        return fresh.or_error(ErrorCode::IdempotentParameterMismatchException, Unknown::TokenScope);
    }
    if used.fingerprint != Model::fingerprint(request) {
        return Allowed::error(ErrorCode::IdempotentParameterMismatchException);
    }
    let generation = model.collections.get(collection).map(|c| c.generation);
    if generation == Some(used.generation) {
        return Allowed::success(Pat::Eq(used.body.clone()));
    }
    let mut out = fresh;
    let replay = Pat::Eq(used.body.clone());
    out.success = Some(match out.success.take() {
        Some(pat) => one_of(vec![replay, pat], Choice::Unknown(Unknown::TokenReplay)),
        None => replay,
    });
    out.prefer_error = false;
    out.unknowns.insert(Unknown::TokenReplay);
    out
}

/// The allowance of a valid request run for the first time (no token replay).
fn fresh_allowed(model: &Model, request: &Request) -> Allowed {
    match request {
        Request::CreateCollection(r) => {
            let id = r.collection_id.clone().unwrap_or_default();
            if model.collections.contains_key(&id) {
                return Allowed::error(ErrorCode::ResourceAlreadyExistsException);
            }
            Allowed::success(obj(vec![
                ("StatusCode", eq(200)),
                (
                    "CollectionArn",
                    Pat::Str(StrRule::CollectionArn {
                        with_arn_prefix: false,
                        collection: id,
                        region: model.config.region.clone(),
                        account: model.config.account.clone(),
                    }),
                ),
                ("FaceModelVersion", Pat::Str(StrRule::ModelVersion)),
            ]))
        }
        Request::DeleteCollection(r) => with_collection(model, r.collection_id.as_deref(), |_, _| {
            Allowed::success(obj(vec![("StatusCode", eq(200))]))
        }),
        Request::DescribeCollection(r) => with_collection(model, r.collection_id.as_deref(), |id, c| {
            Allowed::success(obj(vec![
                ("FaceCount", eq(c.faces.len())),
                ("FaceModelVersion", version_pat(c)),
                (
                    "CollectionARN",
                    Pat::Str(StrRule::CollectionArn {
                        with_arn_prefix: true,
                        collection: id.to_string(),
                        region: model.config.region.clone(),
                        account: model.config.account.clone(),
                    }),
                ),
                ("CreationTimestamp", c.creation_timestamp.map_or_else(|| num(0.0, 1.0e11, 1.7e9), eq_num)),
                ("UserCount", eq(c.users.len())),
            ]))
        }),
        Request::ListCollections(r) => list_collections(model, r.next_token.as_deref(), r.max_results),
        Request::IndexFaces(r) => with_collection(model, r.collection_id.as_deref(), |_, c| {
            let faces = match image_faces(model, r.image.as_ref()) {
                Ok(faces) => faces,
                Err(allowed) => return *allowed,
            };
            let digest = r.image.as_ref().and_then(|i| i.bytes.as_ref()).map(Blob::digest);
            let blind = faces.is_none();
            index_faces(c, faces.as_deref(), r.max_faces, r.external_image_id.as_deref(), digest).blind(blind)
        }),
        Request::ListFaces(r) => {
            with_collection(model, r.collection_id.as_deref(), |id, c| list_faces(model, id, c, r))
        }
        Request::DeleteFaces(r) => with_collection(model, r.collection_id.as_deref(), |_, c| {
            delete_faces(c, r.face_ids.as_deref().unwrap_or_default())
        }),
        Request::SearchFaces(r) => with_collection(model, r.collection_id.as_deref(), |_, c| {
            let face_id = r.face_id.as_deref().unwrap_or_default();
            let Some(face) = c.faces.get(face_id) else {
                return Allowed::error(ErrorCode::InvalidParameterException);
            };
            let threshold = r.face_match_threshold.unwrap_or(super::SEARCH_FACES_DEFAULT_THRESHOLD);
            let (matches, blind) = face_matches(c, &face.person, Some(face_id), threshold, r.max_faces);
            Allowed::success(obj(vec![
                ("SearchedFaceId", eq(face_id)),
                ("FaceMatches", matches),
                ("FaceModelVersion", version_pat(c)),
            ]))
            .blind(blind)
        }),
        Request::SearchFacesByImage(r) => with_collection(model, r.collection_id.as_deref(), |_, c| {
            let faces = match image_faces(model, r.image.as_ref()) {
                Ok(faces) => faces,
                Err(allowed) => return *allowed,
            };
            let threshold = r.face_match_threshold.unwrap_or(super::SEARCH_FACES_DEFAULT_THRESHOLD);
            let searched = |person: &str, bounding_box: &BoundingBox| {
                let (matches, blind) = face_matches(c, person, None, threshold, r.max_faces);
                Allowed::success(obj(vec![
                    ("SearchedFaceBoundingBox", bbox_loose(bounding_box)),
                    ("SearchedFaceConfidence", percent(99.9)),
                    ("FaceMatches", matches),
                    ("FaceModelVersion", version_pat(c)),
                ]))
                .blind(blind)
            };
            match faces.as_deref().map(<[ImageFace]>::first) {
                // §6.2, §9.7: no face in the image is an InvalidParameterException.
                Some(None) => Allowed::error(ErrorCode::InvalidParameterException),
                Some(Some(largest)) => searched(&largest.person, &largest.bounding_box),
                // Whether the endpoint's detector finds a face, and which is the largest,
                // is its own: any face, or none.
                None => {
                    let mut allowed = searched(similarity::UNKNOWN_PERSON, &image::CANNED_BOX).blind(true);
                    allowed.errors.push(ErrorCode::InvalidParameterException);
                    allowed
                }
            }
        }),
        Request::CreateUser(r) => with_collection(model, r.collection_id.as_deref(), |_, c| {
            if c.users.contains_key(r.user_id.as_deref().unwrap_or_default()) {
                Allowed::error(ErrorCode::ConflictException)
            } else {
                Allowed::success(obj(vec![]))
            }
        }),
        Request::DeleteUser(r) => {
            with_user(model, r.collection_id.as_deref(), r.user_id.as_deref(), |_, _, _| {
                Allowed::success(obj(vec![]))
            })
        }
        Request::ListUsers(r) => with_collection(model, r.collection_id.as_deref(), |id, c| {
            list_users(model, id, c, r.next_token.as_deref(), r.max_results)
        }),
        Request::AssociateFaces(r) => {
            with_user(model, r.collection_id.as_deref(), r.user_id.as_deref(), |cid, c, uid| {
                let threshold = r.user_match_threshold.unwrap_or(model.config.associate_default_threshold);
                associate(model, cid, c, uid, r.face_ids.as_deref().unwrap_or_default(), threshold)
            })
        }
        Request::DisassociateFaces(r) => {
            with_user(model, r.collection_id.as_deref(), r.user_id.as_deref(), |cid, c, uid| {
                disassociate(cid, c, uid, r.face_ids.as_deref().unwrap_or_default())
            })
        }
        Request::SearchUsers(r) => search_users(model, r),
        Request::SearchUsersByImage(r) => with_collection(model, r.collection_id.as_deref(), |cid, c| {
            let faces = match image_faces(model, r.image.as_ref()) {
                Ok(faces) => faces,
                Err(allowed) => return *allowed,
            };
            search_users_by_image(cid, c, faces.as_deref(), r.user_match_threshold, r.max_users)
        }),
    }
}

/// Exactly this number (compared by value).
fn eq_num(x: f64) -> Pat {
    Pat::Eq(number(x))
}

/// Runs `rule` on an existing collection; a missing one is a ResourceNotFoundException (§6.1).
fn with_collection(
    model: &Model,
    id: Option<&str>,
    rule: impl FnOnce(&str, &Collection) -> Allowed,
) -> Allowed {
    let id = id.unwrap_or_default();
    match model.collections.get(id) {
        Some(c) => rule(id, c),
        None => Allowed::error(ErrorCode::ResourceNotFoundException),
    }
}

/// Runs `rule` on an existing user; a missing user is a ResourceNotFoundException (§6.4, §6.5).
fn with_user(
    model: &Model,
    collection: Option<&str>,
    user: Option<&str>,
    rule: impl FnOnce(&str, &Collection, &str) -> Allowed,
) -> Allowed {
    with_collection(model, collection, |cid, c| {
        let uid = user.unwrap_or_default();
        if c.users.contains_key(uid) {
            rule(cid, c, uid)
        } else {
            Allowed::error(ErrorCode::ResourceNotFoundException)
        }
    })
}

/// The faces an image holds, largest first (`None` when only the endpoint's detector
/// knows: `--faces endpoint`), or the error it must give.
fn image_faces<'a>(
    model: &Model,
    image: Option<&'a Image>,
) -> Result<Option<Cow<'a, [ImageFace]>>, Box<Allowed>> {
    let Some(image) = image else { return Err(Box::new(validation_errors())) };
    match (&image.bytes, &image.s3_object) {
        (Some(bytes), _) => {
            if image::format_of(bytes.as_bytes()).is_none() {
                return Err(Box::new(Allowed::errors(
                    vec![ErrorCode::InvalidImageFormatException, ErrorCode::InvalidParameterException],
                    Some(Unknown::ImageErrorType),
                )));
            }
            Ok(match model.config.faces {
                FaceSource::Endpoint => None,
                // One fixed face for any image, scored by the image's digest.
                FaceSource::Canned => Some(Cow::Owned(vec![ImageFace {
                    person: similarity::canned_person(bytes.digest()),
                    bounding_box: image::CANNED_BOX,
                }])),
                FaceSource::Marker | FaceSource::Catalogue => Some(model.catalogue.faces_in(bytes)),
            })
        }
        // rekcon sends images inline; it has no bucket, so an S3 image cannot be read (§2).
        (None, _) => Err(Box::new(Allowed::errors(
            vec![ErrorCode::InvalidS3ObjectException, ErrorCode::AccessDeniedException],
            None,
        ))),
    }
}

/// IndexFaces (§6.2): the image's faces, largest first, up to MaxFaces; the rest unindexed.
/// With `faces` unknown (the endpoint's detector decides), any number of records up to
/// the limit, each of the usual structure.
fn index_faces(
    c: &Collection,
    faces: Option<&[ImageFace]>,
    max_faces: Option<i64>,
    external: Option<&str>,
    digest: Option<&str>,
) -> Allowed {
    let limit = usize::try_from(max_faces.unwrap_or(i64::MAX)).unwrap_or(usize::MAX).min(MAX_FACES_PER_IMAGE);
    let version = opt(c.face_model_version.as_deref().map_or(Pat::Str(StrRule::ModelVersion), eq));
    // Every record shares one ImageId: the first binds it, the others repeat it.
    // Any UUID; the emulator gives each indexing a new one.
    let image_id =
        || Pat::Bind("ImageId", Box::new(one_of(vec![Pat::Fresh, Pat::Str(StrRule::Uuid)], Choice::Free)));
    let record = |bounding_box: &BoundingBox, image_id: Pat| {
        obj(vec![
            (
                "Face",
                obj(vec![
                    ("FaceId", Pat::Fresh),
                    ("BoundingBox", bbox_loose(bounding_box)),
                    ("ImageId", image_id),
                    ("ExternalImageId", external.map_or(Pat::Absent, eq)),
                    ("Confidence", percent(99.9)),
                    ("IndexFacesModelVersion", version.clone()),
                    ("UserId", Pat::Absent),
                ]),
            ),
            (
                "FaceDetail",
                open(vec![("BoundingBox", bbox_loose(bounding_box)), ("Confidence", percent(99.9))]),
            ),
        ])
    };
    // Faces beyond MaxFaces (or the 100 per image) are reported, not stored (§6.2).
    let skipped = |bounding_box: &BoundingBox| {
        obj(vec![
            ("Reasons", Pat::List(vec![eq("EXCEEDS_MAX_FACES")])),
            ("FaceDetail", open(vec![("BoundingBox", bbox_loose(bounding_box))])),
        ])
    };
    let (records, unindexed, count) = match faces {
        Some(faces) => {
            let (indexed, unindexed) = faces.split_at(faces.len().min(limit));
            let records = indexed
                .iter()
                .enumerate()
                .map(|(i, f)| record(&f.bounding_box, if i == 0 { image_id() } else { Pat::Same("ImageId") }))
                .collect();
            let skipped = unindexed.iter().map(|f| skipped(&f.bounding_box)).collect();
            (Pat::List(records), Pat::List(skipped), Some(indexed.len()))
        }
        None => (
            Pat::Each {
                item: Box::new(record(&image::CANNED_BOX, image_id())),
                max_len: limit,
                sample_len: 1,
            },
            Pat::Each { item: Box::new(skipped(&image::CANNED_BOX)), max_len: usize::MAX, sample_len: 0 },
            None,
        ),
    };
    let mut options = vec![records];
    options.extend(reindexed(c, count, external, digest, &version));
    let face_records = if options.len() == 1 {
        options.remove(0)
    } else {
        one_of(options, Choice::Unknown(Unknown::ReindexSameImage))
    };
    Allowed::success(obj(vec![
        ("FaceRecords", face_records),
        (
            "OrientationCorrection",
            opt(one_of(["ROTATE_0", "ROTATE_90", "ROTATE_180", "ROTATE_270"].map(eq).to_vec(), Choice::Free)),
        ),
        ("FaceModelVersion", version_pat(c)),
        ("UnindexedFaces", unindexed),
    ]))
}

/// §6.2 [doc]: indexing the same image into the same collection with the same
/// ExternalImageId "doesn't save duplicate face metadata". What the response then holds
/// is not documented; besides new faces, the model allows the records of an earlier
/// indexing of these bytes (same FaceIds and ImageId), which then change nothing. The
/// emulator keeps indexing afresh (the first option).
fn reindexed(
    c: &Collection,
    count: Option<usize>,
    external: Option<&str>,
    digest: Option<&str>,
    version: &Pat,
) -> Vec<Pat> {
    let Some(digest) = digest else { return Vec::new() };
    let mut groups: BTreeMap<&str, Vec<(&String, &super::Face)>> = BTreeMap::new();
    for (id, f) in &c.faces {
        if f.image_digest == digest && f.external_image_id.as_deref() == external {
            groups.entry(f.image_id.as_str()).or_default().push((id, f));
        }
    }
    groups
        .into_iter()
        .filter(|(_, group)| count.is_none_or(|n| n > 0 && group.len() == n))
        .map(|(image_id, group)| {
            let items = group
                .into_iter()
                .map(|(id, f)| {
                    let face = obj(vec![
                        ("FaceId", eq(id.as_str())),
                        ("BoundingBox", bbox_same(&f.bounding_box)),
                        ("ImageId", eq(image_id)),
                        ("ExternalImageId", external.map_or(Pat::Absent, eq)),
                        ("Confidence", percent(f.confidence.unwrap_or(99.9))),
                        ("IndexFacesModelVersion", version.clone()),
                        ("UserId", f.user.as_deref().map_or(Pat::Absent, |u| opt(eq(u)))),
                    ]);
                    let detail = open(vec![
                        ("BoundingBox", bbox_loose(&f.bounding_box)),
                        ("Confidence", percent(99.9)),
                    ]);
                    face_id_item(id, obj(vec![("Face", face), ("FaceDetail", detail)]), true, None)
                })
                .collect();
            // Order is checked with the other records' (largest first) in `cross_checks`.
            Pat::Keyed(Box::new(Keyed {
                key_path: vec!["Face", "FaceId"],
                items,
                max_len: None,
                sorted_desc_by: None,
            }))
        })
        .collect()
}

/// Where a listing stands: what earlier pages returned, and whether it must be complete.
struct Position {
    /// Keys earlier pages of this listing returned.
    exclude: BTreeSet<String>,
    /// Whether nothing changed since the token was issued, so the listing must be exact.
    strict: bool,
}

/// Reads a NextToken (§5.2): unknown tokens are InvalidPaginationTokenException.
fn position(
    model: &Model,
    op: Operation,
    scope: &str,
    token: Option<&str>,
    generation: u64,
) -> Result<Position, Box<Allowed>> {
    let Some(token) = token else { return Ok(Position { exclude: BTreeSet::new(), strict: true }) };
    match model.cursors.get(token) {
        None => Err(Box::new(Allowed::error(ErrorCode::InvalidPaginationTokenException))),
        Some(cursor) if cursor.op != op || cursor.scope != scope => Err(Box::new(Allowed::errors(
            vec![ErrorCode::InvalidPaginationTokenException, ErrorCode::InvalidParameterException],
            Some(Unknown::ForeignPaginationToken),
        ))),
        // The listing changed since the token was issued: paging may shift either way.
        Some(cursor) if cursor.generation != generation => {
            Ok(Position { exclude: BTreeSet::new(), strict: false })
        }
        Some(cursor) => Ok(Position { exclude: cursor.seen.clone(), strict: true }),
    }
}

/// A MaxResults of 0 is allowed by PageSize; what it returns is unsettled (§9.12).
fn page_size(max_results: Option<i64>) -> (Option<usize>, bool) {
    match max_results {
        Some(0) => (None, true),
        Some(n) => (usize::try_from(n).ok(), false),
        None => (None, false),
    }
}

/// A page allowance; with MaxResults 0 also the errors it may give (§9.12).
fn finish_page(page: Page, zero: bool) -> Allowed {
    let allowed = Allowed::success(Pat::Page(Box::new(page)));
    if zero {
        allowed
            .or_error(ErrorCode::InvalidParameterException, Unknown::PageSizeZero)
            .or_error(ErrorCode::ValidationException, Unknown::PageSizeZero)
    } else {
        allowed
    }
}

/// ListCollections (§6.1, §5.2): ids and parallel face model versions, paged.
fn list_collections(model: &Model, token: Option<&str>, max_results: Option<i64>) -> Allowed {
    let position = match position(model, Operation::ListCollections, "", token, model.generation) {
        Ok(p) => p,
        Err(allowed) => return *allowed,
    };
    let (max_len, zero) = page_size(max_results);
    // On a shared endpoint other clients create and delete collections between pages,
    // which may shift where a listing resumes: only this model's own collections must
    // not repeat; foreign ones may.
    let mut exclude = position.exclude;
    exclude.retain(|id| model.collections.contains_key(id) || model.retired.contains(id));
    // Observed order: ascending bytes of the id (§6.1); BTreeMap already iterates so.
    let candidates = model.collections.keys().map(|id| (id.clone(), eq(id.as_str()))).collect();
    let versions = model.collections.iter().map(|(id, c)| (id.clone(), version_pat(c))).collect();
    finish_page(
        Page {
            items_member: "CollectionIds",
            key_path: vec![],
            candidates,
            exclude,
            forbidden: Arc::clone(&model.retired),
            allow_foreign: true,
            max_len,
            default_len: DEFAULT_PAGE_COLLECTIONS,
            require_complete: position.strict,
            parallel: Some(("FaceModelVersions", versions)),
            token_max_len: Some(255),
            members: vec![],
        },
        zero,
    )
}

/// The scope a ListFaces cursor belongs to: collection plus filters.
pub(super) fn list_faces_scope(collection: &str, r: &crate::api::ListFacesRequest) -> String {
    format!("{collection}|{:?}|{:?}", r.user_id, r.face_ids)
}

/// ListFaces (§6.2, §5.2): the faces, filtered by UserId and FaceIds, paged.
fn list_faces(model: &Model, cid: &str, c: &Collection, r: &crate::api::ListFacesRequest) -> Allowed {
    let scope = list_faces_scope(cid, r);
    let position = match position(model, Operation::ListFaces, &scope, r.next_token.as_deref(), c.generation)
    {
        Ok(p) => p,
        Err(allowed) => return *allowed,
    };
    let (max_len, zero) = page_size(r.max_results);
    let wanted: Option<BTreeSet<&str>> =
        r.face_ids.as_ref().map(|ids| ids.iter().map(String::as_str).collect());
    let candidates: Vec<(String, Pat)> = c
        .faces
        .iter()
        .filter(|(id, f)| {
            r.user_id.as_ref().is_none_or(|u| f.user.as_ref() == Some(u))
                && wanted.as_ref().is_none_or(|w| w.contains(id.as_str()))
        })
        .map(|(id, f)| (id.clone(), face_pat(c, id, f)))
        .collect();
    let mut unknown = None;
    if r.user_id.as_ref().is_some_and(|u| !c.users.contains_key(u)) {
        unknown = Some(Unknown::ListFacesUnknownUser);
    } else if wanted.as_ref().is_some_and(|w| w.iter().all(|id| !c.faces.contains_key(*id))) {
        unknown = Some(Unknown::ListFacesUnknownFaceIds);
    }
    let allowed = finish_page(
        Page {
            items_member: "Faces",
            key_path: vec!["FaceId"],
            candidates,
            exclude: position.exclude,
            forbidden: Arc::default(),
            allow_foreign: false,
            max_len,
            default_len: DEFAULT_PAGE_FACES,
            require_complete: position.strict,
            parallel: None,
            token_max_len: None,
            members: vec![("FaceModelVersion", opt(version_pat(c)))],
        },
        zero,
    );
    match unknown {
        Some(u) => allowed
            .or_error(ErrorCode::ResourceNotFoundException, u)
            .or_error(ErrorCode::InvalidParameterException, u),
        None => allowed,
    }
}

/// ListUsers order is by an internal id, neither alphabetical nor creation order (§6.4);
/// the emulator imitates that with a hash, and the checker compares pages as sets.
pub(super) fn user_order_key(user_id: &str) -> String {
    image::digest(user_id.as_bytes())
}

/// ListUsers (§6.4, §5.2): the users with their status, paged.
fn list_users(
    model: &Model,
    cid: &str,
    c: &Collection,
    token: Option<&str>,
    max_results: Option<i64>,
) -> Allowed {
    let position = match position(model, Operation::ListUsers, cid, token, c.generation) {
        Ok(p) => p,
        Err(allowed) => return *allowed,
    };
    let mut candidates: Vec<(String, (String, Pat))> = c
        .users
        .iter()
        .map(|(id, u)| {
            let pat = obj(vec![("UserId", eq(id.as_str())), ("UserStatus", status_pat(cid, id, u))]);
            (user_order_key(id), (id.clone(), pat))
        })
        .collect();
    candidates.sort_by(|a, b| a.0.cmp(&b.0));
    finish_page(
        Page {
            items_member: "Users",
            key_path: vec!["UserId"],
            candidates: candidates.into_iter().map(|(_, c)| c).collect(),
            exclude: position.exclude,
            forbidden: Arc::default(),
            allow_foreign: false,
            max_len: max_results.and_then(|n| usize::try_from(n).ok()),
            default_len: DEFAULT_PAGE_USERS,
            require_complete: position.strict,
            parallel: None,
            token_max_len: Some(255),
            members: vec![],
        },
        false,
    )
}

/// Distinct FaceIds in request order, and whether any repeated.
fn distinct(ids: &[String]) -> (Vec<&str>, bool) {
    let mut seen = BTreeSet::new();
    let out: Vec<&str> = ids.iter().map(String::as_str).filter(|id| seen.insert(*id)).collect();
    let repeated = out.len() != ids.len();
    (out, repeated)
}

/// Repeated FaceIds in one request are unsettled: an error, or the call as if de-duplicated.
fn allow_duplicates(allowed: Allowed, repeated: bool) -> Allowed {
    if repeated {
        allowed
            .or_error(ErrorCode::InvalidParameterException, Unknown::DuplicateFaceIds)
            .or_error(ErrorCode::ValidationException, Unknown::DuplicateFaceIds)
    } else {
        allowed
    }
}

/// One item of a FaceId-keyed result list.
fn face_id_item(id: &str, pat: Pat, required: bool, choice: Option<(Choice, usize)>) -> KeyedItem {
    KeyedItem { key: id.to_string(), pat, required, choice }
}

/// An array compared as a set of keyed items.
fn keyed(key_path: Vec<&'static str>, items: Vec<KeyedItem>) -> Pat {
    Pat::Keyed(Box::new(Keyed { key_path, items, max_len: None, sorted_desc_by: None }))
}

/// An array that real AWS omits or sends empty when nothing is in it (also when every
/// item is optional, e.g. a near-threshold face that went the other way).
fn keyed_or_absent_when_empty(key_path: Vec<&'static str>, items: Vec<KeyedItem>) -> Pat {
    if items.is_empty() {
        opt(eq(json!([])))
    } else if items.iter().all(|i| !i.required) {
        opt(keyed(key_path, items))
    } else {
        keyed(key_path, items)
    }
}

/// DeleteFaces (§6.2, §6.6): free faces deleted; owned or unknown ones refused in-band.
fn delete_faces(c: &Collection, ids: &[String]) -> Allowed {
    let (ids, repeated) = distinct(ids);
    let mut deleted = Vec::new();
    let mut failed = Vec::new();
    for id in ids {
        match c.faces.get(id) {
            None => failed.push(face_id_item(
                id,
                obj(vec![("FaceId", eq(id)), ("Reasons", Pat::List(vec![eq("FACE_NOT_FOUND")]))]),
                true,
                None,
            )),
            // §6.2/§6.6: a face owned by a user is refused in-band, naming the owner.
            Some(face) if face.user.is_some() => failed.push(face_id_item(
                id,
                obj(vec![
                    ("FaceId", eq(id)),
                    ("UserId", face.user.as_deref().map_or(Pat::Absent, eq)),
                    ("Reasons", Pat::List(vec![eq("ASSOCIATED_TO_AN_EXISTING_USER")])),
                ]),
                true,
                None,
            )),
            Some(_) => deleted.push(face_id_item(id, eq(id), true, None)),
        }
    }
    let deleted_pat = if deleted.is_empty() {
        one_of(vec![eq(json!([])), Pat::Absent], Choice::Unknown(Unknown::DeleteFacesAllFailed))
    } else {
        keyed(vec![], deleted)
    };
    allow_duplicates(
        Allowed::success(obj(vec![
            ("DeletedFaces", deleted_pat),
            ("UnsuccessfulFaceDeletions", keyed_or_absent_when_empty(vec!["FaceId"], failed)),
        ])),
        repeated,
    )
}

/// The people a user's faces show.
fn user_persons<'a>(c: &'a Collection, user: &User) -> BTreeSet<&'a str> {
    user.faces.iter().filter_map(|f| c.faces.get(f)).map(|f| f.person.as_str()).collect()
}

/// How a free face fares against a user's current faces (the people they show, §6.5).
fn association_verdict(persons: &BTreeSet<&str>, person: &str, threshold: f64) -> (Verdict, Band, bool) {
    match similarity::face_to_user(person, persons) {
        // A user without faces takes the first faces without applying the threshold.
        None => (Verdict::Match, similarity::SAME_PERSON, false),
        Some((band, mixed)) => (similarity::verdict(band, threshold), band, mixed),
    }
}

/// The near-threshold decision about one face or user, shared by every list it may land in.
fn near(id: &str) -> Choice {
    Choice::Near(id.to_string())
}

/// AssociateFaces (§6.5): per face, associated, refused in-band, or silently ignored.
fn associate(model: &Model, cid: &str, c: &Collection, uid: &str, ids: &[String], threshold: f64) -> Allowed {
    let Some(user) = c.users.get(uid) else { return Allowed::error(ErrorCode::ResourceNotFoundException) };
    let (ids, repeated) = distinct(ids);
    let mut failed = Vec::new();
    let mut unknowns = BTreeSet::new();
    let mut blind = false;
    // Free faces the threshold lets (or may let) join the user, in request order.
    let mut candidates: Vec<(&str, Verdict, Band)> = Vec::new();
    // Free faces the threshold refuses.
    let mut refused: Vec<(&str, Band)> = Vec::new();
    let persons = user_persons(c, user);
    for id in ids {
        let Some(face) = c.faces.get(id) else {
            failed.push(face_id_item(
                id,
                obj(vec![("FaceId", eq(id)), ("Reasons", Pat::List(vec![eq("FACE_NOT_FOUND")]))]),
                true,
                None,
            ));
            continue;
        };
        match face.user.as_deref() {
            // Already on this user: in neither list (§9.9).
            Some(owner) if owner == uid => continue,
            Some(owner) => {
                failed.push(face_id_item(
                    id,
                    obj(vec![
                        ("FaceId", eq(id)),
                        ("UserId", eq(owner)),
                        ("Reasons", Pat::List(vec![eq("ASSOCIATED_TO_A_DIFFERENT_USER")])),
                    ]),
                    true,
                    None,
                ));
                continue;
            }
            None => {}
        }
        let (verdict, band, mixed) = association_verdict(&persons, &face.person, threshold);
        if mixed {
            unknowns.insert(Unknown::MixedUserSimilarity);
        }
        blind |= blind_verdict(band, verdict);
        match verdict {
            Verdict::NoMatch => refused.push((id, band)),
            Verdict::Match | Verdict::Either => candidates.push((id, verdict, band)),
        }
    }
    let low = |id: &str, band: Band, required: bool| {
        face_id_item(
            id,
            obj(vec![
                ("FaceId", eq(id)),
                ("Confidence", similarity_in(band, threshold, false)),
                ("Reasons", Pat::List(vec![eq("LOW_MATCH_CONFIDENCE")])),
            ]),
            required,
            (!required).then(|| (near(id), 1)),
        )
    };
    let body = |associated: Vec<KeyedItem>, failed: Vec<KeyedItem>, status: Pat| {
        obj(vec![
            ("AssociatedFaces", keyed_or_absent_when_empty(vec!["FaceId"], associated)),
            // Sent even when empty [real] (§6.5).
            ("UnsuccessfulFaceAssociations", keyed(vec!["FaceId"], failed)),
            ("UserStatus", status),
        ])
    };
    let capacity = model.config.faces_per_user.saturating_sub(user.faces.len());
    let at_limit = capacity == 0 && !(candidates.is_empty() && refused.is_empty());
    let mut allowed = if candidates.len() <= capacity && !at_limit {
        let mut associated = Vec::new();
        let mut near_ids = Vec::new();
        for (id, band) in &refused {
            failed.push(low(id, *band, true));
        }
        for (id, verdict, band) in &candidates {
            if *verdict == Verdict::Match {
                associated.push(face_id_item(id, obj(vec![("FaceId", eq(*id))]), true, None));
            } else {
                // Near the threshold: in exactly one of the lists, decided once.
                associated.push(face_id_item(id, obj(vec![("FaceId", eq(*id))]), false, Some((near(id), 0))));
                failed.push(low(id, *band, false));
                near_ids.push(*id);
            }
        }
        let certain = candidates.iter().any(|(_, v, _)| *v == Verdict::Match);
        Allowed::success(body(associated, failed, changed_status_pat(cid, uid, user, certain, &near_ids)))
    } else {
        // §6.5, §9.11: the user would pass the faces-per-user limit. Documented two ways:
        // ServiceQuotaExceededException (newest doc; what the emulator answers), or
        // in-band refusals without a fitting reason code. In-band, which faces still fit
        // is unsettled: every free face lands in exactly one list and the user ends with
        // at most the limit (checked by `cross_checks`).
        let mut associated = Vec::new();
        let loose = |id: &str| open(vec![("FaceId", eq(id)), ("Reasons", Pat::Any)]);
        for (id, _, _) in &candidates {
            associated.push(face_id_item(id, obj(vec![("FaceId", eq(*id))]), false, None));
            failed.push(face_id_item(id, loose(id), false, None));
        }
        for (id, band) in &refused {
            let pat = one_of(
                vec![low(id, *band, true).pat, loose(id)],
                Choice::Unknown(Unknown::FaceLimitOverflow),
            );
            failed.push(face_id_item(id, pat, true, None));
        }
        let mut a =
            Allowed::success(body(associated, failed, changed_status_pat(cid, uid, user, false, &[])));
        a.errors.push(ErrorCode::ServiceQuotaExceededException);
        a.prefer_error = true;
        a.unknowns.insert(Unknown::FaceLimitOverflow);
        a
    };
    allowed.unknowns.extend(unknowns);
    allow_duplicates(allowed.blind(blind), repeated)
}

/// DisassociateFaces (§6.5): own faces removed, others refused or silently ignored.
fn disassociate(cid: &str, c: &Collection, uid: &str, ids: &[String]) -> Allowed {
    let Some(user) = c.users.get(uid) else { return Allowed::error(ErrorCode::ResourceNotFoundException) };
    let (ids, repeated) = distinct(ids);
    let mut removed = Vec::new();
    let mut failed = Vec::new();
    for id in ids {
        match c.faces.get(id).map(|f| f.user.as_deref()) {
            None => failed.push(face_id_item(
                id,
                obj(vec![("FaceId", eq(id)), ("Reasons", Pat::List(vec![eq("FACE_NOT_FOUND")]))]),
                true,
                None,
            )),
            Some(Some(owner)) if owner == uid => {
                removed.push(face_id_item(id, obj(vec![("FaceId", eq(id))]), true, None))
            }
            Some(Some(owner)) => failed.push(face_id_item(
                id,
                obj(vec![
                    ("FaceId", eq(id)),
                    ("UserId", eq(owner)),
                    ("Reasons", Pat::List(vec![eq("ASSOCIATED_TO_A_DIFFERENT_USER")])),
                ]),
                true,
                None,
            )),
            // Not associated with anyone: silently ignored (§6.5).
            Some(None) => {}
        }
    }
    let certain = !removed.is_empty();
    allow_duplicates(
        Allowed::success(obj(vec![
            ("DisassociatedFaces", keyed_or_absent_when_empty(vec!["FaceId"], removed)),
            ("UnsuccessfulFaceDisassociations", keyed_or_absent_when_empty(vec!["FaceId"], failed)),
            ("UserStatus", changed_status_pat(cid, uid, user, certain, &[])),
        ])),
        repeated,
    )
}

/// A MaxUsers/MaxFaces cap as a length.
fn cap(max: Option<i64>) -> Option<usize> {
    max.and_then(|n| usize::try_from(n).ok())
}

/// Whether deciding `band` against `threshold` leaned on unknown identity: a band the
/// model widened because it does not know who the faces show, with the threshold inside.
fn blind_verdict(band: Band, verdict: Verdict) -> bool {
    band == similarity::UNKNOWN && verdict == Verdict::Either
}

/// FaceMatches of SearchFaces/SearchFacesByImage, sorted by Similarity (§6.2), and
/// whether they leaned on unknown identity.
fn face_matches(
    c: &Collection,
    person: &str,
    searched: Option<&str>,
    threshold: f64,
    max: Option<i64>,
) -> (Pat, bool) {
    let mut items = Vec::new();
    let mut blind = false;
    for (id, face) in &c.faces {
        let (band, choice) = if Some(id.as_str()) == searched {
            // Never listed in any AWS example; unsettled whether it can be (§6.2).
            (similarity::SAME_FACE, Some((Choice::Unknown(Unknown::SearchFacesSelfMatch), 1)))
        } else {
            (similarity::between(person, &face.person), None)
        };
        let verdict = similarity::verdict(band, threshold);
        blind |= blind_verdict(band, verdict);
        if verdict == Verdict::NoMatch {
            continue;
        }
        let sure = verdict == Verdict::Match && choice.is_none();
        let choice = choice.or_else(|| (!sure).then(|| (near(id), 0)));
        items.push(KeyedItem {
            key: id.clone(),
            pat: obj(vec![
                ("Similarity", similarity_in(band, threshold, true)),
                ("Face", face_pat(c, id, face)),
            ]),
            required: sure,
            choice,
        });
    }
    let pat = Pat::Keyed(Box::new(Keyed {
        key_path: vec!["Face", "FaceId"],
        items,
        max_len: cap(max),
        sorted_desc_by: Some("Similarity"),
    }));
    (pat, blind)
}

/// UserMatches for a probe, sorted by Similarity and capped by MaxUsers (§6.7), and
/// whether they leaned on unknown identity.
fn user_matches(
    cid: &str,
    c: &Collection,
    bands: impl Iterator<Item = (String, Band)>,
    threshold: f64,
    max: Option<i64>,
) -> (Pat, bool) {
    let mut items = Vec::new();
    let mut blind = false;
    for (uid, band) in bands {
        let Some(user) = c.users.get(&uid) else { continue };
        let verdict = similarity::verdict(band, threshold);
        blind |= blind_verdict(band, verdict);
        if verdict == Verdict::NoMatch {
            continue;
        }
        let sure = verdict == Verdict::Match;
        items.push(KeyedItem {
            key: uid.clone(),
            pat: obj(vec![
                ("Similarity", similarity_in(band, threshold, true)),
                (
                    "User",
                    obj(vec![("UserId", eq(uid.as_str())), ("UserStatus", status_pat(cid, &uid, user))]),
                ),
            ]),
            required: sure,
            choice: (!sure).then(|| (near(&uid), 0)),
        });
    }
    let pat = Pat::Keyed(Box::new(Keyed {
        key_path: vec!["User", "UserId"],
        items,
        max_len: cap(max),
        sorted_desc_by: Some("Similarity"),
    }));
    (pat, blind)
}

/// SearchUsers (§6.7): by FaceId or by UserId, never both.
fn search_users(model: &Model, r: &crate::api::SearchUsersRequest) -> Allowed {
    with_collection(model, r.collection_id.as_deref(), |cid, c| {
        let threshold = r.user_match_threshold.unwrap_or(super::SEARCH_USERS_DEFAULT_THRESHOLD);
        let mut unknowns = BTreeSet::new();
        let (matches, searched_face, searched_user) = match (&r.face_id, &r.user_id) {
            // §6.7: exactly one of FaceId and UserId.
            (Some(_), Some(_)) | (None, None) => {
                return Allowed::errors(
                    vec![ErrorCode::InvalidParameterException, ErrorCode::ValidationException],
                    Some(Unknown::SearchUsersQueryShape),
                );
            }
            (Some(face_id), None) => {
                let Some(face) = c.faces.get(face_id) else {
                    return Allowed::errors(
                        vec![ErrorCode::InvalidParameterException, ErrorCode::ResourceNotFoundException],
                        Some(Unknown::SearchUsersUnknownFace),
                    );
                };
                let bands = c.users.iter().filter_map(|(uid, u)| {
                    if face.user.as_deref() == Some(uid.as_str()) {
                        // The face's own user is found with near-certainty [real], by a
                        // detector that knows faces; unknown ones may score anything.
                        let band = if similarity::is_unknown(&face.person) {
                            similarity::UNKNOWN
                        } else {
                            similarity::SAME_FACE
                        };
                        return Some((uid.clone(), band));
                    }
                    let (band, mixed) = similarity::face_to_user(&face.person, &user_persons(c, u))?;
                    if mixed {
                        unknowns.insert(Unknown::MixedUserSimilarity);
                    }
                    Some((uid.clone(), band))
                });
                let bands: Vec<_> = bands.collect();
                (
                    user_matches(cid, c, bands.into_iter(), threshold, r.max_users),
                    obj(vec![("FaceId", eq(face_id.as_str()))]),
                    Pat::Absent,
                )
            }
            (None, Some(user_id)) => {
                // §6.7, §9.8: an unknown UserId is InvalidParameterException [real].
                let Some(user) = c.users.get(user_id) else {
                    return Allowed::error(ErrorCode::InvalidParameterException);
                };
                let persons = user_persons(c, user);
                let bands: Vec<_> = c
                    .users
                    .iter()
                    // The searched user is never among its own matches (§6.7).
                    .filter(|(uid, _)| *uid != user_id)
                    .filter_map(|(uid, u)| {
                        let (band, mixed) = similarity::user_to_user(&persons, &user_persons(c, u))?;
                        if mixed {
                            unknowns.insert(Unknown::MixedUserSimilarity);
                        }
                        Some((uid.clone(), band))
                    })
                    .collect();
                (
                    user_matches(cid, c, bands.into_iter(), threshold, r.max_users),
                    Pat::Absent,
                    obj(vec![("UserId", eq(user_id.as_str()))]),
                )
            }
        };
        let (matches, blind) = matches;
        let mut allowed = Allowed::success(obj(vec![
            ("UserMatches", matches),
            // "6" rather than "6.0" here [real] (§9.4): any version string.
            ("FaceModelVersion", Pat::Str(StrRule::UserSearchModelVersion)),
            ("SearchedFace", searched_face),
            ("SearchedUser", searched_user),
        ]));
        allowed.unknowns.extend(unknowns);
        allowed.blind(blind)
    })
}

/// SearchUsersByImage (§6.7): users matching the largest face in the image. With
/// `faces` unknown (the endpoint's detector decides), any face or none.
fn search_users_by_image(
    cid: &str,
    c: &Collection,
    faces: Option<&[ImageFace]>,
    threshold: Option<f64>,
    max: Option<i64>,
) -> Allowed {
    let threshold = threshold.unwrap_or(super::SEARCH_USERS_DEFAULT_THRESHOLD);
    // §6.7, §9.7: no usable face is a 200 with no matches, unlike SearchFacesByImage.
    let no_face = || {
        obj(vec![
            ("UserMatches", eq(json!([]))),
            ("FaceModelVersion", opt(Pat::Str(StrRule::UserSearchModelVersion))),
            ("SearchedFace", Pat::Absent),
            ("UnsearchedFaces", opt(eq(json!([])))),
        ])
    };
    let unsearched_face = |b: &BoundingBox| {
        obj(vec![
            ("FaceDetails", open(vec![("BoundingBox", bbox_loose(b))])),
            ("Reasons", Pat::List(vec![eq("FACE_NOT_LARGEST")])),
        ])
    };
    let (largest, unsearched) = match faces {
        Some([]) => return Allowed::success(no_face()),
        Some([largest, rest @ ..]) => {
            (largest.clone(), Pat::List(rest.iter().map(|f| unsearched_face(&f.bounding_box)).collect()))
        }
        None => (
            ImageFace { person: similarity::UNKNOWN_PERSON.into(), bounding_box: image::CANNED_BOX },
            Pat::Each {
                item: Box::new(unsearched_face(&image::CANNED_BOX)),
                max_len: usize::MAX,
                sample_len: 0,
            },
        ),
    };
    let mut unknowns = BTreeSet::new();
    let bands: Vec<_> = c
        .users
        .iter()
        .filter_map(|(uid, u)| {
            let (band, mixed) = similarity::face_to_user(&largest.person, &user_persons(c, u))?;
            if mixed {
                unknowns.insert(Unknown::MixedUserSimilarity);
            }
            Some((uid.clone(), band))
        })
        .collect();
    let (matches, blind) = user_matches(cid, c, bands.into_iter(), threshold, max);
    let found = obj(vec![
        ("UserMatches", matches),
        ("FaceModelVersion", Pat::Str(StrRule::UserSearchModelVersion)),
        (
            "SearchedFace",
            obj(vec![("FaceDetail", open(vec![("BoundingBox", bbox_loose(&largest.bounding_box))]))]),
        ),
        // Sent even when empty [real].
        ("UnsearchedFaces", unsearched),
    ]);
    let mut allowed = match faces {
        Some(_) => Allowed::success(found).blind(blind),
        None => Allowed::success(one_of(vec![found, no_face()], Choice::Free)).blind(true),
    };
    allowed.unknowns.extend(unknowns);
    allowed
}

/// Checks that span members, which patterns cannot express: IndexFaces' records come
/// largest first; no FaceId is reported twice;
/// in AssociateFaces every face not already on the user lands in one of the two lists,
/// the status is `UPDATING` when faces were added, and the user stays within the limit.
pub(super) fn cross_checks(model: &Model, request: &Request, body: &Value) -> Vec<Mismatch> {
    if let Request::IndexFaces(_) = request {
        return index_order(body);
    }
    let lists: &[&str] = match request {
        Request::AssociateFaces(_) => &["AssociatedFaces", "UnsuccessfulFaceAssociations"],
        Request::DisassociateFaces(_) => &["DisassociatedFaces", "UnsuccessfulFaceDisassociations"],
        Request::DeleteFaces(_) => &["DeletedFaces", "UnsuccessfulFaceDeletions"],
        _ => return Vec::new(),
    };
    let mut places: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for list in lists {
        let key_path: &[&str] = if *list == "DeletedFaces" { &[] } else { &["FaceId"] };
        for (i, item) in body
            .get(*list)
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            if let Some(key) = key_of(item, key_path) {
                places.entry(key).or_default().push(format!("{list}[{i}]"));
            }
        }
    }
    let mut out: Vec<Mismatch> = places
        .iter()
        .filter(|(_, at)| at.len() > 1)
        .map(|(id, at)| Mismatch {
            path: at[1].clone(),
            expected: format!("{id} reported in one place only"),
            actual: format!("also at {}", at[0]),
        })
        .collect();
    if let Request::AssociateFaces(r) = request
        && let (Some(c), Some(uid)) =
            (r.collection_id.as_deref().and_then(|id| model.collections.get(id)), r.user_id.as_deref())
        && let Some(user) = c.users.get(uid)
        && !is_token_replay(model, request, body)
    {
        // Every requested face not already on this user is reported somewhere (§6.5, §9.9).
        for id in r.face_ids.iter().flatten() {
            if !user.faces.contains(id) && !places.contains_key(id) {
                out.push(Mismatch {
                    path: "AssociatedFaces".into(),
                    expected: format!("{id} in AssociatedFaces or UnsuccessfulFaceAssociations"),
                    actual: "in neither".into(),
                });
            }
        }
        let added = strings_at(body, "AssociatedFaces").filter(|id| !user.faces.contains(id)).count();
        // UPDATING after a successful association [real] (§6.3, §6.5).
        if added > 0 && body.get("UserStatus").and_then(Value::as_str) != Some("UPDATING") {
            out.push(Mismatch {
                path: "UserStatus".into(),
                expected: "\"UPDATING\" (faces were associated)".into(),
                actual: body.get("UserStatus").map_or_else(|| "absent".into(), crate::expect::render),
            });
        }
        // At most `faces_per_user` faces per user (§6.3, §7).
        if user.faces.len() + added > model.config.faces_per_user {
            out.push(Mismatch {
                path: "AssociatedFaces".into(),
                expected: format!(
                    "at most {} more faces (the user holds {} of {})",
                    model.config.faces_per_user.saturating_sub(user.faces.len()),
                    user.faces.len(),
                    model.config.faces_per_user
                ),
                actual: format!("{added} associated"),
            });
        }
    }
    out
}

/// The FaceIds of the items of `list` in `body`.
fn strings_at<'a>(body: &'a Value, list: &str) -> impl Iterator<Item = String> + 'a {
    body.get(list)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|item| key_of(item, &["FaceId"]))
}

/// Whether `body` is the recorded response of this request's ClientRequestToken (§1.3):
/// a replay reflects the state of its first execution, not the current one.
pub(super) fn is_token_replay(model: &Model, request: &Request, body: &Value) -> bool {
    model.config.honour_tokens
        && request.client_request_token().and_then(|t| model.tokens.get(t)).is_some_and(|used| {
            used.op == request.operation()
                && used.fingerprint == Model::fingerprint(request)
                && crate::expect::json_eq(&used.body, body)
        })
}

/// IndexFaces' FaceRecords are sorted by bounding-box size, largest first (§6.2).
fn index_order(body: &Value) -> Vec<Mismatch> {
    let area = |record: &Value| {
        let b = record.get("Face")?.get("BoundingBox")?;
        Some(b.get("Width")?.as_f64()? * b.get("Height")?.as_f64()?)
    };
    let records = body.get("FaceRecords").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let areas: Vec<Option<f64>> = records.iter().map(area).collect();
    let mut out = Vec::new();
    for (i, pair) in areas.windows(2).enumerate() {
        if let [Some(a), Some(b)] = pair
            && b > a
        {
            out.push(Mismatch {
                path: format!("FaceRecords[{}].Face.BoundingBox", i + 1),
                expected: format!("records sorted by bounding-box size, largest first (area at most {a})"),
                actual: format!("area {b}"),
            });
        }
    }
    out
}

//! Planted bugs: each mutant makes the emulator diverge from the contract in one
//! plausible way, so the harness's power to notice divergence can be measured.
//!
//! Most mutants rewrite the realised outcome (with read access to the request and the
//! model's state before the call); a few bend the model's configuration, rewrite the
//! request the model sees, or change how answers are rendered on the wire. The
//! emulator's model then follows the mutant answer, so later calls stay consistent with
//! the bug, as a real buggy service would.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use crate::api::{ApiError, DeleteFacesRequest, ErrorCode, Request};
use crate::expect::Observed;
use crate::model::{Model, ModelConfig, Status};

/// Generates `Mutant` with its names and descriptions from one table.
macro_rules! mutants {
    (
        races { $($race:ident = $race_name:literal : $race_description:literal,)* }
        unsettled { $($soft:ident = $soft_name:literal : $soft_description:literal,)* }
        $($variant:ident = $name:literal : $description:literal,)*
    ) => {
        /// One planted bug (see `rekcon serve --list-mutants`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Mutant {$(
            #[doc = $description]
            $variant,
        )* $(
            #[doc = $race_description]
            $race,
        )* $(
            #[doc = $soft_description]
            $soft,
        )*}

        impl Mutant {
            /// Every mutant a sequence of calls can expose, in catalogue order.
            pub const ALL: &'static [Mutant] = &[$(Mutant::$variant),*];

            /// The planted races (`race-…`): only calls at once expose them
            /// (`rekcon fuzz --concurrency`); see [`super::race`].
            pub const RACES: &'static [Mutant] = &[$(Mutant::$race),*];

            /// Mutants that take an alternative the model allows for an unsettled point:
            /// only a settlement from a recording exposes them (`rekcon run --settlements`).
            pub const UNSETTLED: &'static [Mutant] = &[$(Mutant::$soft),*];

            /// The kebab-case name used on the command line.
            pub fn name(self) -> &'static str {
                match self {$(Mutant::$variant => $name,)* $(Mutant::$race => $race_name,)* $(Mutant::$soft => $soft_name,)*}
            }

            /// What the mutant gets wrong, in one line.
            pub fn description(self) -> &'static str {
                match self {$(Mutant::$variant => $description,)* $(Mutant::$race => $race_description,)* $(Mutant::$soft => $soft_description,)*}
            }
        }
    };
}

mutants! {
    races {
        RaceAssociateOwnerCheck = "race-associate-owner-check":
            "AssociateFaces checks a face's owner, waits, then acts on what it read: two at once can both take one face",
        RaceCreateUserTwice = "race-create-user-twice":
            "CreateUser checks that the UserId is free, waits, then creates: two at once with one UserId both succeed",
        RaceTokenRecordedLate = "race-token-recorded-late":
            "a ClientRequestToken is looked up before a call and recorded after it: the same token twice at once runs twice",
    }
    unsettled {
        SearchUsersShapeValidation = "search-users-shape-validation":
            "SearchUsers with both or neither of FaceId and UserId answers ValidationException (the model allows it; a settlement of unknown:search-users-query-shape may not)",
    }
    UserActiveAtOnce = "user-active-at-once":
        "AssociateFaces/DisassociateFaces answer UserStatus ACTIVE instead of UPDATING after a change",
    StealAssociatedFace = "steal-associated-face":
        "AssociateFaces silently moves a face owned by another user instead of reporting ASSOCIATED_TO_A_DIFFERENT_USER",
    Accept101stFace = "accept-101st-face":
        "AssociateFaces has no 100-faces-per-user limit",
    FaceNotFoundAsResourceNotFound = "face-not-found-as-resource-not-found":
        "any FACE_NOT_FOUND in Associate/DisassociateFaces fails the whole call with ResourceNotFoundException",
    SearchUsersIncludesSelf = "search-users-includes-self":
        "SearchUsers by UserId lists the searched user first, with Similarity 99.9",
    DeleteOwnedFace = "delete-owned-face":
        "DeleteFaces deletes faces associated with a user instead of refusing them",
    ArnPrefixOnCreate = "arn-prefix-on-create":
        "CreateCollection's CollectionArn starts with `arn:` (real AWS omits it there)",
    LowercaseMessage = "lowercase-message":
        "error bodies carry a lower-case `message` and no `Message`",
    Empty200ForError = "empty-200-for-error":
        "errors are answered as HTTP 200 with an empty body",
    IgnoreIdempotencyTokens = "ignore-idempotency-tokens":
        "ClientRequestToken is ignored: replays run again and mismatches are not reported",
    PaginationSkipsItem = "pagination-skips-item":
        "every continuation page of a List* call drops its first item",
    PaginationRepeatsItem = "pagination-repeats-item":
        "every continuation page of a List* call starts with the last item of the previous page",
    AssociateDefaultThreshold80 = "associate-default-threshold-80":
        "AssociateFaces' default UserMatchThreshold is 80 instead of 75",
    NullForAbsent = "null-for-absent":
        "absent optional members of success bodies are sent as null",
    WrongContentType = "wrong-content-type":
        "responses carry Content-Type application/json instead of application/x-amz-json-1.1",
    MissingErrorType = "missing-error-type":
        "error bodies carry only Message, no `__type` or `Code`",
    UnknownUserSearchNotFound = "unknown-user-search-not-found":
        "SearchUsers with an unknown UserId answers ResourceNotFoundException instead of InvalidParameterException",
    SameUserFaceReported = "same-user-face-reported":
        "AssociateFaces lists faces already on this user in AssociatedFaces again",
    DisassociateIgnoresUnknownFace = "disassociate-ignores-unknown-face":
        "DisassociateFaces drops FACE_NOT_FOUND entries instead of reporting them",
    DeleteUserDeletesFaces = "delete-user-deletes-faces":
        "DeleteUser deletes the user's faces instead of only disassociating them",
    UserCountAlwaysZero = "user-count-always-zero":
        "DescribeCollection reports UserCount 0 whatever the users",
    MaxResultsIgnored = "max-results-ignored":
        "ListCollections/ListFaces/ListUsers ignore MaxResults",
    DuplicateCollectionSucceeds = "duplicate-collection-succeeds":
        "CreateCollection on an existing id succeeds (and keeps the old collection) instead of ResourceAlreadyExistsException",
    NoFaceSearchUsersError = "no-face-search-users-error":
        "SearchUsersByImage with no face in the image answers InvalidParameterException instead of empty matches",
    OmitEmptyUnsuccessful = "omit-empty-unsuccessful":
        "AssociateFaces omits `UnsuccessfulFaceAssociations: []` when every face succeeded",
    StatusCodeMissing = "status-code-missing":
        "CreateCollection/DeleteCollection bodies lack the `StatusCode: 200` member",
    TimestampInMillis = "timestamp-in-millis":
        "DescribeCollection's CreationTimestamp is in epoch milliseconds (as its field doc says) instead of seconds",
    ListFacesDropsUserId = "list-faces-drops-user-id":
        "ListFaces omits Face.UserId for associated faces",
    DeleteFacesDropsCollection = "delete-faces-drops-collection":
        "DeleteFaces deletes the whole collection after deleting the faces asked for",
    // Misread inputs: constraints and filters no mutant above breaks.
    MaxUsers501Accepted = "max-users-501-accepted":
        "SearchUsers/SearchUsersByImage accept MaxUsers up to 501 (read as 500) instead of refusing it",
    ColonInCollectionId = "colon-in-collection-id":
        "a `:` in a CollectionId is accepted (read as `-`) instead of refused by the pattern",
    TagsUnchecked = "tags-unchecked":
        "CreateCollection ignores its Tags, so tags beyond their limits are accepted",
    UpperCaseFaceIdsAccepted = "upper-case-face-ids-accepted":
        "FaceIds with upper-case hex are accepted (read in lower case) instead of refused",
    ListFacesIgnoresFaceIds = "list-faces-ignores-face-ids":
        "ListFaces ignores its FaceIds filter and lists every face",
    S3ObjectUnchecked = "s3-object-unchecked":
        "Image.S3Object's Bucket, Name and Version are not validated (every S3 image fails as not found)",
}

impl Mutant {
    /// Looks a mutant up by its kebab-case name.
    pub fn from_name(name: &str) -> Option<Mutant> {
        Mutant::ALL.iter().chain(Mutant::RACES).chain(Mutant::UNSETTLED).copied().find(|m| m.name() == name)
    }

    /// Bends the server model's configuration, for mutants that are limits or defaults.
    pub(super) fn configure(self, config: &mut ModelConfig) {
        match self {
            Mutant::Accept101stFace => config.faces_per_user = usize::MAX,
            Mutant::AssociateDefaultThreshold80 => config.associate_default_threshold = 80.0,
            Mutant::IgnoreIdempotencyTokens => config.honour_tokens = false,
            _ => {}
        }
    }

    /// The request the model sees instead of `request`, for mutants that misread an
    /// input; `None` when this mutant reads it as sent.
    fn rewrite_request(self, request: &Request) -> Option<Request> {
        match (self, request) {
            (Mutant::MaxResultsIgnored, Request::ListCollections(r)) => {
                Some(Request::ListCollections(crate::api::ListCollectionsRequest {
                    max_results: None,
                    ..r.clone()
                }))
            }
            (Mutant::MaxResultsIgnored, Request::ListFaces(r)) => {
                Some(Request::ListFaces(crate::api::ListFacesRequest { max_results: None, ..r.clone() }))
            }
            (Mutant::MaxResultsIgnored, Request::ListUsers(r)) => {
                Some(Request::ListUsers(crate::api::ListUsersRequest { max_results: None, ..r.clone() }))
            }
            _ => misread(self, request),
        }
    }

    /// How this mutant renders answers on the wire, on top of `style`.
    fn restyle(self, style: &mut WireStyle) {
        match self {
            Mutant::LowercaseMessage => style.error = ErrorStyle::LowercaseMessage,
            Mutant::Empty200ForError => style.error = ErrorStyle::Empty200,
            Mutant::MissingErrorType => style.error = ErrorStyle::MessageOnly,
            Mutant::WrongContentType => style.content_type = "application/json",
            Mutant::NullForAbsent => style.null_for_absent = true,
            _ => {}
        }
    }
}

/// The request the model sees under the mutants that misread a constrained member or a
/// filter (`max-users-501-accepted` … `s3-object-unchecked`); `None` when it reads it as sent.
fn misread(mutant: Mutant, request: &Request) -> Option<Request> {
    use crate::api::{Image, S3Object};
    let lower =
        |ids: &Option<Vec<String>>| ids.as_ref().map(|ids| ids.iter().map(|i| i.to_lowercase()).collect());
    let sane_s3 = |image: &Option<Image>| {
        image.as_ref().map(|i| Image {
            s3_object: i.s3_object.as_ref().map(|_| S3Object {
                bucket: Some("rekcon-misread-bucket".into()),
                name: Some("misread.png".into()),
                version: None,
            }),
            ..i.clone()
        })
    };
    let mut out = request.clone();
    match (mutant, &mut out) {
        (Mutant::MaxUsers501Accepted, Request::SearchUsers(r)) if r.max_users == Some(501) => {
            r.max_users = Some(500)
        }
        (Mutant::MaxUsers501Accepted, Request::SearchUsersByImage(r)) if r.max_users == Some(501) => {
            r.max_users = Some(500);
        }
        (Mutant::ColonInCollectionId, _) if request.collection_id().is_some_and(|c| c.contains(':')) => {
            let fixed = request.collection_id().unwrap_or_default().replace(':', "-");
            let mut json = request.to_json();
            json["CollectionId"] = Value::String(fixed);
            return Request::from_json(request.operation(), &json).ok();
        }
        (Mutant::TagsUnchecked, Request::CreateCollection(r)) if r.tags.is_some() => r.tags = None,
        (Mutant::UpperCaseFaceIdsAccepted, Request::ListFaces(r)) => r.face_ids = lower(&r.face_ids),
        (Mutant::UpperCaseFaceIdsAccepted, Request::DeleteFaces(r)) => r.face_ids = lower(&r.face_ids),
        (Mutant::UpperCaseFaceIdsAccepted, Request::AssociateFaces(r)) => r.face_ids = lower(&r.face_ids),
        (Mutant::UpperCaseFaceIdsAccepted, Request::DisassociateFaces(r)) => r.face_ids = lower(&r.face_ids),
        (Mutant::ListFacesIgnoresFaceIds, Request::ListFaces(r)) if r.face_ids.is_some() => r.face_ids = None,
        (Mutant::S3ObjectUnchecked, Request::IndexFaces(r)) => r.image = sane_s3(&r.image),
        (Mutant::S3ObjectUnchecked, Request::SearchFacesByImage(r)) => r.image = sane_s3(&r.image),
        (Mutant::S3ObjectUnchecked, Request::SearchUsersByImage(r)) => r.image = sane_s3(&r.image),
        _ => return None,
    }
    (out != *request).then_some(out)
}

/// How answers are rendered with every one of `mutants` planted (later ones win where
/// two bend the same thing, e.g. two error shapes).
pub(super) fn style(mutants: &[Mutant]) -> WireStyle {
    let mut style = WireStyle::default();
    for m in mutants {
        m.restyle(&mut style);
    }
    style
}

/// The request the model sees with every one of `mutants` planted, in order; `None`
/// when none of them misreads it.
pub(super) fn rewrite_request(mutants: &[Mutant], request: &Request) -> Option<Request> {
    let mut out: Option<Request> = None;
    for m in mutants {
        if let Some(r) = m.rewrite_request(out.as_ref().unwrap_or(request)) {
            out = Some(r);
        }
    }
    out
}

/// Applies every one of `mutants`, in order, to the realised outcome of `request`; each
/// mutates what the previous one answered. The model follows the first mutant that
/// chose what it follows (only `duplicate-collection-succeeds` does), else the answer.
pub(super) fn transform_all(
    mutants: &[Mutant],
    request: &Request,
    model: &Model,
    realised: Observed,
    memory: &mut Memory,
) -> Outcome {
    let mut outcome = Outcome::same(realised);
    for m in mutants {
        let next = transform(*m, request, model, outcome.answer, memory);
        outcome.answer = next.answer;
        outcome.follow = outcome.follow.or(next.follow);
        outcome.extra.extend(next.extra);
    }
    outcome
}

/// How error bodies are shaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum ErrorStyle {
    /// `{"__type", "Code", "Message"}` with the code's HTTP status.
    #[default]
    Standard,
    /// `{"__type", "Code", "message"}`.
    LowercaseMessage,
    /// HTTP 200 and an empty body.
    Empty200,
    /// `{"Message"}` only.
    MessageOnly,
}

/// Rendering choices for one server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct WireStyle {
    pub(super) content_type: &'static str,
    pub(super) error: ErrorStyle,
    pub(super) null_for_absent: bool,
}

impl Default for WireStyle {
    fn default() -> Self {
        WireStyle {
            content_type: super::wire::CONTENT_TYPE,
            error: ErrorStyle::Standard,
            null_for_absent: false,
        }
    }
}

/// What a mutant remembers between calls (the last item of each issued page).
#[derive(Debug, Default)]
pub(super) struct Memory {
    page_tails: HashMap<String, (Value, Option<Value>)>,
}

/// What the emulator answers, and what its model follows.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Outcome {
    /// The answer sent on the wire.
    pub(super) answer: Observed,
    /// What the model advances along, when not the answer itself (rarely: cloning an
    /// IndexFaces answer on every call would cost more than the rest of the call).
    pub(super) follow: Option<Observed>,
    /// Further state changes to follow, as (request, outcome) pairs.
    pub(super) extra: Vec<(Request, Observed)>,
}

impl Outcome {
    fn same(answer: Observed) -> Outcome {
        Outcome { answer, follow: None, extra: Vec::new() }
    }
}

fn error(code: ErrorCode) -> Observed {
    Observed::Error(ApiError { code, message: None })
}

fn array_mut<'a>(body: &'a mut Value, member: &str) -> Option<&'a mut Vec<Value>> {
    body.get_mut(member).and_then(Value::as_array_mut)
}

fn has_reason(item: &Value, reason: &str) -> bool {
    item.get("Reasons").and_then(Value::as_array).is_some_and(|rs| rs.iter().any(|r| r == reason))
}

/// The items member and its parallel member of a List* response.
fn page_members(request: &Request) -> Option<(&'static str, Option<&'static str>, Option<&str>)> {
    match request {
        Request::ListCollections(r) => {
            Some(("CollectionIds", Some("FaceModelVersions"), r.next_token.as_deref()))
        }
        Request::ListFaces(r) => Some(("Faces", None, r.next_token.as_deref())),
        Request::ListUsers(r) => Some(("Users", None, r.next_token.as_deref())),
        _ => None,
    }
}

/// Applies `mutant` to the realised outcome of `request`; `model` is the state before the call.
fn transform(
    mutant: Mutant,
    request: &Request,
    model: &Model,
    realised: Observed,
    memory: &mut Memory,
) -> Outcome {
    let collection = request.collection_id().unwrap_or_default();
    let state = model.collections().get(collection);
    match (mutant, realised) {
        (Mutant::UserActiveAtOnce, Observed::Success(mut body))
            if matches!(request, Request::AssociateFaces(_) | Request::DisassociateFaces(_)) =>
        {
            if body.get("UserStatus").is_some_and(|s| s == "UPDATING") {
                body["UserStatus"] = json!("ACTIVE");
            }
            Outcome::same(Observed::Success(body))
        }
        (Mutant::StealAssociatedFace, Observed::Success(mut body))
            if matches!(request, Request::AssociateFaces(_)) =>
        {
            let mut stolen = Vec::new();
            if let Some(failed) = array_mut(&mut body, "UnsuccessfulFaceAssociations") {
                failed.retain(|item| {
                    if has_reason(item, "ASSOCIATED_TO_A_DIFFERENT_USER")
                        && let Some(id) = item.get("FaceId")
                    {
                        stolen.push(json!({"FaceId": id}));
                        return false;
                    }
                    true
                });
            }
            if !stolen.is_empty() {
                match array_mut(&mut body, "AssociatedFaces") {
                    Some(list) => list.extend(stolen),
                    None => body["AssociatedFaces"] = Value::Array(stolen),
                }
                body["UserStatus"] = json!("UPDATING");
            }
            Outcome::same(Observed::Success(body))
        }
        (Mutant::FaceNotFoundAsResourceNotFound, Observed::Success(body)) => {
            let list = match request {
                Request::AssociateFaces(_) => "UnsuccessfulFaceAssociations",
                Request::DisassociateFaces(_) => "UnsuccessfulFaceDisassociations",
                _ => return Outcome::same(Observed::Success(body)),
            };
            let not_found = body
                .get(list)
                .and_then(Value::as_array)
                .is_some_and(|l| l.iter().any(|i| has_reason(i, "FACE_NOT_FOUND")));
            if not_found {
                Outcome::same(error(ErrorCode::ResourceNotFoundException))
            } else {
                Outcome::same(Observed::Success(body))
            }
        }
        (Mutant::SearchUsersIncludesSelf, Observed::Success(mut body)) => {
            if let Request::SearchUsers(r) = request
                && let Some(uid) = r.user_id.as_deref()
            {
                let status = match state.and_then(|c| c.users.get(uid)).map(|u| &u.status) {
                    Some(Status::Created) => "CREATED".to_string(),
                    Some(Status::Settled(s)) => s.clone(),
                    _ => "ACTIVE".to_string(),
                };
                let me = json!({"Similarity": 99.9, "User": {"UserId": uid, "UserStatus": status}});
                match array_mut(&mut body, "UserMatches") {
                    Some(list) => list.insert(0, me),
                    None => body["UserMatches"] = json!([me]),
                }
            }
            Outcome::same(Observed::Success(body))
        }
        (Mutant::DeleteOwnedFace, Observed::Success(mut body))
            if matches!(request, Request::DeleteFaces(_)) =>
        {
            let mut deleted = Vec::new();
            if let Some(failed) = array_mut(&mut body, "UnsuccessfulFaceDeletions") {
                failed.retain(|item| {
                    if has_reason(item, "ASSOCIATED_TO_AN_EXISTING_USER")
                        && let Some(id) = item.get("FaceId")
                    {
                        deleted.push(id.clone());
                        return false;
                    }
                    true
                });
            }
            if !deleted.is_empty() {
                match array_mut(&mut body, "DeletedFaces") {
                    Some(list) => list.extend(deleted),
                    None => body["DeletedFaces"] = Value::Array(deleted),
                }
            }
            Outcome::same(Observed::Success(body))
        }
        (Mutant::ArnPrefixOnCreate, Observed::Success(mut body))
            if matches!(request, Request::CreateCollection(_)) =>
        {
            if let Some(arn) = body.get("CollectionArn").and_then(Value::as_str)
                && !arn.starts_with("arn:")
            {
                body["CollectionArn"] = json!(format!("arn:{arn}"));
            }
            Outcome::same(Observed::Success(body))
        }
        (Mutant::PaginationSkipsItem, Observed::Success(mut body)) => {
            if let Some((items, parallel, Some(_))) = page_members(request) {
                for member in std::iter::once(items).chain(parallel) {
                    if let Some(list) = array_mut(&mut body, member)
                        && !list.is_empty()
                    {
                        list.remove(0);
                    }
                }
            }
            Outcome::same(Observed::Success(body))
        }
        (Mutant::PaginationRepeatsItem, Observed::Success(mut body)) => {
            if let Some((items, parallel, token)) = page_members(request) {
                if let Some((item, twin)) = token.and_then(|t| memory.page_tails.get(t)) {
                    if let Some(list) = array_mut(&mut body, items) {
                        list.insert(0, item.clone());
                    }
                    if let (Some(member), Some(twin)) = (parallel, twin)
                        && let Some(list) = array_mut(&mut body, member)
                    {
                        list.insert(0, twin.clone());
                    }
                }
                let next = body.get("NextToken").and_then(Value::as_str).map(str::to_string);
                let last = body.get(items).and_then(Value::as_array).and_then(|l| l.last()).cloned();
                if let (Some(next), Some(last)) = (next, last) {
                    let twin = parallel
                        .and_then(|m| body.get(m))
                        .and_then(Value::as_array)
                        .and_then(|l| l.last())
                        .cloned();
                    memory.page_tails.insert(next, (last, twin));
                }
            }
            Outcome::same(Observed::Success(body))
        }
        (Mutant::SearchUsersShapeValidation, Observed::Error(e))
            if matches!(request, Request::SearchUsers(r) if r.face_id.is_some() == r.user_id.is_some())
                && e.code == ErrorCode::InvalidParameterException =>
        {
            Outcome::same(error(ErrorCode::ValidationException))
        }
        (Mutant::UnknownUserSearchNotFound, Observed::Error(e)) => {
            let unknown_user = match request {
                Request::SearchUsers(r) => {
                    r.user_id.as_deref().is_some_and(|u| state.is_some_and(|c| !c.users.contains_key(u)))
                }
                _ => false,
            };
            if unknown_user && e.code == ErrorCode::InvalidParameterException {
                Outcome::same(error(ErrorCode::ResourceNotFoundException))
            } else {
                Outcome::same(Observed::Error(e))
            }
        }
        (Mutant::SameUserFaceReported, Observed::Success(mut body)) => {
            if let Request::AssociateFaces(r) = request
                && let (Some(c), Some(uid)) = (state, r.user_id.as_deref())
            {
                let mine: Vec<Value> = r
                    .face_ids
                    .iter()
                    .flatten()
                    .filter(|id| c.faces.get(*id).is_some_and(|f| f.user.as_deref() == Some(uid)))
                    .map(|id| json!({"FaceId": id}))
                    .collect();
                if !mine.is_empty() {
                    match array_mut(&mut body, "AssociatedFaces") {
                        Some(list) => list.extend(mine),
                        None => body["AssociatedFaces"] = Value::Array(mine),
                    }
                }
            }
            Outcome::same(Observed::Success(body))
        }
        (Mutant::DisassociateIgnoresUnknownFace, Observed::Success(mut body))
            if matches!(request, Request::DisassociateFaces(_)) =>
        {
            if let Some(failed) = array_mut(&mut body, "UnsuccessfulFaceDisassociations") {
                failed.retain(|item| !has_reason(item, "FACE_NOT_FOUND"));
            }
            Outcome::same(Observed::Success(body))
        }
        (Mutant::DeleteUserDeletesFaces, Observed::Success(body)) => {
            let mut outcome = Outcome::same(Observed::Success(body));
            if let Request::DeleteUser(r) = request
                && let Some(user) = state.and_then(|c| c.users.get(r.user_id.as_deref().unwrap_or_default()))
                && !user.faces.is_empty()
            {
                let ids: Vec<String> = user.faces.iter().cloned().collect();
                let delete = DeleteFacesRequest {
                    collection_id: Some(collection.to_string()),
                    face_ids: Some(ids.clone()),
                };
                outcome
                    .extra
                    .push((Request::DeleteFaces(delete), Observed::Success(json!({"DeletedFaces": ids}))));
            }
            outcome
        }
        (Mutant::DeleteFacesDropsCollection, Observed::Success(body))
            if matches!(request, Request::DeleteFaces(_)) =>
        {
            let mut outcome = Outcome::same(Observed::Success(body));
            let delete = crate::api::DeleteCollectionRequest { collection_id: Some(collection.to_string()) };
            outcome
                .extra
                .push((Request::DeleteCollection(delete), Observed::Success(json!({"StatusCode": 200}))));
            outcome
        }
        (Mutant::UserCountAlwaysZero, Observed::Success(mut body))
            if matches!(request, Request::DescribeCollection(_)) =>
        {
            body["UserCount"] = json!(0);
            Outcome::same(Observed::Success(body))
        }
        (Mutant::DuplicateCollectionSucceeds, Observed::Error(e))
            if e.code == ErrorCode::ResourceAlreadyExistsException =>
        {
            let version = state.and_then(|c| c.face_model_version.clone()).unwrap_or_else(|| "7.0".into());
            let config = model.config();
            let arn = format!(
                "aws:rekognition:{}:{}:collection/{collection}",
                config.region.as_deref().unwrap_or("us-east-1"),
                config.account.as_deref().unwrap_or("123456789012")
            );
            let answer = Observed::Success(
                json!({"StatusCode": 200, "CollectionArn": arn, "FaceModelVersion": version}),
            );
            // The old collection is kept: the model follows the error, i.e. no change.
            Outcome { answer, follow: Some(Observed::Error(e)), extra: Vec::new() }
        }
        (Mutant::NoFaceSearchUsersError, Observed::Success(body))
            if matches!(request, Request::SearchUsersByImage(_)) && body.get("SearchedFace").is_none() =>
        {
            Outcome::same(error(ErrorCode::InvalidParameterException))
        }
        (Mutant::OmitEmptyUnsuccessful, Observed::Success(mut body)) => {
            if let Some(map) = body.as_object_mut()
                && map
                    .get("UnsuccessfulFaceAssociations")
                    .and_then(Value::as_array)
                    .is_some_and(Vec::is_empty)
            {
                map.remove("UnsuccessfulFaceAssociations");
            }
            Outcome::same(Observed::Success(body))
        }
        (Mutant::StatusCodeMissing, Observed::Success(mut body))
            if matches!(request, Request::CreateCollection(_) | Request::DeleteCollection(_)) =>
        {
            if let Some(map) = body.as_object_mut() {
                map.remove("StatusCode");
            }
            Outcome::same(Observed::Success(body))
        }
        (Mutant::TimestampInMillis, Observed::Success(mut body))
            if matches!(request, Request::DescribeCollection(_)) =>
        {
            if let Some(t) = body.get("CreationTimestamp").and_then(Value::as_f64) {
                body["CreationTimestamp"] = crate::expect::number((t * 1000.0).round());
            }
            Outcome::same(Observed::Success(body))
        }
        (Mutant::ListFacesDropsUserId, Observed::Success(mut body))
            if matches!(request, Request::ListFaces(_)) =>
        {
            for face in array_mut(&mut body, "Faces").into_iter().flatten() {
                if let Some(map) = face.as_object_mut() {
                    map.remove("UserId");
                }
            }
            Outcome::same(Observed::Success(body))
        }
        (_, realised) => Outcome::same(realised),
    }
}

/// Adds `null` for every top-level output member the body lacks (the `null-for-absent` mutant).
pub(super) fn nulls_for_absent(members: &[&str], body: &mut Map<String, Value>) {
    for member in members {
        body.entry(member.to_string()).or_insert(Value::Null);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_kebab_case_and_round_trip() {
        assert!(Mutant::ALL.len() >= 22);
        let mut names: Vec<_> = Mutant::ALL.iter().map(|m| m.name()).collect();
        for (m, name) in Mutant::ALL.iter().zip(&names) {
            assert_eq!(Mutant::from_name(name), Some(*m));
            assert!(
                name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{name}"
            );
            assert!(!m.description().is_empty() && !m.description().contains('\n'));
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Mutant::ALL.len());
        assert_eq!(Mutant::from_name("no-such-bug"), None);
    }
}

//! The contract's unsettled points.
//!
//! Every allowance the reference model makes because a fact is `[unknown]` in the
//! contract reference carries one of these tags. Reports list the tags a run touched
//! as "unsettled: needs a real-AWS recording", so one live capture can turn an
//! allowance into an assertion.

use serde::Serialize;

/// One unsettled fact of the contract; the model allows every plausible outcome for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(into = "&'static str")]
pub enum Unknown {
    /// Syntactic violations may surface as ValidationException or InvalidParameterException (contract §2).
    ValidationErrorType,
    /// A user at 100 faces: ServiceQuotaExceededException or in-band unsuccessful entries (§6.5, §9.11).
    FaceLimitOverflow,
    /// AssociateFaces/DisassociateFaces that change nothing: which UserStatus is reported (§6.5).
    StatusWhenUnchanged,
    /// Whether a user whose last face is removed goes back to CREATED (§6.3).
    StatusAfterLastFaceRemoved,
    /// `CREATING` is in the enum but never described; it may appear right after CreateUser (§3).
    CreatingStatus,
    /// The same FaceId twice in one AssociateFaces/DisassociateFaces/DeleteFaces call (§6.5).
    DuplicateFaceIds,
    /// DeleteFaces where nothing was deleted: `DeletedFaces: []` or the member omitted (§6.2).
    DeleteFacesAllFailed,
    /// ListFaces filtered by a UserId that does not exist: error or empty list (§6.2).
    ListFacesUnknownUser,
    /// ListFaces filtered by FaceIds none of which exist: error or empty list (§6.2).
    ListFacesUnknownFaceIds,
    /// SearchUsers with both or neither of FaceId and UserId (§6.7).
    SearchUsersQueryShape,
    /// SearchUsers by a FaceId that is not in the collection (§6.7, inferred).
    SearchUsersUnknownFace,
    /// Whether SearchFaces lists the searched face itself among the matches (§6.2).
    SearchFacesSelfMatch,
    /// MaxResults 0 on ListCollections/ListFaces, which PageSize allows (§9.12).
    PageSizeZero,
    /// Idempotency token replayed after the resource changed, or after an error (§1.3).
    TokenReplay,
    /// Idempotency token reused on another operation or collection (§1.3).
    TokenScope,
    /// A pagination token used with another operation, collection or filter (§5.2).
    ForeignPaginationToken,
    /// Which UserStatus a never-associated user shows in SearchUsers matches (§6.3).
    MixedUserSimilarity,
    /// The error for an image that is not PNG or JPEG, or holds no decodable picture (§8).
    ImageErrorType,
    /// ThrottlingException may be 400 or 5xx (§1.2, §9.16).
    ThrottlingStatus,
    /// `Code` and `Logref` are optional members of error bodies (§1.1, §9.17).
    ErrorBodyMembers,
    /// Indexing the same image again with the same ExternalImageId: new faces or the stored ones (§6.2).
    ReindexSameImage,
    /// A request body too large for the front end: RequestEntityTooLargeException (HTTP 413)
    /// before any validation, or the image error (§2, inferred).
    RequestEntityTooLarge,
}

impl Unknown {
    /// Every tag, in a stable order, for listings and coverage.
    pub const ALL: [Unknown; 22] = [
        Unknown::ValidationErrorType,
        Unknown::FaceLimitOverflow,
        Unknown::StatusWhenUnchanged,
        Unknown::StatusAfterLastFaceRemoved,
        Unknown::CreatingStatus,
        Unknown::DuplicateFaceIds,
        Unknown::DeleteFacesAllFailed,
        Unknown::ListFacesUnknownUser,
        Unknown::ListFacesUnknownFaceIds,
        Unknown::SearchUsersQueryShape,
        Unknown::SearchUsersUnknownFace,
        Unknown::SearchFacesSelfMatch,
        Unknown::PageSizeZero,
        Unknown::TokenReplay,
        Unknown::TokenScope,
        Unknown::ForeignPaginationToken,
        Unknown::MixedUserSimilarity,
        Unknown::ImageErrorType,
        Unknown::ThrottlingStatus,
        Unknown::ErrorBodyMembers,
        Unknown::ReindexSameImage,
        Unknown::RequestEntityTooLarge,
    ];

    /// The stable tag reports print, such as `unknown:validation-error-type`.
    pub fn tag(self) -> &'static str {
        match self {
            Unknown::ValidationErrorType => "unknown:validation-error-type",
            Unknown::FaceLimitOverflow => "unknown:face-limit-overflow",
            Unknown::StatusWhenUnchanged => "unknown:status-when-unchanged",
            Unknown::StatusAfterLastFaceRemoved => "unknown:status-after-last-face-removed",
            Unknown::CreatingStatus => "unknown:creating-status",
            Unknown::DuplicateFaceIds => "unknown:duplicate-face-ids",
            Unknown::DeleteFacesAllFailed => "unknown:delete-faces-all-failed",
            Unknown::ListFacesUnknownUser => "unknown:list-faces-unknown-user",
            Unknown::ListFacesUnknownFaceIds => "unknown:list-faces-unknown-face-ids",
            Unknown::SearchUsersQueryShape => "unknown:search-users-query-shape",
            Unknown::SearchUsersUnknownFace => "unknown:search-users-unknown-face",
            Unknown::SearchFacesSelfMatch => "unknown:search-faces-self-match",
            Unknown::PageSizeZero => "unknown:page-size-zero",
            Unknown::TokenReplay => "unknown:token-replay",
            Unknown::TokenScope => "unknown:token-scope",
            Unknown::ForeignPaginationToken => "unknown:foreign-pagination-token",
            Unknown::MixedUserSimilarity => "unknown:mixed-user-similarity",
            Unknown::ImageErrorType => "unknown:image-error-type",
            Unknown::ThrottlingStatus => "unknown:throttling-status",
            Unknown::ErrorBodyMembers => "unknown:error-body-members",
            Unknown::ReindexSameImage => "unknown:reindex-same-image",
            Unknown::RequestEntityTooLarge => "unknown:request-entity-too-large",
        }
    }

    /// The question a real-AWS recording would answer.
    pub fn question(self) -> &'static str {
        match self {
            Unknown::ValidationErrorType => {
                "is a length/pattern/range violation a ValidationException or an InvalidParameterException?"
            }
            Unknown::FaceLimitOverflow => {
                "what does AssociateFaces return when the user would exceed 100 faces?"
            }
            Unknown::StatusWhenUnchanged => {
                "which UserStatus does an Associate/DisassociateFaces that changes nothing return?"
            }
            Unknown::StatusAfterLastFaceRemoved => {
                "does a user whose last face is disassociated return to CREATED?"
            }
            Unknown::CreatingStatus => "does UserStatus CREATING ever appear, and when?",
            Unknown::DuplicateFaceIds => "how is the same FaceId twice in one request treated?",
            Unknown::DeleteFacesAllFailed => {
                "does DeleteFaces with nothing deleted send DeletedFaces: [] or omit it?"
            }
            Unknown::ListFacesUnknownUser => {
                "does ListFaces with an unknown UserId filter fail or return an empty list?"
            }
            Unknown::ListFacesUnknownFaceIds => {
                "does ListFaces with unknown FaceIds filter fail or return an empty list?"
            }
            Unknown::SearchUsersQueryShape => {
                "which error does SearchUsers give with both or neither of FaceId and UserId?"
            }
            Unknown::SearchUsersUnknownFace => {
                "which error does SearchUsers give for a FaceId that is not in the collection?"
            }
            Unknown::SearchFacesSelfMatch => "does SearchFaces ever list the searched face?",
            Unknown::PageSizeZero => "what does MaxResults 0 return on ListCollections/ListFaces?",
            Unknown::TokenReplay => {
                "what does a replayed ClientRequestToken return after the resource changed or the first call failed?"
            }
            Unknown::TokenScope => "is a ClientRequestToken scoped per operation, collection or user?",
            Unknown::ForeignPaginationToken => {
                "what happens when a NextToken is used with another operation, collection or filter?"
            }
            Unknown::MixedUserSimilarity => {
                "how similar is a face to a user whose faces show different people?"
            }
            Unknown::ImageErrorType => {
                "which error does an image that is not a readable PNG/JPEG, or holds no face, give?"
            }
            Unknown::ThrottlingStatus => "is ThrottlingException sent with HTTP 400 or 5xx?",
            Unknown::ErrorBodyMembers => "do error bodies carry Code and Logref?",
            Unknown::ReindexSameImage => {
                "does indexing the same image with the same ExternalImageId again store new faces or return the stored ones?"
            }
            Unknown::RequestEntityTooLarge => {
                "does a request body carrying an over-large image get RequestEntityTooLargeException (HTTP 413) from the front end, and above which size?"
            }
        }
    }
}

impl From<Unknown> for &'static str {
    fn from(unknown: Unknown) -> Self {
        unknown.tag()
    }
}

impl std::fmt::Display for Unknown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.tag())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_unique_and_prefixed() {
        let tags: std::collections::BTreeSet<_> = Unknown::ALL.iter().map(|u| u.tag()).collect();
        assert_eq!(tags.len(), Unknown::ALL.len());
        assert!(tags.iter().all(|t| t.starts_with("unknown:")));
        assert!(Unknown::ALL.iter().all(|u| u.question().ends_with('?')));
    }
}

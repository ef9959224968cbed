//! The API's own vocabulary: typed requests, responses and error codes for the 16 Amazon
//! Rekognition collection, face and user operations, with their `awsJson1_1` wire codec.
//!
//! Shapes and member names follow the botocore model `rekognition/2016-06-27` exactly. This
//! module never imports the AWS SDK, so the harness can describe what the service is supposed to
//! accept and return independently of any client. Every member is an `Option` (required ones
//! too) so that missing, out-of-range and otherwise invalid inputs stay representable.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, OnceLock};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::image::ImageFace;

/// A JSON body that does not fit the shape of an operation's input or output.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DecodeError {
    /// Human-readable reason, naming the offending member where there is one.
    pub message: String,
}

impl DecodeError {
    /// Builds an error from any message.
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into() }
    }
}

/// Binary payload (`Image.Bytes`) carried as padded standard base64 on the wire.
///
/// `Debug` prints only the length so that image bytes never end up in logs. What the
/// model reads of an image (its digest, the faces its marker declares) is computed once
/// and kept, clones included: the checker and the emulator each read it several times
/// per IndexFaces call, and hashing and parsing again each time was most of that call's
/// cost. Equality and hashing look at the bytes only.
#[derive(Clone, Default)]
pub struct Blob {
    bytes: Vec<u8>,
    /// Shared by clones; one pointer, so requests stay small.
    facts: OnceLock<Arc<ImageFacts>>,
}

/// What the model reads of an image, worked out together on first use.
#[derive(Debug)]
struct ImageFacts {
    digest: String,
    faces: Vec<ImageFace>,
}

impl Blob {
    /// Wraps raw bytes.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self { bytes: bytes.into(), facts: OnceLock::new() }
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Unwraps the raw bytes.
    pub fn into_inner(self) -> Vec<u8> {
        self.bytes
    }

    /// Number of raw (decoded) bytes; this is what the 5 MiB image limit applies to.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the blob holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The bytes' digest, as [`crate::image::digest`] gives it (computed on first use).
    pub fn digest(&self) -> &str {
        &self.facts().digest
    }

    /// The faces the bytes hold, as [`crate::image::faces_in`] reads them (on first use).
    pub fn faces(&self) -> &[ImageFace] {
        &self.facts().faces
    }

    fn facts(&self) -> &ImageFacts {
        self.facts.get_or_init(|| {
            let digest = crate::image::digest(&self.bytes);
            let faces = crate::image::faces_given(&self.bytes, &digest);
            Arc::new(ImageFacts { digest, faces })
        })
    }

    /// The wire form: padded standard base64.
    pub fn to_base64(&self) -> String {
        BASE64.encode(&self.bytes)
    }

    /// Parses the wire form (padded standard base64).
    pub fn from_base64(text: &str) -> Result<Self, DecodeError> {
        BASE64.decode(text).map(Self::new).map_err(|e| DecodeError::new(format!("invalid base64: {e}")))
    }
}

impl PartialEq for Blob {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}

impl Eq for Blob {}

impl std::hash::Hash for Blob {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.bytes.hash(state);
    }
}

impl fmt::Debug for Blob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Blob({} bytes)", self.bytes.len())
    }
}

impl From<Vec<u8>> for Blob {
    fn from(bytes: Vec<u8>) -> Self {
        Self::new(bytes)
    }
}

impl AsRef<[u8]> for Blob {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

impl Serialize for Blob {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_base64())
    }
}

impl<'de> Deserialize<'de> for Blob {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Blob::from_base64(&text).map_err(serde::de::Error::custom)
    }
}

// ---------------------------------------------------------------------------------------------
// Wire codec
// ---------------------------------------------------------------------------------------------

/// Location of a value inside a body, rendered like `Image.S3Object.Bucket` or `FaceIds[2]`.
#[derive(Clone, Copy)]
enum Path<'a> {
    Root,
    Member(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root => Ok(()),
            Path::Member(Path::Root, name) => f.write_str(name),
            Path::Member(parent, name) => write!(f, "{parent}.{name}"),
            Path::Index(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

fn mismatch(expected: &str, path: &Path<'_>) -> DecodeError {
    DecodeError::new(format!("expected {expected} for member {path}"))
}

/// The `awsJson1_1` codec used by `from_json`/`to_json`.
///
/// Unlike plain serde it names the offending member in errors, treats `null` as absent, and
/// writes non-finite floats as the protocol's `"NaN"`, `"Infinity"` and `"-Infinity"` strings.
trait Wire: Sized {
    /// What the value must look like, for error messages ("a string").
    const EXPECTED: &'static str;
    fn decode(value: &Value, path: &Path<'_>) -> Result<Self, DecodeError>;
    fn encode(&self) -> Value;
    fn view(&self) -> Member<'_>;
}

/// A member's value whatever its type, as the constraint table reads it
/// (`crate::model::validate`): typed requests and JSON bodies give the same view.
#[derive(Clone)]
pub enum Member<'a> {
    /// A string.
    Str(&'a str),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// A blob, by its decoded length.
    Bytes(usize),
    /// A list.
    List(Vec<Member<'a>>),
    /// A map: its keys and values.
    Map(Vec<(&'a str, Member<'a>)>),
    /// A structure.
    Struct(&'a dyn Members),
}

/// A structure whose members can be read by wire name.
pub trait Members {
    /// The member named `name`, when present.
    fn member(&self, name: &str) -> Option<Member<'_>>;

    /// Every member, as (name, value): a JSON object read as a map (typed maps are
    /// [`Member::Map`]; typed structures need not list theirs).
    fn entries(&self) -> Vec<(&str, Member<'_>)> {
        Vec::new()
    }
}

/// Decodes one optional structure member; absent and `null` both mean `None`.
fn decode_member<T: Wire>(
    obj: &Map<String, Value>,
    path: &Path<'_>,
    name: &str,
) -> Result<Option<T>, DecodeError> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => T::decode(value, &Path::Member(path, name)).map(Some),
    }
}

impl Wire for String {
    const EXPECTED: &'static str = "a string";
    fn decode(value: &Value, path: &Path<'_>) -> Result<Self, DecodeError> {
        value.as_str().map(str::to_owned).ok_or_else(|| mismatch(Self::EXPECTED, path))
    }
    fn encode(&self) -> Value {
        Value::String(self.clone())
    }
    fn view(&self) -> Member<'_> {
        Member::Str(self)
    }
}

impl Wire for i64 {
    const EXPECTED: &'static str = "an integer";
    fn decode(value: &Value, path: &Path<'_>) -> Result<Self, DecodeError> {
        value.as_i64().ok_or_else(|| mismatch(Self::EXPECTED, path))
    }
    fn encode(&self) -> Value {
        Value::from(*self)
    }
    fn view(&self) -> Member<'_> {
        Member::Int(*self)
    }
}

impl Wire for f64 {
    const EXPECTED: &'static str = "a number";
    fn decode(value: &Value, path: &Path<'_>) -> Result<Self, DecodeError> {
        match value {
            Value::Number(n) => n.as_f64(),
            Value::String(s) if s == "NaN" => Some(f64::NAN),
            Value::String(s) if s == "Infinity" => Some(f64::INFINITY),
            Value::String(s) if s == "-Infinity" => Some(f64::NEG_INFINITY),
            _ => None,
        }
        .ok_or_else(|| mismatch(Self::EXPECTED, path))
    }
    fn encode(&self) -> Value {
        match serde_json::Number::from_f64(*self) {
            Some(n) => Value::Number(n),
            None if self.is_nan() => Value::from("NaN"),
            None if *self > 0.0 => Value::from("Infinity"),
            None => Value::from("-Infinity"),
        }
    }
    fn view(&self) -> Member<'_> {
        Member::Float(*self)
    }
}

impl Wire for bool {
    const EXPECTED: &'static str = "a boolean";
    fn decode(value: &Value, path: &Path<'_>) -> Result<Self, DecodeError> {
        value.as_bool().ok_or_else(|| mismatch(Self::EXPECTED, path))
    }
    fn encode(&self) -> Value {
        Value::Bool(*self)
    }
    fn view(&self) -> Member<'_> {
        Member::Bool(*self)
    }
}

impl Wire for Blob {
    const EXPECTED: &'static str = "a base64 string";
    fn decode(value: &Value, path: &Path<'_>) -> Result<Self, DecodeError> {
        let text = value.as_str().ok_or_else(|| mismatch(Self::EXPECTED, path))?;
        Blob::from_base64(text).map_err(|e| DecodeError::new(format!("{} for member {path}", e.message)))
    }
    fn encode(&self) -> Value {
        Value::String(self.to_base64())
    }
    fn view(&self) -> Member<'_> {
        Member::Bytes(self.len())
    }
}

impl<T: Wire> Wire for Vec<T> {
    const EXPECTED: &'static str = "an array";
    fn decode(value: &Value, path: &Path<'_>) -> Result<Self, DecodeError> {
        let items = value.as_array().ok_or_else(|| mismatch(Self::EXPECTED, path))?;
        items.iter().enumerate().map(|(i, item)| T::decode(item, &Path::Index(path, i))).collect()
    }
    fn encode(&self) -> Value {
        Value::Array(self.iter().map(Wire::encode).collect())
    }
    fn view(&self) -> Member<'_> {
        Member::List(self.iter().map(Wire::view).collect())
    }
}

impl<T: Wire> Wire for BTreeMap<String, T> {
    const EXPECTED: &'static str = "an object";
    fn decode(value: &Value, path: &Path<'_>) -> Result<Self, DecodeError> {
        let obj = value.as_object().ok_or_else(|| mismatch(Self::EXPECTED, path))?;
        obj.iter().map(|(k, v)| Ok((k.clone(), T::decode(v, &Path::Member(path, k))?))).collect()
    }
    fn encode(&self) -> Value {
        Value::Object(self.iter().map(|(k, v)| (k.clone(), v.encode())).collect())
    }
    fn view(&self) -> Member<'_> {
        Member::Map(self.iter().map(|(k, v)| (k.as_str(), v.view())).collect())
    }
}

/// Declares a wire structure: the struct (all members optional, serde-named by their exact wire
/// key), its `MEMBERS` list and its `Wire` codec, from one `field: Type = "WireName"` table.
macro_rules! wire_struct {
    ($(
        $(#[$meta:meta])*
        $name:ident { $($(#[$fmeta:meta])* $field:ident: $ty:ty = $wire:literal),* $(,)? }
    )*) => {$(
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        pub struct $name {$(
            #[doc = concat!("`", $wire, "` member.")]
            $(#[$fmeta])*
            #[serde(rename = $wire, default, skip_serializing_if = "Option::is_none")]
            pub $field: Option<$ty>,
        )*}

        impl $name {
            /// Exact top-level wire member names, in model order.
            pub const MEMBERS: &'static [&'static str] = &[$($wire),*];
        }

        impl Wire for $name {
            const EXPECTED: &'static str = "an object";
            #[allow(unused_variables)]
            fn decode(value: &Value, path: &Path<'_>) -> Result<Self, DecodeError> {
                let obj = value.as_object().ok_or_else(|| mismatch(Self::EXPECTED, path))?;
                Ok(Self { $($field: decode_member(obj, path, $wire)?,)* })
            }
            #[allow(unused_mut)]
            fn encode(&self) -> Value {
                let mut obj = Map::new();
                $(if let Some(v) = &self.$field {
                    obj.insert($wire.to_owned(), v.encode());
                })*
                Value::Object(obj)
            }
            fn view(&self) -> Member<'_> {
                Member::Struct(self)
            }
        }

        impl Members for $name {
            #[allow(unused_variables)]
            fn member(&self, name: &str) -> Option<Member<'_>> {
                match name {
                    $($wire => self.$field.as_ref().map(Wire::view),)*
                    _ => None,
                }
            }
        }
    )*};
}

// ---------------------------------------------------------------------------------------------
// Shared input structures
// ---------------------------------------------------------------------------------------------

wire_struct! {
    /// An input image: exactly one of inline `Bytes` or an `S3Object` is expected.
    Image {
        bytes: Blob = "Bytes",
        s3_object: S3Object = "S3Object",
    }
    /// Location of an input image in S3 (same region as the endpoint).
    S3Object {
        bucket: String = "Bucket",
        name: String = "Name",
        version: String = "Version",
    }
}

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

wire_struct! {
    /// Input of `CreateCollection`.
    CreateCollectionRequest {
        collection_id: String = "CollectionId",
        tags: BTreeMap<String, String> = "Tags",
    }
    /// Input of `DeleteCollection`.
    DeleteCollectionRequest {
        collection_id: String = "CollectionId",
    }
    /// Input of `DescribeCollection`.
    DescribeCollectionRequest {
        collection_id: String = "CollectionId",
    }
    /// Input of `ListCollections`.
    ListCollectionsRequest {
        next_token: String = "NextToken",
        max_results: i64 = "MaxResults",
    }
    /// Input of `IndexFaces`.
    IndexFacesRequest {
        collection_id: String = "CollectionId",
        image: Image = "Image",
        external_image_id: String = "ExternalImageId",
        /// `Attribute` enum values, kept as strings so invalid ones stay representable.
        detection_attributes: Vec<String> = "DetectionAttributes",
        max_faces: i64 = "MaxFaces",
        /// `QualityFilter` enum value, kept as a string.
        quality_filter: String = "QualityFilter",
    }
    /// Input of `ListFaces`.
    ListFacesRequest {
        collection_id: String = "CollectionId",
        next_token: String = "NextToken",
        max_results: i64 = "MaxResults",
        user_id: String = "UserId",
        face_ids: Vec<String> = "FaceIds",
    }
    /// Input of `DeleteFaces`.
    DeleteFacesRequest {
        collection_id: String = "CollectionId",
        face_ids: Vec<String> = "FaceIds",
    }
    /// Input of `SearchFaces`.
    SearchFacesRequest {
        collection_id: String = "CollectionId",
        face_id: String = "FaceId",
        max_faces: i64 = "MaxFaces",
        face_match_threshold: f64 = "FaceMatchThreshold",
    }
    /// Input of `SearchFacesByImage`.
    SearchFacesByImageRequest {
        collection_id: String = "CollectionId",
        image: Image = "Image",
        max_faces: i64 = "MaxFaces",
        face_match_threshold: f64 = "FaceMatchThreshold",
        /// `QualityFilter` enum value, kept as a string.
        quality_filter: String = "QualityFilter",
    }
    /// Input of `CreateUser`.
    CreateUserRequest {
        collection_id: String = "CollectionId",
        user_id: String = "UserId",
        /// Idempotency token.
        client_request_token: String = "ClientRequestToken",
    }
    /// Input of `DeleteUser`.
    DeleteUserRequest {
        collection_id: String = "CollectionId",
        user_id: String = "UserId",
        /// Idempotency token.
        client_request_token: String = "ClientRequestToken",
    }
    /// Input of `ListUsers`.
    ListUsersRequest {
        collection_id: String = "CollectionId",
        max_results: i64 = "MaxResults",
        next_token: String = "NextToken",
    }
    /// Input of `AssociateFaces`.
    AssociateFacesRequest {
        collection_id: String = "CollectionId",
        user_id: String = "UserId",
        face_ids: Vec<String> = "FaceIds",
        user_match_threshold: f64 = "UserMatchThreshold",
        /// Idempotency token.
        client_request_token: String = "ClientRequestToken",
    }
    /// Input of `DisassociateFaces`.
    DisassociateFacesRequest {
        collection_id: String = "CollectionId",
        user_id: String = "UserId",
        /// Idempotency token.
        client_request_token: String = "ClientRequestToken",
        face_ids: Vec<String> = "FaceIds",
    }
    /// Input of `SearchUsers`.
    SearchUsersRequest {
        collection_id: String = "CollectionId",
        user_id: String = "UserId",
        face_id: String = "FaceId",
        user_match_threshold: f64 = "UserMatchThreshold",
        max_users: i64 = "MaxUsers",
    }
    /// Input of `SearchUsersByImage`.
    SearchUsersByImageRequest {
        collection_id: String = "CollectionId",
        image: Image = "Image",
        user_match_threshold: f64 = "UserMatchThreshold",
        max_users: i64 = "MaxUsers",
        /// `QualityFilter` enum value, kept as a string.
        quality_filter: String = "QualityFilter",
    }
}

// ---------------------------------------------------------------------------------------------
// Nested output structures
// ---------------------------------------------------------------------------------------------

wire_struct! {
    /// Face location as ratios of the image width and height.
    BoundingBox {
        width: f64 = "Width",
        height: f64 = "Height",
        left: f64 = "Left",
        top: f64 = "Top",
    }
    /// A face stored in a collection.
    Face {
        face_id: String = "FaceId",
        bounding_box: BoundingBox = "BoundingBox",
        image_id: String = "ImageId",
        external_image_id: String = "ExternalImageId",
        confidence: f64 = "Confidence",
        index_faces_model_version: String = "IndexFacesModelVersion",
        /// Present only when the face is associated with a user.
        user_id: String = "UserId",
    }
    /// One indexed face (`IndexFaces`).
    FaceRecord {
        face: Face = "Face",
        face_detail: FaceDetail = "FaceDetail",
    }
    /// Detected facial attributes.
    FaceDetail {
        bounding_box: BoundingBox = "BoundingBox",
        age_range: AgeRange = "AgeRange",
        smile: Smile = "Smile",
        eyeglasses: Eyeglasses = "Eyeglasses",
        sunglasses: Sunglasses = "Sunglasses",
        gender: Gender = "Gender",
        beard: Beard = "Beard",
        mustache: Mustache = "Mustache",
        eyes_open: EyeOpen = "EyesOpen",
        mouth_open: MouthOpen = "MouthOpen",
        emotions: Vec<Emotion> = "Emotions",
        landmarks: Vec<Landmark> = "Landmarks",
        pose: Pose = "Pose",
        quality: ImageQuality = "Quality",
        confidence: f64 = "Confidence",
        face_occluded: FaceOccluded = "FaceOccluded",
        eye_direction: EyeDirection = "EyeDirection",
    }
    /// Estimated age range in years.
    AgeRange {
        low: i64 = "Low",
        high: i64 = "High",
    }
    /// Whether the face is smiling.
    Smile {
        value: bool = "Value",
        confidence: f64 = "Confidence",
    }
    /// Whether the face wears eyeglasses.
    Eyeglasses {
        value: bool = "Value",
        confidence: f64 = "Confidence",
    }
    /// Whether the face wears sunglasses.
    Sunglasses {
        value: bool = "Value",
        confidence: f64 = "Confidence",
    }
    /// Predicted gender presentation.
    Gender {
        /// `GenderType` enum value (`Male`, `Female`).
        value: String = "Value",
        confidence: f64 = "Confidence",
    }
    /// Whether the face has a beard.
    Beard {
        value: bool = "Value",
        confidence: f64 = "Confidence",
    }
    /// Whether the face has a mustache.
    Mustache {
        value: bool = "Value",
        confidence: f64 = "Confidence",
    }
    /// Whether the eyes are open (model shape `EyeOpen`, member `EyesOpen`).
    EyeOpen {
        value: bool = "Value",
        confidence: f64 = "Confidence",
    }
    /// Whether the mouth is open.
    MouthOpen {
        value: bool = "Value",
        confidence: f64 = "Confidence",
    }
    /// One detected emotion.
    Emotion {
        /// `EmotionName` enum value.
        kind: String = "Type",
        confidence: f64 = "Confidence",
    }
    /// One facial landmark, as ratios of the image size.
    Landmark {
        /// `LandmarkType` enum value.
        kind: String = "Type",
        x: f64 = "X",
        y: f64 = "Y",
    }
    /// Head pose in degrees.
    Pose {
        roll: f64 = "Roll",
        yaw: f64 = "Yaw",
        pitch: f64 = "Pitch",
    }
    /// Image quality of the face region (model shape `ImageQuality`, member `Quality`).
    ImageQuality {
        brightness: f64 = "Brightness",
        sharpness: f64 = "Sharpness",
    }
    /// Whether the face is partially occluded.
    FaceOccluded {
        value: bool = "Value",
        confidence: f64 = "Confidence",
    }
    /// Gaze direction in degrees.
    EyeDirection {
        yaw: f64 = "Yaw",
        pitch: f64 = "Pitch",
        confidence: f64 = "Confidence",
    }
    /// A face similar to the searched face (`SearchFaces*`).
    FaceMatch {
        similarity: f64 = "Similarity",
        face: Face = "Face",
    }
    /// A detected face that `IndexFaces` did not store.
    UnindexedFace {
        /// `Reason` enum values.
        reasons: Vec<String> = "Reasons",
        face_detail: FaceDetail = "FaceDetail",
    }
    /// A face newly associated with a user.
    AssociatedFace {
        face_id: String = "FaceId",
    }
    /// A face removed from a user.
    DisassociatedFace {
        face_id: String = "FaceId",
    }
    /// A face that `AssociateFaces` could not associate, and why.
    UnsuccessfulFaceAssociation {
        face_id: String = "FaceId",
        user_id: String = "UserId",
        confidence: f64 = "Confidence",
        /// `UnsuccessfulFaceAssociationReason` enum values.
        reasons: Vec<String> = "Reasons",
    }
    /// A face that `DisassociateFaces` could not disassociate, and why.
    UnsuccessfulFaceDisassociation {
        face_id: String = "FaceId",
        user_id: String = "UserId",
        /// `UnsuccessfulFaceDisassociationReason` enum values.
        reasons: Vec<String> = "Reasons",
    }
    /// A face that `DeleteFaces` could not delete, and why.
    UnsuccessfulFaceDeletion {
        face_id: String = "FaceId",
        user_id: String = "UserId",
        /// `UnsuccessfulFaceDeletionReason` enum values.
        reasons: Vec<String> = "Reasons",
    }
    /// A user listed by `ListUsers`.
    User {
        user_id: String = "UserId",
        /// `UserStatus` enum value.
        user_status: String = "UserStatus",
    }
    /// A user returned by a user search.
    MatchedUser {
        user_id: String = "UserId",
        /// `UserStatus` enum value.
        user_status: String = "UserStatus",
    }
    /// A user similar to the searched face or user.
    UserMatch {
        similarity: f64 = "Similarity",
        user: MatchedUser = "User",
    }
    /// The face searched by `SearchUsers`.
    SearchedFace {
        face_id: String = "FaceId",
    }
    /// The user searched by `SearchUsers`.
    SearchedUser {
        user_id: String = "UserId",
    }
    /// The face searched by `SearchUsersByImage` (in practice only its bounding box is filled).
    SearchedFaceDetails {
        face_detail: FaceDetail = "FaceDetail",
    }
    /// A face in the input image that `SearchUsersByImage` did not search.
    UnsearchedFace {
        /// Note the plural key holding a single `FaceDetail`.
        face_details: FaceDetail = "FaceDetails",
        /// `UnsearchedFaceReason` enum values.
        reasons: Vec<String> = "Reasons",
    }
}

// ---------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------

wire_struct! {
    /// Output of `CreateCollection`.
    CreateCollectionResponse {
        /// HTTP status echoed inside the body.
        status_code: i64 = "StatusCode",
        /// Observed without the `arn:` prefix.
        collection_arn: String = "CollectionArn",
        face_model_version: String = "FaceModelVersion",
    }
    /// Output of `DeleteCollection`.
    DeleteCollectionResponse {
        /// HTTP status echoed inside the body.
        status_code: i64 = "StatusCode",
    }
    /// Output of `DescribeCollection`.
    DescribeCollectionResponse {
        face_count: i64 = "FaceCount",
        face_model_version: String = "FaceModelVersion",
        /// Irregular casing `ARN`; observed with the `arn:` prefix.
        collection_arn: String = "CollectionARN",
        /// Epoch seconds with a fractional part.
        creation_timestamp: f64 = "CreationTimestamp",
        user_count: i64 = "UserCount",
    }
    /// Output of `ListCollections`.
    ListCollectionsResponse {
        collection_ids: Vec<String> = "CollectionIds",
        next_token: String = "NextToken",
        /// Parallel to `CollectionIds`, index by index.
        face_model_versions: Vec<String> = "FaceModelVersions",
    }
    /// Output of `IndexFaces`.
    IndexFacesResponse {
        face_records: Vec<FaceRecord> = "FaceRecords",
        /// `OrientationCorrection` enum value.
        orientation_correction: String = "OrientationCorrection",
        face_model_version: String = "FaceModelVersion",
        unindexed_faces: Vec<UnindexedFace> = "UnindexedFaces",
    }
    /// Output of `ListFaces`.
    ListFacesResponse {
        faces: Vec<Face> = "Faces",
        next_token: String = "NextToken",
        face_model_version: String = "FaceModelVersion",
    }
    /// Output of `DeleteFaces`.
    DeleteFacesResponse {
        deleted_faces: Vec<String> = "DeletedFaces",
        unsuccessful_face_deletions: Vec<UnsuccessfulFaceDeletion> = "UnsuccessfulFaceDeletions",
    }
    /// Output of `SearchFaces`.
    SearchFacesResponse {
        searched_face_id: String = "SearchedFaceId",
        face_matches: Vec<FaceMatch> = "FaceMatches",
        face_model_version: String = "FaceModelVersion",
    }
    /// Output of `SearchFacesByImage`.
    SearchFacesByImageResponse {
        searched_face_bounding_box: BoundingBox = "SearchedFaceBoundingBox",
        searched_face_confidence: f64 = "SearchedFaceConfidence",
        face_matches: Vec<FaceMatch> = "FaceMatches",
        face_model_version: String = "FaceModelVersion",
    }
    /// Output of `CreateUser` (empty).
    CreateUserResponse {}
    /// Output of `DeleteUser` (empty).
    DeleteUserResponse {}
    /// Output of `ListUsers`.
    ListUsersResponse {
        users: Vec<User> = "Users",
        next_token: String = "NextToken",
    }
    /// Output of `AssociateFaces`.
    AssociateFacesResponse {
        associated_faces: Vec<AssociatedFace> = "AssociatedFaces",
        unsuccessful_face_associations: Vec<UnsuccessfulFaceAssociation> =
            "UnsuccessfulFaceAssociations",
        /// `UserStatus` enum value.
        user_status: String = "UserStatus",
    }
    /// Output of `DisassociateFaces`.
    DisassociateFacesResponse {
        disassociated_faces: Vec<DisassociatedFace> = "DisassociatedFaces",
        unsuccessful_face_disassociations: Vec<UnsuccessfulFaceDisassociation> =
            "UnsuccessfulFaceDisassociations",
        /// `UserStatus` enum value.
        user_status: String = "UserStatus",
    }
    /// Output of `SearchUsers`.
    SearchUsersResponse {
        user_matches: Vec<UserMatch> = "UserMatches",
        face_model_version: String = "FaceModelVersion",
        searched_face: SearchedFace = "SearchedFace",
        searched_user: SearchedUser = "SearchedUser",
    }
    /// Output of `SearchUsersByImage`.
    SearchUsersByImageResponse {
        user_matches: Vec<UserMatch> = "UserMatches",
        face_model_version: String = "FaceModelVersion",
        searched_face: SearchedFaceDetails = "SearchedFace",
        unsearched_faces: Vec<UnsearchedFace> = "UnsearchedFaces",
    }
}

// ---------------------------------------------------------------------------------------------
// Operations and the Request/Response sums
// ---------------------------------------------------------------------------------------------

/// Generates `Operation`, `Request` and `Response` and their dispatch from one table.
macro_rules! operations {
    ($($op:ident($req:ident, $resp:ident)),* $(,)?) => {
        /// One of the in-scope Rekognition operations, named exactly as on the wire.
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Operation {$(
            #[doc = concat!("`", stringify!($op), "`.")]
            $op,
        )*}

        impl Operation {
            /// Every operation, in model-table order.
            pub const ALL: [Operation; 16] = [$(Operation::$op),*];

            /// The AWS operation name, e.g. `AssociateFaces`.
            pub fn name(self) -> &'static str {
                match self {$(Operation::$op => stringify!($op),)*}
            }

            /// Whether the operation only reads: it changes nothing, whatever it answers.
            pub fn is_read_only(self) -> bool {
                matches!(
                    self.name(),
                    "DescribeCollection"
                        | "ListCollections"
                        | "ListFaces"
                        | "ListUsers"
                        | "SearchFaces"
                        | "SearchFacesByImage"
                        | "SearchUsers"
                        | "SearchUsersByImage"
                )
            }

            /// Whether the operation's answer carries a user's `UserStatus`.
            pub fn answers_user_status(self) -> bool {
                matches!(
                    self.name(),
                    "AssociateFaces" | "DisassociateFaces" | "ListUsers" | "SearchUsers" | "SearchUsersByImage"
                )
            }

            /// Exact top-level member names of the operation's input shape.
            pub fn request_members(self) -> &'static [&'static str] {
                match self {$(Operation::$op => $req::MEMBERS,)*}
            }

            /// Exact top-level member names of the operation's output shape.
            pub fn response_members(self) -> &'static [&'static str] {
                match self {$(Operation::$op => $resp::MEMBERS,)*}
            }
        }

        /// A typed input of any operation.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Request {$(
            #[doc = concat!("Input of `", stringify!($op), "`.")]
            $op($req),
        )*}

        impl Request {
            /// The operation this input belongs to.
            pub fn operation(&self) -> Operation {
                match self {$(Request::$op(_) => Operation::$op,)*}
            }

            /// Decodes a request body; members of the wrong JSON type are errors naming the
            /// member, unknown members are ignored and `null` members are absent.
            pub fn from_json(op: Operation, body: &Value) -> Result<Request, DecodeError> {
                if !body.is_object() {
                    return Err(DecodeError::new(format!(
                        "expected a JSON object as the {op} request body"
                    )));
                }
                Ok(match op {$(Operation::$op => Request::$op($req::decode(body, &Path::Root)?),)*})
            }

            /// Encodes the request body; absent members are omitted, never `null`.
            pub fn to_json(&self) -> Value {
                match self {$(Request::$op(r) => r.encode(),)*}
            }

            /// The request's members, read by wire name.
            pub fn members(&self) -> &dyn Members {
                match self {$(Request::$op(r) => r,)*}
            }
        }

        $(impl From<$req> for Request {
            fn from(r: $req) -> Self {
                Request::$op(r)
            }
        })*

        /// A typed output of any operation.
        // One value per call, short-lived: boxing the large `FaceDetail` variants buys nothing.
        #[allow(clippy::large_enum_variant)]
        #[derive(Debug, Clone, PartialEq)]
        pub enum Response {$(
            #[doc = concat!("Output of `", stringify!($op), "`.")]
            $op($resp),
        )*}

        impl Response {
            /// The operation this output belongs to.
            pub fn operation(&self) -> Operation {
                match self {$(Response::$op(_) => Operation::$op,)*}
            }

            /// Decodes a success body; `null` (an empty body) is read as `{}`.
            pub fn from_json(op: Operation, body: &Value) -> Result<Response, DecodeError> {
                let empty = Value::Object(Map::new());
                let body = if body.is_null() { &empty } else { body };
                if !body.is_object() {
                    return Err(DecodeError::new(format!(
                        "expected a JSON object as the {op} response body"
                    )));
                }
                Ok(match op {$(Operation::$op => Response::$op($resp::decode(body, &Path::Root)?),)*})
            }

            /// Encodes the success body; absent members are omitted, never `null`.
            pub fn to_json(&self) -> Value {
                match self {$(Response::$op(r) => r.encode(),)*}
            }
        }

        $(impl From<$resp> for Response {
            fn from(r: $resp) -> Self {
                Response::$op(r)
            }
        })*
    };
}

operations! {
    CreateCollection(CreateCollectionRequest, CreateCollectionResponse),
    DeleteCollection(DeleteCollectionRequest, DeleteCollectionResponse),
    DescribeCollection(DescribeCollectionRequest, DescribeCollectionResponse),
    ListCollections(ListCollectionsRequest, ListCollectionsResponse),
    IndexFaces(IndexFacesRequest, IndexFacesResponse),
    ListFaces(ListFacesRequest, ListFacesResponse),
    DeleteFaces(DeleteFacesRequest, DeleteFacesResponse),
    SearchFaces(SearchFacesRequest, SearchFacesResponse),
    SearchFacesByImage(SearchFacesByImageRequest, SearchFacesByImageResponse),
    CreateUser(CreateUserRequest, CreateUserResponse),
    DeleteUser(DeleteUserRequest, DeleteUserResponse),
    ListUsers(ListUsersRequest, ListUsersResponse),
    AssociateFaces(AssociateFacesRequest, AssociateFacesResponse),
    DisassociateFaces(DisassociateFacesRequest, DisassociateFacesResponse),
    SearchUsers(SearchUsersRequest, SearchUsersResponse),
    SearchUsersByImage(SearchUsersByImageRequest, SearchUsersByImageResponse),
}

impl Operation {
    /// Looks an operation up by its exact (case-sensitive) AWS name.
    pub fn from_name(name: &str) -> Option<Operation> {
        Self::ALL.into_iter().find(|op| op.name() == name)
    }

    /// The `X-Amz-Target` header value, `RekognitionService.<Name>`.
    pub fn target(self) -> String {
        format!("RekognitionService.{}", self.name())
    }

    /// Whether the input has an idempotency `ClientRequestToken` that SDKs auto-fill.
    pub fn has_idempotency_token(self) -> bool {
        matches!(
            self,
            Operation::CreateUser
                | Operation::DeleteUser
                | Operation::AssociateFaces
                | Operation::DisassociateFaces
        )
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Operation {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Operation {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Operation::from_name(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown operation {name:?}")))
    }
}

impl Request {
    /// The idempotency token, for the four operations that have one.
    pub fn client_request_token(&self) -> Option<&str> {
        match self {
            Request::CreateUser(r) => r.client_request_token.as_deref(),
            Request::DeleteUser(r) => r.client_request_token.as_deref(),
            Request::AssociateFaces(r) => r.client_request_token.as_deref(),
            Request::DisassociateFaces(r) => r.client_request_token.as_deref(),
            _ => None,
        }
    }

    /// The target collection (every operation but `ListCollections` names one).
    pub fn collection_id(&self) -> Option<&str> {
        match self {
            Request::ListCollections(_) => None,
            Request::CreateCollection(r) => r.collection_id.as_deref(),
            Request::DeleteCollection(r) => r.collection_id.as_deref(),
            Request::DescribeCollection(r) => r.collection_id.as_deref(),
            Request::IndexFaces(r) => r.collection_id.as_deref(),
            Request::ListFaces(r) => r.collection_id.as_deref(),
            Request::DeleteFaces(r) => r.collection_id.as_deref(),
            Request::SearchFaces(r) => r.collection_id.as_deref(),
            Request::SearchFacesByImage(r) => r.collection_id.as_deref(),
            Request::CreateUser(r) => r.collection_id.as_deref(),
            Request::DeleteUser(r) => r.collection_id.as_deref(),
            Request::ListUsers(r) => r.collection_id.as_deref(),
            Request::AssociateFaces(r) => r.collection_id.as_deref(),
            Request::DisassociateFaces(r) => r.collection_id.as_deref(),
            Request::SearchUsers(r) => r.collection_id.as_deref(),
            Request::SearchUsersByImage(r) => r.collection_id.as_deref(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Generates `ErrorCode` with its known variants, names and HTTP statuses from one table.
macro_rules! error_codes {
    ($($code:ident => $status:literal),* $(,)?) => {
        /// An error `__type` as returned by the service or its front end.
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ErrorCode {
            $(
                #[doc = concat!("`", stringify!($code), "` (HTTP ", $status, ").")]
                $code,
            )*
            /// Any code not listed above, kept verbatim.
            Other(String),
        }

        impl ErrorCode {
            /// Every named (non-`Other`) code.
            pub const KNOWN: &'static [ErrorCode] = &[$(ErrorCode::$code),*];

            /// The bare wire name, e.g. `ResourceNotFoundException`.
            pub fn as_str(&self) -> &str {
                match self {
                    $(ErrorCode::$code => stringify!($code),)*
                    ErrorCode::Other(code) => code,
                }
            }

            /// The HTTP status the service answers this error with (400 for unknown codes).
            pub fn http_status(&self) -> u16 {
                match self {
                    $(ErrorCode::$code => $status,)*
                    ErrorCode::Other(_) => 400,
                }
            }
        }
    };
}

error_codes! {
    AccessDeniedException => 400,
    ConflictException => 400,
    IdempotentParameterMismatchException => 400,
    ImageTooLargeException => 400,
    InternalServerError => 500,
    InvalidImageFormatException => 400,
    InvalidPaginationTokenException => 400,
    InvalidParameterException => 400,
    InvalidS3ObjectException => 400,
    ProvisionedThroughputExceededException => 400,
    ResourceAlreadyExistsException => 400,
    ResourceNotFoundException => 400,
    ServiceQuotaExceededException => 400,
    ThrottlingException => 500,
    ValidationException => 400,
    SerializationException => 400,
    UnknownOperationException => 400,
    UnrecognizedClientException => 400,
    InvalidSignatureException => 400,
    MissingAuthenticationTokenException => 400,
    IncompleteSignatureException => 400,
    RequestEntityTooLargeException => 413,
}

impl ErrorCode {
    /// Parses a code as AWS JSON clients do: drops anything from `:` on, then any `namespace#`.
    pub fn parse(raw: &str) -> ErrorCode {
        let code = raw.split_once(':').map_or(raw, |(head, _)| head);
        let code = code.rsplit_once('#').map_or(code, |(_, tail)| tail);
        Self::KNOWN
            .iter()
            .find(|known| known.as_str() == code)
            .cloned()
            .unwrap_or_else(|| ErrorCode::Other(code.to_owned()))
    }

    /// Whether this is a server fault (5xx) rather than a client fault.
    pub fn is_server_fault(&self) -> bool {
        self.http_status() >= 500
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(|raw| ErrorCode::parse(&raw))
    }
}

/// A modelled service error: its code and optional message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// The error type.
    pub code: ErrorCode,
    /// The `Message` text, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.message {
            Some(message) => write!(f, "{}: {message}", self.code),
            None => write!(f, "{}", self.code),
        }
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Recorded bodies (from `shared/reference/recorded/`), embedded so CI needs only this repo.
    const ASSOCIATE_FACES_REQUEST: &str = r#"{
        "CollectionId": "MyCollection", "UserId": "DemoUser",
        "FaceIds": ["f5817d37-94f6-4335-bfee-6cf79a3d806e", "851cb847-dccc-4fea-9309-9f4805967855",
                    "35ebbb41-7f67-4263-908d-dd0ecba05ab9"],
        "UserMatchThreshold": 70, "ClientRequestToken": "550e8400-e29b-41d4-a716-446655440002"
    }"#;
    const ASSOCIATE_FACES_RESPONSE: &str = r#"{
        "UnsuccessfulFaceAssociations": [
            {"Reasons": ["LOW_MATCH_CONFIDENCE"], "FaceId": "f5817d37-94f6-4335-bfee-6cf79a3d806e",
             "Confidence": 0.9375374913215637},
            {"Reasons": ["ASSOCIATED_TO_A_DIFFERENT_USER"],
             "FaceId": "851cb847-dccc-4fea-9309-9f4805967855", "UserId": "demoUser2"}
        ],
        "UserStatus": "UPDATING",
        "AssociatedFaces": [{"FaceId": "35ebbb41-7f67-4263-908d-dd0ecba05ab9"}]
    }"#;
    const SEARCH_USERS_BY_IMAGE_REQUEST: &str = r#"{
        "CollectionId": "MyCollection",
        "Image": {"S3Object": {"Bucket": "bucket", "Name": "input.jpg"}},
        "MaxUsers": 2, "UserMatchThreshold": 70, "QualityFilter": "MEDIUM"
    }"#;
    const SEARCH_USERS_BY_IMAGE_RESPONSE: &str = r#"{
        "SearchedFace": {"FaceDetail": {"BoundingBox": {"Width": 0.03692837432026863,
            "Top": 0.5391526818275452, "Left": 0.3598678708076477, "Height": 0.07510016113519669}}},
        "UserMatches": [{"User": {"UserId": "demoUser1", "UserStatus": "ACTIVE"},
                         "Similarity": 99.88186645507812}],
        "FaceModelVersion": "6",
        "UnsearchedFaces": [
            {"FaceDetails": {"BoundingBox": {"Width": 0.031677018851041794, "Top": 0.5593535900115967,
                "Left": 0.6102562546730042, "Height": 0.0682177022099495}},
             "Reasons": ["FACE_NOT_LARGEST"]},
            {"FaceDetails": {"BoundingBox": {"Width": 0.03254449740052223, "Top": 0.6080358028411865,
                "Left": 0.516062319278717, "Height": 0.06347997486591339}},
             "Reasons": ["FACE_NOT_LARGEST"]}
        ]
    }"#;
    const DESCRIBE_COLLECTION_RESPONSE: &str = r#"{
        "FaceCount": 200, "CreationTimestamp": 1569444828.274,
        "CollectionARN": "arn:aws:rekognition:us-west-2:123456789012:collection/MyCollection",
        "FaceModelVersion": "4.0"
    }"#;
    const LIST_FACES_RESPONSE: &str = r#"{
        "FaceModelVersion": "6.0",
        "Faces": [{"Confidence": 99.76940155029297, "IndexFacesModelVersion": "6.0",
                   "UserId": "demoUser2", "ImageId": "56a0ca74-1c83-39dd-b363-051a64168a65",
                   "BoundingBox": {"Width": 0.03177810087800026, "Top": 0.36568498611450195,
                                   "Left": 0.3453829884529114, "Height": 0.056759100407361984},
                   "FaceId": "c92265d4-5f9c-43af-a58e-12be0ce02bc3"}]
    }"#;

    fn parse(text: &str) -> Value {
        serde_json::from_str(text).expect("test JSON parses")
    }

    /// Structural equality that compares numbers by value, so `70` equals `70.0`.
    fn same_numbers(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
            (Value::Array(x), Value::Array(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_numbers(x, y))
            }
            (Value::Object(x), Value::Object(y)) => {
                x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same_numbers(v, w)))
            }
            _ => a == b,
        }
    }

    #[test]
    fn recorded_responses_round_trip_exactly() {
        let cases = [
            (Operation::AssociateFaces, ASSOCIATE_FACES_RESPONSE),
            (Operation::SearchUsersByImage, SEARCH_USERS_BY_IMAGE_RESPONSE),
            (Operation::DescribeCollection, DESCRIBE_COLLECTION_RESPONSE),
            (Operation::ListFaces, LIST_FACES_RESPONSE),
            (Operation::CreateUser, "{}"),
            (Operation::DeleteCollection, r#"{"StatusCode": 200}"#),
            (Operation::DeleteFaces, r#"{"DeletedFaces": [], "UnsuccessfulFaceDeletions": []}"#),
        ];
        for (op, text) in cases {
            let body = parse(text);
            let response = Response::from_json(op, &body).expect("recorded body decodes");
            assert_eq!(response.operation(), op);
            assert_eq!(response.to_json(), body, "{op} round trip");
        }
    }

    #[test]
    fn serde_derives_agree_with_wire_codec() {
        let body = parse(ASSOCIATE_FACES_RESPONSE);
        let typed: AssociateFacesResponse = serde_json::from_value(body.clone()).expect("serde");
        assert_eq!(
            Response::from_json(Operation::AssociateFaces, &body).expect("wire"),
            Response::AssociateFaces(typed.clone())
        );
        assert_eq!(serde_json::to_value(&typed).expect("serde"), body);

        let body = parse(SEARCH_USERS_BY_IMAGE_REQUEST);
        let typed: SearchUsersByImageRequest = serde_json::from_value(body.clone()).expect("serde");
        let wire = Request::from_json(Operation::SearchUsersByImage, &body).expect("wire");
        assert_eq!(wire, Request::SearchUsersByImage(typed.clone()));
        assert_eq!(serde_json::to_value(&typed).expect("serde"), wire.to_json());
    }

    #[test]
    fn recorded_requests_round_trip() {
        for (op, text) in [
            (Operation::AssociateFaces, ASSOCIATE_FACES_REQUEST),
            (Operation::SearchUsersByImage, SEARCH_USERS_BY_IMAGE_REQUEST),
        ] {
            let body = parse(text);
            let request = Request::from_json(op, &body).expect("recorded request decodes");
            assert_eq!(request.operation(), op);
            // Floats are re-emitted as floats (`70` -> `70.0`), as AWS SDKs do.
            assert!(same_numbers(&request.to_json(), &body), "{op} round trip");
        }
        let request =
            Request::from_json(Operation::AssociateFaces, &parse(ASSOCIATE_FACES_REQUEST)).expect("decodes");
        assert_eq!(request.collection_id(), Some("MyCollection"));
        assert_eq!(request.client_request_token(), Some("550e8400-e29b-41d4-a716-446655440002"));
        let Request::AssociateFaces(inner) = &request else { panic!("wrong variant") };
        assert_eq!(inner.face_ids.as_ref().map(Vec::len), Some(3));
        assert_eq!(inner.user_match_threshold, Some(70.0));
    }

    #[test]
    fn empty_bodies_decode_for_every_operation() {
        for op in Operation::ALL {
            for body in [Value::Null, json!({})] {
                let response = Response::from_json(op, &body).expect("empty body decodes");
                assert_eq!(response.to_json(), json!({}));
            }
            let request = Request::from_json(op, &json!({})).expect("empty request decodes");
            assert_eq!(request.to_json(), json!({}));
            assert!(Request::from_json(op, &json!([])).is_err());
            assert!(Request::from_json(op, &Value::Null).is_err());
        }
    }

    #[test]
    fn wrong_member_type_names_the_member() {
        let err = Request::from_json(Operation::CreateUser, &json!({"CollectionId": 5}))
            .expect_err("integer is not a string");
        assert_eq!(err.message, "expected a string for member CollectionId");

        let err =
            Request::from_json(Operation::IndexFaces, &json!({"Image": {"S3Object": {"Bucket": true}}}))
                .expect_err("nested mismatch");
        assert_eq!(err.message, "expected a string for member Image.S3Object.Bucket");

        let err = Request::from_json(Operation::DeleteFaces, &json!({"FaceIds": ["a", 1]}))
            .expect_err("list item mismatch");
        assert_eq!(err.message, "expected a string for member FaceIds[1]");

        let err = Request::from_json(Operation::ListUsers, &json!({"MaxResults": 1.5}))
            .expect_err("float is not an integer");
        assert_eq!(err.message, "expected an integer for member MaxResults");

        let err = Response::from_json(Operation::ListUsers, &json!({"Users": {}}))
            .expect_err("object is not an array");
        assert!(err.to_string().contains("member Users"), "{err}");
    }

    #[test]
    fn null_members_are_absent_and_unknown_members_ignored() {
        let body = json!({"CollectionId": null, "UserId": "u", "Bogus": 1, "ClientRequestToken": null});
        let request = Request::from_json(Operation::CreateUser, &body).expect("decodes");
        assert_eq!(
            request,
            Request::CreateUser(CreateUserRequest { user_id: Some("u".into()), ..Default::default() })
        );
        assert_eq!(request.to_json(), json!({"UserId": "u"}));
        assert_eq!(request.collection_id(), None);
    }

    #[test]
    fn non_finite_floats_use_protocol_strings() {
        let body = json!({"UserMatchThreshold": "NaN", "MaxUsers": 1});
        let request = Request::from_json(Operation::SearchUsers, &body).expect("decodes");
        assert_eq!(request.to_json(), body);
        let request = Request::from(SearchUsersRequest {
            user_match_threshold: Some(f64::NEG_INFINITY),
            ..Default::default()
        });
        assert_eq!(request.to_json(), json!({"UserMatchThreshold": "-Infinity"}));
    }

    #[test]
    fn blob_base64_round_trip_and_redacted_debug() {
        let blob = Blob::new(vec![0u8, 1, 2, 250, 255]);
        let request = Request::from(IndexFacesRequest {
            image: Some(Image { bytes: Some(blob.clone()), s3_object: None }),
            ..Default::default()
        });
        let body = request.to_json();
        assert_eq!(body, json!({"Image": {"Bytes": "AAEC+v8="}}));
        assert_eq!(Request::from_json(Operation::IndexFaces, &body).expect("decodes"), request);
        assert_eq!(serde_json::to_value(&blob).expect("serde"), json!("AAEC+v8="));
        let back: Blob = serde_json::from_value(json!("AAEC+v8=")).expect("serde");
        assert_eq!(back, blob);
        assert_eq!(format!("{blob:?}"), "Blob(5 bytes)");
        assert!(!format!("{request:?}").contains("250"));
        let err = Request::from_json(Operation::IndexFaces, &json!({"Image": {"Bytes": "!!"}}))
            .expect_err("bad base64");
        assert!(err.message.ends_with("for member Image.Bytes"), "{err}");
    }

    #[test]
    fn error_code_parsing_and_status() {
        assert_eq!(
            ErrorCode::parse("com.amazon.coral#ResourceNotFoundException:http://internal.amazon.com/coral/"),
            ErrorCode::ResourceNotFoundException
        );
        assert_eq!(ErrorCode::parse("ThrottlingException"), ErrorCode::ThrottlingException);
        assert_eq!(ErrorCode::parse("Weird"), ErrorCode::Other("Weird".into()));
        for code in ErrorCode::KNOWN {
            assert_eq!(&ErrorCode::parse(code.as_str()), code);
        }
        assert_eq!(ErrorCode::InternalServerError.http_status(), 500);
        assert!(ErrorCode::ThrottlingException.is_server_fault());
        assert_eq!(ErrorCode::AccessDeniedException.http_status(), 400);
        assert_eq!(ErrorCode::InvalidSignatureException.http_status(), 400);
        assert_eq!(ErrorCode::RequestEntityTooLargeException.http_status(), 413);
        assert!(!ErrorCode::InvalidParameterException.is_server_fault());
        let json = serde_json::to_value(ErrorCode::ConflictException).expect("serde");
        assert_eq!(json, json!("ConflictException"));
        let error = ApiError { code: ErrorCode::ResourceNotFoundException, message: Some("gone".into()) };
        assert_eq!(error.to_string(), "ResourceNotFoundException: gone");
    }

    #[test]
    fn operation_names_targets_and_members() {
        for op in Operation::ALL {
            assert_eq!(Operation::from_name(op.name()), Some(op));
            assert_eq!(op.to_string(), op.name());
            assert_eq!(op.target(), format!("RekognitionService.{op}"));
            let json = serde_json::to_value(op).expect("serde");
            assert_eq!(serde_json::from_value::<Operation>(json).expect("serde"), op);
        }
        assert_eq!(Operation::from_name("associateFaces"), None);
        let mut members = Operation::AssociateFaces.request_members().to_vec();
        members.sort_unstable();
        let mut expected = ["CollectionId", "UserId", "FaceIds", "UserMatchThreshold", "ClientRequestToken"];
        expected.sort_unstable();
        assert_eq!(members, expected);
        assert_eq!(
            Operation::DescribeCollection.response_members(),
            ["FaceCount", "FaceModelVersion", "CollectionARN", "CreationTimestamp", "UserCount"]
        );
        assert!(Operation::CreateUser.response_members().is_empty());
        let with_token: Vec<_> = Operation::ALL.into_iter().filter(|op| op.has_idempotency_token()).collect();
        assert_eq!(with_token.len(), 4);
        for op in with_token {
            assert!(op.request_members().contains(&"ClientRequestToken"));
        }
    }
}

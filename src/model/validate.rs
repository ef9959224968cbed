//! Syntactic validation, as the service applies it before looking at any state.
//!
//! Constraints come from the contract's constraint table (§2, §5): required members,
//! string lengths, patterns (matched in full), numeric ranges, list sizes, the `Image`
//! union and enum values. Which error type a violation surfaces as is unsettled
//! (`unknown:validation-error-type`); the caller allows both.

use crate::api::{Image, Request};

/// Largest decoded image accepted inline (contract §2, `ImageBlob`).
pub const MAX_IMAGE_BYTES: usize = 5_242_880;

/// One violated constraint: which member, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The member path, e.g. `FaceIds[2]`.
    pub member: String,
    /// What is wrong with it.
    pub problem: String,
}

/// Whether the violation concerns image size rather than syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Length, pattern, range, enum or presence.
    Syntax,
    /// Decoded image bytes beyond [`MAX_IMAGE_BYTES`].
    ImageTooLarge,
}

const QUALITY_FILTERS: [&str; 5] = ["NONE", "AUTO", "LOW", "MEDIUM", "HIGH"];
const ATTRIBUTES: [&str; 14] = [
    "DEFAULT",
    "ALL",
    "AGE_RANGE",
    "BEARD",
    "EMOTIONS",
    "EYE_DIRECTION",
    "EYEGLASSES",
    "EYES_OPEN",
    "GENDER",
    "MOUTH_OPEN",
    "MUSTACHE",
    "FACE_OCCLUDED",
    "SMILE",
    "SUNGLASSES",
];

/// Collects violations for one request.
#[derive(Default)]
struct Checker {
    violations: Vec<(Kind, Violation)>,
}

impl Checker {
    fn fail(&mut self, member: impl Into<String>, problem: impl Into<String>) {
        self.violations.push((Kind::Syntax, Violation { member: member.into(), problem: problem.into() }));
    }

    fn required<T>(&mut self, member: &str, value: Option<&T>) -> bool {
        if value.is_none() {
            self.fail(member, "is required");
        }
        value.is_some()
    }

    fn string(
        &mut self,
        member: &str,
        value: Option<&String>,
        min: usize,
        max: usize,
        allowed: fn(char) -> bool,
    ) {
        let Some(s) = value else { return };
        let len = s.chars().count();
        if len < min || len > max {
            self.fail(member, format!("length {len} is outside {min}..={max}"));
        } else if let Some(bad) = s.chars().find(|c| !allowed(*c)) {
            self.fail(member, format!("character {bad:?} is outside the pattern"));
        }
    }

    fn collection_id(&mut self, value: Option<&String>) {
        if self.required("CollectionId", value) {
            self.string("CollectionId", value, 1, 255, collection_char);
        }
    }

    fn user_id(&mut self, member: &str, value: Option<&String>, required: bool) {
        if !required || self.required(member, value) {
            self.string(member, value, 1, 128, user_char);
        }
    }

    fn face_id(&mut self, member: &str, value: Option<&String>) {
        if let Some(s) = value
            && !crate::expect::is_lower_uuid(s)
        {
            self.fail(member, "is not a lower-case UUID");
        }
    }

    fn face_ids(&mut self, value: Option<&Vec<String>>, required: bool, max: usize) {
        if required && !self.required("FaceIds", value) {
            return;
        }
        let Some(ids) = value else { return };
        if ids.is_empty() || ids.len() > max {
            self.fail("FaceIds", format!("{} items is outside 1..={max}", ids.len()));
        }
        for (i, id) in ids.iter().enumerate() {
            self.face_id(&format!("FaceIds[{i}]"), Some(id));
        }
    }

    fn range(&mut self, member: &str, value: Option<i64>, min: i64, max: i64) {
        if let Some(v) = value
            && (v < min || v > max)
        {
            self.fail(member, format!("{v} is outside {min}..={max}"));
        }
    }

    fn percent(&mut self, member: &str, value: Option<f64>) {
        if let Some(v) = value
            && !(0.0..=100.0).contains(&v)
        {
            self.fail(member, format!("{v} is outside 0..=100"));
        }
    }

    fn token(&mut self, value: Option<&String>) {
        self.string("ClientRequestToken", value, 1, 64, |c| {
            c.is_ascii_alphanumeric() || c == '-' || c == '_'
        });
    }

    fn next_token(&mut self, value: Option<&String>) {
        self.string("NextToken", value, 0, 255, |_| true);
    }

    fn quality_filter(&mut self, value: Option<&String>) {
        if let Some(v) = value
            && !QUALITY_FILTERS.contains(&v.as_str())
        {
            self.fail("QualityFilter", format!("{v:?} is not one of {}", QUALITY_FILTERS.join(", ")));
        }
    }

    fn image(&mut self, value: Option<&Image>) {
        if !self.required("Image", value) {
            return;
        }
        let Some(image) = value else { return };
        match (&image.bytes, &image.s3_object) {
            (Some(_), Some(_)) => self.fail("Image", "has both Bytes and S3Object"),
            (None, None) => self.fail("Image", "has neither Bytes nor S3Object"),
            (Some(bytes), None) => {
                if bytes.is_empty() {
                    self.fail("Image.Bytes", "is empty");
                } else if bytes.len() > MAX_IMAGE_BYTES {
                    self.violations.push((
                        Kind::ImageTooLarge,
                        Violation {
                            member: "Image.Bytes".into(),
                            problem: format!("{} bytes exceed {MAX_IMAGE_BYTES}", bytes.len()),
                        },
                    ));
                }
            }
            (None, Some(s3)) => {
                if self.required("Image.S3Object.Bucket", s3.bucket.as_ref()) {
                    self.string("Image.S3Object.Bucket", s3.bucket.as_ref(), 3, 255, |c| {
                        c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')
                    });
                }
                if self.required("Image.S3Object.Name", s3.name.as_ref()) {
                    self.string("Image.S3Object.Name", s3.name.as_ref(), 1, 1024, |_| true);
                }
                self.string("Image.S3Object.Version", s3.version.as_ref(), 1, 1024, |_| true);
            }
        }
    }
}

fn collection_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

fn user_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | ':')
}

/// `[\p{L}\p{Z}\p{N}_.:/=+\-@]`: letters, separators (not tabs or newlines) and numbers.
fn tag_char(c: char) -> bool {
    c.is_alphanumeric() || is_separator(c) || matches!(c, '_' | '.' | ':' | '/' | '=' | '+' | '-' | '@')
}

/// Unicode general category Z (Zs, Zl, Zp).
fn is_separator(c: char) -> bool {
    matches!(
        c,
        ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}' | '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}'
    )
}

/// Every constraint `request` violates, with the kind of each.
pub fn violations(request: &Request) -> Vec<(Kind, Violation)> {
    let mut c = Checker::default();
    match request {
        Request::CreateCollection(r) => {
            c.collection_id(r.collection_id.as_ref());
            if let Some(tags) = &r.tags {
                if tags.len() > 200 {
                    c.fail("Tags", format!("{} entries exceed 200", tags.len()));
                }
                for (key, value) in tags {
                    let key_len = key.chars().count();
                    if key_len == 0 || key_len > 128 || key.starts_with("aws:") || !key.chars().all(tag_char)
                    {
                        c.fail(
                            format!("Tags.{key}"),
                            "key is outside 1..=128, the pattern, or starts with aws:",
                        );
                    }
                    if value.chars().count() > 256 || !value.chars().all(tag_char) {
                        c.fail(format!("Tags.{key}"), "value is longer than 256 or outside the pattern");
                    }
                }
            }
        }
        Request::DeleteCollection(r) => c.collection_id(r.collection_id.as_ref()),
        Request::DescribeCollection(r) => c.collection_id(r.collection_id.as_ref()),
        Request::ListCollections(r) => {
            c.next_token(r.next_token.as_ref());
            c.range("MaxResults", r.max_results, 0, 4096);
        }
        Request::IndexFaces(r) => {
            c.collection_id(r.collection_id.as_ref());
            c.image(r.image.as_ref());
            c.string("ExternalImageId", r.external_image_id.as_ref(), 1, 255, user_char);
            if let Some(attrs) = &r.detection_attributes {
                for (i, a) in attrs.iter().enumerate() {
                    if !ATTRIBUTES.contains(&a.as_str()) {
                        c.fail(format!("DetectionAttributes[{i}]"), format!("{a:?} is not an Attribute"));
                    }
                }
            }
            c.range("MaxFaces", r.max_faces, 1, i64::MAX);
            c.quality_filter(r.quality_filter.as_ref());
        }
        Request::ListFaces(r) => {
            c.collection_id(r.collection_id.as_ref());
            c.next_token(r.next_token.as_ref());
            c.range("MaxResults", r.max_results, 0, 4096);
            c.user_id("UserId", r.user_id.as_ref(), false);
            c.face_ids(r.face_ids.as_ref(), false, 4096);
        }
        Request::DeleteFaces(r) => {
            c.collection_id(r.collection_id.as_ref());
            c.face_ids(r.face_ids.as_ref(), true, 4096);
        }
        Request::SearchFaces(r) => {
            c.collection_id(r.collection_id.as_ref());
            if c.required("FaceId", r.face_id.as_ref()) {
                c.face_id("FaceId", r.face_id.as_ref());
            }
            c.range("MaxFaces", r.max_faces, 1, 4096);
            c.percent("FaceMatchThreshold", r.face_match_threshold);
        }
        Request::SearchFacesByImage(r) => {
            c.collection_id(r.collection_id.as_ref());
            c.image(r.image.as_ref());
            c.range("MaxFaces", r.max_faces, 1, 4096);
            c.percent("FaceMatchThreshold", r.face_match_threshold);
            c.quality_filter(r.quality_filter.as_ref());
        }
        Request::CreateUser(r) => {
            c.collection_id(r.collection_id.as_ref());
            c.user_id("UserId", r.user_id.as_ref(), true);
            c.token(r.client_request_token.as_ref());
        }
        Request::DeleteUser(r) => {
            c.collection_id(r.collection_id.as_ref());
            c.user_id("UserId", r.user_id.as_ref(), true);
            c.token(r.client_request_token.as_ref());
        }
        Request::ListUsers(r) => {
            c.collection_id(r.collection_id.as_ref());
            c.range("MaxResults", r.max_results, 1, 500);
            c.next_token(r.next_token.as_ref());
        }
        Request::AssociateFaces(r) => {
            c.collection_id(r.collection_id.as_ref());
            c.user_id("UserId", r.user_id.as_ref(), true);
            c.face_ids(r.face_ids.as_ref(), true, 100);
            c.percent("UserMatchThreshold", r.user_match_threshold);
            c.token(r.client_request_token.as_ref());
        }
        Request::DisassociateFaces(r) => {
            c.collection_id(r.collection_id.as_ref());
            c.user_id("UserId", r.user_id.as_ref(), true);
            c.face_ids(r.face_ids.as_ref(), true, 100);
            c.token(r.client_request_token.as_ref());
        }
        Request::SearchUsers(r) => {
            c.collection_id(r.collection_id.as_ref());
            c.user_id("UserId", r.user_id.as_ref(), false);
            c.face_id("FaceId", r.face_id.as_ref());
            c.percent("UserMatchThreshold", r.user_match_threshold);
            c.range("MaxUsers", r.max_users, 1, 500);
        }
        Request::SearchUsersByImage(r) => {
            c.collection_id(r.collection_id.as_ref());
            c.image(r.image.as_ref());
            c.percent("UserMatchThreshold", r.user_match_threshold);
            c.range("MaxUsers", r.max_users, 1, 500);
            c.quality_filter(r.quality_filter.as_ref());
        }
    }
    c.violations
}

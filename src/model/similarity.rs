//! How similar faces and users are, in bands rather than exact scores.
//!
//! No detector runs, so the model cannot know a score; it knows who each face shows.
//! Faces of the same person score in [`SAME_PERSON`], faces of a declared lookalike
//! (a person named `base~anything`, e.g. `alice~twin` for `alice`) in [`LOOKALIKE`],
//! and faces of different people in [`DIFFERENT_PERSON`]. A threshold that falls inside
//! a band allows both outcomes; one outside it decides the outcome. The lookalike band
//! lies between AssociateFaces' default threshold (75) and SearchUsers' (80) so that
//! scenarios can tell the two defaults apart.
//!
//! Two more kinds of person stand outside the fixtures. With `--faces endpoint` the
//! endpoint's detector decides who a face shows, so the model knows nothing: a face of
//! [`UNKNOWN_PERSON`] is in the [`UNKNOWN`] band, [0, 100], against anyone, and every
//! threshold inside it allows both outcomes. The built-in emulator's canned detector
//! (`rekcon serve --detector canned`) names each face after its id ([`canned_person`]);
//! two canned faces score one exact value derived from a hash of the two ids.

use std::collections::BTreeSet;

/// A closed range of similarity scores, in percent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Band {
    /// Lowest score in the band.
    pub min: f64,
    /// Highest score in the band.
    pub max: f64,
    /// A typical score, which the built-in emulator reports.
    pub typical: f64,
}

/// Two faces of the same person.
pub const SAME_PERSON: Band = Band { min: 90.0, max: 100.0, typical: 99.2 };
/// A face and a declared lookalike of its person.
pub const LOOKALIKE: Band = Band { min: 76.0, max: 79.0, typical: 77.5 };
/// Faces of different people.
pub const DIFFERENT_PERSON: Band = Band { min: 0.0, max: 40.0, typical: 8.5 };
/// A face compared with itself (SearchUsers by a FaceId that a user owns, SearchFaces' self match).
pub const SAME_FACE: Band = Band { min: 99.0, max: 100.0, typical: 99.99 };

/// Any score at all: who the faces show is unknown (`--faces endpoint`).
pub const UNKNOWN: Band = Band { min: 0.0, max: 100.0, typical: 50.0 };

/// The person of a face whose identity only the endpoint's detector knows.
pub const UNKNOWN_PERSON: &str = "?";

/// The start of a canned face's person (see [`canned_person`]).
const CANNED: &str = "#";

/// The person of a canned face or image: its FaceId, or the image digest of a searched image.
pub fn canned_person(id: &str) -> String {
    format!("{CANNED}{id}")
}

/// Whether `person` is unknown (`--faces endpoint`).
pub fn is_unknown(person: &str) -> bool {
    person == UNKNOWN_PERSON
}

fn is_canned(person: &str) -> bool {
    person.starts_with(CANNED)
}

/// The canned detector's similarity of two faces: a hash of the two ids, symmetric,
/// spread over 0–100 in steps of 0.01.
fn canned_score(a: &str, b: &str) -> f64 {
    use sha2::{Digest, Sha256};
    let (x, y) = if a <= b { (a, b) } else { (b, a) };
    let digest = Sha256::digest(format!("{x}\u{0}{y}").as_bytes());
    let n = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
    f64::from(n % 10_001) / 100.0
}

/// A band holding exactly `score`.
fn point(score: f64) -> Band {
    Band { min: score, max: score, typical: score }
}

/// The base person a name denotes: `alice~twin` is a lookalike of `alice`.
fn base(person: &str) -> &str {
    person.split_once('~').map_or(person, |(b, _)| b)
}

/// The band for faces of persons `a` and `b`.
pub fn between(a: &str, b: &str) -> Band {
    if is_unknown(a) || is_unknown(b) {
        UNKNOWN
    } else if is_canned(a) && is_canned(b) {
        point(canned_score(a, b))
    } else if a == b {
        SAME_PERSON
    } else if base(a) == base(b) {
        LOOKALIKE
    } else {
        DIFFERENT_PERSON
    }
}

/// The band for a face of `person` against a user whose faces show `persons`.
///
/// `None` when the user has no face (there is no user vector to compare with). With
/// several people on one user the band is the hull of their bands, and `mixed` is true.
pub fn face_to_user(person: &str, persons: &BTreeSet<&str>) -> Option<(Band, bool)> {
    if persons.is_empty() {
        return None;
    }
    if is_unknown(person) || persons.iter().any(|p| is_unknown(p)) {
        return Some((UNKNOWN, false));
    }
    if is_canned(person) {
        // A canned user vector scores as its best-matching face.
        return best(persons.iter().map(|p| between(person, p)));
    }
    hull(persons.iter().map(|p| between(person, p)), persons.len() > 1)
}

/// The band between two users, given the people their faces show.
pub fn user_to_user(a: &BTreeSet<&str>, b: &BTreeSet<&str>) -> Option<(Band, bool)> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    if a.iter().chain(b).any(|p| is_unknown(p)) {
        return Some((UNKNOWN, false));
    }
    let bands = a.iter().flat_map(|x| b.iter().map(move |y| between(x, y)));
    if a.iter().chain(b).all(|p| is_canned(p)) {
        return best(bands);
    }
    hull(bands, a.len() > 1 || b.len() > 1)
}

/// The highest of point bands (canned scores), as one unmixed band.
fn best(bands: impl Iterator<Item = Band>) -> Option<(Band, bool)> {
    bands.max_by(|x, y| x.max.total_cmp(&y.max)).map(|b| (point(b.max), false))
}

/// The smallest band holding all `bands` (`None` when there are none).
fn hull(bands: impl Iterator<Item = Band>, mixed: bool) -> Option<(Band, bool)> {
    let mut out: Option<Band> = None;
    for band in bands {
        out = Some(match out {
            None => band,
            Some(o) => Band {
                min: o.min.min(band.min),
                max: o.max.max(band.max),
                typical: o.typical.max(band.typical),
            },
        });
    }
    out.map(|b| (b, mixed))
}

/// How a band relates to a threshold (a match is `similarity >= threshold`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every score in the band matches.
    Match,
    /// No score in the band matches.
    NoMatch,
    /// The threshold lies inside the band: both outcomes are allowed.
    Either,
}

/// Decides `band` against `threshold`.
pub fn verdict(band: Band, threshold: f64) -> Verdict {
    if band.min >= threshold {
        Verdict::Match
    } else if band.max < threshold {
        Verdict::NoMatch
    } else {
        Verdict::Either
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_order_and_defaults_separate_lookalikes() {
        // §6.5/§6.7: AssociateFaces defaults to 75, SearchUsers to 80; lookalikes sit between.
        assert_eq!(verdict(between("alice", "alice~twin"), 75.0), Verdict::Match);
        assert_eq!(verdict(between("alice", "alice~twin"), 80.0), Verdict::NoMatch);
        assert_eq!(verdict(between("alice", "alice"), 80.0), Verdict::Match);
        assert_eq!(verdict(between("alice", "bob"), 75.0), Verdict::NoMatch);
        assert_eq!(verdict(between("alice", "bob"), 0.0), Verdict::Match);
        assert_eq!(verdict(between("alice", "alice"), 100.0), Verdict::Either);
        assert_eq!(verdict(between("alice", "alice"), 95.0), Verdict::Either);
    }

    #[test]
    fn unknown_faces_allow_every_outcome_inside_0_to_100() {
        assert_eq!(between(UNKNOWN_PERSON, "alice"), UNKNOWN);
        assert_eq!(verdict(between(UNKNOWN_PERSON, UNKNOWN_PERSON), 75.0), Verdict::Either);
        assert_eq!(verdict(UNKNOWN, 0.0), Verdict::Match, "every score is at least 0");
        assert_eq!(verdict(UNKNOWN, 100.0), Verdict::Either);
        let persons: BTreeSet<&str> = ["alice", UNKNOWN_PERSON].into();
        assert_eq!(face_to_user("bob", &persons), Some((UNKNOWN, false)));
        assert_eq!(face_to_user(UNKNOWN_PERSON, &BTreeSet::new()), None);
    }

    #[test]
    fn canned_scores_are_exact_symmetric_and_spread() {
        let (a, b) = (canned_person("f1"), canned_person("f2"));
        let band = between(&a, &b);
        assert_eq!(band.min, band.max);
        assert_eq!(band, between(&b, &a));
        assert!((0.0..=100.0).contains(&band.min));
        let scores: Vec<f64> = (0..200).map(|i| between(&a, &canned_person(&format!("g{i}"))).min).collect();
        assert!(scores.iter().any(|s| *s < 25.0) && scores.iter().any(|s| *s > 75.0), "{scores:?}");
        let user: BTreeSet<&str> = [b.as_str(), "#f3"].into();
        let (to_user, mixed) = face_to_user(&a, &user).expect("a band");
        assert!(!mixed && to_user.min == to_user.max);
        assert_eq!(to_user.min, band.min.max(between(&a, "#f3").min));
    }

    #[test]
    fn users_without_faces_have_no_band_and_mixed_users_span_bands() {
        assert_eq!(face_to_user("alice", &BTreeSet::new()), None);
        let mixed: BTreeSet<&str> = ["alice", "bob"].into();
        let (band, is_mixed) = face_to_user("alice", &mixed).unwrap();
        assert!(is_mixed);
        assert_eq!((band.min, band.max), (0.0, 100.0));
    }
}

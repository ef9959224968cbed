//! How similar faces and users are, in bands rather than exact scores.
//!
//! No detector runs, so the model cannot know a score; it knows who each face shows.
//! Faces of the same person score in [`SAME_PERSON`], faces of a declared lookalike
//! (a person named `base~anything`, e.g. `alice~twin` for `alice`) in [`LOOKALIKE`],
//! and faces of different people in [`DIFFERENT_PERSON`]. A threshold that falls inside
//! a band allows both outcomes; one outside it decides the outcome. The lookalike band
//! lies between AssociateFaces' default threshold (75) and SearchUsers' (80) so that
//! scenarios can tell the two defaults apart.

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

/// The base person a name denotes: `alice~twin` is a lookalike of `alice`.
fn base(person: &str) -> &str {
    person.split_once('~').map_or(person, |(b, _)| b)
}

/// The band for faces of persons `a` and `b`.
pub fn between(a: &str, b: &str) -> Band {
    if a == b {
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
    hull(persons.iter().map(|p| between(person, p)), persons.len() > 1)
}

/// The band between two users, given the people their faces show.
pub fn user_to_user(a: &BTreeSet<&str>, b: &BTreeSet<&str>) -> Option<(Band, bool)> {
    let bands = a.iter().flat_map(|x| b.iter().map(move |y| between(x, y)));
    hull(bands, a.len() > 1 || b.len() > 1)
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
    fn users_without_faces_have_no_band_and_mixed_users_span_bands() {
        assert_eq!(face_to_user("alice", &BTreeSet::new()), None);
        let mixed: BTreeSet<&str> = ["alice", "bob"].into();
        let (band, is_mixed) = face_to_user("alice", &mixed).unwrap();
        assert!(is_mixed);
        assert_eq!((band.min, band.max), (0.0, 100.0));
    }
}

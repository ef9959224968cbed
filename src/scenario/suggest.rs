//! "Did you mean" suggestions for misspelt names.

/// ` (did you mean `x`?)` for the candidate closest to `word`, or nothing.
pub fn did_you_mean<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> String {
    closest(word, candidates).map(|c| format!(" (did you mean `{c}`?)")).unwrap_or_default()
}

/// The candidate closest to `word`, when it is close enough to be a likely typo.
pub fn closest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let lower = word.to_lowercase();
    candidates
        .map(|c| {
            let distance = strsim::damerau_levenshtein(&lower, &c.to_lowercase());
            let similarity = strsim::jaro_winkler(&lower, &c.to_lowercase());
            (c, distance, similarity)
        })
        .filter(|(c, distance, similarity)| {
            // Short names are one typo apart at most; longer ones may lose a third.
            let len = c.chars().count();
            let max = if len <= 3 { 1 } else { (len / 3).max(2) };
            *distance <= max || *similarity >= 0.9
        })
        .min_by(|a, b| a.1.cmp(&b.1).then(b.2.total_cmp(&a.2)))
        .map(|(c, _, _)| c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Operation;

    #[test]
    fn closest_names() {
        assert_eq!(closest("AssociateFace", Operation::ALL.iter().map(|o| o.name())), Some("AssociateFaces"));
        assert_eq!(closest("zzz", Operation::ALL.iter().map(|o| o.name())), None);
    }
}

//! "Did you mean": the known words closest to a mistyped one, for groups, commands and
//! script functions alike.
//!
//! Policy: a candidate is similar when it contains the word or the word contains it (ignoring
//! case), or when their edit distance, counting a swap of neighbours as one edit, is at most
//! a quarter of the word's length (at least one, at most three). The closest come first.

/// Up to `limit` of `candidates` similar to `word`, closest first (ties in the order given),
/// each once.
pub fn similar<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    limit: usize,
) -> Vec<String> {
    let needle = word.trim().to_lowercase();
    if needle.is_empty() {
        return Vec::new();
    }
    let allowed = (needle.chars().count() / 4).clamp(1, 3);
    let mut scored: Vec<(usize, usize, &str)> = Vec::new();
    for (order, candidate) in candidates.into_iter().enumerate() {
        let lower = candidate.to_lowercase();
        if lower == needle
            || scored
                .iter()
                .any(|(_, _, c)| c.eq_ignore_ascii_case(candidate))
        {
            continue;
        }
        let distance = strsim::damerau_levenshtein(&needle, &lower);
        let contains = lower.contains(&needle) || (needle.len() >= 3 && needle.contains(&lower));
        if distance <= allowed {
            scored.push((distance, order, candidate));
        } else if contains {
            scored.push((allowed + 1, order, candidate));
        }
    }
    scored.sort();
    scored
        .into_iter()
        .take(limit)
        .map(|(_, _, c)| c.to_string())
        .collect()
}

/// `did you mean A, B?` for `found`, or nothing.
pub fn did_you_mean(found: &[String]) -> Option<String> {
    (!found.is_empty()).then(|| format!("did you mean {}?", found.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GROUPS: &[&str] = &["All Staff", "Engineering", "Sales", "Platform", "Support"];

    #[test]
    fn typos_find_their_word() {
        assert_eq!(
            similar("Enginering", GROUPS.iter().copied(), 3),
            ["Engineering"]
        );
        assert_eq!(similar("Salse", GROUPS.iter().copied(), 3), ["Sales"]);
        assert_eq!(similar("platfrom", GROUPS.iter().copied(), 3), ["Platform"]);
        assert_eq!(similar("Sale", GROUPS.iter().copied(), 3), ["Sales"]);
        assert_eq!(
            similar("memebrs", ["members", "member_of", "users"], 3),
            ["members"]
        );
        assert_eq!(similar("user", ["users", "groups", "run"], 3), ["users"]);
    }

    #[test]
    fn unrelated_words_find_nothing() {
        assert!(similar("Finance", GROUPS.iter().copied(), 3).is_empty());
        assert!(similar("", GROUPS.iter().copied(), 3).is_empty());
        assert_eq!(did_you_mean(&[]), None);
    }
}

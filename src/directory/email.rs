//! Checking addresses before anything is sent, so a typo is a usage error, not a round trip.

/// Why an address was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not an email address: {reason}")]
pub struct BadEmail {
    /// What was given (shortened when very long).
    pub input: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// Checks the form of an address and returns it trimmed, with the domain in lower case.
pub fn normalize(input: &str) -> Result<String, BadEmail> {
    let shown: String = input.chars().take(80).collect();
    let bad = |reason| BadEmail {
        input: shown.clone(),
        reason,
    };
    let s = input.trim();
    if s.is_empty() {
        return Err(bad("it is empty"));
    }
    if s.len() > 254 {
        return Err(bad("it is longer than 254 characters"));
    }
    let (local, domain) = s.rsplit_once('@').ok_or_else(|| bad("it has no @"))?;
    if local.is_empty() {
        return Err(bad("nothing before the @"));
    }
    if local.len() > 64 || local.contains("..") || local.starts_with('.') || local.ends_with('.') {
        return Err(bad("the part before the @ is not valid"));
    }
    if !local
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c))
    {
        return Err(bad(
            "the part before the @ has a character addresses cannot have",
        ));
    }
    if !valid_domain(domain) {
        return Err(bad("the domain after the @ is not valid"));
    }
    Ok(format!("{local}@{}", domain.to_ascii_lowercase()))
}

/// Checks the form of a domain name.
pub fn valid_domain(domain: &str) -> bool {
    domain.len() <= 253
        && domain.contains('.')
        && domain.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

/// The domain of an address already checked by [`normalize`].
pub fn domain_of(email: &str) -> &str {
    email.rsplit_once('@').map(|(_, d)| d).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_normalizes() {
        assert_eq!(
            normalize("  Jo.Doe+x@Example.COM ").unwrap(),
            "Jo.Doe+x@example.com"
        );
    }

    #[test]
    fn refuses_with_reasons() {
        for (input, reason) in [
            ("", "empty"),
            ("jo", "no @"),
            ("@x.com", "nothing before"),
            ("jo@x", "domain"),
            ("jo@-x.com", "domain"),
            ("j o@x.com", "character"),
            ("a..b@x.com", "not valid"),
        ] {
            let e = normalize(input).unwrap_err();
            assert!(e.to_string().contains(reason), "{input}: {e}");
        }
        assert!(normalize(&"a".repeat(300)).is_err());
    }
}

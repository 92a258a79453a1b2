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
    // Every address of a run passes here: what is wrong is only written out when something is.
    let bad = |reason| BadEmail {
        input: input.chars().take(80).collect(),
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
    if local.len() > 64
        || local.as_bytes().windows(2).any(|w| w == b"..")
        || local.starts_with('.')
        || local.ends_with('.')
    {
        return Err(bad("the part before the @ is not valid"));
    }
    if !local
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || LOCAL_SPECIALS.contains(&c))
    {
        return Err(bad(
            "the part before the @ has a character addresses cannot have",
        ));
    }
    if !valid_domain(domain) {
        return Err(bad("the domain after the @ is not valid"));
    }
    let mut out = String::with_capacity(s.len());
    out.push_str(local);
    out.push('@');
    out.push_str(domain);
    out[local.len() + 1..].make_ascii_lowercase();
    Ok(out)
}

/// What the part before the @ may hold besides letters and digits (RFC 5322's atext, and
/// the dots between its words).
const LOCAL_SPECIALS: &[u8] = b"!#$%&'*+-/=?^_`{|}~.";

/// Checks the form of a domain name.
pub fn valid_domain(domain: &str) -> bool {
    domain.len() <= 253
        && domain.contains('.')
        && domain.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
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
            (".a@x.com", "not valid"),
            ("a.@x.com", "not valid"),
            ("jü@x.com", "character"),
            ("jo\u{0}@x.com", "character"),
            ("jo@exämple.com", "domain"),
            ("jo@x_y.com", "domain"),
        ] {
            let e = normalize(input).unwrap_err();
            assert!(e.to_string().contains(reason), "{input}: {e}");
        }
        assert!(normalize(&"a".repeat(300)).is_err());
        // The part before the @ has at most 64 characters.
        assert!(normalize(&format!("{}@x.com", "a".repeat(64))).is_ok());
        let long = normalize(&format!("{}@x.com", "a".repeat(65))).unwrap_err();
        assert!(long.to_string().contains("not valid"), "{long}");
        // What was wrong is shown by its first 80 characters (not bytes).
        let long = format!("{}@x.com", "é".repeat(100));
        assert_eq!(normalize(&long).unwrap_err().input, "é".repeat(80));
    }

    #[test]
    fn only_the_domain_is_lowercased() {
        assert_eq!(
            normalize("MiXeD.CasE@Sub.EXAMPLE.Org").unwrap(),
            "MiXeD.CasE@sub.example.org"
        );
        // Every character the part before the @ may hold passes as it is.
        let specials = "a!#$%&'*+-/=?^_`{|}~.z";
        assert_eq!(
            normalize(&format!("{specials}@x.com")).unwrap(),
            format!("{specials}@x.com")
        );
    }
}

//! Secrets never print: one redaction over every string mcsh shows or keeps that may hold
//! something a server echoed.
//!
//! Policy: the client registers each secret it is given (client secret, secret key, app key)
//! and each bearer token it is issued, raw and as a form would encode it. Every line mcsh
//! writes to standard error, every line of data it prints for people, and every audit line
//! passes [`redact`], which replaces each registered value with `****`. A server that echoes
//! the submitted form (`client_secret=...` in an `error_description`) is therefore shown
//! without it. Values shorter than 6 characters are not registered (they would mask ordinary
//! words). A secret is also masked in ASCII upper and lower case: a hex secret echoed by a
//! server or a log in the other case is the same secret.

use std::borrow::Cow;
use std::sync::RwLock;

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// What a redacted value reads as.
pub const MASK: &str = "****";

/// Registers `secret` (and its form-encoded spelling) for [`redact`].
pub fn register(secret: &str) {
    if secret.chars().count() < 6 {
        return;
    }
    let encoded = form_encoded(secret, false, false);
    // Other encoders: lower-case hex, and a URL's path quoting (`%20`, `/` left as it is).
    let encoded_lower = form_encoded(secret, true, false);
    let quoted = form_encoded(secret, false, true);
    let quoted_lower = form_encoded(secret, true, true);
    // As JSON writes it (`\"`, `\\`, and `\/` from some encoders), and as `{:?}` shows it.
    let json = serde_json::to_string(secret).unwrap_or_default();
    let json = json.trim_matches('"').to_string();
    let slashed = json.replace('/', "\\/");
    let debug = format!("{secret:?}").trim_matches('"').to_string();
    // As an ASCII-only JSON encoder writes it: every other character as `\uXXXX` (UTF-16),
    // in lower- and upper-case hex.
    let ascii = |upper: bool| -> String {
        let mut out = String::new();
        for c in json.chars() {
            if c.is_ascii() {
                out.push(c);
            } else {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    out.push_str(&if upper {
                        format!("\\u{u:04X}")
                    } else {
                        format!("\\u{u:04x}")
                    });
                }
            }
        }
        out
    };
    let (lower, upper) = (ascii(false), ascii(true));
    // A server that echoes a hex secret or key may print it in the other case.
    let (down, up) = (secret.to_ascii_lowercase(), secret.to_ascii_uppercase());
    let mut all = SECRETS.write().unwrap_or_else(|e| e.into_inner());
    for s in [
        secret.to_string(),
        encoded,
        encoded_lower,
        quoted,
        quoted_lower,
        json,
        slashed,
        debug,
        lower,
        upper,
        down,
        up,
    ] {
        if !all.contains(&s) {
            all.push(s);
        }
    }
    // Longest first: a secret holding another is masked whole.
    all.sort_by_key(|s| std::cmp::Reverse(s.len()));
}

/// `text` with every registered secret replaced by `****`.
pub fn redact(text: &str) -> Cow<'_, str> {
    let all = SECRETS.read().unwrap_or_else(|e| e.into_inner());
    // Most text is shorter than any secret (a result's "created"): no search at all.
    if !all
        .iter()
        .any(|s| s.len() <= text.len() && text.contains(s.as_str()))
    {
        return Cow::Borrowed(text);
    }
    let mut out = text.to_string();
    for s in all.iter() {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), MASK);
        }
    }
    Cow::Owned(out)
}

/// `value` as `application/x-www-form-urlencoded` writes it (`lower`: with lower-case hex),
/// or (`path`) as a URL path quotes it: a space as `%20`, `/` left as it is.
fn form_encoded(value: &str, lower: bool, path: bool) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => out.push(b as char),
            b'*' if !path => out.push('*'),
            b'~' | b'/' if path => out.push(b as char),
            b' ' if !path => out.push('+'),
            _ if lower => out.push_str(&format!("%{b:02x}")),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_secrets_are_masked_raw_and_form_encoded() {
        register("s3cr3t/with+chars");
        let echoed =
            "invalid_client: client_id=abc&client_secret=s3cr3t%2Fwith%2Bchars&grant_type=x";
        assert_eq!(
            redact(echoed),
            "invalid_client: client_id=abc&client_secret=****&grant_type=x"
        );
        assert_eq!(redact("raw s3cr3t/with+chars here"), "raw **** here");
        // Text no longer than a secret is searched too: the whole text may be the secret.
        assert_eq!(redact("s3cr3t/with+chars"), "****");
        assert_eq!(redact("s3cr3t/with+char"), "s3cr3t/with+char");
        register("abc");
        assert_eq!(redact("abc"), "abc", "short values are not masked");
    }

    #[test]
    fn a_secret_is_masked_as_other_encoders_write_it() {
        register("Sx9/Qk+Lm=Pw&Zr Tv");
        for echoed in [
            "client_secret=Sx9%2fQk%2bLm%3dPw%26Zr+Tv&x=1",
            "quoted Sx9/Qk%2BLm%3DPw%26Zr%20Tv here",
            "quoted Sx9/Qk%2bLm%3dPw%26Zr%20Tv here",
        ] {
            assert!(
                !redact(echoed).contains("Lm"),
                "{echoed}: {}",
                redact(echoed)
            );
        }
    }

    #[test]
    fn a_hex_secret_is_masked_in_either_case() {
        register("9f3a0bc4d2e1");
        assert_eq!(redact("key 9F3A0BC4D2E1 echoed"), "key **** echoed");
        assert_eq!(redact("key 9f3a0bc4d2e1 echoed"), "key **** echoed");
        register("ABCDEF012345");
        assert_eq!(redact("abcdef012345"), "****");
    }

    #[test]
    fn a_secret_with_other_letters_is_masked_as_an_ascii_json_encoder_writes_it() {
        register("abcUmlaut\u{e9}xyz\u{1F600}");
        for echoed in [
            r#"{"client_secret": ["abcUmlaut\u00e9xyz\ud83d\ude00"]}"#,
            r#"{"client_secret": ["abcUmlaut\u00E9xyz\uD83D\uDE00"]}"#,
        ] {
            assert_eq!(redact(echoed), r#"{"client_secret": ["****"]}"#, "{echoed}");
        }
    }
}

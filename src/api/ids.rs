//! Mimecast ids are handles, not names: what one refers to is decided here.
//!
//! Policy: an id (a group's, a parent's, a membership link's) is base64url(zlib(JSON)) holding
//! `customercode`, a number (`folderid` for groups, `folderlinkid` for membership links) and a
//! `secureid` the service encrypts anew, so the same folder comes back under different strings
//! over time (docs/mimecast-api.md §9). Two ids are the same object when they decode to the
//! same account and number; an id that does not decode (an older tenant's, a test's) is its
//! own string. Nothing here trusts what an id says beyond telling ids apart: access is the
//! service's to check.

use std::borrow::Cow;

use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::Value;

/// Longest id decoded (real ones are about 250 characters); longer ones are their own string.
const MAX_ID: usize = 4096;
/// Most bytes a decoded id may inflate to.
const MAX_JSON: usize = 16 * 1024;

/// What an id refers to, as a string that is equal for equal objects: `#folder:ACCOUNT:N`,
/// `#link:ACCOUNT:N`, or the id itself when it does not decode. The `#` keeps the two kinds
/// apart (no base64url id contains it).
pub fn identity(id: &str) -> Cow<'_, str> {
    // The same few group ids are compared for every item of a batch: each is decoded once
    // (an inflater's state is tens of KB to set up). What an id decodes to never changes.
    let mut known = KNOWN.lock().unwrap_or_else(|e| e.into_inner());
    let found = match known.get(id) {
        Some(found) => found.clone(),
        None => {
            let found =
                decode(id).map(|(kind, account, number)| format!("#{kind}:{account}:{number}"));
            if known.len() >= KNOWN_MOST {
                known.clear();
            }
            known.insert(id.to_string(), found.clone());
            found
        }
    };
    match found {
        Some(identity) => Cow::Owned(identity),
        None => Cow::Borrowed(id),
    }
}

/// Ids decoded so far, and what they name (`None`: their own string).
static KNOWN: std::sync::LazyLock<
    std::sync::Mutex<std::collections::HashMap<String, Option<String>>>,
> = std::sync::LazyLock::new(Default::default);

/// Most ids [`KNOWN`] holds before it starts anew: a run over many ids stays bounded.
const KNOWN_MOST: usize = 4096;

/// Whether ids `a` and `b` name the same object (see [`identity`]).
pub fn same(a: &str, b: &str) -> bool {
    a == b || identity(a) == identity(b)
}

/// An id shortened for people: its end after `…`, enough to tell ids apart. Real ids share
/// their beginning (the compressed start of the same JSON), never their end (the rest of
/// the JSON and a checksum). Short strings come back whole.
pub fn short(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() <= 16 {
        return id.to_string();
    }
    let tail: String = chars[chars.len() - 12..].iter().collect();
    format!("…{tail}")
}

/// The folder number an id holds, when it decodes to a folder.
pub fn folder_number(id: &str) -> Option<u64> {
    match decode(id)? {
        ("folder", _, n) => Some(n),
        _ => None,
    }
}

/// (kind, account code, number) of an id that decodes to a folder or a membership link.
fn decode(id: &str) -> Option<(&'static str, String, u64)> {
    // Every zlib stream starts with 0x78, "e" in base64 (the service's, compressed best,
    // with "eNo").
    if !id.starts_with('e') || id.len() > MAX_ID {
        return None;
    }
    let trimmed = id.trim_end_matches('=');
    let bytes = URL_SAFE_NO_PAD
        .decode(trimmed)
        .or_else(|_| URL_SAFE.decode(id))
        .ok()?;
    // Inflated in one go into its output: a streaming decoder sets up a 32 KB window first,
    // which cost more than all the rest of decoding an id.
    let json = miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(&bytes, MAX_JSON).ok()?;
    let v: Value = serde_json::from_slice(&json).ok()?;
    let account = v.get("customercode")?.as_str()?.to_ascii_uppercase();
    let number = |k: &str| {
        v.get(k).and_then(|n| match n {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        })
    };
    if let Some(n) = number("folderid") {
        Some(("folder", account, n))
    } else {
        number("folderlinkid").map(|n| ("link", account, n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handle(v: &Value) -> String {
        use std::io::Write;
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(v.to_string().as_bytes()).unwrap();
        URL_SAFE_NO_PAD.encode(z.finish().unwrap())
    }

    fn folder_handle(account: &str, folder: u64, secure: &str) -> String {
        handle(&serde_json::json!({"secureid": secure, "ldap": false,
            "customercode": account, "version": 1, "folderid": folder}))
    }

    fn link_handle(account: &str, link: u64, secure: &str) -> String {
        handle(
            &serde_json::json!({"secureid": secure, "customercode": account,
            "version": 1, "folderlinkid": link}),
        )
    }

    // The group id and the membership link of the recorded add-group-member answer.
    const RECORDED_GROUP: &str = "eNoVzrsOgjAUANB_uaskgoFgSRwsGoMBVFB8xEXoRdBilVJ8xX9X9zOcN0jMVI0lAwfyfVclYXSb2-LeI16yK142Laf6NkyTlsTuya86VjD21iaNhk-xOR47nowJ9y-r5bg_8wvMp6bbzMXknChZ3qnBt5zO0icWapH2mBe0j1sbLiR9yAFowNnhCk5-4BI1yJRsRIV1Jhj-Lm4cjoyhTSzzB1usZSku4Bga5IIzrP9fS9eJ-fkCsJk_yA";
    const RECORDED_LINK: &str = "eNoVzsEKgjAAgOF32dUgM7UMOrQGYtSKrJHSJeZCcW41nTqjd8_O_-H7P6BmVCtWZGAFWuOEZJPuBDnRl4T22aQYEhIfk67tO51wZUEr9ue-F4q2uU-FwdVe9Doq8zcyQ0MHpJIw6K0IXy-PfJ5wqW5Uo4WJDp6GSB-I4zLI3mEp12ACqK4bWTFFZcZGfhtjNNssAs8dW8tUXUgBVrMJeEqeMcULUf43l77tBt8fFoA99w";

    #[test]
    fn ids_decoded_are_remembered_within_a_bound() {
        let ids: Vec<String> = (0..KNOWN_MOST as u64 + 10)
            .map(|n| folder_handle("CSND1A7954", n, "s"))
            .collect();
        for (n, id) in ids.iter().enumerate() {
            assert_eq!(identity(id), format!("#folder:CSND1A7954:{n}"));
        }
        {
            let known = KNOWN.lock().unwrap();
            assert!(known.len() <= KNOWN_MOST);
            // Remembered: the latest ids are all there, not only the very last.
            for id in &ids[ids.len() - 5..] {
                assert!(known.contains_key(id.as_str()));
            }
        }
        assert_eq!(
            identity(&ids[0]),
            "#folder:CSND1A7954:0",
            "after starting anew"
        );
        assert_eq!(identity("plain"), "plain");
    }

    #[test]
    fn recorded_ids_decode_to_their_folder_and_link() {
        assert_eq!(identity(RECORDED_GROUP), "#folder:CSND1A7954:50094");
        assert_eq!(identity(RECORDED_LINK), "#link:CSND1A7954:86049");
        assert_eq!(folder_number(RECORDED_GROUP), Some(50094));
        assert_eq!(folder_number(RECORDED_LINK), None);
    }

    #[test]
    fn one_folder_under_two_strings_is_one_group_and_two_folders_are_two() {
        let a = folder_handle("CSND1A7954", 50094, "first");
        assert!(a.starts_with("eNo"), "{a}");
        let b = folder_handle("CSND1A7954", 50094, "second");
        assert_ne!(a, b);
        assert!(same(&a, &b));
        assert!(same(&a, RECORDED_GROUP));
        assert!(!same(&a, &folder_handle("CSND1A7954", 50095, "first")));
        assert!(!same(&a, &folder_handle("OTHER", 50094, "first")));
        // A link and a folder with the same number are different things.
        assert!(!same(&link_handle("CSND1A7954", 50094, "x"), &a));
    }

    #[test]
    fn the_bounds_on_what_is_decoded_hold_where_they_are() {
        // A secure part of 3 000 letters compresses to a short id, and inflates to about
        // 3 KB: under the 16 KiB bound, it decodes.
        let roomy = folder_handle("CSND1A7954", 7, &"A".repeat(3000));
        assert!(roomy.len() < MAX_ID, "{}", roomy.len());
        assert_eq!(identity(&roomy), "#folder:CSND1A7954:7");
        // One that inflates past 16 KiB is its own string (a zlib bomb stays small here).
        let bomb = folder_handle("CSND1A7954", 7, &"A".repeat(20_000));
        assert!(bomb.len() < MAX_ID);
        assert_eq!(identity(&bomb), bomb.as_str());
        // An id longer than any real one is not decoded at all, valid or not.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let noise: String = (0..6000)
            .map(|_| {
                // xorshift: letters no compressor can shorten much.
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                char::from(b'A' + (x % 26) as u8)
            })
            .collect();
        let long = folder_handle("CSND1A7954", 7, &noise);
        assert!(long.len() > MAX_ID, "{}", long.len());
        assert_eq!(identity(&long), long.as_str());
    }

    #[test]
    fn a_folder_number_written_as_a_string_is_the_same_folder() {
        let text = handle(
            &serde_json::json!({"secureid": "s", "customercode": "CSND1A7954",
            "version": 1, "folderid": "50094"}),
        );
        assert_eq!(identity(&text), "#folder:CSND1A7954:50094");
        assert!(same(&text, RECORDED_GROUP));
    }

    #[test]
    fn ids_that_do_not_decode_are_their_own_string() {
        for id in ["eNoNotZlib", "g-123", "", "eNo", "planned:Ops"] {
            assert_eq!(identity(id), id);
            assert!(same(id, id));
        }
        assert!(!same("eNoNotZlib", "eNoNotZlib2"));
    }
}

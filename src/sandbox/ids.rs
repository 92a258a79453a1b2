//! Ids as the real service shapes them (docs/mimecast-api.md §9): a group id is a handle,
//! base64url(zlib(JSON)) holding the account's `customercode`, the `folderid` and a
//! `secureid` the service encrypts anew, so one folder can come back under another string
//! (a re-key, `store::rekey`). People cannot retype them, which is why mcsh resolves groups
//! by name. The sandbox's own encoder and decoder: it never imports the client's.

use std::io::Read;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::{Rng, RngExt};
use serde_json::{json, Value};

/// The account code of a tenant that has none of its own (a rehearsal copy has the real one).
pub const SANDBOX_ACCOUNT: &str = "CSBX01A01";

/// A group id for folder `folder` of `account`, with a `secureid` drawn from `rng`.
pub fn folder_id(account: &str, folder: u64, rng: &mut impl Rng) -> String {
    let mut secure = [0u8; 60];
    rng.fill_bytes(&mut secure);
    handle(&json!({
        "secureid": base64::engine::general_purpose::STANDARD.encode(secure),
        "ldap": false,
        "customercode": account,
        "version": 1,
        "folderid": folder,
    }))
}

/// A membership link id for link `link` of `account`: a handle like a group's, whose
/// `secureid` follows from the link's stored id, so the add and the later remove of one
/// membership answer the same string (as recorded).
pub fn link_id(account: &str, link: u64, stored: &str) -> String {
    use sha1::Digest as _;
    let secure = base64::engine::general_purpose::STANDARD.encode(sha1::Sha1::digest(stored));
    handle(&json!({
        "secureid": secure,
        "customercode": account,
        "version": 1,
        "folderlinkid": link,
    }))
}

fn handle(v: &Value) -> String {
    thread_local! {
        // One compressor a thread, reset for each id: a new one allocates and clears some
        // 300 KB, which a listing of a hundred memberships would do a hundred times.
        static ZLIB: std::cell::RefCell<flate2::Compress> =
            std::cell::RefCell::new(flate2::Compress::new(flate2::Compression::best(), true));
    }
    let text = v.to_string();
    let mut out = Vec::with_capacity(text.len() + 64);
    ZLIB.with(|z| {
        let mut z = z.borrow_mut();
        z.reset();
        let status = z
            .compress_vec(text.as_bytes(), &mut out, flate2::FlushCompress::Finish)
            .expect("compressing in memory");
        // The room given is more than a stream of this size ever takes.
        assert_eq!(status, flate2::Status::StreamEnd, "an id fits its buffer");
    });
    URL_SAFE_NO_PAD.encode(out)
}

/// (account code, folder number) of a group id, when it is a handle.
pub fn folder_of(id: &str) -> Option<(String, u64)> {
    if !id.starts_with('e') || id.len() > 4096 {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(id.trim_end_matches('=')).ok()?;
    let mut text = Vec::new();
    flate2::read::ZlibDecoder::new(bytes.as_slice())
        .take(16 * 1024)
        .read_to_end(&mut text)
        .ok()?;
    let v: Value = serde_json::from_slice(&text).ok()?;
    Some((
        v.get("customercode")?.as_str()?.to_ascii_uppercase(),
        v.get("folderid")?.as_u64()?,
    ))
}

/// A new user id.
pub fn user_id() -> String {
    format!("u{:032x}", rand::rng().random::<u128>())
}

/// A new membership id.
pub fn member_id() -> String {
    format!("m{:032x}", rand::rng().random::<u128>())
}

/// A random secret of `bytes` bytes, hex-encoded.
pub fn hex_secret(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

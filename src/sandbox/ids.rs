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
    encode(link_text(account, link, &secure).as_bytes())
}

/// A link id's JSON, written as serialising its map writes it (keys sorted): every
/// membership an answer holds has one, and building the map cost more than the rest of the id.
fn link_text(account: &str, link: u64, secure: &str) -> String {
    format!(
        "{{\"customercode\":{},\"folderlinkid\":{link},\"secureid\":{},\"version\":1}}",
        Value::from(account),
        Value::from(secure)
    )
}

fn handle(v: &Value) -> String {
    encode(v.to_string().as_bytes())
}

fn encode(text: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(zlib_stored(text))
}

/// `data` as a zlib stream (RFC 1950) of stored deflate blocks (RFC 1951 §3.2.4): valid
/// zlib that any inflater reads, starting `eNo` in base64 as the real ids do. A compressor
/// would clear some 200 KB of tables for each id, which cost the sandbox more than all the
/// rest of its work; an id's few hundred bytes gain nothing from it.
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    // CMF 0x78 (deflate, 32 KB window), FLG 0xDA (its check bits make CMF·256+FLG a
    // multiple of 31).
    let mut out = Vec::with_capacity(data.len() + 16);
    out.extend_from_slice(&[0x78, 0xDA]);
    let mut blocks = data.chunks(usize::from(u16::MAX)).peekable();
    if blocks.peek().is_none() {
        out.extend_from_slice(&[0x01, 0x00, 0x00, 0xFF, 0xFF]);
    }
    while let Some(block) = blocks.next() {
        // BFINAL on the last, BTYPE 00 (stored), then LEN and its complement, little-endian.
        out.push(u8::from(blocks.peek().is_none()));
        let len = u16::try_from(block.len()).expect("a block of at most 65 535 bytes");
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    out.extend_from_slice(&adler32(data).to_be_bytes());
    out
}

/// The Adler-32 checksum zlib ends a stream with (RFC 1950 §8.2). The sums are reduced once
/// every 5 552 bytes, the most that cannot overflow (zlib's NMAX): reducing after every byte
/// took two divisions a byte, most of the time of an id.
fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65_521;
    let (mut a, mut b) = (1u32, 0u32);
    for chunk in data.chunks(5_552) {
        for &byte in chunk {
            a += u32::from(byte);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
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

#[cfg(test)]
mod tests {
    use super::*;

    fn inflate(bytes: &[u8]) -> Vec<u8> {
        let mut text = Vec::new();
        flate2::read::ZlibDecoder::new(bytes)
            .read_to_end(&mut text)
            .expect("a valid zlib stream");
        text
    }

    #[test]
    fn ids_are_zlib_streams_any_inflater_reads_back() {
        let every_byte: Vec<u8> = (0..=255u8).cycle().take(150_000).collect();
        for data in [
            &b""[..],
            b"{",
            b"{\"folderid\":7}",
            &every_byte[..65_535],
            &every_byte,
        ] {
            assert_eq!(inflate(&zlib_stored(data)), data, "{} bytes", data.len());
        }
        let id = folder_id(SANDBOX_ACCOUNT, 50_094, &mut rand::rng());
        assert!(id.starts_with("eNo"), "shaped like the real ids: {id}");
        assert_eq!(folder_of(&id), Some((SANDBOX_ACCOUNT.to_string(), 50_094)));
        let link = link_id("CSND1A7954", 86_049, "m1");
        let v: Value =
            serde_json::from_slice(&inflate(&URL_SAFE_NO_PAD.decode(&link).unwrap())).unwrap();
        assert_eq!(v["folderlinkid"], 86_049);
        assert_eq!(v["customercode"], "CSND1A7954");
    }

    #[test]
    fn a_link_ids_text_is_what_serialising_its_map_gives() {
        for (account, link, secure) in [
            ("CSND1A7954", 86_049, "q83vEjRWeJASNFZ4kBI0VniQEjQ="),
            ("C\"x\\y", 0, "a/b+c="),
            ("", u64::MAX, ""),
        ] {
            let map = json!({
                "secureid": secure,
                "customercode": account,
                "version": 1,
                "folderlinkid": link,
            });
            assert_eq!(link_text(account, link, secure), map.to_string());
        }
    }

    #[test]
    fn adler32_matches_zlibs_checksum_across_its_reduction_points() {
        // Known values (RFC 1950's algorithm, as zlib computes them).
        assert_eq!(adler32(b""), 1);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
        // 0xFF bytes make the sums largest: around and past each 5 552-byte reduction.
        for n in [5_551, 5_552, 5_553, 11_104, 65_535, 100_000] {
            let data = vec![0xFFu8; n];
            let (mut a, mut b) = (1u64, 0u64);
            for &byte in &data {
                a = (a + u64::from(byte)) % 65_521;
                b = (b + a) % 65_521;
            }
            assert_eq!(u64::from(adler32(&data)), (b << 16) | a, "{n} bytes");
        }
    }
}

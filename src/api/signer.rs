//! API 1.0 request signing (HMAC-SHA1), exactly as Mimecast documents it.
//!
//! Policy: the string to sign is `date:req-id:path:appKey`, the key is the base64-decoded
//! secret key, the digest is base64-encoded with padding. Only the secret key is decoded;
//! everything else is used as given. The signer holds no clock and no randomness so that it
//! is a pure function the test vectors can pin down.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

/// The `strftime` form of the `x-mc-date` header: `Tue, 24 Nov 2015 12:50:11 UTC`.
pub const DATE_FORMAT: &str = "%a, %d %b %Y %H:%M:%S UTC";

/// Why a secret key cannot be used for signing.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the secret key is not valid base64; copy it again from the Mimecast console")]
pub struct BadSecretKey;

/// Decodes a secret key as Mimecast issues it (standard base64).
pub fn decode_secret_key(secret_key: &str) -> Result<Vec<u8>, BadSecretKey> {
    STANDARD.decode(secret_key.trim()).map_err(|_| BadSecretKey)
}

/// The base64 HMAC-SHA1 signature of one request.
pub fn signature(key: &[u8], date: &str, request_id: &str, path: &str, app_key: &str) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(format!("{date}:{request_id}:{path}:{app_key}").as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

/// The `Authorization` header value: `MC <accessKey>:<signature>`.
pub fn authorization(
    access_key: &str,
    key: &[u8],
    date: &str,
    request_id: &str,
    path: &str,
    app_key: &str,
) -> String {
    let sig = signature(key, date, request_id, path, app_key);
    format!("MC {access_key}:{sig}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const V12_SECRET: &str =
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw==";
    const V12_DATE: &str = "Tue, 24 Nov 2015 12:50:11 UTC";
    const V12_REQ: &str = "8578FCFC-A305-4D9A-99CB-F4D5ECEFE297";

    fn sign(
        secret: &str,
        access: &str,
        app_key: &str,
        date: &str,
        req: &str,
        path: &str,
    ) -> String {
        let key = decode_secret_key(secret).unwrap();
        authorization(access, &key, date, req, path, app_key)
    }

    #[test]
    fn vector_v1() {
        let got = sign(
            V12_SECRET,
            "TESTACCESSKEY",
            "test-app-key-0000",
            V12_DATE,
            V12_REQ,
            "/api/user/get-internal-users",
        );
        assert_eq!(got, "MC TESTACCESSKEY:mFiZ+abOtgWHwis+s47QDXPEA9U=");
    }

    #[test]
    fn vector_v1_hex_digest() {
        let key = decode_secret_key(V12_SECRET).unwrap();
        let sig = signature(
            &key,
            V12_DATE,
            V12_REQ,
            "/api/user/get-internal-users",
            "test-app-key-0000",
        );
        let raw = STANDARD.decode(sig).unwrap();
        let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "985899f9a6ceb60587c22b3eb38ed00d73c403d5");
    }

    #[test]
    fn vector_v2() {
        let got = sign(
            V12_SECRET,
            "TESTACCESSKEY",
            "test-app-key-0000",
            V12_DATE,
            V12_REQ,
            "/api/directory/find-groups",
        );
        assert_eq!(got, "MC TESTACCESSKEY:2ueGyQ325t83tydxZhYbf3lj1bs=");
    }

    #[test]
    fn vector_v3() {
        let got = sign(
            "bWltZWNhc3Qtc2ltdWxhdG9yLXNlY3JldA==",
            "AK-123",
            "appkey-xyz",
            "Mon, 01 Jan 2024 00:00:00 UTC",
            "00000000-0000-0000-0000-000000000001",
            "/api/directory/add-group-member",
        );
        assert_eq!(got, "MC AK-123:fu67UdsXwOoh/PZlpBOxLbO9Rzk=");
    }

    #[test]
    fn bad_secret_key_is_refused() {
        assert_eq!(decode_secret_key("not base64!"), Err(BadSecretKey));
    }
}

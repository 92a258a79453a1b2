//! How the sandbox checks who is calling: bearer tokens (API 2.0) and HMAC-SHA1 signatures
//! (API 1.0), verified for real.
//!
//! Policy: the checks are written here from `docs/mimecast-api.md`, independently of the client's
//! signer. Accepted like the real service: `GMT` as well as `UTC` in `x-mc-date`, any letter
//! case in `x-mc-req-id`, a clock skew of ±15 minutes. Tokens live `token_ttl` (1799 s).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use rusqlite::Connection;
use sha1::Sha1;

use super::ids;
use super::store;
use super::wire::{self, Reply};

/// Allowed difference between `x-mc-date` and the sandbox's clock.
pub const MAX_SKEW: Duration = Duration::from_secs(15 * 60);

/// The tenant's credentials for both schemes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Keys {
    /// API 2.0 client id.
    pub client_id: String,
    /// API 2.0 client secret.
    pub client_secret: String,
    /// API 1.0 access key.
    pub access_key: String,
    /// API 1.0 secret key (base64).
    pub secret_key: String,
    /// API 1.0 application id.
    pub app_id: String,
    /// API 1.0 application key.
    pub app_key: String,
}

impl Keys {
    /// The tenant's keys, made and stored on first use.
    pub fn load_or_create(conn: &Connection) -> rusqlite::Result<Keys> {
        // Insert-if-absent, then read back: of two processes opening a new state file at
        // once, both end up with the keys the first one stored.
        let get = |key: &str, make: &dyn Fn() -> String| -> rusqlite::Result<String> {
            if let Some(v) = store::setting(conn, key)? {
                return Ok(v);
            }
            conn.execute(
                "INSERT OR IGNORE INTO settings(key, value) VALUES (?1, ?2)",
                rusqlite::params![key, make()],
            )?;
            Ok(store::setting(conn, key)?.unwrap_or_default())
        };
        Ok(Keys {
            client_id: get("client_id", &|| format!("sandbox-{}", ids::hex_secret(8)))?,
            client_secret: get("client_secret", &|| ids::hex_secret(24))?,
            access_key: get("access_key", &|| {
                format!("mYtOL3XZCOwG96BOiFTZRm{}", ids::hex_secret(16))
            })?,
            secret_key: get("secret_key", &|| {
                STANDARD.encode(ids::hex_secret(32).as_bytes())
            })?,
            app_id: get("app_id", &|| uuid::Uuid::new_v4().to_string())?,
            app_key: get("app_key", &|| uuid::Uuid::new_v4().to_string())?,
        })
    }
}

/// Issued bearer tokens and their expiry.
#[derive(Default)]
pub struct Tokens {
    live: Mutex<HashMap<String, Instant>>,
}

impl Tokens {
    /// Issues a token that expires after `ttl`.
    pub fn issue(&self, ttl: Duration) -> String {
        let token = ids::hex_secret(32);
        let mut live = self.live.lock().expect("tokens lock");
        let now = Instant::now();
        live.retain(|_, until| *until > now);
        live.insert(token.clone(), now + ttl);
        token
    }

    /// Every token issued and not yet swept (tests check that none is ever printed).
    pub fn all(&self) -> Vec<String> {
        self.live
            .lock()
            .expect("tokens lock")
            .keys()
            .cloned()
            .collect()
    }

    fn check(&self, token: &str) -> Result<(), Reply> {
        let live = self.live.lock().expect("tokens lock");
        match live.get(token) {
            Some(until) if *until > Instant::now() => Ok(()),
            Some(_) => Err(wire::token_error(
                "token_expired",
                "The access token has expired",
            )),
            None => Err(wire::token_error(
                "token_verification_failed",
                "The access token is not valid",
            )),
        }
    }
}

/// Checks the credentials of an `/api/...` request to `path`.
pub fn verify(headers: &HeaderMap, path: &str, keys: &Keys, tokens: &Tokens) -> Result<(), Reply> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let Some(authorization) = header("authorization") else {
        return Err(wire::error(
            401,
            "err_xdk_missing_authorization",
            "Authorization header is missing",
            false,
        ));
    };
    if let Some(token) = strip_prefix_ci(authorization, "bearer ") {
        return tokens.check(token.trim());
    }
    let Some(mc) = strip_prefix_ci(authorization, "MC ") else {
        return Err(wire::error(
            401,
            "err_xdk_invalid_authorization",
            "Authorization must be 'Bearer <token>' or 'MC <accessKey>:<signature>'",
            false,
        ));
    };
    let invalid_signature = || {
        wire::error(
            401,
            "err_xdk_invalid_signature",
            "0004 Invalid Signature",
            false,
        )
    };
    let (access_key, signature) = mc.split_once(':').ok_or_else(invalid_signature)?;
    let app_id = header("x-mc-app-id").unwrap_or("");
    if app_id != keys.app_id {
        // Recorded (`refused-credentials.json`): HTTP 200, `meta.status` 200, and a `fail`
        // entry without `key` that fails the whole request.
        return Err(Reply {
            status: 200,
            body: serde_json::json!({
                "meta": { "status": 200 },
                "data": [],
                "fail": [{ "errors": [{
                    "code": "err_developer_key",
                    "message": format!("App ID is invalid: {}", printable(app_id)),
                    "retryable": false
                }] }]
            }),
        });
    }
    let date = header("x-mc-date").ok_or_else(|| {
        wire::error(
            401,
            "err_xdk_missing_date",
            "x-mc-date header is missing",
            false,
        )
    })?;
    check_date(date)?;
    let req_id = header("x-mc-req-id").ok_or_else(|| {
        wire::error(
            401,
            "err_xdk_missing_request_id",
            "x-mc-req-id header is missing",
            false,
        )
    })?;
    if uuid::Uuid::parse_str(req_id).is_err() {
        return Err(wire::error(
            401,
            "err_xdk_invalid_request_id",
            "x-mc-req-id must be a UUID",
            false,
        ));
    }
    if access_key != keys.access_key {
        return Err(invalid_signature());
    }
    let key = STANDARD
        .decode(&keys.secret_key)
        .expect("the sandbox's own secret key is base64");
    let mut mac = Hmac::<Sha1>::new_from_slice(&key).expect("HMAC takes any key length");
    mac.update(format!("{date}:{req_id}:{path}:{}", keys.app_key).as_bytes());
    let given = STANDARD
        .decode(signature.trim())
        .map_err(|_| invalid_signature())?;
    mac.verify_slice(&given).map_err(|_| invalid_signature())
}

/// An app id as the refusal echoes it: at most 64 printable ASCII characters.
fn printable(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_graphic())
        .take(64)
        .collect()
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    (s.len() >= prefix.len() && s[..prefix.len()].eq_ignore_ascii_case(prefix))
        .then(|| &s[prefix.len()..])
}

fn check_date(date: &str) -> Result<(), Reply> {
    let bad = |msg: &str| wire::error(401, "err_xdk_invalid_date", msg, false);
    let body = date
        .strip_suffix(" UTC")
        .or_else(|| date.strip_suffix(" GMT"))
        .ok_or_else(|| bad("x-mc-date must look like 'Tue, 24 Nov 2015 12:50:11 UTC'"))?;
    let when = chrono::NaiveDateTime::parse_from_str(body, "%a, %d %b %Y %H:%M:%S")
        .map_err(|_| bad("x-mc-date must look like 'Tue, 24 Nov 2015 12:50:11 UTC'"))?
        .and_utc();
    let skew = (chrono::Utc::now() - when).num_seconds().unsigned_abs();
    if skew > MAX_SKEW.as_secs() {
        return Err(bad(
            "x-mc-date is more than 15 minutes away from the server's clock",
        ));
    }
    Ok(())
}

/// Checks a token request's form fields; `Ok` means a token may be issued.
pub fn check_client(form: &HashMap<String, String>, keys: &Keys) -> Result<(), Reply> {
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return Err(oauth_error(
            400,
            "unsupported_grant_type",
            "grant_type must be client_credentials",
        ));
    }
    let id = form.get("client_id").map(String::as_str);
    let secret = form.get("client_secret").map(String::as_str);
    if id != Some(keys.client_id.as_str()) || secret != Some(keys.client_secret.as_str()) {
        return Err(oauth_error(
            401,
            "invalid_client",
            "Client authentication failed",
        ));
    }
    Ok(())
}

fn oauth_error(status: u16, code: &str, description: &str) -> Reply {
    Reply {
        status,
        body: serde_json::json!({
            "error": code,
            "error_description": description,
            "fail": [{ "code": code, "message": description }]
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_within_skew_with_utc_or_gmt() {
        let now = chrono::Utc::now();
        let utc = now.format("%a, %d %b %Y %H:%M:%S UTC").to_string();
        let gmt = now.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
        assert!(check_date(&utc).is_ok());
        assert!(check_date(&gmt).is_ok());
        let stale = (now - chrono::Duration::minutes(16))
            .format("%a, %d %b %Y %H:%M:%S UTC")
            .to_string();
        assert_eq!(check_date(&stale).unwrap_err().status, 401);
        assert!(check_date("yesterday").is_err());
    }

    #[test]
    fn tokens_expire() {
        let t = Tokens::default();
        let live = t.issue(Duration::from_secs(60));
        let dead = t.issue(Duration::ZERO);
        assert!(t.check(&live).is_ok());
        assert_eq!(
            t.check(&dead).unwrap_err().body["fail"][0]["code"],
            "token_expired"
        );
        assert_eq!(
            t.check("nope").unwrap_err().body["fail"][0]["code"],
            "token_verification_failed"
        );
    }
}

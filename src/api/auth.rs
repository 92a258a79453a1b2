//! Credentials for both authentication schemes and the API 2.0 token cache.
//!
//! Policy: secrets live in [`Secret`], whose `Debug` and `Display` never show the value, so
//! no log line, error or trace can print one by accident. A bearer token is cached until a
//! minute before `expires_in` runs out and dropped when the service calls it expired.

use std::time::{Duration, Instant};

/// A value that must never be printed: client secret, secret key, app key, bearer token.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value, and registers it with [`crate::redact`]: from then on no line
    /// mcsh prints or logs shows it, whoever echoes it.
    pub fn new(value: impl Into<String>) -> Self {
        let value = value.into();
        crate::redact::register(&value);
        Secret(value)
    }

    /// The value itself, for building a request. Never format it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the value is empty.
    pub fn is_empty(&self) -> bool {
        self.0.trim().is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(****)")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("****")
    }
}

/// How the client proves who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// API 2.0: OAuth 2.0 client credentials exchanged for a bearer token.
    OAuth {
        /// The application's client id.
        client_id: String,
        /// The application's client secret.
        client_secret: Secret,
    },
    /// API 1.0: every request signed with HMAC-SHA1.
    Hmac {
        /// The access key, sent as is in `Authorization`.
        access_key: String,
        /// The base64 secret key that keys the HMAC.
        secret_key: Secret,
        /// The application id, sent as `x-mc-app-id`.
        app_id: String,
        /// The application key, part of the signed string.
        app_key: Secret,
    },
}

impl Credentials {
    /// `"API 2.0 (OAuth2)"` or `"API 1.0 (HMAC)"`, for messages.
    pub fn scheme_name(&self) -> &'static str {
        match self {
            Credentials::OAuth { .. } => "API 2.0 (OAuth2)",
            Credentials::Hmac { .. } => "API 1.0 (HMAC)",
        }
    }
}

/// A bearer token and when to stop using it.
#[derive(Clone)]
pub(crate) struct Token {
    pub value: Secret,
    pub use_until: Instant,
}

impl Token {
    /// A token answered with `expires_in` seconds, used until a margin before that.
    pub fn new(value: String, expires_in: u64) -> Self {
        let margin = if expires_in > 240 { 60 } else { expires_in / 4 };
        Token {
            value: Secret::new(value),
            // A lifetime past a day is the server's mistake (tokens live 1 799 s): a day at
            // most, so no number it sends can overflow the clock.
            use_until: Instant::now()
                + Duration::from_secs(expires_in.saturating_sub(margin).min(86_400)),
        }
    }

    /// Whether the token may still be sent.
    pub fn is_fresh(&self) -> bool {
        Instant::now() < self.use_until
    }
}

/// The credentials a client holds, ready to use: API 2.0's with its cached token, or API 1.0's
/// keys with the secret key decoded.
pub(super) enum Auth {
    OAuth {
        client_id: String,
        client_secret: Secret,
        token: tokio::sync::Mutex<Option<Token>>,
    },
    Hmac {
        access_key: String,
        key: Vec<u8>,
        app_id: String,
        app_key: Secret,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_format() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s} {s:?}"), "**** Secret(****)");
        let c = Credentials::OAuth {
            client_id: "id".into(),
            client_secret: s,
        };
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn token_freshness_keeps_a_margin() {
        assert!(Token::new("t".into(), 1799).is_fresh());
        assert!(!Token::new("t".into(), 0).is_fresh());
    }
}

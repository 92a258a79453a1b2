//! Settings: a resolved configuration turned into what a client needs (one scheme's
//! credentials, the base URL or the address to discover it by, the timeout), or an error that
//! says precisely what is missing or contradictory.

use std::time::Duration;

use super::resolve::Resolved;
use super::{env_name, ConfigError, DEFAULT_BASE_URL};
use crate::api::{Credentials, Secret};

/// Everything needed to build a client.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The profile used.
    pub profile: String,
    /// API base URL; empty while it is still to be discovered from `discover_from`.
    pub base_url: String,
    /// With API 1.0 keys and no base URL: the administrator address to discover the region by.
    pub discover_from: Option<String>,
    /// Credentials of one scheme.
    pub credentials: Credentials,
    /// Per-request timeout.
    pub timeout: Duration,
}

impl Resolved {
    fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(|v| v.value.as_str())
    }

    /// Builds the settings, or says precisely what is missing or contradictory.
    pub fn settings(&self) -> Result<Settings, ConfigError> {
        let oauth: Vec<&str> = ["client_id", "client_secret"]
            .into_iter()
            .filter(|k| self.get(k).is_some())
            .collect();
        let hmac: Vec<&str> = ["access_key", "secret_key", "app_id", "app_key"]
            .into_iter()
            .filter(|k| self.get(k).is_some())
            .collect();
        let credentials = match (oauth.is_empty(), hmac.is_empty()) {
            (true, true) => return Err(ConfigError::Missing),
            (false, false) => {
                return Err(ConfigError::BothSchemes {
                    oauth: oauth.join(", "),
                    hmac: hmac.join(", "),
                })
            }
            (false, true) => Credentials::OAuth {
                client_id: self.require("API 2.0", &["client_id", "client_secret"], "client_id")?,
                client_secret: Secret::new(self.require(
                    "API 2.0",
                    &["client_id", "client_secret"],
                    "client_secret",
                )?),
            },
            (true, false) => {
                let all = ["access_key", "secret_key", "app_id", "app_key"];
                Credentials::Hmac {
                    access_key: self.require("API 1.0", &all, "access_key")?,
                    secret_key: Secret::new(self.require("API 1.0", &all, "secret_key")?),
                    app_id: self.require("API 1.0", &all, "app_id")?,
                    app_key: Secret::new(self.require("API 1.0", &all, "app_key")?),
                }
            }
        };
        let mut discover_from = None;
        let base_url =
            match (self.get("base_url"), &credentials) {
                (Some(url), _) => url.to_string(),
                (None, Credentials::OAuth { .. }) => DEFAULT_BASE_URL.to_string(),
                (None, Credentials::Hmac { .. }) => match self.get("admin_email") {
                    Some(email) => {
                        discover_from = Some(email.to_string());
                        String::new()
                    }
                    None => return Err(ConfigError::Invalid(
                        "API 1.0 keys need your region's base URL: set MIMECAST_ADMIN_EMAIL (or \
                         admin_email in the profile) to an administrator's address so mcsh can \
                         discover it, or set MIMECAST_BASE_URL (base_url), e.g. \
                         https://eu-api.mimecast.com or https://us-api.mimecast.com"
                            .into(),
                    )),
                },
            };
        let timeout = match self.get("timeout") {
            None => Duration::from_secs(30),
            Some(t) => match t.parse::<f64>() {
                Ok(s) if s > 0.0 && s <= 3600.0 => Duration::from_secs_f64(s),
                _ => {
                    return Err(ConfigError::Invalid(format!(
                        "timeout {t:?} is not a number of seconds between 0 and 3600 (MCSH_TIMEOUT or `timeout` in the profile)"
                    )))
                }
            },
        };
        Ok(Settings {
            profile: self.profile.clone(),
            base_url,
            discover_from,
            credentials,
            timeout,
        })
    }

    fn require(
        &self,
        scheme: &'static str,
        all: &[&str],
        key: &str,
    ) -> Result<String, ConfigError> {
        self.get(key).map(str::to_string).ok_or_else(|| {
            let missing: Vec<String> = all
                .iter()
                .filter(|k| self.get(k).is_none())
                .map(|k| env_name(k).to_string())
                .collect();
            ConfigError::Incomplete {
                scheme,
                missing: missing.join(", "),
                profile: self.profile.clone(),
            }
        })
    }
}

//! Where credentials and settings come from: flags > environment > config file > defaults.
//! This module holds the profile's shape, the keys and their variables, and the errors;
//! [`resolve`] merges the sources, [`settings`] turns the result into a client's settings.
//!
//! Policy: the config file is TOML with one table per profile, under
//! `$XDG_CONFIG_HOME/mcsh/config.toml` (or `MCSH_CONFIG`), written with mode 0600. Unknown keys
//! are errors that name the key. The scheme follows from what is set; both schemes at once is
//! an error. Secrets stay in [`Secret`] from the moment they are read, and a secret-holding
//! file that others can read draws a warning.

pub mod file;
pub mod resolve;
pub mod settings;

pub use file::{config_path, read_profiles, write_profile};
pub use resolve::{resolve, Resolved, Source, Value};
pub use settings::Settings;

use serde::{Deserialize, Serialize};

/// Default base URL of API 2.0.
pub const DEFAULT_BASE_URL: &str = "https://api.services.mimecast.com";

/// One profile as the config file holds it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// API base URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// API 2.0 client id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// API 2.0 client secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// API 1.0 access key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key: Option<String>,
    /// API 1.0 secret key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_key: Option<String>,
    /// API 1.0 application id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    /// API 1.0 application key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_key: Option<String>,
    /// A shell command whose standard output is the secret (client secret or secret key).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_command: Option<String>,
    /// Per-request timeout in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u64>,
    /// An administrator's address: with API 1.0 keys and no base URL, mcsh discovers the
    /// region's base URL from it (`discover-authentication`) and caches it in the profile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_email: Option<String>,
}

/// What went wrong finding the configuration; all map to exit code 4.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// No credentials anywhere.
    #[error(
        "no Mimecast credentials: set MIMECAST_CLIENT_ID and MIMECAST_CLIENT_SECRET (API 2.0), or \
         MIMECAST_ACCESS_KEY, MIMECAST_SECRET_KEY, MIMECAST_APP_ID and MIMECAST_APP_KEY (API 1.0), \
         or run `mcsh config init`; to try mcsh without an account, add --sandbox"
    )]
    Missing,
    /// Some values of a scheme are set, others are not.
    #[error(
        "incomplete {scheme} credentials: {missing} not set (environment or profile {profile:?})"
    )]
    Incomplete {
        /// Scheme name.
        scheme: &'static str,
        /// What is missing.
        missing: String,
        /// The profile consulted.
        profile: String,
    },
    /// Values of both schemes are set.
    #[error(
        "both API 2.0 ({oauth}) and API 1.0 ({hmac}) credentials are set; keep one scheme \
         (unset the other's environment variables or profile keys)"
    )]
    BothSchemes {
        /// The API 2.0 values found.
        oauth: String,
        /// The API 1.0 values found.
        hmac: String,
    },
    /// The file cannot be read or parsed.
    #[error("config file {path}: {detail}")]
    File {
        /// The file.
        path: String,
        /// What is wrong.
        detail: String,
    },
    /// The named profile does not exist.
    #[error("profile {name:?} is not in {path} (profiles there: {known})")]
    NoProfile {
        /// The profile asked for.
        name: String,
        /// The file.
        path: String,
        /// The profiles it has.
        known: String,
    },
    /// `secret_command` failed.
    #[error("secret_command of profile {profile:?} failed: {detail}")]
    SecretCommand {
        /// The profile.
        profile: String,
        /// What went wrong (never its output).
        detail: String,
    },
    /// A value has the wrong form.
    #[error("{0}")]
    Invalid(String),
}

/// Profile keys and the environment variables that override them.
pub const KEYS: &[(&str, &str)] = &[
    ("base_url", "MIMECAST_BASE_URL"),
    ("client_id", "MIMECAST_CLIENT_ID"),
    ("client_secret", "MIMECAST_CLIENT_SECRET"),
    ("access_key", "MIMECAST_ACCESS_KEY"),
    ("secret_key", "MIMECAST_SECRET_KEY"),
    ("app_id", "MIMECAST_APP_ID"),
    ("app_key", "MIMECAST_APP_KEY"),
    ("timeout", "MCSH_TIMEOUT"),
    ("admin_email", "MIMECAST_ADMIN_EMAIL"),
];

/// Where API 1.0's region discovery is asked: `MCSH_DISCOVERY_URL`, else Mimecast's global
/// address (the variable exists for tests and proxies).
pub fn discovery_url(env: &dyn Fn(&str) -> Option<String>) -> String {
    env("MCSH_DISCOVERY_URL")
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| DISCOVERY_URL.to_string())
}

/// Mimecast's global address for API 1.0 region discovery.
pub const DISCOVERY_URL: &str = "https://api.mimecast.com";

/// Keys whose values are secrets.
pub const SECRET_KEYS: &[&str] = &["client_secret", "secret_key", "app_key"];

/// The environment variable of a profile key.
pub fn env_name(key: &str) -> &'static str {
    KEYS.iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| *v)
        .unwrap_or("?")
}

/// How a set secret is shown: neither its value nor its length.
pub const MASK: &str = "****";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Credentials;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn environment_beats_file_and_scheme_follows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(
            &path,
            "[default]\nclient_id = \"file-id\"\nclient_secret = \"file-secret\"\n",
        )
        .unwrap();
        let p = path.display().to_string();
        let env = env_of(&[("MCSH_CONFIG", &p), ("MIMECAST_CLIENT_ID", "env-id")]);
        let r = resolve(None, &env).unwrap();
        let s = r.settings().unwrap();
        match s.credentials {
            Credentials::OAuth {
                client_id,
                client_secret,
            } => {
                assert_eq!(client_id, "env-id");
                assert_eq!(client_secret.expose(), "file-secret");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(s.base_url, DEFAULT_BASE_URL);
    }

    #[test]
    fn both_schemes_missing_and_incomplete() {
        let env = env_of(&[
            ("MCSH_CONFIG", "/nonexistent/c.toml"),
            ("MIMECAST_CLIENT_ID", "a"),
            ("MIMECAST_ACCESS_KEY", "b"),
        ]);
        assert!(matches!(
            resolve(None, &env).unwrap().settings(),
            Err(ConfigError::BothSchemes { .. })
        ));
        let env = env_of(&[("MCSH_CONFIG", "/nonexistent/c.toml")]);
        assert!(matches!(
            resolve(None, &env).unwrap().settings(),
            Err(ConfigError::Missing)
        ));
        let env = env_of(&[
            ("MCSH_CONFIG", "/nonexistent/c.toml"),
            ("MIMECAST_ACCESS_KEY", "b"),
        ]);
        let err = resolve(None, &env)
            .unwrap()
            .settings()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("MIMECAST_SECRET_KEY") && err.contains("MIMECAST_APP_KEY"),
            "{err}"
        );
    }

    #[test]
    fn unknown_keys_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "[default]\nclient_idd = \"x\"\n").unwrap();
        let err = read_profiles(&path).unwrap_err().to_string();
        assert!(err.contains("client_idd"), "{err}");
    }

    #[test]
    fn fleets_name_profiles_and_survive_a_profile_being_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(
            &path,
            "[acme]\nclient_id = \"a\"\nclient_secret = \"s\"\n\n[globex]\nclient_id = \"g\"\nclient_secret = \"t\"\n\n[fleets]\nemea = [\"acme\", \"globex\"]\n",
        )
        .unwrap();
        let fleets = file::read_fleets(&path).unwrap();
        assert_eq!(fleets["emea"], ["acme", "globex"]);
        let profiles = read_profiles(&path).unwrap();
        assert_eq!(profiles.keys().collect::<Vec<_>>(), ["acme", "globex"]);
        let p = Profile {
            client_id: Some("i".into()),
            client_secret: Some("u".into()),
            ..Profile::default()
        };
        write_profile(&path, "initech", &p, false).unwrap();
        assert_eq!(
            file::read_fleets(&path).unwrap()["emea"],
            ["acme", "globex"]
        );
        assert_eq!(read_profiles(&path).unwrap().len(), 3);
        let err = write_profile(&path, "fleets", &p, false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("choose another profile name"), "{err}");

        std::fs::write(
            &path,
            "[acme]\nclient_id = \"a\"\n\n[fleets]\nemea = [\"acme\", \"umbrella\"]\n",
        )
        .unwrap();
        // A fleet naming a missing profile does not stop the file being read (`--fleet emea`
        // says so when it is used).
        assert_eq!(read_profiles(&path).unwrap().len(), 1);
        assert_eq!(
            file::read_fleets(&path).unwrap()["emea"],
            ["acme", "umbrella"]
        );
        std::fs::write(
            &path,
            "[acme]\nclient_idd = \"SECRETVALUE\"\n\n[fleets]\nemea = [\"acme\"]\n",
        )
        .unwrap();
        let err = read_profiles(&path).unwrap_err().to_string();
        assert!(
            err.contains("profile \"acme\"") && err.contains("client_idd"),
            "{err}"
        );
        assert!(!err.contains("SECRETVALUE"), "{err}");
    }

    #[test]
    fn profiles_are_written_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/config.toml");
        let p = Profile {
            client_id: Some("id".into()),
            client_secret: Some("s".into()),
            ..Profile::default()
        };
        write_profile(&path, "prod", &p, false).unwrap();
        assert!(write_profile(&path, "prod", &p, false).is_err());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        assert_eq!(read_profiles(&path).unwrap()["prod"], p);
    }
}

//! Where credentials and settings come from: flags > environment > config file > defaults.
//!
//! Policy: the config file is TOML with one table per profile, under
//! `$XDG_CONFIG_HOME/mcsh/config.toml` (or `MCSH_CONFIG`), written with mode 0600. Unknown keys
//! are errors that name the key. The scheme follows from what is set; both schemes at once is
//! an error. Secrets stay in [`Secret`] from the moment they are read, and a secret-holding
//! file that others can read draws a warning.

pub mod file;

use std::collections::BTreeMap;
use std::path::PathBuf;

use file::permission_warning;
pub use file::{config_path, read_profiles, write_profile};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::api::{Credentials, Secret};

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

/// Where a resolved value came from, for `config show`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// An environment variable.
    Env,
    /// The config file.
    File,
    /// `secret_command`.
    Command,
    /// The built-in default.
    Default,
}

/// A resolved setting with its origin.
#[derive(Debug, Clone)]
pub struct Value {
    /// The value.
    pub value: String,
    /// Where it came from.
    pub source: Source,
}

/// The merged view of environment and profile, before credentials are built.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The profile consulted.
    pub profile: String,
    /// The file consulted.
    pub path: PathBuf,
    /// Every value found, by profile key.
    pub values: BTreeMap<&'static str, Value>,
    /// Problems worth a warning (e.g. file permissions).
    pub warnings: Vec<String>,
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

/// Merges the environment over profile `profile` (default `default`) of the config file.
pub fn resolve(
    profile: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Resolved, ConfigError> {
    let path = config_path(env);
    let profiles = read_profiles(&path)?;
    let name = profile.unwrap_or("default").to_string();
    let file_profile = match profiles.get(&name) {
        Some(p) => p.clone(),
        None if profile.is_some() => {
            let known: Vec<&str> = profiles.keys().map(String::as_str).collect();
            return Err(ConfigError::NoProfile {
                name,
                path: path.display().to_string(),
                known: if known.is_empty() {
                    "none".into()
                } else {
                    known.join(", ")
                },
            });
        }
        None => Profile::default(),
    };
    let mut warnings = Vec::new();
    let file_has_secret = profiles
        .values()
        .any(|p| p.client_secret.is_some() || p.secret_key.is_some() || p.app_key.is_some());
    if file_has_secret {
        if let Some(w) = permission_warning(&path) {
            warnings.push(w);
        }
    }
    let file_values = serde_json::to_value(&file_profile).expect("a profile serializes");
    let mut values = BTreeMap::new();
    for (key, var) in KEYS {
        if let Some(v) = env(var).filter(|v| !v.trim().is_empty()) {
            values.insert(
                *key,
                Value {
                    value: v.trim().to_string(),
                    source: Source::Env,
                },
            );
        } else if let Some(v) = file_values.get(*key).filter(|v| !v.is_null()) {
            let text = v
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string());
            values.insert(
                *key,
                Value {
                    value: text,
                    source: Source::File,
                },
            );
        }
    }
    if let Some(cmd) = &file_profile.secret_command {
        let target = if values.contains_key("access_key") {
            "secret_key"
        } else {
            "client_secret"
        };
        if !values.contains_key(target) {
            file::check_trusted(&path).map_err(|why| ConfigError::SecretCommand {
                profile: name.clone(),
                detail: format!(
                    "not run: {why}; only a file you own that nobody else can change may run \
                     commands (fix: chmod 600 {})",
                    path.display()
                ),
            })?;
            let timeout = values
                .get("timeout")
                .and_then(|v| v.value.parse::<f64>().ok())
                .filter(|s| *s > 0.0 && *s <= 3600.0)
                .map_or(
                    std::time::Duration::from_secs(30),
                    std::time::Duration::from_secs_f64,
                );
            let secret = run_secret_command(&name, cmd, timeout)?;
            values.insert(
                target,
                Value {
                    value: secret,
                    source: Source::Command,
                },
            );
        }
    }
    Ok(Resolved {
        profile: name,
        path,
        values,
        warnings,
    })
}

/// Runs `cmd` with `sh -c` and returns what it prints; one that runs longer than `timeout`
/// is killed and is an error, so a hanging password manager cannot hang mcsh.
fn run_secret_command(
    profile: &str,
    cmd: &str,
    timeout: std::time::Duration,
) -> Result<String, ConfigError> {
    use std::io::Read;
    let fail = |detail: String| ConfigError::SecretCommand {
        profile: profile.into(),
        detail,
    };
    // The platform's shell runs it: `sh -c` on Unix, `cmd /C` on Windows.
    let mut command = if cfg!(windows) {
        let mut c = std::process::Command::new("cmd");
        c.arg("/C");
        c
    } else {
        let mut c = std::process::Command::new("sh");
        c.arg("-c");
        c
    };
    command
        .arg(cmd)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit());
    // Its own process group, so a timeout stops what it started too (`sleep`, a pager...).
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command
        .spawn()
        .map_err(|e| fail(format!("cannot run it: {e}")))?;
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = (&mut stdout).take(1 << 20).read_to_end(&mut buf);
        buf
    });
    let started = std::time::Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() >= timeout => {
                #[cfg(unix)]
                // SAFETY: kill(2) on the child's own process group; no memory is involved.
                unsafe {
                    libc::kill(-(child.id() as i32), libc::SIGKILL);
                }
                let _ = child.kill();
                let _ = child.wait();
                return Err(fail(format!(
                    "it did not finish within {} s (the profile's timeout); it was stopped",
                    timeout.as_secs_f64()
                )));
            }
            Ok(None) => std::thread::sleep(std::time::Duration::from_millis(20)),
            Err(e) => return Err(fail(format!("cannot wait for it: {e}"))),
        }
    };
    let out = reader.join().unwrap_or_default();
    if !status.success() {
        return Err(fail(format!("it exited with {status}")));
    }
    let secret = String::from_utf8(out).map_err(|_| fail("its output is not UTF-8".into()))?;
    let secret = secret.trim().to_string();
    if secret.is_empty() {
        return Err(fail("it printed nothing".into()));
    }
    Ok(secret)
}

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

/// The environment variable of a profile key.
pub fn env_name(key: &str) -> &'static str {
    KEYS.iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| *v)
        .unwrap_or("?")
}

/// Shows a secret as its length only, e.g. `**** (40 chars)`.
pub fn mask(value: &str) -> String {
    format!("**** ({} chars)", value.chars().count())
}

#[cfg(test)]
mod tests {
    use super::*;
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

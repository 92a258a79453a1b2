//! Resolution: the environment merged over a profile of the config file, each value with where
//! it came from, `secret_command` run (bounded in time, its output never shown), and the
//! warnings worth showing (a secret-holding file others can read).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use super::file::{self, config_path, permission_warning};
use super::{ConfigError, Profile, KEYS};

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

/// Merges the environment over profile `profile` (default `default`) of the config file.
pub fn resolve(
    profile: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Resolved, ConfigError> {
    let path = config_path(env);
    let (profiles, trust) = file::read_with_trust(&path)?;
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
    // Where credentials go is decided only by a file nobody else can change: one writable by
    // another user could point the secret (from the environment too) at their own host.
    if values
        .get("base_url")
        .is_some_and(|v| v.source == Source::File)
    {
        if let Err(why) = &trust {
            return Err(ConfigError::File {
                path: path.display().to_string(),
                detail: format!(
                    "its base_url is not used: {why}; only a file you own that nobody else can \
                     change may say where credentials go (fix: chmod 600 {}, or set \
                     MIMECAST_BASE_URL)",
                    path.display()
                ),
            });
        }
    }
    if let Some(cmd) = &file_profile.secret_command {
        let target = if values.contains_key("access_key") {
            "secret_key"
        } else {
            "client_secret"
        };
        if !values.contains_key(target) {
            trust.clone().map_err(|why| ConfigError::SecretCommand {
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
    // The environment replaces what the file says, scheme and all: API 1.0 keys in the
    // environment beside a profile's API 2.0 credentials (or the other way round) mean the
    // environment's scheme, not both.
    for (mine, other) in [(API2_KEYS, API1_KEYS), (API1_KEYS, API2_KEYS)] {
        let env_has = mine
            .iter()
            .any(|k| values.get(k).is_some_and(|v| v.source == Source::Env));
        let file_other: Vec<&str> = other
            .iter()
            .copied()
            .filter(|k| {
                values
                    .get(k)
                    .is_some_and(|v| matches!(v.source, Source::File | Source::Command))
            })
            .collect();
        let env_other = other
            .iter()
            .any(|k| values.get(k).is_some_and(|v| v.source == Source::Env));
        if env_has && !env_other && !file_other.is_empty() {
            for k in &file_other {
                values.remove(k);
            }
            warnings.push(format!(
                "the environment's {} credentials replace profile {name:?}'s {} (environment \
                 variables override the config file)",
                if mine == API2_KEYS {
                    "API 2.0"
                } else {
                    "API 1.0"
                },
                file_other.join(", ")
            ));
        }
    }
    if let Some(w) = legacy_host_warning(&values) {
        warnings.push(w);
    }
    Ok(Resolved {
        profile: name,
        path,
        values,
        warnings,
    })
}

/// The settings of each scheme.
const API2_KEYS: &[&str] = &["client_id", "client_secret"];
const API1_KEYS: &[&str] = &["access_key", "secret_key", "app_id", "app_key"];

/// A warning when API 2.0 credentials would go to an API 1.0 regional host
/// (`https://eu-api.mimecast.com`): API 2.0 is served at `api.services.mimecast.com`. Keys moved
/// from API 1.0 to 2.0 with the old profile's `base_url` left in place do exactly this.
fn legacy_host_warning(values: &BTreeMap<&'static str, Value>) -> Option<String> {
    if !values.contains_key("client_id") || values.contains_key("access_key") {
        return None;
    }
    let base = &values.get("base_url")?.value;
    let host = base
        .split("://")
        .nth(1)
        .unwrap_or(base)
        .split(['/', ':'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let legacy = host.ends_with("-api.mimecast.com") && !host.ends_with(".services.mimecast.com");
    legacy.then(|| {
        format!(
            "base_url {base} is an API 1.0 regional host, but the credentials are API 2.0 ones \
             (client id and secret): API 2.0 is served at https://api.services.mimecast.com \
             (or uk-api./us-api.services.mimecast.com); remove base_url or set it to one of those"
        )
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
    // In a fleet's part, what it says goes behind the tenant's name like the part's own
    // messages; otherwise straight to the terminal (a password manager may talk there).
    let part = crate::streams::part().is_some();
    command
        .arg(cmd)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(if part {
            std::process::Stdio::piped()
        } else {
            std::process::Stdio::inherit()
        });
    // Its own process group, so a timeout stops what it started too (`sleep`, a pager...).
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command
        .spawn()
        .map_err(|e| fail(format!("cannot run it: {e}")))?;
    let mut stdout = child.stdout.take().expect("stdout is piped");
    // A part's is kept until the secret is known: a command that echoes it (`set -x`, a
    // debug line) is shown masked.
    let passer = child.stderr.take().map(|mut from| {
        std::thread::spawn(move || {
            let mut said = Vec::new();
            let _ = (&mut from).take(1 << 20).read_to_end(&mut said);
            said
        })
    });
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
    let said = passer.map(|p| p.join().unwrap_or_default());
    let secret = String::from_utf8(out).ok().map(|s| s.trim().to_string());
    if let Some(said) = said.filter(|s| !s.is_empty()) {
        if let Some(secret) = secret.as_deref().filter(|s| !s.is_empty()) {
            crate::redact::register(secret);
        }
        use std::io::Write;
        let text = String::from_utf8_lossy(&said);
        let _ = crate::streams::stderr().write_all(crate::redact::redact(&text).as_bytes());
    }
    if !status.success() {
        return Err(fail(format!("it exited with {status}")));
    }
    let secret = secret.ok_or_else(|| fail("its output is not UTF-8".into()))?;
    if secret.is_empty() {
        return Err(fail("it printed nothing".into()));
    }
    Ok(secret)
}

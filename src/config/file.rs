//! The config file on disk: where it is, reading its profiles strictly, writing one privately.
//!
//! Policy: a missing file has no profiles; unknown keys are errors that name the key; writing
//! keeps the other profiles, refuses to replace one unless forced, and is atomic with mode
//! 0600. A secret-holding file that others can read draws a warning.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{ConfigError, Profile};

/// The config file's path: `MCSH_CONFIG`, else `$XDG_CONFIG_HOME/mcsh/config.toml`.
pub fn config_path(env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    if let Some(p) = env("MCSH_CONFIG").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    dirs::config_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("mcsh")
        .join("config.toml")
}

/// Most bytes a config file may hold (a handful of profiles is a few hundred).
const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// A TOML error as line, column and the parser's words, without the source line the
/// parser would quote (it may hold a secret), on one line.
fn parse_error(text: &str, e: &toml::de::Error) -> String {
    let what = without_values(e.message().trim()).replace('\n', " ");
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("line {line}, column {column}: {what}")
        }
        None => what,
    }
}

/// The parser's words with every quoted value left out: `invalid type: string "…"` and
/// ``unknown field `…` `` quote what the file holds, which may be a secret (pasted where a key
/// or a table goes, too). Only the names of the keys mcsh knows, and near misses of them, are
/// kept.
fn without_values(message: &str) -> String {
    // A known key, or a near miss of one (`client_idd`): a typo is named, anything else (a
    // secret pasted where a key goes) is not.
    let known = |word: &str| {
        let keys = super::KEYS
            .iter()
            .map(|(k, _)| *k)
            .chain(["secret_command"]);
        word.len() <= 32
            && keys
                .into_iter()
                .any(|k| strsim::damerau_levenshtein(word, k) <= 3)
    };
    let mut out = String::new();
    let mut chars = message.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '"' && c != '`' {
            out.push(c);
            continue;
        }
        let mut word = String::new();
        let mut closed = false;
        for d in chars.by_ref() {
            if d == c {
                closed = true;
                break;
            }
            word.push(d);
        }
        if closed && known(&word) {
            out.push(c);
            out.push_str(&word);
            out.push(c);
        } else {
            out.push_str("(value not shown)");
        }
    }
    // Unquoted numbers can be secrets too (`client_secret = 98765432`).
    out.split(' ')
        .map(|w| {
            if w.trim_matches(|c: char| !c.is_ascii_alphanumeric()).len() >= 4
                && w.chars().filter(char::is_ascii_digit).count() >= 4
            {
                "(value not shown)"
            } else {
                w
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Reads every profile of the file at `path`; a missing file has none.
pub fn read_profiles(path: &Path) -> Result<BTreeMap<String, Profile>, ConfigError> {
    read_with_trust(path).map(|(profiles, _)| profiles)
}

/// Whether a config file may decide where credentials go (its `base_url`) and run commands
/// (`secret_command`): `Err` says why not.
pub type Trust = Result<(), String>;

/// Reads every profile of the file at `path`, and whether the file read is trusted ([`Trust`]),
/// told from the open file itself: a file swapped between a check and the read cannot pass
/// the check for another.
pub(super) fn read_with_trust(
    path: &Path,
) -> Result<(BTreeMap<String, Profile>, Trust), ConfigError> {
    use std::io::Read;
    let bad = |detail: String| ConfigError::File {
        path: path.display().to_string(),
        detail,
    };
    if path.as_os_str() == "-" {
        return Err(bad(
            "the config file must be a file, not standard input".into()
        ));
    }
    let not_regular = || {
        bad(
            "it is not a regular file (a device, FIFO or directory); point MCSH_CONFIG at a file"
                .into(),
        )
    };
    // Checked before opening: opening a FIFO waits for a writer that may never come.
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((BTreeMap::new(), Ok(()))),
        Err(e) => return Err(bad(e.to_string())),
        Ok(m) if !m.is_file() => return Err(not_regular()),
        Ok(_) => {}
    }
    let file = std::fs::File::open(path).map_err(|e| bad(e.to_string()))?;
    let meta = file.metadata().map_err(|e| bad(e.to_string()))?;
    if !meta.is_file() {
        return Err(not_regular());
    }
    let trust = trusted(path, &meta);
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| bad(e.to_string()))?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(bad(format!(
            "it is larger than {} KiB, the most mcsh reads",
            MAX_CONFIG_BYTES >> 10
        )));
    }
    let text = String::from_utf8(bytes).map_err(|_| bad("it is not UTF-8 text".into()))?;
    let (profiles, _) = parse(&text).map_err(bad)?;
    Ok((profiles, trust))
}

/// The name of the table that holds named sets of profiles (`[fleets]`): no profile has it.
pub const FLEETS: &str = "fleets";

/// Named sets of profiles: `emea = ["acme", "globex"]` under `[fleets]`.
pub type Fleets = BTreeMap<String, Vec<String>>;

/// The profiles and the fleets of a config file's text; `Err` says where and what is wrong,
/// never quoting a value (it may be a secret).
fn parse(text: &str) -> Result<(BTreeMap<String, Profile>, Fleets), String> {
    // Where and what, never the line itself: it may hold a secret.
    let mut table: toml::Table = toml::from_str(text).map_err(|e| parse_error(text, &e))?;
    let Some(fleets) = table.remove(FLEETS) else {
        // No fleets: the profiles parse from the text, so errors keep their line and column.
        let profiles = toml::from_str(text).map_err(|e| parse_error(text, &e))?;
        return Ok((profiles, Fleets::new()));
    };
    let fleets: Fleets = fleets.try_into().map_err(|_| {
        format!("[{FLEETS}] holds named lists of profiles, e.g. emea = [\"acme\", \"globex\"]")
    })?;
    let mut profiles = BTreeMap::new();
    for (name, value) in table {
        let profile: Profile = value.try_into().map_err(|e: toml::de::Error| {
            format!("profile {name:?}: {}", without_values(e.message().trim()))
        })?;
        profiles.insert(name, profile);
    }
    // A fleet naming a profile the file lacks is told when that fleet is used: a typo in one
    // fleet must not stop every other command.
    Ok((profiles, fleets))
}

/// The fleets (`[fleets]`) of the config file at `path`; a missing file has none.
pub fn read_fleets(path: &Path) -> Result<Fleets, ConfigError> {
    let bad = |detail: String| ConfigError::File {
        path: path.display().to_string(),
        detail,
    };
    if !path.exists() {
        return Ok(Fleets::new());
    }
    let bytes = crate::files::read_bounded(&path.display().to_string(), MAX_CONFIG_BYTES)
        .map_err(|e| bad(e.to_string()))?;
    let text = String::from_utf8(bytes).map_err(|_| bad("it is not UTF-8 text".into()))?;
    parse(&text).map(|(_, fleets)| fleets).map_err(bad)
}

#[cfg(unix)]
pub(super) fn permission_warning(path: &Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode();
    (mode & 0o077 != 0).then(|| {
        format!(
            "{} holds secrets and can be read by other users (mode {:o}); run: chmod 600 {}",
            path.display(),
            mode & 0o777,
            path.display()
        )
    })
}

/// `Ok` when the config file `path` (whose metadata, from the open file, is `meta`) may run
/// commands and say where credentials go: owned by this user and not writable by group or
/// others; otherwise why not.
#[cfg(unix)]
fn trusted(path: &Path, meta: &std::fs::Metadata) -> Trust {
    use std::os::unix::fs::MetadataExt;
    if !crate::files::owned_by_me(meta) {
        return Err(format!(
            "{} is owned by another user (uid {})",
            path.display(),
            meta.uid()
        ));
    }
    let mode = meta.mode() & 0o777;
    if mode & 0o022 != 0 {
        return Err(format!(
            "{} can be changed by other users (mode {mode:o})",
            path.display()
        ));
    }
    // A link another user owns, or a folder another user may change (not root's, not sticky),
    // lets that user decide which file is read.
    if let Ok(link) = std::fs::symlink_metadata(path) {
        if link.file_type().is_symlink() && link.uid() != 0 && !crate::files::owned_by_me(&link) {
            return Err(format!(
                "{} is a link owned by another user (uid {})",
                path.display(),
                link.uid()
            ));
        }
    }
    let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    for folder in real.ancestors().skip(1) {
        let Ok(m) = std::fs::metadata(folder) else {
            continue;
        };
        let sticky = m.mode() & 0o1000 != 0;
        let others_write = m.mode() & 0o022 != 0;
        if (others_write && !sticky) || (m.uid() != 0 && !crate::files::owned_by_me(&m)) {
            return Err(format!(
                "its folder {} can be changed by other users (owner uid {}, mode {:o})",
                folder.display(),
                m.uid(),
                m.mode() & 0o7777
            ));
        }
    }
    Ok(())
}

/// Windows has no mode bits: the file's ACL is the user's business.
#[cfg(not(unix))]
fn trusted(_path: &Path, _meta: &std::fs::Metadata) -> Trust {
    Ok(())
}

#[cfg(not(unix))]
pub(super) fn permission_warning(_path: &Path) -> Option<String> {
    None
}

/// Writes `profile` into the file at `path` (creating it with mode 0600), keeping the other
/// profiles. Refuses to replace an existing profile unless `force`.
pub fn write_profile(
    path: &Path,
    name: &str,
    profile: &Profile,
    force: bool,
) -> Result<(), ConfigError> {
    let file_err = |detail: String| ConfigError::File {
        path: path.display().to_string(),
        detail,
    };
    if name == FLEETS {
        return Err(ConfigError::Invalid(format!(
            "{FLEETS:?} names the table of fleets (named sets of profiles); choose another profile name"
        )));
    }
    let mut profiles = read_profiles(path)?;
    let fleets = read_fleets(path)?;
    if profiles.contains_key(name) && !force {
        return Err(ConfigError::Invalid(format!(
            "profile {name:?} already exists in {}; pass --force to replace it",
            path.display()
        )));
    }
    profiles.insert(name.to_string(), profile.clone());
    let mut text = toml::to_string_pretty(&profiles).map_err(|e| file_err(e.to_string()))?;
    if !fleets.is_empty() {
        // The fleets are kept: rewriting a profile must not lose them.
        let mut table = toml::Table::new();
        table.insert(
            FLEETS.into(),
            toml::Value::try_from(&fleets).map_err(|e| file_err(e.to_string()))?,
        );
        text.push('\n');
        text.push_str(&toml::to_string_pretty(&table).map_err(|e| file_err(e.to_string()))?);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| file_err(e.to_string()))?;
    }
    crate::files::write_atomic(path, text.as_bytes(), true).map_err(|e| file_err(e.to_string()))
}

/// Stores a discovered `base_url` in profile `name` of the file at `path`, if the file holds
/// that profile; returns whether it did. Other profiles and keys are kept.
pub fn cache_base_url(path: &Path, name: &str, base_url: &str) -> Result<bool, ConfigError> {
    // A fleet's tenants discover at once, each a thread of this process: one read, change and
    // write of the file at a time, or each would write back a file without the others' URLs.
    static SAVING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = SAVING.lock().unwrap_or_else(|e| e.into_inner());
    let profiles = read_profiles(path)?;
    let Some(profile) = profiles.get(name) else {
        return Ok(false);
    };
    let updated = Profile {
        base_url: Some(base_url.to_string()),
        ..profile.clone()
    };
    write_profile(path, name, &updated, true)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::without_values;

    #[test]
    fn parser_messages_keep_key_names_and_lose_values() {
        assert_eq!(
            without_values("invalid type: string \"XSECRETX\", expected struct Profile"),
            "invalid type: string (value not shown), expected struct Profile"
        );
        assert_eq!(
            without_values("unknown field `XSECRETX`, expected one of `base_url`, `client_id`"),
            "unknown field (value not shown), expected one of `base_url`, `client_id`"
        );
        assert_eq!(
            without_values("invalid type: integer `98765432`, expected a string"),
            "invalid type: integer (value not shown), expected a string"
        );
        assert_eq!(
            without_values("duplicate key `client_secret`"),
            "duplicate key `client_secret`"
        );
        assert_eq!(
            without_values("unknown field `clinet_secret`, expected one of `client_secret`"),
            "unknown field `clinet_secret`, expected one of `client_secret`"
        );
        assert!(!without_values("invalid type: floating point `1234.5678`").contains("1234"));
    }
}

//! Where mcsh keeps its own files, and the rule that a script never writes them.
//!
//! Policy: mcsh's state is the config file, the plan key, the audit log, the REPL history, the
//! sandbox's and rehearsals' databases: everything under its folders in the user's config,
//! data and state directories, and the files `MCSH_CONFIG`, `MCSH_AUDIT_LOG` and
//! `MCSH_SANDBOX_STATE` name elsewhere. A script that could write them could plant a
//! `base_url` and `secret_command`, forge plans with the key, or erase the audit log. A path
//! is judged by where it really leads: symbolic links are followed (even dangling ones, to
//! the file they would create), `..` is resolved, and an existing file that is a hard link to
//! one of mcsh's files counts as that file.

use std::path::{Path, PathBuf};

/// mcsh's own folders and the files the environment puts elsewhere, as they resolve now.
fn protected(env: &dyn Fn(&str) -> Option<String>) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let folders: Vec<PathBuf> = [dirs::config_dir(), dirs::data_dir(), dirs::state_dir()]
        .into_iter()
        .flatten()
        .map(|d| resolve(&d.join("mcsh")))
        .collect();
    let mut files: Vec<PathBuf> = vec![crate::config::config_path(env), audit_log(env)];
    if let Some(state) = env("MCSH_SANDBOX_STATE").filter(|s| !s.is_empty() && s != ":memory:") {
        files.push(PathBuf::from(state));
    }
    // A plan key where there is no data dir lives in the temporary folder.
    files.push(std::env::temp_dir().join("mcsh").join("plan.key"));
    let files = files.iter().map(|f| resolve(f)).collect();
    (folders, files)
}

/// The audit log: `$XDG_STATE_HOME/mcsh/audit.jsonl` (or the data dir where there is no
/// state dir), unless `MCSH_AUDIT_LOG` names another file.
pub fn audit_log(env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    if let Some(p) = env("MCSH_AUDIT_LOG").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    dirs::state_dir()
        .or_else(dirs::data_dir)
        .unwrap_or_else(std::env::temp_dir)
        .join("mcsh")
        .join("audit.jsonl")
}

/// `path` as it really leads: absolute, links followed, `..` resolved, also for a file that
/// does not exist yet (its folder is resolved and its name kept).
pub fn resolve(path: &Path) -> PathBuf {
    resolve_at(path, 0)
}

fn resolve_at(path: &Path, depth: u32) -> PathBuf {
    if let Ok(real) = std::fs::canonicalize(path) {
        return real;
    }
    if depth < 40 {
        if let Ok(target) = std::fs::read_link(path) {
            let next = match path.parent() {
                Some(parent) if target.is_relative() => parent.join(target),
                _ => target,
            };
            return resolve_at(&next, depth + 1);
        }
    }
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    };
    match (absolute.parent(), absolute.file_name()) {
        (Some(parent), Some(name)) if depth < 40 => resolve_at(parent, depth + 1).join(name),
        (Some(parent), None) => resolve_at(parent, depth + 1),
        _ => absolute,
    }
}

/// Whether `a` and `b` are one file (the same inode: hard links count).
#[cfg(unix)]
pub fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

/// Whether `a` and `b` are one file (not told on this platform).
#[cfg(not(unix))]
pub fn same_file(_: &Path, _: &Path) -> bool {
    false
}

/// Which of mcsh's own files `path` would write, described, or `None` when it is none of them.
pub fn owned_by_mcsh(path: &Path, env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let (folders, files) = protected(env);
    let real = resolve(path);
    if let Some(f) = folders.iter().find(|f| real.starts_with(f)) {
        return Some(format!("mcsh's own folder {}", f.display()));
    }
    if let Some(f) = files.iter().find(|f| **f == real || same_file(&real, f)) {
        return Some(format!("mcsh's own file {}", f.display()));
    }
    None
}

/// Writes a file the user named (`--out`, `--plan-out`, a snapshot, a saved session, manual
/// pages) as [`crate::files::write_atomic`] does, refusing mcsh's own files: a config, the
/// plan key, the audit log, the history or a sandbox state replaced by a snapshot or a plan
/// would lose what it held (the key would seal nothing the user made before).
pub fn write_named(path: &Path, bytes: &[u8], private: bool) -> std::io::Result<()> {
    write_named_in(path, bytes, private, &|k| std::env::var(k).ok())
}

/// [`write_named`] with the environment `env` tells mcsh's files by.
fn write_named_in(
    path: &Path,
    bytes: &[u8],
    private: bool,
    env: &dyn Fn(&str) -> Option<String>,
) -> std::io::Result<()> {
    if let Some(what) = owned_by_mcsh(path, env) {
        return Err(std::io::Error::other(format!(
            "{} is {what}, which mcsh writes only itself; choose another name",
            path.display()
        )));
    }
    crate::files::write_atomic(path, bytes, private)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_and_dots_lead_to_the_file_they_name() {
        let dir = tempfile::tempdir().unwrap();
        let own = dir.path().join("own");
        std::fs::create_dir(&own).unwrap();
        let log = own.join("audit.jsonl");
        std::fs::write(&log, "x").unwrap();
        let env = {
            let log = log.display().to_string();
            move |k: &str| (k == "MCSH_AUDIT_LOG").then(|| log.clone())
        };
        assert!(owned_by_mcsh(&log, &env).is_some());
        let dotted = dir.path().join("elsewhere/../own/./audit.jsonl");
        std::fs::create_dir(dir.path().join("elsewhere")).unwrap();
        assert!(owned_by_mcsh(&dotted, &env).is_some());
        #[cfg(unix)]
        {
            let link = dir.path().join("innocent.csv");
            std::os::unix::fs::symlink(&log, &link).unwrap();
            assert!(owned_by_mcsh(&link, &env).is_some());
            let hard = dir.path().join("hard.csv");
            std::fs::hard_link(&log, &hard).unwrap();
            assert!(owned_by_mcsh(&hard, &env).is_some());
            // A dangling link to a file the env names but that does not exist yet.
            let future = own.join("sandbox.db");
            let env2 = {
                let f = future.display().to_string();
                move |k: &str| (k == "MCSH_SANDBOX_STATE").then(|| f.clone())
            };
            let dangling = dir.path().join("later.csv");
            std::os::unix::fs::symlink(&future, &dangling).unwrap();
            assert!(owned_by_mcsh(&dangling, &env2).is_some());
        }
        assert!(owned_by_mcsh(&dir.path().join("report.csv"), &env).is_none());
    }

    #[test]
    fn a_file_the_user_names_is_never_one_of_mcshs_own() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("audit.jsonl");
        std::fs::write(&log, "kept").unwrap();
        let env = {
            let log = log.display().to_string();
            move |k: &str| (k == "MCSH_AUDIT_LOG").then(|| log.clone())
        };
        let e = write_named_in(&log, b"a snapshot", true, &env).unwrap_err();
        assert!(e.to_string().contains("mcsh's own file"), "{e}");
        assert_eq!(std::fs::read(&log).unwrap(), b"kept");
        let other = dir.path().join("snapshot.json");
        write_named_in(&other, b"{}", true, &env).unwrap();
        assert_eq!(std::fs::read(&other).unwrap(), b"{}");
    }
}

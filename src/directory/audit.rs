//! The audit log: one JSON line per write, appended to a file in the user's state directory.
//!
//! Policy: every write, and every write a dry run planned (marked `dryRun`), is recorded with
//! time, profile, endpoint, item, outcome and request id. Nothing secret is ever in an item we
//! send, and fields named like secrets are masked anyway. The log is opened before the first
//! write is sent: a log that cannot be written stops the run before anything is written
//! (`MCSH_AUDIT_LOG=off` runs without one, deliberately). A failure to append a later line
//! is reported once.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde_json::{json, Value};

use super::outcome::ItemResult;

/// Keys whose values never reach the log.
const SECRET_KEYS: &[&str] = &[
    "password",
    "secret",
    "token",
    "client_secret",
    "secret_key",
    "app_key",
];

/// An append-only audit log.
pub struct Audit {
    path: PathBuf,
    profile: String,
    file: Mutex<Option<std::fs::File>>,
    failed: Mutex<Option<String>>,
}

/// The default log: `$XDG_STATE_HOME/mcsh/audit.jsonl` (or the data dir where there is no
/// state dir), unless `MCSH_AUDIT_LOG` names another file.
pub fn default_path(env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    if let Some(p) = env("MCSH_AUDIT_LOG").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    dirs::state_dir()
        .or_else(dirs::data_dir)
        .unwrap_or_else(std::env::temp_dir)
        .join("mcsh")
        .join("audit.jsonl")
}

impl Audit {
    /// A log at `path` for `profile` (the file is opened on the first write).
    pub fn new(path: PathBuf, profile: &str) -> Audit {
        Audit {
            path,
            profile: profile.to_string(),
            file: Mutex::new(None),
            failed: Mutex::new(None),
        }
    }

    /// Where the log is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens the log (creating its directory) unless it is open: `Err` says why it cannot be
    /// written, so no write is sent unaudited.
    pub fn ensure_open(&self) -> Result<(), String> {
        let mut file = self.file.lock().expect("audit lock");
        if file.is_some() {
            return Ok(());
        }
        match open_append(&self.path) {
            Ok(f) => {
                *file = Some(f);
                Ok(())
            }
            Err(e) => Err(format!(
                "cannot write the audit log {}: {e}",
                self.path.display()
            )),
        }
    }

    /// The first error met writing the log, if any.
    pub fn error(&self) -> Option<String> {
        self.failed.lock().expect("audit lock").clone()
    }

    /// Appends one line.
    pub fn record(
        &self,
        endpoint: &str,
        item: &Value,
        result: &ItemResult,
        request_id: Option<&str>,
        dry_run: bool,
    ) {
        let mut line = json!({
            "time": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "profile": self.profile,
            "endpoint": endpoint,
            "item": masked(item),
            "outcome": result.status,
            "message": result.message,
        });
        if let Some(code) = &result.code {
            line["code"] = json!(code);
        }
        if let Some(id) = request_id {
            line["requestId"] = json!(id);
        }
        if dry_run {
            line["dryRun"] = json!(true);
        }
        let mut text = line.to_string();
        text.push('\n');
        let mut file = self.file.lock().expect("audit lock");
        if file.is_none() {
            match open_append(&self.path) {
                Ok(f) => *file = Some(f),
                Err(e) => return self.note_failure(e),
            }
        }
        if let Some(f) = file.as_mut() {
            // One write per line: O_APPEND keeps concurrent writers' lines whole.
            if let Err(e) = f.write_all(text.as_bytes()) {
                self.note_failure(e);
            }
        }
    }

    fn note_failure(&self, e: std::io::Error) {
        let mut failed = self.failed.lock().expect("audit lock");
        if failed.is_none() {
            *failed = Some(format!(
                "cannot write the audit log {}: {e}",
                self.path.display()
            ));
        }
    }
}

fn open_append(path: &Path) -> std::io::Result<std::fs::File> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)
}

fn masked(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let secret = SECRET_KEYS
                        .iter()
                        .any(|s| k.to_ascii_lowercase().contains(s));
                    (k.clone(), if secret { json!("****") } else { masked(v) })
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(masked).collect()),
        other => other.clone(),
    }
}

/// Reads the log's lines at `path`, oldest first (a missing log has none).
pub fn read(path: &Path) -> std::io::Result<Vec<Value>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    Ok(text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::Status;

    #[test]
    fn lines_are_appended_and_secrets_masked() {
        let dir = tempfile::tempdir().unwrap();
        let audit = Audit::new(dir.path().join("a/audit.jsonl"), "prod");
        let r = ItemResult::new("x@y.com", Status::Created, "created");
        audit.record(
            "/api/user/create-user",
            &json!({"emailAddress": "x@y.com", "password": "hunter2"}),
            &r,
            Some("req-1"),
            false,
        );
        audit.record(
            "/api/user/create-user",
            &json!({"emailAddress": "z@y.com"}),
            &r,
            None,
            true,
        );
        let lines = read(audit.path()).unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["item"]["password"], "****");
        assert_eq!(lines[0]["requestId"], "req-1");
        assert_eq!(lines[1]["dryRun"], true);
        assert!(!std::fs::read_to_string(audit.path())
            .unwrap()
            .contains("hunter2"));
    }
}

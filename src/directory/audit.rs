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

use serde_json::Value;

use super::outcome::ItemResult;
use crate::api::paths;

/// Keys whose values never reach the log.
const SECRET_KEYS: &[&str] = &[
    "password",
    "secret",
    "token",
    "client_secret",
    "secret_key",
    "app_key",
];

/// What a line records beyond the item: the group's name, the id a creation made, the
/// values before a change. `mcsh undo` works from these.
#[derive(Debug, Default)]
pub struct Context<'a> {
    /// The name (path) of the group the item names.
    pub group: Option<&'a str>,
    /// The id of the group a `create-group` made.
    pub created_id: Option<&'a str>,
    /// What the changed fields held before (`name`, `description`).
    pub before: Option<Value>,
}

/// An append-only audit log.
pub struct Audit {
    path: PathBuf,
    profile: String,
    run: String,
    /// Where this run's writes go (see [`Audit::with_tenant`]).
    tenant: Option<String>,
    /// The fleet run this run is one tenant's part of (see [`Audit::in_fleet`]).
    fleet: Option<String>,
    /// This run's lines so far, and the digest of its last one.
    chain: Mutex<(u64, String)>,
    undoes: Mutex<Option<String>>,
    wrote: std::sync::atomic::AtomicBool,
    /// Whether a group was deleted: undo cannot bring one back.
    deleted_group: std::sync::atomic::AtomicBool,
    file: Mutex<Option<std::fs::File>>,
    failed: Mutex<Option<String>>,
}

/// The default log ([`crate::own_files::audit_log`], which owns where mcsh's files are).
pub fn default_path(env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    crate::own_files::audit_log(env)
}

impl Audit {
    /// A log at `path` for `profile` (the file is opened on the first write).
    pub fn new(path: PathBuf, profile: &str) -> Audit {
        Audit {
            path,
            profile: profile.to_string(),
            run: new_run_id(),
            undoes: Mutex::new(None),
            tenant: None,
            fleet: None,
            chain: Mutex::new((0, String::new())),
            wrote: std::sync::atomic::AtomicBool::new(false),
            deleted_group: std::sync::atomic::AtomicBool::new(false),
            file: Mutex::new(None),
            failed: Mutex::new(None),
        }
    }

    /// Records `tenant` (where the writes go: base URL or sandbox state, and the client id or
    /// access key; never a secret) on every line, so `mcsh undo` takes a run back only where
    /// it was made.
    pub fn with_tenant(mut self, tenant: String) -> Audit {
        self.tenant = Some(tenant);
        self
    }

    /// Marks every line as part of fleet run `fleet` (one command over several tenants), so
    /// `mcsh undo FLEET_RUN` finds each tenant's part.
    pub fn in_fleet(mut self, fleet: String) -> Audit {
        self.fleet = Some(fleet);
        self
    }

    /// This run's id: every line this run writes carries it.
    pub fn run_id(&self) -> &str {
        &self.run
    }

    /// Whether this run recorded a change that was sent (not planned).
    pub fn wrote(&self) -> bool {
        self.wrote.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether this run deleted a group (which no undo brings back).
    pub fn deleted_group(&self) -> bool {
        self.deleted_group
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Marks every line this run writes from now on as undoing run `run`.
    pub fn mark_undoing(&self, run: &str) {
        *self.undoes.lock().expect("audit lock") = Some(run.to_string());
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
        context: &Context,
    ) {
        self.record_all(endpoint, dry_run, [(item, result, request_id, context)]);
    }

    /// Appends one line for each of `entries` (an item, its result, the request that carried
    /// it, its context), written with one `write`: a batch's lines cost one system call, and
    /// lines of other writers never come between them.
    pub fn record_all<'e, 'c: 'e>(
        &self,
        endpoint: &str,
        dry_run: bool,
        entries: impl IntoIterator<Item = (&'e Value, &'e ItemResult, Option<&'e str>, &'e Context<'c>)>,
    ) {
        let mut file = self.file.lock().expect("audit lock");
        let mut text = String::new();
        // One time for the batch: its lines are recorded at the same moment.
        let time = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        for (item, result, request_id, context) in entries {
            self.line(
                &mut text, &time, endpoint, item, result, request_id, dry_run, context,
            );
        }
        if text.is_empty() {
            return;
        }
        if file.is_none() {
            match open_append(&self.path) {
                Ok(f) => *file = Some(f),
                Err(e) => return self.note_failure(e),
            }
        }
        if let Some(f) = file.as_mut() {
            // One write for all: O_APPEND keeps concurrent writers' lines whole.
            if let Err(e) = f.write_all(text.as_bytes()) {
                self.note_failure(e);
            }
        }
    }

    /// Adds one item's line to `text`, taking the next place in the run's chain. Called with
    /// the log's lock held, so the chain's order is the file's.
    ///
    /// A line is a JSON object written compactly with its keys in order, as serialising its
    /// map writes it (which is how `read` checks its digest); it is written field by field,
    /// without building the map, since every write of a run passes here.
    #[allow(clippy::too_many_arguments)]
    fn line(
        &self,
        text: &mut String,
        time: &str,
        endpoint: &str,
        item: &Value,
        result: &ItemResult,
        request_id: Option<&str>,
        dry_run: bool,
        context: &Context,
    ) {
        if !dry_run
            && matches!(
                result.status,
                super::Status::Created
                    | super::Status::Updated
                    | super::Status::Removed
                    | super::Status::Unverified
            )
        {
            self.wrote.store(true, std::sync::atomic::Ordering::Relaxed);
            if endpoint == crate::api::paths::DELETE_GROUP {
                self.deleted_group
                    .store(true, std::sync::atomic::Ordering::Relaxed);
            }
        }
        // A message may hold what a server echoed: the one redaction of secrets.
        let message = crate::redact::redact(&result.message);
        let undoes = self.undoes.lock().expect("audit lock").clone();
        // Each run's lines form a chain: a number and the digest of the run's line before, so
        // an earlier line edited, removed or moved is reported when the log is read.
        let mut chain = self.chain.lock().expect("audit lock");
        chain.0 += 1;
        // The keys before `self`, in order...
        let mut head = Fields::default();
        if let Some(before) = &context.before {
            head.put("before", &Masked(before));
        }
        if let Some(code) = &result.code {
            head.put("code", code);
        }
        if let Some(id) = context.created_id {
            head.put("createdId", id);
        }
        if dry_run {
            head.put("dryRun", &true);
        }
        head.put("endpoint", endpoint);
        if let Some(fleet) = &self.fleet {
            head.put("fleet", fleet);
        }
        if let Some(name) = context.group {
            head.put("group", name);
        }
        head.put("item", &Masked(item));
        head.put("message", &*message);
        head.put("outcome", &result.status);
        head.put("prev", &chain.1);
        head.put("profile", &self.profile);
        if let Some(id) = request_id {
            head.put("requestId", id);
        }
        head.put("run", &self.run);
        // ...and those after it.
        let mut tail = Fields::default();
        tail.put("seq", &chain.0);
        tail.put("tenant", &self.tenant);
        tail.put("time", time);
        if let Some(run) = &undoes {
            tail.put("undoes", run);
        }
        let (head, tail) = (head.inner(), tail.inner());
        // The line's own digest too (of the line without it): the last line of a run has no
        // successor to vouch for it.
        let own = digest_of(&[b"{", head.as_bytes(), b",", tail.as_bytes(), b"}"]);
        let own_field = format!(",\"self\":\"{own}\",");
        chain.1 = digest_of(&[
            b"{",
            head.as_bytes(),
            own_field.as_bytes(),
            tail.as_bytes(),
            b"}",
        ]);
        text.push('{');
        text.push_str(head);
        text.push_str(&own_field);
        text.push_str(tail);
        text.push_str("}\n");
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
    // Opening a FIFO waits for a reader that may never come; a device is no log.
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
        return Err(std::io::Error::other(
            "it is not a regular file (a FIFO, device or directory)",
        ));
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

/// A value as the log holds it: the values of keys named like secrets, at any depth, are
/// `"****"`.
struct Masked<'a>(&'a Value);

impl serde::Serialize for Masked<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        match self.0 {
            Value::Object(m) => {
                let mut map = s.serialize_map(Some(m.len()))?;
                for (k, v) in m {
                    if is_secret_key(k) {
                        map.serialize_entry(k, "****")?;
                    } else {
                        map.serialize_entry(k, &Masked(v))?;
                    }
                }
                map.end()
            }
            Value::Array(a) => s.collect_seq(a.iter().map(Masked)),
            other => other.serialize(s),
        }
    }
}

/// Whether a key names a secret: it holds one of [`SECRET_KEYS`] in any case. Every key of
/// every item written passes here, so it compares in place rather than lowercasing a copy.
fn is_secret_key(key: &str) -> bool {
    let key = key.as_bytes();
    SECRET_KEYS.iter().any(|s| {
        key.windows(s.len())
            .any(|w| w.eq_ignore_ascii_case(s.as_bytes()))
    })
}

/// The fields of a line, written in the order they are put: `"key":value` separated by
/// commas, without the braces.
#[derive(Default)]
struct Fields(Vec<u8>);

impl Fields {
    fn put(&mut self, key: &str, value: &(impl serde::Serialize + ?Sized)) {
        if !self.0.is_empty() {
            self.0.push(b',');
        }
        // Writing strings, numbers and `Value`s to memory cannot fail.
        let _ = serde_json::to_writer(&mut self.0, key);
        self.0.push(b':');
        let _ = serde_json::to_writer(&mut self.0, value);
    }

    fn inner(&self) -> &str {
        // serde_json writes UTF-8 only.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// A run id: the time it started and a random part, `20261129-062002-3f9a`.
pub fn new_run_id() -> String {
    let now = chrono::Utc::now();
    format!(
        "{}-{:04x}",
        now.format("%Y%m%d-%H%M%S"),
        rand::random::<u16>()
    )
}

/// What one line did, in words: `added bob@company.com to Sales`.
pub fn describe(line: &Value) -> String {
    let item = &line["item"];
    // Names come from the log (and the tenant): a line break in one must not add a line of
    // its own to a listing shown before a confirmation.
    let text =
        |k: &str| crate::output::printable(item.get(k).and_then(Value::as_str).unwrap_or(""));
    let email = text("emailAddress");
    let group = line
        .get("group")
        .and_then(Value::as_str)
        .map(crate::output::printable)
        .unwrap_or_else(|| {
            let id = text("id");
            let short: String = id.chars().take(12).collect();
            if id.chars().count() > 12 {
                format!("group {short}…")
            } else {
                format!("group {short}")
            }
        });
    let member = if email.is_empty() {
        text("domain")
    } else {
        email.clone()
    };
    let addresses = || {
        item.get("emailAddresses")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default()
    };
    let endpoint = line["endpoint"].as_str().unwrap_or("");
    match endpoint {
        paths::ADD_GROUP_MEMBER => format!("add {member} to {group}"),
        paths::REMOVE_GROUP_MEMBER => format!("remove {member} from {group}"),
        paths::CREATE_USER => match text("name").as_str() {
            "" => format!("create user {email}"),
            name => format!("create user {email} ({name})"),
        },
        paths::UPDATE_USER => {
            let mut changes = Vec::new();
            if let Some(name) = item.get("name").and_then(Value::as_str) {
                changes.push(format!("name {name:?}"));
            }
            match item.get("accountLocked").and_then(Value::as_bool) {
                Some(true) => changes.push("lock".into()),
                Some(false) => changes.push("unlock".into()),
                None => {}
            }
            match item.get("accountDisabled").and_then(Value::as_bool) {
                Some(true) => changes.push("disable".into()),
                Some(false) => changes.push("enable".into()),
                None => {}
            }
            format!("update user {email}: {}", changes.join(", "))
        }
        paths::UPDATE_ALIAS => format!("add alias {} to {}", text("alias"), text("aliasFor")),
        paths::ADD_TO_PURGE_LIST => format!("queue {} for deletion", addresses()),
        paths::REMOVE_FROM_PURGE_LIST => format!("restore {}", addresses()),
        paths::CREATE_GROUP => {
            let name = text("description");
            if item.get("parentId").is_some() {
                format!("create group {name} (nested)")
            } else {
                format!("create group {name}")
            }
        }
        paths::UPDATE_GROUP => format!("rename {group} to {}", text("description")),
        paths::DELETE_GROUP => format!("delete {group}"),
        other => format!("{other} {item}"),
    }
}

/// The lines of an audit log, oldest first.
#[derive(Debug, Default)]
pub struct Log {
    /// The lines that are JSON records.
    pub lines: Vec<Value>,
    /// The numbers (from 1) of the non-empty lines that are not: torn by a crash, or edited.
    pub unreadable: Vec<usize>,
    /// The first line (from 1) whose run's chain is broken before it: an earlier line of its
    /// run was edited, removed or moved.
    pub changed: Option<usize>,
    /// The runs with such a line: `mcsh undo` refuses to take them back.
    pub changed_runs: std::collections::HashSet<String>,
}

/// The digest a line's successor in its run carries as `prev`.
fn digest(line: &str) -> String {
    digest_of(&[line.as_bytes()])
}

/// [`digest`] of `parts` joined.
fn digest_of(parts: &[&[u8]]) -> String {
    use sha1::Digest as _;
    let mut h = sha1::Sha1::new();
    for p in parts {
        h.update(p);
    }
    let hash = h.finalize();
    let mut out = String::with_capacity(16);
    for b in hash.iter().take(8) {
        out.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
        out.push(char::from_digit(u32::from(b & 15), 16).unwrap_or('0'));
    }
    out
}

impl Log {
    /// What to tell the user when lines were left out or the log was changed.
    pub fn warning(&self, path: &Path) -> Option<String> {
        if let Some(at) = self.changed {
            return Some(format!(
                "the audit log {} was changed after mcsh wrote it: before line {at}, a line of its run was edited, removed or moved; what it says may not be what happened",
                path.display()
            ));
        }
        let first = self.unreadable.first()?;
        Some(format!(
            "the audit log {} has {} line(s) that are not records (first: line {first}); they are left out",
            path.display(),
            self.unreadable.len()
        ))
    }
}

/// The largest log `mcsh audit` and `mcsh undo` read (move a bigger one aside to start anew).
pub const MAX_LOG_BYTES: u64 = 1 << 30;

/// Reads the log at `path` (a missing log has no lines). A line that is not a JSON record
/// is counted in [`Log::unreadable`], never silently dropped.
pub fn read(path: &Path) -> std::io::Result<Log> {
    // Bounded and regular: a log pointed at a FIFO must not hang, nor /dev/zero fill memory.
    let bytes = match crate::files::read_bounded(&path.to_string_lossy(), MAX_LOG_BYTES) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Log::default()),
        Err(e) => return Err(e),
    };
    let mut log = Log::default();
    // Per run: the number and digest its next line must carry, and whether its lines carry
    // their own digest (a log from before `self` has none; once a run's line has, its later
    // lines must too, or its last line could be edited with `self` taken out).
    let mut chains: std::collections::HashMap<String, (u64, String, bool)> = Default::default();
    for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Value>(line) {
            Ok(v) if v.is_object() => {
                if let (Some(run), Some(seq)) = (v["run"].as_str(), v["seq"].as_u64()) {
                    let want = chains
                        .entry(run.to_string())
                        .or_insert((1, String::new(), false));
                    let prev = v["prev"].as_str().unwrap_or("");
                    let own_ok = {
                        let mut bare = v.clone();
                        let said = bare.as_object_mut().and_then(|o| o.remove("self"));
                        match said {
                            Some(Value::String(s)) => s == digest(&bare.to_string()),
                            Some(_) => false,
                            None => !want.2,
                        }
                    };
                    if seq != want.0 || prev != want.1 || !own_ok {
                        log.changed.get_or_insert(i + 1);
                        log.changed_runs.insert(run.to_string());
                    }
                    let own = want.2 || v.get("self").is_some();
                    *want = (seq + 1, digest(&String::from_utf8_lossy(line)), own);
                }
                log.lines.push(v);
            }
            _ => log.unreadable.push(i + 1),
        }
    }
    Ok(log)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_name_with_a_line_break_stays_on_its_line() {
        let line = json!({
            "endpoint": crate::api::paths::ADD_GROUP_MEMBER,
            "group": "Sales\n  remove ceo@company.com from Board",
            "item": {"id": "g", "emailAddress": "a@x.com\nfake"},
        });
        let text = describe(&line);
        assert!(!text.contains('\n'), "{text}");
    }
    use crate::directory::Status;

    #[test]
    fn a_batchs_lines_are_written_together_and_chained_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let audit = Audit::new(dir.path().join("audit.jsonl"), "prod");
        let r = ItemResult::new("x", Status::Created, "added");
        audit.record(
            "/api/user/create-user",
            &json!({"emailAddress": "first@y.com"}),
            &r,
            None,
            false,
            &Context::default(),
        );
        let items: Vec<Value> = (0..3)
            .map(|i| json!({"id": "g", "emailAddress": format!("m{i}@y.com")}))
            .collect();
        let groups = ["Sales", "Sales", "Board"];
        let contexts: Vec<Context> = groups
            .iter()
            .map(|g| Context {
                group: Some(g),
                ..Context::default()
            })
            .collect();
        audit.record_all(
            "/api/directory/add-group-member",
            false,
            items
                .iter()
                .zip(&contexts)
                .map(|(item, c)| (item, &r, Some("req-9"), c)),
        );
        let log = read(audit.path()).unwrap();
        assert_eq!(log.changed, None, "the chain holds across the batch");
        let seen: Vec<(u64, &str, &str)> = log
            .lines
            .iter()
            .map(|l| {
                (
                    l["seq"].as_u64().unwrap(),
                    l["item"]["emailAddress"].as_str().unwrap(),
                    l["group"].as_str().unwrap_or(""),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                (1, "first@y.com", ""),
                (2, "m0@y.com", "Sales"),
                (3, "m1@y.com", "Sales"),
                (4, "m2@y.com", "Board")
            ]
        );
        assert!(log.lines[1..].iter().all(|l| l["requestId"] == "req-9"));
        // An empty batch writes nothing.
        audit.record_all("/api/directory/add-group-member", false, []);
        assert_eq!(read(audit.path()).unwrap().lines.len(), 4);
    }

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
            &Context::default(),
        );
        audit.record(
            "/api/user/create-user",
            &json!({"emailAddress": "z@y.com"}),
            &r,
            None,
            true,
            &Context::default(),
        );
        let lines = read(audit.path()).unwrap().lines;
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["item"]["password"], "****");
        assert_eq!(lines[0]["requestId"], "req-1");
        assert_eq!(lines[1]["dryRun"], true);
        assert_eq!(lines[0]["run"], lines[1]["run"], "one run, one id");
        assert_eq!(describe(&lines[0]), "create user x@y.com");
        assert!(!std::fs::read_to_string(audit.path())
            .unwrap()
            .contains("hunter2"));
    }

    #[test]
    fn a_key_holding_a_secrets_name_in_any_case_is_secret() {
        for key in [
            "password",
            "newPassword",
            "CLIENT_SECRET",
            "clientSecret",
            "accessToken",
            "App_Key",
            "secret_key",
        ] {
            assert!(is_secret_key(key), "{key}");
        }
        for key in [
            "",
            "id",
            "emailAddress",
            "tok",
            "passwor",
            "appkey",
            "description",
        ] {
            assert!(!is_secret_key(key), "{key}");
        }
    }

    #[test]
    fn a_line_is_its_map_written_in_key_order_with_its_own_digest() {
        let dir = tempfile::tempdir().unwrap();
        let audit = Audit::new(dir.path().join("audit.jsonl"), "prod")
            .with_tenant("https://eu-api.mimecast.com, client id c".into())
            .in_fleet("20261207-080000-abcd".into());
        let r = ItemResult::new("x@y.com", Status::Created, "created \",\"seq\":9");
        // A key `seq` inside the item, and the text in the message, are not the line's own.
        let item = json!({"emailAddress": "x@y.com", "seq": {"seq": 1}});
        audit.record(
            "/api/user/create-user",
            &item,
            &r,
            None,
            false,
            &Context::default(),
        );
        audit.mark_undoing("20261206-010203-beef");
        // Every optional field at once: each must take its place in key order.
        let mut refused = ItemResult::new("x@y.com", Status::Failed, "no");
        refused.code = Some("err_x".into());
        let context = Context {
            group: Some("Sales"),
            created_id: Some("eNo123"),
            before: Some(json!({"name": "Old", "z": [{"client_secret": "s3"}]})),
        };
        audit.record(
            "/api/user/update-user",
            &item,
            &refused,
            Some("req-9"),
            true,
            &context,
        );
        let text = std::fs::read_to_string(audit.path()).unwrap();
        assert!(!text.contains("s3"), "a secret inside `before` is masked");
        let second: Value = serde_json::from_str(text.lines().nth(1).unwrap()).unwrap();
        for key in [
            "before",
            "code",
            "createdId",
            "dryRun",
            "fleet",
            "group",
            "requestId",
            "undoes",
        ] {
            assert!(second.get(key).is_some(), "{key} is written");
        }
        assert_eq!(second["before"]["z"][0]["client_secret"], "****");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        for (n, raw) in lines.iter().enumerate() {
            let mut value: Value = serde_json::from_str(raw).unwrap();
            assert_eq!(
                &value.to_string(),
                raw,
                "written as serialising its map writes it"
            );
            assert_eq!(value["seq"], n + 1);
            let own = value.as_object_mut().unwrap().remove("self").unwrap();
            assert_eq!(own, json!(digest(&value.to_string())));
            assert_eq!(own.as_str().unwrap().len(), 16);
        }
        let second: Value = serde_json::from_str(lines[1]).unwrap();
        assert_eq!(second["prev"], json!(digest(lines[0])));
        assert_eq!(
            digest("abc"),
            "a9993e364706816a",
            "SHA-1 of \"abc\", its first 8 bytes in hex"
        );
        assert!(read(audit.path()).unwrap().warning(audit.path()).is_none());
    }

    #[test]
    fn a_runs_last_line_edited_with_its_own_digest_taken_out_is_told() {
        let dir = tempfile::tempdir().unwrap();
        let audit = Audit::new(dir.path().join("audit.jsonl"), "prod");
        let r = ItemResult::new("x@y.com", Status::Created, "created");
        for who in ["u1@y.com", "u4@y.com"] {
            let item = json!({"emailAddress": who});
            audit.record(
                "/api/user/create-user",
                &item,
                &r,
                None,
                false,
                &Context::default(),
            );
        }
        let text = std::fs::read_to_string(audit.path()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let mut last: Value = serde_json::from_str(lines[1]).unwrap();
        last["item"]["emailAddress"] = json!("u7@y.com");
        last.as_object_mut().unwrap().remove("self");
        std::fs::write(audit.path(), format!("{}\n{last}\n", lines[0])).unwrap();
        let log = read(audit.path()).unwrap();
        assert_eq!(log.changed, Some(2), "its run's first line carries `self`");
        // A log written before lines carried `self` reads as it is.
        let old: Vec<String> = lines
            .iter()
            .map(|l| {
                let mut v: Value = serde_json::from_str(l).unwrap();
                v.as_object_mut().unwrap().remove("self");
                v.to_string()
            })
            .collect();
        let prev = digest(&old[0]);
        let mut second: Value = serde_json::from_str(&old[1]).unwrap();
        second["prev"] = json!(prev);
        std::fs::write(audit.path(), format!("{}\n{second}\n", old[0])).unwrap();
        assert_eq!(read(audit.path()).unwrap().changed, None);
    }

    #[test]
    fn only_a_change_sent_counts_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let item = json!({"emailAddress": "x@y.com"});
        let record = |status, dry_run| {
            let audit = Audit::new(dir.path().join("audit.jsonl"), "prod");
            let r = ItemResult::new("x@y.com", status, "m");
            audit.record(
                "/api/user/create-user",
                &item,
                &r,
                None,
                dry_run,
                &Context::default(),
            );
            audit.wrote()
        };
        assert!(record(Status::Created, false));
        assert!(record(Status::Updated, false));
        assert!(!record(Status::Created, true), "planned, not sent");
        assert!(!record(Status::Failed, false));
        assert!(!record(Status::Unchanged, false));
    }

    #[test]
    fn lines_read_as_words() {
        let line = json!({
            "endpoint": "/api/directory/add-group-member",
            "item": {"id": "eNoLongOpaqueGroupId", "emailAddress": "bob@company.com"},
            "group": "Sales",
        });
        assert_eq!(describe(&line), "add bob@company.com to Sales");
        let old = json!({
            "endpoint": "/api/directory/remove-group-member",
            "item": {"id": "eNoLongOpaqueGroupId", "emailAddress": "bob@company.com"},
        });
        assert_eq!(
            describe(&old),
            "remove bob@company.com from group eNoLongOpaqu…"
        );
        let lock = json!({
            "endpoint": "/api/user/update-user",
            "item": {"emailAddress": "bob@company.com", "accountLocked": true},
        });
        assert_eq!(describe(&lock), "update user bob@company.com: lock");
    }

    #[test]
    fn lines_that_are_not_records_are_counted_not_dropped_silently() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        std::fs::write(
            &path,
            b"{\"run\":\"a\"}\n{\"run\":\ntorn\n\n\xff\xfe\n[1]\n{\"run\":\"b\"}\n",
        )
        .unwrap();
        let log = read(&path).unwrap();
        assert_eq!(log.lines.len(), 2);
        assert_eq!(log.lines[1]["run"], "b");
        assert_eq!(log.unreadable, vec![2, 3, 5, 6]);
        let warning = log.warning(&path).unwrap();
        assert!(
            warning.contains("4 line(s) that are not records (first: line 2)"),
            "{warning}"
        );
        assert!(read(&dir.path().join("none"))
            .unwrap()
            .warning(&path)
            .is_none());
    }
}

//! What an admin means, on top of what Mimecast means: groups named by id or name, complete
//! listings across domains, membership changes reported item by item, dry runs.
//!
//! Policy: every write goes through a [`Directory`] method, which under dry-run records the
//! write in the plan instead of sending it; reads are always real. "Already a member" on add
//! and "not a member" on removal are outcomes (`unchanged`), not errors.

pub mod address;
pub mod audit;
pub mod deferred;
pub mod digest;
pub mod email;
pub mod ensure;
pub mod executor;
pub mod groups;
pub mod membership;
pub(crate) mod memory;
pub mod offboard;
pub(crate) mod order;
pub mod outcome;
pub mod overlay;
pub(crate) mod passed;
pub mod plan;
pub mod preview;
pub mod progress;
pub mod settle;
pub mod snapshot;
pub mod sync;
pub mod undo;
pub mod users;
pub mod wording;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::api::{ApiError, Client};

pub use outcome::{ItemResult, Status};

/// Tuning of bulk work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkOptions {
    /// Items packed into one request's `data[]`.
    pub batch_size: usize,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Records asked for per page.
    pub page_size: u32,
}

impl Default for BulkOptions {
    fn default() -> Self {
        BulkOptions {
            batch_size: 100,
            concurrency: 32,
            page_size: 500,
        }
    }
}

/// A write that a dry run recorded instead of sending.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PlannedWrite {
    /// The endpoint it would call.
    pub endpoint: String,
    /// The `data` item it would send.
    pub item: Value,
    /// The name or path of the group the item's `id` names, for people reading the plan
    /// (ids are long handles). Not sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// A write a script queued (its result unseen): had the service refused it, the script
    /// would have stopped there, so `mcsh apply` stops after its refusal too.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stops: bool,
}

impl PlannedWrite {
    /// The write on one line for a listing: its endpoint, its item (long ids shortened), and
    /// the group it names.
    pub fn describe(&self) -> String {
        let mut item = self.item.clone();
        if let Some(obj) = item.as_object_mut() {
            for v in obj.values_mut() {
                if let Some(s) = v.as_str().filter(|s| s.chars().count() > 40) {
                    *v = if s.contains(char::is_whitespace) || s.contains('@') {
                        // Characters, not bytes: a name may hold any letter (Zoë Pérez).
                        Value::String(format!("{}…", s.chars().take(16).collect::<String>()))
                    } else {
                        // An id: its end (real ids share their first characters).
                        Value::String(crate::api::ids::short(s))
                    };
                }
            }
        }
        match &self.group {
            Some(g) => format!("{} {item} (group {g:?})", self.endpoint),
            None => format!("{} {item}", self.endpoint),
        }
    }
}

/// Errors of directory operations.
#[derive(Debug, thiserror::Error)]
pub enum DirError {
    /// The API call failed.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// No group has that id or name.
    #[error("no group has the id or name {:?}{}", cut(.spec), similar_hint(.similar, .listing))]
    GroupNotFound {
        /// What the user typed.
        spec: String,
        /// Names of groups that contain it.
        similar: Vec<String>,
        /// The command that lists every group, on this tenant.
        listing: String,
    },
    /// Several groups have that name.
    #[error("group {spec:?} is ambiguous: {} groups have that name ({}); name it by its path (Engineering/Platform; a top-level one as /{spec}) or by the end of its id as shown (…ABCDEF123456)", .candidates.len(), .candidates.join(", "))]
    GroupAmbiguous {
        /// What the user typed.
        spec: String,
        /// Each candidate, described.
        candidates: Vec<String>,
    },
    /// A group path with no names in it.
    #[error("group path {path:?} names no group; write it like Engineering/Platform")]
    BadPath {
        /// What was given.
        path: String,
    },
    /// A group name mcsh cannot address.
    #[error("group name {name:?} holds `/`, which mcsh reads as a path separator (Engineering/Platform is Platform under Engineering); choose another name, or nest groups with `mcsh departments`")]
    BadName {
        /// The name.
        name: String,
    },
    /// A plan file that cannot be applied as it is.
    #[error("the plan cannot be applied: {detail}")]
    BadPlan {
        /// What is wrong.
        detail: String,
    },
    /// The object is managed by directory sync (`source: ldap`); Mimecast refuses changes.
    #[error("{}", synced_message(.what))]
    Synced {
        /// What it is, e.g. `group "Directory Staff"`.
        what: String,
    },
    /// The audit log cannot be written, so no write was sent.
    #[error("{detail}; nothing was sent (point MCSH_AUDIT_LOG at a writable file, or set MCSH_AUDIT_LOG=off to run without an audit log)")]
    AuditUnavailable {
        /// Why.
        detail: String,
    },
    /// Input that the directory shows cannot be carried out; nothing was written.
    #[error("{detail}")]
    Refused {
        /// What is wrong, and what to do.
        detail: String,
    },
    /// No live user has that address.
    #[error("no user {email:?} in the directory")]
    UserNotFound {
        /// The address.
        email: String,
    },
}

/// Why a change to a directory-synced object is refused, in plain words.
pub fn synced_message(what: &str) -> String {
    format!(
        "{what} is managed by directory sync (source ldap): Mimecast refuses changes to it here; \
         make the change in your directory (Active Directory / LDAP) and let the sync bring it over"
    )
}

/// The code results carry when mcsh refuses to change a directory-synced object.
pub const SYNCED_CODE: &str = "directory_synced";

/// What the user typed, at most 200 characters of it: an error never echoes a whole file.
fn cut(text: &str) -> String {
    if text.chars().count() <= 200 {
        return text.to_string();
    }
    let head: String = text.chars().take(200).collect();
    format!("{head}… ({} characters in all)", text.chars().count())
}

fn similar_hint(similar: &[String], listing: &str) -> String {
    if similar.is_empty() {
        format!("; `{listing}` shows them all")
    } else {
        format!("; did you mean: {}?", similar.join(", "))
    }
}

/// The directory of one account, reached through one client.
pub struct Directory {
    client: Client,
    options: BulkOptions,
    dry_run: bool,
    plan: Mutex<Vec<PlannedWrite>>,
    overlay: Mutex<overlay::Overlay>,
    reads: Mutex<Vec<plan::Read>>,
    /// What this run has read, kept current with its own writes.
    memory: Mutex<memory::Memory>,
    /// Writes queued by calls that went on without their answer.
    deferred: Mutex<Vec<deferred::Deferred>>,
    /// Member lists being read, by group id: a second caller waits for the first's read
    /// (woken when it ends) instead of reading the group again.
    reading: Mutex<HashMap<String, Arc<tokio::sync::Notify>>>,
    /// Set while queued writes are sent ([`Directory::flush`]): a dry run then foresees them
    /// only from what the run has read (see [`preview`]).
    flushing: std::sync::atomic::AtomicBool,
    /// Writes a dry run planned although what decides their outcome was not read.
    unforeseen: std::sync::atomic::AtomicU64,
    /// Group names by id, as the last listing gave them (for messages and plan labels).
    names: Mutex<HashMap<String, String>>,
    /// User names by lower-case address, of the users this run looked up.
    known_names: Mutex<HashMap<String, String>>,
    audit: Option<Arc<audit::Audit>>,
    /// How a hint names an mcsh command on this tenant: `mcsh ` and the flags that chose it.
    command: String,
    progress: Option<Arc<dyn progress::Progress>>,
    /// Items the service accepted as changes (created, updated, removed, unverified).
    changes: std::sync::atomic::AtomicU64,
}

impl Directory {
    /// A directory over `client`; with `dry_run`, writes are recorded, not sent.
    pub fn new(client: Client, options: BulkOptions, dry_run: bool) -> Directory {
        Directory {
            client,
            options,
            dry_run,
            plan: Mutex::new(Vec::new()),
            overlay: Mutex::default(),
            reads: Mutex::default(),
            memory: Mutex::default(),
            deferred: Mutex::default(),
            reading: Mutex::default(),
            flushing: std::sync::atomic::AtomicBool::new(false),
            unforeseen: std::sync::atomic::AtomicU64::new(0),
            names: Mutex::default(),
            known_names: Mutex::default(),
            audit: None,
            progress: None,
            changes: std::sync::atomic::AtomicU64::new(0),
            command: "mcsh ".into(),
        }
    }

    /// Names mcsh commands in hints as `prefix` does (`mcsh --profile acme `): the flags
    /// that chose this tenant, so a pasted hint runs on it.
    pub fn with_command(mut self, prefix: String) -> Directory {
        self.command = prefix;
        self
    }

    /// `words` as a command to paste for this tenant: `mcsh`, its flags, then `words`.
    pub fn command_line(&self, words: &str) -> String {
        crate::output::command_line(&self.command, words)
    }

    /// How many items the service has accepted as changes so far (never under a dry run):
    /// what tells the REPL that a failed statement had already changed the directory.
    pub fn changes_made(&self) -> u64 {
        self.changes.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The run's memory of what it read.
    pub(crate) fn memory(&self) -> std::sync::MutexGuard<'_, memory::Memory> {
        self.memory.lock().expect("memory lock")
    }

    /// Forgets everything read so far: the next read asks the service again. The REPL calls
    /// this before each input, so a statement sees changes made outside mcsh meanwhile.
    pub fn forget_reads(&self) {
        *self.memory() = memory::Memory::default();
        for (_, done) in self.reading.lock().expect("reading lock").drain() {
            done.notify_waiters();
        }
    }

    /// Records every write in `audit`.
    pub fn with_audit(mut self, audit: Arc<audit::Audit>) -> Directory {
        self.audit = Some(audit);
        self
    }

    /// Reports bulk progress to `progress`.
    pub fn with_progress(mut self, progress: Arc<dyn progress::Progress>) -> Directory {
        self.progress = Some(progress);
        self
    }

    /// The audit log, if one is kept.
    pub fn audit(&self) -> Option<&audit::Audit> {
        self.audit.as_deref()
    }

    /// The bulk tuning in force.
    pub fn options(&self) -> BulkOptions {
        self.options
    }

    /// The account's code and name (`get-account`), when the service tells them; `None`s when
    /// it does not (a snapshot records the tenant either way).
    /// Read once a run (see [`memory`]).
    /// A service that cannot be reached, or refuses the credentials, is an error: `None`s
    /// only say the account was asked and not told (a key without that permission).
    pub async fn account_names(&self) -> Result<(Option<String>, Option<String>), DirError> {
        if let Some(known) = self.memory().account.clone() {
            return Ok(known);
        }
        let account = match self.client.account().await {
            Ok(account) => Some(account),
            Err(crate::api::ApiError::Failed { .. })
            | Err(crate::api::ApiError::Status {
                status: 403 | 404, ..
            }) => None,
            Err(e) => return Err(e.into()),
        };
        let field = |k: &str| {
            account
                .as_ref()
                .and_then(|a| a.get(k))
                .and_then(serde_json::Value::as_str)
                .map(str::to_string)
        };
        let names = (field("accountCode"), field("accountName"));
        self.memory().account = Some(names.clone());
        Ok(names)
    }

    /// The client underneath.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Whether writes are being recorded instead of sent.
    pub fn is_dry_run(&self) -> bool {
        self.dry_run
    }

    /// Marks queued writes being sent (`on`) or not: see the field.
    pub(crate) fn set_flushing(&self, on: bool) {
        self.flushing
            .store(on, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether a dry run foresees the writes at hand only from what the run has read, never
    /// reading a group's members or a domain's users that the real run would not read: the
    /// writes a script queued, whose results it never sees, so planning a loop costs what
    /// running it costs. A write whose outcome that leaves open is planned as a change and
    /// counted ([`Directory::unforeseen`]); `mcsh apply` reports what the service makes of
    /// it. A call whose result the script uses, and every command and workflow, reads what
    /// foresees it.
    pub(crate) fn foresees_from_memory(&self) -> bool {
        self.flushing.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// How many writes this dry run planned without knowing their outcome: the run had not
    /// read whether the member is in the group, or whether the user may be changed.
    pub fn unforeseen(&self) -> u64 {
        self.unforeseen.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Counts `n` writes planned without knowing their outcome.
    pub(crate) fn count_unforeseen(&self, n: usize) {
        self.unforeseen
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
    }

    /// The writes recorded so far under dry-run.
    pub fn plan(&self) -> Vec<PlannedWrite> {
        self.plan.lock().expect("plan lock").clone()
    }

    /// How many writes are planned so far.
    pub(crate) fn planned_count(&self) -> usize {
        self.plan.lock().expect("plan lock").len()
    }

    /// Puts the writes planned since `from` in the order `place` gives (stable for equal
    /// places): writes planned by jobs that ran at once land in the plan as the calls came,
    /// not as the jobs happened to finish, so planning the same script twice gives one plan.
    pub(crate) fn order_planned_since(&self, from: usize, place: impl Fn(&PlannedWrite) -> usize) {
        let mut plan = self.plan.lock().expect("plan lock");
        if let Some(tail) = plan.get_mut(from..) {
            tail.sort_by_cached_key(|w| place(w));
        }
    }

    /// Under dry-run, records the write (for the plan and for later reads) and returns true:
    /// the caller must not send it.
    pub(crate) fn planned(&self, endpoint: &str, item: Value) -> bool {
        if self.dry_run {
            self.overlay
                .lock()
                .expect("overlay lock")
                .record(endpoint, &item);
            self.memory().planned(endpoint);
            let group = item
                .get("id")
                .and_then(Value::as_str)
                .map(|id| self.group_name(id))
                .filter(|name| Some(name.as_str()) != item.get("id").and_then(Value::as_str));
            self.plan.lock().expect("plan lock").push(PlannedWrite {
                endpoint: endpoint.to_string(),
                item,
                group,
                stops: self.foresees_from_memory(),
            });
        }
        self.dry_run
    }

    /// What a change's item had before it, as far as this run has read it: a user's name
    /// (`update-user` with a name), a group's name (`update-group`). `mcsh undo` puts it back.
    fn before(&self, endpoint: &str, item: &Value) -> Option<Value> {
        match endpoint {
            crate::api::paths::UPDATE_USER if item.get("name").is_some() => {
                let email = item.get("emailAddress")?.as_str()?.to_ascii_lowercase();
                // The run's memory, kept current with its own renames, then the names of
                // users it looked up.
                let remembered = self.memory().listed(&email).flatten();
                let name = match remembered {
                    Some(u) => u.name,
                    None => self
                        .known_names
                        .lock()
                        .expect("names lock")
                        .get(&email)
                        .cloned()?,
                };
                Some(serde_json::json!({ "name": name }))
            }
            crate::api::paths::UPDATE_GROUP if item.get("description").is_some() => {
                let id = item.get("id")?.as_str()?;
                let name = self.names.lock().expect("names lock").get(id).cloned()?;
                let name = name.rsplit('/').next().unwrap_or(&name).to_string();
                Some(serde_json::json!({ "description": name }))
            }
            _ => None,
        }
    }

    /// Remembers the names of users this run read, for [`Directory::before`].
    pub(crate) fn remember_users<'a>(&self, users: impl IntoIterator<Item = &'a crate::api::User>) {
        let mut known = self.known_names.lock().expect("names lock");
        for u in users {
            known.insert(u.email_address.to_ascii_lowercase(), u.name.clone());
        }
    }

    /// The name of group `id` as the last listing gave it, or the id when none did.
    pub(crate) fn group_name(&self, id: &str) -> String {
        self.names
            .lock()
            .expect("names lock")
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }

    /// Remembers the names of `groups` for [`Directory::group_name`].
    pub(crate) fn remember_names(&self, groups: &[crate::api::Group]) {
        let mut names = self.names.lock().expect("names lock");
        for g in groups {
            let name = if g.path.is_empty() {
                &g.description
            } else {
                &g.path
            };
            names.insert(g.id.clone(), name.clone());
        }
    }

    /// Under dry-run, lets `f` adjust what a read returns to what the plan would leave.
    pub(crate) fn overlaid<T>(&self, value: T, f: impl FnOnce(&overlay::Overlay, T) -> T) -> T {
        if self.dry_run {
            f(&self.overlay.lock().expect("overlay lock"), value)
        } else {
            value
        }
    }

    fn audit_item(
        &self,
        endpoint: &str,
        item: &Value,
        result: &ItemResult,
        request_id: Option<&str>,
        planned: bool,
        data: Option<&Value>,
    ) {
        self.audit_items(endpoint, planned, [(item, result, request_id, data)]);
    }

    /// What the run learns from each of `entries` (an item, its result, the request that
    /// carried it, its `data` entry), and their audit lines, written together.
    fn audit_items<'e>(
        &self,
        endpoint: &str,
        planned: bool,
        entries: impl IntoIterator<
            Item = (
                &'e Value,
                &'e ItemResult,
                Option<&'e str>,
                Option<&'e Value>,
            ),
        >,
    ) {
        let entries: Vec<_> = entries.into_iter().collect();
        // What each change's item had before it, read before the run learns of the change.
        let befores: Vec<Option<Value>> = if self.audit.is_some() {
            entries
                .iter()
                .map(|&(item, ..)| self.before(endpoint, item))
                .collect()
        } else {
            Vec::new()
        };
        if !planned {
            let mut memory = self.memory();
            for &(item, result, _, data) in &entries {
                memory.learn(endpoint, item, result.status, data.filter(|d| !d.is_null()));
                if matches!(
                    result.status,
                    Status::Created | Status::Updated | Status::Removed | Status::Unverified
                ) {
                    self.changes
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
        }
        let Some(a) = &self.audit else {
            return;
        };
        let groups: Vec<Option<String>> = entries
            .iter()
            .map(|(item, ..)| {
                let id = item.get("id").and_then(Value::as_str)?;
                Some(self.group_name(id)).filter(|name| name != id)
            })
            .collect();
        let contexts: Vec<audit::Context> = entries
            .iter()
            .zip(&groups)
            .zip(befores)
            .map(|((&(_, _, _, data), group), before)| audit::Context {
                group: group.as_deref(),
                created_id: data
                    .filter(|_| endpoint == crate::api::paths::CREATE_GROUP)
                    .and_then(|d| d.get("id"))
                    .and_then(Value::as_str),
                before,
            })
            .collect();
        a.record_all(
            endpoint,
            planned,
            entries
                .iter()
                .zip(&contexts)
                .map(|(&(item, result, request_id, _), context)| {
                    (item, result, request_id, context)
                }),
        );
    }

    /// Starts counting progress anew: the next statement of a REPL is a job of its own.
    pub fn restart_progress(&self) {
        if let Some(p) = &self.progress {
            p.restart();
        }
    }

    fn progress_total(&self, n: usize) {
        if let Some(p) = &self.progress {
            p.add_total(n);
        }
    }

    fn progress_done(&self, n: usize, failed: usize) {
        if let Some(p) = &self.progress {
            p.done(n, failed);
        }
    }
}

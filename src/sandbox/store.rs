//! The sandbox's state: one SQLite database holding the tenant.
//!
//! Policy: every request runs in one transaction, so a request either happens or it does not;
//! items of a batch fail one by one without undoing the others. Listing is by insertion order
//! (`seq`), which keeps pagination stable while writes go on. Addresses compare without case.

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS domains (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    domain TEXT NOT NULL UNIQUE COLLATE NOCASE,
    id TEXT NOT NULL,
    inbound_type TEXT NOT NULL DEFAULT 'known',
    local INTEGER NOT NULL DEFAULT 0,
    send_only INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS users (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    id TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    domain TEXT NOT NULL COLLATE NOCASE,
    locked INTEGER NOT NULL DEFAULT 0,
    disabled INTEGER NOT NULL DEFAULT 0,
    purged INTEGER NOT NULL DEFAULT 0,
    created TEXT NOT NULL,
    alias_for TEXT COLLATE NOCASE,
    source TEXT NOT NULL DEFAULT 'cloud',
    address_type TEXT NOT NULL DEFAULT 'created_manually'
);
CREATE INDEX IF NOT EXISTS users_domain ON users(domain, purged, seq);
CREATE INDEX IF NOT EXISTS users_alias_for ON users(alias_for);
CREATE TABLE IF NOT EXISTS groups (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    parent_id TEXT,
    source TEXT NOT NULL DEFAULT 'cloud'
);
CREATE TABLE IF NOT EXISTS members (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    email TEXT NOT NULL COLLATE NOCASE,
    domain TEXT NOT NULL COLLATE NOCASE,
    internal INTEGER NOT NULL,
    kind TEXT NOT NULL,
    notes TEXT NOT NULL DEFAULT '',
    UNIQUE (group_id, email, domain)
);
CREATE INDEX IF NOT EXISTS members_email ON members(email);
CREATE INDEX IF NOT EXISTS groups_parent ON groups(parent_id);
";

/// Opens (creating if needed) the state at `path`; `:memory:` keeps it in memory.
pub fn open(path: &str) -> rusqlite::Result<Connection> {
    no_allocation_statistics();
    let conn = if path == ":memory:" {
        Connection::open_in_memory()?
    } else {
        if let Some(dir) = Path::new(path).parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|e| {
                    rusqlite::Error::InvalidPath(format!("{}: {e}", dir.display()).into())
                })?;
            }
        }
        let conn = Connection::open(path)?;
        // Before anything that locks: another process may be opening the same file.
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        // Switching a new file to WAL needs it alone, and SQLite answers "busy" at once rather
        // than waiting when another process is doing the same: try again for a while.
        let mut tries = 0;
        loop {
            match conn.pragma_update(None, "journal_mode", "WAL") {
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.code == rusqlite::ErrorCode::DatabaseBusy && tries < 100 =>
                {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                other => break other?,
            }
        }
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn
    };
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // One process at a time brings a file up to date: another one opening it at the same
    // moment waits, then finds it done.
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let done = migrate(&conn)
        .and_then(|()| conn.execute_batch(SCHEMA))
        .and_then(|()| conn.pragma_update(None, "user_version", SCHEMA_VERSION));
    conn.execute_batch(if done.is_ok() { "COMMIT" } else { "ROLLBACK" })?;
    done?;
    Ok(conn)
}

/// Turns SQLite's allocation statistics off before its first connection. With them on (the
/// bundled build's default), every allocation of every connection takes one process-wide
/// mutex: a sandbox serving twenty tenants spent 6 % of its CPU waiting on it during a fleet
/// run. Nothing here reads those statistics.
fn no_allocation_statistics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: this module opens every connection mcsh makes, and this runs before the
        // first (other callers wait on the `Once`), so no SQLite call runs beside it. Were
        // SQLite already initialized, the call would return SQLITE_MISUSE and change nothing.
        unsafe {
            rusqlite::ffi::sqlite3_config(
                rusqlite::ffi::SQLITE_CONFIG_MEMSTATUS,
                std::ffi::c_int::from(0u8),
            );
        }
    });
}

/// The layout `SCHEMA` describes. Version 2 (alias addresses as user rows, `source`,
/// `sendOnly`, a root folder above top-level groups) followed the recorded real answers.
const SCHEMA_VERSION: i64 = 2;

/// Brings a state file written by an earlier mcsh to [`SCHEMA_VERSION`], keeping its tenant.
fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let has_users: bool = conn
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'users'",
            [],
            |_| Ok(()),
        )
        .optional()?
        .is_some();
    if version >= SCHEMA_VERSION || !has_users {
        return Ok(());
    }
    conn.execute_batch(
        "ALTER TABLE users ADD COLUMN alias_for TEXT COLLATE NOCASE;
         ALTER TABLE users ADD COLUMN source TEXT NOT NULL DEFAULT 'cloud';
         ALTER TABLE users ADD COLUMN address_type TEXT NOT NULL DEFAULT 'created_manually';
         ALTER TABLE domains ADD COLUMN send_only INTEGER NOT NULL DEFAULT 0;
         INSERT OR IGNORE INTO users(email, id, name, domain, created, alias_for)
             SELECT a.alias, 'a' || lower(hex(randomblob(16))), u.name,
                    substr(a.alias, instr(a.alias, '@') + 1), u.created, u.email
             FROM aliases a JOIN users u ON u.email = a.email;
         DROP TABLE aliases;",
    )?;
    let root = root_folder(conn)?;
    conn.execute(
        "UPDATE groups SET parent_id = ?1 WHERE parent_id IS NULL",
        [root],
    )?;
    Ok(())
}

/// The id of the root folder every top-level group hangs under. `find-groups` never lists
/// it, as the real service does not (recorded: `find-groups.json`).
pub fn root_folder(conn: &Connection) -> rusqlite::Result<String> {
    if let Some(id) = setting(conn, "root_folder")? {
        return Ok(id);
    }
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
    )?;
    let root = super::ids::folder_id(&account_code(conn)?, 0, &mut rand::rng());
    conn.execute(
        "INSERT OR IGNORE INTO settings(key, value) VALUES ('root_folder', ?1)",
        [root],
    )?;
    Ok(setting(conn, "root_folder")?.unwrap_or_default())
}

/// The tenant's account code: the real one in a rehearsal copy, the sandbox's otherwise.
pub fn account_code(conn: &Connection) -> rusqlite::Result<String> {
    Ok(setting(conn, "account_code")?.unwrap_or_else(|| super::ids::SANDBOX_ACCOUNT.into()))
}

/// The folder number and id of the next group: ids are handles of the folder number.
pub fn next_group(conn: &Connection, rng: &mut impl rand::Rng) -> rusqlite::Result<(i64, String)> {
    let seq: i64 = conn.query_row(
        "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'groups'), 0),
                    COALESCE((SELECT MAX(seq) FROM groups), 0)) + 1",
        [],
        |r| r.get(0),
    )?;
    let id = super::ids::folder_id(&account_code(conn)?, seq as u64, rng);
    Ok((seq, id))
}

/// The id this tenant stores for the group (or root folder) `id` names: `id` itself, or the
/// current string of the same folder when `id` is a handle issued before a re-key. `None`
/// when no group has it.
pub fn stored_group_id(conn: &Connection, id: &str) -> rusqlite::Result<Option<String>> {
    let exact: Option<String> = conn
        .prepare_cached("SELECT id FROM groups WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    if exact.is_some() {
        return Ok(exact);
    }
    let root = root_folder(conn)?;
    if root == id {
        return Ok(Some(root));
    }
    let Some(wanted) = super::ids::folder_of(id) else {
        return Ok(None);
    };
    if super::ids::folder_of(&root).as_ref() == Some(&wanted) {
        return Ok(Some(root));
    }
    // A re-keyed id: the stored one that is a handle of the same folder.
    let mut stmt = conn.prepare_cached("SELECT id FROM groups")?;
    let ids = stmt.query_map([], |r| r.get::<_, String>(0))?;
    for stored in ids {
        let stored = stored?;
        if super::ids::folder_of(&stored).as_ref() == Some(&wanted) {
            return Ok(Some(stored));
        }
    }
    Ok(None)
}

/// Gives every group, and the root folder, a new id string for the same folder, as the real
/// service's re-encrypted `secureid` does: ids copied before still name their groups (see
/// [`stored_group_id`]), but no longer equal what listings answer. A group whose id is not a
/// handle (a tenant from before handles) gets one for its folder number. How many changed.
pub fn rekey(conn: &mut Connection) -> rusqlite::Result<usize> {
    let tx = conn.transaction()?;
    let account = account_code(&tx)?;
    let mut rng = rand::rng();
    let mut renames: Vec<(String, String)> = Vec::new();
    {
        let mut stmt = tx.prepare("SELECT seq, id FROM groups")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
        for row in rows {
            let (seq, old) = row?;
            let (code, folder) =
                super::ids::folder_of(&old).unwrap_or((account.clone(), seq as u64));
            renames.push((old, super::ids::folder_id(&code, folder, &mut rng)));
        }
    }
    let root = root_folder(&tx)?;
    let (code, folder) = super::ids::folder_of(&root).unwrap_or((account.clone(), 0));
    let new_root = super::ids::folder_id(&code, folder, &mut rng);
    for (old, new) in &renames {
        tx.execute("UPDATE groups SET id = ?2 WHERE id = ?1", params![old, new])?;
        tx.execute(
            "UPDATE groups SET parent_id = ?2 WHERE parent_id = ?1",
            params![old, new],
        )?;
        tx.execute(
            "UPDATE members SET group_id = ?2 WHERE group_id = ?1",
            params![old, new],
        )?;
    }
    tx.execute(
        "UPDATE groups SET parent_id = ?2 WHERE parent_id = ?1",
        params![root, new_root],
    )?;
    set_setting(&tx, "root_folder", &new_root)?;
    tx.commit()?;
    Ok(renames.len() + 1)
}

/// `Ok` when the file at `path` is an mcsh sandbox database (SQLite with a seeded tenant);
/// otherwise why not. Opens it read-only and changes nothing.
pub fn is_sandbox_state(path: &str) -> Result<(), String> {
    let mut head = [0u8; 16];
    let read = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
        .map_err(|e| e.to_string())?;
    if read < 16 || &head != b"SQLite format 3\0" {
        return Err("it is not an SQLite database".into());
    }
    let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| e.to_string())?;
    match setting(&conn, "seeded") {
        Ok(Some(_)) => Ok(()),
        _ => Err("it holds no sandbox tenant".into()),
    }
}

/// A setting of the tenant (its credentials, whether it was seeded).
pub fn setting(conn: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    // Cached: the account code is read for every membership a request answers.
    conn.prepare_cached("SELECT value FROM settings WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()
}

/// Stores a setting.
pub fn set_setting(conn: &Connection, key: &str, value: &str) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO settings(key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

/// Whether `domain` is one of the tenant's internal domains.
pub fn is_internal_domain(conn: &Connection, domain: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT 1 FROM domains WHERE domain = ?1")?
        .query_row([domain], |_| Ok(()))
        .optional()
        .map(|o| o.is_some())
}

/// A user row.
#[derive(Debug, Clone)]
pub struct UserRow {
    /// Insertion order, the pagination key.
    pub seq: i64,
    /// Address.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Domain.
    pub domain: String,
    /// Locked.
    pub locked: bool,
    /// Disabled.
    pub disabled: bool,
    /// On the purge list.
    pub purged: bool,
    /// For an alias address, the mailbox it belongs to; `None` for a mailbox.
    pub alias_for: Option<String>,
    /// `cloud`, or `ldap` for a directory-synced user.
    pub source: String,
    /// How the address came to be, e.g. `created_manually`.
    pub address_type: String,
}

impl UserRow {
    /// Whether the row is a mailbox rather than an alias address.
    pub fn is_mailbox(&self) -> bool {
        self.alias_for.is_none()
    }
}

fn user_row(r: &rusqlite::Row) -> rusqlite::Result<UserRow> {
    Ok(UserRow {
        seq: r.get(0)?,
        email: r.get(1)?,
        name: r.get(2)?,
        domain: r.get(3)?,
        locked: r.get(4)?,
        disabled: r.get(5)?,
        purged: r.get(6)?,
        alias_for: r.get(7)?,
        source: r.get(8)?,
        address_type: r.get(9)?,
    })
}

const USER_COLS: &str =
    "seq, email, name, domain, locked, disabled, purged, alias_for, source, address_type";

/// The user with address `email`, purged or not.
pub fn user(conn: &Connection, email: &str) -> rusqlite::Result<Option<UserRow>> {
    conn.prepare_cached(&format!("SELECT {USER_COLS} FROM users WHERE email = ?1"))?
        .query_row([email], user_row)
        .optional()
}

/// Up to `limit` live users after `after_seq`, of `domain` or of every domain.
pub fn users_page(
    conn: &Connection,
    domain: Option<&str>,
    after_seq: i64,
    limit: usize,
) -> rusqlite::Result<Vec<UserRow>> {
    // Two statements rather than `(?2 IS NULL OR domain = ?2)`, which keeps SQLite off the
    // (domain, seq) index.
    match domain {
        Some(d) => {
            let sql = format!(
                "SELECT {USER_COLS} FROM users WHERE domain = ?1 AND seq > ?2 AND purged = 0 ORDER BY seq LIMIT ?3"
            );
            let mut stmt = conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(params![d, after_seq, limit as i64], user_row)?;
            rows.collect()
        }
        None => {
            let sql = format!(
                "SELECT {USER_COLS} FROM users WHERE seq > ?1 AND purged = 0 ORDER BY seq LIMIT ?2"
            );
            let mut stmt = conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(params![after_seq, limit as i64], user_row)?;
            rows.collect()
        }
    }
}

/// How many live users `domain` (or the whole tenant) has. Counting 100 000 rows on every
/// page is the sandbox's largest cost, so the count is kept per connection until the next
/// change to the database.
pub fn count_users(conn: &Connection, domain: Option<&str>) -> rusqlite::Result<u64> {
    let scope = domain.unwrap_or("*");
    conn.execute_batch("CREATE TEMP TABLE IF NOT EXISTS user_counts(scope TEXT PRIMARY KEY, changes INTEGER, n INTEGER)")?;
    let now = conn.total_changes() as i64;
    let cached: Option<i64> = conn
        .query_row(
            "SELECT n FROM user_counts WHERE scope = ?1 AND changes = ?2",
            params![scope, now],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(n) = cached {
        return Ok(n as u64);
    }
    let n: i64 = match domain {
        Some(d) => conn.query_row(
            "SELECT COUNT(*) FROM users WHERE domain = ?1 AND purged = 0",
            [d],
            |r| r.get(0),
        )?,
        None => conn.query_row("SELECT COUNT(*) FROM users WHERE purged = 0", [], |r| {
            r.get(0)
        })?,
    };
    conn.execute("DELETE FROM user_counts", [])?;
    conn.execute(
        "INSERT INTO user_counts(scope, changes, n) VALUES (?1, 0, ?2)",
        params![scope, n],
    )?;
    // Stamp with the total *after* this bookkeeping, so only a later change invalidates it.
    let after = conn.total_changes() as i64;
    conn.execute("UPDATE user_counts SET changes = ?1", [after + 1])?;
    Ok(n as u64)
}

/// The alias addresses of the mailbox `email`.
pub fn aliases_of(conn: &Connection, email: &str) -> rusqlite::Result<Vec<UserRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {USER_COLS} FROM users WHERE alias_for = ?1 AND purged = 0 ORDER BY email"
    ))?;
    let rows = stmt.query_map([email], user_row)?;
    rows.collect()
}

/// How many live mailboxes (alias addresses not counted) the tenant has.
pub fn count_mailboxes(conn: &Connection) -> rusqlite::Result<u64> {
    conn.query_row(
        "SELECT COUNT(*) FROM users WHERE purged = 0 AND alias_for IS NULL",
        [],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n as u64)
}

/// A group row.
#[derive(Debug, Clone)]
pub struct GroupRow {
    /// Insertion order, the pagination key.
    pub seq: i64,
    /// Opaque id.
    pub id: String,
    /// Name.
    pub description: String,
    /// Parent's id.
    pub parent_id: Option<String>,
    /// `cloud` or `ldap`.
    pub source: String,
    /// Children.
    pub folder_count: u64,
    /// Members.
    pub user_count: u64,
}

const GROUP_SELECT: &str = "SELECT g.seq, g.id, g.description, g.parent_id, g.source,
    (SELECT COUNT(*) FROM groups c WHERE c.parent_id = g.id),
    (SELECT COUNT(*) FROM members m WHERE m.group_id = g.id)
    FROM groups g";

fn group_row(r: &rusqlite::Row) -> rusqlite::Result<GroupRow> {
    Ok(GroupRow {
        seq: r.get(0)?,
        id: r.get(1)?,
        description: r.get(2)?,
        parent_id: r.get(3)?,
        source: r.get(4)?,
        folder_count: r.get::<_, i64>(5)? as u64,
        user_count: r.get::<_, i64>(6)? as u64,
    })
}

/// The source (`cloud`, `ldap`) of the group with `id`, or `None` when there is none.
pub fn group_source(conn: &Connection, id: &str) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("SELECT source FROM groups WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()
}

/// The group with `id`.
pub fn group(conn: &Connection, id: &str) -> rusqlite::Result<Option<GroupRow>> {
    conn.query_row(&format!("{GROUP_SELECT} WHERE g.id = ?1"), [id], group_row)
        .optional()
}

/// Up to `limit` groups after `after_seq` whose name contains `query` (any case) and whose
/// source is `source`, when given.
pub fn groups_page(
    conn: &Connection,
    query: Option<&str>,
    source: Option<&str>,
    after_seq: i64,
    limit: usize,
) -> rusqlite::Result<Vec<GroupRow>> {
    let sql = format!(
        "{GROUP_SELECT} WHERE g.seq > ?1 AND (?2 IS NULL OR instr(lower(g.description), lower(?2)) > 0)
         AND (?3 IS NULL OR g.source = ?3) ORDER BY g.seq LIMIT ?4"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![after_seq, query, source, limit as i64], group_row)?;
    rows.collect()
}

/// How many groups match `query` and `source`.
pub fn count_groups(
    conn: &Connection,
    query: Option<&str>,
    source: Option<&str>,
) -> rusqlite::Result<u64> {
    conn.query_row(
        "SELECT COUNT(*) FROM groups g WHERE (?1 IS NULL OR instr(lower(g.description), lower(?1)) > 0)
         AND (?2 IS NULL OR g.source = ?2)",
        params![query, source],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n as u64)
}

/// The id of a group named `description` (any case) under `parent_id`, other than `except`.
pub fn sibling_named(
    conn: &Connection,
    description: &str,
    parent_id: Option<&str>,
    except: Option<&str>,
) -> rusqlite::Result<Option<String>> {
    conn.query_row(
        "SELECT id FROM groups WHERE lower(description) = lower(?1) AND parent_id IS ?2
         AND (?3 IS NULL OR id <> ?3)",
        params![description, parent_id, except],
        |r| r.get(0),
    )
    .optional()
}

/// A membership row.
#[derive(Debug, Clone)]
pub struct MemberRow {
    /// Insertion order, the pagination key.
    pub seq: i64,
    /// Address; empty for a domain member.
    pub email: String,
    /// Domain.
    pub domain: String,
    /// Internal to the tenant.
    pub internal: bool,
    /// How it was added.
    pub kind: String,
    /// The user's display name, when the member is a user of the tenant.
    pub name: String,
}

/// Up to `limit` members of group `id` after `after_seq`.
pub fn members_page(
    conn: &Connection,
    id: &str,
    after_seq: i64,
    limit: usize,
) -> rusqlite::Result<Vec<MemberRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT m.seq, m.email, m.domain, m.internal, m.kind, COALESCE(u.name, '')
         FROM members m LEFT JOIN users u ON u.email = m.email AND m.email <> ''
         WHERE m.group_id = ?1 AND m.seq > ?2 ORDER BY m.seq LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![id, after_seq, limit as i64], |r| {
        Ok(MemberRow {
            seq: r.get(0)?,
            email: r.get(1)?,
            domain: r.get(2)?,
            internal: r.get(3)?,
            kind: r.get(4)?,
            name: r.get(5)?,
        })
    })?;
    rows.collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_keeps_no_allocation_statistics() {
        // With the statistics on, SQLite counts the bytes every connection holds; with them
        // off (so no allocation takes the process-wide mutex), the count stays at zero.
        let conn = open(":memory:").unwrap();
        conn.execute_batch("CREATE TABLE t (x TEXT); INSERT INTO t VALUES ('a');")
            .unwrap();
        let (mut now, mut peak) = (0i64, 0i64);
        // SAFETY: sqlite3_status64 only reads counters into the two locals.
        let rc = unsafe {
            rusqlite::ffi::sqlite3_status64(
                rusqlite::ffi::SQLITE_STATUS_MEMORY_USED,
                &mut now,
                &mut peak,
                0,
            )
        };
        assert_eq!(rc, rusqlite::ffi::SQLITE_OK);
        assert_eq!((now, peak), (0, 0));
    }

    /// The layout of the first mcsh (schema version 0).
    const VERSION_0: &str = "
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS domains (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    domain TEXT NOT NULL UNIQUE COLLATE NOCASE,
    id TEXT NOT NULL,
    inbound_type TEXT NOT NULL DEFAULT 'mimecast',
    local INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS users (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    id TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    domain TEXT NOT NULL COLLATE NOCASE,
    locked INTEGER NOT NULL DEFAULT 0,
    disabled INTEGER NOT NULL DEFAULT 0,
    purged INTEGER NOT NULL DEFAULT 0,
    created TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS users_domain ON users(domain, purged, seq);
CREATE TABLE IF NOT EXISTS aliases (
    alias TEXT PRIMARY KEY COLLATE NOCASE,
    email TEXT NOT NULL COLLATE NOCASE
);
CREATE TABLE IF NOT EXISTS groups (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    parent_id TEXT,
    source TEXT NOT NULL DEFAULT 'cloud'
);
CREATE TABLE IF NOT EXISTS members (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    email TEXT NOT NULL COLLATE NOCASE,
    domain TEXT NOT NULL COLLATE NOCASE,
    internal INTEGER NOT NULL,
    kind TEXT NOT NULL,
    notes TEXT NOT NULL DEFAULT '',
    UNIQUE (group_id, email, domain)
);
CREATE INDEX IF NOT EXISTS members_email ON members(email);
";

    #[test]
    fn a_state_file_from_the_first_mcsh_is_brought_up_to_date_keeping_its_tenant() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            let old = Connection::open(&path).unwrap();
            old.execute_batch(VERSION_0).unwrap();
            old.execute_batch(
                "INSERT INTO domains(domain, id) VALUES ('a.com', 'd1');
                 INSERT INTO users(email, id, name, domain, created)
                     VALUES ('ann@a.com', 'u1', 'Ann', 'a.com', 'now');
                 INSERT INTO aliases(alias, email) VALUES ('a@a.com', 'ann@a.com');
                 INSERT INTO groups(id, description, parent_id) VALUES ('g1', 'Top', NULL);
                 INSERT INTO groups(id, description, parent_id) VALUES ('g2', 'Sub', 'g1');",
            )
            .unwrap();
        }
        let conn = open(path.to_str().unwrap()).unwrap();
        let alias = user(&conn, "a@a.com")
            .unwrap()
            .expect("the alias is a row now");
        assert_eq!(alias.alias_for.as_deref(), Some("ann@a.com"));
        let root = root_folder(&conn).unwrap();
        assert_eq!(group(&conn, "g1").unwrap().unwrap().parent_id, Some(root));
        assert_eq!(
            group(&conn, "g2").unwrap().unwrap().parent_id.as_deref(),
            Some("g1")
        );
        drop(conn);
        // Opening again changes nothing more.
        let again = open(path.to_str().unwrap()).unwrap();
        assert_eq!(aliases_of(&again, "ann@a.com").unwrap().len(), 1);
    }
}

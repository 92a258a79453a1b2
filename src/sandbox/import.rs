//! A rehearsal copy: a tenant loaded from a snapshot instead of the demo.
//!
//! Policy: the copy keeps the snapshot's ids, names, tree and memberships exactly, so what
//! runs against the real tenant runs the same against it: the root folder is the one the
//! top-level groups carry, alias rows stay alias rows (under their mailbox when the snapshot
//! knows it), the account's code and name are the real ones. It is loaded in one
//! transaction: a state file holds the whole copy or nothing.

use rusqlite::{params, Connection};

use super::{ids, store};
use crate::snapshot::Snapshot;

/// Loads `snapshot` into the empty state of `conn`, recording `digest` (the snapshot file's)
/// so a later start recognises the same copy.
pub fn load(conn: &mut Connection, snapshot: &Snapshot, digest: &str) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    if let Some(root) = snapshot.root_folder() {
        store::set_setting(&tx, "root_folder", &root)?;
    }
    for d in &snapshot.domains {
        tx.execute(
            "INSERT INTO domains(domain, id, inbound_type, local, send_only) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![d.domain, d.id, d.inbound_type, d.local, d.send_only],
        )?;
    }
    let created = snapshot.taken.as_str();
    {
        let mut insert = tx.prepare(
            "INSERT INTO users(email, id, name, domain, created, alias_for, source, address_type)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for u in &snapshot.users {
            // An alias whose mailbox the snapshot does not know stays an alias row.
            let alias_for = u.alias.then(|| u.alias_for.clone().unwrap_or_default());
            let domain = u
                .email_address
                .rsplit('@')
                .next()
                .unwrap_or("")
                .to_ascii_lowercase();
            insert.execute(params![
                u.email_address,
                ids::user_id(),
                u.name,
                domain,
                created,
                alias_for,
                u.source,
                u.address_type
            ])?;
        }
        let mut group = tx.prepare(
            "INSERT INTO groups(id, description, parent_id, source) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for g in &snapshot.groups {
            group.execute(params![g.id, g.description, g.parent_id, g.source])?;
        }
        let mut member = tx.prepare(
            "INSERT INTO members(id, group_id, email, domain, internal, kind) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        // In the order the snapshot lists groups, so pages come back in the same order.
        for g in &snapshot.groups {
            for m in snapshot.members.get(&g.id).into_iter().flatten() {
                member.execute(params![
                    ids::member_id(),
                    g.id,
                    m.email_address,
                    m.domain,
                    m.internal,
                    m.kind
                ])?;
            }
        }
    }
    if let Some(code) = &snapshot.tenant.account_code {
        store::set_setting(&tx, "account_code", code)?;
    }
    let name = snapshot
        .tenant
        .account_name
        .clone()
        .unwrap_or_else(|| "rehearsal".into());
    store::set_setting(&tx, "account_name", &format!("{name} (rehearsal)"))?;
    store::set_setting(&tx, "snapshot", digest)?;
    store::set_setting(&tx, "seeded", "1")?;
    tx.commit()
}

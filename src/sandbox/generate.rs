//! Synthetic tenants for scale tests and benchmarks: N users (most of them in one domain) and
//! G groups with members, written in one transaction so 100 000 users take seconds.
//!
//! Policy: generation is repeatable and additive-safe: users are `gen.user.NNNNNN@domain`
//! (inserted if missing), groups `Generated NNNN` are created once (a marker remembers how
//! many exist), and each group gets a deterministic handful of the generated users.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rusqlite::{params, Connection};

use super::ids;
use super::seed::{MAIN_DOMAIN, SECOND_DOMAIN};
use super::store;

/// Members given to each generated group.
pub const MEMBERS_PER_GROUP: usize = 20;

/// Adds `users` synthetic users and `groups` synthetic groups with members.
pub fn generate(conn: &mut Connection, users: usize, groups: usize) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    let created = chrono::Utc::now().to_rfc3339();
    {
        let mut insert = tx.prepare(
            "INSERT OR IGNORE INTO users(email, id, name, domain, created) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for i in 0..users {
            // Nine in ten in the main domain, the rest in the second.
            let domain = if i % 10 == 9 {
                SECOND_DOMAIN
            } else {
                MAIN_DOMAIN
            };
            let email = format!("gen.user.{i:06}@{domain}");
            insert.execute(params![
                email,
                format!("g{i:031x}"),
                format!("Generated User {i}"),
                domain,
                created
            ])?;
        }
    }
    let existing: usize = store::setting(&tx, "generated_groups")?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if groups > existing {
        let mut rng = StdRng::seed_from_u64(0x6765_6e00 + existing as u64);
        let root = store::root_folder(&tx)?;
        let mut add_group = tx.prepare(
            "INSERT INTO groups(seq, id, description, parent_id) VALUES (?1, ?2, ?3, ?4)",
        )?;
        let mut add_member = tx.prepare(
            "INSERT OR IGNORE INTO members(id, group_id, email, domain, internal, kind) VALUES (?1, ?2, ?3, ?4, 1, 'created_manually')",
        )?;
        for g in existing..groups {
            let (seq, id) = store::next_group(&tx, &mut rng)?;
            add_group.execute(params![seq, id, format!("Generated {g:04}"), root])?;
            for _ in 0..MEMBERS_PER_GROUP.min(users.max(1)) {
                if users == 0 {
                    break;
                }
                let i = rng.random_range(0..users);
                let domain = if i % 10 == 9 {
                    SECOND_DOMAIN
                } else {
                    MAIN_DOMAIN
                };
                add_member.execute(params![
                    ids::member_id(),
                    id,
                    format!("gen.user.{i:06}@{domain}"),
                    domain
                ])?;
            }
        }
        store::set_setting(&tx, "generated_groups", &groups.to_string())?;
    }
    tx.commit()
}

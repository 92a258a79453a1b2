//! The demo tenant every new sandbox starts with: two internal domains, 62 people with
//! realistic names (three of them synchronized from a directory, `source: ldap`), one alias
//! address, the usual department groups under the root folder, one nested group, one domain
//! member and one directory-synced group.
//!
//! Policy: the demo is the same every time (a fixed generator seed), so README examples and
//! tests can name its people and groups.

use rand::rngs::StdRng;
use rand::SeedableRng;
use rusqlite::{params, Connection};

use super::ids;
use super::store;

/// The main internal domain of the demo tenant.
pub const MAIN_DOMAIN: &str = "company.com";
/// The second internal domain.
pub const SECOND_DOMAIN: &str = "example.com";

const FIRST: &[&str] = &[
    "Alice", "Bob", "Carol", "David", "Emma", "Farid", "Grace", "Hiro", "Ines", "James", "Kofi",
    "Laura", "Mateo", "Nadia", "Oliver", "Priya", "Quinn", "Rosa", "Samuel", "Tara", "Umar",
    "Vera", "Wei", "Ximena", "Yusuf", "Zoe", "Aaron", "Beatriz", "Chen", "Dmitri", "Elena",
];
const LAST: &[&str] = &[
    "Anderson", "Brown", "Costa", "Dubois", "Evans", "Fischer", "Garcia", "Hughes", "Ivanova",
    "Jensen", "Kowalski", "Lopez", "Murphy", "Nakamura", "Okafor", "Patel", "Quispe", "Rossi",
    "Schmidt", "Tanaka", "Usman", "Varga", "Walsh",
];

/// Departments of `company.com` users, in the order people are assigned to them.
const DEPARTMENTS: &[&str] = &["Engineering", "Sales", "Marketing", "Finance", "Support"];

/// Writes the internal domains, and unless `empty`, the demo people and groups. A named
/// `tenant` (one of several, `sandbox serve --tenants`, `--sandbox --profile NAME`) gets its
/// own account name and code and its own people (the same departments and shape).
pub fn seed(conn: &Connection, empty: bool, tenant: Option<&str>) -> rusqlite::Result<()> {
    if store::setting(conn, "seeded")?.is_some() {
        return Ok(());
    }
    // Two processes may open a new state file at once: one seeds, the other waits its turn
    // (busy timeout) and then finds it seeded.
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let result = seed_locked(conn, empty, tenant);
    conn.execute_batch(if result.is_ok() { "COMMIT" } else { "ROLLBACK" })?;
    result
}

/// A number from a tenant's name that stays the same from run to run (FNV-1a).
fn tenant_number(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The account code of the named sandbox tenant: `CSBX` and five hex digits of its name.
pub fn tenant_account(name: &str) -> String {
    format!("CSBX{:05X}", tenant_number(name) & 0xF_FFFF)
}

fn seed_locked(conn: &Connection, empty: bool, tenant: Option<&str>) -> rusqlite::Result<()> {
    if store::setting(conn, "seeded")?.is_some() {
        return Ok(());
    }
    for (i, domain) in [MAIN_DOMAIN, SECOND_DOMAIN].iter().enumerate() {
        conn.execute(
            "INSERT OR IGNORE INTO domains(domain, id, inbound_type, local, send_only)
             VALUES (?1, ?2, 'known', 0, 0)",
            params![domain, format!("dom{:04}", i + 1)],
        )?;
    }
    match tenant {
        Some(name) => {
            store::set_setting(conn, "account_name", &format!("{name} (sandbox)"))?;
            store::set_setting(conn, "account_code", &tenant_account(name))?;
        }
        None => store::set_setting(conn, "account_name", "Company Inc (sandbox)")?,
    }
    if !empty {
        // Each named tenant's people start at another first name: tenants look alike in
        // shape (departments, sizes) and differ in who is there.
        let shift = tenant.map_or(0, |t| 1 + tenant_number(t) as usize % (FIRST.len() - 1));
        demo(conn, shift)?;
    }
    store::set_setting(conn, "seeded", "1")
}

fn demo(conn: &Connection, shift: usize) -> rusqlite::Result<()> {
    let mut rng = StdRng::seed_from_u64(0x6d63_7368);
    let created = "2024-01-15T09:00:00+00:00";
    let mut people: Vec<(String, String, String)> = Vec::new();
    for i in 0..62 {
        let first = FIRST[(i + shift) % FIRST.len()];
        let last = LAST[(i * 7 + i / FIRST.len()) % LAST.len()];
        let domain = if i < 48 { MAIN_DOMAIN } else { SECOND_DOMAIN };
        let email = format!("{}.{}@{domain}", first.to_lowercase(), last.to_lowercase());
        // A few accounts arrived without a display name, as they do in real tenants.
        let name = if i % 20 == 19 {
            String::new()
        } else {
            format!("{first} {last}")
        };
        // Three arrived through directory sync: Mimecast refuses to change them.
        let source = if (56..59).contains(&i) {
            "ldap"
        } else {
            "cloud"
        };
        conn.execute(
            "INSERT INTO users(email, id, name, domain, created, source) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![email, format!("u{i:032x}"), name, domain, created, source],
        )?;
        people.push((email, name, domain.to_string()));
    }
    // An alias address is a row of its own in the user listing (`alias: true`).
    let alias = format!(
        "{}@{MAIN_DOMAIN}",
        people[0].0.split('.').next().unwrap_or("alias")
    );
    conn.execute(
        "INSERT INTO users(email, id, name, domain, created, alias_for)
         VALUES (?1, 'a0000000000000000000000000000000', ?2, ?3, ?4, ?5)",
        params![alias, people[0].1, MAIN_DOMAIN, created, people[0].0],
    )?;
    let root = store::root_folder(conn)?;
    let mut group = |description: &str, parent: Option<&str>| -> rusqlite::Result<String> {
        let (seq, id) = store::next_group(conn, &mut rng)?;
        conn.execute(
            "INSERT INTO groups(seq, id, description, parent_id) VALUES (?1, ?2, ?3, ?4)",
            params![seq, id, description, parent.unwrap_or(&root)],
        )?;
        Ok(id)
    };
    let all_staff = group("All Staff", None)?;
    let mut departments = Vec::new();
    for name in DEPARTMENTS {
        departments.push(group(name, None)?);
    }
    let platform = group("Platform", Some(&departments[0]))?;
    let admins = group("IT Admins", None)?;
    let synced = group("Directory Staff", None)?;
    conn.execute("UPDATE groups SET source = 'ldap' WHERE id = ?1", [&synced])?;
    let member = |group_id: &str, email: &str, domain: &str| {
        conn.execute(
            "INSERT OR IGNORE INTO members(id, group_id, email, domain, internal, kind)
             VALUES (?1, ?2, ?3, ?4, 1, 'created_manually')",
            params![ids::member_id(), group_id, email, domain],
        )
    };
    for (i, (email, _, domain)) in people.iter().enumerate() {
        if domain == MAIN_DOMAIN {
            member(&all_staff, email, domain)?;
            member(&departments[i % DEPARTMENTS.len()], email, domain)?;
            if i % DEPARTMENTS.len() == 0 && i % 2 == 0 {
                member(&platform, email, domain)?;
            }
        } else if i % 3 == 0 {
            member(&departments[1], email, domain)?;
        }
    }
    for (email, _, domain) in people.iter().take(3) {
        member(&admins, email, domain)?;
    }
    for (email, _, domain) in people.iter().skip(56).take(3) {
        member(&synced, email, domain)?;
    }
    conn.execute(
        "INSERT INTO members(id, group_id, email, domain, internal, kind) VALUES (?1, ?2, '', ?3, 1, 'domain')",
        params![ids::member_id(), all_staff, SECOND_DOMAIN],
    )?;
    Ok(())
}

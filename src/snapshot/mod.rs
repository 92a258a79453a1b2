//! The snapshot format: a whole tenant as one versioned JSON document (`mcsh-snapshot/1`).
//!
//! Policy: this module owns the format and nothing else. The directory writes snapshots
//! from what the API answers, the sandbox loads them into a rehearsal copy, and `diff` reads
//! two of them; none of those depends on another's types. A snapshot that is truncated, of
//! another format, or inconsistent (a member of a group it does not hold, an address twice)
//! is refused whole, naming the place; nothing is started from it.

pub mod diff;

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

/// The format this mcsh writes and reads.
pub const FORMAT: &str = "mcsh-snapshot/1";

/// A whole tenant at one moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Snapshot {
    /// Always [`FORMAT`].
    pub format: String,
    /// When it was taken (RFC 3339).
    pub taken: String,
    /// Which tenant it is of.
    pub tenant: Tenant,
    /// The internal domains.
    pub domains: Vec<Domain>,
    /// Every user row: mailboxes and alias addresses (marked `alias`).
    pub users: Vec<User>,
    /// Every group, parents before children as the service lists them.
    pub groups: Vec<Group>,
    /// Each group's members, by group id.
    pub members: std::collections::BTreeMap<String, Vec<Member>>,
}

/// The tenant a snapshot is of: never a secret.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Tenant {
    /// The account code (`get-account`), when the credentials may read it.
    pub account_code: Option<String>,
    /// The account's name, likewise.
    pub account_name: Option<String>,
    /// The mcsh profile (or `sandbox`).
    pub profile: String,
    /// `client id X` or `access key X`: who read it.
    pub principal: String,
    /// The base URL (or `sandbox PATH` for the embedded sandbox).
    pub base_url: String,
}

/// An internal domain.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Domain {
    /// Opaque id.
    pub id: String,
    /// The domain name.
    pub domain: String,
    /// Whether it only sends.
    pub send_only: bool,
    /// Whether it is local.
    pub local: bool,
    /// How inbound mail is known.
    pub inbound_type: String,
}

/// A user row: a mailbox, or an alias address (`alias`, with its mailbox when known).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct User {
    /// The address.
    pub email_address: String,
    /// Display name.
    pub name: String,
    /// The address's domain.
    pub domain: String,
    /// Whether the row is an alias address.
    pub alias: bool,
    /// For an alias, its mailbox, when it could be told.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alias_for: Option<String>,
    /// `created_manually`, ...
    pub address_type: String,
    /// `cloud` or `ldap`.
    pub source: String,
}

/// A group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Group {
    /// Opaque id.
    pub id: String,
    /// The group's name.
    pub description: String,
    /// The parent's id; top-level groups carry the tenant's unlisted root folder's.
    pub parent_id: Option<String>,
    /// `cloud` or `ldap`.
    pub source: String,
}

/// A member: an address, or a whole domain (then `emailAddress` is empty).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Member {
    /// The address; empty for a domain member.
    pub email_address: String,
    /// The domain.
    pub domain: String,
    /// Whether the address is internal.
    pub internal: bool,
    /// `created_manually`, `ldap`, ...
    #[serde(rename = "type")]
    pub kind: String,
}

impl Member {
    /// The member's key: its address, or its domain, lower-case.
    pub fn key(&self) -> String {
        if self.email_address.is_empty() {
            self.domain.to_ascii_lowercase()
        } else {
            self.email_address.to_ascii_lowercase()
        }
    }
}

/// Why a snapshot is refused.
#[derive(Debug, thiserror::Error)]
#[error("snapshot {path}: {detail}; nothing was started from it")]
pub struct BadSnapshot {
    /// The file.
    pub path: String,
    /// What is wrong, and where.
    pub detail: String,
}

impl Snapshot {
    /// Reads and checks the snapshot in `bytes` (from `path`, for messages).
    pub fn parse(path: &str, bytes: &[u8]) -> Result<Snapshot, BadSnapshot> {
        let bad = |detail: String| BadSnapshot {
            path: path.to_string(),
            detail,
        };
        // The format first: another version is told as such, not as a field it lacks.
        let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
            if e.is_eof() {
                bad(format!(
                    "it ends early (line {}, column {}): the file is truncated",
                    e.line(),
                    e.column()
                ))
            } else {
                bad(format!("not JSON: {e}"))
            }
        })?;
        match value.get("format").and_then(|f| f.as_str()) {
            Some(FORMAT) => {}
            Some(other) => {
                return Err(bad(format!(
                    "it is of format {other:?}; this mcsh reads {FORMAT:?}"
                )))
            }
            None => {
                return Err(bad(format!(
                    "it has no \"format\": not an mcsh snapshot ({FORMAT})"
                )))
            }
        }
        let snapshot: Snapshot = serde_json::from_value(value).map_err(|e| bad(format!("{e}")))?;
        snapshot.check().map_err(bad)?;
        Ok(snapshot)
    }

    /// Reads and checks the snapshot file at `path`.
    pub fn read(path: &str) -> Result<Snapshot, BadSnapshot> {
        let bytes = crate::files::read_bounded(path, MAX_BYTES).map_err(|e| BadSnapshot {
            path: path.to_string(),
            detail: e.to_string(),
        })?;
        Snapshot::parse(path, &bytes)
    }

    /// The snapshot's own consistency: every place that breaks it, named.
    pub fn check(&self) -> Result<(), String> {
        self.check_counting(&mut 0)
    }

    /// [`Snapshot::check`], counting in `steps` the parents walked past (linear in the groups).
    fn check_counting(&self, steps: &mut usize) -> Result<(), String> {
        let mut domains = HashSet::new();
        for (i, d) in self.domains.iter().enumerate() {
            if d.domain.trim().is_empty() {
                return Err(format!("domains[{i}] has no domain name"));
            }
            if !domains.insert(d.domain.to_ascii_lowercase()) {
                return Err(format!("domains[{i}]: {} appears twice", d.domain));
            }
        }
        let mut users: HashMap<String, usize> = HashMap::new();
        for (i, u) in self.users.iter().enumerate() {
            let key = u.email_address.to_ascii_lowercase();
            if !key.contains('@') {
                return Err(format!(
                    "users[{i}]: {:?} is not an address",
                    u.email_address
                ));
            }
            if let Some(j) = users.insert(key.clone(), i) {
                return Err(format!(
                    "users[{i}]: {} appears twice (also users[{j}])",
                    u.email_address
                ));
            }
            let domain = key.rsplit('@').next().unwrap_or("");
            if !u.domain.is_empty() && !u.domain.eq_ignore_ascii_case(domain) {
                return Err(format!(
                    "users[{i}]: {} has domain {:?}, not its address's",
                    u.email_address, u.domain
                ));
            }
            if !domains.contains(domain) {
                return Err(format!(
                    "users[{i}]: {}'s domain is not one of the snapshot's domains",
                    u.email_address
                ));
            }
        }
        for (i, u) in self.users.iter().enumerate() {
            if let Some(owner) = &u.alias_for {
                let found = users.get(&owner.to_ascii_lowercase());
                if !u.alias || found.is_none_or(|&j| self.users[j].alias) {
                    return Err(format!(
                        "users[{i}]: aliasFor {owner} is not a mailbox of the snapshot"
                    ));
                }
            }
        }
        let mut groups = HashSet::new();
        for (i, g) in self.groups.iter().enumerate() {
            if g.id.is_empty() {
                return Err(format!("groups[{i}] ({:?}) has no id", g.description));
            }
            if g.description.trim().is_empty() {
                return Err(format!("groups[{i}] ({}) has no name", short(&g.id)));
            }
            if !groups.insert(g.id.as_str()) {
                return Err(format!("groups[{i}]: id {} appears twice", short(&g.id)));
            }
        }
        let parent_of: HashMap<&str, Option<&str>> = self
            .groups
            .iter()
            .map(|g| (g.id.as_str(), g.parent_id.as_deref()))
            .collect();
        let mut siblings: HashMap<(Option<&str>, String), usize> = HashMap::new();
        // Groups whose parent chain is known to reach the top: each chain is walked only as far
        // as the first such group, so the whole check is linear (a chain of 20 000 nested
        // groups took quadratic time).
        let mut reaches_top: HashSet<&str> = HashSet::new();
        for (i, g) in self.groups.iter().enumerate() {
            // A parent chain must end at the top: a cycle has no path and no place.
            let mut walked = vec![g.id.as_str()];
            let mut seen = HashSet::from([g.id.as_str()]);
            let mut up = g.parent_id.as_deref();
            while let Some(p) = up.filter(|p| groups.contains(p) && !reaches_top.contains(p)) {
                if !seen.insert(p) {
                    return Err(format!(
                        "groups[{i}] ({:?}): its parents go round in a circle",
                        g.description
                    ));
                }
                walked.push(p);
                *steps += 1;
                up = parent_of.get(p).copied().flatten();
            }
            reaches_top.extend(walked);
            let level = g.parent_id.as_deref().filter(|p| groups.contains(p));
            if let Some(j) = siblings.insert((level, g.description.to_lowercase()), i) {
                return Err(format!(
                    "groups[{i}]: {:?} has the name of groups[{j}] at the same level",
                    g.description
                ));
            }
        }
        for (id, members) in &self.members {
            if !groups.contains(id.as_str()) {
                return Err(format!(
                    "members[{}]: no group of the snapshot has that id",
                    short(id)
                ));
            }
            let mut seen = HashSet::new();
            for (i, m) in members.iter().enumerate() {
                if m.key().is_empty() {
                    return Err(format!(
                        "members[{}][{i}] names no address or domain",
                        short(id)
                    ));
                }
                if !m.email_address.is_empty() && !m.email_address.contains('@') {
                    return Err(format!(
                        "members[{}][{i}]: {:?} is not an address",
                        short(id),
                        m.email_address
                    ));
                }
                if !seen.insert(m.key()) {
                    return Err(format!(
                        "members[{}][{i}]: {} appears twice in the group",
                        short(id),
                        m.key()
                    ));
                }
            }
        }
        Ok(())
    }

    /// The unlisted folder the top-level groups hang under: the parent id most of the groups
    /// whose parent is not a listed group share.
    pub fn root_folder(&self) -> Option<String> {
        let listed: HashSet<&str> = self.groups.iter().map(|g| g.id.as_str()).collect();
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for g in &self.groups {
            if let Some(p) = g.parent_id.as_deref().filter(|p| !listed.contains(p)) {
                *counts.entry(p).or_default() += 1;
            }
        }
        counts
            .into_iter()
            .max_by_key(|(p, n)| (*n, std::cmp::Reverse(*p)))
            .map(|(p, _)| p.to_string())
    }

    /// Each group's path (`Engineering/Platform`), by id.
    pub fn paths(&self) -> HashMap<String, String> {
        let by_id: HashMap<&str, &Group> = self.groups.iter().map(|g| (g.id.as_str(), g)).collect();
        self.groups
            .iter()
            .map(|g| {
                let mut parts = vec![g.description.clone()];
                let mut up = g.parent_id.as_deref();
                while let Some(p) = up.and_then(|p| by_id.get(p)) {
                    if parts.len() > 64 {
                        break;
                    }
                    parts.push(p.description.clone());
                    up = p.parent_id.as_deref();
                }
                parts.reverse();
                (g.id.clone(), parts.join("/"))
            })
            .collect()
    }
}

/// The largest snapshot file read: a 100 000-user tenant is about 20 MB, a million-user one
/// about 200 MB.
pub const MAX_BYTES: u64 = 512 << 20;

fn short(id: &str) -> String {
    if id.chars().count() > 16 {
        format!("{}…", id.chars().take(16).collect::<String>())
    } else {
        id.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Snapshot {
        Snapshot {
            format: FORMAT.into(),
            taken: "2026-11-29T00:00:00Z".into(),
            tenant: Tenant::default(),
            domains: vec![Domain {
                id: "d".into(),
                domain: "company.com".into(),
                ..Domain::default()
            }],
            users: vec![User {
                email_address: "a@company.com".into(),
                domain: "company.com".into(),
                ..User::default()
            }],
            groups: vec![Group {
                id: "g1".into(),
                description: "Sales".into(),
                parent_id: Some("root".into()),
                source: "cloud".into(),
            }],
            members: [(
                "g1".to_string(),
                vec![Member {
                    email_address: "a@company.com".into(),
                    domain: "company.com".into(),
                    internal: true,
                    kind: "created_manually".into(),
                }],
            )]
            .into(),
        }
    }

    #[test]
    fn a_chain_of_twenty_thousand_nested_groups_is_checked_in_linear_time() {
        let mut s = tiny();
        s.members.clear();
        s.groups = (0..20_000)
            .map(|i| Group {
                id: format!("g{i}"),
                description: format!("G{i}"),
                parent_id: Some(if i == 0 {
                    "root".into()
                } else {
                    format!("g{}", i - 1)
                }),
                source: "cloud".into(),
            })
            .collect();
        // Counted, not timed: each parent is walked past once, not once per descendant.
        let mut steps = 0;
        assert_eq!(s.check_counting(&mut steps), Ok(()));
        assert!(steps <= 20_000, "{steps} steps");
        s.groups[0].parent_id = Some("g19999".into());
        assert!(s.check().unwrap_err().contains("circle"));
    }

    #[test]
    fn a_consistent_snapshot_reads_back() {
        let s = tiny();
        let text = serde_json::to_vec(&s).unwrap();
        assert_eq!(Snapshot::parse("s.json", &text).unwrap(), s);
        assert_eq!(s.root_folder().as_deref(), Some("root"));
    }

    #[test]
    fn bad_snapshots_are_refused_naming_the_place() {
        let text = serde_json::to_vec(&tiny()).unwrap();
        let e = Snapshot::parse("s.json", &text[..text.len() / 2]).unwrap_err();
        assert!(e.to_string().contains("truncated"), "{e}");

        let mut other = serde_json::to_value(tiny()).unwrap();
        other["format"] = "mcsh-snapshot/9".into();
        let e = Snapshot::parse("s.json", &serde_json::to_vec(&other).unwrap()).unwrap_err();
        assert!(e.to_string().contains("mcsh-snapshot/9"), "{e}");

        let mut s = tiny();
        s.members.insert("nope".into(), vec![]);
        let e = Snapshot::parse("s.json", &serde_json::to_vec(&s).unwrap()).unwrap_err();
        assert!(e.to_string().contains("members[nope]: no group"), "{e}");

        let mut s = tiny();
        s.groups.push(Group {
            id: "g2".into(),
            description: "Loop".into(),
            parent_id: Some("g3".into()),
            source: "cloud".into(),
        });
        s.groups.push(Group {
            id: "g3".into(),
            description: "Back".into(),
            parent_id: Some("g2".into()),
            source: "cloud".into(),
        });
        let e = Snapshot::parse("s.json", &serde_json::to_vec(&s).unwrap()).unwrap_err();
        assert!(e.to_string().contains("go round in a circle"), "{e}");

        let mut s = tiny();
        let again = s.users[0].clone();
        s.users.push(again);
        let e = Snapshot::parse("s.json", &serde_json::to_vec(&s).unwrap()).unwrap_err();
        assert!(
            e.to_string()
                .contains("users[1]: a@company.com appears twice"),
            "{e}"
        );
    }
}

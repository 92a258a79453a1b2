//! What changed between two snapshots: users added, removed, renamed; groups added, removed,
//! renamed, moved; memberships joined and left, by person and by group.
//!
//! Policy: users are matched by address (any case), groups by what their id refers to (a
//! rename keeps the id; the service may answer another string for the same folder later,
//! [`crate::api::ids`]), members by address or domain. A lock is not compared: the API has no read of it, so no
//! snapshot holds it. Rows come in a stable order: users, groups, then memberships.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use super::Snapshot;

/// One difference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// `user added`, `user removed`, `user renamed`, `group added`, `group removed`,
    /// `group renamed`, `group moved`, `joined` or `left`.
    pub change: &'static str,
    /// The user, group or member it is about.
    pub subject: String,
    /// The rest: a name, `old → new`, the group joined or left.
    pub detail: String,
    /// For a rename or a move, what it was (a name, or the parent's path).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// For a rename or a move, what it is now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

/// Memberships joined and left, for one person or one group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Moves {
    /// Groups joined (by person) or members who joined (by group).
    pub joined: Vec<String>,
    /// Groups left, or members who left.
    pub left: Vec<String>,
}

/// Every difference from `a` to `b`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Diff {
    /// Whether nothing differs.
    pub equal: bool,
    /// Each difference, in order.
    pub changes: Vec<Change>,
    /// Membership moves by member (address or domain).
    pub by_person: BTreeMap<String, Moves>,
    /// Membership moves by group path.
    pub by_group: BTreeMap<String, Moves>,
}

/// The differences from `a` to `b`.
pub fn diff(a: &Snapshot, b: &Snapshot) -> Diff {
    let (a, b) = (&by_identity(a), &by_identity(b));
    let mut changes = Vec::new();
    let push = |changes: &mut Vec<Change>, change, subject: &str, detail: String| {
        changes.push(Change {
            change,
            subject: subject.to_string(),
            detail,
            before: None,
            after: None,
        })
    };
    let push_change =
        |changes: &mut Vec<Change>, change, subject: &str, was: String, is: String| {
            changes.push(Change {
                change,
                subject: subject.to_string(),
                detail: format!("\"{was}\" → \"{is}\""),
                before: Some(was),
                after: Some(is),
            })
        };

    let users_a: HashMap<String, &super::User> = a
        .users
        .iter()
        .map(|u| (u.email_address.to_ascii_lowercase(), u))
        .collect();
    let users_b: HashMap<String, &super::User> = b
        .users
        .iter()
        .map(|u| (u.email_address.to_ascii_lowercase(), u))
        .collect();
    for u in &b.users {
        match users_a.get(&u.email_address.to_ascii_lowercase()) {
            None => push(&mut changes, "user added", &u.email_address, kind_of(u)),
            Some(old) if old.name != u.name => push_change(
                &mut changes,
                "user renamed",
                &u.email_address,
                old.name.clone(),
                u.name.clone(),
            ),
            Some(_) => {}
        }
    }
    for u in &a.users {
        if !users_b.contains_key(&u.email_address.to_ascii_lowercase()) {
            push(&mut changes, "user removed", &u.email_address, kind_of(u));
        }
    }

    let paths_a = a.paths();
    let paths_b = b.paths();
    let groups_a: HashMap<&str, &super::Group> =
        a.groups.iter().map(|g| (g.id.as_str(), g)).collect();
    let groups_b: HashSet<&str> = b.groups.iter().map(|g| g.id.as_str()).collect();
    let parent_path = |paths: &HashMap<String, String>, parent: &Option<String>| {
        parent
            .as_ref()
            .and_then(|p| paths.get(p).cloned())
            .unwrap_or_else(|| "the top level".into())
    };
    for g in &b.groups {
        let path = &paths_b[&g.id];
        match groups_a.get(g.id.as_str()) {
            None => push(&mut changes, "group added", path, String::new()),
            Some(old) => {
                if old.description != g.description {
                    push_change(
                        &mut changes,
                        "group renamed",
                        path,
                        old.description.clone(),
                        g.description.clone(),
                    );
                }
                // Top-level on both sides is no move, whatever root folder each names.
                let (was, is) = (
                    parent_path(&paths_a, &old.parent_id),
                    parent_path(&paths_b, &g.parent_id),
                );
                if old.parent_id != g.parent_id && was != is {
                    changes.push(Change {
                        change: "group moved",
                        subject: path.clone(),
                        detail: format!("from under {was} to under {is}"),
                        before: Some(was),
                        after: Some(is),
                    });
                }
            }
        }
    }
    for g in &a.groups {
        if !groups_b.contains(g.id.as_str()) {
            push(
                &mut changes,
                "group removed",
                &paths_a[&g.id],
                String::new(),
            );
        }
    }

    let mut by_person: BTreeMap<String, Moves> = BTreeMap::new();
    let mut by_group: BTreeMap<String, Moves> = BTreeMap::new();
    let keys = |s: &Snapshot, id: &str| -> Vec<(String, String)> {
        s.members
            .get(id)
            .into_iter()
            .flatten()
            .map(|m| {
                let shown = if m.email_address.is_empty() {
                    format!("domain {}", m.domain)
                } else {
                    m.email_address.clone()
                };
                (m.key(), shown)
            })
            .collect()
    };
    let mut ids: Vec<&str> = b.groups.iter().map(|g| g.id.as_str()).collect();
    ids.extend(
        a.groups
            .iter()
            .map(|g| g.id.as_str())
            .filter(|id| !groups_b.contains(id)),
    );
    for id in ids {
        let before = keys(a, id);
        let after = keys(b, id);
        let had: HashSet<&str> = before.iter().map(|(k, _)| k.as_str()).collect();
        let has: HashSet<&str> = after.iter().map(|(k, _)| k.as_str()).collect();
        let path = paths_b
            .get(id)
            .or_else(|| paths_a.get(id))
            .cloned()
            .unwrap_or_default();
        for (k, shown) in &after {
            if !had.contains(k.as_str()) {
                push(&mut changes, "joined", shown, path.clone());
                by_person
                    .entry(shown.clone())
                    .or_default()
                    .joined
                    .push(path.clone());
                by_group
                    .entry(path.clone())
                    .or_default()
                    .joined
                    .push(shown.clone());
            }
        }
        for (k, shown) in &before {
            if !has.contains(k.as_str()) {
                push(&mut changes, "left", shown, path.clone());
                by_person
                    .entry(shown.clone())
                    .or_default()
                    .left
                    .push(path.clone());
                by_group
                    .entry(path.clone())
                    .or_default()
                    .left
                    .push(shown.clone());
            }
        }
    }
    Diff {
        equal: changes.is_empty(),
        changes,
        by_person,
        by_group,
    }
}

/// `s` with every group id (and parent id, and members key) replaced by what it refers to.
fn by_identity(s: &Snapshot) -> Snapshot {
    use crate::api::ids::identity;
    let mut s = s.clone();
    for g in &mut s.groups {
        g.id = identity(&g.id).into_owned();
        g.parent_id = g.parent_id.as_deref().map(|p| identity(p).into_owned());
    }
    s.members = std::mem::take(&mut s.members)
        .into_iter()
        .map(|(id, members)| (identity(&id).into_owned(), members))
        .collect();
    s
}

fn kind_of(u: &super::User) -> String {
    match (&u.alias, u.alias_for.as_deref()) {
        (true, Some(owner)) => format!("alias of {owner}"),
        (true, None) => "alias address".into(),
        _ if u.name.is_empty() => String::new(),
        _ => format!("{:?}", u.name),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Domain, Group, Member, Snapshot, Tenant, User, FORMAT};
    use super::*;

    fn snap(
        users: &[(&str, &str)],
        groups: &[(&str, &str, &str)],
        members: &[(&str, &str)],
    ) -> Snapshot {
        Snapshot {
            format: FORMAT.into(),
            taken: String::new(),
            tenant: Tenant::default(),
            domains: vec![Domain {
                domain: "c.com".into(),
                ..Domain::default()
            }],
            users: users
                .iter()
                .map(|(e, n)| User {
                    email_address: e.to_string(),
                    name: n.to_string(),
                    domain: "c.com".into(),
                    ..User::default()
                })
                .collect(),
            groups: groups
                .iter()
                .map(|(id, name, parent)| Group {
                    id: id.to_string(),
                    description: name.to_string(),
                    parent_id: Some(parent.to_string()),
                    source: "cloud".into(),
                })
                .collect(),
            members: {
                let mut m: BTreeMap<String, Vec<Member>> = BTreeMap::new();
                for (g, e) in members {
                    m.entry(g.to_string()).or_default().push(Member {
                        email_address: e.to_string(),
                        domain: "c.com".into(),
                        internal: true,
                        kind: "created_manually".into(),
                    });
                }
                m
            },
        }
    }

    #[test]
    fn every_kind_of_change_is_found_and_nothing_else() {
        let a = snap(
            &[("a@c.com", "A"), ("b@c.com", "B")],
            &[
                ("e", "Eng", "root"),
                ("p", "Plat", "e"),
                ("s", "Sales", "root"),
            ],
            &[("e", "a@c.com"), ("s", "b@c.com")],
        );
        assert!(diff(&a, &a).equal);
        let b = snap(
            &[("a@c.com", "Alice"), ("n@c.com", "N")],
            &[
                ("e", "Engineering", "root"),
                ("p", "Plat", "root"),
                ("x", "Ops", "root"),
            ],
            &[("e", "a@c.com"), ("x", "a@c.com")],
        );
        let d = diff(&a, &b);
        let got: Vec<(&str, &str, &str)> = d
            .changes
            .iter()
            .map(|c| (c.change, c.subject.as_str(), c.detail.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("user renamed", "a@c.com", "\"A\" → \"Alice\""),
                ("user added", "n@c.com", "\"N\""),
                ("user removed", "b@c.com", "\"B\""),
                ("group renamed", "Engineering", "\"Eng\" → \"Engineering\""),
                (
                    "group moved",
                    "Plat",
                    "from under Eng to under the top level"
                ),
                ("group added", "Ops", ""),
                ("group removed", "Sales", ""),
                ("joined", "a@c.com", "Ops"),
                ("left", "b@c.com", "Sales"),
            ]
        );
        assert_eq!(d.by_person["a@c.com"].joined, ["Ops"]);
        assert_eq!(d.by_group["Sales"].left, ["b@c.com"]);
        assert!(!d.equal);
    }
}

//! What a dry run has planned, as later reads in the same run should see it.
//!
//! Policy: under dry-run nothing is sent, but a planned user exists, a planned member is in
//! its group and a planned deletion is gone for every read that follows, so a dry-run
//! onboarding shows the person joining groups although the account was never created.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::api::{paths, Group, Member, User};

/// The planned changes, keyed the way reads look them up.
#[derive(Debug, Default)]
pub struct Overlay {
    created_users: Vec<User>,
    renamed: HashMap<String, String>,
    deleted: HashSet<String>,
    /// Users planned off the purge list (live again).
    restored: HashSet<String>,
    /// Planned members by group id, in the order planned.
    added: HashMap<String, Planned>,
    /// Planned removals by group id, as member keys.
    removed: HashMap<String, HashSet<String>>,
    created_groups: Vec<Group>,
    /// Planned renames and moves of groups: id to (new name, new parent).
    renamed_groups: HashMap<String, (Option<String>, Option<String>)>,
    /// Groups planned to be deleted.
    deleted_groups: HashSet<String>,
}

/// Members planned into one group: in order, each found by its key in constant time, so
/// planning N adds or removes costs N steps, not N².
#[derive(Debug, Default)]
struct Planned {
    order: Vec<Option<Member>>,
    at: HashMap<String, usize>,
}

impl Planned {
    fn add(&mut self, member: Member) {
        let key = member.key();
        if !self.at.contains_key(&key) {
            self.at.insert(key, self.order.len());
            self.order.push(Some(member));
        }
    }

    fn remove(&mut self, key: &str) {
        if let Some(i) = self.at.remove(key) {
            self.order[i] = None;
        }
    }
}

/// The member a membership item names, as a planned member row.
fn planned_member(item: &Value) -> Member {
    Member {
        kind: "planned".into(),
        ..super::memory::member_of_item(item)
    }
}

fn text<'a>(item: &'a Value, key: &str) -> &'a str {
    item.get(key).and_then(Value::as_str).unwrap_or("")
}

impl Overlay {
    /// Records a planned write.
    pub fn record(&mut self, endpoint: &str, item: &Value) {
        let email = text(item, "emailAddress").to_ascii_lowercase();
        match endpoint {
            paths::CREATE_USER => {
                self.deleted.remove(&email);
                let user = User {
                    email_address: text(item, "emailAddress").to_string(),
                    name: text(item, "name").to_string(),
                    address_type: "internal".into(),
                    ..User::default()
                };
                self.created_users.push(user.with_domain());
            }
            paths::UPDATE_USER => {
                if let Some(name) = item.get("name").and_then(Value::as_str) {
                    self.renamed.insert(email, name.to_string());
                }
            }
            paths::ADD_TO_PURGE_LIST | paths::REMOVE_FROM_PURGE_LIST => {
                for e in item
                    .get("emailAddresses")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    let e = e.to_ascii_lowercase();
                    if endpoint == paths::ADD_TO_PURGE_LIST {
                        self.restored.remove(&e);
                        self.deleted.insert(e);
                    } else {
                        self.deleted.remove(&e);
                        self.restored.insert(e);
                    }
                }
            }
            paths::ADD_GROUP_MEMBER | paths::REMOVE_GROUP_MEMBER => {
                let id = text(item, "id").to_string();
                let member = planned_member(item);
                let key = member.key();
                if endpoint == paths::ADD_GROUP_MEMBER {
                    self.removed.entry(id.clone()).or_default().remove(&key);
                    self.added.entry(id).or_default().add(member);
                } else {
                    self.added.entry(id.clone()).or_default().remove(&key);
                    self.removed.entry(id).or_default().insert(key);
                }
            }
            paths::UPDATE_GROUP => {
                let id = text(item, "id").to_string();
                let entry = self.renamed_groups.entry(id).or_default();
                if let Some(name) = item.get("description").and_then(Value::as_str) {
                    entry.0 = Some(name.to_string());
                }
                if let Some(parent) = item.get("parentId").and_then(Value::as_str) {
                    entry.1 = Some(parent.to_string());
                }
            }
            paths::DELETE_GROUP => {
                self.deleted_groups.insert(text(item, "id").to_string());
            }
            paths::CREATE_GROUP => {
                let description = text(item, "description").to_string();
                self.created_groups.push(Group {
                    id: format!("planned:{description}"),
                    description,
                    source: "cloud".into(),
                    parent_id: item
                        .get("parentId")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    ..Group::default()
                });
            }
            _ => {}
        }
    }

    /// A page of users as the plan would leave it.
    pub fn users(&self, users: Vec<User>) -> Vec<User> {
        users
            .into_iter()
            .filter(|u| !self.deleted.contains(&u.email_address.to_ascii_lowercase()))
            .map(|mut u| {
                if let Some(n) = self.renamed.get(&u.email_address.to_ascii_lowercase()) {
                    u.name = n.clone();
                }
                u
            })
            .collect()
    }

    /// The user `email` as the plan would leave it, given what the directory has.
    pub fn user(&self, email: &str, found: Option<User>) -> Option<User> {
        let key = email.to_ascii_lowercase();
        if self.deleted.contains(&key) {
            return None;
        }
        let found = found.or_else(|| {
            self.created_users
                .iter()
                .find(|u| u.email_address.eq_ignore_ascii_case(email))
                .cloned()
        });
        found.map(|mut u| {
            if let Some(n) = self.renamed.get(&key) {
                u.name = n.clone();
            }
            u
        })
    }

    /// Whether the plan queues `email` for deletion (so a restore of it is a change).
    pub fn deletes(&self, email: &str) -> bool {
        self.deleted.contains(&email.to_ascii_lowercase())
    }

    /// Whether the plan takes `email` off the purge list (so it is a live user afterwards).
    pub fn restores(&self, email: &str) -> bool {
        self.restored.contains(&email.to_ascii_lowercase())
    }

    /// Users the plan creates in `domain`.
    pub fn created_in(&self, domain: &str) -> Vec<User> {
        self.created_users
            .iter()
            .filter(|u| {
                u.domain.eq_ignore_ascii_case(domain)
                    && !self.deleted.contains(&u.email_address.to_ascii_lowercase())
            })
            .cloned()
            .collect()
    }

    /// The members of group `id` as the plan would leave them.
    pub fn members(&self, id: &str, mut members: Vec<Member>) -> Vec<Member> {
        if let Some(gone) = self.removed.get(id).filter(|g| !g.is_empty()) {
            members.retain(|m| !gone.contains(&m.key()));
        }
        if let Some(planned) = self.added.get(id) {
            let present: HashSet<String> = members.iter().map(Member::key).collect();
            members.extend(
                planned
                    .order
                    .iter()
                    .flatten()
                    .filter(|m| !present.contains(&m.key()))
                    .cloned(),
            );
        }
        members
    }

    /// Whether the plan makes `key` ([`Member::key`]) a member of group `id` (`Some(true)`),
    /// takes it out (`Some(false)`), or leaves it as the directory has it (`None`).
    pub fn member_state(&self, id: &str, key: &str) -> Option<bool> {
        if self.added.get(id).is_some_and(|p| p.at.contains_key(key)) {
            Some(true)
        } else if self.removed.get(id).is_some_and(|r| r.contains(key)) {
            Some(false)
        } else {
            None
        }
    }

    /// The groups as the plan would leave them: renamed, moved, deleted ones as planned, and
    /// those it creates after them.
    pub fn all_groups(&self, mut groups: Vec<Group>) -> Vec<Group> {
        groups.extend(self.groups(None));
        groups.retain(|g| !self.deleted_groups.contains(&g.id));
        for g in &mut groups {
            if let Some((name, parent)) = self.renamed_groups.get(&g.id) {
                if let Some(name) = name {
                    g.description = name.clone();
                }
                if let Some(parent) = parent {
                    g.parent_id = Some(parent.clone());
                }
            }
        }
        groups
    }

    /// Groups the plan creates whose name contains `query`.
    pub fn groups(&self, query: Option<&str>) -> Vec<Group> {
        let q = query.unwrap_or("").to_ascii_lowercase();
        self.created_groups
            .iter()
            .filter(|g| g.description.to_ascii_lowercase().contains(&q))
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn member(email: &str) -> Member {
        Member {
            email_address: email.into(),
            ..Member::default()
        }
    }

    fn group(id: &str, name: &str) -> Group {
        Group {
            id: id.into(),
            description: name.into(),
            ..Group::default()
        }
    }

    #[test]
    fn later_reads_see_the_users_members_and_groups_the_plan_makes() {
        let mut o = Overlay::default();
        let new = "New.One@company.com";
        o.record(
            paths::CREATE_USER,
            &json!({"emailAddress": new, "name": "New One"}),
        );
        o.record(
            paths::CREATE_USER,
            &json!({"emailAddress": "gone@company.com", "name": "Gone"}),
        );
        o.record(
            paths::ADD_TO_PURGE_LIST,
            &json!({"emailAddresses": ["gone@company.com", "old@company.com"]}),
        );
        let created = o.created_in("COMPANY.com");
        let addresses: Vec<&str> = created.iter().map(|u| u.email_address.as_str()).collect();
        assert_eq!(
            addresses,
            [new],
            "created in the domain, and not planned away again"
        );
        assert_eq!(created[0].name, "New One");
        assert_eq!(created[0].address_type, "internal");
        assert!(o.created_in("other.com").is_empty());
        assert!(o.deletes("OLD@company.com"));
        assert!(!o.deletes("new.one@company.com"));

        o.record(
            paths::ADD_GROUP_MEMBER,
            &json!({"id": "g1", "emailAddress": "new.one@company.com"}),
        );
        o.record(
            paths::REMOVE_GROUP_MEMBER,
            &json!({"id": "g1", "emailAddress": "Bob@company.com"}),
        );
        let members = o.members(
            "g1",
            vec![member("bob@company.com"), member("carol@company.com")],
        );
        let keys: Vec<String> = members.iter().map(Member::key).collect();
        assert_eq!(keys, ["carol@company.com", "new.one@company.com"]);
        assert_eq!(o.member_state("g1", "bob@company.com"), Some(false));
        assert_eq!(o.member_state("g2", "bob@company.com"), None);

        o.record(
            paths::CREATE_GROUP,
            &json!({"description": "Ops", "parentId": "p1"}),
        );
        o.record(paths::DELETE_GROUP, &json!({"id": "g2"}));
        o.record(
            paths::UPDATE_GROUP,
            &json!({"id": "g1", "description": "Sales EU"}),
        );
        let groups = o.all_groups(vec![group("g1", "Sales"), group("g2", "Old")]);
        let seen: Vec<(&str, &str, Option<&str>)> = groups
            .iter()
            .map(|g| {
                (
                    g.id.as_str(),
                    g.description.as_str(),
                    g.parent_id.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [("g1", "Sales EU", None), ("planned:Ops", "Ops", Some("p1"))]
        );
    }
}

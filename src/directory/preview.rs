//! What a dry run predicts for each write, so it reports what the real run would.
//!
//! Policy: the real run learns some outcomes from the service's answer: "already a member",
//! "not a member", "user already exists", "group already exists", "domain not internal". A
//! dry run sends nothing, so it reads what decides them (each group's members once, the
//! internal domains, the group list, `get-aliases` probes of many addresses a request; reads
//! a plan rests on) and reports those items as the real run would: `unchanged`, or `failed`
//! with the service's code. Such items are neither planned nor put in a plan. Writes whose callers
//! read before deciding to write need no prediction.
//!
//! The writes a script queued ([`Directory::foresees_from_memory`]) read none of that beyond
//! what the real run reads: it foresees from what the run has read (the script's own `members`,
//! `users`, `find_user`..., kept current with its planned writes), the internal domains and
//! the group list (which the real run reads too), one round of address probes for new
//! users, and the members of a group it deletes. An outcome that leaves open (a member of a
//! group the run never read, a user it never listed) is planned as a change and counted;
//! `mcsh apply` reports what the service makes of it, as the real run would have learnt it
//! from the answer.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::{DirError, Directory};
use crate::api::{model, paths, Group};

/// What the real run would make of one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Prediction {
    /// It would change the directory.
    Change,
    /// The directory is already so: `unchanged`.
    NoOp,
    /// The service would refuse it with this code and message.
    Refused(&'static str, String),
}

impl Directory {
    /// For each item of a dry-run `endpoint` call, what the real run would make of it. Items
    /// are taken in order, so adding one address twice is a change, then no change.
    pub(crate) async fn predict(
        &self,
        endpoint: &str,
        items: &[(String, Value)],
    ) -> Result<Vec<Prediction>, DirError> {
        match endpoint {
            paths::ADD_GROUP_MEMBER => self.predict_members(items, true).await,
            paths::REMOVE_GROUP_MEMBER => self.predict_members(items, false).await,
            paths::CREATE_USER => self.predict_new_users(items).await,
            paths::CREATE_GROUP => self.predict_new_groups(items).await,
            paths::UPDATE_USER | paths::ADD_TO_PURGE_LIST | paths::REMOVE_FROM_PURGE_LIST => {
                self.predict_known_users(endpoint, items).await
            }
            paths::DELETE_GROUP => self.predict_deleted_groups(items).await,
            paths::UPDATE_GROUP => self.predict_renamed_groups(items).await,
            _ => Ok(vec![Prediction::Change; items.len()]),
        }
    }

    async fn predict_members(
        &self,
        items: &[(String, Value)],
        adding: bool,
    ) -> Result<Vec<Prediction>, DirError> {
        // What this call has decided so far, by (group id, member key): repeats within one
        // call follow the earlier item.
        let mut decided: HashMap<(String, String), bool> = HashMap::new();
        let mut out = Vec::with_capacity(items.len());
        for (_, item) in items {
            let id = text(item, "id");
            let Some(key) = member_of(item) else {
                out.push(Prediction::Change);
                continue;
            };
            let pair = (id.to_string(), key);
            let now = match decided.get(&pair) {
                Some(&now) => now,
                None => {
                    let planned = self.overlaid(None, |o, _| o.member_state(id, &pair.1));
                    let remembered = self.memory().is_member(id, &pair.1);
                    match (planned, remembered) {
                        (Some(now), _) | (None, Some(now)) => now,
                        (None, None) if self.foresees_from_memory() => {
                            self.count_unforeseen(1);
                            !adding
                        }
                        (None, None) => self.service_has_member(id, &pair.1).await?,
                    }
                }
            };
            decided.insert(pair, adding);
            out.push(if now != adding {
                Prediction::Change
            } else {
                Prediction::NoOp
            });
        }
        Ok(out)
    }

    async fn predict_new_users(
        &self,
        items: &[(String, Value)],
    ) -> Result<Vec<Prediction>, DirError> {
        let internal = self.internal_domains().await?;
        let emails: Vec<String> = items
            .iter()
            .map(|(_, item)| text(item, "emailAddress").to_ascii_lowercase())
            .collect();
        let mut taken = self.existing_users(&emails).await?;
        let mut out = Vec::with_capacity(items.len());
        for email in emails {
            let planned = self.overlaid(None, |o, f| o.user(&email, f)).is_some();
            out.push(if !internal.contains(super::email::domain_of(&email)) {
                Prediction::Refused(
                    "err_domain_not_internal",
                    "The domain is not an internal domain of the account".into(),
                )
            } else if planned || !taken.insert(email) {
                Prediction::Refused("err_user_already_exists", "User already exists".into())
            } else {
                Prediction::Change
            });
        }
        Ok(out)
    }

    async fn predict_new_groups(
        &self,
        items: &[(String, Value)],
    ) -> Result<Vec<Prediction>, DirError> {
        let groups = self.fetch_groups().await?;
        let listed = crate::api::model::listed_ids(&groups);
        // (parent id or "" for the top level, lower-case name) of every group there is.
        let mut taken: HashSet<(String, String)> = groups
            .iter()
            .map(|g| {
                let parent = if model::is_top_level(g, &listed) {
                    String::new()
                } else {
                    g.parent_id.clone().unwrap_or_default()
                };
                (parent, g.description.trim().to_lowercase())
            })
            .collect();
        Ok(items
            .iter()
            .map(|(_, item)| {
                let parent = text(item, "parentId").to_string();
                let parent = if listed.contains(parent.as_str()) {
                    parent
                } else {
                    String::new()
                };
                let name = text(item, "description").trim().to_lowercase();
                if taken.insert((parent, name)) {
                    Prediction::Change
                } else {
                    Prediction::Refused("err_folder_already_exists", "Group already exists".into())
                }
            })
            .collect())
    }
}

impl Directory {
    /// Changes to users the service must know. Updating needs a live (listed) user: one
    /// queued for deletion is not found. Deleting takes a listed user or one already queued.
    /// Restoring takes only a queued one. Directory sync's users refuse updates and deletes.
    async fn predict_known_users(
        &self,
        endpoint: &str,
        items: &[(String, Value)],
    ) -> Result<Vec<Prediction>, DirError> {
        let (update, restore) = (
            endpoint == paths::UPDATE_USER,
            endpoint == paths::REMOVE_FROM_PURGE_LIST,
        );
        let emails: Vec<String> = items
            .iter()
            .map(
                |(_, item)| match item.get("emailAddresses").and_then(|a| a.get(0)) {
                    Some(e) => e.as_str().unwrap_or("").to_string(),
                    None => text(item, "emailAddress").to_string(),
                },
            )
            .collect();
        // The run's one pass over each domain's users says who is listed, and whether
        // directory sync manages them (lower-case address → synced). From memory only, an
        // address the run never looked up is not known to be listed or not.
        let from_memory = self.foresees_from_memory();
        let mut listed: HashMap<String, bool> = HashMap::new();
        let mut not_looked_up: HashSet<String> = HashSet::new();
        for email in &emails {
            let key = email.to_ascii_lowercase();
            let found = if from_memory {
                let remembered = self.memory().listed(&key);
                remembered.unwrap_or_else(|| {
                    not_looked_up.insert(key.clone());
                    None
                })
            } else {
                self.find_user(email).await?
            };
            if let Some(u) = found {
                listed.insert(key, u.is_synced());
            }
        }
        // Only an unlisted address may still be queued for deletion: those are probed, many
        // a request (from memory only: as the run's own probes found them). An update needs
        // a listed user, so it probes nothing.
        let unlisted: Vec<String> = emails
            .iter()
            .filter(|e| !update && !listed.contains_key(&e.to_ascii_lowercase()))
            .cloned()
            .collect();
        let queued: HashSet<String> = if from_memory {
            let memory = self.memory();
            unlisted
                .iter()
                .map(|e| e.to_ascii_lowercase())
                .filter(|e| memory.exists(e) == Some(true))
                .collect()
        } else {
            self.existing_users(&unlisted).await?
        };
        let mut out = Vec::with_capacity(items.len());
        for email in emails {
            // What the run planned before: a create, a delete, a restore of this address.
            let created = self.overlaid(None, |o, f| o.user(&email, f)).is_some();
            let deleted = self.overlaid(false, |o, _| o.deletes(&email));
            let restored = self.overlaid(false, |o, _| o.restores(&email));
            let planned = if restore {
                created || deleted
            } else {
                created || restored
            };
            let key = email.to_ascii_lowercase();
            // From memory only: whether it is listed was never looked up, or (to delete or
            // restore it) whether an unlisted address is queued was never probed.
            let open = from_memory
                && !listed.contains_key(&key)
                && (not_looked_up.contains(&key)
                    || (!update && self.memory().exists(&key).is_none()));
            out.push(match listed.get(&key) {
                _ if update && deleted => {
                    Prediction::Refused("err_user_not_found", "User not found".into())
                }
                _ if planned => Prediction::Change,
                _ if open => {
                    self.count_unforeseen(1);
                    Prediction::Change
                }
                Some(_) if restore => Prediction::Refused(
                    "err_user_not_on_purge_list",
                    "User is not on the purge list".into(),
                ),
                Some(true) => Prediction::Refused(
                    "err_xdk_operation_forbidden_for_address",
                    "0003 Forbidden To Perform Operation For Address".into(),
                ),
                Some(false) => Prediction::Change,
                None if queued.contains(&key) => Prediction::Change,
                None => Prediction::Refused("err_user_not_found", "User not found".into()),
            });
        }
        Ok(out)
    }

    /// Deleting a group that still has members or child groups is refused.
    async fn predict_deleted_groups(
        &self,
        items: &[(String, Value)],
    ) -> Result<Vec<Prediction>, DirError> {
        let groups = self.fetch_groups().await?;
        let mut out = Vec::with_capacity(items.len());
        for (_, item) in items {
            let id = text(item, "id");
            let children = groups.iter().any(|g| {
                g.parent_id
                    .as_deref()
                    .is_some_and(|p| crate::api::ids::same(p, id))
            });
            let group = Group {
                id: id.to_string(),
                description: self.group_name(id),
                ..Group::default()
            };
            // Read even for a script: a plan to delete a group rests on its being empty.
            let members = !self.members(&group).await?.is_empty();
            out.push(if children || members {
                Prediction::Refused(
                    "err_folder_not_empty",
                    "Group has members or child groups".into(),
                )
            } else {
                Prediction::Change
            });
        }
        Ok(out)
    }

    /// A rename to the name it has changes nothing; to a sibling's name, it is refused.
    async fn predict_renamed_groups(
        &self,
        items: &[(String, Value)],
    ) -> Result<Vec<Prediction>, DirError> {
        let groups = self.fetch_groups().await?;
        Ok(items
            .iter()
            .map(|(_, item)| {
                let id = text(item, "id");
                let Some(name) = item.get("description").and_then(Value::as_str) else {
                    return Prediction::Change;
                };
                let Some(group) = groups.iter().find(|g| crate::api::ids::same(&g.id, id)) else {
                    return Prediction::Change;
                };
                let parent = item
                    .get("parentId")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .or_else(|| group.parent_id.clone());
                if group.description == name && parent == group.parent_id {
                    Prediction::NoOp
                } else if groups.iter().any(|g| {
                    g.id != id
                        && g.parent_id == parent
                        && g.description.eq_ignore_ascii_case(name.trim())
                }) {
                    Prediction::Refused("err_folder_already_exists", "Group already exists".into())
                } else {
                    Prediction::Change
                }
            })
            .collect())
    }
}

fn text<'a>(item: &'a Value, key: &str) -> &'a str {
    item.get(key).and_then(Value::as_str).unwrap_or("")
}

/// The member an item names, as [`crate::api::Member::key`] tells members apart.
fn member_of(item: &Value) -> Option<String> {
    let (email, domain) = (text(item, "emailAddress"), text(item, "domain"));
    if email.is_empty() && domain.is_empty() {
        return None;
    }
    let member = crate::api::Member {
        email_address: email.to_string(),
        domain: domain.to_string(),
        ..crate::api::Member::default()
    };
    Some(member.key())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_domain_members_key_names_its_domain() {
        let key = |domain: &str| member_of(&json!({ "id": "g", "domain": domain })).unwrap();
        assert_ne!(key("example.com"), key("company.com"));
        let member = crate::api::Member {
            domain: "example.com".into(),
            ..crate::api::Member::default()
        };
        assert_eq!(key("example.com"), member.key());
        assert_eq!(member_of(&json!({ "id": "g" })), None);
    }
}

//! A run's memory of what it read: the one read path every command and script function
//! goes through, as the executor is the one write path.
//!
//! Policy:
//! - A run reads each thing once: the list of groups (and the paths made from it), the
//!   members of each group, the internal domains, each address's "is it a user" probe, each
//!   user looked up, and the membership index that answers `groups_of`. Every later read in
//!   the run is answered from here.
//! - What the run itself changes is written into the memory as the service confirms it
//!   ([`Memory::learn`], called by the executor for every item it decides): a member added is
//!   in its group, a group created is in the list, a rename renames, a delete removes. So a
//!   read later in the run sees the run's own writes without asking again.
//! - Someone else's change made while the run goes on is not seen by the run's reads; the
//!   service's answer to each write still decides that write (another admin's add makes ours
//!   `unchanged`). The REPL forgets everything before each input ([`Directory::forget_reads`]),
//!   so each statement starts from the tenant as it is.
//! - Under a dry run the memory holds what the service answered, and the overlay of planned
//!   writes is laid over it on every read, as before.
//! - Looking a user up pages through the user's domain only as far as needed, remembering
//!   every user it passes, and goes on from there for the next address: a loop of lookups
//!   reads each domain at most once.
//! - The account's code and name are read once too.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::Value;

use super::membership::MembershipIndex;
use super::outcome::Status;
use crate::api::pager::Pager;
use crate::api::{paths, Domain, Group, Member, User};

/// Everything a run has read, kept current with its own confirmed writes.
#[derive(Default)]
pub(crate) struct Memory {
    /// The groups as the service lists them (no planned ones, no paths).
    pub groups: Option<Vec<Group>>,
    /// The groups with planned ones and paths, as `list_groups` gives them.
    pub pathed: Option<Arc<Vec<Group>>>,
    /// The members of each group read, by group id.
    members: HashMap<String, Members>,
    /// Users looked up, by lower-case address: `None` for "no live user".
    users: HashMap<String, Option<User>>,
    /// How far the lookups have paged through each domain.
    scans: HashMap<String, Scan>,
    /// The alias addresses' rows of each domain read whole with them, by domain, then by
    /// lower-case address: with the domain's users, they answer `find_users(.., #{aliases:
    /// true})` (onboard's read) without reading again.
    alias_rows: HashMap<String, HashMap<String, User>>,
    /// The internal domains.
    pub domains: Option<Vec<Domain>>,
    /// Whether an address is a user (listed or queued for deletion), by lower-case address.
    existing: HashMap<String, bool>,
    /// The membership index, built from the members above.
    pub index: Option<Arc<MembershipIndex>>,
    /// The users the run's listings passed, kept compactly.
    pub passed: super::passed::Passed,
    /// The account's code and name (`get-account`), once asked: `profile()` and `account()`
    /// in a loop ask the service once.
    pub account: Option<(Option<String>, Option<String>)>,
}

#[derive(Default)]
struct Members {
    list: Vec<Member>,
    keys: HashSet<String>,
}

/// How far lookups have paged through one domain's users.
pub(crate) struct Scan {
    /// Where the next page comes from; `None` while a lookup holds it, or before the first.
    pub pager: Option<Pager>,
    /// Every page has been read: an address not remembered is no live user.
    pub complete: bool,
}

fn text<'a>(item: &'a Value, key: &str) -> &'a str {
    item.get(key).and_then(Value::as_str).unwrap_or("")
}

/// The member an item of a membership write names (the overlay's planned rows too).
pub(crate) fn member_of_item(item: &Value) -> Member {
    let email = text(item, "emailAddress").to_string();
    let domain = if email.is_empty() {
        text(item, "domain").to_string()
    } else {
        super::email::domain_of(&email).to_string()
    };
    Member {
        email_address: email,
        domain,
        internal: true,
        ..Member::default()
    }
}

impl Memory {
    /// One child group more (or fewer) under `parent`, in the remembered list.
    fn count_child(&mut self, parent: Option<&str>, more: bool) {
        let Some(parent) = parent else { return };
        if let Some(g) = self.groups.iter_mut().flatten().find(|g| g.id == parent) {
            g.folder_count = if more {
                g.folder_count.saturating_add(1)
            } else {
                g.folder_count.saturating_sub(1)
            };
        }
    }

    /// The members of group `id`, when this run has read them.
    pub fn members(&self, id: &str) -> Option<Vec<Member>> {
        self.members.get(id).map(|m| m.list.clone())
    }

    /// Whether `key` (a [`Member::key`]) is a member of group `id`, when the run has read it.
    pub fn is_member(&self, id: &str, key: &str) -> Option<bool> {
        self.members.get(id).map(|m| m.keys.contains(key))
    }

    /// Remembers the members of group `id` as read.
    pub fn set_members(&mut self, id: &str, list: Vec<Member>) {
        let keys = list.iter().map(Member::key).collect();
        self.members.insert(id.to_string(), Members { list, keys });
    }

    /// The user `email` (lower-case), when the run has looked it up or passed it.
    pub fn user(&self, email: &str) -> Option<Option<User>> {
        self.users.get(email).cloned()
    }

    /// Remembers users a listing passed (never overwriting what the run has learned since).
    pub fn saw_users(&mut self, users: &[User]) {
        for u in users.iter().filter(|u| !u.is_alias()) {
            self.users
                .entry(u.email_address.to_ascii_lowercase())
                .or_insert_with(|| Some(u.clone()));
        }
    }

    /// The user `email` (lower-case) as the run's reads tell it: remembered, or no live user
    /// when its domain was read to the end; `None` when the run cannot tell.
    pub fn listed(&self, email: &str) -> Option<Option<User>> {
        if let Some(found) = self.users.get(email) {
            return Some(found.clone());
        }
        if let Some(passed) = self.passed.get(email) {
            return Some(Some(passed));
        }
        if self.passed.is_not_listed(email) {
            return Some(None);
        }
        let domain = super::email::domain_of(email);
        self.scans
            .get(domain)
            .is_some_and(|s| s.complete)
            .then_some(None)
    }

    /// Remembers that `email` (lower-case) is no live user.
    pub fn no_user(&mut self, email: &str) {
        self.users.insert(email.to_string(), None);
    }

    /// Whether every user of `domain` (lower-case) is remembered.
    pub fn scanned_whole(&self, domain: &str) -> bool {
        self.scans.get(domain).is_some_and(|s| s.complete)
    }

    /// Whether every user and every alias address of `domain` (lower-case) is remembered.
    pub fn scanned_whole_with_aliases(&self, domain: &str) -> bool {
        self.scanned_whole(domain) && self.alias_rows.contains_key(domain)
    }

    /// The row of alias address `email` (lower-case), when its domain was read whole with
    /// its aliases and `email` is one of them.
    pub fn alias_row(&self, email: &str) -> Option<User> {
        self.alias_rows
            .get(super::email::domain_of(email))?
            .get(email)
            .cloned()
    }

    /// Remembers every alias address of `domain` (lower-case), read whole.
    pub fn keep_alias_rows(&mut self, domain: &str, rows: Vec<User>) {
        let rows = rows
            .into_iter()
            .map(|u| (u.email_address.to_ascii_lowercase(), u))
            .collect();
        self.alias_rows.insert(domain.to_string(), rows);
    }

    /// Takes the scan of `domain` (lower-case) to go on with; `None` when it is complete.
    pub fn take_scan(&mut self, domain: &str) -> Option<Option<Pager>> {
        match self.scans.get_mut(domain) {
            Some(s) if s.complete => None,
            Some(s) => Some(s.pager.take()),
            None => Some(None),
        }
    }

    /// Puts a scan back: where it got to, or that it is complete.
    pub fn put_scan(&mut self, domain: &str, pager: Option<Pager>, complete: bool) {
        self.scans
            .insert(domain.to_string(), Scan { pager, complete });
    }

    /// Whether `email` (lower-case) is a user, when probed.
    pub fn exists(&self, email: &str) -> Option<bool> {
        self.existing.get(email).copied()
    }

    /// Remembers a probe's answer.
    pub fn set_exists(&mut self, email: &str, exists: bool) {
        self.existing.insert(email.to_string(), exists);
    }

    /// A dry run planned a write: what is built from the overlaid reads is built anew.
    pub fn planned(&mut self, endpoint: &str) {
        match endpoint {
            paths::CREATE_GROUP | paths::UPDATE_GROUP | paths::DELETE_GROUP => {
                self.pathed = None;
                self.index = None;
            }
            paths::ADD_GROUP_MEMBER | paths::REMOVE_GROUP_MEMBER => self.index = None,
            _ => {}
        }
    }

    /// The service decided an item of `endpoint` with `status` (`data`: its answer for the
    /// item): what the run read is brought up to date with it.
    pub fn learn(&mut self, endpoint: &str, item: &Value, status: Status, data: Option<&Value>) {
        let changed = matches!(
            status,
            Status::Created | Status::Updated | Status::Removed | Status::Unverified
        );
        let settled = changed || status == Status::Unchanged;
        if matches!(
            endpoint,
            paths::UPDATE_ALIAS | paths::ADD_TO_PURGE_LIST | paths::REMOVE_FROM_PURGE_LIST
        ) && !matches!(status, Status::Unchanged | Status::Planned)
        {
            // Which alias rows a change (or a user queued, or back) adds or ends is the
            // service's to say, and so is whether a write that failed, its answer perhaps lost,
            // changed anything: read anew.
            self.alias_rows.clear();
        }
        match endpoint {
            paths::ADD_GROUP_MEMBER | paths::REMOVE_GROUP_MEMBER if settled => {
                let adding = endpoint == paths::ADD_GROUP_MEMBER;
                let id = text(item, "id");
                let member = member_of_item(item);
                if let Some(m) = self.members.get_mut(id) {
                    let key = member.key();
                    if adding && m.keys.insert(key.clone()) {
                        m.list.push(member);
                    } else if !adding && m.keys.remove(&key) {
                        m.list.retain(|x| x.key() != key);
                    }
                }
                if changed {
                    let step = |g: &mut Group| {
                        if g.id == id {
                            g.user_count = if adding {
                                g.user_count.saturating_add(1)
                            } else {
                                g.user_count.saturating_sub(1)
                            };
                        }
                    };
                    self.groups.iter_mut().flatten().for_each(step);
                    if let Some(p) = self.pathed.as_mut() {
                        Arc::make_mut(p).iter_mut().for_each(step);
                    }
                }
                self.index = None;
            }
            paths::CREATE_USER if changed => {
                let email = text(item, "emailAddress").to_ascii_lowercase();
                let user = data
                    .and_then(|d| serde_json::from_value::<User>(d.clone()).ok())
                    .filter(|u| !u.email_address.is_empty())
                    .unwrap_or_else(|| User {
                        email_address: text(item, "emailAddress").to_string(),
                        name: text(item, "name").to_string(),
                        address_type: "internal".into(),
                        ..User::default()
                    });
                self.users.insert(email.clone(), Some(user.with_domain()));
                self.existing.insert(email, true);
            }
            paths::UPDATE_USER if changed => {
                let email = text(item, "emailAddress").to_ascii_lowercase();
                // A user a listing passed, changed now: remembered whole from here on, so a
                // second change in the run reads (and records) what the first made.
                if !self.users.contains_key(&email) {
                    if let Some(u) = self.passed.get(&email) {
                        self.users.insert(email.clone(), Some(u));
                    }
                }
                if let Some(Some(u)) = self.users.get_mut(&email) {
                    if let Some(name) = item.get("name").and_then(Value::as_str) {
                        u.name = name.to_string();
                    }
                    if let Some(b) = item.get("accountLocked").and_then(Value::as_bool) {
                        u.account_locked = Some(b);
                    }
                    if let Some(b) = item.get("accountDisabled").and_then(Value::as_bool) {
                        u.account_disabled = Some(b);
                    }
                }
            }
            paths::ADD_TO_PURGE_LIST | paths::REMOVE_FROM_PURGE_LIST if changed => {
                let queue = endpoint == paths::ADD_TO_PURGE_LIST;
                for e in item
                    .get("emailAddresses")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    let e = e.to_ascii_lowercase();
                    if queue {
                        self.users.insert(e.clone(), None);
                    } else {
                        // Back in the listing: the next lookup reads it as the service has it.
                        self.users.remove(&e);
                        let domain = super::email::domain_of(&e).to_string();
                        self.scans.remove(&domain);
                    }
                    self.existing.insert(e, true);
                }
            }
            paths::CREATE_GROUP if changed => {
                if let Some(mut g) =
                    data.and_then(|d| serde_json::from_value::<Group>(d.clone()).ok())
                {
                    if !g.id.is_empty() {
                        let asked = item.get("parentId").and_then(Value::as_str);
                        if g.parent_id.is_none() {
                            g.parent_id = asked.map(str::to_string);
                        }
                        self.count_child(g.parent_id.as_deref(), true);
                        self.members.insert(g.id.clone(), Members::default());
                        if let Some(groups) = self.groups.as_mut() {
                            groups.push(Group {
                                path: String::new(),
                                ..g
                            });
                        }
                    }
                }
                self.pathed = None;
                self.index = None;
            }
            paths::UPDATE_GROUP if changed => {
                let id = text(item, "id");
                let mut moved = None;
                if let Some(g) = self.groups.iter_mut().flatten().find(|g| g.id == id) {
                    if let Some(name) = item.get("description").and_then(Value::as_str) {
                        g.description = name.to_string();
                    }
                    if let Some(parent) = item.get("parentId").and_then(Value::as_str) {
                        if g.parent_id.as_deref() != Some(parent) {
                            moved = Some((g.parent_id.clone(), parent.to_string()));
                        }
                        g.parent_id = Some(parent.to_string());
                    }
                }
                if let Some((from, to)) = moved {
                    self.count_child(from.as_deref(), false);
                    self.count_child(Some(&to), true);
                }
                self.pathed = None;
                self.index = None;
            }
            paths::DELETE_GROUP if changed => {
                let id = text(item, "id");
                let parent = self
                    .groups
                    .iter()
                    .flatten()
                    .find(|g| g.id == id)
                    .and_then(|g| g.parent_id.clone());
                self.count_child(parent.as_deref(), false);
                if let Some(groups) = self.groups.as_mut() {
                    groups.retain(|g| g.id != id);
                }
                self.members.remove(id);
                self.pathed = None;
                self.index = None;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn group(id: &str, name: &str) -> Group {
        Group {
            id: id.into(),
            description: name.into(),
            user_count: 1,
            ..Group::default()
        }
    }

    #[test]
    fn confirmed_membership_writes_change_the_remembered_members() {
        let mut m = Memory {
            groups: Some(vec![group("g", "Sales")]),
            ..Memory::default()
        };
        m.set_members(
            "g",
            vec![Member {
                email_address: "a@x.com".into(),
                ..Member::default()
            }],
        );
        let item = json!({"id": "g", "emailAddress": "B@x.com"});
        m.learn(paths::ADD_GROUP_MEMBER, &item, Status::Created, None);
        assert_eq!(m.is_member("g", "b@x.com"), Some(true));
        assert_eq!(m.groups.as_ref().unwrap()[0].user_count, 2);
        // A refusal changes nothing.
        let c = json!({"id": "g", "emailAddress": "c@x.com"});
        m.learn(paths::ADD_GROUP_MEMBER, &c, Status::Failed, None);
        assert_eq!(m.is_member("g", "c@x.com"), Some(false));
        // "Already a member" confirms the member without counting it twice.
        m.learn(paths::ADD_GROUP_MEMBER, &item, Status::Unchanged, None);
        assert_eq!(m.members("g").unwrap().len(), 2);
        assert_eq!(m.groups.as_ref().unwrap()[0].user_count, 2);
        let a = json!({"id": "g", "emailAddress": "a@x.com"});
        m.learn(paths::REMOVE_GROUP_MEMBER, &a, Status::Removed, None);
        assert_eq!(m.is_member("g", "a@x.com"), Some(false));
        assert_eq!(m.members("g").unwrap().len(), 1);
        assert_eq!(m.groups.as_ref().unwrap()[0].user_count, 1);
        // A group never read stays unread.
        assert_eq!(m.is_member("other", "a@x.com"), None);
    }

    #[test]
    fn confirmed_group_writes_change_the_remembered_list() {
        let mut m = Memory {
            groups: Some(vec![group("g", "Sales"), group("h", "Ops")]),
            ..Memory::default()
        };
        let made = json!({"id": "n", "description": "New", "parentId": "g"});
        m.learn(
            paths::CREATE_GROUP,
            &json!({"description": "New"}),
            Status::Created,
            Some(&made),
        );
        m.learn(
            paths::UPDATE_GROUP,
            &json!({"id": "h", "description": "Operations"}),
            Status::Updated,
            None,
        );
        m.learn(
            paths::DELETE_GROUP,
            &json!({"id": "g"}),
            Status::Removed,
            None,
        );
        let names: Vec<(&str, Option<&str>)> = m
            .groups
            .as_ref()
            .unwrap()
            .iter()
            .map(|g| (g.description.as_str(), g.parent_id.as_deref()))
            .collect();
        assert_eq!(names, [("Operations", None), ("New", Some("g"))]);
        assert_eq!(m.is_member("n", "a@x.com"), Some(false));
    }

    #[test]
    fn confirmed_user_writes_change_the_remembered_users() {
        let mut m = Memory::default();
        m.learn(
            paths::CREATE_USER,
            &json!({"emailAddress": "New@x.com", "name": "N"}),
            Status::Created,
            None,
        );
        assert_eq!(m.user("new@x.com").unwrap().unwrap().name, "N");
        assert_eq!(m.exists("new@x.com"), Some(true));
        m.learn(
            paths::UPDATE_USER,
            &json!({"emailAddress": "new@x.com", "name": "M", "accountLocked": true}),
            Status::Updated,
            None,
        );
        let u = m.user("new@x.com").unwrap().unwrap();
        assert_eq!((u.name.as_str(), u.account_locked), ("M", Some(true)));
        m.learn(
            paths::ADD_TO_PURGE_LIST,
            &json!({"emailAddresses": ["new@x.com"]}),
            Status::Removed,
            None,
        );
        assert_eq!(m.user("new@x.com"), Some(None));
        m.put_scan("x.com", None, true);
        m.learn(
            paths::REMOVE_FROM_PURGE_LIST,
            &json!({"emailAddresses": ["new@x.com"]}),
            Status::Updated,
            None,
        );
        // Restored: looked up anew, and the domain's complete scan no longer answers "none".
        assert_eq!(m.user("new@x.com"), None);
        assert!(m.take_scan("x.com").is_some());
    }

    #[test]
    fn alias_rows_answer_until_an_alias_or_the_purge_list_changes() {
        let row = |a: &str| User {
            email_address: a.into(),
            alias: crate::api::model::AliasField {
                is_alias: true,
                ..Default::default()
            },
            ..User::default()
        };
        let mut m = Memory::default();
        m.put_scan("x.com", None, true);
        assert!(
            !m.scanned_whole_with_aliases("x.com"),
            "no alias rows kept yet"
        );
        m.keep_alias_rows("x.com", vec![row("Al@x.com")]);
        assert!(m.scanned_whole_with_aliases("x.com"));
        assert!(m.alias_row("al@x.com").is_some_and(|u| u.is_alias()));
        assert!(m.alias_row("bo@x.com").is_none());
        // An alias the service says it already had keeps them.
        let alias = json!({"alias": "bo@x.com", "aliasFor": "b@x.com"});
        m.learn(paths::UPDATE_ALIAS, &alias, Status::Unchanged, None);
        assert!(m.scanned_whole_with_aliases("x.com"));
        // A failed one may have changed them, its answer lost: read anew.
        m.learn(paths::UPDATE_ALIAS, &alias, Status::Failed, None);
        assert!(!m.scanned_whole_with_aliases("x.com"));
        m.keep_alias_rows("x.com", vec![row("al@x.com")]);
        m.learn(paths::UPDATE_ALIAS, &alias, Status::Created, None);
        assert!(!m.scanned_whole_with_aliases("x.com"));
        assert!(m.alias_row("al@x.com").is_none());
        m.keep_alias_rows("x.com", vec![row("al@x.com")]);
        let purge = json!({"emailAddresses": ["a@x.com"]});
        m.learn(paths::ADD_TO_PURGE_LIST, &purge, Status::Removed, None);
        assert!(!m.scanned_whole_with_aliases("x.com"));
    }
}

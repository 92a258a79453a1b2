//! Offboarding many people at once: every membership left, the account locked and queued for
//! deletion, in as few requests as the work allows.
//!
//! Policy:
//! - The plan is made from reads before anything is asked or sent: each person's direct
//!   memberships (one scan of every group, shared by all), whether the address is a user, and
//!   for an address that is not listed, whether it exists at all (on the purge list, it is
//!   not listed but still answers `get-aliases`). A dry run and a real run therefore report
//!   the same rows.
//! - Removals from every group go out together, batched across groups (each item names its
//!   group); locks are batched; deletions go out 1 000 addresses to a call.
//! - Nothing is sent that the service would refuse: a directory-synced group or user is
//!   reported, not changed.
//! - The lock is sent to every listed user; the API has no read of the lock state, so a lock
//!   sent to an account that may already have been locked is reported `unverified`, not
//!   `updated`.

use std::collections::HashMap;

use serde_json::json;

use super::outcome::{ItemResult, Status};
use super::wording::wording;
use super::{synced_message, DirError, Directory, SYNCED_CODE};
use crate::api::{paths, Group, User};

/// One line of an offboarding report.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StepRow {
    /// The person.
    pub email_address: String,
    /// `group NAME`, `lock`, `delete` or `user`.
    pub step: String,
    /// What happened.
    pub status: Status,
    /// In words.
    pub message: String,
}

/// Everything an offboarding will do, decided from reads.
#[derive(Debug, Clone, Default)]
pub struct OffboardPlan {
    /// The addresses, in the order given.
    pub emails: Vec<String>,
    /// Keep the accounts: lock only.
    pub keep_account: bool,
    /// The listed users among them, by lower-case address.
    users: HashMap<String, User>,
    /// Each person's direct memberships.
    groups: HashMap<String, Vec<Group>>,
    /// Addresses that are not listed but exist (already queued for deletion).
    queued: Vec<String>,
    /// Addresses that are alias addresses, not mailboxes, with their mailbox when known.
    aliases: HashMap<String, Option<String>>,
}

impl OffboardPlan {
    /// How many memberships will be left.
    pub fn memberships(&self) -> usize {
        self.groups.values().map(Vec::len).sum()
    }

    /// How many listed users will be locked (and, without `keep_account`, deleted).
    pub fn accounts(&self) -> usize {
        self.users.len()
    }
}

impl Directory {
    /// Reads what offboarding `emails` needs and decides every step.
    pub async fn plan_offboard(
        &self,
        emails: &[String],
        keep_account: bool,
    ) -> Result<OffboardPlan, DirError> {
        let index = self.membership_index().await?;
        self.plan_offboard_with(emails, keep_account, &index).await
    }

    /// Like [`Directory::plan_offboard`], with every group's members read already.
    pub(crate) async fn plan_offboard_with(
        &self,
        emails: &[String],
        keep_account: bool,
        index: &super::membership::MembershipIndex,
    ) -> Result<OffboardPlan, DirError> {
        let rows = self.find_addresses(emails).await?;
        let mut aliases = HashMap::new();
        for (k, u) in rows.iter().filter(|(_, u)| u.is_alias()) {
            let owner = self.owner_of(u).await?.map(|o| o.email_address);
            aliases.insert(k.clone(), owner);
        }
        let users: HashMap<String, User> =
            rows.into_iter().filter(|(_, u)| !u.is_alias()).collect();
        let mut groups = HashMap::new();
        for e in emails {
            let key = e.to_ascii_lowercase();
            let of: Vec<Group> = index.groups_of(&key).into_iter().cloned().collect();
            groups.insert(key, of);
        }
        let unlisted: Vec<&String> = emails
            .iter()
            .filter(|e| {
                let key = e.to_ascii_lowercase();
                !users.contains_key(&key) && !aliases.contains_key(&key)
            })
            .collect();
        let unlisted: Vec<String> = unlisted.into_iter().cloned().collect();
        let queued = self.existing_users(&unlisted).await?.into_iter().collect();
        Ok(OffboardPlan {
            emails: emails.to_vec(),
            keep_account,
            users,
            groups,
            queued,
            aliases,
        })
    }

    /// Carries out `plan` (or, under dry-run, plans its writes) and reports every step.
    pub async fn run_offboard(&self, plan: &OffboardPlan) -> Result<Vec<StepRow>, DirError> {
        let mut rows: HashMap<String, Vec<StepRow>> = HashMap::new();
        let row = |e: &str, step: String, r: &ItemResult| StepRow {
            email_address: e.to_string(),
            step,
            status: r.status,
            message: r.message.clone(),
        };

        // 0. Who is refused whole, before anything is sent: alias addresses (not people) and
        //    users that directory sync manages (Mimecast refuses to lock or delete them).
        let mut refused = std::collections::HashSet::new();
        for e in &plan.emails {
            let key = e.to_ascii_lowercase();
            let why = if let Some(owner) = plan.aliases.get(&key) {
                let whose = match owner {
                    Some(o) => {
                        format!("an alias address of {o}: offboard {o} to offboard that person")
                    }
                    None => "an alias address, not a mailbox, and the API does not say whose: \
                             offboard the mailbox it belongs to (`mcsh users get` on a user lists \
                             its aliases)"
                        .to_string(),
                };
                Some((
                    "user",
                    format!("{e} is {whose}; nothing was changed"),
                    "alias_address",
                ))
            } else if plan.users.get(&key).is_some_and(User::is_synced) {
                Some((
                    "user",
                    format!(
                        "{}; nothing was changed",
                        synced_message(&format!("user {e}"))
                    ),
                    SYNCED_CODE,
                ))
            } else {
                None
            };
            if let Some((step, message, code)) = why {
                let r = ItemResult::new(e.clone(), Status::Failed, message).with_code(code);
                rows.entry(key.clone())
                    .or_default()
                    .push(row(e, step.into(), &r));
                refused.insert(key);
            }
        }

        // 1. Every membership, batched across groups (synced groups are reported, not sent).
        let mut pairs = Vec::new();
        let mut keys = Vec::new();
        for e in &plan.emails {
            let key = e.to_ascii_lowercase();
            if refused.contains(&key) {
                continue;
            }
            for g in plan.groups.get(&key).into_iter().flatten() {
                pairs.push((g.clone(), e.clone()));
                keys.push(key.clone());
            }
        }
        let left = self.remove_memberships(&pairs).await?;
        for ((key, (g, e)), r) in keys.into_iter().zip(&pairs).zip(&left) {
            rows.entry(key)
                .or_default()
                .push(row(e, format!("group {}", g.description), r));
        }

        // 2. Locks, batched; synced users are reported, not sent.
        let mut lock_items = Vec::new();
        for e in &plan.emails {
            let key = e.to_ascii_lowercase();
            if refused.contains(&key) || !plan.users.contains_key(&key) {
                continue;
            }
            lock_items.push((
                e.clone(),
                json!({ "emailAddress": e, "accountLocked": true }),
            ));
        }
        let locked = self
            .execute(paths::UPDATE_USER, lock_items, &wording(paths::UPDATE_USER))
            .await?;
        let mut purge_items = Vec::new();
        for o in locked {
            let e = o.result.item.clone();
            let key = e.to_ascii_lowercase();
            let mut r = o.result;
            match r.status {
                Status::Updated => {
                    r.status = Status::Unverified;
                    r.message =
                        "account locked (the API cannot show whether it already was)".into();
                }
                Status::Planned => r.message = "the account would be locked".into(),
                _ => {}
            }
            if r.status != Status::Failed && !plan.keep_account {
                purge_items.push((e.clone(), json!({ "emailAddresses": [e] })));
            }
            rows.entry(key)
                .or_default()
                .push(row(&e, "lock".into(), &r));
        }

        // 3. Deletions, 1 000 addresses to a call.
        let purged = self
            .execute(
                paths::ADD_TO_PURGE_LIST,
                purge_items,
                &wording(paths::ADD_TO_PURGE_LIST),
            )
            .await?;
        for o in purged {
            let e = o.result.item.clone();
            let mut r = o.result;
            r.message = match r.status {
                Status::Removed => {
                    format!(
                        "queued for deletion (`{}` undoes it)",
                        self.command_line(&format!(
                            "users restore {}",
                            crate::output::shell_flag("--email", &e)
                        ))
                    )
                }
                Status::Planned => "would be queued for deletion".into(),
                _ => r.message,
            };
            rows.entry(e.to_ascii_lowercase())
                .or_default()
                .push(row(&e, "delete".into(), &r));
        }

        // 4. Addresses that are not listed users.
        for e in &plan.emails {
            let key = e.to_ascii_lowercase();
            if plan.users.contains_key(&key) || refused.contains(&key) {
                continue;
            }
            let r = if plan.queued.contains(&key) && !plan.keep_account {
                ItemResult::new(
                    e.clone(),
                    Status::Unchanged,
                    "not listed: already queued for deletion",
                )
            } else if plan.queued.contains(&key) {
                ItemResult::new(
                    e.clone(),
                    Status::Failed,
                    format!(
                        "the account is queued for deletion: restore it first (`{}`)",
                        self.command_line(&format!(
                            "users restore {}",
                            crate::output::shell_flag("--email", e)
                        ))
                    ),
                )
            } else {
                ItemResult::new(e.clone(), Status::Failed, "no such user in the directory")
            };
            rows.entry(key).or_default().push(row(e, "user".into(), &r));
        }

        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for e in &plan.emails {
            let key = e.to_ascii_lowercase();
            if seen.insert(key.clone()) {
                out.extend(rows.remove(&key).unwrap_or_default());
            }
        }
        Ok(out)
    }
}

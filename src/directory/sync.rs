//! Making the directory match a desired-state feed (an HR export): who exists, their names,
//! their groups; and, only where the admin says so, who leaves.
//!
//! Policy:
//! - The plan is made from reads before anything is sent: the feed's groups resolved with one
//!   listing, the users of every domain in scope listed once, every group's members scanned
//!   once. A second run right after finds nothing to do.
//! - Memberships are only added for the feed's groups; they are removed only from the groups
//!   named with `manage` (or every group with `manage_all`), and accounts are offboarded only
//!   in the domains named with `offboard_missing` (directory-synced accounts never: they
//!   follow the directory).
//! - Safety limits: renames above `max_renames` (default 10 % of the users in scope, at least
//!   5) stop the sync before any write, as do
//!   removals and offboardings above `max_removals` (default 10 % of the users
//!   in scope, at least 5) stop the run before any write, naming the count: a truncated HR
//!   export must not offboard half the company.
//! - Everything runs through the executor: batched, budgeted, audited, planned under dry-run.

use std::collections::{HashMap, HashSet};

use serde_json::json;

use super::offboard::{OffboardPlan, StepRow};
use super::outcome::{ItemResult, Status};
use super::wording::wording;
use super::{DirError, Directory};
use crate::api::users::NewUser;
use crate::api::{paths, Group, User};

/// The default removal limits, one per scope that can lose people: each managed group (10 %
/// of its members, at least 5) and each domain offboarded (10 % of its users, at least 5).
/// Returns their sum (what the plan reports) and each scope over its own.
fn default_limits(
    plan: &SyncPlan,
    index: &super::membership::MembershipIndex,
    leavers: &[String],
    by_domain: &HashMap<String, Vec<String>>,
) -> (usize, Vec<String>) {
    let limit_of = |size: usize| (size / 10).max(5);
    let mut total = 0;
    let mut over = Vec::new();
    let mut by_group: Vec<(&Group, usize)> = Vec::new();
    for (g, _) in &plan.leaves {
        match by_group.iter_mut().find(|(x, _)| x.id == g.id) {
            Some((_, n)) => *n += 1,
            None => by_group.push((g, 1)),
        }
    }
    for (g, n) in by_group {
        let size = index
            .groups()
            .iter()
            .find(|(x, _)| x.id == g.id)
            .map_or(0, |(_, m)| m.len());
        let limit = limit_of(size);
        total += limit;
        if n > limit {
            let name = if g.path.is_empty() {
                &g.description
            } else {
                &g.path
            };
            over.push(format!(
                "group {name} ({n} of its {size} members, limit {limit})"
            ));
        }
    }
    let mut domains: Vec<(String, usize)> = Vec::new();
    for l in leavers {
        let d = super::email::domain_of(l).to_ascii_lowercase();
        match domains.iter_mut().find(|(x, _)| *x == d) {
            Some((_, n)) => *n += 1,
            None => domains.push((d, 1)),
        }
    }
    for (d, n) in domains {
        let size = by_domain.get(&d).map_or(0, Vec::len);
        let limit = limit_of(size);
        total += limit;
        if n > limit {
            over.push(format!(
                "domain {d} ({n} of its {size} users, limit {limit})"
            ));
        }
    }
    (total.max(5), over)
}

/// One person of the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    /// The address.
    pub email: String,
    /// The display name, when the feed gives one.
    pub name: Option<String>,
    /// The groups (ids, names or paths) the person belongs in.
    pub groups: Vec<String>,
}

/// What a sync may do beyond adding.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncOptions {
    /// Groups whose members the feed decides (removals happen only there).
    pub manage: Vec<String>,
    /// Every group's members are decided by the feed.
    pub manage_all: bool,
    /// Domains whose users absent from the feed are offboarded.
    pub offboard_missing: Vec<String>,
    /// Most removals and offboardings allowed; `None`: 10 % of the users in scope, at least 5.
    pub max_removals: Option<usize>,
    /// Most renames allowed; `None`: 10 % of the users in scope, at least 5.
    pub max_renames: Option<usize>,
    /// Create the feed's groups that do not exist.
    pub create_groups: bool,
}

/// Every change a sync will make, decided from reads.
#[derive(Debug, Clone, Default)]
pub struct SyncPlan {
    new_groups: Vec<String>,
    creates: Vec<NewUser>,
    renames: Vec<(String, String, String)>,
    joins: Vec<(Group, String)>,
    joins_new: Vec<(String, String)>,
    leaves: Vec<(Group, String)>,
    offboard: Option<OffboardPlan>,
    /// Differences mcsh may not change: a directory-synced user's name (the directory it
    /// comes from decides it). Reported as `unchanged` rows, never sent.
    pub left_alone: Vec<StepRow>,
    /// Users in the domains the sync looks at.
    pub scope: usize,
    /// The removal limit in force.
    pub limit: usize,
}

impl SyncPlan {
    /// Memberships removed plus accounts offboarded.
    pub fn removals(&self) -> usize {
        self.leaves.len() + self.offboard.as_ref().map_or(0, OffboardPlan::accounts)
    }

    /// Whether the directory already matches the feed.
    pub fn is_empty(&self) -> bool {
        self.new_groups.is_empty()
            && self.creates.is_empty()
            && self.renames.is_empty()
            && self.joins.is_empty()
            && self.joins_new.is_empty()
            && self.removals() == 0
    }

    /// In words, one line per kind of change.
    pub fn summary(&self) -> String {
        format!(
            "{} group(s) to create, {} user(s) to create, {} name(s) to fix, {} membership(s) to add, {} to remove, {} user(s) to offboard",
            self.new_groups.len(),
            self.creates.len(),
            self.renames.len(),
            self.joins.len() + self.joins_new.len(),
            self.leaves.len(),
            self.offboard.as_ref().map_or(0, OffboardPlan::accounts)
        )
    }
}

fn refused(detail: String) -> DirError {
    DirError::Refused { detail }
}

impl Directory {
    /// Reads what matching `feed` takes and decides every change; refuses before any write
    /// when a group is unknown (without `create_groups`) or the removals pass the limit.
    pub async fn plan_sync(
        &self,
        feed: &[Wanted],
        options: &SyncOptions,
    ) -> Result<SyncPlan, DirError> {
        // 1. Groups: the feed's and the managed ones, with one listing.
        let mut specs: Vec<String> = Vec::new();
        for w in feed {
            for g in &w.groups {
                if !specs.iter().any(|s| s.eq_ignore_ascii_case(g)) {
                    specs.push(g.clone());
                }
            }
        }
        let feed_specs = specs.len();
        specs.extend(options.manage.iter().cloned());
        // One listing serves the names, the suggestions and the membership scan.
        let all = self.list_groups(None).await?;
        let resolved = super::groups::resolve_among(&all, &specs)?;
        let mut unknown = Vec::new();
        let mut by_spec: HashMap<String, Group> = HashMap::new();
        for (i, (spec, g)) in specs.iter().zip(&resolved).enumerate() {
            match g {
                Some(g) if g.is_synced() && i >= feed_specs => {
                    return Err(DirError::Synced {
                        what: format!("group {:?} (--manage)", g.description),
                    })
                }
                Some(g) => {
                    by_spec.insert(spec.to_lowercase(), g.clone());
                }
                None if i >= feed_specs => {
                    return Err(refused(format!("--manage {spec:?} names no group")))
                }
                None => unknown.push(spec.clone()),
            }
        }
        if !unknown.is_empty() && !options.create_groups {
            let named: Vec<String> = unknown
                .iter()
                .map(
                    |u| match super::groups::similar_groups(&all, u).as_slice() {
                        [] => u.clone(),
                        close => format!("{u} (did you mean {}?)", close.join(", ")),
                    },
                )
                .collect();
            return Err(refused(format!(
                "the feed names unknown group(s): {}; nothing was written (correct them, or pass --create-groups)",
                named.join(", ")
            )));
        }

        // 2. The users of every domain in scope, listed once.
        let mut domains: Vec<String> = feed
            .iter()
            .map(|w| super::email::domain_of(&w.email).to_ascii_lowercase())
            .chain(
                options
                    .offboard_missing
                    .iter()
                    .map(|d| d.to_ascii_lowercase()),
            )
            .collect();
        domains.sort();
        domains.dedup();
        let internal = self.internal_domains().await?;
        for d in &options.offboard_missing {
            if !internal.contains(&d.to_ascii_lowercase()) {
                return Err(refused(format!(
                    "--offboard-missing {d:?} is not one of the account's internal domains"
                )));
            }
        }
        let foreign: Vec<&str> = feed
            .iter()
            .filter(|w| !internal.contains(&super::email::domain_of(&w.email).to_ascii_lowercase()))
            .map(|w| w.email.as_str())
            .collect();
        if !foreign.is_empty() {
            return Err(refused(format!(
                "the feed lists address(es) outside the account's internal domains: {}; nothing was written",
                foreign.join(", ")
            )));
        }
        let mut users: HashMap<String, User> = HashMap::new();
        let mut aliases: HashSet<String> = HashSet::new();
        let mut by_domain: HashMap<String, Vec<String>> = HashMap::new();
        for d in domains.iter().filter(|d| internal.contains(*d)) {
            let mut listing = self.users_and_aliases(Some(d)).await?;
            while let Some(batch) = listing.next_batch().await? {
                for u in batch {
                    let key = u.email_address.to_ascii_lowercase();
                    if u.is_alias() {
                        aliases.insert(key);
                        continue;
                    }
                    by_domain.entry(d.clone()).or_default().push(key.clone());
                    users.insert(key, u);
                }
            }
        }
        // An alias is not a person: naming one would create nothing and, with
        // --offboard-missing, offboard the mailbox it belongs to.
        let named_aliases: Vec<&str> = feed
            .iter()
            .filter(|w| aliases.contains(&w.email.to_ascii_lowercase()))
            .map(|w| w.email.as_str())
            .collect();
        if !named_aliases.is_empty() {
            let shows = self.command_line(&format!(
                "users get {}",
                crate::output::shell_flag("--email", named_aliases[0])
            ));
            return Err(refused(format!(
                "the feed names alias address(es), not mailboxes: {}; list each person by their mailbox (`{shows}` shows whose the first is); nothing was written",
                named_aliases.join(", ")
            )));
        }
        self.remember_users(users.values());
        let mut plan = SyncPlan {
            scope: users.len(),
            ..SyncPlan::default()
        };
        plan.limit = options
            .max_removals
            .unwrap_or_else(|| (plan.scope / 10).max(5));

        // 3. Accounts and names.
        for w in feed {
            match users.get(&w.email.to_ascii_lowercase()) {
                None => plan.creates.push(NewUser {
                    email_address: w.email.clone(),
                    name: w.name.clone().filter(|n| !n.is_empty()),
                }),
                Some(u) => {
                    let Some(name) = w.name.as_ref().filter(|n| !n.is_empty() && **n != u.name)
                    else {
                        continue;
                    };
                    if u.is_synced() {
                        // Mimecast refuses to change it: the directory it syncs from decides.
                        plan.left_alone.push(StepRow {
                            email_address: w.email.clone(),
                            step: "name".into(),
                            status: Status::Unchanged,
                            message: format!(
                                "left alone: the feed names it {name:?}, the directory {:?}; \
                                 it is managed by directory sync, so change the name there",
                                u.name
                            ),
                        });
                    } else {
                        plan.renames
                            .push((w.email.clone(), u.name.clone(), name.clone()));
                    }
                }
            }
        }

        // 4. Memberships: one scan of every group.
        let index = self.membership_index_of(all.clone()).await?;
        let mut placed: HashMap<String, HashSet<String>> = HashMap::new();
        for w in feed {
            let key = w.email.to_ascii_lowercase();
            let has: HashSet<&str> = index
                .groups_of(&key)
                .into_iter()
                .map(|g| g.id.as_str())
                .collect();
            for spec in &w.groups {
                match by_spec.get(&spec.to_lowercase()) {
                    Some(g) => {
                        placed.entry(g.id.clone()).or_default().insert(key.clone());
                        if !has.contains(g.id.as_str()) {
                            if g.is_synced() {
                                // Only a change to a synced group is refused, not its mention.
                                return Err(DirError::Synced {
                                    what: format!(
                                        "group {:?} (the feed adds {} to it)",
                                        g.description, w.email
                                    ),
                                });
                            }
                            plan.joins.push((g.clone(), w.email.clone()));
                        }
                    }
                    None => plan.joins_new.push((spec.clone(), w.email.clone())),
                }
            }
        }
        for u in &unknown {
            if !plan.new_groups.iter().any(|n| n.eq_ignore_ascii_case(u)) {
                plan.new_groups.push(u.clone());
            }
        }

        // 5. Removals, only from managed groups.
        let managed: Vec<&Group> = if options.manage_all {
            index
                .groups()
                .iter()
                .map(|(g, _)| g)
                .filter(|g| !g.is_synced())
                .collect()
        } else {
            options
                .manage
                .iter()
                .filter_map(|m| by_spec.get(&m.to_lowercase()))
                .collect()
        };
        for g in managed {
            let keep = placed.get(&g.id);
            let members = index
                .groups()
                .iter()
                .find(|(x, _)| x.id == g.id)
                .map(|(_, m)| m.as_slice())
                .unwrap_or(&[]);
            for m in members.iter().filter(|m| !m.email_address.is_empty()) {
                let key = m.email_address.to_ascii_lowercase();
                if !keep.is_some_and(|k| k.contains(&key)) {
                    plan.leaves.push((g.clone(), m.email_address.clone()));
                }
            }
        }

        // 6. Offboarding, only in the domains named.
        let wanted: HashSet<String> = feed.iter().map(|w| w.email.to_ascii_lowercase()).collect();
        let mut leavers = Vec::new();
        for d in &options.offboard_missing {
            for key in by_domain.get(&d.to_ascii_lowercase()).into_iter().flatten() {
                // Directory-synced users come and go with the directory, not with mcsh.
                if !wanted.contains(key) && !users[key].is_synced() {
                    leavers.push(users[key].email_address.clone());
                }
            }
        }
        if !leavers.is_empty() {
            plan.offboard = Some(self.plan_offboard_with(&leavers, false, &index).await?);
        }
        // A feed whose names slipped by a row renames everyone: as many renames as a limit
        // allows, like removals.
        let renames_limit = options
            .max_renames
            .unwrap_or_else(|| (plan.scope / 10).max(5));
        if plan.renames.len() > renames_limit {
            return Err(refused(format!(
                "the feed would rename {} user(s), over the limit of {renames_limit}{}; nothing was written. A feed whose names slipped by a row looks like this: check the feed, or raise the limit with --max-renames N",
                plan.renames.len(),
                if options.max_renames.is_none() {
                    " (the default is 10 % of the users in the feed's domains, at least 5)"
                } else {
                    ""
                }
            )));
        }
        let over = match options.max_removals {
            // Set by the admin: one cap over every removal.
            Some(n) => (plan.removals() > n).then(|| format!("over the limit of {n}")),
            // The default is per scope that can lose people, never over the union of every
            // domain the feed names (one more address from another domain must not raise it).
            None => {
                let (limit, over) = default_limits(&plan, &index, &leavers, &by_domain);
                plan.limit = limit;
                (!over.is_empty()).then(|| {
                    format!(
                        "over the limit in {} (the default is 10 % of each managed group and of each domain offboarded, at least 5)",
                        over.join("; ")
                    )
                })
            }
        };
        if let Some(over) = over {
            return Err(refused(crate::output::printable(&format!(
                "the feed would remove {} membership(s) and offboard {} user(s): {} removals, {over}; nothing was written. A truncated export looks like this: check the feed, or raise the limit with --max-removals N",
                plan.leaves.len(),
                plan.offboard.as_ref().map_or(0, OffboardPlan::accounts),
                plan.removals(),
            ))));
        }
        Ok(plan)
    }

    /// Carries out `plan` (or, under dry-run, plans its writes) and reports every step.
    pub async fn run_sync(&self, plan: &SyncPlan) -> Result<Vec<StepRow>, DirError> {
        let mut rows = plan.left_alone.clone();
        if plan.is_empty() {
            return Ok(rows);
        }
        let row = |email: &str, step: String, r: &ItemResult| StepRow {
            email_address: email.to_string(),
            step,
            status: r.status,
            message: r.message.clone(),
        };
        let mut made: HashMap<String, Group> = HashMap::new();
        for name in &plan.new_groups {
            let (g, status) = self.ensure_group(name, None).await?;
            let message = if status == Status::Planned {
                "group would be created"
            } else {
                "group created"
            };
            let r = ItemResult::new(name.clone(), status, message);
            rows.push(row("", format!("group {name}"), &r));
            made.insert(name.to_lowercase(), g);
        }
        let created = self.create_users(&plan.creates).await?;
        // A person whose account could not be made gets no memberships: a group would
        // otherwise hold an address with no mailbox behind it.
        let mut not_created = std::collections::HashSet::new();
        for (u, r) in plan.creates.iter().zip(&created) {
            let mut r = r.clone();
            if r.status == Status::Failed {
                not_created.insert(u.email_address.to_ascii_lowercase());
                // In no listing, yet it exists: it is on the purge list.
                if r.code.as_deref() == Some("err_user_already_exists") {
                    r.message = format!(
                        "{} is queued for deletion: `{}` takes it off the purge list, then sync again",
                        u.email_address,
                        self.command_line(&format!(
                            "users restore {}",
                            crate::output::shell_flag("--email", &u.email_address)
                        ))
                    );
                }
            }
            rows.push(row(&u.email_address, "user".into(), &r));
        }
        let items: Vec<(String, serde_json::Value)> = plan
            .renames
            .iter()
            .map(|(e, _, to)| (e.clone(), json!({ "emailAddress": e, "name": to })))
            .collect();
        let renamed = self
            .execute(paths::UPDATE_USER, items, &wording(paths::UPDATE_USER))
            .await?;
        for ((e, from, to), o) in plan.renames.iter().zip(renamed) {
            let mut r = o.result;
            if r.status != Status::Failed {
                r.message = format!("name {from:?} -> {to:?}");
            }
            rows.push(row(e, "user".into(), &r));
        }
        let mut pairs = plan.joins.clone();
        for (spec, e) in &plan.joins_new {
            if let Some(g) = made.get(&spec.to_lowercase()) {
                pairs.push((g.clone(), e.clone()));
            }
        }
        let (skipped, pairs): (Vec<_>, Vec<_>) = pairs
            .into_iter()
            .partition(|(_, e)| not_created.contains(&e.to_ascii_lowercase()));
        let joined = self.add_memberships(&pairs).await?;
        for ((g, e), r) in pairs.iter().zip(&joined) {
            rows.push(row(e, format!("group {}", g.description), r));
        }
        for (g, e) in &skipped {
            let r = ItemResult::new(
                e.clone(),
                Status::Failed,
                "not added: the account could not be created (see its user row); run the sync again once it can",
            );
            rows.push(row(e, format!("group {}", g.description), &r));
        }
        let left = self.remove_memberships(&plan.leaves).await?;
        for ((g, e), r) in plan.leaves.iter().zip(&left) {
            rows.push(row(e, format!("group {}", g.description), r));
        }
        if let Some(off) = &plan.offboard {
            rows.extend(self.run_offboard(off).await?);
        }
        Ok(rows)
    }
}

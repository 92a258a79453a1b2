//! Groups as an admin names them, and membership changes reported item by item.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{json, Value};

use super::digest::{groups_digest, members_digest};
use super::outcome::{ItemResult, Status};
use super::wording::{member_wording, wording, Wording};
use super::{DirError, Directory};
use crate::api::groups::{groups_of, members_of};
use crate::api::{model, paths, Group, Member};

/// Whether `spec` looks like a Mimecast group id rather than a name: long, no spaces.
pub fn looks_like_id(spec: &str) -> bool {
    spec.len() >= 40 && !spec.contains(char::is_whitespace)
}

impl Directory {
    /// Every group, each with its `path` (`Engineering/Platform`), or those whose name
    /// contains `query` (ignoring case). The whole list is read either way: a path needs every
    /// ancestor, and "top-level" can only be told from the whole list (every group has a
    /// `parentId`; top-level ones carry a root folder's that is never listed).
    pub async fn list_groups(&self, query: Option<&str>) -> Result<Vec<Group>, DirError> {
        let all = self.pathed_groups().await?;
        let all = match query.map(str::to_lowercase).filter(|q| !q.is_empty()) {
            Some(q) => all
                .iter()
                .filter(|g| g.description.to_lowercase().contains(&q))
                .cloned()
                .collect(),
            None => all.as_ref().clone(),
        };
        Ok(all)
    }

    /// Every group with its path, planned ones included: read once a run
    /// ([`super::memory`]), made anew only when the run's own writes change the list.
    async fn pathed_groups(&self) -> Result<std::sync::Arc<Vec<Group>>, DirError> {
        if let Some(all) = self.memory().pathed.clone() {
            return Ok(all);
        }
        let mut all = self.fetch_groups().await?;
        with_paths(&mut all);
        self.remember_names(&all);
        let all = std::sync::Arc::new(all);
        self.memory().pathed = Some(all.clone());
        Ok(all)
    }

    /// Every group as the service lists it (plus those a dry run planned), without paths.
    pub(crate) async fn fetch_groups(&self) -> Result<Vec<Group>, DirError> {
        let remembered = self.memory().groups.clone();
        let out = match remembered {
            Some(groups) => groups,
            None => {
                let mut pager = self.client().group_pages(None, self.options.page_size);
                let mut out = Vec::new();
                while let Some(page) = pager.next_page().await? {
                    out.extend(groups_of(&page)?);
                }
                self.note_read("groups", "", "the list of groups", groups_digest(&out));
                self.remember_names(&out);
                self.memory().groups = Some(out.clone());
                out
            }
        };
        Ok(self.overlaid(out, |o, v| o.all_groups(v)))
    }

    /// The group `spec` names: an id, a name (exact, then ignoring case) or a path
    /// (`Engineering/Platform`). An unknown or ambiguous name is an error listing what was
    /// found.
    pub async fn resolve_group(&self, spec: &str) -> Result<Group, DirError> {
        let all = self.pathed_groups().await?;
        pick_group(&all, spec.trim()).map_err(|e| match e {
            // Its hint lists the groups of this tenant.
            DirError::GroupNotFound { spec, similar, .. } => DirError::GroupNotFound {
                spec,
                similar,
                listing: self.command_line("groups list"),
            },
            e => e,
        })
    }

    /// Each of `specs` (id, name or path) resolved against one listing of every group; a spec
    /// that names no group is `None`, an ambiguous one an error.
    pub async fn resolve_groups(&self, specs: &[String]) -> Result<Vec<Option<Group>>, DirError> {
        let all = self.pathed_groups().await?;
        resolve_among(&all, specs)
    }
}

/// Each of `specs` resolved against `all` (a listing with paths): `None` for a spec that names
/// no group, an error for an ambiguous one.
pub(crate) fn resolve_among(
    all: &[Group],
    specs: &[String],
) -> Result<Vec<Option<Group>>, DirError> {
    specs
        .iter()
        .map(|spec| match pick_group(all, spec.trim()) {
            Ok(g) => Ok(Some(g)),
            Err(DirError::GroupNotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        })
        .collect()
}

impl Directory {
    /// Every member of `group`: read once a run ([`super::memory`]).
    pub async fn members(&self, group: &Group) -> Result<Vec<Member>, DirError> {
        let out = self.raw_members(group).await?;
        Ok(self.overlaid(out, |o, v| o.members(&group.id, v)))
    }

    /// The members of `group` as the service has them (no planned writes laid over them).
    async fn raw_members(&self, group: &Group) -> Result<Vec<Member>, DirError> {
        // Two callers at once (an add and a remove foreseen together) share one read: the
        // second waits for the first, then finds the members remembered.
        let done = loop {
            if let Some(list) = self.memory().members(&group.id) {
                return Ok(list);
            }
            let turn = {
                let mut reading = self.reading.lock().expect("reading lock");
                match reading.get(&group.id) {
                    // Registered before the lock is let go: the first reader's notice comes
                    // after it, and wakes this one.
                    Some(other) => Err(other.clone().notified_owned()),
                    None => {
                        let done = Arc::new(tokio::sync::Notify::new());
                        reading.insert(group.id.clone(), done.clone());
                        Ok(done)
                    }
                }
            };
            match turn {
                Ok(mine) => break mine,
                Err(notice) => notice.await,
            }
        };
        let read = if group.id.starts_with("planned:") {
            Ok(Vec::new())
        } else {
            read_members(
                self.client()
                    .member_pages(&group.id, self.options.page_size),
            )
            .await
        };
        // Whatever came of it, the next caller goes on (a failed read is read again by it).
        let finish = |this: &Self| {
            this.reading.lock().expect("reading lock").remove(&group.id);
            done.notify_waiters();
        };
        let out = match read {
            Ok(out) => out,
            Err(e) => {
                finish(self);
                return Err(e.into());
            }
        };
        let name = if group.description.is_empty() {
            &group.id
        } else {
            &group.description
        };
        self.note_read(
            "members",
            &group.id,
            &format!("the members of group {name}"),
            members_digest(&out),
        );
        self.memory().set_members(&group.id, out.clone());
        finish(self);
        Ok(out)
    }

    /// Whether `key` ([`Member::key`]) is a member of group `id` as the service has it,
    /// reading the group's members only the first time in a run.
    pub(crate) async fn service_has_member(&self, id: &str, key: &str) -> Result<bool, DirError> {
        if let Some(known) = self.memory().is_member(id, key) {
            return Ok(known);
        }
        let group = Group {
            id: id.to_string(),
            description: self.group_name(id),
            ..Group::default()
        };
        self.raw_members(&group).await?;
        Ok(self.memory().is_member(id, key).unwrap_or(false))
    }

    /// Creates a group under `parent` (or at the root). A name with `/` is refused: mcsh reads
    /// `/` as a path separator, so such a name could never be told from a nested group.
    pub async fn create_group(
        &self,
        description: &str,
        parent: Option<&Group>,
    ) -> Result<Group, DirError> {
        refuse_slash(description)?;
        if let Some(p) = parent {
            refuse_synced(p)?;
        }
        let mut item = json!({ "description": description });
        if let Some(p) = parent {
            item["parentId"] = json!(p.id);
        }
        match self
            .execute_one(
                paths::CREATE_GROUP,
                description,
                item,
                &wording(paths::CREATE_GROUP),
            )
            .await?
        {
            Some(data) => {
                let group: Group = model::decode(paths::CREATE_GROUP, data)?;
                self.remember_names(&[with_parent_path(&group, parent)]);
                Ok(group)
            }
            None => {
                let group = Group {
                    // Later planned writes need something to name the group by.
                    id: format!("planned:{description}"),
                    description: description.to_string(),
                    parent_id: parent.map(|p| p.id.clone()),
                    source: "cloud".into(),
                    ..Group::default()
                };
                self.remember_names(&[with_parent_path(&group, parent)]);
                Ok(group)
            }
        }
    }

    /// Renames `group`.
    pub async fn rename_group(&self, group: &Group, description: &str) -> Result<Group, DirError> {
        refuse_synced(group)?;
        refuse_slash(description)?;
        let item = json!({ "id": group.id, "description": description });
        match self
            .execute_one(
                paths::UPDATE_GROUP,
                &group.description,
                item,
                &wording(paths::UPDATE_GROUP),
            )
            .await?
        {
            Some(data) => Ok(model::decode(paths::UPDATE_GROUP, data)?),
            None => Ok(Group {
                description: description.to_string(),
                ..group.clone()
            }),
        }
    }

    /// Deletes `group` (the service refuses one with members or children).
    pub async fn delete_group(&self, group: &Group) -> Result<(), DirError> {
        refuse_synced(group)?;
        let item = json!({ "id": group.id });
        self.execute_one(
            paths::DELETE_GROUP,
            &group.description,
            item,
            &wording(paths::DELETE_GROUP),
        )
        .await?;
        Ok(())
    }

    /// Adds `emails` to `group`, batched; one result per address, in input order.
    pub async fn add_members(
        &self,
        group: &Group,
        emails: &[String],
    ) -> Result<Vec<ItemResult>, DirError> {
        let words = member_wording(paths::ADD_GROUP_MEMBER, &group.description);
        self.change_members(paths::ADD_GROUP_MEMBER, group, emails, &words)
            .await
    }

    /// Removes `emails` from `group`, batched; one result per address, in input order.
    pub async fn remove_members(
        &self,
        group: &Group,
        emails: &[String],
    ) -> Result<Vec<ItemResult>, DirError> {
        let words = member_wording(paths::REMOVE_GROUP_MEMBER, &group.description);
        self.change_members(paths::REMOVE_GROUP_MEMBER, group, emails, &words)
            .await
    }

    /// Adds each `(group, address)` pair, batched across groups (every item names its group),
    /// so memberships of many groups cost one round of requests; one result per pair, in
    /// input order. Directory-synced groups are refused without a request.
    pub async fn add_memberships(
        &self,
        pairs: &[(Group, String)],
    ) -> Result<Vec<ItemResult>, DirError> {
        self.change_memberships(paths::ADD_GROUP_MEMBER, pairs)
            .await
    }

    /// Removes each `(group, address)` pair, as [`Directory::add_memberships`] adds them.
    pub async fn remove_memberships(
        &self,
        pairs: &[(Group, String)],
    ) -> Result<Vec<ItemResult>, DirError> {
        self.change_memberships(paths::REMOVE_GROUP_MEMBER, pairs)
            .await
    }

    async fn change_memberships(
        &self,
        endpoint: &'static str,
        pairs: &[(Group, String)],
    ) -> Result<Vec<ItemResult>, DirError> {
        let mut results: Vec<Option<ItemResult>> = vec![None; pairs.len()];
        let mut items = Vec::new();
        let mut index = Vec::new();
        for (i, (g, e)) in pairs.iter().enumerate() {
            if g.is_synced() {
                let message = super::synced_message(&format!("group {:?}", g.description));
                results[i] = Some(
                    ItemResult::new(e.clone(), Status::Failed, message)
                        .with_code(super::SYNCED_CODE),
                );
                continue;
            }
            items.push((e.clone(), json!({ "id": g.id, "emailAddress": e })));
            index.push(i);
        }
        // Each item worded with its own group, as a change of that group alone would be.
        let names = pairs
            .iter()
            .map(|(g, _)| (g.id.clone(), g.description.clone()))
            .collect();
        let words = super::wording::memberships_wording(endpoint, names);
        let outcomes = self.execute(endpoint, items, &words).await?;
        for (i, o) in index.into_iter().zip(outcomes) {
            results[i] = Some(o.result);
        }
        Ok(results
            .into_iter()
            .map(|r| r.expect("every pair decided"))
            .collect())
    }

    async fn change_members(
        &self,
        endpoint: &'static str,
        group: &Group,
        emails: &[String],
        words: &Wording,
    ) -> Result<Vec<ItemResult>, DirError> {
        if group.is_synced() {
            // Neither sent nor planned: the service would refuse every item.
            let message = super::synced_message(&format!("group {:?}", group.description));
            return Ok(emails
                .iter()
                .map(|e| {
                    ItemResult::new(e.clone(), Status::Failed, message.clone())
                        .with_code(super::SYNCED_CODE)
                })
                .collect());
        }
        let items: Vec<(String, Value)> = emails
            .iter()
            .map(|e| (e.clone(), member_item(&group.id, e)))
            .collect();
        Ok(self
            .execute(endpoint, items, words)
            .await?
            .into_iter()
            .map(|o| o.result)
            .collect())
    }
}

/// Every member on `pages`, page after page.
async fn read_members(
    mut pages: crate::api::pager::Pager,
) -> Result<Vec<Member>, crate::api::ApiError> {
    let mut out = Vec::new();
    while let Some(page) = pages.next_page().await? {
        out.extend(members_of(&page)?);
    }
    Ok(out)
}

/// The `data` item of a membership change: an address, or a whole domain (no `@`).
pub(crate) fn member_item(group_id: &str, member: &str) -> Value {
    if member.contains('@') {
        json!({ "id": group_id, "emailAddress": member })
    } else {
        json!({ "id": group_id, "domain": member })
    }
}

/// The group `spec` names among `all`: an id, a name (exact, then ignoring case) or a path.
fn pick_group(all: &[Group], spec: &str) -> Result<Group, DirError> {
    // An id copied from an earlier listing names its group though the service now answers
    // another string for it.
    if let Some(g) = all.iter().find(|g| crate::api::ids::same(&g.id, spec)) {
        return Ok(g.clone());
    }
    let pick = |f: &dyn Fn(&Group) -> bool| all.iter().filter(|g| f(g)).collect::<Vec<_>>();
    // The short ids an ambiguity error shows (12 characters and more) name a group too.
    // `...` typed for `…` (hard to type) means the same.
    let short = spec.replace("...", "…");
    let part = short.trim_matches('…');
    if part.len() >= 12 && !part.contains(char::is_whitespace) {
        let found = if short.starts_with('…') {
            pick(&|g| g.id.ends_with(part))
        } else {
            pick(&|g| g.id.starts_with(part))
        };
        if let [one] = found.as_slice() {
            return Ok((*one).clone());
        }
    }
    let mut chosen = pick(&|g| g.description == spec);
    if chosen.is_empty() {
        chosen = pick(&|g| g.description.eq_ignore_ascii_case(spec));
    }
    if spec.contains('/') {
        // A path, or a name that holds a slash: every group it can mean is a candidate, so
        // a group named "Engineering/Platform" cannot silently capture the nested one.
        let wanted = normalize_path(spec);
        for g in pick(&|g| g.path.eq_ignore_ascii_case(&wanted)) {
            if !chosen.iter().any(|c| c.id == g.id) {
                chosen.push(g);
            }
        }
    }
    match chosen.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(DirError::GroupNotFound {
            spec: spec.to_string(),
            similar: similar_groups(all, spec),
            listing: "mcsh groups list".into(),
        }),
        many => Err(DirError::GroupAmbiguous {
            spec: spec.to_string(),
            candidates: many.iter().map(|g| describe(g)).collect(),
        }),
    }
}

/// The paths of up to five groups among `all` whose name or path is close to `spec`.
pub fn similar_groups(all: &[Group], spec: &str) -> Vec<String> {
    let by_name = crate::suggest::similar(spec, all.iter().map(|g| g.description.as_str()), 5);
    let by_path = crate::suggest::similar(spec, all.iter().map(|g| g.path.as_str()), 5);
    let mut out: Vec<String> = Vec::new();
    for g in all {
        let close = by_name.contains(&g.description) || by_path.contains(&g.path);
        if close && !out.contains(&g.path) {
            out.push(g.path.clone());
        }
    }
    // Closest first: the order the name matches came in, then the rest.
    out.sort_by_key(|p| {
        by_name
            .iter()
            .chain(&by_path)
            .position(|n| p == n || p.rsplit('/').next() == Some(n.as_str()))
            .unwrap_or(usize::MAX)
    });
    out.truncate(5);
    out
}

/// Refuses a group name holding `/`, the path separator.
fn refuse_slash(name: &str) -> Result<(), DirError> {
    if name.contains('/') {
        return Err(DirError::BadName {
            name: name.to_string(),
        });
    }
    Ok(())
}

/// Refuses, before anything is sent or planned, a change to a directory-synced group.
fn refuse_synced(group: &Group) -> Result<(), DirError> {
    if group.is_synced() {
        return Err(DirError::Synced {
            what: format!("group {:?}", group.description),
        });
    }
    Ok(())
}

fn describe(g: &Group) -> String {
    format!("{}, id {}", g.path, short_id(&g.id))
}

/// The end of an id, after `…` ([`crate::api::ids::short`]).
pub fn short_id(id: &str) -> String {
    crate::api::ids::short(id)
}

/// `group` with its path under `parent` (for naming it before any listing has it).
fn with_parent_path(group: &Group, parent: Option<&Group>) -> Group {
    let path = match parent {
        Some(p) if !p.path.is_empty() => format!("{}/{}", p.path, group.description),
        Some(p) => format!("{}/{}", p.description, group.description),
        None => group.description.clone(),
    };
    Group {
        path,
        ..group.clone()
    }
}

/// `A / B/ C` as `A/B/C`.
pub fn normalize_path(path: &str) -> String {
    path.split('/')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("/")
}

/// Fills each group's `path` from its ancestors among `groups`: `Engineering/Platform`.
pub fn with_paths(groups: &mut [Group]) {
    // By what each id refers to: a parentId need not be the same string as its group's id.
    let by_id: HashMap<String, (String, Option<String>)> = groups
        .iter()
        .map(|g| {
            let key = crate::api::ids::identity(&g.id).into_owned();
            (key, (g.description.clone(), g.parent_id.clone()))
        })
        .collect();
    for g in groups.iter_mut() {
        let mut parts = vec![g.description.clone()];
        let mut parent = g.parent_id.clone();
        // A cycle in what the service answers must not hang the listing.
        while let Some((name, up)) = parent
            .as_ref()
            .and_then(|p| by_id.get(crate::api::ids::identity(p).as_ref()))
        {
            if parts.len() > 64 {
                break;
            }
            parts.push(name.clone());
            parent = up.clone();
        }
        parts.reverse();
        g.path = parts.join("/");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Client, ClientOptions, Credentials, Secret};
    use crate::directory::BulkOptions;
    use crate::sandbox::{Options, Sandbox};

    #[test]
    fn two_callers_at_once_share_one_read_of_a_groups_members() {
        // An add and a remove on one group foreseen together: one read, not one each.
        let sb = Sandbox::spawn(Options {
            latency: std::time::Duration::from_millis(200),
            ..Options::default()
        })
        .unwrap();
        let rt = tokio::runtime::Runtime::new().unwrap();
        let creds = Credentials::OAuth {
            client_id: sb.keys.client_id.clone(),
            client_secret: Secret::new(sb.keys.client_secret.clone()),
        };
        let client = Client::new(&sb.base_url, creds, ClientOptions::default(), None).unwrap();
        let dir = Directory::new(client, BulkOptions::default(), true);
        let groups = rt.block_on(dir.fetch_groups()).unwrap();
        let sales = groups.iter().find(|g| g.description == "Sales").unwrap();
        let (a, b) = rt.block_on(async {
            tokio::join!(
                dir.service_has_member(&sales.id, "nobody@company.com"),
                dir.service_has_member(&sales.id, "someone@company.com")
            )
        });
        assert!(!a.unwrap() && !b.unwrap());
        let reads = sb
            .stats
            .by_path
            .lock()
            .unwrap()
            .get(paths::GET_GROUP_MEMBERS)
            .copied();
        assert_eq!(reads, Some(1));
        assert!(dir.reading.lock().unwrap().is_empty());
    }

    #[test]
    fn ids_and_names() {
        assert!(looks_like_id(&format!("eNo{}", "a".repeat(240))));
        assert!(!looks_like_id("All Staff"));
    }

    #[test]
    fn paths_follow_listed_parents_only() {
        let g = |id: &str, name: &str, parent: &str| Group {
            id: id.into(),
            description: name.into(),
            parent_id: Some(parent.into()),
            ..Group::default()
        };
        let mut groups = vec![
            g("e", "Engineering", "root"),
            g("p", "Platform", "e"),
            g("s", "Sales", "root"),
        ];
        with_paths(&mut groups);
        let paths: Vec<&str> = groups.iter().map(|g| g.path.as_str()).collect();
        assert_eq!(paths, ["Engineering", "Engineering/Platform", "Sales"]);
    }
}

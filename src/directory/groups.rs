//! Groups as an admin names them, and membership changes reported item by item.

use std::collections::HashMap;

use serde_json::{json, Value};

use super::executor::Wording;
use super::outcome::{ItemResult, Status};
use super::plan::{wording, Digest};
use super::{DirError, Directory};
use crate::api::groups::{groups_of, members_of};
use crate::api::{model, paths, Group, Member};

/// Whether `spec` looks like a Mimecast group id rather than a name: long, no spaces.
pub fn looks_like_id(spec: &str) -> bool {
    spec.len() >= 40 && !spec.contains(char::is_whitespace)
}

impl Directory {
    /// Every group whose name contains `query` (ignoring case), or every group.
    pub async fn list_groups(&self, query: Option<&str>) -> Result<Vec<Group>, DirError> {
        let mut pager = self.client().group_pages(query, self.options.page_size);
        let mut out = Vec::new();
        while let Some(page) = pager.next_page().await? {
            out.extend(groups_of(&page)?);
        }
        let label = match query {
            Some(q) => format!("the groups whose name contains {q:?}"),
            None => "the list of groups".to_string(),
        };
        self.note_read("groups", query.unwrap_or(""), &label, Digest::of(&out));
        Ok(self.overlaid(out, |o, mut v| {
            v.extend(o.groups(query));
            v
        }))
    }

    /// The group `spec` names: an id, or a name (exact, then ignoring case). An unknown or
    /// ambiguous name is an error listing what was found.
    pub async fn resolve_group(&self, spec: &str) -> Result<Group, DirError> {
        let spec = spec.trim();
        let by_id = looks_like_id(spec);
        let candidates = self
            .list_groups(if by_id { None } else { Some(spec) })
            .await?;
        if let Some(g) = candidates.iter().find(|g| g.id == spec) {
            return Ok(g.clone());
        }
        let exact: Vec<&Group> = candidates
            .iter()
            .filter(|g| g.description == spec)
            .collect();
        let chosen = if exact.is_empty() {
            candidates
                .iter()
                .filter(|g| g.description.eq_ignore_ascii_case(spec))
                .collect()
        } else {
            exact
        };
        match chosen.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(DirError::GroupNotFound {
                spec: spec.to_string(),
                similar: candidates
                    .iter()
                    .take(5)
                    .map(|g| g.description.clone())
                    .collect(),
            }),
            many => {
                // Parents are rarely among the candidates: name them from the whole list.
                let all = if by_id {
                    candidates.clone()
                } else {
                    self.list_groups(None).await?
                };
                let names: HashMap<&str, &str> = all
                    .iter()
                    .map(|g| (g.id.as_str(), g.description.as_str()))
                    .collect();
                Err(DirError::GroupAmbiguous {
                    spec: spec.to_string(),
                    candidates: many.iter().map(|g| describe(g, &names)).collect(),
                })
            }
        }
    }

    /// Every member of `group`.
    pub async fn members(&self, group: &Group) -> Result<Vec<Member>, DirError> {
        let mut out = Vec::new();
        if !group.id.starts_with("planned:") {
            let mut pager = self
                .client()
                .member_pages(&group.id, self.options.page_size);
            while let Some(page) = pager.next_page().await? {
                out.extend(members_of(&page)?);
            }
        }
        let name = if group.description.is_empty() {
            &group.id
        } else {
            &group.description
        };
        self.note_read(
            "members",
            &group.id,
            &format!("the members of group {name}"),
            Digest::of(&out),
        );
        Ok(self.overlaid(out, |o, v| o.members(&group.id, v)))
    }

    /// Creates a group under `parent` (or at the root).
    pub async fn create_group(
        &self,
        description: &str,
        parent: Option<&Group>,
    ) -> Result<Group, DirError> {
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
            Some(data) => Ok(model::decode(paths::CREATE_GROUP, data)?),
            None => Ok(Group {
                // Later planned writes need something to name the group by.
                id: format!("planned:{description}"),
                description: description.to_string(),
                parent_id: parent.map(|p| p.id.clone()),
                source: "cloud".into(),
                ..Group::default()
            }),
        }
    }

    /// Renames `group`.
    pub async fn rename_group(&self, group: &Group, description: &str) -> Result<Group, DirError> {
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
        let words = Wording {
            success: Status::Created,
            done: format!("added to {}", group.description),
            already: format!("already a member of {}", group.description),
        };
        self.change_members(paths::ADD_GROUP_MEMBER, group, emails, &words)
            .await
    }

    /// Removes `emails` from `group`, batched; one result per address, in input order.
    pub async fn remove_members(
        &self,
        group: &Group,
        emails: &[String],
    ) -> Result<Vec<ItemResult>, DirError> {
        let words = Wording {
            success: Status::Removed,
            done: format!("removed from {}", group.description),
            already: format!("not a member of {}", group.description),
        };
        self.change_members(paths::REMOVE_GROUP_MEMBER, group, emails, &words)
            .await
    }

    async fn change_members(
        &self,
        endpoint: &'static str,
        group: &Group,
        emails: &[String],
        words: &Wording,
    ) -> Result<Vec<ItemResult>, DirError> {
        let items: Vec<(String, Value)> = emails
            .iter()
            .map(|e| (e.clone(), json!({ "id": group.id, "emailAddress": e })))
            .collect();
        Ok(self
            .execute(endpoint, items, words)
            .await?
            .into_iter()
            .map(|o| o.result)
            .collect())
    }
}

fn describe(g: &Group, names: &HashMap<&str, &str>) -> String {
    let id: String = g.id.chars().take(12).collect();
    match g.parent_id.as_deref().and_then(|p| names.get(p)) {
        Some(parent) => format!("{} under {parent}, id {id}…", g.description),
        None => format!("{}, id {id}…", g.description),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_names() {
        assert!(looks_like_id(&format!("eNo{}", "a".repeat(240))));
        assert!(!looks_like_id("All Staff"));
    }
}

//! Groups as an admin names them, and membership changes reported item by item.

use std::collections::HashMap;

use futures_util::stream::{self, StreamExt};
use serde_json::{json, Value};

use super::outcome::{ItemResult, Status};
use super::{DirError, Directory};
use crate::api::groups::{groups_of, members_of};
use crate::api::{paths, ApiError, Group, Member};

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
        Ok(out)
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
        let mut pager = self
            .client()
            .member_pages(&group.id, self.options.page_size);
        let mut out = Vec::new();
        while let Some(page) = pager.next_page().await? {
            out.extend(members_of(&page)?);
        }
        Ok(out)
    }

    /// Creates a group under `parent` (or at the root).
    pub async fn create_group(
        &self,
        description: &str,
        parent: Option<&Group>,
    ) -> Result<Group, DirError> {
        let parent_id = parent.map(|p| p.id.as_str());
        let item = json!({ "description": description, "parentId": parent_id });
        if self.planned(paths::CREATE_GROUP, item) {
            return Ok(Group {
                // Later planned writes need something to name the group by.
                id: format!("planned:{description}"),
                description: description.to_string(),
                parent_id: parent_id.map(str::to_string),
                source: "cloud".into(),
                ..Group::default()
            });
        }
        Ok(self.client().create_group(description, parent_id).await?)
    }

    /// Renames `group`.
    pub async fn rename_group(&self, group: &Group, description: &str) -> Result<Group, DirError> {
        if self.planned(
            paths::UPDATE_GROUP,
            json!({ "id": group.id, "description": description }),
        ) {
            return Ok(Group {
                description: description.to_string(),
                ..group.clone()
            });
        }
        Ok(self
            .client()
            .update_group(&group.id, Some(description), None)
            .await?)
    }

    /// Deletes `group` (the service refuses one with members or children).
    pub async fn delete_group(&self, group: &Group) -> Result<(), DirError> {
        if self.planned(paths::DELETE_GROUP, json!({ "id": group.id })) {
            return Ok(());
        }
        Ok(self.client().delete_group(&group.id).await?)
    }

    /// Adds `emails` to `group`, batched; one result per address, in input order.
    pub async fn add_members(
        &self,
        group: &Group,
        emails: &[String],
    ) -> Result<Vec<ItemResult>, DirError> {
        self.change_members(group, emails, true).await
    }

    /// Removes `emails` from `group`, batched; one result per address, in input order.
    pub async fn remove_members(
        &self,
        group: &Group,
        emails: &[String],
    ) -> Result<Vec<ItemResult>, DirError> {
        self.change_members(group, emails, false).await
    }

    async fn change_members(
        &self,
        group: &Group,
        emails: &[String],
        add: bool,
    ) -> Result<Vec<ItemResult>, DirError> {
        let path = if add {
            paths::ADD_GROUP_MEMBER
        } else {
            paths::REMOVE_GROUP_MEMBER
        };
        if self.is_dry_run() {
            return Ok(emails
                .iter()
                .map(|e| {
                    self.planned(path, json!({ "id": group.id, "emailAddress": e }));
                    let verb = if add {
                        "would be added to"
                    } else {
                        "would be removed from"
                    };
                    ItemResult::new(
                        e.clone(),
                        Status::Planned,
                        format!("{verb} {}", group.description),
                    )
                })
                .collect());
        }
        let batches: Vec<Vec<String>> = emails
            .chunks(self.options.batch_size.max(1))
            .map(<[String]>::to_vec)
            .collect();
        let answers: Vec<Result<Vec<ItemResult>, ApiError>> = stream::iter(batches)
            .map(|batch| async move {
                let resp = if add {
                    self.client().add_members(&group.id, &batch).await
                } else {
                    self.client().remove_members(&group.id, &batch).await
                };
                match resp {
                    Ok(resp) => Ok(membership_results(
                        &batch,
                        &resp.data,
                        &resp.fail,
                        add,
                        &group.description,
                    )),
                    Err(e) if e.is_auth() => Err(e),
                    Err(e) => Ok(batch
                        .iter()
                        .map(|m| {
                            ItemResult::new(m.clone(), Status::Failed, e.to_string())
                                .with_code(e.code())
                        })
                        .collect()),
                }
            })
            .buffered(self.options.concurrency.max(1))
            .collect()
            .await;
        let mut out = Vec::with_capacity(emails.len());
        for a in answers {
            out.extend(a?);
        }
        Ok(out)
    }
}

/// Maps a membership batch's `data` and `fail` back to its addresses.
fn membership_results(
    batch: &[String],
    data: &[Value],
    fail: &[crate::api::Failure],
    add: bool,
    group: &str,
) -> Vec<ItemResult> {
    let key = |s: &str| s.to_ascii_lowercase();
    let mut by_email: HashMap<String, ItemResult> = HashMap::new();
    for d in data {
        if let Some(e) = d.get("emailAddress").and_then(Value::as_str) {
            let (status, verb) = if add {
                (Status::Created, "added to")
            } else {
                (Status::Removed, "removed from")
            };
            by_email.insert(
                key(e),
                ItemResult::new(e, status, format!("{verb} {group}")),
            );
        }
    }
    for f in fail {
        let Some(e) = f
            .key
            .as_ref()
            .and_then(|k| k.get("emailAddress"))
            .and_then(Value::as_str)
        else {
            continue;
        };
        let result = match (add, f.code.as_str()) {
            (true, "err_folder_group_member_already_exists") => {
                ItemResult::new(e, Status::Unchanged, format!("already a member of {group}"))
            }
            (false, "err_folder_email_address_not_found") => {
                ItemResult::new(e, Status::Unchanged, format!("not a member of {group}"))
            }
            _ => ItemResult::new(e, Status::Failed, f.to_string()),
        };
        by_email.insert(key(e), result.with_code(f.code.clone()));
    }
    batch
        .iter()
        .map(|e| {
            by_email.remove(&key(e)).unwrap_or_else(|| {
                ItemResult::new(
                    e.clone(),
                    Status::Failed,
                    "the service did not report on this address",
                )
                .with_code("no_answer")
            })
        })
        .collect()
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
    use crate::api::Failure;

    #[test]
    fn batch_results_map_back_by_key() {
        let batch = vec![
            "a@x.com".to_string(),
            "B@x.com".to_string(),
            "c@x.com".to_string(),
            "d@x.com".to_string(),
        ];
        let data = vec![json!({"emailAddress": "a@x.com"})];
        let fail = vec![
            Failure {
                key: Some(json!({"emailAddress": "b@x.com"})),
                code: "err_folder_group_member_already_exists".into(),
                message: "Group member already exists".into(),
                retryable: false,
                field: None,
            },
            Failure {
                key: Some(json!({"emailAddress": "c@x.com"})),
                code: "err_validation_invalid_email_address".into(),
                message: "bad".into(),
                retryable: false,
                field: Some("emailAddress".into()),
            },
        ];
        let r = membership_results(&batch, &data, &fail, true, "Sales");
        let statuses: Vec<Status> = r.iter().map(|r| r.status).collect();
        assert_eq!(
            statuses,
            vec![
                Status::Created,
                Status::Unchanged,
                Status::Failed,
                Status::Failed
            ]
        );
        assert_eq!(
            r[2].code.as_deref(),
            Some("err_validation_invalid_email_address")
        );
        assert_eq!(r[3].code.as_deref(), Some("no_answer"));
    }

    #[test]
    fn ids_and_names() {
        assert!(looks_like_id(&format!("eNo{}", "a".repeat(240))));
        assert!(!looks_like_id("All Staff"));
    }
}

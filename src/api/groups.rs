//! Group and membership endpoints.

use serde_json::{json, Value};

use super::client::{Client, Kind};
use super::envelope::{Request, Response};
use super::error::ApiError;
use super::model::{self, Group, Member};
use super::pager::Pager;
use super::paths;

impl Client {
    /// A pager over groups whose name contains `query` (every group when `None`).
    pub fn group_pages(&self, query: Option<&str>, page_size: u32) -> Pager {
        let item = query.map(|q| json!({ "query": q }));
        Pager::new(self, paths::FIND_GROUPS, item, page_size)
    }

    /// Creates a group, under `parent_id` or at the root.
    pub async fn create_group(
        &self,
        description: &str,
        parent_id: Option<&str>,
    ) -> Result<Group, ApiError> {
        let mut item = json!({ "description": description });
        if let Some(p) = parent_id {
            item["parentId"] = json!(p);
        }
        one_group(
            paths::CREATE_GROUP,
            self.call(paths::CREATE_GROUP, Kind::Write, vec![item])
                .await?,
        )
    }

    /// Renames a group and/or moves it under another parent.
    pub async fn update_group(
        &self,
        id: &str,
        description: Option<&str>,
        parent_id: Option<&str>,
    ) -> Result<Group, ApiError> {
        let mut item = json!({ "id": id });
        if let Some(d) = description {
            item["description"] = json!(d);
        }
        if let Some(p) = parent_id {
            item["parentId"] = json!(p);
        }
        one_group(
            paths::UPDATE_GROUP,
            self.call(paths::UPDATE_GROUP, Kind::Write, vec![item])
                .await?,
        )
    }

    /// Deletes a group (the service refuses one that has members or children).
    pub async fn delete_group(&self, id: &str) -> Result<(), ApiError> {
        self.call(paths::DELETE_GROUP, Kind::Write, vec![json!({ "id": id })])
            .await?;
        Ok(())
    }

    /// A pager over the members of group `id`.
    pub fn member_pages(&self, id: &str, page_size: u32) -> Pager {
        Pager::new(
            self,
            paths::GET_GROUP_MEMBERS,
            Some(json!({ "id": id })),
            page_size,
        )
    }

    /// Adds addresses to group `id` in one request; `data` and `fail` say which were added.
    pub async fn add_members(&self, id: &str, emails: &[String]) -> Result<Response, ApiError> {
        self.membership(paths::ADD_GROUP_MEMBER, id, emails).await
    }

    /// Removes addresses from group `id` in one request.
    pub async fn remove_members(&self, id: &str, emails: &[String]) -> Result<Response, ApiError> {
        self.membership(paths::REMOVE_GROUP_MEMBER, id, emails)
            .await
    }

    async fn membership(
        &self,
        path: &str,
        id: &str,
        emails: &[String],
    ) -> Result<Response, ApiError> {
        let data = emails
            .iter()
            .map(|e| json!({ "id": id, "emailAddress": e }))
            .collect();
        self.send(path, Kind::Write, &Request { meta: None, data })
            .await
    }
}

/// The groups of one page of `find-groups` (`data[0].folders`).
pub fn groups_of(page: &Response) -> Result<Vec<Group>, ApiError> {
    records_in(page, paths::FIND_GROUPS, "folders")
}

/// The members of one page of `get-group-members` (`data[0].groupMembers`).
pub fn members_of(page: &Response) -> Result<Vec<Member>, ApiError> {
    records_in(page, paths::GET_GROUP_MEMBERS, "groupMembers")
}

fn records_in<T: for<'de> serde::Deserialize<'de>>(
    page: &Response,
    path: &str,
    field: &str,
) -> Result<Vec<T>, ApiError> {
    let mut out = Vec::new();
    for entry in &page.data {
        match entry.get(field) {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for item in items {
                    out.push(model::decode(path, item.clone())?);
                }
            }
            Some(_) => {
                return Err(ApiError::Decode {
                    path: path.into(),
                    status: 200,
                    detail: format!("`{field}` is not a list"),
                })
            }
        }
    }
    Ok(out)
}

fn one_group(path: &str, data: Vec<Value>) -> Result<Group, ApiError> {
    let first = data.into_iter().next().ok_or_else(|| ApiError::Decode {
        path: path.into(),
        status: 200,
        detail: "the answer holds no group".into(),
    })?;
    model::decode(path, first)
}

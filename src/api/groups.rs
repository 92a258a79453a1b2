//! Group and membership reads: the pagers over `find-groups` and `get-group-members`, and
//! the decoding of their pages. Group writes go only through the executor.

use serde_json::{json, Value};

use super::client::Client;
use super::envelope::Response;
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

    /// A pager over the members of group `id`.
    pub fn member_pages(&self, id: &str, page_size: u32) -> Pager {
        Pager::new(
            self,
            paths::GET_GROUP_MEMBERS,
            Some(json!({ "id": id })),
            page_size,
        )
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

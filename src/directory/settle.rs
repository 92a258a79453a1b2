//! Settling writes whose answer was lost, by reading (docs/mimecast-api.md §8).
//!
//! Policy: a 5xx, a timeout or a dropped connection after a write was sent leaves its effect
//! unknown. For writes that are not idempotent by themselves, the directory is read: a user
//! with that address (and that name, when one was asked for), a group with that name under
//! that parent, a group renamed or moved as asked, a deleted group gone. What the read shows
//! counts as done; what it does not is sent again. A change the API cannot show (a lock) is
//! "not confirmed", and such changes are idempotent, so sending them again is safe.

use std::collections::HashMap;

use serde_json::{json, Value};

use super::email::domain_of;
use super::Directory;
use crate::api::groups::groups_of;
use crate::api::model::is_top_level;
use crate::api::users::users_of;
use crate::api::{paths, ApiError, Group, User};

fn text<'a>(item: &'a Value, key: &str) -> Option<&'a str> {
    item.get(key).and_then(Value::as_str)
}

impl Directory {
    /// For each of `items`, sent to `endpoint` without an answer: the record showing it
    /// happened, or `None` when the directory does not show it.
    pub(crate) async fn settle(
        &self,
        endpoint: &str,
        items: &[Value],
    ) -> Result<Vec<Option<Value>>, ApiError> {
        match endpoint {
            // Changes the listing cannot show (a lock) are never confirmed: no read for them.
            paths::UPDATE_USER if items.iter().all(|i| text(i, "name").is_none()) => {
                Ok(vec![None; items.len()])
            }
            paths::CREATE_USER | paths::UPDATE_USER => {
                let users = self.users_of_items(items).await?;
                Ok(items
                    .iter()
                    .map(|item| {
                        let email = text(item, "emailAddress")?.to_ascii_lowercase();
                        let user = users.get(&email)?;
                        match (endpoint, text(item, "name")) {
                            (_, Some(name)) if user.name != name => None,
                            // A change the listing cannot show (a lock): not confirmed.
                            (paths::UPDATE_USER, None) => None,
                            _ => Some(
                                json!({ "emailAddress": user.email_address, "name": user.name }),
                            ),
                        }
                    })
                    .collect())
            }
            paths::CREATE_GROUP | paths::UPDATE_GROUP | paths::DELETE_GROUP => {
                let groups = self.raw_groups().await?;
                let ids = crate::api::model::listed_ids(&groups);
                Ok(items
                    .iter()
                    .map(|item| {
                        let found = match endpoint {
                            paths::CREATE_GROUP => {
                                let name = text(item, "description")?.trim();
                                groups.iter().find(|g| {
                                    g.description.eq_ignore_ascii_case(name)
                                        && match text(item, "parentId") {
                                            Some(p) => g
                                                .parent_id
                                                .as_deref()
                                                .is_some_and(|id| crate::api::ids::same(id, p)),
                                            None => is_top_level(g, &ids),
                                        }
                                })
                            }
                            paths::UPDATE_GROUP => groups.iter().find(|g| {
                                text(item, "id").is_some_and(|id| crate::api::ids::same(&g.id, id))
                                    && text(item, "description")
                                        .is_none_or(|d| g.description == d.trim())
                                    && text(item, "parentId").is_none_or(|p| {
                                        g.parent_id
                                            .as_deref()
                                            .is_some_and(|id| crate::api::ids::same(id, p))
                                    })
                            }),
                            _ => {
                                let id = text(item, "id")?;
                                let gone = !ids.contains(crate::api::ids::identity(id).as_ref());
                                return gone.then(|| json!({ "id": id }));
                            }
                        };
                        found.map(|g| json!(g))
                    })
                    .collect())
            }
            _ => Ok(vec![None; items.len()]),
        }
    }

    /// The mailboxes of the domains `items` name, by lower-case address.
    async fn users_of_items(&self, items: &[Value]) -> Result<HashMap<String, User>, ApiError> {
        let mut domains: Vec<String> = items
            .iter()
            .filter_map(|i| text(i, "emailAddress"))
            .map(|e| domain_of(e).to_ascii_lowercase())
            .collect();
        domains.sort();
        domains.dedup();
        let mut out = HashMap::new();
        for d in domains {
            let mut pager = self.client().user_pages(Some(&d), self.options.page_size);
            while let Some(page) = pager.next_page().await? {
                for u in users_of(&page)?.into_iter().filter(|u| !u.is_alias()) {
                    out.insert(u.email_address.to_ascii_lowercase(), u);
                }
            }
        }
        Ok(out)
    }

    /// Every group as listed, without the dry-run overlay or the plan's read log.
    async fn raw_groups(&self) -> Result<Vec<Group>, ApiError> {
        let mut pager = self.client().group_pages(None, self.options.page_size);
        let mut out = Vec::new();
        while let Some(page) = pager.next_page().await? {
            out.extend(groups_of(&page)?);
        }
        Ok(out)
    }
}

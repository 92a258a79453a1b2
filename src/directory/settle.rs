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
                for u in users_of(page)?.into_iter().filter(|u| !u.is_alias()) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{ClientOptions, Credentials, Secret};
    use crate::directory::BulkOptions;
    use crate::sandbox::{Options, Sandbox};

    /// A directory on a fresh demo sandbox, and a runtime to drive it.
    fn demo() -> (Sandbox, Directory, tokio::runtime::Runtime) {
        let sb = Sandbox::spawn(Options::default()).unwrap();
        let creds = Credentials::OAuth {
            client_id: sb.keys.client_id.clone(),
            client_secret: Secret::new(sb.keys.client_secret.clone()),
        };
        let client =
            crate::api::Client::new(&sb.base_url, creds, ClientOptions::default(), None).unwrap();
        let rt = tokio::runtime::Runtime::new().unwrap();
        (
            sb,
            Directory::new(client, BulkOptions::default(), false),
            rt,
        )
    }

    fn id_of(groups: &[Group], name: &str) -> String {
        groups
            .iter()
            .find(|g| g.description == name)
            .unwrap()
            .id
            .clone()
    }

    #[test]
    fn lost_group_writes_are_settled_by_what_the_listing_shows() {
        let (_sb, dir, rt) = demo();
        let groups = rt.block_on(dir.raw_groups()).unwrap();
        assert!(groups.len() > 5, "the real listing, not a stand-in");
        let (engineering, sales, platform) = (
            id_of(&groups, "Engineering"),
            id_of(&groups, "Sales"),
            id_of(&groups, "Platform"),
        );
        // A delete whose answer was lost: done only when the group is gone.
        let deletes = [json!({ "id": platform }), json!({ "id": "eNoGoneGroup" })];
        let settled = rt
            .block_on(dir.settle(paths::DELETE_GROUP, &deletes))
            .unwrap();
        assert_eq!(settled[0], None, "Platform is still listed: send it again");
        assert_eq!(settled[1], Some(json!({ "id": "eNoGoneGroup" })));
        // A nested create whose answer was lost: done only under the parent it was asked for.
        let creates = [
            json!({ "description": "Platform", "parentId": engineering }),
            json!({ "description": "Platform", "parentId": sales }),
            json!({ "description": "Sales" }),
            json!({ "description": "Platform" }),
        ];
        let settled = rt
            .block_on(dir.settle(paths::CREATE_GROUP, &creates))
            .unwrap();
        assert_eq!(settled[0].as_ref().unwrap()["id"], platform.as_str());
        assert_eq!(settled[1], None, "no Platform under Sales");
        assert!(settled[2].is_some(), "Sales is at the top level");
        assert_eq!(settled[3], None, "Platform is not at the top level");
        // A rename or move whose answer was lost: done when the group reads as asked.
        let updates = [
            json!({ "id": platform, "description": "Platform" }),
            json!({ "id": platform, "description": "Renamed" }),
            json!({ "id": platform, "parentId": engineering }),
            json!({ "id": platform, "parentId": sales }),
        ];
        let settled = rt
            .block_on(dir.settle(paths::UPDATE_GROUP, &updates))
            .unwrap();
        assert!(settled[0].is_some());
        assert_eq!(settled[1], None);
        assert!(settled[2].is_some());
        assert_eq!(settled[3], None);
    }

    #[test]
    fn lost_user_writes_are_settled_by_the_listing_and_a_lock_never_is() {
        let (_sb, dir, rt) = demo();
        let items = [
            json!({ "emailAddress": "alice.anderson@company.com", "name": "Alice Anderson" }),
            json!({ "emailAddress": "alice.anderson@company.com", "name": "Someone Else" }),
            json!({ "emailAddress": "nobody@company.com", "name": "Nobody" }),
        ];
        let settled = rt.block_on(dir.settle(paths::CREATE_USER, &items)).unwrap();
        assert_eq!(
            settled[0],
            Some(json!({ "emailAddress": "alice.anderson@company.com", "name": "Alice Anderson" }))
        );
        assert_eq!(settled[1], None, "the name differs: not this write");
        assert_eq!(settled[2], None);
        let lock = [json!({ "emailAddress": "alice.anderson@company.com", "accountLocked": true })];
        let settled = rt.block_on(dir.settle(paths::UPDATE_USER, &lock)).unwrap();
        assert_eq!(settled, vec![None], "a lock cannot be read back");
        // Beside a rename in one batch, the lock is still not confirmed.
        let mixed = [
            json!({ "emailAddress": "alice.anderson@company.com", "name": "Alice Anderson" }),
            json!({ "emailAddress": "alice.anderson@company.com", "accountLocked": true }),
        ];
        let settled = rt.block_on(dir.settle(paths::UPDATE_USER, &mixed)).unwrap();
        assert!(settled[0].is_some());
        assert_eq!(settled[1], None, "a lock cannot be read back");
    }
}

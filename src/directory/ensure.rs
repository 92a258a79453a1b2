//! Idempotent verbs: make something so, and say whether it had to change.
//!
//! Policy: `ensure_*` read first and write only the difference, so running them twice changes
//! nothing the second time and reports `unchanged`.

use super::outcome::{ItemResult, Status};
use super::wording::wording;
use super::{DirError, Directory};
use crate::api::model::is_top_level;
use crate::api::users::{NewUser, UserUpdate};
use crate::api::{paths, Group};

/// What making sure of a user takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ensure {
    /// It is not there: create it.
    Create,
    /// It is there under another name: rename it.
    Rename {
        /// The name it has.
        from: String,
    },
    /// Its name differs, but directory sync manages it: Mimecast would refuse.
    Synced,
    /// It is there as asked.
    Unchanged,
}

impl Directory {
    /// What [`Directory::ensure_user`] would do for `email` and `name`, decided from a read.
    pub async fn ensure_decision(
        &self,
        email: &str,
        name: Option<&str>,
    ) -> Result<Ensure, DirError> {
        Ok(match self.find_user(email).await? {
            None => Ensure::Create,
            Some(u) => match name {
                Some(n) if u.name != n && u.is_synced() => Ensure::Synced,
                Some(n) if u.name != n => Ensure::Rename { from: u.name },
                _ => Ensure::Unchanged,
            },
        })
    }

    /// Creates `email` if it does not exist; an existing user whose name differs gets `name`.
    pub async fn ensure_user(
        &self,
        email: &str,
        name: Option<&str>,
    ) -> Result<ItemResult, DirError> {
        let planned = |done| {
            if self.is_dry_run() {
                Status::Planned
            } else {
                done
            }
        };
        match self.ensure_decision(email, name).await? {
            Ensure::Create => {
                self.create_user(email, name).await?;
                Ok(ItemResult::new(email, planned(Status::Created), "created"))
            }
            Ensure::Synced => Ok(ItemResult::new(
                email,
                Status::Failed,
                super::synced_message(&format!("user {email}")),
            )
            .with_code(super::SYNCED_CODE)),
            Ensure::Rename { from } => {
                let n = name.unwrap_or("");
                let update = UserUpdate {
                    email_address: email.to_string(),
                    name: Some(n.to_string()),
                    ..UserUpdate::default()
                };
                self.update_user(&update).await?;
                Ok(ItemResult::new(
                    email,
                    planned(Status::Updated),
                    format!("name {from:?} -> {n:?}"),
                ))
            }
            Ensure::Unchanged => Ok(ItemResult::new(email, Status::Unchanged, "already exists")),
        }
    }

    /// Makes `email` a member of `group`; already a member is `unchanged`.
    pub async fn ensure_member(&self, group: &Group, email: &str) -> Result<ItemResult, DirError> {
        let mut results = self.add_members(group, &[email.to_string()]).await?;
        Ok(results.pop().expect("one result per address"))
    }

    /// The group at `path` (`Engineering/Platform`) under `root` (or at the top), creating
    /// each missing level; the status says whether any level had to be created.
    pub async fn ensure_group(
        &self,
        path: &str,
        root: Option<&Group>,
    ) -> Result<(Group, Status), DirError> {
        let levels = self.ensure_group_levels(path, root).await?;
        let status = levels
            .iter()
            .map(|(_, s)| *s)
            .find(|s| *s != Status::Unchanged)
            .unwrap_or(Status::Unchanged);
        let (leaf, _) = levels.into_iter().last().expect("at least one level");
        Ok((leaf, status))
    }

    /// Every level of `path` under `root` (or at the top), each found or created, with what
    /// happened to it: `Engineering/Platform` gives Engineering, then Platform.
    pub async fn ensure_group_levels(
        &self,
        path: &str,
        root: Option<&Group>,
    ) -> Result<Vec<(Group, Status)>, DirError> {
        let parts: Vec<&str> = path
            .split('/')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect();
        if parts.is_empty() {
            return Err(DirError::BadPath {
                path: path.to_string(),
            });
        }
        // One listing serves every level: "top-level" needs the whole list (every group has a
        // parentId; top-level ones carry an unlisted root folder's).
        let mut all = self.list_groups(None).await?;
        let mut parent: Option<Group> = root.cloned();
        let mut levels = Vec::with_capacity(parts.len());
        for part in parts {
            let found = {
                let ids = crate::api::model::listed_ids(&all);
                all.iter()
                    .find(|g| {
                        g.description.eq_ignore_ascii_case(part)
                            && match &parent {
                                Some(p) => g
                                    .parent_id
                                    .as_deref()
                                    .is_some_and(|id| crate::api::ids::same(id, &p.id)),
                                None => is_top_level(g, &ids),
                            }
                    })
                    .cloned()
            };
            let (group, status) = match found {
                Some(g) => (g, Status::Unchanged),
                None => {
                    let status = if self.is_dry_run() {
                        Status::Planned
                    } else {
                        Status::Created
                    };
                    let mut made = self.create_group(part, parent.as_ref()).await?;
                    made.path = match &parent {
                        Some(p) if !p.path.is_empty() => format!("{}/{part}", p.path),
                        Some(p) => format!("{}/{part}", p.description),
                        None => part.to_string(),
                    };
                    all.push(made.clone());
                    (made, status)
                }
            };
            parent = Some(group.clone());
            levels.push((group, status));
        }
        Ok(levels)
    }

    /// Creates many users, `batch_size` per request and `concurrency` requests at once; one
    /// result per user in input order. Existing users are failures (`err_user_already_exists`):
    /// use [`Directory::ensure_user`] to accept them.
    pub async fn create_users(&self, users: &[NewUser]) -> Result<Vec<ItemResult>, DirError> {
        let items = users
            .iter()
            .map(|u| (u.email_address.clone(), serde_json::json!(u)))
            .collect();
        let outcomes = self
            .execute(paths::CREATE_USER, items, &wording(paths::CREATE_USER))
            .await?;
        Ok(outcomes.into_iter().map(|o| o.result).collect())
    }
}

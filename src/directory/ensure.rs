//! Idempotent verbs: make something so, and say whether it had to change.
//!
//! Policy: `ensure_*` read first and write only the difference, so running them twice changes
//! nothing the second time and reports `unchanged`.

use futures_util::stream::{self, StreamExt};
use serde_json::Value;

use super::outcome::{ItemResult, Status};
use super::{DirError, Directory};
use crate::api::users::{NewUser, UserUpdate};
use crate::api::{ApiError, Group};

impl Directory {
    /// Creates `email` if it does not exist; an existing user whose name differs gets `name`.
    pub async fn ensure_user(
        &self,
        email: &str,
        name: Option<&str>,
    ) -> Result<ItemResult, DirError> {
        match self.find_user(email).await? {
            None => {
                self.create_user(email, name).await?;
                let status = if self.is_dry_run() {
                    Status::Planned
                } else {
                    Status::Created
                };
                Ok(ItemResult::new(email, status, "created"))
            }
            Some(u) => match name {
                Some(n) if u.name != n => {
                    let update = UserUpdate {
                        email_address: u.email_address.clone(),
                        name: Some(n.to_string()),
                        ..UserUpdate::default()
                    };
                    self.update_user(&update).await?;
                    let status = if self.is_dry_run() {
                        Status::Planned
                    } else {
                        Status::Updated
                    };
                    Ok(ItemResult::new(
                        email,
                        status,
                        format!("name {:?} -> {n:?}", u.name),
                    ))
                }
                _ => Ok(ItemResult::new(email, Status::Unchanged, "already exists")),
            },
        }
    }

    /// Makes `email` a member of `group`; already a member is `unchanged`.
    pub async fn ensure_member(&self, group: &Group, email: &str) -> Result<ItemResult, DirError> {
        let mut results = self.add_members(group, &[email.to_string()]).await?;
        Ok(results.pop().expect("one result per address"))
    }

    /// The group at `path` (`Engineering/Platform`) under `root` (or at the top), creating
    /// each missing level.
    pub async fn ensure_group(
        &self,
        path: &str,
        root: Option<&Group>,
    ) -> Result<(Group, Status), DirError> {
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
        let mut parent: Option<Group> = root.cloned();
        let mut status = Status::Unchanged;
        for part in parts {
            let parent_id = parent.as_ref().map(|p| p.id.clone());
            let found = self
                .list_groups(Some(part))
                .await?
                .into_iter()
                .find(|g| g.description.eq_ignore_ascii_case(part) && g.parent_id == parent_id);
            parent = Some(match found {
                Some(g) => g,
                None => {
                    status = if self.is_dry_run() {
                        Status::Planned
                    } else {
                        Status::Created
                    };
                    self.create_group(part, parent.as_ref()).await?
                }
            });
        }
        Ok((parent.expect("at least one level"), status))
    }

    /// Creates many users, `batch_size` per request and `concurrency` requests at once; one
    /// result per user in input order. Existing users are failures (`err_user_already_exists`):
    /// use [`Directory::ensure_user`] to accept them.
    pub async fn create_users(&self, users: &[NewUser]) -> Result<Vec<ItemResult>, DirError> {
        if self.is_dry_run() {
            for u in users {
                self.planned(crate::api::paths::CREATE_USER, serde_json::json!(u));
            }
            return Ok(users
                .iter()
                .map(|u| ItemResult::new(&u.email_address, Status::Planned, "would be created"))
                .collect());
        }
        let batches: Vec<&[NewUser]> = users.chunks(self.options.batch_size.max(1)).collect();
        let answers: Vec<Result<Vec<ItemResult>, ApiError>> = stream::iter(batches)
            .map(|batch| async move {
                match self.client().create_users(batch).await {
                    Ok(resp) => Ok(batch
                        .iter()
                        .map(|u| {
                            let failed = resp.fail.iter().find(|f| {
                                key_email(&f.key)
                                    .is_some_and(|e| e.eq_ignore_ascii_case(&u.email_address))
                            });
                            match failed {
                                Some(f) => {
                                    ItemResult::new(&u.email_address, Status::Failed, f.to_string())
                                        .with_code(f.code.clone())
                                }
                                None => {
                                    ItemResult::new(&u.email_address, Status::Created, "created")
                                }
                            }
                        })
                        .collect()),
                    Err(e) if e.is_auth() => Err(e),
                    Err(e) => Ok(batch
                        .iter()
                        .map(|u| {
                            ItemResult::new(&u.email_address, Status::Failed, e.to_string())
                                .with_code(e.code())
                        })
                        .collect()),
                }
            })
            .buffered(self.options.concurrency.max(1))
            .collect()
            .await;
        let mut out = Vec::with_capacity(users.len());
        for a in answers {
            out.extend(a?);
        }
        Ok(out)
    }
}

fn key_email(key: &Option<Value>) -> Option<&str> {
    key.as_ref()?.get("emailAddress")?.as_str()
}

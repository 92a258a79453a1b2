//! Users: complete listings across every internal domain, lookups and writes.

use std::collections::VecDeque;

use serde_json::{json, Value};

use super::outcome::{ItemResult, Status};
use super::{DirError, Directory};
use crate::api::pager::Pager;
use crate::api::users::{users_of, NewUser, UserUpdate};
use crate::api::{paths, ApiError, Domain, User};

/// Pages of users across one or several domains, read as they are needed.
pub struct UserListing<'a> {
    dir: &'a Directory,
    domains: VecDeque<String>,
    pager: Option<Pager>,
}

impl UserListing<'_> {
    /// The next batch of users, or `None` when every domain is exhausted.
    pub async fn next_batch(&mut self) -> Result<Option<Vec<User>>, DirError> {
        loop {
            if self.pager.is_none() {
                let Some(domain) = self.domains.pop_front() else {
                    return Ok(None);
                };
                self.pager = Some(
                    self.dir
                        .client()
                        .user_pages(Some(&domain), self.dir.options.page_size),
                );
            }
            let pager = self.pager.as_mut().expect("a pager");
            match pager.next_page().await? {
                Some(page) => return Ok(Some(users_of(&page)?)),
                None => self.pager = None,
            }
        }
    }
}

impl Directory {
    /// The account's internal domains.
    pub async fn domains(&self) -> Result<Vec<Domain>, DirError> {
        Ok(self.client().list_domains().await?)
    }

    /// The users of `domain`, or of every internal domain (the API needs a domain per call).
    pub async fn users(&self, domain: Option<&str>) -> Result<UserListing<'_>, DirError> {
        let domains = match domain {
            Some(d) => VecDeque::from([d.to_ascii_lowercase()]),
            None => self
                .domains()
                .await?
                .into_iter()
                .map(|d| d.domain)
                .collect(),
        };
        Ok(UserListing {
            dir: self,
            domains,
            pager: None,
        })
    }

    /// The live user with address `email` (aliases filled in), or `None`.
    pub async fn find_user(&self, email: &str) -> Result<Option<User>, DirError> {
        let domain = super::email::domain_of(email).to_string();
        let mut listing = self.users(Some(&domain)).await?;
        while let Some(batch) = listing.next_batch().await? {
            if let Some(u) = batch
                .into_iter()
                .find(|u| u.email_address.eq_ignore_ascii_case(email))
            {
                return Ok(Some(u));
            }
        }
        Ok(None)
    }

    /// Creates one user and returns what the service answered (`emailAddress`, `id`, ...).
    pub async fn create_user(&self, email: &str, name: Option<&str>) -> Result<Value, DirError> {
        let user = NewUser {
            email_address: email.to_string(),
            name: name.map(str::to_string),
        };
        if self.planned(paths::CREATE_USER, json!(user)) {
            return Ok(json!({ "emailAddress": email, "name": name.unwrap_or("") }));
        }
        let resp = self
            .client()
            .create_users(std::slice::from_ref(&user))
            .await?;
        if !resp.fail.is_empty() {
            return Err(ApiError::Failed {
                path: paths::CREATE_USER.into(),
                status: 200,
                failures: resp.fail,
            }
            .into());
        }
        Ok(resp
            .data
            .into_iter()
            .next()
            .unwrap_or_else(|| json!({ "emailAddress": email })))
    }

    /// Changes settings of one user and returns the user's settings as answered.
    pub async fn update_user(&self, update: &UserUpdate) -> Result<Value, DirError> {
        if self.planned(paths::UPDATE_USER, json!(update)) {
            return Ok(json!(update));
        }
        Ok(self.client().update_user(update).await?)
    }

    /// Adds an alias to a user.
    pub async fn add_alias(&self, email: &str, alias: &str) -> Result<(), DirError> {
        if self.planned(
            paths::UPDATE_ALIAS,
            json!({ "alias": alias, "aliasFor": email }),
        ) {
            return Ok(());
        }
        Ok(self.client().add_alias(email, alias).await?)
    }

    /// Queues `email` for deletion (the purge list); `restore` takes it back off.
    pub async fn set_deleted(&self, email: &str, delete: bool) -> Result<ItemResult, DirError> {
        let path = if delete {
            paths::ADD_TO_PURGE_LIST
        } else {
            paths::REMOVE_FROM_PURGE_LIST
        };
        if self.planned(path, json!({ "emailAddresses": [email] })) {
            let what = if delete {
                "would be queued for deletion"
            } else {
                "would be restored"
            };
            return Ok(ItemResult::new(email, Status::Planned, what));
        }
        let emails = [email.to_string()];
        let resp = if delete {
            self.client().purge_users(&emails).await?
        } else {
            self.client().restore_users(&emails).await?
        };
        if let Some(f) = resp.fail.into_iter().next() {
            if f.code == "err_user_not_found" {
                return Err(DirError::UserNotFound {
                    email: email.to_string(),
                });
            }
            return Err(ApiError::Failed {
                path: path.into(),
                status: 200,
                failures: vec![f],
            }
            .into());
        }
        Ok(if delete {
            ItemResult::new(
                email,
                Status::Removed,
                "queued for deletion on the purge list",
            )
        } else {
            ItemResult::new(email, Status::Updated, "taken off the purge list")
        })
    }
}

impl Directory {
    /// The users among `emails`, keyed by lower-case address. Each domain's users are read
    /// once; a domain that is not internal simply has none.
    pub async fn find_users(
        &self,
        emails: &[String],
    ) -> Result<std::collections::HashMap<String, User>, DirError> {
        let wanted: std::collections::HashSet<String> =
            emails.iter().map(|e| e.to_ascii_lowercase()).collect();
        let mut domains: Vec<String> = wanted
            .iter()
            .map(|e| super::email::domain_of(e).to_string())
            .collect();
        domains.sort();
        domains.dedup();
        let internal: std::collections::HashSet<String> = self
            .domains()
            .await?
            .into_iter()
            .map(|d| d.domain.to_ascii_lowercase())
            .collect();
        let mut found = std::collections::HashMap::new();
        for d in domains.into_iter().filter(|d| internal.contains(d)) {
            let mut listing = self.users(Some(&d)).await?;
            while let Some(batch) = listing.next_batch().await? {
                for u in batch {
                    let key = u.email_address.to_ascii_lowercase();
                    if wanted.contains(&key) {
                        found.insert(key, u);
                    }
                }
            }
        }
        Ok(found)
    }
}

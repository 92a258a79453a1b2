//! User endpoints the client reads (list, aliases, account), and the shapes of the user writes
//! the executor sends (`NewUser`, `UserUpdate`). Writes themselves go only through the executor
//! (`directory/executor.rs`), which batches, previews, audits and budgets them.

use serde_json::{json, Value};

use super::client::{Client, Kind};
use super::envelope::Response;
use super::error::ApiError;
use super::model::{self, Domain, User};
use super::pager::Pager;
use super::paths;

/// A user to create (`create-user`'s item).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewUser {
    /// The address; its domain must be internal to the account.
    pub email_address: String,
    /// Display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Changes to a user (`update-user`'s item); `None` leaves a setting as it is.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserUpdate {
    /// Which user.
    pub email_address: String,
    /// New display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Lock or unlock the account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_locked: Option<bool>,
    /// Disable or enable the account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_disabled: Option<bool>,
}

impl Client {
    /// Every internal domain of the account.
    pub async fn list_domains(&self) -> Result<Vec<Domain>, ApiError> {
        let data = self
            .call(paths::GET_INTERNAL_DOMAINS, Kind::Read, vec![])
            .await?;
        data.into_iter()
            .map(|v| model::decode(paths::GET_INTERNAL_DOMAINS, v))
            .collect()
    }

    /// A pager over the users of `domain` (every internal domain when `None`).
    pub fn user_pages(&self, domain: Option<&str>, page_size: u32) -> Pager {
        let item = domain.map(|d| json!({ "domain": d }));
        Pager::new(self, paths::GET_INTERNAL_USERS, item, page_size)
    }

    /// The aliases of `email`.
    pub async fn aliases(&self, email: &str) -> Result<Vec<String>, ApiError> {
        let data = self
            .call(
                paths::GET_ALIASES,
                Kind::Read,
                vec![json!({ "emailAddress": email })],
            )
            .await?;
        Ok(data
            .iter()
            .flat_map(|v| model::address_list(aliases_in(v)))
            .collect())
    }

    /// Which of `emails` are mailboxes the service knows (listed, or queued on the purge list
    /// and not yet purged), in one `get-aliases` request whose items are the addresses: the
    /// envelope's "several items mean the same as one call each". An address the service
    /// answers `err_user_not_found` for is not a user; any other failed item is an error.
    /// Returned addresses are lower case.
    pub async fn known_mailboxes(
        &self,
        emails: &[String],
    ) -> Result<std::collections::HashSet<String>, ApiError> {
        let data = emails
            .iter()
            .map(|e| json!({ "emailAddress": e }))
            .collect();
        let request = super::envelope::Request { meta: None, data };
        let resp = self.send(paths::GET_ALIASES, Kind::Read, &request).await?;
        let mut absent = std::collections::HashSet::new();
        let mut other = Vec::new();
        for f in resp.fail {
            let asked = f
                .key
                .as_ref()
                .and_then(|k| k.get("emailAddress"))
                .and_then(Value::as_str)
                .map(str::to_ascii_lowercase);
            match asked {
                Some(e) if f.code == "err_user_not_found" => {
                    absent.insert(e);
                }
                _ => other.push(f),
            }
        }
        if !other.is_empty() {
            return Err(ApiError::Failed {
                path: paths::GET_ALIASES.to_string(),
                status: 200,
                failures: other,
            });
        }
        Ok(emails
            .iter()
            .map(|e| e.to_ascii_lowercase())
            .filter(|e| !absent.contains(e))
            .collect())
    }

    /// The account's record (`get-account`): a cheap check that the credentials work.
    pub async fn account(&self) -> Result<Value, ApiError> {
        let data = self.call(paths::GET_ACCOUNT, Kind::Read, vec![]).await?;
        Ok(data.into_iter().next().unwrap_or(Value::Null))
    }
}

/// The users of one page of `get-internal-users` (`data[0].users`), taken out of the page
/// (decoded from it, not from a copy: a page holds up to 500 users).
pub fn users_of(page: Response) -> Result<Vec<User>, ApiError> {
    let mut out = Vec::new();
    for mut entry in page.data {
        let users = entry
            .as_object_mut()
            .and_then(|m| m.remove("users"))
            .unwrap_or(Value::Array(vec![]));
        let Value::Array(users) = users else {
            return Err(ApiError::Decode {
                path: paths::GET_INTERNAL_USERS.into(),
                status: 200,
                detail: "`users` is not a list".into(),
            });
        };
        for u in users {
            out.push(model::decode::<User>(paths::GET_INTERNAL_USERS, u)?.with_domain());
        }
    }
    Ok(out)
}

/// `get-aliases` answers either a list of alias records or a record holding one.
fn aliases_in(v: &Value) -> Value {
    match v {
        Value::Object(m) => m
            .get("aliases")
            .or_else(|| m.get("alias"))
            .cloned()
            .unwrap_or(Value::Null),
        other => other.clone(),
    }
}

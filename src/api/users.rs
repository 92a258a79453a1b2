//! User endpoints: list, create, update, aliases and the purge list.

use serde_json::{json, Value};

use super::client::{Client, Kind};
use super::envelope::{Request, Response};
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

    /// Creates users in one request; the answer's `data` and `fail` say which were created.
    pub async fn create_users(&self, users: &[NewUser]) -> Result<Response, ApiError> {
        let data = users.iter().map(|u| json!(u)).collect();
        self.send(
            paths::CREATE_USER,
            Kind::Write,
            &Request { meta: None, data },
        )
        .await
    }

    /// Changes one user's settings and returns what the service answered.
    pub async fn update_user(&self, update: &UserUpdate) -> Result<Value, ApiError> {
        let data = self
            .call(paths::UPDATE_USER, Kind::Write, vec![json!(update)])
            .await?;
        Ok(data.into_iter().next().unwrap_or(Value::Null))
    }

    /// Adds `alias` as another address of `email`.
    pub async fn add_alias(&self, email: &str, alias: &str) -> Result<(), ApiError> {
        let item = json!({ "alias": alias, "aliasFor": email });
        self.call(paths::UPDATE_ALIAS, Kind::Write, vec![item])
            .await?;
        Ok(())
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

    /// Queues users for deletion (Mimecast has no hard delete).
    pub async fn purge_users(&self, emails: &[String]) -> Result<Response, ApiError> {
        let request = Request {
            meta: None,
            data: vec![json!({ "emailAddresses": emails })],
        };
        self.send(paths::ADD_TO_PURGE_LIST, Kind::Write, &request)
            .await
    }

    /// Takes users off the deletion queue (at most 1000 in one call).
    pub async fn restore_users(&self, emails: &[String]) -> Result<Response, ApiError> {
        let request = Request {
            meta: None,
            data: vec![json!({ "emailAddresses": emails })],
        };
        self.send(paths::REMOVE_FROM_PURGE_LIST, Kind::Write, &request)
            .await
    }

    /// The account's record (`get-account`): a cheap check that the credentials work.
    pub async fn account(&self) -> Result<Value, ApiError> {
        let data = self.call(paths::GET_ACCOUNT, Kind::Read, vec![]).await?;
        Ok(data.into_iter().next().unwrap_or(Value::Null))
    }
}

/// The users of one page of `get-internal-users` (`data[0].users`).
pub fn users_of(page: &Response) -> Result<Vec<User>, ApiError> {
    let mut out = Vec::new();
    for entry in &page.data {
        let users = entry.get("users").cloned().unwrap_or(Value::Array(vec![]));
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

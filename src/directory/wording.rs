//! The words each kind of write is reported in: "created", "added to Sales", "already a
//! member". One place, so a write says the same whichever command or script made it.

use std::borrow::Cow;
use std::collections::HashMap;

use serde_json::Value;

use super::outcome::Status;
use crate::api::paths;

/// What the words of a result should be.
#[derive(Debug, Clone)]
pub struct Wording {
    /// Status of a success.
    pub success: Status,
    /// Message of a success.
    pub done: String,
    /// Message when the service says it already was so.
    pub already: String,
    /// For membership changes of many groups sent together: each group's name by id, so each
    /// item says its own group ("added to Sales"), as a change of that group alone would.
    groups: HashMap<String, String>,
    endpoint: &'static str,
}

impl Wording {
    /// The words for `item`: its own group's, when this wording names groups (see
    /// [`memberships_wording`]).
    pub fn of(&self, item: &Value) -> Cow<'_, Wording> {
        match item
            .get("id")
            .and_then(Value::as_str)
            .and_then(|id| self.groups.get(id))
        {
            Some(name) => Cow::Owned(member_wording(self.endpoint, name)),
            None => Cow::Borrowed(self),
        }
    }
}

/// The words of membership changes (`endpoint`) of many groups at once, `groups` naming each
/// group id: each item is worded as [`member_wording`] of its group.
pub fn memberships_wording(endpoint: &'static str, groups: HashMap<String, String>) -> Wording {
    Wording {
        groups,
        endpoint,
        ..wording(endpoint)
    }
}

/// The words for results of `endpoint`.
pub fn wording(endpoint: &str) -> Wording {
    let (success, done, already) = match endpoint {
        paths::CREATE_USER => (Status::Created, "created", "already exists"),
        paths::UPDATE_USER | paths::UPDATE_ALIAS | paths::UPDATE_GROUP => {
            (Status::Updated, "updated", "already so")
        }
        paths::ADD_TO_PURGE_LIST => (
            Status::Removed,
            "queued for deletion on the purge list",
            "already queued",
        ),
        paths::REMOVE_FROM_PURGE_LIST => (
            Status::Updated,
            "taken off the purge list",
            "not on the purge list",
        ),
        paths::CREATE_GROUP => (Status::Created, "created", "already exists"),
        paths::DELETE_GROUP => (Status::Removed, "deleted", "already gone"),
        paths::ADD_GROUP_MEMBER => (Status::Created, "added to the group", "already a member"),
        paths::REMOVE_GROUP_MEMBER => (Status::Removed, "removed from the group", "not a member"),
        _ => (Status::Updated, "done", "already so"),
    };
    Wording {
        success,
        done: done.into(),
        already: already.into(),
        groups: HashMap::new(),
        endpoint: "",
    }
}

/// The words of a membership change of the group named `group`: "added to Sales".
pub fn member_wording(endpoint: &str, group: &str) -> Wording {
    if endpoint == paths::ADD_GROUP_MEMBER {
        Wording {
            success: Status::Created,
            done: format!("added to {group}"),
            already: format!("already a member of {group}"),
            groups: HashMap::new(),
            endpoint: paths::ADD_GROUP_MEMBER,
        }
    } else {
        Wording {
            success: Status::Removed,
            done: format!("removed from {group}"),
            already: format!("not a member of {group}"),
            groups: HashMap::new(),
            endpoint: paths::REMOVE_GROUP_MEMBER,
        }
    }
}

//! The words each kind of write is reported in: "created", "added to Sales", "already a
//! member". One place, so a write says the same whichever command or script made it.

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
    }
}

/// The words of a membership change of the group named `group`: "added to Sales".
pub fn member_wording(endpoint: &str, group: &str) -> Wording {
    if endpoint == paths::ADD_GROUP_MEMBER {
        Wording {
            success: Status::Created,
            done: format!("added to {group}"),
            already: format!("already a member of {group}"),
        }
    } else {
        Wording {
            success: Status::Removed,
            done: format!("removed from {group}"),
            already: format!("not a member of {group}"),
        }
    }
}

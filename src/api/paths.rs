//! The endpoint paths mcsh uses, as the real service answers to them (`docs/mimecast-api.md` §4).

/// List the users of a domain (paged).
pub const GET_INTERNAL_USERS: &str = "/api/user/get-internal-users";
/// List the account's internal domains.
pub const GET_INTERNAL_DOMAINS: &str = "/api/domain/get-internal-domain";
/// Create users.
pub const CREATE_USER: &str = "/api/user/create-user";
/// Change a user's settings.
pub const UPDATE_USER: &str = "/api/user/update-user";
/// Add an alias to a user.
pub const UPDATE_ALIAS: &str = "/api/user/update-alias";
/// List a user's aliases.
pub const GET_ALIASES: &str = "/api/user/get-aliases";
/// Queue users for deletion.
pub const ADD_TO_PURGE_LIST: &str = "/api/user/add-to-purge-list";
/// Take users off the deletion queue.
pub const REMOVE_FROM_PURGE_LIST: &str = "/api/user/remove-from-purge-list";
/// List groups (paged).
pub const FIND_GROUPS: &str = "/api/directory/find-groups";
/// Create a group.
pub const CREATE_GROUP: &str = "/api/directory/create-group";
/// Rename or move a group.
pub const UPDATE_GROUP: &str = "/api/directory/update-group";
/// Delete a group.
pub const DELETE_GROUP: &str = "/api/directory/delete-group";
/// List a group's members (paged).
pub const GET_GROUP_MEMBERS: &str = "/api/directory/get-group-members";
/// Add members to a group.
pub const ADD_GROUP_MEMBER: &str = "/api/directory/add-group-member";
/// Remove members from a group.
pub const REMOVE_GROUP_MEMBER: &str = "/api/directory/remove-group-member";
/// The account's own record; a cheap credentials check.
pub const GET_ACCOUNT: &str = "/api/account/get-account";

//! Sandbox handlers for groups and membership.

use rusqlite::{params, Connection};
use serde_json::{json, Value};

use super::ids;
use super::store::{self, GroupRow};
use super::wire::{self, ApiRequest, ItemError, Outcome, Reply};

type Handled = Result<Outcome, Reply>;

/// A group as `find-groups` answers it (recorded: `find-groups.json`). Every group has a
/// `parentId`; top-level groups carry the root folder's.
fn group_json(g: &GroupRow) -> Value {
    json!({
        "id": g.id,
        "description": g.description,
        "source": g.source,
        "parentId": g.parent_id.clone().unwrap_or_default(),
        "userCount": g.user_count,
        "folderCount": g.folder_count,
    })
}

fn not_found() -> ItemError {
    ItemError::new("err_folder_not_found", "Group not found")
}

/// The refusal of a change to a group that directory sync manages (`source: ldap`). The code
/// is the sandbox's choice: the public record names none for this case.
fn synced_group() -> ItemError {
    ItemError::new(
        "err_folder_directory_synchronized",
        "Group is synchronized from a directory and cannot be changed",
    )
}

/// A group that may be changed: it exists and directory sync does not manage it.
fn writable(conn: &Connection, id: &str) -> Result<GroupRow, ItemError> {
    let g = existing(conn, id)?;
    if g.source == "ldap" {
        return Err(synced_group());
    }
    Ok(g)
}

/// The id a `parentId` names: a listed group, or the root folder (also when blank).
fn parent_of(conn: &Connection, parent: Option<&str>) -> Result<String, ItemError> {
    let root = store::root_folder(conn).map_err(wire::item_storage)?;
    let not_found =
        || ItemError::field("err_folder_not_found", "Parent group not found", "parentId");
    match parent.map(str::trim) {
        None | Some("") => Ok(root),
        Some(p) => store::stored_group_id(conn, p)
            .map_err(wire::item_storage)?
            .ok_or_else(not_found),
    }
}

/// The stored id of the group an item's `key` names: the service takes any id it issued
/// for a folder, also one from before a re-key. An unknown id stays as it is (and is not
/// found where it is used).
fn group_arg(conn: &Connection, item: &Value, key: &'static str) -> Result<String, ItemError> {
    let id = wire::req_str(item, key)?;
    Ok(store::stored_group_id(conn, id)
        .map_err(wire::item_storage)?
        .unwrap_or_else(|| id.to_string()))
}

fn existing(conn: &Connection, id: &str) -> Result<GroupRow, ItemError> {
    store::group(conn, id)
        .map_err(wire::item_storage)?
        .ok_or_else(not_found)
}

/// `find-groups`: paged groups whose name contains `query`, of `source` when given.
pub fn find_groups(conn: &Connection, req: &ApiRequest) -> Handled {
    wire::at_most_one(req)?;
    let item = req.data.first().cloned().unwrap_or(json!({}));
    let (query, source) = match (
        wire::opt_str(&item, "query"),
        wire::opt_str(&item, "source"),
    ) {
        (Ok(q), Ok(s)) => (q.filter(|q| !q.is_empty()), s.filter(|s| !s.is_empty())),
        (Err(e), _) | (_, Err(e)) => return Ok(Outcome::failed(&item, e)),
    };
    if let Some(s) = source {
        if s != "cloud" && s != "ldap" {
            return Ok(Outcome::failed(
                &item,
                ItemError::field(
                    "err_validation_invalid_value",
                    "source must be cloud or ldap",
                    "source",
                ),
            ));
        }
    }
    let scope = format!("groups|{}|{}", query.unwrap_or(""), source.unwrap_or(""));
    let after = wire::read_page_token(&scope, req.page_token.as_deref())?;
    let rows =
        store::groups_page(conn, query, source, after, req.page_size + 1).map_err(wire::storage)?;
    let (rows, next) = wire::page_of(rows, req.page_size, &scope, after, |r| r.seq);
    let total = store::count_groups(conn, query, source).map_err(wire::storage)?;
    let folders: Vec<Value> = rows.iter().map(group_json).collect();
    let mut entry = json!({ "source": source.unwrap_or("cloud") });
    if let Some(q) = query {
        entry["query"] = json!(q);
    }
    entry["folders"] = json!(folders);
    Ok(Outcome {
        pagination: Some(wire::pagination(folders.len(), total, next)),
        data: vec![entry],
        ..Outcome::default()
    })
}

/// `create-group`: a root group, or a child of `parentId`; sibling names are unique.
pub fn create_group(conn: &Connection, req: &ApiRequest) -> Handled {
    let mut out = Outcome::default();
    for item in &req.data {
        out.item(item, create_one(conn, item));
    }
    Ok(out)
}

fn create_one(conn: &Connection, item: &Value) -> Result<Value, ItemError> {
    let description = wire::req_str(item, "description")?.trim();
    let parent = parent_of(conn, wire::opt_str(item, "parentId")?)?;
    let parent = Some(parent.as_str());
    if store::sibling_named(conn, description, parent, None)
        .map_err(wire::item_storage)?
        .is_some()
    {
        return Err(ItemError::new(
            "err_folder_already_exists",
            "Group already exists",
        ));
    }
    let (seq, id) = store::next_group(conn, &mut rand::rng()).map_err(wire::item_storage)?;
    conn.execute(
        "INSERT INTO groups(seq, id, description, parent_id) VALUES (?1, ?2, ?3, ?4)",
        params![seq, id, description, parent],
    )
    .map_err(wire::item_storage)?;
    Ok(group_json(&existing(conn, &id)?))
}

/// `update-group`: renames and/or moves a group.
pub fn update_group(conn: &Connection, req: &ApiRequest) -> Handled {
    let mut out = Outcome::default();
    for item in &req.data {
        out.item(item, update_one(conn, item));
    }
    Ok(out)
}

fn update_one(conn: &Connection, item: &Value) -> Result<Value, ItemError> {
    let id = &group_arg(conn, item, "id")?;
    let group = writable(conn, id)?;
    let description = match wire::opt_str(item, "description")? {
        Some(d) if d.trim().is_empty() => {
            return Err(ItemError::field(
                "err_validation_blank",
                "description must not be blank",
                "description",
            ))
        }
        Some(d) => d.trim().to_string(),
        None => group.description.clone(),
    };
    let parent = match wire::opt_str(item, "parentId")? {
        None => group.parent_id.clone(),
        Some(p) => {
            let p = parent_of(conn, Some(p))?;
            if is_self_or_descendant(conn, &p, id)? {
                return Err(ItemError::field(
                    "err_folder_invalid_parent",
                    "A group cannot move under itself",
                    "parentId",
                ));
            }
            Some(p)
        }
    };
    if store::sibling_named(conn, &description, parent.as_deref(), Some(id))
        .map_err(wire::item_storage)?
        .is_some()
    {
        return Err(ItemError::new(
            "err_folder_already_exists",
            "Group already exists",
        ));
    }
    conn.execute(
        "UPDATE groups SET description = ?2, parent_id = ?3 WHERE id = ?1",
        params![id, description, parent],
    )
    .map_err(wire::item_storage)?;
    Ok(group_json(&existing(conn, id)?))
}

fn is_self_or_descendant(
    conn: &Connection,
    candidate: &str,
    ancestor: &str,
) -> Result<bool, ItemError> {
    let mut current = Some(candidate.to_string());
    let mut steps = 0;
    while let Some(id) = current {
        if id == ancestor {
            return Ok(true);
        }
        steps += 1;
        if steps > 10_000 {
            return Ok(true);
        }
        current = store::group(conn, &id)
            .map_err(wire::item_storage)?
            .and_then(|g| g.parent_id);
    }
    Ok(false)
}

/// `delete-group`: only an empty group without children can go.
pub fn delete_group(conn: &Connection, req: &ApiRequest) -> Handled {
    let mut out = Outcome::default();
    for item in &req.data {
        let result = group_arg(conn, item, "id").and_then(|id| {
            let id = id.as_str();
            let g = writable(conn, id)?;
            if g.user_count > 0 || g.folder_count > 0 {
                return Err(ItemError::new(
                    "err_folder_not_empty",
                    "Group has members or child groups",
                ));
            }
            conn.execute("DELETE FROM groups WHERE id = ?1", [id])
                .map_err(wire::item_storage)?;
            Ok(json!({ "id": id }))
        });
        out.item(item, result);
    }
    Ok(out)
}

/// `get-group-members`: paged members of one group.
pub fn get_group_members(conn: &Connection, req: &ApiRequest) -> Handled {
    if req.data.len() != 1 {
        return Err(wire::error(
            400,
            "err_validation_item_count",
            "This endpoint takes exactly 1 item",
            false,
        ));
    }
    let item = &req.data[0];
    let group = match group_arg(conn, item, "id").and_then(|id| existing(conn, &id)) {
        Ok(g) => g,
        Err(e) => return Ok(Outcome::failed(item, e)),
    };
    let scope = format!("members|{}", group.id);
    let after = wire::read_page_token(&scope, req.page_token.as_deref())?;
    let rows =
        store::members_page(conn, &group.id, after, req.page_size + 1).map_err(wire::storage)?;
    let (rows, next) = wire::page_of(rows, req.page_size, &scope, after, |r| r.seq);
    let members: Vec<Value> = rows
        .iter()
        .map(|m| {
            json!({
                "emailAddress": m.email,
                "domain": m.domain,
                "internal": m.internal,
                "type": m.kind,
                "name": m.name,
            })
        })
        .collect();
    Ok(Outcome {
        pagination: Some(wire::pagination(members.len(), group.user_count, next)),
        data: vec![json!({ "groupMembers": members })],
        ..Outcome::default()
    })
}

/// The member an item names: `(emailAddress, domain)`; a domain member has no address.
fn member_target(item: &Value) -> Result<(String, String), ItemError> {
    match (
        wire::opt_str(item, "emailAddress")?,
        wire::opt_str(item, "domain")?,
    ) {
        (Some(e), _) if !e.is_empty() => {
            let (_, domain) = wire::valid_email("emailAddress", e)?;
            Ok((e.to_string(), domain))
        }
        (_, Some(d)) if !d.is_empty() => {
            if !wire::valid_domain(d) {
                return Err(ItemError::field(
                    "err_validation_invalid_domain",
                    "Domain is not valid",
                    "domain",
                ));
            }
            Ok((String::new(), d.to_ascii_lowercase()))
        }
        _ => Err(ItemError::field(
            "err_validation_null",
            "emailAddress or domain is required",
            "emailAddress",
        )),
    }
}

/// `add-group-member` (`add = true`) and `remove-group-member`.
pub fn membership(conn: &Connection, req: &ApiRequest, add: bool) -> Handled {
    let mut out = Outcome::default();
    let mut seen = Seen::default();
    for item in &req.data {
        out.item(item, membership_one(conn, item, add, &mut seen));
    }
    Ok(out)
}

/// What a membership request has looked up already: its items mostly name the same group
/// and domain, and nothing it does changes a group's source, a domain or the account.
#[derive(Default)]
struct Seen {
    /// Each group id an item gave: the stored id and the group's source (`None`: no group).
    groups: std::collections::HashMap<String, Option<(String, String)>>,
    /// Each member domain: whether it is internal.
    internal: std::collections::HashMap<String, bool>,
    /// The account's code.
    account: Option<String>,
}

impl Seen {
    fn group(
        &mut self,
        conn: &Connection,
        item: &Value,
    ) -> Result<Option<(String, String)>, ItemError> {
        let given = wire::req_str(item, "id")?;
        if let Some(known) = self.groups.get(given) {
            return Ok(known.clone());
        }
        let id = group_arg(conn, item, "id")?;
        let found = store::group_source(conn, &id)
            .map_err(wire::item_storage)?
            .map(|source| (id, source));
        self.groups.insert(given.to_string(), found.clone());
        Ok(found)
    }

    fn internal(&mut self, conn: &Connection, domain: &str) -> Result<bool, ItemError> {
        if let Some(&known) = self.internal.get(domain) {
            return Ok(known);
        }
        let internal = store::is_internal_domain(conn, domain).map_err(wire::item_storage)?;
        self.internal.insert(domain.to_string(), internal);
        Ok(internal)
    }

    fn account(&mut self, conn: &Connection) -> Result<String, ItemError> {
        if let Some(code) = &self.account {
            return Ok(code.clone());
        }
        let code = store::account_code(conn).map_err(wire::item_storage)?;
        self.account = Some(code.clone());
        Ok(code)
    }
}

fn membership_one(
    conn: &Connection,
    item: &Value,
    add: bool,
    seen: &mut Seen,
) -> Result<Value, ItemError> {
    // Only the group's existence and source matter here: no member or child counts.
    let group = match seen.group(conn, item)? {
        None => return Err(not_found()),
        Some((_, source)) if source == "ldap" => return Err(synced_group()),
        Some((id, _)) => id,
    };
    let (email, domain) = member_target(item)?;
    let notes = wire::opt_str(item, "notes")?.unwrap_or("");
    let internal = seen.internal(conn, &domain)?;
    // The membership link: its row number and stored id.
    let current: Option<(i64, String)> = {
        use rusqlite::OptionalExtension;
        conn.prepare_cached(
            "SELECT seq, id FROM members WHERE group_id = ?1 AND email = ?2 AND domain = ?3",
        )
        .and_then(|mut s| {
            s.query_row(params![group, email, domain], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()
        })
        .map_err(wire::item_storage)?
    };
    let id = match (add, current) {
        (true, Some(_)) => {
            return Err(ItemError::new(
                "err_folder_group_member_already_exists",
                "Group member already exists",
            ))
        }
        (false, None) => {
            return Err(ItemError::new(
                "err_folder_email_address_not_found",
                "Error email address not found",
            ))
        }
        (true, None) => {
            let id = ids::member_id();
            let kind = if email.is_empty() {
                "domain"
            } else {
                "created_manually"
            };
            conn.prepare_cached(
                "INSERT INTO members(id, group_id, email, domain, internal, kind, notes)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .and_then(|mut s| s.execute(params![id, group, email, domain, internal, kind, notes]))
            .map_err(wire::item_storage)?;
            (conn.last_insert_rowid(), id)
        }
        (false, Some(link)) => {
            conn.prepare_cached(
                "DELETE FROM members WHERE group_id = ?1 AND email = ?2 AND domain = ?3",
            )
            .and_then(|mut s| s.execute(params![group, email, domain]))
            .map_err(wire::item_storage)?;
            link
        }
    };
    // As recorded: `id` is the membership link (the same on the add and the later remove),
    // `folderId` the group.
    let account = seen.account(conn)?;
    let link = ids::link_id(&account, id.0 as u64, &id.1);
    Ok(json!({ "id": link, "folderId": group, "emailAddress": email, "internal": internal }))
}

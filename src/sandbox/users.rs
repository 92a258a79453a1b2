//! Sandbox handlers for users, domains, aliases, the purge list and the account.

use rusqlite::{params, Connection};
use serde_json::{json, Value};

use super::ids;
use super::store::{self, UserRow};
use super::wire::{self, ApiRequest, ItemError, Outcome, Reply};

type Handled = Result<Outcome, Reply>;

/// A row of `get-internal-users`, with the fields and order of the recorded real answer:
/// `alias` is a boolean saying whether the row is an alias address rather than a mailbox.
fn user_json(u: &UserRow) -> Value {
    json!({
        "name": u.name,
        "emailAddress": u.email,
        "domain": u.domain,
        "alias": !u.is_mailbox(),
        "addressType": u.address_type,
        "source": u.source,
    })
}

/// Mimecast's refusal of a change to a directory-synced user.
fn synced_user() -> ItemError {
    ItemError::new(
        "err_xdk_operation_forbidden_for_address",
        "0003 Forbidden To Perform Operation For Address",
    )
}

fn settings_json(u: &UserRow) -> Value {
    json!({
        "emailAddress": u.email,
        "name": u.name,
        "accountLocked": u.locked,
        "accountDisabled": u.disabled,
        "domain": u.domain,
    })
}

/// `get-internal-users`: paged users of one domain, or of every domain without one.
pub fn get_internal_users(conn: &Connection, req: &ApiRequest) -> Handled {
    wire::at_most_one(req)?;
    let item = req.data.first().cloned().unwrap_or(json!({}));
    let domain = match wire::opt_str(&item, "domain") {
        Ok(d) => d.map(str::to_ascii_lowercase),
        Err(e) => return Ok(Outcome::failed(&item, e)),
    };
    if let Some(d) = &domain {
        if !store::is_internal_domain(conn, d).map_err(wire::storage)? {
            let e = ItemError::field(
                "err_domain_not_internal",
                "Domain is not an internal domain of this account",
                "domain",
            );
            return Ok(Outcome::failed(&item, e));
        }
    }
    let scope = format!("users|{}", domain.as_deref().unwrap_or("*"));
    let after = wire::read_page_token(&scope, req.page_token.as_deref())?;
    let rows = store::users_page(conn, domain.as_deref(), after, req.page_size + 1)
        .map_err(wire::storage)?;
    let (rows, next) = wire::page_of(rows, req.page_size, &scope, after, |r| r.seq);
    let total = store::count_users(conn, domain.as_deref()).map_err(wire::storage)?;
    let users: Vec<Value> = rows.iter().map(user_json).collect();
    Ok(Outcome {
        pagination: Some(wire::pagination(users.len(), total, next)),
        data: vec![json!({ "users": users, "userCount": total })],
        ..Outcome::default()
    })
}

/// `get-internal-domain`: the tenant's internal domains.
pub fn get_internal_domains(conn: &Connection, _req: &ApiRequest) -> Handled {
    let mut stmt = conn
        .prepare_cached(
            "SELECT id, domain, send_only, local, inbound_type FROM domains ORDER BY seq",
        )
        .map_err(wire::storage)?;
    let rows = stmt
        .query_map([], |r| {
            Ok(json!({
                "id": r.get::<_, String>(0)?,
                "domain": r.get::<_, String>(1)?,
                "sendOnly": r.get::<_, bool>(2)?,
                "local": r.get::<_, bool>(3)?,
                "inboundType": r.get::<_, String>(4)?,
            }))
        })
        .and_then(Iterator::collect)
        .map_err(wire::storage)?;
    Ok(Outcome {
        data: rows,
        ..Outcome::default()
    })
}

/// `create-user`: one user per item; the domain must be internal.
pub fn create_user(conn: &Connection, req: &ApiRequest) -> Handled {
    let mut out = Outcome::default();
    for item in &req.data {
        out.item(item, create_one(conn, item));
    }
    Ok(out)
}

fn create_one(conn: &Connection, item: &Value) -> Result<Value, ItemError> {
    let email = wire::req_str(item, "emailAddress")?;
    let (_, domain) = wire::valid_email("emailAddress", email)?;
    let name = wire::opt_str(item, "name")?.unwrap_or("");
    for field in ["password", "accountCode"] {
        wire::opt_str(item, field)?;
    }
    wire::opt_bool(item, "forcePasswordChange")?;
    if !store::is_internal_domain(conn, &domain).map_err(wire::item_storage)? {
        return Err(ItemError::field(
            "err_domain_not_internal",
            "Domain is not an internal domain of this account",
            "emailAddress",
        ));
    }
    if let Some(existing) = store::user(conn, email).map_err(wire::item_storage)? {
        let message = if !existing.is_mailbox() {
            "The address is already an alias of another user"
        } else if existing.purged {
            "User already exists (it is on the purge list: remove it from the purge list to restore it)"
        } else {
            "User already exists"
        };
        return Err(ItemError::new("err_user_already_exists", message));
    }
    let id = ids::user_id();
    conn.prepare_cached(
        "INSERT INTO users(email, id, name, domain, created) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .and_then(|mut s| {
        s.execute(params![
            email,
            id,
            name,
            domain,
            chrono::Utc::now().to_rfc3339()
        ])
    })
    .map_err(wire::item_storage)?;
    Ok(json!({ "emailAddress": email, "id": id, "name": name }))
}

/// The live mailbox `email` (not an alias address, not on the purge list).
fn live_user(conn: &Connection, email: &str) -> Result<UserRow, ItemError> {
    match store::user(conn, email).map_err(wire::item_storage)? {
        Some(u) if !u.purged && u.is_mailbox() => Ok(u),
        _ => Err(ItemError::new("err_user_not_found", "User not found")),
    }
}

/// `update-user`: changes the settings each item names.
pub fn update_user(conn: &Connection, req: &ApiRequest) -> Handled {
    let mut out = Outcome::default();
    for item in &req.data {
        out.item(item, update_one(conn, item));
    }
    Ok(out)
}

fn update_one(conn: &Connection, item: &Value) -> Result<Value, ItemError> {
    let email = wire::req_str(item, "emailAddress")?;
    wire::valid_email("emailAddress", email)?;
    let user = live_user(conn, email)?;
    if user.source == "ldap" {
        return Err(synced_user());
    }
    let name = wire::opt_str(item, "name")?;
    let locked = wire::opt_bool(item, "accountLocked")?;
    let disabled = wire::opt_bool(item, "accountDisabled")?;
    for field in ["password", "archiveStartDate"] {
        wire::opt_str(item, field)?;
    }
    for field in [
        "passwordNeverExpires",
        "allowSmtp",
        "allowPop",
        "forcePasswordChange",
    ] {
        wire::opt_bool(item, field)?;
    }
    conn.execute(
        "UPDATE users SET name = COALESCE(?2, name), locked = COALESCE(?3, locked),
         disabled = COALESCE(?4, disabled) WHERE email = ?1",
        params![user.email, name, locked, disabled],
    )
    .map_err(wire::item_storage)?;
    let updated = live_user(conn, email)?;
    Ok(settings_json(&updated))
}

/// `update-alias`: adds `alias` to the user `aliasFor`.
pub fn update_alias(conn: &Connection, req: &ApiRequest) -> Handled {
    let mut out = Outcome::default();
    for item in &req.data {
        out.item(item, alias_one(conn, item));
    }
    Ok(out)
}

fn alias_one(conn: &Connection, item: &Value) -> Result<Value, ItemError> {
    let alias = wire::req_str(item, "alias")?;
    let owner = wire::req_str(item, "aliasFor")?;
    let (_, domain) = wire::valid_email("alias", alias)?;
    wire::valid_email("aliasFor", owner)?;
    let user = live_user(conn, owner)?;
    if user.source == "ldap" {
        return Err(synced_user());
    }
    if !store::is_internal_domain(conn, &domain).map_err(wire::item_storage)? {
        return Err(ItemError::field(
            "err_domain_not_internal",
            "Domain is not an internal domain of this account",
            "alias",
        ));
    }
    match store::user(conn, alias).map_err(wire::item_storage)? {
        Some(row) if row.alias_for.as_deref() == Some(user.email.as_str()) => {}
        Some(row) if row.is_mailbox() => {
            return Err(ItemError::new(
                "err_alias_already_exists",
                "The address already belongs to a user",
            ))
        }
        Some(_) => {
            return Err(ItemError::new(
                "err_alias_already_exists",
                "The alias already belongs to another user",
            ))
        }
        None => {
            conn.execute(
                "INSERT INTO users(email, id, name, domain, created, alias_for, source)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    alias,
                    ids::user_id(),
                    user.name,
                    domain,
                    chrono::Utc::now().to_rfc3339(),
                    user.email,
                    user.source
                ],
            )
            .map_err(wire::item_storage)?;
        }
    }
    // The documented answer of update-alias.
    Ok(json!({
        "domain": domain,
        "isInternal": true,
        "alias": alias,
        "aliasDisplayName": user.name,
        "aliasFor": user.email,
        "type": "alias",
    }))
}

/// `get-aliases`: the aliases of each item's `emailAddress`.
pub fn get_aliases(conn: &Connection, req: &ApiRequest) -> Handled {
    let mut out = Outcome::default();
    for item in &req.data {
        let result = wire::req_str(item, "emailAddress").and_then(|email| {
            // A user on the purge list still exists until the purge runs: it has aliases.
            let user = store::user(conn, email)
                .map_err(wire::item_storage)?
                .filter(UserRow::is_mailbox)
                .ok_or_else(|| ItemError::new("err_user_not_found", "User not found"))?;
            let aliases = store::aliases_of(conn, &user.email).map_err(wire::item_storage)?;
            let list: Vec<Value> = aliases
                .iter()
                .map(|a| json!({ "alias": a.email }))
                .collect();
            Ok(json!({ "emailAddress": user.email, "aliases": list }))
        });
        out.item(item, result);
    }
    Ok(out)
}

/// `add-to-purge-list` (`purge = true`) and `remove-from-purge-list`.
pub fn purge_list(conn: &Connection, req: &ApiRequest, purge: bool) -> Handled {
    if !purge && req.data.len() != 1 {
        return Err(wire::error(
            400,
            "err_validation_item_count",
            "This endpoint takes exactly 1 item",
            false,
        ));
    }
    let mut out = Outcome::default();
    for item in &req.data {
        let addresses = match item.get("emailAddresses") {
            Some(Value::Array(a)) if !a.is_empty() => a,
            _ => {
                let e = ItemError::field(
                    "err_validation_null",
                    "emailAddresses must be a non-empty list",
                    "emailAddresses",
                );
                out.fail.push(wire::fail_entry(item, &e));
                continue;
            }
        };
        if !purge && addresses.len() > 1000 {
            let e = ItemError::field(
                "err_validation_too_many",
                "At most 1000 addresses per call",
                "emailAddresses",
            );
            out.fail.push(wire::fail_entry(item, &e));
            continue;
        }
        let mut done = Vec::new();
        for address in addresses {
            let key = json!({ "emailAddresses": [address] });
            let result = address
                .as_str()
                .ok_or_else(|| {
                    ItemError::field(
                        "err_validation_invalid_email_address",
                        "Email address is not valid",
                        "emailAddresses",
                    )
                })
                .and_then(|a| set_purged(conn, a, purge));
            match result {
                Ok(email) => {
                    out.accepted.push(key);
                    done.push(json!(email))
                }
                Err(e) => out.fail.push(wire::fail_entry(&key, &e)),
            }
        }
        if !done.is_empty() {
            out.data.push(json!({ "emailAddresses": done }));
        }
    }
    Ok(out)
}

fn set_purged(conn: &Connection, email: &str, purge: bool) -> Result<String, ItemError> {
    wire::valid_email("emailAddresses", email)?;
    let user = store::user(conn, email)
        .map_err(wire::item_storage)?
        .filter(UserRow::is_mailbox)
        .ok_or_else(|| ItemError::new("err_user_not_found", "User not found"))?;
    if purge && user.source == "ldap" {
        return Err(synced_user());
    }
    if !purge && !user.purged {
        return Err(ItemError::new(
            "err_user_not_on_purge_list",
            "User is not on the purge list",
        ));
    }
    conn.execute(
        "UPDATE users SET purged = ?2 WHERE email = ?1 OR alias_for = ?1",
        params![user.email, purge],
    )
    .map_err(wire::item_storage)?;
    Ok(user.email)
}

/// `get-account`: the account record.
pub fn get_account(conn: &Connection, _req: &ApiRequest) -> Handled {
    let name = store::setting(conn, "account_name")
        .map_err(wire::storage)?
        .unwrap_or_else(|| "Sandbox".into());
    let users = store::count_mailboxes(conn).map_err(wire::storage)?;
    // A rehearsal copy answers with the real account's code.
    let code = store::account_code(conn).map_err(wire::storage)?;
    Ok(Outcome {
        data: vec![json!({
            "accountName": name,
            "accountCode": code,
            "region": "sandbox",
            "userCount": users,
            "type": "sandbox",
        })],
        ..Outcome::default()
    })
}

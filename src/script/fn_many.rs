//! The batched twins of the single-item writes: `remove_members`, `remove_memberships`,
//! `update_users`, `lock_users`, `unlock_users`, `delete_users`, `restore_users`,
//! `add_aliases`. Each is one round of batched requests through the executor, returns one
//! result map per item in input order, and never raises for an item the service refuses (its
//! result says `failed`), as `add_members` does.

use std::rc::Rc;

use rhai::{Array, Dynamic, Engine, EvalAltResult, Map};

use super::convert::{self, UpdateRow};
use super::errors;
use super::host::Host;
use super::register::network;
use crate::api::users::UserUpdate;
use crate::directory::ItemResult;

type Res<T> = Result<T, Box<EvalAltResult>>;

fn results(r: &[ItemResult]) -> Array {
    r.iter().map(convert::result_map).collect()
}

fn set_deleted(h: &Host, function: &str, emails: &Array, delete: bool) -> Res<Array> {
    let emails = convert::emails_arg(function, emails)?;
    if delete {
        h.ask_first(
            function,
            &format!("queue {} user(s) for deletion", emails.len()),
        )?;
    }
    let dir = h.directory(function)?;
    let r = h.block_on(function, dir.set_deleted_many(&emails, delete))?;
    if delete {
        h.tell(&format!("queued {} user(s) for deletion", emails.len()));
    }
    Ok(results(&r))
}

fn lock(h: &Host, function: &str, emails: &Array, locked: bool) -> Res<Array> {
    let mut seen = std::collections::HashSet::new();
    let updates: Vec<UserUpdate> = convert::emails_arg(function, emails)?
        .into_iter()
        // An address given twice is changed once.
        .filter(|e| seen.insert(e.to_ascii_lowercase()))
        .map(|email_address| UserUpdate {
            email_address,
            account_locked: Some(locked),
            ..UserUpdate::default()
        })
        .collect();
    let dir = h.directory(function)?;
    let r = h.block_on(function, dir.update_users(&updates))?;
    Ok(results(&r))
}

/// Registers the batched twins.
pub fn register(engine: &mut Engine, host: &Rc<Host>) {
    let h = host.clone();
    network("remove_members", &["group: Dynamic", "emails: Array", "Array"], r#"
Removes many addresses from a group in batched requests. Returns one `#{emailAddress, status, message, code}` per address (`removed`, `unchanged` when it was not a member, or `failed`); failures do not raise.
```rhai
let results = remove_members("Sales", ["a@company.com", "b@company.com"]);
```"#)
    .register_into_engine(engine, move |group: Dynamic, emails: Array| -> Res<Array> {
        let emails = convert::members_arg("remove_members", &emails)?;
        let g = convert::group_arg(&h, "remove_members", &group)?;
        let dir = h.directory("remove_members")?;
        let r = h.block_on("remove_members", dir.remove_members(&g, &emails))?;
        Ok(results(&r))
    });

    let h = host.clone();
    network("remove_memberships", &["rows: Array", "Array"], r#"
Removes many memberships of many groups at once, from maps `#{group, emailAddress}`, batched across groups. Returns one `#{group, emailAddress, status, message, code}` per row; failures do not raise.
```rhai
remove_memberships([#{ group: "Sales", emailAddress: "a@company.com" }, #{ group: "All Staff", emailAddress: "a@company.com" }]);
```"#)
    .register_into_engine(engine, move |rows: Array| -> Res<Array> {
        let pairs = super::fn_bulk::membership_pairs(&h, "remove_memberships", &rows)?;
        let dir = h.directory("remove_memberships")?;
        let r = h.block_on("remove_memberships", dir.remove_memberships(&pairs))?;
        Ok(r.iter()
            .zip(&pairs)
            .map(|(r, (g, _))| {
                convert::with_field(convert::result_map(r), "group", g.description.clone().into())
            })
            .collect())
    });

    let h = host.clone();
    network("update_users", &["rows: Array", "Array"], r#"
Changes many users in batched requests, from maps `#{emailAddress, name, accountLocked, accountDisabled}` (any of the last three; `email` works for `emailAddress`). Returns one result per row (`updated` or `failed`); failures do not raise.
```rhai
update_users(read_csv("renames.csv").map(|r| #{ emailAddress: r.email, name: r.name }));
```"#)
    .register_into_engine(engine, move |rows: Array| -> Res<Array> {
        let mut updates = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            let r: UpdateRow = convert::from_dyn("update_users", &format!("row {}", i + 1), row)?;
            if r.name.is_none() && r.account_locked.is_none() && r.account_disabled.is_none() {
                return Err(errors::usage("update_users", format!("row {} changes nothing: give name, accountLocked or accountDisabled", i + 1)));
            }
            updates.push(UserUpdate {
                email_address: convert::email_arg("update_users", &r.email_address)?,
                name: r.name,
                account_locked: r.account_locked,
                account_disabled: r.account_disabled,
            });
        }
        let dir = h.directory("update_users")?;
        let r = h.block_on("update_users", dir.update_users(&updates))?;
        Ok(results(&r))
    });

    let h = host.clone();
    network(
        "lock_users",
        &["emails: Array", "Array"],
        r#"
Locks many accounts (`accountLocked: true`) in batched requests; one result per address.
```rhai
lock_users(["leaver@company.com"]);
```"#,
    )
    .register_into_engine(engine, move |emails: Array| {
        lock(&h, "lock_users", &emails, true)
    });

    let h = host.clone();
    network(
        "unlock_users",
        &["emails: Array", "Array"],
        r#"
Unlocks many accounts (`accountLocked: false`) in batched requests; one result per address.
```rhai
unlock_users(["returner@company.com"]);
```"#,
    )
    .register_into_engine(engine, move |emails: Array| {
        lock(&h, "unlock_users", &emails, false)
    });

    let h = host.clone();
    network("delete_users", &["emails: Array", "Array"], r#"
Queues many users for deletion on the purge list, up to 1 000 addresses a request; one result per address. `restore_users` takes them back until the purge runs.
```rhai
delete_users(["a@company.com", "b@company.com"]);
```"#)
    .register_into_engine(engine, move |emails: Array| set_deleted(&h, "delete_users", &emails, true));

    let h = host.clone();
    network(
        "restore_users",
        &["emails: Array", "Array"],
        r#"
Takes many users back off the purge list, up to 1 000 addresses a request; one result per address.
```rhai
restore_users(["a@company.com"]);
```"#,
    )
    .register_into_engine(engine, move |emails: Array| {
        set_deleted(&h, "restore_users", &emails, false)
    });

    let h = host.clone();
    network("add_aliases", &["rows: Array", "Array"], r#"
Adds many aliases in batched requests, from maps `#{emailAddress, alias}` (the user, and the address to add to it). Returns one result per row, labelled by the alias.
```rhai
add_aliases([#{ emailAddress: "bob.hughes@company.com", alias: "bob@company.com" }]);
```"#)
    .register_into_engine(engine, move |rows: Array| -> Res<Array> {
        let mut pairs = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            let map = row.read_lock::<Map>().ok_or_else(|| {
                errors::usage("add_aliases", format!("row {} is not a map #{{emailAddress, alias}}", i + 1))
            })?;
            let text = |keys: &[&str]| -> Res<String> {
                let v = keys.iter().find_map(|k| map.get(*k)).ok_or_else(|| {
                    errors::usage("add_aliases", format!("row {} has no `{}`", i + 1, keys[0]))
                })?;
                let v: Dynamic = v.clone();
                let s = v.into_immutable_string().map_err(|ty| {
                    errors::usage("add_aliases", format!("row {}: `{}` must be a string, not {ty}", i + 1, keys[0]))
                })?;
                convert::email_arg("add_aliases", &s)
            };
            pairs.push((text(&["emailAddress", "email"])?, text(&["alias"])?));
        }
        let dir = h.directory("add_aliases")?;
        let r = h.block_on("add_aliases", dir.add_aliases(&pairs))?;
        Ok(results(&r))
    });
}

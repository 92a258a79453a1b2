//! Bulk and idempotent script functions: `add_members`, `create_users`, `ensure_user`,
//! `ensure_member`, `ensure_group`. Bulk functions report failures per item instead of raising.

use std::rc::Rc;

use rhai::{Array, Dynamic, Engine, EvalAltResult, Map, NativeCallContext};

use super::convert::{self, NewUserOpts};
use super::host::Host;
use super::register::network;
use crate::api::paths;
use crate::api::users::NewUser;
use crate::directory::ensure::Ensure;

type Res<T> = Result<T, Box<EvalAltResult>>;

fn ensure_group(host: &Host, path: &str, parent: Option<&Dynamic>) -> Res<Dynamic> {
    let parent = parent
        .map(|p| convert::group_arg(host, "ensure_group", p))
        .transpose()?;
    let dir = host.directory("ensure_group")?;
    let (group, status) = host.block_on("ensure_group", dir.ensure_group(path, parent.as_ref()))?;
    let value = convert::with_field(
        convert::to_dyn("ensure_group", &group)?,
        "status",
        convert::status_name(status).into(),
    );
    host.saw_groups([group.description.as_str()]);
    Ok(value)
}

fn ensure_user(host: &Host, ctx: &NativeCallContext, opts: NewUserOpts) -> Res<Dynamic> {
    let email = convert::email_arg("ensure_user", &opts.email_address)?;
    if host.may_defer(ctx) {
        // Decided from the run's memory; a write queued for this user is sent first, so the
        // memory the decision reads has it.
        let dir = host.deferring(|| host.directory("ensure_user"))?;
        if dir.queue_touches(&email) {
            host.flush("ensure_user")?;
        }
        let wanted = opts.name.as_deref();
        let decided = host.block_on("ensure_user", dir.ensure_decision(&email, wanted))?;
        let write = match decided {
            Ensure::Create => Some((
                paths::CREATE_USER,
                serde_json::json!(NewUser {
                    email_address: email.clone(),
                    name: opts.name.clone(),
                }),
            )),
            Ensure::Rename { .. } => Some((
                paths::UPDATE_USER,
                serde_json::json!(crate::api::users::UserUpdate {
                    email_address: email.clone(),
                    name: Some(wanted.unwrap_or("").to_string()),
                    ..Default::default()
                }),
            )),
            Ensure::Synced | Ensure::Unchanged => None,
        };
        if let Some((endpoint, item)) = write {
            host.defer(ctx, "ensure_user", endpoint, &email, item, None)?;
        }
        host.saw_emails([email.as_str()]);
        return Ok(convert::queued_map(&email));
    }
    host.waited_alone("ensure_user");
    let dir = host.directory("ensure_user")?;
    let result = host.block_on("ensure_user", dir.ensure_user(&email, opts.name.as_deref()))?;
    host.saw_emails([email.as_str()]);
    Ok(convert::result_map(&result))
}

fn ensure_group_levels(host: &Host, path: &str, parent: Option<&Dynamic>) -> Res<Array> {
    let parent = parent
        .map(|p| convert::group_arg(host, "ensure_group_levels", p))
        .transpose()?;
    let dir = host.directory("ensure_group_levels")?;
    let levels = host.block_on(
        "ensure_group_levels",
        dir.ensure_group_levels(path, parent.as_ref()),
    )?;
    let mut out = Array::new();
    for (group, status) in levels {
        host.saw_groups([group.description.as_str()]);
        let value = convert::with_field(
            convert::to_dyn("ensure_group_levels", &group)?,
            "status",
            convert::status_name(status).into(),
        );
        out.push(value);
    }
    Ok(out)
}

/// The `(group, address)` pairs of `#{group, emailAddress}` rows, each group resolved once.
pub(crate) fn membership_pairs(
    h: &Host,
    function: &str,
    rows: &Array,
) -> Res<Vec<(crate::api::Group, String)>> {
    let mut pairs: Vec<(crate::api::Group, String)> = Vec::with_capacity(rows.len());
    let mut resolved: std::collections::HashMap<String, crate::api::Group> = Default::default();
    // The row before and its group: rows come in runs of one group (a workflow adds a
    // group's people together), and telling the next row's group is the same is cheaper
    // than building its key.
    let mut previous: Option<(rhai::DynamicReadLock<'_, Map>, usize)> = None;
    for (i, row) in rows.iter().enumerate() {
        let map = row.read_lock::<Map>().ok_or_else(|| {
            super::errors::usage(
                function,
                format!("row {} is not a map #{{group, emailAddress}}", i + 1),
            )
        })?;
        // Borrowed: a group map (its id alone ~250 characters) is not copied for each row.
        let group = map.get("group").ok_or_else(|| {
            super::errors::usage(function, format!("row {} has no `group`", i + 1))
        })?;
        let email = map
            .get("emailAddress")
            .or_else(|| map.get("email"))
            .and_then(|e| e.clone().into_immutable_string().ok())
            .ok_or_else(|| {
                super::errors::usage(function, format!("row {} has no `emailAddress`", i + 1))
            })?;
        let email = convert::email_arg(function, &email)?;
        let same = previous
            .as_ref()
            .and_then(|(before, at)| Some((before.get("group")?, *at)))
            .filter(|(before, _)| same_value(before, group))
            .map(|(_, at)| pairs[at].0.clone());
        let g = match same {
            Some(g) => g,
            None => {
                let key = group_key(group);
                match resolved.get(&key) {
                    Some(g) => g.clone(),
                    None => {
                        let g = convert::group_arg(h, function, group)?;
                        resolved.insert(key, g.clone());
                        g
                    }
                }
            }
        };
        pairs.push((g, email));
        previous = Some((map, pairs.len() - 1));
    }
    Ok(pairs)
}

/// Whether two rows' groups are the same value, as [`group_key`] tells them: maps field by
/// field, text by text, a value not a string by its type and text.
fn same_value(a: &Dynamic, b: &Dynamic) -> bool {
    if let (Some(x), Some(y)) = (a.read_lock::<Map>(), b.read_lock::<Map>()) {
        return x.len() == y.len()
            && x.iter()
                .zip(y.iter())
                .all(|((ka, va), (kb, vb))| ka == kb && same_value(va, vb));
    }
    if a.is_map() || b.is_map() {
        return false;
    }
    match (
        a.read_lock::<rhai::ImmutableString>(),
        b.read_lock::<rhai::ImmutableString>(),
    ) {
        (Some(x), Some(y)) => *x == *y,
        (None, None) => a.type_name() == b.type_name() && a.to_string() == b.to_string(),
        _ => false,
    }
}

/// What tells one `group` of [`membership_pairs`]' rows from another, without formatting
/// it: a map's fields, each name and text behind its length (a value not a string by its
/// type and text), or a name's or id's text. (Its
/// `to_string` was a third of the rows' cost: a group map's id alone is ~250 characters.)
fn group_key(group: &Dynamic) -> String {
    use std::fmt::Write as _;
    if let Some(map) = group.read_lock::<Map>() {
        let mut key = String::from("m");
        for (name, value) in map.iter() {
            // A value's type is part of it: an id `"[1]"` is not an id `[1]`.
            let text = match value.read_lock::<rhai::ImmutableString>() {
                Some(s) => s.to_string(),
                None => format!("{}:{value}", value.type_name()),
            };
            let _ = write!(key, "{}:{name}{}:{text}", name.len(), text.len());
        }
        return key;
    }
    format!("s{group}")
}

/// Found users as a script's map, keyed by lower-case address.
fn users_by_address(found: std::collections::HashMap<String, crate::api::User>) -> Res<Map> {
    let mut map = Map::new();
    for (key, user) in found {
        map.insert(key.into(), convert::to_dyn("find_users", &user)?);
    }
    Ok(map)
}

/// Registers the bulk and idempotent functions.
pub fn register(engine: &mut Engine, host: &Rc<Host>) {
    let h = host.clone();
    network("add_members", &["group: Dynamic", "emails: Array", "Array"], r#"
Adds many addresses to a group in batched requests. Returns one `#{emailAddress, status, message, code}` per address (`created`, `unchanged` or `failed`); failures do not raise.
```rhai
let results = add_members("All Staff", ["a@company.com", "b@company.com"]);
print(results.filter(|r| r.status == "failed").len());
```"#)
    .register_into_engine(engine, move |group: Dynamic, emails: Array| -> Res<Array> {
        let emails = convert::members_arg("add_members", &emails)?;
        let g = convert::group_arg(&h, "add_members", &group)?;
        let dir = h.directory("add_members")?;
        let results = h.block_on("add_members", dir.add_members(&g, &emails))?;
        Ok(results.iter().map(convert::result_map).collect())
    });

    let h = host.clone();
    network("add_memberships", &["rows: Array", "Array"], r#"
Adds many memberships of many groups at once, from maps `#{group, emailAddress}` (`group` a group map, id or name): the requests are batched across groups, so a thousand people joining two groups each cost one round of requests. Returns one `#{group, emailAddress, status, message, code}` per row; failures do not raise.
```rhai
let results = add_memberships([#{ group: "Sales", emailAddress: "a@company.com" }, #{ group: "All Staff", emailAddress: "a@company.com" }]);
```"#)
    // `&mut`: a variable passed (`add_memberships(wanted)`) is lent, not copied; pure, as
    // the rows are only read, so a constant (`m::ROWS`, `global::ROWS`) is lent too.
    .with_purity(true)
    .register_into_engine(engine, move |rows: &mut Array| -> Res<Array> {
        let pairs = membership_pairs(&h, "add_memberships", rows)?;
        let dir = h.directory("add_memberships")?;
        let results = h.block_on("add_memberships", dir.add_memberships(&pairs))?;
        Ok(results
            .iter()
            .zip(&pairs)
            .map(|(r, (g, _))| {
                convert::with_field(convert::result_map(r), "group", g.description.clone().into())
            })
            .collect())
    });

    let h = host.clone();
    network("create_users", &["rows: Array", "Array"], r#"
Creates many users in batched requests from maps `#{emailAddress, name}` (e.g. the rows of `read_csv`). Returns one result per row; an existing address is `failed` with `err_user_already_exists`.
```rhai
let results = create_users([#{ emailAddress: "a@company.com", name: "A" }]);
```"#)
    // `&mut`: a variable passed (`create_users(rows)`) is lent, not copied; pure, as the rows
    // are only read, so a constant (`m::ROWS`, `global::ROWS`) is lent too.
    .with_purity(true)
    .register_into_engine(engine, move |rows: &mut Array| -> Res<Array> {
        let mut users = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            let opts: NewUserOpts = convert::from_dyn("create_users", &format!("row {}", i + 1), row)?;
            let email = convert::email_arg("create_users", &opts.email_address)?;
            users.push(NewUser { email_address: email, name: opts.name.filter(|n| !n.is_empty()) });
        }
        let dir = h.directory("create_users")?;
        let results = h.block_on("create_users", dir.create_users(&users))?;
        Ok(results.iter().map(convert::result_map).collect())
    });

    let h = host.clone();
    network(
        "ensure_user",
        &["email: &str", "Map"],
        r#"
Makes sure the user exists: creates it if missing. Status `created` or `unchanged`. Decided from the run's memory of the domain; as a statement of its own at the script's top level outside `try`, the write it needs is queued like `add_member`'s.
```rhai
ensure_user("new.person@company.com");
```"#,
    )
    .register_into_engine(engine, move |ctx: NativeCallContext, email: &str| {
        ensure_user(
            &h,
            &ctx,
            NewUserOpts {
                email_address: email.into(),
                name: None,
            },
        )
    });

    let h = host.clone();
    network("ensure_user", &["email: &str", "name: &str", "Map"], r#"
Makes sure the user exists with this name: creates it, or renames it (`updated`), or leaves it (`unchanged`).
```rhai
ensure_user("new.person@company.com", "New Person");
```"#)
    .register_into_engine(engine, move |ctx: NativeCallContext, email: &str, name: &str| {
        ensure_user(&h, &ctx, NewUserOpts { email_address: email.into(), name: Some(name.into()) })
    });

    let h = host.clone();
    network(
        "ensure_user",
        &["user: Map", "Map"],
        r#"
`ensure_user` from a map `#{emailAddress, name}`.
```rhai
ensure_user(#{ emailAddress: "new.person@company.com", name: "New Person" });
```"#,
    )
    .register_into_engine(engine, move |ctx: NativeCallContext, user: Map| {
        let opts: NewUserOpts = convert::from_dyn("ensure_user", "user", &Dynamic::from_map(user))?;
        ensure_user(&h, &ctx, opts)
    });

    let h = host.clone();
    network(
        "ensure_member",
        &["group: Dynamic", "email: &str", "Map"],
        r#"
Makes sure an address is a member of a group: `created` or `unchanged`. A refusal raises.
```rhai
ensure_member("All Staff", "new.person@company.com");
```"#,
    )
    .register_into_engine(
        engine,
        move |ctx: NativeCallContext, group: Dynamic, email: &str| -> Res<Dynamic> {
            // Adding a member already is idempotent: ensure_member is add_member, queued alike.
            super::fn_groups::change(&h, &ctx, "ensure_member", &group, email, true)
        },
    );

    let h = host.clone();
    network("ensure_group", &["path: &str", "Map"], r#"
The group at a path like `"Engineering/Platform"`, creating each missing level. Returns the group map with a `status` of `created` or `unchanged`.
```rhai
let g = ensure_group("Engineering/Platform/SRE");
print(g.id);
```"#)
        .register_into_engine(engine, move |path: &str| ensure_group(&h, path, None));

    let h = host.clone();
    network(
        "ensure_group",
        &["path: &str", "parent: Dynamic", "Map"],
        r#"
`ensure_group` under `parent` (a group map, id or name) instead of at the top.
```rhai
let g = ensure_group("Platform/SRE", "Engineering");
```"#,
    )
    .register_into_engine(engine, move |path: &str, parent: Dynamic| {
        ensure_group(&h, path, Some(&parent))
    });

    let h = host.clone();
    network("ensure_group_levels", &["path: &str", "Array"], r#"
`ensure_group` reporting every level of the path: one map per level (`Engineering`, then `Engineering/Platform`), each with its `path` and `status` (`created`, `unchanged`, `planned`).
```rhai
for g in ensure_group_levels("Engineering/Platform/SRE") { print(`${g.path}: ${g.status}`) }
```"#)
    .register_into_engine(engine, move |path: &str| ensure_group_levels(&h, path, None));

    let h = host.clone();
    network(
        "ensure_group_levels",
        &["path: &str", "parent: Dynamic", "Array"],
        r#"
`ensure_group_levels` under `parent` (a group map, id or name) instead of at the top.
```rhai
let levels = ensure_group_levels("Platform/SRE", "Engineering");
```"#,
    )
    .register_into_engine(engine, move |path: &str, parent: Dynamic| {
        ensure_group_levels(&h, path, Some(&parent))
    });

    let h = host.clone();
    network("find_users", &["emails: Array", "Map"], r#"
The users among `emails`, keyed by lower-case address; addresses that are not users are absent. Reads each domain's users once, so it suits hundreds of addresses.
```rhai
let found = find_users(["a@company.com", "b@company.com"]);
if "a@company.com" in found { print(found["a@company.com"].name) }
```"#)
    .register_into_engine(engine, move |emails: Array| -> Res<Map> {
        let emails = convert::emails_arg("find_users", &emails)?;
        let dir = h.directory("find_users")?;
        let found = h.block_on("find_users", dir.find_users(&emails))?;
        users_by_address(found)
    });

    let h = host.clone();
    network("find_users", &["emails: Array", "options: Map", "Map"], r#"
`find_users` with options: `aliases: true` includes alias addresses, each with `alias: true` (an alias is an address of another user's mailbox, not a user of its own), so a list can be told which of its addresses are taken and by what, with the same one read of each domain. A domain read whole is kept for the run with its aliases: a later call reads it again only after the run changed an alias or the purge list.
```rhai
let found = find_users(["a@company.com", "al@company.com"], #{ aliases: true });
for e in found.keys() { if found[e].alias { print(`${e} is an alias`) } }
```"#)
    .register_into_engine(engine, move |emails: Array, options: Map| -> Res<Map> {
        let emails = convert::emails_arg("find_users", &emails)?;
        let mut aliases = false;
        for (key, value) in &options {
            match (key.as_str(), value.as_bool()) {
                ("aliases", Ok(b)) => aliases = b,
                ("aliases", Err(ty)) => {
                    return Err(super::errors::usage(
                        "find_users",
                        format!("option `aliases` is true or false, not {ty}"),
                    ))
                }
                (other, _) => {
                    return Err(super::errors::usage(
                        "find_users",
                        format!("unknown option `{other}` (it takes `aliases`)"),
                    ))
                }
            }
        }
        let dir = h.directory("find_users")?;
        let found = if aliases {
            h.block_on("find_users", dir.find_addresses(&emails))?
        } else {
            h.block_on("find_users", dir.find_users(&emails))?
        };
        users_by_address(found)
    });
}

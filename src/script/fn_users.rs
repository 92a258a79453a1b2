//! Script functions for users: `users`, `user`, `create_user`, `update_user`, `add_alias`,
//! `delete_user`, `restore_user`.

use std::rc::Rc;

use rhai::{Array, Dynamic, Engine, EvalAltResult, Map, NativeCallContext};

use super::convert::{self, NewUserOpts, UpdateOpts};
use super::errors;
use super::host::Host;
use super::register::network;
use crate::api::users::UserUpdate;
use crate::api::{paths, User};

type Res<T> = Result<T, Box<EvalAltResult>>;

fn list(host: &Host, function: &str, domain: Option<&str>) -> Res<Array> {
    let dir = host.directory(function)?;
    let users: Vec<User> = host.block_on(function, async {
        let mut listing = dir.users(domain).await?;
        let mut all = Vec::new();
        while let Some(batch) = listing.next_batch().await? {
            all.extend(batch);
        }
        Ok(all)
    })?;
    host.saw_emails(users.iter().map(|u| u.email_address.as_str()));
    convert::to_array(function, &users)
}

/// `users()`: a stream where a `for` loop iterates it directly, an array elsewhere.
fn listing(host: &Host, ctx: &NativeCallContext, domain: Option<&str>) -> Res<Dynamic> {
    if host.may_stream(ctx) {
        let dir = host.directory("users")?;
        let stream = super::stream::UserStream::start(
            dir,
            domain.map(str::to_string),
            host.runtime().clone(),
            host.interrupt().clone(),
        );
        return Ok(Dynamic::from(stream));
    }
    list(host, "users", domain).map(Dynamic::from_array)
}

fn create(host: &Host, ctx: &NativeCallContext, opts: NewUserOpts) -> Res<Dynamic> {
    let email = convert::email_arg("create_user", &opts.email_address)?;
    if host.may_defer(ctx) {
        let item = serde_json::json!(crate::api::users::NewUser {
            email_address: email.clone(),
            name: opts.name.clone(),
        });
        host.defer(ctx, "create_user", paths::CREATE_USER, &email, item, None)?;
        host.saw_emails([email.as_str()]);
        return Ok(convert::queued_map(&email));
    }
    host.waited_alone("create_user");
    let dir = host.directory("create_user")?;
    let created = host.block_on("create_user", dir.create_user(&email, opts.name.as_deref()))?;
    host.saw_emails([email.as_str()]);
    convert::to_dyn("create_user", &created)
}

fn set_deleted(
    host: &Host,
    ctx: &NativeCallContext,
    function: &str,
    email: &str,
    delete: bool,
) -> Res<Dynamic> {
    let email = convert::email_arg(function, email)?;
    if delete {
        host.ask_first(function, &format!("queue {email} for deletion"))?;
    }
    if host.may_defer(ctx) {
        let endpoint = if delete {
            paths::ADD_TO_PURGE_LIST
        } else {
            paths::REMOVE_FROM_PURGE_LIST
        };
        let item = serde_json::json!({ "emailAddresses": [email] });
        host.defer(ctx, function, endpoint, &email, item, None)?;
        return Ok(convert::queued_map(&email));
    }
    host.waited_alone(function);
    let dir = host.directory(function)?;
    let result = host.block_on(function, dir.set_deleted(&email, delete))?;
    if delete {
        host.tell(&format!("{email}: {}", result.message));
    }
    Ok(convert::result_map(&result))
}

/// Registers the user functions.
pub fn register(engine: &mut Engine, host: &Rc<Host>) {
    let h = host.clone();
    network(
        "users",
        &["Array"],
        r#"
Every user (mailbox) of every internal domain, as maps with `emailAddress`, `name`, `domain`,
`alias` (always `false`: alias addresses, which the service lists as rows of their own, are
left out), `addressType` and `source` (`cloud`, or `ldap` when directory sync manages the user).
`for u in users() { ... }` reads a page at a time (the loop starts after the first page and
holds about two, whatever the tenant's size); `users()` anywhere else is an array of them all.
```rhai
for u in users() { if u.name == "" { print(u.emailAddress) } }
```"#,
    )
    .register_into_engine(engine, move |ctx: NativeCallContext| {
        listing(&h, &ctx, None)
    });

    let h = host.clone();
    network(
        "users",
        &["domain: &str", "Array"],
        r#"
The users of one internal domain.
```rhai
let people = users("example.com");
print(people.len());
```"#,
    )
    .register_into_engine(engine, move |ctx: NativeCallContext, domain: &str| {
        listing(&h, &ctx, Some(domain))
    });

    let h = host.clone();
    network(
        "user",
        &["email: &str", "Dynamic"],
        r#"
The user with this address as a map, or `()` when there is none; `aliases` lists its alias
addresses (an empty list when it has none). An address outside the account's internal domains
raises `err_domain_not_internal`: a mistyped domain is told, not taken for "no such user". Cost: the user's domain is read once a run, page by page only as far as needed, so
a loop of lookups reads each domain at most once; its aliases are one request, sent only when
the script may see them: a call whose value is only compared with `()` or has other fields
read (`user(e) != ()`, `user(e).name`, or `let u = user(e)` with only `u.name`-style reads
and `u == ()` after it) sends none.
```rhai
let u = user("alice.anderson@company.com");
if u != () { print(u.name) }
```"#,
    )
    .register_into_engine(
        engine,
        move |ctx: NativeCallContext, email: &str| -> Res<Dynamic> {
            let email = convert::email_arg("user", email)?;
            let dir = h.directory("user")?;
            let found = if h.aliases_unseen(&ctx) {
                h.block_on("user", dir.find_user(&email))?
            } else {
                h.block_on("user", dir.user_with_aliases(&email))?
            };
            match found {
                // `aliases` is always there, a list even when empty (`u.aliases.len()`).
                Some(u) => convert::to_dyn_with("user", &u, "aliases", || {
                    Dynamic::from_array(rhai::Array::new())
                }),
                None => Ok(Dynamic::UNIT),
            }
        },
    );

    let h = host.clone();
    network("create_user", &["email: &str", "Map"], r#"
Creates an internal user and returns `#{emailAddress, id, name}`. An existing address raises `err_user_already_exists`. Batched twin: `create_users`. Queued and batched as a statement of its own at the script's top level outside `try` (see `add_member`); otherwise it waits for its answer.
```rhai
create_user("new.person@company.com");
```"#)
    .register_into_engine(engine, move |ctx: NativeCallContext, email: &str| create(&h, &ctx, NewUserOpts { email_address: email.into(), name: None }));

    let h = host.clone();
    network(
        "create_user",
        &["email: &str", "name: &str", "Map"],
        r#"
Creates an internal user with a display name.
```rhai
create_user("new.person@company.com", "New Person");
```"#,
    )
    .register_into_engine(
        engine,
        move |ctx: NativeCallContext, email: &str, name: &str| {
            create(
                &h,
                &ctx,
                NewUserOpts {
                    email_address: email.into(),
                    name: Some(name.into()),
                },
            )
        },
    );

    let h = host.clone();
    network("create_user", &["options: Map", "Map"], r#"
Creates an internal user from a map: `#{emailAddress, name}` (`email` works for `emailAddress`). Unknown keys are an error.
```rhai
create_user(#{ emailAddress: "new.person@company.com", name: "New Person" });
```"#)
    .register_into_engine(engine, move |ctx: NativeCallContext, options: Map| {
        let opts: NewUserOpts = convert::from_dyn("create_user", "options", &Dynamic::from_map(options))?;
        create(&h, &ctx, opts)
    });

    let h = host.clone();
    network("update_user", &["email: &str", "changes: Map", "Map"], r#"
Changes a user: `#{name, accountLocked, accountDisabled}` (any of them). Returns the user's settings. Batched twins: `update_users`, `lock_users`, `unlock_users`. Queued and batched as a statement of its own at the script's top level outside `try` (see `add_member`); otherwise it waits for its answer.
```rhai
update_user("bob.hughes@company.com", #{ name: "Robert Hughes", accountLocked: false });
```"#)
    .register_into_engine(engine, move |ctx: NativeCallContext, email: &str, changes: Map| -> Res<Dynamic> {
        let email = convert::email_arg("update_user", email)?;
        let opts: UpdateOpts = convert::from_dyn("update_user", "changes", &Dynamic::from_map(changes))?;
        if opts.name.is_none() && opts.account_locked.is_none() && opts.account_disabled.is_none() {
            return Err(errors::usage("update_user", "nothing to change: give name, accountLocked or accountDisabled"));
        }
        let update = UserUpdate { email_address: email, name: opts.name, account_locked: opts.account_locked, account_disabled: opts.account_disabled };
        if h.may_defer(&ctx) {
            h.defer(&ctx, "update_user", paths::UPDATE_USER, &update.email_address, serde_json::json!(update), None)?;
            return Ok(convert::queued_map(&update.email_address));
        }
        h.waited_alone("update_user");
        let dir = h.directory("update_user")?;
        let answered = h.block_on("update_user", dir.update_user(&update))?;
        convert::to_dyn("update_user", &answered)
    });

    let h = host.clone();
    network(
        "add_alias",
        &["email: &str", "alias: &str", "()"],
        r#"
Adds `alias` as another address of the user `email`.
```rhai
add_alias("bob.hughes@company.com", "bob@company.com");
```"#,
    )
    .register_into_engine(
        engine,
        move |ctx: NativeCallContext, email: &str, alias: &str| -> Res<()> {
            let email = convert::email_arg("add_alias", email)?;
            let alias = convert::email_arg("add_alias", alias)?;
            if h.may_defer(&ctx) {
                let item = serde_json::json!({ "alias": alias, "aliasFor": email });
                return h.defer(&ctx, "add_alias", paths::UPDATE_ALIAS, &email, item, None);
            }
            h.waited_alone("add_alias");
            let dir = h.directory("add_alias")?;
            h.block_on("add_alias", dir.add_alias(&email, &alias))
        },
    );

    let h = host.clone();
    network("delete_user", &["email: &str", "Map"], r#"
Deletes a user: queues it on Mimecast's purge list (there is no hard delete). `restore_user` undoes it until the purge runs. Batched twin: `delete_users`. Queued and batched as a statement of its own at the script's top level outside `try` (see `add_member`); otherwise it waits for its answer.
```rhai
delete_user("leaver@company.com");
```"#)
    .register_into_engine(engine, move |ctx: NativeCallContext, email: &str| set_deleted(&h, &ctx, "delete_user", email, true));

    let h = host.clone();
    network(
        "restore_user",
        &["email: &str", "Map"],
        r#"
Takes a deleted user back off the purge list.
```rhai
restore_user("leaver@company.com");
```"#,
    )
    .register_into_engine(engine, move |ctx: NativeCallContext, email: &str| {
        set_deleted(&h, &ctx, "restore_user", email, false)
    });
}

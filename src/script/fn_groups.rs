//! Script functions for groups and membership: `groups`, `group`, `create_group`,
//! `rename_group`, `delete_group`, `members`, `add_member`, `remove_member`, `groups_of`.

use std::rc::Rc;

use rhai::{Array, Dynamic, Engine, EvalAltResult, NativeCallContext};

use super::convert;
use super::errors;
use super::host::Host;
use super::register::network;
use crate::api::{paths, Group};
use crate::directory::{DirError, Status};

type Res<T> = Result<T, Box<EvalAltResult>>;

fn list(host: &Host, query: Option<&str>) -> Res<Array> {
    let dir = host.directory("groups")?;
    let groups = host.block_on("groups", dir.list_groups(query))?;
    host.saw_groups(groups.iter().map(|g| g.description.as_str()));
    convert::to_array("groups", &groups)
}

fn create(host: &Host, name: &str, parent: Option<&Dynamic>) -> Res<Dynamic> {
    if name.trim().is_empty() {
        return Err(errors::usage("create_group", "the group name is empty"));
    }
    let parent = parent
        .map(|p| convert::group_arg(host, "create_group", p))
        .transpose()?;
    let dir = host.directory("create_group")?;
    let group = host.block_on(
        "create_group",
        dir.create_group(name.trim(), parent.as_ref()),
    )?;
    host.saw_groups([group.description.as_str()]);
    convert::to_dyn("create_group", &group)
}

/// `add_member` and `remove_member` (and `ensure_member`): queued where the script goes on
/// without the answer, sent at once otherwise.
pub(crate) fn change(
    host: &Host,
    ctx: &NativeCallContext,
    function: &str,
    group: &Dynamic,
    email: &str,
    add: bool,
) -> Res<Dynamic> {
    let email = convert::member_arg(function, email)?;
    let defer = host.may_defer(ctx);
    let group = host.deferring(|| convert::group_arg(host, function, group))?;
    if defer && !group.is_synced() {
        let endpoint = if add {
            paths::ADD_GROUP_MEMBER
        } else {
            paths::REMOVE_GROUP_MEMBER
        };
        let item = crate::directory::groups::member_item(&group.id, &email);
        host.defer(
            ctx,
            function,
            endpoint,
            &email,
            item,
            Some(group.description),
        )?;
        return Ok(convert::queued_map(&email));
    }
    host.waited_alone(function);
    let dir = host.directory(function)?;
    let emails = [email];
    let mut results = if add {
        host.block_on(function, dir.add_members(&group, &emails))?
    } else {
        host.block_on(function, dir.remove_members(&group, &emails))?
    };
    let result = results.pop().expect("one result per address");
    if result.status == Status::Failed {
        let code = result.code.clone().unwrap_or_else(|| "failed".into());
        return Err(errors::raise(
            function,
            &code,
            &result.message,
            false,
            200,
            "api",
        ));
    }
    Ok(convert::result_map(&result))
}

/// Registers the group functions.
pub fn register(engine: &mut Engine, host: &Rc<Host>) {
    let h = host.clone();
    network("groups", &["Array"], r#"
Every group, as maps with `id`, `description` (the name), `parentId`, `userCount`, `folderCount`, `source`. Cost: the list is read once a run and kept current with the run's own creates, renames and deletes.
```rhai
for g in groups() { print(`${g.description}: ${g.userCount}`) }
```"#)
    .register_into_engine(engine, move || list(&h, None));

    let h = host.clone();
    network(
        "groups",
        &["query: &str", "Array"],
        r#"
The groups whose name contains `query`, ignoring case.
```rhai
let sales = groups("sales");
```"#,
    )
    .register_into_engine(engine, move |query: &str| list(&h, Some(query)));

    let h = host.clone();
    network("group", &["id_or_name: &str", "Dynamic"], r#"
The group with this id or name as a map, or `()` when there is none. A name several groups share raises an error listing them. Cost: answered from the run's one listing of groups.
```rhai
let eng = group("Engineering");
print(eng.id);
```"#)
    .register_into_engine(engine, move |spec: &str| -> Res<Dynamic> {
        let dir = h.directory("group")?;
        let found = h.runtime_resolve(&dir, spec)?;
        match found {
            Some(g) => convert::to_dyn("group", &g),
            None => Ok(Dynamic::UNIT),
        }
    });

    let h = host.clone();
    network("similar_groups", &["name: &str", "Array"], r#"
The paths of up to five groups whose name or path is close to `name` (a typo, a different case, a part of the name), closest first: what "did you mean" offers.
```rhai
print(similar_groups("Enginering"));   // ["Engineering"]
```"#)
    .register_into_engine(engine, move |name: &str| -> Res<Array> {
        let dir = h.directory("similar_groups")?;
        let all = h.block_on("similar_groups", dir.list_groups(None))?;
        Ok(crate::directory::groups::similar_groups(&all, name)
            .into_iter()
            .map(Dynamic::from)
            .collect())
    });

    let h = host.clone();
    network("groups_named", &["names: Array", "Map"], r#"
Each of `names` (ids, names or paths like `Engineering/Platform`) resolved with one listing of every group: a map from each name to its group, or to `()` when no group has it. A name several groups share raises an error listing them.
```rhai
let found = groups_named(["Sales", "Engineering/Platform", "Nope"]);
print(found["Nope"] == ());
```"#)
    .register_into_engine(engine, move |names: Array| -> Res<rhai::Map> {
        let specs: Vec<String> = names
            .iter()
            .map(|n| {
                n.clone().into_immutable_string().map(|s| s.to_string()).map_err(|ty| {
                    errors::usage("groups_named", format!("group names must be strings, not {ty}"))
                })
            })
            .collect::<Res<_>>()?;
        let dir = h.directory("groups_named")?;
        let found = h.block_on("groups_named", dir.resolve_groups(&specs))?;
        let mut map = rhai::Map::new();
        for (spec, g) in specs.iter().zip(found) {
            let value = match g {
                Some(g) => {
                    h.saw_groups([g.description.as_str()]);
                    convert::to_dyn("groups_named", &g)?
                }
                None => Dynamic::UNIT,
            };
            map.insert(spec.as_str().into(), value);
        }
        Ok(map)
    });

    let h = host.clone();
    network(
        "create_group",
        &["name: &str", "Map"],
        r#"
Creates a root group and returns it. A sibling of the same name raises `err_folder_already_exists`.
```rhai
let g = create_group("Project X");
```"#,
    )
    .register_into_engine(engine, move |name: &str| create(&h, name, None));

    let h = host.clone();
    network(
        "create_group",
        &["name: &str", "parent: Dynamic", "Map"],
        r#"
Creates a group under `parent` (a group map, id or name).
```rhai
create_group("Platform", "Engineering");
```"#,
    )
    .register_into_engine(engine, move |name: &str, parent: Dynamic| {
        create(&h, name, Some(&parent))
    });

    let h = host.clone();
    network(
        "rename_group",
        &["group: Dynamic", "name: &str", "Map"],
        r#"
Renames a group (a group map, id or name) and returns it.
```rhai
rename_group("Project X", "Project Y");
```"#,
    )
    .register_into_engine(engine, move |group: Dynamic, name: &str| -> Res<Dynamic> {
        if name.trim().is_empty() {
            return Err(errors::usage("rename_group", "the new name is empty"));
        }
        let g = convert::group_arg(&h, "rename_group", &group)?;
        let dir = h.directory("rename_group")?;
        let renamed = h.block_on("rename_group", dir.rename_group(&g, name.trim()))?;
        convert::to_dyn("rename_group", &renamed)
    });

    let h = host.clone();
    network(
        "delete_group",
        &["group: Dynamic", "()"],
        r#"
Deletes a group. Mimecast refuses a group with members or child groups (`err_folder_not_empty`).
```rhai
delete_group("Project Y");
```"#,
    )
    .register_into_engine(engine, move |group: Dynamic| -> Res<()> {
        let g = convert::group_arg(&h, "delete_group", &group)?;
        let shown = if g.path.is_empty() {
            &g.description
        } else {
            &g.path
        };
        h.ask_first("delete_group", &format!("delete group {shown:?}"))?;
        let dir = h.directory("delete_group")?;
        h.block_on("delete_group", dir.delete_group(&g))?;
        h.tell(&format!("deleted group {shown:?}"));
        Ok(())
    });

    let h = host.clone();
    network("members", &["group: Dynamic", "Array"], r#"
The members of a group (map, id or name): maps with `emailAddress`, `name`, `domain`, `type`, `internal` and `isDomain`. A whole-domain member has `isDomain: true` and an empty `emailAddress`; `remove_member(group, m.domain)` removes it. Cost: a group's members are read once a run and kept current with the run's own adds and removes.
```rhai
for m in members("Engineering") { print(m.emailAddress) }
```"#)
    .register_into_engine(engine, move |group: Dynamic| -> Res<Array> {
        let g = convert::group_arg(&h, "members", &group)?;
        let dir = h.directory("members")?;
        let members = h.block_on("members", dir.members(&g))?;
        h.saw_emails(members.iter().map(|m| m.email_address.as_str()));
        convert::member_maps("members", &members)
    });

    let h = host.clone();
    network("add_member", &["group: Dynamic", "email: &str", "Map"], r#"
Adds an address (or, given a domain such as `example.com`, that whole domain) to a group. Returns `#{emailAddress, status, message}` where status is `created`, or `unchanged` when it already was a member. A refusal raises. Cost: the group is found in the run's one listing of groups. As a statement of its own at the script's top level, outside `try`, the write is queued and sent with the others in batches, so a loop of them costs what the batched twin costs; a refusal then stops the script at this line. Used (`let r = ...`) or inside `try`, it waits for its answer.
```rhai
add_member("All Staff", "new.person@company.com");
```"#)
    .register_into_engine(engine, move |ctx: NativeCallContext, group: Dynamic, email: &str| change(&h, &ctx, "add_member", &group, email, true));

    let h = host.clone();
    network(
        "remove_member",
        &["group: Dynamic", "email: &str", "Map"],
        r#"
Removes an address (or a whole-domain member, given its domain) from a group. Status `removed`, or `unchanged` when it was not a member. Batched twin: `remove_members`. Cost: the group is found in the run's one listing of groups. As a statement of its own at the script's top level, outside `try`, the write is queued and sent with the others in batches, so a loop of them costs what the batched twin costs; a refusal then stops the script at this line. Used (`let r = ...`) or inside `try`, it waits for its answer.
```rhai
remove_member("Sales", "leaver@company.com");
```"#,
    )
    .register_into_engine(
        engine,
        move |ctx: NativeCallContext, group: Dynamic, email: &str| {
            change(&h, &ctx, "remove_member", &group, email, false)
        },
    );

    let h = host.clone();
    network("groups_of", &["email: &str", "Array"], r#"
The effective groups of an address: those it is a direct member of, then, each with a `via`, those holding its whole domain (`via: "domain example.com"`) and those above any of these (`via: "group Engineering/Platform"`). Mimecast has no call for this, so it reads the members of every group (concurrently) once a run; later calls in the run answer from that scan, kept current with the run's own membership changes.
```rhai
for g in groups_of("alice.anderson@company.com") { print(`${g.path} ${g.via ?? ""}`) }
```"#)
    .register_into_engine(engine, move |email: &str| -> Res<Array> {
        let email = convert::email_arg("groups_of", email)?;
        let dir = h.directory("groups_of")?;
        let index = h.block_on("groups_of", dir.membership_index())?;
        memberships(&index.effective(&email))
    });
}

/// Registers `groups_of(emails)`: one scan for many addresses.
pub fn register_many(engine: &mut Engine, host: &Rc<Host>) {
    let h = host.clone();
    network("groups_of", &["emails: Array", "Map"], r#"
For each address, its effective groups as `groups_of(email)` gives them (direct ones without `via`), keyed by lower-case address (an empty array for none). One scan of every group's members serves them all.
```rhai
let index = groups_of(["a@company.com", "b@company.com"]);
print(index["a@company.com"].len());
```"#)
    .register_into_engine(engine, move |emails: Array| -> Res<rhai::Map> {
        let emails = convert::emails_arg("groups_of", &emails)?;
        let dir = h.directory("groups_of")?;
        let index = h.block_on("groups_of", dir.membership_index())?;
        let mut map = rhai::Map::new();
        for e in emails {
            let found = memberships(&index.effective(&e))?;
            map.insert(e.to_ascii_lowercase().into(), Dynamic::from_array(found));
        }
        Ok(map)
    });
}

/// Effective memberships as group maps, the indirect ones with `via`.
fn memberships(found: &[crate::directory::membership::Membership]) -> Res<Array> {
    found
        .iter()
        .map(|m| {
            let value = convert::to_dyn("groups_of", &m.group)?;
            Ok(match &m.via {
                Some(via) => convert::with_field(value, "via", via.clone().into()),
                None => value,
            })
        })
        .collect()
}

impl Host {
    /// `group(x)`: the group, `None` when nothing matches, an error when ambiguous.
    fn runtime_resolve(&self, dir: &crate::directory::Directory, spec: &str) -> Res<Option<Group>> {
        let found = self.block_on("group", async {
            match dir.resolve_group(spec).await {
                Ok(g) => Ok(Some(g)),
                Err(DirError::GroupNotFound { .. }) => Ok(None),
                Err(e) => Err(e),
            }
        })?;
        if let Some(g) = &found {
            self.saw_groups([g.description.as_str()]);
        }
        Ok(found)
    }
}

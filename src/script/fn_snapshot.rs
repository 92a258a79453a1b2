//! `snapshot()` and `diff(a, b)`: the tenant as one map, and what changed between two.

use std::rc::Rc;

use rhai::{Dynamic, Engine, EvalAltResult};

use super::convert;
use super::errors;
use super::host::Host;
use super::register::{local, network};
use crate::snapshot::{diff, Snapshot};

type Res<T> = Result<T, Box<EvalAltResult>>;

/// Registers `snapshot` and `diff`.
pub fn register(engine: &mut Engine, host: &Rc<Host>) {
    let h = host.clone();
    network(
        "snapshot",
        &["Map"],
        r#"
The whole tenant as one map, as `mcsh snapshot` writes it: `#{format, taken, tenant, domains,
users, groups, members}` (`members` maps each group id to its members). The reads run
concurrently under the rate budget.
```rhai
let before = snapshot();
print(`${before.users.len()} users, ${before.groups.len()} groups`);
```"#,
    )
    .register_into_engine(engine, move || -> Res<Dynamic> {
        let tenant = h.tenant("snapshot")?;
        let dir = h.directory("snapshot")?;
        let snap = h.block_on("snapshot", dir.snapshot(tenant))?;
        convert::to_dyn("snapshot", &snap)
    });

    local(
        "diff",
        &["before: Map", "after: Map", "Map"],
        r#"
What changed from snapshot `before` to snapshot `after` (maps from `snapshot()` or
`read_json` of a snapshot file): `#{equal, changes, byPerson, byGroup}`, each change
`#{change, subject, detail}` (`user added`, `user removed`, `user renamed`, `group added`,
`group removed`, `group renamed`, `group moved`, `joined`, `left`).
```rhai
let before = read_json("before.json");
let d = diff(before, snapshot());
for c in d.changes { print(`${c.change}: ${c.subject} ${c.detail}`); }
```"#,
        false,
    )
    .register_into_engine(
        engine,
        |before: rhai::Map, after: rhai::Map| -> Res<Dynamic> {
            let a = checked("before", Dynamic::from_map(before))?;
            let b = checked("after", Dynamic::from_map(after))?;
            convert::to_dyn("diff", &diff::diff(&a, &b))
        },
    );
}

/// A snapshot map read and checked; what is wrong names the argument.
fn checked(which: &str, value: Dynamic) -> Res<Snapshot> {
    let snap: Snapshot = convert::from_dyn("diff", which, &value)?;
    if snap.format != crate::snapshot::FORMAT {
        return Err(errors::usage(
            "diff",
            format!(
                "{which} is of format {:?}; this mcsh reads {:?}",
                snap.format,
                crate::snapshot::FORMAT
            ),
        ));
    }
    snap.check()
        .map_err(|e| errors::usage("diff", format!("{which}: {e}")))?;
    Ok(snap)
}

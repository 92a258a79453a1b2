//! `sync_feed(rows, options)`: the directory made to match a feed, with the same plan and
//! safety limit as `mcsh sync` (`sync` itself is a word Rhai reserves).

use std::rc::Rc;

use rhai::{Array, Engine, EvalAltResult, Map};
use serde::Deserialize;

use super::convert;
use super::host::Host;
use super::register::network;
use crate::directory::sync::{SyncOptions, Wanted};

type Res<T> = Result<T, Box<EvalAltResult>>;

/// `sync` options, read strictly.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Opts {
    manage: Vec<String>,
    manage_all: bool,
    offboard_missing: Vec<String>,
    max_removals: Option<i64>,
    max_renames: Option<i64>,
    create_groups: bool,
}

/// A feed row: `#{email, name?, groups?}`; groups an array or a `;`-separated string.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Row {
    #[serde(alias = "emailAddress")]
    email: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    groups: Option<Groups>,
    /// The file line `read_people` records; not used here.
    #[serde(default)]
    #[allow(dead_code)]
    line: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Groups {
    List(Vec<String>),
    Text(String),
}

/// Registers `sync_feed`.
pub fn register(engine: &mut Engine, host: &Rc<Host>) {
    let h = host.clone();
    network(
        "sync_feed",
        &["rows: Array", "options: Map", "Array"],
        r#"
Makes the directory match `rows` (each `#{email, name, groups}`, as `read_people` gives them):
creates missing users, fixes names, adds memberships; removes memberships only from the
groups in `manage` (or every group with `manage_all: true`) and offboards the users of the
domains in `offboard_missing` that the rows do not list. Removals above `max_removals`
(default: per scope, 10 %, at least 5, of each managed group's members and of each offboarded domain's users), and renames above `max_renames` (default 10 %, at least 5, of the users in the rows' domains), stop it before any write. Options:
`manage`, `manage_all`, `offboard_missing`, `max_removals`, `max_renames`, `create_groups`. Returns the report
rows `#{emailAddress, step, status, message}`; none when the directory already matches.
```rhai
let feed = read_people("hr.csv", ["email", "name", "groups"]);
let rows = sync_feed(feed, #{ manage: ["Engineering"] });
```"#,
    )
    .register_into_engine(engine, move |rows: Array, options: Map| -> Res<Array> {
        let opts: Opts =
            convert::from_dyn("sync_feed", "options", &rhai::Dynamic::from_map(options))?;
        let mut feed = Vec::with_capacity(rows.len());
        for (i, r) in rows.iter().enumerate() {
            let row: Row = convert::from_dyn("sync_feed", &format!("row {}", i + 1), r)?;
            let email = convert::email_arg("sync_feed", &row.email)?;
            let groups = match row.groups {
                Some(Groups::List(l)) => l,
                Some(Groups::Text(t)) => crate::output::split_list(&t)
                    .into_iter()
                    .map(|g| g.trim().to_string())
                    .filter(|g| !g.is_empty())
                    .collect(),
                None => Vec::new(),
            };
            feed.push(Wanted {
                email,
                name: row.name,
                groups,
            });
        }
        let options = SyncOptions {
            manage: opts.manage,
            manage_all: opts.manage_all,
            offboard_missing: opts.offboard_missing,
            max_removals: opts.max_removals.map(|n| n.max(0) as usize),
            max_renames: opts.max_renames.map(|n| n.max(0) as usize),
            create_groups: opts.create_groups,
        };
        let dir = h.directory("sync_feed")?;
        let plan = h.block_on("sync_feed", dir.plan_sync(&feed, &options))?;
        let rows = h.block_on("sync_feed", dir.run_sync(&plan))?;
        rows.iter()
            .map(|r| convert::to_dyn("sync_feed", r))
            .collect()
    });
}

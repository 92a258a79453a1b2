//! `mcsh sync --csv FEED`: the directory made to match a desired-state CSV.

use anyhow::Context as _;
use serde_json::json;

use super::report::{Partial, Usage};
use super::Ctx;
use crate::directory::sync::{SyncOptions, Wanted};
use crate::directory::Status;
use crate::output::Shape;
use crate::script::fn_people::{parse_people, PeopleError};

/// `mcsh sync` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct SyncArgs {
    /// The feed: a CSV with the columns email,name,groups (groups separated by ;)
    #[arg(long, value_name = "FILE")]
    pub csv: String,
    /// A group whose members the feed decides: members it does not place there leave (repeatable)
    #[arg(long, value_name = "GROUP")]
    pub manage: Vec<String>,
    /// Every group's members are decided by the feed
    #[arg(long, conflicts_with = "manage")]
    pub manage_all: bool,
    /// Offboard the users of DOMAIN that the feed does not list (repeatable)
    #[arg(long, value_name = "DOMAIN")]
    pub offboard_missing: Vec<String>,
    /// Most removals and offboardings allowed [default: per scope, 10 % (at least 5) of each managed group's members and of each offboarded domain's users]
    #[arg(long, value_name = "N")]
    pub max_removals: Option<usize>,
    /// Most renames allowed [default: 10 % (at least 5) of the users in the feed's domains]
    #[arg(long, value_name = "N")]
    pub max_renames: Option<usize>,
    /// Create the feed's groups that do not exist instead of stopping
    #[arg(long)]
    pub create_groups: bool,
}

/// Reads and checks the feed as a whole: a bad address, a repeated one, a missing column stop
/// it with line numbers before anything is read from the directory.
fn read_feed(path: &str) -> anyhow::Result<Vec<Wanted>> {
    let bytes = crate::files::read_bounded(path, crate::files::MAX_INPUT_BYTES)
        .map_err(|e| Usage(format!("{path}: {e}")))?;
    let columns: Vec<String> = ["email", "name", "groups"].map(String::from).to_vec();
    let people = parse_people(&bytes, &columns).map_err(|e| match e {
        PeopleError::MissingColumns(m) | PeopleError::Bad(m) => Usage(format!("{path}: {m}")),
    })?;
    Ok(people
        .into_iter()
        .map(|p| Wanted {
            email: p.email,
            name: p.name,
            groups: p.groups.unwrap_or_default(),
        })
        .collect())
}

/// Plans, shows the plan, asks (or `--yes`), carries it out and reports every step.
pub async fn run(ctx: &mut Ctx, a: SyncArgs) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let feed = read_feed(&a.csv)?;
    let options = SyncOptions {
        manage: a.manage,
        manage_all: a.manage_all,
        offboard_missing: a.offboard_missing,
        max_removals: a.max_removals,
        max_renames: a.max_renames,
        create_groups: a.create_groups,
    };
    let dir = ctx.directory().await?;
    let plan = dir.plan_sync(&feed, &options).await.context("sync")?;
    if plan.is_empty() {
        let left = match plan.left_alone.len() {
            0 => String::new(),
            n => {
                format!("; {n} difference(s) left alone, managed by directory sync (listed below)")
            }
        };
        ctx.note(&format!(
            "sync: nothing to do; the directory already matches {} ({} people){left}",
            a.csv,
            feed.len()
        ));
        let mut printer = ctx.printer(Shape::List, &["emailAddress", "step", "status", "message"]);
        for r in &plan.left_alone {
            printer.row(&json!(r))?;
        }
        printer.finish()?;
        return Ok(());
    }
    ctx.note(&format!(
        "sync plan: {} ({} removals of at most {})",
        plan.summary(),
        plan.removals(),
        plan.limit
    ));
    if !ctx.global.dry_run && !ctx.confirm("carry out this sync")? {
        return Err(Usage("cancelled; nothing was changed".into()).into());
    }
    let rows = dir.run_sync(&plan).await?;
    ctx.bar.finish();
    let mut printer = ctx.printer(Shape::List, &["emailAddress", "step", "status", "message"]);
    for r in &rows {
        printer.row(&json!(r))?;
    }
    printer.finish()?;
    let failed = rows.iter().filter(|r| r.status == Status::Failed).count();
    let st = dir.client().stats();
    ctx.note(&format!(
        "sync: {} step(s), {failed} failed, in {:.1} s ({} requests)",
        rows.len(),
        started.elapsed().as_secs_f64(),
        st.requests
    ));
    Partial::check(failed, rows.len())
}

//! `mcsh undo RUN_ID | --last`: take back what a run did, from the audit log.

use anyhow::Context as _;
use serde_json::json;

use super::report::{Partial, Usage};
use super::Ctx;
use crate::directory::audit;
use crate::directory::undo::{self, Step};
use crate::directory::Status;
use crate::output::Shape;

/// Shows the inverse of run `run` (or the last one), asks, and carries it out.
pub async fn run(ctx: &mut Ctx, run: Option<&str>, last: bool) -> anyhow::Result<()> {
    let path = audit::default_path(&|k| std::env::var(k).ok());
    let log = audit::read(&path)
        .map_err(|e| anyhow::anyhow!("cannot read the audit log {}: {e}", path.display()))?;
    if let Some(w) = log.warning(&path) {
        ctx.warn(&w);
    }
    let lines = log.lines;
    let run = match (run, last) {
        (Some(r), false) => r.trim().to_string(),
        (None, true) => undo::last_run(&lines).map_err(|e| Usage(e.to_string()))?,
        _ => {
            return Err(Usage(
                "undo takes a run id (the `run` column of `mcsh audit`) or --last".into(),
            )
            .into())
        }
    };
    let mut items = undo::plan(&lines, &run).map_err(|e| Usage(e.to_string()))?;
    // Renames made since outside mcsh are not in the log: read them before undoing any.
    let dir = ctx.directory().await?;
    dir.recheck_renames(&mut items)
        .await
        .context("reading the renamed users and groups before undoing")?;
    let writes: Vec<_> = items
        .iter()
        .filter_map(|i| match &i.step {
            Step::Write(w) => Some(w.clone()),
            Step::Skip(_) => None,
        })
        .collect();
    let skipped: Vec<(String, String)> = items
        .iter()
        .filter_map(|i| match &i.step {
            Step::Skip(why) => Some((i.change.clone(), why.clone())),
            Step::Write(_) => None,
        })
        .collect();
    let words = |w: &crate::directory::PlannedWrite, group: &Option<String>| {
        audit::describe(&json!({ "endpoint": w.endpoint, "item": w.item, "group": group }))
    };
    let groups: Vec<Option<String>> = items
        .iter()
        .filter(|i| matches!(i.step, Step::Write(_)))
        .map(|i| i.group.clone())
        .collect();
    if !ctx.global.quiet {
        crate::eprintln_data!("undo of run {run}: {} write(s)", writes.len());
        for i in &items {
            let how = match &i.step {
                Step::Write(w) => words(w, &i.group),
                Step::Skip(why) => format!("skipped: {why}"),
            };
            crate::eprintln_data!("  {}  →  {how}", i.change);
        }
    }
    if writes.is_empty() {
        return Err(Usage(format!(
            "nothing of run {run} can be undone ({} change(s) skipped, each named above)",
            skipped.len()
        ))
        .into());
    }
    if !ctx.confirm(&format!(
        "undo run {run} with these {} write(s)",
        writes.len()
    ))? {
        return Err(Usage("cancelled; nothing was changed".into()).into());
    }
    if let Some(a) = dir.audit() {
        a.mark_undoing(&run);
    }
    let outcomes = dir.apply(&writes).await?;
    ctx.bar.finish();
    let mut printer = ctx.printer(Shape::List, &["change", "status", "message"]);
    for ((o, w), group) in outcomes.iter().zip(&writes).zip(&groups) {
        printer.row(&json!({
            "change": words(w, group),
            "status": o.result.status,
            "message": o.result.message,
        }))?;
    }
    for (change, why) in &skipped {
        printer.row(&json!({ "change": change, "status": "skipped", "message": why }))?;
    }
    printer.finish()?;
    let failed = outcomes
        .iter()
        .filter(|o| o.result.status == Status::Failed)
        .count();
    Partial::check(failed, outcomes.len())
}

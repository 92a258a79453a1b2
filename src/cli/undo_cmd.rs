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
    // A run is taken back only where it was made: the tenant (and profile) this command is
    // connected to. Lines older than the tenant field are told by their profile.
    let dir = ctx.directory().await?;
    let tenant = ctx.tenant_key(dir.client());
    let label = ctx.label();
    let here = |l: &serde_json::Value| match l["tenant"].as_str() {
        Some(t) => t == tenant && l["profile"] == label.as_str(),
        None => l["profile"] == label.as_str(),
    };
    let changed_runs = log.changed_runs.clone();
    let lines: Vec<serde_json::Value> = log.lines;
    let run = match (run, last) {
        (Some(r), false) => r.trim().to_string(),
        (None, true) => {
            let mine: Vec<serde_json::Value> = lines.iter().filter(|l| here(l)).cloned().collect();
            undo::last_run(&mine).map_err(|e| {
                Usage(format!(
                    "{e} on {} (profile {label}); runs made elsewhere are undone from there",
                    crate::output::printable(&tenant)
                ))
            })?
        }
        _ => {
            return Err(Usage(
                "undo takes a run id (the `run` column of `mcsh audit`) or --last".into(),
            )
            .into())
        }
    };
    if let Some(other) = lines.iter().find(|l| l["run"] == run.as_str() && !here(l)) {
        return Err(Usage(crate::output::printable(&format!(
            "run {run} was made on {} (profile {}), not on {tenant} (profile {label}), where this command is connected; nothing was changed. Undo it with the same profile (and --sandbox or --rehearse) it was made with",
            other["tenant"].as_str().unwrap_or("another tenant"),
            other["profile"].as_str().unwrap_or("?"),
        )))
        .into());
    }
    if changed_runs.contains(&run) {
        return Err(Usage(format!(
            "the audit lines of run {run} were changed after mcsh wrote them, so what they say may not be what the run did; nothing was undone. Check the log (`mcsh audit`) and undo by hand"
        ))
        .into());
    }
    // What other tenants' runs did is no change here: only this tenant's lines decide
    // whether a change was made again since (a fleet run makes the same change on many).
    let mine: Vec<serde_json::Value> = lines.iter().filter(|l| here(l)).cloned().collect();
    let mut items = undo::plan(&mine, &run).map_err(|e| Usage(e.to_string()))?;
    // Renames made since outside mcsh are not in the log: read them before undoing any.
    dir.recheck_renames(&mut items)
        .await
        .context("reading the renamed users and groups before undoing")?;
    // A group is shown by what its id names now, not by the name the log line carries (a
    // line naming "Interns" with IT Admins' id must read "IT Admins").
    let now = dir
        .list_groups(None)
        .await
        .context("reading the groups before undoing")?;
    for i in &mut items {
        let Step::Write(w) = &mut i.step else {
            continue;
        };
        // The service may answer another string for the same group now (ids are re-keyed):
        // what is sent and logged is the string it answers now.
        for key in ["id", "parentId"] {
            let Some(id) = w.item.get(key).and_then(serde_json::Value::as_str) else {
                continue;
            };
            if let Some(g) = now.iter().find(|g| crate::api::ids::same(&g.id, id)) {
                w.item[key] = serde_json::Value::String(g.id.clone());
            }
        }
        let Some(id) = w.item.get("id").and_then(serde_json::Value::as_str) else {
            continue;
        };
        if w.endpoint == crate::api::paths::UPDATE_GROUP {
            continue; // a rename back is told by the names it moves between
        }
        let logged = i.group.clone().unwrap_or_default();
        i.group = Some(match now.iter().find(|g| g.id == id) {
            Some(g) if g.path == logged || logged.is_empty() => g.path.clone(),
            Some(g) => format!("{} (the log says {logged})", g.path),
            None => format!("{logged} (no group has its id now)"),
        });
    }
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
    if !ctx.confirm(&crate::output::printable(&format!(
        "undo run {run} on {tenant} (profile {label}) with these {} write(s)",
        writes.len()
    )))? {
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

//! `mcsh snapshot` and `mcsh diff`: the tenant as one document, and what changed between two.

use anyhow::Context as _;

use super::report::{Differs, Usage};
use super::Ctx;
use crate::output::{Format, Shape};
use crate::snapshot::{diff, Snapshot};

/// `mcsh snapshot [--out FILE]`: every domain, user, group and membership, written at once
/// (to a temporary file renamed into place with `--out`).
pub async fn snapshot(ctx: &mut Ctx, out: Option<&str>) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let snap = take(ctx).await?;
    let mut text = serde_json::to_vec(&snap)?;
    text.push(b'\n');
    match out.filter(|o| *o != "-") {
        Some(path) => crate::own_files::write_named(std::path::Path::new(path), &text, true)
            .with_context(|| format!("cannot write the snapshot to {path}"))?,
        None => {
            use std::io::Write as _;
            let mut stdout = crate::streams::stdout();
            if stdout.is_terminal() {
                let shown = crate::output::json_for_terminal(&String::from_utf8_lossy(&text));
                stdout.write_all(shown.as_bytes())?;
            } else {
                stdout.write_all(&text)?;
            }
            stdout.flush()?;
        }
    }
    ctx.bar.finish();
    let aliases = snap.users.iter().filter(|u| u.alias).count();
    let memberships: usize = snap.members.values().map(Vec::len).sum();
    let requests = ctx
        .connected()
        .map(|d| d.client().stats().requests)
        .unwrap_or(0);
    ctx.note(&format!(
        "snapshot: {} users ({aliases} alias addresses), {} groups, {memberships} memberships, {} domains in {:.1} s ({requests} requests){}",
        snap.users.len() - aliases,
        snap.groups.len(),
        snap.domains.len(),
        started.elapsed().as_secs_f64(),
        out.filter(|o| *o != "-").map(|o| format!("; written to {o}")).unwrap_or_default()
    ));
    Ok(())
}

async fn take(ctx: &mut Ctx) -> anyhow::Result<Snapshot> {
    let tenant = ctx.tenant().await?;
    let dir = ctx.directory().await?;
    dir.snapshot(tenant).await.context("snapshot")
}

fn read(path: &str) -> anyhow::Result<Snapshot> {
    Snapshot::read(path).map_err(|e| Usage(e.to_string()).into())
}

/// `mcsh diff A B` or `mcsh diff A --live`: exit 0 when equal, 1 when they differ.
pub async fn run_diff(ctx: &mut Ctx, a: &str, b: Option<&str>, live: bool) -> anyhow::Result<()> {
    let before = read(a)?;
    let after = match (b, live) {
        (Some(_), true) => {
            return Err(Usage("diff takes a second snapshot or --live, not both".into()).into())
        }
        (Some(b), false) => read(b)?,
        // Like diff(1): 1 means "they differ", so trouble reading the tenant is 2.
        (None, true) => take(ctx).await.map_err(|e| {
            if super::report::exit_code(&e) == 4 {
                e
            } else {
                Usage(format!("cannot read the tenant to compare: {e:#}")).into()
            }
        })?,
        (None, false) => {
            return Err(Usage(
                "diff needs a second snapshot, or --live for the tenant as it is now".into(),
            )
            .into())
        }
    };
    ctx.bar.finish();
    let (ta, tb) = (&before.tenant, &after.tenant);
    if ta.base_url != tb.base_url || ta.account_code != tb.account_code {
        ctx.warn(&format!(
            "the two are of different tenants ({} and {}): ids will not match",
            ta.base_url, tb.base_url
        ));
    } else if ta.account_name != tb.account_name {
        ctx.warn(&format!(
            "one side is a rehearsal copy ({:?} and {:?})",
            ta.account_name.as_deref().unwrap_or(""),
            tb.account_name.as_deref().unwrap_or("")
        ));
    }
    let d = diff::diff(&before, &after);
    if ctx.format() == Format::Json {
        let mut printer = ctx.printer(Shape::Single, &[]);
        printer.row(&serde_json::to_value(&d)?)?;
        printer.finish()?;
    } else {
        let mut printer = ctx.printer(Shape::List, &["change", "subject", "detail"]);
        for c in &d.changes {
            printer.row(&serde_json::to_value(c)?)?;
        }
        printer.finish()?;
    }
    if d.equal {
        ctx.note("no differences");
        Ok(())
    } else {
        let n = d.changes.len();
        ctx.note(&format!("{n} difference{}", if n == 1 { "" } else { "s" }));
        Err(Differs.into())
    }
}

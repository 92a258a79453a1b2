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
        Some(path) => crate::files::write_atomic(std::path::Path::new(path), &text, false)
            .with_context(|| format!("cannot write the snapshot to {path}"))?,
        None => {
            use std::io::Write as _;
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(&text)?;
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
        (None, true) => take(ctx).await?,
        (None, false) => {
            return Err(Usage(
                "diff needs a second snapshot, or --live for the tenant as it is now".into(),
            )
            .into())
        }
    };
    ctx.bar.finish();
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
        ctx.note(&format!("{} differences", d.changes.len()));
        Err(Differs.into())
    }
}

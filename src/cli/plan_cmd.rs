//! Dry runs, plans and `mcsh apply`: what would be written, saved, checked and carried out.
//!
//! Policy: after any command or script run with `--dry-run`, the planned writes print on
//! stderr; `--plan-out FILE` (which implies `--dry-run`) saves the plan with the reads it
//! rests on. `mcsh apply FILE` re-reads them and refuses, naming each difference, when the
//! directory changed since; otherwise it asks (or takes `--yes`) and sends exactly those writes.

use std::sync::Arc;

use anyhow::Context as _;
use serde_json::json;

use super::report::{Partial, Usage};
use super::{Ctx, Global};
use crate::directory::plan::{PlanFile, VERSION};
use crate::directory::{Directory, Status};
use crate::output::Shape;

/// The line that names what a run wrote, for its end: its run id and how to undo it (for a
/// fleet's part, the line the fleet reads); `None` when it wrote nothing, or under `-q`.
pub fn wrote_line(global: &Global, a: &crate::directory::audit::Audit) -> Option<String> {
    if !a.wrote() {
        return None;
    }
    if let Some(member) = &global.member {
        // A fleet's part: the fleet says how to undo the whole run.
        return Some(super::fleet::wrote_line(&member.mark, a.run_id()));
    }
    (!global.quiet).then(|| {
        crate::output::printable(&format!(
            "run {}: `mcsh {}undo {}` takes it back{}",
            a.run_id(),
            global.target_words(),
            a.run_id(),
            if a.deleted_group() {
                " (except the deleted group: a deleted group cannot come back)"
            } else {
                ""
            }
        ))
    })
}

/// Everything that follows a run: audit-log trouble, the dry-run plan, `--plan-out`.
pub fn after_run(
    global: &Global,
    identity: &(String, String, String),
    dir: Option<&Arc<Directory>>,
    stopped: bool,
) -> anyhow::Result<()> {
    let (target, profile, principal) = identity;
    let Some(dir) = dir else { return Ok(()) };
    if let Some(err) = dir.audit().and_then(|a| a.error()) {
        if !global.quiet {
            crate::eprintln_data!("warning: {err}");
        }
    }
    if !global.dry_run {
        if let Some(line) = dir.audit().and_then(|a| wrote_line(global, a)) {
            crate::eprintln_data!("{line}");
        }
        return Ok(());
    }
    let plan = dir.plan();
    if !global.quiet {
        crate::eprintln_data!("dry run: {} write(s) planned, nothing was sent", plan.len());
        let open = dir.unforeseen();
        if open > 0 {
            crate::eprintln_data!(
                "  {open} of them rest on what the script did not read (whether an address is in \
                 the group; whether a user is listed, not queued for deletion and not \
                 directory-synced): the service's answer decides them, in the real run as in \
                 `mcsh apply` (see docs/scripting.md, \"Dry runs of scripts\")"
            );
        }
        for w in &plan {
            crate::eprintln_data!("  {}", w.describe());
        }
    }
    if let Some(path) = global.plan_out.as_ref().filter(|_| stopped) {
        // Applied, a plan of a run that stopped halfway would make half the change.
        if !global.quiet {
            crate::eprintln_data!(
                "{}",
                crate::output::printable(&format!(
                    "no plan saved to {path}: the run stopped with an error before its end, so the plan would hold only part of the change; fix the error and plan again"
                ))
            );
        }
        return Ok(());
    }
    if let Some(path) = &global.plan_out {
        let mut file = dir.plan_file(profile);
        file.base_url = target.to_string();
        file.principal = principal.to_string();
        file.seal = file.seal_with(&super::plan_key::plan_key()?);
        let mut text = serde_json::to_vec_pretty(&file)?;
        text.push(b'\n');
        if path == "-" {
            use std::io::Write;
            let mut out = crate::streams::stdout();
            out.write_all(&text)?;
            out.flush()?;
        } else {
            crate::own_files::write_named(std::path::Path::new(path), &text, true)
                .with_context(|| format!("cannot write the plan to {path}"))?;
        }
        if !global.quiet && path != "-" && global.member.is_none() {
            // The tenant itself, under --rehearse: the snapshot's, which the plan is bound to.
            let profile = if target.starts_with("sandbox ") {
                match profile.as_str() {
                    "sandbox" => "--sandbox ".to_string(),
                    p => format!("--sandbox {} ", crate::output::shell_flag("--profile", p)),
                }
            } else if profile == "default" {
                String::new()
            } else {
                format!("{} ", crate::output::shell_flag("--profile", profile))
            };
            let path_word = crate::output::shell_path(path);
            let hint = match &global.rehearse {
                Some(_) => format!(
                    "`mcsh {}apply {path_word}` carries it out on the copy, `mcsh {profile}apply {path_word}` on the tenant itself",
                    global.target_words()
                ),
                None => format!("`mcsh {}apply {path_word}` carries it out", global.target_words()),
            };
            crate::eprintln_data!(
                "{}",
                crate::output::printable(&format!("plan saved to {path}; {hint}"))
            );
        }
    }
    Ok(())
}

/// Where the seals of the plans carried out are kept (one a line, in mcsh's data dir).
fn applied_path() -> std::path::PathBuf {
    dirs::data_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("mcsh")
        .join("applied-plans")
}

/// Adds `seal` to the plans carried out, unless it is there: `false` when it was. The file is
/// locked while it is read and written, so of two applies at once only one finds it absent.
fn remember_applied(path: &std::path::Path, seal: &str) -> std::io::Result<bool> {
    use std::io::{Read, Write};
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
        return Err(std::io::Error::other("it is not a regular file"));
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.create(true).read(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::io::AsRawFd;
        // SAFETY: flock on a descriptor this function owns; released when `f` closes.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    let mut text = String::new();
    (&mut f)
        .take(crate::files::MAX_INPUT_BYTES)
        .read_to_string(&mut text)?;
    if text.lines().any(|l| l == seal) {
        return Ok(false);
    }
    writeln!(f, "{seal}")?;
    Ok(true)
}

/// `mcsh apply FILE`.
pub async fn apply(ctx: &mut Ctx, path: &str) -> anyhow::Result<()> {
    if ctx.global.dry_run {
        return Err(Usage("a plan is already a dry run: apply it without --dry-run, or make a new one with --plan-out".into()).into());
    }
    let text = crate::files::read_bounded(path, crate::files::MAX_INPUT_BYTES)
        .map_err(|e| Usage(format!("cannot read plan {path}: {e}")))?;
    let plan: PlanFile = serde_json::from_slice(&text)
        .map_err(|e| Usage(format!("{path} is not an mcsh plan: {e}")))?;
    if plan.version != VERSION {
        return Err(Usage(format!(
            "{path} is a version {} plan; this mcsh reads version {VERSION}: make the plan again",
            plan.version
        ))
        .into());
    }
    if !plan.is_sealed_with(&super::plan_key::plan_key()?) {
        return Err(Usage(format!(
            "{path} was changed after mcsh made it (its seal does not match its contents), or \
             was made by another user's mcsh; it is not applied: make the plan again with --plan-out"
        ))
        .into());
    }
    // A fleet's part lives in a private folder that is gone afterwards: it is named by what it is.
    let shown = if ctx.global.member.is_some() {
        "this tenant's part of the fleet plan".to_string()
    } else {
        path.to_string()
    };
    let dir = ctx.directory().await?;
    // A plan is carried out once where it is applied (a rehearsal copy, then the tenant, are two
    // places): applied again after its change was taken back by hand or by undo, its reads
    // could look the same and its writes would be made a second time.
    let applied = applied_path();
    let seal = format!("{}\t{}", plan.seal, ctx.target());
    let (target, profile, principal) = ctx.identity();
    let here = (target.as_str(), profile, principal);
    let mut differs = Vec::new();
    if plan.base_url != here.0 {
        differs.push(format!("base URL {} (here {})", plan.base_url, here.0));
    }
    if plan.profile != here.1 {
        differs.push(format!("profile {:?} (here {:?})", plan.profile, here.1));
    }
    if plan.principal != here.2 {
        differs.push(format!("{} (here {})", plan.principal, here.2));
    }
    if !differs.is_empty() {
        return Err(Usage(format!(
            "{shown} was made for another tenant: {}; make the plan again here",
            differs.join(", ")
        ))
        .into());
    }
    // Said before the directory is read: a plan applied here already reads as "changed"
    // (its own writes changed it), which would hide the reason.
    if crate::files::read_bounded(
        &applied.display().to_string(),
        crate::files::MAX_INPUT_BYTES,
    )
    .is_ok_and(|text| String::from_utf8_lossy(&text).lines().any(|l| l == seal))
    {
        return Err(Usage(format!(
            "{shown} has been applied here already; a plan is carried out once: make a new plan with --plan-out"
        ))
        .into());
    }
    let changed = dir
        .changed_since(&plan.reads)
        .await
        .context("checking the plan against the directory")?;
    if !changed.is_empty() {
        anyhow::bail!(
            "the directory changed since {shown} was made ({}), so it is not applied: {}; make a new plan with --plan-out",
            plan.created,
            changed.join("; ")
        );
    }
    if plan.writes.is_empty() {
        ctx.note("the plan has no writes: nothing to do");
        return Ok(());
    }
    if !ctx.global.quiet {
        crate::eprintln_data!("{shown} holds {} write(s):", plan.writes.len());
        for w in &plan.writes {
            crate::eprintln_data!("  {}", w.describe());
        }
    }
    if !ctx.confirm(&format!(
        "apply these {} write(s) to {}",
        plan.writes.len(),
        plan.base_url
    ))? {
        return Err(Usage("cancelled; nothing was changed".into()).into());
    }
    // Checked and recorded in one step, under a lock (two applies at once: one goes), before
    // anything is sent: a plan interrupted halfway is not carried out twice either (its audit
    // lines say what was done; `mcsh undo` takes it back).
    let first = remember_applied(&applied, &seal)
        .with_context(|| format!("cannot record the plan as applied in {}", applied.display()))?;
    if !first {
        return Err(Usage(format!(
            "{shown} has been applied here already; a plan is carried out once: make a new plan with --plan-out"
        ))
        .into());
    }
    let outcomes = dir.apply(&plan.writes).await?;
    ctx.bar.finish();
    let mut printer = ctx.printer(
        Shape::List,
        &["item", "group", "endpoint", "status", "message"],
    );
    for (o, w) in outcomes.iter().zip(&plan.writes) {
        printer.row(&json!({ "item": o.result.item, "group": w.group, "endpoint": w.endpoint, "status": o.result.status, "message": o.result.message }))?;
    }
    printer.finish()?;
    let failed = outcomes
        .iter()
        .filter(|o| o.result.status == Status::Failed)
        .count();
    let not_sent = outcomes
        .iter()
        .filter(|o| o.result.code.as_deref() == Some("not_sent"))
        .count();
    let held = if not_sent > 0 {
        format!(
            " ({not_sent} of them not sent: the script that planned them stopped at the refusal \
             before them)"
        )
    } else {
        String::new()
    };
    ctx.note(&format!(
        "apply: {} write(s), {failed} failed{held}",
        outcomes.len()
    ));
    Partial::check(failed, outcomes.len())
}

//! What a fleet run does: the command over each tenant; a fleet plan (one file, a sealed plan
//! per tenant) saved and applied; a fleet run undone tenant by tenant.
//!
//! Policy: writes over a fleet on a terminal without `--yes` are planned on every tenant
//! first, and one question names each tenant with its count of writes; what is confirmed is
//! exactly what is applied (each tenant's sealed plan, checked against its tenant as `mcsh
//! apply` always checks). A part of a plan, or of an undo, runs only on the tenant it was
//! made on: the part's own checks refuse another.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use serde_json::{json, Value};

use super::member::Member;
use super::report;
use super::spawn::{self, Done, Env, Job};
use crate::cli::report::Usage;
use crate::cli::{Cli, Command, Ctx, Global};
use crate::directory::audit;

/// The key that marks a fleet plan file.
const FLEET_PLAN_KEY: &str = "mcshFleetPlan";

/// The fleet plan format this build writes and reads.
const FLEET_PLAN_VERSION: u64 = 1;

/// Whether `file` is a fleet plan (one that cannot be read is not: `apply` says why).
pub fn is_fleet_plan(file: &str) -> bool {
    crate::files::read_bounded(file, crate::files::MAX_INPUT_BYTES)
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .is_some_and(|v| v.get(FLEET_PLAN_KEY).is_some())
}

/// The audit log's lines (an unreadable log has none: `undo` itself says why).
fn audit_lines() -> Vec<Value> {
    let path = audit::default_path(&|k| std::env::var(k).ok());
    audit::read(&path).map(|l| l.lines).unwrap_or_default()
}

/// Whether `run` is a fleet run's id: lines carry it as their `fleet`, none as their `run`.
/// Asked of every `mcsh undo`, so it looks for the fields' text in the log rather than reading
/// (and checking) every line: the undo that follows does that once.
pub fn is_fleet_run(run: &str) -> bool {
    let run = run.trim();
    let path = audit::default_path(&|k| std::env::var(k).ok());
    let Ok(bytes) = crate::files::read_bounded(&path.to_string_lossy(), audit::MAX_LOG_BYTES)
    else {
        return false;
    };
    let text = String::from_utf8_lossy(&bytes);
    // The log is written by serde_json: no spaces, and run ids need no escaping.
    let field = |name: &str| format!("\"{name}\":{}", serde_json::Value::from(run));
    text.contains(&field("fleet")) && !text.contains(&field("run"))
}

/// Whether the command may write (a script may): over a fleet on a terminal, such a command
/// is planned on every tenant and confirmed once before anything is written.
fn may_write(cli: &Cli) -> bool {
    use crate::cli::groups::GroupsCmd as G;
    use crate::cli::users::UsersCmd as U;
    !matches!(
        &cli.command,
        Some(
            Command::Users(U::List { .. } | U::Get { .. } | U::Groups { .. })
                | Command::Groups(G::List { .. } | G::Members { .. })
                | Command::Export(_)
                | Command::Snapshot { .. }
                | Command::Diff { .. }
                | Command::Audit { .. }
        )
    )
}

/// A folder only this user can enter, for the parts' plan files.
fn private_folder() -> anyhow::Result<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix("mcsh-fleet-")
        .tempdir()
        .context("cannot make a private folder for the fleet's plan parts")
}

/// Makes the fleet folder that `--out DIR` of a snapshot or export names (each tenant's file
/// goes in it), private to this user.
fn prepare_folder(cli: &Cli) -> anyhow::Result<()> {
    let out = match &cli.command {
        Some(Command::Snapshot { out: Some(o) }) => o,
        Some(Command::Export(a)) => match &a.out {
            Some(o) => o,
            None => return Ok(()),
        },
        _ => return Ok(()),
    };
    let path = Path::new(out);
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        // Written through, it would put each tenant's file wherever the link points.
        return Err(Usage(format!(
            "--out {out} is a symbolic link: over a fleet --out names a folder of your own; name it, not a link to it"
        ))
        .into());
    }
    if path.exists() && !path.is_dir() {
        return Err(Usage(format!(
            "--out {out} over a fleet names a folder (each tenant's file goes in it as PROFILE.json), and {out} is a file"
        ))
        .into());
    }
    #[cfg(unix)]
    if let Ok(meta) = std::fs::metadata(path) {
        use std::os::unix::fs::MetadataExt;
        // Another user could swap a tenant's file there for a link before it is written.
        if meta.mode() & 0o022 != 0 || !crate::files::owned_by_me(&meta) {
            return Err(Usage(format!(
                "--out {out}: the folder can be changed by other users (mode {:o}); use a folder of your own (mcsh makes a new one 0700)",
                meta.mode() & 0o777
            ))
            .into());
        }
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(path)
        .with_context(|| format!("cannot make the folder {out}"))
}

/// What the parts read on standard input: when an argument is `-` (a script or CSV on
/// standard input) or the script is standard input (no command), all of it, once, for each.
fn input_for(cli: &Cli, args: &[OsString]) -> anyhow::Result<Option<Arc<Vec<u8>>>> {
    use std::io::Read;
    let reads =
        args.iter().skip(1).any(|a| a == "-") || (cli.command.is_none() && cli.eval.is_none());
    if !reads || std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        return Ok(None);
    }
    let mut bytes = Vec::new();
    std::io::stdin()
        .take(crate::files::MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .context("cannot read standard input")?;
    if bytes.len() as u64 > crate::files::MAX_INPUT_BYTES {
        return Err(Usage(format!(
            "standard input is larger than {} MiB, the most mcsh reads",
            crate::files::MAX_INPUT_BYTES >> 20
        ))
        .into());
    }
    Ok(Some(Arc::new(bytes)))
}

/// Says on stderr how many tenants have ended, as each ends.
fn progress(ctx: &Ctx, compare: bool) -> impl Fn(&Done, usize, usize) + Sync + '_ {
    move |d: &Done, n: usize, total: usize| {
        ctx.note(&format!(
            "fleet: {n}/{total} tenants ended ({}: {})",
            d.profile,
            report::ending_of(d.code, compare)
        ));
    }
}

/// Where tenant `profile`'s part of a plan is kept in `folder`.
fn part_path(folder: &Path, profile: &str) -> PathBuf {
    folder.join(format!("{profile}.plan.json"))
}

/// The options each part of an apply or an undo shares with the command that started it:
/// where it runs (`--rehearse`, else `--sandbox` when asked or when the part was made on a
/// sandbox), whether it writes (`--dry-run`), and how it talks (`-v`, `-q`, the bulk sizes).
fn shared_flags(g: &Global, part_on_sandbox: bool) -> Vec<OsString> {
    let mut a: Vec<OsString> = Vec::new();
    if let Some(r) = &g.rehearse {
        a.extend(["--rehearse".into(), r.into()]);
    } else if g.sandbox || part_on_sandbox {
        a.push("--sandbox".into());
    }
    if g.dry_run && g.plan_out.is_none() {
        a.push("--dry-run".into());
    }
    for _ in 0..g.verbose {
        a.push("-v".into());
    }
    if g.quiet {
        a.push("-q".into());
    }
    if let Some(n) = g.concurrency {
        a.extend(["--concurrency".into(), n.to_string().into()]);
    }
    if let Some(n) = g.batch_size {
        a.extend(["--batch-size".into(), n.to_string().into()]);
    }
    a
}

/// A job per tenant: these arguments, told its profile and the fleet run.
fn jobs(
    tenants: &[String],
    args: &[OsString],
    env: &Env,
    plans: Option<&Path>,
    yes: bool,
) -> Vec<Job> {
    tenants
        .iter()
        .map(|t| Job {
            args: args.to_vec(),
            member: Member {
                profile: t.clone(),
                run: env.run.to_string(),
                mark: env.mark.to_string(),
                plan_out: plans.map(|d| part_path(d, t).display().to_string()),
                yes,
            },
        })
        .collect()
}

/// Runs the command line on every tenant and prints the one report.
pub fn each(cli: &Cli, args: &[OsString], tenants: &[String], env: &Env) -> anyhow::Result<()> {
    let g = &cli.global;
    let mut reported = g.clone();
    if let Some(format) = report::format_asked(cli) {
        reported.output = Some(format);
    }
    let ctx = Ctx::new(reported);
    prepare_folder(cli)?;
    let input = input_for(cli, args)?;
    let args: Vec<OsString> = args.iter().skip(1).cloned().collect();
    let compare = matches!(cli.command, Some(Command::Diff { .. }));
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stdin())
        && std::io::IsTerminal::is_terminal(&std::io::stderr());
    if may_write(cli) && !g.yes && !g.dry_run && terminal {
        return plan_then_apply(&ctx, &args, tenants, env, input);
    }
    let folder = match &g.plan_out {
        Some(_) => Some(private_folder()?),
        None => None,
    };
    let jobs = jobs(
        tenants,
        &args,
        env,
        folder.as_ref().map(|f| f.path()),
        false,
    );
    let done = spawn::run_all(jobs, env, input, &progress(&ctx, compare));
    report::print_rows(&ctx, &done)?;
    if let (Some(path), Some(folder)) = (&g.plan_out, &folder) {
        save_plan(&ctx, path, folder.path(), &done, true)?;
    }
    undo_hint(&ctx, env.run, &done);
    report::summary(&ctx, "fleet run", &done, compare)
}

/// The parts' plans gathered into one fleet plan at `path`; a tenant without one is named.
fn save_plan(
    ctx: &Ctx,
    path: &str,
    folder: &Path,
    done: &[Done],
    announce: bool,
) -> anyhow::Result<()> {
    let mut parts = Vec::new();
    let mut missing = Vec::new();
    for d in done {
        let file = part_path(folder, &d.profile);
        match std::fs::read(&file)
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        {
            Some(plan) if d.code == 0 => parts.push(json!({
                "profile": d.profile,
                "sandbox": ctx.global.sandbox,
                "plan": plan,
            })),
            _ => missing.push(d.profile.as_str()),
        }
    }
    if parts.is_empty() {
        ctx.warn(&format!("no plan saved to {path}: no tenant made one"));
        return Ok(());
    }
    let bundle = json!({
        FLEET_PLAN_KEY: FLEET_PLAN_VERSION,
        "created": chrono::Utc::now().to_rfc3339(),
        "parts": parts,
    });
    let mut text = serde_json::to_vec_pretty(&bundle)?;
    text.push(b'\n');
    crate::own_files::write_named(Path::new(path), &text, true)
        .with_context(|| format!("cannot write the plan to {path}"))?;
    let held = parts.len();
    if !announce {
        return Ok(());
    }
    let path_word = crate::output::shell_path(path);
    // Made on rehearsal copies: applying it there needs the folder again, and the plain apply
    // writes to the tenants themselves, so the hint names both.
    let hint = match &ctx.global.rehearse {
        Some(r) => format!(
            "`mcsh {} apply {path_word}` carries each out on its rehearsal copy, `mcsh apply {path_word}` on the tenants themselves",
            crate::output::shell_flag("--rehearse", r)
        ),
        None => format!("`mcsh apply {path_word}` carries each out on its own tenant"),
    };
    ctx.note(&crate::output::printable(&format!(
        "fleet plan saved to {path}: a sealed plan for each of {held} tenant(s); {hint}"
    )));
    if !missing.is_empty() {
        ctx.warn(&format!(
            "the plan holds no part for {} (the run failed there; see above)",
            missing.join(", ")
        ));
    }
    Ok(())
}

/// Says how to take the fleet run back, when a tenant wrote anything.
fn undo_hint(ctx: &Ctx, run: &str, done: &[Done]) {
    if done.iter().any(|d| d.wrote.is_some()) {
        // On rehearsal copies, the undo runs there too: the hint names them.
        let target = match &ctx.global.rehearse {
            Some(r) => format!("{} ", crate::output::shell_flag("--rehearse", r)),
            None => String::new(),
        };
        ctx.note(&crate::output::printable(&format!(
            "fleet run {run}: `mcsh {target}undo {run}` takes it back on each tenant"
        )));
    }
}

/// A fleet plan's parts: (tenant, whether a sandbox tenant, the sealed plan).
fn parts_of(file: &str) -> anyhow::Result<Vec<(String, bool, Value)>> {
    let bytes = crate::files::read_bounded(file, crate::files::MAX_INPUT_BYTES)
        .map_err(|e| Usage(format!("cannot read plan {file}: {e}")))?;
    let v: Value = serde_json::from_slice(&bytes)
        .map_err(|e| Usage(format!("{file} is not an mcsh plan: {e}")))?;
    if v[FLEET_PLAN_KEY].as_u64() != Some(FLEET_PLAN_VERSION) {
        return Err(Usage(format!(
            "{file} is a fleet plan of another format ({}); this mcsh reads version {FLEET_PLAN_VERSION}: make the plan again",
            v[FLEET_PLAN_KEY]
        ))
        .into());
    }
    let mut parts = Vec::new();
    for p in v["parts"].as_array().into_iter().flatten() {
        let (Some(profile), Some(plan)) = (p["profile"].as_str(), p.get("plan")) else {
            return Err(Usage(format!("{file}: a part without a profile or a plan")).into());
        };
        super::fleet_name(profile).map_err(|e| Usage(format!("{file}: {e}")))?;
        if parts
            .iter()
            .any(|(n, _, _): &(String, bool, Value)| n == profile)
        {
            return Err(Usage(format!("{file}: two parts for {profile}")).into());
        }
        parts.push((profile.to_string(), p["sandbox"] == true, plan.clone()));
    }
    if parts.is_empty() {
        return Err(Usage(format!("{file} holds no plans")).into());
    }
    Ok(parts)
}

/// Only the tenants the global options name, when they name any.
fn chosen_only<T>(g: &Global, items: Vec<(String, T)>) -> anyhow::Result<Vec<(String, T)>> {
    match super::chosen(g)? {
        Some(names) => Ok(items
            .into_iter()
            .filter(|(n, _)| {
                // A rehearsal copy's part is named `acme (rehearsal)`: it is acme's.
                names
                    .iter()
                    .any(|c| c == n.strip_suffix(super::REHEARSAL_MARK).unwrap_or(n))
            })
            .collect()),
        None => Ok(items),
    }
}

/// `mcsh apply FLEET_PLAN`: one question naming each tenant, then each part on its tenant.
pub fn apply(g: &Global, file: &str, env: &Env) -> anyhow::Result<()> {
    apply_as(g, file, file, env)
}

/// [`apply`], the plan named `shown` in what is said (a fleet's own plan lives in a private
/// folder that is gone afterwards).
fn apply_as(g: &Global, file: &str, shown: &str, env: &Env) -> anyhow::Result<()> {
    let ctx = Ctx::new(g.clone());
    if g.dry_run {
        return Err(Usage("a plan is already a dry run: apply it without --dry-run, or make a new one with --plan-out".into()).into());
    }
    let parts: Vec<(String, (bool, Value))> = parts_of(file)?
        .into_iter()
        .map(|(n, s, p)| (n, (s, p)))
        .collect();
    let parts = chosen_only(g, parts)?;
    if parts.is_empty() {
        return Err(Usage(format!("{file} holds no part for the tenants named")).into());
    }
    // Every part's seal first: a file changed by hand is not carried out in part, and the
    // question below counts only writes mcsh planned.
    let key = crate::cli::plan_key::plan_key()?;
    for (profile, (_, plan)) in &parts {
        let sealed = serde_json::from_value::<crate::directory::plan::PlanFile>(plan.clone())
            .ok()
            .filter(|p| p.is_sealed_with(&key));
        // The label outside the seal must name the tenant inside it.
        let labelled = sealed.as_ref().is_some_and(|p| {
            let inner = p
                .profile
                .strip_suffix(super::REHEARSAL_MARK)
                .unwrap_or(&p.profile);
            inner == profile
        });
        if sealed.is_some() && !labelled {
            return Err(Usage(crate::output::printable(&format!(
                "{shown}: the part labelled {profile} holds the plan made for {}; nothing was applied: make the plan again with --plan-out",
                sealed.as_ref().map_or("", |p| p.profile.as_str())
            )))
            .into());
        }
        if sealed.is_none() {
            return Err(Usage(crate::output::printable(&format!(
                "{file}: the part for {profile} was changed after mcsh made it (its seal does not match), or was made by another user's mcsh; nothing was applied: make the plan again with --plan-out"
            )))
            .into());
        }
    }
    let folder = private_folder()?;
    let mut jobs = Vec::new();
    let mut counts = Vec::new();
    for (profile, (sandbox, plan)) in &parts {
        let path = part_path(folder.path(), profile);
        crate::files::write_atomic(&path, serde_json::to_string(plan)?.as_bytes(), true)
            .with_context(|| format!("cannot write {}", path.display()))?;
        counts.push(format!(
            "{profile} {} write(s)",
            plan["writes"].as_array().map_or(0, Vec::len)
        ));
        let mut args = shared_flags(g, *sandbox);
        args.extend(["apply".into(), path.into_os_string()]);
        jobs.push(Job {
            args,
            member: Member {
                profile: profile.clone(),
                run: env.run.to_string(),
                mark: env.mark.to_string(),
                plan_out: None,
                yes: true,
            },
        });
    }
    if !ctx.confirm(&crate::output::printable(&format!(
        "apply {shown} to {} tenant(s): {}",
        parts.len(),
        counts.join(", ")
    )))? {
        return Err(Usage("cancelled; nothing was changed".into()).into());
    }
    let done = spawn::run_all(jobs, env, None, &progress(&ctx, false));
    report::print_rows(&ctx, &done)?;
    undo_hint(&ctx, env.run, &done);
    report::summary(&ctx, "fleet apply", &done, false)
}

/// Plans on every tenant, asks once naming each with its count of writes, then applies
/// exactly those plans.
fn plan_then_apply(
    ctx: &Ctx,
    args: &[OsString],
    tenants: &[String],
    env: &Env,
    input: Option<Arc<Vec<u8>>>,
) -> anyhow::Result<()> {
    let folder = private_folder()?;
    let planned = spawn::run_all(
        jobs(tenants, args, env, Some(folder.path()), false),
        env,
        input,
        &|_, _, _| {},
    );
    let failed: Vec<&Done> = planned.iter().filter(|d| d.code != 0).collect();
    if !failed.is_empty() {
        ctx.warn("planning failed on some tenants; nothing was written anywhere");
        return report::summary(ctx, "fleet plan", &planned, false);
    }
    let plan = folder.path().join("fleet.plan.json");
    let plan_text = plan.display().to_string();
    save_plan(ctx, &plan_text, folder.path(), &planned, false)?;
    let parts = parts_of(&plan_text)?;
    let total: usize = parts
        .iter()
        .map(|(_, _, p)| p["writes"].as_array().map_or(0, Vec::len))
        .sum();
    if total == 0 {
        report::print_rows(ctx, &planned)?;
        ctx.note("nothing to write on any tenant");
        return report::summary(ctx, "fleet run", &planned, false);
    }
    apply_as(&ctx.global, &plan_text, "the planned writes", env)
}

/// `mcsh undo FLEET_RUN`: each tenant's part of the run, undone where it was made.
pub fn undo(g: &Global, run: &str, env: &Env) -> anyhow::Result<()> {
    let ctx = Ctx::new(g.clone());
    // (tenant, (its run, whether a sandbox tenant, changes made))
    let mut parts: Vec<(String, (String, bool, usize))> = Vec::new();
    for l in audit_lines()
        .iter()
        .filter(|l| l["fleet"] == run && l.get("dryRun").is_none())
    {
        let (Some(profile), Some(own)) = (l["profile"].as_str(), l["run"].as_str()) else {
            continue;
        };
        let sandbox = l["tenant"]
            .as_str()
            .is_some_and(|t| t.starts_with("sandbox "));
        let changed = usize::from(l["outcome"] != "failed" && l["outcome"] != "skipped");
        match parts
            .iter_mut()
            .find(|(p, (r, _, _))| p == profile && r == own)
        {
            Some((_, (_, _, n))) => *n += changed,
            None => parts.push((profile.to_string(), (own.to_string(), sandbox, changed))),
        }
    }
    let mut parts = chosen_only(g, parts)?;
    if parts.is_empty() {
        return Err(Usage(format!(
            "fleet run {run} made no changes on the tenants named"
        ))
        .into());
    }
    // The same order every time (the log has them in the order they ended).
    parts.sort_by(|a, b| a.0.cmp(&b.0));
    let on_copies = parts
        .iter()
        .any(|(p, _)| p.ends_with(super::REHEARSAL_MARK));
    if on_copies && g.rehearse.is_none() {
        return Err(Usage(format!(
            "fleet run {run} was made on rehearsal copies: undo it there, with the fleet snapshot folder it was made with: `mcsh --rehearse DIR undo {run}`"
        ))
        .into());
    }
    let summary: Vec<String> = parts
        .iter()
        .map(|(p, (r, _, n))| format!("{p} (run {r}, {n} change(s))"))
        .collect();
    if !ctx.confirm(&crate::output::printable(&format!(
        "undo fleet run {run} on {} tenant(s): {}",
        parts.len(),
        summary.join(", ")
    )))? {
        return Err(Usage("cancelled; nothing was changed".into()).into());
    }
    let folder = match &g.plan_out {
        Some(_) => Some(private_folder()?),
        None => None,
    };
    let jobs: Vec<Job> = parts
        .iter()
        .map(|(profile, (own, sandbox, _))| {
            // A copy's lines name `acme (rehearsal)`; the part runs as `acme` on its copy.
            let tenant = profile
                .strip_suffix(super::REHEARSAL_MARK)
                .unwrap_or(profile);
            let mut args = shared_flags(g, *sandbox);
            args.extend(["undo".into(), own.into()]);
            Job {
                args,
                member: Member {
                    profile: tenant.to_string(),
                    run: env.run.to_string(),
                    mark: env.mark.to_string(),
                    plan_out: folder
                        .as_ref()
                        .map(|f| part_path(f.path(), tenant).display().to_string()),
                    yes: true,
                },
            }
        })
        .collect();
    let done = spawn::run_all(jobs, env, None, &progress(&ctx, false));
    report::print_rows(&ctx, &done)?;
    if let (Some(path), Some(folder)) = (&g.plan_out, &folder) {
        save_plan(&ctx, path, folder.path(), &done, true)?;
    } else if !g.dry_run {
        undo_hint(&ctx, env.run, &done);
    }
    report::summary(&ctx, "fleet undo", &done, false)
}

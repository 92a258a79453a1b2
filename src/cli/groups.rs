//! `mcsh groups ...`: list, create, members, add-member, remove-member, rename, delete.

use anyhow::Context as _;
use clap::Subcommand;
use serde_json::json;

use super::report::{hinted, Partial, Usage};
use super::Ctx;
use crate::directory::email;
use crate::directory::outcome::{ItemResult, Status, Tally};
use crate::output::Shape;

/// Columns of group listings: where a group sits reads as a path; JSON keeps the ids.
const GROUP_COLUMNS: &[&str] = &[
    "description",
    "path",
    "userCount",
    "folderCount",
    "source",
    "id",
];
const MEMBER_COLUMNS: &[&str] = &["emailAddress", "name", "domain", "type", "internal"];
const CHANGE_COLUMNS: &[&str] = &["group", "emailAddress", "status", "message"];

/// `mcsh groups` subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum GroupsCmd {
    /// List groups (all of them, or those whose name contains --query)
    #[command(after_help = super::examples::GROUPS_LIST)]
    List {
        /// Only groups whose name contains this (any case)
        #[arg(long, value_name = "TEXT")]
        query: Option<String>,
    },
    /// Create a group
    #[command(after_help = super::examples::GROUPS_CREATE)]
    Create {
        /// The group's name
        #[arg(long, value_name = "NAME")]
        description: String,
        /// Create it under this group (id or name)
        #[arg(long, value_name = "GROUP")]
        parent: Option<String>,
    },
    /// List the members of a group
    #[command(after_help = super::examples::GROUPS_MEMBERS)]
    Members {
        /// The group: its id or its name
        #[arg(long, value_name = "GROUP")]
        group: String,
    },
    /// Add users to a group (already a member is fine)
    #[command(
        after_help = super::examples::GROUPS_ADD,
        override_usage = "mcsh groups add-member --group <GROUP> <--email <EMAIL>...|--emails-from <FILE>> [--strict]"
    )]
    AddMember {
        /// The group: its id, its name or its path (Engineering/Platform)
        #[arg(long, value_name = "GROUP")]
        group: String,
        /// An address to add (repeat for several)
        #[arg(long, value_name = "EMAIL", required_unless_present = "emails_from")]
        email: Vec<String>,
        /// Also add the addresses in FILE, one per line (- for standard input; # comments)
        #[arg(long, value_name = "FILE")]
        emails_from: Option<String>,
        /// Refuse (before any write) addresses of the tenant's own domains that are no user,
        /// and users queued for deletion (read to the domain's end; without --strict, a
        /// warning for those among its first 2 000 users)
        #[arg(long)]
        strict: bool,
    },
    /// Remove users from a group (not a member is fine)
    #[command(
        after_help = super::examples::GROUPS_REMOVE,
        override_usage = "mcsh groups remove-member --group <GROUP> <--email <EMAIL>...|--emails-from <FILE>>"
    )]
    RemoveMember {
        /// The group: its id, its name or its path (Engineering/Platform)
        #[arg(long, value_name = "GROUP")]
        group: String,
        /// An address to remove (repeat for several)
        #[arg(long, value_name = "EMAIL", required_unless_present = "emails_from")]
        email: Vec<String>,
        /// Also remove the addresses in FILE, one per line (- for standard input; # comments)
        #[arg(long, value_name = "FILE")]
        emails_from: Option<String>,
    },
    /// Rename a group
    #[command(after_help = super::examples::GROUPS_RENAME)]
    Rename {
        /// The group: its id or its name
        #[arg(long, value_name = "GROUP")]
        group: String,
        /// The new name
        #[arg(long, value_name = "NAME")]
        description: String,
    },
    /// Delete an empty group (asks first; --yes without a terminal)
    #[command(after_help = super::examples::GROUPS_DELETE)]
    Delete {
        /// The group: its id or its name
        #[arg(long, value_name = "GROUP")]
        group: String,
    },
}

/// Runs a `groups` subcommand.
pub async fn run(ctx: &mut Ctx, cmd: GroupsCmd) -> anyhow::Result<()> {
    match cmd {
        GroupsCmd::List { query } => {
            let dir = ctx.directory().await?;
            let groups = dir
                .list_groups(query.as_deref().map(str::trim))
                .await
                .context("list groups")?;
            let mut printer = ctx.printer(Shape::List, GROUP_COLUMNS);
            for g in groups {
                printer.row(&json!(g))?;
            }
            ctx.finish_list(printer, "groups")
        }
        GroupsCmd::Create {
            description,
            parent,
        } => {
            let description = non_blank("--description", &description)?;
            let dir = ctx.directory().await?;
            let parent = match parent {
                Some(p) => Some(dir.resolve_group(&p).await.context("--parent")?),
                None => None,
            };
            let targets = ctx.global.target_words();
            let mut group = dir.create_group(&description, parent.as_ref()).await.map_err(|e| {
                let hint = if matches!(&e, crate::directory::DirError::Api(a) if a.code() == "err_folder_already_exists") {
                    format!(
                        "a group of that name already exists at that level: `mcsh {targets}groups list {}` finds it",
                        crate::output::shell_flag("--query", &description)
                    )
                } else {
                    String::new()
                };
                hinted(format!("create group {description:?}"), &hint, e)
            })?;
            if group.path.is_empty() {
                // The answer carries no path: it is the parent's and the new name.
                group.path = match &parent {
                    Some(p) if !p.path.is_empty() => format!("{}/{}", p.path, group.description),
                    Some(p) => format!("{}/{}", p.description, group.description),
                    None => group.description.clone(),
                };
            }
            let mut printer = ctx.printer(Shape::Single, GROUP_COLUMNS);
            printer.row(&json!(group))?;
            printer.finish()?;
            if dir.is_dry_run() {
                ctx.note(&format!(
                    "dry run: would create group {description:?}; nothing was sent"
                ));
            }
            Ok(())
        }
        GroupsCmd::Members { group } => {
            let dir = ctx.directory().await?;
            let group = dir.resolve_group(&group).await?;
            let members = dir
                .members(&group)
                .await
                .with_context(|| format!("members of {}", group.description))?;
            let mut printer = ctx.printer(Shape::List, MEMBER_COLUMNS);
            for m in members {
                printer.row(&json!(m))?;
            }
            ctx.finish_list(printer, "members")
        }
        GroupsCmd::AddMember {
            group,
            email,
            emails_from,
            strict,
        } => {
            let emails = with_file(email, emails_from.as_deref())?;
            change(ctx, &group, &emails, Some(strict)).await
        }
        GroupsCmd::RemoveMember {
            group,
            email,
            emails_from,
        } => {
            let emails = with_file(email, emails_from.as_deref())?;
            change(ctx, &group, &emails, None).await
        }
        GroupsCmd::Rename { group, description } => {
            let description = non_blank("--description", &description)?;
            let dir = ctx.directory().await?;
            let g = dir.resolve_group(&group).await?;
            let renamed = dir
                .rename_group(&g, &description)
                .await
                .with_context(|| format!("rename group {:?} to {description:?}", g.description))?;
            let mut printer = ctx.printer(Shape::Single, GROUP_COLUMNS);
            printer.row(&json!(renamed))?;
            printer.finish()?;
            Ok(())
        }
        GroupsCmd::Delete { group } => {
            let dir = ctx.directory().await?;
            let g = dir.resolve_group(&group).await?;
            if !ctx.confirm(&format!("delete group {:?}", g.description))? {
                return Err(Usage("cancelled; nothing was changed".into()).into());
            }
            dir.delete_group(&g).await.map_err(|e| {
                let hint = if matches!(&e, crate::directory::DirError::Api(a) if a.code() == "err_folder_not_empty") {
                    "remove its members and child groups first"
                } else {
                    ""
                };
                hinted(format!("delete group {:?}", g.description), hint, e)
            })?;
            let status = if dir.is_dry_run() {
                Status::Planned
            } else {
                Status::Removed
            };
            let mut printer = ctx.printer(Shape::Single, &["group", "status"]);
            printer.row(&json!({ "group": g.description, "id": g.id, "status": status }))?;
            printer.finish()?;
            Ok(())
        }
    }
}

/// `--email` values followed by the addresses of `--emails-from FILE` (one a line; blank lines
/// and `#` comments skipped; `-` is standard input). A bad address names its line.
fn with_file(mut emails: Vec<String>, file: Option<&str>) -> anyhow::Result<Vec<String>> {
    let Some(path) = file else { return Ok(emails) };
    let bytes = crate::files::read_bounded(path, crate::files::MAX_INPUT_BYTES)
        .map_err(|e| Usage(format!("--emails-from {path}: {e}")))?;
    let text = crate::csv_in::utf8_text(&bytes)
        .map_err(|e| Usage(format!("--emails-from {path}: {e}")))?;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        email::normalize(line).map_err(|e| {
            let csv = if n == 0 && line.contains(',') {
                " (it looks like a CSV: --emails-from takes one address a line)"
            } else {
                ""
            };
            Usage(format!("--emails-from {path}: line {}: {e}{csv}", n + 1))
        })?;
        emails.push(line.to_string());
    }
    if emails.is_empty() {
        return Err(Usage(format!("--emails-from {path} holds no address")).into());
    }
    Ok(emails)
}

fn non_blank(flag: &str, value: &str) -> anyhow::Result<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(Usage(format!("{flag} must not be empty")).into());
    }
    Ok(v.to_string())
}

/// The pages of users that the warning about users queued for deletion reads beside an add
/// (2 000 users at the default page size), so a single add in a big domain stays a few round
/// trips; `--strict` reads on to the domain's end before any write.
const QUEUED_CHECK_PAGES: usize = 4;

/// Adds (`add` = `Some(strict)`) or removes (`None`) `emails` in `group`.
async fn change(
    ctx: &mut Ctx,
    group: &str,
    emails: &[String],
    add: Option<bool>,
) -> anyhow::Result<()> {
    let emails: Vec<String> = emails
        .iter()
        .map(|e| email::normalize(e))
        .collect::<Result<_, _>>()?;
    let mut unique = Vec::with_capacity(emails.len());
    for e in emails {
        if !unique.iter().any(|u: &String| u.eq_ignore_ascii_case(&e)) {
            unique.push(e);
        }
    }
    let dir = ctx.directory().await?;
    let g = dir.resolve_group(group).await?;
    let results = match add {
        Some(strict) => {
            // External addresses are fine members; an address of the tenant's own domains
            // that is no user is almost always a typo.
            let internal = dir.internal_domains().await?;
            let ours: Vec<String> = unique
                .iter()
                .filter(|e| internal.contains(&email::domain_of(e).to_ascii_lowercase()))
                .cloned()
                .collect();
            // One cheap lookup per address, not a listing of whole domains. Without --strict
            // it only feeds a warning, so a lookup that fails does not stop the work.
            let found = match dir.existing_users(&ours).await {
                Ok(found) => Some(found),
                Err(e) if !strict => {
                    ctx.warn(&format!("cannot check which addresses are users ({e})"));
                    None
                }
                Err(e) => return Err(e.into()),
            };
            // Users the service knows, and the rest (no user: perhaps a typo, or an alias).
            let (known, mut ghosts): (Vec<&String>, Vec<&String>) = match &found {
                Some(found) => ours
                    .iter()
                    .partition(|e| found.contains(&e.to_ascii_lowercase())),
                None => (Vec::new(), Vec::new()),
            };
            if !ghosts.is_empty() {
                // An alias address is no user of its own but a fine member: the listing of
                // its domain (alias rows included) tells it from a typo.
                let asked: Vec<String> = ghosts.iter().map(|e| e.to_string()).collect();
                match dir.find_addresses(&asked).await {
                    Ok(rows) => ghosts.retain(|e| !rows.contains_key(&e.to_ascii_lowercase())),
                    Err(e) if !strict => {
                        ctx.warn(&format!("cannot check which addresses are users ({e})"));
                        ghosts.clear();
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            if strict && !ghosts.is_empty() {
                let list: Vec<&str> = ghosts.iter().map(|s| s.as_str()).collect();
                return Err(Usage(format!(
                    "--strict: {} in the tenant's own domains but no user; nothing was added",
                    list.join(", ")
                ))
                .into());
            }
            // A user the service knows but the listing leaves out is queued for deletion: the
            // purge takes it out of the group again. Telling them apart reads the domains only
            // as far as these addresses: beside the write (which it does not change) and at
            // most QUEUED_CHECK_PAGES pages, or to the end first when --strict must refuse.
            let known: Vec<String> = known.into_iter().cloned().collect();
            let restore = |e: &str| {
                format!(
                    "`mcsh {}users restore {}` takes it back",
                    ctx.global.target_words(),
                    crate::output::shell_flag("--email", e)
                )
            };
            let (mut results, queued) = if strict {
                let queued = dir.unlisted(&known, None).await?;
                let queued: Vec<&String> = known
                    .iter()
                    .filter(|e| queued.contains(&e.to_ascii_lowercase()))
                    .collect();
                if let Some(first) = queued.first() {
                    let list: Vec<&str> = queued.iter().map(|s| s.as_str()).collect();
                    return Err(Usage(format!(
                        "--strict: {} queued for deletion ({}); nothing was added",
                        list.join(", "),
                        restore(first)
                    ))
                    .into());
                }
                (dir.add_members(&g, &unique).await?, Default::default())
            } else {
                let (results, queued) = tokio::join!(
                    dir.add_members(&g, &unique),
                    dir.unlisted(&known, Some(QUEUED_CHECK_PAGES))
                );
                let queued = queued.unwrap_or_else(|e| {
                    ctx.warn(&format!(
                        "cannot check which users are queued for deletion ({e})"
                    ));
                    Default::default()
                });
                (results?, queued)
            };
            for r in results.iter_mut() {
                if ghosts.iter().any(|e| e.eq_ignore_ascii_case(&r.item)) {
                    r.message = format!(
                        "{}; warning: {} is in one of the tenant's own domains but is no user \
                         (a typo? --strict refuses such addresses)",
                        r.message, r.item
                    );
                } else if queued.contains(&r.item.to_ascii_lowercase()) {
                    r.message = format!(
                        "{}; warning: {} is queued for deletion, and the purge takes it out \
                         of the group again ({}; --strict refuses such users)",
                        r.message,
                        r.item,
                        restore(&r.item)
                    );
                }
            }
            results
        }
        None => dir.remove_members(&g, &unique).await?,
    };
    print_results(ctx, &g.description, &results)?;
    let tally = Tally::of(&results);
    if tally.failed > 0 {
        return Err(Partial {
            failed: tally.failed,
            total: results.len(),
        }
        .into());
    }
    Ok(())
}

fn print_results(ctx: &Ctx, group: &str, results: &[ItemResult]) -> anyhow::Result<()> {
    let mut printer = ctx.printer(Shape::List, CHANGE_COLUMNS);
    for r in results {
        let mut row = json!({ "group": group, "emailAddress": r.item, "status": r.status, "message": r.message });
        if let Some(code) = &r.code {
            row["code"] = json!(code);
        }
        printer.row(&row)?;
    }
    printer.finish()?;
    Ok(())
}

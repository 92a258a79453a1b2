//! `mcsh users ...`: list, get, create, update, delete (purge list), restore.

use anyhow::Context as _;
use clap::Subcommand;
use serde_json::{json, Value};

use super::report::Usage;
use super::Ctx;
use crate::api::users::UserUpdate;
use crate::directory::email;
use crate::directory::DirError;
use crate::output::Shape;

/// Columns of `users list` (and of `export`, which writes the same fields).
pub(crate) const USER_COLUMNS: &[&str] = &[
    "emailAddress",
    "name",
    "domain",
    "alias",
    "addressType",
    "source",
];
/// Columns of `users get`: the user's aliases rather than the row's alias flag.
const USER_GET_COLUMNS: &[&str] = &[
    "emailAddress",
    "name",
    "domain",
    "aliases",
    "state",
    "locked",
    "addressType",
    "source",
];
/// Columns of per-item results.
pub const RESULT_COLUMNS: &[&str] = &["emailAddress", "status", "message"];

/// `mcsh users` subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum UsersCmd {
    /// List internal users (of every internal domain unless --domain)
    ///
    /// The fields are what Mimecast returns for a user: emailAddress, name, domain, alias,
    /// addressType and source (`ldap` for directory-synced users); `mcsh export` writes the
    /// same. The old script's `internal` and `created` are not among them: every user this
    /// lists is internal by definition, and the API returns no creation time.
    #[command(after_help = super::examples::USERS_LIST)]
    List {
        /// Only this domain
        #[arg(long, value_name = "DOMAIN")]
        domain: Option<String>,
        /// Also list alias addresses (rows with alias = true); left out by default
        #[arg(long)]
        aliases: bool,
    },
    /// Show one user, with aliases
    #[command(after_help = super::examples::USERS_GET)]
    Get {
        /// The user's address
        #[arg(long, value_name = "EMAIL")]
        email: String,
    },
    /// The groups a user is in: direct, through their domain, and above those (--direct: only direct)
    #[command(after_help = super::examples::USERS_GROUPS)]
    Groups {
        /// The user's address
        #[arg(long, value_name = "EMAIL")]
        email: String,
        /// Only the groups the address is a direct member of
        #[arg(long)]
        direct: bool,
    },
    /// Create an internal user
    #[command(after_help = super::examples::USERS_CREATE)]
    Create {
        /// The new address (or the part before @ when --domain is given)
        #[arg(long, value_name = "EMAIL")]
        email: String,
        /// Display name
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
        /// Domain of the address; must match the address's own
        #[arg(long, value_name = "DOMAIN")]
        domain: Option<String>,
    },
    /// Change a user's name, lock or enable state, or add an alias
    #[command(after_help = super::examples::USERS_UPDATE)]
    Update {
        /// The user's address
        #[arg(long, value_name = "EMAIL")]
        email: String,
        /// New display name
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
        /// Add this address as an alias
        #[arg(long, value_name = "ALIAS")]
        alias: Option<String>,
        /// Lock the account
        #[arg(long, conflicts_with = "unlock")]
        lock: bool,
        /// Unlock the account
        #[arg(long)]
        unlock: bool,
        /// Disable the account
        #[arg(long, conflicts_with = "enable")]
        disable: bool,
        /// Enable the account
        #[arg(long)]
        enable: bool,
    },
    /// Delete a user: queue it on the purge list (Mimecast has no hard delete; `restore` undoes it)
    #[command(after_help = super::examples::USERS_DELETE)]
    Delete {
        /// The user's address
        #[arg(long, value_name = "EMAIL")]
        email: String,
    },
    /// Take a deleted user back off the purge list
    #[command(after_help = super::examples::USERS_RESTORE)]
    Restore {
        /// The user's address
        #[arg(long, value_name = "EMAIL")]
        email: String,
    },
}

/// Runs a `users` subcommand.
pub async fn run(ctx: &mut Ctx, cmd: UsersCmd) -> anyhow::Result<()> {
    match cmd {
        UsersCmd::List { domain, aliases } => list(ctx, domain, aliases).await,
        UsersCmd::Get { email } => get(ctx, &email::normalize(&email)?).await,
        UsersCmd::Groups { email, direct } => {
            groups_of(ctx, &email::normalize(&email)?, direct).await
        }
        UsersCmd::Create {
            email,
            name,
            domain,
        } => create(ctx, &email, name, domain).await,
        UsersCmd::Update {
            email,
            name,
            alias,
            lock,
            unlock,
            disable,
            enable,
        } => {
            let email = email::normalize(&email)?;
            let update = UserUpdate {
                email_address: email.clone(),
                name: name.map(|n| n.trim().to_string()),
                account_locked: flag_pair(lock, unlock),
                account_disabled: flag_pair(disable, enable),
            };
            let alias = alias.as_deref().map(email::normalize).transpose()?;
            update_user(ctx, update, alias).await
        }
        UsersCmd::Delete { email } => delete(ctx, &email::normalize(&email)?, true).await,
        UsersCmd::Restore { email } => delete(ctx, &email::normalize(&email)?, false).await,
    }
}

fn flag_pair(on: bool, off: bool) -> Option<bool> {
    match (on, off) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    }
}

async fn list(ctx: &mut Ctx, domain: Option<String>, aliases: bool) -> anyhow::Result<()> {
    let domain = match domain {
        Some(d) if !email::valid_domain(d.trim()) => {
            return Err(Usage(format!("--domain {d:?} is not a domain name")).into())
        }
        d => d.map(|d| d.trim().to_ascii_lowercase()),
    };
    let dir = ctx.directory().await?;
    let mut printer = ctx.printer(Shape::List, USER_COLUMNS);
    let listing = if aliases {
        dir.users_and_aliases(domain.as_deref()).await
    } else {
        dir.users(domain.as_deref()).await
    };
    let mut listing = listing.context("list users")?;
    while let Some(batch) = listing.next_batch().await.context("list users")? {
        for user in batch {
            printer.row(&json!(user))?;
        }
        printer.flush()?;
    }
    ctx.finish_list(printer, if aliases { "addresses" } else { "users" })
}

async fn get(ctx: &mut Ctx, email: &str) -> anyhow::Result<()> {
    use crate::directory::address::Address;
    let dir = ctx.directory().await?;
    let found = dir
        .lookup_address(email)
        .await
        .with_context(|| format!("get user {email}"))?;
    let (user, state) = match found {
        Address::Mailbox(u) => (u, "active"),
        Address::Alias {
            owner: Some(owner), ..
        } => {
            ctx.note(&format!(
                "{email} is an alias address of {}; showing that user",
                owner.email_address
            ));
            (owner, "active")
        }
        Address::Alias { row, owner: None } => {
            ctx.note(&format!(
                "{email} is an alias address; the API does not say whose, and no user of {} \
                 named {:?} lists it among their aliases",
                row.domain, row.name
            ));
            (row, "alias")
        }
        Address::Queued(address) => {
            let user = crate::api::User {
                email_address: address.clone(),
                ..crate::api::User::default()
            }
            .with_domain();
            ctx.note(&format!(
                "{address} is on the purge list (queued for deletion); `mcsh {}users restore {}` takes it back",
                ctx.global.target_words(),
                crate::output::shell_flag("--email", &address)
            ));
            (user, "queued for deletion")
        }
        Address::Unknown => {
            return Err(DirError::UserNotFound {
                email: email.to_string(),
            }
            .into())
        }
    };
    let mut row = json!(user);
    row["aliases"] = json!(user.aliases);
    row["state"] = json!(state);
    row["locked"] = json!(lock_state(&user.email_address, &ctx.label()));
    let mut printer = ctx.printer(Shape::Single, USER_GET_COLUMNS);
    printer.row(&row)?;
    printer.finish()?;
    Ok(())
}

/// What can be said of an account's lock: the API returns no lock state, so only the last
/// lock or unlock mcsh itself sent (from the audit log) is known.
fn lock_state(email: &str, profile: &str) -> String {
    let path = crate::directory::audit::default_path(&|k| std::env::var(k).ok());
    let last = crate::directory::audit::read(&path)
        .unwrap_or_default()
        .lines
        .into_iter()
        .rev()
        .find(|l| {
            // Only this tenant's: a lock sent in a rehearsal or the sandbox is not this one.
            l["profile"] == profile
                && l["endpoint"] == crate::api::paths::UPDATE_USER
                && l["dryRun"] != json!(true)
                && matches!(l["outcome"].as_str(), Some("updated" | "unverified"))
                && l["item"]["accountLocked"].is_boolean()
                && l["item"]["emailAddress"]
                    .as_str()
                    .is_some_and(|e| e.eq_ignore_ascii_case(email))
        });
    match last {
        Some(l) => format!(
            "{} by mcsh at {} (audit log; the API does not return it)",
            if l["item"]["accountLocked"] == json!(true) {
                "locked"
            } else {
                "unlocked"
            },
            l["time"].as_str().unwrap_or("?")
        ),
        None => "unknown (the API does not return it; mcsh never locked or unlocked it)".into(),
    }
}

/// `users groups`: the effective groups of `email` (one scan of every group's members).
async fn groups_of(ctx: &mut Ctx, email: &str, direct: bool) -> anyhow::Result<()> {
    let dir = ctx.directory().await?;
    let index = dir
        .membership_index()
        .await
        .with_context(|| format!("the groups of {email}"))?;
    let found: Vec<_> = index
        .effective(email)
        .into_iter()
        .filter(|m| !direct || m.via.is_none())
        .collect();
    let mut printer = ctx.printer(Shape::List, &["group", "via", "id"]);
    for m in &found {
        printer.row(&json!({
            "group": m.group.path,
            "via": m.via.clone().unwrap_or_else(|| "direct".into()),
            "id": m.group.id,
        }))?;
    }
    printer.finish()?;
    if found.is_empty() {
        let what = if direct {
            "directly in no group"
        } else {
            "in no group"
        };
        ctx.note(&format!("{email} is {what}"));
    }
    Ok(())
}

/// The address `users create` means: `--domain` completes a bare local part and must agree
/// with an address's own domain.
pub fn address_with_domain(email: &str, domain: Option<&str>) -> anyhow::Result<String> {
    let address = match domain.map(str::trim) {
        None => email.to_string(),
        Some(d) if !email::valid_domain(d) => {
            return Err(Usage(format!("--domain {d:?} is not a domain name")).into())
        }
        Some(d) if !email.contains('@') => format!("{}@{d}", email.trim()),
        Some(d) => {
            let given = email::normalize(email)?;
            if !email::domain_of(&given).eq_ignore_ascii_case(d) {
                return Err(Usage(format!("--email {email:?} is not in --domain {d:?}")).into());
            }
            given
        }
    };
    Ok(email::normalize(&address)?)
}

async fn create(
    ctx: &mut Ctx,
    email: &str,
    name: Option<String>,
    domain: Option<String>,
) -> anyhow::Result<()> {
    let address = address_with_domain(email, domain.as_deref())?;
    let name = name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    let targets = ctx.global.target_words();
    let dir = ctx.directory().await?;
    let created = match dir.create_user(&address, name.as_deref()).await {
        Ok(created) => created,
        Err(e) => {
            // An account that exists but is in no listing is queued for deletion: restoring
            // it is what helps, not an update (which the service refuses for it).
            let exists =
                matches!(&e, DirError::Api(api) if api.code() == "err_user_already_exists");
            // What holds the address: an alias of a mailbox is neither to update nor to restore.
            let taken = match exists {
                true => dir.lookup_address(&address).await.ok(),
                false => None,
            };
            return Err(explain_create(e, &address, &targets, taken));
        }
    };
    let mut printer = ctx.printer(Shape::Single, &["emailAddress", "name", "id"]);
    printer.row(&created)?;
    printer.finish()?;
    if dir.is_dry_run() {
        ctx.note(&format!(
            "dry run: would create {address}; nothing was sent"
        ));
    }
    Ok(())
}

fn explain_create(
    e: DirError,
    address: &str,
    targets: &str,
    taken: Option<crate::directory::address::Address>,
) -> anyhow::Error {
    use crate::directory::address::Address;
    // Pasted into a shell as shown: an address may hold `$`, `|`, `&` or a backquote.
    let word = crate::output::shell_flag("--email", address);
    let queued = matches!(taken, Some(Address::Queued(_)));
    let alias_of = match &taken {
        Some(Address::Alias { owner, .. }) => Some(owner.as_ref().map_or_else(
            || "another user's mailbox".to_string(),
            |o| format!("the mailbox {}", o.email_address),
        )),
        _ => None,
    };
    let hint = match &e {
        DirError::Api(api) if api.code() == "err_user_already_exists" && alias_of.is_some() => {
            &format!(
                "it is an alias address of {}: create the person under an address of their \
                 own (`mcsh {targets}users get {word}` shows the alias)",
                alias_of.as_deref().unwrap_or_default()
            )
        }
        DirError::Api(api) if api.code() == "err_user_already_exists" && queued => &format!(
            "it is queued for deletion: `mcsh {targets}users restore {word}` takes \
             it back"
        ),
        DirError::Api(api) if api.code() == "err_user_already_exists" => &format!(
            "use `mcsh {targets}users update {word}` to change it (or `mcsh \
             {targets}users restore {word}` if it was deleted)"
        ),
        DirError::Api(api) if api.code() == "err_domain_not_internal" => {
            "the address must be in one of the account's internal domains"
        }
        _ => "",
    };
    super::report::hinted(format!("create user {address}"), hint, e)
}

async fn update_user(
    ctx: &mut Ctx,
    update: UserUpdate,
    alias: Option<String>,
) -> anyhow::Result<()> {
    let changes_settings = update.name.is_some()
        || update.account_locked.is_some()
        || update.account_disabled.is_some();
    if !changes_settings && alias.is_none() {
        return Err(Usage(
            "nothing to update: give --name, --alias, --lock/--unlock or --disable/--enable".into(),
        )
        .into());
    }
    let email = update.email_address.clone();
    let dir = ctx.directory().await?;
    let mut result: Value = json!({ "emailAddress": email });
    if update.name.is_some() {
        // Read the name it replaces, so the audit line records it and `mcsh undo` can put it
        // back (one scan of the user's domain; scripts that listed users first skip it).
        dir.find_user(&email)
            .await
            .with_context(|| format!("read user {email} before renaming"))?;
    }
    if changes_settings {
        result = dir
            .update_user(&update)
            .await
            .with_context(|| format!("update user {email}"))?;
    }
    // Only what this update set is shown: a blank name column read as if the name was wiped.
    let mut columns = vec!["emailAddress"];
    if update.name.is_some() {
        columns.push("name");
    }
    if update.account_locked.is_some() {
        columns.push("accountLocked");
    }
    if update.account_disabled.is_some() {
        columns.push("accountDisabled");
    }
    if let Some(alias) = alias {
        dir.add_alias(&email, &alias)
            .await
            .with_context(|| format!("add alias {alias} to {email}"))?;
        result["alias"] = json!([alias]);
        columns.push("alias");
    }
    let shown: serde_json::Map<String, Value> = columns
        .iter()
        .filter_map(|c| result.get(*c).map(|v| (c.to_string(), v.clone())))
        .collect();
    let mut printer = ctx.printer(Shape::Single, &columns);
    printer.row(&Value::Object(shown))?;
    printer.finish()?;
    if dir.is_dry_run() {
        ctx.note(&format!("dry run: would update {email}; nothing was sent"));
    }
    Ok(())
}

async fn delete(ctx: &mut Ctx, email: &str, delete: bool) -> anyhow::Result<()> {
    if delete && !ctx.global.yes && !ctx.global.dry_run && crate::streams::stdin_is_terminal() {
        // Deletion is reversible until the purge runs, so only a person at a terminal is asked.
        if !ctx.confirm(&format!("queue {email} for deletion"))? {
            return Err(Usage("cancelled; nothing was changed".into()).into());
        }
    }
    let dir = ctx.directory().await?;
    let verb = if delete { "delete" } else { "restore" };
    let result = dir
        .set_deleted(email, delete)
        .await
        .with_context(|| format!("{verb} user {email}"))?;
    let mut printer = ctx.printer(Shape::Single, RESULT_COLUMNS);
    printer.row(
        &json!({ "emailAddress": result.item, "status": result.status, "message": result.message }),
    )?;
    printer.finish()?;
    if delete && !dir.is_dry_run() {
        ctx.note(&format!(
            "{email} is on the purge list: Mimecast deletes it later; until then `mcsh {}users restore {}` undoes this",
            ctx.global.target_words(),
            crate::output::shell_flag("--email", email)
        ));
    }
    Ok(())
}

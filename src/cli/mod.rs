//! The command line: parsing, dispatch, and the one place that turns errors into exit codes.
//!
//! Policy: each command group is its own module owning its clap definition and its `run`;
//! commands print results to stdout through [`crate::output`] and everything else to stderr.
//! Script commands run on the main thread (their functions block on the runtime); the others
//! run on the runtime, raced against Ctrl-C.

pub mod audit_cmd;
pub mod config_cmd;
pub mod context;
pub mod examples;
pub mod fleet;
pub mod groups;
pub mod man_cmd;
pub mod plan_cmd;
pub mod plan_key;
pub mod progress;
pub mod report;
pub mod sandbox_cmd;
pub mod script_cmd;
pub mod snapshot_cmd;
pub mod sync_cmd;
pub mod undo_cmd;
pub mod users;
pub mod workflows;

use std::ffi::OsString;

use clap::{Parser, Subcommand};

use crate::interrupt::Interrupt;
use crate::output::Format;
use crate::streams::Part;
pub use context::Ctx;

/// mcsh: a scriptable shell for Mimecast's directory (users, groups, membership).
///
/// Credentials come from MIMECAST_* environment variables, then the profile (--profile) of
/// the config file (`mcsh config path`). Add --sandbox to any command to run it against a
/// local imitation of Mimecast with a demo tenant, no account needed.
///
/// Without a command, mcsh opens the interactive shell on a terminal and runs the script on
/// standard input otherwise. `mcsh FILE.rhai ARGS...` runs a script, and so does a script
/// whose first line is `#!/usr/bin/env mcsh`.
#[derive(Debug, Clone, Parser)]
#[command(name = "mcsh", version, max_term_width = 100, after_help = examples::MCSH)]
pub struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub global: Global,
    /// Evaluate a Rhai expression and print its value, e.g. `mcsh -e 'users().len()'`
    #[arg(short = 'e', long = "eval", value_name = "EXPR")]
    pub eval: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Cli {
    /// Whether this command line opens the interactive shell: `mcsh repl`, or `mcsh` with no
    /// command and no `-e` on a terminal.
    pub(crate) fn opens_the_shell(&self) -> bool {
        match &self.command {
            Some(Command::Repl) => true,
            None => self.eval.is_none() && crate::streams::stdin_is_terminal(),
            Some(_) => false,
        }
    }
}

/// Options every command takes, before or after the subcommand.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Global options")]
pub struct Global {
    /// Profile of the config file to use
    #[arg(long, global = true, env = "MCSH_PROFILE", value_name = "NAME")]
    pub profile: Option<String>,
    /// Run against a copy of the tenant in a snapshot (`mcsh snapshot`): a rehearsal
    #[arg(long, global = true, value_name = "SNAPSHOT")]
    pub rehearse: Option<String>,
    /// Run against an embedded sandbox (demo tenant, state in the user's data dir)
    #[arg(long, global = true, env = "MCSH_SANDBOX", value_parser = clap::builder::FalseyValueParser::new())]
    pub sandbox: bool,
    /// Result format [default: table on a terminal, json otherwise]
    #[arg(short, long, global = true, value_enum, value_name = "FORMAT")]
    pub output: Option<Format>,
    /// Read for real, write nothing: show the writes that would be made
    #[arg(long, global = true)]
    pub dry_run: bool,
    /// Answer yes to confirmations (needed for destructive work without a terminal)
    #[arg(short = 'y', long, global = true)]
    pub yes: bool,
    /// Requests in flight at once for bulk work
    #[arg(long, global = true, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: Option<u16>,
    /// Items per request for bulk work
    #[arg(long, global = true, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=500))]
    pub batch_size: Option<u16>,
    /// More diagnostics on stderr (-v retries and waits, -vv every request, -vvv tokens)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Fewer diagnostics: errors only
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Plain output without colour (also: NO_COLOR)
    #[arg(long, global = true)]
    pub no_color: bool,
    /// CSV cells exactly as stored: no ' before cells a spreadsheet would run as formulas
    #[arg(long, global = true)]
    pub csv_raw: bool,
    /// Save the dry run's plan to FILE for `mcsh apply` (implies --dry-run)
    #[arg(long, global = true, value_name = "FILE")]
    pub plan_out: Option<String>,
    /// A script limit: operations, call-depth, memory, string-size, array-size or map-size (repeatable)
    #[arg(long, global = true, value_name = "NAME=VALUE")]
    pub limit: Vec<String>,
    /// Run over several tenants at once: these profiles, comma-separated (see docs/fleets.md)
    #[arg(long, global = true, value_delimiter = ',', value_name = "A,B,...", conflicts_with_all = ["all_profiles", "fleet"])]
    pub profiles: Vec<String>,
    /// Run over every profile of the config file at once
    #[arg(long, global = true, conflicts_with = "fleet")]
    pub all_profiles: bool,
    /// Run over a named set of profiles at once (`[fleets]` in the config file)
    #[arg(long, global = true, value_name = "NAME")]
    pub fleet: Option<String>,
    /// Tenants run at once over a fleet [default: 32]
    #[arg(long, global = true, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub fleet_jobs: Option<u16>,
    /// Set when this run is one tenant's part of a fleet run (never from the command line).
    #[arg(skip)]
    pub member: Option<fleet::Member>,
}

impl Global {
    /// The result format: as asked (`-o`), else a table on a terminal and JSON otherwise.
    pub fn format(&self) -> Format {
        self.output
            .unwrap_or(if crate::streams::stdout_is_terminal() {
                Format::Table
            } else {
                Format::Json
            })
    }

    /// The flags that choose the tenant (`--sandbox`, `--profile P`, `--rehearse S`), for
    /// running something again on the same tenant.
    pub fn target_flags(&self) -> Vec<String> {
        let mut flags = Vec::new();
        if let Some(s) = &self.rehearse {
            flags.extend(crate::output::flag_words("--rehearse", s));
        } else if self.sandbox {
            flags.push("--sandbox".into());
        }
        if let Some(p) = &self.profile {
            flags.extend(crate::output::flag_words("--profile", p));
        }
        flags
    }

    /// [`Global::target_flags`] as words to put after `mcsh` in a hint, each followed by a
    /// space ("" for the default profile), quoted where a shell needs it.
    pub fn target_words(&self) -> String {
        self.target_flags()
            .iter()
            .map(|f| format!("{} ", crate::output::shell_word(f)))
            .collect()
    }
}

/// The commands.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Internal users: list, get, create, update, delete, restore
    #[command(subcommand)]
    Users(users::UsersCmd),
    /// Directory groups and their members
    #[command(subcommand)]
    Groups(groups::GroupsCmd),
    /// The configuration file and the credentials in use
    #[command(subcommand)]
    Config(config_cmd::ConfigCmd),
    /// A local imitation of the Mimecast API, for trying mcsh and for tests
    #[command(subcommand)]
    Sandbox(sandbox_cmd::SandboxCmd),
    /// Onboard people: create the user, set the name, join groups (safe to re-run)
    #[command(after_help = examples::ONBOARD)]
    Onboard(workflows::OnboardArgs),
    /// Offboard people: leave every group, lock, queue for deletion (asks; --yes)
    #[command(after_help = examples::OFFBOARD)]
    Offboard(workflows::OffboardArgs),
    /// Export every user (or one domain's) as JSON or CSV, optionally with their groups
    #[command(after_help = examples::EXPORT)]
    Export(workflows::ExportArgs),
    /// Create department groups from names or paths, nested by path (safe to re-run)
    #[command(after_help = examples::DEPARTMENTS)]
    Departments(workflows::DepartmentsArgs),
    /// Carry out a plan saved with --plan-out, unless the directory changed since
    #[command(after_help = examples::APPLY)]
    Apply {
        /// The plan file
        #[arg(value_name = "FILE")]
        file: String,
    },
    /// Make the directory match an HR feed (CSV email,name,groups): creates, names, memberships; removals only where --manage/--offboard-missing say
    #[command(after_help = examples::SYNC)]
    Sync(sync_cmd::SyncArgs),
    /// Save the whole tenant (domains, users, groups, members) as one JSON snapshot
    #[command(after_help = examples::SNAPSHOT)]
    Snapshot {
        /// Write it to FILE (atomically) rather than to standard output
        #[arg(long, value_name = "FILE")]
        out: Option<String>,
    },
    /// What changed between two snapshots, or a snapshot and the tenant now (--live); exit 1 when they differ
    #[command(after_help = examples::DIFF)]
    Diff {
        /// The snapshot before
        #[arg(value_name = "BEFORE")]
        before: String,
        /// The snapshot after
        #[arg(value_name = "AFTER")]
        after: Option<String>,
        /// Compare with the tenant as it is now (or the rehearsal copy, with --rehearse)
        #[arg(long)]
        live: bool,
    },
    /// Take back what a run did (its id is the `run` column of `mcsh audit`); asks, or --yes
    #[command(after_help = examples::UNDO, override_usage = "mcsh undo <RUN_ID|--last>")]
    Undo {
        /// The run to undo
        #[arg(
            value_name = "RUN_ID",
            required_unless_present = "last",
            conflicts_with = "last"
        )]
        run: Option<String>,
        /// The newest run with changes that was not undone yet
        #[arg(long)]
        last: bool,
    },
    /// Show the audit log: every write mcsh made (and planned)
    #[command(after_help = examples::AUDIT)]
    Audit {
        /// Only entries since: 30m, 2h, 7d, 2026-11-28 or an RFC 3339 time
        #[arg(long, value_name = "WHEN")]
        since: Option<String>,
        /// Only the last N entries
        #[arg(long, value_name = "N")]
        last: Option<usize>,
    },
    /// Run a Rhai script with the directory built in (FILE `-` reads standard input)
    #[command(after_help = examples::RUN)]
    Run {
        /// The script
        #[arg(value_name = "FILE")]
        file: String,
        /// Arguments for the script (`args` in the script)
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "ARGS"
        )]
        args: Vec<String>,
    },
    /// The example scripts built into mcsh: list them, or print one (`> NAME.rhai` to keep a
    /// copy); `mcsh run NAME` runs one
    #[command(after_help = examples::EXAMPLES)]
    Examples {
        /// The example to print (none: list them)
        #[arg(value_name = "NAME")]
        name: Option<String>,
    },
    /// The interactive shell (what a bare `mcsh` opens on a terminal)
    #[command(after_help = examples::REPL)]
    Repl,
    /// The scripting reference: every function, from its own documentation
    #[command(after_help = examples::DOC)]
    Doc {
        /// Only this function (e.g. `users`, `add_member`)
        #[arg(value_name = "NAME", conflicts_with = "markdown", num_args = 0..)]
        name: Vec<String>,
        /// The whole reference as Markdown (what docs/scripting-reference.md holds)
        #[arg(long)]
        markdown: bool,
    },
    /// Print a shell completion script
    #[command(after_help = examples::COMPLETIONS)]
    Completions {
        /// The shell
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), of mcsh or of one command
    #[command(after_help = examples::MAN)]
    Man {
        /// The command, e.g. `groups add-member` (none: mcsh itself)
        #[arg(value_name = "COMMAND")]
        command: Vec<String>,
        /// Write every page (mcsh.1 and one per command) into DIR instead
        #[arg(long, value_name = "DIR", conflicts_with = "command")]
        dir: Option<std::path::PathBuf>,
    },
    /// `mcsh FILE.rhai ARGS...`: run a script
    #[command(external_subcommand)]
    Script(Vec<String>),
}

/// The command line as parsed: each command's help lists its own options and names the
/// global ones once (`mcsh --help` lists those), instead of repeating all of them.
pub fn command() -> clap::Command {
    let cmd = <Cli as clap::CommandFactory>::command();
    // Each command gets the global options as hidden copies: clap propagates a global option
    // only where there is none of that id, so these (and their copies further down) are what
    // parse, and help shows only the command's own.
    let hidden: Vec<clap::Arg> = cmd
        .get_arguments()
        .filter(|a| a.is_global_set())
        .map(|a| a.clone().hide(true))
        .collect();
    let note = "Global options (--sandbox, --profile, --profiles, --fleet, --rehearse, -o, \
                --dry-run, --plan-out, --yes, -v, -q, --concurrency, --batch-size, --limit, \
                --csv-raw, --no-color) work with every command: `mcsh --help` lists them.";
    fn noted(cmd: clap::Command, note: &str) -> clap::Command {
        let after = match cmd.get_after_help() {
            Some(h) => format!("{note}\n\n{h}"),
            None => note.to_string(),
        };
        cmd.after_help(after)
            .mut_subcommands(|sub| noted(sub, note))
    }
    cmd.mut_subcommands(|sub| {
        let sub = hidden.iter().fold(sub, |sub, a| sub.arg(a.clone()));
        noted(sub, note)
    })
}

/// Parses `args`, runs the command and returns the process exit code.
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    match parse(&args) {
        Ok(cli) => execute(cli, &args, None),
        Err(code) => code,
    }
}

/// Runs one tenant's part of a fleet run on this thread: `args` (after `mcsh`) as `member`,
/// with `part`'s streams and memory count; returns its exit code.
pub fn run_part(args: &[OsString], member: fleet::Member, part: &std::sync::Arc<Part>) -> i32 {
    crate::streams::enter(part);
    let args: Vec<OsString> = std::iter::once(OsString::from("mcsh"))
        .chain(args.iter().cloned())
        .collect();
    let code = match parse_once(&args) {
        Ok(mut cli) => {
            fleet::become_member(&mut cli, member);
            execute(cli, &args, Some(part))
        }
        Err(code) => code,
    };
    crate::interrupt::forget_last_words();
    code
}

/// [`parse`], remembering the last line parsed: a fleet's parts all run the same line, and
/// building clap's command tree to parse it was a millisecond of every tenant's start.
fn parse_once(args: &[OsString]) -> Result<Cli, i32> {
    static LAST: std::sync::Mutex<Option<(Vec<OsString>, Cli)>> = std::sync::Mutex::new(None);
    if let Some((line, cli)) = LAST.lock().ok().as_deref().and_then(Option::as_ref) {
        if line == args {
            return Ok(cli.clone());
        }
    }
    let cli = parse(args)?;
    if let Ok(mut last) = LAST.lock() {
        *last = Some((args.to_vec(), cli.clone()));
    }
    Ok(cli)
}

/// The command line `args` (the program's name first) as options, or the exit code after
/// saying why it is not one (or after printing the help it asked for).
fn parse(args: &[OsString]) -> Result<Cli, i32> {
    let parsed = command()
        .try_get_matches_from(args)
        .and_then(|m| <Cli as clap::FromArgMatches>::from_arg_matches(&m));
    match parsed {
        Ok(cli) => Ok(cli),
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            if let Some(tip) = report::argument_tip(&e, args) {
                // What the admin most likely meant, instead of clap's generic advice.
                let plain = e.render().to_string();
                let mut kept: Vec<&str> = plain
                    .lines()
                    .filter(|l| !l.trim_start().starts_with("tip:"))
                    .collect();
                // The tip's line gone, its blank neighbours are one blank line.
                kept.dedup_by(|a, b| a.trim().is_empty() && b.trim().is_empty());
                crate::eprintln_safe!(
                    "{}",
                    crate::output::printable_text(kept.join("\n").trim_end())
                );
                crate::eprintln_safe!("\n  tip: {}", crate::output::printable_text(&tip));
                return Err(code);
            }
            let plain = e.render().to_string();
            if plain
                .chars()
                .any(|c| c != '\n' && c != '\t' && c.is_control())
                || plain != crate::output::printable_text(&plain)
            {
                // An argument holding control or bidi characters is echoed escaped, uncolored.
                crate::eprintln_safe!("{}", crate::output::printable_text(plain.trim_end()));
            } else {
                let _ = e.print();
            }
            Err(code)
        }
    }
}

/// Runs `cli` (parsed from `args`), in a fleet's `part` or as the process's own run.
fn execute(mut cli: Cli, args: &[OsString], part: Option<&std::sync::Arc<Part>>) -> i32 {
    if cli.global.plan_out.is_some() {
        cli.global.dry_run = true;
    }
    // A fleet's part leaves the process's colours alone: its streams drop them (streams.rs).
    if part.is_none() && (cli.global.no_color || std::env::var_os("NO_COLOR").is_some()) {
        colored::control::set_override(false);
    }
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    runtime.enable_all();
    if let Some(part) = part {
        // What the part's requests and tasks print or allocate is the part's too.
        let part = part.clone();
        runtime.on_thread_start(move || crate::streams::enter(&part));
    }
    let runtime = match runtime.build() {
        Ok(rt) => rt,
        Err(e) => {
            let e = anyhow::anyhow!("cannot start the async runtime: {e}");
            return report::print(&e, cli.global.quiet);
        }
    };
    // A fleet's part is stopped by its fleet's Ctrl-C, which the process already listens for.
    let interrupt = match part {
        Some(_) => crate::interrupt::shared(),
        None => crate::interrupt::install(runtime.handle(), !cli.opens_the_shell()),
    };
    let quiet = cli.global.quiet;
    let result = match fleet::Fleet::of(&cli) {
        Ok(Some(fleet)) => fleet.run(cli, args, &runtime, &interrupt),
        Ok(None) => dispatch(cli, &runtime, &interrupt),
        Err(e) => Err(e),
    };
    // An interrupted run waited for the writes it had sent (`interrupt::wind_down`); what is
    // still on the wire after a second interrupt is not waited for.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    let result = result.and_then(|()| match crate::stdout_failure() {
        // Output a script or the REPL printed was lost: not a success.
        Some(why) => Err(anyhow::anyhow!("cannot write to standard output: {why}")),
        None => Ok(()),
    });
    match result {
        Ok(()) => 0,
        Err(e) => report::print(&e, quiet),
    }
}

fn dispatch(
    cli: Cli,
    runtime: &tokio::runtime::Runtime,
    interrupt: &Interrupt,
) -> anyhow::Result<()> {
    let global = cli.global;
    if global.sandbox && global.rehearse.is_some() {
        return Err(report::Usage(
            "--rehearse runs on a copy of the snapshot's tenant; --sandbox (or MCSH_SANDBOX) on the demo: choose one".into(),
        )
        .into());
    }
    let command = match (cli.eval, cli.command) {
        (Some(_), Some(_)) => {
            return Err(report::Usage(
                "-e EXPR runs on its own; drop the command, or drop -e".into(),
            )
            .into())
        }
        (Some(expr), None) => return script_cmd::eval(&global, runtime, &expr),
        (None, None) if crate::streams::stdin_is_terminal() => {
            return script_cmd::repl(&global, runtime)
        }
        (None, None) => return script_cmd::run_file(&global, runtime, "-", Vec::new()),
        (None, Some(command)) => command,
    };
    let command = match command {
        Command::Run { file, args } => {
            let args = script_cmd::run_args(&file, args)?;
            return script_cmd::run_file(&global, runtime, &file, args);
        }
        Command::Script(words) => return script_cmd::run_external(&global, runtime, words),
        Command::Repl => return script_cmd::repl(&global, runtime),
        Command::Doc { name, markdown } => {
            if name.len() > 1 {
                // `mcsh doc users list`: a command's words, not a function's name.
                let words = name.join(" ");
                return Err(report::Usage(format!(
                    "`mcsh doc` documents script functions (`mcsh doc {}`); for the command \
                     `{words}` see `mcsh {words} --help` or `mcsh man {words}`",
                    name[0]
                ))
                .into());
            }
            return script_cmd::doc(&global, runtime, name.first().map(String::as_str), markdown);
        }
        Command::Onboard(a) => return workflows::onboard(&global, runtime, a),
        Command::Offboard(a) => return workflows::offboard(&global, runtime, a),
        Command::Export(a) => return workflows::export(&global, runtime, a),
        Command::Departments(a) => return workflows::departments(&global, runtime, a),
        other => other,
    };
    runtime.block_on(async move {
        let mut ctx = Ctx::new(global);
        // Ctrl-C is how a served sandbox is stopped: a clean stop, not an interruption.
        let serving = matches!(
            command,
            Command::Sandbox(sandbox_cmd::SandboxCmd::Serve { .. })
        );
        let again = match &command {
            Command::Undo { .. } => progress::Again::Finishes,
            Command::Apply { .. } => progress::Again::NewPlan,
            _ => progress::Again::Skips,
        };
        let stop = ctx.stop.clone();
        let result = {
            let run = run_command(&mut ctx, command);
            tokio::pin!(run);
            tokio::select! {
                // An interrupt wins over a call it made fail (not sent: stopped).
                biased;
                _ = interrupt.wait(), if !serving => {
                    // Writes already sent are answered and recorded before the run stops.
                    crate::interrupt::wind_down(run, Some(&stop), interrupt, |s| {
                        crate::eprintln_data!("{s}");
                    })
                    .await;
                    Err(report::Interrupted.into())
                }
                r = &mut run => r,
            }
        };
        ctx.bar.finish();
        if result.as_ref().is_err_and(|e| report::exit_code(e) == 130) {
            if let Some(summary) = ctx.bar.interrupted_summary(again) {
                crate::eprintln_data!("{summary}");
            }
        }
        let after = plan_cmd::after_run(
            &ctx.global,
            &ctx.identity(),
            ctx.connected().as_ref(),
            false,
        );
        ctx.close().await;
        result.and(after)
    })
}

async fn run_command(ctx: &mut Ctx, command: Command) -> anyhow::Result<()> {
    match command {
        Command::Users(cmd) => users::run(ctx, cmd).await,
        Command::Groups(cmd) => groups::run(ctx, cmd).await,
        Command::Config(cmd) => config_cmd::run(ctx, cmd),
        Command::Sandbox(cmd) => sandbox_cmd::run(ctx, cmd).await,
        Command::Apply { file } => plan_cmd::apply(ctx, &file).await,
        Command::Snapshot { out } => snapshot_cmd::snapshot(ctx, out.as_deref()).await,
        Command::Diff {
            before,
            after,
            live,
        } => snapshot_cmd::run_diff(ctx, &before, after.as_deref(), live).await,
        Command::Sync(a) => sync_cmd::run(ctx, a).await,
        Command::Undo { run, last } => undo_cmd::run(ctx, run.as_deref(), last).await,
        Command::Audit { since, last } => audit_cmd::run(ctx, since.as_deref(), last),
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command, "mcsh", &mut script);
            // A closed pipe (`| head -0`) ends the output quietly: report.rs maps it.
            let mut out = crate::streams::stdout();
            std::io::Write::write_all(&mut out, &script)?;
            std::io::Write::flush(&mut out)?;
            Ok(())
        }
        Command::Man { command, dir } => man_cmd::run(&command, dir.as_deref()),
        Command::Examples { name } => script_cmd::examples(ctx, name.as_deref()),
        Command::Run { .. }
        | Command::Script(_)
        | Command::Repl
        | Command::Doc { .. }
        | Command::Onboard(_)
        | Command::Offboard(_)
        | Command::Export(_)
        | Command::Departments(_) => {
            unreachable!("script commands are dispatched before the runtime")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remembered_parse_is_only_reused_for_the_same_line() {
        let line = |words: &[&str]| -> Vec<OsString> { words.iter().map(OsString::from).collect() };
        let a = parse_once(&line(&["mcsh", "--profile", "acme", "users", "list"])).unwrap();
        let again = parse_once(&line(&["mcsh", "--profile", "acme", "users", "list"])).unwrap();
        let b = parse_once(&line(&["mcsh", "--profile", "globex", "groups", "list"])).unwrap();
        assert_eq!(a.global.profile.as_deref(), Some("acme"));
        assert_eq!(again.global.profile.as_deref(), Some("acme"));
        assert!(matches!(again.command, Some(Command::Users(_))));
        assert_eq!(b.global.profile.as_deref(), Some("globex"));
        assert!(matches!(b.command, Some(Command::Groups(_))));
    }

    #[test]
    fn the_command_line_definition_is_consistent() {
        <Cli as clap::CommandFactory>::command().debug_assert();
    }

    #[test]
    fn every_command_parses_with_every_global_option() {
        for args in [
            &["mcsh", "audit", "--last", "3", "--limit", "operations=5"][..],
            &[
                "mcsh",
                "--plan-out",
                "p.json",
                "onboard",
                "--email",
                "a@b.com",
            ],
            &[
                "mcsh", "export", "--format", "csv", "-o", "json", "--limit", "memory=9",
            ],
        ] {
            let cli = Cli::try_parse_from(args).unwrap_or_else(|e| panic!("{args:?}: {e}"));
            assert!(cli.command.is_some());
        }
    }
}

//! The command line: parsing, dispatch, and the one place that turns errors into exit codes.
//!
//! Policy: each command group is its own module owning its clap definition and its `run`;
//! commands print results to stdout through [`crate::output`] and everything else to stderr.

pub mod config_cmd;
pub mod context;
pub mod groups;
pub mod report;
pub mod sandbox_cmd;
pub mod users;

use std::ffi::OsString;

use clap::{Parser, Subcommand};

use crate::output::Format;
pub use context::Ctx;

/// mcsh: a scriptable shell for Mimecast's directory (users, groups, membership).
///
/// Credentials come from flags, then MIMECAST_* environment variables, then the profile in
/// the config file (`mcsh config path`). Add --sandbox to any command to run it against a
/// local imitation of Mimecast with a demo tenant, no account needed.
#[derive(Debug, Parser)]
#[command(
    name = "mcsh",
    version,
    arg_required_else_help = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub global: Global,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes, before or after the subcommand.
#[derive(Debug, Clone, clap::Args)]
pub struct Global {
    /// Profile of the config file to use
    #[arg(long, global = true, env = "MCSH_PROFILE", value_name = "NAME")]
    pub profile: Option<String>,
    /// Run against an embedded sandbox (demo tenant, state in the user's data dir)
    #[arg(long, global = true)]
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
}

/// The commands.
#[derive(Debug, Subcommand)]
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
    /// Print a shell completion script
    Completions {
        /// The shell
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// Parses `args`, runs the command and returns the process exit code.
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    if cli.global.no_color || std::env::var_os("NO_COLOR").is_some() {
        colored::control::set_override(false);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            return report::print(
                &anyhow::anyhow!("cannot start the async runtime: {e}"),
                cli.global.quiet,
            )
        }
    };
    let quiet = cli.global.quiet;
    let result = runtime.block_on(async move {
        tokio::select! {
            r = dispatch(cli) => r,
            _ = tokio::signal::ctrl_c() => Err(report::Interrupted.into()),
        }
    });
    // Do not wait for in-flight requests to finish: an interrupted run ends now.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    match result {
        Ok(()) => 0,
        Err(e) => report::print(&e, quiet),
    }
}

async fn dispatch(cli: Cli) -> anyhow::Result<()> {
    let mut ctx = Ctx::new(cli.global);
    let result = match cli.command {
        Command::Users(cmd) => users::run(&mut ctx, cmd).await,
        Command::Groups(cmd) => groups::run(&mut ctx, cmd).await,
        Command::Config(cmd) => config_cmd::run(&ctx, cmd),
        Command::Sandbox(cmd) => sandbox_cmd::run(&ctx, cmd).await,
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "mcsh", &mut std::io::stdout());
            Ok(())
        }
    };
    ctx.close().await;
    result
}

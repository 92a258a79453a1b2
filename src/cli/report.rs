//! Errors to exit codes and messages: the only place that decides either.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | done (or already so) |
//! | 1 | failure |
//! | 2 | usage error: bad flags or input |
//! | 3 | partial: some items of a bulk job failed (each was reported) |
//! | 4 | credentials or configuration missing or refused |
//! | 130 | interrupted |

use colored::Colorize;

use crate::api::ApiError;
use crate::config::ConfigError;
use crate::directory::email::BadEmail;
use crate::directory::DirError;

/// Bad input from the command line or an input file (exit 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Usage(pub String);

/// Some items of a bulk job failed (exit 3, or 1 when all failed).
#[derive(Debug, thiserror::Error)]
#[error("{failed} of {total} items failed (each is listed above)")]
pub struct Partial {
    /// Items that failed.
    pub failed: usize,
    /// Items in the job.
    pub total: usize,
}

impl Partial {
    /// `Ok` when nothing of `total` failed; otherwise the error that says how many did.
    pub fn check(failed: usize, total: usize) -> anyhow::Result<()> {
        if failed == 0 {
            Ok(())
        } else {
            Err(Partial { failed, total }.into())
        }
    }
}

/// An error with a next step for the user, printed as a `hint:` line after the message.
#[derive(Debug)]
pub struct Hinted {
    context: String,
    hint: String,
    source: Box<dyn std::error::Error + Send + Sync + 'static>,
}

impl std::fmt::Display for Hinted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.context)
    }
}

impl std::error::Error for Hinted {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.source.as_ref())
    }
}

/// `source` under `context`, with `hint` (when not empty) shown after it.
pub fn hinted(
    context: impl Into<String>,
    hint: &str,
    source: impl std::error::Error + Send + Sync + 'static,
) -> anyhow::Error {
    Hinted {
        context: context.into(),
        hint: hint.to_string(),
        source: Box::new(source),
    }
    .into()
}

/// A script failed; its message, location and excerpt are ready to print.
#[derive(Debug)]
pub struct ScriptFailed(pub crate::script::runner::Failure);

impl std::fmt::Display for ScriptFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for ScriptFailed {}

/// Two things compared differ (exit 1, like `diff`); what differs was printed.
#[derive(Debug, thiserror::Error)]
#[error("they differ")]
pub struct Differs;

/// A fleet run ended with tenants not done: the exit code is the worst of theirs (3 when some
/// tenants were done and others not); each tenant's line was printed.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct FleetEnded {
    /// The exit code of the whole run.
    pub code: i32,
    /// Which tenants did not finish.
    pub message: String,
}

/// The user pressed Ctrl-C (exit 130).
#[derive(Debug, thiserror::Error)]
#[error("interrupted")]
pub struct Interrupted;

/// Whether `e` is only the reader of our output going away (`mcsh ... | head`).
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// The exit code for `e`.
pub fn exit_code(e: &anyhow::Error) -> i32 {
    if is_broken_pipe(e) {
        return 0;
    }
    for cause in e.chain() {
        if let Some(f) = cause.downcast_ref::<FleetEnded>() {
            return f.code;
        }
        if cause.is::<Interrupted>() {
            return 130;
        }
        if let Some(s) = cause.downcast_ref::<ScriptFailed>() {
            return s.0.exit_code;
        }
        if let Some(p) = cause.downcast_ref::<Partial>() {
            return if p.failed < p.total { 3 } else { 1 };
        }
        if matches!(
            cause.downcast_ref::<DirError>(),
            Some(DirError::BadName { .. } | DirError::BadPath { .. } | DirError::Refused { .. })
        ) {
            return 2;
        }
        if cause.is::<Usage>() || cause.is::<BadEmail>() {
            return 2;
        }
        if cause.is::<ConfigError>() {
            return 4;
        }
        if let Some(api) = cause.downcast_ref::<ApiError>() {
            return if api.is_auth() { 4 } else { 1 };
        }
        if let Some(DirError::Api(api)) = cause.downcast_ref::<DirError>() {
            return if api.is_auth() { 4 } else { 1 };
        }
    }
    1
}

/// `word` coloured by `paint` for people, or plain in a fleet's part: the fleet passes its lines
/// on behind its name and reads its `error:` lines.
pub fn painted(word: &str, paint: impl FnOnce(&str) -> colored::ColoredString) -> String {
    if crate::streams::part().is_some() {
        word.to_string()
    } else {
        paint(word).to_string()
    }
}

/// Prints `e` on stderr as `error: context: cause` and returns its exit code.
pub fn print(e: &anyhow::Error, quiet: bool) -> i32 {
    let code = exit_code(e);
    if is_broken_pipe(e) || e.is::<Differs>() {
        return code;
    }
    if !(quiet && code == 130) {
        crate::eprintln_safe!(
            "{} {}",
            painted("error:", |w| w.red().bold()),
            crate::output::printable_text(&format!("{e:#}"))
        );
        for s in e.chain().filter_map(|c| c.downcast_ref::<ScriptFailed>()) {
            if let Some(excerpt) = &s.0.excerpt {
                crate::eprintln_safe!("{}", crate::output::printable_text(excerpt));
            }
        }
        for h in e.chain().filter_map(|c| c.downcast_ref::<Hinted>()) {
            if !h.hint.is_empty() {
                crate::eprintln_safe!(
                    "{} {}",
                    painted("hint:", |w| w.cyan().bold()),
                    crate::output::printable_text(&h.hint)
                );
            }
        }
    }
    code
}

/// A tip for an argument clap did not know, when the admin most likely meant another one:
/// `--name` for a group (groups are named with `--description`), `--format` outside export
/// (`-o/--output`), a flag given to `departments` (it takes names as words).
pub fn argument_tip(e: &clap::Error, args: &[std::ffi::OsString]) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if e.kind() != ErrorKind::UnknownArgument {
        return None;
    }
    let arg = match e.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(s)) => s.split('=').next().unwrap_or("").to_string(),
        _ => return None,
    };
    // The command words: what is neither an option nor the value of a global option.
    const VALUED: &[&str] = &[
        "--profile",
        "--rehearse",
        "-o",
        "--output",
        "--concurrency",
        "--batch-size",
        "--plan-out",
        "--limit",
    ];
    let mut words: Vec<String> = Vec::new();
    let mut skip = false;
    for a in args.iter().skip(1).map(|a| a.to_string_lossy().to_string()) {
        if std::mem::take(&mut skip) {
            continue;
        }
        if a.starts_with('-') {
            skip = VALUED.contains(&a.as_str());
            continue;
        }
        words.push(a);
        if words.len() == 2 {
            break;
        }
    }
    let first = words.first().map(String::as_str).unwrap_or("");
    let second = words.get(1).map(String::as_str).unwrap_or("");
    match (first, second, arg.as_str()) {
        ("groups", "create" | "rename", "--name") => Some(format!(
            "a group's name is its --description (Mimecast's word for it): `mcsh groups {second} \
             --description NAME`"
        )),
        ("departments", _, a) if a.starts_with("--") && a != "--file" && a != "--parent" => {
            Some(format!(
                "departments takes the names as words, no flag before them: `mcsh departments \
                 Engineering \"Engineering/Platform\"` (or --file FILE); drop {a}"
            ))
        }
        (c, _, "--format") if c != "export" => Some(
            "the output format is -o/--output: `-o json`, `-o csv`, `-o table` or `-o jsonl` \
             (only `export` has a --format of its own)"
                .into(),
        ),
        _ => None,
    }
}

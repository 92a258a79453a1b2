//! `mcsh run`, `mcsh FILE.rhai`, `mcsh -e`, scripts on stdin, `mcsh repl` and `mcsh doc`.
//!
//! Policy: the session connects on the first API call, so `mcsh -e '1+1'` and scripts that
//! never call the API need no configuration and start fast; a fleet's tenant, whose profile
//! is known to be wanted, connects as it starts and fetches its token while it compiles.
//! `print` goes to stdout, `debug` to stderr. A failure names `file:line:column`, shows the line with a caret, and exits
//! with the code its kind deserves.

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;

use rhai::{Engine, Scope};

use super::context::{self, terminal_width, Ctx};
use super::plan_cmd;
use super::report::{ScriptFailed, Usage};
use super::Global;
use crate::interrupt;
use crate::output::{render_value, Format};
use crate::script::fields;
use crate::script::host::Said;
use crate::script::host::{Connector, Prompter};
use crate::script::{self, docs, runner, Host, Limits};

/// An engine, its scope and host, ready to run.
pub(crate) struct Session {
    pub(crate) ctx: Rc<RefCell<Ctx>>,
    pub(crate) engine: Engine,
    pub(crate) scope: Scope<'static>,
    pub(crate) host: Rc<Host>,
    pub(crate) limits: Limits,
    /// The script is mcsh's own (a workflow calling its stdlib module): its calls were
    /// checked when mcsh was built (`check::tests`), so the run skips the call check.
    pub(crate) own_code: bool,
}

/// A session for `global`'s options, with `args` as the script's arguments.
pub(crate) fn session(
    global: &Global,
    runtime: &tokio::runtime::Runtime,
    args: Vec<String>,
) -> anyhow::Result<Session> {
    let limits = Limits::parse_all(&global.limit).map_err(Usage)?;
    let handle = runtime.handle().clone();
    let ctx = Rc::new(RefCell::new(Ctx::new(global.clone())));
    if global.member.is_some() {
        // A fleet's tenant calls its tenant: its token is fetched while the engine is built
        // and the script compiled (twenty tenants starting at once share two cores).
        runtime.block_on(ctx.borrow_mut().connect_ahead());
    }
    let shared = ctx.clone();
    let connector: Connector = Box::new(move || handle.block_on(shared.borrow_mut().directory()));
    let policy = global.clone();
    let prompter: Prompter = Box::new(move |q| context::confirm(&policy, q));
    let host = Host::new(
        runtime.handle().clone(),
        interrupt::shared(),
        connector,
        prompter,
        args,
        global.dry_run,
    );
    host.set_command(format!("mcsh {}", global.target_words()));
    let tenant_handle = runtime.handle().clone();
    let tenant_ctx = ctx.clone();
    host.set_tenant_source(Box::new(move || {
        tenant_handle.block_on(tenant_ctx.borrow_mut().tenant())
    }));
    // A fleet's tenant writes what its script prints as `{"mcshPrinted": line}` lines, so the
    // fleet shows each exactly and never takes one for a row or for its columns.
    let member = global.member.is_some();
    host.set_output(Box::new(move |bytes| {
        let mut out = crate::streams::stdout();
        if member {
            for line in String::from_utf8_lossy(bytes).lines() {
                writeln!(
                    out,
                    "{}",
                    crate::output::fleet_line(crate::output::PRINTED_KEY, line.into())
                )?;
            }
        } else if out.is_terminal() {
            // On a terminal, data written to `-` cannot move or hide text; into a pipe or a
            // file it goes exactly as written.
            let text = crate::output::printable_text(&String::from_utf8_lossy(bytes));
            out.write_all(text.as_bytes())?;
        } else {
            out.write_all(bytes)?;
        }
        out.flush()
    }));
    let mut engine = script::engine(&host, &limits);
    // On a terminal, what a script prints is shown with control and bidi characters escaped;
    // into a pipe or file it goes exactly as printed (it may be data).
    let terminal = crate::streams::stdout_is_terminal();
    host.set_speaker(Box::new(move |said| match said {
        Said::Print(text) if member => {
            // A line each, blank ones too (`print("")`).
            let lines: Vec<&str> = if text.is_empty() {
                vec![""]
            } else {
                text.lines().collect()
            };
            for line in lines {
                crate::println_safe!(
                    "{}",
                    crate::output::fleet_line(crate::output::PRINTED_KEY, line.into())
                );
            }
        }
        Said::Print(text) if terminal => crate::println_data!("{text}"),
        Said::Print(text) => crate::println_safe!("{text}"),
        Said::Debug(text) => crate::eprintln_data!("{text}"),
        Said::Output(_) => {}
    }));
    // Through the host: while writes are queued, what is said waits for them (host.rs).
    let h = host.clone();
    engine.on_print(move |text| h.say(Said::Print(text.to_string())));
    let h = host.clone();
    engine.on_debug(move |text, source, pos| {
        let at = match (source, pos.line()) {
            (Some(s), Some(l)) => format!("{s}:{l}: "),
            (None, Some(l)) => format!("line {l}: "),
            _ => String::new(),
        };
        h.say(Said::Debug(format!("{at}{text}")));
    });
    let scope = script::scope(&host);
    Ok(Session {
        ctx,
        engine,
        scope,
        host,
        limits,
        own_code: false,
    })
}

/// Runs `source` named `name`; under `--dry-run` tells what would have been written.
pub(crate) fn execute(
    global: &Global,
    s: &mut Session,
    name: &str,
    source: &str,
) -> anyhow::Result<rhai::Dynamic> {
    let source = runner::strip_shebang(source);
    let ast =
        runner::compile(&s.engine, &s.scope, name, &source, &s.limits).map_err(ScriptFailed)?;
    if !s.own_code {
        runner::check_calls(&s.engine, &ast, name, &source).map_err(ScriptFailed)?;
    }
    s.host
        .note_writes(ast.source().unwrap_or(""), fields::Writes::of(&ast));
    s.host.set_sites(&ast, &source, true);
    let result = runner::run(&s.engine, &mut s.scope, &ast, name, &source, &s.limits);
    let result = runner::finish(&s.host, result, name, &source, &s.limits).map_err(ScriptFailed);
    let ctx = s.ctx.borrow();
    ctx.bar.finish();
    // The loop an admin writes first, slow without saying why: said, with the fast form.
    if !s.own_code {
        for line in s.host.waited_note() {
            ctx.note(&format!("note: {line}"));
        }
    }
    if matches!(&result, Err(ScriptFailed(f)) if f.exit_code == 130) {
        // mcsh's own workflows find what is done; an admin's script makes its calls again.
        let again = if s.own_code {
            super::progress::Again::Skips
        } else {
            super::progress::Again::Redoes
        };
        if let Some(summary) = ctx.bar.interrupted_summary(again) {
            crate::eprintln_data!("{summary}");
        }
    }
    let after = plan_cmd::after_run(
        global,
        &ctx.identity(),
        s.host.connected().as_ref(),
        result.is_err(),
    );
    let value = result?;
    after?;
    Ok(value)
}

/// `mcsh run FILE ARGS...` (FILE `-` is standard input).
pub fn run_file(
    global: &Global,
    runtime: &tokio::runtime::Runtime,
    file: &str,
    args: Vec<String>,
) -> anyhow::Result<()> {
    // Where no file has the name, a bundled example may: the README's tour works anywhere.
    if file != "-" && !std::path::Path::new(file).exists() {
        if let Some((name, source)) = crate::script::examples::find(file) {
            if !global.quiet {
                crate::eprintln_data!(
                    "running the bundled example {name} (no file {file} here); `mcsh examples {name} > {name}.rhai` saves a copy to change"
                );
            }
            let mut s = session(global, runtime, args)?;
            let value = execute(global, &mut s, name, &runner::strip_shebang(source))?;
            return member_value(global, &value);
        }
    }
    // A script is a file of at most 64 MiB (`run /dev/zero` must not read forever).
    let bytes = crate::files::read_bounded(file, crate::files::MAX_SCRIPT_BYTES).map_err(|e| {
        if file == "-" {
            Usage(format!("cannot read the script on standard input: {e}"))
        } else {
            Usage(format!("cannot read script {file}: {e}"))
        }
    })?;
    let name = if file == "-" { "<stdin>" } else { file }.to_string();
    let source =
        String::from_utf8(bytes).map_err(|_| Usage(format!("script {name} is not UTF-8 text")))?;
    let mut s = session(global, runtime, args)?;
    let value = execute(global, &mut s, &name, &source)?;
    member_value(global, &value)
}

/// Over a fleet, a script's value is printed for the fleet's report (alone, a script run
/// prints only what it prints).
fn member_value(global: &Global, value: &rhai::Dynamic) -> anyhow::Result<()> {
    if global.member.is_some() {
        show_value(global, value)
    } else {
        Ok(())
    }
}

/// `mcsh FILE.rhai ARGS...` and `#!/usr/bin/env mcsh` scripts.
pub fn run_external(
    global: &Global,
    runtime: &tokio::runtime::Runtime,
    mut words: Vec<String>,
) -> anyhow::Result<()> {
    let file = words.remove(0);
    // A bare word is a command (or a mistyped one): `mcsh usrs list` must not run a file
    // named `usrs`, whatever it holds. A script is named by a path with a `/` (which is how
    // the system runs a `#!/usr/bin/env mcsh` file, from PATH too) or a `.rhai` name.
    let is_script =
        file.ends_with(".rhai") || file.contains(std::path::MAIN_SEPARATOR) || file.contains('/');
    if !is_script {
        let command = <super::Cli as clap::CommandFactory>::command();
        let names: Vec<String> = command
            .get_subcommands()
            .filter(|c| !c.is_hide_set())
            .map(|c| c.get_name().to_string())
            .collect();
        let found = crate::suggest::similar(&file, names.iter().map(String::as_str), 3);
        let hint = match found.as_slice() {
            [one] => {
                // Pasted, it must run where this line was meant to, as this line would have
                // (a sandbox, a profile, a dry run), each word as the shell reads it.
                let mut line = global.target_words();
                if let Some(plan) = &global.plan_out {
                    line.push_str(&crate::output::shell_flag("--plan-out", plan));
                    line.push(' ');
                } else if global.dry_run {
                    line.push_str("--dry-run ");
                }
                let rest: Vec<String> = std::iter::once(one.clone())
                    .chain(words.iter().map(|w| crate::output::shell_word(w)))
                    .collect();
                format!("did you mean `mcsh {line}{}`?", rest.join(" "))
            }
            _ => crate::suggest::did_you_mean(&found).unwrap_or_default(),
        };
        let hint = crate::output::printable(&hint);
        return Err(Usage(format!(
            "unknown command {file:?}; {hint}{}`mcsh --help` lists the commands, `mcsh run FILE` runs a script",
            if hint.is_empty() { "" } else { " " }
        ))
        .into());
    }
    let (global, words) = own_flags(global, words)?;
    run_file(&global, runtime, &file, words)
}

/// Splits the words after a script's path into mcsh's own options and the script's `args`:
/// mcsh's options (`--sandbox`, `--profile P`, `--dry-run`, `-o json`...) up to the first
/// word that is not one belong to mcsh, so `./report.rhai --sandbox` works as a shebang
/// script; `--` ends them, and everything after is the script's.
fn own_flags(global: &Global, words: Vec<String>) -> anyhow::Result<(Global, Vec<String>)> {
    let command = <super::Cli as clap::CommandFactory>::command();
    let takes_value = |word: &str| -> Option<bool> {
        let (name, inline) = match word.split_once('=') {
            Some((n, _)) => (n, true),
            None => (word, false),
        };
        let arg = command.get_arguments().find(|a| {
            a.is_global_set()
                && (name
                    .strip_prefix("--")
                    .is_some_and(|l| a.get_long() == Some(l))
                    || name
                        .strip_prefix('-')
                        .filter(|s| s.chars().count() == 1)
                        .and_then(|s| s.chars().next())
                        .is_some_and(|c| a.get_short() == Some(c)))
        })?;
        Some(arg.get_action().takes_values() && !inline)
    };
    let mut own = Vec::new();
    let mut separated = false;
    let mut rest = words.into_iter().peekable();
    while let Some(word) = rest.peek() {
        if word == "--" {
            rest.next();
            separated = true;
            break;
        }
        let Some(needs_value) = takes_value(word) else {
            break;
        };
        own.push(rest.next().expect("peeked"));
        if needs_value {
            if let Some(value) = rest.next() {
                own.push(value);
            }
        }
    }
    let rest: Vec<String> = rest.collect();
    // A mistyped option of mcsh's would silently become the script's, and with it a
    // `--dry-run` that follows it: a write the admin meant to rehearse. Refuse instead.
    let longs: Vec<String> = command
        .get_arguments()
        .filter(|a| a.is_global_set())
        .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
        .collect();
    if let Some(first) = rest.first().filter(|w| !separated && w.starts_with("--")) {
        let name = first.split('=').next().unwrap_or(first);
        let close = crate::suggest::similar(name, longs.iter().map(String::as_str), 1);
        if let [meant] = close.as_slice() {
            return Err(Usage(format!(
                "{} after the script's path is no option of mcsh's: did you mean {meant}? (put `--` before the script's own options to hand them to it)",
                crate::output::printable(first)
            ))
            .into());
        }
    }
    let rest = if separated { rest } else { script_args(rest)? };
    if own.is_empty() {
        return Ok((global.clone(), rest));
    }
    let parsed = <super::Cli as clap::Parser>::try_parse_from(
        std::iter::once("mcsh".to_string()).chain(own),
    )
    .map_err(|e| {
        let text = e.to_string();
        let first = text
            .lines()
            .next()
            .unwrap_or("")
            .trim_start_matches("error: ");
        Usage(format!("{first} (mcsh's options after a script's path)"))
    })?;
    let g = parsed.global;
    // Tenants are chosen before the script's path: after it, `--fleet` would be dropped (one
    // tenant run), and in a fleet's part `--profile`, `--sandbox`, `--rehearse`, `-o` or
    // `--plan-out` would send every part to one tenant, or out of the fleet's report.
    if !g.profiles.is_empty() || g.all_profiles || g.fleet.is_some() {
        return Err(Usage(
            "--profiles, --all-profiles and --fleet go before the script's path (after it they would choose nothing)".into(),
        )
        .into());
    }
    if global.member.is_some()
        && (g.profile.is_some()
            || g.sandbox
            || g.rehearse.is_some()
            || g.output.is_some()
            || g.plan_out.is_some())
    {
        return Err(Usage(
            "over a fleet, --profile, --sandbox, --rehearse, -o and --plan-out go before the script's path: the fleet chooses each tenant and gathers the report".into(),
        )
        .into());
    }
    let mut merged = global.clone();
    merged.profile = g.profile.or(merged.profile);
    merged.sandbox |= g.sandbox;
    merged.rehearse = g.rehearse.or(merged.rehearse);
    merged.output = g.output.or(merged.output);
    merged.dry_run |= g.dry_run || g.plan_out.is_some();
    merged.yes |= g.yes;
    merged.concurrency = g.concurrency.or(merged.concurrency);
    merged.batch_size = g.batch_size.or(merged.batch_size);
    merged.verbose = merged.verbose.max(g.verbose);
    merged.quiet |= g.quiet;
    if g.no_color {
        merged.no_color = true;
        // A fleet's part colours nothing anyway, and leaves the process's colours alone.
        if global.member.is_none() {
            colored::control::set_override(false);
        }
    }
    merged.csv_raw |= g.csv_raw;
    merged.plan_out = g.plan_out.or(merged.plan_out);
    merged.limit.extend(g.limit);
    Ok((merged, rest))
}

/// mcsh's options that change what is written or where: after a script's arguments they
/// would silently become the script's while the writes went through.
const WRITE_OPTIONS: &[&str] = &[
    "--dry-run",
    "--plan-out",
    "--yes",
    "-y",
    "--profile",
    "--sandbox",
    "--rehearse",
];

/// Refuses (exit 2, nothing sent) any of [`WRITE_OPTIONS`] among `words`.
fn refuse_late_options(words: &[String]) -> anyhow::Result<()> {
    for word in words {
        let name = word.split('=').next().unwrap_or(word);
        // A mistyped one (`--dryrun`, `--sanbox`, `-dry-run`, `—dry-run`, `--DRY-RUN`, `--dry`)
        // is refused too, naming the one meant.
        let long = {
            let bare = name.trim_start_matches(['-', '\u{2013}', '\u{2014}']);
            let dashed = name.len() > bare.len();
            (dashed && bare.chars().count() > 1).then(|| format!("--{}", bare.to_lowercase()))
        };
        let meant = long.as_deref().and_then(|long| {
            WRITE_OPTIONS.iter().find(|o| {
                o.starts_with("--")
                    && name != **o
                    && (strsim::damerau_levenshtein(long, o) <= if o.len() >= 8 { 2 } else { 1 }
                        || (long.len() >= 5 && o.starts_with(long)))
            })
        });
        if let Some(meant) = meant {
            return Err(Usage(format!(
                "{} after the script's path looks like mcsh's {meant}, mistyped: put mcsh's options before the script, or after `--` to hand the word to the script on purpose",
                crate::output::printable(word)
            ))
            .into());
        }
        // Short flags together (`-yv`) hold -y.
        let shorts = name.strip_prefix('-').filter(|s| {
            !s.starts_with('-') && s.len() > 1 && s.chars().all(|c| c.is_ascii_alphabetic())
        });
        let name = if shorts.is_some_and(|s| s.contains('y')) {
            "-y"
        } else {
            name
        };
        if WRITE_OPTIONS.contains(&name) {
            return Err(Usage(format!(
                "{} comes after the script's own arguments, where it would be the script's, not mcsh's, while the writes went through: put mcsh's options before the script (`mcsh {name} run FILE ...`), or after `--` to hand it to the script on purpose",
                crate::output::printable(word)
            ))
            .into());
        }
    }
    Ok(())
}

/// `mcsh run FILE ARGS`'s arguments: as [`script_args`], except that a `--` right after FILE
/// (which the parser drops) hands every word to the script.
pub fn run_args(file: &str, args: Vec<String>) -> anyhow::Result<Vec<String>> {
    let raw: Vec<String> = std::env::args().collect();
    let separated = raw.windows(2).any(|w| w[0] == file && w[1] == "--");
    if separated {
        Ok(args)
    } else {
        script_args(args)
    }
}

/// A script's arguments as given after its path: mcsh's write options before a `--` are
/// refused; the first `--` is dropped and what follows it is the script's, whatever it is.
pub fn script_args(words: Vec<String>) -> anyhow::Result<Vec<String>> {
    let cut = words.iter().position(|w| w == "--").unwrap_or(words.len());
    refuse_late_options(&words[..cut])?;
    let mut words = words;
    if cut < words.len() {
        words.remove(cut);
    }
    Ok(words)
}

/// `mcsh -e EXPR`: evaluates and prints the value in the output format.
pub fn eval(global: &Global, runtime: &tokio::runtime::Runtime, expr: &str) -> anyhow::Result<()> {
    let mut s = session(global, runtime, Vec::new())?;
    let value = execute(global, &mut s, "<expr>", expr)?;
    show_value(global, &value)
}

/// Prints a script's value (`-e`; and over a fleet, what a script run returns, which lands
/// in the fleet's report): nothing for `()`, else in the output format.
fn show_value(global: &Global, value: &rhai::Dynamic) -> anyhow::Result<()> {
    if value.is_unit() {
        return Ok(());
    }
    let format = global.format();
    let json: serde_json::Value = rhai::serde::from_dynamic(value)
        .unwrap_or_else(|_| serde_json::Value::String(value.to_string()));
    let text = render_value(&json, format, terminal_width());
    let mut out = crate::streams::stdout();
    if out.is_terminal() {
        // On a terminal, data cannot move or hide text; into a pipe it goes as it is.
        writeln!(out, "{}", crate::output::printable_text(&text))?;
    } else {
        writeln!(out, "{text}")?;
    }
    Ok(())
}

/// `mcsh repl`, and a bare `mcsh` on a terminal.
pub fn repl(global: &Global, runtime: &tokio::runtime::Runtime) -> anyhow::Result<()> {
    let s = session(global, runtime, Vec::new())?;
    let label = if global.rehearse.is_some() {
        "rehearsal".to_string()
    } else if global.sandbox {
        "sandbox".to_string()
    } else {
        global.profile.clone().unwrap_or_else(|| "default".into())
    };
    let options = crate::repl::Options {
        label,
        history: crate::repl::default_history(),
        format: global.output.unwrap_or(Format::Table),
        limits: s.limits,
        target: global.target_flags(),
    };
    let (ctx, host) = (s.ctx.clone(), s.host.clone());
    let result = crate::repl::run(s.engine, s.scope, s.host, options);
    // Leaving a session that changed the directory says how to take the changes back.
    let after = plan_cmd::after_run(
        global,
        &ctx.borrow().identity(),
        host.connected().as_ref(),
        result.is_err(),
    );
    result.and(after)
}

/// `mcsh examples [NAME]`: the bundled example scripts, or one's source.
pub fn examples(ctx: &super::context::Ctx, name: Option<&str>) -> anyhow::Result<()> {
    use crate::script::examples::{find, summary, EXAMPLES};
    match name {
        Some(n) => {
            let Some((_, source)) = find(n) else {
                let names = EXAMPLES.iter().map(|(n, _)| *n);
                let hint = crate::suggest::did_you_mean(&crate::suggest::similar(n, names, 3))
                    .unwrap_or_default();
                return Err(Usage(crate::output::printable(&format!(
                    "no example named {n:?}; {hint}{}`mcsh examples` lists them",
                    if hint.is_empty() { "" } else { " " }
                )))
                .into());
            };
            use std::io::Write as _;
            let mut out = crate::streams::stdout();
            out.write_all(source.as_bytes())?;
            out.flush()?;
        }
        None => {
            let mut printer = ctx.printer(crate::output::Shape::List, &["name", "what"]);
            for (n, source) in EXAMPLES {
                printer.row(&serde_json::json!({ "name": n, "what": summary(source) }))?;
            }
            printer.finish()?;
            if !ctx.global.quiet {
                crate::eprintln_data!(
                    "`mcsh examples NAME` prints one; `mcsh --sandbox run NAME` runs it on the demo tenant"
                );
            }
        }
    }
    Ok(())
}

/// `mcsh doc [NAME] [--markdown]`.
pub fn doc(
    global: &Global,
    runtime: &tokio::runtime::Runtime,
    name: Option<&str>,
    markdown: bool,
) -> anyhow::Result<()> {
    let s = session(global, runtime, Vec::new())?;
    let all = docs::all(&s.engine);
    let text = if markdown {
        docs::markdown(&all)
    } else {
        docs::render(&all, name).map_err(Usage)?
    };
    let mut out = crate::streams::stdout();
    write!(out, "{text}")?;
    Ok(())
}

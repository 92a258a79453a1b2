//! The interactive shell: Rhai with the directory built in, one statement at a time.
//!
//! Policy: variables live in one scope and `fn` definitions are kept by merging each input's
//! functions into a functions-only AST, so the session remembers both. The parser decides
//! when input continues on another line. Ctrl-C at the prompt clears the line; during a
//! statement it stops the statement (and any wait on the network) and keeps the session.
//! Ctrl-D leaves. Errors never end the session. The inputs that ran without error are kept
//! in order: `:history` lists them and `:save FILE` writes them as a script; an input that
//! failed after changing the directory is kept too, as a comment saying so. A line typed as
//! on the command line is handled by [`cli_form`]. On a terminal, destructive calls ask
//! first and say what they did, as the CLI's commands do.

pub mod cli_form;
pub mod helper;
pub mod input;

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;

use rhai::{Dynamic, Engine, Scope, AST};
use rustyline::config::Config;
use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use rustyline::Editor;

use crate::output::{render_value, Format};
use crate::script::{docs, runner, Host, Limits};
use helper::{ReplHelper, Words, COMMANDS};

/// How a REPL session looks.
pub struct Options {
    /// Shown in the prompt: the profile, or `sandbox`.
    pub label: String,
    /// Where history is kept, if anywhere.
    pub history: Option<PathBuf>,
    /// How results are shown.
    pub format: Format,
    /// The engine's limits, for messages.
    pub limits: Limits,
    /// The flags that chose the session's tenant (`--sandbox`, `--profile P`, `--rehearse S`):
    /// given to read commands typed in CLI form, and in hints to run things again.
    pub target: Vec<String>,
}

/// The default history file: `$XDG_DATA_HOME/mcsh/history`.
pub fn default_history() -> Option<PathBuf> {
    dirs::data_dir().map(|d| d.join("mcsh").join("history"))
}

struct Session {
    engine: Engine,
    scope: Scope<'static>,
    functions: AST,
    host: Rc<Host>,
    words: Rc<RefCell<Words>>,
    docs: Vec<docs::FnDoc>,
    options: Options,
    inputs: usize,
    /// The inputs that ran without error, in order: what `:save` writes.
    kept: Vec<String>,
}

/// Runs the REPL until Ctrl-D or `:quit`.
pub fn run(
    engine: Engine,
    scope: Scope<'static>,
    host: Rc<Host>,
    options: Options,
) -> anyhow::Result<()> {
    let docs = docs::all(&engine);
    let words = Rc::new(RefCell::new(Words {
        functions: docs::names(&docs),
        ..Words::default()
    }));
    let config = Config::builder()
        .auto_add_history(true)
        .max_history_size(5000)?
        .build();
    let mut editor: Editor<ReplHelper, FileHistory> = Editor::with_config(config)?;
    editor.set_helper(Some(ReplHelper::new(words.clone(), host.clone())));
    if let Some(path) = &options.history {
        let _ = editor.load_history(path);
    }
    let prompt = format!("mcsh[{}]> ", options.label);
    // Lines of an unfinished statement get a prompt of their own, as wide as the first.
    let more = format!("{:>width$}> ", "...", width = prompt.chars().count() - 2);
    let parser = rhai::Engine::new_raw();
    let interactive = {
        use std::io::IsTerminal;
        std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
    };
    host.set_interactive(interactive);
    let mut session = Session {
        engine,
        scope,
        functions: AST::empty(),
        host,
        words,
        docs,
        options,
        inputs: 0,
        kept: Vec::new(),
    };
    session.refresh_words();
    crate::eprintln_data!(
        "mcsh {} — :help for help, Ctrl-D to leave",
        env!("CARGO_PKG_VERSION")
    );
    let mut pending = String::new();
    loop {
        let shown = if pending.is_empty() { &prompt } else { &more };
        match editor.readline(shown) {
            Ok(line) => {
                if pending.is_empty() && line.trim().is_empty() {
                    continue;
                }
                if !pending.is_empty() {
                    pending.push('\n');
                }
                pending.push_str(&line);
                if input::classify(&parser, &pending) == input::Completeness::Incomplete {
                    continue;
                }
                let line = std::mem::take(&mut pending);
                let text = line.trim();
                if text.starts_with(':') {
                    if !session.command(text) {
                        break;
                    }
                } else if !session.evaluate(&line) {
                    break;
                }
                session.save_history(&mut editor);
            }
            Err(ReadlineError::Interrupted) => {
                pending.clear();
                continue;
            }
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(e.into()),
        }
    }
    session.save_history(&mut editor);
    Ok(())
}

impl Session {
    fn save_history(&self, editor: &mut Editor<ReplHelper, FileHistory>) {
        if let Some(path) = &self.options.history {
            if let Some(dir) = path.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            let _ = editor.save_history(path);
        }
    }

    /// Runs one input; prints its value or its error. False means leave (`quit`).
    fn evaluate(&mut self, input: &str) -> bool {
        match cli_form::classify(input, &self.options.target) {
            cli_form::Form::Rhai => {}
            cli_form::Form::Help => {
                crate::println_data!("{}", self.overview());
                crate::eprintln_data!(
                    "(`:help` shows this; `:help NAME` one function's reference)"
                );
                return true;
            }
            cli_form::Form::Quit => return false,
            cli_form::Form::Say(text) => {
                crate::eprintln_data!("{}", crate::output::printable(&text));
                return true;
            }
            cli_form::Form::Run(words) => {
                self.run_command(&words);
                return true;
            }
        }
        self.evaluate_rhai(input);
        true
    }

    /// Runs a read command typed in command-line form, as `mcsh` with the session's target.
    fn run_command(&self, words: &[String]) {
        let program = match std::env::current_exe() {
            Ok(p) => p,
            Err(e) => return crate::eprintln_data!("error: cannot run mcsh again: {e}"),
        };
        let status = std::process::Command::new(program)
            .args(&self.options.target)
            .args(words)
            .stdin(std::process::Stdio::null())
            .status();
        match status {
            Ok(s) if s.success() => {}
            Ok(s) => crate::eprintln_data!(
                "({} exited with {})",
                crate::output::printable(&words.join(" ")),
                s.code().map_or("a signal".to_string(), |c| c.to_string())
            ),
            Err(e) => crate::eprintln_data!("error: cannot run mcsh again: {e}"),
        }
    }

    fn evaluate_rhai(&mut self, input: &str) {
        self.inputs += 1;
        let name = format!("<input {}>", self.inputs);
        let host = self.host.clone();
        let changes = move || host.connected().map_or(0, |d| d.changes_made());
        let before = changes();
        match self.run_source(&name, input) {
            Some(value) => {
                self.kept.push(input.trim_end().to_string());
                self.show(&value);
            }
            None => {
                let made = changes() - before;
                if made > 0 {
                    // It changed the directory before it failed: the session's script must
                    // say so, without repeating those changes when it is run again.
                    crate::eprintln_data!(
                        "note: this input made {made} change(s) before it failed (`mcsh audit` \
                         lists them); :save keeps it as a comment"
                    );
                    let mut kept = format!(
                        "// This input failed after making {made} change(s) to the directory; \
                         kept as a comment\n// so that running the script does not repeat them:"
                    );
                    for line in input.trim_end().lines() {
                        kept.push_str("\n// ");
                        kept.push_str(line);
                    }
                    self.kept.push(kept);
                }
            }
        }
    }

    /// Compiles and runs `source` in the session's scope, keeping its functions; the value,
    /// or `None` after printing the failure.
    fn run_source(&mut self, name: &str, source: &str) -> Option<Dynamic> {
        self.host.clear_interrupt();
        if let Some(dir) = self.host.connected() {
            dir.restart_progress();
            // Each input reads the tenant as it is now, not as an earlier input found it.
            dir.forget_reads();
        }
        let limits = self.options.limits;
        let result =
            runner::compile(&self.engine, &self.scope, name, source, &limits).and_then(|ast| {
                let combined = self.functions.merge(&ast);
                runner::check_calls(&self.engine, &combined, name, source)?;
                self.host.note_writes(
                    combined.source().unwrap_or(""),
                    crate::script::fields::Writes::of(&combined),
                );
                self.host.set_sites(&combined, source, false);
                let result = runner::run(
                    &self.engine,
                    &mut self.scope,
                    &combined,
                    name,
                    source,
                    &limits,
                );
                let result = runner::finish(&self.host, result, name, source, &limits);
                self.functions = self.functions.merge(&ast.clone_functions_only());
                result
            });
        self.host.clear_interrupt();
        if let Some(dir) = self.host.connected() {
            // The statement's bar goes before its value is shown.
            dir.restart_progress();
        }
        if result.is_ok() {
            self.keep_imports(source);
        }
        self.refresh_words();
        match result {
            Ok(value) => Some(value),
            Err(f) => {
                show_failure(&f);
                None
            }
        }
    }

    /// Makes the modules `source` imported (`import "onboard" as onboard;`) available to the
    /// inputs that follow: an import lasts for the session, not only for its own input.
    fn keep_imports(&mut self, source: &str) {
        for (path, alias) in imports(source) {
            let resolved = self.engine.module_resolver().resolve(
                &self.engine,
                None,
                &path,
                rhai::Position::NONE,
            );
            if let Ok(module) = resolved {
                self.engine.register_static_module(alias, module);
            }
        }
    }

    fn show(&self, value: &Dynamic) {
        if value.is_unit() {
            return;
        }
        let json: serde_json::Value = rhai::serde::from_dynamic(value)
            .unwrap_or_else(|_| serde_json::Value::String(value.to_string()));
        let text = render_value(&json, self.options.format, None);
        if !text.is_empty() {
            crate::println_data!("{text}");
        }
    }

    fn refresh_words(&self) {
        let mut words = self.words.borrow_mut();
        words.variables = self
            .scope
            .iter()
            .map(|(name, _, _)| name.to_string())
            .collect();
        words.script_functions = self
            .functions
            .iter_functions()
            .map(|f| f.name.to_string())
            .collect();
    }

    /// Runs a `:command`; false means leave.
    fn command(&mut self, text: &str) -> bool {
        let (cmd, arg) = text
            .split_once(char::is_whitespace)
            .map_or((text, ""), |(c, a)| (c, a.trim()));
        match cmd {
            ":quit" | ":q" | ":exit" => return false,
            ":help" | ":h" if arg.is_empty() => crate::println_data!("{}", self.overview()),
            ":help" | ":h" => match docs::render(&self.docs, Some(arg)) {
                Ok(text) => {
                    use std::io::Write as _;
                    let _ = write!(std::io::stdout(), "{text}");
                }
                Err(e) => crate::eprintln_data!("error: {e}"),
            },
            ":vars" => {
                for (name, constant, value) in self.scope.iter() {
                    let shown = value.to_string();
                    let shown: String = if shown.chars().count() > 60 {
                        shown.chars().take(57).collect::<String>() + "..."
                    } else {
                        shown
                    };
                    let kind = if constant { "const" } else { "let" };
                    crate::println_data!("{kind} {name}: {} = {shown}", value.type_name());
                }
            }
            ":status" => crate::println_data!("{}", self.status()),
            ":history" => {
                for (i, statement) in self.kept.iter().enumerate() {
                    crate::println_data!("{:>4}  {}", i + 1, statement.replace('\n', "\n      "));
                }
            }
            ":save" if arg.is_empty() => crate::eprintln_data!(
                "error: :save needs a file: :save report.rhai (add --force to replace one)"
            ),
            ":save" => self.save(arg),
            ":load" if arg.is_empty() => {
                crate::eprintln_data!("error: :load needs a file: :load path/to/script.rhai")
            }
            ":load" => self.load(arg),
            other => crate::eprintln_data!(
                "error: unknown command {other}; commands: {}",
                COMMANDS.join(", ")
            ),
        }
        true
    }

    fn load(&mut self, path: &str) {
        let read = crate::files::read_bounded(path, crate::files::MAX_SCRIPT_BYTES).and_then(|b| {
            String::from_utf8(b).map_err(|_| std::io::Error::other("not UTF-8 text"))
        });
        let source = match read {
            Ok(s) => runner::strip_shebang(&s),
            Err(e) => {
                return crate::eprintln_data!(
                    "{}",
                    crate::output::printable(&format!("error: {path}: {e}"))
                )
            }
        };
        if self.run_source(path, &source).is_some() {
            crate::eprintln_data!("loaded {path}");
        }
    }

    /// Writes the statements that ran without error as a script, atomically; an existing
    /// file is replaced only with `--force`.
    fn save(&self, arg: &str) {
        let (path, force) = match arg.strip_suffix("--force") {
            Some(p) => (p.trim(), true),
            None => (arg, false),
        };
        let target = std::path::Path::new(path);
        // A link or one of mcsh's own files is refused either way (the write says why): no
        // `--force` to suggest for it.
        let refused = std::fs::symlink_metadata(target).is_ok_and(|m| m.file_type().is_symlink())
            || crate::own_files::owned_by_mcsh(target, &|k| std::env::var(k).ok()).is_some();
        if !force && !refused && target.exists() {
            return crate::eprintln_data!(
                "{}",
                crate::output::printable(&format!(
                    "error: {path} exists; `:save {path} --force` replaces it"
                ))
            );
        }
        let on = if self.options.target.is_empty() {
            "the default profile".to_string()
        } else {
            self.options.target.join(" ")
        };
        let text = session_script(&self.kept, &on, &self.run_hint(path));
        match crate::own_files::write_named(target, text.as_bytes(), false) {
            Ok(()) => crate::eprintln_data!(
                "{}",
                crate::output::printable(&format!(
                    "saved {} statement(s) to {path}; `{}` runs them again on the same tenant",
                    self.kept.len(),
                    self.run_hint(path)
                ))
            ),
            Err(e) => crate::eprintln_data!(
                "{}",
                crate::output::printable(&format!("error: cannot write {path}: {e}"))
            ),
        }
    }

    /// The command that runs a saved session again on the session's tenant.
    fn run_hint(&self, path: &str) -> String {
        let mut words = vec!["mcsh".to_string()];
        words.extend(
            self.options
                .target
                .iter()
                .map(|t| crate::output::shell_word(t)),
        );
        words.push("run".into());
        words.push(crate::output::shell_path(path));
        words.join(" ")
    }

    /// The connection, the rate budget and what the session has sent.
    fn status(&self) -> String {
        let Some(dir) = self.host.connected() else {
            return "not connected yet: the first directory call connects".to_string();
        };
        let c = dir.client();
        let st = c.stats();
        let rate = c.rate();
        let budget = match (rate.remaining, rate.limit) {
            (Some(r), Some(l)) => format!(
                "{r} of {l} requests left, renewing in {} ms",
                rate.reset_ms.unwrap_or(0)
            ),
            _ => "no rate-limit headers seen yet".to_string(),
        };
        let o = dir.options();
        format!(
            "connected to {}{}\nrate budget: {budget}\nsent {} requests ({} retried, {} 429s waited out, {} pauses before the quota ran out)\nbatch size {}, concurrency {}",
            c.base_url(),
            if dir.is_dry_run() { " (dry run: writes are planned, not sent)" } else { "" },
            st.requests,
            st.retries,
            st.rate_waits,
            st.paced,
            o.batch_size,
            o.concurrency
        )
    }

    fn overview(&self) -> String {
        let mut text = String::from(
            "Type Rhai statements; results print as tables or JSON. Variables and fn definitions persist.\n\
             An open bracket continues on the next line. Ctrl-C stops a running statement; Ctrl-D leaves.\n\n\
             :help NAME   the reference of a function      :vars        variables in scope\n\
             :load FILE   run a script in this session     :status      connection and rate budget\n\
             :history     the statements that ran          :save FILE   write them as a script\n\
             :quit        leave\n\nFunctions:\n",
        );
        text.push_str(&grid(&docs::names(&self.docs), 100));
        let modules: Vec<&str> = crate::script::stdlib::MODULES
            .iter()
            .map(|(name, _)| *name)
            .collect();
        text.push_str(&format!(
            "\nModules ({}): import one before its functions, e.g. `import \"onboard\" as onboard;`\n",
            modules.join(", ")
        ));
        text.push_str("`mcsh doc` prints the whole reference.");
        text
    }
}

/// The script `:save` writes: a header (when, which tenant, how to run it again on that
/// tenant) and the statements in order.
fn session_script(statements: &[String], on: &str, run: &str) -> String {
    let mut text = format!(
        "#!/usr/bin/env mcsh\n// Saved from an mcsh REPL session on {} (on {on}).\n// The statements that ran without error, in order. They ran on that tenant: run them\n// again there with `{run}` (plain `mcsh run` uses your default profile).\n\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC")
    );
    for s in statements {
        text.push_str(s);
        let comment = s.lines().last().is_some_and(|l| l.starts_with("//"));
        if !comment && !s.ends_with(';') && !s.ends_with('}') {
            // A value shown at the prompt is a statement of its own in a script.
            text.push(';');
        }
        text.push('\n');
    }
    text
}

/// `names` in columns as wide as the longest name plus two spaces, as many as fit in
/// `width`: long names never run into the next.
fn grid(names: &[String], width: usize) -> String {
    let cell = names.iter().map(|n| n.chars().count()).max().unwrap_or(0) + 2;
    let per_row = ((width.saturating_sub(2)) / cell.max(1)).max(1);
    let mut text = String::new();
    for chunk in names.chunks(per_row) {
        let row: String = chunk.iter().map(|n| format!("{n:<cell$}")).collect();
        text.push_str("  ");
        text.push_str(row.trim_end());
        text.push('\n');
    }
    text
}

/// The `import "PATH" as ALIAS` statements of `source`, as (path, alias).
fn imports(source: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = source;
    while let Some(at) = rest.find("import") {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + "import".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let Some(quoted) = rest.trim_start().strip_prefix('"') else {
            continue;
        };
        let Some((path, after)) = quoted.split_once('"') else {
            continue;
        };
        let Some(after) = after.trim_start().strip_prefix("as") else {
            continue;
        };
        if !after.starts_with(char::is_whitespace) {
            continue;
        }
        let alias: String = after
            .trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !alias.is_empty() {
            out.push((path.to_string(), alias));
        }
    }
    out
}

fn show_failure(f: &runner::Failure) {
    crate::eprintln_data!("error: {f}");
    if let Some(excerpt) = &f.excerpt {
        crate::eprintln_data!("{excerpt}");
    }
}

#[cfg(test)]
mod import_tests {
    #[test]
    fn imports_are_found_with_their_aliases() {
        let found = super::imports(
            "import \"onboard\" as onboard;\nlet reimport = 1; import \"scripts/x.rhai\" as x_2;",
        );
        assert_eq!(
            found,
            [
                ("onboard".to_string(), "onboard".to_string()),
                ("scripts/x.rhai".to_string(), "x_2".to_string())
            ]
        );
        assert!(super::imports("let important = \"a\";").is_empty());
    }
}

#[cfg(test)]
mod grid_tests {
    #[test]
    fn long_names_keep_a_gap() {
        let names: Vec<String> = [
            "ensure_group_levels",
            "ensure_member",
            "offboard::from_csv",
            "x",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let text = super::grid(&names, 60);
        assert!(!text.contains("levelsensure"), "{text}");
        for line in text.lines() {
            assert!(line.chars().count() <= 60, "{line}");
        }
        assert!(
            text.contains("ensure_group_levels  ensure_member"),
            "{text}"
        );
    }
}

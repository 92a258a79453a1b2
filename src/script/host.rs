//! The bridge between synchronous Rhai and the asynchronous directory.
//!
//! Policy: credentials are resolved on the first API call, not before, so scripts that never
//! touch the network need no configuration. Every network wait runs on the shell's runtime
//! (`Handle::block_on` from the main thread, never inside a task) and races Ctrl-C.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeSet, HashSet};
use std::future::Future;
use std::rc::Rc;
use std::sync::Arc;

use rhai::EvalAltResult;

use super::errors;
use crate::directory::deferred::{Deferred, Surprise, QUEUE_LIMIT};
use crate::directory::{DirError, Directory};
use crate::interrupt::Interrupt;

/// Makes the session's directory on first use (the CLI resolves credentials here).
pub type Connector = Box<dyn FnMut() -> anyhow::Result<Arc<Directory>>>;
/// Asks the user a yes/no question (the CLI decides how: terminal, `--yes`, refusal).
pub type Prompter = Box<dyn Fn(&str) -> anyhow::Result<bool>>;
/// Where a script's `write_csv("-", ...)` and `write_json("-", ...)` go: the standard output
/// that the CLI or REPL owns.
pub type Output = Box<dyn Fn(&[u8]) -> std::io::Result<()>>;
/// Tells which tenant the session reads, as a snapshot records it (the CLI knows).
pub type TenantSource = Box<dyn FnMut() -> anyhow::Result<crate::snapshot::Tenant>>;

/// Addresses and group names seen in this session, for completion.
#[derive(Debug, Default)]
pub struct Names {
    /// Email addresses.
    pub emails: BTreeSet<String>,
    /// Group names.
    pub groups: BTreeSet<String>,
}

/// Most names remembered for completion.
const MAX_NAMES: usize = 100_000;

/// What scripts reach the world through.
pub struct Host {
    runtime: tokio::runtime::Handle,
    interrupt: Arc<Interrupt>,
    connector: RefCell<Option<Connector>>,
    directory: RefCell<Option<Arc<Directory>>>,
    prompter: Prompter,
    /// Script arguments (`args` in scripts).
    pub args: Vec<String>,
    /// Whether writes are recorded instead of sent.
    pub dry_run: bool,
    /// Names seen so far.
    pub names: RefCell<Names>,
    /// How a hint names an mcsh command on this tenant (`mcsh --profile acme `).
    command: RefCell<String>,
    tenant: RefCell<Option<TenantSource>>,
    output: RefCell<Option<Output>>,
    /// The script being run and the positions of its calls that may be deferred.
    deferrable: RefCell<Option<(Option<String>, HashSet<rhai::Position>)>>,
    /// The positions of the script's `users()` calls that a `for` loop iterates directly.
    streamed: RefCell<HashSet<rhai::Position>>,
    /// The `user()` calls of the script being run whose aliases nothing sees.
    aliasless: RefCell<HashSet<rhai::Position>>,
    /// Set while a deferred call resolves its arguments: reaching the directory then does not
    /// send the queue.
    deferring: Cell<bool>,
    /// What the script printed while writes were queued, with how many were queued then:
    /// shown once they are sent, and, when one is refused, only what came before it.
    held: RefCell<Vec<(usize, Said)>>,
    /// Where printed output goes (the CLI or REPL decides).
    speaker: RefCell<Option<Speaker>>,
    /// The map keys each script of the session assigns, by source ([`super::fields`]).
    pub writes: super::modules::WritesBySource,
    /// The source names of the admin's module files imported so far (their paths):
    /// a module named as the script is no part of the script its call sites were found in.
    pub modules: super::modules::ImportedFiles,
    /// Someone types each input at a terminal (the REPL on one): destructive calls ask first
    /// and say what they did, as the CLI's commands do. Scripts never ask on their own.
    interactive: Cell<bool>,
    /// Single-item writes sent one at a time, each waiting for its answer, by function.
    waited: RefCell<std::collections::BTreeMap<String, usize>>,
}

/// Single-item writes sent one at a time before the end of a run says how to batch them.
pub const WAITED_NOTE_AT: usize = 20;

/// Something a script said: `print`, `debug`, or bytes for standard output (`write_csv("-")`).
#[derive(Debug, Clone)]
pub enum Said {
    /// A `print` line.
    Print(String),
    /// A `debug` line, already with its place.
    Debug(String),
    /// Bytes for standard output.
    Output(Vec<u8>),
}

/// Shows what a script said (the CLI or REPL owns the terminal).
pub type Speaker = Box<dyn Fn(&Said)>;

/// The error that ends a script when a write it went on from was refused: not catchable (the
/// `try` around a later line did not make the call), located at the call that queued it.
pub const DEFERRED_REFUSAL: &str = "deferred";

impl Host {
    /// A host on `runtime`; `connector` runs at the first API call.
    pub fn new(
        runtime: tokio::runtime::Handle,
        interrupt: Arc<Interrupt>,
        connector: Connector,
        prompter: Prompter,
        args: Vec<String>,
        dry_run: bool,
    ) -> Rc<Host> {
        Rc::new(Host {
            runtime,
            interrupt,
            connector: RefCell::new(Some(connector)),
            directory: RefCell::new(None),
            prompter,
            args,
            dry_run,
            names: RefCell::default(),
            command: RefCell::new("mcsh ".into()),
            tenant: RefCell::new(None),
            output: RefCell::new(None),
            deferrable: RefCell::new(None),
            streamed: RefCell::default(),
            aliasless: RefCell::default(),
            deferring: Cell::new(false),
            writes: Rc::default(),
            modules: Rc::default(),
            held: RefCell::default(),
            speaker: RefCell::new(None),
            interactive: Cell::new(false),
            waited: RefCell::default(),
        })
    }

    /// Marks the session as typed at a terminal (see the field).
    pub fn set_interactive(&self, on: bool) {
        self.interactive.set(on);
    }

    /// In an interactive session, asks "`question`?" before a destructive call, as the CLI
    /// asks before its destructive commands (`--yes` answers yes); a no stops the input with
    /// nothing sent. Elsewhere, and in a dry run, it asks nothing.
    pub fn ask_first(&self, function: &str, question: &str) -> Result<(), Box<EvalAltResult>> {
        if !self.interactive.get() || self.dry_run {
            return Ok(());
        }
        if self.confirm(question)? {
            Ok(())
        } else {
            Err(format!("{function}: not confirmed; nothing was sent").into())
        }
    }

    /// In an interactive session, says what a destructive call did (a call that returns
    /// nothing would otherwise end in silence).
    pub fn tell(&self, what: &str) {
        if self.interactive.get() {
            self.say(Said::Debug(what.to_string()));
        }
    }

    /// A host for unit tests: no directory (a call fails), no questions answered yes.
    #[cfg(test)]
    pub fn offline(runtime: &tokio::runtime::Runtime) -> Rc<Host> {
        Host::new(
            runtime.handle().clone(),
            Arc::default(),
            Box::new(|| anyhow::bail!("no directory in this test")),
            Box::new(|_| Ok(false)),
            vec![],
            false,
        )
    }

    /// Where the session's standard output goes (set by the CLI or REPL).
    pub fn set_output(&self, output: Output) {
        *self.output.borrow_mut() = Some(output);
    }

    /// Where `print` and `debug` lines go.
    pub fn set_speaker(&self, speaker: Speaker) {
        *self.speaker.borrow_mut() = Some(speaker);
    }

    /// Shows what the script said, or, while writes are queued, holds it until they are sent:
    /// one by one, a line after a refused call would never have been printed.
    pub fn say(&self, said: Said) {
        let queued = self.connected().map_or(0, |d| d.queued());
        if queued > 0 {
            self.held.borrow_mut().push((queued, said));
            return;
        }
        self.show(&said);
    }

    fn show(&self, said: &Said) {
        match said {
            Said::Output(bytes) => {
                let _ = self.write_now(bytes);
            }
            other => {
                if let Some(speaker) = self.speaker.borrow().as_ref() {
                    speaker(other);
                }
            }
        }
    }

    /// Shows what was held: everything, or only what was said before the write at `refused`
    /// was queued.
    fn release(&self, refused: Option<usize>) {
        let held = std::mem::take(&mut *self.held.borrow_mut());
        for (queued, said) in held {
            if refused.is_none_or(|r| queued <= r) {
                self.show(&said);
            }
        }
    }

    /// Writes `bytes` to the session's standard output (held while writes are queued, as
    /// `print` is).
    pub fn write_output(&self, bytes: &[u8]) -> std::io::Result<()> {
        let queued = self.connected().map_or(0, |d| d.queued());
        if queued == 0 || self.output.borrow().is_none() {
            return self.write_now(bytes);
        }
        self.held
            .borrow_mut()
            .push((queued, Said::Output(bytes.to_vec())));
        Ok(())
    }

    fn write_now(&self, bytes: &[u8]) -> std::io::Result<()> {
        match self.output.borrow().as_ref() {
            Some(out) => out(bytes),
            None => Err(std::io::Error::other(
                "this session has no standard output; give a file name",
            )),
        }
    }

    /// Where `snapshot()` learns which tenant it reads.
    pub fn set_tenant_source(&self, source: TenantSource) {
        *self.tenant.borrow_mut() = Some(source);
    }

    /// The tenant the session reads.
    pub fn tenant(&self, function: &str) -> Result<crate::snapshot::Tenant, Box<EvalAltResult>> {
        let mut source = self.tenant.borrow_mut();
        let source = source.as_mut().ok_or_else(|| {
            errors::raise(
                function,
                "config",
                "this session cannot tell which tenant it reads",
                false,
                0,
                "config",
            )
        })?;
        source().map_err(|e| errors::from_setup(function, &e))
    }

    /// The directory, if a call has connected already.
    pub fn connected(&self) -> Option<Arc<Directory>> {
        self.directory.borrow().clone()
    }

    /// The interrupt flag scripts stop on.
    pub fn interrupt(&self) -> &Arc<Interrupt> {
        &self.interrupt
    }

    /// Forgets an earlier interrupt: the session sends again (the REPL's next input).
    pub fn clear_interrupt(&self) {
        self.interrupt.clear();
        if let Some(d) = self.connected() {
            d.client().stop_signal().resume();
        }
    }

    /// The directory, connecting on first use. Writes queued by earlier calls are sent
    /// first, so what this call reads or writes comes after them.
    pub fn directory(&self, function: &str) -> Result<Arc<Directory>, Box<EvalAltResult>> {
        let connected = self.directory.borrow().clone();
        if let Some(d) = connected {
            if !self.deferring.get() {
                self.flush(function)?;
            }
            return Ok(d);
        }
        let mut connector = self.connector.borrow_mut();
        let connect = connector.as_mut().ok_or_else(|| {
            errors::raise(
                function,
                "config",
                "no connection could be made earlier in this session",
                false,
                0,
                "config",
            )
        })?;
        let dir = connect().map_err(|e| errors::from_setup(function, &e))?;
        *self.directory.borrow_mut() = Some(dir.clone());
        Ok(dir)
    }

    /// Runs `fut` to completion on the runtime, unless Ctrl-C comes first.
    pub fn block_on<T>(
        &self,
        function: &str,
        fut: impl Future<Output = Result<T, DirError>>,
    ) -> Result<T, Box<EvalAltResult>> {
        let interrupt = self.interrupt.clone();
        let stop = self.connected().map(|d| d.client().stop_signal().clone());
        let result = self.runtime.block_on(async move {
            tokio::pin!(fut);
            tokio::select! {
                // An interrupt wins over a call it made fail (not sent: stopped).
                biased;
                _ = interrupt.wait() => {
                    // Writes already sent are answered and recorded before the script stops.
                    crate::interrupt::wind_down(fut, stop.as_ref(), &interrupt, |s| {
                        self.show(&Said::Debug(s.to_string()));
                    })
                    .await;
                    None
                }
                r = &mut fut => Some(r),
            }
        });
        match result {
            Some(Ok(v)) => Ok(v),
            // A call not sent because the run was told to stop is the interrupt's doing.
            Some(Err(e)) if !matches!(e, DirError::Api(crate::api::ApiError::Stopped { .. })) => {
                Err(errors::from_dir(function, &e))
            }
            _ => Err(errors::raise(
                function,
                "interrupted",
                "interrupted (Ctrl-C, or a signal to end)",
                false,
                0,
                "interrupted",
            )),
        }
    }

    /// Remembers what the code of `source` assigns (added to what it assigned before: a
    /// REPL's inputs share one source).
    pub fn note_writes(&self, source: &str, writes: super::fields::Writes) {
        self.writes
            .borrow_mut()
            .entry(source.to_string())
            .or_default()
            .merge(&writes);
    }

    /// Names the script about to run (its AST's source) and the calls in it that may go on
    /// without their answer ([`super::sites::deferrable`]); `None` stops deferring.
    pub fn set_deferrable(&self, script: Option<(Option<String>, HashSet<rhai::Position>)>) {
        *self.deferrable.borrow_mut() = script;
    }

    /// Finds the call sites of the script about to run (`ast`, compiled from `source`): the
    /// calls that may be deferred, the `users()` loops that may stream and, with
    /// `aliasless` (not the REPL, whose variables outlive the input), the `user()` calls
    /// whose aliases nothing sees ([`super::sites`]). A call site is told by its position:
    /// past what Rhai counts ([`super::sites::positions_exact`]), none is found.
    pub fn set_sites(&self, ast: &rhai::AST, source: &str, aliasless: bool) {
        use super::sites;
        let exact = sites::positions_exact(source);
        let found = |find: fn(&rhai::AST) -> HashSet<rhai::Position>| {
            if exact {
                find(ast)
            } else {
                HashSet::new()
            }
        };
        *self.streamed.borrow_mut() = found(sites::streamed);
        *self.aliasless.borrow_mut() = if aliasless {
            found(sites::aliasless)
        } else {
            HashSet::new()
        };
        self.set_deferrable(Some((
            ast.source().map(str::to_string),
            found(sites::deferrable),
        )));
    }

    /// Whether the `users()` call `ctx` describes is what a `for` loop iterates directly, in
    /// the script being run.
    pub fn may_stream(&self, ctx: &rhai::NativeCallContext) -> bool {
        self.in_script(ctx) && self.streamed.borrow().contains(&ctx.call_position())
    }

    /// Whether the call `ctx` describes is in the script whose call sites were found: its
    /// source, and no module's that runs under the same name.
    fn in_script(&self, ctx: &rhai::NativeCallContext) -> bool {
        let script = self.deferrable.borrow();
        let source = script.as_ref().map(|(s, _)| s.as_deref());
        source == Some(ctx.call_source())
            && ctx
                .call_source()
                .is_none_or(|s| !self.modules.borrow().contains(s))
    }

    /// Names mcsh commands in hints as `prefix` does: `mcsh ` and the flags that chose the
    /// tenant (`mcsh_command` in scripts).
    pub fn set_command(&self, prefix: String) {
        *self.command.borrow_mut() = prefix;
    }

    /// `words` as a command to paste for this session's tenant.
    pub fn command_line(&self, words: &str) -> String {
        crate::output::command_line(&self.command.borrow(), words)
    }

    /// Whether the `user()` call `ctx` describes may leave out the user's aliases (no
    /// `get-aliases` round trip): nothing in the script being run can see them.
    pub fn aliases_unseen(&self, ctx: &rhai::NativeCallContext) -> bool {
        self.in_script(ctx) && self.aliasless.borrow().contains(&ctx.call_position())
    }

    /// The runtime scripts wait on.
    pub fn runtime(&self) -> &tokio::runtime::Handle {
        &self.runtime
    }

    /// A single-item write of `function` was sent on its own and waited for its answer (it
    /// could not be queued: its value is used, or it is inside `try` or a function).
    pub fn waited_alone(&self, function: &str) {
        *self
            .waited
            .borrow_mut()
            .entry(function.to_string())
            .or_default() += 1;
    }

    /// What the end of a run tells about writes that waited one at a time: for each function
    /// called so at least [`WAITED_NOTE_AT`] times, how to have them batched.
    pub fn waited_note(&self) -> Vec<String> {
        self.waited
            .borrow()
            .iter()
            .filter(|(_, n)| **n >= WAITED_NOTE_AT)
            .map(|(function, n)| {
                let twin = match function.as_str() {
                    "add_member" | "ensure_member" => " (or the whole list to add_members(group, list))",
                    "remove_member" => " (or the whole list to remove_members(group, list))",
                    "create_user" => " (or the rows to create_users(rows))",
                    "update_user" => " (or the rows to update_users(rows))",
                    "delete_user" => " (or the list to delete_users(list))",
                    "add_alias" => " (or the rows to add_aliases(rows))",
                    _ => "",
                };
                format!(
                    "{n} {function} calls each waited for their answer, a round trip each: one that is a statement of its own at the script's top level, outside `try`, with its value unused, is queued and sent in batches{twin}; see \"What calls cost\" in docs/scripting.md"
                )
            })
            .collect()
    }

    /// Whether the call `ctx` describes may be queued: the script's top level, at a position
    /// [`super::sites`] found deferrable. Dry runs queue too: what the real run would make of
    /// the queued writes is then foreseen a batch at a time (one round of probes, not one per
    /// call), so planning a loop costs no more than running it.
    pub fn may_defer(&self, ctx: &rhai::NativeCallContext) -> bool {
        // A native function called from the script's top level runs at level 1; from inside a
        // script function or closure, deeper.
        if ctx.call_level() != 1 {
            return false;
        }
        self.in_script(ctx)
            && self
                .deferrable
                .borrow()
                .as_ref()
                .is_some_and(|(_, sites)| sites.contains(&ctx.call_position()))
    }

    /// Runs `f` (resolving a deferred call's arguments) without sending the queue.
    pub fn deferring<T>(&self, f: impl FnOnce() -> T) -> T {
        let before = self.deferring.replace(true);
        let out = f();
        self.deferring.set(before);
        out
    }

    /// Queues a write for `function` called at `ctx`; sends the queue once it is full.
    pub fn defer(
        &self,
        ctx: &rhai::NativeCallContext,
        function: &str,
        endpoint: &'static str,
        label: &str,
        item: serde_json::Value,
        group: Option<String>,
    ) -> Result<(), Box<EvalAltResult>> {
        let dir = self.deferring(|| self.directory(function))?;
        let pos = ctx.call_position();
        let site = format!(
            "{}:{}:{}",
            ctx.call_source().unwrap_or("<script>"),
            pos.line().unwrap_or(0),
            pos.position().unwrap_or(1)
        );
        let write = Deferred {
            endpoint,
            label: label.to_string(),
            item,
            group,
            function: function.to_string(),
            site,
        };
        // What would be refused before any request is refused here, at the call's own line.
        self.block_on(function, dir.refuse_early(&write))?;
        let queued = dir.defer(write);
        if queued >= QUEUE_LIMIT {
            self.flush(function)?;
        }
        Ok(())
    }

    /// Sends the writes queued so far. A refusal ends the script (uncatchably) at the call
    /// that queued the refused write.
    pub fn flush(&self, function: &str) -> Result<(), Box<EvalAltResult>> {
        let Some(dir) = self.directory.borrow().clone() else {
            return Ok(());
        };
        if dir.queued() == 0 {
            return Ok(());
        }
        match self.block_on(function, dir.flush()) {
            Ok(None) => {
                self.release(None);
                Ok(())
            }
            Ok(Some(surprise)) => {
                self.release(Some(surprise.index));
                Err(refusal(&surprise))
            }
            // Ctrl-C (or an error) while sending: what went out is in the audit log; the rest
            // is not sent, so what the script printed after the first of them would never
            // have been.
            Err(e) => {
                self.release(Some(0));
                Err(e)
            }
        }
    }

    /// Drops the queue unsent (Ctrl-C), and what the script printed after the first of its
    /// writes (one by one, it never would have); how many writes were dropped.
    pub fn drop_queued(&self) -> usize {
        let dropped = self
            .directory
            .borrow()
            .as_ref()
            .map_or(0, |d| d.drop_queued());
        self.release(Some(0));
        dropped
    }

    /// Asks a yes/no question through the CLI's policy.
    pub fn confirm(&self, question: &str) -> Result<bool, Box<EvalAltResult>> {
        self.flush("confirm")?;
        (self.prompter)(question)
            .map_err(|e| errors::raise("confirm", "usage", &format!("{e:#}"), false, 0, "usage"))
    }

    /// Remembers addresses for completion.
    pub fn saw_emails<'a>(&self, emails: impl IntoIterator<Item = &'a str>) {
        let mut names = self.names.borrow_mut();
        for e in emails {
            if names.emails.len() >= MAX_NAMES {
                break;
            }
            if !e.is_empty() {
                names.emails.insert(e.to_string());
            }
        }
    }

    /// Remembers group names for completion.
    pub fn saw_groups<'a>(&self, groups: impl IntoIterator<Item = &'a str>) {
        let mut names = self.names.borrow_mut();
        for g in groups {
            if names.groups.len() < MAX_NAMES {
                names.groups.insert(g.to_string());
            }
        }
    }
}

/// The uncatchable error for a deferred write the service refused.
fn refusal(s: &Surprise) -> Box<EvalAltResult> {
    let mut map = rhai::Map::new();
    map.insert("kind".into(), DEFERRED_REFUSAL.into());
    map.insert("function".into(), s.call.function.clone().into());
    map.insert("code".into(), s.code.clone().into());
    map.insert("message".into(), s.to_string().into());
    map.insert("site".into(), s.call.site.clone().into());
    // Only later writes that changed something (or, in a dry run, were planned) make it
    // partial.
    let done = s.later_sent.len() - s.later_failed;
    map.insert("laterSent".into(), (done as rhai::INT).into());
    Box::new(EvalAltResult::ErrorTerminated(
        rhai::Dynamic::from_map(map),
        rhai::Position::NONE,
    ))
}

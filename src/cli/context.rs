//! What every command shares: the resolved settings, the directory, printers, prompts.
//!
//! Policy: credentials are resolved only when a command first needs the API, so commands that
//! never call it (config, completions, sandbox) work without any. `--sandbox` starts an
//! embedded sandbox on the same runtime and uses its credentials. Diagnostics go to stderr
//! and respect `-q`/`-v`; results go to stdout.

use std::io::Write;
use std::sync::Arc;

use anyhow::Context as _;
use colored::Colorize;

use super::progress::Bar;
use super::report::Usage;
use super::Global;
use crate::api::events::{Event, Observer};
use crate::api::{Client, ClientOptions, Credentials, Secret};
use crate::config;
use crate::directory::audit::{self, Audit};
use crate::directory::{BulkOptions, Directory};
use crate::output::{Format, Printer, Shape};
use crate::sandbox;

/// Environment variable naming the embedded sandbox's state file.
pub const SANDBOX_STATE_ENV: &str = "MCSH_SANDBOX_STATE";

/// Tables longer than this end with their count.
const LONG_TABLE: usize = 20;

/// Shared state of one command run.
pub struct Ctx {
    /// The global options.
    pub global: Global,
    embedded: Option<sandbox::Running>,
    embedded_state: Option<String>,
    /// Under `--rehearse`, the tenant the snapshot is of: plans made here are bound to it.
    rehearsal: Option<crate::snapshot::Tenant>,
    connected: Option<Arc<Directory>>,
    /// Why connecting ahead failed ([`Ctx::connect_ahead`]): the first command to need the
    /// directory is told it.
    failed_ahead: Option<anyhow::Error>,
    /// The progress bar of bulk work.
    pub bar: Arc<Bar>,
    /// What tells the client to send nothing more when the run is interrupted.
    pub stop: crate::api::Stop,
}

impl Ctx {
    /// A context for `global`.
    pub fn new(global: Global) -> Ctx {
        let bar = Arc::new(Bar::new(
            !global.quiet && crate::streams::stderr_is_terminal(),
        ));
        Ctx {
            global,
            embedded: None,
            embedded_state: None,
            rehearsal: None,
            connected: None,
            failed_ahead: None,
            bar,
            stop: crate::api::Stop::default(),
        }
    }

    /// The result format: as asked, else a table on a terminal and JSON otherwise.
    pub fn format(&self) -> Format {
        self.global.format()
    }

    /// A printer of results on stdout.
    pub fn printer(&self, shape: Shape, columns: &[&str]) -> Printer<crate::output::Stdout> {
        let width = terminal_width();
        Printer::on_stdout(self.format(), shape, columns)
            .with_width(width)
            .with_raw_csv(self.global.csv_raw)
    }

    /// Ends a listing of `noun` (plural): in a table, an empty one says so (`no users`) and
    /// a long one ends with its count, on stderr so that stdout stays the data.
    pub fn finish_list(
        &self,
        printer: Printer<crate::output::Stdout>,
        noun: &str,
    ) -> anyhow::Result<()> {
        let count = printer.count();
        printer.finish()?;
        if self.format() == Format::Table {
            if count == 0 {
                self.note(&format!("no {noun}"));
            } else if count > LONG_TABLE {
                self.note(&format!("{count} {noun}"));
            }
        }
        Ok(())
    }

    /// A note for people on stderr (suppressed by `-q`).
    pub fn note(&self, message: &str) {
        if !self.global.quiet {
            crate::eprintln_safe!("{}", crate::output::printable_text(message));
        }
    }

    /// A warning on stderr (suppressed by `-q`).
    pub fn warn(&self, message: &str) {
        if !self.global.quiet {
            crate::eprintln_safe!(
                "{} {}",
                super::report::painted("warning:", |w| w.yellow().bold()),
                crate::output::printable_text(message)
            );
        }
    }

    /// Asks `question` on a terminal; without one, `--yes` is required.
    pub fn confirm(&self, question: &str) -> anyhow::Result<bool> {
        confirm(&self.global, question)
    }

    /// Connects now and fetches the token in the background, for a run certain to call the
    /// API that has other work to do first (a fleet's tenant compiling its script: its token's
    /// round trip is then hidden behind the compiling). A failure is not told here but by the
    /// first [`Ctx::directory`], as it would have been without connecting ahead.
    pub async fn connect_ahead(&mut self) {
        match self.directory().await {
            Ok(dir) => dir.client().warm_up(),
            Err(e) => self.failed_ahead = Some(e),
        }
    }

    /// The directory, connecting on first use (embedded sandbox or configured account).
    pub async fn directory(&mut self) -> anyhow::Result<Arc<Directory>> {
        if let Some(d) = &self.connected {
            return Ok(d.clone());
        }
        if let Some(e) = self.failed_ahead.take() {
            return Err(e);
        }
        if let Some(member) = &self.global.member {
            // A fleet's part is done starting: its fleet may start another tenant.
            crate::eprintln_safe!("{}", super::fleet::started_line(&member.mark));
        }
        let options = ClientOptions {
            stop: self.stop.clone(),
            ..ClientOptions::default()
        };
        let (base_url, credentials, options) = if self.global.sandbox
            || self.global.rehearse.is_some()
        {
            let running = match self.embedded.take() {
                Some(r) => r,
                None => self.start_embedded().await?,
            };
            let creds = Credentials::OAuth {
                client_id: running.keys.client_id.clone(),
                client_secret: Secret::new(running.keys.client_secret.clone()),
            };
            let url = running.base_url.clone();
            self.embedded = Some(running);
            (url, creds, options)
        } else {
            let env = |k: &str| std::env::var(k).ok();
            let resolved = config::resolve(self.global.profile.as_deref(), &env)?;
            for w in &resolved.warnings {
                self.warn(w);
            }
            let mut settings = resolved.settings()?;
            if let Some(email) = &settings.discover_from {
                let found = crate::api::discover::region_base_url(
                    &config::discovery_url(&env),
                    email,
                    settings.timeout,
                )
                .await
                .with_context(|| format!("discover the API 1.0 region of {email}"))?;
                let cached =
                    config::file::cache_base_url(&resolved.path, &settings.profile, &found)
                        .unwrap_or(false);
                if cached {
                    self.note(&format!(
                        "discovered base URL {found}; saved as base_url in profile {:?}",
                        settings.profile
                    ));
                } else {
                    self.note(&format!(
                        "discovered base URL {found}; set MIMECAST_BASE_URL={found} to skip discovery"
                    ));
                }
                settings.base_url = found;
            }
            (
                settings.base_url,
                settings.credentials,
                ClientOptions {
                    timeout: settings.timeout,
                    ..options
                },
            )
        };
        let client = Client::new(&base_url, credentials, options, Some(self.observer()))?;
        let defaults = BulkOptions::default();
        let bulk = BulkOptions {
            batch_size: self
                .global
                .batch_size
                .map_or(defaults.batch_size, usize::from),
            concurrency: self
                .global
                .concurrency
                .map_or(defaults.concurrency, usize::from),
            page_size: defaults.page_size,
        };
        let mut dir = Directory::new(client, bulk, self.global.dry_run)
            .with_progress(self.bar.clone())
            .with_command(format!("mcsh {}", self.global.target_words()));
        // `MCSH_AUDIT_LOG=off` is the one deliberate way to run writes without a log.
        if std::env::var("MCSH_AUDIT_LOG").ok().as_deref() != Some("off") {
            let tenant = self.tenant_key(dir.client());
            let mut log = Audit::new(
                audit::default_path(&|k| std::env::var(k).ok()),
                &self.label(),
            )
            .with_tenant(tenant);
            if let Some(m) = &self.global.member {
                log = log.in_fleet(m.run.clone());
            }
            let log = Arc::new(log);
            dir = dir.with_audit(log.clone());
            // Ended without its usual end (a second signal, or no stop within the grace),
            // the run still says what it sent unanswered and what it wrote (a fleet's part:
            // the fleet says how to undo the whole run).
            let (global, stop) = (self.global.clone(), self.stop.clone());
            crate::interrupt::set_last_words(Box::new(move || {
                let unanswered = stop.unanswered();
                let wrote = match global.member {
                    Some(_) => None,
                    None => super::plan_cmd::wrote_line(&global, &log),
                };
                unanswered.into_iter().chain(wrote).collect()
            }));
        }
        let dir = Arc::new(dir);
        self.connected = Some(dir.clone());
        Ok(dir)
    }

    /// The directory, if a command has connected.
    pub fn connected(&self) -> Option<Arc<Directory>> {
        self.connected.clone()
    }

    /// The profile's name, `rehearsal` or `sandbox`: for prompts and the audit log.
    pub fn label(&self) -> String {
        if self.global.rehearse.is_some() {
            // A fleet's part on its copy: `acme (rehearsal)`, so a fleet undo finds each copy.
            match (&self.global.member, &self.global.profile) {
                (Some(_), Some(p)) => format!("{p}{}", super::fleet::REHEARSAL_MARK),
                _ => "rehearsal".into(),
            }
        } else if self.global.sandbox {
            // `--sandbox --profile NAME` is the sandbox tenant NAME (a fleet's member).
            self.global
                .profile
                .clone()
                .unwrap_or_else(|| "sandbox".into())
        } else {
            self.global
                .profile
                .clone()
                .unwrap_or_else(|| "default".into())
        }
    }

    /// Where writes through `client` go, as the audit log records it and `mcsh undo` checks it:
    /// the sandbox's state file or the base URL, and the client id or access key.
    pub fn tenant_key(&self, client: &crate::api::Client) -> String {
        let target = match &self.embedded_state {
            Some(state) => format!("sandbox {state}"),
            None => client.base_url().to_string(),
        };
        format!("{target}, {}", client.principal())
    }

    /// What a plan is made against: the base URL, or the sandbox's state file.
    pub fn target(&self) -> String {
        match (&self.embedded_state, &self.connected) {
            (Some(state), _) => format!("sandbox {state}"),
            (None, Some(d)) => d.client().base_url().to_string(),
            (None, None) => String::new(),
        }
    }

    /// What a plan made here is bound to: (base URL or target, profile, principal). Under
    /// `--rehearse`, the snapshot's tenant, so `mcsh apply` takes the plan there.
    pub fn identity(&self) -> (String, String, String) {
        match (&self.rehearsal, &self.connected) {
            (Some(t), _) => (t.base_url.clone(), t.profile.clone(), t.principal.clone()),
            (None, Some(d)) => (self.target(), self.label(), d.client().principal()),
            (None, None) => (self.target(), self.label(), String::new()),
        }
    }

    /// The tenant this run reads, as a snapshot records it (never a secret).
    pub async fn tenant(&mut self) -> anyhow::Result<crate::snapshot::Tenant> {
        let dir = self.directory().await?;
        if let Some(t) = &self.rehearsal {
            // The copy's tenant, marked: a snapshot of a rehearsal is not of the tenant itself.
            let mut t = t.clone();
            t.account_name = Some(format!(
                "{} (rehearsal)",
                t.account_name.as_deref().unwrap_or("")
            ));
            return Ok(t);
        }
        let (account_code, account_name) = dir.account_names().await?;
        let (base_url, profile, principal) = self.identity();
        Ok(crate::snapshot::Tenant {
            account_code,
            account_name,
            profile,
            principal,
            base_url,
        })
    }

    async fn start_embedded(&mut self) -> anyhow::Result<sandbox::Running> {
        if let Some(file) = self.global.rehearse.clone() {
            return self.start_rehearsal(&file).await;
        }
        let (state, tenant) = sandbox_state(self.global.profile.as_deref())?;
        let options = sandbox::Options {
            record_writes: false,
            state: state.clone(),
            tenant,
            ..sandbox::Options::default()
        };
        self.embedded_state = Some(state.clone());
        let running = sandbox::start(options)
            .await
            .context("cannot start the embedded sandbox")?;
        if self.global.verbose > 0 {
            crate::eprintln_data!("sandbox: {} (state {state})", running.base_url);
        }
        Ok(running)
    }

    /// A sandbox holding a copy of the snapshot `file`: made on first use in mcsh's data dir
    /// (one per snapshot), kept between runs so a rehearsal can go on over several commands.
    async fn start_rehearsal(&mut self, file: &str) -> anyhow::Result<sandbox::Running> {
        if file == "-" {
            return Err(Usage(
                "--rehearse needs a snapshot file: a copy is kept for the next --rehearse of the same file, which standard input cannot be".into(),
            )
            .into());
        }
        let bytes = crate::files::read_bounded(file, crate::snapshot::MAX_BYTES)
            .map_err(|e| Usage(format!("--rehearse {file}: {e}")))?;
        #[derive(serde::Deserialize)]
        struct Head {
            #[serde(default)]
            tenant: crate::snapshot::Tenant,
        }
        let head: Head = serde_json::from_slice(&bytes).unwrap_or(Head {
            tenant: Default::default(),
        });
        let state = sandbox::default_state_path()
            .with_file_name("rehearsals")
            .join(format!("{}.db", sandbox::snapshot_digest(&bytes)))
            .display()
            .to_string();
        let new = !std::path::Path::new(&state).exists();
        if let Some(dir) = std::path::Path::new(&state).parent() {
            // Copies of a tenant: names, addresses, memberships. For this user's eyes only.
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            builder
                .create(dir)
                .with_context(|| format!("cannot make {}", dir.display()))?;
        }
        let options = sandbox::Options {
            record_writes: false,
            state: state.clone(),
            from: Some(file.to_string()),
            ..sandbox::Options::default()
        };
        self.embedded_state = Some(state.clone());
        let running = sandbox::start(options).await.map_err(|e| match e {
            sandbox::SandboxError::Snapshot(bad) => anyhow::Error::new(Usage(bad.to_string())),
            other => anyhow::Error::new(other).context("cannot start the rehearsal"),
        })?;
        if new {
            self.note(&format!(
                "rehearsal: a copy of {file} ({}), kept in {state}; what you change there \
                 stays for the next --rehearse of this snapshot; `mcsh sandbox reset {}` starts it over",
                head.tenant.base_url,
                crate::output::shell_flag("--state", &state)
            ));
        } else if self.global.verbose > 0 {
            self.note(&format!(
                "rehearsal: the copy of {file} kept in {state}, with the changes made there so far"
            ));
        }
        self.rehearsal = Some(head.tenant);
        Ok(running)
    }

    fn observer(&self) -> Observer {
        let quiet = self.global.quiet;
        let level = if self.global.quiet {
            0
        } else {
            self.global.verbose
        };
        Arc::new(move |event: &Event| match event {
            Event::Retry {
                path,
                attempt,
                reason,
                wait,
            } if level >= 1 => {
                crate::eprintln_data!(
                    "retry: {path} attempt {attempt} in {} ms after {reason}",
                    wait.as_millis()
                );
            }
            // Told even without -v: a run that waits a whole timeout again says why.
            Event::TimedOut {
                path,
                after,
                within,
                attempt,
                tries,
            } if !quiet => {
                // Rounded up to the second: "until 12:00:05" is never a moment too early.
                let by = chrono::Local::now()
                    + chrono::Duration::from_std(*within).unwrap_or_default()
                    + chrono::Duration::milliseconds(999);
                let again = if attempt == tries {
                    "trying once more".to_string()
                } else {
                    format!("trying again (try {attempt} of {tries})")
                };
                crate::eprintln_data!(
                    "no answer from {path} within {} s; {again}, until {} at the latest",
                    after.as_secs(),
                    by.format("%H:%M:%S")
                );
            }
            Event::RateLimited { path, wait } if level >= 1 => {
                crate::eprintln_data!(
                    "rate limit: {path} answered 429; waiting {} ms before trying again",
                    wait.as_millis()
                );
            }
            Event::Response {
                path,
                status,
                elapsed,
                request_id,
                remaining,
            } if level >= 2 => {
                let id = request_id
                    .as_deref()
                    .map(|i| format!(" req {i}"))
                    .unwrap_or_default();
                let left = remaining
                    .map(|r| format!(" remaining {r}"))
                    .unwrap_or_default();
                crate::eprintln_data!(
                    "http: POST {path} -> {status} in {} ms{left}{id}",
                    elapsed.as_millis()
                );
            }
            Event::Paced { path, wait } if level >= 1 => {
                crate::eprintln_data!(
                    "rate budget: quota used up; {path} waits {} ms for it to renew",
                    wait.as_millis()
                );
            }
            Event::TokenIssued { expires_in } if level >= 3 => {
                crate::eprintln_data!("auth: new API 2.0 token, valid {expires_in} s");
            }
            _ => {}
        })
    }

    /// Stops the embedded sandbox, if one was started.
    pub async fn close(&mut self) {
        if let Some(r) = self.embedded.take() {
            r.stop().await;
        }
    }
}

/// The embedded sandbox's state file (`MCSH_SANDBOX_STATE`, else the user's data dir) and,
/// with a profile named, that sandbox tenant's own state file and name.
pub fn sandbox_state(profile: Option<&str>) -> anyhow::Result<(String, Option<String>)> {
    let base = std::env::var(SANDBOX_STATE_ENV)
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| sandbox::default_state_path().display().to_string());
    match profile {
        None => Ok((base, None)),
        Some(name) => {
            let state = sandbox::tenant_state(&base, name).map_err(Usage)?;
            Ok((state, Some(name.to_string())))
        }
    }
}

/// Asks `question` on a terminal; `--yes` and `--dry-run` answer yes; without a terminal and
/// without `--yes` it is a usage error rather than a guess.
pub fn confirm(global: &Global, question: &str) -> anyhow::Result<bool> {
    if global.yes || global.dry_run {
        return Ok(true);
    }
    if !crate::streams::stdin_is_terminal() || !crate::streams::stderr_is_terminal() {
        let msg = format!("{question}: refusing without confirmation; pass --yes to confirm");
        return Err(Usage(msg).into());
    }
    eprint!("{} [y/N] ", crate::output::printable_text(question));
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

/// The terminal width from `COLUMNS`, when set.
pub fn terminal_width() -> Option<u16> {
    // A terminal that reports 0 (or a silly few) columns gets the table's natural width.
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<u16>().ok())
        .filter(|w| *w >= 20)
}

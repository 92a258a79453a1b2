//! Fleets: one command, workflow, script or plan over several tenants at once.
//!
//! Policy: each tenant runs as a run of its own, on threads of this process, with the same
//! arguments, its own profile, streams and JSON lines out ([`Member`], `spawn.rs`), so each
//! has its own connection, token and rate budget and a slow or throttled tenant holds no other
//! back; at most `--fleet-jobs` (default
//! [`DEFAULT_JOBS`]) run at once. Their rows come back as one report with `profile` first,
//! each tenant's diagnostics come on stderr behind its name, a line per tenant ends the run,
//! and the exit code is the worst of theirs (3 when some tenants were done and others not).
//! Plans over a fleet are one file with a sealed plan per tenant; audit lines carry the fleet
//! run's id, which `mcsh undo` takes back tenant by tenant.

mod member;
mod plans;
mod report;
mod spawn;

use std::ffi::OsString;

use super::report::Usage;
use super::{Cli, Command, Global};
use crate::interrupt::Interrupt;

pub use member::{become_member, started_line, wrote_line, Member};

/// Tenants run at once unless `--fleet-jobs` says otherwise. Each is a run (a few threads)
/// that mostly waits on the network (a few MB of memory), so this is set by what a provider's fleet is
/// (dozens), not by cores.
pub const DEFAULT_JOBS: usize = 32;

/// What a fleet member's audit lines add to its profile when it runs on a rehearsal copy
/// (`acme (rehearsal)`): `mcsh --rehearse DIR undo FLEET_RUN` finds each copy by it.
pub const REHEARSAL_MARK: &str = " (rehearsal)";

/// Checks that `name` can be a fleet's tenant: it becomes part of file names (plans,
/// snapshots, sandbox states), so letters, digits, `-`, `_` and `.` (not first) only.
fn fleet_name(name: &str) -> anyhow::Result<()> {
    if !crate::sandbox::fits_a_file_name(name) {
        let shown: String = name.chars().take(64).collect();
        return Err(Usage(crate::output::printable(&format!(
            "profile {shown:?}{} cannot be part of a fleet: a fleet's tenant names become part of file names (plans, snapshots), so use at most 64 letters, digits, '-', '_' or '.' (not first); rename the profile",
            if shown.len() < name.len() { "…" } else { "" }
        )))
        .into());
    }
    Ok(())
}

/// A run over several tenants.
pub struct Fleet {
    /// The profiles (or, with `--sandbox`, sandbox tenants), in the order given.
    tenants: Vec<String>,
    /// What is run over them.
    kind: Kind,
}

/// What a fleet run does.
enum Kind {
    /// The command line, once per tenant.
    Each,
    /// `mcsh apply FILE` of a fleet plan: each part on its own tenant.
    Apply(String),
    /// `mcsh undo RUN` of a fleet run: each tenant's part where it was made.
    Undo(String),
}

impl Fleet {
    /// The fleet `cli` asks for: `--profiles`, `--all-profiles` or `--fleet`, or an `apply` of
    /// a fleet plan, or an `undo` of a fleet run; `None` for a run on one tenant.
    pub fn of(cli: &Cli) -> anyhow::Result<Option<Fleet>> {
        let fleet = Fleet::asked(cli)?;
        if fleet.is_some() {
            refuse_environment_credentials(&cli.global, &|k| std::env::var(k).ok())?;
        }
        Ok(fleet)
    }

    /// [`Fleet::of`], before the environment is looked at.
    fn asked(cli: &Cli) -> anyhow::Result<Option<Fleet>> {
        let g = &cli.global;
        if g.member.is_some() {
            return Ok(None);
        }
        match &cli.command {
            Some(Command::Apply { file }) if plans::is_fleet_plan(file) => {
                return Ok(Some(Fleet {
                    tenants: Vec::new(),
                    kind: Kind::Apply(file.clone()),
                }))
            }
            Some(Command::Undo { run: Some(run), .. }) if plans::is_fleet_run(run) => {
                return Ok(Some(Fleet {
                    tenants: Vec::new(),
                    kind: Kind::Undo(run.trim().to_string()),
                }))
            }
            _ => {}
        }
        let Some(tenants) = chosen(g)? else {
            if g.fleet_jobs.is_some() {
                return Err(Usage(
                    "--fleet-jobs sets how many tenants of a fleet run at once: add --profiles, --all-profiles or --fleet".into(),
                )
                .into());
            }
            return Ok(None);
        };
        refuse_alone(cli)?;
        Ok(Some(Fleet {
            tenants,
            kind: Kind::Each,
        }))
    }

    /// Runs it and says how each tenant ended; `Err` carries the worst exit code.
    pub fn run(
        self,
        cli: Cli,
        args: &[OsString],
        runtime: &tokio::runtime::Runtime,
        interrupt: &std::sync::Arc<Interrupt>,
    ) -> anyhow::Result<()> {
        refuse_after_script(&cli, args)?;
        let run = crate::directory::audit::new_run_id();
        let mark = uuid::Uuid::new_v4().simple().to_string();
        let env = spawn::Env {
            mark: &mark,
            handle: runtime.handle().clone(),
            interrupt: interrupt.clone(),
            run: &run,
            jobs: cli.global.fleet_jobs.map_or(DEFAULT_JOBS, usize::from),
            quiet: cli.global.quiet,
        };
        if !cli.global.dry_run {
            // Ended without its usual end (a second signal, or no stop within the grace): how
            // to take back what the tenants wrote, as the run's end would have said.
            let target = match &cli.global.rehearse {
                Some(r) => format!("{} ", crate::output::shell_flag("--rehearse", r)),
                None => String::new(),
            };
            let line = crate::output::printable(&format!(
                "fleet run {run}: if its tenants wrote anything, `mcsh {target}undo {run}` takes it back on each tenant"
            ));
            crate::interrupt::set_last_words(Box::new(move || vec![line.clone()]));
        }
        match self.kind {
            Kind::Apply(file) => plans::apply(&cli.global, &file, &env),
            Kind::Undo(run) => plans::undo(&cli.global, &run, &env),
            Kind::Each => plans::each(&cli, args, &self.tenants, &env),
        }
    }
}

/// Whether `word` (in any spelling) is an option that chooses the tenants (`--profile`,
/// `--profiles`, `--all-profiles`, `--fleet`), or with `report` also one that chooses where
/// the parts run or what they print (`--sandbox`, `--rehearse`, `-o`, `--plan-out`).
fn chooses(word: &str, report: bool) -> bool {
    const TENANTS: [&str; 4] = ["--profile", "--profiles", "--all-profiles", "--fleet"];
    const REPORT: [&str; 4] = ["--sandbox", "--rehearse", "--output", "--plan-out"];
    let name = word.split('=').next().unwrap_or(word);
    TENANTS.contains(&name)
        || (report
            && (REPORT.contains(&name) || (word.starts_with("-o") && !word.starts_with("--"))))
}

/// Refuses, once for the whole fleet, an option given after a script's path that would
/// narrow the fleet or send every part to one tenant (`mcsh --fleet all run FILE --profiles
/// x`). With `mcsh FILE` (no `run`), the words after the path reach only each tenant's part,
/// so the options choosing where it runs or what it prints are refused there too. Before the
/// path, or after `--` (the script's own), all are fine.
fn refuse_after_script(cli: &Cli, args: &[OsString]) -> anyhow::Result<()> {
    let (path, report) = match &cli.command {
        Some(Command::Run { file, .. }) => (file.clone(), false),
        Some(Command::Script(words)) => match words.first() {
            Some(w) => (w.clone(), true),
            None => return Ok(()),
        },
        _ => return Ok(()),
    };
    let words: Vec<String> = args
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let Some(at) = words.iter().position(|w| *w == path) else {
        return Ok(());
    };
    let after = &words[at + 1..];
    let own = after.iter().position(|w| w == "--").unwrap_or(after.len());
    if let Some(word) = after[..own].iter().find(|w| chooses(w, report)) {
        let which = if report {
            "--profile, --profiles, --all-profiles, --fleet, --sandbox, --rehearse, -o and --plan-out"
        } else {
            "--profile, --profiles, --all-profiles and --fleet"
        };
        return Err(Usage(crate::output::printable(&format!(
            "{word} after the script's path: over a fleet, {which} go before it (after `--` a word is the script's own)"
        )))
        .into());
    }
    Ok(())
}

/// The tenants the global options choose, in their order, each once; `None` when they
/// choose one tenant (the usual run).
fn chosen(g: &Global) -> anyhow::Result<Option<Vec<String>>> {
    let env = |k: &str| std::env::var(k).ok();
    let path = crate::config::config_path(&env);
    let names: Vec<String> = if !g.profiles.is_empty() {
        g.profiles.iter().map(|p| p.trim().to_string()).collect()
    } else if g.all_profiles {
        if g.sandbox {
            return Err(Usage(
                "--all-profiles runs over the config file's profiles; with --sandbox, name the sandbox tenants: --profiles a,b,c".into(),
            )
            .into());
        }
        crate::config::read_profiles(&path)?.into_keys().collect()
    } else if let Some(name) = &g.fleet {
        let fleets = crate::config::file::read_fleets(&path)?;
        match fleets.get(name) {
            Some(members) => members.clone(),
            None => {
                let known: Vec<&str> = fleets.keys().map(String::as_str).collect();
                let near = crate::suggest::similar(name, known.iter().copied(), 1);
                return Err(Usage(crate::output::printable(&format!(
                    "no fleet {name:?} in {} ({}){}; a fleet is a list of profiles under [fleets], e.g. emea = [\"acme\", \"globex\"]",
                    path.display(),
                    if known.is_empty() {
                        "it has no [fleets] table".to_string()
                    } else {
                        format!("fleets there: {}", known.join(", "))
                    },
                    near.first().map(|n| format!("; did you mean {n}?")).unwrap_or_default()
                )))
                .into());
            }
        }
    } else {
        return Ok(None);
    };
    if g.profile.is_some() && std::env::var("MCSH_PROFILE").ok() != g.profile {
        return Err(Usage(
            "--profile names one tenant; --profiles, --all-profiles and --fleet name several: choose one".into(),
        )
        .into());
    }
    let mut tenants: Vec<String> = Vec::new();
    for n in names {
        if n.is_empty() {
            return Err(Usage("--profiles has an empty name (a stray comma?)".into()).into());
        }
        if !tenants.contains(&n) {
            tenants.push(n);
        }
    }
    if tenants.is_empty() {
        return Err(Usage(format!(
            "no tenants to run over: {} has no profiles (`mcsh config init --profile NAME` adds one)",
            path.display()
        ))
        .into());
    }
    for t in &tenants {
        fleet_name(t)?;
    }
    if !g.sandbox {
        let known = crate::config::read_profiles(&path)?;
        if let Some(missing) = tenants.iter().find(|t| !known.contains_key(*t)) {
            let names: Vec<&str> = known.keys().map(String::as_str).collect();
            let near = crate::suggest::similar(missing, names.iter().copied(), 1);
            return Err(crate::config::ConfigError::NoProfile {
                name: missing.clone(),
                path: path.display().to_string(),
                known: match (names.is_empty(), near.first()) {
                    (true, _) => "none".into(),
                    (false, Some(n)) => format!("{}; did you mean {n}?", names.join(", ")),
                    (false, None) => names.join(", "),
                },
            }
            .into());
        }
        same_tenant_twice(&tenants, &known)?;
    }
    Ok(Some(tenants))
}

/// Refuses two profiles of a fleet that name one tenant (the same base URL and client id or
/// access key: a profile copied under a second name): the fleet would change it once for each.
fn same_tenant_twice(
    tenants: &[String],
    profiles: &std::collections::BTreeMap<String, crate::config::Profile>,
) -> anyhow::Result<()> {
    let mut seen: Vec<((String, String), &str)> = Vec::new();
    for t in tenants {
        let Some(p) = profiles.get(t) else { continue };
        let Some(id) = p.client_id.as_ref().or(p.access_key.as_ref()) else {
            continue;
        };
        let url = p
            .base_url
            .as_deref()
            .unwrap_or("")
            .trim()
            .trim_end_matches('/')
            .to_ascii_lowercase();
        let key = (url, id.trim().to_string());
        if let Some((_, first)) = seen.iter().find(|(k, _)| *k == key) {
            return Err(Usage(crate::output::printable(&format!(
                "profiles {first} and {t} name the same tenant (the same base URL and {}): a fleet would change it once for each; drop one of them from the fleet",
                if p.client_id.is_some() { "client id" } else { "access key" }
            )))
            .into());
        }
        seen.push((key, t));
    }
    Ok(())
}

/// Refuses a fleet of profiles while credentials are set in the environment: each tenant
/// resolves its profile with the environment over it, so they would replace every profile's
/// own and each "tenant" would be the one tenant they name, written to once per profile.
/// Sandbox tenants and rehearsal copies take no credentials from the environment.
fn refuse_environment_credentials(
    g: &Global,
    env: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<()> {
    if g.sandbox || g.rehearse.is_some() {
        return Ok(());
    }
    let set: Vec<&str> = crate::config::KEYS
        .iter()
        .map(|(_, var)| *var)
        .filter(|var| var.starts_with("MIMECAST_"))
        .filter(|var| env(var).is_some_and(|v| !v.trim().is_empty()))
        .collect();
    if set.is_empty() {
        return Ok(());
    }
    Err(Usage(format!(
        "{} {} set in the environment, and would replace every profile's own: each tenant of the \
         fleet would be the one they name, changed once per profile. A fleet takes each tenant's \
         credentials from its profile: `unset {}` first",
        set.join(", "),
        if set.len() == 1 { "is" } else { "are" },
        set.join(" ")
    ))
    .into())
}

/// Refuses what does not run over a fleet: commands about this machine (config, sandbox,
/// completions, man, doc, examples, audit), the interactive shell, and output that cannot be
/// one report (a snapshot or plan on standard output).
fn refuse_alone(cli: &Cli) -> anyhow::Result<()> {
    let what = match &cli.command {
        Some(Command::Config(_)) => Some("config"),
        Some(Command::Sandbox(_)) => Some("sandbox"),
        Some(Command::Completions { .. }) => Some("completions"),
        Some(Command::Man { .. }) => Some("man"),
        Some(Command::Doc { .. }) => Some("doc"),
        Some(Command::Examples { .. }) => Some("examples"),
        Some(Command::Audit { .. }) => Some("audit"),
        Some(Command::Repl) => Some("repl"),
        None if cli.opens_the_shell() => Some("the interactive shell"),
        _ => None,
    };
    if let Some(what) = what {
        return Err(Usage(format!(
            "`{what}` does not run over a fleet (it is about this machine, or is one session); drop --profiles/--all-profiles/--fleet"
        ))
        .into());
    }
    if let Some(Command::Snapshot { out: None }) = &cli.command {
        return Err(Usage(
            "a snapshot over a fleet needs --out DIR: each tenant's snapshot goes to DIR/PROFILE.json (a fleet snapshot folder, which --rehearse DIR and diff DIR --live take)".into(),
        )
        .into());
    }
    if cli.global.plan_out.as_deref() == Some("-") {
        return Err(Usage(
            "--plan-out - cannot hold a fleet's plan: name a file (one file holds every tenant's part)".into(),
        )
        .into());
    }
    if let Some(Command::Undo { last: true, .. }) = &cli.command {
        return Err(Usage(
            "undo --last over a fleet: undo the fleet run by its id (`mcsh undo FLEET_RUN`, printed at the end of the run and in the `fleet` field of `mcsh audit -o json`)".into(),
        )
        .into());
    }
    Ok(())
}

//! `mcsh onboard|offboard|export|departments`: the seed's workflows as single commands.
//!
//! Policy: each command is a thin caller of its stdlib module (`stdlib/NAME.rhai`), so a
//! script that imports the module gets exactly what the command does. The command checks its
//! flags, calls the module, prints the report rows, sums them up on stderr and picks the exit
//! code: 3 when some steps failed (each is listed), 1 when all did.

use std::collections::BTreeMap;

use clap::Args;
use rhai::{Array, Dynamic};
use serde_json::Value;

use super::context::terminal_width;
use super::report::{Partial, ScriptFailed, Usage};
use super::script_cmd::{execute, session};
use super::Global;
use crate::api::client::ClientStats;
use crate::directory::email;
use crate::output::{Format, Printer, Shape};

/// `mcsh onboard`
#[derive(Debug, Clone, Args)]
#[command(group(clap::ArgGroup::new("who").required(true).args(["email", "csv"])))]
pub struct OnboardArgs {
    /// The new person's address
    #[arg(long, value_name = "EMAIL", conflicts_with = "csv")]
    pub email: Option<String>,
    /// Their display name
    #[arg(long, value_name = "NAME", requires = "email")]
    pub name: Option<String>,
    /// A group to join, by name or id (repeatable)
    #[arg(long, value_name = "GROUP", requires = "email")]
    pub group: Vec<String>,
    /// Many people from a CSV with the columns email,name,groups (groups separated by ;)
    #[arg(long, value_name = "FILE")]
    pub csv: Option<String>,
    /// Create groups that do not exist instead of stopping
    #[arg(long)]
    pub create_groups: bool,
}

/// `mcsh offboard`
#[derive(Debug, Clone, Args)]
#[command(group(clap::ArgGroup::new("who").required(true).args(["email", "csv"])))]
pub struct OffboardArgs {
    /// The leaver's address (repeatable)
    #[arg(long, value_name = "EMAIL", conflicts_with = "csv")]
    pub email: Vec<String>,
    /// Many people from a CSV with an email column
    #[arg(long, value_name = "FILE")]
    pub csv: Option<String>,
    /// Lock the account but do not queue it for deletion
    #[arg(long)]
    pub keep_account: bool,
}

/// `mcsh export`
#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// Only this domain (default: every internal domain)
    #[arg(long, value_name = "DOMAIN")]
    pub domain: Option<String>,
    /// Add each user's groups, by path (one scan of every group's members)
    #[arg(long)]
    pub with_groups: bool,
    /// json or csv [default: --output when it is one of them, else csv for a --out file
    /// named *.csv, else json]
    #[arg(long, value_name = "FORMAT", value_parser = ["json", "csv"])]
    pub format: Option<String>,
    /// Write to this file, atomically, instead of standard output
    #[arg(long, value_name = "FILE")]
    pub out: Option<String>,
}

/// `mcsh departments`
#[derive(Debug, Clone, Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["names", "file"])))]
pub struct DepartmentsArgs {
    /// Department names or paths (Engineering/Platform nests Platform under Engineering)
    #[arg(value_name = "NAME", conflicts_with = "file")]
    pub names: Vec<String>,
    /// Read the names from a file, one per line (# comments and blank lines skipped)
    #[arg(long, value_name = "FILE")]
    pub file: Option<String>,
    /// Create them under this group (id or name) instead of at the top
    #[arg(long, value_name = "GROUP")]
    pub parent: Option<String>,
}

const STEP_COLUMNS: &[&str] = &["emailAddress", "step", "status", "message"];

type Runtime = tokio::runtime::Runtime;

/// Calls `call` after importing stdlib `module`, with `vars` in scope; returns its value.
fn call(
    global: &Global,
    runtime: &Runtime,
    module: &str,
    call: &str,
    vars: Vec<(&'static str, Dynamic)>,
) -> anyhow::Result<Called> {
    let started = std::time::Instant::now();
    let mut s = session(global, runtime, Vec::new())?;
    // The stdlib is our code, not the user's: a million-row CSV must not trip the default
    // operations limit meant for runaway scripts. Memory stays bounded; an operations limit
    // the admin sets (`--limit operations=N`, a bound on what a feed may cost) holds.
    if !crate::script::Limits::is_set(&global.limit, "operations") {
        s.engine.set_max_operations(0);
        s.limits.operations = 0;
    }
    s.own_code = true;
    for (name, value) in vars {
        s.scope.push_constant(name, value);
    }
    let source = format!("import \"{module}\" as {module};\n{call}");
    let value = execute(global, &mut s, &format!("mcsh {module}"), &source).map_err(|e| {
        match e.downcast::<ScriptFailed>() {
            // Where in the stdlib a workflow stopped is no help to the admin: keep the message.
            Ok(ScriptFailed(mut f)) => {
                f.location = None;
                f.excerpt = None;
                // Nor which stdlib function read the file: `bad.csv: missing column(s) ...`.
                if let Some((head, rest)) = f.message.split_once(": ") {
                    let internal = head != module
                        && !head.is_empty()
                        && head.chars().all(|c| c.is_ascii_lowercase() || c == '_');
                    if internal {
                        f.message = rest.to_string();
                    }
                }
                ScriptFailed(f).into()
            }
            Err(other) => other,
        }
    })?;
    Ok(Called {
        value: rhai::serde::from_dynamic(&value).unwrap_or(Value::Null),
        stats: s.host.connected().map(|d| d.client().stats()),
        elapsed: started.elapsed(),
    })
}

/// What a workflow returned, and what it took.
struct Called {
    value: Value,
    stats: Option<ClientStats>,
    elapsed: std::time::Duration,
}

fn strings(values: &[String]) -> Dynamic {
    Dynamic::from_array(
        values
            .iter()
            .map(|v| Dynamic::from(v.clone()))
            .collect::<Array>(),
    )
}

fn text(v: &Option<String>) -> Dynamic {
    v.clone().map(Dynamic::from).unwrap_or(Dynamic::UNIT)
}

/// Prints report rows, the summary (with time and retries), and turns failures into the
/// exit code.
fn report(global: &Global, what: &str, called: &Called, columns: &[&str]) -> anyhow::Result<()> {
    let rows: &[serde_json::Value] = called.value.as_array().map_or(&[], Vec::as_slice);
    let format = global.format();
    let mut printer = Printer::on_stdout(format, Shape::List, columns).with_width(terminal_width());
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    // The work is done when its rows are printed: a reader that went away (`| head`) or a
    // full disk stops the rows, not the summary or the exit code that says what failed.
    let mut lost: Option<std::io::Error> = None;
    // A hint in a row names its command with this run's tenant flags already (the
    // directory's `command_line`, a script's `mcsh_command`); a row's data is shown as it is.
    for r in rows {
        if lost.is_none() {
            lost = printer.row(r).err();
        }
        *counts
            .entry(r["status"].as_str().unwrap_or("?").to_string())
            .or_default() += 1;
    }
    let lost = match lost {
        Some(e) => Some(e),
        None => printer.finish().err(),
    };
    let failed = counts.get("failed").copied().unwrap_or(0);
    if !global.quiet {
        let changed = rows.len() - counts.get("unchanged").copied().unwrap_or(0) - failed;
        let summary: Vec<String> = counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
        // The counts are of steps (an account, each group): say how many people they are for.
        let people: std::collections::BTreeSet<String> = rows
            .iter()
            .filter_map(|r| r["emailAddress"].as_str())
            .filter(|e| !e.is_empty())
            .map(str::to_ascii_lowercase)
            .collect();
        let what = if !people.is_empty() && people.len() != rows.len() {
            format!(
                "{what}: {} {}, {} steps",
                people.len(),
                if people.len() == 1 {
                    "person"
                } else {
                    "people"
                },
                rows.len()
            )
        } else {
            what.to_string()
        };
        let took = match called.stats {
            Some(st) => {
                // What happened, not a row of zeros.
                let mut parts = vec![format!("{} requests", st.requests)];
                for (n, what) in [
                    (st.retries, "retried"),
                    (st.rate_waits, "answered 429 and sent again"),
                    (st.paced, "pauses for the rate budget"),
                ] {
                    if n > 0 {
                        parts.push(format!("{n} {what}"));
                    }
                }
                format!(
                    " in {:.1} s ({})",
                    called.elapsed.as_secs_f64(),
                    parts.join(", ")
                )
            }
            None => String::new(),
        };
        if rows.is_empty() {
            crate::eprintln_data!("{what}: nothing to do");
        } else if changed == 0 && failed == 0 {
            crate::eprintln_data!(
                "{what}: nothing changed, everything was already done ({}){took}",
                summary.join(", ")
            );
        } else {
            crate::eprintln_data!("{what}: {}{took}", summary.join(", "));
        }
    }
    match (lost, Partial::check(failed, rows.len())) {
        // Both: the exit code says some steps failed, and the lost output is still said.
        (Some(e), Err(partial)) => {
            if e.kind() != std::io::ErrorKind::BrokenPipe {
                crate::eprintln_safe!("error: {e}");
            }
            Err(partial)
        }
        (Some(e), Ok(())) => Err(e.into()),
        (None, result) => result,
    }
}

/// `mcsh onboard`.
pub fn onboard(global: &Global, runtime: &Runtime, a: OnboardArgs) -> anyhow::Result<()> {
    if a.csv.is_some() && (a.name.is_some() || !a.group.is_empty()) {
        return Err(Usage(
            "--name and --group go with --email; a CSV has its own name and groups columns".into(),
        )
        .into());
    }
    let options = Dynamic::from_map(
        [("create_groups".into(), a.create_groups.into())]
            .into_iter()
            .collect(),
    );
    let rows = match (&a.csv, &a.email) {
        (Some(csv), _) => call(
            global,
            runtime,
            "onboard",
            "onboard::from_csv(CSV, OPTIONS)",
            vec![("CSV", csv.clone().into()), ("OPTIONS", options)],
        )?,
        (None, Some(e)) => {
            let e = email::normalize(e)?;
            let name = a.name.as_deref().map(str::trim).unwrap_or("").to_string();
            let vars = vec![
                ("EMAIL", e.into()),
                ("NAME", name.into()),
                ("GROUPS", strings(&a.group)),
                ("OPTIONS", options),
            ];
            call(
                global,
                runtime,
                "onboard",
                "onboard::person(EMAIL, NAME, GROUPS, OPTIONS)",
                vars,
            )?
        }
        (None, None) => unreachable!("clap requires --email or --csv"),
    };
    report(global, "onboard", &rows, STEP_COLUMNS)
}

/// `mcsh offboard`.
pub fn offboard(global: &Global, runtime: &Runtime, a: OffboardArgs) -> anyhow::Result<()> {
    let options = Dynamic::from_map(
        [("keep_account".into(), a.keep_account.into())]
            .into_iter()
            .collect(),
    );
    let rows = match &a.csv {
        Some(csv) => call(
            global,
            runtime,
            "offboard",
            "offboard::from_csv(CSV, OPTIONS)",
            vec![("CSV", csv.clone().into()), ("OPTIONS", options)],
        )?,
        None => {
            let emails: Vec<String> = a
                .email
                .iter()
                .map(|e| email::normalize(e))
                .collect::<Result<_, _>>()?;
            call(
                global,
                runtime,
                "offboard",
                "offboard::people(EMAILS, OPTIONS)",
                vec![("EMAILS", strings(&emails)), ("OPTIONS", options)],
            )?
        }
    };
    report(global, "offboard", &rows, STEP_COLUMNS)
}

/// `mcsh departments`.
pub fn departments(global: &Global, runtime: &Runtime, a: DepartmentsArgs) -> anyhow::Result<()> {
    let parent = text(&a.parent);
    let rows = match &a.file {
        Some(f) => call(
            global,
            runtime,
            "departments",
            "departments::from_file(FILE, PARENT)",
            vec![("FILE", f.clone().into()), ("PARENT", parent)],
        )?,
        None => {
            if a.names.iter().all(|n| n.trim().is_empty()) {
                return Err(Usage("give at least one department name".into()).into());
            }
            call(
                global,
                runtime,
                "departments",
                "departments::create(NAMES, PARENT)",
                vec![("NAMES", strings(&a.names)), ("PARENT", parent)],
            )?
        }
    };
    report(
        global,
        "departments",
        &rows,
        &["description", "path", "status", "message", "id"],
    )
}

/// Whether an export file's name asks for CSV (`*.csv`) when nothing else chooses.
pub fn named_csv(out: &str) -> bool {
    std::path::Path::new(out)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
}

/// `mcsh export`.
pub fn export(global: &Global, runtime: &Runtime, a: ExportArgs) -> anyhow::Result<()> {
    if let Some(d) = &a.domain {
        if !email::valid_domain(d.trim()) {
            return Err(Usage(format!("--domain {d:?} is not a domain name")).into());
        }
    }
    let format = match (a.format.as_deref(), global.output) {
        (Some("csv"), _) => Format::Csv,
        (Some(_), _) => Format::Json,
        (None, Some(f)) => f,
        (None, None) if a.out.as_deref().is_some_and(named_csv) => Format::Csv,
        (None, None) => Format::Json,
    };
    let vars = vec![
        (
            "DOMAIN",
            text(&a.domain.map(|d| d.trim().to_ascii_lowercase())),
        ),
        ("WITH_GROUPS", a.with_groups.into()),
    ];
    let rows = call(
        global,
        runtime,
        "exporter",
        "exporter::rows(DOMAIN, WITH_GROUPS)",
        vars,
    )?;
    let rows = rows.value.as_array().cloned().unwrap_or_default();
    // The columns of `users list`: what Mimecast returns for a user.
    let mut columns = super::users::USER_COLUMNS.to_vec();
    if a.with_groups {
        columns.push("groups");
        columns.push("viaDomain");
    }
    match a.out.as_deref().filter(|o| *o != "-") {
        None => {
            let mut printer = Printer::on_stdout(format, Shape::List, &columns)
                .with_width(terminal_width())
                .with_raw_csv(global.csv_raw);
            for r in &rows {
                printer.row(r)?;
            }
            printer.finish()?;
        }
        Some(path) => {
            let path = &path.to_string();
            let mut buf = Vec::new();
            let mut printer =
                Printer::new(&mut buf, format, Shape::List, &columns).with_raw_csv(global.csv_raw);
            for r in &rows {
                printer.row(r)?;
            }
            printer.finish()?;
            crate::own_files::write_named(std::path::Path::new(path), &buf, false)
                .map_err(|e| anyhow::anyhow!("cannot write {path}: {e}"))?;
            if !global.quiet {
                crate::eprintln_data!("export: {} users written to {path}", rows.len());
            }
        }
    }
    Ok(())
}

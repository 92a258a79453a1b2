//! One tenant's part of a fleet run: what the fleet tells the process it starts, and how that
//! process turns it into its own options.
//!
//! Policy: the fleet passes the same command line and sets [`MEMBER_ENV`]; the member takes
//! the profile named there (never a fleet flag), prints JSON lines (with its columns first, so
//! the fleet's table shows what the command shows), and reads each fleet folder (snapshots,
//! rehearsals, exports) at `FOLDER/PROFILE.json`.

use serde::{Deserialize, Serialize};

use crate::cli::{Cli, Command};
use crate::output::Format;

/// The environment variable that makes a process one tenant's part of a fleet run. It is set
/// by mcsh for the processes it starts, sealed with the user's plan key (which only this
/// user's mcsh can read): a value set by anything else is refused, not obeyed.
pub const MEMBER_ENV: &str = "MCSH_FLEET_MEMBER";

/// How a member tells its fleet that it wrote: [`wrote_line`].
const WROTE: &str = "mcsh-fleet-member-wrote:";

/// How a member tells its fleet that it has started (given as it first connects, when what
/// comes next is mostly waiting on the service): [`started_line`]. The fleet then lets another
/// tenant start ([`super::spawn`]'s start gate).
const STARTED: &str = "mcsh-fleet-member-started:";

/// The line on stderr by which a member with the fleet run's `mark` says it wrote, with its
/// run id: the fleet says how to undo the whole run without reading the audit log again. The
/// mark (which no script knows) keeps a line the tenant's own output makes from passing for it.
pub fn wrote_line(mark: &str, run: &str) -> String {
    format!("{WROTE}{mark} {run}")
}

/// The run id in `line` when it is [`wrote_line`] of `mark`.
pub fn wrote_in<'a>(line: &'a str, mark: &str) -> Option<&'a str> {
    let run = line
        .strip_prefix(WROTE)?
        .strip_prefix(mark)?
        .strip_prefix(' ')?;
    (!mark.is_empty()).then_some(run.trim())
}

/// The line on stderr by which a member with the fleet run's `mark` says it has started.
pub fn started_line(mark: &str) -> String {
    format!("{STARTED}{mark}")
}

/// Whether `line` is [`started_line`] of `mark`.
pub fn is_started(line: &str, mark: &str) -> bool {
    !mark.is_empty() && line.strip_prefix(STARTED) == Some(mark)
}

/// What a fleet tells one tenant's process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    /// The tenant: a profile, or with `--sandbox` a sandbox tenant.
    pub profile: String,
    /// The fleet run's id, which this part's audit lines carry.
    pub run: String,
    /// Where this tenant's plan goes (a fleet `--plan-out` gathers them into one file).
    #[serde(default)]
    pub plan_out: Option<String>,
    /// Confirmed already: the fleet asked once for every tenant.
    #[serde(default)]
    pub yes: bool,
    /// The fleet run's random mark, which the lines a part writes for the fleet itself carry
    /// ([`crate::output::MARK_KEY`]).
    #[serde(default)]
    pub mark: String,
}

/// The seal of `text` under `key`, as plans are sealed.
fn mac(key: &[u8], text: &str) -> String {
    crate::directory::plan::seal(key, text.as_bytes())
}

/// How long a member's value holds after the fleet made it: the process it is made for starts
/// at once; a value copied out of it and used later is refused.
const VALID_SECONDS: i64 = 60;

/// A digest of a process's arguments (after the program's name): a member's value holds only
/// for the command line it was made for.
fn args_digest(args: &[std::ffi::OsString]) -> String {
    use sha1::Digest as _;
    let mut h = sha1::Sha1::new();
    for a in args {
        h.update(a.as_encoded_bytes());
        h.update([0u8]);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

impl Member {
    /// The value of [`MEMBER_ENV`] for this member run with `args`, sealed with `key` (the
    /// plan key), bound to those arguments and to this moment.
    pub fn to_env(&self, key: &[u8], args: &[std::ffi::OsString]) -> String {
        let member = serde_json::to_string(self).expect("a member serializes");
        let bound = serde_json::json!({
            "member": member,
            "args": args_digest(args),
            "issued": chrono::Utc::now().timestamp(),
        })
        .to_string();
        serde_json::json!({ "bound": bound, "mac": mac(key, &bound) }).to_string()
    }
}

/// The member this process is, if a fleet started it: `Err` when [`MEMBER_ENV`] is set but not
/// sealed by this user's mcsh.
pub fn member_from_env() -> anyhow::Result<Option<Member>> {
    let text = match std::env::var(MEMBER_ENV) {
        Ok(text) if !text.is_empty() => text,
        _ => return Ok(None),
    };
    let refused = || {
        crate::cli::report::Usage(format!(
            "{MEMBER_ENV} is set, but not by this user's mcsh running a fleet; nothing was done: unset it (fleets are run with --profiles, --all-profiles or --fleet)"
        ))
    };
    let outer: serde_json::Value = serde_json::from_str(&text).map_err(|_| refused())?;
    let (Some(bound), Some(seal)) = (outer["bound"].as_str(), outer["mac"].as_str()) else {
        return Err(refused().into());
    };
    let key = crate::cli::plan_key::plan_key()?;
    if mac(&key, bound) != seal {
        return Err(refused().into());
    }
    let bound: serde_json::Value = serde_json::from_str(bound).map_err(|_| refused())?;
    // Made for this very command line, just now: a value copied out of a fleet's process
    // (where a confirmation was given) does not carry that confirmation anywhere else.
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let age = chrono::Utc::now().timestamp() - bound["issued"].as_i64().unwrap_or(i64::MIN / 2);
    if bound["args"].as_str() != Some(args_digest(&args).as_str())
        || !(-5..=VALID_SECONDS).contains(&age)
    {
        return Err(refused().into());
    }
    let member = bound["member"].as_str().ok_or_else(refused)?;
    let member: Member = serde_json::from_str(member).map_err(|_| refused())?;
    Ok(Some(member))
}

/// `path/PROFILE.json` when `path` is a folder (a fleet's snapshots), else `path`.
fn in_folder(path: &str, profile: &str, ext: &str) -> String {
    let p = std::path::Path::new(path);
    if p.is_dir() {
        p.join(format!("{profile}.{ext}")).display().to_string()
    } else {
        path.to_string()
    }
}

/// Makes `cli` this member's run: its profile, JSON lines out, its plan file, its files in
/// the fleet's folders.
pub fn become_member(cli: &mut Cli, member: Member) {
    let g = &mut cli.global;
    let asked = g.output;
    g.profile = Some(member.profile.clone());
    g.profiles.clear();
    g.all_profiles = false;
    g.fleet = None;
    g.output = Some(Format::Jsonl);
    if member.yes {
        g.yes = true;
    }
    if let Some(p) = &member.plan_out {
        g.plan_out = Some(p.clone());
        g.dry_run = true;
    }
    if let Some(r) = &g.rehearse {
        g.rehearse = Some(in_folder(r, &member.profile, "json"));
    }
    match &mut cli.command {
        Some(Command::Snapshot { out: Some(out) }) => {
            *out = in_folder(out, &member.profile, "json")
        }
        Some(Command::Diff { before, after, .. }) => {
            *before = in_folder(before, &member.profile, "json");
            if let Some(a) = after {
                *a = in_folder(a, &member.profile, "json");
            }
        }
        Some(Command::Export(a)) => match &mut a.out {
            Some(out) if out != "-" => {
                if a.format.is_none() {
                    a.format = Some(
                        if asked == Some(Format::Csv) {
                            "csv"
                        } else {
                            "json"
                        }
                        .into(),
                    );
                }
                let ext = a.format.clone().unwrap_or_else(|| "json".into());
                *out = in_folder(out, &member.profile, &ext);
            }
            // Rows for the fleet's report, in its format (which --format chose, see
            // `report::format_asked`).
            _ => {
                a.out = None;
                a.format = None;
            }
        },
        _ => {}
    }
    crate::output::announce_columns(&member.mark);
    g.member = Some(member);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_member_tells_its_fleet_holds_only_with_the_runs_mark() {
        let mark = "0123456789abcdef0123456789abcdef";
        assert_eq!(wrote_in(&wrote_line(mark, "RUN-1"), mark), Some("RUN-1"));
        assert!(is_started(&started_line(mark), mark));
        // Written by anything that does not know the mark (a tenant's own output), or for
        // another run: not the fleet's.
        assert_eq!(wrote_in(&wrote_line("other", "RUN-1"), mark), None);
        assert_eq!(wrote_in("mcsh-fleet-member-wrote: RUN-1", mark), None);
        assert!(!is_started("mcsh-fleet-member-started:", mark));
        assert!(!is_started(&started_line("other"), mark));
        assert!(!is_started(&started_line(""), ""));
        assert_eq!(wrote_in(&wrote_line("", "RUN-1"), ""), None);
    }
}

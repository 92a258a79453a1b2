//! One tenant's part of a fleet run: what the fleet tells it, and how it turns that into its
//! own options.
//!
//! Policy: the fleet runs the same command line for each tenant, as threads of its own process
//! (`spawn.rs`), with a [`Member`]; the member takes the profile named there (never a fleet
//! flag), prints JSON lines (with its columns first, so the fleet's table shows what the
//! command shows), and reads each fleet folder (snapshots, rehearsals, exports) at
//! `FOLDER/PROFILE.json`. Nothing outside the process can make a run a member.

use crate::cli::{Cli, Command};
use crate::output::Format;

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

/// What a fleet tells one tenant's part.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// The tenant: a profile, or with `--sandbox` a sandbox tenant.
    pub profile: String,
    /// The fleet run's id, which this part's audit lines carry.
    pub run: String,
    /// Where this tenant's plan goes (a fleet `--plan-out` gathers them into one file).
    pub plan_out: Option<String>,
    /// Confirmed already: the fleet asked once for every tenant.
    pub yes: bool,
    /// The fleet run's random mark, which the lines a part writes for the fleet itself carry
    /// ([`crate::output::MARK_KEY`]).
    pub mark: String,
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
                    let csv = asked == Some(Format::Csv)
                        || (asked.is_none() && crate::cli::workflows::named_csv(out));
                    a.format = Some(if csv { "csv" } else { "json" }.into());
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

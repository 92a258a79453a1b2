//! One tenant's part of a fleet run: what the fleet tells the process it starts, and how that
//! process turns it into its own options.
//!
//! Policy: the fleet passes the same command line and sets [`MEMBER_ENV`]; the member takes
//! the profile named there (never a fleet flag), prints JSON lines (with its columns first, so
//! the fleet's table shows what the command shows), and reads each fleet folder (snapshots,
//! rehearsals, exports) at `FOLDER/PROFILE.json`.

use serde::{Deserialize, Serialize};

use super::super::{Cli, Command};
use crate::output::Format;

/// The environment variable that makes a process one tenant's part of a fleet run. It is set
/// by mcsh for the processes it starts; nothing else should set it.
pub const MEMBER_ENV: &str = "MCSH_FLEET_MEMBER";

/// How a member tells its fleet that it wrote (a line on stderr, followed by its run id): the
/// fleet says how to undo the whole run without reading the audit log again.
pub const WROTE: &str = "mcsh-fleet-member-wrote:";

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
}

impl Member {
    /// The value of [`MEMBER_ENV`] for this member.
    pub fn to_env(&self) -> String {
        serde_json::to_string(self).expect("a member serializes")
    }
}

/// The member this process is, if a fleet started it.
pub fn member_from_env() -> anyhow::Result<Option<Member>> {
    match std::env::var(MEMBER_ENV) {
        Ok(text) if !text.is_empty() => serde_json::from_str(&text).map(Some).map_err(|e| {
            anyhow::anyhow!("{MEMBER_ENV} is set but is not what mcsh writes there ({e}); unset it")
        }),
        _ => Ok(None),
    }
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
            Some(out) => {
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
            // Rows for the fleet's report, in its format.
            None => a.format = None,
        },
        _ => {}
    }
    crate::output::announce_columns();
    g.member = Some(member);
}

//! The `Examples:` section every command's `--help` ends with: real invocations, two to four.

/// `mcsh` itself: a first tour, and the exit codes every command shares.
pub const MCSH: &str = "Examples:
  mcsh --sandbox users list                      # the demo tenant, no account needed
  mcsh --sandbox onboard --email jane.doe@company.com --name \"Jane Doe\" --group Sales
  mcsh users list --domain example.com -o csv > users.csv
  mcsh -e 'users().filter(|u| u.name == \"\")'
  mcsh --sandbox --profiles a,b groups list      # two sandbox tenants at once: one report
  mcsh --fleet emea onboard --csv starters.csv   # a [fleets] set of the config's profiles
  mcsh                                           # the interactive shell

Exit codes:
  0  done (or already so)       3  partial: some items of a bulk job failed
  1  failed                     4  credentials or configuration missing or refused
  2  usage or bad input         130  interrupted
  (mcsh diff: 0 equal, 1 different, 2 the tenant could not be read)

Docs: mcsh doc (scripting reference), mcsh man (manual page), README.md and docs/";
/// `mcsh users list`.
pub const USERS_LIST: &str = "Examples:\n  mcsh users list\n  mcsh users list --domain example.com -o csv > users.csv\n  mcsh users list --aliases -o json";
/// `mcsh users get`.
pub const USERS_GET: &str = "Examples:\n  mcsh users get --email alice.anderson@company.com\n  mcsh users get --email alice@company.com      # an alias shows its mailbox";
/// `mcsh users groups`.
pub const USERS_GROUPS: &str = "Examples:\n  mcsh users groups --email samuel.walsh@example.com\n  mcsh users groups --email bob.hughes@company.com --direct";
/// `mcsh users create`.
pub const USERS_CREATE: &str = "Examples:\n  mcsh users create --email new.person@company.com --name \"New Person\"\n  mcsh users create --email new.person --domain company.com --dry-run";
/// `mcsh users update`.
pub const USERS_UPDATE: &str = "Examples:\n  mcsh users update --email bob.hughes@company.com --name \"Robert Hughes\"\n  mcsh users update --email bob.hughes@company.com --lock\n  mcsh users update --email bob.hughes@company.com --alias bob@company.com";
/// `mcsh users delete`.
pub const USERS_DELETE: &str = "Examples:\n  mcsh users delete --email leaver@company.com\n  mcsh users delete --email leaver@company.com --dry-run";
/// `mcsh users restore`.
pub const USERS_RESTORE: &str = "Examples:\n  mcsh users restore --email leaver@company.com";
/// `mcsh groups list`.
pub const GROUPS_LIST: &str =
    "Examples:\n  mcsh groups list\n  mcsh groups list --query eng -o json";
/// `mcsh groups create`.
pub const GROUPS_CREATE: &str = "Examples:\n  mcsh groups create --description Sales\n  mcsh groups create --description Platform --parent Engineering";
/// `mcsh groups members`.
pub const GROUPS_MEMBERS: &str = "Examples:\n  mcsh groups members --group Engineering\n  mcsh groups members --group Engineering/Platform -o csv";
/// `mcsh groups add-member`.
pub const GROUPS_ADD: &str = "Examples:\n  mcsh groups add-member --group Sales --email bob.hughes@company.com\n  mcsh groups add-member --group \"All Staff\" --emails-from new.txt --strict\n  mcsh groups add-member --group Sales --email x@company.com --plan-out plan.json";
/// `mcsh groups remove-member`.
pub const GROUPS_REMOVE: &str = "Examples:\n  mcsh groups remove-member --group Sales --email bob.hughes@company.com\n  cat leavers.txt | mcsh groups remove-member --group Sales --emails-from -";
/// `mcsh groups rename`.
pub const GROUPS_RENAME: &str =
    "Examples:\n  mcsh groups rename --group Support --description \"Customer Support\"";
/// `mcsh groups delete`.
pub const GROUPS_DELETE: &str = "Examples:\n  mcsh groups delete --group Temp --yes";
/// `mcsh config init`.
pub const CONFIG_INIT: &str = "Examples:\n  mcsh config init\n  mcsh config init --force";
/// `mcsh config show`.
pub const CONFIG_SHOW: &str = "Examples:\n  mcsh config show\n  mcsh --profile prod config show";
/// `mcsh config path`.
pub const CONFIG_PATH: &str = "Examples:\n  mcsh config path";
/// `mcsh sandbox serve`.
pub const SANDBOX_SERVE: &str = "Examples:\n  mcsh sandbox serve\n  mcsh sandbox serve --empty --state :memory: --output json\n  mcsh sandbox serve --latency-ms 50 --quota 20\n  mcsh sandbox serve --from before.json --state rehearsal.db";
/// `mcsh sandbox reset`.
pub const SANDBOX_RESET: &str =
    "Examples:\n  mcsh sandbox reset\n  mcsh sandbox reset --state ./tenant.db";
/// `mcsh onboard`.
pub const ONBOARD: &str = "Examples:\n  mcsh onboard --email jane.doe@company.com --name \"Jane Doe\" --group Engineering\n  mcsh onboard --csv new-starters.csv --dry-run\n  mcsh onboard --csv new-starters.csv --create-groups";
/// `mcsh offboard`.
pub const OFFBOARD: &str = "Examples:\n  mcsh offboard --email jane.doe@company.com --yes\n  mcsh offboard --csv leavers.csv --keep-account --dry-run\n  mcsh --rehearse before.json offboard --csv leavers.csv --plan-out plan.json";
/// `mcsh export`.
pub const EXPORT: &str = "Examples:\n  mcsh export --format csv --out users.csv\n  mcsh export --with-groups --domain example.com -o json";
/// `mcsh departments`.
pub const DEPARTMENTS: &str = "Examples:\n  mcsh departments Engineering Engineering/Platform Sales\n  mcsh departments --file departments.txt --parent Engineering";
/// `mcsh apply`.
pub const APPLY: &str = "Examples:\n  mcsh apply plan.json\n  mcsh apply plan.json --yes";
/// `mcsh sync`.
pub const SYNC: &str = "Examples:\n  mcsh sync --csv hr.csv --dry-run\n  mcsh sync --csv hr.csv --manage Engineering --manage Sales --yes\n  mcsh sync --csv hr.csv --offboard-missing company.com --max-removals 50";
/// `mcsh snapshot`.
pub const SNAPSHOT: &str =
    "Examples:\n  mcsh snapshot --out before.json\n  mcsh --rehearse before.json users list";
/// `mcsh diff`.
pub const DIFF: &str = "Examples:\n  mcsh diff before.json after.json\n  mcsh diff before.json --live -o json\n  mcsh --rehearse before.json diff before.json --live";
/// `mcsh undo`.
pub const UNDO: &str = "Examples:\n  mcsh undo --last\n  mcsh undo 20261129-073947-718d --dry-run";
/// `mcsh audit`.
pub const AUDIT: &str = "Examples:\n  mcsh audit --since 2h\n  mcsh audit --last 20 -o json";
/// `mcsh run`.
pub const EXAMPLES: &str = "Examples:\n  mcsh examples\n  mcsh examples group_sizes > group_sizes.rhai\n  mcsh --sandbox run group_sizes";
pub const RUN: &str = "Examples:\n  mcsh run scripts/group_sizes.rhai\n  mcsh --sandbox run scripts/domain_to_csv.rhai example.com out.csv\n  mcsh run - < report.rhai";
/// `mcsh repl`.
pub const REPL: &str =
    "Examples:\n  mcsh repl\n  mcsh --sandbox repl\n  mcsh --rehearse before.json repl";
/// `mcsh doc`.
pub const DOC: &str = "Examples:\n  mcsh doc\n  mcsh doc members\n  mcsh doc onboard::people\n  mcsh doc --markdown > docs/scripting-reference.md";
/// `mcsh man`.
pub const MAN: &str = "Examples:\n  mcsh man | man -l -\n  mcsh man groups add-member | man -l -\n  mcsh man --dir ~/.local/share/man/man1";
/// `mcsh completions`.
pub const COMPLETIONS: &str = "Examples:\n  mcsh completions bash > ~/.local/share/bash-completion/completions/mcsh\n  mcsh completions zsh > ~/.zfunc/_mcsh";

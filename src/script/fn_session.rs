//! Session functions: `env`, `confirm`, `dry_run`, `profile`, `account` (and the `args`
//! variable, set by the runner).

use std::rc::Rc;

use rhai::{Dynamic, Engine};

use super::errors;
use super::host::Host;
use super::register::{local, network};

type Res<T> = Result<T, Box<rhai::EvalAltResult>>;

/// Whether the environment variable `name` holds (part of) the credentials.
fn is_credential(name: &str) -> bool {
    let upper = name.trim().to_ascii_uppercase();
    upper.starts_with("MIMECAST_")
        || upper.contains("SECRET")
        || upper.contains("TOKEN")
        || upper.contains("PASSWORD")
}

/// Registers the session functions.
pub fn register(engine: &mut Engine, host: &Rc<Host>) {
    local(
        "exit",
        &["code: i64", "()"],
        r#"
Ends the script at once with the exit code `code` (0 to 255): what CI and shell scripts see.
Writes queued so far are sent first.
```rhai
if users().len() == 0 { print("no users?"); exit(3); }
```"#,
        false,
    )
    .register_into_engine(
        engine,
        |code: i64| -> Result<(), Box<rhai::EvalAltResult>> { Err(super::runner::exit_with(code)) },
    );
    local(
        "exit",
        &["()"],
        r#"
Ends the script at once, successfully (exit code 0).
```rhai
if args.len() == 0 { exit(); }
```"#,
        false,
    )
    .register_into_engine(engine, || -> Result<(), Box<rhai::EvalAltResult>> {
        Err(super::runner::exit_with(0))
    });
    local(
        "env",
        &["name: &str", "Dynamic"],
        r#"
The environment variable `name` as a string, or `()` when it is not set. The credential
variables (`MIMECAST_CLIENT_SECRET`, `MIMECAST_SECRET_KEY`, `MIMECAST_APP_KEY` and the other
`MIMECAST_*` keys and ids) are refused: scripts use the connection, never the secrets.
```rhai
let who = env("USER") ?? "someone";
```"#,
        true,
    )
    .register_into_engine(engine, |name: &str| -> Res<Dynamic> {
        if is_credential(name) {
            return Err(errors::usage(
                "env",
                format!("{name} holds credentials, which scripts may not read; the connection already uses them"),
            ));
        }
        Ok(std::env::var(name)
            .map(Dynamic::from)
            .unwrap_or(Dynamic::UNIT))
    });

    let h = host.clone();
    local("confirm", &["question: &str", "bool"], r#"
Asks a yes/no question on the terminal. With `--yes` (or `--dry-run`) it answers yes; without a terminal and without `--yes` it raises an error instead of guessing.
```rhai
if confirm("remove 12 users from Sales?") { /* ... */ }
```"#, true)
    .register_into_engine(engine, move |question: &str| h.confirm(question));

    let h = host.clone();
    network(
        "profile",
        &["String"],
        r#"
The tenant this run works on: the profile's name (`default` without one), `sandbox`, or the
sandbox tenant's name. Over a fleet (`--profiles`, `--fleet`) the script runs once per
tenant and this tells which; rows it returns land in one report with a `profile` column.
```rhai
if profile() == "acme" { print("the pilot tenant") }
```"#,
    )
    .register_into_engine(engine, move || -> Res<String> {
        Ok(h.tenant("profile")?.profile)
    });

    let h = host.clone();
    network(
        "account",
        &["Map"],
        r#"
The account this run works on, as Mimecast names it: `#{profile, name, code}` (`name` and
`code` are `()` when the service does not tell them, e.g. to a key without that permission).
A service that cannot be reached or refuses the credentials is an error, so over a fleet
`account()` is a health check: a tenant that fails it is reported failed.
```rhai
let a = account();
print(`${a.profile}: ${a.name} (${a.code})`);
```"#,
    )
    .register_into_engine(engine, move || -> Res<rhai::Map> {
        let t = h.tenant("account")?;
        let text = |v: Option<String>| v.map_or(Dynamic::UNIT, Dynamic::from);
        let mut m = rhai::Map::new();
        m.insert("profile".into(), Dynamic::from(t.profile));
        m.insert("name".into(), text(t.account_name));
        m.insert("code".into(), text(t.account_code));
        Ok(m)
    });

    let h = host.clone();
    local(
        "mcsh_command",
        &["words: &str", "String"],
        r#"
A command line to paste that runs `words` on this run's tenant: `mcsh`, the flags that chose
the tenant (`--sandbox`, `--profile P`, `--rehearse S`, quoted for a shell), then `words`. For
a hint a script prints or puts in a row; quote values in `words` with `shell_flag`.
```rhai
print(`restore it with ${mcsh_command("users restore " + shell_flag("--email", email))}`);
// restore it with mcsh --profile acme users restore --email bob@company.com
```"#,
        false,
    )
    .register_into_engine(engine, move |words: &str| h.command_line(words));

    let h = host.clone();
    local("dry_run", &["bool"], r#"
Whether this run only plans writes (`--dry-run`): reads are real, writes are recorded and shown, nothing changes.
```rhai
if dry_run() { print("nothing will change") }
```"#, false)
    .register_into_engine(engine, move || h.dry_run);
}

//! Shared fixtures: a sandbox per test, the binary with an isolated environment.

pub mod scripted;

use std::path::PathBuf;

use assert_cmd::Command;
use mcsh::sandbox::{Options, Sandbox};
use serde_json::Value;
use tempfile::TempDir;

/// Which authentication scheme a command uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    OAuth,
    Hmac,
}

pub const SCHEMES: [Scheme; 2] = [Scheme::OAuth, Scheme::Hmac];
pub const FORMATS: [&str; 4] = ["table", "json", "jsonl", "csv"];

/// A sandbox and a private home for the binary.
pub struct Env {
    pub sandbox: Sandbox,
    pub dir: TempDir,
}

impl Env {
    /// Creates a group straight through the API, as another tool could: for names mcsh
    /// itself refuses to write (control characters) but must show safely when it finds them.
    pub fn create_group_raw(&self, name: &str) {
        self.api_write(
            mcsh::api::paths::CREATE_GROUP,
            serde_json::json!({ "description": name }),
        );
    }

    /// Sends one write straight through the API, outside mcsh's executor and audit log: a
    /// change made by another tool or by hand.
    pub fn api_write(&self, path: &str, item: Value) {
        let client = mcsh::api::Client::new(
            &self.sandbox.base_url,
            mcsh::api::Credentials::OAuth {
                client_id: self.sandbox.keys.client_id.clone(),
                client_secret: mcsh::api::Secret::new(self.sandbox.keys.client_secret.clone()),
            },
            mcsh::api::ClientOptions::default(),
            None,
        )
        .expect("a client");
        tokio::runtime::Runtime::new()
            .expect("a runtime")
            .block_on(client.call(path, mcsh::api::Kind::Write, vec![item]))
            .expect("the write is accepted");
    }

    /// A sandbox with the demo tenant.
    pub fn new() -> Env {
        Env::with(Options::default())
    }

    /// A sandbox with `options` (state in memory unless they say otherwise).
    pub fn with(options: Options) -> Env {
        let sandbox = Sandbox::spawn(options).expect("sandbox starts");
        Env {
            sandbox,
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// The binary with no credentials and a private home, config and data dir.
    pub fn bare(&self) -> Command {
        isolated(self.dir.path().to_path_buf())
    }

    /// The binary with the sandbox's credentials of `scheme` in the environment.
    pub fn mcsh(&self, scheme: Scheme) -> Command {
        let mut cmd = self.bare();
        let k = &self.sandbox.keys;
        cmd.env("MIMECAST_BASE_URL", &self.sandbox.base_url);
        match scheme {
            Scheme::OAuth => {
                cmd.env("MIMECAST_CLIENT_ID", &k.client_id)
                    .env("MIMECAST_CLIENT_SECRET", &k.client_secret);
            }
            Scheme::Hmac => {
                cmd.env("MIMECAST_ACCESS_KEY", &k.access_key)
                    .env("MIMECAST_SECRET_KEY", &k.secret_key)
                    .env("MIMECAST_APP_ID", &k.app_id)
                    .env("MIMECAST_APP_KEY", &k.app_key);
            }
        }
        cmd
    }

    /// Runs `args` with API 2.0 and `-o json`, asserts success and returns the parsed output.
    pub fn json(&self, args: &[&str]) -> Value {
        let out = self
            .mcsh(Scheme::OAuth)
            .args(args)
            .args(["-o", "json"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "mcsh {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("JSON output")
    }

    /// Every user address in the tenant, sorted.
    pub fn user_emails(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .json(&["users", "list"])
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["emailAddress"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    }

    /// Every group's name (`description`), in listing order.
    pub fn group_names(&self) -> Vec<String> {
        self.json(&["groups", "list"])
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["description"].as_str().unwrap().to_string())
            .collect()
    }

    /// The member addresses of group `group` (id or name), sorted.
    pub fn members(&self, group: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .json(&["groups", "members", "--group", group])
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["emailAddress"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    }

    /// The id of the group named `name`.
    pub fn group_id(&self, name: &str) -> String {
        let groups = self.json(&["groups", "list"]);
        let found: Vec<&Value> = groups
            .as_array()
            .unwrap()
            .iter()
            .filter(|g| g["description"] == name)
            .collect();
        assert_eq!(found.len(), 1, "exactly one group named {name}");
        found[0]["id"].as_str().unwrap().to_string()
    }
}

/// The binary with every mcsh and Mimecast variable removed and a private home under `dir`.
pub fn isolated(dir: PathBuf) -> Command {
    let mut cmd = Command::cargo_bin("mcsh").expect("the mcsh binary");
    for (key, _) in std::env::vars() {
        if key.starts_with("MIMECAST_") || key.starts_with("MCSH_") || key == "NO_COLOR" {
            cmd.env_remove(&key);
        }
    }
    cmd.env("HOME", &dir)
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("XDG_STATE_HOME", dir.join("state"))
        .env(
            "MCSH_CONFIG",
            dir.join("config").join("mcsh").join("config.toml"),
        )
        .env("NO_COLOR", "1")
        .env("COLUMNS", "200")
        .timeout(std::time::Duration::from_secs(60));
    cmd
}

/// Asserts that `stdout` is well-formed `format` output holding `needle`.
pub fn assert_format(format: &str, stdout: &str, needle: &str) {
    assert!(
        stdout.contains(needle),
        "{format} output lacks {needle:?}:\n{stdout}"
    );
    match format {
        "json" => {
            serde_json::from_str::<Value>(stdout)
                .unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}"));
        }
        "jsonl" => {
            assert!(!stdout.trim().is_empty());
            for line in stdout.lines() {
                let v: Value = serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
                assert!(v.is_object(), "jsonl lines are objects: {line}");
            }
        }
        "csv" => {
            let mut reader = csv::Reader::from_reader(stdout.as_bytes());
            let width = reader.headers().expect("a header row").len();
            for record in reader.records() {
                assert_eq!(
                    record.expect("a CSV record").len(),
                    width,
                    "every row has every column"
                );
            }
        }
        "table" => {
            assert!(
                serde_json::from_str::<Value>(stdout).is_err(),
                "a table is not JSON:\n{stdout}"
            );
            assert!(stdout.contains('─'), "a table has a header rule:\n{stdout}");
        }
        other => panic!("unknown format {other}"),
    }
}

/// A count straight from a sandbox's SQLite file: the truth, independent of mcsh.
pub fn db_count(db: &std::path::Path, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(db).expect("the sandbox's state file");
    conn.query_row(sql, [], |r| r.get(0)).expect("a count")
}

/// The addresses a query over a sandbox's SQLite file returns.
pub fn db_emails(db: &std::path::Path, sql: &str) -> std::collections::BTreeSet<String> {
    let conn = rusqlite::Connection::open(db).expect("the sandbox's state file");
    let mut stmt = conn.prepare(sql).expect("a query");
    let rows = stmt.query_map([], |r| r.get::<_, String>(0)).expect("rows");
    rows.map(|r| r.expect("an address")).collect()
}

/// `mcsh ARGS` on a terminal (util-linux `script` gives it one), fed `lines` one at a time
/// as a person types them; what the terminal showed, escape sequences and CRs removed.
pub fn on_a_terminal(env: &Env, args: &[&str], lines: &[&str]) -> String {
    on_a_terminal_with(&env.mcsh(Scheme::OAuth), args, lines)
}

/// `program` as a `std::process::Command` with the environment `prepared` sets: for tests that
/// pipe, signal or wait on the process themselves.
pub fn process_with_env_of(
    prepared: &Command,
    program: impl AsRef<std::ffi::OsStr>,
) -> std::process::Command {
    let mut cmd = std::process::Command::new(program);
    for (k, v) in prepared.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd
}

/// The mcsh binary as a `std::process::Command` with the environment `prepared` sets.
pub fn mcsh_process(prepared: &Command) -> std::process::Command {
    process_with_env_of(prepared, assert_cmd::cargo::cargo_bin("mcsh"))
}

/// [`on_a_terminal`] with the environment of `prepared` (its arguments are not used).
pub fn on_a_terminal_with(prepared: &Command, args: &[&str], lines: &[&str]) -> String {
    use std::io::Write;
    let mcsh = assert_cmd::cargo::cargo_bin("mcsh");
    let mut command = format!("{}", mcsh.display());
    for a in args {
        command.push(' ');
        command.push_str(a);
    }
    let mut cmd = process_with_env_of(prepared, "script");
    cmd.args(["-qec", &command, "/dev/null"]);
    // Nothing waits for a key: a pager shows everything at once.
    cmd.env("MANPAGER", "cat").env("PAGER", "cat");
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("util-linux `script` runs the REPL on a terminal");
    let mut stdin = child.stdin.take().unwrap();
    for line in lines {
        std::thread::sleep(std::time::Duration::from_millis(400));
        stdin.write_all(line.as_bytes()).unwrap();
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
    }
    std::thread::sleep(std::time::Duration::from_millis(400));
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let raw = String::from_utf8_lossy(&out.stdout).to_string();
    let mut text = String::new();
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ params final
            if chars.peek() == Some(&'[') {
                chars.next();
                for p in chars.by_ref() {
                    if p.is_ascii_alphabetic() || p == '~' {
                        break;
                    }
                }
            }
        } else if c != '\r' {
            text.push(c);
        }
    }
    text
}

/// `mcsh ARGS` with the sandbox's API 2.0 credentials: (exit code, stdout, stderr).
pub fn run(env: &Env, args: &[&str]) -> (i32, String, String) {
    let out = env.mcsh(Scheme::OAuth).args(args).output().unwrap();
    (
        out.status.code().expect("ended by a signal"),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// The run id a writing command announced on stderr.
pub fn run_id(stderr: &str) -> String {
    stderr
        .lines()
        .find_map(|l| l.strip_prefix("run ").and_then(|r| r.split(':').next()))
        .unwrap_or_else(|| panic!("no run id announced: {stderr}"))
        .to_string()
}

//! What a new admin hits on day one: every `mcsh --sandbox` line of README and docs/ runs as
//! written;
//! aliases resolve, lock state is told honestly, empty and long tables say so, the audit log
//! reads in words, a served sandbox stops cleanly and cannot be reset under its feet.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command as StdCommand, Stdio};

use mcsh::sandbox::Options;
use serde_json::Value;

use crate::support::{isolated, Env, Scheme};

/// The words of a README command line, as a shell would split them (quotes, no expansion),
/// without a trailing `# comment`, and the file a `> FILE` sends stdout to.
fn shell_words(line: &str) -> (Vec<String>, Option<String>) {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut started = false;
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                started = true;
            }
            (None, '#') if !started => break,
            (None, c) if c.is_whitespace() => {
                if started {
                    words.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            (None, c) => {
                word.push(c);
                started = true;
            }
        }
    }
    if started {
        words.push(word);
    }
    let redirect = words.iter().position(|w| w == ">");
    let out = redirect.map(|i| words[i + 1].clone());
    if let Some(i) = redirect {
        words.truncate(i);
    }
    (words, out)
}

/// Every `mcsh --sandbox ...` line inside the code blocks of README and then of each
/// `docs/*.md` (by file name), in order: the order they run in on one sandbox.
fn readme_lines() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut docs: Vec<_> = std::fs::read_dir(root.join("docs"))
        .expect("docs/")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    docs.sort();
    let mut lines = Vec::new();
    for file in std::iter::once(root.join("README.md")).chain(docs) {
        let text = std::fs::read_to_string(&file).expect("a doc file");
        let mut in_code = false;
        for line in text.lines() {
            if line.trim_start().starts_with("```") {
                in_code = !in_code;
                continue;
            }
            if in_code && line.trim_start().starts_with("mcsh --sandbox") {
                lines.push(line.trim().to_string());
            }
        }
    }
    lines
}

#[test]
fn every_sandbox_line_of_readme_and_docs_runs_as_written() {
    let lines = readme_lines();
    assert!(
        lines.len() >= 30,
        "the docs' examples were found: {lines:?}"
    );
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    // The files README's lines name, as README describes them.
    std::fs::write(
        work.path().join("new-starters.csv"),
        "email,name,groups\nsam.new@company.com,Sam New,Sales;All Staff\n",
    )
    .unwrap();
    std::fs::write(
        work.path().join("leavers.csv"),
        "email\nbob.hughes@company.com\n",
    )
    .unwrap();
    std::fs::write(
        work.path().join("departments.txt"),
        "Data\nData/Machine Learning\n",
    )
    .unwrap();
    // No scripts/ folder here: the example scripts the lines name are the ones built in.
    for line in &lines {
        let (words, out) = shell_words(line);
        let out_file = out.map(|f| work.path().join(f));
        let output = isolated(home.path().to_path_buf())
            .current_dir(work.path())
            .args(&words[1..])
            .write_stdin("")
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "README line `{line}` failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        if let Some(path) = out_file {
            std::fs::write(&path, &output.stdout).unwrap();
            assert!(std::fs::metadata(&path).unwrap().len() > 0, "{line}");
        }
    }
    // The departments line made its groups under Engineering.
    let groups = isolated(home.path().to_path_buf())
        .args(["--sandbox", "groups", "list", "-o", "json"])
        .output()
        .unwrap();
    let groups: Value = serde_json::from_slice(&groups.stdout).unwrap();
    assert!(
        groups
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["path"] == "Engineering/Data/Machine Learning"),
        "{groups}"
    );
}

#[test]
fn shell_words_split_like_a_shell() {
    let (w, out) = shell_words(r#"mcsh --sandbox users create --name "New Employee" # note"#);
    assert_eq!(
        w,
        [
            "mcsh",
            "--sandbox",
            "users",
            "create",
            "--name",
            "New Employee"
        ]
    );
    assert_eq!(out, None);
    let (w, out) = shell_words("mcsh --sandbox users list -o csv > users.csv");
    assert_eq!(w.len(), 6);
    assert_eq!(out.as_deref(), Some("users.csv"));
    let (w, _) = shell_words(r#"mcsh -e 'users().filter(|u| u.name == "")'"#);
    assert_eq!(w[2], r#"users().filter(|u| u.name == "")"#);
}

#[test]
fn users_get_resolves_an_alias_and_says_what_it_cannot_read() {
    let env = Env::new();
    let out = env
        .mcsh(Scheme::OAuth)
        .args(["users", "get", "--email", "alice@company.com", "-o", "json"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let user: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(user["emailAddress"], "alice.anderson@company.com");
    assert!(
        err.contains("alice@company.com is an alias address of alice.anderson@company.com"),
        "{err}"
    );
    assert_eq!(user["state"], "active");
    assert!(
        user["locked"]
            .as_str()
            .unwrap()
            .starts_with("unknown (the API does not return it"),
        "{user}"
    );

    let out = env
        .mcsh(Scheme::OAuth)
        .args([
            "users",
            "update",
            "--email",
            "alice.anderson@company.com",
            "--lock",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let user = env.json(&["users", "get", "--email", "alice.anderson@company.com"]);
    assert!(
        user["locked"]
            .as_str()
            .unwrap()
            .starts_with("locked by mcsh at "),
        "the lock mcsh sent is told, from the audit log: {user}"
    );

    let rows = env
        .mcsh(Scheme::OAuth)
        .args([
            "offboard",
            "--email",
            "alice@company.com",
            "--yes",
            "-o",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(rows.status.code(), Some(1));
    let rows: Value = serde_json::from_slice(&rows.stdout).unwrap();
    assert!(
        rows[0]["message"].as_str().unwrap().contains(
            "an alias address of alice.anderson@company.com: offboard alice.anderson@company.com"
        ),
        "{rows}"
    );

    let offboarded = env
        .mcsh(Scheme::OAuth)
        .args(["offboard", "--email", "bob.hughes@company.com", "--yes"])
        .output()
        .unwrap();
    assert_eq!(offboarded.status.code(), Some(0));
    let user = env.json(&["users", "get", "--email", "bob.hughes@company.com"]);
    assert_eq!(user["state"], "queued for deletion", "{user}");
}

#[test]
fn empty_results_say_so_and_long_tables_end_with_a_count() {
    let empty = Env::with(Options {
        empty: true,
        ..Options::default()
    });
    let out = empty
        .mcsh(Scheme::OAuth)
        .args(["users", "list", "-o", "table"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no users"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let demo = Env::new();
    let out = demo
        .mcsh(Scheme::OAuth)
        .args(["users", "list", "-o", "table"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("62 users"));
    let out = demo
        .mcsh(Scheme::OAuth)
        .args(["users", "list", "-o", "json"])
        .output()
        .unwrap();
    assert!(
        out.stderr.is_empty(),
        "no count where the output is data: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_audit_log_reads_in_words() {
    let env = Env::new();
    let out = env
        .mcsh(Scheme::OAuth)
        .args([
            "groups",
            "add-member",
            "--group",
            "Engineering/Platform",
            "--email",
            "x1@company.com",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let table = env
        .mcsh(Scheme::OAuth)
        .args(["audit", "-o", "table"])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(
        table.contains("add x1@company.com to Engineering/Platform"),
        "{table}"
    );
    assert!(!table.contains("eNo"), "no ids in the table: {table}");
    assert!(!table.contains('{'), "no JSON in the table: {table}");
    let lines = env.json(&["audit"]);
    let line = &lines.as_array().unwrap()[0];
    assert_eq!(line["group"], "Engineering/Platform");
    assert!(
        line["item"]["id"].as_str().unwrap().starts_with("eNo"),
        "ids stay in JSON"
    );
    assert!(line["run"].as_str().is_some_and(|r| !r.is_empty()));

    // A dry run's lines say what it foresaw: the same add again is "unchanged (dry run)",
    // a new one "planned (dry run)".
    for email in ["x1@company.com", "x2@company.com"] {
        let out = env
            .mcsh(Scheme::OAuth)
            .args([
                "--dry-run",
                "groups",
                "add-member",
                "--group",
                "Engineering/Platform",
            ])
            .args(["--email", email])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let table = env
        .mcsh(Scheme::OAuth)
        .args(["audit", "-o", "table"])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&table.stdout);
    let row = |email: &str| {
        table
            .lines()
            .filter(|l| l.contains(email) && l.contains("(dry run)"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(
        row("x1@company.com").contains("unchanged (dry run)"),
        "{table}"
    );
    assert!(
        row("x2@company.com").contains("planned (dry run)"),
        "{table}"
    );
}

#[test]
fn csv_errors_name_the_file_not_an_internal_function() {
    let env = Env::new();
    let csv = env.dir.path().join("bad.csv");
    std::fs::write(&csv, "mail,name\nx@company.com,X\n").unwrap();
    let out = env
        .mcsh(Scheme::OAuth)
        .args(["onboard", "--csv", csv.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.starts_with(&format!(
            "error: {}: missing column(s) email",
            csv.display()
        )),
        "{err}"
    );
    assert!(!err.contains("read_people"), "{err}");
}

#[cfg(unix)]
#[test]
fn a_served_sandbox_stops_cleanly_on_ctrl_c_and_cannot_be_reset_meanwhile() {
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join("served.db");
    let bin = assert_cmd::cargo::cargo_bin("mcsh");
    let mut child = StdCommand::new(bin)
        .args([
            "sandbox",
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--output",
            "json",
            "--state",
        ])
        .arg(&state)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.contains("base_url"), "{line}");

    let reset = isolated(home.path().to_path_buf())
        .args(["sandbox", "reset", "--state"])
        .arg(&state)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&reset.stderr);
    assert_eq!(reset.status.code(), Some(1), "{err}");
    assert!(err.contains("a sandbox is running on"), "{err}");
    assert!(
        state.exists(),
        "nothing was removed under the running server"
    );

    // SAFETY: kill(2) with a child's pid and SIGINT has no memory effects.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "a clean stop: {err}");
    assert!(!err.contains("error"), "{err}");
    assert!(err.contains("sandbox stopped"), "{err}");

    let reset = isolated(home.path().to_path_buf())
        .args(["sandbox", "reset", "--state"])
        .arg(&state)
        .output()
        .unwrap();
    assert_eq!(
        reset.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&reset.stderr)
    );
    assert!(!state.exists());
}

#[test]
fn reset_refuses_when_it_cannot_tell_whether_a_sandbox_runs() {
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join("s.db");
    let out = isolated(home.path().to_path_buf())
        .env("MCSH_SANDBOX_STATE", &state)
        .args(["--sandbox", "groups", "list", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    // A lock that cannot be opened (here a directory in its place) proves nothing.
    let lock = home.path().join("s.db.lock");
    std::fs::remove_file(&lock).unwrap();
    std::fs::create_dir(&lock).unwrap();
    let reset = isolated(home.path().to_path_buf())
        .args(["sandbox", "reset", "--state"])
        .arg(&state)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&reset.stderr);
    assert_eq!(reset.status.code(), Some(1), "{err}");
    assert!(err.contains("cannot lock the sandbox state"), "{err}");
    assert!(state.exists(), "nothing was removed");
}

#[test]
fn an_alias_address_added_to_a_group_draws_no_typo_warning() {
    let env = Env::new();
    let rows = env.json(&[
        "groups",
        "add-member",
        "--group",
        "Marketing",
        "--email",
        "alice@company.com",
        "--email",
        "ghost@company.com",
    ]);
    let message = |i: usize| rows[i]["message"].as_str().unwrap().to_string();
    assert!(
        !message(0).contains("warning"),
        "an alias is no typo: {rows}"
    );
    assert!(message(1).contains("is no user (a typo?"), "{rows}");
}

#[test]
fn every_command_help_ends_with_examples_and_global_options_come_after_its_own() {
    fn leaves(cmd: &clap::Command, path: String, out: &mut Vec<(String, bool)>) {
        let subs: Vec<&clap::Command> =
            cmd.get_subcommands().filter(|c| !c.is_hide_set()).collect();
        if subs.is_empty() {
            out.push((
                path.clone(),
                cmd.get_after_help()
                    .is_some_and(|h| h.to_string().starts_with("Examples:")),
            ));
        }
        for s in subs {
            leaves(s, format!("{path} {}", s.get_name()), out);
        }
    }
    let mut found = Vec::new();
    let root = <mcsh::cli::Cli as clap::CommandFactory>::command();
    for s in root.get_subcommands().filter(|c| c.get_name() != "help") {
        leaves(s, s.get_name().to_string(), &mut found);
    }
    let missing: Vec<&String> = found.iter().filter(|(_, ok)| !ok).map(|(p, _)| p).collect();
    assert!(found.len() >= 30, "{found:?}");
    assert!(missing.is_empty(), "commands without examples: {missing:?}");

    let out = isolated(tempfile::tempdir().unwrap().path().to_path_buf())
        .args(["onboard", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    let at = |s: &str| {
        help.find(s)
            .unwrap_or_else(|| panic!("{s} missing:\n{help}"))
    };
    // Its own options, then one line naming the global ones (`mcsh --help` lists them),
    // then the examples: the sixteen global options are not repeated in every command.
    assert!(at("--name") < at("Global options (--sandbox"), "{help}");
    assert!(at("Global options (--sandbox") < at("Examples:"), "{help}");
    assert!(!help.contains("--batch-size <N>"), "{help}");
    let out = isolated(tempfile::tempdir().unwrap().path().to_path_buf())
        .args(["--help"])
        .output()
        .unwrap();
    let top = String::from_utf8_lossy(&out.stdout);
    assert!(
        top.contains("--batch-size <N>") && top.contains("--profile <NAME>"),
        "{top}"
    );
    // Usage lines name what is required.
    for (args, usage) in [
        (
            vec!["groups", "add-member", "--help"],
            "--group <GROUP> <--email <EMAIL>...|--emails-from <FILE>>",
        ),
        (vec!["undo", "--help"], "mcsh undo <RUN_ID|--last>"),
    ] {
        let out = isolated(tempfile::tempdir().unwrap().path().to_path_buf())
            .args(&args)
            .output()
            .unwrap();
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(help.contains(usage), "{args:?}: {help}");
    }
    assert!(
        help.contains("mcsh onboard --csv new-starters.csv --dry-run"),
        "{help}"
    );
}

#[test]
fn every_test_file_is_reached_from_lib_rs() {
    // `autotests = false` (one test binary, one build) means a new tests/x.rs runs only when
    // tests/lib.rs names it: a forgotten one would pass silently by never running.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let lib = std::fs::read_to_string(dir.join("lib.rs")).unwrap();
    let mut unreached = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let Some(stem) = path
            .file_stem()
            .and_then(|s| s.to_str())
            .filter(|_| path.extension().is_some_and(|e| e == "rs"))
        else {
            continue;
        };
        if stem != "lib" && !lib.contains(&format!("mod {stem};")) {
            unreached.push(stem.to_string());
        }
    }
    assert!(
        unreached.is_empty(),
        "tests/lib.rs does not name: {unreached:?}"
    );
}

#[test]
fn the_example_scripts_are_built_in_and_run_from_any_folder() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let mcsh = || {
        let mut c = isolated(home.path().to_path_buf());
        c.current_dir(work.path());
        c
    };
    let out = mcsh().args(["examples", "-o", "json"]).output().unwrap();
    assert!(out.status.success());
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let scripts = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts");
    let on_disk = std::fs::read_dir(&scripts).unwrap().count();
    assert_eq!(listed.as_array().unwrap().len(), on_disk, "{listed}");
    let printed = mcsh().args(["examples", "group_sizes"]).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&printed.stdout),
        std::fs::read_to_string(scripts.join("group_sizes.rhai")).unwrap()
    );
    for name in ["group_sizes", "scripts/group_sizes.rhai"] {
        let out = mcsh().args(["--sandbox", "run", name]).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{name}: {err}");
        assert!(
            err.contains("running the bundled example group_sizes"),
            "{err}"
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("All Staff"));
    }
    // A file of that name, where there is one, is what runs.
    std::fs::create_dir_all(work.path().join("scripts")).unwrap();
    std::fs::write(
        work.path().join("scripts/group_sizes.rhai"),
        "print(\"mine\");",
    )
    .unwrap();
    let out = mcsh()
        .args(["--sandbox", "run", "scripts/group_sizes.rhai"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "mine\n");
}

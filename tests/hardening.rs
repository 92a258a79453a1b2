//! What a hostile review of the release binary found (issue 11), each case as a test that
//! failed before the fix: files, plans, the audit log, CSV and terminal injection, config
//! commands, scripts' reach, endless inputs, shared state, and the small panics.

use std::time::{Duration, Instant};

use mcsh::api::paths;
use serde_json::Value;

use crate::support::{Env, Scheme};

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

#[cfg(unix)]
#[test]
fn out_onto_a_fifo_writes_into_it_and_an_existing_file_keeps_its_mode() {
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    let env = Env::new();
    let fifo = env.dir.path().join("pipe");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let out = env
        .mcsh(Scheme::OAuth)
        .args([
            "export",
            "--domain",
            "example.com",
            "--format",
            "csv",
            "--out",
        ])
        .arg(&fifo)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = reader.join().unwrap();
    assert_eq!(text.lines().count(), 15, "the export came through the FIFO");
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());

    let kept = env.dir.path().join("private.csv");
    std::fs::write(&kept, "old").unwrap();
    std::fs::set_permissions(&kept, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = env
        .mcsh(Scheme::OAuth)
        .args(["export", "--format", "csv", "--out"])
        .arg(&kept)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let mode = std::fs::metadata(&kept).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the file's mode was kept");

    let out = env
        .mcsh(Scheme::OAuth)
        .current_dir(env.dir.path())
        .args([
            "export",
            "--domain",
            "example.com",
            "--format",
            "csv",
            "--out",
            "-",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 15);
    assert!(!env.dir.path().join("-").exists(), "`-` is standard output");
}

#[test]
fn apply_refuses_an_edited_plan_or_another_tenant_and_shows_the_writes_first() {
    let env = Env::new();
    let plan = env.dir.path().join("plan.json");
    let make = || {
        let out = env
            .mcsh(Scheme::OAuth)
            .args(["--plan-out"])
            .arg(&plan)
            .args(["groups", "add-member", "--group", "Sales"])
            .args(["--email", "alice.anderson@company.com"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    };
    make();
    let original = std::fs::read_to_string(&plan).unwrap();
    // A write added by hand.
    let mut doc: Value = serde_json::from_str(&original).unwrap();
    let extra = serde_json::json!({"endpoint": paths::ADD_GROUP_MEMBER,
        "item": {"id": doc["writes"][0]["item"]["id"], "emailAddress": "intruder@company.com"}});
    doc["writes"].as_array_mut().unwrap().push(extra);
    std::fs::write(&plan, doc.to_string()).unwrap();
    let out = env
        .mcsh(Scheme::OAuth)
        .args(["--yes", "apply"])
        .arg(&plan)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("changed after mcsh made it"),
        "{}",
        stderr(&out)
    );
    assert!(!env
        .members("Sales")
        .contains(&"intruder@company.com".to_string()));

    // The same credentials under another profile name: another tenant identity.
    std::fs::write(&plan, &original).unwrap();
    let config = env
        .dir
        .path()
        .join("config")
        .join("mcsh")
        .join("config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(&config, "[other]\ntimeout = 30\n").unwrap();
    let out = env
        .mcsh(Scheme::OAuth)
        .args(["--profile", "other", "--yes", "apply"])
        .arg(&plan)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("another tenant"), "{}", stderr(&out));

    // As made: the writes are listed before they are carried out.
    let out = env
        .mcsh(Scheme::OAuth)
        .args(["--yes", "apply"])
        .arg(&plan)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("holds 1 write(s)") && err.contains("alice.anderson@company.com"),
        "{err}"
    );
}

#[test]
fn no_write_is_sent_when_the_audit_log_cannot_be_written_even_with_q() {
    let env = Env::new();
    let out = env
        .mcsh(Scheme::OAuth)
        .env("MCSH_AUDIT_LOG", "/dev/null/audit.jsonl")
        .args(["-q", "groups", "add-member", "--group", "Sales"])
        .args(["--email", "alice.anderson@company.com"])
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("cannot write the audit log"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        env.sandbox.stats.hits(paths::ADD_GROUP_MEMBER),
        0,
        "nothing sent"
    );
    // Deliberately without a log: allowed.
    let out = env
        .mcsh(Scheme::OAuth)
        .env("MCSH_AUDIT_LOG", "off")
        .args(["groups", "add-member", "--group", "Sales"])
        .args(["--email", "alice.anderson@company.com"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn csv_formulas_are_neutralised_and_terminal_escapes_shown_escaped() {
    let env = Env::new();
    let evil_group = "Grp\u{1b}[1;31mRED\rOVERWRITE\u{202e}";
    env.create_group_raw(evil_group);
    env.json(&[
        "users",
        "create",
        "--email",
        "f@company.com",
        "--name",
        "=HYPERLINK(\"x\")",
    ]);
    let out = env
        .mcsh(Scheme::OAuth)
        .args(["groups", "list", "-o", "table"])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(!table.contains('\u{1b}') && !table.contains('\r') && !table.contains('\u{202e}'));
    assert!(table.contains("\\u{1b}"), "{table}");
    let groups = env.json(&["groups", "list"]);
    assert!(
        groups
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["description"] == evil_group),
        "JSON keeps the name exactly"
    );
    let csv = |raw: bool| {
        let mut cmd = env.mcsh(Scheme::OAuth);
        if raw {
            cmd.arg("--csv-raw");
        }
        let out = cmd
            .args(["users", "list", "--domain", "company.com", "-o", "csv"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    assert!(
        csv(false).contains("f@company.com,\"'=HYPERLINK(\"\"x\"\")\""),
        "{}",
        csv(false)
    );
    assert!(csv(true).contains("f@company.com,\"=HYPERLINK(\"\"x\"\")\""));
    let err = env
        .mcsh(Scheme::OAuth)
        .args(["groups", "members", "--group", "Nope\u{1b}[2J"])
        .output()
        .unwrap();
    assert!(
        !stderr(&err).contains('\u{1b}'),
        "error hints are escaped too"
    );
}

#[cfg(unix)]
#[test]
fn a_config_file_others_can_change_runs_no_secret_command() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    let config = env.dir.path().join("shared.toml");
    let marker = env.dir.path().join("ran");
    std::fs::write(
        &config,
        format!(
            "[default]\nclient_id = \"x\"\nsecret_command = \"touch {}; echo s\"\n",
            marker.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o666)).unwrap();
    let out = env
        .bare()
        .env("MCSH_CONFIG", &config)
        .args(["config", "show"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert!(stderr(&out).contains("chmod 600"), "{}", stderr(&out));
    assert!(!marker.exists(), "the command did not run");

    // A command that hangs is stopped at the profile's timeout.
    std::fs::write(
        &config,
        "[default]\nclient_id = \"x\"\nsecret_command = \"sleep 30\"\ntimeout = 1\n",
    )
    .unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    let started = Instant::now();
    let out = env
        .bare()
        .env("MCSH_CONFIG", &config)
        .args(["config", "show"])
        .output()
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(out.status.code(), Some(4));
    assert!(stderr(&out).contains("did not finish"), "{}", stderr(&out));
}

#[test]
fn scripts_cannot_read_credentials_or_write_files_in_a_dry_run() {
    let env = Env::new();
    let out = env
        .mcsh(Scheme::OAuth)
        .args(["-e", "env(\"MIMECAST_CLIENT_SECRET\")"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!String::from_utf8_lossy(&out.stdout).contains(&env.sandbox.keys.client_secret));
    assert!(stderr(&out).contains("credentials"), "{}", stderr(&out));
    let file = env.dir.path().join("dry.json");
    let out = env
        .mcsh(Scheme::OAuth)
        .arg("--dry-run")
        .arg("-e")
        .arg(format!("write_json({:?}, groups())", file.display()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(!file.exists(), "a dry run writes no files");
}

#[test]
fn sandbox_reset_deletes_only_sandbox_databases() {
    let env = Env::new();
    let doc = env.dir.path().join("thesis.txt");
    std::fs::write(&doc, "years of work").unwrap();
    let out = env
        .bare()
        .args(["sandbox", "reset", "--state"])
        .arg(&doc)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("not an mcsh sandbox database"));
    assert_eq!(std::fs::read_to_string(&doc).unwrap(), "years of work");
    let out = env
        .bare()
        .args(["sandbox", "reset", "--state"])
        .arg(env.dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out).matches("os error").count(),
        0,
        "{}",
        stderr(&out)
    );
}

#[cfg(unix)]
#[test]
fn endless_inputs_are_refused_not_read() {
    let env = Env::new();
    let out = env
        .mcsh(Scheme::OAuth)
        .args(["onboard", "--csv", "/dev/zero"])
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not a regular file"),
        "{}",
        stderr(&out)
    );
    let out = env
        .mcsh(Scheme::OAuth)
        .args([
            "--limit",
            "memory=100",
            "-e",
            "read_text(\"/dev/zero\").len()",
        ])
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("not a regular file"),
        "{}",
        stderr(&out)
    );
    // A regular file larger than the memory limit allows is refused before it is read.
    let big = env.dir.path().join("big.txt");
    std::fs::write(&big, vec![b'x'; 48 << 20]).unwrap();
    let out = env
        .mcsh(Scheme::OAuth)
        .args(["--limit", "memory=32", "-e"])
        .arg(format!("read_text({:?}).len()", big.display()))
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("larger than"), "{}", stderr(&out));
}

#[test]
fn two_processes_on_one_embedded_sandbox_take_turns() {
    let env = Env::new();
    let state = env.dir.path().join("shared.db");
    let csv = |name: &str, prefix: &str| {
        let path = env.dir.path().join(name);
        let mut text = String::from("email,name,groups\n");
        for i in 0..60 {
            text.push_str(&format!("{prefix}{i:03}@company.com,P {i},Sales\n"));
        }
        std::fs::write(&path, text).unwrap();
        path
    };
    let files = [csv("a.csv", "turn.a"), csv("b.csv", "turn.b")];
    let outputs: Vec<std::process::Output> = std::thread::scope(|s| {
        let handles: Vec<_> = files
            .iter()
            .map(|f| {
                let mut cmd = env.bare();
                cmd.env("MCSH_SANDBOX_STATE", &state)
                    .args(["--sandbox", "--batch-size", "1", "onboard", "--csv"])
                    .arg(f)
                    .args(["-o", "json"]);
                s.spawn(move || cmd.output().unwrap())
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for out in &outputs {
        assert!(out.status.success(), "{}", stderr(out));
    }
    let users = crate::support::db_count(
        &state,
        "SELECT COUNT(*) FROM users WHERE email LIKE 'turn.%'",
    );
    assert_eq!(users, 120);
}

#[test]
fn group_names_holding_the_separator_round_trip_through_export_and_onboard() {
    let env = Env::new();
    env.json(&["groups", "create", "--description", "R;D"]);
    env.json(&[
        "groups",
        "add-member",
        "--group",
        "R;D",
        "--email",
        "alice.anderson@company.com",
    ]);
    let out = env
        .mcsh(Scheme::OAuth)
        .args([
            "export",
            "--with-groups",
            "--format",
            "csv",
            "--domain",
            "company.com",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let column = text
        .lines()
        .next()
        .unwrap()
        .split(',')
        .position(|c| c == "groups")
        .unwrap();
    let alice = text
        .lines()
        .find(|l| l.starts_with("alice.anderson@company.com"))
        .unwrap();
    assert!(alice.contains("R\\;D"), "{alice}");
    // The export's rows, as an onboarding CSV for a new person: the group is found whole.
    let groups_cell = alice.split(',').nth(column).unwrap();
    let csv = env.dir.path().join("again.csv");
    std::fs::write(
        &csv,
        format!("email,name,groups\nnew.rd@company.com,New,{groups_cell}\n"),
    )
    .unwrap();
    let out = env
        .mcsh(Scheme::OAuth)
        .args(["onboard", "--csv"])
        .arg(&csv)
        .args(["-o", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(env
        .members("R;D")
        .contains(&"new.rd@company.com".to_string()));
}

#[test]
fn departments_report_every_level_and_why_a_path_failed() {
    let env = Env::new();
    let rows = env.json(&["departments", "A1/B1/C1"]);
    let paths: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["A1", "A1/B1", "A1/B1/C1"]);
    // An unknown parent stops the run before any write, naming it (exit 2).
    let before = env.sandbox.stats.hits(paths::CREATE_GROUP);
    let out = env
        .mcsh(Scheme::OAuth)
        .args(["departments", "X", "--parent", "Engineerin", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("\"Engineerin\"") && stderr(&out).contains("did you mean"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.sandbox.stats.hits(paths::CREATE_GROUP), before);
}

#[test]
fn members_from_a_file_and_groups_by_the_short_id_an_error_shows() {
    let env = Env::new();
    let list = env.dir.path().join("people.txt");
    std::fs::write(
        &list,
        "# new team\nalice.anderson@company.com\n\nbob.hughes@company.com\n",
    )
    .unwrap();
    let rows = env.json(&[
        "groups",
        "add-member",
        "--group",
        "Marketing",
        "--emails-from",
        list.to_str().unwrap(),
    ]);
    assert_eq!(rows.as_array().unwrap().len(), 2);
    assert!(env
        .members("Marketing")
        .contains(&"bob.hughes@company.com".to_string()));
    std::fs::write(&list, "alice.anderson@company.com\nnot-an-address\n").unwrap();
    let out = env
        .mcsh(Scheme::OAuth)
        .args([
            "groups",
            "remove-member",
            "--group",
            "Marketing",
            "--emails-from",
        ])
        .arg(&list)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("line 2"), "{}", stderr(&out));
    let id = env.group_id("Platform");
    // Real ids share their beginning: the short id an ambiguity error shows is the end.
    let tail: String = id.chars().skip(id.chars().count() - 12).collect();
    let members = env.json(&["groups", "members", "--group", &format!("…{tail}")]);
    assert_eq!(members.as_array().unwrap().len(), 5);
}

#[test]
fn serving_on_a_wildcard_address_prints_a_usable_loopback_url() {
    let env = Env::new();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("mcsh"))
        .args([
            "sandbox",
            "serve",
            "--addr",
            "0.0.0.0:0",
            "--state",
            ":memory:",
            "-o",
            "json",
        ])
        .env("HOME", env.dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let info: Value = serde_json::from_str(&line).unwrap();
    let url = info["base_url"].as_str().unwrap();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert_ne!(url, "http://127.0.0.1:0");
    let warning = stderr(&out);
    assert!(
        !warning.contains(":0,"),
        "the warning names the real port: {warning}"
    );
}

#[test]
fn small_ones_do_not_panic() {
    let env = Env::new();
    let out = env
        .bare()
        .args(["audit", "--since", "99999999d"])
        .output()
        .unwrap();
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    assert_ne!(out.status.code(), Some(101));
    // A closed pipe ends the output quietly.
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("mcsh"))
        .args(["completions", "bash"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // A terminal that says it has 0 columns still gets readable tables.
    let out = env
        .mcsh(Scheme::OAuth)
        .env("COLUMNS", "0")
        .args(["groups", "list", "-o", "table"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("All Staff"));
    // A syntax error with raw control bytes does not echo them.
    let out = env
        .mcsh(Scheme::OAuth)
        .args(["-e", "let x = \u{7}\u{1b}[2J;"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!stderr(&out).contains('\u{1b}') && !stderr(&out).contains('\u{7}'));
}

#[test]
fn what_the_second_review_found_is_closed() {
    let env = Env::new();
    // Scripts cannot read the credentials through files either.
    for path in [
        "/proc/self/environ".to_string(),
        env.dir
            .path()
            .join("config/mcsh/config.toml")
            .display()
            .to_string(),
    ] {
        if !std::path::Path::new(&path).exists() {
            std::fs::create_dir_all(std::path::Path::new(&path).parent().unwrap()).unwrap();
            std::fs::write(&path, "[default]\nclient_id = \"x\"\n").unwrap();
        }
        let out = env
            .mcsh(Scheme::OAuth)
            .arg("-e")
            .arg(format!("read_text({path:?})"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{path}: {}", stderr(&out));
        assert!(!String::from_utf8_lossy(&out.stdout).contains(&env.sandbox.keys.client_secret));
    }
    // A closed stderr does not stop a run halfway (no panic, every write audited).
    let audit = env.dir.path().join("closed.jsonl");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("mcsh"))
        .args([
            "-vv",
            "--yes",
            "offboard",
            "--email",
            "carol.costa@company.com",
            "-o",
            "json",
        ])
        .env("MIMECAST_BASE_URL", &env.sandbox.base_url)
        .env("MIMECAST_CLIENT_ID", &env.sandbox.keys.client_id)
        .env("MIMECAST_CLIENT_SECRET", &env.sandbox.keys.client_secret)
        .env("MCSH_AUDIT_LOG", &audit)
        .env("HOME", env.dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    let log = std::fs::read_to_string(&audit).unwrap();
    assert!(log.contains("add-to-purge-list"), "{log}");
    // A group name holding the path separator is refused (exit 2).
    let out = env
        .mcsh(Scheme::OAuth)
        .args(["groups", "create", "--description", "Engineering/Platform"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    // Offboarding an alias address or a directory-synced user sends nothing.
    let before = env.sandbox.stats.hits(paths::REMOVE_GROUP_MEMBER);
    for (who, says) in [
        ("alice@company.com", "alias address"),
        ("aaron.jensen@example.com", "directory sync"),
    ] {
        let out = env
            .mcsh(Scheme::OAuth)
            .args(["--yes", "offboard", "--email", who, "-o", "json"])
            .output()
            .unwrap();
        let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(rows.as_array().unwrap().len(), 1, "{who}: {rows}");
        assert!(
            rows[0]["message"].as_str().unwrap().contains(says),
            "{rows}"
        );
    }
    assert_eq!(env.sandbox.stats.hits(paths::REMOVE_GROUP_MEMBER), before);
    assert!(env
        .members("Sales")
        .contains(&"aaron.jensen@example.com".to_string()));
    // A script of an endless file is refused, and deep recursion stops with a message.
    let out = env
        .mcsh(Scheme::OAuth)
        .args(["run", "/dev/zero"])
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = env
        .bare()
        .args(["--limit", "call-depth=2000", "-e", "fn f(n){f(n+1)} f(0)"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("nested deeper than 2000"));
}

#[test]
fn data_in_undo_and_plan_listings_cannot_rewrite_the_terminal() {
    let env = Env::new();
    let evil = "Evil\u{1b}[2J\u{202e}Grp";
    // mcsh refuses to write such a name, but a directory may hold one made elsewhere.
    env.create_group_raw(evil);
    let out = env
        .mcsh(Scheme::OAuth)
        .args([
            "groups",
            "add-member",
            "--group",
            evil,
            "--email",
            "bob.hughes@company.com",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    for args in [
        vec!["undo", "--last", "--dry-run"],
        vec![
            "users",
            "update",
            "--email",
            "bob.hughes@company.com",
            "--name",
            "Bob \u{202e}Hughes",
            "--dry-run",
        ],
    ] {
        let out = env.mcsh(Scheme::OAuth).args(&args).output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
        assert!(
            !err.contains('\u{1b}') && !err.contains('\u{202e}'),
            "{args:?} printed raw control or bidi characters: {err:?}"
        );
        assert!(err.contains("\\u{202e}"), "shown escaped: {args:?}: {err}");
    }
}

#[cfg(unix)]
#[test]
fn output_lost_to_a_full_disk_is_an_error_not_a_success() {
    let env = Env::new();
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("mcsh"))
        .env("HOME", env.dir.path())
        .env("XDG_CONFIG_HOME", env.dir.path().join("config"))
        .env("XDG_DATA_HOME", env.dir.path().join("data"))
        .env("XDG_STATE_HOME", env.dir.path().join("state"))
        .env("MCSH_AUDIT_LOG", "off")
        .args(["-e", "print(1)"])
        .stdout(full)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("cannot write to standard output"), "{err}");
}

#[test]
fn names_holding_control_characters_are_refused_before_anything_is_sent() {
    let env = Env::new();
    for args in [
        vec!["groups", "create", "--description", "Ops\u{1b}[2J"],
        vec![
            "users",
            "update",
            "--email",
            "bob.hughes@company.com",
            "--name",
            "Bob\u{7}Hughes",
        ],
        vec!["-e", "create_user(\"x.y@company.com\", \"X\\nY\")"],
    ] {
        let out = env.mcsh(Scheme::OAuth).args(&args).output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("holds the control character"),
            "{args:?}: {err}"
        );
        assert!(err.contains("nothing was sent"), "{err}");
    }
    let users = env.json(&["users", "list", "--domain", "company.com"]);
    assert!(
        !users.to_string().contains("x.y@company.com"),
        "nothing was created"
    );
    let bob = env.json(&["users", "get", "--email", "bob.hughes@company.com"]);
    assert_eq!(bob["name"], "Bob Hughes");
    // departments checks every name before the first level is made.
    let file = env.dir.path().join("departments.txt");
    std::fs::write(&file, "Good1\nOps\u{1b}Y\n").unwrap();
    let out = env
        .mcsh(Scheme::OAuth)
        .args(["departments", "--file", file.to_str().unwrap()])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("name(s) holding a control character: \"Ops\\u{1b}Y\"; nothing was written"),
        "{err}"
    );
    let groups = env.json(&["groups", "list"]);
    assert!(!groups.to_string().contains("Good1"), "nothing was written");
}

#[cfg(unix)]
#[test]
fn an_import_of_a_fifo_or_device_is_refused_without_reading_it() {
    let env = Env::new();
    let fifo = env.dir.path().join("pipe.rhai");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    std::os::unix::fs::symlink("/dev/zero", env.dir.path().join("zero.rhai")).unwrap();
    for name in ["pipe", "zero"] {
        let module = env.dir.path().join(name);
        let out = env
            .bare()
            .args([
                "-e",
                &format!("import {:?} as m; 1", module.display().to_string()),
            ])
            .timeout(Duration::from_secs(20))
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert!(err.contains("is not a regular file"), "{name}: {err}");
    }
}

#[test]
fn a_bad_argument_is_echoed_escaped() {
    let env = Env::new();
    let out = env
        .bare()
        .args(["-o", "x\u{1b}]0;pwned\u{7}\u{202e}", "users", "list"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        !err.contains('\u{1b}') && !err.contains('\u{7}') && !err.contains('\u{202e}'),
        "{err:?}"
    );
    assert!(err.contains("\\u{202e}"), "{err}");
}

//! The third hostile review's findings that are closed: each test fails on the code before the
//! fix.

use crate::support::{Env, Scheme};

#[test]
fn a_plan_listing_cuts_long_non_ascii_names_by_characters() {
    let env = Env::new();
    let name = "Zoë Pérez-Ramírez de Castellón y Núñez, Oficina de Sevilla";
    let out = env
        .mcsh(Scheme::OAuth)
        .args([
            "--dry-run",
            "users",
            "create",
            "--email",
            "zoe@company.com",
            "--name",
            name,
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("\"Zoë Pérez-Ramíre…\""), "{err}");
    let plan = env.dir.path().join("p.json");
    let out = env
        .mcsh(Scheme::OAuth)
        .args([
            "--plan-out",
            plan.to_str().unwrap(),
            "users",
            "create",
            "--email",
            "zoe@company.com",
            "--name",
            name,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let out = env
        .mcsh(Scheme::OAuth)
        .args(["apply", plan.to_str().unwrap(), "--yes"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(env.user_emails().contains(&"zoe@company.com".to_string()));
}

#[test]
fn a_bare_word_is_a_command_never_a_file_of_that_name() {
    let env = Env::new();
    let dir = env.dir.path();
    std::fs::write(dir.join("usrs"), "print(\"ran the file\");\n").unwrap();
    let out = env
        .mcsh(Scheme::OAuth)
        .current_dir(dir)
        .args(["usrs", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stdout.contains("ran the file"), "{stdout}");
    assert!(stderr.contains("mcsh users list"), "{stderr}");
    // Not even a file that starts `#!`: the system runs such a file by its path.
    std::fs::write(
        dir.join("tool"),
        "#!/usr/bin/env mcsh\nprint(\"ran the tool\");\n",
    )
    .unwrap();
    let out = env
        .mcsh(Scheme::OAuth)
        .current_dir(dir)
        .args(["tool"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("ran the tool"));
    let out = env
        .mcsh(Scheme::OAuth)
        .current_dir(dir)
        .args(["./tool"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("ran the tool"));
    let out = env
        .mcsh(Scheme::OAuth)
        .current_dir(dir)
        .args(["./usrs"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("ran the file"));
}

/// The audit log's path and what it holds after a first run wrote (a user created).
fn audit_log_of_a_first_run(env: &Env) -> (std::path::PathBuf, String) {
    let first = env
        .mcsh(Scheme::OAuth)
        .args(["users", "create", "--email", "logged@company.com"])
        .output()
        .unwrap();
    assert!(first.status.success());
    let log = env.dir.path().join("state/mcsh/audit.jsonl");
    let before = std::fs::read_to_string(&log).unwrap();
    (log, before)
}

#[test]
fn a_script_cannot_write_mcshs_own_files_by_any_path() {
    let env = Env::new();
    let dir = env.dir.path();
    // The config file (where a planted base_url and secret_command would take the secret).
    let config = dir.join("config/mcsh/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(&config, "[default]\n").unwrap();
    // The audit log, written by a first run.
    let (log, before) = audit_log_of_a_first_run(&env);
    #[cfg(unix)]
    std::os::unix::fs::symlink(&log, dir.join("report.csv")).unwrap();
    let targets = [
        config.display().to_string(),
        log.display().to_string(),
        dir.join("data/mcsh/plan.key").display().to_string(),
        dir.join("data/mcsh/history").display().to_string(),
        dir.join("data/mcsh/sandbox.db").display().to_string(),
        format!("{}/config/../state/mcsh/audit.jsonl", dir.display()),
        dir.join("report.csv").display().to_string(),
    ];
    for target in targets {
        for sandbox in [false, true] {
            let source = format!("write_csv({target:?}, [#{{ a: 1 }}]);");
            let mut cmd = env.mcsh(Scheme::OAuth);
            if sandbox {
                cmd.arg("--sandbox");
            }
            let out = cmd.args(["-e", &source]).output().unwrap();
            assert_eq!(out.status.code(), Some(2), "{target} was written");
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("scripts may not write mcsh's own"), "{err}");
        }
    }
    assert_eq!(std::fs::read_to_string(&config).unwrap(), "[default]\n");
    assert_eq!(std::fs::read_to_string(&log).unwrap(), before);
    assert!(!dir.join("data/mcsh/plan.key").exists());
    // Files of the admin's own are written as before.
    let out = env
        .mcsh(Scheme::OAuth)
        .args([
            "-e",
            &format!(
                "write_csv({:?}, [#{{ a: 1 }}]);",
                dir.join("out.csv").display().to_string()
            ),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[cfg(unix)]
#[test]
fn the_files_a_command_writes_are_never_mcshs_own_nor_reached_through_a_link() {
    let env = Env::new();
    let dir = env.dir.path();
    let (log, before) = audit_log_of_a_first_run(&env);
    // A file of the admin's own, reached through a link (planted, or a dotfile): refused too,
    // and left as it was.
    let mine = dir.join("mine.json");
    std::fs::write(&mine, "mine").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(&mine, dir.join("link.json")).unwrap();
    let log_path = log.display().to_string();
    let link = dir.join("link.json").display().to_string();
    let mut runs: Vec<Vec<&str>> = vec![
        vec!["snapshot", "--out", &log_path],
        vec!["export", "--out", &log_path],
        vec![
            "--dry-run",
            "users",
            "create",
            "--email",
            "x@company.com",
            "--plan-out",
            &log_path,
        ],
    ];
    if cfg!(unix) {
        runs.push(vec!["snapshot", "--out", &link]);
        runs.push(vec!["export", "--out", &link]);
    }
    for args in runs {
        let out = env.mcsh(Scheme::OAuth).args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} wrote: {err}");
        assert!(
            err.contains("mcsh's own") || err.contains("is a symbolic link"),
            "{args:?}: {err}"
        );
    }
    // The log was not replaced: what it held is there, and only audit lines follow (the dry
    // run's own).
    let after = std::fs::read_to_string(&log).unwrap();
    assert!(after.starts_with(&before), "{after}");
    for line in after.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(v["run"].is_string(), "{line}");
    }
    assert_eq!(std::fs::read_to_string(&mine).unwrap(), "mine");
}

#[test]
fn audit_and_undo_read_a_log_that_is_no_file_without_hanging() {
    let env = Env::new();
    let fifo = env.dir.path().join("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    for log in [fifo.display().to_string(), "/dev/zero".to_string()] {
        for args in [vec!["audit"], vec!["undo", "--last", "--yes"]] {
            let out = env
                .mcsh(Scheme::OAuth)
                .env("MCSH_AUDIT_LOG", &log)
                .args(&args)
                .timeout(std::time::Duration::from_secs(20))
                .output()
                .unwrap();
            assert_ne!(out.status.code(), Some(0), "{args:?} on {log}");
            assert!(
                out.status.code().is_some(),
                "{args:?} on {log} hung or crashed"
            );
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("not a regular file"), "{args:?} {log}: {err}");
        }
        // A write with the log there is refused before anything is sent.
        let out = env
            .mcsh(Scheme::OAuth)
            .env("MCSH_AUDIT_LOG", &log)
            .args([
                "groups",
                "add-member",
                "--group",
                "Sales",
                "--email",
                "carol.okafor@company.com",
            ])
            .timeout(std::time::Duration::from_secs(20))
            .output()
            .unwrap();
        assert!(
            out.status.code().is_some_and(|c| c != 0),
            "a write through {log}"
        );
    }
    assert!(!env
        .members("Sales")
        .contains(&"carol.okafor@company.com".to_string()));
}

#[cfg(unix)]
#[test]
fn files_another_user_planted_in_a_shared_folder_are_not_written() {
    // Only root can give a file to another user; elsewhere there is nothing to plant.
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return;
    }
    let env = Env::new();
    let shared = env.dir.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    let fifo = shared.join("users.csv");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let open = shared.join("snapshot.json");
    std::fs::write(&open, "").unwrap();
    for f in [&fifo, &open] {
        std::os::unix::fs::chown(f, Some(65534), Some(65534)).unwrap();
    }
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o666)).unwrap();
    for (args, path) in [
        (vec!["export", "--format", "csv", "--out"], &fifo),
        (vec!["snapshot", "--out"], &open),
    ] {
        let out = env
            .mcsh(Scheme::OAuth)
            .args(&args)
            .arg(path)
            .timeout(std::time::Duration::from_secs(30))
            .output()
            .unwrap();
        assert!(
            out.status.code().is_some_and(|c| c != 0),
            "{args:?} wrote into {path:?}"
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("belongs to another user"), "{err}");
    }
    assert_eq!(std::fs::read(&open).unwrap(), b"");
}

#[test]
fn undo_takes_a_run_back_only_on_the_tenant_that_made_it() {
    let env = Env::new();
    let add = |sandbox: bool, email: &str| {
        let mut cmd = env.mcsh(Scheme::OAuth);
        if sandbox {
            cmd.arg("--sandbox");
        }
        let out = cmd
            .args(["groups", "add-member", "--group", "Sales", "--email", email])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        err.split("run ")
            .nth(1)
            .unwrap()
            .split(':')
            .next()
            .unwrap()
            .to_string()
    };
    let real = add(false, "carol.okafor@company.com");
    let other = add(true, "david.varga@company.com");
    // --last on the real tenant is the real run, though the other is newer.
    let out = env
        .mcsh(Scheme::OAuth)
        .args(["undo", "--last", "--yes"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("undo of run {real}")), "{err}");
    assert!(!env
        .members("Sales")
        .contains(&"carol.okafor@company.com".to_string()));
    // The other run, named, is refused here: nothing changes on this tenant.
    let out = env
        .mcsh(Scheme::OAuth)
        .args(["undo", &other, "--yes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("was made on sandbox"));

    // The listing tells a group by what its id names now, not by the log's name for it.
    let again = add(false, "emma.fischer@company.com");
    let out = env
        .mcsh(Scheme::OAuth)
        .args([
            "groups",
            "rename",
            "--group",
            "Sales",
            "--description",
            "Sales Team",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = env
        .mcsh(Scheme::OAuth)
        .args(["undo", &again, "--yes"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("remove emma.fischer@company.com from Sales Team (the log says Sales)"),
        "{err}"
    );
}

#[test]
fn the_sync_removal_limit_is_per_scope_and_one_more_domain_cannot_lift_it() {
    let env = Env::new();
    let example: Vec<String> = env
        .user_emails()
        .into_iter()
        .filter(|e| e.ends_with("@example.com"))
        .collect();
    assert_eq!(example.len(), 14);
    // 7 of 14 kept: 6 offboarded (one left is directory-synced), over the limit of 5.
    let mut rows = String::from("email,name,groups\n");
    for e in &example[..7] {
        rows.push_str(&format!("{e},,\n"));
    }
    let plain = env.dir.path().join("feed.csv");
    std::fs::write(&plain, &rows).unwrap();
    // The same feed with one company.com address: the scope was the union, 62, limit 6.
    rows.push_str("alice.anderson@company.com,,\n");
    let padded = env.dir.path().join("padded.csv");
    std::fs::write(&padded, &rows).unwrap();
    for feed in [&plain, &padded] {
        let out = env
            .mcsh(Scheme::OAuth)
            .args([
                "sync",
                "--csv",
                feed.to_str().unwrap(),
                "--offboard-missing",
                "example.com",
                "--yes",
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{feed:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("over the limit in domain example.com (6 of its 14 users, limit 5)"),
            "{err}"
        );
    }
    assert_eq!(
        env.user_emails()
            .iter()
            .filter(|e| e.ends_with("@example.com"))
            .count(),
        14
    );
}

#[test]
fn a_secret_the_service_echoes_is_never_printed() {
    use crate::support::scripted::{Canned, Scripted};
    let secret = "echoed-s3cret/value+1";
    let server = Scripted::start(move |_, _, _| {
        Canned::json(
            400,
            r#"{"error":"invalid_client","error_description":"bad form: client_id=abc&client_secret=echoed-s3cret%2Fvalue%2B1&grant_type=client_credentials; raw echoed-s3cret/value+1; json echoed-s3cret\\/value+1"}"#,
        )
    });
    let env = Env::new();
    for verbosity in ["-q", "-vvv"] {
        let out = env
            .bare()
            .env("MIMECAST_BASE_URL", &server.base_url)
            .env("MIMECAST_CLIENT_ID", "abc")
            .env("MIMECAST_CLIENT_SECRET", secret)
            .args([verbosity, "users", "list"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(4));
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!all.contains("echoed-s3cret"), "{all}");
        assert!(all.contains("client_secret=****"), "{all}");
    }
}

#[test]
fn a_huge_pad_is_refused_before_it_allocates() {
    let env = Env::new();
    for source in [
        "let a = []; a.pad(2000000000000, 0); a.len()",
        "let s = \"x\"; s.pad(2000000000000, 'y'); s.len()",
    ] {
        let out = env
            .bare()
            .args(["--limit", "memory=256", "-e", source])
            .timeout(std::time::Duration::from_secs(30))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{source}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("more than 256 MiB"));
    }
}

/// A string of 60 MB (`fill` repeated), within `--limit memory=128`.
#[cfg(unix)]
fn sixty_mb_of(fill: char) -> String {
    format!("let s = \"{fill}\"; s.pad(60000000, '{fill}');")
}

#[cfg(unix)]
#[test]
fn a_split_many_times_its_strings_size_is_refused_before_it_allocates() {
    let env = Env::new();
    // Under 1 GB of address space: each call below would make 1 to 4 GB of one 60 MB string,
    // which the allocator cannot have (the process aborts) unless it is refused first.
    for (fill, call) in [
        ('a', r#"s.split("").len()"#),
        (',', r#"s.split(",").len()"#),
        (',', r#"s.split(',').len()"#),
        (',', r#"s.split_rev(",").len()"#),
        (',', r#"s.split(",", 1000000000).len()"#),
        (',', r#"s.split_rev(',', 1000000000).len()"#),
        ('a', "s.to_chars().len()"),
        (
            'a',
            r#"s.replace("", "0123456789012345678901234567890"); s.len()"#,
        ),
        (
            'a',
            r#"s.replace('a', "0123456789012345678901234567890"); s.len()"#,
        ),
    ] {
        let source = format!("{} {call}", sixty_mb_of(fill));
        let out = crate::support::process_with_env_of(&env.bare(), "sh")
            .arg("-c")
            .arg("ulimit -v 1000000; exec \"$0\" \"$@\"")
            .arg(assert_cmd::cargo::cargo_bin("mcsh"))
            .args(["--limit", "memory=128", "-e", &source])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{call}: {err}");
        assert!(err.contains("more than 128 MiB"), "{call}: {err}");
    }
    // Small strings split as Rhai splits them.
    let out = env
        .bare()
        .args(["-o", "json", "-e", r#"["a,b,,c".split(","), "ab".split(""), "a b".split(), "a;b;c".split_rev(';', 2), "x".to_chars()]"#])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v,
        serde_json::json!([
            ["a", "b", "", "c"],
            ["", "a", "b", ""],
            ["a", "b"],
            ["c", "a;b"],
            ["x"]
        ])
    );
}

#[cfg(unix)]
#[test]
fn a_config_file_others_can_change_does_not_say_where_credentials_go() {
    use crate::support::scripted::{Canned, Scripted};
    use std::os::unix::fs::PermissionsExt;
    let thief =
        Scripted::start(|_, _, _| Canned::json(200, r#"{"access_token":"x","expires_in":1799}"#));
    let env = Env::new();
    let config = env.dir.path().join("config/mcsh/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(
        &config,
        format!("[default]\nbase_url = \"{}\"\n", thief.base_url),
    )
    .unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o666)).unwrap();
    let out = env
        .bare()
        .env("MIMECAST_CLIENT_ID", "abc")
        .env("MIMECAST_CLIENT_SECRET", "the-env-secret")
        .args(["users", "list"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("base_url is not used"));
    assert!(
        thief.seen.lock().unwrap().is_empty(),
        "the secret went to the planted URL"
    );
    // Made private, the same file is used.
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = env
        .bare()
        .env("MIMECAST_CLIENT_ID", "abc")
        .env("MIMECAST_CLIENT_SECRET", "the-env-secret")
        .args(["users", "list"])
        .output()
        .unwrap();
    assert!(!thief.seen.lock().unwrap().is_empty());
    let _ = out;
}

#[test]
fn a_plan_is_carried_out_once() {
    let env = Env::new();
    let plan = env.dir.path().join("p.json");
    let p = plan.to_str().unwrap();
    let run = |args: &[&str]| env.mcsh(Scheme::OAuth).args(args).output().unwrap();
    let add = [
        "groups",
        "add-member",
        "--group",
        "IT Admins",
        "--email",
        "farid.murphy@company.com",
    ];
    let out = run(&[&["--plan-out", p][..], &add[..]].concat());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&["apply", p, "--yes"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let remove = [
        "groups",
        "remove-member",
        "--group",
        "IT Admins",
        "--email",
        "farid.murphy@company.com",
    ];
    assert!(run(&remove).status.success());
    // The same file again: refused, and the member stays removed.
    let out = run(&["apply", p, "--yes"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("applied here already"));
    assert!(!env
        .members("IT Admins")
        .contains(&"farid.murphy@company.com".to_string()));
    // Two applies of one new plan at once: one carries it out, the other is refused.
    let twice = env.dir.path().join("twice.json");
    let t = twice.to_str().unwrap();
    let again = [
        "groups",
        "add-member",
        "--group",
        "IT Admins",
        "--email",
        "grace.tanaka@company.com",
    ];
    assert!(run(&[&["--plan-out", t][..], &again[..]].concat())
        .status
        .success());
    let spawn = || {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_mcsh"));
        for (k, v) in env.mcsh(Scheme::OAuth).get_envs() {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        cmd.args(["apply", t, "--yes"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let (mut a, mut b) = (spawn(), spawn());
    let codes = [a.wait().unwrap().code(), b.wait().unwrap().code()];
    // One carried it out; the other was refused before sending (already applied, or its
    // reads no longer match): the write went out once.
    assert_eq!(
        codes.iter().filter(|c| **c == Some(0)).count(),
        1,
        "{codes:?}"
    );
    assert!(codes.iter().all(|c| matches!(c, Some(0..=2))), "{codes:?}");
    let log = std::fs::read_to_string(env.dir.path().join("state/mcsh/audit.jsonl")).unwrap();
    let sent = log
        .lines()
        .filter(|l| l.contains("grace.tanaka@company.com") && l.contains("\"outcome\":\"created\""))
        .count();
    assert_eq!(sent, 1, "{log}");
}

#[test]
fn an_audit_log_edited_after_mcsh_wrote_it_is_reported() {
    let env = Env::new();
    let out = env
        .mcsh(Scheme::OAuth)
        .args([
            "groups",
            "add-member",
            "--group",
            "Support",
            "--email",
            "alice.anderson@company.com",
            "--email",
            "bob.hughes@company.com",
            "--email",
            "carol.okafor@company.com",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log = env.dir.path().join("state/mcsh/audit.jsonl");
    let text = std::fs::read_to_string(&log).unwrap();
    let audit = || {
        let out = env.mcsh(Scheme::OAuth).args(["audit"]).output().unwrap();
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    assert!(
        !audit().contains("was changed"),
        "an untouched log is not reported"
    );
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3);
    // One line removed from the middle of its run.
    std::fs::write(&log, format!("{}\n{}\n", lines[0], lines[2])).unwrap();
    assert!(audit().contains("was changed after mcsh wrote it"));
    // The last line of the run edited: nothing after it vouches for it, its own digest does.
    let last = lines[2].replace("carol.okafor", "david.varga");
    assert_ne!(last, lines[2]);
    std::fs::write(&log, format!("{}\n{}\n{last}\n", lines[0], lines[1])).unwrap();
    assert!(audit().contains("was changed after mcsh wrote it"));
    let run = serde_json::from_str::<serde_json::Value>(lines[0]).unwrap()["run"]
        .as_str()
        .unwrap()
        .to_string();
    let out = env
        .mcsh(Scheme::OAuth)
        .args(["undo", &run, "--yes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("were changed after mcsh wrote them"));
    // One line's outcome edited.
    let edited = lines[1].replace("\"outcome\":\"created\"", "\"outcome\":\"unchanged\"");
    assert_ne!(edited, lines[1]);
    std::fs::write(&log, format!("{}\n{edited}\n{}\n", lines[0], lines[2])).unwrap();
    assert!(audit().contains("was changed after mcsh wrote it"));
}

#[cfg(unix)]
#[test]
fn a_config_in_a_folder_others_can_change_does_not_say_where_credentials_go() {
    use crate::support::scripted::{Canned, Scripted};
    use std::os::unix::fs::PermissionsExt;
    let thief =
        Scripted::start(|_, _, _| Canned::json(200, r#"{"access_token":"x","expires_in":1799}"#));
    let env = Env::new();
    let open = env.dir.path().join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    let config = open.join("config.toml");
    std::fs::write(
        &config,
        format!("[default]\nbase_url = \"{}\"\n", thief.base_url),
    )
    .unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = env
        .bare()
        .env("MCSH_CONFIG", &config)
        .env("MIMECAST_CLIENT_ID", "abc")
        .env("MIMECAST_CLIENT_SECRET", "the-env-secret")
        .args(["users", "list"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("can be changed by other users"));
    assert!(thief.seen.lock().unwrap().is_empty());
}

#[test]
fn a_workflow_keeps_the_operations_limit_an_admin_sets() {
    let env = Env::new();
    let csv = env.dir.path().join("feed.csv");
    let mut text = String::from("email,name,groups\n");
    for i in 0..300 {
        text.push_str(&format!("ops.p{i:03}@company.com,P {i},Sales\n"));
    }
    std::fs::write(&csv, text).unwrap();
    let onboard = |limit: Option<&str>| {
        let mut cmd = env.bare();
        cmd.args(["--sandbox", "--dry-run", "-q"]);
        if let Some(l) = limit {
            cmd.args(["--limit", l]);
        }
        cmd.args(["onboard", "--csv"])
            .arg(&csv)
            .args(["-o", "json"]);
        let out = cmd.output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    // What a feed may cost, bounded by the admin: the workflow stops at it.
    let (code, err) = onboard(Some("operations=1000"));
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("stopped after 1000 operations"), "{err}");
    // Unset, mcsh's own workflow is not held to the limit meant for runaway scripts.
    let (code, err) = onboard(None);
    assert_eq!(code, Some(0), "{err}");
}

//! Proof of reliability: fault storms, interruption, secrets, the sandbox under load.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use mcsh::sandbox::{Options, Stats};
use predicates::prelude::*;
use serde_json::Value;

use crate::support::{mcsh_process, Env, Scheme, SCHEMES};

fn count(db: &std::path::Path, sql: &str) -> i64 {
    crate::support::db_count(db, sql)
}

fn people_csv(env: &Env, name: &str, n: usize, prefix: &str, groups: &str) -> String {
    let path = env.dir.path().join(name);
    let mut text = String::from("email,name,groups\n");
    for i in 0..n {
        text.push_str(&format!("{prefix}{i:04}@company.com,Person {i},{groups}\n"));
    }
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// Waits (at most 30 s) until the sandbox has taken `n` requests to `path`.
fn wait_for_hits(env: &Env, path: &str, n: u64) {
    let started = Instant::now();
    while env.sandbox.stats.hits(path) < n && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Sends `signal` to `child`.
fn send(child: &std::process::Child, signal: libc::c_int) {
    // SAFETY: kill(2) with a child's pid has no memory effects.
    unsafe {
        libc::kill(child.id() as libc::pid_t, signal);
    }
}

/// `mcsh --batch-size 5 --concurrency N onboard --csv CSV` against `env`'s sandbox, its
/// standard error piped: a workflow slow enough to be signalled halfway.
fn onboard_in_small_batches(env: &Env, csv: &str, concurrency: &str) -> std::process::Command {
    let mut cmd = mcsh_process(&env.mcsh(Scheme::OAuth));
    cmd.args(["--batch-size", "5", "--concurrency", concurrency])
        .args(["onboard", "--csv", csv])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    cmd
}

/// How many times the sandbox carried out a write on `path` whose item has `field` = `value`.
fn done(env: &Env, path: &str, field: &str, value: &str) -> usize {
    env.sandbox.stats.accepted(path, |item| {
        item[field]
            .as_str()
            .is_some_and(|v| v.eq_ignore_ascii_case(value))
    })
}

#[test]
fn the_seed_flow_under_a_fault_storm_ends_with_exactly_the_asked_directory() {
    // departments (nested) -> onboard 300 into them -> offboard 100 -> export, with 20 % of
    // requests failing (500, 503, 429, dropped before or after the call ran) throughout.
    for seed in [7, 11, 13] {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("storm.db");
        let env = Env::with(Options {
            fail_rate: 0.2,
            seed: Some(seed),
            state: db.display().to_string(),
            ..Options::default()
        });
        let out = env
            .mcsh(Scheme::OAuth)
            .args([
                "departments",
                "Storm/East",
                "Storm/West",
                "Storm A",
                "-o",
                "json",
            ])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "seed {seed}: departments: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        for name in ["Storm", "East", "West", "Storm A"] {
            assert_eq!(
                count(
                    &db,
                    &format!("SELECT COUNT(*) FROM groups WHERE description = '{name}'")
                ),
                1,
                "seed {seed}: one group {name}"
            );
            assert_eq!(
                done(&env, "/api/directory/create-group", "description", name),
                1,
                "seed {seed}: {name} was created once, not resent after it happened"
            );
        }
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM groups c JOIN groups p ON c.parent_id = p.id
                 WHERE p.description = 'Storm' AND c.description IN ('East', 'West')"
            ),
            2,
            "seed {seed}: East and West nest under Storm"
        );

        let csv = people_csv(&env, "storm.csv", 300, "storm", "Storm/East;Storm/West");
        let out = env
            .mcsh(Scheme::OAuth)
            .args(["--batch-size", "20", "onboard", "--csv", &csv, "-o", "json"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(0), "seed {seed}: onboard: {stderr}");
        let retried: u64 = stderr
            .split(" retried")
            .next()
            .and_then(|s| s.rsplit(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        assert!(retried > 0, "the summary counts the retries: {stderr}");
        assert!(
            Stats::get(&env.sandbox.stats.faults) > 0,
            "faults were injected"
        );
        assert_eq!(
            count(&db, "SELECT COUNT(*) FROM users WHERE email LIKE 'storm%'"),
            300
        );
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM members WHERE email LIKE 'storm%'"
            ),
            600
        );
        let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(rows.len(), 900, "a user row and two group rows per person");
        let not_created: Vec<&Value> = rows.iter().filter(|r| r["status"] != "created").collect();
        assert!(not_created.is_empty(), "seed {seed}: {not_created:?}");
        for i in (0..300).step_by(37) {
            let email = format!("storm{i:04}@company.com");
            assert_eq!(
                done(&env, "/api/user/create-user", "emailAddress", &email),
                1,
                "seed {seed}: {email} created once"
            );
        }

        let leavers = dir.path().join("leavers.csv");
        let mut text = String::from("email\n");
        for i in 0..100 {
            text.push_str(&format!("storm{i:04}@company.com\n"));
        }
        std::fs::write(&leavers, text).unwrap();
        let out = env
            .mcsh(Scheme::Hmac)
            .args([
                "--yes",
                "offboard",
                "--csv",
                leavers.to_str().unwrap(),
                "-o",
                "json",
            ])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "seed {seed}: offboard: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM users WHERE email LIKE 'storm%' AND purged = 0"
            ),
            200
        );
        assert_eq!(count(&db, "SELECT COUNT(*) FROM users WHERE email LIKE 'storm%' AND purged = 1 AND locked = 1"), 100);
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM members WHERE email LIKE 'storm%'"
            ),
            400
        );

        let out = env
            .mcsh(Scheme::OAuth)
            .args(["export", "--with-groups", "--format", "json"])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "seed {seed}: export: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let exported: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
        let storm: Vec<&Value> = exported
            .iter()
            .filter(|u| u["emailAddress"].as_str().unwrap().starts_with("storm"))
            .collect();
        assert_eq!(storm.len(), 200, "seed {seed}: the 200 who stay");
        for u in storm {
            let mut groups: Vec<&str> = u["groups"]
                .as_array()
                .unwrap()
                .iter()
                .map(|g| g.as_str().unwrap())
                .collect();
            groups.sort();
            assert_eq!(groups, ["Storm/East", "Storm/West"], "seed {seed}: {u}");
        }
        assert_eq!(exported.len(), 62 + 200, "seed {seed}: every mailbox once");
    }
}

#[test]
fn kill_9_halfway_then_the_same_command_finishes_the_job() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kill.db");
    let env = Env::with(Options {
        latency: Duration::from_millis(20),
        state: db.display().to_string(),
        ..Options::default()
    });
    let csv = people_csv(&env, "kill.csv", 1000, "kill", "Sales;Marketing");
    let mut first: std::process::Command =
        std::process::Command::new(assert_cmd::cargo::cargo_bin("mcsh"));
    first
        .args([
            "--batch-size",
            "10",
            "--concurrency",
            "2",
            "onboard",
            "--csv",
            &csv,
            "-o",
            "jsonl",
        ])
        .env("MIMECAST_BASE_URL", &env.sandbox.base_url)
        .env("MIMECAST_CLIENT_ID", &env.sandbox.keys.client_id)
        .env("MIMECAST_CLIENT_SECRET", &env.sandbox.keys.client_secret)
        .env("XDG_STATE_HOME", env.dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = first.spawn().unwrap();
    wait_for_hits(&env, mcsh::api::paths::CREATE_USER, 40);
    child.kill().unwrap();
    child.wait().unwrap();
    // A batch in flight when the client died may still commit: let the sandbox settle.
    std::thread::sleep(Duration::from_millis(500));
    let halfway = count(&db, "SELECT COUNT(*) FROM users WHERE email LIKE 'kill%'");
    assert!(
        halfway > 0 && halfway < 1000,
        "killed halfway: {halfway} users"
    );

    let out = env
        .mcsh(Scheme::OAuth)
        .args(["onboard", "--csv", &csv, "-o", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let found_done = rows
        .iter()
        .filter(|r| r["step"] == "user" && r["status"] == "unchanged")
        .count();
    assert_eq!(
        found_done as i64, halfway,
        "it reports what it found already done"
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM users WHERE email LIKE 'kill%'"),
        1000
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM members WHERE email LIKE 'kill%'"),
        2000
    );
    let distinct: BTreeSet<String> = rows
        .iter()
        .map(|r| format!("{}|{}", r["emailAddress"], r["step"]))
        .collect();
    assert_eq!(distinct.len(), rows.len(), "one report row per step");
    // Nothing twice, counted from what the sandbox carried out (its request log), not from
    // the database, whose UNIQUE constraints would hide a second attempt.
    let log = env.sandbox.stats.accepted.lock().unwrap().clone();
    let mut per_item: std::collections::HashMap<String, usize> = Default::default();
    for (path, item) in &log {
        *per_item.entry(format!("{path} {item}")).or_default() += 1;
    }
    let twice: Vec<&String> = per_item
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(k, _)| k)
        .collect();
    assert!(twice.is_empty(), "carried out twice: {twice:?}");
    let creates = log
        .iter()
        .filter(|(p, _)| p == mcsh::api::paths::CREATE_USER)
        .count();
    let adds = log
        .iter()
        .filter(|(p, _)| p == mcsh::api::paths::ADD_GROUP_MEMBER)
        .count();
    assert_eq!(
        (creates, adds),
        (1000, 2000),
        "each write carried out exactly once"
    );
}

#[test]
fn ctrl_c_sigterm_and_sighup_stop_a_workflow_with_130_and_say_what_was_done() {
    for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        stops_a_workflow_on(signal);
    }
}

fn stops_a_workflow_on(signal: libc::c_int) {
    let env = Env::with(Options {
        latency: Duration::from_millis(50),
        ..Options::default()
    });
    let csv = people_csv(&env, "int.csv", 400, "int", "Sales");
    let child = onboard_in_small_batches(&env, &csv, "1").spawn().unwrap();
    wait_for_hits(&env, mcsh::api::paths::CREATE_USER, 5);
    send(&child, signal);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "signal {signal}: {stderr}");
    assert!(
        stderr.contains("interrupted after") && stderr.contains("of 400 items"),
        "signal {signal}: {stderr}"
    );
    // What it wrote is named, so it can be taken back.
    assert!(stderr.contains("mcsh undo "), "signal {signal}: {stderr}");
}

#[test]
fn an_interrupt_waits_for_the_writes_already_sent_so_each_is_recorded_and_undone() {
    // Before, Ctrl-C or SIGTERM dropped the batches on the wire: the service did them, the
    // audit log never heard of them, and `mcsh undo` left them behind.
    for signal in [libc::SIGINT, libc::SIGTERM] {
        records_what_was_sent_when(signal);
    }
}

fn records_what_was_sent_when(signal: libc::c_int) {
    let env = Env::with(Options {
        latency: Duration::from_millis(600),
        ..Options::default()
    });
    let audit = env.dir.path().join("audit.jsonl");
    let csv = people_csv(&env, "sent.csv", 30, "sent", "");
    let child = onboard_in_small_batches(&env, &csv, "2")
        .env("MCSH_AUDIT_LOG", &audit)
        .spawn()
        .unwrap();
    // The first two batches done (each takes 600 ms): the next two go out at once, and the
    // signal comes while they are on the wire.
    wait_for_hits(&env, mcsh::api::paths::CREATE_USER, 2);
    std::thread::sleep(Duration::from_millis(150));
    send(&child, signal);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "signal {signal}: {stderr}");
    assert!(
        stderr.contains("stopping: waiting for the answers to 2 write request(s) already sent"),
        "signal {signal}: {stderr}"
    );
    // Let any request the client let go of finish on the sandbox's side.
    std::thread::sleep(Duration::from_millis(800));
    let done: BTreeSet<String> = env
        .user_emails()
        .into_iter()
        .filter(|e| e.starts_with("sent"))
        .collect();
    let recorded: BTreeSet<String> = std::fs::read_to_string(&audit)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["endpoint"] == mcsh::api::paths::CREATE_USER && l["outcome"] == "created")
        .filter_map(|l| l["item"]["emailAddress"].as_str().map(str::to_string))
        .collect();
    assert_eq!(
        done.len(),
        20,
        "signal {signal}: four batches of five: {done:?}"
    );
    assert_eq!(recorded, done, "signal {signal}: {stderr}");
    // So undo takes back every one of them.
    let run = crate::support::run_id(&stderr);
    let undo = mcsh_process(&env.mcsh(Scheme::OAuth))
        .args(["undo", &run, "--yes"])
        .env("MCSH_AUDIT_LOG", &audit)
        .output()
        .unwrap();
    assert_eq!(
        undo.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&undo.stderr)
    );
    let live: Vec<String> = env
        .user_emails()
        .into_iter()
        .filter(|e| e.starts_with("sent"))
        .collect();
    assert!(
        live.is_empty(),
        "signal {signal}: left after undo: {live:?}"
    );
}

#[test]
fn a_run_ended_before_its_writes_are_answered_says_so_and_names_what_it_wrote() {
    // A second signal while the run waits for the answers: it ends at once, but says that
    // a request went unanswered (the service may have done it) and names the run.
    for (signal, code) in [(libc::SIGINT, 130), (libc::SIGTERM, 143)] {
        let env = Env::with(Options {
            latency: Duration::from_millis(700),
            ..Options::default()
        });
        let csv = people_csv(&env, "late.csv", 20, "late", "");
        let child = onboard_in_small_batches(&env, &csv, "1").spawn().unwrap();
        // The first batch answered, the second on the wire.
        wait_for_hits(&env, mcsh::api::paths::CREATE_USER, 1);
        std::thread::sleep(Duration::from_millis(200));
        for _ in 0..2 {
            send(&child, signal);
            std::thread::sleep(Duration::from_millis(150));
        }
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "signal {signal}: {stderr}");
        assert!(
            stderr.contains("1 write request(s) (5 item(s)) got no answer before the run ended"),
            "signal {signal}: {stderr}"
        );
        let run = crate::support::run_id(&stderr);
        assert!(stderr.contains(&format!("mcsh undo {run}")), "{stderr}");
    }
}

#[test]
fn what_a_script_printed_after_writes_an_interrupt_left_unsent_is_not_shown() {
    // One by one, Ctrl-C during the adds would have stopped the script before its second
    // print: the queued form must not show it either.
    let env = Env::with(Options {
        latency: Duration::from_millis(400),
        ..Options::default()
    });
    let script = env.dir.path().join("held.rhai");
    std::fs::write(
        &script,
        "print(\"before loop\");\nfor i in 0..40 { add_member(\"Sales\", `held${i}@partner.org`); }\nprint(\"all added\");\nlet n = groups().len();\n",
    )
    .unwrap();
    let child = mcsh_process(&env.mcsh(Scheme::OAuth))
        .args(["--batch-size", "5", "--concurrency", "1", "run"])
        .arg(&script)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_hits(&env, mcsh::api::paths::ADD_GROUP_MEMBER, 1);
    send(&child, libc::SIGINT);
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stdout.contains("before loop"), "{stdout}");
    assert!(!stdout.contains("all added"), "{stdout}\n{stderr}");
}

#[test]
fn a_run_told_to_end_where_it_cannot_stop_cleanly_still_ends() {
    // `mcsh run -` waiting for a script on a pipe that stays open looks at no flag: SIGTERM
    // ends it after the grace period, as SIGTERM would have, and a second one at once.
    for twice in [false, true] {
        let env = Env::new();
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("mcsh"))
            .args(["--sandbox", "run", "-"])
            .env("XDG_STATE_HOME", env.dir.path())
            .env("XDG_DATA_HOME", env.dir.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let _open = child.stdin.take();
        std::thread::sleep(Duration::from_millis(500));
        let started = Instant::now();
        for _ in 0..1 + usize::from(twice) {
            send(&child, libc::SIGTERM);
            std::thread::sleep(Duration::from_millis(200));
        }
        let status = child.wait().unwrap();
        let took = started.elapsed();
        assert_eq!(status.code(), Some(143), "twice {twice}");
        if twice {
            assert!(took < Duration::from_secs(3), "{took:?}");
        } else {
            assert!(
                took >= Duration::from_secs(4) && took < Duration::from_secs(15),
                "{took:?}"
            );
        }
    }
}

#[test]
fn a_listing_told_to_end_writes_out_every_row_it_read() {
    // Rows into a pipe wait in a buffer: a run ended by SIGTERM or SIGHUP must still write
    // out each page it had read, whole, and exit 130.
    for signal in [libc::SIGTERM, libc::SIGHUP] {
        let env = Env::with(Options {
            latency: Duration::from_millis(300),
            generate_users: 3000,
            ..Options::default()
        });
        let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("mcsh"))
            .args([
                "users",
                "list",
                "--domain",
                "company.com",
                "--aliases",
                "-o",
                "jsonl",
            ])
            .env("MIMECAST_BASE_URL", &env.sandbox.base_url)
            .env("MIMECAST_CLIENT_ID", &env.sandbox.keys.client_id)
            .env("MIMECAST_CLIENT_SECRET", &env.sandbox.keys.client_secret)
            .env("XDG_STATE_HOME", env.dir.path())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut child = child;
        // Read as it comes, as a pipe's reader does (a full pipe would hold the listing up).
        let mut pipe = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut all = Vec::new();
            std::io::Read::read_to_end(&mut pipe, &mut all).unwrap();
            all
        });
        wait_for_hits(&env, mcsh::api::paths::GET_INTERNAL_USERS, 3);
        send(&child, signal);
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(130), "signal {signal}: {stderr}");
        let stdout = String::from_utf8_lossy(&reader.join().unwrap()).to_string();
        let rows: Vec<serde_json::Value> = stdout
            .lines()
            .map(|l| serde_json::from_str(l).expect("a whole row"))
            .collect();
        // Whole pages of 500 (alias rows included), at least the first, not the whole domain.
        assert!(
            !rows.is_empty() && rows.len().is_multiple_of(500) && rows.len() < 2700,
            "signal {signal}: {} rows; {stderr}",
            rows.len()
        );
    }
}

#[test]
fn no_output_log_audit_line_plan_or_error_holds_a_secret() {
    let env = Env::new();
    let audit = env.dir.path().join("audit.jsonl");
    let plan = env.dir.path().join("plan.json");
    let csv = people_csv(&env, "s.csv", 3, "secret", "Sales");
    // Each run with its exit code in the first pass (API 2.0) and in the second (API 1.0),
    // which finds what the first left behind.
    let runs: Vec<(Vec<String>, [i32; 2])> = [
        (vec!["users", "list"], [0, 0]),
        (
            vec!["users", "get", "--email", "alice.anderson@company.com"],
            [0, 0],
        ),
        (
            vec![
                "users",
                "create",
                "--email",
                "s.one@company.com",
                "--name",
                "S One",
            ],
            [0, 1],
        ),
        (
            vec!["users", "create", "--email", "s.one@company.com"],
            [1, 1],
        ),
        (
            vec![
                "users",
                "update",
                "--email",
                "s.one@company.com",
                "--lock",
                "--alias",
                "s1@company.com",
            ],
            [0, 0],
        ),
        (
            vec!["users", "delete", "--email", "s.one@company.com"],
            [0, 0],
        ),
        (
            vec!["users", "restore", "--email", "s.one@company.com"],
            [0, 0],
        ),
        (vec!["groups", "list"], [0, 0]),
        (
            vec!["groups", "create", "--description", "Secretive"],
            [0, 0],
        ),
        (vec!["groups", "members", "--group", "Secretive"], [0, 0]),
        (
            vec![
                "groups",
                "add-member",
                "--group",
                "Secretive",
                "--email",
                "s.one@company.com",
            ],
            [0, 0],
        ),
        (
            vec![
                "groups",
                "remove-member",
                "--group",
                "Secretive",
                "--email",
                "s.one@company.com",
            ],
            [0, 0],
        ),
        (
            vec![
                "groups",
                "rename",
                "--group",
                "Secretive",
                "--description",
                "Open",
            ],
            [0, 0],
        ),
        (vec!["groups", "delete", "--group", "Open", "--yes"], [0, 0]),
        (
            vec!["groups", "delete", "--group", "Engineering", "--yes"],
            [1, 1],
        ),
        // The second pass finds secret0001 offboarded by the first: on the purge list, it
        // cannot be created again (one item fails: exit 3).
        (vec!["onboard", "--csv", &csv], [0, 3]),
        (
            vec![
                "--plan-out",
                plan.to_str().unwrap(),
                "offboard",
                "--email",
                "secret0000@company.com",
            ],
            [0, 0],
        ),
        (
            vec!["--yes", "offboard", "--email", "secret0001@company.com"],
            [0, 0],
        ),
        (vec!["export", "--with-groups"], [0, 0]),
        (vec!["departments", "Secret/Dept"], [0, 0]),
        (vec!["-e", "users().len()"], [0, 0]),
        (vec!["-e", "create_user(\"bad\")"], [2, 2]),
        (vec!["config", "show"], [0, 0]),
        (vec!["audit"], [0, 0]),
    ]
    .iter()
    .map(|(r, codes)| (r.iter().map(|s| s.to_string()).collect(), *codes))
    .collect();
    let mut seen = String::new();
    for (pass, scheme) in SCHEMES.into_iter().enumerate() {
        for (args, codes) in &runs {
            let out = env
                .mcsh(scheme)
                .env("MCSH_AUDIT_LOG", &audit)
                .arg("-vvv")
                .args(args)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(
                out.status.code(),
                Some(codes[pass]),
                "{scheme:?} {args:?}: {stderr}"
            );
            seen.push_str(&String::from_utf8_lossy(&out.stdout));
            seen.push_str(&stderr);
        }
    }
    // A refused secret of each scheme reaches the sandbox, fails loudly (exit 4), and is
    // never repeated.
    let wrong = [
        (
            Scheme::OAuth,
            "MIMECAST_CLIENT_SECRET",
            "wrong-secret-value",
        ),
        (Scheme::Hmac, "MIMECAST_APP_KEY", "wrong-app-key-value"),
    ];
    for (scheme, var, value) in wrong {
        let before = Stats::get(&env.sandbox.stats.requests);
        let out = env
            .mcsh(scheme)
            .env(var, value)
            .env("MCSH_AUDIT_LOG", &audit)
            .args(["-vvv", "users", "list"])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(4),
            "{scheme:?}: refused credentials"
        );
        assert!(
            Stats::get(&env.sandbox.stats.requests) > before,
            "{scheme:?}: the wrong value was sent and refused"
        );
        seen.push_str(&String::from_utf8_lossy(&out.stdout));
        seen.push_str(&String::from_utf8_lossy(&out.stderr));
        assert!(
            !seen.contains(value),
            "{scheme:?}: the refused value was printed"
        );
    }
    seen.push_str(&std::fs::read_to_string(&audit).unwrap());
    seen.push_str(&std::fs::read_to_string(&plan).unwrap());
    let k = &env.sandbox.keys;
    for secret in [&k.client_secret, &k.secret_key, &k.app_key] {
        assert!(!seen.contains(secret.as_str()), "a secret was printed");
    }
    let tokens = env.sandbox.tokens.all();
    assert!(!tokens.is_empty());
    for t in tokens {
        assert!(!seen.contains(&t), "a bearer token was printed");
    }
    assert!(seen.contains("http: POST"), "the traces were on");
}

#[test]
fn the_sandbox_under_200_concurrent_clients_stays_correct() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("load.db");
    let env = Env::with(Options {
        quota: mcsh::sandbox::Quota::per_second(3000),
        state: db.display().to_string(),
        ..Options::default()
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (base, id, secret) = (
        env.sandbox.base_url.clone(),
        env.sandbox.keys.client_id.clone(),
        env.sandbox.keys.client_secret.clone(),
    );
    let (acked, statuses) = rt.block_on(async move {
        let http = reqwest::Client::new();
        let form = [
            ("client_id", id.as_str()),
            ("client_secret", secret.as_str()),
            ("grant_type", "client_credentials"),
        ];
        let token: Value = http
            .post(format!("{base}/oauth/token"))
            .form(&form)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let bearer = format!("Bearer {}", token["access_token"].as_str().unwrap());
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut tasks = Vec::new();
        for client in 0..200 {
            let (http, base, bearer) = (http.clone(), base.clone(), bearer.clone());
            tasks.push(tokio::spawn(async move {
                let mut acked = Vec::new();
                let mut statuses = Vec::new();
                let mut n = 0;
                while Instant::now() < deadline && n < 200 {
                    n += 1;
                    let (path, body) = if n % 3 == 0 {
                        let email = format!("load{client:03}x{n:03}@company.com");
                        (
                            "/api/user/create-user",
                            serde_json::json!({ "data": [{ "emailAddress": email }] }),
                        )
                    } else {
                        (
                            "/api/directory/find-groups",
                            serde_json::json!({ "data": [] }),
                        )
                    };
                    let resp = http
                        .post(format!("{base}{path}"))
                        .header("authorization", &bearer)
                        .json(&body)
                        .send()
                        .await
                        .unwrap();
                    let status = resp.status().as_u16();
                    let value: Value = resp.json().await.unwrap();
                    if status == 200 && path.ends_with("create-user") {
                        for d in value["data"].as_array().unwrap() {
                            acked.push(d["emailAddress"].as_str().unwrap().to_string());
                        }
                    }
                    if status == 429 {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    statuses.push(status);
                }
                (acked, statuses)
            }));
        }
        let mut acked = BTreeSet::new();
        let mut statuses = Vec::new();
        for t in tasks {
            let (a, s) = t.await.unwrap();
            acked.extend(a);
            statuses.extend(s);
        }
        (acked, statuses)
    });
    assert!(statuses.len() > 1000, "{} requests", statuses.len());
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 429),
        "only answers and honest 429s: {:?}",
        statuses
            .iter()
            .filter(|s| **s != 200 && **s != 429)
            .collect::<Vec<_>>()
    );
    let stored = crate::support::db_emails(&db, "SELECT email FROM users WHERE email LIKE 'load%'");
    assert_eq!(
        stored, acked,
        "the state matches exactly the writes acknowledged"
    );
    drop(env);
    let _ = predicate::str::contains("");
}

#[cfg(target_os = "linux")]
#[test]
fn output_that_cannot_be_written_is_a_failure_that_says_so() {
    // A full disk under standard output: exit 1 (a failure, not bad input), naming it.
    let env = Env::new();
    let script = env.dir.path().join("out.rhai");
    std::fs::write(&script, "write_csv(\"-\", [#{a: 1}]);\n").unwrap();
    for args in [
        vec!["run", script.to_str().unwrap()],
        vec!["users", "list", "-o", "jsonl"],
    ] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let out = mcsh_process(&env.mcsh(Scheme::OAuth))
            .args(&args)
            .stdout(full)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains("cannot write to standard output"),
            "{args:?}: {err}"
        );
    }
}

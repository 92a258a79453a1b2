//! Proof of reliability: fault storms, interruption, secrets, the sandbox under load.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use mcsh::sandbox::{Options, Stats};
use predicates::prelude::*;
use serde_json::Value;

use crate::support::{Env, Scheme, SCHEMES};

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

#[test]
fn a_fault_storm_still_ends_with_exactly_the_asked_state() {
    for seed in [7, 11] {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("storm.db");
        let env = Env::with(Options {
            fail_rate: 0.2,
            seed: Some(seed),
            state: db.display().to_string(),
            ..Options::default()
        });
        let csv = people_csv(&env, "storm.csv", 300, "storm", "Sales;Marketing");
        let out = env
            .mcsh(Scheme::OAuth)
            .args(["--batch-size", "20", "onboard", "--csv", &csv, "-o", "json"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(0), "seed {seed}: {stderr}");
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
        assert!(
            rows.iter().all(|r| r["status"] == "created"),
            "every step created once"
        );

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
            "seed {seed}: {}",
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
    let started = Instant::now();
    while env.sandbox.stats.hits(mcsh::api::paths::CREATE_USER) < 40
        && started.elapsed() < Duration::from_secs(30)
    {
        std::thread::sleep(Duration::from_millis(20));
    }
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
    assert_eq!(distinct.len(), rows.len(), "nothing twice");
}

#[test]
fn ctrl_c_stops_a_workflow_with_130_and_says_what_was_done() {
    let env = Env::with(Options {
        latency: Duration::from_millis(50),
        ..Options::default()
    });
    let csv = people_csv(&env, "int.csv", 400, "int", "Sales");
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("mcsh"))
        .args([
            "--batch-size",
            "5",
            "--concurrency",
            "1",
            "onboard",
            "--csv",
            &csv,
        ])
        .env("MIMECAST_BASE_URL", &env.sandbox.base_url)
        .env("MIMECAST_CLIENT_ID", &env.sandbox.keys.client_id)
        .env("MIMECAST_CLIENT_SECRET", &env.sandbox.keys.client_secret)
        .env("XDG_STATE_HOME", env.dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while env.sandbox.stats.hits(mcsh::api::paths::CREATE_USER) < 5
        && started.elapsed() < Duration::from_secs(30)
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGINT);
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("interrupted after") && stderr.contains("of 400 items"),
        "{stderr}"
    );
}

#[test]
fn no_output_log_audit_line_plan_or_error_holds_a_secret() {
    let env = Env::new();
    let audit = env.dir.path().join("audit.jsonl");
    let plan = env.dir.path().join("plan.json");
    let csv = people_csv(&env, "s.csv", 3, "secret", "Sales");
    let runs: Vec<Vec<String>> = [
        vec!["users", "list"],
        vec!["users", "get", "--email", "alice.anderson@company.com"],
        vec![
            "users",
            "create",
            "--email",
            "s.one@company.com",
            "--name",
            "S One",
        ],
        vec!["users", "create", "--email", "s.one@company.com"],
        vec![
            "users",
            "update",
            "--email",
            "s.one@company.com",
            "--lock",
            "--alias",
            "s1@company.com",
        ],
        vec!["users", "delete", "--email", "s.one@company.com"],
        vec!["users", "restore", "--email", "s.one@company.com"],
        vec!["groups", "list"],
        vec!["groups", "create", "--description", "Secretive"],
        vec!["groups", "members", "--group", "Secretive"],
        vec![
            "groups",
            "add-member",
            "--group",
            "Secretive",
            "--email",
            "s.one@company.com",
        ],
        vec![
            "groups",
            "remove-member",
            "--group",
            "Secretive",
            "--email",
            "s.one@company.com",
        ],
        vec![
            "groups",
            "rename",
            "--group",
            "Secretive",
            "--description",
            "Open",
        ],
        vec!["groups", "delete", "--group", "Open", "--yes"],
        vec!["groups", "delete", "--group", "Engineering", "--yes"],
        vec!["onboard", "--csv", &csv],
        vec![
            "--plan-out",
            plan.to_str().unwrap(),
            "offboard",
            "--email",
            "secret0000@company.com",
        ],
        vec!["--yes", "offboard", "--email", "secret0001@company.com"],
        vec!["export", "--with-groups"],
        vec!["departments", "Secret/Dept"],
        vec!["-e", "users().len()"],
        vec!["-e", "create_user(\"bad\")"],
        vec!["config", "show"],
        vec!["audit"],
    ]
    .iter()
    .map(|r| r.iter().map(|s| s.to_string()).collect())
    .collect();
    let mut seen = String::new();
    for scheme in SCHEMES {
        for args in &runs {
            let out = env
                .mcsh(scheme)
                .env("MCSH_AUDIT_LOG", &audit)
                .arg("-vvv")
                .args(args)
                .output()
                .unwrap();
            assert!(
                !String::from_utf8_lossy(&out.stderr).contains("panicked"),
                "{args:?}"
            );
            seen.push_str(&String::from_utf8_lossy(&out.stdout));
            seen.push_str(&String::from_utf8_lossy(&out.stderr));
        }
        // Wrong credentials fail loudly but never repeat the secret.
        let out = env
            .mcsh(scheme)
            .env("MIMECAST_CLIENT_SECRET", "wrong-secret-value")
            .env("MIMECAST_APP_KEY", "wrong-app-key-value")
            .args(["-vvv", "users", "list"])
            .output()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&out.stderr));
        assert!(!seen.contains("wrong-secret-value") && !seen.contains("wrong-app-key-value"));
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

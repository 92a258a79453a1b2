//! The write executor: batching, partial failure, 429s, dry-run plans, apply, audit, scale.

use mcsh::api::paths;
use mcsh::sandbox::{Options, Stats};
use predicates::prelude::*;
use serde_json::Value;

use crate::support::{Env, Scheme};

fn emails(n: usize, prefix: &str) -> Vec<String> {
    (0..n)
        .map(|i| format!("{prefix}{i:03}@company.com"))
        .collect()
}

fn csv_of(env: &Env, name: &str, people: &[String], groups: &str) -> String {
    let path = env.dir.path().join(name);
    let mut text = String::from("email,name,groups\n");
    for e in people {
        text.push_str(&format!("{e},,{groups}\n"));
    }
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn many_items_travel_in_one_request_per_batch() {
    let env = Env::new();
    let people = emails(50, "batch");
    let mut args: Vec<String> = vec![
        "groups".into(),
        "add-member".into(),
        "--group".into(),
        "Sales".into(),
    ];
    for e in &people {
        args.push("--email".into());
        args.push(e.clone());
    }
    env.mcsh(Scheme::OAuth)
        .args(&args)
        .args(["--batch-size", "100"])
        .assert()
        .success();
    assert_eq!(
        env.sandbox.stats.hits(paths::ADD_GROUP_MEMBER),
        1,
        "50 addresses, one request"
    );
    env.mcsh(Scheme::OAuth)
        .args(&args)
        .args(["--batch-size", "10", "-o", "json"])
        .assert()
        .success();
    assert_eq!(
        env.sandbox.stats.hits(paths::ADD_GROUP_MEMBER),
        1 + 5,
        "then five batches of ten"
    );
}

#[test]
fn a_partial_failure_exits_3_and_lists_each_failure() {
    let env = Env::new();
    let csv = env.dir.path().join("mixed.csv");
    std::fs::write(&csv, "email,name,groups\ngood.one@company.com,,Sales\nouter@elsewhere.org,,Sales\ngood.two@example.com,,Sales\n").unwrap();
    let out = env
        .mcsh(Scheme::OAuth)
        .args(["onboard", "--csv", csv.to_str().unwrap(), "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let failed: Vec<&Value> = rows.iter().filter(|r| r["status"] == "failed").collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["emailAddress"], "outer@elsewhere.org");
    assert!(failed[0]["message"]
        .as_str()
        .unwrap()
        .contains("err_domain_not_internal"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 failed"));
    let members = env.members("Sales");
    assert!(
        members.contains(&"good.one@company.com".to_string())
            && members.contains(&"good.two@example.com".to_string())
    );
}

#[test]
fn a_429_storm_loses_and_duplicates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("t.db");
    let env = Env::with(Options {
        quota: mcsh::sandbox::Quota::per_second(8),
        state: state.display().to_string(),
        ..Options::default()
    });
    // Two runs share the quota, as two admins' jobs share an app's: neither budget knows
    // what the other spends, so the service answers 429s that both must wait out.
    let people = emails(40, "storm");
    let (first, second) = people.split_at(20);
    let csvs = [
        csv_of(&env, "storm1.csv", first, "Sales;Marketing"),
        csv_of(&env, "storm2.csv", second, "Sales;Marketing"),
    ];
    let outputs: Vec<std::process::Output> = std::thread::scope(|scope| {
        let handles: Vec<_> = csvs
            .iter()
            .map(|csv| {
                let mut cmd = env.mcsh(Scheme::OAuth);
                cmd.args([
                    "--concurrency",
                    "16",
                    "--batch-size",
                    "2",
                    "onboard",
                    "--csv",
                    csv,
                ])
                .args(["-o", "json"]);
                scope.spawn(move || cmd.output().unwrap())
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for out in outputs {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(
        Stats::get(&env.sandbox.stats.throttled) > 0,
        "the quota answered 429s"
    );
    let users = crate::support::db_count(
        &state,
        "SELECT COUNT(*) FROM users WHERE email LIKE 'storm%'",
    );
    let members = crate::support::db_count(
        &state,
        "SELECT COUNT(*) FROM members WHERE email LIKE 'storm%'",
    );
    assert_eq!(
        (users, members),
        (40, 80),
        "every user once, every membership once"
    );
}

#[test]
fn dry_run_plans_every_write_and_apply_carries_out_exactly_that() {
    let env = Env::new();
    let people = emails(10, "planned");
    let csv = csv_of(&env, "plan.csv", &people, "Sales;New Team");
    let plan = env.dir.path().join("plan.json");
    let before = env
        .mcsh(Scheme::OAuth)
        .args(["export", "--with-groups"])
        .output()
        .unwrap()
        .stdout;
    env.mcsh(Scheme::OAuth)
        .args([
            "--plan-out",
            plan.to_str().unwrap(),
            "onboard",
            "--csv",
            &csv,
            "--create-groups",
        ])
        .assert()
        .success()
        .stderr(
            predicate::str::contains("31 write(s) planned")
                .and(predicate::str::contains("plan saved")),
        );
    let after = env
        .mcsh(Scheme::OAuth)
        .args(["export", "--with-groups"])
        .output()
        .unwrap()
        .stdout;
    assert_eq!(
        before, after,
        "the dry run left the tenant byte for byte as it was"
    );
    let file: Value = serde_json::from_slice(&std::fs::read(&plan).unwrap()).unwrap();
    let writes = file["writes"].as_array().unwrap();
    assert_eq!(
        writes
            .iter()
            .filter(|w| w["endpoint"] == paths::CREATE_GROUP)
            .count(),
        1
    );
    assert_eq!(
        writes
            .iter()
            .filter(|w| w["endpoint"] == paths::CREATE_USER)
            .count(),
        10
    );
    assert_eq!(
        writes
            .iter()
            .filter(|w| w["endpoint"] == paths::ADD_GROUP_MEMBER)
            .count(),
        20
    );
    for e in &people {
        assert!(
            writes
                .iter()
                .any(|w| w["item"]["emailAddress"] == e.as_str()),
            "{e} is in the plan"
        );
    }
    env.mcsh(Scheme::OAuth)
        .args(["apply", plan.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--yes"));
    env.mcsh(Scheme::OAuth)
        .args(["--yes", "apply", plan.to_str().unwrap()])
        .assert()
        .success();
    assert_eq!(
        env.members("New Team").len(),
        10,
        "the planned group got its real id"
    );
    assert_eq!(
        env.members("Sales")
            .iter()
            .filter(|m| m.starts_with("planned"))
            .count(),
        10
    );
}

#[test]
fn applying_a_stale_plan_is_refused_with_the_differences() {
    let env = Env::new();
    let plan = env.dir.path().join("plan.json");
    env.mcsh(Scheme::OAuth)
        .args([
            "--plan-out",
            plan.to_str().unwrap(),
            "offboard",
            "--email",
            "bob.hughes@company.com",
        ])
        .assert()
        .success();
    env.json(&[
        "groups",
        "add-member",
        "--group",
        "Finance",
        "--email",
        "bob.hughes@company.com",
    ]);
    env.mcsh(Scheme::OAuth)
        .args(["--yes", "apply", plan.to_str().unwrap()])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("the directory changed since")
                .and(predicate::str::contains("the members of group Finance")),
        );
    assert!(
        env.user_emails()
            .contains(&"bob.hughes@company.com".to_string()),
        "nothing was applied"
    );
    let garbage = env.dir.path().join("garbage.json");
    std::fs::write(&garbage, "{\"not\": \"a plan\"}").unwrap();
    env.mcsh(Scheme::OAuth)
        .args(["apply", garbage.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is not an mcsh plan"));
}

#[test]
fn the_audit_log_has_one_line_per_write_and_no_secret() {
    let env = Env::new();
    let log = env.dir.path().join("audit.jsonl");
    let people = emails(5, "audited");
    let csv = csv_of(&env, "a.csv", &people, "Sales");
    env.mcsh(Scheme::OAuth)
        .env("MCSH_AUDIT_LOG", &log)
        .args(["-vvv", "onboard", "--csv", &csv])
        .assert()
        .success();
    env.mcsh(Scheme::Hmac)
        .env("MCSH_AUDIT_LOG", &log)
        .args([
            "--dry-run",
            "users",
            "delete",
            "--email",
            "bob.hughes@company.com",
        ])
        .assert()
        .success();
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines.len(),
        5 + 5 + 1,
        "five creations, five memberships, one planned deletion"
    );
    assert!(lines[..10].iter().all(
        |l| l["requestId"].as_str().is_some_and(|r| r.len() == 36) && l["outcome"] == "created"
    ));
    assert_eq!(lines[10]["dryRun"], true);
    assert_eq!(lines[10]["outcome"], "planned");
    let k = &env.sandbox.keys;
    for secret in [&k.client_secret, &k.secret_key, &k.app_key] {
        assert!(
            !text.contains(secret.as_str()),
            "the audit log holds a secret"
        );
    }
    let shown = env
        .mcsh(Scheme::OAuth)
        .env("MCSH_AUDIT_LOG", &log)
        .args(["audit", "--since", "1h", "--last", "3", "-o", "json"])
        .output()
        .unwrap();
    let shown: Vec<Value> = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(shown.len(), 3);
    env.bare()
        .env("MCSH_AUDIT_LOG", &log)
        .args(["audit", "--since", "soon"])
        .assert()
        .code(2);
}

#[test]
fn the_sandbox_generates_a_large_tenant_on_request() {
    let env = Env::with(Options {
        generate_users: 3000,
        generate_groups: 40,
        ..Options::default()
    });
    assert_eq!(env.user_emails().len(), 3062);
    let groups = env.json(&["groups", "list", "--query", "Generated"]);
    assert_eq!(groups.as_array().unwrap().len(), 40);
    assert!(groups
        .as_array()
        .unwrap()
        .iter()
        .all(|g| g["userCount"].as_u64().unwrap() > 0));
}

#[test]
fn the_repl_shows_the_rate_budget() {
    let env = Env::new();
    env.mcsh(Scheme::OAuth)
        .arg("repl")
        .write_stdin(":status\ngroups().len()\n:status\n")
        .assert()
        .success()
        .stdout(
            predicate::str::contains("not connected yet")
                .and(predicate::str::contains("rate budget: "))
                .and(predicate::str::contains("requests left")),
        );
}

//! `mcsh sync`: the directory made to match a feed; twice changes nothing; the safety limit;
//! bad feeds refused whole; `sync_feed()` in scripts.

use serde_json::Value;

use crate::support::{Env, Scheme};

fn run(env: &Env, args: &[&str]) -> (i32, Vec<Value>, String) {
    let out = env
        .mcsh(Scheme::OAuth)
        .args(args)
        .args(["-o", "json"])
        .output()
        .unwrap();
    let rows = serde_json::from_slice::<Value>(&out.stdout)
        .ok()
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default();
    (
        out.status.code().expect("ended by a signal"),
        rows,
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

fn feed(env: &Env, name: &str, body: &str) -> String {
    let p = env.dir.path().join(name);
    std::fs::write(&p, body).unwrap();
    p.display().to_string()
}

#[test]
fn a_feed_is_applied_and_a_second_run_changes_nothing() {
    let env = Env::new();
    let finance = env.members("Finance");
    assert!(finance.len() > 5);
    let keep = &finance[..3];
    let mut body = String::from("email,name,groups\n");
    for e in keep {
        body.push_str(&format!("{e},,Finance\n"));
    }
    body.push_str("new.hire@company.com,New Hire,Finance;Sales\n");
    body.push_str("bob.hughes@company.com,Robert Hughes,Sales\n");
    let file = feed(&env, "hr.csv", &body);
    let args = [
        "sync",
        "--csv",
        &file,
        "--manage",
        "Finance",
        "--max-removals",
        "20",
        "--yes",
    ];

    let (code, planned, err) = run(&env, &[&args[..], &["--dry-run"]].concat());
    assert_eq!(code, 0, "{err}");
    assert_eq!(env.members("Finance"), finance, "a dry run changes nothing");
    let removals = finance.len() - keep.len();
    assert!(
        err.contains(&format!(
            "sync plan: 0 group(s) to create, 1 user(s) to create, 1 name(s) to fix, 2 membership(s) to add, {removals} to remove, 0 user(s) to offboard ({removals} removals of at most 20)"
        )),
        "{err}"
    );
    // The limit holds at exactly the plan's removals and refuses one fewer.
    for (limit, expected) in [(removals, 0), (removals - 1, 2)] {
        let limit = limit.to_string();
        let (code, _, err) = run(
            &env,
            &[
                "sync",
                "--csv",
                &file,
                "--manage",
                "Finance",
                "--max-removals",
                &limit,
                "--yes",
                "--dry-run",
            ],
        );
        assert_eq!(code, expected, "--max-removals {limit}: {err}");
        if expected == 2 {
            assert!(err.contains(&format!("over the limit of {limit}")), "{err}");
        }
    }

    let (code, rows, err) = run(&env, &args);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        rows.len(),
        planned.len(),
        "the dry run planned what the run did"
    );
    let mut expected: Vec<String> = keep.to_vec();
    expected.push("new.hire@company.com".into());
    expected.sort();
    assert_eq!(
        env.members("Finance"),
        expected,
        "Finance holds exactly the feed's people"
    );
    assert!(env
        .members("Sales")
        .contains(&"new.hire@company.com".to_string()));
    let bob = env.json(&["users", "get", "--email", "bob.hughes@company.com"]);
    assert_eq!(bob["name"], "Robert Hughes");
    assert!(
        env.members("Sales")
            .contains(&"bob.hughes@company.com".to_string()),
        "unmanaged groups lose no one"
    );

    let (code, rows, err) = run(&env, &args);
    assert_eq!(code, 0, "{err}");
    assert!(rows.is_empty(), "{rows:?}");
    assert!(err.contains("nothing to do"), "{err}");
}

#[test]
fn a_truncated_feed_stops_at_the_removal_limit_before_any_write() {
    let env = Env::new();
    let file = feed(
        &env,
        "short.csv",
        "email,name,groups\nbob.hughes@company.com,Bob Hughes,Sales\n",
    );
    let users_before = env.user_emails();
    let (code, _, err) = run(
        &env,
        &[
            "sync",
            "--csv",
            &file,
            "--offboard-missing",
            "company.com",
            "--yes",
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("over the limit in domain company.com"),
        "{err}"
    );
    assert!(err.contains("nothing was written"), "{err}");
    assert_eq!(env.user_emails(), users_before);
    // Raised explicitly, it goes through.
    let (code, _, err) = run(
        &env,
        &[
            "sync",
            "--csv",
            &file,
            "--offboard-missing",
            "example.com",
            "--max-removals",
            "100",
            "--yes",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let left: Vec<String> = env
        .user_emails()
        .into_iter()
        .filter(|e| e.ends_with("@example.com"))
        .collect();
    assert_eq!(
        left,
        [
            "aaron.jensen@example.com",
            "beatriz.quispe@example.com",
            "zoe.costa@example.com"
        ],
        "every example.com user left but the three the directory syncs"
    );
}

#[test]
fn bad_feeds_are_refused_whole() {
    let env = Env::new();
    for (body, says) in [
        ("email,name\nx@company.com,X\n", "missing column(s) groups"),
        ("email,name,groups\nnot-an-address,X,Sales\n", "line 2"),
        (
            "email,name,groups\na@company.com,A,Sales\nA@company.com,A,Sales\n",
            "line 3",
        ),
        (
            "email,name,groups\na@company.com,A,Enginering\n",
            "did you mean Engineering?",
        ),
    ] {
        let file = feed(&env, "bad.csv", body);
        let (code, _, err) = run(&env, &["sync", "--csv", &file, "--yes"]);
        assert_eq!(code, 2, "{body}: {err}");
        assert!(err.contains(says), "{body}: {err}");
    }
    assert!(!env.user_emails().contains(&"a@company.com".to_string()));
}

#[test]
fn scripts_sync_with_the_same_plan_and_limit() {
    let env = Env::new();
    let script = r#"
let rows = sync_feed([#{ email: "scripted@company.com", name: "S", groups: "Sales;Support" }], #{});
if rows.len() != 3 { throw `first: ${rows}`; }
let again = sync_feed([#{ email: "scripted@company.com", name: "S", groups: ["Sales", "Support"] }], #{});
if again.len() != 0 { throw `again: ${again}`; }
let refused = false;
try { sync_feed([], #{ offboard_missing: ["company.com"] }); } catch (e) { refused = e.message.contains("over the limit"); }
if !refused { throw "no limit"; }
print("sync ok");
"#;
    env.mcsh(Scheme::OAuth)
        .args(["-e", script])
        .assert()
        .success()
        .stdout("sync ok\n");
}

#[test]
fn aliases_foreign_addresses_and_synced_groups_are_refused_before_any_write() {
    let env = Env::new();
    let users_before = env.user_emails();
    for (body, extra, says) in [
        (
            "email,name,groups\nalice@company.com,Alice,Sales\n",
            vec!["--offboard-missing", "company.com", "--max-removals", "100"],
            "alias address(es), not mailboxes: alice@company.com; list each person by their mailbox (`mcsh users get --email alice@company.com` shows whose the first is)",
        ),
        (
            "email,name,groups\nsomeone@gmail.com,S,Sales\n",
            vec![],
            "outside the account's internal domains: someone@gmail.com",
        ),
        (
            "email,name,groups\n",
            vec!["--manage", "Directory Staff"],
            "managed by directory sync",
        ),
    ] {
        let file = feed(&env, "f.csv", body);
        let mut args = vec!["sync", "--csv", file.as_str(), "--yes"];
        args.extend(extra);
        let (code, _, err) = run(&env, &args);
        assert_ne!(code, 0, "{body}: {err}");
        assert!(err.contains(says), "{body}: {err}");
    }
    assert_eq!(env.user_emails(), users_before, "nothing was written");
    // A feed that only mentions a synced group it changes nothing in is fine.
    let members = env.members("Directory Staff");
    let body = format!("email,name,groups\n{},,Directory Staff\n", members[0]);
    let file = feed(&env, "ok.csv", &body);
    let (code, _, err) = run(&env, &["sync", "--csv", &file, "--yes"]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn an_export_reads_back_as_a_feed_that_changes_nothing() {
    let env = Env::new();
    // Two groups of one name under different parents: the export tells them apart by path.
    env.json(&["departments", "Sales/Platform"]);
    env.json(&[
        "groups",
        "add-member",
        "--group",
        "Sales/Platform",
        "--email",
        "alice.anderson@company.com",
    ]);
    let out = env
        .mcsh(Scheme::OAuth)
        .args(["export", "--with-groups", "--format", "csv"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    let alice = text
        .lines()
        .find(|l| l.starts_with("alice.anderson@company.com,"))
        .unwrap();
    assert!(
        alice.contains("Engineering/Platform") && alice.contains("Sales/Platform"),
        "{alice}"
    );
    let file = env.dir.path().join("export.csv");
    std::fs::write(&file, &out.stdout).unwrap();
    let (code, rows, err) = run(&env, &["sync", "--csv", file.to_str().unwrap(), "--yes"]);
    assert_eq!(code, 0, "{err}");
    assert!(rows.is_empty(), "{rows:?}");
    assert!(err.contains("nothing to do"), "{err}");
}

#[test]
fn a_synced_users_name_is_left_alone_with_a_warning_not_sent() {
    let env = Env::new();
    let path = feed(
        &env,
        "synced.csv",
        "email,name,groups\nzoe.costa@example.com,Zoe Renamed,\n",
    );
    let (code, rows, err) = run(&env, &["sync", "--csv", &path, "--yes"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("nothing to do"), "nothing was sent: {err}");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["status"], "unchanged");
    assert_eq!(rows[0]["step"], "name");
    assert_eq!(
        rows[0]["message"],
        "left alone: the feed names it \"Zoe Renamed\", the directory \"Zoe Costa\"; it is managed by directory sync, so change the name there"
    );
    let user = env.json(&["users", "get", "--email", "zoe.costa@example.com"]);
    assert_eq!(user["name"], "Zoe Costa");
    // A script's sync_feed reports the same row.
    let (code, _, err) = run(
        &env,
        &[
            "-e",
            &format!("let r = sync_feed(read_people({path:?}, [\"email\", \"name\", \"groups\"]), #{{}}); if r.len() != 1 || r[0].status != \"unchanged\" {{ throw r }}"),
        ],
    );
    assert_eq!(code, 0, "{err}");
}

#[test]
fn a_person_whose_account_could_not_be_made_gets_no_memberships() {
    let env = Env::new();
    // Queued for deletion: the listing leaves it out, so the feed plans to create it, and
    // the service refuses the create.
    let out = env
        .mcsh(Scheme::OAuth)
        .args([
            "users",
            "delete",
            "--email",
            "bob.hughes@company.com",
            "--yes",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(!env
        .members("Finance")
        .contains(&"bob.hughes@company.com".to_string()));
    let path = feed(
        &env,
        "hires.csv",
        "email,name,groups\nbob.hughes@company.com,Bob Hughes,Finance\nnew.one@company.com,New One,Finance\n",
    );
    let (code, rows, err) = run(&env, &["sync", "--csv", &path, "--yes"]);
    assert_eq!(code, 3, "{err}");
    let steps: Vec<(String, String, String)> = rows
        .iter()
        .map(|r| {
            (
                r["emailAddress"].as_str().unwrap().to_string(),
                r["step"].as_str().unwrap().to_string(),
                r["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let step = |e: &str, s: &str, st: &str| (e.to_string(), s.to_string(), st.to_string());
    assert!(
        steps.contains(&step("bob.hughes@company.com", "user", "failed")),
        "{rows:?}"
    );
    assert!(
        steps.contains(&step("bob.hughes@company.com", "group Finance", "failed")),
        "{rows:?}"
    );
    assert!(
        steps.contains(&step("new.one@company.com", "group Finance", "created")),
        "{rows:?}"
    );
    let bob_user = rows
        .iter()
        .find(|r| r["emailAddress"] == "bob.hughes@company.com" && r["step"] == "user")
        .unwrap();
    assert_eq!(
        bob_user["message"],
        "bob.hughes@company.com is queued for deletion: `mcsh users restore --email bob.hughes@company.com` takes it off the purge list, then sync again"
    );
    let bob_group = rows
        .iter()
        .find(|r| r["emailAddress"] == "bob.hughes@company.com" && r["step"] == "group Finance")
        .unwrap();
    assert!(
        bob_group["message"]
            .as_str()
            .unwrap()
            .starts_with("not added: the account could not be created"),
        "{bob_group}"
    );
    let finance = env.members("Finance");
    assert!(
        finance.contains(&"new.one@company.com".to_string()),
        "{finance:?}"
    );
    assert!(
        !finance.contains(&"bob.hughes@company.com".to_string()),
        "{finance:?}"
    );
}

#[test]
fn a_feed_whose_names_slipped_by_a_row_is_refused_at_the_rename_limit() {
    let env = Env::new();
    let emails: Vec<String> = env
        .user_emails()
        .into_iter()
        .filter(|e| e.ends_with("@company.com"))
        .take(8)
        .collect();
    assert_eq!(emails.len(), 8);
    // Each row carries the next row's name: eight renames, over the default of 5.
    let mut body = String::from("email,name,groups\n");
    for (i, e) in emails.iter().enumerate() {
        body.push_str(&format!("{e},Slipped Name {},\n", i + 1));
    }
    let file = feed(&env, "slipped.csv", &body);
    let names_before = env.json(&["users", "list", "--domain", "company.com"]);
    let (code, _, err) = run(&env, &["sync", "--csv", &file, "--yes"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("the feed would rename 8 user(s), over the limit of 5 (the default is 10 % of the users in the feed's domains, at least 5); nothing was written"),
        "{err}"
    );
    assert_eq!(
        env.json(&["users", "list", "--domain", "company.com"]),
        names_before,
        "nothing was renamed"
    );
    // Raised on purpose, it goes ahead.
    let (code, rows, err) = run(
        &env,
        &["sync", "--csv", &file, "--yes", "--max-renames", "8"],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(rows.len(), 8, "{rows:?}");
}

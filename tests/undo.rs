//! `mcsh undo`: a run taken back from its audit lines; twice finds nothing; bad ids exit 2.

use serde_json::Value;

use crate::support::{run, run_id, Env};

fn groups_of(env: &Env, email: &str) -> Vec<String> {
    let rows = env.json(&["users", "groups", "--email", email, "--direct"]);
    let mut v: Vec<String> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["group"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn undoing_an_offboarding_restores_the_person_and_every_membership() {
    let env = Env::new();
    let who = "farid.murphy@company.com";
    let before = groups_of(&env, who);
    assert_eq!(before, ["All Staff", "Engineering"]);
    let (code, _, err) = run(&env, &["offboard", "--email", who, "--yes"]);
    assert_eq!(code, 0, "{err}");
    let id = run_id(&err);
    assert!(!env.user_emails().contains(&who.to_string()));

    // A dry run changes nothing and says what it would do.
    let (code, _, err) = run(&env, &["undo", &id, "--dry-run"]);
    assert_eq!(code, 0, "{err}");
    assert!(!env.user_emails().contains(&who.to_string()));

    let (code, out, err) = run(&env, &["undo", &id, "--yes", "-o", "json"]);
    assert_eq!(code, 0, "{err}");
    let rows: Value = serde_json::from_str(&out).unwrap();
    let changes: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["change"].as_str().unwrap())
        .collect();
    assert_eq!(
        changes,
        [
            "restore farid.murphy@company.com",
            "update user farid.murphy@company.com: unlock",
            "add farid.murphy@company.com to Engineering",
            "add farid.murphy@company.com to All Staff",
        ]
    );
    assert!(env.user_emails().contains(&who.to_string()));
    assert_eq!(groups_of(&env, who), before);

    let (code, _, err) = run(&env, &["undo", &id, "--yes"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("was undone already by run"), "{err}");
}

#[test]
fn undoing_an_onboarding_queues_the_new_user_and_leaves_later_changes_alone() {
    let env = Env::new();
    let (code, _, err) = run(
        &env,
        &[
            "onboard",
            "--email",
            "new.one@company.com",
            "--name",
            "New One",
            "--group",
            "Sales",
            "--group",
            "Support",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let id = run_id(&err);
    // Someone else takes new.one out of Support afterwards: that change is left alone.
    let (code, _, _) = run(
        &env,
        &[
            "groups",
            "remove-member",
            "--group",
            "Support",
            "--email",
            "new.one@company.com",
        ],
    );
    assert_eq!(code, 0);
    let (code, out, err) = run(&env, &["undo", &id, "--yes", "-o", "json"]);
    assert_eq!(code, 0, "{err}");
    let rows: Value = serde_json::from_str(&out).unwrap();
    let skipped: Vec<&Value> = rows
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "skipped")
        .collect();
    assert_eq!(skipped.len(), 1, "{rows}");
    assert_eq!(skipped[0]["change"], "add new.one@company.com to Support");
    assert!(!env
        .members("Sales")
        .contains(&"new.one@company.com".to_string()));
    assert!(
        !env.user_emails()
            .contains(&"new.one@company.com".to_string()),
        "the created user is queued for deletion"
    );
}

#[test]
fn unknown_runs_and_runs_with_nothing_done_exit_2() {
    let env = Env::new();
    let (code, _, err) = run(&env, &["undo", "20990101-000000-dead"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("no run 20990101-000000-dead in the audit log"),
        "{err}"
    );
    let (code, _, err) = run(&env, &["undo", "--last"]);
    assert_eq!(code, 2);
    assert!(err.contains("no run with changes left to undo"), "{err}");
    // A run whose only item changed nothing.
    let (code, _, err) = run(
        &env,
        &[
            "groups",
            "add-member",
            "--group",
            "Sales",
            "--email",
            "bob.hughes@company.com",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let lines = env.json(&["audit"]);
    let id = lines[0]["run"].as_str().unwrap().to_string();
    let (code, _, err) = run(&env, &["undo", &id]);
    assert_eq!(code, 2);
    assert!(err.contains("changed nothing"), "{err}");
}

#[test]
fn a_dry_run_undo_undoes_nothing_and_a_rename_and_lock_go_back() {
    let env = Env::new();
    let (code, _, err) = run(
        &env,
        &[
            "users",
            "update",
            "--email",
            "bob.hughes@company.com",
            "--name",
            "Bobby",
            "--lock",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let id = run_id(&err);
    let (code, _, err) = run(&env, &["undo", &id, "--dry-run"]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run(&env, &["undo", "--last", "--yes", "-o", "json"]);
    assert_eq!(code, 0, "a dry run did not take the run back: {err}");
    let rows: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        rows[0]["change"], "update user bob.hughes@company.com: name \"Bob Hughes\", unlock",
        "the command read the old name, so it goes back with the lock: {rows}"
    );
    let user = env.json(&["users", "get", "--email", "bob.hughes@company.com"]);
    assert_eq!(user["name"], "Bob Hughes", "{user}");
}

#[test]
fn a_lock_goes_back_even_when_the_old_name_was_never_read() {
    let env = Env::new();
    let (code, _, err) = run(
        &env,
        &[
            "-e",
            r#"update_user("bob.hughes@company.com", #{ name: "Bobby", accountLocked: true })"#,
        ],
    );
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run(&env, &["undo", "--last", "--yes", "-o", "json"]);
    assert_eq!(code, 0, "{err}");
    let rows: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        rows[0]["change"], "update user bob.hughes@company.com: unlock",
        "the lock goes back even though the script never read the old name: {rows}"
    );
}

#[test]
fn a_rename_carried_out_from_a_plan_goes_back_too() {
    let env = Env::new();
    let plan = env.dir.path().join("rename.json");
    let (code, _, err) = run(
        &env,
        &[
            "users",
            "update",
            "--email",
            "bob.hughes@company.com",
            "--name",
            "Bobby",
            "--plan-out",
            plan.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(&env, &["apply", plan.to_str().unwrap(), "--yes"]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run(&env, &["undo", "--last", "--yes", "-o", "json"]);
    assert_eq!(code, 0, "{err}");
    let rows: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        rows[0]["change"], "update user bob.hughes@company.com: name \"Bob Hughes\"",
        "{rows}"
    );
    let user = env.json(&["users", "get", "--email", "bob.hughes@company.com"]);
    assert_eq!(user["name"], "Bob Hughes", "{user}");
}

#[test]
fn undo_leaves_alone_a_rename_made_since_outside_mcsh_and_a_lock_the_account_already_had() {
    let env = Env::new();
    let (code, _, err) = run(
        &env,
        &[
            "users",
            "update",
            "--email",
            "bob.hughes@company.com",
            "--name",
            "P1",
        ],
    );
    assert_eq!(code, 0, "{err}");
    // Renamed again by hand, outside mcsh: not in the audit log.
    env.api_write(
        mcsh::api::paths::UPDATE_USER,
        serde_json::json!({ "emailAddress": "bob.hughes@company.com", "name": "P2" }),
    );
    let (code, _, err) = run(&env, &["undo", "--last", "--yes"]);
    assert_eq!(code, 2, "nothing left to undo: {err}");
    assert!(
        err.contains("renamed since outside this run (now \"P2\", not \"P1\"): left alone"),
        "{err}"
    );
    let bob = env.json(&["users", "get", "--email", "bob.hughes@company.com"]);
    assert_eq!(bob["name"], "P2", "the outside rename stands");

    // Locked twice: undoing the second run does not unlock what the first had locked.
    for _ in 0..2 {
        let (code, _, err) = run(
            &env,
            &[
                "users",
                "update",
                "--email",
                "emma.fischer@company.com",
                "--lock",
            ],
        );
        assert_eq!(code, 0, "{err}");
    }
    let (code, _, err) = run(&env, &["undo", "--last", "--yes"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("it was locked already before this run (run "),
        "{err}"
    );
}

#[test]
fn undoing_a_group_rename_names_the_group_as_the_run_left_it() {
    let env = Env::new();
    let (code, _, err) = run(
        &env,
        &[
            "groups",
            "rename",
            "--group",
            "Sales",
            "--description",
            "Sales EU",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let id = run_id(&err);
    let (code, out, err) = run(&env, &["undo", &id, "--yes", "-o", "json"]);
    assert_eq!(code, 0, "{err}");
    let rows: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(rows[0]["change"], "rename Sales EU to Sales", "{rows}");
    assert_eq!(rows[0]["status"], "updated", "{rows}");
    assert!(
        err.contains("rename Sales to Sales EU  →  rename Sales EU to Sales"),
        "{err}"
    );
    let names = env.json(&["groups", "list"]);
    let names: Vec<&str> = names
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["description"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"Sales") && !names.contains(&"Sales EU"),
        "{names:?}"
    );
}

/// An undo that would give a group back a name holding a control character (one another tool
/// gave it, which mcsh refuses to write) refuses before it sends anything, so its "nothing was
/// sent" is so: the run's other changes are all still in place, none half taken back.
#[test]
fn an_undo_refused_for_a_name_with_a_control_character_sends_nothing() {
    let env = Env::new();
    env.create_group_raw("Evil\nGroup");
    let script = env.dir.path().join("s.rhai");
    std::fs::write(
        &script,
        "add_member(\"Evil\\nGroup\", \"bob.hughes@company.com\");\n\
         rename_group(\"Evil\\nGroup\", \"Evil renamed\");\n\
         rename_group(\"Evil renamed\", \"Second\");\n",
    )
    .unwrap();
    let (code, _, stderr) = run(&env, &["run", script.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let id = run_id(&stderr);
    let (code, _, stderr) = run(&env, &["undo", &id, "--yes"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("nothing was sent"), "{stderr}");
    assert_eq!(
        env.members("Second"),
        ["bob.hughes@company.com"],
        "{stderr}"
    );
    let names = env.group_names();
    assert!(names.contains(&"Second".to_string()), "{names:?}");
    assert!(!names.iter().any(|n| n == "Evil renamed"), "{names:?}");
}

//! A dry run reports what the real run does, item by item, on a fresh tenant and on a re-run;
//! a plan holds only writes that change something.

use std::io::Write;

use serde_json::Value;

use crate::support::{Env, Scheme};

/// What a command printed and how it ended.
struct Run {
    code: i32,
    rows: Vec<Value>,
    error: String,
}

fn run(env: &Env, args: &[&str], dry: bool) -> Run {
    let mut cmd = env.mcsh(Scheme::OAuth);
    cmd.args(args).args(["-o", "json"]);
    if dry {
        cmd.arg("--dry-run");
    }
    let out = cmd.output().unwrap();
    let code = out.status.code().expect("ended by a signal");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let rows = match serde_json::from_str::<Value>(&stdout) {
        Ok(Value::Array(a)) => a,
        Ok(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    let error = stderr
        .lines()
        .find(|l| l.starts_with("error:"))
        .map(|l| {
            // The service's code, not its words: a prediction names the code it would get.
            l.split_whitespace()
                .find(|w| w.starts_with("err_"))
                .unwrap_or(l)
                .trim_end_matches(':')
                .to_string()
        })
        .unwrap_or_default();
    Run { code, rows, error }
}

/// A row as both runs must agree on it: a change is a change (planned there, created,
/// updated or removed here); unchanged and failed rows agree in their words too. Ids are
/// left out (a planned group has none yet).
fn normalized(row: &Value) -> Value {
    let mut row = row.clone();
    let Some(map) = row.as_object_mut() else {
        return row;
    };
    map.remove("id");
    let status = map
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if ["planned", "created", "updated", "removed", "unverified"].contains(&status.as_str()) {
        map.insert("status".into(), "a change".into());
        map.remove("message");
    }
    if map.get("status").is_none() {
        // A single record (users create, groups create): what it names is what matters.
        map.retain(|k, _| k == "emailAddress" || k == "description");
    }
    row
}

fn assert_agree(case: &str, round: &str, dry: &Run, real: &Run) {
    assert_eq!(
        dry.code, real.code,
        "{case}, {round}: the dry run's exit code differs from the real run's"
    );
    assert_eq!(
        dry.error, real.error,
        "{case}, {round}: the dry run's error differs from the real run's"
    );
    let d: Vec<Value> = dry.rows.iter().map(normalized).collect();
    let r: Vec<Value> = real.rows.iter().map(normalized).collect();
    assert_eq!(
        d, r,
        "{case}, {round}: the dry run's rows differ from the real run's"
    );
}

/// Runs `args` dry then for real, twice, on a fresh demo tenant; both rounds must agree.
fn check(case: &str, args: &[&str]) -> Env {
    let env = Env::new();
    for round in ["a fresh tenant", "a re-run"] {
        let dry = run(&env, args, true);
        let real = run(&env, args, false);
        assert!(
            !real.rows.is_empty() || real.code != 0,
            "{case}, {round}: the real run printed nothing to compare"
        );
        assert_agree(case, round, &dry, &real);
    }
    env
}

#[test]
fn onboarding_one_person() {
    check(
        "onboard",
        &[
            "onboard",
            "--email",
            "jane.doe@company.com",
            "--name",
            "Jane Doe",
            "--group",
            "Engineering",
            "--group",
            "All Staff",
        ],
    );
}

#[test]
fn onboarding_from_a_csv() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("people.csv");
    let mut f = std::fs::File::create(&csv).unwrap();
    writeln!(f, "email,name,groups").unwrap();
    writeln!(f, "new.one@company.com,New One,Sales;Engineering/Platform").unwrap();
    writeln!(f, "bob.hughes@company.com,Robert Hughes,Sales;Support").unwrap();
    drop(f);
    check(
        "onboard --csv",
        &["onboard", "--csv", csv.to_str().unwrap()],
    );
}

#[test]
fn adding_members() {
    check(
        "groups add-member",
        &[
            "groups",
            "add-member",
            "--group",
            "Sales",
            "--email",
            "bob.hughes@company.com",
            "--email",
            "partner@outside.org",
            "--email",
            "alice.anderson@company.com",
        ],
    );
}

#[test]
fn removing_members() {
    check(
        "groups remove-member",
        &[
            "groups",
            "remove-member",
            "--group",
            "Engineering",
            "--email",
            "alice.anderson@company.com",
            "--email",
            "bob.hughes@company.com",
        ],
    );
}

#[test]
fn offboarding() {
    check(
        "offboard",
        &["offboard", "--email", "farid.murphy@company.com", "--yes"],
    );
    check(
        "offboard --keep-account",
        &[
            "offboard",
            "--email",
            "kofi.brown@company.com",
            "--keep-account",
            "--yes",
        ],
    );
}

#[test]
fn departments() {
    check(
        "departments",
        &["departments", "Engineering/Platform/Tools", "Ops", "Sales"],
    );
}

#[test]
fn creating_a_user_and_a_group() {
    check(
        "users create",
        &[
            "users",
            "create",
            "--email",
            "new.person@company.com",
            "--name",
            "New Person",
        ],
    );
    check(
        "users create outside the domains",
        &["users", "create", "--email", "someone@outside.org"],
    );
    check(
        "groups create",
        &["groups", "create", "--description", "Ops"],
    );
}

#[test]
fn a_plan_holds_no_writes_that_change_nothing() {
    let env = Env::new();
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.json");
    let out = env
        .mcsh(Scheme::OAuth)
        .args([
            "groups",
            "add-member",
            "--group",
            "Sales",
            "--email",
            "bob.hughes@company.com",
            "--email",
            "partner@outside.org",
            "--plan-out",
        ])
        .arg(&plan)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let saved: Value = serde_json::from_slice(&std::fs::read(&plan).unwrap()).unwrap();
    let writes: Vec<&str> = saved["writes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["item"]["emailAddress"].as_str().unwrap())
        .collect();
    assert_eq!(
        writes,
        ["partner@outside.org"],
        "bob.hughes is already in Sales: no write for him"
    );
    assert!(
        saved["reads"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["kind"] == "members" && r["label"] == "the members of group Sales"),
        "the plan rests on the members it read: {saved}"
    );
}

#[test]
fn the_same_membership_twice_is_added_once_and_reported_so() {
    let env = check(
        "onboard into one group named twice",
        &[
            "onboard",
            "--email",
            "dup1@company.com",
            "--name",
            "D",
            "--group",
            "Sales",
            "--group",
            "sales",
        ],
    );
    assert!(env
        .members("Sales")
        .contains(&"dup1@company.com".to_string()));
    let env = Env::new();
    let real = run(
        &env,
        &[
            "onboard",
            "--email",
            "dup2@company.com",
            "--group",
            "Sales",
            "--group",
            "sales",
        ],
        false,
    );
    let statuses: Vec<&str> = real
        .rows
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["created", "created", "unchanged"],
        "{:?}",
        real.rows
    );
}

#[test]
fn refusals_the_service_would_make_are_told_by_the_dry_run_too() {
    for (case, args) in [
        (
            "update of an unknown user",
            vec![
                "users",
                "update",
                "--email",
                "nobody@company.com",
                "--name",
                "X",
            ],
        ),
        (
            "delete of an unknown user",
            vec!["users", "delete", "--email", "nobody@company.com", "--yes"],
        ),
        (
            "restore of an active user",
            vec!["users", "restore", "--email", "bob.hughes@company.com"],
        ),
        (
            "delete of a group with members",
            vec!["groups", "delete", "--group", "Finance", "--yes"],
        ),
        (
            "rename onto a sibling's name",
            vec![
                "groups",
                "rename",
                "--group",
                "Finance",
                "--description",
                "Sales",
            ],
        ),
    ] {
        let env = Env::new();
        let dry = run(&env, &args, true);
        let real = run(&env, &args, false);
        assert_eq!(real.code, 1, "{case}: the service refuses it");
        assert_agree(case, "a fresh tenant", &dry, &real);
    }
}

#[test]
fn a_rename_to_its_own_name_plans_nothing_and_to_a_siblings_is_refused_as_the_real_run_is() {
    let env = Env::new();
    let same = env
        .mcsh(Scheme::OAuth)
        .args([
            "--dry-run",
            "groups",
            "rename",
            "--group",
            "Sales",
            "--description",
            "Sales",
        ])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&same.stderr);
    assert_eq!(same.status.code(), Some(0), "{said}");
    assert!(said.contains("0 write(s) planned"), "{said}");
    let dry = run(
        &env,
        &[
            "groups",
            "rename",
            "--group",
            "Marketing",
            "--description",
            "sales",
        ],
        true,
    );
    let real = run(
        &env,
        &[
            "groups",
            "rename",
            "--group",
            "Marketing",
            "--description",
            "sales",
        ],
        false,
    );
    assert_eq!(dry.code, real.code, "{} / {}", dry.error, real.error);
    assert_ne!(real.code, 0);
    assert!(
        dry.error.contains("err_folder_already_exists"),
        "{}",
        dry.error
    );
    assert!(
        real.error.contains("err_folder_already_exists"),
        "{}",
        real.error
    );
}

#[test]
fn a_plan_to_delete_a_group_names_the_group_when_its_members_changed_since() {
    let env = Env::new();
    let ok = |args: &[&str]| {
        let out = env.mcsh(Scheme::OAuth).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    ok(&["groups", "create", "--description", "Scratch"]);
    let plan = env.dir.path().join("p.json");
    ok(&[
        "--plan-out",
        plan.to_str().unwrap(),
        "-e",
        "delete_group(\"Scratch\"); print(\"planned\");",
    ]);
    ok(&[
        "groups",
        "add-member",
        "--group",
        "Scratch",
        "--email",
        "alice.anderson@company.com",
    ]);
    let out = env
        .mcsh(Scheme::OAuth)
        .args(["apply", plan.to_str().unwrap(), "--yes"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("the members of group Scratch"), "{err}");
}

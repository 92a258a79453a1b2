//! The four workflows as commands and as stdlib imports: fresh run, re-run, dry run, bad input.

use std::collections::BTreeSet;

use mcsh::sandbox::Options;
use predicates::prelude::*;
use serde_json::Value;

use crate::support::{mcsh_process, Env, Scheme};

fn rows(out: &std::process::Output) -> Vec<Value> {
    assert!(out.status.code().is_some(), "the process ended by a signal");
    serde_json::from_slice::<Value>(&out.stdout)
        .unwrap_or_else(|e| panic!("JSON rows ({e}): {}", String::from_utf8_lossy(&out.stdout)))
        .as_array()
        .unwrap()
        .clone()
}

/// Runs `args` with API 2.0 and returns the JSON rows it printed (whatever the exit code).
fn oauth_rows(env: &Env, args: &[&str]) -> Vec<Value> {
    rows(&env.mcsh(Scheme::OAuth).args(args).output().unwrap())
}

fn statuses(rows: &[Value]) -> Vec<(String, String)> {
    rows.iter()
        .map(|r| {
            (
                r["step"].as_str().unwrap_or("").to_string(),
                r["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The whole tenant as `mcsh export --with-groups` sees it: compared before and after.
fn snapshot(env: &Env) -> Value {
    let out = env
        .mcsh(Scheme::OAuth)
        .args(["export", "--with-groups", "-o", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let groups = env.json(&["groups", "list"]);
    serde_json::json!({ "users": serde_json::from_slice::<Value>(&out.stdout).unwrap(), "groups": groups })
}

#[test]
fn onboard_one_person_then_again_then_dry_run() {
    let env = Env::new();
    let args = [
        "onboard",
        "--email",
        "jane.doe@company.com",
        "--name",
        "Jane Doe",
        "--group",
        "Engineering",
        "--group",
        "All Staff",
        "-o",
        "json",
    ];
    let first = rows(&env.mcsh(Scheme::OAuth).args(args).output().unwrap());
    assert_eq!(
        statuses(&first),
        [
            ("user".into(), "created".into()),
            ("group All Staff".into(), "created".into()),
            ("group Engineering".into(), "created".into())
        ]
    );
    assert!(env
        .members("Engineering")
        .contains(&"jane.doe@company.com".to_string()));
    env.mcsh(Scheme::OAuth)
        .args(args)
        .assert()
        .success()
        .stderr(predicate::str::contains(
        "onboard: 1 person, 3 steps: nothing changed, everything was already done (3 unchanged)",
    ));
    let again = rows(&env.mcsh(Scheme::OAuth).args(args).output().unwrap());
    all_exactly(&again, "unchanged", 3);

    // A different name for an existing user is an update, not an error.
    let renamed = oauth_rows(
        &env,
        &[
            "onboard",
            "--email",
            "jane.doe@company.com",
            "--name",
            "Jane D. Doe",
            "-o",
            "json",
        ],
    );
    assert_eq!(statuses(&renamed), [("user".into(), "updated".into())]);
    assert_eq!(
        env.json(&["users", "get", "--email", "jane.doe@company.com"])["name"],
        "Jane D. Doe"
    );

    let before = snapshot(&env);
    let planned = oauth_rows(
        &env,
        &[
            "--dry-run",
            "onboard",
            "--email",
            "dry.run@company.com",
            "--group",
            "Sales",
            "--group",
            "Brand New",
            "--create-groups",
            "-o",
            "json",
        ],
    );
    assert!(
        planned.iter().all(|r| r["status"] == "planned"),
        "{planned:?}"
    );
    assert_eq!(
        planned.len(),
        4,
        "the new group, the user, two memberships: {planned:?}"
    );
    assert_eq!(snapshot(&env), before, "a dry run changes nothing");
}

#[test]
fn onboard_refuses_unknown_groups_and_bad_csv_before_any_write() {
    let env = Env::new();
    let before = snapshot(&env);
    env.mcsh(Scheme::OAuth)
        .args([
            "onboard",
            "--email",
            "x.y@company.com",
            "--group",
            "Sales",
            "--group",
            "Nope",
        ])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("unknown group(s): Nope")
                .and(predicate::str::contains("--create-groups"))
                // Said to a script's author too, in the script's own terms.
                .and(predicate::str::contains("#{ create_groups: true }")),
        );
    let csv = env.dir.path().join("people.csv");
    std::fs::write(&csv, "email,name,groups\nok.one@company.com,Ok One,Sales\nbad@,Bad,Sales\nok.one@company.com,Again,\n\"multi\nline@x\",M,\n").unwrap();
    env.mcsh(Scheme::OAuth)
        .args(["onboard", "--csv", csv.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("3 bad row(s) of 4, nothing was written")
                .and(predicate::str::contains(
                    "line 3: \"bad@\" is not an email address",
                ))
                .and(predicate::str::contains(
                    "line 4: ok.one@company.com is also on line 2",
                ))
                .and(predicate::str::contains("line 5:")),
        );
    std::fs::write(&csv, "email,name\nok.one@company.com,Ok One\n").unwrap();
    env.mcsh(Scheme::OAuth)
        .args(["onboard", "--csv", csv.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("missing column(s) groups"));
    env.mcsh(Scheme::OAuth)
        .args(["onboard", "--email", "not-an-address"])
        .assert()
        .code(2);
    env.mcsh(Scheme::OAuth)
        .args(["onboard", "--csv", "/no/such/file.csv"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("/no/such/file.csv"));
    assert_eq!(snapshot(&env), before, "nothing was written");
}

#[test]
fn onboard_from_csv_in_batches_and_creates_groups_when_asked() {
    let env = Env::new();
    let csv = env.dir.path().join("people.csv");
    let mut text = String::from("email,name,groups\n");
    for i in 0..120 {
        text.push_str(&format!(
            "starter{i}@company.com,Starter {i},All Staff;Interns\n"
        ));
    }
    std::fs::write(&csv, text).unwrap();
    env.mcsh(Scheme::OAuth)
        .args(["onboard", "--csv", csv.to_str().unwrap()])
        .assert()
        .code(2);
    let out = env
        .mcsh(Scheme::Hmac)
        .args([
            "onboard",
            "--csv",
            csv.to_str().unwrap(),
            "--create-groups",
            "-o",
            "json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = rows(&out);
    assert_eq!(
        report.iter().filter(|r| r["status"] == "created").count(),
        1 + 120 * 3
    );
    assert_eq!(env.members("Interns").len(), 120);
    let again = oauth_rows(
        &env,
        &["onboard", "--csv", csv.to_str().unwrap(), "-o", "json"],
    );
    all_exactly(&again, "unchanged", 360);
}

#[test]
fn offboard_a_user_in_five_groups_including_a_nested_one() {
    let env = Env::new();
    env.json(&[
        "users",
        "create",
        "--email",
        "leaver@company.com",
        "--name",
        "Leaving Soon",
    ]);
    for g in ["All Staff", "Engineering", "Platform", "Sales", "IT Admins"] {
        env.json(&[
            "groups",
            "add-member",
            "--group",
            g,
            "--email",
            "leaver@company.com",
        ]);
    }
    let before = snapshot(&env);
    env.mcsh(Scheme::OAuth)
        .args(["offboard", "--email", "leaver@company.com"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains(
                "offboard 1 user(s) (leaver@company.com): leave 5 group membership(s)",
            )
            .and(predicate::str::contains("--yes")),
        );
    let plan = oauth_rows(
        &env,
        &[
            "--dry-run",
            "offboard",
            "--email",
            "leaver@company.com",
            "-o",
            "json",
        ],
    );
    assert_eq!(
        plan.len(),
        7,
        "5 removals, the lock, the deletion: {plan:?}"
    );
    all_exactly(&plan, "planned", 7);
    assert_eq!(snapshot(&env), before, "a dry run changes nothing");

    let done = oauth_rows(
        &env,
        &[
            "--yes",
            "offboard",
            "--email",
            "leaver@company.com",
            "-o",
            "json",
        ],
    );
    let steps: BTreeSet<String> = done
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r["step"].as_str().unwrap(),
                r["status"].as_str().unwrap()
            )
        })
        .collect();
    for g in ["All Staff", "Engineering", "Platform", "Sales", "IT Admins"] {
        assert!(steps.contains(&format!("group {g} removed")), "{steps:?}");
        assert!(!env.members(g).contains(&"leaver@company.com".to_string()));
    }
    assert!(
        steps.contains("lock unverified") && steps.contains("delete removed"),
        "the API cannot show a lock: said so, not `updated`: {steps:?}"
    );
    assert!(!env
        .user_emails()
        .contains(&"leaver@company.com".to_string()));

    env.mcsh(Scheme::OAuth)
        .args(["--yes", "offboard", "--email", "leaver@company.com"])
        .assert()
        .success()
        .stderr(predicate::str::contains("nothing changed"));
    env.mcsh(Scheme::OAuth)
        .args(["--yes", "offboard", "--email", "nobody@company.com"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("no such user"));
    // A dry run says what the real run says: for an unknown address and for one that was
    // offboarded already (not listed, but still on the purge list).
    for (who, code, status) in [
        ("nobody@company.com", 1, "failed"),
        ("leaver@company.com", 0, "unchanged"),
    ] {
        let rows: Vec<Vec<Value>> = [true, false]
            .iter()
            .map(|dry| {
                let mut cmd = env.mcsh(Scheme::OAuth);
                if *dry {
                    cmd.arg("--dry-run");
                }
                let out = cmd
                    .args(["--yes", "offboard", "--email", who, "-o", "json"])
                    .output()
                    .unwrap();
                assert_eq!(out.status.code(), Some(code), "{who} dry={dry}");
                serde_json::from_slice(&out.stdout).unwrap()
            })
            .collect();
        assert_eq!(
            rows[0], rows[1],
            "{who}: the dry run agrees with the real run"
        );
        assert_eq!(rows[0].len(), 1);
        assert_eq!(rows[0][0]["status"], status);
    }
}

#[test]
fn offboard_many_from_csv_or_keep_accounts() {
    let env = Env::new();
    let csv = env.dir.path().join("leavers.csv");
    std::fs::write(
        &csv,
        "email\nbob.hughes@company.com\ncarol.okafor@company.com\nnobody@company.com\n",
    )
    .unwrap();
    let out = env
        .mcsh(Scheme::OAuth)
        .args([
            "--yes",
            "offboard",
            "--csv",
            csv.to_str().unwrap(),
            "--keep-account",
            "-o",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "one of three failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = rows(&out);
    assert!(report
        .iter()
        .any(|r| r["emailAddress"] == "nobody@company.com" && r["status"] == "failed"));
    let emails = env.user_emails();
    assert!(
        emails.contains(&"bob.hughes@company.com".to_string()),
        "--keep-account keeps the account"
    );
    assert!(!env
        .members("All Staff")
        .contains(&"bob.hughes@company.com".to_string()));
    std::fs::write(&csv, "email\nbob.hughes@company.com\nnot an address\n").unwrap();
    env.mcsh(Scheme::OAuth)
        .args(["--yes", "offboard", "--csv", csv.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("line 3"));
}

#[test]
fn export_of_two_thousand_users_matches_the_sandbox_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("tenant.db");
    let env = Env::with(Options {
        state: state.display().to_string(),
        ..Options::default()
    });
    let csv = env.dir.path().join("many.csv");
    let mut text = String::from("email,name,groups\n");
    for i in 0..(2000 - 62) {
        text.push_str(&format!("bulk{i:04}@company.com,Bulk {i},\n"));
    }
    std::fs::write(&csv, text).unwrap();
    env.mcsh(Scheme::OAuth)
        .args(["onboard", "--csv", csv.to_str().unwrap(), "-o", "jsonl"])
        .assert()
        .success();

    let truth = crate::support::db_emails(
        &state,
        "SELECT email FROM users WHERE purged = 0 AND alias_for IS NULL",
    );
    assert_eq!(truth.len(), 2000);

    let json_path = env.dir.path().join("users.json");
    env.mcsh(Scheme::OAuth)
        .args(["export", "--out", json_path.to_str().unwrap()])
        .assert()
        .success();
    let exported: Vec<Value> = serde_json::from_slice(&std::fs::read(&json_path).unwrap()).unwrap();
    let json_emails: BTreeSet<String> = exported
        .iter()
        .map(|u| u["emailAddress"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(exported.len(), 2000);
    assert_eq!(json_emails, truth);

    let csv_path = env.dir.path().join("users.csv");
    env.mcsh(Scheme::Hmac)
        .args([
            "export",
            "--format",
            "csv",
            "--with-groups",
            "--out",
            csv_path.to_str().unwrap(),
        ])
        .assert()
        .success();
    let mut reader = csv::Reader::from_path(&csv_path).unwrap();
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "emailAddress",
            "name",
            "domain",
            "alias",
            "addressType",
            "source",
            "groups",
            "viaDomain"
        ]
    );
    let csv_emails: BTreeSet<String> = reader
        .records()
        .map(|r| r.unwrap()[0].to_string())
        .collect();
    assert_eq!(csv_emails, truth);
    let leftovers: Vec<_> = std::fs::read_dir(env.dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "no temporary files left");

    // The seed's way still works.
    let out = env
        .mcsh(Scheme::OAuth)
        .args(["users", "list", "--output", "json"])
        .output()
        .unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&out.stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        2000
    );
}

#[test]
fn export_of_one_domain_with_groups() {
    let env = Env::new();
    let out = env
        .mcsh(Scheme::OAuth)
        .args(["export", "--domain", "example.com", "--with-groups"])
        .output()
        .unwrap();
    let users: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(users.len(), 14);
    let rosa = users
        .iter()
        .find(|u| u["emailAddress"] == "rosa.patel@example.com")
        .unwrap();
    assert_eq!(rosa["groups"], serde_json::json!(["Sales"]));
    env.mcsh(Scheme::OAuth)
        .args(["export", "--domain", "not a domain"])
        .assert()
        .code(2);
    env.mcsh(Scheme::OAuth)
        .args(["export", "--format", "xml"])
        .assert()
        .code(2);
}

/// Four departments and one nested under the first, as JSON rows.
/// Asserts that `rows` are exactly `n` rows, each of status `status`.
fn all_exactly(rows: &[Value], status: &str, n: usize) {
    let got: Vec<&str> = rows
        .iter()
        .map(|r| r["status"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(got, vec![status; n], "{rows:?}");
}

const DEPARTMENTS: [&str; 8] = [
    "departments",
    "Engineering",
    "Sales",
    "Marketing",
    "Finance",
    "Engineering/Platform",
    "-o",
    "json",
];

#[test]
fn departments_nest_by_path_and_are_idempotent() {
    let env = Env::with(Options {
        empty: true,
        ..Options::default()
    });
    let before = snapshot(&env);
    let planned = oauth_rows(
        &env,
        &[
            "--dry-run",
            "departments",
            "Engineering",
            "Engineering/Platform",
            "-o",
            "json",
        ],
    );
    all_exactly(&planned, "planned", 2);
    assert_eq!(snapshot(&env), before);

    let first = oauth_rows(&env, &DEPARTMENTS);
    all_exactly(&first, "created", 5);
    assert!(
        first.iter().all(|r| r["id"].as_str().unwrap().len() > 200),
        "{first:?}"
    );
    let again = oauth_rows(&env, &DEPARTMENTS);
    all_exactly(&again, "unchanged", 5);
    assert_eq!(
        first.iter().map(|r| r["id"].clone()).collect::<Vec<_>>(),
        again.iter().map(|r| r["id"].clone()).collect::<Vec<_>>()
    );
    let groups = env.json(&["groups", "list"]);
    assert_eq!(groups.as_array().unwrap().len(), 5, "no duplicates");
    let platform = groups
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["description"] == "Platform")
        .unwrap();
    assert_eq!(
        platform["parentId"], first[0]["id"],
        "Platform is under Engineering"
    );

    let file = env.dir.path().join("depts.txt");
    std::fs::write(&file, "# teams\nNOC\n\nNOC/Night Shift\n").unwrap();
    let under = oauth_rows(
        &env,
        &[
            "departments",
            "--file",
            file.to_str().unwrap(),
            "--parent",
            "Engineering",
            "-o",
            "json",
        ],
    );
    assert_eq!(under.len(), 2);
    let noc = env.json(&["groups", "list", "--query", "NOC"]);
    assert_eq!(noc[0]["parentId"], first[0]["id"]);
    // An unknown parent is a usage error before anything is written.
    env.mcsh(Scheme::OAuth)
        .args(["departments", "X", "--parent", "Nope"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("\"Nope\"")
                .and(predicate::str::contains("nothing was written")),
        );
    env.mcsh(Scheme::OAuth).arg("departments").assert().code(2);
}

#[test]
fn workflows_are_importable_from_scripts() {
    let env = Env::new();
    let script = env.dir.path().join("flow.rhai");
    std::fs::write(
        &script,
        r#"
import "onboard" as onboard;
import "offboard" as offboard;
import "exporter" as exporter;
import "departments" as departments;

let made = departments::create(["Projects/Apollo"], ());
if made[0].status != "created" { throw "departments"; }
let report = onboard::person("scripted@company.com", "Scripted", ["Apollo", "All Staff"], #{});
if report.filter(|r| r.status == "created").len() != 3 { throw `onboard: ${report}`; }
let rows = exporter::rows("company.com", true);
let me = rows.filter(|r| r.emailAddress == "scripted@company.com")[0];
if !me.groups.contains("Projects/Apollo") { throw `export groups by path: ${me.groups}`; }
let gone = offboard::person("scripted@company.com", #{ keep_account: true });
if gone.filter(|r| r.status == "removed").len() != 2 { throw `offboard: ${gone}`; }
print("workflows ok");
"#,
    )
    .unwrap();
    env.mcsh(Scheme::OAuth)
        .args(["--yes", "run", script.to_str().unwrap()])
        .assert()
        .success()
        .stdout("workflows ok\n");
    assert!(env.members("Apollo").is_empty());
}

#[test]
fn an_export_reads_back_as_an_onboarding_that_changes_nothing_synced_groups_and_names_included() {
    let env = Env::new();
    let file = env.dir.path().join("export.csv");
    env.mcsh(Scheme::OAuth)
        .args(["export", "--with-groups", "--format", "csv", "--out"])
        .arg(&file)
        .assert()
        .success();
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.contains("Directory Staff"),
        "a synced group is named: {text}"
    );
    let out = env
        .mcsh(Scheme::OAuth)
        .args(["onboard", "--csv", file.to_str().unwrap(), "-o", "json"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
    let changed: Vec<&Value> = rows
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] != "unchanged")
        .collect();
    assert!(changed.is_empty(), "{changed:?}");

    // A synced user's name is left alone, said so, and the rest of the row goes on.
    let out = env
        .mcsh(Scheme::OAuth)
        .args([
            "onboard",
            "--email",
            "zoe.costa@example.com",
            "--name",
            "Zoe Renamed",
            "--group",
            "Sales",
            "-o",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows[0]["status"], "unchanged", "{rows}");
    assert!(
        rows[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("left alone: the list names it \"Zoe Renamed\""),
        "{rows}"
    );
    assert_eq!(rows[1]["status"], "created", "joined Sales: {rows}");
    let zoe = env.json(&["users", "get", "--email", "zoe.costa@example.com"]);
    assert_eq!(zoe["name"], "Zoe Costa");
}

#[cfg(unix)]
#[test]
fn a_reader_gone_away_does_not_hide_what_failed() {
    // `mcsh onboard ... | head -1`: the rows stop where the reader went, the summary and the
    // exit code still say that a step failed.
    let env = Env::new();
    let out = env
        .mcsh(Scheme::OAuth)
        .args([
            "users",
            "delete",
            "--email",
            "rosa.patel@example.com",
            "--yes",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = env.dir.path().join("gone.csv");
    std::fs::write(
        &csv,
        "email,name,groups\nrosa.patel@example.com,Rosa,Sales\nnew.one@company.com,New One,Sales\n",
    )
    .unwrap();
    for closed in [true, false] {
        let mut child = mcsh_process(&env.mcsh(Scheme::OAuth))
            .args(["onboard", "--csv"])
            .arg(&csv)
            .args(["-o", "jsonl"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let kept = child.stdout.take();
        if closed {
            drop(kept);
        }
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "closed {closed}: {err}");
        assert!(
            err.contains("onboard: ") && err.contains("1 failed"),
            "closed {closed}: {err}"
        );
    }
    // A full disk under the rows: exit 3 for the failed step, and the lost output said too.
    #[cfg(target_os = "linux")]
    {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let out = mcsh_process(&env.mcsh(Scheme::OAuth))
            .args(["onboard", "--csv"])
            .arg(&csv)
            .args(["-o", "jsonl"])
            .stdout(full)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{err}");
        assert!(err.contains("cannot write to standard output"), "{err}");
    }
}

#[test]
fn a_misspelt_workflow_option_stops_the_run_before_any_write() {
    let env = Env::new();
    let before = env.user_emails();
    for (source, said) in [
        (
            r#"import "onboard" as o; o::people([#{ email: "opt.one@company.com", name: "O", groups: ["Sales"] }], #{ create_group: true })"#,
            "onboard takes the option create_groups, not create_group",
        ),
        (
            r#"import "onboard" as o; o::people([#{ email: "opt.one@company.com", name: "O", groups: ["Sales"] }], "yes")"#,
            "onboard's options are a map, #{ create_groups: true }, not string",
        ),
        (
            r#"import "offboard" as o; o::people(["bob.hughes@company.com"], #{ keep_acount: true })"#,
            "offboard takes the option keep_account, not keep_acount",
        ),
    ] {
        let (code, _, err) = crate::support::run(&env, &["--yes", "-e", source]);
        assert_eq!(code, 2, "{source}: {err}");
        assert!(err.contains(said), "{err}");
    }
    assert_eq!(env.user_emails(), before, "nothing was written");
    assert!(env
        .members("Sales")
        .iter()
        .all(|m| m != "opt.one@company.com"));
    // Without options, or with the right one, they run.
    for options in ["()", "#{ create_groups: false }"] {
        let source = format!(
            r#"import "onboard" as o; o::people([#{{ email: "opt.one@company.com", name: "O", groups: ["Sales"] }}], {options}).len()"#
        );
        let (code, _, err) = crate::support::run(&env, &["-e", &source]);
        assert_eq!(code, 0, "{options}: {err}");
    }
    assert!(env
        .members("Sales")
        .iter()
        .any(|m| m == "opt.one@company.com"));
}

#[test]
fn the_offboard_question_names_whom_it_asks_about() {
    let env = Env::new();
    let users = env.json(&["users", "list", "--domain", "company.com"]);
    let emails: Vec<&str> = users
        .as_array()
        .unwrap()
        .iter()
        .take(7)
        .map(|u| u["emailAddress"].as_str().unwrap())
        .collect();
    assert_eq!(emails.len(), 7);
    let mut args = vec!["offboard"];
    for e in &emails {
        args.extend(["--email", e]);
    }
    let out = env.mcsh(Scheme::OAuth).args(&args).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    // The first five by address, and how many more: nothing is written without --yes.
    let named = format!(
        "offboard 7 user(s) ({}, and 2 more):",
        emails[..5].join(", ")
    );
    assert!(err.contains(&named), "{err}");
}

//! The example scripts in scripts/: each runs against the sandbox with no arguments and does
//! what its header says.

use predicates::prelude::*;

use crate::support::{Env, Scheme};

fn example(name: &str) -> String {
    format!("{}/scripts/{name}.rhai", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn users_without_name_then_bulk_rename_fixes_them() {
    let env = Env::new();
    let run = |name: &str| {
        env.mcsh(Scheme::OAuth)
            .args(["run", &example(name)])
            .assert()
            .success()
    };
    run("users_without_name").stdout(
        predicate::str::contains("tara.schmidt@company.com")
            .and(predicate::str::contains("3 of 62")),
    );
    run("bulk_rename").stdout(predicate::str::contains("3 renamed"));
    run("users_without_name").stdout(predicate::str::contains("0 of 62"));
    run("bulk_rename").stdout(predicate::str::contains("0 renamed"));
    let csv = env.dir.path().join("renames.csv");
    std::fs::write(&csv, "email,name\nbob.hughes@company.com,Robert Hughes\n").unwrap();
    env.mcsh(Scheme::OAuth)
        .args(["run", &example("bulk_rename"), csv.to_str().unwrap()])
        .assert()
        .success()
        .stdout(predicate::str::contains("1 renamed"));
    assert_eq!(
        env.json(&["users", "get", "--email", "bob.hughes@company.com"])["name"],
        "Robert Hughes"
    );
}

#[test]
fn group_sizes_and_who_is_where_report() {
    let env = Env::new();
    let out = env
        .mcsh(Scheme::OAuth)
        .args(["run", &example("group_sizes")])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let cells = |name: &str| -> Vec<String> {
        // Cells are separated by two or more spaces (names hold single spaces).
        let split = |l: &str| -> Vec<String> {
            l.split("  ")
                .map(|c| c.trim().to_string())
                .filter(|c| !c.is_empty())
                .collect()
        };
        text.lines()
            .map(split)
            .find(|cells| cells.iter().any(|c| c == name))
            .unwrap_or_else(|| panic!("no row for {name} in:\n{text}"))
    };
    // Largest first: All Staff, with its 49 members (48 people of company.com and a domain).
    let header = cells("members");
    let col =
        |row: &[String], name: &str| row[header.iter().position(|h| h == name).unwrap()].clone();
    let all = cells("All Staff");
    assert_eq!(col(&all, "members"), "49");
    let platform = cells("Engineering/Platform");
    assert_eq!(col(&platform, "members"), "5");
    let first_row = text.lines().position(|l| l.contains("All Staff")).unwrap();
    let eng_row = text
        .lines()
        .position(|l| l.contains("Engineering/Platform"))
        .unwrap();
    assert!(first_row < eng_row, "largest first");
    env.mcsh(Scheme::OAuth)
        .args(["run", &example("who_is_where")])
        .assert()
        .success()
        .stdout(predicate::str::contains("Platform").and(predicate::str::contains("IT Admins")));
}

#[test]
fn engineering_members_join_all_staff_once() {
    let env = Env::new();
    env.json(&[
        "groups",
        "add-member",
        "--group",
        "Engineering",
        "--email",
        "new.engineer@company.com",
    ]);
    let run = || {
        env.mcsh(Scheme::OAuth)
            .args(["run", &example("engineering_in_all_staff")])
            .assert()
            .success()
    };
    run().stdout(predicate::str::contains("1 added, 10 already members"));
    run().stdout(predicate::str::contains("0 added, 11 already members"));
    let all = env.members("All Staff");
    for m in env.members("Engineering") {
        assert!(all.contains(&m), "{m} in All Staff");
    }
}

#[test]
fn domain_to_csv_writes_the_domain() {
    let env = Env::new();
    env.mcsh(Scheme::OAuth)
        .current_dir(env.dir.path())
        .args(["run", &example("domain_to_csv")])
        .assert()
        .success()
        .stdout(predicate::str::contains("wrote 14 users of example.com"));
    let text = std::fs::read_to_string(env.dir.path().join("example.com-users.csv")).unwrap();
    assert_eq!(text.lines().count(), 15);
    assert!(text.starts_with("emailAddress,name,source\n"), "{text}");
}

#[test]
fn domain_to_group_is_a_plain_loop_that_sends_one_batch() {
    let env = Env::new();
    let out = env
        .mcsh(Scheme::OAuth)
        .args(["-vv", "run", &example("domain_to_group")])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("14 users of example.com are in Sales"));
    let adds = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.contains("POST /api/directory/add-group-member"))
        .count();
    assert_eq!(adds, 1, "14 add_member calls went out as one request");
    let sales = env.members("Sales");
    let example_com: Vec<String> = env
        .user_emails()
        .into_iter()
        .filter(|e| e.ends_with("@example.com"))
        .collect();
    assert_eq!(example_com.len(), 14);
    assert!(example_com.iter().all(|e| sales.contains(e)));
}

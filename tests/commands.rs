//! Every command of the seed and its neighbours, through the real binary, in both
//! authentication schemes and every output format; and their failure paths.

use mcsh::sandbox::Stats;
use predicates::prelude::*;
use serde_json::Value;

use crate::support::{assert_format, Env, Scheme, FORMATS, SCHEMES};

#[test]
fn every_command_works_in_both_schemes_and_every_format() {
    let env = Env::new();
    for scheme in SCHEMES {
        for format in FORMATS {
            let tag = format!(
                "{}{format}",
                if scheme == Scheme::OAuth {
                    "oauth"
                } else {
                    "hmac"
                }
            );
            let user = format!("t.{tag}@company.com");
            let group = format!("Team {tag}");
            let sub = format!("Sub {tag}");
            let run = |args: &[&str]| -> String {
                let out = env
                    .mcsh(scheme)
                    .args(args)
                    .args(["-o", format])
                    .output()
                    .unwrap();
                assert!(
                    out.status.success(),
                    "{scheme:?} {format} mcsh {args:?}: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                String::from_utf8(out.stdout).unwrap()
            };
            assert_format(
                format,
                &run(&["users", "list"]),
                "alice.anderson@company.com",
            );
            let example = run(&["users", "list", "--domain", "example.com"]);
            assert_format(format, &example, "@example.com");
            assert!(!example.contains("@company.com"), "--domain filters");
            assert_format(
                format,
                &run(&["users", "get", "--email", "alice.anderson@company.com"]),
                "alice@company.com",
            );
            assert_format(format, &run(&["groups", "list"]), "All Staff");
            assert_format(
                format,
                &run(&["groups", "list", "--query", "staff"]),
                "All Staff",
            );
            assert_format(
                format,
                &run(&["groups", "members", "--group", "Platform"]),
                "@company.com",
            );

            assert_format(
                format,
                &run(&["users", "create", "--email", &user, "--name", "Test User"]),
                &user,
            );
            assert_format(
                format,
                &run(&[
                    "users",
                    "update",
                    "--email",
                    &user,
                    "--name",
                    "Renamed User",
                    "--lock",
                ]),
                "Renamed User",
            );
            assert_format(
                format,
                &run(&[
                    "users",
                    "update",
                    "--email",
                    &user,
                    "--alias",
                    &format!("a.{tag}@company.com"),
                ]),
                "a.",
            );
            assert_format(
                format,
                &run(&["groups", "create", "--description", &group]),
                &group,
            );
            assert_format(
                format,
                &run(&[
                    "groups",
                    "create",
                    "--description",
                    &sub,
                    "--parent",
                    &group,
                ]),
                &sub,
            );
            let added = run(&[
                "groups",
                "add-member",
                "--group",
                &group,
                "--email",
                &user,
                "--email",
                "alice.anderson@company.com",
            ]);
            assert_format(format, &added, "created");
            assert_format(
                format,
                &run(&[
                    "groups",
                    "remove-member",
                    "--group",
                    &group,
                    "--email",
                    &user,
                ]),
                "removed",
            );
            let renamed = format!("{group} renamed");
            assert_format(
                format,
                &run(&[
                    "groups",
                    "rename",
                    "--group",
                    &group,
                    "--description",
                    &renamed,
                ]),
                "renamed",
            );
            assert_format(
                format,
                &run(&["groups", "delete", "--group", &sub, "--yes"]),
                "removed",
            );
            assert_format(
                format,
                &run(&["users", "delete", "--email", &user]),
                "removed",
            );
            assert_format(
                format,
                &run(&["users", "restore", "--email", &user]),
                "updated",
            );
        }
    }
    // The state the commands left, read back independently.
    let users = env.json(&["users", "list", "--domain", "company.com"]);
    let tests: Vec<&Value> = users
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["emailAddress"].as_str().unwrap().starts_with("t."))
        .collect();
    assert_eq!(tests.len(), 8, "one user per scheme and format, restored");
    assert!(tests
        .iter()
        .all(|u| u["name"] == "Renamed User" && u["alias"] == false));
    let with_aliases = env.json(&["users", "list", "--domain", "company.com", "--aliases"]);
    let added: Vec<&Value> = with_aliases
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["emailAddress"].as_str().unwrap().starts_with("a.") && u["alias"] == true)
        .collect();
    assert_eq!(
        added.len(),
        8,
        "each update added its alias, listed as an alias row"
    );
    let groups = env.json(&["groups", "list", "--query", "renamed"]);
    assert_eq!(groups.as_array().unwrap().len(), 8);
    for g in groups.as_array().unwrap() {
        assert_eq!(g["folderCount"], 0, "the sub-group was deleted");
        assert_eq!(
            env.members(g["id"].as_str().unwrap()),
            vec!["alice.anderson@company.com"]
        );
    }
}

#[test]
fn a_wrong_secret_exits_4_with_a_clear_message_in_both_schemes() {
    let env = Env::new();
    env.mcsh(Scheme::OAuth)
        .env("MIMECAST_CLIENT_SECRET", "wrong")
        .args(["users", "list"])
        .assert()
        .code(4)
        .stderr(
            predicate::str::contains("Mimecast refused the credentials")
                .and(predicate::str::contains("MIMECAST_CLIENT_SECRET")),
        );
    let other_key =
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, b"not the key");
    env.mcsh(Scheme::Hmac)
        .env("MIMECAST_SECRET_KEY", other_key)
        .args(["groups", "list"])
        .assert()
        .code(4)
        .stderr(
            predicate::str::contains("err_xdk_invalid_signature")
                .and(predicate::str::contains("MIMECAST_SECRET_KEY")),
        );
}

#[test]
fn no_credentials_exits_4_and_points_at_the_sandbox() {
    let env = Env::new();
    env.bare().args(["users", "list"]).assert().code(4).stderr(
        predicate::str::contains("no Mimecast credentials")
            .and(predicate::str::contains("--sandbox")),
    );
}

#[test]
fn bad_addresses_are_usage_errors_and_nothing_is_sent() {
    let env = Env::new();
    for args in [
        vec!["users", "create", "--email", "not-an-address"],
        vec!["users", "create", "--email", ""],
        vec![
            "users",
            "create",
            "--email",
            "x@other.org",
            "--domain",
            "company.com",
        ],
        vec![
            "groups",
            "add-member",
            "--group",
            "Sales",
            "--email",
            "a@b@c",
        ],
        vec!["users", "get", "--email", "jo@"],
    ] {
        env.mcsh(Scheme::OAuth)
            .args(&args)
            .assert()
            .code(2)
            .stderr(predicate::str::starts_with("error:"));
    }
    assert_eq!(
        Stats::get(&env.sandbox.stats.requests),
        0,
        "rejected before any request"
    );
}

#[test]
fn create_with_domain_completes_the_address() {
    let env = Env::new();
    let out = env.json(&[
        "users",
        "create",
        "--email",
        "bob.new",
        "--domain",
        "company.com",
        "--name",
        "Bob New",
    ]);
    assert_eq!(out["emailAddress"], "bob.new@company.com");
    assert!(env
        .user_emails()
        .contains(&"bob.new@company.com".to_string()));
}

#[test]
fn creating_an_existing_user_fails_with_a_hint() {
    let env = Env::new();
    env.mcsh(Scheme::OAuth)
        .args(["users", "create", "--email", "alice.anderson@company.com"])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("err_user_already_exists").and(predicate::str::contains(
                "hint: use `mcsh users update --email alice.anderson@company.com`",
            )),
        );
    env.mcsh(Scheme::OAuth)
        .args(["users", "create", "--email", "someone@elsewhere.org"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("err_domain_not_internal"));
}

#[test]
fn groups_are_named_by_id_or_name_and_unknown_or_ambiguous_names_are_explained() {
    let env = Env::new();
    let id = env.group_id("Finance");
    assert!(id.len() > 200, "realistic opaque ids");
    env.json(&[
        "groups",
        "add-member",
        "--group",
        &id,
        "--email",
        "bob.hughes@company.com",
    ]);
    env.json(&[
        "groups",
        "add-member",
        "--group",
        "finance",
        "--email",
        "carol.okafor@company.com",
    ]);
    let members = env.members("Finance");
    assert!(
        members.contains(&"bob.hughes@company.com".to_string())
            && members.contains(&"carol.okafor@company.com".to_string())
    );

    env.mcsh(Scheme::OAuth)
        .args(["groups", "members", "--group", "Financ"])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("no group has the id or name \"Financ\"")
                .and(predicate::str::contains("did you mean: Finance")),
        );

    env.json(&[
        "groups",
        "create",
        "--description",
        "Leads",
        "--parent",
        "Sales",
    ]);
    env.json(&[
        "groups",
        "create",
        "--description",
        "Leads",
        "--parent",
        "Marketing",
    ]);
    env.mcsh(Scheme::OAuth)
        .args(["groups", "members", "--group", "Leads"])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("is ambiguous: 2 groups")
                .and(predicate::str::contains("Sales/Leads")),
        );
}

#[test]
fn membership_changes_are_idempotent() {
    let env = Env::new();
    let first = env.json(&[
        "groups",
        "add-member",
        "--group",
        "Sales",
        "--email",
        "zoe.new@company.com",
    ]);
    assert_eq!(first[0]["status"], "created");
    let again = env.json(&[
        "groups",
        "add-member",
        "--group",
        "Sales",
        "--email",
        "zoe.new@company.com",
    ]);
    assert_eq!(again[0]["status"], "unchanged");
    assert_eq!(again[0]["code"], "err_folder_group_member_already_exists");
    env.json(&[
        "groups",
        "remove-member",
        "--group",
        "Sales",
        "--email",
        "zoe.new@company.com",
    ]);
    let gone = env.json(&[
        "groups",
        "remove-member",
        "--group",
        "Sales",
        "--email",
        "zoe.new@company.com",
    ]);
    assert_eq!(gone[0]["status"], "unchanged");
    assert!(!env
        .members("Sales")
        .contains(&"zoe.new@company.com".to_string()));
}

#[test]
fn deleting_a_user_uses_the_purge_list_and_says_how_to_undo() {
    let env = Env::new();
    env.mcsh(Scheme::OAuth)
        .args(["users", "delete", "--email", "bob.hughes@company.com"])
        .assert()
        .success()
        .stderr(
            predicate::str::contains("purge list").and(predicate::str::contains(
                "mcsh users restore --email bob.hughes@company.com",
            )),
        );
    assert!(!env
        .user_emails()
        .contains(&"bob.hughes@company.com".to_string()));
    let queued = env
        .mcsh(Scheme::OAuth)
        .args(["users", "get", "--email", "bob.hughes@company.com"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "is on the purge list (queued for deletion)",
        ));
    let queued: serde_json::Value = serde_json::from_slice(&queued.get_output().stdout).unwrap();
    assert_eq!(queued["state"], "queued for deletion");
    env.json(&["users", "restore", "--email", "bob.hughes@company.com"]);
    assert!(env
        .user_emails()
        .contains(&"bob.hughes@company.com".to_string()));
    env.mcsh(Scheme::OAuth)
        .args(["users", "delete", "--email", "nobody@company.com"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no user"));
}

#[test]
fn deleting_a_group_needs_yes_without_a_terminal_and_an_empty_group() {
    let env = Env::new();
    env.json(&["groups", "create", "--description", "Temp"]);
    env.mcsh(Scheme::OAuth)
        .args(["groups", "delete", "--group", "Temp"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--yes"));
    assert_eq!(
        env.json(&["groups", "list", "--query", "Temp"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    env.mcsh(Scheme::OAuth)
        .args(["groups", "delete", "--group", "Engineering", "--yes"])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("err_folder_not_empty")
                .and(predicate::str::contains("hint: remove its members")),
        );
    env.json(&["groups", "delete", "--group", "Temp", "--yes"]);
    assert_eq!(
        env.json(&["groups", "list", "--query", "Temp"])
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

#[test]
fn update_without_changes_is_a_usage_error() {
    let env = Env::new();
    env.mcsh(Scheme::OAuth)
        .args(["users", "update", "--email", "bob.hughes@company.com"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("nothing to update"));
    env.mcsh(Scheme::OAuth)
        .args([
            "users",
            "update",
            "--email",
            "bob.hughes@company.com",
            "--lock",
            "--unlock",
        ])
        .assert()
        .code(2);
}

#[test]
fn dry_run_reads_for_real_and_writes_nothing() {
    let env = Env::new();
    let before = env.user_emails();
    let out = env.json(&["--dry-run", "users", "create", "--email", "dry@company.com"]);
    assert_eq!(out["emailAddress"], "dry@company.com");
    assert!(!env
        .members("Sales")
        .contains(&"alice.anderson@company.com".to_string()));
    let planned = env.json(&[
        "--dry-run",
        "groups",
        "add-member",
        "--group",
        "Sales",
        "--email",
        "alice.anderson@company.com",
    ]);
    assert_eq!(planned[0]["status"], "planned");
    env.mcsh(Scheme::OAuth)
        .args([
            "--dry-run",
            "groups",
            "add-member",
            "--group",
            "No Such Group",
            "--email",
            "bob.hughes@company.com",
        ])
        .assert()
        .code(1);
    env.json(&[
        "--dry-run",
        "users",
        "delete",
        "--email",
        "bob.hughes@company.com",
    ]);
    assert_eq!(env.user_emails(), before);
    assert!(!env
        .members("Sales")
        .contains(&"alice.anderson@company.com".to_string()));
}

#[test]
fn output_defaults_to_json_off_a_terminal() {
    let env = Env::new();
    let out = env
        .mcsh(Scheme::OAuth)
        .args(["groups", "list"])
        .output()
        .unwrap();
    let groups: Value = serde_json::from_slice(&out.stdout).expect("JSON by default in a pipe");
    assert_eq!(groups.as_array().unwrap().len(), 9);
}

#[test]
fn verbose_traces_show_requests_and_never_a_secret() {
    let env = Env::new();
    let k = &env.sandbox.keys;
    for scheme in SCHEMES {
        let out = env
            .mcsh(scheme)
            .args(["-vvv", "users", "list", "-o", "json"])
            .output()
            .unwrap();
        assert!(out.status.success());
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(
            err.contains("http: POST /api/user/get-internal-users -> 200"),
            "{err}"
        );
        for secret in [&k.client_secret, &k.secret_key, &k.app_key] {
            assert!(
                !err.contains(secret.as_str()),
                "{scheme:?} trace leaks a secret"
            );
        }
        assert!(!err.to_lowercase().contains("bearer"), "no token in traces");
        if scheme == Scheme::OAuth {
            assert!(err.contains("auth: new API 2.0 token"), "{err}");
        } else {
            assert!(
                err.contains(" req "),
                "API 1.0 traces carry the request id: {err}"
            );
        }
    }
}

#[test]
fn version_help_and_completions() {
    let help = Env::new().bare().arg("--help").output().unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    for (command, about) in [
        ("onboard", "Onboard people"),
        ("completions", "Print a shell completion script"),
        ("apply", "Carry out a plan"),
    ] {
        let line = help
            .lines()
            .find(|l| l.trim_start().starts_with(command))
            .unwrap_or_else(|| panic!("{command} in --help"));
        assert!(
            line.contains(about) && line.matches("script").count() <= 1,
            "{line}"
        );
    }
    assert!(
        !help.contains("completion script Onboard"),
        "each command's own description"
    );
    let env = Env::new();
    env.bare()
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::contains(env!("CARGO_PKG_VERSION")));
    env.bare()
        .args(["users", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("purge list"));
    env.bare()
        .args(["completions", "bash"])
        .assert()
        .success()
        .stdout(predicate::str::contains("add-member"));
    env.bare().args(["users", "frobnicate"]).assert().code(2);
}

#[test]
fn adding_an_address_of_our_own_domains_that_is_no_user_warns_and_strict_refuses() {
    let env = Env::new();
    let rows = env.json(&[
        "groups",
        "add-member",
        "--group",
        "Sales",
        "--email",
        "ghost@company.com",
        "--email",
        "partner@elsewhere.org",
    ]);
    let by = |who: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["emailAddress"] == who)
            .unwrap()["message"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(by("ghost@company.com").contains("is no user"), "{rows}");
    assert!(
        !by("partner@elsewhere.org").contains("warning"),
        "external addresses are fine"
    );
    let before = env.sandbox.stats.hits(mcsh::api::paths::ADD_GROUP_MEMBER);
    let out = env
        .mcsh(Scheme::OAuth)
        .args(["groups", "add-member", "--group", "Sales", "--strict"])
        .args(["--email", "ghost2@company.com"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ghost2@company.com"));
    assert_eq!(
        env.sandbox.stats.hits(mcsh::api::paths::ADD_GROUP_MEMBER),
        before
    );
}

#[test]
fn effective_groups_count_domain_members_and_groups_above() {
    let env = Env::new();
    let rows = env.json(&["users", "groups", "--email", "samuel.walsh@example.com"]);
    let got: Vec<(String, String)> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["group"].as_str().unwrap().into(),
                r["via"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [("All Staff".to_string(), "domain example.com".to_string())]
    );
    let direct = env.json(&[
        "users",
        "groups",
        "--email",
        "samuel.walsh@example.com",
        "--direct",
    ]);
    assert_eq!(direct.as_array().unwrap().len(), 0);
    env.json(&[
        "groups",
        "add-member",
        "--group",
        "Engineering/Platform",
        "--email",
        "nested.one@company.com",
    ]);
    let rows = env.json(&["users", "groups", "--email", "nested.one@company.com"]);
    let got: Vec<(String, String)> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["group"].as_str().unwrap().into(),
                r["via"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("Engineering/Platform".to_string(), "direct".to_string()),
            (
                "Engineering".to_string(),
                "group Engineering/Platform".to_string()
            )
        ]
    );
    let exported = env.json(&["export", "--with-groups", "--domain", "example.com"]);
    let samuel = exported
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["emailAddress"] == "samuel.walsh@example.com")
        .unwrap();
    assert_eq!(samuel["groups"], serde_json::json!([]));
    assert_eq!(samuel["viaDomain"], serde_json::json!(["All Staff"]));
    let out = env
        .mcsh(Scheme::OAuth)
        .args(["-e", "groups_of(\"samuel.walsh@example.com\")[0].via"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "\"domain example.com\"",
        "a string, as JSON in a pipe"
    );
}

#[test]
fn a_created_group_shows_its_path() {
    let env = Env::new();
    let made = env.json(&[
        "groups",
        "create",
        "--description",
        "Ops",
        "--parent",
        "Engineering/Platform",
    ]);
    assert_eq!(made["path"], "Engineering/Platform/Ops", "{made}");
    let top = env.json(&["groups", "create", "--description", "Top"]);
    assert_eq!(top["path"], "Top", "{top}");
}

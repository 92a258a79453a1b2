//! Rehearsal: snapshot a tenant, run the change on a copy, see the diff, apply the same plan
//! to the original; a change made to the original in between makes `apply` refuse.

use std::path::PathBuf;

use serde_json::Value;

use crate::support::{run, Env};

/// Runs `args` with API 2.0: (exit code, stdout, stderr).
fn path(env: &Env, name: &str) -> String {
    env.dir.path().join(name).display().to_string()
}

/// The (change, subject, detail) rows of a JSON diff.
fn changes(json: &str) -> Vec<(String, String, String)> {
    let d: Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"));
    d["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["change"].as_str().unwrap().to_string(),
                c["subject"].as_str().unwrap().to_string(),
                c["detail"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn snapshot_rehearse_plan_diff_apply_the_whole_loop() {
    let env = Env::new();
    let before = path(&env, "before.json");
    let plan = path(&env, "plan.json");
    let (code, _, err) = run(&env, &["snapshot", "--out", &before]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("62 users (1 alias addresses), 9 groups"),
        "{err}"
    );
    let snap: Value = serde_json::from_slice(&std::fs::read(&before).unwrap()).unwrap();
    assert_eq!(snap["format"], "mcsh-snapshot/1");
    assert_eq!(snap["tenant"]["accountCode"], "CSBX01A01");
    assert_eq!(snap["tenant"]["baseUrl"], env.sandbox.base_url.as_str());
    let text = std::fs::read_to_string(&before).unwrap();
    assert!(
        !text.contains(&env.sandbox.keys.client_secret),
        "no secret in a snapshot"
    );
    let alias = snap["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["alias"] == true)
        .unwrap();
    assert_eq!(alias["aliasFor"], "alice.anderson@company.com");

    // The copy answers as the original does.
    let (code, copy_users, err) = run(
        &env,
        &["--rehearse", &before, "users", "list", "-o", "json"],
    );
    assert_eq!(code, 0, "{err}");
    let (_, real_users, _) = run(&env, &["users", "list", "-o", "json"]);
    assert_eq!(
        copy_users, real_users,
        "the copy keeps every user as it was"
    );
    let (_, copy_groups, _) = run(
        &env,
        &["--rehearse", &before, "groups", "list", "-o", "json"],
    );
    let (_, real_groups, _) = run(&env, &["groups", "list", "-o", "json"]);
    assert_eq!(
        copy_groups, real_groups,
        "the copy keeps ids, names and tree"
    );

    // Rehearse: plan the offboarding on the copy, carry it out there, see what it did.
    let offboard = ["offboard", "--email", "farid.murphy@company.com"];
    let mut args = vec!["--rehearse", before.as_str()];
    args.extend(offboard);
    args.extend(["--plan-out", plan.as_str()]);
    let (code, _, err) = run(&env, &args);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(&env, &["--rehearse", &before, "apply", &plan, "--yes"]);
    assert_eq!(code, 0, "the plan applies to the copy: {err}");
    let (code, rehearsed, err) = run(
        &env,
        &[
            "--rehearse",
            &before,
            "diff",
            &before,
            "--live",
            "-o",
            "json",
        ],
    );
    assert_eq!(code, 1, "they differ: {err}");
    let planned = changes(&rehearsed);
    assert_eq!(
        planned,
        [
            (
                "user removed".to_string(),
                "farid.murphy@company.com".to_string(),
                "\"Farid Murphy\"".to_string()
            ),
            (
                "left".to_string(),
                "farid.murphy@company.com".to_string(),
                "All Staff".to_string()
            ),
            (
                "left".to_string(),
                "farid.murphy@company.com".to_string(),
                "Engineering".to_string()
            ),
        ]
    );
    let (code, _, _) = run(&env, &["diff", &before, "--live"]);
    assert_eq!(code, 0, "the original is untouched by the rehearsal");

    // Apply the same plan to the original: the diff there is exactly the rehearsed one.
    let (code, _, err) = run(&env, &["apply", &plan, "--yes"]);
    assert_eq!(code, 0, "{err}");
    let (code, real, _) = run(&env, &["diff", &before, "--live", "-o", "json"]);
    assert_eq!(code, 1);
    assert_eq!(changes(&real), planned);

    // Audit lines of the rehearsal say so.
    let audit = env.json(&["audit"]);
    assert!(audit
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["profile"] == "rehearsal"));
}

#[test]
fn a_change_to_the_original_in_between_makes_apply_refuse() {
    let env = Env::new();
    let before = path(&env, "before.json");
    let plan = path(&env, "plan.json");
    assert_eq!(run(&env, &["snapshot", "--out", &before]).0, 0);
    let (code, _, err) = run(
        &env,
        &[
            "--rehearse",
            &before,
            "groups",
            "add-member",
            "--group",
            "Sales",
            "--email",
            "partner@outside.org",
            "--plan-out",
            &plan,
        ],
    );
    assert_eq!(code, 0, "{err}");
    // Someone changes Sales on the real tenant meanwhile.
    env.json(&[
        "groups",
        "add-member",
        "--group",
        "Sales",
        "--email",
        "temp@outside.org",
    ]);
    let (code, _, err) = run(&env, &["apply", &plan, "--yes"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("the directory changed since") && err.contains("the members of group Sales"),
        "{err}"
    );
    assert!(!env
        .members("Sales")
        .contains(&"partner@outside.org".to_string()));

    // And a plan bound to this tenant is refused by any other (same admin, same plan key).
    let other = Env::new();
    let out = crate::support::isolated(env.dir.path().to_path_buf())
        .env("MIMECAST_BASE_URL", &other.sandbox.base_url)
        .env("MIMECAST_CLIENT_ID", &other.sandbox.keys.client_id)
        .env("MIMECAST_CLIENT_SECRET", &other.sandbox.keys.client_secret)
        .args(["apply", &plan, "--yes"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("made for another tenant"), "{err}");
}

#[test]
fn bad_snapshots_are_refused_with_exit_2_naming_the_place() {
    let env = Env::new();
    let good = path(&env, "good.json");
    assert_eq!(run(&env, &["snapshot", "--out", &good]).0, 0);
    let text = std::fs::read_to_string(&good).unwrap();
    let mut snap: Value = serde_json::from_str(&text).unwrap();
    let write = |name: &str, body: &str| -> String {
        let p = path(&env, name);
        std::fs::write(&p, body).unwrap();
        p
    };
    let truncated = write("truncated.json", &text[..text.len() / 2]);
    let mut v9 = snap.clone();
    v9["format"] = "mcsh-snapshot/9".into();
    let other = write("other.json", &v9.to_string());
    let members = snap["members"].as_object_mut().unwrap();
    let (_, some) = members
        .iter()
        .next()
        .map(|(k, v)| (k.clone(), v.clone()))
        .unwrap();
    members.insert("eNoNoSuchGroup".into(), some);
    let orphan = write("orphan.json", &snap.to_string());
    let mut dup: Value = serde_json::from_str(&text).unwrap();
    let first = dup["users"][0].clone();
    dup["users"].as_array_mut().unwrap().push(first);
    let twice = write("twice.json", &dup.to_string());

    let data: PathBuf = env.dir.path().join("data/mcsh/rehearsals");
    for (file, says) in [
        (&truncated, "truncated"),
        (&other, "mcsh-snapshot/9"),
        (
            &orphan,
            "members[eNoNoSuchGroup]: no group of the snapshot has that id",
        ),
        (&twice, "appears twice"),
    ] {
        for args in [
            vec!["diff", file.as_str(), good.as_str()],
            vec!["diff", good.as_str(), file.as_str()],
            vec!["--rehearse", file.as_str(), "users", "list"],
            vec![
                "sandbox",
                "serve",
                "--from",
                file.as_str(),
                "--state",
                ":memory:",
            ],
        ] {
            let (code, _, err) = run(&env, &args);
            assert_eq!(code, 2, "{args:?}: {err}");
            assert!(err.contains(says), "{args:?}: {err}");
            assert!(err.contains("nothing was started from it"), "{err}");
        }
    }
    let left = std::fs::read_dir(&data).map(|d| d.count()).unwrap_or(0);
    assert_eq!(left, 0, "no rehearsal state is made from a bad snapshot");
    let (code, _, _) = run(&env, &["diff", &good, &good]);
    assert_eq!(code, 0, "equal snapshots: exit 0");
}

#[test]
fn what_a_snapshot_cannot_hold_makes_a_rehearsal_plan_stale_not_wrong() {
    // The purge list is in no listing: a rehearsal copy does not know carol is queued. A plan
    // made there rests on probing her address, and the real tenant answers otherwise.
    let env = Env::new();
    let (code, _, err) = run(
        &env,
        &["users", "delete", "--email", "carol.okafor@company.com"],
    );
    assert_eq!(code, 0, "{err}");
    let before = path(&env, "before.json");
    let plan = path(&env, "plan.json");
    assert_eq!(run(&env, &["snapshot", "--out", &before]).0, 0);
    let (code, _, err) = run(
        &env,
        &[
            "--rehearse",
            &before,
            "users",
            "create",
            "--email",
            "carol.okafor@company.com",
            "--plan-out",
            &plan,
        ],
    );
    assert_eq!(code, 0, "the copy has no carol: {err}");
    let (code, _, err) = run(&env, &["apply", &plan, "--yes"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("whether carol.okafor@company.com is a user"),
        "{err}"
    );

    // A lock rehearsed is not a lock of the tenant.
    let (code, _, err) = run(
        &env,
        &[
            "--rehearse",
            &before,
            "users",
            "update",
            "--email",
            "vera.jensen@company.com",
            "--lock",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let user = env.json(&["users", "get", "--email", "vera.jensen@company.com"]);
    assert!(
        user["locked"].as_str().unwrap().starts_with("unknown"),
        "{user}"
    );
}

//! Ids are handles, not names: after the service gives every group a new id string (a
//! re-key, as Mimecast re-encrypts ids), an id copied from an earlier listing still names its
//! group, a plan made before still applies, a run made before is still undone, and two
//! snapshots either side of it differ in nothing.

use serde_json::Value;

use crate::support::{run, run_id, Env};

/// The id `groups list` answers now for the group named `name`.
fn id_of(env: &Env, name: &str) -> String {
    env.json(&["groups", "list"])
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["description"] == name)
        .unwrap_or_else(|| panic!("no group {name}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Re-keys the sandbox and checks that it did: `name`'s id string is not `before` now.
fn rekey(env: &Env, name: &str, before: &str) {
    assert!(env.sandbox.rekey().unwrap() > 1);
    assert_ne!(id_of(env, name), before, "the re-key changed the id string");
}

#[test]
fn the_seeds_list_then_add_by_id_works_across_a_rekey() {
    let env = Env::new();
    let copied = id_of(&env, "Sales");
    assert!(copied.starts_with("eNo"), "a real-shaped id: {copied}");
    rekey(&env, "Sales", &copied);
    let who = "carol.okafor@company.com";
    let (code, _, err) = run(
        &env,
        &["groups", "add-member", "--group", &copied, "--email", who],
    );
    assert_eq!(code, 0, "{err}");
    assert!(env.members("Sales").contains(&who.to_string()));
    // The member listing by the old id reads the same group.
    let (code, out, err) = run(
        &env,
        &["groups", "members", "--group", &copied, "-o", "json"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(who), "{out}");
}

#[test]
fn a_plan_made_before_a_rekey_applies_after_it() {
    let env = Env::new();
    let plan = env.dir.path().join("plan.json").display().to_string();
    let who = "carol.okafor@company.com";
    let (code, _, err) = run(
        &env,
        &[
            "--plan-out",
            &plan,
            "groups",
            "add-member",
            "--group",
            "Engineering/Platform",
            "--email",
            who,
        ],
    );
    assert_eq!(code, 0, "{err}");
    let before = id_of(&env, "Platform");
    rekey(&env, "Platform", &before);
    let (code, _, err) = run(&env, &["apply", &plan, "--yes"]);
    assert_eq!(code, 0, "not stale: only the id strings changed: {err}");
    assert!(env
        .members("Engineering/Platform")
        .contains(&who.to_string()));
    // What was sent and logged is the id the service answers now.
    let audit = std::fs::read_to_string(env.dir.path().join("state/mcsh/audit.jsonl")).unwrap();
    let last: Value = serde_json::from_str(audit.lines().last().unwrap()).unwrap();
    assert_eq!(last["item"]["id"], id_of(&env, "Platform"), "{last}");
}

#[test]
fn a_run_made_before_a_rekey_is_undone_after_it() {
    let env = Env::new();
    let who = "carol.okafor@company.com";
    let (code, _, err) = run(
        &env,
        &["groups", "add-member", "--group", "Sales", "--email", who],
    );
    assert_eq!(code, 0, "{err}");
    let id = run_id(&err);
    let before = id_of(&env, "Sales");
    rekey(&env, "Sales", &before);
    let (code, out, err) = run(&env, &["undo", &id, "--yes"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!env.members("Sales").contains(&who.to_string()));
    assert!(!out.contains("no group has its id"), "{out}");
}

#[test]
fn snapshots_either_side_of_a_rekey_differ_in_nothing() {
    let env = Env::new();
    let a = env.dir.path().join("a.json").display().to_string();
    let b = env.dir.path().join("b.json").display().to_string();
    assert_eq!(run(&env, &["snapshot", "--out", &a]).0, 0);
    let before = id_of(&env, "Platform");
    rekey(&env, "Platform", &before);
    assert_eq!(run(&env, &["snapshot", "--out", &b]).0, 0);
    let (code, out, err) = run(&env, &["diff", &a, &b]);
    assert_eq!(code, 0, "equal tenants: {out}{err}");
    // A real change still shows.
    let (code, _, err) = run(
        &env,
        &[
            "groups",
            "add-member",
            "--group",
            "Sales",
            "--email",
            "carol.okafor@company.com",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = run(&env, &["diff", &a, "--live"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("carol.okafor@company.com"), "{out}");
    assert!(!out.contains("group added"), "{out}");
}

#[test]
fn listings_of_planned_writes_tell_groups_apart_by_the_end_of_their_ids() {
    let env = Env::new();
    let (code, _, err) = run(
        &env,
        &[
            "--dry-run",
            "onboard",
            "--email",
            "zed@company.com",
            "--group",
            "Marketing",
            "--group",
            "Engineering/Platform",
        ],
    );
    assert_eq!(code, 0, "{err}");
    for name in ["Marketing", "Platform"] {
        let id = id_of(&env, name);
        let tail: String = id.chars().skip(id.chars().count() - 12).collect();
        assert!(
            err.contains(&format!("\"id\":\"…{tail}\"")),
            "{name}: {err}"
        );
    }
    // An id typed whole or a name of any length is told back cut short.
    let long = "x".repeat(300);
    let (code, _, err) = run(&env, &["groups", "members", "--group", &long]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("(300 characters in all)"), "{err}");
    assert!(err.len() < 1000, "{err}");
}

//! Admins' own scripts as fast and as safe as the workflows: a loop of single-item calls ends
//! as the same calls one by one would (rows, results, audit, undo, dry run, plan) while it
//! sends batches; a run reads each thing once; a refusal the loop could not foresee stops it
//! at the right line; mcsh's options, fields and functions are checked before anything is
//! sent.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::support::{Env, Scheme};

fn script(env: &Env, name: &str, source: &str) -> String {
    let path = env.dir.path().join(name);
    std::fs::write(&path, source).unwrap();
    path.display().to_string()
}

/// Runs `args` with `-vv`; (exit code, stdout, stderr, requests sent by endpoint path).
fn run(env: &Env, args: &[&str]) -> (i32, String, String, BTreeMap<String, usize>) {
    let out = env
        .mcsh(Scheme::OAuth)
        .arg("-vv")
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let mut requests = BTreeMap::new();
    for line in stderr.lines() {
        if let Some(rest) = line.strip_prefix("http: POST ") {
            let path = rest.split_whitespace().next().unwrap_or("").to_string();
            *requests.entry(path).or_insert(0) += 1;
        }
    }
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        stderr,
        requests,
    )
}

fn count(requests: &BTreeMap<String, usize>, path: &str) -> usize {
    requests.get(path).copied().unwrap_or(0)
}

/// The audit log's (endpoint, item, outcome) of each line, sorted: what was written and how
/// it ended, whatever order the batches went out in.
fn audit(env: &Env) -> Vec<(String, String, String)> {
    let path = env.dir.path().join("state/mcsh/audit.jsonl");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut lines: Vec<(String, String, String)> = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|v| {
            (
                v["endpoint"].as_str().unwrap_or("").to_string(),
                v["item"].to_string(),
                v["outcome"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    lines.sort();
    lines
}

/// A loop an admin writes first: create people, put them in groups, move others, rename.
const LOOP: &str = r#"
let n = 0;
for u in users("example.com") {
    add_member("Sales", u.emailAddress);
    n += 1;
}
for i in 0..5 {
    create_user(`loop.person${i}@company.com`, `Loop Person ${i}`);
    add_member("All Staff", `loop.person${i}@company.com`);
    add_member("Engineering", `loop.person${i}@company.com`);
}
for m in members("Marketing") {
    remove_member("Marketing", m.emailAddress);
    add_member("Finance", m.emailAddress);
}
update_user("loop.person0@company.com", #{ name: "Renamed Person" });
ensure_user("loop.person1@company.com", "Ensured Name");
ensure_user("loop.person2@company.com", "Loop Person 2");
ensure_user("loop.ensured@company.com", "Made By Ensure");
ensure_member("Support", "loop.ensured@company.com");
ensure_member("Support", "loop.ensured@company.com");
add_member("Sales", "alice.anderson@company.com");
remove_member("Sales", "alice.anderson@company.com");
add_member("Sales", "alice.anderson@company.com");
print(`${n} added`);
"#;

/// The same calls, each made inside `try`, where a script waits for every answer.
fn one_by_one(source: &str) -> String {
    source
        .lines()
        .map(|l| {
            let t = l.trim_end();
            let call = t.trim_start();
            let single = [
                "add_member(",
                "remove_member(",
                "create_user(",
                "update_user(",
                "ensure_user(",
                "ensure_member(",
            ];
            if single.iter().any(|s| call.starts_with(s)) && t.ends_with(';') {
                format!("try {{ {call} }} catch (e) {{ throw e; }}")
            } else {
                t.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The memberships of the groups the loop touches, and every user.
fn state(env: &Env) -> Vec<Vec<String>> {
    vec![
        env.members("Sales"),
        env.members("All Staff"),
        env.members("Marketing"),
        env.members("Finance"),
        env.user_emails(),
    ]
}

#[test]
fn a_loop_of_single_calls_sends_batches_and_ends_as_the_calls_one_by_one() {
    let queued = Env::new();
    let waited = Env::new();
    let a = script(&queued, "loop.rhai", LOOP);
    let b = script(&waited, "loop.rhai", &one_by_one(LOOP));
    let (code_a, out_a, err_a, req_a) = run(&queued, &["run", &a]);
    let (code_b, out_b, err_b, req_b) = run(&waited, &["run", &b]);
    assert_eq!((code_a, code_b), (0, 0), "{err_a}\n{err_b}");
    // The rows printed, the directory left and every audit line are the same.
    assert_eq!(out_a, out_b);
    assert_eq!(out_a.trim(), "14 added");
    assert_eq!(state(&queued), state(&waited));
    assert!(queued.members("Finance").len() > waited.members("Marketing").len());
    assert_eq!(audit(&queued), audit(&waited));
    let renamed = queued.json(&["users", "list", "--domain", "company.com"]);
    assert!(renamed
        .as_array()
        .unwrap()
        .iter()
        .any(|u| u["name"] == "Renamed Person"));
    // One by one: a request per write. Queued: the 14 adds to Sales went out together, and
    // so did the creations, and the memberships; the add, remove and add of one pair kept
    // their order (three rounds), so a round per dependency, not per item.
    let adds = |r: &BTreeMap<String, usize>| count(r, "/api/directory/add-group-member");
    assert!(adds(&req_b) >= 14 + 10 + 3 + 2, "{req_b:?}");
    assert!(adds(&req_a) <= 8, "the adds went out one by one: {req_a:?}");
    // ensure_user of a user with a queued write sends the queue first (it decides from a
    // read): the creations went out in two requests, not six.
    assert!(count(&req_a, "/api/user/create-user") <= 2, "{req_a:?}");
    assert_eq!(count(&req_b, "/api/user/create-user"), 6);
    // The run is one run: `mcsh undo` takes it all back.
    let undo = queued
        .mcsh(Scheme::OAuth)
        .args(["undo", "--last", "--yes"])
        .output()
        .unwrap();
    assert!(
        undo.status.success(),
        "{}",
        String::from_utf8_lossy(&undo.stderr)
    );
    assert_eq!(queued.members("Sales"), Env::new().members("Sales"));
    assert_eq!(queued.members("Marketing"), Env::new().members("Marketing"));
}

#[test]
fn reads_later_in_the_run_see_the_runs_own_writes() {
    let env = Env::new();
    let s = script(
        &env,
        "ryw.rhai",
        r#"
fn check(cond, what) { if !cond { throw `check failed: ${what}`; } }
for u in users("example.com") { add_member("Sales", u.emailAddress); }
let now = members("Sales").map(|m| m.emailAddress);
check(users("example.com").all(|u| now.contains(u.emailAddress)), "members() after the adds");
create_user("ryw.one@company.com", "R One");
check(user("ryw.one@company.com").name == "R One", "user() after create_user");
add_member("Support", "ryw.one@company.com");
check(groups_of("ryw.one@company.com").map(|g| g.description).contains("Support"), "groups_of() after add_member");
remove_member("Support", "ryw.one@company.com");
check(!groups_of("ryw.one@company.com").map(|g| g.description).contains("Support"), "groups_of() after remove_member");
update_user("ryw.one@company.com", #{ name: "R Two" });
check(user("ryw.one@company.com").name == "R Two", "user() after update_user");
print("ok");
"#,
    );
    let (code, out, err, _) = run(&env, &["run", &s]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "ok");
}

#[test]
fn a_run_reads_each_thing_once() {
    let env = Env::new();
    let s = script(
        &env,
        "reads.rhai",
        r#"
let n = 0;
for i in 0..30 { if group("Sales") != () { n += 1 } }
for i in 0..3 { n += members("Engineering").len() }
for i in 0..5 { if profile() != "" && account().name != () { n += 1 } }
for u in users("example.com") {
    n += groups_of(u.emailAddress).len();
    if user(u.emailAddress) != () { n += 1 }
}
add_member("Engineering", "alice.anderson@company.com");
n += members("Engineering").len();
print(n);
"#,
    );
    let (code, _, err, req) = run(&env, &["run", &s]);
    assert_eq!(code, 0, "{err}");
    // One listing of groups for 30 lookups, 14 groups_of and the adds; one read of each
    // group's members (the scan), though Engineering was asked for 4 times; the users of
    // example.com twice at most (the listing, and the lookups' one pass).
    assert_eq!(count(&req, "/api/directory/find-groups"), 1, "{req:?}");
    assert_eq!(
        count(&req, "/api/directory/get-group-members"),
        9,
        "{req:?}"
    );
    assert!(count(&req, "/api/user/get-internal-users") <= 2, "{req:?}");
    // The account is asked for once, for five profile() and five account().
    assert_eq!(count(&req, "/api/account/get-account"), 1, "{req:?}");
}

#[test]
fn a_user_lookup_asks_for_aliases_only_where_the_script_can_see_them() {
    let env = Env::new();
    let s = script(
        &env,
        "exists.rhai",
        r#"
let found = [];
for e in ["alice.anderson@company.com", "nobody@company.com", "bob.hughes@company.com"] {
    if user(e) != () { found.push(e) }
    let u = user(e);
    if u != () && u.name != "" { found.push(u.name) }
}
print(found);
let a = user("alice.anderson@company.com");
print(a.aliases);
"#,
    );
    let (code, out, err, req) = run(&env, &["run", &s]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            r#"["alice.anderson@company.com", "Alice Anderson", "bob.hughes@company.com", "Bob Hughes"]"#,
            r#"["alice@company.com"]"#
        ],
        "{err}"
    );
    // Six lookups whose aliases nothing sees, one whose aliases are printed.
    assert_eq!(count(&req, "/api/user/get-aliases"), 1, "{req:?}");
}

#[test]
fn what_the_review_of_skipped_aliases_found_is_closed() {
    let env = Env::new();
    let alice = "alice.anderson@company.com";
    // A loop's `break u` hands the user out; a `const` is read by functions too.
    let s = script(
        &env,
        "handed.rhai",
        &format!(
            r#"
let found = for e in ["{alice}"] {{ let u = user(e); if u != () {{ break u; }} }};
print(found.aliases);
const U = user("{alice}");
fn aliases_of() {{ global::U.aliases }}
if U != () {{ print(aliases_of()); }}
"#
        ),
    );
    let (code, out, err, _) = run(&env, &["run", &s]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [r#"["alice@company.com"]"#, r#"["alice@company.com"]"#],
        "{err}"
    );

    // A module of the admin's whose import path is the script's own name runs under that
    // name: its calls are not the script's.
    std::fs::create_dir_all(env.dir.path().join("sub/sub")).unwrap();
    std::fs::write(
        env.dir.path().join("sub/x.rhai"),
        format!("import \"sub/x.rhai\" as m;\nlet n = user(\"{alice}\").name;\n"),
    )
    .unwrap();
    std::fs::write(
        env.dir.path().join("sub/sub/x.rhai"),
        format!("// another file\nprint(  user(\"{alice}\").aliases);\n"),
    )
    .unwrap();
    let out = env
        .mcsh(Scheme::OAuth)
        .current_dir(env.dir.path())
        .args(["run", "sub/x.rhai"])
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(stdout.trim(), r#"["alice@company.com"]"#, "{stderr}");

    // Past column 65 535 Rhai's positions stop counting: a used write there is not queued
    // as the unused one beside it is.
    let pad = "x".repeat(70_000);
    let s = script(
        &env,
        "long.rhai",
        &format!(
            "let pad = \"{pad}\"; add_member(\"Sales\", \"{alice}\"); let r = add_member(\"Engineering\", \"bob.hughes@company.com\"); print(r.status);\n"
        ),
    );
    let (code, out, err, _) = run(&env, &["run", &s]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "created", "{err}");

    // A user with no aliases has an empty list, fetched or not, and a misspelt `aliases` is
    // told as such either way.
    for source in [
        "let u = user(\"bob.hughes@company.com\"); print(u.aliases.len()); print(u);",
        "print(user(\"bob.hughes@company.com\").aliases.len());",
    ] {
        let (code, out, err, _) = run(&env, &["-e", source]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(out.lines().next(), Some("0"), "{source}: {err}");
    }
    let (code, _, err, _) = run(&env, &["-e", "user(\"bob.hughes@company.com\").aliasses"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("did you mean `aliases`?"), "{err}");
}

#[test]
fn find_users_reads_a_domain_once_a_run_and_user_lookups_after_it_read_nothing() {
    let env = Env::new();
    let source = r#"
let a = find_users(["alice.anderson@company.com"]);
let b = find_users(["Bob.Hughes@company.com", "nobody@company.com"]);
let c = user("carol.okafor@company.com");
create_user("fresh.hire.x@company.com", "Fresh Hire");
let d = find_users(["fresh.hire.x@company.com", "alice.anderson@company.com"]);
print([a.len(), b.len(), if c != () { c.name } else { "" }, d.len(), d["fresh.hire.x@company.com"].name]);
"#;
    let s = script(&env, "twice.rhai", source);
    // A dry run reads again (its listing holds planned users) and answers as the run will.
    let (code, out, err, _) = run(&env, &["--dry-run", "run", &s]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(r#"[1, 1, "Carol Okafor", 2, "Fresh Hire"]"#),
        "{out}\n{err}"
    );
    let (code, out, err, req) = run(&env, &["run", &s]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.trim(),
        r#"[1, 1, "Carol Okafor", 2, "Fresh Hire"]"#,
        "{err}"
    );
    // company.com is one page: read once for three find_users and a lookup; the user the
    // run created is found from what the run knows.
    assert_eq!(count(&req, "/api/user/get-internal-users"), 1, "{req:?}");
}

#[test]
fn onboarding_one_person_a_loop_reads_the_users_once_and_still_sees_aliases() {
    let env = Env::new();
    env.json(&[
        "users",
        "update",
        "--email",
        "alice.anderson@company.com",
        "--alias",
        "al.y@company.com",
    ]);
    // The loop an admin writes first: one person a call, each call reading the users (and
    // their alias addresses) to know whom to create.
    let source = r#"
import "onboard" as onboard;
let out = [];
for e in ["loop.a@company.com", "al.y@company.com", "loop.b@company.com"] {
    for r in onboard::person(e, "Loop Person", ["Sales"], #{}) {
        if r.step == "user" { out.push(`${r.emailAddress} ${r.status}`); }
    }
}
// A new alias, added by the run: the next call reads the users again and sees it.
add_alias("bob.hughes@company.com", "bo.y@company.com");
for r in onboard::person("bo.y@company.com", "Not Bob", ["Sales"], #{}) {
    if r.step == "user" { out.push(`${r.emailAddress} ${r.status}`); }
}
print(out);
"#;
    let s = script(&env, "loop.rhai", source);
    let (code, out, err, req) = run(&env, &["run", &s]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.trim(),
        r#"["loop.a@company.com created", "al.y@company.com failed", "loop.b@company.com created", "bo.y@company.com failed"]"#,
        "{err}"
    );
    // Once for the first three calls; once more after the alias the run added.
    assert_eq!(count(&req, "/api/user/get-internal-users"), 2, "{req:?}");
    assert!(env
        .json(&["groups", "members", "--group", "Sales"])
        .to_string()
        .contains("loop.b@company.com"));
}

#[test]
fn a_plan_resting_on_a_users_aliases_is_not_applied_once_they_changed() {
    let env = Env::new();
    let bob = "bob.hughes@company.com";
    let s = script(
        &env,
        "alias.rhai",
        &format!(
            "let u = user(\"{bob}\");\nif u.aliases.len() == 0 {{ add_member(\"Finance\", u.emailAddress); }}\n"
        ),
    );
    let plan = env.dir.path().join("plan.json").display().to_string();
    let (code, _, err, _) = run(&env, &["--plan-out", &plan, "run", &s]);
    assert_eq!(code, 0, "{err}");
    // Someone gives bob an alias: the plan's premise no longer holds.
    let (code, _, err, _) = run(
        &env,
        &[
            "-e",
            &format!("add_alias(\"{bob}\", \"bobby@company.com\")"),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let (code, _, err, _) = run(&env, &["apply", &plan, "--yes"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("the directory changed since")
            && err.contains(&format!("the aliases of {bob}")),
        "{err}"
    );
    assert!(!env.members("Finance").contains(&bob.to_string()));
}

#[test]
fn a_refusal_no_read_could_foresee_stops_the_script_at_its_line() {
    let env = Env::new();
    let s = script(
        &env,
        "refused.rhai",
        r#"create_user("new.one@company.com", "New One");
create_user("alice.anderson@company.com", "Taken");
add_member("Sales", "new.one@company.com");
create_user("new.two@company.com", "New Two");
create_user("bob.hughes@company.com", "Taken Too");
print("reached the end");
"#,
    );
    let (code, out, err, _) = run(&env, &["run", &s]);
    // Writes queued after the refused one had already gone out: partial, exit 3.
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("refused.rhai:2:1"), "{err}");
    assert!(err.contains("err_user_already_exists"), "{err}");
    assert!(err.contains("create_user new.two@company.com"), "{err}");
    // Of the writes sent with it, one was done (undo takes it back) and one refused too.
    assert!(
        err.contains("2 write(s) queued after it had already been sent (create_user")
            && err.contains(
                "refused.rhai:5:1)): 1 done, which `mcsh undo` takes back, and 1 refused too"
            ),
        "{err}"
    );
    assert!(
        err.contains("1 write(s) queued after it were not sent, and the script stopped here"),
        "{err}"
    );
    // Printed after the refused call: one by one it never would have been.
    assert!(!out.contains("reached the end"), "{out}");
    let users = env.user_emails();
    assert!(users.contains(&"new.one@company.com".to_string()));
    assert!(users.contains(&"new.two@company.com".to_string()));
    // The membership that depended on nothing refused was never sent.
    assert!(!env
        .members("Sales")
        .contains(&"new.one@company.com".to_string()));
    // What went out is one run, and undo takes it back.
    let undo = env
        .mcsh(Scheme::OAuth)
        .args(["undo", "--last", "--yes"])
        .output()
        .unwrap();
    assert!(
        undo.status.success(),
        "{}",
        String::from_utf8_lossy(&undo.stderr)
    );
    let users = env.user_emails();
    assert!(!users.contains(&"new.two@company.com".to_string()));

    // Nothing after it had gone out: exit 1, as an uncaught refusal one by one.
    let env = Env::new();
    let s = script(
        &env,
        "alone.rhai",
        "add_member(\"Sales\", \"carol.okafor@company.com\");\nupdate_user(\"ghost@company.com\", #{ name: \"G\" });\nprint(1);\n",
    );
    let (code, _, err, _) = run(&env, &["run", &s]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("alone.rhai:2:1"), "{err}");
    assert!(env
        .members("Sales")
        .contains(&"carol.okafor@company.com".to_string()));
}

#[test]
fn try_and_used_results_get_the_real_answer_at_once() {
    let env = Env::new();
    let s = script(
        &env,
        "try.rhai",
        r#"
let caught = "";
try { create_user("alice.anderson@company.com"); } catch (e) { caught = e.code; }
let r = add_member("Sales", "carol.okafor@company.com");
let again = add_member("Sales", "carol.okafor@company.com");
print(`${caught} ${r.status} ${again.status}`);
"#,
    );
    let (code, out, err, _) = run(&env, &["run", &s]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "err_user_already_exists created unchanged");
}

#[test]
fn planning_a_loop_reads_no_more_than_running_it_and_apply_ends_the_same() {
    let planned = Env::new();
    let real = Env::new();
    let body = r#"
for u in users("example.com") { add_member("Sales", u.emailAddress); }
for u in users("example.com") { remove_member("Support", u.emailAddress); add_member("Finance", u.emailAddress); }
"#;
    let p = script(&planned, "plan.rhai", body);
    let r = script(&real, "plan.rhai", body);
    let plan = planned.dir.path().join("plan.json").display().to_string();
    let (code, _, err, reads) = run(&planned, &["--plan-out", &plan, "run", &p]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err, sent) = run(&real, &["run", &r]);
    assert_eq!(code, 0, "{err}");
    // Planning reads what running reads, no more: the script read no group's members, so
    // neither does its plan, however many writes it foresaw.
    for path in [
        "/api/directory/get-group-members",
        "/api/directory/find-groups",
        "/api/user/get-internal-users",
        "/api/user/get-aliases",
    ] {
        assert_eq!(
            count(&reads, path),
            count(&sent, path),
            "{path}: {reads:?} {sent:?}"
        );
    }
    assert_eq!(count(&reads, "/api/directory/get-group-members"), 0);
    assert_eq!(count(&reads, "/api/directory/add-group-member"), 0);
    let (code, _, err, applied) = run(&planned, &["apply", &plan, "--yes"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(planned.members("Sales"), real.members("Sales"));
    assert_eq!(planned.members("Finance"), real.members("Finance"));
    assert_eq!(planned.members("Support"), real.members("Support"));
    // apply batches across kinds: the removes and adds of different pairs went out together.
    let writes = |r: &BTreeMap<String, usize>| {
        count(r, "/api/directory/add-group-member") + count(r, "/api/directory/remove-group-member")
    };
    assert!(writes(&applied) <= 3, "{applied:?}");
    assert!(writes(&sent) <= 3, "{sent:?}");
}

#[test]
fn a_scripts_dry_run_foresees_from_what_the_script_read() {
    // The script read Sales's members: its plan knows that nobody is no member and that the
    // second add of carol changes nothing, and reads the group no more than the real run.
    let env = Env::new();
    let f = script(
        &env,
        "known.rhai",
        r#"
let before = members("Sales").len();
remove_member("Sales", "nobody@company.com");
add_member("Sales", "carol.okafor@company.com");
add_member("Sales", "carol.okafor@company.com");
print(`${before}`);
"#,
    );
    let (code, _, err, planned) = run(&env, &["--dry-run", "run", &f]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("dry run: 1 write(s) planned"), "{err}");
    assert!(
        !err.contains("rest on what the script did not read"),
        "{err}"
    );
    assert_eq!(
        count(&planned, "/api/directory/get-group-members"),
        1,
        "{planned:?}"
    );
    let (code, _, err, sent) = run(&env, &["run", &f]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        count(&sent, "/api/directory/get-group-members"),
        1,
        "{sent:?}"
    );
    assert!(env
        .members("Sales")
        .contains(&"carol.okafor@company.com".to_string()));
}

#[test]
fn a_loop_over_many_groups_sends_their_memberships_together() {
    // One add to each of 30 groups: one request, as `add_memberships` sends them, not one
    // per group; each result and audit line still names its own group.
    let env = Env::new();
    for i in 0..30 {
        env.create_group_raw(&format!("Team {i:02}"));
    }
    let f = script(
        &env,
        "teams.rhai",
        "for i in 0..30 { add_member(`Team ${if i < 10 { \"0\" } else { \"\" }}${i}`, \"carol.okafor@company.com\"); }\n",
    );
    let (code, _, err, sent) = run(&env, &["run", &f]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        count(&sent, "/api/directory/add-group-member"),
        1,
        "{sent:?}"
    );
    for i in [0, 7, 29] {
        assert_eq!(
            env.members(&format!("Team {i:02}")),
            ["carol.okafor@company.com"]
        );
    }
    let log = std::fs::read_to_string(env.dir.path().join("state/mcsh/audit.jsonl")).unwrap();
    let added: Vec<String> = log
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["endpoint"] == "/api/directory/add-group-member")
        .map(|v| v["message"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(added.len(), 30, "{added:?}");
    assert_eq!(added[0], "added to Team 00");
    assert_eq!(added[29], "added to Team 29");
}

#[test]
fn a_users_loop_foresees_its_renames_and_undo_restores_the_names_it_read() {
    // The loop read every user it renames: the dry run foresees the refusal of the
    // directory-synced one at its line, as the real run meets it, and undo of the real run
    // puts back each name the loop read.
    let env = Env::new();
    let before = env.json(&["users", "list", "--domain", "example.com"]);
    let f = script(
        &env,
        "bang.rhai",
        "for u in users(\"example.com\") {\n    update_user(u.emailAddress, #{ name: u.name + \"!\" });\n}\n",
    );
    let (dry, _, dry_err, _) = run(&env, &["--dry-run", "run", &f]);
    let (real, _, real_err, _) = run(&env, &["run", &f]);
    assert_ne!(real, 0, "{real_err}");
    assert_eq!(dry, real, "{dry_err}\n---\n{real_err}");
    for err in [&dry_err, &real_err] {
        assert!(
            err.contains("bang.rhai:2:5")
                && err.contains("err_xdk_operation_forbidden_for_address"),
            "{err}"
        );
        assert!(
            !err.contains("rest on what the script did not read"),
            "{err}"
        );
    }
    let run_id = crate::support::run_id(&real_err);
    let (code, _, err, _) = run(&env, &["undo", &run_id, "--yes"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        env.json(&["users", "list", "--domain", "example.com"]),
        before,
        "{err}"
    );
}

#[test]
fn undo_of_a_run_that_renamed_the_same_users_twice_puts_back_their_first_names() {
    let env = Env::new();
    let before = env.json(&["users", "list", "--domain", "company.com"]);
    let pass = |suffix: &str| {
        format!(
            "for u in users(\"company.com\") {{ if u.emailAddress.starts_with(\"a\") {{ update_user(u.emailAddress, #{{ name: u.name + \" {suffix}\" }}); }} }}\n"
        )
    };
    let f = script(&env, "twice.rhai", &format!("{}{}", pass("1"), pass("2")));
    let (code, _, err, _) = run(&env, &["run", &f]);
    assert_eq!(code, 0, "{err}");
    let renamed = env.json(&["users", "get", "--email", "alice.anderson@company.com"]);
    assert_eq!(renamed["name"], "Alice Anderson 1 2", "{renamed}");
    let run_id = crate::support::run_id(&err);
    let (code, _, err, _) = run(&env, &["undo", &run_id, "--yes"]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("renamed since outside this run"), "{err}");
    assert_eq!(
        env.json(&["users", "list", "--domain", "company.com"]),
        before,
        "{err}"
    );
}

#[test]
fn a_refusal_whose_later_writes_were_refused_too_changed_nothing() {
    // Every directory-synced user's rename is refused: nothing changed, so exit 1 (as one
    // by one), and the message says so rather than offering an undo.
    let env = Env::new();
    let f = script(
        &env,
        "synced.rhai",
        "for u in users() { if u.source == \"ldap\" { update_user(u.emailAddress, #{ name: \"X\" }); } }\nprint(\"after\");\n",
    );
    let (real, _, real_err, _) = run(&env, &["run", &f]);
    assert_eq!(real, 1, "{real_err}");
    assert!(real_err.contains("and were refused too"), "{real_err}");
    assert!(!real_err.contains("takes back"), "{real_err}");
    let (dry, _, dry_err, _) = run(&env, &["--dry-run", "run", &f]);
    assert_eq!(dry, 1, "{dry_err}");
    assert!(dry_err.contains(": 0 planned, and "), "{dry_err}");
    assert!(dry_err.contains("dry run: 0 write(s) planned"), "{dry_err}");
}

#[test]
fn a_call_whose_result_the_script_uses_is_foreseen_by_reading() {
    // Only queued calls, whose results the script never sees, are planned without reading:
    // a result the script uses says what the real run's would.
    let env = Env::new();
    let f = script(
        &env,
        "used.rhai",
        "let r = add_member(\"Sales\", \"bob.hughes@company.com\");\nprint(r.status);\n",
    );
    let (code, out, err, _) = run(&env, &["--dry-run", "run", &f]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "unchanged", "{err}");
    assert!(
        !err.contains("rest on what the script did not read"),
        "{err}"
    );
}

#[test]
fn apply_stops_where_the_script_would_have_stopped() {
    // bob is queued for deletion: the update is refused, and the script stops there, so
    // the add and remove queued after it are never sent. Its plan, made without reading
    // bob, holds all three: applied, it stops after the refusal as the script did.
    let body = r#"
update_user("bob.hughes@company.com", #{ name: "Bob" });
add_member("Sales", "bob.hughes@company.com");
remove_member("Sales", "bob.hughes@company.com");
print("done");
"#;
    let planned = Env::new();
    let real = Env::new();
    for env in [&planned, &real] {
        let (code, _, err, _) = run(
            env,
            &[
                "users",
                "delete",
                "--email",
                "bob.hughes@company.com",
                "--yes",
            ],
        );
        assert_eq!(code, 0, "{err}");
    }
    let (code, _, err, _) = run(&real, &["run", &script(&real, "bob.rhai", body)]);
    assert_eq!(code, 1, "{err}");
    let plan = planned.dir.path().join("bob.json").display().to_string();
    let f = script(&planned, "bob.rhai", body);
    let (code, _, err, _) = run(&planned, &["--plan-out", &plan, "run", &f]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err, sent) = run(&planned, &["apply", &plan, "--yes", "-o", "jsonl"]);
    // Nothing was done, as in the real run.
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("apply: 3 write(s), 3 failed (2 of them not sent"),
        "{err}"
    );
    assert_eq!(
        count(&sent, "/api/directory/remove-group-member"),
        0,
        "{sent:?}"
    );
    assert_eq!(out.matches("not sent").count(), 2, "{out}");
    assert_eq!(planned.members("Sales"), real.members("Sales"));
    assert!(real
        .members("Sales")
        .contains(&"bob.hughes@company.com".to_string()));
}

#[test]
fn a_plans_writes_are_in_the_order_of_the_calls_every_time() {
    // A remove and an add on one group, and an add and a remove on another, go out together,
    // in jobs that end in any order: the plan lists them as the script called them, every
    // time (before, about one plan in six came out in another order). The last call is the
    // script's value, so it waits for its answer: it reads Sales and foresees that nobody is
    // no member (the queued ones before it are planned without reading).
    let env = Env::new();
    let source = "remove_member(\"Engineering/Platform\", \"alice.anderson@company.com\");\n\
                  add_member(\"Engineering/Platform\", \"newbie@company.com\");\n\
                  add_member(\"Sales\", \"newbie@company.com\");\n\
                  remove_member(\"Sales\", \"nobody@company.com\");\n";
    let f = script(&env, "order.rhai", source);
    let plan = env.dir.path().join("order.json").display().to_string();
    for _ in 0..60 {
        let (code, _, err, _) = run(&env, &["--plan-out", &plan, "run", &f]);
        assert_eq!(code, 0, "{err}");
        let saved: Value = serde_json::from_str(&std::fs::read_to_string(&plan).unwrap()).unwrap();
        let order: Vec<(String, String)> = saved["writes"]
            .as_array()
            .unwrap_or_else(|| panic!("{saved}"))
            .iter()
            .map(|w| {
                (
                    w["endpoint"]
                        .as_str()
                        .unwrap_or("")
                        .rsplit('/')
                        .next()
                        .unwrap_or("")
                        .to_string(),
                    w["item"]["emailAddress"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        let expected = [
            ("remove-group-member", "alice.anderson@company.com"),
            ("add-group-member", "newbie@company.com"),
            ("add-group-member", "newbie@company.com"),
        ]
        .map(|(e, a)| (e.to_string(), a.to_string()));
        assert_eq!(order, expected, "{err}");
    }
}

#[test]
fn planning_asks_whether_many_addresses_are_users_in_one_request() {
    let env = Env::new();
    // rosa.patel is queued for deletion: in no listing, yet the service refuses to create him.
    let (code, _, err, _) = run(
        &env,
        &[
            "users",
            "delete",
            "--email",
            "rosa.patel@example.com",
            "--yes",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let creates = script(
        &env,
        "create.rhai",
        r#"
for i in 1..=40 { create_user(`new${i}@example.com`, "New"); }
create_user("rosa.patel@example.com", "Rosa");
print("planned");
"#,
    );
    let (code, _, err, req) = run(&env, &["--dry-run", "run", &creates]);
    // 41 addresses asked about in one get-aliases request; david's create foreseen as refused.
    assert_eq!(count(&req, "/api/user/get-aliases"), 1, "{req:?}");
    assert_eq!(count(&req, "/api/user/get-internal-users"), 0, "{req:?}");
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("create.rhai:3"), "{err}");
    assert!(err.contains("err_user_already_exists"), "{err}");
    assert_eq!(count(&req, "/api/user/create-user"), 0, "{req:?}");

    // A script's dry run reads nothing the real run does not: an update or delete of a user
    // the script never looked up is planned (and counted as not foreseen), and the real run
    // learns the refusal from the service, at the call's line. A script that looked the user
    // up first gets the refusal foreseen, at the same line with the same code: an update of a
    // user queued for deletion (not found), of a user directory sync manages, of an unknown
    // address.
    let cases = [
        (
            "update_user",
            "rosa.patel@example.com",
            "err_user_not_found",
        ),
        (
            "update_user",
            "zoe.costa@example.com",
            "err_xdk_operation_forbidden_for_address",
        ),
        ("update_user", "nobody@example.com", "err_user_not_found"),
        ("delete_user", "nobody@example.com", "err_user_not_found"),
    ];
    let error = |err: &str| -> String {
        let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error")).collect();
        assert_eq!(lines.len(), 1, "{err}");
        lines[0].to_string()
    };
    let reads = |req: &BTreeMap<String, usize>| {
        (
            count(req, "/api/user/get-internal-users"),
            count(req, "/api/user/get-aliases"),
        )
    };
    for (function, refused, code) in cases {
        let args = if function == "update_user" {
            r#", #{ name: "Renamed" }"#
        } else {
            ""
        };
        // Line 4 is a call the service takes: a listed user, or deleting a queued one again.
        let taken = if function == "update_user" {
            "samuel.walsh@example.com"
        } else {
            "rosa.patel@example.com"
        };
        for looked_up in [false, true] {
            let first = if looked_up {
                format!("let known = user(\"{refused}\"); ")
            } else {
                String::new()
            };
            let source = format!(
                "for e in [\"samuel.walsh@example.com\", \"tara.garcia@example.com\"] {{\n    \
                 {function}(e{args});\n}}\n{function}(\"{taken}\"{args});\n\
                 {first}{function}(\"{refused}\"{args});\nprint(\"planned\");\n"
            );
            let f = script(&env, "change.rhai", &source);
            let (dry, _, dry_err, dry_req) = run(&env, &["--dry-run", "run", &f]);
            let (real, _, real_err, real_req) = run(&env, &["run", &f]);
            assert_eq!(real, 1, "{source}\n{real_err}");
            let real_told = error(&real_err);
            assert!(real_told.contains(code), "{source}\n{real_told}");
            let line = if looked_up {
                format!("change.rhai:5:{}", first.len() + 1)
            } else {
                "change.rhai:5:1".to_string()
            };
            assert!(real_told.contains(&line), "{source}\n{real_told}");
            // The dry run reads what the real run reads, no more.
            assert_eq!(reads(&dry_req), reads(&real_req), "{source}\n{dry_err}");
            let foreseen =
                looked_up && (function, refused) != ("delete_user", "nobody@example.com");
            if foreseen {
                assert_eq!(dry, 1, "{source}\n{dry_err}");
                let told = error(&dry_err);
                assert!(told.contains(code), "{source}\n{told}");
                assert!(told.contains(&line), "{source}\n{told}");
            } else {
                assert_eq!(dry, 0, "{source}\n{dry_err}");
                // The first three were planned before the lookup (a read sends the queue
                // first), and a listing does not tell whether an unlisted address is queued.
                assert!(
                    dry_err.contains("dry run: 4 write(s) planned")
                        && dry_err.contains("  4 of them rest on what the script did not read"),
                    "{source}\n{dry_err}"
                );
            }
        }
    }
}

#[test]
fn mcsh_options_after_a_scripts_arguments_are_refused_before_anything_is_sent() {
    let env = Env::new();
    let s = script(
        &env,
        "opts.rhai",
        "add_member(\"Sales\", \"carol.okafor@company.com\");\nprint(args);\n",
    );
    for late in [
        "--dry-run",
        "--plan-out=p.json",
        "--yes",
        "-y",
        "--profile=x",
        "--sandbox",
        "--rehearse=s",
        "-yv",
        "--dryrun",
        "--dry-ru",
        "--sanbox",
    ] {
        let out = env
            .mcsh(Scheme::OAuth)
            .args(["run", &s, "arg", late])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{late}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("after the script's own arguments") || err.contains("looks like mcsh's"),
            "{late}: {err}"
        );
        let out = env
            .mcsh(Scheme::OAuth)
            .args([&s, "arg", late])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "shebang form, {late}");
    }
    assert!(!env
        .members("Sales")
        .contains(&"carol.okafor@company.com".to_string()));
    // After `--` they are the script's, on purpose.
    let out = env
        .mcsh(Scheme::OAuth)
        .args(["--dry-run", "run", &s, "arg", "--", "--dry-run"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        r#"["arg", "--dry-run"]"#
    );
    let out = env
        .mcsh(Scheme::OAuth)
        .args(["--dry-run", "run", &s, "--", "--dry-run"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        r#"["--dry-run"]"#
    );
}

#[test]
fn a_misspelt_field_or_function_stops_the_script_before_it_writes() {
    let env = Env::new();
    let before = env.user_emails();
    let s = script(
        &env,
        "field.rhai",
        "for u in users().filter(|u| u.domian == \"example.com\") { delete_user(u.emailAddress); }\n",
    );
    let out = env.mcsh(Scheme::OAuth).args(["run", &s]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no field `domian`") && err.contains("`domain`"),
        "{err}"
    );
    assert!(err.contains("field.rhai:1:"), "{err}");
    let s = script(
        &env,
        "set.rhai",
        "let u = user(\"bob.hughes@company.com\");\nu.nmae = \"Bob\";\n",
    );
    let out = env.mcsh(Scheme::OAuth).args(["run", &s]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean `name`?"));

    // A map the script builds keeps Rhai's rules: a missing key reads (), a new one is set.
    let out = env
        .mcsh(Scheme::OAuth)
        .args([
            "-e",
            "let m = #{}; let r = m.nothing; m.added = 1; [r, m.len()]",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v, serde_json::json!([null, 1]));

    // A function misspelt in a branch that has not run yet: nothing is sent at all.
    let s = script(
        &env,
        "fn.rhai",
        "add_member(\"Sales\", \"carol.okafor@company.com\");\nif users().len() > 1000 {\n  remove_membr(\"Sales\", \"carol.okafor@company.com\");\n}\n",
    );
    let out = env.mcsh(Scheme::OAuth).args(["run", &s]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("remove_membr") && err.contains("remove_member"),
        "{err}"
    );
    assert!(err.contains("fn.rhai:3:"), "{err}");
    let s = script(&env, "arity.rhai", "add_member(\"Sales\");\n");
    let out = env.mcsh(Scheme::OAuth).args(["run", &s]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not 1"));
    assert!(!env
        .members("Sales")
        .contains(&"carol.okafor@company.com".to_string()));
    assert_eq!(env.user_emails(), before);
    // The rows a workflow of mcsh's returns are records too.
    let s = script(
        &env,
        "rows.rhai",
        "import \"onboard\" as onboard;\nlet rows = onboard::person(\"row.typo@company.com\", \"R\", [\"Sales\"], #{});\nrows.filter(|r| r.staus == \"failed\")\n",
    );
    let out = env.mcsh(Scheme::OAuth).args(["run", &s]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no field `staus`") && err.contains("`status`"),
        "{err}"
    );
}

#[test]
fn a_whole_domain_member_is_marked_and_removed_by_its_domain() {
    let env = Env::new();
    let out = env
        .mcsh(Scheme::OAuth)
        .args([
            "-e",
            r#"add_member("Support", "example.com");
let d = members("Support").filter(|m| m.isDomain);
let people = members("Support").filter(|m| !m.isDomain);
remove_member("Support", d[0].domain);
[d.len(), d[0].domain, people.len() > 0, members("Support").filter(|m| m.isDomain).len()]"#,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v, serde_json::json!([1, "example.com", true, 0]));
}

#[test]
fn rhai_errors_without_a_place_are_told_at_the_call_in_script_terms() {
    let env = Env::new();
    let s = script(
        &env,
        "race.rhai",
        "let a = [1, 2, 3];\nlet b = a.filter(|v| a.len() > v);\n",
    );
    let out = env.mcsh(Scheme::OAuth).args(["run", &s]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("race.rhai:2:"), "{err}");
    assert!(err.contains("closure given to `filter()`"), "{err}");
    let s = script(&env, "plus.rhai", "let m = #{};\nm[\"a\"] += 1;\n");
    let out = env.mcsh(Scheme::OAuth).args(["run", &s]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("plus.rhai:2:"), "{err}");
    assert!(err.contains("one side is () (nothing)"), "{err}");
}

#[test]
fn a_for_loop_over_users_streams_and_everything_else_gets_an_array() {
    let env = Env::new();
    let out = env
        .mcsh(Scheme::OAuth)
        .args([
            "-e",
            r#"let n = 0; let seen = [];
for u in users() { n += 1; seen.push(type_of(u)); }
let m = 0; for u in users("example.com") { m += 1 }
[n, m, users().len(), type_of(users()), users().filter(|u| u.domain == "example.com").len(), seen[0]]"#,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v, serde_json::json!([62, 14, 62, "array", 14, "map"]));
}

#[test]
fn a_loop_that_stops_early_reads_only_the_pages_it_reached() {
    let env = Env::with(mcsh::sandbox::Options {
        generate_users: 3000,
        ..mcsh::sandbox::Options::default()
    });
    let s = script(
        &env,
        "early.rhai",
        "let n = 0;\nfor u in users(\"company.com\") { n += 1; if n == 3 { break; } }\nprint(n);\n",
    );
    let (code, out, err, req) = run(&env, &["run", &s]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "3");
    // 2 700 users of company.com are 6 pages; the loop read the first (and the next was on
    // its way), never the whole domain.
    assert!(count(&req, "/api/user/get-internal-users") <= 3, "{req:?}");
    let (_, _, _, all) = run(&env, &["-e", "users(\"company.com\").len()"]);
    assert!(count(&all, "/api/user/get-internal-users") >= 6, "{all:?}");
}

#[test]
fn after_a_refused_queued_write_nothing_later_shows_and_everything_earlier_is_made() {
    let env = Env::new();
    let csv = env.dir.path().join("people.csv");
    std::fs::write(
        &csv,
        "email,name\nfirst.new@company.com,First\nalice.anderson@company.com,Taken\nthird.new@company.com,Third\n",
    )
    .unwrap();
    let out_file = env.dir.path().join("created.csv");
    let s = script(
        &env,
        "people.rhai",
        &format!(
            r#"let rows = read_csv({csv:?});
print("starting");
create_user("early.one@company.com", "Early");
add_member("Sales", "early.one@company.com");
for r in rows {{ create_user(r.email, r.name); print(`queued ${{r.email}}`); }}
print("All users created");
write_csv({out:?}, rows);
"#,
            csv = csv.display().to_string(),
            out = out_file.display().to_string()
        ),
    );
    let (code, out, err, _) = run(&env, &["run", &s]);
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("people.rhai:5:"), "{err}");
    // What one by one would have printed before the refusal, and nothing after it.
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        ["starting", "queued first.new@company.com"],
        "{out}"
    );
    assert!(!out_file.exists(), "a file written after the refused call");
    // The membership queued before the refusal went out in a later wave, and was made.
    assert!(env
        .members("Sales")
        .contains(&"early.one@company.com".to_string()));
    assert!(env
        .user_emails()
        .contains(&"first.new@company.com".to_string()));
}

#[test]
fn what_the_review_of_queued_scripts_found_is_closed() {
    let env = Env::new();
    // Undo of nested groups deletes the child before the parent.
    let s = script(
        &env,
        "nest.rhai",
        "create_group(\"PA\");\ncreate_group(\"PB\", \"PA\");\nadd_member(\"PA/PB\", \"alice.anderson@company.com\");\n",
    );
    let (code, _, err, _) = run(&env, &["run", &s]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err, _) = run(&env, &["undo", "--last", "--yes"]);
    assert_eq!(code, 0, "{err}");
    let names = env.group_names();
    assert!(!names.iter().any(|n| n == "PA" || n == "PB"), "{names:?}");

    // A dry run sees its own renames and deletes.
    let out = env
        .mcsh(Scheme::OAuth)
        .args([
            "--dry-run",
            "-e",
            r#"rename_group("Marketing", "Mktg"); create_group("Gone"); delete_group("Gone");
[group("Mktg") != (), group("Marketing") == (), group("Gone") == ()]"#,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v, serde_json::json!([true, true, true]));

    // A plan of a run that stopped is not saved.
    let plan = env.dir.path().join("partial.json");
    let out = env
        .mcsh(Scheme::OAuth)
        .args([
            "--plan-out",
            plan.to_str().unwrap(),
            "-e",
            "add_member(\"Sales\", \"carol.okafor@company.com\"); throw \"stop\";",
        ])
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no plan saved"));
    assert!(!plan.exists());

    // exit(n) is the exit code, after the queued writes are sent.
    let out = env
        .mcsh(Scheme::OAuth)
        .args([
            "-e",
            "add_member(\"Sales\", \"carol.okafor@company.com\"); exit(5); print(1);",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5));
    assert!(env
        .members("Sales")
        .contains(&"carol.okafor@company.com".to_string()));
    let out = env
        .mcsh(Scheme::OAuth)
        .args(["-e", "exit(0)"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));

    // An address given twice to a batched twin is changed once.
    let out = env
        .mcsh(Scheme::OAuth)
        .args([
            "-e",
            r#"let d = delete_users(["david.varga@company.com", "DAVID.VARGA@company.com"]);
let r = remove_members("Sales", ["example.com", "carol.okafor@company.com"]);
[d[0].status, d[1].status, r[1].status]"#,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v, serde_json::json!(["removed", "unchanged", "removed"]));

    // A field differing only in case is named.
    let out = env
        .mcsh(Scheme::OAuth)
        .args(["-e", "users()[0].emailaddress"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean `emailAddress`?"));
}

#[test]
fn a_map_a_script_fills_is_a_table_however_big_and_a_record_has_at_most_256_fields() {
    let env = Env::new();
    let e = |source: &str| crate::support::run(&env, &["-e", source]);
    // Users indexed by address: a missing key of the table reads `()`, as in any map.
    let (code, out, err) = e(
        "let by = #{}; for u in users() { by[u.emailAddress] = u; } \
         for i in 0..3000 { by[`extra.${i}@company.com`] = i; } \
         [by.len() > 3000, by[\"nobody@company.com\"] == (), by.nobody == ()]",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap(),
        serde_json::json!([true, true, true])
    );
    // A record of 256 fields still stops a misspelt one; 257 is refused by name.
    let fields = |n: usize| format!("let m = #{{}}; for i in 0..{n} {{ m[`f${{i}}`] = i; }}");
    let (code, _, err) = e(&format!("{} let r = as_record(m); r.f256", fields(256)));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("a record has no field `f256`"), "{err}");
    let (code, _, err) = e(&format!("{} as_record(m)", fields(257)));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("as_record: a record has at most 256 fields and this map has 257"),
        "{err}"
    );
}

#[test]
fn what_the_second_review_found_is_closed() {
    let env = Env::new();
    let e = |source: &str| crate::support::run(&env, &["-e", source]);
    // A write refused before any request is refused at its own line; nothing after shows.
    let s = script(
        &env,
        "ctl.rhai",
        "print(\"a\");\nadd_member(\"Sales\", \"carol.okafor@company.com\");\ncreate_user(\"ctl@company.com\", \"Bad\\x1bName\");\nprint(\"b\");\n",
    );
    let (code, out, err, _) = run(&env, &["run", &s]);
    assert_ne!(code, 0);
    assert!(err.contains("ctl.rhai:3:"), "{err}");
    assert_eq!(out.trim(), "a");
    assert!(env
        .members("Sales")
        .contains(&"carol.okafor@company.com".to_string()));
    // So is a user of a domain that is not internal, before a loop's writes go out.
    let (code, _, err) = e(
        r#"create_user("x@other.org", "X"); for u in users("example.com") { add_member("Finance", u.emailAddress); }"#,
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("err_domain_not_internal"), "{err}");
    assert!(!env
        .members("Finance")
        .iter()
        .any(|m| m.ends_with("@example.com")));
    // A field a record has only sometimes can be set.
    let (code, out, err) = e("let u = users()[0]; u.accountLocked = true; u.accountLocked");
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "true");
    // A dry run restores a user it planned to delete.
    let out = env
        .mcsh(Scheme::OAuth)
        .args([
            "--dry-run",
            "-e",
            r#"create_user("o1@company.com", "O"); delete_user("o1@company.com"); restore_user("o1@company.com");"#,
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // exit() out of 0..=255 is a failure, not a wrapped success.
    assert_eq!(e("exit(-1)").0, 1);
    assert_eq!(e("exit(256)").0, 1);
    // A script starting with a byte order mark runs.
    let s = script(&env, "bom.rhai", "\u{feff}print(\"bom ok\");\n");
    let (code, out, _, _) = run(&env, &["run", &s]);
    assert_eq!((code, out.trim()), (0, "bom ok"));
    // More mistypes of mcsh's options after a script's arguments.
    for late in ["-dry-run", "\u{2014}dry-run", "--DRY-RUN", "--dry"] {
        let out = env
            .mcsh(Scheme::OAuth)
            .args(["run", &s, "arg", late])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{late}");
    }
    // mcsh's own files are no modules.
    let config = env.dir.path().join("config/mcsh/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(&config, "[default]\nclient_id = \"x\"\n").unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&config, env.dir.path().join("cfg.rhai")).unwrap();
        let s = script(&env, "imp.rhai", "import \"cfg\" as c;\n");
        let (code, _, err, _) = run(&env, &["run", &s]);
        assert_ne!(code, 0);
        assert!(err.contains("scripts may not read"), "{err}");
    }
    // Nor readable with MCSH_CONFIG naming another file (the default still holds the real
    // credentials), nor anything beside it in mcsh's config folder.
    std::fs::write(config.with_extension("toml.bak"), "client_secret = \"s\"\n").unwrap();
    let other = env.dir.path().join("other.toml");
    std::fs::write(&other, "").unwrap();
    for file in [config.clone(), config.with_extension("toml.bak")] {
        let out = env
            .mcsh(Scheme::OAuth)
            .env("MCSH_CONFIG", &other)
            .args([
                "-e",
                &format!("read_text({:?}).len()", file.display().to_string()),
            ])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}: {err}", file.display());
        assert!(
            err.contains("scripts may not read mcsh's credentials"),
            "{err}"
        );
    }
    // A base URL holding a password: refused, the password never printed.
    let out = env
        .bare()
        .env("MIMECAST_BASE_URL", "http://user:hunter2secret@127.0.0.1:1")
        .env("MIMECAST_CLIENT_ID", "abc")
        .env("MIMECAST_CLIENT_SECRET", "abcdefgh")
        .args(["users", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("hunter2secret"));
}

#[test]
fn a_script_run_without_its_arguments_names_args() {
    let env = Env::new();
    let s = script(&env, "needs.rhai", "let csv = args[0];\nprint(csv);\n");
    let (code, _, err, _) = run(&env, &["run", &s]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("`args` is empty, the script was run without arguments"),
        "{err}"
    );
}

#[test]
fn the_rows_given_to_the_bulk_writers_are_lent_and_left_as_they_were() {
    // `create_users(rows)` and `add_memberships(rows)` take a variable's list without copying
    // it: the script's list is still whole and unchanged afterwards, and a literal works too.
    let env = Env::new();
    let f = script(
        &env,
        "lend.rhai",
        r#"
let people = [#{ emailAddress: "lent.one@company.com", name: "Lent One" }];
let made = create_users(people);
print(`${people.len()} ${people[0].emailAddress} ${people[0].name} ${made[0].status}`);
let wanted = [#{ group: "Sales", emailAddress: "lent.one@company.com" }];
let added = add_memberships(wanted);
print(`${wanted.len()} ${wanted[0].group} ${wanted[0].emailAddress} ${added[0].status} ${added[0].group}`);
let again = add_memberships([#{ group: "Marketing", emailAddress: "lent.one@company.com" }]);
print(`${again[0].status} ${again[0].group}`);
"#,
    );
    let (code, out, err, _) = run(&env, &["run", &f]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "1 lent.one@company.com Lent One created",
            "1 Sales lent.one@company.com created Sales",
            "created Marketing"
        ],
        "{err}"
    );
    assert!(env
        .members("Sales")
        .contains(&"lent.one@company.com".to_string()));
    assert!(env
        .members("Marketing")
        .contains(&"lent.one@company.com".to_string()));
}

#[test]
fn group_maps_that_differ_in_any_field_are_resolved_each_on_its_own() {
    // `add_memberships` resolves each distinct group once; two maps of one group that differ
    // (here the name a script changed) are two groups to it, each result named by its own.
    let env = Env::new();
    let f = script(
        &env,
        "maps.rhai",
        r#"
let sales = groups_named(["Sales"])["Sales"];
let renamed = sales;
renamed.description = "Sales (as the script calls it)";
let marketing = groups_named(["Marketing"])["Marketing"];
let r = add_memberships([
    #{ group: sales, emailAddress: "one.map@company.com" },
    #{ group: renamed, emailAddress: "two.map@company.com" },
    #{ group: marketing, emailAddress: "three.map@company.com" },
]);
for x in r { print(`${x.emailAddress} ${x.group}`); }
"#,
    );
    let (code, out, err, sent) = run(&env, &["run", &f]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "one.map@company.com Sales",
            "two.map@company.com Sales (as the script calls it)",
            "three.map@company.com Marketing"
        ],
        "{err}"
    );
    assert_eq!(
        count(&sent, "/api/directory/add-group-member"),
        1,
        "{sent:?}"
    );
    let sales = env.members("Sales");
    assert!(
        sales.contains(&"one.map@company.com".to_string()),
        "{sales:?}"
    );
    assert!(
        sales.contains(&"two.map@company.com".to_string()),
        "{sales:?}"
    );
    assert!(env
        .members("Marketing")
        .contains(&"three.map@company.com".to_string()));
}

#[test]
fn a_constant_list_is_lent_to_the_bulk_writers_too() {
    // Lent, not copied, and only read: a module's or the script's constant may be passed.
    let env = Env::new();
    std::fs::write(
        env.dir.path().join("rows.rhai"),
        "export const ROWS = [#{ emailAddress: \"const.one@company.com\", name: \"Const One\" }];\n\
         export const W = [#{ group: \"Sales\", emailAddress: \"const.one@company.com\" }];\n",
    )
    .unwrap();
    let f = script(
        &env,
        "consts.rhai",
        r#"
import "rows" as m;
const MORE = [#{ group: "Marketing", emailAddress: "const.one@company.com" }];
fn more() { add_memberships(global::MORE) }
print(create_users(m::ROWS)[0].status);
print(add_memberships(m::W)[0].status);
print(more()[0].status);
print(m::ROWS.len());
"#,
    );
    let (code, out, err, _) = run(&env, &["run", &f]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        ["created", "created", "created", "1"],
        "{err}"
    );
    assert!(env
        .members("Marketing")
        .contains(&"const.one@company.com".to_string()));
}

#[test]
fn group_maps_whose_fields_differ_only_in_type_are_not_taken_for_one() {
    // An id `"[1]"` and an id `[1]` read alike as text: the second is still checked on its
    // own (a group's id is a string), not resolved as the first.
    let env = Env::new();
    let f = script(
        &env,
        "types.rhai",
        r#"
let sales = groups_named(["Sales"])["Sales"];
let a = sales;
a.id = "[1]";
let b = sales;
b.id = [1];
add_memberships([
    #{ group: a, emailAddress: "type.one@company.com" },
    #{ group: b, emailAddress: "type.two@company.com" },
]);
"#,
    );
    let (code, _, err, sent) = run(&env, &["run", &f]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("expected a string, found a list"), "{err}");
    assert_eq!(
        count(&sent, "/api/directory/add-group-member"),
        0,
        "{sent:?}"
    );
}

#[test]
fn onboarding_something_that_is_not_a_list_says_what_it_takes() {
    let env = Env::new();
    let f = script(
        &env,
        "notalist.rhai",
        "import \"onboard\" as onboard;\nonboard::people((), #{});\n",
    );
    let (code, _, err, sent) = run(&env, &["run", &f]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("onboard::people takes a list of #{email, name, groups}, not ()"),
        "{err}"
    );
    assert!(sent.is_empty(), "{sent:?}");
}

#[test]
fn find_users_tells_alias_addresses_when_asked() {
    let env = Env::new();
    let alias = "al.x@company.com";
    env.json(&[
        "users",
        "update",
        "--email",
        "alice.anderson@company.com",
        "--alias",
        alias,
    ]);
    let e = |source: &str| crate::support::run(&env, &["-e", source]);
    let asked = r#"["al.x@company.com", "alice.anderson@company.com", "nobody@company.com"]"#;
    let (code, out, err) = e(&format!("find_users({asked}).keys()"));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap(),
        serde_json::json!(["alice.anderson@company.com"])
    );
    let (code, out, err) = e(&format!(
        "let f = find_users({asked}, #{{ aliases: true }}); let k = f.keys(); k.sort(); \
         k.map(|a| [a, f[a].alias])"
    ));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap(),
        serde_json::json!([
            ["al.x@company.com", true],
            ["alice.anderson@company.com", false]
        ])
    );
    let (code, _, err) = e(&format!("find_users({asked}, #{{ alias: true }})"));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("unknown option `alias` (it takes `aliases`)"),
        "{err}"
    );
}

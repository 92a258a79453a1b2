//! Day two: what an admin who already knew mcsh's basics still tripped on (issue 24): fields
//! that agree between commands, rows that show what changed, hints that carry the tenant
//! flags, summaries that say only what applies.

use serde_json::Value;

use crate::support::{Env, Scheme};

/// `mcsh --sandbox ARGS` on a sandbox state of the test's own: (exit code, stdout, stderr).
fn sandbox(env: &Env, args: &[&str]) -> (i32, String, String) {
    let with: Vec<&str> = std::iter::once("--sandbox")
        .chain(args.iter().copied())
        .collect();
    on_state(env, &with)
}

/// `mcsh ARGS` with the test's own sandbox state (which `--sandbox` or a snapshot of it use).
fn on_state<S: AsRef<std::ffi::OsStr>>(env: &Env, args: &[S]) -> (i32, String, String) {
    let out = env
        .bare()
        .env("MCSH_SANDBOX_STATE", env.dir.path().join("sandbox.db"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// Offboards `who` from a CSV on the sandbox and returns its delete step's message.
fn offboarded_delete_message(env: &Env, who: &str) -> String {
    let csv = env.dir.path().join("leavers.csv");
    std::fs::write(&csv, format!("email\n{who}\n")).unwrap();
    let (code, out, err) = sandbox(
        env,
        &[
            "offboard",
            "--csv",
            csv.to_str().unwrap(),
            "--yes",
            "-o",
            "json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let rows: Value = serde_json::from_str(&out).unwrap();
    let delete = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["step"] == "delete")
        .unwrap_or_else(|| panic!("a delete step: {rows}"));
    delete["message"].as_str().unwrap().to_string()
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

#[test]
fn export_and_users_list_give_the_same_fields_and_help_says_which_the_api_lacks() {
    let env = Env::new();
    let listed = env.json(&["users", "list", "--domain", "example.com"]);
    let exported = env.json(&["export", "--domain", "example.com"]);
    assert_eq!(keys(&listed[0]), keys(&exported[0]));
    assert!(keys(&listed[0]).contains(&"source".to_string()));
    let help = env
        .bare()
        .args(["users", "list", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("`internal` and `created`"), "{help}");
}

#[test]
fn an_update_shows_what_it_set_and_nothing_that_reads_as_wiped() {
    let env = Env::new();
    let out = env
        .mcsh(Scheme::OAuth)
        .args([
            "users",
            "update",
            "--email",
            "alice.anderson@company.com",
            "--alias",
            "aa@company.com",
            "-o",
            "csv",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "emailAddress,alias\nalice.anderson@company.com,aa@company.com\n"
    );
    let renamed = env.json(&[
        "users",
        "update",
        "--email",
        "alice.anderson@company.com",
        "--name",
        "Alice A",
        "--lock",
    ]);
    assert_eq!(
        keys(&renamed),
        ["accountLocked", "emailAddress", "name"],
        "{renamed}"
    );
    assert_eq!(renamed["name"], "Alice A");
}

#[test]
fn hints_for_a_user_queued_for_deletion_carry_the_sessions_tenant_flags() {
    let env = Env::new();
    let who = "carol.okafor@company.com";
    let (code, _, err) = sandbox(&env, &["users", "delete", "--email", who, "--yes"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(&format!("`mcsh --sandbox users restore --email {who}`")),
        "{err}"
    );
    assert!(err.contains("`mcsh --sandbox undo "), "{err}");
    let (code, out, err) = sandbox(
        &env,
        &["onboard", "--email", who, "--group", "Sales", "-o", "json"],
    );
    assert_eq!(code, 1, "{err}");
    let rows: Value = serde_json::from_str(&out).unwrap();
    let message = rows[0]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!(
            "{who} is queued for deletion: `mcsh --sandbox users restore --email {who}`"
        )),
        "{message}"
    );
}

#[test]
fn adding_a_user_queued_for_deletion_to_a_group_warns_and_strict_refuses_it() {
    let env = Env::new();
    let queued = "carol.okafor@company.com";
    let listed = "alice.anderson@company.com";
    let (code, _, err) = sandbox(&env, &["users", "delete", "--email", queued, "--yes"]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = sandbox(&env, &["groups", "create", "--description", "Scratch"]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = sandbox(
        &env,
        &[
            "groups",
            "add-member",
            "--group",
            "Scratch",
            "--strict",
            "--email",
            listed,
            "--email",
            queued,
        ],
    );
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains(&format!(
            "--strict: {queued} queued for deletion (`mcsh --sandbox users restore --email {queued}` takes it back); nothing was added"
        )),
        "{err}"
    );
    let members = |env: &Env| {
        let (code, out, err) = sandbox(
            env,
            &["groups", "members", "--group", "Scratch", "-o", "json"],
        );
        assert_eq!(code, 0, "{err}");
        let rows: Value = serde_json::from_str(&out).unwrap();
        rows.as_array()
            .unwrap()
            .iter()
            .map(|r| r["emailAddress"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        members(&env),
        Vec::<String>::new(),
        "--strict added nothing"
    );
    let (code, out, err) = sandbox(
        &env,
        &[
            "groups",
            "add-member",
            "--group",
            "Scratch",
            "--email",
            listed,
            "--email",
            queued,
            "-o",
            "json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let rows: Value = serde_json::from_str(&out).unwrap();
    let message = |who: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["emailAddress"] == who)
            .map(|r| r["message"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(rows[0]["status"], "created", "{rows}");
    assert!(!message(listed).contains("warning"), "{rows}");
    assert!(
        message(queued).contains(&format!(
            "warning: {queued} is queued for deletion, and the purge takes it out of the group \
             again (`mcsh --sandbox users restore --email {queued}` takes it back"
        )),
        "{rows}"
    );
    let mut now = members(&env);
    now.sort();
    assert_eq!(now, [listed, queued]);
}

#[test]
fn restore_hints_for_an_offboarded_or_recreated_user_work_when_pasted() {
    let env = Env::new();
    let who = "bob.hughes@company.com";
    assert_eq!(
        offboarded_delete_message(&env, who),
        format!("queued for deletion (`mcsh --sandbox users restore --email {who}` undoes it)")
    );
    let (code, _, err) = sandbox(
        &env,
        &["users", "create", "--email", who, "--name", "Bob Hughes"],
    );
    assert_ne!(code, 0, "{err}");
    assert!(
        err.contains(&format!(
            "it is queued for deletion: `mcsh --sandbox users restore --email {who}` takes it back"
        )),
        "{err}"
    );
    assert!(!err.contains("users update"), "{err}");
    let (code, out, err) = sandbox(
        &env,
        &[
            "onboard",
            "--email",
            "new.starter@company.com",
            "--group",
            "Sales",
            "--dry-run",
            "-o",
            "json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let rows: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(rows[0]["status"], "planned", "{rows}");
    assert_eq!(rows[0]["message"], "account would be created", "{rows}");
    let (code, _, err) = sandbox(
        &env,
        &["users", "create", "--email", "alice.anderson@company.com"],
    );
    assert_ne!(code, 0, "{err}");
    assert!(
        err.contains("`mcsh --sandbox users update --email alice.anderson@company.com`"),
        "a listed user is updated, not restored: {err}"
    );
}

#[test]
fn summaries_say_only_what_applies_to_this_run() {
    let env = Env::new();
    let (code, _, err) = sandbox(
        &env,
        &[
            "users",
            "create",
            "--email",
            "new.one@company.com",
            "--name",
            "New One",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("takes it back"), "{err}");
    assert!(
        !err.contains("deleted group"),
        "no group was deleted: {err}"
    );
    let (code, _, err) = sandbox(&env, &["groups", "create", "--description", "Scratch"]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = sandbox(&env, &["groups", "delete", "--group", "Scratch", "--yes"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("a deleted group cannot come back"), "{err}");
    let (code, _, err) = sandbox(
        &env,
        &[
            "onboard",
            "--email",
            "new.two@company.com",
            "--group",
            "Sales",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let summary = err.lines().find(|l| l.starts_with("onboard:")).unwrap();
    assert!(summary.contains(" requests)"), "{summary}");
    assert!(!summary.contains("0 retried"), "{summary}");
    assert!(!summary.contains("0 pauses"), "{summary}");
}

#[test]
fn a_feeds_header_is_read_in_any_case_and_with_spaces() {
    let env = Env::new();
    let csv = env.dir.path().join("people.csv");
    std::fs::write(
        &csv,
        " Email , Name ,GROUPS\nnew.three@company.com,New Three,Sales\n",
    )
    .unwrap();
    let rows = env.json(&["onboard", "--csv", csv.to_str().unwrap()]);
    assert!(
        rows.as_array()
            .unwrap()
            .iter()
            .any(|r| r["step"] == "group Sales" && r["status"] == "created"),
        "{rows}"
    );
    assert!(env
        .members("Sales")
        .contains(&"new.three@company.com".to_string()));
}

#[test]
fn an_unknown_flag_that_means_another_gets_a_tip_for_it() {
    let env = Env::new();
    for (args, tip) in [
        (
            vec!["groups", "create", "--name", "Ops"],
            "`mcsh groups create --description NAME`",
        ),
        (
            vec!["--profile", "p", "groups", "rename", "--name", "Ops"],
            "`mcsh groups rename --description NAME`",
        ),
        (vec!["users", "list", "--format", "json"], "-o/--output"),
        (
            vec!["departments", "--description", "Engineering"],
            "drop --description",
        ),
    ] {
        let out = env.bare().args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(tip), "{args:?}: {err}");
        assert!(!err.contains("-- --description"), "{args:?}: {err}");
    }
}

#[test]
fn creating_a_group_that_exists_names_it_in_the_hint() {
    let env = Env::new();
    let (code, _, err) = sandbox(&env, &["groups", "create", "--description", "All Staff"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("`mcsh --sandbox groups list --query 'All Staff'`"),
        "{err}"
    );
}

#[test]
fn man_on_a_terminal_shows_a_page_and_doc_points_a_command_at_its_help() {
    let env = Env::new();
    let shown = crate::support::on_a_terminal(&env, &["man", "groups", "add-member"], &[]);
    assert!(shown.contains("add-member"), "{shown}");
    if std::process::Command::new("man")
        .arg("--version")
        .output()
        .is_ok()
    {
        assert!(!shown.contains(".TH "), "roff was printed raw: {shown}");
    } else {
        // Without `man` on the machine, the roff is what there is to show.
        assert!(shown.contains(".TH "), "{shown}");
    }
    let out = env.bare().args(["doc", "users", "list"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("`mcsh users list --help`"), "{err}");
    // Piped, it is roff for `man -l -`.
    let out = env.bare().args(["man", "groups"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains(".TH "));
}

#[test]
fn a_required_csv_column_in_another_case_is_read_under_the_name_asked_for() {
    let env = Env::new();
    let csv = env.dir.path().join("renames.csv");
    std::fs::write(&csv, "Email,Name\nalice.anderson@company.com,Alice A\n").unwrap();
    let out = env
        .mcsh(Scheme::OAuth)
        .args([
            "-e",
            &format!(
                "read_csv({:?}, #{{ require: [\"email\"] }}).map(|r| r.email)",
                csv.display().to_string()
            ),
            "-o",
            "json",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let emails: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(emails, serde_json::json!(["alice.anderson@company.com"]));
    // The bundled example reads such a file too.
    let (code, _, err) = sandbox(&env, &["run", "bulk_rename", csv.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn plan_listings_name_the_group_and_a_plan_applied_here_says_so() {
    let env = Env::new();
    let plan = env.dir.path().join("p.json");
    let (code, _, err) = sandbox(
        &env,
        &[
            "--plan-out",
            plan.to_str().unwrap(),
            "groups",
            "add-member",
            "--group",
            "Engineering/Platform",
            "--email",
            "carol.okafor@company.com",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("(group \"Engineering/Platform\")"), "{err}");
    let (code, out, err) = sandbox(
        &env,
        &["apply", plan.to_str().unwrap(), "--yes", "-o", "json"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("(group \"Engineering/Platform\")"), "{err}");
    let rows: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(rows[0]["group"], "Engineering/Platform", "{rows}");
    let (code, _, err) = sandbox(&env, &["apply", plan.to_str().unwrap(), "--yes"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("has been applied here already"), "{err}");
}

#[test]
fn hints_about_a_deleted_user_keep_the_tenant_flags() {
    let env = Env::new();
    let who = "carol.okafor@company.com";
    assert_eq!(
        sandbox(&env, &["users", "delete", "--email", who, "--yes"]).0,
        0
    );
    let (_, _, err) = sandbox(&env, &["users", "get", "--email", who]);
    assert!(
        err.contains(&format!("`mcsh --sandbox users restore --email {who}`")),
        "{err}"
    );
    let (code, _, err) = sandbox(&env, &["users", "create", "--email", who]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!("`mcsh --sandbox users restore --email {who}`")),
        "{err}"
    );
}

#[test]
fn a_top_level_group_beside_a_nested_namesake_is_named_by_its_slash_path_or_id_end() {
    let env = Env::new();
    assert_eq!(
        sandbox(&env, &["groups", "create", "--description", "Platform"]).0,
        0
    );
    let (code, _, err) = sandbox(&env, &["groups", "members", "--group", "Platform"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("a top-level one as /Platform"), "{err}");
    let (code, out, err) = sandbox(
        &env,
        &["groups", "members", "--group", "/Platform", "-o", "json"],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "[]", "the new, empty top-level Platform");
    let groups: Value = {
        let (_, out, _) = sandbox(&env, &["groups", "list", "-o", "json"]);
        serde_json::from_str(&out).unwrap()
    };
    let nested = groups
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["path"] == "Engineering/Platform")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let tail: String = nested.chars().skip(nested.chars().count() - 12).collect();
    let (code, out, err) = sandbox(
        &env,
        &[
            "groups",
            "members",
            "--group",
            &format!("...{tail}"),
            "-o",
            "json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_ne!(
        out.trim(),
        "[]",
        "three dots name the nested Platform by its id's end"
    );
}

/// A hint (`` `mcsh ...` ``) as a shell turns it into words, run: (exit code, stdout, stderr).
fn pasted(env: &Env, hint: &str) -> (i32, String, String) {
    let line = hint.trim_matches('`');
    let words = std::process::Command::new("sh")
        .args(["-c", &format!("printf '%s\\0' {line}")])
        .output()
        .unwrap();
    let words: Vec<String> = String::from_utf8(words.stdout)
        .unwrap()
        .split_terminator('\0')
        .map(str::to_string)
        .collect();
    assert_eq!(words[0], "mcsh", "{line}");
    on_state(env, &words[1..])
}

#[test]
fn a_hint_naming_an_address_a_shell_would_run_quotes_it() {
    // Mailbox names may hold `'`, a backquote, `$` and `|`: pasted bare into a shell, this one
    // would run `id` and a pipe. Every hint naming it writes it as one quoted shell word.
    let env = Env::new();
    let who = "o'brien`id`$HOME|x@company.com";
    let quoted = "'o'\\''brien`id`$HOME|x@company.com'";
    let round_trip = std::process::Command::new("sh")
        .args(["-c", &format!("printf %s {quoted}")])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&round_trip.stdout),
        who,
        "the quoting round-trips"
    );
    let restore = format!("`mcsh --sandbox users restore --email {quoted}`");

    let (code, _, err) = sandbox(&env, &["users", "create", "--email", who, "--name", "O"]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = sandbox(&env, &["users", "delete", "--email", who, "--yes"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains(&restore), "{err}");
    let (code, _, err) = sandbox(&env, &["users", "create", "--email", who, "--name", "O"]);
    assert_ne!(code, 0, "{err}");
    assert!(
        err.contains(&format!(
            "it is queued for deletion: {restore} takes it back"
        )),
        "{err}"
    );
    let (code, out, err) = sandbox(
        &env,
        &["onboard", "--email", who, "--group", "Sales", "-o", "json"],
    );
    assert_eq!(code, 1, "{err}");
    let rows: Value = serde_json::from_str(&out).unwrap();
    assert!(
        rows[0]["message"].as_str().unwrap().contains(&restore),
        "{rows}"
    );

    let (code, out, err) = sandbox(
        &env,
        &[
            "groups",
            "add-member",
            "--group",
            "Sales",
            "--email",
            who,
            "-o",
            "json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&format!("{restore} takes it back").replace('\\', "\\\\")),
        "{out}"
    );

    // Pasted into a shell, the hint restores it.
    let (code, _, err) = pasted(&env, &restore);
    assert_eq!(code, 0, "{err}");

    // An address starting with `-` follows `--email=`: bare, it would read as an option.
    let dash = "-dash@company.com";
    let (code, _, err) = sandbox(
        &env,
        &["users", "create", &format!("--email={dash}"), "--name", "D"],
    );
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = sandbox(
        &env,
        &["users", "delete", &format!("--email={dash}"), "--yes"],
    );
    assert_eq!(code, 0, "{err}");
    let hint = "`mcsh --sandbox users restore --email=-dash@company.com`";
    assert!(err.contains(hint), "{err}");
    let (code, _, err) = pasted(&env, hint);
    assert_eq!(code, 0, "{err}");

    // Offboarding another such address: its delete step's hint.
    let other = "ann|ops@company.com";
    let (code, _, err) = sandbox(&env, &["users", "create", "--email", other, "--name", "A"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        offboarded_delete_message(&env, other),
        "queued for deletion (`mcsh --sandbox users restore --email 'ann|ops@company.com'` undoes it)"
    );
}

#[test]
fn an_alias_address_is_not_taken_for_a_user_queued_for_deletion() {
    let env = Env::new();
    let alias = "al.x@company.com";
    let (code, _, err) = sandbox(
        &env,
        &[
            "users",
            "update",
            "--email",
            "alice.anderson@company.com",
            "--alias",
            alias,
        ],
    );
    assert_eq!(code, 0, "{err}");
    let said = format!(
        "{alias} is an alias address of another user's mailbox, not a mailbox: onboard the \
         person under an address of their own (`mcsh --sandbox users get --email {alias}` \
         shows the alias)"
    );
    for dry in [true, false] {
        let mut args = vec![
            "onboard", "--email", alias, "--group", "Sales", "-o", "json",
        ];
        if dry {
            args.push("--dry-run");
        }
        let (code, out, err) = sandbox(&env, &args);
        assert_eq!(code, 1, "{err}");
        let rows: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(rows.as_array().unwrap().len(), 1, "no group step: {rows}");
        assert_eq!(rows[0]["status"], "failed", "{rows}");
        assert_eq!(rows[0]["message"], said.as_str(), "{rows}");
    }
    let (code, out, err) = sandbox(
        &env,
        &["groups", "members", "--group", "Sales", "-o", "json"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains(alias), "{out}");
    let (code, _, err) = sandbox(&env, &["users", "create", "--email", alias]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(
            "it is an alias address of the mailbox alice.anderson@company.com: create the \
             person under an address of their own (`mcsh --sandbox users get --email \
             al.x@company.com` shows the alias)"
        ),
        "{err}"
    );
    assert!(!err.contains("restore"), "{err}");

    // An alias starting with `-`: its row's hint, pasted, shows it.
    let (code, _, err) = sandbox(
        &env,
        &[
            "users",
            "update",
            "--email",
            "alice.anderson@company.com",
            "--alias=-al@company.com",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = sandbox(
        &env,
        &[
            "onboard",
            "--email=-al@company.com",
            "--group",
            "Sales",
            "-o",
            "json",
        ],
    );
    assert_eq!(code, 1, "{err}");
    let rows: Value = serde_json::from_str(&out).unwrap();
    let hint = "`mcsh --sandbox users get --email=-al@company.com`";
    assert!(
        rows[0]["message"].as_str().unwrap().contains(hint),
        "{rows}"
    );
    let (code, out, err) = pasted(&env, hint);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("-al@company.com"), "{out}");
}

#[test]
fn a_mistyped_commands_suggestion_keeps_where_and_how_it_was_to_run() {
    // Pasted, the suggestion must not write to the default tenant, or for real, what was
    // meant for the sandbox as a dry run; each word comes back as typed.
    let env = Env::new();
    let (code, _, err) = sandbox(
        &env,
        &[
            "--dry-run",
            "user",
            "delete",
            "--email",
            "a b$c@company.com",
            "--yes",
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(
            "did you mean `mcsh --sandbox --dry-run users delete --email 'a b$c@company.com' \
             --yes`?"
        ),
        "{err}"
    );
}

#[test]
fn a_rehearsed_plans_hint_names_the_snapshots_own_tenant() {
    // Snapshot of the sandbox, a plan made on its copy: the hint for the tenant itself says
    // `--sandbox`, and pasted it carries the plan out there.
    let env = Env::new();
    let snap = env.dir.path().join("-snap.json").display().to_string();
    let plan = env.dir.path().join("plan.json").display().to_string();
    let (code, _, err) = sandbox(&env, &["snapshot", &format!("--out={snap}")]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = on_state(
        &env,
        &[
            &format!("--rehearse={snap}"),
            "--plan-out",
            &plan,
            "onboard",
            "--email",
            "re.hearsed@company.com",
            "--group",
            "Sales",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let hint = format!("`mcsh --sandbox apply {plan}` on the tenant itself");
    assert!(err.contains(&hint), "{err}");
    let (code, _, err) = pasted(&env, &format!("`mcsh --sandbox apply {plan} --yes`"));
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = sandbox(&env, &["groups", "members", "--group", "Sales"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("re.hearsed@company.com"), "{out}");
}

#[test]
fn rows_a_script_gets_carry_the_tenant_flags_and_data_is_never_taken_for_a_hint() {
    let env = Env::new();
    let who = "david.varga@company.com";
    // A script's own offboarding rows name the restore with the session's flags, as the
    // command's rows do; pasted, the hint restores the user on the same tenant.
    let (code, out, err) = sandbox(
        &env,
        &[
            "-e",
            &format!(
                "let rows = offboard_run(offboard_plan([\"{who}\"], false)); \
                 print(rows.filter(|r| r.step == \"delete\")[0].message); \
                 print(mcsh_command(\"users get \" + shell_flag(\"--email\", \"-x@company.com\"))); \
                 print(mcsh_command(\"\") + \"|\");"
            ),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    let hint = format!("`mcsh --sandbox users restore --email {who}`");
    assert_eq!(
        lines[0],
        format!("queued for deletion ({hint} undoes it)"),
        "{out}"
    );
    assert_eq!(
        lines[1], "mcsh --sandbox users get --email=-x@company.com",
        "{out}"
    );
    assert_eq!(lines[2], "mcsh --sandbox|", "{out}");
    let (code, _, err) = pasted(&env, &hint);
    assert_eq!(code, 0, "{err}");

    // A name in a feed that reads like a hint is shown as the feed wrote it: no tenant flags
    // are slipped into it. zoe.costa is directory-synced, so her row quotes the feed's name.
    let csv = env.dir.path().join("people.csv");
    std::fs::write(
        &csv,
        "email,name,groups\nzoe.costa@example.com,`mcsh users delete --email x@company.com`,\n",
    )
    .unwrap();
    let (code, out, err) = sandbox(
        &env,
        &["onboard", "--csv", csv.to_str().unwrap(), "-o", "json"],
    );
    assert_eq!(code, 0, "{err}");
    let rows: Value = serde_json::from_str(&out).unwrap();
    let message = rows[0]["message"].as_str().unwrap();
    assert!(
        message.contains("the list names it \"`mcsh users delete --email x@company.com`\""),
        "{message}"
    );
    assert!(!message.contains("--sandbox"), "{message}");

    // An unknown group's hint lists this tenant's groups.
    let (code, _, err) = sandbox(
        &env,
        &["groups", "add-member", "--group", "Nopeqq", "--email", who],
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(
            "no group has the id or name \"Nopeqq\"; `mcsh --sandbox groups list` shows them all"
        ),
        "{err}"
    );
}

#[test]
fn an_export_file_named_csv_is_written_as_csv() {
    let env = Env::new();
    for (name, csv) in [
        ("u.csv", true),
        ("U.CSV", true),
        ("u.json", false),
        ("u", false),
    ] {
        let path = env.dir.path().join(name);
        let out = env
            .mcsh(Scheme::OAuth)
            .args(["export", "--domain", "example.com", "--out"])
            .arg(&path)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text.starts_with("emailAddress,name,"),
            csv,
            "{name}: {text}"
        );
        assert_eq!(serde_json::from_str::<Value>(&text).is_ok(), !csv, "{name}");
    }
    // Asked for outright, the format wins over the name.
    let path = env.dir.path().join("asked.csv");
    env.mcsh(Scheme::OAuth)
        .args([
            "export",
            "--domain",
            "example.com",
            "--format",
            "json",
            "--out",
        ])
        .arg(&path)
        .assert()
        .success();
    assert!(serde_json::from_str::<Value>(&std::fs::read_to_string(&path).unwrap()).is_ok());
}

//! Scripts with the directory built in: every registered function against the sandbox,
//! failure paths through try/catch, data helpers, the ways to run a script, error messages,
//! limits and Ctrl-C.

use std::io::Write;
use std::time::Duration;

use predicates::prelude::*;
use serde_json::Value;

use crate::support::{Env, Scheme};

/// Writes `source` to a file in the env's temp dir and returns its path.
fn script(env: &Env, name: &str, source: &str) -> String {
    let path = env.dir.path().join(name);
    std::fs::write(&path, source).unwrap();
    path.display().to_string()
}

const CHECK: &str = r#"fn check(cond, what) { if !cond { throw `check failed: ${what}`; } }
"#;

#[test]
fn every_directory_function_works_and_fails_catchably() {
    let env = Env::new();
    let body = r#"
check(users().len() == 62, "users()");
check(users("example.com").len() == 14, "users(domain)");
check(user("alice.anderson@company.com").name == "Alice Anderson", "user(email)");
check(user("nobody@company.com") == (), "user() of nobody");

check(create_user("s1@company.com").emailAddress == "s1@company.com", "create_user(email)");
check(create_user("s2@company.com", "Two").name == "Two", "create_user(email, name)");
create_user(#{ emailAddress: "s3@company.com", name: "Three" });
try { create_user(#{ emailAddres: "x@company.com" }); check(false, "strict options"); }
catch (e) { check(e.code == "invalid_argument" && e.message.contains("emailAddres"), `unknown key named: ${e.message}`); }
try { create_user("s1@company.com"); check(false, "duplicate create"); }
catch (e) {
    check(e.code == "err_user_already_exists", "duplicate code");
    check(e.function == "create_user" && e.status == 200 && e.retryable == false && e.kind == "api", "error map fields");
}
update_user("s2@company.com", #{ name: "Deux", accountLocked: true });
check(user("s2@company.com").name == "Deux", "update_user");
try { update_user("s2@company.com", #{ colour: "blue" }); check(false, "strict update"); }
catch (e) { check(e.message.contains("colour"), "update key named"); }
add_alias("s2@company.com", "deux@company.com");
check(user("s2@company.com").aliases.contains("deux@company.com"), "add_alias");
check(delete_user("s3@company.com").status == "removed", "delete_user");
check(user("s3@company.com") == (), "deleted user is gone");
restore_user("s3@company.com");
check(user("s3@company.com") != (), "restore_user");
try { delete_user("ghost@company.com"); check(false, "delete ghost"); }
catch (e) { check(e.kind == "not_found", "delete of nobody"); }

check(groups().len() == 9, "groups()");
check(groups("staff").len() == 2, "groups(query): All Staff, Directory Staff");
check(groups("staff")[0].path == "All Staff", "groups() have paths");
let eng = group("Engineering");
check(eng.description == "Engineering" && group(eng.id).id == eng.id, "group(name) and group(id)");
check(group("Nope") == (), "group() of nothing");
let px = create_group("Project X");
create_group("Sub", px);
create_group("Sub2", "Project X");
check(group("Project X").folderCount == 2, "create_group(name, parent)");
rename_group("Sub2", "Sub Two");
check(group("Sub Two") != () && group("Sub2") == (), "rename_group");
delete_group("Sub Two");
check(group("Sub Two") == (), "delete_group");
try { delete_group("Engineering"); check(false, "delete non-empty"); }
catch (e) { check(e.code == "err_folder_not_empty", "non-empty group code"); }
try { create_group("Project X"); check(false, "duplicate group"); }
catch (e) { check(e.code == "err_folder_already_exists", "duplicate group code"); }

check(add_member(px, "s1@company.com").status == "created", "add_member(map)");
check(add_member("Project X", "s1@company.com").status == "unchanged", "add_member again");
check(members("Project X").len() == 1, "members");
let rs = add_members("Project X", ["s2@company.com", "s3@company.com", "s1@company.com"]);
check(rs.map(|r| r.status) == ["created", "created", "unchanged"], "add_members");
check(remove_member("Project X", "s3@company.com").status == "removed", "remove_member");
check(remove_member("Project X", "s3@company.com").status == "unchanged", "remove_member again");
check(groups_of("s1@company.com").map(|g| g.description) == ["Project X"], "groups_of");
try { members("No Such Group"); check(false, "unknown group"); }
catch (e) { check(e.code == "not_found" && e.message.contains("No Such Group"), "unknown group error"); }
try { add_member("Sales", "not an email"); check(false, "bad email"); }
catch (e) { check(e.code == "invalid_email" && e.kind == "usage", "bad email error"); }

let cu = create_users([#{ emailAddress: "b1@company.com", name: "B1" }, #{ email: "b2@company.com" },
                       #{ emailAddress: "alice.anderson@company.com" }]);
check(cu.map(|r| r.status) == ["created", "created", "failed"], "create_users");
check(cu[2].code == "err_user_already_exists", "create_users failure code");
check(ensure_user("b1@company.com").status == "unchanged", "ensure_user existing");
check(ensure_user("b1@company.com", "Bee").status == "updated", "ensure_user rename");
check(ensure_user(#{ emailAddress: "e1@company.com", name: "E" }).status == "created", "ensure_user(map)");
check(ensure_member("Project X", "e1@company.com").status == "created", "ensure_member");
check(ensure_member("Project X", "e1@company.com").status == "unchanged", "ensure_member again");
let sre = ensure_group("Engineering/Platform/SRE");
check(sre.status == "created" && sre.description == "SRE", "ensure_group creates");
check(ensure_group("engineering/platform/SRE").status == "unchanged", "ensure_group again");
check(ensure_group("Engineering/Platform").id == group("Platform").id, "ensure_group finds");
print("all checks passed");
"#;
    let path = script(&env, "all.rhai", &format!("{CHECK}{body}"));
    env.mcsh(Scheme::OAuth)
        .args(["run", &path])
        .assert()
        .success()
        .stdout(predicate::str::contains("all checks passed"));
    // What the script did, read back through the CLI.
    let members = env.members("Project X");
    assert_eq!(
        members,
        ["e1@company.com", "s1@company.com", "s2@company.com"]
    );
    let sre = env.json(&["groups", "list", "--query", "SRE"]);
    assert_eq!(
        sre.as_array().unwrap().len(),
        1,
        "ensure_group created SRE once"
    );
}

#[test]
fn data_and_session_helpers() {
    let env = Env::new();
    let csv = env.dir.path().join("in.csv");
    std::fs::write(
        &csv,
        "\u{feff}email,name\n\"a@x.com\",\"Doe, Jane\"\nb@x.com,\"multi\nline\"\n",
    )
    .unwrap();
    let bad = env.dir.path().join("bad.csv");
    std::fs::write(&bad, "email,name\na@x.com,A\nb@x.com\n").unwrap();
    let out_csv = env.dir.path().join("out.csv");
    let out_json = env.dir.path().join("out.json");
    let body = format!(
        r#"
let rows = read_csv("{csv}");
check(rows.len() == 2 && rows[0].email == "a@x.com" && rows[0].name == "Doe, Jane", "read_csv with BOM and quotes");
check(rows[1].name == "multi\nline", "quoted newline");
try {{ read_csv("{bad}"); check(false, "bad csv"); }} catch (e) {{ check(e.message.contains("line 3"), `bad row line: ${{e.message}}`); }}
try {{ read_csv("{missing}"); check(false, "missing csv"); }} catch (e) {{ check(e.code == "io", "missing file"); }}
write_csv("{out_csv}", rows);
check(read_csv("{out_csv}") == rows, "write_csv round trip");
write_json("{out_json}", #{{ list: [1, 2], ok: true }});
check(read_json("{out_json}").list[1] == 2, "json round trip");
check(to_json(#{{ a: [true, ()] }}) == `{{"a":[true,null]}}`, "to_json");
check(parse_json(`{{"x": {{"y": "z"}}}}`).x.y == "z", "parse_json");
try {{ parse_json("{{nope"); check(false, "bad json"); }} catch (e) {{ check(e.kind == "usage", "bad json kind"); }}
check(table([#{{ a: 1, b: "two" }}]).contains("two"), "table");
check(env("MCSH_TEST_VALUE") == "forty-two" && env("MCSH_UNSET_VALUE") == (), "env");
check(args == ["first", "--second"], `args: ${{args}}`);
check(!dry_run(), "dry_run off");
try {{ confirm("proceed?"); check(false, "confirm off a terminal"); }} catch (e) {{ check(e.kind == "usage" && e.message.contains("--yes"), "confirm refuses"); }}
print("all checks passed");
"#,
        csv = csv.display(),
        bad = bad.display(),
        missing = env.dir.path().join("missing.csv").display(),
        out_csv = out_csv.display(),
        out_json = out_json.display(),
    );
    let path = script(&env, "data.rhai", &format!("{CHECK}{body}"));
    env.bare()
        .env("MCSH_TEST_VALUE", "forty-two")
        .args(["run", &path, "first", "--second"])
        .assert()
        .success()
        .stdout(predicate::str::contains("all checks passed"));
    // A JSON file whose value could take many times the memory left is refused before it is
    // read (a parsed `[0,0,...]` holds about 24 times its text): 4 MB under a 64 MiB limit.
    let big = env.dir.path().join("big.json");
    std::fs::write(&big, format!("[{}0]", "0,".repeat(2_000_000))).unwrap();
    for expr in [
        format!("read_json(\"{}\").len()", big.display()),
        format!("parse_json(read_text(\"{}\")).len()", big.display()),
    ] {
        let out = env
            .bare()
            .args(["--limit", "memory=64", "-e", &expr])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{expr}: {err}");
        assert!(err.contains("MiB"), "{expr}: {err}");
    }
    // Within the limit it reads as before.
    env.bare()
        .args(["-e", &format!("read_json(\"{}\").len()", big.display())])
        .assert()
        .success()
        .stdout("2000001\n");
    let yes = script(&env, "yes.rhai", "print(confirm(\"really?\"));");
    env.bare()
        .args(["--yes", "run", &yes])
        .assert()
        .success()
        .stdout("true\n");
}

#[test]
fn dry_run_scripts_read_for_real_and_write_nothing() {
    let env = Env::new();
    let path = script(&env, "dry.rhai", "print(dry_run());\ncreate_user(\"dry@company.com\");\nadd_member(\"Sales\", \"dry@company.com\");\nprint(users().len());");
    env.mcsh(Scheme::OAuth)
        .args(["--dry-run", "run", &path])
        .assert()
        .success()
        .stdout("true\n63\n")
        .stderr(
            predicate::str::contains("2 write(s) planned")
                .and(predicate::str::contains("/api/user/create-user")),
        );
    // Later reads in the run saw the planned user (63); the directory itself did not change.
    assert!(!env.user_emails().contains(&"dry@company.com".to_string()));
    assert_eq!(env.user_emails().len(), 62);
}

#[test]
fn scripts_run_by_name_by_shebang_and_from_stdin() {
    let env = Env::new();
    let path = script(
        &env,
        "hello.rhai",
        "#!/usr/bin/env mcsh\nprint(`hello ${args.len()}`);\n",
    );
    env.bare()
        .args([&path, "a", "b"])
        .assert()
        .success()
        .stdout("hello 2\n");
    env.bare()
        .args(["run", "-"])
        .write_stdin("print(40 + 2);")
        .assert()
        .success()
        .stdout("42\n");
    env.bare()
        .write_stdin("print(\"from stdin\");")
        .assert()
        .success()
        .stdout("from stdin\n");
    env.bare()
        .arg("no-such-command")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown command"));
    env.bare()
        .args(["run", "missing.rhai"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot read script missing.rhai"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // The kernel runs `mcsh PATH ARGS`: the same path as above, through `env`'s PATH.
        let bin_dir = assert_cmd::cargo::cargo_bin("mcsh")
            .parent()
            .unwrap()
            .to_path_buf();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        let out = std::process::Command::new(&path)
            .arg("x")
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    bin_dir.display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "hello 1\n",
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn imports_resolve_relative_to_the_script() {
    let env = Env::new();
    std::fs::create_dir_all(env.dir.path().join("lib")).unwrap();
    script(
        &env,
        "lib/helpers.rhai",
        "/// Doubles.\nfn double(x) { x * 2 }\nexport const ANSWER = 42;\n",
    );
    let path = script(
        &env,
        "main.rhai",
        "import \"lib/helpers\" as h;\nprint(h::double(h::ANSWER));\n",
    );
    let elsewhere = tempfile::tempdir().unwrap();
    env.bare()
        .current_dir(elsewhere.path())
        .args(["run", &path])
        .assert()
        .success()
        .stdout("84\n");
}

#[test]
fn eval_prints_values_in_the_output_format_and_needs_no_credentials() {
    let env = Env::new();
    env.bare()
        .args(["-e", "1 + 1"])
        .assert()
        .success()
        .stdout("2\n");
    env.bare()
        .args(["-e", "let x = 1;"])
        .assert()
        .success()
        .stdout("");
    let out = env
        .mcsh(Scheme::OAuth)
        .args(["-e", "users(\"example.com\")"])
        .output()
        .unwrap();
    let users: Value = serde_json::from_slice(&out.stdout).expect("JSON off a terminal");
    assert_eq!(users.as_array().unwrap().len(), 14);
    env.mcsh(Scheme::OAuth)
        .args([
            "-e",
            "groups().map(|g| #{ name: g.description })",
            "-o",
            "table",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("─").and(predicate::str::contains("All Staff")));
    env.mcsh(Scheme::Hmac)
        .args(["-e", "users().len()"])
        .assert()
        .success()
        .stdout("62\n");
    env.bare()
        .args(["-e", "1", "users", "list"])
        .assert()
        .code(2);
}

#[test]
fn uncaught_errors_read_like_the_cli_with_location_and_caret() {
    let env = Env::new();
    let path = script(
        &env,
        "onboard.rhai",
        "let who = \"alice.anderson@company.com\";\n    create_user(who);\n",
    );
    env.mcsh(Scheme::OAuth)
        .args(["run", &path])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains(format!(
                "error: create_user: Mimecast err_user_already_exists: User already exists ({path}:2:5)"
            ))
            .and(predicate::str::contains("2 |     create_user(who);"))
            .and(predicate::str::contains("  |     ^")),
        );
    let syntax = script(&env, "syntax.rhai", "let x = ;\n");
    env.bare().args(["run", &syntax]).assert().code(2).stderr(
        predicate::str::contains("syntax error").and(predicate::str::contains("syntax.rhai:1:")),
    );
    env.bare()
        .args(["-e", "throw \"custom failure\""])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("custom failure"));
    env.bare()
        .args(["-e", "users()"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains("users: no Mimecast credentials"));
}

#[test]
fn limits_stop_runaway_scripts_with_clear_messages() {
    let env = Env::new();
    env.bare()
        .args([
            "--limit",
            "operations=200000",
            "-e",
            "let n = 0; loop { n += 1; }",
        ])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("stopped after 200000 operations")
                .and(predicate::str::contains("--limit operations=N")),
        );
    env.bare()
        .args(["-e", "fn down(n) { down(n + 1) } down(0)"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("nested deeper than 64"));
    env.bare()
        .args([
            "--limit",
            "memory=64",
            "-e",
            "let s = \"x\"; loop { s += s; }",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("more than 64 MiB of memory"));
    env.bare()
        .args([
            "--limit",
            "string-size=1000",
            "-e",
            "let s = \"x\"; loop { s += s; }",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("over its limit"));
    env.bare()
        .args(["--limit", "speed=9", "-e", "1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a limit"));
}

#[test]
fn a_large_loop_fits_the_default_limits() {
    let env = Env::new();
    env.bare()
        .args(["-e", "let rows = []; for i in 0..100000 { rows.push(#{ emailAddress: `u${i}@x.com`, n: i }); } rows.filter(|r| r.n % 2 == 0).len()"])
        .assert()
        .success()
        .stdout("50000\n");
}

fn sigint(child: &std::process::Child) {
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGINT);
    }
}

#[test]
fn ctrl_c_stops_a_script_with_exit_130() {
    let env = Env::new();
    let bin = assert_cmd::cargo::cargo_bin("mcsh");
    let child = std::process::Command::new(bin)
        .args(["-e", "let n = 0; loop { n += 1; }"])
        .env("HOME", env.dir.path())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(400));
    sigint(&child);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    assert!(String::from_utf8_lossy(&out.stderr).contains("interrupted"));
}

#[test]
fn ctrl_c_stops_a_network_wait_and_the_repl_goes_on() {
    let env = Env::with(mcsh::sandbox::Options {
        latency: Duration::from_secs(30),
        ..Default::default()
    });
    let mut cmd: std::process::Command =
        std::process::Command::new(assert_cmd::cargo::cargo_bin("mcsh"));
    cmd.args(["repl"])
        .env("HOME", env.dir.path())
        .env("XDG_DATA_HOME", env.dir.path())
        .env("MIMECAST_BASE_URL", &env.sandbox.base_url)
        .env("MIMECAST_CLIENT_ID", &env.sandbox.keys.client_id)
        .env("MIMECAST_CLIENT_SECRET", &env.sandbox.keys.client_secret)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "users().len()").unwrap();
    stdin.flush().unwrap();
    std::thread::sleep(Duration::from_millis(800));
    sigint(&child);
    std::thread::sleep(Duration::from_millis(300));
    writeln!(stdin, "40 + 2").unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert!(stdout.contains("42"), "the session went on: {stdout}");
}

/// The header line of CSV output.
fn csv_header(out: &std::process::Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .unwrap_or("")
        .to_string()
}

#[test]
fn script_rows_keep_the_columns_the_commands_print() {
    let env = Env::new();
    let file = env.dir.path().join("rows.csv");
    let source = format!(
        "import \"exporter\" as exporter;\nwrite_csv({:?}, exporter::rows((), true));",
        file.display().to_string()
    );
    let out = env
        .mcsh(Scheme::OAuth)
        .args(["-e", &source])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written = std::fs::read_to_string(&file).unwrap();
    let command = env
        .mcsh(Scheme::OAuth)
        .args(["export", "--with-groups", "-o", "csv"])
        .output()
        .unwrap();
    assert_eq!(
        written.lines().next().unwrap(),
        csv_header(&command),
        "exporter::rows written by write_csv has export's columns"
    );
    assert_eq!(
        csv_header(&command),
        "emailAddress,name,domain,alias,addressType,source,groups,viaDomain",
        "export has the columns of users list, then the groups"
    );
    for (expr, command) in [
        (
            "members(\"Engineering\")",
            vec!["groups", "members", "--group", "Engineering"],
        ),
        (
            "users(\"example.com\")",
            vec!["users", "list", "--domain", "example.com"],
        ),
        ("groups()", vec!["groups", "list"]),
    ] {
        let script = env
            .mcsh(Scheme::OAuth)
            .args(["-e", expr, "-o", "csv"])
            .output()
            .unwrap();
        let cli = env
            .mcsh(Scheme::OAuth)
            .args(&command)
            .args(["-o", "csv"])
            .output()
            .unwrap();
        let script_header = csv_header(&script);
        let cli_header = csv_header(&cli);
        // A script shows every field a record has; those the command prints come in its order.
        let shared = |of: &str, with: &str| -> Vec<String> {
            of.split(',')
                .filter(|c| with.split(',').any(|w| w == *c))
                .map(str::to_string)
                .collect()
        };
        let in_script = shared(&script_header, &cli_header);
        assert!(in_script.len() >= 3, "{expr}: {script_header}");
        assert_eq!(
            in_script,
            shared(&cli_header, &script_header),
            "{expr}: {script_header} vs the command's {cli_header}"
        );
        assert!(
            script_header.starts_with("emailAddress") || script_header.starts_with("description"),
            "{expr}: the address or name comes first: {script_header}"
        );
    }
}

/// Runs `expr` with `mcsh -e` against the sandbox: (exit code, stderr).
fn eval_error(env: &Env, expr: &str) -> (Option<i32>, String) {
    let out = env.mcsh(Scheme::OAuth).args(["-e", expr]).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn an_error_inside_a_module_is_told_at_the_scripts_own_call() {
    let env = Env::new();
    // mcsh's onboard module: its line numbers are no line of the script's.
    let (code, err) = eval_error(
        &env,
        "import \"onboard\" as onboard;\n\nonboard::people([#{ email: \"bad email\", name: \"X\", groups: [] }], #{})",
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("(inside mcsh's module \"onboard\", called at <expr>:3:10)"),
        "{err}"
    );
    assert!(
        err.contains("3 | onboard::people([#{ email: \"bad email\""),
        "the script's line is shown: {err}"
    );
    // An admin's own module: where in it, and where the script called it.
    std::fs::create_dir_all(env.dir.path().join("lib")).unwrap();
    std::fs::write(
        env.dir.path().join("lib/mine.rhai"),
        "fn f(x) {\n    throw \"boom\";\n}\n",
    )
    .unwrap();
    let out = env
        .mcsh(Scheme::OAuth)
        .current_dir(env.dir.path())
        .args(["-e", "import \"lib/mine\" as mine;\nmine::f(1)"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("boom (inside the module \"lib/mine.rhai\" at 2:5, called at <expr>:2:7)"),
        "{err}"
    );

    // A module's own import is found beside it, wherever mcsh is started; an error two
    // modules down names each, innermost first.
    std::fs::write(
        env.dir.path().join("lib/outer.rhai"),
        "import \"inner\" as inner;\nfn via() {\n    inner::deep()\n}\n",
    )
    .unwrap();
    std::fs::write(
        env.dir.path().join("lib/inner.rhai"),
        "fn deep() {\n    throw \"deep down\";\n}\n",
    )
    .unwrap();
    std::fs::write(
        env.dir.path().join("main.rhai"),
        "import \"lib/outer\" as outer;\nouter::via();\n",
    )
    .unwrap();
    std::fs::create_dir_all(env.dir.path().join("elsewhere/lib")).unwrap();
    // A decoy where a module's import would be found if it were read from the current folder.
    std::fs::write(
        env.dir.path().join("elsewhere/lib/inner.rhai"),
        "fn deep() { print(\"the wrong file\"); }\n",
    )
    .unwrap();
    let out = env
        .mcsh(Scheme::OAuth)
        .current_dir(env.dir.path().join("elsewhere"))
        .args(["run", "../main.rhai"])
        .output()
        .unwrap();
    let (stdout, err) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(1), "{stdout}{err}");
    assert!(
        err.contains("deep down (inside the module \"../lib/inner.rhai\" at 2:5, called from the module \"../lib/outer.rhai\" at 3:12, called at ../main.rhai:2:8)"),
        "{err}"
    );
}

#[test]
fn engine_errors_are_told_in_the_scripts_terms() {
    let env = Env::new();
    let (code, err) = eval_error(&env, "memebrs(\"Engineering\")");
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("there is no function memebrs(); did you mean members?"),
        "{err}"
    );
    assert!(!err.contains("ImmutableString"), "{err}");

    let (code, err) = eval_error(&env, "add_member(\"Sales\", 42)");
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("add_member: argument 2 (email) must be a string, not an int")
            && err.contains("add_member(group: group, email: string)"),
        "{err}"
    );

    // `()` as the last argument is named as nothing, not as a stray parenthesis.
    let (code, err) = eval_error(&env, "add_member(\"Sales\", ())");
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("add_member: argument 2 (email) must be a string, not () (nothing);"),
        "{err}"
    );

    let (code, err) = eval_error(&env, "user(\"nobody@company.com\").name");
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("cannot read .name of () (nothing)") && err.contains("if u != ()"),
        "{err}"
    );
    assert!(!err.contains("getter is not registered"), "{err}");

    let out = env.bare().args(["doc", "add_member"]).output().unwrap();
    let doc = String::from_utf8_lossy(&out.stdout);
    assert!(
        doc.contains("add_member(group: group, email: string) -> map"),
        "signatures in script terms: {doc}"
    );
}

#[test]
fn misspellings_get_the_closest_names() {
    let env = Env::new();
    for (typo, meant) in [
        ("Enginering", "Engineering"),
        ("Salse", "Sales"),
        ("platfrom", "Engineering/Platform"),
        ("Sale", "Sales"),
    ] {
        let out = env
            .mcsh(Scheme::OAuth)
            .args(["groups", "members", "--group", typo])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{typo}: {err}");
        assert!(
            err.contains(&format!("did you mean: {meant}")),
            "{typo}: {err}"
        );
    }
    let out = env
        .mcsh(Scheme::OAuth)
        .args([
            "onboard",
            "--email",
            "new@company.com",
            "--group",
            "Enginering",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("Enginering (did you mean Engineering?)"),
        "{err}"
    );
    assert!(
        !err.contains("--create-groups"),
        "no advice to create the misspelling: {err}"
    );
    let out = env.bare().args(["user", "list"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("did you mean `mcsh users list`?"), "{err}");
}

#[test]
fn options_after_a_scripts_path_belong_to_mcsh_until_the_first_other_word() {
    let env = Env::new();
    let path = script(
        &env,
        "flags.rhai",
        "#!/usr/bin/env mcsh\nprint(dry_run());\nprint(args);\n",
    );
    let out = env
        .bare()
        .args([&path, "--dry-run", "x", "--count"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "true\n[\"x\", \"--count\"]\n"
    );
    let out = env
        .bare()
        .args([&path, "--", "--dry-run"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "false\n[\"--dry-run\"]\n"
    );
    // A mistyped option of mcsh's, or a --dry-run after the script's own words, would run
    // for real: refused, nothing runs.
    for (words, says) in [
        (vec!["--sanbox", "--dry-run"], "did you mean --sandbox?"),
        (
            vec!["x", "--dry-run"],
            "--dry-run comes after the script's own arguments",
        ),
    ] {
        let out = env.bare().arg(&path).args(&words).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{words:?}: {err}");
        assert!(err.contains(says), "{words:?}: {err}");
        assert!(out.stdout.is_empty(), "the script did not run");
    }

    // The shebang case of the issue: --sandbox after the path reaches the sandbox.
    let count = script(&env, "count.rhai", "print(users().len());\n");
    let state = env.dir.path().join("sandbox.db");
    for how in [vec![count.as_str(), "--sandbox"], vec![count.as_str()]] {
        let mut cmd = env.bare();
        cmd.env("MCSH_SANDBOX_STATE", &state).args(&how);
        if how.len() == 1 {
            cmd.env("MCSH_SANDBOX", "1");
        }
        let out = cmd.output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{how:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout), "62\n", "{how:?}");
    }
}

#[test]
fn write_csv_to_dash_is_standard_output_even_in_a_dry_run_but_files_are_not_written() {
    let env = Env::new();
    let out = env
        .mcsh(Scheme::OAuth)
        .args(["--dry-run", "-e", r#"write_csv("-", [#{a: 1, b: "x"}])"#])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "a,b\n1,x\n");
    let file = env.dir.path().join("out.csv");
    let out = env
        .mcsh(Scheme::OAuth)
        .args([
            "--dry-run",
            "-e",
            &format!("write_csv({:?}, [#{{a: 1}}])", file.display().to_string()),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("a dry run writes no files"),
        "{out:?}"
    );
    assert!(!file.exists());
}

#[test]
fn read_csv_stops_at_the_memory_limit_as_it_reads() {
    let env = Env::new();
    let path = env.dir.path().join("big.csv");
    let mut text = String::from("email,name,groups\n");
    for i in 0..60_000 {
        text.push_str(&format!("user{i}@company.com,Person {i},Sales;All Staff\n"));
    }
    std::fs::write(&path, text).unwrap();
    let expr = format!("read_csv({:?}).len()", path.display().to_string());
    let out = env
        .mcsh(Scheme::OAuth)
        .args(["--limit", "memory=16", "-e", &expr])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("its rows take more memory than the script may use (--limit memory)"),
        "{err}"
    );
    // Under the default limit the same file is read whole.
    let out = env
        .mcsh(Scheme::OAuth)
        .args(["-e", &expr])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "60000");
}

#[test]
fn a_csv_column_the_header_lacks_is_an_error_naming_the_nearest_one() {
    let env = Env::new();
    let path = env.dir.path().join("moves.csv");
    std::fs::write(&path, "email,department\namy.new@company.com,Sales\n").unwrap();
    let csv = path.display().to_string();
    let run = |source: String| {
        let out = env.bare().args(["-e", &source]).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).trim().to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    // The slip that matched nobody: now stopped, with the column meant.
    let (code, _, err) = run(format!(
        "let n = 0; for r in read_csv({csv:?}) {{ if r.departmnet == \"Sales\" {{ n += 1 }} }} n"
    ));
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("the CSV row has no column `departmnet`: did you mean `department`?"),
        "{err}"
    );
    // A header's case is not the script's: `Email` names `email`.
    let (code, _, err) = run(format!("read_csv({csv:?})[0].Email"));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("did you mean `email`?"), "{err}");
    // What the file has is read; a column the script adds is its own; `in` asks safely; a
    // map the script builds from a row is not a row.
    let (code, out, err) = run(format!(
        "let rows = read_csv({csv:?}); rows[0].result = \"moved\"; \
         let own = #{{ e: rows[0].email }}; \
         [rows[0].department, rows[0].result, \"team\" in rows[0], own.nothing == ()]"
    ));
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        out.split_whitespace().collect::<String>(),
        r#"["Sales","moved",false,true]"#
    );
}

#[test]
fn a_loop_of_writes_that_each_waited_is_told_how_to_batch_them() {
    let env = Env::new();
    let path = env.dir.path().join("w.csv");
    let mut text = String::from("email\n");
    for i in 0..25 {
        text.push_str(&format!("waited.{i}@company.com\n"));
    }
    std::fs::write(&path, text).unwrap();
    let csv = path.display().to_string();
    let run = |source: String| {
        let out = env
            .mcsh(Scheme::OAuth)
            .args(["-e", &source])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    // Its value used: each call waits for its answer.
    let err = run(format!(
        "let n = 0; for r in read_csv({csv:?}) {{ let x = add_member(\"Sales\", r.email); n += 1; }} n"
    ));
    assert!(
        err.contains("note: 25 add_member calls each waited for their answer")
            && err.contains("add_members(group, list)"),
        "{err}"
    );
    // A statement of its own: queued and batched, nothing to tell.
    let err = run(format!(
        "for r in read_csv({csv:?}) {{ remove_member(\"Sales\", r.email); }}"
    ));
    assert!(!err.contains("waited"), "{err}");
    // Fewer than twenty: no note.
    let err = run(format!(
        "let rows = read_csv({csv:?}); for i in 0..5 {{ let x = remove_member(\"Sales\", rows[i].email); }}"
    ));
    assert!(!err.contains("waited"), "{err}");
}

#[test]
fn a_closure_assigning_where_it_compares_stops_before_anything_runs() {
    let env = Env::new();
    let out = env
        .mcsh(Scheme::OAuth)
        .args([
            "-vv",
            "-e",
            "users().filter(|u| u.domain = \"example.com\").len()",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("this closure ends by assigning (`=`) to `u.domain`")
            && err.contains("did you mean `==`?"),
        "{err}"
    );
    assert!(!err.contains("http: POST"), "it ran: {err}");
}

//! The REPL driven through piped stdin (rustyline still applies the validator).

use predicates::prelude::*;

use crate::support::{on_a_terminal, process_with_env_of, Env, Scheme};

#[test]
fn multi_line_input_and_persistent_variables_and_functions() {
    let env = Env::new();
    let input = "let x = 40;\nfn add(a,\n       b) {\n  a + b\n}\nadd(x, 2)\nlet s = `two\nlines`;\ns.len()\n";
    env.bare()
        .arg("repl")
        .write_stdin(input)
        .assert()
        .success()
        .stdout("42\n9\n");
}

#[test]
fn errors_do_not_end_the_session() {
    let env = Env::new();
    let input = "nope()\nprint(\"unterminated\nlet = ;\n1 + 1\n";
    env.bare()
        .arg("repl")
        .write_stdin(input)
        .assert()
        .success()
        .stdout("2\n")
        .stderr(
            predicate::str::contains("there is no function nope()")
                .and(predicate::str::contains("Open string is not terminated"))
                .and(predicate::str::contains("syntax error")),
        );
}

#[test]
fn commands_help_vars_load_quit() {
    let env = Env::new();
    let lib = env.dir.path().join("lib.rhai");
    std::fs::write(&lib, "fn triple(x) { x * 3 }\nlet loaded = true;\n").unwrap();
    let input = format!(":help\n:help add_member\n:vars\nlet y = 5;\n:vars\n:load {}\ntriple(y)\n:bogus\n:quit\nprint(\"not reached\");\n", lib.display());
    let out = env.bare().arg("repl").write_stdin(input).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success());
    assert!(
        stdout.contains(":load FILE") && stdout.contains("ensure_group"),
        "overview: {stdout}"
    );
    assert!(
        stdout.contains("add_member(group: group, email: string) -> map"),
        "{stdout}"
    );
    assert!(stdout.contains("let y: i64 = 5"), "{stdout}");
    assert!(stdout.contains("15"), "loaded functions persist: {stdout}");
    assert!(stderr.contains("unknown command :bogus"), "{stderr}");
    assert!(!stdout.contains("not reached"));
}

#[test]
fn the_repl_reaches_the_directory() {
    let env = Env::new();
    env.mcsh(Scheme::OAuth)
        .arg("repl")
        .write_stdin("let eng = members(\"Engineering\");\neng.len()\ngroup(\"Platform\").parentId == group(\"Engineering\").id\n")
        .assert()
        .success()
        .stdout("10\ntrue\n");
}

#[test]
fn imports_last_for_the_session_and_every_module_can_be_imported_as_listed() {
    let env = Env::new();
    let input =
        "import \"exporter\" as exporter;\nexporter::rows(\"example.com\", false).len()\n:help\n";
    let out = env
        .mcsh(Scheme::OAuth)
        .arg("repl")
        .write_stdin(input)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success());
    assert!(
        !stderr.contains("Module not found"),
        "the import of the line before is still there: {stderr}"
    );
    assert!(stdout.starts_with("14\n"), "{stdout}{stderr}");
    assert!(stdout.contains("exporter::rows"), "{stdout}");
    assert!(
        !stdout.contains(" export::"),
        "no module is listed under a name that cannot be imported: {stdout}"
    );
}

#[test]
fn a_session_is_saved_as_a_script_of_what_ran() {
    let env = Env::new();
    let file = env.dir.path().join("session.rhai");
    let input = format!(
        "let x = 40;\nnope()\nlet y = x +;\nx + 2\n:vars\n:history\n:save {}\n:save {}\n",
        file.display(),
        file.display()
    );
    let out = env.bare().arg("repl").write_stdin(input).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success());
    assert!(
        stdout.contains("   1  let x = 40;\n   2  x + 2\n"),
        "{stdout}"
    );
    assert!(stderr.contains("saved 2 statement(s)"), "{stderr}");
    assert!(
        stderr.contains("exists; `:save"),
        "a second :save does not replace it: {stderr}"
    );
    let saved = std::fs::read_to_string(&file).unwrap();
    assert!(
        saved.starts_with("#!/usr/bin/env mcsh\n// Saved from an mcsh REPL session on "),
        "{saved}"
    );
    assert!(saved.contains("(on the default profile)"), "{saved}");
    assert!(saved.ends_with("let x = 40;\nx + 2;\n"), "{saved}");
    assert!(
        !saved.contains("nope") && !saved.contains(":vars"),
        "{saved}"
    );
    env.bare()
        .args(["run", file.to_str().unwrap()])
        .assert()
        .success();

    // A link is refused with its reason, not with advice to add `--force` (refused too).
    #[cfg(unix)]
    {
        let link = env.dir.path().join("linked.rhai");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        let input = format!("let z = 1;\n:save {}\n", link.display());
        let out = env.bare().arg("repl").write_stdin(input).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("is a symbolic link"), "{stderr}");
        assert!(!stderr.contains("--force"), "{stderr}");
        assert!(std::fs::read_to_string(&file)
            .unwrap()
            .ends_with("x + 2;\n"));
    }
}

#[test]
fn an_input_that_failed_after_changing_the_directory_is_saved_as_a_comment() {
    let env = Env::new();
    let file = env.dir.path().join("session.rhai");
    let input = format!(
        "add_member(\"Finance\", \"bob.hughes@company.com\"); throw \"stopped\";\n:save {}\n",
        file.display()
    );
    let out = env
        .mcsh(Scheme::OAuth)
        .arg("repl")
        .write_stdin(input)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("this input made 1 change(s) before it failed"),
        "{stderr}"
    );
    assert!(stderr.contains("saved 1 statement(s)"), "{stderr}");
    let saved = std::fs::read_to_string(&file).unwrap();
    assert!(
        saved.ends_with(
            "// This input failed after making 1 change(s) to the directory; kept as a comment\n\
             // so that running the script does not repeat them:\n\
             // add_member(\"Finance\", \"bob.hughes@company.com\"); throw \"stopped\";\n"
        ),
        "{saved}"
    );
    // The change itself happened.
    assert!(env
        .members("Finance")
        .contains(&"bob.hughes@company.com".to_string()));
}

#[test]
fn an_unfinished_statement_continues_under_a_prompt_of_its_own() {
    let env = Env::new();
    let shown = on_a_terminal(
        &env,
        &["repl"],
        &["for i in 0..2 {", "print(`n${i}`)", "}", ":quit"],
    );
    assert!(shown.contains("...> print(`n${i}`)"), "{shown}");
    assert!(shown.contains("...> }"), "{shown}");
    assert!(shown.contains("n0\nn1"), "{shown}");
}

#[test]
fn destructive_calls_ask_on_a_terminal_and_say_what_they_did() {
    let env = Env::new();
    let shown = on_a_terminal(
        &env,
        &["repl"],
        &[
            "create_group(\"Scratch\").description",
            "delete_group(\"Scratch\")",
            "n",
            "delete_group(\"Scratch\")",
            "y",
            ":quit",
        ],
    );
    assert!(shown.contains("delete group \"Scratch\" [y/N]"), "{shown}");
    assert!(
        shown.contains("delete_group: not confirmed; nothing was sent"),
        "{shown}"
    );
    assert!(shown.contains("deleted group \"Scratch\""), "{shown}");
    assert!(env
        .json(&["groups", "list"])
        .as_array()
        .unwrap()
        .iter()
        .all(|g| g["description"] != "Scratch"));
    // Piped, a script's rules hold: nothing is asked.
    let out = env
        .mcsh(Scheme::OAuth)
        .arg("repl")
        .write_stdin("create_group(\"Scratch2\");\ndelete_group(\"Scratch2\");\n")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("[y/N]"));
}

#[test]
fn the_command_line_form_of_a_read_runs_and_of_a_write_is_pointed_at_its_script_form() {
    let env = Env::new();
    let input = "users list --domain example.com -o csv\ngroups add-member --group Sales --email carol.okafor@company.com\nhelp\nquit\nprint(\"not reached\");\n";
    let out = env
        .mcsh(Scheme::OAuth)
        .arg("repl")
        .write_stdin(input)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("rosa.patel@example.com,Rosa Patel,example.com"),
        "the read ran: {stdout}"
    );
    assert!(
        stderr.contains("in the REPL write `add_member(\"Sales\""),
        "{stderr}"
    );
    assert!(
        stdout.contains(":load FILE"),
        "help shows the overview: {stdout}"
    );
    assert!(!stdout.contains("not reached"), "quit leaves: {stdout}");
    assert!(
        !env.members("Sales")
            .contains(&"carol.okafor@company.com".to_string()),
        "the write was not made"
    );
}

#[test]
fn a_saved_session_says_which_tenant_it_ran_on() {
    let env = Env::new();
    let file = env.dir.path().join("s.rhai");
    let out = env
        .bare()
        .args(["--sandbox", "repl"])
        .env("MCSH_SANDBOX_STATE", env.dir.path().join("sb.db"))
        .write_stdin(format!("let x = 1;\n:save {}\n", file.display()))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("`mcsh --sandbox run {}`", file.display())),
        "{stderr}"
    );
    let saved = std::fs::read_to_string(&file).unwrap();
    assert!(saved.contains("(on --sandbox)"), "{saved}");
    assert!(saved.contains("`mcsh --sandbox run "), "{saved}");
}

#[cfg(target_os = "linux")]
#[test]
fn the_shell_on_a_terminal_ends_at_once_on_sigterm() {
    // Ctrl-C keeps the session; SIGTERM (and SIGHUP, a closed terminal) ends it at once, as
    // it always did: the shell does not take them for Ctrl-C.
    let env = Env::new();
    let mcsh = assert_cmd::cargo::cargo_bin("mcsh");
    let mut cmd = process_with_env_of(&env.mcsh(Scheme::OAuth), "script");
    cmd.args([
        "-qec",
        &format!("{} --sandbox repl", mcsh.display()),
        "/dev/null",
    ]);
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("util-linux `script` runs the REPL on a terminal");
    // The REPL is `script`'s child.
    let children = format!("/proc/{0}/task/{0}/children", child.id());
    let started = std::time::Instant::now();
    let repl = loop {
        let text = std::fs::read_to_string(&children).unwrap_or_default();
        if let Some(pid) = text.split_whitespace().next() {
            break pid.parse::<i32>().unwrap();
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "no REPL started"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    // Let it reach its prompt.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let told = std::time::Instant::now();
    // SAFETY: kill(2) with the pid of a process this test started.
    unsafe {
        libc::kill(repl, libc::SIGTERM);
    }
    let _keep_stdin_open = child.stdin.take();
    let status = child.wait().unwrap();
    assert!(
        told.elapsed() < std::time::Duration::from_secs(3),
        "the shell went on after SIGTERM: {:?}, {status:?}",
        told.elapsed()
    );
}

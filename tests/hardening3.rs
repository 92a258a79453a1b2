//! The third hostile review's findings that are closed: each test fails on the code before the
//! fix.

use crate::support::{Env, Scheme};

#[test]
fn a_plan_listing_cuts_long_non_ascii_names_by_characters() {
    let env = Env::new();
    let name = "Zoë Pérez-Ramírez de Castellón y Núñez, Oficina de Sevilla";
    let out = env
        .mcsh(Scheme::OAuth)
        .args([
            "--dry-run",
            "users",
            "create",
            "--email",
            "zoe@company.com",
            "--name",
            name,
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("\"Zoë Pérez-Ramíre…\""), "{err}");
    let plan = env.dir.path().join("p.json");
    let out = env
        .mcsh(Scheme::OAuth)
        .args([
            "--plan-out",
            plan.to_str().unwrap(),
            "users",
            "create",
            "--email",
            "zoe@company.com",
            "--name",
            name,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let out = env
        .mcsh(Scheme::OAuth)
        .args(["apply", plan.to_str().unwrap(), "--yes"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(env.user_emails().contains(&"zoe@company.com".to_string()));
}

#[test]
fn a_bare_word_is_a_command_never_a_file_of_that_name() {
    let env = Env::new();
    let dir = env.dir.path();
    std::fs::write(dir.join("usrs"), "print(\"ran the file\");\n").unwrap();
    let out = env
        .mcsh(Scheme::OAuth)
        .current_dir(dir)
        .args(["usrs", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stdout.contains("ran the file"), "{stdout}");
    assert!(stderr.contains("mcsh users list"), "{stderr}");
    // A path, a .rhai name or a shebang still runs.
    std::fs::write(
        dir.join("tool"),
        "#!/usr/bin/env mcsh\nprint(\"ran the tool\");\n",
    )
    .unwrap();
    let out = env
        .mcsh(Scheme::OAuth)
        .current_dir(dir)
        .args(["tool"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("ran the tool"));
    let out = env
        .mcsh(Scheme::OAuth)
        .current_dir(dir)
        .args(["./usrs"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("ran the file"));
}

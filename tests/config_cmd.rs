//! `mcsh config init|show|path`, profiles, and where credentials come from.

use predicates::prelude::*;
use serde_json::Value;

use crate::support::{Env, Scheme};

fn config_file(env: &Env) -> std::path::PathBuf {
    env.dir.path().join("config/mcsh/config.toml")
}

#[test]
fn path_follows_mcsh_config() {
    let env = Env::new();
    env.bare()
        .args(["config", "path"])
        .assert()
        .success()
        .stdout(predicate::str::contains("config/mcsh/config.toml"));
    env.bare()
        .env("MCSH_CONFIG", "/somewhere/else.toml")
        .args(["config", "path"])
        .assert()
        .success()
        .stdout("/somewhere/else.toml\n");
}

#[test]
fn init_stores_the_environment_privately_and_show_masks_secrets() {
    let env = Env::new();
    env.mcsh(Scheme::OAuth)
        .args(["--profile", "prod", "config", "init"])
        .assert()
        .success();
    let path = config_file(&env);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    assert!(std::fs::read_to_string(&path).unwrap().contains("[prod]"));
    env.mcsh(Scheme::OAuth)
        .args(["--profile", "prod", "config", "init"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains("--force"));

    // The profile alone (no environment) reaches the sandbox.
    let out = env
        .bare()
        .args(["--profile", "prod", "groups", "list", "-o", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    env.bare()
        .env("MCSH_PROFILE", "prod")
        .args(["users", "list"])
        .assert()
        .success();
    env.bare()
        .args(["--profile", "staging", "users", "list"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains("profiles there: prod"));

    let shown = env
        .bare()
        .args(["--profile", "prod", "config", "show", "-o", "json"])
        .output()
        .unwrap();
    let text = String::from_utf8(shown.stdout).unwrap();
    assert!(
        !text.contains(&env.sandbox.keys.client_secret),
        "show never prints a secret"
    );
    let rows: Value = serde_json::from_str(&text).unwrap();
    let secret = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "client_secret")
        .unwrap();
    assert!(secret["value"].as_str().unwrap().starts_with("****"));
    assert_eq!(secret["source"], "config file");
    let scheme = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "scheme")
        .unwrap();
    assert_eq!(scheme["value"], "API 2.0 (OAuth2)");
}

#[test]
fn init_without_credentials_writes_a_template() {
    let env = Env::new();
    env.bare()
        .args(["config", "init"])
        .assert()
        .success()
        .stderr(predicate::str::contains("template"));
    let text = std::fs::read_to_string(config_file(&env)).unwrap();
    assert!(text.contains("[default]") && text.contains("# client_id"));
    assert!(text.contains("--profile NAME or MCSH_PROFILE"), "{text}");
    env.bare()
        .args(["users", "list"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains("no Mimecast credentials"));

    // A profile name TOML cannot take bare is quoted, so the file still reads.
    let other = Env::new();
    other
        .bare()
        .args(["--profile", "ops team", "config", "init"])
        .assert()
        .success();
    let text = std::fs::read_to_string(config_file(&other)).unwrap();
    assert!(text.contains("[\"ops team\"]"), "{text}");
    other
        .bare()
        .args(["--profile", "ops team", "users", "list"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains("no Mimecast credentials"));
    other
        .bare()
        .args(["--profile", "a\nb", "config", "init", "--force"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a usable profile name"));
}

#[test]
fn a_readable_secret_file_draws_a_warning() {
    let env = Env::new();
    env.mcsh(Scheme::Hmac)
        .args(["config", "init"])
        .assert()
        .success();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(config_file(&env), std::fs::Permissions::from_mode(0o644))
            .unwrap();
        env.bare()
            .args(["users", "list"])
            .assert()
            .success()
            .stderr(
                predicate::str::contains("can be read by other users")
                    .and(predicate::str::contains("chmod 600")),
            );
    }
}

/// A workflow says what it met connecting (a config others can read) once, and only when it
/// connects: a run stopped by its own input says only why, and sends nothing (no token
/// request carrying the secret).
#[test]
#[cfg(unix)]
fn a_workflow_warns_once_and_only_when_it_connects() {
    use std::os::unix::fs::PermissionsExt;
    let warning = "can be read by other users";
    let env = Env::new();
    env.mcsh(Scheme::OAuth)
        .args(["config", "init"])
        .assert()
        .success();
    std::fs::set_permissions(config_file(&env), std::fs::Permissions::from_mode(0o644)).unwrap();
    let good = env.dir.path().join("good.csv");
    std::fs::write(
        &good,
        "email,name,groups\nearly.one@company.com,Early One,Sales\n",
    )
    .unwrap();
    let bad = env.dir.path().join("bad.csv");
    std::fs::write(&bad, "email,name\nearly.two@company.com,Early Two\n").unwrap();
    let onboard = |csv: &std::path::Path| {
        let out = env
            .bare()
            .args(["onboard", "--csv", csv.to_str().unwrap()])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        (out.status.code(), stderr)
    };
    let sent = mcsh::sandbox::Stats::get(&env.sandbox.stats.requests);
    let (code, stderr) = onboard(&bad);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("missing column(s) groups"), "{stderr}");
    assert!(!stderr.contains(warning), "stopped by its input: {stderr}");
    assert_eq!(
        mcsh::sandbox::Stats::get(&env.sandbox.stats.requests),
        sent,
        "nothing sent, the token request neither"
    );
    let (code, stderr) = onboard(&good);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stderr.matches(warning).count(), 1, "{stderr}");
    assert!(env
        .user_emails()
        .contains(&"early.one@company.com".to_string()));
    // Connecting fails (no client id): the warning once, then the error.
    let text = std::fs::read_to_string(config_file(&env)).unwrap();
    let without_id: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("client_id"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(config_file(&env), without_id).unwrap();
    let (code, stderr) = onboard(&good);
    assert_eq!(code, Some(4), "{stderr}");
    assert_eq!(stderr.matches(warning).count(), 1, "{stderr}");
}

#[test]
fn bad_config_files_exit_4_naming_the_problem() {
    let env = Env::new();
    let path = config_file(&env);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, "[default\nclient_id = 1").unwrap();
    env.bare()
        .args(["users", "list"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains("config.toml"));
    std::fs::write(&path, "[default]\nclient_secrett = \"x\"\n").unwrap();
    env.bare()
        .args(["users", "list"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains("client_secrett"));
    std::fs::write(&path, "[default]\ntimeout = \"soon\"\n").unwrap();
    env.bare().args(["users", "list"]).assert().code(4);
}

#[test]
fn secret_command_supplies_the_secret() {
    let env = Env::new();
    let path = config_file(&env);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let k = &env.sandbox.keys;
    let text = format!(
        "[default]\nbase_url = \"{}\"\nclient_id = \"{}\"\nsecret_command = \"echo {}\"\n",
        env.sandbox.base_url, k.client_id, k.client_secret
    );
    std::fs::write(&path, text).unwrap();
    env.bare()
        .args(["users", "list", "-o", "json"])
        .assert()
        .success();
    std::fs::write(
        &path,
        "[default]\nclient_id = \"x\"\nsecret_command = \"exit 3\"\n",
    )
    .unwrap();
    env.bare()
        .args(["users", "list"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains("secret_command"));
}

#[test]
fn a_config_file_that_does_not_parse_is_named_by_line_never_quoted() {
    let env = Env::new();
    let file = config_file(&env);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    for (body, line) in [
        (
            "[default]\nclient_id = \"id\"\nclinet_secret = \"supersecret123\"\n",
            3,
        ),
        (
            "[default]\nclient_id = \"id\"\nclient_secret = \"supersecret123\n",
            3,
        ),
        (
            "[default]\nclient_id = \"id\"\nclient_secret = supersecret123\n",
            3,
        ),
        (
            "[default]\nclient_secret = \"x\"\nclient_secret = \"supersecret123\"\n",
            3,
        ),
        ("[default]\n\nclient_secret = [\"supersecret123\"]\n", 3),
        // No table: the value meets a profile where a table was expected.
        ("client_secret = \"supersecret123\"\n", 1),
        ("[default]\ntimeout = \"supersecret123\"\n", 2),
        ("[default]\nsupersecret123 = 1\n", 2),
        ("[default]\nclient_secret = 98765432\n", 2),
    ] {
        std::fs::write(&file, body).unwrap();
        let out = env.bare().args(["config", "show"]).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{body}: {err}");
        assert!(
            !err.contains("supersecret123") && !err.contains("98765432"),
            "the secret leaked: {err}"
        );
        assert!(
            err.contains(&format!("config.toml: line {line}, column ")),
            "{body}: {err}"
        );
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    }
}

#[cfg(unix)]
#[test]
fn a_device_or_fifo_as_the_config_file_is_refused_at_once() {
    let env = Env::new();
    let fifo = env.dir.path().join("fifo.toml");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    for path in [std::path::PathBuf::from("/dev/zero"), fifo] {
        let out = env
            .bare()
            .env("MCSH_CONFIG", &path)
            .args(["config", "show"])
            .timeout(std::time::Duration::from_secs(20))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{}: {err}", path.display());
        assert!(err.contains("not a regular file"), "{err}");
    }
}

#[test]
fn api_2_comes_first_and_api_1_keys_are_told_what_retirement_means() {
    let env = Env::new();
    env.bare().args(["config", "init"]).assert().success();
    let text = std::fs::read_to_string(config_file(&env)).unwrap();
    let (v2, v1) = (
        text.find("# API 2.0").unwrap(),
        text.find("# API 1.0").unwrap(),
    );
    assert!(v2 < v1, "API 2.0 leads: {text}");
    assert!(text.contains("retires API 1.0"), "{text}");

    // Storing API 1.0 keys says what their retirement means; API 2.0 credentials say nothing.
    let keys = Env::new();
    keys.mcsh(Scheme::Hmac)
        .args(["config", "init"])
        .assert()
        .success()
        .stderr(predicate::str::contains("these are API 1.0 keys"))
        .stderr(predicate::str::contains("client id and secret"));
    let oauth = Env::new();
    oauth
        .mcsh(Scheme::OAuth)
        .args(["config", "init"])
        .assert()
        .success()
        .stderr(predicate::str::contains("API 1.0").not());

    // README and the configuration page put API 2.0 first and say the same.
    for doc in ["README.md", "docs/configuration.md"] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(doc);
        let text = std::fs::read_to_string(path).unwrap();
        let v2 = text.find("API 2.0").unwrap();
        let v1 = text.find("API 1.0").unwrap();
        assert!(v2 < v1, "{doc}: API 2.0 comes first");
        assert!(
            text.contains("not yet"),
            "{doc}: says the date is not published"
        );
        assert!(text.contains("June 2025"), "{doc}");
    }
}

#[test]
fn api_2_credentials_meeting_an_api_1_host_draw_a_warning_and_bad_keys_are_not_stored() {
    let env = Env::new();
    env.bare()
        .env("MIMECAST_CLIENT_ID", "id")
        .env("MIMECAST_CLIENT_SECRET", "secret-value")
        .env("MIMECAST_BASE_URL", "https://eu-api.mimecast.com")
        .args(["config", "show"])
        .assert()
        .success()
        .stderr(predicate::str::contains("is an API 1.0 regional host"))
        .stderr(predicate::str::contains(
            "https://api.services.mimecast.com",
        ));
    env.bare()
        .env("MIMECAST_CLIENT_ID", "id")
        .env("MIMECAST_CLIENT_SECRET", "secret-value")
        .env("MIMECAST_BASE_URL", "https://uk-api.services.mimecast.com")
        .args(["config", "show"])
        .assert()
        .success()
        .stderr(predicate::str::contains("API 1.0 regional host").not());

    // A secret key that is not base64 cannot sign anything: refused, nothing written.
    env.bare()
        .env("MIMECAST_ACCESS_KEY", "ak")
        .env("MIMECAST_SECRET_KEY", "not base64!!")
        .env("MIMECAST_APP_ID", "app")
        .env("MIMECAST_APP_KEY", "key")
        .env("MIMECAST_BASE_URL", "https://eu-api.mimecast.com")
        .args(["config", "init"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "MIMECAST_SECRET_KEY is not base64",
        ));
    assert!(!config_file(&env).exists());
    // Keys without a region are stored with a warning that says what to add.
    env.bare()
        .env("MIMECAST_ACCESS_KEY", "ak")
        .env("MIMECAST_SECRET_KEY", "c2VjcmV0")
        .env("MIMECAST_APP_ID", "app")
        .env("MIMECAST_APP_KEY", "key")
        .args(["config", "init"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "API 1.0 keys need the account's region",
        ));
}

#[test]
fn config_show_says_where_the_file_and_profile_came_from_and_the_environment_wins_a_scheme() {
    let env = Env::new();
    let file = env.dir.path().join("elsewhere.toml");
    std::fs::write(
        &file,
        "[prod]\nclient_id = \"abc\"\nclient_secret = \"file-secret-value\"\n",
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let show = |extra: &[(&str, &str)], args: &[&str]| {
        let mut cmd = env.bare();
        cmd.env("MCSH_CONFIG", &file);
        for (k, v) in extra {
            cmd.env(k, v);
        }
        let out = cmd
            .args(args)
            .args(["config", "show", "-o", "json"])
            .output()
            .unwrap();
        let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
        let source = |key: &str| {
            rows.as_array()
                .unwrap()
                .iter()
                .find(|r| r["key"] == key)
                .map(|r| r["source"].as_str().unwrap().to_string())
        };
        (
            source("config_file"),
            source("profile"),
            source("client_id"),
            source("access_key"),
            String::from_utf8_lossy(&out.stderr).to_string(),
            rows,
        )
    };
    let (file_src, profile_src, ..) = show(&[], &["--profile", "prod"]);
    assert_eq!(file_src.as_deref(), Some("environment (MCSH_CONFIG)"));
    assert_eq!(profile_src.as_deref(), Some("--profile"));
    let (_, profile_src, ..) = show(&[("MCSH_PROFILE", "prod")], &[]);
    assert_eq!(profile_src.as_deref(), Some("environment (MCSH_PROFILE)"));
    // API 1.0 keys in the environment replace the profile's API 2.0 credentials.
    let keys = [
        ("MIMECAST_ACCESS_KEY", "ak"),
        ("MIMECAST_SECRET_KEY", "c2VjcmV0"),
        ("MIMECAST_APP_ID", "app"),
        ("MIMECAST_APP_KEY", "key"),
        ("MIMECAST_BASE_URL", "https://eu-api.mimecast.com"),
    ];
    let (_, _, client_id, access_key, err, rows) = show(&keys, &["--profile", "prod"]);
    assert_eq!(client_id, None, "{rows}");
    assert_eq!(access_key.as_deref(), Some("environment"), "{rows}");
    assert!(
        err.contains("replace profile \"prod\"'s client_id, client_secret"),
        "{err}"
    );
    let scheme = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "scheme")
        .unwrap()["value"]
        .clone();
    assert_eq!(scheme, "API 1.0 (HMAC)", "{rows}");
}

#[test]
fn config_show_says_when_there_is_no_config_file() {
    let env = Env::new();
    env.bare()
        .env("MCSH_CONFIG", env.dir.path().join("missing.toml"))
        .args(["config", "show"])
        .assert()
        .success()
        .stderr(predicate::str::contains("there is no config file at"));
}

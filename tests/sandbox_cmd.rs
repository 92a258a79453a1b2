//! `mcsh sandbox serve|reset` and the embedded `--sandbox`.

use std::io::{BufRead, BufReader};
use std::process::{Command as StdCommand, Stdio};

use serde_json::Value;

use crate::support::{isolated, Env, Scheme};

#[test]
fn serve_prints_one_json_line_of_credentials_that_work_for_both_schemes() {
    let env = Env::new();
    let bin = assert_cmd::cargo::cargo_bin("mcsh");
    let mut child = StdCommand::new(bin)
        .args([
            "sandbox",
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--state",
            ":memory:",
            "--output",
            "json",
        ])
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let creds: Value = serde_json::from_str(&line).expect("one JSON line");
    let keys = [
        "base_url",
        "client_id",
        "client_secret",
        "access_key",
        "secret_key",
        "app_id",
        "app_key",
    ];
    assert_eq!(creds.as_object().unwrap().len(), keys.len());
    for k in keys {
        assert!(creds[k].as_str().is_some_and(|v| !v.is_empty()), "{k}");
    }
    let var = |k: &str| creds[k].as_str().unwrap().to_string();
    for scheme in [Scheme::OAuth, Scheme::Hmac] {
        let mut cmd = env.bare();
        cmd.env("MIMECAST_BASE_URL", var("base_url"));
        if scheme == Scheme::OAuth {
            cmd.env("MIMECAST_CLIENT_ID", var("client_id"))
                .env("MIMECAST_CLIENT_SECRET", var("client_secret"));
        } else {
            cmd.env("MIMECAST_ACCESS_KEY", var("access_key"))
                .env("MIMECAST_SECRET_KEY", var("secret_key"))
                .env("MIMECAST_APP_ID", var("app_id"))
                .env("MIMECAST_APP_KEY", var("app_key"));
        }
        let out = cmd.args(["users", "list", "-o", "json"]).output().unwrap();
        assert!(
            out.status.success(),
            "{scheme:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let users: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(users.as_array().unwrap().len(), 62, "{scheme:?}");
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn embedded_sandbox_keeps_state_between_runs_until_reset() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        isolated(dir.path().to_path_buf())
            .args(args)
            .output()
            .unwrap()
    };
    let count = |out: std::process::Output| -> usize {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(
        count(run(&["--sandbox", "users", "list", "-o", "json"])),
        62
    );
    assert!(run(&[
        "--sandbox",
        "users",
        "create",
        "--email",
        "kept@company.com"
    ])
    .status
    .success());
    assert_eq!(
        count(run(&["users", "list", "--sandbox", "-o", "json"])),
        63,
        "state persists in the data dir"
    );
    assert!(dir.path().join("data/mcsh/sandbox.db").exists());
    let reset = run(&["sandbox", "reset"]);
    assert!(reset.status.success());
    assert_eq!(
        count(run(&["--sandbox", "users", "list", "-o", "json"])),
        62,
        "a reset tenant is the demo again"
    );
}

#[test]
fn serve_refuses_a_fail_rate_outside_zero_to_one() {
    let env = Env::new();
    env.bare()
        .args([
            "sandbox",
            "serve",
            "--fail-rate",
            "1.5",
            "--state",
            ":memory:",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "--fail-rate 1.5 must be between 0 and 1",
        ));
}

//! A wrong network fails fast and says what to check: a name that does not resolve, a TLS
//! failure, a connection another host refuses and an answer that is not HTTP are not tried
//! again; a host that takes the connection and never answers is tried once more, said on
//! stderr, then given up.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::support::Env;

/// `mcsh -v users list` against `base_url` with API 2.0 credentials: (exit code, stderr).
fn list_users(env: &Env, base_url: &str, extra: &[(&str, &str)]) -> (i32, String) {
    let mut cmd = env.bare();
    cmd.env("MIMECAST_BASE_URL", base_url)
        .env("MIMECAST_CLIENT_ID", "id")
        .env("MIMECAST_CLIENT_SECRET", "secret-never-shown")
        .args(["-v", "users", "list"]);
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!err.contains("secret-never-shown"), "{err}");
    (out.status.code().unwrap_or(-1), err)
}

/// A local listener that counts connections and does `answer` with each, on its own thread.
fn listener(answer: fn(std::net::TcpStream)) -> (String, Arc<AtomicUsize>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for stream in l.incoming().flatten() {
            seen.fetch_add(1, Ordering::SeqCst);
            std::thread::spawn(move || answer(stream));
        }
    });
    (format!("127.0.0.1:{port}"), count)
}

#[test]
fn a_name_that_does_not_resolve_is_not_tried_again() {
    let env = Env::new();
    // .invalid never resolves (RFC 6761).
    let (code, err) = list_users(&env, "https://mcsh-test.invalid", &[]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("does not resolve"), "{err}");
    assert!(err.contains("check base_url"), "{err}");
    assert!(!err.contains("retry:"), "tried again: {err}");
}

#[test]
fn a_tls_failure_is_not_tried_again() {
    let env = Env::new();
    // Plain HTTP where https is expected: the handshake fails.
    let (addr, connections) = listener(|mut s| {
        let mut buf = [0u8; 1024];
        let _ = s.read(&mut buf);
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}");
    });
    let (code, err) = list_users(&env, &format!("https://{addr}"), &[]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("TLS failed"), "{err}");
    assert!(!err.contains("retry:"), "tried again: {err}");
    assert_eq!(connections.load(Ordering::SeqCst), 1);
}

#[test]
fn a_host_that_answers_in_another_protocol_is_not_tried_again() {
    let env = Env::new();
    // An SSH server (or a TLS port asked in plain http) behind the base URL: it answers at
    // once, never in HTTP, and says the same on every try.
    let (addr, connections) = listener(|mut s| {
        let mut buf = [0u8; 1024];
        let _ = s.read(&mut buf);
        let _ = s.write_all(b"SSH-2.0-OpenSSH_9.2\r\nnot http\r\n");
    });
    let (code, err) = list_users(&env, &format!("http://{addr}"), &[]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("answered, but not in HTTP"), "{err}");
    assert!(err.contains("check base_url"), "{err}");
    assert!(!err.contains("retry:"), "tried again: {err}");
    assert_eq!(connections.load(Ordering::SeqCst), 1);
}

#[test]
fn a_connection_refused_by_another_host_is_not_tried_again() {
    let env = Env::new();
    // 0.0.0.0 is not a loopback address, and nothing listens on port 9 there.
    let (code, err) = list_users(&env, "https://0.0.0.0:9", &[]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("refused the connection"), "{err}");
    assert!(!err.contains("retry:"), "tried again: {err}");
}

#[test]
fn a_refused_connection_to_this_machine_is_still_tried_again() {
    let env = Env::new();
    // The sandbox or a local proxy may be starting: loopback refusals are retried.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (code, err) = list_users(&env, &format!("http://127.0.0.1:{port}"), &[]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("retry:"), "{err}");
    assert!(
        !err.contains("refused the connection: nothing listens"),
        "{err}"
    );
}

#[test]
fn a_host_that_never_answers_is_tried_once_more_and_says_so() {
    let env = Env::new();
    let (addr, connections) = listener(|s| {
        std::thread::sleep(std::time::Duration::from_secs(30));
        drop(s);
    });
    let (code, err) = list_users(&env, &format!("http://{addr}"), &[("MCSH_TIMEOUT", "1")]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(connections.load(Ordering::SeqCst), 2, "{err}");
    assert!(
        err.contains("no answer from /oauth/token within 1 s"),
        "{err}"
    );
    assert!(err.contains("trying once more, until"), "{err}");
    assert!(err.contains("check base_url"), "{err}");
}

#[test]
fn region_discovery_says_what_to_check_as_other_calls_do() {
    let env = Env::new();
    let out = env
        .bare()
        .env("MCSH_DISCOVERY_URL", "https://mcsh-test.invalid")
        .env("MIMECAST_ACCESS_KEY", "a")
        .env("MIMECAST_SECRET_KEY", "c2VjcmV0")
        .env("MIMECAST_APP_ID", "app")
        .env("MIMECAST_APP_KEY", "key")
        .env("MIMECAST_ADMIN_EMAIL", "admin@company.com")
        .args(["users", "list"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("does not resolve"), "{err}");
    assert!(err.contains("check base_url"), "{err}");
}

#[test]
fn a_region_discovery_naming_a_host_not_mimecasts_is_refused_and_nothing_goes_there() {
    let env = Env::new();
    // Where a wrong discovery answer points: it must never hear from mcsh.
    let (elsewhere, reached) = listener(|mut s| {
        let mut buf = [0u8; 4096];
        let _ = s.read(&mut buf);
    });
    let port = elsewhere.rsplit(':').next().unwrap().to_string();
    // The discovery service (on 127.0.0.1) names another host: `localhost`, by name.
    static NAMED: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    NAMED.set(format!("http://localhost:{port}")).unwrap();
    let (discovery, _) = listener(|mut s| {
        let mut buf = [0u8; 4096];
        let _ = s.read(&mut buf);
        let body = format!(
            r#"{{"meta":{{"status":200}},"data":[{{"region":{{"api":"{}"}}}}],"fail":[]}}"#,
            NAMED.get().unwrap()
        );
        let _ = s.write_all(
            format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        );
    });
    let config = env.dir.path().join("config.toml");
    std::fs::write(
        &config,
        "[default]\naccess_key = \"a\"\napp_id = \"app\"\nadmin_email = \"admin@company.com\"\n",
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let before = std::fs::read_to_string(&config).unwrap();
    let out = env
        .bare()
        .env("MCSH_CONFIG", &config)
        .env("MCSH_DISCOVERY_URL", format!("http://{discovery}"))
        .env("MIMECAST_SECRET_KEY", "c2VjcmV0")
        .env("MIMECAST_APP_KEY", "key")
        .args(["users", "list"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(err.contains("not a Mimecast host"), "{err}");
    assert!(err.contains(&format!("localhost:{port}")), "{err}");
    assert!(err.contains("MIMECAST_BASE_URL"), "{err}");
    assert_eq!(
        reached.load(Ordering::SeqCst),
        0,
        "a request went to the named host"
    );
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        before,
        "the host was saved"
    );
}

#[test]
fn after_the_first_answer_a_timeout_is_tried_again_and_the_count_is_told() {
    let env = Env::new();
    // The token is issued; every API call then hangs.
    let (addr, _) = listener(|mut s| {
        let mut buf = [0u8; 4096];
        let n = s.read(&mut buf).unwrap_or(0);
        if String::from_utf8_lossy(&buf[..n]).starts_with("POST /oauth/token") {
            let body = r#"{"access_token":"t","token_type":"Bearer","expires_in":1799}"#;
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            );
        }
        std::thread::sleep(std::time::Duration::from_secs(30));
    });
    let (code, err) = list_users(&env, &format!("http://{addr}"), &[("MCSH_TIMEOUT", "1")]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("trying again (try 2 of "), "{err}");
}

#[test]
fn a_proxy_in_the_environment_is_named_when_the_network_fails() {
    let env = Env::new();
    let (code, err) = list_users(
        &env,
        "https://api.services.mimecast.com",
        &[(
            "HTTPS_PROXY",
            "http://user:proxy-pass@mcsh-proxy.invalid:3128",
        )],
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("HTTPS_PROXY is set"), "{err}");
    assert!(
        !err.contains("proxy-pass"),
        "the proxy's password is not shown: {err}"
    );
}

#[test]
fn a_workflow_whose_credentials_are_refused_asks_for_a_token_once_and_says_why() {
    // Refused credentials stop the workflow at its first call: the secret is sent once (no
    // retry of a refusal), nothing else is sent, and the reason is said once (exit 4).
    let server = crate::support::scripted::Scripted::start(|path, _auth, _n| {
        use crate::support::scripted::Canned;
        if path == "/oauth/token" {
            Canned::json(
                401,
                r#"{"fail":[{"code":"err_invalid_client","message":"Invalid client"}]}"#,
            )
        } else {
            Canned::json(500, r#"{"fail":[{"code":"err_internal"}]}"#)
        }
    });
    let (code, err) = onboard_one_person(&[
        ("MIMECAST_BASE_URL", &server.base_url),
        ("MIMECAST_CLIENT_ID", "id"),
        ("MIMECAST_CLIENT_SECRET", "secret-never-shown"),
    ]);
    assert_eq!(code, Some(4), "{err}");
    assert!(!err.contains("secret-never-shown"), "{err}");
    assert_eq!(err.matches("error:").count(), 1, "said once: {err}");
    assert_eq!(server.hits("/oauth/token"), 1, "{err}");
    assert_eq!(server.seen().len(), 1, "nothing else was sent: {err}");
}

#[test]
fn a_workflow_without_credentials_says_so_once() {
    // No credentials anywhere: the run says so once, at its first use of the directory
    // (after its file was read and checked), with the exit code for configuration (4).
    let (code, err) = onboard_one_person(&[]);
    assert_eq!(code, Some(4), "{err}");
    assert_eq!(err.matches("error:").count(), 1, "{err}");
}

/// Onboards one new person from a CSV file with `vars` set and no credentials otherwise:
/// (exit code, stderr).
fn onboard_one_person(vars: &[(&str, &str)]) -> (Option<i32>, String) {
    let env = Env::new();
    let csv = env.dir.path().join("people.csv");
    std::fs::write(
        &csv,
        "email,name,groups\nnew.person@company.com,New Person,Sales\n",
    )
    .unwrap();
    let mut cmd = env.bare();
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = cmd
        .args(["onboard", "--csv", csv.to_str().unwrap()])
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn a_plain_http_base_url_never_goes_through_a_proxy_from_the_environment() {
    // A proxy elsewhere would read the client secret in clear text: plain http is allowed
    // only because it stays on this machine.
    let env = Env::new();
    let (proxy, connections) = listener(|mut s| {
        let _ = s.write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n");
    });
    let url = format!("http://{proxy}");
    let out = env
        .mcsh(crate::support::Scheme::OAuth)
        .env("http_proxy", &url)
        .env("HTTP_PROXY", &url)
        .env("all_proxy", &url)
        .env("ALL_PROXY", &url)
        .env_remove("no_proxy")
        .env_remove("NO_PROXY")
        .args(["users", "list", "-o", "csv"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(connections.load(Ordering::SeqCst), 0, "the proxy was used");
}

#[test]
fn a_tls_handshake_that_never_ends_is_told_with_the_connections_own_bound() {
    // Connecting (TCP and TLS) may take at most 10 s, however long a request may: the
    // messages say what was waited for.
    let env = Env::new();
    let (addr, connections) = listener(|s| {
        std::thread::sleep(std::time::Duration::from_secs(40));
        drop(s);
    });
    let (code, err) = list_users(&env, &format!("https://{addr}"), &[("MCSH_TIMEOUT", "30")]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(connections.load(Ordering::SeqCst), 2, "{err}");
    assert!(
        err.contains("no answer from /oauth/token within 10 s; trying once more"),
        "{err}"
    );
    assert!(!err.contains("within 30 s"), "{err}");
}

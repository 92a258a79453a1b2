//! The client's protocol behaviour: tokens, pagination, failures under 200, 429s, retries.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mcsh::api::envelope::Request;
use mcsh::api::events::Event;
use mcsh::api::{paths, ApiError, Client, ClientOptions, Credentials, Kind, Secret};
use mcsh::directory::{BulkOptions, Directory};
use mcsh::sandbox::{Options, Sandbox};
use serde_json::json;

use crate::support::scripted::{users_page, Canned, Scripted};

fn fast() -> ClientOptions {
    ClientOptions {
        timeout: Duration::from_secs(10),
        backoff_base: Duration::from_millis(5),
        backoff_max: Duration::from_millis(20),
        ..ClientOptions::default()
    }
}

fn oauth(base: &str, id: &str, secret: &str) -> Client {
    let creds = Credentials::OAuth {
        client_id: id.into(),
        client_secret: Secret::new(secret),
    };
    Client::new(base, creds, fast(), None).unwrap()
}

fn sandbox_client(sb: &Sandbox) -> Client {
    oauth(&sb.base_url, &sb.keys.client_id, &sb.keys.client_secret)
}

fn recording(base: &str) -> (Client, Arc<Mutex<Vec<Event>>>) {
    let events: Arc<Mutex<Vec<Event>>> = Arc::default();
    let sink = events.clone();
    let creds = Credentials::OAuth {
        client_id: "id".into(),
        client_secret: Secret::new("secret"),
    };
    let client = Client::new(
        base,
        creds,
        fast(),
        Some(Arc::new(move |e: &Event| {
            sink.lock().unwrap().push(e.clone())
        })),
    )
    .unwrap();
    (client, events)
}

fn token_or(path: &str, n: usize, api: impl FnOnce() -> Canned) -> Canned {
    if path == "/oauth/token" {
        Canned::json(200, &json!({ "access_token": format!("tok{n}"), "token_type": "Bearer", "expires_in": 1799 }).to_string())
    } else {
        api()
    }
}

const ACCOUNT_OK: &str = r#"{"meta":{"status":200},"data":[{"accountName":"Scripted"}],"fail":[]}"#;

#[tokio::test(flavor = "multi_thread")]
async fn token_is_cached_across_calls() {
    let sb = Sandbox::spawn(Options::default()).unwrap();
    let client = sandbox_client(&sb);
    for _ in 0..3 {
        client.list_domains().await.unwrap();
    }
    assert_eq!(mcsh::sandbox::Stats::get(&sb.stats.tokens_issued), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn token_expired_fetches_a_new_token_once_and_retries() {
    let server = Scripted::start(|path, auth, n| {
        token_or(path, n, || {
            if auth == "Bearer tok0" {
                Canned::json(401, r#"{"fail":[{"code":"token_expired"}]}"#)
            } else {
                Canned::json(200, ACCOUNT_OK)
            }
        })
    });
    let client = oauth(&server.base_url, "id", "secret");
    let account = client.account().await.unwrap();
    assert_eq!(account["accountName"], "Scripted");
    assert_eq!(
        server.hits("/oauth/token"),
        2,
        "one token, then one more after token_expired"
    );
    let auths: Vec<String> = server
        .seen()
        .iter()
        .filter(|s| s.path == paths::GET_ACCOUNT)
        .map(|s| s.authorization.clone())
        .collect();
    assert_eq!(
        auths,
        ["Bearer tok0", "Bearer tok2"],
        "the retry carries the new token"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_that_stays_expired_is_an_auth_error_not_a_loop() {
    let server = Scripted::start(|path, _auth, n| {
        token_or(path, n, || {
            Canned::json(401, r#"{"fail":[{"code":"token_expired"}]}"#)
        })
    });
    let err = oauth(&server.base_url, "id", "secret")
        .account()
        .await
        .unwrap_err();
    assert!(err.is_auth(), "{err}");
    assert_eq!(err.code(), "token_expired");
    assert_eq!(server.hits("/oauth/token"), 2);
    assert_eq!(server.hits(paths::GET_ACCOUNT), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn pagination_follows_next_across_many_pages() {
    let sb = Sandbox::spawn(Options::default()).unwrap();
    let client = sandbox_client(&sb);
    let mut pager = client.user_pages(Some("company.com"), 7);
    let mut emails = Vec::new();
    while let Some(page) = pager.next_page().await.unwrap() {
        emails.extend(
            mcsh::api::users::users_of(page)
                .unwrap()
                .into_iter()
                .map(|u| u.email_address),
        );
    }
    assert_eq!(
        pager.pages_read(),
        7,
        "48 mailboxes and 1 alias address in pages of 7"
    );
    assert_eq!(emails.len(), 49);
    let unique: std::collections::HashSet<_> = emails.iter().collect();
    assert_eq!(unique.len(), 49, "no row twice");

    let dir = Directory::new(
        client,
        BulkOptions {
            page_size: 5,
            ..BulkOptions::default()
        },
        false,
    );
    let mut listing = dir.users(None).await.unwrap();
    let mut all = 0;
    while let Some(batch) = listing.next_batch().await.unwrap() {
        all += batch.len();
    }
    assert_eq!(all, 62, "every internal domain, every page");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_repeated_page_token_is_an_error_not_an_endless_loop() {
    let server = Scripted::start(|path, _auth, n| {
        token_or(path, n, || match n {
            1 => Canned::json(200, &users_page(&["a@x.com"], Some("A"))),
            2 => Canned::json(200, &users_page(&["b@x.com"], Some("B"))),
            _ => Canned::json(200, &users_page(&["c@x.com"], Some("A"))),
        })
    });
    let client = oauth(&server.base_url, "id", "secret");
    let mut pager = client.user_pages(Some("x.com"), 1);
    assert!(pager.next_page().await.unwrap().is_some());
    assert!(pager.next_page().await.unwrap().is_some());
    let err = pager.next_page().await.unwrap_err();
    assert!(
        matches!(err, ApiError::PageLoop { ref token, .. } if token == "A"),
        "{err}"
    );
    assert!(
        pager.next_page().await.unwrap().is_none(),
        "the pager stops after the error"
    );
    assert_eq!(server.hits(paths::GET_INTERNAL_USERS), 3);
    let sent: Vec<String> = server
        .seen()
        .iter()
        .filter(|s| s.path == paths::GET_INTERNAL_USERS)
        .map(|s| s.body.clone())
        .collect();
    assert!(
        !sent[0].contains("pageToken")
            && sent[1].contains("\"pageToken\":\"A\"")
            && sent[2].contains("\"pageToken\":\"B\"")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn fail_items_under_http_200_are_errors_with_their_details() {
    let sb = Sandbox::spawn(Options::default()).unwrap();
    let client = sandbox_client(&sb);
    let existing = json!({ "emailAddress": "alice.anderson@company.com" });
    let err = client
        .call(paths::CREATE_USER, Kind::Write, vec![existing.clone()])
        .await
        .unwrap_err();
    let failures = err.failures();
    assert_eq!(failures.len(), 1, "{err}");
    assert_eq!(failures[0].code, "err_user_already_exists");
    assert_eq!(failures[0].key.as_ref(), Some(&existing));
    assert_eq!(err.status(), 200);

    // A batch: one item succeeds, one fails; `send` keeps both.
    let batch = Request {
        meta: None,
        data: vec![
            json!({ "emailAddress": "fresh.one@company.com" }),
            json!({ "emailAddress": "not-an-address" }),
        ],
    };
    let resp = client
        .send(paths::CREATE_USER, Kind::Write, &batch)
        .await
        .unwrap();
    assert_eq!(resp.data.len(), 1);
    assert_eq!(resp.fail.len(), 1);
    assert_eq!(resp.fail[0].code, "err_validation_invalid_email_address");
    assert_eq!(resp.fail[0].field.as_deref(), Some("emailAddress"));
    assert_eq!(
        resp.fail[0].key.as_ref().unwrap()["emailAddress"],
        "not-an-address"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn meta_status_other_than_200_is_a_failure() {
    let server = Scripted::start(|path, _auth, n| {
        token_or(path, n, || {
            Canned::json(200, r#"{"meta":{"status":500},"data":[],"fail":[]}"#)
        })
    });
    let err = oauth(&server.base_url, "id", "secret")
        .account()
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::Failed { status: 500, .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_429_waits_for_x_ratelimit_reset_then_succeeds() {
    let server = Scripted::start(|path, _auth, n| {
        token_or(path, n, || {
            if n == 1 {
                Canned::json(429, r#"{"detail":"Over throttling limit"}"#)
                    .header("x-ratelimit-reset", "400")
            } else {
                Canned::json(200, ACCOUNT_OK)
            }
        })
    });
    let (client, events) = recording(&server.base_url);
    let started = Instant::now();
    client.account().await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "waited {:?}",
        started.elapsed()
    );
    assert_eq!(server.hits(paths::GET_ACCOUNT), 2);
    let waits: Vec<Duration> = events
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e {
            Event::RateLimited { wait, .. } => Some(*wait),
            _ => None,
        })
        .collect();
    assert_eq!(
        waits,
        vec![Duration::from_millis(400)],
        "Reset is milliseconds"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_429_on_a_write_is_retried_because_it_did_not_run() {
    let server = Scripted::start(|path, _auth, n| {
        token_or(path, n, || {
            if n == 1 {
                Canned::json(429, "{}").header("x-ratelimit-reset", "10")
            } else {
                Canned::json(
                    200,
                    r#"{"meta":{"status":200},"data":[{"emailAddress":"a@x.com"}],"fail":[]}"#,
                )
            }
        })
    });
    let client = oauth(&server.base_url, "id", "secret");
    let resp = client
        .send(paths::CREATE_USER, Kind::Write, &one_new_user("a@x.com"))
        .await
        .unwrap();
    assert_eq!(resp.data.len(), 1);
    assert_eq!(server.hits(paths::CREATE_USER), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn server_errors_are_retried_for_reads_but_not_for_writes() {
    let server = Scripted::start(|path, _auth, n| {
        token_or(path, n, || {
            if n == 1 || n == 3 {
                Canned::json(503, "<html>Service Unavailable</html>")
            } else {
                Canned::json(200, ACCOUNT_OK)
            }
        })
    });
    let (client, events) = recording(&server.base_url);
    client.account().await.unwrap();
    assert_eq!(
        server.hits(paths::GET_ACCOUNT),
        2,
        "the read was retried once"
    );
    assert!(events
        .lock()
        .unwrap()
        .iter()
        .any(|e| matches!(e, Event::Retry { reason, .. } if reason == "HTTP 503")));
    let err = client
        .send(paths::CREATE_USER, Kind::Write, &one_new_user("a@x.com"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), 503, "{err}");
    assert_eq!(
        server.hits(paths::CREATE_USER),
        1,
        "a write that may have run is not repeated"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn answers_that_are_not_envelopes_are_clear_errors() {
    for (body, says) in [
        (
            "<html><body>502 Bad Gateway</body></html>",
            "it is not JSON",
        ),
        ("", "the body is empty"),
        (r#"{"data":[{"users":["#, "truncated"),
        (r#"{"data":"users"}"#, "not a list"),
    ] {
        let server =
            Scripted::start(move |path, _auth, n| token_or(path, n, || Canned::json(200, body)));
        let err = oauth(&server.base_url, "id", "secret")
            .account()
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, ApiError::Decode { .. }), "{text}");
        assert!(
            text.contains("not a Mimecast response") && text.contains(says),
            "{text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_honest_quota_is_paced_before_it_runs_out_and_loses_nothing() {
    let sb = Sandbox::spawn(Options {
        quota: mcsh::sandbox::Quota::per_second(10),
        ..Options::default()
    })
    .unwrap();
    let client = sandbox_client(&sb);
    for _ in 0..25 {
        assert_eq!(client.list_domains().await.unwrap().len(), 2);
    }
    assert_eq!(
        mcsh::sandbox::Stats::get(&sb.stats.throttled),
        0,
        "the budget waited for the window instead of spending into 429s"
    );
    assert!(client.stats().paced > 0, "the quota was reached and paced");
    assert_eq!(client.stats().rate_waits, 0);
    let rate = client.rate();
    assert_eq!(rate.limit, Some(10));
    assert!(rate.reset_ms.unwrap() <= 1000);
}

#[test]
fn credentials_never_go_to_plain_http_off_loopback() {
    let creds = Credentials::OAuth {
        client_id: "id".into(),
        client_secret: Secret::new("s"),
    };
    let err = Client::new("http://api.example.com", creds.clone(), fast(), None)
        .err()
        .unwrap();
    assert!(
        err.is_auth() && err.to_string().contains("clear text"),
        "{err}"
    );
    assert!(Client::new("http://127.0.0.1:9", creds.clone(), fast(), None).is_ok());
    assert!(Client::new("https://api.services.mimecast.com", creds, fast(), None).is_ok());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_drained_bucket_that_refills_slowly_paces_a_long_scan_to_the_refill() {
    // A bucket of 10 requests that gives one back every 10 ms: a scan of 150 groups needs
    // about 150 requests, so most of it runs on the refill. Assuming a full refill at Reset
    // would send bursts into 429s (and give up after a fixed number of waits).
    let sb = Sandbox::spawn(Options {
        quota: mcsh::sandbox::Quota {
            bucket: 10,
            refill: Duration::from_millis(10),
        },
        generate_users: 200,
        generate_groups: 150,
        ..Options::default()
    })
    .unwrap();
    let client = sandbox_client(&sb);
    let dir = Directory::new(
        client.clone(),
        BulkOptions {
            concurrency: 32,
            ..BulkOptions::default()
        },
        false,
    );
    let index = dir.membership_index().await.expect("the scan finishes");
    assert_eq!(
        index.groups().len(),
        159,
        "every group of the tenant was read"
    );
    let throttled = mcsh::sandbox::Stats::get(&sb.stats.throttled);
    assert!(
        throttled <= 5,
        "paced to the refill: {throttled} requests answered 429 of {}",
        client.stats().requests
    );
    assert!(client.stats().paced > 0, "the budget paced the scan");
}

/// A `create-user` request for one address, as the executor sends it.
fn one_new_user(email: &str) -> Request {
    Request {
        meta: None,
        data: vec![json!({ "emailAddress": email })],
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_token_endpoint_is_retried_once_over_not_once_per_call_retry() {
    // A port with nothing listening: every connection is refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (client, events) = recording(&format!("http://127.0.0.1:{port}"));
    let err = client.account().await.unwrap_err();
    assert!(
        err.to_string().contains("/oauth/token") && err.to_string().contains("refused"),
        "{err}"
    );
    let retries: Vec<String> = events
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e {
            Event::Retry { path, .. } => Some(path.clone()),
            _ => None,
        })
        .collect();
    // The token fetch's own retries, and no retry of the call around it.
    let reads = ClientOptions::default().read_retries as usize;
    assert_eq!(
        retries,
        vec!["/oauth/token".to_string(); reads],
        "{retries:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redirect_is_followed_nowhere_and_says_where_it_pointed() {
    // Where a hostile endpoint would send the client: it must never hear from mcsh.
    let thief =
        Scripted::start(|_, _, _| Canned::json(200, r#"{"access_token":"x","expires_in":1799}"#));
    let to = format!("{}/stolen", thief.base_url);
    let token_moved = {
        let to = to.clone();
        Scripted::start(move |_, _, _| Canned::json(307, "").header("location", &to))
    };
    let err = oauth(&token_moved.base_url, "id", "the-secret")
        .account()
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("HTTP 307") && text.contains("/stolen"),
        "{text}"
    );
    assert!(!text.contains("the-secret"), "{text}");
    assert!(
        thief.seen.lock().unwrap().is_empty(),
        "the secret went to the redirect"
    );
    assert_eq!(
        token_moved.hits("/oauth/token"),
        1,
        "a redirect is not retried"
    );

    // API calls too: a write is not carried to the new address.
    let api_moved = {
        let to = to.clone();
        Scripted::start(move |path, _, n| {
            token_or(path, n, || Canned::json(308, "").header("location", &to))
        })
    };
    let err = oauth(&api_moved.base_url, "id", "the-secret")
        .send(
            paths::CREATE_USER,
            Kind::Write,
            &one_new_user("a@company.com"),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("HTTP 308"), "{err}");
    assert!(
        thief.seen.lock().unwrap().is_empty(),
        "the write went to the redirect"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_lifetime_past_any_clock_is_not_a_panic() {
    let server = Scripted::start(|path, _, _| {
        if path == "/oauth/token" {
            Canned::json(
                200,
                r#"{"access_token":"tok","expires_in":18446744073709551615}"#,
            )
        } else {
            Canned::json(
                200,
                r#"{"meta":{"status":200},"data":[{"accountName":"A"}],"fail":[]}"#,
            )
        }
    });
    let account = oauth(&server.base_url, "id", "secret").account().await;
    assert!(account.is_ok(), "{account:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn endless_429s_with_a_zero_reset_end_as_rate_limited() {
    let server = Scripted::start(|path, _, n| {
        token_or(path, n, || {
            Canned::json(429, r#"{"fail":[]}"#).header("x-ratelimit-reset", "0")
        })
    });
    let client = oauth(&server.base_url, "id", "secret");
    let call = client.account();
    let err = tokio::time::timeout(Duration::from_secs(30), call)
        .await
        .expect("gave up by itself")
        .unwrap_err();
    assert!(matches!(err, ApiError::RateLimited { .. }), "{err}");
    let hits = server.hits(paths::GET_ACCOUNT);
    assert!(hits <= 31, "{hits} answers waited out");
}

#[tokio::test(flavor = "multi_thread")]
async fn any_401_on_a_bearer_token_renews_it_once() {
    // The gateway's own shape: no errors[], no meta.
    let server = Scripted::start(|path, auth, n| {
        if path == "/oauth/token" {
            return Canned::json(
                200,
                &format!(r#"{{"access_token":"tok{n}","expires_in":1799}}"#),
            );
        }
        if auth == "Bearer tok0" {
            Canned::json(401, r#"{"fail":[{"code":"unauthorized"}]}"#)
        } else {
            Canned::json(
                200,
                r#"{"meta":{"status":200},"data":[{"accountName":"A"}],"fail":[]}"#,
            )
        }
    });
    let account = oauth(&server.base_url, "id", "secret").account().await;
    assert!(account.is_ok(), "{account:?}");
    assert_eq!(server.hits("/oauth/token"), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_listing_whose_tokens_never_repeat_still_ends() {
    // Pages that always offer one more, each with a fresh token: past the service's own
    // total, or empty, the listing stops with an error.
    let over_total = Scripted::start(|path, _, n| {
        token_or(path, n, || {
            let body = users_page(&["a@company.com", "b@company.com"], Some(&format!("t{n}")))
                .replace("\"pageSize\":2", "\"pageSize\":2,\"totalCount\":3");
            Canned::json(200, &body)
        })
    });
    let client = oauth(&over_total.base_url, "id", "secret");
    let mut pager = client.user_pages(Some("company.com"), 2);
    let mut pages = 0;
    let err = loop {
        match pager.next_page().await {
            Ok(Some(_)) => pages += 1,
            Ok(None) => panic!("the runaway listing ended by itself"),
            Err(e) => break e,
        }
        assert!(pages < 50, "still reading");
    };
    assert!(matches!(err, ApiError::Runaway { .. }), "{err}");
    assert!(pages <= 3, "{pages} pages");

    let empty = Scripted::start(|path, _, n| {
        token_or(path, n, || {
            Canned::json(200, &users_page(&[], Some(&format!("t{n}"))))
        })
    });
    let client = oauth(&empty.base_url, "id", "secret");
    let mut pager = client.user_pages(Some("company.com"), 2);
    let mut pages = 0;
    let err = loop {
        match pager.next_page().await {
            Ok(Some(_)) => pages += 1,
            Ok(None) => panic!("the runaway listing ended by itself"),
            Err(e) => break e,
        }
        assert!(pages < 50, "still reading");
    };
    assert!(matches!(err, ApiError::Runaway { .. }), "{err}");
}

/// Waits (at most 10 s) until `server` has had `n` token requests.
async fn token_requests(server: &Scripted, n: usize) {
    let start = Instant::now();
    while server.hits("/oauth/token") < n {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no token request came ahead of the first call"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_fetched_ahead_is_the_one_the_first_call_uses() {
    let server = Scripted::start(|path, _, n| token_or(path, n, || Canned::json(200, ACCOUNT_OK)));
    let client = oauth(&server.base_url, "id", "secret");
    client.warm_up();
    // Asked for before any call needs it.
    token_requests(&server, 1).await;
    client.account().await.unwrap();
    client.account().await.unwrap();
    assert_eq!(server.hits("/oauth/token"), 1, "fetched once, ahead");
    let auths: Vec<String> = server
        .seen()
        .iter()
        .filter(|s| s.path == paths::GET_ACCOUNT)
        .map(|s| s.authorization.clone())
        .collect();
    assert_eq!(auths, ["Bearer tok0", "Bearer tok0"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_call_right_after_the_warm_up_still_fetches_one_token() {
    let server = Scripted::start(|path, _, n| token_or(path, n, || Canned::json(200, ACCOUNT_OK)));
    let client = oauth(&server.base_url, "id", "secret");
    // Whichever takes the token's lock first fetches it; the other finds it.
    client.warm_up();
    client.account().await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(server.hits("/oauth/token"), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn credentials_refused_ahead_are_told_to_the_first_call_once() {
    let server = Scripted::start(|path, _, n| {
        if path == "/oauth/token" && n == 0 {
            Canned::json(
                401,
                r#"{"fail":[{"code":"unauthorized","message":"bad client"}]}"#,
            )
        } else {
            token_or(path, n, || Canned::json(200, ACCOUNT_OK))
        }
    });
    let client = oauth(&server.base_url, "id", "secret");
    client.warm_up();
    token_requests(&server, 1).await;
    // The refusal the fetch ahead met, as the call would have met it: not a second request.
    let err = client.account().await.unwrap_err();
    assert!(matches!(err, ApiError::Auth { .. }), "{err:?}");
    assert_eq!(server.hits("/oauth/token"), 1);
    assert_eq!(server.hits(paths::GET_ACCOUNT), 0);
    // Told once: the next call asks again.
    client.account().await.unwrap();
    assert_eq!(server.hits("/oauth/token"), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_passing_failure_ahead_stands_a_moment_then_is_asked_again() {
    // Every try of the first two fetches is answered 503, then the token is issued.
    let tries = fast().read_retries as usize + 1;
    let server = Scripted::start(move |path, _, n| {
        if path == "/oauth/token" && n < 2 * tries {
            Canned::json(503, r#"{"detail":"try later"}"#)
        } else {
            token_or(path, n, || Canned::json(200, ACCOUNT_OK))
        }
    });
    let client = oauth(&server.base_url, "id", "secret");
    client.warm_up();
    token_requests(&server, tries).await;
    // A moment after: the same answer, not a second round of tries (a dead host would cost
    // its retries twice).
    client.account().await.unwrap_err();
    assert_eq!(server.hits("/oauth/token"), tries);
    // Failed a while before the first call needs it: asked again, and the service is back.
    client.warm_up();
    token_requests(&server, 2 * tries).await;
    tokio::time::sleep(Duration::from_millis(5200)).await;
    client.account().await.unwrap();
    assert_eq!(server.hits("/oauth/token"), 2 * tries + 1);
}

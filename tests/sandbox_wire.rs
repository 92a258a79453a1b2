//! The sandbox as any client written from Mimecast's documentation sees it: raw HTTP, with
//! this file's own signing code, not the client's.

use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use mcsh::sandbox::{Keys, Options, Sandbox};
use reqwest::header::HeaderMap;
use serde_json::{json, Value};
use sha1::Sha1;

struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Value,
}

async fn post(url: String, headers: Vec<(&str, String)>, body: String) -> Answer {
    let mut req = reqwest::Client::new().post(url).body(body);
    for (k, v) in headers {
        req = req.header(k, v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap();
    Answer {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
    }
}

fn signed(
    keys: &Keys,
    path: &str,
    date: &str,
    req_id: &str,
    secret_key: &str,
) -> Vec<(&'static str, String)> {
    let key = STANDARD.decode(secret_key).unwrap();
    let mut mac = Hmac::<Sha1>::new_from_slice(&key).unwrap();
    mac.update(format!("{date}:{req_id}:{path}:{}", keys.app_key).as_bytes());
    let sig = STANDARD.encode(mac.finalize().into_bytes());
    vec![
        ("x-mc-app-id", keys.app_id.clone()),
        ("x-mc-date", date.to_string()),
        ("x-mc-req-id", req_id.to_string()),
        ("authorization", format!("MC {}:{sig}", keys.access_key)),
        ("content-type", "application/json".into()),
    ]
}

fn now_with(suffix: &str, offset_minutes: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::minutes(offset_minutes))
        .format(&format!("%a, %d %b %Y %H:%M:%S {suffix}"))
        .to_string()
}

fn assert_rate_headers(a: &Answer) {
    for h in [
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
    ] {
        assert!(
            a.headers.get(h).is_some(),
            "{h} missing on HTTP {}",
            a.status
        );
    }
}

const DOMAINS: &str = "/api/domain/get-internal-domain";

#[tokio::test(flavor = "multi_thread")]
async fn hmac_signatures_are_verified_as_documented() {
    let sb = Sandbox::spawn(Options::default()).unwrap();
    let k = sb.keys.clone();
    let url = format!("{}{DOMAINS}", sb.base_url);
    let body = r#"{"data":[]}"#.to_string();
    let id = uuid::Uuid::new_v4().to_string();

    // Real clients in the wild: GMT instead of UTC, lower- or upper-case UUIDs.
    for (date, req) in [
        (now_with("UTC", 0), id.to_uppercase()),
        (now_with("GMT", 0), id.to_lowercase()),
    ] {
        let a = post(
            url.clone(),
            signed(&k, DOMAINS, &date, &req, &k.secret_key),
            body.clone(),
        )
        .await;
        assert_eq!(a.status, 200, "{}", a.body);
        assert_eq!(a.body["data"].as_array().unwrap().len(), 2);
        assert_rate_headers(&a);
    }
    let wrong_key = STANDARD.encode(b"some other secret key");
    let a = post(
        url.clone(),
        signed(&k, DOMAINS, &now_with("UTC", 0), &id, &wrong_key),
        body.clone(),
    )
    .await;
    assert_eq!(a.status, 401);
    assert_eq!(
        a.body["fail"][0]["errors"][0]["code"],
        "err_xdk_invalid_signature"
    );
    assert_eq!(
        a.body["fail"][0]["errors"][0]["message"],
        "0004 Invalid Signature"
    );
    assert_rate_headers(&a);

    // Signed for another path: refused.
    let a = post(
        url.clone(),
        signed(
            &k,
            "/api/user/get-internal-users",
            &now_with("UTC", 0),
            &id,
            &k.secret_key,
        ),
        body.clone(),
    )
    .await;
    assert_eq!(a.status, 401);

    for stale in [now_with("UTC", -16), now_with("UTC", 16)] {
        let a = post(
            url.clone(),
            signed(&k, DOMAINS, &stale, &id, &k.secret_key),
            body.clone(),
        )
        .await;
        assert_eq!(a.status, 401, "a date 16 minutes off is refused");
    }
    let a = post(
        url.clone(),
        signed(&k, DOMAINS, &now_with("UTC", -14), &id, &k.secret_key),
        body.clone(),
    )
    .await;
    assert_eq!(a.status, 200, "14 minutes of skew is tolerated");
}

#[tokio::test(flavor = "multi_thread")]
async fn bearer_tokens_are_issued_and_expire() {
    let sb = Sandbox::spawn(Options {
        token_ttl: Duration::from_secs(1),
        ..Options::default()
    })
    .unwrap();
    let k = &sb.keys;
    let form = format!(
        "client_id={}&client_secret={}&grant_type=client_credentials",
        k.client_id, k.client_secret
    );
    let form_headers = vec![(
        "content-type",
        "application/x-www-form-urlencoded".to_string(),
    )];
    let a = post(
        format!("{}/oauth/token", sb.base_url),
        form_headers.clone(),
        form,
    )
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["token_type"], "Bearer");
    assert_eq!(a.body["expires_in"], 1);
    let token = a.body["access_token"].as_str().unwrap().to_string();
    let auth = vec![("authorization", format!("Bearer {token}"))];
    let url = format!("{}{DOMAINS}", sb.base_url);
    assert_eq!(
        post(url.clone(), auth.clone(), "{}".into()).await.status,
        200
    );
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let a = post(url.clone(), auth, "{}".into()).await;
    assert_eq!(a.status, 401);
    assert_eq!(
        a.body["fail"][0]["code"], "token_expired",
        "the code sits on the fail item"
    );
    let a = post(
        url,
        vec![("authorization", "Bearer not-a-token".into())],
        "{}".into(),
    )
    .await;
    assert_eq!(a.body["fail"][0]["code"], "token_verification_failed");

    let bad = format!(
        "client_id={}&client_secret=nope&grant_type=client_credentials",
        k.client_id
    );
    assert_eq!(
        post(format!("{}/oauth/token", sb.base_url), form_headers, bad)
            .await
            .status,
        401
    );

    let default = Sandbox::spawn(Options::default()).unwrap();
    let form = format!(
        "client_id={}&client_secret={}&grant_type=client_credentials",
        default.keys.client_id, default.keys.client_secret
    );
    let a = post(format!("{}/oauth/token", default.base_url), vec![], form).await;
    assert_eq!(a.body["expires_in"], 1799);
}

async fn token(sb: &Sandbox) -> Vec<(&'static str, String)> {
    let form = format!(
        "client_id={}&client_secret={}&grant_type=client_credentials",
        sb.keys.client_id, sb.keys.client_secret
    );
    let a = post(format!("{}/oauth/token", sb.base_url), vec![], form).await;
    vec![(
        "authorization",
        format!("Bearer {}", a.body["access_token"].as_str().unwrap()),
    )]
}

#[tokio::test(flavor = "multi_thread")]
async fn envelope_pagination_batching_and_http_errors() {
    let sb = Sandbox::spawn(Options::default()).unwrap();
    let auth = token(&sb).await;
    let users = format!("{}/api/user/get-internal-users", sb.base_url);

    let big = json!({ "meta": { "pagination": { "pageSize": 10_000 } }, "data": [] }).to_string();
    let a = post(users.clone(), auth.clone(), big).await;
    // The answer's pageSize is the count returned (recorded: asked 100, answered 2).
    assert_eq!(
        a.body["meta"]["pagination"]["pageSize"], 63,
        "pageSize counts the rows of this page"
    );
    assert_eq!(
        a.body["data"][0]["userCount"], 63,
        "62 mailboxes and 1 alias"
    );
    assert!(
        a.body["meta"]["pagination"].get("next").is_none(),
        "one page holds all 63"
    );

    let mut token: Option<String> = None;
    let mut seen = 0;
    let mut pages = 0;
    loop {
        let mut meta = json!({ "pagination": { "pageSize": 25 } });
        if let Some(t) = &token {
            meta["pagination"]["pageToken"] = json!(t);
        }
        let a = post(
            users.clone(),
            auth.clone(),
            json!({ "meta": meta, "data": [{ "domain": "company.com" }] }).to_string(),
        )
        .await;
        seen += a.body["data"][0]["users"].as_array().unwrap().len();
        pages += 1;
        match a.body["meta"]["pagination"]["next"].as_str() {
            Some(n) => token = Some(n.to_string()),
            None => break,
        }
    }
    assert_eq!((seen, pages), (49, 2), "48 mailboxes and 1 alias row");

    let create = format!("{}/api/user/create-user", sb.base_url);
    let batch = json!({ "data": [
        { "emailAddress": "one@company.com", "name": "One" },
        { "emailAddress": "alice.anderson@company.com" },
        { "emailAddress": "two@elsewhere.org" },
        { "name": "no address" },
    ]});
    let a = post(create, auth.clone(), batch.to_string()).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["data"].as_array().unwrap().len(), 1);
    let codes: Vec<&str> = a.body["fail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["errors"][0]["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "err_user_already_exists",
            "err_domain_not_internal",
            "err_validation_null"
        ]
    );
    assert_eq!(
        a.body["fail"][1]["key"]["emailAddress"], "two@elsewhere.org",
        "fail[].key echoes the item"
    );
    assert_eq!(a.body["fail"][2]["errors"][0]["field"], "emailAddress");

    let a = post(
        format!("{}/api/user/no-such-thing", sb.base_url),
        auth.clone(),
        "{}".into(),
    )
    .await;
    assert_eq!(a.status, 404);
    assert_rate_headers(&a);
    let get = reqwest::get(format!("{}{DOMAINS}", sb.base_url))
        .await
        .unwrap();
    assert_eq!(get.status().as_u16(), 405);
    let a = post(
        format!("{}{DOMAINS}", sb.base_url),
        auth.clone(),
        "{\"data\": [".into(),
    )
    .await;
    assert_eq!(a.status, 400);
    assert_eq!(
        a.body["fail"][0]["errors"][0]["code"],
        "err_request_malformed"
    );
    let huge = format!(
        "{{\"data\":[{{\"emailAddress\":\"{}\"}}]}}",
        "x".repeat(5 * 1024 * 1024)
    );
    let a = post(
        format!("{}/api/user/create-user", sb.base_url),
        auth.clone(),
        huge,
    )
    .await;
    assert_eq!(a.status, 413);
    assert_rate_headers(&a);
    let a = post(format!("{}{DOMAINS}", sb.base_url), vec![], "{}".into()).await;
    assert_eq!(a.status, 401, "no credentials, no answer");
}

#[tokio::test(flavor = "multi_thread")]
async fn made_up_paths_without_credentials_cannot_grow_the_sandbox() {
    let sb = Sandbox::spawn(Options::default()).unwrap();
    for i in 0..300 {
        let path = format!("{}/api/{}/{}", sb.base_url, "x".repeat(2000), i);
        let a = post(path, vec![], "{}".into()).await;
        assert_eq!(a.status, 404);
    }
    // Counted together, not one entry (of 2 KB) per path.
    assert_eq!(sb.stats.paths_counted(), 1);
    assert_eq!(sb.stats.hits(mcsh::sandbox::faults::UNKNOWN_PATH), 300);
}

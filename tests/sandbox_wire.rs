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

#[tokio::test(flavor = "multi_thread")]
async fn a_served_sandbox_keeps_no_log_of_its_writes() {
    // Tests count what a sandbox carried out; a served one (record_writes off, as `sandbox
    // serve` and --sandbox run it) keeps nothing per write, so its memory does not grow.
    for record in [true, false] {
        let sb = Sandbox::spawn(Options {
            record_writes: record,
            ..Options::default()
        })
        .unwrap();
        let auth = token(&sb).await;
        let a = post(
            format!("{}/api/user/create-user", sb.base_url),
            auth,
            r#"{"data":[{"emailAddress":"kept.or.not@company.com"}]}"#.into(),
        )
        .await;
        assert_eq!(a.status, 200, "{:?}", a.body);
        let kept = sb.stats.accepted("/api/user/create-user", |_| true);
        assert_eq!(kept, usize::from(record));
    }
}

/// What an id decodes to (base64url, zlib, JSON), as a client written from §9 would read it.
fn decoded(id: &str) -> Value {
    use std::io::Read;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(id)
        .unwrap_or_else(|e| panic!("{id} is not base64url: {e}"));
    let mut text = String::new();
    flate2::read::ZlibDecoder::new(bytes.as_slice())
        .read_to_string(&mut text)
        .unwrap_or_else(|e| panic!("{id} is not zlib: {e}"));
    serde_json::from_str(&text).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn ids_are_handles_and_a_membership_answer_names_its_link_and_its_group() {
    let sb = Sandbox::spawn(Options::default()).unwrap();
    let auth = token(&sb).await;
    let url = |p: &str| format!("{}/api/directory/{p}", sb.base_url);
    let groups = post(url("find-groups"), auth.clone(), r#"{"data":[]}"#.into()).await;
    let folders = groups.body["data"][0]["folders"]
        .as_array()
        .unwrap()
        .clone();
    let sales = folders
        .iter()
        .find(|g| g["description"] == "Sales")
        .unwrap();
    let sales_id = sales["id"].as_str().unwrap().to_string();
    // A group id holds the account and a folder number; top-level parents are folder 0.
    let g = decoded(&sales_id);
    assert!(g["folderid"].as_u64().unwrap() > 0, "{g}");
    assert_eq!(g["customercode"], "CSBX01A01", "{g}");
    assert!(g["secureid"].is_string(), "{g}");
    assert_eq!(decoded(sales["parentId"].as_str().unwrap())["folderid"], 0);

    let item = json!({ "data": [{ "id": sales_id, "emailAddress": "carol.okafor@company.com" }] })
        .to_string();
    let added = post(url("add-group-member"), auth.clone(), item.clone()).await;
    let removed = post(url("remove-group-member"), auth.clone(), item).await;
    let (a, r) = (&added.body["data"][0], &removed.body["data"][0]);
    assert_eq!(a["folderId"], sales_id.as_str(), "folderId is the group");
    assert_eq!(r["folderId"], sales_id.as_str());
    let link = a["id"].as_str().unwrap();
    assert_eq!(
        r["id"], link,
        "the same link on the add and the later remove"
    );
    assert_ne!(link, sales_id, "the row's id is the link, not the group");
    let l = decoded(link);
    assert!(l["folderlinkid"].as_u64().is_some(), "{l}");
    assert!(l.get("folderid").is_none(), "{l}");
    assert_eq!(
        l["customercode"], "CSBX01A01",
        "the link is the account's: {l}"
    );

    // One request, several groups and domains: each item is answered for its own group and
    // its own address (looked up once a request, never carried over to the next item).
    let synced = folders
        .iter()
        .find(|g| g["description"] == "Directory Staff")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mixed = json!({ "data": [
        { "id": sales_id, "emailAddress": "someone@partner.example" },
        { "id": sales_id, "emailAddress": "dave.ng@company.com" },
        { "id": synced, "emailAddress": "erin.li@company.com" },
        { "id": sales_id, "emailAddress": "other@partner.example" },
    ] })
    .to_string();
    let answer = post(url("add-group-member"), auth.clone(), mixed).await;
    let data = answer.body["data"].as_array().unwrap();
    let internal: Vec<(&str, bool)> = data
        .iter()
        .map(|d| {
            (
                d["emailAddress"].as_str().unwrap(),
                d["internal"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        internal,
        [
            ("someone@partner.example", false),
            ("dave.ng@company.com", true),
            ("other@partner.example", false)
        ],
        "{}",
        answer.body
    );
    let fail = answer.body["fail"].as_array().unwrap();
    assert_eq!(
        fail.len(),
        1,
        "the synced group refuses its item: {}",
        answer.body
    );
    assert_eq!(fail[0]["key"]["id"], synced.as_str(), "{}", answer.body);

    // After a re-key the old id still names the group, and listings answer a new one.
    assert!(sb.rekey().unwrap() > 1);
    let again = post(url("find-groups"), auth.clone(), r#"{"data":[]}"#.into()).await;
    let now = again.body["data"][0]["folders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["description"] == "Sales")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(now, sales_id);
    assert_eq!(decoded(&now)["folderid"], g["folderid"]);
    let members = post(
        url("get-group-members"),
        auth.clone(),
        json!({ "data": [{ "id": sales_id }] }).to_string(),
    )
    .await;
    assert_eq!(members.status, 200, "{}", members.body);
    assert!(
        members.body["fail"].as_array().unwrap().is_empty(),
        "{}",
        members.body
    );
    // An id of another account, or of a folder that does not exist, names nothing.
    let mut other = g.clone();
    other["customercode"] = json!("CSOTHER01");
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut z, other.to_string().as_bytes()).unwrap();
    let foreign = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(z.finish().unwrap());
    let refused = post(
        url("get-group-members"),
        auth,
        json!({ "data": [{ "id": foreign }] }).to_string(),
    )
    .await;
    assert_eq!(
        refused.body["fail"][0]["errors"][0]["code"], "err_folder_not_found",
        "{}",
        refused.body
    );
}

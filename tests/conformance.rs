//! Held to the real service: every answer recorded from Mimecast (`tests/recorded/*.json`,
//! the real service's recorded answers; docs/mimecast-api.md §7) is used both ways.
//!
//! (a) The client, fed each recorded body verbatim by a replaying server, does what the
//!     recording means: success decodes into records, a key-less `fail` fails the request,
//!     `err_developer_key` and HTTP 401 are credentials refused, only `next` means more pages.
//! (b) The sandbox, sent each recorded request, answers with the same shape: the same
//!     envelope, fields and JSON types, key by key (ids, names and counts may differ).
//!
//! A new recording dropped into `tests/recorded/` is picked up by both without code changes.

use std::path::PathBuf;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use mcsh::api::envelope::{PageRequest, Request, RequestMeta};
use mcsh::api::{model, paths, signer, ApiError, Client, ClientOptions, Credentials, Kind, Secret};
use mcsh::sandbox::{Keys, Options, Sandbox};
use serde_json::{json, Value};

use crate::support::scripted::{Canned, Scripted};
use crate::support::{Env, Scheme};

/// One recorded request and the real service's answer.
#[derive(Debug, Clone)]
struct Exchange {
    file: String,
    case: String,
    path: String,
    request: Value,
    status: u16,
    headers: Vec<(String, String)>,
    body: Value,
}

fn recorded_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/recorded")
}

/// Every exchange of every recording, in file order.
fn recordings() -> Vec<Exchange> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(recorded_dir())
        .expect("tests/recorded exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        let doc: Value = serde_json::from_slice(&std::fs::read(&file).unwrap())
            .unwrap_or_else(|e| panic!("{name} is not JSON: {e}"));
        let list = match doc.get("exchanges") {
            Some(Value::Array(items)) => items.clone(),
            _ => vec![doc.clone()],
        };
        for x in list {
            let response = &x["response"];
            let headers = response["headers"]
                .as_object()
                .map(|h| {
                    h.iter()
                        .map(|(k, v)| (k.to_ascii_lowercase(), v.as_str().unwrap_or("").into()))
                        .collect()
                })
                .unwrap_or_default();
            out.push(Exchange {
                file: name.clone(),
                case: x["case"].as_str().unwrap_or("").to_string(),
                path: x["request"]["path"].as_str().expect("request.path").into(),
                request: x["request"]["body"].clone(),
                status: response["status"].as_u64().expect("response.status") as u16,
                headers,
                body: response["body"].clone(),
            });
        }
    }
    assert!(
        out.len() >= 7,
        "the recordings are in tests/recorded ({} found)",
        out.len()
    );
    out
}

/// A server that answers each request with the recorded answer to the same path and `data`.
fn replay(exchanges: Vec<Exchange>) -> Scripted {
    Scripted::start_with_body(move |path, _auth, body, _n| {
        if path == "/oauth/token" {
            return Canned::json(
                200,
                r#"{"access_token":"t","token_type":"Bearer","expires_in":1799}"#,
            );
        }
        let data = serde_json::from_str::<Value>(body)
            .ok()
            .map(|b| b["data"].clone());
        let candidates: Vec<&Exchange> = exchanges.iter().filter(|x| x.path == path).collect();
        let chosen = candidates
            .iter()
            .find(|x| Some(&x.request["data"]) == data.as_ref())
            .or(candidates.first());
        match chosen {
            Some(x) => canned(x),
            None => Canned::json(404, r#"{"fail":[{"errors":[{"code":"err_not_found"}]}]}"#),
        }
    })
}

fn canned(x: &Exchange) -> Canned {
    let mut c = Canned::json(x.status, &x.body.to_string());
    for (name, value) in &x.headers {
        let name: &'static str = match name.as_str() {
            "x-ratelimit-limit" => "x-ratelimit-limit",
            "x-ratelimit-remaining" => "x-ratelimit-remaining",
            "x-ratelimit-reset" => "x-ratelimit-reset",
            "x-request-id" => "x-request-id",
            _ => continue,
        };
        c = c.header(name, value);
    }
    c
}

fn client(base: &str) -> Client {
    let options = ClientOptions {
        timeout: Duration::from_secs(10),
        backoff_base: Duration::from_millis(5),
        backoff_max: Duration::from_millis(20),
        ..ClientOptions::default()
    };
    let creds = Credentials::OAuth {
        client_id: "id".into(),
        client_secret: Secret::new("secret"),
    };
    Client::new(base, creds, options, None).unwrap()
}

fn request_of(body: &Value) -> Request {
    let meta = body["meta"]["pagination"]["pageSize"]
        .as_u64()
        .map(|n| RequestMeta {
            pagination: PageRequest {
                page_size: n as u32,
                page_token: None,
            },
        });
    Request {
        meta,
        data: body["data"].as_array().cloned().unwrap_or_default(),
    }
}

/// The records a successful answer holds, by endpoint; `None` for endpoints without a model.
fn decoded_count(path: &str, resp: &mcsh::api::envelope::Response) -> Option<usize> {
    match path {
        paths::GET_INTERNAL_USERS => Some(mcsh::api::users::users_of(resp.clone()).unwrap().len()),
        paths::FIND_GROUPS => Some(mcsh::api::groups::groups_of(resp).unwrap().len()),
        paths::GET_GROUP_MEMBERS => Some(mcsh::api::groups::members_of(resp).unwrap().len()),
        paths::GET_INTERNAL_DOMAINS => {
            let domains: Vec<mcsh::api::Domain> = resp
                .data
                .iter()
                .map(|d| model::decode(path, d.clone()).unwrap())
                .collect();
            assert!(domains.iter().all(|d| !d.domain.is_empty()));
            Some(domains.len())
        }
        _ => None,
    }
}

/// How many records the recorded body holds for `path`.
fn recorded_count(path: &str, body: &Value) -> usize {
    let inner = |field: &str| {
        body["data"]
            .as_array()
            .map(|d| {
                d.iter()
                    .map(|e| e[field].as_array().map_or(0, Vec::len))
                    .sum()
            })
            .unwrap_or(0)
    };
    match path {
        paths::GET_INTERNAL_USERS => inner("users"),
        paths::FIND_GROUPS => inner("folders"),
        paths::GET_GROUP_MEMBERS => inner("groupMembers"),
        _ => body["data"].as_array().map_or(0, Vec::len),
    }
}

/// An answer of the API 2.0 gateway itself, outside the `/api` envelope (no `meta`): the
/// client must read it, but the sandbox, being the service behind it, is never asked for it.
fn gateway(x: &Exchange) -> bool {
    x.body.get("meta").is_none()
}

fn keyless_fail(body: &Value) -> Option<String> {
    body["fail"].as_array()?.iter().find_map(|f| {
        f.get("key")
            .is_none()
            .then(|| f["errors"][0]["code"].as_str().unwrap_or("").to_string())
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn the_client_does_what_each_recorded_answer_means() {
    for x in recordings() {
        let server = replay(vec![x.clone()]);
        let c = client(&server.base_url);
        let kind = Kind::Read;
        let got = c.send(&x.path, kind, &request_of(&x.request)).await;
        let what = format!("{} {} ({})", x.file, x.path, x.case);
        match (x.status, keyless_fail(&x.body)) {
            (401, _) if gateway(&x) => {
                // The gateway refusing a bearer token: a new token, the call once more, and
                // credentials refused only when the new token is refused too.
                let e = got.expect_err(&what);
                assert!(e.is_auth(), "{what}: credentials refused, got {e}");
                assert_eq!(
                    server.hits(&x.path),
                    2,
                    "{what}: renewed once, then refused"
                );
                assert_eq!(
                    server.hits("/oauth/token"),
                    2,
                    "{what}: a new token was fetched"
                );
                // The token endpoint took the credentials: the message says the call was
                // refused, not the client id and secret.
                assert!(
                    e.to_string().contains("refused a token just issued"),
                    "{what}: {e}"
                );
            }
            (401 | 403 | 418, _) => {
                let e = got.expect_err(&what);
                assert!(e.is_auth(), "{what}: credentials refused, got {e}");
            }
            (500, _) => {
                // A server error, retried as reads are, then told with the gateway's code,
                // message and x-request-id.
                let e = got.expect_err(&what);
                assert!(matches!(&e, ApiError::Status { .. }), "{what}: got {e}");
                assert_eq!(
                    e.code(),
                    x.body["fail"][0]["code"].as_str().unwrap(),
                    "{what}"
                );
                assert!(e.retryable(), "{what}");
                let told = e.to_string();
                assert!(
                    told.contains(x.body["fail"][0]["message"].as_str().unwrap()),
                    "{what}: {told}"
                );
                if let Some((_, id)) = x.headers.iter().find(|(k, _)| k == "x-request-id") {
                    assert!(
                        told.contains(&format!("x-request-id {id}")),
                        "{what}: {told}"
                    );
                }
                let tries = 1 + ClientOptions::default().read_retries as usize;
                assert_eq!(server.hits(&x.path), tries, "{what}: retried as reads are");
            }
            (429, _) => {
                // A throttle, with or without rate headers: waited out, never a decode
                // error; when it does not lift, the service's words are in the error.
                let e = got.expect_err(&what);
                assert!(
                    matches!(&e, ApiError::RateLimited { .. }),
                    "{what}: got {e}"
                );
                assert!(server.hits(&x.path) > 1, "{what}: waited and tried again");
                if let Some(detail) = x.body["detail"].as_str() {
                    assert!(e.to_string().contains(detail), "{what}: {e}");
                }
            }
            (200, Some(code)) if code == "err_developer_key" => {
                let e = got.expect_err(&what);
                assert!(e.is_auth(), "{what}: a refused App ID is exit 4, got {e}");
                assert_eq!(
                    server.hits(&x.path),
                    2,
                    "{what}: tried once more, then refused"
                );
            }
            (200, Some(code)) => {
                let e = got.expect_err(&what);
                assert!(
                    matches!(&e, ApiError::Failed { .. }) && e.code() == code,
                    "{what}: a key-less fail entry fails the whole request, got {e}"
                );
            }
            (200, None) => {
                let resp = got.unwrap_or_else(|e| panic!("{what}: {e}"));
                // Failed items keep their code and the item they echo.
                let recorded: Vec<(Value, &str)> = x.body["fail"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|f| (f["key"].clone(), f["errors"][0]["code"].as_str().unwrap()))
                    .collect();
                let decoded: Vec<(Value, &str)> = resp
                    .fail
                    .iter()
                    .map(|f| (f.key.clone().unwrap_or(Value::Null), f.code.as_str()))
                    .collect();
                assert_eq!(decoded, recorded, "{what}");
                if let Some(n) = decoded_count(&x.path, &resp) {
                    assert_eq!(n, recorded_count(&x.path, &x.body), "{what}: every record");
                }
                let more = x.body["meta"]["pagination"]["next"].is_string();
                assert_eq!(resp.next.is_some(), more, "{what}: only `next` means more");
            }
            (status, _) => {
                assert!(got.is_err(), "{what}: HTTP {status} is an error");
            }
        }
        let rate = c.rate();
        let header = |n: &str| {
            x.headers
                .iter()
                .find(|(k, _)| k == n)
                .and_then(|(_, v)| v.parse::<u64>().ok())
        };
        assert_eq!(rate.remaining, header("x-ratelimit-remaining"), "{what}");
        assert_eq!(rate.reset_ms, header("x-ratelimit-reset"), "{what}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn recorded_user_rows_decode_alias_as_the_boolean_it_is() {
    for x in recordings()
        .into_iter()
        .filter(|x| x.path == paths::GET_INTERNAL_USERS && x.status == 200)
    {
        let server = replay(vec![x.clone()]);
        let resp = client(&server.base_url)
            .send(&x.path, Kind::Read, &request_of(&x.request))
            .await
            .unwrap();
        let users = mcsh::api::users::users_of(resp).unwrap();
        let rows = x.body["data"][0]["users"].as_array().unwrap();
        for (u, row) in users.iter().zip(rows) {
            assert_eq!(u.is_alias(), row["alias"].as_bool().unwrap(), "{row}");
            assert_eq!(u.source, row["source"].as_str().unwrap());
            assert!(u.aliases.is_empty(), "a boolean is not a list of aliases");
        }
    }
}

#[test]
fn recorded_groups_all_have_a_parent_and_paths_follow_listed_ones() {
    let x = recordings()
        .into_iter()
        .find(|x| x.path == paths::FIND_GROUPS && x.status == 200)
        .expect("a find-groups recording");
    let mut groups: Vec<mcsh::api::Group> = x.body["data"][0]["folders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| model::decode(paths::FIND_GROUPS, f.clone()).unwrap())
        .collect();
    assert!(groups.iter().all(|g| g.parent_id.is_some()));
    mcsh::directory::groups::with_paths(&mut groups);
    let ids = mcsh::api::model::listed_ids(&groups);
    let top: Vec<&str> = groups
        .iter()
        .filter(|g| model::is_top_level(g, &ids))
        .map(|g| g.path.as_str())
        .collect();
    assert_eq!(
        top,
        [
            "Integration test",
            "Permitted senders",
            "Blocked Senders",
            "Relay",
            "New Folder"
        ]
    );
    let nested: Vec<&str> = groups
        .iter()
        .filter(|g| !model::is_top_level(g, &ids))
        .map(|g| g.path.as_str())
        .collect();
    assert_eq!(
        nested,
        [
            "Blocked Senders/New Folder",
            "Permitted senders/Admin stuff"
        ]
    );
}

/// A replay of every recording, for the binary.
fn replay_all() -> Scripted {
    replay(recordings())
}

fn hmac_env(cmd: &mut assert_cmd::Command, base: &str) {
    cmd.env("MIMECAST_BASE_URL", base)
        .env("MIMECAST_ACCESS_KEY", "AK-123")
        .env(
            "MIMECAST_SECRET_KEY",
            "bWltZWNhc3Qtc2ltdWxhdG9yLXNlY3JldA==",
        )
        .env("MIMECAST_APP_ID", "INVALID")
        .env("MIMECAST_APP_KEY", "appkey-xyz");
}

#[test]
fn departments_finds_recorded_top_level_groups_instead_of_creating_twins() {
    let server = replay_all();
    let env = Env::new();
    let mut cmd = env.bare();
    hmac_env(&mut cmd, &server.base_url);
    let out = cmd
        .args([
            "departments",
            "Integration test",
            "Permitted senders/Admin stuff",
        ])
        .args(["-o", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
    let statuses: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    // Every level: Integration test, Permitted senders, Permitted senders/Admin stuff.
    assert_eq!(statuses, ["unchanged", "unchanged", "unchanged"]);
    assert_eq!(server.hits(paths::CREATE_GROUP), 0, "no twin was created");
}

#[test]
fn add_member_by_the_path_of_a_recorded_nested_group_reaches_that_group() {
    let server = replay_all();
    let env = Env::new();
    let mut cmd = env.bare();
    hmac_env(&mut cmd, &server.base_url);
    cmd.args([
        "groups",
        "add-member",
        "--group",
        "Permitted senders/Admin stuff",
    ])
    .args(["--email", "abuse@fake.example.org", "-o", "json"])
    .output()
    .unwrap();
    let sent = server
        .seen()
        .into_iter()
        .find(|s| s.path == paths::ADD_GROUP_MEMBER)
        .expect("an add-group-member request");
    let body: Value = serde_json::from_str(&sent.body).unwrap();
    let admin_stuff = recordings()
        .into_iter()
        .find(|x| x.path == paths::FIND_GROUPS)
        .unwrap()
        .body["data"][0]["folders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["description"] == "Admin stuff")
        .unwrap()["id"]
        .clone();
    assert_eq!(body["data"][0]["id"], admin_stuff);
}

#[test]
fn users_list_counts_the_recorded_mailboxes_of_every_domain() {
    let server = replay_all();
    let env = Env::new();
    let mut cmd = env.bare();
    hmac_env(&mut cmd, &server.base_url);
    // The recorded App ID refusal is also in the replay, for get-account only.
    let out = cmd.args(["users", "list", "-o", "json"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let expected: usize = recordings()
        .iter()
        .filter(|x| x.path == paths::GET_INTERNAL_USERS)
        .flat_map(|x| {
            x.body["data"][0]["users"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter(|u| u["alias"] == false)
        .count();
    assert_eq!(listed.as_array().unwrap().len(), expected);
    assert!(expected >= 4);
}

#[test]
fn a_refused_app_id_is_exit_4_naming_the_app_id() {
    let x = recordings()
        .into_iter()
        .find(|x| x.case == "wrong App ID")
        .expect("the refused App ID recording");
    // Every call gets the recorded refusal: HTTP 200 and a key-less err_developer_key.
    let body = x.body.to_string();
    let server = Scripted::start(move |_, _, _| Canned::json(200, &body));
    let env = Env::new();
    let mut cmd = env.bare();
    hmac_env(&mut cmd, &server.base_url);
    let out = cmd.args(["users", "list"]).output().unwrap();
    assert_eq!(out.status.code(), Some(4));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("App ID \"INVALID\""), "{err}");
    assert!(err.contains("err_developer_key"), "{err}");
}

#[test]
fn a_keyless_failure_fails_every_item_of_a_batch_write() {
    let x = recordings()
        .into_iter()
        .find(|x| x.case == "wrong App ID")
        .unwrap();
    let mut refusal = x.body.clone();
    refusal["fail"][0]["errors"][0]["code"] = json!("err_internal_whole_request");
    let body = refusal.to_string();
    let server = Scripted::start(move |path, _, _| {
        if path == paths::GET_INTERNAL_DOMAINS {
            // No internal domains: nothing for add-member to check before writing.
            Canned::json(200, r#"{"meta":{"status":200},"data":[],"fail":[]}"#)
        } else if path == paths::FIND_GROUPS {
            Canned::json(
                200,
                &json!({"meta": {"status": 200}, "data": [{"folders": [{"id": "g1", "description": "Sales", "parentId": "root"}]}], "fail": []}).to_string(),
            )
        } else {
            Canned::json(200, &body)
        }
    });
    let env = Env::new();
    let mut cmd = env.bare();
    hmac_env(&mut cmd, &server.base_url);
    cmd.env("MIMECAST_APP_ID", "app");
    let out = cmd
        .args(["groups", "add-member", "--group", "Sales"])
        .args(["--email", "a@x.com", "--email", "b@x.com", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "every item failed");
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
    let statuses: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["failed", "failed"]);
}

// ---- (b) the sandbox answers each recorded request with the recorded shape ----

/// The shape of a JSON value: its type, an object's keys with their shapes, and a list's
/// element shapes.
fn same_shape(recorded: &Value, sandbox: &Value, at: &str, diffs: &mut Vec<String>) {
    match (recorded, sandbox) {
        (Value::Object(r), Value::Object(s)) => {
            for k in r.keys() {
                match s.get(k) {
                    Some(v) => same_shape(&r[k], v, &format!("{at}.{k}"), diffs),
                    None => diffs.push(format!("{at}.{k} is missing")),
                }
            }
            for k in s.keys().filter(|k| !r.contains_key(*k)) {
                diffs.push(format!("{at}.{k} is not in the recording"));
            }
        }
        (Value::Array(r), Value::Array(s)) => match (r.first(), s.is_empty()) {
            (None, true) => {}
            (None, false) => diffs.push(format!("{at} is empty in the recording only")),
            (Some(_), true) => diffs.push(format!("{at} is empty in the sandbox only")),
            (Some(template), false) => {
                for (i, item) in s.iter().enumerate() {
                    same_shape(template, item, &format!("{at}[{i}]"), diffs);
                }
            }
        },
        (r, s) if kind(r) == kind(s) => {}
        (r, s) => diffs.push(format!(
            "{at} is {} recorded, {} in the sandbox",
            kind(r),
            kind(s)
        )),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// The recorded request, with what only the recorded tenant has (its domains, group ids,
/// addresses) replaced by the sandbox tenant's.
fn for_sandbox(request: &Value, group_id: &str) -> Value {
    let mut body = request.clone();
    if let Some(items) = body["data"].as_array_mut() {
        for item in items {
            if item.get("domain").is_some() {
                item["domain"] = json!("company.com");
            }
            if item.get("id").is_some() {
                item["id"] = json!(group_id);
            }
            if item.get("emailAddress").is_some() {
                item["emailAddress"] = json!("alice.anderson@company.com");
            }
        }
    }
    body
}

/// HMAC headers for `path` with the recording's `case` applied to the sandbox's keys.
fn headers_for(keys: &Keys, case: &str, path: &str) -> Vec<(&'static str, String)> {
    let mut keys = keys.clone();
    match case {
        "wrong App ID" => keys.app_id = "INVALID".into(),
        "wrong App Key" => keys.app_key = "not-the-app-key".into(),
        "wrong Secret Key" => keys.secret_key = STANDARD.encode(b"not the secret key"),
        _ => {}
    }
    let date = chrono::Utc::now().format(signer::DATE_FORMAT).to_string();
    let id = uuid::Uuid::new_v4().to_string();
    let key = STANDARD.decode(&keys.secret_key).unwrap();
    let auth = signer::authorization(&keys.access_key, &key, &date, &id, path, &keys.app_key);
    vec![
        ("x-mc-app-id", keys.app_id.clone()),
        ("x-mc-date", date),
        ("x-mc-req-id", id),
        ("authorization", auth),
        ("content-type", "application/json".into()),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sandbox_answers_each_recorded_request_in_the_recorded_shape() {
    let sb = Sandbox::spawn(Options::default()).unwrap();
    let http = reqwest::Client::new();
    let groups = http
        .post(format!("{}{}", sb.base_url, paths::FIND_GROUPS))
        .headers(
            headers_for(&sb.keys, "", paths::FIND_GROUPS)
                .into_iter()
                .map(|(k, v)| (k.parse().unwrap(), v.parse().unwrap()))
                .collect(),
        )
        .body(r#"{"data":[]}"#)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    // Sales: it has members, and alice.anderson (every recorded address, in the sandbox) is
    // not one, so the recorded add, add again, remove, remove again play out as recorded.
    let group_id = groups["data"][0]["folders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["description"] == "Sales")
        .expect("the demo tenant has Sales")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut failures = Vec::new();
    for x in recordings().into_iter().filter(|x| !gateway(x)) {
        let what = format!("{} {} ({})", x.file, x.path, x.case);
        let mut req = http.post(format!("{}{}", sb.base_url, x.path));
        for (k, v) in headers_for(&sb.keys, &x.case, &x.path) {
            req = req.header(k, v);
        }
        let resp = req
            .body(for_sandbox(&x.request, &group_id).to_string())
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body: Value = resp.json().await.unwrap();
        let mut diffs = Vec::new();
        if status != x.status {
            diffs.push(format!("HTTP {status}, recorded {}", x.status));
        }
        for (name, _) in &x.headers {
            if headers.get(name.as_str()).is_none() {
                diffs.push(format!("header {name} is missing"));
            }
        }
        same_shape(&x.body, &body, "body", &mut diffs);
        for (rf, sf) in x.body["fail"]
            .as_array()
            .into_iter()
            .flatten()
            .zip(body["fail"].as_array().into_iter().flatten())
        {
            if rf["errors"][0]["code"] != sf["errors"][0]["code"] {
                diffs.push(format!(
                    "fail code {} recorded, {} in the sandbox",
                    rf["errors"][0]["code"], sf["errors"][0]["code"]
                ));
            }
        }
        if !diffs.is_empty() {
            failures.push(format!("{what}:\n  {}", diffs.join("\n  ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_recording_is_picked_up() {
    let files: std::collections::BTreeSet<String> =
        recordings().into_iter().map(|x| x.file).collect();
    let on_disk = std::fs::read_dir(recorded_dir())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "json")
        })
        .count();
    assert_eq!(files.len(), on_disk);
    let _ = Scheme::OAuth;
}

#[test]
fn alias_addresses_are_not_listed_as_users_unless_asked() {
    let env = Env::new();
    let users = env.json(&["users", "list"]);
    let emails: Vec<&str> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["emailAddress"].as_str().unwrap())
        .collect();
    assert_eq!(emails.len(), 62, "the demo's mailboxes");
    assert!(!emails.contains(&"alice@company.com"));
    let with = env.json(&["users", "list", "--aliases"]);
    let alias_rows: Vec<&Value> = with
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["alias"] == true)
        .collect();
    assert_eq!(alias_rows.len(), 1);
    assert_eq!(alias_rows[0]["emailAddress"], "alice@company.com");
    let alice = env.json(&["users", "get", "--email", "alice.anderson@company.com"]);
    assert_eq!(alice["aliases"], json!(["alice@company.com"]));
    let script = env
        .mcsh(Scheme::OAuth)
        .args([
            "-e",
            "users().filter(|u| u.emailAddress == \"alice@company.com\").len()",
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&script.stdout).trim(), "0");
}

#[test]
fn directory_synced_objects_are_refused_in_plain_words_also_in_a_dry_run() {
    let env = Env::new();
    for dry in [true, false] {
        let mut cmd = env.mcsh(Scheme::OAuth);
        cmd.args(["groups", "add-member", "--group", "Directory Staff"])
            .args(["--email", "bob.brown@company.com", "-o", "json"]);
        if dry {
            cmd.arg("--dry-run");
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(1), "dry run {dry}");
        let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
        let message = rows[0]["message"].as_str().unwrap();
        assert!(message.contains("managed by directory sync"), "{message}");
        assert_eq!(rows[0]["status"], "failed");
    }
    // A synced user: the sandbox refuses the change Mimecast-style, mcsh says why.
    let out = env
        .mcsh(Scheme::OAuth)
        .args([
            "users",
            "update",
            "--email",
            "zoe.walsh@example.com",
            "--lock",
        ])
        .output()
        .unwrap();
    let synced = env.json(&["users", "list", "--domain", "example.com"]);
    let ldap: Vec<&str> = synced
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["source"] == "ldap")
        .map(|u| u["emailAddress"].as_str().unwrap())
        .collect();
    assert_eq!(ldap.len(), 3, "{ldap:?}");
    let out2 = env
        .mcsh(Scheme::OAuth)
        .args(["users", "update", "--email", ldap[0], "--lock"])
        .output()
        .unwrap();
    assert_eq!(out2.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out2.stderr);
    assert!(err.contains("directory sync"), "{err}");
    let _ = out;
}

#[test]
fn api_1_keys_discover_their_region_from_an_admin_address_and_cache_it() {
    let env = Env::new();
    let config = env.dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[default]\naccess_key = \"{}\"\napp_id = \"{}\"\nadmin_email = \"admin@company.com\"\n",
            env.sandbox.keys.access_key, env.sandbox.keys.app_id
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let run = || {
        env.bare()
            .env("MCSH_CONFIG", &config)
            .env("MCSH_DISCOVERY_URL", &env.sandbox.base_url)
            .env("MIMECAST_SECRET_KEY", &env.sandbox.keys.secret_key)
            .env("MIMECAST_APP_KEY", &env.sandbox.keys.app_key)
            .args(["users", "list", "--domain", "example.com", "-o", "json"])
            .output()
            .unwrap()
    };
    let out = run();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let users: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(users.as_array().unwrap().len(), 14);
    let saved = std::fs::read_to_string(&config).unwrap();
    assert!(
        saved.contains(&format!("base_url = \"{}\"", env.sandbox.base_url)),
        "{saved}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("discovered base URL"));
    // Without an admin address or a base URL, the error says what to set.
    let bare = env
        .bare()
        .env("MIMECAST_ACCESS_KEY", "a")
        .env("MIMECAST_SECRET_KEY", "c2VjcmV0")
        .env("MIMECAST_APP_ID", "b")
        .env("MIMECAST_APP_KEY", "c")
        .args(["users", "list"])
        .output()
        .unwrap();
    assert_eq!(bare.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&bare.stderr).contains("MIMECAST_ADMIN_EMAIL"));
}

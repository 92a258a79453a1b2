//! The sandbox's HTTP face: routes, the order checks happen in, and the headers every answer
//! carries.
//!
//! Policy, per request: latency, then the quota (429, not executed), then injected faults,
//! then method (405), path (404), credentials (401/418), body (400/413), then the call itself
//! in one SQLite transaction. Every answer, errors included, carries `X-RateLimit-*`.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use axum::routing::any;
use axum::Router;
use rusqlite::Connection;

use super::auth::{self, Keys, Tokens};
use super::faults::{Fault, Faults, RateHeaders, Stats};
use super::wire::{self, ApiRequest, Outcome, Reply};
use super::{groups, users};

/// Largest request body accepted; larger ones get 413.
pub const MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;

/// Shared state of a running sandbox.
pub struct App {
    /// The tenant.
    pub db: Arc<Mutex<Connection>>,
    /// The tenant's credentials.
    pub keys: Keys,
    /// Issued bearer tokens.
    pub tokens: Arc<Tokens>,
    /// Latency, failures and quota.
    pub faults: Faults,
    /// Counters.
    pub stats: Arc<Stats>,
    /// Lifetime of a bearer token.
    pub token_ttl: Duration,
    /// Whether write items carried out are kept in `stats.accepted`.
    pub record_writes: bool,
}

/// Every path the sandbox serves under `/api`.
pub const PATHS: &[&str] = &[
    "/api/user/get-internal-users",
    "/api/domain/get-internal-domain",
    "/api/user/create-user",
    "/api/user/update-user",
    "/api/user/update-alias",
    "/api/user/get-aliases",
    "/api/user/add-to-purge-list",
    "/api/user/remove-from-purge-list",
    "/api/directory/find-groups",
    "/api/directory/create-group",
    "/api/directory/update-group",
    "/api/directory/delete-group",
    "/api/directory/get-group-members",
    "/api/directory/add-group-member",
    "/api/directory/remove-group-member",
    "/api/account/get-account",
];

/// The paths that change nothing.
const READS: &[&str] = &[
    "/api/user/get-internal-users",
    "/api/domain/get-internal-domain",
    "/api/user/get-aliases",
    "/api/directory/find-groups",
    "/api/directory/get-group-members",
    "/api/account/get-account",
];

fn dispatch(path: &str, conn: &Connection, req: &ApiRequest) -> Result<Outcome, Reply> {
    match path {
        "/api/user/get-internal-users" => users::get_internal_users(conn, req),
        "/api/domain/get-internal-domain" => users::get_internal_domains(conn, req),
        "/api/user/create-user" => users::create_user(conn, req),
        "/api/user/update-user" => users::update_user(conn, req),
        "/api/user/update-alias" => users::update_alias(conn, req),
        "/api/user/get-aliases" => users::get_aliases(conn, req),
        "/api/user/add-to-purge-list" => users::purge_list(conn, req, true),
        "/api/user/remove-from-purge-list" => users::purge_list(conn, req, false),
        "/api/directory/find-groups" => groups::find_groups(conn, req),
        "/api/directory/create-group" => groups::create_group(conn, req),
        "/api/directory/update-group" => groups::update_group(conn, req),
        "/api/directory/delete-group" => groups::delete_group(conn, req),
        "/api/directory/get-group-members" => groups::get_group_members(conn, req),
        "/api/directory/add-group-member" => groups::membership(conn, req, true),
        "/api/directory/remove-group-member" => groups::membership(conn, req, false),
        "/api/account/get-account" => users::get_account(conn, req),
        _ => Err(wire::error(404, "err_not_found", "Unknown API path", false)),
    }
}

/// API 1.0's region discovery: unauthenticated, answers the base URL of the account's region.
pub const DISCOVER_PATH: &str = "/api/login/discover-authentication";

/// `discover-authentication`: the region of the address's account, which for the sandbox is
/// the sandbox itself (the base URL the caller reached it by).
async fn discover(
    State(app): State<Arc<App>>,
    method: Method,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let rate = match gate(&app).await {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    if method != Method::POST {
        return respond(
            wire::error(405, "err_method_not_allowed", "Use POST", false),
            rate,
        );
    }
    let request = match body
        .map_err(too_large_or_bad)
        .and_then(|b| wire::parse_request(&b))
    {
        Ok(r) => r,
        Err(reply) => return respond(reply, rate),
    };
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_string();
    let mut outcome = Outcome::default();
    for item in &request.data {
        let result = wire::req_str(item, "emailAddress")
            .and_then(|e| wire::valid_email("emailAddress", e).map(|_| e))
            .map(|email| {
                serde_json::json!({
                    "emailAddress": email,
                    "emailToken": "",
                    "authenticate": ["cloud"],
                    "region": { "code": "sandbox", "api": format!("http://{host}") }
                })
            });
        outcome.item(item, result);
    }
    respond(outcome.into_reply(), rate)
}

/// The router of a sandbox.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/oauth/token", any(token))
        .route(DISCOVER_PATH, any(discover))
        .route("/api/{*rest}", any(api))
        .fallback(any(not_found))
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
        .with_state(app)
}

async fn not_found(State(app): State<Arc<App>>) -> Response {
    app.stats.requests.fetch_add(1, Ordering::Relaxed);
    let rate = app.faults.admit();
    respond(
        wire::error(404, "err_not_found", "Unknown path", false),
        rate,
    )
}

/// Runs what every request goes through before its handler; `Err` is the answer to give.
async fn gate(app: &App) -> Result<RateHeaders, Response> {
    app.stats.requests.fetch_add(1, Ordering::Relaxed);
    if !app.faults.latency().is_zero() {
        tokio::time::sleep(app.faults.latency()).await;
    }
    let rate = app.faults.admit();
    if !rate.allowed {
        app.stats.throttled.fetch_add(1, Ordering::Relaxed);
        let reply = wire::error(
            429,
            "err_rate_limit_exceeded",
            "Over throttling limit",
            true,
        );
        return Err(respond(reply, rate));
    }
    Ok(rate)
}

fn injected(app: &App) -> Option<Fault> {
    let fault = app.faults.pick();
    if fault.is_some() {
        app.stats.faults.fetch_add(1, Ordering::Relaxed);
    }
    fault
}

/// An injected 429 is a short throttle: its headers say so (remaining 0, renewing within a
/// fifth of a second), rather than pointing at the end of the hour-long window.
fn fault_rate(status: u16, rate: RateHeaders) -> RateHeaders {
    if status == 429 {
        RateHeaders {
            remaining: 0,
            reset_ms: 200,
            allowed: false,
            ..rate
        }
    } else {
        rate
    }
}

fn fault_reply(status: u16) -> Reply {
    match status {
        429 => wire::error(
            429,
            "err_rate_limit_exceeded",
            "Over throttling limit (injected)",
            true,
        ),
        s => wire::error(s, "err_internal", "Injected server failure", true),
    }
}

async fn token(
    State(app): State<Arc<App>>,
    method: Method,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let rate = match gate(&app).await {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    match injected(&app) {
        Some(Fault::Status(s)) => return respond(fault_reply(s), fault_rate(s, rate)),
        Some(_) => return dropped(),
        None => {}
    }
    if method != Method::POST {
        return respond(
            wire::error(405, "err_method_not_allowed", "Use POST", false),
            rate,
        );
    }
    let body = match body {
        Ok(b) => b,
        Err(e) => return respond(too_large_or_bad(e), rate),
    };
    let form: HashMap<String, String> = url_form(&body);
    if let Err(reply) = auth::check_client(&form, &app.keys) {
        return respond(reply, rate);
    }
    app.stats.tokens_issued.fetch_add(1, Ordering::Relaxed);
    let ttl = app.token_ttl.as_secs();
    let token = app.tokens.issue(app.token_ttl);
    let body = serde_json::json!({ "access_token": token, "token_type": "Bearer", "expires_in": ttl, "scope": "" });
    respond(Reply { status: 200, body }, rate)
}

/// An API call, carried out to its end even when the caller hangs up before the answer: a
/// service does what it has received, and a client that stops waiting must not make the
/// sandbox look as if the write never happened.
async fn api(
    State(app): State<Arc<App>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    tokio::spawn(answer(app, method, uri, headers, body))
        .await
        .unwrap_or_else(|e| {
            let reply = wire::error(
                500,
                "err_internal",
                &format!("sandbox task failed: {e}"),
                true,
            );
            let mut resp = Response::new(Body::from(body_bytes(&reply.body)));
            *resp.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            resp
        })
}

async fn answer(
    app: Arc<App>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let rate = match gate(&app).await {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let fault = injected(&app);
    match fault {
        Some(Fault::Status(s)) => return respond(fault_reply(s), fault_rate(s, rate)),
        Some(Fault::DropBefore) => return dropped(),
        _ => {}
    }
    let path = uri.path().to_string();
    if method != Method::POST {
        return respond(
            wire::error(
                405,
                "err_method_not_allowed",
                "Every Mimecast API call is a POST",
                false,
            ),
            rate,
        );
    }
    // Counted by known path only: every other path shares one entry, so requests with
    // made-up paths (no credentials needed to send them) cannot grow the sandbox's memory.
    let counted = if PATHS.contains(&path.as_str()) {
        path.as_str()
    } else {
        crate::sandbox::faults::UNKNOWN_PATH
    };
    *app.stats
        .by_path
        .lock()
        .expect("stats lock")
        .entry(counted.to_string())
        .or_default() += 1;
    if !PATHS.contains(&path.as_str()) {
        return respond(
            wire::error(404, "err_not_found", "Unknown API path", false),
            rate,
        );
    }
    if let Err(reply) = auth::verify(&headers, &path, &app.keys, &app.tokens) {
        return respond(reply, rate);
    }
    let body = match body {
        Ok(b) => b,
        Err(e) => return respond(too_large_or_bad(e), rate),
    };
    let request = match wire::parse_request(&body) {
        Ok(r) => r,
        Err(reply) => return respond(reply, rate),
    };
    let db = app.db.clone();
    let stats = app.stats.clone();
    let record = app.record_writes;
    let reply = tokio::task::spawn_blocking(move || {
        let mut conn = db.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        // IMMEDIATE: take the write lock up front, so another process on the same state file
        // waits its turn (busy timeout) instead of failing with "database is locked" when a
        // read transaction tries to upgrade.
        let tx = match conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate) {
            Ok(tx) => tx,
            Err(e) => {
                return wire::error(
                    500,
                    "err_internal",
                    &format!("sandbox storage error: {e}"),
                    true,
                )
            }
        };
        match dispatch(&path, &tx, &request) {
            Ok(mut outcome) => match tx.commit() {
                Ok(()) => {
                    if record && !READS.contains(&path.as_str()) {
                        let mut log = stats.accepted.lock().expect("stats lock");
                        for item in std::mem::take(&mut outcome.accepted) {
                            log.push((path.clone(), item));
                        }
                    }
                    outcome.into_reply()
                }
                Err(e) => wire::error(
                    500,
                    "err_internal",
                    &format!("sandbox storage error: {e}"),
                    true,
                ),
            },
            Err(reply) => reply,
        }
    })
    .await
    .unwrap_or_else(|e| {
        wire::error(
            500,
            "err_internal",
            &format!("sandbox handler failed: {e}"),
            true,
        )
    });
    if fault == Some(Fault::DropAfter) {
        return dropped();
    }
    respond(reply, rate)
}

fn too_large_or_bad(e: BytesRejection) -> Reply {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        let msg = format!(
            "The request body is larger than {} bytes",
            MAX_REQUEST_BYTES
        );
        wire::error(413, "err_request_too_large", &msg, false)
    } else {
        wire::error(400, "err_request_malformed", &e.body_text(), false)
    }
}

/// Decodes an `application/x-www-form-urlencoded` body.
fn url_form(body: &[u8]) -> HashMap<String, String> {
    String::from_utf8_lossy(body)
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'+', _) => out.push(b' '),
            (b'%', Some(b)) => {
                out.push(b);
                i += 2;
            }
            (b, _) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// An answer that never arrives: the body stream fails, so the connection is cut.
fn dropped() -> Response {
    let stream = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::other(
            "connection dropped by fault injection",
        ))
    });
    Response::new(Body::from_stream(stream))
}

/// A reply's body as bytes, written straight into them (`to_string` goes through
/// `Display`'s formatter, a fifth slower on a page of users).
fn body_bytes(body: &serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec())
}

fn respond(reply: Reply, rate: RateHeaders) -> Response {
    let mut resp = Response::new(Body::from(body_bytes(&reply.body)));
    *resp.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = resp.headers_mut();
    h.insert("content-type", HeaderValue::from_static("application/json"));
    h.insert("x-ratelimit-limit", HeaderValue::from(rate.limit));
    h.insert("x-ratelimit-remaining", HeaderValue::from(rate.remaining));
    h.insert("x-ratelimit-reset", HeaderValue::from(rate.reset_ms));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_bodies_decode() {
        let f =
            url_form(b"client_id=a%2Bb&client_secret=x+y%3D&grant_type=client_credentials&bad=%zz");
        assert_eq!(f["client_id"], "a+b");
        assert_eq!(f["client_secret"], "x y=");
        assert_eq!(f["bad"], "%zz");
    }
}

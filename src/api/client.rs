//! The HTTP client: one shared connection pool, authentication, retries and rate-limit waits.
//!
//! Policy:
//! - Reads are retried on transport errors, timeouts and 5xx with exponential backoff and
//!   jitter. Writes are retried only when the call provably did not run: a 429, or a
//!   connection that was never established.
//! - A 429 waits `X-RateLimit-Reset` milliseconds (bounded by `max_rate_wait`), for reads and
//!   writes alike, because the service did not execute the call.
//! - A 401 `token_expired` fetches a new token once; `err_developer_key` is retried once.
//! - Every request has a timeout; every body read is bounded.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::Rng;
use reqwest::header::HeaderMap;
use serde_json::Value;

use super::auth::{Credentials, Secret, Token};
use super::envelope::{self, Request, Response};
use super::error::{ApiError, Failure};
use super::events::{Event, Observer};
use super::signer;

/// Largest response body the client reads (a page of 500 users is about 100 KiB).
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// Whether a call changes the directory; decides what may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Reads: safe to repeat.
    Read,
    /// Writes: repeated only when the service provably did not run them.
    Write,
}

/// How a [`Client`] behaves; `Default` holds the production values.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Per-request timeout, connection to last body byte.
    pub timeout: Duration,
    /// How many times a read is repeated after a transient failure.
    pub read_retries: u32,
    /// First backoff step; doubled on each retry, with full jitter.
    pub backoff_base: Duration,
    /// Longest single backoff.
    pub backoff_max: Duration,
    /// How many 429s one call waits out before giving up.
    pub rate_waits: u32,
    /// Longest single wait for the quota, whatever `X-RateLimit-Reset` says.
    pub max_rate_wait: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            timeout: Duration::from_secs(30),
            read_retries: 4,
            backoff_base: Duration::from_millis(200),
            backoff_max: Duration::from_secs(5),
            rate_waits: 20,
            max_rate_wait: Duration::from_secs(60),
        }
    }
}

/// The last rate-limit headers seen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateSnapshot {
    /// `X-RateLimit-Limit`.
    pub limit: Option<u64>,
    /// `X-RateLimit-Remaining`.
    pub remaining: Option<u64>,
    /// `X-RateLimit-Reset`, milliseconds.
    pub reset_ms: Option<u64>,
}

/// A Mimecast API client. Cheap to clone: clones share the pool, the token and the budget.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base_url: String,
    auth: Auth,
    options: ClientOptions,
    observer: Option<Observer>,
    rate: Mutex<RateSnapshot>,
    budget: Mutex<Budget>,
    stats: Counters,
}

/// The shared rate budget: how many requests the quota still allows, and when it renews.
#[derive(Debug, Default)]
struct Budget {
    remaining: Option<u64>,
    resume_at: Option<Instant>,
    limit: Option<u64>,
}

#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    retries: AtomicU64,
    rate_waits: AtomicU64,
    paced: AtomicU64,
}

/// What a client has done so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// HTTP requests sent (token requests excluded).
    pub requests: u64,
    /// Requests repeated after a transient failure.
    pub retries: u64,
    /// 429 answers waited out.
    pub rate_waits: u64,
    /// Pauses taken because the budget said the quota was used up.
    pub paced: u64,
}

enum Auth {
    OAuth {
        client_id: String,
        client_secret: Secret,
        token: tokio::sync::Mutex<Option<Token>>,
    },
    Hmac {
        access_key: String,
        key: Vec<u8>,
        app_id: String,
        app_key: Secret,
    },
}

/// An answer as it came off the wire.
struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
    request_id: Option<String>,
}

/// Why an exchange produced no answer to interpret.
enum Fault {
    /// Nothing usable came back; maybe worth another try.
    Lost(NoAnswer),
    /// The exchange cannot succeed as it is (e.g. the token endpoint refused the credentials).
    Refused(ApiError),
}

impl From<NoAnswer> for Fault {
    fn from(e: NoAnswer) -> Self {
        Fault::Lost(e)
    }
}

/// A request that got no answer.
struct NoAnswer {
    never_sent: bool,
    timed_out: bool,
    detail: String,
}

impl Client {
    /// A client for `base_url` (e.g. `https://api.services.mimecast.com`). Plain `http://` is
    /// accepted for loopback addresses only, so credentials never cross a network in clear.
    pub fn new(
        base_url: &str,
        credentials: Credentials,
        options: ClientOptions,
        observer: Option<Observer>,
    ) -> Result<Client, ApiError> {
        let base_url = check_base_url(base_url)?;
        let auth = match credentials {
            Credentials::OAuth {
                client_id,
                client_secret,
            } => Auth::OAuth {
                client_id,
                client_secret,
                token: tokio::sync::Mutex::new(None),
            },
            Credentials::Hmac {
                access_key,
                secret_key,
                app_id,
                app_key,
            } => Auth::Hmac {
                access_key,
                key: signer::decode_secret_key(secret_key.expose())
                    .map_err(|e| ApiError::Config(e.to_string()))?,
                app_id,
                app_key,
            },
        };
        let http = reqwest::Client::builder()
            .timeout(options.timeout)
            .connect_timeout(options.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("mcsh/", env!("CARGO_PKG_VERSION")))
            .pool_max_idle_per_host(64)
            .build()
            .map_err(|e| ApiError::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base_url,
                auth,
                options,
                observer,
                rate: Mutex::new(RateSnapshot::default()),
                budget: Mutex::new(Budget::default()),
                stats: Counters::default(),
            }),
        })
    }

    /// The base URL calls go to.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// Counts a retry made by a caller (the executor resending a batch).
    pub fn count_retry(&self) {
        self.inner.stats.retries.fetch_add(1, Ordering::Relaxed);
    }

    /// Requests, retries and waits so far.
    pub fn stats(&self) -> ClientStats {
        let c = &self.inner.stats;
        ClientStats {
            requests: c.requests.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
            rate_waits: c.rate_waits.load(Ordering::Relaxed),
            paced: c.paced.load(Ordering::Relaxed),
        }
    }

    /// The rate-limit headers of the latest answer.
    pub fn rate(&self) -> RateSnapshot {
        *self.inner.rate.lock().expect("rate lock")
    }

    /// Calls `path` and returns every item of `data`; any failed item makes it an error.
    pub async fn call(
        &self,
        path: &str,
        kind: Kind,
        data: Vec<Value>,
    ) -> Result<Vec<Value>, ApiError> {
        let resp = self.send(path, kind, &Request { meta: None, data }).await?;
        if !resp.fail.is_empty() {
            return Err(ApiError::Failed {
                path: path.to_string(),
                status: 200,
                failures: resp.fail,
            });
        }
        Ok(resp.data)
    }

    /// Sends one request and returns the decoded answer, failed items included, so a batch's
    /// successes and failures can both be used. Errors are what no item survives: transport,
    /// credentials, a non-200 status, a body that is not an envelope, `meta.status` not 200.
    pub async fn send(
        &self,
        path: &str,
        kind: Kind,
        request: &Request,
    ) -> Result<Response, ApiError> {
        let body = serde_json::to_vec(request).expect("a request always serializes");
        let opts = &self.inner.options;
        let (mut attempt, mut rate_waits) = (1u32, 0u32);
        let (mut token_renewed, mut dev_key_retried) = (false, false);
        loop {
            let answer = match self.exchange(path, &body).await {
                Ok(a) => a,
                Err(Fault::Refused(e)) => return Err(e),
                Err(Fault::Lost(e)) => {
                    let may_retry = kind == Kind::Read || e.never_sent;
                    if may_retry && attempt <= opts.read_retries {
                        self.pause_before_retry(path, &mut attempt, &e.detail).await;
                        continue;
                    }
                    return Err(if e.timed_out {
                        ApiError::Timeout {
                            path: path.to_string(),
                            seconds: opts.timeout.as_secs(),
                        }
                    } else {
                        ApiError::Transport {
                            path: path.to_string(),
                            url: self.url(path),
                            detail: e.detail,
                        }
                    });
                }
            };
            match answer.status {
                200 => {}
                429 => {
                    rate_waits += 1;
                    if rate_waits > opts.rate_waits {
                        return Err(ApiError::RateLimited {
                            path: path.to_string(),
                            attempts: rate_waits - 1,
                        });
                    }
                    let wait = header_u64(&answer.headers, "x-ratelimit-reset")
                        .map(Duration::from_millis)
                        .unwrap_or_else(|| backoff(opts, rate_waits))
                        .min(opts.max_rate_wait);
                    self.inner.stats.rate_waits.fetch_add(1, Ordering::Relaxed);
                    {
                        let mut b = self.inner.budget.lock().expect("budget lock");
                        b.remaining = Some(0);
                        b.resume_at = Some(Instant::now() + wait);
                    }
                    self.emit(&Event::RateLimited {
                        path: path.to_string(),
                        wait,
                    });
                    tokio::time::sleep(wait).await;
                    continue;
                }
                401 | 403 | 418 => {
                    let (code, message) = envelope::error_summary(&answer.body);
                    let expired = matches!(
                        code.as_deref(),
                        Some("token_expired" | "token_verification_failed")
                    );
                    if expired && !token_renewed && self.forget_token().await {
                        token_renewed = true;
                        continue;
                    }
                    return Err(auth_error(answer.status, code, message, &self.inner.auth));
                }
                s if s >= 500 => {
                    if kind == Kind::Read && attempt <= opts.read_retries {
                        self.pause_before_retry(path, &mut attempt, &format!("HTTP {s}"))
                            .await;
                        continue;
                    }
                    return Err(status_error(path, &answer));
                }
                _ => return Err(status_error(path, &answer)),
            }
            let mut resp = envelope::decode(&answer.body).map_err(|e| ApiError::Decode {
                path: path.to_string(),
                status: 200,
                detail: e.0,
            })?;
            resp.request_id = answer.request_id.clone();
            if !dev_key_retried && resp.fail.iter().any(|f| f.code == "err_developer_key") {
                // Seen to fail intermittently on valid application ids: one more try.
                dev_key_retried = true;
                continue;
            }
            if resp.status != 200 {
                let failures = if resp.fail.is_empty() {
                    vec![Failure {
                        key: None,
                        code: format!("status_{}", resp.status),
                        message: format!("meta.status is {}", resp.status),
                        retryable: false,
                        field: None,
                    }]
                } else {
                    resp.fail
                };
                return Err(ApiError::Failed {
                    path: path.to_string(),
                    status: resp.status,
                    failures,
                });
            }
            return Ok(resp);
        }
    }

    async fn pause_before_retry(&self, path: &str, attempt: &mut u32, reason: &str) {
        self.inner.stats.retries.fetch_add(1, Ordering::Relaxed);
        let wait = backoff(&self.inner.options, *attempt);
        *attempt += 1;
        self.emit(&Event::Retry {
            path: path.to_string(),
            attempt: *attempt,
            reason: reason.to_string(),
            wait,
        });
        tokio::time::sleep(wait).await;
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.inner.base_url, path)
    }

    fn emit(&self, event: &Event) {
        if let Some(observer) = &self.inner.observer {
            observer(event);
        }
    }

    /// One HTTP exchange with authentication headers; no retries.
    async fn exchange(&self, path: &str, body: &[u8]) -> Result<Answer, Fault> {
        let started = Instant::now();
        let mut req = self
            .inner
            .http
            .post(self.url(path))
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .body(body.to_vec());
        // Every request carries an id, so audit lines and Mimecast's logs can be matched.
        let id = uuid::Uuid::new_v4().to_string();
        match &self.inner.auth {
            Auth::OAuth { .. } => {
                let token = self.token().await?;
                req = req.bearer_auth(token.expose()).header("x-mc-req-id", &id);
            }
            Auth::Hmac {
                access_key,
                key,
                app_id,
                app_key,
            } => {
                let date = chrono::Utc::now().format(signer::DATE_FORMAT).to_string();
                let authz =
                    signer::authorization(access_key, key, &date, &id, path, app_key.expose());
                req = req
                    .header("x-mc-app-id", app_id)
                    .header("x-mc-date", date)
                    .header("x-mc-req-id", &id)
                    .header("authorization", authz);
            }
        }
        self.pace(path).await;
        self.inner.stats.requests.fetch_add(1, Ordering::Relaxed);
        let answer = read_answer(req.send().await, Some(id)).await?;
        self.note_rate(&answer.headers);
        self.emit(&Event::Response {
            path: path.to_string(),
            status: answer.status,
            elapsed: started.elapsed(),
            request_id: answer.request_id.clone(),
            remaining: header_u64(&answer.headers, "x-ratelimit-remaining"),
        });
        Ok(answer)
    }

    /// Waits while the shared budget says the quota is used up, and takes one request from it.
    async fn pace(&self, path: &str) {
        loop {
            let wait = {
                let mut b = self.inner.budget.lock().expect("budget lock");
                let now = Instant::now();
                match (b.remaining, b.resume_at) {
                    (Some(0), Some(at)) if at > now => {
                        Some((at - now).min(self.inner.options.max_rate_wait))
                    }
                    (Some(0), _) => {
                        // The window has turned: a fresh quota, spent from now on.
                        b.remaining = b.limit.map(|l| l.saturating_sub(1));
                        b.resume_at = None;
                        None
                    }
                    (Some(n), _) => {
                        b.remaining = Some(n - 1);
                        None
                    }
                    (None, _) => None,
                }
            };
            match wait {
                None => return,
                Some(wait) => {
                    self.inner.stats.paced.fetch_add(1, Ordering::Relaxed);
                    self.emit(&Event::Paced {
                        path: path.to_string(),
                        wait,
                    });
                    tokio::time::sleep(wait).await;
                    let mut b = self.inner.budget.lock().expect("budget lock");
                    if b.remaining == Some(0) && b.resume_at.is_some_and(|at| at <= Instant::now())
                    {
                        b.remaining = b.limit;
                        b.resume_at = None;
                    }
                }
            }
        }
    }

    fn note_rate(&self, headers: &HeaderMap) {
        let snap = RateSnapshot {
            limit: header_u64(headers, "x-ratelimit-limit"),
            remaining: header_u64(headers, "x-ratelimit-remaining"),
            reset_ms: header_u64(headers, "x-ratelimit-reset"),
        };
        if let (Some(remaining), Some(reset)) = (snap.remaining, snap.reset_ms) {
            let mut b = self.inner.budget.lock().expect("budget lock");
            let resume = Instant::now() + Duration::from_millis(reset);
            // Within one window an answer may be older than requests already sent: never let
            // it raise the count. A later window starts from what the service says.
            let same_window = b
                .resume_at
                .is_some_and(|at| resume <= at + Duration::from_millis(100));
            b.remaining = match b.remaining {
                Some(local) if same_window => Some(local.min(remaining)),
                _ => Some(remaining),
            };
            b.resume_at = Some(resume);
            b.limit = snap.limit.or(b.limit);
        }
        if snap != RateSnapshot::default() {
            *self.inner.rate.lock().expect("rate lock") = snap;
        }
    }

    /// Drops a cached bearer token; false when the scheme has none to drop.
    async fn forget_token(&self) -> bool {
        match &self.inner.auth {
            Auth::OAuth { token, .. } => {
                *token.lock().await = None;
                true
            }
            Auth::Hmac { .. } => false,
        }
    }

    /// The cached bearer token, or a new one from `/oauth/token`.
    async fn token(&self) -> Result<Secret, Fault> {
        let Auth::OAuth {
            client_id,
            client_secret,
            token,
        } = &self.inner.auth
        else {
            unreachable!("token() is only called for API 2.0");
        };
        let mut cached = token.lock().await;
        if let Some(t) = cached.as_ref().filter(|t| t.is_fresh()) {
            return Ok(t.value.clone());
        }
        let form = [
            ("client_id", client_id.as_str()),
            ("client_secret", client_secret.expose()),
            ("grant_type", "client_credentials"),
        ];
        let mut attempt = 1;
        let mut rate_waits = 0;
        let answer = loop {
            let sent = self
                .inner
                .http
                .post(self.url("/oauth/token"))
                .form(&form)
                .send()
                .await;
            match read_answer(sent, None).await {
                Ok(a) if a.status == 429 && rate_waits < self.inner.options.rate_waits => {
                    // Over the quota: the token was not issued; wait as the service says.
                    rate_waits += 1;
                    self.inner.stats.rate_waits.fetch_add(1, Ordering::Relaxed);
                    let wait = header_u64(&a.headers, "x-ratelimit-reset")
                        .map(Duration::from_millis)
                        .unwrap_or_else(|| backoff(&self.inner.options, rate_waits))
                        .min(self.inner.options.max_rate_wait);
                    self.emit(&Event::RateLimited {
                        path: "/oauth/token".into(),
                        wait,
                    });
                    tokio::time::sleep(wait).await;
                }
                Ok(a) if a.status < 500 || attempt > self.inner.options.read_retries => break a,
                Ok(a) => {
                    self.pause_before_retry(
                        "/oauth/token",
                        &mut attempt,
                        &format!("HTTP {}", a.status),
                    )
                    .await
                }
                Err(e) if attempt <= self.inner.options.read_retries => {
                    self.pause_before_retry("/oauth/token", &mut attempt, &e.detail)
                        .await
                }
                Err(e) => return Err(e.into()),
            }
        };
        let issued = serde_json::from_slice::<Value>(&answer.body)
            .ok()
            .and_then(|v| {
                let access = v.get("access_token")?.as_str()?.to_string();
                let expires = v.get("expires_in").and_then(Value::as_u64).unwrap_or(1799);
                Some((access, expires))
            });
        match (answer.status, issued) {
            (200, Some((access, expires_in))) => {
                self.emit(&Event::TokenIssued { expires_in });
                let t = Token::new(access, expires_in);
                let value = t.value.clone();
                *cached = Some(t);
                Ok(value)
            }
            (status, _) if (400..500).contains(&status) => {
                let (code, message) = envelope::error_summary(&answer.body);
                Err(Fault::Refused(auth_error(
                    status,
                    code,
                    message,
                    &self.inner.auth,
                )))
            }
            (status, _) => Err(Fault::Refused(ApiError::Decode {
                path: "/oauth/token".into(),
                status,
                detail: format!(
                    "no access_token in the answer (body starts {:?})",
                    envelope::excerpt(&answer.body)
                ),
            })),
        }
    }
}

async fn read_answer(
    sent: Result<reqwest::Response, reqwest::Error>,
    request_id: Option<String>,
) -> Result<Answer, NoAnswer> {
    let mut resp = sent.map_err(|e| NoAnswer {
        never_sent: e.is_connect(),
        timed_out: e.is_timeout(),
        detail: transport_detail(&e),
    })?;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let mut body = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > MAX_BODY_BYTES {
                    return Err(NoAnswer {
                        never_sent: false,
                        timed_out: false,
                        detail: format!("the answer is larger than {} MiB", MAX_BODY_BYTES >> 20),
                    });
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) => {
                return Err(NoAnswer {
                    never_sent: false,
                    timed_out: e.is_timeout(),
                    detail: transport_detail(&e),
                })
            }
        }
    }
    Ok(Answer {
        status,
        headers,
        body,
        request_id,
    })
}

/// The innermost cause of a transport error, without the URL (printed separately).
fn transport_detail(e: &reqwest::Error) -> String {
    let mut source: &dyn std::error::Error = e;
    while let Some(next) = source.source() {
        source = next;
    }
    let inner = source.to_string();
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        format!("connection failed ({inner})")
    } else {
        inner
    }
}

fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

fn backoff(opts: &ClientOptions, attempt: u32) -> Duration {
    let ceiling = opts
        .backoff_base
        .saturating_mul(1u32 << attempt.min(16))
        .min(opts.backoff_max);
    let ms = ceiling.as_millis() as u64;
    Duration::from_millis(rand::thread_rng().gen_range(ms / 2..=ms.max(1)))
}

fn status_error(path: &str, answer: &Answer) -> ApiError {
    let (code, message) = envelope::error_summary(&answer.body);
    ApiError::Status {
        path: path.to_string(),
        status: answer.status,
        code,
        message,
    }
}

fn auth_error(status: u16, code: Option<String>, message: Option<String>, auth: &Auth) -> ApiError {
    let code = code.unwrap_or_else(|| format!("http_{status}"));
    let scheme = match auth {
        Auth::OAuth { .. } => "MIMECAST_CLIENT_ID / MIMECAST_CLIENT_SECRET",
        Auth::Hmac { .. } => {
            "MIMECAST_ACCESS_KEY / MIMECAST_SECRET_KEY / MIMECAST_APP_ID / MIMECAST_APP_KEY"
        }
    };
    let said = message.map(|m| format!(" ({m})")).unwrap_or_default();
    let message = match (status, code.as_str()) {
        (418, _) | (_, "err_xdk_binding_expired") => format!(
            "the access key has expired (Mimecast {code}); create new API 1.0 keys in the Mimecast \
             administration console, or move to API 2.0 client credentials"
        ),
        (403, _) => format!(
            "Mimecast refused the operation for these credentials (HTTP 403 {code}){said}; check \
             the application's permissions"
        ),
        _ => {
            format!("Mimecast refused the credentials (HTTP {status} {code}){said}; check {scheme}")
        }
    };
    ApiError::Auth {
        status,
        code,
        message,
    }
}

fn check_base_url(base_url: &str) -> Result<String, ApiError> {
    let trimmed = base_url.trim().trim_end_matches('/');
    let url = reqwest::Url::parse(trimmed)
        .map_err(|e| ApiError::Config(format!("base URL {trimmed:?} is not a URL: {e}")))?;
    let host = url.host_str().unwrap_or("");
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(ApiError::Config(format!(
                "refusing to send credentials in clear text to {trimmed}: use an https:// base URL \
                 (plain http is allowed for loopback addresses only)"
            )))
        }
        other => {
            return Err(ApiError::Config(format!(
                "base URL {trimmed:?} has scheme {other:?}; use https://"
            )))
        }
    }
    if url.path() != "/" && !url.path().is_empty() {
        return Err(ApiError::Config(format!(
            "base URL {trimmed:?} must not carry a path; use e.g. https://api.services.mimecast.com"
        )));
    }
    Ok(trimmed.to_string())
}

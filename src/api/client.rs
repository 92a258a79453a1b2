//! The HTTP client: one shared connection pool, authentication, retries and rate-limit waits.
//!
//! Policy:
//! - Reads are retried on transport errors, timeouts and 5xx with exponential backoff and
//!   jitter. Writes are retried only when the call provably did not run: a 429, or a
//!   connection that was never established.
//! - A 429 waits `X-RateLimit-Reset` milliseconds (bounded by `max_rate_wait`), for reads and
//!   writes alike, because the service did not execute the call.
//! - A 401 `token_expired` fetches a new token once; `err_developer_key` is retried once and
//!   then means the credentials were refused.
//! - A `fail` entry without `key` fails the whole request, every item of it.
//! - Every request has a timeout; every body read is bounded.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::auth::{Auth, Credentials};
use super::budget::{RateBudget, RateSnapshot};
use super::envelope::{self, Request, Response};
use super::error::{ApiError, Failure};
use super::events::{Event, Observer};
use super::options::ClientOptions;
use super::retry::{backoff, RateWaits};
use super::signer;
use super::transport::{
    auth_error, check_base_url, header_u64, read_answer, status_error, Answer, Fault, NoAnswer,
};

/// Whether a call changes the directory; decides what may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Reads: safe to repeat.
    Read,
    /// Writes: repeated only when the service provably did not run them.
    Write,
}

/// A Mimecast API client. Cheap to clone: clones share the pool, the token and the budget.
#[derive(Clone)]
pub struct Client {
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    pub(super) http: reqwest::Client,
    pub(super) base_url: String,
    pub(super) auth: Auth,
    pub(super) options: ClientOptions,
    pub(super) observer: Option<Observer>,
    pub(super) budget: RateBudget,
    pub(super) stats: Counters,
    /// Where the token fetched ahead of the first request stands ([`Client::warm_up`]).
    pub(super) warm: std::sync::Mutex<Warm>,
}

/// Where an API 2.0 token fetched ahead stands (`token.rs`, which fetches it).
pub(super) enum Warm {
    /// None was asked for, or the first request has taken over.
    Off,
    /// Asked for, and not yet begun: a request that needs the token first fetches it itself.
    Pending,
    /// It failed, at that moment: the first request to need a token is told this, if the
    /// credentials were refused or it failed a moment ago (see `token.rs`).
    Failed(Fault, std::time::Instant),
}

#[derive(Debug, Default)]
pub(super) struct Counters {
    pub(super) requests: AtomicU64,
    pub(super) retries: AtomicU64,
    pub(super) rate_waits: AtomicU64,
    pub(super) paced: AtomicU64,
    /// Answers received (any status, token answers included).
    pub(super) answers: AtomicU64,
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
        let mut builder = reqwest::Client::builder();
        if base_url.starts_with("http://") {
            // Plain http (only ever to this machine: a sandbox) makes no TLS connection, and
            // redirects are refused: loading the system's root certificates would only cost
            // each run some 5 ms of CPU (a fleet runs dozens at once).
            builder = builder.tls_certs_only(Vec::<reqwest::Certificate>::new());
            // Nor through a proxy from the environment: plain http is allowed because it stays
            // on this machine, and a proxy elsewhere would read the secret in clear text.
            builder = builder.no_proxy();
        }
        let http = builder
            // Mimecast does not redirect its API; a 3xx is refused (transport::refuse_redirect).
            .redirect(reqwest::redirect::Policy::none())
            .timeout(options.timeout)
            .connect_timeout(connect_timeout(&options))
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
                budget: RateBudget::default(),
                stats: Counters::default(),
                warm: std::sync::Mutex::new(Warm::Off),
            }),
        })
    }

    /// Who the client acts as, by identifier only (never a secret): `client id X` (API 2.0) or
    /// `access key Y` (API 1.0). Plans are bound to it.
    pub fn principal(&self) -> String {
        match &self.inner.auth {
            Auth::OAuth { client_id, .. } => format!("client id {client_id}"),
            Auth::Hmac { access_key, .. } => format!("access key {access_key}"),
        }
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
        self.inner.budget.latest()
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
        let mut attempt = 1u32;
        let mut rate_waits = RateWaits::default();
        let (mut token_renewed, mut dev_key_retried) = (false, false);
        loop {
            // A write on the wire is counted, so a run told to stop waits for its answer.
            let exchange = self.exchange(path, &body, kind, items_of(request));
            let answer = match exchange.await {
                Ok(a) => a,
                Err(Fault::Refused(e)) => return Err(e),
                Err(Fault::Lost(e)) => {
                    let may_retry = kind == Kind::Read || e.never_sent;
                    if may_retry && self.may_retry_loss(&e, attempt) {
                        self.pause_after_loss(path, &mut attempt, &e).await;
                        continue;
                    }
                    return Err(self.no_answer_error(path, e));
                }
            };
            match answer.status {
                200 => {}
                429 => {
                    self.wait_out_429(path, &mut rate_waits, &answer.headers, &answer.body)
                        .await?;
                    continue;
                }
                401 | 403 | 418 => {
                    let (code, message) = envelope::error_summary(&answer.body);
                    // Any 401 on a bearer token renews it once: the API 2.0 gateway answers a
                    // revoked or expired token with `unauthorized` as well as `token_expired`.
                    if answer.status == 401 && !token_renewed && self.forget_token().await {
                        token_renewed = true;
                        continue;
                    }
                    if answer.status == 401 && token_renewed {
                        // The token endpoint took the client id and secret a moment ago: the
                        // call itself is what is refused.
                        let code = code.unwrap_or_else(|| "http_401".into());
                        let said = message.map(|m| format!(" ({m})")).unwrap_or_default();
                        return Err(ApiError::Auth {
                            status: 401,
                            message: format!(
                                "{path} refused a token just issued for these credentials (HTTP \
                                 401 {code}){said}: the client id and secret are right, so the \
                                 API application most likely lacks the role or product this \
                                 call needs; check its permissions in the Mimecast \
                                 Administration Console"
                            ),
                            code,
                        });
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
            let dev_key = resp.fail.iter().find(|f| f.code == "err_developer_key");
            if let Some(f) = dev_key {
                if !dev_key_retried {
                    // Seen to fail intermittently on valid application ids: one more try.
                    dev_key_retried = true;
                    continue;
                }
                let message = (!f.message.is_empty()).then(|| f.message.clone());
                return Err(auth_error(
                    answer.status,
                    Some(f.code.clone()),
                    message,
                    &self.inner.auth,
                ));
            }
            if resp.fail.iter().any(|f| f.key.is_none()) {
                // A `fail` entry without `key` is about the whole request: no item of it
                // happened, whatever `data` holds (docs/mimecast-api.md §2, revised).
                return Err(ApiError::Failed {
                    path: path.to_string(),
                    status: resp.status,
                    failures: resp.fail,
                });
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

    /// Whether try `attempt + 1` may follow a request that got no answer. Never when no try
    /// can help (see [`super::transport::Loss`]). A timeout before this client's first answer
    /// is tried once more, not `read_retries` times: a host that takes the connection and
    /// never answers is more often wrong than slow, and each try costs the whole timeout.
    pub(super) fn may_retry_loss(&self, e: &NoAnswer, attempt: u32) -> bool {
        !e.hopeless && attempt <= self.loss_retries(e)
    }

    /// How many more tries a call that got no answer (`e`) may have in all.
    fn loss_retries(&self, e: &NoAnswer) -> u32 {
        let answered = self.inner.stats.answers.load(Ordering::Relaxed) > 0;
        if e.timed_out && !answered {
            1
        } else {
            self.inner.options.read_retries
        }
    }

    /// The pause before trying again after `e`; a timeout is told (what is tried again, and
    /// the longest it can take) before the wait.
    /// How long a request that got no answer was waited for: the connection's own bound when
    /// it never connected (a TLS handshake that hangs), else the whole request's.
    fn waited(&self, e: &NoAnswer) -> Duration {
        if e.never_sent {
            connect_timeout(&self.inner.options)
        } else {
            self.inner.options.timeout
        }
    }

    pub(super) async fn pause_after_loss(&self, path: &str, attempt: &mut u32, e: &NoAnswer) {
        if e.timed_out {
            self.emit(&Event::TimedOut {
                path: path.to_string(),
                after: self.waited(e),
                within: backoff(&self.inner.options, *attempt) + self.waited(e),
                attempt: *attempt + 1,
                tries: self.loss_retries(e) + 1,
            });
        }
        self.pause_before_retry(path, attempt, &e.detail).await;
    }

    pub(super) async fn pause_before_retry(&self, path: &str, attempt: &mut u32, reason: &str) {
        self.inner.stats.retries.fetch_add(1, Ordering::Relaxed);
        let wait = backoff(&self.inner.options, *attempt);
        *attempt += 1;
        self.emit(&Event::Retry {
            path: path.to_string(),
            attempt: *attempt,
            reason: reason.to_string(),
            wait,
        });
        self.inner.options.stop.nap(wait).await;
    }

    /// Waits out a 429 on `path` as the service asks (see [`RateWaits::next`]), holding back
    /// every other request meanwhile; an error when the call has waited its total, saying
    /// what the last refusal's `body` said (the gateway's `{"detail": ...}`).
    pub(super) async fn wait_out_429(
        &self,
        path: &str,
        waits: &mut RateWaits,
        headers: &reqwest::header::HeaderMap,
        body: &[u8],
    ) -> Result<(), ApiError> {
        let Some(wait) = waits.next(headers, &self.inner.options) else {
            let (code, message) = envelope::error_summary(body);
            return Err(ApiError::RateLimited {
                path: path.to_string(),
                attempts: waits.waited_out(),
                detail: message.or(code),
            });
        };
        self.inner.stats.rate_waits.fetch_add(1, Ordering::Relaxed);
        self.inner.budget.throttled(wait);
        self.emit(&Event::RateLimited {
            path: path.to_string(),
            wait,
        });
        self.inner.options.stop.nap(wait).await;
        Ok(())
    }

    /// Takes one request from the shared budget for `path`, waiting while it is used up.
    pub(super) async fn pace(&self, path: &str) -> u64 {
        self.inner
            .budget
            .pace(self.inner.options.max_rate_wait, |wait| {
                self.inner.stats.paced.fetch_add(1, Ordering::Relaxed);
                self.emit(&Event::Paced {
                    path: path.to_string(),
                    wait,
                });
            })
            .await
    }

    /// The error for a request to `path` that got no answer after its retries.
    pub(super) fn no_answer_error(&self, path: &str, e: NoAnswer) -> ApiError {
        if e.timed_out {
            ApiError::Timeout {
                path: path.to_string(),
                seconds: self.waited(&e).as_secs(),
            }
        } else {
            ApiError::Transport {
                path: path.to_string(),
                url: self.url(path),
                detail: e.detail,
            }
        }
    }

    pub(super) fn url(&self, path: &str) -> String {
        format!("{}{}", self.inner.base_url, path)
    }

    pub(super) fn emit(&self, event: &Event) {
        if let Some(observer) = &self.inner.observer {
            observer(event);
        }
    }

    /// One HTTP exchange with authentication headers; no retries. Told to stop, it sends
    /// nothing (before or after waiting for the token and the budget).
    async fn exchange(
        &self,
        path: &str,
        body: &[u8],
        kind: Kind,
        items: usize,
    ) -> Result<Answer, Fault> {
        let stop = &self.inner.options.stop;
        let stopped = || {
            Fault::Refused(ApiError::Stopped {
                path: path.to_string(),
            })
        };
        if stop.is_stopped() {
            return Err(stopped());
        }
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
        let ticket = tokio::select! {
            ticket = self.pace(path) => ticket,
            _ = stop.stopped() => return Err(stopped()),
        };
        if stop.is_stopped() {
            self.inner.budget.forget(ticket);
            return Err(stopped());
        }
        let _in_flight = (kind == Kind::Write).then(|| stop.write_sent(items));
        self.inner.stats.requests.fetch_add(1, Ordering::Relaxed);
        let answer = match read_answer(req.send().await, Some(id)).await {
            Ok(a) => a,
            Err(e) => {
                self.inner.budget.forget(ticket);
                return Err(e.into());
            }
        };
        self.inner.budget.note_rate(ticket, &answer.headers);
        self.inner.stats.answers.fetch_add(1, Ordering::Relaxed);
        if let Some(e) = super::transport::refuse_redirect(path, answer.status, &answer.headers) {
            return Err(Fault::Refused(e));
        }
        self.emit(&Event::Response {
            path: path.to_string(),
            status: answer.status,
            elapsed: started.elapsed(),
            request_id: answer.request_id.clone(),
            remaining: header_u64(&answer.headers, "x-ratelimit-remaining"),
        });
        Ok(answer)
    }
}

/// The items a request carries: its `data` entries, or a merged purge-list entry's addresses.
fn items_of(request: &Request) -> usize {
    request
        .data
        .iter()
        .map(|d| {
            d.get("emailAddresses")
                .and_then(Value::as_array)
                .map_or(1, Vec::len)
        })
        .sum()
}

impl Client {
    /// The wait before try `attempt + 1` of something that failed for a passing reason, by this
    /// client's backoff settings. The executor uses it to resend a batch.
    pub fn backoff(&self, attempt: u32) -> Duration {
        backoff(&self.inner.options, attempt)
    }

    /// What tells this client to send nothing more (shared with its options' clones).
    pub fn stop_signal(&self) -> &super::Stop {
        &self.inner.options.stop
    }
}

/// How long connecting (TCP and TLS) may take: the request's timeout, at most 10 s: a host
/// that does not connect within that is not there.
fn connect_timeout(options: &ClientOptions) -> Duration {
    options.timeout.min(Duration::from_secs(10))
}

//! API 2.0 tokens: fetched from `/oauth/token`, cached until a minute before they expire,
//! dropped when the service calls one expired. A token request is paced by the shared budget
//! and a 429 there is waited out like anywhere else; a 4xx is refused credentials.
//!
//! A run that knows it will call the API can fetch its token ahead ([`Client::warm_up`]),
//! while it does other work: still one fetch for the first request. If that fetch failed,
//! the first request is told so, once, when the credentials were refused or the failure is
//! less than [`STILL_FRESH`] old; otherwise it asks again.

use serde_json::Value;

use super::auth::Auth;
use super::auth::{Secret, Token};
use super::client::{Client, Warm};
use super::envelope;
use super::error::ApiError;
use super::events::Event;
use super::retry::RateWaits;
use super::transport::{auth_error, read_answer, Fault};

/// Where API 2.0 tokens are issued.
const TOKEN_PATH: &str = "/oauth/token";

/// How long a fetch ahead's failure other than refused credentials stands for the first
/// request: past it, the first request asks again.
const STILL_FRESH: std::time::Duration = std::time::Duration::from_secs(5);

impl Client {
    /// Fetches the API 2.0 token in the background, so the first request finds it (API 1.0
    /// signs each request and has none). Called on the runtime, by a run certain to call the
    /// API, before work that takes a while: a fleet's tenant before compiling its script.
    pub fn warm_up(&self) {
        if !matches!(self.inner.auth, Auth::OAuth { .. }) {
            return;
        }
        *self.inner.warm.lock().expect("token lock") = Warm::Pending;
        let client = self.clone();
        tokio::spawn(async move { client.fetch_ahead().await });
    }

    /// The background fetch [`Client::warm_up`] started: only if no request has begun one.
    async fn fetch_ahead(&self) {
        let Auth::OAuth { token, .. } = &self.inner.auth else {
            return;
        };
        let mut cached = token.lock().await;
        if !matches!(*self.inner.warm.lock().expect("token lock"), Warm::Pending) {
            return;
        }
        let fetched = self.fetch_token(&mut cached).await;
        *self.inner.warm.lock().expect("token lock") = match fetched {
            Ok(_) => Warm::Off,
            Err(fault) => Warm::Failed(fault, std::time::Instant::now()),
        };
    }

    /// Drops a cached bearer token; false when the scheme has none to drop.
    pub(super) async fn forget_token(&self) -> bool {
        match &self.inner.auth {
            Auth::OAuth { token, .. } => {
                *token.lock().await = None;
                true
            }
            Auth::Hmac { .. } => false,
        }
    }

    /// The cached bearer token, or a new one from `/oauth/token`.
    pub(super) async fn token(&self) -> Result<Secret, Fault> {
        let Auth::OAuth { token, .. } = &self.inner.auth else {
            unreachable!("token() is only called for API 2.0");
        };
        let mut cached = token.lock().await;
        if let Some(t) = cached.as_ref().filter(|t| t.is_fresh()) {
            return Ok(t.value.clone());
        }
        // A fetch ahead that failed is this request's failure when asking again would be
        // answered the same: refused credentials, or a failure of a moment ago (a dead host
        // is not tried twice over). One that failed a while back (a 503 while the script
        // worked) is tried again; one not yet begun is dropped.
        let ahead = std::mem::replace(&mut *self.inner.warm.lock().expect("token lock"), Warm::Off);
        if let Warm::Failed(fault, at) = ahead {
            let refused = matches!(&fault, Fault::Refused(e) if e.is_auth());
            if refused || at.elapsed() < STILL_FRESH {
                return Err(fault);
            }
        }
        self.fetch_token(&mut cached).await
    }

    /// Fetches a new token from `/oauth/token` into `cached` (the token lock held).
    async fn fetch_token(&self, cached: &mut Option<Token>) -> Result<Secret, Fault> {
        let Auth::OAuth {
            client_id,
            client_secret,
            ..
        } = &self.inner.auth
        else {
            unreachable!("fetch_token() is only called for API 2.0");
        };
        let form = [
            ("client_id", client_id.as_str()),
            ("client_secret", client_secret.expose()),
            ("grant_type", "client_credentials"),
        ];
        let mut attempt = 1;
        let mut rate_waits = RateWaits::default();
        let answer = loop {
            // A token request takes its place in the shared budget like any other request.
            let ticket = self.pace(TOKEN_PATH).await;
            let sent = self
                .inner
                .http
                .post(self.url(TOKEN_PATH))
                .form(&form)
                .send()
                .await;
            let answer = read_answer(sent, None).await;
            match &answer {
                Ok(a) => {
                    self.inner.budget.note_rate(ticket, &a.headers);
                    let answers = &self.inner.stats.answers;
                    answers.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                Err(_) => self.inner.budget.forget(ticket),
            }
            if let Ok(a) = &answer {
                if let Some(e) = super::transport::refuse_redirect(TOKEN_PATH, a.status, &a.headers)
                {
                    return Err(Fault::Refused(e));
                }
            }
            match answer {
                Ok(a) if a.status == 429 => {
                    // Over the quota: the token was not issued; wait as the service says.
                    self.wait_out_429(TOKEN_PATH, &mut rate_waits, &a.headers, &a.body)
                        .await
                        .map_err(Fault::Refused)?;
                }
                Ok(a) if a.status < 500 || attempt > self.inner.options.read_retries => break a,
                Ok(a) => {
                    self.pause_before_retry(TOKEN_PATH, &mut attempt, &format!("HTTP {}", a.status))
                        .await
                }
                Err(e) if self.may_retry_loss(&e, attempt) => {
                    self.pause_after_loss(TOKEN_PATH, &mut attempt, &e).await
                }
                // Retried here already: the call that wanted the token does not retry it
                // again (retries inside retries made a dead address take half a minute).
                Err(e) => return Err(Fault::Refused(self.no_answer_error(TOKEN_PATH, e))),
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
                path: TOKEN_PATH.into(),
                status,
                detail: format!(
                    "no access_token in the answer (body starts {:?})",
                    envelope::excerpt(&answer.body)
                ),
            })),
        }
    }
}

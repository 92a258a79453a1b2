//! API 2.0 tokens: fetched from `/oauth/token`, cached until a minute before they expire,
//! dropped when the service calls one expired. A 429 there is waited out like anywhere else;
//! a 4xx is refused credentials.

use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::Value;

use super::auth::{Secret, Token};
use super::client::{Auth, Client};
use super::envelope;
use super::error::ApiError;
use super::events::Event;
use super::transport::{auth_error, backoff, header_u64, read_answer, Fault};

impl Client {
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
        let mut rate_waited = Duration::ZERO;
        let answer = loop {
            let sent = self
                .inner
                .http
                .post(self.url("/oauth/token"))
                .form(&form)
                .send()
                .await;
            match read_answer(sent, None).await {
                Ok(a) if a.status == 429 && rate_waited < self.inner.options.rate_wait_total => {
                    // Over the quota: the token was not issued; wait as the service says.
                    rate_waits += 1;
                    self.inner.stats.rate_waits.fetch_add(1, Ordering::Relaxed);
                    let wait = header_u64(&a.headers, "x-ratelimit-reset")
                        .map(Duration::from_millis)
                        .unwrap_or_else(|| backoff(&self.inner.options, rate_waits))
                        .min(self.inner.options.max_rate_wait);
                    rate_waited += wait;
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

//! API 1.0 region discovery: which regional base URL serves an account.
//!
//! Policy: one unauthenticated `POST /api/login/discover-authentication` with the
//! administrator's address, answered with the region's base URL in `data[0].region.api`
//! (docs/mimecast-api.md §1.2). The answer is checked like any base URL (https, or loopback http);
//! anything else is an error naming what came back.

use std::time::Duration;

use serde_json::{json, Value};

use super::envelope;
use super::error::ApiError;
use super::transport::check_base_url;

/// The discovery endpoint, on the global (or `MCSH_DISCOVERY_URL`) address.
pub const DISCOVER_PATH: &str = "/api/login/discover-authentication";

/// The base URL of the region that serves `email`'s account, asked of `discovery_base`.
pub async fn region_base_url(
    discovery_base: &str,
    email: &str,
    timeout: Duration,
) -> Result<String, ApiError> {
    let base = check_base_url(discovery_base)?;
    let url = format!("{base}{DISCOVER_PATH}");
    let mut builder = reqwest::Client::builder();
    if base.starts_with("http://") {
        // Loopback only (check_base_url): never through a proxy elsewhere, in clear text.
        builder = builder.no_proxy();
    }
    let http = builder
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .user_agent(concat!("mcsh/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| ApiError::Config(format!("cannot build the HTTP client: {e}")))?;
    let sent = http
        .post(&url)
        .json(&json!({ "data": [{ "emailAddress": email }] }))
        .send()
        .await
        .map_err(|e| ApiError::Transport {
            path: DISCOVER_PATH.into(),
            url: url.clone(),
            detail: super::transport::NoAnswer::of(&e).detail,
        })?;
    let status = sent.status().as_u16();
    if let Some(e) = super::transport::refuse_redirect(DISCOVER_PATH, status, sent.headers()) {
        return Err(e);
    }
    let body = sent.bytes().await.map_err(|e| ApiError::Transport {
        path: DISCOVER_PATH.into(),
        url: url.clone(),
        detail: super::transport::NoAnswer::of(&e).detail,
    })?;
    if status != 200 {
        let (code, message) = envelope::error_summary(&body);
        return Err(ApiError::Status {
            path: DISCOVER_PATH.into(),
            status,
            code,
            message,
            request_id: None,
        });
    }
    let resp = envelope::decode(&body).map_err(|e| ApiError::Decode {
        path: DISCOVER_PATH.into(),
        status,
        detail: e.0,
    })?;
    if !resp.fail.is_empty() {
        return Err(ApiError::Failed {
            path: DISCOVER_PATH.into(),
            status,
            failures: resp.fail,
        });
    }
    let api = resp
        .data
        .first()
        .and_then(|d| d.get("region"))
        .and_then(|r| r.get("api"))
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::Decode {
            path: DISCOVER_PATH.into(),
            status,
            detail: format!(
                "no region for {email} in the answer (data[0].region.api is missing); set \
                 MIMECAST_BASE_URL to your region's base URL instead"
            ),
        })?;
    check_base_url(api)
}

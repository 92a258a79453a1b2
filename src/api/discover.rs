//! API 1.0 region discovery: which regional base URL serves an account.
//!
//! Policy: one unauthenticated `POST /api/login/discover-authentication` with the
//! administrator's address, answered with the region's base URL in `data[0].region.api`
//! (docs/mimecast-api.md §1.2). The answer is checked like any base URL (https, or loopback http),
//! and its host must be Mimecast's (`mimecast.com` or below it) or the discovery address's own
//! (a sandbox names itself): the URL is saved in the profile and every later request, signed
//! with the keys, goes there. Anything else is an error naming what came back.

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
    let found = check_base_url(api)?;
    if !may_serve(&found, &base) {
        // From outside: shown masked and cut (a line break was refused with the URL).
        let shown: String = crate::redact::redact(&found).chars().take(120).collect();
        return Err(ApiError::Config(format!(
            "region discovery at {base} named {shown:?} as the region of {email}, which is not a \
             Mimecast host (*.mimecast.com): nothing was sent there, nor saved; set \
             MIMECAST_BASE_URL (or base_url in the profile) to your region's base URL"
        )));
    }
    Ok(found)
}

/// Whether a base URL discovery named, `found`, may serve the account: its host is Mimecast's
/// (`mimecast.com` or a name below it), or the host and port discovery was asked of (`asked`).
fn may_serve(found: &str, asked: &str) -> bool {
    let place = |u: &str| {
        let u = reqwest::Url::parse(u).ok()?;
        Some((
            u.host_str()?.to_ascii_lowercase(),
            u.port_or_known_default(),
        ))
    };
    let Some((host, port)) = place(found) else {
        return false;
    };
    host == "mimecast.com" || host.ends_with(".mimecast.com") || place(asked) == Some((host, port))
}

#[cfg(test)]
mod tests {
    use super::may_serve;

    #[test]
    fn only_mimecast_hosts_or_the_discovery_host_itself_may_serve() {
        let asked = "https://api.mimecast.com";
        assert!(may_serve("https://eu-api.mimecast.com", asked));
        assert!(may_serve("https://US-API.Mimecast.com", asked));
        assert!(may_serve("https://mimecast.com", asked));
        assert!(!may_serve(
            "https://eu-api.mimecast.com.evil.example",
            asked
        ));
        assert!(!may_serve("https://evilmimecast.com", asked));
        assert!(!may_serve("https://eu-api.example.com", asked));
        // A sandbox (or a test server) answers with itself: its host and its port, since
        // another port of the host is another service.
        assert!(may_serve("http://127.0.0.1:4000", "http://127.0.0.1:4000"));
        assert!(!may_serve("http://127.0.0.1:4000", asked));
        assert!(!may_serve("http://127.0.0.1:4001", "http://127.0.0.1:4000"));
        assert!(may_serve("https://localhost", "https://localhost:443"));
    }
}

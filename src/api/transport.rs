//! One HTTP exchange's raw material: answers, lost answers, bounded body reads, and the
//! errors made from them. No policy about retrying lives here.

use reqwest::header::HeaderMap;

use super::auth::Auth;
use super::envelope;
use super::error::ApiError;

/// Largest response body the client reads (a page of 500 users is about 100 KiB).
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// An answer as it came off the wire.
pub(super) struct Answer {
    pub(super) status: u16,
    pub(super) headers: HeaderMap,
    pub(super) body: Vec<u8>,
    pub(super) request_id: Option<String>,
}

/// Why an exchange produced no answer to interpret.
pub(super) enum Fault {
    /// Nothing usable came back; maybe worth another try.
    Lost(NoAnswer),
    /// The exchange cannot succeed as it is (e.g. the token endpoint refused the credentials).
    Refused(ApiError),
}

/// A 3xx answer, refused: Mimecast does not redirect its API, and following one would carry
/// the request (the token form holds the client secret; writes hold data) to wherever the
/// answer points. The error names where it pointed, so the admin can fix `base_url`.
pub(super) fn refuse_redirect(
    path: &str,
    status: u16,
    headers: &reqwest::header::HeaderMap,
) -> Option<ApiError> {
    if !(300..400).contains(&status) {
        return None;
    }
    let location = headers
        .get(reqwest::header::LOCATION)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).to_string())
        .unwrap_or_else(|| "nowhere it said".into());
    // Redacted before it is cut or escaped: either would hide a secret from the redaction.
    let location = crate::redact::redact(&location).into_owned();
    let location: String = location
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    Some(ApiError::Config(format!(
        "{path} answered HTTP {status}, a redirect to {location:?}: mcsh follows no redirect (Mimecast does not redirect its API, and a redirect could carry your credentials elsewhere), so nothing was sent there; check base_url"
    )))
}

impl From<NoAnswer> for Fault {
    fn from(e: NoAnswer) -> Self {
        Fault::Lost(e)
    }
}

/// A request that got no answer.
pub(super) struct NoAnswer {
    pub(super) never_sent: bool,
    pub(super) timed_out: bool,
    pub(super) detail: String,
    /// Set when no retry can help: the name does not resolve, the certificate or TLS
    /// handshake failed, or a host other than this machine refused the connection.
    pub(super) hopeless: bool,
}

impl NoAnswer {
    /// What `e` says, classified: see [`Loss`].
    pub(super) fn of(e: &reqwest::Error) -> NoAnswer {
        let loss = Loss::of(e);
        NoAnswer {
            never_sent: e.is_connect(),
            timed_out: e.is_timeout(),
            hopeless: loss.is_some(),
            detail: match loss {
                Some(loss) => format!(
                    "{}{} ({})",
                    loss.what_to_check(),
                    proxy_note(),
                    transport_detail(e)
                ),
                None => transport_detail(e),
            },
        }
    }
}

/// When a proxy is set in the environment (reqwest uses it), the failure may be the proxy's:
/// said without its value, which may hold a password.
fn proxy_note() -> String {
    let set: Vec<&str> = [
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
        "HTTP_PROXY",
        "http_proxy",
    ]
    .into_iter()
    .filter(|v| std::env::var(v).is_ok_and(|x| !x.trim().is_empty()))
    .collect();
    match set.first() {
        Some(var) => format!(
            "; {var} is set, so the request went through that proxy: the proxy itself may be \
             what failed, check it too"
        ),
        None => String::new(),
    }
}

/// What the HTTP client says of an answer that is not HTTP (its parse errors, lowercased).
const NOT_HTTP: &[&str] = &[
    "invalid http version parsed",
    "invalid http status-code parsed",
    "invalid http header parsed",
    "invalid http method parsed",
    "message head is too large",
    "invalid content-length parsed",
    "invalid transfer-encoding parsed",
];

/// A failure to reach the host that another try cannot mend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Loss {
    /// The host name does not resolve.
    Name,
    /// TLS failed: an untrusted or wrong certificate, or a host that does not speak TLS.
    Tls,
    /// A host other than this machine refused the connection: nothing listens there.
    Refused,
    /// The host answered, but not in HTTP: another protocol listens on that port (or TLS,
    /// asked for in plain http). It says the same on every try.
    NotHttp,
}

impl Loss {
    /// The loss `e` is, if any. A refused connection to this machine is not one: the
    /// sandbox or a local proxy may be starting.
    pub(super) fn of(e: &reqwest::Error) -> Option<Loss> {
        if e.is_timeout() {
            return None;
        }
        let mut source: Option<&dyn std::error::Error> = Some(e);
        let mut texts = String::new();
        let mut refused = false;
        while let Some(s) = source {
            if let Some(io) = s.downcast_ref::<std::io::Error>() {
                refused |= io.kind() == std::io::ErrorKind::ConnectionRefused;
            }
            texts.push_str(&s.to_string().to_ascii_lowercase());
            texts.push('\n');
            source = s.source();
        }
        let local = e.url().and_then(|u| u.host_str()).is_some_and(|h| {
            let h = h.trim_start_matches('[').trim_end_matches(']');
            h.eq_ignore_ascii_case("localhost")
                || h.parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        });
        if texts.contains("dns error") || texts.contains("failed to lookup address") {
            Some(Loss::Name)
        } else if texts.contains("certificate")
            || texts.contains("tls handshake")
            || texts.contains("peer is incompatible")
            || texts.contains("received corrupt message")
            || texts.contains("invalid content type")
        {
            Some(Loss::Tls)
        } else if NOT_HTTP.iter().any(|t| texts.contains(t)) {
            Some(Loss::NotHttp)
        } else if refused && !local {
            Some(Loss::Refused)
        } else {
            None
        }
    }

    /// What the admin should check.
    pub(super) fn what_to_check(self) -> &'static str {
        match self {
            Loss::Name => "the host name does not resolve: check base_url (API 2.0 is https://api.services.mimecast.com, or the uk-api./us-api. host of your region) and this machine's DNS",
            Loss::Tls => "TLS failed: the host's certificate is not trusted or it does not speak https; check base_url, and any proxy that intercepts TLS (its CA goes in SSL_CERT_FILE)",
            Loss::Refused => "the host refused the connection: nothing listens at that address and port; check base_url",
            Loss::NotHttp => "the host answered, but not in HTTP: something other than the Mimecast API listens at that address and port (or it expects https); check base_url",
        }
    }
}

pub(super) async fn read_answer(
    sent: Result<reqwest::Response, reqwest::Error>,
    request_id: Option<String>,
) -> Result<Answer, NoAnswer> {
    let mut resp = sent.map_err(|e| NoAnswer::of(&e))?;
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
                        hopeless: false,
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
                    hopeless: false,
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
pub(super) fn transport_detail(e: &reqwest::Error) -> String {
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

pub(super) fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

pub(super) fn status_error(path: &str, answer: &Answer) -> ApiError {
    let (code, message) = envelope::error_summary(&answer.body);
    ApiError::Status {
        path: path.to_string(),
        status: answer.status,
        code,
        message,
        request_id: gateway_request_id(&answer.headers),
    }
}

/// The `x-request-id` the API 2.0 gateway puts on its own answers, on one line and cut: it
/// comes from outside, and Mimecast support asks for it.
pub(super) fn gateway_request_id(headers: &HeaderMap) -> Option<String> {
    let raw = headers.get("x-request-id")?;
    // Masked whole before it is cut: a secret echoed in it is not shown in part.
    let text = crate::redact::redact(&String::from_utf8_lossy(raw.as_bytes())).into_owned();
    let text: String = text
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(80)
        .collect();
    (!text.is_empty()).then_some(text)
}

pub(super) fn auth_error(
    status: u16,
    code: Option<String>,
    message: Option<String>,
    auth: &Auth,
) -> ApiError {
    let code = code.unwrap_or_else(|| format!("http_{status}"));
    let scheme = match auth {
        Auth::OAuth { .. } => {
            "the client id and secret (MIMECAST_CLIENT_ID / MIMECAST_CLIENT_SECRET, or client_id \
             / client_secret in the profile)"
        }
        Auth::Hmac { .. } => {
            "the four keys (MIMECAST_ACCESS_KEY / MIMECAST_SECRET_KEY / MIMECAST_APP_ID / \
             MIMECAST_APP_KEY, or access_key / secret_key / app_id / app_key in the profile)"
        }
    };
    let said = message.map(|m| format!(" ({m})")).unwrap_or_default();
    let message = match (status, code.as_str()) {
        (418, _) | (_, "err_xdk_binding_expired") => format!(
            "the access key has expired (Mimecast {code}); create new API 1.0 keys in the Mimecast \
             administration console, or move to API 2.0 client credentials"
        ),
        (_, "err_developer_key") => {
            let app = match auth {
                Auth::Hmac { app_id, .. } => format!("App ID {app_id:?}"),
                Auth::OAuth { .. } => "application".to_string(),
            };
            format!(
                "Mimecast refused the {app} (err_developer_key){said}; check MIMECAST_APP_ID \
                 (app_id in the profile) against the Application ID in the Mimecast \
                 administration console"
            )
        }
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

pub(super) fn check_base_url(base_url: &str) -> Result<String, ApiError> {
    let trimmed = base_url.trim().trim_end_matches('/');
    if trimmed.chars().any(char::is_control) {
        // A line break would be dropped by the URL's parser yet kept in what is printed and
        // saved: refused before either.
        return Err(ApiError::Config(format!(
            "base URL {:?} holds a line break or another control character; give the URL alone",
            crate::redact::redact(trimmed)
        )));
    }
    let url = reqwest::Url::parse(trimmed).map_err(|e| {
        ApiError::Config(format!(
            "base URL {:?} is not a URL: {e}",
            crate::redact::redact(trimmed)
        ))
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        // Mimecast's base URLs hold no user or password; one here would be printed and sent.
        if let Some(p) = url.password() {
            crate::redact::register(p);
        }
        return Err(ApiError::Config(
            "the base URL holds a user name or password (https://user:pass@host): Mimecast's base URLs hold neither; give the credentials as client id and secret, and the URL without them".into(),
        ));
    }
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
    if url.query().is_some() || url.fragment().is_some() {
        return Err(ApiError::Config(format!(
            "base URL {trimmed:?} must not carry a query or fragment (`?…`, `#…`); use e.g. https://api.services.mimecast.com"
        )));
    }
    if url.path() != "/" && !url.path().is_empty() {
        return Err(ApiError::Config(format!(
            "base URL {trimmed:?} must not carry a path; use e.g. https://api.services.mimecast.com"
        )));
    }
    Ok(trimmed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_echoed_in_the_request_id_is_masked_before_it_is_cut() {
        let token = "tok-ABCDEFGHIJKLMNOP-0123456789";
        crate::redact::register(token);
        let mut headers = HeaderMap::new();
        let id = format!("{}{token}", "r".repeat(70));
        headers.insert("x-request-id", id.parse().unwrap());
        let shown = gateway_request_id(&headers).unwrap();
        assert!(!shown.contains("tok-"), "{shown}");
        assert_eq!(shown, format!("{}****", "r".repeat(70)));
    }
}

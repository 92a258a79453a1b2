//! Errors of the API layer: what went wrong talking to Mimecast, never how to print it.
//!
//! Policy: every error keeps the endpoint path and, where the service gave one, the Mimecast
//! error code, so that the CLI can choose an exit code and scripts can branch on `code`.
//! Messages are lower case and name what the user can do next.

use serde_json::Value;

/// One failed item of a request, as the envelope's `fail[]` reports it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Failure {
    /// The request item that failed (the envelope's `key`), when the service echoed it.
    pub key: Option<Value>,
    /// The Mimecast error code, e.g. `err_folder_group_member_already_exists`.
    pub code: String,
    /// The service's message for the code.
    pub message: String,
    /// Whether the service says the same item may succeed if sent again.
    pub retryable: bool,
    /// The request field a validation error is about.
    pub field: Option<String>,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Mimecast {}: {}", self.code, self.message)?;
        if let Some(field) = &self.field {
            write!(f, " (field {field})")?;
        }
        Ok(())
    }
}

/// Everything that can go wrong with one API call.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request never got an answer: connection refused, reset, DNS, TLS.
    #[error("cannot reach Mimecast at {url}: {detail}")]
    Transport {
        /// The endpoint path.
        path: String,
        /// The URL that was tried (no credentials are ever part of it).
        url: String,
        /// What the transport said.
        detail: String,
    },
    /// The service did not answer within the request timeout.
    #[error("{path}: no answer within {seconds} s; a host that takes the connection and never answers is most often the wrong address or a proxy in the way: check base_url and the network; if Mimecast is only slow, raise MCSH_TIMEOUT or `timeout` in the profile")]
    Timeout {
        /// The endpoint path.
        path: String,
        /// The timeout that ran out.
        seconds: u64,
    },
    /// The credentials were refused (HTTP 401, 403 or 418).
    #[error("{message}")]
    Auth {
        /// HTTP status of the refusal.
        status: u16,
        /// Mimecast's code, e.g. `err_xdk_invalid_signature`.
        code: String,
        /// What happened and what to do.
        message: String,
    },
    /// HTTP 200 (or another status) whose body lists failed items, or whose `meta.status` is
    /// not 200.
    #[error("{}", failed_message(.failures))]
    Failed {
        /// The endpoint path.
        path: String,
        /// HTTP status (or `meta.status` when that is what failed).
        status: u16,
        /// Every failed item.
        failures: Vec<Failure>,
    },
    /// An HTTP status other than 200 that is not about credentials.
    #[error("{path}: HTTP {status}{}{}", code_suffix(.code, .message), request_suffix(.request_id))]
    Status {
        /// The endpoint path.
        path: String,
        /// HTTP status.
        status: u16,
        /// Mimecast's error code, when the body had one (the API 2.0 gateway's own answers
        /// carry it as `fail[].code` without `errors[]`, e.g. `internal-error`).
        code: Option<String>,
        /// The body's message, when it had one.
        message: Option<String>,
        /// The `x-request-id` the gateway answered with: what Mimecast support asks for.
        request_id: Option<String>,
    },
    /// The quota stayed exhausted through every permitted wait.
    #[error("{path}: rate limit still exceeded after waiting out {attempts} refusals{}; the quota is not coming back: try again later or lower --concurrency", detail_suffix(.detail))]
    RateLimited {
        /// The endpoint path.
        path: String,
        /// How many 429s were waited out.
        attempts: u32,
        /// What the last refusal said (the gateway's `detail`, e.g. "Over throttling limit
        /// (10000/hour)").
        detail: Option<String>,
    },
    /// The answer was not a Mimecast envelope.
    #[error("{path}: the server's answer (HTTP {status}) is not a Mimecast response: {detail}")]
    Decode {
        /// The endpoint path.
        path: String,
        /// HTTP status.
        status: u16,
        /// What was wrong, with a short excerpt of the body.
        detail: String,
    },
    /// The service handed out a page token it had handed out before.
    #[error(
        "{path}: the server repeated page token {token:?}; stopping instead of looping forever"
    )]
    PageLoop {
        /// The endpoint path.
        path: String,
        /// The token seen twice (page tokens are not secrets).
        token: String,
    },
    /// A listing that would not end: more rows than its own total, pages with nothing on
    /// them, or more pages than any tenant has.
    #[error("{path}: {detail}; stopping instead of reading forever")]
    Runaway {
        /// The endpoint path.
        path: String,
        /// What gave it away.
        detail: String,
    },
    /// The client itself is misconfigured (bad base URL, bad secret key encoding).
    #[error("{0}")]
    Config(String),
    /// Not sent: the run was told to stop ([`super::Stop`]).
    #[error("{path} was not sent: the run was stopped (Ctrl-C, or a signal to end)")]
    Stopped {
        /// The endpoint path.
        path: String,
    },
}

fn failed_message(failures: &[Failure]) -> String {
    match failures {
        [] => "Mimecast reported a failure without details".to_string(),
        [one] => one.to_string(),
        [first, rest @ ..] => format!("{first} (and {} more failed items)", rest.len()),
    }
}

fn request_suffix(request_id: &Option<String>) -> String {
    match request_id {
        Some(id) => format!(" (x-request-id {id})"),
        None => String::new(),
    }
}

fn detail_suffix(detail: &Option<String>) -> String {
    match detail {
        Some(d) => format!(" (the service said: {d})"),
        None => String::new(),
    }
}

fn code_suffix(code: &Option<String>, message: &Option<String>) -> String {
    match (code, message) {
        (Some(c), Some(m)) => format!(": Mimecast {c}: {m}"),
        (Some(c), None) => format!(": Mimecast {c}"),
        (None, Some(m)) => format!(": {m}"),
        (None, None) => String::new(),
    }
}

impl ApiError {
    /// The Mimecast error code, or a short name of the error's kind.
    pub fn code(&self) -> String {
        match self {
            ApiError::Transport { .. } => "transport".into(),
            ApiError::Timeout { .. } => "timeout".into(),
            ApiError::Auth { code, .. } => code.clone(),
            ApiError::Failed { failures, .. } => failures
                .first()
                .map(|f| f.code.clone())
                .unwrap_or_else(|| "failed".into()),
            ApiError::Status { code, status, .. } => {
                code.clone().unwrap_or_else(|| format!("http_{status}"))
            }
            ApiError::RateLimited { .. } => "rate_limited".into(),
            ApiError::Decode { .. } => "bad_response".into(),
            ApiError::PageLoop { .. } | ApiError::Runaway { .. } => "page_loop".into(),
            ApiError::Config(_) => "config".into(),
            ApiError::Stopped { .. } => "interrupted".into(),
        }
    }

    /// The HTTP status involved, 0 when there was no answer.
    pub fn status(&self) -> u16 {
        match self {
            ApiError::Auth { status, .. }
            | ApiError::Failed { status, .. }
            | ApiError::Status { status, .. }
            | ApiError::Decode { status, .. } => *status,
            ApiError::RateLimited { .. } => 429,
            _ => 0,
        }
    }

    /// Whether the same call may succeed later without any change.
    pub fn retryable(&self) -> bool {
        match self {
            ApiError::Transport { .. }
            | ApiError::Timeout { .. }
            | ApiError::RateLimited { .. } => true,
            ApiError::Status { status, .. } => *status >= 500,
            ApiError::Failed { failures, .. } => {
                !failures.is_empty() && failures.iter().all(|f| f.retryable)
            }
            _ => false,
        }
    }

    /// Whether the call was not sent because the run was told to stop.
    pub fn is_stopped(&self) -> bool {
        matches!(self, ApiError::Stopped { .. })
    }

    /// Whether the credentials or configuration are at fault (exit code 4).
    pub fn is_auth(&self) -> bool {
        matches!(self, ApiError::Auth { .. } | ApiError::Config(_))
    }

    /// The failed items, when the error is about items.
    pub fn failures(&self) -> &[Failure] {
        match self {
            ApiError::Failed { failures, .. } => failures,
            _ => &[],
        }
    }
}

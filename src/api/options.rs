//! How a client behaves: timeouts, retries, backoff and rate waits. `Default` holds the
//! production values; tests shorten them.

use std::time::Duration;

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
    /// How long one call may spend waiting out 429s in all before giving up. The budget paces
    /// requests to the quota's refill, so 429s are rare; this bounds a quota that never
    /// comes back.
    pub rate_wait_total: Duration,
    /// Longest single wait for the quota, whatever `X-RateLimit-Reset` says.
    pub max_rate_wait: Duration,
    /// What tells the client to send nothing more ([`super::Stop`]); a fresh one by default.
    pub stop: super::Stop,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            timeout: Duration::from_secs(30),
            read_retries: 4,
            backoff_base: Duration::from_millis(200),
            backoff_max: Duration::from_secs(5),
            rate_wait_total: Duration::from_secs(15 * 60),
            max_rate_wait: Duration::from_secs(60),
            stop: super::Stop::default(),
        }
    }
}

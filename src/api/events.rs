//! What the client reports while it works, for whoever wants to show it.
//!
//! Policy: the API layer never prints. It hands [`Event`]s to an observer the caller installs;
//! the CLI shows them at `-v`/`-vv`/`-vvv`. Events carry paths, statuses, waits and request
//! ids, never a credential or a token.

use std::sync::Arc;
use std::time::Duration;

/// One thing worth telling about a call.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A request got an answer.
    Response {
        /// The endpoint path.
        path: String,
        /// HTTP status.
        status: u16,
        /// How long the exchange took.
        elapsed: Duration,
        /// The `x-mc-req-id` sent (API 1.0), for matching with Mimecast's logs.
        request_id: Option<String>,
        /// `X-RateLimit-Remaining` of the answer.
        remaining: Option<u64>,
    },
    /// A call is being repeated after a transient failure.
    Retry {
        /// The endpoint path.
        path: String,
        /// The attempt about to be made (2 for the first retry).
        attempt: u32,
        /// Why: "HTTP 503", "connection reset", ...
        reason: String,
        /// The pause before it.
        wait: Duration,
    },
    /// A request got no answer within the timeout and is being tried once more.
    TimedOut {
        /// The endpoint path.
        path: String,
        /// The timeout that ran out.
        after: Duration,
        /// The longest the next try can take (its pause and its own timeout).
        within: Duration,
        /// The try about to be made (2 for the first retry).
        attempt: u32,
        /// How many tries the call has in all.
        tries: u32,
    },
    /// The quota ran out (HTTP 429); the call waits as `X-RateLimit-Reset` says.
    RateLimited {
        /// The endpoint path.
        path: String,
        /// The pause before trying again.
        wait: Duration,
    },
    /// The shared budget says the quota is used up: requests wait for it to renew.
    Paced {
        /// The endpoint path that waits.
        path: String,
        /// How long.
        wait: Duration,
    },
    /// A new API 2.0 token was obtained.
    TokenIssued {
        /// Its lifetime as the service stated it.
        expires_in: u64,
    },
}

/// Receives events; must be cheap and must not block.
pub type Observer = Arc<dyn Fn(&Event) + Send + Sync>;

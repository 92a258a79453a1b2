//! How long to wait before trying again. One backoff for every transient failure (the
//! client's reads, and the executor's resent batches through `Client::backoff`), and one
//! rule for a 429 (wait what the service says, bounded), for API calls and token fetches alike.

use std::time::Duration;

use rand::RngExt;
use reqwest::header::HeaderMap;

use super::options::ClientOptions;
use super::transport::header_u64;

/// The wait before try `attempt + 1`: exponential from `backoff_base`, capped at
/// `backoff_max`, with jitter over its upper half.
pub(super) fn backoff(opts: &ClientOptions, attempt: u32) -> Duration {
    let ceiling = opts
        .backoff_base
        .saturating_mul(1u32 << attempt.min(16))
        .min(opts.backoff_max);
    let ms = ceiling.as_millis() as u64;
    Duration::from_millis(rand::rng().random_range(ms / 2..=ms.max(1)))
}

/// Most 429 answers one call waits out, whatever their waits add up to.
pub const MAX_429_ANSWERS: u32 = 30;

/// The 429s one call has waited out so far.
#[derive(Debug, Default)]
pub(super) struct RateWaits {
    count: u32,
    waited: Duration,
}

impl RateWaits {
    /// How long to wait after a 429 that came with `headers`: `X-RateLimit-Reset`, or the
    /// backoff when it is absent, never above `max_rate_wait`. `None` when the call would wait
    /// more than `rate_wait_total` in all.
    pub(super) fn next(&mut self, headers: &HeaderMap, opts: &ClientOptions) -> Option<Duration> {
        self.count += 1;
        // Counted as well as timed: a server answering 429 with a reset of 0 would never
        // reach the time cap.
        if self.count > MAX_429_ANSWERS {
            return None;
        }
        let wait = header_u64(headers, "x-ratelimit-reset")
            .map(Duration::from_millis)
            .unwrap_or_else(|| backoff(opts, self.count))
            .min(opts.max_rate_wait);
        if self.waited + wait > opts.rate_wait_total {
            return None;
        }
        self.waited += wait;
        Some(wait)
    }

    /// The 429s waited out.
    pub(super) fn waited_out(&self) -> u32 {
        self.count.saturating_sub(1)
    }
}

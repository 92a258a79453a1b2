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

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn opts() -> ClientOptions {
        ClientOptions {
            backoff_base: Duration::from_millis(100),
            backoff_max: Duration::from_secs(10),
            ..ClientOptions::default()
        }
    }

    #[test]
    fn the_backoff_doubles_from_its_base_up_to_its_cap_with_jitter_over_the_upper_half() {
        let o = opts();
        for _ in 0..50 {
            let ms = |attempt| backoff(&o, attempt).as_millis();
            assert!((50..=100).contains(&ms(0)), "{}", ms(0));
            assert!((400..=800).contains(&ms(3)), "{}", ms(3));
            assert!((5_000..=10_000).contains(&ms(20)), "capped: {}", ms(20));
        }
    }

    #[test]
    fn the_client_resends_after_its_own_backoff() {
        // A secret no other test's text contains: a client's secret is masked process-wide.
        let creds = crate::api::Credentials::OAuth {
            client_id: "id".into(),
            client_secret: crate::api::Secret::new(String::from("retry-test-7c1e9b42d5")),
        };
        let client = crate::api::Client::new("http://127.0.0.1:9", creds, opts(), None).unwrap();
        for _ in 0..20 {
            let ms = client.backoff(1).as_millis();
            assert!((100..=200).contains(&ms), "{ms}");
        }
    }

    #[test]
    fn a_call_waits_out_what_each_429_says_up_to_thirty_answers() {
        let o = opts();
        let mut headers = HeaderMap::new();
        headers.insert("x-ratelimit-reset", HeaderValue::from_static("250"));
        let mut waits = RateWaits::default();
        assert_eq!(waits.next(&headers, &o), Some(Duration::from_millis(250)));
        assert_eq!(waits.waited_out(), 0);
        headers.insert("x-ratelimit-reset", HeaderValue::from_static("0"));
        for n in 2..=MAX_429_ANSWERS {
            assert_eq!(waits.next(&headers, &o), Some(Duration::ZERO), "answer {n}");
        }
        assert_eq!(waits.next(&headers, &o), None, "the 31st is not waited out");
        assert_eq!(waits.waited_out(), MAX_429_ANSWERS);
        let mut long = RateWaits::default();
        headers.insert("x-ratelimit-reset", HeaderValue::from_static("3600000"));
        assert_eq!(
            long.next(&headers, &o),
            Some(o.max_rate_wait),
            "one wait is capped"
        );
        let tight = ClientOptions {
            rate_wait_total: Duration::from_secs(90),
            ..o.clone()
        };
        let mut total = RateWaits::default();
        assert_eq!(total.next(&headers, &tight), Some(tight.max_rate_wait));
        assert_eq!(
            total.next(&headers, &tight),
            None,
            "60 s + 60 s > 90 s in all"
        );
    }
}

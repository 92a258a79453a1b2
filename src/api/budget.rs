//! The shared rate budget: requests pause before the quota is used up, not after.
//!
//! Policy: Mimecast's quota is a bucket of `X-RateLimit-Limit` requests that refills a little
//! at a time: `X-RateLimit-Reset` is the time for one request to be added back, and at least
//! one is added back each interval (docs/mimecast-api.md §3, revised). It never refills in full.
//! The budget models exactly that:
//! - every request takes one from what the bucket is believed to hold; at zero, requests wait
//!   for the next refill instead of being sent into a 429;
//! - the newest answer (in the order requests were sent) says what the bucket holds, less
//!   every request still in flight (any of them may reach the service after that answer was
//!   made); an older answer never raises the count;
//! - the refill interval is the longest `Reset` seen, and how many requests come back per
//!   interval is learned from how `Remaining` grows (at least one, as documented).

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;

use super::transport::header_u64;

/// The last rate-limit headers seen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateSnapshot {
    /// `X-RateLimit-Limit`.
    pub limit: Option<u64>,
    /// `X-RateLimit-Remaining`.
    pub remaining: Option<u64>,
    /// `X-RateLimit-Reset`, milliseconds.
    pub reset_ms: Option<u64>,
}

/// What the client believes about the service's rate-limit bucket.
#[derive(Debug)]
struct Budget {
    /// The bucket's size (`X-RateLimit-Limit`).
    limit: Option<u64>,
    /// Requests the bucket is believed to hold now; below zero while requests are in flight
    /// beyond it. `None` until an answer has said anything.
    tokens: Option<f64>,
    /// When the next request is expected to be added back.
    next_at: Option<Instant>,
    /// The refill interval: the longest `Reset` seen.
    interval: Option<Duration>,
    /// Requests added back per interval, learned; at least one.
    per_interval: f64,
    /// Sequence numbers of requests sent and not yet answered.
    in_flight: BTreeSet<u64>,
    next_seq: u64,
    /// The newest answer by send order: its sequence number, when it came and `Remaining`.
    newest: Option<(u64, Instant, u64)>,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            limit: None,
            tokens: None,
            next_at: None,
            interval: None,
            per_interval: 1.0,
            in_flight: BTreeSet::new(),
            next_seq: 0,
            newest: None,
        }
    }
}

impl Budget {
    /// Adds back what the bucket gained since the last look.
    fn refill(&mut self, now: Instant) {
        let (Some(tokens), Some(at)) = (self.tokens, self.next_at) else {
            return;
        };
        if now < at {
            return;
        }
        let Some(iv) = self.interval.filter(|iv| !iv.is_zero()) else {
            // Without an interval (a 429 that said only when to come back) nothing more is
            // known: the wait is over, one request may go and its answer will tell.
            self.tokens = Some(tokens.max(1.0));
            self.next_at = None;
            return;
        };
        let intervals = ((now - at).as_secs_f64() / iv.as_secs_f64()).floor() + 1.0;
        let cap = self.limit.map_or(f64::MAX, |l| l as f64);
        self.tokens = Some((tokens + intervals * self.per_interval).min(cap));
        self.next_at = Some(at + iv.mul_f64(intervals));
    }

    /// Takes one request from the bucket and returns its ticket, or how long to wait first.
    fn take(&mut self, now: Instant, max_wait: Duration) -> Result<u64, Duration> {
        self.refill(now);
        match self.tokens {
            Some(t) if t < 1.0 => match self.next_at {
                Some(at) if at > now => Err((at - now).clamp(Duration::from_millis(1), max_wait)),
                // Nothing says when the bucket refills: send, and learn from the answer.
                _ => {
                    self.tokens = None;
                    self.take(now, max_wait)
                }
            },
            tokens => {
                self.tokens = tokens.map(|t| t - 1.0);
                let seq = self.next_seq;
                self.next_seq += 1;
                self.in_flight.insert(seq);
                Ok(seq)
            }
        }
    }

    /// Learns from the rate-limit headers of the answer to request `seq`.
    fn observe(&mut self, seq: u64, snap: RateSnapshot, now: Instant) {
        self.in_flight.remove(&seq);
        self.limit = snap.limit.or(self.limit);
        let (Some(remaining), Some(reset_ms)) = (snap.remaining, snap.reset_ms) else {
            return;
        };
        let reset = Duration::from_millis(reset_ms.max(1));
        self.interval = Some(self.interval.map_or(reset, |iv| iv.max(reset)));
        if self.newest.is_some_and(|(newest, _, _)| seq < newest) {
            // Older than what we already know: it cannot raise the count.
            return;
        }
        self.learn_refill(seq, remaining, now);
        // Every request still in flight may reach the service after this answer left it, an
        // earlier-sent one too (concurrent requests overtake each other): none of them is in
        // `remaining` yet, so all are taken from it.
        let in_flight = self.in_flight.len() as f64;
        self.tokens = Some(remaining as f64 - in_flight);
        self.next_at = Some(now + reset);
        self.newest = Some((seq, now, remaining));
    }

    /// Requests added back per interval, from how `Remaining` grew between two answers while
    /// the bucket was far from full (a full bucket hides growth).
    fn learn_refill(&mut self, seq: u64, remaining: u64, now: Instant) {
        let (Some((seq0, t0, r0)), Some(iv), Some(limit)) =
            (self.newest, self.interval, self.limit)
        else {
            return;
        };
        let elapsed = now.saturating_duration_since(t0);
        if elapsed < iv * 2 || remaining * 2 > limit || r0 * 2 > limit {
            return;
        }
        let consumed = (seq - seq0) as f64;
        let added = remaining as f64 + consumed - r0 as f64;
        let intervals = elapsed.as_secs_f64() / iv.as_secs_f64();
        if added > 0.0 {
            self.per_interval = (added / intervals).clamp(1.0, limit as f64);
        }
    }

    /// A 429: the bucket is empty until `wait` has passed.
    fn throttled(&mut self, wait: Duration, now: Instant) {
        self.tokens = Some(self.tokens.unwrap_or(0.0).min(0.0));
        let until = now + wait;
        self.next_at = Some(self.next_at.map_or(until, |at| at.max(until)));
    }
}

/// The budget as the client shares it between concurrent requests, with the latest rate-limit
/// headers seen.
#[derive(Debug, Default)]
pub(super) struct RateBudget {
    state: Mutex<Budget>,
    latest: Mutex<RateSnapshot>,
}

impl RateBudget {
    /// Waits while the budget says the bucket is empty (calling `on_pause` with each wait), then
    /// takes one request from it. Returns the request's ticket for [`RateBudget::note_rate`].
    pub(super) async fn pace(&self, max_wait: Duration, on_pause: impl Fn(Duration)) -> u64 {
        loop {
            let taken = self.lock().take(Instant::now(), max_wait);
            match taken {
                Ok(seq) => return seq,
                Err(wait) => {
                    on_pause(wait);
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    /// Learns from the rate-limit headers of the answer to the request with ticket `seq`.
    pub(super) fn note_rate(&self, seq: u64, headers: &HeaderMap) {
        let snap = RateSnapshot {
            limit: header_u64(headers, "x-ratelimit-limit"),
            remaining: header_u64(headers, "x-ratelimit-remaining"),
            reset_ms: header_u64(headers, "x-ratelimit-reset"),
        };
        self.lock().observe(seq, snap, Instant::now());
        if snap != RateSnapshot::default() {
            *self.latest.lock().expect("rate lock") = snap;
        }
    }

    /// A request whose answer never came: it holds no place in flight any more.
    pub(super) fn forget(&self, seq: u64) {
        self.lock().in_flight.remove(&seq);
    }

    /// Records a 429: nothing more is sent before `wait` has passed.
    pub(super) fn throttled(&self, wait: Duration) {
        self.lock().throttled(wait, Instant::now());
    }

    /// The rate-limit headers of the latest answer that had any.
    pub(super) fn latest(&self) -> RateSnapshot {
        *self.latest.lock().expect("rate lock")
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Budget> {
        self.state.lock().expect("budget lock")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(limit: u64, remaining: u64, reset_ms: u64) -> RateSnapshot {
        RateSnapshot {
            limit: Some(limit),
            remaining: Some(remaining),
            reset_ms: Some(reset_ms),
        }
    }

    #[test]
    fn an_empty_bucket_gives_back_one_request_per_interval_not_the_limit() {
        let mut b = Budget::default();
        let t0 = Instant::now();
        let seq = b.take(t0, Duration::from_secs(60)).unwrap();
        b.observe(seq, snap(800, 0, 5000), t0);
        assert!(b.take(t0, Duration::from_secs(60)).is_err(), "empty: wait");
        // One interval later one request is back, not 800.
        let later = t0 + Duration::from_millis(5001);
        assert!(b.take(later, Duration::from_secs(60)).is_ok());
        assert!(b.take(later, Duration::from_secs(60)).is_err());
    }

    #[test]
    fn a_bucket_with_requests_left_sends_them_at_once() {
        let mut b = Budget::default();
        let t0 = Instant::now();
        let max = Duration::from_secs(60);
        let seq = b.take(t0, max).unwrap();
        b.observe(seq, snap(10, 3, 1000), t0);
        for n in 1..=3 {
            assert!(b.take(t0, max).is_ok(), "request {n} of the 3 left");
        }
        assert!(b.take(t0, max).is_err(), "the three are spent");
    }

    #[test]
    fn the_shared_budget_learns_from_each_answers_headers() {
        let shared = RateBudget::default();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let seq = runtime.block_on(shared.pace(Duration::from_secs(60), |_| {}));
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("x-ratelimit-limit", "10"),
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "5000"),
        ] {
            headers.insert(name, value.parse().unwrap());
        }
        shared.note_rate(seq, &headers);
        assert_eq!(shared.latest(), snap(10, 0, 5000));
        assert!(
            shared
                .lock()
                .take(Instant::now(), Duration::from_secs(60))
                .is_err(),
            "nothing is left until the reset"
        );
    }

    #[test]
    fn an_older_answer_never_raises_the_count() {
        let mut b = Budget::default();
        let t0 = Instant::now();
        let max = Duration::from_secs(60);
        let first = b.take(t0, max).unwrap();
        let second = b.take(t0, max).unwrap();
        // The newer answer says 1 remains; `first`, still in flight, may not be in it yet.
        b.observe(second, snap(10, 1, 1000), t0);
        b.observe(first, snap(10, 9, 1000), t0);
        assert!(b.take(t0, max).is_err(), "the older answer's 9 was ignored");
    }

    #[test]
    fn requests_in_flight_after_the_answer_are_counted_against_it() {
        let mut b = Budget::default();
        let t0 = Instant::now();
        let max = Duration::from_secs(60);
        let seqs: Vec<u64> = (0..4).map(|_| b.take(t0, max).unwrap()).collect();
        // The first answer says 3 remain, but the three others are still on their way.
        b.observe(seqs[0], snap(10, 3, 1000), t0);
        assert!(b.take(t0, max).is_err());
    }

    #[test]
    fn the_refill_rate_is_learned_from_how_remaining_grows() {
        let mut b = Budget::default();
        let t0 = Instant::now();
        let max = Duration::from_secs(60);
        let a = b.take(t0, max).unwrap();
        b.observe(a, snap(100, 0, 100), t0);
        // 1 s later (10 intervals) one more request was sent and the bucket shows 29:
        // 30 came back, three per interval.
        let t1 = t0 + Duration::from_secs(1);
        let c = b.take(t1, max).unwrap();
        b.observe(c, snap(100, 29, 100), t1);
        assert!((b.per_interval - 3.0).abs() < 0.01, "{}", b.per_interval);
    }

    #[test]
    fn the_requests_sent_between_two_answers_count_once_in_the_refill_rate() {
        let mut b = Budget::default();
        let t0 = Instant::now();
        let max = Duration::from_secs(60);
        let _first = b.take(t0, max).unwrap();
        let second = b.take(t0, max).unwrap();
        b.observe(second, snap(100, 0, 100), t0);
        // One request (the third) was sent between the two answers; 29 remain 10 intervals
        // later: 30 came back, three per interval.
        let t1 = t0 + Duration::from_secs(1);
        let third = b.take(t1, max).unwrap();
        b.observe(third, snap(100, 29, 100), t1);
        assert!((b.per_interval - 3.0).abs() < 0.01, "{}", b.per_interval);
    }

    #[test]
    fn a_bucket_more_than_half_full_teaches_no_refill_rate() {
        let mut b = Budget::default();
        let t0 = Instant::now();
        let max = Duration::from_secs(60);
        let a = b.take(t0, max).unwrap();
        b.observe(a, snap(100, 10, 100), t0);
        // 1 s later the bucket holds 70, more than half: a fuller bucket may have hit its
        // limit and hidden growth, so nothing is learned from it.
        let t1 = t0 + Duration::from_secs(1);
        let c = b.take(t1, max).unwrap();
        b.observe(c, snap(100, 70, 100), t1);
        assert_eq!(b.per_interval, 1.0);
    }

    #[test]
    fn every_interval_that_passed_gives_a_request_back() {
        let mut b = Budget::default();
        let t0 = Instant::now();
        let max = Duration::from_secs(60);
        let a = b.take(t0, max).unwrap();
        // Empty, one request back each second, the next one second from now.
        b.observe(a, snap(10, 0, 1000), t0);
        // 3.5 s on, three intervals have passed (at 1, 2 and 3 s): one look adds back three
        // requests, not one, and the next is due at 4 s.
        let later = t0 + Duration::from_millis(3500);
        b.refill(later);
        assert_eq!(b.tokens, Some(3.0));
        assert_eq!(b.next_at, Some(t0 + Duration::from_secs(4)));
        for i in 0..3 {
            assert!(b.take(later, max).is_ok(), "request {i}");
        }
        assert!(b.take(later, max).is_err());
    }
}

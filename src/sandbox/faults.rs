//! Fault injection and the rate-limit window: how the sandbox behaves like a real, imperfect
//! service on demand.
//!
//! Policy: the quota is a bucket of `Limit` requests shared by every caller, refilled by one
//! request every refill interval (the documented rule: "at least 1 request is added back at
//! each reset interval"; it never refills in full at once). Every answer carries honest
//! `X-RateLimit-*` headers: `Remaining` is what the bucket holds, `Reset` the milliseconds
//! until the next request is added back. A request finding the bucket empty gets 429 and is
//! not executed. Injected faults draw from a seedable generator so a test can repeat them:
//! 500 and 503 and 429 before the call runs, and dropped connections both before and after it
//! ran (the second kind is what makes blind retries of writes dangerous).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// A fault chosen for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status without running the call.
    Status(u16),
    /// Close the connection without running the call.
    DropBefore,
    /// Run the call, then close the connection instead of answering.
    DropAfter,
}

/// Where requests to paths the sandbox does not serve are counted, all together.
pub const UNKNOWN_PATH: &str = "(unknown path)";

/// Counters a test or `serve` can read.
#[derive(Debug, Default)]
pub struct Stats {
    /// Every request received, token requests included.
    pub requests: AtomicU64,
    /// Tokens issued.
    pub tokens_issued: AtomicU64,
    /// Requests refused with 429 because the quota was used up.
    pub throttled: AtomicU64,
    /// Faults injected by `--fail-rate`.
    pub faults: AtomicU64,
    /// Requests per `/api/...` path.
    pub by_path: std::sync::Mutex<std::collections::HashMap<String, u64>>,
    /// Every write item the sandbox carried out, with its path, in order, when
    /// [`super::Options::record_writes`]: tests count how often each was done (nothing may be
    /// done twice).
    pub accepted: std::sync::Mutex<Vec<(String, serde_json::Value)>>,
}

impl Stats {
    /// Reads a counter.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// How many times the write `item` (or, for the purge list, an item naming it) was
    /// carried out on `path`.
    pub fn accepted(&self, path: &str, matches: impl Fn(&serde_json::Value) -> bool) -> usize {
        self.accepted
            .lock()
            .expect("stats lock")
            .iter()
            .filter(|(p, item)| p == path && matches(item))
            .count()
    }

    /// How many paths are counted apart (the known ones reached, and one for all others).
    pub fn paths_counted(&self) -> usize {
        self.by_path.lock().expect("stats lock").len()
    }

    /// How many requests reached `path` (after quota and faults, before credentials).
    pub fn hits(&self, path: &str) -> u64 {
        self.by_path
            .lock()
            .expect("stats lock")
            .get(path)
            .copied()
            .unwrap_or(0)
    }
}

/// The rate-limit state of one answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateHeaders {
    /// Requests allowed per window.
    pub limit: u64,
    /// Requests left in this window.
    pub remaining: u64,
    /// Milliseconds until the window resets.
    pub reset_ms: u64,
    /// Whether this request is within the quota.
    pub allowed: bool,
}

/// The rate limit of one sandbox: a bucket and how fast it refills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// Requests the bucket holds when full (`X-RateLimit-Limit`).
    pub bucket: u64,
    /// Time for one request to be added back (`X-RateLimit-Reset` counts down to it).
    pub refill: Duration,
}

impl Quota {
    /// `per_second` requests a second in the long run, with a bucket of as many.
    pub fn per_second(per_second: u32) -> Quota {
        let n = per_second.max(1);
        Quota {
            bucket: n as u64,
            refill: Duration::from_secs_f64(1.0 / n as f64),
        }
    }
}

impl Default for Quota {
    /// A million requests an hour: high enough never to bind locally.
    fn default() -> Self {
        Quota {
            bucket: DEFAULT_HOURLY_LIMIT,
            refill: Duration::from_micros(3600),
        }
    }
}

/// Latency, failure rate and quota of one sandbox.
pub struct Faults {
    latency: Duration,
    fail_rate: f64,
    rng: Mutex<StdRng>,
    quota: Quota,
    /// Requests in the bucket, and when the next one is added back.
    state: Mutex<(u64, Instant)>,
}

/// Requests allowed when no quota is set; high enough never to bind locally.
pub const DEFAULT_HOURLY_LIMIT: u64 = 1_000_000;

impl Faults {
    /// Faults as configured.
    pub fn new(latency: Duration, fail_rate: f64, quota: Quota, seed: Option<u64>) -> Faults {
        let rng = match seed {
            Some(s) => StdRng::seed_from_u64(s),
            None => rand::make_rng(),
        };
        let quota = Quota {
            bucket: quota.bucket.max(1),
            refill: quota.refill.max(Duration::from_micros(1)),
        };
        Faults {
            latency,
            fail_rate: fail_rate.clamp(0.0, 1.0),
            rng: Mutex::new(rng),
            quota,
            state: Mutex::new((quota.bucket, Instant::now() + quota.refill)),
        }
    }

    /// The configured latency.
    pub fn latency(&self) -> Duration {
        self.latency
    }

    /// Takes one request from the bucket, if it holds one.
    pub fn admit(&self) -> RateHeaders {
        let mut state = self.state.lock().expect("bucket lock");
        let now = Instant::now();
        let (ref mut tokens, ref mut next) = *state;
        if now >= *next {
            let refill = self.quota.refill.as_nanos().max(1);
            let intervals = (now - *next).as_nanos() / refill + 1;
            *tokens = tokens
                .saturating_add(intervals.min(u64::MAX as u128) as u64)
                .min(self.quota.bucket);
            *next += self.quota.refill * intervals.min(u32::MAX as u128) as u32;
        }
        if *tokens >= self.quota.bucket {
            // A full bucket does not bank time: the countdown starts with the next request.
            *next = now + self.quota.refill;
        }
        let allowed = *tokens > 0;
        if allowed {
            *tokens -= 1;
        }
        let reset_ms = (next.saturating_duration_since(now).as_millis() as u64).max(1);
        RateHeaders {
            limit: self.quota.bucket,
            remaining: *tokens,
            reset_ms,
            allowed,
        }
    }

    /// A fault for this request, or none.
    pub fn pick(&self) -> Option<Fault> {
        if self.fail_rate <= 0.0 {
            return None;
        }
        let mut rng = self.rng.lock().expect("rng lock");
        if !rng.random_bool(self.fail_rate) {
            return None;
        }
        Some(match rng.random_range(0..5) {
            0 => Fault::Status(500),
            1 => Fault::Status(503),
            2 => Fault::Status(429),
            3 => Fault::DropBefore,
            _ => Fault::DropAfter,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_refuses_past_the_limit_with_a_reset() {
        let f = Faults::new(Duration::ZERO, 0.0, Quota::per_second(2), None);
        assert!(f.admit().allowed);
        let second = f.admit();
        assert!(second.allowed);
        assert_eq!(second.remaining, 0);
        let third = f.admit();
        assert!(!third.allowed);
        assert!(third.reset_ms >= 1 && third.reset_ms <= 500);
    }

    #[test]
    fn the_bucket_refills_one_request_per_interval_not_in_full() {
        let quota = Quota {
            bucket: 5,
            refill: Duration::from_millis(40),
        };
        let f = Faults::new(Duration::ZERO, 0.0, quota, None);
        for _ in 0..5 {
            assert!(f.admit().allowed);
        }
        assert!(!f.admit().allowed);
        std::thread::sleep(Duration::from_millis(45));
        let back = f.admit();
        assert!(back.allowed, "one request came back after one interval");
        assert_eq!(
            back.remaining, 0,
            "only one: the bucket does not refill in full"
        );
        assert!(!f.admit().allowed);
    }

    #[test]
    fn seeded_faults_repeat() {
        let draw = || {
            let f = Faults::new(Duration::ZERO, 0.5, Quota::default(), Some(7));
            (0..50).map(|_| f.pick()).collect::<Vec<_>>()
        };
        let a = draw();
        assert_eq!(a, draw());
        assert!(a.iter().any(Option::is_some) && a.iter().any(Option::is_none));
    }
}

//! Fault injection and the rate-limit window: how the sandbox behaves like a real, imperfect
//! service on demand.
//!
//! Policy: the quota is a fixed window shared by every caller; every answer carries honest
//! `X-RateLimit-*` headers (Reset in milliseconds) and a request past the quota gets 429 and is
//! not executed. Injected faults draw from a seedable generator so a test can repeat them:
//! 500 and 503 and 429 before the call runs, and dropped connections both before and after it
//! ran (the second kind is what makes blind retries of writes dangerous).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

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
}

impl Stats {
    /// Reads a counter.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
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

/// Latency, failure rate and quota of one sandbox.
pub struct Faults {
    latency: Duration,
    fail_rate: f64,
    rng: Mutex<StdRng>,
    limit: u64,
    window: Duration,
    state: Mutex<(Instant, u64)>,
}

/// Requests per hour allowed when no `--quota` is set; high enough never to bind locally.
pub const DEFAULT_HOURLY_LIMIT: u64 = 1_000_000;

impl Faults {
    /// Faults as configured; `quota` is requests per second.
    pub fn new(latency: Duration, fail_rate: f64, quota: Option<u32>, seed: Option<u64>) -> Faults {
        let rng = match seed {
            Some(s) => StdRng::seed_from_u64(s),
            None => StdRng::from_entropy(),
        };
        let (limit, window) = match quota {
            Some(q) => (q.max(1) as u64, Duration::from_secs(1)),
            None => (DEFAULT_HOURLY_LIMIT, Duration::from_secs(3600)),
        };
        Faults {
            latency,
            fail_rate: fail_rate.clamp(0.0, 1.0),
            rng: Mutex::new(rng),
            limit,
            window,
            state: Mutex::new((Instant::now(), 0)),
        }
    }

    /// The configured latency.
    pub fn latency(&self) -> Duration {
        self.latency
    }

    /// Counts one request against the window.
    pub fn admit(&self) -> RateHeaders {
        let mut state = self.state.lock().expect("window lock");
        let now = Instant::now();
        if now.duration_since(state.0) >= self.window {
            *state = (now, 0);
        }
        let reset_ms = (self
            .window
            .saturating_sub(now.duration_since(state.0))
            .as_millis() as u64)
            .max(1);
        let allowed = state.1 < self.limit;
        if allowed {
            state.1 += 1;
        }
        RateHeaders {
            limit: self.limit,
            remaining: self.limit - state.1,
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
        if !rng.gen_bool(self.fail_rate) {
            return None;
        }
        Some(match rng.gen_range(0..5) {
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
        let f = Faults::new(Duration::ZERO, 0.0, Some(2), None);
        assert!(f.admit().allowed);
        let second = f.admit();
        assert!(second.allowed);
        assert_eq!(second.remaining, 0);
        let third = f.admit();
        assert!(!third.allowed);
        assert!(third.reset_ms >= 1 && third.reset_ms <= 1000);
    }

    #[test]
    fn seeded_faults_repeat() {
        let draw = || {
            let f = Faults::new(Duration::ZERO, 0.5, None, Some(7));
            (0..50).map(|_| f.pick()).collect::<Vec<_>>()
        };
        let a = draw();
        assert_eq!(a, draw());
        assert!(a.iter().any(Option::is_some) && a.iter().any(Option::is_none));
    }
}

//! The shared rate budget: requests pause before the quota is used up, not after.
//!
//! Policy: every request takes one from the budget the latest `X-RateLimit-*` headers gave;
//! at zero, requests wait until the window renews (bounded by `max_rate_wait`), then start
//! from the known limit. Within one window an answer older than requests already sent never
//! raises the count; a 429 empties it until its `Reset`.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;

use super::client::{Client, RateSnapshot};
use super::events::Event;
use super::transport::header_u64;

/// The shared rate budget: how many requests the quota still allows, and when it renews.
#[derive(Debug, Default)]
pub(super) struct Budget {
    pub(super) remaining: Option<u64>,
    pub(super) resume_at: Option<Instant>,
    pub(super) limit: Option<u64>,
}

impl Client {
    /// Waits while the shared budget says the quota is used up, and takes one request from it.
    pub(super) async fn pace(&self, path: &str) {
        loop {
            let wait = {
                let mut b = self.inner.budget.lock().expect("budget lock");
                let now = Instant::now();
                match (b.remaining, b.resume_at) {
                    (Some(0), Some(at)) if at > now => {
                        Some((at - now).min(self.inner.options.max_rate_wait))
                    }
                    (Some(0), _) => {
                        // The window has turned: a fresh quota, spent from now on.
                        b.remaining = b.limit.map(|l| l.saturating_sub(1));
                        b.resume_at = None;
                        None
                    }
                    (Some(n), _) => {
                        b.remaining = Some(n - 1);
                        None
                    }
                    (None, _) => None,
                }
            };
            match wait {
                None => return,
                Some(wait) => {
                    self.inner.stats.paced.fetch_add(1, Ordering::Relaxed);
                    self.emit(&Event::Paced {
                        path: path.to_string(),
                        wait,
                    });
                    tokio::time::sleep(wait).await;
                    let mut b = self.inner.budget.lock().expect("budget lock");
                    if b.remaining == Some(0) && b.resume_at.is_some_and(|at| at <= Instant::now())
                    {
                        b.remaining = b.limit;
                        b.resume_at = None;
                    }
                }
            }
        }
    }

    pub(super) fn note_rate(&self, headers: &HeaderMap) {
        let snap = RateSnapshot {
            limit: header_u64(headers, "x-ratelimit-limit"),
            remaining: header_u64(headers, "x-ratelimit-remaining"),
            reset_ms: header_u64(headers, "x-ratelimit-reset"),
        };
        if let (Some(remaining), Some(reset)) = (snap.remaining, snap.reset_ms) {
            let mut b = self.inner.budget.lock().expect("budget lock");
            let resume = Instant::now() + Duration::from_millis(reset);
            // Within one window an answer may be older than requests already sent: never let
            // it raise the count. A later window starts from what the service says.
            let same_window = b
                .resume_at
                .is_some_and(|at| resume <= at + Duration::from_millis(100));
            b.remaining = match b.remaining {
                Some(local) if same_window => Some(local.min(remaining)),
                _ => Some(remaining),
            };
            b.resume_at = Some(resume);
            b.limit = snap.limit.or(b.limit);
        }
        if snap != RateSnapshot::default() {
            *self.inner.rate.lock().expect("rate lock") = snap;
        }
    }
}

//! Telling clients to send nothing more, while the requests already sent are answered.
//!
//! Policy: a run told to stop (Ctrl-C, a signal to end) must not drop a write the service may
//! already be doing: its answer is what the audit log and `mcsh undo` rest on. So a stopped
//! client refuses every request it has not sent yet ([`crate::api::ApiError::Stopped`]) and
//! cuts short its waits (backoff, 429, pacing), while the requests on the wire finish as
//! usual; [`Stop::writes_in_flight`] says how many writes the caller should wait for.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::Notify;

/// A stop signal shared by clients and whoever may tell them to stop. Cheap to clone: clones
/// share the signal.
#[derive(Debug, Clone, Default)]
pub struct Stop(Arc<State>);

#[derive(Debug, Default)]
struct State {
    stopped: AtomicBool,
    notify: Notify,
    writes: AtomicUsize,
    items: AtomicUsize,
}

impl Stop {
    /// From now on, send nothing more: every request not yet on the wire fails at once.
    pub fn stop(&self) {
        self.0.stopped.store(true, Ordering::SeqCst);
        self.0.notify.notify_waiters();
    }

    /// Sends again (the REPL's next input, after an interrupted one).
    pub fn resume(&self) {
        self.0.stopped.store(false, Ordering::SeqCst);
    }

    /// Whether [`Stop::stop`] was called since the last [`Stop::resume`].
    pub fn is_stopped(&self) -> bool {
        self.0.stopped.load(Ordering::SeqCst)
    }

    /// Resolves when told to stop (at once if already told).
    pub async fn stopped(&self) {
        loop {
            let notified = self.0.notify.notified();
            if self.is_stopped() {
                return;
            }
            notified.await;
        }
    }

    /// Sleeps for `wait`, or less when told to stop meanwhile.
    pub async fn nap(&self, wait: std::time::Duration) {
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = self.stopped() => {}
        }
    }

    /// Write requests sent and not answered yet.
    pub fn writes_in_flight(&self) -> usize {
        self.0.writes.load(Ordering::SeqCst)
    }

    /// The items those requests carry.
    pub fn items_in_flight(&self) -> usize {
        self.0.items.load(Ordering::SeqCst)
    }

    /// What to say of the writes still on the wire when a run gives up waiting for them:
    /// `None` when there are none.
    pub fn unanswered(&self) -> Option<String> {
        let (requests, items) = (self.writes_in_flight(), self.items_in_flight());
        (requests > 0).then(|| {
            format!(
                "{requests} write request(s) ({items} item(s)) got no answer before the run \
                 ended: the service may have done them, and the audit log does not have them; \
                 read the directory to see (running the same command again settles them)"
            )
        })
    }

    /// Counts a write request of `items` items on the wire until the guard is dropped.
    pub(super) fn write_sent(&self, items: usize) -> InFlight {
        self.0.writes.fetch_add(1, Ordering::SeqCst);
        self.0.items.fetch_add(items, Ordering::SeqCst);
        InFlight(self.0.clone(), items)
    }
}

/// A write on the wire, counted by its [`Stop`] until dropped.
pub(super) struct InFlight(Arc<State>, usize);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.writes.fetch_sub(1, Ordering::SeqCst);
        self.0.items.fetch_sub(self.1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_stop_wakes_waiters_cuts_naps_short_and_counts_writes() {
        let stop = Stop::default();
        let shared = stop.clone();
        let started = std::time::Instant::now();
        let napping =
            tokio::spawn(async move { shared.nap(std::time::Duration::from_secs(30)).await });
        tokio::task::yield_now().await;
        stop.stop();
        napping.await.unwrap();
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        assert!(stop.is_stopped());
        stop.stopped().await;
        {
            let _a = stop.write_sent(100);
            let _b = stop.write_sent(3);
            assert_eq!(stop.writes_in_flight(), 2);
            assert_eq!(stop.items_in_flight(), 103);
            assert!(stop
                .unanswered()
                .unwrap()
                .starts_with("2 write request(s) (103 item(s))"));
        }
        assert_eq!(stop.writes_in_flight(), 0);
        assert_eq!(stop.items_in_flight(), 0);
        assert_eq!(stop.unanswered(), None);
        stop.resume();
        assert!(!stop.is_stopped());
    }
}

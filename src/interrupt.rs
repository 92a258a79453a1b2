//! Ctrl-C as a value: one flag the whole process shares.
//!
//! Policy: once installed, SIGINT no longer kills the process; it sets the flag and wakes
//! whoever waits. A running script stops at its next operation (the engine's progress hook),
//! a wait on the network stops at once, and the REPL clears the flag and keeps the session.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use tokio::sync::Notify;

/// The shared interrupt state.
#[derive(Debug, Default)]
pub struct Interrupt {
    flag: AtomicBool,
    notify: Notify,
}

impl Interrupt {
    /// Whether Ctrl-C was pressed since the last [`Interrupt::clear`].
    pub fn is_set(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    /// Forgets an earlier Ctrl-C (the REPL does this before each statement).
    pub fn clear(&self) {
        self.flag.store(false, Ordering::SeqCst);
    }

    /// Sets the flag and wakes every waiter.
    pub fn trigger(&self) {
        self.flag.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    /// Resolves when the flag is set (at once if it already is).
    pub async fn wait(&self) {
        loop {
            let notified = self.notify.notified();
            if self.is_set() {
                return;
            }
            notified.await;
        }
    }
}

static SHARED: OnceLock<Arc<Interrupt>> = OnceLock::new();

/// The process's interrupt state.
pub fn shared() -> Arc<Interrupt> {
    SHARED.get_or_init(Arc::default).clone()
}

/// Routes SIGINT to the shared flag, on `runtime`. Call once, early.
pub fn install(runtime: &tokio::runtime::Handle) -> Arc<Interrupt> {
    let state = shared();
    let target = state.clone();
    runtime.spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            target.trigger();
        }
    });
    state
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn wait_returns_when_already_set_and_after_trigger() {
        let i = Arc::new(Interrupt::default());
        let waiter = {
            let i = i.clone();
            tokio::spawn(async move { i.wait().await })
        };
        tokio::task::yield_now().await;
        i.trigger();
        waiter.await.unwrap();
        i.wait().await;
        i.clear();
        assert!(!i.is_set());
    }
}

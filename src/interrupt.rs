//! Ctrl-C as a value: one flag the whole process shares.
//!
//! Policy: once installed, SIGINT no longer kills the process; it sets the flag and wakes
//! whoever waits. A running script stops at its next operation (the engine's progress hook),
//! a wait on the network stops at once, and the REPL clears the flag and keeps the session.
//! Outside the REPL, SIGTERM and SIGHUP (a service manager, `timeout`, a closed terminal, a
//! fleet's whole process group) stop a run the same way: what it wrote is named with its run
//! id, what it printed is flushed, and it exits 130, rather than dying half-way unreported.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use tokio::sync::Notify;

/// The shared interrupt state.
#[derive(Debug, Default)]
pub struct Interrupt {
    flag: AtomicBool,
    notify: Notify,
    /// Interrupts so far (a second one while a run winds down ends it at once).
    count: AtomicU64,
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
        self.count.fetch_add(1, Ordering::SeqCst);
        self.flag.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    /// How many interrupts came so far.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::SeqCst)
    }

    /// Resolves when more than `seen` interrupts have come.
    pub async fn wait_past(&self, seen: u64) {
        loop {
            let notified = self.notify.notified();
            if self.count() > seen {
                return;
            }
            notified.await;
        }
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

/// The longest a run stopped by an interrupt waits for the answers to writes already sent
/// (a request's own timeout is 30 s).
pub const WIND_DOWN: std::time::Duration = std::time::Duration::from_secs(35);

/// What an interrupted run does before it stops: it tells `stop` to send nothing more and,
/// when writes are on the wire, goes on running `run` until they are answered and recorded
/// (`run` then ends at its next request, refused), a second interrupt, or [`WIND_DOWN`].
/// `say` tells the user what it waits for. `Some` when `run` ended meanwhile.
pub async fn wind_down<F: std::future::Future>(
    run: std::pin::Pin<&mut F>,
    stop: Option<&crate::api::Stop>,
    interrupt: &Interrupt,
    say: impl Fn(&str),
) -> Option<F::Output> {
    let stop = stop?;
    stop.stop();
    let sent = stop.writes_in_flight();
    if sent == 0 {
        return None;
    }
    say(&format!(
        "stopping: waiting for the answers to {sent} write request(s) already sent, so what \
         they did is recorded for `mcsh undo` (interrupt again to stop at once, leaving them \
         unrecorded)"
    ));
    let seen = interrupt.count();
    let out = tokio::select! {
        out = run => Some(out),
        _ = interrupt.wait_past(seen) => None,
        _ = tokio::time::sleep(WIND_DOWN) => None,
    };
    if let Some(note) = stop.unanswered() {
        say(&note);
    }
    out
}

/// What a run says when it is ended without its usual end (a second signal, or a run told to
/// end that does not stop within [`ENDING_GRACE`]): the writes it sent unanswered, and its run
/// id, so what it did can still be found and taken back.
type LastWords = Box<dyn Fn() -> Vec<String> + Send + Sync>;

/// Whose last words (a fleet part's tenant, or `None` for the process's own run) and what they
/// are.
type Words = (Option<String>, LastWords);

/// Each run's last words.
static LAST_WORDS: std::sync::Mutex<Vec<Words>> = std::sync::Mutex::new(Vec::new());

/// Sets what the run says if it is ended without its usual end (see [`LastWords`]); in a
/// fleet's part, what that tenant says.
pub fn set_last_words(words: LastWords) {
    let who = whose();
    let mut all = LAST_WORDS.lock().unwrap_or_else(|e| e.into_inner());
    all.retain(|(w, _)| *w != who);
    all.push((who, words));
}

/// Whose last words this thread's run would say: its fleet part's tenant, or the process's
/// own (`None`).
fn whose() -> Option<String> {
    crate::streams::part().map(|p| p.profile().to_string())
}

/// Forgets this run's last words (a fleet part that ended has nothing more to say).
pub fn forget_last_words() {
    let who = whose();
    LAST_WORDS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|(w, _)| *w != who);
}

/// Says the last words (a fleet's tenants' behind their names, then the process's own), then
/// ends the process with `code`.
fn end_now(code: i32) -> ! {
    if let Ok(all) = LAST_WORDS.try_lock() {
        let (parts, own): (Vec<_>, Vec<_>) = all.iter().partition(|(who, _)| who.is_some());
        for (who, say) in parts.into_iter().chain(own) {
            for line in say() {
                match who {
                    Some(profile) => crate::eprintln_data!("{profile}: {line}"),
                    None => crate::eprintln_data!("{line}"),
                }
            }
        }
    }
    std::process::exit(code)
}

static SHARED: OnceLock<Arc<Interrupt>> = OnceLock::new();

/// How long a run told to end (SIGTERM, SIGHUP) has to stop cleanly before it is ended as the
/// signal would have ended it (exit 128 + the signal's number).
pub const ENDING_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// The process's interrupt state.
pub fn shared() -> Arc<Interrupt> {
    SHARED.get_or_init(Arc::default).clone()
}

/// Routes SIGINT to the shared flag, on `runtime`, and with `ending_too` SIGTERM and SIGHUP as
/// well (not for the REPL, which keeps its session on Ctrl-C and must still end on those).
/// Call once, early.
pub fn install(runtime: &tokio::runtime::Handle, ending_too: bool) -> Arc<Interrupt> {
    let state = shared();
    let target = state.clone();
    runtime.spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            target.trigger();
        }
    });
    #[cfg(unix)]
    if ending_too {
        use tokio::signal::unix::{signal, SignalKind};
        for kind in [SignalKind::terminate(), SignalKind::hangup()] {
            let target = state.clone();
            // Registered here, before the run starts, so none of them is missed.
            let stream = {
                let _inside = runtime.enter();
                signal(kind)
            };
            let code = 128 + kind.as_raw_value();
            if let Ok(mut stream) = stream {
                runtime.spawn(async move {
                    if stream.recv().await.is_none() {
                        return;
                    }
                    target.trigger();
                    // A run waiting where the flag is not looked at (a prompt, a script read
                    // from a pipe that stays open) still ends: soon, or at a second signal.
                    std::thread::spawn(move || {
                        std::thread::sleep(ENDING_GRACE);
                        end_now(code);
                    });
                    if stream.recv().await.is_some() {
                        end_now(code);
                    }
                });
            }
        }
    }
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

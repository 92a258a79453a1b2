//! The progress bar of bulk work: on stderr, only on a terminal, only for jobs over a second.
//!
//! Policy: nothing is drawn for quick jobs, for a single item, or when stderr is not a
//! terminal (logs and pipes stay clean); a long job shows items done of total, rate, failures
//! and time left. In the REPL every statement is a job of its own.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::directory::progress::Progress;

/// Jobs shorter than this never show a bar.
const SHOW_AFTER: Duration = Duration::from_secs(1);

/// What running an interrupted command again does, for its summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Again {
    /// A command or workflow: it finds what is done and skips it.
    Skips,
    /// `mcsh undo`: it takes back what the interrupted undo did not.
    Finishes,
    /// A script: its calls are made again.
    Redoes,
    /// `mcsh apply`: refused, the plan having been applied once.
    NewPlan,
}

/// A progress bar that appears once a job has run for a second.
pub struct Bar {
    enabled: bool,
    started: Mutex<Instant>,
    total: AtomicUsize,
    done: AtomicUsize,
    failed: AtomicUsize,
    bar: Mutex<Option<ProgressBar>>,
}

impl Bar {
    /// A bar drawing on stderr when `enabled` (a terminal and not `-q`).
    pub fn new(enabled: bool) -> Bar {
        Bar {
            enabled,
            started: Mutex::new(Instant::now()),
            total: AtomicUsize::new(0),
            done: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
            bar: Mutex::new(None),
        }
    }

    fn elapsed(&self) -> Duration {
        self.started.lock().expect("clock lock").elapsed()
    }

    fn draw(&self) {
        if !self.enabled || self.total.load(Ordering::Relaxed) <= 1 || self.elapsed() < SHOW_AFTER {
            return;
        }
        let mut slot = self.bar.lock().expect("bar lock");
        let bar = slot.get_or_insert_with(|| {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            let style =
                ProgressStyle::with_template("{bar:30} {pos}/{len} items  {msg}  eta {eta}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar
        });
        bar.set_length(self.total.load(Ordering::Relaxed) as u64);
        bar.set_position(self.done.load(Ordering::Relaxed) as u64);
        let failed = self.failed.load(Ordering::Relaxed);
        let done = self.done.load(Ordering::Relaxed) as f64;
        let rate = format!("{:.0}/s", done / self.elapsed().as_secs_f64().max(0.001));
        bar.set_message(if failed > 0 {
            format!("{rate}  {failed} failed")
        } else {
            rate
        });
    }

    /// Items (total, done, failed) so far.
    pub fn counts(&self) -> (usize, usize, usize) {
        (
            self.total.load(Ordering::Relaxed),
            self.done.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed),
        )
    }

    /// What was done, for a run stopped by Ctrl-C.
    pub fn interrupted_summary(&self, again: Again) -> Option<String> {
        let (total, done, failed) = self.counts();
        let next = match again {
            Again::Skips => ", and running the same command again skips what is done",
            Again::Finishes => ", and running the same command again does the rest",
            Again::Redoes => {
                "; running the same script again makes its calls again (ensure_user and \
                 ensure_member skip what is done)"
            }
            Again::NewPlan => {
                "; the rest of the plan is not applied (a plan is carried out once): make a \
                 new plan with --plan-out for what is left"
            }
        };
        (total > 0).then(|| {
            format!(
                "interrupted after {done} of {total} items ({failed} failed); what finished is in `mcsh audit`{next}"
            )
        })
    }

    /// Removes the bar before the summary is printed.
    pub fn finish(&self) {
        if let Some(bar) = self.bar.lock().expect("bar lock").take() {
            bar.finish_and_clear();
        }
    }
}

impl Progress for Bar {
    fn add_total(&self, n: usize) {
        self.total.fetch_add(n, Ordering::Relaxed);
        self.draw();
    }

    fn done(&self, n: usize, failed: usize) {
        self.done.fetch_add(n, Ordering::Relaxed);
        self.failed.fetch_add(failed, Ordering::Relaxed);
        self.draw();
    }

    fn restart(&self) {
        self.finish();
        self.total.store(0, Ordering::Relaxed);
        self.done.store(0, Ordering::Relaxed);
        self.failed.store(0, Ordering::Relaxed);
        *self.started.lock().expect("clock lock") = Instant::now();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restart_counts_from_zero() {
        let bar = Bar::new(false);
        bar.add_total(6);
        bar.done(6, 3);
        bar.restart();
        bar.add_total(1);
        bar.done(1, 0);
        assert_eq!(bar.counts(), (1, 1, 0), "one statement's items only");
    }
}

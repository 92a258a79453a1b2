//! Running each tenant's part as threads of this process, a bounded number at once.
//!
//! Policy: each part is a run of its own (its own runtime, connection, token and rate budget)
//! on a thread of its own, with its own streams and memory count ([`crate::streams::Part`]):
//! its standard output is kept for the report; its standard error is passed on line by line
//! behind the tenant's name (and its last `error:` kept for the summary). Threads, not
//! processes: twenty processes starting at once (loading, page faults, a runtime each) cost
//! a third of a tenant's CPU on a machine of two cores.
//! Parts start through a gate ([`Gate`]): at most one a core is starting at a time, the next
//! starts when one says it has started (it connects) or ends, so their start-up work (the
//! engine, compiling) is not spread thin over twenty at once, and the first to start wait on
//! the service while the later ones start.
//! Ctrl-C (or SIGTERM) is the process's, which every part watches: parts not started yet are
//! not started, and each part stops as a single run does on Ctrl-C.

use std::ffi::OsString;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use super::member::{is_started, wrote_in, Member};
use crate::interrupt::Interrupt;
use crate::streams::Part;

/// What the fleet's processes share.
pub struct Env<'a> {
    /// The runtime's handle, to wait for Ctrl-C on.
    pub handle: tokio::runtime::Handle,
    /// Ctrl-C.
    pub interrupt: Arc<Interrupt>,
    /// The fleet run's id.
    pub run: &'a str,
    /// The fleet run's random mark (see [`crate::output::MARK_KEY`]).
    pub mark: &'a str,
    /// Parts run at once.
    pub jobs: usize,
    /// `-q`: the parts' diagnostics are not passed on.
    pub quiet: bool,
}

/// One tenant's part to run.
#[derive(Debug, Clone)]
pub struct Job {
    /// The arguments after `mcsh`.
    pub args: Vec<OsString>,
    /// What the part is told.
    pub member: Member,
}

/// How a part ended.
#[derive(Debug)]
pub struct Done {
    /// The tenant.
    pub profile: String,
    /// Its exit code (130 when interrupted or never started because of Ctrl-C).
    pub code: i32,
    /// What it printed on standard output.
    pub stdout: Vec<u8>,
    /// Its last error message, if it printed one.
    pub error: Option<String>,
    /// The run id of what it wrote, if it wrote anything.
    pub wrote: Option<String>,
    /// The fleet run's mark, which its lines for the fleet carry.
    pub mark: String,
}

/// The start gate: at most `limit` parts starting at once (begun, and not yet said they
/// started or ended). A part slow to say so holds the next back for [`Gate::PATIENCE`] at
/// most, counted from the last start, so the gate paces starts and never stops a run; once
/// the run is stopping ([`Gate::close`]) it lets no part start.
struct Gate {
    state: Mutex<GateState>,
    turn: Condvar,
    limit: usize,
}

/// What the gate counts.
#[derive(Default)]
struct GateState {
    starting: usize,
    last_start: Option<Instant>,
    closed: bool,
}

impl Gate {
    /// The longest the next part waits after the last one started.
    const PATIENCE: Duration = Duration::from_millis(100);

    /// A gate letting `limit` parts start at once (at least one).
    fn new(limit: usize) -> Gate {
        Gate {
            state: Mutex::new(GateState::default()),
            turn: Condvar::new(),
            limit: limit.max(1),
        }
    }

    /// Waits for a turn to start a part; `false` when the run is stopping instead.
    fn enter(&self) -> bool {
        let mut state = self.state.lock().expect("gate lock");
        loop {
            if state.closed {
                return false;
            }
            let now = Instant::now();
            let due = state.last_start.map_or(now, |last| last + Self::PATIENCE);
            if state.starting < self.limit || now >= due {
                break;
            }
            state = self
                .turn
                .wait_timeout(state, due - now)
                .expect("gate lock")
                .0;
        }
        state.starting += 1;
        state.last_start = Some(Instant::now());
        true
    }

    /// A part has started or ended: the next may start. `once` makes it count once a part.
    fn leave(&self, once: &AtomicBool) {
        if once.swap(true, Ordering::SeqCst) {
            return;
        }
        let mut state = self.state.lock().expect("gate lock");
        state.starting = state.starting.saturating_sub(1);
        self.turn.notify_one();
    }

    /// The run is stopping: no part waiting or to come starts.
    fn close(&self) {
        self.state.lock().expect("gate lock").closed = true;
        self.turn.notify_all();
    }
}

/// How a part ended that never ran to its end: with `code`, because of `why`.
fn cut_short(job: &Job, code: i32, why: String) -> Done {
    Done {
        profile: job.member.profile.clone(),
        code,
        stdout: Vec::new(),
        error: Some(why),
        wrote: None,
        mark: String::new(),
    }
}

/// How a part that was never started ended: interrupted.
fn not_started(job: &Job) -> Done {
    cut_short(job, 130, "not started: interrupted".into())
}

/// Runs `jobs`, at most `env.jobs` at once, feeding each `input` on standard input (when the
/// command reads it); `tick` is called as each ends, with how many have ended. The results
/// come in the jobs' order.
pub fn run_all(
    jobs: Vec<Job>,
    env: &Env,
    input: Option<Arc<Vec<u8>>>,
    tick: &(dyn Fn(&Done, usize, usize) + Sync),
) -> Vec<Done> {
    let total = jobs.len();
    let next = AtomicUsize::new(0);
    let ended = AtomicUsize::new(0);
    let stopping = Arc::new(AtomicBool::new(false));
    let starting_lock = Arc::new(Mutex::new(()));
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let gate = Arc::new(Gate::new(cores));
    {
        // Ctrl-C (or SIGTERM, which a service manager or `timeout` sends): stop starting
        // parts; those running watch the same interrupt and stop cleanly.
        let stopping = stopping.clone();
        let starting_lock = starting_lock.clone();
        let gate = gate.clone();
        let handle = env.handle.clone();
        let interrupt = env.interrupt.clone();
        #[cfg(unix)]
        let term = {
            let _guard = handle.enter();
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok()
        };
        std::thread::spawn(move || {
            handle.block_on(async {
                #[cfg(unix)]
                if let Some(mut term) = term {
                    tokio::select! {
                        _ = interrupt.wait() => {}
                        _ = term.recv() => interrupt.trigger(),
                    }
                    return;
                }
                interrupt.wait().await;
            });
            // Parts check `stopping` as they start, under this lock: each either started
            // before (and sees the interrupt) or is never started.
            let _starting = starting_lock.lock().expect("fleet lock");
            stopping.store(true, Ordering::SeqCst);
            gate.close();
        });
    }
    let results: Mutex<Vec<Option<Done>>> = Mutex::new((0..total).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..env.jobs.clamp(1, total.max(1)) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(job) = jobs.get(i) else { break };
                // Whether the run is stopping is checked as the part starts (`run_one`).
                let starting = Starting {
                    lock: &starting_lock,
                    gate: &gate,
                    stopping: &stopping,
                };
                let done = run_one(job, env, input.clone(), starting);
                let n = ended.fetch_add(1, Ordering::SeqCst) + 1;
                tick(&done, n, total);
                results.lock().expect("fleet lock")[i] = Some(done);
            });
        }
    });
    results
        .into_inner()
        .expect("fleet lock")
        .into_iter()
        .map(|d| d.expect("every part ran"))
        .collect()
}

/// What starting a part shares with the others: the lock parts start under, the start gate,
/// and whether the run is stopping.
struct Starting<'a> {
    lock: &'a Mutex<()>,
    gate: &'a Arc<Gate>,
    stopping: &'a AtomicBool,
}

/// What a part said to its fleet on its standard error: its last error, and the run id of
/// what it wrote.
#[derive(Default)]
struct Heard {
    error: Option<String>,
    wrote: Option<String>,
}

/// A part's stack when one of [`crate::STACK_BYTES`] cannot be had (a tight `ulimit -v`).
const SMALL_STACK_BYTES: usize = 64 << 20;

/// Runs one part to its end.
fn run_one(job: &Job, env: &Env, input: Option<Arc<Vec<u8>>>, starting: Starting) -> Done {
    let Starting {
        lock,
        gate,
        stopping,
    } = starting;
    let quiet = env.quiet;
    let profile = job.member.profile.clone();
    let mark = job.member.mark.clone();
    let started = Arc::new(AtomicBool::new(false));
    let heard = Arc::new(Mutex::new(Heard::default()));
    let lines = {
        let (gate, started, heard) = (gate.clone(), started.clone(), heard.clone());
        let (name, mark) = (profile.clone(), mark.clone());
        move |text: &str| {
            let text = text.trim_end();
            if let Some(run) = wrote_in(text, &mark) {
                heard.lock().expect("fleet lock").wrote = Some(run.to_string());
                return;
            }
            if is_started(text, &mark) {
                gate.leave(&started);
                return;
            }
            if let Some(e) = text.strip_prefix("error: ") {
                heard.lock().expect("fleet lock").error = Some(e.to_string());
            }
            if !quiet && !text.is_empty() {
                // On the process's stderr: this runs on the part's thread, whose own stderr
                // is what is being passed on.
                let line = crate::output::printable_text(&format!("{name}: {text}"));
                crate::streams::say_on_process_stderr(&crate::redact::redact(&line));
            }
        }
    };
    let part = Arc::new(Part::new(&profile, &mark, input, Box::new(lines)));
    if !gate.enter() {
        return not_started(job);
    }
    // Started under the lock the Ctrl-C thread takes before setting `stopping`: a part either
    // started before it (and sees the interrupt) or is not started at all.
    let thread = {
        let _starting = lock.lock().expect("fleet lock");
        if stopping.load(Ordering::SeqCst) {
            gate.leave(&started);
            return not_started(job);
        }
        let start = |stack: usize| {
            let (args, member, part) = (job.args.clone(), job.member.clone(), part.clone());
            std::thread::Builder::new()
                .name(format!("part {profile}"))
                .stack_size(stack)
                .spawn(move || crate::cli::run_part(&args, member, &part))
        };
        start(crate::STACK_BYTES).or_else(|_| start(SMALL_STACK_BYTES))
    };
    let ended = match thread {
        Ok(thread) => thread.join(),
        Err(e) => {
            gate.leave(&started);
            return cut_short(job, 1, format!("cannot start its thread: {e}"));
        }
    };
    gate.leave(&started);
    let stdout = part.finish();
    let heard = std::mem::take(&mut *heard.lock().expect("fleet lock"));
    // A panic in a part ends that part (its message is printed as it happens), not the fleet.
    let (code, error) = match ended {
        Ok(code) => (code, heard.error),
        Err(_) => (
            101,
            Some("stopped on an internal error in mcsh (its message is above)".to_string()),
        ),
    };
    Done {
        profile,
        code,
        stdout,
        error,
        wrote: heard.wrote,
        mark,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_start_gate_lets_one_part_a_core_start_and_counts_each_part_once() {
        let gate = Arc::new(Gate::new(2));
        assert!(gate.enter());
        assert!(gate.enter());
        assert_eq!(gate.state.lock().unwrap().starting, 2);
        // A third waits until one of the two says it started ...
        let (tx, rx) = std::sync::mpsc::channel();
        let third = {
            let gate = gate.clone();
            std::thread::spawn(move || tx.send(gate.enter()).unwrap())
        };
        assert!(rx.recv_timeout(Duration::from_millis(20)).is_err());
        let first = AtomicBool::new(false);
        gate.leave(&first);
        assert!(rx.recv_timeout(Duration::from_secs(10)).unwrap());
        third.join().unwrap();
        // ... and that part ending later does not count again.
        gate.leave(&first);
        assert_eq!(gate.state.lock().unwrap().starting, 2);
    }

    #[test]
    fn parts_slow_to_start_are_passed_one_at_a_time_and_none_once_stopping() {
        let gate = Arc::new(Gate::new(1));
        let began = Instant::now();
        assert!(gate.enter());
        // Nobody says they started: the waiting parts go one a patience after the last start,
        // not all at once when their own waits run out.
        let (tx, rx) = std::sync::mpsc::channel();
        for _ in 0..3 {
            let (gate, tx) = (gate.clone(), tx.clone());
            std::thread::spawn(move || tx.send(gate.enter()).unwrap());
        }
        for _ in 0..3 {
            assert!(rx.recv_timeout(Gate::PATIENCE * 50).unwrap());
        }
        let waited = began.elapsed();
        assert!(waited >= Gate::PATIENCE * 3, "{waited:?}");
        // Stopping: a part waiting now, or coming later, is not let through.
        let waiting = {
            let gate = gate.clone();
            std::thread::spawn(move || gate.enter())
        };
        gate.close();
        assert!(!waiting.join().unwrap());
        assert!(!gate.enter());
    }
}

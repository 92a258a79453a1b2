//! Running each tenant's part as its own `mcsh` process, a bounded number at once.
//!
//! Policy: a part's standard output is kept for the report; its standard error is passed on
//! line by line behind the tenant's name (and its last `error:` kept for the summary).
//! Parts start through a gate ([`Gate`]): at most one a core is starting at a time, the next
//! starts when one says it has started (it connects) or ends, so their start-up work (the
//! process, the engine, compiling) is not spread thin over twenty at once, and the first to
//! start wait on the service while the later ones start.
//! Ctrl-C reaches every part (they share the terminal's process group; a signal sent to this
//! process alone is passed on), parts not started yet are not started, and each part stops
//! as a single run does on Ctrl-C.

use std::ffi::OsString;
use std::io::{BufRead, Read, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use super::member::{is_started, wrote_in, Member, MEMBER_ENV};
use crate::interrupt::Interrupt;

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
    /// The plan key, which seals what each part is told ([`Member::to_env`]).
    pub key: Vec<u8>,
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
    let running: Arc<Mutex<Vec<u32>>> = Arc::new(Mutex::new(Vec::new()));
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let gate = Arc::new(Gate::new(cores));
    {
        // Ctrl-C (or SIGTERM, which a service manager or `timeout` sends): stop starting
        // parts, and pass it on to those running as Ctrl-C, so each stops cleanly.
        let stopping = stopping.clone();
        let running = running.clone();
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
            // Parts check `stopping` as they register, under this lock: each is either
            // told here or never started.
            stopping.store(true, Ordering::SeqCst);
            gate.close();
            for pid in running.lock().expect("fleet lock").iter() {
                interrupt_process(*pid);
            }
        });
    }
    let results: Mutex<Vec<Option<Done>>> = Mutex::new((0..total).map(|_| None).collect());
    let exe = std::env::current_exe();
    std::thread::scope(|scope| {
        for _ in 0..env.jobs.clamp(1, total.max(1)) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(job) = jobs.get(i) else { break };
                // Whether the run is stopping is checked as the part starts (`run_one`).
                let done = match &exe {
                    Ok(exe) => {
                        let starting = Starting {
                            running: &running,
                            gate: &gate,
                            stopping: &stopping,
                        };
                        run_one(exe, job, env, input.clone(), starting)
                    }
                    Err(e) => cut_short(
                        job,
                        1,
                        format!("cannot find mcsh's own program to run: {e}"),
                    ),
                };
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

/// Passes Ctrl-C on to process `pid`.
fn interrupt_process(pid: u32) {
    #[cfg(unix)]
    // SAFETY: kill(2) with a pid this process started and has not reaped yet.
    unsafe {
        libc::kill(pid as libc::pid_t, libc::SIGINT);
    }
    #[cfg(not(unix))]
    let _ = pid;
}

/// What starting a part shares with the others: the processes running, the start gate, and
/// whether the run is stopping.
struct Starting<'a> {
    running: &'a Mutex<Vec<u32>>,
    gate: &'a Arc<Gate>,
    stopping: &'a AtomicBool,
}

/// Runs one part to its end.
fn run_one(
    exe: &std::path::Path,
    job: &Job,
    env: &Env,
    input: Option<Arc<Vec<u8>>>,
    starting: Starting,
) -> Done {
    let Starting {
        running,
        gate,
        stopping,
    } = starting;
    let quiet = env.quiet;
    let profile = job.member.profile.clone();
    let failed = |why: String| cut_short(job, 1, why);
    let mut command = Command::new(exe);
    command
        .args(&job.args)
        .env(MEMBER_ENV, job.member.to_env(&env.key, &job.args))
        // The fleet colours nothing of theirs: their lines are passed on behind a name.
        .env("NO_COLOR", "1")
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: prctl(2) in the child before exec; it touches no memory of the parent. A
        // fleet killed outright (SIGKILL) leaves no part running on: each is told Ctrl-C.
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGINT);
                Ok(())
            });
        }
    }
    let started = Arc::new(AtomicBool::new(false));
    if !gate.enter() {
        return not_started(job);
    }
    // Started and registered under the lock the Ctrl-C thread takes after setting
    // `stopping`: a part is either told Ctrl-C or not started at all.
    let mut registered = running.lock().expect("fleet lock");
    if stopping.load(Ordering::SeqCst) {
        drop(registered);
        gate.leave(&started);
        return not_started(job);
    }
    let mut child = match command.spawn() {
        Ok(c) => c,
        Err(e) => {
            drop(registered);
            gate.leave(&started);
            return failed(format!("cannot start its process: {e}"));
        }
    };
    let pid = child.id();
    registered.push(pid);
    drop(registered);
    if let (Some(bytes), Some(mut stdin)) = (input, child.stdin.take()) {
        std::thread::spawn(move || {
            // A part that does not read all of it closes the pipe: not an error here.
            let _ = stdin.write_all(&bytes);
        });
    }
    let stderr = child.stderr.take();
    let name = profile.clone();
    let (gate_of_part, started_of_part) = (gate.clone(), started.clone());
    let mark = job.member.mark.clone();
    let errors = std::thread::spawn(move || {
        let mut last_error = None;
        let mut wrote = None;
        let Some(stderr) = stderr else {
            return (last_error, wrote);
        };
        let mut reader = std::io::BufReader::new(stderr);
        let mut line = Vec::new();
        while reader.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
            let text = String::from_utf8_lossy(&line).trim_end().to_string();
            line.clear();
            if let Some(run) = wrote_in(&text, &mark) {
                wrote = Some(run.to_string());
                continue;
            }
            if is_started(&text, &mark) {
                gate_of_part.leave(&started_of_part);
                continue;
            }
            if let Some(e) = text.strip_prefix("error: ") {
                last_error = Some(e.to_string());
            }
            if !quiet && !text.is_empty() {
                crate::eprintln_data!("{name}: {text}");
            }
        }
        (last_error, wrote)
    });
    let mut stdout = Vec::new();
    if let Some(mut out) = child.stdout.take() {
        let _ = out.read_to_end(&mut stdout);
    }
    let status = child.wait();
    gate.leave(&started);
    running.lock().expect("fleet lock").retain(|p| *p != pid);
    let (error, wrote) = errors.join().unwrap_or((None, None));
    let code = match status {
        Ok(s) => s.code().unwrap_or(130),
        Err(e) => return failed(format!("lost its process: {e}")),
    };
    Done {
        profile,
        code,
        stdout,
        error,
        wrote,
        mark: job.member.mark.clone(),
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

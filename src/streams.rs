//! The standard streams as the running thread sees them: the process's own, or those of one
//! tenant's part of a fleet run.
//!
//! Policy: a run writes its results and messages, and reads its input, through here, never
//! through `std::io::stdout()` and its siblings. A usual run gets the process's own streams.
//! A fleet runs each tenant's part as threads of its own process (`cli/fleet/spawn.rs`), and
//! each part gets a [`Part`]: what it prints is kept for the fleet's report, its messages are
//! handed to the fleet a line at a time, its input is the bytes the fleet gave it, none of
//! them is a terminal, and the memory its threads allocate is counted on its own
//! ([`crate::alloc::Scope`]). The part's thread and its async runtime's threads enter it
//! ([`enter`]); everything else keeps the process's streams.

use std::cell::RefCell;
use std::io::{self, IsTerminal, Read, Write};
use std::sync::{Arc, Mutex};

/// One tenant's part of a fleet run, as its streams.
pub struct Part {
    profile: String,
    mark: String,
    out: Mutex<Vec<u8>>,
    err: Mutex<Vec<u8>>,
    lines: Box<dyn Fn(&str) + Send + Sync>,
    input: Option<Arc<Vec<u8>>>,
    read: Mutex<usize>,
    memory: &'static crate::alloc::Scope,
}

impl Part {
    /// The streams of `profile`'s part of the fleet run marked `mark`: `input` (if any) is its
    /// standard input, and each line it writes to standard error goes to `lines`, without
    /// its end. (A part colours nothing: `cli::report::painted`.)
    pub fn new(
        profile: &str,
        mark: &str,
        input: Option<Arc<Vec<u8>>>,
        lines: Box<dyn Fn(&str) + Send + Sync>,
    ) -> Part {
        Part {
            profile: profile.to_string(),
            mark: mark.to_string(),
            out: Mutex::new(Vec::new()),
            err: Mutex::new(Vec::new()),
            lines,
            input,
            read: Mutex::new(0),
            memory: crate::alloc::Scope::leaked(),
        }
    }

    /// The tenant.
    pub fn profile(&self) -> &str {
        &self.profile
    }

    /// What the part wrote to standard output, taken; a last line of standard error left
    /// without its end is handed on.
    pub fn finish(&self) -> Vec<u8> {
        let rest = std::mem::take(&mut *lock(&self.err));
        if !rest.is_empty() {
            (self.lines)(&String::from_utf8_lossy(&rest));
        }
        std::mem::take(&mut *lock(&self.out))
    }

    fn write_err(&self, bytes: &[u8]) {
        let mut err = lock(&self.err);
        err.extend_from_slice(bytes);
        let Some(end) = err.iter().rposition(|b| *b == b'\n') else {
            return;
        };
        let rest = err.split_off(end + 1);
        let done = std::mem::replace(&mut *err, rest);
        // Handed on under the lock, so the part's threads' lines keep their order.
        for line in done[..end].split(|b| *b == b'\n') {
            (self.lines)(&String::from_utf8_lossy(line));
        }
    }
}

/// A mutex's value, also after a thread panicked holding it (the bytes are still whole).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

thread_local! {
    static CURRENT: RefCell<Option<Arc<Part>>> = const { RefCell::new(None) };
}

/// Makes this thread one of `part`'s: its streams and its memory count are the part's.
pub fn enter(part: &Arc<Part>) {
    CURRENT.with(|c| *c.borrow_mut() = Some(part.clone()));
    crate::alloc::enter(part.memory);
}

/// The fleet part this thread belongs to, if any.
pub fn part() -> Option<Arc<Part>> {
    CURRENT.try_with(|c| c.borrow().clone()).ok().flatten()
}

/// The fleet run's mark when this thread is a fleet part's (see [`crate::output::MARK_KEY`]).
pub fn fleet_mark() -> Option<String> {
    part().map(|p| p.mark.clone())
}

/// Standard output: the process's (locked while this is held) or the part's.
pub enum Out {
    /// The process's standard output.
    Process(io::StdoutLock<'static>),
    /// A fleet part's, kept for the report.
    Part(Arc<Part>),
}

impl Out {
    /// Whether it is a terminal (a fleet part's never is).
    pub fn is_terminal(&self) -> bool {
        match self {
            Out::Process(o) => o.is_terminal(),
            Out::Part(_) => false,
        }
    }
}

impl Write for Out {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Out::Process(o) => o.write(buf),
            Out::Part(p) => {
                let mut out = lock(&p.out);
                out.extend_from_slice(buf);
                // Output a single run would have written out: not held against its memory.
                p.memory.set_kept(out.capacity());
                Ok(buf.len())
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Out::Process(o) => o.flush(),
            Out::Part(_) => Ok(()),
        }
    }
}

/// Standard output as this thread's run sees it.
pub fn stdout() -> Out {
    match part() {
        Some(p) => Out::Part(p),
        None => Out::Process(io::stdout().lock()),
    }
}

/// Standard error: the process's, or the part's (handed on a line at a time).
pub enum Err {
    /// The process's standard error.
    Process(io::Stderr),
    /// A fleet part's.
    Part(Arc<Part>),
}

impl Write for Err {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Err::Process(e) => e.write(buf),
            Err::Part(p) => {
                p.write_err(buf);
                Ok(buf.len())
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Err::Process(e) => e.flush(),
            Err::Part(_) => Ok(()),
        }
    }
}

/// Standard error as this thread's run sees it.
pub fn stderr() -> Err {
    match part() {
        Some(p) => Err::Part(p),
        None => Err::Process(io::stderr()),
    }
}

/// Writes `text` and an end of line to standard error, ignoring a closed stream.
pub fn say(text: &str) {
    let _ = writeln!(stderr(), "{text}");
}

/// Writes `text` and an end of line to the process's own standard error, from any thread (a
/// fleet passing on its parts' lines does so from theirs).
pub fn say_on_process_stderr(text: &str) {
    let _ = writeln!(io::stderr(), "{text}");
}

/// Standard input: the process's, or what the fleet gave the part (nothing, if it gave none).
pub enum In {
    /// The process's standard input.
    Process(io::StdinLock<'static>),
    /// A fleet part's.
    Part(Arc<Part>),
}

impl Read for In {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            In::Process(i) => i.read(buf),
            In::Part(p) => {
                let Some(input) = &p.input else { return Ok(0) };
                let mut at = lock(&p.read);
                let rest = input.get(*at..).unwrap_or_default();
                let n = rest.len().min(buf.len());
                buf[..n].copy_from_slice(&rest[..n]);
                *at += n;
                Ok(n)
            }
        }
    }
}

/// Standard input as this thread's run sees it.
pub fn stdin() -> In {
    match part() {
        Some(p) => In::Part(p),
        None => In::Process(io::stdin().lock()),
    }
}

/// Whether standard input is a terminal (a fleet part's never is).
pub fn stdin_is_terminal() -> bool {
    part().is_none() && io::stdin().is_terminal()
}

/// Whether standard output is a terminal (a fleet part's never is).
pub fn stdout_is_terminal() -> bool {
    part().is_none() && io::stdout().is_terminal()
}

/// Whether standard error is a terminal (a fleet part's never is).
pub fn stderr_is_terminal() -> bool {
    part().is_none() && io::stderr().is_terminal()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part_hearing(input: Option<&[u8]>) -> (Arc<Part>, Arc<Mutex<Vec<String>>>) {
        let heard = Arc::new(Mutex::new(Vec::new()));
        let h = heard.clone();
        let part = Part::new(
            "acme",
            "MARK",
            input.map(|i| Arc::new(i.to_vec())),
            Box::new(move |l| h.lock().unwrap().push(l.to_string())),
        );
        (Arc::new(part), heard)
    }

    #[test]
    fn a_parts_thread_writes_and_reads_its_own_streams_and_no_other_thread_does() {
        let (part, heard) = part_hearing(Some(b"email\na@x\n"));
        let p = part.clone();
        std::thread::spawn(move || {
            enter(&p);
            assert!(!stdout_is_terminal() && !stdin_is_terminal() && !stderr_is_terminal());
            assert_eq!(fleet_mark().as_deref(), Some("MARK"));
            writeln!(stdout(), "{{\"a\":1}}").unwrap();
            // A message written in pieces is handed on as whole lines, as written.
            write!(stderr(), "error: \u{1b}[2Jone").unwrap();
            write!(stderr(), "\nnext\nlast without end").unwrap();
            say("said");
            let mut input = String::new();
            stdin().read_to_string(&mut input).unwrap();
            assert_eq!(input, "email\na@x\n");
            assert_eq!(stdin().read(&mut [0u8; 4]).unwrap(), 0);
        })
        .join()
        .unwrap();
        assert!(
            super::part().is_none(),
            "this thread never entered the part"
        );
        assert_eq!(
            *heard.lock().unwrap(),
            ["error: \u{1b}[2Jone", "next", "last without endsaid"]
        );
        assert_eq!(part.finish(), b"{\"a\":1}\n");
        assert!(part.finish().is_empty());
    }

    #[test]
    fn a_last_line_without_its_end_is_handed_on_at_the_finish() {
        let (part, heard) = part_hearing(None);
        let p = part.clone();
        std::thread::spawn(move || {
            enter(&p);
            write!(stderr(), "no end").unwrap();
            assert_eq!(stdin().read(&mut [0u8; 4]).unwrap(), 0);
        })
        .join()
        .unwrap();
        assert!(heard.lock().unwrap().is_empty());
        part.finish();
        assert_eq!(*heard.lock().unwrap(), ["no end"]);
    }
}

//! mcsh: a scriptable shell for administering Mimecast's directory.
//!
//! The layers, top to bottom: `cli` and `repl` (commands and the interactive shell, the only
//! places that print), `script` (Rhai with the directory built in), `directory` (what an
//! admin means; the executor is the one writer), `api` (what Mimecast means), and beside them
//! `sandbox`, a local Mimecast that shares no type with the client. `config` resolves
//! credentials; `output` renders rows. docs/ARCHITECTURE.md walks through them and how a
//! write travels; docs/mimecast-api.md holds the API facts they follow.

pub mod alloc;
pub mod api;
pub mod cli;
pub mod config;
pub mod csv_in;
pub mod directory;
pub mod files;
pub mod interrupt;
pub mod output;
pub mod own_files;
pub mod redact;
pub mod repl;
pub mod sandbox;
pub mod script;
pub mod snapshot;
pub mod streams;
pub mod suggest;
pub mod text;

pub use cli::run;

/// Stack of the threads a run goes on (the binary's, and each tenant's part of a fleet run).
/// Scripts may recurse deeply (`--limit call-depth`, up to 10 000) and nest values deeply; a
/// main thread's 8 MiB would overflow first.
pub const STACK_BYTES: usize = 1 << 30;

/// `eprintln!` that never panics: a closed stderr (`2>&1 | head`) must not stop a run halfway
/// through its writes.
#[macro_export]
macro_rules! eprintln_safe {
    ($($arg:tt)*) => {{
        // Whatever reaches stderr passes the one redaction of secrets (redact.rs).
        let line = format!($($arg)*);
        $crate::streams::say(&$crate::redact::redact(&line));
    }};
}

/// `println!` that never panics on a closed stdout (`| head`); any other failure to write
/// (a full disk) is remembered, so the run ends with an error instead of exit 0.
#[macro_export]
macro_rules! println_safe {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!($crate::streams::stdout(), $($arg)*) {
            $crate::stdout_failed(&e);
        }
    }};
}

/// [`eprintln_safe!`] for a line that carries data (names, addresses, paths, script text):
/// control, bidi and zero-width characters are escaped, so data cannot rewrite the terminal.
#[macro_export]
macro_rules! eprintln_data {
    ($($arg:tt)*) => {{
        $crate::eprintln_safe!("{}", $crate::output::printable_text(&format!($($arg)*)))
    }};
}

/// [`println_safe!`] for a line that carries data, escaped as [`eprintln_data!`] does.
#[macro_export]
macro_rules! println_data {
    ($($arg:tt)*) => {{
        $crate::println_safe!(
            "{}",
            $crate::redact::redact(&$crate::output::printable_text(&format!($($arg)*)))
        )
    }};
}

/// The first failure to write standard output other than a closed pipe.
static STDOUT_FAILURE: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Remembers a failed write to standard output; a closed pipe (`| head`) is not a failure.
pub fn stdout_failed(e: &std::io::Error) {
    if e.kind() != std::io::ErrorKind::BrokenPipe {
        let _ = STDOUT_FAILURE.set(e.to_string());
    }
}

/// Why standard output could not be written, when it could not (a fleet part's output is
/// kept in memory, and never fails).
pub fn stdout_failure() -> Option<&'static str> {
    if streams::part().is_some() {
        return None;
    }
    STDOUT_FAILURE.get().map(String::as_str)
}

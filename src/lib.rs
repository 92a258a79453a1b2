//! mcsh: a scriptable shell for administering Mimecast's directory.
//!
//! The layers, top to bottom: `cli` (commands, the only place that prints), `directory`
//! (what an admin means), `api` (what Mimecast means), and beside them `sandbox`, a local
//! Mimecast that shares no type with the client. `config` resolves credentials; `output`
//! renders rows.

pub mod alloc;
pub mod api;
pub mod cli;
pub mod config;
pub mod csv_in;
pub mod directory;
pub mod files;
pub mod interrupt;
pub mod output;
pub mod repl;
pub mod sandbox;
pub mod script;
pub mod snapshot;
pub mod suggest;

pub use cli::run;

/// `eprintln!` that never panics: a closed stderr (`2>&1 | head`) must not stop a run halfway
/// through its writes.
#[macro_export]
macro_rules! eprintln_safe {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// `println!` that never panics on a closed stdout (`| head`).
#[macro_export]
macro_rules! println_safe {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

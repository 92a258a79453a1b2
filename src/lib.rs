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
pub mod directory;
pub mod files;
pub mod interrupt;
pub mod output;
pub mod repl;
pub mod sandbox;
pub mod script;

pub use cli::run;

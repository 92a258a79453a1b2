//! Integration tests: the real binary, and the real client, against an in-process sandbox on
//! 127.0.0.1:0. A scripted server stands in only for the narrow protocol cases no honest
//! server produces (a repeated page token, a garbage body).

mod support;

mod bulk;
mod client_protocol;
mod commands;
mod config_cmd;
mod conformance;
mod day_one;
mod day_two;
mod docs;
mod dry_run;
mod examples;
mod fleet;
mod handles;
mod hardening;
mod hardening3;
mod hostile;
mod layers;
mod network;
mod properties;
mod rehearsal;
mod reliability;
mod repl;
mod sandbox_cmd;
mod sandbox_wire;
mod script_runs;
mod scripting;
mod seed_workflows;
mod sync;
mod undo;
mod workflows;

//! The REPL's incomplete-input classifier on arbitrary text: never panics, and anything
//! that compiles is complete.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcsh::repl::input::{classify, Completeness};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let engine = rhai::Engine::new_raw();
        let verdict = classify(&engine, text);
        if engine.compile(text).is_ok() && !text.trim_start().starts_with(':') {
            assert_eq!(verdict, Completeness::Complete);
        }
    }
});

//! The response envelope decoder on arbitrary bytes: never panics; what it accepts keeps
//! its failures' codes non-empty.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(resp) = mcsh::api::envelope::decode(data) {
        for f in &resp.fail {
            assert!(!f.code.is_empty());
        }
    }
    let _ = mcsh::api::envelope::error_summary(data);
});

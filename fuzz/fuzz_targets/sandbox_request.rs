//! The sandbox's request parser on arbitrary bytes: never panics; a parsed page size is
//! always between 1 and 500.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = mcsh::sandbox::wire::parse_request(data) {
        assert!((1..=mcsh::sandbox::wire::MAX_PAGE_SIZE).contains(&req.page_size));
    }
});

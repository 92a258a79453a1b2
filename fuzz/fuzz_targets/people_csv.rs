//! The people-CSV checker on arbitrary bytes: never panics; every row it accepts has a
//! well-formed, unrepeated address.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let columns = vec!["email".to_string(), "name".to_string(), "groups".to_string()];
    if let Ok(people) = mcsh::script::fn_people::parse_people(data, &columns) {
        let mut seen = std::collections::HashSet::new();
        for p in people {
            assert!(mcsh::directory::email::normalize(&p.email).is_ok());
            assert!(seen.insert(p.email.to_ascii_lowercase()));
        }
    }
});

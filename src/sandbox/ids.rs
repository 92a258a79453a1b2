//! Ids as the real service shapes them: group ids are long opaque strings (~250 characters)
//! that people cannot retype, which is why mcsh resolves groups by name.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::{Rng, RngExt};

/// A new group id: `eNo` and 240 URL-safe characters.
pub fn group_id() -> String {
    group_id_from(&mut rand::rng())
}

/// A group id drawn from `rng` (the demo tenant uses a seeded one).
pub fn group_id_from(rng: &mut impl Rng) -> String {
    let mut bytes = [0u8; 180];
    rng.fill_bytes(&mut bytes);
    format!("eNo{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// A new user id.
pub fn user_id() -> String {
    format!("u{:032x}", rand::rng().random::<u128>())
}

/// A new membership id.
pub fn member_id() -> String {
    format!("m{:032x}", rand::rng().random::<u128>())
}

/// A random secret of `bytes` bytes, hex-encoded.
pub fn hex_secret(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

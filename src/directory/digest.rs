//! Digests of what a plan read: a group listing and a group's members, compared when the
//! plan is applied to tell whether the directory changed since.

use serde::Serialize;

/// Accumulates a digest over values (FNV-1a 64 of their JSON).
#[derive(Debug, Clone, Copy)]
pub struct Digest(u64);

impl Default for Digest {
    fn default() -> Self {
        Digest(0xcbf29ce484222325)
    }
}

impl Digest {
    /// Adds `value`.
    pub fn update(&mut self, value: &impl Serialize) {
        let text = serde_json::to_string(value).unwrap_or_default();
        for b in text.bytes() {
            self.0 ^= b as u64;
            self.0 = self.0.wrapping_mul(0x100000001b3);
        }
    }

    /// The digest as hex.
    pub fn hex(&self) -> String {
        format!("{:016x}", self.0)
    }

    /// The digest of one value.
    pub fn of(value: &impl Serialize) -> String {
        let mut d = Digest::default();
        d.update(value);
        d.hex()
    }
}

/// The digest of a group listing: each group's id, name, parent and source, in any order.
/// Ids count by what they refer to ([`crate::api::ids::identity`]): the service answering
/// another string for the same folder is no change. Member counts are left out: they follow
/// the memberships, which their own reads cover, and a rehearsal copy counts them its own way.
pub fn groups_digest(groups: &[crate::api::Group]) -> String {
    use crate::api::ids::identity;
    let mut keys: Vec<(String, &str, Option<String>, &str)> = groups
        .iter()
        .map(|g| {
            (
                identity(&g.id).into_owned(),
                g.description.as_str(),
                g.parent_id.as_deref().map(|p| identity(p).into_owned()),
                g.source.as_str(),
            )
        })
        .collect();
    keys.sort();
    Digest::of(&keys)
}

/// The digest of a group's members: who they are (address or domain, any case, any order).
pub fn members_digest(members: &[crate::api::Member]) -> String {
    let mut keys: Vec<String> = members.iter().map(crate::api::Member::key).collect();
    keys.sort();
    Digest::of(&keys)
}

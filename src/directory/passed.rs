//! The users a run's listings passed, kept compactly: what foresees a later write to one of
//! them in a dry run, and the name `mcsh undo` puts back after a rename.
//!
//! Policy: a `for u in users()` loop holds a page at a time, so what it passed is kept in two
//! growing buffers (one text, one table), never as an allocation per user: thousands of small
//! long-lived allocations left among a listing's short-lived ones made every later allocation
//! slower (a million-user loop took twice the CPU). At most [`PASSED_USERS`] are kept.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};

use crate::api::User;

/// Most users a run keeps from the listings it passed: any but the largest tenants whole,
/// in a few MB.
pub const PASSED_USERS: usize = 100_000;

/// One user passed: where its lower-case address and its name are in the text.
#[derive(Clone, Copy)]
struct Entry {
    at: u32,
    email: u16,
    name: u16,
    synced: bool,
}

/// The users passed, by lower-case address.
#[derive(Default)]
pub(crate) struct Passed {
    text: String,
    entries: Vec<Entry>,
    /// Entry by the address's hash; an address whose hash another holds is not kept.
    index: HashMap<u64, u32>,
    /// Some user passed was not kept ([`PASSED_USERS`] were kept already): an address not
    /// kept may still be a user.
    pub full: bool,
    /// Domains a listing passed whole, every user kept: an address of one not kept is no
    /// live user.
    whole: std::collections::HashSet<String>,
}

fn hash(email: &str) -> u64 {
    BuildHasherDefault::<DefaultHasher>::default().hash_one(email)
}

impl Passed {
    /// Keeps the mailboxes of `users` (not their alias rows), while there is room.
    pub fn keep(&mut self, users: &[User]) {
        for u in users.iter().filter(|u| !u.is_alias()) {
            let email = u.email_address.to_ascii_lowercase();
            if self.entries.len() >= PASSED_USERS
                || self.text.len() > u32::MAX as usize / 2
                || email.len() > u16::MAX as usize
                || u.name.len() > u16::MAX as usize
            {
                self.full = true;
                return;
            }
            let key = hash(&email);
            if self.index.contains_key(&key) {
                // Passed twice, or (unlikely) another address with the same hash: not kept
                // twice, and not told as whole.
                if self.get(&email).is_none() {
                    self.full = true;
                }
                continue;
            }
            let entry = Entry {
                at: self.text.len() as u32,
                email: email.len() as u16,
                name: u.name.len() as u16,
                synced: u.is_synced(),
            };
            self.text.push_str(&email);
            self.text.push_str(&u.name);
            self.index.insert(key, self.entries.len() as u32);
            self.entries.push(entry);
        }
    }

    /// Marks `domain` (lower case) as passed whole.
    pub fn passed_whole(&mut self, domain: &str) {
        self.whole.insert(domain.to_string());
    }

    /// Whether `email` (lower case) is no live user: its domain was passed whole without it.
    pub fn is_not_listed(&self, email: &str) -> bool {
        self.whole.contains(super::email::domain_of(email)) && self.get(email).is_none()
    }

    /// The user `email` (lower-case) as passed: its address, name and whether directory sync
    /// manages it.
    pub fn get(&self, email: &str) -> Option<User> {
        let e = self.entries[*self.index.get(&hash(email))? as usize];
        let at = e.at as usize;
        let (address, name) = (
            &self.text[at..at + e.email as usize],
            &self.text[at + e.email as usize..at + e.email as usize + e.name as usize],
        );
        (address == email).then(|| User {
            email_address: address.to_string(),
            name: name.to_string(),
            domain: super::email::domain_of(address).to_string(),
            source: if e.synced { "ldap" } else { "cloud" }.to_string(),
            ..User::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passed_users_are_kept_by_address_and_told_exactly() {
        let user = |email: &str, name: &str, source: &str| User {
            email_address: email.into(),
            name: name.into(),
            source: source.into(),
            ..User::default()
        };
        let mut passed = Passed::default();
        passed.keep(&[
            user("Zoë.Costa@example.com", "Zoë Costa", "ldap"),
            user("sam@example.com", "Sam", "cloud"),
        ]);
        let zoe = passed.get("zoë.costa@example.com").unwrap();
        assert_eq!(zoe.name, "Zoë Costa");
        assert!(zoe.is_synced());
        assert!(!passed.get("sam@example.com").unwrap().is_synced());
        assert_eq!(passed.get("nobody@example.com"), None);
        assert!(!passed.full);
    }
}

//! Which writes must wait for which: the order that matters when many writes go out at once.
//!
//! Policy: writes are taken in the order they were made, and each goes into the first wave
//! after every earlier write it depends on. Two writes depend on each other when one writes
//! what the other writes or reads:
//! - a membership writes the pair (group, member) and reads the member's user and the group;
//! - a user's creation, change, purge-list entry or alias writes that user (an alias both
//!   addresses);
//! - a group's creation writes the group it makes (known by its planned id) and reads its
//!   parent; a rename or move writes the group and reads the new parent; a delete writes it,
//!   and group deletes go one at a time in the order given (a parent after its children).
//!
//! So a user is created before it joins a group, a group before its members and children, an
//! add and a later remove of the same pair stay in order, a group's members are removed before
//! it is deleted, and everything else (different pairs, different users, interleaved kinds)
//! shares one wave: one round of batched requests.

use std::collections::HashMap;

use serde_json::Value;

use crate::api::paths;

fn text(item: &Value, key: &str) -> String {
    item.get(key)
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// Case is kept in group ids (they are opaque); only addresses are folded.
fn id(item: &Value, key: &str) -> Option<String> {
    item.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(|s| format!("g {s}"))
}

/// The keys a write of `endpoint` with `item` writes and reads.
fn keys(endpoint: &str, item: &Value) -> (Vec<String>, Vec<String>) {
    match endpoint {
        paths::ADD_GROUP_MEMBER | paths::REMOVE_GROUP_MEMBER => {
            let member = match text(item, "emailAddress") {
                e if e.is_empty() => format!("domain {}", text(item, "domain")),
                e => e,
            };
            let group = item.get("id").and_then(Value::as_str).unwrap_or("");
            let mut reads = vec![format!("u {member}")];
            reads.extend(id(item, "id"));
            (vec![format!("m {group} {member}")], reads)
        }
        paths::UPDATE_ALIAS => (
            vec![
                format!("u {}", text(item, "aliasFor")),
                format!("u {}", text(item, "alias")),
            ],
            Vec::new(),
        ),
        paths::ADD_TO_PURGE_LIST | paths::REMOVE_FROM_PURGE_LIST => (
            item.get("emailAddresses")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(|e| format!("u {}", e.to_ascii_lowercase()))
                .collect(),
            Vec::new(),
        ),
        paths::CREATE_GROUP => {
            let planned = item
                .get("description")
                .and_then(Value::as_str)
                .map(|d| format!("g planned:{d}"));
            (
                planned.into_iter().collect(),
                id(item, "parentId").into_iter().collect(),
            )
        }
        paths::UPDATE_GROUP => (
            id(item, "id").into_iter().collect(),
            id(item, "parentId").into_iter().collect(),
        ),
        // Deletes go one after another, in the order given: a parent can only go once its
        // children have (undo lists them newest first, so children come first), and the items
        // do not say which group is whose parent.
        paths::DELETE_GROUP => (
            id(item, "id")
                .into_iter()
                .chain(["group deletes".to_string()])
                .collect(),
            Vec::new(),
        ),
        _ => (
            vec![format!("u {}", text(item, "emailAddress"))],
            Vec::new(),
        ),
    }
}

/// Whether a write of `endpoint` with `item` writes or depends on the user `email`.
pub(crate) fn touches_user(endpoint: &str, item: &Value, email: &str) -> bool {
    let key = format!("u {}", email.to_ascii_lowercase());
    let (writes, reads) = keys(endpoint, item);
    writes.contains(&key) || reads.contains(&key)
}

/// The wave of each write, in the order given: the first after every earlier write it
/// depends on.
pub(crate) fn waves<'a>(writes: impl IntoIterator<Item = (&'a str, &'a Value)>) -> Vec<usize> {
    let mut written: HashMap<String, usize> = HashMap::new();
    let mut read: HashMap<String, usize> = HashMap::new();
    writes
        .into_iter()
        .map(|(endpoint, item)| {
            let (writes, reads) = keys(endpoint, item);
            let after = |map: &HashMap<String, usize>, k: &String| map.get(k).map(|w| w + 1);
            let wave = writes
                .iter()
                .flat_map(|k| [after(&written, k), after(&read, k)])
                .chain(reads.iter().map(|k| after(&written, k)))
                .flatten()
                .max()
                .unwrap_or(0);
            for k in writes {
                let w = written.entry(k).or_insert(wave);
                *w = (*w).max(wave);
            }
            for k in reads {
                let r = read.entry(k).or_insert(wave);
                *r = (*r).max(wave);
            }
            wave
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn of(writes: &[(&'static str, Value)]) -> Vec<usize> {
        waves(writes.iter().map(|(e, i)| (*e, i)))
    }

    #[test]
    fn independent_writes_share_a_wave_and_dependent_ones_follow() {
        let add = |g: &str, e: &str| (paths::ADD_GROUP_MEMBER, json!({"id": g, "emailAddress": e}));
        let remove = |g: &str, e: &str| {
            (
                paths::REMOVE_GROUP_MEMBER,
                json!({"id": g, "emailAddress": e}),
            )
        };
        let create = |e: &str| (paths::CREATE_USER, json!({"emailAddress": e}));
        let writes = [
            create("a@x.com"),                                        // 0
            add("g", "a@x.com"),                                      // after its user: 1
            add("h", "A@x.com"),                                      // another group, same user: 1
            add("g", "b@x.com"),                                      // nothing before it: 0
            remove("g", "b@x.com"), // after the add of the same pair: 1
            add("g", "b@x.com"),    // and again after that: 2
            remove("h", "c@x.com"), // interleaved kinds, no dependency: 0
            (paths::UPDATE_USER, json!({"emailAddress": "a@x.com"})), // after the adds reading a: 2
        ];
        assert_eq!(of(&writes), [0, 1, 1, 0, 1, 2, 0, 2]);
    }

    #[test]
    fn purges_and_aliases_order_by_every_address_they_touch() {
        let writes = [
            (paths::CREATE_USER, json!({"emailAddress": "a@x.com"})),
            (
                paths::UPDATE_ALIAS,
                json!({"aliasFor": "a@x.com", "alias": "b@x.com"}),
            ),
            (
                paths::ADD_TO_PURGE_LIST,
                json!({"emailAddresses": ["b@x.com"]}),
            ),
            (
                paths::ADD_TO_PURGE_LIST,
                json!({"emailAddresses": ["c@x.com"]}),
            ),
        ];
        assert_eq!(of(&writes), [0, 1, 2, 0]);
    }

    #[test]
    fn groups_come_before_their_children_and_members_and_go_after_them() {
        let writes = [
            (paths::CREATE_GROUP, json!({"description": "Ops"})), // 0
            (
                paths::CREATE_GROUP,
                json!({"description": "Net", "parentId": "planned:Ops"}),
            ), // 1
            (
                paths::ADD_GROUP_MEMBER,
                json!({"id": "planned:Net", "emailAddress": "a@x.com"}),
            ), // 2
            (
                paths::REMOVE_GROUP_MEMBER,
                json!({"id": "old", "emailAddress": "a@x.com"}),
            ), // 0
            (paths::DELETE_GROUP, json!({"id": "old"})),          // after its member's removal: 1
            (
                paths::UPDATE_GROUP,
                json!({"id": "other", "description": "X"}),
            ), // 0
            (paths::DELETE_GROUP, json!({"id": "old-parent"})),   // after the delete before it: 2
        ];
        assert_eq!(of(&writes), [0, 1, 2, 0, 1, 0, 2]);
    }
}

//! The one place every write goes through: batching, concurrency, retries, audit, progress.
//!
//! Policy:
//! - Items are packed `batch_size` to a request and `concurrency` requests run at once; each
//!   `fail[]` entry is mapped back to its item by its echoed `key`.
//! - Only retryable items are sent again. A batch whose answer was lost (connection dropped,
//!   timeout, 5xx) may or may not have happened (docs/mimecast-api.md §8):
//!   - writes that are idempotent by themselves (adding or removing a member, an alias, the
//!     purge list) are sent again; after such a resend, the documented "already a member" and
//!     "not a member" mean our first attempt worked;
//!   - the others (creating a user or a group, renaming or moving a group, changing a user,
//!     deleting a group) are settled by reading the directory: what happened counts as done,
//!     and only what did not is sent again. No undocumented error code is relied on.
//! - The purge list takes many addresses in one item: its items go out 1 000 to a call.
//! - Each item ends as created, updated, removed, unchanged or failed (with code and message),
//!   and each is written to the audit log with the request id that carried it.

use futures_util::stream::{self, StreamExt};
use serde_json::Value;

use super::outcome::{ItemResult, Status};
use super::preview::Prediction;
use super::wording::Wording;
use super::{DirError, Directory};
use crate::api::envelope::Request;
use crate::api::{paths, ApiError, Failure, Kind};

/// How many times one batch is sent at most.
pub const MAX_ATTEMPTS: u32 = 6;

/// One item's result, the answer's `data` entry for it, and the request that carried it.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// What happened.
    pub result: ItemResult,
    /// The service's `data` entry for a successful item.
    pub data: Option<Value>,
    /// The `x-mc-req-id` of the request that decided it.
    pub request_id: Option<String>,
}

/// What to do with a batch whose answer was lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lost {
    /// Send it again: doing it twice is the same as once.
    Resend,
    /// Read the directory to learn what happened; send again only what did not.
    Settle,
}

#[derive(Debug, Clone, Copy)]
struct Policy {
    lost: Lost,
    /// The documented code meaning "already so", and the status it gives on a first attempt.
    already: Option<(&'static str, Status)>,
    /// Items are single addresses merged into one `emailAddresses` item per call.
    merge: bool,
}

fn policy(endpoint: &str) -> Policy {
    let plain = |lost| Policy {
        lost,
        already: None,
        merge: false,
    };
    match endpoint {
        paths::ADD_GROUP_MEMBER => Policy {
            already: Some(("err_folder_group_member_already_exists", Status::Unchanged)),
            ..plain(Lost::Resend)
        },
        paths::REMOVE_GROUP_MEMBER => Policy {
            already: Some(("err_folder_email_address_not_found", Status::Unchanged)),
            ..plain(Lost::Resend)
        },
        paths::ADD_TO_PURGE_LIST | paths::REMOVE_FROM_PURGE_LIST => Policy {
            merge: true,
            ..plain(Lost::Resend)
        },
        paths::UPDATE_ALIAS => plain(Lost::Resend),
        _ => plain(Lost::Settle),
    }
}

/// Most addresses one purge-list call carries (documented for remove-from-purge-list).
pub const PURGE_BATCH: usize = 1000;

/// The address of a single-address purge-list item.
fn purge_address(item: &Value) -> Option<&str> {
    item.get("emailAddresses")?.get(0)?.as_str()
}

/// Whether the request may have run although no answer says so.
fn answer_lost(e: &ApiError) -> bool {
    match e {
        ApiError::Transport { .. }
        | ApiError::Timeout { .. }
        | ApiError::RateLimited { .. }
        | ApiError::Decode { .. } => true,
        ApiError::Status { status, .. } => *status >= 500,
        ApiError::Failed { status, .. } => *status >= 500,
        _ => false,
    }
}

/// The failure reported for `item`: by the echoed key, or failing that by its address (for a
/// merged purge-list item, the address among the key's `emailAddresses`).
fn failure_of<'a>(fail: &'a [Failure], item: &Value) -> Option<&'a Failure> {
    if let Some(address) = purge_address(item) {
        return fail.iter().find(|f| {
            f.key
                .as_ref()
                .and_then(|k| k.get("emailAddresses"))
                .and_then(Value::as_array)
                .is_some_and(|list| {
                    list.iter()
                        .filter_map(Value::as_str)
                        .any(|a| a.eq_ignore_ascii_case(address))
                })
        });
    }
    fail.iter()
        .find(|f| f.key.as_ref() == Some(item))
        .or_else(|| {
            fail.iter()
                .find(|f| f.key.as_ref().is_some_and(|k| same_item(k, item)))
        })
}

/// Whether an echoed `key` names `item`: it carries the item's address (in any case) and
/// every other field the two share agrees, so a failure of one group's item is never taken
/// for another group's item of the same address.
fn same_item(key: &Value, item: &Value) -> bool {
    let (Some(key), Some(item)) = (key.as_object(), item.as_object()) else {
        return false;
    };
    let address = |m: &serde_json::Map<String, Value>| {
        m.get("emailAddress")
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase)
    };
    if address(key).is_none() || address(key) != address(item) {
        return false;
    }
    key.iter()
        .filter(|(k, _)| k.as_str() != "emailAddress")
        .all(|(k, v)| item.get(k).is_none_or(|w| w == v))
}

impl Directory {
    /// Sends `items` (label, `data` item) to `endpoint` in batches; one outcome per item, in
    /// input order. Credentials refused stop everything (an error); anything else is a failed
    /// item.
    pub async fn execute(
        &self,
        endpoint: &'static str,
        items: Vec<(String, Value)>,
        wording: &Wording,
    ) -> Result<Vec<Outcome>, DirError> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        refuse_control_characters(&items)?;
        if !self.is_dry_run() {
            if let Some(audit) = self.audit() {
                audit
                    .ensure_open()
                    .map_err(|detail| DirError::AuditUnavailable { detail })?;
            }
        }
        self.progress_total(items.len());
        if self.is_dry_run() {
            let predictions = self.predict(endpoint, &items).await?;
            let out: Vec<Outcome> = items
                .into_iter()
                .zip(predictions)
                .map(|((label, item), prediction)| {
                    let wording = wording.of(&item);
                    let result = match prediction {
                        Prediction::NoOp => {
                            let r =
                                ItemResult::new(label, Status::Unchanged, wording.already.clone());
                            match policy(endpoint).already {
                                Some((code, _)) => r.with_code(code),
                                None => r,
                            }
                        }
                        Prediction::Refused(code, message) => {
                            let f = Failure {
                                key: None,
                                code: code.to_string(),
                                message,
                                retryable: false,
                                field: None,
                            };
                            ItemResult::new(label.clone(), Status::Failed, explain(&label, &f))
                                .with_code(code)
                        }
                        Prediction::Change => {
                            self.planned(endpoint, item.clone());
                            ItemResult::new(
                                label,
                                Status::Planned,
                                format!("would be {}", wording.done),
                            )
                        }
                    };
                    self.audit_item(endpoint, &item, &result, None, true, None);
                    Outcome {
                        result,
                        data: None,
                        request_id: None,
                    }
                })
                .collect();
            let failed = out
                .iter()
                .filter(|o| o.result.status == Status::Failed)
                .count();
            self.progress_done(out.len(), failed);
            return Ok(out);
        }
        // The same membership twice in one call (`Sales` and `sales`, one address in two
        // cases) is sent once: the service would refuse the second as "already a member", and
        // both items would read that refusal. The repeat is reported unchanged.
        let (unique, repeats) = split_repeats(endpoint, items);
        let size = if policy(endpoint).merge {
            PURGE_BATCH
        } else {
            self.options.batch_size.max(1)
        };
        let batches: Vec<Vec<(String, Value)>> = unique.chunks(size).map(<[_]>::to_vec).collect();
        let answers: Vec<Result<Vec<Outcome>, ApiError>> = stream::iter(batches)
            .map(|batch| self.run_batch(endpoint, batch, wording))
            .buffered(self.options.concurrency.max(1))
            .collect()
            .await;
        let mut sent = Vec::with_capacity(unique.len());
        for a in answers {
            sent.extend(a?);
        }
        let mut sent = sent.into_iter();
        let mut out = Vec::with_capacity(repeats.len());
        for repeat in repeats {
            match repeat {
                None => out.push(sent.next().expect("one outcome per item sent")),
                Some((label, item)) => {
                    let mut result = ItemResult::new(
                        label,
                        Status::Unchanged,
                        wording.of(&item).already.clone(),
                    );
                    if let Some((code, _)) = policy(endpoint).already {
                        result = result.with_code(code);
                    }
                    self.audit_item(endpoint, &item, &result, None, false, None);
                    out.push(Outcome {
                        result,
                        data: None,
                        request_id: None,
                    });
                }
            }
        }
        Ok(out)
    }

    async fn run_batch(
        &self,
        endpoint: &'static str,
        batch: Vec<(String, Value)>,
        wording: &Wording,
    ) -> Result<Vec<Outcome>, ApiError> {
        let policy = policy(endpoint);
        let mut outcomes: Vec<Option<Outcome>> = vec![None; batch.len()];
        let mut pending: Vec<usize> = (0..batch.len()).collect();
        let mut resent = vec![false; batch.len()];
        let mut attempt = 0;
        while !pending.is_empty() {
            attempt += 1;
            let data = if policy.merge {
                let all: Vec<&str> = pending
                    .iter()
                    .filter_map(|&i| purge_address(&batch[i].1))
                    .collect();
                vec![serde_json::json!({ "emailAddresses": all })]
            } else {
                pending.iter().map(|&i| batch[i].1.clone()).collect()
            };
            let request = Request { meta: None, data };
            let resp = match self.client().send(endpoint, Kind::Write, &request).await {
                Ok(resp) => resp,
                Err(e) if e.is_auth() => return Err(e),
                // Told to stop before anything of the batch was sent: nothing happened, so
                // nothing is recorded; the caller stops.
                Err(e) if e.is_stopped() && attempt == 1 => return Err(e),
                Err(e) if e.is_stopped() => {
                    // Sent again after a lost answer: whether the first one happened is not
                    // known. Otherwise the service had said it was not done.
                    let (unknown, undone): (Vec<usize>, Vec<usize>) =
                        pending.iter().partition(|&&i| resent[i]);
                    let message = "its answer was lost and the run was stopped before it could \
                                   be sent again: whether it happened is unknown; run the same \
                                   command again to settle it";
                    fail_all(&mut outcomes, &batch, &unknown, message, &e.code());
                    fail_all(&mut outcomes, &batch, &undone, &e.to_string(), &e.code());
                    break;
                }
                Err(e) if answer_lost(&e) && attempt < MAX_ATTEMPTS => {
                    self.client().count_retry();
                    let wait = self.client().backoff(attempt);
                    self.client().stop_signal().nap(wait).await;
                    if policy.lost == Lost::Resend {
                        for &i in &pending {
                            resent[i] = true;
                        }
                        continue;
                    }
                    let items: Vec<Value> = pending.iter().map(|&i| batch[i].1.clone()).collect();
                    match self.settle(endpoint, &items).await {
                        Ok(found) => {
                            let mut still = Vec::new();
                            for (&i, done) in pending.iter().zip(found) {
                                match done {
                                    Some(data) => {
                                        let wording = wording.of(&batch[i].1);
                                        let result = ItemResult::new(
                                            batch[i].0.clone(),
                                            wording.success,
                                            wording.done.clone(),
                                        );
                                        outcomes[i] = Some(Outcome {
                                            result,
                                            data: Some(data),
                                            request_id: None,
                                        });
                                    }
                                    None => still.push(i),
                                }
                            }
                            pending = still;
                            continue;
                        }
                        Err(read) => {
                            let message = format!(
                                "the answer was lost ({e}) and reading the directory to learn \
                                 whether it happened failed too ({read}); run the same command \
                                 again to settle it"
                            );
                            fail_all(&mut outcomes, &batch, &pending, &message, &e.code());
                            break;
                        }
                    }
                }
                Err(e) => {
                    fail_all(&mut outcomes, &batch, &pending, &e.to_string(), &e.code());
                    break;
                }
            };
            let mut data = if policy.merge {
                Vec::new().into_iter()
            } else {
                resp.data.into_iter()
            };
            let mut again = Vec::new();
            for &i in &pending {
                let (label, item) = &batch[i];
                let wording = wording.of(item);
                let result = match failure_of(&resp.fail, item) {
                    None => ItemResult::new(label.clone(), wording.success, wording.done.clone()),
                    Some(f) if f.retryable && attempt < MAX_ATTEMPTS => {
                        again.push(i);
                        continue;
                    }
                    Some(f) => match policy.already {
                        Some((code, first)) if f.code == code => {
                            let status = if resent[i] { wording.success } else { first };
                            let message = match status {
                                Status::Unchanged => wording.already.clone(),
                                Status::Failed => f.to_string(),
                                _ => wording.done.clone(),
                            };
                            ItemResult::new(label.clone(), status, message)
                                .with_code(f.code.clone())
                        }
                        _ => ItemResult::new(label.clone(), Status::Failed, explain(label, f))
                            .with_code(f.code.clone()),
                    },
                };
                let entry = if result.status == wording.success && result.code.is_none() {
                    data.next()
                } else {
                    None
                };
                outcomes[i] = Some(Outcome {
                    result,
                    data: entry,
                    request_id: resp.request_id.clone(),
                });
            }
            if !again.is_empty() {
                self.client().count_retry();
                let wait = self.client().backoff(attempt);
                self.client().stop_signal().nap(wait).await;
            }
            pending = again;
        }
        let outcomes: Vec<Outcome> = outcomes
            .into_iter()
            .map(|o| o.expect("every item decided"))
            .collect();
        let failed = outcomes
            .iter()
            .filter(|o| o.result.status == Status::Failed)
            .count();
        self.audit_items(
            endpoint,
            false,
            outcomes
                .iter()
                .zip(&batch)
                .map(|(o, (_, item))| (item, &o.result, o.request_id.as_deref(), o.data.as_ref())),
        );
        self.progress_done(outcomes.len(), failed);
        Ok(outcomes)
    }

    /// Sends one write and returns its `data` entry; a failed item is an error.
    pub async fn execute_one(
        &self,
        endpoint: &'static str,
        label: &str,
        item: Value,
        wording: &Wording,
    ) -> Result<Option<Value>, DirError> {
        let mut out = self
            .execute(endpoint, vec![(label.to_string(), item)], wording)
            .await?;
        let o = out.pop().expect("one outcome");
        if o.result.status == Status::Failed {
            let code = o.result.code.clone().unwrap_or_else(|| "failed".into());
            // The item's message already reads "Mimecast CODE: text"; keep only the text.
            let prefix = format!("Mimecast {code}: ");
            let message = o
                .result
                .message
                .strip_prefix(&prefix)
                .unwrap_or(&o.result.message)
                .to_string();
            let failure = Failure {
                key: None,
                code,
                message,
                retryable: false,
                field: None,
            };
            return Err(ApiError::Failed {
                path: endpoint.to_string(),
                status: 200,
                failures: vec![failure],
            }
            .into());
        }
        Ok(o.data)
    }
}

/// The items of a membership call without repeats (the same group and member, any case),
/// and, in input order, `None` for an item sent or `Some(item)` for a repeat of one.
#[allow(clippy::type_complexity)]
fn split_repeats(
    endpoint: &str,
    items: Vec<(String, Value)>,
) -> (Vec<(String, Value)>, Vec<Option<(String, Value)>>) {
    if policy(endpoint).already.is_none() {
        let n = items.len();
        return (items, vec![None; n]);
    }
    let key = |item: &Value| {
        let text = |k: &str| {
            item.get(k)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_ascii_lowercase()
        };
        let id = item
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        (id, text("emailAddress"), text("domain"))
    };
    let mut seen = std::collections::HashSet::new();
    let mut unique = Vec::with_capacity(items.len());
    let mut order = Vec::with_capacity(items.len());
    for (label, item) in items {
        if seen.insert(key(&item)) {
            unique.push((label, item));
            order.push(None);
        } else {
            order.push(Some((label, item)));
        }
    }
    (unique, order)
}

/// Marks every pending item of `batch` failed with `message` and `code`.
fn fail_all(
    outcomes: &mut [Option<Outcome>],
    batch: &[(String, Value)],
    pending: &[usize],
    message: &str,
    code: &str,
) {
    for &i in pending {
        let result = ItemResult::new(batch[i].0.clone(), Status::Failed, message).with_code(code);
        outcomes[i] = Some(Outcome {
            result,
            data: None,
            request_id: None,
        });
    }
}

/// Refuses, before anything is sent or planned, a name or group name holding a control
/// character (a NUL, an escape, a line break): no admin means one, and a terminal or a CSV
/// showing it later would be misled.
pub(crate) fn refuse_control_characters(items: &[(String, Value)]) -> Result<(), DirError> {
    for (label, item) in items {
        for field in ["name", "description"] {
            if let Some(text) = item.get(field).and_then(Value::as_str) {
                if let Some(c) = text.chars().find(|c| c.is_control()) {
                    return Err(DirError::Refused {
                        detail: format!(
                            "the {} for {} holds the control character {}: {:?}; fix the \
                             input (nothing was sent)",
                            if field == "name" {
                                "name"
                            } else {
                                "group name"
                            },
                            crate::output::printable(label),
                            c.escape_unicode(),
                            text
                        ),
                    });
                }
            }
        }
    }
    Ok(())
}

/// A failed item's message: the service's words, with plain ones where they are cryptic.
fn explain(label: &str, f: &Failure) -> String {
    match f.code.as_str() {
        "err_xdk_operation_forbidden_for_address" | "err_folder_directory_synchronized" => format!(
            "{}; {f}",
            super::synced_message(label).replacen(" is managed", " is most likely managed", 1)
        ),
        _ => f.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn failures_are_found_by_key_or_address() {
        let fail = vec![Failure {
            key: Some(json!({"id": "g", "emailAddress": "A@x.com"})),
            code: "c".into(),
            message: "m".into(),
            retryable: false,
            field: None,
        }];
        assert!(failure_of(&fail, &json!({"id": "g", "emailAddress": "A@x.com"})).is_some());
        assert!(failure_of(&fail, &json!({"id": "g", "emailAddress": "a@x.com"})).is_some());
        assert!(failure_of(&fail, &json!({"id": "g", "emailAddress": "b@x.com"})).is_none());
        assert!(
            failure_of(&fail, &json!({"id": "h", "emailAddress": "a@x.com"})).is_none(),
            "the same address in another group is another item"
        );
    }

    #[test]
    fn only_idempotent_writes_are_resent_blindly() {
        assert_eq!(policy(paths::ADD_GROUP_MEMBER).lost, Lost::Resend);
        assert_eq!(policy(paths::ADD_TO_PURGE_LIST).lost, Lost::Resend);
        for settled in [
            paths::CREATE_USER,
            paths::CREATE_GROUP,
            paths::UPDATE_GROUP,
            paths::UPDATE_USER,
            paths::DELETE_GROUP,
        ] {
            assert_eq!(policy(settled).lost, Lost::Settle, "{settled}");
            assert!(
                policy(settled).already.is_none(),
                "{settled}: no code relied on"
            );
        }
    }

    #[test]
    fn purge_list_calls_merge_and_a_lost_answer_is_told_from_a_refusal() {
        assert!(policy(paths::ADD_TO_PURGE_LIST).merge);
        assert!(policy(paths::REMOVE_FROM_PURGE_LIST).merge);
        assert!(!policy(paths::ADD_GROUP_MEMBER).merge);
        let transport = ApiError::Transport {
            path: "p".into(),
            url: "u".into(),
            detail: "connection reset".into(),
        };
        let timeout = ApiError::Timeout {
            path: "p".into(),
            seconds: 30,
        };
        assert!(answer_lost(&transport) && answer_lost(&timeout));
        let refused = ApiError::Failed {
            path: "p".into(),
            status: 200,
            failures: Vec::new(),
        };
        assert!(!answer_lost(&refused));
    }

    #[test]
    fn a_repeated_membership_item_is_sent_once_and_answered_in_its_place() {
        let item =
            |id: &str, email: &str| (email.to_string(), json!({"id": id, "emailAddress": email}));
        let items = vec![
            item("g", "a@x.com"),
            item("g", "A@X.com"),
            item("h", "a@x.com"),
            item("g", "b@x.com"),
        ];
        let (unique, order) = split_repeats(paths::ADD_GROUP_MEMBER, items.clone());
        let sent: Vec<&str> = unique.iter().map(|(label, _)| label.as_str()).collect();
        assert_eq!(sent, ["a@x.com", "a@x.com", "b@x.com"]);
        assert_eq!(unique[1].1["id"], "h");
        let repeats: Vec<Option<&str>> = order
            .iter()
            .map(|o| o.as_ref().map(|(label, _)| label.as_str()))
            .collect();
        assert_eq!(repeats, [None, Some("A@X.com"), None, None]);
        let (all, none) = split_repeats(paths::CREATE_USER, items);
        assert_eq!(all.len(), 4, "only membership calls drop repeats");
        assert!(none.iter().all(Option::is_none) && none.len() == 4);
    }

    #[test]
    fn a_refusal_for_a_synced_address_says_what_most_likely_caused_it() {
        let f = Failure {
            key: None,
            code: "err_xdk_operation_forbidden_for_address".into(),
            message: "0003 Forbidden To Perform Operation For Address".into(),
            retryable: false,
            field: None,
        };
        let text = explain("a@x.com", &f);
        assert!(
            text.starts_with("a@x.com is most likely managed by directory sync"),
            "{text}"
        );
        assert!(text.contains("0003 Forbidden"), "{text}");
        let plain = Failure {
            code: "err_other".into(),
            ..f
        };
        assert!(!explain("a@x.com", &plain).contains("directory sync"));
    }

    #[test]
    fn merged_purge_failures_are_found_by_address() {
        let fail = vec![Failure {
            key: Some(json!({"emailAddresses": ["b@x.com"]})),
            code: "err_user_not_found".into(),
            message: "m".into(),
            retryable: false,
            field: None,
        }];
        assert!(failure_of(&fail, &json!({"emailAddresses": ["B@x.com"]})).is_some());
        assert!(failure_of(&fail, &json!({"emailAddresses": ["a@x.com"]})).is_none());
    }
}

//! Single-item writes whose answer the caller does not wait for, sent together.
//!
//! Policy:
//! - A script's `add_member(...)` whose result nothing uses (a statement of its own, outside
//!   `try`, at the script's top level) is queued here instead of sent at once. The queue is
//!   sent when the script next reads or makes a write it waits for, asks a question, ends, or
//!   holds [`QUEUE_LIMIT`] writes: so a loop of single calls costs the batched call's round
//!   trips, not one per item.
//! - Sending keeps the order that matters: the queue is cut into waves, and an item goes into
//!   the first wave after every earlier item it depends on: the same membership, the same
//!   user, or (for a membership) the user it names. Within a wave every item goes through
//!   [`Directory::execute`], batched per endpoint (memberships of many groups together, each
//!   worded with its own group), so results, audit lines,
//!   progress and `mcsh undo` are what the same calls one by one give.
//! - A deferred item the service refuses is a surprise the caller could not see when it went
//!   on. The writes queued before it are still all sent (one by one they would have been
//!   made); those queued after it are not, except the ones already in flight in its wave.
//!   [`Surprise`] names the call (its `file:line`), the refusal, every later write that had
//!   already been sent, and how many were never sent.

use futures_util::stream::{self, StreamExt};
use serde_json::Value;

use super::outcome::Status;
use super::wording::{memberships_wording, wording, Wording};
use super::{DirError, Directory};
use crate::api::paths;

/// Most writes held before the queue is sent without waiting for a read.
pub const QUEUE_LIMIT: usize = 5_000;

/// One write queued by a call that went on without its answer.
#[derive(Debug, Clone)]
pub struct Deferred {
    /// The endpoint it goes to.
    pub endpoint: &'static str,
    /// What results call the item (its address, usually).
    pub label: String,
    /// The `data` item.
    pub item: Value,
    /// The group's name, for a membership change (its results say "added to Sales").
    pub group: Option<String>,
    /// The function that queued it (`add_member`).
    pub function: String,
    /// Where it was called: `file:line:column`.
    pub site: String,
}

/// A deferred write the service refused, and what had been sent after it.
#[derive(Debug, Clone)]
pub struct Surprise {
    /// Its place in the queue that was sent (from 0).
    pub index: usize,
    /// The refused call.
    pub call: Deferred,
    /// The refusal's code.
    pub code: String,
    /// The refusal, as results word it.
    pub message: String,
    /// Writes queued after it that had already been sent, each described.
    pub later_sent: Vec<String>,
    /// How many of those the service refused too (they changed nothing).
    pub later_failed: usize,
    /// Writes queued after it that were never sent.
    pub not_sent: usize,
    /// A dry run: nothing was sent, the later writes were planned.
    pub dry_run: bool,
}

/// How many of the later writes a refusal names one by one.
const NAMED: usize = 10;

impl std::fmt::Display for Surprise {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.call.function, self.message)?;
        if !self.later_sent.is_empty() {
            let mut named = self.later_sent[..self.later_sent.len().min(NAMED)].join(", ");
            if self.later_sent.len() > NAMED {
                named.push_str(&format!(
                    " and {} more (`mcsh audit` lists them)",
                    self.later_sent.len() - NAMED
                ));
            }
            let done = self.later_sent.len() - self.later_failed;
            if self.dry_run && self.later_failed == 0 {
                write!(
                    f,
                    "; {} write(s) queued after it were planned with it ({named})",
                    self.later_sent.len()
                )?;
            } else if self.dry_run {
                write!(
                    f,
                    "; {} write(s) queued after it were foreseen with it ({named}): {done} planned, and {} refused too",
                    self.later_sent.len(),
                    self.later_failed
                )?;
            } else if done == 0 {
                write!(
                    f,
                    "; {} write(s) queued after it had already been sent ({named}), and were refused too",
                    self.later_sent.len()
                )?;
            } else if self.later_failed > 0 {
                write!(
                    f,
                    "; {} write(s) queued after it had already been sent ({named}): {} done, which `mcsh undo` takes back, and {} refused too",
                    self.later_sent.len(),
                    self.later_sent.len() - self.later_failed,
                    self.later_failed
                )?;
            } else {
                write!(
                    f,
                    "; {} write(s) queued after it had already been sent ({named}); `mcsh undo` takes them back",
                    self.later_sent.len()
                )?;
            }
        }
        if self.not_sent > 0 {
            let verb = if self.dry_run { "planned" } else { "sent" };
            write!(
                f,
                "; {} write(s) queued after it were not {verb}, and the script stopped here",
                self.not_sent
            )?;
        }
        Ok(())
    }
}

/// An item sent: its place in the queue, status, message and code.
type Decided = (usize, Status, String, Option<String>);

/// How a deferred item is described in a surprise: "add_member a@x.com to Sales (run.rhai:4:5)".
fn describe(d: &Deferred) -> String {
    let group = match (&d.group, d.endpoint) {
        (Some(g), paths::REMOVE_GROUP_MEMBER) => format!(" from {g}"),
        (Some(g), _) => format!(" to {g}"),
        (None, _) => String::new(),
    };
    format!("{} {}{group} ({})", d.function, d.label, d.site)
}

impl Directory {
    /// What sending `write` now would refuse before any request (a control character in a
    /// name, a user of a domain that is not internal): a queued call is refused at its own
    /// line, as the same call sent at once would be.
    pub async fn refuse_early(&self, write: &Deferred) -> Result<(), DirError> {
        super::executor::refuse_control_characters(&[(write.label.clone(), write.item.clone())])?;
        if write.endpoint == paths::CREATE_USER {
            let email = write
                .item
                .get("emailAddress")
                .and_then(Value::as_str)
                .unwrap_or("");
            let domain = super::email::domain_of(email).to_ascii_lowercase();
            if !self.internal_domains().await?.contains(&domain) {
                return Err(DirError::Api(crate::api::ApiError::Failed {
                    path: paths::CREATE_USER.into(),
                    status: 200,
                    failures: vec![crate::api::Failure {
                        key: None,
                        code: "err_domain_not_internal".into(),
                        message: format!("{domain} is not an internal domain of the account"),
                        retryable: false,
                        field: None,
                    }],
                }));
            }
        }
        Ok(())
    }

    /// Queues `write`; returns how many are queued now.
    pub fn defer(&self, write: Deferred) -> usize {
        let mut queue = self.deferred.lock().expect("queue lock");
        queue.push(write);
        queue.len()
    }

    /// Whether a queued write names `email` (as its address, alias or purge-list entry).
    pub fn queue_touches(&self, email: &str) -> bool {
        let queue = self.deferred.lock().expect("queue lock");
        queue
            .iter()
            .any(|d| super::order::touches_user(d.endpoint, &d.item, email))
    }

    /// How many writes are queued.
    pub fn queued(&self) -> usize {
        self.deferred.lock().expect("queue lock").len()
    }

    /// Drops the queue without sending it (Ctrl-C); returns how many were dropped.
    pub fn drop_queued(&self) -> usize {
        std::mem::take(&mut *self.deferred.lock().expect("queue lock")).len()
    }

    /// Sends every queued write, wave by wave; `Some` when the service refused one.
    pub async fn flush(&self) -> Result<Option<Surprise>, DirError> {
        /// Ends the flush's mark however the flush ends (an interrupt drops it).
        struct Flushing<'a>(&'a Directory);
        impl Drop for Flushing<'_> {
            fn drop(&mut self) {
                self.0.set_flushing(false);
            }
        }
        self.set_flushing(true);
        let _flushing = Flushing(self);
        self.send_queue().await
    }

    async fn send_queue(&self) -> Result<Option<Surprise>, DirError> {
        let queue = std::mem::take(&mut *self.deferred.lock().expect("queue lock"));
        if queue.is_empty() {
            return Ok(None);
        }
        let wave_of = super::order::waves(queue.iter().map(|d| (d.endpoint, &d.item)));
        let last = wave_of.iter().copied().max().unwrap_or(0);
        let mut sent = vec![false; queue.len()];
        let mut failed = vec![false; queue.len()];
        // The first refused write so far: (its place, code, message). Once there is one, only
        // writes queued before it are sent.
        let mut refused: Option<(usize, String, String)> = None;
        for wave in 0..=last {
            let before = refused.as_ref().map_or(queue.len(), |(r, _, _)| *r);
            let members: Vec<usize> = (0..before).filter(|&i| wave_of[i] == wave).collect();
            if members.is_empty() {
                continue;
            }
            // One job per endpoint, in queue order: memberships of many groups go together,
            // each item worded with its own group's name.
            let mut jobs: Vec<(&'static str, Vec<usize>)> = Vec::new();
            for i in members {
                let d = &queue[i];
                match jobs.iter_mut().find(|(e, _)| *e == d.endpoint) {
                    Some((_, list)) => list.push(i),
                    None => jobs.push((d.endpoint, vec![i])),
                }
            }
            let queue = &queue;
            let planned_before = self.planned_count();
            let place_of: std::collections::HashMap<(&str, String), usize> = if self.is_dry_run() {
                jobs.iter()
                    .flat_map(|(_, list)| list.iter())
                    .map(|&i| ((queue[i].endpoint, queue[i].item.to_string()), i))
                    .collect()
            } else {
                std::collections::HashMap::new()
            };
            let answers: Vec<Result<Vec<Decided>, DirError>> = stream::iter(jobs)
                .map(|(endpoint, list)| async move {
                    let groups: std::collections::HashMap<String, String> = list
                        .iter()
                        .filter_map(|&i| {
                            let d = &queue[i];
                            let id = d.item.get("id").and_then(Value::as_str)?;
                            Some((id.to_string(), d.group.clone()?))
                        })
                        .collect();
                    let words: Wording = if groups.is_empty() {
                        wording(endpoint)
                    } else {
                        memberships_wording(endpoint, groups)
                    };
                    let items = list
                        .iter()
                        .map(|&i| (queue[i].label.clone(), queue[i].item.clone()))
                        .collect();
                    let outcomes = self.execute(endpoint, items, &words).await?;
                    Ok(list
                        .into_iter()
                        .zip(outcomes)
                        .map(|(i, o)| (i, o.result.status, o.result.message, o.result.code))
                        .collect())
                })
                .buffer_unordered(self.options.concurrency.max(1))
                .collect()
                .await;
            let mut error = None;
            for answer in answers {
                match answer {
                    Ok(results) => {
                        for (i, status, message, code) in results {
                            sent[i] = true;
                            failed[i] = status == Status::Failed;
                            if status == Status::Failed
                                && refused.as_ref().is_none_or(|(j, _, _)| i < *j)
                            {
                                refused =
                                    Some((i, code.unwrap_or_else(|| "failed".into()), message));
                            }
                        }
                    }
                    Err(e) => error = Some(e),
                }
            }
            if let Some(e) = error {
                return Err(e);
            }
            if self.is_dry_run() {
                self.order_planned_since(planned_before, |w| {
                    place_of
                        .get(&(w.endpoint.as_str(), w.item.to_string()))
                        .copied()
                        .unwrap_or(usize::MAX)
                });
            }
        }
        let Some((i, code, message)) = refused else {
            return Ok(None);
        };
        let later_sent = (i + 1..queue.len())
            .filter(|&j| sent[j])
            .map(|j| describe(&queue[j]))
            .collect();
        let not_sent = (i + 1..queue.len()).filter(|&j| !sent[j]).count();
        Ok(Some(Surprise {
            index: i,
            call: queue[i].clone(),
            code,
            message,
            later_sent,
            later_failed: (i + 1..queue.len())
                .filter(|&j| sent[j] && failed[j])
                .count(),
            not_sent,
            dry_run: self.is_dry_run(),
        }))
    }
}

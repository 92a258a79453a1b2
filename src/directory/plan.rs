//! Plans: what a dry run read and what it would write, saved to a file and applied later.
//!
//! Policy: a plan records a digest of every read its decisions rest on. `apply` reads the same
//! things again and refuses, naming each difference, when any changed: a plan made against
//! another directory state is not the plan the admin approved. Otherwise it sends exactly the
//! planned writes, in order, through the executor; groups the plan creates get their real ids
//! in the writes that follow.
//!
//! A plan is bound to the tenant it was made for (base URL, profile and the client id or
//! access key, never a secret) and sealed: an HMAC over everything in it, keyed with a key
//! only this user's mcsh can read, so a write added or changed by hand is detected.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::digest::{groups_digest, members_digest, Digest};
use super::executor::Outcome;
use super::wording::wording;
use super::{DirError, Directory, ItemResult, PlannedWrite, Status};
use crate::api::{paths, Group};

/// A read a plan depends on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Read {
    /// `domains`, `groups`, `members`, `users` or `user`.
    pub kind: String,
    /// What was read: the query, group id, domain or address.
    pub key: String,
    /// For people: what it was.
    pub label: String,
    /// FNV-1a digest of what the read returned.
    pub digest: String,
}

/// A saved plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanFile {
    /// Format version.
    pub version: u32,
    /// When it was made.
    pub created: String,
    /// The API it was made against.
    pub base_url: String,
    /// The profile it was made with.
    pub profile: String,
    /// Who it was made as: `client id X` or `access key Y` (never a secret).
    #[serde(default)]
    pub principal: String,
    /// The reads it rests on.
    pub reads: Vec<Read>,
    /// The writes, in order.
    pub writes: Vec<PlannedWrite>,
    /// HMAC-SHA1 (hex) of everything above, keyed with the user's plan key.
    #[serde(default)]
    pub seal: String,
}

/// The plan format this build writes and reads.
pub const VERSION: u32 = 2;

/// The seal of `bytes` under `key` (the user's plan key): HMAC-SHA1, in hex. Plans are sealed
/// with it, and so is what a fleet tells each tenant's process.
pub fn seal(key: &[u8], bytes: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut mac =
        <Hmac<sha1::Sha1> as hmac::KeyInit>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(bytes);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl PlanFile {
    /// The seal of this plan's contents under `key`.
    pub fn seal_with(&self, key: &[u8]) -> String {
        let unsealed = PlanFile {
            seal: String::new(),
            ..self.clone()
        };
        seal(
            key,
            &serde_json::to_vec(&unsealed).expect("a plan serializes"),
        )
    }

    /// Whether the seal matches the contents under `key`.
    pub fn is_sealed_with(&self, key: &[u8]) -> bool {
        !self.seal.is_empty() && self.seal == self.seal_with(key)
    }
}

impl Directory {
    /// Notes a read (dry runs only: plans rest on them).
    pub(crate) fn note_read(&self, kind: &str, key: &str, label: &str, digest: String) {
        if !self.is_dry_run() {
            return;
        }
        let mut reads = self.reads.lock().expect("reads lock");
        if !reads.iter().any(|r| r.kind == kind && r.key == key) {
            reads.push(Read {
                kind: kind.into(),
                key: key.into(),
                label: label.into(),
                digest,
            });
        }
    }

    /// The plan of this dry run.
    pub fn plan_file(&self, profile: &str) -> PlanFile {
        PlanFile {
            version: VERSION,
            created: chrono::Utc::now().to_rfc3339(),
            base_url: self.client().base_url().to_string(),
            profile: profile.to_string(),
            principal: self.client().principal(),
            reads: self.reads.lock().expect("reads lock").clone(),
            writes: self.plan(),
            seal: String::new(),
        }
    }

    /// Reads again what `reads` read (`--concurrency` at once); describes each that now
    /// differs, in the plan's order.
    pub async fn changed_since(&self, reads: &[Read]) -> Result<Vec<String>, DirError> {
        use futures_util::stream::{self, StreamExt};
        let checked: Vec<Result<Option<String>, DirError>> = stream::iter(reads)
            .map(|r| self.read_changed(r))
            .buffered(self.options().concurrency.max(1))
            .collect()
            .await;
        let mut changed = Vec::new();
        for c in checked {
            changed.extend(c?);
        }
        Ok(changed)
    }

    /// What `r` now reads, described when it differs from what the plan read.
    async fn read_changed(&self, r: &Read) -> Result<Option<String>, DirError> {
        let now = match r.kind.as_str() {
            "domains" => Digest::of(&self.domains().await?),
            "groups" => groups_digest(&self.fetch_groups().await?),
            "members" => {
                let g = Group {
                    id: r.key.clone(),
                    ..Group::default()
                };
                members_digest(&self.members(&g).await?)
            }
            "users" => {
                // Whole pages, alias rows included, as the listing digested them.
                let mut listing = self.users_and_aliases(Some(&r.key)).await?;
                let mut d = Digest::default();
                while let Some(batch) = listing.next_batch().await? {
                    d.update(&batch);
                }
                d.hex()
            }
            "user" => Digest::of(&self.find_user(&r.key).await?),
            "aliases" => match self.client().aliases(&r.key).await {
                Ok(aliases) => super::users::aliases_digest(&aliases),
                // Gone since: the plan's read of the user says so.
                Err(e) if e.code() == "err_user_not_found" => super::users::aliases_digest(&[]),
                Err(e) => return Err(e.into()),
            },
            "address" => {
                let found = self.existing_users(std::slice::from_ref(&r.key)).await?;
                Digest::of(&!found.is_empty())
            }
            other => {
                return Ok(Some(format!(
                    "the plan depends on a read this version does not know ({other})"
                )));
            }
        };
        Ok((now != r.digest).then(|| r.label.clone()))
    }

    /// Sends the plan's writes in waves ([`super::order`]): every write that depends on
    /// nothing earlier goes in the first round of batched requests, whatever its kind, and a
    /// write that depends on another (a member of a group the plan creates, a remove after an
    /// add of the same pair) goes in a later round. Outcomes come back in the plan's order.
    pub async fn apply(&self, writes: &[PlannedWrite]) -> Result<Vec<Outcome>, DirError> {
        let endpoints: Vec<&'static str> = writes
            .iter()
            .map(|w| endpoint_of(&w.endpoint))
            .collect::<Result<_, _>>()?;
        let wave_of = super::order::waves(
            endpoints
                .iter()
                .copied()
                .zip(writes.iter().map(|w| &w.item)),
        );
        let last = wave_of.iter().copied().max().unwrap_or(0);
        // Every write is checked before the first is sent: a later wave refused for a control
        // character (an undo giving back a name another tool made) must not leave the earlier
        // waves sent and the run half done.
        let labelled: Vec<(String, Value)> = writes
            .iter()
            .map(|w| (label_of(&w.item), w.item.clone()))
            .collect();
        super::executor::refuse_control_characters(&labelled)?;
        let mut real_ids = self.current_ids(writes).await?;
        let mut out: Vec<Option<Outcome>> = vec![None; writes.len()];
        // Once a write a script queued is refused, only the writes planned before it are
        // still sent, as the script stopped there (see `deferred.rs`).
        let mut cut = writes.len();
        for wave in 0..=last {
            // One job per endpoint, in plan order within it.
            let mut jobs: Vec<(&'static str, Vec<usize>)> = Vec::new();
            for i in (0..cut).filter(|&i| wave_of[i] == wave) {
                match jobs.iter_mut().find(|(e, _)| *e == endpoints[i]) {
                    Some((_, list)) => list.push(i),
                    None => jobs.push((endpoints[i], vec![i])),
                }
            }
            let real = &real_ids;
            let done: Vec<Result<Vec<Sent>, DirError>> = futures_util::future::join_all(
                jobs.into_iter().map(|(endpoint, list)| async move {
                    let items: Vec<(String, Value)> = list
                        .iter()
                        .map(|&i| {
                            let item = with_real_ids(&writes[i].item, real);
                            (label_of(&item), item)
                        })
                        .collect();
                    let sent: Vec<Value> = items.iter().map(|(_, item)| item.clone()).collect();
                    let outcomes = self.execute(endpoint, items, &wording(endpoint)).await?;
                    Ok(list
                        .into_iter()
                        .zip(sent)
                        .zip(outcomes)
                        .map(|((i, item), o)| (i, item, o))
                        .collect())
                }),
            )
            .await;
            for job in done {
                for (i, item, o) in job? {
                    if endpoints[i] == paths::CREATE_GROUP {
                        if let (Some(desc), Some(id)) = (
                            item.get("description").and_then(Value::as_str),
                            o.data
                                .as_ref()
                                .and_then(|d| d.get("id"))
                                .and_then(Value::as_str),
                        ) {
                            real_ids.insert(format!("planned:{desc}"), id.to_string());
                        }
                    }
                    if writes[i].stops && o.result.status == Status::Failed {
                        cut = cut.min(i);
                    }
                    out[i] = Some(o);
                }
            }
        }
        Ok(out
            .into_iter()
            .zip(writes)
            .map(|(o, w)| {
                o.unwrap_or_else(|| Outcome {
                    result: ItemResult::new(
                        label_of(&w.item),
                        Status::Failed,
                        "not sent: a write the script queued before it was refused, and the \
                         script stopped there",
                    )
                    .with_code("not_sent"),
                    data: None,
                    request_id: None,
                })
            })
            .collect())
    }
}

/// A plan write sent: its place in the plan, the item as sent, and what came of it.
type Sent = (usize, Value, Outcome);

/// The endpoint constant for a path in a plan; an unknown path is refused.
fn endpoint_of(path: &str) -> Result<&'static str, DirError> {
    const WRITES: &[&str] = &[
        paths::CREATE_USER,
        paths::UPDATE_USER,
        paths::UPDATE_ALIAS,
        paths::ADD_TO_PURGE_LIST,
        paths::REMOVE_FROM_PURGE_LIST,
        paths::CREATE_GROUP,
        paths::UPDATE_GROUP,
        paths::DELETE_GROUP,
        paths::ADD_GROUP_MEMBER,
        paths::REMOVE_GROUP_MEMBER,
    ];
    WRITES
        .iter()
        .find(|p| **p == path)
        .copied()
        .ok_or_else(|| DirError::BadPlan {
            detail: format!("{path} is not a write mcsh makes"),
        })
}

fn label_of(item: &Value) -> String {
    for key in ["emailAddress", "description", "alias", "id"] {
        if let Some(v) = item.get(key).and_then(Value::as_str) {
            return v.to_string();
        }
    }
    item.get("emailAddresses")
        .map(|v| v.to_string())
        .unwrap_or_default()
}

impl Directory {
    /// The group ids `writes` name that the service now answers under another string (it
    /// re-encrypts them): each old string with the current one of the same folder, so what
    /// is sent, audited and undone is what listings say now.
    async fn current_ids(
        &self,
        writes: &[PlannedWrite],
    ) -> Result<HashMap<String, String>, DirError> {
        use crate::api::ids::identity;
        let named: Vec<&str> = writes
            .iter()
            .flat_map(|w| {
                ["id", "parentId"]
                    .into_iter()
                    .filter_map(|k| w.item.get(k).and_then(Value::as_str))
            })
            .filter(|id| !id.starts_with("planned:"))
            .collect();
        if named.is_empty() {
            return Ok(HashMap::new());
        }
        let groups = self.fetch_groups().await?;
        let now: HashMap<String, &str> = groups
            .iter()
            .map(|g| (identity(&g.id).into_owned(), g.id.as_str()))
            .collect();
        Ok(named
            .into_iter()
            .filter_map(|id| {
                let current = *now.get(identity(id).as_ref())?;
                (current != id).then(|| (id.to_string(), current.to_string()))
            })
            .collect())
    }
}

fn with_real_ids(item: &Value, real: &HashMap<String, String>) -> Value {
    let mut item = item.clone();
    for key in ["id", "parentId"] {
        if let Some(id) = item
            .get(key)
            .and_then(Value::as_str)
            .and_then(|p| real.get(p))
            .cloned()
        {
            item[key] = Value::String(id);
        }
    }
    item
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn digests_are_stable_and_sensitive() {
        assert_eq!(Digest::of(&json!([1, 2])), Digest::of(&json!([1, 2])));
        assert_ne!(Digest::of(&json!([1, 2])), Digest::of(&json!([2, 1])));
    }

    #[test]
    fn a_seal_holds_for_its_key_and_contents_only() {
        assert_eq!(
            seal(b"Jefe", b"what do ya want for nothing?"),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79",
            "HMAC-SHA1, RFC 2202 test case 2"
        );
        let mut plan = PlanFile {
            version: VERSION,
            created: "2026-12-07T00:00:00Z".into(),
            base_url: "https://eu-api.mimecast.com".into(),
            profile: "prod".into(),
            principal: "client id abc".into(),
            reads: Vec::new(),
            writes: Vec::new(),
            seal: String::new(),
        };
        assert!(
            !plan.is_sealed_with(b"key"),
            "an empty seal holds for nothing"
        );
        plan.seal = plan.seal_with(b"key");
        assert_eq!(plan.seal.len(), 40, "{}", plan.seal);
        assert!(plan.is_sealed_with(b"key"));
        assert!(!plan.is_sealed_with(b"other key"));
        let sealed = plan.seal.clone();
        plan.seal = String::new();
        assert_eq!(
            plan.seal_with(b"key"),
            sealed,
            "the seal is not part of what it seals"
        );
        plan.seal = sealed;
        plan.profile = "staging".into();
        assert!(!plan.is_sealed_with(b"key"), "a changed plan");
    }

    #[test]
    fn planned_ids_are_replaced() {
        let real = HashMap::from([("planned:Ops".to_string(), "eNoReal".to_string())]);
        let item = with_real_ids(
            &json!({"id": "planned:Ops", "emailAddress": "a@x.com"}),
            &real,
        );
        assert_eq!(item["id"], "eNoReal");
        assert!(endpoint_of("/api/account/get-account").is_err());
    }
}

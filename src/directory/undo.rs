//! Taking back what a run did, from its audit lines.
//!
//! Policy: the inverse of each change the run made, newest first: joined ↔ left, created
//! user → queued for deletion, queued ↔ restored, locked ↔ unlocked, renamed → the name
//! before (when the line recorded it), created group → deleted (the service refuses a group
//! that is no longer empty). A change that a later run touched again is skipped and named,
//! and so is one that cannot be taken back (a deleted group, an alias, a rename whose name
//! before was not recorded). The inverse writes go through the executor like any plan.

use serde_json::{json, Value};

use super::PlannedWrite;
use crate::api::paths;

/// What undoing one audit line does.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Send this write.
    Write(PlannedWrite),
    /// Leave it, for this reason.
    Skip(String),
}

/// One line of an undo: the change taken back, and how.
#[derive(Debug, Clone, PartialEq)]
pub struct UndoItem {
    /// The change as the audit log tells it (`add bob@company.com to Sales`).
    pub change: String,
    /// The group's name the line recorded, for telling the inverse in words.
    pub group: Option<String>,
    /// What undoing it does.
    pub step: Step,
    /// The name the run gave, which must still be there for the rename to go back.
    pub expect: Option<Expect>,
}

/// A name a run set, to be found unchanged before it is taken back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// The user `email` is still called `name`.
    UserName {
        /// The address.
        email: String,
        /// The name the run gave.
        name: String,
    },
    /// The group `id` is still called `name`.
    GroupName {
        /// The group's id.
        id: String,
        /// The name the run gave.
        name: String,
    },
}

/// What the run set that a rename's undo must find unchanged.
fn expectation(line: &Value) -> Option<Expect> {
    let item = &line["item"];
    match line["endpoint"].as_str()? {
        paths::UPDATE_USER => Some(Expect::UserName {
            email: item["emailAddress"].as_str()?.to_string(),
            name: item["name"].as_str()?.to_string(),
        }),
        paths::UPDATE_GROUP => Some(Expect::GroupName {
            id: item["id"].as_str()?.to_string(),
            name: item["description"].as_str()?.to_string(),
        }),
        _ => None,
    }
}

impl super::Directory {
    /// Leaves alone each rename whose subject no longer has the name the run gave it: someone
    /// renamed it since, outside mcsh (mcsh's own runs are found in the log). One read of the
    /// users concerned and one listing of the groups, only when there are renames to check.
    pub async fn recheck_renames(&self, items: &mut [UndoItem]) -> Result<(), super::DirError> {
        let pending = |i: &UndoItem| matches!(i.step, Step::Write(_)) && i.expect.is_some();
        if !items.iter().any(pending) {
            return Ok(());
        }
        let emails: Vec<String> = items
            .iter()
            .filter_map(|i| match &i.expect {
                Some(Expect::UserName { email, .. }) => Some(email.clone()),
                _ => None,
            })
            .collect();
        let users = if emails.is_empty() {
            Default::default()
        } else {
            self.find_users(&emails).await?
        };
        let groups = if items
            .iter()
            .any(|i| matches!(i.expect, Some(Expect::GroupName { .. })))
        {
            self.list_groups(None).await?
        } else {
            Vec::new()
        };
        // Items come newest first: only a subject's newest rename is what it should be called
        // now; an older one was renamed since by this same run, which undo takes back first.
        let mut newest = std::collections::HashSet::new();
        for item in items.iter_mut().filter(|i| pending(i)) {
            let subject = match item.expect.as_ref().expect("pending") {
                Expect::UserName { email, .. } => format!("user {}", email.to_ascii_lowercase()),
                Expect::GroupName { id, .. } => format!("group {}", crate::api::ids::identity(id)),
            };
            if !newest.insert(subject) {
                continue;
            }
            let (now, set) = match item.expect.as_ref().expect("pending") {
                Expect::UserName { email, name } => (
                    users
                        .get(&email.to_ascii_lowercase())
                        .map(|u| u.name.clone()),
                    name,
                ),
                Expect::GroupName { id, name } => (
                    groups
                        .iter()
                        .find(|g| crate::api::ids::same(&g.id, id))
                        .map(|g| g.description.clone()),
                    name,
                ),
            };
            if let Some(now) = now.filter(|now| now != set) {
                item.step = Step::Skip(format!(
                    "renamed since outside this run (now {now:?}, not {set:?}): left alone"
                ));
            }
        }
        Ok(())
    }
}

/// Why a run cannot be undone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UndoError {
    /// No line of the log has that run id.
    #[error("no run {0} in the audit log; `mcsh audit` lists the runs")]
    UnknownRun(String),
    /// The run wrote nothing that counts.
    #[error("run {0} changed nothing (its lines are dry runs, failures or unchanged items): nothing to undo")]
    NothingDone(String),
    /// An undo run already took it back.
    #[error("run {run} was undone already by run {by}: nothing to undo")]
    AlreadyUndone {
        /// The run asked about.
        run: String,
        /// The run that undid it.
        by: String,
    },
    /// `--last` found no run to undo.
    #[error("the audit log holds no run with changes left to undo")]
    NoRuns,
}

/// Whether an audit line records a change that happened.
fn changed(line: &Value) -> bool {
    line["dryRun"] != json!(true)
        && matches!(
            line["outcome"].as_str(),
            Some("created" | "updated" | "removed" | "unverified")
        )
}

/// The run `--last` means: the newest run with changes that is no undo and was not undone
/// whole (one whose undo was interrupted or refused in part is still to finish).
pub fn last_run(lines: &[Value]) -> Result<String, UndoError> {
    let mut seen = std::collections::HashSet::new();
    lines
        .iter()
        .rev()
        .filter(|l| changed(l) && l.get("undoes").is_none())
        .filter_map(|l| l["run"].as_str())
        .filter(|run| seen.insert(*run))
        .find(|run| !matches!(plan(lines, run), Err(UndoError::AlreadyUndone { .. })))
        .map(str::to_string)
        .ok_or(UndoError::NoRuns)
}

/// What undo runs of `run` did already, as (endpoint, item) of each line that took a change
/// back or found it taken back (`unchanged`): an undo interrupted or refused in part is
/// finished by undoing the rest.
fn taken_back<'a>(lines: &'a [Value], run: &str) -> Vec<(&'a Value, &'a Value, &'a str)> {
    lines
        .iter()
        .filter(|l| l["undoes"] == run && l["dryRun"] != json!(true))
        .filter(|l| changed(l) || l["outcome"] == "unchanged")
        .map(|l| (&l["endpoint"], &l["item"], l["run"].as_str().unwrap_or("")))
        .collect()
}

/// The steps that take back run `run`, newest change first.
pub fn plan(lines: &[Value], run: &str) -> Result<Vec<UndoItem>, UndoError> {
    let of_run: Vec<(usize, &Value)> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l["run"] == run)
        .collect();
    if of_run.is_empty() {
        return Err(UndoError::UnknownRun(run.to_string()));
    }
    let done: Vec<(usize, &Value)> = of_run.into_iter().filter(|(_, l)| changed(l)).collect();
    if done.is_empty() {
        return Err(UndoError::NothingDone(run.to_string()));
    }
    let back = taken_back(lines, run);
    let steps: Vec<(usize, &Value, Step)> = done
        .into_iter()
        .rev()
        .map(|(at, line)| {
            let step = match touched_later(lines, at, line) {
                Some(other) => Step::Skip(format!("changed since, by run {other}: left alone")),
                None => keep_prior_state(lines, at, line, inverse(line)),
            };
            (at, line, step)
        })
        .collect();
    // Each change an earlier undo of this run took back already is left out.
    let left: Vec<(usize, &Value, Step)> = steps
        .into_iter()
        .filter(|(_, _, step)| match step {
            Step::Write(w) => !back
                .iter()
                .any(|(e, item, _)| *e == w.endpoint.as_str() && same_item(item, &w.item)),
            Step::Skip(_) => true,
        })
        .collect();
    // Undone before, with nothing left that can still be taken back: said so.
    if let Some((_, _, by)) = back.last() {
        if left.iter().all(|(_, _, s)| matches!(s, Step::Skip(_))) {
            return Err(UndoError::AlreadyUndone {
                run: run.to_string(),
                by: by.to_string(),
            });
        }
    }
    Ok(left
        .into_iter()
        .map(|(_, line, step)| {
            let change = super::audit::describe(line);
            // The inverse of a rename is told from the name the run gave.
            let group = match line["endpoint"].as_str() {
                Some(paths::UPDATE_GROUP) => line["item"]["description"].as_str(),
                _ => line["group"].as_str(),
            };
            UndoItem {
                change,
                group: group.map(str::to_string),
                step,
                expect: expectation(line),
            }
        })
        .collect())
}

/// A lock (or disable) that the account already had before this run, as the last such change
/// mcsh made before line `at` says, is not undone: unlocking it would undo more than the run
/// did. Only that flag is dropped; a name still goes back.
fn keep_prior_state(lines: &[Value], at: usize, line: &Value, step: Step) -> Step {
    let Step::Write(mut w) = step else {
        return step;
    };
    if w.endpoint != paths::UPDATE_USER {
        return Step::Write(w);
    }
    let email = line["item"]["emailAddress"]
        .as_str()
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut kept = Vec::new();
    for flag in ["accountLocked", "accountDisabled"] {
        let Some(set) = line["item"][flag].as_bool() else {
            continue;
        };
        let before = lines[..at].iter().rev().find(|l| {
            changed(l)
                && l["profile"] == line["profile"]
                && l["endpoint"] == paths::UPDATE_USER
                && l["item"][flag].is_boolean()
                && l["item"]["emailAddress"]
                    .as_str()
                    .is_some_and(|e| e.eq_ignore_ascii_case(&email))
        });
        if let Some(b) = before.filter(|b| b["item"][flag].as_bool() == Some(set)) {
            if let Some(m) = w.item.as_object_mut() {
                m.remove(flag);
            }
            let what = match (flag, set) {
                ("accountLocked", true) => "locked",
                ("accountLocked", false) => "unlocked",
                (_, true) => "disabled",
                _ => "enabled",
            };
            kept.push(format!(
                "it was {what} already before this run (run {})",
                b["run"].as_str().unwrap_or("?")
            ));
        }
    }
    if w.item.as_object().is_some_and(|m| m.len() <= 1) && !kept.is_empty() {
        return Step::Skip(format!("{}: left as it is", kept.join("; ")));
    }
    Step::Write(w)
}

/// The run that changed the same thing after line `at`, if any. Not counted: a later run
/// that was itself undone, the undo of a later run (it put back what was there), and a later
/// line that set again exactly what this one set. A created user counts as changed by any
/// later line that builds on that address (a group joined, a rename, an alias): queueing it for
/// deletion would throw that work away.
fn touched_later<'a>(lines: &'a [Value], at: usize, line: &Value) -> Option<&'a str> {
    let key = subject(line)?;
    let undone: std::collections::HashSet<&str> = lines
        .iter()
        .filter(|l| changed(l))
        .filter_map(|l| l["undoes"].as_str())
        .collect();
    let first_line_of = |run: &str| lines.iter().position(|l| l["run"] == run);
    let email = line["item"]["emailAddress"]
        .as_str()
        .unwrap_or("")
        .to_ascii_lowercase();
    lines[at + 1..]
        .iter()
        .filter(|l| changed(l) && l["run"] != line["run"])
        // An earlier undo of this same run (interrupted, finished now) is no later change.
        .filter(|l| l["undoes"] != line["run"])
        .filter(|l| !l["run"].as_str().is_some_and(|r| undone.contains(r)))
        .filter(|l| {
            l["undoes"]
                .as_str()
                .and_then(first_line_of)
                .is_none_or(|first| first <= at)
        })
        .filter(|l| !(l["endpoint"] == line["endpoint"] && same_item(&l["item"], &line["item"])))
        .find(|l| {
            let builds_on = matches!(
                l["endpoint"].as_str(),
                Some(paths::ADD_GROUP_MEMBER | paths::UPDATE_USER | paths::UPDATE_ALIAS)
            );
            subject(l).as_ref() == Some(&key)
                || (line["endpoint"] == paths::CREATE_USER && builds_on && mentions(l, &email))
        })
        .and_then(|l| l["run"].as_str())
}

/// Whether two items ask for the same thing (addresses in any case).
fn same_item(a: &Value, b: &Value) -> bool {
    a.to_string().eq_ignore_ascii_case(&b.to_string())
}

/// Whether line `l` is about the address `email` (lower case).
fn mentions(l: &Value, email: &str) -> bool {
    let item = &l["item"];
    ["emailAddress", "aliasFor"].iter().any(|k| {
        item[k]
            .as_str()
            .is_some_and(|e| e.eq_ignore_ascii_case(email))
    }) || item["emailAddresses"].as_array().is_some_and(|a| {
        a.iter()
            .any(|e| e.as_str().is_some_and(|e| e.eq_ignore_ascii_case(email)))
    })
}

/// What a line changed, for telling whether a later line changed it again.
fn subject(line: &Value) -> Option<(String, String)> {
    let item = &line["item"];
    let text = |k: &str| item[k].as_str().unwrap_or("").to_ascii_lowercase();
    let endpoint = line["endpoint"].as_str()?;
    Some(match endpoint {
        paths::ADD_GROUP_MEMBER | paths::REMOVE_GROUP_MEMBER => {
            let member = if text("emailAddress").is_empty() {
                text("domain")
            } else {
                text("emailAddress")
            };
            (
                format!("member {}", item["id"].as_str().unwrap_or("")),
                member,
            )
        }
        // An account's settings and its place on the purge list change apart.
        paths::UPDATE_USER => ("settings".into(), text("emailAddress")),
        paths::CREATE_USER => ("purge".into(), text("emailAddress")),
        paths::ADD_TO_PURGE_LIST | paths::REMOVE_FROM_PURGE_LIST => (
            "purge".into(),
            item["emailAddresses"][0]
                .as_str()
                .unwrap_or("")
                .to_ascii_lowercase(),
        ),
        paths::UPDATE_GROUP | paths::DELETE_GROUP => (
            "group".into(),
            item["id"].as_str().unwrap_or("").to_string(),
        ),
        paths::CREATE_GROUP => (
            "group".into(),
            line["createdId"].as_str().unwrap_or("").to_string(),
        ),
        _ => return None,
    })
}

fn write(endpoint: &str, item: Value) -> Step {
    Step::Write(PlannedWrite {
        group: None,
        endpoint: endpoint.to_string(),
        item,
        stops: false,
    })
}

/// The write that takes back one line's change, or why there is none.
fn inverse(line: &Value) -> Step {
    let item = &line["item"];
    let endpoint = line["endpoint"].as_str().unwrap_or("");
    match endpoint {
        paths::ADD_GROUP_MEMBER => write(paths::REMOVE_GROUP_MEMBER, item.clone()),
        paths::REMOVE_GROUP_MEMBER => write(paths::ADD_GROUP_MEMBER, item.clone()),
        paths::CREATE_USER => write(
            paths::ADD_TO_PURGE_LIST,
            json!({ "emailAddresses": [item["emailAddress"]] }),
        ),
        paths::ADD_TO_PURGE_LIST => write(paths::REMOVE_FROM_PURGE_LIST, item.clone()),
        paths::REMOVE_FROM_PURGE_LIST => write(paths::ADD_TO_PURGE_LIST, item.clone()),
        paths::UPDATE_USER => {
            let mut back = json!({ "emailAddress": item["emailAddress"] });
            for flag in ["accountLocked", "accountDisabled"] {
                if let Some(b) = item[flag].as_bool() {
                    back[flag] = json!(!b);
                }
            }
            if item.get("name").is_some() {
                match line["before"]["name"].as_str() {
                    Some(name) => back["name"] = json!(name),
                    // The lock or state still goes back; only the name cannot.
                    None if back.as_object().is_some_and(|m| m.len() > 1) => {}
                    None => {
                        return Step::Skip(
                            "the name before the change was not recorded (the run did not read it)"
                                .into(),
                        )
                    }
                }
            }
            write(paths::UPDATE_USER, back)
        }
        paths::CREATE_GROUP => match line["createdId"].as_str() {
            Some(id) => write(paths::DELETE_GROUP, json!({ "id": id })),
            None => Step::Skip("the new group's id was not recorded".into()),
        },
        paths::UPDATE_GROUP => match line["before"]["description"].as_str() {
            Some(name) if item.get("parentId").is_none() => write(
                paths::UPDATE_GROUP,
                json!({ "id": item["id"], "description": name }),
            ),
            _ => Step::Skip("the group's name or place before was not recorded".into()),
        },
        paths::DELETE_GROUP => Step::Skip(
            "a deleted group cannot come back with its id and members; recreate it with mcsh departments"
                .into(),
        ),
        paths::UPDATE_ALIAS => {
            Step::Skip("the API has no call that removes an alias address".into())
        }
        other => Step::Skip(format!("{other} has no known inverse")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(run: &str, endpoint: &str, item: Value, outcome: &str) -> Value {
        json!({ "run": run, "endpoint": endpoint, "item": item, "outcome": outcome })
    }

    #[test]
    fn an_offboarding_is_taken_back_newest_first() {
        let lines = vec![
            line(
                "r1",
                paths::REMOVE_GROUP_MEMBER,
                json!({"id": "g", "emailAddress": "a@c.com"}),
                "removed",
            ),
            line(
                "r1",
                paths::REMOVE_GROUP_MEMBER,
                json!({"id": "h", "emailAddress": "a@c.com"}),
                "unchanged",
            ),
            line(
                "r1",
                paths::UPDATE_USER,
                json!({"emailAddress": "a@c.com", "accountLocked": true}),
                "unverified",
            ),
            line(
                "r1",
                paths::ADD_TO_PURGE_LIST,
                json!({"emailAddresses": ["a@c.com"]}),
                "removed",
            ),
        ];
        let steps: Vec<Step> = plan(&lines, "r1")
            .unwrap()
            .into_iter()
            .map(|i| i.step)
            .collect();
        assert_eq!(
            steps,
            [
                write(
                    paths::REMOVE_FROM_PURGE_LIST,
                    json!({"emailAddresses": ["a@c.com"]})
                ),
                write(
                    paths::UPDATE_USER,
                    json!({"emailAddress": "a@c.com", "accountLocked": false})
                ),
                write(
                    paths::ADD_GROUP_MEMBER,
                    json!({"id": "g", "emailAddress": "a@c.com"})
                ),
            ]
        );
    }

    #[test]
    fn a_lock_the_account_already_had_is_not_undone() {
        let lines = vec![
            line(
                "r1",
                paths::UPDATE_USER,
                json!({"emailAddress": "a@c.com", "accountLocked": true}),
                "unverified",
            ),
            line(
                "r2",
                paths::UPDATE_USER,
                json!({"emailAddress": "A@c.com", "accountLocked": true, "name": "New"}),
                "updated",
            ),
        ];
        let mut with_name = lines.clone();
        with_name[1]["before"] = json!({"name": "Old"});
        // The name goes back; the lock, which r1 had set already, stays.
        let steps: Vec<Step> = plan(&with_name, "r2")
            .unwrap()
            .into_iter()
            .map(|i| i.step)
            .collect();
        assert_eq!(
            steps,
            [write(
                paths::UPDATE_USER,
                json!({"emailAddress": "A@c.com", "name": "Old"})
            )]
        );
        let mut lock_only = lines.clone();
        lock_only[1]["item"] = json!({"emailAddress": "a@c.com", "accountLocked": true});
        let items = plan(&lock_only, "r2").unwrap();
        assert!(
            matches!(&items[0].step, Step::Skip(why) if why.contains("locked already before this run (run r1)")),
            "{items:?}"
        );
        // Undoing r1 itself unlocks: r2 set the same lock again, which changed nothing.
        assert_eq!(
            plan(&lock_only, "r1").unwrap()[0].step,
            write(
                paths::UPDATE_USER,
                json!({"emailAddress": "a@c.com", "accountLocked": false})
            )
        );
    }

    #[test]
    fn a_group_renamed_again_by_a_later_run_is_left_alone() {
        let rename = |run: &str, to: &str, from: &str| {
            let mut l = line(
                run,
                paths::UPDATE_GROUP,
                json!({"id": "g", "description": to}),
                "updated",
            );
            l["before"] = json!({"description": from});
            l
        };
        let lines = vec![rename("a", "X", "Old"), rename("b", "Y", "X")];
        let items = plan(&lines, "a").unwrap();
        assert!(
            matches!(&items[0].step, Step::Skip(why) if why.contains("changed since, by run b")),
            "{items:?}"
        );
        let alone = plan(&lines[..1], "a").unwrap();
        assert!(matches!(&alone[0].step, Step::Write(_)), "{alone:?}");
    }

    #[test]
    fn only_a_real_earlier_disable_of_that_account_keeps_it_disabled() {
        let disable = |run: &str, email: &str, outcome: &str| {
            line(
                run,
                paths::UPDATE_USER,
                json!({"emailAddress": email, "accountDisabled": true}),
                outcome,
            )
        };
        // r0's disable of a@c.com failed and r1 disabled someone else: neither is a's state.
        let lines = vec![
            disable("r0", "a@c.com", "failed"),
            disable("r1", "b@c.com", "updated"),
            disable("r2", "a@c.com", "updated"),
        ];
        assert_eq!(
            plan(&lines, "r2").unwrap()[0].step,
            write(
                paths::UPDATE_USER,
                json!({"emailAddress": "a@c.com", "accountDisabled": false})
            )
        );
        let lines = vec![
            disable("r1", "A@c.com", "updated"),
            disable("r2", "a@c.com", "updated"),
        ];
        let items = plan(&lines, "r2").unwrap();
        assert!(
            matches!(&items[0].step, Step::Skip(why) if why == "it was disabled already before this run (run r1): left as it is"),
            "{items:?}"
        );
    }

    #[test]
    fn undone_runs_repeats_and_undos_of_later_runs_do_not_block_an_undo() {
        let mut lines = vec![
            line(
                "a",
                paths::UPDATE_USER,
                json!({"emailAddress": "c@c.com", "name": "X"}),
                "updated",
            ),
            line(
                "b",
                paths::UPDATE_USER,
                json!({"emailAddress": "c@c.com", "name": "Y"}),
                "updated",
            ),
        ];
        lines[0]["before"] = json!({"name": "Orig"});
        lines[1]["before"] = json!({"name": "X"});
        let mut undo_b = line(
            "u",
            paths::UPDATE_USER,
            json!({"emailAddress": "c@c.com", "name": "X"}),
            "updated",
        );
        undo_b["undoes"] = json!("b");
        lines.push(undo_b);
        assert_eq!(
            plan(&lines, "a").unwrap()[0].step,
            write(
                paths::UPDATE_USER,
                json!({"emailAddress": "c@c.com", "name": "Orig"})
            )
        );
        // A lock sent twice: the second changed nothing, so the first can still go back.
        let locks = vec![
            line(
                "l1",
                paths::UPDATE_USER,
                json!({"emailAddress": "d@c.com", "accountLocked": true}),
                "unverified",
            ),
            line(
                "l2",
                paths::UPDATE_USER,
                json!({"emailAddress": "D@c.com", "accountLocked": true}),
                "unverified",
            ),
        ];
        assert_eq!(
            plan(&locks, "l1").unwrap()[0].step,
            write(
                paths::UPDATE_USER,
                json!({"emailAddress": "d@c.com", "accountLocked": false})
            )
        );
        // A created user who joined a group in a later run is not queued for deletion.
        let created = vec![
            line(
                "o",
                paths::CREATE_USER,
                json!({"emailAddress": "n@c.com"}),
                "created",
            ),
            line(
                "p",
                paths::ADD_GROUP_MEMBER,
                json!({"id": "g", "emailAddress": "n@c.com"}),
                "created",
            ),
        ];
        assert!(
            matches!(&plan(&created, "o").unwrap()[0].step, Step::Skip(why) if why.contains("run p"))
        );
    }

    #[test]
    fn later_changes_are_left_alone_and_a_second_undo_finds_nothing() {
        let mut lines = vec![
            line(
                "r1",
                paths::ADD_GROUP_MEMBER,
                json!({"id": "g", "emailAddress": "a@c.com"}),
                "created",
            ),
            line(
                "r2",
                paths::REMOVE_GROUP_MEMBER,
                json!({"id": "g", "emailAddress": "A@c.com"}),
                "removed",
            ),
        ];
        let items = plan(&lines, "r1").unwrap();
        assert!(matches!(&items[0].step, Step::Skip(why) if why.contains("run r2")));
        let mut undo = line(
            "r3",
            paths::ADD_GROUP_MEMBER,
            json!({"id": "g", "emailAddress": "a@c.com"}),
            "created",
        );
        undo["undoes"] = json!("r2");
        lines.push(undo);
        assert_eq!(
            plan(&lines, "r2"),
            Err(UndoError::AlreadyUndone {
                run: "r2".into(),
                by: "r3".into()
            })
        );
        assert_eq!(
            plan(&lines, "nope"),
            Err(UndoError::UnknownRun("nope".into()))
        );
        assert_eq!(last_run(&lines).unwrap(), "r1");
    }

    #[test]
    fn an_undo_stopped_halfway_is_finished_by_undoing_again() {
        // r1 added a and b; its undo u1 was interrupted after taking a back. Undoing r1 again
        // takes back b only, and `--last` still means r1 (not the older r0).
        let member = |e: &str| json!({"id": "g", "emailAddress": e});
        let mut lines = vec![
            line("r0", paths::ADD_GROUP_MEMBER, member("z@c.com"), "created"),
            line("r1", paths::ADD_GROUP_MEMBER, member("a@c.com"), "created"),
            line("r1", paths::ADD_GROUP_MEMBER, member("b@c.com"), "created"),
        ];
        let mut undone = line(
            "u1",
            paths::REMOVE_GROUP_MEMBER,
            member("a@c.com"),
            "removed",
        );
        undone["undoes"] = json!("r1");
        lines.push(undone);
        let items = plan(&lines, "r1").unwrap();
        assert_eq!(items.len(), 1, "{items:?}");
        assert_eq!(
            items[0].step,
            write(paths::REMOVE_GROUP_MEMBER, member("b@c.com"))
        );
        assert_eq!(last_run(&lines).unwrap(), "r1");
        // A refused step is tried again; one found taken back already is not.
        let mut refused = line(
            "u2",
            paths::REMOVE_GROUP_MEMBER,
            member("b@c.com"),
            "failed",
        );
        refused["undoes"] = json!("r1");
        lines.push(refused);
        assert_eq!(plan(&lines, "r1").unwrap().len(), 1);
        let mut found = line(
            "u3",
            paths::REMOVE_GROUP_MEMBER,
            member("b@c.com"),
            "unchanged",
        );
        found["undoes"] = json!("r1");
        lines.push(found);
        assert_eq!(
            plan(&lines, "r1"),
            Err(UndoError::AlreadyUndone {
                run: "r1".into(),
                by: "u3".into()
            })
        );
        assert_eq!(last_run(&lines).unwrap(), "r0");
    }
}

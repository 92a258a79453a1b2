//! Taking a snapshot of the whole tenant: every domain's users (alias rows marked, with their
//! mailbox where it can be told), every group, every group's members.
//!
//! Policy: the reads run concurrently under the one rate budget: each domain's user pages
//! in a chain of their own (page tokens chain them), and the groups' members
//! `--concurrency` groups at a time, while the users are still being read. So a snapshot
//! costs about its longest chain of pages, not the sum of its reads.

use std::collections::{BTreeMap, HashMap};

use futures_util::stream::{self, StreamExt};

use super::{DirError, Directory};
use crate::api::{Group, Member, User};
use crate::snapshot::{self, Snapshot, Tenant};

impl Directory {
    /// The whole tenant as a snapshot, recorded as of `tenant`.
    pub async fn snapshot(&self, tenant: Tenant) -> Result<Snapshot, DirError> {
        let taken = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let domains = self.domains().await?;
        let users = async {
            let read: Vec<Result<Vec<User>, DirError>> = stream::iter(domains.iter())
                .map(|d| async move {
                    let mut listing = self.users_and_aliases(Some(&d.domain)).await?;
                    let mut out = Vec::new();
                    while let Some(batch) = listing.next_batch().await? {
                        out.extend(batch);
                    }
                    self.progress_done(1, 0);
                    Ok(out)
                })
                .buffered(self.options.concurrency.max(1))
                .collect()
                .await;
            let mut all = Vec::new();
            for r in read {
                all.extend(r?);
            }
            Ok::<_, DirError>(all)
        };
        let groups = async {
            let groups = self.fetch_groups().await?;
            self.progress_total(groups.len());
            let read: Vec<Result<(Group, Vec<Member>), DirError>> = stream::iter(groups)
                .map(|g| async move {
                    let members = self.members(&g).await?;
                    self.progress_done(1, 0);
                    Ok((g, members))
                })
                .buffered(self.options.concurrency.max(1))
                .collect()
                .await;
            read.into_iter().collect::<Result<Vec<_>, DirError>>()
        };
        self.progress_total(domains.len());
        let (users, groups) = tokio::join!(users, groups);
        let users = users?;
        let groups = groups?;
        let owners = self.alias_owners(&users).await?;

        let mut members = BTreeMap::new();
        for (g, list) in &groups {
            if !list.is_empty() {
                members.insert(
                    g.id.clone(),
                    list.iter()
                        .map(|m| snapshot::Member {
                            email_address: m.email_address.clone(),
                            domain: m.domain.clone(),
                            internal: m.internal,
                            kind: m.kind.clone(),
                        })
                        .collect(),
                );
            }
        }
        Ok(Snapshot {
            format: snapshot::FORMAT.into(),
            taken,
            tenant,
            domains: domains
                .iter()
                .map(|d| snapshot::Domain {
                    id: d.id.clone(),
                    domain: d.domain.clone(),
                    send_only: d.send_only,
                    local: d.local,
                    inbound_type: d.inbound_type.clone(),
                })
                .collect(),
            users: users
                .iter()
                .map(|u| snapshot::User {
                    email_address: u.email_address.clone(),
                    name: u.name.clone(),
                    domain: u.domain.clone(),
                    alias: u.is_alias(),
                    alias_for: owners.get(&u.email_address.to_ascii_lowercase()).cloned(),
                    address_type: u.address_type.clone(),
                    source: u.source.clone(),
                })
                .collect(),
            groups: groups
                .iter()
                .map(|(g, _)| snapshot::Group {
                    id: g.id.clone(),
                    description: g.description.clone(),
                    parent_id: g.parent_id.clone(),
                    source: g.source.clone(),
                })
                .collect(),
            members,
        })
    }

    /// The mailbox of each alias row among `users`, by lower-case alias address: asked of
    /// the mailboxes of its domain that share its display name (`get-aliases`).
    async fn alias_owners(&self, users: &[User]) -> Result<HashMap<String, String>, DirError> {
        let mut candidates: HashMap<(String, String), Vec<&User>> = HashMap::new();
        for u in users.iter().filter(|u| !u.is_alias() && !u.name.is_empty()) {
            candidates
                .entry((u.domain.to_ascii_lowercase(), u.name.clone()))
                .or_default()
                .push(u);
        }
        let mut asked: Vec<&User> = Vec::new();
        for a in users.iter().filter(|u| u.is_alias()) {
            let key = (a.domain.to_ascii_lowercase(), a.name.clone());
            for c in candidates.get(&key).into_iter().flatten() {
                if !asked.iter().any(|x| x.email_address == c.email_address) {
                    asked.push(c);
                }
            }
        }
        let answers: Vec<Result<(String, Vec<String>), DirError>> = stream::iter(asked)
            .map(|u| async move {
                let aliases = self.client().aliases(&u.email_address).await?;
                Ok((u.email_address.clone(), aliases))
            })
            .buffered(self.options.concurrency.max(1))
            .collect()
            .await;
        let mut owners = HashMap::new();
        for a in answers {
            let (owner, aliases) = a?;
            for alias in aliases {
                owners.insert(alias.to_ascii_lowercase(), owner.clone());
            }
        }
        // Only the alias rows listed: an answer may name addresses the listing left out.
        let rows: std::collections::HashSet<String> = users
            .iter()
            .filter(|u| u.is_alias())
            .map(|u| u.email_address.to_ascii_lowercase())
            .collect();
        owners.retain(|k, _| rows.contains(k));
        Ok(owners)
    }
}

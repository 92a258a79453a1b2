//! Who is in which group, for questions the API cannot answer directly.
//!
//! Policy: no endpoint lists the groups of one user, so the index reads the members of every
//! group, concurrently (`--concurrency` requests in flight), once; callers reuse it for the
//! run instead of scanning again per user.
//!
//! What decides which policies apply to a person are their *effective* groups: the groups
//! they are a direct member of, those holding their whole domain as a member, and the
//! groups above any of these. The index answers both questions; the indirect ones say how.

use std::collections::HashMap;

use futures_util::stream::{self, StreamExt};

use super::{DirError, Directory};
use crate::api::{Group, Member};

/// Every group with its members, indexed by member address and by member domain.
#[derive(Debug, Clone, Default)]
pub struct MembershipIndex {
    groups: Vec<(Group, Vec<Member>)>,
    by_email: HashMap<String, Vec<usize>>,
    by_domain: HashMap<String, Vec<usize>>,
}

/// One of a person's effective groups, and how they come to be in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Membership {
    /// The group.
    pub group: Group,
    /// `None` for a direct member; otherwise how: `domain example.com` or
    /// `group Engineering/Platform` (a member of a group under this one).
    pub via: Option<String>,
}

impl MembershipIndex {
    /// The groups `email` is a direct member of, in listing order.
    pub fn groups_of(&self, email: &str) -> Vec<&Group> {
        self.by_email
            .get(&email.to_ascii_lowercase())
            .map(|idx| idx.iter().map(|&i| &self.groups[i].0).collect())
            .unwrap_or_default()
    }

    /// Every group with its members.
    pub fn groups(&self) -> &[(Group, Vec<Member>)] {
        &self.groups
    }

    /// The effective groups of `email`: direct memberships first, then the groups holding its
    /// domain, then every group above any of these. Each group once, the most direct way.
    pub fn effective(&self, email: &str) -> Vec<Membership> {
        let mut out: Vec<Membership> = Vec::new();
        let push = |out: &mut Vec<Membership>, i: usize, via: Option<String>| {
            let group = &self.groups[i].0;
            if !out.iter().any(|m| m.group.id == group.id) {
                out.push(Membership {
                    group: group.clone(),
                    via,
                });
            }
        };
        let key = email.to_ascii_lowercase();
        for &i in self.by_email.get(&key).into_iter().flatten() {
            push(&mut out, i, None);
        }
        let domain = super::email::domain_of(&key).to_string();
        for &i in self.by_domain.get(&domain).into_iter().flatten() {
            push(&mut out, i, Some(format!("domain {domain}")));
        }
        let by_id: HashMap<&str, usize> = self
            .groups
            .iter()
            .enumerate()
            .map(|(i, (g, _))| (g.id.as_str(), i))
            .collect();
        let mut k = 0;
        while k < out.len() {
            let child = out[k].group.clone();
            let through = if child.path.is_empty() {
                child.description.clone()
            } else {
                child.path.clone()
            };
            if let Some(&i) = child.parent_id.as_deref().and_then(|p| by_id.get(p)) {
                push(&mut out, i, Some(format!("group {through}")));
            }
            k += 1;
        }
        out
    }
}

impl Directory {
    /// Reads the members of every group concurrently and indexes them by address.
    /// Built once a run and kept until the run's own writes change a membership or a group
    /// ([`super::memory`]): `groups_of` in a loop scans once.
    pub async fn membership_index(&self) -> Result<std::sync::Arc<MembershipIndex>, DirError> {
        if let Some(index) = self.memory().index.clone() {
            return Ok(index);
        }
        let groups = self.list_groups(None).await?;
        let index = std::sync::Arc::new(self.membership_index_of(groups).await?);
        self.memory().index = Some(index.clone());
        Ok(index)
    }

    /// Like [`Directory::membership_index`], over `groups` already listed.
    pub(crate) async fn membership_index_of(
        &self,
        groups: Vec<Group>,
    ) -> Result<MembershipIndex, DirError> {
        let read: Vec<Result<(Group, Vec<Member>), DirError>> = stream::iter(groups)
            .map(|g| async move {
                let members = self.members(&g).await?;
                Ok((g, members))
            })
            .buffered(self.options.concurrency.max(1))
            .collect()
            .await;
        let mut index = MembershipIndex::default();
        for entry in read {
            let (group, members) = entry?;
            let i = index.groups.len();
            for m in &members {
                if !m.email_address.is_empty() {
                    index
                        .by_email
                        .entry(m.email_address.to_ascii_lowercase())
                        .or_default()
                        .push(i);
                } else if !m.domain.is_empty() {
                    index
                        .by_domain
                        .entry(m.domain.to_ascii_lowercase())
                        .or_default()
                        .push(i);
                }
            }
            index.groups.push((group, members));
        }
        Ok(index)
    }
}

//! Who is in which group, for questions the API cannot answer directly.
//!
//! Policy: no endpoint lists the groups of one user, so the index reads the members of every
//! group, concurrently (`--concurrency` requests in flight), once; callers reuse it for the
//! run instead of scanning again per user.

use std::collections::HashMap;

use futures_util::stream::{self, StreamExt};

use super::{DirError, Directory};
use crate::api::{Group, Member};

/// Every group with its members, indexed by member address.
#[derive(Debug, Clone, Default)]
pub struct MembershipIndex {
    groups: Vec<(Group, Vec<Member>)>,
    by_email: HashMap<String, Vec<usize>>,
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
}

impl Directory {
    /// Reads the members of every group concurrently and indexes them by address.
    pub async fn membership_index(&self) -> Result<MembershipIndex, DirError> {
        let groups = self.list_groups(None).await?;
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
                }
            }
            index.groups.push((group, members));
        }
        Ok(index)
    }
}

//! What an address is: a mailbox, an alias of one, an account on the purge list, or nothing.
//!
//! Policy: the API lists alias addresses as rows of their own (`alias: true`) without naming
//! their mailbox, so the mailbox is found among the users of the alias's domain that share
//! its display name, by asking each for its aliases (`get-aliases`). When none claims it,
//! the owner stays unknown and the caller says so rather than guessing.

use super::{DirError, Directory};
use crate::api::User;

/// What an address is in the directory.
#[derive(Debug, Clone, PartialEq)]
pub enum Address {
    /// A listed mailbox, with its aliases.
    Mailbox(User),
    /// An alias address: its row, and its mailbox (with aliases) when it could be told.
    Alias {
        /// The alias's own row.
        row: User,
        /// The mailbox it belongs to.
        owner: Option<User>,
    },
    /// A user the listing leaves out but the service knows: queued for deletion.
    Queued(String),
    /// No user has it.
    Unknown,
}

impl Directory {
    /// What `email` is: one listing of its domain (alias rows included), then `get-aliases`
    /// calls as needed.
    pub async fn lookup_address(&self, email: &str) -> Result<Address, DirError> {
        let key = email.to_ascii_lowercase();
        let rows = self.find_addresses(&[email.to_string()]).await?;
        match rows.get(&key) {
            Some(row) if row.is_alias() => {
                let owner = self.owner_of(row).await?;
                Ok(Address::Alias {
                    row: row.clone(),
                    owner,
                })
            }
            Some(_) => Ok(self
                .user_with_aliases(email)
                .await?
                .map_or(Address::Unknown, Address::Mailbox)),
            None if self.existing_users(&[email.to_string()]).await?.is_empty() => {
                Ok(Address::Unknown)
            }
            None => Ok(Address::Queued(email.to_string())),
        }
    }

    /// The mailbox whose aliases include `alias`'s address, among the users of its domain
    /// with the same display name.
    pub(crate) async fn owner_of(&self, alias: &User) -> Result<Option<User>, DirError> {
        let domain = super::email::domain_of(&alias.email_address).to_string();
        let mut listing = self.users(Some(&domain)).await?;
        let mut candidates = Vec::new();
        while let Some(batch) = listing.next_batch().await? {
            candidates.extend(
                batch
                    .into_iter()
                    .filter(|u| !alias.name.is_empty() && u.name == alias.name),
            );
        }
        for mut user in candidates {
            let aliases = self.client().aliases(&user.email_address).await?;
            if aliases
                .iter()
                .any(|a| a.eq_ignore_ascii_case(&alias.email_address))
            {
                user.aliases = aliases;
                return Ok(Some(user));
            }
        }
        Ok(None)
    }
}

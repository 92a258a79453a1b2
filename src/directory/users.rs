//! Users: complete listings across every internal domain, lookups and writes.

use std::collections::VecDeque;

use serde_json::{json, Value};

use super::digest::Digest;
use super::outcome::{ItemResult, Status};
use super::wording::wording;
use super::{DirError, Directory};
use crate::api::envelope::Response;
use crate::api::pager::Pager;
use crate::api::users::{users_of, NewUser, UserUpdate};
use crate::api::{paths, Domain, User};

/// Pages of users across one or several domains. While the caller handles one page, the
/// next is already on its way (its token came with the page), so a long listing costs about
/// one round trip per page and no more.
pub struct UserListing<'a> {
    dir: &'a Directory,
    domains: VecDeque<String>,
    current: Option<(String, Option<Fetch>, Digest)>,
    overlay: bool,
    prefetch: bool,
    aliases: bool,
    /// Every page of the current domain so far went into the run's memory.
    remembered: bool,
}

type Fetched = (Pager, Result<Option<Response>, crate::api::ApiError>);

enum Fetch {
    Ready(Pager),
    InFlight(tokio::task::JoinHandle<Fetched>),
}

fn fetch(mut pager: Pager) -> Fetch {
    Fetch::InFlight(tokio::spawn(async move {
        let page = pager.next_page().await;
        (pager, page)
    }))
}

impl UserListing<'_> {
    /// The next batch of users, or `None` when every domain is exhausted.
    pub async fn next_batch(&mut self) -> Result<Option<Vec<User>>, DirError> {
        loop {
            if self.current.is_none() {
                let Some(domain) = self.domains.pop_front() else {
                    return Ok(None);
                };
                let pager = self
                    .dir
                    .client()
                    .user_pages(Some(&domain), self.dir.options.page_size);
                self.current = Some((domain, Some(Fetch::Ready(pager)), Digest::default()));
                self.remembered = true;
            }
            let (_, slot, digest) = self.current.as_mut().expect("a listing");
            let (pager, page) = match slot.take().expect("a pager between pages") {
                Fetch::Ready(mut pager) => {
                    let page = pager.next_page().await;
                    (pager, page)
                }
                Fetch::InFlight(handle) => handle.await.map_err(|e| {
                    DirError::Api(crate::api::ApiError::Config(format!(
                        "page fetch stopped: {e}"
                    )))
                })?,
            };
            if let Some(page) = page? {
                let more = page.next.is_some();
                *slot = Some(if more && self.prefetch {
                    fetch(pager)
                } else {
                    Fetch::Ready(pager)
                });
                let mut users = users_of(page)?;
                // The whole page, alias rows included: a plan's read is the same read whether
                // the listing that made it kept the aliases or not.
                digest.update(&users);
                // What the run read foresees its writes and records what they change (a
                // rename's name before), up to a bound (see `passed.rs`).
                {
                    let mut memory = self.dir.memory();
                    memory.passed.keep(&users);
                    if memory.passed.full {
                        self.remembered = false;
                    }
                }
                if !self.aliases {
                    // Alias addresses are rows of their own (`alias: true`), not people.
                    users.retain(|u| !u.is_alias());
                }
                return Ok(Some(if self.overlay {
                    self.dir.overlaid(users, |o, v| o.users(v))
                } else {
                    users
                }));
            }
            let (domain, _, digest) = self.current.take().expect("a listing");
            if self.remembered {
                // Read to its end and kept whole: an address of it not kept is no live user.
                self.dir.memory().passed.passed_whole(&domain);
            }
            self.dir.note_read(
                "users",
                &domain,
                &format!("the users of {domain}"),
                digest.hex(),
            );
            if self.overlay {
                let planned = self.dir.overlaid(Vec::new(), |o, _| o.created_in(&domain));
                if !planned.is_empty() {
                    return Ok(Some(planned));
                }
            }
        }
    }
}

impl Directory {
    /// The account's internal domains.
    pub async fn domains(&self) -> Result<Vec<Domain>, DirError> {
        if let Some(domains) = self.memory().domains.clone() {
            return Ok(domains);
        }
        let domains = self.client().list_domains().await?;
        self.note_read("domains", "", "the internal domains", Digest::of(&domains));
        self.memory().domains = Some(domains.clone());
        Ok(domains)
    }

    /// The account's internal domain names, lower-case.
    pub async fn internal_domains(&self) -> Result<std::collections::HashSet<String>, DirError> {
        Ok(self
            .domains()
            .await?
            .into_iter()
            .map(|d| d.domain.to_ascii_lowercase())
            .collect())
    }

    /// The users (mailboxes) of `domain`, or of every internal domain (the API needs a domain
    /// per call). Alias addresses, which the service lists as rows of their own, are left out.
    pub async fn users(&self, domain: Option<&str>) -> Result<UserListing<'_>, DirError> {
        self.listing(domain, true, false).await
    }

    /// Like [`Directory::users`], with the alias addresses' rows (`alias: true`) kept.
    pub async fn users_and_aliases(
        &self,
        domain: Option<&str>,
    ) -> Result<UserListing<'_>, DirError> {
        self.listing(domain, true, true).await
    }

    async fn listing(
        &self,
        domain: Option<&str>,
        overlay: bool,
        aliases: bool,
    ) -> Result<UserListing<'_>, DirError> {
        let domains = match domain {
            Some(d) => VecDeque::from([d.to_ascii_lowercase()]),
            None => self
                .domains()
                .await?
                .into_iter()
                .map(|d| d.domain)
                .collect(),
        };
        // A listing read to the end prefetches; a lookup that stops early does not.
        Ok(UserListing {
            dir: self,
            domains,
            current: None,
            overlay,
            prefetch: overlay,
            aliases,
            remembered: false,
        })
    }

    /// The live user with address `email`, or `None`. The run's memory answers an address
    /// it has passed; otherwise the domain's pages are read on from where the last lookup
    /// stopped, every user passed remembered ([`super::memory`]).
    pub async fn find_user(&self, email: &str) -> Result<Option<User>, DirError> {
        let key = email.to_ascii_lowercase();
        let mut no_bound = usize::MAX;
        let found = self.known_or_scanned(&key, &mut no_bound).await?.flatten();
        self.remember_users(found.iter());
        self.note_read(
            "user",
            email,
            &format!("the user {email}"),
            Digest::of(&found),
        );
        Ok(self.overlaid(found, |o, f| o.user(email, f)))
    }

    /// The user `key` (lower case) as the run knows it, or as its domain's scan finds it
    /// reading at most `pages` more pages (`None` when they run out first).
    async fn known_or_scanned(
        &self,
        key: &str,
        pages: &mut usize,
    ) -> Result<Option<Option<User>>, DirError> {
        let remembered = self.memory().user(key);
        match remembered {
            Some(found) => Ok(Some(found)),
            None => self.scan_for(key, pages).await,
        }
    }

    /// Pages on through `email`'s domain until it turns up (`Some(Some(user))`), the domain
    /// ends (`Some(None)`) or `pages`, what the caller may still read, runs out (`None`: the
    /// scan is kept where it got to for the next lookup).
    async fn scan_for(
        &self,
        email: &str,
        pages: &mut usize,
    ) -> Result<Option<Option<User>>, DirError> {
        let domain = super::email::domain_of(email).to_string();
        let taken = self.memory().take_scan(&domain);
        let Some(pager) = taken else {
            return Ok(Some(None));
        };
        let mut pager = pager.unwrap_or_else(|| {
            self.client()
                .user_pages(Some(&domain), self.options.page_size)
        });
        loop {
            if *pages == 0 {
                self.memory().put_scan(&domain, Some(pager), false);
                return Ok(None);
            }
            *pages -= 1;
            let page = match pager.next_page().await {
                Ok(page) => page,
                Err(e) => {
                    // Start over next time rather than skip the page that failed.
                    self.memory().put_scan(&domain, None, false);
                    return Err(e.into());
                }
            };
            let Some(page) = page else {
                let mut memory = self.memory();
                memory.put_scan(&domain, None, true);
                memory.no_user(email);
                return Ok(Some(None));
            };
            let users = users_of(page)?;
            let mut memory = self.memory();
            memory.saw_users(&users);
            if let Some(Some(u)) = memory.user(email) {
                memory.put_scan(&domain, Some(pager), false);
                return Ok(Some(Some(u)));
            }
        }
    }

    /// Which of `emails` are users (mailboxes, listed or on the purge list), by lower-case
    /// address. What the run already knows is not asked again; the rest are asked with
    /// `get-aliases`, `--batch-size` addresses a request and `--concurrency` requests at a
    /// time, so the cost follows the addresses asked about, not the size of their domains.
    pub async fn existing_users(
        &self,
        emails: &[String],
    ) -> Result<std::collections::HashSet<String>, DirError> {
        use futures_util::stream::{self, StreamExt};
        // What the run knew before asking, by lower-case address.
        let mut before = std::collections::HashMap::new();
        let mut unknown: Vec<String> = Vec::new();
        for e in emails {
            let key = e.to_ascii_lowercase();
            if before.contains_key(&key) {
                continue;
            }
            let listed = matches!(self.memory().user(&key), Some(Some(_)));
            let known = self.memory().exists(&key).or(listed.then_some(true));
            if known.is_none() {
                unknown.push(e.clone());
            }
            before.insert(key, known);
        }
        let answers: Vec<std::collections::HashSet<String>> =
            stream::iter(unknown.chunks(self.options.batch_size.max(1)))
                .map(|chunk| self.client().known_mailboxes(chunk))
                .buffered(self.options.concurrency.max(1))
                .collect::<Vec<_>>()
                .await
                .into_iter()
                .collect::<Result<_, crate::api::ApiError>>()?;
        let known: std::collections::HashSet<String> = answers.into_iter().flatten().collect();
        for e in &unknown {
            let key = e.to_ascii_lowercase();
            self.memory().set_exists(&key, known.contains(&key));
        }
        let found: Vec<Option<String>> = emails
            .iter()
            .map(|e| {
                let key = e.to_ascii_lowercase();
                let is = before[&key].unwrap_or_else(|| known.contains(&key));
                is.then_some(key)
            })
            .collect();
        for (e, f) in emails.iter().zip(&found) {
            self.note_read(
                "address",
                e,
                &format!("whether {e} is a user (listed or queued for deletion)"),
                Digest::of(&f.is_some()),
            );
        }
        Ok(found.into_iter().flatten().collect())
    }

    /// Which of `emails` the users' listing leaves out, by lower-case address: of addresses
    /// the service knows (see [`Directory::existing_users`]), those queued for deletion.
    /// Each domain is read once for the run, and only until every address asked about has
    /// turned up (the scan [`Directory::find_user`] shares), so asking about listed users
    /// stops early; telling a queued one costs its domain's whole listing. With `pages`, at
    /// most that many pages are read in all, and an address not told by then is left out.
    /// It records no read for a plan: what it answers only shapes a warning.
    pub async fn unlisted(
        &self,
        emails: &[String],
        pages: Option<usize>,
    ) -> Result<std::collections::HashSet<String>, DirError> {
        let mut pages = pages.unwrap_or(usize::MAX);
        let mut out = std::collections::HashSet::new();
        for e in emails {
            let key = e.to_ascii_lowercase();
            if let Some(None) = self.known_or_scanned(&key, &mut pages).await? {
                out.insert(key);
            }
        }
        Ok(out)
    }

    /// The live user `email` with its alias addresses (`get-aliases`), or `None`.
    pub async fn user_with_aliases(&self, email: &str) -> Result<Option<User>, DirError> {
        let Some(mut user) = self.find_user(email).await? else {
            return Ok(None);
        };
        match self.client().aliases(&user.email_address).await {
            Ok(aliases) => {
                // A plan resting on them is checked against them when it is applied.
                self.note_read(
                    "aliases",
                    &user.email_address,
                    &format!("the aliases of {}", user.email_address),
                    aliases_digest(&aliases),
                );
                user.aliases = aliases;
            }
            // A user that only a dry run's plan has created has no aliases yet.
            Err(e) if self.is_dry_run() && e.code() == "err_user_not_found" => {}
            Err(e) => return Err(e.into()),
        }
        Ok(Some(user))
    }

    /// Creates one user and returns what the service answered (`emailAddress`, `id`, ...).
    pub async fn create_user(&self, email: &str, name: Option<&str>) -> Result<Value, DirError> {
        let user = NewUser {
            email_address: email.to_string(),
            name: name.map(str::to_string),
        };
        let data = self
            .execute_one(
                paths::CREATE_USER,
                email,
                json!(user),
                &wording(paths::CREATE_USER),
            )
            .await?;
        Ok(data.unwrap_or_else(|| json!({ "emailAddress": email, "name": name.unwrap_or("") })))
    }

    /// Changes settings of one user and returns the user's settings as answered.
    pub async fn update_user(&self, update: &UserUpdate) -> Result<Value, DirError> {
        let item = json!(update);
        let data = self
            .execute_one(
                paths::UPDATE_USER,
                &update.email_address,
                item.clone(),
                &wording(paths::UPDATE_USER),
            )
            .await?;
        Ok(data.unwrap_or(item))
    }

    /// Changes many users in batched requests; one result per change, in input order.
    pub async fn update_users(&self, updates: &[UserUpdate]) -> Result<Vec<ItemResult>, DirError> {
        let items = updates
            .iter()
            .map(|u| (u.email_address.clone(), json!(u)))
            .collect();
        Ok(self
            .execute(paths::UPDATE_USER, items, &wording(paths::UPDATE_USER))
            .await?
            .into_iter()
            .map(|o| o.result)
            .collect())
    }

    /// Queues many users for deletion (or, with `delete` false, takes them back off the
    /// purge list): up to 1 000 addresses a request; one result per address, in input order.
    pub async fn set_deleted_many(
        &self,
        emails: &[String],
        delete: bool,
    ) -> Result<Vec<ItemResult>, DirError> {
        let path = if delete {
            paths::ADD_TO_PURGE_LIST
        } else {
            paths::REMOVE_FROM_PURGE_LIST
        };
        let words = wording(path);
        // An address given twice is sent once; its repeat says so.
        let mut first: std::collections::HashMap<String, usize> = Default::default();
        let mut items = Vec::new();
        let mut order = Vec::with_capacity(emails.len());
        for e in emails {
            match first.get(&e.to_ascii_lowercase()) {
                Some(_) => order.push(None),
                None => {
                    first.insert(e.to_ascii_lowercase(), items.len());
                    order.push(Some(items.len()));
                    items.push((e.clone(), json!({ "emailAddresses": [e] })));
                }
            }
        }
        let sent: Vec<ItemResult> = self
            .execute(path, items, &words)
            .await?
            .into_iter()
            .map(|o| o.result)
            .collect();
        Ok(emails
            .iter()
            .zip(order)
            .map(|(e, at)| match at {
                Some(i) => sent[i].clone(),
                None => ItemResult::new(e.clone(), Status::Unchanged, "listed twice: done once"),
            })
            .collect())
    }

    /// Adds many aliases (`(user, alias)` pairs) in batched requests; one result per pair.
    pub async fn add_aliases(
        &self,
        pairs: &[(String, String)],
    ) -> Result<Vec<ItemResult>, DirError> {
        let items = pairs
            .iter()
            .map(|(email, alias)| (alias.clone(), json!({ "alias": alias, "aliasFor": email })))
            .collect();
        Ok(self
            .execute(paths::UPDATE_ALIAS, items, &wording(paths::UPDATE_ALIAS))
            .await?
            .into_iter()
            .map(|o| o.result)
            .collect())
    }

    /// Adds an alias to a user.
    pub async fn add_alias(&self, email: &str, alias: &str) -> Result<(), DirError> {
        let item = json!({ "alias": alias, "aliasFor": email });
        self.execute_one(
            paths::UPDATE_ALIAS,
            email,
            item,
            &wording(paths::UPDATE_ALIAS),
        )
        .await?;
        Ok(())
    }

    /// Queues `email` for deletion (the purge list); `restore` takes it back off.
    pub async fn set_deleted(&self, email: &str, delete: bool) -> Result<ItemResult, DirError> {
        let path = if delete {
            paths::ADD_TO_PURGE_LIST
        } else {
            paths::REMOVE_FROM_PURGE_LIST
        };
        let words = wording(path);
        let item = json!({ "emailAddresses": [email] });
        match self.execute_one(path, email, item, &words).await {
            Ok(_) if self.is_dry_run() => {
                let what = if delete {
                    "would be queued for deletion"
                } else {
                    "would be restored"
                };
                Ok(ItemResult::new(email, Status::Planned, what))
            }
            Ok(_) => Ok(ItemResult::new(email, words.success, words.done)),
            Err(DirError::Api(e)) if e.code() == "err_user_not_found" => {
                Err(DirError::UserNotFound {
                    email: email.to_string(),
                })
            }
            Err(e) => Err(e),
        }
    }
}

/// A user's aliases as a plan records them: in any order, in any case.
pub(crate) fn aliases_digest(aliases: &[String]) -> String {
    let mut sorted: Vec<String> = aliases.iter().map(|a| a.to_ascii_lowercase()).collect();
    sorted.sort();
    Digest::of(&sorted)
}

/// Most users of one domain that a `find_users` read keeps whole for the rest of the run
/// (a few MB): any address of it is then answered without reading again.
const KEPT_DOMAIN_USERS: usize = 20_000;

impl Directory {
    /// The users among `emails`, keyed by lower-case address. Each domain's users are read
    /// once; a domain that is not internal simply has none. A domain of at most
    /// [`KEPT_DOMAIN_USERS`] users is kept whole for the run: a later call, or a `find_user`,
    /// reads it no more (nor a later [`Directory::find_addresses`], when the domain was read
    /// with its alias rows).
    pub async fn find_users(
        &self,
        emails: &[String],
    ) -> Result<std::collections::HashMap<String, User>, DirError> {
        self.find_rows(emails, false).await
    }

    /// Like [`Directory::find_users`], alias addresses' rows (`alias: true`) included.
    pub async fn find_addresses(
        &self,
        emails: &[String],
    ) -> Result<std::collections::HashMap<String, User>, DirError> {
        self.find_rows(emails, true).await
    }

    async fn find_rows(
        &self,
        emails: &[String],
        aliases: bool,
    ) -> Result<std::collections::HashMap<String, User>, DirError> {
        let wanted: std::collections::HashSet<String> =
            emails.iter().map(|e| e.to_ascii_lowercase()).collect();
        let mut domains: Vec<String> = wanted
            .iter()
            .map(|e| super::email::domain_of(e).to_string())
            .collect();
        domains.sort();
        domains.dedup();
        let internal = self.internal_domains().await?;
        let mut found = std::collections::HashMap::new();
        for d in domains.into_iter().filter(|d| internal.contains(d)) {
            // A domain this run has read whole already answers from memory: a second call,
            // or `user()` after this one, reads nothing; with alias rows, when they were read
            // whole too (and no alias changed since).
            let known = if aliases {
                self.memory().scanned_whole_with_aliases(&d)
            } else {
                self.memory().scanned_whole(&d)
            };
            if known {
                for key in wanted.iter().filter(|k| super::email::domain_of(k) == d) {
                    let alias = aliases.then(|| self.memory().alias_row(key)).flatten();
                    if let Some(row) = alias {
                        found.insert(key.clone(), row);
                    } else if let Some(u) = self.find_user(key).await? {
                        found.insert(key.clone(), u);
                    }
                }
                continue;
            }
            // Kept whole when the domain is small enough and the run is real (a dry run's
            // listing holds its planned users, which the memory must not take for the
            // service's).
            let mut whole = (!self.is_dry_run()).then(Vec::new);
            let mut alias_rows = Vec::new();
            let mut listing = self.listing(Some(&d), true, aliases).await?;
            while let Some(batch) = listing.next_batch().await? {
                if let Some(w) = whole.as_mut() {
                    let (rows, users): (Vec<User>, Vec<User>) =
                        batch.iter().cloned().partition(User::is_alias);
                    w.extend(users);
                    alias_rows.extend(rows);
                    if w.len() + alias_rows.len() > KEPT_DOMAIN_USERS {
                        whole = None;
                        alias_rows = Vec::new();
                    }
                }
                for u in batch {
                    let key = u.email_address.to_ascii_lowercase();
                    if wanted.contains(&key) {
                        self.remember_users([&u]);
                        self.memory().saw_users(std::slice::from_ref(&u));
                        found.insert(key, u);
                    }
                }
            }
            if let Some(all) = whole {
                let mut memory = self.memory();
                memory.saw_users(&all);
                memory.put_scan(&d, None, true);
                if aliases {
                    memory.keep_alias_rows(&d, alias_rows);
                }
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Client, ClientOptions, Credentials, Secret};
    use crate::directory::BulkOptions;
    use crate::sandbox::{Options, Sandbox};

    /// A directory with a memory of its own on `sb`, reading `page_size` users a page.
    fn directory(sb: &Sandbox, page_size: u32) -> Directory {
        let creds = Credentials::OAuth {
            client_id: sb.keys.client_id.clone(),
            client_secret: Secret::new(sb.keys.client_secret.clone()),
        };
        let client = Client::new(&sb.base_url, creds, ClientOptions::default(), None).unwrap();
        let options = BulkOptions {
            page_size,
            ..BulkOptions::default()
        };
        Directory::new(client, options, false)
    }

    #[test]
    fn unlisted_tells_users_queued_for_deletion_within_the_pages_it_may_read() {
        let sb = Sandbox::spawn(Options::default()).unwrap();
        let rt = tokio::runtime::Runtime::new().unwrap();
        let dir = directory(&sb, 500);
        let listed: Vec<String> = rt.block_on(async {
            let mut listing = dir.users(Some("company.com")).await.unwrap();
            let mut out = Vec::new();
            while let Some(batch) = listing.next_batch().await.unwrap() {
                out.extend(batch.into_iter().map(|u| u.email_address));
            }
            out
        });
        assert!(listed.len() > 6, "{listed:?}");
        let (first, last) = (listed[0].clone(), listed[listed.len() - 1].clone());
        let queued = rt.block_on(dir.set_deleted(&last, true)).unwrap();
        assert_eq!(queued.status, Status::Removed, "{queued:?}");
        let both = [first.clone(), last.clone()];
        let unlisted = |pages: Option<usize>| {
            rt.block_on(directory(&sb, 2).unlisted(&both, pages))
                .unwrap()
        };
        let expected: std::collections::HashSet<String> = [last.to_ascii_lowercase()].into();
        assert_eq!(unlisted(None), expected, "read to the end");
        assert_eq!(
            unlisted(Some(listed.len())),
            expected,
            "pages enough for all"
        );
        assert!(
            unlisted(Some(1)).is_empty(),
            "one page tells the first user listed and no more"
        );
        assert!(
            unlisted(Some(listed.len() / 2 - 1)).is_empty(),
            "the queued user is not told before its domain's end"
        );
        let first_only = rt
            .block_on(directory(&sb, 2).unlisted(std::slice::from_ref(&first), Some(1)))
            .unwrap();
        assert!(first_only.is_empty(), "a listed user is not unlisted");
    }
}

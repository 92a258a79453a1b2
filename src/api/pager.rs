//! Pagination that never stops early and never loops.
//!
//! Policy: a list is complete or it is an error. The pager follows `next` until it is absent;
//! a token the service already handed out is an error ([`ApiError::PageLoop`]), not a cycle.

use std::collections::HashSet;

use serde_json::Value;

use super::client::{Client, Kind};
use super::envelope::{PageRequest, Request, RequestMeta, Response, MAX_PAGE_SIZE};
use super::error::ApiError;

/// Walks the pages of one paged endpoint.
pub struct Pager {
    client: Client,
    path: String,
    item: Option<Value>,
    page_size: u32,
    next: Option<String>,
    /// Digests of the tokens handed out (a server's tokens may be large; 8 bytes each).
    seen: HashSet<u64>,
    done: bool,
    pages: u32,
    /// The rows read so far, and the total the first page announced.
    rows: u64,
    total: Option<u64>,
    /// Pages in a row that held no row but promised another page.
    empty: u32,
}

/// More pages than any tenant has (500 rows a page: 10 million rows).
pub const MAX_PAGES: u32 = 20_000;

/// Empty pages in a row that still promise more, before the listing is called a runaway.
const MAX_EMPTY_PAGES: u32 = 3;

/// The rows a page holds: a `data` item that wraps a list (`{"users": [...]}`) counts its
/// list's length, any other item one.
fn rows_of(data: &[Value]) -> u64 {
    data.iter()
        .map(|item| {
            item.as_object()
                .and_then(|o| o.values().find_map(Value::as_array))
                .map_or(1, |list| list.len() as u64)
        })
        .sum()
}

fn digest(token: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    token.hash(&mut h);
    h.finish()
}

impl Pager {
    /// A pager over `path`; `item` is the one `data` item the endpoint takes, if any.
    pub fn new(client: &Client, path: &str, item: Option<Value>, page_size: u32) -> Pager {
        Pager {
            client: client.clone(),
            path: path.to_string(),
            item,
            page_size: page_size.clamp(1, MAX_PAGE_SIZE),
            next: None,
            seen: HashSet::new(),
            done: false,
            pages: 0,
            rows: 0,
            total: None,
            empty: 0,
        }
    }

    /// The next page, or `None` after the last one.
    pub async fn next_page(&mut self) -> Result<Option<Response>, ApiError> {
        if self.done {
            return Ok(None);
        }
        let request = Request {
            meta: Some(RequestMeta {
                pagination: PageRequest {
                    page_size: self.page_size,
                    page_token: self.next.clone(),
                },
            }),
            data: self.item.iter().cloned().collect(),
        };
        let resp = self.client.send(&self.path, Kind::Read, &request).await?;
        if !resp.fail.is_empty() {
            self.done = true;
            return Err(ApiError::Failed {
                path: self.path.clone(),
                status: 200,
                failures: resp.fail,
            });
        }
        self.pages += 1;
        let rows = rows_of(&resp.data);
        self.rows += rows;
        if self.total.is_none() {
            self.total = resp.total_count;
        }
        self.empty = if rows == 0 { self.empty + 1 } else { 0 };
        if resp.next.is_some() {
            // One page of slack: users added while the listing runs.
            let runaway = if self
                .total
                .is_some_and(|t| self.rows > t.saturating_add(u64::from(self.page_size)))
            {
                Some(format!(
                    "{} rows read, more than the {} the service itself counts, and it offers another page",
                    self.rows,
                    self.total.unwrap_or(0)
                ))
            } else if self.empty >= MAX_EMPTY_PAGES {
                Some(format!(
                    "{} pages in a row held nothing but the promise of another",
                    self.empty
                ))
            } else if self.pages >= MAX_PAGES {
                Some(format!(
                    "{} pages read, more than any tenant has",
                    self.pages
                ))
            } else {
                None
            };
            if let Some(detail) = runaway {
                self.done = true;
                return Err(ApiError::Runaway {
                    path: self.path.clone(),
                    detail,
                });
            }
        }
        match &resp.next {
            None => self.done = true,
            Some(token) if !self.seen.insert(digest(token)) => {
                self.done = true;
                return Err(ApiError::PageLoop {
                    path: self.path.clone(),
                    token: token.clone(),
                });
            }
            Some(token) => self.next = Some(token.clone()),
        }
        Ok(Some(resp))
    }

    /// How many pages have been read so far.
    pub fn pages_read(&self) -> u32 {
        self.pages
    }
}

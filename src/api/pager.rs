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
    seen: HashSet<String>,
    done: bool,
    pages: u32,
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
        match &resp.next {
            None => self.done = true,
            Some(token) if !self.seen.insert(token.clone()) => {
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

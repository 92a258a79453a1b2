//! `for u in users()`: the users of a listing one page at a time, never the whole tenant.
//!
//! Policy: where a `for` loop iterates `users()` or `users(domain)` directly (the script's
//! text says so, [`super::sites::streamed`]), the call returns a [`UserStream`] instead of an
//! array: a task pages through the listing (the next page already on its way while the loop
//! handles this one) and hands pages over one at a time, so the loop starts after the first
//! page and holds about two pages, whatever the tenant's size. Everywhere else `users()` is
//! an array, so `.filter`, `.len()` and the rest work as before. A listing error ends the loop
//! with that error; Ctrl-C ends it at once.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::Arc;

use rhai::{Dynamic, EvalAltResult};
use tokio::sync::mpsc;

use super::convert;
use super::errors;
use crate::api::User;
use crate::directory::{DirError, Directory};
use crate::interrupt::Interrupt;

type Page = Result<Vec<User>, DirError>;

/// A listing of users being read page by page (what `for u in users()` iterates).
#[derive(Clone)]
pub struct UserStream(Rc<RefCell<Inner>>);

struct Inner {
    pages: mpsc::Receiver<Page>,
    page: VecDeque<User>,
    runtime: tokio::runtime::Handle,
    interrupt: Arc<Interrupt>,
    done: bool,
}

impl UserStream {
    /// Starts reading the users of `domain` (or every internal domain) from `dir`.
    pub fn start(
        dir: Arc<Directory>,
        domain: Option<String>,
        runtime: tokio::runtime::Handle,
        interrupt: Arc<Interrupt>,
    ) -> UserStream {
        // One page waiting while the loop works on another.
        let (tx, rx) = mpsc::channel::<Page>(1);
        runtime.spawn(async move {
            let mut listing = match dir.users(domain.as_deref()).await {
                Ok(l) => l,
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                    return;
                }
            };
            loop {
                match listing.next_batch().await {
                    Ok(Some(batch)) => {
                        if tx.send(Ok(batch)).await.is_err() {
                            return; // the loop ended early
                        }
                    }
                    Ok(None) => return,
                    Err(e) => {
                        let _ = tx.send(Err(e)).await;
                        return;
                    }
                }
            }
        });
        UserStream(Rc::new(RefCell::new(Inner {
            pages: rx,
            page: VecDeque::new(),
            runtime,
            interrupt,
            done: false,
        })))
    }
}

impl IntoIterator for UserStream {
    type Item = Result<Dynamic, Box<EvalAltResult>>;
    type IntoIter = UserIter;

    fn into_iter(self) -> UserIter {
        UserIter(self.0)
    }
}

/// The iterator a `for` loop walks.
pub struct UserIter(Rc<RefCell<Inner>>);

impl Iterator for UserIter {
    type Item = Result<Dynamic, Box<EvalAltResult>>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut inner = self.0.borrow_mut();
        loop {
            if let Some(u) = inner.page.pop_front() {
                return Some(convert::to_dyn("users", &u));
            }
            if inner.done {
                return None;
            }
            let interrupt = inner.interrupt.clone();
            let runtime = inner.runtime.clone();
            let pages = &mut inner.pages;
            let got = runtime.block_on(async {
                tokio::select! {
                    // An interrupt wins over a page, and over a page it made fail (not sent:
                    // stopped), as in `Host::block_on`.
                    biased;
                    _ = interrupt.wait() => None,
                    page = pages.recv() => Some(page),
                }
            });
            match got {
                // A page not sent because the run was told to stop is the interrupt's doing.
                None | Some(Some(Err(DirError::Api(crate::api::ApiError::Stopped { .. })))) => {
                    inner.done = true;
                    return Some(Err(errors::raise(
                        "users",
                        "interrupted",
                        "interrupted (Ctrl-C, or a signal to end)",
                        false,
                        0,
                        "interrupted",
                    )));
                }
                Some(None) => inner.done = true,
                Some(Some(Ok(batch))) => inner.page.extend(batch),
                Some(Some(Err(e))) => {
                    inner.done = true;
                    return Some(Err(errors::from_dir("users", &e)));
                }
            }
        }
    }
}

//! Counting allocator: how many bytes the process holds, readable in one atomic load.
//!
//! Policy: scripts are stopped by memory, not by Rhai's data-size checks, because those walk
//! a whole array or map after every change (a 100 000-row loop would be quadratic). The
//! engine's progress hook compares [`allocated`] with `--limit memory` after every operation.
//! A fleet runs each tenant's part as threads of one process: a part's threads also count
//! what they hold in the part's own [`Scope`], which its limit is compared with.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};

/// Bytes held, as the allocator counts them. Signed: a scope's thread may free what another
/// thread allocated, so a scope's count may dip below what it handed out.
pub struct Tally(AtomicIsize);

impl Tally {
    /// A tally at zero.
    pub const fn new() -> Tally {
        Tally(AtomicIsize::new(0))
    }

    /// `n` bytes were handed out.
    pub fn add(&self, n: usize) {
        self.0.fetch_add(n as isize, Ordering::Relaxed);
    }

    /// `n` bytes came back.
    pub fn sub(&self, n: usize) {
        self.0.fetch_sub(n as isize, Ordering::Relaxed);
    }

    /// A block of `old` bytes now has `new` bytes.
    pub fn resize(&self, old: usize, new: usize) {
        if new >= old {
            self.add(new - old);
        } else {
            self.sub(old - new);
        }
    }

    /// Bytes held (none when more came back than went out).
    pub fn get(&self) -> usize {
        self.0.load(Ordering::Relaxed).max(0) as usize
    }
}

impl Default for Tally {
    fn default() -> Self {
        Tally::new()
    }
}

/// The system allocator, counting.
pub struct Counting;

static ALLOCATED: Tally = Tally::new();

/// What one fleet part's threads hold, and the part's memory limit.
pub struct Scope {
    held: Tally,
    budget: AtomicUsize,
    /// Of what is held, the bytes kept for the fleet's report (its output), which a single
    /// run would have written out and which its limit does not count.
    kept: AtomicUsize,
}

impl Scope {
    /// A new scope that lives as long as the process (a few bytes per fleet part): the
    /// allocator reaches it from any of the part's threads without a count of its own.
    pub fn leaked() -> &'static Scope {
        Box::leak(Box::new(Scope {
            held: Tally::new(),
            budget: AtomicUsize::new(usize::MAX),
            kept: AtomicUsize::new(0),
        }))
    }

    /// Says that `bytes` of what the scope holds are its output kept for the report.
    pub fn set_kept(&self, bytes: usize) {
        self.kept.store(bytes, Ordering::Relaxed);
    }
}

thread_local! {
    static SCOPE: Cell<Option<&'static Scope>> = const { Cell::new(None) };
}

/// Makes what this thread allocates and frees count in `scope` too.
pub fn enter(scope: &'static Scope) {
    SCOPE.with(|s| s.set(Some(scope)));
}

/// This thread's scope, if it has one (none while the thread is being torn down).
fn scope() -> Option<&'static Scope> {
    SCOPE.try_with(Cell::get).ok().flatten()
}

/// Counts a change in this thread's scope, or else in the process's tally: a fleet part's
/// threads count only in their own, so twenty parts do not contend for one counter.
fn count(f: impl FnOnce(&Tally)) {
    match scope() {
        Some(s) => f(&s.held),
        None => f(&ALLOCATED),
    }
}

// SAFETY: every call forwards to `System` unchanged; only a counter is kept beside it.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            count(|t| t.add(layout.size()));
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            count(|t| t.add(layout.size()));
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        count(|t| t.sub(layout.size()));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            count(|t| t.resize(layout.size(), new_size));
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Bytes currently held by this run: the process, or the fleet part this thread is one of.
pub fn allocated() -> usize {
    scope().map_or_else(
        || ALLOCATED.get(),
        |s| s.held.get().saturating_sub(s.kept.load(Ordering::Relaxed)),
    )
}

static BUDGET: AtomicUsize = AtomicUsize::new(usize::MAX);

/// This run's memory limit: the process's, or its fleet part's.
fn budget() -> &'static AtomicUsize {
    scope().map_or(&BUDGET, |s| &s.budget)
}

/// Sets the memory a script may use (`--limit memory=MiB`), so file reads can be bounded.
pub fn set_budget(bytes: usize) {
    budget().store(bytes, Ordering::Relaxed);
}

/// How many more bytes the script memory limit allows now.
pub fn headroom() -> usize {
    budget().load(Ordering::Relaxed).saturating_sub(allocated())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tally_follows_allocations_resizes_and_frees() {
        let t = Tally::new();
        t.add(100);
        t.resize(100, 250);
        assert_eq!(t.get(), 250);
        t.resize(250, 50);
        assert_eq!(t.get(), 50);
        t.sub(50);
        assert_eq!(t.get(), 0);
    }

    #[test]
    fn a_scopes_threads_count_on_their_own_and_its_limit_is_its_own() {
        let scope = Scope::leaked();
        std::thread::spawn(move || {
            enter(scope);
            assert!(allocated() < 16 << 20, "{}", allocated());
            set_budget(64 << 20);
            let big = vec![1u8; 32 << 20];
            assert!(allocated() >= 32 << 20);
            // The scope's limit less what the scope holds: about 24 MiB, whatever else the
            // process holds.
            let room = headroom();
            assert!((16 << 20..=32 << 20).contains(&room), "{room}");
            drop(big);
            assert!(allocated() < 16 << 20);
        })
        .join()
        .unwrap();
        // The limit was the scope's, not the process's.
        assert_eq!(scope.budget.load(Ordering::Relaxed), 64 << 20);
        // What the scope keeps for the report is not counted against it.
        std::thread::spawn(move || {
            enter(scope);
            let report = vec![1u8; 32 << 20];
            scope.set_kept(report.len());
            assert!(allocated() < 16 << 20, "{}", allocated());
        })
        .join()
        .unwrap();
        // Freed by a thread of the scope, never handed out there: not below zero.
        let t = Tally::new();
        t.sub(10);
        assert_eq!(t.get(), 0);
    }

    #[test]
    fn the_process_count_sees_a_large_block() {
        // Other tests allocate concurrently, so only a block far larger than their churn is
        // checked, and only in the direction it must move.
        let big = vec![1u8; 256 << 20];
        assert!(allocated() >= 256 << 20);
        drop(big);
    }
}

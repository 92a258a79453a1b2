//! Counting allocator: how many bytes the process holds, readable in one atomic load.
//!
//! Policy: scripts are stopped by memory, not by Rhai's data-size checks, because those walk
//! a whole array or map after every change (a 100 000-row loop would be quadratic). The
//! engine's progress hook compares [`allocated`] with `--limit memory` after every operation.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Bytes held, as the allocator counts them.
pub struct Tally(AtomicUsize);

impl Tally {
    /// A tally at zero.
    pub const fn new() -> Tally {
        Tally(AtomicUsize::new(0))
    }

    /// `n` bytes were handed out.
    pub fn add(&self, n: usize) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    /// `n` bytes came back.
    pub fn sub(&self, n: usize) {
        self.0.fetch_sub(n, Ordering::Relaxed);
    }

    /// A block of `old` bytes now has `new` bytes.
    pub fn resize(&self, old: usize, new: usize) {
        if new >= old {
            self.add(new - old);
        } else {
            self.sub(old - new);
        }
    }

    /// Bytes held.
    pub fn get(&self) -> usize {
        self.0.load(Ordering::Relaxed)
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

// SAFETY: every call forwards to `System` unchanged; only a counter is kept beside it.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            ALLOCATED.add(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            ALLOCATED.add(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        ALLOCATED.sub(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            ALLOCATED.resize(layout.size(), new_size);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Bytes currently allocated by the process.
pub fn allocated() -> usize {
    ALLOCATED.get()
}

static BUDGET: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(usize::MAX);

/// Sets the memory a script may use (`--limit memory=MiB`), so file reads can be bounded.
pub fn set_budget(bytes: usize) {
    BUDGET.store(bytes, std::sync::atomic::Ordering::Relaxed);
}

/// How many more bytes the script memory limit allows now.
pub fn headroom() -> usize {
    BUDGET
        .load(std::sync::atomic::Ordering::Relaxed)
        .saturating_sub(allocated())
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
    fn the_process_count_sees_a_large_block() {
        // Other tests allocate concurrently, so only a block far larger than their churn is
        // checked, and only in the direction it must move.
        let big = vec![1u8; 256 << 20];
        assert!(allocated() >= 256 << 20);
        drop(big);
    }
}

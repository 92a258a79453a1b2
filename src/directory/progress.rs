//! Progress of bulk work, for whoever shows it (the CLI draws a bar on a terminal).

/// Receives progress; must be cheap.
pub trait Progress: Send + Sync {
    /// `n` more items are on their way.
    fn add_total(&self, n: usize);
    /// `n` items finished, `failed` of them failed.
    fn done(&self, n: usize, failed: usize);
    /// A new job starts (a REPL statement): counts and the clock start again from zero.
    fn restart(&self) {}
}

//! The sandbox: a faithful local imitation of the Mimecast API for users and groups.
//!
//! Policy: same paths, envelope, pagination, error codes, rate-limit headers and both
//! authentication schemes as `docs/mimecast-api.md` describes, with state in SQLite. It depends on
//! no client type (its wire handling is its own), so any client written from Mimecast's
//! documentation works against it unchanged, and a client bug cannot hide behind a twin.

pub mod auth;
pub mod faults;
pub mod generate;
pub mod groups;
pub mod ids;
pub mod import;
pub mod seed;
pub mod server;
pub mod store;
pub mod users;
pub mod wire;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use auth::Keys;
pub use faults::{Quota, Stats};

/// The quota that `--quota N`, `--bucket N` and `--refill-ms MS` describe: `N` a second with
/// a bucket of `N`, each part overridable; no flag at all means no practical limit.
pub fn quota_of(per_second: Option<u32>, bucket: Option<u64>, refill_ms: Option<u64>) -> Quota {
    let base = match per_second {
        Some(n) => Quota::per_second(n),
        None if bucket.is_some() || refill_ms.is_some() => Quota::per_second(1),
        None => Quota::default(),
    };
    Quota {
        bucket: bucket.unwrap_or(base.bucket),
        refill: refill_ms.map(Duration::from_millis).unwrap_or(base.refill),
    }
}

/// How to run a sandbox.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where to listen; port 0 picks a free one.
    pub addr: SocketAddr,
    /// SQLite file of the tenant, or `:memory:`.
    pub state: String,
    /// Start a new tenant without demo people and groups (domains only).
    pub empty: bool,
    /// Added to every answer.
    pub latency: Duration,
    /// Share of requests that fail at random (0.0 to 1.0).
    pub fail_rate: f64,
    /// The rate limit: a bucket and its refill ([`quota_of`] builds one from flags).
    pub quota: Quota,
    /// Seed of the fault generator, for repeatable runs.
    pub seed: Option<u64>,
    /// Lifetime of API 2.0 tokens.
    pub token_ttl: Duration,
    /// Synthetic users to add at start (most in the main domain).
    pub generate_users: usize,
    /// Synthetic groups, with members, to add at start.
    pub generate_groups: usize,
    /// A snapshot file to load the tenant from (a rehearsal copy) instead of the demo.
    pub from: Option<String>,
    /// Give every group a new id string at start, as the real service re-encrypts ids:
    /// ids copied before still work, but no longer equal what listings answer.
    pub rekey: bool,
    /// The tenant's name, when it is one of several ([`tenant_state`]): a new state is seeded
    /// with its own account name, code and people.
    pub tenant: Option<String>,
    /// Keep every write item carried out in [`faults::Stats::accepted`], for tests that count
    /// them; a served sandbox keeps none, so its memory does not grow with its requests.
    pub record_writes: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            state: ":memory:".into(),
            empty: false,
            latency: Duration::ZERO,
            fail_rate: 0.0,
            quota: Quota::default(),
            seed: None,
            token_ttl: Duration::from_secs(1799),
            generate_users: 0,
            generate_groups: 0,
            from: None,
            rekey: false,
            tenant: None,
            record_writes: true,
        }
    }
}

/// The longest name a sandbox tenant may have.
const MAX_TENANT_NAME: usize = 64;

/// Whether `name` can be part of a file name as a tenant's: at most [`MAX_TENANT_NAME`]
/// letters, digits, `-`, `_` and `.` (not first). Sandbox tenants' states and a fleet's
/// plans and snapshots are named after their tenants.
pub fn fits_a_file_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_TENANT_NAME
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// The state file of the sandbox tenant `name`, beside `base` (the single tenant's state):
/// `sandbox.db` gives `sandbox-acme.db`; `:memory:` stays `:memory:`. `Err` says why the name
/// cannot be a tenant's (it becomes part of a file name: letters, digits, `-`, `_`, `.`).
pub fn tenant_state(base: &str, name: &str) -> Result<String, String> {
    if !fits_a_file_name(name) {
        return Err(format!(
            "{name:?} cannot name a sandbox tenant: use at most {MAX_TENANT_NAME} letters, digits, '-', '_' or '.' (not first)"
        ));
    }
    if base == ":memory:" {
        return Ok(base.to_string());
    }
    let stem = base.strip_suffix(".db").unwrap_or(base);
    Ok(format!("{stem}-{name}.db"))
}

/// Why a sandbox could not start.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The state file could not be opened or written.
    #[error("sandbox state {state}: {source}")]
    Storage {
        /// The state path.
        state: String,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The file is not an mcsh sandbox database; nothing was removed.
    #[error("{path} is not an mcsh sandbox database ({why}); nothing was removed")]
    NotSandbox {
        /// The file.
        path: String,
        /// Why it is not one.
        why: String,
    },
    /// The snapshot to load is refused.
    #[error(transparent)]
    Snapshot(#[from] crate::snapshot::BadSnapshot),
    /// The state already holds another tenant than the snapshot asked for.
    #[error("the sandbox state {state} already holds a tenant that is not a copy of {snapshot}; use a new --state (or :memory:) for a rehearsal copy")]
    Occupied {
        /// The state file.
        state: String,
        /// The snapshot file.
        snapshot: String,
    },
    /// A sandbox (a `sandbox serve`, or a command with `--sandbox`) has the state open.
    #[error("a sandbox is running on {path} (`mcsh sandbox serve` or a command with --sandbox); stop it first (Ctrl-C), then reset; nothing was removed")]
    InUse {
        /// The state file.
        path: String,
    },
    /// The state's lock file could not be opened.
    #[error("cannot lock the sandbox state {path}: {}", plain_io(.source))]
    Lock {
        /// The lock file.
        path: String,
        /// What the OS said.
        source: std::io::Error,
    },
    /// Removing the state file failed.
    #[error("cannot remove {path}: {}", plain_io(.source))]
    Remove {
        /// The file.
        path: String,
        /// What the OS said.
        source: std::io::Error,
    },
}

/// The base URL a client on this machine uses for `addr`: a wildcard address (`0.0.0.0`,
/// `::`) is reached on loopback, which mcsh also accepts over plain http.
fn usable_url(addr: SocketAddr) -> String {
    match addr.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => {
            format!("http://127.0.0.1:{}", addr.port())
        }
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => format!("http://[::1]:{}", addr.port()),
        _ => format!("http://{addr}"),
    }
}

/// An OS error without the repetition `std::io::Error` adds (`... (os error 21)`).
fn plain_io(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// Where the sandbox keeps its tenant unless told otherwise: `$XDG_DATA_HOME/mcsh/sandbox.db`.
pub fn default_state_path() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("mcsh")
        .join("sandbox.db")
}

/// A sandbox serving on the caller's runtime.
pub struct Running {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// The bound address.
    pub addr: SocketAddr,
    /// The tenant's credentials.
    pub keys: Keys,
    /// Request counters.
    pub stats: Arc<Stats>,
    /// Issued tokens.
    pub tokens: Arc<auth::Tokens>,
    /// The tenant's state.
    db: Arc<Mutex<rusqlite::Connection>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
    /// A shared lock on the state while it serves: `sandbox reset` refuses meanwhile.
    _lock: Option<std::fs::File>,
}

/// The lock file beside a state file.
fn lock_path(state: &str) -> String {
    format!("{state}.lock")
}

/// Takes a shared lock on `state` for as long as the file is held (`:memory:` needs none).
fn share_state(state: &str) -> Result<Option<std::fs::File>, SandboxError> {
    if state == ":memory:" {
        return Ok(None);
    }
    let path = lock_path(state);
    let lock_err = |source| SandboxError::Lock {
        path: path.clone(),
        source,
    };
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(lock_err)?;
    match file.try_lock_shared() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Err(SandboxError::InUse {
            path: state.to_string(),
        }),
        Err(std::fs::TryLockError::Error(e)) => Err(lock_err(e)),
    }
}

impl Running {
    /// Stops accepting requests and waits for the server to finish.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        // Requests under way get two seconds to finish; a client that sent half a request
        // and went quiet does not keep the server alive.
        if tokio::time::timeout(Duration::from_secs(2), &mut self.task)
            .await
            .is_err()
        {
            self.task.abort();
        }
    }
}

/// Opens the tenant (seeding it on first use), binds and serves on the current runtime.
pub async fn start(options: Options) -> Result<Running, SandboxError> {
    let storage = |source| SandboxError::Storage {
        state: options.state.clone(),
        source,
    };
    // A snapshot is read and checked before the state is touched: a bad one leaves nothing.
    let snapshot = match &options.from {
        Some(path) => Some(read_snapshot(path)?),
        None => None,
    };
    let mut conn = store::open(&options.state).map_err(storage)?;
    let lock = share_state(&options.state)?;
    match (&snapshot, &options.from) {
        (Some((snap, digest)), Some(path)) => {
            load_snapshot(&mut conn, &options.state, path, snap, digest)?
        }
        _ => seed::seed(&conn, options.empty, options.tenant.as_deref()).map_err(storage)?,
    }
    if options.generate_users > 0 || options.generate_groups > 0 {
        generate::generate(&mut conn, options.generate_users, options.generate_groups)
            .map_err(storage)?;
    }
    let keys = Keys::load_or_create(&conn).map_err(storage)?;
    if options.rekey {
        store::rekey(&mut conn).map_err(storage)?;
    }
    let listener = tokio::net::TcpListener::bind(options.addr)
        .await
        .map_err(|source| SandboxError::Bind {
            addr: options.addr,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| SandboxError::Bind {
        addr: options.addr,
        source,
    })?;
    let stats = Arc::new(Stats::default());
    let tokens = Arc::new(auth::Tokens::default());
    let db = Arc::new(Mutex::new(conn));
    let app = Arc::new(server::App {
        db: db.clone(),
        keys: keys.clone(),
        tokens: tokens.clone(),
        faults: faults::Faults::new(
            options.latency,
            options.fail_rate,
            options.quota,
            options.seed,
        ),
        stats: stats.clone(),
        token_ttl: options.token_ttl,
        record_writes: options.record_writes,
    });
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let router = server::router(app);
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    Ok(Running {
        base_url: usable_url(addr),
        addr,
        keys,
        stats,
        tokens,
        db,
        shutdown: Some(tx),
        task,
        _lock: lock,
    })
}

/// The digest of a snapshot file's bytes: which snapshot a rehearsal copy was made from.
pub fn snapshot_digest(bytes: &[u8]) -> String {
    use sha1::Digest as _;
    let hash = sha1::Sha1::digest(bytes);
    hash.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// The snapshot at `path`, checked, and the digest of its bytes.
fn read_snapshot(path: &str) -> Result<(crate::snapshot::Snapshot, String), SandboxError> {
    let bytes = crate::files::read_bounded(path, crate::snapshot::MAX_BYTES).map_err(|e| {
        crate::snapshot::BadSnapshot {
            path: path.to_string(),
            detail: e.to_string(),
        }
    })?;
    let digest = snapshot_digest(&bytes);
    Ok((crate::snapshot::Snapshot::parse(path, &bytes)?, digest))
}

/// Loads `snapshot` (from `path`) into `state`, unless it already holds that very copy.
fn load_snapshot(
    conn: &mut rusqlite::Connection,
    state: &str,
    path: &str,
    snapshot: &crate::snapshot::Snapshot,
    digest: &str,
) -> Result<(), SandboxError> {
    let storage = |source| SandboxError::Storage {
        state: state.to_string(),
        source,
    };
    match store::setting(conn, "snapshot").map_err(storage)? {
        Some(d) if d == digest => return Ok(()),
        Some(_) => {
            return Err(SandboxError::Occupied {
                state: state.to_string(),
                snapshot: path.to_string(),
            })
        }
        None => {}
    }
    if store::setting(conn, "seeded").map_err(storage)?.is_some() {
        return Err(SandboxError::Occupied {
            state: state.to_string(),
            snapshot: path.to_string(),
        });
    }
    import::load(conn, snapshot, digest).map_err(storage)
}

/// A sandbox on its own thread and runtime, for tests and tools that have no runtime.
/// Dropping it stops the server.
pub struct Sandbox {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// The tenant's credentials.
    pub keys: Keys,
    /// Request counters.
    pub stats: Arc<Stats>,
    /// Issued tokens.
    pub tokens: Arc<auth::Tokens>,
    db: Arc<Mutex<rusqlite::Connection>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Sandbox {
    /// Starts a sandbox on a new thread.
    pub fn spawn(options: Options) -> Result<Sandbox, SandboxError> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a tokio runtime for the sandbox");
            rt.block_on(async move {
                match start(options).await {
                    Ok(running) => {
                        let info = (
                            running.base_url.clone(),
                            running.keys.clone(),
                            running.stats.clone(),
                            running.tokens.clone(),
                            running.db.clone(),
                        );
                        let _ = ready_tx.send(Ok(info));
                        let _ = stop_rx.await;
                        running.stop().await;
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                    }
                }
            });
        });
        let (base_url, keys, stats, tokens, db) =
            ready_rx.recv().expect("the sandbox thread reports")?;
        Ok(Sandbox {
            base_url,
            keys,
            stats,
            tokens,
            db,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }
}

impl Sandbox {
    /// Gives every group a new id string now, as a new session of the real service may
    /// (see [`Options::rekey`]); how many ids changed.
    pub fn rekey(&self) -> rusqlite::Result<usize> {
        let mut conn = self.db.lock().expect("sandbox state lock");
        store::rekey(&mut conn)
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Deletes the tenant at `state`, so the next start seeds a new one. Refuses a file that is
/// not an mcsh sandbox database (it is never someone's document deleted by a typo).
pub fn reset(state: &str) -> Result<bool, SandboxError> {
    if state == ":memory:" {
        return Ok(false);
    }
    match std::fs::metadata(state) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(source) => {
            return Err(SandboxError::Remove {
                path: state.to_string(),
                source,
            })
        }
        Ok(meta) if !meta.is_file() => {
            return Err(SandboxError::NotSandbox {
                path: state.to_string(),
                why: "it is not a regular file".into(),
            })
        }
        Ok(_) => {
            if let Err(why) = store::is_sandbox_state(state) {
                return Err(SandboxError::NotSandbox {
                    path: state.to_string(),
                    why,
                });
            }
        }
    }
    // No sandbox may have it open: an exclusive lock proves none does while we remove it.
    let lock = match std::fs::OpenOptions::new()
        .write(true)
        .open(lock_path(state))
    {
        Ok(file) => match file.try_lock() {
            Ok(()) => Some(file),
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(SandboxError::InUse {
                    path: state.to_string(),
                })
            }
            Err(std::fs::TryLockError::Error(source)) => {
                return Err(SandboxError::Lock {
                    path: lock_path(state),
                    source,
                })
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        // A lock that cannot be opened cannot prove that no sandbox is running.
        Err(source) => {
            return Err(SandboxError::Lock {
                path: lock_path(state),
                source,
            })
        }
    };
    let mut removed = false;
    for suffix in ["", "-wal", "-shm"] {
        let path = format!("{state}{suffix}");
        match std::fs::remove_file(&path) {
            Ok(()) => removed = true,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(SandboxError::Remove { path, source }),
        }
    }
    if let Some(file) = lock {
        drop(file);
        let _ = std::fs::remove_file(lock_path(state));
    }
    Ok(removed)
}

//! Writing files so that nothing half-written is ever left behind, and nothing else is hit.
//!
//! Policy:
//! - A regular file (or a new one) is written to a temporary file beside it, created
//!   exclusively under an unpredictable name (so a link planted by another user cannot
//!   redirect the write), flushed to disk, then renamed into place. An interrupted write
//!   leaves the old file (or none), never a truncated one.
//! - An existing file keeps its mode; a new private file (plans, config) is 0600.
//! - What is not a regular file (a FIFO, a terminal, `/dev/null`) is written straight into:
//!   it is never replaced by a regular file.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Most bytes an input file (a CSV, a plan, a snapshot) may hold.
pub const MAX_INPUT_BYTES: u64 = 512 << 20;

/// Most bytes a script (a file run, `:load`ed or imported) may hold.
pub const MAX_SCRIPT_BYTES: u64 = 64 << 20;

/// Most bytes one line of an input CSV may hold.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// The number (from 1) of the first line of `bytes` longer than [`MAX_LINE_BYTES`].
pub fn overlong_line(bytes: &[u8]) -> Option<usize> {
    bytes
        .split(|b| *b == b'\n')
        .position(|line| line.len() > MAX_LINE_BYTES)
        .map(|i| i + 1)
}

/// Reads the file `path` (`-` is standard input) whole, refusing what is not a regular file
/// (a device or FIFO could be endless: `/dev/zero`) and anything larger than `limit` bytes,
/// without reading more than that.
pub fn read_bounded(path: &str, limit: u64) -> std::io::Result<Vec<u8>> {
    let too_large = || {
        std::io::Error::other(format!(
            "it is larger than {} MiB, the most mcsh reads",
            (limit >> 20).max(1)
        ))
    };
    let mut bytes = Vec::new();
    if path == "-" {
        crate::streams::stdin()
            .take(limit + 1)
            .read_to_end(&mut bytes)?;
    } else {
        let not_regular = || {
            std::io::Error::other(
                "it is not a regular file (a device, FIFO or directory); give a file, or - for \
                 standard input",
            )
        };
        // Checked before opening: opening a FIFO waits for a writer that may never come.
        if !std::fs::metadata(path)?.is_file() {
            return Err(not_regular());
        }
        let file = std::fs::File::open(path)?;
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(not_regular());
        }
        if meta.len() > limit {
            return Err(too_large());
        }
        file.take(limit + 1).read_to_end(&mut bytes)?;
    }
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(bytes)
}

/// Whether this process's user owns the file `meta` describes (always, where there are no
/// owners to tell).
pub fn owned_by_me(meta: &std::fs::Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // SAFETY: geteuid has no preconditions and cannot fail.
        meta.uid() == unsafe { libc::geteuid() }
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        true
    }
}

/// The standard stream that `path` names (`/dev/stdout`, `/dev/stderr`, or their
/// `/dev/fd/1`, `/proc/self/fd/2` spellings), shared rather than opened again, so what is
/// written lands where the run's own output goes (a file redirected with `>` keeps one
/// position; a fleet's tenant writes into its part of the report). No other descriptor is
/// reachable by name: mcsh's own (its database, its connections) must never be written into.
fn standard_stream(path: &Path) -> Option<Box<dyn Write>> {
    match path.to_str()? {
        "/dev/stdout" | "/dev/fd/1" | "/proc/self/fd/1" => Some(Box::new(crate::streams::stdout())),
        "/dev/stderr" | "/dev/fd/2" | "/proc/self/fd/2" => Some(Box::new(crate::streams::stderr())),
        _ => None,
    }
}

/// The process's file mode creation mask (`Umask:` in /proc/self/status; 022 where that
/// cannot be read), read without changing it: setting it to read it would race with the
/// threads creating files meanwhile.
#[cfg(unix)]
fn umask() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Umask:"))
                .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
        })
        .unwrap_or(0o022)
}

/// Opens a device or FIFO to write into it. A FIFO nobody reads is refused at once rather
/// than waited on (an open for writing would block until a reader comes, Ctrl-C or not).
fn open_device(path: &Path, checked: &std::fs::Metadata) -> std::io::Result<std::fs::File> {
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
        let f = std::fs::OpenOptions::new()
            .write(true)
            // Not through a link swapped in since it was checked.
            .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
            .open(path)
            .map_err(|e| {
                if e.raw_os_error() == Some(libc::ENXIO) {
                    std::io::Error::other(format!(
                        "{} is a FIFO nobody is reading: start its reader first, or name a file",
                        path.display()
                    ))
                } else {
                    e
                }
            })?;
        // The very file that was checked (its owner above), not one put in its place since.
        let opened = f.metadata()?;
        if (opened.dev(), opened.ino()) != (checked.dev(), checked.ino()) {
            return Err(std::io::Error::other(format!(
                "{} changed while it was being written: nothing was written; try again",
                path.display()
            )));
        }
        // Written as any file is (a reader slower than mcsh is waited for).
        // SAFETY: fcntl(2) on a descriptor this File owns.
        unsafe {
            let flags = libc::fcntl(f.as_raw_fd(), libc::F_GETFL);
            if flags >= 0 {
                libc::fcntl(f.as_raw_fd(), libc::F_SETFL, flags & !libc::O_NONBLOCK);
            }
        }
        Ok(f)
    }
    #[cfg(not(unix))]
    {
        let _ = checked;
        std::fs::OpenOptions::new().write(true).open(path)
    }
}

/// Writes `bytes` to `path` atomically; `private` makes the file's mode 0600 at most (Unix).
///
/// A link is neither written through nor replaced: standard output or error named as a file
/// (`/dev/stdout`, `/dev/stderr`) gets the bytes on the stream itself, and any other link is
/// refused. Following one would write wherever it points (a file of another user's choosing,
/// mcsh's own files); replacing it broke the link (as root, `/dev/stderr` itself).
pub fn write_atomic(path: &Path, bytes: &[u8], private: bool) -> std::io::Result<()> {
    if let Some(mut stream) = standard_stream(path) {
        return stream.write_all(bytes).and_then(|()| stream.flush());
    }
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(std::io::Error::other(format!(
            "{} is a symbolic link: mcsh neither writes through a link nor replaces it; name the file itself",
            path.display()
        )));
    }
    let existing = std::fs::metadata(path).ok();
    if let Some(meta) = existing.as_ref().filter(|m| !owned_by_me(m)) {
        // Someone else's file or FIFO in a shared folder (`/tmp/users.csv`) would receive the
        // data or lend it its mode. Devices (`/dev/null`, a terminal) are written into as before.
        #[cfg(unix)]
        let device = std::os::unix::fs::FileTypeExt::is_char_device(&meta.file_type());
        #[cfg(not(unix))]
        let device = false;
        if !device {
            return Err(std::io::Error::other(format!(
                "{} belongs to another user: mcsh writes into no file it does not own (one planted in a shared folder would receive the data); choose another name",
                path.display()
            )));
        }
    }
    if let Some(meta) = &existing {
        if !meta.is_file() {
            if meta.is_dir() {
                return Err(std::io::Error::other(format!(
                    "{} is a directory",
                    path.display()
                )));
            }
            let mut f = open_device(path, meta)?;
            return f.write_all(bytes).and_then(|()| f.flush());
        }
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(&dir)
        // Said of the folder, not of the temporary name nobody chose.
        .map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!(
                    "cannot create a file in {}: {}",
                    dir.display(),
                    std::io::Error::from(e.kind())
                ),
            )
        })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = match &existing {
            // A private file (a config with a secret, the plan key) is 0600, whatever mode
            // the file it replaces had.
            _ if private => 0o600,
            // Its permissions, never its set-user-id, set-group-id or sticky bits.
            Some(meta) => meta.permissions().mode() & 0o777,
            None => 0o666 & !umask(),
        };
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = private;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_files_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.json");
        write_atomic(&path, b"first", false).unwrap();
        write_atomic(&path, b"second", true).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        assert!(write_atomic(&dir.path().join("missing/x"), b"x", false).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn a_planted_link_at_the_old_temporary_name_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"precious").unwrap();
        let planted = dir
            .path()
            .join(format!(".out.json.{}.tmp", std::process::id()));
        std::os::unix::fs::symlink(&victim, &planted).unwrap();
        write_atomic(&dir.path().join("out.json"), b"export", false).unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        assert_eq!(
            std::fs::read(dir.path().join("out.json")).unwrap(),
            b"export"
        );
    }

    #[cfg(unix)]
    #[test]
    fn an_existing_file_keeps_its_mode_and_new_private_files_are_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kept");
        std::fs::write(&path, b"old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        write_atomic(&path, b"new", false).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let private = dir.path().join("plan.json");
        write_atomic(&private, b"{}", true).unwrap();
        let mode = std::fs::metadata(&private).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[cfg(unix)]
    #[test]
    fn endless_and_oversized_inputs_are_refused_before_they_are_read() {
        let e = read_bounded("/dev/zero", MAX_INPUT_BYTES).unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.csv");
        std::fs::write(&big, vec![b'a'; 2048]).unwrap();
        let e = read_bounded(big.to_str().unwrap(), 1024).unwrap_err();
        assert!(e.to_string().contains("larger than"), "{e}");
        assert_eq!(
            read_bounded(big.to_str().unwrap(), 4096).unwrap().len(),
            2048
        );
    }

    /// Makes a FIFO at `path`.
    #[cfg(unix)]
    fn make_fifo(path: &Path) {
        let made = std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .unwrap();
        assert!(made.success());
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_without_waiting_for_a_writer() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("feed.csv");
        make_fifo(&fifo);
        // Opening it would block this test forever; the check comes first.
        let e = read_bounded(fifo.to_str().unwrap(), MAX_INPUT_BYTES).unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_nobody_reads_is_refused_at_once_and_one_with_a_reader_is_written_into() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("out.csv");
        make_fifo(&fifo);
        // Nobody reads it: refused, not waited on (this test would hang).
        let e = write_atomic(&fifo, b"rows", false).unwrap_err();
        assert!(e.to_string().contains("nobody is reading"), "{e}");
        // A reader is there: the bytes reach it.
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read(fifo).unwrap())
        };
        let mut written = Err(std::io::Error::other("not yet"));
        for _ in 0..500 {
            written = write_atomic(&fifo, b"rows", false);
            if written.is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        written.unwrap();
        assert_eq!(reader.join().unwrap(), b"rows");
        assert!(!std::fs::metadata(&fifo).unwrap().is_file(), "still a FIFO");
    }

    #[cfg(unix)]
    #[test]
    fn new_files_follow_the_umask_and_no_special_bit_is_kept() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let new = dir.path().join("new.csv");
        write_atomic(&new, b"a", false).unwrap();
        let mode = std::fs::metadata(&new).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o666 & !umask());
        let old = dir.path().join("old.csv");
        std::fs::write(&old, "a").unwrap();
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o4755)).unwrap();
        write_atomic(&old, b"b", false).unwrap();
        let mode = std::fs::metadata(&old).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o755);
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o4755)).unwrap();
        write_atomic(&old, b"c", true).unwrap();
        let mode = std::fs::metadata(&old).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o600);
    }

    #[cfg(unix)]
    #[test]
    fn devices_are_written_into_not_replaced() {
        let dev = Path::new("/dev/null");
        write_atomic(dev, b"discarded", false).unwrap();
        assert!(!std::fs::metadata(dev).unwrap().is_file(), "still a device");
    }

    #[cfg(unix)]
    #[test]
    fn a_link_is_neither_written_through_nor_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.csv");
        std::fs::write(&real, "old").unwrap();
        let link = dir.path().join("link.csv");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let dangling = dir.path().join("planted.csv");
        let victim = dir.path().join("victim");
        std::os::unix::fs::symlink(&victim, &dangling).unwrap();
        for l in [&link, &dangling] {
            let e = write_atomic(l, b"new", false).unwrap_err();
            assert!(e.to_string().contains("is a symbolic link"), "{e}");
            // The link stays a link, and what it names is untouched (or still not there).
            assert!(std::fs::symlink_metadata(l)
                .unwrap()
                .file_type()
                .is_symlink());
        }
        assert_eq!(std::fs::read(&real).unwrap(), b"old");
        assert!(!victim.exists());
        // Only standard output and error are streams by name; any other descriptor (mcsh's
        // own database, a connection) is not reachable that way.
        let spare = std::fs::File::create(dir.path().join("spare")).unwrap();
        let fd = std::os::fd::AsRawFd::as_raw_fd(&spare);
        assert!(standard_stream(Path::new(&format!("/dev/fd/{fd}"))).is_none());
        assert!(standard_stream(Path::new(&format!("/proc/self/fd/{fd}"))).is_none());
        assert!(standard_stream(Path::new("/dev/stderr")).is_some());
    }

    #[cfg(unix)]
    #[test]
    fn a_private_file_replacing_a_readable_one_is_not_readable_by_others() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.toml");
        std::fs::write(&config, "old").unwrap();
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_atomic(&config, b"client_secret = \"x\"", true).unwrap();
        let mode = std::fs::metadata(&config).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}

//! The plan key: the secret only this user's mcsh can read (`plan.key` in mcsh's data dir,
//! mode 0600), which seals plans and what a fleet tells each tenant's process.
//!
//! Policy: made on first use, once: of several runs making it at once, one key wins and every
//! run uses that one.

use anyhow::Context as _;

/// The key plans are sealed with: `plan.key` in mcsh's data dir, made (0600) on first use.
pub fn plan_key() -> anyhow::Result<Vec<u8>> {
    let path = dirs::data_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("mcsh")
        .join("plan.key");
    match std::fs::read(&path) {
        Ok(key) if key.len() >= 32 => return Ok(key),
        Ok(_) => anyhow::bail!(
            "the plan key {} is too short; delete it and make the plan again",
            path.display()
        ),
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(e).with_context(|| format!("cannot read the plan key {}", path.display()))
        }
        Err(_) => {}
    }
    let key: Vec<u8> = (0..32).map(|_| rand::random::<u8>()).collect();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    // Made whole beside it, then linked in only if there is none yet: of several runs making
    // the first plan at once (a fleet's tenants), one key wins and every run seals with it.
    let fresh = path.with_extension(format!("key.{}", uuid::Uuid::new_v4().simple()));
    crate::files::write_atomic(&fresh, &key, true)
        .with_context(|| format!("cannot write the plan key {}", fresh.display()))?;
    let linked = std::fs::hard_link(&fresh, &path);
    let _ = std::fs::remove_file(&fresh);
    match linked {
        Ok(()) => Ok(key),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => plan_key(),
        Err(e) => Err(e).with_context(|| format!("cannot write the plan key {}", path.display())),
    }
}

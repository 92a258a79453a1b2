//! Links mcsh as a position-dependent executable on Linux (x86_64 and aarch64, the targets
//! `.ci/package` ships), so a start does not apply the ~29 000 relocations of a PIE binary.
//!
//! Policy: every fleet tenant, every test and every `mcsh` in an admin's shell loop is a new
//! process; a PIE binary of this size spends about 3 % of a short run's CPU relocating and
//! copying its pointer tables (`.data.rel.ro`), which a fixed load address avoids. Only the
//! binaries are linked so; the library and proc-macro crates stay position-independent.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}

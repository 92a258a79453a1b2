//! The standard library: `.rhai` modules compiled into the binary (`stdlib/NAME.rhai`),
//! importable as `import "NAME" as NAME;`. They hold only documented `fn`s and `const`s.

/// Every stdlib module: name and source.
pub const MODULES: &[(&str, &str)] = &[
    ("onboard", include_str!("../../stdlib/onboard.rhai")),
    ("offboard", include_str!("../../stdlib/offboard.rhai")),
    ("exporter", include_str!("../../stdlib/exporter.rhai")),
    ("departments", include_str!("../../stdlib/departments.rhai")),
];

/// The source of stdlib module `name`.
pub fn source(name: &str) -> Option<&'static str> {
    MODULES.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
}

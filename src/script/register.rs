//! How script functions are registered: with parameter names, doc comments and, for anything
//! that touches the network, as volatile and impure so the optimizer never calls them early.

use rhai::FuncRegistration;

/// Turns a plain doc text into Rhai's `///` comment block.
pub fn comments(doc: &str) -> String {
    doc.trim()
        .lines()
        .map(|l| format!("/// {l}").trim_end().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// A function that reads or writes the directory: volatile, impure, documented.
pub fn network(name: &str, params: &[&str], doc: &str) -> FuncRegistration {
    FuncRegistration::new(name)
        .with_params_info(params)
        .with_comments([comments(doc)])
        .with_volatility(true)
        .with_purity(false)
}

/// A local function (files, JSON, formatting): documented, volatile when it touches files.
pub fn local(name: &str, params: &[&str], doc: &str, volatile: bool) -> FuncRegistration {
    FuncRegistration::new(name)
        .with_params_info(params)
        .with_comments([comments(doc)])
        .with_volatility(volatile)
        .with_purity(!volatile)
}

//! The scripting reference, generated from the functions' own doc comments and signatures:
//! what `mcsh doc` prints and the REPL's `:help` shows.
//!
//! Policy: one source of truth. Registered functions document themselves at registration
//! (Rhai metadata); stdlib functions with their `///` comments. Nothing is written twice.

use rhai::Engine;
use serde_json::Value;

use super::stdlib;

/// What `mcsh doc args` shows for the `args` variable.
pub const ARGS_DOC: &str = "The script's arguments, as an array of strings: `mcsh run FILE.rhai a b` gives `[\"a\", \"b\"]`.\n```rhai\nlet domain = if args.len() > 0 { args[0] } else { \"example.com\" };\n```";

/// The documentation of one function (one overload).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FnDoc {
    /// Name as called (`users`, or `onboard::person` for stdlib functions).
    pub name: String,
    /// Signature with parameter names and types.
    pub signature: String,
    /// The doc comment, without the comment markers.
    pub doc: String,
    /// `builtin`, `stdlib` or `variable`.
    pub origin: &'static str,
}

/// Every documented function of `engine` and of the stdlib, plus the `args` variable.
pub fn all(engine: &Engine) -> Vec<FnDoc> {
    let mut docs = registered(engine);
    docs.extend(stdlib_docs(engine));
    docs.push(FnDoc {
        name: "args".into(),
        signature: "args: Array".into(),
        doc: ARGS_DOC.into(),
        origin: "variable",
    });
    docs
}

fn registered(engine: &Engine) -> Vec<FnDoc> {
    let json = engine.gen_fn_metadata_to_json(false).unwrap_or_default();
    let meta: Value = serde_json::from_str(&json).unwrap_or(Value::Null);
    let mut out: Vec<FnDoc> = meta["functions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["namespace"] == "global")
        .map(|f| FnDoc {
            name: f["name"].as_str().unwrap_or_default().to_string(),
            signature: super::signature::script_signature(
                f["signature"].as_str().unwrap_or_default(),
            ),
            doc: strip_markers(
                f["docComments"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str),
            ),
            origin: "builtin",
        })
        .collect();
    out.sort_by(|a, b| {
        a.name
            .cmp(&b.name)
            .then(a.signature.len().cmp(&b.signature.len()))
            // Same length: by the text, or the engine's order (which varies) would show.
            .then(a.signature.cmp(&b.signature))
    });
    out
}

fn stdlib_docs(engine: &Engine) -> Vec<FnDoc> {
    let mut out = Vec::new();
    for (module, source) in stdlib::MODULES {
        let Ok(ast) = engine.compile(source) else {
            continue;
        };
        for f in ast.iter_functions() {
            // Private helpers and closures (`anon$...`) are not callable by name.
            if matches!(f.access, rhai::FnAccess::Private) || f.name.starts_with("anon$") {
                continue;
            }
            out.push(FnDoc {
                name: format!("{module}::{}", f.name),
                signature: format!("{module}::{}({})", f.name, f.params.join(", ")),
                doc: strip_markers(f.comments.iter().copied()),
                origin: "stdlib",
            });
        }
    }
    // A module's functions come in no fixed order: sort, so the reference reads the same on
    // every run (and docs/scripting-reference.md can be checked against it).
    out.sort_by(|a, b| a.name.cmp(&b.name).then(a.signature.cmp(&b.signature)));
    out
}

fn strip_markers<'a>(comments: impl Iterator<Item = &'a str>) -> String {
    let mut lines = Vec::new();
    for block in comments {
        for line in block.lines() {
            let l = line.trim_start();
            let l = l
                .strip_prefix("///")
                .or_else(|| l.strip_prefix("/**"))
                .or_else(|| l.strip_prefix("*/"))
                .or_else(|| l.strip_prefix('*'))
                .unwrap_or(l);
            lines.push(
                l.strip_prefix(' ')
                    .unwrap_or(l)
                    .trim_end()
                    .trim_end_matches("*/")
                    .to_string(),
            );
        }
    }
    lines.join("\n").trim().to_string()
}

/// The reference of `name` (every overload), or of everything when `None`.
pub fn render(docs: &[FnDoc], name: Option<&str>) -> Result<String, String> {
    let chosen: Vec<&FnDoc> = match name {
        None => docs.iter().collect(),
        Some(n) => docs
            .iter()
            .filter(|d| d.name == n || d.name.rsplit("::").next() == Some(n))
            .collect(),
    };
    if chosen.is_empty() {
        let n: String = name.unwrap_or_default().chars().take(60).collect();
        let n = n.as_str();
        let found = crate::suggest::similar(n, docs.iter().map(|d| d.name.as_str()), 5);
        let hint = crate::suggest::did_you_mean(&found)
            .map(|d| format!(" ({d})"))
            .unwrap_or_default();
        return Err(format!(
            "no script function is called {n:?}{hint}; `mcsh doc` lists them all"
        ));
    }
    let mut out = String::new();
    for d in chosen {
        out.push_str(&d.signature);
        out.push('\n');
        for line in d.doc.lines() {
            out.push_str("    ");
            out.push_str(line);
            out.push('\n');
        }
        out.push('\n');
    }
    Ok(out.trim_end().to_string() + "\n")
}

/// The whole reference as a Markdown page (`mcsh doc --markdown`, kept in the repository as
/// `docs/scripting-reference.md`): built-in functions, then the stdlib's modules, then the
/// variables, each name once with every overload's signature.
pub fn markdown(docs: &[FnDoc]) -> String {
    let mut out = String::from(
        "# Scripting reference\n\n\
         Every function a script or the REPL can call, from the functions' own documentation. \
         This page is generated: `mcsh doc` prints the same, `mcsh doc NAME` one function, and \
         `mcsh doc --markdown > docs/scripting-reference.md` regenerates this file (a test \
         fails when it is out of date). The guide is [scripting.md](scripting.md).\n",
    );
    let sections = [
        ("builtin", "Built-in functions", ""),
        (
            "stdlib",
            "Standard library",
            "Modules written in Rhai; bring one in with `import \"NAME\" as NAME;` \
             (the REPL keeps imports for the session).\n\n",
        ),
        ("variable", "Variables", ""),
    ];
    for (origin, title, intro) in sections {
        out.push_str(&format!("\n## {title}\n\n{intro}"));
        let chosen: Vec<&FnDoc> = docs.iter().filter(|d| d.origin == origin).collect();
        let mut i = 0;
        while i < chosen.len() {
            let name = &chosen[i].name;
            let same = chosen[i..].iter().take_while(|d| &d.name == name).count();
            out.push_str(&format!("### `{name}`\n\n```text\n"));
            for d in &chosen[i..i + same] {
                out.push_str(&d.signature);
                out.push('\n');
            }
            out.push_str("```\n\n");
            let mut said: Vec<&str> = Vec::new();
            for d in &chosen[i..i + same] {
                if !said.contains(&d.doc.as_str()) {
                    said.push(&d.doc);
                    out.push_str(d.doc.trim());
                    out.push_str("\n\n");
                }
            }
            i += same;
        }
    }
    out.trim_end().to_string() + "\n"
}

/// The names of every documented function, for completion.
pub fn names(docs: &[FnDoc]) -> Vec<String> {
    let mut names: Vec<String> = docs.iter().map(|d| d.name.clone()).collect();
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::{engine, host::Host, Limits};

    fn test_engine() -> (tokio::runtime::Runtime, Engine) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let host = Host::offline(&rt);
        let e = engine(&host, &Limits::default());
        (rt, e)
    }

    #[test]
    fn every_registered_and_stdlib_function_is_documented_with_an_example() {
        let (_rt, e) = test_engine();
        let docs = all(&e);
        assert!(docs.len() > 30, "{} functions", docs.len());
        for d in &docs {
            assert!(!d.doc.is_empty(), "{} has no doc comment", d.signature);
            if d.origin == "builtin" {
                assert!(d.doc.contains("```rhai"), "{} has no example", d.signature);
            }
        }
    }

    #[test]
    fn the_scripting_surface_of_the_design_is_registered() {
        let (_rt, e) = test_engine();
        let names = names(&all(&e));
        for wanted in [
            "users",
            "user",
            "create_user",
            "update_user",
            "add_alias",
            "delete_user",
            "restore_user",
            "groups",
            "group",
            "create_group",
            "rename_group",
            "delete_group",
            "members",
            "add_member",
            "remove_member",
            "groups_of",
            "add_members",
            "create_users",
            "ensure_user",
            "ensure_member",
            "ensure_group",
            "read_csv",
            "write_csv",
            "read_json",
            "write_json",
            "table",
            "to_json",
            "parse_json",
            "args",
            "env",
            "confirm",
            "dry_run",
        ] {
            assert!(
                names.iter().any(|n| n == wanted),
                "{wanted} is not registered"
            );
        }
    }

    #[test]
    fn rendering_one_name_shows_every_overload_and_unknown_names_are_explained() {
        let (_rt, e) = test_engine();
        let docs = all(&e);
        let text = render(&docs, Some("create_user")).unwrap();
        assert!(text.matches("create_user(").count() >= 3, "{text}");
        assert!(render(&docs, Some("create_usr"))
            .unwrap_err()
            .contains("no script function"));
    }
}

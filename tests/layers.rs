//! The layering of docs/design.md, read from the source: `api/` knows nothing above it,
//! `sandbox/` never reaches the client, lower modules never reach back up, and no two
//! modules import each other round a circle (comments and tests aside).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Every module of `src/` (`directory::plan`, `api`, ...) with the modules its code names.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                files.push(p);
            }
        }
    }
    let name_of = |p: &Path| -> (String, bool) {
        let rel = p.strip_prefix(&src).unwrap().with_extension("");
        let mut parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().to_string())
            .collect();
        let dir_module = matches!(parts.last().map(String::as_str), Some("mod"));
        if matches!(
            parts.last().map(String::as_str),
            Some("mod" | "lib" | "main")
        ) {
            parts.pop();
        }
        (parts.join("::"), dir_module)
    };
    let modules: BTreeSet<String> = files.iter().map(|p| name_of(p).0).collect();
    let mut out = BTreeMap::new();
    for p in &files {
        let (module, dir_module) = name_of(p);
        let text = std::fs::read_to_string(p).unwrap();
        let code: String = text
            .split("#[cfg(test)]")
            .next()
            .unwrap()
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        // `super` of a file module is its folder's module; of a mod.rs, the one above.
        let mut up: Vec<&str> = module.split("::").filter(|s| !s.is_empty()).collect();
        if dir_module || !up.is_empty() {
            up.pop();
        }
        let parent = up.join("::");
        let mut named = BTreeSet::new();
        let mut add = |full: String| {
            let segs: Vec<&str> = full.split("::").collect();
            for k in (1..=segs.len()).rev() {
                let cand = segs[..k].join("::");
                if modules.contains(&cand) {
                    let related = cand == module
                        || module.starts_with(&format!("{cand}::"))
                        || cand.starts_with(&format!("{module}::"));
                    if !related {
                        named.insert(cand);
                    }
                    return;
                }
            }
        };
        for (prefix, base) in [("crate::", String::new()), ("super::", parent.clone())] {
            let mut rest = code.as_str();
            while let Some(at) = rest.find(prefix) {
                rest = &rest[at + prefix.len()..];
                let path: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
                    .collect();
                let join = |p: &str| {
                    if base.is_empty() {
                        p.to_string()
                    } else {
                        format!("{base}::{p}")
                    }
                };
                if rest.starts_with('{') {
                    let group: String = rest.chars().take_while(|c| *c != '}').collect();
                    for name in group.trim_start_matches('{').split(',') {
                        let name = name.split("::").next().unwrap_or("").trim();
                        if !name.is_empty() {
                            add(join(name));
                        }
                    }
                } else {
                    add(join(path.trim_end_matches(':')));
                }
            }
        }
        out.insert(module, named);
    }
    out
}

#[test]
fn lower_layers_never_reach_up() {
    let graph = imports();
    let mut wrong = Vec::new();
    for (module, named) in &graph {
        let layer = module.split("::").next().unwrap_or("");
        for n in named {
            let top = n.split("::").next().unwrap_or("");
            let forbidden = match layer {
                "api" => !matches!(top, "api" | "redact" | "text"),
                "sandbox" => matches!(top, "api" | "directory" | "script" | "cli" | "repl"),
                "directory" => matches!(top, "script" | "cli" | "repl"),
                "script" => matches!(top, "cli" | "repl"),
                "own_files" | "files" | "redact" | "output" | "suggest" | "text" => {
                    matches!(top, "directory" | "script" | "cli" | "repl" | "sandbox")
                }
                _ => false,
            };
            if forbidden {
                wrong.push(format!("{module} -> {n}"));
            }
        }
    }
    assert!(wrong.is_empty(), "imports that reach up a layer: {wrong:?}");
}

#[test]
fn no_modules_import_each_other_round_a_circle() {
    let graph = imports();
    // Tarjan's strongly connected components.
    struct State<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        circles: Vec<Vec<&'a str>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        for w in s.graph.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if s.stack.contains(&w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut circle = Vec::new();
            while let Some(w) = s.stack.pop() {
                circle.push(w);
                if w == v {
                    break;
                }
            }
            if circle.len() > 1 {
                s.circles.push(circle);
            }
        }
    }
    let mut s = State {
        graph: &graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        circles: Vec::new(),
    };
    for v in graph.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    // The top-level modules tie the layers together (lib.rs names them all): circles are
    // looked for inside the layers.
    let inner: Vec<&Vec<&str>> = s
        .circles
        .iter()
        .filter(|c| c.iter().all(|m| m.contains("::")))
        .collect();
    assert!(inner.is_empty(), "modules importing each other: {inner:?}");
}

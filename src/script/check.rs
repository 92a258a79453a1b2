//! Every function a script calls, checked before it runs: a misspelt name or a wrong number
//! of arguments anywhere in it (every branch, every function of its own) is a usage error
//! (exit 2) naming the line, before the first request is sent.
//!
//! Policy: a call is known when its name is one of mcsh's functions, Rhai's own (the standard
//! packages and the keywords `print`, `Fn`, `call`...), a function the script defines, or a
//! variable or parameter of the script (which may hold a function pointer). Calls into a
//! module (`onboard::run`) are the module's to check when it loads. For mcsh's own functions
//! and the script's, the number of arguments must match one of their forms as well; Rhai's
//! own are checked by name only (some of them take any number of arguments).

use std::collections::{HashMap, HashSet};

use rhai::{ASTNode, Engine, Expr, Position, Stmt, AST};

/// Names Rhai evaluates itself, never registered as functions.
const KEYWORDS: &[&str] = &[
    "print",
    "debug",
    "type_of",
    "eval",
    "Fn",
    "call",
    "curry",
    "is_shared",
    "is_def_var",
    "is_def_fn",
    "this",
    "global",
];

/// What a script may call.
pub struct Known {
    /// mcsh's functions and the script's: name to the argument counts they take.
    exact: HashMap<String, HashSet<usize>>,
    /// Every callable name (Rhai's packages, keywords, variables included).
    names: HashSet<String>,
    /// mcsh's function names, for did-you-mean.
    ours: Vec<String>,
}

impl Known {
    /// What `engine` offers.
    pub fn of(engine: &Engine) -> Known {
        let mut exact: HashMap<String, HashSet<usize>> = HashMap::new();
        let mut names: HashSet<String> = KEYWORDS.iter().map(|k| k.to_string()).collect();
        // From the signatures, not the JSON metadata: that one carries every function's
        // documentation and costs a run 15 ms of CPU (a fleet runs it once per tenant).
        // mcsh's own (without the packages), then every name there is.
        for sig in engine.gen_fn_signatures(false) {
            if let Some((name, arity)) = name_and_arity(&sig) {
                exact.entry(name.to_string()).or_default().insert(arity);
            }
        }
        for sig in engine.gen_fn_signatures(true) {
            if let Some((name, _)) = name_and_arity(&sig) {
                names.insert(name.to_string());
            }
        }
        let mut ours: Vec<String> = exact.keys().cloned().collect();
        ours.sort();
        names.extend(ours.iter().cloned());
        Known { exact, names, ours }
    }
}

/// The name and the number of parameters of a signature `name(a: T, b: U) -> R`, as
/// [`Engine::gen_fn_signatures`] writes it (types may nest: `Map<K, V>`, `Fn(a, b)`).
fn name_and_arity(sig: &str) -> Option<(&str, usize)> {
    let open = sig.find('(')?;
    let name = sig[..open].trim();
    let mut depth = 0usize;
    let mut commas = 0;
    let mut any = false;
    for c in sig[open + 1..].chars() {
        match c {
            ')' if depth == 0 => break,
            '(' | '<' | '[' => depth += 1,
            ')' | '>' | ']' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => commas += 1,
            c if !c.is_whitespace() => any = true,
            _ => {}
        }
    }
    Some((name, if any { commas + 1 } else { 0 }))
}

/// The first unknown call of `ast`, told in script terms, with where it is.
pub fn unknown_call(known: &Known, ast: &AST) -> Option<(String, Position)> {
    let mut exact = known.exact.clone();
    let mut names = known.names.clone();
    for f in ast.iter_functions() {
        exact
            .entry(f.name.to_string())
            .or_default()
            .insert(f.params.len());
        names.insert(f.name.to_string());
        names.extend(f.params.iter().map(|p| p.to_string()));
    }
    // Variables may hold function pointers, called like functions.
    ast.walk(&mut |path: &[ASTNode]| {
        match path.last() {
            Some(ASTNode::Stmt(Stmt::Var(x, ..))) => {
                names.insert(x.0.name.to_string());
            }
            Some(ASTNode::Stmt(Stmt::For(x, _))) => {
                names.insert(x.0.name.to_string());
                if let Some(counter) = &x.1 {
                    names.insert(counter.name.to_string());
                }
            }
            _ => {}
        }
        true
    });
    names.insert("args".into());
    // A map may hold a closure called as a method (`obj.inc(2)`): its keys are callable names.
    let mut props: HashSet<String> = HashSet::new();
    ast.walk(&mut |path: &[ASTNode]| {
        match path.last() {
            Some(ASTNode::Expr(Expr::Map(x, _))) => {
                props.extend(x.0.iter().map(|(k, _)| k.name.to_string()));
            }
            Some(ASTNode::Expr(Expr::Property(p, _))) => {
                props.insert(p.2.to_string());
            }
            // A map literal of constants is folded into one value.
            Some(ASTNode::Expr(Expr::DynamicConstant(v, _))) => {
                if let Some(map) = v.read_lock::<rhai::Map>() {
                    props.extend(map.keys().map(|k| k.to_string()));
                }
            }
            _ => {}
        }
        true
    });
    let mut found = None;
    ast.walk(&mut |path: &[ASTNode]| {
        let (call, pos, method) = match path.last() {
            Some(ASTNode::Stmt(Stmt::FnCall(x, pos))) => (x, *pos, false),
            Some(ASTNode::Expr(Expr::FnCall(x, pos))) => (x, *pos, false),
            Some(ASTNode::Expr(Expr::MethodCall(x, pos))) => (x, *pos, true),
            _ => return true,
        };
        if call.is_qualified() || call.op_token.is_some() || call.name.contains('$') {
            return true;
        }
        let name = call.name.as_str();
        let given = call.args.len();
        if !(names.contains(name) || method && props.contains(name)) {
            let close =
                crate::suggest::similar(name, known.ours.iter().map(String::as_str), 3);
            let hint = crate::suggest::did_you_mean(&close)
                .map(|d| format!("; {d}"))
                .unwrap_or_default();
            found = Some((
                format!("there is no function {name}(){hint} (`mcsh doc` lists them all)"),
                pos,
            ));
            return false;
        }
        if let Some(counts) = exact.get(name) {
            // A method call passes its object first (a script's own `this` functions do not).
            let fits = counts.contains(&given) || (method && counts.contains(&(given + 1)));
            if !fits && !KEYWORDS.contains(&name) {
                let mut takes: Vec<usize> = counts.iter().copied().collect();
                takes.sort_unstable();
                let takes = takes
                    .iter()
                    .map(usize::to_string)
                    .collect::<Vec<_>>()
                    .join(" or ");
                found = Some((
                    format!(
                        "{name}() takes {takes} argument(s), not {given} (`mcsh doc {name}` shows its forms)"
                    ),
                    pos,
                ));
                return false;
            }
        }
        true
    });
    found
}

/// A place in a script: line and column (0 for none).
type Place = (usize, usize);

/// What a plain `=` assigns: the variable, the first field after it, and where the `=` is.
type Assigned = (String, String, Position);

/// What `stmt` assigns when it is a plain `=` to a field of a variable (`u.domain = ...`,
/// `u.name.first = ...`, `g["description"] = ...`).
fn assigned_field(stmt: &Stmt) -> Option<Assigned> {
    let Stmt::Assignment(x) = stmt else {
        return None;
    };
    let (op, mut root) = (&x.0, &x.1.lhs);
    if op.is_op_assignment() {
        return None;
    }
    let mut field = None;
    loop {
        match root {
            Expr::Dot(d, ..) => {
                // `u.name.first`: the chain right of `u` nests, its first name leftmost.
                let mut rhs = &d.rhs;
                while let Expr::Dot(inner, ..) | Expr::Index(inner, ..) = rhs {
                    rhs = &inner.lhs;
                }
                if let Expr::Property(p, _) = rhs {
                    field.get_or_insert_with(|| p.2.to_string());
                }
                root = &d.lhs;
            }
            Expr::Index(i, ..) => {
                if let Expr::StringConstant(k, _) = &i.rhs {
                    field.get_or_insert_with(|| k.to_string());
                }
                root = &i.lhs;
            }
            _ => break,
        }
    }
    match root {
        Expr::Variable(v, ..) => Some((v.1.to_string(), field?, op.position())),
        _ => None,
    }
}

/// A closure whose last statement assigns to its own parameter (`|u| u.domain = "x"`, meant
/// as `==`): it gives `()`, so a `filter`, `some` or `all` with it matches nobody without a
/// word, and the assignment changes nothing (a parameter is a copy). The first such, with its
/// place.
pub fn assigning_closure(ast: &AST) -> Option<(String, Position)> {
    let at = |p: Position| (p.line().unwrap_or(0), p.position().unwrap_or(0));
    // Closures are the script's functions Rhai names itself (`anon$...`): their bodies'
    // places, and their parameters.
    let closures: Vec<(Place, Place, Vec<String>)> = ast
        .iter_fn_def()
        .filter(|f| f.name.starts_with("anon$"))
        .map(|f| {
            let from = at(f.body.start_position());
            // A closure of one expression (`|u| u.x == 1`) has no end of its own: its one
            // statement is where it starts.
            let to = match at(f.body.end_position()) {
                (0, 0) => from,
                to => to,
            };
            (from, to, f.params.iter().map(|p| p.to_string()).collect())
        })
        .collect();
    if closures.is_empty() {
        return None;
    }
    // Every statement of a body (a function's, or the script's own): its place, and what it
    // assigns when it is a plain `=` to a field (`u.domain = ...`): the variable and field.
    let mut statements: Vec<(Place, Option<Assigned>)> = Vec::new();
    ast.walk(&mut |path: &[ASTNode]| {
        if let [ASTNode::Stmt(stmt)] = path {
            statements.push((at(stmt.position()), assigned_field(stmt)));
        }
        true
    });
    let within = |p: Place, (from, to): (Place, Place)| from <= p && p <= to;
    for (from, to, params) in &closures {
        // Its last statement: the latest within it, not within a closure inside it.
        let last = statements
            .iter()
            .filter(|(p, _)| within(*p, (*from, *to)))
            .filter(|(p, _)| {
                !closures.iter().any(|(f2, t2, _)| {
                    (f2, t2) != (from, to) && within(*f2, (*from, *to)) && within(*p, (*f2, *t2))
                })
            })
            .max_by_key(|(p, _)| *p);
        if let Some((_, Some((variable, field, pos)))) = last {
            if params.contains(variable) {
                return Some((
                    format!(
                        "this closure ends by assigning (`=`) to `{variable}.{field}`: it gives nothing, so a filter or test with it matches nobody (and a closure's parameter is a copy, so the assignment changes nothing); did you mean `==`?"
                    ),
                    *pos,
                ));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine() -> Engine {
        let mut e = Engine::new();
        e.register_fn("add_member", |_: &str, _: &str| ());
        e
    }

    /// mcsh's own engine, every function registered, with no directory behind it.
    fn mcsh_engine() -> Engine {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let host = crate::script::host::Host::offline(&runtime);
        crate::script::engine(&host, &crate::script::limits::Limits::default())
    }

    /// What the engine's JSON metadata says: (mcsh's names with their arities, every name).
    fn from_metadata(engine: &Engine) -> (HashMap<String, HashSet<usize>>, HashSet<String>) {
        let all = |packages: bool| -> Vec<serde_json::Value> {
            let json = engine.gen_fn_metadata_to_json(packages).unwrap();
            let meta: serde_json::Value = serde_json::from_str(&json).unwrap();
            meta["functions"].as_array().cloned().unwrap()
        };
        let mut exact: HashMap<String, HashSet<usize>> = HashMap::new();
        for f in all(false) {
            let n = f["params"].as_array().map_or(0, Vec::len);
            exact
                .entry(f["name"].as_str().unwrap().to_string())
                .or_default()
                .insert(n);
        }
        let names = all(true)
            .iter()
            .map(|f| f["name"].as_str().unwrap().to_string())
            .collect();
        (exact, names)
    }

    #[test]
    fn the_signatures_tell_what_the_metadata_tells() {
        let e = mcsh_engine();
        let known = Known::of(&e);
        let (exact, names) = from_metadata(&e);
        assert!(exact.len() > 50, "mcsh's functions are there");
        assert!(names.len() > exact.len(), "and Rhai's packages' too");
        assert_eq!(known.exact, exact);
        assert!(names.iter().all(|n| known.names.contains(n)));
        assert_eq!(
            name_and_arity("f(a: Map<K, V>, b: Fn(x, y)) -> bool"),
            Some(("f", 2))
        );
        assert_eq!(name_and_arity("g() -> ()"), Some(("g", 0)));
        assert_eq!(name_and_arity("g( ) -> ()"), Some(("g", 0)));
        assert_eq!(name_and_arity("k(x)"), Some(("k", 1)));
        assert_eq!(name_and_arity("h(a: Fn(x), b: i64) -> ()"), Some(("h", 2)));
    }

    fn check(script: &str) -> Option<(String, Option<usize>)> {
        let e = engine();
        let ast = e.compile(script).expect("compiles");
        unknown_call(&Known::of(&e), &ast).map(|(m, p)| (m, p.line()))
    }

    #[test]
    fn a_closure_ending_in_an_assignment_to_its_parameter_is_found() {
        let found = |script: &str| {
            let ast = engine().compile(script).unwrap();
            assigning_closure(&ast).map(|(m, p)| (m, p.line()))
        };
        for (script, line) in [
            ("users().filter(|u| u.domain = \"x\")", 1),
            (
                "let n = 1;\ngroups().some(|g| g[\"description\"] = \"Sales\")",
                2,
            ),
            ("xs.all(|u| { let d = u.domain; u.name.first = d })", 1),
            (
                "xs.filter(|u| { let y = [1].map(|z| z + 1); u.domain = \"x\" })",
                1,
            ),
        ] {
            let (message, at) = found(script).unwrap_or_else(|| panic!("{script}"));
            assert!(message.contains("did you mean `==`?"), "{message}");
            assert_eq!(at, Some(line), "{script}");
        }
        for script in [
            "users().filter(|u| u.domain == \"x\")",
            // Builds and gives a value, or adds to a captured total: no slip.
            "xs.map(|x| { let m = #{a: x}; m.a = 2; m })",
            "let t = 0; xs.for_each(|x| t += x)",
            "let t = 0; xs.for_each(|x| t = x)",
            "fn f(u) { u.x = 1 }",
            "xs.map(|u| { u.x = 1; u })",
        ] {
            assert_eq!(found(script), None, "{script}");
        }
    }

    #[test]
    fn mcshs_own_modules_call_only_what_exists() {
        // The workflows run them without the check (their calls are known when mcsh is
        // built); this is where a slip in one is caught.
        let e = mcsh_engine();
        let known = Known::of(&e);
        let check = |source: &str| {
            let ast = e.compile(source).expect("compiles");
            unknown_call(&known, &ast).map(|(m, p)| (m, p.line()))
        };
        let modules = crate::script::stdlib::MODULES;
        assert!(modules.len() >= 4, "the four workflows at least");
        for (name, source) in modules {
            assert_eq!(check(source), None, "stdlib/{name}.rhai");
        }
        assert!(check("fn f() { read_peple(\"x\", []) }").is_some());
    }

    #[test]
    fn a_misspelt_function_in_any_branch_is_found_before_running() {
        let (message, line) =
            check("let x = 1;\nif x > 5 {\n  add_membr(\"S\", \"a\");\n}").unwrap();
        assert_eq!(line, Some(3));
        assert!(
            message.contains("add_membr") && message.contains("add_member"),
            "{message}"
        );
        let (message, line) = check("fn f() { add_member(\"S\") }\n1").unwrap();
        assert_eq!(line, Some(1));
        assert!(message.contains("takes 2 argument(s), not 1"), "{message}");
    }

    #[test]
    fn rhai_functions_keywords_methods_and_the_scripts_own_pass() {
        let script = r#"
fn twice(x) { x * 2 }
let f = |x| x + 1;
let a = [1, 2, 3].filter(|v| v > 1).map(|v| twice(v));
print(a.len()); debug(type_of(a));
let g = Fn("twice");
g.call(2); f(3); call(g, 4);
for (u, i) in a { add_member("S", `${u}`); }
"abc".to_upper().contains("B");
let obj = #{ n: 1, inc: |d| this.n + d };
obj.inc(2);
"#;
        assert_eq!(check(script), None);
    }
}

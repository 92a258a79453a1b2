//! Rhai's own errors in the script's terms: an unknown function with the closest names, a
//! call with a wrong argument naming which one and what it takes, a field of nothing.
//!
//! Policy: the engine's words (`Function not found: add_member (&str | ImmutableString |
//! String, i64)`, `getter is not registered for type '()'`) are replaced by a sentence that
//! says what to change; types are named as scripts know them (string, int, map, array, group).

use rhai::{Engine, AST};

use super::docs::{self, FnDoc};
use super::signature::{script_signature, script_type, split_params};

/// The words for Rhai's "Data race detected on argument #N of function 'F'": a closure given
/// to `F` uses the very value `F` works on.
pub fn data_race(what: &str) -> String {
    let function = what.split('\'').nth(1).unwrap_or("the function");
    format!(
        "a closure given to `{function}()` uses the value `{function}()` is working on (a closure cannot read or change the array it filters or maps); work on a copy (`let copy = list; list.{function}(|v| copy.len() > 1)`) or collect what you need first"
    )
}

/// The words for Rhai's `Function not found: SIGNATURE`, given every function there is.
pub fn function_not_found(engine: &Engine, ast: &AST, signature: &str) -> String {
    let (name, args) = match signature.split_once(" (") {
        // One closing parenthesis: the last argument may itself be `()`.
        Some((n, a)) => (n.trim(), a.strip_suffix(')').unwrap_or(a)),
        None => (signature.trim(), ""),
    };
    let given: Vec<&str> = if args.trim().is_empty() {
        Vec::new()
    } else {
        args.split(", ").map(script_type).collect()
    };
    if !name.is_empty() && !name.chars().any(|c| c.is_alphanumeric() || c == '_') {
        // An operator: `m["a"] += 1` on a key that is not there adds 1 to ().
        let sides = given.join(" and ");
        let nothing = if given.contains(&"()") {
            "; one side is () (nothing): a map key that is not there, a field of (), or a function that returned nothing. Give it a value first, e.g. `m[k] = (m[k] ?? 0) + 1`"
        } else {
            ""
        };
        return format!("`{name}` cannot work on {sides}{nothing}");
    }
    let mut known: Vec<FnDoc> = docs::all(engine);
    for f in ast.iter_functions() {
        known.push(FnDoc {
            name: f.name.to_string(),
            signature: format!("{}({})", f.name, f.params.join(", ")),
            doc: String::new(),
            origin: "script",
        });
    }
    let overloads: Vec<&FnDoc> = known
        .iter()
        .filter(|d| d.name == name || d.name.rsplit("::").next() == Some(name))
        .collect();
    if overloads.is_empty() {
        let found = crate::suggest::similar(name, known.iter().map(|d| d.name.as_str()), 3);
        let hint = crate::suggest::did_you_mean(&found)
            .map(|d| format!("; {d}"))
            .unwrap_or_default();
        return format!("there is no function {name}(){hint} (`mcsh doc` lists them all)");
    }
    let shapes: Vec<String> = overloads
        .iter()
        .map(|d| script_signature(&d.signature))
        .collect();
    let reference = if overloads.iter().all(|d| d.origin == "script") {
        String::new()
    } else {
        format!(" (`mcsh doc {name}`)")
    };
    let takes = format!(
        "{name} takes {}{reference}",
        shapes
            .iter()
            .map(|s| format!("`{s}`"))
            .collect::<Vec<_>>()
            .join(" or ")
    );
    for d in &overloads {
        let params = params_of(&d.signature);
        if params.len() != given.len() {
            continue;
        }
        for (i, ((pname, ptype), got)) in params.iter().zip(&given).enumerate() {
            let wanted = if matches!(pname.as_str(), "group" | "parent") && ptype == "any" {
                "group"
            } else {
                ptype.as_str()
            };
            let fits = match wanted {
                "any" => true,
                "group" => matches!(*got, "string" | "map"),
                w => w == *got,
            };
            if !fits {
                let what = if wanted == "group" {
                    "a group (a map from group(), an id, a name or a path)".to_string()
                } else {
                    a(wanted)
                };
                return format!(
                    "{name}: argument {} ({pname}) must be {what}, not {}; {takes}",
                    i + 1,
                    a(got)
                );
            }
        }
    }
    format!(
        "{name} was called with {} argument{} ({}); {takes}",
        given.len(),
        if given.len() == 1 { "" } else { "s" },
        given.join(", ")
    )
}

/// `(name, script type)` of each parameter of a signature.
fn params_of(signature: &str) -> Vec<(String, String)> {
    let Some((_, rest)) = signature.split_once('(') else {
        return Vec::new();
    };
    let params = rest.rsplit_once(')').map_or(rest, |(p, _)| p);
    split_params(params)
        .into_iter()
        .map(|p| match p.split_once(':') {
            Some((n, t)) => (n.trim().to_string(), script_type(t).to_string()),
            None => (p.trim().to_string(), "any".to_string()),
        })
        .collect()
}

/// `a string`, `an int`, `()`.
fn a(ty: &str) -> String {
    match ty {
        "()" => "() (nothing)".to_string(),
        t if t.starts_with(['a', 'e', 'i', 'o', 'u']) => format!("an {t}"),
        t => format!("a {t}"),
    }
}

/// The words for reading a field of `()`: the value before the dot is nothing.
pub fn field_of_nothing(property: &str) -> String {
    format!(
        "cannot read .{property} of () (nothing): the value before the dot is empty. user() and \
         group() return () when no user has that address or no group that name; check first, \
         e.g. `let u = user(email); if u != () {{ print(u.{property}) }}`"
    )
}

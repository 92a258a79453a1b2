//! Running script text and explaining failures: `file:line:column`, the source line and a
//! caret, and the exit code the failure deserves.

use rhai::{Dynamic, Engine, EvalAltResult, Position, Scope, AST};

use super::errors;
use super::limits::Limits;

/// A failed script, ready to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// One line: what went wrong (with the function for API errors).
    pub message: String,
    /// `file:line:column`, when known.
    pub location: Option<String>,
    /// The source line and a caret under the column.
    pub excerpt: Option<String>,
    /// The process exit code for it.
    pub exit_code: i32,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)?;
        if let Some(l) = &self.location {
            write!(f, " ({l})")?;
        }
        Ok(())
    }
}

/// The source with a `#!` first line blanked (line numbers stay right).
pub fn strip_shebang(source: &str) -> String {
    // A UTF-8 byte order mark (some editors write one) is no part of the script.
    let source = source.strip_prefix('\u{feff}').unwrap_or(source);
    if source.starts_with("#!") {
        let rest = source.find('\n').map_or("", |i| &source[i..]);
        format!("//{rest}")
    } else {
        source.to_string()
    }
}

/// Compiles `source`, named `name` for messages and relative imports.
pub fn compile(
    engine: &Engine,
    scope: &Scope,
    name: &str,
    source: &str,
    limits: &Limits,
) -> Result<AST, Failure> {
    let mut ast = engine
        .compile_with_scope(scope, source)
        .map_err(|e| describe(&EvalAltResult::from(e), name, source, limits))?;
    ast.set_source(name);
    Ok(ast)
}

/// Refuses, before anything runs, a script calling a function that does not exist or with a
/// wrong number of arguments anywhere in it ([`super::check`]): exit 2 at the call.
pub fn check_calls(engine: &Engine, ast: &AST, name: &str, source: &str) -> Result<(), Failure> {
    let known = super::check::Known::of(engine);
    let found =
        super::check::unknown_call(&known, ast).or_else(|| super::check::assigning_closure(ast));
    match found {
        None => Ok(()),
        Some((message, pos)) => {
            let (location, excerpt) = locate(pos, name, source);
            Err(Failure {
                message,
                location,
                excerpt,
                exit_code: 2,
            })
        }
    }
}

/// Runs `ast` in `scope`.
pub fn run(
    engine: &Engine,
    scope: &mut Scope,
    ast: &AST,
    name: &str,
    source: &str,
    limits: &Limits,
) -> Result<Dynamic, Failure> {
    let result = engine.eval_ast_with_scope::<Dynamic>(scope, ast);
    if let Err(e) = &result {
        if exit_code_of(e) == Some(0) {
            return Ok(Dynamic::UNIT);
        }
    }
    result.map_err(|e| {
        let mut failure = describe(&e, name, source, limits);
        if let EvalAltResult::ErrorFunctionNotFound(signature, _) = innermost(&e) {
            // A script's mistake, told with the functions there are: exit 2 like members(42).
            failure.message = super::explain::function_not_found(engine, ast, signature);
            failure.exit_code = 2;
        }
        if let EvalAltResult::ErrorDataRace(what, _) = innermost(&e) {
            failure.message = super::explain::data_race(what);
        }
        if failure.location.is_none() {
            place_by_function(&mut failure, ast, name, source);
        }
        if let EvalAltResult::ErrorArrayBounds(0, ..) = innermost(&e) {
            // The likeliest empty array at the top of a script: its arguments, not given.
            if failure.excerpt.as_deref().is_some_and(|x| x.contains("args[")) {
                failure.message = format!(
                    "{}: `args` is empty, the script was run without arguments; give them after its path (`mcsh run {name} ARG...`)",
                    failure.message
                );
                failure.exit_code = 2;
            }
        }
        failure
    })
}

/// What `exit(code)` raises: uncatchable, carrying the code.
pub fn exit_with(code: i64) -> Box<EvalAltResult> {
    let mut map = rhai::Map::new();
    map.insert("kind".into(), "exit".into());
    // Out of 0..=255 (`exit(-1)`) the shell would wrap it, maybe to 0: a failure, 1.
    let code = if (0..=255).contains(&code) { code } else { 1 };
    map.insert("code".into(), code.into());
    Box::new(EvalAltResult::ErrorTerminated(
        Dynamic::from_map(map),
        Position::NONE,
    ))
}

/// The code of an `exit(code)`, when `err` is one.
fn exit_code_of(err: &EvalAltResult) -> Option<i32> {
    match innermost(err) {
        EvalAltResult::ErrorTerminated(value, _)
            if errors::field(value, "kind").as_deref() == Some("exit") =>
        {
            errors::field(value, "code").and_then(|c| c.parse().ok())
        }
        _ => None,
    }
}

/// Rhai gives some errors no position ("Data race detected on argument #1 of function
/// 'filter'"): they are placed at the script's call of the function they name (the first, when
/// there are several, with the lines of the others).
fn place_by_function(failure: &mut Failure, ast: &AST, name: &str, source: &str) {
    let Some(function) = failure
        .message
        .split(['\'', '`'])
        .nth(1)
        .map(|f| f.trim_end_matches("()").to_string())
    else {
        return;
    };
    let mut sites: Vec<Position> = Vec::new();
    ast.walk(&mut |path: &[rhai::ASTNode]| {
        let call = match path.last() {
            Some(rhai::ASTNode::Expr(
                rhai::Expr::FnCall(x, pos) | rhai::Expr::MethodCall(x, pos),
            )) => Some((x, *pos)),
            Some(rhai::ASTNode::Stmt(rhai::Stmt::FnCall(x, pos))) => Some((x, *pos)),
            _ => None,
        };
        if let Some((x, pos)) = call {
            if x.name == function.as_str() && !pos.is_none() {
                sites.push(pos);
            }
        }
        true
    });
    sites.sort_by_key(|p| (p.line(), p.position()));
    let Some(first) = sites.first() else { return };
    let (location, excerpt) = locate(*first, name, source);
    failure.location = location;
    failure.excerpt = excerpt;
    if sites.len() > 1 {
        let lines: Vec<String> = sites[1..]
            .iter()
            .filter_map(|p| p.line().map(|l| l.to_string()))
            .collect();
        failure.message = format!(
            "{} (the first call of {function}; it is also called on line {})",
            failure.message,
            lines.join(", ")
        );
    }
}

/// Explains `err` of script `name` whose text is `source`.
pub fn describe(err: &EvalAltResult, name: &str, source: &str, limits: &Limits) -> Failure {
    let inner = innermost(err);
    // An error inside a module (mcsh's `onboard`, a file the script imports) is told at the
    // script's own line that called into it: the module's line numbers are not the script's.
    let frames = frames(err, name);
    let pos = match frames.as_slice() {
        [(_, at), _, ..] => *at,
        _ if inner.position().is_none() => err.position(),
        _ => inner.position(),
    };
    let (message, exit_code) = match inner {
        EvalAltResult::ErrorRuntime(value, _) => match (errors::field(value, "function"), errors::field(value, "message")) {
            (Some(function), Some(message)) => {
                let kind = errors::field(value, "kind").unwrap_or_default();
                (format!("{function}: {message}"), exit_for_kind(&kind))
            }
            _ => (format!("script error: {value}"), 1),
        },
        EvalAltResult::ErrorTooManyOperations(_) => (
            format!(
                "the script was stopped after {} operations (an endless loop?); raise the limit with --limit operations=N",
                limits.operations
            ),
            1,
        ),
        EvalAltResult::ErrorStackOverflow(_) => (
            format!(
                "function calls nested deeper than {} (endless recursion?); raise the limit with --limit call-depth=N",
                limits.call_depth
            ),
            1,
        ),
        EvalAltResult::ErrorDataTooLarge(what, _) => (
            format!("{what} is over its limit; raise it with --limit string-size=N, array-size=N or map-size=N"),
            1,
        ),
        EvalAltResult::ErrorTerminated(why, _) if why.to_string() == super::STOP_MEMORY => (
            format!(
                "the script was stopped holding more than {} MiB of memory; raise the limit with --limit memory=MiB",
                limits.memory_mb
            ),
            1,
        ),
        EvalAltResult::ErrorTerminated(..) if exit_code_of(inner).is_some() => {
            let code = exit_code_of(inner).unwrap_or(1);
            (format!("the script called exit({code})"), code)
        }
        EvalAltResult::ErrorTerminated(value, _)
            if errors::field(value, "kind").as_deref() == Some(super::host::DEFERRED_REFUSAL) =>
        {
            return deferred_refusal(value, name, source);
        }
        EvalAltResult::ErrorTerminated(..) => ("interrupted".to_string(), 130),
        EvalAltResult::ErrorParsing(p, _) => (format!("syntax error: {p}"), 2),
        other => {
            let text = other.to_string();
            let plain = text.rsplit_once(" (line ").map_or(text.as_str(), |(head, _)| head);
            (field_error(plain).unwrap_or_else(|| plain.to_string()), 1)
        }
    };
    let (mut location, excerpt) = locate(pos, name, source);
    if let (Some(at), [_, modules @ ..]) = (&location, frames.as_slice()) {
        if !modules.is_empty() {
            location = Some(format!("inside {}, called at {at}", modules_said(modules)));
        }
    }
    Failure {
        message,
        location,
        excerpt,
        exit_code,
    }
}

/// A write queued by an earlier call that the service refused: told at that call, exit 3
/// when writes queued after it had already been done (one by one they would not have been),
/// 1 otherwise, as an uncaught refusal.
fn deferred_refusal(value: &Dynamic, name: &str, source: &str) -> Failure {
    let message = errors::field(value, "message").unwrap_or_default();
    let site = errors::field(value, "site").unwrap_or_default();
    let later: i64 = errors::field(value, "laterSent")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let mut parts = site.rsplitn(3, ':');
    let col = parts.next().and_then(|c| c.parse::<u16>().ok());
    let line = parts.next().and_then(|l| l.parse::<u16>().ok());
    let file = parts.next().unwrap_or("");
    let (location, excerpt) = match (line, col) {
        (Some(line), Some(col)) if file == name => locate(Position::new(line, col), name, source),
        _ => (Some(site.clone()).filter(|s| !s.is_empty()), None),
    };
    Failure {
        message,
        location,
        excerpt,
        exit_code: if later > 0 { 3 } else { 1 },
    }
}

/// After a script's last statement: sends the writes it queued
/// ([`super::host::Host::flush`]). A refusal among them is the script's failure, at the call
/// that queued it (it came before any later error). After Ctrl-C nothing more is sent, and
/// the failure says how many queued writes were dropped.
pub fn finish(
    host: &super::host::Host,
    result: Result<Dynamic, Failure>,
    name: &str,
    source: &str,
    limits: &Limits,
) -> Result<Dynamic, Failure> {
    host.set_deferrable(None);
    if let Err(f) = &result {
        if f.exit_code == 130 {
            let dropped = host.drop_queued();
            let mut f = f.clone();
            if dropped > 0 {
                f.message = format!("{}; {dropped} queued write(s) were not sent", f.message);
            }
            return Err(f);
        }
    }
    match host.flush("script") {
        Ok(()) => result,
        Err(e) => Err(describe(&e, name, source, limits)),
    }
}

/// Rhai's `Unknown property 'P' - a getter is not registered for type 'T'`, in plain words.
fn field_error(text: &str) -> Option<String> {
    let rest = text.strip_prefix("Unknown property '")?;
    let (property, rest) = rest.split_once('\'')?;
    let ty = rest
        .split_once("for type '")?
        .1
        .trim_end_matches('\'')
        .to_string();
    Some(if ty == "()" {
        super::explain::field_of_nothing(property)
    } else {
        format!(
            "a value of type {} has no field .{property} (only maps have fields)",
            super::signature::script_type(&ty)
        )
    })
}

/// The sources an error went through, as (source, where in it): first the script `name`
/// and the call or `import` that left it, then each module and where it left that one, the
/// last where the error happened. One frame when it stayed in the script's own code.
fn frames(err: &EvalAltResult, name: &str) -> Vec<(String, Position)> {
    let mut out = Vec::new();
    let mut current = name.to_string();
    let mut e = err;
    loop {
        match e {
            EvalAltResult::ErrorInFunctionCall(_, src, inner, pos) => {
                if !src.is_empty() && *src != current && !pos.is_none() {
                    out.push((std::mem::replace(&mut current, src.clone()), *pos));
                }
                e = inner;
            }
            EvalAltResult::ErrorInModule(module, inner, pos) if !pos.is_none() => {
                // A module being loaded: mcsh's by its source name, a file by its path as
                // the resolver names it (its errors come wrapped once more, by that name).
                let source = if super::stdlib::source(module).is_some() {
                    super::modules::stdlib_source(module)
                } else {
                    module.clone()
                };
                out.push((std::mem::replace(&mut current, source), *pos));
                e = inner;
            }
            other => {
                out.push((current, other.position()));
                return out;
            }
        }
    }
}

/// The modules of `frames` (past the script's own), innermost first: `the module "lib/y.rhai"
/// at 6:11, called from the module "lib/x.rhai" at 3:3`. mcsh's own modules are named by
/// their import name, without their lines (and what they call is theirs).
fn modules_said(frames: &[(String, Position)]) -> String {
    let mut said = Vec::new();
    for (source, pos) in frames {
        let own = super::stdlib::MODULES
            .iter()
            .find(|(n, _)| super::modules::stdlib_source(n) == *source);
        if let Some((n, _)) = own {
            said.push(format!("mcsh's module {n:?}"));
            break;
        }
        said.push(match (pos.line(), pos.position()) {
            (Some(l), Some(c)) => format!("the module {source:?} at {l}:{c}"),
            _ => format!("the module {source:?}"),
        });
    }
    said.reverse();
    said.join(", called from ")
}

fn innermost(err: &EvalAltResult) -> &EvalAltResult {
    match err {
        EvalAltResult::ErrorInFunctionCall(_, _, inner, _)
        | EvalAltResult::ErrorInModule(_, inner, _) => innermost(inner),
        other => other,
    }
}

/// The exit code for an uncaught error of `kind`.
pub fn exit_for_kind(kind: &str) -> i32 {
    match kind {
        "auth" | "config" => 4,
        "usage" => 2,
        "interrupted" => 130,
        _ => 1,
    }
}

fn locate(pos: Position, name: &str, source: &str) -> (Option<String>, Option<String>) {
    let (Some(line), col) = (pos.line(), pos.position()) else {
        return (None, None);
    };
    let col = col.unwrap_or(1);
    let location = Some(format!("{name}:{line}:{col}"));
    let excerpt = source.lines().nth(line - 1).map(|text| {
        let number = line.to_string();
        let pad = " ".repeat(number.len());
        let caret_pad: String = text
            .chars()
            .take(col.saturating_sub(1))
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        format!("{number} | {text}\n{pad} | {caret_pad}^")
    });
    (location, excerpt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shebang_lines_are_blanked_not_removed() {
        assert_eq!(
            strip_shebang("#!/usr/bin/env mcsh\nprint(1);"),
            "//\nprint(1);"
        );
        assert_eq!(strip_shebang("print(1);"), "print(1);");
    }

    #[test]
    fn failures_point_at_the_line() {
        let engine = Engine::new();
        let limits = Limits::default();
        let src = "let x = 1;\nlet y = x +;\n";
        let err = compile(&engine, &Scope::new(), "t.rhai", src, &limits).unwrap_err();
        assert!(err.message.starts_with("syntax error"), "{err:?}");
        assert_eq!(err.exit_code, 2);
        assert!(
            err.location.as_deref().unwrap().starts_with("t.rhai:2:"),
            "{err:?}"
        );
        assert!(err.excerpt.unwrap().contains("2 | let y = x +;"));
    }
}

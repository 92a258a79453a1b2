//! Which calls in a script may go on without their answer: the ones whose value nothing uses.
//!
//! Policy: a call is deferrable when it is a statement of its own in the script's top level
//! (not inside a function or closure, whose callers may use the value), and its value is
//! thrown away: it is not the last statement of a block whose value is used (the script's
//! own value, an `if` whose value is used), though the last statement of a loop's body is
//! thrown away. Nothing inside `try` is deferrable: a `catch` must see the service's real
//! answer. Only the calls named in [`DEFERRABLE`] are collected. The host defers such a call
//! only when it runs from the top level of the script analysed (see `Host::may_defer`).

use std::collections::HashSet;

use rhai::{ASTFlags, ASTNode, Expr, Position, Stmt, AST};

/// The single-item writes that may be deferred.
pub const DEFERRABLE: &[&str] = &[
    "add_member",
    "remove_member",
    "create_user",
    "update_user",
    "delete_user",
    "restore_user",
    "add_alias",
    "ensure_user",
    "ensure_member",
];

/// The positions of the `users()` and `users(domain)` calls a `for` loop iterates directly,
/// anywhere in `ast`: those may stream ([`super::stream`]).
pub fn streamed(ast: &AST) -> HashSet<Position> {
    let mut out = HashSet::new();
    ast.walk(&mut |path: &[rhai::ASTNode]| {
        if let Some(rhai::ASTNode::Stmt(Stmt::For(x, _))) = path.last() {
            if let rhai::Expr::FnCall(call, pos) = &x.2.expr {
                if !call.is_qualified() && call.name == "users" && call.args.len() <= 1 {
                    out.insert(*pos);
                }
            }
        }
        true
    });
    out
}

/// Whether every position in `source` is told apart: Rhai counts lines and columns up to
/// 65 535 and stops there, so past that two calls can share a position, and a call's
/// position no longer says which call it is. Without it, no call is deferred, streamed or
/// left without its aliases.
pub fn positions_exact(source: &str) -> bool {
    const MAX: usize = u16::MAX as usize - 1;
    source.lines().count() < MAX && source.lines().all(|l| l.chars().count() < MAX)
}

/// The positions of the `user(email)` calls whose `aliases` nothing can see, anywhere in `ast`:
/// those need not ask the service for them (`get-aliases`, a round trip each). A call
/// qualifies when its value is only compared with `()` (`user(e) != ()`), only has a field
/// other than `aliases` read (`user(e).name`, `user(e)?.name`), or is held by `let v = ...`
/// in a block whose later statements only use `v` in those ways or assign it afresh. Any
/// other use (printed, returned, passed on, captured by a closure, `v.keys()`, `v["..."]`)
/// leaves the call as it is. A script calling `eval` gets none. Not for the REPL: its
/// variables outlive the input, and its inputs' positions repeat.
pub fn aliasless(ast: &AST) -> HashSet<Position> {
    let mut out = HashSet::new();
    let mut evals = false;
    ast.walk(&mut |path: &[ASTNode]| {
        let n = path.len();
        let (call, x, pos) = match path.last() {
            Some(ASTNode::Expr(call @ Expr::FnCall(x, pos))) => (*call, x, *pos),
            Some(ASTNode::Stmt(Stmt::FnCall(x, _))) => {
                evals |= x.name == "eval";
                return true;
            }
            _ => return true,
        };
        evals |= x.name == "eval";
        if x.is_qualified() || x.name != "user" || x.args.len() != 1 || n < 2 {
            return true;
        }
        let unseen = match &path[n - 2] {
            // A `const` is read by functions too (`global::NAME`); an `export` by importers.
            ASTNode::Stmt(var @ Stmt::Var(v, flags, _))
                if std::ptr::eq(&v.1, call)
                    && !flags.intersects(ASTFlags::CONSTANT | ASTFlags::EXPORTED) =>
            {
                let holder = n.checked_sub(3).map(|i| &path[i]);
                rest_of_block(ast, holder, var).is_some_and(|rest| only_fields_of(&v.0.name, rest))
            }
            parent => used_without_aliases(parent, call),
        };
        if unseen {
            out.insert(pos);
        }
        true
    });
    if evals {
        out.clear();
    }
    out
}

/// Whether `parent` uses its child `value` (a user map) only by comparing it with `()`, by
/// reading a field other than `aliases`, or (`value` a variable) by assigning it afresh.
fn used_without_aliases(parent: &ASTNode, value: &Expr) -> bool {
    match parent {
        ASTNode::Expr(Expr::Dot(b, ..)) if std::ptr::eq(&b.lhs, value) => {
            let mut first = &b.rhs;
            while let Expr::Dot(inner, ..) | Expr::Index(inner, ..) = first {
                first = &inner.lhs;
            }
            matches!(first, Expr::Property(p, _) if p.2 != "aliases")
        }
        ASTNode::Expr(Expr::FnCall(c, _)) | ASTNode::Stmt(Stmt::FnCall(c, _)) => {
            !c.is_qualified()
                && matches!(c.name.as_str(), "==" | "!=")
                && c.args.len() == 2
                && c.args.iter().any(|a| matches!(a, Expr::Unit(_)))
        }
        ASTNode::Stmt(Stmt::Assignment(a)) => {
            std::ptr::eq(&a.1.lhs, value) && !a.0.is_op_assignment()
        }
        _ => false,
    }
}

/// The statements after `var` in the block that holds it, `holder` being the statement or
/// expression around that block (`None`: the script's top level).
fn rest_of_block<'a>(ast: &'a AST, holder: Option<&ASTNode<'a>>, var: &Stmt) -> Option<&'a [Stmt]> {
    let blocks: Vec<&'a [Stmt]> = match holder {
        // A function body's own statements are not reachable here: those stay as they are.
        None => vec![ast.statements()],
        Some(ASTNode::Stmt(Stmt::If(flow, _) | Stmt::While(flow, _) | Stmt::TryCatch(flow, _))) => {
            vec![flow.body.statements(), flow.branch.statements()]
        }
        Some(ASTNode::Stmt(Stmt::For(x, _))) => vec![x.2.body.statements()],
        Some(ASTNode::Stmt(Stmt::Block(b))) => vec![b.statements()],
        Some(ASTNode::Expr(Expr::Stmt(b))) => vec![b.statements()],
        Some(_) => return None,
    };
    blocks.into_iter().find_map(|block| {
        let at = block.iter().position(|s| std::ptr::eq(s, var))?;
        Some(&block[at + 1..])
    })
}

/// Whether `stmts` use the variable `name` only as [`used_without_aliases`] allows.
fn only_fields_of(name: &str, stmts: &[Stmt]) -> bool {
    let mut fine = true;
    for s in stmts {
        let mut path = Vec::new();
        s.walk(&mut path, &mut |path: &[ASTNode]| {
            let n = path.len();
            match path.last() {
                Some(ASTNode::Expr(var @ Expr::Variable(v, ..))) if v.1 == name => {
                    fine &= n >= 2 && used_without_aliases(&path[n - 2], var);
                }
                // A loop's `break VALUE` hands a value out, and the walk does not go into it.
                Some(ASTNode::Stmt(Stmt::BreakLoop(Some(_), ..))) => fine = false,
                // `export` hands it on. (A closure that captures it is given it as an
                // argument, `curry(v)`, which the first arm refuses.)
                Some(ASTNode::Stmt(Stmt::Export(x, _))) => fine &= x.0.name != name,
                _ => {}
            }
            fine
        });
        if !fine {
            return false;
        }
    }
    true
}

/// The positions of the deferrable calls of `ast`'s top level.
pub fn deferrable(ast: &AST) -> HashSet<Position> {
    let mut out = HashSet::new();
    block(ast.statements(), true, &mut out);
    out
}

fn block(stmts: &[Stmt], value_used: bool, out: &mut HashSet<Position>) {
    let n = stmts.len();
    for (i, s) in stmts.iter().enumerate() {
        stmt(s, value_used && i + 1 == n, out);
    }
}

fn stmt(s: &Stmt, used: bool, out: &mut HashSet<Position>) {
    match s {
        Stmt::FnCall(call, pos)
            if !used && !call.is_qualified() && DEFERRABLE.contains(&call.name.as_str()) =>
        {
            out.insert(*pos);
        }
        Stmt::If(flow, _) => {
            block(flow.body.statements(), used, out);
            block(flow.branch.statements(), used, out);
        }
        Stmt::While(flow, _) | Stmt::Do(flow, ..) => block(flow.body.statements(), false, out),
        Stmt::For(x, _) => block(x.2.body.statements(), false, out),
        Stmt::Block(b) => block(b.statements(), used, out),
        // `try` must see real answers; `switch` arms and everything else: sent at once.
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lines of the sites `find` finds in `script`, in order.
    fn lines_found(script: &str, find: fn(&AST) -> HashSet<Position>) -> Vec<usize> {
        let engine = rhai::Engine::new_raw();
        let ast = engine.compile(script).expect("compiles");
        let mut found: Vec<usize> = find(&ast).into_iter().filter_map(|p| p.line()).collect();
        found.sort_unstable();
        found
    }

    fn lines(script: &str) -> Vec<usize> {
        lines_found(script, deferrable)
    }

    #[test]
    fn only_statements_whose_value_is_thrown_away_outside_try_and_functions() {
        let script = r#"
for u in [1] {
    add_member("Sales", u);
}
let r = add_member("Sales", "a");
if r == () { remove_member("Sales", "b"); 1 } else { update_user("c", #{}); }
try { add_member("Sales", "d"); } catch { }
fn f() { add_member("Sales", "e"); }
while r == () { create_user("f"); print(1); }
x.add_member("g");
add_member("Sales", "h")
"#;
        // Lines 3 (a loop body), 6 (not the if's last value: the if is no last statement).
        // Not 5 (used), 7 (try), 8 (a function), 10 (a method call), 11 (the script's value).
        assert_eq!(lines(script), [3, 6, 6, 9]);
    }

    fn aliasless_lines(script: &str) -> Vec<usize> {
        lines_found(script, aliasless)
    }

    #[test]
    fn a_user_whose_aliases_nothing_sees_is_told_by_how_its_value_is_used() {
        let script = r#"
if user("a") != () { 1 }
let n = user("b").name;
let m = user("c")?.emailAddress.len();
for r in [1] { let u = user("d"); if u == () { u = 1 } else { print(u.name) } }
let shown = user("e"); print(shown);
let al = user("f"); print(al.aliases);
let idx = user("g"); print(idx["name"]);
let kept = user("h"); let f = || kept.name;
let keys = user("i"); keys.keys();
print(user("j"));
user("k").aliases;
let last = user("l"); print(last);
{ let plus = user("m"); plus += 1; }
fn lookup(e) { user(e) == () }
let pair = user("o"); keep(pair, ());
let ex = user("p"); export ex as exported;
for u in ["q"] { let u = user(u); if u != () { 1 } }
let late = user("n"); let other = late.name; other
"#;
        // 2 (compared with ()), 3 and 4 (other fields), 5 (a let only compared, assigned and
        // read by field), 15 (in a function, compared), 19 (a let read by field only).
        // Not: 6 (printed whole), 7 (.aliases), 8 (an index), 9 (a closure captures it), 10 (a
        // method), 11 (passed on), 12 (.aliases), 13 (passed on), 14 (`+=`), 16 (passed on
        // beside a `()`: only `==` and `!=` compare), 17 (exported); 18 is one (the `u` it is
        // given is the loop's, not the user); 19's `other` is the script's value, but it is
        // the name.
        assert_eq!(aliasless_lines(script), [2, 3, 4, 5, 15, 18, 19]);
    }

    #[test]
    fn a_script_that_calls_eval_keeps_every_users_aliases() {
        assert_eq!(aliasless_lines("if user(\"a\") != () { 1 }"), [1]);
        assert_eq!(
            aliasless_lines("if user(\"a\") != () { 1 }\neval(\"1\");"),
            Vec::<usize>::new()
        );
    }

    #[test]
    fn a_user_handed_out_by_break_const_or_export_keeps_its_aliases() {
        let script = r#"
let a = for e in [1] { let u = user("a"); if u != () { break u; } };
const B = user("b"); if B != () { 1 }
export let c = user("c"); if c != () { 1 }
let d = loop { let u = user("d"); if u.name != "" { break; } };
"#;
        // Only line 5: a `break` with no value hands nothing out.
        assert_eq!(aliasless_lines(script), [5]);
    }

    #[test]
    fn positions_past_what_rhai_counts_are_not_exact() {
        assert!(positions_exact("let a = 1;\nlet b = 2;"));
        // Up to 65 533 columns or lines; from 65 534 on, no.
        assert!(positions_exact(&"x".repeat(65_533)));
        assert!(!positions_exact(&"x".repeat(65_534)));
        assert!(positions_exact(&"1;\n".repeat(65_533)));
        assert!(!positions_exact(&"1;\n".repeat(65_534)));
    }

    #[test]
    fn only_the_scripts_own_one_argument_user_call_is_a_site() {
        assert_eq!(
            aliasless_lines(
                "if other(\"a\") != () { 1 }\nif m::user(\"a\") != () { 1 }\nif user(\"a\", \"b\") != () { 1 }\nif user(\"a\") != () { 1 }"
            ),
            [4]
        );
        // `eval` used as a value turns the sites off too.
        assert_eq!(
            aliasless_lines("if user(\"a\") != () { 1 }\nlet r = eval(\"1\");"),
            Vec::<usize>::new()
        );
    }

    #[test]
    fn a_user_held_as_the_scripts_value_keeps_its_aliases() {
        assert_eq!(
            aliasless_lines("let u = user(\"a\");\nu"),
            Vec::<usize>::new()
        );
        assert_eq!(aliasless_lines("let u = user(\"a\");\nu.name"), [1]);
    }

    #[test]
    fn the_last_statement_of_a_used_block_is_not_deferred() {
        assert_eq!(
            lines("if true { add_member(\"S\", \"a\") }"),
            Vec::<usize>::new()
        );
        assert_eq!(lines("add_member(\"S\", \"a\"); 1"), [1]);
    }
}

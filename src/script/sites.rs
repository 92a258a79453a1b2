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

use rhai::{Position, Stmt, AST};

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

    fn lines(script: &str) -> Vec<usize> {
        let engine = rhai::Engine::new_raw();
        let ast = engine.compile(script).expect("compiles");
        let mut found: Vec<usize> = deferrable(&ast)
            .into_iter()
            .filter_map(|p| p.line())
            .collect();
        found.sort_unstable();
        found
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

    #[test]
    fn the_last_statement_of_a_used_block_is_not_deferred() {
        assert_eq!(
            lines("if true { add_member(\"S\", \"a\") }"),
            Vec::<usize>::new()
        );
        assert_eq!(lines("add_member(\"S\", \"a\"); 1"), [1]);
    }
}

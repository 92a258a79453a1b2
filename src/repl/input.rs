//! Is this input finished? The parser decides, not bracket counting.
//!
//! Policy: input continues on the next line when the parser ran out of input (`UnexpectedEOF`,
//! or a missing token or symbol reported past the end) or inside a back-tick string. An
//! unterminated `"` string is an error to show, not a continuation, so a stray quote never
//! traps the user at the prompt.

use rhai::{Engine, LexError, ParseErrorType};

/// What to do with the input so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completeness {
    /// Run it (it may still fail; the error is then shown).
    Complete,
    /// Read another line first.
    Incomplete,
}

/// Classifies `input` with `engine`'s parser.
pub fn classify(engine: &Engine, input: &str) -> Completeness {
    if input.trim().is_empty() || input.trim_start().starts_with(':') {
        return Completeness::Complete;
    }
    if inside_backtick_string(input) {
        return Completeness::Incomplete;
    }
    let Err(err) = engine.compile(input) else {
        return Completeness::Complete;
    };
    let at_end = past_end(input, err.position());
    match err.err_type() {
        ParseErrorType::UnexpectedEOF => Completeness::Incomplete,
        ParseErrorType::MissingToken(..) | ParseErrorType::MissingSymbol(..) if at_end => {
            Completeness::Incomplete
        }
        ParseErrorType::BadInput(LexError::UnterminatedString) => Completeness::Complete,
        _ => Completeness::Complete,
    }
}

/// Whether `pos` is at or beyond the last non-blank character of `input`.
fn past_end(input: &str, pos: rhai::Position) -> bool {
    let (Some(line), col) = (pos.line(), pos.position()) else {
        return true;
    };
    let trimmed = input.trim_end();
    let last_line = trimmed.lines().count().max(1);
    match line.cmp(&last_line) {
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Equal => {
            let len = trimmed.lines().last().map_or(0, |l| l.chars().count());
            col.unwrap_or(usize::MAX) > len
        }
    }
}

/// Whether the input ends inside a back-tick string (quotes and comments respected).
fn inside_backtick_string(input: &str) -> bool {
    #[derive(PartialEq)]
    enum S {
        Code,
        Quote,
        Back,
        Char,
        Line,
        Block(usize),
    }
    let mut s = S::Code;
    let chars: Vec<char> = input.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match s {
            S::Code => match (c, next) {
                ('"', _) => s = S::Quote,
                ('`', _) => s = S::Back,
                ('\'', _) => s = S::Char,
                ('/', Some('/')) => s = S::Line,
                ('/', Some('*')) => {
                    s = S::Block(1);
                    i += 1;
                }
                _ => {}
            },
            S::Quote | S::Char => match c {
                '\\' => i += 1,
                '"' if s == S::Quote => s = S::Code,
                '\'' if s == S::Char => s = S::Code,
                '\n' => s = S::Code,
                _ => {}
            },
            S::Back => {
                if c == '`' {
                    s = S::Code;
                }
            }
            S::Line => {
                if c == '\n' {
                    s = S::Code;
                }
            }
            S::Block(depth) => match (c, next) {
                ('*', Some('/')) => {
                    s = if depth == 1 {
                        S::Code
                    } else {
                        S::Block(depth - 1)
                    };
                    i += 1;
                }
                ('/', Some('*')) => {
                    s = S::Block(depth + 1);
                    i += 1;
                }
                _ => {}
            },
        }
        i += 1;
    }
    s == S::Back
}

#[cfg(test)]
mod tests {
    use super::*;
    use Completeness::*;

    #[test]
    fn open_brackets_continue() {
        let e = Engine::new_raw();
        for input in [
            "fn f(x) {",
            "let a = [1, 2,",
            "print(1 +",
            "if x {\n let y = 1;",
            "let s = `multi\nline",
        ] {
            assert_eq!(classify(&e, input), Incomplete, "{input:?}");
        }
    }

    #[test]
    fn finished_or_wrong_input_runs() {
        let e = Engine::new_raw();
        for input in [
            "1 + 1",
            "let x = 1;",
            "fn f(x) { x }",
            "print(\"unterminated",
            "let = ;",
            "",
            ":help",
            "x)",
            "let s = `done`;",
        ] {
            assert_eq!(classify(&e, input), Complete, "{input:?}");
        }
    }

    #[test]
    fn quotes_and_comments_do_not_confuse_the_backtick_scan() {
        assert!(!inside_backtick_string("let s = \"`\";"));
        assert!(!inside_backtick_string("// `\nlet x = 1;"));
        assert!(!inside_backtick_string("/* ` */ 1"));
        assert!(inside_backtick_string("let s = `abc"));
    }
}

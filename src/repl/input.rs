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
    let Err(err) = engine.compile(input) else {
        return Completeness::Complete;
    };
    match err.err_type() {
        ParseErrorType::UnexpectedEOF => Completeness::Incomplete,
        ParseErrorType::MissingToken(..) | ParseErrorType::MissingSymbol(..)
            if past_end(input, err.position()) =>
        {
            Completeness::Incomplete
        }
        // The parser says where the open string starts: a back-tick string may span lines,
        // a `"` string may not.
        ParseErrorType::BadInput(LexError::UnterminatedString)
            if char_at(input, err.position()) == Some('`') =>
        {
            Completeness::Incomplete
        }
        _ => Completeness::Complete,
    }
}

/// The character at a parser position (1-based line and column).
fn char_at(input: &str, pos: rhai::Position) -> Option<char> {
    let line = input.lines().nth(pos.line()?.checked_sub(1)?)?;
    line.chars().nth(pos.position()?.checked_sub(1)?)
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
    fn quotes_raw_strings_and_comments_do_not_confuse_it() {
        let e = Engine::new_raw();
        for input in [
            "let s = \"`\";",
            "// `\nlet x = 1;",
            "/* ` */ 1",
            "let r = #\"`\"#;",
        ] {
            assert_eq!(classify(&e, input), Complete, "{input:?}");
        }
        // Found by fuzzing: a raw string, then a comment holding back-ticks, compiles.
        let found = "!!###\"\"\"###/////////////////////////////////////////////////////\u{0}`[\"\"\"\"\"###\"\"#```";
        assert!(e.compile(found).is_ok());
        assert_eq!(classify(&e, found), Complete);
    }
}

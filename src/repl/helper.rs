//! Line editing help: completion (the REPL reads unfinished statements itself).
//!
//! Completion offers, by context: `:commands` at the start of a line; file paths after
//! `:load`; inside a string, the email addresses and group names fetched so far in the
//! session; elsewhere registered and script functions and variables.

use std::cell::RefCell;
use std::rc::Rc;

use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Helper, Highlighter, Hinter};

use crate::script::Host;

/// The REPL's `:commands`.
pub const COMMANDS: &[&str] = &[
    ":help", ":vars", ":load", ":status", ":history", ":save", ":quit",
];

/// Words completion can offer outside strings; refreshed after each input.
#[derive(Debug, Default)]
pub struct Words {
    /// Registered and stdlib functions.
    pub functions: Vec<String>,
    /// Functions defined in this session.
    pub script_functions: Vec<String>,
    /// Variables in scope.
    pub variables: Vec<String>,
}

/// The rustyline helper of the REPL.
#[derive(Helper, Highlighter, Hinter)]
pub struct ReplHelper {
    files: FilenameCompleter,
    words: Rc<RefCell<Words>>,
    host: Rc<Host>,
}

impl ReplHelper {
    /// A helper reading `words` and the names `host` has seen.
    pub fn new(words: Rc<RefCell<Words>>, host: Rc<Host>) -> Self {
        ReplHelper {
            files: FilenameCompleter::new(),
            words,
            host,
        }
    }

    /// After `:load `, the paths that complete the word at `pos`.
    pub fn load_candidates(&self, line: &str, pos: usize) -> Option<(usize, Vec<Pair>)> {
        let before = &line[..pos];
        let trimmed = before.trim_start();
        let rest = trimmed
            .strip_prefix(":load")
            .or_else(|| trimmed.strip_prefix(":save"))?;
        if !rest.starts_with(char::is_whitespace) {
            return None;
        }
        self.files.complete_path(line, pos).ok()
    }

    /// Candidates for the text before the cursor: (start of the replaced text, candidates).
    pub fn candidates(&self, before: &str) -> (usize, Vec<String>) {
        if let Some(open) = open_string(before) {
            let prefix = before[open + 1..].to_ascii_lowercase();
            let names = self.host.names.borrow();
            let found = names
                .emails
                .iter()
                .chain(names.groups.iter())
                .filter(|n| n.to_ascii_lowercase().starts_with(&prefix))
                // A name holding control, bidi or zero-width characters (a hostile group name)
                // is never offered: the editor would draw it raw on the terminal.
                .filter(|n| crate::output::printable(n) == **n)
                .take(200)
                .cloned()
                .collect();
            return (open + 1, found);
        }
        let start = before
            .char_indices()
            .rev()
            .find(|(_, c)| !(c.is_alphanumeric() || *c == '_' || *c == ':'))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let word = &before[start..];
        if before.trim_start().starts_with(':') && !before.contains(' ') {
            let cmds = COMMANDS
                .iter()
                .filter(|c| c.starts_with(before.trim_start()))
                .map(|c| c.to_string())
                .collect();
            return (before.len() - before.trim_start().len(), cmds);
        }
        if word.is_empty() {
            return (start, vec![]);
        }
        let words = self.words.borrow();
        let mut found: Vec<String> = words
            .functions
            .iter()
            .chain(&words.script_functions)
            .chain(&words.variables)
            .filter(|w| w.starts_with(word))
            .cloned()
            .collect();
        found.sort();
        found.dedup();
        (start, found)
    }
}

/// The byte index of the opening `"` when `text` ends inside a double-quoted string.
fn open_string(text: &str) -> Option<usize> {
    let mut open = None;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        match (open, c) {
            (Some(_), '\\') if !escaped => {
                escaped = true;
                continue;
            }
            (Some(_), '"') if !escaped => open = None,
            (None, '"') => open = Some(i),
            _ => {}
        }
        escaped = false;
    }
    open
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        if let Some(files) = self.load_candidates(line, pos) {
            return Ok(files);
        }
        let (start, found) = self.candidates(&line[..pos]);
        Ok((
            start,
            found
                .into_iter()
                .map(|w| Pair {
                    display: w.clone(),
                    replacement: w,
                })
                .collect(),
        ))
    }
}

/// Every line is taken as typed: the REPL itself reads the lines of an unfinished statement,
/// each under a continuation prompt (rustyline would show none).
impl Validator for ReplHelper {
    fn validate(&self, _ctx: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        Ok(ValidationResult::Valid(None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_completes_files_not_variables() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("smoke.rhai"), "1").unwrap();
        let words = Rc::new(RefCell::new(Words {
            variables: vec!["smallest".into()],
            ..Words::default()
        }));
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let host = Host::offline(&rt);
        let helper = ReplHelper::new(words, host);
        let line = format!(":load {}/sm", dir.path().display());
        let (_, found) = helper
            .load_candidates(&line, line.len())
            .expect("a :load line completes paths");
        let names: Vec<&str> = found.iter().map(|p| p.replacement.as_str()).collect();
        assert!(names.iter().any(|n| n.ends_with("smoke.rhai")), "{names:?}");
        assert!(!names.contains(&"smallest"));
        assert!(helper.load_candidates("sm", 2).is_none());
    }

    #[test]
    fn hostile_names_are_never_offered() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let host = Host::offline(&rt);
        host.saw_groups(["Sales", "Sa\u{1b}]0;owned\u{7}les", "Sa\u{202e}les"]);
        let helper = ReplHelper::new(Rc::default(), host);
        let (_, found) = helper.candidates(r#"members("Sa"#);
        assert_eq!(found, ["Sales"]);
    }

    #[test]
    fn strings_are_detected() {
        assert_eq!(open_string(r#"members("Eng"#), Some(8));
        assert_eq!(open_string(r#"members("Eng")"#), None);
        assert_eq!(open_string(r#"x("a\"b"#), Some(2));
    }
}

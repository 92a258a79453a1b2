//! What the REPL makes of a line typed as on the command line (`users list --domain x`,
//! `help`, `quit`): read commands run as the command would, on the session's tenant; other
//! commands are pointed at their script form or at the shell.
//!
//! Policy: a line is the command-line form when its first word is one of mcsh's commands and
//! the line is no Rhai (no brackets, no `=`, no `;`), so a variable that happens to share a
//! command's name keeps working. Reads run as a child `mcsh` with the session's target flags
//! (`--sandbox`, `--profile`, `--rehearse`), so they read exactly what the session reads.

/// What to do with a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Form {
    /// Not the command-line form: evaluate it as Rhai.
    Rhai,
    /// `help`: show the overview.
    Help,
    /// `exit` or `quit`: leave.
    Quit,
    /// A read command: run `mcsh` with these arguments (after the target flags).
    Run(Vec<String>),
    /// A command the REPL does not run: say this.
    Say(String),
}

/// A subcommand ("" for a command without any), its script form ("" when none), and whether
/// it only reads (then the REPL runs it).
type Sub = (&'static str, &'static str, bool);

/// mcsh's commands and their subcommands.
const COMMANDS: &[(&str, &[Sub])] = &[
    (
        "users",
        &[
            ("list", "users() or users(\"example.com\")", true),
            ("get", "user(\"a@company.com\")", true),
            ("groups", "groups_of(\"a@company.com\")", true),
            ("create", "create_user(\"a@company.com\", \"Name\")", false),
            (
                "update",
                "update_user(\"a@company.com\", #{ name: \"New Name\" })",
                false,
            ),
            ("delete", "delete_user(\"a@company.com\")", false),
            ("restore", "restore_user(\"a@company.com\")", false),
        ],
    ),
    (
        "groups",
        &[
            ("list", "groups()", true),
            ("members", "members(\"Sales\")", true),
            ("create", "create_group(\"Ops\")", false),
            (
                "add-member",
                "add_member(\"Sales\", \"a@company.com\")",
                false,
            ),
            (
                "remove-member",
                "remove_member(\"Sales\", \"a@company.com\")",
                false,
            ),
            ("rename", "rename_group(\"Sales\", \"Sales EMEA\")", false),
            ("delete", "delete_group(\"Project Y\")", false),
        ],
    ),
    (
        "export",
        &[("", "users() with write_csv / write_json", true)],
    ),
    ("audit", &[("", "", true)]),
    ("diff", &[("", "diff(a, b)", true)]),
    ("doc", &[("", ":help NAME", true)]),
    (
        "onboard",
        &[(
            "",
            "import \"onboard\" as onboard; onboard::person(\"a@company.com\", \"Name\", [\"Sales\"], #{})",
            false,
        )],
    ),
    (
        "offboard",
        &[("", "offboard_plan(...) and offboard_run(...)", false)],
    ),
    (
        "departments",
        &[("", "ensure_group_levels(\"Engineering/Platform\")", false)],
    ),
    ("sync", &[("", "sync_feed(...)", false)]),
    ("snapshot", &[("", "snapshot()", false)]),
    ("apply", &[("", "", false)]),
    ("undo", &[("", "", false)]),
    ("config", &[("", "", false)]),
    ("sandbox", &[("", "", false)]),
    ("run", &[("", ":load FILE", false)]),
    ("repl", &[("", "", false)]),
    ("completions", &[("", "", false)]),
    ("man", &[("", "", false)]),
];

/// What `line` is (see [`Form`]); `target` are the session's flags, for the shell hint.
pub fn classify(line: &str, target: &[String]) -> Form {
    let text = line.trim();
    match text {
        "help" | "?" => return Form::Help,
        "exit" | "quit" => return Form::Quit,
        _ => {}
    }
    if text.contains(['(', ')', '=', ';', '{', '}', '[', ']', '`']) {
        return Form::Rhai;
    }
    let words = split(text);
    let Some(first) = words.first() else {
        return Form::Rhai;
    };
    let second = words.get(1).map(String::as_str).unwrap_or("");
    let Some((command, subs)) = COMMANDS.iter().find(|(c, _)| c == first) else {
        // `user list`: a command's name mistyped, followed by one of its subcommands.
        let near = crate::suggest::similar(first, COMMANDS.iter().map(|(c, _)| *c), 1);
        if let Some(command) = near.first() {
            let subs = COMMANDS.iter().find(|(c, _)| c == command).map(|(_, s)| *s);
            if subs.is_some_and(|s| s.iter().any(|(n, _, _)| !n.is_empty() && *n == second)) {
                let rest: Vec<&str> = words.iter().skip(1).map(String::as_str).collect();
                return Form::Say(format!(
                    "did you mean `{command} {}`? (`:help` lists the script functions)",
                    rest.join(" ")
                ));
            }
        }
        return Form::Rhai;
    };
    // `users list ...` or `audit --since 2h` is the command line; `users` alone (a command
    // that needs a subcommand) is a call of the function `users` without brackets, and
    // Rhai's error is better than a guess.
    let sub = subs
        .iter()
        .find(|(s, _, _)| !s.is_empty() && *s == second)
        .or_else(|| subs.iter().find(|(s, _, _)| s.is_empty()));
    let Some((sub, script, reads)) = sub else {
        return Form::Rhai;
    };
    if *reads {
        return Form::Run(words);
    }
    let shell = format!(
        "mcsh {}{}",
        target.iter().map(|t| format!("{t} ")).collect::<String>(),
        text
    );
    let what = if sub.is_empty() {
        format!("`{command}`")
    } else {
        format!("`{command} {sub}`")
    };
    Form::Say(if script.is_empty() {
        format!(
            "{what} is a command-line command, not a script statement: run it from your shell as `{shell}`"
        )
    } else {
        format!(
            "{what} is the command-line form; in the REPL write `{script}` (`:help` lists the functions), or run it from your shell as `{shell}`"
        )
    })
}

/// `text` split into words at spaces, keeping what single or double quotes hold together.
fn split(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut started = false;
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                started = true;
            }
            (None, c) if c.is_whitespace() => {
                if started {
                    words.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            (None, c) => {
                word.push(c);
                started = true;
            }
        }
    }
    if started {
        words.push(word);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Vec<String> {
        vec!["--sandbox".into()]
    }

    #[test]
    fn read_commands_run_with_their_words() {
        assert_eq!(
            classify("users list --domain example.com", &target()),
            Form::Run(vec![
                "users".into(),
                "list".into(),
                "--domain".into(),
                "example.com".into()
            ])
        );
        assert_eq!(
            classify("groups members --group 'Engineering/Platform'", &target()),
            Form::Run(vec![
                "groups".into(),
                "members".into(),
                "--group".into(),
                "Engineering/Platform".into()
            ])
        );
        assert_eq!(
            classify("audit", &target()),
            Form::Run(vec!["audit".into()])
        );
    }

    #[test]
    fn writes_are_pointed_at_their_script_form_and_the_shell() {
        let Form::Say(text) = classify(
            "groups add-member --group Sales --email a@company.com",
            &target(),
        ) else {
            panic!("a write is not run");
        };
        assert!(text.contains("add_member(\"Sales\""), "{text}");
        assert!(
            text.contains("`mcsh --sandbox groups add-member --group Sales --email a@company.com`"),
            "{text}"
        );
    }

    #[test]
    fn a_mistyped_command_with_its_subcommand_gets_did_you_mean() {
        let Form::Say(text) = classify("user list --domain example.com", &target()) else {
            panic!("a near miss is pointed at the command");
        };
        assert!(
            text.contains("did you mean `users list --domain example.com`"),
            "{text}"
        );
        assert_eq!(classify("usr x", &target()), Form::Rhai);
        let Form::Say(text) = classify("onboard --email a@company.com", &target()) else {
            panic!("onboard is a write");
        };
        assert!(text.contains("onboard::person(\"a@company.com\""), "{text}");
    }

    #[test]
    fn rhai_stays_rhai() {
        for line in [
            "users(\"example.com\")",
            "users",
            "groups",
            "let users = 1;",
            "users.len()",
            "members(\"Sales\")",
            "x + 1",
        ] {
            assert_eq!(classify(line, &target()), Form::Rhai, "{line}");
        }
        assert_eq!(classify("help", &target()), Form::Help);
        assert_eq!(classify(" quit ", &target()), Form::Quit);
        assert_eq!(classify("exit", &target()), Form::Quit);
    }
}

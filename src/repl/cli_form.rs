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

/// A subcommand ("" for a command without any), its script form as an example ("" when
/// none), the same form with the line's values (`{email}` is the value of `--email`; see
/// [`fill`]; "" when none), and whether it only reads (then the REPL runs it).
type Sub = (&'static str, &'static str, &'static str, bool);

/// mcsh's commands and their subcommands.
const COMMANDS: &[(&str, &[Sub])] = &[
    (
        "users",
        &[
            ("list", "users() or users(\"example.com\")", "", true),
            ("get", "user(\"a@company.com\")", "", true),
            ("groups", "groups_of(\"a@company.com\")", "", true),
            (
                "create",
                "create_user(\"a@company.com\", \"Name\")",
                "create_user({email}, {name})",
                false,
            ),
            (
                "update",
                "update_user(\"a@company.com\", #{ name: \"New Name\" })",
                "update_user({email}, #{ name: {name} })",
                false,
            ),
            (
                "delete",
                "delete_user(\"a@company.com\")",
                "delete_user({email})",
                false,
            ),
            (
                "restore",
                "restore_user(\"a@company.com\")",
                "restore_user({email})",
                false,
            ),
        ],
    ),
    (
        "groups",
        &[
            ("list", "groups()", "", true),
            ("members", "members(\"Sales\")", "", true),
            (
                "create",
                "create_group(\"Ops\")",
                "create_group({description})",
                false,
            ),
            (
                "add-member",
                "add_member(\"Sales\", \"a@company.com\")",
                "add_member({group}, {email})",
                false,
            ),
            (
                "remove-member",
                "remove_member(\"Sales\", \"a@company.com\")",
                "remove_member({group}, {email})",
                false,
            ),
            (
                "rename",
                "rename_group(\"Sales\", \"Sales EMEA\")",
                "rename_group({group}, {description})",
                false,
            ),
            (
                "delete",
                "delete_group(\"Project Y\")",
                "delete_group({group})",
                false,
            ),
        ],
    ),
    (
        "export",
        &[("", "users() with write_csv / write_json", "", true)],
    ),
    ("audit", &[("", "", "", true)]),
    ("diff", &[("", "diff(a, b)", "", true)]),
    ("doc", &[("", ":help NAME", "", true)]),
    (
        "onboard",
        &[(
            "",
            "import \"onboard\" as onboard; onboard::person(\"a@company.com\", \"Name\", [\"Sales\"], #{})",
            "import \"onboard\" as onboard; onboard::person({email}, {name}, {groups}, {options})",
            false,
        )],
    ),
    (
        "offboard",
        &[("", "offboard_plan(...) and offboard_run(...)", "", false)],
    ),
    (
        "departments",
        &[("", "ensure_group_levels(\"Engineering/Platform\")", "", false)],
    ),
    ("sync", &[("", "sync_feed(...)", "", false)]),
    ("snapshot", &[("", "snapshot()", "", false)]),
    ("apply", &[("", "", "", false)]),
    ("undo", &[("", "", "", false)]),
    ("config", &[("", "", "", false)]),
    ("sandbox", &[("", "", "", false)]),
    ("run", &[("", ":load FILE", "", false)]),
    ("repl", &[("", "", "", false)]),
    ("completions", &[("", "", "", false)]),
    ("man", &[("", "", "", false)]),
];

/// `template` with the values `words` give it: `{email}` is the one `--email` (as a Rhai
/// string), `{groups}` every `--group` as a list, `{options}` onboard's options. `None` when
/// the line does not give each value exactly once (a flag missing or repeated, one read from
/// a file), or gives one mcsh would have to escape: then the example is shown instead.
fn fill(template: &str, words: &[String]) -> Option<String> {
    if template.is_empty() {
        return None;
    }
    // `--flag value` pairs, and flags without a value (`--lock`, `--create-groups`).
    let mut values: Vec<(String, String)> = Vec::new();
    let mut flags: Vec<String> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let flag = words[i].strip_prefix("--")?;
        match words.get(i + 1).filter(|v| !v.starts_with("--")) {
            Some(v) => {
                values.push((flag.to_string(), v.clone()));
                i += 2;
            }
            None => {
                flags.push(flag.to_string());
                i += 1;
            }
        }
    }
    // Every flag must have its place in the script form: one it has none for (`--lock`,
    // `--strict`, `--emails-from`) would be dropped from what the admin pastes.
    let placed = |k: &str| {
        let key = if k == "group" && template.contains("{groups}") {
            "groups"
        } else {
            k
        };
        template.contains(&format!("{{{key}}}"))
    };
    if values.iter().any(|(k, _)| !placed(k))
        || flags
            .iter()
            .any(|f| !(f == "create-groups" && template.contains("{options}")))
        || values
            .iter()
            .any(|(_, v)| v.contains(['"', '\\']) || v.chars().any(char::is_control))
    {
        return None;
    }
    let quoted = |v: &str| format!("\"{v}\"");
    let one = |key: &str| -> Option<String> {
        let mut found = values.iter().filter(|(k, _)| k == key);
        let (_, v) = found.next()?;
        found.next().is_none().then(|| quoted(v))
    };
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        // Rhai's own `#{ ... }` map, not a value.
        if rest[start + 1..].starts_with(' ') {
            out.push('{');
            rest = &rest[start + 1..];
            continue;
        }
        let len = rest[start..].find('}')?;
        let key = &rest[start + 1..start + len];
        match key {
            "groups" => {
                let groups: Vec<String> = values
                    .iter()
                    .filter(|(k, _)| k == "group")
                    .map(|(_, v)| quoted(v))
                    .collect();
                out.push_str(&format!("[{}]", groups.join(", ")));
            }
            "options" => out.push_str(if flags.iter().any(|f| f == "create-groups") {
                "#{ create_groups: true }"
            } else {
                "#{}"
            }),
            k => out.push_str(&one(k)?),
        }
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    Some(out)
}

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
            if subs.is_some_and(|s| s.iter().any(|(n, ..)| !n.is_empty() && *n == second)) {
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
        .find(|(s, ..)| !s.is_empty() && *s == second)
        .or_else(|| subs.iter().find(|(s, ..)| s.is_empty()));
    let Some((sub, example, template, reads)) = sub else {
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
    let words_after = &words[if sub.is_empty() { 1 } else { 2 }..];
    Form::Say(match fill(template, words_after) {
        Some(script) => format!(
            "{what} is the command-line form; in the REPL write `{script}` (`:help` lists the functions), or run it from your shell as `{shell}`"
        ),
        None if example.is_empty() => format!(
            "{what} is a command-line command, not a script statement: run it from your shell as `{shell}`"
        ),
        None => format!(
            "{what} is the command-line form; in the REPL write it as, for example, `{example}` (`:help` lists the functions), or run it from your shell as `{shell}`"
        ),
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
    fn the_script_form_carries_the_lines_own_values() {
        let say = |line: &str| match classify(line, &target()) {
            Form::Say(text) => text,
            other => panic!("{line}: {other:?}"),
        };
        let text = say("groups add-member --group Marketing --email zoe.costa@example.com");
        assert!(
            text.contains("write `add_member(\"Marketing\", \"zoe.costa@example.com\")`"),
            "{text}"
        );
        assert!(!text.contains("Sales"), "{text}");
        let text = say("users update --email a@x.com --name 'A B'");
        assert!(
            text.contains("`update_user(\"a@x.com\", #{ name: \"A B\" })`"),
            "{text}"
        );
        let text = say(
            "onboard --email n@x.com --name N --group Sales --group 'All Staff' --create-groups",
        );
        assert!(
            text.contains("onboard::person(\"n@x.com\", \"N\", [\"Sales\", \"All Staff\"], #{ create_groups: true })"),
            "{text}"
        );
        let text = say("groups rename --group Sales --description 'Sales EMEA'");
        assert!(
            text.contains("`rename_group(\"Sales\", \"Sales EMEA\")`"),
            "{text}"
        );
        // Values it cannot give exactly once: the example, said to be one.
        for line in [
            "groups add-member --group Ops --email a@x.com --email b@x.com",
            "groups add-member --group Ops --emails-from list.txt",
            "users create --email a@x.com",
            "users update --email a@x.com --name N --lock",
            "groups add-member --group Ops --email a@x.com --strict",
            "groups add-member --group 'say \"hi\"' --email a@x.com",
        ] {
            let text = say(line);
            assert!(
                text.contains("for example, `") && !text.contains("Ops\", \""),
                "{line}: {text}"
            );
        }
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

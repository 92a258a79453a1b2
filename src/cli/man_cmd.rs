//! `mcsh man [COMMAND...]` and `mcsh man --dir DIR`: the manual pages, in roff, generated from
//! the same definitions as `--help` (so they cannot drift from it). `mcsh man > mcsh.1` gives
//! the main page; `--dir` writes it and one page per command (`mcsh-groups-add-member.1`),
//! which release archives carry.

use std::path::Path;

use super::report::Usage;
use super::Cli;

/// Writes the manual page of `mcsh`, or of the subcommand `path` (`groups add-member`), to
/// standard output; with `dir`, every page into that directory.
/// Shows `page` with `man -l -` (which pages it); false when `man` cannot be run, so the roff
/// is printed instead.
fn show_with_man(page: &str) -> bool {
    use std::io::Write;
    let child = std::process::Command::new("man")
        .args(["-l", "-"])
        .stdin(std::process::Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        return false;
    };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(page.as_bytes());
    }
    child.wait().is_ok_and(|s| s.success())
}

pub fn run(path: &[String], dir: Option<&Path>) -> anyhow::Result<()> {
    // The pages are per command: `help` (a command that prints help) has none to list.
    let mut root = without_help(<Cli as clap::CommandFactory>::command());
    root.build();
    if let Some(dir) = dir {
        return write_all(&root, dir);
    }
    let mut cmd = root;
    for (depth, word) in path.iter().enumerate() {
        let found = cmd.find_subcommand(word).cloned();
        let Some(sub) = found else {
            let names = visible_names(&cmd);
            let under = match depth {
                0 => "mcsh".to_string(),
                _ => format!("mcsh {}", path[..depth].join(" ")),
            };
            if names.is_empty() {
                return Err(Usage(format!("{under} has no commands under it")).into());
            }
            let hint = crate::suggest::did_you_mean(&crate::suggest::similar(
                word,
                names.iter().map(String::as_str),
                3,
            ))
            .map(|d| format!(" ({d})"))
            .unwrap_or_default();
            let shown: String = word.chars().take(60).collect();
            return Err(Usage(format!(
                "{under} has no command {shown:?}{hint}; it has: {}",
                names.join(", ")
            ))
            .into());
        };
        cmd = sub;
    }
    let page = render(cmd, path)?;
    // On a terminal, roff is shown as a page (`man -l -`) where `man` is at hand.
    if crate::streams::stdout_is_terminal() && show_with_man(&page) {
        return Ok(());
    }
    // A closed pipe (`| head`) ends the output quietly: report.rs maps it.
    let mut out = crate::streams::stdout();
    std::io::Write::write_all(&mut out, page.as_bytes())?;
    std::io::Write::flush(&mut out)?;
    Ok(())
}

/// `cmd` and every command under it without the `help` subcommand clap would add.
fn without_help(cmd: clap::Command) -> clap::Command {
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    names
        .into_iter()
        .fold(cmd.disable_help_subcommand(true), |cmd, name| {
            cmd.mut_subcommand(name, without_help)
        })
}

/// The commands under `cmd` a user can type.
fn visible_names(cmd: &clap::Command) -> Vec<String> {
    cmd.get_subcommands()
        .filter(|c| !c.is_hide_set() && c.get_name() != "help")
        .map(|c| c.get_name().to_string())
        .collect()
}

/// Writes `mcsh.1` and a page per command, at every depth, into `dir`.
fn write_all(root: &clap::Command, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Usage(format!("cannot make {}: {e}", dir.display())))?;
    let mut pending = vec![(root.clone(), Vec::<String>::new())];
    let mut written = 0;
    while let Some((cmd, path)) = pending.pop() {
        for sub in cmd
            .get_subcommands()
            .filter(|c| !c.is_hide_set() && c.get_name() != "help")
        {
            let mut deeper = path.clone();
            deeper.push(sub.get_name().to_string());
            pending.push((sub.clone(), deeper));
        }
        let file = match path.is_empty() {
            true => "mcsh.1".to_string(),
            false => format!("mcsh-{}.1", path.join("-")),
        };
        let page = render(cmd, &path)?;
        crate::own_files::write_named(&dir.join(&file), page.as_bytes(), false)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", dir.join(&file).display()))?;
        written += 1;
    }
    crate::eprintln_data!("wrote {written} manual pages to {}", dir.display());
    Ok(())
}

/// The page of `cmd`, reached from mcsh by `path`.
fn render(cmd: clap::Command, path: &[String]) -> anyhow::Result<String> {
    let cmd = if path.is_empty() {
        // NAME reads "mcsh - a scriptable shell…", not "mcsh - mcsh: …".
        cmd.about("a scriptable shell for Mimecast's directory (users, groups, membership)")
    } else {
        cmd.name(format!("mcsh-{}", path.join("-")))
            .version(env!("CARGO_PKG_VERSION"))
    };
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd)
        .section("1")
        .manual("mcsh manual")
        .render(&mut page)?;
    Ok(examples_section(&String::from_utf8_lossy(&page)))
}

/// The help's `Examples:` (which clap_mangen puts under `EXTRA`, filled as prose) as an
/// `EXAMPLES` section, one invocation a line.
fn examples_section(page: &str) -> String {
    const EXTRA: &str = ".SH EXTRA\nExamples:\n";
    let Some(at) = page.find(EXTRA) else {
        return page.to_string();
    };
    let body = &page[at + EXTRA.len()..];
    let end = body.find("\n.SH ").map_or(body.len(), |i| i + 1);
    format!(
        "{}.SH EXAMPLES\n.nf\n{}.fi\n{}",
        &page[..at],
        &body[..end],
        &body[end..]
    )
}

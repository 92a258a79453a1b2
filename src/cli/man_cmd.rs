//! `mcsh man [COMMAND...]`: the manual page, in roff, generated from the same definitions as
//! `--help` (so it cannot drift from it). `mcsh man > mcsh.1` installs it; release archives
//! carry `mcsh.1`.

use super::report::Usage;
use super::Cli;

/// Writes the manual page of `mcsh`, or of the subcommand `path` (`groups add-member`).
pub fn run(path: &[String]) -> anyhow::Result<()> {
    let mut root = <Cli as clap::CommandFactory>::command();
    root.build();
    let mut cmd = root;
    for (depth, word) in path.iter().enumerate() {
        let found = cmd.find_subcommand(word).cloned();
        let Some(sub) = found else {
            let names: Vec<String> = cmd
                .get_subcommands()
                .filter(|c| !c.is_hide_set() && c.get_name() != "help")
                .map(|c| c.get_name().to_string())
                .collect();
            let hint = crate::suggest::did_you_mean(&crate::suggest::similar(
                word,
                names.iter().map(String::as_str),
                3,
            ))
            .map(|d| format!(" ({d})"))
            .unwrap_or_default();
            let under = match depth {
                0 => "mcsh".to_string(),
                _ => format!("mcsh {}", path[..depth].join(" ")),
            };
            return Err(Usage(format!(
                "{under} has no command {word:?}{hint}; it has: {}",
                names.join(", ")
            ))
            .into());
        };
        cmd = sub;
    }
    if !path.is_empty() {
        cmd = cmd.name(format!("mcsh-{}", path.join("-")));
    }
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd)
        .section("1")
        .manual("mcsh manual")
        .render(&mut page)?;
    let page = examples_section(&String::from_utf8_lossy(&page));
    // A closed pipe (`| head`) ends the output quietly: report.rs maps it.
    let mut out = std::io::stdout().lock();
    std::io::Write::write_all(&mut out, page.as_bytes())?;
    std::io::Write::flush(&mut out)?;
    Ok(())
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

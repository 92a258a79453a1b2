//! The documentation in the repository stays true: the scripting reference is what `mcsh doc`
//! says today, the manual page comes from the command definitions, and every link between the
//! documents leads to a file that exists.

use std::path::{Path, PathBuf};

use crate::support::isolated;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn run(args: &[&str]) -> (i32, String, String) {
    let home = tempfile::tempdir().unwrap();
    let out = isolated(home.path().to_path_buf())
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_scripting_reference_in_docs_is_what_mcsh_doc_says() {
    let (code, generated, err) = run(&["doc", "--markdown"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        generated.starts_with("# Scripting reference"),
        "{generated}"
    );
    // Every function `mcsh doc` lists has its heading.
    let (_, plain, _) = run(&["doc"]);
    let names: Vec<&str> = plain
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.is_empty())
        .map(|l| l.split('(').next().unwrap().split(": ").next().unwrap())
        .collect();
    assert!(names.len() > 30, "{plain}");
    for name in &names {
        assert!(
            generated.contains(&format!("### `{name}`")),
            "{name} has no heading"
        );
    }
    let kept = std::fs::read_to_string(root().join("docs/scripting-reference.md"))
        .expect("docs/scripting-reference.md");
    assert!(
        kept == generated,
        "docs/scripting-reference.md is out of date: regenerate it with \
         `cargo run -- doc --markdown > docs/scripting-reference.md`"
    );
}

#[test]
fn the_manual_page_covers_mcsh_and_each_command() {
    let (code, page, err) = run(&["man"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        page.starts_with(".ie") || page.contains(".TH mcsh 1"),
        "{page}"
    );
    for command in [
        "users", "groups", "onboard", "offboard", "export", "sync", "undo",
    ] {
        assert!(page.contains(command), "{command} is not in the page");
    }
    let (code, page, err) = run(&["man", "groups", "add-member"]);
    assert_eq!(code, 0, "{err}");
    assert!(page.contains(".TH mcsh-groups-add-member 1"), "{page}");
    assert!(page.contains("\\-\\-group"), "{page}");
    assert!(
        page.contains(".SH EXAMPLES\n.nf\n  mcsh groups add\\-member \\-\\-group Sales"),
        "examples: {page}"
    );

    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = run(&["man", "--dir", dir.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    for page in [
        "mcsh.1",
        "mcsh-users.1",
        "mcsh-users-list.1",
        "mcsh-groups-add-member.1",
    ] {
        let text = std::fs::read_to_string(dir.path().join(page)).unwrap();
        assert!(text.contains(".SH NAME"), "{page}: {text}");
    }
    let (code, _, err) = run(&["man", "users", "list", "extra"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("mcsh users list has no commands under it"),
        "{err}"
    );

    let (code, _, err) = run(&["man", "groups", "add-membr"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("mcsh groups has no command \"add-membr\" (did you mean add-member?"),
        "{err}"
    );
}

/// The relative link targets (`](path)` / `](path#anchor)`) in `text`.
fn links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("](") {
        rest = &rest[at + 2..];
        let end = rest.find(')').unwrap_or(rest.len());
        let target = &rest[..end];
        if !target.contains("://") && !target.starts_with('#') && !target.starts_with("mailto:") {
            out.push(target.split('#').next().unwrap().to_string());
        }
    }
    out
}

#[test]
fn every_link_between_the_documents_leads_to_a_file() {
    let mut files: Vec<PathBuf> = vec![root().join("README.md")];
    files.extend(
        std::fs::read_dir(root().join("docs"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "md")),
    );
    let mut checked = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for target in links(&text) {
            let path = file.parent().unwrap().join(&target);
            assert!(
                path.exists(),
                "{} links to {target}, which does not exist",
                file.display()
            );
            checked += 1;
        }
    }
    // README links every document in docs/.
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    for file in &files[1..] {
        let name = file.file_name().unwrap().to_string_lossy();
        assert!(
            readme.contains(&format!("docs/{name}")),
            "README does not link docs/{name}"
        );
    }
    assert!(checked >= files.len(), "{checked} links in {files:?}");
}

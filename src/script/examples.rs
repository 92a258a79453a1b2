//! The example scripts of `scripts/`, built into the binary: `mcsh examples` lists and prints
//! them, and `mcsh run NAME` runs one where no file of that name is at hand, so the README's
//! tour works from any folder and with nothing but the binary.

/// Each example: its name (the file name without `.rhai`) and its source.
pub const EXAMPLES: &[(&str, &str)] = &[
    (
        "bulk_rename",
        include_str!("../../scripts/bulk_rename.rhai"),
    ),
    (
        "domain_to_csv",
        include_str!("../../scripts/domain_to_csv.rhai"),
    ),
    (
        "domain_to_group",
        include_str!("../../scripts/domain_to_group.rhai"),
    ),
    (
        "engineering_in_all_staff",
        include_str!("../../scripts/engineering_in_all_staff.rhai"),
    ),
    (
        "group_sizes",
        include_str!("../../scripts/group_sizes.rhai"),
    ),
    (
        "users_without_name",
        include_str!("../../scripts/users_without_name.rhai"),
    ),
    (
        "who_is_where",
        include_str!("../../scripts/who_is_where.rhai"),
    ),
];

/// The bundled example `file` names: `group_sizes`, `group_sizes.rhai` or
/// `scripts/group_sizes.rhai` (the README's spelling).
pub fn find(file: &str) -> Option<(&'static str, &'static str)> {
    let name = file.strip_prefix("scripts/").unwrap_or(file);
    let name = name.strip_suffix(".rhai").unwrap_or(name);
    EXAMPLES.iter().find(|(n, _)| *n == name).copied()
}

/// What an example does: the comment lines at its top, without the `//`, up to the usage.
pub fn summary(source: &str) -> String {
    let mut text = Vec::new();
    for line in source.lines().skip_while(|l| l.starts_with("#!")) {
        let Some(comment) = line.strip_prefix("//") else {
            break;
        };
        let comment = comment.trim();
        if comment.is_empty() || comment.starts_with("mcsh ") {
            break;
        }
        text.push(comment);
    }
    text.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_in_scripts_is_bundled_and_found_by_each_spelling() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .filter(|n| n.ends_with(".rhai"))
            .map(|n| n.trim_end_matches(".rhai").to_string())
            .collect();
        on_disk.sort();
        let bundled: Vec<String> = EXAMPLES.iter().map(|(n, _)| n.to_string()).collect();
        assert_eq!(bundled, on_disk);
        for spelling in [
            "group_sizes",
            "group_sizes.rhai",
            "scripts/group_sizes.rhai",
        ] {
            assert_eq!(find(spelling).unwrap().0, "group_sizes");
        }
        assert!(find("nope").is_none());
        assert!(summary(find("group_sizes").unwrap().1).starts_with("Group sizes report"));
    }
}

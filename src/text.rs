//! Text from outside made safe to show: characters that would move or hide text on a
//! terminal (controls, bidi overrides, zero-width ones) escaped. The lowest layer: the API
//! client uses it on what servers say, the CLI on everything it prints.

/// Whether `c` must not reach a terminal raw: controls (C0, DEL, C1), bidi controls and
/// zero-width characters.
pub(crate) fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}'
            | '\u{FEFF}' | '\u{061C}')
}

/// `s` for a terminal: every control, bidi and zero-width character escaped (`\u{1b}`).
pub fn printable(s: &str) -> String {
    if !s.chars().any(is_unsafe) {
        return s.to_string();
    }
    s.chars()
        .map(|c| {
            if is_unsafe(c) {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Like [`printable`], keeping line breaks and tabs (multi-line text a script prints).
pub fn printable_text(s: &str) -> String {
    s.split('\n')
        .map(|line| {
            line.split('\t')
                .map(printable)
                .collect::<Vec<_>>()
                .join("\t")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

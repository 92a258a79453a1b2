//! Reading the CSV files people hand to mcsh: `read_csv` in scripts, and people CSVs for
//! onboarding, offboarding and `mcsh sync`. One reader, so every CSV accepts the same things
//! and its errors read the same.
//!
//! Policy: UTF-8 only (a bad byte names its line), a leading byte-order mark is dropped, a line
//! longer than [`crate::files::MAX_LINE_BYTES`] is refused (it is not the file meant), fields
//! are trimmed, the first row is the header and must name something and no column twice, a
//! missing column is named with the header's actual columns, a row of the wrong width names
//! its line, and a cell mcsh guarded against spreadsheet formulas reads back as it was.

use crate::files::{overlong_line, MAX_LINE_BYTES};

/// A CSV being read: its header, then its rows.
pub struct Sheet<'a> {
    headers: Vec<String>,
    reader: csv::Reader<&'a [u8]>,
}

/// The text of `bytes`, without a leading byte-order mark; a byte that is not UTF-8 is an error
/// naming its line.
pub fn utf8_text(bytes: &[u8]) -> Result<&str, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = 1 + bytes[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        format!("line {line} is not UTF-8 text (save the file as UTF-8)")
    })?;
    Ok(text.strip_prefix('\u{feff}').unwrap_or(text))
}

impl<'a> Sheet<'a> {
    /// Opens the CSV held in `bytes` and reads its header.
    pub fn open(bytes: &'a [u8]) -> Result<Self, String> {
        if let Some(line) = overlong_line(bytes) {
            return Err(format!(
                "line {line} is longer than {} KiB; is this the right file?",
                MAX_LINE_BYTES >> 10
            ));
        }
        if bytes.contains(&0) {
            // UTF-16 (without a byte-order mark) has a NUL in every ASCII character.
            return Err(
                "it holds NUL bytes, so it is not UTF-8 text (UTF-16?); save the file as UTF-8"
                    .into(),
            );
        }
        let text = utf8_text(bytes)?;
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let headers: Vec<String> = reader
            .headers()
            .map_err(|e| row_error(&e))?
            .iter()
            .map(str::to_string)
            .collect();
        if headers.iter().all(String::is_empty) {
            return Err("there is no header row".into());
        }
        // Two columns of one name: readers would disagree on which one counts.
        if let Some(twice) = headers
            .iter()
            .enumerate()
            .find(|(i, h)| !h.is_empty() && headers[..*i].contains(h))
            .map(|(_, h)| h)
        {
            return Err(format!(
                "line 1: the column {twice:?} appears twice; keep one"
            ));
        }
        Ok(Sheet { headers, reader })
    }

    /// The header's column names, in order.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// Reads column `from` as `to` when the header has no `to` (an export's `emailAddress`
    /// is a feed's `email`).
    pub fn alias_column(&mut self, from: &str, to: &str) {
        if self.column(to).is_none() {
            if let Some(i) = self.column(from) {
                self.headers[i] = to.to_string();
            }
        }
    }

    /// The position of column `name`: the one spelt so, else one that differs only in case
    /// (`Email` is `email`; spaces around a name were trimmed when the header was read).
    pub fn column(&self, name: &str) -> Option<usize> {
        self.headers.iter().position(|h| h == name).or_else(|| {
            self.headers
                .iter()
                .position(|h| h.eq_ignore_ascii_case(name))
        })
    }

    /// Fails when the header lacks any of `required` (in any case), naming them and the
    /// columns it has.
    pub fn require(&self, required: &[String]) -> Result<(), String> {
        let missing: Vec<&str> = required
            .iter()
            .filter(|c| self.column(c).is_none())
            .map(String::as_str)
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        // What the file most likely meant: another separator (a spreadsheet's `;` or a tab
        // leaves the whole header one column), or a column spelt nearly so (`group`).
        let hint = match self.headers.as_slice() {
            [one] if one.contains([';', '\t']) => {
                "; the header is one column holding `;` or tabs: save the file as CSV separated by commas".to_string()
            }
            _ => {
                let close: Vec<String> = missing
                    .iter()
                    .filter_map(|m| {
                        let near = crate::suggest::similar(
                            m,
                            self.headers.iter().map(String::as_str),
                            1,
                        );
                        near.first().map(|h| format!("{h:?} for {m}"))
                    })
                    .collect();
                if close.is_empty() {
                    String::new()
                } else {
                    format!("; did you mean {}?", close.join(", "))
                }
            }
        };
        Err(format!(
            "missing column(s) {} (the header has: {}){hint}",
            missing.join(", "),
            self.headers.join(", ")
        ))
    }

    /// The rows after the header; a row of the wrong width is an error naming its line. A
    /// cell mcsh guarded against spreadsheet formulas when it wrote it (`'=…`, `'@…`) reads
    /// back as it was, so an export is a feed that changes nothing.
    pub fn rows(
        &mut self,
    ) -> impl Iterator<Item = Result<csv::StringRecord, String>> + use<'_, 'a> {
        self.reader.records().map(|r| {
            let record = r.map_err(|e| row_error(&e))?;
            if !record.iter().any(|f| unguarded(f).is_some()) {
                return Ok(record);
            }
            let mut plain: csv::StringRecord =
                record.iter().map(|f| unguarded(f).unwrap_or(f)).collect();
            plain.set_position(record.position().cloned());
            Ok(plain)
        })
    }
}

/// The cell without the `'` that [`crate::output::csv_safe`] puts before a formula's first
/// character; `None` when the cell carries no such guard.
fn unguarded(cell: &str) -> Option<&str> {
    let rest = cell.strip_prefix('\'')?;
    let first = rest.trim_start_matches('\'').chars().next();
    matches!(first, Some('=' | '+' | '-' | '@' | '\t' | '\r')).then_some(rest)
}

/// The file's line number of `record` (from 1; 0 when unknown).
pub fn line_of(record: &csv::StringRecord) -> u64 {
    record.position().map_or(0, |p| p.line())
}

/// A CSV reading error in words, naming the line of a row with the wrong width.
fn row_error(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            pos,
            expected_len,
            len,
        } => format!(
            "line {} has {len} fields where the header has {expected_len}",
            pos.as_ref().map_or(0, |p| p.line())
        ),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bom_is_dropped_and_fields_are_trimmed() {
        let mut sheet = Sheet::open("\u{feff}email , name\n a@x.com , A \n".as_bytes()).unwrap();
        assert_eq!(sheet.headers(), ["email", "name"]);
        let row = sheet.rows().next().unwrap().unwrap();
        assert_eq!((&row[0], &row[1]), ("a@x.com", "A"));
        assert_eq!(line_of(&row), 2);
    }

    #[test]
    fn bad_input_names_its_line() {
        let not_utf8 = Sheet::open(b"email\na@x.com\n\xff\n").err().unwrap();
        assert_eq!(
            not_utf8,
            "line 3 is not UTF-8 text (save the file as UTF-8)"
        );
        let mut sheet = Sheet::open(b"email,name\na@x.com\n").unwrap();
        let err = sheet.rows().next().unwrap().unwrap_err();
        assert_eq!(err, "line 2 has 1 fields where the header has 2");
        let long = format!("email\n{}\n", "a".repeat(MAX_LINE_BYTES + 1));
        assert!(Sheet::open(long.as_bytes())
            .err()
            .unwrap()
            .starts_with("line 2 is longer than"));
        assert_eq!(Sheet::open(b"").err().unwrap(), "there is no header row");
        assert_eq!(
            Sheet::open(b"\0e\0m\0a\0i\0l\0\n").err().unwrap(),
            "it holds NUL bytes, so it is not UTF-8 text (UTF-16?); save the file as UTF-8"
        );
        assert_eq!(
            Sheet::open(b"email,name,email\n").err().unwrap(),
            "line 1: the column \"email\" appears twice; keep one"
        );
    }

    #[test]
    fn cells_guarded_against_formulas_read_back_as_written() {
        let mut sheet =
            Sheet::open(b"email,name\na@x.com,'=1+1\nb@x.com,'@Nadia\nc@x.com,'Tis\n").unwrap();
        let names: Vec<String> = sheet.rows().map(|r| r.unwrap()[1].to_string()).collect();
        assert_eq!(names, ["=1+1", "@Nadia", "'Tis"]);
        // The guard is exactly what output::csv_safe writes, quotes before a formula too.
        for cell in ["=1+1", "+1", "-x", "@y", "'=quoted", "''=dbl"] {
            let written = crate::output::csv_safe(cell.to_string());
            assert_eq!(unguarded(&written), Some(cell));
        }
    }

    #[test]
    fn columns_are_found_in_any_case() {
        let mut sheet = Sheet::open(b" Email , NAME ,Groups\na@x.com,A,Sales\n").unwrap();
        assert_eq!(sheet.column("email"), Some(0));
        assert_eq!(sheet.column("name"), Some(1));
        assert!(sheet
            .require(&["email".into(), "name".into(), "groups".into()])
            .is_ok());
        sheet.alias_column("emailAddress", "email");
        assert_eq!(sheet.column("email"), Some(0));
        let mut export = Sheet::open(b"EmailAddress,name\na@x.com,A\n").unwrap();
        export.alias_column("emailAddress", "email");
        assert_eq!(export.column("email"), Some(0));
    }

    #[test]
    fn a_missing_column_is_named_with_the_header() {
        let mut sheet = Sheet::open(b"emailAddress,groups\n").unwrap();
        let want = ["email".to_string(), "name".to_string()];
        assert_eq!(
            sheet.require(&want).unwrap_err(),
            "missing column(s) email, name (the header has: emailAddress, groups); did you mean \"emailAddress\" for email?"
        );
        sheet.alias_column("emailAddress", "email");
        assert_eq!(sheet.column("email"), Some(0));
        assert_eq!(
            sheet.require(&want).unwrap_err(),
            "missing column(s) name (the header has: email, groups)"
        );
    }

    fn missing(text: &str) -> String {
        let sheet = Sheet::open(text.as_bytes()).unwrap();
        sheet
            .require(&["email".into(), "name".into(), "groups".into()])
            .unwrap_err()
    }

    #[test]
    fn a_missing_column_names_what_the_file_most_likely_meant() {
        let err = missing("email;name;groups\na@x.com;A;Sales\n");
        assert!(
            err.contains("save the file as CSV separated by commas"),
            "{err}"
        );
        let err = missing("email,name,group\na@x.com,A,Sales\n");
        assert!(err.contains("did you mean \"group\" for groups?"), "{err}");
        // One column with no separator in it: a column of its own, misspelt.
        let err = missing("emial\na@x.com\n");
        assert!(err.contains("did you mean \"emial\" for email?"), "{err}");
        assert!(!err.contains("separated"), "{err}");
        let err = missing("email,name\na@x.com,A\n");
        assert!(
            !err.contains("did you mean") && !err.contains("separated"),
            "{err}"
        );
    }
}

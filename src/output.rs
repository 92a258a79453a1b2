//! Rendering rows as `table`, `json`, `jsonl` or `csv`.
//!
//! Policy: rows are JSON objects with the API's field names. `jsonl` and `csv` stream a row
//! as soon as it arrives, so a 100 000-user listing never sits in memory; `json` is one
//! document (an array, or an object for a single record); `table` is for people: columns
//! picked per command, fitted to the terminal, long opaque ids shortened.
//!
//! Two defences, because names come from the directory and anyone can set one:
//! - text for people (tables, notes, errors) shows control, bidi and zero-width characters
//!   escaped (`\u{1b}`), so a name cannot repaint the terminal or reverse what it shows;
//! - CSV cells that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`,
//!   tab or carriage return) get a leading `'`, as OWASP recommends, unless raw CSV is asked
//!   for (`--csv-raw`). JSON is always exact.

use crate::text::is_unsafe;
pub use crate::text::{printable, printable_text};
use std::io::{self, Write};

use serde_json::Value;

/// A comfy-table preset that draws only the rule under the header.
const HEADER_RULE_ONLY: comfy_table::TableStyle = comfy_table::TableStyle::new()
    .header_separator(comfy_table::LineStyle::none().fill('─').junction('─'));

/// The key of the line that names a listing's columns, for a fleet's report.
pub const COLUMNS_KEY: &str = "mcshColumns";

/// The key of a line a fleet's tenant writes for a line its script printed
/// (`{"mcshPrinted": "text", "mcshMark": …}`): the fleet shows the text exactly, as printed,
/// and never reads it as a row or as the tenant's columns.
pub const PRINTED_KEY: &str = "mcshPrinted";

/// The second key of every line a fleet's tenant writes for the fleet itself (its columns, a
/// printed line): the fleet run's own random mark, so no row of data, whatever its keys, is
/// ever taken for one.
pub const MARK_KEY: &str = "mcshMark";

/// `{key: value, "mcshMark": mark}`: a line for the fleet's report (see [`MARK_KEY`]), with
/// the fleet run's mark when this thread is a fleet part's.
pub fn fleet_line(key: &str, value: serde_json::Value) -> serde_json::Value {
    let mark = crate::streams::fleet_mark().unwrap_or_default();
    serde_json::json!({ key: value, MARK_KEY: mark })
}

/// A result format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for people.
    Table,
    /// One JSON document.
    Json,
    /// One JSON object per line.
    Jsonl,
    /// Comma-separated values with a header row.
    Csv,
}

/// Whether the result is one record or a list (only `json` differs: object or array).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A list of records.
    List,
    /// Exactly one record.
    Single,
}

/// Standard output as a printer holds it: rows are gathered and written a buffer at a time
/// (on a terminal, a row at a time), so a command printing thousands of rows into a pipe makes
/// a few writes, not one per row.
pub type Stdout = io::BufWriter<crate::streams::Out>;

impl Printer<Stdout> {
    /// A printer of rows on standard output: buffered, its errors naming standard output,
    /// and streaming row by row (with escaped cells) when it is a terminal.
    pub fn on_stdout(format: Format, shape: Shape, columns: &[&str]) -> Self {
        let out = crate::streams::stdout();
        let terminal = out.is_terminal();
        Printer::new(io::BufWriter::new(out), format, shape, columns)
            .writing_to("standard output")
            .on_terminal(terminal)
    }
}

/// Writes rows in one format to one writer.
pub struct Printer<W: Write> {
    format: Format,
    shape: Shape,
    columns: Vec<String>,
    out: W,
    buffered: Vec<Value>,
    csv_header_written: bool,
    width: Option<u16>,
    count: usize,
    raw_csv: bool,
    terminal: bool,
    /// What `out` is, for errors ("standard output"); `None` for a buffer of the caller's.
    label: Option<&'static str>,
}

impl<W: Write> Printer<W> {
    /// A printer; `columns` are the fields shown by `table` and `csv`.
    pub fn new(out: W, format: Format, shape: Shape, columns: &[&str]) -> Self {
        Printer {
            format,
            shape,
            columns: columns.iter().map(|c| c.to_string()).collect(),
            out,
            buffered: Vec::new(),
            csv_header_written: false,
            width: None,
            count: 0,
            raw_csv: false,
            terminal: false,
            label: None,
        }
    }

    /// Names what the rows go to in the errors writing them ("cannot write to standard
    /// output: No space left on device"), keeping each error's kind.
    pub fn writing_to(mut self, label: &'static str) -> Self {
        self.label = Some(label);
        self
    }

    fn named(&self, e: io::Error) -> io::Error {
        match self.label {
            Some(label) => io::Error::new(e.kind(), format!("cannot write to {label}: {e}")),
            None => e,
        }
    }

    /// Output goes to a terminal: CSV cells get control and bidi characters escaped (a
    /// stored name must not drive the terminal), as tables do; files and pipes get the data.
    pub fn on_terminal(mut self, terminal: bool) -> Self {
        self.terminal = terminal;
        self
    }

    /// Writes CSV cells exactly, formulas included (`--csv-raw`).
    pub fn with_raw_csv(mut self, raw: bool) -> Self {
        self.raw_csv = raw;
        self
    }

    /// Fits tables to `width` columns of text.
    pub fn with_width(mut self, width: Option<u16>) -> Self {
        self.width = width;
        self
    }

    /// Adds one row.
    pub fn row(&mut self, row: &Value) -> io::Result<()> {
        self.add(row).map_err(|e| self.named(e))
    }

    /// Adds one row given as the text of a JSON object, written as it is in `jsonl` (a
    /// fleet passes its tenants' rows on without reading them into values); other formats
    /// read it.
    pub fn row_json(&mut self, text: &str) -> io::Result<()> {
        if self.format != Format::Jsonl {
            let row: Value = serde_json::from_str(text)?;
            return self.row(&row);
        }
        self.count += 1;
        self.jsonl(text.to_string()).map_err(|e| self.named(e))
    }

    /// Writes one row's JSON text as a line, after the columns line a fleet reads first.
    fn jsonl(&mut self, text: String) -> io::Result<()> {
        // A fleet's part starts its JSON lines with the columns its table would show, so the
        // fleet's report shows what the command shows.
        if self.count == 1 && crate::streams::part().is_some() {
            let head = fleet_line(COLUMNS_KEY, serde_json::json!(self.columns));
            writeln!(self.out, "{head}")?;
        }
        self.out.write_all(self.json_text(text).as_bytes())?;
        self.out.write_all(b"\n")?;
        self.row_done()
    }

    fn add(&mut self, row: &Value) -> io::Result<()> {
        self.count += 1;
        match self.format {
            Format::Jsonl => self.jsonl(serde_json::to_string(row)?),
            Format::Csv => {
                if !self.csv_header_written {
                    self.csv_header_written = true;
                    let header = csv_line(&self.columns)?;
                    self.out.write_all(&header)?;
                }
                let record: Vec<String> = self
                    .columns
                    .iter()
                    .map(|c| {
                        let text = cell(row.get(c), false);
                        let text = if self.raw_csv { text } else { csv_safe(text) };
                        if self.terminal {
                            printable(&text)
                        } else {
                            text
                        }
                    })
                    .collect();
                let line = csv_line(&record)?;
                self.out.write_all(&line)?;
                self.row_done()
            }
            Format::Json | Format::Table => {
                self.buffered.push(row.clone());
                Ok(())
            }
        }
    }

    /// Writes out the streamed rows so far (`jsonl`, `csv`): a listing calls this after each
    /// page, so a reader downstream gets rows as pages arrive, a page at a time.
    pub fn flush(&mut self) -> io::Result<()> {
        match self.format {
            Format::Jsonl | Format::Csv => self.out.flush().map_err(|e| self.named(e)),
            Format::Json | Format::Table => Ok(()),
        }
    }

    /// A row streamed to a terminal is shown as it comes; elsewhere it waits in the buffer.
    fn row_done(&mut self) -> io::Result<()> {
        if self.terminal {
            self.out.flush()
        } else {
            Ok(())
        }
    }

    /// JSON text as it is written: for a terminal, see [`json_for_terminal`]; anywhere else
    /// exactly as serialized.
    fn json_text(&self, text: String) -> String {
        if self.terminal {
            json_for_terminal(&text)
        } else {
            text
        }
    }

    /// How many rows were added.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Writes what was buffered and flushes.
    pub fn finish(mut self) -> io::Result<()> {
        let ended = self.end();
        ended.map_err(|e| self.named(e))
    }

    fn end(&mut self) -> io::Result<()> {
        match self.format {
            Format::Json => {
                let doc = match (self.shape, self.buffered.len()) {
                    (Shape::Single, 1) => self.buffered.pop().expect("one row"),
                    _ => Value::Array(std::mem::take(&mut self.buffered)),
                };
                let text = serde_json::to_string_pretty(&doc)?;
                self.out.write_all(self.json_text(text).as_bytes())?;
                self.out.write_all(b"\n")?;
            }
            Format::Table => {
                if !self.buffered.is_empty() {
                    let table = self.table();
                    writeln!(self.out, "{table}")?;
                }
            }
            Format::Csv if !self.csv_header_written => {
                let header = csv_line(&self.columns)?;
                self.out.write_all(&header)?;
            }
            Format::Csv | Format::Jsonl => {}
        }
        self.out.flush()
    }

    fn table(&self) -> comfy_table::Table {
        let mut table = comfy_table::Table::new();
        table.load_style(HEADER_RULE_ONLY);
        // Fit to the terminal, unless it reports no sensible width (0 columns under some
        // pseudo-terminals): then the table keeps its natural width.
        match self.width.or_else(|| table.width()) {
            Some(w) if w >= 20 => {
                table.set_content_arrangement(comfy_table::ContentArrangement::Dynamic);
                table.set_width(w);
            }
            _ => {
                table.set_content_arrangement(comfy_table::ContentArrangement::Disabled);
            }
        }
        table.set_header(&self.columns);
        for row in &self.buffered {
            table.add_row(
                self.columns
                    .iter()
                    .map(|c| printable(&cell(row.get(c), true))),
            );
        }
        table
    }
}

/// One CSV record, quoted as needed, with its line end.
fn csv_line(fields: &[String]) -> io::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(fields).map_err(io::Error::other)?;
    w.into_inner().map_err(|e| io::Error::other(e.to_string()))
}

/// Renders one value (what `mcsh -e` and the REPL show): with `table`, a list of records is a
/// table, a record a key/value table, a string itself; otherwise JSON in the asked form.
/// `()`/null renders as nothing.
pub fn render_value(value: &Value, format: Format, width: Option<u16>) -> String {
    let records = |items: &[Value]| !items.is_empty() && items.iter().all(Value::is_object);
    let table_of = |rows: &[Value], columns: &[String]| -> String {
        let cols: Vec<&str> = columns.iter().map(String::as_str).collect();
        let mut buf = Vec::new();
        let mut p = Printer::new(&mut buf, format, Shape::List, &cols).with_width(width);
        for r in rows {
            let _ = p.row(r);
        }
        let _ = p.finish();
        String::from_utf8_lossy(&buf).trim_end().to_string()
    };
    match (format, value) {
        (_, Value::Null) => String::new(),
        (Format::Table | Format::Csv, Value::Array(items)) if records(items) => {
            table_of(items, &columns_of(items))
        }
        (Format::Table, Value::Object(map)) => {
            let keys = columns_of(std::slice::from_ref(value));
            let rows: Vec<Value> = keys
                .iter()
                .map(|k| serde_json::json!({ "key": k, "value": map[k] }))
                .collect();
            table_of(&rows, &["key".to_string(), "value".to_string()])
        }
        (Format::Table, Value::String(s)) => printable_text(s),
        (Format::Table, other) => other.to_string(),
        (Format::Jsonl, Value::Array(items)) => items
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join("\n"),
        (Format::Jsonl, other) => other.to_string(),
        (_, other) => serde_json::to_string_pretty(other).unwrap_or_default(),
    }
}

/// A CSV cell a spreadsheet will not run: one starting with `=`, `+`, `-`, `@`, tab or
/// carriage return (after any quotes) gets a leading `'` (OWASP's advice against CSV
/// injection), which `csv_in` takes off again when mcsh reads the file.
pub fn csv_safe(text: String) -> String {
    // A cell that already starts with quotes before a formula character gets one more, so
    // reading takes exactly one off and every cell reads back as it was.
    match text.trim_start_matches('\'').chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text,
    }
}

/// Serialized JSON for a terminal: characters that would move or hide text (bidi overrides,
/// C1 controls, zero-width ones) as `\uXXXX` escapes, which read back as the same value.
/// Serialized JSON holds no other raw control character than the pretty form's line breaks.
pub fn json_for_terminal(text: &str) -> String {
    let escape = |c: char| c != '\n' && is_unsafe(c);
    if !text.chars().any(escape) {
        return text.to_string();
    }
    text.chars()
        .map(|c| {
            if escape(c) {
                let mut units = [0u16; 2];
                c.encode_utf16(&mut units)
                    .iter()
                    .map(|u| format!("\\u{u:04x}"))
                    .collect()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// A list in one cell: items separated by `;`, a `;` or `\` inside an item escaped with `\`
/// ([`split_list`] reads it back).
pub fn join_list(items: impl Iterator<Item = String>) -> String {
    items
        .map(|i| i.replace('\\', "\\\\").replace(';', "\\;"))
        .collect::<Vec<_>>()
        .join(";")
}

/// The items of a cell [`join_list`] wrote.
pub fn split_list(text: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(next @ (';' | '\\')) => out.last_mut().expect("one item").push(next),
                Some(other) => {
                    let item = out.last_mut().expect("one item");
                    item.push('\\');
                    item.push(other);
                }
                None => out.last_mut().expect("one item").push('\\'),
            },
            ';' => out.push(String::new()),
            c => out.last_mut().expect("one item").push(c),
        }
    }
    out
}

/// The order the commands print record fields in, merged into one: a group or an address
/// first, then names, then what describes them, then outcomes, ids last. Every command's
/// column list is in this order, so a script's rows print as the command's do.
pub const FIELD_ORDER: &[&str] = &[
    "group",
    "emailAddress",
    "item",
    "description",
    "path",
    "name",
    "domain",
    "alias",
    "aliases",
    "aliasFor",
    "addressType",
    "type",
    "internal",
    "userCount",
    "folderCount",
    "source",
    "accountLocked",
    "accountDisabled",
    "groups",
    "viaDomain",
    "via",
    "step",
    "endpoint",
    "status",
    "message",
    "code",
    "parentId",
    "id",
];

/// Every key of `rows`: those of [`FIELD_ORDER`] in that order, then any others in the order
/// first seen (records from scripts are maps whose keys come sorted).
pub fn columns_of(rows: &[Value]) -> Vec<String> {
    let mut cols: Vec<String> = Vec::new();
    for row in rows {
        if let Value::Object(m) = row {
            for k in m.keys() {
                if !cols.contains(k) {
                    cols.push(k.clone());
                }
            }
        }
    }
    let rank = |c: &String| {
        FIELD_ORDER
            .iter()
            .position(|f| f == c)
            .unwrap_or(FIELD_ORDER.len())
    };
    // A stable sort: unknown keys keep their order, after the known ones.
    cols.sort_by_key(rank);
    cols
}

/// The text of one field; `short` abbreviates long opaque ids for tables.
fn cell(v: Option<&Value>, short: bool) -> String {
    let text = match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => join_list(items.iter().map(|i| cell(Some(i), short))),
        Some(other) => other.to_string(),
    };
    if short && text.len() > 40 && !text.contains(char::is_whitespace) {
        // The end, not the start: real ids share their first characters.
        return crate::api::ids::short(&text);
    }
    text
}

/// An option and its value as command-line words: `--flag=value` when the value starts with
/// `-` (else the command line would read it as an option of its own), `--flag value` otherwise.
pub fn flag_words(flag: &str, value: &str) -> Vec<String> {
    if value.starts_with('-') {
        vec![format!("{flag}={value}")]
    } else {
        vec![flag.to_string(), value.to_string()]
    }
}

/// [`flag_words`] as a shell reads them: `--email 'o'\''brien@x.com'`, `--email=-a@x.com`.
pub fn shell_flag(flag: &str, value: &str) -> String {
    flag_words(flag, value)
        .iter()
        .map(|w| shell_word(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A path given as an argument, as a shell reads it: `./` before one starting with `-`, which
/// the command line would read as an option.
pub fn shell_path(path: &str) -> String {
    if path.starts_with('-') {
        shell_word(&format!("./{path}"))
    } else {
        shell_word(path)
    }
}

/// A command to paste: `prefix` (`mcsh ` and the flags that chose the tenant, each followed
/// by a space), then `words`, ending with the last word.
pub fn command_line(prefix: &str, words: &str) -> String {
    format!("{prefix}{words}").trim_end().to_string()
}

/// `word` as a shell reads it: bare when it is plain, in single quotes otherwise.
pub fn shell_word(word: &str) -> String {
    // zsh reads a leading `=` as "the path of this command" (`=ls` is `/bin/ls`).
    if !word.is_empty()
        && !word.starts_with('=')
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:@+,".contains(c))
    {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shell_words_are_bare_only_when_no_shell_reads_more_into_them() {
        assert_eq!(
            shell_word("bob.hughes@company.com"),
            "bob.hughes@company.com"
        );
        assert_eq!(shell_word("--email=x@company.com"), "--email=x@company.com");
        assert_eq!(shell_word("=ls"), "'=ls'");
        assert_eq!(shell_word("a b"), "'a b'");
        assert_eq!(shell_word("o'q"), "'o'\\''q'");
        assert_eq!(shell_word(""), "''");
    }

    /// A writer that keeps what reached it through flushes, as a terminal would show it.
    #[derive(Default)]
    struct Shown {
        pending: Vec<u8>,
        shown: Vec<u8>,
    }

    impl Write for Shown {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.pending.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            self.shown.append(&mut self.pending);
            Ok(())
        }
    }

    /// A writer whose every write fails as a full disk does.
    struct Full;

    impl Write for Full {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from(io::ErrorKind::StorageFull))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn an_option_or_path_starting_with_a_dash_is_never_read_as_an_option() {
        assert_eq!(flag_words("--email", "a@x.com"), ["--email", "a@x.com"]);
        assert_eq!(flag_words("--email", "-a@x.com"), ["--email=-a@x.com"]);
        assert_eq!(
            shell_flag("--email", "o'b@x.com"),
            "--email 'o'\\''b@x.com'"
        );
        assert_eq!(shell_flag("--profile", "-x y"), "'--profile=-x y'");
        assert_eq!(shell_path("-plan.json"), "./-plan.json");
        assert_eq!(shell_path("/tmp/-p.json"), "/tmp/-p.json");
        assert_eq!(shell_path("my plan.json"), "'my plan.json'");
    }

    #[test]
    fn an_error_writing_rows_names_where_they_went_and_keeps_its_kind() {
        for format in [Format::Jsonl, Format::Json] {
            let mut p =
                Printer::new(Full, format, Shape::List, &["a"]).writing_to("standard output");
            let row = p.row(&json!({"a": 1}));
            let e = match format {
                Format::Jsonl => row.unwrap_err(),
                _ => p.finish().unwrap_err(),
            };
            assert_eq!(e.kind(), io::ErrorKind::StorageFull);
            assert!(
                e.to_string()
                    .starts_with("cannot write to standard output: "),
                "{e}"
            );
        }
        // A buffer of the caller's keeps the error as it came.
        let e = Printer::new(Full, Format::Jsonl, Shape::List, &["a"])
            .row(&json!({"a": 1}))
            .unwrap_err();
        assert!(!e.to_string().contains("standard output"), "{e}");
    }

    #[test]
    fn streamed_rows_show_at_once_on_a_terminal_and_wait_in_the_buffer_elsewhere() {
        for format in [Format::Jsonl, Format::Csv] {
            for terminal in [true, false] {
                let mut out = Shown::default();
                let mut p = Printer::new(&mut out, format, Shape::List, &["emailAddress"])
                    .on_terminal(terminal);
                p.row(&json!({"emailAddress": "a@x.com"})).unwrap();
                let shown = String::from_utf8(p.out.shown.clone()).unwrap();
                assert_eq!(shown.contains("a@x.com"), terminal, "{format:?} {shown:?}");
                p.row(&json!({"emailAddress": "b@x.com"})).unwrap();
                // A listing's page ends: its rows are written out wherever they go.
                p.flush().unwrap();
                let shown = String::from_utf8(p.out.shown.clone()).unwrap();
                assert!(
                    shown.contains("a@x.com") && shown.contains("b@x.com"),
                    "{shown}"
                );
                p.finish().unwrap();
                assert!(String::from_utf8(out.shown).unwrap().contains("a@x.com"));
            }
        }
    }

    #[test]
    fn lists_in_a_cell_round_trip_with_separators_in_names() {
        let names = ["R;D", "Back\\slash", "Sales"];
        let cell = join_list(names.iter().map(|s| s.to_string()));
        assert_eq!(cell, "R\\;D;Back\\\\slash;Sales");
        assert_eq!(split_list(&cell), names);
        assert_eq!(split_list("Sales;Marketing"), ["Sales", "Marketing"]);
    }

    #[test]
    fn terminal_escapes_and_bidi_are_shown_escaped() {
        let evil = "Grp\u{1b}[1;31mX\rOVER\u{202E}txt\u{200B}\u{8}";
        let shown = printable(evil);
        assert!(!shown.chars().any(is_unsafe), "{shown}");
        assert!(
            shown.contains("\\u{1b}") && shown.contains("\\u{202e}"),
            "{shown}"
        );
        assert_eq!(printable("Sales Team"), "Sales Team");
        assert_eq!(printable_text("a\nb\tc"), "a\nb\tc");
        let table = render(Format::Table, Shape::List, &[json!({"emailAddress": evil})]);
        assert!(
            !table.contains('\u{1b}') && !table.contains('\u{202E}'),
            "{table}"
        );
        let json = render(Format::Json, Shape::List, &[json!({"emailAddress": evil})]);
        let back: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back[0]["emailAddress"], evil, "JSON stays exact");
    }

    #[test]
    fn csv_cells_that_spreadsheets_run_are_neutralised_unless_raw() {
        let row = json!({"emailAddress": "=HYPERLINK(\"http://x\")", "name": "+1", "domain": "-2", "alias": "@SUM(A1)"});
        let cols = ["emailAddress", "name", "domain", "alias"];
        let mut buf = Vec::new();
        let mut p = Printer::new(&mut buf, Format::Csv, Shape::List, &cols);
        p.row(&row).unwrap();
        p.finish().unwrap();
        let text = String::from_utf8(buf).unwrap();
        let line = text.lines().nth(1).unwrap();
        assert_eq!(line, "\"'=HYPERLINK(\"\"http://x\"\")\",'+1,'-2,'@SUM(A1)");
        let mut buf = Vec::new();
        let mut p = Printer::new(&mut buf, Format::Csv, Shape::List, &cols).with_raw_csv(true);
        p.row(&row).unwrap();
        p.finish().unwrap();
        assert!(String::from_utf8(buf).unwrap().contains("\n\"=HYPERLINK"));
    }

    fn render(format: Format, shape: Shape, rows: &[Value]) -> String {
        let mut buf = Vec::new();
        let mut p = Printer::new(&mut buf, format, shape, &["emailAddress", "alias"]);
        for r in rows {
            p.row(r).unwrap();
        }
        p.finish().unwrap();
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn formats() {
        let rows = [
            json!({"emailAddress": "a@x.com", "alias": ["b@x.com", "c@x.com"]}),
            json!({"emailAddress": "d,e@x.com"}),
        ];
        assert_eq!(render(Format::Jsonl, Shape::List, &rows).lines().count(), 2);
        assert_eq!(
            render(Format::Csv, Shape::List, &rows),
            "emailAddress,alias\na@x.com,b@x.com;c@x.com\n\"d,e@x.com\",\n"
        );
        let json: Value = serde_json::from_str(&render(Format::Json, Shape::List, &rows)).unwrap();
        assert_eq!(json.as_array().unwrap().len(), 2);
        let single: Value =
            serde_json::from_str(&render(Format::Json, Shape::Single, &rows[..1])).unwrap();
        assert_eq!(single["emailAddress"], "a@x.com");
        assert!(render(Format::Table, Shape::List, &rows).contains("a@x.com"));
        assert_eq!(
            render(Format::Csv, Shape::List, &[]),
            "emailAddress,alias\n"
        );
        assert_eq!(render(Format::Json, Shape::List, &[]).trim(), "[]");
    }

    #[test]
    fn csv_on_a_terminal_escapes_what_would_drive_it() {
        let row = serde_json::json!({ "name": "\u{1b}]0;pwned\u{7}Evil" });
        let mut buf = Vec::new();
        let mut p = Printer::new(&mut buf, Format::Csv, Shape::List, &["name"]).on_terminal(true);
        p.row(&row).unwrap();
        p.finish().unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}'),
            "{text:?}"
        );
        let mut raw = Vec::new();
        let mut p = Printer::new(&mut raw, Format::Csv, Shape::List, &["name"]);
        p.row(&row).unwrap();
        p.finish().unwrap();
        assert!(
            String::from_utf8(raw).unwrap().contains('\u{1b}'),
            "into a file, CSV is the data as stored"
        );
    }

    #[test]
    fn tables_shorten_opaque_ids() {
        let id = format!("eNo{}end-of-the-id", "x".repeat(240));
        // The end shows: real ids share their beginning.
        assert_eq!(cell(Some(&json!(id)), true), "…nd-of-the-id");
        assert_eq!(cell(Some(&json!(id)), false).len(), 256);
    }

    #[test]
    fn json_on_a_terminal_escapes_what_would_move_text_and_reads_back_the_same() {
        let evil = "a\u{202e}moc.live\u{200b}\u{85}@x.com";
        let row = json!({ "emailAddress": evil });
        for format in [Format::Json, Format::Jsonl] {
            let mut buf = Vec::new();
            let mut p =
                Printer::new(&mut buf, format, Shape::List, &["emailAddress"]).on_terminal(true);
            p.row(&row).unwrap();
            p.finish().unwrap();
            let text = String::from_utf8(buf).unwrap();
            assert!(!text.chars().any(|c| c != '\n' && is_unsafe(c)), "{text:?}");
            assert!(
                text.contains("\\u202e") && text.contains("\\u200b") && text.contains("\\u0085"),
                "{text}"
            );
            let back: Value = serde_json::from_str(text.trim()).unwrap();
            let back = if format == Format::Json {
                back[0].clone()
            } else {
                back
            };
            assert_eq!(back["emailAddress"], evil, "the same value");
        }
        // Into a pipe, exactly as serialized.
        let piped = render(Format::Jsonl, Shape::List, &[row]);
        assert!(piped.contains('\u{202e}'));
    }
}

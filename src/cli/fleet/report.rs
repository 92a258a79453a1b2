//! A fleet run's one report: every tenant's rows with `profile` first, a line per tenant on
//! how it ended, and the exit code of the whole.
//!
//! Policy: rows come in the fleet's order of tenants (the same every run), each tenant's in
//! its own order. A part's output line that is not JSON (a script's `print`) becomes a row
//! with an `output` column, and a value that is not an object one with a `value` column:
//! nothing a tenant printed is lost.

use serde_json::{Map, Value};

use super::spawn::Done;
use crate::cli::report::FleetEnded;
use crate::cli::Ctx;
use crate::output::{Format, Shape, COLUMNS_KEY, MARK_KEY, PRINTED_KEY};

/// The keys of a JSON object's text in the order written (serde_json's maps sort them).
fn keys_in_order(line: &str) -> Vec<String> {
    struct Keys(Vec<String>);
    impl<'de> serde::de::Visitor<'de> for &mut Keys {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            while let Some(k) = map.next_key::<String>()? {
                map.next_value::<serde::de::IgnoredAny>()?;
                self.0.push(k);
            }
            Ok(())
        }
    }
    let mut keys = Keys(Vec::new());
    let mut de = serde_json::Deserializer::from_str(line);
    let _ = serde::Deserializer::deserialize_map(&mut de, &mut keys);
    keys.0
}

/// Adds `column` to `columns` unless it is there.
fn add_column(columns: &mut Vec<String>, column: &str) {
    if !columns.iter().any(|c| c == column) {
        columns.push(column.to_string());
    }
}

/// The value under `key` of a line the part wrote for the fleet itself: exactly that key
/// and the fleet run's `mark` ([`MARK_KEY`]). A row of data, whatever its keys, is never one.
fn for_the_fleet<'a>(fields: &'a Map<String, Value>, key: &str, mark: &str) -> Option<&'a Value> {
    let marked = !mark.is_empty()
        && fields.len() == 2
        && fields.get(MARK_KEY).and_then(Value::as_str) == Some(mark);
    marked.then(|| fields.get(key)).flatten()
}

/// The columns a report has met: those the parts named, then any other key in the order
/// first met.
#[derive(Default)]
struct Columns {
    named: Vec<String>,
    others: Vec<String>,
}

impl Columns {
    /// The columns to show: `profile`, then the columns the parts' tables show; without any,
    /// every key met. What no table named (a script's printed line, a bare value) keeps its
    /// column either way.
    fn shown(self) -> Vec<String> {
        let mut columns = vec!["profile".to_string()];
        let kept = self
            .others
            .iter()
            .filter(|c| self.named.is_empty() || *c == "value" || *c == "output");
        for c in self.named.iter().chain(kept) {
            add_column(&mut columns, c);
        }
        columns
    }
}

/// The row of the report that `line` of part `d` makes, with `profile` first; `None` for the
/// line naming the part's columns. `head`: no row of the part came before this line.
fn row_of(d: &Done, line: &str, head: &mut bool, columns: &mut Columns) -> Option<Value> {
    let mut row = Map::new();
    row.insert("profile".into(), Value::String(d.profile.clone()));
    match serde_json::from_str::<Value>(line) {
        Ok(Value::Object(fields)) => {
            // Only a line before a part's first row may name its columns (mcsh writes it
            // there); printed lines come wrapped, so they name nothing.
            let named = for_the_fleet(&fields, COLUMNS_KEY, &d.mark);
            match (named, for_the_fleet(&fields, PRINTED_KEY, &d.mark)) {
                (Some(Value::Array(cols)), _) if *head => {
                    for c in cols.iter().filter_map(Value::as_str) {
                        add_column(&mut columns.named, c);
                    }
                    return None;
                }
                (_, Some(Value::String(text))) => {
                    // A printed line, exactly: blank, indented or shaped like JSON.
                    add_column(&mut columns.others, "output");
                    row.insert("output".into(), Value::String(text.clone()));
                    return Some(Value::Object(row));
                }
                _ => {}
            }
            // Only needed while no part has named its columns (a script's maps): read again
            // for its keys, a line costs twice.
            if columns.named.is_empty() {
                for k in keys_in_order(line) {
                    add_column(&mut columns.others, &k);
                }
            }
            for (k, v) in fields {
                if k != "profile" {
                    row.insert(k, v);
                }
            }
        }
        Ok(other) => {
            add_column(&mut columns.others, "value");
            row.insert("value".into(), other);
        }
        Err(_) => {
            add_column(&mut columns.others, "output");
            row.insert("output".into(), Value::String(line.to_string()));
        }
    }
    *head = false;
    Some(Value::Object(row))
}

/// Every tenant's rows, `profile` first, and the columns to show (`profile`, then the columns
/// the parts named, then any other key, in the order first met).
pub fn rows(done: &[Done]) -> (Vec<String>, Vec<Value>) {
    let mut columns = Columns::default();
    let mut rows = Vec::new();
    for d in done {
        let mut head = true;
        for line in String::from_utf8_lossy(&d.stdout).lines() {
            let line = line.trim();
            if !line.is_empty() {
                rows.extend(row_of(d, line, &mut head, &mut columns));
            }
        }
    }
    (columns.shown(), rows)
}

/// How many keys `line` has when it can be passed on as the part wrote it: one JSON object
/// alone on its line, without a `profile` key (the report's own), and not a line written for
/// the fleet (those carry the run's `mark`, which no row of data knows). `None`: it must be
/// read ([`row_of`]).
fn plain_row(line: &str, mark: &str) -> Option<usize> {
    struct Plain(usize);
    impl<'de> serde::de::Visitor<'de> for &mut Plain {
        type Value = bool;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
            // A key written with escapes is not borrowed: an error here, and the line is read.
            while let Some(k) = map.next_key::<&'de str>()? {
                if k == "profile" {
                    return Ok(false);
                }
                map.next_value::<serde::de::IgnoredAny>()?;
                self.0 += 1;
            }
            Ok(true)
        }
    }
    if !line.starts_with('{') || (!mark.is_empty() && line.contains(mark)) {
        return None;
    }
    // Deeply nested values are left to the full reading, whose depth limit decides what they
    // become, so that a row is the same in every format.
    if nesting(line) > MAX_PLAIN_NESTING {
        return None;
    }
    let mut plain = Plain(0);
    let mut de = serde_json::Deserializer::from_str(line);
    match serde::Deserializer::deserialize_map(&mut de, &mut plain) {
        Ok(true) => de.end().ok().map(|()| plain.0),
        _ => None,
    }
}

/// The deepest nesting of arrays and objects a row passed on as written may have.
const MAX_PLAIN_NESTING: usize = 64;

/// How deep the arrays and objects of JSON text `line` nest (brackets in strings aside).
fn nesting(line: &str) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for b in line.bytes() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// The text of JSON object `object` (with `keys` keys) with `"profile": profile` put first.
fn profile_first(profile: &str, object: &str, keys: usize) -> String {
    let rest = object.trim_start().strip_prefix('{').unwrap_or(object);
    let profile = serde_json::to_string(profile).expect("a string serializes");
    if keys == 0 {
        format!("{{\"profile\":{profile}}}")
    } else {
        format!("{{\"profile\":{profile},{rest}")
    }
}

/// The format of a fleet's report that the command itself asks for: `export --format csv`
/// (or json) to standard output makes the report CSV (or JSON), as it makes a single run's
/// output; `None` leaves it to `-o`.
pub fn format_asked(cli: &crate::cli::Cli) -> Option<Format> {
    match &cli.command {
        Some(crate::cli::Command::Export(a)) if a.out.as_deref().is_none_or(|o| o == "-") => {
            match a.format.as_deref() {
                Some("csv") => Some(Format::Csv),
                Some(_) => Some(Format::Json),
                None => None,
            }
        }
        _ => None,
    }
}

/// Prints every tenant's rows as one listing in the asked format.
pub fn print_rows(ctx: &Ctx, done: &[Done]) -> anyhow::Result<()> {
    if ctx.format() == Format::Jsonl {
        return print_jsonl(ctx, done);
    }
    let (columns, rows) = rows(done);
    if rows.is_empty() {
        return Ok(());
    }
    let cols: Vec<&str> = columns.iter().map(String::as_str).collect();
    let mut printer = ctx.printer(Shape::List, &cols);
    for r in &rows {
        printer.row(r)?;
    }
    printer.finish()?;
    Ok(())
}

/// [`print_rows`] as JSON lines.
fn print_jsonl(ctx: &Ctx, done: &[Done]) -> anyhow::Result<()> {
    let mut printer = ctx.printer(Shape::List, &["profile"]);
    jsonl_rows(&mut printer, done)?;
    printer.finish()?;
    Ok(())
}

/// Every tenant's rows as JSON lines, `profile` first in each: a row of data is passed on as
/// the part wrote it, not read and written again (a fleet's thousands of rows are copied);
/// any other line becomes a row as [`rows`] makes it.
fn jsonl_rows<W: std::io::Write>(
    printer: &mut crate::output::Printer<W>,
    done: &[Done],
) -> std::io::Result<()> {
    let mut columns = Columns::default();
    for d in done {
        let mut head = true;
        for line in String::from_utf8_lossy(&d.stdout).lines() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            if let Some(keys) = plain_row(line, &d.mark) {
                head = false;
                printer.row_json(&profile_first(&d.profile, line, keys))?;
            } else if let Some(Value::Object(mut row)) = row_of(d, line, &mut head, &mut columns) {
                row.remove("profile");
                let text = serde_json::to_string(&row)?;
                printer.row_json(&profile_first(&d.profile, &text, row.len()))?;
            }
        }
    }
    Ok(())
}

/// How a part ended, in a word: `done`, `partial`, `interrupted` or `failed`.
pub fn ending(code: i32) -> &'static str {
    match code {
        0 => "done",
        3 => "partial",
        130 => "interrupted",
        _ => "failed",
    }
}

/// [`ending`], where a `diff` (`compare`) that exits 1 answered "differs" rather than failed.
pub fn ending_of(code: i32, compare: bool) -> &'static str {
    if compare && code == 1 {
        "differs"
    } else {
        ending(code)
    }
}

/// The exit code of a fleet run whose parts ended with `codes`: 130 if any was interrupted,
/// 0 if all were done, 3 if some were done (or partly) and others not, else the worst
/// (highest) code. `compare`: a `diff`, where 1 means "differs" and the worst is the answer.
pub fn exit_code(codes: &[i32], compare: bool) -> i32 {
    if codes.contains(&130) {
        130
    } else if codes.iter().all(|c| *c == 0) {
        0
    } else if compare {
        codes.iter().copied().max().unwrap_or(0)
    } else if codes.iter().any(|c| *c == 0 || *c == 3) {
        3
    } else {
        codes.iter().copied().max().unwrap_or(1)
    }
}

/// Whether `line` is the columns line a part wrote for the fleet (see [`for_the_fleet`]).
fn is_columns_line(line: &str, mark: &str) -> bool {
    line.contains(COLUMNS_KEY)
        && matches!(
            serde_json::from_str::<Value>(line),
            Ok(Value::Object(fields)) if for_the_fleet(&fields, COLUMNS_KEY, mark).is_some()
        )
}

/// Prints a line per tenant on stderr and returns the run's result: `Err` with the exit code
/// when any tenant was not done.
pub fn summary(ctx: &Ctx, what: &str, done: &[Done], compare: bool) -> anyhow::Result<()> {
    let width = done
        .iter()
        .map(|d| d.profile.chars().count())
        .max()
        .unwrap_or(0);
    let rows_of = |d: &Done| {
        String::from_utf8_lossy(&d.stdout)
            .lines()
            .filter(|l| !l.trim().is_empty() && !is_columns_line(l, &d.mark))
            .count()
    };
    let codes: Vec<i32> = done.iter().map(|d| d.code).collect();
    // A `diff` that differs (exit 1) answered; it did not fail.
    let word = |d: &Done| ending_of(d.code, compare);
    let count = |w: &str| done.iter().filter(|d| word(d) == w).count();
    let counted = |w: &str| match count(w) {
        0 => String::new(),
        n => format!(", {n} {w}"),
    };
    ctx.note(&format!(
        "{what} on {} tenants: {} done{}, {} partial, {} failed{}",
        done.len(),
        count("done"),
        counted("differs"),
        count("partial"),
        count("failed"),
        counted("interrupted"),
    ));
    for d in done {
        let why = match (&d.error, d.code) {
            (_, 0) => format!("{} row(s)", rows_of(d)),
            (_, 1) if compare => format!("{} change(s)", rows_of(d)),
            (Some(e), code) => format!("exit {code}: {e}"),
            (None, code) => format!("exit {code}"),
        };
        // Names are escaped for the terminal, and padded by what they show.
        let name = crate::output::printable(&d.profile);
        let pad = width.saturating_sub(name.chars().count().min(width));
        ctx.note(&format!(
            "  {name}{}  {:11}  {why}",
            " ".repeat(pad),
            word(d)
        ));
    }
    let code = exit_code(&codes, compare);
    if code == 0 || (compare && codes.iter().all(|c| *c <= 1)) {
        return if code == 0 {
            Ok(())
        } else {
            // As a `diff` on one tenant: exit 1, the differences printed, no error.
            ctx.note(&format!("differs on {}", names(done, |c| c == 1)));
            Err(crate::cli::report::Differs.into())
        };
    }
    Err(FleetEnded {
        code,
        message: format!(
            "not done on {} of {} tenants: {}",
            done.iter().filter(|d| d.code != 0).count(),
            done.len(),
            names(done, |c| c != 0)
        ),
    }
    .into())
}

/// The tenants whose code passes `pick`, comma-separated.
fn names(done: &[Done], pick: impl Fn(i32) -> bool) -> String {
    done.iter()
        .filter(|d| pick(d.code))
        .map(|d| d.profile.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A part that ended well, having written `stdout`, in the fleet run marked `mark`.
    fn done(profile: &str, stdout: impl Into<Vec<u8>>, mark: &str) -> Done {
        Done {
            profile: profile.into(),
            code: 0,
            stdout: stdout.into(),
            error: None,
            wrote: None,
            mark: mark.into(),
        }
    }

    #[test]
    fn the_exit_code_is_the_worst_and_partial_when_some_were_done() {
        assert_eq!(exit_code(&[0, 0, 0], false), 0);
        assert_eq!(exit_code(&[0, 4, 0], false), 3);
        assert_eq!(exit_code(&[3, 1], false), 3);
        assert_eq!(exit_code(&[4, 1, 2], false), 4);
        assert_eq!(exit_code(&[0, 130, 4], false), 130);
        assert_eq!(exit_code(&[0, 1, 0], true), 1);
        assert_eq!(exit_code(&[0, 4, 1], true), 4);
    }

    #[test]
    fn each_tenant_ends_in_a_word_and_a_diff_that_differs_did_not_fail() {
        assert_eq!(ending(0), "done");
        assert_eq!(ending(3), "partial");
        assert_eq!(ending(130), "interrupted");
        assert_eq!(ending(4), "failed");
        assert_eq!(ending(1), "failed");
        assert_eq!(ending_of(1, true), "differs");
        assert_eq!(ending_of(1, false), "failed");
        assert_eq!(ending_of(0, true), "done");
        assert_eq!(ending_of(4, true), "failed");
    }

    #[test]
    fn rows_keep_each_tenant_and_the_columns_the_parts_named() {
        let done = vec![
            done("acme", b"{\"mcshColumns\":[\"email\",\"name\"],\"mcshMark\":\"m1\"}\n{\"name\":\"A\",\"email\":\"a@x\",\"id\":1}\nhello\n", "m1"),
            done("globex", b"7\n", "m1"),
        ];
        let (columns, rows) = rows(&done);
        assert_eq!(columns, ["profile", "email", "name", "output", "value"]);
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0]["profile"], "acme");
        assert_eq!(rows[0]["id"], 1);
        assert_eq!(rows[1]["output"], "hello");
        assert_eq!(rows[2]["profile"], "globex");
        assert_eq!(rows[2]["value"], 7);
        assert_eq!(
            keys_in_order("{\"b\":1,\"a\":{\"z\":2},\"c\":3}"),
            ["b", "a", "c"]
        );
    }

    #[test]
    fn printed_lines_stay_as_printed_and_name_no_columns() {
        // What a script printed comes wrapped: kept exactly (blank, indented, shaped like a
        // row or like the columns line), never read as a row or as the part's columns.
        let printed = |text: &str| {
            format!(
                "{}\n",
                serde_json::json!({ PRINTED_KEY: text, MARK_KEY: "m1" })
            )
        };
        let mut stdout = String::new();
        for text in [
            "",
            "  indented",
            "{\"emailAddress\":\"ceo@x\",\"status\":\"created\"}",
        ] {
            stdout.push_str(&printed(text));
        }
        stdout.push_str(&printed("{\"mcshColumns\":[\"secret\"]}"));
        stdout.push_str("{\"mcshColumns\":[\"emailAddress\",\"status\"],\"mcshMark\":\"m1\"}\n");
        stdout.push_str("{\"emailAddress\":\"a@x\",\"status\":\"created\"}\n");
        // A row shaped like the columns line, after the first row, is a row.
        stdout.push_str("{\"mcshColumns\":[\"late\"],\"mcshMark\":\"m1\"}\n");
        // Rows of data shaped like a printed line, without the run's mark or with another
        // one, are rows.
        stdout.push_str("{\"mcshPrinted\":\"data\"}\n");
        stdout.push_str("{\"mcshPrinted\":\"data\",\"mcshMark\":\"m2\"}\n");
        let done = vec![done("acme", stdout, "m1")];
        let (columns, rows) = rows(&done);
        assert_eq!(columns, ["profile", "emailAddress", "status", "output"]);
        let outputs: Vec<&str> = rows.iter().filter_map(|r| r["output"].as_str()).collect();
        assert_eq!(
            outputs,
            [
                "",
                "  indented",
                "{\"emailAddress\":\"ceo@x\",\"status\":\"created\"}",
                "{\"mcshColumns\":[\"secret\"]}"
            ]
        );
        assert!(rows[..4].iter().all(|r| r.get("emailAddress").is_none()));
        assert_eq!(rows[4]["emailAddress"], "a@x");
        assert_eq!(rows[5][COLUMNS_KEY], serde_json::json!(["late"]));
        assert_eq!(rows[6][PRINTED_KEY], "data");
        assert_eq!(rows[7][PRINTED_KEY], "data");
        assert_eq!(rows[7][MARK_KEY], "m2");
        assert_eq!(rows.len(), 8);
    }

    #[test]
    fn json_lines_pass_each_row_on_as_written_with_profile_first() {
        let mark = "0123456789abcdef0123456789abcdef";
        let stdout = [
            format!("{{\"mcshColumns\":[\"name\"],\"mcshMark\":\"{mark}\"}}"),
            "{\"name\":\"A\",\"id\":1}".to_string(),
            // Its own `profile` gives way to the tenant's.
            "{\"profile\":\"spoofed\",\"name\":\"B\"}".to_string(),
            "{}".to_string(),
            // A key written with escapes, an object with text after it, a bare value.
            "{\"\\u0070rofile\":\"spoofed\"}".to_string(),
            "{\"name\":\"C\"} and more".to_string(),
            "7".to_string(),
            format!("{{\"mcshPrinted\":\"said\",\"mcshMark\":\"{mark}\"}}"),
        ]
        .join("\n");
        let done = vec![done("acme", stdout, mark)];
        let mut out = Vec::new();
        let mut printer = crate::output::Printer::new(&mut out, Format::Jsonl, Shape::List, &[]);
        jsonl_rows(&mut printer, &done).unwrap();
        assert_eq!(printer.count(), 7);
        printer.finish().unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            [
                "{\"profile\":\"acme\",\"name\":\"A\",\"id\":1}",
                "{\"profile\":\"acme\",\"name\":\"B\"}",
                "{\"profile\":\"acme\"}",
                "{\"profile\":\"acme\"}",
                "{\"profile\":\"acme\",\"output\":\"{\\\"name\\\":\\\"C\\\"} and more\"}",
                "{\"profile\":\"acme\",\"value\":7}",
                "{\"profile\":\"acme\",\"output\":\"said\"}",
                "",
            ]
            .join("\n")
        );
        // What is passed on as written, and what is read first.
        assert_eq!(plain_row("{\"a\":{\"profile\":1},\"b\":[]}", mark), Some(2));
        assert_eq!(plain_row("{\"profile\":1}", mark), None);
        assert_eq!(plain_row(&format!("{{\"a\":\"{mark}\"}}"), mark), None);
        assert_eq!(plain_row("{\"a\":1}}", mark), None);
        assert_eq!(plain_row("[1]", mark), None);
        // Nested deeper than the full reading takes: read, so it is the same row everywhere.
        let deep = format!("{{\"v\":{}1{}}}", "[".repeat(200), "]".repeat(200));
        assert_eq!(plain_row(&deep, mark), None);
        let shallow = format!("{{\"v\":{}\"]]\\\"[[\"{}}}", "[".repeat(3), "]".repeat(3));
        assert_eq!(nesting(&shallow), 4);
        assert_eq!(plain_row(&shallow, mark), Some(1));
    }
}

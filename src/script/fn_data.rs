//! Data helpers for scripts: CSV and JSON files, tables, JSON text.
//!
//! Policy: files are read whole and checked (a bad row names its line); files are written
//! atomically, so an interrupted script never leaves a truncated file.

use std::path::Path;
use std::rc::Rc;

use rhai::{Array, Dynamic, Engine, EvalAltResult, Map};
use serde_json::Value;

use super::errors;
use super::host::Host;
use super::register::local;
use crate::csv_in::{line_of, Sheet};
use crate::output::{columns_of, Format, Printer, Shape};

type Res<T> = Result<T, Box<EvalAltResult>>;

fn to_value(function: &str, v: &Dynamic) -> Res<Value> {
    rhai::serde::from_dynamic(v)
        .map_err(|e| errors::usage(function, format!("cannot be turned into JSON: {e}")))
}

/// How many times its text's size a parsed JSON value may hold at most (`[0,0,...]`: 2 bytes
/// of text, a JSON value and a script value for each item).
const JSON_GROWTH: usize = 24;

fn to_dynamic(function: &str, v: &Value) -> Res<Dynamic> {
    rhai::serde::to_dynamic(v).map_err(|e| errors::other(function, "conversion", e.to_string()))
}

/// A file that cannot be read or understood is bad input (exit 2 when uncaught).
/// Reads the input file `path` for a script: what mcsh's own credentials live in (the config
/// file, the plan key, a process's environment under `/proc`) is refused, so a script uses
/// the connection without ever seeing the secrets.
pub fn read_for_script(function: &str, path: &str, limit: u64) -> Res<Vec<u8>> {
    if path != "-" {
        let real = std::fs::canonicalize(path).map_err(|e| io_error(function, path, e))?;
        let env = |k: &str| std::env::var(k).ok();
        // The config in use, the default one (`MCSH_CONFIG` may name another: the default
        // still holds the real credentials) and everything beside it, and the plan key.
        let folder = dirs::config_dir().map(|d| d.join("mcsh"));
        let secret_files = [
            Some(crate::config::config_path(&env)),
            folder.as_ref().map(|f| f.join("config.toml")),
            dirs::data_dir().map(|d| d.join("mcsh").join("plan.key")),
            Some(std::env::temp_dir().join("mcsh").join("plan.key")),
        ];
        let secret_files: Vec<std::path::PathBuf> = secret_files
            .into_iter()
            .flatten()
            .filter_map(|f| std::fs::canonicalize(f).ok())
            .collect();
        // A hard link planted elsewhere is the same file.
        let same = |f: &std::path::PathBuf| *f == real || crate::own_files::same_file(&real, f);
        let in_folder = folder
            .and_then(|f| std::fs::canonicalize(f).ok())
            .is_some_and(|f| real.starts_with(f));
        if real.starts_with("/proc") || in_folder || secret_files.iter().any(same) {
            return Err(errors::raise(
                function,
                "forbidden",
                &format!("{path}: scripts may not read mcsh's credentials (its config folder and file, the plan key, /proc)"),
                false,
                0,
                "usage",
            ));
        }
    }
    crate::files::read_bounded(path, limit).map_err(|e| io_error(function, path, e))
}

fn io_error(function: &str, path: &str, e: impl std::fmt::Display) -> Box<EvalAltResult> {
    errors::raise(function, "io", &format!("{path}: {e}"), false, 0, "usage")
}

/// Options of `read_csv(path, options)`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvOptions {
    /// Columns the header must have; a missing one is an error naming it.
    #[serde(default)]
    pub require: Vec<String>,
    /// Add each row's line number (of the file) under this key.
    #[serde(default)]
    pub line_field: Option<String>,
}

/// Reads a CSV file with a header row into maps of strings.
pub fn read_csv(path: &str) -> Res<Array> {
    read_csv_with(path, &CsvOptions::default())
}

/// `read_csv` with options.
pub fn read_csv_with(path: &str, options: &CsvOptions) -> Res<Array> {
    let bytes = read_for_script("read_csv", path, crate::files::MAX_INPUT_BYTES)?;
    let mut sheet = Sheet::open(&bytes).map_err(|e| io_error("read_csv", path, e))?;
    if let Err(missing) = sheet.require(&options.require) {
        return Err(errors::raise(
            "read_csv",
            "missing_column",
            &format!("{path}: {missing}"),
            false,
            0,
            "usage",
        ));
    }
    let mut headers = sheet.headers().to_vec();
    // A required column found in another case (`Email` for `email`) is read under the name
    // the script asked for, so `row.email` is what `require` promised.
    for wanted in &options.require {
        if !headers.contains(wanted) {
            if let Some(i) = sheet.column(wanted) {
                headers[i] = wanted.clone();
            }
        }
    }
    if let Some(key) = options.line_field.as_ref().filter(|k| headers.contains(k)) {
        return Err(errors::usage(
            "read_csv",
            format!("line_field {key:?} is a column of {path}; pick another key"),
        ));
    }
    let mut rows = Array::new();
    // Every row has the header's columns: one tag for all ([`fields::row_tag`]).
    let mut tag = None;
    for record in sheet.rows() {
        // A row's map takes many times its text: checked as the rows are made, so one call
        // stops at the memory limit instead of taking many times it first.
        if rows.len() % 256 == 255 && crate::alloc::headroom() == 0 {
            return Err(errors::raise(
                "read_csv",
                "memory",
                &format!(
                    "{path}: its rows take more memory than the script may use (--limit memory); stopped after {} rows: read a smaller file, or raise the limit with --limit memory=MiB",
                    rows.len()
                ),
                false,
                0,
                "usage",
            ));
        }
        let record = record.map_err(|e| io_error("read_csv", path, e))?;
        let mut map = Map::new();
        for (h, v) in headers.iter().zip(record.iter()) {
            map.insert(h.as_str().into(), v.into());
        }
        if let Some(key) = &options.line_field {
            map.insert(key.as_str().into(), (line_of(&record) as i64).into());
        }
        let tag = *tag.get_or_insert_with(|| super::fields::row_tag(&map));
        super::fields::mark_row(&mut map, tag);
        rows.push(Dynamic::from_map(map));
    }
    Ok(rows)
}

fn render(function: &str, rows: &Array, format: Format) -> Res<Vec<u8>> {
    let values: Vec<Value> = rows
        .iter()
        .map(|r| to_value(function, r))
        .collect::<Res<_>>()?;
    if let Some(bad) = values.iter().position(|v| !v.is_object()) {
        return Err(errors::usage(
            function,
            format!("item {} is not a map", bad + 1),
        ));
    }
    let columns = columns_of(&values);
    let cols: Vec<&str> = columns.iter().map(String::as_str).collect();
    let mut buf = Vec::new();
    let mut printer = Printer::new(&mut buf, format, Shape::List, &cols);
    for v in &values {
        printer
            .row(v)
            .map_err(|e| errors::other(function, "io", e.to_string()))?;
    }
    printer
        .finish()
        .map_err(|e| errors::other(function, "io", e.to_string()))?;
    Ok(buf)
}

/// Writes `bytes` to the file `path`, or to the session's standard output for `-` (as
/// everywhere in mcsh; the CLI or REPL owns that stream). Under a dry run, files are refused.
fn write_file(function: &str, path: &str, bytes: &[u8], host: &Host) -> Res<()> {
    if path.trim().is_empty() {
        return Err(errors::usage(
            function,
            "the path is empty: give a file name, or \"-\" for standard output",
        ));
    }
    if path == "-" {
        // Output that could not be written is a failure (exit 1), as for every command; the
        // script's input was not at fault.
        return host.write_output(bytes).map_err(|e| {
            errors::raise(
                function,
                "io",
                &format!("cannot write to standard output: {e}"),
                false,
                0,
                "io",
            )
        });
    }
    if host.dry_run {
        // A dry run changes nothing: not the directory, not the admin's files.
        return Err(errors::raise(
            function,
            "dry_run",
            &format!("{path}: a dry run writes no files; run without --dry-run to write it"),
            false,
            0,
            "usage",
        ));
    }
    let env = |k: &str| std::env::var(k).ok();
    if let Some(what) = crate::own_files::owned_by_mcsh(Path::new(path), &env) {
        // A script must not plant a config, forge plans with the key or erase the audit log.
        return Err(errors::raise(
            function,
            "forbidden",
            &format!("{path}: scripts may not write {what} (its config, plan key, audit log, history and sandbox state)"),
            false,
            0,
            "usage",
        ));
    }
    // One by one, a file written after a refused call would never have been written: the
    // writes queued so far go first, and a refusal among them stops the script here.
    host.flush(function)?;
    crate::files::write_atomic(Path::new(path), bytes, false)
        .map_err(|e| io_error(function, path, e))
}

/// Registers the data helpers; under a dry run, the file writers refuse.
pub fn register(engine: &mut Engine, host: &Rc<Host>) {
    local("as_record", &["map: Map", "Map"], r#"
Marks `map` as a record, as the users, groups and results mcsh hands a script are: reading or setting a key it does not have is then an error naming the nearest one, so a misspelt field stops the script instead of reading `()`. The rows mcsh's own workflows return (`onboard::people` ...) are records. A record has at most 256 fields: a bigger map is an error.
```rhai
let row = as_record(#{ email: "a@company.com", status: "created" });
print(row.status);   // row.staus would stop the script: did you mean `status`?
```"#, false)
    .register_into_engine(engine, |map: Map| -> Res<Dynamic> {
        if map.len() > super::fields::RECORD_MAX_FIELDS {
            return Err(errors::usage(
                "as_record",
                format!(
                    "a record has at most {} fields and this map has {}: a map this big is a table (keep it as a map)",
                    super::fields::RECORD_MAX_FIELDS,
                    map.len()
                ),
            ));
        }
        Ok(super::fields::mark(Dynamic::from_map(map)))
    });

    local("shell_word", &["text: &str", "String"], r#"
`text` as a shell reads it back as one word: bare when it is plain, in single quotes otherwise. For commands a script prints for an admin to paste: an address may hold `$`, `|`, `&` or a backquote. An option's value is `shell_flag`'s: one starting with `-` would read as an option.
```rhai
print(`mcsh users restore --email ${shell_word("o'brien$1@company.com")}`);
// mcsh users restore --email 'o'\''brien$1@company.com'
```"#, false)
    .register_into_engine(engine, |text: &str| -> String {
        crate::output::shell_word(text)
    });

    local("shell_flag", &["flag: &str", "value: &str", "String"], r#"
An option and its value as a shell reads them back: `--flag VALUE`, or `--flag=VALUE` when the value starts with `-` (which the command would read as an option of its own), the value quoted as `shell_word` quotes it. For a command a script prints for an admin to paste.
```rhai
print(`mcsh users restore ${shell_flag("--email", "-ops$@company.com")}`);
// mcsh users restore '--email=-ops$@company.com'
```"#, false)
    .register_into_engine(engine, |flag: &str, value: &str| -> String {
        crate::output::shell_flag(flag, value)
    });

    local("read_csv", &["path: &str", "Array"], r#"
Reads a CSV file with a header row: one map per row, keyed by the header's names, values as strings. Reading a column the header does not have is an error naming the nearest one (`"col" in row` asks whether the file has it; a column the script sets is its own). A UTF-8 BOM is accepted; a row with the wrong number of fields, a column named twice or a NUL byte is an error naming it. A cell mcsh guarded against spreadsheet formulas when it wrote it (`'=...`) reads back as it was. Rows that would take more memory than `--limit memory` leaves stop the call (exit 2), before they are all made.
```rhai
for row in read_csv("people.csv") { print(row.email) }
```"#, true)
    .register_into_engine(engine, read_csv);

    local("read_csv", &["path: &str", "options: Map", "Array"], r#"
`read_csv` with options: `require` (columns the header must have, in any case: a column `Email` is read as `row.email` when `email` is required; a missing one is an error naming it) and `line_field` (a key under which each row gets its line number in the file).
```rhai
for row in read_csv("people.csv", #{ require: ["email"], line_field: "line" }) { print(`${row.line}: ${row.email}`) }
```"#, true)
    .register_into_engine(engine, |path: &str, options: Map| -> Res<Array> {
        let opts: CsvOptions = super::convert::from_dyn("read_csv", "options", &Dynamic::from_map(options))?;
        read_csv_with(path, &opts)
    });

    local(
        "read_text",
        &["path: &str", "String"],
        r#"
Reads a whole UTF-8 text file.
```rhai
let names = read_text("departments.txt").split("\n");
```"#,
        true,
    )
    .register_into_engine(engine, |path: &str| -> Res<String> {
        // Bounded by what the script memory limit still allows (`--limit memory=MiB`).
        let limit = (crate::alloc::headroom() as u64).min(crate::files::MAX_INPUT_BYTES);
        let bytes = read_for_script("read_text", path, limit)?;
        String::from_utf8(bytes).map_err(|_| io_error("read_text", path, "it is not UTF-8 text"))
    });

    local(
        "is_email",
        &["text: &str", "bool"],
        r#"
Whether `text` has the form of an email address (the check mcsh makes before sending one).
```rhai
if !is_email(row.email) { print(`bad address: ${row.email}`) }
```"#,
        false,
    )
    .register_into_engine(engine, |text: &str| {
        crate::directory::email::normalize(text).is_ok()
    });

    local("write_csv", &["path: &str", "rows: Array", "()"], r#"
Writes maps as CSV with a header row (every key, in the order first seen). The file is replaced atomically; `-` is standard output. Cells a spreadsheet would run as formulas get a leading `'`. Under `--dry-run` no file is written (an error says so); `-` still prints.
```rhai
write_csv("users.csv", users("example.com"));
```"#, true)
    .register_into_engine(engine, {
        let host = host.clone();
        move |path: &str, rows: Array| -> Res<()> {
            let bytes = render("write_csv", &rows, Format::Csv)?;
            write_file("write_csv", path, &bytes, &host)
        }
    });

    local(
        "read_json",
        &["path: &str", "Dynamic"],
        r#"
Reads a JSON file into maps, arrays, strings, numbers and booleans. A file larger than 1/24 of
the memory the script may still use (`--limit memory`) is refused: parsed, JSON can take that
many times its size.
```rhai
let config = read_json("settings.json");
```"#,
        true,
    )
    .register_into_engine(engine, |path: &str| -> Res<Dynamic> {
        // Parsed, a value holds up to about JSON_GROWTH times its text (`[0,0,...]`): bounded
        // by that, so one call cannot take many times the memory limit at once.
        let limit =
            ((crate::alloc::headroom() / JSON_GROWTH) as u64).min(crate::files::MAX_INPUT_BYTES);
        let bytes = read_for_script("read_json", path, limit)?;
        let value: Value =
            serde_json::from_slice(&bytes).map_err(|e| io_error("read_json", path, e))?;
        to_dynamic("read_json", &value)
    });

    local(
        "write_json",
        &["path: &str", "value: Dynamic", "()"],
        r#"
Writes a value as pretty JSON. The file is replaced atomically; `-` is standard output. Under `--dry-run` no file is written (an error says so); `-` still prints.
```rhai
write_json("groups.json", groups());
```"#,
        true,
    )
    .register_into_engine(engine, {
        let host = host.clone();
        move |path: &str, value: Dynamic| -> Res<()> {
            let v = to_value("write_json", &value)?;
            let mut text = serde_json::to_vec_pretty(&v)
                .map_err(|e| errors::other("write_json", "json", e.to_string()))?;
            text.push(b'\n');
            write_file("write_json", path, &text, &host)
        }
    });

    local(
        "table",
        &["rows: Array", "String"],
        r#"
Renders maps as a text table (one column per key). Print it with `print(table(rows))`.
```rhai
print(table(groups().map(|g| #{ name: g.description, members: g.userCount })));
```"#,
        false,
    )
    .register_into_engine(engine, |rows: Array| -> Res<String> {
        let bytes = render("table", &rows, Format::Table)?;
        Ok(String::from_utf8_lossy(&bytes).trim_end().to_string())
    });

    local(
        "to_json",
        &["value: Dynamic", "String"],
        r#"
The value as compact JSON text.
```rhai
print(to_json(#{ a: 1, b: [true, ()] }));   // {"a":1,"b":[true,null]}
```"#,
        false,
    )
    .register_into_engine(engine, |value: Dynamic| -> Res<String> {
        let v = to_value("to_json", &value)?;
        Ok(v.to_string())
    });

    local(
        "parse_json",
        &["text: &str", "Dynamic"],
        r#"
Parses JSON text into maps, arrays and values. Text longer than 1/24 of the memory the script
may still use (`--limit memory`) is refused: parsed, JSON can take that many times its size.
```rhai
let v = parse_json(`{"a": [1, 2]}`);
print(v.a[1]);
```"#,
        false,
    )
    .register_into_engine(engine, |text: &str| -> Res<Dynamic> {
        if text.len().saturating_mul(JSON_GROWTH) > crate::alloc::headroom() {
            return Err(errors::usage(
                "parse_json",
                format!(
                    "{} bytes of JSON could take more memory than the script may still use; raise the limit with --limit memory=MiB",
                    text.len()
                ),
            ));
        }
        let v: Value = serde_json::from_str(text)
            .map_err(|e| errors::usage("parse_json", format!("not JSON: {e}")))?;
        to_dynamic("parse_json", &v)
    });
}

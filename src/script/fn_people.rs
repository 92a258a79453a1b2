//! `read_people`: a CSV of people, checked whole before anything is built or written.
//!
//! Policy: the file streams through once for checking (addresses, repeats, row widths, with
//! the file's own line numbers), so a million-row file with one bad row fails in seconds and
//! small memory. Only a file that passes becomes rows for a workflow.

use std::collections::HashMap;

use rhai::{Array, Dynamic, Engine, EvalAltResult, Map};

use super::errors;
use super::register::local;
use crate::directory::email;

type Res<T> = Result<T, Box<EvalAltResult>>;

/// Problems listed in full before the rest are counted.
const SHOWN: usize = 20;

fn bad(path: &str, message: String) -> Box<EvalAltResult> {
    errors::raise(
        "read_people",
        "invalid_input",
        &format!("{path}: {message}"),
        false,
        0,
        "usage",
    )
}

/// Reads and checks `path`; `columns` must all be in the header and must include `email`.
pub fn read_people(path: &str, columns: &[String]) -> Res<Array> {
    let bytes = std::fs::read(path).map_err(|e| bad(path, e.to_string()))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let line = 1 + e.as_bytes()[..e.utf8_error().valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        bad(
            path,
            format!("line {line} is not UTF-8 text (save the file as UTF-8)"),
        )
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| bad(path, e.to_string()))?
        .iter()
        .map(str::to_string)
        .collect();
    if headers.iter().all(String::is_empty) {
        return Err(bad(path, "there is no header row".into()));
    }
    let missing: Vec<&str> = columns
        .iter()
        .filter(|c| !headers.contains(c))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        let msg = format!(
            "missing column(s) {} (the header has: {})",
            missing.join(", "),
            headers.join(", ")
        );
        return Err(errors::raise(
            "read_people",
            "missing_column",
            &format!("{path}: {msg}"),
            false,
            0,
            "usage",
        ));
    }
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (email_col, name_col, groups_col) = (
        col("email").expect("email is required"),
        col("name"),
        col("groups"),
    );
    let mut problems = Vec::new();
    let mut count = 0usize;
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                problems.push(match e.kind() {
                    csv::ErrorKind::UnequalLengths {
                        pos,
                        expected_len,
                        len,
                    } => format!(
                        "line {} has {len} fields where the header has {expected_len}",
                        pos.as_ref().map_or(0, |p| p.line())
                    ),
                    _ => e.to_string(),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let address = record.get(email_col).unwrap_or("");
        let problem = if address.is_empty() {
            Some(format!("line {line}: the email is empty"))
        } else if email::normalize(address).is_err() {
            Some(format!(
                "line {line}: \"{address}\" is not an email address"
            ))
        } else if let Some(first) = seen.get(&address.to_ascii_lowercase()) {
            Some(format!("line {line}: {address} is also on line {first}"))
        } else {
            seen.insert(address.to_ascii_lowercase(), line);
            None
        };
        if let Some(p) = problem {
            problems.push(p);
            continue;
        }
        count += 1;
        if problems.is_empty() {
            rows.push((line, record));
        } else {
            rows.clear();
        }
    }
    if !problems.is_empty() {
        let more = problems.len().saturating_sub(SHOWN);
        let mut listed = problems
            .iter()
            .take(SHOWN)
            .cloned()
            .collect::<Vec<_>>()
            .join("; ");
        if more > 0 {
            listed.push_str(&format!("; and {more} more"));
        }
        return Err(bad(
            path,
            format!(
                "{} bad row(s) of {}, nothing was written: {listed}",
                problems.len(),
                count + problems.len()
            ),
        ));
    }
    Ok(rows
        .into_iter()
        .map(|(line, r)| {
            let mut m = Map::new();
            m.insert("email".into(), r.get(email_col).unwrap_or("").into());
            m.insert("line".into(), (line as i64).into());
            if let Some(c) = name_col {
                m.insert("name".into(), r.get(c).unwrap_or("").into());
            }
            if let Some(c) = groups_col {
                let mut groups: Vec<String> = Vec::new();
                for g in r
                    .get(c)
                    .unwrap_or("")
                    .split(';')
                    .map(str::trim)
                    .filter(|g| !g.is_empty())
                {
                    if !groups.iter().any(|x| x == g) {
                        groups.push(g.to_string());
                    }
                }
                m.insert(
                    "groups".into(),
                    Dynamic::from_array(groups.into_iter().map(Dynamic::from).collect()),
                );
            }
            Dynamic::from_map(m)
        })
        .collect())
}

/// Registers `read_people`.
pub fn register(engine: &mut Engine) {
    local("read_people", &["path: &str", "columns: Array", "Array"], r#"
Reads a CSV of people, checking the whole file first: every column of `columns` (which must include `email`) must be in the header; every address must have the form of one and appear once. Any bad row stops it with every problem and its line number; nothing is returned. Rows come back as `#{email, line, name, groups}` (`name` and `groups` when the file has them; `groups` split on `;`).
```rhai
for p in read_people("new-starters.csv", ["email", "name", "groups"]) { print(`${p.line}: ${p.email}`) }
```"#, true)
    .register_into_engine(engine, |path: &str, columns: Array| -> Res<Array> {
        let columns: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
        if !columns.iter().any(|c| c == "email") {
            return Err(errors::usage("read_people", "columns must include \"email\""));
        }
        read_people(path, &columns)
    });
}

//! `read_people`: a CSV of people, checked whole before anything is built or written.
//!
//! Policy: the file streams through once for checking (addresses, repeats, row widths, with
//! the file's own line numbers), so a million-row file with one bad row fails in seconds and
//! small memory. Only a file that passes becomes rows for a workflow. The check itself is a
//! pure function over bytes ([`parse_people`]), fuzzed and property-tested.

use std::collections::HashMap;

use rhai::{Array, Dynamic, Engine, EvalAltResult, Map};

use super::errors;
use super::register::local;
use crate::csv_in::{line_of, Sheet};
use crate::directory::email;

type Res<T> = Result<T, Box<EvalAltResult>>;

/// Problems listed in full before the rest are counted.
const SHOWN: usize = 20;

/// One checked row of a people CSV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// The file's line number of the row.
    pub line: u64,
    /// The address, as written.
    pub email: String,
    /// The name, when the file has the column.
    pub name: Option<String>,
    /// The groups (split on `;`, trimmed, without repeats), when the file has the column.
    pub groups: Option<Vec<String>>,
}

/// Why a people CSV was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeopleError {
    /// The header lacks a required column.
    MissingColumns(String),
    /// Anything else: encoding, widths, addresses, repeats (every problem listed).
    Bad(String),
}

/// Checks the bytes of a people CSV as a whole; `columns` must all be in the header.
pub fn parse_people(bytes: &[u8], columns: &[String]) -> Result<Vec<Person>, PeopleError> {
    let mut sheet = Sheet::open(bytes).map_err(PeopleError::Bad)?;
    // What `mcsh export` writes reads back: its `emailAddress` column is the address.
    sheet.alias_column("emailAddress", "email");
    sheet
        .require(columns)
        .map_err(PeopleError::MissingColumns)?;
    let email_col = sheet.column("email").ok_or_else(|| {
        PeopleError::MissingColumns(sheet.require(&["email".to_string()]).unwrap_err())
    })?;
    let (name_col, groups_col) = (sheet.column("name"), sheet.column("groups"));
    let mut problems = Vec::new();
    let mut good = 0usize;
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut rows = Vec::new();
    for record in sheet.rows() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        let line = line_of(&record);
        let address = record.get(email_col).unwrap_or("");
        let key = address.to_ascii_lowercase();
        let problem = if address.is_empty() {
            Some(format!("line {line}: the email is empty"))
        } else if email::normalize(address).is_err() {
            Some(format!(
                "line {line}: \"{address}\" is not an email address"
            ))
        } else if let Some(first) = seen.get(&key) {
            Some(format!("line {line}: {address} is also on line {first}"))
        } else {
            seen.insert(key, line);
            None
        };
        match problem {
            Some(p) => {
                problems.push(p);
                rows.clear();
            }
            None => {
                good += 1;
                if problems.is_empty() {
                    rows.push(Person {
                        line,
                        email: address.to_string(),
                        name: name_col.map(|c| record.get(c).unwrap_or("").to_string()),
                        groups: groups_col.map(|c| split_groups(record.get(c).unwrap_or(""))),
                    });
                }
            }
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
        let total = good + problems.len();
        return Err(PeopleError::Bad(format!(
            "{} bad row(s) of {total}, nothing was written: {listed}",
            problems.len()
        )));
    }
    Ok(rows)
}

/// The groups of a `groups` cell: separated by `;`, where `\;` is a `;` inside a name and
/// `\\` a backslash (as `mcsh export` writes them, so an export reads back).
fn split_groups(text: &str) -> Vec<String> {
    let mut groups: Vec<String> = Vec::new();
    for g in crate::output::split_list(text) {
        let g = g.trim().to_string();
        if !g.is_empty() && !groups.contains(&g) {
            groups.push(g);
        }
    }
    groups
}

fn person_map(p: Person) -> Dynamic {
    let mut m = Map::new();
    m.insert("email".into(), p.email.into());
    m.insert("line".into(), (p.line as i64).into());
    if let Some(n) = p.name {
        m.insert("name".into(), n.into());
    }
    if let Some(groups) = p.groups {
        m.insert(
            "groups".into(),
            Dynamic::from_array(groups.into_iter().map(Dynamic::from).collect()),
        );
    }
    Dynamic::from_map(m)
}

/// Reads and checks `path` (see [`parse_people`]).
pub fn read_people(path: &str, columns: &[String]) -> Res<Array> {
    let raise = |code: &str, msg: String| {
        errors::raise(
            "read_people",
            code,
            &format!("{path}: {msg}"),
            false,
            0,
            "usage",
        )
    };
    let bytes =
        super::fn_data::read_for_script("read_people", path, crate::files::MAX_INPUT_BYTES)?;
    let people = parse_people(&bytes, columns).map_err(|e| match e {
        PeopleError::MissingColumns(msg) => raise("missing_column", msg),
        PeopleError::Bad(msg) => raise("invalid_input", msg),
    })?;
    Ok(people.into_iter().map(person_map).collect())
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

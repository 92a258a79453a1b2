//! Fields of directory records: reading or setting one a user, group, member or result does
//! not have is an error naming the nearest real one, never a silent `()`.
//!
//! Policy:
//! - Records mcsh hands a script are marked ([`mark`]): each value carries a tag made from the
//!   record's set of keys, so a map the script builds itself (even from a record's values)
//!   is never taken for a record, and a record whose keys the script changed is no longer one.
//! - Rhai calls [`missing`] for every map key that is not there, reading and setting alike,
//!   without saying which. For a record either is an error. For any other map Rhai's usual
//!   rules must hold: a read gives `()` and leaves the map alone, a write adds the key. The
//!   script's text tells the two apart ([`Writes`]): a key the script never assigns (by
//!   `m.key = ...`, `m.key += ...` or `m["key"] = ...`) can only be read here. Where the
//!   script assigns keys it computes (`m[k] = ...`), evaluates text, or imports a module of
//!   its own, a missing key is added as `()` on every access, as for writes.

use std::collections::HashSet;

use rhai::{ASTNode, Dynamic, EvalAltResult, Expr, Map, Stmt, AST};

/// The tags of record values: this base, and the record's key set's checksum in the low bits.
const TAG_BASE: i32 = 0x4D43_0000;

/// The tags of the values of a row `read_csv` made: its header is known, so a column it does
/// not have is a slip too (`row.departmnet`), though the script may add columns of its own.
const ROW_TAG_BASE: i32 = 0x4D52_0000;

fn checksum(map: &Map) -> i32 {
    tag_of(map, TAG_BASE)
}

/// `base` with the checksum of `map`'s key set in the low bits.
fn tag_of(map: &Map, base: i32) -> i32 {
    // FNV-1a over the sorted keys (a BTreeMap iterates sorted), folded to 16 bits.
    let mut h: u32 = 0x811c_9dc5;
    for k in map.keys() {
        for b in k.as_bytes().iter().chain([&0u8]) {
            h ^= u32::from(*b);
            h = h.wrapping_mul(0x0100_0193);
        }
    }
    base | ((h ^ (h >> 16)) & 0xFFFF) as i32
}

/// Fields a record of a kind has only sometimes (the service left them out, or they say
/// something only some records need): reading one that is not there gives `()`.
fn optional(kind: &str) -> &'static [&'static str] {
    match kind {
        "user" => &["accountLocked", "accountDisabled", "aliases", "id"],
        "group" => &["parentId", "path", "via", "status"],
        "result" => &["code", "group", "id", "name"],
        _ => &[],
    }
}

/// The most fields a record has. A bigger map is a table a script keeps (addresses to users,
/// say), never a record: telling it from one then costs nothing, where reading its every
/// value on each new key made filling a map of n keys cost n² (100 000 keys: minutes).
pub const RECORD_MAX_FIELDS: usize = 256;

/// Marks `value` (a map of at most [`RECORD_MAX_FIELDS`] keys) as a directory record; other
/// values are left as they are.
pub fn mark(mut value: Dynamic) -> Dynamic {
    if let Some(mut map) = value.write_lock::<Map>() {
        let tag = checksum(&map);
        mark_row(&mut map, tag);
    }
    value
}

/// The tag [`mark_row`] gives the values of `read_csv`'s rows with `map`'s columns.
pub fn row_tag(map: &Map) -> i32 {
    tag_of(map, ROW_TAG_BASE)
}

/// Tags every value of `row` (a record, or a map `read_csv` made) with `tag` ([`row_tag`] of
/// a file's columns, the same for every row of it), unless it has more than
/// [`RECORD_MAX_FIELDS`] keys.
pub fn mark_row(row: &mut Map, tag: i32) {
    if row.len() <= RECORD_MAX_FIELDS {
        for v in row.values_mut() {
            v.set_tag(tag);
        }
    }
}

/// Whether `map` is a record mcsh handed out, with the keys it had.
pub fn is_record(map: &Map) -> bool {
    has_tag(map, TAG_BASE)
}

/// Whether `map` is a row `read_csv` made, with the columns it had.
fn is_row(map: &Map) -> bool {
    has_tag(map, ROW_TAG_BASE)
}

/// Whether a value of `map` carries the tag of `base` for `map`'s own keys.
fn has_tag(map: &Map, base: i32) -> bool {
    if map.len() > RECORD_MAX_FIELDS {
        return false;
    }
    // Most maps a script builds hold no tagged value at all: they are told without the
    // checksum, which reads every key (a map of a thousand addresses, on every new key).
    if !map.values().any(|v| v.tag() & !0xFFFF == base) {
        return false;
    }
    let tag = tag_of(map, base);
    map.values().any(|v| v.tag() == tag)
}

/// What kind of record `map` is, for messages.
fn kind(map: &Map) -> &'static str {
    let has = |k: &str| map.contains_key(k);
    if has("status") {
        "result"
    } else if has("isDomain") {
        "member"
    } else if has("userCount") || has("folderCount") {
        "group"
    } else if has("addressType") || has("alias") {
        "user"
    } else {
        "record"
    }
}

/// The keys a script assigns, as far as its text tells.
#[derive(Debug, Clone, Default)]
pub struct Writes {
    names: HashSet<String>,
    /// Keys it cannot name in advance are assigned (computed keys, `eval`, its own modules).
    any: bool,
}

impl Writes {
    /// Writes of keys nobody can name in advance.
    pub fn anything() -> Writes {
        Writes {
            names: HashSet::new(),
            any: true,
        }
    }

    /// Adds what `other` assigns.
    pub fn merge(&mut self, other: &Writes) {
        self.names.extend(other.names.iter().cloned());
        self.any |= other.any;
    }

    /// What the script `ast` assigns.
    pub fn of(ast: &AST) -> Writes {
        let mut w = Writes::default();
        w.add_script(ast);
        w
    }

    /// Adds what a script about to run assigns.
    pub fn add_script(&mut self, ast: &AST) {
        let names: Vec<&str> = super::stdlib::MODULES.iter().map(|(n, _)| *n).collect();
        self.add(ast, &names);
    }

    /// Adds what `ast` assigns; `modules` are the names of mcsh's own modules (whose
    /// writes [`Writes::stdlib`] covers).
    pub fn add(&mut self, ast: &AST, modules: &[&str]) {
        ast.walk(&mut |path: &[ASTNode]| {
            match path.last() {
                Some(ASTNode::Stmt(Stmt::Assignment(x))) => self.target(&x.1.lhs),
                Some(ASTNode::Stmt(Stmt::Import(x, _))) => {
                    let own =
                        matches!(&x.0, Expr::StringConstant(s, _) if modules.contains(&s.as_str()));
                    if !own {
                        self.any = true;
                    }
                }
                Some(ASTNode::Expr(Expr::FnCall(x, _)) | ASTNode::Stmt(Stmt::FnCall(x, _)))
                    if x.name == "eval" =>
                {
                    self.any = true;
                }
                _ => {}
            }
            true
        });
    }

    /// Every key named in an assignment's target (`a.b.c`, `a["b"]`).
    fn target(&mut self, lhs: &Expr) {
        match lhs {
            Expr::Dot(x, ..) => {
                self.target(&x.lhs);
                self.target(&x.rhs);
            }
            Expr::Index(x, ..) => {
                self.target(&x.lhs);
                match &x.rhs {
                    Expr::StringConstant(s, _) => {
                        self.names.insert(s.to_string());
                    }
                    Expr::IntegerConstant(..) => {}
                    other => {
                        self.any = true;
                        self.target(other);
                    }
                }
            }
            Expr::Property(p, _) => {
                self.names.insert(p.2.to_string());
            }
            _ => {}
        }
    }
}

/// Rhai's callback for a key `map` does not have: for a record an error with the nearest
/// field; otherwise what Rhai does itself, read or write, as [`Writes`] tells them apart.
pub fn missing<'a>(
    map: &'a mut Map,
    prop: &str,
    writes: &Writes,
) -> Result<rhai::Target<'a>, Box<EvalAltResult>> {
    if is_record(map) {
        let kind = kind(map);
        if optional(kind).contains(&prop) {
            // A field the record may have: set where the script sets it, `()` where it reads.
            if writes.any || writes.names.contains(prop) {
                map.insert(prop.into(), Dynamic::UNIT);
                return map.get_mut(prop).expect("just inserted").try_into();
            }
            return Ok(Dynamic::UNIT.into());
        }
        let hint = hint(map, prop, "fields");
        let message = format!(
            "a {kind} has no field `{}`: {hint} (mcsh stops here: a misspelt field would match nobody, or everybody)",
            crate::output::printable(prop)
        );
        return Err(super::errors::raise(
            "field", "usage", &message, false, 0, "usage",
        ));
    }
    if writes.any || writes.names.contains(prop) {
        map.insert(prop.into(), Dynamic::UNIT);
        return map.get_mut(prop).expect("just inserted").try_into();
    }
    if is_row(map) {
        // Read, never set by the script: a column the file's header does not have.
        let hint = hint(map, prop, "columns");
        let message = format!(
            "the CSV row has no column `{}`: {hint} (mcsh stops here: a misspelt column would match nobody, or everybody; `\"{}\" in row` tells whether a file has it)",
            crate::output::printable(prop),
            crate::output::printable(prop)
        );
        return Err(super::errors::raise(
            "field", "usage", &message, false, 0, "usage",
        ));
    }
    Ok(Dynamic::UNIT.into())
}

/// What a missing `prop` of `map` was most likely meant to be: the same letters in another
/// case (the likeliest slip of all, `emailaddress`), else the nearest spelling, else the
/// `keys` (`fields`, `columns`) it has.
fn hint(map: &Map, prop: &str, keys: &str) -> String {
    let close = map
        .keys()
        .find(|k| k.eq_ignore_ascii_case(prop))
        .map(|k| k.to_string())
        .or_else(|| {
            crate::suggest::similar(prop, map.keys().map(|k| k.as_str()), 1)
                .into_iter()
                .next()
        });
    match close {
        Some(c) => format!("did you mean `{c}`?"),
        None => {
            let names: Vec<&str> = map.keys().map(|k| k.as_str()).collect();
            format!("its {keys} are {}", names.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> Dynamic {
        let mut m = Map::new();
        m.insert("emailAddress".into(), "a@x.com".into());
        m.insert("domain".into(), "x.com".into());
        m.insert("addressType".into(), "internal".into());
        mark(Dynamic::from_map(m))
    }

    #[test]
    fn only_maps_handed_out_with_their_keys_are_records() {
        let r = record();
        assert!(is_record(&r.read_lock::<Map>().unwrap()));
        // A map the script builds from a record's values is its own.
        let mut own = Map::new();
        own.insert("d".into(), r.read_lock::<Map>().unwrap()["domain"].clone());
        assert!(!is_record(&own));
        // A record whose keys changed is no longer one.
        let mut changed = r.read_lock::<Map>().unwrap().clone();
        changed.remove("addressType");
        assert!(!is_record(&changed));
    }

    #[test]
    fn a_map_bigger_than_any_record_is_never_one() {
        let keys = |n: usize| -> Map {
            (0..n)
                .map(|i| (format!("k{i}").into(), Dynamic::from(i as i64)))
                .collect()
        };
        // Every value tagged as a record of these keys would be: still a table, told at once.
        let mut big = keys(RECORD_MAX_FIELDS + 1);
        let tag = checksum(&big);
        for v in big.values_mut() {
            v.set_tag(tag);
        }
        assert!(!is_record(&big));
        // `mark` leaves it untagged; at the limit it is a record.
        let marked = mark(Dynamic::from_map(keys(RECORD_MAX_FIELDS + 1)));
        assert!(marked
            .read_lock::<Map>()
            .unwrap()
            .values()
            .all(|v| v.tag() == 0));
        let record = mark(Dynamic::from_map(keys(RECORD_MAX_FIELDS)));
        assert!(is_record(&record.read_lock::<Map>().unwrap()));
    }

    #[test]
    fn a_misspelt_field_of_a_record_names_the_nearest_one() {
        let r = record();
        let mut map = r.read_lock::<Map>().unwrap().clone();
        let err = missing(&mut map, "domian", &Writes::default())
            .err()
            .unwrap();
        let text = err.to_string();
        assert!(
            text.contains("a user has no field `domian`") && text.contains("`domain`"),
            "{text}"
        );
        // Another map reads `()` and is left alone, unless the script writes that key.
        let mut other = Map::new();
        assert!(missing(&mut other, "x", &Writes::default())
            .unwrap()
            .as_ref()
            .is_unit());
        assert!(other.is_empty());
        let mut writes = Writes::default();
        writes.names.insert("x".into());
        let _ = missing(&mut other, "x", &writes).unwrap();
        assert!(other.contains_key("x"));
    }

    #[test]
    fn assignments_tell_which_keys_a_script_writes() {
        let engine = rhai::Engine::new();
        let ast = engine
            .compile("let m = #{}; m.a = 1; m.b.c += 2; m[\"d\"] = 3; let k = \"e\"; let r = m.f;")
            .unwrap();
        let mut w = Writes::default();
        w.add(&ast, &[]);
        let mut names: Vec<&str> = w.names.iter().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(names, ["a", "b", "c", "d"]);
        assert!(!w.any);
        let ast = engine
            .compile("let m = #{}; let k = \"x\"; m[k] = 1;")
            .unwrap();
        let mut w = Writes::default();
        w.add(&ast, &[]);
        assert!(w.any);
    }
}

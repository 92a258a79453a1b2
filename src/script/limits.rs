//! How far a script may go: operations, call depth, sizes of strings, arrays and maps.
//!
//! Policy: defaults let a loop over 100 000 users with real work in it finish, and stop an
//! endless loop, runaway recursion or runaway memory within seconds with a message that names
//! the limit and how to raise it (`--limit operations=N`). Memory is bounded by bytes held
//! (see `crate::alloc`); Rhai's own string/array/map size limits are off unless set, because
//! each check walks the whole value and would make large collections quadratic.

use std::str::FromStr;

/// The limits of one engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Operations per run (statements, expressions, calls).
    pub operations: u64,
    /// Nested function calls.
    pub call_depth: usize,
    /// Characters in one string.
    pub string_size: usize,
    /// Items in one array.
    pub array_size: usize,
    /// Entries in one map.
    pub map_size: usize,
    /// MiB the process may hold while a script runs.
    pub memory_mb: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            operations: 50_000_000,
            call_depth: 64,
            string_size: 0,
            array_size: 0,
            map_size: 0,
            memory_mb: 2048,
        }
    }
}

/// The names `--limit` accepts.
pub const NAMES: &[&str] = &[
    "operations",
    "call-depth",
    "memory",
    "string-size",
    "array-size",
    "map-size",
];

impl Limits {
    /// Whether `settings` (`--limit NAME=VALUE`, as given) set the limit `name` outright.
    pub fn is_set(settings: &[String], name: &str) -> bool {
        settings
            .iter()
            .any(|s| s.split_once('=').is_some_and(|(n, _)| n.trim() == name))
    }

    /// Applies one `NAME=VALUE` setting.
    pub fn set(&mut self, setting: &str) -> Result<(), String> {
        let (name, value) = setting.split_once('=').ok_or_else(|| {
            format!(
                "--limit {setting:?} must look like NAME=VALUE (names: {})",
                NAMES.join(", ")
            )
        })?;
        let n = u64::from_str(value.trim().replace('_', "").as_str())
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| {
                format!("--limit {name}={value:?}: the value must be a positive whole number")
            })?;
        let size = usize::try_from(n).map_err(|_| format!("--limit {name}: {n} is too large"))?;
        match name.trim() {
            "operations" => self.operations = n,
            "call-depth" => self.call_depth = size.min(10_000),
            "string-size" => self.string_size = size,
            "array-size" => self.array_size = size,
            "map-size" => self.map_size = size,
            "memory" => self.memory_mb = size,
            other => {
                return Err(format!(
                    "--limit {other:?} is not a limit (names: {})",
                    NAMES.join(", ")
                ))
            }
        }
        Ok(())
    }

    /// The limits with every setting of `settings` applied.
    pub fn parse_all(settings: &[String]) -> Result<Limits, String> {
        let mut limits = Limits::default();
        for s in settings {
            limits.set(s)?;
        }
        Ok(limits)
    }

    /// The memory limit in bytes.
    pub fn memory_bytes(&self) -> usize {
        self.memory_mb.saturating_mul(1024 * 1024)
    }

    /// Sets them on `engine` (memory is enforced by the progress hook).
    pub fn apply(&self, engine: &mut rhai::Engine) {
        crate::alloc::set_budget(self.memory_bytes());
        engine.set_max_operations(self.operations);
        engine.set_max_call_levels(self.call_depth);
        engine.set_max_string_size(self.string_size);
        engine.set_max_array_size(self.array_size);
        engine.set_max_map_size(self.map_size);
        // Rhai's own defaults are lower in debug builds; closures in functions need room.
        engine.set_max_expr_depths(128, 64);
    }
}

/// Whether `more` bytes fit under the memory limit (`memory` bytes) now: if not, the script is
/// stopped as the progress hook stops it, with the memory message.
pub(crate) fn room(memory: usize, more: usize) -> Result<(), Box<rhai::EvalAltResult>> {
    if crate::alloc::allocated().saturating_add(more) > memory {
        return Err(Box::new(rhai::EvalAltResult::ErrorTerminated(
            rhai::Dynamic::from(super::STOP_MEMORY),
            rhai::Position::NONE,
        )));
    }
    Ok(())
}

/// `pad`, which can grow a value by gigabytes in one call, checked against the memory limit
/// *before* it allocates (the limit is otherwise checked between operations, too late for
/// one huge allocation): `[].pad(200000000, 0)` under `--limit memory=256` is refused with the
/// memory message instead of taking gigabytes or aborting the process.
pub fn register_pad(engine: &mut rhai::Engine, limits: &Limits) {
    use rhai::{Array, Dynamic, EvalAltResult, ImmutableString};
    let memory = limits.memory_bytes();
    let room = move |more: usize| room(memory, more);
    let wanted = |len: i64| usize::try_from(len).unwrap_or(0);
    super::register::local(
        "pad",
        &["list: &mut Array", "len: i64", "item: Dynamic", "()"],
        r#"
Grows the array to `len` items, adding `item`; checked against `--limit memory` before it
allocates.
```rhai
let row = [1]; row.pad(3, 0);   // [1, 0, 0]
```"#,
        false,
    )
    .register_into_engine(
        engine,
        move |list: &mut Array, len: i64, item: Dynamic| -> Result<(), Box<EvalAltResult>> {
            let len = wanted(len);
            if len > list.len() {
                room((len - list.len()).saturating_mul(std::mem::size_of::<Dynamic>()))?;
                list.resize(len, item);
            }
            Ok(())
        },
    );
    super::register::local(
        "pad",
        &["text: &mut String", "len: i64", "fill: char", "()"],
        r#"
Grows the string to `len` characters with `fill`; checked against `--limit memory` before it
allocates.
```rhai
let id = "7"; id.pad(3, '0');   // "700"
```"#,
        false,
    )
    .register_into_engine(
        engine,
        move |text: &mut ImmutableString, len: i64, fill: char| -> Result<(), Box<EvalAltResult>> {
            let len = wanted(len);
            let have = text.chars().count();
            if len > have {
                room((len - have).saturating_mul(fill.len_utf8()))?;
                let mut s = text.to_string();
                s.extend(std::iter::repeat_n(fill, len - have));
                *text = s.into();
            }
            Ok(())
        },
    );
    super::register::local(
        "pad",
        &["text: &mut String", "len: i64", "fill: &str", "()"],
        r#"
Grows the string to `len` characters with copies of `fill`; checked against `--limit memory`
before it allocates.
```rhai
let line = "ab"; line.pad(5, "-=");   // "ab-=-"
```"#,
        false,
    )
    .register_into_engine(
        engine,
        move |text: &mut ImmutableString, len: i64, fill: &str| -> Result<(), Box<EvalAltResult>> {
            let len = wanted(len);
            let have = text.chars().count();
            if len > have && !fill.is_empty() {
                room((len - have).saturating_mul(fill.len()))?;
                let mut s = text.to_string();
                let mut n = have;
                'fill: loop {
                    for c in fill.chars() {
                        if n >= len {
                            break 'fill;
                        }
                        s.push(c);
                        n += 1;
                    }
                }
                *text = s.into();
            }
            Ok(())
        },
    );
    // Blobs: one call can ask for any size, and a failed allocation ends the whole process
    // (in a fleet, every tenant with it).
    super::register::local(
        "blob",
        &["len: i64", "Blob"],
        r#"
A blob (bytes) of `len` zeros; checked against `--limit memory` before it allocates.
```rhai
let b = blob(4);   // [00000000]
```"#,
        false,
    )
    .register_into_engine(
        engine,
        move |len: i64| -> Result<rhai::Blob, Box<EvalAltResult>> {
            room(wanted(len))?;
            Ok(vec![0; wanted(len)])
        },
    );
    super::register::local(
        "blob",
        &["len: i64", "value: i64", "Blob"],
        r#"
A blob of `len` bytes, each `value` (its low 8 bits); checked against `--limit memory`
before it allocates.
```rhai
let b = blob(3, 0x2a);   // [2a2a2a]
```"#,
        false,
    )
    .register_into_engine(
        engine,
        move |len: i64, value: i64| -> Result<rhai::Blob, Box<EvalAltResult>> {
            room(wanted(len))?;
            Ok(vec![(value & 0xff) as u8; wanted(len)])
        },
    );
    super::register::local(
        "pad",
        &["blob: &mut Blob", "len: i64", "value: i64", "()"],
        r#"
Grows the blob to `len` bytes, adding `value` (its low 8 bits); checked against `--limit
memory` before it allocates.
```rhai
let b = blob(1); b.pad(3, 7);   // [000707]
```"#,
        false,
    )
    .register_into_engine(
        engine,
        move |blob: &mut rhai::Blob, len: i64, value: i64| -> Result<(), Box<EvalAltResult>> {
            let len = wanted(len);
            if len > blob.len() {
                room(len - blob.len())?;
                blob.resize(len, (value & 0xff) as u8);
            }
            Ok(())
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_parse_and_refuse() {
        let l = Limits::parse_all(&["operations=1_000".into(), "call-depth=8".into()]).unwrap();
        assert_eq!((l.operations, l.call_depth), (1000, 8));
        assert!(Limits::parse_all(&["operations".into()]).is_err());
        assert!(Limits::parse_all(&["speed=3".into()])
            .unwrap_err()
            .contains("not a limit"));
        assert!(Limits::parse_all(&["map-size=-1".into()]).is_err());
    }
}

//! Rhai's string functions that can multiply a value's size in one call, checked against
//! `--limit memory` before they allocate.
//!
//! Policy: the memory limit is otherwise checked between operations, too late for one call
//! that turns a string read from a feed into an array many times its size: `split("")` of a
//! 5 MB field made 330 MB under a 64 MB limit before the limit was seen (a larger field would
//! have the kernel end the process, and in a fleet every tenant with it). Each function here
//! does what Rhai's own does (same results, same edge cases), after counting what it will
//! make: the pieces (each a value in the array and a string of its own) and the bytes.

use rhai::{Array, Dynamic, EvalAltResult, ImmutableString, INT};

use super::limits::{room, Limits};

/// What one piece of a split costs beyond its text: its place in the array and its string.
const PIECE_BYTES: usize = 64;

type Res<T> = Result<T, Box<EvalAltResult>>;

/// Pieces `count` of `text` split at most into `segments` (when given) would make.
fn pieces(count: usize, segments: Option<INT>) -> usize {
    match segments {
        Some(n) => count.min(segment_count(n)),
        None => count,
    }
}

/// How many pieces `text` splits into at `delimiter` (Rust's `split`: an empty delimiter
/// splits before and after every character).
fn count_str(text: &str, delimiter: &str) -> usize {
    if delimiter.is_empty() {
        text.chars().count() + 2
    } else {
        text.matches(delimiter).count() + 1
    }
}

/// Room for `n` pieces of `text` under `memory` bytes.
fn split_room(memory: usize, text: &str, n: usize) -> Res<()> {
    room(
        memory,
        n.saturating_mul(PIECE_BYTES).saturating_add(text.len()),
    )
}

/// What `split` (`rev`: `split_rev`) at a string makes of `text`, as Rhai's own: the string
/// whole when there is nothing to split at or one segment is asked; else the pieces, at most
/// `segments`, once they fit.
fn by_str(
    memory: usize,
    text: &ImmutableString,
    delimiter: &str,
    segments: Option<INT>,
    rev: bool,
) -> Res<Array> {
    if segments.is_some_and(|n| n <= 1)
        || text.is_empty()
        || (!delimiter.is_empty() && !text.contains(delimiter))
    {
        return Ok(vec![text.clone().into()]);
    }
    split_room(memory, text, pieces(count_str(text, delimiter), segments))?;
    Ok(match (segments.map(segment_count), rev) {
        (None, false) => text.split(delimiter).map(Into::into).collect(),
        (None, true) => text.rsplit(delimiter).map(Into::into).collect(),
        (Some(n), false) => text.splitn(n, delimiter).map(Into::into).collect(),
        (Some(n), true) => text.rsplitn(n, delimiter).map(Into::into).collect(),
    })
}

/// [`by_str`] at a character.
fn by_char(
    memory: usize,
    text: &ImmutableString,
    delimiter: char,
    segments: Option<INT>,
    rev: bool,
) -> Res<Array> {
    if segments.is_some_and(|n| n <= 1) || text.is_empty() || !text.contains(delimiter) {
        return Ok(vec![text.clone().into()]);
    }
    split_room(
        memory,
        text,
        pieces(text.matches(delimiter).count() + 1, segments),
    )?;
    Ok(match (segments.map(segment_count), rev) {
        (None, false) => text.split(delimiter).map(Into::into).collect(),
        (None, true) => text.rsplit(delimiter).map(Into::into).collect(),
        (Some(n), false) => text.splitn(n, delimiter).map(Into::into).collect(),
        (Some(n), true) => text.rsplitn(n, delimiter).map(Into::into).collect(),
    })
}

fn segment_count(n: INT) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// Registers the checked functions over Rhai's own.
pub fn register(engine: &mut rhai::Engine, limits: &Limits) {
    let m = limits.memory_bytes();
    let local =
        |name: &str, params: &[&str], doc: &str| super::register::local(name, params, doc, false);
    let doc = |what: &str, example: &str| {
        format!("{what}; checked against `--limit memory` before it allocates.\n```rhai\n{example}\n```")
    };

    local(
        "split",
        &["text: &mut String", "delimiter: &str", "Array"],
        &doc(
            "Splits the string at each `delimiter` (Rhai's `split`; `\"\"` splits between characters)",
            "\"a,b,,c\".split(\",\")   // [\"a\", \"b\", \"\", \"c\"]",
        ),
    )
    .register_into_engine(engine, move |t: &mut ImmutableString, d: &str| by_str(m, t, d, None, false));
    local(
        "split",
        &["text: &mut String", "delimiter: &str", "segments: i64", "Array"],
        &doc(
            "Splits the string at `delimiter` into at most `segments` pieces (one when `segments` < 2)",
            "\"a,b,c\".split(\",\", 2)   // [\"a\", \"b,c\"]",
        ),
    )
    .register_into_engine(engine, move |t: &mut ImmutableString, d: &str, n: INT| by_str(m, t, d, Some(n), false));
    local(
        "split",
        &["text: &mut String", "delimiter: char", "Array"],
        &doc(
            "Splits the string at each `delimiter` character",
            "\"a;b\".split(';')   // [\"a\", \"b\"]",
        ),
    )
    .register_into_engine(engine, move |t: &mut ImmutableString, d: char| {
        by_char(m, t, d, None, false)
    });
    local(
        "split",
        &["text: &mut String", "delimiter: char", "segments: i64", "Array"],
        &doc(
            "Splits the string at `delimiter` into at most `segments` pieces (one when `segments` < 2)",
            "\"a;b;c\".split(';', 2)   // [\"a\", \"b;c\"]",
        ),
    )
    .register_into_engine(engine, move |t: &mut ImmutableString, d: char, n: INT| by_char(m, t, d, Some(n), false));
    local(
        "split",
        &["text: &mut String", "Array"],
        &doc(
            "Splits the string at whitespace",
            "\"a b  c\".split()   // [\"a\", \"b\", \"c\"]",
        ),
    )
    .register_into_engine(engine, move |text: &mut ImmutableString| -> Res<Array> {
        if text.is_empty() {
            return Ok(vec![text.clone().into()]);
        }
        split_room(m, text, text.split_whitespace().count())?;
        Ok(text.split_whitespace().map(Into::into).collect())
    });
    local(
        "split_rev",
        &["text: &mut String", "delimiter: &str", "Array"],
        &doc(
            "Splits the string at each `delimiter`, last piece first",
            "\"a,b,c\".split_rev(\",\")   // [\"c\", \"b\", \"a\"]",
        ),
    )
    .register_into_engine(engine, move |t: &mut ImmutableString, d: &str| {
        by_str(m, t, d, None, true)
    });
    local(
        "split_rev",
        &["text: &mut String", "delimiter: &str", "segments: i64", "Array"],
        &doc(
            "Splits the string at `delimiter` from its end into at most `segments` pieces, last first",
            "\"a,b,c\".split_rev(\",\", 2)   // [\"c\", \"a,b\"]",
        ),
    )
    .register_into_engine(engine, move |t: &mut ImmutableString, d: &str, n: INT| by_str(m, t, d, Some(n), true));
    local(
        "split_rev",
        &["text: &mut String", "delimiter: char", "Array"],
        &doc(
            "Splits the string at each `delimiter` character, last piece first",
            "\"a;b\".split_rev(';')   // [\"b\", \"a\"]",
        ),
    )
    .register_into_engine(engine, move |t: &mut ImmutableString, d: char| {
        by_char(m, t, d, None, true)
    });
    local(
        "split_rev",
        &["text: &mut String", "delimiter: char", "segments: i64", "Array"],
        &doc(
            "Splits the string at `delimiter` from its end into at most `segments` pieces, last first",
            "\"a;b;c\".split_rev(';', 2)   // [\"c\", \"a;b\"]",
        ),
    )
    .register_into_engine(engine, move |t: &mut ImmutableString, d: char, n: INT| by_char(m, t, d, Some(n), true));
    local(
        "to_chars",
        &["text: &str", "Array"],
        &doc(
            "The string's characters, one item each",
            "\"abc\".to_chars()   // ['a', 'b', 'c']",
        ),
    )
    .register_into_engine(engine, move |text: &str| -> Res<Array> {
        room(
            m,
            text.chars()
                .count()
                .saturating_mul(std::mem::size_of::<Dynamic>()),
        )?;
        Ok(text.chars().map(Into::into).collect())
    });
    register_replace(engine, m);
}

/// `replace` as Rhai's own, after checking the new string fits: replacing `""` puts the
/// substitute between every two characters, and a long substitute for a frequent match
/// multiplies the string.
fn replaced(memory: usize, text: &mut ImmutableString, find: &str, with: &str) -> Res<()> {
    if text.is_empty() {
        return Ok(());
    }
    let matches = if find.is_empty() {
        text.chars().count() + 1
    } else {
        text.matches(find).count()
    };
    let more = matches.saturating_mul(with.len().saturating_sub(find.len()));
    room(memory, text.len().saturating_add(more))?;
    *text = text.replace(find, with).into();
    Ok(())
}

/// Registers the checked `replace` forms.
fn register_replace(engine: &mut rhai::Engine, m: usize) {
    // Mutating, as Rhai's own: not for constants.
    let local = |params: &[&str], doc: &str| super::register::local("replace", params, doc, true);
    local(
        &["text: &mut String", "find: &str", "with: &str", "()"],
        r#"
Replaces every `find` in the string with `with` (an empty `find` puts `with` between every two
characters); checked against `--limit memory` before it allocates.
```rhai
let t = "a-b-c"; t.replace("-", "+");   // "a+b+c"
```"#,
    )
    .register_into_engine(engine, move |t: &mut ImmutableString, f: &str, w: &str| {
        replaced(m, t, f, w)
    });
    local(
        &["text: &mut String", "find: &str", "with: char", "()"],
        r#"
Replaces every `find` in the string with the character `with`; checked against `--limit
memory` before it allocates.
```rhai
let t = "a--b"; t.replace("--", '+');   // "a+b"
```"#,
    )
    .register_into_engine(engine, move |t: &mut ImmutableString, f: &str, w: char| {
        replaced(m, t, f, w.encode_utf8(&mut [0; 4]))
    });
    local(
        &["text: &mut String", "find: char", "with: &str", "()"],
        r#"
Replaces every character `find` in the string with `with`; checked against `--limit memory`
before it allocates.
```rhai
let t = "a-b"; t.replace('-', " to ");   // "a to b"
```"#,
    )
    .register_into_engine(engine, move |t: &mut ImmutableString, f: char, w: &str| {
        replaced(m, t, f.encode_utf8(&mut [0; 4]), w)
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_are_counted_as_rust_splits() {
        for (text, delimiter) in [
            ("a,b,,c", ","),
            ("abc", ""),
            ("", ""),
            ("xx", "x"),
            ("é€", ""),
        ] {
            assert_eq!(
                count_str(text, delimiter),
                text.split(delimiter).count(),
                "{text:?} at {delimiter:?}"
            );
        }
        assert_eq!(pieces(10, Some(3)), 3);
        assert_eq!(pieces(2, Some(5)), 2);
        assert_eq!(pieces(4, None), 4);
    }
}
